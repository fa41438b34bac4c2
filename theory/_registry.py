"""The registry of results: ids -> functions that build them, loaded lazily.

Each topic module (``theory/linear.py``, ``theory/stability.py``, ...) decorates its
builders with :func:`result`. Importing :mod:`theory` imports no topic module and no SymPy;
``ids()`` and ``entries()`` read the ``@result(...)`` decorators from the topic modules'
source (no import, no SymPy: ``implreg list`` stays fast); ``get(id)`` imports the one
module that carries ``id`` and builds the result once. A module whose decorators are not
plain literals is imported instead of read.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from theory._result import Result

__all__ = ["Entry", "UnknownResultError", "result", "get", "ids", "entries", "topics"]

# Catalog section -> module that carries it. One module per topic, in catalog order;
# ``sgd_noise`` is a consequence of the minibatch moment computation, so it lives
# with ``stability``.
TOPIC_MODULES: dict[str, str] = {
    "linear": "theory.linear",
    "classification": "theory.classification",
    "stability": "theory.stability",
    "sgd_noise": "theory.stability",
    "sharpness": "theory.sharpness",
    "kernels": "theory.kernels",
    "two_layer": "theory.two_layer",
    "label_noise": "theory.label_noise",
    "langevin": "theory.langevin",
    "diagonal": "theory.diagonal",
    "factorization": "theory.factorization",
    "adaptive": "theory.adaptive",
    "data": "theory.data",
}


@dataclass(frozen=True)
class Entry:
    """What the registry knows of a result before building it."""

    id: str
    title: str
    source: str
    how: str  # "derive", "state", "numeric", or combinations as in the catalog
    builder: Callable[[], "Result"]

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]


_ENTRIES: dict[str, Entry] = {}


class UnknownResultError(KeyError):
    """An id (or topic) that the registry does not carry; the message names the closest."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want plain text
        return str(self.args[0])


def result(id: str, *, title: str, source: str, how: str) -> Callable:
    """Register the decorated zero-argument function as the builder of result ``id``."""
    topic = id.split(".", 1)[0]
    if topic not in TOPIC_MODULES:
        raise ValueError(f"result id {id!r} has unknown topic {topic!r}")

    def decorate(builder: Callable[[], "Result"]) -> Callable[[], "Result"]:
        if id in _ENTRIES:
            raise ValueError(f"result {id!r} registered twice")
        _ENTRIES[id] = Entry(id=id, title=title, source=source, how=how, builder=builder)
        return builder

    return decorate


def _is_result_decorator(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id == "result") or (
        isinstance(f, ast.Attribute) and f.attr == "result")


