"""Sweeps on Dask: per-cell storage, resume after interruption, failures, scheduler address."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket

import numpy as np
import pytest

from tests.verify import _sweep_cells as cells
from verify.cli import main
from verify.sweeps import (
    MAX_CELLS,
    Axis,
    Cell,
    CellStore,
    Sweep,
    SweepError,
    connect,
    get_sweep,
    load_results,
    parse_grid,
    plot_sweep,
    run_sweep,
)

distributed = pytest.importorskip("distributed")

VOLATILE = {"seconds", "worker"}  # differ between runs of the same cell by design

POWER = Sweep("power", cells.power_cell, grid={"x": (1.0, 2.0, 3.0, 4.0), "k": (1, 2, 3),
                                               "sleep": (0.01,)}, seeds=(0, 1),
              axes=("x", "k"))


@pytest.fixture(scope="module")
def client():
    """Two single-threaded workers in this process: starts in ~0.1 s, and the cell
    functions share memory with the test (their calls are counted)."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c
    cluster.close()


def _rows(table) -> list[dict]:
    return sorted(({k: v for k, v in r.items() if k not in VOLATILE} for r in table.to_pylist()),
                  key=lambda r: r["key"])


# ------------------------------------------------------------------------ cells and grids
def test_cell_key_is_sha256_of_canonical_json() -> None:
    text = '{"params":{"eta":0.3,"k":2},"seed":1,"sweep":"toy","version":"1"}'
    c = Cell("toy", {"k": 2, "eta": 0.3}, seed=1)
    assert c.canonical() == text
    assert c.key == hashlib.sha256(text.encode()).hexdigest()[:20]


