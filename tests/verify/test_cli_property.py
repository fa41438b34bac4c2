"""A property of the whole command line: whatever argv a user types, implreg answers with
exit 0, 1 or 2, never a traceback; exit 2 comes with one line naming what was wrong and
writes nothing; and it finishes in bounded time.

Hypothesis builds argv from the CLI's own grammar (subcommands, flags, ids, topics, grid
specs, paths, numbers), valid and invalid. Valid commands that would do real work are kept
cheap (one example, one mutant, a small budget); commands that would run for minutes even
when valid (a full benchmark, a sweep) are only drawn with at least one invalid argument.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import theory
from verify.cli import main

IDS = theory.ids()
TOPICS = theory.topics()
CHEAP = ["stability.gd_threshold", "linear.gd_iterate", "sgd_noise.covariance"]
SPACE = Path(tempfile.mkdtemp(prefix="implreg-cli-property-"))
(SPACE / "a-file.txt").write_text("x")
(SPACE / "a-dir").mkdir(exist_ok=True)


def _typo(s: str) -> st.SearchStrategy[str]:
    return st.sampled_from([s.upper(), s[:-1], s + "x", s.replace(".", "_"), s.replace("_", "")])


ids_any = st.one_of(st.sampled_from(IDS), st.sampled_from(IDS).flatmap(_typo),
                    st.sampled_from(["", "nosuch", "linear.", ".gd_limit", "a b", "-x", "💥"]))
selectors = st.one_of(st.sampled_from(CHEAP), st.sampled_from(["nosuch", "LINEAR", "linear.gd_limt"]))
numbers = st.one_of(st.integers(-3, 3).map(str), st.sampled_from(
    ["0", "-1", "10000000000", "1.5", "nan", "inf", "-inf", "abc", "", "1e3", "0x10"]))
backends = st.sampled_from(["numpy", "nosuch", "cupy", "NUMPY", ""])
# Paths are fresh names in a scratch folder, or the kinds that must be refused.
fresh = st.integers(0, 10**9).map(lambda k: str(SPACE / f"new-{k}"))
bad_paths = st.sampled_from([str(SPACE / "a-file.txt"), str(SPACE / "a-dir"),
                             str(SPACE / "a-file.txt" / "under"), "/proc/implreg-x",
                             str(SPACE / "missing-dir" / "x.png")])


def _with_suffix(s: st.SearchStrategy[str], suffixes: list[str]) -> st.SearchStrategy[str]:
    return st.tuples(s, st.sampled_from(suffixes)).map(lambda t: t[0] + t[1])


@st.composite
def argvs(draw) -> list[str]:
    cmd = draw(st.sampled_from(["list", "derive", "verify", "power", "figure", "sweep", "bench",
                                "nosuch", "--help-me"]))
    argv = [cmd]
    if cmd == "list":
        argv += draw(st.sampled_from([[], ["--json"], ["--bogus"]]))
    elif cmd == "derive":
        argv.append(draw(ids_any))
        argv += draw(st.sampled_from([[], ["--latex"], ["--sympy"], ["--steps"], ["--latex", "--sympy"]]))
    elif cmd == "verify":
        argv += draw(st.lists(selectors, min_size=1, max_size=2))  # never the full run
        argv += ["--examples", draw(st.sampled_from(["1", "0", "-2", "2.5", "x", "10000000000"]))]
        if draw(st.booleans()):
            argv += ["--seed", draw(numbers)]
        if draw(st.booleans()):
            argv += ["--backend", draw(backends)]
        if draw(st.booleans()):
            argv += ["--report", draw(st.one_of(fresh, bad_paths))]
        if draw(st.booleans()):
            argv.append("--json")
    elif cmd == "power":
        argv += draw(st.lists(selectors, min_size=1, max_size=1))
        argv += ["--max-mutants", draw(st.sampled_from(["1", "0", "-1", "x"]))]
        argv += ["--budget", draw(st.sampled_from(["5", "0", "-1", "nan", "inf", "x"]))]
        if draw(st.booleans()):
            argv += ["--json", draw(st.one_of(_with_suffix(fresh, [".json"]), bad_paths))]
        if draw(st.booleans()):
            argv += ["--figure", draw(st.one_of(_with_suffix(fresh, [".png", ".txt"]), bad_paths))]
        if draw(st.booleans()):
            argv += ["--workers", draw(numbers)]
    elif cmd == "figure":
        argv.append(draw(ids_any))
        argv += ["--out", draw(st.one_of(_with_suffix(fresh, [".png", ".svg", ".txt", ""]), bad_paths))]
        if draw(st.booleans()):
            argv += ["--backend", draw(backends)]
    elif cmd == "sweep":
        # never a valid full sweep: at least one bad value
        argv.append(draw(st.sampled_from(["sgd_stability", "two_layer_test_error", "nosuch"])))
        bad = draw(st.sampled_from([
            ["--grid", "batch=0"], ["--grid", "eta=-1"], ["--grid", "eta=nan"],
            ["--grid", "nosuch=1"], ["--grid", "eta"], ["--grid", "backend=nosuch"],
            ["--out", str(SPACE / "a-file.txt")], ["--workers", "100000"],
            ["--workers", "0"], ["--connect-timeout", "-1"], ["--connect-timeout", "nan"]]))
        argv += bad
    elif cmd == "bench":
        argv += draw(st.sampled_from([["--json", str(SPACE / "a-dir")],
                                      ["--markdown", "/proc/implreg-bench.md"],
                                      ["--json", str(SPACE / "a-file.txt" / "x.json")],
                                      ["--bogus"], ["--section", "nosuch"]]))
    return argv


def _snapshot() -> set[str]:
    return {str(p) for p in SPACE.rglob("*")}


@settings(max_examples=int(os.environ.get("IMPLREG_CLI_EXAMPLES", "60")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(argv=argvs())
def test_cli_never_breaks(argv: list[str]) -> None:
    before = _snapshot()
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)   # an uncaught exception here is a traceback for the user
    seconds = time.perf_counter() - t0
    text = err.getvalue()
    assert code in (0, 1, 2), (argv, code, text)
    assert "Traceback" not in text, (argv, text)
    assert seconds < 600, (argv, seconds)  # bounded: tiny examples, one mutant, a small budget
    if code == 2:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        assert len(lines) == 1, (argv, text)
        assert lines[0].startswith("implreg: error:"), (argv, text)
        assert _snapshot() == before, (argv, "wrote files although it refused the input")
