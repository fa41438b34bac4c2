"""Least squares: gradients and HVPs against finite differences, minibatch gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics import LeastSquares, min_norm_fit, relu_features, to_numpy
from tests.conftest import assert_close


def _problem(xp, seed=0, n=4, d=7, R=3, per_replica=False, reduction="mean"):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((R, n, d) if per_replica else (n, d))
    y = rng.standard_normal((R, n) if per_replica else (n,))
    x = rng.standard_normal((R, d))
    return LeastSquares(xp.asarray(A), xp.asarray(y), reduction=reduction), xp.asarray(x), A, y


def _fd_grad(f, x, h):
    """Central differences: error O(h²‖∇³f‖) + O(eps/h); exact for quadratics up to rounding."""
    g = np.zeros_like(x)
    for i in range(x.shape[-1]):
        e = np.zeros_like(x)
        e[..., i] = h
        g[..., i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("per_replica", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_grad_matches_finite_differences(xp, per_replica, reduction) -> None:
    m, x, A, y = _problem(xp, per_replica=per_replica, reduction=reduction)
    xn = to_numpy(x)
    g_fd = _fd_grad(lambda z: to_numpy(m.loss(xp.asarray(z))), xn, 1e-4)
    # The loss is quadratic: central differences are exact up to rounding,
    # error ~ eps·|L|/h ≈ 1e-16·10/1e-4 = 1e-11.
    assert_close(m.grad(x), g_fd, rtol=1e-8, atol=1e-8, xp=xp)


def test_hvp_matches_finite_differences_of_grad(xp) -> None:
    m, x, A, y = _problem(xp, seed=1)
    v = np.random.default_rng(5).standard_normal(to_numpy(x).shape)
    h = 1e-5
    hv_fd = (to_numpy(m.grad(x + h * xp.asarray(v))) - to_numpy(m.grad(x - h * xp.asarray(v)))) / (2 * h)
    assert_close(m.hvp(x, xp.asarray(v)), hv_fd, rtol=1e-7, atol=1e-8, xp=xp)
    H = to_numpy(m.hessian())
    np.testing.assert_allclose(to_numpy(m.hvp(x, xp.asarray(v))), v @ H, rtol=1e-12, atol=1e-12)


def test_full_batch_gradient_is_the_gradient(xp) -> None:
    m, x, A, y = _problem(xp, per_replica=True)
    idx = xp.asarray(np.tile(np.arange(m.n), (3, 1)))
    assert_close(m.batch_grad(x, idx), to_numpy(m.grad(x)), rtol=1e-12, atol=1e-12, xp=xp)


@given(batch=st.integers(1, 4), per_replica=st.booleans())
def test_minibatch_gradient_is_unbiased_without_replacement(batch, per_replica) -> None:
    """The average over all C(n, B) batches equals the full gradient exactly."""
    import array_api_compat

    xp = array_api_compat.numpy
    m, x, A, y = _problem(xp, per_replica=per_replica)
    combos = list(itertools.combinations(range(m.n), batch))
    acc = np.zeros(to_numpy(x).shape)
    for c in combos:
        acc += to_numpy(m.batch_grad(x, xp.asarray(np.tile(np.array(c), (3, 1)))))
    np.testing.assert_allclose(acc / len(combos), to_numpy(m.grad(x)), rtol=1e-12, atol=1e-12)


def test_per_sample_gradients_average_to_the_gradient(xp) -> None:
    m, x, *_ = _problem(xp)
    psg = m.per_sample_grads(x)
    assert tuple(psg.shape) == (3, m.n, m.d)
    assert_close(xp.mean(psg, axis=1), to_numpy(m.grad(x)), rtol=1e-12, atol=1e-12, xp=xp)


def test_shape_errors_name_the_arguments(xp) -> None:
    A = xp.asarray(np.ones((3, 5)))
    with pytest.raises(ValueError, match="A and y disagree"):
        LeastSquares(A, xp.asarray(np.ones(4)))
    with pytest.raises(ValueError, match="A must have 2 or 3 dimensions"):
        LeastSquares(xp.asarray(np.ones(3)), xp.asarray(np.ones(3)))
    with pytest.raises(ValueError, match="reduction"):
        LeastSquares(A, xp.asarray(np.ones(3)), reduction="avg")
    with pytest.raises(ValueError, match="finite"):
        LeastSquares(xp.asarray(np.full((3, 5), np.nan)), xp.asarray(np.ones(3)))
    m = LeastSquares(A, xp.asarray(np.ones(3)))
    with pytest.raises(ValueError, match=r"x must have shape \(R, d=5\)"):
        m.loss(xp.asarray(np.ones((2, 4))))


def test_min_norm_fit_is_the_pseudo_inverse_solution(xp) -> None:
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((6, 3)), rng.standard_normal((10, 3))
    Psi = to_numpy(relu_features(xp.asarray(X), xp.asarray(W)))
    np.testing.assert_allclose(Psi, np.maximum(X @ W.T, 0))
    y = rng.standard_normal(6)
    a = to_numpy(min_norm_fit(xp.asarray(Psi), xp.asarray(y)))
    # Interpolates, and is orthogonal to the null space (the min-norm property).
    np.testing.assert_allclose(Psi @ a, y, atol=1e-10)
    _, s, Vt = np.linalg.svd(Psi)
    null = Vt[np.sum(s > 1e-12):]
    np.testing.assert_allclose(null @ a, 0, atol=1e-10)


def test_preconditioned_model_applies_the_inverse_metric() -> None:
    from numerics.linear import LeastSquares, Preconditioned

    rng = np.random.default_rng(0)
    A, y, H = rng.standard_normal((3, 5)), rng.standard_normal(3), rng.standard_normal((5, 5)) + 5 * np.eye(5)
    m = Preconditioned(LeastSquares(A, y, reduction="sum"), H)
    x = rng.standard_normal((2, 5))
    g = (x @ A.T - y) @ A
    np.testing.assert_allclose(m.grad(x), np.linalg.solve(H, g.T).T, rtol=1e-12)


def test_preconditioned_rejects_a_wrong_metric_shape() -> None:
    from numerics.linear import LeastSquares, Preconditioned

    with pytest.raises(ValueError, match=r"H must have shape \(d=3, d=3\) to match the model; got shape \(2, 2\)"):
        Preconditioned(LeastSquares(np.eye(2, 3), np.ones(2)), np.eye(2))
    with pytest.raises(ValueError, match="H must be invertible; got smallest singular value 0"):
        Preconditioned(LeastSquares(np.eye(2, 3), np.ones(2)), np.diag([1.0, 1.0, 0.0]))
