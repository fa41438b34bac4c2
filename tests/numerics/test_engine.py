"""The replica engine and the update rules."""

from __future__ import annotations

import numpy as np
import pytest

from numerics import GD, SGD, LeastSquares, run, to_numpy


def _model(xp, n=4, d=6, seed=0):
    rng = np.random.default_rng(seed)
    A, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    return LeastSquares(xp.asarray(A), xp.asarray(y), reduction="sum"), A, y


def test_gd_step_is_the_formula(xp) -> None:
    m, A, y = _model(xp)
    x0 = np.random.default_rng(1).standard_normal((2, 6))
    traj = run(m, GD(0.01), xp.asarray(x0), 1, record=())
    np.testing.assert_allclose(to_numpy(traj.x), x0 - 0.01 * (x0 @ A.T - y) @ A, rtol=1e-13)


def test_divergence_is_flagged_and_iterates_stay_finite(xp) -> None:
    m, A, y = _model(xp)
    lmax = np.linalg.eigvalsh(A.T @ A).max()
    x0 = xp.asarray(np.ones((3, 6)))
    traj = run(m, GD(3.0 / lmax), x0, 2000, record=("loss",), check_every=7)
    assert traj.n_diverged == 3
    assert np.all(np.isfinite(to_numpy(traj.x)))
    assert np.all(to_numpy(traj.diverged_at) > 0)
    with pytest.raises(Exception, match="3 of 3 replicas diverged"):
        traj.raise_if_diverged()
    ok = run(m, GD(1.0 / lmax), x0, 200)
    assert ok.n_diverged == 0
    ok.raise_if_diverged()


def test_records_every_k_steps_and_the_last(xp) -> None:
    m, *_ = _model(xp)
    traj = run(m, GD(0.01), xp.asarray(np.zeros((2, 6))), 25, record=("loss", "x", "norm"),
               record_every=10)
    assert traj.steps == [0, 10, 20, 25]
    assert tuple(traj.records["x"].shape) == (4, 2, 6)
    assert tuple(traj.records["loss"].shape) == (4, 2)
    assert "R=2" in repr(traj)


def test_single_vector_x0_is_one_replica(xp) -> None:
    m, *_ = _model(xp)
    traj = run(m, GD(0.01), xp.asarray(np.zeros(6)), 3)
    assert tuple(traj.x.shape) == (6,)


def test_sgd_is_reproducible_given_the_seed(xp) -> None:
    m, *_ = _model(xp)
    x0 = xp.asarray(np.zeros((5, 6)))
    a = to_numpy(run(m, SGD(0.01, batch=2), x0, 50, rng=7).x)
    b = to_numpy(run(m, SGD(0.01, batch=2), x0, 50, rng=7).x)
    c = to_numpy(run(m, SGD(0.01, batch=2), x0, 50, rng=8).x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])  # replicas draw their own batches


def test_sgd_with_full_batch_without_replacement_is_gd(xp) -> None:
    m, *_ = _model(xp)
    x0 = xp.asarray(np.ones((2, 6)))
    a = to_numpy(run(m, SGD(0.01, batch=4), x0, 20, rng=0).x)
    b = to_numpy(run(m, GD(0.01), x0, 20).x)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_scaled_gd_uses_the_metric(xp) -> None:
    m, A, y = _model(xp)
    H = np.diag(np.arange(1.0, 7.0))
    x0 = np.zeros((1, 6))
    traj = run(m, GD(0.01, metric=xp.asarray(H)), xp.asarray(x0), 1, record=())
    np.testing.assert_allclose(to_numpy(traj.x), -0.01 * ((x0 @ A.T - y) @ A) / np.diag(H), rtol=1e-13)
    diag = run(m, GD(0.01, metric=xp.asarray(np.diag(H).copy())), xp.asarray(x0), 1, record=())
    np.testing.assert_allclose(to_numpy(diag.x), to_numpy(traj.x), rtol=1e-13)


