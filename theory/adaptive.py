r"""Variable-metric methods: scaled GD, RMSprop and Adam as gradient steps in a metric.

A variable-metric step :math:`x_{k+1} = x_k - \gamma H_k^{-1}\nabla f(x_k)` is a plain
gradient step on :math:`f\circ H_k^{-1/2}` after the change of variables
:math:`x = H_k^{-1/2}v` (seed 003, "Variable metric methods -- Interpretation"). With a fixed
``H`` this is derived here with SymPy's chain rule; it moves the sharpness from
:math:`\lambda_{\max}(\nabla^2 f)` to :math:`\lambda_{\max}(H^{-1/2}\nabla^2 f H^{-1/2})`, which
is what the stability threshold :math:`\gamma\lambda_{\max} \le 2` sees (the preconditioned
threshold :math:`\lambda_{\max}(D^{-1}\nabla^2 f) \le 2/\eta` is ``stability.preconditioned``).
RMSprop and Adam choose :math:`H_k = \operatorname{diag}(\sqrt{v_k}+\epsilon)` from running
averages of squared gradients.

References
----------
seed 003 (P. Giselsson, *SGD: implicit regularization*); D. P. Kingma and J. Ba, ICLR 2015;
A. C. Wilson, R. Roelofs, M. Stern, N. Srebro, B. Recht, "The marginal value of adaptive
gradient methods in machine learning", NeurIPS 2017.
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import matrix, sym

__all__: list[str] = []

_SEED003 = "seed 003 (Giselsson, variable metric methods)"

gamma = sym("gamma", r"\gamma", positive=True)
k = sym("k", integer=True, positive=True)
b_m = sym("b_m", positive=True)
b_v = sym("b_v", positive=True)
eps = sym("epsilon", r"\varepsilon", positive=True)  # same symbol as in theory.linear
lam_H = sym("lambda_max_H", r"\lambda_{\max}(H^{-1/2}\nabla^2 f\,H^{-1/2})", positive=True)


def _matrix(name: str, latex: str, rows: sp.Expr, cols: sp.Expr) -> sp.MatrixSymbol:
    return matrix(name, latex, rows, cols)


def _chain_rule_2d() -> tuple[list[Step], sp.Matrix]:
    """GD on g(v) = f(Sv), S = H^{-1/2} symmetric, mapped back through x = Sv (d = 2)."""
    v1, v2 = sp.symbols("v_1 v_2", real=True)
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    s11, s12, s22 = sp.symbols("s_11 s_12 s_22", real=True)
    S = sp.Matrix([[s11, s12], [s12, s22]])  # S = H^{-1/2}: symmetric
    f = sp.Function("f")
    v = sp.Matrix([v1, v2])
    x = S * v
    g = f(*x)
    grad_g = sp.Matrix([g.diff(v1), g.diff(v2)])  # SymPy's chain rule
    grad_f_at_x = sp.Matrix([sp.Derivative(f(x1, x2), x1), sp.Derivative(f(x1, x2), x2)]
                            ).subs({x1: x[0], x2: x[1]})
    chain = sp.simplify(grad_g - S.T * grad_f_at_x)
    if chain != sp.zeros(2, 1):
        raise ArithmeticError(f"chain rule: ∇(f∘S)(v) − Sᵀ∇f(Sv) = {chain}")
    # One GD step on g, then x_next = S v_next; compare with x − γ S² ∇f(x) = x − γH⁻¹∇f(x).
    v_next = v - gamma * grad_g
    x_next = S * v_next
    scaled = x - gamma * (S * S) * grad_f_at_x
    gap = sp.simplify(x_next - scaled)
    if gap != sp.zeros(2, 1):
        raise ArithmeticError(f"mapped GD step differs from the scaled step by {gap}")
    # Hessian of f∘S is S ∇²f(Sv) S. The Hessian at a point only sees the second-order
    # Taylor polynomial of f there, so a generic quadratic (symbolic symmetric Q, b) covers
    # every f (SymPy does not identify the two orders of a mixed partial inside Subs).
    q11, q12, q22, c1, c2 = sp.symbols("q_11 q_12 q_22 c_1 c_2", real=True)
    Q = sp.Matrix([[q11, q12], [q12, q22]])
    xs = sp.Matrix([x1, x2])
    quad = (sp.Rational(1, 2) * xs.T * Q * xs)[0, 0] + c1 * x1 + c2 * x2
    hess_g = sp.hessian(quad.subs({x1: x[0], x2: x[1]}, simultaneous=True), (v1, v2))
    hgap = sp.simplify(hess_g - S * Q * S)
    if hgap != sp.zeros(2, 2):
        raise ArithmeticError(f"Hessian of f∘S is not S∇²f S: {hgap}")
    steps = [
        Step("chain rule (d = 2, S = H^{-1/2} symmetric): ∇(f∘S)(v) − S∇f(Sv)", chain),
        Step("GD step on f∘S mapped back by x = Sv, minus x − γS²∇f(x)", gap),
        Step("Hessian: ∇²(f∘S)(v) − S∇²f(Sv)S", hgap),
    ]
    return steps, S


def _seed_example() -> tuple[Step, sp.Expr, sp.Expr]:
    """Seed 003's quadratic f = ½xᵀQx and H = diag(Q): condition numbers before and after."""
    Q = sp.Matrix([[sp.Rational(1, 10), -sp.Rational(1, 10)], [-sp.Rational(1, 10), 1]])
    P = sp.diag(*Q.diagonal())
    Ph = sp.diag(*[1 / sp.sqrt(q) for q in Q.diagonal()])
    Qs = sp.simplify(Ph * Q * Ph)
    ev = sorted(Q.eigenvals(), key=lambda e: float(e))
    evs = sorted(Qs.eigenvals(), key=lambda e: float(e))
    kappa = sp.nsimplify(sp.simplify(ev[-1] / ev[0]))
    kappa_s = sp.simplify(evs[-1] / evs[0])
    if not float(kappa_s) < float(kappa):
        raise ArithmeticError("diagonal scaling did not improve the seed example's conditioning")
    step = Step("seed example Q = [[0.1, −0.1], [−0.1, 1]], H = diag(Q): P^{-1/2}QP^{-1/2}",
                sp.Eq(sp.MatrixSymbol("Q_H", 2, 2), Qs))
    del P
    return step, kappa, kappa_s


