r"""Logistic regression on separable data: GD converges in direction to the max-margin SVM.

Data :math:`(x_i, y_i)`, :math:`y_i\in\{-1,+1\}`, written :math:`z_i = y_ix_i`; loss
:math:`L(\theta) = \sum_i \ell(z_i^T\theta)` with :math:`\ell(u) = \log(1+e^{-u})`. If some
:math:`\theta` has :math:`z_i^T\theta > 0` for all i, GD with a small enough step from any
initialization satisfies (Soudry, Hoffer, Nacson, Gunasekar, Srebro, JMLR 2018, Theorem 3)

.. math:: \theta_k = \hat\theta\log k + \tilde w + r_k, \qquad r_k \to 0,

where :math:`\hat\theta = \arg\min\{\|\theta\|^2 : z_i^T\theta\ge 1\}` is the hard-margin SVM
solution (margin :math:`\gamma = 1/\|\hat\theta\|`) and :math:`\tilde w` solves
:math:`\eta\,e^{-z_s^T\tilde w} = \alpha_s` on the support vectors, :math:`\alpha` the SVM dual
variables. Hence :math:`\|\theta_k\| = \log k/\gamma + O(1)` and the angle to
:math:`\hat\theta` decays like :math:`1/\log k`.

References
----------
seed 002 (lecture 12, implicit bias of GD); D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar,
N. Srebro, "The implicit bias of gradient descent on separable data", JMLR 19 (2018).
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result
from theory._symbols import matrix, sym

__all__: list[str] = []

_SEED002 = "seed 002 (lecture 12; Soudry et al. 2018)"

k = sym("k", integer=True, positive=True)
eta = sym("eta", r"\eta", positive=True)
margin = sym("gamma", r"\gamma", positive=True)
w_par = sym("w_par", r"\hat u^T\tilde w", real=True)
w_perp = sym("w_perp", r"\|P_{\perp}\tilde w\|", nonnegative=True)
lam_M = sym("lambda_min_M", r"\lambda_{\min}(M)", positive=True)
m2 = sym("m_2", r"m_2", positive=True)
alpha_s = sym("alpha_s", r"\alpha_s", positive=True)
zw_s = sym("zw_s", r"z_s^T\tilde w", real=True)


def _kkt(n: int = 3, d: int = 2) -> tuple[sp.Matrix, sp.Expr, sp.Expr]:
    """Lagrangian of the hard-margin SVM on a symbolic n × d instance: stationarity gives
    θ = Σ α_i z_i, and substituting it gives the dual Σα − ½‖Σα_i z_i‖²."""
    th = sp.Matrix(sp.symbols(f"theta_1:{d + 1}", real=True))
    al = sp.Matrix(sp.symbols(f"alpha_1:{n + 1}", nonnegative=True))
    Z = sp.Matrix(n, d, lambda i, j: sp.Symbol(f"z_{i + 1}{j + 1}", real=True))
    lag = (th.T * th)[0, 0] / 2 - sum(al[i] * ((Z[i, :] * th)[0, 0] - 1) for i in range(n))
    sol = sp.solve([sp.diff(lag, t) for t in th], list(th), dict=True)
    if len(sol) != 1:
        raise ArithmeticError(f"stationarity has {len(sol)} solutions")
    th_star = th.subs(sol[0])
    if sp.simplify(th_star - Z.T * al) != sp.zeros(d, 1):
        raise ArithmeticError("stationarity is not θ = Σ α_i z_i")
    dual = sp.expand(lag.subs(sol[0]))
    want = sp.expand(sum(al) - ((Z.T * al).T * (Z.T * al))[0, 0] / 2)
    if sp.simplify(dual - want) != 0:
        raise ArithmeticError("the dual function is not Σα − ½‖Zᵀα‖²")
    return th_star, dual, lag


def _one_dimensional_rate() -> tuple[sp.Expr, sp.Expr]:
    """Gradient flow on the exponential tail e^{−zθ} in one dimension: dsolve, then the
    expansion θ(t) = (1/z) log t + log(ηz²)/z + o(1), i.e. θ̂ = 1/z, α = 1/z², ηe^{−zw̃} = α."""
    t = sp.Symbol("t", positive=True)
    z = sp.Symbol("z", positive=True)
    c0 = sp.Symbol("theta_0", real=True)
    th = sp.Function("theta")
    sol = sp.dsolve(sp.Eq(th(t).diff(t), eta * z * sp.exp(-z * th(t))), th(t),
                    ics={th(0): c0})
    sol = sol[0] if isinstance(sol, list) else sol
    w_tilde = sp.simplify(sp.limit(sol.rhs - sp.log(t) / z, t, sp.oo))
    if sp.simplify(sp.expand_log(w_tilde - sp.log(eta * z**2) / z, force=True)) != 0:
        raise ArithmeticError(f"1-D offset is {w_tilde}, not log(ηz²)/z")
    alpha = 1 / z**2  # dual variable of the 1-point SVM: θ̂ = αz = 1/z
    if sp.simplify(eta * sp.exp(-z * w_tilde) - alpha) != 0:
        raise ArithmeticError("1-D offset does not satisfy η e^{−z w̃} = α")
    return sol.rhs, w_tilde


@result("classification.max_margin",
        title="logistic GD on separable data converges in direction to the max-margin SVM",
        source=_SEED002, how="state + numeric")
def max_margin() -> Result:
    r"""Soudry et al. (2018): :math:`\theta_k = \hat\theta\log k + \tilde w + r_k`,
    :math:`r_k\to0`; so :math:`\theta_k/\|\theta_k\|\to\hat\theta/\|\hat\theta\|` and
    :math:`\|\theta_k\| = \log k/\gamma + O(1)`.

    Stated (the proof is an asymptotic analysis SymPy does not carry). The builder derives
    with SymPy what can be derived: the KKT conditions of the hard-margin SVM (stationarity
    :math:`\hat\theta = \sum_i\alpha_iz_i` and the dual, on a symbolic 3 × 2 instance) and
    the one-dimensional gradient flow :math:`\dot\theta = \eta z e^{-z\theta}` solved with
    ``dsolve``, whose expansion :math:`\theta(t) = \tfrac1z\log t + \tfrac1z\log(\eta z^2) + o(1)`
    shows the constants (:math:`\hat\theta = 1/z`, :math:`\eta e^{-z\tilde w} = \alpha = 1/z^2`).

    Examples
    --------
    >>> import theory
    >>> r = theory.get("classification.max_margin")
    >>> print(r.latex(part="norm_growth"))
    \frac{\log{\left(k \right)}}{\gamma}
    """
    _kkt()  # raises unless stationarity gives θ̂ = Zᵀα and the dual Σα − ½‖Zᵀα‖²
    flow, w1 = _one_dimensional_rate()
    d = sym("d", integer=True, positive=True)
    n = sym("n", integer=True, positive=True)
    theta_k = matrix("theta_k", r"\theta_{k}", d, 1)
    theta_hat = matrix("theta_hat", r"\hat{\theta}", d, 1)
    w_tilde = matrix("w_tilde", r"\tilde{w}", d, 1)
    r_k = matrix("r_k", "r_{k}", d, 1)
    Z = sp.MatrixSymbol("Z", n, d)
    alpha = matrix("alpha", r"\alpha", n, 1)
    ones = sp.OneMatrix(n, 1)
    lim_dir = matrix("theta_direction", r"\lim_{k\to\infty}\theta_k/\|\theta_k\|", d, 1)
    statement = sp.Eq(theta_k, theta_hat * sp.log(k) + w_tilde + r_k)
    angle = sp.atan(w_perp / (sp.log(k) / margin + w_par))
    return Result(
        id="classification.max_margin",
        title="logistic loss, separable data, GD from any init: θ_k = θ̂ log k + w̃ + r_k (r_k → 0); direction → hard-margin SVM, ‖θ_k‖ ~ log k/γ",
        source=_SEED002,
        statement=statement,
        symbols=(k, d, n, eta, margin, w_par, w_perp, lam_M, m2, alpha_s, zw_s),
        conditions=(),
        notes=(
            "Seed 002 writes the logistic loss as l(u) = log(1 + e^{−|u|}); the absolute value "
            "is a typo: with it the loss is even and does not prefer correct classification. "
            "The loss is l(u) = log(1 + e^{−u}). The seed's separability condition "
            "'⟨θ, x_i y_i⟩ > 0 if y_i = +1' should read 'for all i'. Constants (Soudry et al. "
            "2018, Thm 3, loss summed over samples, GD step η < 2/(β σ_max²(Z)), β = 1/4 for "
            "the logistic loss): the coefficient of log k is the margin-1 SVM vector θ̂ "
            "(‖θ̂‖ = 1/γ, γ the geometric margin), independent of η and of θ_0; the offset w̃ "
            "solves η e^{−z_sᵀw̃} = α_s on the support vectors (unique when they are linearly "
            "independent and span ℝ^d). r_k names the remainder (any r_k → 0; ±r_k or 2r_k read "
            "the same). Hence ‖θ_k‖ = log k/γ + O(1), the angle to θ̂ is "
            "atan(‖P_⊥w̃‖/(log k/γ + ûᵀw̃)) + o(1/log k) = O(1/log k) (part angle), and "
            "1 − cos = O(1/log² k). Linearizing the flow about the asymptote, "
            "ṙ = −(1/t)Mr with M = Σ_s α_s z_s z_sᵀ, so r_k decays like k^{−p} with "
            "p = min(λ_min(M), 1, m_2 − 1) (m_2 = min over non-support vectors of z_iᵀθ̂, 1 from "
            "the logistic tail and the discrete step) = min(λ_min(M), m_2 − 1), since "
            "λ_min(M) ≤ ûᵀMû = γ²Σ_sα_s = γ²‖θ̂‖² = 1 (part remainder_exponent). That rate "
            "only explains: it is a heuristic of the linearization, and at reachable k it "
            "carries log factors (when λ_min(M) = 1 the two rates resonate; GD shows local "
            "exponents 0.6–0.85 at k = 2^13..2^18 against p = 1), so no finite-k test with a "
            "derived tolerance certifies it; the check certifies r_k → 0 (the remainder halves "
            "over five octaves of k). "
            "KKT of the SVM: θ̂ = Zᵀα, α ≥ 0, Zθ̂ ≥ 1 (part kkt), α ⊙ Zθ̂ − α = α ⊙ (Zθ̂ − 1) = 0 (part "
            "complementary_slackness; a claim '= 0', so it reads the same scaled or negated); the dual function D(α) = 1ᵀα − ½‖Zᵀα‖² (part dual) "
            "is maximized at the SVM's α with D = ½‖θ̂‖² (strong duality). Part offset: "
            "z_sᵀw̃ = log(η/α_s) on each support vector s (Soudry et al.'s η e^{−z_sᵀw̃} = α_s). "
            "Part svm only defines θ̂ (explains; its content is what kkt, "
            "complementary_slackness and dual certify). Without a bias term, as in the seed."),
        derivation=(),
        parts={
            "direction": sp.Eq(lim_dir, margin * theta_hat),
            "svm": sp.Eq(theta_hat, matrix(
                "arg_min_norm_theta_2_Z_theta_ge_1", r"\arg\min\{\|\theta\|^2 : Z\theta \ge \mathbf{1}\}", d, 1)),
            "kkt": sp.Eq(theta_hat, Z.T * alpha),
            "complementary_slackness": sp.Eq(
                sp.ZeroMatrix(n, 1), sp.HadamardProduct(alpha, Z * theta_hat) - alpha),
            "dual": sp.Eq(matrix("D_alpha", r"D(\alpha)", 1, 1),
                          ones.T * alpha - sp.Rational(1, 2) * alpha.T * Z * Z.T * alpha),
            "offset": sp.Eq(zw_s, sp.log(eta / alpha_s)),
            "norm_growth": sp.log(k) / margin,
            "angle": angle,
            "remainder_exponent": sp.Min(lam_M, m2 - 1),
            "one_dimensional_offset": w1.subs(sp.Symbol("z", positive=True), 1 / margin),
        },
        explains=("svm", "remainder_exponent"),
        references=("Soudry, Hoffer, Nacson, Gunasekar, Srebro, JMLR 19(70), 2018, Theorem 3",
                    "Seed 002, 'Extension to logistic regression'"),
    )
