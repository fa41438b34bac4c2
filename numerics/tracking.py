r"""Sharpness tracked during training: a recorder for :func:`numerics.run` that estimates
:math:`\lambda_{\max}(\nabla^2L)` of every replica every few steps, by Lanczos warm-started
from the previous record's Ritz vector.

:func:`numerics.run` takes ``record={"sharpness": SharpnessTracker()}``, ``record_every=k``
and calls the tracker at steps ``0, k, 2k, ...`` with the model and the iterates ``x``
``(R, p)``; it returns :math:`\theta_r \approx \lambda_{\max}(\nabla^2L(x_r))` for all
replicas at once (one batched ``model.hvp`` per Lanczos step, through
:func:`numerics.sharpness.top_eigenvalue`).

Why a warm start is cheap. Between two records GD moves :math:`x` by
:math:`O(k\eta\|\nabla L\|)`, so the Hessian changes by a small :math:`\Delta` and its top
eigenvector by :math:`O(\|\Delta\|/\mathrm{gap})` (Davis–Kahan). Started from the previous
Ritz vector :math:`y`, Lanczos begins with a Rayleigh quotient whose error is
:math:`O(\sin^2\angle(y, u_1))\cdot\mathrm{spread}` instead of the :math:`O(1)` of a random
start, and reaches the stopping rule :math:`\|Hy - \theta y\| \le \mathrm{rtol}\,|\theta|`
(the module docstring of :mod:`numerics.sharpness`) in a few matvecs. The recorder keeps
the Ritz vectors and the matvec counts of each record (``vectors``, ``matvecs``).

What a warm start can miss. Where the top two eigenvalues cross, the old Ritz vector is an
eigenvector of the *second* eigenvalue, and the stopping rule (which certifies *some*
eigenvalue near :math:`\theta`, Krylov–Weinstein) can be met there. The start is therefore
the old vector plus a random vector of relative size ``mix`` (fresh at every record): its
component along the new top eigenvector keeps the residual above the stopping rule until
Lanczos has found it (the residual of :math:`y + \delta g` is about
:math:`\delta\|(H - \theta)g\|`, above :math:`\mathrm{rtol}\,\theta` when
:math:`\delta\gg\mathrm{rtol}`), and ``cold_every`` restarts from a random vector
periodically. The Ritz value never exceeds :math:`\lambda_{\max}` (a Rayleigh quotient).

References
----------
C. Lanczos (1950); B. N. Parlett, *The Symmetric Eigenvalue Problem*, SIAM (1998), ch. 11
and 13; C. Davis and W. M. Kahan, "The rotation of eigenvectors by a perturbation. III",
*SIAM J. Numer. Anal.* 7(1), 1–46 (1970); J. Cohen, S. Kaur, Y. Li, J. Z. Kolter and
A. Talwalkar, "Gradient descent on neural networks typically occurs at the edge of
stability", ICLR 2021 (sharpness tracked during training).
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

from numerics._validation import check_int, check_positive, describe, message
from numerics.random import default_rng

__all__ = ["SharpnessTracker"]


class SharpnessTracker:
    r"""A ``record`` entry for :func:`numerics.run`: :math:`\lambda_{\max}(\nabla^2L(x_r))`
    of every replica by warm-started Lanczos.

    Parameters
    ----------
    rtol
        Lanczos' stopping rule :math:`\|Hy - \theta y\| \le \mathrm{rtol}\,|\theta|` (in
        (0, 1); default 1e-4).
    maxiter
        At most this many HVPs per record (default 30); a record that hits it returns the
        Ritz value reached (a lower bound on :math:`\lambda_{\max}`) and counts in
        ``unconverged``.
    mix
        Relative size of the random vector added to the warm start (module docstring;
        default 1e-2, in [0, 1)).
    cold_every
        Restart from a random vector every this many records (default ``None``: only the
        first record starts cold).
    warm
        ``False``: every record starts cold (for comparison).
    seed
        Seed of the random start vectors.

    Attributes
    ----------
    matvecs
        HVP calls per record (each call is one matvec for every replica).
    unconverged
        Per record, the number of replicas that did not meet the stopping rule.
    vector
        ``(R, p)`` Ritz vectors of the last record (the next warm start), or ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> from numerics import GD, LeastSquares, run
    >>> A = np.diag([3.0, 2.0, 1.5, 1.0, 0.5, 0.2]); y = np.ones(6)
    >>> tracker = SharpnessTracker(seed=0)
    >>> traj = run(LeastSquares(A, y, reduction="sum"), GD(eta=0.1), np.zeros((2, 6)), 20,
    ...            record={"sharpness": tracker}, record_every=10)
    >>> np.round(traj.records["sharpness"], 6)         # λ_max(AᵀA) = 9 at every record
    array([[9., 9.],
           [9., 9.],
           [9., 9.]])
    >>> tracker.matvecs          # a cold start needs all p = 6 steps, a warm start fewer
    [6, 4, 4]
    """

    def __init__(self, *, rtol: float = 1e-4, maxiter: int = 30, mix: float = 1e-2,
                 cold_every: int | None = None, warm: bool = True, seed: Any = 0) -> None:
        owner = "SharpnessTracker"
        self.rtol = check_positive("rtol", rtol, owner=owner)
        if self.rtol >= 1:
            raise ValueError(message("rtol", "be in (0, 1)", f"got {describe(rtol)}", owner=owner))
        self.maxiter = check_int("maxiter", maxiter, minimum=1, owner=owner)
        self.mix = check_positive("mix", mix, allow_zero=True, owner=owner)
        if self.mix >= 1:
            raise ValueError(message("mix", "be in [0, 1)", f"got {describe(mix)}", owner=owner))
        self.cold_every = (None if cold_every is None
                           else check_int("cold_every", cold_every, minimum=1, owner=owner))
        if not isinstance(warm, bool):
            raise TypeError(message("warm", "be True or False", f"got {describe(warm)}",
                                    owner=owner))
        self.warm = warm
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Forget the Ritz vectors and the counts (the next record starts cold)."""
        self.vector: Any = None
        self.matvecs: list[int] = []
        self.unconverged: list[int] = []
        self._gen: Any = None

    def __repr__(self) -> str:
        start = "warm" if self.warm else "cold"
        return (f"SharpnessTracker(rtol={self.rtol:g}, maxiter={self.maxiter}, {start} starts, "
                f"records={len(self.matvecs)}, matvecs={sum(self.matvecs)})")

    def _start(self, x: Any, xp: Any) -> Any:
        if self._gen is None:
            self._gen = default_rng(self.seed, xp=xp, device=getattr(x, "device", None))
        g = self._gen.normal(tuple(x.shape), dtype=x.dtype)
        records = len(self.matvecs)
        cold = (not self.warm or self.vector is None or tuple(self.vector.shape) != tuple(x.shape)
                or (self.cold_every is not None and records % self.cold_every == 0))
        if cold:
            return g
        gn = xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))
        return self.vector + self.mix * g / gn   # the Ritz vectors have unit norm

    def __call__(self, model: Any, x: Any) -> Any:
        """``λ_max`` estimates ``(R,)`` at ``x (R, p)``; ``model`` needs ``hvp``."""
        from numerics.sharpness import top_eigenvalue  # noqa: PLC0415

        if not callable(getattr(model, "hvp", None)):
            raise TypeError(message("model", "have hvp(x, v) (an HVPModel)",
                                    f"got {type(model).__name__}", owner="SharpnessTracker"))
        xp = array_namespace(x)
        est = top_eigenvalue(lambda v: model.hvp(x, v), self._start(x, xp), rtol=self.rtol,
                             maxiter=self.maxiter)
        self.vector = est.vector
        self.matvecs.append(int(est.matvecs))
        self.unconverged.append(int(xp.sum(xp.astype(~est.converged, xp.int64))))
        return est.value
