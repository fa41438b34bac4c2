"""The registry of results: ids -> functions that build them, loaded lazily.

Each topic module (``theory/linear.py``, ``theory/stability.py``, ...) decorates its
builders with :func:`result`. Importing :mod:`theory` imports no topic module and no SymPy;
``ids()`` and ``entries()`` read the ``@result(...)`` decorators from the topic modules'
source (no import, no SymPy: ``implreg list`` stays fast); ``get(id)`` imports the one
module that carries ``id`` and builds the result once. A module whose decorators are not
plain literals is imported instead of read.

Results from outside the package (a researcher's own module, a ``--plugin`` file, an
installed package of theorems) register with the same decorator under a topic of their own:
any dotted id whose topic is not one of :data:`TOPIC_MODULES` is a *user topic*. They are
known from the moment their module is imported (nothing is scanned for them) and are listed
after the built-in topics, in registration order. A user result may not take a built-in
topic, so it can never shadow a built-in id.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from theory._result import Result

__all__ = ["Entry", "RegistrationError", "ResultBuildError", "UnknownResultError", "result", "get", "ids", "entries",
           "topics", "validate_id"]

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
    "models": "theory.models",
}


@dataclass(frozen=True)
class Entry:
    """What the registry knows of a result before building it.

    Attributes
    ----------
    id, title, how
        As given to :func:`result`.
    source
        Where the statement comes from, as given to :func:`result`; for a result registered
        from outside the package it ends with ``· plugin NAME`` (what ``implreg list`` shows).
    builder
        The zero-argument function that builds the :class:`~theory.Result`.
    plugin
        ``None`` for a built-in result; otherwise what registered it: the ``--plugin`` file or
        module, the installed distribution, or the module that was imported.
    """

    id: str
    title: str
    source: str
    how: str  # "derive", "state", "numeric", or combinations as in the catalog
    builder: Callable[[], "Result"]
    plugin: str | None = None

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]

    def __repr__(self) -> str:
        where = "built in" if self.plugin is None else f"plugin {self.plugin}"
        return f"Entry({self.id!r}, {self.title!r}, how={self.how!r}, {where})"


_ENTRIES: dict[str, Entry] = {}
_BUILT: dict[str, "Result"] = {}  # get()'s cache (a dict, so that one user id can be forgotten)

#: What is importing right now on behalf of the user (set by :mod:`verify.plugins` while it
#: imports a ``--plugin`` or an entry point), so that its entries say where they come from.
_LOADING: ContextVar[str | None] = ContextVar("implreg_plugin_loading", default=None)

_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class ResultBuildError(RuntimeError):
    """The builder of a result from outside the package raised; the message is one line
    naming the result, the plugin, the exception and the line (the cause is chained)."""


def _one_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _frame(exc: BaseException, fn: Callable) -> str:
    """`` (FILE, line N)``: the innermost line of ``exc``'s traceback in ``fn``'s file."""
    import traceback  # noqa: PLC0415

    code = getattr(fn, "__code__", None)
    file = getattr(code, "co_filename", None)
    lines = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == file]
    return f" ({lines[-1].filename}, line {lines[-1].lineno})" if lines else ""


class RegistrationError(ValueError):
    """A result, check or figure that cannot be registered: a malformed id, an id registered
    twice, a built-in topic or id taken from outside the package, a check with no result."""


class UnknownResultError(KeyError):
    """An id (or topic) that the registry does not carry; the message names the closest."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want plain text
        return str(self.args[0])