def test_grid_values_are_normalized_so_keys_match() -> None:
    s = Sweep("toy", cells.power_cell, grid={"x": (0.1 + 0.2,), "k": (2,)})
    g, seeds = parse_grid(["x=0.3", "k=2.0", "seed=4"], s)
    assert g == {"x": (0.3,), "k": (2,)} and seeds == (4,)
    assert s.cells(seeds=[4])[0].key == s.cells(g, seeds)[0].key
    assert parse_grid(["x=0:1:5"], s)[0]["x"] == (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.mark.parametrize(("item", "match"), [
    ("x", "malformed --grid 'x'"),
    ("x=", "malformed --grid"),
    ("x=1,,2", "empty entry"),
    ("xx=1", "unknown grid axis 'xx'.*did you mean 'x'"),
    ("k=1.5", "'k' must be an integer; got '1.5'"),
    ("x=nan", "'x' must be a finite float"),
    ("x=0:1", "expected LO:HI:NUM"),
    ("seed=-1", "seeds must be non-negative"),
])
def test_parse_grid_rejects_bad_items(item: str, match: str) -> None:
    with pytest.raises(SweepError, match=match):
        parse_grid([item], POWER)


def test_parse_grid_rejects_repeated_key() -> None:
    with pytest.raises(SweepError, match="gives 'x' twice"):
        parse_grid(["x=1", "x=2"], POWER)


def test_sweep_rejects_bad_definitions() -> None:
    with pytest.raises(TypeError, match="one type"):
        Sweep("bad", cells.power_cell, grid={"x": (1, 2.0)})
    with pytest.raises(ValueError, match="reserved column"):
        Sweep("bad", cells.power_cell, grid={"seed": (1,)})
    with pytest.raises(ValueError, match="no values"):
        Sweep("bad", cells.power_cell, grid={"x": ()})
    with pytest.raises(SweepError, match="did you mean 'sgd_stability'"):
        get_sweep("sgd_stabilty")


# ------------------------------------------------------------------------ running
def test_sweep_on_two_workers_stores_every_cell(client, tmp_path) -> None:
    s = run_sweep(POWER, out=tmp_path, client=client)
    assert (s.total, s.computed, s.stored_before, s.failed) == (24, 24, 0, 0) and s.complete
    rows = load_results(POWER, out=tmp_path).to_pylist()
    assert len(rows) == 24 and {r["status"] for r in rows} == {"ok"}
    for r in rows:  # the parameters are stored with the record they produced
        assert r["y"] == r["x"] ** r["k"] + r["seed"] and r["odd"] == (r["k"] % 2 == 1)
        assert r["key"] == Cell("power", {"x": r["x"], "k": r["k"], "sleep": 0.01}, r["seed"]).key
    assert len({r["worker"] for r in rows}) == 2  # both workers took cells
    again = run_sweep(POWER, out=tmp_path, client=client)
    assert again.computed == 0 and again.stored_before == 24  # never recomputed


def test_interrupted_sweep_resumes_with_only_missing_cells(client, tmp_path) -> None:
    full = run_sweep(POWER, out=tmp_path / "full", client=client)
    assert full.computed == 24

    k = 7

    def stop_after_k(cell, status) -> None:
        if len(CellStore(tmp_path / "cut", "power").status()) >= k:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(POWER, out=tmp_path / "cut", client=client, on_cell=stop_after_k)
    store = CellStore(tmp_path / "cut", "power")
    first = store.status()
    assert len(first) == k
    stamps = {key: store.path(key).stat().st_mtime_ns for key in first}

    resumed = run_sweep(POWER, out=tmp_path / "cut", client=client)
    assert resumed.stored_before == k and resumed.computed == 24 - k
    assert set(resumed.keys) == {c.key for c in POWER.cells()} - set(first)
    assert {key: store.path(key).stat().st_mtime_ns for key in first} == stamps  # untouched
    assert _rows(load_results(POWER, out=tmp_path / "cut")) == \
        _rows(load_results(POWER, out=tmp_path / "full"))


def test_failing_cell_is_recorded_and_the_others_complete(client, tmp_path) -> None:
    sw = Sweep("power", cells.failing_cell, grid=POWER.grid, seeds=(0, 1))
    s = run_sweep(sw, out=tmp_path, client=client)
    assert (s.computed, s.failed) == (24, 6) and s.complete  # x = 3: 3 values of k × 2 seeds
    rows = load_results(sw, out=tmp_path).to_pylist()
    bad = [r for r in rows if r["status"] == "error"]
    assert {r["x"] for r in bad} == {3.0} and len(bad) == 6
    assert all(r["error"].startswith("ValueError: x = 3 is not allowed") for r in bad)
    assert all("failing_cell" in r["traceback"] and r["y"] is None for r in bad)
    assert all(r["y"] == r["x"] ** r["k"] + r["seed"] for r in rows if r["status"] == "ok")
    assert run_sweep(sw, out=tmp_path, client=client).computed == 0  # failures not retried
    retry = run_sweep(sw, out=tmp_path, client=client, retry_failed=True)
    assert set(retry.keys) == {r["key"] for r in bad} and retry.failed == 6
    # Fixed cell function, same keys: a retry replaces each failure record by the result.
    fixed = run_sweep(POWER, out=tmp_path, client=client, retry_failed=True)
    assert fixed.computed == 6 and fixed.failed == 0
    assert not list((tmp_path / "power").glob("*.failed.parquet"))


def test_bad_record_is_a_cell_failure(client, tmp_path) -> None:
    sw = Sweep("power", _bad_record, grid={"x": (1.0,), "k": (1,)})
    s = run_sweep(sw, out=tmp_path, client=client)
    err = load_results(sw, out=tmp_path).to_pylist()[0]["error"]
    assert s.failed == 1 and "record field 'v' must be a number" in err


def _bad_record(params, seed):
    return {"v": np.ones(3)}


def test_killed_worker_task_is_rescheduled(tmp_path) -> None:
    """A worker process dies while running a cell: Dask reruns the task elsewhere and the
    sweep completes with every record."""
    sw = Sweep("power", cells.killing_cell, grid={"x": (1.0, 2.0, 3.0), "k": (1, 2),
                                                  "marker": (str(tmp_path),)})
    with connect(workers=2, processes=True) as c:
        s = run_sweep(sw, out=tmp_path / "out", client=c)
    assert (tmp_path / "killed-0").exists()  # the worker really was killed
    rows = load_results(sw, out=tmp_path / "out").to_pylist()
    assert s.failed == 0 and len(rows) == 6
    assert all(r["y"] == r["x"] ** r["k"] for r in rows)


# ------------------------------------------------------------------------ scheduler address
def test_scheduler_address_on_loopback(tmp_path, capsys) -> None:
    """A scheduler started here on 127.0.0.1 (TCP), reached by address from the API and
    from the command line; then the stored region is plotted."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       protocol="tcp://", host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    try:
        addr = cluster.scheduler_address
        assert addr.startswith("tcp://127.0.0.1:")
        s = run_sweep(POWER, out=tmp_path, scheduler=addr, grid={"x": (1.0, 2.0)})
        assert s.computed == 12 and s.failed == 0
        grid = ["--grid", "eta=0.5,1.0,2.2", "--grid", "batch=1,16", "--grid", "steps=40",
                "--grid", "replicas=8"]
        code = main(["sweep", "sgd_stability", "--scheduler", addr, "--out", str(tmp_path), *grid])
        assert code == 0, capsys.readouterr().err
        assert "6 computed" in capsys.readouterr().out
        code = main(["sweep", "sgd_stability", "--scheduler", addr, "--out", str(tmp_path), *grid])
        assert code == 0 and "0 computed, 6 already stored" in capsys.readouterr().out
    finally:
        cluster.close()
    assert main(["sweep", "sgd_stability", "--plot", "--out", str(tmp_path)]) == 0
    png = tmp_path / "sgd_stability.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("argv", "match"), [
    (["sweep", "sgd_stabilty"], "unknown sweep 'sgd_stabilty'; did you mean 'sgd_stability'"),
    (["sweep", "sgd_stability", "--grid", "eta"], "malformed --grid 'eta'"),
    (["sweep", "sgd_stability", "--grid", "batch=two"], "'batch' must be an integer"),
    (["sweep", "sgd_stability", "--scheduler", "nonsense"], "address like tcp://host:port"),
    (["sweep", "sgd_stability", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"],
     "--workers sizes the local cluster only"),
    (["sweep"], "name a sweep"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, argv, match) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and pytest.importorskip("re").search(match, err)


def test_cli_unreachable_scheduler_is_one_line_and_exit_2(capsys, tmp_path) -> None:
    addr = f"tcp://127.0.0.1:{_free_port()}"
    code = main(["sweep", "sgd_stability", "--scheduler", addr, "--connect-timeout", "0.5",
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"cannot reach the Dask scheduler at {addr}" in err


def test_cli_list_shows_shipped_sweeps(capsys) -> None:
    assert main(["sweep", "--list"]) == 0
    assert "sgd_stability" in capsys.readouterr().out


def test_plot_without_results_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(SweepError, match="no stored results for sweep 'sgd_stability'"):
        plot_sweep("sgd_stability", out=tmp_path)


def test_stored_rows_are_self_describing(tmp_path, client) -> None:
    run_sweep(POWER, out=tmp_path, client=client, grid={"x": (2.0,), "k": (3,)}, seeds=[5])
    pq = pytest.importorskip("pyarrow.parquet")
    (f,) = (tmp_path / "power").glob("*.parquet")
    t = pq.read_table(f)
    assert json.loads(t.schema.metadata[b"implreg.params"]) == ["x", "k", "sleep"]
    row = t.to_pylist()[0]
    assert (row["x"], row["k"], row["seed"], row["y"]) == (2.0, 3, 5, 13.0)
    assert t.schema.field("k").type == "int64" and t.schema.field("odd").type == "bool"



# ------------------------------------------------------------------------ axis domains
STAB = get_sweep("sgd_stability")


def test_axis_describes_its_domain() -> None:
    assert Axis(int, (1, 2), ge=1, le="n").describe() == "int in [1, n]"
    assert Axis(float, 0.5, gt=0).describe() == "float > 0"
    assert Axis(float, 0.5, gt=0, lt=1).describe() == "float in (0, 1)"
    assert Axis(str, "numpy", choices=("numpy", "torch")).describe() == "one of numpy, torch"
    assert STAB.domains["batch"].describe() == "int in [1, n]"


def test_sweep_definition_is_checked_against_its_domains() -> None:
    with pytest.raises(ValueError, match=r"default grid of sweep 'bad'.*'x' must be a float > 0"):
        Sweep("bad", cells.power_cell, grid={"x": Axis(float, (-1.0,), gt=0)})
    with pytest.raises(ValueError, match="bound le='n' must name a numeric axis"):
        Sweep("bad", cells.power_cell, grid={"x": Axis(int, 1, le="n")})
    with pytest.raises(TypeError, match="bounds need an int or float axis"):
        Axis(str, "a", ge=1)
    with pytest.raises(ValueError, match="'x' lists 1.0 twice"):
        Sweep("bad", cells.power_cell, grid={"x": (1.0, 1.0)})
    with pytest.raises(ValueError, match=r"check_axes \('y',\) must be grid axes"):
        Sweep("bad", cells.power_cell, grid={"x": (1.0,)}, check=print, check_axes=("y",))


#: Every bad grid of the shipped sweeps, with the message that names axis, domain and value.
BAD_GRIDS = [
    ("sgd_stability", ["batch=0"], r"'batch' .* must be an int in \[1, n\]; got 0$"),
    ("sgd_stability", ["batch=17"], r"'batch' .* must be ≤ n .*; got batch=17 with n=16$"),
    ("sgd_stability", ["n=8"], r"'batch' .* must be ≤ n .*; got batch=16 with n=8$"),
    ("sgd_stability", ["eta=-0.5"], r"'eta' \(learning rate η\) must be a float > 0; got -0.5$"),
    ("sgd_stability", ["eta=0"], r"'eta' .* must be a float > 0; got 0.0$"),
    ("sgd_stability", ["eta=nan"], r"'eta' must be a finite float; got 'nan'$"),
    ("sgd_stability", ["eta=inf"], r"'eta' must be a finite float; got 'inf'$"),
    ("sgd_stability", ["backend=nosuch"],
     r"'backend' .* must be one of numpy, array_api_strict, torch, cupy; got 'nosuch'$"),
    ("sgd_stability", ["backend=nunpy"], r"got 'nunpy'; did you mean 'numpy'\?$"),
    ("sgd_stability", ["replicas=0"], r"'replicas' .* must be an int ≥ 1; got 0$"),
    ("sgd_stability", ["n=1"], r"'n' \(samples; non-uniformity needs two\) must be an int ≥ 2; got 1$"),
    ("sgd_stability", ["s=-1"], r"'s' .* must be a float ≥ 0; got -1.0$"),
    ("sgd_stability", ["a=0"], r"'a' .* must be a float > 0; got 0.0$"),
    # Feasible s depends on the random instance: the sweep's check builds it before any cell.
    ("sgd_stability", ["s=1,2"],
     r"grid cells with a=1.0, s=2.0, n=16, p=4, seed=0 cannot run: quadratic_ensemble: s must be <= 1.75"),
    ("sgd_stability", ["steps=-1"], r"'steps' .*record interval\) must be an int ≥ 1; got -1$"),
    ("sgd_stability", ["steps=0"], r"'steps' .*record interval\) must be an int ≥ 1; got 0$"),
    ("sgd_stability", ["steps=2.5"], r"'steps' must be an integer; got '2.5'$"),
    ("sgd_stability", ["etaa=1"], r"unknown grid axis 'etaa' .*did you mean 'eta'\?"),
    ("sgd_stability", ["ETA=1"], r"unknown grid axis 'ETA' .*did you mean 'eta'\?"),
    ("sgd_stability", ["eta=0.5,0.5"], r"'eta' lists 0.5 twice; give each value once"),
    ("sgd_stability", ["eta=0.5,0.50"], r"'eta' lists 0.5 twice \('0.50' is 0.5\)"),
    ("sgd_stability", ["eta=1:1:3"], r"range for 'eta' repeats 1.0 3 times"),
    ("sgd_stability", ["eta=0:1:x"], r"malformed range for 'eta': expected LO:HI:NUM"),
    ("sgd_stability", ["eta=0:inf:3"], r"malformed range for 'eta'"),
    ("sgd_stability", ["eta=0.1:1:1000000"], r"range for 'eta' asks for 1,000,000 values"),
    ("sgd_stability", ["eta=0.1:1:10000", "replicas=1:100:100"],
     rf"has 5,000,000 cells \(10,000 eta × 5 batch × 100 replicas × 1 seed\); at most "
     rf"{MAX_CELLS:,} per run$"),
    ("sgd_stability", ["seed=0,0"], r"seeds must be distinct; got 0 twice"),
    ("sgd_stability", ["eta=1", "eta=2"], r"--grid gives 'eta' twice"),
    ("sgd_stability", ["=1"], r"malformed --grid '=1'"),
    ("two_layer_test_error", ["m=0"], r"'m' \(width\) must be an int ≥ 1; got 0$"),
    ("two_layer_test_error", ["steps=-1"], r"'steps' .* must be an int ≥ 0; got -1$"),
    ("two_layer_test_error", ["lr=-1"], r"'lr' .* must be a float > 0; got -1.0$"),
]


@pytest.mark.parametrize(("name", "items", "match"), BAD_GRIDS,
                         ids=[" ".join(b[1]) for b in BAD_GRIDS])
def test_bad_grid_is_rejected_by_the_declared_domain(name, items, match) -> None:
    with pytest.raises(SweepError, match=match):
        parse_grid(items, get_sweep(name))


def test_good_grid_edges_are_accepted() -> None:
    g, _ = parse_grid(["batch=1,16", "steps=1", "s=0", "eta=0.5:1:2"], STAB)
    assert g == {"batch": (1, 16), "steps": (1,), "s": (0.0,), "eta": (0.5, 1.0)}
    assert parse_grid(["steps=0"], get_sweep("two_layer_test_error"))[0] == {"steps": (0,)}


def test_api_grid_is_checked_before_any_cell(tmp_path) -> None:
    """run_sweep with a bad grid fails before it connects: the client is never used."""
    class NoClient:
        def __getattr__(self, name):
            raise AssertionError(f"client.{name} used")

    with pytest.raises(SweepError, match=r"'batch' .* must be ≤ n"):
        run_sweep(STAB, grid={"batch": (32,)}, out=tmp_path, client=NoClient())
    with pytest.raises(SweepError, match=r"'eta' lists 0.5 twice"):
        run_sweep(STAB, grid={"eta": (0.5, 0.5)}, out=tmp_path, client=NoClient())
    with pytest.raises(SweepError, match="out .* is a file; give a directory"):
        (tmp_path / "f").write_text("x")
        run_sweep(POWER, out=tmp_path / "f", client=NoClient())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


# ------------------------------------------------------------------------ CLI before work
# (the fixture `no_work` is in tests/verify/conftest.py)


def _one_line_exit_2(capsys, argv, match, out) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert pytest.importorskip("re").search(match, err), err
    assert not out.exists() or out.is_file()  # nothing written
    return err


@pytest.mark.parametrize(("name", "items", "match"), BAD_GRIDS,
                         ids=[" ".join(b[1]) for b in BAD_GRIDS])
def test_cli_bad_grid_exits_2_before_any_cell(capsys, tmp_path, no_work, name, items, match) -> None:
    out = tmp_path / "out"
    grid = [a for it in items for a in ("--grid", it)]
    err = _one_line_exit_2(capsys, ["sweep", name, "--out", str(out), *grid],
                           match.rstrip("$"), out)
    assert err.startswith("implreg: error: ")


def test_cli_plot_bad_grid_exits_2(capsys, tmp_path, no_work) -> None:
    _one_line_exit_2(capsys, ["sweep", "sgd_stability", "--plot", "--out", str(tmp_path / "o"),
                              "--grid", "batch=0"], r"'batch' .* must be an int in \[1, n\]",
                     tmp_path / "o")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "abc", "1e400", ""])
def test_cli_bad_connect_timeout(capsys, tmp_path, no_work, value) -> None:
    _one_line_exit_2(capsys, ["sweep", "sgd_stability", "--out", str(tmp_path / "o"),
                              f"--connect-timeout={value}"],
                     r"argument --connect-timeout: expected a positive, finite number of "
                     rf"seconds; got '{value}'", tmp_path / "o")


def test_cli_workers_capped_at_the_cores(capsys, tmp_path, no_work) -> None:
    n = (os.cpu_count() or 1) + 1
    _one_line_exit_2(capsys, ["sweep", "sgd_stability", "--out", str(tmp_path / "o"),
                              "--workers", str(n)],
                     rf"--workers must be at most the machine's {n - 1} cores; got {n} "
                     r"\(for more, start a Dask cluster and give --scheduler\)", tmp_path / "o")
    _one_line_exit_2(capsys, ["sweep", "sgd_stability", "--workers", "0"],
                     "argument --workers: expected a positive integer; got 0", tmp_path / "o")


@pytest.mark.parametrize("kind", ["file", "under a file", "unwritable"])
def test_cli_out_that_cannot_be_written(capsys, tmp_path, no_work, kind) -> None:
    if kind == "unwritable" and not os.path.isdir("/proc"):
        pytest.skip("needs Linux's /proc, which refuses new files even to root")
    f = tmp_path / "f"
    f.write_text("keep")
    out, match = {
        "file": (f, r"--out '.*f' is a file; give a directory"),
        "under a file": (f / "sub", r"--out: '.*f' is a file, so the directory '.*sub' cannot be made"),
        # /proc refuses new files even to root (os.access would say yes to root)
        "unwritable": ("/proc/implreg-out", r"--out: cannot write in '/proc'"),
    }[kind]
    _one_line_exit_2(capsys, ["sweep", "sgd_stability", "--out", str(out)], match, tmp_path / "x")
    _one_line_exit_2(capsys, ["sweep", "sgd_stability", "--plot", "--out", str(out)],
                     match,
                     tmp_path / "x")
    assert f.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_cli_plot_onto_a_directory(capsys, tmp_path, no_work) -> None:
    (tmp_path / "sgd_stability.png").mkdir()
    _one_line_exit_2(capsys, ["sweep", "sgd_stability", "--plot", "--out", str(tmp_path)],
                     r"--out '.*sgd_stability.png' is a directory; give a file name",
                     tmp_path / "x")


def test_cli_waits_for_a_worker_then_times_out(capsys, tmp_path) -> None:
    """A scheduler with no worker: the command says what it waits for and what to start,
    then gives up after --connect-timeout with one line; no cell is stored."""
    cluster = distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                       silence_logs=logging.ERROR)
    try:
        addr = cluster.scheduler_address
        code = main(["sweep", "sgd_stability", "--scheduler", addr, "--connect-timeout", "0.5",
                     "--out", str(tmp_path / "o"), "--grid", "eta=0.5", "--grid", "batch=1"])
    finally:
        cluster.close()
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert lines[0] == (f"implreg: waiting up to 0.5 s for a Dask worker to join the scheduler "
                        f"at {addr}: start one with `dask worker {addr}`")
    assert lines[-1] == (f"implreg: error: no Dask worker joined the scheduler at {addr} within "
                         f"0.5 s (--connect-timeout); start one with `dask worker {addr}`")
    assert len(lines) == 2 and not (tmp_path / "o").exists()


def test_cli_list_prints_the_declared_domains(capsys) -> None:
    assert main(["sweep", "--list"]) == 0
    out = capsys.readouterr().out
    for needle in ("int in [1, n]", "float > 0", "one of numpy, array_api_strict", "int ≥ 2",
                   "GD steps; 0 evaluates the initialization", "two_layer_test_error"):
        assert needle in out, needle


def test_connect_in_process_threads_runs_a_task() -> None:
    """``connect(processes=False)`` (threads on the in-process transport) starts and runs."""
    from verify.sweeps.runner import connect

    with connect(None, workers=1, processes=False) as client:
        assert client.submit(lambda v: v + 1, 41).result() == 42
