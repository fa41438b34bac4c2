"""Section 1 (replica engine) and the engine half of section 5 (scaling).

Minibatch SGD (batch ``B`` without replacement) on least squares
(:class:`numerics.LeastSquares`) and on a sum of quadratics
(:class:`numerics.stability.SumOfQuadratics`), run by :func:`numerics.run`.

Bytes a step must move (the roofline's numerator), per replica: read ``x`` and write the new
iterate (``2·d`` floats), read the ``B`` sampled rows (``B·d`` floats for least squares,
``B·d²`` for quadratics: per-sample Hessians are dense), their ``B`` targets and ``B``
indices (written by the sampler, read by the gather). The rows come from a design matrix
shared by all replicas, which need not leave the cache: the roofline is therefore an upper
bound that a gather-based step can approach but that DRAM traffic alone would not impose.

Every function takes the :class:`~benchmarks._util.Backend` to run on (NumPy by default):
the problem is drawn on the host with NumPy and moved with ``xp.asarray``, the clock is read
after the device synchronizes, and each row's name starts with the backend's label. The
per-replica loop is written in the same namespace (on NumPy, the in-place loop a NumPy user
writes); rows a backend cannot measure say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks._util import Backend, Row, best_time, fresh_process, minor_faults, resolve_backend, scaling_rows

SECTION = "1 replica engine"


@dataclass(frozen=True)
class EngineConfig:
    replicas: tuple[int, ...] = (1, 100, 10_000)
    d: int = 100
    n: int = 1_000
    batch: int = 10
    eta: float = 0.05
    work: int = 200_000  # replica-steps per timed run (steps = work / R, clipped)
    loop_replicas: int = 200  # replicas timed in the per-replica loop
    torch: bool = True  # compare with PyTorch when it is installed


def _steps(cfg: EngineConfig, R: int) -> int:
    return int(min(1000, max(5, cfg.work // R)))


def least_squares_problem(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) / np.sqrt(d), rng.standard_normal(n)


def _loop_rate(A: np.ndarray, y: np.ndarray, R: int, B: int, eta: float, steps: int,
               be: Backend | None = None) -> float:
    """Replica-steps per second of the per-replica Python loop (the baseline) on ``be``.

    On NumPy the in-place loop over the rows of ``x``; on other backends the same loop in
    the array API (each replica's iterate a separate array, its indices drawn on the host
    and moved, as a loop written for that library would).
    """
    n, d = A.shape
    rng = np.random.default_rng(1)
    scale = 1.0 / B  # reduction="mean": (c n / B) with c = 1/n
    if be is None or be.name == "numpy":
        x = np.zeros((R, d))

        def go() -> None:
            for _ in range(steps):
                for r in range(R):
                    idx = rng.choice(n, B, replace=False)
                    rows = A[idx]
                    x[r] -= eta * scale * (rows.T @ (rows @ x[r] - y[idx]))

        return R * steps / best_time(go, repeat=3)
    xp, Ax, yx = be.xp, be.asarray(A), be.asarray(y)
    xs = [be.zeros((d,)) for _ in range(R)]

    def go_xp() -> None:
        for _ in range(steps):
            for r in range(R):
                idx = be.asarray(rng.choice(n, B, replace=False))
                rows = xp.take(Ax, idx, axis=0)
                resid = xp.matmul(rows, xs[r]) - xp.take(yx, idx)
                xs[r] = xs[r] - (eta * scale) * xp.matmul(resid, rows)

    return R * steps / best_time(go_xp, repeat=3, sync=be.sync)


def _torch_rate(A: np.ndarray, y: np.ndarray, R: int, B: int, eta: float, steps: int,
                device: str = "cpu") -> float | None:
    """Replica-steps per second of the same batched program written directly in PyTorch,
    on ``device`` (the clock read after ``torch.cuda.synchronize`` there)."""
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return None
    At, yt = torch.from_numpy(A).to(device), torch.from_numpy(y).to(device)
    n, d = A.shape
    gen = torch.Generator(device=device).manual_seed(0)
    sync = (lambda: torch.cuda.synchronize(device)) if device != "cpu" else None

    def go() -> None:
        x = torch.zeros((R, d), dtype=torch.float64, device=device)
        for _ in range(steps):
            keys = torch.rand((R, n), generator=gen, dtype=torch.float64, device=device)
            idx = torch.topk(keys, B, dim=1, largest=False).indices  # uniform B-subsets
            rows = At[idx]  # (R, B, d)
            r = torch.einsum("rbd,rd->rb", rows, x) - yt[idx]
            x = x - (eta / B) * torch.einsum("rbd,rb->rd", rows, r)

    with torch.no_grad():
        return R * steps / best_time(go, repeat=3, sync=sync)


def _torch_has_cuda() -> bool:
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return True  # the row then says torch is not installed
    return bool(torch.cuda.is_available())


def _engine_rate(model: Any, R: int, d: int, B: int, eta: float, steps: int,
                 be: Backend) -> float:
    from numerics import SGD, run  # noqa: PLC0415

    x0 = be.zeros((R, d))
    rule = SGD(eta, batch=B)
    return R * steps / best_time(lambda: run(model, rule, x0, steps, rng=0, record=()), repeat=3,
                                 sync=be.sync)


def _run_peak(model: Any, R: int, d: int, B: int, eta: float, steps: int,
              be: Backend) -> tuple[int | None, str]:
    from numerics import SGD, run  # noqa: PLC0415

    x0 = be.zeros((R, d))
    return be.peak_bytes(lambda: run(model, SGD(eta, batch=B), x0, steps, rng=0, record=()))


def _least_squares(n: int, d: int, be: Backend) -> Any:
    from numerics import LeastSquares  # noqa: PLC0415

    A, y = least_squares_problem(n, d)
    return LeastSquares(be.asarray(A), be.asarray(y))


def faults_per_step(R: int, d: int, n: int, B: int, eta: float, steps: int,
                    backend: str = "numpy") -> float:
    """Minor page faults per step of least-squares SGD on ``backend`` (a ``--backend``
    value), in a run after a first one (the first touches the problem's pages; the second
    counts what every step re-faults)."""
    from numerics import SGD, run  # noqa: PLC0415

    be = resolve_backend(backend)
    model, x0 = _least_squares(n, d, be), be.zeros((R, d))
    go = lambda: run(model, SGD(eta, batch=B), x0, steps, rng=0, record=())  # noqa: E731
    go()
    return minor_faults(go) / steps


def _faults_row(be: Backend, name: str, call: str) -> Row:
    """The page-fault row: counted in a fresh process on host backends; host page faults
    say nothing of device memory, so a GPU backend's row says it is not measured."""
    if be.on_gpu:
        return Row(SECTION, be.tag(name), None,
                   detail=be.not_measured("host page faults do not count device memory"))
    f = fresh_process(call)
    return Row(SECTION, be.tag(name), f, unit="", target="(0 when a step allocates nothing large)",
               detail="fresh process, second run (resource.getrusage)", raw={"faults_per_step": f})


