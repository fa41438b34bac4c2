"""The layering of ``ARCHITECTURE.md`` ("Three packages and one bridge", "Layering"), enforced.

Every module of ``theory/``, ``numerics/``, ``verify/`` and ``benchmarks/`` is parsed with
:mod:`ast` (never imported), and every import is read: module-level ones, those inside
functions and methods (lazy imports), and ``importlib.import_module("name")`` /
``__import__("name")`` with a literal name. The rules:

``theory-imports``
    ``theory`` imports neither ``numerics`` nor ``verify`` (nor ``benchmarks``, ``tests``).
``theory-numpy``
    ``theory`` does not import NumPy (or an array backend) at module level: building a
    result needs only SymPy; NumPy is imported inside the functions that print or evaluate.
``numerics-imports``
    ``numerics`` imports neither ``theory``, ``verify`` nor SymPy (nor ``benchmarks``,
    ``tests``).
``verify-imports`` / ``benchmarks-imports``
    Neither ``verify`` nor ``benchmarks`` imports ``tests`` (``verify`` may import
    ``benchmarks``: ``implreg bench`` runs them).
``backend-name``
    Outside ``numerics/backend.py`` no module of ``numerics`` names an array backend: no
    import of ``torch``, ``cupy``, ``jax``, ``array_api_strict``, ``dask``; no use of
    ``array_api_compat``'s detectors (``is_torch_namespace``, ``is_numpy_array``, ...); no
    string literal ``"torch"``, ``"cupy"``, ``"jax"``, ``"array_api_strict"`` outside
    docstrings, and no comparison with ``"numpy"`` (as in ``kind == "numpy"``).
``numpy-import`` and ``numpy-on-xp``
    A heuristic for "NumPy called on an array that came from ``xp``" in ``numerics``
    (outside ``backend.py``). Every scope (module level, or a function) that imports NumPy
    must be in :data:`NUMPY_ALLOWED` with its reason; and inside every function that handles
    arrays of a namespace -- it has a parameter or local named ``xp``, reads an attribute
    ``.xp``, or calls ``array_namespace`` -- every call ``np.<...>(...)`` (``np`` any name
    NumPy is bound to in the module) must be allow-listed too. An allow-list entry that
    matches nothing fails as well, so the list stays the list of real exceptions.

What the heuristic does **not** catch: it follows names, not data. A NumPy call in a
function that receives ``xp`` arrays but never binds or reads an ``xp`` (e.g. a helper
called with ``model.A``) is not seen; neither are NumPy *methods* of arrays (``a.tolist()``),
nor NumPy reached through another module's function, nor the case where an allow-listed
function later starts passing a device array to NumPy. It catches the common mistake
(``np.sum(x)`` inside an array-API function) and makes every NumPy use in ``numerics`` a
listed, reasoned exception. Each failure names file, line and rule.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "numerics", "verify", "benchmarks")

FORBIDDEN_IMPORTS = {
    "theory": ("numerics", "verify", "benchmarks", "tests"),
    "numerics": ("theory", "verify", "sympy", "benchmarks", "tests"),
    "verify": ("tests",),  # `implreg bench` runs benchmarks/: verify -> benchmarks is allowed
    "benchmarks": ("tests",),
}
BACKEND_MODULES = ("torch", "cupy", "jax", "array_api_strict", "dask")
BACKEND_STRINGS = ("torch", "cupy", "jax", "array_api_strict")
DETECTOR = re.compile(
    r"^is_(numpy|torch|cupy|jax|array_api_strict|dask|ndonnx|pydata_sparse)_(namespace|array)$")
BACKEND_MODULE_FILE = "numerics/backend.py"
# Other modules that may name a backend, each with its reason.
BACKEND_NAMING_ALLOWED = {
    "numerics/torch_model.py": "adapts a user's torch.nn.Module (torch.func for gradients, "
                               "per-sample gradients and HVPs); imports torch lazily",
}

# (file, scope) -> why NumPy is right there. A scope is "<module>" or a function's qualified
# name ("Class.method", "outer.inner").
NUMPY_ALLOWED: dict[tuple[str, str], str] = {
    ("numerics/random.py", "<module>"):
        "host-side seeding: numpy.random.SeedSequence and the integer types of seeds",
    ("numerics/random.py", "Generator._reject_repeats"):
        "rejection of repeats on host draws (host_integers, NumPy arrays); converted to xp once",
    ("numerics/random.py", "Generator.__init__"):
        "np.random.SeedSequence(seed): host-side seeding from a Python int, no array of xp",
    # Host solves: the problem is copied to the host (to_numpy) and handed to SciPy.
    ("numerics/diagonal.py", "_host"):
        "host copy of (X, y) with to_numpy for the SciPy solvers below",
    ("numerics/diagonal.py", "min_q_interpolant"): "SciPy trust-exact on host copies",
    ("numerics/diagonal.py", "min_l1_interpolant"): "SciPy HiGHS linear program on host copies",
    ("numerics/factorization.py", "_host3"): "host copy of (A, y) with to_numpy for SciPy",
    ("numerics/factorization.py", "min_nuclear_norm_commuting"):
        "host linear program (SciPy HiGHS) on to_numpy copies",
    ("numerics/factorization.py", "min_entropy_commuting"):
        "SciPy trust-exact on to_numpy copies",
    ("numerics/factorization.py", "min_nuclear_norm"): "host ADMM on to_numpy copies",
    # Host data and host bookkeeping.
    ("numerics/data.py", "<module>"):
        "the digits data set is loaded and split on the host (scikit-learn, NumPy)",
    ("numerics/classification.py", "<module>"):
        "host-side max-margin solver and error messages, on to_numpy copies",
    ("numerics/classification.py", "check_labels"):
        "the error message lists offending labels from a to_numpy copy (after the check failed)",
    ("numerics/classification.py", "max_margin"):
        "SciPy SLSQP and the KKT polish on to_numpy copies; the answer goes back with xp.asarray",
    ("numerics/factorization.py", "_diagonal_in"):
        "checks commutation of the measurements on the host copies made by _host3",
    ("numerics/linear.py", "LeastSquares.batch_grad"):
        "NumPy fast path (blocked replicas into numpy.empty), taken only when is_host_numpy(xp)",
}



@dataclass
class Violation:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


@dataclass
class Import:
    module: str
    line: int
    scope: str
    module_level: bool


@dataclass
class Scope:
    name: str
    is_function: bool
    handles_xp: bool = False
    np_calls: list[tuple[str, int]] = field(default_factory=list)  # (root name, line)


def _files() -> Iterator[Path]:
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def _resolve(node: ast.ImportFrom, path: str) -> str:
    if not node.level:
        return node.module or ""
    parts = Path(path).with_suffix("").parts[:-node.level]
    return ".".join([*parts, *(node.module.split(".") if node.module else [])])


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


class _Reader(ast.NodeVisitor):
    """Imports with their scope, NumPy aliases, and per-function xp handling / NumPy calls."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stack: list[Scope] = [Scope("<module>", is_function=False)]
        self.imports: list[Import] = []
        self.scopes: list[Scope] = [self.stack[0]]
        self.np_aliases: set[str] = set()

    # scope bookkeeping
    def _qual(self, name: str) -> str:
        outer = [s.name for s in self.stack[1:]]
        return ".".join([*outer, name])

    def _function_scope(self) -> Scope:
        for s in reversed(self.stack):
            if s.is_function:
                return s
        return self.stack[0]

    def _module_level(self) -> bool:
        return not any(s.is_function for s in self.stack)

    def _scope_name(self) -> str:
        return self._function_scope().name

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        scope = Scope(self._qual(node.name), is_function=True)
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        scope.handles_xp = any(a.arg == "xp" for a in args)
        self.stack.append(scope)
        self.scopes.append(scope)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.stack.append(Scope(node.name, is_function=False))
        self.generic_visit(node)
        self.stack.pop()

    # imports
    def _add(self, module: str, line: int) -> None:
        self.imports.append(Import(module, line, self._scope_name(), self._module_level()))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)
            if alias.name == "numpy" or alias.name.startswith("numpy."):
                self.np_aliases.add(alias.asname or "numpy")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = _resolve(node, self.path)
        self._add(module, node.lineno)
        if module == "numpy" or module.startswith("numpy."):
            self.np_aliases.update(a.asname or a.name for a in node.names)

    # xp handling and calls
    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "xp" and isinstance(node.ctx, ast.Store):
            self._function_scope().handles_xp = True

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "xp":
            self._function_scope().handles_xp = True
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name == "array_namespace":
            self._function_scope().handles_xp = True
        if name in ("import_module", "__import__") and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self._add(arg.value, node.lineno)
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                self._add(str(arg.values[0].value).rstrip("."), node.lineno)  # f"numerics.{x}"
        root = f
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root is not f:
            self._function_scope().np_calls.append((root.id, node.lineno))
        self.generic_visit(node)


