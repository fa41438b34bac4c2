"""Checks of the ``adaptive.*`` results: scaled GD, RMSprop and Adam (seed 003).

* ``adaptive.metric_view``: scaled GD equals GD on f∘H^{−1/2} step by step, reaches the
  H-projection at the contraction rate of H^{−1/2}AᵀAH^{−1/2}, and its stability threshold is
  2/λ_max(H^{−1/2}AᵀAH^{−1/2}).
* ``adaptive.adam_update``: :class:`numerics.adaptive.Adam` and ``RMSprop`` against the SymPy
  statements (moment recursions and step) evaluated on the same gradient sequence.
* ``adaptive.adam_vs_sgd_norm``: Adam from zero interpolates, and its norm exceeds the
  min-norm (GD) solution's by a measured margin; in the isotropic case it does not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import GD, LeastSquares, run, to_numpy
from numerics.adaptive import Adam, RMSprop
from verify import tolerance as tol
from verify.checks.linear import _metric, _projection, _scaled_params, _scaled_rate
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, least_squares_params, matrix_with_spectrum, seeds, to_xp

EPS = tol.EPS64


_asarray = to_xp  # host array -> float64 array of xp


def _norm(v: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=axis))


def _sqrt_and_inv_sqrt(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Hm = np.diag(H) if H.ndim == 1 else H
    w, Q = np.linalg.eigh(Hm)
    return (Q * np.sqrt(w)) @ Q.T, (Q / np.sqrt(w)) @ Q.T


# --------------------------------------------------------------------- metric_view
@check("adaptive.metric_view", strategy=_scaled_params(), examples=10,
       example={"n": 3, "d": 7, "rank": 3, "cond": 2.0, "h_cond": 5.0, "diagonal": False,
                "eta_frac": 0.6, "seed": 4})
def check_metric_view(p: dict[str, Any], xp: Any) -> Outcome:
    """(i) k steps of GD(η, metric=H) = H^{−1/2}·(k steps of GD on v ↦ f(H^{−1/2}v) from
    H^{1/2}x_0); (ii) the limit is the H-projection (tolerance ρ^K‖e_0‖_H/√λ_min(H));
    (iii) the H-norm error contracts per step by at most ρ = max|1 − ημ_j| (μ the spectrum of
    H^{−1/2}AᵀAH^{−1/2}) and, at η = 1.1·2/μ_max, grows: the threshold is 2/μ_max."""
    A_h, s = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    b_h = rng.standard_normal(p["n"])
    H_h = _metric(p, rng)
    Hh, Hmh = _sqrt_and_inv_sqrt(H_h)
    x0_h = np.vstack([np.zeros(p["d"]), 2.0 * rng.standard_normal((2, p["d"]))])
    _, mu_max, h_min = _scaled_rate(A_h, H_h, 1.0, 1.0)
    eta = p["eta_frac"] * 2.0 / mu_max
    rho, _, _ = _scaled_rate(A_h, H_h, eta, 1.0)
    A, b, H = _asarray(xp, A_h), _asarray(xp, b_h), _asarray(xp, H_h)
    model = LeastSquares(A, b, reduction="sum")
    outs = []
    # (i) the change of variables, step by step
    k1 = 25
    x_scaled = to_numpy(run(model, GD(eta, metric=H), _asarray(xp, x0_h), k1, record=()).x)
    model_v = LeastSquares(_asarray(xp, A_h @ Hmh), b, reduction="sum")
    v = to_numpy(run(model_v, GD(eta), _asarray(xp, x0_h @ Hh), k1, record=()).x)
    gap = float(np.max(_norm(v @ Hmh - x_scaled)))
    scale = float(np.max(_norm(x0_h))) + k1 * eta * float(np.linalg.norm(A_h.T @ b_h)) / h_min
    outs.append(Outcome.close(0.0, gap, tol.floating_point(
        scale, ops=k1 * (p["n"] + p["d"]) + p["d"] ** 2, cond=p["h_cond"]),
        quantity="‖H^{−1/2}v_k − x_k‖ (GD on f∘H^{−1/2} vs scaled GD)"))
    # (ii) the limit: K steps so that the contraction leaves < 1e-10 of the initial error
    pred = _projection(A_h, b_h, x0_h, H_h)
    e0_H = float(np.max(_norm((x0_h - pred) @ Hh)))
    K = int(min(3000, max(50, math.ceil(math.log(1e-10) / math.log(rho)))))
    traj = run(model, GD(eta, metric=H), _asarray(xp, x0_h), K, record=("x",),
               record_every=max(1, K // 10))
    xs = to_numpy(traj.records["x"])
    err = float(np.max(_norm(xs[-1] - pred)))
    t = tol.contraction(rho, K, e0_H / math.sqrt(h_min)) + tol.floating_point(
        float(np.max(_norm(pred))), ops=K * (p["n"] + p["d"]), cond=p["h_cond"] * p["cond"] ** 2)
    outs.append(Outcome.close(0.0, err, t, quantity="max_r ‖x_K − x̂_H‖"))
    # (iii) the H-norm error after dk steps is at most ρ^dk times the initial one (the
    # modes of H^{1/2}(x − x̂) are orthogonal and each contracts by |1 − ημ_j| ≤ ρ)
    e_H = _norm((xs - pred[None]) @ Hh)  # (T, R)
    dk = int(traj.steps[1] - traj.steps[0])
    ratio = float(np.max(e_H[1] / np.maximum(e_H[0], 1e-300)))
    outs.append(Outcome.at_most(ratio, rho**dk, tol.floating_point(
        float(np.max(_norm(pred @ Hh))) / max(float(np.min(e_H[0][e_H[0] > 0], initial=1.0)), 1e-300),
        ops=dk * (p["n"] + p["d"]), cond=p["h_cond"]),
        quantity=f"‖x_k − x̂‖_H/‖x_0 − x̂‖_H ≤ ρ^k at k = {dk}"))
    # above the threshold the error grows (the top mode dominates after a few steps)
    eta_bad = 1.1 * 2.0 / mu_max
    kb = 60
    tb = run(model, GD(eta_bad, metric=H), _asarray(xp, x0_h[1:]), kb, record=("x",),
             record_every=kb)
    xb = to_numpy(tb.records["x"])
    eb = _norm((xb - pred[1:][None]) @ Hh)
    growth = float(np.min(eb[-1] / eb[0])) ** (1.0 / kb)
    rho_bad, *_ = _scaled_rate(A_h, H_h, eta_bad, 1.0)
    outs.append(Outcome.at_least(growth, 1.0, tol.Tolerance(
        0.0, f"instability at η = 1.1·2/μ_max: top-mode factor {rho_bad:.3f} > 1"),
        quantity="per-step growth of ‖x_k − x̂‖_H above the threshold"))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------------- adam_update
class _GradientSequence:
    """A 'model' whose k-th gradient is the k-th row of a pre-drawn sequence (no feedback),
    so that the update can be compared with the formulas without error amplification."""

    def __init__(self, G: Any) -> None:
        self.G = G  # (K, R, d)
        self.k = 0

    def grad(self, x: Any) -> Any:
        g = self.G[self.k, ...]
        self.k += 1
        return g

    def loss(self, x: Any) -> Any:
        return 0.0 * x[:, 0]


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats with log-uniform distribution on [low, high] (kept to 6 significant digits)."""
    return st.floats(math.log(low), math.log(high)).map(lambda v: float(f"{math.exp(v):.6g}"))


