"""The benchmark suite runs (tiny configuration, no timing assertions): it keeps working."""

from __future__ import annotations

import json
import os
import re

import pytest

from benchmarks import main, run_suite


def test_tiny_suite_reports_every_section(tmp_path, capsys) -> None:
    path = tmp_path / "bench.json"
    assert main(["--tiny", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    sections = {r["section"] for r in report["rows"]}
    assert {"0 machine", "1 replica engine", "2 two-layer", "3 sharpness", "4 symbolic",
            "5 scaling", "6 peers", "7 curvature"} <= sections
    _check_curvature_rows([r for r in report["rows"] if r["section"] == "7 curvature"])
    names = " ".join(r["name"] for r in report["rows"])
    for needle in ("per-replica loop", "bandwidth roofline", "PyTorch", "matmul rate",
                   "HVP cost", "Lanczos ÷ eigsh", "Hutch++", "import theory", "implreg list",
                   "implreg verify", "lambdified", "exponent", "peak memory ÷ state",
                   "page faults per step", "peak memory ÷ iterate"):
        assert needle in names, needle
    assert report["machine"]["nproc"] >= 1
    assert "implreg benchmarks (tiny)" in capsys.readouterr().out


def _check_curvature_rows(rows: list) -> None:
    """Section 7 compares with each peer that is installed and says which are not."""
    import importlib.util  # noqa: PLC0415

    text = " ".join(r["name"] + " " + r["detail"] for r in rows)
    if importlib.util.find_spec("torch") is None:
        assert "skipped: PyTorch is not installed" in text
        return
    assert "implreg top eigenvalue" in text
    for name, module in (("curvlinops", "curvlinops"), ("hessian-eigenthings", "hessian_eigenthings")):
        if importlib.util.find_spec(module) is None:
            assert f"{name}" in text and "skipped: not installed" in text
            continue
        agree = [r for r in rows if r["name"] == f"top eigenvalue: |implreg − {name}| / {name}"]
        assert agree and agree[0]["ok"], agree   # the same λ_max to 1e-8 relative


def test_absent_peers_are_skipped_with_the_install_hint(monkeypatch) -> None:
    from benchmarks import peers

    monkeypatch.setattr(peers, "_jax", lambda: None)
    monkeypatch.setattr(peers, "_torch", lambda: None)
    cfg = peers.PeerConfig(replicas=(4,), d=3, n=8, batch=2, work=8, float32=False,
                           two_layer=((1, 8, 2, 3),), two_layer_steps=1, repeat=1)
    rows = peers.bench_peers(cfg)
    skipped = [r.detail for r in rows if r.value is None]
    assert len(skipped) == 4  # JAX and PyTorch, for the engine and for the two-layer net
    assert all("is not installed (pip install 'implreg[bench]')" in d for d in skipped)
    assert [r.name for r in rows if r.value is not None] == [
        "SGD R=4 float64: implreg replica-steps/s", "two-layer GD R=1 n=8 d=2 m=3: implreg ms/step"]


def test_bad_config_and_section_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="config must be one of"):
        run_suite("huge")
    with pytest.raises(ValueError, match="unknown section 'gpu'"):
        run_suite("tiny", sections=["gpu"])
    assert main(["--tiny", "--json", str(tmp_path / "no" / "x.json")]) == 2


def test_implreg_bench_is_wired(capsys) -> None:
    from verify.cli import main as cli  # noqa: PLC0415

    assert cli(["bench", "--tiny", "--section", "sharpness"]) == 0
    assert "Lanczos" in capsys.readouterr().out


# ------------------------------------------------------------------------ bad output paths
@pytest.fixture
def no_suite(monkeypatch):
    """The suite must not start when an output path is bad."""
    import benchmarks

    def forbidden(*a, **k):
        raise AssertionError("the suite ran despite a bad output path")

    monkeypatch.setattr(benchmarks, "run_suite", forbidden)


def _bad_paths(tmp_path):
    f = tmp_path / "f.json"
    f.write_text("keep")
    return f, {
        "a directory": (tmp_path, r"is a directory; give a file name"),
        "under a file": (f / "x.json", r"directory '.*f.json' is a file"),
        "missing directory": (tmp_path / "no" / "x.json", r"directory '.*no' does not exist"),
        # /proc refuses new files even to root (os.access would say yes to root)
        "unwritable": ("/proc/implreg-bench.json", r"cannot write '/proc/implreg-bench.json'"),
    }


@pytest.mark.parametrize("flag", ["--json", "--markdown"])
@pytest.mark.parametrize("kind", ["a directory", "under a file", "missing directory", "unwritable"])
def test_bad_output_path_is_one_line_and_exit_2_before_running(tmp_path, capsys, no_suite,
                                                               flag, kind) -> None:
    if kind == "unwritable" and not os.path.isdir("/proc"):
        pytest.skip("needs Linux's /proc, which refuses new files even to root")
    f, cases = _bad_paths(tmp_path)
    path, match = cases[kind]
    assert main(["--tiny", flag, str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(rf"^benchmarks: error: {flag}:? .*{match}", err), err
    assert f.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
    # The same through `implreg bench`.
    from verify.cli import main as cli  # noqa: PLC0415

    assert cli(["bench", "--tiny", flag, str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(rf"^implreg: error: {flag}", err), err


def test_json_and_markdown_to_the_same_file_is_refused(tmp_path, capsys, no_suite) -> None:
    p = str(tmp_path / "r.txt")
    assert main(["--tiny", "--json", p, "--markdown", p]) == 2
    assert "--json and --markdown both name" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_install_hint_keeps_its_extra_in_the_table() -> None:
    """rich reads "[torch]" as markup unless escaped: the hint must print whole."""
    from io import StringIO  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415

    from benchmarks import render  # noqa: PLC0415
    from benchmarks._util import Row  # noqa: PLC0415

    row = Row("1 replica engine", "÷ batched PyTorch [CPU]", None,
              detail="skipped: torch is not installed (pip install 'implreg[torch]')")
    report = {"machine": {"nproc": 2, "cpu": "x86 [test]", "numpy": "2", "blas": "openblas"},
              "config": "tiny", "rows": [row.to_dict()], "seconds": 1.0}
    buf = StringIO()
    render(report, Console(file=buf, width=300))
    text = buf.getvalue()
    assert "pip install 'implreg[torch]'" in text and "PyTorch [CPU]" in text
    assert "x86 [test]" in text


def test_quick_help_states_the_measured_duration(capsys) -> None:
    from benchmarks import QUICK_DURATION, build_parser  # noqa: PLC0415

    assert "minutes" in QUICK_DURATION and "a minute" not in QUICK_DURATION
    help_text = " ".join(build_parser().format_help().split())
    assert " ".join(QUICK_DURATION.split()) in help_text


def test_markdown_escapes_bars_inside_cells() -> None:
    # "|a − b| / b" in a row name must not split the row into more cells.
    from benchmarks import to_markdown

    report = {"machine": {"nproc": 2, "cpu": "CPU", "python": "3", "numpy": "2", "blas": "x"},
              "config": "tiny", "seconds": 1.0,
              "rows": [{"section": "7", "name": "|a − b| / b", "value": 1e-16, "unit": "",
                        "detail": "", "target": "≤ 1e-8", "ok": True}]}
    row = to_markdown(report).strip().splitlines()[-1]
    assert row.replace("\\|", "").count("|") == 6 and "\\|a − b\\|" in row
