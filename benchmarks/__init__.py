"""implreg's performance suite: ``python -m benchmarks`` (or ``implreg bench``).

Every figure is a ratio of two quantities measured in the same run, so that it means the
same on a laptop and on a loaded shared server:

1. Replica engine — minibatch SGD on least squares and on a sum of quadratics for
   R ∈ {1, 100, 10 000}, d = 100, n = 1 000, B = 10: replica-steps per second against a
   per-replica Python loop in NumPy and against the same batched program written in PyTorch
   (when installed), and the fraction of the memory-bandwidth roofline (bytes a step must
   move ÷ the bandwidth of a large NumPy copy).
2. Two-layer ReLU networks — achieved FLOP rate of GD steps ÷ NumPy's matmul rate; HVP cost
   ÷ gradient cost.
3. Sharpness — matvecs for the top eigenvalue to relative accuracy 1e-8 (power iteration,
   Lanczos, SciPy's eigsh on the same operator); matvecs for the trace to 1 % (Hutchinson
   vs Hutch++).
4. Symbolic layer — cold ``import theory``, building every result cold and warm,
   ``implreg list``, the whole ``implreg verify``; a lambdified result against the same
   formula by hand.
5. Scaling — time and peak memory as R, d and n double: fitted exponents against the
   expected ones.
6. Peers (:mod:`benchmarks.peers`) — the replica engine and two-layer GD against the same
   programs in JAX (jit + vmap + lax.scan; exact without-replacement and with-replacement
   sampling, labelled) and PyTorch (eager and ``torch.compile``), timed interleaved in one
   run, compile times apart; each peer is skipped with a message when its library is absent
   (``pip install 'implreg[bench]'``).
7. Curvature against the peers — a PyTorch MLP on the digits: top eigenvalue and trace by
   implreg, curvlinops and hessian-eigenthings (HVPs, wall time, agreement;
   :mod:`benchmarks.curvature`).

Backends (``--backend NAME``, repeatable; NumPy by default): sections 1 and 2 and the
scaling rows of section 5 run on each named array namespace
(:func:`numerics.backend.get_namespace`): ``numpy``, ``array_api_strict``, ``torch`` (the
CPU), ``torch:cuda`` / ``torch:cuda:N``, ``cupy``. Every backend solves the same problem (drawn
on the host with NumPy, moved with ``xp.asarray``), its clock is read only after the device
has synchronized, and its rows carry its label (``[torch cuda:0] least squares R=100: …``),
so rows of several backends sit in one table. A non-NumPy backend gets its own matmul rate
in section 0 (and, on a GPU, its device's copy bandwidth) as the reference of its ratios, and
its per-replica loop is written in its own namespace. Peak memory is measured the backend's
way (``tracemalloc`` for NumPy and ``array_api_strict``, ``torch.cuda.max_memory_allocated``,
a CuPy memory-pool hook); where there is none (PyTorch on the CPU), and for host page faults
on a GPU, the row says "not measured on …" instead of a number. Section 0 says in one line
which GPUs exist (``GPU: none (CuPy not installed; torch has no CUDA device)``); a backend
that cannot run here (library absent, no GPU) is refused in one line, exit 2, before any
work. Sections 3, 4, 6 and 7 run on NumPy (6 and 7 have their own PyTorch and JAX peers).

Benchmarks are never timed assertions in the test suite; ``tests/benchmarks`` runs the
``tiny`` configuration once to keep the code working (and on ``array_api_strict``, which
refuses the NumPy-only operations that would break on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["CONFIGS", "run_suite", "resolve_backends", "render", "main", "build_parser"]


def _configs() -> dict[str, dict[str, Any]]:
    from benchmarks.engine import EngineConfig  # noqa: PLC0415
    from benchmarks.models import ModelConfig  # noqa: PLC0415
    from benchmarks.peers import PeerConfig  # noqa: PLC0415

    return {
        "full": {"engine": EngineConfig(), "models": ModelConfig(), "scale_R": 2500,
                 "bandwidth_bytes": 2**28, "matmul": 1024, "peers": PeerConfig()},
        "quick": {"engine": EngineConfig(replicas=(1, 100, 10_000), work=50_000,
                                         loop_replicas=100),
                  "models": ModelConfig(sizes=((4, 500, 50, 64), (4, 1000, 100, 128)),
                                        eig_p=200, trace_p=200, trace_reps=32),
                  "scale_R": 1000, "bandwidth_bytes": 2**27, "matmul": 768,
                  "peers": PeerConfig(replicas=(100, 10_000), work=50_000, float32=False,
                                      two_layer=((4, 2000, 100, 256),), repeat=3)},
        "tiny": {"engine": EngineConfig(replicas=(1, 8), d=6, n=20, batch=2, work=200,
                                        loop_replicas=4, torch=False),
                 "models": ModelConfig(sizes=((2, 20, 3, 4),), eig_p=12, trace_p=12,
                                       trace_reps=4, scaling_base=(1, 10, 2, 3)),
                 "scale_R": 4, "bandwidth_bytes": 2**20, "matmul": 64,
                 "peers": PeerConfig(replicas=(8,), d=6, n=20, batch=2, work=40, float32=False,
                                     two_layer=((2, 20, 3, 4),), two_layer_steps=2, repeat=1,
                                     compile=False)},
    }


CONFIGS = ("full", "quick", "tiny")

#: How long ``--quick`` takes, measured (``time python -m benchmarks --quick`` on a shared
#: 2-core machine: 708 s wall at load average ~8, 197 s of CPU, of which timing the whole
#: ``implreg verify`` took 207 s wall), so that the help does not promise less than the run.
QUICK_DURATION = ("12 minutes measured on a busy 2-core machine, 3.3 of them CPU time, so "
                  "about 4 when idle; --skip-verify saves about 30 %")


def _gpu_row() -> Any:
    from benchmarks._util import Row, gpu_summary  # noqa: PLC0415

    line = gpu_summary()  # "GPU: none (CuPy not installed; torch has no CUDA device)"
    return Row("0 machine", "GPU", None, detail=line.removeprefix("GPU: "))


def resolve_backends(specs: Sequence[str]) -> list[Any]:
    """The :class:`~benchmarks._util.Backend` of each ``--backend`` value (NumPy when none
    is given), checked on this machine before any work: a misspelt name raises
    ``ValueError`` (the closest suggested), a missing library or GPU
    :class:`numerics.backend.BackendUnavailableError`."""
    from benchmarks._util import resolve_backend  # noqa: PLC0415

    out: list[Any] = []
    for spec in specs or ("numpy",):
        be = resolve_backend(spec)
        if be not in out:  # `--backend torch --backend torch:cpu` runs once
            out.append(be)
    return out


def _backend_references(be: Any, cfg: dict[str, Any], host_bw: float,
                        host_flops: float) -> tuple[float, float, list[Any]]:
    """Copy bandwidth and matmul rate of backend ``be``'s memory and BLAS, and their rows.

    Host backends share the host's memory (its NumPy copy bandwidth); a GPU's bandwidth is
    measured on the device. The matmul rate is each backend's own (NumPy's is the
    reference already measured).
    """
    from benchmarks._util import Row  # noqa: PLC0415

    if be.name == "numpy":
        return host_bw, host_flops, []
    rows = []
    bw = host_bw
    if be.on_gpu:
        bw = be.copy_bandwidth(cfg["bandwidth_bytes"])
        rows.append(Row("0 machine", be.tag("copy bandwidth (reference)"), bw / 1e9, unit="GB/s",
                        detail=f"device copy of {cfg['bandwidth_bytes'] // 2**20} MiB, read + write"))
    flops = be.matmul_rate(cfg["matmul"])
    rows.append(Row("0 machine", be.tag("matmul rate (reference)"), flops / 1e9, unit="GFLOP/s",
                    detail=f"float64 {cfg['matmul']}² matmul through the array API"))
    return bw, flops, rows


def run_suite(config: str = "full", *, skip_verify: bool = False, sections: Sequence[str] = (),
              backends: Sequence[str] = ("numpy",), progress: Any = None) -> dict[str, Any]:
    """Run the suite and return ``{"machine", "config", "backends", "rows", "seconds"}``.

    Parameters
    ----------
    config
        ``"full"`` (longer than ``"quick"``), ``"quick"`` (see :data:`QUICK_DURATION`) or
        ``"tiny"`` (seconds; used by the tests).
    skip_verify
        Do not time the whole ``implreg verify``.
    sections
        Run only these sections (``engine``, ``two_layer``, ``sharpness``, ``symbolic``,
        ``scaling``, ``curvature``, ``peers``); all by default.
    backends
        The array backends (``--backend`` values: ``numpy``, ``array_api_strict``,
        ``torch``, ``torch:cuda[:N]``, ``cupy``) the engine and two-layer sections and their
        scaling rows run on, one after another; every row of theirs starts with the
        backend's label (``[numpy] …``). The other sections run on NumPy.
    progress
        Called with a short description before each section.
    """
    from benchmarks._util import copy_bandwidth, machine_info, matmul_rate  # noqa: PLC0415
    from benchmarks.engine import bench_engine, bench_engine_scaling  # noqa: PLC0415
    from benchmarks.models import bench_sharpness, bench_two_layer, bench_two_layer_scaling  # noqa: PLC0415
    from benchmarks.symbolic import bench_symbolic  # noqa: PLC0415

    cfgs = _configs()
    if config not in cfgs:
        raise ValueError(f"config must be one of {', '.join(CONFIGS)}; got {config!r}")
    known = SECTIONS
    bad = [s for s in sections if s not in known]
    if bad:
        raise ValueError(f"unknown section {bad[0]!r}; sections are {', '.join(known)}")
    want = set(sections or known)
    bes = resolve_backends(backends)
    cfg = cfgs[config]
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    from benchmarks import _util  # noqa: PLC0415

    _util.MAX_REPEAT = 1 if config == "tiny" else 100
    say("measuring copy bandwidth and matmul rate")
    bw = copy_bandwidth(cfg["bandwidth_bytes"])
    flops = matmul_rate(cfg["matmul"])
    from benchmarks._util import Row  # noqa: PLC0415

    rows = [Row("0 machine", "copy bandwidth (reference)", bw / 1e9, unit="GB/s",
                detail=f"np.copyto of {cfg['bandwidth_bytes'] // 2**20} MiB, read + write"),
            Row("0 machine", "matmul rate (reference)", flops / 1e9, unit="GFLOP/s",
                detail=f"float64 {cfg['matmul']}² matmul"),
            _gpu_row()]
    refs = {be.label: (bw, flops) for be in bes}
    for be in bes if want & {"engine", "two_layer", "scaling"} else ():
        if be.name != "numpy":
            say(f"measuring {'copy bandwidth and ' if be.on_gpu else ''}matmul rate on {be.label}")
        be_bw, be_flops, more = _backend_references(be, cfg, bw, flops)
        refs[be.label] = (be_bw, be_flops)
        rows += more
    if "engine" in want:
        for be in bes:
            say(f"replica engine on {be.label}")
            rows += bench_engine(cfg["engine"], refs[be.label][0], be)
    if "two_layer" in want:
        for be in bes:
            say(f"two-layer networks on {be.label}")
            rows += bench_two_layer(cfg["models"], refs[be.label][1], be)
    if "sharpness" in want:
        say("sharpness")
        rows += bench_sharpness(cfg["models"])
    if "symbolic" in want:
        say("symbolic layer")
        rows += bench_symbolic(skip_verify=skip_verify or config == "tiny",
                               repeat=1 if config == "tiny" else 3,
                               build_all=config != "tiny")
    if "scaling" in want:
        for be in bes:
            say(f"scaling on {be.label}")
            rows += bench_engine_scaling(cfg["engine"], cfg["scale_R"], be=be)
            rows += bench_two_layer_scaling(cfg["models"], be=be)
    if "peers" in want:
        from benchmarks.peers import bench_peers  # noqa: PLC0415

        say("peers (JAX, PyTorch)")
        rows += bench_peers(cfg["peers"])
    if "curvature" in want:
        say("curvature against curvlinops and hessian-eigenthings")
        from benchmarks.curvature import bench_curvature  # noqa: PLC0415

        rows += bench_curvature(tiny=config == "tiny")
    return {"machine": machine_info(), "config": config, "backends": [be.label for be in bes],
            "rows": [r.to_dict() for r in rows], "seconds": time.perf_counter() - t0}


def _fmt(v: Any, unit: str) -> str:
    if v is None:
        return "—"
    text = f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3g}"
    return f"{text}{unit}" if unit == "×" else (f"{text} {unit}" if unit else text)


def render(report: dict[str, Any], console: Any = None) -> None:
    """Print the report as a rich table (and the machine it ran on)."""
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    con = console or (Console() if sys.stdout.isatty() else Console(width=160))
    m = report["machine"]
    # Text from the measurements is escaped: rich reads "[torch]" in an install hint
    # ("pip install 'implreg[torch]'") as a markup tag and drops it.
    on = ", ".join(report.get("backends") or ["numpy"])
    table = Table(title=escape(f"implreg benchmarks ({report['config']}) on {on} — "
                               f"{m['nproc']} × {m['cpu']}, NumPy {m['numpy']}, BLAS {m['blas']}"))
    for col in ("section", "benchmark", "value", "target", "status"):
        table.add_column(col, no_wrap=col != "benchmark",
                         justify="right" if col == "value" else "left")
    table.add_column("detail", overflow="fold")
    for r in report["rows"]:
        status = {True: "[green]meets[/]", False: "[bold red]short[/]", None: ""}[r["ok"]]
        table.add_row(escape(r["section"]), escape(r["name"]), escape(_fmt(r["value"], r["unit"])),
                      escape(r["target"]), status, escape(r["detail"]))
    con.print(table)
    con.print(f"suite ran in {report['seconds']:.0f} s")


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown table (what README's Performance section shows)."""
    m = report["machine"]
    lines = [f"{m['nproc']} cores of an {m['cpu']}, Python {m['python']}, NumPy {m['numpy']}, "
             f"BLAS {m['blas']}; suite ({report['config']}; backends "
             f"{', '.join(report.get('backends') or ['numpy'])}) ran in {report['seconds']:.0f} s.", "",
             "| section | benchmark | value | target | status |", "|---|---|---|---|---|"]
    for r in report["rows"]:
        status = {True: "meets", False: "short", None: ""}[r["ok"]]
        value = _fmt(r["value"], r["unit"])
        if r["value"] is None and r["detail"]:
            value = r["detail"]
        cells = (r["section"], r["name"], value, r["target"], status)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: Any) -> str:
    """A Markdown table cell: a ``|`` inside (as in ``|a − b|``) would end the cell."""
    return str(text).replace("|", "\\|")


