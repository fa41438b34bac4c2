"""The ``model_sgd_stability`` sweep: SGD on a compiled symbolic model at its interpolating
minimum, against the model's derived thresholds."""

from __future__ import annotations

import logging
import math
import re

import numpy as np
import pytest

from verify.cli import main
from verify.sweeps.models import MODELS, model_stability_cell, thresholds
from verify.tolerance import binomial_critical

BASE = {"model": "diagonal2", "batch": 1, "steps": 36, "replicas": 64, "start": 1e-8,
        "linear_limit": 1e-4, "backend": "numpy"}
ALPHA = 1e-6  # false alarm of each side of the sign test


def test_model_axis_is_the_worked_models_with_an_interpolating_minimum() -> None:
    from theory.models import WORKED, worked

    assert set(MODELS) == {n for n in WORKED if worked(n).interpolating}


def test_full_batch_variant_threshold_is_the_gd_threshold() -> None:
    """At B = n the batch factor c_B = (n − B)/(B(n − 1)) is 0 and SGD is GD: η*(B = n) of
    the rebuilt model's sgd_threshold (smallest root of det(ηQ − L)) equals gd_threshold's
    2/λ_max (an eigenvalue), two separate derivations. Both are exact numbers evaluated
    once in float64: agreement to 1e-12 relative (rounding ~1e-16 times a few operations)."""
    from theory.models import worked

    m = worked("diagonal2")
    assert m.with_batch(1) is m and m.with_batch(2).batch == 2
    t = thresholds("diagonal2", 2)
    assert t["batch_factor"] == 0.0
    assert t["eta_star"] == pytest.approx(t["eta_gd"], rel=1e-12)
    with pytest.raises(ValueError, match=r"batch must be in \[1, n=2\].*got 3"):
        thresholds("diagonal2", 3)


def _hand_gradients() -> np.ndarray:
    """∇f_i(θ*) of f = Σ_j (u_j² − v_j²)x_j, by hand: (2u ⊙ x_i, −2v ⊙ x_i), at the model's
    θ* and inputs (read from theory.models.worked("diagonal2"))."""
    from theory.models import worked

    m = worked("diagonal2")
    th = {q.name: float(m.minimum[q]) for q in m.params}
    u, v = np.array([th["u1"], th["u2"]]), np.array([th["v1"], th["v2"]])
    X = np.array([[float(a) for a in m.dataset[s]] for s in m.data if s.name != "y"]).T
    return np.array([np.concatenate([2 * u * x, -2 * v * x]) for x in X])


