r"""Sweep ``sgd_stability``: the empirical SGD stability region over (η, B) on a sum of
quadratics, overlaid with the derived thresholds (seed 000, "Stability Condition").

The problem is :math:`f(x) = \frac{1}{2n}\sum_{k=1}^n x^T H_k x` with rank-one
:math:`H_k = a_k a_k^T` — least squares with zero targets, so the minimum :math:`x^* = 0`
is shared by every sample (the over-parametrized assumption :math:`G(x^*;\xi) = 0`). The
rows :math:`a_k` are Gaussian, rescaled so that the sharpness :math:`a = \lambda_{\max}(H)`
is 1; the non-uniformity :math:`s = \lambda_{\max}(\Sigma)^{1/2}`,
:math:`\Sigma = \frac1n\sum_k H_k^2 - H^2`, is whatever the draw gives. Each seed is one
problem instance.

A cell runs minibatch SGD (batch ``B`` without replacement, step ``η``) for ``steps``
steps on ``replicas`` trajectories started on the unit sphere, and records the empirical
growth rate of the second moment,

.. math:: \hat\rho = \frac1T \log \frac{1}{R}\sum_{r=1}^R \|x_T^{(r)}\|^2,

which is negative where 0 is mean-square stable (seed 000: :math:`\mathbb E\|x_t\|^2` grows
or decays geometrically). At ``B = n`` SGD is GD and :math:`\hat\rho \to 2\log\max_j|1-\eta\lambda_j|`,
stable iff :math:`\eta < 2/\lambda_{\max}` (``linear.gd_limit``).
"""

from __future__ import annotations

import math
from typing import Any

from verify.sweeps.core import Sweep, register

__all__ = ["SWEEP", "problem", "stability_cell"]

# Trajectories whose norm passes this bound are frozen by the engine and flagged; from a
# unit start that is a growth of 1e200 in ‖x‖², far beyond any rate the plot resolves.
_BOUND = 1e100


def problem(n: int, d: int, seed: int) -> Any:
    r"""The rows :math:`a_k` (an ``(n, d)`` NumPy array) of the instance of ``seed``,
    scaled so that :math:`\lambda_{\max}(\frac1n A^TA) = 1`."""
    import numpy as np  # noqa: PLC0415

    seq = np.random.SeedSequence(seed).spawn(3)[0]
    A = np.random.default_rng(seq).standard_normal((n, d))
    lam = np.linalg.eigvalsh(A.T @ A / n)[-1]
    return A / np.sqrt(lam)


def moments(A: Any) -> tuple[Any, Any]:
    r""":math:`H = \frac1n\sum_k a_ka_k^T` and :math:`\Sigma = \frac1n\sum_k H_k^2 - H^2` (NumPy)."""
    import numpy as np  # noqa: PLC0415

    n = A.shape[0]
    H = A.T @ A / n
    sq = np.sum(A * A, axis=1)  # H_k^2 = |a_k|^2 a_k a_k^T
    Sigma = (A * sq[:, None]).T @ A / n - H @ H
    return H, Sigma


def stability_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """One (η, B) cell: SGD on the instance of ``seed``; see the module docstring."""
    import numpy as np  # noqa: PLC0415

    from numerics import SGD, Generator, get_namespace, run, to_numpy  # noqa: PLC0415

    n, d, B = params["n"], params["d"], params["batch"]
    eta, steps, R = params["eta"], params["steps"], params["replicas"]
    if not 1 <= B <= n:
        raise ValueError(f"batch must be in [1, n={n}]; got {B}")
    xp = get_namespace(params.get("backend", "numpy"))
    A = problem(n, d, seed)
    H, Sigma = moments(A)
    lam = np.linalg.eigvalsh(H)
    from numerics import LeastSquares  # noqa: PLC0415

    model = LeastSquares(xp.asarray(A), xp.zeros((n,), dtype=xp.float64), reduction="mean")
    _, s_x0, s_sgd = np.random.SeedSequence(seed).spawn(3)
    x0 = Generator(s_x0, xp).normal((R, d))
    x0 = x0 / xp.sqrt(xp.sum(x0 * x0, axis=1, keepdims=True))
    traj = run(model, SGD(eta, batch=B), x0, steps, record=("norm",), record_every=steps,
               rng=Generator(s_sgd, xp), bound=_BOUND)
    norms = to_numpy(traj.records["norm"][-1])
    msq = float(np.mean(norms**2))
    rate = math.log(msq) / steps if msq > 0 else -math.inf
    diverged = traj.n_diverged / R
    return {
        "sharpness": float(lam[-1]),
        "nonuniformity": float(math.sqrt(max(np.linalg.eigvalsh(Sigma)[-1], 0.0))),
        "growth_rate": rate,
        "gd_rate": float(2 * np.log(np.max(np.abs(1 - eta * lam)))),
        "diverged_fraction": diverged,
        "stable": bool(rate < 0 and diverged == 0),
    }


