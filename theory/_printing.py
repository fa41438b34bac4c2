"""Turn SymPy claims into functions of arrays from any array-API namespace.

SymPy's own ``lambdify`` targets NumPy (``numpy.select`` for ``Piecewise``, ``numpy.arccos``,
elementwise ``*`` for a matrix product...). The array API standard spells these differently
(``where``, ``acos``, ``@``, ``linalg.solve``) and forbids the Python ``if`` on arrays, so
this module carries a printer that emits only names the standard defines, plus a few private
helpers written in array-API code (:mod:`theory._special` for Γ and the elliptic integrals).
It imports no array library: the namespace is handed in by the caller.

How a claim becomes code (:func:`compile_claim`, :func:`python_source`):

1. *Lowering* (:class:`_Lowerer`): matrix expressions, ``Sum``/``Product`` over an index,
   ``Indexed`` entries, explicit ``Matrix`` tables and undefined functions are replaced by
   opaque function nodes (``_MatMul(A, B)``, ``_Solve(M, B)``, ``_SumLast(...)``) over plain
   symbols named after the arguments. The result is an ordinary scalar-looking SymPy tree,
   so common-subexpression elimination (``cse=True``) cannot split ``M⁻¹ B`` into ``inv``.
2. *Stabilizing* (:func:`stabilize`): log(1 + u) → log1p(u), c·(exp(u) − 1) → c·expm1(u),
   log(1 + exp(u)) → logaddexp(u, 0), log(u + √(u² + a²)) → asinh(u/a) + log a, and
   acos(u/v) → atan2(√((v−u)(v+u)), u) for v > 0 (and asin likewise).
3. *Printing* (:class:`_ArrayAPIPrinter`) and ``sympy.lambdify`` with ``cse=True``.

Argument conventions are documented in :meth:`theory.Result.numeric`.
"""

from __future__ import annotations

import inspect
import keyword
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.codegen.cfunctions import log1p as _log1p
from sympy.core.function import AppliedUndef
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["UnprintableError", "array_api_lambdify", "compile_claim", "identifier",
           "python_source", "stabilize"]


class UnprintableError(NotImplementedError):
    """A claim holds a construct the array-API printer cannot turn into code."""


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

# SymPy special function -> private helper (array-API code in theory._special)
_SPECIAL = {
    "gamma": "_gamma",
    "loggamma": "_loggamma",
    "factorial": "_factorial",
    "binomial": "_binomial",
    "elliptic_k": "_elliptic_k",
    "elliptic_e": "_elliptic_e",
}


# ---------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------
_DECORATIONS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar",
                "tilde": "tilde", "widetilde": "tilde", "dot": "dot", "ddot": "ddot",
                "vec": "vec", "check": "check", "breve": "breve"}
_DIGITS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
           "6": "six", "7": "seven", "8": "eight", "9": "nine"}


def identifier(name: str) -> str:
    r"""A Python identifier for a SymPy name that may be LaTeX.

    ``\hat{x}`` → ``x_hat``, ``\bar{x}`` → ``x_bar``, ``a^{*}`` → ``a_star``, ``x_\infty`` →
    ``x_infty``, ``\Psi`` → ``Psi``, ``K(B, B^{*})`` → ``K_B_B_star``, ``\lambda`` →
    ``lambda_`` (a keyword gets a trailing underscore), ``\mathbf{1}`` → ``one``.

    Examples
    --------
    >>> identifier(r"\hat{\theta}"), identifier("a^*"), identifier(r"\|\nabla f\|")
    ('theta_hat', 'a_star', 'norm_nabla_f')
    """
    s = name
    if s.isidentifier() and not keyword.iskeyword(s):
        return s
    deco = "|".join(_DECORATIONS)
    for _ in range(3):  # nested decorations: \hat{\bar{x}}
        s = re.sub(rf"\\({deco})\s*\{{([^{{}}]*)\}}",
                   lambda m: f"{m.group(2)}_{_DECORATIONS[m.group(1)]}", s)
        s = re.sub(rf"\\({deco})\s*(\\?[A-Za-z]+)",
                   lambda m: f"{m.group(2)}_{_DECORATIONS[m.group(1)]}", s)
    s = re.sub(r"\\(mathbf|mathrm|mathbb|mathcal|mathsf|boldsymbol|operatorname|text)\s*"
               r"\{([^{}]*)\}", r"\2", s)
    s = re.sub(r"\\\|(.*?)\\\|", r" norm_\1 ", s)
    s = s.replace(r"\|", " norm ")
    s = re.sub(r"\^\{?\*\}?", "_star", s)
    s = re.sub(r"\^\{?\\top\}?", "_T", s)
    s = s.replace("'", "_prime")
    s = s.replace("\\", " ")
    s = re.sub(r"[^0-9A-Za-z_]+", "_", s)
    s = re.sub(r"_+", "_", s).strip("_")
    if not s:
        s = "arg"
    if s in _DIGITS:
        s = _DIGITS[s]
    elif s[0].isdigit():
        s = "n_" + s
    if keyword.iskeyword(s):
        s += "_"
    return s


# ---------------------------------------------------------------------------------------
# lowered nodes: opaque functions the printer knows
# ---------------------------------------------------------------------------------------
class _Node(sp.Function):
    """An opaque array operation (a matrix product, a sum over the last axis...)."""

    is_commutative = True

    @classmethod
    def eval(cls, *args: Any) -> None:  # never evaluates
        return None

    def _eval_is_real(self) -> None:
        return None


def _node(name: str) -> type[_Node]:
    return type(name, (_Node,), {})


_MatMul = _node("_MatMul")          # (A, B) -> A @ B
_Solve = _node("_Solve")            # (M, B) -> M⁻¹ B
_SolveRight = _node("_SolveRight")  # (B, M) -> B M⁻¹
_Inv = _node("_Inv")
_T = _node("_T")
_Eye = _node("_Eye")
_Zeros = _node("_Zeros")
_Ones = _node("_Ones")
_Scale = _node("_Scale")            # (c, M) -> c[..., None, None] * M
_Trace = _node("_Trace")
_Det = _node("_Det")
_MatPow = _node("_MatPow")
_Kron = _node("_Kron")
_Had = _node("_Had")
_Stack = _node("_Stack")            # (rows, cols, *entries)
_SumLast = _node("_SumLast")
_ProdLast = _node("_ProdLast")
_Expand = _node("_Expand")          # x -> x[..., None]
_Take = _node("_Take")              # (a, first, last, exact) 1-based inclusive, last axis
_Gather = _node("_Gather")          # (a, i) -> a[..., i - 1]
_Range = _node("_Range")            # (first, last) -> arange(first, last + 1)
_Softplus = _node("_Softplus")      # log(1 + exp(u))
_Atan2 = _node("_Atan2")            # atan2 that SymPy does not fold back into atan(y/x)


