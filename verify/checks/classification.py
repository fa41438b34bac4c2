"""Checks of ``classification.max_margin``: logistic GD on separable data (Soudry et al.).

The data come with a max-margin solution known by construction
(:func:`numerics.classification.separable_data`); SciPy's SLSQP solver must find it, and GD's
iterates must follow :math:`\\theta_k = \\hat\\theta\\log k + \\tilde w + r_k`: the component along
:math:`\\hat u = \\hat\\theta/\\|\\hat\\theta\\|` grows with slope :math:`1/\\gamma` in
:math:`\\log k` from the offset :math:`\\hat u^T\\tilde w`, and the tangent of the angle to
:math:`\\hat\\theta` decays like :math:`1/(\\log k/\\gamma + \\hat u^T\\tilde w)` (exponent -1).
Slopes and intercepts are least-squares fits over geometric checkpoints
:math:`k = 2^{j}` with Student-t intervals at the false-alarm level of the check.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import theory
from numerics import GD, run, to_numpy
from numerics.classification import (
    LogisticRegression,
    angle_to,
    max_margin,
    separable_data,
)
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import seeds

EPS = tol.EPS64


@st.composite
def _max_margin_params(draw: Any) -> dict[str, Any]:
    return {
        "d": draw(st.integers(2, 4)),
        "n_extra": draw(st.integers(0, 14)),
        "margin": round(draw(st.floats(0.3, 1.0)), 4),
        "m2": round(draw(st.floats(2.0, 3.0)), 4),
        "spread": round(draw(st.floats(1.0, 3.0)), 4),
        "eta_frac": round(draw(st.floats(0.4, 0.9)), 4),
        "seed": draw(seeds),
    }


def line_fit(x: np.ndarray, y: np.ndarray, *, alpha: float, m: int
             ) -> tuple[np.ndarray, np.ndarray]:
    r"""Ordinary least squares ``y ≈ c0 + c1·x`` with Student-t half-widths
    :math:`t_{1-\alpha/(2m),\,J-2}\cdot\mathrm{SE}` (Bonferroni over ``m`` intervals).

    Returns ``(coefficients (2,), half_widths (2,))``."""
    from scipy.stats import t as student  # noqa: PLC0415

    X = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    res = y - X @ coef
    dof = len(x) - 2
    if dof < 1:
        raise ValueError(f"a line fit with an interval needs at least 3 points; got {len(x)}")
    cov = (res @ res / dof) * np.linalg.inv(X.T @ X)
    q = float(student.ppf(1 - alpha / (2 * m), dof))
    return coef, q * np.sqrt(np.diag(cov))


def _offset(Z: np.ndarray, support: tuple[int, ...], alpha: np.ndarray, eta: float) -> np.ndarray:
    """w̃ from η e^{−z_sᵀw̃} = α_s on the support vectors (Soudry et al., Thm 3)."""
    S = list(support)
    return np.linalg.lstsq(Z[S], np.log(eta / alpha[S]), rcond=None)[0]


def _setup(p: dict[str, Any], xp: Any) -> dict[str, Any]:
    D = separable_data(p["d"], p["n_extra"], margin=p["margin"], m2=p["m2"],
                       spread=p["spread"], rng=p["seed"])  # host NumPy
    X_h, y_h = np.asarray(D.X), np.asarray(D.y)
    Z = y_h[:, None] * X_h
    model = LogisticRegression(xp.asarray(X_h), xp.asarray(y_h))
    eta = p["eta_frac"] * model.step_limit()
    svm = max_margin(X_h, y_h)  # SLSQP + KKT polish: independent of the construction
    theta_hat = np.asarray(svm.theta)
    u = theta_hat / np.linalg.norm(theta_hat)
    w = _offset(Z, svm.support, np.asarray(svm.alpha), eta)
    w_par = float(u @ w)
    w_perp = float(np.linalg.norm(w - w_par * u))
    gamma = svm.margin
    # Checkpoints start where the predicted component along û, log k/γ + ûᵀw̃, is at least
    # 2/γ (the asymptotic regime), and span 6 octaves.
    j0 = max(7, math.ceil((2.0 - gamma * w_par) / math.log(2.0)))
    return dict(D=D, X=X_h, y=y_h, Z=Z, model=model, eta=eta, svm=svm, theta_hat=theta_hat,
                u=u, w=w, w_par=w_par, w_perp=w_perp, gamma=gamma, j0=j0, j1=j0 + 6)


def _run(s: dict[str, Any], p: dict[str, Any], xp: Any, R: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence(int(p["seed"]), spawn_key=(7,)))
    x0 = xp.asarray(rng.standard_normal((R, p["d"])))
    traj = run(s["model"], GD(s["eta"]), x0, 2 ** s["j1"], record=("x",),
               record_every=2 ** s["j0"])
    if traj.n_diverged:
        raise RuntimeError(f"GD diverged at eta = {s['eta']:.3g} below 8/λ_max(ZᵀZ)")
    ks = np.array(traj.steps)
    keep = np.isin(ks, 2 ** np.arange(s["j0"], s["j1"] + 1))
    return ks[keep], to_numpy(traj.records["x"])[keep]


@check("classification.max_margin", strategy=_max_margin_params(), examples=6,
       example={"d": 3, "n_extra": 10, "margin": 0.5, "m2": 2.0, "spread": 1.5,
                "eta_frac": 0.8, "seed": 0})
def check_max_margin(p: dict[str, Any], xp: Any) -> Outcome:
    """(i) SLSQP's SVM = the constructed θ̂; (ii) ûᵀθ_k = log k/γ + ûᵀw̃: fitted slope and
    intercept contain the predictions; (iii) log tan∠(θ_k, θ̂) against
    log(log k/γ + ûᵀw̃) has slope −1 (the angle decays like 1/log k); (iv) the normalized
    margin of θ_K never exceeds γ."""
    s = _setup(p, xp)
    assume(s["j1"] <= 15)                 # keep an example under ~1 s
    assume(s["w_perp"] * s["gamma"] >= 0.01)  # else the angle is o(1/log k): see notes
    svm, D = s["svm"], s["D"]
    theta_c = np.asarray(D.theta_hat)
    # (i) The solver's KKT point vs the construction; both are exact to rounding: the
    # polish solves the d × d system Z_S Z_Sᵀα = 1, error ~ κ(Z_S Z_Sᵀ)·eps·‖θ̂‖.
    Zs = s["Z"][list(D.support)]
    kappa = float(np.linalg.cond(Zs @ Zs.T))
    outs = [Outcome.close(0.0, float(np.linalg.norm(s["theta_hat"] - theta_c)),
                          tol.floating_point(float(np.linalg.norm(theta_c)), ops=p["d"] ** 2,
                                             cond=kappa),
                          quantity="‖θ̂(SLSQP) − θ̂(construction)‖")]
    ks, xs = _run(s, p, xp)
    res = theory.get("classification.max_margin")
    angle_pred = res.numeric(np, part="angle")
    m = 3  # intervals per replica; Bonferroni over replicas too
    R = xs.shape[1]
    alpha = tol.FALSE_ALARM
    why = f"Student-t interval of a line fit over k = 2^{s['j0']}..2^{s['j1']} (false alarm {alpha:g}/{m * R})"
    logk = np.log(ks)
    for r in range(R):
        th = xs[:, r]
        par = th @ s["u"]
        perp = np.linalg.norm(th - par[:, None] * s["u"], axis=1)
        c, h = line_fit(logk, par, alpha=alpha, m=m * R)
        outs.append(Outcome.close(1.0 / s["gamma"], c[1], tol.Tolerance(h[1], why),
                                  quantity="slope of ûᵀθ_k in log k (1/γ)"))
        outs.append(Outcome.close(s["w_par"], c[0], tol.Tolerance(h[0], why),
                                  quantity="intercept of ûᵀθ_k (ûᵀw̃)"))
        xfit = np.log(logk / s["gamma"] + s["w_par"])
        c2, h2 = line_fit(xfit, np.log(perp / par), alpha=alpha, m=m * R)
        outs.append(Outcome.close(-1.0, c2[1], tol.Tolerance(h2[1], why),
                                  quantity="exponent of tan∠(θ_k, θ̂) in (log k/γ + ûᵀw̃)"))
    # (iv) margin: min_i z_iᵀθ/‖θ‖ ≤ γ for every θ (definition of the max margin).
    thK = xs[-1]
    nm = np.min(thK @ s["Z"].T, axis=1) / np.linalg.norm(thK, axis=1)
    outs.append(Outcome.at_most(float(np.max(nm)), s["gamma"], tol.floating_point(
        s["gamma"], ops=p["d"]), quantity="normalized margin of θ_K ≤ γ"))
    ang = to_numpy(angle_to(xp.asarray(thK), xp.asarray(s["theta_hat"])))
    pred = float(angle_pred(k=float(ks[-1]), gamma=s["gamma"], w_par=s["w_par"],
                            w_perp=s["w_perp"]))
    out = Outcome.all_of(outs)
    out.details.update(angle_K=float(np.max(ang)), angle_pred=pred, K=int(ks[-1]),
                       support=len(svm.support))
    return out


@figure("classification.max_margin")
def figure_max_margin(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    s = _setup(p, xp)
    rng = np.random.default_rng(np.random.SeedSequence(int(p["seed"]), spawn_key=(7,)))
    x0 = xp.asarray(rng.standard_normal((3, p["d"])))
    K = 2 ** s["j1"]
    traj = run(s["model"], GD(s["eta"]), x0, K, record=("x",), record_every=8)
    ks = np.array(traj.steps[1:], dtype=float)
    xs = to_numpy(traj.records["x"])[1:]
    ang = np.stack([to_numpy(angle_to(xp.asarray(x), xp.asarray(s["theta_hat"]))) for x in xs])
    pred = theory.get("classification.max_margin").numeric(np, part="angle")(
        k=ks, gamma=s["gamma"], w_par=s["w_par"], w_perp=s["w_perp"])
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for r in range(ang.shape[1]):
        ax.plot(np.log(ks), ang[:, r], lw=1, label=f"GD, init {r}")
    ok = np.log(ks) / s["gamma"] + s["w_par"] > 1.0 / s["gamma"]
    ax.plot(np.log(ks[ok]), np.asarray(pred)[ok], "k--",
            label="atan(‖P⊥w̃‖/(log k/γ + ûᵀw̃))")
    ax.set_yscale("log")
    ax.set_xlabel("log k")
    ax.set_ylabel("angle to the max-margin direction (rad)")
    ax.set_title("Logistic GD on separable data → hard-margin SVM")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
