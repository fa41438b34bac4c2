r"""Derived tolerances: every comparison says where its number comes from.

Three kinds (ARCHITECTURE.md, "Tolerances and false alarms"):

* floating point — unit roundoff × a count of operations × the problem's conditioning;
* convergence — a known contraction factor raised to the number of steps taken;
* Monte Carlo — :math:`t\,\hat\sigma/\sqrt N` with :math:`t` the Student-t quantile
  :math:`t_{N-1}^{-1}(1-\alpha/(2m))` when :math:`\hat\sigma` is the sample standard deviation
  (the normal :math:`z = \Phi^{-1}(1-\alpha/(2m))` only when σ is known), for a false-alarm
  probability :math:`\alpha` shared by :math:`m` comparisons (Bonferroni);
* exact tests for few samples — the sign/binomial test (:func:`sign_critical`,
  :func:`binomial_critical`) and Student's t (:func:`t_value`).

Each helper returns a :class:`Tolerance`: the number and the reason, which the CLI and
reports print next to it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

__all__ = [
    "Tolerance",
    "EPS64",
    "FALSE_ALARM",
    "z_value",
    "monte_carlo",
    "floating_point",
    "contraction",
    "combine",
    "sign_critical",
    "binomial_critical",
    "t_value",
    "richardson_limit",
]

EPS64 = 2.0**-52  # float64 machine epsilon (unit roundoff u = EPS64 / 2)

#: Default false-alarm probability of one whole check (all its comparisons together).
#: 1e-6: a full `implreg verify` with a few hundred Monte Carlo comparisons fails by
#: chance about once in ten thousand runs.
FALSE_ALARM = 1e-6


@dataclass(frozen=True)
class Tolerance:
    """A tolerance and the reason for its size.

    The value is a finite number. It is ≥ 0 for ``Outcome.close``; a negative value in
    ``Outcome.at_most`` / ``at_least`` demands a margin: ``observed ≥ bound + |t|`` (e.g.
    "strictly above the bound, beyond rounding").

    Raises
    ------
    ValueError
        A NaN or infinite value (NaN would fail every comparison without saying why, an
        infinite one pass every comparison).
    TypeError
        A value that is not a number, or a reason that is not a string.
    """

    value: float
    reason: str

    def __post_init__(self) -> None:
        try:
            v = float(self.value)
        except (TypeError, ValueError):
            raise TypeError(f"Tolerance value must be a number; got {self.value!r}") from None
        if not math.isfinite(v):  # NaN fails every comparison without saying why; inf passes all
            raise ValueError(f"Tolerance value must be a finite number; got {v!r} "
                             f"(reason: {self.reason})")
        if not isinstance(self.reason, str):
            raise TypeError(f"Tolerance reason must be a str; got {type(self.reason).__name__}")
        object.__setattr__(self, "value", v)

    def __float__(self) -> float:
        return self.value

    def __add__(self, other: "Tolerance") -> "Tolerance":
        return combine(self, other)

    def __repr__(self) -> str:
        return f"Tolerance({self.value:.3g}: {self.reason})"


def z_value(alpha: float = FALSE_ALARM, m: int = 1) -> float:
    r"""Two-sided normal quantile :math:`\Phi^{-1}(1 - \alpha/(2m))`.

    >>> round(z_value(1e-6, 10), 2)
    5.33
    """
    _check_alpha_m(alpha, m)
    return NormalDist().inv_cdf(1 - alpha / (2 * m))


def _check_count(name: str, value: object, minimum: int) -> None:
    """``value`` a whole number (an int, or a float such as ``10.0``) ≥ ``minimum``."""
    whole = isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer())
    if isinstance(value, bool) or not whole:
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")


def _check_alpha_m(alpha: float, m: int) -> None:
    """``alpha`` a probability in (0, 1), ``m`` a count of comparisons ≥ 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a false-alarm probability in (0, 1); got {alpha!r}")
    _check_count("m", m, 1)


