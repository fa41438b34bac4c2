"""The ``implreg`` command line: list, derive, verify, power, figure, sweep, bench.

Bad input (an unknown command, option, id or backend, a negative or absurd count, an output
path that cannot be written, CuPy without a GPU) prints one line on stderr naming the
argument, the rule and the value, with the closest valid name where there is one, and exits
with status 2 before any work; ``implreg verify`` exits 1 if any check failed.

``--examples`` sets the Hypothesis examples of checks that draw their parameters; checks
that run a fixed experiment run once whatever it says, and ``verify`` and ``power`` say so
in one line (``verify --json`` records it per check: ``fixed_experiment``,
``examples_ignored``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from verify._limits import MAX_EXAMPLES, MAX_SEED

__all__ = ["main", "build_parser"]


class CLIError(Exception):
    """A user error: reported as one line on stderr, exit status 2."""


def _as_int(text: str) -> int | None:
    """``text`` as an integer, also written as an integral float (``1e3``); else ``None``."""
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        f = float(t)
    except ValueError:
        return None
    return int(f) if math.isfinite(f) and f.is_integer() else None


def _int_in(minimum: int, what: str, maximum: int | None = None,
            too_many: Callable[[int], str] | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [``minimum``, ``maximum``], with a one-line error
    otherwise (``too_many(v)`` says why values above ``maximum`` are refused)."""

    def parse(text: str) -> int:
        v = _as_int(text)
        if v is None:
            raise argparse.ArgumentTypeError(f"expected a {what} integer; got {text!r}")
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer; got {v}")
        if maximum is not None and v > maximum:
            raise argparse.ArgumentTypeError(
                too_many(v) if too_many else f"at most {maximum:,}; got {v:,}")
        return v

    return parse


_positive_int = _int_in(1, "positive")


_examples = _int_in(1, "positive", MAX_EXAMPLES, lambda v: (
    f"at most {MAX_EXAMPLES:,} examples per check (at 0.01–1 s an example that is already "
    f"3 hours to 12 days); got {v:,}"))
_seed = _int_in(0, "non-negative", MAX_SEED, lambda v: (
    f"at most {MAX_SEED:,} = 2³² − 1 (seeds are 32-bit); got {v:,}"))


def _workers(text: str) -> int:
    """``--workers`` of ``implreg power``: local processes, at most the machine's cores."""
    v = _positive_int(text)
    cores = os.cpu_count() or 1
    if v > cores:
        raise argparse.ArgumentTypeError(f"at most the machine's {cores} cores; got {v:,}")
    return v


def _seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(
            f"expected a positive, finite number of seconds; got {text!r}")
    return v


