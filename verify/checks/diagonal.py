"""Checks of the ``diagonal.*`` results: GD on a diagonal linear net vs the Q_α interpolant,
and its ℓ1 / ℓ2 limits at extreme initialization scales."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import GD, run, to_numpy
from numerics.diagonal import (
    DiagonalNet,
    diagonal_init,
    min_l1_interpolant,
    min_l2_interpolant,
    min_q_interpolant,
)
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, log_uniform, seeds, to_xp


_asarray = to_xp  # host array -> float64 array of xp


def _problem(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    rng = host_rng(p)
    n, d = p["n"], p["d"]
    X = rng.standard_normal((n, d))
    w_star = np.zeros(d)
    w_star[: p.get("k", 1)] = rng.choice([-1.0, 1.0], p.get("k", 1)) * rng.uniform(0.5, 1.5, p.get("k", 1))
    return X, X @ w_star


def _gd_limit(X: np.ndarray, y: np.ndarray, alpha: float, eta_scale: float, xp: Any,
              time: float) -> tuple[np.ndarray, float]:
    """GD with step η = eta_scale/(4 max(α², 1) λ_max) for a time ``time``·max(α², 1)⁻¹·…;
    returns w and the final loss."""
    lmax = float(np.linalg.eigvalsh(X.T @ X).max())
    eta = eta_scale / (4 * max(alpha**2, 1.0) * lmax)
    model = DiagonalNet(_asarray(xp, X), _asarray(xp, y), reduction="sum")
    steps = int(np.ceil(time / (eta * lmax * max(alpha**2, 1.0))))
    traj = run(model, GD(eta), diagonal_init(alpha, X.shape[1], xp=xp), steps, record=())
    return to_numpy(model.w(traj.x))[0], float(to_numpy(model.loss(traj.x))[0])


def _gd_limits_small(X: np.ndarray, y: np.ndarray, alphas: list[float], xp: Any,
                     time: float) -> tuple[np.ndarray, np.ndarray]:
    """Several α ≤ 1 as replicas of one GD run (η = 0.4/(4λ_max), time in units of 1/λ_max)."""
    lmax = float(np.linalg.eigvalsh(X.T @ X).max())
    eta = 0.4 / (4 * lmax)
    model = DiagonalNet(_asarray(xp, X), _asarray(xp, y), reduction="sum")
    x0 = diagonal_init(_asarray(xp, np.asarray(alphas, dtype=np.float64)), X.shape[1], xp=xp)
    traj = run(model, GD(eta), x0, int(np.ceil(time / (eta * lmax))), record=())
    return to_numpy(model.w(traj.x)), to_numpy(model.loss(traj.x))


@st.composite
def _bias_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(2, 5))
    return {"n": n, "d": n + draw(st.integers(2, 8)), "k": draw(st.integers(1, 2)),
            "alpha": draw(log_uniform(0.3, 1.5)), "seed": draw(seeds)}


@check("diagonal.implicit_bias", strategy=_bias_params(), examples=2,
       example={"n": 4, "d": 10, "k": 2, "alpha": 0.5, "seed": 0})
def check_implicit_bias(p: dict[str, Any], xp: Any) -> Outcome:
    """GD limits at steps η and η/4 vs argmin Q_α (SciPy, through the convex dual).

    GD is a first-order discretization of the flow, so its limit is O(η) away from the flow's:
    the error must shrink at least by half when η is divided by 4 (first order predicts 4),
    down to the floor set by the residual (‖Xw − y‖/σ_min(X) scaled by the Q_α curvature)."""
    X, y = _problem(p)
    a = p["alpha"]
    w_q = to_numpy(min_q_interpolant(_asarray(xp, X), _asarray(xp, y), a))
    w1, l1 = _gd_limit(X, y, a, 0.2, xp, 60.0)
    w2, l2 = _gd_limit(X, y, a, 0.05, xp, 60.0)
    e1, e2 = float(np.linalg.norm(w1 - w_q)), float(np.linalg.norm(w2 - w_q))
    smin = float(np.linalg.svd(X, compute_uv=False).min())
    wmax = float(np.abs(w_q).max())
    floor = tol.Tolerance(np.sqrt(2 * max(l1, l2)) / smin * (1 + wmax / a**2) + 1e-9 * (1 + wmax),
                          "residual floor ‖Xw − y‖/σ_min·(1 + |w|/α²) + solver 1e-9")
    return Outcome.all_of([
        Outcome.at_most(e2, 0.5 * e1, floor, quantity="‖w_GD(η/4) − w_Q‖ ≤ ½‖w_GD(η) − w_Q‖",
                        err_eta=e1, err_eta4=e2),
        Outcome.at_most(e2, 0.0, tol.Tolerance(0.05 * float(np.linalg.norm(w_q)) + floor.value,
                                               "5% of ‖w_Q‖: the O(η) limit gap at η/4"),
                        quantity="‖w_GD(η/4) − w_Q‖"),
    ])


_LIMIT_EXAMPLE = {"n": 6, "d": 12, "k": 1, "small": [1e-1, 1e-3, 1e-5], "large": [3.0, 30.0],
                  "seed": 3}


def _limit_runs(p: dict[str, Any], xp: Any) -> dict[str, Any]:
    X, y = _problem(p)
    l1 = to_numpy(min_l1_interpolant(_asarray(xp, X), _asarray(xp, y)))
    l2 = to_numpy(min_l2_interpolant(_asarray(xp, X), _asarray(xp, y)))
    Ws, Ls = _gd_limits_small(X, y, p["small"], xp, 1000.0)
    small = [(a, w, l) for a, w, l in zip(p["small"], Ws, Ls)]
    large = [(a, *_gd_limit(X, y, a, 0.2, xp, 60.0)) for a in p["large"]]
    return {"X": X, "y": y, "l1": l1, "l2": l2, "small": small, "large": large}


@check("diagonal.scale_limits", example=_LIMIT_EXAMPLE)
def check_scale_limits(p: dict[str, Any], xp: Any) -> Outcome:
    """GD limits from small α approach the min-ℓ1 interpolant (LP), from large α the min-ℓ2
    one (pseudo-inverse): the distance decreases monotonically along each α sequence, and at
    the extremes is below 5% of ‖w_ℓ1 − w_ℓ2‖. The derived limits themselves
    (diagonal.scale_limits) are evaluated at the extreme α and compared with ℓ1/ℓ2 norms."""
    out = _limit_runs(p, xp)
    l1, l2 = out["l1"], out["l2"]
    gap = float(np.linalg.norm(l1 - l2))
    d_small = [float(np.linalg.norm(w - l1)) for _, w, _ in out["small"]]
    d_large = [float(np.linalg.norm(w - l2)) for _, w, _ in out["large"]]
    five = tol.Tolerance(0.05 * gap, "5% of ‖w_ℓ1 − w_ℓ2‖")
    zero = tol.Tolerance(0.0, "monotone")
    outs = [Outcome.at_most(d_small[-1], 0.0, five, quantity=f"α = {p['small'][-1]:g}: ‖w − w_ℓ1‖"),
            Outcome.at_most(d_large[-1], 0.0, five, quantity=f"α = {p['large'][-1]:g}: ‖w − w_ℓ2‖")]
    outs += [Outcome.at_most(b, a, zero, quantity="‖w − w_ℓ1‖ decreases as α ↓")
             for a, b in zip(d_small, d_small[1:])]
    outs += [Outcome.at_most(b, a, zero, quantity="‖w − w_ℓ2‖ decreases as α ↑")
             for a, b in zip(d_large, d_large[1:])]
    # The derived limits: Q_α(w)/log(1/α²) → ‖w‖₁ and α²Q_α(w) → ‖w‖²/4, at w = w_ℓ1.
    a_s, a_l = 1e-30, 10.0
    q = theory.get("diagonal.implicit_bias").numeric(xp, part="Q_coordinate")
    Qs = float(to_numpy(np.sum(to_numpy(q(w=_asarray(xp, l1), alpha=a_s))))) / np.log(1 / a_s**2)
    Ql = a_l**2 * float(np.sum(to_numpy(q(w=_asarray(xp, l1), alpha=a_l))))
    n1 = float(np.abs(l1).sum())
    outs.append(Outcome.close(n1, Qs, tol.Tolerance(
        n1 * (np.log(np.abs(l1[l1 != 0])).__abs__().max() + 1) / np.log(1 / a_s**2),
        "next term of q: |w|(log|w| − 1)/log(1/α²)"), quantity="Q_α/log(1/α²) vs ‖w‖₁"))
    n2 = float(l1 @ l1) / 4
    outs.append(Outcome.close(n2, Ql, tol.Tolerance(float(np.sum(l1**4)) / (192 * a_l**4) * 2,
                                                    "next Taylor term z⁴/192 of q")
                              + tol.floating_point(a_l**4, ops=4 * len(l1)),
                              quantity="α²Q_α vs ‖w‖²/4"))
    return Outcome.all_of(outs)


@figure("diagonal.scale_limits")
def figure_scale_limits(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    X, y = _problem(p)
    alphas = np.geomspace(1e-4, 10.0, 12)
    small = alphas[alphas <= 1]
    W = np.vstack([_gd_limits_small(X, y, list(small), xp, 1500.0)[0]]
                  + [_gd_limit(X, y, a, 0.2, xp, 60.0)[0][None] for a in alphas[alphas > 1]])
    l1 = to_numpy(min_l1_interpolant(_asarray(xp, X), _asarray(xp, y)))
    l2 = to_numpy(min_l2_interpolant(_asarray(xp, X), _asarray(xp, y)))
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for j in range(W.shape[1]):
        ax.semilogx(alphas, W[:, j], "-", lw=1)
    ax.scatter(np.full(len(l1), alphas[0] / 2), l1, marker=">", c="k", label="min-ℓ1")
    ax.scatter(np.full(len(l2), alphas[-1] * 2), l2, marker="<", c="r", label="min-ℓ2")
    ax.set_xlabel("initialization scale α")
    ax.set_ylabel("coordinates of the GD limit w")
    ax.set_title("Diagonal net: rich (ℓ1) to kernel (ℓ2) regime")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
