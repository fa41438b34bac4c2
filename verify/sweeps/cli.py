"""``implreg sweep``: run, resume, list and plot parameter sweeps.

::

    implreg sweep --list
    implreg sweep NAME [--grid KEY=V1,V2,... ...] [--out DIR] [--scheduler ADDR] [--workers N]
                       [--retry-failed]
    implreg sweep NAME --plot [--grid ...] [--out DIR]

Exit status: 0 when every cell of the grid has a successful record, 1 when some cells
failed (their errors are stored and listed), 2 for bad input, reported as one line before
any cell runs: an unknown sweep, a malformed ``--grid`` or a value outside its axis'
declared domain (:class:`verify.sweeps.Axis`, shown by ``--list``), an ``--out`` that cannot
be written, more ``--workers`` than cores, a bad ``--connect-timeout`` or ``--scheduler``
address, an option the mode would ignore (``--list --grid``, ``--plot --workers``,
``--workers`` with ``--scheduler``), an unreachable scheduler or one that no worker joins
in time.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["add_arguments", "command"]


def add_arguments(q: argparse.ArgumentParser) -> None:
    """The arguments of the ``sweep`` subcommand."""
    q.add_argument("name", nargs="?", metavar="NAME",
                   help="the sweep to run (see --list); with --list, the one to describe")
    q.add_argument("--list", action="store_true",
                   help="list the shipped sweeps (or NAME) and their grids")
    q.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="override an axis (repeatable); KEY=LO:HI:NUM for NUM evenly spaced "
                        "values; seed=0,1,2 sets the seeds")
    q.add_argument("--out", type=_path, default=None, metavar="DIR",
                   help="output directory (default: implreg-sweeps); records go to DIR/NAME/")
    q.add_argument("--scheduler", type=_address, default=None, metavar="ADDR",
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 "
                        "(default: start a local cluster)")
    q.add_argument("--connect-timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="how long to wait for --scheduler, then for one of its workers "
                        "(default 10)")
    q.add_argument("--workers", type=_positive, default=None, metavar="N",
                   help=f"local worker processes (default and cap: the machine's "
                        f"{os.cpu_count() or 1} cores; more need a cluster at --scheduler)")
    q.add_argument("--retry-failed", action="store_true",
                   help="recompute cells whose stored record is an error")
    q.add_argument("--plot", action="store_true",
                   help="draw the stored results to DIR/NAME.png instead of running")


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {v}")
    return v


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path; got {text!r}")
    return text


def _address(text: str) -> str:
    from verify.sweeps.runner import _ADDRESS  # noqa: PLC0415

    if not _ADDRESS.match(text.strip()):
        raise argparse.ArgumentTypeError(
            f"expected a Dask scheduler's address like tcp://host:port; got {text!r}")
    return text.strip()


def _seconds(text: str) -> float:
    from verify.sweeps.runner import check_timeout  # noqa: PLC0415

    try:
        return check_timeout(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive, finite number of seconds; got {text!r}") from None


def _list(name: str | None = None) -> int:
    """Each sweep (or only ``name``) with its axes: the declared domain, the default
    values, what each is."""
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from verify.sweeps.core import get_sweep, iter_sweeps  # noqa: PLC0415

    con = Console() if sys.stdout.isatty() else Console(width=150)
    for sw in iter_sweeps() if name is None else [get_sweep(name)]:
        table = Table(title=f"[bold cyan]{sw.name}[/] — {sw.size()} cells: {escape(sw.title)}",
                      title_justify="left")
        table.add_column("axis", style="bold", no_wrap=True)
        table.add_column("domain", no_wrap=True)
        table.add_column("default", overflow="fold")
        table.add_column("meaning")
        for k, ax in sw.domains.items():
            table.add_row(k, escape(ax.describe()), escape(_short(sw.grid[k])), escape(ax.doc))
        table.add_row("seed", "int ≥ 0, distinct", escape(_short(sw.seeds)),
                      "one instance per seed")
        con.print(table)
    con.print("override an axis with --grid KEY=V1,V2,... or KEY=LO:HI:NUM; values are checked "
              "against the domain before any cell runs", highlight=False)
    return 0


def _short(vals: tuple[Any, ...]) -> str:
    if len(vals) <= 6:
        return ",".join(str(v) for v in vals)
    return f"{vals[0]},{vals[1]},…,{vals[-1]} ({len(vals)})"


def command(args: argparse.Namespace) -> int:
    """Run ``implreg sweep`` with parsed ``args``; returns the exit status."""
    from verify.sweeps.core import SweepError, get_sweep, parse_grid  # noqa: PLC0415
    from verify.sweeps.runner import DEFAULT_OUT, plot_sweep, run_sweep  # noqa: PLC0415

    _check_flags(args)
    if args.list:
        return _list(args.name)
    if args.name is None:
        from verify.sweeps.core import sweep_names  # noqa: PLC0415

        raise SweepError(f"name a sweep (implreg sweep NAME, one of {', '.join(sweep_names())}) "
                         "or use --list")
    sw = get_sweep(args.name)
    grid, seeds = parse_grid(args.grid, sw)
    out = args.out or DEFAULT_OUT
    if args.plot:
        from pathlib import Path  # noqa: PLC0415

        from verify.sweeps.store import check_writable_dir, check_writable_file  # noqa: PLC0415

        check_writable_dir(out, "--out")
        check_writable_file(Path(out) / f"{sw.name}.png", "--out", (".png",))
        path = plot_sweep(sw, out=out, grid=grid or None, seeds=seeds)
        print(f"plot written to {path}", file=sys.stderr)
        return 0
    _check_run(sw, grid, out, args)
    summary = _run_with_progress(sw, grid, seeds, out, args)
    print(summary)
    if summary.failed:
        from verify.sweeps.runner import load_results  # noqa: PLC0415

        rows = [r for r in load_results(sw, out=out, grid=grid or None, seeds=seeds).to_pylist()
                if r["status"] != "ok"]
        for r in rows[:10]:
            params = ", ".join(f"{k}={r[k]}" for k in sw.grid)
            print(f"  failed: {params}, seed={r['seed']}: {r['error']}", file=sys.stderr)
        if len(rows) > 10:
            print(f"  … and {len(rows) - 10} more", file=sys.stderr)
        print("  (stored with their tracebacks; rerun with --retry-failed to recompute them)",
              file=sys.stderr)
        return 1
    return 0


#: Options that only a run uses (``--plot`` and ``--list`` read what is stored / declared).
_RUN_ONLY = {"scheduler": "--scheduler", "workers": "--workers",
             "retry_failed": "--retry-failed"}


def _check_flags(args: argparse.Namespace) -> None:
    """Options that the chosen mode would silently ignore are refused."""
    from verify.sweeps.core import SweepError  # noqa: PLC0415

    run_only = [flag for attr, flag in _RUN_ONLY.items() if getattr(args, attr) not in (None, False)]
    if args.list:
        given = (["--grid"] if args.grid else []) + (["--out"] if args.out else []) + \
            (["--plot"] if args.plot else []) + run_only
        if given:
            raise SweepError(f"--list shows the declared grids and takes no {given[0]} "
                             "(drop it, or drop --list to run)")
    elif args.plot and run_only:
        raise SweepError(f"--plot draws the stored records and runs nothing, so {run_only[0]} "
                         "does not apply (drop it, or drop --plot to run)")
    if args.workers is not None and args.scheduler is not None:
        raise SweepError("--workers sizes the local cluster only; a cluster at --scheduler is "
                         "sized where it runs (drop --workers)")


def _check_run(sw: Any, grid: Any, out: str, args: argparse.Namespace) -> None:
    """Everything a run needs that can be checked before a cluster starts or a cell runs."""
    from verify.sweeps.core import SweepError  # noqa: PLC0415
    from verify.sweeps.store import CellStore  # noqa: PLC0415

    cores = os.cpu_count() or 1
    if args.workers is not None and args.scheduler is None and args.workers > cores:
        raise SweepError(f"--workers must be at most the machine's {cores} cores; got "
                         f"{args.workers} (for more, start a Dask cluster and give --scheduler)")
    CellStore(out, sw.name).check_writable("--out")
    if args.scheduler is None and "backend" in sw.grid:  # local workers import it here
        from numerics.backend import get_namespace  # noqa: PLC0415

        for name in sw.resolve_grid(grid)["backend"]:
            get_namespace(name)  # an uninstalled library fails now, with its install hint


def _run_with_progress(sw: Any, grid: Any, seeds: Any, out: str, args: argparse.Namespace) -> Any:
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from verify.sweeps.runner import run_sweep  # noqa: PLC0415

    err = Console(stderr=True)
    show = err.is_terminal or os.environ.get("IMPLREG_PROGRESS") == "1"
    with Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                  BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err, transient=False, disable=not show) as prog:
        task = prog.add_task(f"sweep {sw.name}", total=None)
        failed = [0]

        def start(todo: int, total: int) -> None:
            where = args.scheduler or "local cluster"
            prog.update(task, total=todo,
                        description=f"sweep {sw.name} on {where} ({total - todo} of {total} stored)")

        def cell(c: Any, status: str) -> None:
            if status != "ok":
                failed[0] += 1
                prog.update(task, description=f"sweep {sw.name} ([red]{failed[0]} failed[/])")
            prog.advance(task)

        def wait(msg: str) -> None:
            err.print(f"implreg: {msg}", highlight=False, markup=False, soft_wrap=True)

        return run_sweep(sw, grid=grid or None, seeds=seeds, out=out, scheduler=args.scheduler,
                         workers=args.workers, retry_failed=args.retry_failed,
                         timeout=args.connect_timeout,
                         on_start=start, on_cell=cell, on_wait=wait)
