r"""Checks of the ``stability.*`` and ``sgd_noise.*`` results: GD and minibatch SGD at minima
of sums of quadratics, against the derived moment maps, factors and thresholds.

Every prediction comes from the Result handed in (``result.numeric``). The observations
come from the simulation code (:mod:`numerics.stability` models, :mod:`numerics.optim`):

* **exact laws** — the minibatch of SGD is uniform over the :math:`\binom nB` subsets (or
  the :math:`n^B` tuples with replacement), so an expectation over one or two steps is the
  average of the model's step over *all* batches (:func:`_next_all`, :func:`_step_matrices`);
  these comparisons carry only rounding tolerances and pin every constant;
* **Monte Carlo** — R SGD replicas (the optimizer's own sampler) against the same claims,
  with Bernstein's inequality at the exact variance and range of the enumerated law
  (:func:`_bernstein`): a tolerance that is derived, not estimated, and valid for every R;
* **thresholds on both sides** — at :math:`(1\mp\delta)` times a claimed threshold the
  observed growth factor must be below / above 1. The margin :math:`\delta = 0.04` is set
  by the smallest slip to be seen: a constant off by 10 % moves the threshold by ≥ 9 %
  (×11/10 or ×10/11), so one of the two points lands on the wrong side; over K steps the
  simulated growth or decay is :math:`(1\pm 2\delta)^K`, far outside rounding.

Decisions share the false-alarm rate :data:`verify.tolerance.FALSE_ALARM` per check
(Bonferroni over the Monte Carlo comparisons); exact comparisons are deterministic.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from numerics import GD, SGD, run, to_numpy
from numerics.stability import SumOfQuadratics, escape_example, first_exit
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, log_uniform, seeds, spd_matrix, to_xp

EPS = tol.EPS64
#: relative margin on each side of a threshold (module docstring)
DELTA = 0.04


# ============================================================================ tolerances
def _bernstein(std: float, bound: float, N: int, *, m: int, alpha: float = tol.FALSE_ALARM) -> tol.Tolerance:
    r"""Two-sided Bernstein bound for a mean of N i.i.d. samples with *known* standard
    deviation σ and :math:`|X - \mu| \le b`:
    :math:`P(|\bar X - \mu| \ge \varepsilon) \le 2\exp(-N\varepsilon^2/(2\sigma^2 + 2b\varepsilon/3))`;
    solved for ε at probability α/m: :math:`\varepsilon = (bL/3 + \sqrt{(bL/3)^2 + 2N\sigma^2L})/N`,
    :math:`L = \log(2m/\alpha)`. σ and b come from the exact (enumerated) law."""
    L = math.log(2 * m / alpha)
    eps = (bound * L / 3 + math.sqrt((bound * L / 3) ** 2 + 2 * N * std**2 * L)) / N
    return tol.Tolerance(eps, f"Bernstein: σ = {std:.3g}, |X − μ| ≤ {bound:.3g} (exact law), N = {N}, "
                              f"false alarm {alpha:g} over {m}")


def _exact(scale: float, ops: float, cond: float = 1.0) -> tol.Tolerance:
    return tol.floating_point(scale, ops=ops, cond=cond)


def _law(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, standard deviation and range bound max|X − μ| of a uniform law on ``values``."""
    mu = float(np.mean(values))
    return mu, float(np.std(values)), float(np.max(np.abs(values - mu)))


def _close(pred: Any, obs: Any, t: tol.Tolerance | np.ndarray, *, quantity: str, **details: Any) -> Outcome:
    """Elementwise |obs − pred| ≤ t; reports the element with the least slack."""
    pred, obs = np.broadcast_arrays(np.asarray(pred, dtype=float), np.asarray(obs, dtype=float))
    tv = np.broadcast_to(np.asarray(float(t) if isinstance(t, tol.Tolerance) else t, dtype=float), pred.shape)
    used = np.where(np.isfinite(obs), np.abs(obs - pred) / np.maximum(tv, 1e-300), np.inf)
    j = np.unravel_index(int(np.argmax(used)), used.shape) if used.ndim else ()
    reason = t.reason if isinstance(t, tol.Tolerance) else "floating point (per element)"
    return Outcome.close(pred[j], obs[j], tol.Tolerance(float(tv[j]), reason), quantity=quantity,
                         elements=int(pred.size), **details)


def _verdict(claimed: Any, observed: bool, *, quantity: str, **details: Any) -> Outcome:
    """A relation's boolean value must equal the simulated verdict (deterministic)."""
    c = bool(np.all(np.asarray(claimed)))
    return Outcome.close(float(observed), float(c), tol.Tolerance(0.0, "the relation's truth value must "
                         "equal the simulated verdict (deterministic: both are exact)"),
                         quantity=quantity, **details)


def _sides(below: float, above: float, scale: tol.Tolerance, *, at: float | None = None, quantity: str,
           **details: Any) -> list[Outcome]:
    """Growth factor below the threshold ≤ 1 and above it > 1 (beyond rounding); ``at``, the
    factor at the claimed threshold itself, must be 1 (marginal) within rounding — this pins
    the threshold exactly, the two sides show the direction."""
    outs = [Outcome.at_most(below, 1.0, scale, quantity=f"{quantity} at (1 − δ)×threshold ≤ 1", **details),
            Outcome.at_least(above, 1.0 + float(scale), tol.Tolerance(0.0, "must exceed 1 + rounding: " + scale.reason),
                             quantity=f"{quantity} at (1 + δ)×threshold > 1", **details)]
    if at is not None:
        outs.append(Outcome.close(1.0, at, scale, quantity=f"{quantity} at the threshold = 1 (marginal)", **details))
    return outs


def _one_d_sides(H1: np.ndarray, eta_claim: float, B: int, xp: Any, *, quantity: str, **details: Any) -> list[Outcome]:
    """E(1 − ηa_𝓑)² at (1 − δ, 1, 1 + δ) × a claimed largest stable η (1-D, exact)."""
    q = [_one_d_factor(H1, f * eta_claim, B, xp) for f in (1 - DELTA, 1.0, 1 + DELTA)]
    return _sides(q[0], q[2], _exact(4.0, ops=4 * H1.shape[0]), at=q[1], quantity=quantity, **details)


