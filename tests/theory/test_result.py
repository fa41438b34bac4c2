"""The Result object and the registry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import theory
from theory import Result, Step, UnknownResultError
from theory._symbols import sym


def _toy() -> Result:
    x = sym("x", real=True)
    eta = sym("eta", r"\eta", positive=True)
    y = sym("y", real=True)
    return Result(id="linear.toy", title="toy", source="test", statement=sp.Eq(y, (1 - eta) * x),
                  symbols=(x, eta, y), conditions=(eta > 0, eta < 2),
                  derivation=(Step("given", sp.Eq(y, (1 - eta) * x)),),
                  parts={"factor": 1 - eta})


def test_result_latex_and_repr_read_well() -> None:
    r = _toy()
    assert r.latex() == r"y = x \left(1 - \eta\right)"
    assert r.conditions == (sym("eta", r"\eta", positive=True) < 2,)  # eta > 0 is implied
    assert r._repr_latex_().startswith("$\\displaystyle y = ")
    assert "linear.toy" in repr(r) and "derived in 1 SymPy steps" in repr(r)
    assert "toy" in str(r)


def test_result_rejects_undeclared_symbols() -> None:
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="not declared in `symbols`"):
        Result(id="linear.bad", title="", source="", statement=x + sp.Symbol("z"), symbols=(x,))


def test_result_rejects_non_identifier_names() -> None:
    with pytest.raises(ValueError, match="Python identifiers"):
        Result(id="linear.bad", title="", source="", statement=sp.Symbol("a b"),
               symbols=(sp.Symbol("a b"),))


def test_numeric_takes_keywords_named_after_symbols() -> None:
    f = _toy().numeric()
    assert f.arguments == ("eta", "x")
    np.testing.assert_allclose(f(x=np.array([1.0, 2.0]), eta=0.25), [0.75, 1.5])
    with pytest.raises(TypeError, match=r"missing keyword argument x; it takes eta, x"):
        f(eta=0.1)
    with pytest.raises(TypeError, match=r"unknown keyword argument 'z'; it takes eta, x"):
        f(eta=0.1, x=1.0, z=2.0)


def test_numeric_is_cached_per_namespace(xp) -> None:
    r = _toy()
    assert r.numeric(xp) is r.numeric(xp)
    assert r.numeric(xp, part="factor") is not r.numeric(xp)
    out = r.numeric(xp, part="factor")(eta=xp.asarray([0.5, 1.5]))
    np.testing.assert_allclose(np.asarray(out.tolist() if hasattr(out, "tolist") else out), [0.5, -0.5])


def test_piecewise_and_max_lambdify_on_any_namespace(xp) -> None:
    from theory._printing import array_api_lambdify

    x = sp.Symbol("x", real=True)
    expr = sp.Piecewise((x**2, x > 1), (sp.Max(x, 0), True)) + sp.acos(sp.Min(x / 4, 1))
    f = array_api_lambdify([x], expr, xp)
    vals = np.array([-1.0, 0.5, 2.0])
    ref = [float(expr.subs(x, v)) for v in vals]
    out = f(xp.asarray(vals))
    from numerics.backend import to_numpy

    np.testing.assert_allclose(to_numpy(out), ref, rtol=1e-14)


def test_evalf_gives_the_high_precision_reference() -> None:
    v = _toy().evalf({"x": 1, "eta": sp.Rational(1, 3)}, n=40)
    assert abs(v - sp.Rational(2, 3)) < sp.Float("1e-38")


def test_unknown_id_names_the_closest() -> None:
    with pytest.raises(UnknownResultError, match="did you mean linear.gd_limit"):
        theory.get("linear.gd_limt")
    with pytest.raises(UnknownResultError, match="linear.gd_limit"):
        theory.get("gd_limit")
    with pytest.raises(TypeError, match="must be a str"):
        theory.entry(3)  # type: ignore[arg-type]


def test_ids_are_in_catalog_order_and_built_results_match() -> None:
    ids = theory.ids("linear")
    assert ids[0] == "linear.gd_iterate"
    assert len(ids) == len(set(ids))
    for i in ids:
        r = theory.get(i)
        assert r.id == i and r.topic == "linear"
        assert theory.get(i) is r  # cached


def test_import_theory_is_lazy() -> None:
    code = "import sys, theory; print('sympy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_constant_subexpressions_print_as_floats(xp) -> None:
    """sqrt(2) on a Python number would be xp.sqrt(2), which strict namespaces reject."""
    from numerics.backend import to_numpy
    from theory._printing import array_api_lambdify

    x = sp.Symbol("x", positive=True)
    expr = sp.sqrt(2 * x) + sp.log(3) * x + sp.sqrt(2) ** 3 / x
    f = array_api_lambdify([x], expr, xp)
    np.testing.assert_allclose(to_numpy(f(xp.asarray([1.0, 4.0]))),
                               [float(expr.subs(x, v)) for v in (1.0, 4.0)], rtol=1e-14)


# ---------------------------------------------------------------- check_conditions
def _kinds() -> Result:
    """One condition of each kind numeric() screens, on symbols of each assumption kind."""
    B, n = sym("B", integer=True, positive=True), sym("n", integer=True, positive=True)
    eta, lam = sym("eta", r"\eta", positive=True), sym("lam", r"\lambda", positive=True)
    s, c = sym("s", nonnegative=True), sym("c", real=True)
    m = sym("m", integer=True, positive=True)
    H = sp.MatrixSymbol("H", m, m)
    v = sp.MatrixSymbol("v", m, 1)
    stmt = (B / n) * eta * lam + s + c
    return Result(
        id="linear.kinds", title="one condition of each kind", source="test",
        statement=stmt, symbols=(B, n, eta, lam, s, c, m),
        conditions=(B <= n, eta * lam < 2, sp.Or(sp.Eq(s, 1), sp.Eq(s, 1 / lam)),
                    sp.Q.symmetric(H), sp.Q.positive_definite(H)),
        parts={"quadratic": eta * (v.T * H * v), "sizes": B / n})


_OK = dict(B=3, n=10, eta=0.5, lam=1.0, s=1.0, c=-2.0)


def _nudge(x: float, sign: int) -> float:
    """The float next to x: the smallest step just inside or just outside a bound."""
    return float(np.nextafter(x, np.inf if sign > 0 else -np.inf))


# (change to the point _OK, expected message) for each screen: just outside each bound
_OUTSIDE = [
    (dict(B=11), r"linear.kinds: condition B <= n violated at B=11, n=10$"),
    (dict(eta=2.0), r"condition eta\*lam < 2 violated at eta=2, lam=1$"),
    (dict(s=_nudge(1.0, +1) + 1e-15), r"condition Eq\(s, 1\) \| Eq\(s, 1/lam\) violated"),
    (dict(B=2.5), r"B must be an integer \(SymPy assumption integer=True\); got B=2.5$"),
    (dict(eta=0.0), r"eta must be positive \(SymPy assumption positive=True\); got eta=0$"),
    (dict(lam=-1e-300), r"lam must be positive .*got lam=-1e-300$"),
    (dict(s=_nudge(0.0, -1)), r"s must be nonnegative .*got s=-5e-324$"),
    (dict(c=float("nan")), r"c must be real \(not NaN\) \(SymPy assumption real=True\); got c=nan$"),
]


@pytest.mark.parametrize(("change", "message"), _OUTSIDE)
def test_numeric_raises_just_outside_each_condition(xp, change, message) -> None:
    f = _kinds().numeric(xp)
    with pytest.raises(ValueError, match=message):
        f(**{**_OK, **{k: xp.asarray(float(v)) for k, v in change.items()}})


# just inside each bound: the smallest passing values (exact at the bound where it is <=)
_INSIDE = [dict(B=10), dict(B=1), dict(eta=_nudge(2.0, -1)), dict(s=1.0 + 2e-16),
           dict(lam=4.0, s=0.25, eta=0.25), dict(eta=5e-324), dict(c=-np.inf)]


@pytest.mark.parametrize("change", _INSIDE)
def test_numeric_passes_just_inside_each_condition(xp, change) -> None:
    f = _kinds().numeric(xp)
    p = {**_OK, **change}
    out = f(**p)
    want = p["B"] / p["n"] * p["eta"] * p["lam"] + p["s"] + p["c"]
    assert float(out) == pytest.approx(want, rel=1e-15)


def test_eq_conditions_hold_up_to_rounding_only() -> None:
    # s = 1/lam computed in float64 is within 1 ulp of the printed 1/lam; a relative
    # difference of 1e-14 is 45 eps away from it, far outside 4 eps.
    f = _kinds().numeric()
    for lam in (3.0, 7.0, 0.1):
        f(**{**_OK, "lam": lam, "eta": 0.1, "s": 1.0 / lam})
        with pytest.raises(ValueError, match="Eq"):
            f(**{**_OK, "lam": lam, "eta": 0.1, "s": (1.0 / lam) * (1 + 1e-14)})


def test_batched_violation_reports_the_first_index(xp) -> None:
    f = _kinds().numeric(xp, part="sizes")
    B = xp.asarray([[1.0, 2.0, 3.0], [4.0, 12.0, 13.0]])
    with pytest.raises(ValueError, match=r"condition B <= n violated at B=12, n=10 \(first "
                       r"violation at batch index \(1, 1\) of shape \(2, 3\)\)$"):
        f(B=B, n=10)
    with pytest.raises(ValueError, match=r"got B=2.5 \(first violation at batch index \(1,\)"):
        f(B=xp.asarray([1.0, 2.5, 3.5]), n=10)


def test_matrix_conditions_both_sides(xp) -> None:
    f = _kinds().numeric(xp, part="quadratic")
    assert set(f.checked) >= {"Q.symmetric(H)", "Q.positive_definite(H)", "eta*lam < 2"} - {
        "eta*lam < 2"}
    v = xp.asarray([[1.0], [2.0]])
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((2, 2)))[0]
    H = Q @ np.diag([3.0, 1e-3]) @ Q.T   # symmetric up to the rounding of the products
    assert float(f(H=xp.asarray(H), v=v, eta=1.0)[..., 0, 0]) > 0
    # an asymmetry of 1e-10 is far above 10·n·eps·max|H| ≈ 1.3e-14
    bent = H + np.array([[0.0, 1e-10], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"condition Q.symmetric\(H\) violated: max \|H - H\^T\|"
                       r" = 1e-10 exceeds the rounding tolerance"):
        f(H=xp.asarray(bent), v=v, eta=1.0)
    # symmetric but indefinite: positive definiteness fails, naming the eigenvalue
    with pytest.raises(ValueError, match=r"Q.positive_definite\(H\) violated: H has smallest "
                       r"eigenvalue -1"):
        f(H=xp.asarray([[1.0, 0.0], [0.0, -1.0]]), v=v, eta=1.0)
    # not square: the shape check of the arguments comes first
    with pytest.raises(ValueError, match=r"argument H has shape \(2, 3\); axis -1 must have "
                       r"length m = 2"):
        f(H=xp.asarray([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), v=xp.asarray([[1.0], [1.0], [1.0]]),
          eta=1.0)
    # a batch of matrices: the second is the bad one
    stack = xp.asarray(np.stack([H, bent]))
    with pytest.raises(ValueError, match=r"batch index \(1,\)"):
        f(H=stack, v=v, eta=1.0)


def test_check_conditions_false_evaluates_outside() -> None:
    r = _kinds()
    f = r.numeric(check_conditions=False)
    assert f.checked == ()
    assert float(f(**{**_OK, "B": 11})) == pytest.approx(11 / 10 * 0.5 + 1 - 2)
    assert r.numeric(check_conditions=False) is f and r.numeric() is not f
    with pytest.raises(TypeError, match="check_conditions must be True or False; got 'no'"):
        r.numeric(check_conditions="no")  # type: ignore[arg-type]


def test_conditions_without_their_symbols_are_listed_as_not_screened() -> None:
    f = _kinds().numeric(part="sizes")
    assert f.unchecked == {
        "eta*lam < 2": "uses eta, which linear.kinds[sizes] does not take (its value is not given)",
        "Eq(s, 1) | Eq(s, 1/lam)": "uses lam, which linear.kinds[sizes] does not take "
                                   "(its value is not given)",
        "Q.symmetric(H)": "is about H, which linear.kinds[sizes] does not take",
        "Q.positive_definite(H)": "is about H, which linear.kinds[sizes] does not take",
    }


def test_no_condition_of_a_registered_result_is_silently_skipped() -> None:
    """Every condition of every result is screened by every claim that takes all its
    symbols (or, for a Q predicate, its matrix), and it is listed as not screened by the
    others; and a screen really rejects: each claim is called with a value that breaks its
    first screened relation, and must raise. This fails if a condition is dropped."""
    from theory._printing import lower

    results = [theory.get(i) for i in theory.ids()]
    screened = 0
    for r in results:
        for part in r.claims:
            try:
                f = r.numeric(part=part)
            except NotImplementedError:
                continue
            low = lower(r._get(part), r._where(part))
            takes = {a.source for a in low.arguments} | {
                s for s in r.symbols if s.name in low.shapes}
            for c in r.conditions:
                text = sp.sstr(c)
                if f.unchecked.get(text, "").startswith("is what the claim states"):
                    assert c == r._get(part) or c in r._get(part).atoms(sp.Rel), (r.id, part)
                    continue
                needs = set(c.arguments) if isinstance(c, sp.assumptions.assume.AppliedPredicate) \
                    else c.free_symbols
                if needs <= takes:
                    assert text in f.checked, (r.id, part, text, f.unchecked.get(text))
                    screened += 1
                else:
                    assert text in f.unchecked, (r.id, part, text)
    assert screened >= 20  # the catalog's conditions reach its claims (40 conditions in all)


def test_screens_reject_a_registered_result_outside(xp) -> None:
    r = theory.get("sgd_noise.covariance")
    f = r.numeric(xp, part="factor")
    assert float(f(B=10, n=10)) == 0.0   # B = n: inside (no noise without replacement)
    with pytest.raises(ValueError, match=r"sgd_noise.covariance\[factor\]: condition B <= n "
                       r"violated at B=11, n=10"):
        f(B=11, n=10)
    with pytest.raises(ValueError, match=r"condition n >= 2 violated at n=1"):
        f(B=1, n=1)


def test_evalf_screens_the_same_conditions() -> None:
    r = _kinds()
    assert r.evalf({**_OK}) == pytest.approx(3 / 10 * 0.5 + 1 - 2)
    with pytest.raises(ValueError, match=r"linear.kinds: condition B <= n violated at B=11, n=10$"):
        r.evalf({**_OK, "B": 11})
    with pytest.raises(ValueError, match=r"B must be an integer .*got B=2.5$"):
        r.evalf({**_OK, "B": 2.5})
    assert r.evalf({**_OK, "B": 3.0, "n": 10.0}) == pytest.approx(3 / 10 * 0.5 + 1 - 2)
    with pytest.raises(ValueError, match=r"eta must be positive .*got eta=0$"):
        r.evalf({**_OK, "eta": 0.0})
    with pytest.raises(ValueError, match=r"c must be real \(not NaN\)"):
        r.evalf({**_OK, "c": float("nan")})
    # Eq within rounding of float64 inputs, as numeric()
    assert r.evalf({**_OK, "lam": 3.0, "eta": 0.1, "s": 1.0 / 3.0}) is not None
    with pytest.raises(ValueError, match=r"Eq\(s, 1\) \| Eq\(s, 1/lam\) violated"):
        r.evalf({**_OK, "lam": 3.0, "eta": 0.1, "s": 0.3334})
    assert r.evalf({**_OK, "B": 11}, check_conditions=False) == pytest.approx(11 / 10 * 0.5 - 1)
    # a matrix given to evalf is screened too
    v = [[1.0], [2.0]]
    assert r.evalf({"H": [[2.0, 1.0], [1.0, 2.0]], "v": v, "eta": 1.0}, part="quadratic")[0, 0] > 0
    with pytest.raises(ValueError, match=r"Q.symmetric\(H\) violated"):
        r.evalf({"H": [[2.0, 1.0], [1.5, 2.0]], "v": v, "eta": 1.0}, part="quadratic")
    with pytest.raises(ValueError, match=r"Q.positive_definite\(H\) violated: H has smallest "
                       r"eigenvalue -1"):
        r.evalf({"H": [[1.0, 0.0], [0.0, -1.0]], "v": v, "eta": 1.0}, part="quadratic")


def test_a_claim_that_states_its_condition_is_evaluated_on_both_sides() -> None:
    f = theory.get("linear.gd_limit").numeric(part="stable_region")
    assert f.unchecked["eta < 2/lambda_max"] == "is what the claim states (it is evaluated on both sides)"
    assert bool(f(eta=1.9, lambda_max=1.0)) and not bool(f(eta=2.1, lambda_max=1.0))
    with pytest.raises(ValueError, match="eta must be positive"):
        f(eta=-1.0, lambda_max=1.0)   # its assumptions are still screened
