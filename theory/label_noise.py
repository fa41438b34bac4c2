r"""Label noise, the trace of the Hessian and the sharpness-reduction flow.

Conventions. Square loss with the mean and a factor one half,
:math:`L(x) = \frac{1}{2n}\sum_{i=1}^n (f_i(x) - y_i)^2`. Label-noise SGD draws one sample
``i`` and a label perturbation :math:`\varepsilon\sim\mathrm{Unif}\{-\delta,\delta\}` per step
and takes :math:`x \leftarrow x - \eta\nabla_x\tfrac12(f_i(x) - y_i - \varepsilon)^2`, whose
mean is :math:`-\eta\nabla L`. With these conventions the per-step noise near the zero-loss
manifold :math:`\Gamma` has covariance :math:`\eta^2\delta^2\nabla^2 L`.

References
----------
seed 001 (Z. Li, *Open problems about sharpness, implicit bias and generalization*, 2024:
sharpness-reduction flow, the quadratically overparametrized model); seed 002 (lecture 12,
label noise as implicit regularization); Li, Wang, Arora, ICLR 2022 (*What happens after
SGD reaches zero loss?*); Blanc, Gupta, Valiant, Valiant, COLT 2020; Damian, Ma, Lee,
NeurIPS 2021 (*Label noise SGD provably prefers flat global minimizers*).
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import matrix, sym

__all__: list[str] = []  # results are reached through theory.get(id)


class _Matrix:
    """Matrix symbols named as identifiers that print as the paper's LaTeX."""

    named = staticmethod(matrix)


_SEED001 = "seed 001 (Li 2024, sharpness-reduction flow; Li, Wang, Arora 2022)"
_SEED002 = "seed 002 (lecture 12, label noise; Damian, Ma, Lee 2021)"

n = sym("n", integer=True, positive=True)
d = sym("d", integer=True, positive=True)
eta = sym("eta", r"\eta", positive=True)
delta = sym("delta", r"\delta", nonnegative=True)
lam = sym("lambda_j", r"\lambda_j", nonnegative=True)
tr_hess = sym("tr_hess", r"\operatorname{Tr}\nabla^2 L", nonnegative=True)
tr_hess2 = sym("tr_hess2", r"\operatorname{Tr}(\nabla^2 L)^2", nonnegative=True)
u_sq = sym("u_sq", r"\|u\|_2^2", nonnegative=True)
v_sq = sym("v_sq", r"\|v\|_2^2", nonnegative=True)
w_l1 = sym("w_l1", r"\|u \odot u - v \odot v\|_1", nonnegative=True)


@result("label_noise.gauss_newton_trace",
        title="on the zero-loss manifold Tr ∇²L = (1/n) Σ ‖∇f_i‖² (square loss)",
        source=_SEED001, how="derive")
