"""The intervals of :mod:`numerics.sharpness`, measured against problems with known spectra.

Each Hypothesis example is one draw set: ``R = 1000`` problems ``H = Q diag(λ) Qᵀ`` (``Q``
Haar-random orthogonal, ``λ`` from a drawn family) measured in one batched call, so the
coverage of a stated 95 % interval is a count of ``Bin(R, c)``.

Decisions
---------
* Coverage (statistical intervals): reject when ``P(Bin(R, level) ≤ covered) < ALPHA``
  (exact one-sided binomial test, ``ALPHA = 1e-3`` per example; ``EXAMPLES`` examples per
  test, so at most ``EXAMPLES·ALPHA`` per test run when the coverage is exactly ``level``,
  and none at all in CI, where Hypothesis is derandomized). With R = 1000 this rejects an
  observed coverage below 92.9 %; an interval made tenfold narrower covers about 16 % and
  is rejected (``test_tenfold_narrower_intervals_are_rejected``).
* Width: the median over the R problems of the half-width over its derived value
  ``t·σ/√m`` (σ the exact standard deviation of one probe value, from the spectrum) lies in
  ``[0.8, 1.2]``: the median of ``s/σ`` for ``m ≥ 10`` values is ``1 − O(1/m)`` (0.97 for
  Gaussian values, m = 10) and its sampling spread over 1000 problems is ~0.01, so a
  tenfold wider interval fails.
* Deterministic brackets (level 1): every problem where the stated condition holds
  (checked with the known spectrum) must be covered.

The families are spectra without a few dominant eigenvalues (uniform on [0, 1] or [−1, 1],
power laws ``i^{-a}`` with ``0.1 ≤ a ≤ 1/2``): there the probe values are close to Gaussian. With
a dominant eigenvalue they are skewed (a weighted χ²) and the t-interval undercovers for
few probes; measured with this file's machinery at ``λ_i = i^{-2}``, p = 40, m = 10:
Hutchinson 0.89, PAC-Bayes 0.88 — the ``hessian_trace`` docstring says so.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom
from scipy.stats import t as student_t

from numerics.backend import to_numpy
from numerics.sharpness import (
    epsilon_sharpness,
    flatness_radius,
    hessian_trace,
    pac_bayes_sharpness,
    top_eigenvalue,
)

R = 1000
ALPHA = 1e-3
EXAMPLES = 3
EPS = np.finfo(np.float64).eps


def _binomial_ok(covered: np.ndarray, level: float, alpha: float = ALPHA) -> tuple[bool, str]:
    n, k = covered.size, int(np.sum(covered))
    pval = float(binom.cdf(k, n, level))
    return pval >= alpha, f"covered {k}/{n} = {k / n:.3f}, P(Bin({n}, {level}) <= {k}) = {pval:.2e}"


def _problems(params: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, lam, Q): R matrices Q diag(λ) Qᵀ with λ from the drawn family."""
    p, fam = params["p"], params["family"]
    if fam == "uniform":
        lam = rng.uniform(0.0, 1.0, (R, p))
    elif fam == "indefinite":
        lam = rng.uniform(-1.0, 1.0, (R, p))
    else:
        lam = np.broadcast_to(np.arange(1, p + 1) ** -params["a"], (R, p)).copy()
    Q, _ = np.linalg.qr(rng.standard_normal((R, p, p)))
    H = np.einsum("rij,rj,rkj->rik", Q, lam, Q)
    return 0.5 * (H + np.swapaxes(H, 1, 2)), lam, Q


def _hvp(H: np.ndarray):
    return lambda v: np.einsum("rij,rj->ri", H, v)


problem_params = st.fixed_dictionaries({
    "p": st.integers(20, 32),
    "m": st.integers(10, 40),
    "family": st.sampled_from(["uniform", "indefinite", "power"]),
    "a": st.floats(0.1, 0.5),  # a = 0 is H = I: every Rademacher probe value is exactly p
    "seed": st.integers(0, 2**31 - 1),
})


def _probe_sd(H: np.ndarray) -> np.ndarray:
    """Exact sd of zᵀHz, z Rademacher: sqrt(2(‖H‖_F² − Σ H_ii²))."""
    return np.sqrt(2 * (np.sum(H**2, axis=(1, 2)) - np.sum(np.diagonal(H, axis1=1, axis2=2) ** 2, -1)))


