r"""Langevin gradient descent (GDL/SGDL) and potentials with a flat and a sharp minimum.

The iteration (memo 004, eq. (5) with constant noise) is

.. math:: x_{t+1} = x_t - \eta\,\widehat{\nabla U}(x_t) + \sqrt{2\eta T}\,\xi_t,\qquad \xi_t\sim N(0, I_d),

with the full gradient (GDL) or a minibatch gradient (SGDL). For small η its stationary law
is close to the Boltzmann density :math:`e^{-U/T}/Z` (``langevin.boltzmann``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from numbers import Integral, Real

from numerics._validation import (
    POSITIVE,
    Interval,
    Optional,
    Shape,
    check_batch,
    namespace_for,
    validate,
)
from numerics.optim import Rule, sample_batches

_COUNT = Interval(Integral, 1, None, closed="left")

__all__ = ["HarmonicWell", "Langevin", "TwoWellPotential"]


@dataclass(frozen=True)
class Langevin(Rule):
    r"""Langevin step :math:`x \leftarrow x - \eta\nabla U(x) + \sqrt{2\eta T}\xi`.

    Parameters
    ----------
    eta
        Step size, > 0.
    T
        Temperature, > 0.
    batch
        ``None`` for the full gradient (GDL); an integer uses ``model.batch_grad`` with
        per-replica minibatches drawn without replacement (SGDL).

    References
    ----------
    M. Welling and Y. W. Teh, *Bayesian learning via stochastic gradient Langevin
    dynamics*, ICML 2011 (the minibatch variant, SGDL); memo 004, eq. (5).

    Examples
    --------
    >>> Langevin(eta=0.01, T=0.5)
    Langevin(eta=0.01, T=0.5)
    """

    eta: float
    T: float
    batch: int | None = None
    stochastic = True

    def __post_init__(self) -> None:
        eta, T, batch = validate("Langevin", {"eta": (self.eta, POSITIVE),
                                              "T (temperature)": (self.T, POSITIVE),
                                              "batch": (self.batch, Optional(_COUNT))})
        object.__setattr__(self, "eta", eta)
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "batch", batch)

    def __repr__(self) -> str:
        b = "" if self.batch is None else f", batch={self.batch}"
        return f"Langevin(eta={self.eta:g}, T={self.T:g}{b})"

    def init(self, model: Any, x: Any) -> Any:
        if self.batch is not None:
            check_batch(self.batch, model.n, owner="Langevin")
        return None

    def step(self, model: Any, x: Any, state: Any, rng: Any) -> tuple[Any, Any]:
        if self.batch is None:
            g = model.grad(x)
        else:
            g = model.batch_grad(x, sample_batches(rng, model.n, self.batch, x.shape[0]))
        xi = rng.normal(tuple(x.shape), dtype=x.dtype)
        return x - self.eta * g + (2.0 * self.eta * self.T) ** 0.5 * xi, state


class TwoWellPotential:
    r"""Two quadratic wells of equal depth joined by a soft minimum:

    .. math:: U(x) = -\tau\log\Bigl(e^{-a\|x - m_s\|^2/(2\tau)} + e^{-a\|x - m_f\|^2/(2k^2\tau)}\Bigr),

    :math:`m_s = -c\,e_1` (sharp, Hessian :math:`aI`) and :math:`m_f = +c\,e_1` (flat, Hessian
    :math:`aI/k^2`: k times wider in every direction). At temperature :math:`T = \tau` the
    Boltzmann density is exactly the Gaussian mixture
    :math:`N(m_s, \tfrac{\tau}{a}I) + N(m_f, \tfrac{k^2\tau}{a}I)` (unnormalized weights), whose
    component masses are in ratio :math:`k^d` (``langevin.basin_mass_ratio``).

    Parameters
    ----------
    d
        Dimension.
    a
        Curvature of the sharp well, > 0.
    k
        Width ratio, ≥ 1.
    c
        Half the distance between the minima, > 0.
    tau
        Softness of the minimum, > 0.
    """

    def __init__(self, d: int, *, a: float, k: float, c: float = 1.0, tau: float = 1.0) -> None:
        self.d, self.a, self.k, self.c, self.tau = validate("TwoWellPotential", {
            "d": (d, _COUNT), "a": (a, POSITIVE),
            "k (width ratio)": (k, Interval(Real, 1, None, closed="left")),
            "c": (c, POSITIVE), "tau": (tau, POSITIVE)})
        self._x = Shape(("R", "d"), dims={"d": self.d})

    def __repr__(self) -> str:
        return (f"TwoWellPotential(d={self.d}, a={self.a:g}, k={self.k:g}, c={self.c:g}, "
                f"tau={self.tau:g})")

    def _parts(self, x: Any) -> tuple[Any, Any, Any, Any]:
        self._x("TwoWellPotential", "x", x)
        xp = namespace_for(None, x)
        shift = xp.zeros((self.d,), dtype=x.dtype)
        e1 = xp.concat([xp.ones((1,), dtype=x.dtype), shift[1:]])
        ds = x + self.c * e1
        df = x - self.c * e1
        Us = 0.5 * self.a * xp.sum(ds * ds, axis=-1)
        Uf = 0.5 * self.a / self.k**2 * xp.sum(df * df, axis=-1)
        return ds, df, Us, Uf

    def loss(self, x: Any) -> Any:
        """U(x), ``(R,)``."""
        _, _, Us, Uf = self._parts(x)
        xp = namespace_for(None, x)
        m = xp.minimum(Us, Uf)
        return m - self.tau * xp.log(xp.exp(-(Us - m) / self.tau) + xp.exp(-(Uf - m) / self.tau))

    def grad(self, x: Any) -> Any:
        r""":math:`\nabla U = \pi_s a(x - m_s) + \pi_f (a/k^2)(x - m_f)`, π the soft weights."""
        ds, df, Us, Uf = self._parts(x)
        xp = namespace_for(None, x)
        # pi_s = 1/(1 + exp((Us − Uf)/tau)), computed stably.
        zlog = (Us - Uf) / self.tau
        pi_s = xp.where(zlog > 0, xp.exp(-xp.abs(zlog)) / (1 + xp.exp(-xp.abs(zlog))),
                        1 / (1 + xp.exp(-xp.abs(zlog))))
        pi_f = 1 - pi_s
        return (pi_s[:, None] * self.a) * ds + (pi_f[:, None] * self.a / self.k**2) * df

    def in_flat_basin(self, x: Any) -> Any:
        r"""``(R,)`` booleans: the point is in the flat well's basin
        :math:`\{\|x - m_f\|^2/k^2 < \|x - m_s\|^2\}` (an Apollonius ball for k > 1)."""
        _, _, Us, Uf = self._parts(x)
        return Uf < Us


class HarmonicWell:
    r""":math:`U(x) = \tfrac a2\|x\|^2`: the Euler–Maruyama chain of :class:`Langevin` on it is
    linear, with stationary law :math:`N(0, \tfrac{T}{a(1 - \eta a/2)}I)` exactly (so its
    O(η) bias is known).

    Parameters
    ----------
    d
        Dimension.
    a
        Curvature, > 0.
    """

    def __init__(self, d: int, *, a: float) -> None:
        self.d, self.a = validate("HarmonicWell", {"d": (d, _COUNT), "a": (a, POSITIVE)})
        self._x = Shape(("R", "d"), dims={"d": self.d})

    def __repr__(self) -> str:
        return f"HarmonicWell(d={self.d}, a={self.a:g})"

    def _check(self, x: Any) -> Any:
        self._x("HarmonicWell", "x", x)
        return namespace_for(None, x)

    def loss(self, x: Any) -> Any:
        """U(x), ``(R,)``."""
        xp = self._check(x)
        return 0.5 * self.a * xp.sum(x * x, axis=-1)

    def grad(self, x: Any) -> Any:
        """a·x, ``(R, d)``."""
        self._check(x)
        return self.a * x