def _parse(source: str, rel: str) -> tuple[str, ast.Module, _Reader, list[str]]:
    tree = ast.parse(source, filename=rel)
    reader = _Reader(rel)
    reader.visit(tree)
    return rel, tree, reader, source.splitlines()


READ = [_parse(p.read_text(encoding="utf-8"), p.relative_to(ROOT).as_posix()) for p in _files()]


def _top(module: str) -> str:
    return module.split(".", 1)[0]


# --------------------------------------------------------------------------- rules
def import_violations() -> list[Violation]:
    out = []
    for rel, _, reader, _ in READ:
        pkg = rel.split("/", 1)[0]
        for imp in reader.imports:
            if _top(imp.module) in FORBIDDEN_IMPORTS[pkg]:
                where = "at module level" if imp.module_level else f"lazily in {imp.scope}"
                out.append(Violation(rel, imp.line, f"{pkg}-imports",
                                     f"{pkg} imports {imp.module!r} {where} (ARCHITECTURE.md: "
                                     f"{pkg} never imports {', '.join(FORBIDDEN_IMPORTS[pkg])})"))
            if (pkg == "theory" and imp.module_level
                    and _top(imp.module) in ("numpy", *BACKEND_MODULES)):
                out.append(Violation(rel, imp.line, "theory-numpy",
                                     f"theory imports {imp.module!r} at module level; import it "
                                     "inside the function that needs it"))
    return out


