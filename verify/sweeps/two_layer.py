r"""Sweep ``two_layer_test_error``: test error of GD-trained two-layer ReLU networks over
width ``m`` and sample size ``n`` (seed 000, "Heatmap of test errors", single neuron).

A cell draws ``n`` training and ``n_test`` test inputs :math:`x \sim N(0, I_d)`, labels them
with the single-neuron target :math:`f^*(x) = \sigma(x_1)`
(:func:`numerics.two_layer.single_neuron`), initializes the conventionally scaled network
:math:`f_m(x) = \sum_{j=1}^m a_j\sigma(b_j\cdot x)` as in seed 000's eq. 8 with
:math:`a(0) = 0` (``beta``), and runs full-batch GD on
:math:`L = \frac1{2n}\sum_i(f_m(x_i) - y_i)^2` for ``steps`` steps with step
:math:`\eta = \mathrm{lr}/m` (the Gram matrix of the features :math:`\sigma(b_j\cdot x)`
grows like :math:`m/2`, so this keeps GD below its stability threshold as ``m`` grows). It
records the final training loss, the test mean squared error, and whether GD diverged.

The heatmap over (n, m) shows seed 000's regimes: under-parametrized :math:`m < n/d`,
mildly over-parametrized :math:`n/d \lesssim m \lesssim n`, highly over-parametrized
:math:`m \gg n` (kernel-like).
"""

from __future__ import annotations

from typing import Any

from numerics.backend import BACKENDS
from verify.sweeps.core import Axis, Sweep, register

__all__ = ["SWEEP", "test_error_cell"]


def test_error_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """One (m, n) cell; see the module docstring."""
    import numpy as np  # noqa: PLC0415

    from numerics import GD, get_namespace, run, to_numpy  # noqa: PLC0415
    from numerics.two_layer import TwoLayerReLU, single_neuron, xavier_init  # noqa: PLC0415

    m, n, d = params["m"], params["n"], params["d"]
    xp = get_namespace(params.get("backend", "numpy"))
    s_data, s_init = np.random.SeedSequence(seed).spawn(2)
    g = np.random.default_rng(s_data)
    X = xp.asarray(g.standard_normal((n, d)))
    Xt = xp.asarray(g.standard_normal((params["n_test"], d)))
    target = single_neuron(d, xp=xp)
    net = TwoLayerReLU(X, target(X), m)
    theta0 = xavier_init(1, m, d, beta=params["beta"], rng=s_init, xp=xp)
    traj = run(net, GD(params["lr"] / m), theta0, params["steps"], record=("loss",),
               record_every=max(params["steps"], 1))
    test = to_numpy(net.test_error(traj.x, Xt, target(Xt)))[0]
    return {
        "train_loss": float(to_numpy(traj.records["loss"][-1])[0]),
        "test_error": float(test),
        "diverged": bool(traj.n_diverged),
    }


def plot_test_error(rows: list[dict[str, Any]], sweep: Sweep) -> Any:
    """Heatmap of log10 test error (mean over seeds) over (n, m), with the lines m = n/d
    and m = n that separate seed 000's regimes."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    ns = sorted({r["n"] for r in rows})
    ms = sorted({r["m"] for r in rows})
    acc: dict[tuple[int, int], list[float]] = {}
    for r in rows:
        if not r["diverged"]:
            acc.setdefault((r["m"], r["n"]), []).append(r["test_error"])
    grid = np.full((len(ms), len(ns)), np.nan)
    count = np.zeros((len(ms), len(ns)), dtype=int)
    for (m, n), v in acc.items():
        grid[ms.index(m), ns.index(n)] = np.log10(np.mean(v))
        count[ms.index(m), ns.index(n)] = len(v)
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    im = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
    fig.colorbar(im, ax=ax, label=r"$\log_{10}$ test error (mean over seeds)")
    for i in range(len(ms)):
        for j in range(len(ns)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.1f}", ha="center", va="center", fontsize=8,
                        color="w" if grid[i, j] < np.nanmean(grid) else "k")
    d = rows[0]["d"]
    # Regime lines in index coordinates: interpolate log m against the log-spaced axes.
    lx = np.linspace(0, len(ns) - 1, 200)
    n_line = np.exp(np.interp(lx, np.arange(len(ns)), np.log(ns)))
    for m_of_n, style, label in ((n_line / d, "w--", "m = n/d"), (n_line, "w-", "m = n")):
        iy = np.interp(np.log(m_of_n), np.log(ms), np.arange(len(ms)), left=np.nan, right=np.nan)
        ax.plot(lx, iy, style, lw=1.5, label=label)
    ax.set_xticks(range(len(ns)), [str(n) for n in ns])
    ax.set_yticks(range(len(ms)), [str(m) for m in ms])
    ax.set_xlabel("training samples n")
    ax.set_ylabel("width m (neurons)")
    seeds = sorted({r["seed"] for r in rows})
    ax.set_title(f"two-layer ReLU, GD, target σ(x₁), d={d}: test error "
                 f"({len(seeds)} seed{'s' if len(seeds) > 1 else ''})", fontsize=9)
    fig.legend(loc="outside lower center", fontsize=8, ncols=2, frameon=False)
    return fig


SWEEP = register(Sweep(
    "two_layer_test_error",
    test_error_cell,
    grid={
        "m": Axis(int, (4, 8, 16, 32, 64, 128), ge=1, doc="width"),
        "n": Axis(int, (10, 20, 40, 80, 160), ge=1, doc="training samples"),
        "d": Axis(int, 5, ge=1, doc="input dimension"),
        "n_test": Axis(int, 2000, ge=1, doc="test samples"),
        "lr": Axis(float, 1.0, gt=0, doc="step η·m"),
        "beta": Axis(float, 0.0, ge=0, doc="std of the outer layer at init"),
        "steps": Axis(int, 3000, ge=0, doc="GD steps; 0 evaluates the initialization"),
        "backend": Axis(str, "numpy", choices=BACKENDS, doc="array library"),
    },
    seeds=(0, 1, 2),
    title="test error of GD-trained two-layer ReLU nets over width m and samples n "
          "(seed 000 heatmap)",
    axes=("n", "m"),
    plot=plot_test_error,
))