@pytest.mark.parametrize("side", [-1, 1])
def test_growth_rate_changes_sign_across_eta_star(side: int) -> None:
    r"""The empirical rate is negative at η = 0.9η* and positive at 1.1η*, by derived bounds.

    At an interpolating minimum of the squared loss, H_i = g_ig_iᵀ with g_i = ∇f_i(θ*), so
    a linearized B = 1 step is δ ← (I − ηg_ig_iᵀ)δ and, on span{g_1, g_2} = range H,
    ‖δ'‖² = ‖δ‖² + (κ² − 1)(ĝ_i·δ)², κ = 1 − η‖g_i‖². Here ‖g_1‖ = ‖g_2‖, so for
    η < 2/‖g‖² every step contracts weakly and for η > 2/‖g‖² every step expands weakly:
    η* = 2/‖g‖² (checked against the sweep's η*). For unit δ in the span,
    max_i (ĝ_i·δ)² ≥ c = (1 − |ĝ_1·ĝ_2|)/2; the step's sample is that i with probability ½,
    independently of the past, so each replica has K ~ Bin(T, ½) such steps, each
    multiplying ‖δ‖² by at least 1 + (κ² − 1)c (above) or at most 1 − (1 − κ²)c (below),
    the others by at least (at most) 1. Hence, with ρ̂ the sweep's rate over h = T steps:

    - above: the replicas' mean ≥ their geometric mean, so
      ρ̂ ≥ (ΣK_r/(RT))·log(1 + (κ² − 1)c), ΣK_r ~ Bin(RT, ½) ≥ its α-quantile;
    - below: the mean of Y_r = (1 − (1 − κ²)c)^{K_r} ∈ [0, 1], i.i.d. with mean
      ((1 + 1 − (1 − κ²)c)/2)^T, exceeds it by at most √(log(1/α)/(2R)) (Hoeffding).

    T = 36 keeps every replica inside the linear regime and above the rounding level
    (checked: ``ended == "T"``): the growth of ‖δ‖² per step is at most κ² = 1.44, the
    decay at most κ² = 0.64, and 36·log 1.44 = 13.1 < log 10⁸, 36·|log 0.64| = 16.1 <
    log(r₀²/(10³u‖θ*‖)²) = 18.7. What the linear model leaves out, per step and relative
    to ‖δ‖: the third-order term, at most ηλ_max·ν/(2σ) with ν the recorded
    nonlinearity and σ = min(1, |κ|) the step's smallest singular value; rounding, at most
    10u‖θ*‖/‖δ_t‖ (ten roundings per coordinate in f, the residual, the product and the
    update), ‖δ_t‖ ≥ r₀σ^T. Twice their sum over T steps bounds the error of log‖δ_T‖².
    """
    g = _hand_gradients()
    sq = np.sum(g * g, axis=1)
    assert sq[0] == pytest.approx(sq[1], rel=1e-15)
    eta_star = 2 / sq[0]
    rec = model_stability_cell({**BASE, "eta": (1 + 0.1 * side) * eta_star}, seed=3)
    assert rec["eta_star"] == pytest.approx(eta_star, rel=1e-12)
    assert rec["ended"] == "T" and rec["linear"] and rec["diverged_fraction"] == 0
    T, R = BASE["steps"], BASE["replicas"]
    eta = (1 + 0.1 * side) * eta_star
    kappa2 = (1 - eta * sq[0]) ** 2
    gh = g / np.sqrt(sq)[:, None]
    c = (1 - abs(gh[0] @ gh[1])) / 2
    sigma = min(1.0, math.sqrt(kappa2))
    theta_norm = 1.5  # ‖θ*‖ = ‖(1, 1, 0, ½)‖
    u = 2.0**-53
    per_step = (eta * rec["lambda_max"] * rec["nonlinearity"] / (2 * sigma)
                + 10 * u * theta_norm / (rec["radius"] * sigma**T))
    err = 2 * per_step  # on the rate: 2·T·per_step on log‖δ_T‖², over T steps
    assert err < 1e-2  # the bounds below are not eaten by the neglected terms
    if side > 0:
        N = R * T
        k = N - binomial_critical(N, 0.5, ALPHA) + 1  # P(Bin(N, ½) < k) ≤ α
        bound = k / N * math.log(1 + (kappa2 - 1) * c)
        assert rec["growth_rate"] >= bound - err > 0
    else:
        mean_y = ((2 - (1 - kappa2) * c) / 2) ** T
        bound = math.log(mean_y + math.sqrt(math.log(1 / ALPHA) / (2 * R))) / T
        assert rec["growth_rate"] <= bound + err < 0
        assert rec["stable"]


def test_full_batch_decays_at_most_at_the_gd_rate() -> None:
    r"""At B = n = 2 the same step 1.1η*(1) decays, where B = 1 grows (previous test): the
    batch matters as the thresholds say (η*(2) = 2/λ_max = 2/5 > 1.1·2/9). GD is
    deterministic: δ ← (I − ηH)δ + e_t with H = (g_1g_1ᵀ + g_2g_2ᵀ)/2 (eigenvalues on its
    range from the hand gradients), ‖(I − ηH)P‖ = ρ = max_j|1 − ηλ_j| < 1, and e_t the
    rounding (at most 10u‖θ*‖ a step, as above) plus the third-order term (at most
    ηM r₀²/2). So ‖Pδ_h‖ ≤ ρ^h r₀ + (10u‖θ*‖ + ηMr₀²/2)/(1 − ρ) for every replica and
    every h, whatever ended the horizon."""
    g = _hand_gradients()
    lam = np.linalg.eigvalsh((np.outer(g[0], g[0]) + np.outer(g[1], g[1])) / 2)
    lam = lam[lam > 1e-9 * lam[-1]]  # the range: two eigenvalues, the others are 0
    eta = 1.1 * 2 / np.sum(g[0] ** 2)
    rec = model_stability_cell({**BASE, "eta": eta, "batch": 2}, seed=3)
    assert rec["eta_star"] == pytest.approx(2 / lam[-1], rel=1e-12)  # GD's 2/λ_max
    rho = float(np.max(np.abs(1 - eta * lam)))
    h, r0, M = rec["horizon"], rec["radius"], rec["third_derivative"]
    add = (10 * 2.0**-53 * 1.5 + eta * M * r0**2 / 2) / (1 - rho)
    bound = 2 * math.log(rho**h + add / r0) / h
    assert rec["growth_rate"] <= bound < 0 and rec["stable"]


