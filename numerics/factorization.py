r"""Matrix sensing with a factorized parameter :math:`W = UV^T`.

.. math:: L(U, V) = \frac{c}{2}\sum_{i=1}^n(\langle UV^T, A_i\rangle - y_i)^2,\qquad
          \nabla_U L = c\,G V,\quad \nabla_V L = c\,G^T U,\quad G = \sum_i r_iA_i,

with :math:`c = 1` (``"sum"``, Gunasekar et al.) or :math:`1/n` (``"mean"``). The parameter
vector packs :math:`(U, V)` row-major into ``(R, (m_1 + m_2) r)``. Reference solvers of the
minimum-nuclear-norm problem run on the host: a linear program for commuting symmetric
measurements, ADMM (singular-value thresholding) in general.
"""

from __future__ import annotations

from typing import Any

from numbers import Integral

from numerics._validation import (
    POSITIVE,
    Array,
    Interval,
    Optional,
    Options,
    Shape,
    message,
    validate,
)

__all__ = ["min_entropy_commuting", "MatrixSensing", "min_nuclear_norm", "min_nuclear_norm_commuting"]


class MatrixSensing:
    r"""Matrix sensing :math:`y_i = \langle A_i, W\rangle` with :math:`W = UV^T`.

    Parameters
    ----------
    A
        Measurement matrices, ``(n, m1, m2)``.
    y
        Measurements, ``(n,)``.
    rank
        Inner dimension r of the factors (default ``min(m1, m2)``: no rank constraint).
    reduction
        ``"sum"`` (c = 1) or ``"mean"`` (c = 1/n).

    References
    ----------
    S. Gunasekar, B. Woodworth, S. Bhojanapalli, B. Neyshabur, N. Srebro, *Implicit
    regularization in matrix factorization*, NIPS 2017 (the model, and gradient flow from
    a small :math:`U_0 = V_0 = \alpha I` toward the minimum nuclear norm).

    Examples
    --------
    >>> import numpy as np
    >>> MatrixSensing(np.ones((3, 2, 2)), np.ones(3))
    MatrixSensing(n=3, m1=2, m2=2, rank=2, reduction='sum', namespace=numpy)
    """

    def __init__(self, A: Any, y: Any, *, rank: int | None = None, reduction: str = "sum") -> None:
        checked = validate("MatrixSensing", {
            "A": (A, Array(("n", "m1", "m2"))),
            "y": (y, Array(("n",))),
            "rank": (rank, Optional(Interval(Integral, 1, None, closed="left"))),
            "reduction": (reduction, Options("mean", "sum")),
        })
        xp, rank = checked.xp, checked[2]
        self.xp, self.A, self.y = xp, A, y
        self.n, self.m1, self.m2 = A.shape
        self.rank = min(self.m1, self.m2) if rank is None else rank
        self.c = 1.0 if reduction == "sum" else 1.0 / self.n
        self.reduction = reduction
        self.p = (self.m1 + self.m2) * self.rank
        self._theta = Shape(("R", "p"), dims={"p": self.p}, like=A)

    def __repr__(self) -> str:
        ns = getattr(self.xp, "__name__", "?").split(".")[-1]
        return (f"MatrixSensing(n={self.n}, m1={self.m1}, m2={self.m2}, rank={self.rank}, "
                f"reduction={self.reduction!r}, namespace={ns})")

    def unpack(self, theta: Any) -> tuple[Any, Any]:
        """``U (R, m1, r)`` and ``V (R, m2, r)``."""
        self._theta("MatrixSensing", "theta", theta)
        R, r = theta.shape[0], self.rank
        U = self.xp.reshape(theta[:, : self.m1 * r], (R, self.m1, r))
        V = self.xp.reshape(theta[:, self.m1 * r:], (R, self.m2, r))
        return U, V

    def pack(self, U: Any, V: Any) -> Any:
        """Flat ``θ`` of shape ``(R, (m1 + m2) r)``."""
        validate("MatrixSensing.pack", {"U": (U, Array(("R", "m1", "r"), finite=False)),
                                        "V": (V, Array(("R", "m2", "r"), finite=False))},
                 dims={"m1": self.m1, "m2": self.m2, "r": self.rank}, xp=self.xp)
        R = U.shape[0]
        return self.xp.concat([self.xp.reshape(U, (R, -1)), self.xp.reshape(V, (R, -1))], axis=-1)

    def init(self, alpha: float, replicas: int = 1) -> Any:
        r""":math:`U_0 = \alpha I_{m_1\times r}`, :math:`V_0 = \alpha I_{m_2\times r}` (the
        rectangular identities), ``(R, p)``."""
        alpha, replicas = validate("MatrixSensing.init", {
            "alpha": (alpha, POSITIVE),
            "replicas": (replicas, Interval(Integral, 1, None, closed="left"))})
        xp = self.xp
        U = alpha * xp.eye(self.m1, self.rank, dtype=self.A.dtype)
        V = alpha * xp.eye(self.m2, self.rank, dtype=self.A.dtype)
        ones = xp.ones((replicas, 1, 1), dtype=self.A.dtype)
        return self.pack(ones * U[None, ...], ones * V[None, ...])

    def product(self, theta: Any) -> Any:
        r""":math:`W = UV^T`, ``(R, m1, m2)``."""
        U, V = self.unpack(theta)
        return U @ self.xp.matrix_transpose(V)

    def residual(self, theta: Any) -> Any:
        r""":math:`\langle A_i, W\rangle - y_i`, ``(R, n)``."""
        W = self.product(theta)
        return self.xp.sum(W[:, None, :, :] * self.A[None, ...], axis=(-2, -1)) - self.y

    def loss(self, theta: Any) -> Any:
        r = self.residual(theta)
        return 0.5 * self.c * self.xp.sum(r * r, axis=-1)

    def _grad_from_residual(self, theta: Any, r: Any, scale: float) -> Any:
        xp = self.xp
        U, V = self.unpack(theta)
        G = xp.sum(r[:, :, None, None] * self.A[None, ...], axis=1)     # (R, m1, m2)
        gU = scale * (G @ V)
        gV = scale * (xp.matrix_transpose(G) @ U)
        return self.pack(gU, gV)

    def grad(self, theta: Any) -> Any:
        r""":math:`(cGV, cG^TU)`, packed, ``(R, p)``."""
        return self._grad_from_residual(theta, self.residual(theta), self.c)

    def batch_grad(self, theta: Any, idx: Any, target_shift: Any = None) -> Any:
        """Minibatch gradient (targets shifted by ``target_shift`` for label noise)."""
        xp = self.xp
        R, B = idx.shape
        r = self.residual(theta)                                         # (R, n)
        onehot = xp.astype(xp.reshape(idx, (R, B, 1)) == xp.arange(self.n)[None, None, :],
                           theta.dtype)                                  # (R, B, n)
        rb = xp.sum(onehot * r[:, None, :], axis=-1)                     # (R, B)
        if target_shift is not None:
            rb = rb - target_shift
        weights = xp.sum(onehot * rb[..., None], axis=1)                 # (R, n)
        return self._grad_from_residual(theta, weights, self.c * self.n / B)