def _boundary(pred: Any, lo: float, hi: float, iters: int = 60) -> float:
    """The η in [lo, hi] where the monotone predicate ``pred(η)`` turns from True to False
    (bisection; ``nan`` if it does not change sign on the bracket)."""
    if not pred(lo) or pred(hi):
        return math.nan
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if pred(mid) else (lo, mid)
    return 0.5 * (lo + hi)


def threshold_curves(rows: list[dict[str, Any]], batches: list[int],
                     eta_max: float) -> dict[str, list[float]]:
    r"""Derived stability thresholds :math:`\eta^*(B)` for the instance of ``rows``.

    Each curve is the boundary of a result's condition, evaluated through
    :meth:`theory.Result.numeric` and located by bisection in η:

    - ``linear.gd_limit`` (part ``stable_region``): :math:`\eta < 2/\lambda_{\max}`, the GD
      threshold, which is SGD's at ``B = n``.
    """
    import numpy as np  # noqa: PLC0415

    import theory  # noqa: PLC0415

    a = rows[0]["sharpness"]
    gd = theory.get("linear.gd_limit").numeric(np, part="stable_region")
    curves = {"GD: η < 2/λ_max (linear.gd_limit)":
              [_boundary(lambda e: bool(gd(eta=e, lambda_max=a)), 1e-9, 4 * eta_max)] * len(batches)}
    return curves


def plot_stability(rows: list[dict[str, Any]], sweep: Sweep) -> Any:
    """Heatmap of the growth rate over (η, B) for one seed, stable cells marked, with the
    derived threshold curves."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    from matplotlib.colors import TwoSlopeNorm  # noqa: PLC0415

    seeds = sorted({r["seed"] for r in rows})
    seed = seeds[0]
    rows = [r for r in rows if r["seed"] == seed]
    etas = sorted({r["eta"] for r in rows})
    batches = sorted({r["batch"] for r in rows})
    grid = np.full((len(batches), len(etas)), np.nan)
    for r in rows:
        grid[batches.index(r["batch"]), etas.index(r["eta"])] = r["growth_rate"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    e = np.asarray(etas)
    # Cell edges halfway between grid values (non-uniform grids are drawn faithfully).
    ex = np.concatenate([[e[0] - (e[1] - e[0]) / 2 if len(e) > 1 else e[0] - 0.05],
                         (e[1:] + e[:-1]) / 2,
                         [e[-1] + (e[-1] - e[-2]) / 2 if len(e) > 1 else e[0] + 0.05]])
    yb = np.arange(len(batches) + 1) - 0.5
    finite = grid[np.isfinite(grid)]
    span = float(np.max(np.abs(finite))) if finite.size else 1.0
    span = span if span > 0 else 1.0
    mesh = ax.pcolormesh(ex, yb, grid, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -span, span))
    fig.colorbar(mesh, ax=ax, label=r"growth rate $\frac{1}{T}\log\overline{\|x_T\|^2}$")
    for r in rows:
        if r["stable"]:
            ax.plot(r["eta"], batches.index(r["batch"]), "k.", ms=3)
    y = np.arange(len(batches))
    for (label, etas_star), style in zip(threshold_curves(rows, batches, etas[-1]).items(),
                                         ("k--", "g-", "m-.", "c:"), strict=False):
        # Each batch size is a band [i - 1/2, i + 1/2]: the threshold is a vertical segment
        # across its band, joined to the next band's.
        xs = np.repeat(np.asarray(etas_star, dtype=float), 2)
        ys = np.stack([y - 0.5, y + 0.5], axis=1).ravel()
        ax.plot(xs, ys, style, lw=1.8, label=label)
    ax.set_yticks(y, [str(b) for b in batches])
    ax.set_xlim(ex[0], ex[-1])
    ax.set_xlabel(r"learning rate $\eta$")
    ax.set_ylabel("batch size $B$")
    p = rows[0]
    ax.set_title(f"SGD stability region (n={p['n']}, d={p['d']}, a={p['sharpness']:.3g}, "
                 f"s={p['nonuniformity']:.3g}, seed {seed}); dots: stable", fontsize=9)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    return fig


SWEEP = register(Sweep(
    "sgd_stability",
    stability_cell,
    grid={
        "eta": tuple(round(0.1 * k, 6) for k in range(1, 25)),
        "batch": (1, 2, 4, 8, 16),
        "n": (16,),
        "d": (4,),
        "steps": (300,),
        "replicas": (64,),
        "backend": ("numpy",),
    },
    seeds=(0,),
    title="empirical SGD stability region over (η, B) on a sum of rank-one quadratics, "
          "with derived thresholds",
    axes=("eta", "batch"),
    plot=plot_stability,
))
