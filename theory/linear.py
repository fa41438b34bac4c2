r"""Overparametrized least squares: what GD, gradient flow and SGD converge to.

Conventions. ``A`` (or ``X``) is ``n x d`` with ``n < d``; ``A = U \Sigma V^T`` is its thin SVD
with singular values :math:`\sigma_j` and :math:`\lambda_j = \sigma_j^2` the nonzero
eigenvalues of :math:`A^T A`. GD on :math:`\tfrac12\|Ax-y\|^2` (seed 002) is
:math:`x_{k+1} = x_k - \eta A^T(Ax_k - y)`; gradient flow on
:math:`\tfrac1{2n}\|X\beta-y\|^2` (seed 000) is :math:`\dot\beta = -\tfrac1n X^T(X\beta-y)`.

References
----------
seed 000 (L. Wu, *Towards understanding the implicit regularization in deep learning*, 2020),
seed 002 (lecture 12, *Implicit regularization & noisy dynamics*), seed 003 (P. Giselsson,
*SGD: implicit regularization*); Belkin, Hsu, Ma, Mandal, PNAS 2019 (double descent).
"""

from __future__ import annotations

import sympy as sp
from sympy.stats import E as expectation
from sympy.stats import Normal

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import matrix, sym

__all__: list[str] = []  # results are reached through theory.get(id)

_SEED000 = "seed 000 (Wu 2020, linear problem)"
_SEED002 = "seed 002 (lecture 12, implicit bias of GD)"
_SEED003 = "seed 003 (Giselsson, convergence to projection point)"

# Shared symbols.
eta = sym("eta", r"\eta", positive=True)
lam = sym("lambda_j", r"\lambda_j", positive=True)
lam_max = sym("lambda_max", r"\lambda_{\max}", positive=True)
k = sym("k", integer=True, nonnegative=True)
t = sym("t", nonnegative=True)
n = sym("n", integer=True, positive=True)
d = sym("d", integer=True, positive=True)
sigma = sym("sigma_j", r"\sigma_j", positive=True)
sigma_1 = sym("sigma_1", r"\sigma_1", positive=True)
eps = sym("epsilon", r"\varepsilon", positive=True)


def _gd_mode_solution() -> tuple[sp.Expr, list[Step]]:
    """Solve the GD recurrence of one eigenmode with ``rsolve``."""
    c0 = sym("c_0", r"c_{j,0}", real=True)
    g = sym("g_j", real=True)
    c = sp.Function("c")
    rec = sp.Eq(c(k + 1), (1 - eta * lam) * c(k) + eta * g)
    sol = sp.rsolve(rec.lhs - rec.rhs, c(k), {c(0): c0})
    sol = sp.collect(sp.expand(sol), (1 - eta * lam) ** k)
    steps = [
        Step("GD in the eigenbasis of A^T A: mode j of c = V^T x, g = V^T A^T y", rec),
        Step("rsolve with c(0) = c_0", sp.Eq(c(k), sol)),
    ]
    return sol, steps


@result("linear.gd_iterate", title="GD iterates on least squares in closed form",
        source=_SEED002, how="derive")
def gd_iterate() -> Result:
    r"""Closed form of GD on :math:`\tfrac12\|Ax-y\|^2`, mode by mode.

    .. math:: c_{j,k} = (1-\eta\lambda_j)^k c_{j,0} + \frac{g_j}{\lambda_j}\bigl(1-(1-\eta\lambda_j)^k\bigr)

    where :math:`c_{j,k} = v_j^T x_k` and :math:`g_j = v_j^T A^T y = \sigma_j u_j^T y`.
    Modes with :math:`\lambda_j = 0` (the null space of ``A``) have :math:`g_j = 0` and never move.
    """
    sol, steps = _gd_mode_solution()
    c0, g = sym("c_0", r"c_{j,0}", real=True), sym("g_j", real=True)
    ck = sym("c_k", r"c_{j,k}", real=True)
    factor = (1 - eta * lam) ** k
    check = sp.simplify(sol.subs(k, k + 1) - ((1 - eta * lam) * sol + eta * g))
    if check != 0:  # the closed form must satisfy the recurrence identically
        raise ArithmeticError(f"rsolve's solution fails the recurrence: residual {check}")
    steps.append(Step("check: the solution satisfies the recurrence (residual)", check))
    return Result(
        id="linear.gd_iterate",
        title="GD iterates on least squares in closed form; mode j contracts by (1 − ηλ_j)^k",
        source=_SEED002,
        statement=sp.Eq(ck, sol),
        symbols=(ck, c0, g, eta, lam, k),
        conditions=(eta > 0,),
        notes=("x_k = Σ_j c_{j,k} v_j over the eigenvectors of AᵀA. Null-space modes "
               "(λ_j = 0) have g_j = 0 and keep c_{j,0}; the recurrence for them is c_{k+1} = c_k."),
        derivation=tuple(steps),
        parts={"mode_factor": factor},
        references=("Seed 002, eq. x^{(k+1)} = [I − ηAᵀA]x^{(k)} + ηAᵀy",),
    )


