"""Checks of the ``sharpness.*`` results: the measures of :mod:`numerics.sharpness` on
quadratics against the derived closed forms (and against Lanczos / dense eigensolvers)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import to_numpy
from numerics.sharpness import epsilon_sharpness, flatness_radius, hessian_trace, pac_bayes_sharpness, top_eigenvalue
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check
from verify.strategies import host_rng, orthogonal, seeds, to_xp

EPS = tol.EPS64


_asarray = to_xp  # host array -> float64 array of xp


def _quadratic(xp: Any, H: np.ndarray, center: np.ndarray) -> tuple[Any, Any]:
    """L(x) = ½(x − c)ᵀH(x − c) and its gradient, for x of shape (R, p)."""
    Hx, cx = _asarray(xp, H), _asarray(xp, center)

    def loss(x: Any) -> Any:
        z = x - cx
        return 0.5 * xp.sum(z * (z @ Hx), axis=-1)

    def grad(x: Any) -> Any:
        return (x - cx) @ Hx

    return loss, grad


def _spectrum_matrix(rng: np.random.Generator, p: int, ratio: float, top: float) -> tuple[np.ndarray, np.ndarray]:
    """H with λ₁ = top and the rest uniform in [0, ratio·top]."""
    lam = np.concatenate([[top], rng.uniform(0, ratio * top, p - 1)])
    Q = orthogonal(rng, p)
    return (Q * lam) @ Q.T, lam


@st.composite
def _eps_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 8)), "ratio": round(draw(st.floats(0.1, 0.8)), 4),
            "top": round(draw(st.floats(0.1, 10.0)), 4), "epsilon": round(draw(st.floats(1e-3, 1.0)), 6),
            "steps": 60, "seed": draw(seeds)}


@check("sharpness.epsilon", strategy=_eps_params(), examples=6,
       example={"p": 5, "ratio": 0.5, "top": 2.0, "epsilon": 0.1, "steps": 60, "seed": 0})
def check_epsilon(p: dict[str, Any], xp: Any) -> Outcome:
    """ε-sharpness of ½(x − c)ᵀH(x − c) at x = c by the ascent of numerics (power iteration on
    a quadratic) against ε²λ₁/2: from below within the power-iteration bound
    ½ε²(λ₁ − λ_min)tan²θ₀(λ₂/λ₁)^{2K} plus rounding, never above. Also Lanczos' λ₁."""
    rng = host_rng(p)
    d = p["p"]
    H, lam = _spectrum_matrix(rng, d, p["ratio"], p["top"])
    c = rng.standard_normal((2, d))
    v0 = rng.standard_normal((2, d))
    loss, grad = _quadratic(xp, H, c[0])
    x = _asarray(xp, np.tile(c[0], (2, 1)))
    eps, K = p["epsilon"], p["steps"]
    phi = to_numpy(epsilon_sharpness(loss, grad, x, epsilon=eps, steps=K, v0=_asarray(xp, v0)))
    pred = float(theory.get("sharpness.epsilon").numeric(xp, part="quadratic")(epsilon=eps, lambda_1=lam[0]))
    w, U = np.linalg.eigh(H)
    coef = v0 @ U
    tan2 = np.max(np.sum(coef[:, :-1] ** 2, 1) / coef[:, -1] ** 2)
    lam_sorted = np.sort(lam)[::-1]
    power = tol.Tolerance(0.5 * eps**2 * (lam_sorted[0] - lam_sorted[-1]) * tan2 * (lam_sorted[1] / lam_sorted[0]) ** (2 * K),
                          f"power iteration: ½ε²(λ₁ − λ_min)tan²θ₀(λ₂/λ₁)^(2K), K = {K}")
    # L(c + δ) is evaluated as ½δᵀHδ with δ ~ ε: rounding ~ p·eps·λ₁ε² relative to |c|²-size terms.
    fp = tol.floating_point(lam[0] * (eps + float(np.linalg.norm(c[0]))) ** 2, ops=4 * d)
    outs = [Outcome.at_least(float(phi.min()), pred, power + fp, quantity="φ_ε (ascent) ≥ ε²λ₁/2 − bound"),
            Outcome.at_most(float(phi.max()), pred, fp, quantity="φ_ε (ascent) ≤ ε²λ₁/2")]
    est = top_eigenvalue(lambda v: v @ _asarray(xp, H), _asarray(xp, v0), rtol=1e-10)
    vals = to_numpy(est.value)
    outs.append(Outcome.close(lam[0], float(vals[int(np.argmax(np.abs(vals - lam[0])))]),
                              tol.Tolerance(1e-10 * lam[0] + 100 * d * EPS * lam[0], "Lanczos stopping rule rtol = 1e-10"),
                              quantity="Lanczos λ₁", matvecs=est.matvecs))
    return Outcome.all_of(outs)


@st.composite
def _pac_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 10)), "sigma": round(draw(st.floats(0.01, 1.0)), 6),
            "samples": 400, "seed": draw(seeds)}


