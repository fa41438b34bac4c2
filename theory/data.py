r"""The seeds' empirical claims on real data, with the thresholds they are tested against.

These are *stated* results: the seeds report them from experiments (FashionMNIST, MNIST,
CIFAR-10), and the toolkit's evidence is a laptop-scale reproduction on scikit-learn's 8x8
digits (``verify/checks/data.py``). Each result carries the threshold the measurement is
compared with, re-derived here in a few SymPy steps (the full stability derivations are the
``stability.*`` results: ``stability.gd_threshold`` and ``stability.sgd_threshold``), and
the seed's table as a ``seed_table`` part (a SymPy matrix; ``nan`` where the seed has no
entry) so that reports print the measured table beside it.

Conventions. :math:`L(\theta) = \frac1n\sum_i\ell_i(\theta)`; sharpness
:math:`a = \lambda_{\max}(\nabla^2L)`; non-uniformity :math:`s = \lambda_{\max}(\Sigma)^{1/2}`,
:math:`\Sigma = \frac1n\sum_i H_i^2 - H^2`, :math:`H_i = \nabla^2\ell_i`; batch size ``B``
drawn without replacement.

References
----------
seed 000 (L. Wu, *Towards understanding the implicit regularization in deep learning*, 2020;
Wu, Ma & E, NeurIPS 2018; Keskar et al., ICLR 2017; Zhang et al., ICLR 2017), seed 003
(P. Giselsson, *SGD: implicit regularization*), memo 004 (Zhang, Liao, Rakhlin et al.,
*Theory of deep learning III*, CBMM memo 067, table 1).
"""

from __future__ import annotations

import sympy as sp

from theory._registry import result
from theory._result import Result, Step
from theory._symbols import sym

__all__ = ["SEED_TABLES"]

_SEED000 = "seed 000 (Wu 2020; Wu, Ma & E 2018)"
_SEED000_KESKAR = "seed 000 (Keskar et al. 2017, table 2; Wu, Ma & E 2018)"
_SEED000_ZHANG = "seed 000 (Zhang et al. 2017) and memo 004 (table 1, eq. 11)"
_SEED003 = "seed 003 (Giselsson, Adam vs SGD from different initial points)"

eta = sym("eta", r"\eta", positive=True)
a = sym("a", r"a", nonnegative=True)
s = sym("s", r"s", nonnegative=True)
n = sym("n", integer=True, positive=True)
B = sym("B", integer=True, positive=True)
eps = sym("epsilon", r"\varepsilon", positive=True)
q = sym("q", r"\delta^T H \delta", positive=True)

#: The seeds' tables as plain numbers (mean, ± spread where the seed gives one).
SEED_TABLES: dict[str, dict[str, object]] = {
    "sharpness_vs_lr": {
        "eta": (0.01, 0.05, 0.1, 0.5, 1.0),
        "FashionMNIST": ((53.5, 4.3), (39.3, 0.5), (19.6, 0.15), (3.9, 0.0), (1.9, 0.0)),
        "CIFAR10": ((198.9, 0.6), (39.8, 0.2), (19.8, 0.1), (3.6, 0.4), None),
    },
    "escape": {
        # dataset: (lr, test acc %, sharpness, non-uniformity); SGD batch 100: sqrt(B)/eta = 100
        "FashionMNIST": (0.1, 80.04, 19.7, 45.2),
        "Corrupted FashionMNIST": (0.1, 71.44, 19.9, 51.7),
        "batch": 100,
    },
    "batch_size": {
        # Keskar et al. table 2 (seed 000): name -> (train SB, train LB, test SB, test LB) in %
        "F1": (99.66, 99.92, 98.03, 97.81), "F2": (99.99, 98.35, 64.02, 59.45),
        "C1": (99.89, 99.66, 80.04, 77.26), "C2": (99.99, 99.99, 89.24, 87.26),
        "C3": (99.56, 99.88, 49.58, 46.45), "C4": (99.10, 99.57, 63.08, 57.81),
    },
    "random_labels": {
        # memo 004 table 1: flatness radius (eps = 0.05), all params, mean ± std
        "MNIST": ((45.4, 2.7), (6.9, 1.0)), "CIFAR-10": ((17.0, 2.4), (5.7, 1.0)),
        # seed 000 (Zhang et al.): Inception on CIFAR-10, random labels: train 100.0, test 9.78
        "CIFAR-10 random labels accuracy": (100.0, 9.78),
    },
    "adam_vs_sgd": {
        # sigma: (Adam |theta_0|, |theta_end|, L_m, SGD |theta_0|, |theta_end|, L_m)
        0.01: (3.6, 17.4, 9.3e7, 3.57, 9.9, 8.4e4),
        0.1: (3.9, 16.2, 4.5e7, 3.8, 10.4, 2.0e5),
        1.0: (10.7, 18.7, 4.3e7, 10.8, 14.4, 2.4e5),
        5.0: (54.61, 54.61, 1.9e12, 54.2, 49.5, 1.9e12),
        10.0: (109.278, 109.282, 3.8e16, 107.2, 96.2, 1.6e15),
    },
}