# ------------------------------------------------------------------ statistical intervals
@settings(max_examples=EXAMPLES)
@given(problem_params)
def test_hutchinson_interval_covers_at_its_level(params: dict) -> None:
    rng = np.random.default_rng(params["seed"])
    H, lam, _ = _problems(params, rng)
    m = params["m"]
    est = hessian_trace(_hvp(H), (R, params["p"]), rng=params["seed"] + 1, matvecs=m,
                        method="hutchinson")
    assert est.level == 0.95 and "Student-t" in est.meaning
    ok, msg = _binomial_ok(to_numpy(est.covers(lam.sum(-1))), 0.95)
    assert ok, msg
    derived = student_t.ppf(0.975, m - 1) * _probe_sd(H) / math.sqrt(m)
    ratio = float(np.median(to_numpy(est.half_width) / derived))
    assert 0.8 <= ratio <= 1.2, ratio


@settings(max_examples=EXAMPLES)
@given(problem_params, st.integers(40, 56), st.integers(10, 14))
def test_hutchpp_interval_covers_at_its_level(params: dict, p: int, m: int) -> None:
    """Hutch++ with matvecs = 3m: k = m sketch columns, m deflated probes, k ≤ p/2.8 so that
    the deflated remainder (I − QQᵀ)H(I − QQᵀ) keeps rank p − k ≥ 26 and its probe values
    stay near Gaussian (with p − k = 4, p = 20, k = 16, the coverage measured 0.924)."""
    params = {**params, "p": p}
    rng = np.random.default_rng(params["seed"])
    H, lam, _ = _problems(params, rng)
    est = hessian_trace(_hvp(H), (R, p), rng=params["seed"] + 1, matvecs=3 * m, method="hutch++")
    ok, msg = _binomial_ok(to_numpy(est.covers(lam.sum(-1))), 0.95)
    assert ok, msg
    # The deflated probe variance is at most Hutchinson's (‖PHP‖_F ≤ ‖H‖_F, P a projector):
    bound = student_t.ppf(0.975, m - 1) * np.sqrt(2 * np.sum(H**2, axis=(1, 2))) / math.sqrt(m)
    assert float(np.median(to_numpy(est.half_width) / bound)) <= 1.2


@settings(max_examples=EXAMPLES)
@given(problem_params)
def test_pac_bayes_interval_covers_at_its_level(params: dict) -> None:
    """On L = ½(x − c)ᵀH(x − c) the antithetic draw is exactly ½vᵀHv, so the truth is
    (σ²/2)Tr H and one draw has sd σ²‖H‖_F/√2."""
    rng = np.random.default_rng(params["seed"])
    H, lam, _ = _problems(params, rng)
    m, p, sigma = params["m"], params["p"], 0.1
    c = rng.standard_normal((R, p))
    f = lambda x: 0.5 * np.einsum("ri,rij,rj->r", x - c, H, x - c)  # noqa: E731
    est = pac_bayes_sharpness(f, rng.standard_normal((R, p)), sigma=sigma, samples=m,
                              rng=params["seed"] + 2)
    ok, msg = _binomial_ok(to_numpy(est.covers(0.5 * sigma**2 * lam.sum(-1))), 0.95)
    assert ok, msg
    derived = student_t.ppf(0.975, m - 1) * sigma**2 * np.sqrt(np.sum(H**2, axis=(1, 2)) / 2) / math.sqrt(m)
    ratio = float(np.median(to_numpy(est.half_width) / derived))
    assert 0.8 <= ratio <= 1.2, ratio


