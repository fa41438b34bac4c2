"""The ``sgd_stability`` sweep's cell: at B = n SGD is GD, whose rate is derived."""

from __future__ import annotations

import math

import numpy as np
import pytest

import theory
from numerics.stability import largest_stable_eta, sharpness_nonuniformity
from verify.sweeps.stability import problem, stability_cell

BASE = {"n": 16, "p": 4, "a": 1.0, "s": 1.0, "steps": 200, "replicas": 64, "backend": "numpy"}


def test_problem_has_the_requested_sharpness_and_nonuniformity() -> None:
    a, s = sharpness_nonuniformity(problem({**BASE, "s": 0.7}, seed=3))
    # Dense eigensolves of 4x4 matrices: error ~ p·eps·‖H‖; 4·sqrt(eps) is ample.
    tol = 4 * np.sqrt(np.finfo(float).eps)
    assert abs(a - 1.0) < tol and abs(s - 0.7) < tol


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


def test_recorded_mean_square_rate_is_the_exact_threshold() -> None:
    """The stored exact rate log ρ(T_η) changes sign at the exact threshold of
    stability.sgd_exact_threshold (computed independently by largest_stable_eta), below
    the GD threshold for B = 1 (seed 000: small batches destabilize non-uniform minima)."""
    H = problem(BASE, seed=0)
    eta_star = largest_stable_eta(H, 1, condition="exact")
    below = stability_cell({**BASE, "eta": 0.9 * eta_star, "batch": 1, "steps": 5}, seed=0)
    above = stability_cell({**BASE, "eta": 1.1 * eta_star, "batch": 1, "steps": 5}, seed=0)
    assert below["ms_rate"] < 0 < above["ms_rate"]
    assert eta_star < 2 / below["sharpness"]


def test_bad_batch_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"batch must be in \[1, n=16\]; got 17"):
        stability_cell({**BASE, "eta": 1.0, "batch": 17}, seed=0)


def test_threshold_curves_agree_with_numerics_largest_stable_eta() -> None:
    """The overlay curves (results' parts evaluated by Result.numeric, bisection on the
    instance's matrices) against numerics.stability.largest_stable_eta, an independent
    closed-form implementation: bisection to 60 halvings, so agreement to ~1e-9 relative
    (eigen-solver error of 4x4 / 16x16 matrices is ~1e-14)."""
    from verify.sweeps.stability import threshold_curves

    rec = stability_cell({**BASE, "eta": 1.0, "batch": 1, "steps": 1}, seed=0)
    row = {**BASE, **rec, "seed": 0}
    batches = [1, 2, 4, 8, 16]
    curves = threshold_curves([row], batches, eta_max=2.4)
    H = problem(BASE, seed=0)
    by = {k.split(":")[0]: v for k, v in curves.items()}
    for i, b in enumerate(batches):
        assert by["sufficient"][i] == pytest.approx(
            largest_stable_eta(H, b, condition="sufficient"), rel=1e-8)
        assert by["mean-square"][i] == pytest.approx(
            largest_stable_eta(H, b, condition="exact"), rel=1e-8)
        assert by["GD"][i] == pytest.approx(largest_stable_eta(H, b, condition="gd"), rel=1e-8)
        # The necessary bound is weaker than the sufficient one (it is implied by it).
        assert not by["necessary"][i] < by["sufficient"][i] * (1 - 1e-8)


def test_plot_says_why_cells_past_a_threshold_are_stable() -> None:
    """Each stable mark on the far side of a drawn curve has a legend entry saying why:
    the sufficient curve does not exclude stability beyond it; on the mean-square
    threshold the top mode is marginal; past it the sample of replicas misses the heavy
    tail that makes the mean grow."""
    from verify.sweeps.stability import SWEEP, plot_stability

    rows = []
    for eta, B in [(0.5, 1), (1.3, 1), (2.0, 16)]:
        params = {**BASE, "eta": eta, "batch": B, "steps": 100, "replicas": 256}
        rows.append({**params, **stability_cell(params, seed=0), "seed": 0})
    assert [r["stable"] for r in rows] == [True, True, True]
    assert rows[1]["ms_rate"] > 0 and abs(rows[2]["ms_rate"]) < 1e-12
    fig = plot_stability(rows, SWEEP)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("sufficient condition" in t and "stability is not excluded" in t for t in labels)
    assert any(t.startswith("stable past the mean-square threshold: ‖x_T‖² is heavy-tailed")
               for t in labels)
    assert any(t.startswith("stable on the mean-square threshold") for t in labels)
    ax = fig.axes[0]
    assert ax.get_title() and "learning rate" in ax.get_xlabel() and "batch size" in ax.get_ylabel()
    import matplotlib.pyplot as plt

    plt.close(fig)
