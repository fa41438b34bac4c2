r"""The seeds' printed formulas, transcribed as printed, with the verdict the Results' notes
record for each.

Each :class:`SeedFormula` names the Result (and part) it is compared with, the seed and the
place it was printed, the LaTeX as printed (only the right-hand side where the seed's
relation is ``\lesssim`` or ``\approx``, which say "up to constants"), the symbol map the
comparison needs, and the expected verdict: ``"agrees"`` or the kind of correction and its
value. ``note`` is a phrase of the Result's ``notes`` that records the correction (or, for a
formula that agrees, that the printed form is the one derived); ``tests/theory/test_compare.py``
checks that the notes contain it, and that :func:`theory.compare` returns the verdict.

Examples
--------
>>> from theory.seed_formulas import SEED_FORMULAS
>>> len(SEED_FORMULAS) >= 12
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SEED_FORMULAS", "SeedFormula", "for_result", "symbols_for"]


@dataclass(frozen=True)
class SeedFormula:
    """One printed formula of a seed and the verdict its Result's notes record.

    Parameters
    ----------
    id
        The Result it is compared with.
    latex
        The formula as printed.
    seed
        The seed file's number (``"000"`` … ``"004"``).
    where
        Where the seed prints it.
    kind
        The expected ``kind`` of the :class:`theory.Verdict`.
    correction
        SymPy source of the expected factor or term, in the Result's symbols.
    part
        The part compared with (``None``: the statement).
    symbols
        The ``symbols=`` map (:func:`symbols_for` turns ``("free", ...)`` into a symbol).
    note
        A phrase of the Result's notes that records the verdict.
    """

    id: str
    latex: str
    seed: str
    where: str
    kind: str
    correction: str | None = None
    part: str | None = None
    symbols: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def __repr__(self) -> str:
        return (f"SeedFormula({self.id}{'[' + self.part + ']' if self.part else ''}: "
                f"{self.latex!r} ({self.seed}, {self.where}) -> {self.kind})")


_N_FREE = {"n": ("free", "positive")}  # a symbol of the seed's own (R(θ) prints 1/(2n))

SEED_FORMULAS: tuple[SeedFormula, ...] = (
    SeedFormula(
        "kernels.arccos1_gaussian",
        r"\|\mathbf{b}\| \|\mathbf{b}'\| (\sin \theta + (\pi - \theta) \cos \theta)",
        "000", "eq. (15)", "constant factor", "1/(2*pi)",
        note="without the factor 1/(2π)"),
    SeedFormula(
        "kernels.arccos1_sphere",
        r"\|\mathbf{b}\| \|\mathbf{b}'\| (\sin \theta + (\pi - \theta) \cos \theta)",
        "000", "eq. (15), x ~ Unif(S^{d-1})", "factor", "1/(2*pi*d)",
        note="omits both constants"),
    SeedFormula(
        "linear.gradient_flow",
        r"a_j(t) = a_j(0)e^{-t\sigma_j^2/n} + \frac{z_j}{\sigma_j}(1 - e^{-t\sigma_j^2/n})",
        "000", "proof of the min-norm theorem", "agrees",
        note="the closed form is for the flow as printed"),
    SeedFormula(
        "linear.generalization_error",
        r"2 (a_j^*)^2 e^{-2\sigma_j^2 t/n} + 2 \frac{\varepsilon^2}{\sigma_j^2} "
        r"(1 - e^{-\sigma_j^2 t/n})^2",
        "000", "bound on e(t), one mode, in expectation (E(u_j^T ξ)^2 = ε^2, its next line)",
        "constant factor", "1/2", part="mode", note="without the 2s"),
    SeedFormula(
        "linear.generalization_error", r"\frac{\varepsilon^2}{\sigma_j^2}",
        "000", "E[e(∞)], one mode", "agrees", part="mode_limit",
        note="the identity is exact"),
    SeedFormula(
        "linear.early_stopping", r"e^{-2\sigma_1^2 t/n} + \varepsilon^2 t",
        "000", "slow-deterioration theorem (right of ≲)", "term factor", "r/n", part="bound",
        note="Seed 000 writes E e(t) ≲ e^{−2σ₁²t/n} + ε²t"),
    SeedFormula(
        "linear.early_stopping",
        r"\frac{n\varepsilon^2}{\sigma_1^2} \log^2\left(\frac{2\sigma_1^2}{n\varepsilon^2}\right)",
        "000", "E[e(T_0)] (right of ≲)", "no simple correction", part="bound_at_T_0",
        note="one log, where the seed prints log²"),
    SeedFormula(
        "stability.sgd_1d_moments", r"(1 - \eta a)^2 + \eta^2 s^2",
        "000", "eq. (22)", "term factor", "(n - B)/(B*(n - 1))", part="second_moment_factor",
        note="Seed eq. (22) is the B = 1 case"),
    SeedFormula(
        "stability.sgd_1d_moments", r"(1 - \eta a)^2 + \frac{\eta^2(n - B)}{B(n - 1)} s^2",
        "000", "eq. (23), left side", "agrees", part="second_moment_factor",
        note="the derivation uses P(i,j ∈ 𝓑)"),
    SeedFormula(
        "stability.sgd_threshold", r"\frac{1}{\eta} \sqrt{\frac{B(n - 1)}{n - B}}",
        "000", "necessary condition on s", "agrees", part="necessary_nonuniformity",
        note="s ≤ s_max is necessary"),
    SeedFormula(
        "stability.sgd_threshold", r"\frac{\sqrt{B}}{\eta}",
        "000", "necessary condition on s, its '≈'", "no simple correction",
        "sqrt((n - 1)/(n - B))", part="necessary_nonuniformity",
        note="The seed's '≈ √B/η' holds for n ≫ B"),
    SeedFormula(
        "data.escape", r"\frac{\sqrt{B}}{\eta}",
        "000", "escape experiment, √100/0.1", "agrees", part="threshold_large_n",
        note="√B/η = 100"),
    SeedFormula(
        "stability.preconditioned", r"\lambda_{\max}(D^{-1}H) \leq 2/\eta",
        "000", "quasi-Newton extension", "agrees", note="λ_max(D⁻¹H) ≈ 1"),
    SeedFormula(
        "sharpness.pac_bayes", r"\frac{\sigma^2}{2} \text{Tr}[\nabla^2 L(\tilde{x})]",
        "001", "PAC-Bayes sharpness (right of ≈)", "agrees",
        symbols={r"\text{Tr}[\nabla^2 L(\tilde{x})]": "tr_H"},
        note="Seed 001 states it for small σ"),
    SeedFormula(
        "label_noise.regularizer",
        r"\frac{1}{2n} \text{tr} \log \left( I - \frac{\eta}{2} \nabla^2 L(\theta) \right)",
        "002", "R(θ), on one eigenvalue λ_j of ∇²L", "factor", "-n/eta", part="eigen_term",
        symbols={r"\text{tr} \log \left( I - \frac{\eta}{2} \nabla^2 L(\theta) \right)":
                 r"\log(1 - \frac{\eta}{2} \lambda_j)", **_N_FREE},
        note="the prefactor must be −1/(2η)"),
    SeedFormula(
        "label_noise.regularizer", r"\frac{1}{4} \text{tr } \nabla^2 L(\theta)",
        "002", "R(θ) for η → 0", "missing term", "eta*tr_hess2/16", part="series",
        symbols={r"\text{tr } \nabla^2 L(\theta)": "tr_hess"},
        note="the seed's own small-η limit ¼Tr ∇²L"),
    SeedFormula(
        "label_noise.quadratic_model_trace",
        r"\frac{4}{n} \sum_{i=1}^n \left\| \nabla f_{z_i}(u, v) \right\|_2^2",
        "001", "the regularizer, middle of its chain (‖∇f_{z_i}‖² from ∇f_{z_i} = 2(z_i⊙u, "
        "−z_i⊙v) printed above it, |z_i| = 1)", "constant factor", "1/4",
        symbols={r"\left\| \nabla f_{z_i}(u, v) \right\|_2^2": r"4(\|u\|_2^2 + \|v\|_2^2)",
                 **_N_FREE},
        note="the factor 4 is spurious"),
    SeedFormula(
        "label_noise.quadratic_model_trace", r"4(\|u\|_2^2 + \|v\|_2^2)",
        "001", "the regularizer's final value", "agrees", note="its final value is right"),
    SeedFormula(
        "adaptive.adam_update", r"\hat{m}_k = b_m \hat{m}_{k-1} + (1 - b_m) g_k",
        "003", "Adam summary, step 2", "agrees", part="first_moment",
        note="Kingma & Ba, Algorithm 1"),
    SeedFormula(
        "adaptive.adam_update", r"-\gamma m_k / (\sqrt{v_k} + \epsilon \mathbf{1})",
        "003", "Adam summary, step 6 (the increment x_{k+1} − x_k), with its steps 4–5",
        "agrees", part="step",
        symbols={"m_k": r"\frac{\hat{m}_k}{1 - b_m^k}", "v_k": r"\frac{\hat{v}_k}{1 - b_v^k}"},
        note="the k-th moments update the iterate they were computed from"),
    SeedFormula(
        "adaptive.adam_update", r"\sqrt{\frac{\hat{v}_k}{1 - b_v^k}} + \epsilon",
        "003", "Adam's metric H_k, one coordinate", "agrees", part="metric",
        note="ε > 0 keeps H_k positive definite"),
)


def for_result(id: str) -> tuple[SeedFormula, ...]:
    """The transcribed formulas compared with Result ``id``."""
    return tuple(f for f in SEED_FORMULAS if f.id == id)


def symbols_for(formula: SeedFormula) -> dict[str, Any]:
    """The ``symbols=`` map of ``formula`` for :func:`theory.compare` (a free symbol of the
    seed's own becomes a positive SymPy symbol)."""
    import sympy as sp  # noqa: PLC0415

    out: dict[str, Any] = {}
    for key, value in formula.symbols.items():
        if isinstance(value, tuple) and value and value[0] == "free":
            out[key] = sp.Symbol(key, **{a: True for a in value[1:]})
        else:
            out[key] = value
    return out
