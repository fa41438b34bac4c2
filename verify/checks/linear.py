"""Checks of the ``linear.*`` results: GD, gradient flow and SGD on least squares.

Every check builds its problem on the host from a drawn parameter dict, runs the dynamics
on the replica engine in the namespace ``xp``, evaluates the derived formula with
``Result.numeric(xp)`` and compares with a derived tolerance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import GD, SGD, LeastSquares, min_norm_fit, relu_features, run, to_numpy
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import (
    to_xp,
    host_rng,
    least_squares_params,
    matrix_with_spectrum,
    seeds,
    spd_matrix,
    step_fractions,
)

EPS = tol.EPS64


_asarray = to_xp  # host array -> float64 array of xp


def _norm(v: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=axis))


# --------------------------------------------------------------------- gd_iterate
@st.composite
def _gd_iterate_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=100.0, full_rank=False))
    p["eta_frac"] = draw(step_fractions(0.05, 0.99))
    p["k"] = draw(st.integers(1, 300))
    return p


def _eig(xp: Any, A: Any) -> tuple[Any, Any]:
    """Eigen-decomposition of AᵀA in the namespace xp (ascending eigenvalues)."""
    return xp.linalg.eigh(xp.matrix_transpose(A) @ A)


@check("linear.gd_iterate", strategy=_gd_iterate_params(), examples=12,
       example={"n": 4, "d": 9, "rank": 4, "cond": 5.0, "eta_frac": 0.5, "k": 40, "seed": 1})
def check_gd_iterate(p: dict[str, Any], xp: Any) -> Outcome:
    """x_k from the replica engine vs the rsolve closed form, mode by mode."""
    A_h, s = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    y_h = rng.standard_normal(p["n"])
    R = 3
    x0_h = rng.standard_normal((R, p["d"]))
    eta = p["eta_frac"] * 2.0 / s[0] ** 2
    A, y, x0 = _asarray(xp, A_h), _asarray(xp, y_h), _asarray(xp, x0_h)
    traj = run(LeastSquares(A, y, reduction="sum"), GD(eta), x0, p["k"], record=())
    observed = to_numpy(traj.x)
    # Prediction: c_k = V^T x_k from theory.get("linear.gd_iterate") for lambda_j > 0;
    # null-space modes (lambda_j = 0 up to rounding) keep c_0.
    lam, V = _eig(xp, A)
    f = theory.get("linear.gd_iterate").numeric(xp)
    c0 = x0 @ V                                   # (R, d)
    g = (xp.matrix_transpose(A) @ y) @ V           # (d,)
    lam_h = to_numpy(lam)
    null = lam_h <= 100 * p["d"] * EPS * lam_h.max()
    null_x = xp.asarray(null)
    lam_safe = xp.where(null_x, xp.ones_like(lam), lam)
    ck = f(c_0=c0, g_j=g, eta=eta, lambda_j=lam_safe, k=float(p["k"]))
    ck = xp.where(null_x, c0, ck)
    predicted = to_numpy(ck @ xp.matrix_transpose(V))
    err = float(np.max(_norm(observed - predicted)))
    # ||x_k|| <= ||x_0|| + k*eta*||A^T y|| (the GD map is non-expansive for eta <= 2/lambda_max);
    # each of the k steps and the eigendecomposition round with relative error ~(n + d) eps,
    # and the spectral function (1 - eta*lambda)^k amplifies eigenvalue errors by eta*k.
    scale = float(np.max(_norm(x0_h))) + p["k"] * eta * float(np.linalg.norm(A_h.T @ y_h))
    t = tol.floating_point(scale, ops=(p["k"] + p["d"]) * (p["n"] + p["d"]))
    return Outcome.close(0.0, err, t, quantity="max_r ‖x_k − x_k(closed form)‖",
                         k=p["k"], eta=eta, lambda_max=s[0] ** 2)


# ----------------------------------------------------------------------- gd_limit
@st.composite
def _gd_limit_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=10.0))
    p["eta_frac"] = draw(step_fractions(0.3, 0.9))
    return p


def _contraction_rate(eta: float, lam_nonzero: np.ndarray) -> float:
    return float(np.max(np.abs(1.0 - eta * lam_nonzero)))


def _gd_limit_problem(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """A, its singular values, y, four initial points (the first is 0) and the step."""
    A_h, s = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    y_h = rng.standard_normal(p["n"])
    x0_h = np.vstack([np.zeros(p["d"]), 3.0 * rng.standard_normal((3, p["d"]))])
    return A_h, s, y_h, x0_h, p["eta_frac"] * 2.0 / s[0] ** 2


@check("linear.gd_limit", strategy=_gd_limit_params(), examples=10,
       example={"n": 5, "d": 12, "rank": 5, "cond": 4.0, "eta_frac": 0.6, "seed": 2})
def check_gd_limit(p: dict[str, Any], xp: Any) -> Outcome:
    """GD after K steps vs x_0 + A⁺(y − Ax_0); tolerance ρ^K‖x_0 − x_∞‖ + rounding."""
    A_h, s, y_h, x0_h, eta = _gd_limit_problem(p)
    rho = _contraction_rate(eta, s**2)
    K = 3000
    A, y, x0 = _asarray(xp, A_h), _asarray(xp, y_h), _asarray(xp, x0_h)
    traj = run(LeastSquares(A, y, reduction="sum"), GD(eta), x0, K, record=())
    if traj.n_diverged:
        return Outcome.failure(f"GD diverged at eta = {eta:.3g} < 2/lambda_max")
    observed = to_numpy(traj.x)
    # The derived limit, evaluated in xp: x0 + A^+ (y - A x0).
    pinv = xp.linalg.pinv(A)
    pred = to_numpy(x0 + xp.matrix_transpose(pinv @ (y[:, None] - A @ xp.matrix_transpose(x0))))
    err = float(np.max(_norm(observed - pred)))
    e0 = float(np.max(_norm(x0_h - pred)))
    t = tol.contraction(rho, K, e0) + tol.floating_point(
        float(np.max(_norm(pred))), ops=K * (p["n"] + p["d"]), cond=p["cond"] ** 2)
    min_norm = float(np.linalg.norm(pred[0]))
    return Outcome.close(0.0, err, t, quantity="max_r ‖x_K − (x_0 + A⁺(y − Ax_0))‖",
                         K=K, rho=rho, eta=eta, min_norm=min_norm)


# ------------------------------------------------------------------ gradient_flow
@st.composite
def _flow_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=4.0, max_n=8, max_extra_d=12))
    p["t_top"] = draw(st.floats(0.2, 8.0))  # t·σ_1²/n: how far the top mode relaxes
    return p


@check("linear.gradient_flow", strategy=_flow_params(), examples=10,
       example={"n": 4, "d": 10, "rank": 4, "cond": 3.0, "t_top": 3.0, "seed": 3})
def check_gradient_flow(p: dict[str, Any], xp: Any) -> Outcome:
    """GD with a small step h on (1/2n)‖Xβ − y‖² vs the dsolve closed form at t = Kh.

    Discretization: with x = hσ²/n, |e^{−Kx} − (1 − x)^K| ≤ K(x²/2)e^{−(K−1)x}
    (from 0 ≤ e^{−x} − (1 − x) ≤ x²/2 and a^K − b^K ≤ (a − b)K a^{K−1}), times
    |a_j(0) − z_j/σ_j| per mode.
    """
    n = p["n"]
    X_h, s = matrix_with_spectrum(p, scale=math.sqrt(n))
    rng = host_rng(p, 1)
    y_h = rng.standard_normal(n)
    R = 3
    b0_h = rng.standard_normal((R, p["d"]))
    K = 2000
    t_end = p["t_top"] * n / s[0] ** 2
    h = t_end / K
    X, y, b0 = _asarray(xp, X_h), _asarray(xp, y_h), _asarray(xp, b0_h)
    traj = run(LeastSquares(X, y, reduction="mean"), GD(h), b0, K, record=())
    beta = to_numpy(traj.x)
    # SVD coordinates on the host: a = V^T beta, b = V_perp^T beta.
    U, sv, Vt = np.linalg.svd(X_h, full_matrices=True)
    V = Vt[:n].T
    Vperp = Vt[n:].T
    z = U.T @ y_h
    a0 = b0_h @ V
    f = theory.get("linear.gradient_flow").numeric(xp)
    a_pred = to_numpy(f(a_0=_asarray(xp, a0), z_j=_asarray(xp, z), sigma_j=_asarray(xp, sv),
                        n=float(n), t=t_end))
    a_obs = beta @ V
    b_obs, b_pred = beta @ Vperp, b0_h @ Vperp
    err = max(float(np.max(_norm(a_obs - a_pred))), float(np.max(_norm(b_obs - b_pred))))
    x = h * sv**2 / n
    disc = K * x**2 / 2 * np.exp(-(K - 1) * x) * np.abs(a0 - z / sv)
    t_disc = tol.Tolerance(float(np.max(_norm(disc))),
                           "discretization: K(x²/2)e^{−(K−1)x}|a_j(0) − z_j/σ_j|, x = hσ_j²/n")
    scale = float(np.max(_norm(b0_h))) + float(np.linalg.norm(z / sv))
    t = t_disc + tol.floating_point(scale, ops=K * (n + p["d"]))
    return Outcome.close(0.0, err, t, quantity="max_r ‖β_K − β(Kh)‖ in SVD coordinates",
                         h=h, K=K, t=t_end)


# ---------------------------------------------------------------- scaled_gd_limit
@st.composite
def _scaled_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=4.0, max_n=6, max_extra_d=8))
    p["h_cond"] = draw(st.floats(1.0, 10.0))
    p["diagonal"] = draw(st.booleans())
    p["eta_frac"] = draw(step_fractions(0.3, 0.9))
    return p


def _metric(p: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    d = p["d"]
    if p["diagonal"]:
        return np.geomspace(1.0, p["h_cond"], d)[rng.permutation(d)]
    return spd_matrix(rng, d, p["h_cond"])


def _projection(A: np.ndarray, b: np.ndarray, x0: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Independent host computation: solve the KKT system of min ||x - x0||_H^2, Ax = b."""
    Hm = np.diag(H) if H.ndim == 1 else H
    n, d = A.shape
    K = np.block([[Hm, -A.T], [A, np.zeros((n, n))]])
    out = []
    for x in np.atleast_2d(x0):
        rhs = np.concatenate([Hm @ x, b])
        out.append(np.linalg.solve(K, rhs)[:d])
    return np.array(out)


