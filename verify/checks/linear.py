"""Checks of the ``linear.*`` results: GD, gradient flow and SGD on least squares.

Layout: problem builders (host NumPy, seeded from the parameter dict), then one check per
result, then the figures. A check runs the dynamics on the replica engine in the namespace
``xp`` and takes every prediction from the Result it is handed: the statement and each part
through ``result.numeric(xp, part=...)``. Nothing of ``theory`` is typed again here; the
problem builders only make matrices, targets and initial points.

Regimes are chosen so that each claimed constant matters: rectangular ``A`` (a transpose
changes the shape), metrics ``H`` that are not symmetric (``H`` against ``Hᵀ``, ``H⁻¹Aᵀ``
against ``AᵀH⁻¹`` are told apart), several initial points (``x_0`` matters), thresholds
tested on both sides at a derived margin, Monte Carlo regimes where every term of an
expectation is many tolerances large.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from numerics import GD, SGD, LeastSquares, relu_features, run, to_numpy
from numerics.linear import Preconditioned
from numerics.random import default_rng
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import (
    host_rng,
    least_squares_params,
    matrix_with_spectrum,
    spd_matrix,
    step_fractions,
    to_xp,
)

EPS = tol.EPS64
ALPHA = tol.FALSE_ALARM


def _norm(v: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=axis))


# ============================================================ evaluating a claim
def _plain(name: str) -> str:
    """A symbol name without decoration, as its sorted words: ``\\hat{\\theta}`` and
    ``theta_hat`` both give ``hat_theta``; ``\\Psi`` gives ``Psi``; ``a^*`` gives ``a``."""
    return "_".join(sorted(re.findall(r"[A-Za-z]+|[0-9]+", name.replace("\\", " "))))


def claim(result: Any, xp: Any, part: str | None = None, *,
          check_conditions: bool = True) -> Callable[..., Any]:
    """The function evaluating a claim of ``result`` on arrays of ``xp``:
    ``result.numeric(xp, part=part)`` (so the runner records the claim as evaluated), called
    with keyword arguments matched to its arguments by name, LaTeX decoration ignored
    (``theta_hat`` for ``\\hat{\\theta}``); unused keywords are dropped, so a check can hand
    over the whole problem. Matrix arguments are arrays whose last two axes are the matrix
    (column vectors ``(..., k, 1)``)."""
    fn = result.numeric(xp, part=part, check_conditions=check_conditions)
    names = getattr(fn, "arguments", ())

    def call(**values: Any) -> Any:
        plain = {_plain(k): v for k, v in values.items()}
        args = {}
        for a in names:
            if a in values:
                args[a] = values[a]
            elif _plain(a) in plain:
                args[a] = plain[_plain(a)]
            else:
                raise TypeError(f"{result.id}[{part or 'statement'}] needs {a!r}; got {sorted(values)}")
        return fn(**args)

    return call


def _col(xp: Any, v: np.ndarray) -> Any:
    """Host vectors ``(..., k)`` as column vectors ``(..., k, 1)`` of ``xp``."""
    return to_xp(xp, np.asarray(v)[..., None])


def _vec(a: Any) -> np.ndarray:
    """A column-vector result ``(..., k, 1)`` of any namespace as host ``(..., k)``."""
    return to_numpy(a)[..., 0]


# ============================================================ problem builders
#: sizes of A away from 1 (λ_max = 1 would hide a lost 1/λ_max)
_scales = st.one_of(st.floats(0.2, 0.7), st.floats(1.5, 4.0)).map(lambda v: round(v, 4))


def _gd_problem(p: dict[str, Any], R: int, scale0: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A (n x d, rectangular, top singular value ``p["scale"]``) with its singular values,
    a target y, R initial points."""
    A, s = matrix_with_spectrum(p, scale=p.get("scale", 1.0))
    rng = host_rng(p, 1)
    y = rng.standard_normal(p["n"])
    x0 = scale0 * rng.standard_normal((R, p["d"]))
    return A, s, y, x0


def _eig(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of AᵀA on the host."""
    lam, V = np.linalg.eigh(A.T @ A)
    return lam[::-1], V[:, ::-1]


def _nonsymmetric_metric(rng: np.random.Generator, d: int, cond: float, skew: float
                         ) -> np.ndarray:
    """H = S + K: S symmetric positive definite with eigenvalues in [1, cond], K skew with
    spectral norm ``skew``. xᵀHx = xᵀSx > 0, so H and H⁻¹ have positive definite symmetric
    parts and AH⁻¹Aᵀ has its spectrum in the right half plane; H ≠ Hᵀ."""
    S = spd_matrix(rng, d, cond)
    G = rng.standard_normal((d, d))
    K = G - G.T
    return S + skew * K / np.linalg.norm(K, 2)


def _stable_step(A: np.ndarray, H: np.ndarray, frac: float) -> float:
    """γ = frac · min_μ 2Re μ/|μ|² over the eigenvalues μ of AH⁻¹Aᵀ: |1 − γμ| < 1 for all."""
    mu = np.linalg.eigvals(A @ np.linalg.solve(H, A.T))
    return frac * float(np.min(2 * mu.real / np.abs(mu) ** 2))


def _subspace_bound(A: np.ndarray, H: np.ndarray) -> float:
    """1/σ_min(A Q), Q an orthonormal basis of H⁻¹R(Aᵀ): a vector e in that subspace has
    ‖e‖ ≤ ‖Ae‖/σ_min(AQ). (The geometry of the iteration's invariant, not its limit.)"""
    Q, _ = np.linalg.qr(np.linalg.solve(H, A.T))
    return 1.0 / float(np.linalg.svd(A @ Q, compute_uv=False).min())


# ============================================================ checks
# ------------------------------------------------------------------ gd_iterate
@st.composite
def _gd_iterate_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=100.0, full_rank=False))
    p["eta_frac"] = draw(step_fractions(0.05, 0.99))
    p["k"] = draw(st.integers(1, 300))
    p["scale"] = draw(_scales)
    return p


@check("linear.gd_iterate", strategy=_gd_iterate_params(), examples=8,
       example={"n": 4, "d": 9, "rank": 4, "cond": 5.0, "eta_frac": 0.5, "k": 40, "scale": 1.7,
                "seed": 1})
