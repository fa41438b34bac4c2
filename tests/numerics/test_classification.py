"""Logistic regression, separable data, the max-margin solver and the residual ReLU net."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics import to_numpy
from numerics.classification import (
    LogisticRegression,
    ResidualReLUNet,
    angle_to,
    check_separable,
    init_scale_experiment,
    max_margin,
    separable_data,
)


def _fd_grad(loss, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of a host function x (R, p) -> (R,)."""
    out = np.zeros_like(x)
    for j in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, j] = h
        out[:, j] = (loss(x + e) - loss(x - e)) / (2 * h)
    return out


def _data(seed=0, n=9, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], n)


def test_logistic_gradient_and_hvp_match_finite_differences(xp) -> None:
    X, y = _data()
    m = LogisticRegression(xp.asarray(X), xp.asarray(y))
    th = np.random.default_rng(1).standard_normal((2, 3))
    g = to_numpy(m.grad(xp.asarray(th)))
    fd = _fd_grad(lambda t: to_numpy(m.loss(xp.asarray(t))), th)
    # central differences: error h²·|f'''| ~ 1e-12 plus rounding eps·|f|/h ~ 1e-10
    np.testing.assert_allclose(g, fd, atol=1e-8)
    v = np.random.default_rng(2).standard_normal((2, 3))
    hv = to_numpy(m.hvp(xp.asarray(th), xp.asarray(v)))
    h = 1e-6
    fdh = (to_numpy(m.grad(xp.asarray(th + h * v))) - to_numpy(m.grad(xp.asarray(th - h * v)))) / (2 * h)
    np.testing.assert_allclose(hv, fdh, atol=1e-8)


def test_logistic_loss_is_stable_for_large_margins(xp) -> None:
    m = LogisticRegression(xp.asarray(np.array([[1.0]])), xp.asarray(np.array([1.0])))
    th = xp.asarray(np.array([[800.0], [-800.0]]))
    loss = to_numpy(m.loss(th))
    np.testing.assert_allclose(loss, [0.0, 800.0], atol=1e-300, rtol=1e-15)
    g = to_numpy(m.grad(th))
    assert np.all(np.isfinite(g)) and g[1, 0] == pytest.approx(-1.0)


def test_logistic_minibatch_and_per_sample_grads(xp) -> None:
    X, y = _data(n=6)
    m = LogisticRegression(xp.asarray(X), xp.asarray(y), reduction="mean")
    th = xp.asarray(np.random.default_rng(3).standard_normal((2, 3)))
    full = to_numpy(m.grad(th))
    idx = xp.asarray(np.tile(np.arange(6), (2, 1)))
    np.testing.assert_allclose(to_numpy(m.batch_grad(th, idx)), full, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(to_numpy(m.per_sample_grads(th)).mean(axis=1), full, rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("labels", [[1.0, 0.0, 1.0], [2.0, -1.0, 1.0], [1.0, -1.0, 0.5]])
def test_labels_must_be_plus_minus_one(labels) -> None:
    X = np.eye(3)
    with pytest.raises(ValueError, match=r"labels y must be in \{-1, \+1\}"):
        LogisticRegression(X, np.array(labels))
    with pytest.raises(ValueError, match=r"labels y must be in \{-1, \+1\}"):
        max_margin(X, np.array(labels))


def test_shape_and_reduction_errors() -> None:
    with pytest.raises(ValueError, match="X and y disagree"):
        LogisticRegression(np.eye(3), np.ones(2))
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum'"):
        LogisticRegression(np.eye(2), np.ones(2), reduction="avg")
    with pytest.raises(ValueError, match="m2 must be finite and > 1; got 1.0"):
        separable_data(2, 3, m2=1.0)


def test_non_separable_data_are_detected() -> None:
    # XOR through the origin: no linear classifier without bias separates it
    X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    with pytest.raises(ValueError, match=r"check_separable: \(X, y\) must be linearly separable through the origin"):
        check_separable(X, y)
    with pytest.raises(ValueError, match=r"check_separable: \(X, y\) must be linearly separable through the origin"):
        max_margin(X, y)
    # a point and its mirror image with the same label
    with pytest.raises(ValueError, match=r"check_separable: \(X, y\) must be linearly separable through the origin"):
        max_margin(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, 1.0]))


@pytest.mark.parametrize("d", [1, 2, 4])
def test_separable_data_satisfy_the_kkt_conditions(d: int) -> None:
    D = separable_data(d, 7, margin=0.7, m2=2.5, rng=d)
    X, y, th, a = (np.asarray(v) for v in (D.X, D.y, D.theta_hat, D.alpha))
    Z = y[:, None] * X
    np.testing.assert_allclose(Z.T @ a, th, rtol=1e-12, atol=1e-12)          # stationarity
    np.testing.assert_allclose(Z[:d] @ th, 1.0, rtol=1e-12)                   # active
    assert np.all(Z[d:] @ th >= 2.5 - 1e-12)                                    # beyond m2
    assert np.all(a[:d] > 0) and np.all(a[d:] == 0)
    assert np.linalg.norm(th) == pytest.approx(1 / 0.7)