def _scaled_rate(A: np.ndarray, H: np.ndarray, eta: float, scale: float) -> tuple[float, float, float]:
    Hm = np.diag(H) if H.ndim == 1 else H
    w, Q = np.linalg.eigh(Hm)
    Hmh = (Q / np.sqrt(w)) @ Q.T
    mu = np.linalg.eigvalsh(scale * Hmh @ A.T @ A @ Hmh)
    mu = mu[mu > 1e-12 * mu.max()]
    return float(np.max(np.abs(1 - eta * mu))), float(mu.max()), float(w.min())


@check("linear.scaled_gd_limit", strategy=_scaled_params(), examples=10,
       example={"n": 3, "d": 7, "rank": 3, "cond": 2.0, "h_cond": 5.0, "diagonal": False,
                "eta_frac": 0.6, "seed": 4})
def check_scaled_gd_limit(p: dict[str, Any], xp: Any) -> Outcome:
    """Scaled GD after K steps vs the KKT solution of the H-projection; tolerance from the
    contraction of the H^{-1/2}AᵀAH^{-1/2} modes, measured in the H-norm."""
    A_h, s = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    b_h = rng.standard_normal(p["n"])
    H_h = _metric(p, rng)
    x0_h = np.vstack([np.zeros(p["d"]), 2.0 * rng.standard_normal((2, p["d"]))])
    _, mu_max, _ = _scaled_rate(A_h, H_h, 1.0, 1.0)
    eta = p["eta_frac"] * 2.0 / mu_max
    rho, _, h_min = _scaled_rate(A_h, H_h, eta, 1.0)
    K = 3000
    traj = run(LeastSquares(_asarray(xp, A_h), _asarray(xp, b_h), reduction="sum"),
               GD(eta, metric=_asarray(xp, H_h)), _asarray(xp, x0_h), K, record=())
    observed = to_numpy(traj.x)
    pred = _projection(A_h, b_h, x0_h, H_h)
    # Also the SymPy statement, lambdified as a matrix formula, must agree with the KKT solve.
    Hinv = np.diag(1 / H_h) if H_h.ndim == 1 else np.linalg.inv(H_h)
    formula = x0_h + (Hinv @ A_h.T @ np.linalg.solve(A_h @ Hinv @ A_h.T, (b_h[:, None] - A_h @ x0_h.T))).T
    err = float(np.max(_norm(observed - pred)))
    e0 = float(np.max(_norm(x0_h - pred)))
    h_cond = p["h_cond"]
    t = tol.contraction(rho, K, e0 * math.sqrt(h_cond)) + tol.floating_point(
        float(np.max(_norm(pred))), ops=K * (p["n"] + p["d"]), cond=h_cond * p["cond"] ** 2)
    formula_gap = float(np.max(_norm(formula - pred)))
    return Outcome.all_of([
        Outcome.close(0.0, err, t, quantity="max_r ‖x_K − x̂_H‖"),
        Outcome.close(0.0, formula_gap, tol.floating_point(
            float(np.max(_norm(pred))), ops=p["d"] ** 2, cond=h_cond * p["cond"] ** 2),
            quantity="‖closed form − KKT solve‖"),
    ])


