r"""The contract of a check as code.

A check (``ARCHITECTURE.md``, "The life of a check") is a function
``fn(params, xp, result) -> Outcome`` registered with :func:`verify.registry.check`; the
registry keeps it in the ``fn`` field of a :class:`verify.registry.Check` record. The
protocols here state what the runner hands in and what it expects back, so that a type
checker reads the same contract as a reader of ``ARCHITECTURE.md``.

References
----------
PEP 544, "Protocols: Structural subtyping (static duck typing)",
https://peps.python.org/pep-0544/.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from verify.outcome import Outcome

__all__ = ["CheckFunction", "ClaimSource"]


@runtime_checkable
class ClaimSource(Protocol):
    """What a check may evaluate its predictions from: a :class:`theory.Result`, or the
    :class:`verify.runner.TrackedResult` (or a mutant) the runner wraps it in.

    Attributes
    ----------
    id : str
        The catalog id of the result.

    Methods
    -------
    numeric(xp=None, *, part=None)
        The claim (the statement, or the named part) compiled for the array namespace
        ``xp``: a function of the claim's symbols, as keyword arguments, returning arrays of
        ``xp`` that broadcast over leading axes.
    """

    id: str

    def numeric(self, xp: Any = None, *, part: str | None = None) -> Callable[..., Any]: ...


class CheckFunction(Protocol):
    r"""``fn(params, xp, result) -> Outcome``: the numeric evidence for one result.

    Parameters
    ----------
    params
        One parameter dict drawn by the check's Hypothesis strategy (or its fixed
        ``example``, with ``params["seed"]`` folded in): plain numbers and strings, never
        arrays, so a shrunk counterexample reads as ``{'n': 2, 'd': 3, ...}``.
    xp
        The array namespace the simulation runs in (NumPy, array_api_strict, PyTorch, CuPy).
    result
        The :class:`ClaimSource` for the checked id: every prediction is evaluated through
        ``result.numeric(xp, part=...)``, never typed again and never fetched with
        ``theory.get`` of the checked id (the runner records which claims were evaluated;
        a mutant in its place must change the verdict).

    Returns
    -------
    verify.outcome.Outcome
        The decision: observed against predicted within a derived tolerance, with its
        reason and false-alarm budget (``ARCHITECTURE.md``, "Tolerances and false alarms").
    """

    def __call__(self, params: Mapping[str, Any], xp: Any, result: ClaimSource, /) -> Outcome: ...
