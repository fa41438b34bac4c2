"""The MLP's hand-derived derivatives against central finite differences, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace

from numerics.mlp import MLP
from tests.conftest import assert_close, to_np


def _model(xp, widths=(4, 3), replicas=None, seed=0):
    rng = np.random.default_rng(seed)
    n, d, k = 6, 5, 3
    X = xp.asarray(rng.standard_normal((n, d)))
    Y = rng.standard_normal((n, k) if replicas is None else (replicas, n, k))
    return MLP(X, xp.asarray(Y), widths=widths), rng


@pytest.mark.parametrize("widths", [(4,), (4, 3)])
def test_mlp_grad_and_hvp_match_finite_differences(xp, widths):
    m, rng = _model(xp, widths)
    th = m.init(2, rng=1) + xp.asarray(0.1 * rng.standard_normal((2, m.p)))
    e = xp.asarray(rng.standard_normal((2, m.p)))
    h = 1e-6
    # Central differences: truncation O(h²·|f'''|) + rounding O(eps·|f|/h) ≈ 1e-10 here;
    # the ReLU kinks are avoided with probability one for random points.
    fd = (m.loss(th + h * e) - m.loss(th - h * e)) / (2 * h)
    assert_close(xp.sum(m.grad(th) * e, axis=-1), fd, rtol=1e-6, atol=1e-7, xp=xp)
    fdh = (m.grad(th + h * e) - m.grad(th - h * e)) / (2 * h)
    assert_close(m.hvp(th, e), fdh, rtol=1e-5, atol=1e-7, xp=xp)


def test_mlp_per_sample_quantities_average_to_full_ones(xp):
    m, rng = _model(xp, replicas=2)
    th = m.init(2, rng=3)
    v = xp.asarray(rng.standard_normal((2, m.p)))
    assert_close(xp.mean(m.per_sample_grads(th), axis=1), m.grad(th), rtol=1e-12, atol=1e-14, xp=xp)
    assert_close(xp.mean(m.per_sample_hvp(th, v), axis=1), m.hvp(th, v), rtol=1e-12, atol=1e-14, xp=xp)
    idx = xp.asarray(np.tile(np.arange(m.n), (2, 1)))
    assert_close(m.batch_grad(th, idx), m.grad(th), rtol=1e-12, atol=1e-14, xp=xp)


def test_mlp_per_sample_hvp_with_per_sample_directions(xp):
    m, rng = _model(xp)
    # Biases are zero at init, so a sample whose first-layer units are all off sits exactly
    # on a kink of the second layer; a random shift moves the point off every kink.
    th = m.init(2, rng=4) + xp.asarray(0.1 * rng.standard_normal((2, m.p)))
    V = rng.standard_normal((2, m.n, m.p))
    got = to_np(m.per_sample_hvp(th, xp.asarray(V)))
    for i in range(m.n):
        want = to_np(m.per_sample_hvp(th, xp.asarray(V[:, i])))[:, i]
        np.testing.assert_allclose(got[:, i], want, rtol=1e-12, atol=1e-13)
    # Per-sample HVP against finite differences of the per-sample gradients.
    h = 1e-6
    e = xp.asarray(V[:, 0])
    fd = (m.per_sample_grads(th + h * e) - m.per_sample_grads(th - h * e)) / (2 * h)
    assert_close(m.per_sample_hvp(th, e), fd, rtol=1e-5, atol=1e-7, xp=xp)


def test_mlp_non_uniformity_matvec_is_covariance_of_hessians():
    m, rng = _model(array_namespace(np.empty(0)), widths=(3,))
    th = m.init(1, rng=5) + 0.1 * rng.standard_normal((1, m.p))
    # Dense per-sample Hessians by finite differences of per-sample gradients.
    h = 1e-6
    H = np.stack([(m.per_sample_grads(th + h * np.eye(m.p)[j][None]) -
                   m.per_sample_grads(th - h * np.eye(m.p)[j][None]))[0] / (2 * h)
                  for j in range(m.p)], axis=-1)  # (n, p, p)
    Hm = H.mean(0)
    Sigma = np.einsum("nij,njk->ik", H, H) / m.n - Hm @ Hm
    v = rng.standard_normal((1, m.p))
    np.testing.assert_allclose(m.non_uniformity_matvec(th, v)[0], Sigma @ v[0], rtol=1e-5, atol=1e-6)


def test_mlp_pack_unpack_and_lipschitz_bound(xp):
    m, _ = _model(xp)
    th = m.init(3, rng=2, scale=2.0)
    assert_close(m.pack(m.unpack(th)), th, rtol=0, xp=xp)
    Ws = [to_np(W) for W, _ in m.unpack(th)]
    want = np.prod([np.linalg.norm(W, 2, axis=(1, 2)) for W in Ws], axis=0)
    assert_close(m.lipschitz_bound(th), want, rtol=1e-10, xp=xp)


def test_mlp_teeth_wrong_hvp_fails_finite_differences():
    m, rng = _model(array_namespace(np.empty(0)))
    th = m.init(1, rng=1) + 0.1 * rng.standard_normal((1, m.p))
    e = rng.standard_normal((1, m.p))
    h = 1e-6
    fdh = (m.grad(th + h * e) - m.grad(th - h * e)) / (2 * h)
    hv = m.hvp(th, e)
    np.testing.assert_allclose(hv, fdh, rtol=1e-5, atol=1e-7)
    # The same comparison rejects a Gauss–Newton product (residual term dropped: Y moved so
    # that the residuals are large) and a mis-scaled one.
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(2 * hv, fdh, rtol=1e-3)
    m_gn = MLP(m.X, m.Y, widths=m.widths)
    r = m_gn.residual(th)
    jvp = (m_gn.predict(th + h * e) - m_gn.predict(th - h * e)) / (2 * h)  # J e, (1, n, k)
    gn = np.stack([(m_gn.predict(th + h * u[None]) - m_gn.predict(th - h * u[None]))[0].ravel()
                   / (2 * h) for u in np.eye(m.p)], axis=-1)  # J, (n·k, p)
    gn_e = gn.T @ jvp[0].ravel() / m.n
    assert np.abs(r).max() > 0.1
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(gn_e, fdh[0], rtol=1e-3, atol=1e-6)


def test_mlp_bad_inputs_raise(xp):
    m, _ = _model(xp)
    with pytest.raises(ValueError, match=r"theta must have shape \(R, p=51\)"):
        m.loss(xp.zeros((2, 3)))
    with pytest.raises(ValueError, match="X and Y disagree"):
        MLP(xp.zeros((3, 2)), xp.zeros((4, 2)))
    with pytest.raises(ValueError, match="widths must name at least one hidden layer"):
        MLP(xp.zeros((3, 2)), xp.zeros((3, 2)), widths=())
    with pytest.raises(ValueError, match="idx must have shape"):
        m.batch_grad(m.init(2, rng=0), xp.zeros((3, 2), dtype=xp.int64))
    with pytest.raises(ValueError, match="scale must be finite and positive"):
        m.init(2, scale=-1.0)
