"""The kernel, two-layer and edge-of-stability checks pass, certify every claim, fail on
wrong claims and wrong dynamics, and keep their tolerances at the derived widths."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

import theory
from verify import check_ids, run_check

IDS = [i for i in check_ids() if i.split(".")[0] in ("kernels", "two_layer")] + [
    "stability.edge_of_stability"]
FAST = ["kernels.arccos1_gaussian", "kernels.arccos1_sphere", "two_layer.population_loss",
        "two_layer.population_gradient", "two_layer.time_scales", "two_layer.circle_target"]


def _scaled(rid: str, factor: sp.Expr, part: str | None = None) -> object:
    """The result with the right-hand side of its statement (or a part) times ``factor``."""
    r = theory.get(rid)
    obj = r.statement if part is None else r.parts[part]
    new = (sp.Eq(obj.lhs, factor * obj.rhs, evaluate=False) if isinstance(obj, sp.Equality)
           else factor * obj)
    if part is None:
        return dataclasses.replace(r, statement=new)
    return dataclasses.replace(r, parts={**r.parts, part: new})


def test_every_result_has_a_check() -> None:
    assert [i for i in IDS if not i.startswith("stability")] == theory.ids("kernels") + theory.ids("two_layer")


@pytest.mark.parametrize("cid", IDS)
def test_check_passes_and_certifies_every_claim(cid: str) -> None:
    rep = run_check(cid, backend="numpy", examples=2)  # `implreg verify` runs the full default
    assert rep.passed, rep.explain()
    assert rep.uncertified == [], rep.explain()


@pytest.mark.parametrize("cid", FAST)
def test_check_passes_on_array_api_strict(cid: str) -> None:
    rep = run_check(cid, backend="array_api_strict", examples=1)
    assert rep.passed, rep.explain()


# ------------------------------------------------------------------ teeth: wrong claims
@pytest.mark.parametrize("rid", ["kernels.arccos0_gaussian", "kernels.arccos1_gaussian",
                                 "kernels.arccos2_gaussian", "kernels.arccos1_sphere"])
def test_kernel_check_catches_a_ten_percent_kernel(rid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel 10 % off must fail on the Monte Carlo comparison alone (the implementation
    comparison, which would catch it to rounding, is switched off)."""
    import verify.checks.kernels as mod
    from verify import tolerance as tol
    from verify.outcome import Outcome

    monkeypatch.setattr(mod, "_implementation",
                        lambda *a, **k: Outcome.close(0.0, 0.0, tol.Tolerance(0.0, "off")))
    assert run_check(rid, examples=2).passed
    assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10)), examples=1, shrink=False).passed


def test_sphere_check_catches_the_missing_one_over_d(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's eq. 15 as printed (no 1/d, no 1/(2π)) and the factor of the wrong order."""
    r = theory.get("kernels.arccos1_sphere")
    d = next(s for s in r.symbols if s.name == "d")
    assert not run_check(r.id, result=_scaled(r.id, d), examples=1, shrink=False).passed
    assert not run_check(r.id, result=_scaled(r.id, 2 * sp.pi * d), examples=1, shrink=False).passed
    assert not run_check(r.id, result=_scaled(r.id, sp.Rational(11, 10), "order_n_factor"),
                         examples=1, shrink=False).passed


@pytest.mark.parametrize("rid,part", [("two_layer.population_loss", None),
                                      ("two_layer.population_loss", "kernel"),
                                      ("two_layer.population_gradient", None),
                                      ("two_layer.population_gradient", "grad_b"),
                                      ("two_layer.population_gradient", "coef_bp"),
                                      ("two_layer.circle_target", None),
                                      ("two_layer.circle_target", "second_moment"),
                                      ("two_layer.time_scales", "grad1_max")])
def test_two_layer_checks_catch_a_ten_percent_claim(rid: str, part: str | None) -> None:
    assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10), part), examples=1,
                         shrink=False).passed


def test_population_loss_catches_a_wrong_cross_term() -> None:
    """aᵀK_*a* with the factor 2 lost (a realistic slip), everything else untouched."""
    r = theory.get("two_layer.population_loss")
    rhs = r.statement.rhs
    cross = next(t for t in rhs.args if t.could_extract_minus_sign())
    wrong = dataclasses.replace(r, statement=sp.Eq(r.statement.lhs, rhs - cross / 2, evaluate=False))
    assert not run_check(r.id, result=wrong, examples=1, shrink=False).passed


