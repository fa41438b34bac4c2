"""The exact fast paths behind the replica engine: minibatch sampling, blocked minibatch
gradients and the one-pass divergence test agree with their definitions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from numerics import Generator, LeastSquares, to_numpy
from numerics.engine import _within_bound

# Chi-square tests run at level 1e-6 (verify.tolerance.FALSE_ALARM): a false alarm once in
# a million runs.
ALPHA = 1e-6


def _ordered_tuple_pvalue(idx: np.ndarray, n: int) -> float:
    """Chi-square p-value of the counts of ordered k-tuples against the uniform law on the
    n!/(n-k)! tuples of distinct indices (every tuple must be distinct to count)."""
    k = idx.shape[1]
    cells = {t: i for i, t in enumerate(itertools.permutations(range(n), k))}
    codes = np.array([cells[tuple(row)] for row in idx.tolist()])
    counts = np.bincount(codes, minlength=len(cells))
    return stats.chisquare(counts).pvalue


@pytest.mark.parametrize(("n", "k", "R"), [(9, 3, 20000), (5, 3, 6000), (7, 2, 8000)])
def test_choice_without_replacement_is_uniform_over_ordered_tuples(xp, n, k, R) -> None:
    # (9, 3) and (7, 2) take the sparse Fisher–Yates path (k² <= n), (5, 3) the sorted-keys
    # path (k² > n); 20000 draws over the 504 tuples of (9, 3) give ~40 per cell.
    g = Generator(11, xp)
    idx = to_numpy(g.choice_without_replacement(n, k, (R,)))
    assert idx.shape == (R, k) and idx.dtype == np.int64
    assert np.all(np.sort(idx, axis=1)[:, 1:] != np.sort(idx, axis=1)[:, :-1])
    assert _ordered_tuple_pvalue(idx, n) > ALPHA


def test_sparse_fisher_yates_is_uniform_for_minibatches() -> None:
    # k = 4 <= sqrt(n = 16): the sparse path; each index is in a batch w.p. k/n and each
    # position is uniform on range(n).
    n, k, R = 16, 4, 40000
    idx = Generator(3).choice_without_replacement(n, k, (R,))
    for pos in range(k):
        assert stats.chisquare(np.bincount(idx[:, pos], minlength=n)).pvalue > ALPHA
    pairs = idx[:, 0] * n + idx[:, 1]
    counts = np.bincount(pairs, minlength=n * n).reshape(n, n)
    assert np.all(np.diag(counts) == 0)
    off = counts[~np.eye(n, dtype=bool)]
    assert stats.chisquare(off).pvalue > ALPHA


def test_uniformity_test_has_teeth() -> None:
    # Sorting each row keeps the set uniform but not the order: the ordered test rejects it.
    idx = Generator(5).choice_without_replacement(9, 3, (20000,))
    assert _ordered_tuple_pvalue(np.sort(idx, axis=1), 9) < ALPHA
    # A biased sampler (index 0 never drawn first) is caught too.
    bad = idx[idx[:, 0] != 0]
    assert _ordered_tuple_pvalue(bad, 9) < ALPHA


def test_choice_without_replacement_bad_n_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="n must be a positive integer"):
        Generator(0).choice_without_replacement(0, 1)
    with pytest.raises(ValueError, match=r"k must be in \[1, n=5\]"):
        Generator(0).choice_without_replacement(5, 0)


@pytest.mark.parametrize("layout", ["shared", "per_replica_A", "per_replica_y"])
def test_blocked_batch_grad_is_the_formula(layout) -> None:
    rng = np.random.default_rng(0)
    R, n, d, B = 37, 8, 4, 3
    A = rng.standard_normal((R, n, d)) if layout == "per_replica_A" else rng.standard_normal((n, d))
    y = rng.standard_normal((R, n)) if layout == "per_replica_y" else rng.standard_normal(n)
    x = rng.standard_normal((R, d))
    idx = Generator(1).choice_without_replacement(n, B, (R,))
    m = LeastSquares(A, y)
    m._BLOCK_BYTES = 8 * B * d * 5  # blocks of 5 replicas: 8 blocks, the last one short
    got = m.batch_grad(x, idx)
    Ar = A if A.ndim == 3 else np.broadcast_to(A, (R, n, d))
    yr = y if y.ndim == 2 else np.broadcast_to(y, (R, n))
    want = np.stack([
        (1.0 / B) * Ar[r, idx[r]].T @ (Ar[r, idx[r]] @ x[r] - yr[r, idx[r]]) for r in range(R)])
    # A sum of B·d products of O(1) terms: error ~ B·d·eps.
    np.testing.assert_allclose(got, want, rtol=0, atol=B * d * 1e-15 * np.abs(want).max() * 10)
    unblocked = LeastSquares(A, y).batch_grad(x, idx)
    np.testing.assert_allclose(got, unblocked, rtol=1e-13, atol=1e-14)


def test_within_bound_catches_nan_inf_and_norm(xp) -> None:
    x = xp.asarray(np.array([[1.0, 2.0], [np.nan, 0.0], [np.inf, 0.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(to_numpy(_within_bound(x, 4.9, xp)), [True, False, False, False])
    np.testing.assert_array_equal(to_numpy(_within_bound(x, 5.0, xp)), [True, False, False, True])
    # bound² overflows: the explicit finiteness test takes over.
    np.testing.assert_array_equal(to_numpy(_within_bound(x, 1e300, xp)), [True, False, False, True])
    assert math.isinf(1e300 * 1e300)