def t_value(df: int, alpha: float = FALSE_ALARM, m: int = 1, *,
            one_sided: bool = False) -> float:
    r"""Student-t quantile :math:`t_{df}^{-1}(1 - \alpha/(2m))` (``one_sided``: :math:`1-\alpha/m`).

    The exact critical value of a t-test on a mean whose standard deviation is estimated
    from ``df + 1`` samples of a normal population; for few samples it is far above the
    normal quantile (3 samples at α = 1e-6: t = 1000 against z = 4.9).

    >>> round(t_value(10**6, 1e-6), 2), round(t_value(2, 1e-2), 2)
    (4.89, 9.92)
    """
    _check_count("df", df, 1)
    _check_alpha_m(alpha, m)
    from scipy.stats import t as student_t  # noqa: PLC0415

    q = 1 - alpha / m if one_sided else 1 - alpha / (2 * m)
    return float(student_t.ppf(q, df))


def monte_carlo(std: float, N: int, *, alpha: float = FALSE_ALARM, m: int = 1,
                one_sided: bool = False, known_std: bool = False) -> Tolerance:
    r"""The error bar of a mean of N samples of standard deviation ``std`` at false-alarm
    probability ``alpha`` over ``m`` comparisons.

    With ``std`` a sample standard deviation (the default) the quantile is Student's t
    with N − 1 degrees of freedom, :math:`t\,\hat\sigma/\sqrt N`; only a ``known_std``
    (derived from the theory, not estimated) uses the normal :math:`z`. For means of
    non-normal samples the t quantile is the large-N (CLT) approximation; use N ≳ 30 there
    or an exact test (:func:`sign_critical`, :func:`binomial_critical`).
    """
    _check_count("N", N, 1)
    if N < 2:
        raise ValueError(f"N must be >= 2 for a Monte Carlo error bar; got {N}")
    _check_alpha_m(alpha, m)
    side = "one-sided " if one_sided else ""
    if known_std:
        q = NormalDist().inv_cdf(1 - alpha / m) if one_sided else z_value(alpha, m)
        what = f"z·σ/√N with z = {q:.2f} ({side}false alarm {alpha:g} over {m}), σ = {std:.3g} (derived)"
    else:
        q = t_value(N - 1, alpha, m, one_sided=one_sided)
        what = (f"t·σ̂/√N with Student t_{{{N - 1}}} = {q:.2f} ({side}false alarm {alpha:g} over "
                f"{m}), σ̂ = {std:.3g}")
    return Tolerance(q * std / math.sqrt(N), f"Monte Carlo: {what}, N = {N}")


def binomial_critical(trials: int, p0: float, alpha: float) -> int:
    r"""Smallest k with :math:`P(\mathrm{Binomial}(S, p_0) \ge k) \le \alpha`: an exact
    one-sided binomial test over S independent trials rejects "success rate ≤ p₀" at level
    α when at least k succeed. ``trials + 1`` when no count reaches the level.

    >>> binomial_critical(20, 0.5, 0.05), binomial_critical(100, 0.05, 1e-6)
    (15, 19)
    """
    _check_count("trials", trials, 1)
    if not 0 <= p0 <= 1:
        raise ValueError(f"p0 must be a probability in [0, 1]; got {p0!r}")
    _check_alpha_m(alpha, 1)
    from scipy.stats import binom  # noqa: PLC0415

    for k in range(trials + 1):
        if binom.sf(k - 1, trials, p0) <= alpha:
            return k
    return trials + 1


def floating_point(scale: float, *, ops: float, cond: float = 1.0,
                   eps: float = EPS64, safety: float = 10.0) -> Tolerance:
    r"""``safety · ops · cond · eps · scale``: rounding error of ``ops`` dependent
    floating-point operations on numbers of size ``scale``, amplified by ``cond``.

    The classical bound for a dot product of length n is :math:`\gamma_n = nu/(1-nu)`
    times the sum of magnitudes; ``ops`` plays n and ``scale`` the magnitudes. The factor
    ``safety`` = 10 covers the constants the bound hides (u = eps/2, the (1-nu)⁻¹ term,
    a few extra additions per operation).
    """
    value = safety * ops * cond * eps * max(scale, 0.0)
    return Tolerance(
        value,
        f"floating point: {safety:g}·ops·κ·ε·scale with ops = {ops:.3g}, κ = {cond:.3g}, "
        f"ε = {eps:.3g}, scale = {scale:.3g}",
    )


