"""Sweeps on Dask: per-cell storage, resume after interruption, failures, scheduler address."""

from __future__ import annotations

import hashlib
import json
import logging
import socket

import numpy as np
import pytest

from tests.verify import _sweep_cells as cells
from verify.cli import main
from verify.sweeps import (
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
    ("k=1.5", "'k' must be an int; got '1.5'"),
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
    (["sweep", "sgd_stability", "--grid", "batch=two"], "'batch' must be an int"),
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
