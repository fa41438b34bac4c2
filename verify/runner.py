"""Run checks: Hypothesis searches each result's parameter space for a counterexample."""

from __future__ import annotations

import inspect
import numbers
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from numerics.backend import get_namespace, namespace_name
from verify._limits import MAX_EXAMPLES, MAX_SEED
from verify.outcome import Outcome
from verify.registry import get_check

__all__ = ["MAX_EXAMPLES", "MAX_SEED", "CheckReport", "TrackedResult", "run_check", "run_checks"]


def takes_result(fn: Callable[..., Any]) -> bool:
    """Whether a check or figure function takes the Result as its third argument."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return True
    return sum(p.kind in kinds for p in params) >= 3


class _TrackedParts(Mapping):
    """``result.parts`` seen through the tracker: reading a part records it (it is then
    used symbolically, e.g. its structure; evaluation goes through ``numeric``)."""

    def __init__(self, parts: Mapping[str, Any], seen: set[str]) -> None:
        self._parts, self._seen = parts, seen

    def __getitem__(self, name: str) -> Any:
        value = self._parts[name]
        self._seen.add(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


class TrackedResult:
    """A :class:`theory.Result` as a check sees it: every claim the check evaluates through
    :meth:`numeric` or :meth:`evalf` is recorded in ``evaluated`` (what the check
    certifies); symbolic reads of ``statement`` or ``parts[...]`` are recorded in
    ``read``. Everything else is the result's own attribute.
    """

    def __init__(self, result: Any) -> None:
        self._result = result
        self.evaluated: set[str] = set()
        self.read: set[str] = set()

    @property
    def result(self) -> Any:
        """The wrapped Result."""
        return self._result

    def numeric(self, xp: Any = None, *, part: str | None = None, **kwargs: Any) -> Any:
        self.evaluated.add(part or "statement")
        return self._result.numeric(xp, part=part, **kwargs)

    def evalf(self, subs: Mapping[str, Any], *, part: str | None = None, n: int = 30,
              **kwargs: Any) -> Any:
        self.evaluated.add(part or "statement")
        return self._result.evalf(subs, part=part, n=n, **kwargs)

    @property
    def statement(self) -> Any:
        self.read.add("statement")
        return self._result.statement

    @property
    def parts(self) -> Mapping[str, Any]:
        return _TrackedParts(self._result.parts, self.read)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)

    def __repr__(self) -> str:
        return f"Tracked({self._result.id}: evaluated {sorted(self.evaluated)})"


class _Falsified(AssertionError):
    """Raised inside the Hypothesis property when an outcome fails."""


@dataclass
class CheckReport:
    """What running one check produced."""

    id: str
    passed: bool
    outcome: Outcome | None
    backend: str
    seconds: float
    examples: int
    counterexample: dict[str, Any] | None = None
    error: str | None = None
    outcomes: list[Outcome] = field(default_factory=list, repr=False)
    #: the claims of the result (statement, parts) the check evaluated, in the result's order
    certifies: list[str] = field(default_factory=list)
    #: claims the check did not evaluate (explanatory parts are not claims)
    uncertified: list[str] = field(default_factory=list)
    #: the check runs a fixed experiment (no Hypothesis strategy): once, whatever ``examples``
    fixed_experiment: bool = False
    #: the number of examples asked for (``None``: the check's own default)
    examples_requested: int | None = None

    @property
    def examples_ignored(self) -> bool:
        """``examples`` was asked for, but the check runs a fixed experiment (once)."""
        return self.fixed_experiment and self.examples_requested is not None

    def to_dict(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "id": self.id,
            "passed": self.passed,
            "predicted": None if o is None else o.predicted,
            "observed": None if o is None else o.observed,
            "tolerance": None if o is None else o.tolerance,
            "relation": None if o is None else o.relation,
            "quantity": None if o is None else o.quantity,
            "reason": None if o is None else o.reason,
            "backend": self.backend,
            "seconds": round(self.seconds, 3),
            "examples": self.examples,
            "examples_requested": self.examples_requested,
            "fixed_experiment": self.fixed_experiment,
            "examples_ignored": self.examples_ignored,
            "counterexample": self.counterexample,
            "error": self.error,
            "certifies": self.certifies,
            "uncertified": self.uncertified,
            "details": None if o is None else o.to_dict()["details"],
        }

    def explain(self) -> str:
        """A few lines saying what failed and on which parameters."""
        lines = [f"{self.id}: {'passed' if self.passed else 'FAILED'} on {self.backend}"]
        if self.outcome is not None:
            lines.append(f"  {self.outcome!r}")
            if self.outcome.reason:
                lines.append(f"  tolerance: {self.outcome.reason}")
        if self.certifies or self.uncertified:
            lines.append("  certifies: " + (", ".join(self.certifies) or "nothing")
                         + (f"; not evaluated: {', '.join(self.uncertified)}"
                            if self.uncertified else ""))
        if self.counterexample is not None:
            lines.append(f"  counterexample (shrunk by Hypothesis): {self.counterexample}")
        if self.error:
            lines.append("  error: " + self.error)
        return "\n".join(lines)


def _check_int(name: str, value: Any, lo: int, hi: int) -> None:
    """``value`` is ``None`` or an int in [lo, hi]; else a one-line TypeError/ValueError."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int in [{lo}, {hi:,}] or None; got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be an int in [{lo}, {hi:,}]; got {value:,}")


def _resolve_xp(backend: Any) -> tuple[Any, str]:
    if isinstance(backend, str):
        xp = get_namespace(backend)
        return xp, backend
    return backend, namespace_name(backend)


