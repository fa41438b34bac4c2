"""Plugins: results, checks and figures from outside the package.

A *plugin* is any Python module that registers results with :func:`theory.result` and their
checks with :func:`verify.check` (and figures with :func:`verify.figure`) under a topic of
its own when it is imported. implreg imports one in three ways only:

* ``implreg list|derive|verify|figure|power --plugin MODULE_OR_FILE`` (repeatable): a dotted
  module name importable from ``sys.path`` or a path to a ``.py`` file;
* an installed distribution that declares an entry point in the group ``implreg.plugins``
  (``[project.entry-points."implreg.plugins"] mywork = "mywork.theorems"``): the command
  line loads every such entry point when it starts;
* in Python, :func:`load_plugin` and :func:`load_plugins`.

The library does not load entry points by itself: ``import verify`` and
:func:`verify.run_check` see the built-in results and what the caller imported or loaded,
nothing that merely happens to be installed. Which results exist -- and so which ids a
script verifies -- is then a property of the script, not of the environment it runs in,
and a broken third-party package cannot break ``theory.get`` of a built-in id. Call
:func:`load_plugins` to get the command line's behaviour.

Every failure is a :class:`PluginError` whose message is one line naming the plugin: a file
that does not exist or is not ``.py``, a module that is not found or raises on import (the
exception's type, its first line, the file and line), an id registered twice, a built-in id
or topic taken, a malformed id, a check whose result is not registered. Whatever a plugin
that fails registered is rolled back.

A file plugin is imported under its file name as a module (``my_theorem.py`` is module
``my_theorem``) with its directory on ``sys.path`` while it imports, as Python runs a script,
so that it can import its siblings; a second file of the same name is refused.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import re
import sys
import sysconfig
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from theory import _registry
from theory._registry import RegistrationError

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "isolated",
    "load_entry_points",
    "load_plugin",
    "load_plugins",
    "loaded",
]

#: The entry-point group an installed package of theorems declares.
ENTRY_POINT_GROUP = "implreg.plugins"

#: Set by the command line while a command runs, for the worker processes it starts
#: (``implreg power`` runs checks on a pool of fresh interpreters): the plugins of the run,
#: as JSON. Not meant to be set by hand; use ``--plugin``.
RUN_PLUGINS_ENV = "IMPLREG_RUN_PLUGINS"

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")

#: What has been loaded: the spec's key (a resolved path, a module name, or
#: ``entry point NAME = VALUE``) -> the module name it was imported as.
_LOADED: dict[str, str] = {}
_INHERITED: list[str | None] = [None]  # the value of RUN_PLUGINS_ENV loaded last


class PluginError(ValueError):
    """A plugin that cannot be loaded; the message is one line naming it and the reason."""


# ----------------------------------------------------------------------- messages
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(str(Path(paths[k]).resolve()) for k in ("stdlib", "platstdlib", "purelib",
                                                          "platlib") if k in paths)


def _where(exc: BaseException, file: Path | None) -> str:
    """``(FILE, line N)`` of the line that raised: in the plugin's own file if the traceback
    passes through it, else the innermost frame outside Python's and the installed
    libraries' directories (the user's code), else the innermost frame."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_short(exc.filename)}, line {exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    mine = [f for f in frames if file is not None and Path(f.filename) == file]
    libs = _library_dirs()
    own = [f for f in frames if not str(Path(f.filename).resolve()).startswith(libs)
           and "importlib" not in f.filename and f.filename != __file__]
    f = (mine or own or frames)[-1]
    return f"{_short(f.filename)}, line {f.lineno}"


def _short(path: str) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (a SyntaxError's message without its location)."""
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg}"
    return _registry._one_line(exc)


# ----------------------------------------------------------------------- loading
@contextmanager
def _transaction(name: str, module_names: Iterable[str] = ()) -> Iterator[None]:
    """Register under ``name``; on any failure undo every registration made meanwhile and
    forget the modules imported for the plugin (so that a fixed file can be loaded again)."""
    from verify import registry  # noqa: PLC0415

    before = (set(_registry._ENTRIES), set(registry._CHECKS), set(registry._FIGURES))
    modules_before = set(sys.modules)
    try:
        with _registry.loading(name):
            yield
    except BaseException:
        for table, old in zip((_registry._ENTRIES, registry._CHECKS, registry._FIGURES), before,
                              strict=True):
            for key in set(table) - old:
                del table[key]
                _registry._BUILT.pop(key, None)
        for m in set(sys.modules) - modules_before:
            if m in module_names or any(m.startswith(n + ".") for n in module_names):
                del sys.modules[m]
        raise


