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
mean-square one. The plot shows both. It is the sample, not the horizon: on the default grid
the exact :math:`\mathbb E\|x_T\|^2` (:func:`expected_sq_norm`) at the cells that read
stable past the mean-square threshold is :math:`1.6\times10^{2}` to :math:`2.6\times10^{35}`
at T = 100, while the mean over the 256 replicas is :math:`2\times10^{-18}` to 0.37; the
plot's legend gives these numbers for the grid drawn.
"""

from __future__ import annotations

import math
from typing import Any

from numerics.backend import BACKENDS
from verify.sweeps.core import Axis, Sweep, register

__all__ = ["SWEEP", "expected_sq_norm", "feasible", "problem", "stability_cell", "threshold_curves"]

# Trajectories whose norm passes this bound are frozen by the engine and flagged; from a
# unit start that is a growth of 1e200 in ‖x‖², far beyond any rate the plot resolves.
_BOUND = 1e100


def problem(params: dict[str, Any], seed: int) -> Any:
    """The per-sample Hessians ``(n, p, p)`` (NumPy) of the instance of ``seed``."""
    import numpy as np  # noqa: PLC0415

    from numerics.stability import quadratic_ensemble  # noqa: PLC0415

    seq = np.random.SeedSequence(seed).spawn(3)[0]
    return quadratic_ensemble(params["a"], params["s"], params["n"], params["p"], rng=seq)


def feasible(params: dict[str, Any], seed: int) -> None:
    """Raise ``ValueError`` if the instance of ``seed`` cannot have non-uniformity ``s``
    (the largest feasible ``s`` depends on the random draw; the message gives it)."""
    problem(params, seed)


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

    Each curve is the boundary in η of a result's condition, evaluated through
    :meth:`theory.Result.numeric` and located by bisection (the stable sets are intervals
    :math:`(0, \eta^*]`):

    - ``stability.gd_threshold``: :math:`\lambda_{\max} \le 2/\eta` (part ``threshold``),
      SGD's threshold at ``B = n``;
    - ``stability.sgd_threshold``: the seed's bound on the non-uniformity (implied by its
      sufficient condition, not by exact stability),
      :math:`s \le \frac1\eta\sqrt{B(n-1)/(n-B)}` (part ``necessary_nonuniformity``), and its
      sufficient condition :math:`\lambda_{\max}\{(I-\eta H)^2 + \eta^2c_B\Sigma\} \le 1`
      with :math:`c_B` its part ``batch_factor``;
    - ``stability.sgd_exact_threshold``: mean-square stability,
      :math:`\rho\bigl((I-\eta H)\otimes(I-\eta H) + \eta^2c_B(\overline{H\otimes H} - H\otimes H)\bigr) \le 1`.

    The matrices :math:`H`, :math:`\Sigma`, :math:`\overline{H\otimes H}` are the instance's
    (rebuilt from the stored parameters and seed); the scalar parts come from the results.
    """
    import numpy as np  # noqa: PLC0415

    import theory  # noqa: PLC0415

    r0 = rows[0]
    n = r0["n"]
    a, s = r0["sharpness"], r0["nonuniformity"]
    gd = theory.get("stability.gd_threshold").numeric(np, part="threshold")
    sgd = theory.get("stability.sgd_threshold")
    s_max = sgd.numeric(np, part="necessary_nonuniformity")
    c_suff = sgd.numeric(np, part="batch_factor")
    c_exact = theory.get("stability.sgd_exact_threshold").numeric(np, part="batch_factor")

    Hk = problem(r0, r0["seed"])
    H = Hk.mean(axis=0)
    Sigma = np.einsum("kij,kjl->il", Hk, Hk) / n - H @ H
    p = H.shape[0]
    I = np.eye(p)
    HH = np.einsum("kij,kab->iajb", Hk, Hk).reshape(p * p, p * p) / n  # mean H_k ⊗ H_k
    KH = np.kron(H, H)

    def sufficient(eta: float, c: float) -> bool:
        A = I - eta * H
        return bool(np.linalg.eigvalsh(A @ A + eta**2 * c * Sigma)[-1] <= 1.0)

    def exact(eta: float, c: float) -> bool:
        A = I - eta * H
        T = np.kron(A, A) + eta**2 * c * (HH - KH)
        return bool(np.max(np.abs(np.linalg.eigvals(T))) <= 1.0)

    hi = 4 * max(eta_max, float(gd(lambda_max=a)))
    curves: dict[str, list[float]] = {
        "GD: λ_max ≤ 2/η (stability.gd_threshold)": [float(gd(lambda_max=a))] * len(batches)}
    nec, suf, ex = [], [], []
    for b in batches:
        if b < n:
            nec.append(_boundary(lambda e, b=b: bool(s <= s_max(eta=e, n=n, B=b)), 1e-9, hi))
        else:
            nec.append(math.nan)  # no constraint on s at B = n (GD)
        cs, ce = float(c_suff(n=n, B=b)), float(c_exact(n=n, B=b))
        suf.append(_boundary(lambda e, c=cs: sufficient(e, c), 1e-9, hi))
        ex.append(_boundary(lambda e, c=ce: exact(e, c), 1e-9, hi))
    curves["necessary: s ≤ √(B(n−1)/(n−B))/η, implied by the sufficient (stability.sgd_threshold)"] = nec
    curves["sufficient: λ_max{(I−ηH)² + η²cΣ} ≤ 1 (stability.sgd_threshold)"] = suf
    curves["mean-square: ρ(T_η) ≤ 1 (stability.sgd_exact_threshold)"] = ex
    return curves


