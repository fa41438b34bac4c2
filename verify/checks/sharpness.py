r"""Checks of the ``sharpness.*`` results: the measures of :mod:`numerics.sharpness` on
quadratics (and a cubic perturbation of one) against the Result handed in.

Tolerances are derived, never an estimator's own error bar:

* ε-sharpness — the ascent is power iteration on a quadratic (bound
  :math:`\tfrac12\varepsilon^2(\lambda_1-\lambda_{\min})\tan^2\theta_0(\lambda_2/\lambda_1)^{2K}`);
  a cubic term :math:`\kappa(u^Tz)^3` moves :math:`\phi_\varepsilon` by at most :math:`\kappa\varepsilon^3`;
* PAC-Bayes — on a quadratic the antithetic draw is exactly :math:`\tfrac12v^THv`, so the
  pooled mean is :math:`\frac{\sigma^2}{2N}\sum_j\lambda_j\chi^2_{N,j}`; Laurent & Massart
  (2000, Lemma 1) bound its deviation: with weights :math:`a` (``‖a‖₂``, ``‖a‖_∞``),
  :math:`P(|Z| \ge 2\|a\|_2\sqrt t + 2\|a\|_\infty t) \le 2e^{-t}`;
* Hutchinson with Rademacher probes — :math:`z^THz - \operatorname{Tr}H = \sum_{i\ne j}H_{ij}z_iz_j`
  has variance :math:`2(\|H\|_F^2 - \sum_iH_{ii}^2)` and range :math:`\sum_{i\ne j}|H_{ij}|`
  (Bernstein);
* flatness radius — the bisection resolution :math:`r_{\max}/\text{grid}/2^b` plus rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from numerics import to_numpy
from numerics.sharpness import epsilon_sharpness, flatness_radius, hessian_trace, pac_bayes_sharpness
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, log_uniform, orthogonal, seeds, to_xp

EPS = tol.EPS64


# ====================================================================== problem builders
def _quadratic(xp: Any, H: np.ndarray, center: np.ndarray, *, kappa: float = 0.0,
               u: np.ndarray | None = None) -> tuple[Any, Any]:
    """L(x) = ½zᵀHz + κ(uᵀz)³, z = x − c, and its gradient, for x of shape (R, p)."""
    Hx, cx = to_xp(xp, H), to_xp(xp, center)
    ux = to_xp(xp, np.zeros(len(center)) if u is None else u)

    def loss(x: Any) -> Any:
        z = x - cx
        return 0.5 * xp.sum(z * (z @ Hx), axis=-1) + kappa * xp.sum(z * ux, axis=-1) ** 3

    def grad(x: Any) -> Any:
        z = x - cx
        return z @ Hx + 3 * kappa * (xp.sum(z * ux, axis=-1) ** 2)[:, None] * ux[None, :]

    return loss, grad


def _spectrum_matrix(rng: np.random.Generator, p: int, ratio: float, top: float) -> tuple[np.ndarray, np.ndarray]:
    """H with λ₁ = top and the rest uniform in [0, ratio·top], in a random basis."""
    lam = np.concatenate([[top], rng.uniform(0, ratio * top, p - 1)])
    Q = orthogonal(rng, p)
    return (Q * lam) @ Q.T, lam


def _laurent_massart(weights_l2: float, weights_max: float, *, m: int, alpha: float = tol.FALSE_ALARM) -> tol.Tolerance:
    """Two-sided deviation bound of Σ a_k(χ²_1,k − 1), a_k ≥ 0, at probability α/m."""
    t = math.log(2 * m / alpha)
    return tol.Tolerance(2 * weights_l2 * math.sqrt(t) + 2 * weights_max * t,
                         f"Laurent–Massart: 2‖a‖₂√t + 2‖a‖_∞t, t = log(2m/α) = {t:.2f}, ‖a‖₂ = {weights_l2:.3g}")


def _bernstein(std: float, bound: float, N: int, *, m: int, alpha: float = tol.FALSE_ALARM) -> tol.Tolerance:
    """Bernstein: mean of N i.i.d. samples, known σ, |X − μ| ≤ b, probability α/m."""
    L = math.log(2 * m / alpha)
    eps = (bound * L / 3 + math.sqrt((bound * L / 3) ** 2 + 2 * N * std**2 * L)) / N
    return tol.Tolerance(eps, f"Bernstein: σ = {std:.3g} (derived), |X − μ| ≤ {bound:.3g}, N = {N}")


# ========================================================================== checks
@st.composite
def _eps_params(draw: Any) -> dict[str, Any]:
    top = draw(st.one_of(log_uniform(0.1, 0.6), log_uniform(1.8, 10.0)))  # λ₁ ≠ 1: λ₁ and λ₁² differ
    return {"p": draw(st.integers(2, 8)), "ratio": round(draw(st.floats(0.1, 0.8)), 4), "top": top,
            "epsilon": draw(log_uniform(0.01, 0.5)), "kappa": round(draw(st.floats(0.5, 2.0)), 4),
            "steps": 60, "seed": draw(seeds)}


@check("sharpness.epsilon", strategy=_eps_params(), examples=6,
       example={"p": 5, "ratio": 0.5, "top": 2.0, "epsilon": 0.1, "kappa": 1.0, "steps": 60, "seed": 0})
def check_epsilon(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """ε-sharpness by the ascent of numerics (power iteration on a quadratic).

    * part quadratic: on ½(x − c)ᵀH(x − c) at x = c, φ_ε lies in [ε²λ₁/2 − bound, ε²λ₁/2];
    * statement (the limit): on L = ½zᵀHz + κ(uᵀz)³, |2φ_ε/ε² − λ₁| ≤ 2κε + 2(bound + rounding)/ε²
      at ε = 10⁻³: the O(ε) correction is resolved, so λ₁ is pinned to 0.2 %·κ."""
    rng = host_rng(p)
    d, eps, K, kappa = p["p"], p["epsilon"], p["steps"], p["kappa"]
    H, lam = _spectrum_matrix(rng, d, p["ratio"], p["top"])
    c = rng.standard_normal(d)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    v0 = rng.standard_normal((2, d))
    x = to_xp(xp, np.tile(c, (2, 1)))
    w, U = np.linalg.eigh(H)
    coef = v0 @ U
    tan2 = float(np.max(np.sum(coef[:, :-1] ** 2, 1) / coef[:, -1] ** 2))
    lam_s = np.sort(lam)[::-1]

    def power(e: float) -> tol.Tolerance:
        return tol.Tolerance(0.5 * e**2 * (lam_s[0] - lam_s[-1]) * tan2 * (lam_s[1] / lam_s[0]) ** (2 * K),
                             f"power iteration: ½ε²(λ₁ − λ_min)tan²θ₀(λ₂/λ₁)^(2K), K = {K}")

    def rounding(e: float) -> tol.Tolerance:
        return tol.floating_point(lam[0] * (e + float(np.linalg.norm(c))) ** 2, ops=4 * d)

    loss, grad = _quadratic(xp, H, c)
    phi = to_numpy(epsilon_sharpness(loss, grad, x, epsilon=eps, steps=K, v0=to_xp(xp, v0)).value)
    pred = float(to_numpy(result.numeric(xp, part="quadratic")(epsilon=eps, lambda_1=lam[0])))
    outs = [Outcome.at_least(float(phi.min()), pred, power(eps) + rounding(eps),
                             quantity="quadratic: φ_ε (ascent) ≥ ε²λ₁/2 − bound"),
            Outcome.at_most(float(phi.max()), pred, rounding(eps), quantity="quadratic: φ_ε (ascent) ≤ ε²λ₁/2")]
    e_lim = 1e-3
    loss3, grad3 = _quadratic(xp, H, c, kappa=kappa, u=u)
    phi3 = to_numpy(epsilon_sharpness(loss3, grad3, x, epsilon=e_lim, steps=K, v0=to_xp(xp, v0)).value)
    ratio = 2 * phi3 / e_lim**2
    lim = float(to_numpy(result.numeric(xp)(lambda_1=lam[0])))
    slack = tol.Tolerance(2 * kappa * e_lim, f"cubic term: |φ_ε − ε²λ₁/2| ≤ κε³, ε = {e_lim:g}")
    t = slack + tol.Tolerance(2 * (float(power(e_lim)) + float(rounding(e_lim)) + kappa * e_lim**3) / e_lim**2,
                              "2(power-iteration bound + rounding + κε³ of the direction)/ε²")
    j = int(np.argmax(np.abs(ratio - lim)))
    outs.append(Outcome.close(lim, float(ratio[j]), t, quantity="statement: 2φ_ε/ε² → λ₁ (cubic loss)",
                              epsilon=e_lim))
    return Outcome.all_of(outs)


@st.composite
def _pac_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(20, 40)), "sigma": draw(log_uniform(0.05, 0.5)), "samples": 400, "R": 8,
            "matvecs": 100, "seed": draw(seeds)}


@check("sharpness.pac_bayes", strategy=_pac_params(), examples=5,
       example={"p": 30, "sigma": 0.1, "samples": 400, "R": 8, "matvecs": 100, "seed": 0})
def check_pac_bayes(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Sampled E L(x + v) − L(x), v ~ N(0, σ²I), on a PSD quadratic at R points that are not
    its minimum, pooled over the R·N antithetic draws (each exactly ½vᵀHv), against the
    statement and the part value at Tr H (Laurent–Massart tolerance: 3 % of the value at
    p = 30, so a constant off by 10 % fails), and against the statement at Hutchinson's trace
    estimate (its derived variance 2(‖H‖_F² − ΣH_ii²) per probe, Bernstein)."""
    rng = host_rng(p)
    d, sig, N, R = p["p"], p["sigma"], p["samples"], p["R"]
    H, lam = _spectrum_matrix(rng, d, 1.0, 1.0)
    c = rng.standard_normal(d)
    x = rng.standard_normal((R, d))
    loss, _ = _quadratic(xp, H, c)
    est = pac_bayes_sharpness(loss, to_xp(xp, x), sigma=sig, samples=N, rng=int(p["seed"]) % 2**31)
    pooled = float(np.mean(to_numpy(est.value)))
    tr = float(np.trace(H))
    lm = _laurent_massart(sig**2 * float(np.linalg.norm(lam)) / (2 * math.sqrt(N * R)),
                          sig**2 * float(lam.max()) / (2 * N * R), m=3)
    fp = tol.floating_point(float(np.max(to_numpy(loss(to_xp(xp, x))))) + sig**2 * tr, ops=4 * d)
    outs = [Outcome.close(float(to_numpy(result.numeric(xp)(sigma=sig, tr_H=tr))), pooled, lm + fp,
                          quantity="statement (σ²/2)Tr H vs sampled PAC-Bayes sharpness", draws=N * R),
            Outcome.close(float(to_numpy(result.numeric(xp, part="value")(sigma=sig, tr_H=tr))), pooled, lm + fp,
                          quantity="part value vs sampled PAC-Bayes sharpness", draws=N * R)]
    Hx = to_xp(xp, H)
    m = p["matvecs"]
    te = hessian_trace(lambda v: v @ Hx, (R, d), rng=int(p["seed"]) % 2**31 + 1, matvecs=m, method="hutchinson", xp=xp)
    t_hat = float(np.mean(to_numpy(te.value)))
    off = H - np.diag(np.diag(H))
    hut = _bernstein(math.sqrt(2 * (np.sum(H * H) - np.sum(np.diag(H) ** 2))), float(np.sum(np.abs(off))), m * R, m=3)
    t_h = tol.Tolerance(0.5 * sig**2 * float(hut), "(σ²/2)·Hutchinson " + hut.reason)
    outs.append(Outcome.close(float(to_numpy(result.numeric(xp)(sigma=sig, tr_H=t_hat))), pooled, lm + t_h + fp,
                              quantity="statement at Hutchinson's Tr H vs sampled PAC-Bayes sharpness",
                              trace=tr, hutchinson=t_hat))
    return Outcome.all_of(outs)