def check_gd_iterate(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """x_k of GD vs the closed form mode by mode (statement), and the difference of two
    trajectories vs the mode factor (1 − ηλ_j)^k times their initial difference."""
    A, s, y, x0 = _gd_problem(p, R=3)
    eta = p["eta_frac"] * 2.0 / s[0] ** 2
    k = p["k"]
    traj = run(LeastSquares(to_xp(xp, A), to_xp(xp, y), reduction="sum"), GD(eta),
               to_xp(xp, x0), k, record=())
    x_k = to_numpy(traj.x)
    lam, V = _eig(A)
    null = lam <= 100 * p["d"] * EPS * lam[0]   # null-space modes keep c_0 (see notes)
    lam_safe = np.where(null, 1.0, lam)
    c0, g = x0 @ V, (A.T @ y) @ V
    ck = to_numpy(claim(result, xp)(c_0=to_xp(xp, c0), g_j=to_xp(xp, g), eta=eta,
                                    lambda_j=to_xp(xp, lam_safe), k=float(k)))
    ck = np.where(null, c0, ck)
    factor = to_numpy(claim(result, xp, "mode_factor")(eta=eta, lambda_j=to_xp(xp, lam_safe),
                                                        k=float(k)))
    factor = np.where(null, 1.0, factor)
    # Rounding: k steps and the eigendecomposition, each ~(n + d) operations on numbers
    # of size ‖x_0‖ + kη‖Aᵀy‖ (the GD map is non-expansive for η ≤ 2/λ_max).
    scale = float(np.max(_norm(x0))) + k * eta * float(np.linalg.norm(A.T @ y))
    t = tol.floating_point(scale, ops=(k + p["d"]) * (p["n"] + p["d"]))
    dx_obs = (x_k[1:] - x_k[0]) @ V
    dx_pred = factor * ((x0[1:] - x0[0]) @ V)
    return Outcome.all_of([
        Outcome.close(0.0, float(np.max(_norm(x_k - ck @ V.T))), t,
                      quantity="max_r ‖x_k − Σ_j c_{j,k} v_j‖ (statement)", k=k, eta=eta),
        Outcome.close(0.0, float(np.max(_norm(dx_obs - dx_pred))), t + t,
                      quantity="‖Vᵀ(x_k − x'_k) − (1 − ηλ)^k ⊙ Vᵀ(x_0 − x'_0)‖ (mode_factor)"),
    ])


# ------------------------------------------------------------------ gd_limit
@st.composite
def _gd_limit_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=5.0))
    p["eta_frac"] = draw(step_fractions(0.3, 0.9))
    p["scale"] = draw(_scales)
    return p


def _threshold(region: Callable[[float], bool], hi: float) -> float:
    """sup{η ∈ (0, hi) : region(η)} by bisection on the claimed boolean (an interval (0, c))."""
    lo = 0.0
    if region(hi):
        return hi
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if region(mid) else (lo, mid)
    return lo


#: margin of the two-sided threshold test: η = c(1 ∓ δ) around the claimed threshold c.
_DELTA = 0.01


@check("linear.gd_limit", strategy=_gd_limit_params(), examples=5,
       example={"n": 5, "d": 12, "rank": 5, "cond": 4.0, "eta_frac": 0.6, "scale": 0.6, "seed": 2})
def check_gd_limit(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """(i) GD after K steps from four x_0 vs x_0 + A⁺(y − Ax_0) (statement), the range
    coordinates vs g_j/λ_j (mode_limit); (ii) the claimed stable region η < c on both sides:
    at η = c(1 − δ) GD contracts, at η = c(1 + δ) it grows.

    Margin: with the top mode's factor |1 − ηλ_max|, the true threshold 2/λ_max gives
    1 − 2δ below and 1 + 2δ above; over K_s steps the error shrinks below (1 − 2δ)^{K_s} and
    grows beyond (1 + 2δ)^{K_s}·|v_1ᵀe_0|/‖e_0‖. A claimed c off by more than δ·c puts one of
    the two runs on the wrong side (growth or decay by e^{±2δK_s} instead).
    """
    A, s, y, x0 = _gd_problem(p, R=4, scale0=3.0)
    x0[0] = 0.0
    lam, V = _eig(A)
    r = p["n"]
    eta = p["eta_frac"] * 2.0 / lam[0]
    rho = float(np.max(np.abs(1 - eta * lam[:r])))
    K = int(math.ceil(math.log(1e-18) / math.log(rho)))
    model = LeastSquares(to_xp(xp, A), to_xp(xp, y), reduction="sum")
    traj = run(model, GD(eta), to_xp(xp, x0), K, record=())
    if traj.n_diverged:
        return Outcome.failure(f"GD diverged at eta = {eta:.3g} < 2/lambda_max")
    x_K = to_numpy(traj.x)
    x_inf = _vec(claim(result, xp)(A=to_xp(xp, A), x_0=_col(xp, x0), y=_col(xp, y)))
    e0 = float(np.max(_norm(x0 - x_inf)))
    t = tol.contraction(rho, K, e0) + tol.floating_point(
        float(np.max(_norm(x_inf))) + e0, ops=K * (p["n"] + p["d"]), cond=p["cond"] ** 2)
    g = (A.T @ y) @ V[:, :r]
    mode = to_numpy(claim(result, xp, "mode_limit")(g_j=to_xp(xp, g), eta=eta,
                                                     lambda_j=to_xp(xp, lam[:r])))
    outs = [
        Outcome.close(0.0, float(np.max(_norm(x_K - x_inf))), t,
                      quantity="max_r ‖x_K − (x_0 + A⁺(y − Ax_0))‖ (statement)", K=K, rho=rho),
        Outcome.close(0.0, float(np.max(_norm(x_K @ V[:, :r] - mode))), t,
                      quantity="max_r ‖V_rᵀx_K − g/λ‖ (mode_limit)"),
    ]
    # (ii) both sides of the claimed stable region.
    region = claim(result, xp, "stable_region")
    inside = lambda e: bool(to_numpy(region(eta=e, lambda_max=float(lam[0]))))  # noqa: E731
    c = _threshold(inside, hi=100.0 / lam[0])
    Ks = int(math.ceil(20.0 / (2 * _DELTA)))   # e^{±20}: far outside any tolerance
    x1 = x0[1:2]
    e_start = float(_norm(x1 - x_inf[1])[0])
    ratios = []
    for e in (c * (1 - _DELTA), c * (1 + _DELTA)):
        tr = run(model, GD(e), to_xp(xp, x1), Ks, record=(), bound=1e12 * (1 + e_start))
        # a diverged run (non-finite or beyond the bound) has grown by at least the bound
        err = 1e12 * (1 + e_start) if tr.n_diverged else float(_norm(to_numpy(tr.x) - x_inf[1])[0])
        ratios.append(err / e_start)
    outs += [
        Outcome.at_most(ratios[0], 1.0, tol.Tolerance(0.0, "decay: the error must shrink"),
                        quantity=f"‖e_K‖/‖e_0‖ at η = c(1 − δ), c = {c:.6g} (stable_region)",
                        K=Ks, delta=_DELTA),
        Outcome.at_least(ratios[1], 1.0, tol.Tolerance(0.0, "growth: the error must grow"),
                         quantity="‖e_K‖/‖e_0‖ at η = c(1 + δ) (stable_region)"),
    ]
    return Outcome.all_of(outs)


# ------------------------------------------------------------------ gradient_flow
@st.composite
def _flow_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=4.0, max_n=8, max_extra_d=12))
    p["t_top"] = draw(st.floats(0.2, 8.0))  # t·σ_1²/n: how far the top mode relaxes
    return p


@check("linear.gradient_flow", strategy=_flow_params(), examples=6,
       example={"n": 4, "d": 10, "rank": 4, "cond": 3.0, "t_top": 3.0, "seed": 3})
