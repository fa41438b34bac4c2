r"""Least squares as a model for the replica engine, and random-feature regression.

The model is :math:`L(x) = \frac{c}{2}\sum_{i=1}^n (a_i^T x - y_i)^2` with :math:`c = 1/n`
(``reduction="mean"``, seed 000) or :math:`c = 1` (``reduction="sum"``, seeds 002 and 003).
A leading replica axis runs R problems (or R trajectories of one problem) as one array
program: ``x`` has shape ``(R, d)``, ``A`` is ``(n, d)`` shared or ``(R, n, d)`` per replica,
``y`` is ``(n,)`` shared or ``(R, n)``.
"""

from __future__ import annotations

from typing import Any

from numerics._validation import Array, Options, Shape, describe, message, validate
from numerics.backend import is_host_numpy

#: The two conventions of the factor c in front of the sum of squares.
REDUCTION = Options("mean", "sum")

__all__ = ["LeastSquares", "Preconditioned", "relu_features", "min_norm_fit"]


class LeastSquares:
    r"""Least squares :math:`L(x) = \tfrac{c}{2}\|Ax - y\|^2` with per-sample structure.

    Parameters
    ----------
    A
        Design matrix, ``(n, d)`` or per replica ``(R, n, d)``.
    y
        Targets, ``(n,)`` or per replica ``(R, n)``.
    reduction
        ``"mean"`` (:math:`c = 1/n`) or ``"sum"`` (:math:`c = 1`).

    Notes
    -----
    .. math::
        \nabla L(x) = c A^T(Ax - y), \qquad \nabla^2 L = c A^T A, \qquad
        \widehat{\nabla L}_{\mathcal B}(x) = \frac{cn}{B}\sum_{i\in\mathcal B} a_i(a_i^Tx - y_i)

    The minibatch gradient is unbiased for sampling with or without replacement. The
    per-sample Hessians :math:`c\,n\,a_i a_i^T` are rank one and never formed.

    Examples
    --------
    >>> import numpy as np
    >>> m = LeastSquares(np.eye(2, 3), np.ones(2))
    >>> m
    LeastSquares(n=2, d=3, replicas=shared, reduction='mean', namespace=numpy)
    >>> m.loss(np.zeros((1, 3)))
    array([0.5])
    """

    def __init__(self, A: Any, y: Any, *, reduction: str = "mean") -> None:
        checked = validate("LeastSquares", {
            "A": (A, Array(("n", "d"), ("R", "n", "d"))),
            "y": (y, Array(("n",), ("R", "n"))),
            "reduction": (reduction, REDUCTION),
        })
        xp, dims = checked.xp, checked.dims
        self.xp = xp
        self.A, self.y = A, y
        self.n, self.d = dims["n"], dims["d"]
        self.reduction = reduction
        self.c = 1.0 / self.n if reduction == "mean" else 1.0
        self.replicas = dims.get("R")
        self._x = Shape(("R", "d"), dims={"R": self.replicas, "d": self.d}, like=A)

    def __repr__(self) -> str:
        rep = "shared" if self.replicas is None else str(self.replicas)
        ns = getattr(self.xp, "__name__", "?").split(".")[-1]
        return (f"LeastSquares(n={self.n}, d={self.d}, replicas={rep}, "
                f"reduction={self.reduction!r}, namespace={ns})")

    # ----------------------------------------------------------------- evaluation
    def _check_x(self, x: Any, name: str = "x") -> None:
        self._x("LeastSquares", name, x)

    def predict(self, x: Any) -> Any:
        """``A x`` for each replica: shape ``(R, n)``."""
        self._check_x(x)
        return self._predict(x)

    def _predict(self, x: Any) -> Any:
        xp = self.xp
        if self.A.ndim == 2:
            return x @ xp.matrix_transpose(self.A)
        return (self.A @ x[..., None])[..., 0]

    def residual(self, x: Any) -> Any:
        """``A x - y``: shape ``(R, n)``."""
        return self.predict(x) - self.y

    def loss(self, x: Any) -> Any:
        """:math:`L(x)` for each replica, shape ``(R,)``."""
        r = self.residual(x)
        return 0.5 * self.c * self.xp.sum(r * r, axis=-1)

    def _rmatvec(self, r: Any) -> Any:
        """``Aᵀ r`` for ``r`` of shape ``(R, n)``."""
        if self.A.ndim == 2:
            return r @ self.A
        return (self.xp.matrix_transpose(self.A) @ r[..., None])[..., 0]

    def grad(self, x: Any) -> Any:
        r""":math:`\nabla L(x) = cA^T(Ax-y)`, shape ``(R, d)``."""
        return self.c * self._rmatvec(self.residual(x))

    def hvp(self, x: Any, v: Any) -> Any:
        r""":math:`\nabla^2 L\, v = cA^TAv` (independent of ``x``), shape ``(R, d)``."""
        self._check_x(v, "v")
        return self.c * self._rmatvec(self._predict(v))

    def hessian(self) -> Any:
        r"""The dense :math:`\nabla^2 L = cA^TA`, ``(d, d)`` or ``(R, d, d)`` (small d only)."""
        return self.c * (self.xp.matrix_transpose(self.A) @ self.A)

    def _rows(self, idx: Any, start: int = 0) -> tuple[Any, Any]:
        """Rows ``a_i`` and targets ``y_i`` for indices ``idx`` of shape ``(R, B)``
        (replicas ``start, ..., start + R - 1`` when ``A`` or ``y`` is per replica)."""
        xp = self.xp
        R, B = idx.shape
        flat = xp.reshape(idx, (-1,))
        if self.A.ndim == 3 or self.y.ndim == 2:
            offs = xp.reshape(xp.arange(start, start + R, dtype=idx.dtype) * self.n, (R, 1))
            gflat = xp.reshape(idx + offs, (-1,))
        if self.A.ndim == 3:
            rows = xp.take(xp.reshape(self.A, (-1, self.d)), gflat, axis=0)
        else:
            rows = xp.take(self.A, flat, axis=0)
        if self.y.ndim == 2:
            ys = xp.take(xp.reshape(self.y, (-1,)), gflat, axis=0)
        else:
            ys = xp.take(self.y, flat, axis=0)
        return xp.reshape(rows, (R, B, self.d)), xp.reshape(ys, (R, B))

    # Bytes of gathered rows per block on the NumPy path: small enough to stay in cache.
    _BLOCK_BYTES = 2**19

    def batch_grad(self, x: Any, idx: Any) -> Any:
        r"""Minibatch gradient :math:`\frac{cn}{B}\sum_{i\in\mathcal B} a_i(a_i^Tx-y_i)`.

        ``idx`` has shape ``(R, B)``: one batch of sample indices per replica.

        Notes
        -----
        The rows are gathered into an ``(R, B, d)`` array and contracted twice as batched
        matrix-vector products (residuals, then :math:`\sum_i a_i r_i`). On NumPy the
        replicas are processed in blocks whose gathered rows fit in cache (a few hundred
        replicas at B = 10, d = 100): the step then streams ``x`` once instead of writing and
        re-reading an ``R·B·d`` temporary from memory.
        """
        self._check_x(x)
        xp = self.xp
        R, B = idx.shape
        scale = self.c * self.n / B
        if not is_host_numpy(xp):
            return scale * self._batch_grad_block(x, idx, 0)
        import numpy as np  # noqa: PLC0415 (NumPy fast path)

        # Blocks of replicas whose gathered rows stay in cache, each block's sum written
        # straight into the result (the same products and sums as the general path).
        out = np.empty((R, self.d), dtype=np.result_type(x.dtype, self.A.dtype))
        block = max(1, self._BLOCK_BYTES // (8 * B * self.d))
        for s in range(0, R, block):
            rows, r = self._block_residuals(x[s:s + block], idx[s:s + block], s)
            np.matmul(r[:, None, :], rows, out=out[s:s + block, None, :])
        out *= scale
        return out

    def _block_residuals(self, x: Any, idx: Any, start: int) -> tuple[Any, Any]:
        """The gathered rows ``(R, B, d)`` and residuals :math:`a_i^Tx - y_i` ``(R, B)`` of
        one block of replicas."""
        rows, ys = self._rows(idx, start)
        return rows, (rows @ x[..., None])[..., 0] - ys

    def _batch_grad_block(self, x: Any, idx: Any, start: int) -> Any:
        r""":math:`\sum_{i\in\mathcal B} a_i(a_i^Tx-y_i)` for one block of replicas."""
        rows, r = self._block_residuals(x, idx, start)
        return (r[..., None, :] @ rows)[..., 0, :]

    def per_sample_grads(self, x: Any) -> Any:
        r"""Per-sample gradients :math:`c\,n\,a_i(a_i^Tx - y_i)` (their mean is
        :math:`\nabla L`): shape ``(R, n, d)``."""
        r = self.residual(x)  # (R, n)
        A = self.A if self.A.ndim == 3 else self.A[None, ...]
        return (self.c * self.n) * (A * r[..., None])


class Preconditioned:
    r"""A model whose gradients are premultiplied by :math:`H^{-1}`, for any invertible ``H``.

    GD (or SGD) on ``Preconditioned(model, H)`` is the scaled method
    :math:`x_{k+1} = x_k - \eta H^{-1}\hat g_k` of seed 003 (``linear.scaled_gd_limit``,
    ``linear.sgd_limit``) with a metric that need not be symmetric: the rules' own ``metric``
    option accepts symmetric positive definite ``H`` only, and with a symmetric ``H`` the
    order of a product (``H`` against ``Hᵀ``, ``H⁻¹Aᵀ`` against ``AᵀH⁻¹``) cannot be seen.

    Parameters
    ----------
    model
        A model with ``loss``, ``grad`` and (for SGD) ``batch_grad`` and ``n``.
    H
        An invertible ``(d, d)`` array of the model's namespace.

    Examples
    --------
    >>> import numpy as np
    >>> m = Preconditioned(LeastSquares(np.eye(2, 3), np.ones(2), reduction="sum"),
    ...                    np.diag([1.0, 2.0, 4.0]))
    >>> m.grad(np.zeros((1, 3)))
    array([[-1. , -0.5,  0. ]])
    """

    def __init__(self, model: Any, H: Any) -> None:
        if not (callable(getattr(model, "loss", None)) and callable(getattr(model, "grad", None))):
            raise TypeError(message("model", "have loss and grad methods",
                                    f"got {describe(model)}", owner="Preconditioned"))
        d = getattr(model, "d", None)
        checked = validate("Preconditioned", {"H": (H, Array(("d", "d")))},
                           dims={"d": d}, xp=getattr(model, "xp", None))
        xp = checked.xp
        d = checked.dims["d"]
        # Invertible to working precision: the smallest singular value above d·eps·σ_max
        # (below it H⁻¹g is dominated by rounding).
        sv = xp.linalg.svdvals(H)
        smin, smax = float(xp.min(sv)), float(xp.max(sv))
        if not smin > d * xp.finfo(H.dtype).eps * smax:
            raise ValueError(f"Preconditioned: H must be invertible; got smallest singular value "
                             f"{smin:.3g} against the largest {smax:.3g}")
        self.model, self.xp, self.d = model, xp, d
        self.n = getattr(model, "n", None)
        # Rows of g times H^{-T}: (H^{-1} g)^T = g^T H^{-T}.
        self._right = xp.matrix_transpose(xp.linalg.inv(H))

    def __repr__(self) -> str:
        return f"Preconditioned({self.model!r})"

    def loss(self, x: Any) -> Any:
        return self.model.loss(x)

    def grad(self, x: Any) -> Any:
        r""":math:`H^{-1}\nabla L(x)`, row-wise."""
        return self.model.grad(x) @ self._right

    def batch_grad(self, x: Any, idx: Any) -> Any:
        r""":math:`H^{-1}\widehat{\nabla L}_{\mathcal B}(x)`, row-wise."""
        return self.model.batch_grad(x, idx) @ self._right


def relu_features(X: Any, W: Any) -> Any:
    r"""Random ReLU features :math:`\Psi_{ij} = \max(w_j^T x_i, 0)`.

    ``X`` is ``(n, d)`` or ``(R, n, d)``, ``W`` is ``(m, d)`` or ``(R, m, d)``; returns
    ``(n, m)`` or ``(R, n, m)``.

    References
    ----------
    A. Rahimi and B. Recht, *Random features for large-scale kernel machines*, NIPS 2007
    (random features); Y. Cho and L. K. Saul, *Kernel methods for deep learning*, NIPS 2009
    (the ReLU features' kernel, ``kernels.arccos1_gaussian``).
    """
    xp = validate("relu_features", {
        "X": (X, Array(("n", "d"), ("R", "n", "d"))),
        "W": (W, Array(("m", "d"), ("R", "m", "d"))),
    }).xp
    return xp.maximum(X @ xp.matrix_transpose(W), 0.0)


def min_norm_fit(Psi: Any, y: Any) -> Any:
    r"""The minimum-norm least-squares solution :math:`\Psi^+ y` (the limit of GD from
    zero, ``linear.gd_limit``). ``Psi`` is ``(n, m)`` or ``(R, n, m)``, ``y`` is ``(n,)`` or
    ``(R, n)``."""
    xp = validate("min_norm_fit", {
        "Psi": (Psi, Array(("n", "m"), ("R", "n", "m"))),
        "y": (y, Array(("n",), ("R", "n"))),
    }).xp
    return (xp.linalg.pinv(Psi) @ y[..., None])[..., 0]
