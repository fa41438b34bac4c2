"""``--backend``: the engine and two-layer sections run on any array namespace and report the
same rows (tiny configuration, no timing assertions).

``array_api_strict`` keeps the device code path honest: it refuses what only NumPy allows
(NumPy functions on its arrays, implicit conversions), which is what would break on CuPy or
a CUDA tensor, and it runs on every machine, CI included.
"""

from __future__ import annotations

import importlib.util
import math
import re

import pytest

from benchmarks import main, run_suite

SECTIONS = ("engine", "two_layer", "scaling")
BACKEND_SECTIONS = ("1 replica engine", "2 two-layer", "5 scaling")
TAG = re.compile(r"^\[([^\]]+)\] (.*)$")


def _by_backend(report: dict) -> dict[str, list[dict]]:
    """The rows of the backend-run sections, by the label in front of their names."""
    out: dict[str, list[dict]] = {}
    for r in report["rows"]:
        if r["section"] in BACKEND_SECTIONS:
            m = TAG.match(r["name"])
            assert m, f"row without a backend label: {r['name']!r}"
            out.setdefault(m.group(1), []).append({**r, "name": m.group(2)})
    return out


@pytest.fixture(scope="module")
def strict_report() -> dict:
    return run_suite("tiny", sections=SECTIONS, backends=["numpy", "array_api_strict"])


def _check_values(rows: list[dict], label: str) -> None:
    """Measured values are finite; rates, ratios and fractions are positive; a row without a
    value says why (skipped, or not measured on this backend)."""
    for r in rows:
        v = r["value"]
        if v is None:
            assert r["detail"].startswith(("skipped", f"not measured on {label}")), r
            continue
        assert math.isfinite(v), r
        if "exponent" in r["name"]:
            continue  # a slope: any sign (and meaningless at tiny sizes)
        if "page faults" in r["name"]:
            assert v >= 0, r
        else:
            assert v > 0, r


def test_array_api_strict_reports_the_rows_of_numpy(strict_report) -> None:
    rows = _by_backend(strict_report)
    assert set(rows) == {"numpy", "array_api_strict"}
    assert strict_report["backends"] == ["numpy", "array_api_strict"]
    assert [r["name"] for r in rows["array_api_strict"]] == [r["name"] for r in rows["numpy"]]
    assert {r["section"] for r in rows["array_api_strict"]} == set(BACKEND_SECTIONS)
    _check_values(rows["array_api_strict"], "array_api_strict")
    # array_api_strict wraps NumPy arrays: everything measured on NumPy is measured on it too
    # (peak memory by tracemalloc, page faults in a fresh process).
    measured = {b: [r["name"] for r in rows[b] if r["value"] is not None] for b in rows}
    assert measured["array_api_strict"] == measured["numpy"]
    assert any("peak memory" in n for n in measured["array_api_strict"])
    assert any("page faults" in n for n in measured["array_api_strict"])
    ref = [r for r in strict_report["rows"]
           if r["name"] == "[array_api_strict] matmul rate (reference)"]
    assert len(ref) == 1 and ref[0]["value"] > 0


def _in_this_process(call: str) -> float:
    """What :func:`benchmarks._util.fresh_process` evaluates, evaluated here (a new process
    would spend seconds importing PyTorch again)."""
    module, expr = call.split(":", 1)
    return float(eval(f"m.{expr}", {"m": importlib.import_module(module)}))  # noqa: S307


def test_torch_cpu_reports_the_rows_of_numpy(strict_report, monkeypatch) -> None:
    pytest.importorskip("torch")
    from benchmarks import engine, models  # noqa: PLC0415

    for mod in (engine, models):
        monkeypatch.setattr(mod, "fresh_process", _in_this_process)
    report = run_suite("tiny", sections=("engine", "two_layer"), backends=["torch"])
    rows = _by_backend(report)
    assert set(rows) == {"torch CPU"}
    numpy_names = [r["name"] for r in _by_backend(strict_report)["numpy"]
                   if r["section"] != "5 scaling"]
    assert [r["name"] for r in rows["torch CPU"]] == numpy_names
    _check_values(rows["torch CPU"], "torch CPU")
    # PyTorch's CPU allocator is invisible to tracemalloc: said, not reported as a number.
    peak = [r for r in rows["torch CPU"] if "peak memory" in r["name"]]
    assert peak and all(r["value"] is None and "not measured on torch CPU" in r["detail"]
                        for r in peak)


def _has_gpu() -> bool:
    if importlib.util.find_spec("cupy") is not None:
        return True
    if importlib.util.find_spec("torch") is not None:
        import torch  # noqa: PLC0415

        return bool(torch.cuda.is_available())
    return False