# ====================================================================== problem builders
def _rank2_ensemble(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    """n random PSD matrices of rank ≤ 2 (they do not commute), scaled to λ_max(H) = 1."""
    g = rng.standard_normal((n, p, 2))
    H = g @ np.swapaxes(g, -1, -2)
    return H / np.linalg.eigvalsh(H.mean(0))[-1]


def _spike(a: float, s: float, n: int) -> np.ndarray | None:
    """1-D curvatures a_i = a + s z_i, z = (√(n−1), −1/√(n−1), …): mean a, population std s,
    the largest std for mean a among a_i ≥ 0. ``None`` when s > a√(n−1) (no such ensemble)."""
    if s > a * math.sqrt(n - 1) * (1 - 1e-12):
        return None
    z = np.full(n, -1.0 / math.sqrt(n - 1))
    z[0] = math.sqrt(n - 1)
    return np.maximum(a + s * z, 0.0)[:, None, None]


def _curvatures(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random 1-D curvatures a_i ≥ 0, (n, 1, 1)."""
    return rng.uniform(0.0, 2.0, n)[:, None, None]


def _a_s(H1: np.ndarray) -> tuple[float, float]:
    """Sharpness a and non-uniformity s of 1-D curvatures (mean, population std)."""
    v = H1[:, 0, 0]
    return float(v.mean()), float(v.std())


def _batches(n: int, B: int, *, replace: bool = False) -> np.ndarray:
    """Every batch SGD can draw, equally likely: the B-subsets (or n^B tuples with replacement)."""
    it = itertools.product(range(n), repeat=B) if replace else itertools.combinations(range(n), B)
    return np.array(list(it), dtype=np.int64)


def _next_all(model: SumOfQuadratics, X: np.ndarray, eta: float, batches: np.ndarray, xp: Any) -> np.ndarray:
    """One SGD step x − ηg_𝓑(x) of the model from each row of X (k, p), for every batch:
    (k, nb, p). Uniform over the batches, this is the exact law of x_1 given x_0."""
    k, nb = X.shape[0], batches.shape[0]
    Xr = np.repeat(X, nb, axis=0)
    idx = xp.asarray(np.tile(batches, (k, 1)), dtype=xp.int64)
    g = to_numpy(model.batch_grad(to_xp(xp, Xr), idx))
    return (Xr - eta * g).reshape(k, nb, -1)


def _step_matrices(model: SumOfQuadratics, eta: float, batches: np.ndarray, xp: Any) -> np.ndarray:
    """The model's one-step matrices I − ηH_𝓑 for every batch, (nb, p, p), read off by
    stepping from the basis vectors."""
    p = model.p
    nxt = _next_all(model, np.eye(p), eta, batches, xp)  # (p, nb, p): row k = A_𝓑 e_k
    return np.transpose(nxt, (1, 2, 0))


def _one_d_factor(H1: np.ndarray, eta: float, B: int, xp: Any) -> float:
    """Exact E(x_1/x_0)² of 1-D SGD with batch B (all batches of the model)."""
    model = SumOfQuadratics(to_xp(xp, H1))
    x1 = _next_all(model, np.ones((1, 1)), eta, _batches(H1.shape[0], B), xp)[0, :, 0]
    return float(np.mean(x1**2))


def _batch_variance_ratio(H1: np.ndarray, B: int, xp: Any) -> tuple[float, tol.Tolerance]:
    """Var(a_𝓑)/s² over all batches of the model (1-D), and its rounding tolerance."""
    n = H1.shape[0]
    model = SumOfQuadratics(to_xp(xp, H1))
    aB = 1.0 - _next_all(model, np.ones((1, 1)), 1.0, _batches(n, B), xp)[0, :, 0]  # η = 1, x = 1
    a, s = _a_s(H1)
    var = float(np.mean((aB - aB.mean()) ** 2))
    return var / s**2, _exact(float(np.max(H1)) ** 2 / s**2, ops=4 * n)


# ========================================================================== checks
# ------------------------------------------------------------------ gd_threshold
@st.composite
def _gd_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 6)), "cond": round(draw(st.floats(1.5, 20.0)), 4),
            "lam_max": draw(log_uniform(3.0, 30.0)), "delta": round(draw(st.floats(0.01, DELTA)), 4),
            "seed": draw(seeds)}


@check("stability.gd_threshold", strategy=_gd_params(), examples=5,
       example={"p": 4, "cond": 5.0, "lam_max": 4.0, "delta": 0.02, "seed": 0})
def check_gd_threshold(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """GD on ½xᵀHx at η = (1 ∓ δ)·threshold: every eigenmode's one-step factor and K-step
    iterate equal the claimed mode_factor and mode_iterate; below the threshold ‖x_K‖ ≤ ‖x_0‖,
    above it ‖x_K‖ > ‖x_0‖ (the top mode grows by (1 + 2δ)^K ≥ 10³); the statement
    λ_max ≤ 2/η is true exactly where GD was stable. Deterministic: rounding tolerances."""
    rng = host_rng(p)
    d, delta = p["p"], p["delta"]
    H = spd_matrix(rng, d, p["cond"])
    H *= p["lam_max"] / np.linalg.eigvalsh(H)[-1]
    lam, V = np.linalg.eigh(H)
    x0 = (V @ rng.choice([-1.0, 1.0], d))[None, :]  # every mode with weight ±1
    thr = float(result.numeric(xp, part="threshold")(lambda_max=lam[-1]))
    stable = result.numeric(xp)
    factor = result.numeric(xp, part="mode_factor")
    iterate = result.numeric(xp, part="mode_iterate")
    K = math.ceil(math.log(1e3) / math.log(1 + 2 * delta))
    model = SumOfQuadratics(to_xp(xp, H[None]))
    outs = []
    norms = {}
    for side, eta in (("below", (1 - delta) * thr), ("above", (1 + delta) * thr)):
        xs = to_numpy(run(model, GD(eta), to_xp(xp, x0), K, record=("x",)).records["x"])[:, 0, :]
        c = xs @ V                                       # (K + 1, d) mode coefficients
        scale = float(np.max(np.linalg.norm(xs, axis=1)))
        fp = _exact(scale, ops=K * (d + 2), cond=1 + eta * lam[-1])
        outs.append(_close(to_numpy(factor(eta=eta, lambda_j=to_xp(xp, lam))), c[1] / c[0],
                           _exact(1.0, ops=d + 2, cond=(1 + eta * lam[-1]) * math.sqrt(d)),
                           quantity=f"c_1/c_0 per mode vs mode_factor ({side})", eta=eta))
        outs.append(_close(to_numpy(iterate(c_0=to_xp(xp, c[0]), eta=eta, lambda_j=to_xp(xp, lam), k=float(K))),
                           c[K], fp, quantity=f"c_K per mode vs mode_iterate ({side})", K=K, eta=eta))
        nK, n0 = float(np.linalg.norm(xs[K])), float(np.linalg.norm(xs[0]))
        norms[side] = nK / n0
        outs.append(_verdict(stable(lambda_max=lam[-1], eta=eta), nK <= n0 * (1 + float(fp)),
                             quantity=f"statement λ_max ≤ 2/η vs GD stable ({side})", eta=eta, K=K))
    x1 = to_numpy(run(model, GD(thr), to_xp(xp, x0), 1, record=()).x)[0]
    marginal = abs(float(x1 @ V[:, -1]) / float(x0[0] @ V[:, -1]))     # top mode at η = threshold
    outs += _sides(norms["below"], norms["above"], _exact(1.0, ops=K * (d + 2), cond=2.0), at=marginal,
                   quantity="GD growth (‖x_K‖/‖x_0‖; top-mode factor at the threshold)", K=K, delta=delta)
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_1d_moments
@st.composite
def _moments_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(3, 8))
    return {"n": n, "B": draw(st.integers(2, n - 1)), "u": round(draw(st.floats(0.3, 1.8)), 4),
            "x0": round(draw(st.floats(0.5, 2.0)), 4), "R": 20000, "seed": draw(seeds)}


@check("stability.sgd_1d_moments", strategy=_moments_params(), examples=5,
       example={"n": 5, "B": 2, "u": 1.0, "x0": 1.5, "R": 20000, "seed": 0})
def check_sgd_1d_moments(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """1-D SGD with batch B of n without replacement, η = u/a, from x_0:

    * exact (all batches, one and two steps): the statement's column (E x_{t+1}, E x²_{t+1})
      from (E x_t, E x²_t) at t = 0 and t = 1 (a random x_1); mean_factor = E(1 − ηa_𝓑),
      second_moment_factor = E(1 − ηa_𝓑)², batch_factor = Var(a_𝓑)/s², second_moment at
      t = 1, 2; the 1-D threshold eta_max on both sides (E(1 − ηa_𝓑)² ≶ 1);
    * Monte Carlo: R replicas of the SGD optimizer, E x_t and E x_t² (t = 1, 2) against the
      claims, Bernstein at the exact variance."""
    rng = host_rng(p)
    n, B, x0 = p["n"], p["B"], p["x0"]
    H1 = _curvatures(rng, n)
    a, s = _a_s(H1)
    eta = p["u"] / a
    subs = {"eta": eta, "a": a, "s": s, "n": float(n), "B": float(B)}
    model = SumOfQuadratics(to_xp(xp, H1))
    batches = _batches(n, B)
    x1 = _next_all(model, np.array([[x0]]), eta, batches, xp)[0, :, 0]      # exact law of x_1
    x2 = _next_all(model, x1[:, None], eta, batches, xp)[..., 0].ravel()     # and of x_2
    fp = _exact(max(float(np.max(x1**2)), float(np.max(x2**2)), x0**2), ops=4 * n)
    stmt = result.numeric(xp)
    outs = []
    for t, (before, after) in enumerate(((np.array([x0]), x1), (x1, x2))):
        col = np.reshape(to_numpy(stmt(m_t=float(before.mean()), q_t=float(np.mean(before**2)), **subs)), (2,))
        obs = np.array([after.mean(), np.mean(after**2)])
        outs.append(_close(col, obs, fp, quantity=f"statement: (E x_{t + 1}, E x²_{t + 1}) from t = {t}"))
    m = x1 / x0
    outs.append(_close(to_numpy(result.numeric(xp, part="mean_factor")(eta=eta, a=a)), m.mean(), fp,
                       quantity="mean_factor vs E(1 − ηa_𝓑)"))
    outs.append(_close(to_numpy(result.numeric(xp, part="second_moment_factor")(**subs)), np.mean(m**2), fp,
                       quantity="second_moment_factor vs E(1 − ηa_𝓑)²"))
    ratio, fr = _batch_variance_ratio(H1, B, xp)
    outs.append(_close(to_numpy(result.numeric(xp, part="batch_factor")(n=float(n), B=float(B))), ratio, fr,
                       quantity="batch_factor vs Var(a_𝓑)/s²", n=n, B=B))
    q_fn = result.numeric(xp, part="second_moment")
    for t, q in ((1, np.mean(x1**2)), (2, np.mean(x2**2))):
        outs.append(_close(to_numpy(q_fn(x_0=x0, t=float(t), **subs)), q, fp, quantity=f"second_moment at t = {t}"))
    e_max = float(result.numeric(xp, part="eta_max")(a=a, s=s, n=float(n), B=float(B)))
    outs += _one_d_sides(H1, e_max, B, xp, quantity="E(1 − ηa_𝓑)² (eta_max)", eta_max=e_max)
    # Monte Carlo with the SGD optimizer: E x_t and E x_t², t = 1, 2.
    R = p["R"]
    xs = to_numpy(run(model, SGD(eta, batch=B), xp.full((R, 1), x0, dtype=xp.float64), 2, record=("x",),
                      rng=int(p["seed"]) % 2**31).records["x"])[..., 0]
    mf = float(result.numeric(xp, part="mean_factor")(eta=eta, a=a))
    for t, law in ((1, x1), (2, x2)):
        for k, what in ((1, "E x"), (2, "E x²")):
            pred = mf**t * x0 if k == 1 else float(q_fn(x_0=x0, t=float(t), **subs))
            _, sd, b = _law(law**k)
            outs.append(Outcome.close(pred, float(np.mean(xs[t] ** k)), _bernstein(sd, b, R, m=4) + fp,
                                      quantity=f"{what}_{t}: SGD replicas vs claim", eta=eta))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_noise.covariance
@st.composite
def _noise_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(4, 8))
    return {"n": n, "B": draw(st.integers(2, min(4, n - 2))), "p": draw(st.integers(2, 4)), "R": 20000,
            "seed": draw(seeds)}


@check("sgd_noise.covariance", strategy=_noise_params(), examples=5,
       example={"n": 8, "B": 3, "p": 3, "R": 20000, "seed": 0})
def check_noise_covariance(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Minibatch gradients g_𝓑 of a sum of non-commuting quadratics at a fixed x.

    * exact (all C(n, B) subsets / n^B tuples): Cov[g_𝓑] entrywise equals the statement
      c·Σ^g; factor and with_replacement equal Tr Cov[g_𝓑]/Tr Σ^g without / with replacement;
    * Monte Carlo: one step of the SGD optimizer (η = 1) from x on R replicas, with and
      without replacement: E‖g_𝓑 − ḡ‖² and E(uᵀ(g_𝓑 − ḡ))(wᵀ(g_𝓑 − ḡ)) against the claims,
      Bernstein at the exact variance. 2 ≤ B ≤ n − 2 keeps (n−B)/(B(n−1)) and 1/B apart by
      ≥ (B−1)/(n−1) relative, many tolerances."""
    rng = host_rng(p)
    n, B, d, R = p["n"], p["B"], p["p"], p["R"]
    H = _rank2_ensemble(rng, n, d)
    x = rng.standard_normal(d)
    u, w = rng.standard_normal(d), rng.standard_normal(d)
    model = SumOfQuadratics(to_xp(xp, H))
    G = to_numpy(model.per_sample_grads(to_xp(xp, x[None])))[0]            # (n, d)
    gbar = G.mean(0)
    Sg = (G - gbar).T @ (G - gbar) / n
    cov = result.numeric(xp)
    outs = []
    fp = _exact(float(np.max(np.sum(G * G, 1))), ops=4 * n * d)
    for replace, part in ((False, "factor"), (True, "with_replacement")):
        e = -_next_all(model, x[None], 1.0, _batches(n, B, replace=replace), xp)[0] + x - gbar  # g_𝓑 − ḡ
        C = e.T @ e / e.shape[0]
        how = "with" if replace else "without"
        claim = (result.numeric(xp, part=part)(B=float(B)) if replace
                 else result.numeric(xp, part=part)(n=float(n), B=float(B)))
        outs.append(_close(to_numpy(claim), np.trace(C) / np.trace(Sg), _exact(1.0, ops=4 * n * d, cond=float(
            np.max(np.sum(G * G, 1)) / np.trace(Sg))), quantity=f"{part} vs Tr Cov[g_𝓑]/Tr Σ^g ({how} replacement)"))
        if not replace:
            outs.append(_close(to_numpy(cov(C=to_xp(xp, Sg), n=float(n), B=float(B))), C, fp,
                               quantity="statement c·Σ^g vs Cov[g_𝓑] (every entry)"))
        c = float(to_numpy(claim))
        step = run(model, SGD(1.0, batch=B, replace=replace), to_xp(xp, np.tile(x, (R, 1))), 1, record=(),
                   rng=int(p["seed"]) % 2**31 + int(replace))
        es = x - to_numpy(step.x) - gbar
        for q_all, q_mc, target, what in ((np.sum(e * e, 1), np.sum(es * es, 1), np.trace(Sg), "E‖g_𝓑 − ḡ‖²"),
                                          ((e @ u) * (e @ w), (es @ u) * (es @ w), u @ Sg @ w,
                                           "E(uᵀ(g_𝓑 − ḡ))(wᵀ(g_𝓑 − ḡ))")):
            pred = (float(to_numpy(cov(C=float(target), n=float(n), B=float(B)))) if not replace else c * target)
            _, sd, b = _law(q_all)
            outs.append(Outcome.close(pred, float(q_mc.mean()), _bernstein(sd, b, R, m=4) + fp,
                                      quantity=f"{what}: SGD ({how} replacement) vs claim", c=c))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_threshold
@st.composite
def _threshold_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(4, 8))
    return {"n": n, "B": draw(st.integers(2, n - 1)), "p": draw(st.integers(2, 4)),
            "u": round(draw(st.floats(0.3, 1.5)), 4), "n1": draw(st.integers(7, 12)),
            "u1": round(draw(st.floats(0.8, 1.6)), 4), "R": 20000, "seed": draw(seeds)}


def _second_moment_sides(result: Any, xp: Any, part: str, p: dict[str, Any], rng: np.random.Generator) -> list[Outcome]:
    """1-D tests of a claimed threshold in η or in s: below / at / above (exact laws)."""
    n1 = p["n1"]
    B1 = n1 // 3                        # B/(n − B) ≤ ½: the spike ensembles below are feasible
    eta = p["u"]
    f = result.numeric(xp, part=part)
    if part == "eta_max_1d":
        H1 = _curvatures(rng, n1)
        a, s = _a_s(H1)
        e = float(f(a=a, s=s, n=float(n1), B=float(B1)))
        return _one_d_sides(H1, e, B1, xp, quantity="E(1 − ηa_𝓑)² (eta_max_1d)", n=n1, batch=B1)
    if part == "necessary_nonuniformity":
        a = 1.0 / eta                   # the top direction's mean factor 1 − ηa vanishes
        s_claim = float(f(eta=eta, n=float(n1), B=float(B1)))
    else:                               # stable_region_s at a = u1/η
        a = p["u1"] / eta
        s_claim = float(f(a=a, eta=eta, n=float(n1), B=float(B1)))
    q = []
    for side in (1 - DELTA, 1.0, 1 + DELTA):
        H1 = _spike(a, side * s_claim, n1)
        if H1 is None or not math.isfinite(s_claim):
            return [Outcome.failure(f"{part}: s = {side * s_claim:.4g} exceeds a√(n−1) = {a * math.sqrt(n1 - 1):.4g}, "
                                    "which no ensemble with a_i ≥ 0 reaches", a=a, eta=eta)]
        q.append(_one_d_factor(H1, eta, B1, xp))
    return _sides(q[0], q[2], _exact(4.0, ops=4 * n1), at=q[1], quantity=f"E(1 − ηa_𝓑)² ({part})", a=a, eta=eta,
                  n=n1, B=B1)


@check("stability.sgd_threshold", strategy=_threshold_params(), examples=5,
       example={"n": 6, "B": 2, "p": 3, "u": 0.9, "n1": 9, "u1": 1.2, "R": 20000, "seed": 0})
def check_sgd_threshold(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """SGD on a sum of non-commuting quadratics (λ_max(H) = 1, η = u):

    * exact (all batches): E‖x_1‖² = x_0ᵀPx_0 (the statement, at several x_0);
      batch_factor = (E‖x_1‖² − ‖x_1^GD‖²)/(η² mean_i‖g_i − ḡ‖²); Monte Carlo: R SGD replicas;
    * both sides of each threshold, observed as the top eigenvalue of the exact one-step map
      E[(I − ηH_𝓑)ᵀ(I − ηH_𝓑)] (≤ 1 stable): necessary_sharpness with identical H_i (where it
      is tight) and with s > 0 above; necessary_nonuniformity on the 1-D spike ensemble with
      ηa = 1 (tight); stable_region_s at ηa = u1; eta_max_1d on random 1-D curvatures."""
    rng = host_rng(p)
    n, B, d, R = p["n"], p["B"], p["p"], p["R"]
    eta = p["u"]
    H = _rank2_ensemble(rng, n, d)
    model = SumOfQuadratics(to_xp(xp, H))
    Hm = H.mean(0)
    Sig = (H @ H).mean(0) - Hm @ Hm
    batches = _batches(n, B)
    X = rng.standard_normal((6, d))
    nxt = _next_all(model, X, eta, batches, xp)
    q = np.sum(nxt**2, axis=-1)                                        # (6, nb): ‖x_1‖² per batch
    subs = {"eta": eta, "n": float(n), "B": float(B)}
    pred = np.reshape(to_numpy(result.numeric(xp)(H=to_xp(xp, Hm), Sigma=to_xp(xp, Sig),
                                                  x_t=to_xp(xp, X[:, :, None]), **subs)), (6,))
    fp = _exact(float(np.max(np.sum(X * X, 1))) * (1 + eta) ** 2, ops=4 * n * d)
    outs = [_close(pred, q.mean(1), fp, quantity="statement x_0ᵀPx_0 vs E‖x_1‖² (all batches)")]
    gd = X[0] - eta * to_numpy(model.grad(to_xp(xp, X[:1])))[0]
    G = to_numpy(model.per_sample_grads(to_xp(xp, X[:1])))[0]
    var_g = float(np.mean(np.sum((G - G.mean(0)) ** 2, 1)))
    c_obs = (q[0].mean() - gd @ gd) / (eta**2 * var_g)
    outs.append(_close(to_numpy(result.numeric(xp, part="batch_factor")(n=float(n), B=float(B))), c_obs,
                       _exact(float(np.sum(X[0] ** 2)) * (1 + eta) ** 2 / (eta**2 * var_g), ops=4 * n * d),
                       quantity="batch_factor vs observed noise excess / (η² mean‖g_i − ḡ‖²)"))
    x1 = to_numpy(run(model, SGD(eta, batch=B), to_xp(xp, np.tile(X[0], (R, 1))), 1, record=(),
                      rng=int(p["seed"]) % 2**31).x)
    _, sd, b = _law(q[0])
    outs.append(Outcome.close(pred[0], float(np.mean(np.sum(x1**2, 1))), _bernstein(sd, b, R, m=1) + fp,
                              quantity="E‖x_1‖²: SGD replicas vs statement"))
    # necessary_sharpness: identical H_i (s = 0: the condition is then also sufficient).
    a_claim = float(result.numeric(xp, part="necessary_sharpness")(eta=eta))
    top = []
    H0 = spd_matrix(rng, d, 5.0)
    for side in (1 - DELTA, 1.0, 1 + DELTA):
        Hi = H0 * (side * a_claim / np.linalg.eigvalsh(H0)[-1])
        A = _step_matrices(SumOfQuadratics(to_xp(xp, np.repeat(Hi[None], n, 0))), eta, batches, xp)
        top.append(float(np.linalg.eigvalsh(np.mean(np.swapaxes(A, 1, 2) @ A, 0))[-1]))
    outs += _sides(top[0], top[2], _exact(4.0, ops=4 * d * n), at=top[1],
                   quantity="λ_max E[A_𝓑ᵀA_𝓑], identical H_i, a (necessary_sharpness)")
    Hs = H * ((1 + DELTA) * a_claim)                                   # s > 0, a above the bound
    A = _step_matrices(SumOfQuadratics(to_xp(xp, Hs)), eta, batches, xp)
    lam_top = float(np.linalg.eigvalsh(np.mean(np.swapaxes(A, 1, 2) @ A, 0))[-1])
    outs.append(Outcome.at_least(lam_top, 1.0 + 1e-12, tol.Tolerance(0.0, "a > bound must be unstable for any s"),
                                 quantity="λ_max E[A_𝓑ᵀA_𝓑] at a = (1 + δ)·necessary_sharpness, s > 0"))
    for part in ("necessary_nonuniformity", "stable_region_s", "eta_max_1d"):
        outs += _second_moment_sides(result, xp, part, p, rng)
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- sgd_exact_threshold
@st.composite
def _exact_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(3, 6))
    return {"n": n, "B": draw(st.integers(2, n - 1)), "p": draw(st.integers(2, 3)),
            "u": round(draw(st.floats(0.3, 1.5)), 4), "n1": draw(st.integers(4, 10)), "R": 20000,
            "seed": draw(seeds)}


def _moment_map(result: Any, xp: Any, H: np.ndarray, eta: float, B: int) -> np.ndarray:
    """The claimed map M ↦ M_{t+1} as a (p², p²) matrix (row-major vec), by evaluating the
    statement on the basis matrices E_kl (a leading axis of p² matrices)."""
    n, d = H.shape[0], H.shape[-1]
    E = np.eye(d * d).reshape(d * d, d, d)
    S = np.einsum("iab,kbc,icd->kad", H, E, H) / n                   # (1/n)Σ_i H_i E_kl H_i
    out = to_numpy(result.numeric(xp)(H=to_xp(xp, H.mean(0)), M_t=to_xp(xp, E), S_t=to_xp(xp, S), eta=eta,
                                      n=float(n), B=float(B)))
    return np.reshape(np.broadcast_to(out, (d * d, d, d)), (d * d, d * d)).T


def _observed_map(A: np.ndarray) -> np.ndarray:
    """E_𝓑[A_𝓑 M A_𝓑ᵀ] as a (p², p²) matrix from the model's step matrices."""
    d = A.shape[-1]
    E = np.eye(d * d).reshape(d * d, d, d)
    out = np.einsum("bij,kjl,bml->kim", A, E, A) / A.shape[0]
    return out.reshape(d * d, d * d).T


def _rho(T: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(T))))


