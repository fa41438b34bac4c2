r"""How much a check can catch: automatic mutants of a Result's claims, run against its check.

A check is evidence for a result only if it *fails when the result is wrong*. This module
makes the result wrong on purpose, in the ways derivations go wrong, and counts how many of
those wrong results the check rejects (*kills*):

==========================  ===============================================================
operator                    rewrite of one claim (statement or part)
==========================  ===============================================================
``scale``                   a numeric constant (or π) times 11/10, 2 or ½; a whole side × 11/10
``drop``                    one term of a sum left out
``negate``                  one term of a sum, or a whole side, with its sign flipped
``exponent``                a numeric exponent plus or minus one
``limit``                   a summation or product limit off by one
``swap``                    two symbols of the same kind exchanged
``inverse``/``transpose``   a square matrix symbol replaced by its inverse or transpose;
                            an inverse or transpose removed; a product's factors reversed
``flip``                    a relation turned around (≤ ↔ ≥)
==========================  ===============================================================

A mutant that agrees with the original claim at random points inside the result's
assumptions and conditions (evaluated by SymPy with mpmath, independently of the array
printer) is *equivalent* and discarded; mutants that agree with each other are counted once.
Every remaining mutant is handed to the check in place of the real result
(:func:`verify.runner.run_check` with ``result=``): the check must fail.

The score of a check is killed / (non-equivalent mutants). ``implreg power`` prints it per
result and per topic, with the survivors.

References
----------
R. A. DeMillo, R. J. Lipton, F. G. Sayward, "Hints on test data selection: help for the
practicing programmer", *Computer* 11(4), 1978 (mutation analysis). Y. Jia and M. Harman,
"An analysis and survey of the development of mutation testing", *IEEE TSE* 37(5), 2011.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import signal
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp
from sympy.assumptions.assume import AppliedPredicate
from sympy.core.function import AppliedUndef

__all__ = ["Mutant", "MutantRun", "PowerReport", "mutants", "measure_power", "measure_many"]

# Constant multipliers of the ``scale`` operator: a 10 % slip, a lost or doubled factor 2.
_FACTORS = (sp.Rational(11, 10), sp.Integer(2), sp.Rational(1, 2))
# Random points of the equivalence test and its relative tolerance (values are computed
# with 30 significant digits, so 1e-12 is far above their rounding and far below any
# mutation of a constant, a term or an exponent at a generic point).
_POINTS = 6
_EQUIV_RTOL = 1e-12


@dataclass(frozen=True)
class Mutant:
    """One wrong version of a result: ``claim`` rewritten by ``operator``."""

    id: str
    claim: str
    operator: str
    description: str
    result: Any = field(repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.id}[{self.claim}] {self.operator}: {self.description}"


# ----------------------------------------------------------------------------- rewriting
_LEAVES = (sp.Symbol, sp.MatrixSymbol, sp.IndexedBase, sp.Idx, sp.Dummy)


def _children(node: sp.Basic) -> tuple[sp.Basic, ...]:
    if isinstance(node, (*_LEAVES, sp.core.symbol.Str)):
        return ()
    return tuple(node.args)


def _walk(node: sp.Basic, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], sp.Basic]]:
    yield path, node
    if isinstance(node, sp.MatrixBase):  # an explicit matrix: its entries, in row order
        for i, a in enumerate(node):
            yield from _walk(a, (*path, i))
        return
    if isinstance(node, sp.Indexed):
        # the label is a name; the indices are expressions
        for i, a in enumerate(node.args[1:], start=1):
            yield from _walk(a, (*path, i))
        return
    if isinstance(node, (sp.Sum, sp.Product)):
        yield from _walk(node.args[0], (*path, 0))
        for i, lim in enumerate(node.args[1:], start=1):  # (j, lo, hi): j is bound
            for k in (1, 2):
                yield from _walk(lim[k], (*path, i, k))
        return
    for i, a in enumerate(_children(node)):
        if isinstance(a, sp.Basic):
            yield from _walk(a, (*path, i))


def _replace(node: sp.Basic, path: tuple[int, ...], new: sp.Basic) -> sp.Basic:
    if not path:
        return new
    i, rest = path[0], path[1:]
    if isinstance(node, sp.MatrixBase):
        flat = list(node)
        flat[i] = _replace(flat[i], rest, new)
        return sp.ImmutableMatrix(node.rows, node.cols, flat)
    args = list(node.args)
    args[i] = _replace(args[i], rest, new)
    return node.func(*args)


def _is_constant(node: sp.Basic) -> bool:
    return (isinstance(node, (sp.Integer, sp.Rational, sp.Float, sp.NumberSymbol))
            and node != 0)


def _node_mutations(node: sp.Basic) -> Iterator[tuple[str, str, sp.Basic]]:
    """(operator, description, replacement) for one node of an expression tree."""
    if _is_constant(node):
        for f in _FACTORS:
            yield "scale", f"constant {sp.sstr(node)} → {sp.sstr(node * f)}", node * f
    if isinstance(node, sp.Pow) and node.exp.is_number and not isinstance(node.base, sp.MatrixExpr):
        for step in (1, -1):
            e = node.exp + step
            if e != 0:
                yield ("exponent", f"{sp.sstr(node)} → exponent {sp.sstr(e)}",
                       sp.Pow(node.base, e))
    if isinstance(node, sp.Add) and len(node.args) >= 2:
        for a in node.args:
            rest = sp.Add(*[b for b in node.args if b is not a])
            yield "drop", f"term {sp.sstr(a)} dropped", rest
            yield "negate", f"sign of term {sp.sstr(a)} flipped", rest - a
    if isinstance(node, (sp.Sum, sp.Product)):
        for i, (j, lo, hi) in enumerate(node.limits):
            for new_lo, new_hi, what in ((lo + 1, hi, "lower limit +1"), (lo, hi - 1, "upper limit −1"),
                                         (lo, hi + 1, "upper limit +1")):
                limits = list(node.limits)
                limits[i] = (j, new_lo, new_hi)
                yield "limit", f"{what} of {sp.sstr(j)}", node.func(node.function, *limits)
    if isinstance(node, sp.Indexed):
        for step in (1, -1):
            idx = [node.indices[0] + step, *node.indices[1:]]
            yield "limit", f"index {sp.sstr(node)} → {sp.sstr(node.base[tuple(idx)])}", \
                node.base[tuple(idx)]
    if isinstance(node, sp.MatrixSymbol) and node.shape[0] == node.shape[1]:
        yield "inverse", f"{node.name} → {node.name}⁻¹", sp.Inverse(node)
        yield "transpose", f"{node.name} → {node.name}ᵀ", sp.Transpose(node)
    if isinstance(node, (sp.Inverse, sp.Transpose)):
        kind = "inverse" if isinstance(node, sp.Inverse) else "transpose"
        yield kind, f"{sp.sstr(node)} → {sp.sstr(node.arg)}", node.arg
    if isinstance(node, sp.Pow) and isinstance(node.base, sp.MatrixExpr) and node.exp == -1:
        yield "inverse", f"{sp.sstr(node)} → {sp.sstr(node.base)}", node.base
    if isinstance(node, sp.MatMul):
        mats = [a for a in node.args if isinstance(a, sp.MatrixExpr)]
        if len(mats) >= 2:
            scal = [a for a in node.args if not isinstance(a, sp.MatrixExpr)]
            rev = list(reversed(mats))
            if all(a.shape[1] == b.shape[0] for a, b in zip(rev, rev[1:])):  # still well-typed
                yield "transpose", f"factors of {sp.sstr(node)} reversed", sp.MatMul(*scal, *rev)
    if isinstance(node, AppliedUndef) and len(node.args) >= 2:
        a = list(node.args)
        a[0], a[1] = a[1], a[0]
        yield "swap", f"arguments of {sp.sstr(node)} exchanged", node.func(*a)


_FLIP = {sp.LessThan: sp.GreaterThan, sp.GreaterThan: sp.LessThan,
         sp.StrictLessThan: sp.StrictGreaterThan, sp.StrictGreaterThan: sp.StrictLessThan}


def _sides(obj: sp.Basic) -> list[tuple[tuple[int, ...], sp.Basic]]:
    """The mutable sides of a claim, as (path, expression): an equation's right-hand side,
    both sides of an inequality, each member of And/Or/Tuple."""
    if isinstance(obj, sp.Equality):
        return [((1,), obj.rhs)]
    if isinstance(obj, sp.core.relational.Relational):
        return [((0,), obj.lhs), ((1,), obj.rhs)]
    if isinstance(obj, (sp.And, sp.Or, sp.Tuple)):
        out = []
        for i, a in enumerate(obj.args):
            out += [((i, *p), e) for p, e in _sides(a)]
        return out
    return [((), obj)]


def _symbol_kind(s: sp.Symbol) -> tuple:
    keys = ("integer", "positive", "nonnegative", "negative", "real")
    return tuple(s.assumptions0.get(k) for k in keys)


def _claim_mutations(obj: sp.Basic) -> Iterator[tuple[str, str, sp.Basic]]:
    """Every (operator, description, mutated claim) of one claim."""
    for side_path, side in _sides(obj):
        where = "" if not side_path else f" (side {'.'.join(map(str, side_path))})"
        # the whole side, as the classic slip: ×11/10 and a lost sign
        if not isinstance(side, (sp.MatrixBase,)) and side != 0:
            yield "scale", "whole side × 11/10" + where, _replace(obj, side_path, side * sp.Rational(11, 10))
            yield "negate", "whole side negated" + where, _replace(obj, side_path, -side)
        for path, node in _walk(side):
            for op, desc, new in _node_mutations(node):
                try:
                    yield op, desc + where, _replace(obj, (*side_path, *path), new)
                except Exception:  # noqa: BLE001 (an ill-typed rebuild is no mutant)
                    continue
        syms = sorted((s for s in side.free_symbols if isinstance(s, sp.Symbol)), key=str)
        for i, a in enumerate(syms):
            for b in syms[i + 1:]:
                if _symbol_kind(a) == _symbol_kind(b):
                    try:
                        new = side.xreplace({a: b, b: a})
                    except Exception:  # noqa: BLE001
                        continue
                    yield "swap", f"{a} ↔ {b}" + where, _replace(obj, side_path, new)
        mats = sorted(side.atoms(sp.MatrixSymbol), key=str)
        for i, a in enumerate(mats):
            for b in mats[i + 1:]:
                if a.shape == b.shape:
                    yield ("swap", f"{a} ↔ {b}" + where,
                           _replace(obj, side_path, side.xreplace({a: b, b: a})))
    for path, node in _relations(obj):
        if type(node) in _FLIP:
            yield "flip", f"{sp.sstr(node)} turned around", _replace(obj, path, _FLIP[type(node)](*node.args))


def _relations(obj: sp.Basic, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], sp.Basic]]:
    if isinstance(obj, sp.core.relational.Relational):
        yield path, obj
    elif isinstance(obj, (sp.And, sp.Or, sp.Tuple)):
        for i, a in enumerate(obj.args):
            yield from _relations(a, (*path, i))


# ----------------------------------------------------------------------------- equivalence
class _Unevaluable(Exception):
    pass


def _sample_symbol(s: sp.Symbol, rnd: random.Random) -> sp.Basic:
    a = s.assumptions0
    if a.get("integer"):
        lo = 2 if a.get("positive") else 0
        v = rnd.randint(lo, lo + 4)
        return sp.Integer(-v if a.get("negative") else v)
    if a.get("positive") or a.get("nonnegative"):
        v = rnd.uniform(0.15, 2.5)
    elif a.get("negative"):
        v = -rnd.uniform(0.15, 2.5)
    else:
        v = rnd.uniform(-2.0, 2.0)
    return sp.Float(v, 30)


def _matrix_kinds(conditions: Sequence[sp.Basic]) -> dict[sp.MatrixSymbol, set[str]]:
    """Matrix properties stated among a result's conditions (``Q.symmetric(H)``,
    ``Q.positive_definite(H)``, ``Q.diagonal(D)``): random points honour them, so a mutant
    that only differs for matrices the result excludes (H → Hᵀ for a symmetric H) counts as
    equivalent."""
    out: dict[sp.MatrixSymbol, set[str]] = {}
    for c in conditions:
        preds = c.args if isinstance(c, sp.And) else (c,)
        for q in preds:
            if isinstance(q, AppliedPredicate) and q.arguments and isinstance(q.arguments[0], sp.MatrixSymbol):
                out.setdefault(q.arguments[0], set()).add(q.function.name)
    return out


def _mp_scalar(e: sp.Basic) -> Any:
    v = sp.sympify(e).doit().evalf(30)
    if not v.is_number:
        raise _Unevaluable(f"not a number: {sp.sstr(v)[:60]}")
    return mpmath.mpc(complex(v)) if not v.is_real else mpmath.mpf(str(v))


def _mp_eval(e: sp.Basic, mats: dict[str, Any]) -> Any:
    """A matrix (or scalar) expression with numbers for its scalars, evaluated in mpmath:
    products, sums, transposes, inverses, integer and fractional matrix powers, traces,
    determinants, Hadamard products, entries; other nodes of scalars by SymPy's evalf."""
    E = sp.matrices.expressions
    if isinstance(e, sp.MatrixSymbol):
        return mats[e.name]  # by name: the shapes were substituted, the symbol changed
    if not e.atoms(sp.MatrixSymbol) and not isinstance(e, sp.MatrixExpr):
        return _mp_scalar(e)
    if isinstance(e, sp.MatrixBase):
        return mpmath.matrix([[_mp_eval(x, mats) for x in e.row(i)] for i in range(e.rows)])
    if isinstance(e, E.Identity):
        return mpmath.eye(int(e.rows))
    if isinstance(e, E.ZeroMatrix):
        return mpmath.zeros(int(e.rows), int(e.cols))
    if isinstance(e, (sp.MatAdd, sp.Add)):
        out = _mp_eval(e.args[0], mats)
        for a in e.args[1:]:
            out = out + _mp_eval(a, mats)
        return out
    if isinstance(e, (sp.MatMul, sp.Mul)):
        out = _mp_eval(e.args[0], mats)
        for a in e.args[1:]:
            out = out * _mp_eval(a, mats)
        return out
    if isinstance(e, sp.Transpose):
        return _mp_eval(e.arg, mats).T
    if isinstance(e, sp.Inverse):
        return mpmath.inverse(_mp_eval(e.arg, mats))
    if isinstance(e, (sp.MatPow, sp.Pow)):
        base, k = _mp_eval(e.args[0], mats), e.args[1]
        if not isinstance(base, mpmath.matrix):
            return mpmath.power(base, _mp_eval(k, mats))
        if k.is_Integer:
            return base ** int(k) if int(k) >= 0 else mpmath.inverse(base) ** (-int(k))
        return mpmath.powm(base, _mp_scalar(k))
    if isinstance(e, E.Trace):
        A = _mp_eval(e.arg, mats)
        return mpmath.fsum(A[i, i] for i in range(A.rows))
    if isinstance(e, E.Determinant):
        return mpmath.det(_mp_eval(e.arg, mats))
    if isinstance(e, sp.HadamardProduct):
        out = _mp_eval(e.args[0], mats)
        for a in e.args[1:]:
            b = _mp_eval(a, mats)
            out = mpmath.matrix([[out[i, j] * b[i, j] for j in range(out.cols)] for i in range(out.rows)])
        return out
    if isinstance(e, E.MatrixElement):
        A = _mp_eval(e.parent, mats)
        return A[int(e.i), int(e.j)]
    if isinstance(e, sp.Function) and len(e.args) == 1 and hasattr(mpmath, type(e).__name__):
        v = _mp_eval(e.args[0], mats)
        if isinstance(v, mpmath.matrix) and v.rows == v.cols == 1:
            v = v[0, 0]
        return getattr(mpmath, type(e).__name__)(v)
    raise _Unevaluable(f"no numeric evaluation of {type(e).__name__}")


