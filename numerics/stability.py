r"""Linear stability of minima under GD and minibatch SGD: models and exact moment maps.

Models (the protocol of :mod:`numerics.linear`: a leading replica axis, ``loss``, ``grad``,
``hvp``, ``batch_grad``; here also ``per_sample_hvp``):

- :class:`SumOfQuadratics` — :math:`L(x) = \frac1{2n}\sum_{k=1}^n x^TH_kx`, :math:`H_k \succeq 0`
  (seed 000, "high-dimensional case"); the minimum is ``x = 0``.
- :class:`PiecewiseQuadratic1D` — :math:`L(x) = \frac1n\sum_i\min_j c_{ij}(x - m_j)^2`, the
  seed's escape example (:func:`escape_example`).

Minibatch SGD on these is :class:`numerics.optim.SGD` with the replica engine
(:func:`numerics.engine.run`): each replica draws its own batch without replacement each step,
with no Python loop over replicas.

Exact second moments (host-side dense linear algebra, small ``p``):

- :func:`second_moment_map` — the matrix of :math:`M \mapsto \mathbb E[(I-\eta H_\mathcal B)M(I-\eta H_\mathcal B)]`
  in vec form, :math:`H_\mathcal B = \frac1B\sum_{i\in\mathcal B}H_i` for a uniformly random
  batch of ``B`` distinct samples.
- :func:`largest_stable_eta` — the largest step with mean-square stability: exact (spectral
  radius of the map), the seed's sufficient condition, or GD's ``2/λ_max``.
- :func:`quadratic_ensemble` — ``H_k`` with prescribed sharpness ``a = λ_max(H)`` and
  non-uniformity ``s = λ_max(Σ)^{1/2}``.
- :func:`moments`, :func:`first_exit` — Monte Carlo moments with standard errors, escape
  detection.

References
----------
Wu, Ma & E, "How SGD selects the global minima in over-parameterized learning: a dynamical
stability perspective", NeurIPS 2018 (seed 000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from numbers import Integral

from numerics._validation import (
    NON_NEGATIVE,
    POSITIVE,
    Array,
    Interval,
    Options,
    Shape,
    check_batch,
    describe,
    message,
    namespace_for,
    validate,
)
from numerics.random import default_rng

_COUNT = Interval(Integral, 1, None, closed="left")

__all__ = [
    "SumOfQuadratics",
    "PiecewiseQuadratic1D",
    "escape_example",
    "quadratic_ensemble",
    "sharpness_nonuniformity",
    "minibatch_factor",
    "second_moment_map",
    "largest_stable_eta",
    "MomentEstimate",
    "moments",
    "first_exit",
]


def minibatch_factor(n: int, batch: int) -> float:
    r"""The factor :math:`\frac{n-B}{B(n-1)}` of sampling ``B`` of ``n`` without replacement
    (``stability.sgd_1d_moments``); ``0`` at ``B = n``. For ``n = 1`` (then ``B = 1``) it is ``0``."""
    return _minibatch_factor(n, batch, "minibatch_factor")


def _minibatch_factor(n: Any, batch: Any, owner: str) -> float:
    n = _COUNT("n", n, owner=owner)
    b = check_batch(batch, n, owner=owner)
    return 0.0 if n == 1 else (n - b) / (b * (n - 1))


# ----------------------------------------------------------------------- models
class SumOfQuadratics:
    r"""Sum of quadratics :math:`L(x) = \frac1{2n}\sum_{k=1}^n x^TH_kx` with :math:`H_k \succeq 0`.

    Parameters
    ----------
    H
        Per-sample Hessians, ``(n, p, p)`` shared by all replicas or ``(R, n, p, p)`` per replica.
        Each must be symmetric positive semi-definite.
    check
        Validate symmetry and positive semi-definiteness (one eigen-decomposition).

    Notes
    -----
    Per-sample loss :math:`\ell_k = \frac12x^TH_kx`; :math:`\nabla L = Hx`,
    :math:`H = \frac1n\sum_kH_k`; the minibatch gradient is
    :math:`\frac1B\sum_{i\in\mathcal B}H_ix` and SGD is
    :math:`x_{t+1} = (I - \eta H_\mathcal B)x_t` (seed 000).

    References
    ----------
    L. Wu, C. Ma, W. E, *How SGD selects the global minima in over-parameterized learning:
    a dynamical stability perspective*, NeurIPS 2018 (seed 000).

    Examples
    --------
    >>> import numpy as np
    >>> m = SumOfQuadratics(np.stack([np.diag([1.0, 0.0]), np.diag([3.0, 2.0])]))
    >>> m
    SumOfQuadratics(n=2, p=2, replicas=shared, namespace=numpy)
    >>> m.grad(np.ones((1, 2)))
    array([[2., 1.]])
    """

    def __init__(self, H: Any, *, check: bool = True) -> None:
        Options(True, False)("check", check, owner="SumOfQuadratics")
        xp = validate("SumOfQuadratics", {"H": (H, Array(
            ("n", "p", "p"), ("R", "n", "p", "p"), dtype="real floating",
            matrix="psd" if check else None))}).xp
        p = H.shape[-1]
        self.xp = xp
        self.H = H
        self.n = H.shape[-3]
        self.d = self.p = p
        self.replicas = H.shape[0] if H.ndim == 4 else None
        self._mean = xp.mean(H, axis=-3)  # (p, p) or (R, p, p)
        self._x = Shape(("R", "p"), dims={"R": self.replicas, "p": p}, like=H)
        self._u = Shape(("R", "n", "p"), dims={"R": self.replicas, "n": self.n, "p": p}, like=H)

    def __repr__(self) -> str:
        rep = "shared" if self.replicas is None else str(self.replicas)
        ns = getattr(self.xp, "__name__", "?").split(".")[-1]
        return f"SumOfQuadratics(n={self.n}, p={self.p}, replicas={rep}, namespace={ns})"

    def _check_x(self, x: Any, name: str = "x") -> None:
        self._x("SumOfQuadratics", name, x)

    def _apply(self, M: Any, v: Any) -> Any:
        """``M v`` row-wise for M (p, p) or (R, p, p), v (R, p)."""
        return (M @ v[..., None])[..., 0]

    def hessian(self) -> Any:
        r""":math:`H = \frac1n\sum_kH_k`: ``(p, p)`` or ``(R, p, p)``."""
        return self._mean

    def loss(self, x: Any) -> Any:
        """:math:`L(x) = \\frac12x^THx`, shape ``(R,)``."""
        self._check_x(x)
        return 0.5 * self.xp.sum(x * self._apply(self._mean, x), axis=-1)

    def grad(self, x: Any) -> Any:
        """:math:`Hx`, shape ``(R, p)``."""
        self._check_x(x)
        return self._apply(self._mean, x)

    def hvp(self, x: Any, v: Any) -> Any:
        """:math:`Hv` (independent of ``x``), shape ``(R, p)``."""
        self._check_x(v, "v")
        return self._apply(self._mean, v)

    def per_sample_hvp(self, v: Any) -> Any:
        """:math:`(H_1v, \\dots, H_nv)`, shape ``(R, n, p)``."""
        self._check_x(v, "v")
        H = self.H if self.H.ndim == 4 else self.H[None, ...]
        return (H @ v[:, None, :, None])[..., 0]

    def per_sample_apply(self, u: Any) -> Any:
        """:math:`H_iu_i` for ``u`` of shape ``(R, n, p)`` (for :func:`numerics.sharpness.non_uniformity`)."""
        self._u("SumOfQuadratics", "u", u)
        H = self.H if self.H.ndim == 4 else self.H[None, ...]
        return (H @ u[..., None])[..., 0]

    def per_sample_grads(self, x: Any) -> Any:
        """Per-sample gradients :math:`H_kx` (their mean is the gradient): ``(R, n, p)``."""
        return self.per_sample_hvp(x)

    # Bytes of gathered per-sample Hessians per block of replicas: the minibatch gradient
    # must read B·p² numbers per replica, but never all R·B·p² of them at once.
    _BLOCK_BYTES = 2**24

    def batch_grad(self, x: Any, idx: Any) -> Any:
        r"""Minibatch gradient :math:`\frac1B\sum_{i\in\mathcal B}H_ix`; ``idx`` is ``(R, B)``.

        Replicas are processed in blocks whose gathered :math:`H_i` take at most
        ``_BLOCK_BYTES`` (16 MiB), so memory stays O(state) however large R is.
        """
        self._check_x(x)
        xp = self.xp
        R, B = idx.shape
        block = max(1, self._BLOCK_BYTES // (8 * B * self.p * self.p))
        if R <= block:
            return self._batch_grad_block(x, idx, 0)
        parts = [self._batch_grad_block(x[s:min(s + block, R), ...],
                                        idx[s:min(s + block, R), ...], s)
                 for s in range(0, R, block)]  # clipped stops: the standard forbids overruns
        return xp.concat(parts, axis=0)

    def _batch_grad_block(self, x: Any, idx: Any, start: int) -> Any:
        xp = self.xp
        r, B = idx.shape
        p = self.p
        if self.H.ndim == 4:
            offs = xp.reshape(xp.arange(start, start + r, dtype=idx.dtype) * self.n, (r, 1))
            flat = xp.reshape(idx + offs, (-1,))
            Hb = xp.take(xp.reshape(self.H, (-1, p * p)), flat, axis=0)
        else:
            Hb = xp.take(xp.reshape(self.H, (self.n, p * p)), xp.reshape(idx, (-1,)), axis=0)
        Hb = xp.reshape(Hb, (r, B, p, p))
        return xp.mean((Hb @ x[:, None, :, None])[..., 0], axis=1)


class PiecewiseQuadratic1D:
    r"""One-dimensional :math:`L(x) = \frac1n\sum_{i=1}^n f_i(x)`, :math:`f_i(x) = \min_j c_{ij}(x - m_j)^2`.

    Parameters
    ----------
    coef
        ``(n, m)`` non-negative coefficients :math:`c_{ij}`.
    centers
        ``(m,)`` minima :math:`m_j`.

    Notes
    -----
    On the piece where :math:`f_i = c_{ij}(x-m_j)^2` the derivative is
    :math:`2c_{ij}(x - m_j)` and :math:`f_i'' = 2c_{ij}` (twice the coefficient). Ties are
    broken toward the first piece. ``x`` has shape ``(R, 1)``.
    """

    def __init__(self, coef: Any, centers: Any) -> None:
        xp = validate("PiecewiseQuadratic1D", {"coef": (coef, Array(("n", "m"))),
                                               "centers": (centers, Array(("m",)))}).xp
        if not bool(xp.all(coef >= 0)):
            raise ValueError(message("coef", "be non-negative (each piece a convex quadratic)",
                                     f"got smallest entry {float(xp.min(coef)):g}",
                                     owner="PiecewiseQuadratic1D"))
        self.xp, self.coef, self.centers = xp, coef, centers
        self.n, self.d = coef.shape[0], 1
        self.replicas = None
        self._x = Shape(("R", 1), like=coef)

    def __repr__(self) -> str:
        return f"PiecewiseQuadratic1D(n={self.n}, pieces={self.coef.shape[1]})"

    def _pieces(self, x: Any) -> tuple[Any, Any]:
        """Values (R, n) and derivatives (R, n) of every f_i at x (R, 1)."""
        self._x("PiecewiseQuadratic1D", "x", x)
        xp = self.xp
        dx = x[:, :, None] - self.centers[None, None, :]           # (R, 1, m)
        vals = self.coef[None, :, :] * dx * dx                     # (R, n, m)
        j = xp.argmin(vals, axis=-1)                               # (R, n)
        onehot = xp.astype(j[..., None] == xp.arange(self.coef.shape[1])[None, None, :], vals.dtype)
        val = xp.sum(vals * onehot, axis=-1)
        der = xp.sum(2.0 * self.coef[None, :, :] * dx * onehot, axis=-1)
        return val, der

    def loss(self, x: Any) -> Any:
        return self.xp.mean(self._pieces(x)[0], axis=-1)

    def grad(self, x: Any) -> Any:
        return self.xp.mean(self._pieces(x)[1], axis=-1)[:, None]

    def per_sample_grads(self, x: Any) -> Any:
        return self._pieces(x)[1][..., None]

    def batch_grad(self, x: Any, idx: Any) -> Any:
        xp = self.xp
        der = self._pieces(x)[1]                                   # (R, n)
        onehot = xp.astype(idx[..., None] == xp.arange(self.n)[None, None, :], der.dtype)
        return xp.mean(xp.sum(onehot * der[:, None, :], axis=-1), axis=-1)[:, None]

    def hvp(self, x: Any, v: Any) -> Any:
        r""":math:`L''(x)v` with :math:`L'' = \frac1n\sum_i 2c_{ij(x)}` on the active pieces."""
        self._x("PiecewiseQuadratic1D", "x", x)
        self._x("PiecewiseQuadratic1D", "v", v)
        xp = self.xp
        dx = x[:, :, None] - self.centers[None, None, :]
        vals = self.coef[None, :, :] * dx * dx
        j = xp.argmin(vals, axis=-1)
        onehot = xp.astype(j[..., None] == xp.arange(self.coef.shape[1])[None, None, :], vals.dtype)
        curv = xp.mean(xp.sum(2.0 * self.coef[None, :, :] * onehot, axis=-1), axis=-1)
        return curv[:, None] * v


def escape_example(*, xp: Any = None) -> PiecewiseQuadratic1D:
    r"""The seed's escape example :math:`f = \frac12(f_1 + f_2)`,
    :math:`f_1 = \min\{x^2, 0.1(x-1)^2\}`, :math:`f_2 = \min\{x^2, 1.9(x-1)^2\}`.

    Minima at 0 and 1, both with :math:`f'' = 2`. At ``x = 1``:
    :math:`f_1'' = 0.2`, :math:`f_2'' = 3.8` (the seed's 0.1, 1.9 and ":math:`f'' = 1`" are the
    coefficients, i.e. :math:`f''/2`). With η = 0.7 GD is stable at both minima
    (:math:`\eta f'' = 1.4 < 2`); single-sample SGD at 1 has
    :math:`\mathbb E(1-\eta f_\xi'')^2 = \frac12(0.86^2 + 1.66^2) = 1.7476 > 1`.

    References
    ----------
    L. Wu, C. Ma, W. E, *How SGD selects the global minima in over-parameterized learning:
    a dynamical stability perspective*, NeurIPS 2018 (seed 000).
    """
    xp = namespace_for(xp)
    coef = xp.asarray([[1.0, 0.1], [1.0, 1.9]], dtype=xp.float64)
    centers = xp.asarray([0.0, 1.0], dtype=xp.float64)
    return PiecewiseQuadratic1D(coef, centers)


# ------------------------------------------------------------------- ensembles
def sharpness_nonuniformity(H: Any) -> tuple[Any, Any]:
    r"""Sharpness :math:`a = \lambda_{\max}(H)` and non-uniformity
    :math:`s = \lambda_{\max}(\Sigma)^{1/2}`, :math:`\Sigma = \frac1n\sum_kH_k^2 - H^2`, by dense
    eigensolves; ``H`` is ``(n, p, p)`` or ``(R, n, p, p)``, results have shape ``()`` or
    ``(R,)``.

    References
    ----------
    L. Wu, C. Ma, W. E, *How SGD selects the global minima in over-parameterized learning:
    a dynamical stability perspective*, NeurIPS 2018 (sharpness and non-uniformity).
    """
    xp = validate("sharpness_nonuniformity", {"H": (H, Array(
        ("n", "p", "p"), ("R", "n", "p", "p"), dtype="real floating", matrix="symmetric"))}).xp
    Hm = xp.mean(H, axis=-3)
    Sig = xp.mean(H @ H, axis=-3) - Hm @ Hm
    a = xp.linalg.eigvalsh(Hm)[..., -1]
    s2 = xp.linalg.eigvalsh(0.5 * (Sig + xp.matrix_transpose(Sig)))[..., -1]
    return a, xp.sqrt(xp.maximum(s2, xp.zeros_like(s2)))


def quadratic_ensemble(a: float, s: float, n: int, p: int, *, rng: Any, commuting: bool = False,
                       xp: Any = None) -> Any:
    r"""Per-sample Hessians :math:`H_1, \dots, H_n \succeq 0` with sharpness ``a`` and
    non-uniformity ``s``.

    Parameters
    ----------
    a
        :math:`\lambda_{\max}(H)`, > 0.
    s
        :math:`\lambda_{\max}(\Sigma)^{1/2}`, ≥ 0.
    n, p
        Number of samples (≥ 2) and dimension (≥ 1).
    rng
        Seed or :class:`numerics.random.Generator`.
    commuting
        ``True``: :math:`H_k = Q\operatorname{diag}(\lambda_k)Q^T` in one random basis; the top
        direction has eigenvalues :math:`a + s z_k` with the "spike" pattern
        :math:`z = (\sqrt{n-1}, -1/\sqrt{n-1}, \dots)` (mean 0, variance 1), the others
        :math:`\rho_j(a + sz_k)` with :math:`\rho_j \in [0.2, 0.9]`; feasible for
        :math:`s \le a\sqrt{n-1}`. ``False``: :math:`H_k = \alpha\bar G + \beta(G_k - \bar G)`
        for random rank-one :math:`G_k = g_kg_k^T`, which do not commute; feasible while every
        :math:`H_k` stays PSD (always for :math:`\beta \le \alpha`).
    xp
        Namespace of the result (default: the generator's).

    Returns
    -------
    array ``(n, p, p)``

    Raises
    ------
    ValueError
        If ``s`` is too large for a PSD ensemble with this construction (the message says the
        largest feasible value), or ``a``, ``s``, ``n``, ``p`` are out of range.
    """
    a, s, n, p, commuting = validate("quadratic_ensemble", {
        "a": (a, POSITIVE), "s": (s, NON_NEGATIVE),
        "n": (n, Interval(Integral, 2, None, closed="left")), "p": (p, _COUNT),
        "commuting": (commuting, Options(True, False))})
    gen = default_rng(rng, xp=xp)
    xp = gen.xp if xp is None else xp
    if commuting:
        smax = a * math.sqrt(n - 1)
        if s > smax * (1 + 1e-12):
            raise ValueError(f"quadratic_ensemble: s must be <= a·sqrt(n-1) = {smax:.6g} for a commuting PSD ensemble "
                             f"(a = {a:g}, n = {n}); got {s!r}")
        Q, _ = xp.linalg.qr(gen.normal((p, p)))
        z = xp.full((n,), -1.0 / math.sqrt(n - 1), dtype=xp.float64)
        z = xp.concat([xp.asarray([math.sqrt(n - 1)], dtype=xp.float64), z[1:]])
        rho = xp.concat([xp.asarray([1.0], dtype=xp.float64),
                         gen.uniform((p - 1,), low=0.2, high=0.9)]) if p > 1 else xp.ones((1,), dtype=xp.float64)
        lam = xp.maximum((a + s * z)[:, None] * rho[None, :], xp.zeros((n, p), dtype=xp.float64))
        return (Q[None, :, :] * lam[:, None, :]) @ xp.matrix_transpose(Q)[None, :, :]
    g = gen.normal((n, p))
    G = g[:, :, None] * g[:, None, :]
    Gm = xp.mean(G, axis=0)
    SigG = xp.mean(G @ G, axis=0) - Gm @ Gm
    lg = float(xp.linalg.eigvalsh(Gm)[-1])
    sg = math.sqrt(max(float(xp.linalg.eigvalsh(SigG)[-1]), 0.0))
    if sg == 0.0:
        if s > 0:
            raise ValueError(f"quadratic_ensemble: s must be 0 when all per-sample Hessians "
                             f"coincide (a degenerate draw); got {s!r}")
        sg = 1.0
    alpha, beta = a / lg, s / sg
    H = alpha * Gm[None, :, :] + beta * (G - Gm[None, :, :])
    lam_min = float(xp.min(xp.linalg.eigvalsh(H)))
    if lam_min < -1e-12 * a:
        # Largest feasible s: the H_k = (α − β)Ḡ + βG_k stay PSD up to β*, found by bisection.
        lo, hi = 0.0, beta
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            ok = float(xp.min(xp.linalg.eigvalsh(alpha * Gm[None] + mid * (G - Gm[None])))) >= 0
            lo, hi = (mid, hi) if ok else (lo, mid)
        raise ValueError(f"quadratic_ensemble: s must be <= {lo * sg:.6g} for a non-commuting PSD ensemble with a = {a:g}, "
                         f"n = {n}, p = {p} from this draw; got {s!r} (use commuting=True for up "
                         f"to a·sqrt(n-1) = {a * math.sqrt(n - 1):.6g})")
    return 0.5 * (H + xp.matrix_transpose(H))


# --------------------------------------------------------- exact moment maps
def _check_ensemble(H: Any, batch: Any, owner: str) -> tuple[Any, int, int, float]:
    xp = validate(owner, {"H": (H, Array(("n", "p", "p"), dtype="real floating",
                                         matrix="psd"))}).xp
    n, p = H.shape[0], H.shape[-1]
    return xp, n, p, _minibatch_factor(n, batch, owner)


def _kron(A: Any, B: Any, xp: Any) -> Any:
    """Kronecker product of (..., p, p) matrices: (..., p², p²), row-major vec."""
    p = A.shape[-1]
    K = A[..., :, None, :, None] * B[..., None, :, None, :]
    return xp.reshape(K, (*A.shape[:-2], p * p, p * p))


def second_moment_map(H: Any, eta: float, batch: int) -> Any:
    r"""The matrix :math:`\mathcal T` of :math:`M \mapsto \mathbb E[(I-\eta H_\mathcal B)M(I-\eta H_\mathcal B)]`.

    Parameters
    ----------
    H
        ``(n, p, p)`` per-sample Hessians (PSD).
    eta
        Step size, > 0.
    batch
        Batch size ``B`` in ``[1, n]``, sampled without replacement.

    Returns
    -------
    array ``(p², p²)``
        Symmetric; :math:`\operatorname{vec}(\mathbb E[x_{t+1}x_{t+1}^T]) = \mathcal T\operatorname{vec}(\mathbb E[x_tx_t^T])`
        with row-major ``vec``.

    Notes
    -----
    From the inclusion probabilities :math:`P(i\in\mathcal B) = B/n`,
    :math:`P(i,j\in\mathcal B) = B(B-1)/(n(n-1))` (``stability.sgd_exact_threshold``):

    .. math::
        \mathcal T = (I-\eta H)\otimes(I-\eta H)
        + \eta^2c\Bigl(\frac1n\sum_iH_i\otimes H_i - H\otimes H\Bigr),
        \qquad c = \frac{n-B}{B(n-1)}.

    References
    ----------
    L. Wu, C. Ma, W. E, *How SGD selects the global minima in over-parameterized learning:
    a dynamical stability perspective*, NeurIPS 2018 (seed 000).
    """
    eta = POSITIVE("eta", eta, owner="second_moment_map")
    xp, n, p, c = _check_ensemble(H, batch, "second_moment_map")
    Hm = xp.mean(H, axis=0)
    A = xp.eye(p, dtype=H.dtype) - eta * Hm
    cov = xp.mean(_kron(H, H, xp), axis=0) - _kron(Hm, Hm, xp)
    return _kron(A, A, xp) + (eta * eta * c) * cov


def _range_basis(H: Any, xp: Any) -> tuple[Any, Any]:
    """Eigenvalues and eigenvectors of mean H restricted to its range (λ > p·eps·λ_max)."""
    Hm = xp.mean(H, axis=0)
    lam, U = xp.linalg.eigh(Hm)
    lam_h = [float(v) for v in lam]  # boundary: p numbers to the host
    p = len(lam_h)
    tol = 100 * p * xp.finfo(H.dtype).eps * max(abs(lam_h[-1]), 1e-300)
    keep = [i for i, v in enumerate(lam_h) if v > tol]
    if not keep:
        raise ValueError(message("H", "have a nonzero mean (else every step size is "
                                 "marginally stable)", f"got {describe(H)} with mean 0",
                                 owner="largest_stable_eta"))
    idx = xp.asarray(keep)
    return xp.take(lam, idx), xp.take(U, idx, axis=1)


def largest_stable_eta(H: Any, batch: int, *, condition: str = "exact") -> float:
    r"""The largest step size for which the minimum ``x = 0`` of a sum of quadratics is stable.

    Parameters
    ----------
    H
        ``(n, p, p)`` per-sample Hessians (PSD).
    batch
        Batch size ``B`` in ``[1, n]`` (without replacement).
    condition
        ``"exact"``: mean-square stability, :math:`\rho(\mathcal T_\eta) \le 1`
        (``stability.sgd_exact_threshold``); ``"sufficient"``: the seed's
        :math:`\lambda_{\max}\{(I-\eta H)^2 + \eta^2c\Sigma\} \le 1` (``stability.sgd_threshold``);
        ``"gd"``: :math:`2/\lambda_{\max}(H)` (``stability.gd_threshold``).

    Returns
    -------
    float

    Notes
    -----
    On the range of :math:`H` (the null space of :math:`H` is in every :math:`H_i`'s and never
    moves), with :math:`\mathcal L = H\otimes I + I\otimes H` and
    :math:`\mathcal Q = (1-c)H\otimes H + \frac cn\sum_iH_i\otimes H_i \succeq 0`,
    :math:`\mathcal T_\eta = I - \eta\mathcal L + \eta^2\mathcal Q`; the stable set is an interval
    and

    .. math::
        \eta_{\text{exact}} = 1/\lambda_{\max}(\mathcal L^{-1/2}\mathcal Q\mathcal L^{-1/2}), \qquad
        \eta_{\text{suff}} = 2/\lambda_{\max}(H^{-1/2}(H^2 + c\Sigma)H^{-1/2}).

    :math:`\eta_{\text{exact}} \ge \eta_{\text{suff}}` always, with equality when the
    :math:`H_i` commute.

    References
    ----------
    L. Wu, C. Ma, W. E, NeurIPS 2018 (seed 000): the sufficient condition and GD's
    :math:`2/\lambda_{\max}`; the exact threshold is this module's derivation
    (``stability.sgd_exact_threshold``).
    """
    owner = "largest_stable_eta"
    Options("exact", "sufficient", "gd")("condition", condition, owner=owner)
    xp, n, p, c = _check_ensemble(H, batch, owner)
    lam, U = _range_basis(H, xp)
    if condition == "gd":
        return 2.0 / float(lam[-1])
    Hr = xp.matrix_transpose(U)[None, :, :] @ H @ U[None, :, :]  # (n, r, r), H mean = diag(lam)
    Hm = xp.mean(Hr, axis=0)
    r = lam.shape[0]
    if condition == "sufficient":
        Sig = xp.mean(Hr @ Hr, axis=0) - Hm @ Hm
        W = Hm @ Hm + c * Sig
        d = 1.0 / xp.sqrt(lam)
        K = d[:, None] * W * d[None, :]
        return 2.0 / float(xp.linalg.eigvalsh(0.5 * (K + xp.matrix_transpose(K)))[-1])
    Q = (1.0 - c) * _kron(Hm, Hm, xp) + c * xp.mean(_kron(Hr, Hr, xp), axis=0)
    Ld = xp.reshape(lam[:, None] + lam[None, :], (r * r,))  # L is diagonal in this basis
    d = 1.0 / xp.sqrt(Ld)
    K = d[:, None] * Q * d[None, :]
    return 1.0 / float(xp.linalg.eigvalsh(0.5 * (K + xp.matrix_transpose(K)))[-1])


# --------------------------------------------------------------- Monte Carlo
@dataclass(frozen=True)
class MomentEstimate:
    r"""Monte Carlo moments over replicas at each recorded step.

    Attributes
    ----------
    mean, mean_se
        ``(T, p)``: :math:`\widehat{\mathbb E}x_t` and its standard error.
    second, second_se
        ``(T,)``: :math:`\widehat{\mathbb E}\|x_t\|^2` and its standard error.
    replicas
        Number of replicas ``R``.
    """

    mean: Any
    mean_se: Any
    second: Any
    second_se: Any
    replicas: int

    def __repr__(self) -> str:
        return f"MomentEstimate(steps={self.mean.shape[0]}, p={self.mean.shape[1]}, replicas={self.replicas})"


def moments(x: Any) -> MomentEstimate:
    r"""Sample moments of recorded iterates ``x`` of shape ``(T, R, p)`` (e.g.
    ``run(..., record=("x",)).records["x"]``), with standard errors
    :math:`\hat\sigma/\sqrt R` (sample standard deviation, ``R - 1`` denominator)."""
    xp = validate("moments", {"x": (x, Array(("T", "R", "p")))}).xp
    R = x.shape[1]
    if R < 2:
        raise ValueError(message("x", "hold at least 2 replicas (axis 1) for error bars",
                                 f"got shape {tuple(x.shape)}", owner="moments"))
    sq = xp.sum(x * x, axis=-1)
    rt = math.sqrt(R)
    return MomentEstimate(
        mean=xp.mean(x, axis=1), mean_se=xp.std(x, axis=1, correction=1) / rt,
        second=xp.mean(sq, axis=1), second_se=xp.std(sq, axis=1, correction=1) / rt, replicas=R)


def first_exit(x: Any, steps: Any, center: Any, radius: float) -> tuple[Any, Any]:
    r"""Escape detection: which replicas left the ball :math:`\|x - x^*\| \le r`, and when.

    Parameters
    ----------
    x
        Recorded iterates ``(T, R, p)``.
    steps
        The ``T`` step numbers of the records (``Trajectory.steps``).
    center
        ``(p,)`` the minimum :math:`x^*`.
    radius
        :math:`r > 0`.

    Returns
    -------
    escaped, step
        ``(R,)`` booleans, and ``(R,)`` int64 first recorded step outside (``-1`` if never).
    """
    owner = "first_exit"
    checked = validate(owner, {"x": (x, Array(("T", "R", "p"))),
                               "center": (center, Array(("p",))),
                               "radius": (radius, POSITIVE)})
    xp, radius = checked.xp, checked[2]
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__len__"):
        raise TypeError(message("steps", "be a sequence of step numbers",
                                f"got {describe(steps)}", owner=owner))
    if len(steps) != x.shape[0]:
        raise ValueError(message("steps", f"have one entry per record (T={x.shape[0]})",
                                 f"got {len(steps)} entries", owner=owner))
    dev = x - center[None, None, :]
    out = xp.sum(dev * dev, axis=-1) > radius * radius          # (T, R)
    escaped = xp.any(out, axis=0)
    st = xp.asarray(list(steps), dtype=xp.int64)
    big = xp.full(out.shape, 2**62, dtype=xp.int64)
    first = xp.min(xp.where(out, st[:, None] * xp.ones(out.shape, dtype=xp.int64), big), axis=0)
    return escaped, xp.where(escaped, first, xp.full(first.shape, -1, dtype=xp.int64))
