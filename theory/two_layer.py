r"""Two-layer ReLU networks on the population loss: kernel form, gradients, time scales.

The network is :math:`f_m(x; a, B) = s\sum_j a_j\sigma(b_j\cdot x)` with :math:`s = 1`
(conventional, seed 000 eq. 3) or :math:`s = 1/m` (mean field, eq. 17), trained against a
teacher :math:`f^*(x) = \sum_k a^*_k\sigma(b^*_k\cdot x)` under :math:`x\sim N(0, I_d)`.
Everything goes through the ReLU arc-cosine kernel
:math:`k(b, b') = \|b\|\|b'\|(\sin\theta + (\pi-\theta)\cos\theta)/(2\pi)`
(``kernels.arccos1_gaussian``; on the sphere divide by d, ``kernels.arccos1_sphere``).

This module also carries ``stability.edge_of_stability``: its evidence is a two-layer
network trained by GD (``verify.checks.two_layer``).

References
----------
seed 000 (L. Wu, eqs. 3–18); W. E, C. Ma, L. Wu, arXiv:1904.04326 (2019); C. Ma, L. Wu,
W. E, *The quenching-activation behavior of the gradient descent dynamics for two-layer
neural network models*, arXiv:2006.14450; Y. Cho and L. K. Saul, NIPS 2009;
L. Wu, C. Ma, W. E, *How SGD selects the global minima in over-parameterized learning*,
NeurIPS 2018 (the sharpness table of seed 000).
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import function, sym

__all__: list[str] = []  # results are reached through theory.get(id)

_SEED = "seed 000 (Wu 2020, two-layer neural networks, eqs. 3–18)"
_REFS = ("Seed 000, eqs. (3)–(18)",
         "W. E, C. Ma, L. Wu, arXiv:1904.04326 (2019)",
         "C. Ma, L. Wu, W. E, arXiv:2006.14450 (quenching–activation)")

theta = sym("theta", r"\theta", nonnegative=True)
norm_b = sym("norm_b", r"\|b\|", positive=True)
norm_bp = sym("norm_bp", r"\|b'\|", positive=True)
m = sym("m", integer=True, positive=True)
m_star = sym("m_star", "m^*", integer=True, positive=True)
eta = sym("eta", r"\eta", positive=True)


class _Mat(sp.MatrixSymbol):
    """A matrix symbol whose name is a Python identifier (an argument of ``Result.numeric``)
    and whose LaTeX is the paper's notation (the table below, keyed by name, so that
    rebuilding the expression with ``func(*args)`` keeps it)."""

    _LATEX: dict[str, str] = {}

    def _latex(self, printer: object) -> str:
        return self._LATEX.get(self.name, self.name)


def _mat(name: str, latex: str, rows: sp.Expr, cols: sp.Expr) -> _Mat:
    _Mat._LATEX[name] = latex
    return _Mat(name, rows, cols)


def _J1(th: sp.Expr) -> sp.Expr:
    return sp.sin(th) + (sp.pi - th) * sp.cos(th)


def _kernel() -> sp.Expr:
    """k(b, b') from kernels.arccos1_gaussian (the derived statement, not retyped)."""
    import theory  # noqa: PLC0415

    k = theory.get("kernels.arccos1_gaussian")
    by_name = {s.name: s for s in k.symbols}
    return k.statement.rhs.subs({by_name["theta"]: theta, by_name["norm_b"]: norm_b,
                                 by_name["norm_bp"]: norm_bp})


# ------------------------------------------------------------------ population loss
def _loss_matrices() -> tuple[_Mat, ...]:
    """a (m×1), a* (m*×1), K(B, B) (m×m), K(B, B*) (m×m*), K(B*, B*) (m*×m*)."""
    return (_mat("a", "a", m, 1), _mat("a_star", "a^{*}", m_star, 1),
            _mat("K", "K(B, B)", m, m), _mat("K_star", "K(B, B^{*})", m, m_star),
            _mat("K_star_star", "K(B^{*}, B^{*})", m_star, m_star))


@result("two_layer.population_loss", title="population loss of a two-layer ReLU net in kernel form",
        source=_SEED, how="derive")
def population_loss() -> Result:
    r""":math:`\mathcal R(a,B) = \mathbb E_x(f_m(x) - f^*(x))^2
    = a^TK(B,B)a - 2a^TK(B,B^*)a^* + a^{*T}K(B^*,B^*)a^*`.

    Derivation: :math:`f_m - f^* = w^T\phi(x)` with :math:`w = (a, -a^*)`,
    :math:`\phi = (\sigma(Bx), \sigma(B^*x))`, so :math:`\mathcal R = w^T\mathbb E[\phi\phi^T]w`,
    the block Gram matrix of k; block multiplication and the transpose of a scalar give the
    three terms. Checked by expanding the square for two student and two teacher neurons.
    """
    a, a_s, K, Kx, Kss = _loss_matrices()
    Rsym = sym("R", r"\mathcal{R}(a, B)", real=True)
    w = sp.BlockMatrix([[a], [-a_s]])
    gram = sp.BlockMatrix([[K, Kx], [Kx.T, Kss]])
    expanded = sp.block_collapse(w.T * gram * w)
    tidy = a.T * K * a - 2 * a.T * Kx * a_s + a_s.T * Kss * a_s
    # Concrete check: E over x is linear, E[σ_iσ_j] = K_ij; expand the square of two
    # student and two teacher neurons and compare with the matrix formula entry by entry.
    sv = sp.symbols("s0:2")  # σ(b_j·x)
    tv = sp.symbols("t0:2")  # σ(b*_k·x)
    av = sp.symbols("a0:2")
    cv = sp.symbols("c0:2")  # a*_k
    Kc = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"K{min(i, j)}{max(i, j)}"))
    Xc = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"X{i}{j}"))
    Sc = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"S{min(i, j)}{max(i, j)}"))
    square = sp.Poly(sp.expand((sum(x * y for x, y in zip(av, sv))
                                - sum(x * y for x, y in zip(cv, tv))) ** 2), *sv, *tv)
    gens = [*sv, *tv]

    def moment(i: int, j: int) -> sp.Expr:
        if i < 2 and j < 2:
            return Kc[i, j]
        if i >= 2 and j >= 2:
            return Sc[i - 2, j - 2]
        return Xc[min(i, j), max(i, j) - 2]

    expectation = 0
    for monom, coeff in square.terms():
        idx = [g for g, p in enumerate(monom) for _ in range(p)]
        expectation += coeff * moment(*idx)
    A, C = sp.Matrix(av), sp.Matrix(cv)
    formula = (A.T * Kc * A - 2 * A.T * Xc * C + C.T * Sc * C)[0, 0]
    residual = sp.expand(expectation - formula)
    if residual != 0:
        raise ArithmeticError(f"kernel form of the risk fails the 2 + 2 neuron check: {residual}")
    return Result(
        id="two_layer.population_loss",
        title="R(a, B) = aᵀK(B,B)a − 2aᵀK(B,B*)a* + a*ᵀK(B*,B*)a*, K the ReLU arc-cosine kernel",
        source=_SEED,
        statement=sp.Eq(Rsym, tidy, evaluate=False),
        symbols=(Rsym, m, m_star, norm_b, norm_bp, theta),
        conditions=(sp.Q.symmetric(K), sp.Q.symmetric(Kss), theta <= sp.pi),
        notes=("K(U, W)_{jl} = k(u_j, w_l) = E_x σ(u_j·x)σ(w_l·x) (kernels.arccos1_gaussian, or "
               "/d for x ~ Unif(S^{d−1})). Mean-field scaling f = (1/m)Σ a_jσ(b_j·x) replaces a "
               "by a/m. Seed 000's eq. (14) writes the cross term with a*(b') under the "
               "integral over b; for a teacher of finitely many neurons it is the sum above."),
        derivation=(
            Step("f_m − f* = wᵀφ(x), w = (a, −a*), φ = (σ(Bx), σ(B*x)); R = wᵀE[φφᵀ]w",
                 sp.Eq(Rsym, w.T * gram * w, evaluate=False)),
            Step("block multiplication", sp.Eq(Rsym, expanded, evaluate=False)),
            Step("a*ᵀK(B,B*)ᵀa = aᵀK(B,B*)a* (a scalar equals its transpose)",
                 sp.Eq(Rsym, tidy, evaluate=False)),
            Step("check: E of the expanded square for 2 + 2 neurons minus the formula", residual),
        ),
        parts={"kernel": _kernel()},
        references=_REFS,
    )


