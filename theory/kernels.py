r"""Arc-cosine kernels: :math:`k_n(b, b') = \mathbb E_x[\sigma_n(b\cdot x)\,\sigma_n(b'\cdot x)]`.

With :math:`\sigma_n(u) = u^n\,\mathbf 1\{u > 0\}` (:math:`n = 0` step, :math:`n = 1` ReLU,
:math:`n = 2` squared ReLU) and :math:`x \sim N(0, I_d)`, the expectation only sees the
projection of ``x`` on the plane spanned by ``b`` and ``b'``, a standard Gaussian in
:math:`\mathbb R^2`. Putting ``b`` on the first axis and ``b'`` at angle :math:`\theta` and
integrating in polar coordinates :math:`(r, \varphi)`,

.. math::
    k_n(b, b') = \frac{\|b\|^n\|b'\|^n}{2\pi}
      \int_0^\infty r^{2n+1}e^{-r^2/2}\,dr
      \int_{\theta-\pi/2}^{\pi/2}\cos^n\varphi\,\cos^n(\varphi-\theta)\,d\varphi,

which SymPy carries out for n = 0, 1, 2 (:func:`_derive_gaussian`). For
:math:`x \sim \mathrm{Unif}(S^{d-1})`, write a Gaussian vector as :math:`x = \rho\,\omega`
with :math:`\rho^2 \sim \chi^2_d` independent of :math:`\omega`; :math:`\sigma_n` is
positively homogeneous of degree n, so the Gaussian kernel is :math:`\mathbb E[\rho^{2n}]`
times the spherical one, and :math:`\mathbb E\rho^{2n} = 2^n\Gamma(d/2+n)/\Gamma(d/2)`
(= d for n = 1).

References
----------
seed 000 (L. Wu, eqs. 14–15); Y. Cho and L. K. Saul, *Kernel methods for deep learning*,
NIPS 2009 (their :math:`k_n = \tfrac1\pi\|b\|^n\|b'\|^nJ_n(\theta)` is for the integral
:math:`2\int` over :math:`N(0, I)` weights; the expectation here is half of it).
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import sym

__all__: list[str] = []  # results are reached through theory.get(id)

_SOURCE = "seed 000 (Wu 2020, eq. 15), citing Cho & Saul, NIPS 2009"
_REF = ("Y. Cho and L. K. Saul, Kernel methods for deep learning, NIPS 2009, eq. (6)",
        "Seed 000, eqs. (14)–(15)")

# Shared symbols. theta is the angle between b and b'; the norms enter as symbols so that
# numeric() takes them as arrays.
theta = sym("theta", r"\theta", nonnegative=True)
norm_b = sym("norm_b", r"\|b\|", positive=True)
norm_bp = sym("norm_bp", r"\|b'\|", positive=True)
d = sym("d", integer=True, positive=True)
n_order = sym("n", integer=True, nonnegative=True)
_phi = sp.Symbol("varphi", real=True)
_r = sp.Symbol("r", positive=True)


def _sigma_value(name: str, n: int) -> sp.Symbol:
    return sym(name, {0: r"k_0(b, b')", 1: r"k_1(b, b')", 2: r"k_2(b, b')"}[n], real=True)


def _derive_gaussian(n: int) -> tuple[sp.Expr, list[Step]]:
    """k_n(b, b') for x ~ N(0, I): polar integral in the plane of b, b', with self-checks."""
    sigma_n = sp.Lambda(sp.Symbol("u"), sp.Symbol("u") ** n * sp.Heaviside(sp.Symbol("u")))
    # b = ‖b‖ e_1, b' = ‖b'‖(cos θ e_1 + sin θ e_2), x_plane = r(cos φ, sin φ):
    # b·x = ‖b‖ r cos φ, b'·x = ‖b'‖ r cos(φ − θ); both positive iff φ ∈ (θ − π/2, π/2).
    density = _r * sp.exp(-_r**2 / 2) / (2 * sp.pi)  # N(0, I_2) in polar coordinates
    radial = sp.integrate(_r ** (2 * n) * _r * sp.exp(-_r**2 / 2), (_r, 0, sp.oo))
    angular = sp.integrate(sp.cos(_phi) ** n * sp.cos(_phi - theta) ** n,
                           (_phi, theta - sp.pi / 2, sp.pi / 2))
    k = sp.simplify(norm_b**n * norm_bp**n * radial * angular / (2 * sp.pi))
    # Self-checks, each computed independently of the polar integral:
    # (i) θ = 0: k(b, b) = E σ_n(b·x)² = ‖b‖^{2n} E[g^{2n}; g > 0], g ~ N(0, 1).
    g = sp.Symbol("g", real=True)
    one_sided = sp.integrate(g ** (2 * n) * sp.exp(-g**2 / 2) / sp.sqrt(2 * sp.pi), (g, 0, sp.oo))
    at_zero = sp.simplify(k.subs(theta, 0) - (norm_b * norm_bp) ** n * one_sided)
    if at_zero != 0:
        raise ArithmeticError(f"k_{n}(θ = 0) ≠ E σ_{n}(g)²: residual {at_zero}")
    # (ii) θ = π: b' = −b, the two factors are never positive together.
    at_pi = sp.simplify(k.subs(theta, sp.pi))
    if at_pi != 0:
        raise ArithmeticError(f"k_{n}(θ = π) should vanish; got {at_pi}")
    # (iii) θ = π/2: b·x and b'·x are independent, k = (E σ_n(g))² ‖b‖^n‖b'‖^n.
    half = sp.integrate(g**n * sp.exp(-g**2 / 2) / sp.sqrt(2 * sp.pi), (g, 0, sp.oo))
    at_right = sp.simplify(k.subs(theta, sp.pi / 2) - (norm_b * norm_bp) ** n * half**2)
    if at_right != 0:
        raise ArithmeticError(f"k_{n}(θ = π/2) ≠ (E σ_{n}(g))²: residual {at_right}")
    steps = [
        Step(f"σ_{n}(u) = u^{n}·1{{u > 0}}; reduce to the plane of b, b': "
             "b·x = ‖b‖ r cos φ, b'·x = ‖b'‖ r cos(φ − θ), density r e^{−r²/2}/(2π)",
             sp.Eq(sp.Symbol("p(r, varphi)"), density)),
        Step("σ_n", sigma_n),
        Step("radial integral ∫_0^∞ r^{2n+1} e^{−r²/2} dr", radial),
        Step("angular integral over φ ∈ (θ − π/2, π/2), where both are positive",
             sp.simplify(angular)),
        Step("k_n = ‖b‖^n‖b'‖^n · radial · angular / (2π)", k),
        Step("check θ = 0 against E σ_n(g)² (residual)", at_zero),
        Step("check θ = π (b' = −b) gives 0", at_pi),
        Step("check θ = π/2 against (E σ_n(g))² (independent factors; residual)", at_right),
    ]
    return k, steps


def _cho_saul_J(n: int) -> sp.Expr:
    """Cho & Saul's angular functions J_n(θ) (their eq. 6), for comparison only."""
    s, c = sp.sin(theta), sp.cos(theta)
    return {0: sp.pi - theta,
            1: s + (sp.pi - theta) * c,
            2: 3 * s * c + (sp.pi - theta) * (1 + 2 * c**2)}[n]


def _gaussian_result(n: int, rid: str, title: str, notes: str) -> Result:
    k, steps = _derive_gaussian(n)
    tidy = (norm_b * norm_bp) ** n * _cho_saul_J(n) / (2 * sp.pi)
    residual = sp.simplify(sp.expand_trig(k - tidy))
    if residual != 0:
        raise ArithmeticError(f"k_{n} disagrees with ‖b‖^n‖b'‖^n J_{n}(θ)/(2π): {residual}")
    steps.append(Step(f"equals ‖b‖^n‖b'‖^n J_{n}(θ)/(2π) with Cho & Saul's J_{n} (residual)",
                      residual))
    lhs = _sigma_value(f"k_{n}", n)
    symbols = (lhs, norm_b, norm_bp, theta) if n else (lhs, theta, norm_b, norm_bp)
    return Result(
        id=rid,
        title=title,
        source=_SOURCE,
        statement=sp.Eq(lhs, tidy),
        symbols=symbols,
        conditions=(theta <= sp.pi,),
        notes=notes,
        derivation=tuple(steps),
        parts={"J": _cho_saul_J(n), "diagonal": tidy.subs(theta, 0)},
        references=_REF,
    )


@result("kernels.arccos0_gaussian", title="order-0 arc-cosine kernel under x ~ N(0, I)",
        source=_SOURCE, how="derive")
def arccos0_gaussian() -> Result:
    r""":math:`\mathbb E_{x\sim N(0,I)}[\mathbf 1\{b\cdot x>0\}\mathbf 1\{b'\cdot x>0\}] = (\pi-\theta)/(2\pi)`.

    Examples
    --------
    >>> import theory
    >>> print(theory.get("kernels.arccos0_gaussian").latex())
    k_0(b, b') = \frac{\pi - \theta}{2 \pi}
    """
    r = _gaussian_result(
        0, "kernels.arccos0_gaussian",
        "E[1{b·x > 0} 1{b'·x > 0}] = (π − θ)/(2π) for x ~ N(0, I): the probability that two "
        "half-spaces both contain x",
        "Independent of the norms (σ_0 is homogeneous of degree 0); θ = arccos(b̂·b̂') ∈ [0, π]. "
        "Also the kernel of x ~ Unif(S^{d−1}) (the factor E ρ^0 = 1).")
    return r


@result("kernels.arccos1_gaussian", title="ReLU arc-cosine kernel under x ~ N(0, I)",
        source=_SOURCE, how="derive")
def arccos1_gaussian() -> Result:
    r""":math:`\mathbb E_{x\sim N(0,I)}[\sigma(b\cdot x)\sigma(b'\cdot x)]
    = \|b\|\|b'\|\,(\sin\theta + (\pi-\theta)\cos\theta)/(2\pi)`, :math:`\sigma` = ReLU."""
    return _gaussian_result(
        1, "kernels.arccos1_gaussian",
        "E[σ(b·x)σ(b'·x)] = ‖b‖‖b'‖(sin θ + (π − θ)cos θ)/(2π) for x ~ N(0, I), σ = ReLU",
        "Seed 000's eq. (15) prints ‖b‖‖b'‖(sin θ + (π − θ)cos θ) without the factor 1/(2π); "
        "the derivation (and the check θ = 0: E σ(g)² = 1/2) fixes it. Cho & Saul's "
        "k_1 = ‖b‖‖b'‖J_1(θ)/π is twice this expectation (their normalisation).")


@result("kernels.arccos1_sphere", title="ReLU arc-cosine kernel under x ~ Unif(S^{d−1})",
        source=_SOURCE, how="derive")
def arccos1_sphere() -> Result:
    r""":math:`\mathbb E_{x\sim\mathrm{Unif}(S^{d-1})}[\sigma(b\cdot x)\sigma(b'\cdot x)]
    = \|b\|\|b'\|(\sin\theta + (\pi-\theta)\cos\theta)/(2\pi d)`.

    Derived from the Gaussian kernel by homogeneity: for :math:`x = \rho\omega`,
    :math:`\rho^2\sim\chi^2_d` independent of :math:`\omega\sim\mathrm{Unif}(S^{d-1})`,
    :math:`k^{N}_n = \mathbb E[\rho^{2n}]\,k^{S}_n` and
    :math:`\mathbb E\rho^{2n} = 2^n\Gamma(d/2+n)/\Gamma(d/2)`. The part ``"order_n_factor"``
    holds this general factor.
    """
    k1, steps = _derive_gaussian(1)
    q = sp.Symbol("q", positive=True)  # q = ρ², chi-square with d degrees of freedom
    chi2 = q ** (d / 2 - 1) * sp.exp(-q / 2) / (2 ** (d / 2) * sp.gamma(d / 2))
    moment_n = sp.simplify(sp.integrate(q**n_order * chi2, (q, 0, sp.oo), conds="none"))
    moment_n = sp.simplify(sp.gammasimp(moment_n))
    moment_1 = sp.simplify(sp.gammasimp(moment_n.subs(n_order, 1)))
    if sp.simplify(moment_1 - d) != 0:
        raise ArithmeticError(f"E ρ² should be d; got {moment_1}")
    # Check the general factor on n = 2: E ρ⁴ = d(d + 2) (the chi-square variance 2d plus d²).
    if sp.simplify(sp.gammasimp(moment_n.subs(n_order, 2)) - d * (d + 2)) != 0:
        raise ArithmeticError("E ρ⁴ should be d(d + 2)")
    sphere = sp.simplify(k1 / moment_1)
    tidy = norm_b * norm_bp * _cho_saul_J(1) / (2 * sp.pi * d)
    if sp.simplify(sp.expand_trig(sphere - tidy)) != 0:
        raise ArithmeticError("sphere kernel does not reduce to the tidy form")
    lhs = sym("k_1_sphere", r"k^{S}_1(b, b')", real=True)
    steps += [
        Step("x = ρω, ρ² ~ χ²_d ⟂ ω: E_N[σ(b·x)σ(b'·x)] = E[ρ²]·E_S[σ(b·ω)σ(b'·ω)] "
             "(σ positively homogeneous of degree 1)",
             sp.Eq(sym("k_1_N", "k^{N}_{1}"), sym("E_rho_sq", r"\mathbb{E}[\rho^{2}]")
                   * sym("k_1_S", "k^{S}_{1}"))),
        Step("E ρ^{2n} = ∫ q^n χ²_d(q) dq", moment_n),
        Step("n = 1: E ρ² = d", moment_1),
        Step("divide", sp.Eq(lhs, sphere)),
    ]
    return Result(
        id="kernels.arccos1_sphere",
        title="E[σ(b·x)σ(b'·x)] = ‖b‖‖b'‖(sin θ + (π − θ)cos θ)/(2πd) for x ~ Unif(S^{d−1})",
        source=_SOURCE,
        statement=sp.Eq(lhs, tidy),
        symbols=(lhs, norm_b, norm_bp, theta, d, n_order),
        conditions=(theta <= sp.pi, d >= 2),
        notes=("Seed 000's eq. (15) is stated for x ~ Unif(S^{d−1}) but omits both constants: "
               "the 1/(2π) of the Gaussian expectation and the 1/d = 1/E‖x‖² from homogeneity. "
               "For the order-n kernel the factor is 1/E ρ^{2n} = Γ(d/2)/(2^n Γ(d/2 + n)) "
               "(part 'order_n_factor'; 1 for n = 0, 1/(d(d + 2)) for n = 2). The reduction "
               "to the plane of b, b' needs d ≥ 2."),
        derivation=tuple(steps),
        parts={"order_n_factor": sp.simplify(1 / moment_n), "gaussian": k1},
        references=_REF,
    )


@result("kernels.arccos2_gaussian", title="order-2 arc-cosine kernel under x ~ N(0, I)",
        source=_SOURCE, how="derive")
def arccos2_gaussian() -> Result:
    r""":math:`\mathbb E_{x\sim N(0,I)}[\sigma_2(b\cdot x)\sigma_2(b'\cdot x)]`,
    :math:`\sigma_2(u) = \max(u, 0)^2`:
    :math:`\|b\|^2\|b'\|^2(3\sin\theta\cos\theta + (\pi-\theta)(1+2\cos^2\theta))/(2\pi)`."""
    return _gaussian_result(
        2, "kernels.arccos2_gaussian",
        "E[σ₂(b·x)σ₂(b'·x)] = ‖b‖²‖b'‖²(3 sin θ cos θ + (π − θ)(1 + 2cos²θ))/(2π), σ₂(u) = max(u, 0)²",
        "Cho & Saul's J_2 over 2π (their k_2 = ‖b‖²‖b'‖²J_2/π is twice the expectation). "
        "At θ = 0 it is E σ₂(g)² = E[g⁴; g > 0] = 3/2.")