def gauss_newton_trace() -> Result:
    r"""For :math:`L = \frac1{2n}\sum_i (f_i - y_i)^2`,

    .. math:: \nabla^2 L = \frac1n\sum_i \nabla f_i\nabla f_i^T + \frac1n\sum_i (f_i - y_i)\nabla^2 f_i,

    so on :math:`\Gamma = \{f_i = y_i\ \forall i\}` the trace is
    :math:`\frac1n\sum_i\|\nabla f_i\|^2`. Derived on a generic instance (two samples, three
    parameters, undefined functions ``f_i``): SymPy differentiates ``L`` twice and the
    difference from the Gauss–Newton trace is the residual term, which vanishes on Γ.
    """
    th = sp.symbols("theta1:4", real=True)
    ys = sp.symbols("y1:3", real=True)
    fs = [sp.Function(f"f_{i + 1}")(*th) for i in range(2)]
    nn = len(fs)
    L = sum((f - y) ** 2 for f, y in zip(fs, ys)) / (2 * nn)
    H = sp.hessian(L, th)
    trace = sp.expand(H.trace())
    gn = sp.expand(sum(sum(f.diff(t) ** 2 for t in th) for f in fs) / nn)
    residual_term = sp.expand(sum((f - y) * sum(f.diff(t, 2) for t in th)
                                  for f, y in zip(fs, ys)) / nn)
    gap = sp.simplify(trace - gn - residual_term)
    if gap != 0:
        raise ArithmeticError(f"Tr ∇²L is not Gauss–Newton + residual term: {gap}")
    on_gamma = sp.simplify((trace - gn).subs({f: y for f, y in zip(fs, ys)}))
    if on_gamma != 0:
        raise ArithmeticError(f"residual term does not vanish on Γ: {on_gamma}")
    i = sp.symbols("i", integer=True, positive=True)
    grad_norm = sp.IndexedBase(sym("grad_norm", r"\|\nabla f\|", nonnegative=True))
    statement = sp.Eq(tr_hess, sp.Sum(grad_norm[i] ** 2, (i, 1, n)) / n)
    return Result(
        id="label_noise.gauss_newton_trace",
        title="square loss on the zero-loss manifold: Tr ∇²L = (1/n) Σ_i ‖∇f_i‖²",
        source=_SEED001,
        statement=statement,
        symbols=(tr_hess, n),
        notes=("Normalisation: L = (1/2n)Σ(f_i − y_i)², the seed's. With L = (1/n)Σ(f_i − y_i)² "
               "(no ½) every trace doubles. Off Γ the trace has the extra term "
               "(1/n)Σ(f_i − y_i)Δf_i (Δ the Laplacian of f_i)."),
        derivation=(
            Step("L on a generic instance (n = 2, three parameters)", sp.Eq(sp.Symbol("L"), L)),
            Step("trace of sp.hessian(L)", sp.Eq(tr_hess, trace)),
            Step("minus the Gauss–Newton trace = residual term (1/n)Σ(f_i − y_i)Δf_i",
                 sp.Eq(trace - gn, residual_term)),
            Step("substitute f_i = y_i (the manifold Γ)", sp.Eq(trace - gn, on_gamma)),
        ),
        parts={"gauss_newton": sp.Sum(grad_norm[i] ** 2, (i, 1, n)) / n},
        references=("Seed 001, 'Provable generalization benefit of label noise SGD'",),
    )


@result("label_noise.quadratic_model_trace",
        title="quadratic model: Tr ∇²L = 4(‖u‖² + ‖v‖²) ≥ 4‖u⊙u − v⊙v‖₁",
        source=_SEED001, how="derive")
