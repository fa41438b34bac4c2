r"""Matrix factorization: gradient descent on U Vᵀ from a tiny initialization.

References
----------
Gunasekar, Woodworth, Bhojanapalli, Neyshabur, Srebro, NeurIPS 2017 (*Implicit
regularization in matrix factorization*), Theorem 1 (commuting measurements) and
Conjecture; seed 001 ('Thm [GWBNS'17]').
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result
from theory._symbols import matrix, sym

__all__: list[str] = []


class _Matrix:
    """Matrix symbols named as identifiers that print as the paper's LaTeX."""

    named = staticmethod(matrix)


_SRC = "seed 001 (Thm [GWBNS'17]); Gunasekar et al. NeurIPS 2017"


@result("factorization.nuclear_norm",
        title="matrix sensing with U Vᵀ, tiny init: GD reaches the min-nuclear-norm solution",
        source=_SRC, how="numeric")
def nuclear_norm() -> Result:
    r"""For :math:`L(U, V) = \tfrac12\sum_{i=1}^n(\langle UV^T, A_i\rangle - y_i)^2` and
    gradient flow from :math:`U_0 = V_0 = \alpha I`,

    .. math:: \lim_{\alpha\to0} U_\infty V_\infty^T = \arg\min\{\|W\|_* : \langle A_i, W\rangle = y_i\},

    proved by Gunasekar et al. when the :math:`A_i` are symmetric and commute (then the
    flow stays in their common eigenbasis and reduces to a non-negative diagonal network,
    so the limit is the minimum-trace PSD solution); conjectured in general, where it
    is known to fail for some instances (Razin & Cohen 2020). Stated; numeric evidence.
    """
    m1 = sym("m_1", integer=True, positive=True)
    m2 = sym("m_2", integer=True, positive=True)
    n = sym("n", integer=True, positive=True)
    W = _Matrix.named("W_inf", r"W_\infty", m1, m2)
    Wstar = _Matrix.named("W_star", r"W_*", m1, m2)
    return Result(
        id="factorization.nuclear_norm",
        title="matrix sensing with U Vᵀ from tiny init: GD reaches the min-nuclear-norm solution (exact for commuting measurements)",
        source=_SRC,
        statement=sp.Eq(W, Wstar),
        symbols=(m1, m2, n),
        conditions=(sp.Q.symmetric(Wstar),),
        notes=("W_* = argmin ‖W‖_* s.t. ⟨A_i, W⟩ = y_i. Exact (as α → 0) when the A_i are "
               "symmetric and commute and the problem is square with U_0 = V_0 (so W_* is "
               "symmetric, stated as a condition); then "
               "U_t = V_t for all t and W = UUᵀ is PSD. For general (non-commuting) Gaussian "
               "A_i the checks report the measured gap to the nuclear-norm solution."),
        references=("Gunasekar et al., NeurIPS 2017, Theorem 1; Razin & Cohen, NeurIPS 2020",),
    )
