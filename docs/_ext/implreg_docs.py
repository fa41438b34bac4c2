"""Pages of the implreg documentation that are generated from the code at build time.

At ``builder-inited`` (before Sphinx looks for source files) this extension writes

* ``api/*.rst``: one page per package (its ``__all__``) and per public module (the names of
  its ``__all__`` that the package does not already document), rendered by autodoc and
  numpydoc;
* ``topics/<topic>.md``: one page per catalog topic, from ``theory.ids(topic)`` and
  ``theory.get(id)`` (statement, parts, conditions, derivation steps, notes) and from
  ``verify.registry`` (the check's docstring and the claims it certifies);
* ``gallery/index.md`` and its PNGs: every result that has a figure, drawn by the
  ``implreg figure ID --out PATH`` command (``verify.cli.main``) in a separate process that
  runs while Sphinx reads the other pages.

None of these files is committed (``.gitignore``); nothing here reaches the network.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

PACKAGES = ("theory", "numerics", "verify")

# The seed figure (or table) each gallery figure reproduces. Seeds are in shared/seeds/:
# 000 is Wu (2020), "Towards understanding the implicit regularization in deep learning";
# 001 the survey "Open problems about sharpness, implicit bias, and generalization";
# 002 lecture 12 "Implicit regularization & noisy dynamics"; 003 Giselsson's SGD notes;
# 004 the CBMM memo (Zhang et al. 2018, "Theory of deep learning III").
SEED_FIGURES: dict[str, str] = {
    "linear.gd_limit": "seed 002's and seed 003's statement that GD converges to the "
                       "projection of x₀ onto {Ax = y} (stated there without a figure)",
    "linear.generalization_error": "seed 000, *Generalization error curve* of the linear "
                                   "problem (test error of gradient flow against time)",
    "linear.early_stopping": "seed 000, *The slow deterioration of the generalization "
                             "error* (figures from Ma, Wu and E, MSML 2020)",
    "linear.random_features_double_descent": "seed 000, the figure of test errors of GD "
                                             "solutions against the number of features "
                                             "(double descent, Belkin et al. 2019)",
    "classification.max_margin": "seed 002, the max-margin direction of logistic GD "
                                 "(Soudry et al. 2018)",
    "stability.sgd_escape_example": "seed 000, *Motivating example (Left)*: one trajectory "
                                    "of SGD with η = 0.7 from x₀ = 1 − 10⁻⁵ escaping to 0, "
                                    "while GD stays at 1",
    "stability.sgd_threshold": "seed 000, the sharpness–non-uniformity diagram (the "
                               "condition for SGD with different batch sizes and learning "
                               "rates to be stable)",
    "stability.edge_of_stability": "seed 000, *Table: Sharpness of the solutions found by "
                                   "GD with different learning rates*",
    "two_layer.rf_limit": "seed 000, *(Left) The dynamic behavior of the loss* (m = 200, "
                          "d = 100): the network close to its random-feature model early on",
    "two_layer.quenching_activation": "seed 000, *(Right) The magnitude of each neuron of "
                                      "the convergent solution* and *The dynamics of Top-5 "
                                      "neurons* (quenching–activation)",
    "label_noise.sparse_recovery": "seed 001, label-noise SGD on the quadratic model "
                                   "recovering the sparse w* (Li, Wang, Arora 2022)",
    "langevin.basin_mass_ratio": "seed 004, *Figure 3* and *Figure 5*: Langevin GD's "
                                 "histograms over two equal-depth minima, the wider one "
                                 "winning more as the dimension grows",
    "diagonal.scale_limits": "seed 001, the rich (ℓ1) and kernel (ℓ2) regimes of diagonal "
                             "linear networks by initialization scale (Woodworth et al. 2020)",
    "adaptive.metric_view": "seed 003, scaled GD as GD in the metric H (variable metric "
                            "methods)",
    "adaptive.adam_vs_sgd_norm": "seed 003, the table of Adam vs SGD from different "
                                 "initial points (‖θ‖ and the Lipschitz bound)",
    "data.sharpness_vs_lr": "seed 000, *Table: Sharpness of the solutions found by GD with "
                            "different learning rates* (on the 8×8 digits)",
    "data.escape": "seed 000, *Fast escape phenomenon* and *Escape of GD and SGD from the "
                   "minima selected by L-BFGS* (on the 8×8 digits)",
    "data.batch_size": "seed 000, *The influence of the batch size on the non-uniformity "
                       "and sharpness* (Keskar et al. 2017, table 2)",
    "data.random_labels": "seed 000 (Zhang et al. 2017, random labels) and seed 004, "
                          "*Table 1: the flatness test* (natural vs random labels)",
    "data.adam_vs_sgd": "seed 003, the table of Adam vs SGD from different initial scales σ "
                        "(norms, Lipschitz bound, sharpness)",
}


# --------------------------------------------------------------------------- helpers
def _write(path: Path, text: str) -> None:
    """Write ``text`` only if it changed, so Sphinx re-reads only what changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#$|{}])")