# ---------------------------------------------------------------------- sgd_limit
@st.composite
def _sgd_limit_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=3.0, max_n=5, max_extra_d=6))
    p["h_cond"] = draw(st.floats(1.0, 4.0))
    p["diagonal"] = draw(st.booleans())
    p["replace"] = draw(st.booleans())
    p["step_frac"] = draw(step_fractions(0.5, 1.0))
    return p


@check("linear.sgd_limit", strategy=_sgd_limit_params(), examples=6,
       example={"n": 4, "d": 8, "rank": 4, "cond": 2.0, "h_cond": 3.0, "diagonal": True,
                "replace": False, "step_frac": 0.8, "seed": 5})
def check_sgd_limit(p: dict[str, Any], xp: Any) -> Outcome:
    """Single-sample scaled SGD (Kaczmarz-like steps γ ≤ 1/max_i a_iᵀH⁻¹a_i) vs the H-projection.

    Tolerance, derived without assuming the answer: the iteration keeps
    x_k − x_0 ∈ H⁻¹R(Aᵀ), and so does x̂ − x_0; their difference e lies in H⁻¹R(Aᵀ)
    with Ae = Ax_k − b, hence ‖e‖_H ≤ ‖Ax_k − b‖/σ_min(AH^{−1/2}). A point anywhere
    else on {Ax = b} is a distance ≥ its offset from x̂ away, whatever the residual.
    """
    A_h, s = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    b_h = A_h @ rng.standard_normal(p["d"])  # consistent by construction
    H_h = _metric(p, rng)
    Hinv = np.diag(1 / H_h) if H_h.ndim == 1 else np.linalg.inv(H_h)
    x0_h = np.vstack([np.zeros(p["d"]), rng.standard_normal((3, p["d"]))])
    n = p["n"]
    row_h = np.einsum("id,de,ie->i", A_h, Hinv, A_h)
    # reduction="sum", batch 1: step = eta * n * a_i (a_i^T x - b_i); Kaczmarz scale 1/(n a_i^T H^-1 a_i)
    eta = p["step_frac"] / (n * row_h.max())
    K = 4000
    traj = run(LeastSquares(_asarray(xp, A_h), _asarray(xp, b_h), reduction="sum"),
               SGD(eta, batch=1, replace=p["replace"], metric=_asarray(xp, H_h)),
               _asarray(xp, x0_h), K, record=(), rng=p["seed"])
    x = to_numpy(traj.x)
    pred = _projection(A_h, b_h, x0_h, H_h)
    res = _norm(x @ A_h.T - b_h)
    w, Q = np.linalg.eigh(np.diag(H_h) if H_h.ndim == 1 else H_h)
    Hmh = (Q / np.sqrt(w)) @ Q.T
    smin = np.linalg.svd(A_h @ Hmh, compute_uv=False).min()
    if float(res.max()) > 1e-5 * float(np.linalg.norm(b_h)):
        return Outcome.failure(f"SGD did not converge: residual {float(res.max()):.3g}")
    # ||e|| <= ||e||_H / sqrt(h_min)
    bound = float(np.max(res)) / smin / math.sqrt(w.min())
    fp = tol.floating_point(float(np.max(_norm(pred))), ops=K * p["d"], cond=p["h_cond"] * p["cond"])
    t = tol.Tolerance(bound, "residual: ‖Ax_K − b‖/(σ_min(AH^{−1/2})√λ_min(H))") + fp
    err = float(np.max(_norm(x - pred)))
    return Outcome.close(0.0, err, t, quantity="max_r ‖x_K − x̂_H‖", K=K, eta=eta,
                         residual=float(res.max()))


