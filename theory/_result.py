"""The :class:`Result` object: one derived (or stated) statement with its provenance."""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["Result", "Step"]


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
    _cache: dict[tuple[str, str | None], Callable[..., Any]] = field(
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
        """What the result asserts: ``"statement"`` and every part not in :attr:`explains`.

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
        """The statement as Python source (SymPy's ``pycode`` with NumPy names)."""
        obj = self._get(part)
        if isinstance(obj, sp.Equality):
            obj = obj.rhs
        return sp.pycode(obj, fully_qualified_modules=True)

    # ------------------------------------------------------------------ numbers
    def _get(self, part: str | None) -> sp.Basic:
        if part is None or part == "statement":
            return self.statement
        try:
            return self.parts[part]
        except KeyError:
            raise KeyError(
                f"{self.id} has no part {part!r}; its parts are {sorted(self.parts)}"
            ) from None

    def numeric(self, xp: Any = None, *, part: str | None = None) -> Callable[..., Any]:
        r"""A function evaluating the statement on arrays of the namespace ``xp``.

        The function takes keyword arguments named after the result's symbols. For an
        equation it returns the right-hand side; for a relation, a boolean array.
        Python scalars are converted with ``xp.asarray`` (float64); the function is
        built once per namespace with SymPy's ``lambdify`` and cached.

        Parameters
        ----------
        xp
            An array-API namespace; NumPy if omitted.
        part
            Evaluate a named part instead of the statement.
        """
        if xp is None:
            import numpy as xp  # noqa: PLC0415 (theory never imports NumPy at module level)
        if part == "statement":
            part = None
        key = (getattr(xp, "__name__", repr(xp)), part)
        if key not in self._cache:
            self._cache[key] = self._compile(xp, part)
        return self._cache[key]

    def _compile(self, xp: Any, part: str | None) -> Callable[..., Any]:
        from theory._printing import array_api_lambdify  # noqa: PLC0415

        obj = self._get(part)
        if isinstance(obj, sp.Equality):
            obj = obj.rhs
        if isinstance(obj, (sp.MatrixBase, sp.MatrixExpr)):
            raise TypeError(f"{self.id}: numeric() evaluates scalar expressions only")
        args = sorted(_free_symbols(obj), key=lambda s: s.name)
        fn = array_api_lambdify(args, obj, xp)
        names = tuple(s.name for s in args)
        rid = self.id

        def evaluate(**kwargs: Any) -> Any:
            missing = [n for n in names if n not in kwargs]
            extra = [n for n in kwargs if n not in names]
            if missing or extra:
                raise TypeError(
                    f"{rid}{'' if part is None else f'[{part}]'} takes keyword arguments "
                    f"{list(names)}; missing {missing}, unexpected {extra}"
                )
            vals = []
            for n in names:
                v = kwargs[n]
                # Python numbers become float64 arrays; arrays (of xp, or NumPy arrays
                # handed to another namespace) go through xp.asarray, keeping their dtype.
                if isinstance(v, (int, float)):
                    v = xp.asarray(float(v), dtype=xp.float64)
                else:
                    v = xp.asarray(v)
                vals.append(v)
            return fn(*vals)

        evaluate.__name__ = (self.id + ("" if part is None else "." + part)).replace(".", "_")
        evaluate.__doc__ = f"{self.id}: {sp.sstr(obj)}"
        evaluate.arguments = names  # type: ignore[attr-defined]
        return evaluate

    def evalf(self, subs: Mapping[str, Any], *, part: str | None = None, n: int = 30) -> sp.Basic:
        """Evaluate with mpmath at ``n`` digits: the high-precision reference for checks."""
        obj = self._get(part)
        if isinstance(obj, sp.Equality):
            obj = obj.rhs
        by_name = {s.name: s for s in self.symbols}
        unknown = [k for k in subs if k not in by_name]
        if unknown:
            raise KeyError(f"{self.id} has no symbols {unknown}; it has {sorted(by_name)}")
        return obj.evalf(n, subs={by_name[k]: sp.Float(v, n) if isinstance(v, float) else v
                                  for k, v in subs.items()})


def _free_symbols(obj: sp.Basic) -> set[sp.Symbol]:
    """Free scalar symbols, leaving out the labels of indexed families (a^*_j in a Sum)."""
    syms = getattr(obj, "free_symbols", set())
    labels = {b.label for b in obj.atoms(sp.IndexedBase)} if isinstance(obj, sp.Basic) else set()
    return {s for s in syms if isinstance(s, sp.Symbol) and s not in labels}