def md_text(s: str) -> str:
    """Plain text (notes, titles, check docstrings) as inert Markdown: ``x`` and `x` stay
    code, every other Markdown or MyST special character is escaped."""
    out = []
    for k, chunk in enumerate(re.split(r"``?([^`]+?)``?", s)):
        out.append(f"`{chunk}`" if k % 2 else _MD_SPECIAL.sub(r"\\\1", chunk))
    return "".join(out)


def paragraphs(doc: str) -> str:
    """A docstring as Markdown paragraphs (blank lines kept, lines joined)."""
    doc = inspect.cleandoc(doc)
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc) if p.strip()]
    return "\n\n".join(md_text(p) for p in paras)


def math_block(latex: str) -> str:
    return "```{math}\n" + latex.strip() + "\n```\n"


# --------------------------------------------------------------------------- API pages
def _public_modules(package: str) -> list[str]:
    import pkgutil

    pkg = importlib.import_module(package)
    out = []
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        leaf = info.name.rsplit(".", 1)[1]
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue  # private modules and __main__ (which would start the CLI)
        out.append(info.name)
        del leaf
    return sorted(out)


def _directive(obj: Any) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


def _members_rst(module: str, names: list[str], skip: set[int]) -> tuple[str, list[str]]:
    mod = importlib.import_module(module)
    blocks, listed = [], []
    for name in names:
        obj = getattr(mod, name)
        if id(obj) in skip and not isinstance(obj, (int, float, str, tuple, dict)):
            continue
        listed.append(name)
        d = _directive(obj)
        opts = "   :members:\n   :show-inheritance:\n" if d == "autoclass" else ""
        if d == "autodata":
            opts = "   :no-value:\n" if isinstance(obj, (dict, list)) and len(obj) > 8 else ""
        blocks.append(f".. {d}:: {module}.{name}\n{opts}")
    return "\n".join(blocks), listed


