"""theory.Model: what it derives (against hand derivations and the diagonal / label_noise
results it must agree with), how it registers, and one clear line for each bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy as sp

import theory
from theory.models import CLAIMS, Model, worked

th = sp.Symbol("theta", real=True)
y = sp.Symbol("y", real=True)
x = sp.Symbol("x", real=True)


def _diag() -> tuple[Model, list[sp.Symbol], list[sp.Symbol], list[sp.Symbol]]:
    m = worked("diagonal2")
    u = [q for q in m.params if q.name.startswith("u")]
    v = [q for q in m.params if q.name.startswith("v")]
    xs = [s for s in m.data if s.name.startswith("x")]
    return m, u, v, xs


def test_builtin_ids_listed_without_sympy() -> None:
    code = ("import sys, theory; ids = theory.ids('models'); "
            "assert 'sympy' not in sys.modules, 'sympy imported'; print(len(ids))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == 3 * len(CLAIMS)
    assert theory.Model is Model


def test_toy_by_hand() -> None:
    # L = ½·mean(θ² − y_i)², y = (½, 3/2): L' = 2θ(θ² − ȳ), L'' = 6θ² − 2ȳ; at θ* = 1 (ȳ = 1)
    # L'' = 4, so 2/λ_max = 1/2 and ¼ Tr ∇²L = 1.
    m = worked("toy")
    thr = theory.get("models.toy.gd_threshold")
    assert thr.statement.rhs == sp.Rational(1, 2)
    assert thr.parts["lambda_max"] == 4
    assert theory.get("models.toy.label_noise_regularizer").parts["at_minimum"] == 1
    (t,) = m.params
    g = theory.get("models.toy.gradient").statement[0]
    ybar = sp.Sum(sp.IndexedBase("y")[sp.Symbol("i", integer=True, positive=True)],
                  (sp.Symbol("i", integer=True, positive=True), 1, sp.Symbol("n", integer=True, positive=True)))
    n = sp.Symbol("n", integer=True, positive=True)
    hand = 2 * t * (t**2 - ybar / n)
    assert sp.simplify(sp.expand(g.doit()) - sp.expand(hand.doit())) == 0


def test_diagonal2_gradient_agrees_with_the_diagonal_derivation() -> None:
    # theory.diagonal (its first steps): for L = ½‖Xw − y‖², ∂L/∂u_j = 2u_j g_j and
    # ∂L/∂v_j = −2v_j g_j with g = Xᵀr, r = Xw − y. The model's L is that over n, so its
    # gradient is (2/n) u_j Σ_i x_ij r_i and −(2/n) v_j Σ_i x_ij r_i.
    m, u, v, xs = _diag()
    G = theory.get("models.diagonal2.gradient").statement
    i = sp.Symbol("i", integer=True, positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    X = [sp.IndexedBase(s.name)[i] for s in xs]
    Y = sp.IndexedBase("y")[i]
    r = sum((a**2 - b**2) * xx for a, b, xx in zip(u, v, X)) - Y
    for j in range(2):
        gj = sp.Sum(X[j] * r, (i, 1, n))
        for k, q in enumerate(m.params):
            if q == u[j]:
                assert sp.simplify((G[k] - 2 * u[j] * gj / n).doit()) == 0
            if q == v[j]:
                assert sp.simplify((G[k] + 2 * v[j] * gj / n).doit()) == 0


def test_diagonal2_regularizer_agrees_with_label_noise_quadratic_model_trace() -> None:
    # label_noise.quadratic_model_trace: for sign inputs x ∈ {±1}^d and L = (1/2n)Σ(f_i − y_i)²,
    # Tr ∇²L = 4(‖u‖² + ‖v‖²) at every (u, v). The model's data set is x = (1, 1), (1, −1).
    m, u, v, xs = _diag()
    qt = theory.get("label_noise.quadratic_model_trace")
    syms = {s.name: s for s in qt.symbols}
    trace = qt.statement.rhs.subs({syms["u_sq"]: sum(a**2 for a in u),
                                   syms["v_sq"]: sum(b**2 for b in v)})
    R = theory.get("models.diagonal2.label_noise_regularizer").statement.rhs
    rows = m.samples
    ibase = {s.name: s for s in m.data}
    on_data = R.subs(sp.Symbol("n", integer=True, positive=True), len(rows)).doit()
    on_data = on_data.xreplace({sp.IndexedBase(name)[j + 1]: rows[j][s]
                                for name, s in ibase.items() for j in range(len(rows))})
    assert sp.simplify(on_data - trace / 4) == 0
    # and at the minimum u* = (1, 1), v* = (0, ½): ‖u‖² + ‖v‖² = 9/4
    assert theory.get("models.diagonal2.label_noise_regularizer").parts["at_minimum"] == sp.Rational(9, 4)


def test_diagonal2_threshold_by_hand() -> None:
    # At an interpolating minimum ∇²L = G = ½(g₁g₁ᵀ + g₂g₂ᵀ), g_i = ∇f_i = (2u⊙x_i, −2v⊙x_i):
    # g₁ = (2, 2, 0, −1), g₂ = (2, −2, 0, 1). Its nonzero eigenvalues are those of ½ of the
    # Gram matrix [[9, −1], [−1, 9]]: 5 and 4. So λ_max = 5 and the threshold is 2/5.
    r = theory.get("models.diagonal2.gd_threshold")
    assert r.parts["lambda_max"] == 5
    assert r.statement.rhs == sp.Rational(2, 5)
    assert sorted(r.parts["hessian_at_minimum"].eigenvals(multiple=True)) == [0, 0, 4, 5]
    # the threshold is stability.gd_threshold's 2/λ_max at that λ_max
    two_over = theory.get("stability.gd_threshold").parts["threshold"]
    (lm,) = two_over.free_symbols
    assert two_over.subs(lm, 5) == r.statement.rhs


def test_diagonal3_threshold_by_hand() -> None:
    # Depth 3: ∇f_i = (3u²⊙x_i, −3v²⊙x_i) at u* = (1, 1), v* = (0, ½): g₁ = (3, 3, 0, −¾),
    # g₂ = (3, −3, 0, ¾); ½·Gram = (1/32)[[297, −9], [−9, 297]], eigenvalues 306/32 = 153/16
    # and 9. So 2/λ_max = 32/153 and ¼ Tr ∇²L(θ*) = ¼·297/16 = 297/64.
    r = theory.get("models.diagonal3.gd_threshold")
    assert r.parts["lambda_max"] == sp.Rational(153, 16)
    assert r.statement.rhs == sp.Rational(32, 153)
    assert theory.get("models.diagonal3.label_noise_regularizer").parts["at_minimum"] == sp.Rational(297, 64)


def test_every_claim_has_latex_and_steps() -> None:
    for rid in theory.ids("models"):
        r = theory.get(rid)
        assert r.derivation and r.latex()
    assert r"\sum_{i=1}^{n}" in theory.get("models.diagonal2.hessian").latex()


def test_user_model_registers_under_its_own_topic() -> None:
    m = Model("quartic", loss=(th**2 - y) ** 2, params=[th], data=[y], topic="mymodels")
    assert m.claims == ("loss", "gradient", "hessian", "per_sample_gradient",
                        "label_noise_regularizer")
    ids = m.register()
    try:
        assert theory.get("mymodels.quartic.hessian").statement[0, 0].has(sp.Sum)
        assert "mymodels.quartic.loss" in theory.ids()
    finally:
        for i in ids:
            theory.unregister(i)
    with pytest.raises(ValueError, match="topic 'models' is built in"):
        Model("quartic", loss=th**4, params=[th]).register()
    with pytest.raises(ValueError, match="unknown claim 'gauss_newton'.*needs model="):
        m.result("gauss_newton")


def test_model_without_data() -> None:
    m = Model("w", loss=(th**2 - 1) ** 2, params=[th], topic="mine", minimum={th: 1})
    # (θ² − 1)²'' = 12θ² − 4 = 8 at θ = 1: threshold 1/4
    assert m.result("gd_threshold").statement.rhs == sp.Rational(1, 4)
    assert m.result("loss").statement == (th**2 - 1) ** 2


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"loss": sp.Matrix([th, th**2]), "params": [th]}, "loss must be a scalar SymPy expression; got a matrix of shape \\(2, 1\\)"),
    ({"loss": "theta**2", "params": [th]}, "loss must be a scalar SymPy expression; got str"),
    ({"loss": (th - x) ** 2 + sp.Symbol("c") * th, "params": [th], "data": [x]},
     "neither params nor data: \\['c'\\]"),
    ({"loss": sp.Abs(th - x), "params": [th], "data": [x]},
     "not twice differentiable symbolically: ℓ contains Abs"),
    ({"loss": sp.Max(th, 0) ** 2, "params": [th]}, "not twice differentiable symbolically: ℓ contains Max"),
    ({"loss": th**2, "model": th, "target": y, "params": [th], "data": [y]}, "exactly one of loss="),
    ({"model": th, "target": x, "params": [th], "data": [y]}, "target must be one of the data symbols"),
    ({"loss": th**2, "params": [th], "data": [th]}, "both params and data"),
    ({"loss": (th**2 - 1) ** 2, "params": [th], "minimum": {th: 2}}, "is not stationary"),
    ({"loss": (th**2 - 1) ** 2, "params": [th], "minimum": {th: 0}}, "is not a minimum: .*negative eigenvalue -4"),
    ({"loss": (th - y) ** 2, "params": [th], "data": [y], "minimum": {th: 0}}, "minimum= needs dataset="),
    ({"loss": (th - y) ** 2, "params": [th], "data": [y], "minimum": {th: 0}, "dataset": {x: [0]}},
     "dataset must give every data symbol"),
    ({"loss": th**2, "params": ["theta"]}, "params must be SymPy Symbols"),
    ({"loss": x**2, "params": [th], "data": [x]}, "does not depend on the params"),
    ({"loss": (th - sp.Symbol("n")) ** 2, "params": [th], "data": [sp.Symbol("n")]},
     "symbol names \\['n'\\] are reserved"),
])
def test_bad_input_one_clear_line(kwargs: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match) as info:
        Model("bad", topic="mine", **kwargs)
    assert "\n" not in str(info.value)


def test_kink_in_the_derivative_is_caught() -> None:
    # ℓ = θ|θ| is C¹ but its second derivative 2 sign(θ) jumps at 0: refused, although the
    # kink is in the Hessian only
    with pytest.raises(ValueError, match="not twice differentiable symbolically: ℓ contains Abs"):
        Model("kink", loss=th * sp.Abs(th), params=[th], topic="mine")