def bench_engine(cfg: EngineConfig, bandwidth: float, be: Backend | None = None) -> list[Row]:
    """Section 1 on backend ``be`` (NumPy if omitted); ``bandwidth`` is the copy bandwidth
    of the memory its arrays live in (the host's, or the device's)."""
    be = be or resolve_backend("numpy")
    rows: list[Row] = []
    A, y = least_squares_problem(cfg.n, cfg.d)
    ls = _least_squares(cfg.n, cfg.d, be)
    B, d = cfg.batch, cfg.d
    loop_steps = 3
    loop = _loop_rate(A, y, min(cfg.loop_replicas, max(cfg.replicas)), B, cfg.eta, loop_steps, be)
    torch_device = "cpu" if not be.on_gpu else (be.device or "cuda")
    peer = f"÷ batched PyTorch ({'CPU' if torch_device == 'cpu' else 'CUDA'})"
    for R in cfg.replicas:
        steps = _steps(cfg, R)
        rate = _engine_rate(ls, R, d, B, cfg.eta, steps, be)
        need = 8.0 * (2 * d + B * d + 2 * B)  # bytes per replica-step (module docstring)
        frac = rate * need / bandwidth
        big = R == max(cfg.replicas)
        rows.append(Row(SECTION, be.tag(f"least squares R={R}: replica-steps/s ÷ per-replica loop"),
                        rate / loop, target="≥ 20× at R=10⁴" if big else "",
                        ok=(rate / loop >= 20) if big else None,
                        detail=f"{rate:.3g} vs {loop:.3g} replica-steps/s",
                        raw={"rate": rate, "loop_rate": loop, "R": R, "steps": steps}))
        rows.append(Row(SECTION, be.tag(f"least squares R={R}: fraction of bandwidth roofline"),
                        frac, unit="", target="≥ 0.5 at R=10⁴" if big else "",
                        ok=(frac >= 0.5) if big else None,
                        detail=f"{need:.0f} B/replica-step, copy {bandwidth / 1e9:.1f} GB/s",
                        raw={"bytes_per_replica_step": need, "bandwidth": bandwidth}))
        if big:
            rows.append(_faults_row(
                be, f"least squares R={R}: minor page faults per step",
                f"benchmarks.engine:faults_per_step({R}, {d}, {cfg.n}, {B}, {cfg.eta}, {steps}, "
                f"{be.spec!r})"))
            state = 8 * R * d
            peak, how = _run_peak(ls, R, d, B, cfg.eta, min(steps, 20), be)
            name = be.tag(f"least squares R={R}: peak memory ÷ iterate")
            if peak is None:
                rows.append(Row(SECTION, name, None, detail=how))
            else:
                rows.append(Row(SECTION, name, peak / state, target="≤ 2", ok=peak / state <= 2,
                                detail=f"peak {peak / 2**20:.1f} MiB above x0, iterate "
                                       f"{state / 2**20:.1f} MiB ({how})",
                                raw={"peak": peak, "state": state}))
        name = be.tag(f"least squares R={R}: {peer}")
        if not cfg.torch:
            rows.append(Row(SECTION, name, None, detail="skipped in this configuration"))
            continue
        if be.name == "cupy" and not _torch_has_cuda():
            rows.append(Row(SECTION, name, None,
                            detail=be.not_measured("torch has no CUDA device to run the peer on")))
            continue
        t = _torch_rate(A, y, R, B, cfg.eta, steps, torch_device)
        if t is None:
            rows.append(Row(SECTION, name, None,
                            detail="skipped: torch is not installed (pip install 'implreg[torch]')"))
        else:
            rows.append(Row(SECTION, name, rate / t, target="≥ 1 (informational)",
                            detail=f"torch {t:.3g} replica-steps/s", raw={"torch_rate": t}))
    rows.extend(_bench_quadratics(cfg, bandwidth, be))
    return rows


