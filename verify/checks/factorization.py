"""Checks of ``factorization.nuclear_norm``: GD on U Vᵀ from a tiny init vs the minimum
nuclear-norm solution (exact for commuting measurements; a measured gap otherwise)."""

from __future__ import annotations

from typing import Any

import numpy as np

from numerics import GD, run, to_numpy
from numerics.factorization import (
    MatrixSensing,
    min_entropy_commuting,
    min_nuclear_norm,
    min_nuclear_norm_commuting,
)
from verify.checks.label_noise import claim
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


def _commuting_problem(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.random.Generator]:
    """A_i = Q diag(a_i) Qᵀ (a_i > 0: consistent signs), y = a x*, x* of the given rank."""
    rng = host_rng(p)
    m = p["m"]
    Q = orthogonal(rng, m)
    x_star = np.zeros(m)
    x_star[: p["rank"]] = rng.uniform(1.0, 2.0, p["rank"])
    a = np.abs(rng.standard_normal((p["n_commuting"], m))) + 0.1
    return np.einsum("ij,nj,kj->nik", Q, a, Q), a @ x_star, Q, rng


@check("factorization.nuclear_norm", example=_EXAMPLE)
def check_nuclear_norm(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Commuting case: A_i = Q diag(a_i) Qᵀ. The claim W_∞ = W_* (statement, evaluated at the
    min-nuclear-norm solution W_*, a linear program in the common eigenbasis; ADMM on the
    full problem must agree) vs GD from U_0 = V_0 = αI.

    Tolerance, derived: in the eigenbasis the flow is a non-negative diagonal net, so its
    exact finite-α limit is the entropic interpolant argmin Σ x log(x/α²) − x s.t. ⟨a_i, x⟩ =
    y_i (numerics.factorization.min_entropy_commuting); the gap ‖W_ent(α) − W_*‖ is the
    α-dependent part (the theorem is the α → 0 limit), plus the GD residual floor
    √(2L)·m and the LP's 1e-6. Not certified: the O(η) gap between GD and the flow (η is
    0.1/λ_max; it is below the residual floor here). The general (Gaussian A_i) gap between
    GD and ADMM is reported in the details."""
    m = p["m"]
    A, y, Q, rng = _commuting_problem(p)
    W_lp = to_numpy(min_nuclear_norm_commuting(xp.asarray(A), xp.asarray(y), xp.asarray(Q)))
    W_admm = to_numpy(min_nuclear_norm(xp.asarray(A), xp.asarray(y), iterations=3000, tol=1e-9))
    W_ent = to_numpy(min_entropy_commuting(xp.asarray(A), xp.asarray(y), xp.asarray(Q), p["alpha"]))
    W_gd, loss = _gd(A, y, p["alpha"], xp, p["steps"])
    pred = to_numpy(claim(result, xp)(W_star=xp.asarray(W_lp)))
    scale = float(np.linalg.norm(W_lp))
    gap = float(np.linalg.norm(W_ent - W_lp))
    t = tol.Tolerance(gap + np.sqrt(2 * loss) * m + 1e-6 * scale,
                      f"finite-α gap ‖W_ent(α) − W_*‖ = {gap:.2g} (exact limit of the flow at α) "
                      "+ residual floor √(2L)·m + LP 1e-6")
    # General case (reported): Gaussian A_i, rank-1 ground truth.
    G = rng.standard_normal((p["n_general"], m, m))
    Wt = np.outer(rng.standard_normal(m), rng.standard_normal(m))
    yg = np.einsum("nij,ij->n", G, Wt)
    Wg_admm = to_numpy(min_nuclear_norm(xp.asarray(G), xp.asarray(yg), iterations=3000, tol=1e-9))
    Wg_gd, _ = _gd(G, yg, p["alpha"], xp, p["steps"])
    rel_gap = float(np.linalg.norm(Wg_gd - Wg_admm) / np.linalg.norm(Wg_admm))
    nuc = lambda W: float(np.linalg.svd(W, compute_uv=False).sum())  # noqa: E731
    return Outcome.all_of([
        Outcome.close(0.0, float(np.linalg.norm(W_gd - pred)), t,
                      quantity="commuting: ‖W_GD − W_*‖_F (W_* from the statement)",
                      general_relative_gap=rel_gap, general_nuclear_gd=nuc(Wg_gd),
                      general_nuclear_min=nuc(Wg_admm), entropic_gap=gap),
        Outcome.close(0.0, float(np.linalg.norm(W_gd - W_ent)), tol.Tolerance(
            np.sqrt(2 * loss) * m + 1e-3 * gap + 1e-9 * scale,
            "residual floor + 1e-3 of the α-gap (GD at η = 0.1/λ_max vs the flow) + 1e-9"),
                      quantity="commuting: ‖W_GD − W_ent(α)‖_F (the finite-α limit)"),
        Outcome.close(0.0, float(np.linalg.norm(W_admm - W_lp)),
                      tol.Tolerance(1e-6 * scale, "ADMM stopping tolerance"),
                      quantity="commuting: ADMM vs LP"),
    ])
