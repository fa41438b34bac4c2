"""Checks of the ``adaptive.*`` results: scaled GD, RMSprop and Adam (seed 003).

Every prediction comes from the :class:`theory.Result` the runner hands in; the simulations
are :mod:`numerics` (``GD(metric=H)``, ``Adam``, ``RMSprop``) and quantities measured from a
model's loss (polarization and central differences, exact for quadratics).

* ``adaptive.metric_view``: the scaled step (statement) iterated = GD on f∘H^{−1/2} mapped
  back; the Hessian and gradient of f∘H^{−1/2} (parts) against polarization / central
  differences of the loss of f; the step limit 2/λ_max on both sides (decay just below,
  growth just above); the seed's condition numbers against NumPy eigenvalues.
* ``adaptive.adam_update``: every formula (moments, metric, step, RMSprop, the running
  average of a constant) against the state and the steps of ``numerics.adaptive``.
* ``adaptive.adam_vs_sgd_norm``: the strict inequality and the Pythagoras identity at
  Adam's interpolating limit.

Module layout: problem builders, then checks, then figures.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from numerics import GD, LeastSquares, run, to_numpy
from numerics.adaptive import Adam, RMSprop
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import (
    host_rng,
    least_squares_params,
    matrix_with_spectrum,
    seeds,
    spd_matrix,
    to_xp,
)

EPS = tol.EPS64
_asarray = to_xp  # host array -> float64 array of xp


# =============================================================== problem builders
def _norm(v: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=axis))


def _powers(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H^{1/2} and H^{−1/2} of an SPD matrix (eigendecomposition; problem set-up)."""
    w, Q = np.linalg.eigh(H)
    return (Q * np.sqrt(w)) @ Q.T, (Q / np.sqrt(w)) @ Q.T


@st.composite
def _metric_params(draw: Any) -> dict[str, Any]:
    p = draw(least_squares_params(max_cond=4.0, max_n=6, max_extra_d=8))
    p["h_cond"] = draw(st.floats(2.0, 10.0))
    p["eta_frac"] = draw(st.floats(0.3, 0.9))
    return p


def _metric_problem(p: dict[str, Any]) -> dict[str, np.ndarray]:
    """f(x) = ½‖Ax − b‖² (A of full row rank, n < d), an SPD non-diagonal metric H, three
    starting points (the origin and two Gaussian points)."""
    A, _ = matrix_with_spectrum(p)
    rng = host_rng(p, 1)
    b = rng.standard_normal(p["n"])
    H = spd_matrix(rng, p["d"], p["h_cond"])  # Haar eigenvectors: non-diagonal, non-commuting
    Hh, S = _powers(H)
    x0 = np.vstack([np.zeros(p["d"]), 2.0 * rng.standard_normal((2, p["d"]))])
    return {"A": A, "b": b, "H": H, "Hh": Hh, "S": S, "x0": x0}


def _loss_at(model: Any, X: np.ndarray, xp: Any) -> np.ndarray:
    """The loss of ``model`` at the rows of X (host in, host out)."""
    return to_numpy(model.loss(_asarray(xp, X)))


def _hessian_by_polarization(model: Any, S: np.ndarray, xp: Any) -> tuple[np.ndarray, float]:
    r"""The Hessian of :math:`g(v) = f(Sv)` from the loss of f only:
    :math:`g(e_i + e_j) - g(e_i) - g(e_j) + g(0) = e_i^T\nabla^2 g\,e_j`, exact for a
    quadratic f. Returns the matrix and the largest |loss| (the rounding scale)."""
    d = S.shape[1]
    E = np.eye(d)
    pts = [np.zeros(d)] + [S @ E[i] for i in range(d)]
    pts += [S @ (E[i] + E[j]) for i in range(d) for j in range(d)]
    L = _loss_at(model, np.array(pts), xp)
    g0, gi, gij = L[0], L[1:d + 1], L[d + 1:].reshape(d, d)
    return gij - gi[:, None] - gi[None, :] + g0, float(np.max(np.abs(L)))