@st.composite
def _adam_params(draw: Any) -> dict[str, Any]:
    return {
        "d": draw(st.integers(1, 8)),
        "K": draw(st.integers(1, 60)),
        "beta_m": round(draw(st.floats(0.05, 0.99)), 6),
        "beta_v": round(draw(st.floats(0.05, 0.9999)), 6),
        "eps": draw(_log_uniform(1e-10, 1e-2)),
        "eta": draw(_log_uniform(1e-4, 1.0)),
        "g_scale": draw(_log_uniform(1e-9, 1e3)),
        "seed": draw(seeds),
    }


@check("adaptive.adam_update", strategy=_adam_params(), examples=10,
       example={"d": 4, "K": 30, "beta_m": 0.9, "beta_v": 0.999, "eps": 1e-8, "eta": 0.01,
                "g_scale": 1.0, "seed": 0})
def check_adam_update(p: dict[str, Any], xp: Any) -> Outcome:
    """Adam and RMSprop from numerics.adaptive vs the SymPy statement of
    adaptive.adam_update (moment recursions, bias-corrected metric, step) on the same
    gradients. Each coordinate's K steps are independent sums of bounded terms:
    |Δx| ≤ η|m|/(√v + ε), so the rounding is ~ (K + 10)·eps·Σ|Δx|."""
    rng = host_rng(p, 0)
    R, K, d = 2, p["K"], p["d"]
    # gradients spanning a few orders of magnitude around g_scale, some exactly zero
    G = p["g_scale"] * rng.standard_normal((K, R, d)) * np.exp(rng.uniform(-3, 3, (K, R, d)))
    G[rng.random((K, R, d)) < 0.1] = 0.0
    res = theory.get("adaptive.adam_update")
    m_rec = res.numeric(xp, part="first_moment")
    v_rec = res.numeric(xp, part="second_moment")
    step = res.numeric(xp, part="step")
    rms_step = res.numeric(xp, part="rmsprop_step")
    bm, bv, eps, eta = p["beta_m"], p["beta_v"], p["eps"], p["eta"]
    Gx = _asarray(xp, G)
    m = xp.zeros((R, d), dtype=xp.float64)
    v = xp.zeros((R, d), dtype=xp.float64)
    x_adam = xp.zeros((R, d), dtype=xp.float64)
    x_rms = xp.zeros((R, d), dtype=xp.float64)
    total = np.zeros((R, d))
    for k in range(1, K + 1):
        g = Gx[k - 1, ...]
        m = m_rec(b_m=bm, m_prev=m, g=g)
        v = v_rec(b_v=bv, v_prev=v, g=g)
        dx = step(gamma=eta, m_hat=m, v_hat=v, b_m=bm, b_v=bv, epsilon=eps, k=float(k))
        x_adam = x_adam + dx
        x_rms = x_rms + rms_step(gamma=eta, g=g, v_hat=v, epsilon=eps)
        total = total + np.abs(to_numpy(dx))
    x0 = xp.zeros((R, d), dtype=xp.float64)
    got_adam = to_numpy(run(_GradientSequence(Gx), Adam(eta, beta_m=bm, beta_v=bv, eps=eps),
                            x0, K, record=()).x)
    got_rms = to_numpy(run(_GradientSequence(Gx), RMSprop(eta, beta_v=bv, eps=eps),
                           x0, K, record=()).x)
    # per-step relative error of a handful of flops (moments, sqrt, division): 20 eps
    t = tol.floating_point(float(np.max(total)) + eta * K, ops=K + 20)
    return Outcome.all_of([
        Outcome.close(0.0, float(np.max(np.abs(got_adam - to_numpy(x_adam)))), t,
                      quantity="max |x_K(Adam) − x_K(SymPy statement)|", K=K),
        Outcome.close(0.0, float(np.max(np.abs(got_rms - to_numpy(x_rms)))), t,
                      quantity="max |x_K(RMSprop) − x_K(SymPy rmsprop_step)|", K=K),
    ])


