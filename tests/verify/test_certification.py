"""Every check certifies its result: it is handed the Result, evaluates every claim, passes.

A claim no check evaluates is not verified, whatever the table says: this test fails when a
check leaves a claim (the statement or a part not declared explanatory) unevaluated.
"""

from __future__ import annotations

import pytest

import theory
from verify import check_ids, run_check
from verify.registry import get_check
from verify.runner import takes_result

IDS = check_ids()


def test_every_result_has_a_check_that_takes_it() -> None:
    assert IDS == theory.ids()
    assert [i for i in IDS if not takes_result(get_check(i).fn)] == []


@pytest.mark.parametrize("cid", IDS)
def test_check_evaluates_every_claim(cid: str) -> None:
    rep = run_check(cid, examples=1)
    assert rep.passed, rep.explain()
    assert rep.uncertified == [], f"{cid} does not evaluate {rep.uncertified}"
    assert rep.certifies == list(theory.get(cid).claims)