def _path(text: str) -> str:
    """An output path: anything but an empty string (which would mean the current
    directory, or a default, without saying so)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path; got {text!r}")
    return text


def _suggest(name: str, known: Sequence[str], cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known`` (a case-only slip first)."""
    folded = [k for k in known if k.lower() == name.lower()]
    close = folded or difflib.get_close_matches(name, list(known), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def _one_of(known: Sequence[str], text: str) -> str:
    return f"expected one of {', '.join(known)}; got {text!r}{_suggest(text, known)}"


def _backend(text: str) -> str:
    """A backend name (whether its library is installed is checked before the work, with
    the library's install hint)."""
    from numerics.backend import BACKENDS  # noqa: PLC0415

    if text not in BACKENDS:
        raise argparse.ArgumentTypeError(_one_of(BACKENDS, text))
    return text


def _mapping(text: str) -> tuple[str, str]:
    """``NAME=SYMBOL`` of ``implreg compare --map``."""
    name, eq, value = text.partition("=")
    if not eq or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=SYMBOL (e.g. 'h=\\lambda_j'); got {text!r}")
    return name.strip(), value.strip()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        self.exit(2, f"implreg: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="implreg", description=(
        "Derive, simulate and verify results on the implicit regularization of gradient methods."))
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    q = sub.add_parser("list", help="every result: id, title, source")
    q.add_argument("--json", action="store_true", help="print a JSON list")

    q = sub.add_parser("derive", help="the derived statement of a result")
    q.add_argument("id")
    fmt = q.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_const", const="latex", dest="format")
    fmt.add_argument("--sympy", action="store_const", const="sympy", dest="format")
    fmt.add_argument("--python", action="store_const", const="python", dest="format")
    fmt.add_argument("--steps", action="store_const", const="steps", dest="format",
                     help="the SymPy derivation, step by step")

    q = sub.add_parser("verify", help="run the numeric checks (all by default)")
    q.add_argument("selectors", nargs="*", metavar="ID|TOPIC")
    q.add_argument("--backend", type=_backend, default="numpy",
                   help="numpy (default), array_api_strict, torch or cupy")
    q.add_argument("--seed", type=_seed, default=None,
                   help="seed Hypothesis' search and the fixed experiments, 0 to 2³² − 1 "
                        "(default: derandomized, reproducible)")
    q.add_argument("--examples", type=_examples, default=None,
                   help=f"Hypothesis examples per check, at most {MAX_EXAMPLES:,} (default: each "
                        "check's own; fixed-experiment checks run once whatever it says)")
    q.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    q.add_argument("--report", type=_path, metavar="DIR", default=None,
                   help="write a Markdown report with LaTeX statements and figures to DIR")

    q = sub.add_parser("power", help="how much each check catches: mutants of its result")
    q.add_argument("selectors", nargs="*", metavar="ID|TOPIC")
    q.add_argument("--workers", type=_workers, default=None,
                   help="processes (default and cap: the machine's cores)")
    q.add_argument("--max-mutants", type=_positive_int, default=40,
                   help="mutants per result (default 40)")
    q.add_argument("--budget", type=_seconds, default=300.0, metavar="SECONDS",
                   help="time per result; mutants left over are 'not run' (default 300)")
    q.add_argument("--examples", type=_examples, default=None,
                   help="Hypothesis examples per check run (default: each check's own)")
    q.add_argument("--seed", type=_seed, default=0, help="seed of the mutant sample")
    q.add_argument("--json", type=_path, metavar="PATH", default=None,
                   help="write every run as JSON")
    q.add_argument("--figure", type=_path, metavar="PATH", default=None,
                   help="draw killed/total per topic (.png, .pdf, .svg)")
    q.add_argument("--survivors", action="store_true", help="list every surviving mutant")

    q = sub.add_parser("figure", help="draw a result's figure")
    q.add_argument("id")
    q.add_argument("--out", type=_path, required=True, metavar="PATH",
                   help="output file (.png, .pdf, .svg)")
    q.add_argument("--backend", type=_backend, default="numpy")

    from benchmarks import build_parser as _bench_parser  # noqa: PLC0415

    _bench_parser(sub.add_parser("bench", help="the performance suite (python -m benchmarks)"))

    q = sub.add_parser("sweep", help="parameter sweeps on Dask, resumable; --plot draws them")
    from verify.sweeps.cli import add_arguments  # noqa: PLC0415

    add_arguments(q)

    q = sub.add_parser("compare", help="check a formula as printed (LaTeX) against a "
                       "result's derived claim; names the simplest correction")
    q.add_argument("id", help="result id")
    q.add_argument("latex", help="the formula as printed, e.g. '\\frac{2}{\\eta}'")
    q.add_argument("--part", help="a named part instead of the statement")
    q.add_argument("--map", action="append", default=[], type=_mapping, metavar="NAME=SYMBOL",
                   help="a symbol (or LaTeX fragment) of the formula and the result's symbol "
                        "or LaTeX it stands for; repeatable")
    q.add_argument("--free", action="append", default=[], metavar="NAME",
                   help="a symbol of the formula's own, not the result's (taken positive)")

    from verify.plugins import add_cli_option  # noqa: PLC0415 (--plugin on the registry commands)

    add_cli_option(sub)
    return p


# ----------------------------------------------------------------------- commands
def _cmd_list(args: argparse.Namespace) -> int:
    import theory  # noqa: PLC0415

    rows = [{"id": e.id, "title": e.title, "source": e.source, "how": e.how, "topic": e.topic}
            for e in theory.entries()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"implreg results ({len(rows)})", show_lines=False)
    table.add_column("id", style="bold cyan", no_wrap=True)
    table.add_column("title")
    table.add_column("source", style="dim")
    table.add_column("how", style="dim")
    for r in rows:
        table.add_row(r["id"], r["title"], r["source"], r["how"])
    (Console() if sys.stdout.isatty() else Console(width=160)).print(table)
    return 0