class _Point:
    """One random assignment of every symbol, matrix and undefined function of a result."""

    def __init__(self, result: Any, rnd: random.Random, objs: Sequence[sp.Basic]) -> None:
        self.rnd = rnd
        atoms: set[sp.Basic] = set()
        for o in objs:
            atoms |= o.free_symbols if isinstance(o, sp.Basic) else set()
        syms = {s for s in atoms if isinstance(s, sp.Symbol)} | set(result.symbols)
        shape_syms: set[sp.Symbol] = set()
        mats: set[sp.MatrixSymbol] = set()
        for o in objs:
            if isinstance(o, sp.Basic):
                mats |= o.atoms(sp.MatrixSymbol)
        for m in mats:
            for dim in m.shape:
                shape_syms |= getattr(dim, "free_symbols", set())
        self.subs: dict[sp.Basic, sp.Basic] = {}
        for _ in range(200):  # rejection sampling into the conditions
            self.subs = {s: _sample_symbol(s, rnd) for s in sorted(syms, key=str)}
            for s in shape_syms:  # matrices stay small: SymPy inverts them exactly
                self.subs[s] = sp.Integer(rnd.randint(2, 3))
            if self._conditions_hold(result):
                break
        kinds = _matrix_kinds(result.conditions)
        self.mats = {}
        for m in sorted(mats, key=str):
            r, c = (int(sp.sympify(d).xreplace(self.subs)) for d in m.shape)
            G = sp.Matrix(r, c, [sp.Float(rnd.gauss(0, 1), 30) for _ in range(r * c)])
            kind = kinds.get(m, set())
            if r == c and "diagonal" in kind:
                G = sp.diag(*[sp.Float(rnd.uniform(0.3, 2.0), 30) for _ in range(r)])
            elif r == c and "positive_definite" in kind:
                G = G * G.T + sp.eye(r) * sp.Float(0.5, 30)
            elif r == c and "symmetric" in kind:
                G = (G + G.T) / 2
            self.mats[m] = G
        self.indexed: dict[sp.Basic, sp.Basic] = {}
        self.functions: dict[Any, Callable] = {}

    def _conditions_hold(self, result: Any) -> bool:
        for c in result.conditions:
            if isinstance(c, AppliedPredicate):
                continue  # a matrix property: honoured when the matrices are drawn
            try:
                v = c.xreplace(self.subs)
                if v is sp.false or (isinstance(v, sp.core.relational.Relational)
                                     and v.is_number and not bool(v)):
                    return False
            except Exception:  # noqa: BLE001 (a condition SymPy cannot decide here)
                continue
        return True

    def _undef(self, f: AppliedUndef) -> sp.Basic:
        key = type(f)
        if key not in self.functions:
            w = [sp.Float(self.rnd.uniform(0.5, 1.5), 30) for _ in range(len(f.args) + 1)]
            self.functions[key] = lambda *a, w=w: sp.sin(sum(wi * ai for wi, ai in zip(w, a)) + w[-1])
        return self.functions[key](*f.args)

    def value(self, expr: sp.Basic) -> list[complex]:
        e = expr
        if isinstance(e, sp.Basic) and e.atoms(sp.MatrixSymbol):
            # Matrices numerically, at 30 digits (mpmath): SymPy's exact matrix algebra on
            # Float entries (a Jordan form for H^{-1/2}) can take hours.
            e = e.replace(lambda x: isinstance(x, AppliedUndef), self._undef)
            e = e.xreplace(self.subs)
            with mpmath.workdps(30):
                v = _mp_eval(e, {m.name: mpmath.matrix(G.tolist()) for m, G in self.mats.items()})
                vals = [v[i, j] for i in range(v.rows) for j in range(v.cols)] \
                    if isinstance(v, mpmath.matrix) else [v]
                out = []
                for z in vals:
                    z = complex(z)
                    if not (math.isfinite(z.real) and math.isfinite(z.imag)):
                        raise _Unevaluable("not finite")
                    out.append(z)
            return out
        if isinstance(e, sp.Basic):
            e = e.replace(lambda x: isinstance(x, AppliedUndef), self._undef)
            e = e.xreplace({**self.subs, **self.mats})
            e = e.doit()
            for ix in sorted(e.atoms(sp.Indexed), key=str):
                if ix not in self.indexed:
                    self.indexed[ix] = sp.Float(self.rnd.uniform(-2, 2), 30)
            e = e.xreplace(self.indexed)
            if isinstance(e, sp.MatrixExpr) and not isinstance(e, sp.MatrixBase):
                e = e.as_explicit()
        entries = list(e) if isinstance(e, sp.MatrixBase) else [e]
        out = []
        for v in entries:
            if isinstance(v, sp.Basic):
                v = v.evalf(30)
                if v in (sp.true, sp.false):
                    out.append(complex(bool(v)))
                    continue
                if not v.is_number:
                    raise _Unevaluable(f"not a number: {sp.sstr(v)[:60]}")
            z = complex(v)
            if not (math.isfinite(z.real) and math.isfinite(z.imag)):
                raise _Unevaluable("not finite")
            out.append(z)
        return out