@result("linear.gd_limit", title="GD limit: projection of x_0 onto {Ax = y}",
        source=_SEED002, how="derive")
def gd_limit() -> Result:
    r"""For :math:`0<\eta<2/\lambda_{\max}`, GD converges to
    :math:`x_\infty = x_0 + A^+(y - Ax_0)`, the Euclidean projection of :math:`x_0` onto
    :math:`\{Ax=y\}`; from :math:`x_0 = 0` this is the minimum-norm solution.
    """
    sol, steps = _gd_mode_solution()
    c0, g = sym("c_0", r"c_{j,0}", real=True), sym("g_j", real=True)
    c_inf = sym("c_inf", r"c_{j,\infty}", real=True)
    # Fixed point of the mode recurrence.
    fixed = sp.solve(sp.Eq(c_inf, (1 - eta * lam) * c_inf + eta * g), c_inf)
    steps.append(Step("fixed point of c ↦ (1 − ηλ)c + ηg", sp.Eq(c_inf, fixed[0])))
    # The mode converges iff |1 - eta*lambda| < 1.
    region = sp.solve_univariate_inequality(sp.Abs(1 - eta * lam) < 1, eta, relational=True)
    steps.append(Step("|1 − ηλ_j| < 1 solved for η > 0", region))
    # Assemble: null modes keep c_0, range modes go to g/lambda = z_j/sigma_j.
    nn, dd = n, d
    A = sp.MatrixSymbol("A", nn, dd)
    x0 = sp.MatrixSymbol("x_0", dd, 1)
    y = sp.MatrixSymbol("y", nn, 1)
    xinf = matrix("x_infty", r"x_{\infty}", dd, 1)
    pinv = A.T * (A * A.T).I  # A^+ for A of full row rank n (the overparametrized case)
    limit = x0 + pinv * (y - A * x0)
    steps.append(Step("assemble: V_⊥V_⊥ᵀx_0 + VΣ⁻¹Uᵀy = x_0 + A⁺(y − Ax_0)", sp.Eq(xinf, limit)))
    return Result(
        id="linear.gd_limit",
        title="GD on least squares converges to the projection of x_0 onto {Ax = y}",
        source=_SEED002,
        statement=sp.Eq(xinf, limit),
        symbols=(n, d, c0, g, eta, lam, lam_max),
        conditions=(eta > 0, eta < 2 / lam_max),
        notes=("A⁺ = Aᵀ(AAᵀ)⁻¹ when A has full row rank (n ≤ d); for rank-deficient A read A⁺ "
               "as the Moore–Penrose pseudo-inverse. x_0 = 0 gives the minimum-ℓ2-norm "
               "solution. At η = 2/λ_max the top mode oscillates and GD does not converge."),
        derivation=tuple(steps),
        parts={"mode_limit": fixed[0], "stable_region": region.subs(lam, lam_max)},
        references=("Seed 002: x^{(k)} → A^+ y; 'GD initialised at z converges to argmin ‖x − z‖'",),
    )


@result("linear.gradient_flow", title="gradient flow on least squares in SVD coordinates",
        source=_SEED000, how="derive")