# ----------------------------------------------------------------- adam_vs_sgd_norm
@st.composite
def _norm_params(draw: Any) -> dict[str, Any]:
    iso = draw(st.booleans())
    if iso:
        p = {"n": 1, "d": draw(st.integers(2, 12)), "rank": 1, "cond": 1.0, "seed": draw(seeds)}
    else:
        p = draw(least_squares_params(max_n=6, max_extra_d=10, max_cond=10.0))
    p["isotropic"] = iso
    p["eta_rel"] = round(draw(st.floats(0.01, 0.03)), 5)
    return p


def _norm_problem(p: dict[str, Any], R: int) -> tuple[np.ndarray, np.ndarray]:
    """R least-squares problems of size (n, d); isotropic: one row c·s, s ∈ {±1}^d."""
    rng = host_rng(p, 3)
    if p["isotropic"]:
        s = rng.choice([-1.0, 1.0], size=(R, 1, p["d"]))
        A = s * rng.uniform(0.5, 2.0, (R, 1, 1))
    else:
        A = np.stack([matrix_with_spectrum(p, stream=10 + r)[0] for r in range(R)])
    y = rng.standard_normal((R, p["n"]))
    return A, y


def adam_from_zero(p: dict[str, Any], xp: Any, R: int = 4, K: int = 1000) -> dict[str, Any]:
    """Adam from zero on R problems; the recorded iterate of smallest loss (Adam with a
    constant step is not monotone near its limit: once the gradient vanishes faster than
    √v̂, the effective step grows and the iterate can leave, then return).

    The comparison point is A⁺y, GD's limit from zero (``linear.gd_limit``, checked there)."""
    A_h, y_h = _norm_problem(p, R)
    x_min = (np.linalg.pinv(A_h) @ y_h[..., None])[..., 0]
    eta = p["eta_rel"] * float(np.max(np.abs(x_min)))
    model = LeastSquares(_asarray(xp, A_h), _asarray(xp, y_h), reduction="sum")
    x0 = xp.zeros((R, p["d"]), dtype=xp.float64)
    traj = run(model, Adam(eta), x0, K, record=("x", "loss"), record_every=10)
    loss = to_numpy(traj.records["loss"])          # (T, R)
    best = np.argmin(loss, axis=0)
    xs = to_numpy(traj.records["x"])
    return {"A": A_h, "y": y_h, "x_min": x_min, "eta": eta, "Adam": xs[best, np.arange(R)]}