def validate_id(id: object, what: str = "result id") -> str:
    """Return ``id`` if it is a well-formed result id, else raise.

    An id is ``topic.name`` (more dotted parts allowed): lower-case letters, digits and
    ``_``, each part starting with a letter -- ``"linear.gd_limit"``, ``"mytopic.decay"``.

    Raises
    ------
    TypeError
        If ``id`` is not a ``str``.
    RegistrationError
        If it is not of that form; the message names the value and the rule.
    """
    if not isinstance(id, str):
        raise TypeError(f"{what} must be a str; got {type(id).__name__} {id!r}")
    if not _ID.fullmatch(id):
        raise RegistrationError(
            f"{what} {id!r} is malformed: an id is topic.name, dotted lower-case parts of "
            "letters, digits and _ each starting with a letter (e.g. 'mytopic.decay')")
    return id


def builtin_module(id: str) -> str | None:
    """The topic module that owns ``id``'s topic, or ``None`` for a user topic."""
    return TOPIC_MODULES.get(id.split(".", 1)[0])


def origin(module: str | None) -> str:
    """What registers something defined in ``module``: the plugin being imported, else the
    module itself."""
    return _LOADING.get() or f"module {module}"


def outside_builtin_topic(id: str, module: str | None, owner: str, what: str) -> None:
    """Raise if ``id`` has a built-in topic but is registered from ``module``, which is not
    in ``owner``'s package (``theory`` for results, ``verify.checks`` for checks and figures):
    user ids take topics of their own."""
    package = owner.rsplit(".", 1)[0]
    if module is not None and (module == owner or module.startswith(package + ".")):
        return
    topic, name = id.split(".", 1)
    if id in _builtin_ids():
        raise RegistrationError(
            f"{what} {id!r} (from {origin(module)}) shadows the built-in {what} of that id in "
            f"{owner}; give yours a topic of its own, e.g. 'my{topic}.{name}'")
    raise RegistrationError(
        f"{what} {id!r} (from {origin(module)}): topic {topic!r} is built in ({owner}); "
        f"ids from outside the package take a topic of their own, e.g. 'my{topic}.{name}'")


def _builtin_ids() -> set[str]:
    return {e.id for e in entries() if e.plugin is None}


def result(id: str, *, title: str, source: str, how: str) -> Callable:
    """Register the decorated zero-argument function as the builder of result ``id``.

    The builder runs once, on the first :func:`get` of ``id``, and returns the
    :class:`~theory.Result` whose ``id`` is ``id``.

    Parameters
    ----------
    id
        ``topic.name`` (see :func:`validate_id`). A topic that is not built in
        (:data:`TOPIC_MODULES`) is a user topic; built-in topics belong to the package.
    title
        The statement in words (``implreg list`` shows it).
    source
        Where the statement comes from: a paper and its equation, a note.
    how
        How the evidence is produced: ``"derive"`` (SymPy steps), ``"state"`` (stated; the
        evidence is the numeric check), ``"numeric"``, or a combination such as
        ``"derive + numeric"``.

    Returns
    -------
    decorate
        The decorator; it returns the builder unchanged.

    Raises
    ------
    RegistrationError
        For a malformed id, an id registered twice, or a built-in topic (or id) used from
        outside its package module -- one line naming the id and what registered it.
    TypeError
        If ``title``, ``source`` or ``how`` is not a non-empty ``str``.

    Examples
    --------
    >>> import sympy as sp, theory
    >>> x0, rho, k = sp.symbols("x_0 rho k")
    >>> @theory.result("mytopic.power", title="x_k = ρ^k x_0", source="my notes", how="state")
    ... def power():
    ...     return theory.Result(id="mytopic.power", title="x_k = ρ^k x_0", source="my notes",
    ...                          statement=rho**k * x0, symbols=(x0, rho, k))
    >>> theory.get("mytopic.power").statement
    rho**k*x_0
    >>> theory.unregister("mytopic.power")

    References
    ----------
    ARCHITECTURE.md, "Where things go" (a result from outside the package).
    """
    validate_id(id)
    for name, v in (("title", title), ("source", source), ("how", how)):
        if not isinstance(v, str) or not v.strip():
            raise TypeError(f"result {id!r}: {name} must be a non-empty str; got {v!r}")

    def decorate(builder: Callable[[], "Result"]) -> Callable[[], "Result"]:
        if not callable(builder):
            raise TypeError(f"result {id!r}: the decorated object must be a zero-argument "
                            f"function; got {type(builder).__name__}")
        module = getattr(builder, "__module__", None)
        owner = builtin_module(id)
        if owner is not None:
            outside_builtin_topic(id, module, owner, "result")
        if id in _ENTRIES:
            first = _ENTRIES[id]
            raise RegistrationError(
                f"result {id!r} registered twice: first by "
                f"{first.plugin or first.builder.__module__}, again by {origin(module)}")
        plugin = None if owner is not None else origin(module)
        shown = source if plugin is None else f"{source} · plugin {plugin}"
        _ENTRIES[id] = Entry(id=id, title=title, source=shown, how=how, builder=builder,
                             plugin=plugin)
        return builder

    return decorate