@st.composite
def _flat_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 10)), "epsilon": draw(log_uniform(1e-3, 0.5)), "directions": 5,
            "seed": draw(seeds)}


@check("sharpness.flatness_radius", strategy=_flat_params(), examples=6,
       example={"p": 5, "epsilon": 0.05, "directions": 5, "seed": 0})
def check_flatness(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Flatness radius by scan + bisection (memo eq. 11) along random unit δ on a quadratic at
    its minimum, against the statement and the part radius √(2ε/δᵀHδ): tolerance = bisection
    resolution r_max/grid/2^b plus rounding of the crossing (relative ~ eps·L/ε)."""
    rng = host_rng(p)
    d = p["p"]
    H, lam = _spectrum_matrix(rng, d, 1.0, 1.0)
    H += 0.05 * np.eye(d)  # positive definite: every direction has a finite radius
    c = rng.standard_normal(d)
    loss, _ = _quadratic(xp, H, c)
    eps = p["epsilon"]
    r_max = 2 * math.sqrt(2 * eps / 0.05)
    grid, bis = 64, 50
    est = flatness_radius(loss, to_xp(xp, np.tile(c, (2, 1))), epsilon=eps, directions=p["directions"],
                          rng=int(p["seed"]) % 2**31, r_max=r_max, grid=grid, bisections=bis)
    dirs = to_numpy(est.directions)
    q = np.einsum("rtp,pq,rtq->rt", dirs, H, dirs)
    got = to_numpy(est.radii)
    outs = []
    for part in (None, "radius"):
        pred = to_numpy(result.numeric(xp, part=part)(epsilon=eps, q=to_xp(xp, q)))
        j = np.unravel_index(int(np.argmax(np.abs(got - pred))), got.shape)
        t = tol.Tolerance(r_max / grid / 2**bis, "bisection resolution") + tol.floating_point(
            float(pred[j]), ops=4 * d, cond=max(1.0, float(np.dot(c, H @ c)) / eps))
        outs.append(Outcome.close(float(pred[j]), float(got[j]), t,
                                  quantity=f"flatness radius along δ (worst), {part or 'statement'}",
                                  capped=int(to_numpy(est.capped).sum())))
    return Outcome.all_of(outs)


# ====================================================================== figures
@figure("sharpness.epsilon")
def figure_epsilon(p: dict[str, Any], xp: Any, result: Any) -> Any:
    r"""2φ_ε/ε² by the ascent of :func:`numerics.sharpness.epsilon_sharpness` against ε, on the
    check's quadratic and on its cubic perturbation :math:`+\kappa(u^Tz)^3`, with the
    Result's limit λ₁ (statement) and the derived band :math:`\lambda_1 \pm 2\kappa\varepsilon`
    (:math:`|\phi_\varepsilon - \varepsilon^2\lambda_1/2| \le \kappa\varepsilon^3`)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    rng = host_rng(p)
    d, K, kappa = p["p"], p["steps"], p["kappa"]
    H, lam = _spectrum_matrix(rng, d, p["ratio"], p["top"])
    c = rng.standard_normal(d)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    v0 = to_xp(xp, rng.standard_normal((1, d)))
    x = to_xp(xp, c[None, :])
    lim = float(to_numpy(result.numeric(xp)(lambda_1=lam[0])))
    quad = result.numeric(xp, part="quadratic")
    eps = np.geomspace(1e-3, 1.0, 16)
    curves = {}
    for name, k in (("quadratic ½zᵀHz", 0.0), (f"cubic ½zᵀHz + κ(uᵀz)³, κ = {kappa:g}", kappa)):
        loss, grad = _quadratic(xp, H, c, kappa=k, u=u)
        curves[name] = [2 * float(to_numpy(epsilon_sharpness(loss, grad, x, epsilon=float(e), steps=K,
                                                                v0=v0).value)[0]) / e**2 for e in eps]
    fine = np.geomspace(eps[0], eps[-1], 200)
    q = 2 * np.asarray(to_numpy(quad(epsilon=to_xp(xp, fine), lambda_1=lam[0]))) / fine**2
    fig, ax = plt.subplots(figsize=(7.8, 3.6))
    ax.fill_between(fine, lim - 2 * kappa * fine, lim + 2 * kappa * fine, color="0.88",
                    label="λ₁ ± 2κε (cubic term's derived bound)")
    ax.plot(fine, np.broadcast_to(q, fine.shape), "k-", lw=1.2,
            label="part quadratic: 2(ε²λ₁/2)/ε² (Result)")
    ax.axhline(lim, color="tab:red", ls="--", lw=1, label=f"limit λ₁ = {lim:.3g} (statement)")
    for (name, vals), mk in zip(curves.items(), ("o", "s")):
        ax.plot(eps, vals, mk, ms=4, mfc="none" if mk == "s" else None,
                label=f"ascent on the {name}")
    ax.set_xscale("log")
    vals = np.concatenate([np.asarray(v) for v in curves.values()])
    span = max(float(np.max(np.abs(vals - lim))), 0.05 * lim)
    ax.set_ylim(lim - 1.15 * span, lim + 1.15 * span)  # every point in view, the band clipped
    ax.set_xlabel("radius ε (units of x)")
    ax.set_ylabel("2φ_ε/ε²\n(units of curvature, as λ₁)")
    ax.set_title(f"ε-sharpness → λ₁ as ε → 0 (p = {d}, {K} ascent steps)", fontsize=MIN_FONT + 2)
    legend_outside(ax, where="right")
    fig.tight_layout()
    return fig


#: The digits experiment of the density figure: one MLP, one step size, GD (full batch)
#: and SGD (batch 4) from the same initializations (2 seeds), 1000 steps each.
_DIGITS = {"n_train": 128, "n_test": 300, "width": 32, "init_scale": 0.5, "eta": 0.2, "batch": 4,
           "steps": 1000, "seeds": 2, "probes": 6, "lanczos": 60, "sigma_pb": 0.01, "samples": 100}


def _digits_minima(xp: Any, seed: int) -> dict[str, Any]:
    """GD and SGD minima of the digits MLP, their SLQ densities (R = 2·seeds replicas in one
    call), top eigenvalues and sampled PAC-Bayes sharpness."""
    from numerics import GD, SGD, run  # noqa: PLC0415
    from numerics.data import load_digits  # noqa: PLC0415
    from numerics.density import spectral_density  # noqa: PLC0415
    from numerics.mlp import MLP  # noqa: PLC0415
    from numerics.sharpness import top_eigenvalue  # noqa: PLC0415

    c = _DIGITS
    data = load_digits(c["n_train"], c["n_test"], seed=seed, xp=xp)
    model = MLP(data.X_train, data.targets(), widths=(c["width"],))
    th0 = model.init(c["seeds"], scale=c["init_scale"], rng=seed + 1)
    gd = run(model, GD(c["eta"]), th0, c["steps"], record=()).x
    sgd = run(model, SGD(c["eta"], batch=c["batch"]), th0, c["steps"], record=(), rng=seed + 2).x
    th = xp.concat([gd, sgd], axis=0)
    hvp = lambda v: model.hvp(th, v)  # noqa: E731
    dens = spectral_density(hvp, tuple(th.shape), rng=seed + 3, probes=c["probes"], steps=c["lanczos"], xp=xp)
    top = top_eigenvalue(hvp, to_xp(xp, np.random.default_rng(seed + 4).standard_normal(tuple(th.shape))),
                         rtol=1e-6, maxiter=150)
    pb = pac_bayes_sharpness(model.loss, th, sigma=c["sigma_pb"], samples=c["samples"], rng=seed + 5)
    return {"density": dens, "top": top, "pac_bayes": pb, "loss": to_numpy(model.loss(th)),
            "test": to_numpy(model.accuracy(th, data.X_test, data.labels_test))}


@figure("sharpness.pac_bayes")
def figure_pac_bayes_density(p: dict[str, Any], xp: Any, result: Any) -> Any:
    r"""The Hessian eigenvalue density of the digits MLP at GD and at SGD minima (same step
    size and initializations) by stochastic Lanczos quadrature
    (:func:`numerics.density.spectral_density`), and the PAC-Bayes sharpness sampled at each
    minimum (with its 95 % Student-t interval) against the Result's
    :math:`(\sigma^2/2)\operatorname{Tr}H` at the SLQ trace — the flat-vs-sharp picture of
    seeds 000/001: SGD's minima have a smaller top eigenvalue, a lighter tail and a smaller
    trace."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside, t_interval  # noqa: PLC0415

    c = _DIGITS
    r = _digits_minima(xp, int(p.get("seed", 0)) % 2**31)
    d, S = r["density"], c["seeds"]
    top = to_numpy(r["top"].value)
    nodes = to_numpy(d.nodes)
    hi = 1.1 * float(max(top.max(), nodes.max()))
    lo = min(float(nodes.min()), 0.0) - 0.05 * hi
    kernel = hi / c["lanczos"]  # the quadrature resolves ~ spread/k
    grid = np.linspace(lo, hi, 600)
    phi = to_numpy(d.density(to_xp(xp, grid), sigma=kernel))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.6), gridspec_kw={"width_ratios": [1.7, 1.0]})
    colors = {"GD": "tab:red", "SGD": "tab:blue"}
    for i in range(2 * S):
        name = "GD" if i < S else f"SGD (B = {c['batch']}) end point"
        col = colors["GD" if i < S else "SGD"]
        ls = "-" if i % S == 0 else "--"
        ax1.semilogy(grid, np.maximum(phi[i], 1e-6), color=col, ls=ls, lw=1.2,
                     label=f"{name}, seed {i % S}: λ_max = {top[i]:.2f}")
        ax1.axvline(top[i], color=col, ls=ls, lw=0.8, alpha=0.6)
    ax1.axvline(2 / c["eta"], color="k", ls=":", lw=1.0, label=f"2/η = {2 / c['eta']:g} (GD stability limit)")
    ax1.set_xlim(lo, max(hi, 1.05 * 2 / c["eta"]))
    ax1.set_ylim(3e-5, None)  # the 1e-6 floor of the curves stays below the axis
    ax1.set_xlabel("Hessian eigenvalue λ (units of curvature)")
    ax1.set_ylabel("spectral density\n(per unit λ, Gaussian-smoothed)")
    ax1.tick_params(labelsize=MIN_FONT + 1)
    ax1.set_title(f"SLQ density, {c['probes']} probes × {c['lanczos']} Lanczos steps, "
                  f"kernel σ = {kernel:.2g}", fontsize=MIN_FONT + 1)
    legend_outside(ax1, where="below", ncol=2)
    tr = to_numpy(d.trace())
    # Each probe's rule integrates λ exactly: p·Σ_j τ_lj θ_lj = z_lᵀHz_l, Hutchinson's value
    # for probe l; their spread gives the trace its 95 % t-interval (probes − 1 d.o.f.).
    per_probe = d.dim * d.probes * np.sum((to_numpy(d.weights) * nodes).reshape(2 * S, d.probes, -1), -1)
    tr_half = t_interval(np.std(per_probe, axis=-1, ddof=1), d.probes)
    sig = c["sigma_pb"]
    pred = np.asarray(to_numpy(result.numeric(xp)(sigma=sig, tr_H=to_xp(xp, tr))), dtype=float)
    pred_half = np.abs(np.asarray(to_numpy(result.numeric(xp)(sigma=sig, tr_H=to_xp(xp, tr + tr_half))),
                                  dtype=float) - pred)
    pb = r["pac_bayes"]
    val, low, high = to_numpy(pb.value), to_numpy(pb.low), to_numpy(pb.high)
    x = np.arange(2 * S)
    rel = float(np.max((high - low) / (2 * np.abs(val))))
    ax2.errorbar(x, val, yerr=[val - low, high - val], fmt="o", color="k", capsize=3,
                 label=f"sampled, {c['samples']} antithetic draws\n(95 % t-interval, ≤ ±{100 * rel:.1f} %)")
    ax2.errorbar(x + 0.15, pred, yerr=pred_half, fmt="D", mfc="none", color="tab:green", ms=7,
                 capsize=3, label=f"Result (σ²/2)·Tr H at the SLQ trace\n(95 % t-interval over its {d.probes} probes)")
    ax2.set_xticks(x + 0.075, [("GD" if i < S else "SGD") + f" {i % S}" for i in x])
    ax2.set_xlim(-0.6, 2 * S - 0.4)
    top_y = float(max(high.max(), (pred + pred_half).max()))
    ax2.set_ylim(0, 1.25 * top_y)
    ax2.set_xlabel("minimum (method, seed)")
    ax2.set_ylabel(f"E L(x+v) − L(x), σ = {sig:g}\n(units of loss)")
    ax2.set_title("PAC-Bayes sharpness at each minimum", fontsize=MIN_FONT + 1)
    legend_outside(ax2, where="below")
    fig.suptitle(f"Digits MLP 64-{c['width']}-10 (n = {c['n_train']}), η = {c['eta']:g}, "
                 f"{c['steps']} steps: GD vs SGD minima", fontsize=MIN_FONT + 2)
    fig.tight_layout()
    return fig
