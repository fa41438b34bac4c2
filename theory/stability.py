r"""Linear stability of minima under GD and minibatch SGD (seeds 000 and 001).

Setting (seed 000): near a global minimum ``x* = 0`` of an over-parametrized loss, each
per-sample loss is a quadratic :math:`\frac12x^TH_ix` with :math:`H_i \succeq 0`, and
:math:`L = \frac1{2n}\sum_ix^TH_ix`. Minibatch SGD draws ``B`` of the ``n`` samples *without
replacement*: :math:`x_{t+1} = (I - \eta H_\mathcal B)x_t`, :math:`H_\mathcal B = \frac1B\sum_{i\in\mathcal B}H_i`.
Sharpness :math:`a = \lambda_{\max}(H)` and non-uniformity :math:`s = \lambda_{\max}(\Sigma)^{1/2}`,
:math:`H = \frac1n\sum_iH_i`, :math:`\Sigma = \frac1n\sum_iH_i^2 - H^2`.

Every minibatch average below goes through one lemma, derived from the inclusion
probabilities of a uniformly random ``B``-subset:
:math:`P(i\in\mathcal B) = B/n` and :math:`P(i,j\in\mathcal B) = B(B-1)/(n(n-1))`, which give
:math:`\mathbb E[u_\mathcal Bw_\mathcal B] - \bar u\bar w = \frac{n-B}{B(n-1)}\operatorname{Cov}(u, w)`.

References
----------
Wu, Ma & E, NeurIPS 2018 (seed 000, "Dynamical stability"); Li, "Open problems about
sharpness, implicit bias and generalization", 2024 (seed 001, "linear stability").
"""

from __future__ import annotations

import itertools

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import matrix, sym

__all__: list[str] = []


class _NamedMatrix(sp.MatrixSymbol):
    """A matrix symbol whose name is a Python identifier (a keyword argument of
    ``Result.numeric``) and whose LaTeX is the seed's notation (looked up by name, so a
    rebuilt copy, e.g. a mutant's, prints the same)."""

    _LATEX = {
        "M_t": r"M_t", "M_t1": r"M_{t+1}", "S_t": r"\frac{1}{n}\sum_i H_i M_t H_i",
        "Kbar": r"\overline{H \otimes H}", "T_eta": r"\mathcal{T}_{\eta}",
    }

    def _latex(self, printer: object) -> str:
        return self._LATEX.get(self.name, self.name)

_SEED000 = "seed 000 (Wu 2020, dynamical stability; Wu, Ma & E 2018)"
_SEED001 = "seed 001 (Li 2024, linear stability)"
_WME = "Wu, Ma & E (2018), How SGD selects the global minima in over-parameterized learning, NeurIPS"

eta = sym("eta", r"\eta", positive=True)
lam = sym("lambda_j", r"\lambda_j", positive=True)
lam_max = sym("lambda_max", r"\lambda_{\max}", positive=True)
a = sym("a", positive=True)
s = sym("s", nonnegative=True)
n = sym("n", integer=True, positive=True)
B = sym("B", integer=True, positive=True)
k = sym("k", integer=True, nonnegative=True)
t = sym("t", integer=True, nonnegative=True)
p = sym("p", integer=True, positive=True)


# ---------------------------------------------------------------- the lemma
def _inclusion_probabilities() -> tuple[sp.Expr, sp.Expr, list[Step]]:
    """P(i ∈ batch) and P(i, j ∈ batch) for a uniform B-subset of n, from counting subsets."""
    p1_count = sp.binomial(n - 1, B - 1) / sp.binomial(n, B)
    p2_count = sp.binomial(n - 2, B - 2) / sp.binomial(n, B)
    p1 = sp.simplify(sp.combsimp(p1_count))
    p2 = sp.factor(sp.simplify(sp.combsimp(p2_count)))
    if sp.simplify(p1 - B / n) != 0 or sp.simplify(p2 - B * (B - 1) / (n * (n - 1))) != 0:
        raise ArithmeticError(f"inclusion probabilities did not simplify: {p1}, {p2}")
    P1, P2 = sp.Symbol("P(i∈𝓑)"), sp.Symbol("P(i,j∈𝓑)")
    steps = [
        Step("P(i ∈ 𝓑) = C(n−1, B−1)/C(n, B) (subsets containing i)", sp.Eq(P1, p1)),
        Step("P(i, j ∈ 𝓑) = C(n−2, B−2)/C(n, B), i ≠ j", sp.Eq(P2, p2)),
    ]
    return p1, p2, steps