@check("adaptive.adam_vs_sgd_norm", strategy=_norm_params(), examples=12,
       example={"n": 4, "d": 10, "rank": 4, "cond": 3.0, "isotropic": False, "eta_rel": 0.02,
                "seed": 0, "sigmas": [0.01, 0.1, 1.0, 5.0, 10.0]})
def check_adam_vs_sgd_norm(p: dict[str, Any], xp: Any) -> Outcome:
    """Adam from 0 on overparametrized least squares: (i) interpolates; (ii) generic A:
    ‖x_Adam‖ − ‖A⁺y‖ exceeds its measurement floor ‖Ax − y‖/σ_min(A) + rounding (any x has
    ‖P_R x − A⁺y‖ ≤ ‖Ax − y‖/σ_min, so only a null-space part can raise the norm beyond it);
    isotropic A (one row of equal-magnitude entries): H_k = c_kI and ‖x_Adam − A⁺y‖ is at
    the floor. A⁺y is GD's (and SGD's) limit from 0 (linear.gd_limit, linear.sgd_limit)."""
    R = 4
    out = adam_from_zero(p, xp, R=R)
    A_h, y_h, x_min = out["A"], out["y"], out["x_min"]
    x = out["Adam"]
    res = _norm(np.einsum("rnd,rd->rn", A_h, x) - y_h)
    smin = np.linalg.svd(A_h, compute_uv=False)[:, -1]
    nmin = _norm(x_min)
    scale = float(np.max(nmin))
    fp = tol.floating_point(scale, ops=1000 * (p["n"] + p["d"]), cond=p["cond"])
    # Interpolation: the claim is about the interpolating limit; a relative residual below
    # 1e-5 puts x within ‖Ax − y‖/σ_min of the solution set, which the floor below carries.
    outs = [Outcome.at_most(float(np.max(res / _norm(y_h))), 0.0, tol.Tolerance(
        1e-5, "interpolation reached: relative residual ≤ 1e-5 (the floor below accounts for it)"),
        quantity="‖Ax_Adam − y‖/‖y‖")]
    excess = _norm(x) - nmin
    floor = res / smin
    if p["isotropic"]:
        outs.append(Outcome.close(0.0, float(np.max(_norm(x - x_min))), fp + tol.Tolerance(
            float(np.max(floor)), "‖Ax − y‖/σ_min"),
            quantity="isotropic metric: ‖x_Adam − A⁺y‖"))
    else:
        for r in range(R):
            outs.append(Outcome.at_least(float(excess[r]), float(floor[r]) + fp.value,
                                         tol.Tolerance(0.0, "excess must exceed the floor "
                                                       "‖Ax − y‖/σ_min + " + fp.reason),
                                         quantity="‖x_Adam‖ − ‖A⁺y‖"))
    o = Outcome.all_of(outs)
    o.details.update(relative_excess=[float(e) for e in excess / nmin])
    return o