def _cmd_derive(args: argparse.Namespace) -> int:
    import sympy as sp  # noqa: PLC0415

    import theory  # noqa: PLC0415

    r = theory.get(args.id)
    fmt = args.format or "pretty"
    if fmt == "latex":
        print(r.latex())
        if r.conditions:
            print(r"\text{if } " + r.conditions_latex())
        for name in r.parts:
            print(f"% {name}" + (" (explains; not a claim)" if name in r.explains else ""))
            print(r.latex(part=name))
    elif fmt == "sympy":
        print(sp.sstr(r.statement))
    elif fmt == "python":
        # one runnable NumPy module: a function per claim (statement, then each part)
        from theory._printing import UnprintableError, python_module  # noqa: PLC0415

        claims = [(r.statement, r.id, r.id.replace(".", "_"), r.title)]
        claims += [(obj, f"{r.id}[{name}]", f"{r.id}.{name}".replace(".", "_"),
                    "explains; not a claim" if name in r.explains else name)
                   for name, obj in r.parts.items()]
        try:
            print(python_module(claims))
        except UnprintableError as exc:
            raise CLIError(f"{r.id} has no Python form ({exc})") from None
    elif fmt == "steps":
        if r.stated:
            print(f"{r.id} is stated (evidence is numeric): {r.source}")
        for i, s in enumerate(r.derivation, 1):
            print(f"[{i}] {s.description}")
            print("    " + sp.pretty(s.expr, use_unicode=True).replace("\n", "\n    "))
    else:
        print(str(r))
    return 0


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if v != v:
            return "nan"
        return f"{v:.4g}"
    return str(v)


# How to read a row: observed ≈ predicted within tolerance, or observed ≤ / ≥ the bound
# (predicted) give or take the tolerance.
_RELATION_SYMBOL = {"close": "≈", "at_most": "≤", "at_least": "≥"}


def _cmd_verify(args: argparse.Namespace) -> int:
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from numerics.backend import get_namespace  # noqa: PLC0415
    from verify.registry import resolve  # noqa: PLC0415
    from verify.runner import run_checks  # noqa: PLC0415

    ids = resolve(args.selectors)
    get_namespace(args.backend)  # fail early, with the library's install hint
    if args.report:
        _writable_dir(args.report, "--report")
    _note_fixed_experiments(ids, args.examples)
    err = Console(stderr=True)
    reports = []
    with Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                  BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal and os.environ.get("IMPLREG_PROGRESS") != "1") as prog:
        task = prog.add_task("verifying", total=len(ids))

        def start(i: str) -> None:
            prog.update(task, description=f"checking {i} on {args.backend}")

        def done(rep: Any) -> None:
            prog.advance(task)
            if not err.is_terminal:
                mark = "ok" if rep.passed else "FAILED"
                print(f"  {rep.id}: {mark} ({rep.seconds:.1f}s)", file=sys.stderr)

        reports = run_checks(ids, backend=args.backend, seed=args.seed,
                             examples=args.examples, on_start=start, on_done=done)
    ok = all(r.passed for r in reports)
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        table = Table(title=f"implreg verify — backend {args.backend}")
        for col in ("id", "result", "predicted", "rel", "observed", "tolerance", "examples", "s"):
            table.add_column(col, no_wrap=True,
                             justify="left" if col in ("id", "result") else
                             "center" if col == "rel" else "right")
        table.add_column("certifies", overflow="fold")
        table.add_column("compared (worst comparison)", overflow="fold")
        for r in reports:
            o = r.outcome
            cert = ", ".join(r.certifies) or "—"
            if r.uncertified:
                cert += " [yellow](not: " + ", ".join(r.uncertified) + ")[/]"
            table.add_row(
                r.id, "[green]pass[/]" if r.passed else "[bold red]FAIL[/]",
                _fmt(None if o is None else o.predicted),
                "" if o is None else _RELATION_SYMBOL.get(o.relation, o.relation),
                _fmt(None if o is None else o.observed),
                _fmt(None if o is None else o.tolerance), str(r.examples), f"{r.seconds:.1f}",
                cert, "" if o is None else escape(o.quantity))
        con = Console() if sys.stdout.isatty() else Console(width=150)
        con.print(table)
        for r in reports:
            if not r.passed:
                con.print(f"[bold red]{r.explain()}[/]")
        total = sum(r.seconds for r in reports)
        n_claims = sum(len(r.certifies) + len(r.uncertified) for r in reports)
        n_cert = sum(len(r.certifies) for r in reports)
        con.print(f"{sum(r.passed for r in reports)}/{len(reports)} checks passed in {total:.1f}s; "
                  f"{n_cert}/{n_claims} claims evaluated by their checks "
                  "(rel: observed ≈ predicted, or observed ≤ / ≥ the bound, within tolerance)")
    if args.report:
        from verify.report import write_report  # noqa: PLC0415

        path = write_report(reports, Path(args.report), backend=args.backend)
        print(f"report written to {path}", file=sys.stderr)
    return 0 if ok else 1


