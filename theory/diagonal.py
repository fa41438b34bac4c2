r"""Diagonal linear networks: the implicit bias interpolates between ℓ2 and ℓ1.

Conventions. :math:`w = u\odot u - v\odot v`, :math:`u_0 = v_0 = \alpha\mathbf 1`, gradient flow
on :math:`L(u, v) = \tfrac12\|Xw - y\|^2` (any positive multiple of L only rescales time).

References
----------
Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry, Srebro, COLT 2020 (*Kernel and
rich regimes in overparametrized models*), Theorem 1; seed 001 (survey of polynomially
overparametrized linear models).
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import sym

__all__: list[str] = []

_SRC = "seed 001 (survey); Woodworth et al. COLT 2020, Thm 1"

alpha = sym("alpha", r"\alpha", positive=True)
z = sym("z", real=True)
w = sym("w", real=True)


def _q_from_mirror_map() -> tuple[sp.Expr, list[Step]]:
    """Solve the flow of one coordinate, read off the mirror map, integrate it."""
    t = sp.Symbol("t", nonnegative=True)
    g = sp.Function("g")          # g(t) = (Xᵀ r(t))_i, r = Xw − y
    u, v = sp.Function("u"), sp.Function("v")
    # ∂L/∂u_i = 2 u_i g_i, ∂L/∂v_i = −2 v_i g_i.
    su = sp.dsolve(sp.Eq(u(t).diff(t), -2 * u(t) * g(t)), u(t), ics={u(0): alpha}).rhs
    sv = sp.dsolve(sp.Eq(v(t).diff(t), 2 * v(t) * g(t)), v(t), ics={v(0): alpha}).rhs
    S = sp.Symbol("S", real=True)     # S = ∫_0^t g
    # dsolve writes ∫g as an antiderivative G(t) minus G(0); call G(t) − G(0) = S.
    G0 = sp.Symbol("G_0", real=True)
    anti = {sp.Integral(g(t), t): S + G0, sp.Integral(g(t), (t, 0)): G0}
    wu = sp.simplify(sp.expand((su**2 - sv**2).subs(anti)))
    sinh_form = -2 * alpha**2 * sp.sinh(4 * S)
    if sp.simplify((wu - sinh_form).rewrite(sp.exp)) != 0:
        raise ArithmeticError(f"w(t) = {wu} is not −2α² sinh(4∫g)")
    # Mirror map: asinh(w/(2α²)) = −4∫g ∈ range(Xᵀ); the potential's gradient is asinh(w/(2α²)).
    mirror = -4 * S  # asinh is the inverse of sinh on the reals:
    if sp.simplify(2 * alpha**2 * sp.sinh(mirror) - sinh_form) != 0:
        raise ArithmeticError("mirror map does not invert w = −2α² sinh(4S)")
    s_ = sp.Symbol("s", real=True)
    Q1 = sp.integrate(sp.asinh(s_ / (2 * alpha**2)), (s_, 0, w))
    q = sp.simplify(sp.integrate(sp.asinh(s_ / 2), (s_, 0, z)))
    q_tidy = 2 - sp.sqrt(4 + z**2) + z * sp.asinh(z / 2)
    if sp.simplify(q - q_tidy) != 0:
        raise ArithmeticError(f"∫asinh(s/2) = {q}, not the tidy q")
    if sp.simplify(sp.expand(Q1 - alpha**2 * q_tidy.subs(z, w / alpha**2))) != 0:
        raise ArithmeticError("∫_0^w asinh(s/(2α²)) ds is not α² q(w/α²)")
    steps = [
        Step("coordinate i: u̇ = −2u g, u(0) = α (dsolve)", sp.Eq(u(t), su)),
        Step("v̇ = 2v g, v(0) = α (dsolve)", sp.Eq(v(t), sv)),
        Step("w = u² − v² with S = ∫₀ᵗ g", sp.Eq(sp.Symbol("w"), sinh_form)),
        Step("mirror map: asinh(w/(2α²)) = −4∫Xᵀr ∈ range(Xᵀ)", sp.Eq(sp.asinh(sp.Symbol("w") / (2 * alpha**2)), mirror)),
        Step("KKT of min Q s.t. Xw = y needs ∇Q = asinh(w/(2α²)): integrate", sp.Eq(sp.Symbol("Q_i"), Q1)),
        Step("q(z) = ∫₀ᶻ asinh(s/2) ds, Q_α(w) = α² Σ q(w_i/α²)", sp.Eq(sp.Symbol("q"), q_tidy)),
    ]
    return q_tidy, steps


@result("diagonal.implicit_bias",
        title="diagonal net from u_0 = v_0 = α1: gradient flow reaches argmin Q_α(w) s.t. Xw = y",
        source=_SRC, how="derive (q) + numeric")
def implicit_bias() -> Result:
    r"""Each coordinate of the flow solves in closed form:
    :math:`u_i = \alpha e^{-2S_i}`, :math:`v_i = \alpha e^{2S_i}`, :math:`S = \int_0^t X^Tr`,
    so :math:`w = -2\alpha^2\sinh(4S)` and :math:`\operatorname{asinh}(w/(2\alpha^2))\in\operatorname{range}(X^T)`.
    A limit that interpolates therefore satisfies the KKT conditions of

    .. math:: \min_w Q_\alpha(w) = \alpha^2\sum_i q(w_i/\alpha^2)\ \text{s.t. } Xw = y,\qquad
              q(z) = 2 - \sqrt{4+z^2} + z\operatorname{asinh}(z/2),

    whose gradient is :math:`\operatorname{asinh}(w/(2\alpha^2))`; :math:`Q_\alpha` is strictly
    convex, so the KKT point is the minimizer.
    """
    q, steps = _q_from_mirror_map()
    Q = sym("Q_alpha", r"Q_\alpha(w)", nonnegative=True)
    qq = sym("q_z", "q(z)", nonnegative=True)
    qpp = sp.simplify(q.diff(z, 2))
    steps.append(Step("q''(z) > 0: strictly convex", qpp))
    return Result(
        id="diagonal.implicit_bias",
        title="w = u⊙u − v⊙v, u_0 = v_0 = α1, gradient flow on ‖Xw − y‖²: limit = argmin Q_α(w) s.t. Xw = y",
        source=_SRC,
        statement=sp.Eq(qq, q),
        symbols=(qq, z, w, alpha, Q),
        notes=("Q_α(w) = α² Σ_i q(w_i/α²). The loss normalisation (½‖·‖², ‖·‖², 1/n) only "
               "rescales time and does not change the limit. The result assumes the flow "
               "converges to an interpolant (it does for this model)."),
        derivation=tuple(steps),
        parts={"q": q, "Q_coordinate": alpha**2 * q.subs(z, w / alpha**2),
               "mirror_gradient": sp.asinh(w / (2 * alpha**2)),
               "conjugate": 2 * alpha**2 * (sp.cosh(z) - 1)},
        references=("Woodworth et al., COLT 2020, Theorem 1",),
    )


@result("diagonal.scale_limits",
        title="α → 0: Q_α ∝ ℓ1 (rich regime); α → ∞: Q_α ∝ ℓ2 (kernel regime)",
        source=_SRC, how="derive (limits)")
def scale_limits() -> Result:
    r"""Per coordinate,

    .. math:: \lim_{\alpha\to0}\frac{\alpha^2 q(w/\alpha^2)}{\log(1/\alpha^2)} = |w|,\qquad
              \lim_{\alpha\to\infty}\alpha^2\cdot\alpha^2 q(w/\alpha^2) = \frac{w^2}{4},

    so the minimizer of :math:`Q_\alpha` on :math:`\{Xw = y\}` tends to the min-ℓ1 interpolant
    as α → 0 and to the min-ℓ2 one as α → ∞ (the scale factors do not move argmins).
    """
    q, _ = _q_from_mirror_map()
    Qc = alpha**2 * q.subs(z, w / alpha**2)
    wp = sym("w_pos", "w", positive=True)
    small = sp.limit((Qc / sp.log(1 / alpha**2)).subs(w, wp), alpha, 0, "+")
    small_neg = sp.limit((Qc / sp.log(1 / alpha**2)).subs(w, -wp), alpha, 0, "+")
    large = sp.limit(alpha**2 * Qc, alpha, sp.oo)
    if sp.simplify(small - wp) != 0 or sp.simplify(small_neg - wp) != 0:
        raise ArithmeticError(f"α → 0 limit is {small}, {small_neg}, not |w|")
    if sp.simplify(large - w**2 / 4) != 0:
        raise ArithmeticError(f"α → ∞ limit is {large}, not w²/4")
    taylor = sp.series(q, z, 0, 5).removeO()
    asym = sp.simplify(sp.limit(q / (z * sp.log(z)), z, sp.oo))
    l1 = sym("l1", r"\lim_{\alpha\to0} Q_\alpha(w)/\log(1/\alpha^2)", nonnegative=True)
    l2 = sym("l2", r"\lim_{\alpha\to\infty} \alpha^2 Q_\alpha(w)", nonnegative=True)
    return Result(
        id="diagonal.scale_limits",
        title="α → 0: Q_α(w)/log(1/α²) → ‖w‖₁ (rich regime); α → ∞: α²Q_α(w) → ‖w‖²/4 (kernel regime)",
        source=_SRC,
        statement=sp.And(sp.Eq(l1, sp.Abs(w)), sp.Eq(l2, w**2 / 4)),
        symbols=(l1, l2, w, alpha, z),
        notes=("Per coordinate; sum over i for the vectors. Near α → 0 the convergence in "
               "the objective is slow (relative O(1/log(1/α²))), so the argmin approaches "
               "the min-ℓ1 interpolant only logarithmically in α unless that LP solution is "
               "non-degenerate."),
        derivation=(
            Step("α² q(w/α²)/log(1/α²), w > 0, α → 0", small),
            Step("same for w < 0", small_neg),
            Step("α²·α² q(w/α²), α → ∞", large),
            Step("q near 0 (Taylor): z²/4 + O(z⁴)", taylor),
            Step("q(z)/(z log z) as z → ∞", asym),
        ),
        parts={"small_alpha": sp.Abs(w), "large_alpha": w**2 / 4},
        references=("Woodworth et al., COLT 2020, Theorem 2",),
    )
