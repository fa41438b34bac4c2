"""The label_noise, langevin, diagonal and factorization checks pass, and fail when the
dynamics are wrong; every result of these topics derives to LaTeX; bad input is refused."""

from __future__ import annotations

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


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["langevin.basin_mass_ratio", "diagonal.implicit_bias",
                                 "factorization.nuclear_norm"])
def test_long_checks_pass_on_numpy(cid: str) -> None:
    rep = run_check(cid, examples=1)
    assert rep.passed, rep.explain()


class _ColdLangevin(numerics.langevin.Langevin):
    """Noise √(ηT) instead of √(2ηT): samples exp(−2U/T), a bug the checks must catch."""

    def step(self, model, x, state, rng):
        xi = rng.normal(tuple(x.shape), dtype=x.dtype)
        return x - self.eta * model.grad(x) + (self.eta * self.T) ** 0.5 * xi, state


def test_boltzmann_check_catches_wrong_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.langevin as mod

    from verify.registry import get_check

    xp = numerics.get_namespace("numpy")
    params = dict(get_check("langevin.boltzmann").example)
    assert mod.check_boltzmann(params, xp).passed
    monkeypatch.setattr(mod, "Langevin", _ColdLangevin)
    assert not mod.check_boltzmann(params, xp).passed


def test_sparse_recovery_fails_without_label_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    import verify.checks.label_noise as mod

    monkeypatch.setattr(mod, "LabelNoiseSGD", lambda eta, delta: LabelNoiseSGD(eta, 0.0))
    assert not run_check("label_noise.sparse_recovery").passed


def test_regularizer_check_catches_the_seed_prefactor(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the wrong series coefficient (η/8 instead of η/16) the remainder bounds fail."""
    import sympy as sp

    r = theory.get("label_noise.regularizer")
    by = {s.name: s for s in r.symbols}
    wrong = by["tr_hess"] / 4 + by["eta"] * by["tr_hess2"] / 8
    parts = dict(r.parts)
    parts["series"] = wrong
    bad = type(r)(**{**{f: getattr(r, f) for f in ("id", "title", "source", "statement", "symbols",
                                                    "conditions", "notes", "derivation", "references")},
                     "parts": parts})
    monkeypatch.setattr(theory, "get", lambda i: bad if i == r.id else theory._registry.get(i))
    import verify.checks.label_noise as mod

    monkeypatch.setattr(mod, "theory", theory)
    assert not run_check("label_noise.regularizer", examples=3).passed
    assert sp.simplify(wrong - r.parts["series"]) != 0


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