def _grad1() -> tuple[sp.Expr, sp.Expr, list[Step]]:
    r"""∇_b k(b, b') = α b' + β b̂ via the chain rule in p = b·b', q = ‖b‖², r = ‖b'‖²."""
    p = sp.Symbol("p", real=True)
    q, r = sp.symbols("q r", positive=True)
    c = sp.Symbol("c", real=True)  # cos θ
    # k as a function of the inner products: ‖b‖‖b'‖ sin θ = √(qr − p²), θ = acos(p/√(qr)).
    k_pqr = (sp.sqrt(q * r - p**2) + (sp.pi - sp.acos(p / sp.sqrt(q * r))) * p) / (2 * sp.pi)
    # It is the kernel of kernels.arccos1_gaussian: substitute p = √q√r cos θ, θ ∈ (0, π).
    same = sp.simplify(k_pqr.subs(p, sp.sqrt(q) * sp.sqrt(r) * sp.cos(theta))
                       .subs({sp.acos(sp.cos(theta)): theta})
                       - _kernel().subs({norm_b: sp.sqrt(q), norm_bp: sp.sqrt(r)}))
    same = sp.simplify(same.subs(sp.sqrt(1 - sp.cos(theta) ** 2), sp.sin(theta)))
    dk_dp = sp.diff(k_pqr, p)
    dk_dq = sp.diff(k_pqr, q)
    on_c = {p: c * sp.sqrt(q) * sp.sqrt(r)}
    alpha = sp.simplify(dk_dp.subs(on_c))  # coefficient of b'
    beta = sp.simplify((2 * dk_dq * sp.sqrt(q)).subs(on_c))  # ∇_b q = 2b = 2√q b̂
    alpha_t = (sp.pi - sp.acos(c)) / (2 * sp.pi)
    beta_t = sp.sqrt(r) * sp.sqrt(1 - c**2) / (2 * sp.pi)
    for got, want, what in ((alpha, alpha_t, "∂k/∂p"), (beta, beta_t, "2√q ∂k/∂q")):
        diff = sp.simplify(sp.factor(got - want))
        if diff != 0:  # check on a grid of rational points too (branch cuts of √)
            vals = [sp.N((got - want).subs({c: sp.Rational(k, 7), q: 2, r: 3})) for k in (-6, -1, 0, 3, 6)]
            if max(abs(v) for v in vals) > 1e-25:
                raise ArithmeticError(f"{what}: chain rule gives {got}, expected {want}")
    alpha_th = sp.simplify(alpha_t.subs(c, sp.cos(theta)).subs(sp.acos(sp.cos(theta)), theta))
    beta_th = norm_bp * sp.sin(theta) / (2 * sp.pi)
    steps = [
        Step("k in p = b·b', q = ‖b‖², r = ‖b'‖²", sp.Eq(sp.Symbol("k"), k_pqr)),
        Step("agrees with kernels.arccos1_gaussian at p = ‖b‖‖b'‖cos θ (residual)", same),
        Step("∇_b k = (∂k/∂p) b' + 2(∂k/∂q) b; ∂k/∂p at p = c√(qr)", sp.Eq(sp.Symbol("alpha"), alpha)),
        Step("2√q ∂k/∂q at p = c√(qr) (coefficient of b̂)", sp.Eq(sp.Symbol("beta"), beta)),
    ]
    return alpha_th, beta_th, steps


