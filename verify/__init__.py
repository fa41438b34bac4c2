"""implreg's verification layer: derived formulas against simulations.

>>> import verify
>>> report = verify.run_check("linear.gd_limit", examples=3)   # doctest: +SKIP
>>> report.passed                                              # doctest: +SKIP
True

Checks are property tests: Hypothesis draws parameters inside a result's assumptions,
the replica engine simulates, and the comparison's tolerance is derived
(:mod:`verify.tolerance`). The same checks run under pytest, from ``implreg verify``, and
in reports.
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
    "resolve": "verify.registry",
    "CheckReport": "verify.runner",
    "run_check": "verify.runner",
    "run_checks": "verify.runner",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