def _minibatch_covariance() -> tuple[sp.Expr, list[Step]]:
    r"""Cov(u_𝓑, w_𝓑) for batch means of n numbers u_i, w_i, in terms of their means ū, w̄ and
    their (population) covariance C: returns the factor c with Cov = c·C, and the steps."""
    p1, p2, steps = _inclusion_probabilities()
    ubar, wbar = sp.symbols("ubar wbar", real=True)
    C = sp.Symbol("C", real=True)
    # Sums over samples: Σu_i = n ū, Σw_i = n w̄, Σu_i w_i = n(C + ū w̄).
    Su, Sw, Suw = n * ubar, n * wbar, n * (C + ubar * wbar)
    # E[u_𝓑] = (1/B) Σ_i P(i∈𝓑) u_i;  E[u_𝓑 w_𝓑] = (1/B²)[Σ_i P(i∈𝓑)u_iw_i + Σ_{i≠j} P(i,j∈𝓑)u_iw_j]
    mean_u = sp.simplify(p1 * Su / B)
    cross = (Su * Sw - Suw)  # Σ_{i≠j} u_i w_j
    second = (p1 * Suw + p2 * cross) / B**2
    cov = sp.factor(sp.simplify(second - mean_u * sp.simplify(p1 * Sw / B)))
    c = sp.factor(sp.simplify(cov / C))
    if sp.simplify(mean_u - ubar) != 0:
        raise ArithmeticError("the batch mean is biased")
    if sp.simplify(c - (n - B) / (B * (n - 1))) != 0:
        raise ArithmeticError(f"unexpected minibatch factor {c}")
    # Exhaustive check on n = 4, B = 2 with symbolic data: average over all 6 batches.
    u = sp.symbols("u1:5", real=True)
    w = sp.symbols("w1:5", real=True)
    batches = list(itertools.combinations(range(4), 2))
    Eub_wb = sp.Add(*[(u[i] + u[j]) * (w[i] + w[j]) / 4 for i, j in batches]) / len(batches)
    um, wm = sp.Add(*u) / 4, sp.Add(*w) / 4
    Cuw = sp.Add(*[(u[i] - um) * (w[i] - wm) for i in range(4)]) / 4
    resid = sp.expand(Eub_wb - um * wm - c.subs({n: 4, B: 2}) * Cuw)
    if resid != 0:
        raise ArithmeticError(f"enumeration over all batches disagrees: {resid}")
    steps += [
        Step("E[u_𝓑] = (1/B) Σ P(i∈𝓑) u_i", sp.Eq(sp.Symbol("E[u_𝓑]"), mean_u)),
        Step("E[u_𝓑w_𝓑] = B⁻²[P(i∈𝓑)Σu_iw_i + P(i,j∈𝓑)Σ_{i≠j}u_iw_j], Σu_iw_i = n(C + ūw̄)",
             sp.Eq(sp.Symbol("E[u_𝓑 w_𝓑]"), sp.simplify(second))),
        Step("Cov(u_𝓑, w_𝓑) = E[u_𝓑w_𝓑] − ūw̄", sp.Eq(sp.Symbol("Cov(u_𝓑,w_𝓑)"), cov)),
        Step("check: all C(4,2) batches of symbolic u, w (residual)", resid),
    ]
    return c, steps


def _batch_factor() -> sp.Expr:
    return (n - B) / (B * (n - 1))


def _second_moment_coefficients() -> tuple[sp.Expr, sp.Expr, list[Step]]:
    r"""E[X_𝓑 M Y_𝓑] = α·(1/n)Σ X_i M Y_i + β·X̄ M Ȳ for batch means of matrices: the same
    inclusion probabilities, with the products kept in order (non-commuting)."""
    p1, p2, steps = _inclusion_probabilities()
    # (1/B²)[P1 Σ_i X_iMY_i + P2 (Σ_iX_i M Σ_jY_j − Σ_i X_iMY_i)]
    #   = (1/B²)[(P1 − P2) n·S + P2 n² X̄MȲ]  with S = (1/n)Σ X_iMY_i
    alpha = sp.factor(sp.simplify((p1 - p2) * n / B**2))
    beta = sp.factor(sp.simplify(p2 * n**2 / B**2))
    c = _batch_factor()
    if sp.simplify(alpha - c) != 0 or sp.simplify(alpha + beta - 1) != 0:
        raise ArithmeticError(f"coefficients {alpha}, {beta} are not (c, 1 − c)")
    steps.append(Step("E[H_𝓑MH_𝓑] = α·(1/n)Σ H_iMH_i + β·HMH: α = (P1 − P2)n/B²",
                      sp.Eq(sp.Symbol("alpha"), alpha)))
    steps.append(Step("β = P2·n²/B² = 1 − α", sp.Eq(sp.Symbol("beta"), beta)))
    return alpha, beta, steps


# ------------------------------------------------------------------ results
@result("stability.gd_threshold", title="GD: a minimum is linearly stable iff λ_max ≤ 2/η",
        source=_SEED001, how="derive")
def gd_threshold() -> Result:
    r"""Linearized GD at a minimum, mode by mode: :math:`c_{k+1} = (1-\eta\lambda_j)c_k`, so
    :math:`c_k = (1-\eta\lambda_j)^kc_0` stays bounded iff :math:`|1-\eta\lambda_j| \le 1`,
    i.e. :math:`\eta\lambda_j \le 2`; all modes: :math:`\lambda_{\max}(\nabla^2L) \le 2/\eta`.
    """
    c = sp.Function("c")
    c0 = sym("c_0", r"c_{j,0}", real=True)
    rec = sp.Eq(c(k + 1), (1 - eta * lam) * c(k))
    sol = sp.rsolve(rec.lhs - rec.rhs, c(k), {c(0): c0})
    region = sp.solve_univariate_inequality(sp.Abs(1 - eta * lam) <= 1, eta, relational=True)
    # region: 0 < eta <= 2/lambda (eta positive). Extract the upper end.
    upper = sp.solve(sp.Eq(1 - eta * lam, -1), eta)[0]
    if sp.simplify(upper - 2 / lam) != 0:
        raise ArithmeticError(f"unexpected GD threshold {upper}")
    statement = sp.Le(lam_max, 2 / eta)
    return Result(
        id="stability.gd_threshold",
        title="GD at a minimum is linearly stable iff λ_max(∇²L) ≤ 2/η",
        source=_SEED001,
        statement=statement,
        symbols=(lam_max, eta, lam, c0, k),
        conditions=(eta > 0,),
        notes=("Linear stability: the linearized iteration x ↦ (I − η∇²L)x stays bounded. "
               "At η = 2/λ_max the top mode oscillates with constant amplitude (marginal); "
               "above it, it grows like |1 − ηλ_max|^k. Seed 001 states the folklore result; "
               "seed 000 states the same threshold for its 1-D example."),
        derivation=(
            Step("GD linearized at the minimum, eigenmode j of ∇²L", rec),
            Step("rsolve with c(0) = c_0", sp.Eq(c(k), sol)),
            Step("bounded iff |1 − ηλ_j| ≤ 1, solved for η > 0", region),
            Step("largest stable step of mode j: 1 − ηλ_j = −1", sp.Eq(sym("eta_j", r"\eta_j"), upper)),
            Step("all modes: η ≤ 2/λ_j for every j ⟺ λ_max ≤ 2/η", statement),
        ),
        parts={"threshold": 2 / lam_max, "mode_factor": 1 - eta * lam,
               "mode_iterate": sol},
        references=("Seed 001, 'Linear Stability (Folklore)'", _WME),
    )