def test_tenfold_narrower_intervals_are_rejected() -> None:
    """The coverage decision has power: the same intervals, tenfold narrower about the
    value, are rejected for all three estimators (and the originals accepted)."""
    params = {"p": 24, "m": 20, "family": "uniform", "a": 0.0, "seed": 5}
    rng = np.random.default_rng(5)
    H, lam, _ = _problems(params, rng)
    tr = lam.sum(-1)
    ests = [(hessian_trace(_hvp(H), (R, 24), rng=6, matvecs=20, method="hutchinson"), tr),
            (hessian_trace(_hvp(H), (R, 24), rng=7, matvecs=30, method="hutch++"), tr)]
    f = lambda x: 0.5 * np.einsum("ri,rij,rj->r", x, H, x)  # noqa: E731
    ests.append((pac_bayes_sharpness(f, np.zeros((R, 24)), sigma=0.1, samples=20, rng=8),
                 0.005 * tr))
    for est, truth in ests:
        v, h = to_numpy(est.value), to_numpy(est.half_width) / 10
        assert _binomial_ok(to_numpy(est.covers(truth)), 0.95)[0]
        assert not _binomial_ok((v - h <= truth) & (truth <= v + h), 0.95)[0]


# --------------------------------------------------------------- deterministic brackets
@settings(max_examples=EXAMPLES)
@given(problem_params, st.integers(12, 20))
def test_lanczos_bracket_covers_at_convergence(params: dict, p: int) -> None:
    """Converged Lanczos (rtol = 1e-8): λ_max ∈ [low, high] and [low, high_gap] for every
    problem; the width is at most rtol·|θ| + 2δ, δ = p·eps·‖H‖ (the derived width).
    (p ≤ 20 keeps the ~p batched steps of 1000 problems quick.)"""
    params = {**params, "p": p}
    rng = np.random.default_rng(params["seed"])
    H, lam, _ = _problems(params, rng)
    p = params["p"]
    est = top_eigenvalue(_hvp(H), rng.standard_normal((R, p)), rtol=1e-8, maxiter=p)
    truth = lam.max(-1)
    assert bool(np.all(est.converged)) and est.level == 1.0
    assert bool(np.all(est.covers(truth)))
    assert bool(np.all((est.low <= truth) & (truth <= est.high_gap)))
    norm = np.abs(lam).max(-1)
    width = est.high - est.low
    assert bool(np.all(width <= 1e-8 * np.abs(est.value) + 2 * p * EPS * norm * (1 + 1e-12)))


@settings(max_examples=EXAMPLES)
@given(problem_params, st.integers(3, 12))
def test_lanczos_bracket_before_convergence(params: dict, steps: int) -> None:
    """Few Lanczos steps: λ_max ≥ low always; λ_max ≤ high wherever the stated condition
    holds (no eigenvalue other than λ_max above θ − r, checked with the known λ₂); and
    Kato–Temple with the *true* gap, λ_max ≤ θ + r²/(θ − λ₂) + δ where λ₂ < θ, holds for
    the reported residual — so ``residual`` (read off the tridiagonal matrix as β|s_k|) is
    the true ‖Hy − θy‖ to rounding. ``high_gap`` ≤ ``high`` by construction; it replaces λ₂
    by θ₂ ≤ λ₂, which is why it can miss here (an estimate, as its docstring says)."""
    rng = np.random.default_rng(params["seed"])
    H, lam, _ = _problems(params, rng)
    p = params["p"]
    est = top_eigenvalue(_hvp(H), rng.standard_normal((R, p)), rtol=1e-12, maxiter=steps)
    s = np.sort(lam, -1)
    l1, l2 = s[:, -1], s[:, -2]
    theta, r = est.value, est.residual
    delta = p * EPS * np.abs(lam).max(-1)
    assert bool(np.all(est.low <= l1))
    cond = l2 < theta - r
    assert cond.sum() > 0 and bool(np.all(est.covers(l1)[cond]))
    sep = l2 < theta
    kt = theta + r**2 / np.where(sep, theta - l2, 1.0) + delta
    assert bool(np.all((l1 <= kt * (1 + 1e-12))[sep]))
    assert bool(np.all(est.high_gap <= est.high))


def test_power_bracket_covers_at_convergence() -> None:
    """Power iteration (PSD, λ₂/λ₁ ≤ 1/2, so rtol = 1e-8 is reached in ~30 steps): the
    same bracket [θ − δ, θ + r + δ] covers λ_max on all 200 problems."""
    rng = np.random.default_rng(11)
    Rp, p = 200, 20
    lam = rng.uniform(0.0, 0.5, (Rp, p))
    lam[:, -1] = 1.0
    Q, _ = np.linalg.qr(rng.standard_normal((Rp, p, p)))
    H = np.einsum("rij,rj,rkj->rik", Q, lam, Q)
    est = top_eigenvalue(_hvp(H), rng.standard_normal((Rp, p)), method="power", rtol=1e-8, maxiter=400)
    assert bool(np.all(est.converged)) and est.method == "power"
    assert bool(np.all(est.covers(1.0)))
    np.testing.assert_array_equal(est.gap, 0.0)