# ----------------------------------------------------------------------------- CLI
# (the fixture `no_work` is in tests/verify/conftest.py)


@pytest.mark.parametrize(("items", "match"), [
    (["model=toy"], r"grid axis 'model' \(worked theory.Model with an interpolating minimum "
                    r"θ\*\) must be one of diagonal2, diagonal3, linear2; got 'toy'"),
    (["batch=3"], r"grid cells with model='linear2', batch=3, seed=0 cannot run: batch must "
                  r"be in \[1, n=2\] \(the samples of model 'linear2'\); got 3"),
    (["start=1e-3"], r"grid axis 'start' .* must be < linear_limit"),
    (["start=1e-11"], r"grid axis 'start' .* must be a float in \[1e-10, linear_limit\); "
                      r"got 1e-11"),
])
def test_cli_bad_grid_is_one_line_and_exit_2(capsys, tmp_path, no_work, items, match) -> None:
    grid = [a for it in items for a in ("--grid", it)]
    code = main(["sweep", "model_sgd_stability", "--out", str(tmp_path / "o"), *grid])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert re.search(match, err), err
    assert not (tmp_path / "o").exists()


def test_cli_tiny_grid_runs_and_plots(capsys, tmp_path) -> None:
    """2 η × 1 B on diagonal2 through ``implreg sweep`` (a scheduler started here, so the
    cells run in this process's threads), then ``--plot``: one cell each side of
    η*(B = 1) = 2/9."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       protocol="tcp://", host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    grid = ["--grid", "model=diagonal2", "--grid", "eta=0.15,0.3", "--grid", "batch=1",
            "--grid", "steps=20", "--grid", "replicas=8"]
    try:
        code = main(["sweep", "model_sgd_stability", "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path), *grid])
    finally:
        cluster.close()
    assert code == 0, capsys.readouterr().err
    assert "2 computed" in capsys.readouterr().out
    from verify.sweeps import load_results

    rows = sorted(load_results("model_sgd_stability", out=tmp_path).to_pylist(),
                  key=lambda r: r["eta"])
    assert [r["stable"] for r in rows] == [True, False]
    assert main(["sweep", "model_sgd_stability", "--plot", "--out", str(tmp_path), *grid]) == 0
    png = tmp_path / "model_sgd_stability.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from verify.sweeps.models import SWEEP, plot_model_stability

    fig = plot_model_stability(rows, SWEEP)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("models.diagonal2.sgd_threshold" in t for t in labels)
    assert any("models.diagonal2.gd_threshold" in t for t in labels)
    assert fig.axes[0].get_title(loc="left").startswith("diagonal2: n = 2 samples")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_cell_is_the_same_on_array_api_strict() -> None:
    """The compiled model runs unchanged on array_api_strict; the start and the batches are
    drawn on the host from the same seed, so the records agree up to rounding (a few ulps
    per step of a 4-parameter model over 20 steps: 1e-10 relative is far above it)."""
    pytest.importorskip("array_api_strict")
    p = {**BASE, "eta": 0.2, "steps": 20, "replicas": 8}
    a = model_stability_cell({**p, "backend": "numpy"}, seed=1)
    b = model_stability_cell({**p, "backend": "array_api_strict"}, seed=1)
    assert b["growth_rate"] == pytest.approx(a["growth_rate"], rel=1e-10)
    assert (a["ended"], a["horizon"]) == (b["ended"], b["horizon"])


def test_start_at_the_rounding_level_is_refused() -> None:
    """Called directly (past the axis' bound), a start whose ‖δ₀‖ is within 10 of the
    rounding level is refused rather than read as a decay."""
    with pytest.raises(ValueError, match=r"start=1e-13 puts ‖δ₀‖ = .* within a factor 10 of "
                                         r"the rounding level .* of model 'diagonal2'"):
        model_stability_cell({**BASE, "eta": 0.1, "start": 1e-13}, seed=0)