def write_api(srcdir: Path) -> None:
    api = srcdir / "api"
    pages = []
    documented: set[int] = set()  # objects documented on a package page above
    for package in PACKAGES:
        mod = importlib.import_module(package)
        # submodules exported by name (``verify.strategies``) have pages of their own
        names = [n for n in mod.__all__ if not inspect.ismodule(getattr(mod, n))]
        documented |= {id(getattr(mod, n)) for n in names}
        body, listed = _members_rst(package, names, set())
        subs = _public_modules(package)
        table = "\n".join(f"   {n}" for n in listed)
        text = (f"``{package}``\n{'=' * (len(package) + 4)}\n\n.. automodule:: {package}\n"
                f"   :no-members:\n\n.. autosummary::\n   :nosignatures:\n\n{table}\n\n"
                f"Modules\n-------\n\n.. toctree::\n   :maxdepth: 1\n\n"
                + "\n".join(f"   {s}" for s in subs) + "\n\nReference\n---------\n\n" + body)
        _write(api / f"{package}.rst", text)
        pages.append(package)
        for sub in subs:
            m = importlib.import_module(sub)
            if sub.startswith("verify.checks."):
                # the checks are documented on the topic pages (docstring and claims); a
                # module's public helpers (its __all__, e.g. models.register_checks) here
                body, listed = _members_rst(sub, list(getattr(m, "__all__", [])), documented)
                extra = (f"\nThe checks of this module are listed, with what each certifies, "
                         f"on the topic pages (:doc:`/topics/index`).\n")
            else:
                body, listed = _members_rst(sub, list(getattr(m, "__all__", [])), documented)
                extra = ""
                if hasattr(m, "__path__"):  # a sub-package documents for its modules
                    documented |= {id(getattr(m, n)) for n in getattr(m, "__all__", [])}
            reexported = [n for n in getattr(m, "__all__", [])
                          if n not in listed and not sub.startswith("verify.checks.")]
            see = ""
            if reexported:
                see = ("\nAlso defined here and documented under the package that "
                       "exports it: " + ", ".join(f":py:obj:`{n}`" for n in reexported) + ".\n")
            children = [s for s in subs if s.startswith(sub + ".")
                        and s.count(".") == sub.count(".") + 1]
            toc = ""
            if children:
                toc = ("\n.. toctree::\n   :maxdepth: 1\n\n"
                       + "\n".join(f"   {c}" for c in children) + "\n")
            table = ""
            if listed:
                table = ("\n.. autosummary::\n   :nosignatures:\n\n"
                         + "\n".join(f"   {n}" for n in listed) + "\n")
            _write(api / f"{sub}.rst",
                   f"``{sub}``\n{'=' * (len(sub) + 4)}\n\n.. automodule:: {sub}\n"
                   f"   :no-members:\n{extra}{see}{toc}{table}\n{body}")
    _write(api / "index.rst",
           "API reference\n=============\n\nThe three packages, rendered from their numpydoc "
           "docstrings. Each package page documents the names it exports (``__all__``); "
           "each module page the names it adds.\n\n.. toctree::\n   :maxdepth: 2\n\n"
           + "\n".join(f"   {p}" for p in pages) + "\n")


# --------------------------------------------------------------------------- topic pages
def _check_section(id: str, r: Any) -> list[str]:
    from verify.registry import get_check

    try:
        chk = get_check(id)
    except KeyError:
        return ["**Check:** none registered yet.", ""]
    fn = chk.fn
    out = [f"**Check** (`{fn.__module__}.{fn.__name__}`, "
           + ("Hypothesis search" if chk.strategy is not None else "fixed experiment")
           + f", {chk.examples} examples by default):", ""]
    if fn.__doc__:
        out += [paragraphs(fn.__doc__), ""]
    claims = list(r.claims)
    out += ["**Certifies** (the claims this check evaluates through `Result.numeric` / "
            "`Result.evalf`; the suite fails when a check leaves a claim unevaluated, and "
            f"`implreg verify {id}` lists them): " + ", ".join(f"`{c}`" for c in claims) + "."]
    if r.explains:
        out += ["", "Explanatory parts (not claims): "
                + ", ".join(f"`{p}`" for p in r.explains) + "."]
    return out + [""]


