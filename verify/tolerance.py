r"""Derived tolerances: every comparison says where its number comes from.

Three kinds (DESIGN.md, STYLE.md):

* floating point — unit roundoff × a count of operations × the problem's conditioning;
* convergence — a known contraction factor raised to the number of steps taken;
* Monte Carlo — :math:`z\,\hat\sigma/\sqrt N` with :math:`z = \Phi^{-1}(1-\alpha/(2m))` for a
  false-alarm probability :math:`\alpha` shared by :math:`m` comparisons (Bonferroni).

Each helper returns a :class:`Tolerance`: the number and the reason, which the CLI and
reports print next to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

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
]

EPS64 = 2.0**-52  # float64 machine epsilon (unit roundoff u = EPS64 / 2)

#: Default false-alarm probability of one whole check (all its comparisons together).
#: 1e-6: a full `implreg verify` with a few hundred Monte Carlo comparisons fails by
#: chance about once in ten thousand runs.
FALSE_ALARM = 1e-6


@dataclass(frozen=True)
class Tolerance:
    """A tolerance and the reason for its size."""

    value: float
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))

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
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    if m < 1:
        raise ValueError(f"m must be >= 1; got {m}")
    return NormalDist().inv_cdf(1 - alpha / (2 * m))


def monte_carlo(std: float, N: int, *, alpha: float = FALSE_ALARM, m: int = 1,
                one_sided: bool = False) -> Tolerance:
    r""":math:`z\,\hat\sigma/\sqrt N`: the error bar of a mean of N samples of standard
    deviation ``std`` at false-alarm probability ``alpha`` over ``m`` comparisons."""
    if N < 2:
        raise ValueError(f"N must be >= 2 for a Monte Carlo error bar; got {N}")
    z = NormalDist().inv_cdf(1 - alpha / m) if one_sided else z_value(alpha, m)
    side = "one-sided " if one_sided else ""
    return Tolerance(
        z * std / math.sqrt(N),
        f"Monte Carlo: z·σ̂/√N with z = {z:.2f} ({side}false alarm {alpha:g} over {m}), "
        f"σ̂ = {std:.3g}, N = {N}",
    )


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
        raise ValueError(f"rate must be in [0, 1); got {rate}")
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
    if trials < 1:
        raise ValueError(f"trials must be >= 1; got {trials}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    for k in range(trials + 1):
        tail = sum(math.comb(trials, j) for j in range(k, trials + 1)) / 2**trials
        if tail <= alpha:
            return k
    return trials + 1
