"""The stability, sgd_noise and sharpness checks pass on every backend, certify every claim,
and fail when the dynamics or the claims are wrong (teeth), with pinned tolerance widths."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

import numerics
import numerics.optim
import theory
from numerics import namespace_name
from verify import check_ids, run_check
from verify import tolerance as tol

IDS = [i for i in check_ids() if i.split(".")[0] in ("stability", "sharpness", "sgd_noise")]
OWN = [i for i in IDS if i != "stability.edge_of_stability"]
EXAMPLES = {"numpy": 3, "array_api_strict": 1}


def _with_part(rid: str, part: str, new) -> theory.Result:
    r = theory.get(rid)
    parts = dict(r.parts)
    parts[part] = new(r.parts[part])
    return dataclasses.replace(r, parts=parts)


def _sym(r: theory.Result, name: str) -> sp.Symbol:
    return next(s for s in r.symbols if s.name == name)


def test_every_result_has_a_check() -> None:
    want = [i for i in [*theory.ids("stability"), *theory.ids("sgd_noise"), *theory.ids("sharpness")]
            if i != "stability.edge_of_stability"]
    assert sorted(OWN) == sorted(want)


@pytest.mark.parametrize("cid", OWN)
def test_check_passes_and_certifies_every_claim(cid: str, xp) -> None:
    rep = run_check(cid, backend=xp, examples=EXAMPLES.get(namespace_name(xp), 1))
    assert rep.passed, rep.explain()
    assert rep.uncertified == [], rep.explain()
    assert set(rep.certifies) == set(theory.get(cid).claims)


# ------------------------------------------------------------------ teeth: wrong dynamics
class _WithReplacement(numerics.optim.SGD):
    """SGD that silently samples with replacement: factor 1/B instead of (n−B)/(B(n−1))."""

    def __init__(self, eta, batch=1, replace=False, metric=None):
        super().__init__(eta, batch=batch, replace=True, metric=metric)


@pytest.mark.parametrize("cid", ["stability.sgd_1d_moments", "sgd_noise.covariance", "stability.sgd_threshold"])
def test_checks_catch_sampling_with_replacement(cid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.stability as mod

    monkeypatch.setattr(mod, "SGD", _WithReplacement)
    assert not run_check(cid, examples=3).passed


class _LongStepGD(numerics.optim.GD):
    def step(self, model, x, state, rng):
        return x - 1.02 * self.eta * model.grad(x), state


def test_gd_threshold_check_catches_a_wrong_step(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.stability as mod

    monkeypatch.setattr(mod, "GD", _LongStepGD)
    assert not run_check("stability.gd_threshold", examples=3).passed


class _MetricNotInverted(numerics.optim.GD):
    """x ← x − ηD∇f instead of x − ηD⁻¹∇f (D and H do not commute in the check)."""

    def __init__(self, eta, metric=None):
        import numpy.linalg as la

        super().__init__(eta, metric=None if metric is None else np.asarray(la.inv(np.asarray(metric))))


def test_preconditioned_check_catches_a_metric_not_inverted(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.stability as mod

    monkeypatch.setattr(mod, "GD", _MetricNotInverted)
    assert not run_check("stability.preconditioned", examples=3).passed


def test_escape_check_catches_gd_instead_of_sgd(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.stability as mod

    monkeypatch.setattr(mod, "SGD", lambda eta, batch=1: numerics.optim.GD(eta))
    assert not run_check("stability.sgd_escape_example").passed


def test_flatness_check_catches_a_wrong_radius(monkeypatch: pytest.MonkeyPatch) -> None:
    import numerics.sharpness as ns
    import verify.checks.sharpness as mod

    def longer(*args, **kw):
        est = ns.flatness_radius(*args, **kw)
        return ns.FlatnessEstimate(value=est.value, radii=1.01 * est.radii, capped=est.capped,
                                   directions=est.directions)

    monkeypatch.setattr(mod, "flatness_radius", longer)
    assert not run_check("sharpness.flatness_radius", examples=2).passed


def test_pac_bayes_check_catches_a_biased_estimator(monkeypatch: pytest.MonkeyPatch) -> None:
    """5 % too large: the Laurent–Massart tolerance (~3 %) rejects it."""
    import numerics.sharpness as ns
    import verify.checks.sharpness as mod

    def biased(*args, **kw):
        est = ns.pac_bayes_sharpness(*args, **kw)
        return ns.SharpnessEstimate(value=1.05 * est.value, stderr=est.stderr, samples=est.samples)

    monkeypatch.setattr(mod, "pac_bayes_sharpness", biased)
    assert not run_check("sharpness.pac_bayes", examples=2).passed


# -------------------------------------------------------------------- teeth: wrong claims
def test_with_replacement_factor_is_rejected_where_claimed_without() -> None:
    """The realistic slip: 1/B for (n−B)/(B(n−1)) in every result that carries the factor."""
    for rid, part in (("stability.sgd_1d_moments", "batch_factor"), ("stability.sgd_threshold", "batch_factor"),
                      ("stability.sgd_exact_threshold", "batch_factor"), ("sgd_noise.covariance", "factor")):
        B = _sym(theory.get(rid), "B")
        wrong = _with_part(rid, part, lambda e: 1 / B)
        assert not run_check(rid, result=wrong, examples=3, shrink=False).passed, (rid, part)


def test_covariance_statement_with_replacement_is_rejected() -> None:
    r = theory.get("sgd_noise.covariance")
    B, C = _sym(r, "B"), _sym(r, "C")
    wrong = dataclasses.replace(r, statement=sp.Eq(r.statement.lhs, C / B))
    assert not run_check("sgd_noise.covariance", result=wrong, examples=3, shrink=False).passed
    swapped = _with_part("sgd_noise.covariance", "with_replacement", lambda e: r.parts["factor"])
    assert not run_check("sgd_noise.covariance", result=swapped, examples=3, shrink=False).passed


def test_second_moment_map_with_a_transposed_term_is_rejected() -> None:
    """M ↦ (I − ηH)Mᵀ(I − ηH) + …: visible only on non-symmetric M."""
    r = theory.get("stability.sgd_exact_threshold")
    M = next(m for m in r.statement.rhs.atoms(sp.MatrixSymbol) if m.name == "M_t")
    wrong = dataclasses.replace(r, statement=sp.Eq(r.statement.lhs, r.statement.rhs.xreplace({M: M.T})))
    assert not run_check("stability.sgd_exact_threshold", result=wrong, examples=3, shrink=False).passed


def test_sgd_threshold_statement_without_noise_is_rejected() -> None:
    r = theory.get("stability.sgd_threshold")
    Sig = next(m for m in r.statement.rhs.atoms(sp.MatrixSymbol) if m.name == "Sigma")
    wrong = dataclasses.replace(r, statement=r.statement.xreplace({Sig: sp.ZeroMatrix(*Sig.shape)}))
    assert not run_check("stability.sgd_threshold", result=wrong, examples=3, shrink=False).passed


def test_general_optimizer_with_a_loose_condition_is_rejected() -> None:
    r = theory.get("stability.general_optimizer")
    rho, lam = _sym(r, "rho_mean"), _sym(r, "lambda_sq")
    # λ ≤ 1 alone is equivalent (ρ² ≤ λ, a condition of the result); ρ ≤ 1 alone is not.
    for wrong in (sp.And(sp.Le(rho, 1), sp.Le(lam, sp.Rational(11, 10))), sp.Le(rho, 1),
                  sp.And(sp.Le(rho, sp.Rational(11, 10)), sp.Le(lam, 1 + sp.Rational(1, 2)))):
        res = dataclasses.replace(r, statement=wrong)
        assert not run_check("stability.general_optimizer", result=res, examples=3, shrink=False).passed, wrong


def test_epsilon_limit_off_by_one_percent_is_rejected() -> None:
    r = theory.get("sharpness.epsilon")
    wrong = dataclasses.replace(r, statement=sp.Eq(r.statement.lhs, sp.Rational(101, 100) * r.statement.rhs))
    assert not run_check("sharpness.epsilon", result=wrong, examples=3, shrink=False).passed


# ------------------------------------------------------------- pinned widths and margins
@pytest.mark.parametrize("rid,part,args", [
    ("stability.gd_threshold", "threshold", None),
    ("stability.preconditioned", "threshold", None),
    ("stability.sgd_1d_moments", "eta_max", None),
    ("stability.sgd_threshold", "necessary_sharpness", None),
    ("stability.sgd_threshold", "necessary_nonuniformity", None),
])
@pytest.mark.parametrize("factor", [1.06, 1 / 1.06])
def test_thresholds_six_percent_off_are_rejected_on_one_side(rid: str, part: str, args, factor: float) -> None:
    """The margin δ ≤ 0.04 on both sides: a threshold 6 % too high or too low puts one of the
    two test points on the wrong side (a 10× wider margin would let both pass)."""
    wrong = _with_part(rid, part, lambda e: sp.Float(factor) * e)
    assert not run_check(rid, result=wrong, examples=3, shrink=False).passed


def test_bernstein_tolerance_solves_the_inequality_and_is_near_gaussian() -> None:
    import verify.checks.stability as mod

    for sd, b, N, m in ((0.3, 1.0, 20000, 4), (1.0, 5.0, 1000, 1)):
        eps = float(mod._bernstein(sd, b, N, m=m))
        assert math.isclose(2 * math.exp(-N * eps**2 / (2 * sd**2 + 2 * b * eps / 3)), tol.FALSE_ALARM / m, rel_tol=1e-9)
        gauss = tol.z_value(tol.FALSE_ALARM, m) * sd / math.sqrt(N)
        assert gauss < eps < 1.6 * gauss  # a 10× looser tolerance would fail this pin


def test_laurent_massart_width_matches_a_chi_square_quantile() -> None:
    """Σ of N unit χ²: the bound's width is within a factor 1.5 of the exact χ² quantile's."""
    from scipy.stats import chi2

    import verify.checks.sharpness as mod

    N, m = 4000, 3
    t = mod._laurent_massart(math.sqrt(N), 1.0, m=m).value
    exact = chi2.ppf(1 - tol.FALSE_ALARM / (2 * m), N) - N
    assert exact <= t < 1.5 * exact


def test_hutchinson_variance_is_the_derived_one() -> None:
    """Var(zᵀHz) = 2(‖H‖_F² − ΣH_ii²) for Rademacher z, by enumerating all 2^p sign vectors."""
    import itertools

    rng = np.random.default_rng(0)
    G = rng.standard_normal((5, 5))
    H = G + G.T
    z = np.array(list(itertools.product([-1.0, 1.0], repeat=5)))
    q = np.einsum("ki,ij,kj->k", z, H, z)
    assert math.isclose(q.var(), 2 * (np.sum(H * H) - np.sum(np.diag(H) ** 2)), rel_tol=1e-12)
    assert np.max(np.abs(q - np.trace(H))) <= np.sum(np.abs(H - np.diag(np.diag(H)))) + 1e-12


def test_marginal_factor_at_the_threshold_has_a_rounding_tolerance() -> None:
    """η_max 2·10⁻¹³ too large moves E(1 − ηa_𝓑)² at the claimed threshold by ≈ 7·10⁻¹³, a few
    times the rounding tolerance (≈ 2·10⁻¹³): it is rejected, and would not be with a
    tolerance 10× looser."""
    p = {"n": 5, "B": 2, "u": 1.0, "x0": 1.5, "R": 20000, "seed": 0}
    xp = numerics.get_namespace("numpy")
    import verify.checks.stability as mod
    from verify.runner import TrackedResult

    r = theory.get("stability.sgd_1d_moments")
    assert mod.check_sgd_1d_moments(p, xp, TrackedResult(r)).passed
    wrong = _with_part("stability.sgd_1d_moments", "eta_max", lambda e: (1 + sp.Float(2e-13, 30)) * e)
    assert not mod.check_sgd_1d_moments(p, xp, TrackedResult(wrong)).passed