def _gradient_by_central_differences(model: Any, S: np.ndarray, V: np.ndarray,
                                     xp: Any) -> tuple[np.ndarray, float]:
    r""":math:`\nabla g(v)_i = (g(v + e_i) - g(v - e_i))/2` for :math:`g(v) = f(Sv)`, exact
    for a quadratic f; rows of V are the points v. Returns (R, d) and the largest |loss|."""
    R, d = V.shape
    E = np.eye(d)
    plus = (V[:, None, :] + E[None]) @ S.T
    minus = (V[:, None, :] - E[None]) @ S.T
    Lp = _loss_at(model, plus.reshape(R * d, d), xp).reshape(R, d)
    Lm = _loss_at(model, minus.reshape(R * d, d), xp).reshape(R, d)
    return (Lp - Lm) / 2.0, float(max(np.max(np.abs(Lp)), np.max(np.abs(Lm))))


class _GradientSequence:
    """A 'model' whose k-th gradient is the k-th row of a pre-drawn sequence (no feedback),
    so the update rules can be compared with the formulas step by step."""

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
        "d": draw(st.integers(4, 8)),
        "K": draw(st.integers(3, 40)),
        "beta_m": round(draw(st.floats(0.05, 0.99)), 6),
        "beta_v": round(draw(st.floats(0.05, 0.9999)), 6),
        "eps": draw(_log_uniform(1e-10, 1e-2)),
        "eta": draw(_log_uniform(1e-4, 1.0)),
        "g_const": round(draw(st.floats(0.5, 5.0)), 6) * draw(st.sampled_from([-1.0, 1.0])),
        "seed": draw(seeds),
    }


def _gradients(p: dict[str, Any], R: int) -> np.ndarray:
    """(K, R, d) gradients whose magnitudes span 10^−2 … 10^3 times ε coordinate by
    coordinate (so ε, √v̂ and both corrections all matter somewhere), some exactly zero."""
    rng = host_rng(p, 0)
    K, d = p["K"], p["d"]
    mag = p["eps"] * 10.0 ** np.linspace(-2.0, 3.0, d)[rng.permutation(d)]
    G = mag * rng.standard_normal((K, R, d))
    G[rng.random((K, R, d)) < 0.1] = 0.0
    return G


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


# ========================================================================= checks
#: threshold margin and horizon: |1 − ημ_max| = 1 ∓ 2δ, so K steps decay to 0.96^200 ≈ 3e-4
#: below and grow to 1.04^200 ≈ 2.6e3 above; a limit c/λ with |c − 2| > 2δ/(1 − δ) ≈ 0.04
#: (c = 2.2 or 1.8) reverses one of the two.
_DELTA, _K_THRESHOLD = 0.02, 200


@check("adaptive.metric_view", strategy=_metric_params(), examples=10,
       example={"n": 3, "d": 7, "rank": 3, "cond": 2.0, "h_cond": 5.0, "eta_frac": 0.6,
                "seed": 4})
