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
    assert int(out.stdout) == sum(len(worked(w).claims) for w in ("toy", "diagonal2", "diagonal3", "linear2"))
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


# ---------------------------------------------------------------- matrix parameters, SGD, PAC-Bayes, flow
def test_matrix_symbols_flatten_row_major() -> None:
    from theory.models import matrix_symbols

    W = matrix_symbols("W", 2, 2)
    v = matrix_symbols("v", 2, 1)
    assert [q.name for q in W] == ["W_11", "W_12", "W_21", "W_22"]
    assert [q.name for q in v] == ["v_1", "v_2"]
    assert sp.latex(W[0, 1]) == "W_{12}"
    m = worked("linear2")
    assert [q.name for q in m.params] == ["W_11", "W_12", "W_21", "W_22", "v_1", "v_2"]
    # f = vᵀWx given as a 1×1 matrix product is read as the scalar
    assert m.f.is_Add and not m.f.is_Matrix


def test_linear2_threshold_by_hand() -> None:
    # f = vᵀWx: ∂f/∂W_jk = v_j x_k, ∂f/∂v = Wx. At W* = [[1, 1], [0, 1]], v* = (1, ½):
    # g₁ = (1, 1, ½, ½, 2, 1) (x = (1, 1)), g₂ = (1, −1, ½, −½, 0, −1) (x = (1, −1)).
    # Gram [[15/2, −1], [−1, 7/2]]: eigenvalues 11/2 ± √5; ∇²L = ½Σgᵢgᵢᵀ has 11/4 ± √5/2.
    r = theory.get("models.linear2.gd_threshold")
    lam = sp.Rational(11, 4) + sp.sqrt(5) / 2
    assert sp.simplify(r.parts["lambda_max"] - lam) == 0
    assert sp.simplify(r.statement.rhs - 2 / lam) == 0
    assert theory.get("models.linear2.pac_bayes").parts["trace_at_minimum"] == sp.Rational(11, 2)


def test_sgd_threshold_of_equal_norm_rank_one_hessians_by_hand() -> None:
    # Diagonal nets on sign inputs: ∇²ℓᵢ(θ*) = gᵢgᵢᵀ with ‖g₁‖ = ‖g₂‖ (9 at depth 2, 297/16 at
    # depth 3). With B = 1 at η = 2/‖g‖², I − ηgᵢgᵢᵀ is a reflection: T(K) = ½ΣRᵢKRᵢ keeps
    # I fixed, so ρ(T) = 1; and T(I) = I − η(2 − ‖g‖²η)H, so the sufficient condition
    # λ_max(T(I)) ≤ 1 holds exactly up to the same η. Exact ≥ sufficient: η* = 2/‖g‖².
    for name, g2 in (("diagonal2", sp.Integer(9)), ("diagonal3", sp.Rational(297, 16))):
        r = theory.get(f"models.{name}.sgd_threshold")
        assert r.statement.rhs == 2 / g2
        assert r.parts["sufficient_threshold"] == 2 / g2
        assert r.parts["batch_factor"] == 1  # (n − B)/(B(n − 1)) at n = 2, B = 1
    assert theory.get("models.diagonal2.sgd_threshold").parts["non_uniformity"] ** 2 == 20


def test_linear2_sgd_threshold_against_an_independent_construction() -> None:
    # The second-moment map from the hand gradients g₁, g₂ above (B = 1, both batches), on
    # range(H), bisected for ρ = 1 with NumPy: independent of the derivation's determinant.
    import numpy as np

    g = [np.array([1, 1, .5, .5, 2, 1.]), np.array([1, -1, .5, -.5, 0, -1.])]
    Hs = [np.outer(a, a) for a in g]
    H = sum(Hs) / 2
    w, V = np.linalg.eigh(H)
    U = V[:, w > 1e-9]

    def rho(eta: float) -> float:
        As = [U.T @ (np.eye(6) - eta * h) @ U for h in Hs]
        return float(np.abs(np.linalg.eigvalsh(sum(np.kron(a, a) for a in As) / 2)).max())

    lo, hi = 0.1, 0.5
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if rho(mid) <= 1 else (lo, mid)
    r = theory.get("models.linear2.sgd_threshold")
    assert abs(float(r.statement.rhs) - lo) < 1e-9  # bisection to 2⁻⁶⁰·0.4 and ρ's rounding
    assert float(r.parts["sufficient_threshold"]) < lo  # non-commuting H_i: strictly below


