"""Fixtures shared by the verify tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_work(monkeypatch):
    """Any sweep cell run or cluster start fails the test: bad input must stop before them."""
    import verify.sweeps.runner as runner

    def forbidden(*a, **k):
        raise AssertionError("work started despite bad input")

    monkeypatch.setattr(runner, "execute_cell", forbidden)
    monkeypatch.setattr(runner, "connect", forbidden)
    monkeypatch.setattr(runner, "_compute", forbidden)