@result("two_layer.population_gradient", title="closed-form gradients of the population loss",
        source=_SEED, how="derive")
def population_gradient() -> Result:
    r"""With :math:`\nabla_1k(b, b') = \frac1{2\pi}\bigl[(\pi-\theta)b' + \|b'\|\sin\theta\,\hat b\bigr]`:

    .. math::
        \frac{\partial\mathcal R}{\partial a} = 2K(B,B)a - 2K(B,B^*)a^*,\qquad
        \nabla_{b_j}\mathcal R = 2a_j\bigl[G_ja - G^*_ja^*\bigr],

    :math:`G_j` the :math:`d\times m` matrix with columns :math:`\nabla_1k(b_j, b_l)` and
    :math:`G^*_j` the :math:`d\times m^*` one with columns :math:`\nabla_1k(b_j, b^*_k)`, i.e.
    :math:`2a_j[\sum_l a_l\nabla_1k(b_j,b_l) - \sum_k a^*_k\nabla_1k(b_j,b^*_k)]`.
    The diagonal term :math:`a_j^2k(b_j,b_j) = a_j^2\|b_j\|^2/2` has gradient
    :math:`a_j^2b_j = 2a_j\cdot a_j\nabla_1k(b_j,b_j)`, so l = j needs no special case.

    The statement is :math:`\partial\mathcal R/\partial a`; the parts are
    ``grad_b`` (:math:`\nabla_{b_j}\mathcal R` in terms of :math:`G_j, G^*_j`), ``grad1_k``
    (:math:`\nabla_1k = \alpha b' + \beta\hat b`) and its coefficients ``coef_bp`` (α) and
    ``coef_bhat`` (β): every function in them is explicit.
    """
    alpha, beta, steps = _grad1()
    j, l, k = sp.symbols("j l k", integer=True, positive=True)
    a_i, as_i = sp.IndexedBase("a"), sp.IndexedBase(sym("a_star", "a^{*}"))
    g1 = function("grad1_k", r"\nabla_{1}k")
    b, bs = sp.IndexedBase("b"), sp.IndexedBase(sym("b_star", "b^{*}"))
    a, a_s, K, Kx, _ = _loss_matrices()
    dim = sym("d", integer=True, positive=True)
    G = _mat("G", r"G_j", dim, m)
    G_s = _mat("G_star", r"G^{*}_j", dim, m_star)
    vec_bp = _mat("b_p", "b'", dim, 1)
    hat_b = _mat("b_hat", r"\hat{b}", dim, 1)
    a_j = sym("a_j", "a_j", real=True)
    dRda = sym("dR_da", r"\frac{\partial \mathcal{R}}{\partial a}")
    dRdb = sym("grad_bj_R", r"\nabla_{b_j} \mathcal{R}")
    g1k = sym("grad1_k", r"\nabla_{1} k(b, b')")
    grad_sum = 2 * a_i[j] * (sp.Sum(a_i[l] * g1(b[j], b[l]), (l, 1, m))
                             - sp.Sum(as_i[k] * g1(b[j], bs[k]), (k, 1, m_star)))
    grad_b = 2 * a_j * (G * a - G_s * a_s)
    # Diagonal check: d/db (‖b‖²/2) = b, and 2·∇₁k(b, b) = 2(α b + β b̂) at θ = 0 with b' = b.
    diag = sp.simplify(2 * (alpha.subs(theta, 0) * norm_b + beta.subs({theta: 0, norm_bp: norm_b}))
                       - norm_b)
    if diag != 0:
        raise ArithmeticError(f"diagonal gradient mismatch: {diag}")
    grad_a = 2 * K * a - 2 * Kx * a_s
    steps += [
        Step("∂/∂a of aᵀKa − 2aᵀK_*a* + const (K symmetric)", sp.Eq(dRda, grad_a, evaluate=False)),
        Step("∇_{b_j}: b_j appears in row and column j of K and in row j of K_*; ∇₁k is the "
             "gradient of k in its first argument", sp.Eq(dRdb, grad_sum, evaluate=False)),
        Step("the sums as matrix products: G_j = [∇₁k(b_j, b_l)]_l, G*_j = [∇₁k(b_j, b*_k)]_k",
             sp.Eq(dRdb, grad_b, evaluate=False)),
        Step("diagonal: 2∇₁k(b, b)·‖b‖ − d/d‖b‖(‖b‖²/2) (residual)", diag),
    ]
    return Result(
        id="two_layer.population_gradient",
        title="∂R/∂a = 2Ka − 2K_*a*, ∇_{b_j}R = 2a_j[Σ_l a_l∇₁k(b_j,b_l) − Σ_k a*_k∇₁k(b_j,b*_k)]",
        source=_SEED,
        statement=sp.Eq(dRda, grad_a, evaluate=False),
        symbols=(dRda, dRdb, g1k, a_j, dim, m, m_star, theta, norm_bp),
        conditions=(sp.Q.symmetric(K), theta <= sp.pi),
        notes=("∇₁k is the gradient in the first argument; b̂ = b/‖b‖. Part 'grad_b' is "
               "∇_{b_j}R with G_j, G*_j the matrices of ∇₁k(b_j, ·) over the student and "
               "teacher neurons; part 'grad1_k' is ∇₁k(b, b') = α b' + β b̂ with α, β the parts "
               "'coef_bp', 'coef_bhat'. The GD flows of seed 000 (eqs. 6–7) are the gradient "
               "flows of R/2 (the seed's risk (4) has no 1/2), so ȧ = −K a + K_*a* there. "
               "Mean field: replace a by a/m in R and differentiate in a."),
        derivation=tuple(steps),
        parts={"grad_b": sp.Eq(dRdb, grad_b, evaluate=False),
               "grad1_k": sp.Eq(g1k, alpha * vec_bp + beta * hat_b, evaluate=False),
               "coef_bp": alpha, "coef_bhat": beta},
        references=_REFS,
    )