# --------------------------------------------------------------------------- figures
@figure("adaptive.adam_vs_sgd_norm")
def figure_adam_vs_sgd_table(p: dict[str, Any], xp: Any) -> Any:
    """Seed 003's table in miniature: ‖θ_end‖ and the Lipschitz bound against σ."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from numerics.classification import init_scale_experiment  # noqa: PLC0415

    sig = p.get("sigmas", [0.01, 0.1, 1.0, 5.0, 10.0])
    res = init_scale_experiment(sig, seed=int(p.get("seed", 0)), xp=xp)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for name, style in (("SGD", "o-"), ("Adam", "s--")):
        r = res[name]
        axes[0].loglog(sig, r["theta_norm"], style, label=f"{name}: ‖θ_end‖")
        axes[1].loglog(sig, r["lipschitz"], style, label=f"{name}: L_m(θ_end)")
    axes[0].loglog(sig, res["SGD"]["theta0_norm"], "k:", label="‖θ₀‖")
    axes[1].loglog(sig, res["SGD"]["lipschitz0"], "k:", label="L_m(θ₀)")
    for ax in axes:
        ax.set_xlabel("init scale σ")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("‖θ‖₂")
    axes[1].set_ylabel("Lipschitz bound L_m")
    fig.suptitle("Seed 003 table in miniature: SGD vs Adam from scaled inits\n"
                 f"{res['model']}, L_m = ‖W₀‖‖W_out‖Π(1 + ‖W_l‖)", fontsize=8)
    fig.tight_layout()
    return fig


@figure("adaptive.metric_view")
def figure_metric_view(p: dict[str, Any], xp: Any) -> Any:
    """Error ‖x_k − x̂_H‖_H of scaled GD against the derived rate max|1 − ημ_j|^k."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    A_h, s = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    b_h = rng.standard_normal(p["n"])
    H_h = _metric(p, rng)
    Hh, _ = _sqrt_and_inv_sqrt(H_h)
    x0_h = np.vstack([np.zeros(p["d"]), 2.0 * rng.standard_normal((2, p["d"]))])
    _, mu_max, _ = _scaled_rate(A_h, H_h, 1.0, 1.0)
    eta = p["eta_frac"] * 2.0 / mu_max
    rho, *_ = _scaled_rate(A_h, H_h, eta, 1.0)
    traj = run(LeastSquares(_asarray(xp, A_h), _asarray(xp, b_h), reduction="sum"),
               GD(eta, metric=_asarray(xp, H_h)), _asarray(xp, x0_h), 300, record=("x",),
               record_every=3)
    xs = to_numpy(traj.records["x"])
    pred = _projection(A_h, b_h, x0_h, H_h)
    e = _norm((xs - pred[None]) @ Hh)
    k = np.array(traj.steps)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for r in range(e.shape[1]):
        ax.semilogy(k, e[:, r] + 1e-17, label=f"replica {r}")
    ax.semilogy(k, e[0].max() * rho**k, "k--", label="ρᵏ, ρ = max|1 − ημ_j| (derived)")
    ax.set_xlabel("step k")
    ax.set_ylabel("‖x_k − x̂_H‖_H")
    ax.set_title("Scaled GD = GD on f∘H^{−1/2}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