def test_bad_input_is_a_clear_error(xp) -> None:
    m, *_ = _model(xp)
    x0 = xp.asarray(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="eta must be finite and positive; got -0.1"):
        GD(-0.1)
    with pytest.raises(ValueError, match="eta must be finite and positive"):
        SGD(float("nan"))
    with pytest.raises(ValueError, match=r"batch must be in \[1, n=4\]; got 5"):
        run(m, SGD(0.1, batch=5), x0, 1)
    with pytest.raises(ValueError, match="batch must be an integer >= 1"):
        SGD(0.1, batch=0)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        run(m, GD(0.1), x0, -1)
    with pytest.raises(ValueError, match="unknown record"):
        run(m, GD(0.1), x0, 1, record=("loss", "sharpness"))
    with pytest.raises(ValueError, match="positive definite"):
        GD(0.1, metric=xp.asarray(-np.eye(6)))


def test_inputs_that_used_to_pass_silently_are_refused(xp) -> None:
    """x0 of the wrong dimension, NaN in x0, a non-symmetric, NaN or mis-sized metric,
    an array as a step size, a record name as a string, lists and mixed namespaces."""
    m, *_ = _model(xp)
    x0 = xp.asarray(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"x0 must have 6 coordinates per replica .* got shape \(5,\)"):
        run(m, GD(0.1), xp.asarray(np.zeros(5)), 1)
    bad = np.zeros((2, 6))
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="x0 must be finite; it contains NaN"):
        run(m, GD(0.1), xp.asarray(bad), 1)
    with pytest.raises(TypeError, match=r"x0 must be an array; got list .*xp.asarray"):
        run(m, GD(0.1), [[0.0] * 6], 1)
    H = np.eye(6)
    H[0, 1] = 0.5
    with pytest.raises(ValueError, match=r"metric must be symmetric; max \|H - Hᵀ\| = 0.5"):
        GD(0.1, metric=xp.asarray(H))
    with pytest.raises(ValueError, match="metric must be finite"):
        GD(0.1, metric=xp.asarray(np.full(6, np.nan)))
    with pytest.raises(ValueError, match=r"metric must be of size d = 6 .* got shape \(4, 4\)"):
        run(m, GD(0.1, metric=xp.asarray(np.eye(4))), x0, 1)
    with pytest.raises(TypeError, match=r"eta must be a real number; got an array of shape \(2,\)"):
        GD(xp.asarray([0.1, 0.2]))
    t = run(m, GD(0.1), x0, 2, record="loss")
    assert list(t.records) == ["loss"]


def test_mixed_namespaces_are_named() -> None:
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="different namespaces cannot be mixed: metric from numpy, x0 from array_api_strict"):
        from numerics.optim import _check_metric_size
        _check_metric_size(np.eye(2), None, strict.asarray(np.zeros((1, 2))))


def test_sgd_trajectory_is_the_update_written_out(xp) -> None:
    # run() with SGD against x ← x − η·batch_grad(x, batch) written out with the same
    # generator stream: the in-place NumPy step makes the same two roundings, so the bits
    # agree on every backend.
    from numerics.optim import sample_batches
    from numerics.random import default_rng

    m, *_ = _model(xp, n=30, d=6)
    x0 = xp.asarray(np.random.default_rng(2).standard_normal((7, 6)))
    got = run(m, SGD(0.01, batch=3), x0, 25, rng=7, record=(), check_every=4).x
    gen = default_rng(7, xp=xp)
    x = x0
    for _ in range(25):
        x = x - 0.01 * m.batch_grad(x, sample_batches(gen, 30, 3, 7))
    np.testing.assert_array_equal(to_numpy(got), to_numpy(x))
    np.testing.assert_array_equal(to_numpy(x0), np.random.default_rng(2).standard_normal((7, 6)))


class _SharedGradients:
    """A model whose gradient arrays are not the rule's to overwrite: ``grad`` returns the
    iterate itself (L = ‖x‖²/2) or a view of an array the model keeps."""

    def __init__(self, view: bool) -> None:
        self.view, self.kept = view, np.arange(12.0).reshape(2, 6)

    def loss(self, x):
        return 0.5 * np.sum(x * x, axis=-1)

    def grad(self, x):
        return self.kept[:, :] if self.view else x