@check("stability.sgd_exact_threshold", strategy=_exact_params(), examples=5,
       example={"n": 5, "B": 2, "p": 2, "u": 1.0, "n1": 6, "R": 20000, "seed": 0})
def check_sgd_exact_threshold(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The second-moment map of SGD on non-commuting quadratics:

    * exact: the statement's M_{t+1} equals E_𝓑[(I − ηH_𝓑)M(I − ηH_𝓑)] over all batches for
      random non-symmetric M (a transpose or a reversed product shows);
    * threshold on both sides: η* from the claimed map (ρ = 1, bisection); the observed map
      has ρ < 1 at (1 − δ)η* and ρ > 1 at (1 + δ)η*;
    * Monte Carlo: one step of R SGD replicas from x, E(uᵀx_1)(wᵀx_1) = uᵀM_1w, Bernstein;
    * 1-D: eta_max_1d on both sides; batch_factor = Var(a_𝓑)/s² (all batches)."""
    rng = host_rng(p)
    n, B, d, R, eta = p["n"], p["B"], p["p"], p["R"], p["u"]
    H = _rank2_ensemble(rng, n, d)
    model = SumOfQuadratics(to_xp(xp, H))
    batches = _batches(n, B)
    A = _step_matrices(model, eta, batches, xp)
    M = rng.standard_normal((3, d, d))                               # not symmetric
    S = np.einsum("iab,kbc,icd->kad", H, M, H) / n
    pred = to_numpy(result.numeric(xp)(H=to_xp(xp, H.mean(0)), M_t=to_xp(xp, M), S_t=to_xp(xp, S), eta=eta,
                                       n=float(n), B=float(B)))
    obs = np.einsum("bij,kjl,bml->kim", A, M, A) / len(batches)
    fp = _exact(float(np.max(np.abs(M))) * (1 + eta) ** 2, ops=4 * n * d * d)
    outs = [_close(pred, obs, fp, quantity="statement M_{t+1} vs E[(I − ηH_𝓑)M(I − ηH_𝓑)] (all batches)")]
    # Threshold: bisection for ρ(claimed map) = 1, then the observed map on both sides.
    from scipy.optimize import brentq  # noqa: PLC0415

    def excess(e: float) -> float:
        return _rho(_moment_map(result, xp, H, e, B)) - 1.0

    lo, hi = 0.0, eta
    while excess(hi) <= 0 and hi < 1e3:
        lo, hi = hi, 2 * hi
    e_star = brentq(excess, lo if lo > 0 else hi * 1e-6, hi, xtol=1e-15, rtol=4 * EPS) if excess(hi) > 0 else hi
    rb, r0, ra = (_rho(_observed_map(_step_matrices(model, f * e_star, batches, xp)))
                  for f in (1 - DELTA, 1.0, 1 + DELTA))
    outs += _sides(rb, ra, _exact(4.0, ops=4 * n * d**4, cond=10.0), at=r0, quantity="ρ of the observed moment map",
                   eta_star=e_star)
    # Monte Carlo: one SGD step from x, a non-symmetric functional of M_1.
    x = rng.standard_normal(d)
    u, w = rng.standard_normal(d), rng.standard_normal(d)
    M0 = np.outer(x, x)
    S0 = np.einsum("iab,bc,icd->ad", H, M0, H) / n
    M1 = to_numpy(result.numeric(xp)(H=to_xp(xp, H.mean(0)), M_t=to_xp(xp, M0), S_t=to_xp(xp, S0), eta=eta,
                                     n=float(n), B=float(B)))
    x1 = to_numpy(run(model, SGD(eta, batch=B), to_xp(xp, np.tile(x, (R, 1))), 1, record=(),
                      rng=int(p["seed"]) % 2**31).x)
    law = _next_all(model, x[None], eta, batches, xp)[0]
    _, sd, b = _law((law @ u) * (law @ w))
    outs.append(Outcome.close(float(u @ np.reshape(M1, (d, d)) @ w), float(np.mean((x1 @ u) * (x1 @ w))),
                              _bernstein(sd, b, R, m=1) + fp, quantity="E(uᵀx_1)(wᵀx_1): SGD replicas vs uᵀM_1w"))
    # 1-D: the closed-form threshold on both sides and the batch factor.
    n1 = p["n1"]
    B1 = max(2, n1 // 2)
    H1 = _curvatures(rng, n1)
    a, s = _a_s(H1)
    e1 = float(result.numeric(xp, part="eta_max_1d")(a=a, s=s, n=float(n1), B=float(B1)))
    outs += _one_d_sides(H1, e1, B1, xp, quantity="E(1 − ηa_𝓑)² (eta_max_1d)", n=n1, batch=B1)
    ratio, fr = _batch_variance_ratio(H1, B1, xp)
    outs.append(_close(to_numpy(result.numeric(xp, part="batch_factor")(n=float(n1), B=float(B1))), ratio, fr,
                       quantity="batch_factor vs Var(a_𝓑)/s²", n=n1, B=B1))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- general_optimizer
class _LinearMaps:
    """G(x; ξ) = A_ξ x for a finite family A_1..A_m (ξ uniform): a model for SGD with B = 1."""

    def __init__(self, A: Any) -> None:
        import array_api_compat  # noqa: PLC0415

        self.xp = array_api_compat.array_namespace(A)
        self.A, self.n, self.d = A, A.shape[0], A.shape[-1]
        self.p = self.d

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
    return {"m": draw(st.integers(2, 4)), "p": draw(st.integers(2, 3)), "t": 5, "R": 20000, "seed": draw(seeds)}


def _bisect(f: Any, target: float, lo: float, hi: float) -> float:
    """η in [lo, hi] with f(η) = target, f(lo) < target < f(hi) (f convex in η past its minimum)."""
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return 0.5 * (lo + hi)


@check("stability.general_optimizer", strategy=_general_params(), examples=5,
       example={"m": 3, "p": 2, "t": 5, "R": 20000, "seed": 0})
def check_general_optimizer(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """x ← x − ηA_ξx with non-symmetric A_ξ (PSD plus antisymmetric), ξ uniform on m maps.
    The one-step matrices B_ξ are read off the simulated step; ρ = ρ(E B_ξ) and
    λ = λ_max(E[B_ξᵀB_ξ]) are their definitions. At three step sizes (found by bisection):

    * λ at its minimum over η, and a small η with ρ = 1 − δ/2 (λ < 1 at both): the statement
      is true; the exact E‖x_t‖² (all ξ-paths) never increases,
      and R simulated replicas agree with it (Bernstein at the exact law);
    * λ = 1 + δ (ρ < 1): the statement is false; from the top eigenvector of E[BᵀB] one step
      increases E‖x‖² (exact over all ξ; R replicas agree with it within Bernstein's bound);
    * ρ = 1 + δ: the statement is false and the mean (E B)^t x_0 grows."""
    rng = host_rng(p)
    m, d, t, R = p["m"], p["p"], p["t"], p["R"]
    Hs = _rank2_ensemble(rng, m, d) + 0.2 * np.eye(d)
    K = rng.standard_normal((m, d, d))
    A = Hs + 0.5 * (K - np.swapaxes(K, 1, 2))
    model = _LinearMaps(to_xp(xp, A))
    # The simulated step x − ηG(x; ξ) is affine in η: read G's matrices off one step at η = 1.
    A_obs = np.eye(d)[None] - _step_matrices(model, 1.0, np.arange(m)[:, None], xp)

    def maps(eta: float) -> np.ndarray:
        return np.eye(d)[None] - eta * A_obs                              # (m, d, d): B_ξ

    def rho(eta: float) -> float:
        return _rho(maps(eta).mean(0))

    def lam(eta: float) -> float:
        Bm = maps(eta)
        return float(np.linalg.eigvalsh(np.mean(np.swapaxes(Bm, 1, 2) @ Bm, 0))[-1])

    top = 1.0
    while rho(top) < 1 + 2 * DELTA:
        top *= 2
    # λ(η) and ρ(η) are convex in η (maxima of convex functions), < 1 just above 0: (A) at
    # λ's minimum, (B) and (C) where λ and ρ rise through 1 + δ past their minima.
    grid = np.linspace(0.0, top, 401)[1:]
    Bg = np.eye(d) - grid[:, None, None, None] * A_obs[None]           # (401, m, d, d)
    rho_g = np.max(np.abs(np.linalg.eigvals(Bg.mean(1))), axis=-1)
    lam_g = np.linalg.eigvalsh(np.mean(np.swapaxes(Bg, -1, -2) @ Bg, 1))[:, -1]
    eta_a = float(grid[int(np.argmin(lam_g))])
    eta_b = _bisect(lam, 1 + DELTA, eta_a, top)
    rho_min_at = float(grid[int(np.argmin(rho_g))])
    eta_c = _bisect(rho, 1 + DELTA, rho_min_at, top)
    stmt = result.numeric(xp)
    fp = _exact(1.0, ops=4 * t * d * d * m, cond=10.0)
    outs = []
    # (A) stable: exact second moments over all m^t paths, non-increasing; replicas agree.
    # Also at a small step where ρ = 1 − δ/2 (λ < 1 there too): both conditions nearly tight.
    small = ([_bisect(lambda e: -rho(e), -(1 - DELTA / 2), 0.0, rho_min_at)]
             if rho(rho_min_at) < 1 - DELTA / 2 else [])
    for eta in (*small, eta_a):
        Bm = maps(eta)
        x0 = np.linalg.eigh(np.mean(np.swapaxes(Bm, 1, 2) @ Bm, 0))[1][:, -1]
        paths = x0[None]
        sq = [1.0]
        for _ in range(t):
            paths = np.einsum("kij,pj->pki", Bm, paths).reshape(-1, d)
            sq.append(float(np.mean(np.sum(paths**2, 1))))
        outs.append(_verdict(stmt(rho_mean=rho(eta), lambda_sq=lam(eta)), bool(np.all(np.diff(sq) <= float(fp))),
                             quantity="statement true where E‖x_t‖² never increases", eta=eta,
                             rho=rho(eta), lam=lam(eta)))
    xs = to_numpy(run(model, SGD(eta_a, batch=1), to_xp(xp, np.tile(x0, (R, 1))), t, record=(),
                      rng=int(p["seed"]) % 2**31).x)
    _, sd, b = _law(np.sum(paths**2, 1))
    outs.append(Outcome.close(sq[-1], float(np.mean(np.sum(xs**2, 1))), _bernstein(sd, b, R, m=2) + fp,
                              quantity=f"E‖x_{t}‖²: replicas vs all paths", eta=eta_a))
    # (B) one step from the top eigenvector increases E‖x‖² while the mean is stable.
    Bm = maps(eta_b)
    v = np.linalg.eigh(np.mean(np.swapaxes(Bm, 1, 2) @ Bm, 0))[1][:, -1]
    if rho(eta_b) < 1:
        one = np.sum(np.einsum("kij,j->ki", Bm, v) ** 2, 1)
        outs.append(_verdict(stmt(rho_mean=rho(eta_b), lambda_sq=lam(eta_b)), not bool(one.mean() > 1 + float(fp)),
                             quantity="statement false where one step increases E‖x‖²", eta=eta_b))
        x1 = to_numpy(run(model, SGD(eta_b, batch=1), to_xp(xp, np.tile(v, (R, 1))), 1, record=(),
                          rng=int(p["seed"]) % 2**31 + 1).x)
        _, sd, b = _law(one)
        outs.append(Outcome.close(float(one.mean()), float(np.mean(np.sum(x1**2, 1))), _bernstein(sd, b, R, m=2) + fp,
                                  quantity="E‖x_1‖² from the top eigenvector: replicas vs all ξ", eta=eta_b))
    # (C) the mean grows: ρ(E B) = 1 + δ, (E B)^k x_0 over k = log(10³)/log(1 + δ) steps.
    k = math.ceil(math.log(1e3) / math.log(1 + DELTA))
    Em = maps(eta_c).mean(0)
    x0 = rng.standard_normal(d)
    grown = float(np.linalg.norm(np.linalg.matrix_power(Em, k) @ x0) / np.linalg.norm(x0))
    outs.append(_verdict(stmt(rho_mean=rho(eta_c), lambda_sq=lam(eta_c)), grown <= 1.0,
                         quantity="statement false where the mean grows", eta=eta_c, growth=grown))
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- preconditioned
@st.composite
def _precond_params(draw: Any) -> dict[str, Any]:
    return {"p": draw(st.integers(2, 5)), "cond": round(draw(st.floats(2.0, 20.0)), 4),
            "d_cond": round(draw(st.floats(2.0, 20.0)), 4), "mu_max": draw(log_uniform(3.0, 30.0)),
            "delta": round(draw(st.floats(0.01, DELTA)), 4), "seed": draw(seeds)}


@check("stability.preconditioned", strategy=_precond_params(), examples=5,
       example={"p": 3, "cond": 5.0, "d_cond": 4.0, "mu_max": 5.0, "delta": 0.02, "seed": 0})
def check_preconditioned(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """GD with metric D, x ← x − ηD⁻¹Hx, for H and D ≻ 0 in independent random bases (they
    do not commute, so λ(D⁻¹H) ≠ λ(DH), λ(H)/λ(D)). μ_max = λ_max(D⁻¹H) by a general eigensolve
    of D⁻¹H (its definition). At η = (1 ∓ δ)·threshold: ‖x_K‖_D ≤ ‖x_0‖_D below, > above
    (the top mode grows by (1 + 2δ)^K ≥ 10³), and the statement μ_max ≤ 2/η is true exactly
    where the simulation was stable. Deterministic: rounding tolerances."""
    rng = host_rng(p)
    d, delta = p["p"], p["delta"]
    H = spd_matrix(rng, d, p["cond"])
    D = spd_matrix(rng, d, p["d_cond"])
    H *= p["mu_max"] / float(np.max(np.linalg.eigvals(np.linalg.solve(D, H)).real))
    mu_max = float(np.max(np.linalg.eigvals(np.linalg.solve(D, H)).real))
    Ld, Ud = np.linalg.eigh(D)
    Dh, Dih = (Ud * np.sqrt(Ld)) @ Ud.T, (Ud / np.sqrt(Ld)) @ Ud.T
    W = np.linalg.eigh(Dih @ H @ Dih)[1]
    x0 = (Dih @ W @ rng.choice([-1.0, 1.0], d))[None, :]          # every D-orthonormal mode ±1
    thr = float(result.numeric(xp, part="threshold")(mu_max=mu_max))
    stable = result.numeric(xp)
    K = math.ceil(math.log(1e3) / math.log(1 + 2 * delta))
    model = SumOfQuadratics(to_xp(xp, H[None]))
    kappa = p["cond"] * p["d_cond"]
    growth, outs = {}, []
    for side, eta in (("below", (1 - delta) * thr), ("above", (1 + delta) * thr)):
        xK = to_numpy(run(model, GD(eta, metric=to_xp(xp, D)), to_xp(xp, x0), K, record=()).x)
        g = float(np.linalg.norm(xK @ Dh) / np.linalg.norm(x0 @ Dh))
        growth[side] = g
        outs.append(_verdict(stable(mu_max=mu_max, eta=eta), g <= 1 + float(_exact(1.0, ops=K * d, cond=kappa)),
                             quantity=f"statement μ_max ≤ 2/η vs preconditioned GD stable ({side})", eta=eta, K=K))
    x1 = to_numpy(run(model, GD(thr, metric=to_xp(xp, D)), to_xp(xp, x0), 1, record=()).x)[0]
    marginal = abs(float((x1 @ Dh) @ W[:, -1]) / float((x0[0] @ Dh) @ W[:, -1]))  # top mode at the threshold
    outs += _sides(growth["below"], growth["above"], _exact(1.0, ops=K * d, cond=kappa), at=marginal,
                   quantity="preconditioned GD growth (‖x_K‖_D/‖x_0‖_D; top-mode factor at the threshold)",
                   K=K, delta=delta)
    return Outcome.all_of(outs)


# ---------------------------------------------------------------- escape example
_ESCAPE = {"eta": 0.7, "x0_gap": 1e-5, "R": 1000, "T": 300, "seed": 0}


def _escape_runs(p: dict[str, Any], xp: Any, record_every: int = 1) -> tuple[Any, Any]:
    m = escape_example(xp=xp)
    x0 = xp.full((p["R"], 1), 1 - p["x0_gap"], dtype=xp.float64)
    gd = run(m, GD(p["eta"]), x0[:1, :], p["T"], record=("x",), record_every=record_every)
    sgd = run(m, SGD(p["eta"], batch=1), x0, p["T"], record=("x",), record_every=record_every,
              rng=int(p["seed"]) % 2**31)
    return gd, sgd


def _multipliers(xp: Any, eta: float, center: float, gap: float) -> tuple[np.ndarray, float]:
    """Per-sample SGD multipliers (x_1 − c)/(x_0 − c) at x_0 = c − gap, and the GD one."""
    m = escape_example(xp=xp)
    x0 = np.array([[center - gap]])
    per = _next_all(m, x0, eta, _batches(2, 1), xp)[0, :, 0]
    full = float(to_numpy(m.grad(to_xp(xp, x0)))[0, 0])
    return (per - center) / (x0[0, 0] - center), (x0[0, 0] - eta * full - center) / (x0[0, 0] - center)


@check("stability.sgd_escape_example", example=_ESCAPE)
def check_escape_example(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """f = ½(f₁ + f₂) of the seed, simulated.

    * exact, at η ∈ {0.3, 0.5, 0.7, 0.9}: the one-step second-moment factor of single-sample
      SGD at 1 (both samples) equals the statement q_1(η) and sgd_factor_at_1; GD's factor at
      1 and at 0 equals gd_factor (relative rounding ε/gap);
    * at η = 0.7: GD from 1 − 10⁻⁵ stays (|x_T − 1| ≤ |gd_factor|^T·10⁻⁵); every SGD replica
      leaves |x − 1| ≤ 0.4 — log|x − 1| is a random walk with the observed steps log|m_ξ|,
      Hoeffding bounds P(not yet) — and a binomial test at the check's false-alarm rate
      says more than half the replicas end at 0 (|x_T| < 10⁻⁶; the rate of absorption at 0
      is not certified)."""
    gap, T, R = p["x0_gap"], p["T"], p["R"]
    q1 = result.numeric(xp)
    q1_part = result.numeric(xp, part="sgd_factor_at_1")
    gdf = result.numeric(xp, part="gd_factor")
    outs = []
    fp = _exact(1.0 / gap, ops=8)
    for eta in (0.3, 0.5, 0.7, 0.9):
        per, gd1 = _multipliers(xp, eta, 1.0, gap)
        _, gd0 = _multipliers(xp, eta, 0.0, gap)
        q_obs = float(np.mean(per**2))
        outs.append(_close(to_numpy(q1(eta=eta)), q_obs, fp, quantity="statement q_1(η) vs E m_ξ² at 1", eta=eta))
        outs.append(_close(to_numpy(q1_part(eta=eta)), q_obs, fp, quantity="sgd_factor_at_1 vs E m_ξ² at 1", eta=eta))
        outs.append(_close(to_numpy(gdf(eta=eta)), np.array([gd1, gd0]), fp,
                           quantity="gd_factor vs GD's (x_1 − c)/(x_0 − c) at c = 1 and c = 0", eta=eta))
    eta = p["eta"]
    per, _ = _multipliers(xp, eta, 1.0, gap)
    gd, sgd = _escape_runs(p, xp)
    g = abs(float(to_numpy(gdf(eta=eta))))
    outs.append(Outcome.at_most(abs(float(to_numpy(gd.x)[0, 0]) - 1.0), g**T * gap, _exact(1.0, ops=T),
                                quantity="GD: |x_T − 1| ≤ |gd_factor|^T·gap"))
    steps = np.log(np.abs(per))
    drift, span = float(steps.mean()), float(np.ptp(steps))
    rise = math.log(0.4 / gap)
    bound = math.exp(-2 * (T * drift - rise) ** 2 / (T * span**2)) if T * drift > rise else 1.0
    esc, when = first_exit(sgd.records["x"], sgd.steps, xp.asarray([1.0], dtype=xp.float64), 0.4)
    n_stay = R - int(to_numpy(esc).sum())
    outs.append(Outcome.at_most(n_stay, 0, tol.Tolerance(0.0, f"Hoeffding: P(a replica stays) ≤ {bound:.1e}, "
                                f"R·P = {R * bound:.1e} ≤ false alarm {tol.FALSE_ALARM:g}"),
                                quantity="SGD replicas that never left |x − 1| ≤ 0.4", drift=drift,
                                median_exit=float(np.median(to_numpy(when)))))
    if R * bound > tol.FALSE_ALARM:
        outs.append(Outcome.failure(f"T = {T} too short: R·P(stay) = {R * bound:.2g}"))
    at0 = int(np.sum(np.abs(to_numpy(sgd.x)[:, 0]) < 1e-6))
    k = tol.binomial_critical(R, 0.5, tol.FALSE_ALARM)
    outs.append(Outcome.at_least(at0, k, tol.Tolerance(0.0, f"binomial test: ≥ {k} of {R} rejects "
                                 f"'P(at 0) ≤ ½' at level {tol.FALSE_ALARM:g}"),
                                 quantity="SGD replicas at 0 (|x_T| < 1e-6)"))
    return Outcome.all_of(outs)


# ========================================================================== figures
@figure("stability.sgd_escape_example")
def figure_escape(p: dict[str, Any], xp: Any) -> Any:
    """The 1-D example f = ½(f₁ + f₂) at η = 0.7 from just off the minimum x = 1: GD stays
    there, eight SGD (B = 1) replicas leave it and settle at the minimum x = 0."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    q = dict(p, R=8, T=150)
    gd, sgd = _escape_runs(q, xp)
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    k = np.array(gd.steps)
    xs = to_numpy(sgd.records["x"])[..., 0]
    for r in range(xs.shape[1]):
        ax.plot(k, xs[:, r], color="tab:orange", lw=0.8, alpha=0.8, label="SGD (B = 1)" if r == 0 else None)
    ax.plot(k, to_numpy(gd.records["x"])[:, 0, 0], color="tab:blue", lw=2, label="GD")
    ax.axhline(1.0, color="k", ls=":", lw=0.8, label="minimum x = 1 (stable for GD, not for SGD)")
    ax.axhline(0.0, color="k", ls="--", lw=0.8, label="minimum x = 0")
    ax.set_xlabel("step t")
    ax.set_ylabel("iterate x_t (units of x)")
    ax.set_title("GD stays at x = 1, SGD escapes to 0: f = ½(f₁ + f₂), η = 0.7, x₀ = 1 − 10⁻⁵",
                 fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig


@figure("stability.sgd_threshold")
def figure_sharpness_nonuniformity(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """The seed's diagram: stable regions s ≤ s_∂(a) for a few (η, B), with simulated 1-D minima
    (random a_i, n = 20) marked by the simulated mean-square growth of SGD (η = 0.5, B = 2):
    E x_1²/x_0² over R replicas (one step, so the estimate is not dominated by rare
    trajectories as long-run sample means of a heavy-tailed product are)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    edge = result.numeric(np, part="stable_region_s")
    n = 20
    fig, ax = plt.subplots(figsize=(8.2, 4))
    for eta, B, style in ((0.5, 2, "k-"), (0.5, 8, "k--"), (0.8, 2, "b-"), (0.8, 8, "b--")):
        a = np.linspace(0, 2 / eta, 401)[1:]  # a > 0: the Result's sharpness is positive
        ax.plot(a, edge(a=a, eta=eta, n=float(n), B=float(B)), style,
                label=f"stable region edge s_∂(a), η = {eta}, B = {B}")
    rng = host_rng(p, 3)
    eta, B, R, T = 0.5, 2, 4000, 1
    pts, esc = [], []
    for _ in range(40):
        a_vals = rng.gamma(rng.uniform(0.3, 3), 1.0, n)
        a_vals *= rng.uniform(0.5, 4.5) / a_vals.mean()
        model = SumOfQuadratics(to_xp(xp, a_vals[:, None, None]))
        tr = run(model, SGD(eta, batch=B), xp.ones((R, 1), dtype=xp.float64), T, record=(),
                 rng=int(rng.integers(2**31)))
        pts.append((a_vals.mean(), a_vals.std()))
        esc.append(bool(np.mean(to_numpy(tr.x) ** 2) > 1.0))
    pts = np.array(pts)
    esc = np.array(esc)
    ax.scatter(*pts[~esc].T, c="tab:green", s=16, label="simulated: E x² shrinks (η = 0.5, B = 2)")
    ax.scatter(*pts[esc].T, c="tab:red", marker="x", s=20, label="simulated: E x² grows")
    ax.set_xlabel("sharpness a (units of curvature)")
    ax.set_ylabel("non-uniformity s (units of curvature)")
    ax.set_title(f"sharpness–non-uniformity diagram (n = {n}; Result's part stable_region_s)",
                 fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig


@figure("stability.gd_threshold")
def figure_gd_threshold(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """GD's measured growth rate per step, (2/K)log(‖x_K‖/‖x_{K/2}‖), against η on the check's
    quadratic, with the Result's slowest-mode rate max_j log|mode_factor(η, λ_j)| as a curve
    and its threshold 2/λ_max as a vertical line; the region where the statement
    λ_max ≤ 2/η holds is shaded."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    rng = host_rng(p)
    d = p["p"]
    H = spd_matrix(rng, d, p["cond"])
    H *= p["lam_max"] / np.linalg.eigvalsh(H)[-1]
    lam, V = np.linalg.eigh(H)
    x0 = (V @ rng.choice([-1.0, 1.0], d))[None, :]
    thr = float(result.numeric(xp, part="threshold")(lambda_max=lam[-1]))
    factor = result.numeric(xp, part="mode_factor")
    stable = result.numeric(xp)
    model = SumOfQuadratics(to_xp(xp, H[None]))
    # K = 40: the fastest growth drawn, e^{0.5 K}, stays far below the engine's divergence
    # bound (a frozen replica would flatten the points), and the slowest decaying mode
    # dominates the others after a few steps.
    K = 40
    etas = thr * np.linspace(0.05, 1.25, 25)
    rates = []
    for eta in etas:
        # The rate over the second half of the run: the modes' weights in x_0 (a constant
        # offset log(‖x_K‖/‖x_0‖) − K·rate) drop out.
        xh = run(model, GD(float(eta)), to_xp(xp, x0), K // 2, record=()).x
        xK = run(model, GD(float(eta)), xh, K // 2, record=()).x
        nh, nK = (float(np.linalg.norm(to_numpy(v)[0])) for v in (xh, xK))
        rates.append(math.log(nK / nh) / (K // 2))
    grid = thr * np.linspace(0.02, 1.3, 400)
    f = np.abs(to_numpy(factor(eta=to_xp(xp, grid[:, None]), lambda_j=to_xp(xp, lam[None, :]))))
    holds = np.asarray(to_numpy(stable(lambda_max=lam[-1], eta=to_xp(xp, grid))), dtype=bool)
    fig, ax = plt.subplots(figsize=(7.6, 3.6))
    ax.fill_between(grid, 0, 1, where=np.broadcast_to(holds, grid.shape), color="0.9",
                    transform=ax.get_xaxis_transform(), label="statement λ_max ≤ 2/η holds")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.plot(grid, np.log(f).max(axis=1), "k-", lw=1.2,
            label="max_j log|mode_factor(η, λ_j)| (Result)")
    ax.plot(etas, rates, "o", ms=4, color="tab:blue",
            label=f"GD, measured (2/K)·log(‖x_K‖/‖x_K/2‖), K = {K}")
    ax.axvline(thr, color="tab:red", ls="--", label=f"threshold 2/λ_max = {thr:.3g} (Result)")
    ax.set_xlabel(f"step size η (units of 1/curvature; λ_max = {lam[-1]:.3g})")
    ax.set_ylabel("growth rate per step\n(dimensionless; < 0 converges)")
    ax.set_title(f"GD on ½xᵀHx, p = {d}, λ(H) ∈ [{lam[0]:.2g}, {lam[-1]:.2g}]: "
                 "stable iff η ≤ 2/λ_max", fontsize=MIN_FONT + 2)
    legend_outside(ax, where="below", ncol=2)
    fig.tight_layout()
    return fig


@figure("stability.sgd_exact_threshold")
def figure_sgd_exact_threshold(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """log ρ of the second-moment map against η for every batch size B on the check's
    non-commuting quadratics: the Result's map (statement, evaluated on a basis) as curves,
    the map measured from the model's own steps over all batches as points, and the
    claimed mean-square thresholds η*(B) (ρ = 1) as vertical lines."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from scipy.optimize import brentq  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    rng = host_rng(p)
    n, d = p["n"], p["p"]
    H = _rank2_ensemble(rng, n, d)
    model = SumOfQuadratics(to_xp(xp, H))
    fig, ax = plt.subplots(figsize=(7.8, 3.8))
    ax.axhline(0.0, color="k", lw=0.6)
    for B in range(1, n + 1):
        def excess(e: float, B: int = B) -> float:
            return _rho(_moment_map(result, xp, H, e, B)) - 1.0

        hi = 4.0  # λ_max(H) = 1: GD's threshold is 2, SGD's is below it
        e_star = brentq(excess, 1e-3, hi, xtol=1e-10)
        grid = np.linspace(0.02, 1.0, 120) * 1.6 * e_star
        pts = np.linspace(0.1, 1.0, 8) * 1.5 * e_star
        (line,) = ax.plot(grid, [math.log(_rho(_moment_map(result, xp, H, e, B))) for e in grid],
                          "-", lw=1.2, label=f"B = {B}{' (GD)' if B == n else ''}: Result, η* = {e_star:.3g}")
        batches = _batches(n, B)
        obs = [math.log(_rho(_observed_map(_step_matrices(model, float(e), batches, xp)))) for e in pts]
        ax.plot(pts, obs, "o", ms=4, color=line.get_color())
        ax.axvline(e_star, color=line.get_color(), ls=":", lw=1)
    ax.plot([], [], "o", ms=4, color="0.4", label="measured from the model's steps (all batches)")
    ax.plot([], [], ":", color="0.4", label="claimed threshold η*(B): ρ = 1")
    ax.set_xlabel("step size η (units of 1/λ_max(H); λ_max(H) = 1)")
    ax.set_ylabel("log ρ(second-moment map)\nper step (dimensionless)")
    ax.set_title(f"SGD mean-square stability on n = {n} rank-2 quadratics in p = {d}\n"
                 "(batches without replacement): smaller batches, smaller η*", fontsize=MIN_FONT + 2)
    legend_outside(ax, where="right")
    fig.tight_layout()
    return fig
