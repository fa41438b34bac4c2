"""The :class:`Outcome` of one comparison between a derived prediction and a simulation."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from verify.tolerance import Tolerance

__all__ = ["Outcome"]


_RELATIONS = ("close", "at_most", "at_least")


def _f(x: Any, name: str) -> float:
    """``x`` (a Python number or a 0-d / one-element array) as a float; NaN is kept (a
    NaN observation fails the comparison, it is not an input error)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        shape = getattr(x, "shape", None)
        got = f"an array of shape {tuple(shape)}" if shape is not None else repr(x)
        raise TypeError(f"{name} must be a number (a float or a 0-d array); got {got}") from None


def _tol(t: Any) -> float:
    if not isinstance(t, Tolerance):
        raise TypeError("tolerance must be a verify.tolerance.Tolerance (the number and its "
                        f"reason); got {type(t).__name__} {t!r}")
    return float(t)


@dataclass(frozen=True)
class Outcome:
    """A prediction, an observation, the tolerance between them, and whether it held.

    Attributes
    ----------
    predicted, observed, tolerance
        Numbers (floats). What "agree" means is ``relation``.
    passed
        Whether the relation held.
    relation
        ``"close"`` (``|observed − predicted| ≤ tolerance``), ``"at_most"``
        (``observed ≤ predicted + tolerance``) or ``"at_least"``
        (``observed ≥ predicted − tolerance``).
    reason
        Where the tolerance comes from.
    quantity
        What is compared, in words (``"‖x_k − x_∞‖"``).
    details
        Anything else worth printing (sizes, rates, intermediate numbers).
    """

    predicted: float
    observed: float
    tolerance: float
    passed: bool
    relation: str = "close"
    reason: str = ""
    quantity: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.relation not in _RELATIONS:
            raise ValueError(f"relation must be one of {', '.join(_RELATIONS)}; "
                             f"got {self.relation!r}")

    # ------------------------------------------------------------------ builders
    @classmethod
    def close(cls, predicted: Any, observed: Any, tolerance: Tolerance, *,
              quantity: str = "", **details: Any) -> "Outcome":
        """``|observed − predicted| ≤ tolerance`` (a tolerance ≥ 0: ValueError otherwise)."""
        p, o, t = _f(predicted, "predicted"), _f(observed, "observed"), _tol(tolerance)
        if t < 0:
            raise ValueError(f"tolerance of a 'close' comparison must be >= 0 (|observed − "
                             f"predicted| ≤ {t:g} never holds); got {t!r} (reason: "
                             f"{tolerance.reason})")
        ok = math.isfinite(o) and abs(o - p) <= t
        return cls(p, o, t, ok, "close", tolerance.reason, quantity, details)

    @classmethod
    def at_most(cls, observed: Any, bound: Any, tolerance: Tolerance, *,
                quantity: str = "", **details: Any) -> "Outcome":
        """``observed ≤ bound + tolerance`` (a negative tolerance demands a margin below)."""
        p, o, t = _f(bound, "bound"), _f(observed, "observed"), _tol(tolerance)
        ok = math.isfinite(o) and o <= p + t
        return cls(p, o, t, ok, "at_most", tolerance.reason, quantity, details)

    @classmethod
    def at_least(cls, observed: Any, bound: Any, tolerance: Tolerance, *,
                 quantity: str = "", **details: Any) -> "Outcome":
        """``observed ≥ bound − tolerance`` (a negative tolerance demands a margin above)."""
        p, o, t = _f(bound, "bound"), _f(observed, "observed"), _tol(tolerance)
        ok = math.isfinite(o) and o >= p - t
        return cls(p, o, t, ok, "at_least", tolerance.reason, quantity, details)

    @classmethod
    def sign_test(cls, successes: int, trials: int, *, alpha: float, quantity: str = "",
                  **details: Any) -> "Outcome":
        """A paired sign test: under "no trend" each of ``trials`` seeds shows the trend with
        probability ½; pass when ``successes`` reaches the level-``alpha`` critical count."""
        from verify.tolerance import sign_critical  # noqa: PLC0415

        k = sign_critical(trials, alpha)
        if k > trials:  # not even every seed would reject "no trend": no evidence either way
            return cls.failure(
                f"{quantity or 'sign test'}: {trials} paired seeds cannot reach level α = "
                f"{alpha:g} (all {trials} showing the trend has probability {0.5 ** trials:.3g} "
                f"under 'no trend'); run more seeds", **details)
        reason = (f"sign test over {trials} paired seeds: under 'no trend' each seed shows it with "
                  f"probability ½; ≥ {k} of {trials} rejects that at level α = {alpha:g}")
        return cls.at_least(successes, k, Tolerance(0.0, reason), quantity=quantity, **details)

    @classmethod
    def failure(cls, message: str, **details: Any) -> "Outcome":
        """A check that could not compare (e.g. the simulation diverged)."""
        return cls(math.nan, math.nan, math.nan, False, "close", message, "", details)

    @classmethod
    def all_of(cls, outcomes: Iterable["Outcome"]) -> "Outcome":
        """Several comparisons of one check: passes iff all do; reports the one with the
        least slack (the first failure, or the comparison closest to failing)."""
        outs = list(outcomes)
        if not outs:
            raise ValueError("all_of needs at least one outcome")
        worst = max(outs, key=lambda o: (not o.passed, o.used))
        details = dict(worst.details)
        details["comparisons"] = len(outs)
        details["failed"] = sum(not o.passed for o in outs)
        return cls(worst.predicted, worst.observed, worst.tolerance,
                   all(o.passed for o in outs), worst.relation, worst.reason,
                   worst.quantity, details)

    # ------------------------------------------------------------------ reading
    @property
    def used(self) -> float:
        """The fraction of the tolerance used (> 1 means failed; NaN-safe: inf)."""
        p, o, t = self.predicted, self.observed, self.tolerance
        if not (math.isfinite(p) and math.isfinite(o)):
            return math.inf
        gap = {"close": abs(o - p), "at_most": o - p, "at_least": p - o}[self.relation]
        if t <= 0:
            return 0.0 if gap <= 0 else math.inf
        return gap / t

    @property
    def relation_text(self) -> str:
        return {"close": "|obs − pred| ≤ tol", "at_most": "obs ≤ pred + tol",
                "at_least": "obs ≥ pred − tol"}[self.relation]

    def to_dict(self) -> dict[str, Any]:
        return {
            "predicted": self.predicted, "observed": self.observed,
            "tolerance": self.tolerance, "passed": self.passed, "relation": self.relation,
            "reason": self.reason, "quantity": self.quantity,
            "details": {k: _jsonable(v) for k, v in self.details.items()},
        }

    def __repr__(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        q = f"{self.quantity}: " if self.quantity else ""
        return (f"Outcome({mark} {q}predicted={self.predicted:.6g}, observed={self.observed:.6g}, "
                f"tol={self.tolerance:.3g}, {self.relation_text})")


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, bool)) or v is None:
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(u) for u in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(u) for k, u in v.items()}
    try:
        return _jsonable(float(v))
    except (TypeError, ValueError):
        return repr(v)
