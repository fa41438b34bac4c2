"""Sharpness measures against dense linear algebra and closed forms on quadratics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics.backend import to_numpy
from numerics.sharpness import (
    epsilon_sharpness,
    flatness_radius,
    hessian_trace,
    non_uniformity,
    pac_bayes_sharpness,
    top_eigenvalue,
)
from tests.conftest import assert_close

EPS = np.finfo(np.float64).eps
# Two-sided normal quantile for a false-alarm rate of 1e-6 per assertion.
Z = 4.89


def _spd(rng, R, p, gap=0.1, rank=None):
    """R random PSD matrices with eigenvalues in [0, 1], top gap ``gap``."""
    Hs = []
    for _ in range(R):
        Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
        lam = np.sort(rng.uniform(0, 1 - gap, p))
        lam[-1] = 1.0
        if rank is not None:
            lam[: p - rank] = 0.0
        Hs.append((Q * lam) @ Q.T)
    return np.stack(Hs)


def _hvp(xp, H):
    Hx = xp.asarray(H)
    return lambda v: (Hx @ v[..., None])[..., 0]


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_top_eigenvalue_matches_dense(xp, method) -> None:
    rng = np.random.default_rng(1)
    R, p = 4, 30
    H = _spd(rng, R, p, gap=0.3)
    lam = np.linalg.eigvalsh(H)[:, -1]
    est = top_eigenvalue(_hvp(xp, H), xp.asarray(rng.standard_normal((R, p))), method=method,
                         rtol=1e-8, maxiter=500)
    assert bool(to_numpy(est.converged).all())
    # Stopping rule: some eigenvalue within rtol·|θ| (Krylov–Weinstein); the top Ritz value
    # converges to λ_max for a random start. Plus rounding p·eps·‖H‖.
    assert_close(est.value, lam, rtol=1e-8, atol=10 * p * EPS, xp=xp)
    r = to_numpy(est.residual)
    assert (r <= 1e-8 * np.abs(to_numpy(est.value)) + 10 * p * EPS).all()
    v = to_numpy(est.vector)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-1), 1.0, rtol=1e-10)
    # The vector is an eigenvector: ‖Hv − θv‖ equals the reported residual.
    res = np.linalg.norm(np.einsum("rij,rj->ri", H, v) - to_numpy(est.value)[:, None] * v, axis=-1)
    np.testing.assert_allclose(res, r, atol=1e-10)


def test_lanczos_largest_algebraic_on_indefinite(xp) -> None:
    rng = np.random.default_rng(2)
    p = 12
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    lam = np.linspace(-5.0, 2.0, p)  # largest modulus is negative; λ_max = 2
    H = ((Q * lam) @ Q.T)[None]
    est = top_eigenvalue(_hvp(xp, H), xp.asarray(rng.standard_normal((1, p))))
    assert_close(est.value, [2.0], rtol=1e-8, xp=xp)


def test_lanczos_exact_at_full_krylov_dimension(xp) -> None:
    # p = 3: the Krylov space is full after 3 matvecs; the result is exact up to rounding.
    H = np.diag([1.0, 2.0, 3.0])[None]
    est = top_eigenvalue(_hvp(xp, H), xp.asarray(np.ones((1, 3))), rtol=1e-14)
    assert est.matvecs <= 3
    assert_close(est.value, [3.0], rtol=0, atol=100 * EPS, xp=xp)


def test_lanczos_breakdown_on_invariant_start(xp) -> None:
    # v0 an eigenvector: β_1 = 0 (invariant subspace), one matvec, exact eigenvalue.
    H = np.diag([1.0, 2.0, 3.0, 4.0])[None]
    v0 = np.array([[0.0, 0.0, 1.0, 0.0]])
    est = top_eigenvalue(_hvp(xp, H), xp.asarray(v0))
    assert est.matvecs == 1 and bool(to_numpy(est.converged).all())
    assert_close(est.value, [3.0], rtol=0, atol=10 * EPS, xp=xp)


def test_lanczos_needs_fewer_matvecs_than_eigsh_and_power() -> None:
    """Same operator, same residual stopping rule ‖Hy − θy‖ ≤ 1e-8·|θ| (ARPACK's criterion)."""
    import scipy.sparse.linalg as sla

    rng = np.random.default_rng(0)
    p = 200
    H = _spd(rng, 1, p, gap=0.05)[0]
    lam = np.linalg.eigvalsh(H)[-1]
    v0 = rng.standard_normal((1, p))
    lan = top_eigenvalue(lambda v: v @ H, v0, rtol=1e-8, maxiter=p)
    pw = top_eigenvalue(lambda v: v @ H, v0, method="power", rtol=1e-8, maxiter=5000)
    count = [0]

    def mv(v):
        count[0] += 1
        return H @ v

    op = sla.LinearOperator((p, p), matvec=mv, dtype=np.float64)
    w = sla.eigsh(op, k=1, which="LA", tol=1e-8, v0=v0[0])[0][0]
    for val in (lan.value[0], pw.value[0], w):
        assert abs(val - lam) <= 1e-8 * lam
    assert lan.matvecs <= count[0] < pw.matvecs


def test_power_zero_operator_converges(xp) -> None:
    est = top_eigenvalue(lambda v: 0.0 * v, xp.asarray(np.ones((2, 3))), method="power")
    assert bool(to_numpy(est.converged).all())
    assert_close(est.value, [0.0, 0.0], rtol=0, atol=0, xp=xp)


def test_hutchinson_unbiased(xp) -> None:
    rng = np.random.default_rng(3)
    R, p, m = 3, 20, 200
    H = _spd(rng, R, p)
    est = hessian_trace(_hvp(xp, H), (R, p), rng=4, matvecs=m, method="hutchinson", xp=xp)
    assert est.matvecs == m
    tr = np.trace(H, axis1=1, axis2=2)
    # Exact standard deviation of one Rademacher probe: sqrt(2(‖H‖_F² − Σ H_ii²)).
    sd = np.sqrt(2 * (np.sum(H**2, axis=(1, 2)) - np.sum(np.diagonal(H, axis1=1, axis2=2) ** 2, -1)))
    assert (np.abs(to_numpy(est.value) - tr) <= Z * sd / math.sqrt(m)).all()
    # The reported standard error estimates sd/√m (chi distribution; within a factor 2 here).
    se = to_numpy(est.stderr)
    assert ((se > 0.5 * sd / math.sqrt(m)) & (se < 2 * sd / math.sqrt(m))).all()


def test_hutchpp_exact_for_low_rank(xp) -> None:
    # rank 5 ≤ k = matvecs // 3 = 6: Q spans the range, the deflated part vanishes.
    rng = np.random.default_rng(5)
    R, p = 2, 25
    H = _spd(rng, R, p, rank=5)
    est = hessian_trace(_hvp(xp, H), (R, p), rng=6, matvecs=18, xp=xp)
    assert est.matvecs == 18
    assert_close(est.value, np.trace(H, axis1=1, axis2=2), rtol=1e-10, atol=1e-10, xp=xp)


def test_hutchpp_beats_hutchinson_on_decaying_spectrum() -> None:
    # Eigenvalues 1/i²: Hutch++ removes the top directions, whose variance dominates.
    rng = np.random.default_rng(7)
    p, R = 60, 200
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    H = (Q / np.arange(1, p + 1) ** 2) @ Q.T
    tr = np.trace(H)
    errs = {}
    for method in ("hutchinson", "hutch++"):
        est = hessian_trace(lambda v: v @ H, (R, p), rng=8, matvecs=30, method=method)
        errs[method] = np.sqrt(np.mean((est.value - tr) ** 2))
    assert errs["hutch++"] < 0.5 * errs["hutchinson"]


def _per_sample(rng, R, n, p):
    Hi = np.stack([np.stack([(lambda A: A @ A.T / p)(rng.standard_normal((p, p))) for _ in range(n)])
                   for _ in range(R)])  # (R, n, p, p)
    return Hi


def test_non_uniformity_matches_dense(xp) -> None:
    rng = np.random.default_rng(9)
    R, n, p = 2, 5, 6
    Hi = _per_sample(rng, R, n, p)
    H = Hi.mean(1)
    Sigma = np.einsum("rnij,rnjk->rik", Hi, Hi) / n - H @ H
    lam = np.linalg.eigvalsh(Sigma)[:, -1]
    Hx = xp.asarray(Hi)

    def psh(v):
        return (Hx @ v[:, None, :, None])[..., 0]

    def psa(u):
        return (Hx @ u[..., None])[..., 0]

    v0 = xp.asarray(rng.standard_normal((R, p)))
    for kw in ({"per_sample_apply": psa}, {}):
        est = non_uniformity(psh, v0, **kw)
        assert_close(est.value, lam, rtol=1e-8, atol=1e-12, xp=xp)


def test_epsilon_sharpness_quadratic_limit(xp) -> None:
    # At a minimum the ascent is power iteration: 2φ/ε² ≤ λ1 and converges to it.
    rng = np.random.default_rng(10)
    R, p = 3, 8
    H = _spd(rng, R, p, gap=0.5)
    Hx = xp.asarray(H)
    f = lambda x: 0.5 * xp.sum((Hx @ x[..., None])[..., 0] * x, axis=-1)  # noqa: E731
    g = lambda x: (Hx @ x[..., None])[..., 0]  # noqa: E731
    x0 = xp.zeros((R, p), dtype=xp.float64)
    eps = 0.01
    phi = to_numpy(epsilon_sharpness(f, g, x0, epsilon=eps, steps=80, rng=1).value)
    lam = np.linalg.eigvalsh(H)[:, -1]
    ratio = 2 * phi / eps**2
    # Power iteration with λ2/λ1 ≤ 0.5: Rayleigh error ≤ (0.5)^(2·80)·tan²θ0 — far below
    # rounding; the remaining error is eps·λ/ε²-scale rounding of L.
    np.testing.assert_allclose(ratio, lam, rtol=1e-8)
    assert (ratio <= lam * (1 + 1e-10)).all()


def test_pac_bayes_quadratic(xp) -> None:
    rng = np.random.default_rng(11)
    R, p, m, sigma = 3, 10, 400, 0.1
    H = _spd(rng, R, p)
    x = rng.standard_normal((R, p))
    Hx = xp.asarray(H)
    f = lambda z: 0.5 * xp.sum((Hx @ z[..., None])[..., 0] * z, axis=-1)  # noqa: E731
    est = pac_bayes_sharpness(f, xp.asarray(x), sigma=sigma, samples=m, rng=2)
    want = 0.5 * sigma**2 * np.trace(H, axis1=1, axis2=2)
    # Antithetic quadratic part ½vᵀHv: variance σ⁴·½‖H‖_F² exactly.
    sd = sigma**2 * np.sqrt(0.5 * np.sum(H**2, axis=(1, 2)))
    assert (np.abs(to_numpy(est.value) - want) <= Z * sd / math.sqrt(m)).all()


def test_flatness_radius_quadratic(xp) -> None:
    rng = np.random.default_rng(12)
    R, p = 2, 5
    H = _spd(rng, R, p)
    Hx = xp.asarray(H)
    f = lambda z: 0.5 * xp.sum((Hx @ z[..., None])[..., 0] * z, axis=-1)  # noqa: E731
    x = xp.zeros((R, p), dtype=xp.float64)
    eps = 0.05
    est = flatness_radius(f, x, epsilon=eps, directions=4, rng=3, r_max=100.0)
    d = to_numpy(est.directions)
    q = np.einsum("rtp,rpq,rtq->rt", d, H, d)
    want = np.sqrt(2 * eps / q)
    # Bisection resolves r_max/grid/2^50; rounding of L near ε: rel. error ~ eps_mach.
    assert_close(est.radii, want, rtol=1e-9, xp=xp)
    assert_close(est.value, want.mean(-1), rtol=1e-9, xp=xp)
    assert not bool(to_numpy(est.capped).any())


def test_flatness_radius_capped(xp) -> None:
    f = lambda z: 0.0 * z[:, 0]  # noqa: E731  flat: never leaves the band
    est = flatness_radius(f, xp.zeros((1, 2), dtype=xp.float64), epsilon=0.1, directions=2,
                          rng=0, r_max=3.0)
    assert bool(to_numpy(est.capped).all())
    assert_close(est.value, [3.0], rtol=0, xp=xp)


def test_bad_input_errors() -> None:
    hvp = lambda v: v  # noqa: E731
    with pytest.raises(ValueError, match="method must be 'lanczos' or 'power'"):
        top_eigenvalue(hvp, np.ones((1, 2)), method="arnoldi")
    with pytest.raises(ValueError, match=r"v0 must have shape \(R, p\)"):
        top_eigenvalue(hvp, np.ones(3))
    with pytest.raises(ValueError, match="v0 must have finite, nonzero rows"):
        top_eigenvalue(hvp, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"rtol must be in \(0, 1\)"):
        top_eigenvalue(hvp, np.ones((1, 2)), rtol=2.0)
    with pytest.raises(ValueError, match="maxiter must be an integer >= 1"):
        top_eigenvalue(hvp, np.ones((1, 2)), maxiter=0)
    with pytest.raises(TypeError, match="hvp must be callable"):
        top_eigenvalue(3, np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"hvp must map an array of shape \(1, 2\) to shape \(1, 2\)"):
        top_eigenvalue(lambda v: v[:, :1], np.ones((1, 2)))
    with pytest.raises(ValueError, match="matvecs must be >= 3 for Hutch"):
        hessian_trace(hvp, (1, 2), rng=0, matvecs=2)
    with pytest.raises(ValueError, match="method must be 'hutch\\+\\+' or 'hutchinson'"):
        hessian_trace(hvp, (1, 2), rng=0, method="xtrace")
    with pytest.raises(ValueError, match=r"v_shape must be a tuple \(R, p\)"):
        hessian_trace(hvp, (2,), rng=0)
    with pytest.raises(ValueError, match=r"per_sample_hvp must map"):
        non_uniformity(lambda v: v, np.ones((1, 2)))
    f = lambda x: np.sum(x * x, axis=-1)  # noqa: E731
    with pytest.raises(ValueError, match="epsilon must be finite and positive"):
        epsilon_sharpness(f, lambda x: 2 * x, np.ones((1, 2)), epsilon=0.0)
    with pytest.raises(ValueError, match=r"loss must map x of shape \(1, 2\) to shape \(1,\)"):
        pac_bayes_sharpness(lambda x: x, np.ones((1, 2)), sigma=1.0, samples=4, rng=0)
    with pytest.raises(ValueError, match="sigma must be finite and positive"):
        pac_bayes_sharpness(f, np.ones((1, 2)), sigma=-1.0, samples=4, rng=0)
    with pytest.raises(ValueError, match="samples must be an integer >= 2"):
        pac_bayes_sharpness(f, np.ones((1, 2)), sigma=1.0, samples=1, rng=0)
    with pytest.raises(ValueError, match="r_max must be finite and positive"):
        flatness_radius(f, np.ones((1, 2)), epsilon=0.1, directions=2, rng=0, r_max=0.0)
    with pytest.raises(ValueError, match=r"x must have shape \(R, p\)"):
        flatness_radius(f, np.ones(2), epsilon=0.1, directions=2, rng=0, r_max=1.0)


def test_repr_is_readable() -> None:
    est = top_eigenvalue(lambda v: 2.0 * v, np.ones((2, 3)))
    # One matvec, r = 0: the bracket is θ ± δ, δ = p·eps·|θ| = 3·2.2e-16·2 = 1.3e-15.
    assert repr(est).startswith("SpectralEstimate(method='lanczos', value=[2 ± 1.3e-15, 2 ± 1.3e-15]")
    tr = hessian_trace(lambda v: 2.0 * v, (1, 3), rng=0, matvecs=9)
    # 2I, p = 3 = k: Q spans R³, the deflated probe values vanish and the interval is the
    # rounding allowance 2p·eps·Σ_j‖Hq_j‖ = 2·3·2.2e-16·(3·2) = 8e-15.
    assert "TraceEstimate(method='hutch++', value=[6 ± 8e-15], level=0.95" in repr(tr)
    f = lambda x: np.sum(x * x, axis=-1)  # noqa: E731
    asc = epsilon_sharpness(f, lambda x: 2 * x, np.zeros((1, 2)), epsilon=0.5, steps=2, rng=0)
    # φ = ε²·λ/2 = 0.25·2/2 attained; no curvature bound: the upper end is not certified.
    assert repr(asc) == "AscentEstimate(value=[0.25 in [0.25, inf]], steps=2)"