def topic_page(topic: str) -> str:
    import theory

    module = importlib.import_module(theory.TOPIC_MODULES[topic])
    lines = [f"# Topic `{topic}`", "",
             f"Generated at build time from the registry (`theory.ids({topic!r})`, "
             f"`theory.get(id)`) and the checks in `verify`; the code is "
             f"{{py:mod}}`{module.__name__}`.", ""]
    summary = (module.__doc__ or "").strip().split("\n\n", 1)[0]
    if summary:
        lines += [paragraphs(summary), ""]
    for id in theory.ids(topic):
        r = theory.get(id)
        e = theory.entry(id)
        lines += [f"(result-{id.replace('.', '-').replace('_', '-')})=",
                  f"## `{id}`", "", f"**{md_text(r.title)}**", "",
                  f"*Source:* {md_text(r.source)}. *How:* {md_text(e.how)}; "
                  + ("stated (the evidence is the numeric check)." if r.stated
                     else f"derived in {len(r.derivation)} SymPy steps."), ""]
        if r.references:
            lines += ["*References:* " + "; ".join(md_text(x) for x in r.references) + ".", ""]
        lines += ["**Statement**", "", math_block(r.latex())]
        if r.conditions:
            lines += ["**Conditions**", "", math_block(r.conditions_latex())]
        if r.parts:
            lines += ["**Parts**", ""]
            for name in r.parts:
                tag = " (explains; not a claim)" if name in r.explains else ""
                lines += [f"`{name}`{tag}", "", math_block(r.latex(name))]
        if r.derivation:
            lines += ["**Derivation**", ""]
            for k, step in enumerate(r.derivation, 1):
                import sympy as sp

                lines += [f"{k}. {md_text(step.description)}", "",
                          textwrap.indent(math_block(sp.latex(step.expr)), "   ")]
        if r.notes:
            lines += ["**Notes**", "", paragraphs(r.notes), ""]
        lines += _check_section(id, r)
    return "\n".join(lines) + "\n"


def write_topics(srcdir: Path) -> None:
    import theory

    out = srcdir / "topics"
    topics = theory.topics()
    for topic in topics:
        _write(out / f"{topic}.md", topic_page(topic))
    rows = ["| topic | results |", "|---|---|"]
    for topic in topics:
        rows.append(f"| [{topic}]({topic}.md) | "
                    + ", ".join(f"`{i.split('.', 1)[1]}`" for i in theory.ids(topic)) + " |")
    _write(out / "index.md",
           "# Topics\n\nOne page per catalog topic, generated from the registry at build time: "
           "every result's statement, parts and conditions in LaTeX, its derivation steps, "
           "its notes (where a seed's formula is corrected) and what its check certifies.\n\n"
           + "\n".join(rows) + "\n\n```{toctree}\n:hidden:\n\n"
           + "\n".join(topics) + "\n```\n")


# --------------------------------------------------------------------------- gallery
_GALLERY_SCRIPT = r"""
import sys
from pathlib import Path
from verify.cli import main
out = Path(sys.argv[1])
for id in sys.argv[2:]:
    code = main(["figure", id, "--out", str(out / (id + ".png"))])
    if code:
        sys.exit(f"implreg figure {id} exited {code}")
"""


def gallery_ids() -> list[str]:
    import theory
    from verify.registry import check_ids, get_figure

    order = {i: k for k, i in enumerate(theory.ids())}
    return sorted((i for i in check_ids() if get_figure(i) is not None), key=order.__getitem__)


def write_gallery(srcdir: Path, ids: list[str]) -> None:
    import theory

    lines = ["# Gallery: the seeds' figures reproduced", "",
             "Every result with a figure, drawn at build time by "
             "`implreg figure ID --out gallery/ID.png` with the check's example parameters "
             "(NumPy backend). Each caption names the figure or table of the seed it "
             "reproduces; the seeds' numbers came from CIFAR-10, MNIST or FashionMNIST, "
             "these from problems small enough to build the documentation in minutes "
             "(the data topic uses scikit-learn's bundled 8×8 digits).", ""]
    for topic in theory.topics():
        mine = [i for i in ids if i.split(".", 1)[0] == topic]
        if not mine:
            continue
        lines += [f"## {topic}", ""]
        for id in mine:
            anchor = f"result-{id.replace('.', '-').replace('_', '-')}"
            seed = SEED_FIGURES.get(id, md_text(theory.entry(id).source))
            lines += [f"```{{figure}} {id}.png", f":alt: figure of {id}", ":width: 100%", "",
                      f"{{ref}}`{id} <{anchor}>` — {md_text(theory.entry(id).title)}. "
                      f"Reproduces {seed}.", "```", ""]
    _write(srcdir / "gallery" / "index.md", "\n".join(lines) + "\n")


class _Gallery:
    proc: subprocess.Popen | None = None


