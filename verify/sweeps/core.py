r"""Sweeps: a function of one grid cell, a grid, and a stable key per cell.

A :class:`Sweep` maps one *cell* — a dict of parameters and an integer seed — to a small
record (a flat dict of numbers and strings). The grid is the Cartesian product of its axes
and its seeds; parameters that a sweep does not vary are one-value axes, so every value that
determines a record is part of the cell and of its key.

The key of a cell is a hash of its canonical JSON form (sweep name, sweep version, the
parameters sorted by name, the seed). It is the same in every process and on every
machine, so a record written under it by one run is found by the next: that is what makes a
sweep resumable.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_CELLS",
    "Axis",
    "Cell",
    "Sweep",
    "SweepError",
    "get_sweep",
    "parse_grid",
    "register",
    "sweep_names",
]

#: Columns every stored record has; a sweep's record fields may not use these names.
RESERVED = ("key", "sweep", "seed", "status", "error", "traceback", "seconds", "worker")

_AXIS_TYPES = (bool, int, float, str)


class SweepError(ValueError):
    """A user error in a sweep request (an unknown name, a malformed grid, an unreachable
    scheduler): the command line prints it as one line and exits with status 2."""


def _round_float(v: float) -> float:
    """Floats at 12 significant digits, so that ``0.1 + 0.2`` and a typed ``0.3`` are the
    same grid value (and the same key)."""
    return float(f"{v:.12g}")


def _cast(name: str, kind: type, value: Any, axis: "Axis | None" = None) -> Any:
    """``value`` as the axis type ``kind``, or a :class:`SweepError` naming the axis (and,
    given ``axis``, what it is and its whole domain)."""
    try:
        return _cast_or_raise(name, kind, value, axis)
    except _TooBig:
        about = _about(axis.doc) if axis is not None else ""
        raise SweepError(f"grid axis {name!r}{about} must fit in 64 bits (|value| < 2⁶³, as "
                         f"records store it); got {value!r}") from None


def _cast_or_raise(name: str, kind: type, value: Any, axis: "Axis | None") -> Any:
    try:
        if kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                return low in ("true", "1")
            if value not in (True, False):  # also accepts 0 and 1
                raise ValueError(value)
            return bool(value)
        if isinstance(value, bool):  # True is an int to Python, not to a grid
            raise TypeError(value)
        if kind is int:
            if isinstance(value, str):
                try:
                    v = int(value.strip())
                except ValueError:
                    f = float(value)  # "1e3" is an integer written as a float
                    if not f.is_integer():
                        raise ValueError(value) from None
                    v = int(f)
                return _int64(name, v, axis)
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return _int64(name, int(value), axis)
        if kind is float:
            v = float(value)
            if not math.isfinite(v):
                raise ValueError(value)
            return _round_float(v)
        return str(value)
    except (TypeError, ValueError, OverflowError):
        what = {float: "a finite float", int: "an integer", bool: "a bool (true/false)"}.get(
            kind, "a " + kind.__name__)
        raise SweepError(f"grid axis {name!r} must be {what}; got {value!r}") from None


class _TooBig(Exception):
    """An integer outside int64 (kept apart from the type errors that ``_cast`` rewords)."""


def _int64(name: str, v: int, axis: "Axis | None") -> int:
    if not -(2**63) <= v < 2**63:
        raise _TooBig(name, v, axis)
    return v


#: Cap on the cells of one request: at 0.01–10 s a cell, 10⁶ cells is already hours to
#: months of work; more is a typo (``eta=0:1:100000000``).
MAX_CELLS = 10**6

_BOUNDS = {"gt": (">", operator.gt), "ge": ("≥", operator.ge),
           "lt": ("<", operator.lt), "le": ("≤", operator.le)}


class Axis:
    r"""The domain of one grid axis, declared once with the sweep, and its default values.

    The same declaration parses and checks ``--grid KEY=...`` before any cell runs, checks
    the grids passed to :func:`~verify.sweeps.run_sweep`, and is what
    ``implreg sweep --list`` prints.

    Parameters
    ----------
    kind
        ``bool``, ``int``, ``float`` (finite) or ``str``: how values are parsed.
    default
        The default values (a tuple, or one value).
    gt, ge, lt, le
        Bounds, each a number or the name of another (numeric) axis of the sweep:
        ``le="n"`` requires every value to be ≤ every value of axis ``n`` (the grid is a
        product, so each pair occurs in some cell).
    choices
        The allowed values (e.g. backend names).
    doc
        What the axis is, in a few words (shown by ``--list`` and in error messages).

    Examples
    --------
    >>> ax = Axis(int, (1, 2, 4), ge=1, le="n", doc="batch size")
    >>> ax.describe()
    'int in [1, n]'
    >>> Axis(float, 0.5, gt=0).describe()
    'float > 0'
    """

    __slots__ = ("bounds", "choices", "default", "doc", "kind")

    def __init__(self, kind: type, default: Any, *, gt: float | str | None = None,
                 ge: float | str | None = None, lt: float | str | None = None,
                 le: float | str | None = None, choices: Sequence[Any] | None = None,
                 doc: str = "") -> None:
        if kind not in _AXIS_TYPES:
            raise TypeError(f"kind must be one of bool, int, float, str; got {kind!r}")
        self.kind = kind
        self.bounds = tuple((op, b) for op, b in (("gt", gt), ("ge", ge), ("lt", lt), ("le", le))
                            if b is not None)
        if self.bounds and kind not in (int, float):
            raise TypeError(f"bounds need an int or float axis; got kind {kind.__name__}")
        self.choices = None if choices is None else tuple(choices)
        self.doc = doc
        vals = default if isinstance(default, (tuple, list)) else (default,)
        self.default = tuple(vals)

    def __repr__(self) -> str:
        return f"Axis({self.describe()}, default={self.default!r})"

    def describe(self) -> str:
        """The domain in words: ``'float > 0'``, ``'int in [1, n]'``, ``'one of a, b'``."""
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        kind = "float" if self.kind is float else self.kind.__name__
        b = dict(self.bounds)
        lo = ("[", b["ge"]) if "ge" in b else ("(", b["gt"]) if "gt" in b else None
        hi = ("]", b["le"]) if "le" in b else (")", b["lt"]) if "lt" in b else None
        if lo and hi:
            return f"{kind} in {lo[0]}{_num(lo[1])}, {_num(hi[1])}{hi[0]}"
        return " ".join([kind, *(f"{_BOUNDS[op][0]} {_num(v)}" for op, v in self.bounds)])

    def check(self, name: str, value: Any) -> Any:
        """``value`` cast to the axis type and checked against the numeric bounds and the
        choices (bounds naming other axes are checked by :meth:`Sweep.resolve_grid`)."""
        v = _cast(name, self.kind, value, self)
        if self.choices is not None and v not in self.choices:
            names = [str(c) for c in self.choices]
            close = [c for c in names if c.lower() == str(v).lower()] or \
                difflib.get_close_matches(str(v), names, n=1)  # a case slip first
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SweepError(f"grid axis {name!r}{_about(self.doc)} must be {self.describe()}; "
                             f"got {v!r}{hint}")
        for op, bound in self.bounds:
            if not isinstance(bound, str) and not _BOUNDS[op][1](v, bound):
                raise SweepError(f"grid axis {name!r}{_about(self.doc)} must be "
                                 f"{_article(self.kind)} {self.describe()}; got {v!r}")
        return v


def _num(v: Any) -> str:
    return v if isinstance(v, str) else f"{v:g}"


def _about(doc: str) -> str:
    return f" ({doc})" if doc else ""


def _article(kind: type) -> str:
    return "an" if kind is int else "a"


@dataclass(frozen=True)
class Cell:
    """One grid cell: parameters and a seed, with the stable key its record is stored under.

    Examples
    --------
    >>> c = Cell("toy", {"eta": 0.1, "batch": 2}, seed=0)
    >>> c.key == Cell("toy", {"batch": 2, "eta": 0.1}, seed=0).key
    True
    >>> c
    Cell(toy: batch=2, eta=0.1, seed=0)
    """

    sweep: str
    params: Mapping[str, Any]
    seed: int
    version: str = "1"

    def canonical(self) -> str:
        """The canonical JSON text hashed into :attr:`key`."""
        return json.dumps({"sweep": self.sweep, "version": self.version,
                           "params": dict(sorted(self.params.items())), "seed": self.seed},
                          sort_keys=True, separators=(",", ":"), allow_nan=False)

    @property
    def key(self) -> str:
        """First 20 hex digits of the SHA-256 of :meth:`canonical` (80 bits)."""
        return hashlib.sha256(self.canonical().encode()).hexdigest()[:20]

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"Cell({self.sweep}: {ps}, seed={self.seed})"


@dataclass(frozen=True)
class Sweep:
    r"""A named sweep: a cell function, its default grid, and how to draw its results.

    Parameters
    ----------
    name
        Identifier used on the command line and as the output sub-directory.
    cell
        ``cell(params, seed) -> record``: ``params`` is a dict with one value per axis,
        ``seed`` an int; ``record`` a flat mapping of field name to a number, bool, string
        or ``None`` (no field may be named like a parameter or a reserved column, see
        :data:`RESERVED`). Must be a module-level function so workers can import it.
    grid
        Axis name -> :class:`Axis` (the axis' domain and default values, declared once:
        it parses and checks ``--grid`` and is what ``--list`` shows), or a plain tuple of
        default values (an axis of their type with no further constraint). Fixed
        parameters are one-value axes.
    seeds
        Default seeds; every parameter combination runs once per seed.
    title
        One line shown by ``implreg sweep --list`` and on plots.
    axes
        The two axes a plot is drawn over, ``(x, y)``.
    plot
        ``plot(rows, sweep) -> matplotlib Figure`` drawing the stored records (``rows`` is
        a list of dicts, one per successful cell); ``None`` if the sweep has no plot.
    version
        Part of every key: bump it when the cell function changes meaning, so stale
        records are not reused.
    check, check_axes
        A feasibility test that the axes' domains cannot state alone (e.g. a non-uniformity
        that depends on the random instance): ``check(params, seed)`` raises ``ValueError``
        for an infeasible cell, where ``params`` holds only the ``check_axes``. It runs once
        per combination of those axes and seed, before any cell (:meth:`check_cells`), so it
        must be cheap.

    Attributes
    ----------
    grid
        Axis name -> tuple of default values (cast to the axis type).
    domains
        Axis name -> :class:`Axis`.

    Raises
    ------
    ValueError, TypeError
        A malformed definition: default values outside their declared domain, a bound
        naming an unknown axis, mixed value types.

    Examples
    --------
    >>> def square(params, seed):
    ...     return {"y": params["x"] ** 2 + seed}
    >>> s = Sweep("squares", square, grid={"x": Axis(float, (1.0, 2.0), gt=0)}, seeds=(0, 1))
    >>> s
    Sweep('squares': x[2] × seeds[2] = 4 cells)
    >>> [c.params["x"] for c in s.cells()]
    [1.0, 1.0, 2.0, 2.0]
    >>> s.cells({"x": [-1.0]})
    Traceback (most recent call last):
    ...
    verify.sweeps.core.SweepError: grid axis 'x' must be a float > 0; got -1.0
    """

    name: str
    cell: Callable[[dict[str, Any], int], Mapping[str, Any]]
    grid: Mapping[str, tuple[Any, ...] | Axis]
    seeds: tuple[int, ...] = (0,)
    title: str = ""
    axes: tuple[str, str] | None = None
    plot: Callable[..., Any] | None = None
    version: str = "1"
    check: Callable[[dict[str, Any], int], None] | None = None
    check_axes: tuple[str, ...] = ()
    types: Mapping[str, type] = field(default_factory=dict, init=False, repr=False, compare=False)
    domains: Mapping[str, Axis] = field(default_factory=dict, init=False, repr=False,
                                        compare=False)

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"name must be a non-empty identifier; got {self.name!r}")
        if not callable(self.cell):
            raise TypeError(f"cell must be callable; got {type(self.cell).__name__}")
        domains: dict[str, Axis] = {}
        for k, spec in self.grid.items():
            if k in RESERVED:
                raise ValueError(f"grid axis {k!r} clashes with a reserved column {RESERVED}")
            if not isinstance(spec, Axis):
                vals = tuple(spec)
                if not vals:
                    raise ValueError(f"grid axis {k!r} has no values")
                kinds = {type(v) for v in vals}
                kind = next(iter(kinds)) if len(kinds) == 1 else None
                if kind not in _AXIS_TYPES:
                    raise TypeError(
                        f"grid axis {k!r} must hold values of one type among bool, int, float, "
                        f"str; got {sorted(t.__name__ for t in kinds)}")
                spec = Axis(kind, vals)
            elif not spec.default:
                raise ValueError(f"grid axis {k!r} has no values")
            domains[k] = spec
        for k, ax in domains.items():
            for op, b in ax.bounds:
                if isinstance(b, str) and (b not in domains or domains[b].kind not in (int, float)):
                    raise ValueError(f"grid axis {k!r}: bound {op}={b!r} must name a numeric axis "
                                     f"among {sorted(domains)}")
        object.__setattr__(self, "domains", domains)
        object.__setattr__(self, "types", {k: ax.kind for k, ax in domains.items()})
        try:
            grid = self._checked({k: ax.default for k, ax in domains.items()})
        except SweepError as exc:
            raise ValueError(f"default grid of sweep {self.name!r}: {exc}") from None
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "seeds", _check_seeds(self.seeds))
        if self.axes is not None and any(a not in grid for a in self.axes):
            raise ValueError(f"axes {self.axes} must be grid axes {sorted(grid)}")
        if any(a not in grid for a in self.check_axes):
            raise ValueError(f"check_axes {self.check_axes} must be grid axes {sorted(grid)}")
        if self.check is not None and not callable(self.check):
            raise TypeError(f"check must be callable; got {type(self.check).__name__}")

    def __repr__(self) -> str:
        dims = " × ".join(f"{k}[{len(v)}]" for k, v in self.grid.items())
        return (f"Sweep({self.name!r}: {dims} × seeds[{len(self.seeds)}] = "
                f"{self.size()} cells)")

    def size(self, grid: Mapping[str, Sequence[Any]] | None = None,
             seeds: Sequence[int] | None = None) -> int:
        """Number of cells of the (possibly overridden) grid."""
        g = self.resolve_grid(grid)
        return math.prod(len(v) for v in g.values()) * len(self.seeds if seeds is None else seeds)

    def _checked(self, grid: Mapping[str, Sequence[Any]],
                 base: Mapping[str, tuple[Any, ...]] | None = None) -> dict[str, tuple[Any, ...]]:
        """Every axis of ``grid`` cast and checked against its domain, then the bounds
        between axes (``batch ≤ n``) on ``base`` updated by ``grid``; values must be
        distinct."""
        out: dict[str, tuple[Any, ...]] = {}
        for k, vals in grid.items():
            ax = self.domains[k]
            if isinstance(vals, (str, bytes)) or not isinstance(vals, Iterable):
                vals = (vals,)
            vals = tuple(vals)
            if not vals:
                raise SweepError(f"grid axis {k!r} needs at least one value")
            cast = tuple(ax.check(k, v) for v in vals)
            seen: set[Any] = set()
            for raw, v in zip(vals, cast, strict=True):
                if v in seen:
                    same = "" if str(raw) == str(v) else f" ({raw!r} is {v!r})"
                    raise SweepError(f"grid axis {k!r} lists {v!r} twice{same}; give each value "
                                     "once (a repeated value is the same cell)")
                seen.add(v)
            out[k] = cast
        full = {**(base or {}), **out}
        for k, ax in self.domains.items():
            for op, other in ax.bounds:
                if not isinstance(other, str) or k not in full or other not in full:
                    continue
                sym, fn = _BOUNDS[op]
                for v in full[k]:
                    bad = [w for w in full[other] if not fn(v, w)]
                    if bad:
                        raise SweepError(
                            f"grid axis {k!r}{_about(ax.doc)} must be {sym} {other} "
                            f"({_article(ax.kind)} {ax.describe()}); got {k}={v!r} with "
                            f"{other}={bad[0]!r}")
        return out

    def resolve_grid(self, overrides: Mapping[str, Sequence[Any]] | None = None
                     ) -> dict[str, tuple[Any, ...]]:
        """The default grid with some axes replaced, every value checked against its axis'
        domain.

        Raises
        ------
        SweepError
            An unknown axis (the closest is suggested), a value outside its axis' domain
            or breaking a bound between axes (``batch ≤ n``), a repeated value.
        """
        overrides = dict(overrides or {})
        for k in overrides:
            if k not in self.grid:
                raise SweepError(_unknown("grid axis", k, [*self.grid, "seed"],
                                          f"of sweep {self.name!r}"))
        return {**self.grid, **self._checked(overrides, self.grid)}

    def check_cells(self, grid: Mapping[str, Sequence[Any]] | None = None,
                    seeds: Sequence[int] | None = None) -> None:
        """Run ``check`` on every combination of ``check_axes`` and seed of the grid.

        Raises
        ------
        SweepError
            The first infeasible combination, with the check's reason.
        """
        if self.check is None:
            return
        g = self.resolve_grid(grid)
        ss = self.seeds if seeds is None else _check_seeds(seeds)
        for combo in itertools.product(*(g[k] for k in self.check_axes)):
            params = dict(zip(self.check_axes, combo, strict=True))
            for s in ss:
                try:
                    self.check(dict(params), s)
                except (ValueError, MemoryError) as exc:
                    where = ", ".join(f"{k}={v!r}" for k, v in params.items())
                    why = (f"they need more memory than this machine has ({exc})"
                           if isinstance(exc, MemoryError) else str(exc))
                    raise SweepError(f"grid cells with {where}, seed={s} cannot run: {why}") from None

    def cells(self, grid: Mapping[str, Sequence[Any]] | None = None,
              seeds: Sequence[int] | None = None) -> list[Cell]:
        """Every cell of the grid (axes in grid order, seeds innermost).

        Raises
        ------
        SweepError
            As :meth:`resolve_grid`; bad seeds; more than :data:`MAX_CELLS` cells.
        """
        g = self.resolve_grid(grid)
        ss = self.seeds if seeds is None else _check_seeds(seeds)
        _check_count(self, g, ss)
        names = list(g)
        out = []
        for combo in itertools.product(*g.values()):
            params = dict(zip(names, combo, strict=True))
            out.extend(Cell(self.name, params, s, self.version) for s in ss)
        return out


def _check_count(sweep: Sweep, grid: Mapping[str, tuple[Any, ...]], seeds: Sequence[int]) -> None:
    total = math.prod(len(v) for v in grid.values()) * len(seeds)
    if total > MAX_CELLS:
        dims = " × ".join(f"{len(v):,} {k}" for k, v in grid.items() if len(v) > 1)
        raise SweepError(f"the grid of sweep {sweep.name!r} has {total:,} cells ({dims} × "
                         f"{len(seeds):,} seed{'s' if len(seeds) > 1 else ''}); at most "
                         f"{MAX_CELLS:,} per run")


def _as_int_or_none(v: Any) -> int | None:
    try:
        return _cast("", int, v)
    except SweepError:
        return None


def _check_seeds(seeds: Sequence[Any], what: str = "seeds") -> tuple[int, ...]:
    """Distinct non-negative integers; ``what`` names them in messages (``--grid seed``)."""
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise SweepError(f"{what} must be non-negative integers; got {s!r}")
        out.append(int(s))
    if not out:
        raise SweepError(f"{what} must not be empty")
    if len(set(out)) != len(out):
        twice = next(s for s in out if out.count(s) > 1)
        raise SweepError(f"{what} must be distinct; got {twice} twice in {list(seeds)}")
    return tuple(out)


def _unknown(what: str, name: str, known: Sequence[str], where: str = "") -> str:
    folded = [k for k in known if k.lower() == name.lower()]  # a case-only slip
    close = folded or difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {name!r}{' ' + where if where else ''}{hint} (known: {', '.join(known)})"


#: Values of one ``LO:HI:NUM`` range at most (a cap on typos like ``0:1:1e9``).
_MAX_RANGE = 10**5


def _expand(name: str, text: str) -> list[str]:
    """``"a,b,c"`` -> values; ``"lo:hi:num"`` -> ``num`` evenly spaced values in [lo, hi]."""
    if ":" in text and "," not in text:
        parts = text.split(":")
        try:
            if len(parts) != 3:
                raise ValueError
            lo, hi, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 1 or not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError
        except ValueError:
            raise SweepError(f"malformed range for {name!r}: expected LO:HI:NUM (finite LO, HI; "
                             f"integer NUM >= 1); got {text!r}") from None
        if num > _MAX_RANGE:
            raise SweepError(f"range for {name!r} asks for {num:,} values; at most {_MAX_RANGE:,}")
        if num > 1 and lo == hi:
            raise SweepError(f"range for {name!r} repeats {lo!r} {num} times ({text!r}); "
                             "give NUM=1 or a wider range")
        if num == 1:
            return [repr(lo)]
        return [repr(lo + (hi - lo) * i / (num - 1)) for i in range(num)]
    vals = [v.strip() for v in text.split(",")]
    if any(v == "" for v in vals):
        raise SweepError(f"malformed --grid {name}={text}: an empty entry between commas; "
                         "expected KEY=V1,V2,...")
    return vals


def parse_grid(items: Sequence[str], sweep: Sweep) -> tuple[dict[str, tuple[Any, ...]],
                                                           tuple[int, ...] | None]:
    """Parse ``KEY=V1,V2,...`` (or ``KEY=LO:HI:NUM``) overrides; ``seed=...`` sets the seeds.

    Every value is checked against its axis' declared domain (:class:`Axis`), and the
    bounds between axes (``batch ≤ n``) against the whole grid, so a bad request fails
    here, before any cell runs.

    Returns the grid overrides (values cast to the axis types) and the seeds (``None`` if
    not given).

    Raises
    ------
    SweepError
        A malformed item, an unknown or repeated key, a repeated value, a value of the
        wrong type or outside its axis' domain, more than :data:`MAX_CELLS` cells, or
        cells that the sweep's ``check`` finds infeasible.

    Examples
    --------
    >>> s = Sweep("toy", lambda p, s: {}, grid={"eta": (0.1,), "batch": (1,)})
    >>> parse_grid(["eta=0.5:1.0:3", "seed=0,1"], s)
    ({'eta': (0.5, 0.75, 1.0)}, (0, 1))
    """
    grid: dict[str, tuple[Any, ...]] = {}
    seeds: tuple[int, ...] | None = None
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or not text.strip():
            head, colon, rest = item.partition(":")
            hint = (f"; did you mean '{head.strip()}={rest}'?"
                    if not sep and colon and head.strip() in (*sweep.grid, "seed") else "")
            raise SweepError(f"malformed --grid {item!r}: expected KEY=V1,V2,... or "
                             f"KEY=LO:HI:NUM{hint}")
        if key in grid or (key == "seed" and seeds is not None):
            raise SweepError(f"--grid gives {key!r} twice; give all its values in one "
                             f"--grid {key}=V1,V2,...")
        if key != "seed" and key not in sweep.grid:
            raise SweepError(_unknown("grid axis", key, [*sweep.grid, "seed"],
                                      f"of sweep {sweep.name!r}"))
        vals = _expand(key, text.strip())
        if key == "seed":
            what = "--grid seed: seeds"
            try:
                cast = [_cast("seed", int, v) for v in vals]
            except SweepError:
                bad = next(v for v in vals if _as_int_or_none(v) is None)
                raise SweepError(f"{what} must be non-negative integers; got {bad!r}") from None
            seeds = _check_seeds(cast, what)
            continue
        grid[key] = tuple(vals)
    grid = {k: v for k, v in sweep.resolve_grid(grid).items() if k in grid}
    _check_count(sweep, sweep.resolve_grid(grid), sweep.seeds if seeds is None else seeds)
    sweep.check_cells(grid, seeds)
    return grid, seeds


# ----------------------------------------------------------------------------- registry
_SWEEPS: dict[str, Sweep] = {}
_SHIPPED = ("verify.sweeps.stability", "verify.sweeps.two_layer", "verify.sweeps.models")
_loaded = False


def register(sweep: Sweep) -> Sweep:
    """Add ``sweep`` to the registry (``implreg sweep NAME``); returns it."""
    if not isinstance(sweep, Sweep):
        raise TypeError(f"sweep must be a Sweep; got {type(sweep).__name__}")
    if sweep.name in _SWEEPS and _SWEEPS[sweep.name] is not sweep:
        raise ValueError(f"a sweep named {sweep.name!r} is already registered")
    _SWEEPS[sweep.name] = sweep
    return sweep


def _load_shipped() -> None:
    global _loaded
    if not _loaded:
        import importlib  # noqa: PLC0415

        for mod in _SHIPPED:
            importlib.import_module(mod)
        _loaded = True


def sweep_names() -> list[str]:
    """Names of the registered sweeps, sorted."""
    _load_shipped()
    return sorted(_SWEEPS)


def get_sweep(name: str | Sweep) -> Sweep:
    """The registered sweep ``name`` (a :class:`Sweep` is returned unchanged).

    Raises
    ------
    SweepError
        No such sweep; the message suggests the closest name.
    """
    if isinstance(name, Sweep):
        return name
    _load_shipped()
    try:
        return _SWEEPS[name]
    except KeyError:
        raise SweepError(_unknown("sweep", name, sorted(_SWEEPS))) from None


def iter_sweeps() -> Iterator[Sweep]:
    """The registered sweeps, by name."""
    for n in sweep_names():
        yield _SWEEPS[n]