def _structure(obj: sp.Basic) -> tuple[tuple[str, ...], list[sp.Basic]]:
    """The relation classes and the compared expressions of a claim."""
    if isinstance(obj, sp.Equality):
        return ("Eq",), [obj.rhs]
    if isinstance(obj, sp.core.relational.Relational):
        return (type(obj).__name__,), [obj.lhs, obj.rhs]
    if isinstance(obj, (sp.And, sp.Or, sp.Tuple)):
        names: tuple[str, ...] = (type(obj).__name__,)
        exprs: list[sp.Basic] = []
        for a in obj.args:
            n, e = _structure(a)
            names += n
            exprs += e
        return names, exprs
    return ("expr",), [obj]


def _signature(obj: sp.Basic, points: Sequence[_Point]) -> tuple[tuple[str, ...], list[list[complex] | None]]:
    names, exprs = _structure(obj)
    vals: list[list[complex] | None] = []
    for pt in points:
        try:
            with _time_limit(_POINT_SECONDS):
                vals.append([z for e in exprs for z in pt.value(e)])
        except Exception:  # noqa: BLE001 (outside the domain, or too slow, at this point)
            vals.append(None)
    return names, vals


#: Seconds SymPy may spend evaluating one claim at one random point; a point past it is
#: left out of the comparison (as a point outside the domain would be).
_POINT_SECONDS = 5.0


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` after ``seconds`` (SIGALRM; no limit off the main thread)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _same(a: tuple, b: tuple) -> bool | None:
    """True if two signatures agree, False if not, None if they cannot be compared."""
    if a[0] != b[0]:
        return False
    if all(v is None for v in b[1]) and any(u is not None for u in a[1]):
        return None  # the mutant is nowhere defined: ill-typed, not a wrong claim
    compared = 0
    for u, v in zip(a[1], b[1]):
        if u is None or v is None:
            if (u is None) != (v is None):
                return False
            continue
        if len(u) != len(v):
            return False
        compared += 1
        for x, y in zip(u, v):
            if abs(x - y) > _EQUIV_RTOL * (1 + abs(x)):
                return False
    return True if compared >= 2 else None


# ----------------------------------------------------------------------------- mutants
def _claim_object(result: Any, claim: str) -> sp.Basic:
    obj = result.statement if claim == "statement" else result.parts[claim]
    if isinstance(obj, sp.MatrixBase) and not isinstance(obj, sp.ImmutableMatrix):
        obj = sp.ImmutableMatrix(obj)  # hashable, so rewrites can be told apart
    return obj


def _with_claim(result: Any, claim: str, new: sp.Basic) -> Any:
    if claim == "statement":
        return dataclasses.replace(result, statement=new)
    parts = dict(result.parts)
    parts[claim] = new
    return dataclasses.replace(result, parts=parts)


def mutants(result: Any, *, max_mutants: int | None = 40, seed: int = 0,
            claims: Sequence[str] | None = None,
            stats: dict[str, int] | None = None) -> list[Mutant]:
    """Non-equivalent mutants of ``result``'s claims, at most ``max_mutants``.

    Candidates are drawn in a fixed pseudo-random order (from ``seed`` and the id) spread
    over claims and operators; each is compared with the original at random points inside
    the assumptions and conditions, and kept only if it differs there and differs from every
    mutant kept before.

    Parameters
    ----------
    result
        A :class:`theory.Result`.
    max_mutants
        Cap on the number returned (``None``: all).
    seed
        Seed of the candidate order and the random points.
    claims
        Restrict to these claims (default :attr:`theory.Result.claims`).
    stats
        If given, filled with ``candidates``, ``equivalent``, ``duplicate``,
        ``unevaluable`` and ``invalid`` counts.

    Returns
    -------
    list of Mutant

    Examples
    --------
    >>> import theory
    >>> ms = mutants(theory.get("stability.gd_threshold"), max_mutants=5)
    >>> len(ms), ms[0].id
    (5, 'stability.gd_threshold')
    """
    claims = tuple(result.claims if claims is None else claims)
    rnd = random.Random(zlib.crc32(f"{result.id}:{seed}".encode()))
    objs = [_claim_object(result, c) for c in claims]
    points = [_Point(result, random.Random(rnd.random()), objs) for _ in range(_POINTS)]
    counts = {"candidates": 0, "equivalent": 0, "duplicate": 0, "unevaluable": 0, "invalid": 0}
    # candidates per (claim, operator), interleaved so a cap samples every kind
    buckets: dict[tuple[str, str], list[tuple[str, sp.Basic]]] = {}
    for c, obj in zip(claims, objs):
        seen_exprs: set[sp.Basic] = {obj}
        try:
            for op, desc, new in _claim_mutations(obj):
                if new in seen_exprs:
                    continue
                seen_exprs.add(new)
                buckets.setdefault((c, op), []).append((desc, new))
        except Exception:  # noqa: BLE001 (a claim SymPy cannot rewrite: no mutants from it)
            continue
    for v in buckets.values():
        rnd.shuffle(v)
    order = sorted(buckets)
    rnd.shuffle(order)
    queue: list[tuple[str, str, str, sp.Basic]] = []
    while any(buckets[k] for k in order):
        for k in order:
            if buckets[k]:
                desc, new = buckets[k].pop()
                queue.append((k[0], k[1], desc, new))
    original = {c: _signature(o, points) for c, o in zip(claims, objs)}
    kept: list[Mutant] = []
    kept_sigs: dict[str, list[tuple]] = {c: [] for c in claims}
    for claim, op, desc, new in queue:
        if max_mutants is not None and len(kept) >= max_mutants:
            break
        counts["candidates"] += 1
        try:
            mutated = _with_claim(result, claim, new)
        except Exception:  # noqa: BLE001 (e.g. a symbol the result does not declare)
            counts["invalid"] += 1
            continue
        sig = _signature(new, points)
        same = _same(original[claim], sig)
        if same is None:
            counts["unevaluable"] += 1
            continue
        if same:
            counts["equivalent"] += 1
            continue
        if any(_same(s, sig) for s in kept_sigs[claim]):
            counts["duplicate"] += 1
            continue
        kept_sigs[claim].append(sig)
        kept.append(Mutant(result.id, claim, op, desc, mutated))
    if stats is not None:
        stats.update(counts)
    return kept


# ----------------------------------------------------------------------------- running
@dataclass
class MutantRun:
    """The verdict of a check on one mutant."""

    mutant: str
    claim: str
    operator: str
    killed: bool
    how: str  # "failed", "error", "timeout", "survived"
    seconds: float


@dataclass
class PowerReport:
    """Killed and surviving mutants of one result's check."""

    id: str
    runs: list[MutantRun] = field(default_factory=list)
    baseline_passed: bool = True
    baseline_error: str | None = None
    not_run: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def total(self) -> int:
        return len(self.runs)

    @property
    def killed(self) -> int:
        return sum(r.killed for r in self.runs)

    @property
    def score(self) -> float:
        return self.killed / self.total if self.total else math.nan

    @property
    def survivors(self) -> list[MutantRun]:
        return [r for r in self.runs if not r.killed]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "killed": self.killed, "total": self.total,
                "score": None if not self.total else round(self.score, 4),
                "baseline_passed": self.baseline_passed, "baseline_error": self.baseline_error,
                "not_run": self.not_run, "stats": self.stats, "seconds": round(self.seconds, 2),
                "survivors": [dataclasses.asdict(r) for r in self.survivors],
                "runs": [dataclasses.asdict(r) for r in self.runs]}

    def __repr__(self) -> str:
        return (f"PowerReport({self.id}: killed {self.killed}/{self.total}"
                f"{'' if self.baseline_passed else ', BASELINE FAILED'}, {self.seconds:.1f}s)")


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def measure_power(id: str, *, max_mutants: int | None = 40, budget: float = 300.0,
                  per_mutant: float = 60.0, examples: int | None = None, seed: int = 0,
                  backend: str = "numpy") -> PowerReport:
    """Run the check of ``id`` against the mutants of its result.

    Parameters
    ----------
    id
        A result id with a check.
    max_mutants
        Cap on the number of mutants (see :func:`mutants`).
    budget
        Seconds for the whole result; mutants left when it runs out are counted in
        ``not_run`` (never as killed).
    per_mutant
        Seconds one check run may take on a mutant (``SIGALRM``, main thread only); a run
        past it counts as killed with ``how="timeout"`` (the check did not pass).
    examples
        Hypothesis examples per run (default: the check's own).
    seed
        Seed of the mutant sample.
    backend
        The array backend the check runs on.

    Returns
    -------
    PowerReport
    """
    import theory  # noqa: PLC0415
    from verify.runner import run_check  # noqa: PLC0415

    t0 = time.perf_counter()
    rep = PowerReport(id)
    base = run_check(id, backend=backend, examples=examples, shrink=False)
    if not base.passed:
        rep.baseline_passed = False
        rep.baseline_error = base.error or repr(base.outcome)
        rep.seconds = time.perf_counter() - t0
        return rep
    stats: dict[str, int] = {}
    ms = mutants(theory.get(id), max_mutants=max_mutants, seed=seed, stats=stats)
    rep.stats = stats
    for k, m in enumerate(ms):
        if time.perf_counter() - t0 > budget:
            rep.not_run = len(ms) - k
            break
        t1 = time.perf_counter()
        how = "survived"
        # The result is wrong everywhere: the check gets the mutant, and so does any code
        # that asks the registry for this id while the check runs.
        real_get = theory.get
        theory.get = lambda i, _m=m.result, _g=real_get: _m if i == id else _g(i)
        try:
            with _time_limit(per_mutant):
                r = run_check(id, backend=backend, examples=examples, shrink=False, result=m.result)
            if not r.passed:
                how = "error" if r.error else "failed"
        except _Timeout:
            how = "timeout"
        finally:
            theory.get = real_get
        rep.runs.append(MutantRun(str(m), m.claim, m.operator, how != "survived", how,
                                  round(time.perf_counter() - t1, 3)))
    rep.seconds = time.perf_counter() - t0
    return rep


def _measure_star(kwargs: dict[str, Any]) -> PowerReport:
    import warnings  # noqa: PLC0415

    warnings.simplefilter("ignore")
    id = kwargs.pop("id")
    try:
        return measure_power(id, **kwargs)
    except Exception as exc:  # noqa: BLE001 (report, never lose the other results)
        rep = PowerReport(id, baseline_passed=False,
                          baseline_error=f"{type(exc).__name__}: {exc}")
        return rep


def measure_many(ids: Sequence[str], *, workers: int = 1,
                 on_done: Callable[[PowerReport], None] | None = None,
                 **kwargs: Any) -> list[PowerReport]:
    """:func:`measure_power` for several ids, on a pool of ``workers`` processes (one result
    per task, longest-first is not known, so catalog order). Reports come back in ``ids``
    order; ``on_done`` is called as each finishes."""
    tasks = [{"id": i, **kwargs} for i in ids]
    out: dict[str, PowerReport] = {}
    if workers <= 1 or len(ids) <= 1:
        for t in tasks:
            r = _measure_star(dict(t))
            out[r.id] = r
            if on_done is not None:
                on_done(r)
    else:
        import multiprocessing as mp  # noqa: PLC0415
        from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: PLC0415

        ctx = mp.get_context("spawn")  # fresh interpreters: no inherited threads or caches
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futs = [pool.submit(_measure_star, dict(t)) for t in tasks]
            for f in as_completed(futs):
                r = f.result()
                out[r.id] = r
                if on_done is not None:
                    on_done(r)
    return [out[i] for i in ids]
