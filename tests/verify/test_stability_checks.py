"""The stability, sgd_noise and sharpness checks pass on every backend, and fail when the
dynamics or the formulas are wrong."""

from __future__ import annotations

import pytest

import numerics.optim
import theory
from numerics import namespace_name
from verify import check_ids, run_check

IDS = [i for i in check_ids() if i.split(".")[0] in ("stability", "sharpness", "sgd_noise")]
OWN = [i for i in IDS if i != "stability.edge_of_stability"]
EXAMPLES = {"numpy": 3, "array_api_strict": 1}


def test_every_result_has_a_check() -> None:
    want = [i for i in [*theory.ids("stability"), *theory.ids("sgd_noise"), *theory.ids("sharpness")]
            if i != "stability.edge_of_stability"]
    assert sorted(OWN) == sorted(want)


@pytest.mark.parametrize("cid", OWN)
def test_check_passes(cid: str, xp) -> None:
    rep = run_check(cid, backend=xp, examples=EXAMPLES.get(namespace_name(xp), 1))
    assert rep.passed, rep.explain()


class _WithReplacement(numerics.optim.SGD):
    """SGD that silently samples with replacement: factor 1/B instead of (n−B)/(B(n−1))."""

    def __init__(self, eta, batch=1, replace=False, metric=None):
        super().__init__(eta, batch=batch, replace=True, metric=metric)


def test_moments_check_catches_sampling_with_replacement(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.stability as mod

    monkeypatch.setattr(mod, "SGD", _WithReplacement)
    # n = 4, B = 3: factor 1/9 without replacement vs 1/3 with; large s·η makes it visible.
    out = mod.check_sgd_1d_moments({"n": 4, "B": 3, "eta_frac": 1.0, "t": 4, "R": 20000, "seed": 3},
                                   numerics.get_namespace("numpy"))
    assert not out.passed


def test_covariance_check_catches_sampling_with_replacement() -> None:
    import verify.checks.stability as mod

    p = {"n": 6, "B": 4, "p": 3, "R": 20000, "seed": 1}
    xp = numerics.get_namespace("numpy")
    assert mod.check_noise_covariance(p, xp).passed
    assert not mod.check_noise_covariance(p, xp, replace=True).passed


class _LongStepGD(numerics.optim.GD):
    def step(self, model, x, state, rng):
        return x - 1.02 * self.eta * model.grad(x), state


def test_gd_threshold_check_catches_a_wrong_step(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.stability as mod

    monkeypatch.setattr(mod, "GD", _LongStepGD)
    assert not run_check("stability.gd_threshold", examples=3).passed


def test_exact_threshold_check_catches_a_wrong_moment_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second-moment map with the single-sample factor (c = 1 instead of (n−B)/(B(n−1)))
    predicts the wrong ρ^t for the simulated ensemble."""
    import verify.checks.stability as mod

    real = mod.second_moment_map
    monkeypatch.setattr(mod, "second_moment_map", lambda H, eta, B: real(H, eta, 1))
    p = {"n": 5, "B": 3, "p": 2, "commuting": False, "delta": 0.3, "R": 4000, "seed": 0}
    xp = numerics.get_namespace("numpy")
    monkeypatch.undo()
    assert mod.check_sgd_exact_threshold(p, xp).passed
    monkeypatch.setattr(mod, "second_moment_map", lambda H, eta, B: real(H, eta, 1))
    assert not mod.check_sgd_exact_threshold(p, xp).passed


def test_escape_check_catches_gd_instead_of_sgd(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.stability as mod

    monkeypatch.setattr(mod, "SGD", lambda eta, batch=1: numerics.optim.GD(eta))
    assert not run_check("stability.sgd_escape_example").passed


def test_flatness_check_catches_a_wrong_radius(monkeypatch: pytest.MonkeyPatch) -> None:
    import numerics.sharpness as ns
    import verify.checks.sharpness as mod

    def half(*args, **kw):
        est = ns.flatness_radius(*args, **kw)
        return ns.FlatnessEstimate(value=est.value, radii=1.01 * est.radii, capped=est.capped,
                                   directions=est.directions)

    monkeypatch.setattr(mod, "flatness_radius", half)
    assert not run_check("sharpness.flatness_radius", examples=2).passed