@cache
def _scan(module: str) -> tuple[tuple[str, str, str, str], ...] | None:
    """``(id, title, source, how)`` of each ``@result`` builder in ``module``'s source, in
    source order; ``None`` if the module cannot be read this way (it is then imported)."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        return ()
    if not spec.origin or not spec.origin.endswith(".py"):
        return None
    try:
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=spec.origin)
    except (OSError, SyntaxError, ValueError):
        return None
    consts: dict[str, str] = {}  # module-level NAME = "literal" (e.g. a shared source)

    def value(node: ast.expr) -> object:
        if isinstance(node, ast.Name) and node.id in consts:
            return consts[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # _SEED + " (...)"
            left, right = value(node.left), value(node.right)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            raise ValueError("not a string concatenation")
        return ast.literal_eval(node)

    found = []
    for node in tree.body:
        if (isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                try:
                    v = ast.literal_eval(node.value)
                except ValueError:
                    consts.pop(targets[0].id, None)
                else:
                    if isinstance(v, str):
                        consts[targets[0].id] = v
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            if not _is_result_decorator(dec):
                continue
            try:
                args = [value(a) for a in dec.args]
                kw = {k.arg: value(k.value) for k in dec.keywords}
            except ValueError:
                return None
            if len(args) != 1 or set(kw) != {"title", "source", "how"} or not all(
                    isinstance(v, str) for v in (*args, *kw.values())):
                return None
            found.append((args[0], kw["title"], kw["source"], kw["how"]))
    return tuple(found)


class _LazyBuilder:
    """Imports the module that carries ``id`` on first call, then runs its builder."""

    def __init__(self, module: str, id: str) -> None:
        self.module, self.id = module, id

    def __call__(self) -> "Result":
        importlib.import_module(self.module)
        real = _ENTRIES.get(self.id)
        if real is None:
            raise RuntimeError(f"{self.module} does not register {self.id!r} when imported")
        return real.builder()

    def __repr__(self) -> str:
        return f"<builder of {self.id} in {self.module}, not yet imported>"


def _catalog() -> dict[str, tuple[Entry, int]]:
    """id -> (entry, position within its module); reads sources, imports only if needed."""
    out: dict[str, tuple[Entry, int]] = {}
    for module in dict.fromkeys(TOPIC_MODULES.values()):
        scanned = None if module in sys.modules else _scan(module)
        if scanned is None:  # imported already, or not readable as literals: use the real ones
            if module not in sys.modules and importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
            mine = [e for e in _ENTRIES.values() if getattr(e.builder, "__module__", None) == module]
            for i, e in enumerate(mine):
                out[e.id] = (e, i)
            continue
        for i, (id_, title, source, how) in enumerate(scanned):
            real = _ENTRIES.get(id_)
            out[id_] = (real or Entry(id=id_, title=title, source=source, how=how,
                                      builder=_LazyBuilder(module, id_)), i)
    # Results registered from elsewhere (not a topic module) keep registration order.
    for j, e in enumerate(_ENTRIES.values()):
        if e.id not in out:
            out[e.id] = (e, 10**6 + j)
    return out


def entries() -> list[Entry]:
    """Every registered result's metadata, in catalog order (no SymPy work is done)."""
    order = {t: i for i, t in enumerate(TOPIC_MODULES)}
    cat = _catalog()
    return [e for e, _ in sorted(cat.values(), key=lambda ep: (order[ep[0].topic], ep[1]))]


def ids(topic: str | None = None) -> list[str]:
    """The ids of every registered result (of one topic if given), in catalog order."""
    out = [e.id for e in entries()]
    if topic is not None:
        if topic not in TOPIC_MODULES:
            raise UnknownResultError(_unknown_message(topic, list(TOPIC_MODULES), "topic"))
        out = [i for i in out if i.split(".", 1)[0] == topic]
    return out


def topics() -> list[str]:
    """Catalog topics that have at least one registered result."""
    have = {e.topic for e in entries()}
    return [t for t in TOPIC_MODULES if t in have]


def _unknown_message(name: str, known: list[str], what: str) -> str:
    lower = {k.lower(): k for k in known}
    if name.lower() in lower:  # a case-only slip (LINEAR.GD_LIMIT)
        return (f"unknown {what} {name!r}; did you mean {lower[name.lower()]}? "
                "(ids are lower case; `implreg list` shows every id)")
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if not close:  # match on the part after the dot as well ("gd_limit" -> linear.gd_limit)
        tails = {k.split(".", 1)[-1]: k for k in known}
        close = [tails[t] for t in difflib.get_close_matches(name, list(tails), n=3, cutoff=0.5)]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown {what} {name!r}{hint} (`implreg list` shows every id)"


def entry(id: str) -> Entry:
    """The registry entry of ``id``; raises :class:`UnknownResultError` naming the closest."""
    if not isinstance(id, str):
        raise TypeError(f"result id must be a str; got {type(id).__name__}")
    cat = _catalog()
    try:
        return cat[id][0]
    except KeyError:
        raise UnknownResultError(_unknown_message(id, list(cat), "result id")) from None


@cache
def get(id: str) -> "Result":
    """Build (once) and return the result ``id``.

    Raises
    ------
    UnknownResultError
        If no result has this id; the message names the closest ids.
    """
    e = entry(id)
    r = e.builder()
    if r.id != id:
        raise RuntimeError(f"builder of {id!r} returned result {r.id!r}")
    return r