@result("adaptive.metric_view", title="scaled GD is GD on f∘H^{−1/2}", source=_SEED003,
        how="derive")
def metric_view() -> Result:
    r"""With :math:`x = H^{-1/2}v`, GD on :math:`f_H = f\circ H^{-1/2}`,
    :math:`v_{k+1} = v_k - \gamma\nabla f_H(v_k) = v_k - \gamma H^{-1/2}\nabla f(H^{-1/2}v_k)`,
    is the scaled step

    .. math:: x_{k+1} = x_k - \gamma H^{-1}\nabla f(x_k),

    and :math:`\nabla^2 f_H = H^{-1/2}\nabla^2 f\,H^{-1/2}`: the step is stable at a minimum iff
    :math:`\gamma\,\lambda_{\max}(H^{-1/2}\nabla^2 f H^{-1/2}) \le 2`.

    Derived with SymPy's chain rule on a generic function of two variables and a generic
    symmetric :math:`S = H^{-1/2}`; the general case is the same computation row by row.

    Examples
    --------
    >>> import theory
    >>> r = theory.get("adaptive.metric_view")
    >>> r.latex()
    'x_{k+1} = - \\gamma H^{-1} {\\nabla f(x_k)} + x_{k}'
    """
    steps, _ = _chain_rule_2d()
    ex_step, kappa, kappa_s = _seed_example()
    steps.append(ex_step)
    steps.append(Step("condition number before / after the diagonal scaling",
                      sp.Tuple(kappa, kappa_s)))
    d = sym("d", integer=True, positive=True)
    H = sp.MatrixSymbol("H", d, d)
    xk = _matrix("x_k", "x_{k}", d, 1)
    xk1 = _matrix("x_k1", "x_{k+1}", d, 1)
    gradf = _matrix("grad_f", r"{\nabla f(x_k)}", d, 1)
    hessf = _matrix("hess_f", r"{\nabla^2 f}", d, d)
    hess_fH = _matrix("hess_f_H", r"{\nabla^2 f_H}", d, d)
    grad_fH = _matrix("grad_f_H", r"{\nabla f_H(v)}", d, 1)
    grad_f_at = _matrix("grad_f_at", r"{\nabla f(H^{-1/2}v)}", d, 1)
    Hmh = sp.MatPow(H, sp.Rational(-1, 2))
    statement = sp.Eq(xk1, xk - gamma * H.I * gradf)
    return Result(
        id="adaptive.metric_view",
        title="x_{k+1} = x_k − γH⁻¹∇f(x_k) is GD on f∘H^{−1/2} (x = H^{−1/2}v); its sharpness is λ_max(H^{−1/2}∇²fH^{−1/2})",
        source=_SEED003,
        statement=statement,
        symbols=(d, gamma, lam_H),
        # H is a metric and ∇²f a Hessian: transposes of either are the same matrix
        conditions=(sp.Q.symmetric(H), sp.Q.positive_definite(H), sp.Q.symmetric(hessf)),
        notes=("H symmetric positive definite. The seed's statement for a variable H_k holds "
               "step by step (the change of variables changes with k). Sharpness after the "
               "change of variables is λ_max(H^{−1/2}∇²fH^{−1/2}) = λ_max(H⁻¹∇²f) (similar "
               "matrices), so the step is linearly stable iff γλ_max(H⁻¹∇²f) ≤ 2: the "
               "preconditioned threshold stability.preconditioned (λ_max(D⁻¹H) ≤ 2/η). "
               "A metric that equalizes curvature makes sharp minima of f less sharp in f_H "
               "(seed 003, 'Interpretation consequence'). On the seed's example "
               "Q = [[0.1, −0.1], [−0.1, 1]] with H = diag(Q) the condition number drops from "
               f"{sp.sstr(kappa)} to {sp.sstr(kappa_s)}."),
        derivation=tuple(steps),
        parts={
            "hessian": sp.Eq(hess_fH, Hmh * hessf * Hmh),
            "reparametrized_gradient": sp.Eq(grad_fH, Hmh * grad_f_at),
            "step_limit": 2 / lam_H,
            "seed_condition_before": kappa,
            "seed_condition_after": kappa_s,
        },
        references=("Seed 003, 'Variable metric methods – Interpretation' and 'Scaled gradient method'",),
    )


