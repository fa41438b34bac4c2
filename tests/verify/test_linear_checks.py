"""The linear checks pass on every backend, and fail when the dynamics are wrong."""

from __future__ import annotations

import pytest

import numerics.optim
import theory
from numerics import namespace_name
from verify import check_ids, run_check

LINEAR = [i for i in check_ids() if i.startswith("linear.")]

# array_api_strict validates every operation in Python (~10x slower than NumPy); it is there
# to catch NumPy-only calls, which one or two examples do as well as ten.
EXAMPLES = {"numpy": None, "array_api_strict": 2}


def test_every_linear_result_has_a_check() -> None:
    assert LINEAR == theory.ids("linear")


@pytest.mark.parametrize("cid", LINEAR)
def test_linear_check_passes(cid: str, xp) -> None:
    name = namespace_name(xp)
    rep = run_check(cid, backend=xp, examples=EXAMPLES.get(name, 2))
    assert rep.passed, rep.explain()
    assert rep.examples >= 1


class _WrongGD(numerics.optim.GD):
    """GD whose step is 2% too long: a bug the checks must catch."""

    def step(self, model, x, state, rng):
        return x - 1.02 * self.eta * model.grad(x), state


@pytest.mark.parametrize("cid", ["linear.gd_iterate", "linear.gradient_flow"])
def test_checks_catch_a_wrong_step(cid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.linear as mod

    monkeypatch.setattr(mod, "GD", _WrongGD)
    rep = run_check(cid, examples=5)
    assert not rep.passed
    assert rep.counterexample is not None  # Hypothesis' shrunk example is reported


def test_checks_catch_a_wrong_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """If GD forgot its initial point (converged to A⁺y from every x_0), gd_limit fails."""
    import verify.checks.linear as mod

    class Forgetful(numerics.optim.GD):
        def step(self, model, x, state, rng):
            return super().step(model, 0.9 * x, state, rng)

    monkeypatch.setattr(mod, "GD", Forgetful)
    assert not run_check("linear.gd_limit", examples=3).passed


def test_report_explains_a_failure() -> None:
    from verify.outcome import Outcome
    from verify.runner import CheckReport

    rep = CheckReport(id="linear.gd_limit", passed=False,
                      outcome=Outcome.failure("diverged"), backend="numpy", seconds=0.1,
                      examples=1, counterexample={"n": 2})
    text = rep.explain()
    assert "FAILED" in text and "{'n': 2}" in text
    d = rep.to_dict()
    assert {"id", "passed", "predicted", "observed", "tolerance", "backend", "seconds"} <= set(d)
