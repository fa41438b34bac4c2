r"""A theorem of one's own, derived and verified with implreg: GD on a 1-D quadratic.

Statement. Gradient descent with step :math:`\eta` on :math:`L(x) = \tfrac{a}{2}x^2`,
:math:`a > 0`, is :math:`x_{k+1} = x_k - \eta a x_k`, so

.. math:: x_k = (1 - \eta a)^k x_0,

which contracts to the minimum :math:`x = 0` exactly when :math:`|1 - \eta a| < 1`, i.e.
:math:`0 < \eta < 2/a`.

This file is a *plugin*: it registers the result under the user topic ``mytopic`` (any
topic that is not built in) and its numeric check. Run it with::

    python -m verify verify mytopic --plugin examples/my_theorem.py
    python -m verify derive mytopic.gd_contraction --steps --plugin examples/my_theorem.py
    python -m verify figure mytopic.gd_contraction --out gd.png --plugin examples/my_theorem.py

``examples/my_wrong_theorem.py`` states the rate off by one step and fails this same check
with Hypothesis' shrunk counterexample.

References
----------
Y. Nesterov, *Lectures on Convex Optimization* (2018), sec. 1.2.3 (GD on a quadratic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp
from hypothesis import strategies as st

import theory
from numerics import GD, run, to_numpy
from numerics.stability import SumOfQuadratics
from verify import Outcome, check, figure, tolerance
from verify.strategies import log_uniform, step_fractions

SOURCE = "my notes, GD on a 1-D quadratic (Nesterov 2018, sec. 1.2.3)"

# The symbols, with the assumptions the statement needs (they bound Hypothesis' draws too).
a = sp.Symbol("a", positive=True)          # curvature L''(x)
eta = sp.Symbol("eta", positive=True)      # step size
x = sp.Symbol("x", real=True)
x0 = sp.Symbol("x_0", real=True)
xk = sp.Symbol("x_k", real=True)
k = sp.Symbol("k", integer=True, nonnegative=True)


@theory.result("mytopic.gd_contraction", title="GD on a x²/2 contracts as (1 − ηa)^k",
               source=SOURCE, how="derive")
def gd_contraction() -> theory.Result:
    r"""GD on :math:`L(x) = a x^2/2`: :math:`x_k = (1 - \eta a)^k x_0`, a contraction for
    :math:`0 < \eta < 2/a`. Derived with SymPy: the gradient, the recurrence, ``rsolve``,
    the residual of the solution in the recurrence, and the stable step sizes."""
    loss = a * x**2 / 2
    grad = sp.diff(loss, x)
    f = sp.Function("x")
    recurrence = sp.Eq(f(k + 1), f(k) - eta * grad.subs(x, f(k)))
    solution = sp.rsolve(recurrence.lhs - recurrence.rhs, f(k), {f(0): x0})
    # x(k + 1) − (right-hand side at x(k)) must vanish identically in k, a, η, x_0
    residual = sp.simplify(solution.subs(k, k + 1) - recurrence.rhs.subs(f(k), solution))
    if residual != 0:  # the closed form must satisfy the recurrence identically
        raise ArithmeticError(f"rsolve's solution fails the recurrence: residual {residual}")
    stable = sp.solve_univariate_inequality(sp.Abs(1 - eta * a) < 1, eta, relational=True)
    steps = (
        theory.Step("the loss", sp.Eq(sp.Symbol("L"), loss)),
        theory.Step("its gradient L'(x)", sp.Eq(sp.Symbol("g"), grad)),
        theory.Step("GD: x_{k+1} = x_k − η L'(x_k)", recurrence),
        theory.Step("rsolve with x(0) = x_0", sp.Eq(f(k), solution)),
        theory.Step("check: the solution satisfies the recurrence (residual)", residual),
        theory.Step("|1 − ηa| < 1 solved for η > 0: the steps that contract", stable),
    )
    return theory.Result(
        id="mytopic.gd_contraction",
        title="GD on L(x) = a x²/2 contracts as x_k = (1 − ηa)^k x_0",
        source=SOURCE,
        statement=sp.Eq(xk, solution),
        symbols=(xk, x0, a, eta, k),
        conditions=(eta < 2 / a,),
        derivation=steps,
        notes="The closed form holds for every η; it contracts (|1 − ηa| < 1) iff η < 2/a.",
        references=("Nesterov 2018, Lectures on Convex Optimization, sec. 1.2.3",),
    )


# ---------------------------------------------------------------------------- the check
# Parameters are plain numbers, so that a shrunk counterexample reads {'a': 1.0, ...}:
# the curvature, the step as a fraction of the stability limit 2/a, the start, the steps.
params = st.fixed_dictionaries({
    "a": log_uniform(0.1, 10.0),
    "eta_frac": step_fractions(0.05, 0.95),   # η = eta_frac · 2/a, so ηa ∈ [0.1, 1.9]
    "x0": st.floats(0.5, 10.0) | st.floats(-10.0, -0.5),
    "k": st.integers(1, 60),
})


@check("mytopic.gd_contraction", strategy=params, examples=30,
       example={"a": 2.0, "eta_frac": 0.3, "x0": 1.0, "k": 20})
def check_gd_contraction(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """GD run by implreg's replica engine on the quadratic against the claimed x_k."""
    a_, eta_, k_ = p["a"], p["eta_frac"] * 2.0 / p["a"], p["k"]
    model = SumOfQuadratics(xp.asarray([[[a_]]], dtype=xp.float64))   # L(x) = a x²/2
    traj = run(model, GD(eta_), xp.asarray([[p["x0"]]], dtype=xp.float64), k_, record=())
    observed = float(to_numpy(traj.x)[0, 0])
    predicted = float(to_numpy(result.numeric(xp)(x_0=p["x0"], a=a_, eta=eta_, k=float(k_))))
    # Floating-point error, derived. One GD step computes fl(x − fl(η·fl(a·x))): three
    # roundings, |x̂_{j+1} − ρx̂_j| ≤ c·u·|x̂_j| with ρ = 1 − ηa, u = ε/2 and
    # c = 2ηa + |ρ| ≤ 4.7 (ηa ≤ 1.9). The errors add up through the contraction:
    # |x̂_k − ρ^k x_0| ≤ Σ_j |ρ|^{k−1−j} c u |x̂_j| ≤ k·c·u·(|ρ| + c u)^{k−1}|x_0|.
    # The prediction rounds ρ (|δρ| ≤ (ηa + |ρ|)u ≤ 2.8u, amplified k|ρ|^{k−1} times by the
    # power) and the power and the product with x_0 (≤ 3u|ρ|^k|x_0|). In all
    # |observed − predicted| ≤ 10.5·k·u·(|ρ| + 5u)^{k−1}|x_0|; floating_point's default
    # 10·ops·ε·scale = 20·k·u·scale covers it with a factor 2 to spare. When ηa ≈ 1 the
    # iterates can go subnormal, where rounding is absolute: below half the subnormal
    # spacing 2^-1074 per operation, 6 operations per step (3 simulated, 3 predicted).
    rho = abs(1.0 - eta_ * a_)
    scale = (rho + 5 * tolerance.EPS64 / 2) ** (k_ - 1) * abs(p["x0"])
    tol = tolerance.combine(
        tolerance.floating_point(scale, ops=k_),
        tolerance.Tolerance(6 * k_ * 2.0**-1074, "underflow: ≤ 2^-1074 per operation, 6k of them"),
    )
    return Outcome.close(predicted, observed, tol, quantity="x_k of GD vs the stated x_k",
                         rate=1.0 - eta_ * a_)


