"""Symbols whose Python name is an identifier and whose LaTeX is the paper's notation."""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["sym", "symbols", "matrix"]


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
        # A readable plain-text form of the LaTeX: Greek letters and norms as Unicode.
        out = self._latex_form
        for a, b in _UNICODE:
            out = out.replace(a, b)
        return out.replace("{", "").replace("}", "").replace("\\", "")


_UNICODE = (
    (r"\mathbb{E}\, ", "E "), (r"\|", "‖"), (r"\bar", ""), (r"\hat", ""), (r"\infty", "∞"),
    (r"\varepsilon", "ε"), (r"\eta", "η"), (r"\lambda", "λ"), (r"\sigma", "σ"),
    (r"\theta", "θ"), (r"\gamma", "γ"), (r"\max", "max"), (r"\delta", "δ"), (r"\alpha", "α"),
    (r"\beta", "β"), (r"\mu", "μ"), (r"\Sigma", "Σ"), (r"\pi", "π"), (r"\rho", "ρ"),
)


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


def matrix(name: str, latex: str, rows: Any, cols: Any) -> sp.MatrixSymbol:
    """A ``rows × cols`` matrix symbol named ``name`` (an identifier) printing as ``latex``."""
    if not name.isidentifier():
        raise ValueError(f"matrix symbol name must be a Python identifier; got {name!r}")
    _NamedMatrix._LATEX[name] = latex
    return _NamedMatrix(name, rows, cols)