def _num(x: object) -> sp.Expr:
    return sp.nan if x is None else sp.Float(x, 6)


def _gd_threshold_steps() -> tuple[sp.Expr, list[Step]]:
    """a ≤ 2/η from |1 − ηa| ≤ 1 (the 1-D GD map x ↦ (1 − ηa)x), as in stability.gd_threshold."""
    region = sp.solve_univariate_inequality(sp.Abs(1 - eta * a) <= 1, a, relational=False)
    upper = region.sup
    if sp.simplify(upper - 2 / eta) != 0:
        raise ArithmeticError(f"GD stability region has supremum {upper}, expected 2/eta")
    return upper, [Step("GD on a quadratic of curvature a: |1 − ηa| ≤ 1, solved for a ≥ 0",
                        sp.Eq(sp.Symbol("a_max"), upper))]


def _sgd_threshold_steps() -> tuple[sp.Expr, list[Step]]:
    """s ≤ √(B(n−1)/(n−B))/η: the SGD second-moment factor ≤ 1 at its most favourable a."""
    c = (n - B) / (B * (n - 1))
    factor = (1 - eta * a) ** 2 + eta**2 * c * s**2
    a_best = sp.solve(sp.diff(factor, a), a)[0]            # a = 1/η minimises the factor
    at_best = sp.simplify(factor.subs(a, a_best))           # η² c s²
    # Two roots ±s*; keep the one without a leading minus sign (s ≥ 0, and B < n makes the
    # radicand B(n − 1)/(n − B) positive).
    s_max = [r for r in sp.solve(sp.Eq(at_best, 1), s) if not r.could_extract_minus_sign()]
    if len(s_max) != 1:
        raise ArithmeticError(f"expected one positive root for s; got {s_max}")
    s_star = sp.simplify(s_max[0])
    expected = sp.sqrt(B * (n - 1) / (n - B)) / eta
    if sp.simplify(s_star**2 - expected**2) != 0:
        raise ArithmeticError(f"SGD threshold {s_star} disagrees with sqrt(B(n-1)/(n-B))/eta")
    large_n = sp.limit(expected, n, sp.oo)
    steps = [
        Step("SGD second-moment factor of a 1-D quadratic (stability.sgd_1d_moments)", factor),
        Step("minimised over a: d/da = 0", sp.Eq(a, a_best)),
        Step("factor ≤ 1 at a = 1/η, solved for s ≥ 0", sp.Eq(s, s_star)),
        Step("n → ∞", sp.Eq(s, large_n)),
    ]
    return expected, steps + [Step("large-n form", large_n)]


@result("data.sharpness_vs_lr", title="GD with step η ends at sharpness ≤ 2/η, close to it for large η",
        source=_SEED000, how="numeric")