# --------------------------------------------------------------- convex_norm_bound
@st.composite
def _convex_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=10.0, full_rank=False))
    p["eta_frac"] = draw(step_fractions(0.05, 0.99))
    p["init_scale"] = draw(st.floats(0.0, 10.0))
    return p


@check("linear.convex_norm_bound", strategy=_convex_params(), examples=10,
       example={"n": 5, "d": 10, "rank": 3, "cond": 5.0, "eta_frac": 0.9, "init_scale": 2.0,
                "seed": 6})
def check_convex_norm_bound(p: dict[str, Any], xp: Any) -> Outcome:
    """GD on a convex (possibly rank-deficient, inconsistent) least squares: along the whole
    trajectory ‖θ_t − θ̄‖ ≤ ‖θ_0 − θ̄‖ and ‖θ_t‖ ≤ ‖θ_0‖ + 2‖θ̄‖, θ̄ = A⁺y."""
    A_h, s = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    y_h = rng.standard_normal(p["n"])
    R = 4
    x0_h = p["init_scale"] * rng.standard_normal((R, p["d"]))
    eta = p["eta_frac"] * 2.0 / s[0] ** 2
    K = 400
    traj = run(LeastSquares(_asarray(xp, A_h), _asarray(xp, y_h), reduction="sum"), GD(eta),
               _asarray(xp, x0_h), K, record=("x",))
    xs = to_numpy(traj.records["x"])  # (T, R, d)
    theta_bar = np.linalg.pinv(A_h) @ y_h
    dist = _norm(xs - theta_bar)
    norms = _norm(xs)
    scale = float(np.max(norms)) + float(np.linalg.norm(theta_bar))
    fp = tol.floating_point(scale, ops=K * (p["n"] + p["d"]))
    gap1 = float(np.max(dist - dist[0]))
    gap2 = float(np.max(norms - (norms[0] + 2 * np.linalg.norm(theta_bar))))
    return Outcome.all_of([
        Outcome.at_most(gap1, 0.0, fp, quantity="max_t ‖θ_t − θ̄‖ − ‖θ_0 − θ̄‖"),
        Outcome.at_most(gap2, 0.0, fp, quantity="max_t ‖θ_t‖ − (‖θ_0‖ + 2‖θ̄‖)"),
    ])