#: Legend labels of the threshold curves: which condition each is, and what lies on
#: either side of it (a sufficient bound says nothing about the cells beyond it).
_CURVE_LABELS = {
    "GD": "GD threshold η = 2/λ_max (stability.gd_threshold): exact at B = n only",
    "necessary": "s ≤ √(B(n−1)/(n−B))/η (stability.sgd_threshold): implied by the sufficient "
                 "condition, not a limit on stability",
    "sufficient": "sufficient condition λ_max{(I−ηH)² + η²c_BΣ} ≤ 1 (stability.sgd_threshold): "
                  "stable to its left; beyond it stability is not excluded",
    "mean-square": "exact mean-square threshold ρ(T_η) = 1 (stability.sgd_exact_threshold): "
                   "E‖x_T‖² decays to its left, grows to its right",
}


def expected_sq_norm(row: dict[str, Any]) -> float:
    r"""The exact :math:`\mathbb E\|x_T\|^2` of a cell's SGD from :math:`x_0` uniform on the
    unit sphere (:math:`\mathbb E\,x_0x_0^T = I/p`), by the second-moment map of
    ``stability.sgd_exact_threshold`` (:func:`numerics.stability.second_moment_map`):
    :math:`\operatorname{tr}\operatorname{vec}^{-1}(\mathcal T^T\operatorname{vec}(I/p))`."""
    import numpy as np  # noqa: PLC0415

    from numerics.stability import second_moment_map  # noqa: PLC0415

    H = problem(row, row["seed"])
    p = H.shape[-1]
    T = np.asarray(second_moment_map(H, row["eta"], row["batch"]))
    m = np.linalg.matrix_power(T, int(row["steps"])) @ (np.eye(p) / p).ravel()
    return float(np.trace(m.reshape(p, p)))


