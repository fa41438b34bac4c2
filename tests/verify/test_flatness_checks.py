"""The label_noise, langevin, diagonal and factorization checks pass, and fail when the
dynamics are wrong; every result of these topics derives to LaTeX; bad input is refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import numerics
import numerics.langevin
import theory
from numerics import namespace_name, to_numpy
from numerics.diagonal import DiagonalNet, diagonal_init, q_potential
from numerics.factorization import MatrixSensing
from numerics.label_noise import LabelNoiseSGD
from numerics.langevin import Langevin, TwoWellPotential
from verify import check_ids, run_check

TOPICS = ("label_noise", "langevin", "diagonal", "factorization")
IDS = [i for t in TOPICS for i in theory.ids(t)]
# The cheap checks run on every backend; the long simulations on NumPy only here (the CLI
# runs them all on array_api_strict, see the report).
CHEAP = ["label_noise.gauss_newton_trace", "label_noise.quadratic_model_trace",
         "label_noise.regularizer", "langevin.boltzmann"]


@pytest.mark.parametrize("rid", IDS)
def test_every_result_derives_to_latex_and_has_a_check(rid: str) -> None:
    r = theory.get(rid)
    assert r.latex().strip() and r.source and r.title
    assert rid in check_ids()


def test_regularizer_notes_the_seed_sign_and_prefactor() -> None:
    r = theory.get("label_noise.regularizer")
    assert "−1/(2η)" in r.notes and "1/2n" in r.notes
    assert theory.get("diagonal.implicit_bias").latex() == (
        r"q(z) = z \operatorname{asinh}{\left(\frac{z}{2} \right)} - \sqrt{z^{2} + 4} + 2")


@pytest.mark.parametrize("cid", CHEAP)
def test_cheap_checks_pass_on_every_backend(cid: str, xp) -> None:
    rep = run_check(cid, backend=xp, examples=1 if namespace_name(xp) != "numpy" else None)
    assert rep.passed, rep.explain()


class _ColdLangevin(numerics.langevin.Langevin):
    """Noise √(ηT) instead of √(2ηT): samples exp(−2U/T), a bug the checks must catch."""

    def step(self, model, x, state, rng):
        xi = rng.normal(tuple(x.shape), dtype=x.dtype)
        return x - self.eta * model.grad(x) + (self.eta * self.T) ** 0.5 * xi, state


def test_boltzmann_check_catches_wrong_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.langevin as mod

    assert run_check("langevin.boltzmann", examples=1).passed
    monkeypatch.setattr(mod, "Langevin", _ColdLangevin)
    rep = run_check("langevin.boltzmann", examples=1, shrink=False)
    assert not rep.passed
    assert "E U" in rep.outcome.quantity or "KS" in rep.outcome.quantity


def _replaced(rid: str, claim: str, fn) -> theory.Result:
    r = theory.get(rid)
    if claim == "statement":
        return dataclasses.replace(r, statement=fn(r.statement))
    parts = dict(r.parts)
    parts[claim] = fn(parts[claim])
    return dataclasses.replace(r, parts=parts)


def _scaled(factor):
    import sympy as sp

    def f(obj):
        if isinstance(obj, sp.Equality):
            return sp.Eq(obj.lhs, obj.rhs * factor)
        return obj * factor
    return f


@pytest.mark.parametrize("rid,claim,factor", [
    ("label_noise.gauss_newton_trace", "statement", 1.1),
    ("label_noise.quadratic_model_trace", "statement", 1.1),
    ("label_noise.regularizer", "statement", 1.1),
    ("label_noise.regularizer", "series", 1.1),
    ("label_noise.regularizer", "remainder_first", 0.5),
    ("label_noise.regularizer", "remainder_bound", 2.0),
    ("langevin.boltzmann", "statement", 1.1),
    ("diagonal.implicit_bias", "Q_coordinate", 1.1),
    ("diagonal.implicit_bias", "conjugate", 1.1),
    ("diagonal.scale_limits", "small_alpha", 1.1),
    ("diagonal.scale_limits", "large_alpha", 1.1),
    ("factorization.nuclear_norm", "statement", 1.1),
])
def test_a_claim_ten_percent_off_fails(rid: str, claim: str, factor: float) -> None:
    bad = _replaced(rid, claim, _scaled(factor))
    rep = run_check(rid, result=bad, examples=3, shrink=False)
    assert not rep.passed, rep.explain()


def test_regularizer_seed_prefactor_and_coefficients_are_pinned() -> None:
    """−1/(2η) → 1/(2n)-like slips: the series coefficient η/8 for η/16, ¼ → 1/2."""
    import sympy as sp

    r = theory.get("label_noise.regularizer")
    by = {s.name: s for s in r.symbols}
    for wrong in (by["tr_hess"] / 4 + by["eta"] * by["tr_hess2"] / 8,
                  by["tr_hess"] / 2 + by["eta"] * by["tr_hess2"] / 16):
        bad = _replaced(r.id, "series", lambda _e, w=wrong: w)
        assert not run_check(r.id, result=bad, examples=3, shrink=False).passed
    # the prefactor −1/(2η) of the statement halved
    bad = _replaced(r.id, "statement", lambda e: sp.Eq(e.lhs, e.rhs / 2))
    assert not run_check(r.id, result=bad, examples=2, shrink=False).passed


def test_limiting_flow_pins_delta_squared_over_four() -> None:
    """A flow of R instead of R/2 (δ²/2), and 1.1·δ²/4, fail; the tolerance is far below the
    drop it must resolve (pinned: 10× looser would pass the 1.1 mutant)."""
    import sympy as sp

    rep = run_check("label_noise.limiting_flow")
    assert rep.passed, rep.explain()
    o = rep.outcomes[0]
    drop = o.details.get("drop")
    assert drop is not None and 0.5 < drop
    assert o.tolerance < 0.05 * drop   # 10× looser (> 0.1·drop·…) would not resolve 1.1
    for factor in (2, sp.Rational(11, 10)):
        bad = _replaced("label_noise.limiting_flow", "statement",
                        lambda e, f=factor: sp.Eq(e.lhs, f * e.rhs))
        assert not run_check("label_noise.limiting_flow", result=bad, shrink=False).passed


def test_basin_ratio_distinguishes_k_to_the_d_half() -> None:
    import sympy as sp

    r = theory.get("langevin.basin_mass_ratio")
    k, d = (next(s for s in r.symbols if s.name == n) for n in ("k", "d"))
    bad = dataclasses.replace(r, statement=sp.Eq(r.statement.lhs, k ** (d / 2)))
    assert not run_check(r.id, result=bad, shrink=False).passed
    rep = run_check(r.id)
    assert rep.passed, rep.explain()


def test_boltzmann_temperature_is_pinned() -> None:
    """The energy t-test is ≈ 4 % wide: a 10 % temperature error in the claim fails."""
    import sympy as sp

    r = theory.get("langevin.boltzmann")
    T = next(s for s in r.symbols if s.name == "T")
    hot = dataclasses.replace(r, statement=r.statement.xreplace({T: sp.Rational(11, 10) * T}))
    assert not run_check(r.id, result=hot, examples=1, shrink=False).passed
    cold = dataclasses.replace(r, statement=r.statement.xreplace({T: sp.Rational(10, 11) * T}))
    assert not run_check(r.id, result=cold, examples=1, shrink=False).passed
    rep = run_check(r.id, examples=1)
    energy = [o for o in rep.outcomes[0:1]]
    assert rep.passed and energy


def test_sparse_recovery_fails_without_label_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.label_noise as mod

    monkeypatch.setattr(mod, "LabelNoiseSGD", lambda eta, delta: LabelNoiseSGD(eta, 0.0))
    assert not run_check("label_noise.sparse_recovery").passed


@pytest.mark.parametrize("rid", IDS)
def test_every_claim_is_certified(rid: str) -> None:
    rep = run_check(rid, examples=1)
    assert rep.passed, rep.explain()
    assert rep.uncertified == [], rep.uncertified


def test_q_potential_is_stable_against_mpmath() -> None:
    import mpmath as mp

    mp.mp.dps = 120  # the reference formula cancels ~2·log10(1/z) digits near z = 0
    for alpha in (3e-5, 1e-3, 0.7, 40.0):
        for w in (-2.5, -1e-9, 1e-12, 0.3, 1e4):
            z = mp.mpf(w) / mp.mpf(alpha) ** 2
            ref = mp.mpf(alpha) ** 2 * (2 - mp.sqrt(4 + z * z) + z * mp.asinh(z / 2))
            got = float(q_potential(np.array([w]), alpha))
            assert np.isfinite(got)
            assert abs(got - float(ref)) <= 1e-14 * abs(float(ref)) + 1e-300


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="delta .* >= 0"):
        LabelNoiseSGD(0.1, -0.5)
    with pytest.raises(ValueError, match="T \\(temperature\\) must be finite and positive"):
        Langevin(0.1, 0.0)
    with pytest.raises(ValueError, match="T \\(temperature\\)"):
        Langevin(0.1, -1.0)
    with pytest.raises(ValueError, match="alpha must be finite and positive"):
        diagonal_init(0.0, 3)
    with pytest.raises(ValueError, match="alpha must be positive"):
        diagonal_init(np.array([0.5, -1.0]), 3)
    with pytest.raises(ValueError, match="alpha must be finite and positive"):
        q_potential(np.zeros(3), -1.0)
    with pytest.raises(ValueError, match="X and y disagree"):
        DiagonalNet(np.ones((3, 4)), np.ones(2))
    with pytest.raises(ValueError, match="A and y disagree"):
        MatrixSensing(np.ones((3, 2, 2)), np.ones(4))
    with pytest.raises(ValueError, match="A must have 3 dimensions"):
        MatrixSensing(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="k \\(width ratio\\)"):
        TwoWellPotential(2, a=1.0, k=0.5)
    with pytest.raises(ValueError, match="theta must have shape"):
        DiagonalNet(np.ones((2, 3)), np.ones(2)).loss(np.ones((1, 5)))


def test_diagonal_net_hvp_and_hessian_match_finite_differences(xp) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((3, 4)), rng.standard_normal(3)
    m = DiagonalNet(xp.asarray(X), xp.asarray(y))
    th = rng.standard_normal((2, 8))
    v = rng.standard_normal((2, 8))
    h = 1e-6
    fd = (to_numpy(m.grad(xp.asarray(th + h * v))) - to_numpy(m.grad(xp.asarray(th - h * v)))) / (2 * h)
    hv = to_numpy(m.hvp(xp.asarray(th), xp.asarray(v)))
    H = to_numpy(m.hessian(xp.asarray(th)))
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.einsum("rij,rj->ri", H, v), hv, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.trace(H, axis1=1, axis2=2), to_numpy(m.hessian_trace(xp.asarray(th))),
                               rtol=1e-10)
