"""Checks of the ``label_noise.*`` results: Hessian traces, the regularizer series, and
label-noise SGD on the quadratically overparametrized model."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import GD, run, to_numpy
from numerics.diagonal import DiagonalNet, diagonal_init, min_l1_interpolant, min_l2_interpolant
from numerics.label_noise import LabelNoiseSGD, project_to_manifold, trace_flow
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, seeds, to_xp

EPS = tol.EPS64


_asarray = to_xp  # host array -> float64 array of xp


def _fd_hessian_trace(model: Any, theta: Any, h: float, xp: Any) -> Any:
    """Σ_j (∂_j g(θ + h e_j) − ∂_j g(θ − h e_j))/(2h), the p perturbations as replicas."""
    p = theta.shape[-1]
    E = h * xp.eye(p, dtype=theta.dtype)
    gp = model.grad(theta + E)            # (p, p): row j is ∇L(θ + h e_j)
    gm = model.grad(theta - E)
    eye = xp.eye(p, dtype=theta.dtype)
    return xp.sum((gp - gm) * eye) / (2 * h)


@st.composite
def _model_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 6))
    d = draw(st.integers(n + 1, n + 6))
    return {"n": n, "d": d, "scale": draw(st.floats(0.3, 2.0)), "seed": draw(seeds)}


def _fd_tolerance(X: np.ndarray, c: float, h: float, gscale: float, p: int) -> tol.Tolerance:
    # L is a quartic polynomial: the central difference of its (cubic) gradient errs by exactly
    # (h²/6)∂⁴L/∂θ_j⁴ = (h²/6)·12cΣ_i x_ij² per coordinate of u and of v.
    trunc = tol.Tolerance(2 * 2 * h * h * c * float(np.sum(X * X)),
                          "central difference of a cubic: (h²/6)·∂⁴L = 2h²cΣ_i x_ij² per coordinate")
    return trunc + tol.floating_point(gscale / h, ops=p)


@check("label_noise.gauss_newton_trace", strategy=_model_params(), examples=10,
       example={"n": 3, "d": 6, "scale": 1.0, "seed": 0})
def check_gauss_newton_trace(p: dict[str, Any], xp: Any) -> Outcome:
    """Gaussian-input diagonal net projected onto Γ: finite-difference Tr ∇²L vs (1/n)Σ‖∇f_i‖²."""
    rng = host_rng(p)
    X_h = rng.standard_normal((p["n"], p["d"]))
    y_h = rng.standard_normal(p["n"])
    model = DiagonalNet(_asarray(xp, X_h), _asarray(xp, y_h))
    theta0 = _asarray(xp, p["scale"] * rng.standard_normal((1, 2 * p["d"])))
    theta = project_to_manifold(model, theta0)
    J = model.jacobian(theta)
    gn = float(to_numpy(xp.sum(J * J))) / p["n"]
    res = float(np.max(np.abs(to_numpy(model.residual(theta)))))
    h = 1e-4
    fd = float(to_numpy(_fd_hessian_trace(model, theta, h, xp)))
    gscale = float(np.max(np.abs(to_numpy(model.grad(theta))))) + gn
    t = _fd_tolerance(X_h, 1.0 / p["n"], h, gscale, 2 * p["d"])
    # Off Γ by `res`, the residual term (1/n)Σ r_i Δf_i vanishes anyway (Δf_i = 0 here), so the
    # projection error does not enter.
    return Outcome.close(gn, fd, t, quantity="finite-difference Tr ∇²L vs (1/n)Σ‖∇f_i‖² on Γ",
                         residual=res)


@check("label_noise.quadratic_model_trace", strategy=_model_params(), examples=10,
       example={"n": 4, "d": 6, "scale": 1.0, "seed": 1})
def check_quadratic_model_trace(p: dict[str, Any], xp: Any) -> Outcome:
    """z ∈ {±1}^d: FD trace vs 4(‖u‖² + ‖v‖²) at a generic point; the gap to 4‖w‖₁ equals
    Σ 4·per_coordinate_gap, and vanishes when the supports are made disjoint."""
    rng = host_rng(p)
    Z = rng.choice([-1.0, 1.0], (p["n"], p["d"]))
    model = DiagonalNet(_asarray(xp, Z), _asarray(xp, rng.standard_normal(p["n"])))
    uv = p["scale"] * rng.standard_normal((1, 2 * p["d"]))
    theta = _asarray(xp, uv)
    res = theory.get("label_noise.quadratic_model_trace")
    u, v = uv[0, : p["d"]], uv[0, p["d"]:]
    pred = float(to_numpy(res.numeric(xp, part="trace")(u_sq=float(u @ u), v_sq=float(v @ v))))
    h = 1e-4
    fd = float(to_numpy(_fd_hessian_trace(model, theta, h, xp)))
    gscale = float(np.max(np.abs(to_numpy(model.grad(theta))))) + pred
    t = _fd_tolerance(Z, 1.0 / p["n"], h, gscale, 2 * p["d"])
    gap_fn = res.numeric(xp, part="per_coordinate_gap")
    w1 = float(np.sum(np.abs(u * u - v * v)))
    gap_pred = 4 * float(np.sum(to_numpy(gap_fn(u_j=_asarray(xp, u), v_j=_asarray(xp, v)))))
    fp = tol.floating_point(pred, ops=2 * p["d"])
    disjoint = np.where(np.abs(u) >= np.abs(v), 0.0, 1.0)
    u2, v2 = u * (1 - disjoint), v * disjoint
    tr_disjoint = float(to_numpy(model.hessian_trace(_asarray(xp, np.concatenate([u2, v2])[None])))[0])
    return Outcome.all_of([
        Outcome.close(pred, fd, t, quantity="FD Tr ∇²L vs 4(‖u‖² + ‖v‖²)"),
        Outcome.close(gap_pred, pred - 4 * w1, fp, quantity="Tr − 4‖w‖₁ vs 4Σ 2min(u_j², v_j²)"),
        Outcome.close(4 * float(np.sum(np.abs(u2**2 - v2**2))), tr_disjoint, fp,
                      quantity="disjoint supports: Tr = 4‖w‖₁"),
    ])


@st.composite
def _regularizer_params(draw: Any) -> dict[str, Any]:
    p = draw(_model_params())
    p["eta_frac"] = draw(st.floats(0.01, 0.5))
    return p


@check("label_noise.regularizer", strategy=_regularizer_params(), examples=10,
       example={"n": 3, "d": 5, "scale": 1.0, "eta_frac": 0.2, "seed": 2})
def check_regularizer(p: dict[str, Any], xp: Any) -> Outcome:
    """Exact R = Σ_j −log(1 − ηλ_j/2)/(2η) (eigenvalues of the dense Hessian) minus the two-term
    series lies between the derived remainder bounds Σ η²λ³/48 and Σ η²λ³/(48(1 − ηλ/2))."""
    rng = host_rng(p)
    Z = rng.standard_normal((p["n"], p["d"]))  # Gaussian rows: JJᵀ invertible a.s.
    model = DiagonalNet(_asarray(xp, Z), _asarray(xp, rng.standard_normal(p["n"])))
    theta = project_to_manifold(model, _asarray(xp, p["scale"] * rng.standard_normal((1, 2 * p["d"]))))
    H = model.hessian(theta)[0, ...]
    lam = xp.linalg.eigvalsh(H)
    lam = xp.where(lam > 0, lam, xp.zeros_like(lam))  # PSD on Γ; clip rounding
    lmax = float(to_numpy(xp.max(lam)))
    eta = p["eta_frac"] * 2.0 / lmax
    res = theory.get("label_noise.regularizer")
    exact = float(to_numpy(xp.sum(res.numeric(xp, part="eigen_term")(eta=eta, lambda_j=lam))))
    tr1 = float(to_numpy(xp.sum(lam)))
    tr2 = float(to_numpy(xp.sum(lam * lam)))
    series = float(to_numpy(res.numeric(xp, part="series")(eta=eta, tr_hess=tr1, tr_hess2=tr2)))
    low = float(to_numpy(xp.sum(res.numeric(xp, part="remainder_first")(eta=eta, lambda_j=lam))))
    high = float(to_numpy(xp.sum(res.numeric(xp, part="remainder_bound")(eta=eta, lambda_j=lam))))
    # log(1 − s) for s = ηλ/2 has absolute error ~eps, divided by 2η; eigvalsh errs by
    # ~p·eps·λ_max per eigenvalue, amplified by ∂R/∂λ ≤ 1/(4(1 − s)).
    P = 2 * p["d"]
    fp = tol.floating_point(P / (2 * eta) + P * lmax / (1 - p["eta_frac"]), ops=P)
    gap = exact - series
    return Outcome.all_of([
        Outcome.at_least(gap, low, fp, quantity="R − series ≥ Σ η²λ³/48"),
        Outcome.at_most(gap, high, fp, quantity="R − series ≤ Σ η²λ³/(48(1 − ηλ/2))"),
    ])


# ---------------------------------------------------------------- quadratic model
def _sparse_problem(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = host_rng(p)
    n, d, k = p["n"], p["d"], p["k"]
    Z = rng.choice([-1.0, 1.0], (n, d))
    w_star = np.zeros(d)
    w_star[rng.choice(d, k, replace=False)] = rng.choice([-1.0, 1.0], k)
    return Z, Z @ w_star, w_star


def _flow_run(p: dict[str, Any], xp: Any) -> dict[str, Any]:
    Z, y, w_star = _sparse_problem(p)
    model = DiagonalNet(_asarray(xp, Z), _asarray(xp, y))
    start = run(model, GD(0.05), diagonal_init(p["alpha"], p["d"], xp=xp), 1500, record=()).x
    R, K, eta, delta = p["replicas"], p["steps"], p["eta"], p["delta"]
    x0 = xp.ones((R, 1), dtype=start.dtype) * start
    traj = run(model, LabelNoiseSGD(eta, delta), x0, K, record=(), rng=p["seed"])
    Y, traces = trace_flow(model, start, delta=delta, tau=eta**2 * K, steps=50)
    H = to_numpy(model.hessian(start))[0]
    return {"model": model, "traj": traj, "traces": to_numpy(traces)[:, 0], "start": start,
            "lmax": float(np.linalg.eigvalsh(H).max()), "obs": to_numpy(model.hessian_trace(traj.x)),
            "loss": to_numpy(model.loss(traj.x))}


_FLOW_EXAMPLE = {"n": 8, "d": 16, "k": 1, "alpha": 0.5, "eta": 0.004, "delta": 0.5,
                 "steps": 4000, "replicas": 200, "seed": 0}


@check("label_noise.limiting_flow", example=_FLOW_EXAMPLE)
def check_limiting_flow(p: dict[str, Any], xp: Any) -> Outcome:
    """From a point of Γ (GD's interpolant), R replicas of label-noise SGD for K steps vs the
    limiting flow integrated to τ = η²K (RK4 with projection onto Γ): mean Tr ∇²L.

    Prediction: Tr(Y_τ) + 2ηδ²n (the normal OU fluctuations, label_noise.limiting_flow).
    Tolerance: Monte Carlo z·σ̂/√R, plus the first-order-in-η correction of the drift
    (label_noise.regularizer: ∇R = ¼∇Tr(1 + O(ηλ_max))), bounded by ηλ_max·|ΔTr|.
    The loss stays near zero: mean L ≤ the OU prediction ηδ²/4·... checked as ≤ 4× it."""
    out = _flow_run(p, xp)
    if out["traj"].n_diverged:
        return Outcome.failure("label-noise SGD diverged")
    tr, obs = out["traces"], out["obs"]
    excess = float(to_numpy(theory.get("label_noise.limiting_flow").numeric(
        xp, part="quadratic_excess")(eta=p["eta"], delta=p["delta"], rank_normal=float(p["n"]))))
    pred = tr[-1] + excess
    drop = tr[0] - tr[-1]
    mc = tol.monte_carlo(float(np.std(obs, ddof=1)), p["replicas"], m=2)
    bias = tol.Tolerance(p["eta"] * out["lmax"] * drop, "O(η) drift correction: ηλ_max·|ΔTr|")
    # Near Γ, L = ½eᵀ∇²Le with E[eeᵀ] = (ηδ²/2)P_N: E L = (ηδ²/4)Tr ∇²L.
    loss_pred = p["eta"] * p["delta"] ** 2 / 4 * tr[-1]
    loss_obs = float(np.mean(out["loss"]))
    return Outcome.all_of([
        Outcome.close(pred, float(np.mean(obs)), mc + bias,
                      quantity=f"E Tr ∇²L after τ = η²K (start {tr[0]:.4g})", drop=drop),
        Outcome.at_least(drop, 0.0, tol.Tolerance(0.0, "the flow decreases the trace"),
                         quantity="Tr(Y_0) − Tr(Y_τ)"),
        Outcome.close(loss_pred, loss_obs, tol.monte_carlo(float(np.std(out["loss"], ddof=1)),
                                                             p["replicas"], m=2)
                      + tol.Tolerance(loss_pred * p["eta"] * out["lmax"], "O(ηλ_max) relative"),
                      quantity="E L near Γ vs (ηδ²/4)Tr ∇²L"),
    ])


_SPARSE_EXAMPLE = {"n": 8, "d": 16, "k": 1, "alpha": 0.5, "eta": 0.02, "delta": 1.0,
                   "steps": 8000, "polish": 3000, "replicas": 4, "seed": 0}


def _sparse_run(p: dict[str, Any], xp: Any, record_every: int = 0) -> dict[str, Any]:
    Z, y, w_star = _sparse_problem(p)
    model = DiagonalNet(_asarray(xp, Z), _asarray(xp, y))
    x0 = diagonal_init(p["alpha"], p["d"], xp=xp)
    R = p["replicas"]
    recs: dict[str, Any] = {}
    if record_every:
        ws = _asarray(xp, w_star)
        recs = {"loss": lambda m, x: m.loss(x), "trace": lambda m, x: m.hessian_trace(x),
                "dist": lambda m, x: xp.sqrt(xp.sum((m.w(x) - ws) ** 2, axis=-1))}
    every = record_every or p["steps"]
    gd = run(model, GD(p["eta"]), x0, p["steps"], record=recs, record_every=every)
    ln = run(model, LabelNoiseSGD(p["eta"], p["delta"]), xp.ones((R, 1), dtype=x0.dtype) * x0,
             p["steps"], record=recs, record_every=every, rng=p["seed"])
    polished = run(model, GD(p["eta"]), ln.x, p["polish"], record=())
    return {"Z": Z, "y": y, "w_star": w_star, "model": model, "gd": gd, "ln": ln,
            "w_ln": to_numpy(model.w(polished.x)), "w_gd": to_numpy(model.w(gd.x))[0],
            "loss_ln": to_numpy(model.loss(polished.x))}


@check("label_noise.sparse_recovery", example=_SPARSE_EXAMPLE)
def check_sparse_recovery(p: dict[str, Any], xp: Any) -> Outcome:
    """k-sparse w* from n ≪ d ±1 measurements (regime: min-ℓ1 = w*, min-ℓ2 ≠ w*). Label-noise
    SGD, then GD to land on Γ, reaches w*; GD from the same init stops far from it.

    Threshold: a tenth of ‖w_ℓ2 − w*‖ (the distance of the nearest non-sparse benchmark) —
    a qualitative claim about which interpolant is selected, not a rate."""
    out = _sparse_run(p, xp)
    w_star = out["w_star"]
    l1 = to_numpy(min_l1_interpolant(_asarray(xp, out["Z"]), _asarray(xp, out["y"])))
    l2 = to_numpy(min_l2_interpolant(_asarray(xp, out["Z"]), _asarray(xp, out["y"])))
    far = float(np.linalg.norm(l2 - w_star))
    thr = tol.Tolerance(0.1 * far, "a tenth of ‖w_ℓ2 − w*‖ (selection, not rate)")
    lp = tol.Tolerance(1e-7 * max(1.0, float(np.abs(w_star).sum())), "LP solver feasibility 1e-7")
    d_ln = float(np.max(np.linalg.norm(out["w_ln"] - w_star, axis=1)))
    d_gd = float(np.linalg.norm(out["w_gd"] - w_star))
    return Outcome.all_of([
        Outcome.close(0.0, float(np.linalg.norm(l1 - w_star)), lp, quantity="regime: ‖w_ℓ1 − w*‖"),
        Outcome.at_most(d_ln, 0.0, thr, quantity="max_r ‖w_LN − w*‖"),
        Outcome.at_least(d_gd, 0.0 + 0.5 * far, tol.Tolerance(0.0, "GD stays ≥ ½‖w_ℓ2 − w*‖ away"),
                         quantity="‖w_GD − w*‖"),
    ])


@figure("label_noise.sparse_recovery")
def figure_sparse_recovery(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out = _sparse_run(p, xp, record_every=100)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for name, traj, style in (("GD", out["gd"], "k-"), ("label-noise SGD", out["ln"], "C1-")):
        k = np.array(traj.steps)
        for ax, key in zip(axes, ("loss", "trace", "dist")):
            vals = to_numpy(traj.records[key])
            ax.plot(k, vals.mean(axis=1), style, label=name)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("training loss")
    axes[1].axhline(4 * np.abs(out["w_star"]).sum(), color="g", ls="--", label="4‖w*‖₁ (min on Γ)")
    axes[1].set_ylabel("Tr ∇²L = 4(‖u‖² + ‖v‖²)")
    axes[2].set_ylabel("‖w − w*‖")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.suptitle("Label-noise SGD vs GD on the quadratic model (sparse w*)")
    fig.tight_layout()
    return fig