# ------------------------------------------------------------------ circle target
@result("two_layer.circle_target", title="circle-neuron target and its kernel integral",
        source=_SEED + ", eq. 16", how="derive or quadrature")
def circle_target() -> Result:
    r"""For :math:`f^*(x) = \mathbb E_{b\sim\mathrm{Unif}(\Gamma)}\sigma(b\cdot x)`, Γ the unit
    circle of the :math:`(e_1, e_2)` plane, and :math:`x\sim N(0, I_d)`:

    .. math::
        f^*(x) = \frac{\sqrt{x_1^2+x_2^2}}{\pi},\qquad
        \mathbb E_{b}k(w, b) = \frac{\|w\|}{\pi^2}\bigl(2E(c^2) - (1-c^2)K(c^2)\bigr),\qquad
        \mathbb E f^{*2} = \frac{2}{\pi^2},

    :math:`c = \|(w_1, w_2)\|/\|w\|`, :math:`K, E` the complete elliptic integrals of the
    first and second kind with parameter :math:`c^2` (SymPy's ``elliptic_k``, ``elliptic_e``).
    """
    rho, psi = sp.symbols("rho psi", positive=True)
    phi = sp.Symbol("varphi", real=True)
    c = sym("c", "c", nonnegative=True)
    norm_w = sym("norm_w", r"\|w\|", positive=True)
    # (i) f*(x): b = (cos φ, sin φ), (x1, x2) = ρ(cos ψ, sin ψ): b·x = ρ cos(φ − ψ) > 0 on an arc of π.
    f_star = sp.simplify(sp.integrate(rho * sp.cos(phi - psi), (phi, psi - sp.pi / 2, psi + sp.pi / 2))
                         / (2 * sp.pi))
    # (ii) E f*² with ρ² ~ χ²_2: density ρ e^{−ρ²/2}.
    second = sp.integrate(f_star**2 * rho * sp.exp(-rho**2 / 2), (rho, 0, sp.oo))
    # (iii) E_b k(w, b): cos θ = c cos φ after rotating the plane; J_1 = √(1 − u²) + (π − acos u)u.
    u = c * sp.cos(phi)
    odd = sp.integrate(sp.pi * u, (phi, 0, 2 * sp.pi))  # the π·u part integrates to 0
    # −acos(u)u = (asin u − π/2)u; the π/2·u part integrates to 0 as well. Integrate
    # asin(u)·u by parts: asin(u) c cos φ = d/dφ[asin(u) c sin φ] − c sin φ d/dφ asin(u).
    boundary = (sp.asin(u) * c * sp.sin(phi)).subs(phi, 2 * sp.pi) - (sp.asin(u) * c * sp.sin(phi)).subs(phi, 0)
    by_parts = sp.simplify(-c * sp.sin(phi) * sp.diff(sp.asin(u), phi))
    split = (c**2 - 1) / sp.sqrt(1 - u**2) + sp.sqrt(1 - u**2)
    if sp.simplify(by_parts - split) != 0:
        raise ArithmeticError(f"integration by parts: {by_parts} ≠ {split}")
    mpar = c**2
    Ek, Kk = sp.elliptic_e(mpar), sp.elliptic_k(mpar)
    # ∫_0^{2π} √(1 − c²cos²φ) dφ = 4E(c²), ∫_0^{2π} dφ/√(1 − c²cos²φ) = 4K(c²): checked by series.
    order = 10
    for integrand, closed, name in ((sp.sqrt(1 - u**2), 4 * Ek, "4E"),
                                    (1 / sp.sqrt(1 - u**2), 4 * Kk, "4K")):
        lhs = sp.integrate(sp.series(integrand, c, 0, order).removeO(), (phi, 0, 2 * sp.pi))
        rhs = sp.series(closed, c, 0, order).removeO()
        if sp.expand(lhs - rhs) != 0:
            raise ArithmeticError(f"elliptic identification {name} fails at order c^{order}")
    total = 4 * Ek + (c**2 - 1) * 4 * Kk + 4 * Ek  # ∫ √(1−u²) + ∫ asin(u)u
    Eb_k = sp.simplify(norm_w * total / (4 * sp.pi**2))
    tidy = norm_w * (2 * Ek - (1 - c**2) * Kk) / sp.pi**2
    if sp.simplify(Eb_k - tidy) != 0:
        raise ArithmeticError("kernel integral does not reduce to the tidy form")
    # Whole-chain check: series of the closed form vs termwise integral of the series of J_1.
    J1u = sp.sqrt(1 - u**2) + (sp.pi - sp.acos(u)) * u
    lhs = sp.integrate(sp.series(J1u, c, 0, order).removeO(), (phi, 0, 2 * sp.pi)) * norm_w / (4 * sp.pi**2)
    chain = sp.simplify(sp.expand(lhs - sp.series(tidy, c, 0, order).removeO()))
    if chain != 0:
        raise ArithmeticError(f"E_b k(w, b) fails the series check: {chain}")
    at_zero = sp.simplify(tidy.subs(c, 0) - norm_w / (2 * sp.pi))  # w ⟂ plane: θ = π/2 always
    if at_zero != 0:
        raise ArithmeticError("c = 0 value is not ‖w‖/(2π)")
    # c = 1 (w in the plane): E_b k(w, b) = E_x[(ρ/π)σ(w·x)] = 2‖w‖/π²; (1 − c²)K(c²) → 0.
    near_one = sp.N(tidy.subs({c: 1 - sp.Rational(1, 10**30), norm_w: 1}), 40)
    if abs(near_one - 2 / sp.pi**2) > 1e-25:
        raise ArithmeticError(f"c → 1 value {near_one} is not 2/π²")
    Ekw = sym("E_b_k", r"\mathbb{E}_{b} k(w, b)", real=True)
    fs = sym("f_star", "f^*(x)", nonnegative=True)
    x12 = sym("norm_x12", r"\|(x_1, x_2)\|", nonnegative=True)
    return Result(
        id="two_layer.circle_target",
        title="circle neuron: f*(x) = ‖(x₁, x₂)‖/π and E_b k(w, b) = ‖w‖(2E(c²) − (1 − c²)K(c²))/π²",
        source=_SEED + ", eq. 16",
        statement=sp.Eq(Ekw, tidy),
        symbols=(Ekw, norm_w, c, fs, x12),
        conditions=(c <= 1,),
        notes=("c = ‖(w₁, w₂)‖/‖w‖ ∈ [0, 1]; K and E take the parameter c² (SymPy's "
               "convention). At c = 1 the term (1 − c²)K(c²) vanishes and the value is 2‖w‖/π². "
               "The elliptic integrals have no array-API counterpart: numerics replaces the "
               "circle by equally spaced neurons (trapezoid rule) and verify measures that "
               "quadrature's error against this closed form. On the sphere divide by d."),
        derivation=(
            Step("f*(x): (1/2π)∫ over the arc where ρ cos(φ − ψ) > 0", sp.Eq(fs, f_star.subs(rho, x12))),
            Step("E f*² = E ρ²/π², ρ² ~ χ²_2", sp.Eq(sym("E_f2", r"\mathbb{E} f^{*2}"), second)),
            Step("E_b k = (‖w‖/4π²)∫_0^{2π} J_1(θ(φ)) dφ, cos θ = c cos φ; the π·u term", odd),
            Step("integration by parts: boundary term", boundary),
            Step("−c sin φ · d/dφ asin(c cos φ)", by_parts),
            Step("= (c² − 1)/√(1 − c²cos²φ) + √(1 − c²cos²φ): integrals 4K(c²), 4E(c²) "
                 f"(identified by series to order c^{order})", split),
            Step("collect", sp.Eq(Ekw, tidy)),
            Step("series check of the whole chain (residual)", chain),
        ),
        parts={"f_star": f_star.subs(rho, x12), "second_moment": second,
               "at_c_zero": norm_w / (2 * sp.pi), "at_c_one": 2 * norm_w / sp.pi**2},
        references=(*_REFS, "Elliptic integrals: DLMF 19.2.8"),
    )


