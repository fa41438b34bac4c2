"""Checks of the ``stability.*`` and ``sgd_noise.*`` results: GD and minibatch SGD at minima
of sums of quadratics, simulated as replica ensembles and compared with the derived moment
recursions and thresholds.

Monte Carlo tolerances are z·σ/√R with z for the false-alarm rate FALSE_ALARM split over the
comparisons of a check (Bonferroni). Where the exact per-replica variance is available (1-D:
all batch moments by enumerating the C(n, B) batches) it is used instead of σ̂.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import GD, SGD, run, to_numpy
from numerics.stability import (
    SumOfQuadratics,
    escape_example,
    first_exit,
    largest_stable_eta,
    minibatch_factor,
    quadratic_ensemble,
    second_moment_map,
    sharpness_nonuniformity,
)
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, seeds, spd_matrix, to_xp

EPS = tol.EPS64


_asarray = to_xp  # host array -> float64 array of xp


def _rank2_ensemble(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    """n random PSD matrices of rank ≤ 2 (they do not commute), scaled to λ_max(H) = 1."""
    g = rng.standard_normal((n, p, 2))
    H = g @ np.swapaxes(g, -1, -2)
    return H / np.linalg.eigvalsh(H.mean(0))[-1]


def _batch_moments(a_vals: np.ndarray, B: int, eta: float, powers: tuple[int, ...]) -> dict[int, float]:
    """E(1 − ηa_𝓑)^k over all C(n, B) batches (exact up to rounding)."""
    ms = np.array([1 - eta * a_vals[list(b)].mean() for b in itertools.combinations(range(len(a_vals)), B)])
    return {k: float(np.mean(ms**k)) for k in powers}


# ------------------------------------------------------------------ gd_threshold
@st.composite
def _gd_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 6)), "cond": round(draw(st.floats(1.0, 20.0)), 4),
            "delta": round(draw(st.floats(0.02, 0.3)), 4), "seed": draw(seeds)}


@check("stability.gd_threshold", strategy=_gd_params(), examples=6,
       example={"p": 4, "cond": 5.0, "delta": 0.1, "seed": 0})
def check_gd_threshold(p: dict[str, Any], xp: Any) -> Outcome:
    """GD at η = (1 ∓ δ)·2/λ_max: below, ‖x_K‖ ≤ ρ^K‖x_0‖; above, the top mode grows as
    |1 − ηλ_max|^K exactly (deterministic, rounding tolerance)."""
    rng = host_rng(p)
    d = p["p"]
    H = spd_matrix(rng, d, p["cond"])
    lam, V = np.linalg.eigh(H)
    thr = float(theory.get("stability.gd_threshold").numeric(xp, part="threshold")(lambda_max=lam[-1]))
    delta = p["delta"]
    # Steps: growth of at most 1e6 above the threshold, so nothing hits the divergence bound.
    K = int(min(300, math.ceil(math.log(1e6) / math.log(1 + 2 * delta))))
    x0 = rng.standard_normal((2, d))
    model = SumOfQuadratics(_asarray(xp, H[None]))
    outs = []
    eta_lo, eta_hi = (1 - delta) * thr, (1 + delta) * thr
    lo = to_numpy(run(model, GD(eta_lo), _asarray(xp, x0), K, record=()).x)
    rho = float(np.max(np.abs(1 - eta_lo * lam)))
    fp = tol.floating_point(float(np.max(np.linalg.norm(x0, axis=1))), ops=K * d)
    outs.append(Outcome.at_most(float(np.max(np.linalg.norm(lo, axis=1))),
                                rho**K * float(np.max(np.linalg.norm(x0, axis=1))), fp,
                                quantity="‖x_K‖ below the threshold (≤ ρ^K‖x_0‖)", K=K))
    hi = to_numpy(run(model, GD(eta_hi), _asarray(xp, x0), K, record=()).x)
    c0, cK = x0 @ V[:, -1], hi @ V[:, -1]
    growth = abs(1 - eta_hi * lam[-1]) ** K
    ratio = float(np.min(np.abs(cK / c0)))
    # Each step multiplies the top mode by (1 − ηλ) with relative rounding ~ d·eps: K·d·eps·cond.
    outs.append(Outcome.close(growth, ratio, tol.floating_point(growth, ops=K * d, cond=p["cond"] / max(
        float(np.min(np.abs(c0))) / float(np.max(np.linalg.norm(x0, axis=1))), 1e-3)),
        quantity="|c_K/c_0| of the top mode above the threshold", K=K, eta=eta_hi))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_1d_moments
@st.composite
def _moments_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(2, 7))
    return {"n": n, "B": draw(st.integers(1, n)), "eta_frac": round(draw(st.floats(0.3, 1.3)), 4),
            "t": draw(st.integers(1, 4)), "R": 4000, "seed": draw(seeds)}


def _sgd_1d(p: dict[str, Any], xp: Any, *, replace: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    rng = host_rng(p)
    a_vals = rng.uniform(0.0, 2.0, p["n"])
    a = a_vals.mean()
    s = a_vals.std()
    c = minibatch_factor(p["n"], p["B"])
    eta = p["eta_frac"] * 2 * a / (a * a + c * s * s)
    model = SumOfQuadratics(_asarray(xp, a_vals[:, None, None]))
    x0 = xp.ones((p["R"], 1), dtype=xp.float64)
    traj = run(model, SGD(eta, batch=p["B"], replace=replace), x0, p["t"], record=("x",),
               rng=int(p["seed"]) % 2**31)
    return to_numpy(traj.records["x"])[..., 0], a_vals, eta


@check("stability.sgd_1d_moments", strategy=_moments_params(), examples=6,
       example={"n": 5, "B": 2, "eta_frac": 1.0, "t": 3, "R": 4000, "seed": 0})
def check_sgd_1d_moments(p: dict[str, Any], xp: Any) -> Outcome:
    """R replicas of 1-D SGD from x_0 = 1: the sample E x_t and E x_t² against the derived
    factors raised to t. Tolerance: z·σ_t/√R with the exact σ_t² = (E m²)^t − (E m)^{2t} (and
    the 4th-moment analogue for x²), from all C(n, B) batches."""
    xs, a_vals, eta = _sgd_1d(p, xp)
    res = theory.get("stability.sgd_1d_moments")
    a, s = float(a_vals.mean()), float(a_vals.std())
    kw = {"eta": eta, "a": a, "n": float(p["n"]), "B": float(p["B"])}
    f1 = float(res.numeric(part="mean_factor")(eta=eta, a=a))
    f2 = float(res.numeric(part="second_moment_factor")(s=s, **kw))
    M = _batch_moments(a_vals, p["B"], eta, (1, 2, 4))
    R, t = p["R"], p["t"]
    outs = []
    m = 2 * t
    for k in range(1, t + 1):
        sd1 = math.sqrt(max(M[2] ** k - M[1] ** (2 * k), 0.0))
        sd2 = math.sqrt(max(M[4] ** k - M[2] ** (2 * k), 0.0))
        floor = tol.floating_point(max(abs(f1) ** k, f2**k), ops=k + p["n"])
        outs.append(Outcome.close(f1**k, xs[k].mean(), tol.monte_carlo(max(sd1, 1e-300), R, m=m) + floor,
                                  quantity=f"E x_{k}", eta=eta, a=a, s=s))
        outs.append(Outcome.close(f2**k, np.mean(xs[k] ** 2), tol.monte_carlo(max(sd2, 1e-300), R, m=m) + floor,
                                  quantity=f"E x_{k}²", eta=eta, a=a, s=s))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_noise.covariance
@st.composite
def _noise_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(3, 10))
    return {"n": n, "B": draw(st.integers(1, n - 1)), "p": draw(st.integers(2, 4)), "R": 20000,
            "seed": draw(seeds)}


@check("sgd_noise.covariance", strategy=_noise_params(), examples=6,
       example={"n": 8, "B": 3, "p": 3, "R": 20000, "seed": 0})
def check_noise_covariance(p: dict[str, Any], xp: Any, *, replace: bool = False) -> Outcome:
    """Minibatch gradients g_𝓑 of a sum of quadratics at a fixed x, R batches (one per replica):
    E‖g_𝓑 − ḡ‖² and E(uᵀ(g_𝓑 − ḡ))² against c·Tr Σ^g and c·uᵀΣ^g u (Monte Carlo, σ̂)."""
    rng = host_rng(p)
    H = _rank2_ensemble(rng, p["n"], p["p"])
    x = rng.standard_normal(p["p"])
    u = rng.standard_normal(p["p"])
    u /= np.linalg.norm(u)
    g = H @ x                                   # (n, p) per-sample gradients
    gbar = g.mean(0)
    C = (g - gbar).T @ (g - gbar) / p["n"]
    c = float(theory.get("sgd_noise.covariance").numeric(xp, part="factor")(n=float(p["n"]), B=float(p["B"])))
    model = SumOfQuadratics(_asarray(xp, H))
    from numerics.random import Generator  # noqa: PLC0415

    gen = Generator(int(p["seed"]) % 2**31, xp=xp)
    R = p["R"]
    idx = (gen.integers(0, p["n"], (R, p["B"])) if replace
           else gen.choice_without_replacement(p["n"], p["B"], (R,)))
    gb = to_numpy(model.batch_grad(_asarray(xp, np.tile(x, (R, 1))), idx))
    e = gb - gbar
    q1 = np.sum(e * e, axis=1)
    q2 = (e @ u) ** 2
    outs = [
        Outcome.close(c * np.trace(C), q1.mean(), tol.monte_carlo(q1.std(ddof=1), R, m=2),
                      quantity="E‖g_𝓑 − ḡ‖² vs c·Tr Σ^g", c=c),
        Outcome.close(c * u @ C @ u, q2.mean(), tol.monte_carlo(q2.std(ddof=1), R, m=2),
                      quantity="E(uᵀ(g_𝓑 − ḡ))² vs c·uᵀΣ^g u", c=c),
    ]
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_threshold
@st.composite
def _threshold_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(3, 8))
    return {"n": n, "B": draw(st.integers(1, n)), "p": draw(st.integers(2, 4)),
            "eta_frac": round(draw(st.floats(0.2, 1.5)), 4), "R": 4000, "seed": draw(seeds)}


@check("stability.sgd_threshold", strategy=_threshold_params(), examples=6,
       example={"n": 6, "B": 2, "p": 3, "eta_frac": 0.9, "R": 4000, "seed": 0})
def check_sgd_threshold(p: dict[str, Any], xp: Any) -> Outcome:
    """(i) One SGD step from x_0 ~ N(0, I) per replica: ‖x_1‖² − x_0ᵀPx_0 has mean 0 (Monte
    Carlo, σ̂), P = (I − ηH)² + η²cΣ; (ii) at the seed's threshold η_s (λ_max(P) = 1) the
    necessary conditions a ≤ 2/η_s and s ≤ √(B(n−1)/(n−B))/η_s hold (rounding tolerance)."""
    rng = host_rng(p)
    H = _rank2_ensemble(rng, p["n"], p["p"])
    n, B, d = p["n"], p["B"], p["p"]
    c = minibatch_factor(n, B)
    eta_s = largest_stable_eta(H, B, condition="sufficient")
    eta = p["eta_frac"] * eta_s
    Hm = H.mean(0)
    Sig = (H @ H).mean(0) - Hm @ Hm
    A = np.eye(d) - eta * Hm
    P = A @ A + eta**2 * c * Sig
    R = p["R"]
    x0 = rng.standard_normal((R, d))
    traj = run(SumOfQuadratics(_asarray(xp, H)), SGD(eta, batch=B), _asarray(xp, x0), 1, record=(),
               rng=int(p["seed"]) % 2**31)
    x1 = to_numpy(traj.x)
    diff = np.sum(x1 * x1, 1) - np.einsum("ri,ij,rj->r", x0, P, x0)
    # Rounding floor (B = n makes the step deterministic): d-term sums of size ‖x‖²·max(1, ‖P‖).
    floor = tol.floating_point(float(np.mean(np.sum(x0 * x0, 1))) * max(1.0, float(np.linalg.norm(P, 2))),
                               ops=d * n)
    outs = [Outcome.close(0.0, diff.mean(), tol.monte_carlo(diff.std(ddof=1), R, m=3) + floor,
                          quantity="mean of ‖x_1‖² − x_0ᵀPx_0", eta=eta, c=c)]
    a, s = (float(v) for v in sharpness_nonuniformity(H))
    res = theory.get("stability.sgd_threshold")
    fp = tol.floating_point(1.0, ops=d * d * n, cond=10.0)
    outs.append(Outcome.at_most(a * eta_s, float(res.numeric(part="necessary_sharpness")(eta=1.0)), fp,
                                quantity="η_s·a ≤ 2 at the seed's threshold"))
    if B < n:
        s_max = float(res.numeric(part="necessary_nonuniformity")(eta=eta_s, n=float(n), B=float(B)))
        outs.append(Outcome.at_most(s, s_max, tol.floating_point(s_max, ops=d * d * n, cond=10.0),
                                    quantity="s ≤ √(B(n−1)/(n−B))/η_s"))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_exact_threshold
@st.composite
def _exact_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(3, 6))
    return {"n": n, "B": draw(st.integers(1, n - 1)), "p": draw(st.integers(2, 3)),
            "commuting": draw(st.booleans()), "delta": 0.3, "R": 4000, "seed": draw(seeds)}


def _perron(T: np.ndarray, d: int) -> tuple[float, np.ndarray]:
    """Top eigenvalue of the symmetric vec-form map and its eigenmatrix, made PSD, trace 1."""
    w, U = np.linalg.eigh(0.5 * (T + T.T))
    V = U[:, -1].reshape(d, d)
    V = 0.5 * (V + V.T)
    V = V if np.trace(V) > 0 else -V
    lam, Q = np.linalg.eigh(V)
    V = (Q * np.maximum(lam, 0)) @ Q.T
    return float(w[-1]), V / np.trace(V)


def _ensemble_for(p: dict[str, Any]) -> np.ndarray:
    rng = host_rng(p)
    if p["commuting"]:
        return np.asarray(quadratic_ensemble(1.0, 0.8, p["n"], p["p"], rng=int(p["seed"]) % 2**31,
                                             commuting=True))
    return _rank2_ensemble(rng, p["n"], p["p"])


@check("stability.sgd_exact_threshold", strategy=_exact_params(), examples=5,
       example={"n": 5, "B": 2, "p": 2, "commuting": False, "delta": 0.3, "R": 4000, "seed": 0})
def check_sgd_exact_threshold(p: dict[str, Any], xp: Any) -> Outcome:
    """(i) η*_exact ≥ η*_sufficient (always), = for commuting H_i, ≤ 2/a; (ii) stable just below
    and escaping just above η*: R replicas start from N(0, V), V the Perron eigenmatrix of
    T_η, so E‖x_t‖² = ρ(T_η)^t exactly; t is the first step at which ρ^t is below 1/2 (above 2),
    and the sample mean must land on the right side of 1 by more than its Monte Carlo error
    (z·σ̂/√R, 4 comparisons), and agree with ρ^t."""
    H = _ensemble_for(p)
    n, B, d = p["n"], p["B"], p["p"]
    eta_e = largest_stable_eta(H, B)
    eta_s = largest_stable_eta(H, B, condition="sufficient")
    eta_g = largest_stable_eta(H, B, condition="gd")
    fp = tol.floating_point(eta_e, ops=(d * d) ** 2, cond=10.0)
    outs = [Outcome.at_least(eta_e, eta_s, fp, quantity="η*_exact ≥ η*_sufficient"),
            Outcome.at_most(eta_e, eta_g, fp, quantity="η*_exact ≤ 2/a (the mean must be stable)")]
    if p["commuting"]:
        outs.append(Outcome.close(eta_s, eta_e, fp, quantity="commuting H_i: η*_exact = η*_sufficient"))
    R = p["R"]
    rng = host_rng(p, 7)
    model = SumOfQuadratics(_asarray(xp, H))
    for side, f in (("below", 1 - p["delta"]), ("above", 1 + p["delta"])):
        eta = f * eta_e
        rho, V = _perron(np.asarray(second_moment_map(H, eta, B)), d)
        t = int(min(40, math.ceil(math.log(2.0) / abs(math.log(rho)))))
        lam, Q = np.linalg.eigh(V)
        x0 = rng.standard_normal((R, d)) @ (Q * np.sqrt(np.maximum(lam, 0))).T
        traj = run(model, SGD(eta, batch=B), _asarray(xp, x0), t, record=(), rng=int(rng.integers(2**31)))
        q = np.sum(to_numpy(traj.x) ** 2, axis=1)
        mc = tol.monte_carlo(q.std(ddof=1), R, m=4)
        outs.append(Outcome.close(rho**t, q.mean(), mc, quantity=f"E‖x_t‖² = ρ^t {side} η*", t=t, rho=rho))
        if side == "below":
            outs.append(Outcome.at_most(q.mean() + float(mc), 1.0, tol.Tolerance(0.0, "decision: upper MC bound < E‖x_0‖² = 1"),
                                        quantity=f"stable at {f:g}·η*: E‖x_t‖² + MC error", t=t))
        else:
            outs.append(Outcome.at_least(q.mean() - float(mc), 1.0, tol.Tolerance(0.0, "decision: lower MC bound > E‖x_0‖² = 1"),
                                         quantity=f"escaping at {f:g}·η*: E‖x_t‖² − MC error", t=t))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- general_optimizer
class _LinearMaps:
    """G(x; ξ) = A_ξ x for a finite family A_1..A_m (ξ uniform): a model for SGD with B = 1."""

    def __init__(self, A: Any) -> None:
        import array_api_compat  # noqa: PLC0415

        self.xp = array_api_compat.array_namespace(A)
        self.A, self.n, self.d = A, A.shape[0], A.shape[-1]

    def grad(self, x: Any) -> Any:
        return x @ self.xp.matrix_transpose(self.xp.mean(self.A, axis=0))

    def batch_grad(self, x: Any, idx: Any) -> Any:
        xp = self.xp
        R = x.shape[0]
        Ab = xp.reshape(xp.take(xp.reshape(self.A, (self.n, -1)), xp.reshape(idx, (-1,)), axis=0),
                        (R, idx.shape[1], self.d, self.d))
        return xp.mean((Ab @ x[:, None, :, None])[..., 0], axis=1)


@st.composite
def _general_params(draw: Any) -> dict[str, Any]:
    return {"m": draw(st.integers(2, 4)), "p": draw(st.integers(2, 3)),
            "eta_frac": round(draw(st.floats(0.3, 1.0)), 4), "t": 8, "R": 4000, "seed": draw(seeds)}


@check("stability.general_optimizer", strategy=_general_params(), examples=5,
       example={"m": 3, "p": 2, "eta_frac": 0.9, "t": 8, "R": 4000, "seed": 0})
def check_general_optimizer(p: dict[str, Any], xp: Any) -> Outcome:
    """Non-symmetric A_ξ = H_ξ + K_ξ (PSD plus antisymmetric), η a fraction of the largest step
    with λ_max(E[B_ξᵀB_ξ]) ≤ 1. Then (i) ρ(E B_ξ) ≤ 1; (ii) the exact E‖x_t‖² (second-moment
    recursion) never exceeds ‖x_0‖²; (iii) simulated E x_t and E‖x_t‖² match the exact
    recursions (Monte Carlo, σ̂)."""
    rng = host_rng(p)
    m, d = p["m"], p["p"]
    Hs = _rank2_ensemble(rng, m, d) + 0.2 * np.eye(d)
    K = rng.standard_normal((m, d, d))
    A = Hs + 0.5 * (K - np.swapaxes(K, 1, 2))
    S = 0.5 * (A.mean(0) + A.mean(0).T)                   # = mean H_ξ ≻ 0
    W = np.mean(np.swapaxes(A, 1, 2) @ A, axis=0)
    Ls, Us = np.linalg.eigh(S)
    Sih = (Us / np.sqrt(Ls)) @ Us.T
    eta = p["eta_frac"] * 2.0 / np.linalg.eigvalsh(Sih @ W @ Sih)[-1]
    Bm = np.eye(d)[None] - eta * A
    lam2 = np.linalg.eigvalsh(np.mean(np.swapaxes(Bm, 1, 2) @ Bm, axis=0))[-1]
    rho1 = np.max(np.abs(np.linalg.eigvals(Bm.mean(0))))
    fp = tol.floating_point(1.0, ops=d * d * m, cond=10.0)
    outs = [Outcome.at_most(lam2, 1.0, fp, quantity="λ_max(E[BᵀB]) at the chosen η"),
            Outcome.at_most(rho1, 1.0, fp, quantity="ρ(E B) (implied by the second condition)")]
    x0 = rng.standard_normal(d)
    x0 /= np.linalg.norm(x0)
    t = p["t"]
    M = np.outer(x0, x0)
    mean = x0.copy()
    exact2 = []
    for _ in range(t):
        M = np.mean(Bm @ M @ np.swapaxes(Bm, 1, 2), axis=0)
        mean = Bm.mean(0) @ mean
        exact2.append(np.trace(M))
    outs.append(Outcome.at_most(max(exact2), 1.0, tol.floating_point(1.0, ops=t * d * d * m),
                                quantity="max_t exact E‖x_t‖² ≤ ‖x_0‖² = 1"))
    R = p["R"]
    traj = run(_LinearMaps(_asarray(xp, A)), SGD(eta, batch=1), _asarray(xp, np.tile(x0, (R, 1))), t,
               record=(), rng=int(p["seed"]) % 2**31)
    xt = to_numpy(traj.x)
    q = np.sum(xt * xt, 1)
    outs.append(Outcome.close(exact2[-1], q.mean(), tol.monte_carlo(q.std(ddof=1), R, m=1 + d),
                              quantity="E‖x_t‖² vs exact recursion", t=t))
    for j in range(d):
        outs.append(Outcome.close(mean[j], xt[:, j].mean(), tol.monte_carlo(xt[:, j].std(ddof=1), R, m=1 + d),
                                  quantity=f"E x_t[{j}] vs (E B)^t x_0", t=t))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- preconditioned
@st.composite
def _precond_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 5)), "cond": round(draw(st.floats(1.0, 20.0)), 4),
            "d_cond": round(draw(st.floats(1.0, 20.0)), 4), "delta": round(draw(st.floats(0.02, 0.3)), 4),
            "seed": draw(seeds)}


@check("stability.preconditioned", strategy=_precond_params(), examples=6,
       example={"p": 3, "cond": 5.0, "d_cond": 4.0, "delta": 0.1, "seed": 0})
def check_preconditioned(p: dict[str, Any], xp: Any) -> Outcome:
    """GD with metric D at η = (1 ∓ δ)·2/λ_max(D⁻¹H): below, ‖D^{1/2}x_K‖ ≤ ρ^K‖D^{1/2}x_0‖;
    above, the top mode of D^{-1/2}HD^{-1/2} grows as |1 − ημ_max|^K (rounding tolerance)."""
    rng = host_rng(p)
    d = p["p"]
    H = spd_matrix(rng, d, p["cond"])
    D = spd_matrix(rng, d, p["d_cond"])
    Ld, Ud = np.linalg.eigh(D)
    Dh, Dih = (Ud * np.sqrt(Ld)) @ Ud.T, (Ud / np.sqrt(Ld)) @ Ud.T
    mu, V = np.linalg.eigh(Dih @ H @ Dih)
    thr = float(theory.get("stability.preconditioned").numeric(xp, part="threshold")(mu_max=mu[-1]))
    delta = p["delta"]
    K = int(min(300, math.ceil(math.log(1e6) / math.log(1 + 2 * delta))))
    x0 = rng.standard_normal((2, d))
    model = SumOfQuadratics(_asarray(xp, H[None]))
    kappa = p["cond"] * p["d_cond"]
    outs = []
    eta = (1 - delta) * thr
    lo = to_numpy(run(model, GD(eta, metric=_asarray(xp, D)), _asarray(xp, x0), K, record=()).x)
    rho = float(np.max(np.abs(1 - eta * mu)))
    w0 = np.linalg.norm(x0 @ Dh, axis=1).max()
    outs.append(Outcome.at_most(np.linalg.norm(lo @ Dh, axis=1).max(), rho**K * w0,
                                tol.floating_point(w0, ops=K * d, cond=kappa),
                                quantity="‖D^{1/2}x_K‖ below the threshold", K=K))
    eta = (1 + delta) * thr
    hi = to_numpy(run(model, GD(eta, metric=_asarray(xp, D)), _asarray(xp, x0), K, record=()).x)
    c0, cK = (x0 @ Dh) @ V[:, -1], (hi @ Dh) @ V[:, -1]
    growth = abs(1 - eta * mu[-1]) ** K
    rel = float(np.min(np.abs(c0))) / w0
    outs.append(Outcome.close(growth, float(np.min(np.abs(cK / c0))),
                              tol.floating_point(growth, ops=K * d, cond=kappa / max(rel, 1e-3)),
                              quantity="|c_K/c_0| of the top mode above the threshold", K=K))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- escape example
_ESCAPE = {"eta": 0.7, "x0_gap": 1e-5, "R": 1000, "T": 400, "seed": 0}


def _escape_runs(p: dict[str, Any], xp: Any, record_every: int = 1) -> tuple[Any, Any]:
    m = escape_example(xp=xp)
    x0 = xp.full((p["R"], 1), 1 - p["x0_gap"], dtype=xp.float64)
    gd = run(m, GD(p["eta"]), x0[:1, :], p["T"], record=("x",), record_every=record_every)
    sgd = run(m, SGD(p["eta"], batch=1), x0, p["T"], record=("x",), record_every=record_every,
              rng=int(p["seed"]) % 2**31)
    return gd, sgd


@check("stability.sgd_escape_example", example=_ESCAPE)
def check_escape_example(p: dict[str, Any], xp: Any) -> Outcome:
    """GD from 1 − 10⁻⁵ stays at 1 (|x_T − 1| ≤ 0.4^T·10⁻⁵ + rounding); every one of R SGD
    replicas leaves the minimum 1 and ends at 0.

    Margin: near 1, log|x − 1| is a random walk with steps log 0.86 or log 1.66 (drift
    Λ = 0.178, range 0.658). Leaving a ball of radius 0.4 from 10⁻⁵ needs a rise of 10.6; by
    Hoeffding, P(not yet after T = 400 steps) ≤ exp(−2(TΛ − 10.6)²/(T·0.658²)) < 1e-18 per
    replica, so with R = 1000 a replica still near 1 has probability < 1e-15."""
    gd, sgd = _escape_runs(p, xp, record_every=10)
    T = p["T"]
    gd_err = abs(float(to_numpy(gd.x)[0, 0]) - 1.0)
    outs = [Outcome.at_most(gd_err, 0.4**T * p["x0_gap"], tol.floating_point(1.0, ops=T),
                            quantity="GD: |x_T − 1|")]
    esc, when = first_exit(sgd.records["x"], sgd.steps, xp.asarray([1.0], dtype=xp.float64), 0.4)
    n_stay = p["R"] - int(to_numpy(esc).sum())
    lyap = 0.5 * (math.log(0.86) + math.log(1.66))
    bound = math.exp(-2 * (T * lyap - math.log(0.4 / p["x0_gap"])) ** 2 / (T * math.log(1.66 / 0.86) ** 2))
    outs.append(Outcome.at_most(n_stay, 0, tol.Tolerance(0.0, f"Hoeffding: P(stay) ≤ {bound:.1e} per replica"),
                                quantity="SGD replicas that never left |x − 1| ≤ 0.4",
                                median_exit=float(np.median(to_numpy(when)))))
    # At 0 both pieces are x²: x ↦ −0.4x each step, so after escaping the iterate is tiny.
    xf = np.abs(to_numpy(sgd.x)[:, 0])
    outs.append(Outcome.at_most(float(xf.max()), 1e-12, tol.Tolerance(0.0, "0.4^k contraction near 0"),
                                quantity="SGD: max_r |x_T| (at the minimum 0)"))
    return Outcome.all_of(outs)


# --------------------------------------------------------------------------- figures
@figure("stability.sgd_escape_example")
def figure_escape(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    q = dict(p, R=8, T=150)
    gd, sgd = _escape_runs(q, xp)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    k = np.array(gd.steps)
    xs = to_numpy(sgd.records["x"])[..., 0]
    for r in range(xs.shape[1]):
        ax.plot(k, xs[:, r], color="tab:orange", lw=0.8, alpha=0.8, label="SGD (B = 1)" if r == 0 else None)
    ax.plot(k, to_numpy(gd.records["x"])[:, 0, 0], color="tab:blue", lw=2, label="GD")
    ax.axhline(1.0, color="k", ls=":", lw=0.8)
    ax.axhline(0.0, color="k", ls=":", lw=0.8)
    ax.set_xlabel("step t")
    ax.set_ylabel("x_t")
    ax.set_title("f = ½(f₁ + f₂), η = 0.7, x₀ = 1 − 10⁻⁵")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figure("stability.sgd_threshold")
def figure_sharpness_nonuniformity(p: dict[str, Any], xp: Any) -> Any:
    """The seed's diagram: stable regions s ≤ s_∂(a) for a few (η, B), with simulated 1-D minima
    (random a_i, n = 20) marked by the simulated mean-square growth of SGD (η = 0.5, B = 2):
    E x_1²/x_0² over R replicas (one step, so the estimate is not dominated by rare
    trajectories as long-run sample means of a heavy-tailed product are)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    res = theory.get("stability.sgd_threshold")
    edge = res.numeric(part="stable_region_s")
    n = 20
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for eta, B, style in ((0.5, 2, "k-"), (0.5, 8, "k--"), (0.8, 2, "b-"), (0.8, 8, "b--")):
        a = np.linspace(0, 2 / eta, 400)
        ax.plot(a, edge(a=a, eta=eta, n=float(n), B=float(B)), style, label=f"η = {eta}, B = {B}")
    rng = host_rng(p, 3)
    eta, B, R, T = 0.5, 2, 4000, 1
    pts, esc = [], []
    for _ in range(40):
        a_vals = rng.gamma(rng.uniform(0.3, 3), 1.0, n)
        a_vals *= rng.uniform(0.5, 4.5) / a_vals.mean()
        model = SumOfQuadratics(_asarray(xp, a_vals[:, None, None]))
        tr = run(model, SGD(eta, batch=B), xp.ones((R, 1), dtype=xp.float64), T, record=(),
                 rng=int(rng.integers(2**31)))
        pts.append((a_vals.mean(), a_vals.std()))
        esc.append(bool(np.mean(to_numpy(tr.x) ** 2) > 1.0))
    pts = np.array(pts)
    esc = np.array(esc)
    ax.scatter(*pts[~esc].T, c="tab:green", s=16, label="simulated: E x² shrinks (η = 0.5, B = 2)")
    ax.scatter(*pts[esc].T, c="tab:red", marker="x", s=20, label="simulated: E x² grows")
    ax.set_xlabel("sharpness a")
    ax.set_ylabel("non-uniformity s")
    ax.set_title(f"sharpness–non-uniformity diagram (n = {n})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
