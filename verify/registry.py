"""Checks by result id: the numeric evidence for each ``theory`` result.

A check is a function ``check(params, xp, result) -> Outcome``: it builds a problem from a
dict of parameters (drawn by its Hypothesis strategy inside the result's assumptions), runs
the simulation in the namespace ``xp``, evaluates the claims of ``result`` -- the
:class:`theory.Result` the runner built and hands in, never a formula typed again -- through
``result.numeric(xp, part=...)``, and compares them with a derived tolerance. The runner
records which claims were evaluated (what the check *certifies*). Topic modules live in
:mod:`verify.checks` (one per catalog topic, the same modules as in :mod:`theory`) and
register with :func:`check`.

Checks of results from outside the package register with the same decorator, under the
result's user topic, after the result itself (:func:`theory.result`); :mod:`verify.plugins`
imports such modules for ``implreg ... --plugin``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import theory
from theory._registry import (
    _ENTRIES,
    TOPIC_MODULES,
    RegistrationError,
    UnknownResultError,
    _unknown_message,
    _user_topics,
    builtin_module,
    origin,
    outside_builtin_topic,
    validate_id,
)
from verify.protocols import CheckFunction

__all__ = ["Check", "check", "figure", "get_check", "get_figure", "check_ids", "resolve"]


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
    plugin
        ``None`` for a built-in check, else what registered it (as ``theory.Entry.plugin``).
    """

    id: str
    fn: CheckFunction
    strategy: Any = None
    examples: int = 10
    example: dict[str, Any] | None = None
    plugin: str | None = None

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]

    def __repr__(self) -> str:
        where = "built in" if self.plugin is None else f"plugin {self.plugin}"
        kind = "fixed experiment" if self.strategy is None else f"{self.examples} examples"
        return f"Check({self.id!r}, {getattr(self.fn, '__qualname__', self.fn)}, {kind}, {where})"


_CHECKS: dict[str, Check] = {}
_FIGURES: dict[str, Callable[..., Any]] = {}
_ORIGINS: dict[tuple[str, str], str] = {}  # ("check" | "figure", id) -> what registered it


def _admit(id: str, fn: Callable, table: dict[str, Any], what: str) -> str | None:
    """The checks' and figures' registration rules; returns the plugin that registers."""
    if not callable(fn):
        raise TypeError(f"{what} {id!r}: the decorated object must be a function; "
                        f"got {type(fn).__name__}")
    module = getattr(fn, "__module__", None)
    owner = builtin_module(id)
    if owner is not None:
        outside_builtin_topic(id, module, _check_module(owner), what)
    elif id not in _ENTRIES:
        raise RegistrationError(
            f"{what} {id!r} (from {origin(module)}) has no result: register the result first, "
            f"with @theory.result({id!r}, ...) above the {what}")
    if id in table:
        first = _ORIGINS.get((what, id), "?")
        raise RegistrationError(
            f"{what} {id!r} registered twice: first by {first}, again by {origin(module)}")
    _ORIGINS[(what, id)] = origin(module)
    return None if owner is not None else origin(module)


def check(id: str, *, strategy: Any = None, examples: int = 10,
          example: dict[str, Any] | None = None) -> Callable:
    """Register ``fn(params, xp, result) -> Outcome`` as the check of result ``id``.

    Parameters
    ----------
    id
        The result's id. For a user topic the result must be registered already
        (:func:`theory.result` above the check).
    strategy
        A Hypothesis strategy drawing *parameter dicts* (numbers, never arrays), so that a
        shrunk counterexample reads as ``{'a': 1.0, 'k': 1}``; ``None`` for a fixed experiment.
    examples
        Default number of Hypothesis examples (``implreg verify --examples`` overrides), >= 1.
    example
        A representative ``params`` for figures, reports and fixed experiments (required
        when ``strategy`` is ``None``).

    Returns
    -------
    decorate
        The decorator; it returns ``fn`` unchanged.

    Raises
    ------
    RegistrationError
        For a malformed id, a check registered twice, a user check whose result is not
        registered, or a built-in topic used from outside ``verify.checks``.
    ValueError
        Without a strategy and without an example, or for ``examples`` < 1.

    Notes
    -----
    ``fn`` is called as ``fn(params, xp, result)``: ``params`` drawn by ``strategy``, ``xp``
    the array namespace of the run, ``result`` the :class:`theory.Result` of ``id`` (or a
    mutant of it, when ``implreg power`` measures the check). Every prediction must come
    from ``result`` through ``result.numeric(xp, part=...)`` -- the runner records which
    claims were evaluated -- and the decision is an :class:`verify.Outcome` with a derived
    :class:`verify.Tolerance` (ARCHITECTURE.md, "The life of a check").

    Examples
    --------
    >>> from verify import Outcome, check, tolerance
    >>> from hypothesis import strategies as st
    >>> @check("mytopic.power", strategy=st.fixed_dictionaries({"k": st.integers(0, 5)}))
    ... def check_power(p, xp, result):                                # doctest: +SKIP
    ...     predicted = result.numeric(xp)(x_0=1.0, rho=0.5, k=p["k"])
    ...     return Outcome.close(predicted, 0.5 ** p["k"],
    ...                          tolerance.floating_point(1.0, ops=p["k"] + 1))
    """
    validate_id(id, "check id")
    if strategy is None and example is None:
        raise ValueError(f"check {id!r} needs a strategy or a fixed example")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"check {id!r}: examples must be an int >= 1; got {examples!r}")

    def decorate(fn: Callable) -> Callable:
        plugin = _admit(id, fn, _CHECKS, "check")
        _CHECKS[id] = Check(id=id, fn=fn, strategy=strategy, examples=examples, example=example,
                            plugin=plugin)
        return fn

    return decorate


def figure(id: str) -> Callable:
    """Register ``fn(params, xp) -> matplotlib.figure.Figure`` (or ``fn(params, xp, result)``)
    as the figure of ``id``.

    ``params`` is the check's ``example``; ``implreg figure ID --out PATH`` and ``--report``
    draw it. The rules of :func:`check` apply (one figure per id; a user topic's result
    registered first).

    Raises
    ------
    RegistrationError
        As :func:`check`.
    """
    validate_id(id, "figure id")

    def decorate(fn: Callable) -> Callable:
        _admit(id, fn, _FIGURES, "figure")
        _FIGURES[id] = fn
        return fn

    return decorate


def _check_module(theory_module: str) -> str:
    return "verify.checks." + theory_module.rsplit(".", 1)[1]


@cache
def _load_builtin() -> None:
    for module in dict.fromkeys(TOPIC_MODULES.values()):
        name = _check_module(module)
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def _load_all() -> None:
    """The built-in check modules (once), and the plugins of the ``implreg`` run this
    process works for (a worker process of ``implreg power``: see
    :func:`verify.plugins.load_inherited`)."""
    _load_builtin()
    from verify.plugins import load_inherited  # noqa: PLC0415

    load_inherited()


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
    topics = [*TOPIC_MODULES, *_user_topics()]
    out: list[str] = []
    for s in selectors:
        if s in have:
            out.append(s)
        elif s in topics:
            found = [i for i in have if i.split(".", 1)[0] == s]
            if not found:
                raise UnknownResultError(f"topic {s!r} has no checks yet")
            out.extend(found)
        elif s in theory.ids():
            raise UnknownResultError(f"result {s!r} has no numeric check yet")
        else:
            raise UnknownResultError(
                _unknown_message(s, [*theory.ids(), *topics], "id or topic")
            )
    return list(dict.fromkeys(out))