# ------------------------------------------------------------------ time scales
@result("two_layer.time_scales", title="time-scale separation of the GD flow",
        source=_SEED + ", eqs. 11–12, 17–18", how="derive")
def time_scales() -> Result:
    r"""Along the population GD flow :math:`\dot\theta = -\nabla(\mathcal R/2)` with scale s,

    .. math::
        |\dot a_j| \le \tfrac s2\|b_j\|\,M_s,\qquad \|\dot b_j\| \le \tfrac s2|a_j|\,M_s,\qquad
        M_s = s\sum_l|a_l|\|b_l\| + \sum_k|a^*_k|\|b^*_k\|,

    from :math:`0 \le k(b,b') \le \|b\|\|b'\|/2` and :math:`\|\nabla_1k(b,b')\| \le \|b'\|/2`.
    Conventional scaling (s = 1) with Xavier init (:math:`a_j\sim N(0,\beta^2)`,
    :math:`\|b_j\|\approx1`): :math:`\dot a_j = O(\|b_j\|) = O(1)` while
    :math:`\dot b_j = O(|a_j|)` is small — the inner layer is quenched. Mean field
    (s = 1/m, :math:`a_j = O(1)`): both rates are :math:`O(1/m)`, with the same ratio
    :math:`|a_j|/\|b_j\| = O(1)`; rescaling time by m gives an O(1) flow with no separation.
    """
    J1 = _J1(theta)
    dJ = sp.simplify(sp.diff(J1, theta))
    if sp.simplify(dJ + (sp.pi - theta) * sp.sin(theta)) != 0:
        raise ArithmeticError(f"J_1' = {dJ}, expected −(π − θ) sin θ")
    J_max, J_min = J1.subs(theta, 0), sp.simplify(J1.subs(theta, sp.pi))
    alpha, beta, _ = _grad1()
    # ‖∇₁k‖² with b' = ‖b'‖(cos θ b̂ + sin θ e), e ⟂ b̂: coordinates along b̂ and e.
    along = alpha * norm_bp * sp.cos(theta) + beta
    across = alpha * norm_bp * sp.sin(theta)
    g2 = sp.simplify(sp.expand(along**2 + across**2) * 4 * sp.pi**2 / norm_bp**2)
    dg2 = sp.simplify(sp.diff(g2, theta))
    # dg2 = −2(π − θ)(1 − cos 2θ) ≤ 0: check the identity.
    if sp.simplify(sp.expand_trig(dg2 + 2 * (sp.pi - theta) * (1 - sp.cos(2 * theta)))) != 0:
        raise ArithmeticError(f"d/dθ of 4π²‖∇₁k‖²/‖b'‖² is {dg2}")
    g2_max = sp.simplify(g2.subs(theta, 0))
    grad_bound = sp.sqrt(g2_max) * norm_bp / (2 * sp.pi)
    s = sym("s", "s", positive=True)
    adot = sym("abs_adot_j", r"|\dot a_j|", nonnegative=True)
    bdot = sym("norm_bdot_j", r"\|\dot b_j\|", nonnegative=True)
    nb = sym("norm_b_j", r"\|b_j\|", nonnegative=True)
    aj = sym("abs_a_j", "|a_j|", nonnegative=True)
    Ms = sym("M_s", "M_s", nonnegative=True)
    stmt = sp.And(sp.Le(adot, s * nb * Ms / 2), sp.Le(bdot, s * aj * Ms / 2))
    return Result(
        id="two_layer.time_scales",
        title="|ȧ_j| ≤ (s/2)‖b_j‖M_s, ‖ḃ_j‖ ≤ (s/2)|a_j|M_s: ȧ_j = O(‖b_j‖), ḃ_j = O(|a_j|)",
        source=_SEED + ", eqs. 11–12, 17–18",
        statement=stmt,
        symbols=(adot, bdot, nb, aj, s, Ms, m, norm_b, norm_bp),
        conditions=(sp.Or(sp.Eq(s, 1), sp.Eq(s, 1 / m)),),
        notes=("s = 1: conventional (eqs. 6–7); s = 1/m: mean field (eq. 18, time as printed, "
               "without the usual rescaling t → mt). M_s = sΣ_l|a_l|‖b_l‖ + Σ_k|a*_k|‖b*_k‖ "
               "(the path norms of student and teacher). The flows are those of R/2 at n = ∞; "
               "for finite data the same bounds hold with E_x replaced by the sample mean "
               "only when ‖x_i‖ is controlled, so they are stated here for the population loss. "
               "The ratio of the bounds, ‖ḃ_j‖/|ȧ_j| ~ |a_j|/‖b_j‖, is the seed's separation: "
               "β (the init scale of a) under conventional scaling, O(1) under mean field."),
        derivation=(
            Step("J_1'(θ) = −(π − θ) sin θ ≤ 0 on [0, π]", sp.Eq(sp.Symbol("J_1'"), dJ)),
            Step("J_1(0) = π, J_1(π) = 0: 0 ≤ k ≤ ‖b‖‖b'‖/2", sp.Tuple(J_max, J_min)),
            Step("4π²‖∇₁k‖²/‖b'‖²", g2),
            Step("its θ-derivative = −2(π − θ)(1 − cos 2θ) ≤ 0", dg2),
            Step("max at θ = 0: ‖∇₁k‖ ≤ ‖b'‖/2", sp.Le(sym("norm_grad1_k", r"\|\nabla_1 k\|"), grad_bound)),
            Step("ȧ_j = −s(sΣ_l K_jl a_l − Σ_k K*_jk a*_k); ḃ_j = −s a_j(sΣ_l a_l∇₁k_jl − Σ_k a*_k∇₁k*_jk)",
                 stmt),
        ),
        parts={"kernel_max": norm_b * norm_bp * J_max / (2 * sp.pi),
               "grad1_max": grad_bound,
               "rate_ratio": aj / nb},
        references=_REFS,
    )


