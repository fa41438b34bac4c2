r"""Run a sweep on a ``dask.distributed`` cluster, one task per missing cell.

Dask does the scheduling (placement, work stealing, rescheduling the tasks of a worker that
died); this module decides *which* cells to submit and stores what comes back:

1. list the output directory and keep the cells of the grid that have no record (and, with
   ``retry_failed``, those whose record is a failure);
2. submit one task per such cell; a task runs the sweep's cell function inside a
   ``try`` and returns either the record or the error and its traceback;
3. as tasks finish (in any order), write each row atomically on the client.

Rows are written by the client, not the workers, so workers need no access to the output
directory (a real cluster rarely shares a file system with the laptop that drives it), and
a sweep interrupted at any point has lost at most the cells in flight.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import platform
import re
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verify.sweeps.core import RESERVED, Cell, Sweep, SweepError, get_sweep
from verify.sweeps.store import CellStore, check_writable_file

__all__ = ["SweepSummary", "check_timeout", "connect", "execute_cell", "load_results", "plot_sweep", "run_sweep"]

DEFAULT_OUT = "implreg-sweeps"
_ADDRESS = re.compile(r"^(?:(tcp|tls|ucx|ws|wss|inproc)://)?[\w.\-\[\]:]+:\d+$|^inproc://.+$")


@dataclass
class SweepSummary:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    sweep
        The sweep name.
    total
        Cells in the requested grid.
    stored_before
        Cells that already had a record (skipped; includes failures not retried).
    computed
        Cells computed by this run (their records are now stored).
    failed
        Cells of the grid whose stored record is a failure, after this run.
    seconds
        Wall-clock time of this run.
    out
        The directory holding the records.
    keys
        The keys of the cells computed by this run, in completion order.
    """

    sweep: str
    total: int
    stored_before: int
    computed: int
    failed: int
    seconds: float
    out: Path
    keys: list[str] = field(default_factory=list, repr=False)

    @property
    def complete(self) -> bool:
        """Every cell of the grid has a record (successful or failed)."""
        return self.stored_before + self.computed == self.total

    def __str__(self) -> str:
        return (f"{self.sweep}: {self.total} cells — {self.computed} computed, "
                f"{self.stored_before} already stored, {self.failed} failed — "
                f"{self.seconds:.1f}s → {self.out}")


