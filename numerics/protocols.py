r"""The contracts of :mod:`numerics` as code: what a model, an update rule and a measurement are.

The models, rules and estimates of :mod:`numerics` are plain classes; nothing forces them to
inherit from a base. These :class:`typing.Protocol`\ s state what the code that uses them
(:func:`numerics.engine.run`, the rules of :mod:`numerics.optim`, :mod:`numerics.adaptive`,
:mod:`numerics.label_noise`, the measures of :mod:`numerics.sharpness`) relies on, so that a
type checker reads the same contract a reader does, and ``tests/test_protocols.py`` checks
every model and rule of the package against them, structurally (``isinstance``) and by
behaviour (shapes, finite differences).

Conventions shared by every protocol (``ARCHITECTURE.md``, "Numerics"):

- **Replica axis.** A parameter array ``x`` has shape ``(R, p)``: ``R`` independent
  replicas (trajectories, measurements) of a ``p``-dimensional parameter. Every method maps
  the ``R`` replicas at once and keeps the leading axis: ``loss(x)`` is ``(R,)``,
  ``grad(x)`` is ``(R, p)``. ``R`` may be any positive integer, and the replicas never mix.
- **Namespace.** Arrays are of one array-API namespace ``xp`` (NumPy, CuPy, PyTorch,
  ``array_api_strict``): the model's data and the iterates share it, and every output is of
  it (``array_api_compat.array_namespace(out)`` is ``xp``). No method converts to NumPy.
- **Dtype.** Real floating; outputs have the dtype of ``x`` (float64 in the checks and
  tests, where tolerances are derived from its unit roundoff).
- **Dimension.** ``p`` is the model's ``p`` attribute, or ``d`` where parameter and input
  dimensions coincide (linear models); :func:`parameter_dimension` reads it.

Optional capabilities are separate protocols, so that a rule states what it needs: SGD needs a
:class:`MinibatchModel`, label-noise SGD a :class:`LabelNoiseModel`, curvature measurements
an :class:`HVPModel`.

References
----------
PEP 544, "Protocols: Structural subtyping (static duck typing)",
https://peps.python.org/pep-0544/.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Array",
    "GradFunction",
    "HVPModel",
    "HessianOperator",
    "LabelNoiseModel",
    "LossFunction",
    "ManifoldModel",
    "Measurement",
    "MinibatchModel",
    "Model",
    "PerSampleModel",
    "RandomSource",
    "UpdateRule",
    "parameter_dimension",
]

Array = Any
"""An array of an array-API namespace (the standard defines no array type to annotate with)."""


@runtime_checkable
class Model(Protocol):
    r"""A differentiable objective :math:`L:\mathbb R^p\to\mathbb R`, batched over replicas.

    Every model of :mod:`numerics` has these two methods; they are all that
    :class:`numerics.optim.GD` and :func:`numerics.engine.run` (for its ``"loss"`` and
    ``"grad_norm"`` records) call.

    Methods
    -------
    loss(x)
        ``x (R, p) -> (R,)``: :math:`L(x_r)` for each replica ``r``.
    grad(x)
        ``x (R, p) -> (R, p)``: :math:`\nabla L(x_r)`, the gradient of ``loss`` (where
        ``loss`` is differentiable; piecewise models return the gradient of the active
        piece). A fresh array on every call: on NumPy, :func:`numerics.optim.descend` writes
        the step into an array that is not a view (a model that keeps and returns a cached
        array must return a copy).

    Notes
    -----
    ``grad`` is the derivative of ``loss``: for a direction :math:`u`,
    :math:`\langle\nabla L(x), u\rangle = \frac{d}{dt}L(x + tu)|_{t=0}`, which the protocol
    test checks against central finite differences.
    """

    def loss(self, x: Array) -> Array: ...

    def grad(self, x: Array) -> Array: ...


@runtime_checkable
class MinibatchModel(Model, Protocol):
    r"""A model that is an average over ``n`` samples, with minibatch gradients for SGD.

    :math:`L = c\sum_{i=1}^n\ell_i` with :math:`c = 1/n` (``reduction="mean"``) or
    :math:`c = 1` (``reduction="sum"``), and

    .. math:: \widehat\nabla L_{\mathcal B}(x) = \frac{cn}{B}\sum_{i\in\mathcal B}\nabla\ell_i(x),

    so that ``batch_grad`` with every index once (``B = n``) is ``grad`` and a uniform batch
    gives an unbiased estimate of it.

    Attributes
    ----------
    n : int
        The number of samples (``None`` only for wrappers of a model without one).

    Methods
    -------
    batch_grad(x, idx)
        ``x (R, p)``, ``idx (R, B)`` int64 sample indices (one batch per replica) ->
        ``(R, p)``, a fresh array (as ``grad``).
    """

    n: int

    def batch_grad(self, x: Array, idx: Array) -> Array: ...


@runtime_checkable
class PerSampleModel(Model, Protocol):
    r"""A sample-average model that returns every per-sample gradient at once.

    Methods
    -------
    per_sample_grads(x)
        ``x (R, p) -> (R, n, p)``: :math:`cn\nabla\ell_i(x)` (notation of
        :class:`MinibatchModel`), so that their mean over the sample axis is ``grad(x)``.
    """

    n: int

    def per_sample_grads(self, x: Array) -> Array: ...


@runtime_checkable
class HVPModel(Model, Protocol):
    r"""A model with Hessian-vector products, what curvature measurements need.

    Methods
    -------
    hvp(x, v)
        ``x (R, p)``, ``v (R, p) -> (R, p)``: :math:`\nabla^2L(x_r)\,v_r` for each replica,
        the derivative of ``grad`` along ``v``,
        :math:`\frac{d}{dt}\nabla L(x + tv)|_{t=0}`. Bound to a point,
        ``lambda v: model.hvp(x, v)`` is a :class:`HessianOperator`.
    """

    def hvp(self, x: Array, v: Array) -> Array: ...


@runtime_checkable
class LabelNoiseModel(MinibatchModel, Protocol):
    r"""A regression model whose minibatch gradient accepts shifted targets.

    Methods
    -------
    batch_grad(x, idx, target_shift=None)
        As ``MinibatchModel.batch_grad``, with ``target_shift (R, B)`` added to the
        targets :math:`y_i` of the batch (``None``: no shift): the gradient of
        :math:`\frac{cn}{2B}\sum_{i\in\mathcal B}(f_i(x) - y_i - \varepsilon_i)^2`.
    """

    def batch_grad(self, x: Array, idx: Array, target_shift: Array | None = None) -> Array: ...


@runtime_checkable
class ManifoldModel(Protocol):
    r"""An interpolating model near its zero-loss manifold :math:`\Gamma = \{f_i(x) = y_i\}`,
    what :func:`numerics.label_noise.trace_flow` integrates on.

    Methods
    -------
    residual(x)
        ``(R, p) -> (R, n)``: :math:`f_i(x) - y_i`.
    jacobian(x)
        ``(R, p) -> (R, n, p)``: :math:`\partial f_i/\partial x`.
    hessian_trace(x)
        ``(R, p) -> (R,)``: :math:`\operatorname{Tr}\nabla^2L(x)`.
    """

    def residual(self, x: Array) -> Array: ...

    def jacobian(self, x: Array) -> Array: ...

    def hessian_trace(self, x: Array) -> Array: ...


@runtime_checkable
class RandomSource(Protocol):
    """The draws a stochastic rule makes (:class:`numerics.random.Generator` is one).

    Every draw returns an array of the generator's namespace with the given shape; real
    draws are float64 unless ``dtype`` says otherwise, integers are int64.
    """

    def normal(self, shape: tuple[int, ...], *, mean: float = 0.0, std: float = 1.0,
               dtype: Any = None) -> Array: ...

    def uniform(self, shape: tuple[int, ...], *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Array: ...

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Array: ...

    def rademacher(self, shape: tuple[int, ...], dtype: Any = None) -> Array: ...

    def choice_without_replacement(self, n: int, k: int,
                                   shape: tuple[int, ...] = ()) -> Array: ...


@runtime_checkable
class UpdateRule(Protocol):
    r"""An iterative method :math:`(x_k, s_k) \mapsto (x_{k+1}, s_{k+1})` on every replica.

    :func:`numerics.engine.run` calls ``state = rule.init(model, x0)`` once, then
    ``x, state = rule.step(model, x, state, rng)`` per step. :class:`numerics.optim.Rule` is
    the base class that the rules of :mod:`numerics` share.

    Attributes
    ----------
    stochastic : bool
        The rule draws from ``rng`` (then :func:`numerics.engine.run` makes a generator even
        when no seed is given); a deterministic rule receives ``rng=None``.

    Methods
    -------
    init(model, x)
        Validate the rule against the model and the initial iterates ``x (R, p)`` (batch size
        against ``model.n``, metric size against ``p``) and return the initial state: ``None``
        for a memoryless rule, else arrays with leading axis ``R`` of the namespace of ``x``
        and host counters (never a device value that would force a sync).
    step(model, x, state, rng)
        ``x (R, p)`` -> ``(x_next (R, p), state_next)``, of the namespace and dtype of ``x``;
        ``rng`` is a :class:`RandomSource` or ``None``. Replicas are updated independently
        (each draws its own minibatch and noise).
    """

    stochastic: bool

    def init(self, model: Any, x: Array) -> Any: ...

    def step(self, model: Any, x: Array, state: Any,
             rng: RandomSource | None) -> tuple[Array, Any]: ...


class LossFunction(Protocol):
    """``x (R, p) -> (R,)``: a loss evaluated at one point per replica (``model.loss``)."""

    def __call__(self, x: Array, /) -> Array: ...


class GradFunction(Protocol):
    """``x (R, p) -> (R, p)``: its gradient at one point per replica (``model.grad``)."""

    def __call__(self, x: Array, /) -> Array: ...


class HessianOperator(Protocol):
    r"""``v (R, p) -> (R, p)``: a symmetric operator per replica, :math:`v_r \mapsto H_rv_r`
    (the Hessian at a fixed point, ``lambda v: model.hvp(x, v)``); what the curvature
    measures of :mod:`numerics.sharpness` take."""

    def __call__(self, v: Array, /) -> Array: ...


@runtime_checkable
class Measurement(Protocol):
    r"""The result of a measurement of :mod:`numerics.sharpness`: one estimate per replica.

    :class:`~numerics.sharpness.SpectralEstimate`, :class:`~numerics.sharpness.TraceEstimate`,
    :class:`~numerics.sharpness.SharpnessEstimate` and
    :class:`~numerics.sharpness.FlatnessEstimate` are frozen dataclasses that share
    ``value``; each adds what qualifies it (a standard error, a matvec count, a convergence
    flag).

    Attributes
    ----------
    value
        ``(R,)`` real array of the input namespace: the estimate for each replica.
    """

    @property
    def value(self) -> Array: ...


def parameter_dimension(model: Any) -> int | None:
    """The parameter dimension ``p`` of a model: its ``p`` attribute, else its ``d``.

    Parameters
    ----------
    model
        Any model.

    Returns
    -------
    int or None
        ``None`` when the model declares neither (then the iterate's shape is trusted).

    Examples
    --------
    >>> class Line:
    ...     d = 3
    >>> parameter_dimension(Line())
    3
    """
    dim = getattr(model, "p", getattr(model, "d", None))
    return dim if isinstance(dim, int) and not isinstance(dim, bool) else None

