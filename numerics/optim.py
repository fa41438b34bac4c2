r"""Update rules: small objects that map (model, x, state, rng) to the next iterate.

A rule has ``init(model, x) -> state`` and ``step(model, x, state, rng) -> (x, state)``
(the :class:`numerics.protocols.UpdateRule` contract).
Every rule works on a leading replica axis (``x`` of shape ``(R, d)``) and draws its
randomness from a :class:`numerics.random.Generator`, so a run is one array program and is
reproducible given the seed. A model provides ``grad(x)``, and for the stochastic rules
``batch_grad(x, idx)`` and ``n``.

The metric option turns GD/SGD into the scaled (variable-metric with fixed ``H``) method
:math:`x_{k+1} = x_k - \eta H^{-1}\hat g_k` of seed 003.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from array_api_compat import array_namespace

from numerics._validation import (
    check_array,
    check_batch,
    check_finite,
    check_positive,
    check_symmetric,
    check_same_namespace,
)
from numerics.backend import is_host_array
from numerics.protocols import Array, MinibatchModel, Model, RandomSource

__all__ = ["GD", "SGD", "Rule", "apply_metric", "descend", "sample_batches"]


def apply_metric(g: Array, metric_inv: Array | None) -> Array:
    r""":math:`H^{-1}g` row-wise.

    Parameters
    ----------
    g
        ``(R, d)`` gradients.
    metric_inv
        :math:`H^{-1}` as a diagonal ``(d,)`` or a matrix ``(d, d)``; ``None`` is the
        identity.

    Returns
    -------
    array
        ``(R, d)``: row ``r`` is :math:`H^{-1}g_r`.

    Examples
    --------
    >>> import numpy as np
    >>> apply_metric(np.ones((1, 2)), np.array([0.5, 2.0]))
    array([[0.5, 2. ]])
    """
    if metric_inv is None:
        return g
    if metric_inv.ndim == 1:
        return g * metric_inv
    xp = array_namespace(g, metric_inv)
    return g @ xp.matrix_transpose(metric_inv)


def descend(x: Array, eta: float, g: Array) -> Array:
    r""":math:`x - \eta g`, written into ``g`` when that is safe (NumPy, no temporaries).

    The step of :class:`GD` and :class:`SGD`. On NumPy, when ``g`` is an array of its own
    (not a view, not ``x``) of the shape and dtype of the result, the product and the
    difference are written into ``g``: the same two roundings as ``x - eta * g``, so the
    same bits, without the two ``(R, d)`` temporaries (whose pages a large step would fault
    in again on every call). Otherwise, and on every other namespace, ``x - eta * g``.

    Parameters
    ----------
    x
        Iterates ``(R, d)``; never modified.
    eta
        Step size.
    g
        The (preconditioned) gradient the model returned for ``x``; on NumPy it may be
        overwritten, so a model must return a fresh array, as every model of
        :mod:`numerics` does.

    Returns
    -------
    array
        ``(R, d)``: the next iterate.

    Examples
    --------
    >>> import numpy as np
    >>> descend(np.ones((1, 2)), 0.5, np.array([[2.0, 4.0]]))
    array([[ 0., -1.]])
    """
    if (is_host_array(x) and is_host_array(g) and g is not x and g.base is None
            and g.shape == x.shape and g.dtype == x.dtype and g.flags.writeable):
        g *= -eta  # (-η)·g = -(η·g) and x + (-a) = x - a exactly: the bits of x - η·g
        g += x
        return g
    return x - eta * g


def sample_batches(rng: RandomSource, n: int, batch: int, replicas: int, *,
                   replace: bool = False) -> Array:
    """One minibatch of sample indices per replica.

    Parameters
    ----------
    rng
        The generator (:class:`numerics.random.Generator`).
    n
        Number of samples; indices are in ``[0, n)``.
    batch
        Indices per replica, ``B``.
    replicas
        Number of replicas, ``R``.
    replace
        ``False``: ``B`` distinct indices, a uniform ordered sample without replacement (the
        seeds' convention); ``True``: ``B`` i.i.d. uniform indices.

    Returns
    -------
    array
        ``(R, B)`` int64 of the generator's namespace.
    """
    if replace:
        return rng.integers(0, n, (replicas, batch))
    return rng.choice_without_replacement(n, batch, (replicas,))


def _metric_inverse(metric: Any | None) -> Any | None:
    """The inverse of a fixed metric: a positive diagonal ``(d,)`` or a symmetric positive
    definite ``(d, d)`` (symmetry to rounding, as :func:`check_psd`); NaN or infinity and
    non-symmetric matrices are refused (a metric defines a norm; for a general invertible
    preconditioner wrap the model, ``numerics.linear.Preconditioned``)."""
    if metric is None:
        return None
    xp = check_array("metric", metric)
    check_finite("metric", metric, xp)
    if metric.ndim == 1:
        if not bool(xp.all(metric > 0)):
            raise ValueError("metric (diagonal) must have positive entries")
        return 1.0 / metric
    if metric.ndim != 2 or metric.shape[0] != metric.shape[1]:
        raise ValueError(f"metric must be (d,) or (d, d); got shape {tuple(metric.shape)}")
    check_symmetric("metric", metric, xp)
    lam = xp.linalg.eigvalsh(metric)
    if not bool(xp.all(lam > 0)):
        raise ValueError(
            f"metric must be symmetric positive definite; smallest eigenvalue {float(xp.min(lam)):.3g}"
        )
    return xp.linalg.inv(metric)


def _check_metric_size(metric: Any | None, model: Model, x: Array) -> None:
    if metric is None:
        return
    check_same_namespace(metric=metric, x0=x)
    d = x.shape[-1]
    if metric.shape[-1] != d:
        raise ValueError(f"metric must be of size d = {d} (the iterate's dimension); "
                         f"got shape {tuple(metric.shape)}")


class Rule:
    """Base class of the update rules of :mod:`numerics` (for ``isinstance`` and a shared
    ``init``); each subclass implements :class:`numerics.protocols.UpdateRule`.

    ``init(model, x)`` checks a fixed metric's size against the iterate and returns ``None``
    (no state); subclasses override ``step`` and, for state or minibatches, ``init``.
    """

    stochastic = False

    def init(self, model: Model, x: Array) -> Any:
        _check_metric_size(getattr(self, "metric", None), model, x)
        return None

    def step(self, model: Model, x: Array, state: Any,
             rng: RandomSource | None) -> tuple[Array, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class GD(Rule):
    r"""Gradient descent :math:`x_{k+1} = x_k - \eta H^{-1}\nabla L(x_k)` (``H = I`` by default).

    Parameters
    ----------
    eta
        Step size, > 0.
    metric
        Optional fixed metric ``H``: a positive diagonal ``(d,)`` or an SPD ``(d, d)`` array.

    Raises
    ------
    ValueError
        ``eta <= 0``, or a metric that is not positive (diagonal) or symmetric positive
        definite (matrix).

    References
    ----------
    A. Cauchy, "Méthode générale pour la résolution des systèmes d'équations simultanées",
    *C. R. Acad. Sci. Paris* 25, 536–538 (1847); seed 003 (Giselsson), "Metrics" (the
    fixed-metric step).

    Examples
    --------
    >>> GD(eta=0.1)
    GD(eta=0.1)
    """

    eta: float
    metric: Any = None
    _minv: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", check_positive("eta", self.eta))
        object.__setattr__(self, "_minv", _metric_inverse(self.metric))

    def __repr__(self) -> str:
        return f"GD(eta={self.eta:g}{'' if self.metric is None else ', metric=H'})"

    def step(self, model: Model, x: Array, state: Any,
             rng: RandomSource | None) -> tuple[Array, Any]:
        return descend(x, self.eta, apply_metric(model.grad(x), self._minv)), state


@dataclass(frozen=True)
class SGD(Rule):
    r"""Minibatch SGD :math:`x_{k+1} = x_k - \eta H^{-1}\frac1B\sum_{i\in\mathcal B_k}\nabla\ell_i(x_k)`.

    Each replica draws its own batch each step: ``B`` distinct indices (``replace=False``,
    the seeds' convention) or ``B`` i.i.d. indices (``replace=True``).

    Parameters
    ----------
    eta
        Step size, > 0.
    batch
        Batch size ``B`` in ``[1, n]`` (checked against the model at ``init``).
    replace
        Sample with replacement.
    metric
        Optional fixed metric as in :class:`GD`.

    Raises
    ------
    ValueError
        ``eta <= 0`` or ``batch`` not an integer >= 1 (and, at ``init``, ``batch > n``).

    References
    ----------
    H. Robbins and S. Monro, "A stochastic approximation method", *Ann. Math. Statist.*
    22(3), 400–407 (1951).

    Examples
    --------
    >>> SGD(eta=0.1, batch=2)
    SGD(eta=0.1, batch=2, without replacement)
    """

    eta: float
    batch: int = 1
    replace: bool = False
    metric: Any = None
    _minv: Any = field(default=None, init=False, repr=False, compare=False)
    stochastic = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", check_positive("eta", self.eta))
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise ValueError(f"batch must be an integer >= 1; got {self.batch!r}")
        object.__setattr__(self, "_minv", _metric_inverse(self.metric))

    def __repr__(self) -> str:
        w = "with" if self.replace else "without"
        m = "" if self.metric is None else ", metric=H"
        return f"SGD(eta={self.eta:g}, batch={self.batch}, {w} replacement{m})"

    def init(self, model: MinibatchModel, x: Array) -> Any:
        check_batch(self.batch, model.n)
        _check_metric_size(self.metric, model, x)
        return None

    def step(self, model: MinibatchModel, x: Array, state: Any,
             rng: RandomSource) -> tuple[Array, Any]:
        idx = sample_batches(rng, model.n, self.batch, x.shape[0], replace=self.replace)
        g = model.batch_grad(x, idx)
        return descend(x, self.eta, apply_metric(g, self._minv)), state