#: The sections of the suite, in the order they run.
SECTIONS = ("engine", "two_layer", "sharpness", "symbolic", "scaling", "peers", "curvature")


def _section(text: str) -> str:
    """``--section``: one of :data:`SECTIONS` (the closest suggested, a case slip first)."""
    if text in SECTIONS:
        return text
    import difflib  # noqa: PLC0415

    close = [s for s in SECTIONS if s.lower() == text.lower()] or difflib.get_close_matches(
        text, SECTIONS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise argparse.ArgumentTypeError(f"expected one of {', '.join(SECTIONS)}; got {text!r}{hint}")


def _backend(text: str) -> str:
    """``--backend``: a spelling :func:`benchmarks._util.parse_backend` accepts (whether it
    runs on this machine is checked before the suite starts)."""
    from benchmarks._util import parse_backend  # noqa: PLC0415

    try:
        parse_backend(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path; got {text!r}")
    return text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, as `implreg bench` prints it
        self.exit(2, f"benchmarks: error: {message} (see `{self.prog} --help`)\n")


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or _Parser(prog="python -m benchmarks", description="implreg's performance suite")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", const="quick", dest="config",
                      help=f"smaller sizes and fewer repeats ({QUICK_DURATION})".replace("%", "%%"))
    size.add_argument("--tiny", action="store_const", const="tiny", dest="config",
                      help="the smoke configuration of the tests (seconds)")
    p.add_argument("--skip-verify", action="store_true",
                   help="do not time the whole `implreg verify`")
    p.add_argument("--json", type=_path, metavar="PATH", default=None,
                   help="also write the report as JSON")
    p.add_argument("--markdown", type=_path, metavar="PATH", default=None,
                   help="also write the table as Markdown (README's Performance section)")
    p.add_argument("--section", type=_section, action="append", default=[], metavar="NAME",
                   help=f"run only this section ({', '.join(SECTIONS)}); repeatable")
    p.add_argument("--backend", type=_backend, action="append", default=[], metavar="NAME",
                   help="run the engine and two-layer sections (and their scaling rows) on this "
                        "array backend: numpy (default), array_api_strict, torch (CPU), "
                        "torch:cuda[:N], cupy; repeatable (each backend runs those sections "
                        "once more), each row tagged with its backend; a backend missing here "
                        "(no GPU, library not installed) is refused before the suite starts")
    p.set_defaults(config="full")
    return p


def _check_output(path: str, flag: str) -> Path:
    """Check, writing nothing, that ``path`` can be written as a file: not a directory,
    in an existing directory where a file can be created (probed by creating and removing
    one: ``os.access`` says yes to root even on a read-only file system)."""
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"{flag} {path!r} is a directory; give a file name")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        what = "is a file" if parent.exists() else "does not exist"
        raise ValueError(f"{flag}: directory {str(parent)!r} {what}")
    try:
        if out.exists():
            with open(out, "ab"):
                pass
        else:
            with tempfile.NamedTemporaryFile(dir=parent, prefix=".implreg-probe-"):
                pass
    except OSError as exc:
        raise ValueError(f"{flag}: cannot write {path!r} ({exc.strerror or exc})") from None
    return out


