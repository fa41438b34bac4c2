"""Checks by result id: the numeric evidence for each ``theory`` result.

A check is a function ``check(params, xp, result) -> Outcome``: it builds a problem from a
dict of parameters (drawn by its Hypothesis strategy inside the result's assumptions), runs
the simulation in the namespace ``xp``, evaluates the claims of ``result`` -- the
:class:`theory.Result` the runner built and hands in, never a formula typed again -- through
``result.numeric(xp, part=...)``, and compares them with a derived tolerance. The runner
records which claims were evaluated (what the check *certifies*). Topic modules live in :mod:`verify.checks` (one per catalog topic,
the same modules as in :mod:`theory`) and register with :func:`check`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import theory
from theory._registry import TOPIC_MODULES, UnknownResultError, _unknown_message
from verify.protocols import CheckFunction

__all__ = ["Check", "check", "figure", "get_check", "check_ids", "resolve"]


@dataclass(frozen=True)
class Check:
    """A registered check.

    Attributes
    ----------
    id
        The result id it gives evidence for.
    fn
        ``fn(params, xp, result) -> Outcome``.
    strategy
        A Hypothesis strategy of ``params`` dicts, or ``None`` for a fixed experiment
        (then ``example`` is used, with the seed folded in as ``params["seed"]``).
    examples
        Default number of Hypothesis examples (``--examples`` overrides).
    example
        A representative ``params`` for figures, reports and fixed experiments.
    """

    id: str
    fn: CheckFunction
    strategy: Any = None
    examples: int = 10
    example: dict[str, Any] | None = None

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]


_CHECKS: dict[str, Check] = {}
_FIGURES: dict[str, Callable[..., Any]] = {}


def check(id: str, *, strategy: Any = None, examples: int = 10,
          example: dict[str, Any] | None = None) -> Callable:
    """Register ``fn(params, xp, result) -> Outcome`` as the check of result ``id``.

    ``result`` is the :class:`theory.Result` of ``id`` (or a mutant of it, when implreg
    measures the check's power): every prediction must come from it.
    """
    if strategy is None and example is None:
        raise ValueError(f"check {id!r} needs a strategy or a fixed example")

    def decorate(fn: Callable) -> Callable:
        if id in _CHECKS:
            raise ValueError(f"check {id!r} registered twice")
        _CHECKS[id] = Check(id=id, fn=fn, strategy=strategy, examples=examples, example=example)
        return fn

    return decorate


def figure(id: str) -> Callable:
    """Register ``fn(params, xp) -> matplotlib.figure.Figure`` (or ``fn(params, xp, result)``)
    as the figure of ``id``."""

    def decorate(fn: Callable) -> Callable:
        _FIGURES[id] = fn
        return fn

    return decorate


def _check_module(theory_module: str) -> str:
    return "verify.checks." + theory_module.rsplit(".", 1)[1]


@cache
def _load_all() -> None:
    for module in dict.fromkeys(TOPIC_MODULES.values()):
        name = _check_module(module)
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def check_ids() -> list[str]:
    """Ids that have a registered check, in catalog order."""
    _load_all()
    order = {i: k for k, i in enumerate(theory.ids())}
    return sorted(_CHECKS, key=lambda i: order.get(i, len(order)))


def get_check(id: str) -> Check:
    """The check of result ``id``."""
    _load_all()
    try:
        return _CHECKS[id]
    except KeyError:
        theory.entry(id)  # unknown id -> UnknownResultError naming the closest ids
        raise UnknownResultError(f"result {id!r} has no numeric check yet") from None


def get_figure(id: str) -> Callable[..., Any] | None:
    """The figure function of ``id``, if it has one."""
    _load_all()
    return _FIGURES.get(id)


def resolve(selectors: list[str] | tuple[str, ...]) -> list[str]:
    """Expand ids and topic prefixes (``"linear"``, ``"stability.gd_threshold"``) to the
    ids of registered checks, in catalog order, without duplicates.

    Raises
    ------
    UnknownResultError
        For a selector that is neither an id nor a topic; the message names the closest.
    """
    have = check_ids()
    if not selectors:
        return have
    out: list[str] = []
    for s in selectors:
        if s in have:
            out.append(s)
        elif s in TOPIC_MODULES:
            found = [i for i in have if i.split(".", 1)[0] == s]
            if not found:
                raise UnknownResultError(f"topic {s!r} has no checks yet")
            out.extend(found)
        elif s in theory.ids():
            raise UnknownResultError(f"result {s!r} has no numeric check yet")
        else:
            raise UnknownResultError(
                _unknown_message(s, [*theory.ids(), *TOPIC_MODULES], "id or topic")
            )
    return list(dict.fromkeys(out))