# ------------------------------------------------------------------ stated, numeric
@result("two_layer.rf_limit", title="large width: the NN stays near its random-feature model",
        source=_SEED + ", eqs. 9–10", how="numeric")
def rf_limit() -> Result:
    r""":math:`\sup_{t\le T}\|B_t - B_0\|_F = O(1/\sqrt m)` for conventional scaling with
    :math:`a(0) = O(1/m)` (here 0): each :math:`\|\dot b_j\| \le |a_j|M/2` with
    :math:`|a_j| = O(1/m)` (two_layer.time_scales), so over a horizon T the m rows move
    :math:`O(T/m)` each and :math:`O(T/\sqrt m)` together; the network stays close to the
    random-feature model with features :math:`\sigma(b_j(0)\cdot x)` (stated; E, Ma, Wu 2019).
    """
    dB = sym("sup_dB", r"\sup_{t \le T}\|B_t - B_0\|_F", nonnegative=True)
    C = sym("C_T", "C_T", positive=True)
    return Result(
        id="two_layer.rf_limit",
        title="conventional scaling, large m: sup_t ‖B_t − B_0‖_F = O(1/√m); NN ≈ random-feature model",
        source=_SEED + ", eqs. 9–10",
        statement=sp.Le(dB, C / sp.sqrt(m)),
        symbols=(dB, C, m),
        notes=("Stated (E, Ma, Wu 2019 prove it with C = O(λ_n^{-1}) for finite data, uniformly "
               "in t). The check measures the exponent: the slope of log sup‖B_t − B_0‖_F against "
               "log m on the population loss over a fixed horizon, expected −1/2."),
        references=_REFS,
    )