def sharpness_vs_lr() -> Result:
    r"""GD with a fixed step :math:`\eta` on a network selects minima with sharpness
    :math:`a \le 2/\eta`, and :math:`a \approx 2/\eta` once :math:`2/\eta` is below the
    sharpness GD would otherwise reach (seed 000's table)."""
    upper, steps = _gd_threshold_steps()
    t = SEED_TABLES["sharpness_vs_lr"]
    rows = [[_num(e), _num(f[0]), _num(f[1]), _num(c[0] if c else None), _num(c[1] if c else None),
             sp.Rational(2) / sp.nsimplify(e)]
            for e, f, c in zip(t["eta"], t["FashionMNIST"], t["CIFAR10"])]
    return Result(
        id="data.sharpness_vs_lr",
        title="GD with step η ends at sharpness a ≤ 2/η, and a ≈ 2/η for the larger η",
        source=_SEED000,
        statement=sp.Le(a, upper),
        symbols=(a, eta),
        notes=("Stated from seed 000's experiment (quadratic loss, fixed learning rate, 5 random "
               "initialisations): sharpness 53.5, 39.3, 19.6, 3.9, 1.9 on FashionMNIST and 198.9, "
               "39.8, 19.8, 3.6 on CIFAR-10 for η = 0.01, 0.05, 0.1, 0.5, 1 against 2/η = 200, 40, "
               "20, 4, 2. The bound is the GD linear-stability threshold (stability.gd_threshold), "
               "re-derived here in one step. The toolkit reproduces the table on the 8x8 digits."),
        derivation=tuple(steps),
        parts={"threshold": upper,
               "seed_table": sp.Matrix(rows)},  # eta, FMNIST mean, ±, CIFAR mean, ±, 2/eta
        explains=("seed_table",),
        references=("Seed 000, table 'Sharpness of the solutions found by GD with different "
                    "learning rates'", "Cohen et al., ICLR 2021 (edge of stability)"),
    )


@result("data.escape", title="SGD escapes GD minima whose non-uniformity exceeds √B/η",
        source=_SEED000, how="numeric")
def escape() -> Result:
    r"""From a GD minimum, SGD with the same :math:`\eta` and batch ``B`` escapes (the loss
    jumps) when the minimum violates the SGD stability condition, and settles at a minimum
    with :math:`s \le \sqrt{B(n-1)/(n-B)}/\eta \approx \sqrt B/\eta`."""
    s_star, steps = _sgd_threshold_steps()
    c = (n - B) / (B * (n - 1))
    t = SEED_TABLES["escape"]
    rows = [[_num(v) for v in t[k]] for k in ("FashionMNIST", "Corrupted FashionMNIST")]
    return Result(
        id="data.escape",
        title="SGD escapes a GD minimum that violates its stability condition and finds one with s ≤ √B/η",
        source=_SEED000,
        statement=sp.Le(s, s_star),
        symbols=(s, eta, n, B, a),
        conditions=(B < n,),
        notes=("Stated from seed 000 (escape from GD minima on FashionMNIST and corrupted "
               "FashionMNIST, η = 0.1, B = 100, √B/η = 100). The seed's initial minima have "
               "s = 45.2 and 51.7 < 100, so the necessary condition s ≤ √B/η alone does not "
               "predict their escape; the full condition (1 − ηa)² + η²(n−B)/(B(n−1)) s² ≤ 1 "
               "does, because a ≈ 2/η makes (1 − ηa)² ≈ 1 (0.98 + 0.27 > 1 for the corrupted "
               "case with n = 60 000). The check therefore predicts escape with the full factor "
               "(part `stability_factor`, the 1-D form of stability.sgd_threshold) and tests "
               "the selected minimum against the necessary bound."),
        derivation=tuple(steps),
        parts={"threshold": s_star,
               "threshold_large_n": sp.sqrt(B) / eta,
               "stability_factor": (1 - eta * a) ** 2 + eta**2 * c * s**2,
               "seed_table": sp.Matrix(rows)},  # lr, test acc, sharpness, non-uniformity
        explains=("seed_table",),
        references=("Seed 000, 'Back to the escape phenomenon' tables",
                    "Wu, Ma & E, NeurIPS 2018, section 4"),
    )


