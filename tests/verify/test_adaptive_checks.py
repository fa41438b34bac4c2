"""The adaptive and classification checks pass on every backend and fail on wrong dynamics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import numerics.adaptive
import numerics.optim
import theory
from numerics import namespace_name
from numerics.classification import MaxMargin
from verify import check_ids, run_check

IDS = [i for i in check_ids() if i.split(".")[0] in ("adaptive", "classification")]

# array_api_strict validates every operation in Python (~10x slower): one example there.
EXAMPLES = {"numpy": None, "array_api_strict": 1}


def test_every_result_has_a_check() -> None:
    assert IDS == theory.ids("classification") + theory.ids("adaptive")


@pytest.mark.parametrize("cid", IDS)
def test_check_passes(cid: str, xp) -> None:
    rep = run_check(cid, backend=xp, examples=EXAMPLES.get(namespace_name(xp), 1))
    assert rep.passed, rep.explain()
    assert rep.examples >= 1


@dataclass(frozen=True)
class _UncorrectedAdam(numerics.adaptive.Adam):
    """Adam without the bias correction (the moments stay biased towards zero)."""

    def step(self, model: Any, x: Any, state: Any, rng: Any) -> tuple[Any, Any]:
        g = model.grad(x)
        m = self.beta_m * state.m + (1 - self.beta_m) * g
        v = self.beta_v * state.v + (1 - self.beta_v) * g * g
        xp = numerics.adaptive.array_namespace(x)
        return x - self.eta * m / (xp.sqrt(v) + self.eps), type(state)(m, v, state.count + 1)


@dataclass(frozen=True)
class _IsotropicAdam(numerics.adaptive.Adam):
    """Adam with a scalar metric H_k = c_k I (the mean of v over coordinates): its steps stay
    in R(Aᵀ), so it reaches the min-norm point and the norm claim must fail."""

    def step(self, model: Any, x: Any, state: Any, rng: Any) -> tuple[Any, Any]:
        xp = numerics.adaptive.array_namespace(x)
        g = model.grad(x)
        k = state.count + 1
        m = self.beta_m * state.m + (1 - self.beta_m) * g
        v = self.beta_v * state.v + (1 - self.beta_v) * g * g
        vbar = xp.mean(v, axis=-1, keepdims=True) + 0.0 * v
        h = xp.sqrt(vbar / (1 - self.beta_v**k)) + self.eps
        return x - self.eta * (m / (1 - self.beta_m**k)) / h, type(state)(m, v, k)


def test_adam_update_check_catches_a_missing_bias_correction(monkeypatch) -> None:
    import verify.checks.adaptive as mod

    monkeypatch.setattr(mod, "Adam", _UncorrectedAdam)
    rep = run_check("adaptive.adam_update", examples=5)
    assert not rep.passed and rep.counterexample is not None


def test_norm_check_fails_for_an_isotropic_metric(monkeypatch) -> None:
    import verify.checks.adaptive as mod

    monkeypatch.setattr(mod, "Adam", _IsotropicAdam)
    rep = run_check("adaptive.adam_vs_sgd_norm", examples=6)
    assert not rep.passed
    assert "‖x_Adam‖ − ‖A⁺y‖" in rep.outcome.quantity


def test_metric_view_check_catches_the_metric_used_the_wrong_way(monkeypatch) -> None:
    """x ← x − ηHg (H instead of H⁻¹) is not GD on f∘H^{−1/2}."""
    import verify.checks.adaptive as mod

    class WrongWay(numerics.optim.GD):
        def step(self, model, x, state, rng):
            if self.metric is None:
                return super().step(model, x, state, rng)
            return x - self.eta * numerics.optim.apply_metric(model.grad(x), self.metric), state

    monkeypatch.setattr(mod, "GD", WrongWay)
    rep = run_check("adaptive.metric_view", examples=4)
    assert not rep.passed


def test_max_margin_check_catches_a_wrong_svm(monkeypatch) -> None:
    """A max-margin vector rotated by 2 degrees must be rejected."""
    import verify.checks.classification as mod

    real = mod.max_margin

    def rotated(X, y):
        mm = real(X, y)
        th = np.asarray(mm.theta)
        c, s = np.cos(0.035), np.sin(0.035)
        th = th.copy()
        th[0], th[1] = c * th[0] - s * th[1], s * th[0] + c * th[1]
        return MaxMargin(theta=th, alpha=mm.alpha, margin=mm.margin, support=mm.support,
                         kkt_residual=mm.kkt_residual)

    monkeypatch.setattr(mod, "max_margin", rotated)
    rep = run_check("classification.max_margin", examples=3)
    assert not rep.passed


def test_max_margin_check_catches_a_wrong_step(monkeypatch) -> None:
    """GD whose step is twice the stated η shifts the offset w̃ by log 2 along the
    support vectors: the intercept of ûᵀθ_k disagrees with ηe^{−z_sᵀw̃} = α_s."""
    import verify.checks.classification as mod

    class DoubleGD(numerics.optim.GD):
        def step(self, model, x, state, rng):
            return x - 2.0 * self.eta * model.grad(x), state

    monkeypatch.setattr(mod, "GD", DoubleGD)
    rep = run_check("classification.max_margin", examples=3)
    assert not rep.passed
