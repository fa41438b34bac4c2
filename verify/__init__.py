"""implreg's verification layer: derived formulas against simulations.

>>> import verify
>>> report = verify.run_check("linear.gd_limit", examples=3)   # doctest: +SKIP
>>> report.passed                                              # doctest: +SKIP
True

Checks are property tests: Hypothesis draws parameters inside a result's assumptions,
the replica engine simulates, and the comparison's tolerance is derived
(:mod:`verify.tolerance`). The same checks run under pytest, from ``implreg verify``, and
in reports.

The public API for a result of one's own: :func:`theory.result`, :class:`theory.Result`,
:class:`theory.Step`, then :func:`check` and :func:`figure` here, the strategies
(:mod:`verify.strategies`), the tolerance helpers (:mod:`verify.tolerance`, and
:class:`Tolerance`), :class:`Outcome`, :func:`run_check`; :func:`load_plugin`,
:func:`load_plugins` and :func:`isolated` import and forget plugins
(``docs/tutorials/own_theorem.md``).
"""

from typing import Any

# Submodules load on first use so that `implreg list` and `implreg derive` do not pay for
# Hypothesis and the array libraries.
_LAZY = {
    "Outcome": "verify.outcome",
    "Tolerance": "verify.tolerance",
    "Check": "verify.registry",
    "check": "verify.registry",
    "check_ids": "verify.registry",
    "figure": "verify.registry",
    "get_check": "verify.registry",
    "get_figure": "verify.registry",
    "resolve": "verify.registry",
    "PluginError": "verify.plugins",
    "isolated": "verify.plugins",
    "load_plugin": "verify.plugins",
    "load_plugins": "verify.plugins",
    "CheckReport": "verify.runner",
    "run_check": "verify.runner",
    "run_checks": "verify.runner",
}

_MODULES = ("strategies", "tolerance")  # `verify.strategies`, `verify.tolerance` on first use

__all__ = sorted([*_LAZY, *_MODULES])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _MODULES:
        import importlib  # noqa: PLC0415

        return importlib.import_module(f"verify.{name}")
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