# ---------------------------------------------------------- generalization_error
@st.composite
def _generalization_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=4.0, max_n=8, max_extra_d=8))
    p["epsilon"] = draw(st.floats(0.05, 1.0))
    p["t_top"] = draw(st.floats(0.5, 6.0))
    return p


def _noisy_design(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (n x d, singular values √n · geometric), its singular values and full Vᵀ."""
    X_h, _ = matrix_with_spectrum(p, scale=math.sqrt(p["n"]))
    _, sv, Vt = np.linalg.svd(X_h, full_matrices=True)
    return X_h, sv, Vt


def _random_target(p: dict[str, Any], Vt: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """A unit β* and its SVD coordinates a* = Vᵀβ* (range) and ‖b*‖² (null space)."""
    beta_star = host_rng(p, 1).standard_normal(p["d"])
    beta_star /= np.linalg.norm(beta_star)
    n = p["n"]
    b_star = Vt[n:] @ beta_star
    return beta_star, Vt[:n] @ beta_star, float(b_star @ b_star)


def _flow_mc(p: dict[str, Any], xp: Any, beta_star: np.ndarray, X_h: np.ndarray,
             R: int, K: int, t_end: float, points: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Monte Carlo of e(t) = ‖β(t) − β*‖² over R noise draws, GD step h = t_end/K."""
    n = p["n"]
    rng = host_rng(p, 2)
    Y = X_h @ beta_star + p["epsilon"] * rng.standard_normal((R, n))
    model = LeastSquares(_asarray(xp, X_h), _asarray(xp, Y), reduction="mean")
    bs = _asarray(xp, beta_star)

    def err(model: Any, x: Any) -> Any:
        dlt = x - bs
        return xp.sum(dlt * dlt, axis=-1)

    traj = run(model, GD(t_end / K), xp.zeros((R, p["d"]), dtype=xp.float64), K,
               record={"e": err}, record_every=K // points)
    return to_numpy(traj.records["e"]), np.array(traj.steps), traj.steps


def _expected_error(xp: Any, a_star: np.ndarray, b_sq: float, sv: np.ndarray, eps: float,
                    n: int, t: np.ndarray) -> np.ndarray:
    """E e(t) from theory.get('linear.generalization_error'): ‖b*‖² + Σ_j mode_j(t)."""
    mode = theory.get("linear.generalization_error").numeric(xp, part="mode")
    tt = _asarray(xp, t)[:, None]
    vals = mode(a_star=_asarray(xp, a_star)[None, :], sigma_j=_asarray(xp, sv)[None, :],
                epsilon=eps, n=float(n), t=tt)
    return b_sq + to_numpy(xp.sum(vals, axis=-1))


def _gd_bias(a_star: np.ndarray, sv: np.ndarray, eps: float, n: int, h: float,
             k: np.ndarray) -> np.ndarray:
    """|E e_GD(kh) − E e_flow(kh)| ≤ Σ_j 2|q − q̃|(a*_j² + ε²/σ_j²), |q − q̃| ≤ k(x²/2)e^{−(k−1)x}."""
    x = h * sv**2 / n
    kk = k[:, None].astype(float)
    dq = kk * x**2 / 2 * np.exp(-np.maximum(kk - 1, 0) * x)
    return np.sum(2 * dq * (a_star**2 + eps**2 / sv**2), axis=-1)


@check("linear.generalization_error", strategy=_generalization_params(), examples=6,
       example={"n": 5, "d": 9, "rank": 5, "cond": 3.0, "epsilon": 0.3, "t_top": 4.0, "seed": 7})
def check_generalization_error(p: dict[str, Any], xp: Any) -> Outcome:
    """Monte Carlo mean of e(t) over R noise draws vs the exact expectation at 4 times."""
    n = p["n"]
    X_h, sv, Vt = _noisy_design(p)
    beta_star, a_star, b_sq = _random_target(p, Vt)
    R, K, points = 1500, 1000, 4
    t_end = p["t_top"] * n / sv[0] ** 2
    e, steps, _ = _flow_mc(p, xp, beta_star, X_h, R, K, t_end, points)
    h = t_end / K
    t = steps * h
    pred = _expected_error(xp, a_star, b_sq, sv, p["epsilon"], n, t)
    bias = _gd_bias(a_star, sv, p["epsilon"], n, h, steps)
    outs = []
    m = len(t) - 1  # t = 0 is deterministic (e(0) = ‖β*‖²), compare the others
    for i in range(1, len(t)):
        mc = tol.monte_carlo(float(np.std(e[i], ddof=1)), R, m=m)
        bt = tol.Tolerance(float(bias[i]), "GD vs flow: Σ_j 2|q − q̃|(a*_j² + ε²/σ_j²)")
        outs.append(Outcome.close(pred[i], float(np.mean(e[i])), mc + bt,
                                  quantity=f"E e(t) at t = {t[i]:.3g}"))
    return Outcome.all_of(outs)


# ------------------------------------------------------------------ early_stopping
@st.composite
def _early_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=30.0, max_n=8, max_extra_d=8))
    p["epsilon"] = draw(st.floats(0.02, 0.3))
    return p