# ---------------------------------------------------------------------------------------
# helpers, written against a namespace called ``xp`` (the same text is printed by python())
# ---------------------------------------------------------------------------------------
_HELPERS: dict[str, str] = {
    "_int": '''
def _int(v, what):
    """A Python int from a number or an array whose entries are one integer."""
    if isinstance(v, int):
        return v
    a = xp.asarray(v)
    lo, hi = float(xp.min(a)), float(xp.max(a))
    if lo != hi or lo != round(lo):
        raise ValueError(f"{what} must be one integer; got values from {lo} to {hi}")
    return int(round(lo))
''',
    "_eye": '''
def _eye(n):
    return xp.eye(_int(n, "the size of an identity matrix"), dtype=xp.float64)
''',
    "_zeros": '''
def _zeros(r, c):
    return xp.zeros((_int(r, "a zero matrix's rows"), _int(c, "a zero matrix's columns")),
                    dtype=xp.float64)
''',
    "_ones": '''
def _ones(r, c):
    return xp.ones((_int(r, "a ones matrix's rows"), _int(c, "a ones matrix's columns")),
                   dtype=xp.float64)
''',
    "_scale": '''
def _scale(c, m):
    """A scalar (batch shape (...)) times a matrix (..., r, c): align the batch axes."""
    c = xp.asarray(c, dtype=xp.float64)
    return xp.reshape(c, c.shape + (1, 1)) * m
''',
    "_expand": '''
def _expand(x):
    """A term constant along a Sum's index: one more (last) axis to broadcast against it."""
    return xp.expand_dims(xp.asarray(x, dtype=xp.float64), axis=-1)
''',
    "_take": '''
def _take(a, first, last, exact, name):
    """Entries first..last (1-based, inclusive) of the last axis of the indexed array a."""
    first = _int(first, f"the first index of {name}")
    last = _int(last, f"the last index of {name}")
    size = a.shape[-1]
    if first < 1 or last > size or (exact and last != size):
        raise ValueError(
            f"{name} carries the index on its last axis, of length {size}; the Sum runs "
            f"over entries {first}..{last}" + (" and must use all of them" if exact else ""))
    return a[..., first - 1:last]
''',
    "_gather": '''
def _gather(a, i):
    """Entry i (1-based) of the last axis of the indexed array a."""
    i = _int(i, "an index")
    if not 1 <= i <= a.shape[-1]:
        raise ValueError(f"index {i} outside 1..{a.shape[-1]}")
    return a[..., i - 1]
''',
    "_range": '''
def _range(first, last):
    return xp.arange(_int(first, "a Sum's lower limit"), _int(last, "a Sum's upper limit") + 1,
                     dtype=xp.float64)
''',
    "_kron": '''
def _kron(a, b):
    """Kronecker product of the last two axes, batched over the leading ones."""
    r1, c1 = a.shape[-2:]
    r2, c2 = b.shape[-2:]
    a4 = xp.reshape(a, a.shape[:-2] + (r1, 1, c1, 1))
    b4 = xp.reshape(b, b.shape[:-2] + (1, r2, 1, c2))
    out = a4 * b4
    return xp.reshape(out, out.shape[:-4] + (r1 * r2, c1 * c2))
''',
    "_matrix_power": '''
def _matrix_power(m, p):
    """M**p: integer p by repeated products (negative: of the inverse); other p through
    the eigendecomposition, which assumes M symmetric positive definite."""
    if float(p) == round(float(p)):
        return xp.linalg.matrix_power(m, int(round(float(p))))
    w, v = xp.linalg.eigh(m)
    return (v * xp.expand_dims(w ** p, axis=-2)) @ xp.matrix_transpose(v)
''',
    "_matrix": '''
def _matrix(rows, cols, entries):
    """An explicit matrix whose entries may be arrays: broadcast them, stack to (..., r, c)."""
    entries = xp.broadcast_arrays(*[xp.asarray(e, dtype=xp.float64) for e in entries])
    flat = xp.stack(entries, axis=-1)
    return xp.reshape(flat, flat.shape[:-1] + (rows, cols))
''',
    "_softplus": '''
def _softplus(u):
    """log(1 + exp(u)) without overflow or cancellation."""
    u = xp.asarray(u, dtype=xp.float64)
    return xp.logaddexp(u, xp.zeros_like(u))
''',
    "_gamma": '''
def _gamma(x):
    return _special_gamma(xp, x)
''',
    "_loggamma": '''
def _loggamma(x):
    return _special_loggamma(xp, x)
''',
    "_factorial": '''
def _factorial(n):
    return _special_gamma(xp, xp.asarray(n, dtype=xp.float64) + 1.0)
''',
    "_binomial": '''
def _binomial(n, k):
    n = xp.asarray(n, dtype=xp.float64)
    k = xp.asarray(k, dtype=xp.float64)
    small = n <= 170.0
    ratio = _special_gamma(xp, n + 1.0) / (_special_gamma(xp, k + 1.0)
                                          * _special_gamma(xp, n - k + 1.0))
    logs = xp.exp(_special_loggamma(xp, n + 1.0) - _special_loggamma(xp, k + 1.0)
                  - _special_loggamma(xp, n - k + 1.0))
    return xp.where(small, ratio, logs)
''',
    "_elliptic_k": '''
def _elliptic_k(m):
    return _special_elliptic_k(xp, m)
''',
    "_elliptic_e": '''
def _elliptic_e(m):
    return _special_elliptic_e(xp, m)
''',
}
_NEEDS_SPECIAL = {"_gamma", "_loggamma", "_factorial", "_binomial", "_elliptic_k", "_elliptic_e"}


def _helper_namespace(xp: Any) -> dict[str, Any]:
    from theory import _special  # noqa: PLC0415

    ns: dict[str, Any] = {"xp": xp}
    for name in ("gamma", "loggamma", "elliptic_k", "elliptic_e"):
        ns[f"_special_{name}"] = getattr(_special, name)
    for src in _HELPERS.values():
        exec(src, ns)  # noqa: S102 (our own source text)
    return ns


def _special_source() -> str:
    """The source of theory._special as inline code: its functions renamed _special_*."""
    from theory import _special  # noqa: PLC0415

    src = inspect.getsource(_special)
    src = src.split('"""', 2)[2]  # drop the module docstring
    src = "\n".join(line for line in src.splitlines()
                    if not line.startswith(("from __future__", "__all__")))
    for name in ("gamma", "loggamma", "elliptic_k", "elliptic_e"):
        src = re.sub(rf"^def {name}\(", f"def _special_{name}(", src, flags=re.M)
        src = re.sub(rf"(?<![\w.]){name}\(xp", f"_special_{name}(xp", src)
    return src.strip() + "\n"


