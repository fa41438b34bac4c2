"""The kernel, two-layer and edge-of-stability checks pass, and fail on wrong dynamics."""

from __future__ import annotations

import pytest

import theory
from numerics import namespace_name
from verify import check_ids, run_check

IDS = [i for i in check_ids() if i.split(".")[0] in ("kernels", "two_layer")] + [
    "stability.edge_of_stability"]
FAST = ["kernels.arccos1_gaussian", "kernels.arccos1_sphere", "two_layer.population_loss",
        "two_layer.population_gradient", "two_layer.time_scales"]


def test_every_result_has_a_check() -> None:
    assert [i for i in IDS if not i.startswith("stability")] == theory.ids("kernels") + theory.ids("two_layer")


@pytest.mark.parametrize("cid", IDS)
def test_check_passes_on_numpy(cid: str) -> None:
    rep = run_check(cid, backend="numpy", examples=2)  # `implreg verify` runs the full default
    assert rep.passed, rep.explain()


@pytest.mark.parametrize("cid", FAST)
def test_check_passes_on_array_api_strict(cid: str) -> None:
    rep = run_check(cid, backend="array_api_strict", examples=1)
    assert rep.passed, rep.explain()


def test_kernel_check_catches_the_seed_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's eq. 15 without 1/(2π): the Monte Carlo comparison must fail."""
    import verify.checks.kernels as mod

    real = mod.arccos_kernel
    monkeypatch.setattr(mod, "arccos_kernel", lambda U, W, **kw: real(U, W, **kw) * 2 * 3.141592653589793)
    assert not run_check("kernels.arccos1_gaussian", examples=2).passed


def test_gradient_check_catches_a_wrong_hvp(monkeypatch: pytest.MonkeyPatch) -> None:
    from numerics.two_layer import TwoLayerPopulation

    real = TwoLayerPopulation.hvp
    monkeypatch.setattr(TwoLayerPopulation, "hvp", lambda self, th, v: 1.01 * real(self, th, v))
    assert not run_check("two_layer.population_gradient", examples=2).passed


def test_rf_limit_fails_under_mean_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mean-field scaling with a = 0 keeps B frozen far less as m grows: the exponent check fails."""
    import verify.checks.two_layer as mod

    real = mod._rf_run
    monkeypatch.setattr(mod, "_rf_run", lambda p, xp, m, **kw: real(p, xp, m, scaling="mean_field", **kw))
    assert not run_check("two_layer.rf_limit").passed


def test_edge_of_stability_fails_for_a_wrong_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Comparing the final sharpness with 1/η instead of 2/η must fail: the minima GD reaches
    at the larger steps sit between 1/η and 2/η."""
    import verify.checks.two_layer as mod

    real = mod._eos_runs

    def halve(p, xp):
        out = real(p, xp)
        for r in out:
            r["eta"] = 2 * r["eta"]
        return out

    monkeypatch.setattr(mod, "_eos_runs", halve)
    assert not run_check("stability.edge_of_stability").passed