def _early_stopping_time(p: dict[str, Any], sv: np.ndarray, xp: Any) -> tuple[int, float, float]:
    """rank r, ε and T_0 from theory.get('linear.early_stopping') (part T_0)."""
    r = int(np.sum(sv > 1e-12 * sv[0]))
    eps = p["epsilon"]
    f = theory.get("linear.early_stopping").numeric(xp, part="T_0")
    return r, eps, float(to_numpy(f(sigma_1=sv[0], epsilon=eps, r=float(r), n=float(p["n"]))))


@check("linear.early_stopping", strategy=_early_params(), examples=5,
       example={"n": 6, "d": 10, "rank": 6, "cond": 20.0, "epsilon": 0.1, "seed": 8})
def check_early_stopping(p: dict[str, Any], xp: Any) -> Outcome:
    """β* = v_1: (i) the Monte Carlo E e(t) stays below the derived bound on a grid of t up to
    2T_0; (ii) the SymPy T_0 is the minimizer of the bound (checked by SciPy's bounded
    scalar minimizer, tolerance its xatol)."""
    from scipy.optimize import minimize_scalar  # noqa: PLC0415

    n = p["n"]
    X_h, sv, Vt = _noisy_design(p)
    beta_star = Vt[0]
    r, eps, T0 = _early_stopping_time(p, sv, xp)
    bound_fn = theory.get("linear.early_stopping").numeric(xp, part="bound")
    R, K, points = 1000, 1000, 8
    t_end = 2 * T0
    e, steps, _ = _flow_mc(p, xp, beta_star, X_h, R, K, t_end, points)
    h = t_end / K
    t = steps * h
    bound = to_numpy(bound_fn(sigma_1=sv[0], epsilon=eps, r=float(r), n=float(n), t=_asarray(xp, t)))
    a_star = Vt[:n] @ beta_star
    bias = _gd_bias(a_star, sv, eps, n, h, steps)
    outs = []
    for i in range(1, len(t)):
        mc = tol.monte_carlo(float(np.std(e[i], ddof=1)), R, m=len(t) - 1)
        bt = tol.Tolerance(float(bias[i]), "GD vs flow bias")
        outs.append(Outcome.at_most(float(np.mean(e[i])), bound[i], mc + bt,
                                    quantity=f"E e(t) ≤ bound at t = {t[i]:.3g}"))
    xatol = 1e-8 * T0
    opt = minimize_scalar(
        lambda tt: math.exp(-2 * sv[0] ** 2 * tt / n) + eps**2 * r * tt / n,
        bounds=(0.0, 4 * T0), method="bounded", options={"xatol": xatol})
    outs.append(Outcome.close(T0, float(opt.x), tol.Tolerance(
        10 * xatol, "SciPy bounded minimizer: 10·xatol"), quantity="argmin of the bound"))
    return Outcome.all_of(outs)