# ---------------------------------------------------------------------------------------
# the printer
# ---------------------------------------------------------------------------------------
class _ArrayAPIPrinter(PythonCodePrinter):
    """Print SymPy as Python that calls array-API names, found in the call's namespace
    (``prefix=""``) or under a module prefix (``prefix="np."``, for printed source)."""

    printmethod = "_array_api_code"
    language = "Python with the array API"
    _default_settings = {**PythonCodePrinter._default_settings, "prefix": "",
                         "callables": frozenset()}

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__({"fully_qualified_modules": False, **(settings or {})})
        self.helpers_used: set[str] = set()

    @property
    def _p(self) -> str:
        return self._settings["prefix"]

    def _helper(self, name: str, *args: str) -> str:
        self.helpers_used.add(name)
        return f"{name}({', '.join(args)})"

    def _constant(self, expr: sp.Basic) -> str | None:
        """A real constant subexpression (sqrt(2), log(3)/pi) as a float literal: array
        functions such as ``xp.sqrt`` reject Python numbers on strict namespaces."""
        if isinstance(expr, _Node) or expr.atoms(_Node):
            return None
        if expr.is_number and expr.is_real:
            return repr(float(expr.evalf(17)))
        return None

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:  # noqa: N802
        const = self._constant(expr)
        if const is not None:
            return const
        if expr.exp == sp.S.Half and not rational:
            return f"{self._p}sqrt({self._print(expr.base)})"
        if expr.exp == -sp.S.Half and not rational:
            return f"1/{self._p}sqrt({self._print(expr.base)})"
        return super()._print_Pow(expr, rational=rational)

    def _print_Function(self, expr: sp.Function) -> str:  # noqa: N802 (SymPy's naming)
        const = self._constant(expr)
        if const is not None:
            return const
        name = type(expr).__name__
        if name in _FUNCTIONS:
            args = ", ".join(self._print(a) for a in expr.args)
            return f"{self._p}{_FUNCTIONS[name]}({args})"
        if name in _SPECIAL:
            return self._helper(_SPECIAL[name], *(self._print(a) for a in expr.args))
        if name in self._settings["callables"]:
            return f"{name}({', '.join(self._print(a) for a in expr.args)})"
        raise UnprintableError(
            f"{name} has no array-API equivalent; evaluate this result with mpmath "
            "(Result.evalf) or add a mapping in theory/_printing.py"
        )

    def _print_elliptic_e(self, expr: sp.Function) -> str:  # noqa: N802
        if len(expr.args) != 1:
            raise UnprintableError("the incomplete elliptic integral elliptic_e(phi, m)")
        return self._print_Function(expr)

    def _print_Pi(self, expr: Any) -> str:  # noqa: N802
        return f"{self._p}pi"

    def _print_Exp1(self, expr: Any) -> str:  # noqa: N802
        return f"{self._p}e"

    def _print_NaN(self, expr: Any) -> str:  # noqa: N802
        return f"{self._p}nan"

    def _print_Infinity(self, expr: Any) -> str:  # noqa: N802
        return f"{self._p}inf"

    def _print_NegativeInfinity(self, expr: Any) -> str:  # noqa: N802
        return f"(-{self._p}inf)"

    def _fold(self, template: str, args: tuple[sp.Basic, ...]) -> str:
        """Left-fold a binary template over the arguments: f(f(a, b), c)."""
        out = self._print(args[0])
        for a in args[1:]:
            out = template.format(out, self._print(a), p=self._p)
        return out

    def _print_Max(self, expr: sp.Max) -> str:  # noqa: N802
        return self._fold("{p}maximum({}, {})", expr.args)

    def _print_Min(self, expr: sp.Min) -> str:  # noqa: N802
        return self._fold("{p}minimum({}, {})", expr.args)

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:  # noqa: N802
        x = self._print(expr.args[0])
        half = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        w = f"{self._p}where"
        return f"{w}({x} > 0, 1.0, {w}({x} < 0, 0.0, {half}))"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:  # noqa: N802
        # Piecewise((e1, c1), (e2, c2), ..., (en, True)) -> where(c1, e1, where(c2, e2, ... en))
        *pieces, (last_expr, last_cond) = expr.args
        if last_cond != sp.true:
            raise UnprintableError("Piecewise without an otherwise branch")
        out = self._print(last_expr)
        for e, c in reversed(pieces):
            out = f"{self._p}where({self._print(c)}, {self._print(e)}, {out})"
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

    # ---------------------------------------------------------------- lowered nodes
    def _a(self, expr: sp.Basic, i: int) -> str:
        return self._print(expr.args[i])

    def _operand(self, e: sp.Basic) -> str:
        """An operand of ``@`` or ``*``: parenthesized unless it is a name or a call
        (``@`` binds tighter than ``+``)."""
        out = self._print(e)
        if isinstance(e, (sp.Symbol, sp.Function)):
            return out
        return f"({out})"

    def _print__MatMul(self, e: Any) -> str:  # noqa: N802
        return f"({self._operand(e.args[0])} @ {self._operand(e.args[1])})"

    def _print__Solve(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}linalg.solve({self._a(e, 0)}, {self._a(e, 1)})"

    def _print__SolveRight(self, e: Any) -> str:  # noqa: N802
        t = f"{self._p}matrix_transpose"
        return f"{t}({self._p}linalg.solve({t}({self._a(e, 1)}), {t}({self._a(e, 0)})))"

    def _print__Inv(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}linalg.inv({self._a(e, 0)})"

    def _print__T(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}matrix_transpose({self._a(e, 0)})"

    def _print__Eye(self, e: Any) -> str:  # noqa: N802
        self.helpers_used.add("_int")
        return self._helper("_eye", self._a(e, 0))

    def _print__Zeros(self, e: Any) -> str:  # noqa: N802
        self.helpers_used.add("_int")
        return self._helper("_zeros", self._a(e, 0), self._a(e, 1))

    def _print__Ones(self, e: Any) -> str:  # noqa: N802
        self.helpers_used.add("_int")
        return self._helper("_ones", self._a(e, 0), self._a(e, 1))

    def _print__Scale(self, e: Any) -> str:  # noqa: N802
        return self._helper("_scale", self._a(e, 0), self._a(e, 1))

    def _print__Trace(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}linalg.trace({self._a(e, 0)})"

    def _print__Det(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}linalg.det({self._a(e, 0)})"

    def _print__MatPow(self, e: Any) -> str:  # noqa: N802
        k = e.args[1]
        if k.is_Integer:
            return f"{self._p}linalg.matrix_power({self._a(e, 0)}, {int(k)})"
        return self._helper("_matrix_power", self._a(e, 0), self._a(e, 1))

    def _print__Kron(self, e: Any) -> str:  # noqa: N802
        return self._helper("_kron", self._a(e, 0), self._a(e, 1))

    def _print__Had(self, e: Any) -> str:  # noqa: N802
        return f"({self._operand(e.args[0])} * {self._operand(e.args[1])})"

    def _print__Stack(self, e: Any) -> str:  # noqa: N802
        rows, cols, *entries = e.args
        if all(x.is_number for x in entries):
            vals = [[self._print(entries[i * int(cols) + j]) for j in range(int(cols))]
                    for i in range(int(rows))]
            body = ", ".join("[" + ", ".join(r) + "]" for r in vals)
            return f"{self._p}asarray([{body}], dtype={self._p}float64)"
        return self._helper("_matrix", str(int(rows)), str(int(cols)),
                            "[" + ", ".join(self._print(x) for x in entries) + "]")

    def _print__SumLast(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}sum({self._a(e, 0)}, axis=-1)"

    def _print__ProdLast(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}prod({self._a(e, 0)}, axis=-1)"

    def _print__Expand(self, e: Any) -> str:  # noqa: N802
        return self._helper("_expand", self._a(e, 0))

    def _print__Take(self, e: Any) -> str:  # noqa: N802
        self.helpers_used.add("_int")
        a, first, last, exact = e.args
        return self._helper("_take", self._print(a), self._print(first), self._print(last),
                            str(bool(exact)), repr(str(a)))

    def _print__Gather(self, e: Any) -> str:  # noqa: N802
        self.helpers_used.add("_int")
        return self._helper("_gather", self._a(e, 0), self._a(e, 1))

    def _print__Range(self, e: Any) -> str:  # noqa: N802
        self.helpers_used.add("_int")
        return self._helper("_range", self._a(e, 0), self._a(e, 1))

    def _print__Atan2(self, e: Any) -> str:  # noqa: N802
        return f"{self._p}atan2({self._a(e, 0)}, {self._a(e, 1)})"

    def _print__Softplus(self, e: Any) -> str:  # noqa: N802
        return self._helper("_softplus", self._a(e, 0))

    def emptyPrinter(self, expr: Any) -> str:  # noqa: N802 (SymPy's naming)
        raise UnprintableError(f"{type(expr).__name__} ({sp.sstr(expr)[:80]})")

    def _print_not_supported(self, expr: Any) -> str:
        raise UnprintableError(f"{type(expr).__name__} ({sp.sstr(expr)[:80]})")


# The printer dispatches on the concrete class name (``_print_exp``) before the generic
# ``_print_Function``; route every mapped elementary function to the generic method.
for _name in (*_FUNCTIONS, *(n for n in _SPECIAL if n != "elliptic_e")):
    setattr(_ArrayAPIPrinter, f"_print_{_name}", _ArrayAPIPrinter._print_Function)
del _name


# ---------------------------------------------------------------------------------------
# stability rewrites
# ---------------------------------------------------------------------------------------
def _log_rewrite(arg: sp.Basic) -> sp.Basic | None:
    """log(arg) in a stable form, or None."""
    if isinstance(arg, sp.Add):
        const = sp.Add(*[t for t in arg.args if t.is_number and not t.atoms(_Node)])
        rest = arg - const
        if const == 1 and rest != 0:
            if isinstance(rest, sp.exp):
                return _Softplus(rest.args[0])
            return _log1p(rest)
        # log(u + sqrt(u**2 + a2)) -> asinh(u / sqrt(a2)) + log(sqrt(a2))
        if len(arg.args) == 2:
            for root, u in (arg.args, arg.args[::-1]):
                if isinstance(root, sp.Pow) and root.exp == sp.S.Half:
                    a2 = sp.expand(root.base - u**2)
                    if a2 != 0 and not (a2.free_symbols & u.free_symbols) and a2.is_positive:
                        a = sp.sqrt(a2)
                        return sp.asinh(u / a) + (sp.log(a) if a != 1 else 0)
    return None


