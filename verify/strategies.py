"""Hypothesis strategies and problem builders shared by the checks.

Strategies draw small *parameter dicts* (sizes, a condition number, a step-size fraction,
a seed), never arrays: a shrunk counterexample then reads as ``{'n': 2, 'd': 3, 'cond': 1.0,
'eta_frac': 0.5, 'seed': 0}``. Builders turn a dict into NumPy arrays on the host, seeded
from ``params["seed"]``; checks convert them with ``xp.asarray`` (the only way onto
``array_api_strict``, which has no random module).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = [
    "seeds",
    "step_fractions",
    "least_squares_params",
    "orthogonal",
    "matrix_with_spectrum",
    "spd_matrix",
    "host_rng",
    "to_xp",
]

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def step_fractions(low: float = 0.1, high: float = 0.95) -> st.SearchStrategy[float]:
    """Fractions f of the stability limit: the step is ``f · 2/λ_max``."""
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


@st.composite
def least_squares_params(
    draw: Any,
    *,
    min_n: int = 2,
    max_n: int = 10,
    max_extra_d: int = 20,
    max_cond: float = 10.0,
    full_rank: bool = True,
) -> dict[str, Any]:
    """Sizes and spectrum of an overparametrized ``A`` (n < d).

    ``cond`` is the ratio of the largest to the smallest nonzero singular value;
    ``rank`` < n makes ``A`` rank deficient (then ``y`` need not be consistent).
    """
    n = draw(st.integers(min_n, max_n))
    d = n + draw(st.integers(1, max_extra_d))
    rank = n if full_rank else draw(st.integers(1, n))
    cond = draw(st.floats(1.0, max_cond, allow_nan=False))
    return {"n": n, "d": d, "rank": rank, "cond": round(cond, 6), "seed": draw(seeds)}


def to_xp(xp: Any, a: Any) -> Any:
    """A host array (or list, or number) as a float64 array of the namespace ``xp``.

    The host copy is made C-contiguous first: a reversed view (``lam[::-1]`` of an
    ``eigh``) has negative strides, which PyTorch cannot wrap.
    """
    return xp.asarray(np.ascontiguousarray(a, dtype=np.float64))


def host_rng(params: dict[str, Any], stream: int = 0) -> np.random.Generator:
    """A NumPy generator for building a problem from ``params["seed"]`` (stream-separated)."""
    return np.random.default_rng(np.random.SeedSequence(int(params["seed"]), spawn_key=(stream,)))


def orthogonal(rng: np.random.Generator, d: int, k: int | None = None) -> np.ndarray:
    """A ``d x k`` matrix with orthonormal columns, Haar-distributed (QR with sign fix)."""
    k = d if k is None else k
    q, r = np.linalg.qr(rng.standard_normal((d, k)))
    return q * np.sign(np.diag(r))


def matrix_with_spectrum(params: dict[str, Any], *, scale: float = 1.0,
                         stream: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``A = U diag(s) V_rᵀ`` of shape ``(n, d)`` with ``rank`` singular values geometric from
    ``scale`` down to ``scale / cond``. Returns ``(A, s)``."""
    rng = host_rng(params, stream)
    n, d, r = params["n"], params["d"], params.get("rank", params["n"])
    s = scale * np.geomspace(1.0, 1.0 / params["cond"], r) if r > 1 else np.array([scale])
    U = orthogonal(rng, n, r)
    V = orthogonal(rng, d, r)
    return (U * s) @ V.T, s


def spd_matrix(rng: np.random.Generator, d: int, cond: float) -> np.ndarray:
    """A random symmetric positive definite ``d x d`` matrix with eigenvalues geometric in
    ``[1, cond]``."""
    Q = orthogonal(rng, d)
    lam = np.geomspace(1.0, cond, d) if d > 1 else np.array([1.0])
    return (Q * lam) @ Q.T


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats whose logarithm is uniform on [log low, log high]."""
    return st.floats(math.log(low), math.log(high)).map(lambda v: round(math.exp(v), 9))
