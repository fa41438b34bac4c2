r"""Hessian eigenvalue density by stochastic Lanczos quadrature (SLQ), batched over replicas.

The spectral measure of a symmetric :math:`H \in \mathbb R^{p\times p}` with eigenpairs
:math:`(\lambda_i, u_i)` is :math:`\mu = \frac1p\sum_i\delta_{\lambda_i}`. For a unit probe
:math:`v`, :math:`\mu_v = \sum_i (u_i^Tv)^2\delta_{\lambda_i}` has :math:`\mathbb E\mu_v = \mu`
when :math:`v = z/\sqrt p`, :math:`z` Rademacher. :math:`k` Lanczos steps from :math:`v` give
the tridiagonal :math:`T_k = S\,\mathrm{diag}(\theta)\,S^T`, and the Gauss quadrature rule of
:math:`\mu_v` — nodes :math:`\theta_j`, weights :math:`\tau_j = S_{1j}^2` — which integrates
polynomials of degree :math:`\le 2k-1` exactly (Golub & Meurant 2010, thm 6.2). SLQ averages
the rules of :math:`n_v` probes:

.. math:: \hat\mu = \frac1{n_v}\sum_{l=1}^{n_v}\sum_{j=1}^k \tau_{lj}\,\delta_{\theta_{lj}},

and the smoothed density is :math:`\hat\phi_\sigma(t) = \int g_\sigma(t - s)\,d\hat\mu(s)` with a
Gaussian :math:`g_\sigma` (Lin, Saad & Yang 2016, sec. 3.2; Ghorbani, Krishnan & Xiao 2019).

Error bound (Wasserstein-1)
---------------------------
Let :math:`[a, b] \ni` the spectrum, :math:`w = b - a`. With probability at least
:math:`1 - \alpha` over the probes (:math:`\alpha \le e^{-2}`),

.. math::
    W_1(\hat\mu, \mu) \;\le\; \underbrace{\frac{\pi w}{4k}}_{\text{quadrature}}
    \;+\; \underbrace{\frac{e\,(q-1)\,w}{\sqrt{p\,n_v}}}_{\text{probes}},
    \qquad q = \ln(1/\alpha),

and the quadrature term is 0 when :math:`k = p` (the rule is then :math:`\mu_v` itself).

*Quadrature.* :math:`W_1(\nu, \nu') = \sup_{f\ 1\text{-Lipschitz}}\int f\,d(\nu-\nu')`. Both
:math:`\mu_v` and its Gauss rule are probability measures on :math:`[a, b]` (the Ritz values
interlace), and the rule is exact on polynomials :math:`P` of degree :math:`2k-1`, so
:math:`|\int f\,d(\mu_v - \text{rule})| = |\int (f-P)\,d(\mu_v-\text{rule})| \le 2\|f-P\|_\infty`.
Jackson's theorem (with Favard's constant; Rivlin 1969, thm 1.5) gives a :math:`P` with
:math:`\|f - P\|_\infty \le \frac{\pi}{2}\frac{w/2}{2k}` on :math:`[a, b]`, hence
:math:`W_1 \le \pi w/(4k)` per probe, and for the average by convexity of :math:`W_1`.

*Probes.* Let :math:`\bar\mu = \frac1{n_v}\sum_l\mu_{v_l}`. In one dimension
:math:`W_1(\bar\mu, \mu) = \int_a^b|D(t)|\,dt`, :math:`D = \bar F - F` the difference of the
distribution functions. With :math:`P_t` the spectral projector on :math:`(-\infty, t]`,
:math:`D(t) = \frac1{n_vp}\sum_l(z_l^TP_tz_l - \operatorname{Tr}P_t) = \frac1{n_vp}\sum_l
\sum_{i\ne j}(P_t)_{ij}z_{li}z_{lj}`, a homogeneous Rademacher chaos of degree 2, with
variance :math:`\frac{2(\|P_t\|_F^2 - \sum_i(P_t)_{ii}^2)}{n_vp^2} \le \frac{2\min(r, p-r)}{n_vp^2}
\le \frac1{n_vp}` (:math:`r = \operatorname{rank}P_t`; :math:`z^TP_tz = p - z^T(I-P_t)z`).
Bonami's hypercontractivity (O'Donnell 2014, thm 9.21) gives
:math:`\|D(t)\|_q \le (q-1)\|D(t)\|_2` for :math:`q \ge 2`; Minkowski's integral inequality,
:math:`\|W_1\|_q \le \int\|D(t)\|_q\,dt \le (q-1)w/\sqrt{n_vp}`; Markov's inequality on the
:math:`q`-th moment, :math:`P(W_1 \ge e\|W_1\|_q) \le e^{-q} = \alpha`. The triangle
inequality :math:`W_1(\hat\mu,\mu) \le W_1(\hat\mu,\bar\mu) + W_1(\bar\mu,\mu)` joins the two.
(Chen, Trogdon & Ubaru 2021 analyse SLQ in the same two parts.) The constant of the probe
term is loose (~16 at :math:`\alpha = 10^{-3}`); in expectation the same steps give
:math:`\mathbb E\,W_1(\bar\mu, \mu) \le w/\sqrt{n_vp}`.

References
----------
L. Lin, Y. Saad and C. Yang, "Approximating spectral densities of large matrices", *SIAM
Rev.* 58(1), 34–65 (2016); B. Ghorbani, S. Krishnan and Y. Xiao, "An investigation into
neural net optimization via Hessian eigenvalue density", ICML 2019; T. Chen, T. Trogdon and
S. Ubaru, "Analysis of stochastic Lanczos quadrature for spectrum approximation", ICML 2021;
G. H. Golub and G. Meurant, *Matrices, Moments and Quadrature with Applications*, Princeton
(2010); T. J. Rivlin, *An Introduction to the Approximation of Functions*, Blaisdell (1969);
R. O'Donnell, *Analysis of Boolean Functions*, Cambridge (2014).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from array_api_compat import array_namespace

from numerics._validation import check_int, check_positive
from numerics.random import default_rng
from numerics.sharpness import _call_checked, _check_callable, _dot, _resolve_xp, _tridiagonal

__all__ = ["SpectralDensity", "spectral_density", "wasserstein_bound"]

Array = Any


def wasserstein_bound(*, p: int, steps: int, probes: int, spread: float,
                      alpha: float = 1e-3) -> float:
    r"""The bound on :math:`W_1(\hat\mu, \mu)` of the module docstring.

    Parameters
    ----------
    p
        Dimension of the operator.
    steps
        Lanczos steps :math:`k` per probe (``k = p``: exact quadrature).
    probes
        Number of probes :math:`n_v`.
    spread
        :math:`w = b - a` for an interval :math:`[a, b]` holding the spectrum.
    alpha
        Probability that the bound fails, in :math:`(0, e^{-2}]`.

    Returns
    -------
    float
        :math:`\pi w/(4k)\,[k < p] + e(\ln(1/\alpha) - 1)\,w/\sqrt{p\,n_v}`.

    Examples
    --------
    >>> round(wasserstein_bound(p=100, steps=100, probes=100, spread=1.0), 4)
    0.1606
    """
    p = check_int("p", p, minimum=1)
    k = check_int("steps", steps, minimum=1)
    n = check_int("probes", probes, minimum=1)
    w = check_positive("spread", spread, allow_zero=True)
    if not (isinstance(alpha, (int, float)) and 0 < alpha <= math.exp(-2)):
        raise ValueError(f"alpha must be in (0, e^-2 = 0.135]; got {alpha!r}")
    quad = 0.0 if k >= p else math.pi * w / (4 * k)
    q = math.log(1 / alpha)
    return quad + math.e * (q - 1) * w / math.sqrt(p * n)


@dataclass(frozen=True)
class SpectralDensity:
    r"""The SLQ estimate of the spectral measure per replica (see the module docstring).

    Attributes
    ----------
    nodes
        ``(R, probes·steps)`` Ritz values :math:`\theta_{lj}` (probe-major).
    weights
        ``(R, probes·steps)`` :math:`\tau_{lj}/n_v`; each row sums to 1. Nodes after a Lanczos
        breakdown (an invariant Krylov space, found when the probe meets fewer than ``steps``
        distinct eigenvalues) carry weight 0.
    dim
        :math:`p`.
    probes, steps
        :math:`n_v` and :math:`k` (``steps`` is capped at ``p``).
    matvecs
        Calls of ``hvp`` (``probes·steps``; each is one matvec per replica).
    """

    nodes: Array
    weights: Array
    dim: int
    probes: int
    steps: int
    matvecs: int

    @property
    def value(self) -> Array:
        r"""``(R,)`` the mean of :math:`\hat\mu`, :math:`\int\lambda\,d\hat\mu = \operatorname{Tr}H/p`
        estimated (exact for each probe: degree 1 ≤ 2k − 1); a
        :class:`~numerics.protocols.Measurement`."""
        xp = array_namespace(self.nodes)
        return xp.sum(self.weights * self.nodes, axis=-1)

    def trace(self) -> Array:
        """``(R,)`` :math:`p\\int\\lambda\\,d\\hat\\mu`: Hutchinson's estimate with the same probes."""
        return self.dim * self.value

    def density(self, grid: Any, *, sigma: float) -> Array:
        r"""The Gaussian-smoothed density :math:`\sum_{lj} w_{lj}\,g_\sigma(t - \theta_{lj})` on ``grid``.

        Parameters
        ----------
        grid
            ``(G,)`` points :math:`t` (an array of the namespace of ``nodes``).
        sigma
            Standard deviation of the Gaussian kernel, > 0 (units of eigenvalue). The
            quadrature resolves the spectrum to about :math:`w/k`; a smaller ``sigma`` shows
            the nodes, not the density.

        Returns
        -------
        array ``(R, G)``
            A probability density in :math:`t` for each replica.
        """
        s = check_positive("sigma", sigma)
        xp = array_namespace(self.nodes)
        if not hasattr(grid, "ndim") or grid.ndim != 1:
            got = tuple(grid.shape) if hasattr(grid, "shape") else type(grid).__name__
            raise ValueError(f"grid must be a 1-d array of points; got {got}")
        z = (grid[None, :, None] - self.nodes[:, None, :]) / s           # (R, G, n)
        g = xp.exp(-0.5 * z * z) / (s * math.sqrt(2 * math.pi))
        return xp.sum(g * self.weights[:, None, :], axis=-1)

    def cdf(self, grid: Any) -> Array:
        r"""``(R, G)`` the distribution function :math:`\hat\mu((-\infty, t])` on ``grid``."""
        xp = array_namespace(self.nodes)
        below = xp.astype(self.nodes[:, None, :] <= grid[None, :, None], self.weights.dtype)
        return xp.sum(below * self.weights[:, None, :], axis=-1)

    def wasserstein_bound(self, spread: float, *, alpha: float = 1e-3) -> float:
        """:func:`wasserstein_bound` for this estimate's ``p``, ``steps`` and ``probes``."""
        return wasserstein_bound(p=self.dim, steps=self.steps, probes=self.probes,
                                 spread=spread, alpha=alpha)

    def __repr__(self) -> str:
        from numerics.backend import to_numpy  # noqa: PLC0415

        R = self.nodes.shape[0]
        xp = array_namespace(self.nodes)
        live = self.weights > 0
        big = xp.asarray(math.inf, dtype=self.nodes.dtype)
        lo = to_numpy(xp.min(xp.where(live, self.nodes, big))).item()
        hi = to_numpy(xp.max(xp.where(live, self.nodes, -big))).item()
        tr = to_numpy(self.trace())
        trs = f"{float(tr[0]):.6g}" if R == 1 else f"[{float(tr[0]):.6g}, ..., {float(tr[-1]):.6g}]"
        return (f"SpectralDensity(R={R}, p={self.dim}, probes={self.probes}, steps={self.steps}, "
                f"matvecs={self.matvecs}, nodes in [{lo:.6g}, {hi:.6g}], trace≈{trs})")


