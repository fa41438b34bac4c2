"""implreg's symbolic layer: closed forms and conditions derived with SymPy.

Every statement is a :class:`Result` with an id from the catalog::

    >>> import theory
    >>> r = theory.get("linear.gd_limit")      # builds (once) with SymPy
    >>> r.latex()                              # doctest: +SKIP
    >>> f = theory.get("linear.gd_iterate").numeric()   # a NumPy function of its symbols
    >>> float(f(c_0=1.0, g_j=2.0, eta=0.1, lambda_j=1.0, k=10))
    1.6513215599

``import theory`` is cheap: SymPy and the topic modules load on first use.

Your own results register with the same decorator under a topic of your own (any topic that
is not built in)::

    >>> import sympy as sp
    >>> x0, rho, k = sp.symbols("x_0 rho k")
    >>> @theory.result("mytopic.power", title="x_k = ρ^k x_0", source="my notes", how="state")
    ... def power():
    ...     return theory.Result(id="mytopic.power", title="x_k = ρ^k x_0",
    ...                          source="my notes", statement=rho**k * x0, symbols=(x0, rho, k))
    >>> "mytopic.power" in theory.ids()
    True
    >>> theory.unregister("mytopic.power")

:func:`verify.check` then registers its numeric check, and ``implreg verify mytopic
--plugin FILE.py`` runs it (``docs/tutorials/own_theorem.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theory._registry import (
    TOPIC_MODULES,
    Entry,
    RegistrationError,
    ResultBuildError,
    UnknownResultError,
    entries,
    entry,
    get,
    ids,
    result,
    topics,
    unregister,
    validate_id,
)

if TYPE_CHECKING:
    from theory._result import Result, Step
    from theory._compare import FormulaError, Verdict, compare
    from theory.models import Model

__all__ = [
    "TOPIC_MODULES",
    "Entry",
    "FormulaError",
    "Model",
    "RegistrationError",
    "Result",
    "ResultBuildError",
    "Step",
    "UnknownResultError",
    "Verdict",
    "compare",
    "entries",
    "entry",
    "get",
    "ids",
    "result",
    "topics",
    "unregister",
    "validate_id",
]


def __getattr__(name: str) -> Any:
    if name in ("Result", "Step"):
        from theory import _result  # noqa: PLC0415 (keeps `import theory` free of SymPy)

        return getattr(_result, name)
    if name in ("compare", "Verdict", "FormulaError"):
        from theory import _compare  # noqa: PLC0415 (SymPy loads on first use)

        return getattr(_compare, name)
    if name == "Model":
        from theory.models import Model  # noqa: PLC0415 (SymPy loads on first use)

        return Model
    raise AttributeError(f"module 'theory' has no attribute {name!r}")