def _acos_rewrite(f: type, arg: sp.Basic) -> sp.Basic | None:
    """acos(u/v) → atan2(√((v−u)(v+u)), u), asin(u/v) → atan2(u, √(...)) for v > 0."""
    u, v = arg.as_numer_denom()
    if v == 1 or not v.is_positive:
        return None
    root = sp.sqrt(sp.Max((v - u) * (v + u), 0))
    return _Atan2(root, u) if f is sp.acos else _Atan2(u, root)


def stabilize(expr: sp.Basic) -> sp.Basic:
    r"""Rewrite a scalar expression in forms that keep float64 digits.

    * log(1 + u) → log1p(u) (log(1 − ηλ/2) for small ηλ);
    * c·exp(u) − c → c·expm1(u) (1 − e^{−tσ²/n} for small t), via
      :mod:`sympy.codegen.rewriting`;
    * log(1 + exp(u)) → logaddexp(u, 0) (no overflow for large u);
    * log(u + √(u² + a²)) → asinh(u/a) + log a (no cancellation for u ≪ −a);
    * acos(u/v) → atan2(√((v−u)(v+u)), u) and asin(u/v) → atan2(u, √((v−u)(v+u))) for
      v > 0: the angle without rounding the ratio near ±1, where acos' = −1/√(1−x²) blows
      the ratio's rounding up.

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> stabilize(sp.log(1 - x / 2) + (1 - sp.exp(-x)))
    -expm1(-x) + log1p(-x/2)
    """
    from sympy.codegen.rewriting import expm1_opt, optimize  # noqa: PLC0415

    def walk(e: sp.Basic) -> sp.Basic:
        if not e.args or isinstance(e, (sp.Symbol, sp.Indexed, sp.MatrixExpr)):
            return e
        if isinstance(e, (sp.Sum, sp.Product)):
            return e.func(walk(e.args[0]), *e.args[1:])
        new = e.func(*[walk(a) for a in e.args]) if not isinstance(e, sp.MatrixBase) else e
        if isinstance(new, sp.log):
            out = _log_rewrite(new.args[0])
            if out is not None:
                return out
        if isinstance(new, (sp.acos, sp.asin)):
            out = _acos_rewrite(type(new), new.args[0])
            if out is not None:
                return out
        if isinstance(new, sp.Add) and new.atoms(sp.exp):
            new = optimize(new, [expm1_opt])
        if isinstance(new, _log1p) and isinstance(new.args[0], sp.exp):
            return _Softplus(new.args[0].args[0])
        return new

    return walk(expr)


# ---------------------------------------------------------------------------------------
# lowering
# ---------------------------------------------------------------------------------------
@dataclass
class _Argument:
    name: str
    kind: str  # "scalar", "matrix", "indexed", "function", "shape"
    source: Any  # the SymPy object
    shape: tuple[sp.Basic, ...] = ()


@dataclass
class _Lowered:
    expr: Any
    arguments: list[_Argument]      # the caller's keyword arguments, in order
    shapes: dict[str, tuple[str, int]] = field(default_factory=dict)  # size -> (arg, axis)
    symbols: dict[str, sp.Symbol] = field(default_factory=dict)  # name -> the plain symbol
    checks: list[tuple[str, int, sp.Basic]] = field(default_factory=list)  # (arg, axis, size)


def _first_claim(obj: Any) -> Any:
    return obj.rhs if isinstance(obj, sp.Equality) else obj