def fixed_experiments(ids: Sequence[str]) -> list[str]:
    """The ids among ``ids`` whose check runs a fixed experiment: no Hypothesis strategy
    to draw parameters from, so it runs once and ``--examples`` does not apply."""
    from verify.registry import get_check  # noqa: PLC0415

    return [i for i in ids if get_check(i).strategy is None]


def _note_fixed_experiments(ids: Sequence[str], examples: int | None) -> None:
    """One line on stderr when ``--examples`` was given and some selected check ignores it."""
    if examples is None:
        return
    fixed = fixed_experiments(ids)
    if fixed:
        print(f"implreg: note: --examples does not apply to fixed-experiment checks: "
              f"{', '.join(fixed)}; they run once", file=sys.stderr)


def _writable_dir(path: str, flag: str) -> Path:
    """Check before any work that ``path`` is, or can be made, a writable directory (the
    sweeps' check: a probe file is created and removed)."""
    from verify.sweeps.store import check_writable_dir  # noqa: PLC0415

    return check_writable_dir(path, flag)


def _writable_file(path: str, suffixes: tuple[str, ...] | None, flag: str) -> Path:
    """Check before any work that ``path`` can be written as a file in a directory that
    exists already (these outputs do not create it): the sweeps' check."""
    from verify.sweeps.store import check_writable_file  # noqa: PLC0415

    return check_writable_file(path, flag, suffixes, make_parents=False)


def _cmd_power(args: argparse.Namespace) -> int:
    import time  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from verify.registry import resolve  # noqa: PLC0415

    ids = resolve(args.selectors)
    workers = min(args.workers or os.cpu_count() or 1, len(ids))  # --workers is capped at parsing
    json_path = _writable_file(args.json, None, "--json") if args.json else None
    fig_path = _writable_file(args.figure, (".png", ".pdf", ".svg"), "--figure") if args.figure else None
    if json_path is not None and fig_path is not None and json_path.resolve() == fig_path.resolve():
        raise CLIError(f"--json and --figure both name {args.json!r}; give two files")
    _note_fixed_experiments(ids, args.examples)
    from verify.mutate import measure_many  # noqa: PLC0415

    err = Console(stderr=True)
    t0 = time.perf_counter()
    done = [0]
    print(f"implreg power: {len(ids)} results, up to {args.max_mutants} mutants each, "
          f"{workers} worker(s)", file=sys.stderr)

    def progress(rep: Any) -> None:
        done[0] += 1
        base = "" if rep.baseline_passed else "  (check fails on the real result)"
        print(f"  [{done[0]}/{len(ids)}] {rep.id}: killed {rep.killed}/{rep.total} "
              f"in {rep.seconds:.0f}s{base}", file=sys.stderr, flush=True)

    reports = measure_many(ids, workers=workers, on_done=progress, max_mutants=args.max_mutants,
                           budget=args.budget, examples=args.examples, seed=args.seed)
    elapsed = time.perf_counter() - t0
    con = Console() if sys.stdout.isatty() else Console(width=150)
    table = Table(title="implreg power — mutants of each result run against its check")
    for col in ("id", "killed", "total", "score", "not run", "equivalent", "s"):
        table.add_column(col, no_wrap=True, justify="left" if col == "id" else "right")
    for r in reports:
        score = "—" if not r.total else f"{r.score:.0%}"
        if not r.baseline_passed:
            score = "[bold red]baseline fails[/]"
        elif r.total and r.score < 0.95:
            score = f"[yellow]{score}[/]"
        table.add_row(r.id, str(r.killed), str(r.total), score, str(r.not_run),
                      str(r.stats.get("equivalent", 0)), f"{r.seconds:.0f}")
    con.print(table)
    by_topic: dict[str, list[int]] = {}
    for r in reports:
        k = by_topic.setdefault(r.topic, [0, 0])
        k[0] += r.killed
        k[1] += r.total
    killed = sum(r.killed for r in reports)
    total = sum(r.total for r in reports)
    for t, (k, n) in by_topic.items():
        con.print(f"  {t:15s} {k:4d}/{n:<4d} {k / n if n else float('nan'):7.1%}")
    if args.survivors:
        for r in reports:
            for s in r.survivors:
                con.print(f"  survived: {escape(s.mutant)}", highlight=False)
    failed_base = [r.id for r in reports if not r.baseline_passed]
    con.print(f"killed {killed}/{total} mutants ({killed / total if total else float('nan'):.1%}) "
              f"in {elapsed:.0f}s on {workers} worker(s)"
              + (f"; checks failing on the real result: {', '.join(failed_base)}" if failed_base else ""))
    if json_path is not None:
        json_path.write_text(json.dumps({"seconds": round(elapsed, 1), "workers": workers,
                                         "results": [r.to_dict() for r in reports]},
                                        indent=1, ensure_ascii=False))
    if fig_path is not None:
        from verify.report import power_figure  # noqa: PLC0415

        power_figure(reports, fig_path)
        print(f"figure written to {fig_path}", file=sys.stderr)
    return 0 if not failed_base else 1


