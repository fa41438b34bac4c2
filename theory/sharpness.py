r"""Sharpness measures and their closed forms near a minimum (seeds 001 and 004).

At a minimum :math:`x` with Hessian :math:`H = \nabla^2L(x)` a quadratic loss reads
:math:`L(x+\delta) = L(x) + \frac12\delta^TH\delta`; the three measures of the catalog reduce
to spectral quantities of ``H``: ε-sharpness to :math:`\lambda_1`, PAC-Bayes sharpness to
:math:`\operatorname{Tr}H`, the flatness radius along δ to :math:`\delta^TH\delta`.

References
----------
Seed 001 (Z. Li, sharpness, 2024): ε-sharpness (Keskar et al. 2016), PAC-Bayes sharpness
(McAllester 1999; Dziugaite & Roy 2017; Neyshabur et al. 2017). Memo 004, eq. (11): the
flatness radius.
"""

from __future__ import annotations

import sympy as sp
from sympy.stats import E as expectation
from sympy.stats import Normal

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import sym

__all__: list[str] = []

_SEED001 = "seed 001 (Li 2024, sharpness as a generalization predictor)"
_MEMO004 = "memo 004 (flatness test, eq. 11)"

eps = sym("epsilon", r"\varepsilon", positive=True)
sigma = sym("sigma", r"\sigma", positive=True)
lam1 = sym("lambda_1", r"\lambda_1", positive=True)
trH = sym("tr_H", r"\operatorname{Tr}\nabla^2 L", nonnegative=True)


@result("sharpness.epsilon", title="ε-sharpness: 2φ_ε/ε² → λ_1 as ε → 0", source=_SEED001,
        how="derive + numeric")
def epsilon_sharpness() -> Result:
    r""":math:`\phi_\varepsilon(x) = \sup_{\|x'-x\|\le\varepsilon}L(x') - L(x)`. At a minimum of a
    quadratic, :math:`\phi_\varepsilon = \frac{\varepsilon^2}2\lambda_1` exactly; for a
    :math:`C^3` loss with :math:`\nabla L(x) = 0`, :math:`\phi_\varepsilon = \frac{\varepsilon^2}2\lambda_1 + O(\varepsilon^3)`,
    so :math:`2\phi_\varepsilon/\varepsilon^2 \to \lambda_1`.
    """
    th = sp.Symbol("theta", real=True)
    l2 = sym("lambda_2", r"\lambda_2", positive=True)
    # 2-D quadratic in its eigenbasis, δ = ε(cos θ, sin θ) on the sphere (the max of a convex
    # function over the ball is on the sphere).
    q = sp.Rational(1, 2) * eps**2 * (lam1 * sp.cos(th) ** 2 + l2 * sp.sin(th) ** 2)
    crit = sp.solve(sp.diff(q, th), th)
    values = [sp.simplify(q.subs(th, c)) for c in crit]
    phi_quad = eps**2 * lam1 / 2
    if phi_quad not in values:
        raise ArithmeticError(f"critical values {values} miss ε²λ₁/2")
    # The largest critical value is ε²λ₁/2 when λ₁ ≥ λ₂ (difference = ε²(λ₁ − λ₂)/2).
    gap = sp.factor(phi_quad - [v for v in values if v != phi_quad][0])
    # Non-quadratic: L = ½λ₁x² + κx³ in 1-D; φ_ε = max(L(ε), L(−ε)) − L(0) = ½λ₁ε² + |κ|ε³.
    kappa = sp.Symbol("kappa", positive=True)
    x = sp.Symbol("x", real=True)
    L = lam1 * x**2 / 2 + kappa * x**3
    phi = sp.Max(L.subs(x, eps), L.subs(x, -eps))
    phi = sp.simplify(phi)
    lim = sp.limit(2 * phi / eps**2, eps, 0, "+")
    if sp.simplify(lim - lam1) != 0:
        raise ArithmeticError(f"limit {lim} ≠ λ₁")
    ratio = sym("ratio", r"\lim_{\varepsilon\to 0} 2\phi_\varepsilon/\varepsilon^2", positive=True)
    statement = sp.Eq(ratio, lam1)
    return Result(
        id="sharpness.epsilon",
        title="ε-sharpness φ_ε = sup_{‖x'−x‖≤ε} L(x') − L(x): 2φ_ε/ε² → λ₁(∇²L) as ε → 0",
        source=_SEED001,
        statement=statement,
        symbols=(ratio, lam1, eps),
        conditions=(),
        notes=("At a minimum (∇L(x) = 0), L ∈ C². For a quadratic the identity is exact at every ε: "
               "φ_ε = ε²λ₁/2, attained at ε times the top eigenvector. The numeric measure "
               "(numerics.sharpness.epsilon_sharpness) maximizes by fixed-point ascent, which on a "
               "quadratic is power iteration and approaches ε²λ₁/2 from below."),
        derivation=(
            Step("quadratic, δ = ε(cos θ, sin θ) in the eigenbasis", sp.Eq(sp.Symbol("L(x+δ) − L(x)"), q)),
            Step("critical points in θ", sp.Eq(sp.Symbol("θ*"), sp.Tuple(*crit))),
            Step("largest critical value (λ₁ ≥ λ₂): excess over the other", sp.Eq(sp.Symbol("gap"), gap)),
            Step("cubic example L = ½λ₁x² + κx³: φ_ε", sp.Eq(sym("phi_eps", r"\phi_\varepsilon"), phi)),
            Step("limit of 2φ_ε/ε² as ε → 0⁺", sp.Eq(ratio, lim)),
        ),
        parts={"quadratic": phi_quad},
        references=("Seed 001, 'Sharpness as a generalization predictor'",
                    "Keskar et al. (2016), On large-batch training for deep learning"),
    )