class _Lowerer:
    def __init__(self, where: str) -> None:
        self.where = where
        self.objects: dict[tuple[str, Any], _Argument] = {}
        self.taken: dict[str, tuple[str, Any]] = {}
        self.shape_syms: set[sp.Symbol] = set()
        self.symbols: dict[str, sp.Symbol] = {}

    def sym(self, name: str, source: Any = None) -> sp.Symbol:
        """The plain symbol standing for an argument; a scalar keeps its assumptions (the
        stability rewrites ask whether a denominator is positive)."""
        if name not in self.symbols:
            assumptions = source.assumptions0 if isinstance(source, sp.Symbol) else {}
            self.symbols[name] = sp.Symbol(name, **assumptions)
        return self.symbols[name]

    def fail(self, what: str) -> UnprintableError:
        return UnprintableError(f"{self.where}: cannot print {what} as array code")

    # ---------------------------------------------------------------- names
    def arg(self, kind: str, source: Any, raw: str, shape: tuple = ()) -> sp.Symbol:
        key = (kind if kind != "shape" else "scalar", source)
        if key in self.objects:
            return self.sym(self.objects[key].name, source)
        name = identifier(raw)
        if name in self.taken and self.taken[name] != key:
            name = {"indexed": f"{name}_indexed", "function": f"{name}_fn",
                    "matrix": f"{name}_matrix"}.get(kind, f"{name}_scalar")
            k = 2
            base = name
            while name in self.taken:
                name, k = f"{base}_{k}", k + 1
        self.taken[name] = key
        self.objects[key] = _Argument(name, kind, source, shape)
        return self.sym(name, source)

    # ---------------------------------------------------------------- shapes
    def dim(self, d: sp.Basic) -> sp.Basic:
        d = sp.sympify(d)
        for s in d.free_symbols:
            self.shape_syms.add(s)
        return d.xreplace({s: self.sym(identifier(s.name), s) for s in d.free_symbols})

    # ---------------------------------------------------------------- top level
    def top(self, obj: Any) -> Any:
        if isinstance(obj, sp.Tuple) or isinstance(obj, tuple):
            return sp.Tuple(*[self.lower(_first_claim(o)) for o in obj])
        return self.lower(_first_claim(obj))

    # ---------------------------------------------------------------- recursion
    def lower(self, e: Any, bound: tuple | None = None) -> Any:
        if isinstance(e, sp.MatrixBase):
            if bound is not None:
                raise self.fail("an explicit Matrix inside a Sum")
            r, c = e.shape
            return _Stack(r, c, *[self.lower(x) for x in e])
        if not isinstance(e, sp.Basic):
            raise self.fail(f"{type(e).__name__} {e!r}")
        if bound is not None:
            j = bound[0]
            if j not in e.free_symbols:
                return _Expand(self.lower(e)) if (e.free_symbols or e.atoms(sp.Indexed)) \
                    else e
        if isinstance(e, sp.MatrixExpr):
            if bound is not None:
                raise self.fail(f"the matrix {sp.sstr(e)[:60]} inside a Sum")
            return self.matrix(e)
        if isinstance(e, sp.Indexed):
            return self.indexed(e, bound)
        if isinstance(e, sp.Symbol):
            if bound is not None and e == bound[0]:
                return _Range(bound[1], bound[2])
            return self.arg("scalar", e, e.name)
        if isinstance(e, (sp.Sum, sp.Product)):
            return self.sum(e, bound)
        if isinstance(e, AppliedUndef):
            f = self.arg("function", type(e), type(e).__name__)
            return sp.Function(f.name)(*[self.lower(a, bound) for a in e.args])
        if isinstance(e, (sp.Integral, sp.Derivative, sp.Limit)) or e.has(sp.Integral):
            raise self.fail(f"{type(e).__name__} ({sp.sstr(e)[:60]})")
        if not e.args:
            return e
        if isinstance(e, sp.Piecewise):
            return sp.Piecewise(*[(self.lower(x, bound), self.lower(c, bound))
                                  for x, c in e.args])
        return e.func(*[self.lower(a, bound) for a in e.args])

    def indexed(self, e: sp.Indexed, bound: tuple | None) -> Any:
        if len(e.indices) != 1:
            raise self.fail(f"{sp.sstr(e)} (only one index per IndexedBase)")
        base = self.arg("indexed", e.base, e.base.label.name)
        (idx,) = e.indices
        if bound is not None and bound[0] in idx.free_symbols:
            j, lo, hi = bound
            shift = sp.expand(idx - j)
            if shift.free_symbols or not shift.is_integer:
                raise self.fail(f"{sp.sstr(e)} (the index must be {j} + an integer)")
            exact = shift == 0 and lo == 1
            return _Take(base, lo + shift, hi + shift, sp.true if exact else sp.false)
        return _Gather(base, self.lower(idx))

    def sum(self, e: sp.Sum | sp.Product, bound: tuple | None) -> Any:
        if bound is not None:
            raise self.fail(f"a nested {type(e).__name__} ({sp.sstr(e)[:60]})")
        if len(e.limits) != 1:
            raise self.fail(f"a {type(e).__name__} over several indices ({sp.sstr(e)[:60]})")
        (j, lo, hi), = e.limits
        if lo.has(sp.oo, -sp.oo) or hi.has(sp.oo, -sp.oo):
            raise self.fail(f"an infinite {type(e).__name__} ({sp.sstr(e)[:60]})")
        lo_l, hi_l = self.lower(lo), self.lower(hi)
        body = e.function
        if j not in body.free_symbols:
            count = hi_l - lo_l + 1
            return count * self.lower(body) if isinstance(e, sp.Sum) else self.lower(body) ** count
        inner = self.lower(body, (j, lo_l, hi_l))
        return _SumLast(inner) if isinstance(e, sp.Sum) else _ProdLast(inner)

    def matrix(self, e: sp.MatrixExpr) -> Any:
        M = sp.matrices.expressions
        if isinstance(e, sp.MatrixSymbol):
            shape = tuple(self.dim(d) for d in e.shape)
            return self.arg("matrix", e, e.name, shape)
        if isinstance(e, M.Identity):
            return _Eye(self.dim(e.rows))
        if isinstance(e, M.ZeroMatrix):
            return _Zeros(self.dim(e.rows), self.dim(e.cols))
        if isinstance(e, M.OneMatrix):
            return _Ones(self.dim(e.rows), self.dim(e.cols))
        if isinstance(e, sp.MatMul):
            coeff, mats = e.as_coeff_matrices()
            out = self.chain(list(mats))
            if coeff == 1:
                return out
            if coeff.is_number:
                return coeff * out
            return _Scale(self.lower(coeff), out)
        if isinstance(e, sp.MatAdd):
            return sp.Add(*[self.matrix(t) for t in e.args])
        if isinstance(e, sp.Transpose):
            return _T(self.matrix(e.arg))
        if isinstance(e, sp.Inverse):
            return _Inv(self.matrix(e.arg))
        if isinstance(e, sp.MatPow):
            base, k = e.args
            if k == -1:
                return _Inv(self.matrix(base))
            if k.is_number:
                return _MatPow(self.matrix(base), k)
            raise self.fail(f"a matrix power with a symbolic exponent ({sp.sstr(e)[:60]})")
        if isinstance(e, sp.Trace):
            return _Trace(self.matrix(e.arg))
        if isinstance(e, sp.Determinant):
            return _Det(self.matrix(e.arg))
        if isinstance(e, sp.HadamardProduct):
            out = self.matrix(e.args[0])
            for a in e.args[1:]:
                out = _Had(out, self.matrix(a))
            return out
        if isinstance(e, sp.KroneckerProduct):
            out = self.matrix(e.args[0])
            for a in e.args[1:]:
                out = _Kron(out, self.matrix(a))
            return out
        if isinstance(e, sp.ImmutableMatrix):
            return self.lower(sp.Matrix(e))
        raise self.fail(f"the matrix expression {type(e).__name__} ({sp.sstr(e)[:60]})")

    def chain(self, factors: list[sp.MatrixExpr]) -> Any:
        """A product F1 F2 ... Fk folded from the right; M⁻¹ X → solve(M, X), X M⁻¹ →
        the transposed solve, a lone M⁻¹ → inv(M)."""
        out = None
        for f in reversed(factors):
            inverse = isinstance(f, sp.Inverse) or (isinstance(f, sp.MatPow) and f.exp == -1)
            if inverse:
                m = self.matrix(f.args[0])
                out = _Inv(m) if out is None else _Solve(m, out)
            else:
                g = self.matrix(f)
                if out is None:
                    out = g
                elif isinstance(out, _Inv):
                    out = _SolveRight(g, out.args[0])
                else:
                    out = _MatMul(g, out)
        return out

    # ---------------------------------------------------------------- result
    def finish(self, expr: Any) -> _Lowered:
        order = {"scalar": 0, "matrix": 1, "indexed": 2, "function": 3}
        args = sorted(self.objects.values(), key=lambda a: (order[a.kind], a.name))
        names = {a.name for a in args if a.kind == "scalar"}
        shapes: dict[str, tuple[str, int]] = {}
        checks: list[tuple[str, int, sp.Basic]] = []
        for a in args:
            if a.kind != "matrix":
                continue
            for axis, d in zip((-2, -1), a.shape):
                if isinstance(d, sp.Symbol) and d.name not in names and d.name not in shapes:
                    shapes[d.name] = (a.name, axis)
                else:
                    checks.append((a.name, axis, d))
        # sizes that no matrix argument carries (ZeroMatrix(n, 1) alone) become arguments
        for s in sorted(self.shape_syms, key=lambda s: s.name):
            nm = identifier(s.name)
            if nm not in shapes and nm not in names:
                self.arg("scalar", s, s.name)
        args = sorted(self.objects.values(), key=lambda a: (order[a.kind], a.name))
        return _Lowered(expr, args, shapes, symbols=dict(self.symbols), checks=checks)


_LOWERED: dict[tuple[Any, str], _Lowered] = {}


def lower(obj: Any, where: str = "expression") -> _Lowered:
    """Lower a claim (expression, relation, Eq → its right-hand side, Tuple, Matrix,
    matrix expression) to a scalar-looking SymPy tree over argument symbols (cached: the
    NumPy, array_api_strict and printed forms of a claim share one lowering)."""
    key = (sp.ImmutableMatrix(obj) if isinstance(obj, sp.MatrixBase) else obj, where)
    try:
        return _LOWERED[key]
    except (KeyError, TypeError):
        pass
    low = _Lowerer(where)
    expr = low.top(obj)
    expr = stabilize(expr)
    out = low.finish(expr)
    try:
        _LOWERED[key] = out
    except TypeError:
        pass
    return out


# ---------------------------------------------------------------------------------------
# compiling and printing
# ---------------------------------------------------------------------------------------
_NAMESPACES: dict[int, tuple[Any, dict[str, Any]]] = {}


def _namespace(xp: Any) -> dict[str, Any]:
    """The names lambdify resolves: the namespace's functions, linalg and our helpers."""
    hit = _NAMESPACES.get(id(xp))
    if hit is not None and hit[0] is xp:
        return hit[1]
    namespace = {name: getattr(xp, name) for name in dir(xp) if not name.startswith("_")}
    namespace["linalg"] = xp.linalg
    namespace.update(_helper_namespace(xp))
    _NAMESPACES[id(xp)] = (xp, namespace)
    return namespace