def gradient_flow() -> Result:
    r"""Gradient flow :math:`\dot\beta = -\tfrac1n X^T(X\beta-y)` in SVD coordinates
    :math:`\beta = Va + V^\perp b`:

    .. math:: a_j(t) = a_j(0)e^{-t\sigma_j^2/n} + \frac{z_j}{\sigma_j}(1-e^{-t\sigma_j^2/n}), \quad b(t) = b(0)

    with :math:`z = U^T y`.
    """
    a0 = sym("a_0", r"a_j(0)", real=True)
    z = sym("z_j", real=True)
    a = sp.Function("a_j")
    ode = sp.Eq(a(t).diff(t), -(sigma**2 / n) * a(t) + (sigma / n) * z)
    sol = sp.dsolve(ode, a(t), ics={a(0): a0})
    q = sp.exp(-t * sigma**2 / n)
    closed = a0 * q + (z / sigma) * (1 - q)
    if sp.simplify(sol.rhs - closed) != 0:
        raise ArithmeticError("dsolve disagrees with the collected closed form")
    b = sp.Function("b")
    bsol = sp.dsolve(sp.Eq(b(t).diff(t), 0), b(t), ics={b(0): sym("b_0", r"b(0)", real=True)})
    at = sym("a_t", r"a_j(t)", real=True)
    return Result(
        id="linear.gradient_flow",
        title="gradient flow on least squares: each SVD mode relaxes at rate σ_j²/n; the null part is frozen",
        source=_SEED000,
        statement=sp.Eq(at, closed),
        symbols=(at, a0, z, sigma, n, t),
        conditions=(t >= 0,),
        notes=("Seed 000 writes the risk as (1/n)‖Xβ − y‖² but the flow as β̇ = −(1/n)Xᵀ(Xβ − y), "
               "which is the gradient flow of (1/2n)‖Xβ − y‖²; the closed form is for the "
               "flow as printed. The null-space coordinates b = V_⊥ᵀβ satisfy ḃ = 0."),
        derivation=(
            Step("mode j of the flow in SVD coordinates", ode),
            Step("dsolve with a_j(0) = a_0", sol),
            Step("null space: ḃ = 0", bsol),
        ),
        parts={"rate": sigma**2 / n, "limit": z / sigma},
        references=("Seed 000, slide 'Proof' (continuous GD), a_j(t) formula",),
    )


@result("linear.scaled_gd_limit", title="scaled GD limit: the H-norm projection",
        source=_SEED003, how="derive")
