"""The :class:`Result` object: one derived (or stated) statement with its provenance."""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["Result", "Step", "UnknownNameError"]


@dataclass(frozen=True)
class Step:
    """One step of a derivation: what was done and the SymPy object it produced."""

    description: str
    expr: sp.Basic

    def __repr__(self) -> str:
        return f"Step({self.description!r}: {sp.sstr(self.expr)})"


def _relation_text(expr: sp.Basic) -> str:
    return sp.sstr(expr)


@dataclass(frozen=True, eq=False, repr=False)
class Result:
    r"""A statement of the theory of implicit regularization, with where it comes from.

    Parameters
    ----------
    id
        Dotted identifier from the catalog, e.g. ``"linear.gd_limit"``.
    title
        The statement in words.
    source
        The seed file and the paper it cites.
    statement
        A SymPy object: expression, ``Eq``, relation, boolean, or ``Matrix``.
    symbols
        Every free symbol the statement (and its parts) may use, with SymPy assumptions.
    conditions
        Side conditions under which the statement holds (SymPy relations).
    notes
        Corrections to the source and remarks.
    derivation
        The SymPy steps that produced the statement, or empty for a *stated* result.
    parts
        Further named SymPy objects that belong to the result (limits, thresholds, ...);
        ``numeric(part=name)`` evaluates them.
    references
        Papers (author, year, title, equation).
    explains
        Names of parts that only explain (a seed's printed table, a worked number): they
        are not claims, so no check has to evaluate them and ``implreg derive`` marks them.
        Every other part, and the statement, is a *claim* (:attr:`claims`).

    Examples
    --------
    >>> import theory
    >>> r = theory.get("linear.gd_iterate")
    >>> r.id
    'linear.gd_iterate'
    >>> print(r.latex())  # doctest: +ELLIPSIS
    c_{j,k} = ...
    """

    id: str
    title: str
    source: str
    statement: sp.Basic
    symbols: tuple[sp.Symbol, ...]
    conditions: tuple[sp.Basic, ...] = ()
    notes: str = ""
    derivation: tuple[Step, ...] = ()
    parts: Mapping[str, sp.Basic] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    explains: tuple[str, ...] = ()
    # Not an __init__ argument: ``dataclasses.replace`` (how mutants are made) must not
    # share the compiled functions of the original.
    _cache: dict[tuple[str, str | None, bool], Callable[..., Any]] = field(
        default_factory=dict, compare=False, init=False
    )

    def __post_init__(self) -> None:
        # Conditions that SymPy already knows from the assumptions (eta > 0 with eta
        # positive) evaluate to True; they say nothing, so drop them.
        object.__setattr__(self, "conditions", tuple(c for c in self.conditions if c is not sp.true))
        names = [s.name for s in self.symbols]
        bad = [n for n in names if not n.isidentifier() or keyword.iskeyword(n)]
        if bad:
            raise ValueError(f"{self.id}: symbol names must be Python identifiers; got {bad}")
        if len(set(names)) != len(names):
            raise ValueError(f"{self.id}: two symbols share a name in {names}")
        unknown_parts = [p for p in self.explains if p not in self.parts]
        if unknown_parts:
            raise ValueError(f"{self.id}: explains names parts it does not have: {unknown_parts}")
        known = set(self.symbols)
        for name, obj in [("statement", self.statement), *self.parts.items()]:
            stray = _free_symbols(obj) - known
            if stray:
                raise ValueError(
                    f"{self.id}: {name} uses symbols not declared in `symbols`: "
                    f"{sorted(map(str, stray))}"
                )

    # ------------------------------------------------------------------ identity
    @property
    def topic(self) -> str:
        """The catalog section: the part of the id before the dot."""
        return self.id.split(".", 1)[0]

    @property
    def stated(self) -> bool:
        """True when SymPy does not carry the proof (the evidence is the numeric check)."""
        return not self.derivation

    @property
    def claims(self) -> tuple[str, ...]:
        """What the result asserts: ``"statement"`` and every part not in ``explains``.

        A check certifies a claim by evaluating it (``numeric(part=...)`` or ``evalf``);
        ``implreg verify`` reports which claims each check evaluated.
        """
        return ("statement", *(p for p in self.parts if p not in self.explains))

    @property
    def assumptions(self) -> dict[str, dict[str, bool]]:
        """Each symbol's SymPy assumptions that are set (``positive``, ``integer``...)."""
        keep = ("positive", "nonnegative", "negative", "integer", "real", "finite")
        return {
            s.name: {k: v for k, v in s.assumptions0.items() if k in keep and v is not None}
            for s in self.symbols
        }

    # ------------------------------------------------------------------ printing
    def latex(self, part: str | None = None, **settings: Any) -> str:
        """The statement (or a named part) as LaTeX, via :func:`sympy.latex`."""
        return sp.latex(self._get(part), **settings)

    def conditions_latex(self) -> str:
        """The side conditions joined by commas, as LaTeX."""
        return r",\quad ".join(sp.latex(c) for c in self.conditions)

    def _repr_latex_(self) -> str:
        body = self.latex()
        if self.conditions:
            body += r"\qquad\text{if } " + self.conditions_latex()
        return f"$\\displaystyle {body}$"

    def __repr__(self) -> str:
        lines = [f"<Result {self.id}: {self.title}>", f"  {sp.sstr(self.statement)}"]
        if self.conditions:
            lines.append("  if " + ", ".join(_relation_text(c) for c in self.conditions))
        if self.parts:
            lines.append("  parts: " + ", ".join(
                f"{p} (explains)" if p in self.explains else p for p in self.parts))
        lines.append(f"  source: {self.source}")
        lines.append("  stated (evidence is numeric)" if self.stated
                     else f"  derived in {len(self.derivation)} SymPy steps")
        return "\n".join(lines)

    def __str__(self) -> str:
        out = [f"{self.id} — {self.title}", "", sp.pretty(self.statement, use_unicode=True)]
        if self.conditions:
            out += ["", "if " + ", ".join(sp.pretty(c, use_unicode=True)
                                          for c in self.conditions)]
        for name, obj in self.parts.items():
            tag = " (explains; not a claim)" if name in self.explains else ""
            out += ["", f"{name}{tag}:", sp.pretty(obj, use_unicode=True)]
        if self.notes:
            out += ["", "Notes: " + self.notes]
        out += ["", "Source: " + self.source]
        return "\n".join(out)

    def python(self, part: str | None = None) -> str:
        """A runnable, self-contained NumPy function for the statement (or a named part).

        The source starts with ``import numpy as np`` (and any helper it needs, defined
        inline) and defines ``def <id>[_<part>](...)`` whose arguments follow the
        conventions of :meth:`numeric`: matrices are ``(..., rows, cols)`` arrays multiplied
        with ``@``, ``M⁻¹ B`` is ``np.linalg.solve(M, B)``, names are Python identifiers.

        Examples
        --------
        >>> import theory
        >>> src = theory.get("linear.gd_limit").python()
        >>> "np.linalg.solve(" in src and "def linear_gd_limit(A, x_0, y):" in src
        True
        """
        from theory._printing import python_source  # noqa: PLC0415

        fname = (self.id + ("" if part in (None, "statement") else "." + part)).replace(".", "_")
        return python_source(self._get(part), self._where(part), fname, self.title)

    def _where(self, part: str | None) -> str:
        return self.id + ("" if part in (None, "statement") else f"[{part}]")

    # ------------------------------------------------------------------ numbers
    def _get(self, part: str | None) -> sp.Basic:
        if part is None or part == "statement":
            return self.statement
        if not isinstance(part, str):
            raise TypeError(f"{self.id}: part must be a str (a part name or 'statement'); "
                            f"got {type(part).__name__}")
        try:
            return self.parts[part]
        except KeyError:
            import difflib  # noqa: PLC0415

            close = difflib.get_close_matches(part, list(self.parts), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            have = ", ".join(["statement", *self.parts])
            raise UnknownNameError(
                f"{self.id} has no part {part!r}{hint} (it has {have})") from None

    def _screen_subs(self, where: str, subs: Mapping[str, Any], by_name: Mapping[str, Any],
                     scalars: Mapping[sp.Symbol, sp.Basic], num: Callable[[Any], Any]) -> None:
        """Raise ``ValueError`` if the numbers of :meth:`evalf` break an assumption or a
        condition that they decide (see :meth:`evalf`)."""
        for k, v in subs.items():
            s = by_name[k]
            if isinstance(s, sp.Symbol):
                values = [(k, scalars[s])]
            elif isinstance(s, sp.IndexedBase):
                values = [(f"{k}[{i + 1}]", num(x)) for i, x in enumerate(v)]
            else:
                continue
            for rule, key in _rules(s):
                for label, x in values:
                    if _violates(rule, x):
                        raise ValueError(f"{where}: {label} must be {rule} (SymPy assumption "
                                         f"{key}=True); got {label}={_text(x)}")
        matrices = {by_name[k]: v for k, v in subs.items()
                    if isinstance(by_name[k], sp.MatrixSymbol)}
        for c in self.conditions:
            text = sp.sstr(c)
            if isinstance(c, sp.assumptions.assume.AppliedPredicate):
                (m,) = c.arguments if len(c.arguments) == 1 else (None,)
                if m in matrices:
                    _screen_matrix(where, c, text, m, matrices[m])
                continue
            if not c.free_symbols <= set(scalars):
                continue
            got = _tolerant(c).xreplace(dict(scalars))
            if got is sp.false:
                at = ", ".join(f"{s.name}={_text(scalars[s])}"
                               for s in sorted(c.free_symbols, key=lambda s: s.name))
                raise ValueError(f"{where}: condition {text} violated at {at}")

    def numeric(self, xp: Any = None, *, part: str | None = None,
                check_conditions: bool = True) -> Callable[..., Any]:
        r"""A function evaluating the statement (or a part) on arrays of the namespace ``xp``.

        The function is built once per namespace and part (SymPy's ``lambdify`` with
        ``cse=True`` after the rewrites of :func:`theory._printing.stabilize`) and cached.

        Parameters
        ----------
        xp
            An array-API namespace (``numpy``, ``array_api_strict``, ...); NumPy if omitted.
        part
            Evaluate a named part instead of the statement (``"statement"`` is the statement).
        check_conditions
            Screen every call's arguments against the result's ``conditions`` and the
            SymPy assumptions of its symbols, and raise ``ValueError`` naming the violated
            one and the offending values (see *Conditions* below). Pass ``False`` only to
            evaluate a closed form outside the range where the result holds, on purpose.

        Returns
        -------
        evaluate
            A function of keyword arguments only. ``evaluate.arguments`` is the tuple of
            their names, ``evaluate.symbols`` maps each name to its SymPy object and
            ``evaluate.kinds`` to ``"scalar"``, ``"matrix"``, ``"indexed"`` or ``"function"``.
            ``evaluate.checked`` lists the screens it applies (empty with
            ``check_conditions=False``) and ``evaluate.unchecked`` maps each condition it
            cannot screen to the reason.

        Raises
        ------
        ValueError
            From ``evaluate``: an argument value outside a condition or an assumption, e.g.
            ``stability.sgd_threshold: condition B <= n violated at B=12, n=10``; for a
            batch, the message gives the first violating index.
        TypeError
            From ``evaluate``: a missing or unknown keyword argument.

        Notes
        -----
        Argument conventions:

        * **Names.** One keyword per free symbol, ``MatrixSymbol``, ``IndexedBase`` and
          undefined function, named after it. A LaTeX name becomes a Python identifier by
          :func:`theory._printing.identifier` (``\hat{x}`` → ``x_hat``, ``a^{*}`` →
          ``a_star``, ``\lambda`` → ``lambda_``); the SymPy name, and any name whose
          identifier is the keyword (the LaTeX spelling ``\Psi`` of ``Psi``), are accepted
          too (as a ``**{...}`` key). Two objects of one claim with one name (a matrix ``a`` and an
          indexed ``a``) are told apart by a suffix (``a_indexed``).
        * **Scalars.** Python numbers become float64 0-d arrays; arrays broadcast.
        * **Matrices.** The last two axes are the matrix (a column vector is ``(..., k, 1)``),
          leading axes are a batch and broadcast, so ``@``, ``linalg.solve`` and
          ``matrix_transpose`` act per replica. A scalar argument's batch shape ``(...)``
          aligns with a matrix's leading axes. Sizes that appear only in matrix shapes
          (``n, d`` of ``MatrixSymbol("A", n, d)``) are not arguments: they are read from
          the arrays and their consistency is checked (``ValueError`` naming the argument).
          The value of a matrix expression is such an array; ``M⁻¹ B`` is
          ``linalg.solve(M, B)`` and ``B M⁻¹`` a transposed solve (``inv`` only for a lone
          inverse); ``M**p`` for non-integer ``p`` uses ``eigh`` (``M`` symmetric positive
          definite); ``Identity(n)`` and ``ZeroMatrix`` take their size from the operands.
        * **Sums and products.** An ``IndexedBase`` ``a`` is an array whose *last* axis
          carries the index, from 1: ``Sum(f(a[j]), (j, 1, d))`` is ``sum(f(a), axis=-1)``
          and ``a`` must have ``d`` entries on that axis (checked); ``a[j + 1]`` takes the
          shifted entries; ``a[j]`` with a free ``j`` is ``a[..., j - 1]``. Terms that do not
          depend on the index broadcast against it. A nested ``Sum`` raises.
        * **Undefined functions** (``Function("k")(x, y)``) are callable arguments, called
          with the arrays of their arguments.
        * **Values.** ``Eq`` → its right-hand side; relations and ``And``/``Or`` → boolean
          arrays; ``Tuple`` → a tuple of arrays (an ``Eq`` inside → its right-hand side);
          an explicit ``sympy.Matrix`` → an array ``(..., rows, cols)``; ``gamma``,
          ``loggamma``, ``factorial``, ``binomial``, ``elliptic_k``, ``elliptic_e`` →
          array-API code in :mod:`theory._special`.

        A construct that cannot be printed raises one
        :class:`theory._printing.UnprintableError` naming the construct and the result.

        Conditions (:func:`theory._printing.compile_guards`). Each is compiled once, with
        the printer of the claim, into a boolean array function; a call passes when every
        broadcast entry is True.

        * **Assumptions.** ``integer``: the value is integral; ``positive``, ``negative``,
          ``nonnegative``, ``nonpositive``, ``nonzero``: the sign (NaN fails); ``real``
          alone: not NaN. An indexed family's assumption holds for every entry. Finiteness
          is not screened (``inf`` may stand for a limit).
        * **Relations** of scalars (``B <= n``, ``And``, ``Or``) as written, with sizes read
          from matrix shapes standing for their symbols; ``Eq`` holds up to 4 eps of the
          larger side (rounding).
        * **Matrix predicates.** ``Q.symmetric(M)``: ``max |M - Mᵀ| <= 10 n eps max |M|``
          per batch entry (the rounding of the products that build ``M``);
          ``Q.positive_definite(M)``: that, and the smallest eigenvalue of ``M`` positive.
        * **Not screened** (listed in ``evaluate.unchecked``): a condition on a symbol the
          claim does not take (``eta < 2/lambda_max`` for a limit that has no ``eta``), a
          condition the claim itself states (the region ``eta < 2/lambda_max`` of
          ``linear.gd_limit``, evaluated on both sides), any other ``Q`` predicate, a
          relation between matrices.

        The screens cost a few elementwise array operations per condition and call;
        ``python -m verify verify`` runs with them on.

        Examples
        --------
        >>> import numpy as np
        >>> import theory
        >>> f = theory.get("linear.gd_limit").numeric(np)
        >>> f.arguments
        ('A', 'x_0', 'y')
        >>> A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
        >>> x = f(A=A, x_0=np.zeros((3, 1)), y=np.array([[1.0], [2.0]]))
        >>> x.shape, bool(np.allclose(A @ x, [[1.0], [2.0]]))
        ((3, 1), True)
        """
        if xp is None:
            import numpy as xp  # noqa: PLC0415 (theory never imports NumPy at module level)
        if part == "statement":
            part = None
        if not isinstance(check_conditions, bool):
            raise TypeError(f"{self.id}: check_conditions must be True or False; got "
                            f"{check_conditions!r}")
        key = (getattr(xp, "__name__", repr(xp)), part, check_conditions)
        if key not in self._cache:
            self._cache[key] = self._compile(xp, part, check_conditions)
        return self._cache[key]

    def _compile(self, xp: Any, part: str | None, check: bool) -> Callable[..., Any]:
        from theory._printing import compile_claim  # noqa: PLC0415

        obj = self._get(part)
        # A claim that states a condition itself (the region eta < 2/lambda_max) is evaluated
        # on both sides of it: screening would leave it nothing to decide.
        relations = ({obj} if isinstance(obj, sp.core.relational.Relational)
                     else obj.atoms(sp.core.relational.Relational)
                     if isinstance(obj, sp.logic.boolalg.Boolean) else set())
        stated = [c for c in self.conditions if c in relations]
        screened = [c for c in self.conditions if c not in relations]
        evaluate = compile_claim(obj, xp, self._where(part), screened if check else None)
        for c in stated if check else ():
            evaluate.unchecked[sp.sstr(c)] = ("is what the claim states (it is evaluated on "
                                              "both sides)")
        evaluate.__name__ = (self.id + ("" if part is None else "." + part)).replace(".", "_")
        evaluate.__doc__ = f"{self.id}: {sp.sstr(obj.rhs if isinstance(obj, sp.Equality) else obj)}"
        return evaluate

    def evalf(self, subs: Mapping[str, Any], *, part: str | None = None, n: int = 30,
              check_conditions: bool = True) -> Any:
        """Evaluate with mpmath at ``n`` digits: the high-precision reference for checks.

        ``subs`` maps symbol names (SymPy's, or the identifiers of :meth:`numeric`) to
        numbers; an ``IndexedBase`` takes a sequence (its entries 1, 2, ...), a
        ``MatrixSymbol`` a nested sequence. A ``Tuple`` gives a tuple.

        With ``check_conditions`` (the default) the values are screened as in
        :meth:`numeric`: the assumptions of each substituted symbol (every entry of an
        indexed family), each condition that the substitution decides (``Eq`` up to 4 eps
        of float64, as the values are usually float64 inputs), and ``Q.symmetric`` /
        ``Q.positive_definite`` of a substituted matrix; a violation raises ``ValueError``
        naming it and the values. A condition on a symbol left out of ``subs`` is not
        screened.
        """
        if not isinstance(subs, Mapping):
            raise TypeError(f"{self.id}: subs must be a mapping of symbol names to numbers; "
                            f"got {type(subs).__name__}")
        if not isinstance(check_conditions, bool):
            raise TypeError(f"{self.id}: check_conditions must be True or False; got "
                            f"{check_conditions!r}")
        from theory._printing import lower  # noqa: PLC0415

        obj = self._get(part)
        if isinstance(obj, sp.Equality):
            obj = obj.rhs
        # the names numeric() uses (identifiers), then the SymPy names, then every symbol
        by_name: dict[str, Any] = {}
        try:
            low = lower(obj, self._where(part))
            by_name.update({a.name: a.source for a in low.arguments})
        except NotImplementedError:
            pass
        for src in list(by_name.values()):
            raw = getattr(src, "name", None)
            if isinstance(raw, str):
                by_name.setdefault(raw, src)
        for s in self.symbols:
            by_name.setdefault(s.name, s)
        # a name whose identifier() is a known name (the LaTeX spelling \Psi of Psi)
        from theory._printing import identifier  # noqa: PLC0415

        for k in subs:
            if k not in by_name and identifier(k) in by_name:
                by_name[k] = by_name[identifier(k)]
        unknown = [k for k in subs if k not in by_name]
        if unknown:
            raise UnknownNameError(
                f"{self._where(part)}: evalf got unknown symbol name"
                f"{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"it takes {', '.join(sorted(by_name))}")

        def num(v: Any) -> Any:
            try:
                out = sp.Float(v, n) if isinstance(v, float) else sp.sympify(v)
            except (sp.SympifyError, TypeError, ValueError):
                out = None
            if isinstance(out, sp.Basic) and (out.is_number or out is sp.nan):
                return out
            raise TypeError(f"{self._where(part)}: evalf needs numbers in subs; got "
                            f"{type(v).__name__} {v!r}"[:200])

        scalars = {}
        for k, v in subs.items():
            s = by_name[k]
            if isinstance(s, sp.Symbol):
                scalars[s] = num(v)
        if check_conditions:
            self._screen_subs(self._where(part), subs, by_name, scalars, num)

        def one(e: Any) -> Any:
            if isinstance(e, sp.Equality):
                e = e.rhs
            if isinstance(e, (sp.Tuple, tuple)):
                return tuple(one(x) for x in e)
            for k, v in subs.items():  # matrices first: the scalars change their shapes
                s = by_name[k]
                if isinstance(s, sp.MatrixSymbol):
                    e = e.xreplace({s: sp.ImmutableMatrix([[num(x) for x in row] for row in v])})
            e = e.xreplace(scalars) if isinstance(e, sp.Basic) else e
            if any(isinstance(by_name[k], sp.IndexedBase) for k in subs):
                e = e.doit()
                for k, v in subs.items():
                    b = by_name[k]
                    if isinstance(b, sp.IndexedBase):
                        e = e.xreplace({b[i + 1]: num(x) for i, x in enumerate(v)})
            if isinstance(e, (sp.MatrixExpr, sp.MatrixBase)) or e.atoms(sp.MatrixExpr):
                e = e.replace(lambda x: isinstance(x, sp.MatPow) and not x.exp.is_integer
                              and not x.base.free_symbols,
                              lambda x: _matrix_power(x.base.doit(), x.exp, n))
                e = e.doit()
                if isinstance(e, sp.MatrixExpr) and not e.atoms(sp.MatrixSymbol):
                    e = e.as_explicit()
            if isinstance(e, sp.logic.boolalg.BooleanAtom):
                return e
            return e.evalf(n)

        return one(obj)


class UnknownNameError(KeyError):
    """A part or symbol name the result does not have (a ``KeyError`` that reads plainly)."""

    def __str__(self) -> str:  # KeyError quotes its argument
        return str(self.args[0])


_EPS = 2.0**-52  # float64 machine epsilon


def _text(v: sp.Basic) -> str:
    """A number as a message shows it: an integer as such, a float with float64's digits."""
    if isinstance(v, sp.Float) and v == v:
        f = float(v)
        whole = sp.floor(v) == sp.ceiling(v)  # (Float(2.0) == 2 is False in SymPy)
        return str(int(f)) if whole and abs(f) < 2**53 else repr(f)
    return sp.sstr(v)


def _violates(rule: str, v: sp.Basic) -> bool:
    """Whether the number ``v`` breaks the assumption ``rule`` (NaN breaks every rule)."""
    if v is sp.nan or (isinstance(v, sp.Float) and v != v):
        return True
    if not v.is_number:
        return False
    test = {"an integer": lambda: sp.floor(v) == sp.ceiling(v), "positive": lambda: v > 0,
            "negative": lambda: v < 0, "nonnegative": lambda: v >= 0,
            "nonpositive": lambda: v <= 0, "nonzero": lambda: v != 0,
            "real (not NaN)": lambda: True}[rule]
    return not bool(test())


def _rules(obj: Any) -> list[tuple[str, str]]:
    """The assumptions screened for a symbol or indexed family: (rule text, key)."""
    assumed = getattr(obj, "assumptions0", {})
    out = [("an integer", "integer")] if assumed.get("integer") else []
    for key in ("positive", "negative", "nonnegative", "nonpositive", "nonzero", "real"):
        if assumed.get(key):
            out.append(("real (not NaN)" if key == "real" else key, key))
            break
    return out


def _tolerant(c: sp.Basic) -> sp.Basic:
    """``Eq(a, b)`` as ``|a - b| <= 4 eps max(|a|, |b|)`` (float64 inputs carry rounding)."""
    return c.replace(lambda e: isinstance(e, sp.Equality),
                     lambda e: sp.Le(sp.Abs(e.lhs - e.rhs),
                                     4 * sp.Float(_EPS) * sp.Max(sp.Abs(e.lhs), sp.Abs(e.rhs))))


def _matrix_power(m: sp.MatrixBase, p: sp.Basic, n: int) -> sp.ImmutableMatrix:
    """M**p for a symmetric positive definite numeric matrix, by mpmath's eigendecomposition
    at n + 10 digits (SymPy's symbolic route through the Jordan form does not finish)."""
    import mpmath  # noqa: PLC0415

    with mpmath.workdps(n + 10):
        a = mpmath.matrix([[mpmath.mpf(str(sp.Float(x, n + 10))) for x in row]
                           for row in m.tolist()])
        w, v = mpmath.eigsy(a)
        pw = mpmath.mpf(str(sp.Float(p, n + 10)))
        d = mpmath.diag([wi**pw for wi in w])
        out = v * d * v.T
        return sp.ImmutableMatrix([[sp.Float(out[i, j], n + 10) for j in range(out.cols)]
                                   for i in range(out.rows)])


def _screen_matrix(where: str, pred: Any, text: str, m: sp.MatrixSymbol, rows: Any) -> None:
    """``Q.symmetric`` / ``Q.positive_definite`` of the nested sequence ``rows`` (given to
    :meth:`Result.evalf` for ``m``), with the tolerance of :meth:`Result.numeric`."""
    import mpmath  # noqa: PLC0415

    a = [[mpmath.mpf(float(x)) if isinstance(x, float) else mpmath.mpf(str(sp.N(x, 40)))
          for x in row] for row in rows]
    size = len(a)
    if any(len(row) != size for row in a):
        raise ValueError(f"{where}: condition {text} violated: {m.name} is not square")
    if pred.function not in (sp.Q.symmetric, sp.Q.positive_definite):
        return
    big = max((abs(x) for row in a for x in row), default=mpmath.mpf(0))
    d = max((abs(a[i][j] - a[j][i]) for i in range(size) for j in range(size)),
            default=mpmath.mpf(0))
    tol = 10 * size * _EPS * big  # the rounding bound of numeric()'s screen
    if d > tol:
        raise ValueError(f"{where}: condition {text} violated: max |{m.name} - {m.name}^T| = "
                         f"{float(d):.3g} exceeds the rounding tolerance {float(tol):.3g}")
    if pred.function == sp.Q.positive_definite:
        with mpmath.workdps(40):
            sym = mpmath.matrix([[(a[i][j] + a[j][i]) / 2 for j in range(size)]
                                 for i in range(size)])
            lo = min(mpmath.eigsy(sym, eigvals_only=True))
        if lo <= 0:
            raise ValueError(f"{where}: condition {text} violated: {m.name} has smallest "
                             f"eigenvalue {float(lo):.3g}")


def _free_symbols(obj: sp.Basic) -> set[sp.Symbol]:
    """Free scalar symbols, leaving out the labels of indexed families (a^*_j in a Sum)."""
    syms = getattr(obj, "free_symbols", set())
    labels = {b.label for b in obj.atoms(sp.IndexedBase)} if isinstance(obj, sp.Basic) else set()
    return {s for s in syms if isinstance(s, sp.Symbol) and s not in labels}