def check_gradient_flow(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """GD with a small step h on (1/2n)‖Xβ − y‖² vs the dsolve closed form at t = Kh
    (statement), and per mode the exact identities of the discrete flow: the ratio of two
    trajectories' differences is q̃ = (1 − hσ²/n)^K, giving the rate −log q̃/t (rate), and
    (a_K − q̃a_0)/(1 − q̃) is the fixed point (limit).

    Discretization: with x = hσ²/n, |e^{−Kx} − (1 − x)^K| ≤ K(x²/2)e^{−(K−1)x} (statement)
    and 0 ≤ −log(1 − x) − x ≤ x²/(2(1 − x)) (rate, times K/t).
    """
    n = p["n"]
    X, s = matrix_with_spectrum(p, scale=math.sqrt(n))
    rng = host_rng(p, 1)
    y = rng.standard_normal(n)
    b0 = rng.standard_normal((3, p["d"]))
    K = 2000
    t_end = p["t_top"] * n / s[0] ** 2
    h = t_end / K
    traj = run(LeastSquares(to_xp(xp, X), to_xp(xp, y), reduction="mean"), GD(h),
               to_xp(xp, b0), K, record=())
    beta = to_numpy(traj.x)
    U, sv, Vt = np.linalg.svd(X, full_matrices=True)
    V, Vperp = Vt[:n].T, Vt[n:].T
    z = U.T @ y
    a0, a_obs = b0 @ V, beta @ V
    a_pred = to_numpy(claim(result, xp)(a_0=to_xp(xp, a0), z_j=to_xp(xp, z),
                                        sigma_j=to_xp(xp, sv), n=float(n), t=t_end))
    err = max(float(np.max(_norm(a_obs - a_pred))),
              float(np.max(_norm(beta @ Vperp - b0 @ Vperp))))
    x = h * sv**2 / n
    disc = K * x**2 / 2 * np.exp(-(K - 1) * x) * np.abs(a0 - z / sv)
    scale = float(np.max(_norm(b0))) + float(np.linalg.norm(z / sv))
    fp = tol.floating_point(scale, ops=K * (n + p["d"]))
    t_stmt = tol.Tolerance(float(np.max(_norm(disc))),
                           "discretization: K(x²/2)e^{−(K−1)x}|a_j(0) − z_j/σ_j|, x = hσ_j²/n") + fp
    # Exact identities of the discrete flow per mode.
    q = (a_obs[1] - a_obs[0]) / (a0[1] - a0[0])
    rate_obs = -np.log(q) / t_end
    rate = to_numpy(claim(result, xp, "rate")(sigma_j=to_xp(xp, sv), n=float(n)))
    x_obs = 1 - q ** (1 / K)
    t_rate = tol.Tolerance(float(np.max(K / t_end * x_obs**2 / (2 * (1 - x_obs)))),
                           "discretization: (K/t)·x²/(2(1 − x))") + tol.Tolerance(
        float(np.max(fp.value / np.abs(a_obs[1] - a_obs[0]) / t_end)), "rounding of log q̃ / t")
    lim_obs = (a_obs - q * a0) / (1 - q)
    lim = to_numpy(claim(result, xp, "limit")(z_j=to_xp(xp, z), sigma_j=to_xp(xp, sv)))
    t_lim = tol.Tolerance(float(np.max(3 * fp.value / (1 - q))), "rounding / (1 − q̃)")
    return Outcome.all_of([
        Outcome.close(0.0, err, t_stmt, quantity="max_r ‖β_K − β(Kh)‖ in SVD coordinates",
                      h=h, K=K, t=t_end),
        Outcome.close(0.0, float(np.max(np.abs(rate_obs - rate))), t_rate,
                      quantity="max_j |−log q̃_j/t − σ_j²/n| (rate)"),
        Outcome.close(0.0, float(np.max(np.abs(lim_obs - lim))), t_lim,
                      quantity="max_j |fixed point of mode j − z_j/σ_j| (limit)"),
    ])


# ------------------------------------------------------------------ scaled_gd_limit
@st.composite
def _scaled_gd_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=4.0, max_n=6, max_extra_d=8))
    p["h_cond"] = draw(st.floats(2.0, 10.0))
    p["skew"] = draw(st.floats(0.3, 1.0))
    p["eta_frac"] = draw(step_fractions(0.3, 0.9))
    return p


def _scaled_problem(p: dict[str, Any], consistent: bool
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    A, _ = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    b = A @ rng.standard_normal(p["d"]) if consistent else rng.standard_normal(p["n"])
    H = _nonsymmetric_metric(rng, p["d"], p["h_cond"], p["skew"])
    x0 = np.vstack([np.zeros(p["d"]), 2.0 * rng.standard_normal((3, p["d"]))])
    return A, b, H, x0


def _projection_outcome(result: Any, xp: Any, A: np.ndarray, b: np.ndarray, H: np.ndarray,
                        x0: np.ndarray, x_K: np.ndarray, ops: int) -> Outcome:
    """x_K vs the claimed limit; tolerance from the invariant x_K − x_0 ∈ H⁻¹R(Aᵀ): the
    error e = x_K − x̂ lies there when the claim is right, so ‖e‖ ≤ ‖Ax_K − b‖/σ_min(AQ)."""
    x_hat = _vec(claim(result, xp)(A=to_xp(xp, A), H=to_xp(xp, H), x_0=_col(xp, x0),
                                   b=_col(xp, b)))
    res = _norm(x_K @ A.T - b)
    if float(res.max()) > 1e-6 * float(np.linalg.norm(b)):
        return Outcome.failure(f"the iteration did not converge: residual {float(res.max()):.3g}")
    kappa = float(np.linalg.cond(H)) * float(np.linalg.cond(A)) ** 2
    t = tol.Tolerance(float(res.max()) * _subspace_bound(A, H),
                      "residual: ‖Ax_K − b‖/σ_min(A restricted to H⁻¹R(Aᵀ))") + tol.floating_point(
        float(np.max(_norm(x_hat))) + float(np.max(_norm(x0))), ops=ops, cond=kappa)
    return Outcome.close(0.0, float(np.max(_norm(x_K - x_hat))), t,
                         quantity="max_r ‖x_K − (x_0 + H⁻¹Aᵀ(AH⁻¹Aᵀ)⁻¹(b − Ax_0))‖",
                         residual=float(res.max()), H_asymmetry=float(np.linalg.norm(H - H.T)))


@check("linear.scaled_gd_limit", strategy=_scaled_gd_params(), examples=5,
       example={"n": 3, "d": 7, "rank": 3, "cond": 2.0, "h_cond": 5.0, "skew": 0.7,
                "eta_frac": 0.6, "seed": 4})
def check_scaled_gd_limit(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Scaled GD x ← x − γH⁻¹Aᵀ(Ax − b) with a non-symmetric metric H (so H, Hᵀ, H⁻¹ and
    the order of the factors are told apart) from four x_0, run until the residual is at
    rounding level, vs the claimed limit."""
    A, b, H, x0 = _scaled_problem(p, consistent=False)
    gamma = _stable_step(A, H, p["eta_frac"])
    model = Preconditioned(LeastSquares(to_xp(xp, A), to_xp(xp, b), reduction="sum"),
                           to_xp(xp, H))
    mu = np.linalg.eigvals(A @ np.linalg.solve(H, A.T))
    rho = float(np.max(np.abs(1 - gamma * mu)))
    K = min(20000, int(math.ceil(math.log(1e-20) / math.log(rho))))
    traj = run(model, GD(gamma), to_xp(xp, x0), K, record=())
    return _projection_outcome(result, xp, A, b, H, x0, to_numpy(traj.x), K * (p["n"] + p["d"]))


# ------------------------------------------------------------------ sgd_limit
@st.composite
def _sgd_limit_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=3.0, max_n=5, max_extra_d=6))
    p["h_cond"] = draw(st.floats(1.5, 4.0))
    p["skew"] = draw(st.floats(0.2, 0.5))
    p["replace"] = draw(st.booleans())
    p["step_frac"] = draw(step_fractions(0.5, 1.0))
    return p


@check("linear.sgd_limit", strategy=_sgd_limit_params(), examples=4,
       example={"n": 4, "d": 8, "rank": 4, "cond": 2.0, "h_cond": 3.0, "skew": 0.4,
                "replace": False, "step_frac": 0.8, "seed": 5})
def check_sgd_limit(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Single-sample scaled SGD on a consistent system (steps γ·n·a_iᵀH⁻¹a_i ≤ 1, with or
    without replacement, non-symmetric H) vs the claimed limit; the tolerance uses only the
    invariant x_k − x_0 ∈ H⁻¹R(Aᵀ) of the iteration (see :func:`_projection_outcome`)."""
    A, b, H, x0 = _scaled_problem(p, consistent=True)
    n = p["n"]
    row = np.einsum("id,id->i", A, np.linalg.solve(H, A.T).T)
    eta = p["step_frac"] / (n * row.max())
    model = Preconditioned(LeastSquares(to_xp(xp, A), to_xp(xp, b), reduction="sum"),
                           to_xp(xp, H))
    rule = SGD(eta, batch=1, replace=p["replace"])
    gen = default_rng(p["seed"], xp=xp)
    x, K = to_xp(xp, x0), 0
    while K < 4000:  # in blocks until the residual is at rounding level (one random stream)
        x = run(model, rule, x, 250, record=(), rng=gen).x
        K += 250
        res = np.max(_norm(to_numpy(x) @ A.T - b))
        if res <= 1e-12 * float(np.linalg.norm(b)):
            break
    return _projection_outcome(result, xp, A, b, H, x0, to_numpy(x), K * p["d"])


# ------------------------------------------------------------------ convex_norm_bound
@st.composite
def _convex_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=10.0, full_rank=False))
    p["eta_frac"] = draw(step_fractions(0.05, 0.99))
    p["init_scale"] = draw(st.floats(0.0, 10.0))
    p["scale"] = draw(_scales)
    return p


