"""RMSprop and Adam: the update formulas, bias correction, minibatches and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from numerics import LeastSquares, run, to_numpy
from numerics.adaptive import Adam, AdamState, RMSprop


class _Linear:
    """f(x) = c·x on each replica: the gradient is the constant c (a closed-form Adam path)."""

    def __init__(self, c, xp):
        self.c, self.xp = xp.asarray(c), xp

    def grad(self, x):
        return 0.0 * x + self.c

    def loss(self, x):
        return self.xp.sum(x * self.c, axis=-1)


def _model(xp, n=4, d=7, seed=0):
    rng = np.random.default_rng(seed)
    A, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    return LeastSquares(xp.asarray(A), xp.asarray(y), reduction="sum"), A, y


def _adam_seed003(A, y, x0, eta, bm, bv, eps, steps):
    """Seed 003's 'Adam -- Summary' (steps 1-6) written out on the host, one coordinate
    vector at a time."""
    x = x0.copy()
    mh = np.zeros_like(x)
    vh = np.zeros_like(x)
    for k in range(1, steps + 1):
        g = (x @ A.T - y) @ A
        mh = bm * mh + (1 - bm) * g
        vh = bv * vh + (1 - bv) * g**2
        mk, vk = mh / (1 - bm**k), vh / (1 - bv**k)
        x = x - eta * mk / (np.sqrt(vk) + eps)
    return x


def test_adam_matches_seed_summary(xp) -> None:
    m, A, y = _model(xp)
    x0 = np.random.default_rng(1).standard_normal((3, 7))
    got = run(m, Adam(0.01, beta_m=0.8, beta_v=0.99, eps=1e-6), xp.asarray(x0), 40, record=()).x
    want = _adam_seed003(A, y, x0, 0.01, 0.8, 0.99, 1e-6, 40)
    # 40 steps of O(d) flops each; the map is a contraction-free but smooth recursion, so
    # rounding grows at most linearly: 40·d·eps ≈ 6e-14 relative; 1e-11 leaves margin.
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-11, atol=1e-13)


def test_adam_on_constant_gradient_takes_steps_of_eta(xp) -> None:
    # With g_k = c for all k the bias-corrected moments are exactly m_k = c and v_k = c²,
    # so x_k = x_0 - k·eta·c/(|c| + eps). Without the correction the first steps are
    # (1-b_m)/sqrt(1-b_v) ≈ 3.2 times larger: this test fails for an uncorrected Adam.
    c = np.array([2.0, -0.5, 1e-3])
    rule = Adam(0.05, eps=1e-8)
    got = run(_Linear(c, xp), rule, xp.asarray(np.zeros((2, 3))), 7, record=()).x
    want = np.broadcast_to(-7 * 0.05 * c / (np.abs(c) + 1e-8), (2, 3))
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)


def test_rmsprop_first_steps_are_the_biased_formula(xp) -> None:
    # RMSprop is not bias corrected: v_k = (1 - b_v^k) c², so step k is
    # eta·c/(sqrt(1 - b_v^k)|c| + eps).
    c = np.array([3.0, -1.0])
    bv, eta, eps = 0.9, 0.1, 1e-8
    got = run(_Linear(c, xp), RMSprop(eta, beta_v=bv, eps=eps), xp.asarray(np.zeros((1, 2))), 3,
              record=()).x
    want = -sum(eta * c / (np.sqrt(1 - bv**k) * np.abs(c) + eps) for k in (1, 2, 3))
    np.testing.assert_allclose(to_numpy(got)[0], want, rtol=1e-12)


def test_adam_metric_is_bias_corrected_root(xp) -> None:
    c = np.array([2.0, -4.0])
    rule = Adam(0.1, eps=1e-3)
    state = rule.init(None, xp.asarray(np.zeros((1, 2))))
    x = xp.asarray(np.zeros((1, 2)))
    for _ in range(3):
        x, state = rule.step(_Linear(c, xp), x, state, None)
    assert isinstance(state, AdamState) and state.count == 3
    np.testing.assert_allclose(to_numpy(rule.metric(state))[0], np.abs(c) + 1e-3, rtol=1e-12)
    with pytest.raises(ValueError, match="count >= 1"):
        rule.metric(rule.init(None, x))


def test_full_minibatch_equals_full_gradient(xp) -> None:
    # B = n without replacement draws all samples: the minibatch gradient is the gradient.
    m, *_ = _model(xp)
    x0 = xp.asarray(np.random.default_rng(2).standard_normal((2, 7)))
    for Rule_ in (Adam, RMSprop):
        full = to_numpy(run(m, Rule_(0.01), x0, 20, record=()).x)
        mini = to_numpy(run(m, Rule_(0.01, batch=m.n), x0, 20, record=(), rng=3).x)
        np.testing.assert_allclose(mini, full, rtol=1e-10, atol=1e-12)


def test_minibatches_differ_per_replica_and_reproduce(xp) -> None:
    m, *_ = _model(xp, n=6)
    x0 = xp.asarray(np.zeros((4, 7)))
    a = to_numpy(run(m, Adam(0.01, batch=2), x0, 30, rng=5, record=()).x)
    b = to_numpy(run(m, Adam(0.01, batch=2), x0, 30, rng=5, record=()).x)
    np.testing.assert_array_equal(a, b)
    assert np.linalg.norm(a[0] - a[1]) > 1e-6  # replicas draw their own batches
    r = to_numpy(run(m, RMSprop(0.01, batch=1, replace=True), x0, 30, rng=5, record=()).x)
    assert np.all(np.isfinite(r))


def test_adam_interpolates_overparametrized_least_squares(xp) -> None:
    m, *_ = _model(xp)
    traj = run(m, Adam(0.02), xp.asarray(np.zeros((1, 7))), 400)
    assert to_numpy(traj.records["loss"])[-1, 0] < 1e-8


def test_state_is_in_the_input_namespace(xp) -> None:
    m, *_ = _model(xp)
    state = Adam(0.01).init(m, xp.asarray(np.zeros((2, 7))))
    _, state = Adam(0.01).step(m, xp.asarray(np.zeros((2, 7))), state, None)
    assert type(state.m) is type(xp.asarray(np.zeros(1)))
    assert tuple(state.v.shape) == (2, 7)


def test_repr() -> None:
    assert repr(Adam(0.001)) == "Adam(eta=0.001, beta_m=0.9, beta_v=0.999, eps=1e-08)"
    assert repr(RMSprop(0.1, batch=3)) == (
        "RMSprop(eta=0.1, beta_v=0.999, eps=1e-08, batch=3, without replacement)")
    assert not Adam(0.1).stochastic and Adam(0.1, batch=2).stochastic


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eta": 0.0}, "eta must be finite and positive; got 0.0"),
        ({"eta": -1.0}, "eta must be finite and positive"),
        ({"eta": 0.1, "beta_m": 1.0}, r"beta_m must be in the open interval \(0, 1\); got 1.0"),
        ({"eta": 0.1, "beta_m": 0.0}, r"beta_m must be in the open interval \(0, 1\); got 0.0"),
        ({"eta": 0.1, "beta_v": 1.5}, r"beta_v must be in the open interval \(0, 1\); got 1.5"),
        ({"eta": 0.1, "eps": 0.0}, "eps must be finite and positive; got 0.0"),
        ({"eta": 0.1, "eps": -1e-8}, "eps must be finite and positive"),
        ({"eta": 0.1, "batch": 0}, "batch must be None .* or an integer >= 1; got 0"),
    ],
)
def test_bad_hyperparameters_raise(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        Adam(**kwargs)
    if "beta_m" not in kwargs:
        with pytest.raises(ValueError, match=match):
            RMSprop(**kwargs)


def test_batch_larger_than_n_raises(xp) -> None:
    m, *_ = _model(xp)
    with pytest.raises(ValueError, match=r"batch must be in \[1, n=4\]; got 5"):
        run(m, Adam(0.1, batch=5), xp.asarray(np.zeros((1, 7))), 1)
    with pytest.raises(TypeError, match="beta_v must be a real number"):
        RMSprop(0.1, beta_v="0.9")


def test_least_squares_limits_from_zero_and_scaled_inits(xp) -> None:
    from numerics import GD
    from numerics.adaptive import least_squares_limits

    rng = np.random.default_rng(4)
    A, y = rng.standard_normal((3, 8)), rng.standard_normal(3)
    x0 = np.vstack([np.zeros(8), 0.1 * rng.standard_normal(8), 3.0 * rng.standard_normal(8)])
    h = np.geomspace(1.0, 4.0, 8)
    m = LeastSquares(xp.asarray(A), xp.asarray(y), reduction="sum")
    lmax = np.linalg.eigvalsh(A.T @ A).max()
    rules = {"GD": GD(1.0 / lmax), "scaled GD": GD(1.0 / lmax, metric=xp.asarray(h)),
             "Adam": Adam(0.01), "RMSprop": RMSprop(0.003)}
    out = least_squares_limits(m, xp.asarray(x0), rules, 1500)
    # GD reaches the Euclidean projection of each x0 (linear.gd_limit)
    assert to_numpy(out["GD"]["distance_to_projection"]).max() < 1e-8
    # scaled GD reaches the H-projection x0 + H⁻¹Aᵀ(AH⁻¹Aᵀ)⁻¹(y − Ax0), not the Euclidean one
    Hi = np.diag(1 / h)
    xh = x0 + (Hi @ A.T @ np.linalg.solve(A @ Hi @ A.T, (y[:, None] - A @ x0.T))).T
    np.testing.assert_allclose(to_numpy(out["scaled GD"]["x"]), xh, atol=1e-8)
    assert to_numpy(out["scaled GD"]["distance_to_projection"]).min() > 1e-3
    # the adaptive rules interpolate from zero with a larger norm than the min-norm point
    for name in ("Adam", "RMSprop"):
        assert to_numpy(out[name]["loss"])[0] < 1e-6
        assert to_numpy(out[name]["norm"])[0] > np.linalg.norm(np.linalg.pinv(A) @ y) + 1e-3
    with pytest.raises(ValueError, match="shared design matrix"):
        least_squares_limits(LeastSquares(xp.asarray(A[None]), xp.asarray(y)), xp.asarray(x0[:1]),
                             rules, 1)
