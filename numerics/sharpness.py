r"""Sharpness measures from Hessian-vector products, batched over a replica axis.

Every function takes callables, not models, and works on a leading replica axis ``R``:
``hvp(v)`` maps ``(R, p) -> (R, p)`` (the Hessian at a fixed point applied to one vector per
replica), ``loss(x)`` maps ``(R, p) -> (R,)``. R independent measurements are one array
program; the only Python loops run over iterations (Krylov steps, probes, bisection steps).

Measures
--------
- :func:`top_eigenvalue` — :math:`\lambda_{\max}(\nabla^2 L)` by Lanczos with full
  reorthogonalization (default) or power iteration.
- :func:`hessian_trace` — :math:`\operatorname{Tr}\nabla^2 L` by Hutchinson or Hutch++.
- :func:`non_uniformity` — :math:`\lambda_{\max}(\Sigma)`,
  :math:`\Sigma = \frac1n\sum_i H_i^2 - H^2` (seed 000; :math:`s = \sqrt{\lambda_{\max}(\Sigma)}`).
- :func:`epsilon_sharpness` — :math:`\phi_\varepsilon = \sup_{\|x'-x\|\le\varepsilon} L(x') - L(x)`.
- :func:`pac_bayes_sharpness` — :math:`\mathbb E_{v\sim N(0,\sigma^2I)} L(x+v) - L(x)`.
- :func:`flatness_radius` — :math:`\sup\{r : |L(x) - L(x+r\delta)|\le\varepsilon\}` (memo 004 eq. 11).

Stopping rule (both eigenvalue methods)
---------------------------------------
A replica has converged when its Ritz pair :math:`(\theta, y)`, :math:`\|y\| = 1`, satisfies

.. math:: \|Hy - \theta y\| \le \mathrm{rtol}\,|\theta| .

For symmetric :math:`H` this guarantees an eigenvalue :math:`\lambda` of :math:`H` with
:math:`|\lambda - \theta| \le \mathrm{rtol}\,|\theta|` (Krylov–Weinstein), and
:math:`|\lambda - \theta| \le \|r\|^2/\mathrm{gap}` once the gap to the rest of the spectrum is
resolved (Parlett, *The Symmetric Eigenvalue Problem*, thm 11.7.1; the gap must be known:
the estimates' ``high_gap`` uses the next Ritz value for it, see *Intervals* below). It is
ARPACK's criterion (``scipy.sparse.linalg.eigsh(tol=rtol)``), so matvec counts compare like
for like. Lanczos
reads the residual off the tridiagonal matrix (:math:`\beta_k |e_k^T s|`) at no extra matvec.

The estimates are frozen dataclasses sharing ``value`` (``(R,)``, one per replica): each is a
:class:`numerics.protocols.Measurement`. The operators the measures take are
:class:`~numerics.protocols.HessianOperator`, :class:`~numerics.protocols.LossFunction` and
:class:`~numerics.protocols.GradFunction`.

Intervals
---------
Every estimate also carries ``low`` and ``high`` (``(R,)``), ``level`` (the nominal
probability that ``[low, high]`` contains the quantity; ``1.0`` for a deterministic bracket)
and ``meaning`` (one line: what is guaranteed, under which condition), and the methods
``covers(truth)`` and ``half_width``:

- top eigenvalue, non-uniformity (``level = 1``): ``low`` the Ritz value θ (rigorous),
  ``high`` :math:`\theta + r` (if no eigenvalue other than λ_max exceeds :math:`\theta - r`),
  ``high_gap`` the gap estimate :math:`\theta + r^2/\mathrm{gap}`;
- trace (Hutchinson, Hutch++) and PAC-Bayes (``level``, default 0.95): Student-t over the
  probe values or draws;
- ε-sharpness (``level = 1``): the attained value to
  :math:`\varepsilon\|\nabla L(x)\| + \varepsilon^2M/2` (``inf`` without a curvature bound
  :math:`M`);
- flatness radius (``level = 1``): a point inside the band to the bisection's point outside
  it (if the loss does not re-enter the band further out).

The coverage of the 95 % intervals is measured on problems with known spectra in
``tests/numerics/test_intervals.py``.

References
----------
Lanczos (1950); Parlett (1998), ch. 13; Saad (2011); Hutchinson (1990); Meyer, Musco,
Musco & Woodruff, "Hutch++: optimal stochastic trace estimation", SOSA 2021; Keskar et al.
(2017) for ε-sharpness; Neyshabur et al. (2017) for expected (PAC-Bayes) sharpness; seed 001
(Li, sharpness), seed 000 (Wu, non-uniformity), memo 004 eq. (11). Full entries under each
function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from array_api_compat import array_namespace

from numerics._validation import check_int, check_positive
from numerics.backend import default_namespace
from numerics.protocols import GradFunction, HessianOperator, LossFunction
from numerics.random import default_rng

__all__ = [
    "SpectralEstimate",
    "TraceEstimate",
    "SharpnessEstimate",
    "FlatnessEstimate",
    "AscentEstimate",
    "top_eigenvalue",
    "hessian_trace",
    "non_uniformity",
    "epsilon_sharpness",
    "pac_bayes_sharpness",
    "flatness_radius",
]

Array = Any


def _fmt(xp: Any, a: Any) -> str:
    """A short summary of an (R,) array for __repr__ (one host transfer, not in a loop)."""
    from numerics.backend import to_numpy  # noqa: PLC0415

    v = to_numpy(a).ravel()
    if v.size <= 4:
        return "[" + ", ".join(f"{t:.6g}" for t in v) + "]"
    return f"[{v[0]:.6g}, {v[1]:.6g}, ..., {v[-1]:.6g}] (R={v.size})"


# ----------------------------------------------------------------------- results
def _host_list(a: Any) -> list[float]:
    from numerics.backend import to_numpy  # noqa: PLC0415

    return [float(t) for t in to_numpy(a).ravel()]


_EPS64 = 2.0**-52


def _fmt_interval(value: Any, low: Any, high: Any) -> str:
    """``value ± half`` (symmetric) or ``value in [low, high]`` per replica, for __repr__;
    the first two and the last replica when there are more than three (one host transfer)."""
    v, lo, hi = _host_list(value), _host_list(low), _host_list(high)

    def one(a: float, b: float, c: float) -> str:
        up, down = c - a, a - b
        if (math.isfinite(up) and math.isfinite(down)
                and abs(up - down) <= 1e-6 * max(abs(up), abs(down)) + 8 * _EPS64 * abs(a)):
            return f"{a:.6g} ± {up:.2g}"
        return f"{a:.6g} in [{b:.6g}, {c:.6g}]"

    items = [one(*t) for t in zip(v, lo, hi)]
    if len(items) <= 3:
        return "[" + ", ".join(items) + "]"
    return f"[{items[0]}, {items[1]}, ..., {items[-1]}] (R={len(items)})"


class _Interval:
    """What every estimate with an interval shares: ``low``, ``high``, ``level``, ``meaning``.

    ``low`` and ``high`` are ``(R,)`` arrays (``-inf``/``inf`` for an end that is not
    bounded), ``level`` the nominal probability that ``[low, high]`` contains the quantity
    (``1.0`` for a deterministic bound, which then holds under the condition spelled out in
    ``meaning``), ``meaning`` one line saying what is guaranteed and when.
    """

    def covers(self, truth: Any) -> Any:
        """``(R,)`` booleans: ``low <= truth <= high`` (``truth`` broadcast against ``value``)."""
        return (self.low <= truth) & (truth <= self.high)  # type: ignore[attr-defined]

    @property
    def half_width(self) -> Any:
        """``(R,)`` half the interval's width, ``(high - low) / 2``."""
        return 0.5 * (self.high - self.low)  # type: ignore[attr-defined]


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1) (the interval's coverage); got {level!r}")
    return float(level)


def _t_quantile(level: float, df: int) -> float:
    """Two-sided Student-t quantile :math:`t_{df}((1 + \\text{level})/2)` (SciPy, a float)."""
    from scipy.stats import t as student_t  # noqa: PLC0415

    return float(student_t.ppf(0.5 * (1.0 + level), df))


def _t_meaning(level: float, n: int, what: str) -> str:
    return (f"value ± t_{{{n - 1}}}((1+level)/2)·stderr, the Student-t interval from the {n} i.i.d. "
            f"{what}: covers the expectation with probability ≈ {level:g} (exact for Gaussian "
            f"values, by the central limit theorem otherwise)")


_SPECTRAL_MEANING = (
    "λ_max ≥ low = θ − δ always (θ is a Rayleigh quotient; δ = p·eps·‖H‖ covers rounding); "
    "λ_max ≤ high = θ + r + δ, r = ‖Hy − θy‖, if no eigenvalue other than λ_max exceeds θ − r "
    "(Krylov–Weinstein: an eigenvalue lies within r of θ; certain when the Krylov space is all "
    "of R^p, otherwise not certified by the matvecs: a start nearly orthogonal to the top "
    "eigenvector can miss it); high_gap = θ + r²/gap + δ where gap = θ − θ₂ > r (Kato–Temple "
    "with the estimated gap: an estimate, valid once the next Ritz value θ₂ has converged)")


@dataclass(frozen=True)
class SpectralEstimate(_Interval):
    """A top eigenpair estimate per replica, with a bracket on :math:`\\lambda_{\\max}`.

    Attributes
    ----------
    value
        ``(R,)`` Ritz values :math:`\\theta`.
    vector
        ``(R, p)`` unit Ritz vectors.
    matvecs
        Number of operator applications (calls of ``hvp``; each call is one matvec per replica).
    converged
        ``(R,)`` booleans: the stopping rule held (see the module docstring).
    residual
        ``(R,)`` residual norms :math:`r = \\|Hy - \\theta y\\|`.
    iterations
        ``(R,)`` matvecs each replica needed to converge (``matvecs`` if it did not).
    method
        ``"lanczos"`` or ``"power"``.
    low, high
        ``(R,)`` the bracket of :math:`\\lambda_{\\max}` (``meaning`` says what holds):
        ``low`` :math:`= \\theta - \\delta` is a rigorous lower bound (a Rayleigh quotient
        never exceeds :math:`\\lambda_{\\max}`; :math:`\\delta = p\\,\\epsilon\\,\\|H\\|`
        covers rounding); ``high`` :math:`= \\theta + r + \\delta` (Krylov–Weinstein) holds
        when no eigenvalue other than :math:`\\lambda_{\\max}` exceeds :math:`\\theta - r`,
        i.e. when the iteration has not missed a larger eigenvalue (certain once the Krylov
        space is all of :math:`\\mathbb R^p`; after convergence from a random start, a
        failure needs a start almost orthogonal to the top eigenvector).
    high_gap
        ``(R,)`` the gap-based upper end :math:`\\theta + r^2/\\mathrm{gap} + \\delta` where the
        gap to the next Ritz value is resolved (:math:`\\mathrm{gap} > r`), ``high`` elsewhere.
        Kato–Temple needs a bound :math:`\\alpha \\ge \\lambda_2`; the Ritz value
        :math:`\\theta_2 \\le \\lambda_2` is used in its place, so ``high_gap`` is an
        estimate (it holds once :math:`\\theta_2` has converged), not a certificate: before
        convergence it can fall below :math:`\\lambda_{\\max}` (measured in
        ``tests/numerics/test_intervals.py``).
    level
        ``1.0``: a deterministic bracket (rigorous below; above, under the stated condition).
    meaning
        One line saying exactly that.
    gap
        ``(R,)`` :math:`\\theta - \\theta_2`, the distance to the next Ritz value (Lanczos;
        ``0`` for power iteration, which has none): an estimate of
        :math:`\\lambda_{\\max} - \\lambda_2`, a bound on it in neither direction
        (:math:`\\theta \\le \\lambda_{\\max}` and :math:`\\theta_2 \\le \\lambda_2`).
    """

    value: Array
    vector: Array
    matvecs: int
    converged: Array
    residual: Array
    iterations: Array
    method: str = "lanczos"
    low: Array | None = None
    high: Array | None = None
    level: float = 1.0
    meaning: str = _SPECTRAL_MEANING
    gap: Array | None = None
    high_gap: Array | None = None

    def __repr__(self) -> str:
        xp = array_namespace(self.value)
        nconv = int(xp.sum(xp.astype(self.converged, xp.int64)))
        val = (_fmt(xp, self.value) if self.low is None else _fmt_interval(self.value, self.low, self.high))
        return (f"SpectralEstimate(method={self.method!r}, value={val}, "
                f"matvecs={self.matvecs}, converged={nconv}/{self.value.shape[0]})")


@dataclass(frozen=True)
class TraceEstimate(_Interval):
    """A stochastic trace estimate per replica, with a Student-t interval.

    Attributes
    ----------
    value
        ``(R,)`` estimates of :math:`\\operatorname{Tr} H`.
    stderr
        ``(R,)`` standard errors of the stochastic part (sample standard deviation of the
        probe values over :math:`\\sqrt{\\#\\text{probes}}`), or ``None`` with fewer than two
        probes. For Hutch++ the low-rank part is deterministic given its sketch; the
        standard error is that of the deflated Hutchinson part.
    matvecs
        Number of ``hvp`` calls.
    method
        ``"hutchinson"`` or ``"hutch++"``.
    low, high
        ``(R,)`` ``value ∓ t·stderr``, :math:`t = t_{m-1}((1 + \\text{level})/2)` over the
        ``m`` stochastic probes (``-inf``/``inf`` with fewer than two). For Hutch++ the
        interval is conditional on the sketch (given :math:`Q` the deflated probe values are
        i.i.d. with mean :math:`\\operatorname{Tr}H - \\operatorname{Tr}Q^THQ`), hence
        unconditional too.
    level
        Nominal coverage (the ``level`` argument, default 0.95).
    meaning
        One line: what the interval covers and when.
    """

    value: Array
    stderr: Array | None
    matvecs: int
    method: str = "hutch++"
    low: Array | None = None
    high: Array | None = None
    level: float = 0.95
    meaning: str = ""

    def __repr__(self) -> str:
        xp = array_namespace(self.value)
        if self.low is None:
            se = "None" if self.stderr is None else _fmt(xp, self.stderr)
            return (f"TraceEstimate(method={self.method!r}, value={_fmt(xp, self.value)}, "
                    f"stderr={se}, matvecs={self.matvecs})")
        return (f"TraceEstimate(method={self.method!r}, "
                f"value={_fmt_interval(self.value, self.low, self.high)}, level={self.level:g}, "
                f"matvecs={self.matvecs})")


@dataclass(frozen=True)
class SharpnessEstimate(_Interval):
    """A Monte Carlo sharpness estimate per replica, with a Student-t interval.

    Attributes
    ----------
    value, stderr
        ``(R,)`` sample mean and its standard error (sample standard deviation over
        :math:`\\sqrt{\\text{samples}}`).
    samples
        Number of draws.
    low, high
        ``(R,)`` ``value ∓ t_{samples-1}((1 + level)/2)·stderr``.
    level
        Nominal coverage (the ``level`` argument, default 0.95).
    meaning
        One line: what the interval covers and when.
    """

    value: Array
    stderr: Array
    samples: int
    low: Array | None = None
    high: Array | None = None
    level: float = 0.95
    meaning: str = ""

    def __repr__(self) -> str:
        xp = array_namespace(self.value)
        if self.low is None:
            return (f"SharpnessEstimate(value={_fmt(xp, self.value)}, "
                    f"stderr={_fmt(xp, self.stderr)}, samples={self.samples})")
        return (f"SharpnessEstimate(value={_fmt_interval(self.value, self.low, self.high)}, "
                f"level={self.level:g}, samples={self.samples})")


@dataclass(frozen=True)
class AscentEstimate(_Interval):
    """ε-sharpness per replica with its certified bracket (:func:`epsilon_sharpness`).

    Attributes
    ----------
    value
        ``(R,)`` the best :math:`L(x+\\delta) - L(x)` found with :math:`\\|\\delta\\| = \\varepsilon`.
    low
        ``(R,)`` equal to ``value``: an attained point of the ball, so
        :math:`\\phi_\\varepsilon \\ge` ``low`` (up to the rounding of two loss values).
    high
        ``(R,)`` :math:`\\varepsilon\\|\\nabla L(x)\\| + \\tfrac12\\varepsilon^2 M` when a bound
        :math:`M \\ge \\sup_{\\|\\delta\\|\\le\\varepsilon}\\lambda_{\\max}(\\nabla^2L(x+\\delta))`
        is given (``curvature_bound``; Taylor with the Lagrange remainder), else ``inf``: gradient
        and loss values at finitely many points cannot bound a supremum over the ball.
    level
        ``1.0`` (a deterministic bracket; ``high`` is as good as ``M``).
    meaning
        One line saying which ends are certified.
    steps
        Ascent steps taken.
    """

    value: Array
    low: Array
    high: Array
    level: float
    meaning: str
    steps: int

    def __repr__(self) -> str:
        return (f"AscentEstimate(value={_fmt_interval(self.value, self.low, self.high)}, "
                f"steps={self.steps})")


_FLAT_MEANING = (
    "low = mean over the directions of the radii, each a point inside the band (r(δ) ≥ it, "
    "up to rounding of L); high = mean of the first scanned-and-bisected point outside the "
    "band (r_max where capped): r(δ) ≤ it if |L(x + rδ) − L(x)| does not come back into the "
    "band beyond it between scan points (true when it is monotone in r, e.g. L convex along δ "
    "with x a minimum; not certified otherwise). The bracket is of the mean over these "
    "directions; their sampling error is not included")


@dataclass(frozen=True)
class FlatnessEstimate(_Interval):
    """Flatness radii (memo 004 eq. 11), with the bisection's bracket.

    Attributes
    ----------
    value
        ``(R,)`` mean radius over the random directions (``T`` directions per replica).
    radii
        ``(R, directions)`` radius along each direction (``r_max`` where the loss never
        leaves the ε-band up to ``r_max``): the lower end of each direction's bracket.
    capped
        ``(R, directions)`` booleans: the radius reached ``r_max``.
    directions
        ``(R, directions, p)`` the unit directions δ used.
    radii_high
        ``(R, directions)`` the upper end of each direction's bracket (a point outside the
        band, or ``r_max`` where capped).
    low, high
        ``(R,)`` the means of ``radii`` and ``radii_high`` over the directions.
    level
        ``1.0`` (deterministic; ``high`` under the condition in ``meaning``).
    meaning
        One line saying what is certified.
    """

    value: Array
    radii: Array
    capped: Array
    directions: Array
    radii_high: Array | None = None
    low: Array | None = None
    high: Array | None = None
    level: float = 1.0
    meaning: str = _FLAT_MEANING

    def __repr__(self) -> str:
        xp = array_namespace(self.value)
        val = _fmt(xp, self.value) if self.low is None else _fmt_interval(self.value, self.low, self.high)
        return f"FlatnessEstimate(value={val}, directions={self.radii.shape[-1]})"


# ----------------------------------------------------------------------- helpers
def _check_callable(name: str, f: Any) -> None:
    if not callable(f):
        raise TypeError(f"{name} must be callable; got {type(f).__name__}")


def _check_start(name: str, v0: Any) -> Any:
    if not hasattr(v0, "shape"):
        raise TypeError(f"{name} must be an array of shape (R, p); got {type(v0).__name__}")
    if v0.ndim != 2 or v0.shape[0] < 1 or v0.shape[1] < 1:
        raise ValueError(f"{name} must have shape (R, p) with R, p >= 1; got {tuple(v0.shape)}")
    xp = array_namespace(v0)
    if not xp.isdtype(v0.dtype, "real floating"):
        raise TypeError(f"{name} must be a real floating array; got dtype {v0.dtype}")
    norms = xp.sqrt(xp.sum(v0 * v0, axis=-1))
    if not bool(xp.all(xp.isfinite(norms) & (norms > 0))):
        raise ValueError(f"{name} must have finite, nonzero rows (one start vector per replica)")
    return xp


def _check_rtol(rtol: Any) -> float:
    r = check_positive("rtol", rtol)
    if r >= 1:
        raise ValueError(f"rtol must be in (0, 1); got {rtol!r}")
    return r


def _call_checked(name: str, f: Callable[[Any], Any], v: Any, shape: tuple[int, ...]) -> Any:
    out = f(v)
    if not hasattr(out, "shape") or tuple(out.shape) != shape:
        got = tuple(out.shape) if hasattr(out, "shape") else type(out).__name__
        raise ValueError(f"{name} must map an array of shape {tuple(v.shape)} to shape {shape}; got {got}")
    return out


def _dot(a: Any, b: Any, xp: Any) -> Any:
    return xp.sum(a * b, axis=-1)


def _normalize(v: Any, xp: Any) -> tuple[Any, Any]:
    nrm = xp.sqrt(_dot(v, v, xp))
    return v / nrm[:, None], nrm


# ----------------------------------------------------------------- eigenvalues
def top_eigenvalue(hvp: HessianOperator, v0: Any, *, method: str = "lanczos",
                   rtol: float = 1e-8, maxiter: int = 300) -> SpectralEstimate:
    r"""Largest eigenvalue of a symmetric operator given by Hessian-vector products.

    Parameters
    ----------
    hvp
        ``v (R, p) -> (R, p)``: :math:`v \mapsto \nabla^2 L\, v` for each replica (any
        symmetric operator).
    v0
        ``(R, p)`` start vectors (nonzero rows); random Gaussian rows are the usual choice.
    method
        ``"lanczos"`` (default): Lanczos with full reorthogonalization (classical
        Gram–Schmidt applied twice), returns the largest *algebraic* Ritz value; the Krylov
        dimension is capped at ``p`` (where it is exact). ``"power"``: power iteration with
        Rayleigh quotients; it converges to the eigenvalue of largest *modulus*, which is
        :math:`\lambda_{\max}` for positive semi-definite Hessians (minima).
    rtol
        Stopping rule :math:`\|Hy - \theta y\| \le \mathrm{rtol}\,|\theta|` (module docstring).
    maxiter
        Maximum number of ``hvp`` calls.

    Returns
    -------
    SpectralEstimate
        ``value (R,)``, ``vector (R, p)``, ``matvecs``, ``converged (R,)``. Each replica's
        estimate is frozen at the iteration at which it converged; the loop stops when all have.

    Raises
    ------
    ValueError
        Unknown ``method``; ``v0`` not ``(R, p)`` or with a zero row; ``rtol`` not in (0, 1);
        ``maxiter < 1``; ``hvp`` returning the wrong shape.
    TypeError
        ``hvp`` not callable.

    Notes
    -----
    Lanczos builds :math:`HV_k = V_kT_k + \beta_k v_{k+1}e_k^T` with :math:`T_k` tridiagonal;
    the Ritz pair :math:`(\theta, V_ks)` of :math:`T_k` has residual :math:`\beta_k|e_k^Ts|`.
    Its error in :math:`\lambda_{\max}` decays like a Chebyshev polynomial of
    :math:`1 + 2\,\mathrm{gap}/\mathrm{spread}`, against :math:`(\lambda_2/\lambda_1)^{2k}` for
    power iteration; on the problems in the tests Lanczos needs several times fewer matvecs.
    Memory is :math:`O(R\,k\,p)` for the basis.

    References
    ----------
    C. Lanczos, "An iteration method for the solution of the eigenvalue problem of linear
    differential and integral operators", *J. Res. Nat. Bur. Standards* 45, 255–282 (1950);
    B. N. Parlett, *The Symmetric Eigenvalue Problem*, SIAM (1998), ch. 11 and 13 (residual
    bounds, reorthogonalization); Y. Saad, *Numerical Methods for Large Eigenvalue
    Problems*, 2nd ed., SIAM (2011), ch. 4 (power iteration) and 6 (Lanczos);
    R. von Mises and H. Pollaczek-Geiringer, "Praktische Verfahren der
    Gleichungsauflösung", *Z. Angew. Math. Mech.* 9, 152–164 (1929) (power iteration).

    Examples
    --------
    >>> import numpy as np
    >>> H = np.diag([1.0, 2.0, 5.0])
    >>> est = top_eigenvalue(lambda v: v @ H, np.ones((2, 3)))
    >>> np.round(est.value, 10), bool(est.converged.all())
    (array([5., 5.]), True)
    """
    _check_callable("hvp", hvp)
    xp = _check_start("v0", v0)
    rtol = _check_rtol(rtol)
    maxiter = check_int("maxiter", maxiter, minimum=1)
    if method == "lanczos":
        return _lanczos(hvp, v0, rtol, maxiter, xp)
    if method == "power":
        return _power(hvp, v0, rtol, maxiter, xp)
    raise ValueError(f"method must be 'lanczos' or 'power'; got {method!r}")


def _bracket(theta: Any, r: Any, gap: Any, scale: Any, p: int, xp: Any) -> tuple[Any, Any, Any]:
    """``(low, high, high_gap)`` of :math:`\\lambda_{\\max}` from a Ritz pair (``SpectralEstimate``).

    * :math:`\\theta = y^THy \\le \\lambda_{\\max}` for a unit :math:`y` (Rayleigh).
    * Krylov–Weinstein (Parlett 1998, thm 4.5.1): some eigenvalue lies in
      :math:`[\\theta - r, \\theta + r]`; if no eigenvalue other than :math:`\\lambda_{\\max}`
      exceeds :math:`\\theta - r` it is :math:`\\lambda_{\\max}`, so
      :math:`\\lambda_{\\max} \\le \\theta + r`.
    * Kato–Temple (Parlett 1998, thm 10.5.1): if :math:`\\lambda_2 \\le \\alpha < \\theta`,
      :math:`\\lambda_{\\max} \\le \\theta + r^2/(\\theta - \\alpha)`. With the estimated
      :math:`\\alpha = \\theta_2` (the next Ritz value) this is ``high_gap``; but
      :math:`\\theta_2 \\le \\lambda_2` (interlacing), so the premise holds only once
      :math:`\\theta_2` has converged: an estimate, used only where the gap is resolved
      (:math:`\\theta - \\theta_2 > r`), ``high`` otherwise.
    * Rounding: the computed pair is exact for a perturbed operator :math:`H + E`,
      :math:`\\|E\\| \\lesssim p\\,\\epsilon\\,\\|H\\|` (a matvec's error); Weyl's inequality
      moves eigenvalues by :math:`\\|E\\|`; ``scale`` estimates :math:`\\|H\\|`.
    """
    delta = p * xp.finfo(theta.dtype).eps * scale
    resolved = gap > r
    excess = xp.where(resolved, r * r / xp.where(resolved, gap, xp.ones_like(gap)), r)
    return theta - delta, theta + r + delta, theta + excess + delta


def _power(hvp: Callable, v0: Any, rtol: float, maxiter: int, xp: Any) -> SpectralEstimate:
    R, p = v0.shape
    v, _ = _normalize(v0, xp)
    value = xp.zeros((R,), dtype=v0.dtype)
    vector = v
    resid = xp.full((R,), math.inf, dtype=v0.dtype)
    conv = xp.zeros((R,), dtype=xp.bool)
    its = xp.full((R,), maxiter, dtype=xp.int64)
    scale = xp.zeros((R,), dtype=v0.dtype)
    k = 0
    for k in range(1, maxiter + 1):
        w = _call_checked("hvp", hvp, v, (R, p))
        theta = _dot(v, w, xp)
        res = w - theta[:, None] * v
        r = xp.sqrt(_dot(res, res, xp))
        ok = r <= rtol * xp.abs(theta)
        new = ok & ~conv
        keep = ~conv
        wn = xp.sqrt(_dot(w, w, xp))
        value = xp.where(keep, theta, value)
        vector = xp.where(keep[:, None], v, vector)
        resid = xp.where(keep, r, resid)
        scale = xp.where(keep, wn, scale)  # ‖Hv‖ ≥ |θ|: the scale of the rounding
        its = xp.where(new, xp.asarray(k, dtype=xp.int64), its)
        conv = conv | ok
        if bool(xp.all(conv)):
            break
        # A replica whose iterate maps to zero has θ = 0 and an exact (null) eigenvector.
        safe = xp.where(wn > 0, wn, xp.ones_like(wn))
        v = xp.where((wn > 0)[:, None], w / safe[:, None], v)
    gap = xp.zeros_like(value)  # one vector: no second Ritz value
    low, high, high_gap = _bracket(value, resid, gap, scale, p, xp)
    return SpectralEstimate(value=value, vector=vector, matvecs=k, converged=conv,
                            residual=resid, iterations=its, method="power", low=low,
                            high=high, gap=gap, high_gap=high_gap)


def _tridiagonal(alphas: list[Any], betas: list[Any], xp: Any, dtype: Any, device: Any) -> Any:
    """The (R, k, k) Lanczos matrices from diagonals ``alphas`` (k of (R,)) and off-diagonals
    ``betas`` (k-1 of (R,))."""
    k = len(alphas)
    a = xp.stack(alphas, axis=-1)  # (R, k)
    T = xp.eye(k, dtype=dtype, device=device) * a[:, None, :]
    if k > 1:
        b = xp.stack(betas[: k - 1], axis=-1)  # (R, k-1)
        zero = xp.zeros((b.shape[0], 1), dtype=dtype, device=device)
        upper = xp.concat([zero, b], axis=-1)   # T[i, i+1] = β_i: column j = i+1 holds β_{j-1}
        lower = xp.concat([b, zero], axis=-1)   # T[i, i-1] = β_{i-1}: column j = i-1 holds β_j
        T = (T + xp.eye(k, k=1, dtype=dtype, device=device) * upper[:, None, :]
             + xp.eye(k, k=-1, dtype=dtype, device=device) * lower[:, None, :])
    return T


def _lanczos(hvp: Callable, v0: Any, rtol: float, maxiter: int, xp: Any) -> SpectralEstimate:
    R, p = v0.shape
    dtype, device = v0.dtype, getattr(v0, "device", None)
    tiny = xp.finfo(dtype).eps
    kmax = min(maxiter, p)
    v, _ = _normalize(v0, xp)
    V = v[:, None, :]  # (R, k, p) orthonormal basis
    alphas: list[Any] = []
    betas: list[Any] = []
    value = xp.zeros((R,), dtype=dtype, device=device)
    vector = v
    resid = xp.full((R,), math.inf, dtype=dtype, device=device)
    conv = xp.zeros((R,), dtype=xp.bool, device=device)
    its = xp.full((R,), kmax, dtype=xp.int64, device=device)
    scale = xp.zeros((R,), dtype=dtype, device=device)  # running ‖T‖ estimate for breakdown
    frozen_scale = scale
    gap = xp.zeros((R,), dtype=dtype, device=device)
    k = 0
    for k in range(1, kmax + 1):
        w = _call_checked("hvp", hvp, v, (R, p))
        alpha = _dot(v, w, xp)
        # Full reorthogonalization against the whole basis, twice ("twice is enough").
        for _ in range(2):
            coef = (V @ w[:, :, None])[..., 0]            # (R, k)
            w = w - (coef[:, None, :] @ V)[:, 0, :]
        beta = xp.sqrt(_dot(w, w, xp))
        alphas.append(alpha)
        T = _tridiagonal(alphas, betas, xp, dtype, device)
        theta_all, S = xp.linalg.eigh(T)
        theta = theta_all[:, -1]
        s = S[:, :, -1]
        r = beta * xp.abs(s[:, -1])
        scale = xp.maximum(scale, xp.max(xp.abs(theta_all), axis=-1))
        breakdown = beta <= tiny * xp.maximum(scale, xp.ones_like(scale) * tiny)
        ok = (r <= rtol * xp.abs(theta)) | breakdown | (k == p)
        keep = ~conv
        y = (s[:, None, :] @ V)[:, 0, :]
        value = xp.where(keep, theta, value)
        vector = xp.where(keep[:, None], y, vector)
        resid = xp.where(keep, r, resid)
        gap = xp.where(keep, theta - theta_all[:, -2] if k > 1 else xp.zeros_like(theta), gap)
        frozen_scale = xp.where(keep, scale, frozen_scale)
        its = xp.where(ok & keep, xp.asarray(k, dtype=xp.int64), its)
        conv = conv | ok
        if bool(xp.all(conv)) or k == kmax:
            break
        betas.append(beta)
        safe = xp.where(breakdown, xp.ones_like(beta), beta)
        v = w / safe[:, None]
        V = xp.concat([V, v[:, None, :]], axis=1)
    low, high, high_gap = _bracket(value, resid, gap, frozen_scale, p, xp)
    return SpectralEstimate(value=value, vector=vector, matvecs=k, converged=conv,
                            residual=resid, iterations=its, method="lanczos", low=low,
                            high=high, gap=gap, high_gap=high_gap)


def non_uniformity(per_sample_hvp: Callable[[Any], Any], v0: Any, *, method: str = "lanczos",
                   rtol: float = 1e-8, maxiter: int = 300,
                   per_sample_apply: Callable[[Any], Any] | None = None) -> SpectralEstimate:
    r"""Non-uniformity :math:`\lambda_{\max}(\Sigma)`, :math:`\Sigma = \frac1n\sum_i H_i^2 - H^2`.

    Parameters
    ----------
    per_sample_hvp
        ``v (R, p) -> (R, n, p)``: :math:`(H_1v, \dots, H_nv)` for each replica.
    v0
        ``(R, p)`` start vectors.
    method, rtol, maxiter
        As in :func:`top_eigenvalue` (``Σ`` is positive semi-definite, so power iteration
        targets :math:`\lambda_{\max}` too).
    per_sample_apply
        Optional ``u (R, n, p) -> (R, n, p)`` giving :math:`H_i u_i` (sample ``i`` applied to
        row ``i``). With it one application of :math:`\Sigma` costs two calls; without it,
        :math:`\sum_i H_i(H_iv)` is assembled from ``n`` extra calls of ``per_sample_hvp``.

    Returns
    -------
    SpectralEstimate
        ``value`` is :math:`\lambda_{\max}(\Sigma)`; the seed's non-uniformity is
        :math:`s = \sqrt{\lambda_{\max}(\Sigma)}`. ``matvecs`` counts applications of Σ.

    Notes
    -----
    .. math::
        \Sigma v = \frac1n\sum_{i=1}^n H_i(H_iv) - H(Hv), \qquad H = \frac1n\sum_i H_i,

    the covariance of the random matrix :math:`H_\xi` (ξ uniform on the samples) applied to
    ``v``; :math:`v^T\Sigma v = \frac1n\sum_i\|H_iv\|^2 - \|Hv\|^2 \ge 0`.

    References
    ----------
    L. Wu, C. Ma and W. E, "How SGD selects the global minima in over-parameterized
    learning: a dynamical stability perspective", NeurIPS 2018 (seed 000), non-uniformity
    :math:`s = \lambda_{\max}(\Sigma)^{1/2}`.
    """
    _check_callable("per_sample_hvp", per_sample_hvp)
    if per_sample_apply is not None:
        _check_callable("per_sample_apply", per_sample_apply)
    xp = _check_start("v0", v0)
    R, p = v0.shape
    probe = per_sample_hvp(v0)
    if not hasattr(probe, "shape") or probe.ndim != 3 or probe.shape[0] != R or probe.shape[2] != p:
        got = tuple(probe.shape) if hasattr(probe, "shape") else type(probe).__name__
        raise ValueError(f"per_sample_hvp must map (R, p) = {(R, p)} to (R, n, p); got {got}")
    n = probe.shape[1]

    def sigma(v: Any) -> Any:
        hv = per_sample_hvp(v)                       # (R, n, p): H_i v
        mean_hv = xp.mean(hv, axis=1)                # H v
        if per_sample_apply is not None:
            hhv = _call_checked("per_sample_apply", per_sample_apply, hv, (R, n, p))
            second = xp.mean(hhv, axis=1)            # (1/n) Σ_i H_i H_i v
        else:
            second = xp.zeros_like(v)
            for i in range(n):                       # documented fallback: n calls
                second = second + per_sample_hvp(hv[:, i, :])[:, i, :]
            second = second / n
        h2v = xp.mean(per_sample_hvp(mean_hv), axis=1)   # H (H v)
        return second - h2v

    est = top_eigenvalue(sigma, v0, method=method, rtol=rtol, maxiter=maxiter)
    return est


# ------------------------------------------------------------------------ trace
def _resolve_xp(rng: Any, xp: Any) -> Any:
    if xp is not None:
        return xp
    if hasattr(rng, "xp"):
        return rng.xp
    return default_namespace()


def hessian_trace(hvp: HessianOperator, v_shape: tuple[int, int], *, rng: Any,
                  matvecs: int = 60, method: str = "hutch++", xp: Any = None,
                  dtype: Any = None, level: float = 0.95) -> TraceEstimate:
    r"""Stochastic estimate of :math:`\operatorname{Tr}\nabla^2L` from Hessian-vector products.

    Parameters
    ----------
    hvp
        ``v (R, p) -> (R, p)``.
    v_shape
        ``(R, p)``.
    rng
        Seed or :class:`numerics.random.Generator` (Rademacher probes).
    matvecs
        Budget of ``hvp`` calls: all probes for Hutchinson; for Hutch++ split into thirds
        (sketch ``HS``, ``HQ``, deflated probes); at least 1 (Hutchinson) or 3 (Hutch++).
    method
        ``"hutch++"`` (default) or ``"hutchinson"``.
    xp, dtype
        Namespace and dtype of the probes (default: the generator's namespace, float64).
    level
        Nominal coverage of the interval ``[low, high]`` (default 0.95).

    Returns
    -------
    TraceEstimate
        ``value``, ``stderr``, and the Student-t interval ``low``, ``high`` at ``level``
        with its ``meaning`` (``-inf``/``inf`` with fewer than two stochastic probes).

    Notes
    -----
    Hutchinson: :math:`\frac1m\sum_j z_j^THz_j`, :math:`z_j` Rademacher; unbiased with variance
    :math:`2(\|H\|_F^2 - \sum_i H_{ii}^2)/m`. Hutch++ (Meyer et al. 2021, alg. 1): with
    :math:`k = \lfloor m/3 \rfloor`, :math:`Q = \operatorname{qr}(HS)`,

    .. math::
        \widehat{\operatorname{Tr}} = \operatorname{Tr}(Q^THQ)
        + \frac1k\sum_{j}g_j^T(I-QQ^T)H(I-QQ^T)g_j,

    unbiased, with relative error :math:`O(1/m)` instead of :math:`O(1/\sqrt m)` for PSD
    :math:`H`; exact when :math:`H` has rank :math:`\le k`.

    The interval is :math:`\hat t \pm t_{m'-1}(\tfrac{1+\text{level}}2)\,s/\sqrt{m'}` over
    the :math:`m'` i.i.d. stochastic probe values (all of them for Hutchinson, the deflated
    ones for Hutch++, where it holds conditionally on the sketch :math:`Q` and hence
    unconditionally). Its coverage is exact for Gaussian probe values and tends to ``level``
    as :math:`m'` grows (central limit theorem); a Rademacher quadratic form
    :math:`\sum_{i\ne j}H_{ij}z_iz_j` is close to Gaussian unless a few entries dominate
    (then, with few probes, the coverage can fall below ``level``: measured 0.89 for
    :math:`\lambda_i = i^{-2}`, p = 40, m = 10). For Hutch++ the same holds for the
    deflated remainder :math:`(I-QQ^T)H(I-QQ^T)`, of rank :math:`p - k`: with a sketch
    nearly as large as :math:`p` its few remaining eigenvalues dominate (measured 0.92 at
    p = 20, k = 16). The tests measure the coverage on problems with known traces
    (``tests/numerics/test_intervals.py``).

    References
    ----------
    M. F. Hutchinson, "A stochastic estimator of the trace of the influence matrix for
    Laplacian smoothing splines", *Comm. Statist. Simulation Comput.* 19(2), 433–450 (1990);
    R. A. Meyer, C. Musco, C. Musco and D. P. Woodruff, "Hutch++: optimal stochastic trace
    estimation", SOSA 2021, Algorithm 1.

    Examples
    --------
    >>> import numpy as np
    >>> H = np.diag([3.0, 2.0, 1.0])
    >>> est = hessian_trace(lambda v: v @ H, (1, 3), rng=0, matvecs=9)
    >>> np.round(est.value, 10)
    array([6.])
    """
    _check_callable("hvp", hvp)
    if (not isinstance(v_shape, tuple) or len(v_shape) != 2
            or not all(isinstance(t, int) and t >= 1 for t in v_shape)):
        raise ValueError(f"v_shape must be a tuple (R, p) of positive integers; got {v_shape!r}")
    m = check_int("matvecs", matvecs, minimum=1)
    if method not in ("hutch++", "hutchinson"):
        raise ValueError(f"method must be 'hutch++' or 'hutchinson'; got {method!r}")
    if method == "hutch++" and m < 3:
        raise ValueError(f"matvecs must be >= 3 for Hutch++ (one third each for sketch, "
                         f"projection and probes); got {m}")
    level = _check_level(level)
    xp = _resolve_xp(rng, xp)
    gen = default_rng(rng, xp=xp)
    dtype = xp.float64 if dtype is None else dtype
    R, p = v_shape
    if method == "hutchinson":
        vals = []
        fp = xp.zeros((R,), dtype=dtype)
        for _ in range(m):
            z = gen.rademacher((R, p), dtype=dtype)
            hz = _call_checked("hvp", hvp, z, (R, p))
            vals.append(_dot(z, hz, xp))
            fp = fp + math.sqrt(p) * xp.sqrt(_dot(hz, hz, xp)) / m   # mean ‖z‖‖Hz‖
        q = xp.stack(vals, axis=-1)  # (R, m)
        value = xp.mean(q, axis=-1)
        stderr = xp.std(q, axis=-1, correction=1) / math.sqrt(m) if m > 1 else None
        return _trace_estimate(value, stderr, m, m, "hutchinson", level, fp, p, xp)
    k = m // 3
    S = gen.rademacher((R, p, k), dtype=dtype)
    HS = xp.stack([_call_checked("hvp", hvp, S[:, :, j], (R, p)) for j in range(k)], axis=-1)
    Q, _ = xp.linalg.qr(HS)  # (R, p, min(p, k)) reduced
    kq = Q.shape[-1]
    HQ = xp.stack([_call_checked("hvp", hvp, Q[:, :, j], (R, p)) for j in range(kq)], axis=-1)
    low_rank = xp.sum(Q * HQ, axis=(-2, -1))  # Tr(QᵀHQ)
    fp = xp.sum(xp.sqrt(xp.sum(HQ * HQ, axis=-2)), axis=-1)  # Σ_j ‖q_j‖‖Hq_j‖
    kg = m - k - kq
    vals = []
    for _ in range(kg):
        g = gen.rademacher((R, p), dtype=dtype)
        g = g - (Q @ (xp.matrix_transpose(Q) @ g[:, :, None]))[..., 0]
        hg = _call_checked("hvp", hvp, g, (R, p))
        vals.append(_dot(g, hg, xp))
        fp = fp + xp.sqrt(_dot(g, g, xp) * _dot(hg, hg, xp)) / kg
    if kg:
        q = xp.stack(vals, axis=-1)
        value = low_rank + xp.mean(q, axis=-1)
        stderr = xp.std(q, axis=-1, correction=1) / math.sqrt(kg) if kg > 1 else None
    else:
        value, stderr = low_rank, None
    return _trace_estimate(value, stderr, kg, k + kq + kg, "hutch++", level, fp, p, xp)


def _trace_estimate(value: Any, stderr: Any, n: int, matvecs: int, method: str, level: float,
                    fp: Any, p: int, xp: Any) -> TraceEstimate:
    """The estimate with its Student-t interval over ``n`` i.i.d. probe values, widened by
    the rounding of the inner products, :math:`2p\\,\\epsilon\\sum\\|u\\|\\|Hu\\|` (``fp``
    holds the sum): it matters only when the probe values barely vary (Hutch++ whose
    sketch spans :math:`\\mathbb R^p`, or a diagonal :math:`H` under Rademacher probes)."""
    what = "probe values zᵀHz" if method == "hutchinson" else "deflated probe values (given the sketch Q)"
    if stderr is None:
        inf = xp.full(value.shape, math.inf, dtype=value.dtype, device=getattr(value, "device", None))
        return TraceEstimate(value=value, stderr=None, matvecs=matvecs, method=method, low=-inf,
                             high=inf, level=level,
                             meaning=f"no interval: {n} stochastic probe(s), two are needed for a variance")
    half = _t_quantile(level, n - 1) * stderr + 2 * p * xp.finfo(value.dtype).eps * fp
    return TraceEstimate(value=value, stderr=stderr, matvecs=matvecs, method=method,
                         low=value - half, high=value + half, level=level,
                         meaning="Tr H in " + _t_meaning(level, n, what) + " (+ rounding 2p·eps·Σ‖u‖‖Hu‖)")


# -------------------------------------------------------------- loss-based ones
def _check_loss_point(loss: LossFunction, x: Any) -> tuple[Any, Any]:
    _check_callable("loss", loss)
    if not hasattr(x, "shape") or x.ndim != 2:
        got = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(f"x must have shape (R, p); got {got}")
    xp = array_namespace(x)
    L0 = loss(x)
    if not hasattr(L0, "shape") or tuple(L0.shape) != (x.shape[0],):
        got = tuple(L0.shape) if hasattr(L0, "shape") else type(L0).__name__
        raise ValueError(f"loss must map x of shape {tuple(x.shape)} to shape ({x.shape[0]},); got {got}")
    return xp, L0


def epsilon_sharpness(loss: LossFunction, grad: GradFunction, x: Any, *,
                      epsilon: float, steps: int = 100, v0: Any = None,
                      rng: Any = None, curvature_bound: Any = None) -> AscentEstimate:
    r"""ε-sharpness :math:`\phi_\varepsilon(x) = \sup_{\|x'-x\|\le\varepsilon} L(x') - L(x)`.

    Parameters
    ----------
    loss
        ``x (R, p) -> (R,)``.
    grad
        ``x (R, p) -> (R, p)``.
    x
        ``(R, p)`` points (minima, typically).
    epsilon
        Radius of the ball, > 0.
    steps
        Ascent steps (each one ``grad`` and one ``loss`` call).
    v0
        ``(R, p)`` start directions (default: Gaussian from ``rng``). Needed because the
        gradient vanishes at a minimum, so the ascent cannot start at :math:`\delta = 0`.
    rng
        Seed or generator for the default start.
    curvature_bound
        Optional :math:`M` (a float or ``(R,)``), an upper bound on
        :math:`\lambda_{\max}(\nabla^2L)` over the ball (for a quadratic, the ``high`` end of
        :func:`top_eigenvalue`). With it the bracket gets a certified upper end.

    Returns
    -------
    AscentEstimate
        ``value (R,)``: the best value of :math:`L(x+\delta) - L(x)` found, a lower bound on
        :math:`\phi_\varepsilon` that increases with ``steps``; the bracket ``low`` (=
        ``value``, attained) and ``high`` (:math:`\varepsilon\|\nabla L(x)\| +
        \tfrac12\varepsilon^2M`, or ``inf`` without ``curvature_bound``), ``level = 1.0``
        and its ``meaning``. (Before the bracket was added this function returned the
        ``(R,)`` array that is now ``.value``.)

    Notes
    -----
    The inner maximisation runs the fixed-point ascent on the sphere
    :math:`\delta \leftarrow \varepsilon\,\nabla L(x+\delta)/\|\nabla L(x+\delta)\|` (the
    first-order optimality condition :math:`\nabla L(x+\delta) = \mu\delta`, as in SAM's
    inner step, Foret et al. 2021), keeping the best value seen. For a quadratic at its
    minimum, :math:`\nabla L(x+\delta) = H\delta`, this *is* power iteration, so the estimate
    converges to :math:`\varepsilon^2\lambda_1/2` at the rate :math:`(\lambda_2/\lambda_1)^{2k}`;
    hence :math:`2\phi_\varepsilon/\varepsilon^2 \to \lambda_1` (seed 001, Keskar et al. 2017).

    The upper end: for :math:`\|\delta\| \le \varepsilon`, Taylor's theorem with the
    Lagrange remainder gives :math:`L(x+\delta) - L(x) = \nabla L(x)^T\delta +
    \tfrac12\delta^T\nabla^2L(\xi)\delta \le \varepsilon\|\nabla L(x)\| + \tfrac12\varepsilon^2M`.
    At a minimum of a quadratic with :math:`M = \lambda_1` the bracket closes on
    :math:`\varepsilon^2\lambda_1/2` as the ascent converges.

    References
    ----------
    N. S. Keskar, D. Mudigere, J. Nocedal, M. Smelyanskiy and P. T. P. Tang, "On large-batch
    training for deep learning: generalization gap and sharp minima", ICLR 2017 (Keskar et
    al. take the ascent over a box scaled by the parameters and divide by
    :math:`1 + L(x)`; here the ball is Euclidean and the difference unnormalized, as in
    seed 001); P. Foret, A. Kleiner, H. Mobahi and B. Neyshabur,
    "Sharpness-aware minimization for efficiently improving generalization", ICLR 2021 (the
    normalized-gradient inner step).

    Examples
    --------
    >>> import numpy as np
    >>> H = np.diag([4.0, 1.0])
    >>> f = lambda x: 0.5 * np.sum((x @ H) * x, axis=-1)
    >>> phi = epsilon_sharpness(f, lambda x: x @ H, np.zeros((1, 2)), epsilon=0.1, rng=0,
    ...                         curvature_bound=4.0)
    >>> np.round(2 * phi.value / 0.1**2, 8), np.round(2 * phi.high / 0.1**2, 8)
    (array([4.]), array([4.]))
    """
    xp, L0 = _check_loss_point(loss, x)
    _check_callable("grad", grad)
    eps = check_positive("epsilon", epsilon)
    steps = check_int("steps", steps, minimum=1)
    R, p = x.shape
    if v0 is None:
        v0 = default_rng(rng, xp=xp, device=getattr(x, "device", None)).normal((R, p), dtype=x.dtype)
    elif tuple(v0.shape) != (R, p):
        raise ValueError(f"v0 must have the shape of x {(R, p)}; got {tuple(v0.shape)}")
    _check_start("v0", v0)
    M = None
    if curvature_bound is not None:
        if isinstance(curvature_bound, (int, float)) and not isinstance(curvature_bound, bool):
            if not math.isfinite(curvature_bound):
                raise ValueError(f"curvature_bound must be finite; got {curvature_bound!r}")
            M = xp.full((R,), float(curvature_bound), dtype=x.dtype, device=getattr(x, "device", None))
        elif hasattr(curvature_bound, "shape") and tuple(curvature_bound.shape) in ((R,), ()):
            M = xp.asarray(curvature_bound, dtype=x.dtype) * xp.ones((R,), dtype=x.dtype)
            if not bool(xp.all(xp.isfinite(M))):
                raise ValueError("curvature_bound must be finite")
        else:
            got = tuple(curvature_bound.shape) if hasattr(curvature_bound, "shape") else type(curvature_bound).__name__
            raise ValueError(f"curvature_bound must be a number or an array of shape ({R},); got {got}")
    d, _ = _normalize(v0, xp)
    d = eps * d
    best = loss(x + d) - L0
    for _ in range(steps):
        g = _call_checked("grad", grad, x + d, (R, p))
        gn = xp.sqrt(_dot(g, g, xp))
        step = xp.where((gn > 0)[:, None], eps * g / xp.where(gn > 0, gn, xp.ones_like(gn))[:, None], d)
        d = step
        best = xp.maximum(best, loss(x + d) - L0)
    if M is None:
        high = xp.full((R,), math.inf, dtype=best.dtype, device=getattr(best, "device", None))
        meaning = ("φ_ε ≥ low: attained at a point of the sphere ‖δ‖ = ε (up to rounding of L); "
                   "high = inf: not certified (give curvature_bound M ≥ sup λ_max(∇²L) on the ball "
                   "for the upper end ε‖∇L(x)‖ + ε²M/2)")
    else:
        g0 = _call_checked("grad", grad, x, (R, p))
        high = eps * xp.sqrt(_dot(g0, g0, xp)) + 0.5 * eps**2 * M
        meaning = ("φ_ε ≥ low: attained at a point of the sphere ‖δ‖ = ε (up to rounding of L); "
                   "φ_ε ≤ high = ε‖∇L(x)‖ + ε²M/2 (Taylor, Lagrange remainder) if the given M "
                   "bounds λ_max(∇²L) on the ball")
    return AscentEstimate(value=best, low=best, high=high, level=1.0, meaning=meaning, steps=steps)


def pac_bayes_sharpness(loss: LossFunction, x: Any, *, sigma: float, samples: int,
                        rng: Any, antithetic: bool = True, level: float = 0.95) -> SharpnessEstimate:
    r"""PAC-Bayes sharpness :math:`\mathbb E_{v\sim N(0,\sigma^2I)}L(x+v) - L(x)` by sampling.

    Parameters
    ----------
    loss
        ``x (R, p) -> (R,)``.
    x
        ``(R, p)``.
    sigma
        Perturbation scale, > 0.
    samples
        Number of perturbations ``v`` (≥ 2).
    rng
        Seed or generator.
    antithetic
        Evaluate :math:`\frac12[L(x+v)+L(x-v)]` per draw (default): unbiased, and it removes
        the gradient term's variance (exactly the odd part of the loss).
    level
        Nominal coverage of the interval (default 0.95).

    Returns
    -------
    SharpnessEstimate
        ``value (R,)`` and ``stderr (R,)`` = sample standard deviation over
        :math:`\sqrt{\text{samples}}`; ``low``, ``high`` = ``value ∓ t·stderr``,
        :math:`t = t_{\text{samples}-1}((1+\text{level})/2)`, an interval for the
        expectation with coverage ``level`` (exact for Gaussian draws, asymptotic otherwise:
        on a quadratic a draw is :math:`\tfrac12 v^THv`, a weighted :math:`\chi^2`, skewed
        to the right, so with few samples the coverage is a little below ``level``).

    Notes
    -----
    For a quadratic :math:`L(x+v) = L(x) + g^Tv + \frac12v^THv`, so the expectation is
    exactly :math:`\frac{\sigma^2}2\operatorname{Tr}H` (seed 001's approximation, exact here).

    References
    ----------
    Seed 001 (Li), PAC-Bayesian sharpness; B. Neyshabur, S. Bhojanapalli, D. McAllester and
    N. Srebro, "Exploring generalization in deep learning", NeurIPS 2017 (expected
    sharpness); D. A. McAllester, "PAC-Bayesian model averaging", COLT 1999;
    G. K. Dziugaite and D. M. Roy, "Computing nonvacuous generalization bounds for deep
    (stochastic) neural networks with many more parameters than training data", UAI 2017.
    """
    xp, L0 = _check_loss_point(loss, x)
    sig = check_positive("sigma", sigma)
    m = check_int("samples", samples, minimum=2)
    level = _check_level(level)
    gen = default_rng(rng, xp=xp, device=getattr(x, "device", None))
    R, p = x.shape
    vals = []
    for _ in range(m):
        v = gen.normal((R, p), std=sig, dtype=x.dtype)
        if antithetic:
            vals.append(0.5 * (loss(x + v) + loss(x - v)) - L0)
        else:
            vals.append(loss(x + v) - L0)
    q = xp.stack(vals, axis=-1)
    value = xp.mean(q, axis=-1)
    stderr = xp.std(q, axis=-1, correction=1) / math.sqrt(m)
    half = _t_quantile(level, m - 1) * stderr
    what = "antithetic draws ½[L(x+v) + L(x−v)] − L(x)" if antithetic else "draws L(x+v) − L(x)"
    return SharpnessEstimate(value=value, stderr=stderr, samples=m, low=value - half,
                             high=value + half, level=level,
                             meaning="E L(x+v) − L(x) in " + _t_meaning(level, m, what))


def flatness_radius(loss: LossFunction, x: Any, *, epsilon: float, directions: int,
                    rng: Any, r_max: float, grid: int = 64, bisections: int = 50) -> FlatnessEstimate:
    r"""Flatness radius along random unit directions (memo 004, eq. 11).

    .. math:: r(x, \delta, \varepsilon) = \sup\{r \in [0, r_{\max}] :
              |L(x) - L(x + r\delta)| \le \varepsilon\}, \qquad \|\delta\| = 1.

    Parameters
    ----------
    loss
        ``x (R, p) -> (R,)``.
    x
        ``(R, p)`` points (minima).
    epsilon
        Loss tolerance ε > 0 (the memo uses 0.05).
    directions
        Number ``T`` of random isotropic unit directions per replica.
    rng
        Seed or generator.
    r_max
        Search range; a radius equal to ``r_max`` is flagged in ``capped``.
    grid
        Points of the coarse scan of ``(0, r_max]``; the supremum is located on the scan (the
        last scan point inside the band) and refined by bisection against the next scan point.
        An excursion out of the band and back that fits between two scan points is not seen.
    bisections
        Bisection steps: the radius is resolved to ``r_max / grid / 2**bisections``.

    Returns
    -------
    FlatnessEstimate
        ``value (R,)`` (the mean over directions), ``radii (R, T)``, ``capped (R, T)``, and
        the bracket: ``radii_high (R, T)``, ``low``/``high (R,)`` (their means over the
        directions), ``level = 1.0``, ``meaning``. Per direction, ``radii`` is a point inside
        the band (so :math:`r \ge` it) and ``radii_high`` the bisection's point outside it;
        :math:`r \le` ``radii_high`` holds when the loss does not re-enter the band further
        out between two scan points (monotone :math:`|L(x+r\delta) - L(x)|`, e.g. a convex
        loss at its minimum), which the scan cannot see.

    Notes
    -----
    For a quadratic at its minimum, :math:`L(x + r\delta) - L(x) = \frac{r^2}2\delta^TH\delta`,
    so :math:`r = \sqrt{2\varepsilon/\delta^TH\delta}` (``sharpness.flatness_radius``).

    References
    ----------
    Memo 004, eq. (11); S. Hochreiter and J. Schmidhuber, "Flat minima", *Neural Comput.*
    9(1), 1–42 (1997) (flatness as the size of a region where the loss stays within a
    tolerance).
    """
    xp, L0 = _check_loss_point(loss, x)
    eps = check_positive("epsilon", epsilon)
    T = check_int("directions", directions, minimum=1)
    rmax = check_positive("r_max", r_max)
    grid = check_int("grid", grid, minimum=1)
    bisections = check_int("bisections", bisections, minimum=0)
    gen = default_rng(rng, xp=xp, device=getattr(x, "device", None))
    R, p = x.shape
    dtype = x.dtype
    radii = []
    highs = []
    capped = []
    dirs = []
    for _ in range(T):
        delta, _ = _normalize(gen.normal((R, p), dtype=dtype), xp)
        dirs.append(delta)
        inside = lambda r: xp.abs(loss(x + r[:, None] * delta) - L0) <= eps  # noqa: E731
        lo = xp.zeros((R,), dtype=dtype)
        # Coarse scan: lo = last scan point inside the band.
        for j in range(1, grid + 1):
            r = xp.full((R,), rmax * j / grid, dtype=dtype)
            lo = xp.where(inside(r), r, lo)
        cap = lo >= rmax
        hi = xp.minimum(lo + rmax / grid, xp.full((R,), rmax, dtype=dtype))
        for _ in range(bisections):
            mid = 0.5 * (lo + hi)
            ins = inside(mid)
            lo = xp.where(ins, mid, lo)
            hi = xp.where(ins, hi, mid)
        full = xp.full((R,), rmax, dtype=dtype)
        radii.append(xp.where(cap, full, lo))
        highs.append(xp.where(cap, full, hi))
        capped.append(cap)
    rad = xp.stack(radii, axis=-1)
    rad_hi = xp.stack(highs, axis=-1)
    return FlatnessEstimate(value=xp.mean(rad, axis=-1), radii=rad,
                            capped=xp.stack(capped, axis=-1), directions=xp.stack(dirs, axis=1),
                            radii_high=rad_hi, low=xp.mean(rad, axis=-1),
                            high=xp.mean(rad_hi, axis=-1))