def _load_file(spec: str) -> ModuleType:
    path = Path(spec).expanduser()
    if not path.exists():
        raise PluginError(f"plugin {spec!r}: no such file (give a path to a .py file or a "
                          "dotted module name)")
    if path.is_dir():
        raise PluginError(f"plugin {spec!r} is a directory; give a .py file in it, or the "
                          "package as a dotted module name")
    if path.suffix != ".py":
        raise PluginError(f"plugin {spec!r} is not a .py file (suffix {path.suffix or 'none'!r})")
    file = path.resolve()
    name = file.stem
    if not name.isidentifier():
        raise PluginError(f"plugin {spec!r}: the file name {file.name!r} is not a Python module "
                          "name (letters, digits, _)")
    key = str(file)
    existing = sys.modules.get(name)
    if existing is not None:
        there = getattr(existing, "__file__", None)
        if there is not None and Path(there).resolve() == file:
            _LOADED.setdefault(key, name)
            return existing  # imported already (by an earlier plugin or the user): once only
        raise PluginError(f"plugin {spec!r}: the module name {name!r} is taken by "
                          f"{there or 'a built-in module'}; rename the file")
    mod_spec = importlib.util.spec_from_file_location(name, file)
    if mod_spec is None or mod_spec.loader is None:  # pragma: no cover (a .py file always has one)
        raise PluginError(f"plugin {spec!r}: Python cannot import this file")
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[name] = module
    sys.path.insert(0, str(file.parent))
    try:
        with _transaction(_short(str(file)), [name]):
            try:
                mod_spec.loader.exec_module(module)
            except RegistrationError as exc:
                raise PluginError(f"plugin {spec!r}: {exc} ({_where(exc, file)})") from None
            except Exception as exc:  # noqa: BLE001 (any import failure is the user's to read)
                raise PluginError(f"plugin {spec!r} failed to import: {_one_line(exc)} "
                                  f"({_where(exc, file)})") from None
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        try:
            sys.path.remove(str(file.parent))
        except ValueError:  # the plugin took it off itself
            pass
    _LOADED[key] = name
    return module


def _load_module(spec: str) -> ModuleType:
    if spec in sys.modules:
        _LOADED.setdefault(spec, spec)
        return sys.modules[spec]  # imported already: its results registered then
    with _transaction(spec, [spec]):
        try:
            module = importlib.import_module(spec)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (spec == exc.name or spec.startswith(exc.name + ".")):
                raise PluginError(
                    f"plugin {spec!r}: no module named {exc.name!r} on sys.path (give a module "
                    "Python can import, or a path to a .py file such as ./my_theorem.py)"
                ) from None
            raise PluginError(f"plugin {spec!r} failed to import: {_one_line(exc)} "
                              f"({_where(exc, None)})") from None
        except RegistrationError as exc:
            raise PluginError(f"plugin {spec!r}: {exc} ({_where(exc, None)})") from None
        except Exception as exc:  # noqa: BLE001
            raise PluginError(f"plugin {spec!r} failed to import: {_one_line(exc)} "
                              f"({_where(exc, None)})") from None
    _LOADED[spec] = spec
    return module