def test_one_dimensional_sgd_threshold_is_stability_closed_form() -> None:
    # ℓ = ½(θx − y)², x = (1, 2), y = x, θ* = 1: hᵢ = xᵢ², a = 5/2, s² = mean h² − a² = 9/4,
    # n = 2, B = 1 (c = 1): stability.sgd_exact_threshold's 2a/(a² + cs²) = 10/17, which is
    # also E(1 − ηh)² = 1 solved by hand: η = 2·mean h / mean h² = 5/(17/2).
    m = Model("line", model=th * x, target=y, params=[th], data=[x, y], topic="mine",
              minimum={th: 1}, dataset={x: [1, 2], y: [1, 2]})
    assert m.result("sgd_threshold").statement.rhs == sp.Rational(10, 17)
    one_d = theory.get("stability.sgd_exact_threshold").parts["eta_max_1d"]
    syms = {q.name: q for q in one_d.free_symbols}
    assert one_d.subs({syms["a"]: sp.Rational(5, 2), syms["s"]: sp.Rational(3, 2),
                       syms["n"]: 2, syms["B"]: 1}) == sp.Rational(10, 17)
    # B = n = 2 is GD: c = 0 and η* = 2/a = 4/5
    m2 = Model("line", model=th * x, target=y, params=[th], data=[x, y], topic="mine",
               minimum={th: 1}, dataset={x: [1, 2], y: [1, 2]}, batch=2)
    assert m2.result("sgd_threshold").statement.rhs == sp.Rational(4, 5)


def test_diagonal2_flow_by_hand() -> None:
    # Γ = {u_j² − v_j² = w*_j}: the tangent in the (u_j, v_j) plane is (v_j, u_j), so at
    # u* = (1, 1), v* = (0, ½) P_Γ projects on e_{v1} and on (1, 2)/√5 in (u₂, v₂).
    # Tr ∇²L = 4(‖u‖² + ‖v‖²) everywhere (sign inputs), ∇Tr = 8(1, 1, 0, ½); so
    # −(δ²/4)P∇Tr = −(δ²/4)(0, 16/5, 0, 32/5) = (0, −4/5, 0, −8/5)δ².
    r = theory.get("models.diagonal2.label_noise_flow")
    d = next(q for q in r.symbols if q.name == "delta")
    assert r.statement == sp.Matrix([0, -sp.Rational(4, 5), 0, -sp.Rational(8, 5)]) * d**2
    assert r.parts["projector"] == sp.Matrix([[0, 0, 0, 0], [0, sp.Rational(1, 5), 0, sp.Rational(2, 5)],
                                              [0, 0, 1, 0], [0, sp.Rational(2, 5), 0, sp.Rational(4, 5)]])
    assert r.parts["trace_gradient"] == sp.Matrix([8, 8, 0, 4])


def test_claims_need_what_they_say() -> None:
    assert "sgd_threshold" not in worked("toy").claims  # θ* = 1 does not fit y = ½, 3/2
    with pytest.raises(ValueError, match="sgd_threshold needs an interpolating minimum"):
        worked("toy").result("sgd_threshold")
    assert worked("linear2").claims[-3:] == ("pac_bayes", "sgd_threshold", "label_noise_flow")


def test_matrix_block_and_batch_bad_input() -> None:
    from theory.models import matrix_symbols

    W = matrix_symbols("W", 2, 1)
    with pytest.raises(ValueError, match=r"minimum value for the block .* must have shape \(2, 1\); got \(3, 1\)"):
        Model("m", loss=(W[0] * W[1] - 1) ** 2, params=[W], topic="mine", minimum={W: [1, 1, 1]})
    with pytest.raises(ValueError, match="batch must be at most the 2 samples"):
        Model("m", model=th * x, target=y, params=[th], data=[x, y], topic="mine",
              minimum={th: 1}, dataset={x: [1, 2], y: [1, 2]}, batch=3)
    with pytest.raises(ValueError, match="batch must be an integer >= 1; got 0"):
        Model("m", loss=th**2, params=[th], topic="mine", batch=0)