@result("stability.sgd_1d_moments", title="1-D SGD: moment recursions with batch B without replacement",
        source=_SEED000, how="derive")
def sgd_1d_moments() -> Result:
    r""":math:`f = \frac1{2n}\sum_ia_ix^2`, :math:`x_{t+1} = (1-\eta a_\mathcal B)x_t`:

    .. math::
        \mathbb Ex_{t+1} = (1-\eta a)\mathbb Ex_t,\qquad
        \mathbb Ex_{t+1}^2 = \Bigl[(1-\eta a)^2 + \eta^2\frac{n-B}{B(n-1)}s^2\Bigr]\mathbb Ex_t^2,

    the factor :math:`\frac{n-B}{B(n-1)}` derived from sampling without replacement.
    """
    c, steps = _minibatch_covariance()
    ab = sp.Symbol("a_𝓑")
    # The batch mean a_𝓑 of the a_i: mean a, variance c·s² (u = w = a_i, C = s²).
    Eab = a
    Eab2 = sp.expand(a**2 + c * s**2)
    m1 = sp.expand(1 - eta * Eab)
    m2 = sp.expand(1 - 2 * eta * Eab + eta**2 * Eab2)
    factor2 = (1 - eta * a) ** 2 + eta**2 * _batch_factor() * s**2
    if sp.simplify(m2 - factor2) != 0:
        raise ArithmeticError("second-moment factor does not match")
    Ex = sym("m_t", r"\mathbb{E}\, x_t", real=True)
    Ex2 = sym("q_t", r"\mathbb{E}\, x_t^2", nonnegative=True)
    Ex_next = sym("m_t1", r"\mathbb{E}\, x_{t+1}", real=True)
    Ex2_next = sym("q_t1", r"\mathbb{E}\, x_{t+1}^2", nonnegative=True)
    x0 = sym("x_0", real=True)
    # Solve the second-moment recursion and the stability threshold.
    q = sp.Function("q")
    rsol = sp.rsolve(q(t + 1) - factor2 * q(t), q(t), {q(0): x0**2})
    eta_star = [r for r in sp.solve(sp.Eq(factor2, 1), eta) if r != 0]
    if len(eta_star) != 1:
        raise ArithmeticError(f"expected one nonzero root; got {eta_star}")
    nice = 2 * a / (a**2 + _batch_factor() * s**2)
    if sp.simplify(eta_star[0] - nice) != 0:
        raise ArithmeticError(f"largest stable step {eta_star[0]} ≠ {nice}")
    eta_star = nice
    # Both recursions as one column equation: numeric() returns the right-hand side
    # (E x_{t+1}, E x_{t+1}²), which a check compares with simulated moments.
    statement = sp.Eq(sp.ImmutableMatrix([Ex_next, Ex2_next]),
                      sp.ImmutableMatrix([m1 * Ex, factor2 * Ex2]), evaluate=False)
    steps += [
        Step("x_{t+1} = (1 − ηa_𝓑)x_t, a_𝓑 independent of x_t: E a_𝓑 = a",
             sp.Eq(sp.Symbol("E[1 − ηa_𝓑]"), m1)),
        Step("E a_𝓑² = a² + c s² (lemma with u = w = a_i, C = s²)", sp.Eq(sp.Symbol("E[a_𝓑²]"), Eab2)),
        Step("E(1 − ηa_𝓑)² = (1 − ηa)² + η²c s²", sp.Eq(sp.Symbol("E[(1 − ηa_𝓑)²]"), factor2)),
        Step("rsolve: E x_t² from x_0", sp.Eq(q(t), rsol)),
        Step("largest stable η: (1 − ηa)² + η²cs² = 1", sp.Eq(sym("eta_star", r"\eta^*"), eta_star)),
    ]
    del ab
    return Result(
        id="stability.sgd_1d_moments",
        title="1-D SGD (batch B without replacement): E x and E x² recursions with factor (n−B)/(B(n−1))",
        source=_SEED000,
        statement=statement,
        symbols=(Ex_next, Ex, Ex2_next, Ex2, eta, a, s, n, B, x0, t),
        conditions=(B >= 1, B <= n, n >= 2),
        notes=("a = (1/n)Σa_i is the sharpness and s² = (1/n)Σa_i² − a² the non-uniformity "
               "(seed 000 eq. 19–23). Seed eq. (22) is the B = 1 case (factor 1). With replacement "
               "the factor would be 1/B: the derivation uses P(i,j ∈ 𝓑) = B(B−1)/(n(n−1)), which is "
               "what makes the variance vanish at B = n. The stable set is 0 < η ≤ 2a/(a² + c s²)."),
        derivation=tuple(steps),
        parts={"mean_factor": 1 - eta * a, "second_moment_factor": factor2,
               "batch_factor": _batch_factor(), "second_moment": rsol, "eta_max": eta_star},
        references=("Seed 000, eqs. (19)–(23)", _WME),
    )