def quadratic_model_trace() -> Result:
    r"""For :math:`f_z(u, v) = \langle u\odot u - v\odot v, z\rangle`, :math:`z\in\{\pm1\}^d`,
    :math:`\nabla f_z = 2(z\odot u, -z\odot v)` and :math:`\nabla^2 f_z = 2\operatorname{diag}(z, -z)`
    has trace zero, so for every (u, v), on Γ or not,

    .. math:: \operatorname{Tr}\nabla^2 L = \frac1n\sum_i\|\nabla f_{z_i}\|^2 = 4(\|u\|^2 + \|v\|^2)
              \ \ge\ 4\|u\odot u - v\odot v\|_1,

    with equality iff :math:`u_j v_j = 0` for every j (disjoint supports), because per
    coordinate :math:`u_j^2 + v_j^2 - |u_j^2 - v_j^2| = 2\min(u_j^2, v_j^2)`.
    """
    dd = 3
    us = sp.symbols("u1:4", real=True)
    vs = sp.symbols("v1:4", real=True)
    zs = sp.symbols("z1:4", real=True)
    f = sum(z * (u**2 - v**2) for z, u, v in zip(zs, us, vs))
    params = (*us, *vs)
    grad_sq = sp.expand(sum(f.diff(p) ** 2 for p in params))
    on_signs = sp.expand(grad_sq.subs({z**2: 1 for z in zs}))
    target = 4 * sum(u**2 + v**2 for u, v in zip(us, vs))
    if sp.simplify(on_signs - target) != 0:
        raise ArithmeticError(f"‖∇f_z‖² with z_j² = 1 is {on_signs}, not 4(‖u‖² + ‖v‖²)")
    lap = sp.simplify(sum(f.diff(p, 2) for p in params))
    if lap != 0:
        raise ArithmeticError(f"Tr ∇²f_z should vanish; got {lap}")
    # Per-coordinate bound, case by case on the sign of u² − v².
    u, v = sp.symbols("u v", real=True)
    gap_case1 = sp.simplify((u**2 + v**2) - (u**2 - v**2))    # u² ≥ v²
    gap_case2 = sp.simplify((u**2 + v**2) - (v**2 - u**2))    # v² ≥ u²
    gap = 2 * sp.Min(u**2, v**2)
    eq1 = sp.solve(sp.Eq(gap_case1, 0), v)
    eq2 = sp.solve(sp.Eq(gap_case2, 0), u)
    if gap_case1 != 2 * v**2 or gap_case2 != 2 * u**2 or eq1 != [0] or eq2 != [0]:
        raise ArithmeticError("per-coordinate gap is not 2 min(u², v²) with zero iff uv = 0")
    u_j, v_j = sym("u_j", real=True), sym("v_j", real=True)
    statement = sp.Eq(tr_hess, 4 * (u_sq + v_sq))
    return Result(
        id="label_noise.quadratic_model_trace",
        title="f_z(u,v) = ⟨u⊙u − v⊙v, z⟩, z ∈ {±1}^d: Tr ∇²L = 4(‖u‖² + ‖v‖²) ≥ 4‖u⊙u − v⊙v‖₁, "
              "equality iff disjoint supports",
        source=_SEED001,
        statement=statement,
        symbols=(tr_hess, u_sq, v_sq, w_l1, u_j, v_j),
        notes=("L = (1/2n)Σ(f_{z_i} − y_i)². The seed writes Tr ∇²L = (4/n)Σ‖∇f_{z_i}‖²; the "
               "factor 4 is spurious: (1/n)Σ‖∇f_{z_i}‖² = 4(‖u‖² + ‖v‖²) already (its final "
               "value is right). Because Tr ∇²f_z = 0 the identity holds at every (u, v), not "
               "only on Γ. The seed writes n ≫ d for Γ; sparse recovery needs n ≪ d "
               "(Γ has dimension 2d − n)."),
        derivation=(
            Step(f"f_z on a generic instance (d = {dd})", sp.Eq(sp.Symbol("f_z"), f)),
            Step("‖∇f_z‖² with z_j² = 1", sp.Eq(sym("norm_grad_f_z_sq", r"\|\nabla f_z\|^2"), on_signs)),
            Step("Tr ∇²f_z (so the residual term of the Hessian has zero trace)", lap),
            Step("per coordinate, u² ≥ v²: (u² + v²) − |u² − v²|", gap_case1),
            Step("per coordinate, v² ≥ u²: (u² + v²) − |u² − v²|", gap_case2),
            Step("zero iff v = 0 (resp. u = 0)", sp.Eq(sp.Symbol("v"), eq1[0])),
        ),
        parts={"trace": 4 * (u_sq + v_sq), "l1_bound": sp.Ge(4 * (u_sq + v_sq), 4 * w_l1),
               "per_coordinate_gap": gap.subs({u: u_j, v: v_j})},
        references=("Seed 001, 'Provable generalization benefit of SGD: details'; "
                    "Li, Wang, Arora 2022, Section 6",),
    )


@result("label_noise.regularizer",
        title="label-noise regularizer R = −(1/2η) tr log(I − (η/2)∇²L) = ¼Tr ∇²L + (η/16)Tr(∇²L)² + O(η²)",
        source=_SEED002, how="derive (series)")
