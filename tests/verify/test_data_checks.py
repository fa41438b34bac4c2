"""The data.* checks: tiny configurations pass, and wrong claims or wrong dynamics fail.

Tiny sizes keep the suite fast; the checks' own defaults are exercised by ``implreg verify``."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

import theory
from numerics.backend import get_namespace
from verify.checks import data as D
from verify.registry import get_check
from verify.runner import TrackedResult

TINY = {"n_train": 64, "n_test": 100, "width": 24, "init_scale": 0.5, "seed": 0}
NP = get_namespace("numpy")


def _run(cid: str, p: dict, xp=NP, result=None):
    tracked = TrackedResult(theory.get(cid) if result is None else result)
    out = get_check(cid).fn(p, xp, tracked)
    return out, tracked


def _fails(cid: str, p: dict, result) -> bool:
    """The check rejects ``result``: it fails, or cannot even evaluate it (as in a run)."""
    try:
        return not _run(cid, p, result=result)[0].passed
    except TypeError:  # the wrong claim lost an argument the check passes
        return True


def _replace_part(cid: str, part: str, expr: sp.Basic):
    r = theory.get(cid)
    if part == "statement":
        return dataclasses.replace(r, statement=expr)
    return dataclasses.replace(r, parts={**r.parts, part: expr})


def _sym(cid: str, name: str) -> sp.Symbol:
    return {s.name: s for s in theory.get(cid).symbols}[name]


def test_seed_tables_only_explain():
    for i in theory.ids("data"):
        r = theory.get(i)
        assert r.explains == ("seed_table",)
        assert "seed_table" not in r.claims
        assert r.parts["seed_table"].shape[0] >= 2


def test_escape_threshold_is_the_without_replacement_form():
    f = theory.get("data.escape").numeric(part="threshold")
    assert abs(float(f(B=8.0, n=128.0, eta=0.2)) - (8 * 127 / 120) ** 0.5 / 0.2) < 1e-12


# ---------------------------------------------------------------- sharpness_vs_lr
LR = {**TINY, "seeds": 3, "etas": (0.1, 0.8), "steps": 150, "factor": 0.8}


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_sharpness_vs_lr_tiny(backend):
    p = {**LR, "steps": 150 if backend == "numpy" else 60}
    out, tr = _run("data.sharpness_vs_lr", p, get_namespace(backend))
    assert out.passed, out
    assert tr.evaluated >= set(theory.get("data.sharpness_vs_lr").claims)


def test_sharpness_vs_lr_teeth_half_step():
    """A GD that secretly takes half the step (η_true = η/2) ends at a ≈ 4/η: fails."""
    p = {**LR, "etas": (0.4, 1.6)}
    r = D._lr_experiment(p, NP)
    D._CACHE[D._key("lr", {**p, "etas": (0.2, 0.8)}, NP, "n_train", "n_test", "width",
                    "init_scale", "seeds", "etas", "steps", "seed")] = {**r, "etas": r["etas"] / 2}
    out, _ = _run("data.sharpness_vs_lr", {**p, "etas": (0.2, 0.8)})
    assert not out.passed


@pytest.mark.parametrize("c", [sp.Rational(22, 10), sp.Rational(18, 10)])
def test_sharpness_threshold_constant_is_pinned_on_both_sides(c):
    """a ≤ 2.2/η or a ≤ 1.8/η: the linearized GD test rejects one of its sides."""
    eta = _sym("data.sharpness_vs_lr", "eta")
    a = _sym("data.sharpness_vs_lr", "a")
    wrong = _replace_part("data.sharpness_vs_lr", "threshold", c / eta)
    out, _ = _run("data.sharpness_vs_lr", LR, result=wrong)
    assert not out.passed
    wrong = _replace_part("data.sharpness_vs_lr", "statement", sp.Le(a, c / eta))
    out, _ = _run("data.sharpness_vs_lr", LR, result=wrong)
    assert not out.passed


# ------------------------------------------------------------- escape, batch_size
ESC = {**TINY, "seeds": 10, "eta": 0.2, "batch": 4, "gd_steps": 300, "sgd_steps": 300,
       "jump": 5.0, "alpha": 0.05, "batches": (4, 16)}


def test_escape_and_batch_size_tiny():
    out, tr = _run("data.escape", ESC)
    assert out.passed, out
    assert tr.evaluated >= set(theory.get("data.escape").claims)
    out, tr = _run("data.batch_size", ESC)
    assert out.passed, out
    assert tr.evaluated >= set(theory.get("data.batch_size").claims)


def test_with_replacement_batch_factor_is_rejected():
    """The slip (n−B)/(B(n−1)) → 1/B, in the threshold and in the stability factor."""
    g = {k: _sym("data.escape", k) for k in ("n", "B", "eta", "a", "s")}
    n, B, eta, a, s = g["n"], g["B"], g["eta"], g["a"], g["s"]
    wrong = _replace_part("data.escape", "threshold", sp.sqrt(B * n / n) / eta)
    assert _fails("data.escape", ESC, wrong)
    # keep n as an argument: the slip is in the factor, not in the signature
    wrong = _replace_part("data.escape", "stability_factor",
                          (1 - eta * a) ** 2 + eta**2 * s**2 / B + 0 * n)
    assert _fails("data.escape", ESC, wrong)


def test_sgd_threshold_sides_tolerance_is_the_student_t_bar():
    """The Monte Carlo bar of E x₁² is t·σ̂/√N at the stated level (a 10× wider bar would
    let the 1.08 factor above the threshold pass as 'not growing')."""
    res = TrackedResult(theory.get("data.escape"))
    outs = D._sgd_threshold_sides(res, "threshold", 16, 4, 0.2, {"B": 4.0, "n": 16.0, "eta": 0.2},
                                  {"seed": 0}, NP, 20, lambda s: True, m=1)
    above = outs[2]                     # observed = F̂ − t·σ̂/√N, F = (1 + δ)² = 1.0816
    assert above.passed
    F = (1 + D._DELTA_SGD) ** 2
    bar = F - above.observed            # ≈ t·√2·F/√N ≈ 0.035 (x₁² = F·χ²₁), ± MC noise
    assert 0.02 < bar < 0.06
    assert 10 * bar > F - 1             # a 10× wider bar would swallow the whole margin


def test_dthreshold_dB_slip_is_rejected():
    n, B, eta = (_sym("data.batch_size", k) for k in ("n", "B", "eta"))
    wrong = _replace_part("data.batch_size", "dthreshold_dB", n * (n - 1) / (eta**2 * (n - B) ** 3))
    assert not _run("data.batch_size", ESC, result=wrong)[0].passed


# --------------------------------------------------------- random_labels, adam_vs_sgd
RL = {**TINY, "n_test": 1000, "seeds": 5, "eta": 0.4, "steps": 500, "epsilon": 0.05, "directions": 3,
      "r_max": 20.0, "alpha": 0.05}


def test_random_labels_tiny_and_teeth():
    out, tr = _run("data.random_labels", RL)
    assert out.passed, out
    assert tr.evaluated >= set(theory.get("data.random_labels").claims)
    eps, q = _sym("data.random_labels", "epsilon"), _sym("data.random_labels", "q")
    wrong = _replace_part("data.random_labels", "quadratic_radius", sp.sqrt(eps / q))
    assert not _run("data.random_labels", RL, result=wrong)[0].passed
    wrong = _replace_part("data.random_labels", "chance_accuracy", sp.Rational(1, 4))
    assert _fails("data.random_labels", RL, wrong)


def _printable(cid: str, part: str) -> bool:
    try:
        theory.get(cid).numeric(part=part)
    except Exception:  # the array printer does not know Product yet
        return False
    return True


@pytest.mark.skipif(not _printable("data.adam_vs_sgd", "lipschitz_bound"),
                    reason="numeric() of a Product is not available")
def test_adam_vs_sgd_tiny():
    p = {**TINY, "seeds": 3, "sigmas": (0.25, 1.0), "batch": 16, "eta_sgd": 0.03,
         "eta_adam": 0.001, "steps": 400, "alpha": 0.05}
    out, tr = _run("data.adam_vs_sgd", p)
    assert out.passed, out
    assert tr.evaluated >= set(theory.get("data.adam_vs_sgd").claims)