# ---------------------------------------------------------------------------- the figure
@figure("mytopic.gd_contraction")
def figure_gd_contraction(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """|x_k| of GD for three step sizes against the claimed (1 − ηa)^k |x_0|."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5, 3.4))
    model = SumOfQuadratics(xp.asarray([[[p["a"]]]], dtype=xp.float64))
    for frac in (0.05, p["eta_frac"], 0.85):  # example: ηa = 0.1, 0.6, 1.7
        eta_ = frac * 2.0 / p["a"]
        traj = run(model, GD(eta_), xp.asarray([[p["x0"]]], dtype=xp.float64), p["k"],
                   record=("x",))
        steps = np.asarray(traj.steps, dtype=np.float64)
        ax.semilogy(steps, np.abs(to_numpy(traj.records["x"])[:, 0, 0]), "o", ms=3,
                    label=f"GD, ηa = {eta_ * p['a']:.2g}")
        claimed = to_numpy(result.numeric(xp)(x_0=p["x0"], a=p["a"], eta=eta_,
                                              k=xp.asarray(steps)))
        ax.semilogy(steps, np.abs(claimed), "k-", lw=0.8)
    ax.set_xlabel("step k")
    ax.set_ylabel("|x_k|")
    ax.set_title("GD on a x²/2: simulated (dots), (1 − ηa)^k x₀ (lines)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
