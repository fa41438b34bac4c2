"""``implreg sweep``: run, resume, list and plot parameter sweeps.

::

    implreg sweep --list
    implreg sweep NAME [--grid KEY=V1,V2,... ...] [--out DIR] [--scheduler ADDR] [--workers N]
                       [--retry-failed]
    implreg sweep NAME --plot [--grid ...] [--out DIR]

Exit status: 0 when every cell of the grid has a successful record, 1 when some cells
failed (their errors are stored and listed), 2 for bad input (unknown sweep, malformed
``--grid``, unreachable scheduler).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["add_arguments", "command"]


def add_arguments(q: argparse.ArgumentParser) -> None:
    """The arguments of the ``sweep`` subcommand."""
    q.add_argument("name", nargs="?", metavar="NAME", help="the sweep to run (see --list)")
    q.add_argument("--list", action="store_true", help="list the shipped sweeps and their grids")
    q.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="override an axis (repeatable); KEY=LO:HI:NUM for NUM evenly spaced "
                        "values; seed=0,1,2 sets the seeds")
    q.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: implreg-sweeps); records go to DIR/NAME/")
    q.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 "
                        "(default: start a local cluster)")
    q.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long to wait for --scheduler (default 10)")
    q.add_argument("--workers", type=_positive, default=None, metavar="N",
                   help="local workers (default: one per core)")
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


def _list() -> int:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from verify.sweeps.core import iter_sweeps  # noqa: PLC0415

    table = Table(title="implreg sweeps")
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("cells", justify="right")
    table.add_column("grid (default)", overflow="fold")
    table.add_column("what")
    for sw in iter_sweeps():
        axes = "; ".join(
            f"{k}={_short(v)}" for k, v in sw.grid.items()) + f"; seed={_short(sw.seeds)}"
        table.add_row(sw.name, str(sw.size()), axes, sw.title)
    con = Console() if sys.stdout.isatty() else Console(width=150)
    con.print(table)
    return 0


def _short(vals: tuple[Any, ...]) -> str:
    if len(vals) <= 6:
        return ",".join(str(v) for v in vals)
    return f"{vals[0]},{vals[1]},…,{vals[-1]} ({len(vals)})"


def command(args: argparse.Namespace) -> int:
    """Run ``implreg sweep`` with parsed ``args``; returns the exit status."""
    from verify.sweeps.core import SweepError, get_sweep, parse_grid  # noqa: PLC0415
    from verify.sweeps.runner import DEFAULT_OUT, plot_sweep, run_sweep  # noqa: PLC0415

    if args.list:
        return _list()
    if args.name is None:
        raise SweepError("name a sweep (implreg sweep NAME) or use --list")
    sw = get_sweep(args.name)
    grid, seeds = parse_grid(args.grid, sw)
    out = args.out or DEFAULT_OUT
    if args.plot:
        path = plot_sweep(sw, out=out, grid=grid or None, seeds=seeds)
        print(f"plot written to {path}", file=sys.stderr)
        return 0
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

        return run_sweep(sw, grid=grid or None, seeds=seeds, out=out, scheduler=args.scheduler,
                         workers=args.workers, retry_failed=args.retry_failed,
                         timeout=args.connect_timeout,
                         on_start=start, on_cell=cell)
