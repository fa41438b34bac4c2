"""A table of bad inputs, each with the exact line a researcher reads.

Command line: every row exits with status 2 before any work (the functions that would run
checks, mutants, benchmarks, sweeps or draw figures are replaced by ones that fail the
test), prints exactly one line on stderr — compared whole, with the scratch folder's path
filled in — prints nothing on stdout, writes nothing, and returns within seconds.

Python API: ``run_check``, :class:`~verify.outcome.Outcome`, :class:`~verify.tolerance.Tolerance`
and the tolerance helpers raise ``ValueError``/``TypeError`` (or ``UnknownResultError``)
with one line naming the argument, the rule and the value.

Also here: ``--examples`` given to checks that run a fixed experiment is said, not ignored
in silence.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import theory
from verify import tolerance as tol
from verify.cli import main
from verify.outcome import Outcome
from verify.runner import run_check
from verify.tolerance import Tolerance

CORES = os.cpu_count() or 1
BACKENDS = "numpy, array_api_strict, torch, cupy"
COMMANDS = "list, derive, verify, power, figure, bench, sweep, compare"
SECTIONS = "engine, two_layer, sharpness, symbolic, scaling, peers, curvature"
STAB_AXES = "eta, batch, n, p, a, s, steps, replicas, backend, seed"
GRID_FORMS = "expected KEY=V1,V2,... or KEY=LO:HI:NUM"
EXAMPLES_CAP = ("at most 1,000,000 examples per check (at 0.01–1 s an example that is "
                "already 3 hours to 12 days)")
MISSING_DIR = "No such file or directory"  # strerror of ENOENT, as /proc answers a new file


def _help(cmd: str) -> str:
    return f" (see `implreg {cmd} --help`)"


def _arg(cmd: str, flag: str, rule: str) -> str:
    """The line of an argument refused while parsing."""
    return f"argument {flag}: {rule}{_help(cmd)}"


def _grid(axis: str, doc: str, rule: str, got: str) -> str:
    return f"grid axis {axis!r} ({doc}) must be {rule}; got {got}"


# (argv, the line after "implreg: error: "); {T} is the scratch folder, holding a-file.txt
# (a file) and a-dir/ (a directory); {cores} the machine's cores.
CLI_ROWS: list[tuple[str, str]] = [
    # ----------------------------------------------------------------- commands
    ("", f"give a command: {COMMANDS} (see `implreg --help`)"),
    ("nosuch", f"unknown command 'nosuch' (commands: {COMMANDS}; see `implreg --help`)"),
    ("VERIFY", f"unknown command 'VERIFY'; did you mean 'verify'? (commands: {COMMANDS}; "
               "see `implreg --help`)"),
    ("drive linear.gd_limit", f"unknown command 'drive'; did you mean 'derive'? (commands: "
                              f"{COMMANDS}; see `implreg --help`)"),
    ("--bogus", f"unknown option '--bogus' (commands: {COMMANDS}; see `implreg --help`)"),
    # ----------------------------------------------------------------- list
    ("list extra", "unrecognized argument 'extra' for `implreg list` (see `implreg list --help`)"),
    ("list --jsn", "unrecognized argument '--jsn' for `implreg list`; did you mean '--json'? "
                   "(see `implreg list --help`)"),
    # ----------------------------------------------------------------- derive
    ("derive", "the following arguments are required: id" + _help("derive")),
    ("derive nosuch", "unknown result id 'nosuch' (`implreg list` shows every id)"),
    ("derive LINEAR.GD_LIMIT", "unknown result id 'LINEAR.GD_LIMIT'; did you mean "
                               "linear.gd_limit? (ids are lower case; `implreg list` shows every id)"),
    ("derive linear.gd_limt", "unknown result id 'linear.gd_limt'; did you mean linear.gd_limit, "
                              "linear.sgd_limit, linear.scaled_gd_limit? (`implreg list` shows every id)"),
    ("derive linear.gd_limit extra",
     "unrecognized argument 'extra' for `implreg derive` (see `implreg derive --help`)"),
    ("derive linear.gd_limit --latex --sympy",
     "argument --sympy: not allowed with argument --latex" + _help("derive")),
    ("derive linear.gd_limit --ltex", "unrecognized argument '--ltex' for `implreg derive`; did "
                                      "you mean '--latex'? (see `implreg derive --help`)"),
    # ----------------------------------------------------------------- verify: selectors
    ("verify nosuch", "unknown id or topic 'nosuch' (`implreg list` shows every id)"),
    ("verify LINEAR", "unknown id or topic 'LINEAR'; did you mean linear? (ids are lower case; "
                      "`implreg list` shows every id)"),
    ("verify Linear.gd_limit", "unknown id or topic 'Linear.gd_limit'; did you mean "
                               "linear.gd_limit? (ids are lower case; `implreg list` shows every id)"),
    ("verify linear.gd_limt", "unknown id or topic 'linear.gd_limt'; did you mean linear.gd_limit, "
                              "linear.sgd_limit, linear.scaled_gd_limit? (`implreg list` shows every id)"),
    ("verify --bogus", "unrecognized argument '--bogus' for `implreg verify` (see `implreg verify --help`)"),
    ("verify --exmples 3", "unrecognized argument '--exmples' for `implreg verify`; did you mean "
                           "'--examples'? (see `implreg verify --help`)"),
    ("verify --JSON", "unrecognized argument '--JSON' for `implreg verify`; did you mean '--json'? "
                      "(see `implreg verify --help`)"),
    # ----------------------------------------------------------------- verify: --seed
    ("verify linear.gd_limit --seed", _arg("verify", "--seed", "expected one argument")),
    ("verify linear.gd_limit --seed -1", _arg("verify", "--seed", "expected a non-negative integer; got -1")),
    ("verify linear.gd_limit --seed 1.5",
     _arg("verify", "--seed", "expected a non-negative integer; got '1.5'")),
    ("verify linear.gd_limit --seed nan",
     _arg("verify", "--seed", "expected a non-negative integer; got 'nan'")),
    ("verify linear.gd_limit --seed abc",
     _arg("verify", "--seed", "expected a non-negative integer; got 'abc'")),
    ("verify linear.gd_limit --seed 4294967296",
     _arg("verify", "--seed", "at most 4,294,967,295 = 2³² − 1 (seeds are 32-bit); got 4,294,967,296")),
    ("verify linear.gd_limit --seed 100000000000000000000000",
     _arg("verify", "--seed", "at most 4,294,967,295 = 2³² − 1 (seeds are 32-bit); got "
                              "100,000,000,000,000,000,000,000")),
    # ----------------------------------------------------------------- verify: --examples
    ("verify linear.gd_limit --examples 0",
     _arg("verify", "--examples", "expected a positive integer; got 0")),
    ("verify linear.gd_limit --examples -3",
     _arg("verify", "--examples", "expected a positive integer; got -3")),
    ("verify linear.gd_limit --examples 2.5",
     _arg("verify", "--examples", "expected a positive integer; got '2.5'")),
    ("verify linear.gd_limit --examples abc",
     _arg("verify", "--examples", "expected a positive integer; got 'abc'")),
    ("verify linear.gd_limit --examples 1e9",
     _arg("verify", "--examples", f"{EXAMPLES_CAP}; got 1,000,000,000")),
    ("verify linear.gd_limit --examples 1000001",
     _arg("verify", "--examples", f"{EXAMPLES_CAP}; got 1,000,001")),
    # ----------------------------------------------------------------- verify: --backend
    ("verify linear.gd_limit --backend nosuch",
     _arg("verify", "--backend", f"expected one of {BACKENDS}; got 'nosuch'")),
    ("verify linear.gd_limit --backend NUMPY",
     _arg("verify", "--backend", f"expected one of {BACKENDS}; got 'NUMPY'; did you mean 'numpy'?")),
    ("verify linear.gd_limit --backend numpi",
     _arg("verify", "--backend", f"expected one of {BACKENDS}; got 'numpi'; did you mean 'numpy'?")),
    ("verify linear.gd_limit --backend ''",
     _arg("verify", "--backend", f"expected one of {BACKENDS}; got ''")),
    # ----------------------------------------------------------------- verify: --report
    ("verify linear.gd_limit --report {T}/a-file.txt",
     "--report '{T}/a-file.txt' is a file; give a directory"),
    ("verify linear.gd_limit --report {T}/a-file.txt/sub",
     "--report: '{T}/a-file.txt' is a file, so the directory '{T}/a-file.txt/sub' cannot be made"),
    ("verify linear.gd_limit --report /proc/implreg-report",
     f"--report: cannot write in '/proc' for '/proc/implreg-report' ({MISSING_DIR})"),
    ("verify linear.gd_limit --report ''", _arg("verify", "--report", "expected a path; got ''")),
    # ----------------------------------------------------------------- power
    ("power nosuch", "unknown id or topic 'nosuch' (`implreg list` shows every id)"),
    ("power linear.gd_limit --budget -1",
     _arg("power", "--budget", "expected a positive, finite number of seconds; got '-1'")),
    ("power linear.gd_limit --budget 0",
     _arg("power", "--budget", "expected a positive, finite number of seconds; got '0'")),
    ("power linear.gd_limit --budget nan",
     _arg("power", "--budget", "expected a positive, finite number of seconds; got 'nan'")),
    ("power linear.gd_limit --budget inf",
     _arg("power", "--budget", "expected a positive, finite number of seconds; got 'inf'")),
    ("power linear.gd_limit --budget abc",
     _arg("power", "--budget", "expected a positive, finite number of seconds; got 'abc'")),
    ("power linear.gd_limit --max-mutants 0",
     _arg("power", "--max-mutants", "expected a positive integer; got 0")),
    ("power linear.gd_limit --max-mutants x",
     _arg("power", "--max-mutants", "expected a positive integer; got 'x'")),
    ("power linear.gd_limit --workers 0", _arg("power", "--workers", "expected a positive integer; got 0")),
    ("power linear.gd_limit --workers 100000",
     _arg("power", "--workers", "at most the machine's {cores} cores; got 100,000")),
    ("power linear.gd_limit --examples 1e9",
     _arg("power", "--examples", f"{EXAMPLES_CAP}; got 1,000,000,000")),
    ("power linear.gd_limit --seed -1", _arg("power", "--seed", "expected a non-negative integer; got -1")),
    ("power linear.gd_limit --json {T}/a-dir", "--json '{T}/a-dir' is a directory; give a file name"),
    ("power linear.gd_limit --json {T}/a-file.txt/p.json",
     "--json: '{T}/a-file.txt' is a file, so '{T}/a-file.txt/p.json' cannot be written under it"),
    ("power linear.gd_limit --json {T}/missing/p.json", "--json: directory '{T}/missing' does not exist"),
    ("power linear.gd_limit --json /proc/p.json",
     f"--json: cannot write in '/proc' for '/proc/p.json' ({MISSING_DIR})"),
    ("power linear.gd_limit --figure {T}/p.txt", "--figure must end in .png, .pdf or .svg; got '{T}/p.txt'"),
    ("power linear.gd_limit --figure {T}/a-dir",
     "--figure '{T}/a-dir' is a directory; give a file name ending in .png, .pdf or .svg"),
    ("power linear.gd_limit --json {T}/same.png --figure {T}/same.png",
     "--json and --figure both name '{T}/same.png'; give two files"),
    # ----------------------------------------------------------------- figure
    ("figure", "the following arguments are required: id, --out" + _help("figure")),
    ("figure linear.gd_limit", "the following arguments are required: --out" + _help("figure")),
    ("figure nosuch --out {T}/f.png", "unknown result id 'nosuch' (`implreg list` shows every id)"),
    ("figure LINEAR.GD_LIMIT --out {T}/f.png",
     "unknown result id 'LINEAR.GD_LIMIT'; did you mean linear.gd_limit? (ids are lower case; "
     "`implreg list` shows every id)"),
    ("figure linear.gd_limit --out {T}/a-dir",
     "--out '{T}/a-dir' is a directory; give a file name ending in .png, .pdf or .svg"),
    ("figure linear.gd_limit --out {T}/f.txt", "--out must end in .png, .pdf or .svg; got '{T}/f.txt'"),
    ("figure linear.gd_limit --out {T}/f", "--out must end in .png, .pdf or .svg; got '{T}/f'"),
    ("figure linear.gd_limit --out {T}/missing/f.png", "--out: directory '{T}/missing' does not exist"),
    ("figure linear.gd_limit --out {T}/a-file.txt/f.png",
     "--out: '{T}/a-file.txt' is a file, so '{T}/a-file.txt/f.png' cannot be written under it"),
    ("figure linear.gd_limit --out /proc/f.png",
     f"--out: cannot write in '/proc' for '/proc/f.png' ({MISSING_DIR})"),
    ("figure linear.gd_limit --out ''", _arg("figure", "--out", "expected a path; got ''")),
    ("figure linear.gd_limit --out {T}/f.png --backend nosuch",
     _arg("figure", "--backend", f"expected one of {BACKENDS}; got 'nosuch'")),
    ("figure linear.gd_limit --out {T}/f.png extra",
     "unrecognized argument 'extra' for `implreg figure` (see `implreg figure --help`)"),
    # ----------------------------------------------------------------- bench
    ("bench --bogus", "unrecognized argument '--bogus' for `implreg bench` (see `implreg bench --help`)"),
    ("bench --quik", "unrecognized argument '--quik' for `implreg bench`; did you mean '--quick'? "
                     "(see `implreg bench --help`)"),
    ("bench --quick --tiny", "argument --tiny: not allowed with argument --quick" + _help("bench")),
    ("bench --section nosuch", _arg("bench", "--section", f"expected one of {SECTIONS}; got 'nosuch'")),
    ("bench --section Engine",
     _arg("bench", "--section", f"expected one of {SECTIONS}; got 'Engine'; did you mean 'engine'?")),
    ("bench --quick --section nosuch",  # refused before the notice of how long --quick takes
     _arg("bench", "--section", f"expected one of {SECTIONS}; got 'nosuch'")),
    ("bench --backend nump", _arg("bench", "--backend", "expected one of numpy, array_api_strict, torch, "
                                  "torch:cuda[:N], cupy; got 'nump'; did you mean 'numpy'?")),
    ("bench --backend torch:gpu",
     _arg("bench", "--backend", "expected torch, torch:cpu, torch:cuda or torch:cuda:N; got 'torch:gpu'")),
    ("bench --json {T}/a-dir", "--json '{T}/a-dir' is a directory; give a file name"),
    ("bench --json {T}/a-file.txt/b.json",
     "--json: directory '{T}/a-file.txt' is a file"),
    ("bench --json {T}/missing/b.json", "--json: directory '{T}/missing' does not exist"),
    ("bench --json /proc/b.json", f"--json: cannot write '/proc/b.json' ({MISSING_DIR})"),
    ("bench --markdown /proc/b.md", f"--markdown: cannot write '/proc/b.md' ({MISSING_DIR})"),
    ("bench --json ''", _arg("bench", "--json", "expected a path; got ''")),
    ("bench --json {T}/same --markdown {T}/same",
     "--json and --markdown both name '{T}/same'; give two files"),
    ("bench extra", "unrecognized argument 'extra' for `implreg bench` (see `implreg bench --help`)"),
    # ----------------------------------------------------------------- sweep: names and modes
    ("sweep", "name a sweep (implreg sweep NAME, one of model_sgd_stability, sgd_stability, two_layer_test_error) "
              "or use --list"),
    ("sweep nosuch", "unknown sweep 'nosuch' (known: model_sgd_stability, sgd_stability, two_layer_test_error)"),
    ("sweep SGD_STABILITY", "unknown sweep 'SGD_STABILITY'; did you mean 'sgd_stability'? "
                            "(known: model_sgd_stability, sgd_stability, two_layer_test_error)"),
    ("sweep sgd_stabilty", "unknown sweep 'sgd_stabilty'; did you mean 'sgd_stability'? "
                           "(known: model_sgd_stability, sgd_stability, two_layer_test_error)"),
    ("sweep --list nosuch", "unknown sweep 'nosuch' (known: model_sgd_stability, sgd_stability, two_layer_test_error)"),
    ("sweep sgd_stability extra",
     "unrecognized argument 'extra' for `implreg sweep` (see `implreg sweep --help`)"),
    ("sweep --list --grid eta=1",
     "--list shows the declared grids and takes no --grid (drop it, or drop --list to run)"),
    ("sweep --list --plot",
     "--list shows the declared grids and takes no --plot (drop it, or drop --list to run)"),
    ("sweep sgd_stability --plot --workers 2",
     "--plot draws the stored records and runs nothing, so --workers does not apply "
     "(drop it, or drop --plot to run)"),
    ("sweep sgd_stability --plot --retry-failed",
     "--plot draws the stored records and runs nothing, so --retry-failed does not apply "
     "(drop it, or drop --plot to run)"),
    ("sweep sgd_stability --scheduler tcp://127.0.0.1:1 --workers 2",
     "--workers sizes the local cluster only; a cluster at --scheduler is sized where it runs "
     "(drop --workers)"),
    ("sweep sgd_stability --scheduler nonsense",
     _arg("sweep", "--scheduler", "expected a Dask scheduler's address like tcp://host:port; "
                                  "got 'nonsense'")),
    # ----------------------------------------------------------------- sweep: --grid syntax
    ("sweep sgd_stability --grid nosuch=1",
     f"unknown grid axis 'nosuch' of sweep 'sgd_stability' (known: {STAB_AXES})"),
    ("sweep sgd_stability --grid ETA=0.1",
     f"unknown grid axis 'ETA' of sweep 'sgd_stability'; did you mean 'eta'? (known: {STAB_AXES})"),
    ("sweep sgd_stability --grid eta=", f"malformed --grid 'eta=': {GRID_FORMS}"),
    ("sweep sgd_stability --grid =1", f"malformed --grid '=1': {GRID_FORMS}"),
    ("sweep sgd_stability --grid eta", f"malformed --grid 'eta': {GRID_FORMS}"),
    ("sweep sgd_stability --grid eta:1", f"malformed --grid 'eta:1': {GRID_FORMS}; did you mean 'eta=1'?"),
    ("sweep sgd_stability --grid eta=,",
     "malformed --grid eta=,: an empty entry between commas; expected KEY=V1,V2,..."),
    ("sweep sgd_stability --grid eta=0.1,,0.2",
     "malformed --grid eta=0.1,,0.2: an empty entry between commas; expected KEY=V1,V2,..."),
    ("sweep sgd_stability --grid eta=0:1",
     "malformed range for 'eta': expected LO:HI:NUM (finite LO, HI; integer NUM >= 1); got '0:1'"),
    ("sweep sgd_stability --grid eta=0:1:0",
     "malformed range for 'eta': expected LO:HI:NUM (finite LO, HI; integer NUM >= 1); got '0:1:0'"),
    ("sweep sgd_stability --grid eta=0.1:1:1000000",
     "range for 'eta' asks for 1,000,000 values; at most 100,000"),
    ("sweep sgd_stability --grid eta=0.5:0.5:3",
     "range for 'eta' repeats 0.5 3 times ('0.5:0.5:3'); give NUM=1 or a wider range"),
    ("sweep sgd_stability --grid eta=0.1 --grid eta=0.2",
     "--grid gives 'eta' twice; give all its values in one --grid eta=V1,V2,..."),
    ("sweep sgd_stability --grid eta=0.5,0.5",
     "grid axis 'eta' lists 0.5 twice; give each value once (a repeated value is the same cell)"),
    ("sweep sgd_stability --grid eta=0.5,0.50",
     "grid axis 'eta' lists 0.5 twice ('0.50' is 0.5); give each value once (a repeated value "
     "is the same cell)"),
    # ----------------------------------------------------------------- sweep: axis domains
    ("sweep sgd_stability --grid batch=0",
     _grid("batch", "batch size B, drawn without replacement", "an int in [1, n]", "0")),
    ("sweep sgd_stability --grid batch=32",
     "grid axis 'batch' (batch size B, drawn without replacement) must be ≤ n (an int in [1, n]); "
     "got batch=32 with n=16"),
    ("sweep sgd_stability --grid batch=1.5", "grid axis 'batch' must be an integer; got '1.5'"),
    ("sweep sgd_stability --grid batch=true", "grid axis 'batch' must be an integer; got 'true'"),
    ("sweep sgd_stability --grid eta=-1", _grid("eta", "learning rate η", "a float > 0", "-1.0")),
    ("sweep sgd_stability --grid eta=0", _grid("eta", "learning rate η", "a float > 0", "0.0")),
    ("sweep sgd_stability --grid eta=nan", "grid axis 'eta' must be a finite float; got 'nan'"),
    ("sweep sgd_stability --grid eta=inf", "grid axis 'eta' must be a finite float; got 'inf'"),
    ("sweep sgd_stability --grid eta=abc", "grid axis 'eta' must be a finite float; got 'abc'"),
    ("sweep sgd_stability --grid replicas=0",
     _grid("replicas", "trajectories R per cell", "an int ≥ 1", "0")),
    ("sweep sgd_stability --grid n=1", _grid("n", "samples; non-uniformity needs two", "an int ≥ 2", "1")),
    ("sweep sgd_stability --grid n=1000000000000000000000000000",
     "grid axis 'n' (samples; non-uniformity needs two) must fit in 64 bits (|value| < 2⁶³, as "
     "records store it); got '1000000000000000000000000000'"),
    ("sweep sgd_stability --grid s=-1", _grid("s", "non-uniformity λ_max(Σ)^½", "a float ≥ 0", "-1.0")),
    ("sweep sgd_stability --grid steps=-1",
     _grid("steps", "SGD steps T, also the record interval", "an int ≥ 1", "-1")),
    ("sweep sgd_stability --grid steps=0",
     _grid("steps", "SGD steps T, also the record interval", "an int ≥ 1", "0")),
    ("sweep sgd_stability --grid backend=nosuch",
     _grid("backend", "array library", f"one of {BACKENDS}", "'nosuch'")),
    ("sweep sgd_stability --grid backend=NUMPY",
     _grid("backend", "array library", f"one of {BACKENDS}", "'NUMPY'; did you mean 'numpy'?")),
    ("sweep sgd_stability --grid seed=-1", "--grid seed: seeds must be non-negative integers; got -1"),
    ("sweep sgd_stability --grid seed=a", "--grid seed: seeds must be non-negative integers; got 'a'"),
    ("sweep sgd_stability --grid seed=0,0", "--grid seed: seeds must be distinct; got 0 twice in [0, 0]"),
    ("sweep sgd_stability --grid eta=0.1:2:100000 --grid batch=1,2,4,8,16 --grid seed=0:10:11",
     "the grid of sweep 'sgd_stability' has 5,500,000 cells (100,000 eta × 5 batch × 11 seeds); "
     "at most 1,000,000 per run"),
    ("sweep two_layer_test_error --grid m=0", _grid("m", "width", "an int ≥ 1", "0")),
    ("sweep two_layer_test_error --grid steps=-1",
     _grid("steps", "GD steps; 0 evaluates the initialization", "an int ≥ 0", "-1")),
    ("sweep two_layer_test_error --grid lr=0", _grid("lr", "step η·m", "a float > 0", "0.0")),
    ("sweep two_layer_test_error --grid beta=-0.1",
     _grid("beta", "std of the outer layer at init", "a float ≥ 0", "-0.1")),
    # ----------------------------------------------------------------- sweep: run options
    ("sweep sgd_stability --connect-timeout nan",
     _arg("sweep", "--connect-timeout", "expected a positive, finite number of seconds; got 'nan'")),
    ("sweep sgd_stability --connect-timeout -1",
     _arg("sweep", "--connect-timeout", "expected a positive, finite number of seconds; got '-1'")),
    ("sweep sgd_stability --connect-timeout abc",
     _arg("sweep", "--connect-timeout", "expected a positive, finite number of seconds; got 'abc'")),
    ("sweep sgd_stability --connect-timeout 0",
     _arg("sweep", "--connect-timeout", "expected a positive, finite number of seconds; got '0'")),
    ("sweep sgd_stability --workers 0", _arg("sweep", "--workers", "expected a positive integer; got 0")),
    ("sweep sgd_stability --workers 100000",
     "--workers must be at most the machine's {cores} cores; got 100000 (for more, start a Dask "
     "cluster and give --scheduler)"),
    ("sweep sgd_stability --out {T}/a-file.txt", "--out '{T}/a-file.txt' is a file; give a directory"),
    ("sweep sgd_stability --out {T}/a-file.txt/sub",
     "--out: '{T}/a-file.txt' is a file, so the directory '{T}/a-file.txt/sub' cannot be made"),
    ("sweep sgd_stability --out /proc/implreg-sweeps",
     f"--out: cannot write in '/proc' for '/proc/implreg-sweeps' ({MISSING_DIR})"),
    ("sweep sgd_stability --out ''", _arg("sweep", "--out", "expected a path; got ''")),
    ("sweep sgd_stability --plot --out {T}/a-file.txt", "--out '{T}/a-file.txt' is a file; give a directory"),
    ("sweep sgd_stability --plot --out {T}/a-dir",  # nothing stored there
     "no stored results for sweep 'sgd_stability' under {T}/a-dir/sgd_stability; run "
     "`implreg sweep sgd_stability --out {T}/a-dir` first"),
]


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> Path:
    t = tmp_path_factory.mktemp("bad-inputs")
    (t / "a-file.txt").write_text("keep")
    (t / "a-dir").mkdir()
    return t


@pytest.fixture
def no_work(monkeypatch):
    """Every function that does a command's work fails the test: bad input must stop first."""
    import benchmarks
    import verify.mutate
    import verify.report
    import verify.runner
    import verify.sweeps.runner

    def forbidden(*a, **k):
        raise AssertionError("work started despite bad input")

    for mod, name in [(verify.runner, "run_checks"), (verify.runner, "run_check"),
                      (verify.mutate, "measure_many"), (verify.report, "write_report"),
                      (verify.report, "draw_figure"), (verify.report, "power_figure"),
                      (benchmarks, "run_suite"), (verify.sweeps.runner, "run_sweep"),
                      (verify.sweeps.runner, "connect"), (verify.sweeps.runner, "execute_cell")]:
        monkeypatch.setattr(mod, name, forbidden)


