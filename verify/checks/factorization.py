"""Checks of ``factorization.nuclear_norm``: GD on U Vᵀ from a tiny init vs the minimum
nuclear-norm solution (exact for commuting measurements; a measured gap otherwise)."""

from __future__ import annotations

from typing import Any

import numpy as np

from numerics import GD, run, to_numpy
from numerics.factorization import MatrixSensing, min_nuclear_norm, min_nuclear_norm_commuting
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check
from verify.strategies import host_rng, orthogonal


def _gd(A: np.ndarray, y: np.ndarray, alpha: float, xp: Any, steps: int) -> tuple[np.ndarray, float]:
    """GD with η = 0.1/λ_max(𝒜𝒜*) (the Hessian at W is ~2‖W‖·λ_max, ‖W‖ ≲ 2 here)."""
    model = MatrixSensing(xp.asarray(A), xp.asarray(y))
    M = A.reshape(A.shape[0], -1)
    lmax = float(np.linalg.eigvalsh(M @ M.T).max())
    eta = 0.1 / lmax
    traj = run(model, GD(eta), model.init(alpha), steps, record=())
    return to_numpy(model.product(traj.x))[0], float(to_numpy(model.loss(traj.x))[0])


_EXAMPLE = {"m": 4, "n_commuting": 3, "n_general": 10, "rank": 1, "alpha": 1e-4,
            "steps": 4000, "seed": 0}


@check("factorization.nuclear_norm", example=_EXAMPLE)
def check_nuclear_norm(p: dict[str, Any], xp: Any) -> Outcome:
    """Commuting case: A_i = Q diag(a_i) Qᵀ; the min-nuclear-norm solution is a linear
    program in the common eigenbasis (and ADMM on the full problem must agree). GD from
    U_0 = V_0 = αI must reach it; tolerance: the α-dependent gap of the entropic potential,
    bounded by the residual floor plus 2mα²·|log α| (the small eigenvalues GD leaves at O(α²)).
    General Gaussian A_i: the gap between GD and ADMM is measured and reported (details)."""
    rng = host_rng(p)
    m = p["m"]
    Q = orthogonal(rng, m)
    x_star = np.zeros(m)
    x_star[: p["rank"]] = rng.uniform(1.0, 2.0, p["rank"])
    a = np.abs(rng.standard_normal((p["n_commuting"], m))) + 0.1   # positive: consistent signs
    A = np.einsum("ij,nj,kj->nik", Q, a, Q)
    y = a @ x_star
    W_lp = to_numpy(min_nuclear_norm_commuting(xp.asarray(A), xp.asarray(y), xp.asarray(Q)))
    W_admm = to_numpy(min_nuclear_norm(xp.asarray(A), xp.asarray(y), iterations=3000, tol=1e-9))
    W_gd, loss = _gd(A, y, p["alpha"], xp, p["steps"])
    scale = float(np.linalg.norm(W_lp))
    floor = np.sqrt(2 * loss) * m + 2 * m * p["alpha"] ** 2 * abs(np.log(p["alpha"])) * 10
    t = tol.Tolerance(floor + 1e-6 * scale, "residual + 20mα²|log α| (entropic gap) + 1e-6 (LP)")
    # General case (reported): Gaussian A_i, rank-1 ground truth.
    G = rng.standard_normal((p["n_general"], m, m))
    Wt = np.outer(rng.standard_normal(m), rng.standard_normal(m))
    yg = np.einsum("nij,ij->n", G, Wt)
    Wg_admm = to_numpy(min_nuclear_norm(xp.asarray(G), xp.asarray(yg), iterations=3000, tol=1e-9))
    Wg_gd, _ = _gd(G, yg, p["alpha"], xp, p["steps"])
    gap = float(np.linalg.norm(Wg_gd - Wg_admm) / np.linalg.norm(Wg_admm))
    nuc = lambda W: float(np.linalg.svd(W, compute_uv=False).sum())  # noqa: E731
    return Outcome.all_of([
        Outcome.close(0.0, float(np.linalg.norm(W_gd - W_lp)), t,
                      quantity="commuting: ‖W_GD − W_*‖_F", general_relative_gap=gap,
                      general_nuclear_gd=nuc(Wg_gd), general_nuclear_min=nuc(Wg_admm)),
        Outcome.close(0.0, float(np.linalg.norm(W_admm - W_lp)),
                      tol.Tolerance(1e-6 * scale, "ADMM stopping tolerance"),
                      quantity="commuting: ADMM vs LP"),
    ])
