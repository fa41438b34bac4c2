"""Two-layer models: gradients and HVPs against finite differences, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics import to_numpy
from numerics.two_layer import (
    RandomFeatures,
    Teacher,
    TwoLayerPopulation,
    TwoLayerReLU,
    arccos_kernel,
    circle_target,
    finite_neurons,
    linear_target,
    single_neuron,
    xavier_init,
)
from tests.conftest import assert_close


def _fd_dir(f, th, v, h):
    return (to_numpy(f(th + h * v)) - to_numpy(f(th - h * v))) / (2 * h)


def _models(xp):
    rng = np.random.default_rng(0)
    d, m = 3, 4
    X = xp.asarray(rng.standard_normal((12, d)))
    out = []
    for scaling in ("conventional", "mean_field"):
        out.append(TwoLayerReLU(X, xp.asarray(rng.standard_normal(12)), m, scaling=scaling))
        out.append(TwoLayerPopulation(finite_neurons(2, d, rng=1, xp=xp), m, scaling=scaling))
        out.append(TwoLayerPopulation(circle_target(d, nodes=12, xp=xp), m, scaling=scaling,
                                      input="sphere"))
    return out


def test_grad_and_hvp_match_finite_differences(xp) -> None:
    rng = np.random.default_rng(3)
    for M in _models(xp):
        th = xavier_init(2, M.m, M.d, beta=1.0, rng=2, xp=xp)
        v = xp.asarray(rng.standard_normal((2, M.p)))
        # Directional derivative of L along v vs ∇L·v; of ∇L along v vs Hv. Central differences
        # with h = 1e-5: O(h²) truncation (piecewise-smooth, no kink crossed for these draws)
        # plus eps/h rounding ~ 1e-11.
        dl = _fd_dir(M.loss, th, v, 1e-5)
        gv = np.sum(to_numpy(M.grad(th)) * to_numpy(v), axis=-1)
        np.testing.assert_allclose(gv, dl, rtol=1e-6, atol=1e-8)
        hv_fd = _fd_dir(M.grad, th, v, 1e-5)
        assert_close(M.hvp(th, v), hv_fd, rtol=1e-5, atol=1e-7, xp=xp)


def test_hvp_is_symmetric(xp) -> None:
    rng = np.random.default_rng(4)
    for M in _models(xp):
        th = xavier_init(1, M.m, M.d, beta=1.0, rng=5, xp=xp)
        u, v = (xp.asarray(rng.standard_normal((1, M.p))) for _ in range(2))
        a = float(to_numpy(xp.sum(u * M.hvp(th, v))))
        b = float(to_numpy(xp.sum(v * M.hvp(th, u))))
        assert a == pytest.approx(b, rel=1e-10, abs=1e-12)


def test_finite_data_minibatch_and_per_sample(xp) -> None:
    M = _models(xp)[0]
    th = xavier_init(2, M.m, M.d, beta=1.0, rng=2, xp=xp)
    idx = xp.asarray(np.tile(np.arange(M.n), (2, 1)))
    g = to_numpy(M.grad(th))
    assert_close(M.batch_grad(th, idx), g, rtol=1e-12, atol=1e-14, xp=xp)
    np.testing.assert_allclose(to_numpy(M.per_sample_grads(th)).mean(axis=1), g, atol=1e-14)


def test_population_risk_of_zero_net_is_teacher_norm(xp) -> None:
    for T, want in ((single_neuron(3, xp=xp), 0.5), (linear_target(3, xp=xp), 1.0)):
        M = TwoLayerPopulation(T, 2)
        assert float(to_numpy(M.risk(xp.zeros((1, M.p), dtype=xp.float64)))[0]) == pytest.approx(want)
    # E x1² = 1; circle: E f*² = 2/π² up to the quadrature error (Navot, 64 nodes: 3e-8)
    M = TwoLayerPopulation(circle_target(3, xp=xp), 2)
    assert float(to_numpy(M.risk(xp.zeros((1, M.p), dtype=xp.float64)))[0]) == pytest.approx(
        2 / math.pi**2, abs=1e-7)


def test_teacher_fits_itself(xp) -> None:
    T = finite_neurons(3, 4, rng=0, xp=xp)
    M = TwoLayerPopulation(T, 3)
    th = M.pack(T.a_star[None, :], T.B_star[None, ...])
    assert abs(float(to_numpy(M.risk(th))[0])) < 1e-14
    assert float(to_numpy(xp.max(xp.abs(M.grad(th))))) < 1e-14


def test_random_features_is_the_a_block(xp) -> None:
    M = _models(xp)[1]
    th = xavier_init(2, M.m, M.d, beta=1.0, rng=2, xp=xp)
    a, B = M.unpack(th)
    rf = RandomFeatures(M, B)
    assert_close(rf.grad(a), to_numpy(M.grad(th))[:, : M.m], rtol=1e-14, atol=1e-15, xp=xp)
    assert_close(rf.loss(a), to_numpy(M.loss(th)), rtol=1e-14, xp=xp)


def test_mean_field_is_conventional_with_a_over_m(xp) -> None:
    T = finite_neurons(2, 3, rng=0, xp=xp)
    conv, mf = TwoLayerPopulation(T, 5), TwoLayerPopulation(T, 5, scaling="mean_field")
    th = xavier_init(2, 5, 3, beta=1.0, rng=1, xp=xp)
    a, B = mf.unpack(th)
    assert_close(mf.risk(th), to_numpy(conv.risk(conv.pack(a / 5, B))), rtol=1e-13, xp=xp)


def test_bad_input_is_rejected(xp) -> None:
    with pytest.raises(ValueError, match="width m must be an integer >= 1; got 0"):
        TwoLayerPopulation(single_neuron(3, xp=xp), 0)
    with pytest.raises(ValueError, match=r"a_star and B_star disagree: B_star must have shape \(k=2, d\)"):
        Teacher(xp.ones((2,), dtype=xp.float64), xp.ones((3, 4), dtype=xp.float64))
    with pytest.raises(ValueError, match="B_star must be finite"):
        Teacher(xp.ones((1,), dtype=xp.float64), xp.asarray([[float("nan"), 1.0]]))
    M = TwoLayerPopulation(single_neuron(2, xp=xp), 2)
    with pytest.raises(ValueError, match="B must be finite"):
        M.pack(xp.ones((1, 2), dtype=xp.float64), xp.asarray([[[1.0, float("inf")], [0.0, 1.0]]]))
    with pytest.raises(ValueError, match=r"d must be >= 2 for input=.sphere. \(the kernel reduces to the plane of b, b.\); got d=1"):
        TwoLayerPopulation(single_neuron(1, xp=xp), 2, input="sphere")
    with pytest.raises(ValueError, match=r"d must be >= 2 for input=.sphere. \(the kernel reduces to the plane of b, b.\); got d=1"):
        arccos_kernel(xp.ones((1, 1), dtype=xp.float64), xp.ones((1, 1), dtype=xp.float64), input="sphere")
    with pytest.raises(ValueError, match="theta must have shape"):
        M.loss(xp.zeros((1, 5), dtype=xp.float64))
    with pytest.raises(ValueError, match="scaling must be 'conventional' or 'mean_field'; got 'ntk'"):
        TwoLayerPopulation(single_neuron(2, xp=xp), 2, scaling="ntk")
    with pytest.raises(ValueError, match=r"circle_target: d must be >= 2 \(the circle target lives in the plane of e₁, e₂\); got 1"):
        circle_target(1, xp=xp)