def scaled_gd_limit() -> Result:
    r"""Scaled GD :math:`x_{k+1} = x_k - \gamma H^{-1}\nabla f(x_k)`,
    :math:`f = \tfrac12\|Ax-b\|^2`, converges to

    .. math:: \hat x = x_0 + H^{-1}A^T(AH^{-1}A^T)^{-1}(b - Ax_0) = \arg\min_{Ax=b}\|x-x_0\|_H^2.

    Derived from the Lagrangian :math:`\tfrac12\|x-x_0\|_H^2 - \mu^T(Ax-b)`: stationarity
    :math:`H(x-x_0) = A^T\mu` (the invariant :math:`Hx_k - Hx_0 \in \mathcal R(A^T)` of the
    iteration), then :math:`Ax=b` fixes :math:`\mu`.
    """
    nn, dd = n, d
    A = sp.MatrixSymbol("A", nn, dd)
    H = sp.MatrixSymbol("H", dd, dd)
    x = sp.MatrixSymbol("x", dd, 1)
    x0 = sp.MatrixSymbol("x_0", dd, 1)
    b = sp.MatrixSymbol("b", nn, 1)
    mu = matrix("mu", r"\mu", nn, 1)
    xhat = matrix("x_hat", r"\hat{x}", dd, 1)
    lagr = (sp.Rational(1, 2) * (x - x0).T * H * (x - x0) - mu.T * (A * x - b))[0, 0]
    grad = sp.simplify(lagr.diff(x))
    # Stationarity (H symmetric): H(x - x0) = A^T mu  =>  x = x0 + H^{-1} A^T mu.
    x_of_mu = x0 + H.I * A.T * mu
    # Constraint A x = b  =>  A H^{-1} A^T mu = b - A x0.
    mu_sol = (A * H.I * A.T).I * (b - A * x0)
    x_sol = x0 + H.I * A.T * mu_sol
    # Symbolic verification on a generic 2x3 instance (diagonal H > 0): KKT holds exactly.
    Ac = sp.Matrix(2, 3, sp.symbols("a0:6", real=True))
    Hc = sp.diag(*sp.symbols("h0:3", positive=True))
    x0c = sp.Matrix(sp.symbols("p0:3", real=True))
    bc = sp.Matrix(sp.symbols("q0:2", real=True))
    muc = (Ac * Hc.inv() * Ac.T).inv() * (bc - Ac * x0c)
    xc = x0c + Hc.inv() * Ac.T * muc
    feas = sp.simplify(Ac * xc - bc)
    if feas != sp.zeros(2, 1):
        raise ArithmeticError(f"projection formula is infeasible: {feas}")
    gamma = sym("gamma", r"\gamma", positive=True)
    return Result(
        id="linear.scaled_gd_limit",
        title="scaled GD x ← x − γH⁻¹∇f converges to the ‖·‖_H projection of x_0 onto {Ax = b}",
        source=_SEED003,
        statement=sp.Eq(xhat, x_sol),
        symbols=(n, d, gamma, lam_max),
        conditions=(gamma > 0, gamma < 2 / lam_max),
        notes=("H symmetric positive definite: x̂ is the ‖·‖_H projection and the iteration "
               "converges for γ < 2/λ_max, λ_max the top eigenvalue of H^{-1/2}AᵀAH^{-1/2} "
               "(the sharpness after the change of variables x = H^{-1/2}v, see "
               "adaptive.metric_view). A of full row rank. The limit formula needs less: for "
               "any invertible H each step adds H⁻¹Aᵀ(·), so H(x_k − x_0) ∈ R(Aᵀ), and a limit "
               "with Ax = b is x_0 + H⁻¹Aᵀμ with AH⁻¹Aᵀμ = b − Ax_0 — the same x̂ (no longer "
               "a norm projection when H ≠ Hᵀ). It converges when the eigenvalues μ of AH⁻¹Aᵀ "
               "satisfy |1 − γμ| < 1, e.g. for small γ when H has a positive definite "
               "symmetric part; the order of the factors then matters (H⁻¹Aᵀ, not AᵀH⁻¹)."),
        derivation=(
            Step("Lagrangian of min ½‖x − x_0‖²_H s.t. Ax = b", sp.Eq(sp.Symbol("ℒ"), lagr)),
            Step("∂ℒ/∂x = 0", sp.Eq(grad, sp.ZeroMatrix(dd, 1))),
            Step("solve for x", sp.Eq(x, x_of_mu)),
            Step("Ax = b fixes μ", sp.Eq(mu, mu_sol)),
            Step("check on a generic 2×3 instance: A x̂ − b", feas),
        ),
        references=("Seed 003, 'Characterizing projection point' and 'Convergence to projection point'",),
    )


@result("linear.sgd_limit", title="SGD limit: the same projection point",
        source=_SEED003, how="state + numeric")
def sgd_limit() -> Result:
    r"""Single-sample (scaled) SGD on a consistent system, if it converges, reaches
    :math:`x_0 + H^{-1}A^T(AH^{-1}A^T)^{-1}(b - Ax_0)`, the same point as scaled GD.

    Stated: each step adds :math:`H^{-1}a_{i_k}\times\text{scalar}`, so
    :math:`Hx_k - Hx_0 \in \mathcal R(A^T)` for all k; a limit with :math:`A\bar x = b` then meets
    the projection's optimality conditions.
    """
    nn, dd = n, d
    A = sp.MatrixSymbol("A", nn, dd)
    H = sp.MatrixSymbol("H", dd, dd)
    x0 = sp.MatrixSymbol("x_0", dd, 1)
    b = sp.MatrixSymbol("b", nn, 1)
    xbar = matrix("x_bar", r"\bar{x}", dd, 1)
    return Result(
        id="linear.sgd_limit",
        title="single-sample scaled SGD on a consistent system converges (if at all) to the H-projection of x_0",
        source=_SEED003,
        statement=sp.Eq(xbar, x0 + H.I * A.T * (A * H.I * A.T).I * (b - A * x0)),
        symbols=(n, d),
        notes=("Stated; the invariant Hx_k − Hx_0 ∈ R(Aᵀ) holds for any sampling of rows, "
               "with or without replacement, any positive step sizes and any invertible H "
               "(symmetric or not: each step adds H⁻¹a_i × a scalar); a limit with Ax̄ = b "
               "then solves the same linear system as linear.scaled_gd_limit's."),
        references=("Seed 003, 'SGD – Convergence to projection point'",),
    )