def _fill(text: str, space: Path) -> str:
    return text.replace("{T}", str(space)).replace("{cores}", str(CORES))


def _tree(space: Path) -> dict[str, str]:
    return {str(p): p.read_text() if p.is_file() else "/" for p in space.rglob("*")}


def _run(argv: list[str]) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - t0


def test_the_table_is_large_and_has_no_repeats() -> None:
    argvs = [a for a, _ in CLI_ROWS]
    assert len(argvs) >= 100 and len(set(argvs)) == len(argvs)


@pytest.mark.parametrize(("argv", "expected"), CLI_ROWS, ids=[a or "(nothing)" for a, _ in CLI_ROWS])
def test_bad_cli_input(argv: str, expected: str, space: Path, no_work) -> None:
    if "/proc/" in argv and not os.path.isdir("/proc"):
        pytest.skip("needs Linux's /proc, which refuses new files even to root")
    args = shlex.split(_fill(argv, space))
    before = _tree(space)
    code, out, err, seconds = _run(args)
    assert err.strip() == "implreg: error: " + _fill(expected, space), err
    assert code == 2 and out == "" and "Traceback" not in err
    assert _tree(space) == before, "wrote something although it refused the input"
    # no_work is the guard against work; this bound only catches a hang (the first refusal in
    # a process may import theory's registry, seconds on a loaded 2-core machine).
    assert seconds < 60, f"{seconds:.1f} s to refuse {args}"