@result("sgd_noise.covariance", title="minibatch gradient noise covariance = (n−B)/(B(n−1)) × per-sample covariance",
        source=_SEED000, how="derive")
def noise_covariance() -> Result:
    r""":math:`\operatorname{Cov}[g_\mathcal B] = \frac{n-B}{B(n-1)}\,\frac1n\sum_i(g_i-\bar g)(g_i-\bar g)^T`
    for the mean :math:`g_\mathcal B` of ``B`` of the ``n`` per-sample gradients drawn without
    replacement (entry (k, l): the lemma with :math:`u_i = g_{i,k}`, :math:`w_i = g_{i,l}`)."""
    c, steps = _minibatch_covariance()
    covB = sym("Cov_B", r"\operatorname{Cov}[g_{\mathcal{B}}]_{kl}", real=True)
    C = sym("C", r"\Sigma^{g}_{kl}", real=True)
    statement = sp.Eq(covB, c * C)
    return Result(
        id="sgd_noise.covariance",
        title="minibatch gradient noise: Cov[g_𝓑] = (n−B)/(B(n−1)) × per-sample gradient covariance",
        source=_SEED000,
        statement=statement,
        symbols=(covB, C, n, B),
        conditions=(B >= 1, B <= n, n >= 2),
        notes=("Σ^g = (1/n)Σ_i(g_i − ḡ)(g_i − ḡ)ᵀ is the population covariance of the per-sample "
               "gradients at the current point (divisor n). Sampling with replacement gives 1/B "
               "instead; the two agree at B = 1 and differ most at B = n, where the noise vanishes "
               "only without replacement."),
        derivation=tuple(steps),
        parts={"factor": c, "with_replacement": 1 / B},
        references=("Seed 000 (the factor in eq. 23)", _WME),
    )


@result("stability.sgd_threshold", title="SGD on Σ H_k: second-moment identity and the seed's stability condition",
        source=_SEED000, how="derive")
def sgd_threshold() -> Result:
    r"""For :math:`x_{t+1} = (I-\eta H_\mathcal B)x_t`:

    .. math::
        \mathbb E\|x_{t+1}\|^2 = \mathbb E\,x_t^T\Bigl[(I-\eta H)^2 + \eta^2\frac{n-B}{B(n-1)}\Sigma\Bigr]x_t,

    so :math:`\lambda_{\max}\{\cdot\} \le 1` makes :math:`\mathbb E\|x_t\|^2` non-increasing
    (sufficient); necessary for it: :math:`a \le 2/\eta`, :math:`s \le \frac1\eta\sqrt{B(n-1)/(n-B)}`.
    """
    alpha, beta, steps = _second_moment_coefficients()
    c = _batch_factor()
    Hs = sp.MatrixSymbol("H", p, p)
    Sig = sp.MatrixSymbol("Sigma", p, p)
    x = sp.MatrixSymbol("x_t", p, 1)
    I = sp.Identity(p)
    P = (I - eta * Hs) ** 2 + eta**2 * c * Sig
    lhs = matrix("E_norm_x_next_sq", r"\mathbb{E}[\|x_{t+1}\|^2 \mid x_t]", 1, 1)
    # Written as the sum xᵀ(I − ηH)²x + η²c·xᵀΣx (= xᵀPx): each term a product of matrices.
    statement = sp.Eq(lhs, x.T * (I - eta * Hs) ** 2 * x + eta**2 * c * (x.T * Sig * x))
    # Necessary conditions: v the top eigenvector of H gives (1 − ηa)² + η²c vᵀΣv ≤ 1.
    u = sp.Symbol("u", positive=True)  # u = ηa
    nec_u = sp.solve_univariate_inequality((1 - u) ** 2 <= 1, u, relational=True)
    nec_a = sp.Le(a, sp.solve(sp.Eq(u, 2), u)[0] / eta)
    if nec_u != sp.Le(u, 2):
        raise ArithmeticError(f"unexpected solution {nec_u}")
    # v the top eigenvector of Σ gives vᵀ(I − ηH)²v + η²c s² ≤ 1, and vᵀ(I − ηH)²v ≥ 0.
    # Solve with c > 0 (B < n) as a symbol, then substitute c = (n − B)/(B(n − 1)).
    cp = sp.Symbol("c", positive=True)
    s_bound = [r for r in sp.solve(sp.Eq(eta**2 * cp * s**2, 1), s) if r.is_positive][0]
    # The 1-D (or aligned, commuting) stable region in the (a, s) plane and its top.
    s_edge = [r for r in sp.solve(sp.Eq((1 - eta * a) ** 2 + eta**2 * cp * s**2, 1), s)
              if not r.could_extract_minus_sign()][0]
    a_top = sp.solve(sp.diff(s_edge**2, a), a)[0]
    s_top = sp.simplify(s_edge.subs(a, a_top))
    if sp.simplify(s_top - s_bound) != 0 or sp.simplify(a_top - 1 / eta) != 0:
        raise ArithmeticError("the region's top is not the necessary bound on s")
    s_bound = sp.sqrt(B * (n - 1) / (n - B)) / eta
    if sp.simplify((s_bound**2 - (1 / (eta**2 * cp))).subs(cp, c)) != 0:
        raise ArithmeticError("necessary bound on s does not simplify")
    s_edge = sp.simplify(s_edge.subs(cp, c))
    steps += [
        Step("E[(I − ηH_𝓑)²] = I − 2ηH + η²E[H_𝓑²], E[H_𝓑²] = c(1/n)ΣH_i² + (1 − c)H² = H² + cΣ",
             sp.Eq(sp.MatrixSymbol("P", p, p), P)),
        Step("x_t independent of the batch: E‖x_{t+1}‖² = E x_tᵀ P x_t", statement),
        Step("necessary, v = top eigenvector of H: (1 − u)² ≤ 1 with u = ηa > 0", nec_u),
        Step("so", nec_a),
        Step("necessary, v = top eigenvector of Σ: η²c s² ≤ 1", sp.Le(s, s_bound)),
        Step("1-D stable region in the (a, s) plane: boundary s(a)", sp.Eq(sym("s_edge", r"s_{\partial}"), s_edge)),
        Step("its highest point: ds/da = 0", sp.Eq(a, a_top)),
        Step("height of the region = the necessary bound on s", sp.Eq(sym("s_top", r"s_{\max}"), s_top)),
    ]
    return Result(
        id="stability.sgd_threshold",
        title="SGD on a sum of quadratics: E‖x_{t+1}‖² = E x_tᵀ[(I − ηH)² + η²cΣ]x_t; necessary a ≤ 2/η, s ≤ √(B(n−1)/(n−B))/η",
        source=_SEED000,
        statement=statement,
        symbols=(eta, n, B, p, a, s),
        conditions=(B >= 1, B <= n, n >= 2, sp.Q.symmetric(Hs), sp.Q.symmetric(Sig)),
        notes=("Stable (E‖x_t‖² non-increasing) if λ_max{(I − ηH)² + η²(n−B)/(B(n−1))Σ} ≤ 1 — a "
               "sufficient condition; the exact mean-square threshold is stability.sgd_exact_threshold "
               "and is never smaller. a = λ_max(H), s² = λ_max(Σ). The seed's '≈ √B/η' holds for n ≫ B. "
               "The (a, s) region 'stable_region_s' is exact for 1-D problems (and for commuting H_i "
               "whose top directions coincide); in general only the rectangle a ≤ 2/η, s ≤ s_max is necessary."),
        derivation=tuple(steps),
        parts={"batch_factor": c, "necessary_sharpness": 2 / eta, "necessary_nonuniformity": s_bound,
               "stable_region_s": s_edge, "eta_max_1d": 2 * a / (a**2 + c * s**2)},
        references=("Seed 000, 'High-dimensional case' and 'Stability condition'", _WME),
    )


