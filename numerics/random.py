"""One seeded random generator interface over NumPy, CuPy, PyTorch and array-api-strict.

The array API standard has no random module. :class:`Generator` wraps each backend's own
generator behind the same calls (:func:`numerics.backend.native_generator`: this module
names no backend); for namespaces without one (``array_api_strict``) it draws with NumPy on
the host and converts with ``xp.asarray`` (the strict namespace is a CPU stand-in for CuPy,
so this costs nothing real). Seeds are :class:`numpy.random.SeedSequence` on the host, so
:meth:`Generator.spawn` gives independent streams on every backend.

Same seed, same backend: same numbers. NumPy and CuPy generators differ, so the same seed
gives *different* numbers across backends; tests that compare backends compare
distributions, or draw on the host and convert.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numerics.backend import argsort_smallest, default_namespace, namespace_name, native_generator

__all__ = ["Generator", "default_rng", "fisher_yates_prefix", "has_repeat"]

SeedLike = "int | np.random.SeedSequence | np.random.Generator | Generator | None"


class Generator:
    """A seeded generator that returns arrays of the namespace ``xp``.

    Parameters
    ----------
    seed
        An int, a :class:`numpy.random.SeedSequence`, or ``None`` (fresh entropy).
    xp
        The array namespace of the arrays it returns (NumPy if omitted).
    device
        Device of the returned arrays (backend default if omitted).

    Notes
    -----
    The bits come from the backend's own generator (NumPy's PCG64 for NumPy and on the
    host, ``torch.Generator``, CuPy's ``default_rng``), seeded from the
    :class:`~numpy.random.SeedSequence`; everything else (signs, permutations, samples
    without replacement) is built from its normal, uniform and integer draws.

    References
    ----------
    M. E. O'Neill, "PCG: A family of simple fast space-efficient statistically good
    algorithms for random number generation", Harvey Mudd College, HMC-CS-2014-0905 (2014)
    (PCG64, NumPy's default bit generator).

    Examples
    --------
    >>> rng = Generator(0)
    >>> rng.normal((2, 3)).shape
    (2, 3)
    """

    def __init__(self, seed: Any = None, xp: Any = None, device: Any = None) -> None:
        if xp is None:
            xp = default_namespace()
        self.xp = xp
        self.device = device
        if isinstance(seed, np.random.SeedSequence):
            self._seq = seed
        elif seed is None or isinstance(seed, (int, np.integer)):
            if seed is not None and seed < 0:
                raise ValueError(f"seed must be a non-negative integer; got {seed}")
            self._seq = np.random.SeedSequence(None if seed is None else int(seed))
        else:
            raise TypeError(
                f"seed must be an int, a numpy SeedSequence or None; got {type(seed).__name__}"
            )
        self._native = native_generator(self._seq, xp, device)

    def __repr__(self) -> str:
        return (f"Generator(entropy={self._seq.entropy}, spawn_key={self._seq.spawn_key}, "
                f"xp={namespace_name(self.xp)})")

    def _dtype(self, dtype: Any) -> Any:
        return self.xp.float64 if dtype is None else dtype

    def spawn(self, k: int) -> list["Generator"]:
        """``k`` independent generators (``SeedSequence.spawn``) on the same namespace."""
        return [Generator(s, self.xp, self.device) for s in self._seq.spawn(k)]

    # -- draws -----------------------------------------------------------------------
    def normal(self, shape: tuple[int, ...], *, mean: float = 0.0, std: float = 1.0,
               dtype: Any = None) -> Any:
        """Independent N(mean, std²) draws of the given shape (float64 by default)."""
        return self._native.normal(shape, mean, std, self._dtype(dtype))

    def uniform(self, shape: tuple[int, ...], *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Any:
        """Independent U[low, high) draws of the given shape (float64 by default)."""
        return self._native.uniform(shape, low, high, self._dtype(dtype))

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        """Independent uniform integers in [low, high) (int64)."""
        return self._native.integers(low, high, shape)

    def rademacher(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """Independent ±1 signs with probability ½ each."""
        u = self.uniform(shape, dtype=dtype)
        xp = self.xp
        return xp.where(u < 0.5, xp.asarray(-1.0, dtype=u.dtype), xp.asarray(1.0, dtype=u.dtype))

    def permutation(self, n: int, shape: tuple[int, ...] = ()) -> Any:
        """Independent uniformly random permutations of ``range(n)``, one per leading index.

        Returns an int64 array of shape ``shape + (n,)``: the argsort of i.i.d. uniform keys,
        which is uniform over permutations (ties have probability zero) and needs no
        Python loop over the leading axes.
        """
        keys = self.uniform((*shape, n))
        return self.xp.argsort(keys, axis=-1)

    def choice_without_replacement(self, n: int, k: int, shape: tuple[int, ...] = ()) -> Any:
        r"""For each leading index, ``k`` distinct indices drawn uniformly from ``range(n)``.

        Shape ``shape + (k,)``: distributed as the first ``k`` entries of a uniform random
        permutation (every ordered ``k``-tuple of distinct indices has probability
        :math:`(n-k)!/n!`).

        Notes
        -----
        Three exact schemes, chosen by cost. For :math:`k^2 \le n` (minibatches, ``B ≪ n``):

        * when the bits are drawn on the host (NumPy, and namespaces without a generator
          of their own, such as ``array_api_strict``), *rejection of repeats*: each row is
          ``k`` i.i.d. uniform indices, and the rows holding a repeated index are drawn
          again (only those) until none does. Conditioned on having no repeat, ``k`` i.i.d.
          uniform draws are uniform over the :math:`n!/(n-k)!` ordered tuples of distinct
          indices, and a row's accepted draw is independent of the other rows'. A row is
          accepted with probability :math:`\prod_{i<k}(1 - i/n) \ge 1 - k(k-1)/(2n) > 1/2`,
          so the expected number of rounds is below 2 per row and :math:`O(\log R)` for
          all rows; each round is a handful of NumPy calls on the rows still open (the
          loop's test is a host boolean, which on a device would be a sync);
        * on devices (PyTorch's and CuPy's generators), a *sparse partial Fisher–Yates
          shuffle*: step :math:`i = 0, \dots, k-1` draws :math:`j_i` uniform in
          :math:`[i, n)` and swaps positions :math:`i` and :math:`j_i` of a virtual identity
          array, of which only the :math:`\le k` displaced entries are stored, per replica.
          It costs :math:`O(k^2)` per leading index and ``k`` array steps over all of them,
          with no data-dependent control flow.

        Otherwise the ``k`` smallest of ``n`` i.i.d. uniform keys in key order (the argsort of
        the keys, truncated; a linear-time partial selection on NumPy), :math:`O(n\log n)`.

        References
        ----------
        D. E. Knuth, *The Art of Computer Programming* vol. 2, §3.4.2, Algorithm P
        (Fisher–Yates), stopped after ``k`` steps; L. Devroye, *Non-Uniform Random Variate
        Generation*, Springer (1986), §II.3 (the rejection method: a uniform draw on a set,
        conditioned on a subset, is uniform on the subset).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer; got {n!r}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
            raise ValueError(f"k must be in [1, n={n}]; got {k}")
        n, k, shape = int(n), int(k), tuple(shape)
        count = math.prod(shape)
        if k * k <= n and self._native.on_host:
            return self._reject_repeats(n, k, shape)
        # Sparse Fisher–Yates does O(count·k²) work in k array steps; sorting keys does
        # O(count·n·log n) in one. The second wins for a handful of short rows.
        if k * k <= n and count * n >= 1000 * k:
            return self._sparse_fisher_yates(n, k, shape)
        # The k smallest keys in key order (a linear-time partial selection on NumPy).
        return argsort_smallest(self.uniform((*shape, n)), k)

    def _reject_repeats(self, n: int, k: int, shape: tuple[int, ...]) -> Any:
        """``k`` i.i.d. uniform indices per row, the rows with a repeat drawn again (on the
        host, for generators that draw there: NumPy and namespaces without a generator).

        Round ``j`` draws a ``(m_j, k)`` block for the ``m_j`` rows still open, in increasing
        row order; a row closes at its first draw without a repeat (:func:`has_repeat`).
        """
        count = math.prod(shape)
        draw = self._native.host_integers
        out = draw(0, n, (count, k))
        todo = np.flatnonzero(has_repeat(out))
        while todo.size:
            redraw = draw(0, n, (todo.size, k))
            out[todo] = redraw
            todo = todo[has_repeat(redraw)]
        kw = {} if self.device is None else {"device": self.device}
        return self.xp.asarray(out.reshape(*shape, k), **kw)  # NumPy: the same array

    def _sparse_fisher_yates(self, n: int, k: int, shape: tuple[int, ...]) -> Any:
        """The first ``k`` steps of Fisher–Yates on ``range(n)``, one shuffle per leading index
        (:func:`fisher_yates_prefix` of a staircase draw)."""
        return fisher_yates_prefix(self._native.staircase(n, k, shape), self.xp, self.device)


def has_repeat(rows: Any) -> Any:
    """``(m,)`` booleans: row ``i`` of the ``(m, k)`` NumPy integer array repeats an entry.

    Examples
    --------
    >>> has_repeat(np.array([[0, 1, 2], [3, 1, 3]]))
    array([False,  True])
    """
    if rows.shape[-1] < 2:
        return np.zeros(rows.shape[:-1], dtype=bool)
    s = np.sort(rows, axis=-1)
    return (s[..., 1:] == s[..., :-1]).any(axis=-1)


def fisher_yates_prefix(J: Any, xp: Any, device: Any = None) -> Any:
    r"""The first ``k`` positions of Fisher–Yates shuffles of ``range(n)`` driven by ``J``.

    Parameters
    ----------
    J
        ``shape + (k,)`` integers, column ``i`` in :math:`[i, n)`: step ``i`` swaps positions
        ``i`` and ``J[..., i]`` of the identity array.
    xp, device
        Namespace and device of ``J`` and of the result.

    Returns
    -------
    array
        ``shape + (k,)`` int64: the values at positions ``0, ..., k-1`` after the ``k``
        swaps. The map from staircases (:math:`\prod_{i<k}(n - i)` of them) to ordered
        tuples of distinct indices is a bijection, so a uniform staircase gives a uniform
        tuple.

    Notes
    -----
    ``pos[t]`` and ``val1[t]`` (``t < i``) hold the displaced entries of the virtual array
    (position -> value + 1; 0 marks no entry). A position overwritten later is invalidated
    (set to -1), so each position has at most one live entry and a masked sum reads it.
    The entry axis comes first so that the reductions run over contiguous rows.

    Examples
    --------
    >>> fisher_yates_prefix(np.array([[2, 2]]), np)   # swap 0↔2, then 1↔2
    array([[2, 0]])
    """
    shape, k = tuple(J.shape[:-1]), int(J.shape[-1])
    kw = {} if device is None else {"device": device}
    pos = xp.full((k, *shape), -1, dtype=xp.int64, **kw)
    val1 = xp.zeros((k, *shape), dtype=xp.int64, **kw)
    zero = xp.zeros((), dtype=xp.int64, **kw)
    minus_one = xp.asarray(-1, dtype=xp.int64, **kw)
    out = xp.empty((*shape, k), dtype=xp.int64, **kw)  # filled column by column
    for i in range(k):
        j = J[..., i]
        if i == 0:
            vj, vi1, hit_j = j, xp.full(shape, 1, dtype=xp.int64, **kw), None
        else:
            p, v1 = pos[:i, ...], val1[:i, ...]
            hit_j = p == j
            sj = xp.sum(xp.where(hit_j, v1, zero), axis=0)
            vj = xp.where(sj > 0, sj - 1, j)
            si = xp.sum(xp.where(p == i, v1, zero), axis=0)
            vi1 = xp.where(si > 0, si, xp.full(shape, i + 1, dtype=xp.int64, **kw))
        out[..., i] = vj  # position i takes the value at j ...
        if i + 1 < k:  # ... and position j the value at i (later steps read only j >= i+1)
            if hit_j is not None:
                pos[:i, ...] = xp.where(hit_j, minus_one, p)
            pos[i, ...] = j
            val1[i, ...] = vi1
    return out


def default_rng(seed: Any = None, xp: Any = None, device: Any = None) -> Generator:
    """A :class:`Generator`; an existing one is returned unchanged (SciPy's ``rng`` idiom).

    Parameters
    ----------
    seed
        A :class:`Generator` (returned as it is), an int, a
        :class:`numpy.random.SeedSequence` or ``None``.
    xp, device
        Namespace and device of the draws of a new generator (as :class:`Generator`).

    Returns
    -------
    Generator

    Examples
    --------
    >>> g = default_rng(0)
    >>> default_rng(g) is g
    True
    """
    if isinstance(seed, Generator):
        return seed
    return Generator(seed, xp=xp, device=device)