@result("linear.convex_norm_bound", title="convex risk: GD stays within 2‖θ̄‖ of its start",
        source=_SEED000, how="state + numeric")
def convex_norm_bound() -> Result:
    r"""For a convex risk and gradient flow (or GD with :math:`\eta \le 1/L`),
    :math:`\|\theta_t - \bar\theta\| \le \|\theta_0 - \bar\theta\|` and hence
    :math:`\|\theta_t\| \le \|\theta_0\| + 2\|\bar\theta\|` (:math:`\bar\theta` the minimum-norm
    minimizer). Proof (seed 000): :math:`J(t) = t(R(\theta_t) - R(\bar\theta)) + \tfrac12\|\theta_t-\bar\theta\|^2`
    is non-increasing.
    """
    dist_t = sym("dist_t", r"\|\theta_t - \bar\theta\|", nonnegative=True)
    dist_0 = sym("dist_0", r"\|\theta_0 - \bar\theta\|", nonnegative=True)
    norm_t = sym("norm_t", r"\|\theta_t\|", nonnegative=True)
    norm_0 = sym("norm_0", r"\|\theta_0\|", nonnegative=True)
    norm_bar = sym("norm_bar", r"\|\bar\theta\|", nonnegative=True)
    return Result(
        id="linear.convex_norm_bound",
        title="convex risk, gradient flow: ‖θ_t − θ̄‖ ≤ ‖θ_0 − θ̄‖ and ‖θ_t‖ ≤ ‖θ_0‖ + 2‖θ̄‖",
        source=_SEED000,
        statement=sp.And(dist_t <= dist_0, norm_t <= norm_0 + 2 * norm_bar),
        symbols=(dist_t, dist_0, norm_t, norm_0, norm_bar),
        notes=("Stated. The second inequality follows from the first by the triangle "
               "inequality twice: ‖θ_t‖ ≤ ‖θ_0 − θ̄‖ + ‖θ̄‖ ≤ ‖θ_0‖ + 2‖θ̄‖. For GD the "
               "first holds step by step when η ≤ 2/L (the GD map is then non-expansive on "
               "a convex L-smooth risk)."),
        references=("Seed 000, 'Implicit bias of GD for general convex problems'",),
    )


def _expected_mode_error() -> tuple[sp.Expr, list[Step]]:
    """E[(a_j(t) − a*_j)^2] for gradient flow from zero with z_j = σ_j a*_j + u_jᵀξ."""
    a_star = sym("a_star", r"a^*_j", real=True)
    w = Normal("w_j", 0, eps)  # u_j^T xi ~ N(0, eps^2) for xi ~ N(0, eps^2 I), ||u_j|| = 1
    q = sp.exp(-sigma**2 * t / n)
    a_t = ((sigma * a_star + w) / sigma) * (1 - q)  # linear.gradient_flow with a_j(0) = 0
    err = sp.expand(expectation((a_t - a_star) ** 2))
    tidy = a_star**2 * sp.exp(-2 * sigma**2 * t / n) + eps**2 * (1 - q) ** 2 / sigma**2
    if sp.simplify(err - tidy) != 0:
        raise ArithmeticError(f"expectation does not reduce to the tidy form: {err}")
    steps = [
        Step("a_j(t) from linear.gradient_flow with a_j(0) = 0, z_j = σ_j a*_j + u_jᵀξ",
             sp.Eq(sym("a_t", r"a_j(t)"), a_t)),
        Step("E over u_jᵀξ ~ N(0, ε²)", err),
        Step("collected", tidy),
    ]
    return tidy, steps


