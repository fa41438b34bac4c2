"""The linear checks pass on every backend, certify every claim, and fail when the dynamics
or the claimed formula are wrong — including slips at the edge of their tolerances."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import numerics.optim
import theory
from numerics import namespace_name
from verify import check_ids, run_check

LINEAR = [i for i in check_ids() if i.startswith("linear.")]

# array_api_strict validates every operation in Python (~10x slower than NumPy); it is there
# to catch NumPy-only calls, which one example does as well as ten.
EXAMPLES = {"numpy": None, "array_api_strict": 1}


def test_every_linear_result_has_a_check() -> None:
    assert LINEAR == theory.ids("linear")


@pytest.mark.parametrize("cid", LINEAR)
def test_linear_check_passes_and_certifies_every_claim(cid: str, xp) -> None:
    name = namespace_name(xp)
    rep = run_check(cid, backend=xp, examples=EXAMPLES.get(name, 1))
    assert rep.passed, rep.explain()
    assert rep.examples >= 1
    assert rep.uncertified == [], rep.explain()
    assert rep.certifies == list(theory.get(cid).claims)


# ------------------------------------------------------------------ wrong dynamics
class _WrongGD(numerics.optim.GD):
    """GD whose step is 2% too long: a bug the checks must catch."""

    def step(self, model, x, state, rng):
        return x - 1.02 * self.eta * model.grad(x), state


@pytest.mark.parametrize("cid", ["linear.gd_iterate", "linear.gradient_flow"])
def test_checks_catch_a_wrong_step(cid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.linear as mod

    monkeypatch.setattr(mod, "GD", _WrongGD)
    rep = run_check(cid, examples=5)
    assert not rep.passed
    assert rep.counterexample is not None  # Hypothesis' shrunk example is reported


def test_checks_catch_a_wrong_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """If GD forgot its initial point (converged to A⁺y from every x_0), gd_limit fails."""
    import verify.checks.linear as mod

    class Forgetful(numerics.optim.GD):
        def step(self, model, x, state, rng):
            return super().step(model, 0.9 * x, state, rng)

    monkeypatch.setattr(mod, "GD", Forgetful)
    assert not run_check("linear.gd_limit", examples=3).passed


# ------------------------------------------------------------------ wrong claims
def _with(rid: str, part: str | None, fn) -> theory.Result:
    r = theory.get(rid)
    if part is None:
        return dataclasses.replace(r, statement=fn(r.statement))
    parts = dict(r.parts)
    parts[part] = fn(parts[part])
    return dataclasses.replace(r, parts=parts)


def _rhs(f):
    return lambda e: sp.Eq(e.lhs, f(e.rhs)) if isinstance(e, sp.Equality) else f(e)


def _sym(r: theory.Result, name: str) -> sp.Basic:
    for o in [r.statement, *r.parts.values()]:
        for s in o.free_symbols | o.atoms(sp.MatrixSymbol):
            if getattr(s, "name", None) == name:
                return s
    raise KeyError(name)


def _killed(rid: str, mutant: theory.Result, examples: int | None = None) -> bool:
    return not run_check(rid, result=mutant, examples=examples, shrink=False).passed


def test_the_right_claims_pass_the_same_calls() -> None:
    for rid in ("linear.gd_limit", "linear.scaled_gd_limit", "linear.convex_norm_bound"):
        assert run_check(rid, result=_with(rid, None, lambda e: e), examples=2).passed


@pytest.mark.parametrize("c", [sp.Rational(197, 100), sp.Rational(203, 100)])
def test_threshold_is_pinned_on_both_sides(c) -> None:
    """η < c/λ_max with c 1.5 % off 2 fails: decay below and growth above at δ = 1 %."""
    r = theory.get("linear.gd_limit")
    eta, lam = _sym(r, "eta"), _sym(r, "lambda_max")
    m = _with("linear.gd_limit", "stable_region", lambda e: eta < c / lam)
    assert _killed("linear.gd_limit", m, examples=1)


def test_gd_limit_statement_pinned_to_rounding() -> None:
    """A relative slip of 1e-6 in the limit is far outside the contraction + rounding
    tolerance (a tolerance 10× looser would still kill it; 10⁶× looser would not)."""
    m = _with("linear.gd_limit", None, _rhs(lambda e: e * (1 + sp.Rational(1, 10**6))))
    assert _killed("linear.gd_limit", m, examples=1)


def test_gd_limit_catches_a_lost_initial_point() -> None:
    r = theory.get("linear.gd_limit")
    A, x0, y = (_sym(r, n) for n in ("A", "x_0", "y"))
    m = _with("linear.gd_limit", None, _rhs(lambda e: A.T * (A * A.T).I * y))
    assert _killed("linear.gd_limit", m, examples=1)


@pytest.mark.parametrize("rid", ["linear.scaled_gd_limit", "linear.sgd_limit"])
def test_metric_transpose_and_order_matter(rid: str) -> None:
    """With a non-symmetric H, H⁻ᵀ for H⁻¹ and (AH⁻¹Aᵀ)⁻ᵀ for its inverse are wrong."""
    r = theory.get(rid)
    H = _sym(r, "H")
    m1 = _with(rid, None, _rhs(lambda e: e.xreplace({H: H.T})))
    assert _killed(rid, m1, examples=1)
    A, b, x0 = (_sym(r, n) for n in ("A", "b", "x_0"))
    wrong = x0 + H.I * A.T * (A * H.I * A.T).T.I * (b - A * x0)
    assert _killed(rid, _with(rid, None, _rhs(lambda e: wrong)), examples=1)


@pytest.mark.parametrize("factor", [sp.Rational(11, 10), sp.Rational(21, 20)])
def test_convex_bound_constant_is_pinned(factor) -> None:
    """‖θ_t‖ ≤ ‖θ_0‖ + 2c‖θ̄‖ with c = 1.1 or 1.05 is rejected: the bound is attained to 2δ."""
    r = theory.get("linear.convex_norm_bound")
    nb = _sym(r, "norm_bar")
    m = _with("linear.convex_norm_bound", None, lambda e: e.xreplace({2 * nb: 2 * factor * nb}))
    assert m.statement != r.statement
    assert _killed("linear.convex_norm_bound", m, examples=1)


def test_generalization_terms_are_each_many_tolerances() -> None:
    """The noise term × 1.1, and ‖b*‖² dropped, are each rejected by the Monte Carlo test."""
    r = theory.get("linear.generalization_error")
    eps = _sym(r, "epsilon")
    bsq = _sym(r, "b_star_sq")
    noisy = _with("linear.generalization_error", "mode",
                  lambda e: e.xreplace({eps: eps * sp.sqrt(sp.Rational(11, 10))}))
    assert _killed("linear.generalization_error", noisy, examples=2)
    stmt = _with("linear.generalization_error", None,
                 _rhs(lambda e: e.xreplace({eps: eps * sp.sqrt(sp.Rational(11, 10))})))
    assert _killed("linear.generalization_error", stmt, examples=2)
    no_b = _with("linear.generalization_error", None, _rhs(lambda e: e - bsq))
    assert _killed("linear.generalization_error", no_b, examples=2)


@pytest.mark.parametrize("c", [sp.Rational(22, 10), sp.Rational(18, 10)])
def test_early_stopping_exponent_is_pinned(c) -> None:
    r = theory.get("linear.early_stopping")
    s1, t, n = _sym(r, "sigma_1"), _sym(r, "t"), _sym(r, "n")
    m = _with("linear.early_stopping", None,
              lambda e: e.xreplace({sp.exp(-2 * s1**2 * t / n): sp.exp(-c * s1**2 * t / n)}))
    assert m.statement != r.statement
    assert _killed("linear.early_stopping", m, examples=2)


def test_early_stopping_t0_pinned() -> None:
    m = _with("linear.early_stopping", "T_0", lambda e: e * sp.Rational(105, 100))
    assert _killed("linear.early_stopping", m, examples=1)


def test_double_descent_estimator_pinned() -> None:
    m = _with("linear.random_features_double_descent", None,
              _rhs(lambda e: e * sp.Rational(101, 100)))
    assert _killed("linear.random_features_double_descent", m)


# ------------------------------------------------------------------ helpers
def test_claim_matches_arguments_by_name() -> None:
    from verify.checks.linear import _plain

    assert _plain(r"\hat{\theta}") == _plain("theta_hat") == "hat_theta"
    assert _plain(r"\Psi") == "Psi" and _plain("x_0") == _plain("x_{0}")


def test_report_explains_a_failure() -> None:
    from verify.outcome import Outcome
    from verify.runner import CheckReport

    rep = CheckReport(id="linear.gd_limit", passed=False,
                      outcome=Outcome.failure("diverged"), backend="numpy", seconds=0.1,
                      examples=1, counterexample={"n": 2})
    text = rep.explain()
    assert "FAILED" in text and "{'n': 2}" in text
    d = rep.to_dict()
    assert {"id", "passed", "predicted", "observed", "tolerance", "backend", "seconds"} <= set(d)



# ------------------------------------------------------------------ tolerance widths
def _comparisons(cid: str, monkeypatch: pytest.MonkeyPatch, result=None) -> list:
    """The individual comparisons of a check on its explicit example."""
    from verify.outcome import Outcome
    from verify.registry import get_check
    from verify.runner import TrackedResult

    seen: list = []
    real = Outcome.all_of.__func__

    def capture(cls, outcomes):
        outs = list(outcomes)
        seen.extend(outs)
        return real(cls, outs)

    monkeypatch.setattr(Outcome, "all_of", classmethod(capture))
    chk = get_check(cid)
    out = chk.fn(dict(chk.example), np, TrackedResult(result or theory.get(cid)))
    monkeypatch.undo()
    assert out.passed, out
    return seen or [out]


@pytest.mark.parametrize("cid", ["linear.gd_limit", "linear.scaled_gd_limit", "linear.sgd_limit"])
def test_limit_tolerance_is_pinned(cid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slip of 3 tolerances in the limit (relative to its size) is rejected: a tolerance
    10× looser than the derived one would let it pass, so this pins the width."""
    outs = _comparisons(cid, monkeypatch)
    stmt = [o for o in outs if "statement" in o.quantity or "x̂" in o.quantity or "H⁻¹" in o.quantity][0]
    assert stmt.observed <= stmt.tolerance
    assert stmt.tolerance < 1e-6  # rounding and ρ^K, not a loose allowance
    # x_∞ has norm O(1)..O(10) on the examples: a relative slip of 30·tol moves it by ≥ 3 tol
    slip = sp.Rational(int(30 * stmt.tolerance * 1e15) + 1, 10**15)
    m = _with(cid, None, _rhs(lambda e: e * (1 + slip)))
    assert not _comparisons_pass(cid, m)


