"""Timing, memory and machine helpers shared by the benchmark sections.

Every figure the suite reports is a ratio of two quantities measured in the same run (a rate
against the machine's own copy bandwidth or matmul rate, a vectorised program against a
loop), because absolute times on shared machines drift. Timings are the best of several
repeats (the least disturbed one).
"""

from __future__ import annotations

import gc
import math
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Row", "best_time", "copy_bandwidth", "matmul_rate", "peak_bytes", "minor_faults",
           "fresh_process", "fit_exponent", "machine_info"]


@dataclass
class Row:
    """One line of the report.

    ``value`` is the figure (usually a ratio), ``target`` the goal in words, ``ok`` whether
    the figure meets it (``None``: informational), ``detail`` the raw numbers behind it.
    """

    section: str
    name: str
    value: float | None
    unit: str = "×"
    target: str = ""
    ok: bool | None = None
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        v = None if d["value"] is None else float(d["value"])
        d["value"] = v if v is None or math.isfinite(v) else None
        d["ok"] = None if d["ok"] is None else bool(d["ok"])
        d["raw"] = _plain(d["raw"])
        return d


def _plain(obj: Any) -> Any:
    """NumPy scalars -> Python numbers, recursively (for JSON)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# Upper bound on ``repeat`` (the tiny smoke configuration sets it to 1: it checks that the
# code runs, not how fast).
MAX_REPEAT = 100


def best_time(fn: Callable[[], Any], *, repeat: int = 3, number: int = 1,
              warmup: bool = True) -> float:
    """Seconds per call of ``fn``: the best over ``repeat`` rounds of ``number`` calls."""
    repeat = max(1, min(repeat, MAX_REPEAT))
    warmup = warmup and MAX_REPEAT > 1
    if warmup:
        fn()
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t) / number)
    return best


def copy_bandwidth(nbytes: int = 2**28, repeat: int = 5) -> float:
    """Bytes per second of a large NumPy copy (read + write counted: ``2·nbytes / t``).

    The destination is preallocated and touched first, so page faults are not timed.
    """
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    np.copyto(b, a)
    t = best_time(lambda: np.copyto(b, a), repeat=repeat, warmup=False)
    return 2.0 * a.nbytes / t


def matmul_rate(size: int = 1024, repeat: int = 5) -> float:
    """Floating-point operations per second of a float64 ``size × size`` NumPy matmul."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    out = np.empty((size, size))
    t = best_time(lambda: np.matmul(a, b, out=out), repeat=repeat)
    return 2.0 * size**3 / t


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (through Python's allocator hooks, which NumPy reports to)
    while ``fn`` runs, above what was allocated when it started."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def minor_faults(fn: Callable[[], Any]) -> int:
    """Minor page faults of this process while ``fn`` runs (``resource.getrusage``).

    A minor fault is a page the allocator handed back to the operating system and then asked
    for again: a step that allocates and frees large temporaries faults them in on every
    call, a step that writes into reused buffers does not. ``0`` where ``resource`` is not
    available (Windows).
    """
    try:
        import resource  # noqa: PLC0415
    except ImportError:
        fn()
        return 0
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def fresh_process(call: str) -> float | None:
    """The value of ``call`` (a ``module:function(args)`` expression returning a number)
    evaluated in a new Python process with this one's ``sys.path``; ``None`` if it fails.

    Page-fault counts depend on what the allocator did before (glibc raises its mmap
    threshold after the first large free), so they are measured in a process that has run
    nothing else.
    """
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    module, expr = call.split(":", 1)
    code = f"import {module} as m; print(float(m.{expr}))"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=600, check=True)
        return float(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError, OSError):
        return None


def fit_exponent(sizes: list[float], values: list[float]) -> float:
    """Least-squares slope of ``log value`` against ``log size``."""
    x, y = np.log(np.asarray(sizes, float)), np.log(np.asarray(values, float))
    return float(np.polyfit(x, y, 1)[0])


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, Python, NumPy and its BLAS (via threadpoolctl when installed)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info: dict[str, Any] = {
        "nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
        "numpy": np.__version__, "platform": platform.platform(),
    }
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415

        blas = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = "; ".join(blas) or "unknown"
    except ImportError:
        info["blas"] = "unknown (install threadpoolctl to report it)"
    try:
        import torch  # noqa: PLC0415

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        info["torch"] = None
    return info