@result("linear.generalization_error", title="exact expected error of gradient flow from zero",
        source=_SEED000, how="derive")
def generalization_error() -> Result:
    r"""With :math:`y = X\beta^* + \xi`, :math:`\xi\sim N(0,\varepsilon^2 I)`,
    :math:`\beta^* = Va^* + V^\perp b^*` and zero initialization,

    .. math:: \mathbb E\,e(t) = \|b^*\|^2 + \sum_j (a_j^*)^2 e^{-2\sigma_j^2t/n}
              + \varepsilon^2\sum_j \frac{(1-e^{-\sigma_j^2t/n})^2}{\sigma_j^2},

    :math:`e(t) = \|\beta(t)-\beta^*\|^2`; as :math:`t\to\infty`,
    :math:`\mathbb E\,e(\infty) = \|b^*\|^2 + \varepsilon^2\sum_j\sigma_j^{-2}`.
    """
    mode, steps = _expected_mode_error()
    a_star = sym("a_star", r"a^*_j", real=True)
    b_sq = sym("b_star_sq", r"\|b^*\|^2", nonnegative=True)
    j, r = sp.symbols("j r", integer=True, positive=True)
    A_star, S = sp.IndexedBase(sym("a_star", "a^{*}")), sp.IndexedBase("sigma")
    total = b_sq + sp.Sum(
        mode.subs({a_star: A_star[j], sigma: S[j]}), (j, 1, r))
    e_t = sym("E_e_t", r"\mathbb{E}\, e(t)", nonnegative=True)
    at_inf = sp.limit(mode, t, sp.oo)
    steps.append(Step("t → ∞ of one mode", at_inf))
    return Result(
        id="linear.generalization_error",
        title="exact expected squared error of gradient flow from zero on noisy least squares",
        source=_SEED000,
        statement=sp.Eq(e_t, total),
        symbols=(e_t, b_sq, r, a_star, sigma, eps, n, t),
        notes=("The seed bounds e(t) with factors 2 (from (u+v)² ≤ 2u² + 2v²); in expectation "
               "the cross term vanishes (E u_jᵀξ = 0) and the identity is exact, without the 2s. "
               "Noise ξ ~ N(0, ε²I_n); r = rank X."),
        derivation=tuple(steps),
        parts={"mode": mode, "mode_limit": at_inf},
        references=("Seed 000, 'The generalization error of GD solutions'",),
    )


@result("linear.early_stopping", title="slow deterioration and the early-stopping time T_0",
        source=_SEED000, how="derive + numeric")