def load_plugin(spec: str | os.PathLike[str]) -> ModuleType:
    """Import one plugin, so that the results, checks and figures it registers are known.

    Parameters
    ----------
    spec
        A path to a ``.py`` file (anything with a ``/``, ending in ``.py``, or naming an
        existing file) or a dotted module name importable from ``sys.path``
        (``mywork.theorems``).

    Returns
    -------
    module
        The imported module. A plugin is imported once: loading it again returns it.

    Raises
    ------
    PluginError
        One line naming the plugin and what went wrong; what it registered is rolled back.
    TypeError
        If ``spec`` is neither a ``str`` nor a path.

    Examples
    --------
    >>> import theory, verify
    >>> verify.load_plugin("examples/my_theorem.py")             # doctest: +SKIP
    <module 'my_theorem' from '.../examples/my_theorem.py'>
    >>> theory.ids("mytopic")                                    # doctest: +SKIP
    ['mytopic.gd_contraction']
    """
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str):
        raise TypeError(f"plugin must be a module name or a path; got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise PluginError("plugin '': give a dotted module name or a path to a .py file")
    seps = {"/", os.sep, *(s for s in (os.altsep,) if s)}
    if (text.endswith(".py") or any(s in text for s in seps) or text.startswith("~")
            or Path(text).is_file()):  # notes.txt: a file, not module "txt" of package "notes"
        return _load_file(text)
    if not _DOTTED.fullmatch(text):
        raise PluginError(f"plugin {spec!r} is neither a path to a .py file nor a dotted "
                          "module name")
    return _load_module(text)


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points  # noqa: PLC0415

    seen: dict[tuple[str, str], Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault((ep.name, ep.value), ep)  # one distribution seen twice on sys.path
    return list(seen.values())


def load_entry_points() -> list[str]:
    """Load every installed entry point of the group ``implreg.plugins``.

    An entry point names a module (``"mywork.theorems"``, imported) or a function
    (``"mywork.theorems:register"``, imported and called with no arguments).

    Returns
    -------
    names
        ``"NAME = VALUE"`` of each entry point loaded by this call (already loaded ones are
        skipped).

    Raises
    ------
    PluginError
        One line naming the entry point and its distribution, if one fails.
    """
    done = []
    for ep in _entry_points():
        key = f"entry point {ep.name} = {ep.value}"
        if key in _LOADED:
            continue
        dist = getattr(ep, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        dist_name = dist.name if dist is not None else ep.value
        what = f"installed plugin {ep.name!r} ({ep.value}, from {label})"
        root = ep.value.split(":", 1)[0].strip()
        with _transaction(f"{dist_name} (entry point {ep.name})", [root]):
            try:
                obj = ep.load()
                if callable(obj) and not isinstance(obj, ModuleType):
                    obj()
            except RegistrationError as exc:
                raise PluginError(f"{what}: {exc} ({_where(exc, None)}); fix or uninstall "
                                  f"{dist_name}") from None
            except Exception as exc:  # noqa: BLE001
                raise PluginError(f"{what} failed to load: {_one_line(exc)} "
                                  f"({_where(exc, None)}); fix or uninstall {dist_name}") from None
        _LOADED[key] = root
        done.append(f"{ep.name} = {ep.value}")
    return done


def load_plugins(plugins: Iterable[str | os.PathLike[str]] = (), *,
                 entry_points: bool = True) -> list[ModuleType]:
    """What the command line does on start: load the installed entry points of
    ``implreg.plugins`` (unless ``entry_points=False``), then each of ``plugins`` in order.

    Parameters
    ----------
    plugins
        Paths to ``.py`` files or dotted module names (see :func:`load_plugin`).
    entry_points
        Load the installed entry points first.

    Returns
    -------
    modules
        The modules of ``plugins``, in order.

    Raises
    ------
    PluginError
        For the first plugin that cannot be loaded.
    """
    if isinstance(plugins, (str, os.PathLike)):
        plugins = [plugins]
    if entry_points:
        load_entry_points()
    return [load_plugin(p) for p in plugins]


def loaded() -> dict[str, str]:
    """The plugins loaded so far: what was named (a resolved path, a module name or an
    entry point) -> the module imported for it."""
    return dict(_LOADED)


def load_inherited() -> None:
    """Load the plugins of the ``implreg`` run this process works for, if any.

    The command line records its plugins in the environment variable ``IMPLREG_RUN_PLUGINS``
    while a command runs; a worker process it starts (``implreg power`` on several results)
    loads the same ones here, on its first look-up of a check. Nothing happens when the
    variable is not set.
    """
    value = os.environ.get(RUN_PLUGINS_ENV)
    if not value or value == _INHERITED[0]:
        return
    try:
        run = json.loads(value)
        specs, eps = list(run["plugins"]), bool(run["entry_points"])
    except (ValueError, KeyError, TypeError):
        raise PluginError(f"{RUN_PLUGINS_ENV} is not what implreg writes; unset it "
                          f"(got {value[:80]!r})") from None
    load_plugins(specs, entry_points=eps)
    _INHERITED[0] = value


@contextmanager
def isolated() -> Iterator[None]:
    """Undo, on leaving the block, every result, check and figure registered from outside
    the package inside it, and forget the plugin modules it imported -- for tests (a fixture
    around each one) and for trying a statement again in a notebook.

    Examples
    --------
    >>> import theory, verify
    >>> with verify.isolated():
    ...     _ = verify.load_plugin("examples/my_theorem.py")      # doctest: +SKIP
    ...     "mytopic.gd_contraction" in theory.ids()              # doctest: +SKIP
    True
    >>> "mytopic.gd_contraction" in theory.ids()
    False
    """
    from verify import registry  # noqa: PLC0415

    registry._load_builtin()  # built-ins registered inside the block must not be undone
    _registry.ids()
    tables = (_registry._ENTRIES, registry._CHECKS, registry._FIGURES)
    before = [dict(t) for t in tables]
    loaded_before = dict(_LOADED)
    modules_before = set(sys.modules)
    env = os.environ.get(RUN_PLUGINS_ENV)
    inherited = _INHERITED[0]
    try:
        yield
    finally:
        owners = set()
        for table, old in zip(tables, before, strict=True):
            for key in [k for k in table if k not in old]:
                item = table.pop(key)
                _registry._BUILT.pop(key, None)
                fn = getattr(item, "builder", None) or getattr(item, "fn", None) or item
                owners.add(getattr(fn, "__module__", None))
            table.update(old)
        owners.update(m for k, m in _LOADED.items() if k not in loaded_before)
        owners |= {o.rsplit(".", i)[0] for o in owners if o for i in range(1, o.count(".") + 1)}
        for m in list(sys.modules):
            if m in modules_before:
                continue
            if m in owners or any(m.startswith(f"{o}.") for o in owners if o):
                del sys.modules[m]
        _LOADED.clear()
        _LOADED.update(loaded_before)
        _INHERITED[0] = inherited
        if env is None:
            os.environ.pop(RUN_PLUGINS_ENV, None)
        else:
            os.environ[RUN_PLUGINS_ENV] = env


# ----------------------------------------------------------------------- command line
#: Commands that read the registries, and so take ``--plugin``.
CLI_COMMANDS = ("list", "derive", "verify", "figure", "power", "compare")


def add_cli_option(subparsers: Any) -> None:
    """Give each of :data:`CLI_COMMANDS` the repeatable option ``--plugin MODULE_OR_FILE``."""
    for name in CLI_COMMANDS:
        subparsers.choices[name].add_argument(
            "--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
            help="import this module or .py file first, so that the results and checks it "
                 "registers are listed and run like the built-in ones (repeatable); installed "
                 f"'{ENTRY_POINT_GROUP}' entry points are always loaded")


@contextmanager
def cli_session(args: argparse.Namespace) -> Iterator[None]:
    """Around one command of the command line: load the entry points and the ``--plugin``
    modules before any work (a :class:`PluginError` is the command's one-line error, exit
    status 2), and record them for the worker processes the command starts."""
    specs = getattr(args, "plugin", None)
    if specs is None:  # a command that does not read the registries
        yield
        return
    modules = load_plugins(specs, entry_points=True)
    names = []
    for spec, module in zip(specs, modules, strict=True):
        f = getattr(module, "__file__", None)
        is_file = spec.endswith(".py") or "/" in spec or os.sep in spec
        names.append(str(Path(f).resolve()) if is_file and f else spec)
    env = os.environ.get(RUN_PLUGINS_ENV)
    os.environ[RUN_PLUGINS_ENV] = json.dumps({"plugins": names, "entry_points": True})
    _INHERITED[0] = os.environ[RUN_PLUGINS_ENV]  # loaded here already
    try:
        yield
    except _registry.ResultBuildError as exc:  # a plugin's builder raised: the user's to fix
        raise PluginError(str(exc)) from None
    finally:
        if env is None:
            os.environ.pop(RUN_PLUGINS_ENV, None)
        else:
            os.environ[RUN_PLUGINS_ENV] = env