@result("stability.sgd_exact_threshold", title="exact mean-square stability: spectral radius of the second-moment map",
        source=_SEED000, how="derive + numeric")
def sgd_exact_threshold() -> Result:
    r"""The second moment :math:`M_t = \mathbb E[x_tx_t^T]` evolves linearly,

    .. math::
        M_{t+1} = \mathcal T_\eta(M_t) = (I-\eta H)M_t(I-\eta H)
        + \eta^2c\Bigl(\frac1n\sum_iH_iM_tH_i - HM_tH\Bigr),

    and :math:`x^* = 0` is mean-square stable iff :math:`\rho(\mathcal T_\eta) \le 1`. With
    :math:`\mathcal T_\eta = I - \eta\mathcal L + \eta^2\mathcal Q` (vec form), the largest stable
    step is :math:`\eta^* = 1/\lambda_{\max}(\mathcal L^{-1/2}\mathcal Q\mathcal L^{-1/2})`.
    """
    alpha, beta, steps = _second_moment_coefficients()
    c = _batch_factor()
    Hs = sp.MatrixSymbol("H", p, p)
    I = sp.Identity(p)
    A = I - eta * Hs
    # The map on matrices (it acts on any M, symmetric or not: E[x_t y_tᵀ] evolves the same
    # way), with S_t = (1/n)Σ_i H_i M_t H_i the per-sample term; its vec form is below.
    Mt = _NamedMatrix("M_t", p, p)
    St = _NamedMatrix("S_t", p, p)
    Mnext = _NamedMatrix("M_t1", p, p)
    statement = sp.Eq(Mnext, A * Mt * A + eta**2 * c * (St - Hs * Mt * Hs))
    Kbar = _NamedMatrix("Kbar", p**2, p**2)
    T = sp.kronecker_product(A, A) + eta**2 * c * (Kbar - sp.kronecker_product(Hs, Hs))
    Tsym = _NamedMatrix("T_eta", p**2, p**2)
    # 1-D: T = (1 − ηa)² + η²cs²; ρ(T) = 1 at the closed form.
    T1 = (1 - eta * a) ** 2 + eta**2 * c * s**2
    roots = [r for r in sp.solve(sp.Eq(T1, 1), eta) if r != 0]
    eta_1d = 2 * a / (a**2 + c * s**2)
    if len(roots) != 1 or sp.simplify(roots[0] - eta_1d) != 0:
        raise ArithmeticError(f"1-D threshold {roots} ≠ {eta_1d}")
    # A 2-D non-commuting instance with exact rationals: the exact threshold (smallest
    # positive root of det(ηQ − L) = 0) against the sufficient one (det(η(H² + cΣ) − 2H) = 0).
    H1 = sp.Matrix([[2, 1], [1, 1]])
    H2 = sp.Matrix([[1, 0], [0, 3]])
    H3 = sp.Matrix([[0, 0], [0, 1]])
    Hl = [H1, H2, H3]
    nn, BB = 3, 1
    cc = c.subs({n: nn, B: BB})
    Hm = sum(Hl, sp.zeros(2, 2)) / nn
    Sg = sum((h * h for h in Hl), sp.zeros(2, 2)) / nn - Hm * Hm
    kr = sp.kronecker_product
    L = kr(Hm, sp.eye(2)) + kr(sp.eye(2), Hm)
    Q = (1 - cc) * kr(Hm, Hm) + cc * sum((kr(h, h) for h in Hl), sp.zeros(4, 4)) / nn
    e = sp.Symbol("e", positive=True)
    poly_exact = sp.Poly(sp.expand((e * Q - L).det()), e)
    poly_suff = sp.Poly(sp.expand((e * (Hm * Hm + cc * Sg) - 2 * Hm).det()), e)
    r_exact = min(r for r in sp.real_roots(poly_exact) if r > 0)
    r_suff = min(r for r in sp.real_roots(poly_suff) if r > 0)
    if not bool(r_exact >= r_suff):
        raise ArithmeticError(f"exact threshold {r_exact} below the sufficient one {r_suff}")
    # And T(η*) has eigenvalue exactly 1 there (ρ = 1 at the boundary, numerically at 30 digits).
    T_ex = sp.eye(4) - r_exact * L + r_exact**2 * Q
    import mpmath  # noqa: PLC0415 (SymPy's own arbitrary-precision backend)

    with mpmath.workdps(40):
        ev_all, _ = mpmath.eig(mpmath.matrix([[sp.N(v, 40) for v in row] for row in T_ex.tolist()]))
        ev = max(abs(v) for v in ev_all)
    if abs(ev - 1) > 1e-25:
        raise ArithmeticError(f"ρ(T(η*)) = {ev} ≠ 1")
    steps += [
        Step("E[(I − ηH_𝓑)M(I − ηH_𝓑)] with E[H_𝓑MH_𝓑] = c(1/n)ΣH_iMH_i + (1 − c)HMH", statement),
        Step("vec form, vec(AMB) = (A ⊗ Bᵀ)vec M, with mean H_i ⊗ H_i", sp.Eq(Tsym, T)),
        Step("T_η = I − ηL + η²Q, L = H⊗I + I⊗H, Q = (1 − c)H⊗H + (c/n)ΣH_i⊗H_i ⪰ 0; ρ(T_η) = 1 ⟺ det(ηQ − L) = 0",
             sp.Eq(sp.Symbol("det(ηQ − L)"), 0)),
        Step("1-D: T = (1 − ηa)² + η²cs² = 1 solved for η", sp.Eq(sym("eta_star", r"\eta^*"), eta_1d)),
        Step("instance H_1 = [[2,1],[1,1]], H_2 = diag(1,3), H_3 = diag(0,1), B = 1: det(ηQ − L)",
             sp.Eq(poly_exact.as_expr(), 0)),
        Step("same instance, sufficient condition: det(η(H² + cΣ) − 2H)", sp.Eq(poly_suff.as_expr(), 0)),
        Step("smallest positive roots: η*_exact ≥ η*_sufficient",
             sp.Ge(sp.Float(r_exact.evalf(15), 15), sp.Float(r_suff.evalf(15), 15))),
    ]
    return Result(
        id="stability.sgd_exact_threshold",
        title="exact mean-square stability of SGD at a minimum: ρ(M ↦ E[(I − ηH_𝓑)M(I − ηH_𝓑)]) ≤ 1",
        source=_SEED000,
        statement=statement,
        symbols=(eta, n, B, p, a, s),
        conditions=(B >= 1, B <= n, n >= 2, sp.Q.symmetric(Hs)),
        notes=("Goes beyond the seed: its condition λ_max(P) ≤ 1 with P = T_η(I) is sufficient, because "
               "T_η is a positive map, so ρ(T_η) ≤ ‖T_η(I)‖ = λ_max(P); hence η*_exact ≥ η*_sufficient, "
               "with equality when the H_i commute (then T_η is diagonal on the diagonal of M). The stable "
               "set in η is an interval: if T_η₁(X) ≺ X for some X ≻ 0 then T_η(X) ≺ X for all η < η₁ "
               "(Q(X) ⪰ 0). On the null space of H (contained in every H_i's) the map is the identity "
               "(marginal); thresholds are computed on the range of H. Largest stable step: "
               "η* = 1/λ_max(L^{-1/2}QL^{-1/2}); closed form in (a, s, n, B) in 1-D: 'eta_max_1d'."),
        derivation=tuple(steps),
        parts={"eta_max_1d": eta_1d, "batch_factor": c},
        references=("Seed 000 (sufficient condition)", _WME,
                    "Ma & Ying (2021), On linear stability of SGD and input-smoothness of neural networks, NeurIPS"),
    )


