r"""Linear classification with the logistic loss, the max-margin SVM, and a small ReLU network.

* :class:`LogisticRegression`: :math:`L(\theta) = c\sum_i \log(1 + e^{-y_i x_i^T\theta})`, a
  model for the replica engine (seed 002; the seed's :math:`\log(1+e^{-|u|})` is a typo).
* :func:`separable_data`: separable data with a *known* max-margin solution, support
  vectors and dual variables (the construction is its own certificate).
* :func:`check_separable` (a linear program) and :func:`max_margin` (SciPy's SLSQP on the
  primal SVM, polished on the active set and certified by the KKT conditions).
* :class:`ResidualReLUNet` and :func:`init_scale_experiment`: seed 003's SGD-vs-Adam table
  (‖θ_0‖, ‖θ_end‖, loss, Lipschitz bound against the init scale σ) in miniature.

Labels must be exactly ±1; non-separable data are rejected where separability is assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from numbers import Integral, Real

import numpy as np

from numerics._validation import (
    POSITIVE,
    Array,
    Interval,
    Optional,
    Options,
    Shape,
    describe,
    message,
    namespace_for,
    validate,
)
from numerics.backend import to_numpy
from numerics.engine import run
from numerics.random import default_rng

__all__ = [
    "LogisticRegression",
    "MaxMargin",
    "ResidualReLUNet",
    "SeparableData",
    "angle_to",
    "check_labels",
    "check_separable",
    "init_scale_experiment",
    "max_margin",
    "separable_data",
]


# ----------------------------------------------------------------------------- labels
def check_labels(y: Any, xp: Any | None = None, *, owner: str | None = None) -> None:
    """``ValueError`` unless every label is exactly -1 or +1 (one device sync: boundaries only)."""
    xp = namespace_for(xp, y, owner=owner, names=("y",))
    ok = xp.all((y == 1.0) | (y == -1.0))
    if not bool(ok):
        yh = to_numpy(y)
        bad = np.unique(yh[~np.isin(yh, (-1.0, 1.0))])[:5]
        raise ValueError(message("labels y", "be in {-1, +1}",
                                 f"got values such as {bad.tolist()}", owner=owner))


def _check_xy(X: Any, y: Any, owner: str) -> Any:
    xp = validate(owner, {"X": (X, Array(("n", "d"))), "y": (y, Array(("n",)))}).xp
    check_labels(y, xp, owner=owner)
    return xp


# ----------------------------------------------------------------------------- model
class LogisticRegression:
    r"""Logistic loss of a linear classifier, :math:`L(\theta) = c\sum_i\ell(y_ix_i^T\theta)`,
    :math:`\ell(u) = \log(1+e^{-u})`.

    Parameters
    ----------
    X
        Inputs, ``(n, d)``.
    y
        Labels in {-1, +1}, ``(n,)``.
    reduction
        ``"sum"`` (:math:`c = 1`, Soudry et al. and seed 002) or ``"mean"`` (:math:`c = 1/n`).

    Notes
    -----
    With :math:`z_i = y_ix_i` and :math:`s(u) = 1/(1+e^{u})`:

    .. math::
        \nabla L(\theta) = -c\sum_i s(z_i^T\theta)\,z_i, \qquad
        \nabla^2 L(\theta) = c\sum_i s(u_i)(1-s(u_i))\,z_iz_i^T \preceq \tfrac c4 Z^TZ,

    so GD is stable for :math:`\eta < 8/(c\,\lambda_{\max}(Z^TZ))`. Evaluated with
    ``logaddexp`` so that large margins neither overflow nor lose the tail.

    Raises
    ------
    ValueError
        Labels not in {-1, +1}, mismatched shapes, non-finite inputs.

    Examples
    --------
    >>> import numpy as np
    >>> m = LogisticRegression(np.array([[1.0, 0.0], [0.0, -1.0]]), np.array([1.0, -1.0]))
    >>> m
    LogisticRegression(n=2, d=2, reduction='sum')
    >>> np.round(m.loss(np.zeros((1, 2))), 6)       # 2 log 2
    array([1.386294])
    """

    def __init__(self, X: Any, y: Any, *, reduction: str = "sum") -> None:
        Options("mean", "sum")("reduction", reduction, owner="LogisticRegression")
        xp = _check_xy(X, y, "LogisticRegression")
        self.xp = xp
        self.X, self.y = X, y
        self.Z = y[:, None] * X
        self.n, self.d = X.shape
        self.reduction = reduction
        self.c = 1.0 if reduction == "sum" else 1.0 / self.n
        self._theta = Shape(("R", "d"), dims={"d": self.d}, like=X)

    def __repr__(self) -> str:
        return f"LogisticRegression(n={self.n}, d={self.d}, reduction={self.reduction!r})"

    def _check_x(self, x: Any, name: str = "theta") -> None:
        self._theta("LogisticRegression", name, x)

    def margins(self, x: Any) -> Any:
        r""":math:`u_i = y_ix_i^T\theta` for each replica, ``(R, n)``."""
        self._check_x(x)
        return x @ self.xp.matrix_transpose(self.Z)

    def loss(self, x: Any) -> Any:
        """``(R,)``."""
        u = self.margins(x)
        return self.c * self.xp.sum(self.xp.logaddexp(0.0 * u, -u), axis=-1)

    def _weights(self, u: Any) -> Any:
        # s(u) = 1/(1 + e^u) = exp(-log(1 + e^u)), stable for both signs of u.
        return self.xp.exp(-self.xp.logaddexp(0.0 * u, u))

    def grad(self, x: Any) -> Any:
        """``(R, d)``."""
        return -self.c * (self._weights(self.margins(x)) @ self.Z)

    def hvp(self, x: Any, v: Any) -> Any:
        r""":math:`\nabla^2L(\theta)v`, ``(R, d)``."""
        s = self._weights(self.margins(x))
        self._check_x(v, "v")
        zv = v @ self.xp.matrix_transpose(self.Z)
        return self.c * ((s * (1.0 - s) * zv) @ self.Z)

    def batch_grad(self, x: Any, idx: Any) -> Any:
        r"""Minibatch gradient :math:`-\frac{cn}{B}\sum_{i\in\mathcal B}s(u_i)z_i`; ``idx`` ``(R, B)``."""
        xp = self.xp
        self._check_x(x)
        R, B = idx.shape
        rows = xp.reshape(xp.take(self.Z, xp.reshape(idx, (-1,)), axis=0), (R, B, self.d))
        u = xp.sum(rows * x[:, None, :], axis=-1)
        return -(self.c * self.n / B) * xp.sum(self._weights(u)[..., None] * rows, axis=1)

    def per_sample_grads(self, x: Any) -> Any:
        """``(R, n, d)``; their mean is the gradient."""
        s = self._weights(self.margins(x))
        return -(self.c * self.n) * (s[..., None] * self.Z[None, ...])

    def step_limit(self) -> float:
        r""":math:`8/(c\lambda_{\max}(Z^TZ))`: GD on this loss is stable below this step."""
        Zh = to_numpy(self.Z)
        return 8.0 / (self.c * float(np.linalg.norm(Zh, 2)) ** 2)


# ------------------------------------------------------------------- separable data
@dataclass(frozen=True)
class SeparableData:
    r"""Separable data with a known hard-margin solution.

    Attributes
    ----------
    X, y
        Inputs ``(n, d)`` and labels ``(n,)`` in the input namespace.
    theta_hat
        The margin-1 SVM vector :math:`\hat\theta` (``‖θ̂‖ = 1/γ``), ``(d,)``.
    alpha
        Dual variables ``(n,)``: positive on the ``d`` support vectors (the first ``d`` rows).
    margin
        The geometric margin γ.
    support
        Indices of the support vectors.
    """

    X: Any
    y: Any
    theta_hat: Any
    alpha: Any
    margin: float
    support: tuple[int, ...]


def separable_data(d: int, n_extra: int, *, margin: float = 0.5, m2: float = 2.0,
                   spread: float = 1.5, rng: Any = None, xp: Any = None) -> SeparableData:
    r"""Draw separable data whose max-margin classifier is known by construction.

    With a random unit vector :math:`u`, the ``d`` support vectors are
    :math:`z_s = \gamma u + v_s` with :math:`v_s\perp u` and :math:`\sum_s\alpha_sv_s = 0` for
    random :math:`\alpha_s > 0` normalized to :math:`\sum_s\alpha_s = 1/\gamma^2`; then
    :math:`\hat\theta = \sum_s\alpha_sz_s = u/\gamma` satisfies the KKT conditions
    (:math:`z_s^T\hat\theta = 1`). The other ``n_extra`` points have
    :math:`z_i^T\hat\theta \ge m_2 > 1`. The :math:`v_s` are scaled so that
    :math:`\lambda_{\min}(\sum_s\alpha_sv_sv_s^T|_{u^\perp})` = ``spread``, which sets the
    exponent of the remainder in ``classification.max_margin``. Labels are random signs and
    :math:`x_i = y_iz_i`.

    Parameters
    ----------
    d
        Dimension (≥ 1); also the number of support vectors.
    n_extra
        Number of non-support points (≥ 0).
    margin
        The geometric margin γ > 0.
    m2
        Lower bound (> 1) of :math:`z_i^T\hat\theta` over non-support points.
    spread
        The smallest eigenvalue of the support vectors' weighted scatter orthogonal to u.
    rng
        Seed or :class:`numerics.random.Generator`.
    xp
        Namespace of the returned arrays (NumPy by default).

    References
    ----------
    D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar, N. Srebro, *The implicit bias of
    gradient descent on separable data*, JMLR 19 (2018) (the max-margin direction that GD
    on the logistic loss converges to; the construction certifies it through the KKT
    conditions of the hard-margin SVM).
    """
    d, n_extra, gamma, m2, spread = validate("separable_data", {
        "d": (d, Interval(Integral, 1, None, closed="left")),
        "n_extra": (n_extra, Interval(Integral, 0, None, closed="left")),
        "margin": (margin, POSITIVE),
        "m2": (m2, Interval(Real, 1, None, closed="neither")),
        "spread": (spread, POSITIVE),
    })
    gen = default_rng(rng, xp=xp)
    xp = gen.xp
    u = gen.normal((d,))
    u = u / xp.linalg.vector_norm(u)
    P = xp.eye(d, dtype=u.dtype) - u[:, None] * u[None, :]
    alpha = gen.uniform((d,), low=0.5, high=1.5)
    V = gen.normal((d, d)) @ P
    V = V - (alpha @ V)[None, :] / xp.sum(alpha)
    alpha = alpha / (xp.sum(alpha) * gamma**2)
    if d > 1:
        B = xp.matrix_transpose(V) @ (alpha[:, None] * V)
        # eigenvalues of B on u-perp: B has u in its kernel; drop the smallest (that zero).
        lam = xp.linalg.eigvalsh(B + 1e6 * u[:, None] * u[None, :])[0]
        V = V * xp.sqrt(spread / lam)
    ZS = gamma * u[None, :] + V
    scale = m2 + gen.uniform((n_extra,), low=0.0, high=2.0)
    Zo = (gamma * scale)[:, None] * u[None, :] + 2.0 * (gen.normal((n_extra, d)) @ P)
    Z = xp.concat([ZS, Zo], axis=0)
    y = gen.rademacher((d + n_extra,))
    X = y[:, None] * Z
    alpha_full = xp.concat([alpha, xp.zeros((n_extra,), dtype=alpha.dtype)])
    return SeparableData(X=X, y=y, theta_hat=u / gamma, alpha=alpha_full, margin=gamma,
                         support=tuple(range(d)))


# ------------------------------------------------------------------ separability, SVM
def check_separable(X: Any, y: Any) -> Any:
    r"""Certify that the data are linearly separable through the origin, or raise.

    Solves the feasibility LP :math:`\{\theta : y_ix_i^T\theta \ge 1\ \forall i\}` with
    ``scipy.optimize.linprog`` (HiGHS); it is feasible iff some :math:`\theta` classifies
    every point correctly with a positive margin.

    Returns
    -------
    theta
        A feasible point, ``(d,)`` NumPy array (the certificate).

    Raises
    ------
    ValueError
        Labels not in {-1, +1}, or the data are not separable (the LP is infeasible).
    """
    from scipy.optimize import linprog  # noqa: PLC0415

    _check_xy(X, y, "check_separable")
    Z = to_numpy(y)[:, None] * to_numpy(X)
    n, d = Z.shape
    res = linprog(np.zeros(d), A_ub=-Z, b_ub=-np.ones(n), bounds=[(None, None)] * d,
                  method="highs")
    if res.status == 2:
        raise ValueError(message(
            "(X, y)", "be linearly separable through the origin (else the max-margin direction "
            "does not exist)", f"got data for which the LP y_i x_iᵀθ ≥ 1 (i = 1..{n}) is infeasible",
            owner="check_separable"))
    if res.status != 0:
        raise RuntimeError(f"separability LP failed: {res.message}")
    return res.x


@dataclass(frozen=True)
class MaxMargin:
    r"""The hard-margin SVM solution :math:`\hat\theta = \arg\min\{\|\theta\|^2 : Z\theta\ge1\}`.

    Attributes
    ----------
    theta
        :math:`\hat\theta`, ``(d,)`` (margin-1 normalization; ``‖θ̂‖ = 1/γ``).
    alpha
        Dual variables ``(n,)`` with :math:`\hat\theta = Z^T\alpha`, zero off the support.
    margin
        γ = 1/‖θ̂‖.
    support
        Indices of the support vectors.
    kkt_residual
        max of the stationarity, feasibility and complementarity violations.
    """

    theta: Any
    alpha: Any
    margin: float
    support: tuple[int, ...]
    kkt_residual: float


def max_margin(X: Any, y: Any, *, tol: float = 1e-7) -> MaxMargin:
    r"""The L2 max-margin (hard-margin SVM, no bias) classifier of separable data.

    SLSQP on the primal :math:`\min\tfrac12\|\theta\|^2` s.t. :math:`Z\theta\ge 1`, then polish
    on the active set :math:`S = \{i : z_i^T\theta \le 1 + \text{tol}\}`: solve
    :math:`Z_SZ_S^T\alpha_S = 1` and set :math:`\hat\theta = Z_S^T\alpha_S` (least squares if the
    support vectors are dependent). The polished point is accepted only if it satisfies the
    KKT conditions (:math:`\alpha\ge0`, :math:`Z\hat\theta\ge1`) to rounding; otherwise
    SLSQP's point is returned with its KKT residual.

    Raises
    ------
    ValueError
        Labels not in {-1, +1}, or data not separable (see :func:`check_separable`).

    References
    ----------
    Soudry et al., *The implicit bias of gradient descent on separable data*, JMLR 2018,
    Theorem 3 (GD's direction on the logistic loss tends to this classifier).
    """
    from scipy.optimize import minimize  # noqa: PLC0415

    xp = _check_xy(X, y, "max_margin")
    tol = POSITIVE("tol", tol, owner="max_margin")
    theta0 = check_separable(X, y)
    Z = to_numpy(y)[:, None] * to_numpy(X)
    n, d = Z.shape
    res = minimize(lambda t: 0.5 * t @ t, theta0, jac=lambda t: t, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda t: Z @ t - 1.0,
                                 "jac": lambda t: Z}],
                   options={"ftol": 1e-15, "maxiter": 1000})
    theta = res.x
    scale = float(np.max(np.abs(Z))) * max(1.0, float(np.linalg.norm(theta)))
    S = np.flatnonzero(Z @ theta <= 1.0 + tol * scale)
    best = theta
    alpha = np.zeros(n)
    if S.size:
        a_S, *_ = np.linalg.lstsq(Z[S] @ Z[S].T, np.ones(S.size), rcond=None)
        cand = Z[S].T @ a_S
        if np.all(a_S >= -tol) and np.all(Z @ cand >= 1.0 - tol * scale):
            best = cand
            alpha[S] = np.maximum(a_S, 0.0)
    kkt = max(float(np.max(np.abs(best - Z.T @ alpha))),
              float(max(0.0, np.max(1.0 - Z @ best))),
              float(np.max(np.abs(alpha * (Z @ best - 1.0)))))
    nrm = float(np.linalg.norm(best))
    return MaxMargin(theta=xp.asarray(best), alpha=xp.asarray(alpha), margin=1.0 / nrm,
                     support=tuple(int(i) for i in S), kkt_residual=kkt)


def angle_to(theta: Any, direction: Any) -> Any:
    r"""Angle (radians) between each row of ``theta`` ``(R, d)`` and ``direction`` ``(d,)``.

    Computed as :math:`\operatorname{atan2}(\|P_\perp\theta\|, \hat u^T\theta)`, accurate for
    small angles (``arccos`` of a cosine near 1 is not).
    """
    xp = validate("angle_to", {"theta": (theta, Array(("R", "d"))),
                               "direction": (direction, Array(("d",)))}).xp
    if not bool(xp.any(direction != 0)):
        raise ValueError(message("direction", "be nonzero", "got the zero vector",
                                 owner="angle_to"))
    u = direction / xp.linalg.vector_norm(direction)
    par = theta @ u
    perp = theta - par[:, None] * u[None, :]
    return xp.atan2(xp.linalg.vector_norm(perp, axis=-1), par)


# ---------------------------------------------------------- residual ReLU network
class ResidualReLUNet:
    r"""A small residual ReLU network with hinge loss, batched over replicas.

    .. math::
        h_0 = \phi(W_0x + b_0),\quad h_{l} = h_{l-1} + \phi(W_lh_{l-1} + b_l)\ (l = 1..L),\quad
        f(x) = W_{L+1}h_L + b_{L+1},

    :math:`\phi = \mathrm{ReLU}`, loss :math:`\frac1n\sum_i\max(0, 1 - y_if(x_i))` (seed 003's
    "classification, hinge loss, ReLU, residual"). Parameters are one flat vector per
    replica (``pack``/``unpack``). The Lipschitz constant of :math:`x\mapsto f(x)` is at most
    :math:`\|W_0\|_2\,\|W_{L+1}\|_2\prod_{l=1}^{L}(1+\|W_l\|_2)` (seed 003, "Generalization in
    neural networks").

    Parameters
    ----------
    X, y
        Inputs ``(n, d_in)`` and labels in {-1, +1} ``(n,)``.
    width
        Hidden width m.
    depth
        Number L of residual (square) layers.
    """

    def __init__(self, X: Any, y: Any, *, width: int = 8, depth: int = 2) -> None:
        width, depth = validate("ResidualReLUNet", {
            "width": (width, Interval(Integral, 1, None, closed="left")),
            "depth": (depth, Interval(Integral, 0, None, closed="left"))})
        xp = _check_xy(X, y, "ResidualReLUNet")
        self.xp = xp
        self.X, self.y = X, y
        self.n, self.d_in = X.shape
        self.width, self.depth = width, depth
        m = self.width
        self.shapes = ([(m, self.d_in)] + [(m, m)] * self.depth + [(1, m)])
        self.p = sum(a * b + a for a, b in self.shapes)
        self._theta = Shape(("R", "p"), dims={"p": self.p}, like=X)

    def __repr__(self) -> str:
        return (f"ResidualReLUNet(n={self.n}, d_in={self.d_in}, width={self.width}, "
                f"depth={self.depth}, params={self.p})")

    def unpack(self, theta: Any) -> list[tuple[Any, Any]]:
        """Flat ``(R, p)`` -> list of ``(W (R, out, in), b (R, out))``."""
        self._theta("ResidualReLUNet", "theta", theta)
        R = theta.shape[0]
        out, i = [], 0
        for a, b in self.shapes:
            W = self.xp.reshape(theta[:, i:i + a * b], (R, a, b))
            i += a * b
            out.append((W, theta[:, i:i + a]))
            i += a
        return out

    def pack(self, layers: list[tuple[Any, Any]]) -> Any:
        """Inverse of :meth:`unpack`."""
        parts = []
        for W, b in layers:
            parts += [self.xp.reshape(W, (W.shape[0], -1)), b]
        return self.xp.concat(parts, axis=-1)

    def _forward(self, theta: Any) -> tuple[Any, list[Any], list[tuple[Any, Any]]]:
        xp = self.xp
        layers = self.unpack(theta)
        W0, b0 = layers[0]
        pre = [xp.matmul(self.X[None, ...], xp.matrix_transpose(W0)) + b0[:, None, :]]
        h = xp.maximum(pre[0], 0.0)
        hs = [h]
        for W, b in layers[1:-1]:
            z = xp.matmul(h, xp.matrix_transpose(W)) + b[:, None, :]
            pre.append(z)
            h = h + xp.maximum(z, 0.0)
            hs.append(h)
        WL, bL = layers[-1]
        f = xp.matmul(h, xp.matrix_transpose(WL))[..., 0] + bL  # (R, n)
        return f, list(zip(pre, hs)), layers

    def predict(self, theta: Any) -> Any:
        """Network outputs ``(R, n)``."""
        return self._forward(theta)[0]

    def loss(self, theta: Any) -> Any:
        """Mean hinge loss ``(R,)``."""
        f = self.predict(theta)
        return self.xp.mean(self.xp.maximum(1.0 - self.y * f, 0.0), axis=-1)

    def grad(self, theta: Any) -> Any:
        """Gradient of the mean hinge loss by backpropagation, ``(R, p)``."""
        return self._grad_rows(theta, None)

    def batch_grad(self, theta: Any, idx: Any) -> Any:
        """Minibatch gradient on rows ``idx`` ``(R, B)`` (unbiased for the mean loss)."""
        return self._grad_rows(theta, idx)

    def _grad_rows(self, theta: Any, idx: Any) -> Any:
        xp = self.xp
        f, cache, layers = self._forward(theta)
        R = theta.shape[0]
        active = xp.astype((1.0 - self.y * f) > 0.0, f.dtype)
        df = -self.y * active / self.n  # d loss / d f, (R, n)
        if idx is not None:
            B = idx.shape[-1]
            # weight of sample i in replica r's batch: (n/B)·(number of times drawn)
            rows = xp.reshape(xp.arange(R, dtype=idx.dtype), (R, 1)) * self.n + idx
            counts = xp.sum(xp.astype(
                xp.reshape(rows, (-1,))[:, None] == xp.arange(R * self.n, dtype=idx.dtype)[None, :],
                f.dtype), axis=0)
            w = xp.reshape(counts, (R, self.n)) * (self.n / B)
            df = df * w
        grads = []
        WL, _ = layers[-1]
        h_last = cache[-1][1]
        gWL = xp.matmul(df[:, None, :], h_last)  # (R, 1, m)
        gbL = xp.sum(df, axis=-1, keepdims=True)
        dh = df[..., None] * WL  # (R, n, m)
        for lvl in range(len(layers) - 2, 0, -1):
            z, _ = cache[lvl]
            h_prev = cache[lvl - 1][1]
            W, _ = layers[lvl]
            dz = dh * xp.astype(z > 0.0, z.dtype)
            grads.append((xp.matmul(xp.matrix_transpose(dz), h_prev), xp.sum(dz, axis=1)))
            dh = dh + xp.matmul(dz, W)
        z0, _ = cache[0]
        dz0 = dh * xp.astype(z0 > 0.0, z0.dtype)
        g0 = (xp.matmul(xp.matrix_transpose(dz0), self.X[None, ...]), xp.sum(dz0, axis=1))
        return self.pack([g0, *reversed(grads), (gWL, gbL)])

    def lipschitz_bound(self, theta: Any) -> Any:
        r""":math:`\|W_0\|_2\|W_{L+1}\|_2\prod_l(1+\|W_l\|_2)` per replica, ``(R,)``."""
        xp = self.xp
        layers = self.unpack(theta)

        def spec(W: Any) -> Any:
            return xp.max(xp.linalg.svdvals(W), axis=-1)

        out = spec(layers[0][0]) * spec(layers[-1][0])
        for W, _ in layers[1:-1]:
            out = out * (1.0 + spec(W))
        return out

    def init(self, sigma: Any, *, rng: Any = None) -> Any:
        r"""Seed 003's initialization, one replica per entry of ``sigma``: every W and b
        drawn N(0, 1), normalized (spectral norm for W, Euclidean for b), then scaled by
        σ on the residual layers and by max(1, σ) on the first and last layers."""
        xp = self.xp
        if isinstance(sigma, (str, bytes)) or not hasattr(sigma, "__iter__") or (
                hasattr(sigma, "shape") and len(sigma.shape) != 1):
            raise TypeError(message("sigma", "be a sequence of init scales, one per replica",
                                    f"got {describe(sigma)}", owner="ResidualReLUNet.init"))
        sig = [POSITIVE(f"sigma[{i}]", s, owner="ResidualReLUNet.init") for i, s in enumerate(sigma)]
        if not sig:
            raise ValueError(message("sigma", "hold at least one init scale", "got an empty sequence",
                                     owner="ResidualReLUNet.init"))
        gen = default_rng(rng, xp=xp)
        R = len(sig)
        s_res = xp.asarray(sig, dtype=xp.float64)
        s_io = xp.maximum(s_res, xp.ones_like(s_res))
        layers = []
        for j, (a, b) in enumerate(self.shapes):
            W = gen.normal((R, a, b))
            v = gen.normal((R, a))
            W = W / xp.max(xp.linalg.svdvals(W), axis=-1)[:, None, None]
            v = v / xp.linalg.vector_norm(v, axis=-1)[:, None]
            s = s_io if j in (0, len(self.shapes) - 1) else s_res
            layers.append((W * s[:, None, None], v * s[:, None]))
        return self.pack(layers)


def init_scale_experiment(sigmas: Any, *, n: int = 40, width: int = 8, depth: int = 2,
                          steps: int = 1500, eta_sgd: float = 0.05, eta_adam: float = 0.005,
                          batch: int | None = 10, seed: int = 0, xp: Any = None) -> dict[str, Any]:
    r"""Seed 003's SGD-vs-Adam table in miniature.

    Two-class data in the plane (two interleaved noisy half circles, labels ±1), a
    :class:`ResidualReLUNet`, one replica per init scale σ; the same init for both methods.
    Trains with minibatch SGD and with Adam (:class:`numerics.adaptive.Adam`) and reports,
    per σ and method, ‖θ_0‖, ‖θ_end‖, the final hinge loss and the Lipschitz bound.

    Returns
    -------
    dict
        ``{"sigma": list, "SGD": {...}, "Adam": {...}}``, each method a dict of NumPy arrays
        ``theta0_norm``, ``theta_norm``, ``loss``, ``lipschitz``, ``lipschitz0``, ``diverged``.
    """
    from numerics.adaptive import Adam  # noqa: PLC0415
    from numerics.optim import SGD  # noqa: PLC0415

    count = Interval(Integral, 1, None, closed="left")
    n, steps, eta_sgd, eta_adam, batch = validate("init_scale_experiment", {
        "n": (n, Interval(Integral, 2, None, closed="left")),
        "steps": (steps, Interval(Integral, 0, None, closed="left")),
        "eta_sgd": (eta_sgd, POSITIVE), "eta_adam": (eta_adam, POSITIVE),
        "batch": (batch, Optional(count))})
    if batch is not None and batch > n:
        Interval(Integral, 1, n, right_name="n")("batch", batch, owner="init_scale_experiment")
    gen = default_rng(seed, xp=xp)
    xp = gen.xp
    t = gen.uniform((n,), low=0.0, high=math.pi)
    y = gen.rademacher((n,))
    # y = +1: upper half circle; y = -1: lower half circle shifted right (the "moons").
    up = y > 0
    x1 = xp.where(up, xp.cos(t), 1.0 - xp.cos(t))
    x2 = xp.where(up, xp.sin(t), 0.5 - xp.sin(t))
    X = xp.stack([x1, x2], axis=1) + 0.1 * gen.normal((n, 2))
    net = ResidualReLUNet(X, y, width=width, depth=depth)
    theta0 = net.init(sigmas, rng=gen)
    out: dict[str, Any] = {"sigma": [float(s) for s in sigmas], "model": repr(net)}
    rules = {"SGD": SGD(eta_sgd, batch=batch) if batch else None,
             "Adam": Adam(eta_adam, batch=batch)}
    if rules["SGD"] is None:
        from numerics.optim import GD  # noqa: PLC0415

        rules["SGD"] = GD(eta_sgd)
    for name, rule in rules.items():
        traj = run(net, rule, theta0, steps, record=(), rng=gen.spawn(1)[0])
        th = traj.x
        out[name] = {
            "theta0_norm": to_numpy(xp.linalg.vector_norm(theta0, axis=-1)),
            "theta_norm": to_numpy(xp.linalg.vector_norm(th, axis=-1)),
            "loss": to_numpy(net.loss(th)),
            "lipschitz": to_numpy(net.lipschitz_bound(th)),
            "lipschitz0": to_numpy(net.lipschitz_bound(theta0)),
            "diverged": to_numpy(traj.diverged),
            "rule": repr(rule),
        }
    return out
