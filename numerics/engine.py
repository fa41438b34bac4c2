"""The replica engine: run an update rule on a model for R trajectories at once.

One loop serves every optimizer and model. Each step is a handful of array operations on
``(R, d)`` arrays; nothing in the loop converts to a Python number (a device sync on a GPU).
Trajectories that blow up are frozen at their last finite iterate and flagged, never
returned as NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from array_api_compat import array_namespace

from numerics._validation import check_array, check_finite, check_int, check_positive
from numerics.backend import is_host_numpy
from numerics.protocols import Array, Model, UpdateRule, parameter_dimension
from numerics.random import Generator, default_rng

__all__ = ["Trajectory", "run", "DivergenceError"]


class DivergenceError(RuntimeError):
    """Raised by :meth:`Trajectory.raise_if_diverged` when some replica diverged."""


_BUILTIN_RECORDS: dict[str, Callable[[Any, Any], Any]] = {
    "loss": lambda model, x: model.loss(x),
    "x": lambda model, x: x,
    "grad_norm": lambda model, x: _norm(model.grad(x)),
    "norm": lambda model, x: _norm(x),
}


#: On NumPy, iterates of at least this many numbers are tested for divergence every step.
_EVERY_STEP_SIZE = 2**16


def _within_bound(x: Any, bound: float, xp: Any) -> Any:
    """``(R,)``: the row is finite and its norm is at most ``bound``, in one pass over ``x``.

    ``‖x‖² ≤ bound²`` is false for a NaN entry (NaN compares false) and for an infinite one
    (the squared norm is +inf), as long as ``bound²`` is finite; otherwise the entries are
    tested for finiteness explicitly.
    """
    sq = xp.linalg.vecdot(x, x, axis=-1)
    bound2 = bound * bound
    if bound2 < float("inf"):
        return sq <= bound2
    return xp.all(xp.isfinite(x), axis=-1) & (sq <= bound2)


def _norm(v: Any) -> Any:
    xp = array_namespace(v)
    return xp.sqrt(xp.sum(v * v, axis=-1))


@dataclass
class Trajectory:
    """What :func:`run` returns.

    Attributes
    ----------
    x
        Final iterates, ``(R, d)`` (frozen at the last finite value for diverged replicas).
    steps
        The step numbers at which records were taken (a Python list, starting at 0).
    records
        Name -> array of shape ``(len(steps), R, ...)``.
    diverged
        ``(R,)`` booleans: the replica left the finite region or exceeded ``bound``.
    diverged_at
        ``(R,)`` int: the first step at which it did, ``-1`` if never.
    """

    x: Any
    steps: list[int]
    records: dict[str, Any]
    diverged: Any
    diverged_at: Any
    rule: str = ""
    model: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def replicas(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_diverged(self) -> int:
        xp = array_namespace(self.diverged)
        return int(xp.sum(xp.astype(self.diverged, xp.int64)))

    def raise_if_diverged(self) -> None:
        """Raise :class:`DivergenceError` naming how many replicas diverged and when."""
        k = self.n_diverged
        if k:
            xp = array_namespace(self.diverged_at)
            first = int(xp.min(xp.where(self.diverged, self.diverged_at, 2**62)))
            raise DivergenceError(
                f"{k} of {self.replicas} replicas diverged (first at step {first}) under "
                f"{self.rule} on {self.model}; reduce the step size"
            )

    def __repr__(self) -> str:
        recs = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.records.items())
        last = self.steps[-1] if self.steps else 0
        return (f"Trajectory({self.rule} on {self.model}: R={self.replicas}, "
                f"steps 0..{last}, diverged {self.n_diverged}/{self.replicas}, records: {recs})")


def run(
    model: Model,
    rule: UpdateRule,
    x0: Array,
    steps: int,
    *,
    record: Sequence[str] | Mapping[str, Callable[[Any, Array], Array]] = ("loss",),
    record_every: int = 1,
    rng: int | Generator | None = None,
    bound: float = 1e12,
    check_every: int = 10,
    callback: Callable[[int], None] | None = None,
) -> Trajectory:
    """Apply ``rule`` to ``model`` for ``steps`` steps from ``x0`` on every replica.

    Parameters
    ----------
    model
        A :class:`~numerics.protocols.Model` with the methods the rule calls (``grad``; a
        :class:`~numerics.protocols.MinibatchModel` for SGD), and those named in ``record``.
        Its dimension (``p``, else ``d``) is checked against ``x0``.
    rule
        An :class:`~numerics.protocols.UpdateRule` (``init``/``step``), e.g. from
        :mod:`numerics.optim`.
    x0
        Initial iterates, ``(R, d)``; a ``(d,)`` vector means one replica.
    steps
        Number of steps, >= 0.
    record
        Built-in names (``"loss"``, ``"x"``, ``"grad_norm"``, ``"norm"``) or a mapping
        name -> ``f(model, x)`` returning an array with leading axis R.
    record_every
        Record at steps ``0, k, 2k, ...`` and at the last step.
    rng
        Seed or :class:`numerics.random.Generator` for stochastic rules.
    bound
        A replica whose iterate has norm above ``bound`` (or is not finite) is flagged as
        diverged and frozen at the last iterate that passed the test.
    check_every
        Test for divergence at least every this many steps (and at every record);
        ``diverged_at`` is the step of the test that caught it. On NumPy, an iterate of at
        least ``2**16`` numbers is tested after every step: the test is one pass over
        ``x`` (a few per cent of such a step), and the rollback then needs no snapshot older
        than the previous iterate, so the engine holds two iterates, not three.
    callback
        Called with the step number after each step (progress display).

    Returns
    -------
    Trajectory
    """
    xp = check_array("x0", x0)
    steps = check_int("steps", steps, minimum=0)
    record_every = check_int("record_every", record_every, minimum=1)
    bound = check_positive("bound", bound)
    check_every = check_int("check_every", check_every, minimum=1)
    if isinstance(record, str):  # one name, not its letters
        record = (record,)
    x = xp.asarray(x0, copy=True)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (R, d) or (d,); got {tuple(x0.shape)}")
    dim = parameter_dimension(model)
    if dim is not None and x.shape[-1] != dim:
        hint = (f" (a (d,) vector is one replica; for R replicas of a scalar use shape (R, 1))"
                if squeeze else "")
        raise ValueError(f"x0 must have {dim} coordinates per replica (the model's dimension); "
                         f"got shape {tuple(x0.shape)}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"x0 must hold at least one replica; got shape {tuple(x0.shape)}")
    check_finite("x0", x, xp)
    if isinstance(record, Mapping):
        recorders = dict(record)
    else:
        unknown = [r for r in record if r not in _BUILTIN_RECORDS]
        if unknown:
            raise ValueError(
                f"unknown record {unknown}; built-ins are {sorted(_BUILTIN_RECORDS)} "
                "(or pass a mapping name -> f(model, x))"
            )
        recorders = {r: _BUILTIN_RECORDS[r] for r in record}
    gen = default_rng(rng, xp=xp, device=getattr(x, "device", None)) if getattr(rule, "stochastic", False) or rng is not None else None
    state = rule.init(model, x)
    R = x.shape[0]
    diverged = xp.zeros((R,), dtype=xp.bool)
    diverged_at = xp.full((R,), -1, dtype=xp.int64)
    taken: list[int] = []
    out: dict[str, list[Any]] = {k: [] for k in recorders}

    def take(k: int) -> None:
        taken.append(k)
        for name, f in recorders.items():
            out[name].append(f(model, x))

    take(0)
    # Divergence is tested every `check_every` steps (and before each record) against a
    # snapshot of the last tested iterate: a replica that fails the test is rolled back to
    # its snapshot and frozen there. Testing every step would double the per-step cost of
    # small problems; the snapshot keeps the returned iterates finite all the same.
    snapshot = x
    last_check = 0
    host = is_host_numpy(xp)
    if host and x.shape[0] * x.shape[1] >= _EVERY_STEP_SIZE:
        check_every = 1
    for k in range(1, steps + 1):
        x, state = rule.step(model, x, state, gen)
        recording = k % record_every == 0 or k == steps
        if recording or k - last_check >= check_every:
            ok = _within_bound(x, bound, xp)
            newly = (~ok) & (~diverged)
            diverged_at = xp.where(newly, xp.asarray(k, dtype=xp.int64), diverged_at)
            diverged = diverged | newly
            # On the host the test is free and skips an (R, d) pass and temporary when no
            # replica has diverged (the common case); on a device it would be a sync.
            if not host or bool(xp.any(diverged)):
                x = xp.where(diverged[:, None], snapshot, x)
            snapshot = x
            last_check = k
        if recording:
            take(k)
        if callback is not None:
            callback(k)
    records = {name: xp.stack(vals, axis=0) for name, vals in out.items()}
    if squeeze:
        x = x[0, ...]
    return Trajectory(
        x=x, steps=taken, records=records, diverged=diverged, diverged_at=diverged_at,
        rule=repr(rule), model=repr(model),
    )
