r"""Label-noise SGD and the sharpness-reduction flow it follows near the zero-loss manifold.

Label-noise SGD (seed 001, seed 002; Blanc et al. 2020; Damian, Ma, Lee 2021) draws a
minibatch and a label perturbation :math:`\varepsilon\sim\mathrm{Unif}\{-\delta,\delta\}` per
sample and step:

.. math:: x_{k+1} = x_k - \eta\,\frac{cn}{B}\sum_{i\in\mathcal B_k}(f_i(x_k) - y_i - \varepsilon_{k,i})\nabla f_i(x_k),

i.e. the minibatch gradient of the loss with shifted targets. :func:`trace_flow` integrates
the limiting flow :math:`dY/d\tau = -(\delta^2/4)P_\Gamma\nabla\operatorname{Tr}\nabla^2L`
(``label_noise.limiting_flow``) with a projection back onto Γ after each step.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from array_api_compat import array_namespace

from numerics._validation import check_batch, check_int, check_positive
from numerics.optim import Rule, sample_batches
from numerics.protocols import Array, LabelNoiseModel, ManifoldModel, RandomSource

__all__ = ["LabelNoiseSGD", "trace_flow", "project_to_manifold", "tangent_projector", "trace_grad"]


@dataclass(frozen=True)
class LabelNoiseSGD(Rule):
    r"""Minibatch SGD on targets perturbed by :math:`\pm\delta` (independent signs).

    Parameters
    ----------
    eta
        Step size, > 0.
    delta
        Label-noise magnitude δ ≥ 0 (δ = 0 is plain minibatch SGD).
    batch
        Batch size ``B`` in ``[1, n]``.
    replace
        Sample the batch with replacement.

    Notes
    -----
    The model must be a :class:`~numerics.protocols.LabelNoiseModel`, with
    ``batch_grad(x, idx, target_shift=eps)`` (as
    :class:`numerics.diagonal.DiagonalNet` and
    :class:`numerics.factorization.MatrixSensing` do). Per step the noise added near Γ has
    covariance :math:`\eta^2\delta^2\nabla^2L/B` for ``reduction="mean"``.

    References
    ----------
    G. Blanc, N. Gupta, G. Valiant and P. Valiant, "Implicit regularization for deep neural
    networks driven by an Ornstein-Uhlenbeck like process", COLT 2020; A. Damian, T. Ma and
    J. D. Lee, "Label noise SGD provably prefers flat global minimizers", NeurIPS 2021;
    Z. Li, T. Wang and S. Arora, "What happens after SGD reaches zero loss? A mathematical
    framework", ICLR 2022; seed 001.

    Examples
    --------
    >>> LabelNoiseSGD(eta=0.01, delta=0.5)
    LabelNoiseSGD(eta=0.01, delta=0.5, batch=1, without replacement)
    """

    eta: float
    delta: float
    batch: int = 1
    replace: bool = False
    stochastic = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", check_positive("eta", self.eta))
        if isinstance(self.delta, bool) or not isinstance(self.delta, (int, float)):
            raise TypeError(f"delta must be a real number; got {type(self.delta).__name__}")
        if not self.delta >= 0 or self.delta != self.delta or self.delta == float("inf"):
            raise ValueError(f"delta (label-noise magnitude) must be finite and >= 0; got {self.delta!r}")
        object.__setattr__(self, "delta", float(self.delta))
        object.__setattr__(self, "batch", check_int("batch", self.batch, minimum=1))

    def __repr__(self) -> str:
        w = "with" if self.replace else "without"
        return (f"LabelNoiseSGD(eta={self.eta:g}, delta={self.delta:g}, batch={self.batch}, "
                f"{w} replacement)")

    def init(self, model: LabelNoiseModel, x: Array) -> Any:
        check_batch(self.batch, model.n)
        return None

    def step(self, model: LabelNoiseModel, x: Array, state: Any,
             rng: RandomSource) -> tuple[Array, Any]:
        R = x.shape[0]
        idx = sample_batches(rng, model.n, self.batch, R, replace=self.replace)
        eps = None
        if self.delta > 0:
            eps = self.delta * rng.rademacher((R, self.batch), dtype=x.dtype)
        return x - self.eta * model.batch_grad(x, idx, target_shift=eps), state


def project_to_manifold(model: ManifoldModel, x: Array, *, iterations: int = 30) -> Array:
    r"""Gauss–Newton projection onto :math:`\Gamma = \{f_i(x) = y_i\}`.

    Repeats the minimum-norm correction :math:`x \leftarrow x - J^T(JJ^T)^{-1}r`
    (``J`` the ``(R, n, p)`` Jacobian, ``r`` the residual), which converges quadratically to
    a point of Γ near ``x`` when ``J`` has full row rank.

    Parameters
    ----------
    model
        A :class:`~numerics.protocols.ManifoldModel` (``jacobian``, ``residual``).
    x
        ``(R, p)`` points near Γ.
    iterations
        Number of corrections, >= 1.

    Returns
    -------
    array
        ``(R, p)``.

    References
    ----------
    A. Ben-Israel, "A Newton-Raphson method for the solution of systems of equations",
    *J. Math. Anal. Appl.* 15, 243–252 (1966) (the pseudoinverse Newton step for
    underdetermined systems).
    """
    xp = array_namespace(x)
    for _ in range(check_int("iterations", iterations, minimum=1)):
        J = model.jacobian(x)                                         # (R, n, p)
        r = model.residual(x)                                         # (R, n)
        G = J @ xp.matrix_transpose(J)                                # (R, n, n)
        s = xp.linalg.solve(G, r[..., None])                          # (R, n, 1)
        x = x - (xp.matrix_transpose(J) @ s)[..., 0]
    return x


def _tangent(model: ManifoldModel, x: Array, g: Array) -> Array:
    xp = array_namespace(x)
    J = model.jacobian(x)
    G = J @ xp.matrix_transpose(J)
    s = xp.linalg.solve(G, (J @ g[..., None]))
    return g - (xp.matrix_transpose(J) @ s)[..., 0]


def tangent_projector(model: ManifoldModel, x: Array) -> Array:
    r""":math:`P_\Gamma = I - J^T(JJ^T)^{-1}J`, the orthogonal projection on the tangent space
    of Γ at ``x``.

    Parameters
    ----------
    model
        A :class:`~numerics.protocols.ManifoldModel`; ``J`` is its ``(R, n, p)`` Jacobian.
    x
        ``(R, p)`` points of Γ.

    Returns
    -------
    array
        ``(R, p, p)``.

    References
    ----------
    P.-A. Absil, R. Mahony and R. Sepulchre, *Optimization Algorithms on Matrix Manifolds*,
    Princeton University Press (2008) (the orthogonal projector onto the tangent space of a
    submanifold defined by equations, :math:`I - J^T(JJ^T)^{-1}J`).
    """
    xp = array_namespace(x)
    J = model.jacobian(x)
    G = J @ xp.matrix_transpose(J)
    eye = xp.eye(x.shape[-1], dtype=x.dtype)
    return eye[None, ...] - xp.matrix_transpose(J) @ xp.linalg.solve(G, J)


def trace_flow(model: ManifoldModel, y0: Array, *, delta: float, tau: float, steps: int,
               record_every: int = 0,
               velocity: Callable[[Any, Any], Any] | None = None) -> tuple[Any, Any]:
    r"""Integrate :math:`dY/d\tau = -\frac{\delta^2}{4}P_\Gamma\nabla\operatorname{Tr}\nabla^2L(Y)`
    from ``y0`` (projected onto Γ first) up to ``tau`` with ``steps`` RK4 steps, each followed by
    :func:`project_to_manifold`.

    The model provides ``jacobian``, ``residual`` and ``trace_grad`` (the Euclidean gradient
    of :math:`\operatorname{Tr}\nabla^2L`; for the quadratic model
    :math:`8c\,(\sum_i x_i^2)\odot(u, v)`).

    ``velocity(P, g)``, if given, replaces the right-hand side: it receives the tangent
    projector ``(R, p, p)`` and the gradient of the trace as a column ``(R, p, 1)`` and
    returns dY/dτ as ``(R, p, 1)`` (a claimed flow, e.g. ``Result.numeric`` of
    ``label_noise.limiting_flow``, integrated as it stands).

    Returns
    -------
    (Y, traces)
        ``Y`` at ``tau`` (``(R, p)``) and the trace at the recorded steps
        (``(K, R)``; every ``record_every`` steps, or only the ends if 0).

    References
    ----------
    Z. Li, T. Wang and S. Arora, "What happens after SGD reaches zero loss? A mathematical
    framework", ICLR 2022 (the limiting flow of label-noise SGD); E. Hairer, S. P. Nørsett and G. Wanner, *Solving Ordinary Differential
    Equations I*, 2nd ed., Springer (1993), §II.1 (the classical Runge–Kutta method).
    """
    delta = check_positive("delta", delta, allow_zero=True)
    tau = check_positive("tau", tau, allow_zero=True)
    steps = check_int("steps", steps, minimum=1)
    xp = array_namespace(y0)
    h = tau / steps
    c = -(delta**2) / 4

    def field(y: Any) -> Any:
        if velocity is not None:
            return velocity(tangent_projector(model, y), trace_grad(model, y)[..., None])[..., 0]
        return c * _tangent(model, y, trace_grad(model, y))

    y = project_to_manifold(model, y0)
    traces = [model.hessian_trace(y)]
    for k in range(1, steps + 1):
        k1 = field(y)
        k2 = field(y + h / 2 * k1)
        k3 = field(y + h / 2 * k2)
        k4 = field(y + h * k3)
        y = project_to_manifold(model, y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), iterations=3)
        if (record_every and k % record_every == 0) or k == steps:
            traces.append(model.hessian_trace(y))
    return y, xp.stack(traces, axis=0)


def trace_grad(model: Any, x: Array) -> Array:
    r"""Euclidean gradient of :math:`\operatorname{Tr}\nabla^2L` for a model with a closed form
    (``model.trace_grad``), or, for :class:`~numerics.diagonal.DiagonalNet`,
    :math:`8c(\sum_i x_{ij}^2)(u_j, v_j)`."""
    if hasattr(model, "trace_grad"):
        return model.trace_grad(x)
    xp = array_namespace(x)
    col = xp.sum(model.X * model.X, axis=0)
    return 8 * model.c * x * xp.concat([col, col], axis=-1)[None, :]