@pytest.mark.parametrize("factor", [sp.Rational(11, 10), sp.Rational(9, 10)])
def test_time_scales_bound_is_tested_on_both_sides(factor: sp.Expr) -> None:
    """A looser (× 11/10) or tighter (× 9/10) bound both fail: the constant s/2 is attained."""
    r = theory.get("two_layer.time_scales")
    first, second = r.statement.args
    wrong = dataclasses.replace(r, statement=sp.And(sp.Le(first.lhs, factor * first.rhs), second))
    assert not run_check(r.id, result=wrong, examples=1, shrink=False).passed


@pytest.mark.parametrize("c", [sp.Rational(22, 10), sp.Rational(18, 10)])
def test_edge_of_stability_threshold_is_tested_on_both_sides(c: sp.Expr) -> None:
    """λ ≤ 2.2/η and λ ≤ 1.8/η both fail: below the switch the perturbation must not grow,
    above it must."""
    r = theory.get("stability.edge_of_stability")
    eta = next(s for s in r.symbols if s.name == "eta")
    wrong = dataclasses.replace(r, statement=sp.Le(r.statement.lhs, c / eta))
    assert not run_check(r.id, result=wrong, shrink=False).passed


def test_quenching_check_catches_the_flipped_relation() -> None:
    r = theory.get("two_layer.quenching_activation")
    wrong = dataclasses.replace(r, statement=sp.Lt(*r.statement.args))
    assert not run_check(r.id, result=wrong, shrink=False).passed


def test_rf_limit_catches_a_faster_rate() -> None:
    """sup‖ΔB‖ ≤ C/m (rate m^{-1}) is not what GD shows."""
    r = theory.get("two_layer.rf_limit")
    m = next(s for s in r.symbols if s.name == "m")
    C = next(s for s in r.symbols if s.name == "C_T")
    wrong = dataclasses.replace(r, statement=sp.Le(r.statement.lhs, C / m))
    assert not run_check(r.id, result=wrong, shrink=False).passed


# ------------------------------------------------------------------ teeth: wrong dynamics
def test_gradient_check_catches_a_wrong_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    from numerics.two_layer import TwoLayerPopulation

    real = TwoLayerPopulation.loss
    monkeypatch.setattr(TwoLayerPopulation, "loss", lambda self, th: 1.01 * real(self, th))
    assert not run_check("two_layer.population_gradient", examples=1).passed


def test_rf_limit_fails_under_mean_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mean-field scaling with a = 0 keeps B frozen far less as m grows: the exponent check fails."""
    import verify.checks.two_layer as mod

    real = mod._rf_run
    monkeypatch.setattr(mod, "_rf_run", lambda p, xp, m, **kw: real(p, xp, m, scaling="mean_field", **kw))
    assert not run_check("two_layer.rf_limit").passed


# ------------------------------------------------------------------ tolerance widths
def test_kernel_tolerance_is_the_student_t_error_bar() -> None:
    """The Monte Carlo tolerance at θ = 0 is t·σ̂/√N with N = 200 000 (a few per cent of
    the kernel): ten times wider would let a 10 % error pass."""
    from verify import tolerance as tol

    import verify.checks.kernels as mod

    assert mod._N[1] == 200_000
    # the relative error bar at θ = 0: σ(g²1{g>0})/E = √5 ≈ 2.24
    rel = tol.t_value(mod._N[1] - 1, tol.FALSE_ALARM, 11) * math.sqrt(5) / math.sqrt(mod._N[1])
    assert 0.015 < rel < 0.04


def test_time_scales_margin_is_pinned() -> None:
    import verify.checks.two_layer as mod

    assert mod._SHARP == 1e-6


def test_edge_margin_gives_far_separated_growth() -> None:
    import verify.checks.two_layer as mod

    assert (1 - 2 * mod._EOS_DELTA) ** mod._EOS_K < 1e-3
    assert (1 + 2 * mod._EOS_DELTA) ** mod._EOS_K > 1e3


def test_quenching_critical_count_is_calibrated() -> None:
    """The sign test's stated rates: false alarm ≤ 2e-3 at the calibrated per-replica rate
    0.83; level against no trend ≈ 0.11."""
    from scipy.stats import binom

    import verify.checks.two_layer as mod

    R, k = mod._Q_EXAMPLE["replicas"], mod._Q_CRITICAL
    assert binom.cdf(k - 1, R, 0.83) < 2e-3
    assert binom.sf(k - 1, R, 0.5) < 0.12


def test_stable_angle_is_accurate_near_zero_and_pi() -> None:
    from verify.checks.kernels import stable_angle

    u = np.array([1.0, 0.0, 0.0])
    for t in (1e-9, 1e-5, math.pi - 1e-9):
        w = np.array([math.cos(t), math.sin(t), 0.0])
        assert float(stable_angle(u, w)) == pytest.approx(t, rel=1e-12)