def start_gallery(srcdir: Path, ids: list[str]) -> None:
    out = srcdir / "gallery"
    out.mkdir(parents=True, exist_ok=True)
    # one process for all figures (the CLI's own entry point, once per id), concurrent
    # with the reading of the other pages
    _Gallery.proc = subprocess.Popen(
        [sys.executable, "-c", _GALLERY_SCRIPT, str(out), *ids],
        cwd=str(srcdir.parent), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_gallery(app: Any, docname: str = "gallery/index", source: Any = None) -> None:
    """Wait for the figures before the gallery page is read (its figures must exist then)."""
    if docname != "gallery/index" or _Gallery.proc is None:
        return
    _, err = _Gallery.proc.communicate()
    code = _Gallery.proc.returncode
    _Gallery.proc = None
    if code:
        raise RuntimeError(f"drawing the gallery failed (exit {code}):\n{err}")


# --------------------------------------------------------------------------- wiring
def builder_inited(app: Any) -> None:
    srcdir = Path(app.srcdir)
    ids = gallery_ids()
    if app.config.implreg_gallery or not all((srcdir / "gallery" / f"{i}.png").exists()
                                             for i in ids):
        start_gallery(srcdir, ids)
    write_gallery(srcdir, ids)
    write_api(srcdir)
    write_topics(srcdir)


# --------------------------------------------------------------------------- references
_ALIASES: dict[int, list[str]] = {}


def _resolve_path(path: str) -> Any:
    """The object a dotted path names (module prefix imported, the rest by getattr)."""
    parts = path.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except Exception:
            continue
        try:
            for attr in parts[k:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def missing_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a Python reference that names a documented object another way.

    The API pages document a re-exported name once, under its package
    (``numerics.run``, not ``numerics.engine.run``), and docstrings often name an object
    of their own package by its short name (``Axis``). A reference is resolved when it
    names exactly one documented object: by identity (the dotted path imports to an object
    documented under another name) or by a unique suffix (``.Axis``). Anything ambiguous
    or undocumented is left to warn.
    """
    from sphinx.util.nodes import make_refnode

    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    objects = env.get_domain("py").objects
    if not _ALIASES:
        for name in objects:
            obj = _resolve_path(name)
            if obj is not None and not isinstance(obj, (int, float, str, bool)):
                _ALIASES.setdefault(id(obj), []).append(name)
    found: list[str] = []
    if "." in target:
        obj = _resolve_path(target)
        if obj is not None:
            found = _ALIASES.get(id(obj), [])
    if not found:
        # the innermost module or package that documents the name, then a unique suffix
        here = (node.get("py:module") or "").split(".")
        scopes = [".".join(here[:k]) for k in range(len(here), 0, -1) if here[0]]
        found = next(([f"{sc}.{target}"] for sc in scopes if f"{sc}.{target}" in objects), [])
        found = found or [n for n in objects if n.endswith("." + target)]
        # one object documented under two names is still one object
        ids = {id(_resolve_path(n)) for n in found}
        if len(ids) != 1:
            return None
    if not found:
        return None
    name = sorted(found, key=len)[0]
    entry = objects[name]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id,
                        contnode, name)


def process_signature(app: Any, what: str, name: str, obj: Any, options: Any,
                      signature: str | None, return_annotation: str | None) -> Any:
    """A dataclass field with a ``default_factory`` shows ``<factory>`` as its default,
    which is not Python and breaks the parsed signature; show ``...`` instead."""
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), return_annotation
    return None


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-signature", process_signature)
    # False: reuse the figures already drawn in docs/gallery/ (quicker local rebuilds)
    app.add_config_value("implreg_gallery", True, "env", types=(bool, int))
    app.connect("missing-reference", missing_reference)
    app.connect("builder-inited", builder_inited)
    app.connect("source-read", wait_gallery)
    # a rebuild that does not re-read the gallery still waits for (and checks) the figures
    app.connect("env-updated", lambda app, env: wait_gallery(app))
    return {"parallel_read_safe": False, "parallel_write_safe": True}
