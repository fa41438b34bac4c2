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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
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


def _cast(name: str, kind: type, value: Any) -> Any:
    """``value`` as the axis type ``kind``, or a :class:`SweepError` naming the axis."""
    try:
        if kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                return low in ("true", "1")
            return bool(value)
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            if isinstance(value, str):
                f = float(value)
                if not f.is_integer():
                    raise ValueError(value)
                return int(f)
            return int(value)
        if kind is float:
            v = float(value)
            if not math.isfinite(v):
                raise ValueError(value)
            return _round_float(v)
        return str(value)
    except (TypeError, ValueError):
        raise SweepError(
            f"grid value for {name!r} must be {'a finite float' if kind is float else 'an ' + kind.__name__}; "
            f"got {value!r}") from None


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
        Axis name -> tuple of default values; all values of one axis share a type
        (bool, int, float or str), which is also how values given on the command line
        are parsed. Fixed parameters are one-value axes.
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

    Examples
    --------
    >>> def square(params, seed):
    ...     return {"y": params["x"] ** 2 + seed}
    >>> s = Sweep("squares", square, grid={"x": (1.0, 2.0)}, seeds=(0, 1))
    >>> s
    Sweep('squares': x[2] × seeds[2] = 4 cells)
    >>> [c.params["x"] for c in s.cells()]
    [1.0, 1.0, 2.0, 2.0]
    """

    name: str
    cell: Callable[[dict[str, Any], int], Mapping[str, Any]]
    grid: Mapping[str, tuple[Any, ...]]
    seeds: tuple[int, ...] = (0,)
    title: str = ""
    axes: tuple[str, str] | None = None
    plot: Callable[..., Any] | None = None
    version: str = "1"
    types: Mapping[str, type] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"name must be a non-empty identifier; got {self.name!r}")
        if not callable(self.cell):
            raise TypeError(f"cell must be callable; got {type(self.cell).__name__}")
        types: dict[str, type] = {}
        grid: dict[str, tuple[Any, ...]] = {}
        for k, vals in self.grid.items():
            if k in RESERVED:
                raise ValueError(f"grid axis {k!r} clashes with a reserved column {RESERVED}")
            vals = tuple(vals)
            if not vals:
                raise ValueError(f"grid axis {k!r} has no values")
            kinds = {type(v) for v in vals}
            kind = next(iter(kinds)) if len(kinds) == 1 else None
            if kind not in _AXIS_TYPES:
                raise TypeError(
                    f"grid axis {k!r} must hold values of one type among bool, int, float, str; "
                    f"got {sorted(t.__name__ for t in kinds)}")
            types[k] = kind
            grid[k] = tuple(_cast(k, kind, v) for v in vals)
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "seeds", _check_seeds(self.seeds))
        if self.axes is not None and any(a not in grid for a in self.axes):
            raise ValueError(f"axes {self.axes} must be grid axes {sorted(grid)}")

    def __repr__(self) -> str:
        dims = " × ".join(f"{k}[{len(v)}]" for k, v in self.grid.items())
        return (f"Sweep({self.name!r}: {dims} × seeds[{len(self.seeds)}] = "
                f"{self.size()} cells)")

    def size(self, grid: Mapping[str, Sequence[Any]] | None = None,
             seeds: Sequence[int] | None = None) -> int:
        """Number of cells of the (possibly overridden) grid."""
        g = self.resolve_grid(grid)
        return math.prod(len(v) for v in g.values()) * len(self.seeds if seeds is None else seeds)

    def resolve_grid(self, overrides: Mapping[str, Sequence[Any]] | None = None
                     ) -> dict[str, tuple[Any, ...]]:
        """The default grid with some axes replaced (values cast to each axis' type)."""
        grid = dict(self.grid)
        for k, vals in (overrides or {}).items():
            if k not in grid:
                raise SweepError(_unknown("grid axis", k, [*grid, "seed"], f"of sweep {self.name!r}"))
            vals = tuple(vals)
            if not vals:
                raise SweepError(f"grid axis {k!r} needs at least one value")
            grid[k] = tuple(_cast(k, self.types[k], v) for v in vals)
        return grid

    def cells(self, grid: Mapping[str, Sequence[Any]] | None = None,
              seeds: Sequence[int] | None = None) -> list[Cell]:
        """Every cell of the grid (axes in grid order, seeds innermost)."""
        g = self.resolve_grid(grid)
        ss = self.seeds if seeds is None else _check_seeds(seeds)
        names = list(g)
        out = []
        for combo in itertools.product(*g.values()):
            params = dict(zip(names, combo, strict=True))
            out.extend(Cell(self.name, params, s, self.version) for s in ss)
        return out


def _check_seeds(seeds: Sequence[Any]) -> tuple[int, ...]:
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise SweepError(f"seeds must be non-negative integers; got {s!r}")
        out.append(int(s))
    if not out:
        raise SweepError("seeds must not be empty")
    if len(set(out)) != len(out):
        raise SweepError(f"seeds must be distinct; got {list(seeds)}")
    return tuple(out)


def _unknown(what: str, name: str, known: Sequence[str], where: str = "") -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {name!r}{' ' + where if where else ''}{hint} (known: {', '.join(known)})"


def _expand(name: str, text: str) -> list[str]:
    """``"a,b,c"`` -> values; ``"lo:hi:num"`` -> ``num`` evenly spaced values in [lo, hi]."""
    if ":" in text and "," not in text:
        parts = text.split(":")
        try:
            lo, hi, num = float(parts[0]), float(parts[1]), int(parts[2])
            if len(parts) != 3 or num < 1:
                raise ValueError
        except (ValueError, IndexError):
            raise SweepError(f"malformed range for {name!r}: expected LO:HI:NUM (NUM >= 1); "
                             f"got {text!r}") from None
        if num == 1:
            return [repr(lo)]
        return [repr(lo + (hi - lo) * i / (num - 1)) for i in range(num)]
    vals = [v.strip() for v in text.split(",")]
    if any(v == "" for v in vals):
        raise SweepError(f"malformed values for {name!r}: empty entry in {text!r}")
    return vals


def parse_grid(items: Sequence[str], sweep: Sweep) -> tuple[dict[str, tuple[Any, ...]],
                                                           tuple[int, ...] | None]:
    """Parse ``KEY=V1,V2,...`` (or ``KEY=LO:HI:NUM``) overrides; ``seed=...`` sets the seeds.

    Returns the grid overrides (values cast to the axis types) and the seeds (``None`` if
    not given).

    Raises
    ------
    SweepError
        A malformed item, an unknown or repeated key, or a value of the wrong type.

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
            raise SweepError(f"malformed --grid {item!r}: expected KEY=V1,V2,... or KEY=LO:HI:NUM")
        if key in grid or (key == "seed" and seeds is not None):
            raise SweepError(f"--grid gives {key!r} twice")
        vals = _expand(key, text.strip())
        if key == "seed":
            seeds = _check_seeds([_cast("seed", int, v) for v in vals])
            continue
        if key not in sweep.grid:
            raise SweepError(_unknown("grid axis", key, [*sweep.grid, "seed"],
                                      f"of sweep {sweep.name!r}"))
        grid[key] = tuple(_cast(key, sweep.types[key], v) for v in vals)
    return grid, seeds


# ----------------------------------------------------------------------------- registry
_SWEEPS: dict[str, Sweep] = {}
_SHIPPED = ("verify.sweeps.stability", "verify.sweeps.two_layer")
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