@pytest.mark.parametrize("seed", range(4))
def test_max_margin_finds_the_constructed_solution(seed: int) -> None:
    D = separable_data(3, 12, margin=0.4, rng=seed)
    mm = max_margin(np.asarray(D.X), np.asarray(D.y))
    np.testing.assert_allclose(mm.theta, D.theta_hat, rtol=1e-9)
    assert mm.support == (0, 1, 2)
    assert mm.margin == pytest.approx(0.4, rel=1e-10)
    assert mm.kkt_residual < 1e-10


def test_max_margin_on_a_hand_example() -> None:
    # z = (1, 0) and (0, 2): θ̂ = (1, 1/2), margin 1/‖θ̂‖ = 2/√5
    mm = max_margin(np.array([[1.0, 0.0], [0.0, -2.0]]), np.array([1.0, -1.0]))
    np.testing.assert_allclose(mm.theta, [1.0, 0.5], rtol=1e-10)
    assert mm.margin == pytest.approx(2 / math.sqrt(5))
    np.testing.assert_allclose(mm.alpha, [1.0, 0.25], rtol=1e-9)   # θ̂ = 1·z_1 + ¼·z_2


def test_angle_to_is_accurate_for_tiny_angles(xp) -> None:
    t = 1e-9
    th = xp.asarray(np.array([[math.cos(t), math.sin(t), 0.0], [-1.0, 0.0, 0.0]]))
    a = to_numpy(angle_to(th, xp.asarray(np.array([2.0, 0.0, 0.0]))))
    np.testing.assert_allclose(a, [t, math.pi], rtol=1e-12)


def test_relu_net_gradient_matches_finite_differences(xp) -> None:
    X, y = _data(n=7, d=2)
    net = ResidualReLUNet(xp.asarray(X), xp.asarray(y), width=4, depth=2)
    th = to_numpy(net.init([0.5, 3.0], rng=1))
    g = to_numpy(net.grad(xp.asarray(th)))
    fd = _fd_grad(lambda t: to_numpy(net.loss(xp.asarray(t))), th)
    # piecewise linear: exact away from kinks (none within h of th for this draw)
    np.testing.assert_allclose(g, fd, atol=1e-7)
    idx = xp.asarray(np.tile(np.arange(7), (2, 1)))
    np.testing.assert_allclose(to_numpy(net.batch_grad(xp.asarray(th), idx)), g, atol=1e-14)


def test_relu_net_pack_unpack_and_init_scales(xp) -> None:
    X, y = _data(n=5, d=2)
    net = ResidualReLUNet(xp.asarray(X), xp.asarray(y), width=3, depth=2)
    th = net.init([0.1, 4.0], rng=0)
    assert tuple(th.shape) == (2, net.p)
    np.testing.assert_array_equal(to_numpy(net.pack(net.unpack(th))), to_numpy(th))
    layers = net.unpack(th)
    spec = [np.linalg.norm(to_numpy(W), 2, axis=(1, 2)) for W, _ in layers]
    np.testing.assert_allclose(spec[0], [1.0, 4.0], rtol=1e-10)      # max(1, σ)
    np.testing.assert_allclose(spec[1], [0.1, 4.0], rtol=1e-10)      # σ
    np.testing.assert_allclose(spec[-1], [1.0, 4.0], rtol=1e-10)
    assert "ResidualReLUNet(n=5" in repr(net)
    with pytest.raises(ValueError, match=r"sigma\[0\] must be finite and positive; got 0.0"):
        net.init([0.0])
    with pytest.raises(ValueError, match=r"theta must have shape \(R, p="):
        net.unpack(th[:, :-1])


def test_relu_net_lipschitz_bound_holds() -> None:
    X, y = _data(n=5, d=2)
    net = ResidualReLUNet(X, y, width=5, depth=3)
    th = net.init([0.7, 2.0], rng=4)
    L = net.lipschitz_bound(th)
    rng = np.random.default_rng(5)
    P, Q = rng.standard_normal((200, 2)), rng.standard_normal((200, 2))
    fP = ResidualReLUNet(P, np.ones(200), width=5, depth=3).predict(th)
    fQ = ResidualReLUNet(Q, np.ones(200), width=5, depth=3).predict(th)
    ratio = np.abs(fP - fQ) / np.linalg.norm(P - Q, axis=1)
    assert np.all(ratio.max(axis=1) <= L * (1 + 1e-12))


def test_init_scale_experiment_reports_the_table() -> None:
    out = init_scale_experiment([0.1, 10.0], steps=30, n=16, width=4, depth=1)
    for name in ("SGD", "Adam"):
        r = out[name]
        assert set(r) >= {"theta0_norm", "theta_norm", "loss", "lipschitz"}
        assert r["theta0_norm"][1] > r["theta0_norm"][0]
        assert not np.any(r["diverged"])
    np.testing.assert_array_equal(out["SGD"]["theta0_norm"], out["Adam"]["theta0_norm"])