def contraction(rate: float, steps: int, initial: float) -> Tolerance:
    r""":math:`\rho^k\,e_0`: the error left after ``steps`` steps of a contraction with
    factor ``rate`` from an initial error ``initial``."""
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be a contraction factor in [0, 1); got {rate!r}")
    _check_count("steps", steps, 0)
    value = initial * rate**steps
    return Tolerance(
        value,
        f"convergence: ρ^k·e₀ with ρ = {rate:.4g}, k = {steps}, e₀ = {initial:.3g}",
    )


def combine(*parts: Tolerance) -> Tolerance:
    """The sum of several independent error budgets (a triangle inequality)."""
    return Tolerance(sum(p.value for p in parts), " + ".join(p.reason for p in parts))


def sign_critical(trials: int, alpha: float) -> int:
    r"""Smallest k with :math:`P(\mathrm{Binomial}(S, \tfrac12) \ge k) \le \alpha`: a paired sign
    test over S seeds rejects "no trend" at level α when ≥ k seeds show the trend.
    ``trials + 1`` when no count reaches the level.

    >>> sign_critical(6, 0.05), sign_critical(8, 0.05), sign_critical(12, 0.05)
    (6, 7, 10)
    """
    _check_count("trials", trials, 1)
    _check_alpha_m(alpha, 1)
    for k in range(trials + 1):
        tail = sum(math.comb(trials, j) for j in range(k, trials + 1)) / 2**trials
        if tail <= alpha:
            return k
    return trials + 1


def richardson_limit(samples: Any, *, alpha: float = FALSE_ALARM,
                     m: int = 1) -> tuple[Any, list[Tolerance]]:
    r"""First-order Richardson extrapolation to η → 0 of replica means measured at η, 2η and
    4η, column by column, with its tolerance.

    ``samples`` holds three arrays ``(R_j, k)`` (the replicas of the runs at η, 2η, 4η; k
    quantities each). Per column, :math:`A = 2E_\eta - E_{2\eta}`; its tolerance is a
    Student-t term on A (variance :math:`4\sigma^2_\eta/R_0 + \sigma^2_{2\eta}/R_1`,
    Welch–Satterthwaite degrees of freedom, false alarm ``alpha``/2 over ``m`` comparisons)
    plus the O(η²) remainder :math:`(A' - A)/3`, A' the extrapolation from 2η and 4η, at its
    one-sided upper confidence limit (estimated a posteriori: the expansion in η is assumed,
    not certified). A column that does not fluctuate has a zero Monte Carlo term.

    Returns
    -------
    (A, tolerances)
        ``A`` ``(k,)`` and one :class:`Tolerance` per column.
    """
    import numpy as np  # noqa: PLC0415

    Rs = [s.shape[0] for s in samples]
    E = [np.mean(s, axis=0) for s in samples]
    V = [np.var(s, axis=0, ddof=1) / r for s, r in zip(samples, Rs)]
    A, A2 = 2 * E[0] - E[1], 2 * E[1] - E[2]
    out = []
    for j in range(A.size):
        def welch(ws: tuple[float, ...], _j: int = j) -> tuple[float, int]:
            parts = [w * w * V[k][_j] for k, w in enumerate(ws)]
            s2 = sum(parts)
            if s2 == 0.0:
                return 0.0, 0
            df = max(int(s2**2 / sum(q * q / (r - 1) for q, r in zip(parts, Rs))), 1)
            return math.sqrt(s2), df

        se, df = welch((2.0, 1.0))
        se_d, df_d = welch((-2.0, 3.0, -1.0))  # A' − A = −2E_η + 3E_2η − E_4η
        t_a = t_value(df, alpha / 2, m) if se > 0 else 0.0
        t_d = t_value(df_d, alpha / 2, m, one_sided=True) if se_d > 0 else 0.0
        rem = (abs(A2[j] - A[j]) + t_d * se_d) / 3
        out.append(Tolerance(t_a * se, f"Monte Carlo: Student t_{{{df}}} = {t_a:.2f}·SE of "
                             f"2E_η − E_2η (false alarm {alpha / 2:g} over {m})") + Tolerance(
            rem, "O(η²) remainder of the extrapolation, |A(2η,4η) − A(η,2η)|/3 at its upper "
                 "confidence limit (a posteriori; the expansion in η is assumed, not certified)"))
    return A, out