def run_from_args(args: argparse.Namespace) -> int:
    """Run the suite as parsed by :func:`build_parser`; print the table, write the JSON.

    Output paths and backends are checked before the suite runs, so a typo (or a GPU that
    is not there) costs seconds, not the run.
    """
    paths = {opt: _check_output(getattr(args, opt), f"--{opt}")
             for opt in ("json", "markdown") if getattr(args, opt, None) is not None}
    if len(paths) == 2 and os.path.abspath(paths["json"]) == os.path.abspath(paths["markdown"]):
        raise ValueError(f"--json and --markdown both name {args.json!r}; give two files")
    backends = [be.spec for be in resolve_backends(getattr(args, "backend", None) or ())]
    if args.config == "quick":
        print(f"benchmarks: the quick suite takes {QUICK_DURATION}", file=sys.stderr)
    report = run_suite(args.config, skip_verify=args.skip_verify, sections=args.section,
                       backends=backends, progress=lambda msg: print(f"benchmarks: {msg} ...", file=sys.stderr))
    render(report)
    if "json" in paths:
        paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
        print(f"benchmarks: JSON written to {args.json}", file=sys.stderr)
    if "markdown" in paths:
        paths["markdown"].write_text(to_markdown(report), encoding="utf-8")
        print(f"benchmarks: Markdown written to {args.markdown}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    from numerics.backend import BackendUnavailableError  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    try:
        return run_from_args(args)
    except (ValueError, BackendUnavailableError) as exc:
        print(f"benchmarks: error: {exc}", file=sys.stderr)
        return 2
