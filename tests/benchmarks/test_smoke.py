"""The benchmark suite runs (tiny configuration, no timing assertions): it keeps working."""

from __future__ import annotations

import json

import pytest

from benchmarks import main, run_suite


def test_tiny_suite_reports_every_section(tmp_path, capsys) -> None:
    path = tmp_path / "bench.json"
    assert main(["--tiny", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    sections = {r["section"] for r in report["rows"]}
    assert {"0 machine", "1 replica engine", "2 two-layer", "3 sharpness", "4 symbolic",
            "5 scaling"} <= sections
    names = " ".join(r["name"] for r in report["rows"])
    for needle in ("per-replica loop", "bandwidth roofline", "PyTorch", "matmul rate",
                   "HVP cost", "Lanczos ÷ eigsh", "Hutch++", "import theory", "implreg list",
                   "implreg verify", "lambdified", "exponent", "peak memory ÷ state"):
        assert needle in names, needle
    assert report["machine"]["nproc"] >= 1
    assert "implreg benchmarks (tiny)" in capsys.readouterr().out


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