@result("sharpness.pac_bayes", title="PAC-Bayes sharpness ≈ (σ²/2) Tr ∇²L", source=_SEED001, how="derive")
def pac_bayes() -> Result:
    r""":math:`\mathbb E_{v\sim N(0,\sigma^2I)}L(x+v) - L(x) = \frac{\sigma^2}2\operatorname{Tr}\nabla^2L(x) + O(\sigma^4)`,
    exact (no remainder) for a quadratic :math:`L`.
    """
    # d = 3 with a symbolic symmetric Hessian and gradient: the expectation is exact.
    hs = sp.symbols("h11 h12 h13 h22 h23 h33", real=True)
    Hm = sp.Matrix([[hs[0], hs[1], hs[2]], [hs[1], hs[3], hs[4]], [hs[2], hs[4], hs[5]]])
    g = sp.Matrix(sp.symbols("g1:4", real=True))
    v = sp.Matrix([Normal(f"v{i}", 0, sigma) for i in range(1, 4)])
    dL = (g.T * v)[0, 0] + sp.Rational(1, 2) * (v.T * Hm * v)[0, 0]
    Ed = sp.simplify(expectation(sp.expand(dL)))
    if sp.simplify(Ed - sigma**2 / 2 * Hm.trace()) != 0:
        raise ArithmeticError(f"E[ΔL] = {Ed}")
    # Beyond quadratics (1-D, Taylor to 4th order): the remainder starts at σ⁴ L''''/8.
    c2, c3, c4 = sp.symbols("L2 L3 L4", real=True)
    w = Normal("w", 0, sigma)
    quartic = c2 * w**2 / 2 + c3 * w**3 / 6 + c4 * w**4 / 24
    Eq4 = sp.expand(sp.simplify(expectation(quartic)))
    if sp.simplify(Eq4 - (sigma**2 * c2 / 2 + sigma**4 * c4 / 8)) != 0:
        raise ArithmeticError(f"fourth-order expansion gave {Eq4}")
    S = sym("S_pac", r"\mathbb{E}_{v \sim N(0, \sigma^2 I)} L(x + v) - L(x)", real=True)
    statement = sp.Eq(S, sigma**2 / 2 * trH)
    return Result(
        id="sharpness.pac_bayes",
        title="PAC-Bayes sharpness E_{v~N(0,σ²I)} L(x+v) − L(x) ≈ (σ²/2) Tr ∇²L",
        source=_SEED001,
        statement=statement,
        symbols=(S, sigma, trH),
        notes=("Exact for quadratic L (any gradient: the linear term has mean zero); otherwise the "
               "remainder is (σ⁴/8) Σ_i ∂⁴_iL + (σ⁴/8)Σ_{i≠j}∂²_i∂²_jL + O(σ⁶) (1-D: σ⁴L''''/8). "
               "Seed 001 states it for small σ."),
        derivation=(
            Step("d = 3, symbolic H and g: E[gᵀv + ½vᵀHv] with v ~ N(0, σ²I)", sp.Eq(sp.Symbol("E[ΔL]"), Ed)),
            Step("1-D Taylor to 4th order: E[L''w²/2 + L'''w³/6 + L''''w⁴/24]", sp.Eq(sp.Symbol("E[ΔL₄]"), Eq4)),
        ),
        parts={"value": sigma**2 / 2 * trH},
        references=("Seed 001, 'Sharpness as a generalization bound'", "McAllester (1999)",
                    "Dziugaite & Roy (2017)"),
    )