#: the tight instance: θ̄ = v_1, θ_0 = −c v_1, η = 2(1 − δ)/λ_max: one GD step gives
#: θ_1 = (2 + c − 2δ(1 + c))v_1, so ‖θ_1 − θ̄‖ = (1 − 2δ)‖θ_0 − θ̄‖ and
#: ‖θ_1‖ = ‖θ_0‖ + 2‖θ̄‖ − 2δ(1 + c): both bounds attained to within 2δ(1 + c)/(2 + c) < 2δ;
#: inflating either left-hand side by 1 + 4δ crosses the bound. c = ½ ≠ 1 tells ‖θ_0‖ from ‖θ̄‖.
_TIGHT = 0.01
_TIGHT_C = 0.5


@check("linear.convex_norm_bound", strategy=_convex_params(), examples=6,
       example={"n": 5, "d": 10, "rank": 3, "cond": 5.0, "eta_frac": 0.9, "init_scale": 2.0,
                "scale": 2.5, "seed": 6})
def check_convex_norm_bound(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """(i) On GD for a convex (rank-deficient, inconsistent) least squares, the claimed
    relation holds at every step (evaluated on the left-hand sides less their rounding);
    (ii) both sides: on the instance where the bounds are attained to within 2δ (θ_0 = −v_1/2,
    y = σ_1u_1, η = 2(1 − δ)/λ_max, first step), each left-hand side inflated by 1 + 4δ
    violates the claim — the constants cannot be loosened."""
    A, s, y, _ = _gd_problem(p, R=1)
    x0 = p["init_scale"] * host_rng(p, 2).standard_normal((4, p["d"]))
    eta = p["eta_frac"] * 2.0 / s[0] ** 2
    K = 400
    traj = run(LeastSquares(to_xp(xp, A), to_xp(xp, y), reduction="sum"), GD(eta),
               to_xp(xp, x0), K, record=("x",))
    xs = to_numpy(traj.records["x"])                        # (T, R, d)
    theta_bar = np.linalg.lstsq(A, y, rcond=None)[0]        # the min-norm minimizer (set-up)
    dist, norms = _norm(xs - theta_bar), _norm(xs)
    nb = float(np.linalg.norm(theta_bar))
    fp = tol.floating_point(float(np.max(norms)) + nb, ops=K * (p["n"] + p["d"])).value
    # the distances less their rounding slack fp can dip below 0 (dist_t >= 0 is assumed)
    holds = claim(result, xp, check_conditions=False)
    ok = to_numpy(holds(dist_t=to_xp(xp, dist - fp), dist_0=to_xp(xp, dist[0]),
                        norm_t=to_xp(xp, norms - fp), norm_0=to_xp(xp, norms[0]), norm_bar=nb))
    # (ii) the tight instance.
    U, sv, Vt = np.linalg.svd(A)
    At, yt = A, sv[0] * U[:, 0]
    eta_t = 2 * (1 - _TIGHT) / sv[0] ** 2
    tb = Vt[0]
    th0 = -_TIGHT_C * tb
    tr = run(LeastSquares(to_xp(xp, At), to_xp(xp, yt), reduction="sum"), GD(eta_t),
             to_xp(xp, th0[None, :]), 1, record=())
    th1 = to_numpy(tr.x)[0]
    d1, d0 = float(np.linalg.norm(th1 - tb)), float(np.linalg.norm(th0 - tb))
    n1, n0, nbt = float(np.linalg.norm(th1)), float(np.linalg.norm(th0)), 1.0
    f = 1 + 4 * _TIGHT
    inflated = [bool(to_numpy(holds(dist_t=f * d1, dist_0=d0, norm_t=n1, norm_0=n0, norm_bar=nbt))),
                bool(to_numpy(holds(dist_t=d1, dist_0=d0, norm_t=f * n1, norm_0=n0, norm_bar=nbt)))]
    attained = bool(to_numpy(holds(dist_t=d1, dist_0=d0, norm_t=n1, norm_0=n0, norm_bar=nbt)))
    zero = tol.Tolerance(0.0, "a boolean: exact")
    return Outcome.all_of([
        Outcome.at_least(float(np.mean(ok)), 1.0, zero,
                         quantity="fraction of (t, r) where the claim holds on GD"),
        Outcome.at_least(float(attained), 1.0, zero, quantity="claim holds on the tight instance"),
        Outcome.at_most(float(inflated[0]), 0.0, zero,
                        quantity=f"claim holds with ‖θ_t − θ̄‖ × {f:g} (must not)"),
        Outcome.at_most(float(inflated[1]), 0.0, zero,
                        quantity=f"claim holds with ‖θ_t‖ × {f:g} (must not)"),
    ])


# ------------------------------------------------------------------ generalization_error
@st.composite
def _generalization_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(min_n=4, max_cond=2.0, max_n=8, max_extra_d=8))
    p["rank"] = draw(st.integers(max(2, p["n"] - 3), p["n"]))  # r = rank X ≠ n matters
    p["epsilon"] = draw(st.floats(0.5, 1.5))
    return p