def _host3(A: Any, y: Any, owner: str, Q: Any = None) -> tuple[Any, Any, Any]:
    import numpy as np  # noqa: PLC0415

    from numerics.backend import to_numpy  # noqa: PLC0415

    spec = {"A": (A, Array(("n", "m", "m") if Q is not None else ("n", "m1", "m2"))),
            "y": (y, Array(("n",)))}
    if Q is not None:
        spec["Q"] = (Q, Array(("m", "m")))
    xp = validate(owner, spec).xp
    Ah = np.asarray(to_numpy(A), dtype=np.float64)
    yh = np.asarray(to_numpy(y), dtype=np.float64)
    return xp, Ah, yh


def _diagonal_in(Ah: Any, Qh: Any, owner: str) -> Any:
    """The diagonals :math:`a_i = \\operatorname{diag}(Q^TA_iQ)`, ``(n, m)``, after checking
    that every :math:`Q^TA_iQ` is diagonal (to 1e-10 relative: the measurements commute)."""
    import numpy as np  # noqa: PLC0415

    diag = np.einsum("ji,njk,ki->ni", Qh, Ah, Qh)
    off = np.einsum("ji,njk,kl->nil", Qh, Ah, Qh) - np.einsum("ni,il->nil", diag, np.eye(Qh.shape[0]))
    worst = float(np.max(np.abs(off)))
    if worst > 1e-10 * max(1.0, float(np.max(np.abs(Ah)))):
        raise ValueError(message("A", "be diagonal in the basis Q (commuting measurements "
                                 "A_i = Q diag(a_i) Qᵀ)",
                                 f"got an off-diagonal entry of QᵀA_iQ of size {worst:.3g}",
                                 owner=owner))
    return diag


def min_nuclear_norm_commuting(A: Any, y: Any, Q: Any) -> Any:
    r"""Min-nuclear-norm solution when :math:`A_i = Q\operatorname{diag}(a_i)Q^T` commute.

    Any W has :math:`\|W\|_*\ge\|\operatorname{diag}(Q^TWQ)\|_1` with equality for W diagonal
    in the basis Q, and the constraints see only that diagonal, so the problem is the
    linear program :math:`\min\|x\|_1` s.t. :math:`\langle a_i, x\rangle = y_i`;
    :math:`W = Q\operatorname{diag}(x)Q^T`. Host computation (SciPy HiGHS).
    """
    import numpy as np  # noqa: PLC0415

    from numerics.diagonal import min_l1_interpolant  # noqa: PLC0415
    from numerics.backend import to_numpy  # noqa: PLC0415

    xp, Ah, yh = _host3(A, y, "min_nuclear_norm_commuting", Q)
    Qh = np.asarray(to_numpy(Q), dtype=np.float64)
    diag = _diagonal_in(Ah, Qh, "min_nuclear_norm_commuting")
    x = np.asarray(min_l1_interpolant(diag, yh))
    return xp.asarray((Qh * x) @ Qh.T)