@check("sharpness.pac_bayes", strategy=_pac_params(), examples=6,
       example={"p": 6, "sigma": 0.1, "samples": 400, "seed": 0})
def check_pac_bayes(p: dict[str, Any], xp: Any) -> Outcome:
    """Sampled E L(x + v) − L(x) on a quadratic (x not at the minimum) against (σ²/2) Tr H, with
    the exact standard deviation σ²‖H‖_F/√2 of an antithetic draw; Hutch++ and Hutchinson traces
    within z times their reported standard errors (and Hutch++ exact for rank ≤ matvecs/3)."""
    rng = host_rng(p)
    d = p["p"]
    H, lam = _spectrum_matrix(rng, d, 1.0, 1.0)
    c = rng.standard_normal(d)
    x = rng.standard_normal((3, d))
    loss, _ = _quadratic(xp, H, c)
    sig, N = p["sigma"], p["samples"]
    est = pac_bayes_sharpness(loss, _asarray(xp, x), sigma=sig, samples=N, rng=int(p["seed"]) % 2**31)
    pred = float(theory.get("sharpness.pac_bayes").numeric(xp)(sigma=sig, tr_H=float(np.trace(H))))
    sd = sig**2 * math.sqrt(0.5 * np.sum(H * H))
    val = to_numpy(est.value)
    fp = tol.floating_point(float(np.max(to_numpy(loss(_asarray(xp, x))))) + sig**2 * np.trace(H), ops=4 * d)
    worst = int(np.argmax(np.abs(val - pred)))
    outs = [Outcome.close(pred, val[worst], tol.monte_carlo(sd, N, m=5) + fp,
                          quantity="PAC-Bayes sharpness vs (σ²/2)Tr H (worst of 3 points)")]
    Hx = _asarray(xp, H)
    tr = float(np.trace(H))
    for method in ("hutchinson", "hutch++"):
        te = hessian_trace(lambda v: v @ Hx, (3, d), rng=int(p["seed"]) % 2**31 + 1, matvecs=30,
                           method=method, xp=xp)
        v, se = to_numpy(te.value), to_numpy(te.stderr) if te.stderr is not None else np.zeros(3)
        # z·(standard error): the reported stderr is itself estimated (≥ 9 probes); a t-like
        # widening by 2 covers its sampling error at this false-alarm rate.
        z = tol.z_value(tol.FALSE_ALARM, 5)
        j = int(np.argmax(np.abs(v - tr)))
        outs.append(Outcome.close(tr, v[j], tol.Tolerance(2 * z * float(se[j]) + 100 * d * EPS * tr,
                                                            f"2·z·stderr, z = {z:.2f}"),
                                  quantity=f"{method} trace"))
    return Outcome.all_of(outs)


@st.composite
def _flat_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 10)), "epsilon": round(draw(st.floats(1e-3, 0.5)), 6),
            "directions": 5, "seed": draw(seeds)}


@check("sharpness.flatness_radius", strategy=_flat_params(), examples=6,
       example={"p": 5, "epsilon": 0.05, "directions": 5, "seed": 0})
def check_flatness(p: dict[str, Any], xp: Any) -> Outcome:
    """Flatness radius by scan + bisection (memo eq. 11) along random unit δ on a quadratic
    against √(2ε/δᵀHδ): tolerance = bisection resolution r_max/grid/2^b plus rounding of the
    crossing (relative ~ eps·L/ε)."""
    rng = host_rng(p)
    d = p["p"]
    H, lam = _spectrum_matrix(rng, d, 1.0, 1.0)
    H += 0.05 * np.eye(d)  # positive definite: every direction has a finite radius
    c = rng.standard_normal(d)
    loss, _ = _quadratic(xp, H, c)
    eps = p["epsilon"]
    r_max = 2 * math.sqrt(2 * eps / 0.05)
    grid, bis = 64, 50
    est = flatness_radius(loss, _asarray(xp, np.tile(c, (2, 1))), epsilon=eps, directions=p["directions"],
                          rng=int(p["seed"]) % 2**31, r_max=r_max, grid=grid, bisections=bis)
    dirs = to_numpy(est.directions)
    q = np.einsum("rtp,pq,rtq->rt", dirs, H, dirs)
    pred = to_numpy(theory.get("sharpness.flatness_radius").numeric(xp)(epsilon=eps, q=_asarray(xp, q)))
    got = to_numpy(est.radii)
    j = np.unravel_index(int(np.argmax(np.abs(got - pred))), got.shape)
    t = tol.Tolerance(r_max / grid / 2**bis, "bisection resolution") + tol.floating_point(
        float(pred[j]), ops=4 * d, cond=max(1.0, float(np.dot(c, H @ c)) / eps))
    return Outcome.close(float(pred[j]), float(got[j]), t, quantity="flatness radius along δ (worst)",
                         capped=int(to_numpy(est.capped).sum()))
