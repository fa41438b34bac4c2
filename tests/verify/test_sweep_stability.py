"""The ``sgd_stability`` sweep's cell: at B = n SGD is GD, whose rate is derived."""

from __future__ import annotations

import math

import numpy as np
import pytest

import theory
from verify.sweeps.stability import moments, problem, stability_cell

BASE = {"n": 16, "d": 4, "steps": 200, "replicas": 64, "backend": "numpy"}


def test_problem_is_normalized_to_unit_sharpness() -> None:
    H, Sigma = moments(problem(16, 4, seed=3))
    lam = np.linalg.eigvalsh(H)
    # eigvalsh of a 4x4 SPD matrix: error ~ d·eps·‖H‖ (4·sqrt(eps) is ample).
    assert abs(lam[-1] - 1.0) < 4 * np.sqrt(np.finfo(float).eps)
    assert np.linalg.eigvalsh(Sigma)[0] > -1e-12  # Σ = Cov of H_ξ is PSD


@pytest.mark.parametrize("eta", [0.5, 1.9, 2.1, 2.3])
def test_full_batch_rate_matches_gd(eta: float) -> None:
    r"""At B = n every step is GD: ‖x_T‖² = Σ_j (1 − ηλ_j)^{2T} c_j² with Σ_j c_j² = 1, so
    2 log ρ + log(mean_r c_*²)/T ≤ rate ≤ 2 log ρ, ρ = max_j |1 − ηλ_j| and c_* the
    component on the dominant mode. For R = 64 uniform unit x_0 in d = 4, c_*² has mean 1/4
    and std 1/4 (E c⁴ = 3/(d(d+2)) = 1/8), so mean_r c_*² ≥ 1/4 − 6·(1/4)/8 > 0.06 except
    with probability < 1e-9 (z = 6)."""
    rec = stability_cell({**BASE, "eta": eta, "batch": 16}, seed=0)
    T = BASE["steps"]
    assert rec["gd_rate"] + math.log(0.06) / T <= rec["growth_rate"] <= rec["gd_rate"] + 1e-9
    # The GD threshold of linear.gd_limit, with the stored sharpness, decides stability.
    gd_stable = bool(theory.get("linear.gd_limit").numeric(part="stable_region")(
        eta=eta, lambda_max=rec["sharpness"]))
    assert rec["stable"] == gd_stable


def test_teeth_doubled_step_is_caught() -> None:
    """A wrong dynamics (step 2η passed as η) leaves the GD band: the check above has teeth."""
    rec = stability_cell({**BASE, "eta": 1.9, "batch": 16}, seed=0)
    wrong = stability_cell({**BASE, "eta": 3.8, "batch": 16}, seed=0)
    assert not (rec["gd_rate"] + math.log(0.06) / BASE["steps"] <= wrong["growth_rate"]
                <= rec["gd_rate"] + 1e-9)


def test_small_batches_destabilize_below_the_gd_threshold() -> None:
    """Seed 000's necessary condition s ≤ (1/η)·sqrt(B(n−1)/(n−B)): where the instance
    violates it (B = 1, η = 1: the bound is 1) the second moment must grow, although
    η = 1 is half the GD threshold 2/a, where the full batch is stable."""
    eta, n = 1.0, BASE["n"]
    one = stability_cell({**BASE, "eta": eta, "batch": 1}, seed=0)
    full = stability_cell({**BASE, "eta": eta, "batch": n}, seed=0)
    bound = math.sqrt(1 * (n - 1) / (n - 1)) / eta
    assert one["nonuniformity"] > bound  # the instance violates the necessary condition
    assert not one["stable"] and one["growth_rate"] > 0
    assert full["stable"] and eta < 2 / full["sharpness"]


def test_bad_batch_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"batch must be in \[1, n=16\]; got 17"):
        stability_cell({**BASE, "eta": 1.0, "batch": 17}, seed=0)