def _comparisons_pass(cid: str, result) -> bool:
    from verify.registry import get_check
    from verify.runner import TrackedResult

    chk = get_check(cid)
    return chk.fn(dict(chk.example), np, TrackedResult(result)).passed


def test_expectation_tolerances_make_every_term_many_tolerances(monkeypatch: pytest.MonkeyPatch) -> None:
    """generalization_error: with the exact-moment noise design the tolerance is the GD bias
    plus rounding, so ‖b*‖² and the noise term are each ≥ 50 tolerances; the Gaussian
    comparison uses a Student-t interval."""
    outs = _comparisons("linear.generalization_error", monkeypatch)
    stmt = [o for o in outs if "(statement)" in o.quantity and "Gaussian" not in o.quantity]
    assert len(stmt) == 4
    assert max(o.details["noise_term_in_tolerances"] for o in stmt) > 50
    assert min(o.details["b_sq_in_tolerances"] for o in stmt) > 50
    gauss = [o for o in outs if "Gaussian" in o.quantity]
    assert len(gauss) == 1 and "Student t" in gauss[0].reason


def test_exact_moment_noise_design() -> None:
    from verify.checks.linear import _noise

    xi = _noise({"seed": 3, "n": 5, "epsilon": 0.7}, 20, exact=True)
    np.testing.assert_allclose(xi.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(xi.T @ xi / 20, 0.49 * np.eye(5), atol=1e-13)
