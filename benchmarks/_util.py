"""Timing, memory, machine and backend helpers shared by the benchmark sections.

Every figure the suite reports is a ratio of two quantities measured in the same run (a rate
against the machine's own copy bandwidth or matmul rate, a vectorised program against a
loop), because absolute times on shared machines drift. Timings are the best of several
repeats (the least disturbed one).

:class:`Backend` is the one place of the suite that knows how each array library times and
counts memory: a GPU runs kernels asynchronously, so :meth:`Backend.sync` waits for them
before the clock is read (``torch.cuda.synchronize``, CuPy's stream ``synchronize``), and
:meth:`Backend.peak_bytes` measures peak memory the library's own way (``tracemalloc`` for
NumPy-backed arrays, ``torch.cuda.max_memory_allocated``, a CuPy memory-pool hook) or says
it cannot. (``benchmarks/`` may name backends; in :mod:`numerics` only
``numerics/backend.py`` does.)
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

__all__ = ["Row", "Backend", "parse_backend", "resolve_backend", "gpu_summary", "best_time", "copy_bandwidth", "matmul_rate", "peak_bytes", "minor_faults",
           "fresh_process", "fit_exponent", "scaling_rows", "machine_info"]


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
# code runs, not how fast, and so also skips the garbage collection before each timing and
# memory measurement, which takes 0.1–0.2 s once SymPy and PyTorch are loaded).
MAX_REPEAT = 100


def _collect() -> None:
    if MAX_REPEAT > 1:
        gc.collect()


def best_time(fn: Callable[[], Any], *, repeat: int = 3, number: int = 1,
              warmup: bool = True, sync: Callable[[], Any] | None = None) -> float:
    """Seconds per call of ``fn``: the best over ``repeat`` rounds of ``number`` calls.

    ``sync`` (e.g. :meth:`Backend.sync`) is called before the clock starts and before it is
    read, so that work a device queued asynchronously is inside the timed interval.
    """
    repeat = max(1, min(repeat, MAX_REPEAT))
    warmup = warmup and MAX_REPEAT > 1
    wait = sync or (lambda: None)
    if warmup:
        fn()
    best = math.inf
    for _ in range(repeat):
        _collect()
        wait()
        t = time.perf_counter()
        for _ in range(number):
            fn()
        wait()
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
    _collect()
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


def scaling_rows(be: "Backend", what: str, axis: str, sizes: list[float], times: list[float],
                 peaks: list[Any], how: str, expected: tuple[float, str],
                 expected_memory: tuple[float, str], time: str = "time/step") -> list[Row]:
    """The two section-5 rows of one axis: the fitted exponents of ``time`` and of peak
    memory against ``expected`` and ``expected_memory`` (value, reason), each within ±0.35;
    the memory row says ``how`` instead when a peak could not be measured on ``be``."""
    et = fit_exponent(sizes, times)
    rows = [Row("5 scaling", be.tag(f"{what} {time} vs {axis}: exponent"), et, unit="",
                target=f"{expected[0]:g} ({expected[1]})", ok=abs(et - expected[0]) <= 0.35,
                raw={"sizes": sizes, "seconds": times})]
    name = be.tag(f"{what} peak memory vs {axis}: exponent")
    if None in peaks:
        return rows + [Row("5 scaling", name, None, detail=how)]
    em = fit_exponent(sizes, peaks)
    return rows + [Row("5 scaling", name, em, unit="",
                       target=f"{expected_memory[0]:g} ({expected_memory[1]})",
                       ok=abs(em - expected_memory[0]) <= 0.35,
                       raw={"sizes": sizes, "peak_bytes": peaks})]


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


# --------------------------------------------------------------------------- backends
#: What ``--backend`` accepts: a name of :data:`numerics.backend.BACKENDS`, or ``torch:DEVICE``
#: for PyTorch on a device (``torch:cuda``, ``torch:cuda:1``; ``torch`` alone is the CPU).
BACKEND_FORMS = ("numpy", "array_api_strict", "torch", "torch:cuda[:N]", "cupy")


def parse_backend(text: str) -> tuple[str, str | None]:
    """``(name, device)`` of a ``--backend`` value, checking only its spelling.

    Parameters
    ----------
    text
        ``numpy``, ``array_api_strict``, ``torch`` (CPU), ``torch:cuda`` or ``torch:cuda:N``
        (a CUDA device), ``torch:cpu``, or ``cupy`` (its current CUDA device).

    Returns
    -------
    tuple
        The backend name and the device (``None``: the backend's default device).

    Raises
    ------
    ValueError
        One line naming the accepted forms and, for a near miss, the closest.
    """
    from numerics.backend import BACKENDS  # noqa: PLC0415

    name, _, device = str(text).partition(":")
    forms = ", ".join(BACKEND_FORMS)
    if name not in BACKENDS:
        import difflib  # noqa: PLC0415

        close = ([b for b in BACKENDS if b.lower() == name.lower()]
                 or difflib.get_close_matches(name, BACKENDS, n=1))
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"expected one of {forms}; got {text!r}{hint}")
    if not device:
        if text.endswith(":"):
            raise ValueError(f"expected one of {forms}; got {text!r} (a device after ':')")
        return name, None
    if name != "torch":
        raise ValueError(f"only torch takes a device (torch:cuda, torch:cuda:N); got {text!r}")
    kind, _, index = device.partition(":")
    if kind == "cpu" and not index:
        return name, None
    if kind != "cuda" or (index and not index.isdigit()):
        raise ValueError(f"expected torch, torch:cpu, torch:cuda or torch:cuda:N; got {text!r}")
    return name, device


@dataclass(frozen=True)
class Backend:
    """An array backend the engine and two-layer sections run on, resolved on this machine.

    Made by :func:`resolve_backend`. Problem data is drawn on the host with NumPy and moved
    with :meth:`asarray`, so every backend solves the same problem.

    Attributes
    ----------
    name
        ``"numpy"``, ``"array_api_strict"``, ``"torch"`` or ``"cupy"``.
    device
        ``None`` (the backend's default: the host, or CuPy's current device), or a torch
        CUDA device such as ``"cuda:0"``.
    xp
        The namespace, from :func:`numerics.backend.get_namespace`.
    label
        What the rows of this backend are tagged with: ``numpy``, ``array_api_strict``,
        ``torch CPU``, ``torch cuda:0``, ``cupy cuda:0``.
    """

    name: str
    device: str | None
    xp: Any = field(repr=False, compare=False)
    label: str = ""

    @property
    def spec(self) -> str:
        """The ``--backend`` value that resolves to this backend (``torch:cuda:0``)."""
        return self.name if self.device is None else f"{self.name}:{self.device}"

    @property
    def on_gpu(self) -> bool:
        """Whether the arrays live on a GPU (timed with a sync, host memory rows not measured)."""
        return self.name == "cupy" or self.device is not None

    @property
    def host_numpy_memory(self) -> bool:
        """Whether the arrays' memory is NumPy's (``tracemalloc`` sees it): NumPy, and
        ``array_api_strict``, which wraps NumPy arrays."""
        return self.name in ("numpy", "array_api_strict")

    def tag(self, text: str) -> str:
        """``text`` with the backend in front, so rows of two backends share one table."""
        return f"[{self.label}] {text}"

    def not_measured(self, why: str) -> str:
        """The detail of a row this backend cannot measure (never a silently wrong number)."""
        return f"not measured on {self.label}: {why}"

    @property
    def _device(self) -> dict[str, Any]:
        return {} if self.device is None else {"device": self.device}

    def asarray(self, a: Any) -> Any:
        """``a`` (a NumPy array drawn on the host) as an array of this backend and device."""
        return self.xp.asarray(a, **self._device)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        """float64 zeros of this backend and device."""
        return self.xp.zeros(shape, dtype=self.xp.float64, **self._device)

    def sync(self) -> None:
        """Wait until the device has finished the work queued so far (no-op on the host)."""
        if self.name == "torch" and self.device is not None:
            import torch  # noqa: PLC0415

            torch.cuda.synchronize(self.device)
        elif self.name == "cupy":
            import cupy  # noqa: PLC0415

            cupy.cuda.get_current_stream().synchronize()

    def peak_bytes(self, fn: Callable[[], Any]) -> tuple[int | None, str]:
        """Peak bytes allocated while ``fn`` runs, above those allocated when it started,
        and how they were counted; ``(None, reason)`` where this backend cannot say.

        NumPy and ``array_api_strict``: :func:`peak_bytes` (``tracemalloc``, which NumPy
        reports its buffers to). PyTorch on CUDA: ``torch.cuda.max_memory_allocated`` after
        ``reset_peak_memory_stats``. CuPy: a memory hook on its pool adding the bytes handed
        out and subtracting those returned. PyTorch on the CPU allocates outside Python's
        allocator hooks and keeps no peak statistic: not measured.
        """
        if self.host_numpy_memory:
            return peak_bytes(fn), "tracemalloc"
        if self.name == "torch" and self.device is not None:
            import torch  # noqa: PLC0415

            self.sync()
            torch.cuda.reset_peak_memory_stats(self.device)
            base = torch.cuda.memory_allocated(self.device)
            fn()
            self.sync()
            return (torch.cuda.max_memory_allocated(self.device) - base,
                    "torch.cuda.max_memory_allocated")
        if self.name == "cupy":
            return _cupy_peak(fn, self.sync), "CuPy memory-pool hook"
        return None, self.not_measured("its CPU allocator keeps no peak and tracemalloc "
                                       "does not see it")

    def copy_bandwidth(self, nbytes: int) -> float:
        """Bytes per second of a large copy on the device (read + write), the backend's own
        way (``Tensor.copy_``, ``cupy.copyto``); only for :attr:`on_gpu` backends."""
        n = nbytes // 8
        a, b = self.zeros((n,)) + 1.0, self.zeros((n,))
        if self.name == "torch":
            go = lambda: b.copy_(a)  # noqa: E731
        else:
            import cupy  # noqa: PLC0415

            go = lambda: cupy.copyto(b, a)  # noqa: E731
        return 2.0 * 8 * n / best_time(go, repeat=5, sync=self.sync)

    def matmul_rate(self, size: int) -> float:
        """float64 FLOP/s of a ``size × size`` matmul through this backend's namespace."""
        rng = np.random.default_rng(0)
        a = self.asarray(rng.standard_normal((size, size)))
        b = self.asarray(rng.standard_normal((size, size)))
        t = best_time(lambda: self.xp.matmul(a, b), repeat=5, sync=self.sync)
        return 2.0 * size**3 / t


def _cupy_peak(fn: Callable[[], Any], sync: Callable[[], None]) -> int:
    """Peak bytes CuPy's memory pool handed out while ``fn`` ran, above its start."""
    import cupy  # noqa: PLC0415

    class Peak(cupy.cuda.MemoryHook):
        name = "implreg_benchmarks_peak"

        def __init__(self) -> None:
            self.now = self.peak = 0

        def malloc_postprocess(self, **kw: Any) -> None:
            self.now += int(kw["mem_size"])
            self.peak = max(self.peak, self.now)

        def free_postprocess(self, **kw: Any) -> None:
            self.now -= int(kw["mem_size"])

    hook = Peak()
    sync()
    with hook:
        fn()
        sync()
    return hook.peak


def resolve_backend(text: str) -> Backend:
    """The :class:`Backend` of a ``--backend`` value, checked on this machine.

    Raises
    ------
    ValueError
        A misspelt value (:func:`parse_backend`).
    numerics.backend.BackendUnavailableError
        The library is not installed (with its install command), CuPy finds no GPU, or
        PyTorch has no such CUDA device.
    """
    from numerics.backend import BackendUnavailableError, get_namespace  # noqa: PLC0415

    name, device = parse_backend(text)
    xp = get_namespace(name)
    label = name
    if name == "torch":
        import torch  # noqa: PLC0415

        if device is None:
            label = "torch CPU"
        else:
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if count == 0:
                raise BackendUnavailableError(
                    f"--backend {text}: torch {torch.__version__} has no CUDA device here; "
                    "use --backend torch for the CPU")
            index = int(device.partition(":")[2] or torch.cuda.current_device())
            if index >= count:
                raise BackendUnavailableError(
                    f"--backend {text}: torch sees {count} CUDA device(s), cuda:0 to "
                    f"cuda:{count - 1}")
            device = f"cuda:{index}"
            label = f"torch {device}"
    elif name == "cupy":
        import cupy  # noqa: PLC0415

        label = f"cupy cuda:{cupy.cuda.Device().id}"
    return Backend(name, device, xp, label)


def gpu_summary() -> str:
    """One line saying which GPUs the suite could run on, e.g. ``GPU: none (CuPy not
    installed; torch has no CUDA device)`` or ``GPU: cupy cuda:0 (NVIDIA A100); torch
    cuda:0 (NVIDIA A100)``."""
    import importlib.util  # noqa: PLC0415

    found: list[str] = []
    absent: list[str] = []
    if importlib.util.find_spec("cupy") is None:
        absent.append("CuPy not installed")
    else:
        from numerics.backend import BackendUnavailableError, get_namespace  # noqa: PLC0415

        try:
            get_namespace("cupy")
            import cupy  # noqa: PLC0415

            for i in range(cupy.cuda.runtime.getDeviceCount()):
                props = cupy.cuda.runtime.getDeviceProperties(i)
                gpu = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
                found.append(f"cupy cuda:{i} ({gpu})")
        except BackendUnavailableError:
            absent.append("CuPy finds no CUDA device")
    if importlib.util.find_spec("torch") is None:
        absent.append("torch not installed")
    else:
        import torch  # noqa: PLC0415

        if torch.cuda.is_available() and torch.cuda.device_count() > 0:
            found += [f"torch cuda:{i} ({torch.cuda.get_device_name(i)})"
                      for i in range(torch.cuda.device_count())]
        else:
            absent.append("torch has no CUDA device")
    if not found:
        return f"GPU: none ({'; '.join(absent)})"
    return "GPU: " + "; ".join(found)
