r"""Diagonal linear networks :math:`w = u\odot u - v\odot v` (and the quadratic model of Li et al.).

The model is :math:`L(u, v) = \frac{c}{2}\sum_{i=1}^n (\langle x_i, u\odot u - v\odot v\rangle - y_i)^2`
with :math:`c = 1/n` (``reduction="mean"``, seed 001's quadratically overparametrized model
when the rows are :math:`z_i\in\{\pm1\}^d`) or :math:`c = 1` (``"sum"``). The parameter
vector packs :math:`\theta = (u, v)` of shape ``(R, 2d)``: a leading replica axis, as every
model of :mod:`numerics`.

Reference solvers (the minimum-:math:`Q_\alpha`, minimum-ℓ1 and minimum-ℓ2 interpolants) run
on the host with SciPy and return arrays of the input's namespace.
"""

from __future__ import annotations

from typing import Any

from numbers import Integral, Real

from numerics._validation import (
    POSITIVE,
    Array,
    Interval,
    Options,
    Shape,
    describe,
    message,
    namespace_for,
    validate,
)

__all__ = [
    "DiagonalNet",
    "diagonal_init",
    "q_potential",
    "min_q_interpolant",
    "min_l1_interpolant",
    "min_l2_interpolant",
]


class DiagonalNet:
    r"""Diagonal linear network / quadratic model :math:`f_i(u, v) = \langle x_i, u\odot u - v\odot v\rangle`.

    Parameters
    ----------
    X
        Inputs, ``(n, d)``.
    y
        Targets, ``(n,)``.
    reduction
        ``"mean"`` (:math:`c = 1/n`) or ``"sum"`` (:math:`c = 1`).

    Notes
    -----
    .. math::
        \nabla_u L = 2c\,u\odot X^Tr,\quad \nabla_v L = -2c\,v\odot X^Tr,\quad r = Xw - y,

        \nabla^2 L = c\sum_i \nabla f_i\nabla f_i^T + c\sum_i r_i\,2\operatorname{diag}(x_i, -x_i),
        \qquad \operatorname{Tr}\nabla^2 L = 4c\sum_{i,j} x_{ij}^2(u_j^2 + v_j^2).

    The residual term has zero trace, so the trace formula holds everywhere
    (``label_noise.quadratic_model_trace``).

    References
    ----------
    B. Woodworth, S. Gunasekar, J. D. Lee, E. Moroshko, P. Savarese, I. Golan, D. Soudry,
    N. Srebro, *Kernel and rich regimes in overparametrized models*, COLT 2020 (the model
    :math:`w = u\odot u - v\odot v` and its implicit bias ``diagonal.implicit_bias``).

    Examples
    --------
    >>> import numpy as np
    >>> m = DiagonalNet(np.array([[1.0, -1.0]]), np.array([1.0]))
    >>> m
    DiagonalNet(n=1, d=2, reduction='mean', namespace=numpy)
    >>> m.loss(np.array([[1.0, 0.0, 0.0, 0.0]]))
    array([0.])
    """

    def __init__(self, X: Any, y: Any, *, reduction: str = "mean") -> None:
        xp = validate("DiagonalNet", {
            "X": (X, Array(("n", "d"))),
            "y": (y, Array(("n",))),
            "reduction": (reduction, Options("mean", "sum")),
        }).xp
        self.xp, self.X, self.y = xp, X, y
        self.n, self.d = X.shape
        self.reduction = reduction
        self.c = 1.0 / self.n if reduction == "mean" else 1.0
        self.p = 2 * self.d
        self._theta = Shape(("R", "2d"), dims={"2d": self.p}, like=X)

    def __repr__(self) -> str:
        ns = getattr(self.xp, "__name__", "?").split(".")[-1]
        return (f"DiagonalNet(n={self.n}, d={self.d}, reduction={self.reduction!r}, "
                f"namespace={ns})")

    # ------------------------------------------------------------------ packing
    def unpack(self, theta: Any) -> tuple[Any, Any]:
        """``(u, v)``, each ``(R, d)``."""
        self._theta("DiagonalNet", "theta", theta)
        return theta[:, : self.d], theta[:, self.d:]

    def pack(self, u: Any, v: Any) -> Any:
        """``θ = (u, v)`` of shape ``(R, 2d)``."""
        validate("DiagonalNet.pack", {"u": (u, Array(("R", "d"), finite=False)),
                                      "v": (v, Array(("R", "d"), finite=False))},
                 dims={"d": self.d}, xp=self.xp)
        return self.xp.concat([u, v], axis=-1)

    def w(self, theta: Any) -> Any:
        r"""The linear predictor :math:`w = u\odot u - v\odot v`, ``(R, d)``."""
        u, v = self.unpack(theta)
        return u * u - v * v

    # --------------------------------------------------------------- evaluation
    def residual(self, theta: Any) -> Any:
        """``X w − y``, ``(R, n)``."""
        return self.w(theta) @ self.xp.matrix_transpose(self.X) - self.y

    def loss(self, theta: Any) -> Any:
        """:math:`L(θ)` per replica, ``(R,)``."""
        r = self.residual(theta)
        return 0.5 * self.c * self.xp.sum(r * r, axis=-1)

    def grad(self, theta: Any) -> Any:
        r""":math:`\nabla L = 2c(u\odot X^Tr, -v\odot X^Tr)`, ``(R, 2d)``."""
        u, v = self.unpack(theta)
        g = self.residual(theta) @ self.X
        return self.xp.concat([2 * self.c * u * g, -2 * self.c * v * g], axis=-1)

    def batch_grad(self, theta: Any, idx: Any, target_shift: Any = None) -> Any:
        r"""Minibatch gradient :math:`\frac{cn}{B}\sum_{i\in\mathcal B}(f_i - y_i - \varepsilon_i)\nabla f_i`.

        ``idx`` is ``(R, B)``; ``target_shift`` (``(R, B)`` or ``None``) adds
        :math:`\varepsilon_i` to the targets (label noise).
        """
        xp = self.xp
        u, v = self.unpack(theta)
        R, B = idx.shape
        flat = xp.reshape(idx, (-1,))
        rows = xp.reshape(xp.take(self.X, flat, axis=0), (R, B, self.d))
        ys = xp.reshape(xp.take(self.y, flat, axis=0), (R, B))
        if target_shift is not None:
            ys = ys + target_shift
        w = u * u - v * v
        r = xp.sum(rows * w[:, None, :], axis=-1) - ys            # (R, B)
        g = xp.sum(rows * r[..., None], axis=1) * (self.c * self.n / B)  # (R, d)
        return xp.concat([2 * u * g, -2 * v * g], axis=-1)

    def jacobian(self, theta: Any) -> Any:
        r"""Per-sample gradients of the outputs :math:`\nabla f_i = 2(x_i\odot u, -x_i\odot v)`: ``(R, n, 2d)``."""
        u, v = self.unpack(theta)
        return self.xp.concat([2 * self.X[None, ...] * u[:, None, :],
                               -2 * self.X[None, ...] * v[:, None, :]], axis=-1)

    def per_sample_grads(self, theta: Any) -> Any:
        r"""Per-sample loss gradients :math:`c\,n\,r_i\nabla f_i` (their mean is ∇L): ``(R, n, 2d)``."""
        return (self.c * self.n) * self.residual(theta)[..., None] * self.jacobian(theta)

    def hvp(self, theta: Any, vec: Any) -> Any:
        r"""Exact Hessian-vector product :math:`\nabla^2L\,v`, ``(R, 2d)``."""
        xp = self.xp
        u, v = self.unpack(theta)
        a, b = self.unpack(vec)
        J = self.jacobian(theta)                                   # (R, n, 2d)
        Jv = xp.sum(J * vec[:, None, :], axis=-1)                   # (R, n)
        gn = self.c * xp.sum(J * Jv[..., None], axis=1)             # (R, 2d)
        g = self.residual(theta) @ self.X                           # (R, d): Xᵀr
        res = self.c * xp.concat([2 * g * a, -2 * g * b], axis=-1)
        return gn + res

    def hessian(self, theta: Any) -> Any:
        r"""Dense :math:`\nabla^2 L`, ``(R, 2d, 2d)`` (small d only)."""
        xp = self.xp
        J = self.jacobian(theta)
        gn = self.c * (xp.matrix_transpose(J) @ J)
        g = self.residual(theta) @ self.X
        diag = 2 * self.c * xp.concat([g, -g], axis=-1)             # (R, 2d)
        eye = xp.eye(self.p, dtype=theta.dtype)
        return gn + diag[:, :, None] * eye[None, ...]

    def hessian_trace(self, theta: Any) -> Any:
        r""":math:`\operatorname{Tr}\nabla^2L = 4c\sum_{i,j}x_{ij}^2(u_j^2 + v_j^2)` (exact), ``(R,)``."""
        u, v = self.unpack(theta)
        col = self.xp.sum(self.X * self.X, axis=0)                  # (d,)
        return 4 * self.c * self.xp.sum(col * (u * u + v * v), axis=-1)