def check_metric_view(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """(i) the scaled step x − γH⁻¹∇f(x) (statement) iterated k times equals H^{−1/2}·(k GD
    steps on g = f∘H^{−1/2} from H^{1/2}x_0); (ii) ∇²g (part hessian) and ∇g (part
    reparametrized_gradient) against polarization and central differences of the loss of f
    (exact for quadratics); (iii) GD(metric=H) at (1 ∓ δ)·step_limit decays / grows along the
    top mode of ∇²g; (iv) the seed's condition numbers against NumPy eigenvalues."""
    pr = _metric_problem(p)
    A_h, b_h, H_h, Hh, S, x0_h = pr["A"], pr["b"], pr["H"], pr["Hh"], pr["S"], pr["x0"]
    d = p["d"]
    model = LeastSquares(_asarray(xp, A_h), _asarray(xp, b_h), reduction="sum")
    model_g = LeastSquares(_asarray(xp, A_h @ S), _asarray(xp, b_h), reduction="sum")  # f∘S
    H = _asarray(xp, H_h)
    outs = []
    # (ii) Hessians measured from losses: of f, and of g = f∘S
    Qf, scale_f = _hessian_by_polarization(model, np.eye(d), xp)
    Qg, scale_g = _hessian_by_polarization(model, S, xp)
    mu, U = np.linalg.eigh((Qg + Qg.T) / 2)
    mu_max, u_top = float(mu[-1]), U[:, -1]
    h_min = float(np.linalg.eigvalsh(H_h)[0])
    pred = to_numpy(result.numeric(xp, part="hessian")(H=H, hess_f=_asarray(xp, Qf)))
    t = tol.floating_point(max(scale_g, scale_f / h_min), ops=4 * (p["n"] + d), cond=p["h_cond"])
    outs.append(Outcome.close(0.0, float(np.max(np.abs(pred - Qg))), t,
                              quantity="max |H^{−1/2}∇²fH^{−1/2} − ∇²(f∘H^{−1/2})| (polarization)"))
    # (ii) gradient of g at v, from central differences of the loss of f
    V = np.vstack([x0_h[1:] @ Hh, host_rng(p, 2).standard_normal((1, d))])
    gobs, scale = _gradient_by_central_differences(model, S, V, xp)
    gf = model.grad(_asarray(xp, V @ S))           # ∇f(Sv), rows (S symmetric)
    pred = to_numpy(result.numeric(xp, part="reparametrized_gradient")(
        H=H, grad_f_at=gf[..., None]))[..., 0]
    t = tol.floating_point(scale, ops=4 * (p["n"] + d), cond=p["h_cond"])
    outs.append(Outcome.close(0.0, float(np.max(np.abs(pred - gobs))), t,
                              quantity="max |H^{−1/2}∇f(H^{−1/2}v) − ∇(f∘H^{−1/2})(v)|"))
    # (i) the scaled step (statement) iterated vs GD on f∘S mapped back by x = Sv
    eta = p["eta_frac"] * 2.0 / mu_max
    step = result.numeric(xp)
    k1 = 10
    x = _asarray(xp, x0_h)
    for _ in range(k1):
        x = step(H=H, gamma=eta, x_k=x[..., None], grad_f=model.grad(x)[..., None])[..., 0]
    v = to_numpy(run(model_g, GD(eta), _asarray(xp, x0_h @ Hh), k1, record=()).x)
    gap = float(np.max(_norm(v @ S - to_numpy(x))))
    scale = float(np.max(_norm(x0_h))) + k1 * eta * float(np.linalg.norm(A_h.T @ b_h)) / h_min
    outs.append(Outcome.close(0.0, gap, tol.floating_point(
        scale, ops=k1 * (p["n"] + d) + d**2, cond=p["h_cond"]),
        quantity="‖H^{−1/2}v_k − x_k‖ (GD on f∘H^{−1/2} vs the scaled step, k = 10)"))
    # (iii) the step limit on both sides, along the top mode of ∇²g: e_0 = S u_top
    limit = float(result.numeric(xp, part="step_limit")(lambda_max_H=mu_max))
    x_star = np.linalg.lstsq(A_h, b_h, rcond=None)[0]
    e0 = S @ u_top
    for side, f in (("below", 1 - _DELTA), ("above", 1 + _DELTA)):
        xK = to_numpy(run(model, GD(f * limit, metric=H), _asarray(xp, (x_star + e0)[None]),
                          _K_THRESHOLD, record=()).x)[0]
        ratio = float(_norm(Hh @ (xK - x_star)) / _norm(Hh @ e0))
        q = f"‖e_K‖_H/‖e_0‖_H at η = (1 {'−' if side == 'below' else '+'} δ)·step_limit"
        reason = (f"linear stability: the top mode is multiplied by |1 − ημ_max| = 1 ∓ 2δ "
                  f"(δ = {_DELTA}) per step, ≈ {(1 - 2 * _DELTA) ** _K_THRESHOLD:.1e} / "
                  f"{(1 + 2 * _DELTA) ** _K_THRESHOLD:.1e} after K = {_K_THRESHOLD}")
        if side == "below":
            outs.append(Outcome.at_most(ratio, 1.0, tol.Tolerance(0.0, reason), quantity=q))
        else:
            outs.append(Outcome.at_least(ratio, 1.0, tol.Tolerance(0.0, reason), quantity=q))
    # (iv) the seed's example: Q = [[0.1, −0.1], [−0.1, 1]], H = diag(Q)
    Q = np.array([[0.1, -0.1], [-0.1, 1.0]])
    Dh = np.diag(1.0 / np.sqrt(np.diag(Q)))
    for part, M in (("seed_condition_before", Q), ("seed_condition_after", Dh @ Q @ Dh)):
        lam = np.linalg.eigvalsh(M)
        outs.append(Outcome.close(lam[-1] / lam[0], float(result.numeric(xp, part=part)()),
                                  tol.floating_point(lam[-1] / lam[0], ops=10, cond=lam[-1] / lam[0]),
                                  quantity=f"{part} vs NumPy eigenvalues of the seed's Q"))
    return Outcome.all_of(outs)


@check("adaptive.adam_update", strategy=_adam_params(), examples=10,
       example={"d": 6, "K": 30, "beta_m": 0.9, "beta_v": 0.999, "eps": 1e-8, "eta": 0.01,
                "g_const": -0.3, "seed": 0})
def check_adam_update(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """``numerics.adaptive.Adam`` and ``RMSprop`` step by step on a pre-drawn gradient
    sequence against every formula of the result: the moment recursions (first_moment,
    second_moment) against the rules' state; the metric and rmsprop_metric against the
    rules' ``metric``; the step (statement and step, rmsprop_step) against the rules'
    Δx_k given their state; ema_of_constant against Adam's first moment under a constant
    gradient. Each is a handful of flops per step on O(1)-relative numbers: rounding
    ≤ 10·(k + 20)·ε relative (tolerance.floating_point)."""
    R, K, d = 2, p["K"], p["d"]
    bm, bv, eps, eta = p["beta_m"], p["beta_v"], p["eps"], p["eta"]
    Gx = _asarray(xp, _gradients(p, R))
    f = {c: result.numeric(xp, part=None if c == "statement" else c)
         for c in ("statement", "step", "metric", "first_moment", "second_moment",
                   "rmsprop_step", "rmsprop_metric")}
    adam, rms = Adam(eta, beta_m=bm, beta_v=bv, eps=eps), RMSprop(eta, beta_v=bv, eps=eps)
    x0 = xp.zeros((R, d), dtype=xp.float64)
    seq_a, seq_r = _GradientSequence(Gx), _GradientSequence(Gx)
    sa, sr = adam.init(seq_a, x0), rms.init(seq_r, x0)
    worst = {c: 0.0 for c in f}

    def rel(pred: Any, obs: Any) -> float:
        pred, obs = to_numpy(pred), to_numpy(obs)
        e = np.abs(pred - obs) / np.maximum(np.abs(obs), 1e-300)
        return float(np.max(np.where(np.isfinite(e), e, np.inf)))  # NaN counts as a failure

    for k in range(1, K + 1):
        g = Gx[k - 1, ...]
        m_prev, v_prev, v_prev_r = sa.m, sa.v, sr.v
        # steps taken from x = 0: the rules return −Δx_k with no cancellation
        dxa, sa = adam.step(seq_a, x0, sa, None)
        dxr, sr = rms.step(seq_r, x0, sr, None)
        worst["first_moment"] = max(worst["first_moment"], rel(
            f["first_moment"](b_m=bm, m_prev=m_prev, g=g), sa.m))
        worst["second_moment"] = max(worst["second_moment"], rel(
            f["second_moment"](b_v=bv, v_prev=v_prev, g=g), sa.v))
        worst["second_moment"] = max(worst["second_moment"], rel(
            f["second_moment"](b_v=bv, v_prev=v_prev_r, g=g), sr.v))
        worst["metric"] = max(worst["metric"], rel(
            f["metric"](v_hat=sa.v, b_v=bv, epsilon=eps, k=float(k)), adam.metric(sa)))
        worst["rmsprop_metric"] = max(worst["rmsprop_metric"], rel(
            f["rmsprop_metric"](v_hat=sr.v, epsilon=eps), rms.metric(sr)))
        for c in ("statement", "step"):
            worst[c] = max(worst[c], rel(f[c](gamma=eta, m_hat=sa.m, v_hat=sa.v, b_m=bm, b_v=bv,
                                              epsilon=eps, k=float(k)), dxa))
        worst["rmsprop_step"] = max(worst["rmsprop_step"], rel(
            f["rmsprop_step"](gamma=eta, g=g, v_hat=sr.v, epsilon=eps), dxr))
    # A constant gradient g from m̂_0 = 0: Adam's first moment after k steps is the running
    # average of a constant (part ema_of_constant), for every k = 1..K.
    Gc = _asarray(xp, np.full((K, 1, 1), p["g_const"]))
    seq_c = _GradientSequence(Gc)
    xc = xp.zeros((1, 1), dtype=xp.float64)
    sc = adam.init(seq_c, xc)
    ema = result.numeric(xp, part="ema_of_constant")
    worst_ema = 0.0
    for k in range(1, K + 1):
        xc, sc = adam.step(seq_c, xc, sc, None)
        worst_ema = max(worst_ema, rel(ema(b=bm, g=p["g_const"], k=float(k)), sc.m))
    # Relative rounding: the moments carry ≤ k·ε each (k ≤ K), then √, / and the bias
    # corrections 1 − b^k, whose relative error is ε/(1 − b) at k = 1 (cond).
    cond = 1.0 / (1.0 - max(bm, bv))
    outs = []
    for c, w in (*worst.items(), ("ema_of_constant", worst_ema)):
        outs.append(Outcome.at_most(w, 0.0, tol.floating_point(1.0, ops=K + 20, cond=cond),
                                    quantity=f"max relative |{c} − numerics| over k ≤ {K}"))
    return Outcome.all_of(outs)


@check("adaptive.adam_vs_sgd_norm", strategy=_norm_params(), examples=12,
       example={"n": 4, "d": 10, "rank": 4, "cond": 3.0, "isotropic": False, "eta_rel": 0.02,
                "seed": 0, "sigmas": [0.01, 0.1, 1.0, 5.0, 10.0]})
def check_adam_vs_sgd_norm(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Adam from 0 on overparametrized least squares interpolates (relative residual
    ≤ 1e-5). Pythagoras (part): ‖x‖² against ‖A⁺y‖² + ‖P_N x‖² within the floor
    ‖P_R x − A⁺y‖ ≤ ‖Ax − y‖/σ_min (evaluated at x and at 7·x, an interpolant of 7·y, so
    the identity's degree is pinned). Strict inequality (statement) for generic A, at
    conservative values: ‖x‖ − floor against ‖A⁺y‖ + floor must satisfy it. Isotropic A
    (H_k = c_kI): the excess is at the floor and the null-space part vanishes."""
    R = 4
    out = adam_from_zero(p, xp, R=R)
    A_h, y_h, x_min, x = out["A"], out["y"], out["x_min"], out["Adam"]
    res = _norm(np.einsum("rnd,rd->rn", A_h, x) - y_h)
    smin = np.linalg.svd(A_h, compute_uv=False)[:, -1]
    nmin, nx = _norm(x_min), _norm(x)
    P_R = np.linalg.pinv(A_h) @ A_h                      # projection onto R(Aᵀ)
    n_null = _norm(x - np.einsum("rij,rj->ri", P_R, x))
    fp = tol.floating_point(float(np.max(nmin)), ops=1000 * (p["n"] + p["d"]), cond=p["cond"])
    floor = res / smin + fp.value
    outs = [Outcome.at_most(float(np.max(res / _norm(y_h))), 0.0, tol.Tolerance(
        1e-5, "interpolation reached: relative residual ≤ 1e-5 (the floor below carries it)"),
        quantity="‖Ax_Adam − y‖/‖y‖")]
    pyth = result.numeric(xp, part="pythagoras")
    for c in (1.0, 7.0):
        rhs = to_numpy(pyth(norm_min=c * nmin, norm_null=c * n_null))
        # ‖x‖ − √(‖A⁺y‖² + ‖P_N x‖²) = ‖x‖ − √(‖A⁺y‖² + ‖x‖² − ‖P_R x‖²), and
        # |‖P_R x‖ − ‖A⁺y‖| ≤ floor: the gap is at most floor·(2‖A⁺y‖ + floor)/‖x‖ (times c)
        t = tol.Tolerance(float(np.max(c * floor * (2 * nmin + floor) / nx)) + c * fp.value,
                          "‖P_R x − A⁺y‖ ≤ ‖Ax − y‖/σ_min (+ rounding), times c")
        outs.append(Outcome.close(0.0, float(np.max(np.abs(rhs - c * nx))), t,
                                  quantity=f"c‖x‖ − √((c‖A⁺y‖)² + (c‖P_N x‖)²), c = {c:g}"))
    gt = to_numpy(result.numeric(xp)(norm_adam=nx - floor, norm_min=nmin + floor))
    if p["isotropic"]:
        # H_k = c_kI: Adam reaches A⁺y (the result's stated exception): the other side of
        # the strict inequality, which must fail at ‖x‖ − floor against ‖A⁺y‖
        eq = to_numpy(result.numeric(xp)(norm_adam=nx - floor, norm_min=nmin))
        outs.append(Outcome.at_most(float(np.max(n_null)), 0.0, tol.Tolerance(
            float(np.max(floor)), "‖Ax − y‖/σ_min + rounding"),
            quantity="isotropic metric: ‖P_N x_Adam‖"))
        outs.append(Outcome.at_most(int(np.sum(eq)), 0, tol.Tolerance(
            0.0, "isotropic metric: ‖x‖ = ‖A⁺y‖ within the floor, so the strict inequality "
            "must fail at ‖x‖ − floor"), quantity="isotropic problems where the statement holds"))
    else:
        outs.append(Outcome.at_least(int(np.sum(gt)), R, tol.Tolerance(
            0.0, "every problem: ‖x‖ − floor > ‖A⁺y‖ + floor, floor = ‖Ax − y‖/σ_min + rounding"),
            quantity="problems where the statement holds at the conservative values"))
    o = Outcome.all_of(outs)
    o.details.update(relative_excess=[float(e) for e in (nx - nmin) / nmin])
    return o


# ======================================================================== figures
@figure("adaptive.adam_vs_sgd_norm")
def figure_adam_vs_sgd_table(p: dict[str, Any], xp: Any) -> Any:
    """Seed 003's table in miniature: ‖θ_end‖ and the Lipschitz bound against σ."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT  # noqa: PLC0415

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
        ax.set_xlabel("init scale σ (units of the weights)")
        ax.legend(fontsize=MIN_FONT, loc="upper left")
    axes[0].set_ylabel("‖θ‖₂ (units of the weights)")
    axes[1].set_ylabel("Lipschitz bound L_m (dimensionless)")
    fig.suptitle("Seed 003 table in miniature: SGD vs Adam from scaled inits\n"
                 f"{res['model']}, L_m = ‖W₀‖‖W_out‖Π(1 + ‖W_l‖)", fontsize=MIN_FONT + 1)
    fig.tight_layout()
    return fig


@figure("adaptive.metric_view")
def figure_metric_view(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """‖x_k − x*‖_H of scaled GD from x* + H^{−1/2}u_top at (1 ∓ δ)·step_limit."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    pr = _metric_problem(p)
    A_h, b_h, H_h, Hh, S = pr["A"], pr["b"], pr["H"], pr["Hh"], pr["S"]
    model = LeastSquares(_asarray(xp, A_h), _asarray(xp, b_h), reduction="sum")
    Qg, _ = _hessian_by_polarization(model, S, xp)
    mu, U = np.linalg.eigh((Qg + Qg.T) / 2)
    limit = float(result.numeric(xp, part="step_limit")(lambda_max_H=float(mu[-1])))
    x_star = np.linalg.lstsq(A_h, b_h, rcond=None)[0]
    e0 = S @ U[:, -1]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for f in (1 - 5 * _DELTA, 1 - _DELTA, 1 + _DELTA):
        tr = run(model, GD(f * limit, metric=_asarray(xp, H_h)), _asarray(xp, (x_star + e0)[None]),
                 _K_THRESHOLD, record=("x",), record_every=2)
        xs = to_numpy(tr.records["x"])[:, 0]
        ax.semilogy(tr.steps, _norm((xs - x_star) @ Hh), label=f"η = {f:g}·step_limit")
    ax.set_xlabel("scaled GD step k")
    ax.set_ylabel("‖x_k − x*‖_H (units of x)")
    ax.set_title("Scaled GD = GD on f∘H^(−1/2):\nstable iff η ≤ step_limit = 2/λ_max(H^(−1/2) ∇²f H^(−1/2)) (Result)",
                 fontsize=MIN_FONT + 1)
    legend_outside(ax)
    fig.tight_layout()
    return fig
