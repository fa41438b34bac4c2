"""The compiled model satisfies numerics' protocols on NumPy and array_api_strict; the generic
model checks pass, certify every claim, and fail for a wrong gradient, a wrong Hessian and a
threshold constant off by 10 % on either side (teeth), with pinned tolerance widths."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

import theory
from numerics import GD, SGD, get_namespace, run, to_numpy
from numerics import protocols as P
from numerics.sharpness import top_eigenvalue
from theory.models import Model, worked
from verify import check_ids, run_check
from verify.checks import models as checks
from verify.models import CompiledModel

BACKENDS = ["numpy", "array_api_strict"]
IDS = [i for i in check_ids() if i.startswith("models.")]
DIAG_DATA = {"x1": [1.0, 1.0], "x2": [1.0, -1.0], "y": [1.75, 0.25]}  # the model's data set
STAR = [[1.0, 1.0, 0.0, 0.5]]


@pytest.fixture(params=BACKENDS)
def xp(request: pytest.FixtureRequest):
    return get_namespace(request.param)


def _scaled(rid: str, factor, part: str | None = None) -> theory.Result:
    """The result with its statement (or a part) times ``factor`` (an Eq keeps its lhs)."""
    r = theory.get(rid)
    if part is not None:
        return dataclasses.replace(r, parts={**r.parts, part: r.parts[part] * factor})
    s = r.statement
    new = sp.Eq(s.lhs, s.rhs * factor) if isinstance(s, sp.Equality) else s * factor
    return dataclasses.replace(r, statement=new)


def test_every_claim_of_every_worked_model_has_a_check() -> None:
    assert sorted(IDS) == sorted(theory.ids("models"))


# ---------------------------------------------------------------- the compiled model
def test_compiled_model_meets_the_protocols(xp) -> None:
    m = CompiledModel.from_model(worked("diagonal2"), DIAG_DATA, xp=xp)
    for proto in (P.Model, P.MinibatchModel, P.PerSampleModel, P.HVPModel):
        assert isinstance(m, proto)
    x = xp.asarray(np.random.default_rng(0).standard_normal((3, 4)))
    assert m.loss(x).shape == (3,) and m.grad(x).shape == (3, 4)
    assert m.per_sample_grads(x).shape == (3, 2, 4) and m.hvp(x, x).shape == (3, 4)
    g = to_numpy(m.grad(x))
    # rounding of a few dozen O(1) operations: 1e-13 is ~500 ε
    np.testing.assert_allclose(to_numpy(xp.mean(m.per_sample_grads(x), axis=1)), g, atol=1e-13)
    idx = xp.asarray([[0, 1]] * 3, dtype=xp.int64)
    np.testing.assert_allclose(to_numpy(m.batch_grad(x, idx)), g, atol=1e-13)
    # at the interpolating minimum the loss and the gradient vanish (exact data)
    assert float(to_numpy(m.loss(xp.asarray(STAR)))[0]) == 0.0
    assert np.all(to_numpy(m.grad(xp.asarray(STAR))) == 0.0)


def test_engine_rules_and_sharpness_run_unchanged(xp) -> None:
    m = CompiledModel.from_model(worked("diagonal2"), DIAG_DATA, xp=xp)
    x0 = xp.asarray(np.random.default_rng(1).standard_normal((4, 4)) * 0.5)
    gd = run(m, GD(0.05), x0, 20)
    sgd = run(m, SGD(eta=0.05, batch=1), x0, 20, rng=0)
    assert to_numpy(gd.x).shape == (4, 4) and to_numpy(sgd.x).shape == (4, 4)
    assert np.all(to_numpy(m.loss(gd.x)) < to_numpy(m.loss(x0)))
    # λ_max at the minimum is 5 (tests/theory/test_models.py derives it by hand)
    spec = top_eigenvalue(lambda v: m.hvp(xp.asarray(STAR * 2), v),
                          xp.asarray(np.random.default_rng(2).standard_normal((2, 4))))
    np.testing.assert_allclose(to_numpy(spec.value), 5.0, rtol=1e-8)  # Lanczos rtol 1e-8


def test_compiled_model_bad_data() -> None:
    with pytest.raises(ValueError, match=r"data must give \['x1', 'x2', 'y'\]; got \['x1', 'y'\]"):
        CompiledModel.from_model(worked("diagonal2"), {"x1": [1.0], "y": [1.0]})
    with pytest.raises(ValueError, match="one length"):
        CompiledModel.from_model(worked("diagonal2"), {"x1": [1.0], "x2": [1.0, 2.0], "y": [1.0]})


# ---------------------------------------------------------------- the checks
@pytest.mark.parametrize("cid", IDS)
def test_check_passes_and_certifies_every_claim(cid: str, xp) -> None:
    rep = run_check(cid, backend=xp, examples=2)
    assert rep.passed, rep
    assert not rep.uncertified


@pytest.mark.parametrize("rid", ["models.toy.gradient", "models.diagonal2.gradient"])
def test_wrong_gradient_fails(rid: str) -> None:
    assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10)), examples=3).passed
    # a relative slip of 1e-6 is still far outside the finite-difference bound
    assert not run_check(rid, result=_scaled(rid, 1 + sp.Rational(1, 10**6)), examples=3).passed


def test_wrong_hessian_and_per_sample_gradient_fail() -> None:
    for rid in ("models.diagonal2.hessian", "models.diagonal2.per_sample_gradient",
                "models.toy.gauss_newton", "models.diagonal2.label_noise_regularizer",
                "models.toy.loss"):
        assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10)), examples=3).passed, rid


@pytest.mark.parametrize("rid", ["models.toy.gd_threshold", "models.diagonal2.gd_threshold"])
@pytest.mark.parametrize("factor", [sp.Rational(11, 10), sp.Rational(10, 11)])
def test_threshold_off_by_ten_percent_fails_on_either_side(rid: str, factor) -> None:
    assert not run_check(rid, result=_scaled(rid, factor)).passed
    # A claimed η_c 10 % too large: GD at 0.96·η_c is already past 2/λ_max and grows — the
    # "below" comparison fails; 10 % too small: GD at 1.04·η_c still contracts ("above" fails).
    name = rid.split(".")[1]
    outs = checks.threshold_outcomes(worked(name), {"seed": 0}, np, _scaled(rid, factor))
    side = "below" if factor > 1 else "above"
    (o,) = [o for o in outs if side in o.quantity]
    assert not o.passed


def test_threshold_rates_and_fd_widths_pinned() -> None:
    m = worked("diagonal2")
    outs = checks.threshold_outcomes(m, {"seed": 0}, np, theory.get("models.diagonal2.gd_threshold"))
    assert all(o.passed for o in outs)
    # Linear rates 1 ∓ 2δ: observed within 1e-3 (the tolerance δ/2 = 0.02 is 20× that, and
    # a 10 % slip moves the rate by ≥ 0.11).
    rates = [o for o in outs if "per-step rate" in o.quantity]
    assert len(rates) == 2
    for o in rates:
        assert abs(o.observed - o.predicted) < 1e-3 and o.tolerance == checks.DELTA / 2
    g = checks.check_gradient(m, {"n": 3, "seed": 0}, np, theory.get("models.diagonal2.gradient"))
    assert g.passed and 1e-12 < g.tolerance < 1e-7  # ε^(2/3)-sized, not loose


def test_user_model_checks_register_and_run() -> None:
    from verify.plugins import isolated

    th, y = sp.symbols("theta y", real=True)
    m = Model("quartic", model=th**2, target=y, params=[th], data=[y], topic="mymodels",
              minimum={th: 1}, dataset={y: [sp.Rational(1, 2), sp.Rational(3, 2)]})
    with isolated():
        ids = m.register()
        assert checks.register_checks(m) == ids
        for rid in ids:
            assert run_check(rid, examples=2).passed, rid
    assert "mymodels.quartic.loss" not in theory.ids()


# ---------------------------------------------------------------- SGD threshold, PAC-Bayes, flow: teeth
@pytest.mark.parametrize("rid", ["models.diagonal2.sgd_threshold", "models.linear2.sgd_threshold"])
@pytest.mark.parametrize("factor", [sp.Rational(11, 10), sp.Rational(10, 11), 1 + sp.Rational(1, 10**6)])
def test_sgd_threshold_off_fails(rid: str, factor) -> None:
    # ρ(T_η) ≈ 1 + 2(η/η* − 1) near η*: a relative slip of 1e-6 moves ρ by ~2e-6, far above
    # the rounding tolerance (< 1e-11, pinned below)
    assert not run_check(rid, result=_scaled(rid, factor)).passed


@pytest.mark.parametrize("part", ["sharpness", "non_uniformity", "batch_factor", "sufficient_threshold"])
def test_sgd_threshold_parts_off_fail(part: str) -> None:
    rid = "models.linear2.sgd_threshold"
    assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10), part)).passed


def test_sgd_threshold_both_sides_and_width_pinned() -> None:
    outs = checks.sgd_threshold_outcomes(worked("linear2"), {"seed": 0}, np,
                                         theory.get("models.linear2.sgd_threshold"))
    assert all(o.passed for o in outs)
    (at,) = [o for o in outs if o.quantity.startswith("ρ(T_η*)")]
    assert 1e-15 < at.tolerance < 1e-11 and abs(at.observed - 1) < at.tolerance
    below = [o for o in outs if "mean-square stable" in o.quantity]
    above = [o for o in outs if "(unstable)" in o.quantity]
    assert len(below) == len(above) == 1
    # the margins are real: ρ ≈ 1 ∓ 2δ·(η dρ/dη ≈ 1)
    assert below[0].observed < 0.95 and above[0].observed > 1.05


@pytest.mark.parametrize("rid", ["models.toy.pac_bayes", "models.diagonal3.pac_bayes",
                                 "models.linear2.pac_bayes"])
def test_pac_bayes_off_fails(rid: str) -> None:
    assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10))).passed
    assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10), "trace_at_minimum")).passed
    assert not run_check(rid, result=_scaled(rid, 1 + sp.Rational(1, 10**6))).passed


@pytest.mark.parametrize("name", ["diagonal3", "linear2"])
def test_pac_bayes_tolerance_pinned(name: str) -> None:
    outs = checks.pac_bayes_outcomes(worked(name), {"seed": 0}, np, theory.get(f"models.{name}.pac_bayes"))
    assert all(o.passed for o in outs)
    # the σ² coefficient of an exact quadrature: rounding × the Vandermonde's condition / σ²,
    # under 1e-7 of the coefficient (a slip of 1e-6 is ten tolerances out)
    (c,) = [o for o in outs if o.quantity.startswith("σ² coefficient")]
    assert 0 < c.tolerance < 1e-7 * abs(c.predicted)


@pytest.mark.parametrize("rid", ["models.diagonal2.label_noise_flow", "models.linear2.label_noise_flow"])
def test_label_noise_flow_off_fails(rid: str) -> None:
    assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10))).passed
    assert not run_check(rid, result=_scaled(rid, sp.Rational(1, 2))).passed  # δ²/8 for δ²/4
    for part in ("projector", "trace_gradient", "trace_rate"):
        assert not run_check(rid, result=_scaled(rid, sp.Rational(11, 10), part)).passed, part
    # the complementary projector (normal instead of tangent) is caught
    r = theory.get(rid)
    P = r.parts["projector"]
    swapped = dataclasses.replace(r, parts={**r.parts, "projector": sp.eye(P.shape[0]) - P})
    assert not run_check(rid, result=swapped).passed


def test_linear2_runs_on_the_engine(xp) -> None:
    m = worked("linear2")
    data = {s.name: [float(v) for v in m.dataset[s]] for s in m.data}
    cm = CompiledModel.from_model(m, data, xp=xp)
    star = np.array([[float(m.minimum[q]) for q in m.params]])
    assert float(to_numpy(cm.loss(xp.asarray(star)))[0]) == 0.0
    x0 = xp.asarray(star + 0.1 * np.random.default_rng(3).standard_normal((3, 6)))
    out = run(cm, SGD(eta=0.05, batch=1), x0, 200, rng=0)
    assert np.all(to_numpy(cm.loss(out.x)) < to_numpy(cm.loss(x0)))


# ---------------------------------------------------------------- label-noise SGD along Γ
FLOW_MODELS = ["diagonal2", "diagonal3", "linear2"]


def _worked_data(name: str) -> dict[str, list[float]]:
    m = worked(name)
    return {s.name: [float(v) for v in m.dataset[s]] for s in m.data}


@pytest.mark.parametrize("name", ["diagonal2", "linear2"])
def test_compiled_model_is_a_label_noise_and_manifold_model(name: str, xp) -> None:
    m = worked(name)
    cm = CompiledModel.from_model(m, _worked_data(name), xp=xp)
    assert isinstance(cm, P.LabelNoiseModel) and isinstance(cm, P.ManifoldModel)
    assert cm.target == "y"
    p = len(m.params)
    star = np.array([[float(m.minimum[q]) for q in m.params]])
    assert np.all(to_numpy(cm.residual(xp.asarray(star))) == 0.0)  # exact data on Γ
    rng = np.random.default_rng(4)
    x = star + 0.3 * rng.standard_normal((3, p))
    J = to_numpy(cm.jacobian(xp.asarray(x)))
    assert J.shape == (3, 2, p)
    # J against central differences of the residual (f is a polynomial of degree ≤ 3 in each
    # coordinate: truncation (h²/6)|∂³f| ≤ h²·|x|·max|θ| ~ 1e-10 at h = 1e-5, rounding ε/h ~ 1e-11)
    h = 1e-5
    for k in range(p):
        e = np.zeros(p)
        e[k] = h
        fd = (to_numpy(cm.residual(xp.asarray(x + e))) - to_numpy(cm.residual(xp.asarray(x - e)))) / (2 * h)
        np.testing.assert_allclose(J[:, :, k], fd, atol=1e-8)
    # Tr ∇²L: the trace of the compiled Hessian, and Gauss–Newton's (1/n)Σ‖∇f_i‖² on Γ
    np.testing.assert_allclose(to_numpy(cm.hessian_trace(xp.asarray(x))),
                               np.trace(to_numpy(cm.hessian(xp.asarray(x))), axis1=1, axis2=2), rtol=1e-14)
    Js = to_numpy(cm.jacobian(xp.asarray(star)))[0]
    np.testing.assert_allclose(to_numpy(cm.hessian_trace(xp.asarray(star)))[0],
                               float(np.sum(Js * Js)) / 2, rtol=1e-14)
    # ℓ = ½(f − y − ε)²: ∇ = ∇ℓ − ε∇f, so the shifted batch gradient is the plain one minus
    # the batch mean of ε_i ∇f_i (rounding of a few dozen operations: 1e-13)
    idx = np.array([[0], [1], [1]])
    eps = np.array([[0.5], [-0.5], [0.5]])
    shifted = to_numpy(cm.batch_grad(xp.asarray(x), xp.asarray(idx), target_shift=xp.asarray(eps)))
    plain = to_numpy(cm.batch_grad(xp.asarray(x), xp.asarray(idx)))
    want = plain - eps * J[np.arange(3), idx[:, 0], :]
    np.testing.assert_allclose(shifted, want, atol=1e-13)


def test_compiled_model_target_errors() -> None:
    m = worked("diagonal2")
    r = {c: theory.get(m.id(c)) for c in ("loss", "gradient", "hessian", "per_sample_gradient")}
    cm = CompiledModel([q.name for q in m.params], _worked_data("diagonal2"), r, xp=np)
    x, idx = np.zeros((1, 4)), np.zeros((1, 1), dtype=int)
    with pytest.raises(ValueError, match="target_shift needs a model with a target"):
        cm.batch_grad(x, idx, target_shift=np.zeros((1, 1)))
    with pytest.raises(ValueError, match="residual needs a model given as f"):
        cm.residual(x)
    with pytest.raises(ValueError, match=r"target must be one of the data columns \['x1', 'x2', 'y'\]; got 'z'"):
        CompiledModel([q.name for q in m.params], _worked_data("diagonal2"), r, xp=np, target="z")
    full = CompiledModel.from_model(m, _worked_data("diagonal2"))
    with pytest.raises(ValueError, match=r"target_shift must have the batch's shape \(1, 1\); got \(1, 2\)"):
        full.batch_grad(x, idx, target_shift=np.zeros((1, 2)))


def _wrong_drifts(rid: str) -> dict[str, theory.Result]:
    """The drift ×11/10, ×10/11, with δ²/8 for δ²/4, with its sign flipped, and with the
    normal projector I − P_Γ in place of the tangent one."""
    r = theory.get(rid)
    delta = next(s for s in r.statement.free_symbols if s.name == "delta")
    Pn = sp.eye(r.parts["projector"].shape[0]) - r.parts["projector"]
    normal = sp.ImmutableMatrix(-(delta**2 / 4) * Pn * r.parts["trace_gradient"])
    return {"x11/10": _scaled(rid, sp.Rational(11, 10)), "x10/11": _scaled(rid, sp.Rational(10, 11)),
            "delta^2/8": _scaled(rid, sp.Rational(1, 2)), "sign": _scaled(rid, -1),
            "normal projector": dataclasses.replace(r, statement=normal)}


@pytest.mark.parametrize("name", FLOW_MODELS)
def test_label_noise_flow_simulation_catches_wrong_drifts(name: str) -> None:
    rid = f"models.{name}.label_noise_flow"
    right = checks.flow_simulation_outcomes(worked(name), {"seed": 0}, np, theory.get(rid))
    assert right and all(o.passed for o in right)
    for what, wrong in _wrong_drifts(rid).items():
        sim = checks.flow_simulation_outcomes(worked(name), {"seed": 0}, np, wrong)
        assert not all(o.passed for o in sim), f"{name}: the simulation misses a drift {what}"
        # and the whole check fails through label_noise_flow_outcomes
        assert not all(o.passed for o in checks.label_noise_flow_outcomes(worked(name), {"seed": 0}, np, wrong))


@pytest.mark.parametrize("name", FLOW_MODELS)
def test_label_noise_flow_simulation_widths_pinned(name: str) -> None:
    rid = f"models.{name}.label_noise_flow"
    outs = checks.flow_simulation_outcomes(worked(name), {"seed": 0}, np, theory.get(rid))
    (along,) = [o for o in outs if "along the compiled flow" in o.quantity]
    rel = along.tolerance / abs(along.predicted)
    # The drift's own component: the t-interval, the extrapolation's remainder and the
    # curvature remainder add to 2–4 % of the drift (measured 2.4, 3.4, 3.9 %) — under the
    # 10 % of a ×11/10 slip, and not wider tenfold (which would pass it).
    assert 0.01 < rel < 0.05, rel
    # The subtracted second-order term (τ/2)qᵀY''(0) is at most (τ/2)‖Y''(0)‖, which τ sets
    # to FLOW_CURVATURE·‖Y'(0)‖ (×1.1: τ = 16η²k₄ rounds k₄ ≥ 14 to an integer, ≤ 4 %); what
    # remains of the curvature, τ|qᵀΔY''| = O(τ²), is below it.
    bound = checks.FLOW_CURVATURE * abs(along.predicted)
    assert abs(along.details["second_order"]) <= 1.1 * bound
    assert along.details["curvature"] < bound
    # the extrapolation removed the O(η) bias: the run at η is farther from the claim than A
    assert abs(along.details["means"][0] - along.predicted) > abs(along.observed - along.predicted)