def diagonal_init(alpha: Any, d: int, *, xp: Any = None, dtype: Any = None) -> Any:
    r""":math:`u_0 = v_0 = \alpha\mathbf 1`: ``(R, 2d)`` for a vector ``alpha`` of R scales
    (one replica per scale), ``(1, 2d)`` for a scalar.

    Raises
    ------
    ValueError
        If some α is not positive (u_0 = v_0 = 0 is a saddle that GD never leaves).

    References
    ----------
    B. Woodworth, S. Gunasekar, J. D. Lee, E. Moroshko, P. Savarese, I. Golan, D. Soudry,
    N. Srebro, *Kernel and rich regimes in overparametrized models*, COLT 2020 (the scale α
    of this initialization interpolates between the kernel and the rich regime).
    """
    owner = "diagonal_init"
    d = Interval(Integral, 1, None, closed="left")("d", d, owner=owner)
    xp = namespace_for(xp, alpha, owner=owner, names=("alpha",))
    if not hasattr(alpha, "shape") or tuple(alpha.shape) == ():
        a0 = POSITIVE("alpha", alpha, owner=owner)
        a = xp.asarray([a0], dtype=xp.float64 if dtype is None else dtype)
    else:
        validate(owner, {"alpha": (alpha, Array(("R",)))}, xp=xp)
        a = alpha if dtype is None else xp.astype(alpha, dtype)
        if not bool(xp.all(a > 0)):
            raise ValueError(message("alpha", "be positive (u_0 = v_0 = 0 is a saddle)",
                                     f"got smallest entry {float(xp.min(a)):g} ({describe(a)})",
                                     owner=owner))
    return xp.ones((a.shape[0], 2 * d), dtype=a.dtype) * a[:, None]