# ----------------------------------------------- random_features_double_descent
def _double_descent(p: dict[str, Any], xp: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test error of the min-norm random-feature fit for each m in the grid, per seed."""
    n, d, S, n_test = p["n"], p["d"], p["seeds"], 400
    rng = host_rng(p, 0)
    grid = np.array(p["grid"])
    X = rng.standard_normal((S, n, d)) / math.sqrt(d) * math.sqrt(d)
    Xt = rng.standard_normal((S, n_test, d))
    w_star = np.zeros(d)
    w_star[0] = 1.0
    y = np.maximum(X @ w_star, 0) + p["noise"] * rng.standard_normal((S, n))
    yt = np.maximum(Xt @ w_star, 0)
    errs = np.zeros((S, len(grid)))
    Xx, Xtx, yx = _asarray(xp, X), _asarray(xp, Xt), _asarray(xp, y)
    for j, m in enumerate(grid):
        W = _asarray(xp, rng.standard_normal((S, int(m), d)) / math.sqrt(d))
        a = min_norm_fit(relu_features(Xx, W), yx)                  # (S, m)
        pred = (relu_features(Xtx, W) @ a[..., None])[..., 0]       # (S, n_test)
        errs[:, j] = np.mean((to_numpy(pred) - yt) ** 2, axis=-1)
    return grid, errs, np.median(errs, axis=0)


_DD_EXAMPLE = {"n": 40, "d": 10, "seeds": 40, "noise": 0.2,
               "grid": [4, 10, 20, 30, 36, 40, 44, 50, 60, 80, 160, 320, 640], "seed": 0}


@check("linear.random_features_double_descent", example=_DD_EXAMPLE)
def check_double_descent(p: dict[str, Any], xp: Any) -> Outcome:
    """Median test error over seeds: the peak over m lies in [n/2, 2n] and exceeds the error at
    m = 16n and at the smallest m. The one-sided comparisons use a sign test over seeds:
    under "no peak" (error at m = n no larger than elsewhere with probability ≥ 1/2 per seed),
    P(≥ k of S seeds larger) is a binomial tail; require it below α = 1e-6."""
    from scipy.stats import binom  # noqa: PLC0415

    grid, errs, med = _double_descent(p, xp)
    n, S = p["n"], p["seeds"]
    peak = int(grid[int(np.argmax(med))])
    j_n = int(np.argmin(np.abs(grid - n)))
    j_big, j_small = len(grid) - 1, 0
    outs = [Outcome.close(n, peak, tol.Tolerance(n / 2, "peak location: within a factor 2 of n"),
                          quantity="argmax_m median test error")]
    k_needed = int(binom.isf(tol.FALSE_ALARM / 2, S, 0.5)) + 1  # sign test, 2 comparisons
    for j, label in ((j_big, f"m = {grid[j_big]}"), (j_small, f"m = {grid[j_small]}")):
        wins = int(np.sum(errs[:, j_n] > errs[:, j]))
        outs.append(Outcome.at_least(
            wins, k_needed, tol.Tolerance(0.0, f"sign test over {S} seeds at α = 1e-6 (Bonferroni 2)"),
            quantity=f"#seeds with error(m = n) > error({label})"))
    return Outcome.all_of(outs)


# --------------------------------------------------------------------------- figures
@figure("linear.gd_limit")
def figure_gd_limit(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    A_h, s, y_h, x0_h, eta = _gd_limit_problem(p)
    traj = run(LeastSquares(_asarray(xp, A_h), _asarray(xp, y_h), reduction="sum"), GD(eta),
               _asarray(xp, x0_h), 600, record=("x",), record_every=5)
    xs = to_numpy(traj.records["x"])
    pred = x0_h + (np.linalg.pinv(A_h) @ (y_h[:, None] - A_h @ x0_h.T)).T
    rho = _contraction_rate(eta, s**2)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    k = np.array(traj.steps)
    for r in range(xs.shape[1]):
        ax.semilogy(k, _norm(xs[:, r] - pred[r]) + 1e-17, label=f"replica {r}" + (" (x₀ = 0)" if r == 0 else ""))
    e0 = np.max(_norm(x0_h - pred))
    ax.semilogy(k, e0 * rho**k, "k--", label="ρᵏ e₀ (derived rate)")
    ax.set_xlabel("step k")
    ax.set_ylabel("‖x_k − (x₀ + A⁺(y − Ax₀))‖")
    ax.set_title("GD converges to the projection of x₀")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


@figure("linear.generalization_error")
def figure_generalization(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    n = p["n"]
    X_h, sv, Vt = _noisy_design(p)
    beta_star, a_star, b_sq = _random_target(p, Vt)
    K = 1000
    t_end = p["t_top"] * n / sv[0] ** 2
    e, steps, _ = _flow_mc(p, xp, beta_star, X_h, 500, K, t_end, 50)
    t = steps * t_end / K
    tt = np.linspace(0, t_end, 200)
    pred = _expected_error(xp, a_star, b_sq, sv, p["epsilon"], n, tt)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.errorbar(t, e.mean(1), yerr=3 * e.std(1, ddof=1) / math.sqrt(e.shape[1]), fmt="o", ms=3,
                label="GD, Monte Carlo (±3 SE)")
    ax.plot(tt, pred, "k-", label="exact E e(t) (derived)")
    ax.set_xlabel("t")
    ax.set_ylabel("E ‖β(t) − β*‖²")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figure("linear.early_stopping")
def figure_early_stopping(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    n = p["n"]
    X_h, sv, Vt = _noisy_design(p)
    r, eps, T0 = _early_stopping_time(p, sv, xp)
    res = theory.get("linear.early_stopping")
    e, steps, _ = _flow_mc(p, xp, Vt[0], X_h, 500, 2000, 6 * T0, 60)
    t = steps * 6 * T0 / 2000
    bound = to_numpy(res.numeric(xp, part="bound")(sigma_1=sv[0], epsilon=eps, r=float(r),
                                                   n=float(n), t=_asarray(xp, t)))
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.semilogy(t, e.mean(1), "o", ms=3, label="E e(t), GD Monte Carlo")
    ax.semilogy(t, bound, "k-", label=r"bound $e^{-2\sigma_1^2 t/n} + \varepsilon^2 r t/n$")
    ax.axvline(T0, color="r", ls="--", label="T₀")
    ax.set_xlabel("t")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figure("linear.random_features_double_descent")
def figure_double_descent(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    grid, errs, med = _double_descent(p, xp)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    q1, q3 = np.percentile(errs, [25, 75], axis=0)
    ax.fill_between(grid, q1, q3, alpha=0.3, label="interquartile range over seeds")
    ax.loglog(grid, med, "o-", label="median test error")
    ax.axvline(p["n"], color="k", ls="--", label="m = n")
    ax.set_xlabel("number of random features m")
    ax.set_ylabel("test MSE")
    ax.set_title("Double descent of the min-norm random-feature fit")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
