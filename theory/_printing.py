"""Turn SymPy expressions into functions of arrays from any array-API namespace.

SymPy's own ``lambdify`` targets NumPy (``numpy.select`` for ``Piecewise``, ``numpy.arccos``
...). The array API standard spells these differently (``where``, ``acos``) and forbids the
Python ``if`` on arrays, so this module carries a small printer that emits only names
the standard defines. It imports no array library: the namespace is handed in by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["array_api_lambdify"]

# SymPy function name -> array API function name (where the two differ or where
# PythonCodePrinter would reach for the ``math`` module).
_FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "asin",
    "acos": "acos",
    "atan": "atan",
    "atan2": "atan2",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "asinh": "asinh",
    "acosh": "acosh",
    "atanh": "atanh",
    "floor": "floor",
    "ceiling": "ceil",
    "sign": "sign",
    "Abs": "abs",
    "expm1": "expm1",
    "log1p": "log1p",
}


class _ArrayAPIPrinter(PythonCodePrinter):
    """Print SymPy as Python that calls array-API names, found in the call's namespace."""

    printmethod = "_array_api_code"
    language = "Python with the array API"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__({"fully_qualified_modules": False, **(settings or {})})

    def _constant(self, expr: sp.Basic) -> str | None:
        """A real constant subexpression (sqrt(2), log(3)/pi) as a float literal: array
        functions such as ``xp.sqrt`` reject Python numbers on strict namespaces."""
        if expr.is_number and expr.is_real:
            return repr(float(expr.evalf(17)))
        return None

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:  # noqa: N802
        const = self._constant(expr)
        return const if const is not None else super()._print_Pow(expr, rational=rational)

    def _print_Function(self, expr: sp.Function) -> str:  # noqa: N802 (SymPy's naming)
        const = self._constant(expr)
        if const is not None:
            return const
        name = type(expr).__name__
        if name in _FUNCTIONS:
            args = ", ".join(self._print(a) for a in expr.args)
            return f"{_FUNCTIONS[name]}({args})"
        raise NotImplementedError(
            f"{name} has no array-API equivalent; evaluate this result with mpmath "
            "(Result.evalf) or add a mapping in theory/_printing.py"
        )

    def _print_Pi(self, expr: Any) -> str:  # noqa: N802
        return "pi"

    def _print_Exp1(self, expr: Any) -> str:  # noqa: N802
        return "e"

    def _fold(self, template: str, args: tuple[sp.Basic, ...]) -> str:
        """Left-fold a binary template over the arguments: f(f(a, b), c)."""
        out = self._print(args[0])
        for a in args[1:]:
            out = template.format(out, self._print(a))
        return out

    def _print_Max(self, expr: sp.Max) -> str:  # noqa: N802
        return self._fold("maximum({}, {})", expr.args)

    def _print_Min(self, expr: sp.Min) -> str:  # noqa: N802
        return self._fold("minimum({}, {})", expr.args)

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:  # noqa: N802
        x = self._print(expr.args[0])
        half = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"where({x} > 0, 1.0, where({x} < 0, 0.0, {half}))"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:  # noqa: N802
        # Piecewise((e1, c1), (e2, c2), ..., (en, True)) -> where(c1, e1, where(c2, e2, ... en))
        *pieces, (last_expr, last_cond) = expr.args
        if last_cond != sp.true:
            raise NotImplementedError("Piecewise without an otherwise branch")
        out = self._print(last_expr)
        for e, c in reversed(pieces):
            out = f"where({self._print(c)}, {self._print(e)}, {out})"
        return out

    def _print_Relational(self, expr: sp.core.relational.Relational) -> str:  # noqa: N802
        # Operators, not ``greater(...)``: they accept a Python scalar on either side.
        return f"(({self._print(expr.lhs)}) {expr.rel_op} ({self._print(expr.rhs)}))"

    def _print_And(self, expr: sp.And) -> str:  # noqa: N802
        return self._fold("({}) & ({})", expr.args)

    def _print_Or(self, expr: sp.Or) -> str:  # noqa: N802
        return self._fold("({}) | ({})", expr.args)

    def _print_Not(self, expr: sp.Not) -> str:  # noqa: N802
        return f"~({self._print(expr.args[0])})"

    def _print_BooleanTrue(self, expr: Any) -> str:  # noqa: N802
        return "True"

    def _print_BooleanFalse(self, expr: Any) -> str:  # noqa: N802
        return "False"


# The printer dispatches on the concrete class name (``_print_exp``) before the generic
# ``_print_Function``; route every mapped elementary function to the generic method.
for _name in _FUNCTIONS:
    setattr(_ArrayAPIPrinter, f"_print_{_name}", _ArrayAPIPrinter._print_Function)
del _name


def array_api_lambdify(
    args: Sequence[sp.Symbol], expr: sp.Basic, xp: Any
) -> Callable[..., Any]:
    """Compile ``expr`` into a Python function of ``args`` that calls ``xp``'s functions.

    Parameters
    ----------
    args
        The symbols, in the order of the function's positional parameters.
    expr
        A scalar SymPy expression or relation (``Piecewise`` becomes nested ``where``).
    xp
        An array-API namespace (``array_api_compat.array_namespace(...)``, NumPy, ...).
    """
    namespace = {name: getattr(xp, name) for name in dir(xp) if not name.startswith("_")}
    # cse=True: shared subexpressions (an exp(−tσ²/n) used twice) are evaluated once.
    return sp.lambdify(args, expr, modules=[namespace], printer=_ArrayAPIPrinter, cse=True)