def q_potential(w: Any, alpha: float) -> Any:
    r""":math:`Q_\alpha(w) = \alpha^2\sum_i q(w_i/\alpha^2)`, :math:`q(z) = 2 - \sqrt{4+z^2} + z\operatorname{asinh}(z/2)`,
    over the last axis (``diagonal.implicit_bias``).

    References
    ----------
    Woodworth et al., *Kernel and rich regimes in overparametrized models*, COLT 2020,
    Theorem 1 (the potential :math:`Q_\alpha` minimized by gradient flow's limit).
    """
    w, alpha = validate("q_potential", {"w": (w, Array()), "alpha": (alpha, POSITIVE)})
    xp = namespace_for(None, w)
    zz = w / alpha**2
    # Stable forms: asinh itself (log(z/2 + √(1 + z²/4)) cancels to log 0 for z ≪ −1), and
    # 2 − √(4 + z²) = −z²/(2 + √(4 + z²)) (no cancellation near 0), with √(4 + z²) written
    # |z|·√(1 + 4/z²) for |z| > 2 so that z² cannot overflow.
    az = xp.abs(zz)
    big = az > 2
    zb = xp.where(big, az, xp.ones_like(az))
    zs = xp.where(big, xp.zeros_like(zz), zz)
    root = xp.where(big, zb * xp.sqrt(1 + 4 / (zb * zb)), xp.sqrt(4 + zs * zs))
    return alpha**2 * xp.sum(zz * xp.asinh(zz / 2) - zz * (zz / (2 + root)), axis=-1)


