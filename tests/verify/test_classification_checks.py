"""classification.max_margin: the check passes on every backend, evaluates every claim, and
rejects a wrong claim in each of them (each part mutated on its own)."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

import theory
from numerics import namespace_name
from verify import run_check

RID = "classification.max_margin"


def test_max_margin_passes_and_certifies_every_claim(xp) -> None:
    examples = 1 if namespace_name(xp) == "array_api_strict" else None
    rep = run_check(RID, backend=xp, examples=examples)
    assert rep.passed, rep.explain()
    assert rep.uncertified == []
    assert rep.certifies == list(theory.get(RID).claims)
    assert "svm" not in theory.get(RID).claims  # the definition of θ̂ only explains


def _part(name: str, f) -> theory.Result:
    r = theory.get(RID)
    parts = dict(r.parts)
    parts[name] = f(parts[name])
    return dataclasses.replace(r, parts=parts)


def _rhs(f):
    return lambda e: sp.Eq(e.lhs, f(e.rhs)) if isinstance(e, sp.Equality) else f(e)


def _sym(name: str) -> sp.Basic:
    r = theory.get(RID)
    for s in r.symbols:
        if s.name == name:
            return s
    raise KeyError(name)


_TEN = sp.Rational(11, 10)
MUTANTS = {
    "direction ×1.1": ("direction", _rhs(lambda e: _TEN * e)),
    "kkt ×1.1": ("kkt", _rhs(lambda e: _TEN * e)),
    "complementary slackness: margin 1.1": (
        "complementary_slackness",
        _rhs(lambda e: e - sp.Rational(1, 10) * [a for a in e.atoms(sp.MatrixSymbol)
                                                  if a.name == "alpha"][0])),
    "dual: ½ → 1": ("dual", _rhs(lambda e: e.xreplace({sp.Rational(-1, 2): sp.Integer(-1)}))),
    "offset ×1.1": ("offset", _rhs(lambda e: _TEN * e)),
    "norm growth ×1.1": ("norm_growth", lambda e: _TEN * e),
    "angle without ûᵀw̃": ("angle", lambda e: e.xreplace({_sym("w_par"): 0})),
    "angle ×1.1": ("angle", lambda e: _TEN * e),
    "1-D offset ×1.1": ("one_dimensional_offset", lambda e: _TEN * e),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_a_wrong_part_is_rejected(name: str) -> None:
    part, f = MUTANTS[name]
    m = _part(part, f)
    assert m.parts[part] != theory.get(RID).parts[part]
    assert not run_check(RID, result=m, examples=2, shrink=False).passed


def test_a_wrong_statement_is_rejected() -> None:
    r = theory.get(RID)
    lhs, rhs = r.statement.lhs, r.statement.rhs
    th = [a for a in rhs.atoms(sp.MatrixSymbol) if "theta" in a.name][0]
    wrong = sp.Eq(lhs, rhs.xreplace({th: _TEN * th}))
    assert not run_check(RID, result=dataclasses.replace(r, statement=wrong), examples=2,
                         shrink=False).passed
