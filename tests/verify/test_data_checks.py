"""Tiny configurations of the data.* experiments, the theory results, and teeth."""

from __future__ import annotations

import pytest

import theory
from verify.checks import data as D
from verify.registry import get_check

TINY = {"n_train": 64, "n_test": 100, "width": 24, "init_scale": 0.5, "seed": 0}


def test_data_results_build_with_seed_tables():
    for i in theory.ids("data"):
        r = theory.get(i)
        assert r.parts["seed_table"].shape[0] >= 2
    f = theory.get("data.escape").numeric(part="threshold")
    assert abs(float(f(B=8.0, n=128.0, eta=0.2)) - (8 * 127 / 120) ** 0.5 / 0.2) < 1e-12
    assert str(theory.get("data.sharpness_vs_lr").parts["threshold"]) == "2/eta"


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_sharpness_vs_lr_tiny(backend):
    from numerics.backend import get_namespace

    p = {**TINY, "seeds": 3, "etas": (0.1, 0.8), "steps": 150 if backend == "numpy" else 60,
         "factor": 0.8}
    out = get_check("data.sharpness_vs_lr").fn(p, get_namespace(backend))
    assert out.passed, out
    assert "2/η" in out.details["table"]


def test_sharpness_vs_lr_teeth_half_step():
    """A GD that secretly takes half the step (η_true = η/2) ends at a ≈ 4/η > 2/η: fails."""
    from numerics.backend import get_namespace

    xp = get_namespace("numpy")
    p = {**TINY, "seeds": 3, "etas": (0.4, 1.6), "steps": 150, "factor": 0.8}
    r = D._lr_experiment(p, xp)
    D._CACHE[D._key("lr", {**p, "etas": (0.2, 0.8)}, xp, "n_train", "n_test", "width",
                    "init_scale", "seeds", "etas", "steps", "seed")] = {**r, "etas": r["etas"] / 2}
    out = get_check("data.sharpness_vs_lr").fn({**p, "etas": (0.2, 0.8)}, xp)
    assert not out.passed


def test_escape_and_batch_size_tiny():
    from numerics.backend import get_namespace

    xp = get_namespace("numpy")
    p = {**TINY, "seeds": 5, "eta": 0.2, "batch": 4, "gd_steps": 300, "sgd_steps": 300,
         "jump": 5.0, "slack": 0.25, "alpha": 0.05, "batches": (4, 16)}
    out = get_check("data.escape").fn(p, xp)
    assert out.passed, out
    out = get_check("data.batch_size").fn(p, xp)
    assert out.passed, out


def test_random_labels_and_adam_tiny():
    from numerics.backend import get_namespace

    xp = get_namespace("numpy")
    p = {**TINY, "seeds": 5, "eta": 0.4, "steps": 500, "epsilon": 0.05, "directions": 3,
         "r_max": 20.0, "alpha": 0.05}
    out = get_check("data.random_labels").fn(p, xp)
    assert out.passed, out
    p = {**TINY, "seeds": 3, "sigmas": (0.25, 1.0), "batch": 16, "eta_sgd": 0.03,
         "eta_adam": 0.001, "steps": 400, "alpha": 0.05}
    out = get_check("data.adam_vs_sgd").fn(p, xp)
    assert out.passed, out


def test_sign_test_critical_values():
    from verify import tolerance as tol

    assert tol.sign_critical(6, 0.05) == 6      # 1/64 ≤ 0.05 < 7/64
    assert tol.sign_critical(12, 0.05) == 10    # P(≥10) = 79/4096 ≈ 0.019
    assert tol.sign_critical(3, 0.05) == 4      # unreachable with 3 seeds
    out = D._sign_test(5, 6, 0.05, "x")
    assert not out.passed