def _ema_of_constant(g: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """rsolve: the running average of a constant input g from zero is (1 − b^k) g."""
    b = sym("b", positive=True)
    m = sp.Function("m")
    kk = k
    sol = sp.rsolve(m(kk) - b * m(kk - 1) - (1 - b) * g, m(kk), {m(0): 0})
    if sp.simplify(sol - (1 - b**kk) * g) != 0:
        raise ArithmeticError(f"running average of a constant: rsolve gave {sol}")
    return sol, b


@result("adaptive.adam_update", title="Adam as a variable-metric step H_k = diag(√v_k + ε)",
        source=_SEED003, how="state")
def adam_update() -> Result:
    r"""Adam with bias correction (seed 003, "Adam -- Summary"), coordinate-wise:

    .. math::
        \hat m_k = b_m\hat m_{k-1} + (1-b_m)g_k,\quad
        \hat v_k = b_v\hat v_{k-1} + (1-b_v)g_k^2,\quad
        x_{k+1} = x_k - \gamma H_k^{-1}\frac{\hat m_k}{1-b_m^k},\quad
        H_k = \operatorname{diag}\Bigl(\sqrt{\tfrac{\hat v_k}{1-b_v^k}} + \epsilon\Bigr).

    RMSprop is the same step without the first moment and without bias correction:
    :math:`H_k = \operatorname{diag}(\sqrt{\hat v_k}+\epsilon)` applied to :math:`g_k`. The
    statement is the coordinate-wise Adam step (a scalar, so that ``numeric`` evaluates it);
    the parts hold the metric, the moment recursions and RMSprop.

    Examples
    --------
    >>> import theory
    >>> print(theory.get("adaptive.adam_update").latex())  # doctest: +ELLIPSIS
    \Delta x_{k} = - \frac{\gamma \hat{m}_{k}}{\left(1 - b_{m}^{k}\right) \left(\varepsilon + ...
    """
    m_hat = sym("m_hat", r"\hat{m}_{k}", real=True)
    v_hat = sym("v_hat", r"\hat{v}_{k}", real=True)
    m_prev = sym("m_prev", r"\hat{m}_{k-1}", real=True)
    v_prev = sym("v_prev", r"\hat{v}_{k-1}", real=True)
    g = sym("g", r"g_{k}", real=True)
    dx = sym("Delta_x", r"\Delta x_{k}", real=True)
    h = sym("h_k", r"h_{k}", positive=True)
    m_k = m_hat / (1 - b_m**k)
    v_k = v_hat / (1 - b_v**k)
    metric = sp.sqrt(v_k) + eps
    step = -gamma * m_k / metric
    rms_metric = sp.sqrt(v_hat) + eps
    ema, b = _ema_of_constant(g)
    return Result(
        id="adaptive.adam_update",
        title="Adam with bias correction is x_{k+1} = x_k − γH_k⁻¹m_k with H_k = diag(√v_k + ε); RMSprop uses √v̂_k, uncorrected",
        source=_SEED003,
        statement=sp.Eq(dx, step),
        symbols=(dx, m_hat, v_hat, m_prev, v_prev, g, gamma, b_m, b_v, eps, k, h, b),
        conditions=(b_m < 1, b_v < 1),
        notes=("Stated (a definition, seed 003). The seed indexes g_k = ∇̃f(x_{k−1}) but "
               "updates x_{k+1} from x_k; here the k-th moments update the iterate they were "
               "computed from (Kingma & Ba, Algorithm 1), which is what numerics.adaptive.Adam "
               "does. Why the correction: rsolve gives the running average of a constant "
               "input g from zero as (1 − b^k)g (part ema_of_constant), so m̂_k/(1 − b_m^k) "
               "and v̂_k/(1 − b_v^k) are exact for a stationary gradient. ε > 0 keeps H_k "
               "positive definite; β ∈ (0, 1)."),
        parts={
            "metric": sp.Eq(h, metric),
            "first_moment": sp.Eq(m_hat, b_m * m_prev + (1 - b_m) * g),
            "second_moment": sp.Eq(v_hat, b_v * v_prev + (1 - b_v) * g**2),
            "step": step,
            "rmsprop_step": -gamma * g / rms_metric,
            "rmsprop_metric": sp.Eq(h, rms_metric),
            "ema_of_constant": ema,
        },
        references=("Kingma & Ba, ICLR 2015, Algorithm 1", "Seed 003, 'Adam – Summary'"),
    )


@result("adaptive.adam_vs_sgd_norm", title="Adam's limit on least squares is not the min-norm point",
        source=_SEED003, how="numeric")
def adam_vs_sgd_norm() -> Result:
    r"""Overparametrized least squares :math:`\tfrac12\|Ax-y\|^2` from :math:`x_0 = 0`: GD and
    SGD converge to :math:`A^+y` (``linear.gd_limit``); Adam converges to an interpolant whose
    norm is larger, :math:`\|x_\infty^{\mathrm{Adam}}\| > \|A^+y\|`, for generic ``A``.

    Why: every interpolant is :math:`x = A^+y + n` with :math:`n\in\mathcal N(A)`, and
    :math:`\|x\|^2 = \|A^+y\|^2 + \|n\|^2` (Pythagoras: :math:`A^+y\in\mathcal R(A^T)\perp\mathcal N(A)`).
    GD's steps stay in :math:`\mathcal R(A^T)`; Adam's steps :math:`H_k^{-1}m_k` leave it as
    soon as the diagonal metric is not a multiple of the identity. Numeric evidence only.
    """
    na = sym("norm_adam", r"\|x_\infty^{\mathrm{Adam}}\|", nonnegative=True)
    nm = sym("norm_min", r"\|A^{+}y\|", nonnegative=True)
    nn = sym("norm_null", r"\|P_{\mathcal{N}(A)}x_\infty^{\mathrm{Adam}}\|", nonnegative=True)
    return Result(
        id="adaptive.adam_vs_sgd_norm",
        title="least squares from 0: Adam interpolates but its ℓ2 norm exceeds the min-norm (GD/SGD) solution's",
        source=_SEED003,
        statement=sp.Gt(na, nm),
        symbols=(na, nm, nn),
        notes=("Numeric claim (seed 003, 'SGD vs Adam'). The excess is exactly the null-space "
               "part: ‖x‖ = √(‖A⁺y‖² + ‖P_N x‖²) for any interpolant (part pythagoras, with the "
               "bare norm on the left so that numeric() evaluates the whole identity). "
               "Exception: when the metric stays isotropic, H_k = c_k I (e.g. one sample whose "
               "features all have the same magnitude), Adam's steps are multiples of the "
               "gradient, stay in R(Aᵀ), and Adam reaches A⁺y exactly. The seed's network "
               "table (larger ‖θ_end‖ and Lipschitz bound for Adam) is reproduced in miniature "
               "by the figure of this result; it is not a theorem."),
        parts={"pythagoras": sp.Eq(na, sp.sqrt(nm**2 + nn**2))},
        references=("Seed 003, 'SGD vs Adam' and the Adam/SGD table",
                    "Wilson et al., NeurIPS 2017"),
    )