@result("stability.general_optimizer", title="linear stability of a general stochastic optimizer",
        source=_SEED000, how="state + numeric")
def general_optimizer() -> Result:
    r""":math:`x_{t+1} = x_t - \eta G(x_t;\xi_t)` with :math:`G(x^*;\xi) = 0` for every ξ;
    linearize with :math:`A_\xi = \nabla_xG(x^*;\xi)`, :math:`B_\xi = I - \eta A_\xi`. Then
    :math:`\mathbb E x_t = (\mathbb EB_\xi)^tx_0` and
    :math:`\mathbb E\|x_{t+1}\|^2 = \mathbb E\,x_t^T\,\mathbb E[B_\xi^TB_\xi]\,x_t`; the minimum
    is stable in mean if :math:`\rho(I - \eta\mathbb EA_\xi) \le 1` and in mean square if
    :math:`\lambda_{\max}(\mathbb E[(I-\eta A_\xi)^T(I-\eta A_\xi)]) \le 1`.
    """
    rho1 = sym("rho_mean", r"\rho\left(I - \eta\, \mathbb{E}[A_\xi]\right)", nonnegative=True)
    lam2 = sym("lambda_sq", r"\lambda_{\max}\left(\mathbb{E}[(I - \eta A_\xi)^T (I - \eta A_\xi)]\right)",
               nonnegative=True)
    statement = sp.And(sp.Le(rho1, 1), sp.Le(lam2, 1))
    return Result(
        id="stability.general_optimizer",
        title="general optimizer x ← x − ηG(x; ξ), G(x*; ξ) = 0: stable if ρ(I − ηE A_ξ) ≤ 1 and λ_max(E[(I − ηA_ξ)ᵀ(I − ηA_ξ)]) ≤ 1",
        source=_SEED000,
        statement=statement,
        symbols=(rho1, lam2),
        # Jensen: ‖E[B]v‖² ≤ E‖Bv‖², so ρ(E B)² ≤ λ_max(E[BᵀB]) for every optimizer.
        conditions=(sp.Le(rho1**2, lam2),),
        notes=("Stated (the proof is the one-step bound E‖B_ξx‖² ≤ λ_max(E B_ξᵀB_ξ)‖x‖², iterated by the "
               "tower property; the numeric check carries the evidence). Corrections to the seed: "
               "(i) for non-symmetric A_ξ the first condition must be the spectral radius ρ, not "
               "'|λ_max|'; (ii) the second condition implies the first (Jensen: ‖E[B]v‖² ≤ E‖Bv‖²); "
               "(iii) it is sufficient, not necessary: the exact mean-square condition is "
               "ρ(E[B_ξ ⊗ B_ξ]) ≤ 1 (stability.sgd_exact_threshold for SGD); the catalog's 'iff' holds "
               "only for the mean condition. The seed's proof writes x_n = Π B_{ξ_t}x_t; it means x_0."),
        references=("Seed 000, 'Dynamical stability of a general optimizer'", _WME),
    )