@pytest.mark.parametrize("backend, hint", [("cupy", "implreg[gpu]"), ("torch", "implreg[torch]")])
@pytest.mark.parametrize("cmd", ["verify linear.gd_limit", "figure linear.gd_limit --out {T}/f.png",
                                 "sweep sgd_stability --out {T}/sw --grid backend={b}", "bench --tiny"])
def test_a_backend_not_installed_names_its_install_command(backend, hint, cmd, space, no_work) -> None:
    """A known backend whose library is missing: one line with the install command."""
    import importlib.util

    if importlib.util.find_spec(backend) is not None:
        pytest.skip(f"{backend} is installed here")
    argv = _fill(cmd, space).replace("{b}", backend).split()
    if "{b}" not in cmd:
        argv += ["--backend", backend]
    code, out, err, _ = _run(argv)
    line = err.strip()
    assert code == 2 and out == "" and len(line.splitlines()) == 1
    assert line.startswith(f"implreg: error: backend {backend!r} is not installed (No module named "
                           f"'{backend}'); install it with: pip install '{hint}'"), line


@pytest.mark.parametrize("argv", ["verify --seed -1", "sweep sgd_stability --grid batch=0",
                                  "bench --section nosuch", "nosuch"])
def test_the_console_script_answers_the_same(argv: str, capsys) -> None:
    """``python -m verify`` (what ``implreg`` runs) prints the same line and status as
    :func:`verify.cli.main` in the test process."""
    code = main(argv.split())
    expected = capsys.readouterr().err
    proc = subprocess.run([sys.executable, "-m", "verify", *argv.split()], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert (proc.returncode, proc.stdout, proc.stderr) == (code, "", expected) and code == 2


# --------------------------------------------------------------------------- Python API
def _not_a_gd_limit() -> object:
    return theory.get("linear.gd_iterate")


API_ROWS = [
    (lambda: run_check("nosuch"), KeyError, "unknown result id 'nosuch' (`implreg list` shows every id)"),
    (lambda: run_check("linear.gd_limit", examples=2.5), TypeError,
     "examples must be an int in [1, 1,000,000] or None; got 2.5"),
    (lambda: run_check("linear.gd_limit", examples=True), TypeError,
     "examples must be an int in [1, 1,000,000] or None; got True"),
    (lambda: run_check("linear.gd_limit", examples=0), ValueError,
     "examples must be an int in [1, 1,000,000]; got 0"),
    (lambda: run_check("linear.gd_limit", examples=10**9), ValueError,
     "examples must be an int in [1, 1,000,000]; got 1,000,000,000"),
    (lambda: run_check("linear.gd_limit", backend="nosuch"), ValueError,
     f"backend must be one of {BACKENDS}; got 'nosuch'"),
    (lambda: run_check("linear.gd_limit", seed=-1), ValueError,
     "seed must be an int in [0, 4,294,967,295]; got -1"),
    (lambda: run_check("linear.gd_limit", seed=1.5), TypeError,
     "seed must be an int in [0, 4,294,967,295] or None; got 1.5"),
    (lambda: run_check("linear.gd_limit", shrink="no"), TypeError, "shrink must be True or False; got 'no'"),
    (lambda: run_check("linear.gd_limit", result=_not_a_gd_limit()), ValueError,
     "result must be a Result of 'linear.gd_limit' (or a mutant of it); got the Result of "
     "'linear.gd_iterate'"),
    (lambda: run_check("linear.gd_limit", result=42), TypeError,
     "result must be a Result of 'linear.gd_limit' (or a mutant of it); got int 42"),
    (lambda: Tolerance(math.nan, "why"), ValueError, "Tolerance value must be a finite number; got nan (reason: why)"),
    (lambda: Tolerance(math.inf, "why"), ValueError, "Tolerance value must be a finite number; got inf (reason: why)"),
    (lambda: Tolerance(1e-3, None), TypeError, "Tolerance reason must be a str; got NoneType"),
    (lambda: Outcome.close(1.0, 1.0, Tolerance(-1e-3, "why")), ValueError,
     "tolerance of a 'close' comparison must be >= 0 (|observed − predicted| ≤ -0.001 never "
     "holds); got -0.001 (reason: why)"),
    (lambda: Tolerance("small", "why"), TypeError, "Tolerance value must be a number; got 'small'"),
    (lambda: Outcome.close(1.0, 1.0, 0.1), TypeError,
     "tolerance must be a verify.tolerance.Tolerance (the number and its reason); got float 0.1"),
    (lambda: Outcome.at_most(1.0, 2.0, Tolerance(math.nan, "nan budget")), ValueError,
     "Tolerance value must be a finite number; got nan (reason: nan budget)"),
    (lambda: Outcome.close(np.ones(3), 1.0, Tolerance(0.0, "exact")), TypeError,
     "predicted must be a number (a float or a 0-d array); got an array of shape (3,)"),
    (lambda: Outcome.at_least([1.0, 2.0], 1.0, Tolerance(0.0, "exact")), TypeError,
     "observed must be a number (a float or a 0-d array); got [1.0, 2.0]"),
    (lambda: Outcome(1.0, 1.0, 0.0, True, "about"), ValueError,
     "relation must be one of close, at_most, at_least; got 'about'"),
    (lambda: tol.z_value(0.0), ValueError, "alpha must be a false-alarm probability in (0, 1); got 0.0"),
    (lambda: tol.z_value(math.nan), ValueError, "alpha must be a false-alarm probability in (0, 1); got nan"),
    (lambda: tol.z_value(1e-6, m=0), ValueError, "m must be an integer >= 1; got 0"),
    (lambda: tol.z_value(1e-6, m=2.5), TypeError, "m must be an integer >= 1; got 2.5"),
    (lambda: tol.t_value(0), ValueError, "df must be an integer >= 1; got 0"),
    (lambda: tol.monte_carlo(1.0, 1), ValueError, "N must be >= 2 for a Monte Carlo error bar; got 1"),
    (lambda: tol.monte_carlo(1.0, 10, alpha=1.5), ValueError,
     "alpha must be a false-alarm probability in (0, 1); got 1.5"),
    (lambda: tol.sign_critical(0, 0.05), ValueError, "trials must be an integer >= 1; got 0"),
    (lambda: tol.binomial_critical(10, 1.5, 0.05), ValueError, "p0 must be a probability in [0, 1]; got 1.5"),
    (lambda: tol.contraction(1.0, 3, 1.0), ValueError, "rate must be a contraction factor in [0, 1); got 1.0"),
    (lambda: tol.contraction(0.5, -1, 1.0), ValueError, "steps must be an integer >= 0; got -1"),
]


@pytest.mark.parametrize(("call", "kind", "message"), API_ROWS,
                         ids=[m[:60] for _, _, m in API_ROWS])
def test_bad_api_input(call, kind, message) -> None:
    with pytest.raises(kind) as info:
        call()
    assert str(info.value) == message


def test_a_nan_standard_deviation_is_refused_with_the_tolerance_reason() -> None:
    """A Monte Carlo error bar of a NaN spread (a diverged simulation) fails loudly, naming
    where the number came from, instead of a comparison that can never pass."""
    with pytest.raises(ValueError, match=r"^Tolerance value must be a finite number; got nan "
                                         r"\(reason: Monte Carlo: t·σ̂/√N .* σ̂ = nan, N = 10\)$"):
        tol.monte_carlo(math.nan, 10)


def test_a_negative_tolerance_is_a_margin_in_one_sided_comparisons() -> None:
    """``at_least(o, b, t < 0)`` asks for o ≥ b + |t| (strictly above beyond rounding)."""
    margin = Tolerance(-0.5, "margin")
    assert Outcome.at_least(1.6, 1.0, margin).passed and not Outcome.at_least(1.4, 1.0, margin).passed
    assert Outcome.at_most(0.4, 1.0, margin).passed and not Outcome.at_most(0.6, 1.0, margin).passed


# --------------------------------------------------------------------------- --examples
FIXED = "diagonal.scale_limits"  # a fixed experiment (no strategy), a few seconds
DRAWN = "linear.gd_iterate"      # Hypothesis-drawn parameters, fast


def test_examples_on_a_fixed_experiment_is_said_and_recorded(capsys) -> None:
    code = main(["verify", FIXED, DRAWN, "--examples", "2", "--json"])
    captured = capsys.readouterr()
    rows = {r["id"]: r for r in json.loads(captured.out)}
    notes = [ln for ln in captured.err.splitlines() if "--examples" in ln]
    assert code == 0
    assert notes == [f"implreg: note: --examples does not apply to fixed-experiment checks: "
                     f"{FIXED}; they run once"]
    fixed, drawn = rows[FIXED], rows[DRAWN]
    assert (fixed["fixed_experiment"], fixed["examples_requested"], fixed["examples_ignored"],
            fixed["examples"]) == (True, 2, True, 1)
    assert (drawn["fixed_experiment"], drawn["examples_requested"], drawn["examples_ignored"],
            drawn["examples"]) == (False, 2, False, 2)


@pytest.mark.parametrize("argv", [["verify", FIXED], ["verify", DRAWN, "--examples", "1"]])
def test_no_note_when_examples_applies_or_is_not_given(argv, capsys, monkeypatch) -> None:
    import verify.runner

    monkeypatch.setattr(verify.runner, "run_checks", lambda ids, **k: [])  # only the note matters
    assert main(argv) == 0
    assert "note" not in capsys.readouterr().err


def test_power_says_it_too(capsys, monkeypatch) -> None:
    import verify.mutate

    monkeypatch.setattr(verify.mutate, "measure_many", lambda ids, **k: [])
    assert main(["power", FIXED, "--examples", "3"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"implreg: note: --examples does not apply to fixed-experiment checks: {FIXED}; " \
           "they run once" in err


def test_figure_of_a_result_without_one_names_those_with_one(space, no_work, capsys) -> None:
    """Refused before the backend, the path or any drawing: with the figures of the topic."""
    from verify.registry import get_figure

    have = [i for i in theory.ids("linear") if get_figure(i) is not None]
    assert "linear.gd_limit" in have and get_figure("linear.gd_iterate") is None
    code = main(["figure", "linear.gd_iterate", "--out", str(space / "f.png"), "--backend", "cupy"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == ("implreg: error: linear.gd_iterate has no figure; results of "
                                 f"linear with one: {', '.join(have)}")
    assert not (space / "f.png").exists()