def array_api_lambdify(
    args: Sequence[sp.Symbol], expr: sp.Basic, xp: Any, callables: frozenset[str] = frozenset()
) -> Callable[..., Any]:
    """Compile ``expr`` into a Python function of ``args`` that calls ``xp``'s functions.

    Parameters
    ----------
    args
        The symbols, in the order of the function's positional parameters.
    expr
        A scalar SymPy expression or relation (``Piecewise`` becomes nested ``where``), or a
        tree lowered by :func:`lower`.
    xp
        An array-API namespace (``array_api_compat.array_namespace(...)``, NumPy, ...).
    callables
        Names of undefined functions that are arguments (printed as calls).
    """
    printer = _ArrayAPIPrinter({"callables": frozenset(callables)})
    # cse=True: shared subexpressions (an exp(−tσ²/n) used twice) are evaluated once.
    return sp.lambdify(args, expr, modules=[_namespace(xp)], printer=printer, cse=True)


def _positional(low: _Lowered) -> list[sp.Symbol]:
    sym = low.symbols
    return [sym.get(a.name, sp.Symbol(a.name)) for a in low.arguments] + \
        [sym.get(n, sp.Symbol(n)) for n in low.shapes]


def _as_array(xp: Any, kind: str, name: str, v: Any, where: str) -> Any:
    if kind == "function":
        if not callable(v):
            raise TypeError(f"{where}: argument {name} must be a callable; got {type(v).__name__}")
        return v
    if isinstance(v, (bool, int, float)):
        v = xp.asarray(float(v), dtype=xp.float64)
    else:
        v = xp.asarray(v)
    if kind == "matrix" and v.ndim < 2:
        raise ValueError(f"{where}: the matrix argument {name} must have at least 2 axes "
                         f"(..., rows, cols; a column vector is (..., k, 1)); got shape "
                         f"{tuple(v.shape)}")
    if kind == "indexed" and v.ndim < 1:
        raise ValueError(f"{where}: the indexed argument {name} carries its index on the "
                         f"last axis and needs at least 1 axis; got shape {tuple(v.shape)}")
    return v


def _size(d: sp.Basic, known: dict[sp.Symbol, int], vals: dict[str, Any],
          kinds: dict[str, str]) -> int | None:
    """The value of a shape expression (p**2) from the inferred sizes and scalar arguments,
    or None when it cannot be told (a batched size)."""
    subs = dict(known)
    for s in d.free_symbols:
        if s not in subs and kinds.get(s.name) == "scalar":
            try:
                subs[s] = float(vals[s.name])
            except (TypeError, ValueError):
                return None
    v = d.subs(subs)
    return int(v) if v.is_number else None


# ---------------------------------------------------------------------------------------
# screening arguments against a result's conditions and its symbols' assumptions
# ---------------------------------------------------------------------------------------
_EPS = 2.0**-52  # float64 machine epsilon


def _argument_message(where: str, names: Sequence[str], missing: list[str],
                      extra: list[str]) -> str:
    """One line: which keyword arguments are missing or unknown, and the ones it takes."""
    import difflib  # noqa: PLC0415

    parts = []
    if missing:
        parts.append(f"missing keyword argument{'s' if len(missing) > 1 else ''} "
                     f"{', '.join(missing)}")
    for n in extra:
        close = difflib.get_close_matches(n, list(names), n=1, cutoff=0.6)
        parts.append(f"unknown keyword argument {n!r}"
                     + (f" (did you mean {close[0]}?)" if close else ""))
    return f"{where}: {'; '.join(parts)}; it takes {', '.join(names)}"


def _all(xp: Any, ok: Any) -> bool:
    """Whether every entry of a boolean array is True (a 0-d array without ``xp.all``, which
    costs more than the comparisons on a scalar)."""
    if isinstance(ok, bool):
        return ok
    return bool(ok) if ok.ndim == 0 else bool(xp.all(ok))


def _keywords(kwargs: dict[str, Any], kinds: dict[str, str], aliases: dict[str, str],
              where: str) -> dict[str, Any]:
    """Keyword arguments with other spellings of a name mapped to it: the SymPy name, or
    any name whose :func:`identifier` is the argument (``\\Psi`` for ``Psi``, ``a^*`` for
    ``a_star``: the LaTeX names symbols once had)."""
    out: dict[str, Any] = {}
    for k, v in kwargs.items():
        name = k if k in kinds else aliases.get(k) or (
            identifier(k) if identifier(k) in kinds else k)
        if name in out:
            raise TypeError(f"{where}: keyword argument {name} is given twice (as {k!r} too)")
        out[name] = v
    return out