def test_lanczos_upper_end_is_conditional() -> None:
    """A start in an invariant subspace misses λ_max = 4: θ = 3, r = 0, so high = 3 + δ
    < 4 — the case the meaning's condition (no eigenvalue other than λ_max above θ − r)
    excludes; low stays below λ_max."""
    H = np.diag([1.0, 2.0, 3.0, 4.0])[None]
    est = top_eigenvalue(_hvp(H), np.array([[0.0, 0.0, 1.0, 0.0]]))
    assert float(est.low[0]) <= 3.0 < float(est.high[0]) < 3.0 + 1e-12
    assert not bool(est.covers(4.0)[0])
    assert "if no eigenvalue other than λ_max exceeds θ − r" in est.meaning


def _trust_region_max(H: np.ndarray, g: np.ndarray, eps: float) -> np.ndarray:
    """max_{‖δ‖≤ε} gᵀδ + ½δᵀHδ for each replica: δ = (μI − H)⁻¹g, μ > λ₁ with ‖δ‖ = ε
    (the secular equation Σ g̃ᵢ²/(μ − λᵢ)² = ε², decreasing in μ, solved by bisection on
    (λ₁, λ₁ + ‖g‖/ε], where it is ≤ ε²)."""
    w, U = np.linalg.eigh(H)
    gt = np.einsum("rji,rj->ri", U, g)
    lo = w[:, -1].copy()
    hi = w[:, -1] + np.linalg.norm(g, axis=-1) / eps
    for _ in range(80):  # the bracket (λ₁, λ₁ + ‖g‖/ε] shrinks 2^-80: below rounding
        mu = 0.5 * (lo + hi)
        big = np.sum(gt**2 / (mu[:, None] - w) ** 2, -1) > eps**2
        lo, hi = np.where(big, mu, lo), np.where(big, hi, mu)
    d = gt / (hi[:, None] - w)
    return np.sum(gt * d, -1) + 0.5 * np.sum(w * d * d, -1)


@settings(max_examples=EXAMPLES)
@given(problem_params, st.floats(0.01, 1.0))
def test_epsilon_bracket_covers(params: dict, eps: float) -> None:
    """L = ½zᵀHz + gᵀz (z = x − c, a quadratic not at its minimum when g ≠ 0), M = λ_max:
    the ascent's bracket [attained, ε‖g‖ + ε²M/2] contains the exact trust-region maximum
    for every problem (up to rounding of L, 16·p·eps of its scale)."""
    rng = np.random.default_rng(params["seed"])
    H, lam, _ = _problems({**params, "family": "uniform"}, rng)
    p = params["p"]
    g = 0.1 * rng.standard_normal((R, p))
    f = lambda x: 0.5 * np.einsum("ri,rij,rj->r", x, H, x) + np.sum(g * x, -1)  # noqa: E731
    grad = lambda x: np.einsum("rij,rj->ri", H, x) + g  # noqa: E731
    x = np.zeros((R, p))
    est = epsilon_sharpness(f, grad, x, epsilon=eps, steps=20, rng=params["seed"],
                            curvature_bound=lam.max(-1))
    truth = _trust_region_max(H, g, eps)
    fp = 16 * p * EPS * (eps * np.linalg.norm(g, axis=-1) + eps**2)
    assert bool(np.all(est.low <= truth + fp)) and bool(np.all(truth <= est.high + fp))
    assert np.array_equal(est.low, est.value) and est.level == 1.0


