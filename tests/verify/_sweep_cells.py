"""Cell functions for the sweep tests, in an importable module so that worker processes
can unpickle them by reference."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

CALLS: list[tuple[Any, ...]] = []
_LOCK = threading.Lock()


def power_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """y = x**k + seed, after a short sleep (so that cells overlap on two workers)."""
    time.sleep(params.get("sleep", 0.0))
    with _LOCK:
        CALLS.append((params["x"], params["k"], seed))
    return {"y": params["x"] ** params["k"] + seed, "odd": params["k"] % 2 == 1}


def failing_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Like :func:`power_cell`, but x = 3 raises."""
    if params["x"] == 3.0:
        raise ValueError(f"x = 3 is not allowed (seed {seed})")
    return power_cell(params, seed)


def killing_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Kills its worker process the first time the cell x = 2 runs (a marker file in
    ``params["marker"]`` remembers it), then behaves like :func:`power_cell`."""
    marker = Path(params["marker"]) / f"killed-{seed}"
    if params["x"] == 2.0 and not marker.exists():
        marker.write_text("x")
        os._exit(1)
    return power_cell(params, seed)
