"""implreg measures its own power: mutants of a Result, equivalence filter, verdicts."""

from __future__ import annotations

import sympy as sp
import pytest

import theory
from theory import Result
from verify import registry
from verify.mutate import measure_power, mutants
from verify.outcome import Outcome
from verify.runner import TrackedResult, run_check
from verify.tolerance import Tolerance


def _toy(**kw) -> Result:
    a, x = sp.symbols("a x", positive=True)
    y = sp.Symbol("y")
    base = dict(id="toy.line", title="a line", source="test", statement=sp.Eq(y, 2 * a * x**2 + 3),
                symbols=(a, x, y))
    base.update(kw)
    return Result(**base)


def test_mutants_cover_the_operators() -> None:
    ms = mutants(_toy(), max_mutants=None)
    ops = {m.operator for m in ms}
    assert {"scale", "drop", "negate", "swap"} <= ops
    descs = [m.description for m in ms]
    assert any("constant 3 → 6" in d for d in descs)
    assert any("term 3 dropped" in d for d in descs)
    assert any("a ↔ x" in d for d in descs)
    # every mutant differs from the original claim (the filter ran) and from each other
    rhs = {sp.simplify(m.result.statement.rhs) for m in ms}
    assert len(rhs) == len(ms)
    assert sp.simplify(_toy().statement.rhs) not in rhs


def test_mutants_equivalent_inside_the_conditions_are_discarded() -> None:
    a = sp.Symbol("a", positive=True)
    y = sp.Symbol("y")
    # the second branch is never taken when a > 1: mutating it changes nothing there
    r = Result(id="toy.piece", title="piecewise", source="test",
               statement=sp.Eq(y, sp.Piecewise((a, a > 1), (5 * a, True))),
               symbols=(a, y), conditions=(a > 1,))
    stats: dict[str, int] = {}
    ms = mutants(r, max_mutants=None, stats=stats)
    assert stats["equivalent"] >= 3          # 5 → 11/2, 10, 5/2 in the dead branch
    assert all("constant 5" not in m.description for m in ms)


def test_mutants_flip_relations_and_touch_every_claim() -> None:
    lam, eta = sp.symbols("lambda_max eta", positive=True)
    r = Result(id="toy.threshold", title="t", source="test", statement=lam <= 2 / eta,
               symbols=(lam, eta), parts={"threshold": 2 / lam, "table": sp.Integer(7)},
               explains=("table",))
    ms = mutants(r, max_mutants=None)
    assert {m.claim for m in ms} == {"statement", "threshold"}   # explanatory parts are not claims
    assert any(m.operator == "flip" for m in ms)


def test_matrix_mutants_invert_and_transpose() -> None:
    n = sp.Symbol("n", integer=True, positive=True)
    H = sp.MatrixSymbol("H", n, n)
    g = sp.MatrixSymbol("g", n, 1)
    x = sp.MatrixSymbol("x", n, 1)
    r = Result(id="toy.newton", title="newton", source="test",
               statement=sp.Eq(x, sp.Inverse(H) * g), symbols=(n,))
    descs = [m.description for m in mutants(r, max_mutants=None)]
    assert any("H⁻¹" in d or "H**(-1) → H" in d for d in descs)
    assert any("Hᵀ" in d for d in descs)


def test_tracked_result_records_what_is_evaluated() -> None:
    t = TrackedResult(theory.get("stability.gd_threshold"))
    t.numeric(part="threshold")
    _ = t.parts["mode_factor"]
    assert t.evaluated == {"threshold"}
    assert t.read == {"mode_factor"}
    assert t.id == "stability.gd_threshold"


@pytest.fixture
def swap_check(monkeypatch: pytest.MonkeyPatch):
    """Replace the check of stability.gd_threshold by a test's own for one test."""
    registry._load_all()

    def install(fn):
        chk = registry.Check(id="stability.gd_threshold", fn=fn, strategy=None,
                             example={"seed": 0})
        monkeypatch.setitem(registry._CHECKS, "stability.gd_threshold", chk)

    return install


def test_a_check_that_ignores_its_result_kills_nothing(swap_check) -> None:
    swap_check(lambda p, xp, result: Outcome.close(0.0, 0.0, Tolerance(0.0, "nothing")))
    rep = measure_power("stability.gd_threshold", max_mutants=12)
    assert rep.baseline_passed
    assert rep.total == 12 and rep.killed == 0
    assert run_check("stability.gd_threshold").uncertified == ["statement", "threshold",
                                                              "mode_factor", "mode_iterate"]


def test_a_check_that_evaluates_every_claim_kills_the_mutants(swap_check) -> None:
    # Values worked out by hand for λ_max = 1, λ_j = 3/10, c_0 = 2, k = 3, η = 2/1.05 and
    # η = 2/0.95 (one step each side of the threshold 2/λ_max = 2).
    def strong(p, xp, result):
        outs = []
        st = result.numeric(xp)
        outs.append(Outcome.close(1.0, float(st(lambda_max=1.0, eta=2 / 1.05)), Tolerance(0, "bool")))
        outs.append(Outcome.close(0.0, float(st(lambda_max=1.0, eta=2 / 0.95)), Tolerance(0, "bool")))
        thr = result.numeric(xp, part="threshold")
        outs.append(Outcome.close(2.0, float(thr(lambda_max=1.0)), Tolerance(1e-14, "rounding")))
        outs.append(Outcome.close(2 / 3, float(thr(lambda_max=3.0)), Tolerance(1e-14, "rounding")))
        mf = result.numeric(xp, part="mode_factor")
        outs.append(Outcome.close(1 - 0.5 * 0.3, float(mf(eta=0.5, lambda_j=0.3)), Tolerance(1e-14, "r")))
        mi = result.numeric(xp, part="mode_iterate")
        outs.append(Outcome.close(2 * 0.85**3, float(mi(c_0=2.0, eta=0.5, lambda_j=0.3, k=3.0)),
                                  Tolerance(1e-14, "r")))
        return Outcome.all_of(outs)

    swap_check(strong)
    assert run_check("stability.gd_threshold").uncertified == []
    rep = measure_power("stability.gd_threshold", max_mutants=30)
    assert rep.baseline_passed and rep.total >= 20, rep.baseline_error
    assert rep.killed >= rep.total - 1, [s.mutant for s in rep.survivors]


def test_a_check_failing_on_the_real_result_is_reported(swap_check) -> None:
    swap_check(lambda p, xp, result: Outcome.failure("always"))
    rep = measure_power("stability.gd_threshold", max_mutants=5)
    assert not rep.baseline_passed and rep.total == 0


def test_explicit_matrices_are_mutated() -> None:
    y = sp.Symbol("y")
    a = sp.Symbol("a", positive=True)
    r = Result(id="toy.table", title="t", source="test",
               statement=sp.Eq(y, a), symbols=(a, y),
               parts={"table": sp.Matrix([[1, 2], [3, a]])})
    ms = mutants(r, max_mutants=None)
    assert any(m.claim == "table" for m in ms)
