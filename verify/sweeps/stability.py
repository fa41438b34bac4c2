r"""Sweep ``sgd_stability``: the empirical SGD stability region over (η, B) on a sum of
quadratics, overlaid with the derived thresholds (seed 000, "Stability Condition").

The problem is :math:`f(x) = \frac{1}{2n}\sum_{k=1}^n x^T H_k x`, :math:`H_k \succeq 0`
(:class:`numerics.stability.SumOfQuadratics`), whose minimum :math:`x^* = 0` is shared by
every sample. The :math:`H_k` come from :func:`numerics.stability.quadratic_ensemble` with
prescribed sharpness :math:`a = \lambda_{\max}(H)` and non-uniformity
:math:`s = \lambda_{\max}(\Sigma)^{1/2}`, :math:`\Sigma = \frac1n\sum_k H_k^2 - H^2`; each
seed is one instance.

A cell runs minibatch SGD (batch ``B`` without replacement, step ``η``) for ``steps`` steps
on ``replicas`` trajectories started on the unit sphere and records the empirical growth
rate of the second moment,

.. math:: \hat\rho = \frac1T \log \frac{1}{R}\sum_{r=1}^R \|x_T^{(r)}\|^2,

next to the exact mean-square rate :math:`\log\rho(\mathcal T_\eta)` of the second-moment
map (``stability.sgd_exact_threshold``; :func:`numerics.stability.second_moment_map`) and the
GD rate :math:`2\log\max_j|1-\eta\lambda_j|`. At ``B = n`` SGD is GD and :math:`\hat\rho`
is pinned between derived bounds (see the tests).

Notes
-----
For small batches :math:`\|x_T\|^2` is heavy-tailed: just above the mean-square threshold
:math:`\mathbb E\|x_T\|^2` grows through rare trajectories that a finite sample of replicas
seldom contains, so the empirical region (what typical SGD runs do) can extend beyond the
mean-square one. The plot shows both.
"""

from __future__ import annotations

import math
from typing import Any

from verify.sweeps.core import Sweep, register

__all__ = ["SWEEP", "problem", "stability_cell", "threshold_curves"]

# Trajectories whose norm passes this bound are frozen by the engine and flagged; from a
# unit start that is a growth of 1e200 in ‖x‖², far beyond any rate the plot resolves.
_BOUND = 1e100


def problem(params: dict[str, Any], seed: int) -> Any:
    """The per-sample Hessians ``(n, p, p)`` (NumPy) of the instance of ``seed``."""
    import numpy as np  # noqa: PLC0415

    from numerics.stability import quadratic_ensemble  # noqa: PLC0415

    seq = np.random.SeedSequence(seed).spawn(3)[0]
    return quadratic_ensemble(params["a"], params["s"], params["n"], params["p"], rng=seq)


def stability_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """One (η, B) cell: SGD on the instance of ``seed``; see the module docstring."""
    import numpy as np  # noqa: PLC0415

    from numerics import SGD, Generator, get_namespace, run, to_numpy  # noqa: PLC0415
    from numerics.stability import (  # noqa: PLC0415
        SumOfQuadratics,
        second_moment_map,
        sharpness_nonuniformity,
    )

    n, p, B = params["n"], params["p"], params["batch"]
    eta, steps, R = params["eta"], params["steps"], params["replicas"]
    if not 1 <= B <= n:
        raise ValueError(f"batch must be in [1, n={n}]; got {B}")
    xp = get_namespace(params.get("backend", "numpy"))
    H = problem(params, seed)
    a, s = sharpness_nonuniformity(H)
    lam = np.linalg.eigvalsh(H.mean(axis=0))
    rho = np.max(np.abs(np.linalg.eigvals(second_moment_map(H, eta, B))))
    model = SumOfQuadratics(xp.asarray(H), check=False)
    _, s_x0, s_sgd = np.random.SeedSequence(seed).spawn(3)
    x0 = Generator(s_x0, xp).normal((R, p))
    x0 = x0 / xp.sqrt(xp.sum(x0 * x0, axis=1, keepdims=True))
    traj = run(model, SGD(eta, batch=B), x0, steps, record=("norm",), record_every=steps,
               rng=Generator(s_sgd, xp), bound=_BOUND)
    norms = to_numpy(traj.records["norm"][-1])
    msq = float(np.mean(norms**2))
    rate = math.log(msq) / steps if msq > 0 else -math.inf
    diverged = traj.n_diverged / R
    return {
        "sharpness": float(a),
        "nonuniformity": float(s),
        "growth_rate": rate,
        "ms_rate": float(math.log(rho)),
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

    - GD, :math:`\eta < 2/\lambda_{\max}` (``linear.gd_limit``, part ``stable_region``,
      evaluated with :meth:`theory.Result.numeric` and located by bisection): SGD's
      threshold at ``B = n``;
    - the seed's sufficient condition
      :math:`\lambda_{\max}\{(I-\eta H)^2 + \eta^2\frac{n-B}{B(n-1)}\Sigma\} \le 1`
      (``stability.sgd_threshold``) and exact mean-square stability
      :math:`\rho(\mathcal T_\eta) \le 1` (``stability.sgd_exact_threshold``), both by
      :func:`numerics.stability.largest_stable_eta` on the instance's :math:`H_k`.
    """
    import numpy as np  # noqa: PLC0415

    import theory  # noqa: PLC0415
    from numerics.stability import largest_stable_eta  # noqa: PLC0415

    r0 = rows[0]
    gd = theory.get("linear.gd_limit").numeric(np, part="stable_region")
    eta_gd = _boundary(lambda e: bool(gd(eta=e, lambda_max=r0["sharpness"])), 1e-9, 4 * eta_max)
    H = problem(r0, r0["seed"])
    return {
        "GD: η < 2/λ_max (linear.gd_limit)": [eta_gd] * len(batches),
        "sufficient: λ_max{(I−ηH)² + η²cΣ} ≤ 1 (stability.sgd_threshold)":
            [largest_stable_eta(H, b, condition="sufficient") for b in batches],
        "mean-square: ρ(T_η) ≤ 1 (stability.sgd_exact_threshold)":
            [largest_stable_eta(H, b, condition="exact") for b in batches],
    }


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
    fig, ax = plt.subplots(figsize=(8, 5.2), layout="constrained")
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
    ax.set_title(f"SGD stability region (n={p['n']}, p={p['p']}, a={p['sharpness']:.3g}, "
                 f"s={p['nonuniformity']:.3g}, seed {seed}); dots: stable", fontsize=9)
    fig.legend(loc="outside lower center", fontsize=8, ncols=2, frameon=False)
    return fig


SWEEP = register(Sweep(
    "sgd_stability",
    stability_cell,
    grid={
        "eta": tuple(round(0.1 * k, 6) for k in range(1, 25)),
        "batch": (1, 2, 4, 8, 16),
        "n": (16,),
        "p": (4,),
        "a": (1.0,),
        "s": (1.0,),
        "steps": (100,),
        "replicas": (256,),
        "backend": ("numpy",),
    },
    seeds=(0,),
    title="empirical SGD stability region over (η, B) on a sum of quadratics, "
          "with derived thresholds",
    axes=("eta", "batch"),
    plot=plot_stability,
))