@result("stability.preconditioned", title="preconditioned GD: stable iff λ_max(D⁻¹H) ≤ 2/η",
        source=_SEED000, how="derive")
def preconditioned() -> Result:
    r""":math:`x_{t+1} = x_t - \eta D^{-1}\nabla f`, :math:`D \succ 0`: the linearization
    :math:`I - \eta D^{-1}H` is similar to :math:`I - \eta D^{-1/2}HD^{-1/2}`, whose eigenvalues
    :math:`1 - \eta\mu_j` are real with :math:`\mu_j \ge 0`; stable iff
    :math:`\lambda_{\max}(D^{-1}H) \le 2/\eta`.
    """
    mu = sym("mu_j", r"\mu_j", positive=True)
    mu_max = sym("mu_max", r"\lambda_{\max}(D^{-1}H)", positive=True)
    # Similarity on a generic 2x2 instance: D = diag(d1, d2) > 0, H symmetric.
    d1, d2 = sp.symbols("d1 d2", positive=True)
    h11, h12, h22 = sp.symbols("h11 h12 h22", real=True)
    D = sp.diag(d1, d2)
    Hm = sp.Matrix([[h11, h12], [h12, h22]])
    x = sp.Symbol("x")
    cp1 = (D.inv() * Hm).charpoly(x).as_expr()
    Dh = sp.diag(1 / sp.sqrt(d1), 1 / sp.sqrt(d2))
    Ssym = Dh * Hm * Dh
    cp2 = Ssym.charpoly(x).as_expr()
    if sp.simplify(cp1 - cp2) != 0 or sp.simplify(Ssym - Ssym.T) != sp.zeros(2, 2):
        raise ArithmeticError("D⁻¹H is not similar to the symmetric D^{-1/2}HD^{-1/2}")
    region = sp.solve_univariate_inequality(sp.Abs(1 - eta * mu) <= 1, eta, relational=True)
    upper = sp.solve(sp.Eq(1 - eta * mu, -1), eta)[0]
    statement = sp.Le(mu_max, 2 / eta)
    return Result(
        id="stability.preconditioned",
        title="preconditioned GD x ← x − ηD⁻¹∇f is linearly stable iff λ_max(D⁻¹H) ≤ 2/η",
        source=_SEED000,
        statement=statement,
        symbols=(mu_max, eta, mu),
        conditions=(eta > 0,),
        notes=("D symmetric positive definite, H = ∇²f(x*) ⪰ 0. With D ≈ H (quasi-Newton), "
               "λ_max(D⁻¹H) ≈ 1 and every minimum is stable for η ≤ 2 (seed 000)."),
        derivation=(
            Step("characteristic polynomial of D⁻¹H (2×2, D diagonal)", sp.Eq(sp.Symbol("χ"), sp.expand(cp1))),
            Step("equals that of the symmetric D^{-1/2}HD^{-1/2}: eigenvalues μ_j real, ≥ 0",
                 sp.Eq(sp.simplify(cp1 - cp2), 0)),
            Step("mode j: |1 − ημ_j| ≤ 1 solved for η > 0", region),
            Step("largest stable step of mode j", sp.Eq(sym("eta_j", r"\eta_j"), upper)),
        ),
        parts={"threshold": 2 / mu_max},
        references=("Seed 000, 'Extension: quasi-Newton method'",),
    )