def _number_text(v: Any) -> str:
    """A value as it appears in a message: integers without a decimal point, other floats
    with every digit (a value just outside a bound must show where it is)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return repr(v)
    if f == f and abs(f) < 2**53 and f == int(f):
        return str(int(f))
    return repr(f)


def _first_violation(xp: Any, ok: Any) -> tuple[int, ...] | None:
    """The index of the first False entry of the boolean array ``ok`` (C order), or None
    when ``ok`` is 0-d."""
    if ok.ndim == 0:
        return None
    flat = xp.reshape(xp.logical_not(ok), (-1,))
    i = int(xp.argmax(xp.astype(flat, xp.int8)))
    idx = []
    for n in reversed(tuple(ok.shape)):
        idx.append(i % int(n))
        i //= int(n)
    return tuple(reversed(idx))


def _at(xp: Any, v: Any, shape: tuple[int, ...], idx: tuple[int, ...] | None) -> Any:
    """Entry ``idx`` of ``v`` broadcast to ``shape`` (``v`` itself when ``idx`` is None)."""
    if idx is None or not hasattr(v, "ndim"):
        return v
    return xp.broadcast_to(v, shape)[idx] if v.ndim else v


def _where_text(idx: tuple[int, ...] | None, shape: tuple[int, ...]) -> str:
    return "" if idx is None else f" (first violation at batch index {idx} of shape {shape})"


@dataclass
class _Guard:
    """One screen: ``text`` is the condition in readable form; ``screen(env)`` raises
    ``ValueError`` when the argument values ``env`` (name -> array) violate it. ``test``,
    when given, is the same condition as a SymPy boolean of assumption-free symbols named
    after the keys of ``env``: the screens with one are compiled together into one boolean
    array function (the fast path of :func:`compile_claim`), and ``screen`` is called only
    to name the one that failed."""

    text: str
    screen: Callable[[dict[str, Any]], None]
    test: sp.Basic | None = None


def _free(name: str) -> sp.Symbol:
    """An assumption-free symbol for the fast path (``x > 0`` of a positive ``x`` would
    fold to True)."""
    return sp.Symbol(name)


def _relation_guard(cond: sp.Basic, text: str, names: dict[Any, str], xp: Any,
                    where: str) -> _Guard | str:
    """A screen for a relation (or ``And``/``Or`` of relations) of the claim's scalars, or
    the reason there is none."""
    # Eq(a, b) between floats holds up to rounding: |a - b| <= 4 eps max(|a|, |b|) (each
    # side is a value computed with a few roundings of relative size eps/2).
    tolerant = cond.replace(
        lambda e: isinstance(e, sp.Equality),
        lambda e: sp.Le(sp.Abs(e.lhs - e.rhs),
                        4 * sp.Float(_EPS) * sp.Max(sp.Abs(e.lhs), sp.Abs(e.rhs))))
    try:
        clow = lower(tolerant, f"{where} condition {text}")
    except NotImplementedError as exc:
        return f"cannot be compiled to array code ({exc})"
    if clow.shapes or any(a.kind != "scalar" for a in clow.arguments):
        return "involves matrices or indexed families (only scalar relations are screened)"
    mapped = []
    for a in clow.arguments:
        name = names.get(a.source) or names.get(("shape", identifier(a.source.name)))
        if name is None:
            return f"uses {a.name}, which {where} does not take (its value is not given)"
        mapped.append(name)
    try:
        fn = array_api_lambdify(_positional(clow), clow.expr, xp)
    except NotImplementedError as exc:
        return f"cannot be compiled to array code ({exc})"
    shown = [a.name for a in clow.arguments]
    test = clow.expr.xreplace({clow.symbols[a.name]: _free(m)
                               for a, m in zip(clow.arguments, mapped)})

    def screen(env: dict[str, Any]) -> None:
        args = [env[m] for m in mapped]
        ok = xp.asarray(fn(*args))
        if bool(xp.all(ok)):
            return
        shape = tuple(ok.shape)
        idx = _first_violation(xp, ok)
        at = ", ".join(f"{s}={_number_text(_at(xp, v, shape, idx))}" for s, v in zip(shown, args))
        raise ValueError(f"{where}: condition {text} violated at {at}{_where_text(idx, shape)}")

    return _Guard(text, screen, test if isinstance(test, sp.Basic) else None)


def _matrix_guard(pred: Any, m: str, text: str, xp: Any, where: str) -> _Guard | str:
    """A screen for ``Q.symmetric(M)`` or ``Q.positive_definite(M)`` of a matrix argument."""
    kind = pred.function

    def asym(v: Any) -> tuple[Any, Any, Any]:
        """max |M - Mᵀ| per batch entry and its tolerance, 10 n eps max |M|: a product
        of k factors of size n rounds each entry by at most about k n (eps/2) times the
        products of the magnitudes (Higham, *Accuracy and Stability of Numerical
        Algorithms*, 2002, §3.5), which for the congruences and Gram matrices the checks
        build (k <= 3) is within 10 n eps max |M|."""
        d = xp.max(xp.abs(v - xp.matrix_transpose(v)), axis=(-2, -1))
        tol = 10 * v.shape[-1] * _EPS * xp.max(xp.abs(v), axis=(-2, -1))
        return d, tol, d <= tol

    def square(v: Any) -> None:
        if v.shape[-1] != v.shape[-2]:
            raise ValueError(f"{where}: condition {text} violated: {m} has shape "
                             f"{tuple(v.shape)}, not square")

    if kind == sp.Q.symmetric:
        def screen(env: dict[str, Any]) -> None:
            v = env[m]
            square(v)
            d, tol, ok = asym(v)
            if bool(xp.all(ok)):
                return
            shape = tuple(ok.shape)
            idx = _first_violation(xp, ok)
            raise ValueError(
                f"{where}: condition {text} violated: max |{m} - {m}^T| = "
                f"{float(_at(xp, d, shape, idx)):.3g} exceeds the rounding tolerance "
                f"{float(_at(xp, tol, shape, idx)):.3g} (10 n eps max |{m}|)"
                f"{_where_text(idx, shape)}")
        return _Guard(text, screen)
    if kind == sp.Q.positive_definite:
        def screen(env: dict[str, Any]) -> None:
            v = env[m]
            square(v)
            lo = xp.min(xp.linalg.eigvalsh((v + xp.matrix_transpose(v)) / 2), axis=-1)
            d, tol, sym_ok = asym(v)
            ok = xp.logical_and(lo > 0, sym_ok)
            if bool(xp.all(ok)):
                return
            shape = tuple(ok.shape)
            idx = _first_violation(xp, ok)
            raise ValueError(
                f"{where}: condition {text} violated: {m} has smallest eigenvalue "
                f"{float(_at(xp, lo, shape, idx)):.3g} and max |{m} - {m}^T| = "
                f"{float(_at(xp, d, shape, idx)):.3g} (needs > 0 and within "
                f"{float(_at(xp, tol, shape, idx)):.3g}){_where_text(idx, shape)}")
        return _Guard(text, screen)
    return f"no numeric test for {pred.function} (not screened)"


# (assumption, readable rule, test on an array) in the order of strength: the first that a
# symbol has is screened (positive implies nonnegative and real, which need no test).
_SIGN_RULES: tuple[tuple[str, str, Callable[[Any, Any], Any]], ...] = (
    ("positive", "positive", lambda xp, v: v > 0),
    ("negative", "negative", lambda xp, v: v < 0),
    ("nonnegative", "nonnegative", lambda xp, v: v >= 0),
    ("nonpositive", "nonpositive", lambda xp, v: v <= 0),
    ("nonzero", "nonzero", lambda xp, v: v != 0),
    ("real", "real (not NaN)", lambda xp, v: v == v),
)


def _assumption_guards(low: _Lowered, xp: Any, where: str) -> list[_Guard]:
    """Screens for the SymPy assumptions of the claim's scalars and indexed families:
    ``integer`` (the value is integral), then the strongest sign assumption. Finiteness
    is not screened (an infinite value stands for a limit in some evaluations)."""
    out = []
    for a in low.arguments:
        if a.kind not in ("scalar", "indexed"):
            continue
        assumed = getattr(a.source, "assumptions0", {})
        rules = []
        x = _free(a.name)
        if assumed.get("integer"):
            rules.append(("an integer", lambda xp, v: v == xp.floor(v), sp.Eq(x, sp.floor(x))))
        for key, rule, test in _SIGN_RULES:
            if assumed.get(key):
                rules.append((rule, test, _SIGN_TESTS[key](x) if key in _SIGN_TESTS else None))
                break
        for rule, test, expr in rules:
            out.append(_assumption_guard(a.name, a.kind, rule, test, expr, xp, where))
    return out


_SIGN_TESTS: dict[str, Callable[[sp.Symbol], sp.Basic]] = {
    "positive": lambda x: sp.Gt(x, 0), "negative": lambda x: sp.Lt(x, 0),
    "nonnegative": lambda x: sp.Ge(x, 0), "nonpositive": lambda x: sp.Le(x, 0),
    "nonzero": lambda x: sp.Ne(x, 0),
    # "real" (x == x, not NaN) has no SymPy form that And() would not fold to True: it is
    # screened on its own
}


def _assumption_guard(name: str, kind: str, rule: str, test: Callable[[Any, Any], Any],
                      expr: sp.Basic | None, xp: Any, where: str) -> _Guard:
    what = "every entry of " if kind == "indexed" else ""
    key = rule.split(" (")[0].removeprefix("an ")

    def screen(env: dict[str, Any]) -> None:
        v = env[name]
        ok = test(xp, v)
        if bool(xp.all(ok)):
            return
        shape = tuple(ok.shape)
        idx = _first_violation(xp, ok)
        raise ValueError(
            f"{where}: {what}{name} must be {rule} (SymPy assumption {key}=True); got "
            f"{name}={_number_text(_at(xp, v, shape, idx))}"
            f"{_where_text(idx, shape)}")

    # an indexed family's entries are screened by ``screen`` (its fast test would need the
    # family's whole last axis, which is what ``screen`` looks at anyway)
    return _Guard(f"{name} {key}", screen, expr if kind == "scalar" else None)


def compile_guards(conditions: Sequence[sp.Basic], low: _Lowered, xp: Any,
                   where: str) -> tuple[list[_Guard], dict[str, str]]:
    """The screens of one claim: its symbols' assumptions, then each condition whose
    values the claim's arguments carry.

    A relation (``B <= n``, ``eta*lambda_j < 2``, ``Or(Eq(s, 1), Eq(s, 1/m))``) is printed
    with the claim's own printer into a boolean array function of the arguments (shape
    sizes such as the ``n`` of an ``(n, d)`` matrix included) and holds where every
    broadcast entry is True; ``Eq`` holds up to rounding. ``Q.symmetric(M)`` holds when
    ``max |M - Mᵀ| <= 10 n eps max |M|``; ``Q.positive_definite(M)`` when ``M`` is
    symmetric so and its smallest eigenvalue is positive. A condition on a symbol the
    claim does not take, or of a kind with no numeric test, is returned in the second
    value with the reason (it is not screened).
    """
    names: dict[Any, str] = {a.source: a.name for a in low.arguments}
    names.update({("shape", s): s for s in low.shapes})
    guards = _assumption_guards(low, xp, where)
    unchecked: dict[str, str] = {}
    for c in conditions:
        text = sp.sstr(c)
        if isinstance(c, sp.assumptions.assume.AppliedPredicate):
            (m,) = c.arguments if len(c.arguments) == 1 else (None,)
            if m is None or m not in names:
                g: _Guard | str = (f"is about {sp.sstr(m)}, which {where} does not take"
                                   if m is not None else "has several arguments")
            else:
                g = _matrix_guard(c, names[m], text, xp, where)
        else:
            g = _relation_guard(c, text, names, xp, where)
        if isinstance(g, str):
            unchecked[text] = g
        else:
            guards.append(g)
    return guards, unchecked


def compile_claim(obj: Any, xp: Any, where: str,
                  conditions: Sequence[sp.Basic] | None = None) -> Callable[..., Any]:
    """A function of keyword arguments evaluating one claim on ``xp`` arrays (see
    :meth:`theory.Result.numeric` for the conventions). ``where`` names the claim in errors.

    With ``conditions`` (a sequence, possibly empty) the function first screens its
    arguments against them and against the SymPy assumptions of the claim's symbols
    (:func:`compile_guards`) and raises ``ValueError`` naming the violated one; with
    ``None`` it does not screen. Either way ``evaluate.checked`` lists the screens (empty
    without screening) and ``evaluate.unchecked`` maps each condition that cannot be
    screened to the reason.
    """
    low = lower(obj, where)
    callables = frozenset(a.name for a in low.arguments if a.kind == "function")
    try:
        fn = array_api_lambdify(_positional(low), low.expr, xp, callables)
    except UnprintableError as exc:
        raise UnprintableError(f"{where}: {exc}") from None
    names = tuple(a.name for a in low.arguments)
    kinds = {a.name: a.kind for a in low.arguments}
    aliases = {}
    for a in low.arguments:
        raw = a.source.name if hasattr(a.source, "name") else getattr(a.source, "__name__", "")
        if raw and raw != a.name and raw not in kinds:
            aliases[str(raw)] = a.name
    shapes, checks = low.shapes, low.checks
    if conditions is None:
        guards: list[_Guard] = []
        unchecked: dict[str, str] = {}
    else:
        guards, unchecked = compile_guards(conditions, low, xp, where)
    # the fast path: every screen with a SymPy test in one boolean array function
    fast = [g for g in guards if g.test is not None]
    slow = [g for g in guards if g.test is None]
    fast_fn, fast_args = None, ()
    if fast:
        both = sp.And(*[g.test for g in fast])
        fast_args = tuple(sorted({str(x) for x in both.free_symbols}))
        if both is not sp.true:
            fast_fn = array_api_lambdify([_free(n) for n in fast_args], both, xp)

    def evaluate(**kwargs: Any) -> Any:
        if not kwargs.keys() <= kinds.keys():
            kwargs = _keywords(kwargs, kinds, aliases, where)
        missing = [n for n in names if n not in kwargs]
        extra = [n for n in kwargs if n not in names]
        if missing or extra:
            raise TypeError(_argument_message(where, names, missing, extra))
        vals = {n: _as_array(xp, kinds[n], n, kwargs[n], where) for n in names}
        sizes: dict[str, int] = {s: int(vals[a].shape[ax]) for s, (a, ax) in shapes.items()}
        known = {low.symbols.get(k, sp.Symbol(k)): v for k, v in sizes.items()}
        for a, ax, d in checks:
            want = _size(d, known, vals, kinds)
            if want is not None and int(vals[a].shape[ax]) != want:
                raise ValueError(
                    f"{where}: argument {a} has shape {tuple(vals[a].shape)}; axis {ax} must "
                    f"have length {d} = {want}"
                )
        if guards:
            env = {**vals, **{k: xp.asarray(float(v), dtype=xp.float64)
                              for k, v in sizes.items()}}
            if fast_fn is not None and not _all(xp, fast_fn(*[env[n] for n in fast_args])):
                for g in fast:
                    g.screen(env)
                # the screens one by one found nothing: they cannot disagree with their
                # conjunction unless the arguments do not broadcast together
                raise ValueError(f"{where}: the conditions {', '.join(g.text for g in fast)} "
                                 "fail together but not one by one; do the arguments broadcast?")
            for g in slow:
                g.screen(env)
        return fn(*[vals[n] for n in names], *[sizes[s] for s in shapes])

    evaluate.arguments = names  # type: ignore[attr-defined]
    evaluate.checked = tuple(g.text for g in guards)  # type: ignore[attr-defined]
    evaluate.unchecked = unchecked  # type: ignore[attr-defined]
    evaluate.symbols = {a.name: a.source for a in low.arguments}  # type: ignore[attr-defined]
    evaluate.kinds = kinds  # type: ignore[attr-defined]
    return evaluate


def _python_function(obj: Any, where: str, fname: str, title: str) -> tuple[set[str], str]:
    """The helpers a claim's NumPy function needs and the function's source."""
    low = lower(obj, where)
    callables = frozenset(a.name for a in low.arguments if a.kind == "function")
    printer = _ArrayAPIPrinter({"prefix": "np.", "callables": callables})
    expr = low.expr
    items = list(expr) if isinstance(expr, sp.Tuple) else [expr]
    repl, reduced = sp.cse(items)
    try:
        lines = [f"    {printer._print(s)} = {printer._print(v)}" for s, v in repl]
        outs = [printer._print(r) for r in reduced]
    except UnprintableError as exc:
        raise UnprintableError(f"{where}: {exc}") from None
    ret = f"({', '.join(outs)},)" if isinstance(expr, sp.Tuple) else outs[0]
    value = obj if isinstance(obj, (sp.Tuple, tuple)) else _first_claim(obj)
    doc = [f'    r"""{where}{": " + title if title else ""}', "",
           f"    Value: {sp.sstr(value)[:300]}", "",
           "    Arguments (float64 arrays; leading axes are a batch and broadcast):"]
    for a in low.arguments:
        raw = a.source.name if hasattr(a.source, "name") else getattr(a.source, "__name__", "")
        what = {"scalar": "scalar",
                "matrix": f"matrix, shape (..., {a.shape[0]}, {a.shape[1]})" if a.shape else "",
                "indexed": "indexed family; the index runs along the last axis, from 1",
                "function": "callable, called with the arrays of its arguments"}[a.kind]
        alias = f" (SymPy name {raw})" if raw and str(raw) != a.name else ""
        doc.append(f"    {a.name}: {what}{alias}")
    doc.append('    """')
    body = [f"    {a.name} = np.asarray({a.name}, dtype=np.float64)"
            for a in low.arguments if a.kind != "function"]
    body += [f"    {s} = {a}.shape[{ax}]" for s, (a, ax) in low.shapes.items()]
    params = ", ".join(a.name for a in low.arguments)
    src = "\n".join([f"def {fname}({params}):", *doc, *body, *lines, f"    return {ret}", ""])
    helpers = set(printer.helpers_used)
    if helpers:
        helpers.add("_int")
    return helpers, src


def _python_header(helpers: set[str]) -> list[str]:
    head = ["import numpy as np", ""]
    if helpers:
        head += ["xp = np  # the helpers below are array-API code, here on NumPy", ""]
    if helpers & _NEEDS_SPECIAL:
        head += [_special_source(), ""]
    for h in _HELPERS:
        if h in helpers:
            head += [_HELPERS[h].strip(), "", ""]
    return head


def python_source(obj: Any, where: str, fname: str, title: str = "") -> str:
    """Self-contained NumPy source of one claim: ``import numpy as np`` and ``def fname``
    (with any helper it needs defined inline)."""
    helpers, src = _python_function(obj, where, fname, title)
    return "\n".join([*_python_header(helpers), src])


def python_module(claims: Sequence[tuple[Any, str, str, str]]) -> str:
    """One runnable NumPy module defining a function per claim ``(obj, where, fname, title)``:
    the imports and helpers once, then the functions."""
    helpers: set[str] = set()
    funcs = []
    for obj, where, fname, title in claims:
        h, src = _python_function(obj, where, fname, title)
        helpers |= h
        funcs += [src, ""]
    return "\n".join([*_python_header(helpers), *funcs])