def early_stopping() -> Result:
    r"""For :math:`\beta^* = v_1` and rank-r ``X``, from the exact expectation
    (``linear.generalization_error``) and :math:`1-e^{-x}\le\min\{1,x\}`,
    :math:`\min\{a,b\}\le\sqrt{ab}`:

    .. math:: \mathbb E\,e(t) \le e^{-2\sigma_1^2t/n} + \varepsilon^2\,\frac{r}{n}\,t,

    minimized at :math:`T_0 = \frac{n}{2\sigma_1^2}\log\frac{2\sigma_1^2}{r\varepsilon^2}`
    (the seed's :math:`T_0` for r = n).
    """
    r = sym("r", integer=True, positive=True)
    bound = sp.exp(-2 * sigma_1**2 * t / n) + eps**2 * r * t / n
    crit = sp.solve(sp.diff(bound, t), t)
    if len(crit) != 1:
        raise ArithmeticError(f"expected one critical point, got {crit}")
    T0 = n / (2 * sigma_1**2) * sp.log(2 * sigma_1**2 / (r * eps**2))
    if sp.simplify(sp.expand_log(crit[0] - T0, force=True)) != 0:
        raise ArithmeticError(f"critical point {crit[0]} is not the tidy T_0 {T0}")
    curvature = sp.simplify(sp.diff(bound, t, 2).subs(t, T0))
    at_T0 = sp.simplify(sp.expand_log(bound.subs(t, T0), force=True))
    # The per-mode inequality that gives the linear term:
    x = sym("x", positive=True)
    e_t = sym("E_e_t", r"\mathbb{E}\, e(t)", nonnegative=True)
    T0_sym = sym("T_0", positive=True)
    return Result(
        id="linear.early_stopping",
        title="E e(t) ≤ e^{−2σ₁²t/n} + ε² r t/n: learn the signal fast, overfit the noise slowly; stop at T_0",
        source=_SEED000,
        statement=sp.Le(e_t, bound),
        symbols=(e_t, sigma_1, eps, r, n, t),
        conditions=(2 * sigma_1**2 > r * eps**2,),
        notes=("Seed 000 writes E e(t) ≲ e^{−2σ₁²t/n} + ε²t; with the constants kept the bound is "
               "exact as an inequality with ε²(r/n)t (r = rank X = n when n < d). At T_0 the bound "
               "equals (rε²/(2σ₁²))(1 + log(2σ₁²/(rε²))): one log, where the seed prints log². "
               "The exponential term is attained (without noise E e(t) = e^{−2σ₁²t/n}); the "
               "linear term is not: ε²Σ_j(1 − e^{−σ_j²t/n})²/σ_j² ≤ c·ε²rt/n already with "
               "c = max_x (1 − e^{−x})²/x ≈ 0.407, so the bound stays true with the linear term "
               "scaled by any factor ≥ 0.41 — numerics can pin its exponential term and T_0, "
               "not the constant of its linear term."),
        derivation=(
            Step("per mode: (1 − e^{−x})² ≤ min(1, x)²", sp.Le((1 - sp.exp(-x)) ** 2, sp.Min(1, x) ** 2)),
            Step("min(1/σ², σ²t²/n²) ≤ t/n, summed over r modes", sp.Le(sp.Min(1 / sigma**2, sigma**2 * t**2 / n**2), t / n)),
            Step("d/dt of the bound = 0", sp.Eq(sp.diff(bound, t), 0)),
            Step("solve for t", sp.Eq(T0_sym, T0)),
            Step("second derivative at T_0 (> 0: a minimum)", curvature),
            Step("bound at T_0", at_T0),
        ),
        parts={"T_0": T0, "bound_at_T_0": at_T0, "bound": bound},
        references=("Seed 000, 'Slow deterioration of the generalization error'; Ma, Wu, E, MSML 2020",),
    )


@result("linear.random_features_double_descent",
        title="random features: test error of the min-norm fit peaks near m = n",
        source="seed 000 (random feature models; Belkin et al. PNAS 2019)", how="numeric")
def random_features_double_descent() -> Result:
    r"""Random-feature regression :math:`f_m(x;a) = \sum_j a_j\sigma(w_j^Tx)` fitted by GD from
    zero, i.e. the minimum-norm interpolant :math:`\hat a = \Psi^+y` (``linear.gd_limit``).
    Its test error, as a function of the number of features m, peaks near the interpolation
    threshold m = n and falls again as m grows (double descent). Numeric evidence only.
    """
    m = sym("m", integer=True, positive=True)
    Psi = matrix("Psi", r"\Psi", n, m)
    y = sp.MatrixSymbol("y", n, 1)
    a_hat = matrix("a_hat", r"\hat{a}", m, 1)
    return Result(
        id="linear.random_features_double_descent",
        title="random-feature regression: test error of the min-norm fit peaks near m = n and falls again",
        source="seed 000 (random feature models; Belkin, Hsu, Ma, Mandal, PNAS 2019)",
        statement=sp.Eq(a_hat, Psi.T * (Psi * Psi.T).I * y),
        symbols=(n, m),
        conditions=(m >= n,),
        notes=("The statement is the estimator (the min-norm interpolant for m ≥ n; for m < n "
               "GD converges to the least-squares fit Ψ⁺y). The double-descent shape is the "
               "numeric claim; the peak comes from the smallest singular value of Ψ, which "
               "is near zero when m ≈ n, so the noise term ε²Σ1/σ_j² of "
               "linear.generalization_error blows up there."),
        references=("Belkin, Hsu, Ma, Mandal, PNAS 2019",),
    )
