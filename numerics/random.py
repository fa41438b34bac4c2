"""One seeded random generator interface over NumPy, CuPy, PyTorch and array-api-strict.

The array API standard has no random module. :class:`Generator` wraps each backend's own
generator behind the same calls; for namespaces without one (``array_api_strict``) it draws
with NumPy on the host and converts with ``xp.asarray`` (the strict namespace is a CPU
stand-in for CuPy, so this costs nothing real).

Same seed, same backend: same numbers. NumPy and CuPy generators differ, so the same seed
gives *different* numbers across backends; tests that compare backends compare
distributions, or draw on the host and convert.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

__all__ = ["Generator", "default_rng"]

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

    Examples
    --------
    >>> rng = Generator(0)
    >>> rng.normal((2, 3)).shape
    (2, 3)
    """

    def __init__(self, seed: Any = None, xp: Any = None, device: Any = None) -> None:
        if xp is None:
            xp = array_api_compat.array_namespace(np.empty(0))
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
        self._kind = self._backend_kind(xp)
        if self._kind == "torch":
            import torch  # noqa: PLC0415

            dev = device if device is not None else "cpu"
            self._gen = torch.Generator(device=dev)
            self._gen.manual_seed(int(self._seq.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        elif self._kind == "cupy":
            import cupy  # noqa: PLC0415

            self._gen = cupy.random.default_rng(int(self._seq.generate_state(1)[0]))
        else:
            self._gen = np.random.default_rng(self._seq)

    @staticmethod
    def _backend_kind(xp: Any) -> str:
        if array_api_compat.is_torch_namespace(xp):
            return "torch"
        if array_api_compat.is_cupy_namespace(xp):
            return "cupy"
        if array_api_compat.is_numpy_namespace(xp):
            return "numpy"
        return "host"  # array_api_strict and any other namespace: draw on the host

    def __repr__(self) -> str:
        return f"Generator(entropy={self._seq.entropy}, spawn_key={self._seq.spawn_key}, xp={getattr(self.xp, '__name__', self.xp)})"

    # -- helpers ---------------------------------------------------------------------
    def _dtype(self, dtype: Any) -> Any:
        return self.xp.float64 if dtype is None else dtype

    def _out(self, a: Any, dtype: Any = None) -> Any:
        """Host NumPy array -> array of ``xp`` (no-op for NumPy/CuPy/torch draws)."""
        if self._kind in ("host", "numpy"):
            kw = {} if self.device is None else {"device": self.device}
            return self.xp.asarray(a, dtype=dtype, **kw) if dtype is not None else self.xp.asarray(a, **kw)
        return a

    def spawn(self, k: int) -> list["Generator"]:
        """``k`` independent generators (``SeedSequence.spawn``) on the same namespace."""
        return [Generator(s, self.xp, self.device) for s in self._seq.spawn(k)]

    # -- draws -----------------------------------------------------------------------
    def normal(self, shape: tuple[int, ...], *, mean: float = 0.0, std: float = 1.0,
               dtype: Any = None) -> Any:
        """Independent N(mean, std²) draws of the given shape."""
        dtype = self._dtype(dtype)
        if self._kind == "torch":
            import torch  # noqa: PLC0415

            z = torch.randn(shape, generator=self._gen, dtype=dtype, device=self._gen.device)
            return z * std + mean
        if self._kind == "cupy":
            return (self._gen.standard_normal(shape, dtype=dtype) * std + mean)
        return self._out(self._gen.normal(mean, std, size=shape), dtype)

    def uniform(self, shape: tuple[int, ...], *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Any:
        """Independent U[low, high) draws of the given shape."""
        dtype = self._dtype(dtype)
        if self._kind == "torch":
            import torch  # noqa: PLC0415

            u = torch.rand(shape, generator=self._gen, dtype=dtype, device=self._gen.device)
            return low + (high - low) * u
        if self._kind == "cupy":
            return low + (high - low) * self._gen.random(shape, dtype=dtype)
        return self._out(self._gen.uniform(low, high, size=shape), dtype)

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        """Independent uniform integers in [low, high) (int64)."""
        if self._kind == "torch":
            import torch  # noqa: PLC0415

            return torch.randint(low, high, shape, generator=self._gen, device=self._gen.device)
        if self._kind == "cupy":
            return self._gen.integers(low, high, size=shape)
        return self._out(self._gen.integers(low, high, size=shape), self.xp.int64)

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
        """For each leading index, ``k`` distinct indices drawn uniformly from ``range(n)``.

        Shape ``shape + (k,)``; the first ``k`` entries of a uniform random permutation.
        """
        if not 1 <= k <= n:
            raise ValueError(f"k must be in [1, n={n}]; got {k}")
        return self.permutation(n, shape)[..., :k]


def default_rng(seed: Any = None, xp: Any = None, device: Any = None) -> Generator:
    """A :class:`Generator`; an existing one is returned unchanged (SciPy's ``rng`` idiom)."""
    if isinstance(seed, Generator):
        return seed
    return Generator(seed, xp=xp, device=device)