def _bench_quadratics(cfg: EngineConfig, bandwidth: float, be: Backend) -> list[Row]:
    try:
        from numerics.stability import SumOfQuadratics, quadratic_ensemble  # noqa: PLC0415
    except ImportError:
        return [Row(SECTION, be.tag("sum of quadratics"), None,
                    detail="skipped: numerics.stability is not available")]
    d, n, B = cfg.d, cfg.n, cfg.batch
    H = np.asarray(quadratic_ensemble(1.0, 0.5, n, d, rng=0))
    Hx = be.asarray(H)
    model = SumOfQuadratics(Hx, check=False)
    out: list[Row] = []
    loop_R = min(cfg.loop_replicas, max(cfg.replicas), 50)

    def loop() -> None:
        rng = np.random.default_rng(1)
        if be.name == "numpy":  # the in-place loop a NumPy user writes
            x = np.ones((loop_R, d))
            for r in range(loop_R):
                idx = rng.choice(n, B, replace=False)
                x[r] -= cfg.eta * np.mean(H[idx] @ x[r], axis=0)
            return
        xs = [be.zeros((d,)) + 1.0 for _ in range(loop_R)]
        for r in range(loop_R):
            idx = be.asarray(rng.choice(n, B, replace=False))
            xs[r] = xs[r] - cfg.eta * be.xp.mean(be.xp.matmul(be.xp.take(Hx, idx, axis=0), xs[r]),
                                                 axis=0)

    loop_rate = loop_R / best_time(loop, repeat=3, sync=be.sync)
    for R in cfg.replicas:
        # SumOfQuadratics.batch_grad gathers the B dense H_i of a bounded block of replicas
        # at a time, so even R = 10⁴ (8·R·B·p² = 7.5 GiB per step in all) fits in memory.
        steps = max(3, _steps(cfg, R) // 10)
        rate = _engine_rate(model, R, d, B, cfg.eta, steps, be)
        need = 8.0 * (2 * d + B * d * d + 2 * B)
        out.append(Row(SECTION, be.tag(f"sum of quadratics R={R}: ÷ per-replica loop"),
                       rate / loop_rate, detail=f"{rate:.3g} vs {loop_rate:.3g} replica-steps/s",
                       raw={"rate": rate, "loop_rate": loop_rate, "R": R}))
        out.append(Row(SECTION, be.tag(f"sum of quadratics R={R}: fraction of bandwidth roofline"),
                       rate * need / bandwidth, unit="",
                       detail=f"{need:.0f} B/replica-step (B dense p×p Hessians)"))
    return out


def bench_engine_scaling(cfg: EngineConfig, base_R: int, doublings: int = 2,
                         be: Backend | None = None) -> list[Row]:
    """Time per step and peak memory of least-squares SGD on ``be`` as R, d and n double."""
    be = be or resolve_backend("numpy")
    rows: list[Row] = []
    expected_t = {"R": 1.0, "d": 1.0, "n": 0.0}
    expected_m = {"R": 1.0, "d": 1.0, "n": 0.0}
    why = {"R": "work and state ∝ R", "d": "work and state ∝ d",
           "n": "sampling is O(B²) and the gather O(B·d): no n"}
    for axis in ("R", "d", "n"):
        sizes, times, peaks = [], [], []
        how = ""
        for k in range(doublings + 1):
            R = base_R * (2**k if axis == "R" else 1)
            d = cfg.d * (2**k if axis == "d" else 1)
            n = cfg.n * (2**k if axis == "n" else 1)
            model = _least_squares(n, d, be)
            steps = 10
            rate = _engine_rate(model, R, d, cfg.batch, cfg.eta / 2, steps, be)
            sizes.append({"R": R, "d": d, "n": n}[axis])
            times.append(R / rate)
            peak, how = _run_peak(model, R, d, cfg.batch, cfg.eta / 2, steps, be)
            peaks.append(peak)
        rows += scaling_rows(be, "engine", axis, sizes, times, peaks, how,
                             (expected_t[axis], why[axis]), (expected_m[axis], "state R·d"))
    # Peak memory against the state the simulation must hold (x: R·d floats), largest R.
    R = base_R * 2**doublings
    peak, how = _run_peak(_least_squares(cfg.n, cfg.d, be), R, cfg.d, cfg.batch, cfg.eta, 10, be)
    state = 8 * R * cfg.d
    name = be.tag(f"engine peak memory ÷ state (R={R}, x is R·d floats)")
    if peak is None:
        rows.append(Row("5 scaling", name, None, detail=how))
    else:
        rows.append(Row("5 scaling", name, peak / state, target="≤ 2", ok=peak / state <= 2,
                        detail=f"peak {peak / 2**20:.1f} MiB, state {state / 2**20:.1f} MiB ({how})",
                        raw={"peak": peak, "state": state}))
    return rows