# ------------------------------------------------------------------------ on the worker
def _plain(name: str, value: Any) -> Any:
    """A record value as a Python scalar (NumPy scalars and 0-d arrays are unwrapped)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "shape") and tuple(value.shape) == () and hasattr(value, "item"):
        return value.item()  # a 0-d array or NumPy scalar, once per cell
    raise TypeError(
        f"record field {name!r} must be a number, bool, string or None; got "
        f"{type(value).__name__}{getattr(value, 'shape', '')}")


def execute_cell(fn: Callable[..., Mapping[str, Any]], params: Mapping[str, Any],
                 seed: int) -> dict[str, Any]:
    """Run one cell and never raise for the cell's own errors: returns
    ``{"status": "ok", "record": {...}}`` or ``{"status": "error", "error", "traceback"}``,
    with ``seconds`` and ``worker`` either way. Runs on a worker."""
    t0 = time.perf_counter()
    try:
        from distributed import get_worker  # noqa: PLC0415

        where = get_worker().address
    except (ImportError, ValueError):  # called outside a worker
        where = f"{platform.node()}:{os.getpid()}"
    try:
        rec = fn(dict(params), seed)
        if not isinstance(rec, Mapping):
            raise TypeError(f"a cell must return a mapping; got {type(rec).__name__}")
        clash = [k for k in rec if k in RESERVED or k in params]
        if clash:
            raise ValueError(
                f"record fields {clash} clash with the parameters or reserved columns {RESERVED}")
        record = {str(k): _plain(str(k), v) for k, v in rec.items()}
    except Exception as exc:  # the cell's failure is data, not a reason to stop the sweep
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=20),
                "seconds": time.perf_counter() - t0, "worker": where}
    return {"status": "ok", "record": record, "seconds": time.perf_counter() - t0,
            "worker": where}


# ------------------------------------------------------------------------ the cluster
def _gpu_count() -> int:
    try:
        from dask_cuda.utils import get_n_gpus  # noqa: PLC0415

        return int(get_n_gpus())
    except Exception:  # dask-cuda missing, or no driver: no GPU cluster
        return 0


@contextlib.contextmanager
def connect(scheduler: str | None = None, *, workers: int | None = None,
            processes: bool = True, timeout: float = 10.0,
            on_wait: Callable[[str], None] | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client`` for the duration of a ``with`` block.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:port``). ``None`` starts the embedded
        default: dask-cuda's ``LocalCUDACluster`` (one worker per GPU) when dask-cuda is
        installed and a GPU is visible, else a ``LocalCluster`` with one single-threaded
        worker process per core, listening on 127.0.0.1 only, closed on exit.
    workers
        Number of local workers (default: one per core, or per GPU). Not allowed with
        ``scheduler``: a remote cluster is sized where it runs.
    processes
        Local workers as processes (default; true parallelism for Python-level loops) or
        as threads of this process (fast to start; used by tests).
    timeout
        Seconds to wait for a remote scheduler, and then for at least one of its workers,
        before giving up (positive and finite).
    on_wait
        Called with one line of text when the scheduler has no worker yet (what is awaited
        and what to start, ``dask worker ADDR``), before waiting up to ``timeout``.

    Raises
    ------
    SweepError
        A malformed or unreachable scheduler address, no worker joining it within
        ``timeout``, a bad ``timeout``, or ``workers`` with ``scheduler``.
    """
    from distributed import Client, LocalCluster  # noqa: PLC0415

    if scheduler is not None:
        if workers is not None:
            raise SweepError("--workers sizes the local cluster only; a cluster at --scheduler "
                             "is sized where it runs")
        if not isinstance(scheduler, str) or not _ADDRESS.match(scheduler.strip()):
            raise SweepError(f"scheduler must be an address like tcp://host:port; got {scheduler!r}")
        timeout = check_timeout(timeout)
        addr = scheduler.strip()
        try:
            client = Client(addr, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        try:
            _wait_for_a_worker(client, addr, timeout, on_wait)
            yield client
        finally:
            client.close()
        return
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise SweepError(f"workers must be a positive integer; got {workers!r}")
    ngpu = _gpu_count() if processes else 0
    if ngpu:
        from dask_cuda import LocalCUDACluster  # noqa: PLC0415

        cluster = LocalCUDACluster(n_workers=min(workers or ngpu, ngpu), host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    else:
        # Threads in this process talk over the in-process transport, which takes no host
        # (distributed refuses "127.0.0.1" there); processes listen on loopback only.
        where = {"host": "127.0.0.1"} if processes else {}
        cluster = LocalCluster(n_workers=workers or (os.cpu_count() or 1), threads_per_worker=1,
                               processes=processes, dashboard_address="127.0.0.1:0",
                               silence_logs=logging.ERROR, **where)
    try:
        with Client(cluster, set_as_default=False) as client:
            yield client
    finally:
        cluster.close()


def check_timeout(timeout: Any, what: str = "timeout") -> float:
    """``timeout`` as a positive finite number of seconds, or a :class:`SweepError`."""
    try:
        t = float(timeout)
    except (TypeError, ValueError):
        t = math.nan
    if isinstance(timeout, bool) or not (math.isfinite(t) and t > 0):
        raise SweepError(f"{what} must be a positive, finite number of seconds; got {timeout!r}")
    return t


def _wait_for_a_worker(client: Any, addr: str, timeout: float,
                       on_wait: Callable[[str], None] | None) -> None:
    """Return once the scheduler at ``addr`` has a worker; tasks submitted to a scheduler
    without one would wait forever, silently."""
    if client.scheduler_info(n_workers=1).get("workers"):
        return
    start = f"start one with `dask worker {addr}`"
    if on_wait is not None:
        on_wait(f"waiting up to {timeout:g} s for a Dask worker to join the scheduler at "
                f"{addr}: {start}")
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise SweepError(f"no Dask worker joined the scheduler at {addr} within {timeout:g} s "
                         f"(--connect-timeout); {start}") from None


# ------------------------------------------------------------------------ the sweep
def _row(cell: Cell, result: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"key": cell.key, "sweep": cell.sweep, "seed": cell.seed,
                           "status": result["status"], "error": result.get("error"),
                           "traceback": result.get("traceback"),
                           "seconds": float(result.get("seconds", math.nan)),
                           "worker": result.get("worker")}
    row.update(cell.params)
    row.update(result.get("record", {}))
    return row


def run_sweep(
    sweep: str | Sweep,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: Sequence[int] | None = None,
    out: str | os.PathLike[str] = DEFAULT_OUT,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    retry_failed: bool = False,
    timeout: float = 10.0,
    on_start: Callable[[int, int], None] | None = None,
    on_cell: Callable[[Cell, str], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> SweepSummary:
    """Compute the cells of ``sweep`` that have no stored record, and store them.

    Parameters
    ----------
    sweep
        A :class:`Sweep` or the name of a registered one.
    grid, seeds
        Overrides of the sweep's default axes and seeds (see :meth:`Sweep.cells`).
    out
        Output directory; records go to ``out/<sweep name>/``.
    client
        A ``dask.distributed.Client`` to use (left open). Otherwise one is made by
        :func:`connect` from ``scheduler`` and ``workers`` and closed at the end.
    retry_failed
        Also recompute cells whose stored record is a failure.
    timeout
        Seconds to wait for the scheduler at ``scheduler`` and for one of its workers.
    on_start
        Called once with (cells to compute, cells in the grid) before submitting.
    on_cell
        Called after each stored row with the cell and its status (``"ok"``/``"error"``);
        an exception raised here (or a ``KeyboardInterrupt``) stops the sweep: pending
        tasks are cancelled and every row stored so far stays.
    on_wait
        Called with a line of text while waiting for a worker to join ``scheduler``.

    Returns
    -------
    SweepSummary

    Raises
    ------
    SweepError
        Before any cell runs: a grid value outside its axis' domain (see :class:`Axis`),
        cells the sweep's ``check`` finds infeasible, bad seeds, an output directory that cannot be written, an unreachable scheduler
        or one without workers.

    Notes
    -----
    A finished sweep is never recomputed: a second call with the same grid submits
    nothing. A task lost with its worker is rescheduled by Dask; a cell whose task keeps
    killing workers is recorded as failed (``KilledWorker``) like a cell that raised.
    """
    t0 = time.perf_counter()
    sw = get_sweep(sweep)
    cells = sw.cells(grid, seeds)
    store = CellStore(out, sw.name)
    status = store.status()
    redo = {"error"} if retry_failed else set()
    todo = [c for c in cells if c.key not in status or status[c.key] in redo]
    if todo:
        sw.check_cells(grid, seeds)
        store.check_writable()
    if client is None and scheduler is not None:
        timeout = check_timeout(timeout)
    if on_start is not None:
        on_start(len(todo), len(cells))
    done: list[str] = []
    if todo:
        ctx = contextlib.nullcontext(client) if client is not None else connect(
            scheduler, workers=workers, timeout=timeout, on_wait=on_wait)
        with ctx as cl:
            _compute(cl, sw, todo, store, done, on_cell)
    final = store.status()
    failed = sum(1 for c in cells if final.get(c.key) == "error")
    return SweepSummary(sw.name, len(cells), len(cells) - len(todo), len(done), failed,
                        time.perf_counter() - t0, store.dir, done)


def _compute(client: Any, sw: Sweep, todo: list[Cell], store: CellStore, done: list[str],
             on_cell: Callable[[Cell, str], None] | None) -> None:
    from distributed import as_completed  # noqa: PLC0415

    futures = {}
    for c in todo:
        fut = client.submit(execute_cell, sw.cell, c.params, c.seed, pure=False,
                            key=f"implreg-{sw.name}-{c.key}-{os.urandom(4).hex()}")
        futures[fut] = c
    names = list(sw.grid)
    try:
        for fut in as_completed(list(futures), loop=client.loop):
            cell = futures[fut]
            if fut.status == "finished":
                result = fut.result()
            elif fut.status == "cancelled":
                raise RuntimeError(f"the task of {cell!r} was cancelled (the cluster went away?)")
            else:  # the task itself failed: its worker died repeatedly (KilledWorker) etc.
                exc = fut.exception()
                result = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                          "traceback": "".join(traceback.format_exception(exc))}
            store.write(_row(cell, result), params=names)
            done.append(cell.key)
            if on_cell is not None:
                on_cell(cell, result["status"])
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)


def load_results(sweep: str | Sweep, *, out: str | os.PathLike[str] = DEFAULT_OUT,
                 grid: Mapping[str, Sequence[Any]] | None = None,
                 seeds: Sequence[int] | None = None, include_failed: bool = True) -> Any:
    """The stored rows of ``sweep`` as a ``pyarrow.Table`` (``.to_pylist()`` for dicts,
    ``.to_pandas()`` if pandas is installed).

    With ``grid`` or ``seeds`` only the cells of that grid are returned; without, every
    stored cell of the sweep.
    """
    sw = get_sweep(sweep)
    store = CellStore(out, sw.name)
    keys = None
    if grid is not None or seeds is not None:
        keys = [c.key for c in sw.cells(grid, seeds)]
    return store.read(keys, include_failed=include_failed)


def plot_sweep(sweep: str | Sweep, *, out: str | os.PathLike[str] = DEFAULT_OUT,
               grid: Mapping[str, Sequence[Any]] | None = None,
               seeds: Sequence[int] | None = None,
               path: str | os.PathLike[str] | None = None) -> Path:
    """Draw the stored records of ``sweep`` (its ``plot``) and save the figure.

    Parameters
    ----------
    out
        The output directory the sweep was run with.
    grid, seeds
        Restrict to the cells of this grid (default: every stored successful cell).
    path
        Image file to write (default ``out/<name>.png``).

    Raises
    ------
    SweepError
        The sweep has no plot, nothing is stored, or a parameter other than the two plot
        axes (and the seed) takes several values among the stored cells (choose one with
        ``grid``).
    """
    sw = get_sweep(sweep)
    if sw.plot is None:
        raise SweepError(f"sweep {sw.name!r} has no plot")
    target = Path(path) if path is not None else Path(out) / f"{sw.name}.png"
    check_writable_file(target, "plot", (".png", ".pdf", ".svg"))
    table = load_results(sw, out=out, grid=grid, seeds=seeds, include_failed=False)
    rows = table.to_pylist()
    if not rows:
        raise SweepError(f"no stored results for sweep {sw.name!r} under {Path(out) / sw.name}; "
                         f"run `implreg sweep {sw.name} --out {out}` first")
    axes = sw.axes or ()
    mixed = {k: sorted({r[k] for r in rows}) for k in sw.grid if k not in axes}
    mixed = {k: v for k, v in mixed.items() if len(v) > 1}
    if mixed:
        k, v = next(iter(mixed.items()))
        raise SweepError(f"stored cells of {sw.name!r} differ in {k!r} ({v}); pick one with "
                         f"--grid {k}={v[0]}")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig = sw.plot(rows, sw)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=130, bbox_inches="tight")  # keep legends placed below the axes
    plt.close(fig)
    return target