def test_the_in_place_step_leaves_shared_gradients_alone() -> None:
    x0 = np.ones((2, 6))
    np.testing.assert_array_equal(run(_SharedGradients(False), GD(0.25), x0, 2, record=()).x,
                                  np.full((2, 6), 0.75**2))  # (1 − η)² x0, exactly
    model = _SharedGradients(True)
    out = run(model, GD(0.5), x0, 1, record=()).x
    np.testing.assert_array_equal(model.kept, np.arange(12.0).reshape(2, 6))
    np.testing.assert_array_equal(out, 1.0 - 0.5 * np.arange(12.0).reshape(2, 6))
    np.testing.assert_array_equal(x0, np.ones((2, 6)))


def test_large_iterates_are_tested_every_step_with_the_same_bits(xp) -> None:
    # R·d >= 2**16: on NumPy the divergence test runs after every step (no older snapshot
    # kept); the iterates are those of the written-out update, bit for bit, on every backend.
    from numerics.engine import _EVERY_STEP_SIZE
    from numerics.optim import sample_batches
    from numerics.random import default_rng

    R, d, n, B = 660, 100, 40, 3
    assert R * d >= _EVERY_STEP_SIZE
    rng = np.random.default_rng(5)
    m = LeastSquares(xp.asarray(rng.standard_normal((n, d))), xp.asarray(rng.standard_normal(n)))
    x0 = xp.asarray(rng.standard_normal((R, d)))
    got = run(m, SGD(0.002, batch=B), x0, 6, rng=3, record=(), record_every=100,
              check_every=4).x
    gen, x = default_rng(3, xp=xp), x0
    for _ in range(6):
        x = x - 0.002 * m.batch_grad(x, sample_batches(gen, n, B, R))
    np.testing.assert_array_equal(to_numpy(got), to_numpy(x))


def test_large_diverging_replicas_stop_at_their_last_finite_step() -> None:
    # GD on L = ‖x‖²/2·c with η = 3/c: x_k = (−2)^k x_0 exactly (powers of two), so the
    # replica with ‖x_0‖ = 1 crosses the bound 2^10 at step 11; tested every step, it is
    # frozen at x_10 = 2^10 x_0 and flagged at 11 (with check_every = 10 a replica is
    # frozen at the last tested iterate instead, up to 10 steps earlier).
    R, d = 1024, 64
    x0 = np.zeros((R, d))
    x0[:, 0] = 1.0
    x0[1:, 0] = 2.0**-40  # the others stay far below the bound
    m = LeastSquares(np.eye(d), np.zeros(d), reduction="sum")
    t = run(m, GD(3.0), x0, 15, record=(), record_every=100, bound=2.0**10 * 1.5,
            check_every=10)
    assert t.n_diverged == 1 and int(t.diverged_at[0]) == 11
    np.testing.assert_array_equal(t.x[0], (-2.0) ** 10 * x0[0])
    np.testing.assert_array_equal(t.x[1:], (-2.0) ** 15 * x0[1:])
    small = run(LeastSquares(np.eye(4), np.zeros(4), reduction="sum"), GD(3.0), x0[:3, :4], 15,
                record=(), record_every=100, bound=2.0**10 * 1.5, check_every=10)
    assert int(small.diverged_at[0]) == 15  # tested at steps 10 and 15 (the last)
    np.testing.assert_array_equal(small.x[0], (-2.0) ** 10 * x0[0, :4])


def test_engine_holds_two_iterates_at_large_R() -> None:
    # Peak memory of SGD on least squares above x0 (tracemalloc): the iterate, the next one
    # (the gradient array the step is written into), the batch indices (B/d of an iterate)
    # and one cache-sized block of gathered rows (2**19 bytes, 1/16 of this iterate) with
    # the block's products: at most 2 + 0.1 + 3/16 iterates. Keeping a rollback snapshot
    # older than the previous iterate would make it 3.
    import tracemalloc

    R, d, n, B = 10_000, 100, 200, 10
    rng = np.random.default_rng(0)
    m = LeastSquares(rng.standard_normal((n, d)), rng.standard_normal(n))
    x0 = np.zeros((R, d))
    run(m, SGD(0.01, batch=B), x0, 2, rng=0, record=())  # warm caches and imports
    # record_every > steps: no record forces a test, so only the size rule does.
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        run(m, SGD(0.01, batch=B), x0, 5, rng=0, record=(), record_every=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (peak - base) / x0.nbytes <= 2 + B / d + 3 / 16