@result("data.batch_size", title="smaller batches select minima with smaller non-uniformity",
        source=_SEED000_KESKAR, how="numeric")
def batch_size() -> Result:
    r"""At fixed :math:`\eta`, SGD's minima lie in the region :math:`a \le 2/\eta`,
    :math:`s \le \sqrt{B(n-1)/(n-B)}/\eta` (the sharpness–non-uniformity diagram), which
    shrinks with the batch size: smaller batches select smaller non-uniformity."""
    s_star, steps = _sgd_threshold_steps()
    upper, gsteps = _gd_threshold_steps()
    dB = sp.simplify(sp.diff(s_star**2, B))
    # d(s*²)/dB = n(n−1)/(η²(n−B)²) > 0: the admissible region grows with B.
    if not sp.simplify(dB - n * (n - 1) / (eta**2 * (n - B) ** 2)) == 0:
        raise ArithmeticError(f"unexpected derivative of the threshold in B: {dB}")
    t = SEED_TABLES["batch_size"]
    rows = [[_num(v) for v in t[k]] for k in ("F1", "F2", "C1", "C2", "C3", "C4")]
    return Result(
        id="data.batch_size",
        title="smaller batches select minima with smaller non-uniformity (and sharpness); SB vs LB test accuracy",
        source=_SEED000_KESKAR,
        statement=sp.And(sp.Le(a, upper), sp.Le(s, s_star)),
        symbols=(a, s, eta, n, B),
        conditions=(B < n,),
        notes=("Stated from seed 000 (influence of the batch size on sharpness and "
               "non-uniformity; Keskar et al.'s small-batch vs large-batch table: test accuracy "
               "SB > LB on all six networks). The admissible region's s-bound increases with B "
               "(part `dthreshold_dB` > 0), so smaller B forces smaller non-uniformity. The "
               "seed's Keskar table uses ADAM; the toolkit uses plain SGD as in Wu et al."),
        derivation=tuple(gsteps + steps + [Step("d(s*²)/dB", dB)]),
        parts={"threshold": s_star, "sharpness_threshold": upper, "dthreshold_dB": dB,
               "seed_table": sp.Matrix(rows)},  # train SB, train LB, test SB, test LB (%)
        explains=("seed_table",),
        references=("Keskar et al., ICLR 2017, table 2", "Wu, Ma & E, NeurIPS 2018, figs. 3-4"),
    )


@result("data.random_labels", title="random labels: fit, chance test accuracy, smaller flatness radius",
        source=_SEED000_ZHANG, how="numeric")
