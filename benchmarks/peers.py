"""Section 6 (peers): implreg against what a researcher would write instead, in JAX and PyTorch.

Two cases, each contender timed in the same run, interleaved (round ``i`` times every
contender once, in turn; the figure is each contender's best round), so that a load spike
on a shared machine hits all of them:

* **Replica engine** — minibatch SGD on least squares, ``R`` replicas, ``n`` samples,
  dimension ``d``, batch ``B``: :func:`numerics.run` with :class:`numerics.SGD` against

  - JAX ``jit(lax.scan(vmap(step)))``, each replica drawing its own batch, labelled by
    the sampling: *exact without replacement* (the ``B`` smallest of ``n`` i.i.d. uniform
    keys, ``lax.top_k``: a uniform ordered ``B``-subset, implreg's law) and *with
    replacement* (``B`` i.i.d. indices, a different and cheaper law);
  - PyTorch eager (``torch.topk`` of uniform keys; and ``torch.randint`` with
    replacement) and ``torch.compile`` of the same step.

* **Two-layer GD** — full-batch GD on :class:`numerics.two_layer.TwoLayerReLU`,
  ``R`` replicas: JAX ``jit(lax.scan(vmap(grad(loss))))``, PyTorch eager autograd and
  ``torch.compile`` of the step.

* **Two-layer single replica** — one gradient and one Hessian-vector product of the same
  net and float64 data against PyTorch's (``torch.func.grad`` and ``torch.autograd.grad``;
  ``torch.func.jvp`` of the gradient, ``torch.func.vjp`` of it and double backward for the
  HVP: the fastest of each is the peer, and the row names it), at one thread (PyTorch's
  ``set_num_threads(1)``, NumPy's BLAS limited through threadpoolctl) and at the default
  threads. Before any timing every PyTorch variant must agree with implreg within the
  float64 rounding bound 2γ_K·S (:func:`rounding_bound`); one that does not is
  not timed, and the row says so.

Every row is ``implreg ÷ peer`` as a ratio of rates (> 1: implreg is faster). A contender
slower than :data:`SLOW` seconds a call is timed once. JIT compilation is timed separately (first call minus a steady call) and not included in the
ratios. A peer whose library is absent is skipped with one line saying how to install it
(``pip install 'implreg[bench]'``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import _util
from benchmarks._util import Row
from benchmarks.engine import least_squares_problem

SECTION = "6 peers"
HINT = "pip install 'implreg[bench]'"


@dataclass(frozen=True)
class PeerConfig:
    replicas: tuple[int, ...] = (100, 1_000, 10_000)
    d: int = 100
    n: int = 1_000
    batch: int = 10
    eta: float = 0.05
    work: int = 200_000  # replica-steps per timed run
    float32: bool = True  # also the largest R in float32
    two_layer: tuple[tuple[int, int, int, int], ...] = ((4, 500, 100, 256), (4, 1000, 100, 256),
                                                       (4, 2000, 100, 256))  # (R, n, d, m)
    two_layer_steps: int = 5
    repeat: int = 5
    compile: bool = True  # torch.compile (slow to compile; off in the tiny configuration)
    # (n, d, m) of the single-replica gradient/HVP rows; None: the largest two-layer size and
    # a smaller one (the smallest two-layer size, or n/4 when there is one size).
    single_replica: tuple[tuple[int, int, int], ...] | None = None


def _steps(cfg: PeerConfig, R: int) -> int:
    return int(min(500, max(5, cfg.work // R)))


#: A contender whose warm-up call takes longer than this (seconds) is not called again: its
#: warm-up, a steady call (compilation is triggered before), is its time.
SLOW = 5.0


def interleaved(contenders: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best seconds per call of each contender, timed in turn ``repeat`` times after one
    warm-up call each (a contender slower than :data:`SLOW` is timed once, at its warm-up)."""
    repeat = max(1, min(repeat, _util.MAX_REPEAT))
    best = {}
    for k, fn in contenders.items():
        t = time.perf_counter()
        fn()
        best[k] = time.perf_counter() - t
    fast = [k for k in contenders if best[k] <= SLOW]
    for k in fast:
        best[k] = math.inf
    for _ in range(repeat):
        for k in fast:
            t = time.perf_counter()
            contenders[k]()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def _compile_time(fn: Callable[[], Any], steady: Callable[[], Any]) -> float:
    """Seconds of the first call beyond a steady call (JIT compilation and tracing)."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    t = time.perf_counter()
    steady()
    return max(first - (time.perf_counter() - t), 0.0)


# ------------------------------------------------------------------------------ imports
def _jax() -> Any:
    try:
        import jax  # noqa: PLC0415
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # float64 as implreg; float32 asked explicitly
    return jax


def _torch() -> Any:
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return None
    return torch


# ---------------------------------------------------------------------- engine contenders
def _implreg_engine(A: np.ndarray, y: np.ndarray, R: int, B: int, eta: float,
                    steps: int) -> Callable[[], Any]:
    from numerics import SGD, LeastSquares, run  # noqa: PLC0415

    model, rule = LeastSquares(A, y), SGD(eta, batch=B)
    x0 = np.zeros((R, A.shape[1]), dtype=A.dtype)
    return lambda: run(model, rule, x0, steps, rng=0, record=())


def _jax_engine(jax: Any, A: np.ndarray, y: np.ndarray, R: int, B: int, eta: float, steps: int,
                replace: bool) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """``(first call, steady call)`` of JAX SGD: jit(scan over steps of vmap over replicas)."""
    jnp, lax = jax.numpy, jax.lax
    n, d = A.shape
    Aj, yj = jnp.asarray(A), jnp.asarray(y)
    dt = Aj.dtype

    def one(x: Any, key: Any) -> Any:  # one replica, one step
        if replace:
            idx = jax.random.randint(key, (B,), 0, n)
        else:  # the B smallest of n uniform keys: exact, uniform ordered B-subsets
            idx = lax.top_k(-jax.random.uniform(key, (n,), dtype=dt), B)[1]
        rows = Aj[idx]
        r = rows @ x - yj[idx]
        return x - (eta / B) * (r @ rows)

    def body(x: Any, key: Any) -> tuple[Any, None]:
        return jax.vmap(one)(x, jax.random.split(key, R)), None

    @jax.jit
    def go(x0: Any, key: Any) -> Any:
        return lax.scan(body, x0, jax.random.split(key, steps))[0]

    x0, key = jnp.zeros((R, d), dtype=dt), jax.random.PRNGKey(0)

    def call() -> Any:
        return go(x0, key).block_until_ready()

    return call, call


def _torch_engine(torch: Any, A: np.ndarray, y: np.ndarray, R: int, B: int, eta: float,
                  steps: int, replace: bool, compiled: bool) -> tuple[Callable[[], Any], Callable[[], Any]]:
    At, yt = torch.from_numpy(A), torch.from_numpy(y)
    n, d = A.shape

    def step(x: Any) -> Any:
        if replace:
            idx = torch.randint(0, n, (R, B))
        else:  # uniform ordered B-subsets: the B smallest of n uniform keys
            idx = torch.topk(torch.rand((R, n), dtype=At.dtype), B, dim=1, largest=False).indices
        rows = At[idx]  # (R, B, d)
        r = torch.einsum("rbd,rd->rb", rows, x) - yt[idx]
        return x - (eta / B) * torch.einsum("rbd,rb->rd", rows, r)

    fn = torch.compile(step, dynamic=False) if compiled else step

    def call() -> Any:
        torch.manual_seed(0)
        with torch.no_grad():
            x = torch.zeros((R, d), dtype=At.dtype)
            for _ in range(steps):
                x = fn(x)
        return x

    return call, call


def bench_peers_engine(cfg: PeerConfig) -> list[Row]:
    jax, torch = _jax(), _torch()
    rows: list[Row] = []
    cases = [(R, np.float64) for R in cfg.replicas]
    if cfg.float32:
        cases.append((max(cfg.replicas), np.float32))
    A64, y64 = least_squares_problem(cfg.n, cfg.d)
    for R, dt in cases:
        A, y = A64.astype(dt), y64.astype(dt)
        steps = _steps(cfg, R)
        tag = f"SGD R={R} {np.dtype(dt).name}"
        contenders: dict[str, Callable[[], Any]] = {
            "implreg": _implreg_engine(A, y, R, cfg.batch, cfg.eta, steps)}
        compile_s: dict[str, float] = {}
        labels = {
            "jax_wor": "JAX jit+vmap+scan, exact without replacement (top-k of keys)",
            "jax_wr": "JAX jit+vmap+scan, with replacement (a cheaper law)",
            "torch_wor": "PyTorch eager, without replacement (topk of keys)",
            "torch_wr": "PyTorch eager, with replacement",
            "compile_wor": "torch.compile, without replacement (topk of keys)",
        }
        if jax is not None:
            for key, rep in (("jax_wor", False), ("jax_wr", True)):
                first, call = _jax_engine(jax, A, y, R, cfg.batch, cfg.eta, steps, rep)
                compile_s[key] = _compile_time(first, call)
                contenders[key] = call
        if torch is not None:
            for key, rep in (("torch_wor", False), ("torch_wr", True)):
                contenders[key] = _torch_engine(torch, A, y, R, cfg.batch, cfg.eta, steps, rep,
                                                False)[1]
            if cfg.compile:
                first, call = _torch_engine(torch, A, y, R, cfg.batch, cfg.eta, steps, False, True)
                compile_s["compile_wor"] = _compile_time(first, call)
                contenders["compile_wor"] = call
        best = interleaved(contenders, cfg.repeat)
        rate = R * steps / best["implreg"]
        rows.append(Row(SECTION, f"{tag}: implreg replica-steps/s", rate, unit="/s",
                        detail=f"n={cfg.n} d={cfg.d} B={cfg.batch}, {steps} steps, exact "
                               "without replacement",
                        raw={"R": R, "steps": steps, "seconds": best["implreg"]}))
        for key, label in labels.items():
            if key not in best:
                continue
            ratio = best[key] / best["implreg"]
            extra = f", compile {compile_s[key]:.2f} s (not timed)" if key in compile_s else ""
            rows.append(Row(SECTION, f"{tag}: implreg ÷ {label}", ratio,
                            target="≥ 1 (informational)",
                            detail=f"peer {R * steps / best[key]:.3g} replica-steps/s{extra}",
                            raw={"peer_seconds": best[key], "compile_seconds": compile_s.get(key)}))
        rows.extend(_skipped(jax, torch, cfg, tag))
    return rows


def _skipped(jax: Any, torch: Any, cfg: PeerConfig, tag: str, also: str = "") -> list[Row]:
    out = []
    if jax is None:
        out.append(Row(SECTION, f"{tag}: ÷ JAX", None, detail=f"skipped: jax is not installed ({HINT})"))
    if torch is None:
        out.append(Row(SECTION, f"{tag}: ÷ PyTorch", None,
                       detail=f"skipped: torch is not installed ({HINT}){also}"))
    elif not cfg.compile:
        out.append(Row(SECTION, f"{tag}: ÷ torch.compile", None,
                       detail="skipped in this configuration (compilation takes tens of seconds)"))
    return out


# --------------------------------------------------------------------- two-layer contenders
def _jax_two_layer(jax: Any, X: np.ndarray, y: np.ndarray, theta: np.ndarray, m: int,
                   eta: float, steps: int) -> Callable[[], Any]:
    jnp, lax = jax.numpy, jax.lax
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    d = X.shape[1]

    def loss(th: Any) -> Any:  # one replica: (1/2n) Σ (Σ_j a_j σ(b_j·x_i) − y_i)²
        a, B = th[:m], th[m:].reshape(m, d)
        r = jnp.maximum(Xj @ B.T, 0.0) @ a - yj
        return 0.5 * jnp.mean(r * r)

    g = jax.vmap(jax.grad(loss))

    @jax.jit
    def go(th0: Any) -> Any:
        return lax.scan(lambda th, _: (th - eta * g(th), None), th0, None, length=steps)[0]

    th0 = jnp.asarray(theta)
    return lambda: go(th0).block_until_ready()


def _torch_two_layer(torch: Any, X: np.ndarray, y: np.ndarray, theta: np.ndarray, m: int,
                     eta: float, steps: int, compiled: bool) -> Callable[[], Any]:
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    R, d = theta.shape[0], X.shape[1]

    def step(a: Any, B: Any) -> tuple[Any, Any]:
        a, B = a.detach().requires_grad_(True), B.detach().requires_grad_(True)
        r = (torch.relu(Xt @ B.transpose(1, 2)) @ a[..., None])[..., 0] - yt  # (R, n)
        loss = 0.5 * (r * r).mean(dim=-1).sum()  # replicas are independent: sum of losses
        ga, gB = torch.autograd.grad(loss, (a, B))
        return (a - eta * ga).detach(), (B - eta * gB).detach()

    fn = torch.compile(step, dynamic=False) if compiled else step
    th = torch.from_numpy(theta)

    def call() -> Any:
        a, B = th[:, :m].clone(), th[:, m:].reshape(R, m, d).clone()
        for _ in range(steps):
            a, B = fn(a, B)
        return a

    return call


def bench_peers_two_layer(cfg: PeerConfig) -> list[Row]:
    from benchmarks.models import _two_layer  # noqa: PLC0415
    from numerics import GD, run  # noqa: PLC0415

    jax, torch = _jax(), _torch()
    rows: list[Row] = []
    eta, steps = 0.01, cfg.two_layer_steps
    for R, n, d, m in cfg.two_layer:
        net, theta = _two_layer(R, n, d, m)
        X, y = np.asarray(net.X), np.asarray(net.y)
        tag = f"two-layer GD R={R} n={n} d={d} m={m}"
        contenders = {"implreg": lambda: run(net, GD(eta), theta, steps, record=())}
        labels = {"jax": "JAX jit(scan(vmap(grad)))", "torch": "PyTorch eager autograd",
                  "compile": "torch.compile of the step"}
        compile_s: dict[str, float] = {}
        if jax is not None:
            call = _jax_two_layer(jax, X, y, theta, m, eta, steps)
            compile_s["jax"] = _compile_time(call, call)
            contenders["jax"] = call
        if torch is not None:
            contenders["torch"] = _torch_two_layer(torch, X, y, theta, m, eta, steps, False)
            if cfg.compile:
                call = _torch_two_layer(torch, X, y, theta, m, eta, steps, True)
                compile_s["compile"] = _compile_time(call, call)
                contenders["compile"] = call
        best = interleaved(contenders, cfg.repeat)
        t = best["implreg"] / steps
        rows.append(Row(SECTION, f"{tag}: implreg ms/step", t * 1e3, unit="ms",
                        detail=f"{(4 * R * n * m * d + 6 * R * n * m) / t / 1e9:.1f} GFLOP/s",
                        raw={"seconds_per_step": t}))
        for key, label in labels.items():
            if key not in best:
                continue
            ratio = best[key] / best["implreg"]
            extra = f", compile {compile_s[key]:.2f} s (not timed)" if key in compile_s else ""
            judged = key == "jax" and (R, n, d, m) == cfg.two_layer[-1]  # the largest size
            rows.append(Row(SECTION, f"{tag}: implreg ÷ {label}", ratio,
                            target="≥ 1 at the largest size" if judged else "≥ 1 (informational)",
                            ok=(ratio >= 1) if judged else None,
                            detail=f"peer {best[key] / steps * 1e3:.2f} ms/step{extra}",
                            raw={"peer_seconds": best[key], "compile_seconds": compile_s.get(key)}))
        last = (R, n, d, m) == cfg.two_layer[-1]
        rows.extend(_skipped(jax, torch, cfg, tag, also="; so are the two-layer single-replica "
                             "gradient and HVP rows" if last else ""))
    return rows


# ------------------------------------------------------ two-layer single replica vs PyTorch
#: implreg's single-replica gradient and HVP should take at most this multiple of PyTorch's
#: time (the row's value, a ratio of rates, then is at least 1/WITHIN).
WITHIN = 1.2


def _single_sizes(cfg: PeerConfig) -> tuple[tuple[int, int, int], ...]:
    if cfg.single_replica is not None:
        return cfg.single_replica
    sizes = sorted({(n, d, m) for _, n, d, m in cfg.two_layer})
    small, large = sizes[0], sizes[-1]
    if small == large:
        small = (max(large[0] // 4, 2), large[1], large[2])
    return (small, large)


def rounding_bound(X: np.ndarray, y: np.ndarray, m: int, theta: np.ndarray,
                   v: np.ndarray | None = None, s: float = 1.0) -> np.ndarray:
    r""":math:`2\gamma_K S`, entrywise: how far two float64 evaluations of the two-layer
    gradient (``v`` None) or HVP of one replica ``theta`` ``(p,)`` may differ by rounding.

    Each evaluation, in any summation order, is within :math:`\gamma_K S` of the exact value
    (N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1), with
    :math:`\gamma_K = K\epsilon/(1 - K\epsilon)` and ``S`` the same formulas evaluated on
    absolute values with every ReLU mask replaced by 1 (so it bounds the sum of the moduli of
    the terms of each output). ``K`` is the longest chain of roundings in either evaluation:
    ``d`` (a pre-activation, or ``X V_Bᵀ``), ``m + 2`` (``r = s·Ha − y``, or
    ``δf = s(Hv_a + Pa)``), ``n`` (the sums over samples) and the scalar factors — 5 for
    implreg's gradient and 8 for its HVP (counted in ``tests/numerics/test_two_layer.py``),
    at most 3 more in PyTorch's backward of ``½·mean(r²)`` (the ½, the 2 of ``r²``, the
    ``1/n``) — so ``K = d + m + n + 8`` for the gradient and ``d + m + n + 11`` for the HVP.
    (A pre-activation within rounding of 0 could flip a ReLU mask between the two; for data
    of unit scale the chance is below 1e-7 per evaluation.)
    """
    n, d = X.shape
    Xa, s = np.abs(X), abs(s)
    a, B = np.abs(theta[:m]), np.abs(theta[m:].reshape(m, d))
    H = Xa @ B.T  # >= |σ(XBᵀ)|
    r = s * (H @ a) + np.abs(y)
    eps = np.finfo(np.float64).eps
    if v is None:
        S = np.concatenate([(s / n) * (H.T @ r), ((s / n) * np.outer(a, r @ Xa)).ravel()])
        K = d + m + n + 8
    else:
        va, vB = np.abs(v[:m]), np.abs(v[m:].reshape(m, d))
        P = Xa @ vB.T
        df = s * (H @ va + P @ a)
        S = np.concatenate([(s / n) * (H.T @ df + P.T @ r),
                            ((s / n) * (np.outer(a, df @ Xa) + np.outer(va, r @ Xa))).ravel()])
        K = d + m + n + 11
    return 2 * K * eps / (1 - K * eps) * S


def _torch_single_replica(torch: Any, X: np.ndarray, y: np.ndarray,
                          m: int) -> dict[str, dict[str, Callable[..., Any]]]:
    """PyTorch's gradient and HVP of one replica of the two-layer net (conventional scaling,
    ``L = ½·mean((σ(XBᵀ)a − y)²)``), by each way a researcher would write them:
    ``{"gradient": {label: f(θ)}, "HVP": {label: f(θ, v)}}`` on float64 tensors."""
    from torch.func import grad, jvp, vjp  # noqa: PLC0415

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    d = X.shape[1]

    def loss(t: Any) -> Any:
        a, B = t[:m], t[m:].reshape(m, d)
        r = torch.relu(Xt @ B.T) @ a - yt
        return 0.5 * torch.mean(r * r)

    g = grad(loss)

    def autograd_grad(t: Any) -> Any:
        t = t.detach().requires_grad_(True)
        return torch.autograd.grad(loss(t), t)[0]

    def double_backward(t: Any, v: Any) -> Any:
        t = t.detach().requires_grad_(True)
        (gt,) = torch.autograd.grad(loss(t), t, create_graph=True)
        return torch.autograd.grad(gt, t, v)[0]

    return {
        "gradient": {"torch.func.grad": g, "torch.autograd.grad": autograd_grad},
        "HVP": {"torch.func jvp of grad": lambda t, v: jvp(g, (t,), (v,))[1],  # fwd-over-rev
                "torch.func vjp of grad": lambda t, v: vjp(g, t)[1](v)[0],  # rev-over-rev
                "double backward": double_backward},  # autograd.grad with create_graph
    }


def _thread_limit(k: int | None) -> Any:
    """A context limiting NumPy's BLAS to ``k`` threads (``None``: its default)."""
    import contextlib  # noqa: PLC0415

    if k is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    return threadpool_limits(limits=k, user_api="blas")


