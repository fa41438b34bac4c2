"""Shared fixtures: the array backends every numeric test runs on, Hypothesis profiles,
and one closeness assertion that checks namespace, shape and dtype before values."""

from __future__ import annotations

import os
from typing import Any

import array_api_compat
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Hypothesis: `ci` is derandomized (failures reproduce) with a bounded number of examples;
# `thorough` searches longer. CI=true selects `ci`; HYPOTHESIS_PROFILE overrides.
settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=25, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile("dev", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.differing_executors])
settings.register_profile("thorough", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.differing_executors])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

BACKENDS = ["numpy", "array_api_strict", "torch", "cupy"]


@pytest.fixture(params=BACKENDS, scope="session")
def xp(request: pytest.FixtureRequest) -> Any:
    """Every available array namespace: NumPy and array_api_strict always; torch and CuPy
    when installed (CuPy only with a CUDA device)."""
    mod = pytest.importorskip(request.param)
    if request.param == "cupy" and mod.cuda.runtime.getDeviceCount() == 0:
        pytest.skip("CuPy needs a CUDA device")
    if request.param == "torch":
        mod.set_default_dtype(mod.float64)
    if request.param == "array_api_strict":
        return mod
    return array_api_compat.array_namespace(mod.empty(0))


def to_np(x: Any) -> np.ndarray:
    from numerics.backend import to_numpy

    return to_numpy(x)


def assert_close(actual: Any, desired: Any, *, rtol: float, atol: float = 0.0,
                 xp: Any = None) -> None:
    """Like SciPy's ``xp_assert_close``: same namespace (if ``xp`` given), shape and dtype
    kind, then values within ``atol + rtol·|desired|``."""
    if xp is not None and hasattr(actual, "shape"):
        got = array_api_compat.array_namespace(actual)
        assert got.__name__.split(".")[-1] == xp.__name__.split(".")[-1] or got is xp, (
            f"result in namespace {got.__name__}, expected {xp.__name__}")
    a, d = to_np(actual), np.asarray(to_np(desired))
    assert a.shape == d.shape, f"shape {a.shape} != {d.shape}"
    np.testing.assert_allclose(a, d, rtol=rtol, atol=atol)
