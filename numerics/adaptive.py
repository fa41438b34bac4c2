r"""Variable-metric update rules with an adaptive diagonal metric: RMSprop and Adam.

Both are steps :math:`x_{k+1} = x_k - \gamma H_k^{-1} d_k` with a diagonal metric
:math:`H_k = \operatorname{diag}(\sqrt{v_k} + \epsilon)` built from a running average of
squared (stochastic) gradients, as in seed 003 ("Metrics -- RMSprop and Adam", "Adam --
Summary"). They follow the replica protocol of :mod:`numerics.optim`: ``x`` is ``(R, d)``,
the moments are ``(R, d)`` arrays of the input namespace, and with ``batch`` set each replica
draws its own minibatch each step (as :class:`numerics.optim.SGD`).

The fixed-metric method (``GD(eta, metric=H)``) is in :mod:`numerics.optim`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from numerics._validation import check_batch, check_positive
from numerics.optim import Rule, sample_batches
from numerics.protocols import Array, Model, RandomSource

__all__ = ["Adam", "AdamState", "RMSprop", "RMSpropState", "least_squares_limits"]


def _check_beta(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a real number in (0, 1); got {type(value).__name__}")
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1); got {value!r}")
    return v


def _check_batch_arg(batch: Any) -> int | None:
    if batch is None:
        return None
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be None (full gradient) or an integer >= 1; got {batch!r}")
    return batch


def _gradient(rule: Any, model: Model, x: Array, rng: RandomSource | None) -> Array:
    """Full gradient, or one minibatch gradient per replica (as :class:`SGD` draws them)."""
    if rule.batch is None:
        return model.grad(x)
    return model.batch_grad(x, sample_batches(rng, model.n, rule.batch, x.shape[0],
                                              replace=rule.replace))


def _batch_repr(batch: int | None, replace: bool) -> str:
    if batch is None:
        return ""
    return f", batch={batch}, {'with' if replace else 'without'} replacement"


class RMSpropState(NamedTuple):
    """RMSprop state: the running average of squared gradients ``v`` (``(R, d)``) and the
    number of steps taken (a host integer: it never needs a device sync)."""

    v: Any
    count: int


class AdamState(NamedTuple):
    """Adam state: first and second moment averages ``m``, ``v`` (``(R, d)``) and the step
    count ``k`` that enters the bias corrections :math:`1 - b^k` (a host integer)."""

    m: Any
    v: Any
    count: int


class _AdaptiveRule(Rule):
    """What RMSprop and Adam share: validation of ``eta``, ``beta_v``, ``eps``, ``batch`` and
    the choice between the full gradient and per-replica minibatches."""

    def _validate(self) -> None:
        object.__setattr__(self, "eta", check_positive("eta", self.eta))
        object.__setattr__(self, "beta_v", _check_beta("beta_v", self.beta_v))
        object.__setattr__(self, "eps", check_positive("eps", self.eps))
        object.__setattr__(self, "batch", _check_batch_arg(self.batch))

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.batch is not None

    def _check_model(self, model: Model) -> None:
        if self.batch is not None:
            check_batch(self.batch, model.n)


@dataclass(frozen=True)
class RMSprop(_AdaptiveRule):
    r"""RMSprop: gradient steps in the metric :math:`H_k = \operatorname{diag}(\sqrt{\hat v_k} + \epsilon)`.

    .. math::
        g_k = \widehat{\nabla} f(x_k), \qquad
        \hat v_{k+1} = b_v \hat v_k + (1 - b_v)\, g_k^2, \qquad
        x_{k+1} = x_k - \eta\, \frac{g_k}{\sqrt{\hat v_{k+1}} + \epsilon}

    with :math:`\hat v_0 = 0` and the square, root and division taken coordinate-wise. The
    second moment is *not* bias corrected (seed 003: "RMSprop: biased estimate").

    Parameters
    ----------
    eta
        Step size :math:`\eta > 0` (:math:`\gamma` in seed 003).
    beta_v
        Averaging factor :math:`b_v \in (0, 1)`.
    eps
        :math:`\epsilon > 0` added to the root (keeps the metric positive definite).
    batch
        ``None``: full gradient ``model.grad``. An integer ``B``: each replica draws ``B``
        sample indices per step and uses ``model.batch_grad`` (as :class:`numerics.optim.SGD`;
        the model must then be a :class:`~numerics.protocols.MinibatchModel`).
    replace
        Draw the minibatch with replacement.

    Raises
    ------
    ValueError
        ``eta <= 0``, ``beta_v`` outside (0, 1), ``eps <= 0``, or a bad ``batch``.

    References
    ----------
    Tieleman and Hinton, Lecture 6.5, COURSERA: Neural Networks for Machine Learning (2012);
    seed 003 (Giselsson), "Metrics -- RMSprop and Adam".

    Examples
    --------
    >>> import numpy as np
    >>> from numerics import LeastSquares, run
    >>> m = LeastSquares(np.array([[1.0, 2.0]]), np.array([1.0]), reduction="sum")
    >>> RMSprop(0.01)
    RMSprop(eta=0.01, beta_v=0.999, eps=1e-08)
    >>> bool(run(m, RMSprop(0.01), np.zeros((1, 2)), 2000).records["loss"][-1, 0] < 1e-3)
    True
    """

    eta: float
    beta_v: float = 0.999
    eps: float = 1e-8
    batch: int | None = None
    replace: bool = False

    def __post_init__(self) -> None:
        self._validate()

    def __repr__(self) -> str:
        return (f"RMSprop(eta={self.eta:g}, beta_v={self.beta_v:g}, eps={self.eps:g}"
                f"{_batch_repr(self.batch, self.replace)})")

    def init(self, model: Model, x: Array) -> RMSpropState:
        self._check_model(model)
        return RMSpropState(v=0.0 * x, count=0)

    def step(self, model: Model, x: Array, state: RMSpropState,
             rng: RandomSource | None) -> tuple[Array, RMSpropState]:
        g = _gradient(self, model, x, rng)
        v = self.beta_v * state.v + (1.0 - self.beta_v) * (g * g)
        xp = array_namespace(x)
        x = x - self.eta * g / (xp.sqrt(v) + self.eps)
        return x, RMSpropState(v=v, count=state.count + 1)

    def metric(self, state: RMSpropState) -> Any:
        r"""The diagonal of :math:`H_k = \operatorname{diag}(\sqrt{\hat v_k} + \epsilon)`, ``(R, d)``."""
        return array_namespace(state.v).sqrt(state.v) + self.eps


@dataclass(frozen=True)
class Adam(_AdaptiveRule):
    r"""Adam with bias correction, a variable-metric step (seed 003, "Adam -- Summary").

    .. math::
        g_k &= \widehat{\nabla} f(x_{k-1}), \quad
        \hat m_k = b_m \hat m_{k-1} + (1 - b_m) g_k, \quad
        \hat v_k = b_v \hat v_{k-1} + (1 - b_v) g_k^2, \\
        m_k &= \frac{\hat m_k}{1 - b_m^k}, \quad v_k = \frac{\hat v_k}{1 - b_v^k}, \quad
        x_k = x_{k-1} - \eta\, H_k^{-1} m_k, \quad
        H_k = \operatorname{diag}(\sqrt{v_k} + \epsilon)

    with :math:`\hat m_0 = \hat v_0 = 0` and coordinate-wise operations. (The seed writes
    the last step as :math:`x_{k+1} = x_k - \gamma m_k/(\sqrt{v_k}+\epsilon)` with
    :math:`g_k = \tilde\nabla f(x_{k-1})`; the iterate index is shifted by one there. Here the
    moment of step ``k`` updates the iterate it was computed from, as in Kingma and Ba.)

    Parameters
    ----------
    eta
        Step size :math:`\eta > 0` (:math:`\gamma`; seed 003 suggests 0.001).
    beta_m, beta_v
        Averaging factors :math:`b_m, b_v \in (0, 1)` (defaults 0.9 and 0.999).
    eps
        :math:`\epsilon > 0` (default 1e-8).
    batch
        ``None``: full gradient. An integer ``B``: per-replica minibatches of size ``B``
        drawn each step through ``model.batch_grad``.
    replace
        Draw the minibatch with replacement.

    Raises
    ------
    ValueError
        ``eta <= 0``, a ``beta`` outside (0, 1), ``eps <= 0``, or a bad ``batch``.

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization", ICLR 2015,
    Algorithm 1; seed 003 (Giselsson), "Adam -- Summary".

    Examples
    --------
    >>> import numpy as np
    >>> from numerics import LeastSquares, run
    >>> Adam(0.001)
    Adam(eta=0.001, beta_m=0.9, beta_v=0.999, eps=1e-08)
    >>> m = LeastSquares(np.array([[1.0, 2.0]]), np.array([1.0]), reduction="sum")
    >>> x1 = run(m, Adam(0.1), np.zeros((1, 2)), 1).x   # first step: -eta * sign(g)
    >>> np.round(x1, 6)
    array([[0.1, 0.1]])
    """

    eta: float
    beta_m: float = 0.9
    beta_v: float = 0.999
    eps: float = 1e-8
    batch: int | None = None
    replace: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "beta_m", _check_beta("beta_m", self.beta_m))
        self._validate()

    def __repr__(self) -> str:
        return (f"Adam(eta={self.eta:g}, beta_m={self.beta_m:g}, beta_v={self.beta_v:g}, "
                f"eps={self.eps:g}{_batch_repr(self.batch, self.replace)})")

    def init(self, model: Model, x: Array) -> AdamState:
        self._check_model(model)
        zero = 0.0 * x
        return AdamState(m=zero, v=zero, count=0)

    def step(self, model: Model, x: Array, state: AdamState,
             rng: RandomSource | None) -> tuple[Array, AdamState]:
        g = _gradient(self, model, x, rng)
        k = state.count + 1
        m = self.beta_m * state.m + (1.0 - self.beta_m) * g
        v = self.beta_v * state.v + (1.0 - self.beta_v) * (g * g)
        # Bias corrections 1 - b^k are host floats: k is a Python int, so no device sync.
        cm = 1.0 / (1.0 - self.beta_m**k)
        cv = 1.0 / (1.0 - self.beta_v**k)
        xp = array_namespace(x)
        x = x - self.eta * (cm * m) / (xp.sqrt(cv * v) + self.eps)
        return x, AdamState(m=m, v=v, count=k)

    def metric(self, state: AdamState) -> Any:
        r"""The diagonal of :math:`H_k = \operatorname{diag}(\sqrt{v_k} + \epsilon)` with the
        bias-corrected :math:`v_k = \hat v_k/(1 - b_v^k)`, ``(R, d)`` (``k ≥ 1``)."""
        if state.count < 1:
            raise ValueError("the Adam metric is defined after the first step (count >= 1); got count=0")
        xp = array_namespace(state.v)
        return xp.sqrt(state.v / (1.0 - self.beta_v**state.count)) + self.eps


def least_squares_limits(model: Any, x0: Any, rules: dict[str, Any], steps: int, *,
                         rng: Any = None) -> dict[str, dict[str, Any]]:
    r"""Run several rules on a :class:`numerics.LeastSquares` from the same replica ensemble
    of initial points and compare where they end with the GD projection point.

    For each rule: the final iterates, their loss, their norm, and their distance to
    :math:`x_0 + A^+(y - Ax_0)` (the limit of GD and SGD from ``x0``, ``linear.gd_limit``).
    Zero and scaled initializations are rows of ``x0``; adaptive rules generally end
    elsewhere on :math:`\{Ax = y\}` (``adaptive.adam_vs_sgd_norm``).

    Parameters
    ----------
    model
        A :class:`numerics.LeastSquares` with a shared design matrix ``A`` ``(n, d)``.
    x0
        Initial points ``(R, d)``.
    rules
        Name -> update rule (``GD(eta, metric=H)``, :class:`Adam`, :class:`RMSprop`, ...).
    steps
        Steps per rule.
    rng
        Seed for stochastic rules.

    Returns
    -------
    dict
        Name -> ``{"x", "loss", "norm", "distance_to_projection", "diverged"}``, arrays of
        the input namespace.

    References
    ----------
    A. C. Wilson, R. Roelofs, M. Stern, N. Srebro and B. Recht, "The marginal value of
    adaptive gradient methods in machine learning", NeurIPS 2017 (adaptive methods reach a
    different interpolant of an underdetermined least-squares problem than GD and SGD).

    Examples
    --------
    >>> import numpy as np
    >>> from numerics import LeastSquares, GD
    >>> m = LeastSquares(np.array([[1.0, 2.0]]), np.array([1.0]), reduction="sum")
    >>> out = least_squares_limits(m, np.zeros((1, 2)), {"GD": GD(0.1), "Adam": Adam(0.01)}, 3000)
    >>> bool(out["GD"]["distance_to_projection"][0] < 1e-12)
    True
    >>> bool(out["Adam"]["norm"][0] > out["GD"]["norm"][0] + 1e-3)
    True
    """
    from numerics.engine import run  # noqa: PLC0415

    xp = array_namespace(x0)
    A, y = model.A, model.y
    if A.ndim != 2:
        raise ValueError(f"least_squares_limits needs a shared design matrix A (n, d); got shape {tuple(A.shape)}")
    pinv = xp.linalg.pinv(A)
    resid = y[None, :] - x0 @ xp.matrix_transpose(A)            # (R, n)
    proj = x0 + resid @ xp.matrix_transpose(pinv)                # x0 + A⁺(y − A x0)
    out: dict[str, dict[str, Any]] = {}
    for name, rule in rules.items():
        traj = run(model, rule, x0, steps, record=(), rng=rng)
        x = traj.x
        out[name] = {
            "x": x,
            "loss": model.loss(x),
            "norm": xp.linalg.vector_norm(x, axis=-1),
            "distance_to_projection": xp.linalg.vector_norm(x - proj, axis=-1),
            "diverged": traj.diverged,
        }
    return out
