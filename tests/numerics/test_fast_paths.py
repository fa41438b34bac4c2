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
    # The blocked NumPy loop writes each block's sum into the result; the general
    # (array-API) path makes the same products and sums, so the bits agree.
    np.testing.assert_array_equal(got, (m.c * n / B) * m._batch_grad_block(x, idx, 0))


def test_within_bound_catches_nan_inf_and_norm(xp) -> None:
    x = xp.asarray(np.array([[1.0, 2.0], [np.nan, 0.0], [np.inf, 0.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(to_numpy(_within_bound(x, 4.9, xp)), [True, False, False, False])
    np.testing.assert_array_equal(to_numpy(_within_bound(x, 5.0, xp)), [True, False, False, True])
    # bound² overflows: the explicit finiteness test takes over.
    np.testing.assert_array_equal(to_numpy(_within_bound(x, 1e300, xp)), [True, False, False, True])
    assert math.isinf(1e300 * 1e300)


# -- exactness by enumeration ---------------------------------------------------------
# The samplers without replacement are exact by construction; these tests enumerate every
# random input they can consume and count what comes out, so they have no false-alarm rate.


@pytest.mark.parametrize(("n", "k"), [(4, 2), (9, 3), (16, 4), (5, 1)])
def test_rejection_accepts_each_distinct_tuple_exactly_once(n, k) -> None:
    # All n^k equally likely rounds of k i.i.d. draws: the accepted ones (no repeat) are
    # exactly the n!/(n-k)! ordered tuples of distinct indices, once each, so a row's first
    # accepted round is uniform over them.
    from numerics.random import has_repeat

    rounds = np.array(list(itertools.product(range(n), repeat=k)), dtype=np.int64)
    accepted = rounds[~has_repeat(rounds)]
    want = sorted(itertools.permutations(range(n), k))
    assert sorted(map(tuple, accepted.tolist())) == want
    assert len(accepted) == math.perm(n, k)


class _ScriptedIntegers:
    """A host generator whose integer draws come from a script (and are logged)."""

    on_host = True

    def __init__(self, script: list[np.ndarray]) -> None:
        self.script, self.log = list(script), []

    def host_integers(self, low: int, high: int, shape: tuple[int, ...]) -> np.ndarray:
        block = self.script.pop(0)
        assert block.shape == shape and low == 0
        self.log.append(block)
        return block.copy()


def test_rejection_gives_each_row_its_first_draw_without_a_repeat() -> None:
    # The bookkeeping of the redraw rounds against a plain per-row replay of the same
    # stream: round j's block goes, row by row, to the rows still open in increasing order.
    from numerics.random import has_repeat

    n, k, R = 9, 3, 40
    rng = np.random.default_rng(4)
    script = [rng.integers(0, n, (R, k))]
    while True:  # enough rounds to close every row, drawn the way the sampler asks
        open_rows = [r for r in range(R) if all(has_repeat(b[None])[0] for b in
                                                 _row_history(script, r, R))]
        if not open_rows:
            break
        script.append(rng.integers(0, n, (len(open_rows), k)))
    g = Generator(0)
    g._native = _ScriptedIntegers(script)
    got = g.choice_without_replacement(n, k, (R,))
    for r in range(R):
        first = next(b for b in _row_history(script, r, R) if not has_repeat(b[None])[0])
        np.testing.assert_array_equal(got[r], first)
    assert not g._native.script  # every scripted round consumed, no more


def _row_history(script: list[np.ndarray], r: int, R: int) -> list[np.ndarray]:
    """Row r's successive draws: round 0 row r, then in each later round the position of r
    among the rows that were still open (all its earlier draws had a repeat)."""
    from numerics.random import has_repeat

    open_rows = list(range(R))
    hist = []
    for block in script:
        if r not in open_rows:
            break
        row = block[open_rows.index(r)]
        hist.append(row)
        open_rows = [q for q, b in zip(open_rows, block) if has_repeat(b[None])[0]]
    return hist


@pytest.mark.parametrize(("n", "k"), [(9, 3), (16, 4), (7, 2)])
def test_fisher_yates_prefix_is_a_bijection_onto_distinct_tuples(xp, n, k) -> None:
    # Every staircase (column i in [i, n)), n!/(n-k)! of them and equally likely, maps to a
    # different ordered tuple of distinct indices: the output is uniform.
    from numerics.random import fisher_yates_prefix

    J = np.array(list(itertools.product(*[range(i, n) for i in range(k)])), dtype=np.int64)
    out = to_numpy(fisher_yates_prefix(xp.asarray(J), xp))
    assert sorted(map(tuple, out.tolist())) == sorted(itertools.permutations(range(n), k))


def test_the_enumeration_tests_have_teeth() -> None:
    from numerics.random import fisher_yates_prefix

    # A repeat detector that compares neighbours without sorting first misses (1, 2, 1):
    # the accepted rounds are then not the distinct tuples.
    rounds = np.array(list(itertools.product(range(9), repeat=3)))
    unsorted = (rounds[:, 1:] == rounds[:, :-1]).any(axis=1)
    assert sorted(map(tuple, rounds[~unsorted].tolist())) != sorted(itertools.permutations(range(9), 3))
    # Fisher–Yates with step 1's swap left out (J's column 1 read as the value) is not a
    # bijection onto the distinct tuples.
    J = np.array(list(itertools.product(range(0, 5), range(1, 5))))
    broken = np.stack([fisher_yates_prefix(J[:, :1], np)[:, 0], J[:, 1]], axis=1)
    assert sorted(map(tuple, broken.tolist())) != sorted(itertools.permutations(range(5), 2))