@result("two_layer.quenching_activation",
        title="conventional scaling picks sparse solutions (quenching–activation); mean field does not",
        source=_SEED + " (Ma, Wu, E 2020)", how="numeric")
def quenching_activation() -> Result:
    r"""Conventional scaling, finite m, small init of a: phase 1 follows the random-feature
    model (b quenched), then a few neurons activate and grow while the others decay; the
    final solution is carried by few neurons. Under mean-field scaling the mass stays spread.
    Measured by the share :math:`S_k = \sum_{\text{top }k}|a_j|\|b_j\|/\sum_j|a_j|\|b_j\|`.
    """
    Sc = sym("S_conv", r"S_k^{\mathrm{conv}}", nonnegative=True)
    Sm = sym("S_mf", r"S_k^{\mathrm{MF}}", nonnegative=True)
    return Result(
        id="two_layer.quenching_activation",
        title="conventional scaling: final solution sparse (top-k share of Σ|a_j|‖b_j‖ near 1); mean field: spread",
        source=_SEED + " (Ma, Wu, E 2020)",
        statement=sp.Gt(Sc, Sm),
        symbols=(Sc, Sm),
        notes=("Stated; numeric evidence only. Seed 000 shows it for m = 200, d = 100 with a single "
               "neuron target (one or two neurons carry the solution); the check uses small "
               "sizes on the exact population loss."),
        references=_REFS,
    )