def plot_stability(rows: list[dict[str, Any]], sweep: Sweep) -> Any:
    r"""Heatmap of the growth rate over (η, B) for one seed, stable cells marked, with the
    derived threshold curves.

    A cell is *stable* when the sample mean of ‖x_T‖² over its replicas decays. The
    curves are conditions on the mean :math:`\mathbb E\|x_T\|^2`: the sufficient one only
    guarantees stability to its left, and the exact mean-square one can be crossed by the
    sample because ‖x_T‖² is heavy-tailed for small batches (a finite sample of replicas
    rarely holds the trajectories that make the mean grow; module Notes). Stable cells on
    (stored ``ms_rate`` = 0) or past (``ms_rate`` > 0) the mean-square threshold are drawn
    hollow with their own legend entries, so that every mark on the far side of a curve
    says why it is there. For the cells past the mean-square threshold the legend gives the
    exact :math:`\mathbb E\|x_T\|^2` (:func:`expected_sq_norm`) next to the replicas' mean:
    the exact mean is far above 1 at the horizon T, so the finite horizon is not the reason,
    the sample is.
    """
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
    fig, ax = plt.subplots(figsize=(9, 6.4), layout="constrained")
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
    fig.colorbar(mesh, ax=ax, label=r"growth rate per step $\frac{1}{T}\log\overline{\|x_T\|^2}$"
                                    "\n(mean over replicas; < 0 decays)")
    y = np.arange(len(batches))
    for (label, etas_star), style in zip(threshold_curves(rows, batches, etas[-1]).items(),
                                         ("k--", "c:", "g-", "m-."), strict=False):
        # Each batch size is a band [i - 1/2, i + 1/2]: the threshold is a vertical segment
        # across its band, joined to the next band's.
        xs = np.repeat(np.asarray(etas_star, dtype=float), 2)
        ys = np.stack([y - 0.5, y + 0.5], axis=1).ravel()
        ax.plot(xs, ys, style, lw=1.8, label=_CURVE_LABELS[label.split(":")[0]])
    R, T = rows[0]["replicas"], rows[0]["steps"]
    # The stored exact rate log ρ(T_η) of each stable cell says why it is where it is.
    # On the threshold it is 0 up to the eigensolver's error (~1e-15 per step here).
    kinds = {
        "inside": (lambda m: m * T < -1e-9, dict(marker="o", color="k", ms=3.5),
                   "stable: the mean of ‖x_T‖² over the replicas decays"),
        "on": (lambda m: abs(m * T) <= 1e-9, dict(marker="s", mfc="none", mec="k", ms=6),
               "stable on the mean-square threshold (ρ(T_η) = 1): the top mode neither grows "
               "nor decays, the others decay"),
        "beyond": (lambda m: m * T > 1e-9, dict(marker="o", mfc="none", mec="k", mew=1.0, ms=5),
                   f"stable past the mean-square threshold: ‖x_T‖² is heavy-tailed, and R = {R} "
                   "replicas rarely hold the few runs that make E‖x_T‖² grow"),
    }
    beyond = [r for r in rows if r["stable"] and kinds["beyond"][0](r["ms_rate"])]
    if beyond:
        # Why these cells read stable: not the finite horizon (the exact mean has already
        # grown far past 1 at T) but the sample: R replicas hold none of the rare runs that
        # carry E‖x_T‖² (heavy tails), so their mean follows the typical, decaying run.
        exact = [expected_sq_norm(r) for r in beyond]
        sample = [math.exp(r["growth_rate"] * T) for r in beyond]
        test, style, _ = kinds["beyond"]
        kinds["beyond"] = (test, style,
                           "stable past the mean-square threshold: ‖x_T‖² is heavy-tailed, and E‖x_T‖² is carried "
                           f"by runs too rare to be among R = {R} replicas;\nnot for want of steps: at these cells "
                           f"the exact E‖x_T‖² (second-moment map) is already {min(exact):.2g} to {max(exact):.2g} "
                           f"at T = {T}, the replicas' mean {min(sample):.2g} to {max(sample):.2g}:\n"
                           "the typical run, which R replicas do sample, decays while the mean square grows")
    for test, style, label in kinds.values():
        sel = [r for r in rows if r["stable"] and test(r["ms_rate"])]
        if sel:
            ax.plot([r["eta"] for r in sel], [batches.index(r["batch"]) for r in sel],
                    ls="none", label=label, **style)
    ax.set_yticks(y, [str(b) for b in batches])
    ax.set_xlim(ex[0], ex[-1])
    p = rows[0]
    ax.set_xlabel(r"learning rate $\eta$ (units of $1/\lambda_{\max}(H)$; here "
                  rf"$\lambda_{{\max}} = a = {p['sharpness']:.3g}$)")
    ax.set_ylabel("batch size $B$ (samples per step, of $n$)")
    ax.set_title(f"Empirical SGD stability region against derived thresholds\n"
                 f"sum of n={p['n']} quadratics in p={p['p']} dimensions, sharpness "
                 f"a={p['sharpness']:.3g}, non-uniformity s={p['nonuniformity']:.3g}, seed {seed}; "
                 f"R={R} replicas, T={T} steps", fontsize=9)
    fig.legend(loc="outside lower center", fontsize=8, ncols=1, frameon=False)
    return fig


SWEEP = register(Sweep(
    "sgd_stability",
    stability_cell,
    grid={
        "eta": Axis(float, tuple(round(0.1 * k, 6) for k in range(1, 25)), gt=0,
                    doc="learning rate η"),
        "batch": Axis(int, (1, 2, 4, 8, 16), ge=1, le="n",
                      doc="batch size B, drawn without replacement"),
        "n": Axis(int, 16, ge=2, doc="samples; non-uniformity needs two"),
        "p": Axis(int, 4, ge=1, doc="dimension"),
        "a": Axis(float, 1.0, gt=0, doc="sharpness λ_max(H)"),
        "s": Axis(float, 1.0, ge=0, doc="non-uniformity λ_max(Σ)^½"),
        "steps": Axis(int, 100, ge=1, doc="SGD steps T, also the record interval"),
        "replicas": Axis(int, 256, ge=1, doc="trajectories R per cell"),
        "backend": Axis(str, "numpy", choices=BACKENDS, doc="array library"),
    },
    seeds=(0,),
    title="empirical SGD stability region over (η, B) on a sum of quadratics, "
          "with derived thresholds",
    axes=("eta", "batch"),
    plot=plot_stability,
    check=feasible,
    check_axes=("a", "s", "n", "p"),
))
