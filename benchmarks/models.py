"""Section 2 (two-layer networks), section 3 (sharpness) and the two-layer half of section 5.

FLOPs of one full-batch GD step on :class:`numerics.two_layer.TwoLayerReLU` with ``R``
replicas, ``n`` samples, width ``m``, input dimension ``d``: the pre-activations
``X Bᵀ`` (``2Rnmd``) and the input-weight gradient ``(D∘r)ᵀX`` (``2Rnmd``) dominate; the
output layer adds ``O(Rnm)``. We count ``4Rnmd + 6Rnm``.

The two-layer rows run on a :class:`~benchmarks._util.Backend` (NumPy by default; data drawn
on the host and moved with ``xp.asarray``, the clock read after the device synchronizes,
each row's name starting with the backend's label); the sharpness rows run on NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks._util import Backend, Row, best_time, fresh_process, minor_faults, resolve_backend, scaling_rows

SECTION = "2 two-layer"


@dataclass(frozen=True)
class ModelConfig:
    sizes: tuple[tuple[int, int, int, int], ...] = ((4, 500, 50, 64), (4, 1000, 100, 128),
                                                   (4, 2000, 100, 256))  # (R, n, d, m)
    eig_p: int = 400
    trace_p: int = 400
    trace_reps: int = 64
    scaling_base: tuple[int, int, int, int] = (2, 500, 50, 64)


def _two_layer(R: int, n: int, d: int, m: int, be: Backend | None = None):
    """The net and ``R`` initial parameter vectors, drawn on the host and moved to ``be``."""
    from numerics.two_layer import TwoLayerReLU  # noqa: PLC0415

    be = be or resolve_backend("numpy")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    y = np.tanh(X[:, 0])
    net = TwoLayerReLU(be.asarray(X), be.asarray(y), m)
    theta = rng.standard_normal((R, net.p)) / np.sqrt(m)
    return net, be.asarray(theta)


def faults_per_step(R: int, n: int, d: int, m: int, steps: int = 3,
                    backend: str = "numpy") -> float:
    """Minor page faults per full-batch GD step on the two-layer net on ``backend`` (a
    ``--backend`` value), in a run after a first."""
    from numerics import GD, run  # noqa: PLC0415

    net, theta = _two_layer(R, n, d, m, resolve_backend(backend))
    go = lambda: run(net, GD(0.01), theta, steps, record=())  # noqa: E731
    go()
    return minor_faults(go) / steps


def bench_two_layer(cfg: ModelConfig, flops: float, be: Backend | None = None) -> list[Row]:
    """Section 2 on backend ``be`` (NumPy if omitted); ``flops`` is the matmul rate of the
    same backend and device."""
    be = be or resolve_backend("numpy")
    try:
        import numerics.two_layer  # noqa: F401, PLC0415
    except ImportError:
        return [Row(SECTION, be.tag("two-layer networks"), None,
                    detail="skipped: numerics.two_layer is not available")]
    from numerics import GD, run  # noqa: PLC0415

    rows: list[Row] = []
    for i, (R, n, d, m) in enumerate(cfg.sizes):
        net, theta = _two_layer(R, n, d, m, be)
        steps = 5
        t = best_time(lambda: run(net, GD(0.01), theta, steps, record=()), repeat=3,
                      sync=be.sync) / steps
        rate = (4 * R * n * m * d + 6 * R * n * m) / t
        last = i == len(cfg.sizes) - 1
        rows.append(Row(SECTION, be.tag(f"GD step R={R} n={n} d={d} m={m}: FLOP rate ÷ matmul "
                                        "rate"),
                        rate / flops, unit="", target="≥ 0.5 at the largest size" if last else "",
                        ok=(rate / flops >= 0.5) if last else None,
                        detail=f"{rate / 1e9:.2f} vs {flops / 1e9:.1f} GFLOP/s",
                        raw={"seconds_per_step": t, "flop_rate": rate}))
        if last:
            name = be.tag(f"GD step R={R} n={n} d={d} m={m}: minor page faults per step")
            if be.on_gpu:
                rows.append(Row(SECTION, name, None, detail=be.not_measured(
                    "host page faults do not count device memory")))
            else:
                f = fresh_process(f"benchmarks.models:faults_per_step({R}, {n}, {d}, {m}, "
                                  f"backend={be.spec!r})")
                rows.append(Row(SECTION, name, f, unit="",
                                target="(0 when a step allocates nothing large)",
                                detail="fresh process, second run (resource.getrusage)",
                                raw={"faults_per_step": f}))
        v = be.asarray(np.random.default_rng(1).standard_normal(tuple(theta.shape)))
        tg = best_time(lambda: net.grad(theta), repeat=5, sync=be.sync)
        th = best_time(lambda: net.hvp(theta, v), repeat=5, sync=be.sync)
        rows.append(Row(SECTION, be.tag(f"HVP cost ÷ gradient cost (n={n}, m={m})"), th / tg,
                        target="≤ 2", ok=th / tg <= 2,
                        detail=f"{th * 1e3:.2f} ms vs {tg * 1e3:.2f} ms"))
    return rows


def bench_two_layer_scaling(cfg: ModelConfig, doublings: int = 2,
                            be: Backend | None = None) -> list[Row]:
    """Time and peak memory of two-layer GD on ``be`` as R, d and n double."""
    be = be or resolve_backend("numpy")
    try:
        import numerics.two_layer  # noqa: F401, PLC0415
    except ImportError:
        return []
    from numerics import GD, run  # noqa: PLC0415

    rows = []
    R0, n0, d0, m0 = cfg.scaling_base
    for axis in ("R", "d", "n"):
        sizes, times, peaks = [], [], []
        how = ""
        for k in range(doublings + 1):
            f = 2**k
            R, n, d = R0 * (f if axis == "R" else 1), n0 * (f if axis == "n" else 1), d0 * (f if axis == "d" else 1)
            net, theta = _two_layer(R, n, d, m0, be)
            times.append(best_time(lambda: run(net, GD(0.01), theta, 3, record=()), repeat=3,
                                   sync=be.sync))
            # A fresh network: its work arrays (kept between calls) are allocated inside the
            # measured run, so they count.
            fresh, _ = _two_layer(R, n, d, m0, be)
            peak, how = be.peak_bytes(lambda: run(fresh, GD(0.01), theta, 3, record=()))
            peaks.append(peak)
            sizes.append({"R": R, "d": d, "n": n}[axis])
        rows += scaling_rows(be, "two-layer GD", axis, sizes, times, peaks, how,
                             (1.0, "4Rnmd FLOPs"),
                             ({"R": 1.0, "n": 1.0, "d": 0.0}[axis],
                              "(R, n, m) activations; θ is R·m·d ≪ R·n·m"), time="time")
    return rows


def bench_sharpness(cfg: ModelConfig) -> list[Row]:
    try:
        from numerics.sharpness import hessian_trace, top_eigenvalue  # noqa: PLC0415
    except ImportError:
        return [Row("3 sharpness", "sharpness", None,
                    detail="skipped: numerics.sharpness is not available")]
    from scipy.sparse.linalg import LinearOperator, eigsh  # noqa: PLC0415

    rows: list[Row] = []
    # Top eigenvalue: the least-squares Hessian (1/n)AᵀA of a Gaussian design, n = 2.5 p
    # (a Marchenko–Pastur bulk; the relative top gap is ~ p^(-2/3)).
    p = cfg.eig_p
    rng = np.random.default_rng(0)
    A = rng.standard_normal((int(2.5 * p), p))
    H = A.T @ A / A.shape[0]
    lam = np.linalg.eigvalsh(H)[-1]
    v0 = rng.standard_normal((1, p))
    counts: dict[str, tuple[int, float]] = {}
    for method in ("power", "lanczos"):
        est = top_eigenvalue(lambda v: v @ H, v0, method=method, rtol=1e-8, maxiter=5000)
        counts[method] = (est.matvecs, abs(float(est.value[0]) - lam) / lam)
    calls = [0]

    def mv(v: np.ndarray) -> np.ndarray:
        calls[0] += 1
        return H @ v

    val = eigsh(LinearOperator((p, p), matvec=mv, dtype=np.float64), k=1, which="LA",
                tol=1e-8, v0=v0[0])[0][0]
    counts["eigsh"] = (calls[0], abs(val - lam) / lam)
    detail = ", ".join(f"{k} {c} (rel. err {e:.1e})" for k, (c, e) in counts.items())
    ratio = counts["lanczos"][0] / counts["eigsh"][0]
    rows.append(Row("3 sharpness", f"top eigenvalue to 1e-8 (p={p}): Lanczos ÷ eigsh matvecs",
                    ratio, target="≤ 1", ok=ratio <= 1 and counts["lanczos"][1] <= 1e-8,
                    detail=detail, raw={k: {"matvecs": c, "rel_error": e} for k, (c, e) in counts.items()}))
    rows.append(Row("3 sharpness", "top eigenvalue to 1e-8: power ÷ Lanczos matvecs",
                    counts["power"][0] / counts["lanczos"][0], target="(informational)"))
    # Trace to 1 %: a PSD operator with a decaying spectrum λ_i = i^(-1.5) (a few large
    # directions and a tail, as Hessians of trained networks have), R independent estimates;
    # the budget is the smallest m with RMS relative error ≤ 1 %.
    p = cfg.trace_p
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    Ht = (Q * np.arange(1, p + 1) ** -1.5) @ Q.T
    tr = float(np.trace(Ht))
    need = {}
    for method in ("hutchinson", "hutch++"):
        need[method] = None
        for m in (6, 12, 24, 48, 96, 192, 384, 768, 1536):
            est = hessian_trace(lambda v: v @ Ht, (cfg.trace_reps, p), rng=m, matvecs=m,
                                method=method)
            rms = float(np.sqrt(np.mean((np.asarray(est.value) - tr) ** 2))) / tr
            if rms <= 0.01:
                need[method] = m
                break
    h, hp = need["hutchinson"], need["hutch++"]
    ratio = (h / hp) if (h and hp) else float("nan")
    rows.append(Row("3 sharpness", f"trace to 1 % (p={p}): Hutchinson ÷ Hutch++ matvecs", ratio,
                    target="> 1", ok=(h is None and hp is not None) or (ratio > 1),
                    detail=f"Hutchinson {h or '>1536'}, Hutch++ {hp or '>1536'} "
                           f"(RMS over {cfg.trace_reps} estimates)",
                    raw={"hutchinson": h, "hutch++": hp}))
    return rows