def test_epsilon_bracket_closes_at_a_minimum(xp) -> None:
    """At the minimum of a quadratic with M = λ₁ the bracket is [attained, ε²λ₁/2] and
    closes as the ascent (power iteration, λ₂/λ₁ ≤ 1/2) converges: width ≤ 1e-10·ε²λ₁."""
    H = np.diag([4.0, 2.0, 1.0, 0.5])
    Hx = xp.asarray(H)
    f = lambda x: 0.5 * xp.sum((x @ Hx) * x, axis=-1)  # noqa: E731
    est = epsilon_sharpness(f, lambda x: x @ Hx, xp.zeros((3, 4), dtype=xp.float64), epsilon=0.1,
                            steps=60, rng=0, curvature_bound=4.0)
    low, high = to_numpy(est.low), to_numpy(est.high)
    np.testing.assert_allclose(high, 0.5 * 0.01 * 4.0, rtol=1e-14)
    # low ≤ high up to the rounding of L (a few eps of ε²λ₁/2).
    assert np.all(high - low <= 1e-10 * 0.02) and np.all(low <= high * (1 + 8 * EPS))
    free = epsilon_sharpness(f, lambda x: x @ Hx, xp.zeros((3, 4), dtype=xp.float64), epsilon=0.1,
                             steps=5, rng=0)
    assert np.all(np.isinf(to_numpy(free.high))) and "not certified" in free.meaning


def test_flatness_bracket_covers_and_is_as_wide_as_the_bisection(xp) -> None:
    """Quadratic at its minimum (monotone along every δ): r = √(2ε/δᵀHδ) lies in every
    direction's [radii, radii_high], whose width is the bisection resolution
    r_max/grid/2^b (b = 20 so that it dominates the rounding of L near ε)."""
    rng = np.random.default_rng(3)
    p, Rr = 6, 50
    H, lam, _ = _problems({"p": p, "family": "uniform"}, rng)
    H = H[:Rr] + 0.05 * np.eye(p)
    Hx = xp.asarray(H)
    f = lambda z: 0.5 * xp.sum((Hx @ z[..., None])[..., 0] * z, axis=-1)  # noqa: E731
    eps, r_max, grid, b = 0.05, 3.0, 32, 20
    est = flatness_radius(f, xp.zeros((Rr, p), dtype=xp.float64), epsilon=eps, directions=4,
                          rng=1, r_max=r_max, grid=grid, bisections=b)
    d = to_numpy(est.directions)
    r = np.sqrt(2 * eps / np.einsum("rtp,rpq,rtq->rt", d, H, d))
    lo, hi = to_numpy(est.radii), to_numpy(est.radii_high)
    assert np.all((lo <= r) & (r <= hi))
    res = r_max / grid / 2**b
    np.testing.assert_allclose(hi - lo, res, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(est.high) - to_numpy(est.low), res, rtol=1e-6)
    assert "not certified otherwise" in est.meaning


def test_intervals_on_every_backend(xp) -> None:
    """The interval fields exist, live in the input namespace and agree with NumPy's."""
    rng = np.random.default_rng(0)
    H, lam, _ = _problems({"p": 8, "family": "uniform"}, rng)
    H = H[:3]
    Hx = xp.asarray(H)
    hvp = lambda v: (Hx @ v[..., None])[..., 0]  # noqa: E731
    v0 = rng.standard_normal((3, 8))
    est = top_eigenvalue(hvp, xp.asarray(v0))
    ref = top_eigenvalue(_hvp(H), v0)
    for name in ("low", "high", "high_gap", "gap"):
        np.testing.assert_allclose(to_numpy(getattr(est, name)), getattr(ref, name), rtol=1e-9, atol=1e-12)
    tr = hessian_trace(hvp, (3, 8), rng=1, matvecs=12, method="hutchinson", xp=xp)
    assert bool(to_numpy(xp.all(tr.low <= tr.value))) and bool(to_numpy(xp.all(tr.value <= tr.high)))
    with pytest.raises(ValueError, match=r"level must be a number in \(0, 1\)"):
        hessian_trace(hvp, (3, 8), rng=1, matvecs=12, xp=xp, level=1.0)
    with pytest.raises(ValueError, match="curvature_bound must be a number or an array of shape"):
        epsilon_sharpness(lambda x: xp.sum(x * x, axis=-1), lambda x: 2 * x,
                          xp.zeros((3, 8), dtype=xp.float64), epsilon=0.1, curvature_bound=xp.ones((2,)))