def _host(X: Any, y: Any, owner: str) -> tuple[Any, Any, Any]:
    import numpy as np  # noqa: PLC0415

    from numerics.backend import to_numpy  # noqa: PLC0415

    xp = validate(owner, {"X": (X, Array(("n", "d"))), "y": (y, Array(("n",)))}).xp
    Xh, yh = np.asarray(to_numpy(X), dtype=np.float64), np.asarray(to_numpy(y), dtype=np.float64)
    return xp, Xh, yh


def min_q_interpolant(X: Any, y: Any, alpha: float, *, gtol: float = 1e-12) -> Any:
    r""":math:`\arg\min Q_\alpha(w)` s.t. :math:`Xw = y`, solved through the convex dual.

    The dual of the strictly convex program is unconstrained and smooth,
    :math:`\min_\nu \sum_i 2\alpha^2(\cosh((X^T\nu)_i) - 1) - \nu^Ty` (the conjugate of
    :math:`\alpha^2 q(\cdot/\alpha^2)` is :math:`2\alpha^2(\cosh s - 1)`), and
    :math:`w = 2\alpha^2\sinh(X^T\nu)`. SciPy's Newton-CG with the exact Hessian solves it to
    a residual :math:`\|Xw - y\|` of order ``gtol``. Host computation.
    """
    import numpy as np  # noqa: PLC0415
    from scipy.optimize import minimize  # noqa: PLC0415

    alpha = POSITIVE("alpha", alpha, owner="min_q_interpolant")
    gtol = POSITIVE("gtol", gtol, owner="min_q_interpolant")
    xp, Xh, yh = _host(X, y, "min_q_interpolant")
    a2 = alpha**2

    def f(nu: Any) -> float:
        s = Xh.T @ nu
        return float(np.sum(2 * a2 * (np.cosh(s) - 1)) - nu @ yh)

    def g(nu: Any) -> Any:
        return Xh @ (2 * a2 * np.sinh(Xh.T @ nu)) - yh

    def h(nu: Any) -> Any:
        return (Xh * (2 * a2 * np.cosh(Xh.T @ nu))) @ Xh.T

    nu = np.zeros(Xh.shape[0])
    for _ in range(3):  # restart Newton-CG from its own answer: cheap polish to gtol
        res = minimize(f, nu, jac=g, hess=h, method="trust-exact", options={"gtol": gtol, "maxiter": 2000})
        nu = res.x
    w = 2 * a2 * np.sinh(Xh.T @ nu)
    return xp.asarray(w)


def min_l1_interpolant(X: Any, y: Any) -> Any:
    r""":math:`\arg\min\|w\|_1` s.t. :math:`Xw = y` by linear programming (SciPy HiGHS,
    :math:`w = p - q`, :math:`p, q\ge0`). Host computation."""
    import numpy as np  # noqa: PLC0415
    from scipy.optimize import linprog  # noqa: PLC0415

    xp, Xh, yh = _host(X, y, "min_l1_interpolant")
    d = Xh.shape[1]
    res = linprog(np.ones(2 * d), A_eq=np.hstack([Xh, -Xh]), b_eq=yh, bounds=(0, None),
                  method="highs")
    if not res.success:
        raise RuntimeError(f"min-ℓ1 linear program failed: {res.message}")
    return xp.asarray(res.x[:d] - res.x[d:])


def min_l2_interpolant(X: Any, y: Any) -> Any:
    r""":math:`X^+y`, the minimum-ℓ2 interpolant."""
    xp = validate("min_l2_interpolant", {"X": (X, Array(("n", "d"))), "y": (y, Array(("n",)))}).xp
    return (xp.linalg.pinv(X) @ y[:, None])[:, 0]