def run_check(
    id: str,
    *,
    backend: Any = "numpy",
    seed: int | None = None,
    examples: int | None = None,
    derandomize: bool | None = None,
    result: Any = None,
    shrink: bool = True,
) -> CheckReport:
    """Run the check of ``id``: Hypothesis draws up to ``examples`` parameter sets.

    The runner builds the :class:`theory.Result` of ``id`` (or takes ``result``) and hands
    it to the check, which takes every prediction from it; the report records which claims
    the check evaluated (``certifies``) and which it did not (``uncertified``).

    Parameters
    ----------
    id
        A result id with a registered check.
    backend
        A backend name or an array namespace.
    seed
        Seed of Hypothesis' search (and of fixed experiments). ``None`` with
        ``derandomize`` left at its default gives the derandomized, reproducible search.
    examples
        Number of examples, 1 to :data:`MAX_EXAMPLES` (default: the check's own). A check
        that runs a fixed experiment (no strategy) runs once whatever it says; the report
        records that (``fixed_experiment``, ``examples_ignored``).
    derandomize
        Force Hypothesis' derandomized mode (``True`` when no seed is given).
    result
        The Result to certify instead of ``theory.get(id)`` (a mutant, when implreg
        measures the power of its checks).
    shrink
        Let Hypothesis shrink a counterexample (off for mutation runs: only the verdict
        matters there).

    Returns
    -------
    CheckReport
        ``passed`` is False if any example failed; the report then holds Hypothesis'
        shrunk counterexample and its outcome.

    Raises
    ------
    UnknownResultError
        ``id`` is unknown or has no check (the closest ids are named).
    ValueError, TypeError
        A bad ``backend``, ``examples``, ``seed`` or flag, or a ``result`` of another id;
        raised before the check runs.
    """
    _check_int("examples", examples, 1, MAX_EXAMPLES)
    _check_int("seed", seed, 0, MAX_SEED)
    for flag, v in (("derandomize", derandomize), ("shrink", shrink)):
        if v is not None and not isinstance(v, bool):
            raise TypeError(f"{flag} must be True or False; got {v!r}")
    chk = get_check(id)
    if result is not None and getattr(result, "id", None) != id:
        rid = getattr(result, "id", None)
        must = f"result must be a Result of {id!r} (or a mutant of it)"
        if not isinstance(rid, str):
            raise TypeError(f"{must}; got {type(result).__name__} {result!r}")
        raise ValueError(f"{must}; got the Result of {rid!r}")
    xp, name = _resolve_xp(backend)
    with_result = takes_result(chk.fn)
    import theory  # noqa: PLC0415

    tracked = TrackedResult(theory.get(id) if result is None else result)
    n_examples = chk.examples if examples is None else examples
    if derandomize is None:
        derandomize = seed is None
    outcomes: list[Outcome] = []
    last: dict[str, Any] = {}
    t0 = time.perf_counter()

    def evaluate(params: dict[str, Any]) -> None:
        last["params"] = params
        last["outcome"] = None
        out = chk.fn(params, xp, tracked) if with_result else chk.fn(params, xp)
        last["outcome"] = out
        outcomes.append(out)
        if not out.passed:
            raise _Falsified(repr(out))

    error = None
    counterexample = None
    try:
        if chk.strategy is None:
            params = dict(chk.example or {})
            params["seed"] = params.get("seed", 0) if seed is None else seed
            evaluate(params)
        else:
            prop = given(params=chk.strategy)(evaluate)
            prop = settings(
                max_examples=n_examples,
                derandomize=derandomize,
                database=None,
                deadline=None,
                print_blob=False,
                phases=(Phase.explicit, Phase.generate, *((Phase.shrink,) if shrink else ())),
                suppress_health_check=list(HealthCheck),
            )(prop)
            if not derandomize and seed is not None:
                prop = hypothesis_seed(seed)(prop)
            prop()
    except _Falsified:
        counterexample = last.get("params")
    except Exception as exc:  # a bug or a simulation error: report, don't crash the run
        counterexample = last.get("params")
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        error = f"{type(exc).__name__}: {exc}{where}"
    seconds = time.perf_counter() - t0
    failed = counterexample is not None or error is not None
    if failed:
        shown = last.get("outcome")
    else:
        shown = Outcome.all_of(outcomes) if outcomes else None
    # a check that is not handed the result certifies none of its claims
    claims = tuple(tracked.result.claims)
    certifies = [c for c in claims if c in tracked.evaluated]
    uncertified = [c for c in claims if c not in tracked.evaluated]
    return CheckReport(
        fixed_experiment=chk.strategy is None,
        examples_requested=examples,
        certifies=certifies,
        uncertified=uncertified,
        id=id,
        passed=not failed,
        outcome=shown,
        backend=name,
        seconds=seconds,
        examples=len(outcomes),
        counterexample=counterexample,
        error=error,
        outcomes=outcomes,
    )


def run_checks(
    ids: Iterable[str],
    *,
    backend: Any = "numpy",
    seed: int | None = None,
    examples: int | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CheckReport], None] | None = None,
) -> list[CheckReport]:
    """Run several checks in order; ``on_start``/``on_done`` drive a progress display."""
    reports = []
    for i in ids:
        if on_start is not None:
            on_start(i)
        rep = run_check(i, backend=backend, seed=seed, examples=examples)
        reports.append(rep)
        if on_done is not None:
            on_done(rep)
    return reports