def regularizer() -> Result:
    r"""The implicit regularizer of label-noise GD (Damian, Ma, Lee 2021),

    .. math:: R(\theta) = -\frac{1}{2\eta}\operatorname{tr}\log\Bigl(I - \frac\eta2\nabla^2L(\theta)\Bigr)
              = \sum_j -\frac{1}{2\eta}\log\Bigl(1 - \frac{\eta\lambda_j}{2}\Bigr)
              = \frac14\operatorname{Tr}\nabla^2L + \frac{\eta}{16}\operatorname{Tr}(\nabla^2L)^2 + O(\eta^2),

    for :math:`\eta\lambda_{\max} < 2`. The series is taken per eigenvalue with
    ``sp.series``; the remainder after two terms is
    :math:`\sum_{m\ge3}\frac{s^m}{2\eta m}` with :math:`s = \eta\lambda/2`, between its first term
    :math:`\eta^2\lambda^3/48` and :math:`\frac{\eta^2\lambda^3}{48(1 - \eta\lambda/2)}`.
    """
    j, m = sp.symbols("j m", integer=True, positive=True)
    p = sym("p", integer=True, positive=True)
    R = sym("R", nonnegative=True)
    s = sp.Symbol("s", positive=True)
    term = -sp.log(1 - eta * lam / 2) / (2 * eta)
    ser = sp.series(term, eta, 0, 3).removeO()
    c0, c1, c2 = (sp.simplify(ser.coeff(eta, k)) for k in range(3))
    if (c0, c1, c2) != (lam / 4, lam**2 / 16, lam**3 / 48):
        raise ArithmeticError(f"unexpected series coefficients {(c0, c1, c2)}")
    series = tr_hess / 4 + eta * tr_hess2 / 16
    # Remainder: -log(1 - s)/(2η) = (1/2η) Σ_{m≥1} s^m/m; terms m ≥ 3 have 1/m ≤ 1/3.
    tail_coeff = sp.series(-sp.log(1 - s), s, 0, 6).removeO()
    coeffs = [tail_coeff.coeff(s, k) for k in range(1, 6)]
    if coeffs != [sp.Rational(1, k) for k in range(1, 6)]:
        raise ArithmeticError(f"-log(1 - s) coefficients are {coeffs}, not 1/m")
    geometric = sp.summation(s**m, (m, 3, sp.oo))
    geometric = sp.simplify(sp.piecewise_fold(geometric).args[0][0]) if isinstance(
        geometric, sp.Piecewise) else sp.simplify(geometric)
    bound = sp.simplify((geometric / 3 / (2 * eta)).subs(s, eta * lam / 2))
    expected_bound = eta**2 * lam**3 / (48 * (1 - eta * lam / 2))
    if sp.simplify(bound - expected_bound) != 0:
        raise ArithmeticError(f"remainder bound {bound} is not η²λ³/(48(1 − ηλ/2))")
    lam_j = sp.IndexedBase(sym("lam", r"\lambda", nonnegative=True))[j]
    statement = sp.Eq(R, sp.Sum(-sp.log(1 - eta * lam_j / 2)
                                / (2 * eta), (j, 1, p)))
    return Result(
        id="label_noise.regularizer",
        title="R(θ) = −(1/2η) tr log(I − (η/2)∇²L) = ¼Tr ∇²L + (η/16)Tr(∇²L)² + O(η²)",
        source=_SEED002,
        statement=statement,
        symbols=(R, eta, p, tr_hess, tr_hess2, lam),
        conditions=(eta * lam < 2,),
        notes=("Seed 002 prints R(θ) = (1/2n) tr log(I − (η/2)∇²L): the prefactor must be "
               "−1/(2η) (the log of I − (η/2)∇²L is negative semi-definite, and only −1/(2η) "
               "gives the seed's own small-η limit ¼Tr ∇²L). λ_j are the eigenvalues of ∇²L; "
               "the condition ηλ_max < 2 keeps the logarithm real (GD's stability limit)."),
        derivation=(
            Step("one eigenvalue: tr log(I − (η/2)H) = Σ_j log(1 − ηλ_j/2)", term),
            Step("sp.series in η to order 2", sp.Eq(term, ser + sp.O(eta**3))),
            Step("sum over j: Σλ_j = Tr ∇²L, Σλ_j² = Tr(∇²L)²", sp.Eq(R, series + sp.O(eta**2))),
            Step("−log(1 − s) = Σ s^m/m; tail m ≥ 3 ≤ (1/3)Σ_{m≥3} s^m", geometric / 3),
            Step("remainder bound per eigenvalue, s = ηλ/2", bound),
        ),
        parts={"series": series, "eigen_term": term, "series_term": c0 + eta * c1,
               "remainder_first": eta**2 * c2, "remainder_bound": expected_bound},
        references=("Damian, Ma, Lee 2021, eq. (3); seed 002, 'Label noise as implicit regularization'",),
    )


