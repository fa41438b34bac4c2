"""The implreg command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import theory
from verify.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_json_has_id_title_source(capsys) -> None:
    code, out, _ = _run(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [r["id"] for r in rows] == theory.ids()
    assert all({"id", "title", "source"} <= set(r) for r in rows)


@pytest.mark.parametrize("rid", theory.ids("linear"))
def test_derive_prints_latex_for_every_linear_id(capsys, rid: str) -> None:
    code, out, _ = _run(capsys, "derive", rid, "--latex")
    assert code == 0 and out.strip().splitlines()[0] == theory.get(rid).latex()


def test_derive_formats(capsys) -> None:
    code = _run(capsys, "derive", "linear.gd_iterate", "--python")[1]
    assert code.startswith("import numpy as np")
    ns: dict = {}
    exec(compile(code, "<derive --python>", "exec"), ns)  # the printed module runs as it is
    # c_k = g/λ + (c_0 − g/λ)(1 − ηλ)^k at c_0 = 1, g = 2, η = 0.1, λ = 1, k = 10 (by hand)
    expected = 2.0 + (1.0 - 2.0) * 0.9**10
    assert abs(ns["linear_gd_iterate"](c_0=1.0, eta=0.1, g_j=2.0, k=10, lambda_j=1.0) - expected) < 1e-15
    assert "Eq(" in _run(capsys, "derive", "linear.gd_iterate", "--sympy")[1]
    assert "[1]" in _run(capsys, "derive", "linear.gd_iterate", "--steps")[1]
    assert "linear.gd_iterate" in _run(capsys, "derive", "linear.gd_iterate")[1]


def test_verify_json_and_exit_status(capsys) -> None:
    code, out, _ = _run(capsys, "verify", "linear.convex_norm_bound", "linear.gd_iterate",
                        "--json", "--examples", "2")
    rows = json.loads(out)
    assert code == 0
    assert [r["id"] for r in rows] == ["linear.convex_norm_bound", "linear.gd_iterate"]  # as asked
    for r in rows:
        assert {"id", "passed", "predicted", "observed", "tolerance", "backend", "seconds"} <= set(r)
        assert r["passed"] and r["backend"] == "numpy"


def test_verify_table(capsys) -> None:
    code, out, _ = _run(capsys, "verify", "linear.gd_iterate", "--examples", "1", "--seed", "3")
    assert code == 0 and "linear.gd_iterate" in out and "1/1 checks passed" in out


@pytest.mark.parametrize("argv, message", [
    (["verify", "linear.gd_limt"], "did you mean linear.gd_limit"),
    (["verify", "--backend", "numpi"], "did you mean 'numpy'"),
    (["verify", "--examples", "-3"], "expected a positive integer"),
    (["verify", "--seed", "-1"], "non-negative integer"),
    (["derive", "nope"], "unknown result id 'nope'"),
    (["figure", "linear.gd_limit", "--out", "/nonexistent-dir/x.png"], "does not exist"),
    (["figure", "linear.gd_limit", "--out", "x.txt"], "must end in .png"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message) -> None:
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cupy_without_gpu_or_library_is_one_line(capsys) -> None:
    code, _, err = _run(capsys, "verify", "linear.gd_iterate", "--backend", "cupy")
    try:
        import cupy  # noqa: F401
    except ImportError:
        assert code == 2 and "implreg[gpu]" in err


def test_figure_and_report_are_written(tmp_path: Path, capsys) -> None:
    out = tmp_path / "f.png"
    assert _run(capsys, "figure", "linear.gd_limit", "--out", str(out))[0] == 0
    assert out.stat().st_size > 1000
    code, _, _ = _run(capsys, "verify", "linear.gd_limit", "--examples", "1", "--report",
                      str(tmp_path / "rep"))
    text = (tmp_path / "rep" / "report.md").read_text()
    assert code == 0 and "$$" in text and "figures/linear.gd_limit.png" in text
    assert (tmp_path / "rep" / "figures" / "linear.gd_limit.png").exists()


def test_python_m_verify_is_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "verify", "list", "--json"], capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout)[0]["id"] == "linear.gd_iterate"


@pytest.mark.parametrize("argv, message", [
    (["verify", "linear.gd_limit", "--report", "/etc/hostname"], "is a file; give a directory"),
    (["verify", "linear.gd_limit", "--report", "/etc/hostname/sub"], "cannot be made"),
    (["verify", "linear.gd_limit", "--report", "/proc/implreg-report"], "cannot write in '/proc'"),
    (["figure", "linear.gd_limit", "--out", "/tmp"], "is a directory; give a file name"),
    (["figure", "linear.gd_limit", "--out", "/proc/x.png"], "cannot write in '/proc'"),
    (["verify", "--examples", "1000000000"], "at most 1,000,000 examples"),
    (["derive", "LINEAR.GD_LIMIT"], "did you mean linear.gd_limit?"),
    (["power", "linear.gd_limit", "--json", "/proc/p.json"], "cannot write in '/proc'"),
    (["power", "linear.gd_limit", "--figure", "/tmp/p.txt"], "must end in .png"),
])
def test_bad_paths_and_counts_fail_before_any_work(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_ids_on_both_sides_of_an_option_are_all_selected(capsys, monkeypatch) -> None:
    """argparse stops a list of positionals at the first option; the rest are ids too."""
    import verify.runner

    seen: list[list[str]] = []
    monkeypatch.setattr(verify.runner, "run_checks", lambda ids, **k: seen.append(list(ids)) or [])
    assert main(["verify", "linear.gd_limit", "--examples", "1", "linear.gd_iterate"]) == 0
    assert seen == [["linear.gd_limit", "linear.gd_iterate"]]