def _blas_threads() -> int | str:
    """The threads NumPy's BLAS uses now (threadpoolctl), or ``"?"``."""
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415
    except ImportError:
        return "?"
    counts = {p.get("num_threads") for p in threadpool_info()
              if p.get("user_api") == "blas" and "numpy" in str(p.get("filepath", ""))}
    return counts.pop() if len(counts) == 1 else "?"


def bench_peers_single_replica(cfg: PeerConfig) -> list[Row]:
    """Single-replica gradient and HVP of the two-layer net, implreg ÷ PyTorch, at one thread
    and at the default threads (none when torch is absent: the two-layer GD rows say so)."""
    torch = _torch()
    if torch is None:
        return []
    from benchmarks.models import _two_layer  # noqa: PLC0415

    try:
        import threadpoolctl  # noqa: F401, PLC0415
        settings: list[tuple[str, int | None]] = [("1 thread", 1)]
    except ImportError:  # NumPy's BLAS threads cannot be limited: only the default
        settings = []
    default = torch.get_num_threads()
    settings.append((f"default threads ({default})", None))
    repeat = 1 if cfg.repeat <= 1 else max(cfg.repeat, 5)
    rows: list[Row] = []
    if len(settings) == 1:
        rows.append(Row(SECTION, "two-layer single replica: implreg ÷ PyTorch at 1 thread", None,
                        detail="skipped: threadpoolctl is not installed (pip install threadpoolctl)"))
    for n, d, m in _single_sizes(cfg):
        net, theta = _two_layer(1, n, d, m)
        X, y = np.asarray(net.X), np.asarray(net.y)
        v = np.random.default_rng(1).standard_normal(theta.shape)
        tt, vt = torch.from_numpy(theta[0].copy()), torch.from_numpy(v[0].copy())
        peers = _torch_single_replica(torch, X, y, m)
        ours = {"gradient": lambda: net.grad(theta), "HVP": lambda: net.hvp(theta, v)}
        args = {"gradient": (tt,), "HVP": (tt, vt)}
        # Agreement first: a PyTorch variant whose values differ from implreg's by more than
        # the rounding bound is not timed.
        agree: dict[str, dict[str, float]] = {}
        for kind, fns in peers.items():
            want = np.asarray(ours[kind]())[0]
            tol = rounding_bound(X, y, m, theta[0], v[0] if kind == "HVP" else None, net.s)
            agree[kind] = {}
            for label, fn in fns.items():
                got = fn(*args[kind]).detach().numpy()
                agree[kind][label] = float(np.max(np.abs(got - want) / tol))
        for setting, k in settings:
            contenders: dict[str, Callable[[], Any]] = {f"implreg {kind}": fn
                                                        for kind, fn in ours.items()}
            for kind, fns in peers.items():
                for label, fn in fns.items():
                    if agree[kind][label] <= 1:
                        contenders[f"{kind}: {label}"] = (lambda f=fn, a=args[kind]: f(*a))
            torch.set_num_threads(k or default)
            try:
                with _thread_limit(k):
                    blas = _blas_threads()
                    best = interleaved(contenders, repeat)
            finally:
                torch.set_num_threads(default)
            for kind, fns in peers.items():
                name = (f"two-layer single replica {kind} (n={n} d={d} m={m}, {setting}): "
                        "implreg ÷ PyTorch")
                t_ours = best[f"implreg {kind}"]
                timed = {label: best[f"{kind}: {label}"] for label in fns
                         if f"{kind}: {label}" in best}
                if not timed:
                    worst = min(agree[kind].values())
                    rows.append(Row(SECTION, name, None, target=f"≥ {1 / WITHIN:.2f}", ok=False,
                                    detail=f"not timed: every PyTorch variant differs from implreg "
                                           f"by more than the rounding bound (at least {worst:.3g}×)",
                                    raw={"agreement": agree[kind]}))
                    continue
                worst = max(agree[kind][lab] for lab in timed)
                label = min(timed, key=timed.__getitem__)
                ratio = timed[label] / t_ours
                others = ", ".join(f"{lab} {t * 1e3:.2f} ms" for lab, t in timed.items() if lab != label)
                refused = [lab for lab in fns if lab not in timed]
                rows.append(Row(
                    SECTION, name, ratio,
                    target=f"≥ {1 / WITHIN:.2f} (implreg within {WITHIN}× of PyTorch's time)",
                    ok=ratio >= 1 / WITHIN,
                    detail=(f"implreg {t_ours * 1e3:.2f} ms, PyTorch {timed[label] * 1e3:.2f} ms by "
                            f"{label} (the fastest; {others})"
                            + (f"; not timed, disagreeing: {', '.join(refused)}" if refused else "")
                            + f"; values agree to {worst:.2g} of the rounding bound 2γ_K·S"
                            + f"; NumPy's BLAS at {blas} thread(s)"),
                    raw={"seconds": t_ours, "peer_seconds": timed, "peer": label,
                         "agreement": agree[kind], "threads": k or default,
                         "blas_threads": blas, "n": n, "d": d, "m": m}))
    return rows


def bench_peers(cfg: PeerConfig) -> list[Row]:
    """The peer cases: engine, two-layer GD, two-layer single-replica gradient and HVP."""
    return bench_peers_engine(cfg) + bench_peers_two_layer(cfg) + bench_peers_single_replica(cfg)