def _noisy_design(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (n x d, singular values √n · geometric), its singular values and full Vᵀ."""
    X, _ = matrix_with_spectrum(p, scale=math.sqrt(p["n"]))
    _, sv, Vt = np.linalg.svd(X, full_matrices=True)
    r = p.get("rank", p["n"])
    return X, sv[:r], Vt


def _random_target(p: dict[str, Any], Vt: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """A unit β* and its SVD coordinates a* = V_rᵀβ* (range) and ‖b*‖² (null space)."""
    beta = host_rng(p, 1).standard_normal(p["d"])
    beta /= np.linalg.norm(beta)
    r = p.get("rank", p["n"])
    b_star = Vt[r:] @ beta
    return beta, Vt[:r] @ beta, float(b_star @ b_star)


def _noise(p: dict[str, Any], R: int, exact: bool) -> np.ndarray:
    """R noise vectors ξ of length n: i.i.d. N(0, ε²I) draws, or (``exact``) the same draws
    centred and whitened so that their sample mean is 0 and their sample second moment
    (1/R)Σξξᵀ is exactly ε²I — the first two moments of N(0, ε²I)."""
    W = host_rng(p, 2).standard_normal((R, p["n"]))
    if exact:
        W = W - W.mean(axis=0)
        w, Q = np.linalg.eigh(W.T @ W / R)
        W = W @ (Q / np.sqrt(w)) @ Q.T
    return p["epsilon"] * W


def _flow_mc(p: dict[str, Any], xp: Any, beta: np.ndarray, X: np.ndarray, R: int, K: int,
             h: float, points: int, *, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """e(t) = ‖β(t) − β*‖² for y = Xβ* + ξ over R noise vectors (:func:`_noise`), GD from
    zero with step h, recorded every K/points steps. Returns (e (T, R), times (T,)).

    GD from zero is linear in y, so e(t) is a quadratic polynomial in ξ and its mean over
    an ``exact`` design equals its expectation under N(0, ε²I) (up to rounding): no
    Monte Carlo error, whatever R ≥ n."""
    Y = X @ beta + _noise(p, R, exact)
    model = LeastSquares(to_xp(xp, X), to_xp(xp, Y), reduction="mean")
    bs = to_xp(xp, beta)

    def err(model: Any, x: Any) -> Any:
        dlt = x - bs
        return xp.sum(dlt * dlt, axis=-1)

    traj = run(model, GD(h), xp.zeros((R, p["d"]), dtype=xp.float64), K,
               record={"e": err}, record_every=max(1, K // points))
    return to_numpy(traj.records["e"]), np.array(traj.steps) * h


def _gd_bias(a_star: np.ndarray, sv: np.ndarray, eps: float, n: int, h: float,
             t: np.ndarray) -> np.ndarray:
    """|E e_GD(t) − E e_flow(t)| ≤ Σ_j 2|q − q̃|(a*_j² + ε²/σ_j²) at t = kh, with
    |e^{−kx} − (1 − x)^k| ≤ k(x²/2)e^{−(k−1)x}, x = hσ_j²/n (both q, q̃ in [0, 1])."""
    x = h * sv**2 / n
    kk = np.round(t / h)[:, None]
    dq = kk * x**2 / 2 * np.exp(-np.maximum(kk - 1, 0) * x)
    return np.sum(2 * dq * (a_star**2 + eps**2 / sv**2), axis=-1)


#: fractions of the top-mode relaxation time n/σ_1² at which E e(t) is compared: early
#: (the signal term a*²e^{−2σ²t/n} dominates) to late (the noise term ε²Σ(1 − q)²/σ² does).
_GEN_TIMES = (0.25, 1.0, 3.0, 8.0)


@check("linear.generalization_error", strategy=_generalization_params(), examples=2,
       example={"n": 6, "d": 10, "rank": 4, "cond": 1.5, "epsilon": 1.0, "seed": 7})
def check_generalization_error(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Mean of e(t) over noise vectors with the exact first two moments of N(0, ε²I) (so the
    mean of the quadratic e(t) is its expectation: see :func:`_flow_mc`) vs the claimed
    expectation at four times (statement; and ‖b*‖² + Σ_j mode_j from part mode), and at
    GD's fixed point vs ‖b*‖² + Σ_j mode_limit (GD's limit is the flow's: exact).
    Tolerance: the GD-vs-flow bias (:func:`_gd_bias`) and rounding, so every term — ‖b*‖²,
    the signal a*²e^{−2σ²t/n}, the noise ε²(1 − e^{−σ²t/n})²/σ² — is many tolerances.

    And one genuine Monte Carlo comparison, Gaussian ξ, at the latest time: Student-t
    interval (df = R − 1) at false alarm 1e-6 — the claim is about Gaussian noise."""
    n, eps = p["n"], p["epsilon"]
    X, sv, Vt = _noisy_design(p)
    beta, a_star, b_sq = _random_target(p, Vt)
    r = len(sv)
    tau = n / sv[0] ** 2
    h = 0.02 * tau
    K = int(round(_GEN_TIMES[-1] / 0.02))
    want = np.round(np.array(_GEN_TIMES) * tau / h).astype(int)
    e, times = _flow_mc(p, xp, beta, X, 4 * n, K, h, points=K, exact=True)
    e, times = e[want], times[want]
    # the limit: GD with step n/σ_1² contracts every mode by ≤ 1 − (σ_min/σ_1)² per step
    K_inf = int(math.ceil(math.log(1e-16) / math.log(1 - (sv[-1] / sv[0]) ** 2)))
    e_inf, _ = _flow_mc(p, xp, beta, X, 4 * n, K_inf, tau, points=1, exact=True)
    # the statement takes the families a*_j, σ_j along the last axis (j = 1..r); the mode
    # part is one mode, broadcast here over (time, mode)
    stmt = np.ravel(to_numpy(claim(result, xp)(
        a_star=to_xp(xp, a_star), sigma=to_xp(xp, sv), epsilon=eps, n=float(n),
        t=to_xp(xp, times), b_star_sq=b_sq, r=float(r))))
    modes = b_sq + np.sum(to_numpy(claim(result, xp, "mode")(
        a_star=to_xp(xp, a_star)[None, :], sigma_j=to_xp(xp, sv)[None, :], epsilon=eps,
        n=float(n), t=to_xp(xp, times)[:, None])), axis=-1)
    lim = b_sq + float(np.sum(to_numpy(claim(result, xp, "mode_limit")(
        sigma_j=to_xp(xp, sv), epsilon=eps))))
    bias = _gd_bias(a_star, sv, eps, n, h, times)
    scale = 1.0 + eps**2 * float(np.sum(1 / sv**2)) * 4 * n
    outs = []
    for i, ti in enumerate(times):
        t = tol.Tolerance(float(bias[i]), "GD vs flow: Σ_j 2|q − q̃|(a*_j² + ε²/σ_j²)") + \
            tol.floating_point(scale, ops=want[i] * (n + p["d"]))
        obs = float(np.mean(e[i]))
        noise = eps**2 * float(np.sum((1 - np.exp(-sv**2 * ti / n)) ** 2 / sv**2))
        outs.append(Outcome.close(stmt[i], obs, t, quantity=f"E e(t) at t = {ti:.3g} (statement)",
                                  noise_term_in_tolerances=noise / t.value,
                                  b_sq_in_tolerances=b_sq / t.value))
        outs.append(Outcome.close(float(modes[i]), obs, t,
                                  quantity=f"‖b*‖² + Σ_j mode_j at t = {ti:.3g} (mode)"))
    outs.append(Outcome.close(lim, float(np.mean(e_inf[-1])), tol.floating_point(
        scale, ops=K_inf * (n + p["d"])), quantity="E e(∞) = ‖b*‖² + Σ_j ε²/σ_j² (mode_limit)"))
    # Gaussian noise, Student-t.
    R = 500
    eg, tg = _flow_mc(p, xp, beta, X, R, K, h, points=1)
    mc = tol.monte_carlo(float(np.std(eg[-1], ddof=1)), R) + tol.Tolerance(
        float(_gd_bias(a_star, sv, eps, n, h, tg[-1:])[0]), "GD vs flow bias")
    outs.append(Outcome.close(float(stmt[-1]), float(np.mean(eg[-1])), mc,
                              quantity=f"Gaussian ξ: mean of e(t) at t = {tg[-1]:.3g} (statement)"))
    return Outcome.all_of(outs)


# ------------------------------------------------------------------ early_stopping
@st.composite
def _early_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(min_n=3, max_cond=30.0, max_n=8, max_extra_d=8))
    p["rank"] = draw(st.integers(max(1, p["n"] - 3), p["n"]))  # r = rank X ≠ n matters
    p["epsilon"] = draw(st.floats(0.02, 0.3))
    return p