@result("label_noise.limiting_flow",
        title="small η: label-noise SGD follows dY = −(δ²/4)∇_Γ Tr ∇²L(Y) on Γ",
        source=_SEED001, how="state + numeric")
def limiting_flow() -> Result:
    r"""Li, Wang, Arora (2022): for :math:`\eta\to0`, after :math:`\Theta(1/\eta)` steps of
    gradient-flow phase, :math:`x_{\lfloor\tau/\eta^2\rfloor}\to Y_\tau` with

    .. math:: \frac{dY_\tau}{d\tau} = -\frac{\delta^2}{4}\,P_\Gamma(Y_\tau)\nabla\operatorname{Tr}\nabla^2L(Y_\tau),
              \qquad \frac{d}{d\tau}\operatorname{Tr}\nabla^2L(Y_\tau) = -\frac{\delta^2}{4}\|P_\Gamma\nabla\operatorname{Tr}\nabla^2L\|^2 \le 0,

    with :math:`P_\Gamma = I - J^T(JJ^T)^{-1}J` the projection on the tangent space
    (:math:`J` the n×D Jacobian of :math:`(f_i)`). Stated; the projected gradient of the
    quadratic model (d = 2, n = 1) is computed symbolically in ``parts``.
    """
    tau = sym("tau", r"\tau", nonnegative=True)
    D = sym("D", integer=True, positive=True)
    Y = sp.MatrixSymbol("Y", D, 1)
    P = _Matrix.named("P_Gamma", r"P_{\Gamma}", D, D)
    g = _Matrix.named("grad_tr", r"\nabla\operatorname{Tr}\nabla^2 L", D, 1)
    dY = _Matrix.named("Y_dot", r"\dot{Y}_{\tau}", D, 1)
    statement = sp.Eq(dY, -(delta**2 / 4) * P * g)
    # Quadratic model, d = 2, one sample z = (z1, z2): projected gradient of 4(‖u‖² + ‖v‖²).
    u1, u2, v1, v2 = sp.symbols("u_1 u_2 v_1 v_2", real=True)
    z1, z2 = sp.symbols("z_1 z_2", real=True)
    x = sp.Matrix([u1, u2, v1, v2])
    f = z1 * (u1**2 - v1**2) + z2 * (u2**2 - v2**2)
    J = sp.Matrix([[f.diff(c) for c in x]])
    trace = 4 * (u1**2 + u2**2 + v1**2 + v2**2)
    gT = sp.Matrix([trace.diff(c) for c in x])
    proj = sp.eye(4) - J.T * (J * J.T).inv() * J
    pg = sp.simplify(proj * gT)
    if sp.simplify((J * pg)[0]) != 0:
        raise ArithmeticError("projected gradient is not tangent to Γ")
    rate = sp.factor(sp.simplify(-(delta**2 / 4) * (gT.T * pg)[0]).subs({z1: 1, z2: 1}))
    gnorm = sym("grad_gamma_sq", r"\|\nabla_\Gamma \operatorname{Tr}\nabla^2 L\|^2", nonnegative=True)
    fluct = sym("rank_normal", r"\operatorname{rank}\nabla^2 L", integer=True, nonnegative=True)
    return Result(
        id="label_noise.limiting_flow",
        title="label-noise SGD, η → 0, time τ = η²·steps: dY/dτ = −(δ²/4)∇_Γ Tr ∇²L(Y) on Γ",
        source=_SEED001,
        statement=statement,
        symbols=(delta, D, tau, eta, gnorm, fluct, u1, u2, v1, v2),
        conditions=(sp.Q.symmetric(P),),
        notes=("Stated (Li, Wang, Arora 2022, Cor. 5.2). Conventions: step "
               "x ← x − η∇½(f_i − y_i − ε)², ε ~ Unif{±δ}, L = (1/2n)Σ(f_i − y_i)², τ = η²k. "
               "The seed writes the step with ∇(f − y − ε)² (no ½): that doubles the step, "
               "and the flow then reads dY/dτ = −δ²∇_ΓTr∇²L. Heuristic check of the constant: "
               "near Γ the normal part is an OU process with per-step noise covariance "
               "η²δ²∇²L, stationary covariance S = (ηδ²/2)P_N, and the tangential drift "
               "−η∇½⟨∇²L, S⟩ = −(η²δ²/4)∇_ΓTr∇²L per step. The same S gives the excess "
               "E Tr − Tr(Y) = 4 E‖x − Y‖² = 2ηδ²·rank ∇²L for the quadratic model. "
               "quadratic_excess explains (it is that heuristic's leading order, not a claim "
               "the check certifies): measured, 4E‖x − Π_Γx‖²/η is 4.31 and 4.36 at η = 0.004 "
               "and 0.008 against 2δ²·rank = 4.0, a gap that does not shrink with η at these "
               "steps (SGD's sampling noise of the residual adds a term of relative size "
               "ηλ·n), so its constant is not resolved; the measurement is reported."),
        explains=("quadratic_excess",),
        parts={"trace_rate": -(delta**2 / 4) * gnorm,
               "quadratic_excess": 2 * eta * delta**2 * fluct,
               "quadratic_rate_d2": rate},
        references=("Li, Wang, Arora, ICLR 2022, Corollary 5.2; Blanc et al. COLT 2020; "
                    "seed 001, 'Sharpness-reduction flow'",),
    )