@result("stability.sgd_escape_example", title="1-D example: GD stays at the minimum x = 1, SGD escapes to 0",
        source=_SEED000, how="numeric")
def sgd_escape_example() -> Result:
    r""":math:`f = \frac12(f_1 + f_2)`, :math:`f_1 = \min\{x^2, 0.1(x-1)^2\}`,
    :math:`f_2 = \min\{x^2, 1.9(x-1)^2\}`, η = 0.7, :math:`x_0 = 1 - 10^{-5}`. Both minima have
    :math:`f'' = 2`, so GD (:math:`|1 - 2\eta| = 0.4 < 1`) is stable at both; single-sample SGD at
    1 multiplies :math:`x - 1` by :math:`1 - 0.2\eta` or :math:`1 - 3.8\eta`, with second moment
    factor :math:`q_1(\eta) > 1` at η = 0.7 and a positive Lyapunov exponent, so it leaves; at 0 it
    contracts by 0.4 every step.
    """
    x = sp.Symbol("x", real=True)
    f1_near1 = sp.Rational(1, 10) * (x - 1) ** 2
    f2_near1 = sp.Rational(19, 10) * (x - 1) ** 2
    c1, c2 = sp.diff(f1_near1, x, 2), sp.diff(f2_near1, x, 2)
    fpp0 = sp.diff((x**2 + x**2) / 2, x, 2)
    fpp1 = sp.diff((f1_near1 + f2_near1) / 2, x, 2)
    q1 = sym("q_1", r"q_1(\eta)", positive=True)
    factor = sp.Rational(1, 2) * ((1 - eta * c1) ** 2 + (1 - eta * c2) ** 2)
    h = sp.Rational(7, 10)
    at1 = factor.subs(eta, h)
    at0 = ((1 - eta * fpp0) ** 2).subs(eta, h)
    lyap = sp.Rational(1, 2) * (sp.log(sp.Abs(1 - h * c1)) + sp.log(sp.Abs(1 - h * c2)))
    # Where the pieces switch (x² = c(x − 1)² inside (0, 1)).
    k1 = [r for r in sp.solve(sp.Eq(x**2, sp.Rational(1, 10) * (x - 1) ** 2), x) if 0 < r < 1][0]
    k2 = [r for r in sp.solve(sp.Eq(x**2, sp.Rational(19, 10) * (x - 1) ** 2), x) if 0 < r < 1][0]
    eta_sgd1 = [r for r in sp.solve(sp.Eq(factor, 1), eta) if r != 0][0]
    if not (at1 > 1 and at0 < 1 and lyap.evalf() > 0 and abs(1 - h * fpp1) < 1):
        raise ArithmeticError("the escape example's inequalities do not hold")
    statement = sp.Eq(q1, factor)
    return Result(
        id="stability.sgd_escape_example",
        title="f = ½(f₁ + f₂), η = 0.7, x₀ = 1 − 10⁻⁵: GD converges to 1, SGD (B = 1) escapes to 0",
        source=_SEED000,
        statement=statement,
        symbols=(q1, eta),
        conditions=(eta > 0,),
        notes=("The seed's numbers are the coefficients, i.e. f''/2: for f_1 = min{x², 0.1(x − 1)²} the "
               "second derivative at 1 is f_1'' = 0.2 and f_2'' = 3.8 (not 0.1 and 1.9), and both minima "
               "of f have f'' = 2 (not 1). Hence GD is stable at both for η ≤ 2/f'' = 1 (the seed's "
               "'η ≤ 2' is wrong), and with η = 0.7: η f_2''(1) = 2.66 > 2 (unstable for f_2 alone), "
               "η f_1''(1) = 0.14. With the seed's literal values (0.1, 1.9) the example would not escape: "
               "(1 − 0.07)² and (1 − 1.33)² are both < 1. The claim 'SGD converges to 0' is stated; the "
               "numeric check is the evidence (x − 1 grows a.s. since the Lyapunov exponent is positive; "
               "near 0 every step multiplies x by −0.4)."),
        derivation=(
            Step("f_1'' and f_2'' at x = 1 (pieces c(x − 1)²)", sp.Eq(sp.Symbol("(f_1'', f_2'')"), sp.Tuple(c1, c2))),
            Step("f'' at 0 and at 1", sp.Eq(sp.Symbol("(f''(0), f''(1))"), sp.Tuple(fpp0, fpp1))),
            Step("SGD (B = 1) at 1: q_1(η) = E(1 − ηf_ξ'')²", statement),
            Step("at η = 7/10: q_1 > 1 (unstable in mean square)", sp.Eq(sp.Symbol("q_1(7/10)"), at1)),
            Step("Lyapunov exponent E log|1 − ηf_ξ''| > 0 (escape almost surely)",
                 sp.Eq(sp.Symbol("Λ"), sp.Float(lyap.evalf(15), 15))),
            Step("at 0: (1 − 2η)² < 1", sp.Eq(sp.Symbol("q_0(7/10)"), at0)),
            Step("SGD at 1 is stable only for η below", sp.Eq(sym("eta_1", r"\eta_1"), eta_sgd1)),
            Step("pieces switch at (f_1, f_2)", sp.Eq(sp.Symbol("(x_1, x_2)"), sp.Tuple(k1, k2))),
        ),
        parts={"sgd_factor_at_1": factor, "gd_factor": 1 - 2 * eta},
        references=("Seed 000, 'An illustrative counter example'", _WME),
    )
