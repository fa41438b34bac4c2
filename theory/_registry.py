"""The registry of results: ids -> functions that build them, loaded lazily.

Each topic module (``theory/linear.py``, ``theory/stability.py``, ...) decorates its
builders with :func:`result`. Importing :mod:`theory` imports no topic module and no SymPy;
``ids()`` imports the topic modules (SymPy included) but builds nothing; ``get(id)``
builds one result and caches it.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
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


@cache
def _load_all() -> None:
    for module in dict.fromkeys(TOPIC_MODULES.values()):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def entries() -> list[Entry]:
    """Every registered result's metadata, in catalog order (no SymPy work is done)."""
    _load_all()
    order = {t: i for i, t in enumerate(TOPIC_MODULES)}
    return sorted(_ENTRIES.values(), key=lambda e: (order[e.topic], _catalog_pos(e)))


def _catalog_pos(e: Entry) -> int:
    return list(_ENTRIES).index(e.id)


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
    _load_all()
    try:
        return _ENTRIES[id]
    except KeyError:
        raise UnknownResultError(_unknown_message(id, list(_ENTRIES), "result id")) from None


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