def unregister(id: str) -> None:
    """Forget the user result ``id`` (and its built statement), e.g. between tests.

    Raises
    ------
    RegistrationError
        If ``id`` is a built-in result; :class:`UnknownResultError` if nothing carries it.
    """
    e = _ENTRIES.get(id)
    if e is None:
        raise UnknownResultError(_unknown_message(id, list(_ENTRIES), "result id"))
    if e.plugin is None:
        raise RegistrationError(f"result {id!r} is built in; only user results are unregistered")
    del _ENTRIES[id]
    _BUILT.pop(id, None)


@contextmanager
def loading(name: str) -> Iterator[None]:
    """While the block runs, entries registered say they come from plugin ``name``."""
    token = _LOADING.set(name)
    try:
        yield
    finally:
        _LOADING.reset(token)


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
    # Results registered from outside the package (user topics) keep registration order.
    for j, e in enumerate(_ENTRIES.values()):
        if e.id not in out:
            out[e.id] = (e, 10**6 + j)
    return out


def _user_topics() -> list[str]:
    """Topics of results registered from outside the package, in registration order."""
    return list(dict.fromkeys(e.topic for e in _ENTRIES.values() if e.plugin is not None))


def entries() -> list[Entry]:
    """Every registered result's metadata: built-in topics in catalog order, then user
    topics in registration order (no SymPy work is done)."""
    order = {t: i for i, t in enumerate([*TOPIC_MODULES, *_user_topics()])}
    cat = _catalog()
    return [e for e, _ in sorted(cat.values(), key=lambda ep: (order[ep[0].topic], ep[1]))]


def ids(topic: str | None = None) -> list[str]:
    """The ids of every registered result (of one topic if given), in catalog order."""
    out = [e.id for e in entries()]
    if topic is not None:
        known = [*TOPIC_MODULES, *_user_topics()]
        if topic not in known:
            raise UnknownResultError(_unknown_message(topic, known, "topic"))
        out = [i for i in out if i.split(".", 1)[0] == topic]
    return out


def topics() -> list[str]:
    """Topics that have at least one registered result: the catalog's, then user topics."""
    have = {e.topic for e in entries()}
    return [t for t in [*TOPIC_MODULES, *_user_topics()] if t in have]


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


def get(id: str) -> "Result":
    """Build (once) and return the result ``id``.

    Raises
    ------
    UnknownResultError
        If no result has this id; the message names the closest ids.
    """
    r = _BUILT.get(id)
    if r is not None:
        return r
    e = entry(id)
    try:
        r = e.builder()
    except Exception as exc:
        if e.plugin is None:
            raise
        raise ResultBuildError(f"result {id!r} (plugin {e.plugin}) failed to build: "
                               f"{_one_line(exc)}{_frame(exc, e.builder)}") from exc
    if getattr(r, "id", None) != id:
        raise RuntimeError(f"builder of {id!r} returned {getattr(r, 'id', r)!r}, not a Result "
                           f"with id {id!r}")
    _BUILT[id] = r
    return r