@result("label_noise.sparse_recovery",
        title="quadratic model, k-sparse w*: label-noise SGD reaches w* (the min-ℓ1 fit); GD from a large init does not",
        source=_SEED001, how="numeric")
def sparse_recovery() -> Result:
    r"""On Γ, :math:`\tfrac14\operatorname{Tr}\nabla^2L = \|u\|^2 + \|v\|^2 \ge \|w\|_1`,
    :math:`w = u\odot u - v\odot v`, with equality at disjoint supports
    (``label_noise.quadratic_model_trace``), so the flattest point of Γ has
    :math:`w = \arg\min\{\|w\|_1 : Zw = y\}`, which is the k-sparse :math:`w^*` when n
    measurements suffice for ℓ1 recovery (n ≳ 2k log(d/k)). Label-noise SGD follows the
    flow of ``label_noise.limiting_flow`` there; plain GD from :math:`u_0 = v_0 = \alpha 1`
    with α of order one stops at the first interpolant it meets. Numeric evidence.
    """
    w_inf = sym("w_inf", r"\|w_\infty\|_1", nonnegative=True)
    w_min = sym("w_min", r"\min_{Zw = y}\|w\|_1", nonnegative=True)
    return Result(
        id="label_noise.sparse_recovery",
        title="quadratic model, k-sparse w*: label-noise SGD reaches the min-ℓ1 interpolant w*; GD from a large init does not",
        source=_SEED001,
        statement=sp.Eq(w_inf, w_min),
        symbols=(w_inf, w_min),
        notes=("The seed writes 'n ≫ d'; Γ = {f_{z_i} = y_i} is (2d − n)-dimensional and sparse "
               "recovery is the regime n ≪ d (n of order k log(d/k))."),
        references=("Li, Wang, Arora 2022, Theorem 6.1; seed 001",),
    )
