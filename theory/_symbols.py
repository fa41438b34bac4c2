"""Symbols whose Python name is an identifier and whose LaTeX is the paper's notation."""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["function", "matrix", "plain_text", "sym", "symbols"]


class _Named(sp.Symbol):
    """A SymPy symbol that prints as a chosen LaTeX string (``a_star_j`` -> ``a^*_j``)."""

    _latex_form: str

    def __new__(cls, name: str, latex: str, **assumptions: Any) -> "_Named":
        obj = super().__new__(cls, name, **assumptions)
        obj._latex_form = latex
        return obj

    def __getnewargs_ex__(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (self.name, self._latex_form), self.assumptions0

    def _latex(self, printer: Any) -> str:
        return self._latex_form

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm  # noqa: PLC0415

        return prettyForm(self._unicode())

    def _unicode(self) -> str:
        return plain_text(self._latex_form)


# LaTeX commands and their plain-text (Unicode) forms, for the text printers.
_UNICODE = {
    "varepsilon": "ε", "epsilon": "ε", "eta": "η", "lambda": "λ", "sigma": "σ", "theta": "θ",
    "gamma": "γ", "delta": "δ", "alpha": "α", "beta": "β", "mu": "μ", "pi": "π", "rho": "ρ",
    "tau": "τ", "kappa": "κ", "nu": "ν", "xi": "ξ", "phi": "φ", "psi": "ψ", "omega": "ω",
    "Sigma": "Σ", "Psi": "Ψ", "Delta": "Δ", "Gamma": "Γ", "Lambda": "Λ", "Phi": "Φ",
    "Omega": "Ω", "Theta": "Θ", "infty": "∞", "nabla": "∇", "partial": "∂", "to": "→",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "mid": "|", "top": "ᵀ", "perp": "⊥",
    "cdot": "·", "times": "×", "in": "∈", "sum": "Σ", "prod": "Π", "ell": "ℓ",
}


def plain_text(latex: str) -> str:
    r"""A readable plain-text form of a LaTeX symbol name, for ``str`` and ``pretty``.

    Greek letters and operators become Unicode (``\lambda`` → λ, ``\nabla`` → ∇,
    ``\|x\|`` → ‖x‖), font and decoration commands are dropped (``\mathbb{E}`` → E,
    ``\hat{x}`` → x), ``^{*}`` → ``*``, braces go; no backslash is left.

    Examples
    --------
    >>> plain_text(r"\mathbb{E}[\|x_{t+1}\|^2 \mid x_t]")
    'E[‖x_t+1‖^2 | x_t]'
    >>> plain_text(r"\lambda_{\max}(H^{-1/2}\nabla^2 f\,H^{-1/2})")
    'λ_max(H^-1/2∇^2 f H^-1/2)'
    """
    import re  # noqa: PLC0415

    out = latex.replace(r"\|", "‖").replace(r"\{", "\x00").replace(r"\}", "\x01")
    out = re.sub(r"\\[,;:! ]", " ", out)
    out = re.sub(r"\\(left|right|big|Big|bigg|Bigg)\b", "", out)
    out = re.sub(r"\\(mathbb|mathcal|mathrm|mathbf|mathsf|boldsymbol|operatorname|text|hat|"
                 r"widehat|bar|overline|tilde|widetilde|vec|dot)\s*(\{([^{}]*)\}|(\\?\w))",
                 lambda m: m.group(3) if m.group(3) is not None else m.group(4), out)
    out = re.sub(r"\^\{\*\}|\^\*", "*", out)
    out = re.sub(r"\\([A-Za-z]+)", lambda m: _UNICODE.get(m.group(1), m.group(1)), out)
    out = out.replace("{", "").replace("}", "").replace("\\", "")
    out = out.replace("\x00", "{").replace("\x01", "}")  # literal braces, \{ \}
    return re.sub(r"\s+", " ", out).strip()


def sym(name: str, latex: str | None = None, **assumptions: Any) -> sp.Symbol:
    """A symbol named ``name`` (a Python identifier: it becomes a keyword argument of
    ``Result.numeric``) printing as ``latex`` in LaTeX."""
    if not name.isidentifier():
        raise ValueError(f"symbol name must be a Python identifier; got {name!r}")
    if latex is None:
        return sp.Symbol(name, **assumptions)
    return _Named(name, latex, **assumptions)


def symbols(names: str, **assumptions: Any) -> tuple[sp.Symbol, ...]:
    """Several plain symbols sharing assumptions (``sympy.symbols`` with a tuple result)."""
    out = sp.symbols(names, **assumptions)
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


class _NamedMatrix(sp.MatrixSymbol):
    """A matrix symbol whose name is a Python identifier (it becomes an argument of
    ``Result.numeric``) and which prints as the paper's notation in LaTeX.

    The LaTeX form is looked up by name, so a matrix rebuilt from its arguments (a mutant,
    a pickle, a shape substitution) keeps it."""

    _LATEX: dict[str, str] = {}

    def _latex(self, printer: object) -> str:
        return self._LATEX.get(self.name, self.name)

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm  # noqa: PLC0415

        return prettyForm(plain_text(self._LATEX.get(self.name, self.name)))

    def sort_key(self, order: Any = None) -> Any:
        # Terms are ordered by the paper's notation, as when the LaTeX was the name (so a
        # sum prints its terms in the same order as before the names became identifiers).
        return sp.MatrixSymbol(self._LATEX.get(self.name, self.name), *self.shape).sort_key(order)


def matrix(name: str, latex: str, rows: Any, cols: Any) -> sp.MatrixSymbol:
    """A ``rows × cols`` matrix symbol named ``name`` (an identifier) printing as ``latex``."""
    if not name.isidentifier():
        raise ValueError(f"matrix symbol name must be a Python identifier; got {name!r}")
    if _NamedMatrix._LATEX.get(name, latex) != latex:
        raise ValueError(f"matrix symbol {name!r} already prints as "
                         f"{_NamedMatrix._LATEX[name]!r}; got {latex!r} (one LaTeX form per name)")
    _NamedMatrix._LATEX[name] = latex
    return _NamedMatrix(name, rows, cols)


def function(name: str, latex: str) -> Any:
    """An undefined function named ``name`` (an identifier) printing as ``latex`` applied to
    its arguments in LaTeX (``\\nabla_{1}k{\\left(b_{j},b_{l} \\right)}``) and as the plain
    text of ``latex`` in ``pretty``."""
    if not name.isidentifier():
        raise ValueError(f"function name must be a Python identifier; got {name!r}")

    def _latex(self: Any, printer: Any) -> str:
        return latex + r"{\left(" + ",".join(printer._print(a) for a in self.args) + r" \right)}"

    def _pretty(self: Any, printer: Any) -> Any:
        return printer._print_Function(self, func_name=plain_text(latex))

    return sp.Function(name, __dict__={"_latex": _latex, "_pretty": _pretty})