@result("stability.edge_of_stability", title="GD ends at minima with sharpness ≤ 2/η",
        source="seed 000 (Wu 2020, sharpness table; Wu, Ma, E 2018)", how="numeric")
def edge_of_stability() -> Result:
    r"""GD with step η can only settle at minima with :math:`\lambda_{\max}(\nabla^2L) \le 2/\eta`
    (linear stability, stability.gd_threshold); for large η the selected minima sit close to
    that edge. Seed 000's table: :math:`2/\eta` = 200, 40, 20, 4, 2 for η = 0.01 … 1.
    """
    lam = sym("lambda_max", r"\lambda_{\max}(\nabla^2 L(\theta_\infty))", nonnegative=True)
    etas = [sp.Rational(1, 100), sp.Rational(1, 20), sp.Rational(1, 10), sp.Rational(1, 2), 1]
    table = sp.Tuple(*[2 / e for e in etas])
    return Result(
        id="stability.edge_of_stability",
        title="GD with step η ends at minima with sharpness λ_max ≤ 2/η, close to 2/η for large η",
        source="seed 000 (Wu 2020, 'Learning rate is crucial for the sharpness'; Wu, Ma, E 2018)",
        statement=sp.Le(lam, 2 / eta),
        symbols=(lam, eta),
        notes=("Stated; the bound is the linear-stability threshold of GD at a minimum. The seed's "
               "table (FashionMNIST 53.5, 39.3, 19.6, 3.9, 1.9; CIFAR10 198.9, 39.8, 19.8, 3.6) "
               "sits at or just under 2/η. Evidence here: a small two-layer ReLU net with square "
               "loss trained by full-batch GD at several η."),
        parts={"seed_prediction": table},
        explains=("seed_prediction",),
        references=("Seed 000, table 'Sharpness of the solutions found by GD with different learning rates'",
                    "L. Wu, C. Ma, W. E, NeurIPS 2018"),
    )