def test_section_0_says_in_one_line_that_there_is_no_gpu(strict_report) -> None:
    if _has_gpu():
        pytest.skip("this machine may have a GPU")
    from benchmarks._util import gpu_summary  # noqa: PLC0415

    torch_state = ("torch not installed" if importlib.util.find_spec("torch") is None
                   else "torch has no CUDA device")
    assert gpu_summary() == f"GPU: none (CuPy not installed; {torch_state})"
    gpu = [r for r in strict_report["rows"] if r["section"] == "0 machine" and r["name"] == "GPU"]
    assert len(gpu) == 1 and gpu[0]["value"] is None
    assert gpu[0]["detail"] == f"none (CuPy not installed; {torch_state})"


@pytest.fixture
def no_suite(monkeypatch):
    import benchmarks

    def forbidden(*a, **k):
        raise AssertionError("the suite ran despite a bad --backend")

    monkeypatch.setattr(benchmarks, "run_suite", forbidden)


def _refused(argv: list[str], capsys) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:  # refused while parsing (argparse exits)
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def test_a_gpu_backend_without_a_gpu_is_one_line_and_exit_2(capsys, no_suite) -> None:
    if importlib.util.find_spec("cupy") is None:
        assert _refused(["--tiny", "--backend", "cupy"], capsys) == (
            "benchmarks: error: backend 'cupy' is not installed (No module named 'cupy'); "
            "install it with: pip install 'implreg[gpu]'  (CuPy for CUDA 12; needs an NVIDIA "
            "GPU and driver)")
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed: torch:cuda is refused as cupy is above")
    import torch  # noqa: PLC0415

    if torch.cuda.is_available():
        pytest.skip("torch has a CUDA device here")
    # --quick announces how long it takes: the refusal must come before that line.
    assert _refused(["--quick", "--backend", "numpy", "--backend", "torch:cuda"], capsys) == (
        f"benchmarks: error: --backend torch:cuda: torch {torch.__version__} has no CUDA device "
        "here; use --backend torch for the CPU")


@pytest.mark.parametrize(("value", "message"), [
    ("nump", "expected one of numpy, array_api_strict, torch, torch:cuda[:N], cupy; got 'nump'; "
             "did you mean 'numpy'?"),
    ("Torch", "expected one of numpy, array_api_strict, torch, torch:cuda[:N], cupy; got 'Torch'; "
              "did you mean 'torch'?"),
    ("jax", "expected one of numpy, array_api_strict, torch, torch:cuda[:N], cupy; got 'jax'"),
    ("torch:gpu", "expected torch, torch:cpu, torch:cuda or torch:cuda:N; got 'torch:gpu'"),
    ("torch:cuda:x", "expected torch, torch:cpu, torch:cuda or torch:cuda:N; got 'torch:cuda:x'"),
    ("cupy:1", "only torch takes a device (torch:cuda, torch:cuda:N); got 'cupy:1'"),
])
def test_a_misspelt_backend_is_one_line_and_exit_2(value, message, capsys, no_suite) -> None:
    assert _refused(["--tiny", "--backend", value], capsys) == (
        f"benchmarks: error: argument --backend: {message} (see `python -m benchmarks --help`)")


def test_help_names_the_backends() -> None:
    from benchmarks import build_parser  # noqa: PLC0415

    text = " ".join(build_parser().format_help().split())
    assert "--backend NAME" in text
    for name in ("numpy (default)", "array_api_strict", "torch (CPU)", "torch:cuda[:N]", "cupy"):
        assert name in text, name


def test_a_device_backend_synchronizes_every_timing_and_skips_host_page_faults(monkeypatch) -> None:
    """No GPU here: a stand-in that says it is one (array_api_strict arrays, a counting
    sync) checks that every timing of sections 1 and 2 waits for the device and that the
    host page-fault rows are said not to be measured rather than counted."""
    from benchmarks import _configs, _util, engine, models  # noqa: PLC0415
    from benchmarks._util import Backend, resolve_backend  # noqa: PLC0415

    class Device(Backend):
        @property
        def on_gpu(self) -> bool:
            return True

        def sync(self) -> None:
            synced.append(1)

    synced: list[int] = []
    be = Device("array_api_strict", None, resolve_backend("array_api_strict").xp, "device")
    timed: list[object] = []
    real = _util.best_time

    def counting(fn, **kw):
        timed.append(kw.get("sync"))
        return real(fn, **kw)

    monkeypatch.setattr(_util, "MAX_REPEAT", 1)
    for mod in (engine, models):
        monkeypatch.setattr(mod, "best_time", counting)
    cfg = _configs()["tiny"]
    rows = engine.bench_engine(cfg["engine"], 1e10, be) + models.bench_two_layer(cfg["models"], 1e9, be)
    assert timed and all(s == be.sync for s in timed)
    assert len(synced) == 2 * len(timed)  # before the clock starts and before it is read
    faults = [r for r in rows if "page faults" in r.name]
    assert len(faults) == 2 and all(
        r.value is None and r.detail == "not measured on device: host page faults do not count "
                                        "device memory" for r in faults)