#: relative margin of the two-sided minimum test of T_0 and of the tightness at t = 0.
_T0_DELTA = 0.01


@check("linear.early_stopping", strategy=_early_params(), examples=3,
       example={"n": 6, "d": 10, "rank": 4, "cond": 20.0, "epsilon": 0.1, "seed": 8})
def check_early_stopping(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """β* = v_1. (i) The claim E e(t) ≤ bound holds at t ∈ (0, 2T_0] on E e(t) less the
    GD-vs-flow bias (statement) and against part bound, E e(t) from a noise design with the
    exact first two moments of N(0, ε²I) (no Monte Carlo error: :func:`_flow_mc`); (ii) the bound
    is attained at t = 0 (e(0) = 1 = bound(0), exact): E e(0)·(1 + δ) violates the claim;
    (iii) T_0 is a strict local minimum of the bound — bound(T_0(1 ± δ)) > bound(T_0) — and
    bound_at_T_0 equals bound(T_0)."""
    n, eps = p["n"], p["epsilon"]
    X, sv, Vt = _noisy_design(p)
    r = len(sv)
    beta = Vt[0]
    vals = dict(sigma_1=float(sv[0]), epsilon=eps, r=float(r), n=float(n))
    T0 = float(to_numpy(claim(result, xp, "T_0")(**vals)))
    bound_fn = claim(result, xp, "bound")
    bound = lambda t: to_numpy(bound_fn(t=to_xp(xp, t), **vals))  # noqa: E731
    outs = []
    if not (math.isfinite(T0) and T0 > 0):
        return Outcome.failure(f"T_0 = {T0} is not a positive time")
    # (iii) the minimum, both sides, and its value.
    b3 = bound(np.array([T0 * (1 - _T0_DELTA), T0, T0 * (1 + _T0_DELTA)]))
    fp_b = tol.floating_point(float(b3[1]), ops=20)
    outs.append(Outcome.at_least(float(min(b3[0], b3[2]) - b3[1]), 0.0, tol.Tolerance(
        -fp_b.value, "strictly above, beyond rounding"), quantity="min bound(T_0(1 ± δ)) − bound(T_0) (T_0)"))
    at = float(to_numpy(claim(result, xp, "bound_at_T_0")(**vals)))
    outs.append(Outcome.close(float(b3[1]), at, fp_b, quantity="bound_at_T_0 vs bound(T_0)"))
    # (i) the expectation, from a noise design with the exact moments of N(0, ε²I).
    K, points = 1000, 8
    t_end = 2 * T0
    h = t_end / K
    e, t = _flow_mc(p, xp, beta, X, 4 * n, K, h, points, exact=True)
    a_star = Vt[:r] @ beta
    bias = _gd_bias(a_star, sv, eps, n, h, t) + tol.floating_point(
        1.0 + eps**2 * float(np.sum(1 / sv**2)) * 4 * n, ops=K * (n + p["d"])).value
    # evaluated at E e(t) less the GD-vs-flow bias, which can dip below 0 (E_e_t >= 0 is assumed)
    holds = claim(result, xp, check_conditions=False)
    mean = np.mean(e, axis=1)
    for i in range(1, len(t)):
        outs.append(Outcome.at_most(float(mean[i]), float(bound(np.array([t[i]]))[0]),
                                    tol.Tolerance(float(bias[i]), "GD vs flow bias + rounding"),
                                    quantity=f"E e(t) ≤ bound at t = {t[i]:.3g} (bound)"))
    ok = to_numpy(holds(E_e_t=to_xp(xp, mean[1:] - bias[1:]), t=to_xp(xp, t[1:]), **vals))
    outs.append(Outcome.at_least(float(np.mean(ok)), 1.0, tol.Tolerance(0.0, "a boolean"),
                                 quantity="claim holds at E e(t) − bias (statement)"))
    # (ii) tight at t = 0: e(0) = ‖β*‖² = 1 exactly (GD from zero).
    e0 = float(np.mean(e[0]))
    fp0 = tol.floating_point(e0, ops=p["d"]).value
    tight = bool(to_numpy(holds(E_e_t=e0 - fp0, t=0.0, **vals)))
    over = bool(to_numpy(holds(E_e_t=e0 * (1 + _T0_DELTA), t=0.0, **vals)))
    outs.append(Outcome.at_least(float(tight) - float(over), 1.0, tol.Tolerance(0.0, "booleans"),
                                 quantity="claim holds at e(0) and fails at e(0)(1 + δ) (statement)",
                                 T_0=T0))
    # (iv) the signal term is attained: without noise e(t) = e^{−2σ_1²t/n} for the flow, so at
    # a noise level ε₀ whose linear term ε₀²rt/n is ≤ δ/10 of e(t), the claim must hold at
    # e_GD(t) − bias and fail at (e_GD(t) + bias)(1 + 5δ): the exponent is pinned to ~δ.
    e_nf, t_nf = _flow_mc({**p, "epsilon": 0.0}, xp, beta, X, 2, K, h, points)
    e_nf, t_nf = e_nf[1:, 0], t_nf[1:]
    keep = e_nf > 1e-3
    if np.any(keep):
        e_nf, t_nf = e_nf[keep], t_nf[keep]
        b_nf = _gd_bias(a_star, sv, 0.0, n, h, t_nf) + tol.floating_point(1.0, ops=K * p["d"]).value
        eps0 = math.sqrt(0.1 * _T0_DELTA * float(np.min(e_nf * n / (r * t_nf))))
        v0 = {**vals, "epsilon": eps0}
        lo = to_numpy(holds(E_e_t=to_xp(xp, e_nf - b_nf), t=to_xp(xp, t_nf), **v0))
        hi = to_numpy(holds(E_e_t=to_xp(xp, (e_nf + b_nf) * (1 + 5 * _T0_DELTA)),
                            t=to_xp(xp, t_nf), **v0))
        outs.append(Outcome.at_least(float(np.mean(lo)) - float(np.mean(hi)), 1.0,
                                     tol.Tolerance(0.0, "booleans"),
                                     quantity="noise-free: claim holds at e(t) − bias, fails at "
                                              "(e(t) + bias)(1 + 5δ) (statement)",
                                     epsilon_0=eps0))
    return Outcome.all_of(outs)


# ------------------------------------------------------------------ random_features_double_descent
def _rf_problem(p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """S data sets (n points in d dims, y = ReLU(x₁) + noise) and a test set per seed."""
    n, d, S, n_test = p["n"], p["d"], p["seeds"], 200
    rng = host_rng(p, 0)
    X = rng.standard_normal((S, n, d))
    Xt = rng.standard_normal((S, n_test, d))
    y = np.maximum(X[..., 0], 0) + p["noise"] * rng.standard_normal((S, n))
    yt = np.maximum(Xt[..., 0], 0)
    return X, Xt, y, yt


def _rf_fit(result: Any, xp: Any, Psi: Any, y: Any, m: int, n: int) -> Any:
    """The claimed estimator for m ≥ n; below the threshold GD converges to the
    least-squares fit, computed by lstsq (the claim does not cover m < n)."""
    if m >= n:
        return claim(result, xp)(Psi=Psi, y=y[..., None])[..., 0]
    Ph, yh = to_numpy(Psi), to_numpy(y)
    return to_xp(xp, np.stack([np.linalg.lstsq(P, v, rcond=None)[0] for P, v in zip(Ph, yh)]))


def _double_descent(p: dict[str, Any], xp: Any, result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Test error of the fit for each m of the grid, per seed: (grid, errors (S, len(grid)))."""
    X, Xt, y, yt = _rf_problem(p)
    rng = host_rng(p, 3)
    grid = np.array(p["grid"])
    errs = np.zeros((p["seeds"], len(grid)))
    Xx, Xtx, yx = to_xp(xp, X), to_xp(xp, Xt), to_xp(xp, y)
    for j, m in enumerate(grid):
        W = to_xp(xp, rng.standard_normal((p["seeds"], int(m), p["d"])) / math.sqrt(p["d"]))
        a = _rf_fit(result, xp, relu_features(Xx, W), yx, int(m), p["n"])
        pred = (relu_features(Xtx, W) @ a[..., None])[..., 0]
        errs[:, j] = np.mean((to_numpy(pred) - yt) ** 2, axis=-1)
    return grid, errs


_DD_EXAMPLE = {"n": 40, "d": 10, "seeds": 40, "noise": 0.2,
               "grid": [4, 10, 20, 30, 36, 40, 44, 50, 60, 80, 160, 320], "seed": 0}


@check("linear.random_features_double_descent", example=_DD_EXAMPLE)
def check_double_descent(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """(i) The estimator, at m = 2n on 4 seeds: GD from zero on ‖Ψa − y‖² keeps its iterates
    in the row space of Ψ (observed, K steps) and converges to the interpolant there; the
    claimed Ψᵀ(ΨΨᵀ)⁻¹y must be that point — it interpolates (‖Ψâ − y‖ at rounding) and lies
    in the row space (‖(I − QQᵀ)â‖ at rounding, Q an orthonormal basis of R(Ψᵀ)); the
    interpolant in the row space is unique, so this pins it. (ii) The shape, with the
    claimed estimator for m ≥ n: the median test error over seeds peaks in [n/2, 2n] and a
    sign test over seeds (level 1e-6, Bonferroni 2) finds the error at m = n larger than at
    the largest and at the smallest m."""
    n = p["n"]
    X, _, y, _ = _rf_problem(p)
    m, S = 2 * n, 4
    W = host_rng(p, 4).standard_normal((S, m, p["d"])) / math.sqrt(p["d"])
    Psi = np.maximum(X[:S] @ np.swapaxes(W, -1, -2), 0)           # (S, n, m)
    sv = np.linalg.svd(Psi, compute_uv=False)
    kappa = float((sv[:, 0] / sv[:, -1]).max())
    Q = np.linalg.qr(np.swapaxes(Psi, -1, -2))[0]                  # (S, m, n)
    off = lambda a: _norm(a - (Q @ (np.swapaxes(Q, -1, -2) @ a[..., None]))[..., 0])  # noqa: E731
    K = 300
    traj = run(LeastSquares(to_xp(xp, Psi), to_xp(xp, y[:S]), reduction="sum"),
               GD(1.0 / float(sv[:, 0].max() ** 2)), xp.zeros((S, m), dtype=xp.float64), K,
               record=())
    a_K = to_numpy(traj.x)
    a_hat = _vec(claim(result, xp)(Psi=to_xp(xp, Psi), y=_col(xp, y[:S])))
    ny = float(np.max(_norm(y[:S])))
    fp_a = tol.floating_point(ny / float(sv[:, -1].min()), ops=n * m, cond=kappa**2)
    outs = [
        Outcome.close(0.0, float(np.max(off(a_K))), tol.floating_point(
            float(np.max(_norm(a_K))), ops=K * (n + m)),
            quantity="GD from 0 stays in R(Ψᵀ): max ‖(I − QQᵀ)a_K‖ (observed invariant)"),
        Outcome.close(0.0, float(np.max(_norm((Psi @ a_hat[..., None])[..., 0] - y[:S]))),
                      tol.floating_point(ny, ops=n * m, cond=kappa**2),
                      quantity="‖Ψâ − y‖: the claimed estimator interpolates (statement)"),
        Outcome.close(0.0, float(np.max(off(a_hat))), fp_a,
                      quantity="‖(I − QQᵀ)â‖: the claimed estimator lies in R(Ψᵀ) (statement)"),
    ]
    grid, errs = _double_descent(p, xp, result)
    med = np.median(errs, axis=0)
    Sd = p["seeds"]
    peak = int(grid[int(np.argmax(med))])
    j_n = int(np.argmin(np.abs(grid - n)))
    outs.append(Outcome.close(n, peak, tol.Tolerance(n / 2, "peak location: within a factor 2 of n"),
                              quantity="argmax_m median test error"))
    for j in (len(grid) - 1, 0):
        wins = int(np.sum(errs[:, j_n] > errs[:, j]))
        outs.append(Outcome.sign_test(wins, Sd, alpha=ALPHA / 2,
                                      quantity=f"#seeds with error(m = n) > error(m = {grid[j]})"))
    return Outcome.all_of(outs)


# ============================================================ figures
@figure("linear.gd_limit")
def figure_gd_limit(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """GD on the check's least-squares problem from four starts: the distance to the Result's
    limit x₀ + A⁺(y − Ax₀) per step, against the derived contraction ρᵏe₀ (ρ = max|1 − ηs²|);
    the floor is rounding."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    A, s, y, x0 = _gd_problem(p, R=4, scale0=3.0)
    x0[0] = 0.0
    eta = p["eta_frac"] * 2.0 / s[0] ** 2
    traj = run(LeastSquares(to_xp(xp, A), to_xp(xp, y), reduction="sum"), GD(eta),
               to_xp(xp, x0), 600, record=("x",), record_every=5)
    xs = to_numpy(traj.records["x"])
    pred = _vec(claim(result, xp)(A=to_xp(xp, A), x_0=_col(xp, x0), y=_col(xp, y)))
    rho = float(np.max(np.abs(1.0 - eta * s**2)))
    fig, ax = plt.subplots(figsize=(6.6, 3.4))
    k = np.array(traj.steps)
    for r in range(xs.shape[1]):
        ax.semilogy(k, _norm(xs[:, r] - pred[r]) + 1e-17,
                    label=f"replica {r}" + (" (x₀ = 0)" if r == 0 else ""))
    ax.semilogy(k, np.max(_norm(x0 - pred)) * rho**k, "k--", label="ρᵏ e₀ (derived rate)")
    ax.set_xlabel("GD step k")
    ax.set_ylabel("‖x_k − (x₀ + A⁺(y − Ax₀))‖\n(units of x)")
    ax.set_title("GD converges to the projection of x₀ (Result);\nthe floor is rounding", fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig


@figure("linear.generalization_error")
def figure_generalization(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Gradient flow from 0 on noisy linear data: the Monte Carlo mean of ‖β(t) − β*‖² over
    noise draws (±3 standard errors) against the Result's exact expectation."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    n = p["n"]
    X, sv, Vt = _noisy_design(p)
    beta, a_star, b_sq = _random_target(p, Vt)
    tau = n / sv[0] ** 2
    e, t = _flow_mc(p, xp, beta, X, 500, 200, 0.05 * tau, 50)
    tt = np.linspace(0, t[-1], 200)
    pred = to_numpy(claim(result, xp)(a_star=to_xp(xp, a_star), sigma=to_xp(xp, sv),
                                      epsilon=p["epsilon"], n=float(n), t=to_xp(xp, tt),
                                      b_star_sq=b_sq, r=float(len(sv))))
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    ax.errorbar(t, e.mean(1), yerr=3 * e.std(1, ddof=1) / math.sqrt(e.shape[1]), fmt="o", ms=3,
                label=f"gradient flow, Monte Carlo over {e.shape[1]} noise draws\n(±3 standard errors)")
    ax.plot(tt, np.ravel(pred), "k-", label="exact E e(t) (Result)")
    ax.set_xlabel("gradient-flow time t (units of 1/curvature)")
    ax.set_ylabel("E ‖β(t) − β*‖²\n(squared units of β)")
    ax.set_title(f"Expected error of gradient flow from 0 (n = {n}, noise ε = {p['epsilon']:g})",
                 fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig


@figure("linear.early_stopping")
def figure_early_stopping(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Monte Carlo E‖β(t) − β*‖² of gradient flow against the Result's bound e^{−2σ₁²t/n} +
    ε²rt/n and its minimizer T₀ (the bound's linear term is not attained, see the result's
    notes)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    n = p["n"]
    X, sv, Vt = _noisy_design(p)
    vals = dict(sigma_1=float(sv[0]), epsilon=p["epsilon"], r=float(len(sv)), n=float(n))
    T0 = float(to_numpy(claim(result, xp, "T_0")(**vals)))
    e, t = _flow_mc(p, xp, Vt[0], X, 500, 2000, 6 * T0 / 2000, 60)
    bound = to_numpy(claim(result, xp, "bound")(t=to_xp(xp, t), **vals))
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    ax.semilogy(t, e.mean(1), "o", ms=3, label=f"E e(t), gradient flow,\nMonte Carlo over {e.shape[1]} draws")
    ax.semilogy(t, bound, "k-", label=r"bound $e^{-2\sigma_1^2 t/n} + \varepsilon^2 r t/n$ (Result)")
    ax.axvline(T0, color="r", ls="--", label=f"T₀ = {T0:.3g}, the bound's minimum (Result)")
    ax.set_xlabel("gradient-flow time t (units of 1/curvature)")
    ax.set_ylabel("E ‖β(t) − β*‖² (squared units of β)")
    ax.set_title(f"Slow deterioration after T₀: the error grows at most like ε²rt/n (n = {n})",
                 fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig


@figure("linear.random_features_double_descent")
def figure_double_descent(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Test error of the min-norm random-feature fit against the number of features m (median
    and interquartile range over seeds): the peak at m = n."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    grid, errs = _double_descent(p, xp, result)
    med = np.median(errs, axis=0)
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    q1, q3 = np.percentile(errs, [25, 75], axis=0)
    ax.fill_between(grid, q1, q3, alpha=0.3, label="interquartile range over seeds")
    ax.loglog(grid, med, "o-", label="median test error")
    ax.axvline(p["n"], color="k", ls="--", label="m = n")
    ax.set_xlabel("number of random features m")
    ax.set_ylabel("test mean squared error\n(units of y²)")
    ax.set_title(f"Double descent of the min-norm random-feature fit (n = {p['n']})",
                 fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig



@figure("linear.sgd_limit")
def figure_sgd_limit(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Single-sample scaled SGD on the check's consistent system from four x_0: the distance
    to the Result's limit x_0 + H⁻¹Aᵀ(AH⁻¹Aᵀ)⁻¹(b − Ax_0) of each start (solid) and to the
    limit claimed for the first start (dotted: the other starts do not go there), with
    the residual ‖Ax_k − b‖."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    A, b, H, x0 = _scaled_problem(p, consistent=True)
    n = p["n"]
    row = np.einsum("id,id->i", A, np.linalg.solve(H, A.T).T)
    eta = p["step_frac"] / (n * row.max())
    model = Preconditioned(LeastSquares(to_xp(xp, A), to_xp(xp, b), reduction="sum"), to_xp(xp, H))
    traj = run(model, SGD(eta, batch=1, replace=p["replace"]), to_xp(xp, x0), 800,
               record=("x",), record_every=10, rng=default_rng(p["seed"], xp=xp))
    xs = to_numpy(traj.records["x"])                                    # (T, R, d)
    k = np.array(traj.steps)
    x_hat = _vec(claim(result, xp)(A=to_xp(xp, A), H=to_xp(xp, H), x_0=_col(xp, x0), b=_col(xp, b)))
    fig, (ax, axr) = plt.subplots(1, 2, figsize=(10, 3.6))
    for r in range(xs.shape[1]):
        (line,) = ax.semilogy(k, _norm(xs[:, r] - x_hat[r]) + 1e-17, lw=1.2,
                              label=f"start {r}{' (x₀ = 0)' if r == 0 else ''}: to its own limit")
        if r:
            ax.semilogy(k, _norm(xs[:, r] - x_hat[0]), ":", color=line.get_color(), lw=1)
        axr.semilogy(k, _norm(xs[:, r] @ A.T - b) + 1e-17, color=line.get_color(), lw=1)
    ax.plot([], [], "k:", label="starts 1–3: to the limit of start 0")
    ax.set_xlabel("SGD step k (one sample per step)")
    ax.set_ylabel("‖x_k − x̂(x₀)‖ (units of x)")
    ax.set_title("distance to the claimed limit x̂(x₀) (Result)", fontsize=MIN_FONT + 1)
    axr.set_xlabel("SGD step k (one sample per step)")
    axr.set_ylabel("residual ‖Ax_k − b‖ (units of b)")
    axr.set_title("every start interpolates", fontsize=MIN_FONT + 1)
    legend_outside(axr, where="right", handles=ax.get_legend_handles_labels()[0],
                   labels=ax.get_legend_handles_labels()[1])
    fig.suptitle(f"Scaled SGD (non-symmetric H, n = {n}, d = {p['d']}, "
                 f"{'with' if p['replace'] else 'without'} replacement) ends at the H-projection of its start",
                 fontsize=MIN_FONT + 2)
    fig.tight_layout()
    return fig
