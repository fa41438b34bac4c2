"""Results and checks from outside the package: ``--plugin``, entry points, the errors.

Every test runs inside :func:`verify.plugins.isolated` (the autouse fixture), which removes
what the test registered from outside the package; the fixture then asserts that only
built-in results, checks and figures are left, so other tests never see a plugin.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import theory
import verify
from theory import _registry
from verify import plugins
from verify import registry as vreg
from verify.cli import main

ROOT = Path(__file__).resolve().parents[2]
RIGHT = ROOT / "examples" / "my_theorem.py"
WRONG = ROOT / "examples" / "my_wrong_theorem.py"


@pytest.fixture(autouse=True)
def only_builtins_after() -> Any:
    with plugins.isolated():
        yield
    assert all(e.plugin is None for e in theory.entries())
    assert all(c.plugin is None for c in vreg._CHECKS.values())
    assert not [i for i in vreg._FIGURES if _registry.builtin_module(i) is None]
    assert plugins.RUN_PLUGINS_ENV not in os.environ


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


# ------------------------------------------------------------------ the example theorem
def test_example_theorem_derives_passes_and_certifies_its_statement(capsys) -> None:
    code, out, err = _run(capsys, "verify", "mytopic", "--plugin", RIGHT, "--json")
    assert code == 0, err
    (rep,) = json.loads(out)
    assert rep["id"] == "mytopic.gd_contraction" and rep["passed"]
    assert rep["certifies"] == ["statement"] and rep["uncertified"] == []
    assert rep["examples"] == 30
    r = theory.get("mytopic.gd_contraction")
    assert not r.stated and len(r.derivation) == 6
    assert r.derivation[4].expr == 0  # the residual of rsolve's solution in the recurrence


def test_wrong_rate_fails_with_the_shrunk_counterexample(capsys) -> None:
    code, out, err = _run(capsys, "verify", "mytopic.gd_contraction_off_by_one",
                          "--plugin", WRONG, "--json")
    assert code == 1, err
    (rep,) = json.loads(out)
    assert not rep["passed"] and rep["error"] is None
    cx = rep["counterexample"]
    assert set(cx) == {"a", "eta_frac", "x0", "k"}
    # At the counterexample the stated (1 − ηa)^(k+1) x_0 is off the true (1 − ηa)^k x_0
    # by |ηa|·|(1 − ηa)^k x_0|, many tolerances: the failure is the statement's, not noise.
    eta_a = 2.0 * cx["eta_frac"]
    gap = eta_a * abs((1.0 - eta_a) ** cx["k"] * cx["x0"])
    assert math.isclose(abs(rep["observed"] - rep["predicted"]), gap, rel_tol=1e-9)
    assert gap > 1e6 * rep["tolerance"]
    code, out, _ = _run(capsys, "verify", "mytopic.gd_contraction_off_by_one",
                        "--plugin", WRONG)
    assert code == 1 and "counterexample (shrunk by Hypothesis): {'a'" in out


def test_example_in_a_fresh_process_passes_and_its_wrong_twin_fails() -> None:
    """One subprocess, as a user types it: the wrong file imports its right sibling, so
    `verify mytopic` runs both checks."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(plugins.RUN_PLUGINS_ENV, None)
    out = subprocess.run([sys.executable, "-m", "verify", "verify", "mytopic",
                          "--plugin", "examples/my_wrong_theorem.py"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert "mytopic.gd_contraction: ok" in out.stderr
    assert "mytopic.gd_contraction_off_by_one: FAILED" in out.stderr
    assert "counterexample (shrunk by Hypothesis):" in out.stdout
    assert "1/2 checks passed" in out.stdout


def test_list_derive_figure_and_report_treat_the_plugin_like_a_builtin(tmp_path, capsys) -> None:
    code, out, _ = _run(capsys, "list", "--json", "--plugin", RIGHT)
    assert code == 0
    rows = json.loads(out)
    builtin = [r["id"] for r in rows if "plugin" not in r["source"]]
    assert builtin == theory.ids()[:len(builtin)]  # built-ins first, in catalog order
    mine = rows[-1]
    assert mine["id"] == "mytopic.gd_contraction" and mine["topic"] == "mytopic"
    assert mine["source"].endswith("· plugin examples/my_theorem.py")
    code, out, _ = _run(capsys, "derive", "mytopic.gd_contraction", "--latex", "--plugin", RIGHT)
    assert code == 0 and r"x_{k} = x_{0} \left(- a \eta + 1\right)^{k}" in out
    code, _, err = _run(capsys, "figure", "mytopic.gd_contraction", "--out",
                        tmp_path / "gd.png", "--plugin", RIGHT)
    assert code == 0 and (tmp_path / "gd.png").stat().st_size > 1000, err
    code, _, err = _run(capsys, "verify", "mytopic", "--plugin", RIGHT, "--examples", "3",
                        "--report", tmp_path / "rep")
    assert code == 0, err
    report = "\n".join(p.read_text() for p in (tmp_path / "rep").glob("*.md"))
    assert "mytopic.gd_contraction" in report and "(- a \\eta + 1)" in report.replace(
        r"\left", "").replace(r"\right", "")


def test_power_kills_mutants_of_the_plugin_result(tmp_path, capsys) -> None:
    code, _, err = _run(capsys, "power", "mytopic.gd_contraction", "--plugin", RIGHT,
                        "--max-mutants", "6", "--examples", "10", "--json", tmp_path / "p.json")
    assert code == 0, err
    (rep,) = json.loads((tmp_path / "p.json").read_text())["results"]
    assert rep["id"] == "mytopic.gd_contraction" and rep["total"] >= 3
    assert rep["killed"] == rep["total"]


# ------------------------------------------------------------------ the API
def test_api_registers_a_user_topic_after_the_builtins_without_building() -> None:
    built = []
    n = len(theory.ids())

    @theory.result("mywork.decay", title="decay", source="notes", how="state")
    def decay() -> Any:
        built.append(1)
        raise AssertionError("not built by a listing")

    assert theory.ids()[-1] == "mywork.decay" and len(theory.ids()) == n + 1
    assert theory.ids("mywork") == ["mywork.decay"] and theory.topics()[-1] == "mywork"
    assert theory.entry("mywork.decay").plugin == "module tests.verify.test_plugins"
    assert built == []
    with pytest.raises(theory.ResultBuildError, match=r"'mywork.decay' .* failed to build: "
                                                      r"AssertionError: not built by a listing"):
        theory.get("mywork.decay")


def test_load_plugin_is_idempotent_and_named_by_file(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    m = verify.load_plugin("examples/my_theorem.py")
    assert verify.load_plugin(RIGHT) is m and m.__name__ == "my_theorem"
    assert plugins.loaded() == {str(RIGHT): "my_theorem"}
    assert theory.entry("mytopic.gd_contraction").plugin == "examples/my_theorem.py"


def test_a_check_runs_from_the_api_like_a_builtin() -> None:
    verify.load_plugin(RIGHT)
    rep = verify.run_check("mytopic.gd_contraction", backend="array_api_strict", examples=5)
    assert rep.passed and rep.examples == 5 and rep.certifies == ["statement"]
    assert "mytopic.gd_contraction" in verify.resolve(["mytopic"])


def test_a_dotted_module_plugin(tmp_path, monkeypatch, capsys) -> None:
    pkg = tmp_path / "mywork"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    _write(pkg / "theorems.py", """
        import sympy as sp
        import theory

        q = sp.Symbol("q", positive=True)

        @theory.result("mywork.square", title="q²", source="notes", how="state")
        def square():
            return theory.Result(id="mywork.square", title="q²", source="notes",
                                 statement=q**2, symbols=(q,))
        """)
    _write(pkg / "broken.py", "import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = _run(capsys, "list", "--json", "--plugin", "mywork.theorems")
    assert code == 0, err
    assert json.loads(out)[-1]["source"] == "notes · plugin mywork.theorems"
    code, out, _ = _run(capsys, "derive", "mywork.square", "--sympy", "--plugin", "mywork.theorems")
    assert (code, out) == (0, "q**2\n")
    # a module that is found but whose own import fails is not "no module named mywork.broken"
    code, _, err = _run(capsys, "list", "--plugin", "mywork.broken")
    assert code == 2 and ("plugin 'mywork.broken' failed to import: ModuleNotFoundError: No "
                          "module named 'no_such_dependency_xyz'") in err and "broken.py, line 1" in err


def test_worker_processes_load_the_plugins_of_their_run(monkeypatch) -> None:
    """What a spawned `implreg power` worker does: the run's plugins come through the
    environment and are loaded on the first look-up of a check."""
    assert "mytopic.gd_contraction" not in vreg.check_ids()
    monkeypatch.setenv(plugins.RUN_PLUGINS_ENV,
                       json.dumps({"plugins": [str(RIGHT)], "entry_points": False}))
    assert vreg.check_ids()[-1] == "mytopic.gd_contraction"
    monkeypatch.setenv(plugins.RUN_PLUGINS_ENV, "not json")
    with pytest.raises(plugins.PluginError, match="IMPLREG_RUN_PLUGINS is not what implreg"):
        vreg.check_ids()


# ------------------------------------------------------------------ errors
_ERRORS = {
    "import": ("x = 1\nraise RuntimeError('no data file\\nsecond line')\n",
               r"plugin '.*bad\.py' failed to import: RuntimeError: no data file "
               r"\(.*bad\.py, line 2\)$"),
    "syntax": ("def f(:\n", r"failed to import: SyntaxError: .* \(.*bad\.py, line 1\)$"),
    "twice": ("""
        import theory
        theory.result("mine.a", title="A", source="s", how="state")(lambda: None)
        theory.result("mine.a", title="A", source="s", how="state")(lambda: None)
        """, r"result 'mine.a' registered twice: first by .*bad\.py, again by .*bad\.py "
             r"\(.*bad\.py, line 4\)$"),
    "shadow": ("""
        import theory
        theory.result("linear.gd_limit", title="A", source="s", how="state")(lambda: None)
        """, r"result 'linear.gd_limit' \(from .*bad\.py\) shadows the built-in result of "
             r"that id in theory\.linear; give yours a topic of its own"),
    "builtin topic": ("""
        import theory
        theory.result("linear.mine", title="A", source="s", how="state")(lambda: None)
        """, r"topic 'linear' is built in \(theory\.linear\); ids from outside the package "
             r"take a topic of their own, e\.g\. 'mylinear\.mine'"),
    "malformed": ("""
        import theory
        theory.result("MyWork-decay", title="A", source="s", how="state")(lambda: None)
        """, r"result id 'MyWork-decay' is malformed: an id is topic\.name"),
    "orphan check": ("""
        import verify
        verify.check("mine.nothing", example={})(lambda p, xp, r: None)
        """, r"check 'mine\.nothing' \(from .*bad\.py\) has no result: register the result "
             r"first"),
    "orphan figure": ("""
        import verify
        verify.figure("mine.nothing")(lambda p, xp: None)
        """, r"figure 'mine\.nothing' \(from .*bad\.py\) has no result"),
    "figure twice": ("""
        import theory, verify
        theory.result("mine.a", title="A", source="s", how="state")(lambda: None)
        verify.figure("mine.a")(lambda p, xp: None)
        verify.figure("mine.a")(lambda p, xp: None)
        """, r"figure 'mine\.a' registered twice: first by .*bad\.py, again by .*bad\.py"),
    "shadow check": ("""
        import verify
        verify.check("linear.gd_limit", example={})(lambda p, xp, r: None)
        """, r"check 'linear\.gd_limit' \(from .*bad\.py\) shadows the built-in check"),
}


@pytest.mark.parametrize("case", list(_ERRORS))
def test_a_bad_plugin_is_one_line_exit_2_and_leaves_nothing(case, tmp_path, capsys) -> None:
    text, pattern = _ERRORS[case]
    bad = _write(tmp_path / "bad.py", text)
    code, out, err = _run(capsys, "list", "--plugin", bad)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(pattern, err.strip().removeprefix("implreg: error: ")), err
    assert "mine" not in theory.topics() and "bad" not in sys.modules
    with pytest.raises(plugins.PluginError):  # the same from the API, and loadable again
        verify.load_plugin(bad)


@pytest.mark.parametrize(("spec", "message"), [
    ("no/such/file.py", "plugin 'no/such/file.py': no such file"),
    ("./examples", "plugin './examples' is a directory"),
    ("no_such_module_xyz.sub", "plugin 'no_such_module_xyz.sub': no module named "
                               "'no_such_module_xyz' on sys.path"),
    ("my-theorem", "plugin 'my-theorem' is neither a path to a .py file nor a dotted module name"),
])
def test_bad_plugin_names_fail_before_any_work(spec, message, capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = _run(capsys, "verify", "linear", "--plugin", spec)
    assert (code, out) == (2, "") and err.strip().startswith(f"implreg: error: {message}"), err


def test_not_a_py_file_and_a_taken_module_name(tmp_path, capsys, monkeypatch) -> None:
    txt = _write(tmp_path / "notes.txt", "x = 1\n")
    code, _, err = _run(capsys, "list", "--plugin", txt)
    assert code == 2 and "is not a .py file (suffix '.txt')" in err
    monkeypatch.chdir(tmp_path)  # a bare file name is a file, not module `txt` of `notes`
    code, _, err = _run(capsys, "list", "--plugin", "notes.txt")
    assert code == 2 and "plugin 'notes.txt' is not a .py file (suffix '.txt')" in err
    taken = _write(tmp_path / "json.py", "x = 1\n")
    code, _, err = _run(capsys, "list", "--plugin", taken)
    assert code == 2 and "the module name 'json' is taken by" in err and "rename the file" in err


def test_a_builder_that_raises_is_one_line(tmp_path, capsys) -> None:
    bad = _write(tmp_path / "badbuild.py", """
        import theory

        @theory.result("mine.broken", title="B", source="s", how="derive")
        def broken():
            return 1 / 0
        """)
    code, _, err = _run(capsys, "list", "--plugin", bad)
    assert code == 0  # listing builds nothing
    code, out, err = _run(capsys, "derive", "mine.broken", "--plugin", bad)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert ("result 'mine.broken' (plugin " in err and "failed to build: ZeroDivisionError: "
            "division by zero" in err and "badbuild.py, line 6)" in err), err


# ------------------------------------------------------------------ entry points
def _install(site: Path, dist: str, entry: str, package: str, source: str) -> None:
    """What ``pip install --target site`` leaves for a package whose pyproject declares
    ``[project.entry-points."implreg.plugins"] entry``: the module and a ``.dist-info`` with
    METADATA and entry_points.txt. Written directly: the venv's setuptools (65.5, no
    ``wheel``) cannot build a wheel offline, so pip cannot install it here."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[implreg.plugins]\n{entry}\n")
    (info / "RECORD").write_text("")


_EP_PACKAGE = '''
    """A package of theorems: the geometric sum, derived, and its check."""
    import sympy as sp
    from hypothesis import strategies as st

    import theory
    from verify import Outcome, check, tolerance

    q, n = sp.Symbol("q", positive=True), sp.Symbol("n", integer=True, positive=True)
    j = sp.Symbol("j", integer=True)

    @theory.result("eptopic.geometric_sum", title="Σ_{j<n} q^j = (1 − q^n)/(1 − q)",
                   source="textbook", how="derive")
    def geometric_sum():
        s = sp.summation(q**j, (j, 0, n - 1))
        closed = sp.simplify(s.args[1][0]) if isinstance(s, sp.Piecewise) else s
        return theory.Result(id="eptopic.geometric_sum", title="geometric sum",
                             source="textbook", statement=closed, symbols=(q, n),
                             derivation=(theory.Step("summation", closed),))

    @check("eptopic.geometric_sum", strategy=st.fixed_dictionaries(
        {"q": st.floats(0.1, 0.9), "n": st.integers(1, 30)}), examples=10)
    def check_geometric_sum(p, xp, result):
        total = sum(p["q"] ** i for i in range(p["n"]))
        predicted = float(result.numeric(xp)(q=p["q"], n=float(p["n"])))
        # n terms ≤ 1/(1 − q) ≤ 10 summed, and the closed form's few operations on 1/(1 − q)
        return Outcome.close(predicted, total,
                             tolerance.floating_point(10.0, ops=p["n"] + 5, cond=10.0))
'''


def test_an_installed_entry_point_is_listed_and_verified(tmp_path, monkeypatch, capsys) -> None:
    site = tmp_path / "site"
    _install(site, "implreg-ep-demo", "demo = epthm", "epthm", _EP_PACKAGE)
    monkeypatch.syspath_prepend(str(site))
    code, out, err = _run(capsys, "list", "--json")
    assert code == 0, err
    row = json.loads(out)[-1]
    assert row["id"] == "eptopic.geometric_sum"
    assert row["source"] == "textbook · plugin implreg-ep-demo (entry point demo)"
    code, out, err = _run(capsys, "verify", "eptopic", "--json")
    assert code == 0, err
    (rep,) = json.loads(out)
    assert rep["passed"] and rep["certifies"] == ["statement"]


def test_load_plugins_is_the_documented_way_from_python(tmp_path, monkeypatch) -> None:
    site = tmp_path / "site"
    _install(site, "implreg-ep-demo", "demo = epthm", "epthm", _EP_PACKAGE)
    monkeypatch.syspath_prepend(str(site))
    assert "eptopic" not in theory.topics()  # installed is not loaded: the API asks
    verify.load_plugins()
    assert theory.ids("eptopic") == ["eptopic.geometric_sum"]
    verify.load_plugins()  # loaded once
    assert theory.ids("eptopic") == ["eptopic.geometric_sum"]


def test_an_installed_entry_point_in_a_fresh_process(tmp_path) -> None:
    site = tmp_path / "site"
    _install(site, "implreg-ep-demo", "demo = epthm", "epthm", _EP_PACKAGE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    out = subprocess.run([sys.executable, "-m", "verify", "list", "--json"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[-1]["id"] == "eptopic.geometric_sum"


def test_a_broken_installed_plugin_names_its_distribution(tmp_path, monkeypatch, capsys) -> None:
    site = tmp_path / "site"
    _install(site, "implreg-broken", "broken = brokenthm", "brokenthm",
             "import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(site))
    code, out, err = _run(capsys, "list")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert ("installed plugin 'broken' (brokenthm, from implreg-broken 0.1) failed to load: "
            "ModuleNotFoundError: No module named 'no_such_dependency_xyz'") in err
    assert "fix or uninstall implreg-broken" in err


# ------------------------------------------------------------------ the tutorial
def test_the_tutorial_cells_run_and_show_a_pass_and_a_shrunk_failure(capsys) -> None:
    """docs/tutorials/own_theorem.md's code cells, in order, in one namespace (as the
    notebook build executes them)."""
    text = (ROOT / "docs" / "tutorials" / "own_theorem.md").read_text()
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", text, flags=re.S)
    assert len(cells) == 7
    ns: dict[str, Any] = {"__name__": "own_theorem_tutorial"}
    for cell in cells:
        exec(compile(cell, "own_theorem.md", "exec"), ns)  # noqa: S102 (our own document)
    assert ns["report"].passed and ns["report"].certifies == ["statement"]
    assert not ns["bad"].passed and set(ns["bad"].counterexample) == {"a", "eta_frac", "x0", "k"}
    out = capsys.readouterr().out
    assert "counterexample (shrunk by Hypothesis)" in out
    # section 5, the model: its SGD threshold check passes; SGD below η* converges and
    # above it does not (the loss from θ* + 0.01·noise falls under 1e-10, resp. stays above)
    assert "mymodels.net.sgd_threshold: passed" in out
    below, above = [line for line in out.splitlines() if line.startswith("η = ")]
    assert float(below.split("steps ")[1].split(",")[0]) < 1e-10
    assert float(above.split("steps ")[1].split(",")[0]) > 1e-6
    assert "mymodels.net.loss" not in theory.ids()  # registered inside verify.isolated()