def _shape(shape: Any) -> tuple[int, int]:
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (1, shape)
    if (not isinstance(shape, tuple) or len(shape) != 2
            or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 1 for t in shape)):
        raise ValueError(f"shape must be p or a tuple (R, p) of positive integers; got {shape!r}")
    return shape


def spectral_density(hvp: Callable[[Any], Any], shape: int | tuple[int, int], *, rng: Any = None,
                     probes: int = 10, steps: int = 30, xp: Any = None, dtype: Any = None,
                     start: Any = None) -> SpectralDensity:
    r"""Stochastic Lanczos quadrature of the eigenvalue density of a symmetric operator.

    Parameters
    ----------
    hvp
        ``v (R, p) -> (R, p)``: :math:`v \mapsto Hv` for each replica (a
        :class:`~numerics.protocols.HessianOperator`).
    shape
        ``(R, p)``, or ``p`` for one replica.
    rng
        Seed or :class:`numerics.random.Generator` for the Rademacher probes
        :math:`v = z/\sqrt p` (ignored with ``start``).
    probes
        Number of probes :math:`n_v` per replica, ≥ 1.
    steps
        Lanczos steps :math:`k` per probe, ≥ 1 (capped at ``p``).
    xp, dtype
        Namespace and dtype (default: the generator's namespace, float64).
    start
        Optional ``(R, probes, p)`` probe vectors (normalized here) instead of random ones.

    Returns
    -------
    SpectralDensity
        Nodes and weights per replica, the smoothed ``density(grid, sigma=...)``, ``cdf``,
        ``trace()``, ``wasserstein_bound(spread)``; ``matvecs = probes·steps``.

    Raises
    ------
    ValueError, TypeError
        A bad ``shape``, ``probes``, ``steps`` or ``start``; ``hvp`` not callable or returning
        the wrong shape.

    Notes
    -----
    Lanczos runs with full reorthogonalization (classical Gram–Schmidt, twice), one probe
    at a time for all replicas at once; a breakdown (:math:`\beta_j \le p\,\epsilon\,\|T\|`)
    ends a probe's Krylov space, and the later steps add nodes of weight 0. The
    :math:`(R\,n_v)` small eigenproblems of :math:`T_k` are one batched ``eigh`` of the
    namespace. The module docstring derives the :math:`W_1` bound that the tests check.

    Examples
    --------
    >>> import numpy as np
    >>> H = np.diag([1.0, 2.0, 3.0, 4.0])
    >>> d = spectral_density(lambda v: v @ H, (1, 4), rng=0, probes=2, steps=4)
    >>> np.round(np.sort(d.nodes[0][d.weights[0] > 1e-12])[:4], 8), float(d.trace()[0])
    (array([1., 1., 2., 2.]), 10.0)
    """
    _check_callable("hvp", hvp)
    n_v = check_int("probes", probes, minimum=1)
    k = check_int("steps", steps, minimum=1)
    if start is not None:
        if not hasattr(start, "shape") or start.ndim != 3:
            got = tuple(start.shape) if hasattr(start, "shape") else type(start).__name__
            raise ValueError(f"start must have shape (R, probes, p); got {got}")
        xp = array_namespace(start)
        R, n_v, p = (int(t) for t in start.shape)
        if shape is not None and _shape(shape) != (R, p):
            raise ValueError(f"start has shape {tuple(start.shape)}, not (R, probes, p) for shape {shape!r}")
        nrm = xp.sqrt(xp.sum(start * start, axis=-1))
        if not bool(xp.all(xp.isfinite(nrm) & (nrm > 0))):
            raise ValueError("start must have finite, nonzero probe vectors")
        V0 = start / nrm[..., None]
        dtype = start.dtype
    else:
        R, p = _shape(shape)
        xp = _resolve_xp(rng, xp)
        gen = default_rng(rng, xp=xp)
        dtype = xp.float64 if dtype is None else dtype
        V0 = None
    k = min(k, p)
    device = getattr(V0, "device", None) if V0 is not None else None
    Ts = []
    for j in range(n_v):
        v = V0[:, j, :] if V0 is not None else gen.rademacher((R, p), dtype=dtype) / math.sqrt(p)
        Ts.append(_lanczos_matrix(hvp, v, k, R, p, xp, dtype, device))
    T = xp.stack(Ts, axis=1)                       # (R, n_v, k, k)
    theta, S = xp.linalg.eigh(T)
    tau = S[..., 0, :] ** 2                         # first components: Gauss weights
    return SpectralDensity(nodes=xp.reshape(theta, (R, n_v * k)),
                           weights=xp.reshape(tau, (R, n_v * k)) / n_v,
                           dim=p, probes=n_v, steps=k, matvecs=n_v * k)