def backend_name_violations() -> list[Violation]:
    out = []
    for rel, tree, reader, _ in READ:
        if (not rel.startswith("numerics/") or rel == BACKEND_MODULE_FILE
                or rel in BACKEND_NAMING_ALLOWED):
            continue
        found: list[tuple[int, str]] = []
        for imp in reader.imports:
            if _top(imp.module) in BACKEND_MODULES:
                found.append((imp.line, f"imports {imp.module!r}"))
        docs = _docstring_nodes(tree)
        for node in ast.walk(tree):
            name = (node.id if isinstance(node, ast.Name) else node.attr
                    if isinstance(node, ast.Attribute) else None)
            if name and DETECTOR.match(name):
                found.append((node.lineno, f"uses the backend detector {name}"))
            if isinstance(node, ast.alias) and DETECTOR.match(node.name):
                found.append((node.lineno, f"imports the backend detector {node.name}"))
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value in BACKEND_STRINGS and id(node) not in docs):
                found.append((node.lineno, f"names the backend {node.value!r}"))
            if isinstance(node, ast.Compare):
                for c in [node.left, *node.comparators]:
                    if isinstance(c, ast.Constant) and c.value == "numpy":
                        found.append((node.lineno, "compares with the backend name 'numpy'"))
        for line, what in sorted(set(found)):
            out.append(Violation(rel, line, "backend-name",
                                 f"{what}; only {BACKEND_MODULE_FILE} names backends (add a "
                                 "function there and call it)"))
    return out


