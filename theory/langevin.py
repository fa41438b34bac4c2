r"""Langevin dynamics: the Boltzmann distribution and why noise prefers flat minima.

Conventions. The Langevin (GDL) iteration on a potential U is
:math:`x_{t+1} = x_t - \eta\nabla U(x_t) + \sqrt{2\eta T}\,\xi_t`, :math:`\xi_t\sim N(0, I_d)`,
the Euler–Maruyama step of :math:`dX = -\nabla U\,dt + \sqrt{2T}\,dW` with :math:`dt = \eta`.

References
----------
memo 004 (Zhang, Liao, Rakhlin, Miranda, Golowich, Poggio, *Theory of deep learning IIb:
optimization properties of SGD*, CBMM memo 072, 2018), Section 3, eq. (9), figures 3–6;
Gelfand & Mitter 1991; Risken, *The Fokker–Planck equation*, 1989.
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import sym

__all__: list[str] = []

_MEMO = "memo 004 (Zhang et al. 2018, SGD as approximate Langevin)"

T = sym("T", positive=True)
eta = sym("eta", r"\eta", positive=True)
d = sym("d", integer=True, positive=True)
k = sym("k", positive=True)


@result("langevin.boltzmann", title="Langevin iteration: stationary density ∝ exp(−U/T)",
        source=_MEMO, how="state + numeric")
def boltzmann() -> Result:
    r"""The diffusion :math:`dX = -U'(X)dt + \sqrt{2T}dW` has Fokker–Planck equation
    :math:`\partial_t p = \partial_x(U'p + T\partial_x p)`; the density
    :math:`p\propto e^{-U/T}` makes the probability flux :math:`U'p + T p'` vanish
    identically, so it is stationary (SymPy checks this for an undefined U in 1-D and,
    coordinate by coordinate, for U of two variables). That the discrete iteration with
    step η has a stationary law within O(η) of it, and reaches it, is stated; the numeric
    check is the evidence.
    """
    x, y = sp.symbols("x y", real=True)
    t = sp.Symbol("t", nonnegative=True)
    U = sp.Function("U")
    p = sp.exp(-U(x) / T)
    flux = sp.simplify(U(x).diff(x) * p + T * p.diff(x))
    fp_rhs = sp.simplify((U(x).diff(x) * p + T * p.diff(x)).diff(x))
    if flux != 0 or fp_rhs != 0:
        raise ArithmeticError(f"exp(−U/T) is not stationary: flux {flux}")
    U2 = sp.Function("U")(x, y)
    p2 = sp.exp(-U2 / T)
    flux2 = [sp.simplify(U2.diff(c) * p2 + T * p2.diff(c)) for c in (x, y)]
    if any(f != 0 for f in flux2):
        raise ArithmeticError(f"exp(−U/T) is not stationary in 2-D: {flux2}")
    # One step's noise has variance 2ηT = 2T dt with dt = η.
    noise_var = sp.simplify(sp.sqrt(2 * eta * T) ** 2 / eta)
    Z = sym("Z", positive=True)
    Ux = sym("U_x", "U(x)", real=True)
    pdf = sym("p_x", "p(x)", nonnegative=True)
    return Result(
        id="langevin.boltzmann",
        title="x ← x − η∇U + √(2ηT) ξ: the stationary density is exp(−U/T)/Z (η → 0)",
        source=_MEMO,
        statement=sp.Eq(pdf, sp.exp(-Ux / T) / Z),
        symbols=(pdf, Ux, T, Z),
        notes=("The memo writes the Boltzmann law as ≈ e^{−U/(γK)} for SGD, whose noise scales "
               "with γ rather than √γ; for the Langevin iteration with noise √(2ηT)ξ the "
               "temperature is exactly T. For finite η the iteration's stationary law differs "
               "at O(η): on U = a x²/2 its variance is T/(a(1 − ηa/2)) instead of T/a "
               "(the check accounts for it). Z = ∫e^{−U/T}dx is the partition function."),
        derivation=(
            Step("Fokker–Planck: ∂_t p = ∂_x(U'p + T ∂_x p); probability flux of p = e^{−U/T}",
                 sp.Eq(sp.Symbol("J"), flux)),
            Step("∂_t p = ∂_x J", sp.Eq(sp.Derivative(sp.Function("p")(x, t), t), fp_rhs)),
            Step("2-D: each flux component of e^{−U(x,y)/T}", sp.Matrix(flux2)),
            Step("Euler–Maruyama: per-step noise variance / η (= 2T, the diffusion)", noise_var),
        ),
        references=("Memo 004, eq. (9) and Section 3.1; Risken 1989, Ch. 5",),
    )


@result("langevin.basin_mass_ratio",
        title="equal-depth minima: Laplace mass ∝ (2πT)^{d/2}/√det H; k-times wider basin wins k^d",
        source=_MEMO, how="derive + numeric")
def basin_mass_ratio() -> Result:
    r"""Laplace's method around a non-degenerate minimum :math:`x^*` with Hessian H:

    .. math:: \int_{\text{basin}} e^{-U/T}\,dx \approx e^{-U(x^*)/T}\frac{(2\pi T)^{d/2}}{\sqrt{\det H}},

    (the Gaussian integral along each eigendirection, by ``sp.integrate``). Two minima of
    equal depth whose basins differ by a factor k in width along every direction have
    :math:`H_{\text{flat}} = H_{\text{sharp}}/k^2`, hence mass ratio :math:`k^d` (memo
    figure 3). A degenerate minimum, flat along m directions over a region of volume
    :math:`V_m`, has mass :math:`V_m(2\pi T)^{(d-m)/2}/\sqrt{\det H_\perp}`; against a
    non-degenerate one of equal depth the ratio grows as :math:`T^{-m/2}\to\infty` as
    :math:`T\to0` (memo figure 4).
    """
    x = sp.Symbol("x", real=True)
    h = sp.Symbol("h", positive=True)
    gauss = sp.integrate(sp.exp(-h * x**2 / (2 * T)), (x, -sp.oo, sp.oo))
    if sp.simplify(gauss - sp.sqrt(2 * sp.pi * T / h)) != 0:
        raise ArithmeticError(f"Gaussian integral is {gauss}")
    detH = sym("det_H", r"\det H", positive=True)
    U_min = sym("U_min", r"U_{\min}", real=True)
    mass = (2 * sp.pi * T) ** (d / 2) * sp.exp(-U_min / T) / sp.sqrt(detH)
    # Product over eigendirections: prod sqrt(2πT/h_j) = (2πT)^{d/2}/sqrt(prod h_j).
    hs = sp.symbols("h1:4", positive=True)
    prod3 = sp.Mul(*[gauss.subs(h, hj) for hj in hs])
    if sp.simplify(prod3 - mass.subs({d: 3, U_min: 0, detH: sp.Mul(*hs)})) != 0:
        raise ArithmeticError("product of 1-D integrals is not (2πT)^{d/2}/√det H")
    detHs = sym("det_H_sharp", r"\det H_{\mathrm{sharp}}", positive=True)
    mass_sharp = mass.subs(detH, detHs)
    mass_flat = mass.subs(detH, detHs / k ** (2 * d))
    ratio = sp.simplify(sp.powsimp(mass_flat / mass_sharp, force=True))
    if sp.simplify(ratio - k**d) != 0:
        raise ArithmeticError(f"mass ratio is {ratio}, not k^d")
    m = sym("m", integer=True, positive=True)
    V_m = sym("V_m", positive=True)
    det_perp = sym("det_H_perp", r"\det H_\perp", positive=True)
    mass_degen = V_m * (2 * sp.pi * T) ** ((d - m) / 2) * sp.exp(-U_min / T) / sp.sqrt(det_perp)
    degen_ratio = sp.simplify(mass_degen / mass)
    degen_limit = sp.limit(degen_ratio.subs({d: 3, m: 1}), T, 0, "+")
    if degen_limit != sp.oo:
        raise ArithmeticError(f"degenerate/non-degenerate ratio tends to {degen_limit}")
    M_ratio = sym("M_ratio", r"M_{\mathrm{flat}}/M_{\mathrm{sharp}}", positive=True)
    return Result(
        id="langevin.basin_mass_ratio",
        title="two minima of equal depth: Laplace mass (2πT)^{d/2}e^{−U_min/T}/√det H; a basin k times wider per dimension has k^d times the mass",
        source=_MEMO,
        statement=sp.Eq(M_ratio, ratio),
        symbols=(M_ratio, k, d, T, U_min, detH, detHs, m, V_m, det_perp),
        conditions=(k > 1,),
        notes=("Laplace's method is exact for quadratic wells and holds as T → 0 otherwise: the "
               "corrections are the Boltzmann mass beyond the basin's quadratic region "
               "(relative O(T) from quartic terms, and the Gaussian tail past the basin "
               "boundary, exponentially small in barrier/T). The check's potential makes "
               "e^{−U/T} an exact two-Gaussian mixture, so the only correction is the "
               "tail across the basin boundary, computed exactly (non-central χ²)."),
        derivation=(
            Step("one eigendirection: ∫ e^{−h x²/(2T)} dx", gauss),
            Step("product over d eigendirections (checked for d = 3)", sp.Eq(sp.Symbol("M"), mass)),
            Step("H_flat = H_sharp/k²: M_flat/M_sharp", sp.Eq(M_ratio, ratio)),
            Step("degenerate (m flat directions, volume V_m) / non-degenerate", degen_ratio),
            Step("T → 0 (d = 3, m = 1)", degen_limit),
        ),
        parts={"laplace_mass": mass, "degenerate_ratio": degen_ratio},
        references=("Memo 004, figures 3 and 4, eq. (9)",),
    )