@result("sharpness.flatness_radius", title="flatness radius along δ: r = √(2ε/δᵀHδ) for a quadratic",
        source=_MEMO004, how="derive + numeric")
def flatness_radius() -> Result:
    r"""Memo 004 eq. (11): :math:`r(x,\delta,\varepsilon) = \sup\{r : |L(x) - L(x+r\delta)| \le \varepsilon\}`,
    :math:`\|\delta\| = 1`. At the minimum of a quadratic,
    :math:`L(x+r\delta) - L(x) = \frac{r^2}2\delta^TH\delta` is increasing in r, so
    :math:`r = \sqrt{2\varepsilon/\delta^TH\delta}`.
    """
    r = sp.Symbol("r", positive=True)
    q = sym("q", r"\delta^T H \delta", positive=True)
    sols = sp.solve(sp.Eq(r**2 / 2 * q, eps), r)
    if len(sols) != 1:
        raise ArithmeticError(f"expected one positive root, got {sols}")
    rad = sym("r_delta", r"r(x, \delta, \varepsilon)", positive=True)
    # Kept as one unevaluated square root: it prints as √(2ε/δᵀHδ) and evaluates with a
    # single xp.sqrt (SymPy would split out a constant √2, a bare number for the array API).
    radius = sp.Pow(2 * eps / q, sp.Rational(1, 2), evaluate=False)
    if sp.simplify(radius - sols[0]) != 0:
        raise ArithmeticError(f"root {sols[0]} ≠ {radius}")
    statement = sp.Eq(rad, radius)
    # Monotone in r, so the sup of the sublevel set is the crossing.
    deriv = sp.diff(r**2 / 2 * q, r)
    return Result(
        id="sharpness.flatness_radius",
        title="flatness radius along a unit direction δ (memo 004 eq. 11): r = √(2ε/δᵀHδ) for a quadratic",
        source=_MEMO004,
        statement=statement,
        symbols=(rad, eps, q),
        notes=("δ a unit vector, x a minimum, δᵀHδ > 0 (along a flat direction the radius is infinite; "
               "the numeric measure caps it at r_max). For random isotropic δ, E δᵀHδ = Tr H / p, and the "
               "memo averages r over T directions."),
        derivation=(
            Step("L(x + rδ) − L(x) = ½r²δᵀHδ, increasing for r > 0", sp.Eq(sp.Symbol("∂_r ΔL"), deriv)),
            Step("crossing ½r²δᵀHδ = ε", statement),
        ),
        parts={"radius": radius},
        references=("Memo 004, eq. (11) and Table 1",),
    )