def min_entropy_commuting(A: Any, y: Any, Q: Any, alpha: float) -> Any:
    r"""The finite-α limit of gradient flow on :math:`UV^T` from :math:`U_0 = V_0 = \alpha I`
    when :math:`A_i = Q\operatorname{diag}(a_i)Q^T` commute.

    In the basis Q the flow stays diagonal, :math:`W = Q\operatorname{diag}(x)Q^T` with
    :math:`x = s\odot s`, :math:`\dot s = -s\odot(a^Tr)`, so
    :math:`\log(x/\alpha^2) = -2\int a^Tr\in\operatorname{range}(a^T)`: the limit satisfies
    the KKT conditions of :math:`\min_{x\ge0}\sum_j x_j\log(x_j/\alpha^2) - x_j` s.t.
    :math:`\langle a_i, x\rangle = y_i` (Gunasekar et al. 2017, proof of Theorem 1). Solved
    through its smooth dual :math:`\min_\nu\sum_j\alpha^2e^{(a^T\nu)_j} - \nu^Ty`,
    :math:`x = \alpha^2e^{a^T\nu}` (SciPy trust-exact with the exact Hessian). As
    :math:`\alpha\to0` it tends to :func:`min_nuclear_norm_commuting`. Host computation.

    References
    ----------
    S. Gunasekar, B. Woodworth, S. Bhojanapalli, B. Neyshabur, N. Srebro, *Implicit
    regularization in matrix factorization*, NIPS 2017, Theorem 1 and its proof.
    """
    import numpy as np  # noqa: PLC0415
    from scipy.optimize import minimize  # noqa: PLC0415

    from numerics.backend import to_numpy  # noqa: PLC0415

    alpha = POSITIVE("alpha", alpha, owner="min_entropy_commuting")
    xp, Ah, yh = _host3(A, y, "min_entropy_commuting", Q)
    Qh = np.asarray(to_numpy(Q), dtype=np.float64)
    a = _diagonal_in(Ah, Qh, "min_entropy_commuting")
    log_a2 = 2 * np.log(alpha)

    def f(nu: Any) -> float:
        return float(np.sum(np.exp(a.T @ nu + log_a2)) - nu @ yh)

    def g(nu: Any) -> Any:
        return a @ np.exp(a.T @ nu + log_a2) - yh

    def h(nu: Any) -> Any:
        return (a * np.exp(a.T @ nu + log_a2)) @ a.T

    nu = np.zeros(a.shape[0])
    for _ in range(3):
        nu = minimize(f, nu, jac=g, hess=h, method="trust-exact",
                      options={"gtol": 1e-13, "maxiter": 5000}).x
    x = np.exp(a.T @ nu + log_a2)
    return xp.asarray((Qh * x) @ Qh.T)


def min_nuclear_norm(A: Any, y: Any, *, rho: float = 1.0, iterations: int = 20000,
                     tol: float = 1e-10) -> Any:
    r""":math:`\arg\min\|W\|_*` s.t. :math:`\langle A_i, W\rangle = y_i` by ADMM.

    Splitting :math:`W = Z`: the W-step projects onto the affine set
    (:math:`W - \mathcal A^*(\mathcal A\mathcal A^*)^{-1}(\mathcal A W - y)`), the Z-step is
    singular-value thresholding at :math:`1/\rho`; stops when primal and dual residuals
    fall below ``tol`` (relative). Host computation (NumPy).
    """
    import numpy as np  # noqa: PLC0415

    owner = "min_nuclear_norm"
    rho, iterations, tol = validate(owner, {
        "rho": (rho, POSITIVE), "iterations": (iterations, Interval(Integral, 1, None)),
        "tol": (tol, POSITIVE)})
    xp, Ah, yh = _host3(A, y, owner)
    n, m1, m2 = Ah.shape
    M = Ah.reshape(n, -1)
    G = M @ M.T
    def proj(v: Any) -> Any:
        return v - M.T @ np.linalg.solve(G, M @ v - yh)

    Z = np.zeros(m1 * m2)
    Ud = np.zeros(m1 * m2)
    for _ in range(iterations):
        W = proj(Z - Ud)
        Uu, s, Vt = np.linalg.svd((W + Ud).reshape(m1, m2), full_matrices=False)
        Znew = ((Uu * np.maximum(s - 1.0 / rho, 0.0)) @ Vt).ravel()
        Ud = Ud + W - Znew
        prim = np.linalg.norm(W - Znew)
        dual = rho * np.linalg.norm(Znew - Z)
        Z = Znew
        scale = max(1.0, np.linalg.norm(Z))
        if prim < tol * scale and dual < tol * scale:
            break
    return xp.asarray(proj(Z).reshape(m1, m2))
