"""Sphinx configuration of the implreg documentation.

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (README). Nothing in
the build reaches the network: MathJax is served from ``_static`` (sphinx-mathjax-offline),
there is no intersphinx, and the theme (furo) uses the system's fonts.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # the worktree's packages, also without `pip install -e`

project = "implreg"
author = "The implreg developers"
copyright = "the implreg developers"
release = version = "0.1.0"

extensions = [
    "myst_nb",                  # MyST Markdown pages and text notebooks executed at build
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",   # MathJax 3 copied into _static: no CDN
    "implreg_docs",             # topic pages, API pages and gallery from the registry
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "_ext"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}

# Warnings are errors (-W); references must resolve, except to libraries whose inventories
# would have to be downloaded (no intersphinx: the build runs offline).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:(class|obj|data|func|meth|attr|exc|mod)",
     r"(numpy|np|sympy|sp|scipy|matplotlib|hypothesis|dask|distributed|pyarrow|pandas|"
     r"array_api_strict|array_api_compat|torch|cupy|mpmath|rich|collections|typing|"
     r"typing_extensions|pathlib|os|concurrent|argparse|types|enum|dataclasses|abc|"
     r"builtins|re|io|signal|multiprocessing)(\..*)?"),
    # builtins and typing names in signatures, written without their module
    (r"py:(class|obj)", r"(Any|Callable|Iterable|Iterator|Mapping|Sequence|Literal|Protocol|"
                        r"Self|TypeVar|NoneType|Path|ArrayLike|Array|Namespace|Figure|"
                        r"Strategy|SearchStrategy|ModuleType|Generator|Hashable|"
                        r"ellipsis|EllipsisType|NamedTuple|optional|default|callable|"
                        r"array|array-like|int|float|str|bool|tuple|list|dict|set|bytes|"
                        r"object|type|complex|None)"),
]

# autodoc / autosummary / numpydoc
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autosummary_generate = False          # the API pages are written by implreg_docs
numpydoc_show_class_members = False   # autodoc's :members: lists them once
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()
numpydoc_attributes_as_param_list = True

# MyST and MyST-NB: the tutorials are executed on every build, a failing cell fails it
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# HTML
html_theme = "furo"
html_title = "implreg"
html_static_path = ["_static"]
html_last_updated_fmt = None

# private names (a leading underscore) are not documented by design
nitpick_ignore_regex.append((r"py:.*", r"(.*\.)?_[A-Za-z]\w*(\..*)?"))
nitpick_ignore: list[tuple[str, str]] = []
