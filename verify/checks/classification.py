"""Checks of ``classification.max_margin``: logistic GD on separable data (Soudry et al.).

Layout: problem builders (separable data with a max-margin solution known by construction,
GD runs), the check, the figure. Every prediction comes from the Result handed in: the
statement θ_k = θ̂ log k + w̃ + r_k and each part through ``result.numeric``. The data
give θ̂ twice — by construction (with its dual variables α) and from SciPy's SLSQP solver —
and the remainder r_k = θ_k − (θ̂ log k + w̃) observed on GD's iterates bounds, by plain
geometry, how far the norm and the angle of θ_k may sit from the claimed
log k/γ and atan(‖P⊥w̃‖/(log k/γ + ûᵀw̃)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numerics import GD, run, to_numpy
from numerics.classification import (
    LogisticRegression,
    angle_to,
    max_margin,
    separable_data,
)
from verify import tolerance as tol
from verify.checks.linear import claim
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import seeds

EPS = tol.EPS64


# ============================================================ problem builders
@st.composite
def _max_margin_params(draw: Any) -> dict[str, Any]:
    return {
        "d": draw(st.integers(2, 4)),
        "n_extra": draw(st.integers(1, 14)),
        "margin": round(draw(st.floats(0.3, 1.0)), 4),
        "m2": round(draw(st.floats(1.5, 3.0)), 4),
        "spread": round(draw(st.floats(0.6, 3.0)), 4),
        "eta_frac": round(draw(st.floats(0.4, 0.9)), 4),
        "seed": draw(seeds),
    }


def _col(xp: Any, v: np.ndarray) -> Any:
    return xp.asarray(np.asarray(v, dtype=np.float64)[..., None])


def _setup(p: dict[str, Any], xp: Any, result: Any) -> dict[str, Any]:
    """Data, the SVM (SLSQP and construction), the step, and w̃ from the claimed offset
    z_sᵀw̃ = f(η, α_s) on the support vectors (a d × d linear solve)."""
    D = separable_data(p["d"], p["n_extra"], margin=p["margin"], m2=p["m2"],
                       spread=p["spread"], rng=p["seed"])  # host NumPy
    X, y = np.asarray(D.X), np.asarray(D.y)
    Z = y[:, None] * X
    model = LogisticRegression(xp.asarray(X), xp.asarray(y))
    eta = p["eta_frac"] * model.step_limit()
    svm = max_margin(X, y)  # SLSQP + KKT polish: independent of the construction
    theta_hat = np.asarray(svm.theta)
    u = theta_hat / np.linalg.norm(theta_hat)
    S = list(D.support)
    alpha_c = np.asarray(D.alpha)
    m_s = np.asarray(to_numpy(claim(result, xp, "offset")(eta=eta, alpha_s=xp.asarray(alpha_c[S]))))
    w = np.linalg.solve(Z[S], np.broadcast_to(m_s, (len(S),)))
    w_par = float(u @ w)
    w_perp = float(np.linalg.norm(w - w_par * u))
    gamma = svm.margin
    # Checkpoints k = 2^j, j = j0..j1, from where log k/γ + ûᵀw̃ ≥ 2/γ (the asymptotic regime).
    j0 = max(8, math.ceil((2.0 - gamma * w_par) / math.log(2.0)))
    return dict(D=D, X=X, y=y, Z=Z, S=S, model=model, eta=eta, svm=svm, theta_hat=theta_hat,
                alpha=alpha_c, u=u, w=w, w_par=w_par, w_perp=w_perp, gamma=gamma, j0=j0,
                j1=j0 + 5)


def _run(s: dict[str, Any], p: dict[str, Any], xp: Any, R: int = 3
         ) -> tuple[np.ndarray, np.ndarray]:
    """GD from R random initial points; iterates at k = 2^j0, ..., 2^j1: (ks, xs (J, R, d))."""
    rng = np.random.default_rng(np.random.SeedSequence(int(p["seed"]), spawn_key=(7,)))
    x0 = xp.asarray(rng.standard_normal((R, p["d"])))
    traj = run(s["model"], GD(s["eta"]), x0, 2 ** s["j1"], record=("x",),
               record_every=2 ** s["j0"])
    if traj.n_diverged:
        raise RuntimeError(f"GD diverged at eta = {s['eta']:.3g} below 8/λ_max(ZᵀZ)")
    ks = np.array(traj.steps)
    keep = np.isin(ks, 2 ** np.arange(s["j0"], s["j1"] + 1))
    return ks[keep], to_numpy(traj.records["x"])[keep]


def _one_dimensional(gamma: float, xp: Any, K: int) -> tuple[float, float, float]:
    """GD on one point z = 1/γ in one dimension (d = n = 1) from θ_0 = 0 with η = 4γ²
    (half the stability limit 8/z²). With s_k = e^{zθ_k}, each step multiplies s by
    e^{c/(1+s)}, c = ηz², so s_{k+1} − s_k − c ∈ [−c/(1+s_k), c((e^x − 1)/x − 1)],
    x = c/(1+s_k). Summed over the trajectory this bounds |s_K − s_0 − cK| by E, hence
    the offset (1/z)log c = lim θ_k − log k/z is within (1/z)|log((s_K − s_0)/K) − log c|
    ≤ (1/z)·E/(cK − E) of (1/z)log((s_K − s_0)/K). Returns (η, observed offset, tolerance)."""
    z = 1.0 / gamma
    eta = 4.0 * gamma**2
    model = LogisticRegression(xp.asarray([[z]]), xp.asarray([1.0]))
    traj = run(model, GD(eta), xp.zeros((1, 1), dtype=xp.float64), K, record=("x",))
    th = to_numpy(traj.records["x"])[:, 0, 0]
    sk = np.exp(z * th)
    c = eta * z**2
    x = c / (1 + sk[:-1])
    E = float(np.sum(np.maximum(c / (1 + sk[:-1]), c * (np.expm1(x) / x - 1))))
    E += tol.floating_point(float(sk[-1]), ops=4 * K).value
    obs = math.log((sk[-1] - sk[0]) / K) / z
    return eta, obs, E / (c * K - E) / z


# ============================================================ the check
@check("classification.max_margin", strategy=_max_margin_params(), examples=3,
       example={"d": 3, "n_extra": 10, "margin": 0.5, "m2": 2.0, "spread": 1.5,
                "eta_frac": 0.8, "seed": 0})
def check_max_margin(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """(svm side) SLSQP's θ̂ = Zᵀα for the constructed α (kkt), α ⊙ (Zθ̂ − 1) = 0
    (complementary_slackness), the dual at α equals ½‖θ̂‖² and drops along feasible
    perturbations (dual), γθ̂ is the unit vector along θ̂: ‖θ_K/‖θ_K‖ − γθ̂‖ is the chord
    2 sin(∠(θ_K, θ̂)/2) (direction; that the angle goes to 0 is part angle);
    (GD side) r_k = θ_k − (θ̂ log k + w̃) at least halves between k ≈ 2^{j0} and 2^{j1}
    (statement, offset; the rate remainder_exponent only explains); ‖θ_k‖ = √((log k/γ + ûᵀw̃)² + ‖P⊥w̃‖²) ± ‖r_k‖ (norm_growth);
    |∠(θ_k, θ̂) − angle| ≤ asin(‖r_k‖/‖θ̂ log k + w̃‖) (angle); and the one-dimensional
    offset from a 1-D run (one_dimensional_offset)."""
    s = _setup(p, xp, result)
    assume(s["j1"] <= 15)                     # keep an example under ~1 s
    assume(s["w_perp"] * s["gamma"] >= 0.01)  # else the angle is o(1/log k): see notes
    Z, th, al, S = s["Z"], s["theta_hat"], s["alpha"], s["S"]
    n, d = Z.shape
    Zs = Z[S]
    kappa = float(np.linalg.cond(Zs @ Zs.T))
    fp_th = tol.floating_point(float(np.linalg.norm(th)), ops=n * d, cond=kappa)
    outs = []
    # --- the SVM: kkt, complementary slackness, dual, direction.
    kkt = _vec(claim(result, xp, "kkt")(Z=xp.asarray(Z), alpha=_col(xp, al)))
    outs.append(Outcome.close(0.0, float(np.linalg.norm(kkt - th)), fp_th,
                              quantity="‖Zᵀα(construction) − θ̂(SLSQP)‖ (kkt)"))
    cs = _vec(claim(result, xp, "complementary_slackness")(
        alpha=_col(xp, al), Z=xp.asarray(Z), hat_theta=_col(xp, th)))
    outs.append(Outcome.close(0.0, float(np.max(np.abs(cs))),
                              tol.floating_point(float(al.max()) * float(np.abs(Z @ th).max()),
                                                 ops=n * d, cond=kappa),
                              quantity="max_i |α_i(z_iᵀθ̂ − 1)| (complementary_slackness)"))
    dual = claim(result, xp, "dual")
    D_star = float(to_numpy(dual(alpha=_col(xp, al), Z=xp.asarray(Z))).reshape(-1)[0])
    primal = 0.5 * float(th @ th)
    outs.append(Outcome.close(primal, D_star, tol.floating_point(primal, ops=n * d, cond=kappa),
                              quantity="D(α*) = ½‖θ̂‖² (dual, strong duality)"))
    rng = np.random.default_rng(np.random.SeedSequence(int(p["seed"]), spawn_key=(8,)))
    pert = np.abs(rng.standard_normal((8, n))) * 0.05 * float(al.max())
    pert[:, S] = rng.standard_normal((8, len(S))) * 0.05 * float(al.max())
    D_pert = to_numpy(dual(alpha=_col(xp, al[None, :] + pert), Z=xp.asarray(Z))).reshape(-1)
    outs.append(Outcome.at_most(float(np.max(D_pert)) - D_star, 0.0,
                                tol.floating_point(primal, ops=n * d, cond=kappa),
                                quantity="max over feasible α* + Δ of D − D(α*) (dual: a maximum)"))
    # --- GD.
    ks, xs = _run(s, p, xp)
    L = np.log(ks)
    stmt = claim(result, xp)
    base = np.stack([_vec(stmt(hat_theta=_col(xp, th), tilde_w=_col(xp, s["w"]),
                               r_k=_col(xp, np.zeros(d)), k=float(kk))) for kk in ks])
    r = xs - base[:, None, :]                       # (J, R, d)
    rn = np.linalg.norm(r, axis=-1)                 # (J, R)
    J = s["j1"] - s["j0"]
    # r_k → 0: over J = 5 octaves the remainder must at least halve (a decay of k^{−0.2} or
    # faster; the claimed rate itself is only explained, see remainder_exponent in the
    # notes). Reference: the larger of the first two checkpoints, so that a remainder that
    # happens to cross near zero at k = 2^{j0} does not make the reference small.
    ratio = rn[-1] / np.maximum(rn[0], rn[1])
    outs.append(Outcome.at_most(float(np.max(ratio)), 0.5, tol.Tolerance(
        0.0, "r_k → 0 read as: halves over 5 octaves (the rate is not certified)"),
        quantity=f"‖r_K‖/max(‖r_{{K/2^{J}}}‖, ‖r_{{K/2^{J - 1}}}‖) (statement, offset)",
        r_K=float(rn[-1].max())))
    ng = to_numpy(claim(result, xp, "norm_growth")(k=xp.asarray(ks.astype(float)),
                                                    gamma=s["gamma"]))
    a = ng + s["w_par"]
    norm_pred = np.sqrt(a**2 + s["w_perp"] ** 2)
    fp_x = tol.floating_point(float(np.max(np.linalg.norm(xs, axis=-1))), ops=2 ** s["j1"] * d)
    gap = np.abs(np.linalg.norm(xs, axis=-1) - norm_pred[:, None]) - rn
    outs.append(Outcome.at_most(float(np.max(gap)), 0.0, fp_x,
                                quantity="max_k |‖θ_k‖ − √((norm_growth + ûᵀw̃)² + ‖P⊥w̃‖²)| − ‖r_k‖ (norm_growth)"))
    ang_obs = np.stack([to_numpy(angle_to(xp.asarray(x), xp.asarray(th))) for x in xs])
    ang_pred = to_numpy(claim(result, xp, "angle")(k=xp.asarray(ks.astype(float)),
                                                   gamma=s["gamma"], w_par=s["w_par"],
                                                   w_perp=s["w_perp"]))
    bound = np.arcsin(np.minimum(1.0, rn / np.linalg.norm(base, axis=-1)[:, None]))
    # acos of a cosine rounded at ~d·ε: the angle errs by ≲ d·ε/sin∠
    fp_ang = tol.Tolerance(10 * d * EPS / max(float(np.sin(ang_obs.min())), math.sqrt(EPS)),
                           "rounding of acos: 10·d·ε/sin∠")
    outs.append(Outcome.at_most(float(np.max(np.abs(ang_obs - ang_pred[:, None]) - bound)), 0.0,
                                fp_ang,
                                quantity="max_k |∠(θ_k, θ̂) − angle| − asin(‖r_k‖/‖θ̂log k + w̃‖) (angle)"))
    direc = _vec(claim(result, xp, "direction")(gamma=s["gamma"], hat_theta=_col(xp, th)))
    uK = xs[-1] / np.linalg.norm(xs[-1], axis=-1, keepdims=True)
    chord = np.linalg.norm(uK - direc, axis=-1)
    outs.append(Outcome.close(0.0, float(np.max(np.abs(chord - 2 * np.sin(ang_obs[-1] / 2)))),
                              fp_ang + tol.floating_point(1.0, ops=d),
                              quantity="|‖θ_K/‖θ_K‖ − γθ̂‖ − 2 sin(∠_K/2)| (direction: a unit vector along θ̂)"))
    # --- one dimension.
    eta1, obs1, t1 = _one_dimensional(s["gamma"], xp, K=4096)
    w1 = float(to_numpy(claim(result, xp, "one_dimensional_offset")(eta=eta1, gamma=s["gamma"])))
    outs.append(Outcome.close(w1, obs1, tol.Tolerance(t1, "Σ_k of the per-step bound on s_{k+1} − s_k − c"),
                              quantity="lim θ_k − γ log k for one point z = 1/γ (one_dimensional_offset)"))
    out = Outcome.all_of(outs)
    out.details.update(K=int(ks[-1]), support=len(s["svm"].support), w_par=s["w_par"],
                       w_perp=s["w_perp"])
    return out


def _vec(a: Any) -> np.ndarray:
    return np.asarray(to_numpy(a))[..., 0]


# ============================================================ the figure
@figure("classification.max_margin")
def figure_max_margin(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Logistic GD on separable data from three starts: the angle to the hard-margin SVM
    direction against log k, with the Result's asymptotic angle atan(‖P⊥w̃‖/(log k/γ + ûᵀw̃))."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    s = _setup(p, xp, result)
    rng = np.random.default_rng(np.random.SeedSequence(int(p["seed"]), spawn_key=(7,)))
    x0 = xp.asarray(rng.standard_normal((3, p["d"])))
    K = 2 ** s["j1"]
    traj = run(s["model"], GD(s["eta"]), x0, K, record=("x",), record_every=8)
    ks = np.array(traj.steps[1:], dtype=float)
    xs = to_numpy(traj.records["x"])[1:]
    ang = np.stack([to_numpy(angle_to(xp.asarray(x), xp.asarray(s["theta_hat"]))) for x in xs])
    pred = to_numpy(claim(result, xp, "angle")(k=xp.asarray(ks), gamma=s["gamma"],
                                                w_par=s["w_par"], w_perp=s["w_perp"]))
    fig, ax = plt.subplots(figsize=(7.4, 3.4))
    for r in range(ang.shape[1]):
        ax.plot(np.log(ks), ang[:, r], lw=1, label=f"GD, init {r}")
    ok = np.log(ks) / s["gamma"] + s["w_par"] > 1.0 / s["gamma"]
    ax.plot(np.log(ks[ok]), np.asarray(pred)[ok], "k--",
            label="atan(‖P⊥w̃‖/(log k/γ + ûᵀw̃)) (Result;\nasymptotic, drawn where log k/γ + ûᵀw̃ > 1/γ)")
    ax.set_yscale("log")
    ax.set_xlabel("log k (k = GD step)")
    ax.set_ylabel("angle to the max-margin\ndirection (rad)")
    ax.set_title("Logistic GD on separable data → hard-margin SVM direction (1/log k)",
                 fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig
