"""The linear results, checked against independent computations (not against themselves)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import theory

LINEAR = theory.ids("linear")


@pytest.mark.parametrize("rid", LINEAR)
def test_every_linear_result_derives_to_latex(rid: str) -> None:
    r = theory.get(rid)
    assert r.latex().strip()
    assert r.source and r.title
    assert r.stated == (theory.entry(rid).how.startswith("state") or theory.entry(rid).how == "numeric")


def test_gd_iterate_latex_is_pinned() -> None:
    assert theory.get("linear.gd_iterate").latex() == (
        r"c_{j,k} = \frac{g_{j}}{\lambda_j} + \left(- \frac{g_{j}}{\lambda_j} + c_{j,0}\right) "
        r"\left(- \eta \lambda_j + 1\right)^{k}"
    )
    assert theory.get("linear.gd_limit").latex() == (
        r"x_{\infty} = x_{0} + A^{T} \left(A A^{T}\right)^{-1} \left(- A x_{0} + y\right)"
    )


@given(c0=st.fractions(-5, 5, max_denominator=7), g=st.fractions(-5, 5, max_denominator=7),
       eta=st.fractions(Fraction(1, 10), 1, max_denominator=10),
       lam=st.fractions(Fraction(1, 10), 3, max_denominator=10), k=st.integers(0, 12))
def test_gd_iterate_matches_exact_rational_iteration(c0, g, eta, lam, k) -> None:
    c = c0
    for _ in range(k):  # iterate the recurrence in exact arithmetic
        c = (1 - eta * lam) * c + eta * g
    r = theory.get("linear.gd_iterate")
    by_name = {s.name: s for s in r.symbols}
    subs = {by_name["c_0"]: sp.Rational(c0), by_name["g_j"]: sp.Rational(g),
            by_name["eta"]: sp.Rational(eta), by_name["lambda_j"]: sp.Rational(lam),
            by_name["k"]: k}
    assert sp.simplify(r.statement.rhs.subs(subs) - sp.Rational(c.numerator, c.denominator)) == 0


def test_gd_limit_stable_region_is_two_over_lambda_max() -> None:
    r = theory.get("linear.gd_limit")
    region = r.parts["stable_region"]
    eta, lmax = sp.symbols("eta lambda_max", positive=True)
    f = sp.lambdify([s for s in sorted(region.free_symbols, key=str)], region)
    names = [s.name for s in sorted(region.free_symbols, key=str)]
    assert names == ["eta", "lambda_max"]
    assert f(1.9, 1.0) and not f(2.1, 1.0)


def test_gradient_flow_solves_the_ode() -> None:
    r = theory.get("linear.gradient_flow")
    s = {x.name: x for x in r.symbols}
    a = r.statement.rhs
    t, n, sig, z, a0 = s["t"], s["n"], s["sigma_j"], s["z_j"], s["a_0"]
    assert sp.simplify(sp.diff(a, t) - (-(sig**2 / n) * a + (sig / n) * z)) == 0
    assert sp.simplify(a.subs(t, 0) - a0) == 0


def test_generalization_mode_matches_gauss_hermite_quadrature() -> None:
    r = theory.get("linear.generalization_error")
    f = r.numeric(part="mode")
    a_star, sigma, eps, n, t = 0.7, 1.3, 0.4, 5.0, 2.0
    q = math.exp(-sigma**2 * t / n)
    # E over w ~ N(0, eps^2) of (((sigma a* + w)/sigma)(1 - q) - a*)^2 with probabilists' Hermite
    x, w = np.polynomial.hermite_e.hermegauss(20)
    vals = (((sigma * a_star + eps * x) / sigma) * (1 - q) - a_star) ** 2
    ref = float(np.sum(w * vals) / math.sqrt(2 * math.pi))
    got = float(f(a_star=a_star, sigma_j=sigma, epsilon=eps, n=n, t=t))
    # 20-point Gauss-Hermite is exact for this quadratic integrand: rounding only.
    assert abs(got - ref) <= 1e-14 * max(1.0, ref)


def test_early_stopping_t0_minimizes_the_bound_numerically() -> None:
    r = theory.get("linear.early_stopping")
    vals = dict(sigma_1=2.0, epsilon=0.1, r=5.0, n=5.0)
    T0 = float(r.numeric(part="T_0")(**vals))
    bound = r.numeric(part="bound")
    grid = np.linspace(0.5 * T0, 1.5 * T0, 20001)
    b = bound(t=grid, **vals)
    assert abs(grid[int(np.argmin(b))] - T0) <= (grid[1] - grid[0])
    f_at = r.numeric(part="bound_at_T_0")
    at = float(f_at(**{k: vals[k] for k in f_at.arguments}))  # no n: it cancels
    assert abs(at - float(bound(t=T0, **vals))) <= 1e-14 * at


def test_scaled_gd_limit_is_the_h_projection_numerically() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2, 5))
    b = rng.standard_normal(2)
    x0 = rng.standard_normal(5)
    M = rng.standard_normal((5, 5))
    H = M @ M.T + 5 * np.eye(5)
    Hi = np.linalg.inv(H)
    xhat = x0 + Hi @ A.T @ np.linalg.solve(A @ Hi @ A.T, b - A @ x0)
    from scipy.optimize import minimize

    cons = {"type": "eq", "fun": lambda x: A @ x - b}
    opt = minimize(lambda x: (x - x0) @ H @ (x - x0), x0, constraints=[cons], method="SLSQP",
                   options={"ftol": 1e-14, "maxiter": 500})
    assert np.allclose(opt.x, xhat, atol=1e-6)
    assert "H^{-1} A^{T}" in theory.get("linear.scaled_gd_limit").latex()


def test_scaled_gd_limit_is_the_fixed_point_for_a_nonsymmetric_metric() -> None:
    """For invertible H ≠ Hᵀ the claimed x̂ is still the limit of x ← x − γH⁻¹Aᵀ(Ax − b):
    the iteration keeps H(x_k − x_0) ∈ R(Aᵀ), and x̂ − x_0 = H⁻¹Aᵀμ with Ax̂ = b."""
    rng = np.random.default_rng(1)
    A, b, x0 = rng.standard_normal((2, 5)), rng.standard_normal(2), rng.standard_normal(5)
    G = rng.standard_normal((5, 5))
    H = np.eye(5) * 2 + 0.5 * (G - G.T)  # positive definite symmetric part, not symmetric
    Hi = np.linalg.inv(H)
    xhat = x0 + Hi @ A.T @ np.linalg.solve(A @ Hi @ A.T, b - A @ x0)
    x = x0.copy()
    for _ in range(20000):
        x = x - 0.05 * Hi @ A.T @ (A @ x - b)
    assert np.allclose(x, xhat, atol=1e-10)
    wrong = x0 + Hi.T @ A.T @ np.linalg.solve(A @ Hi.T @ A.T, b - A @ x0)
    assert not np.allclose(x, wrong, atol=1e-3)
    assert "invertible H" in theory.get("linear.scaled_gd_limit").notes