def random_labels() -> Result:
    r"""Networks fit random labels to 100 % training accuracy with chance-level test accuracy,
    and the minima they reach have a smaller flatness radius (memo 004 eq. 11,
    :math:`\varepsilon = 0.05`) than those for natural labels."""
    r_nat = sym("r_natural", r"r_{\mathrm{natural}}", positive=True)
    r_rand = sym("r_random", r"r_{\mathrm{random}}", positive=True)
    r = sym("r", positive=True)
    # Quadratic model of the radius along δ: (r²/2) δᵀHδ = ε.
    roots = [x for x in sp.solve(sp.Eq(r**2 * q / 2, eps), r) if x.is_positive]
    t = SEED_TABLES["random_labels"]
    rows = [[_num(t[k][0][0]), _num(t[k][0][1]), _num(t[k][1][0]), _num(t[k][1][1])]
            for k in ("MNIST", "CIFAR-10")]
    return Result(
        id="data.random_labels",
        title="random labels are fit (100 % train, chance test) at minima with a smaller flatness radius",
        source=_SEED000_ZHANG,
        statement=sp.StrictGreaterThan(r_nat, r_rand),
        symbols=(r_nat, r_rand, eps, q, r),
        notes=("Stated from memo 004 table 1 (flatness radius with ε = 0.05, all parameters: "
               "MNIST 45.4 ± 2.7 natural vs 6.9 ± 1.0 random; CIFAR-10 17.0 ± 2.4 vs 5.7 ± 1.0) "
               "and seed 000's Zhang et al. table (random labels: train 100.0 %, test 9.78 %). "
               "The radius is r(w, δ, ε) = sup{r : |L(w) − L(w + rδ)| ≤ ε} (memo eq. 11) averaged "
               "over random unit δ; for a quadratic it is √(2ε/δᵀHδ) "
               "(sharpness.flatness_radius)."),
        derivation=(Step("quadratic model: (r²/2)δᵀHδ = ε solved for r > 0", sp.Eq(r, roots[0])),),
        parts={"quadratic_radius": roots[0], "chance_accuracy": sp.Rational(1, 10),
               "seed_table": sp.Matrix(rows)},  # natural mean, ±, random mean, ± (MNIST, CIFAR)
        explains=("seed_table",),
        references=("Memo 004 (CBMM memo 067), eq. (11) and table 1",
                    "Zhang et al., ICLR 2017, table 1"),
    )


@result("data.adam_vs_sgd", title="Adam vs SGD from init scales σ: norms, Lipschitz bound, sharpness",
        source=_SEED003, how="numeric")
def adam_vs_sgd() -> Result:
    r"""From the same initial points (scaled by :math:`\sigma`), Adam reaches models with a
    larger Lipschitz upper bound :math:`L_m = \prod_l\|W_l\|_2` and sharper minima than SGD
    (seed 003's table and landscape plots)."""
    L = sym("L", integer=True, positive=True)
    l = sym("l", integer=True, positive=True)
    Wn = sp.IndexedBase("w", positive=True)  # w_l = ‖W_l‖₂
    bound = sp.Product(Wn[l], (l, 1, L))
    lip_adam = sym("L_Adam", r"L_m^{\mathrm{Adam}}", positive=True)
    lip_sgd = sym("L_SGD", r"L_m^{\mathrm{SGD}}", positive=True)
    t = SEED_TABLES["adam_vs_sgd"]
    rows = [[_num(sig), *(_num(v) for v in t[sig])] for sig in t]
    return Result(
        id="data.adam_vs_sgd",
        title="Adam reaches a larger Lipschitz bound ∏‖W_l‖₂ and sharper minima than SGD from the same init",
        source=_SEED003,
        statement=sp.StrictGreaterThan(lip_adam, lip_sgd),
        symbols=(lip_adam, lip_sgd, L, l),
        notes=("Stated from seed 003 (17-layer residual ReLU network, hinge loss; Adam L_m = "
               "9.3e7, 4.5e7, 4.3e7, 1.9e12, 3.8e16 vs SGD 8.4e4, 2.0e5, 2.4e5, 1.9e12, 1.6e15 for "
               "σ = 0.01, 0.1, 1, 5, 10; ‖θ_end‖ larger for Adam at every σ; Adam's minimum at "
               "σ = 10 much sharper). L_m is the upper bound ∏_l ‖W_l‖₂ on the Lipschitz constant "
               "of x ↦ m(x; θ) (ReLU is 1-Lipschitz). The toolkit's network has no residual "
               "layers, so σ multiplies a He initialisation of every layer (the seed scales "
               "non-residual layers by max(1, σ))."),
        parts={"lipschitz_bound": bound,
               "seed_table": sp.Matrix(rows)},  # sigma, Adam (θ0, θend, L_m), SGD (θ0, θend, L_m)
        explains=("seed_table",),
        references=("Seed 003, 'Convergence from different initial point' and 'Conclusions'",
                    "Wilson et al., NeurIPS 2017"),
    )