def _cmd_figure(args: argparse.Namespace) -> int:
    from numerics.backend import get_namespace  # noqa: PLC0415
    from verify.report import draw_figure  # noqa: PLC0415

    import theory  # noqa: PLC0415

    from verify.registry import get_figure  # noqa: PLC0415

    topic = theory.entry(args.id).topic  # unknown id -> suggestion
    if get_figure(args.id) is None:
        have = [i for i in theory.ids(topic) if get_figure(i) is not None]
        raise CLIError(f"{args.id} has no figure; "
                       + (f"results of {topic} with one: {', '.join(have)}" if have else
                          f"no result of {topic} has one"))
    xp = get_namespace(args.backend)
    out = _writable_file(args.out, (".png", ".pdf", ".svg"), "--out")
    if not draw_figure(args.id, xp, out):
        raise CLIError(f"{args.id} has no figure")
    print(f"figure written to {out}", file=sys.stderr)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from benchmarks import run_from_args  # noqa: PLC0415

    return run_from_args(args)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from verify.sweeps.cli import command  # noqa: PLC0415

    return command(args)


def _cmd_compare(args: argparse.Namespace) -> int:
    import sympy as sp  # noqa: PLC0415

    import theory  # noqa: PLC0415

    symbols: dict[str, Any] = dict(args.map)
    for name in args.free:
        symbols[name] = sp.Symbol(name, positive=True)
    v = theory.compare(args.id, args.latex, part=args.part, symbols=symbols)
    print(repr(v))
    print("  LaTeX:     " + v.latex())
    return 0 if v.agrees else 1


_COMMANDS = {"compare": _cmd_compare, "list": _cmd_list, "derive": _cmd_derive, "verify": _cmd_verify,
             "power": _cmd_power, "figure": _cmd_figure,
             "bench": _cmd_bench, "sweep": _cmd_sweep}


def _usage_error(message: str) -> int:
    print(f"implreg: error: {message}", file=sys.stderr)
    return 2


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # noqa: SLF001 (argparse keeps them nowhere public)
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return dict(action.choices)
    return {}


def _unrecognized(extra: list[str], command: str, sub: argparse.ArgumentParser) -> str:
    """One line for arguments no parser took: the closest option of the subcommand, and
    where its options are listed."""
    options = [o for a in sub._actions for o in a.option_strings]  # noqa: SLF001
    first = next((x for x in extra if x.startswith("-")), None)
    hint = _suggest(first.split("=", 1)[0], options) if first else ""
    what = "argument" if len(extra) == 1 else "arguments"
    return (f"unrecognized {what} {', '.join(repr(x) for x in extra)} for `implreg {command}`"
            f"{hint} (see `implreg {command} --help`)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``implreg`` and ``python -m verify``."""
    from numerics.backend import BackendUnavailableError  # noqa: PLC0415
    from theory import UnknownResultError  # noqa: PLC0415

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = _subcommands(parser)
    if not argv:
        return _usage_error(f"give a command: {', '.join(commands)} (see `implreg --help`)")
    if argv[0] not in ("-h", "--help") and argv[0] not in commands:
        what = "option" if argv[0].startswith("-") else "command"
        return _usage_error(f"unknown {what} {argv[0]!r}{_suggest(argv[0], list(commands))} "
                            f"(commands: {', '.join(commands)}; see `implreg --help`)")
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # usage errors (status 2) and --help (status 0)
        return int(exc.code or 0)
    if extra and hasattr(args, "selectors") and not any(x.startswith("-") for x in extra):
        args.selectors += extra  # ids on both sides of an option: argparse keeps only the first run
        extra = []
    if extra:
        return _usage_error(_unrecognized(extra, args.command, commands[args.command]))
    try:
        from verify.plugins import cli_session  # noqa: PLC0415

        with cli_session(args):  # --plugin and entry points, before any work
            return _COMMANDS[args.command](args)
    except (CLIError, UnknownResultError, BackendUnavailableError) as exc:
        print(f"implreg: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad values caught by the library's own validation
        print(f"implreg: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # stdout closed early (``implreg list | head``): not an error
        return 0
    except OSError as exc:  # a write that failed despite the checks made before the work
        print(f"implreg: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("implreg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