def _lanczos_matrix(hvp: Callable, v: Any, k: int, R: int, p: int, xp: Any, dtype: Any,
                    device: Any) -> Any:
    """``(R, k, k)`` Lanczos tridiagonal matrices from unit start rows ``v``."""
    eps = xp.finfo(dtype).eps
    V = v[:, None, :]
    alphas: list[Any] = []
    betas: list[Any] = []
    scale = xp.zeros((R,), dtype=dtype, device=device)
    for j in range(k):
        w = _call_checked("hvp", hvp, v, (R, p))
        alpha = _dot(v, w, xp)
        alphas.append(alpha)
        if j == k - 1:
            break
        for _ in range(2):                          # full reorthogonalization, twice
            coef = (V @ w[:, :, None])[..., 0]      # (R, j+1)
            w = w - (coef[:, None, :] @ V)[:, 0, :]
        beta = xp.sqrt(_dot(w, w, xp))
        scale = xp.maximum(scale, xp.maximum(xp.abs(alpha), beta))
        live = beta > p * eps * scale
        beta = xp.where(live, beta, xp.zeros_like(beta))
        betas.append(beta)
        v = xp.where(live[:, None], w / xp.where(live, beta, xp.ones_like(beta))[:, None],
                     xp.zeros_like(w))
        V = xp.concat([V, v[:, None, :]], axis=1)
    return _tridiagonal(alphas, betas, xp, dtype, device)
