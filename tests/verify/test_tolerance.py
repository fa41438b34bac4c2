"""Tolerance helpers and outcomes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verify import tolerance as tol
from verify.outcome import Outcome


def test_z_value_is_the_bonferroni_normal_quantile() -> None:
    from scipy.stats import norm

    assert tol.z_value(1e-6, 10) == pytest.approx(norm.isf(1e-6 / 20), rel=1e-9)  # statistics.NormalDist's inverse CDF: ~1e-11 relative
    with pytest.raises(ValueError, match="alpha"):
        tol.z_value(1.5)


def test_monte_carlo_error_bar_has_its_false_alarm_rate() -> None:
    """Empirically: means of N normals exceed z·σ/√N at about the stated rate."""
    rng = np.random.default_rng(0)
    alpha, N, trials = 0.01, 50, 20000
    t = tol.monte_carlo(1.0, N, alpha=alpha).value
    means = rng.standard_normal((trials, N)).mean(axis=1)
    rate = np.mean(np.abs(means) > t)
    # Binomial(trials, alpha): 5 standard deviations of slack.
    assert abs(rate - alpha) <= 5 * math.sqrt(alpha * (1 - alpha) / trials)


def test_contraction_and_floating_point() -> None:
    assert tol.contraction(0.5, 10, 1024.0).value == 1.0
    assert tol.floating_point(1.0, ops=1, safety=1).value == tol.EPS64
    with pytest.raises(ValueError, match="rate"):
        tol.contraction(1.0, 3, 1.0)
    both = tol.contraction(0.5, 1, 2.0) + tol.floating_point(1.0, ops=1)
    assert both.value == pytest.approx(1.0 + 10 * tol.EPS64) and "+" in both.reason


def test_outcome_relations() -> None:
    t = tol.Tolerance(0.1, "test")
    assert Outcome.close(1.0, 1.05, t).passed
    assert not Outcome.close(1.0, 1.2, t).passed
    assert Outcome.at_most(1.05, 1.0, t).passed and not Outcome.at_most(1.2, 1.0, t).passed
    assert Outcome.at_least(0.95, 1.0, t).passed and not Outcome.at_least(0.8, 1.0, t).passed
    assert not Outcome.close(1.0, float("nan"), t).passed
    both = Outcome.all_of([Outcome.close(1.0, 1.05, t), Outcome.close(0.0, 0.5, t)])
    assert not both.passed and both.observed == 0.5 and both.details["failed"] == 1
    assert Outcome.close(1.0, 1.05, t).used == pytest.approx(0.5)


def test_sign_test_with_too_few_seeds_says_so() -> None:
    # 3 seeds: all three showing the trend has probability 1/8 > 0.05 under "no trend", so
    # no count can pass; the outcome says the test is impossible instead of "4 of 3".
    from verify.outcome import Outcome

    out = Outcome.sign_test(3, 3, alpha=0.05, quantity="seeds with s smaller")
    assert not out.passed and "3 paired seeds cannot reach level α = 0.05" in out.reason
    assert "0.125" in out.reason
    # 5 seeds: 5 of 5 (probability 1/32) passes at 0.05, 4 of 5 does not.
    assert Outcome.sign_test(5, 5, alpha=0.05).passed
    assert not Outcome.sign_test(4, 5, alpha=0.05).passed
