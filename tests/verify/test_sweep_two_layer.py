"""The ``two_layer_test_error`` sweep's cell."""

from __future__ import annotations

import math

from verify.sweeps import get_sweep, plot_sweep, run_sweep
from verify.sweeps.two_layer import test_error_cell as cell

BASE = {"m": 4, "n": 40, "d": 5, "n_test": 2000, "lr": 1.0, "beta": 0.0, "backend": "numpy"}


def test_untrained_network_has_the_target_second_moment() -> None:
    r"""With a(0) = 0 the network is 0, so the test error is the mean of σ(x_1)² over
    n_test Gaussian inputs: E σ(x)² = 1/2, Var σ(x)² = E σ⁴ − 1/4 = 3/2 − 1/4 = 5/4, so the
    Monte Carlo tolerance is z·sqrt(5/4/n_test) with z = 6 (false alarm < 1e-8)."""
    rec = cell({**BASE, "steps": 0}, seed=1)
    tol = 6 * math.sqrt(1.25 / BASE["n_test"])
    assert abs(rec["test_error"] - 0.5) < tol
    assert abs(rec["train_loss"] - 0.25) < 6 * math.sqrt(1.25 / BASE["n"]) / 2  # L = ½·MSE


def test_gd_learns_the_single_neuron_with_few_neurons() -> None:
    """Teeth: GD from the same start must leave the untrained error band, by orders of
    magnitude, in the NN-like regime m ~ n/d (seed 000)."""
    rec = cell({**BASE, "steps": 1500}, seed=1)
    assert not rec["diverged"] and rec["test_error"] < 0.05 and rec["train_loss"] < 0.01


def test_small_two_layer_sweep_runs_and_plots(tmp_path) -> None:
    sw = get_sweep("two_layer_test_error")
    grid = {"m": (2, 4), "n": (8, 16), "steps": (50,), "n_test": (100,)}
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                      dashboard_address="127.0.0.1:0") as c, Client(c, set_as_default=False) as cl:
        s = run_sweep(sw, grid=grid, seeds=[0, 1], out=tmp_path, client=cl)
    assert s.computed == 8 and s.failed == 0
    png = plot_sweep(sw, out=tmp_path)
    assert png.read_bytes()[:4] == b"\x89PNG"
