"""The adaptive and classification checks pass on every backend and fail on wrong dynamics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dataclasses

import numpy as np
import pytest
import sympy as sp

import numerics.adaptive
import numerics.optim
import theory
from numerics import namespace_name
from numerics.classification import MaxMargin
from verify import check_ids, run_check

IDS = [i for i in check_ids() if i.split(".")[0] in ("adaptive", "classification")]

# array_api_strict validates every operation in Python (~10x slower): one example there.
EXAMPLES = {"numpy": None, "array_api_strict": 1}


def _matrix_numeric() -> bool:
    try:
        theory.get("adaptive.metric_view").numeric()
    except TypeError:  # the array printer does not evaluate matrix expressions yet
        return False
    return True


needs_matrices = pytest.mark.skipif(not _matrix_numeric(),
                                    reason="numeric() of matrix expressions is not available")


def _with(cid: str, part: str, expr: Any) -> Any:
    r = theory.get(cid)
    if part == "statement":
        return dataclasses.replace(r, statement=expr)
    return dataclasses.replace(r, parts={**r.parts, part: expr})


def _s(cid: str, name: str) -> Any:
    return {x.name: x for x in theory.get(cid).symbols}[name]


def test_every_result_has_a_check() -> None:
    assert IDS == theory.ids("classification") + theory.ids("adaptive")


@pytest.mark.parametrize("cid", IDS)
def test_check_passes(cid: str, xp) -> None:
    if cid == "adaptive.metric_view" and not _matrix_numeric():
        pytest.skip("numeric() of matrix expressions is not available")
    rep = run_check(cid, backend=xp, examples=EXAMPLES.get(namespace_name(xp), 1))
    assert rep.passed, rep.explain()
    assert rep.examples >= 1
    if cid.startswith("adaptive."):
        assert rep.uncertified == [], rep.explain()


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
    assert "statement holds" in rep.outcome.quantity


K_ = "k"


@pytest.mark.parametrize("part", ["statement", "step", "metric"])
def test_adam_update_rejects_a_bias_correction_index_off_by_one(part: str) -> None:
    """β^k → β^{k+1} in the corrections (1 − b_m^k) or (1 − b_v^k)."""
    r = theory.get("adaptive.adam_update")
    k = _s("adaptive.adam_update", K_)
    obj = r.statement if part == "statement" else r.parts[part]
    for b in ("b_m", "b_v"):
        bb = _s("adaptive.adam_update", b)
        wrong = obj.xreplace({bb**k: bb ** (k + 1)})
        if wrong == obj:
            continue
        rep = run_check("adaptive.adam_update", result=_with("adaptive.adam_update", part, wrong),
                        shrink=False)
        assert not rep.passed, (part, b)


@pytest.mark.parametrize("part", ["statement", "step", "metric", "rmsprop_step", "rmsprop_metric"])
def test_adam_update_rejects_a_missing_epsilon(part: str) -> None:
    r = theory.get("adaptive.adam_update")
    obj = r.statement if part == "statement" else r.parts[part]
    wrong = obj.xreplace({_s("adaptive.adam_update", "epsilon"): sp.Integer(0)})
    rep = run_check("adaptive.adam_update", result=_with("adaptive.adam_update", part, wrong),
                    shrink=False)
    assert not rep.passed, part


def test_adam_update_tolerance_is_the_derived_rounding_width() -> None:
    """Every comparison uses 10·(K + 20)·ε/(1 − max β) (relative); a 10× wider tolerance
    would not be this width."""
    rep = run_check("adaptive.adam_update", examples=3)
    assert rep.passed
    for o in rep.outcomes:
        assert 0 < o.tolerance < 1e-10
    # a metric 1e-9 off in ε is far beyond it and is rejected
    eps = _s("adaptive.adam_update", "epsilon")
    m = theory.get("adaptive.adam_update").parts["metric"]
    wrong = m.xreplace({eps: eps * (1 + sp.Rational(1, 10**9))})
    assert not run_check("adaptive.adam_update", result=_with("adaptive.adam_update", "metric", wrong),
                         shrink=False).passed


def test_norm_check_rejects_a_wrong_pythagoras() -> None:
    na, nm, nn = (_s("adaptive.adam_vs_sgd_norm", k) for k in ("norm_adam", "norm_min", "norm_null"))
    for wrong in (sp.Eq(na, nm + nn), sp.Eq(na, sp.sqrt(nm**2 + 2 * nn**2)), sp.Eq(na, nm)):
        rep = run_check("adaptive.adam_vs_sgd_norm",
                        result=_with("adaptive.adam_vs_sgd_norm", "pythagoras", wrong), shrink=False)
        assert not rep.passed, wrong
    rep = run_check("adaptive.adam_vs_sgd_norm",
                    result=_with("adaptive.adam_vs_sgd_norm", "statement", sp.Lt(na, nm)), shrink=False)
    assert not rep.passed


@needs_matrices
def test_metric_view_rejects_swapped_metric_powers() -> None:
    """H⁻¹ → H in the step; H^{−1/2} → H^{1/2} in the Hessian or the gradient; 2 → 2.2 or
    1.8 in the step limit."""
    r = theory.get("adaptive.metric_view")
    H = next(m for m in r.statement.atoms(sp.MatrixSymbol) if m.name == "H")
    stmt = r.statement
    cases = [("statement", stmt.xreplace({H.I: H}))]
    for part in ("hessian", "reparametrized_gradient"):
        e = r.parts[part]
        cases.append((part, e.xreplace({sp.MatPow(H, sp.Rational(-1, 2)): sp.MatPow(H, sp.Rational(1, 2))})))
    lam = _s("adaptive.metric_view", "lambda_max_H")
    cases += [("step_limit", sp.Rational(22, 10) / lam), ("step_limit", sp.Rational(18, 10) / lam)]
    for part, wrong in cases:
        rep = run_check("adaptive.metric_view", result=_with("adaptive.metric_view", part, wrong),
                        examples=3, shrink=False)
        assert not rep.passed, (part, wrong)


@needs_matrices
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