def numpy_violations() -> tuple[list[Violation], set[tuple[str, str]]]:
    out, used = [], set()
    for rel, _, reader, _ in READ:
        if not rel.startswith("numerics/") or rel == BACKEND_MODULE_FILE:
            continue
        for imp in reader.imports:
            if _top(imp.module) != "numpy":
                continue
            key = (rel, imp.scope)
            if key in NUMPY_ALLOWED:
                used.add(key)
            else:
                out.append(Violation(rel, imp.line, "numpy-import",
                                     f"imports NumPy in {imp.scope}, which is not in "
                                     "tests/test_layering.py NUMPY_ALLOWED (numerics code uses "
                                     "the array API; list a host-side use with its reason)"))
        for scope in reader.scopes:
            if not scope.is_function or not scope.handles_xp:
                continue
            calls = sorted({line for root, line in scope.np_calls if root in reader.np_aliases})
            if not calls:
                continue
            key = (rel, scope.name)
            if key in NUMPY_ALLOWED:
                used.add(key)
                continue
            for line in calls:
                out.append(Violation(rel, line, "numpy-on-xp",
                                     f"calls NumPy in {scope.name}, a function that handles xp "
                                     "arrays; use xp, or list a host-side use in NUMPY_ALLOWED"))
    return out, used


# --------------------------------------------------------------------------- tests
def _report(violations: list[Violation]) -> str:
    return "\n".join(map(str, violations))


def test_every_package_is_parsed() -> None:
    seen = {rel.split("/", 1)[0] for rel, _, _, _ in READ}
    assert seen == set(PACKAGES), f"no modules found for {set(PACKAGES) - seen}"
    assert any(imp.module_level is False for _, _, r, _ in READ for imp in r.imports), (
        "no lazy import found anywhere: the reader does not look inside functions")


def test_imports_follow_the_layers() -> None:
    v = import_violations()
    assert not v, "imports against ARCHITECTURE.md's layering:\n" + _report(v)


def test_only_backend_py_names_a_backend() -> None:
    v = backend_name_violations()
    assert not v, "backend names outside numerics/backend.py:\n" + _report(v)


def test_numpy_in_numerics_is_a_listed_host_side_use() -> None:
    v, _ = numpy_violations()
    assert not v, "NumPy in numerics outside the allow-list:\n" + _report(v)


def test_allow_lists_name_only_real_exceptions() -> None:
    _, used = numpy_violations()
    stale = sorted(set(NUMPY_ALLOWED) - used)
    assert not stale, f"NUMPY_ALLOWED entries that match nothing (remove them): {stale}"


def _violations_in(source: str, rel: str) -> list[Violation]:
    """The rules applied to one synthetic module (for the tests of the rules themselves)."""
    global READ
    saved = READ
    READ = [_parse(source, rel)]
    try:
        return import_violations() + backend_name_violations() + numpy_violations()[0]
    finally:
        READ = saved


def test_rules_catch_what_they_claim() -> None:
    """Each rule fires on a minimal module that breaks it, with file, line and rule."""
    import textwrap

    cases = {
        ("theory/x.py", "theory-imports"): "def f():\n    import numerics.linear\n",
        ("theory/x.py", "theory-numpy"): "import numpy as np\n",
        ("numerics/x.py", "numerics-imports"): "def f():\n    from sympy import Symbol\n",
        ("numerics/x.py", "backend-name"): "def f(xp):\n    return xp is not None and 'torch'\n",
        ("numerics/y.py", "backend-name"): "from array_api_compat import is_cupy_namespace\n",
        ("numerics/z.py", "numpy-import"): "def f(a):\n    import numpy as np\n    return a\n",
        ("numerics/w.py", "numpy-on-xp"): textwrap.dedent("""\
            import numpy as np
            def f(x):
                xp = array_namespace(x)
                return np.sum(x)
        """),
        ("verify/x.py", "verify-imports"): "import tests.conftest\n",
    }
    for (rel, rule), source in cases.items():
        found = _violations_in(source, rel)
        assert any(v.rule == rule and v.path == rel and v.line >= 1 for v in found), (
            f"rule {rule} missed:\n{source}\nfound: {_report(found)}")
    # A docstring that names a backend, and NumPy in a function without xp, are fine.
    ok = '"""Runs on torch."""\ndef f():\n    """cupy too."""\n    return 1\n'
    assert not _violations_in(ok, "numerics/ok.py")
