r"""Sweep ``model_sgd_stability``: SGD's empirical stability at the interpolating minimum of a
symbolic model (:class:`theory.Model`), over (η, B), against the model's derived thresholds.

A cell compiles a worked model with an interpolating minimum :math:`\theta^*` (every
:math:`\nabla\ell_i(\theta^*) = 0`) into a numerics model
(:meth:`verify.models.CompiledModel.from_model`: loss, gradients, HVPs through
:meth:`theory.Result.numeric`), starts ``replicas`` trajectories at
:math:`\theta^* + \delta_0`, runs minibatch SGD on it (:class:`numerics.SGD`, batch ``B``
drawn without replacement, step ``η``) with the replica engine, and records the empirical
growth rate of the second moment of the deviation,

.. math::

    \hat\rho = \frac1h \log\frac{\frac1R\sum_{r=1}^R\|P(\theta_h^{(r)} - \theta^*)\|^2}
                              {\|\delta_0\|^2},

next to the derived thresholds read from the model's Results through
:meth:`theory.Result.numeric`: the exact mean-square threshold :math:`\eta^*(B)` of
``models.NAME.sgd_threshold`` (with its parts: sharpness, non-uniformity, batch factor and
the sufficient threshold) for a model of batch ``B`` (:meth:`theory.Model.with_batch`), and the GD
threshold :math:`2/\lambda_{\max}` of ``models.NAME.gd_threshold``.

The deviation is measured on the range of :math:`H = \nabla^2L(\theta^*)`, with :math:`P`
its orthogonal projector, and :math:`\delta_0` is drawn there (uniform direction, norm
:math:`r_0`). Near :math:`\theta^*` one SGD step is
:math:`\delta \mapsto (I - \eta H_\mathcal B)\delta + O(\|\delta\|^2)` with
:math:`H_\mathcal B` the batch's Hessian; every :math:`H_i` is PSD and sums to :math:`nH`, so
the null space of :math:`H` — the tangent of the manifold of minima — is common to all of
them and the linear map is the identity there: a deviation along it neither grows nor
decays (the marginal directions of ``sgd_threshold``'s derivation), and the threshold is
that of the range, which this sweep measures.

Linear regime
-------------
The neglected term of a step is :math:`\frac\eta2\nabla^3\ell_\mathcal B(\theta^*)[\delta,
\delta]` (plus higher orders), against the kept :math:`\eta H_\mathcal B\delta`. With
:math:`M = \max_i\|\nabla^3\ell_i(\theta^*)\|_F` (derived with SymPy from the model's loss;
by convexity of the norm it bounds every batch's third derivative), the neglected term has
norm at most :math:`\frac\eta2M\|\delta\|^2`, so the relative nonlinearity is measured as

.. math:: \nu = M\|\delta\|/\lambda_{\max},

and one step's relative error on :math:`\|\delta\|` is at most
:math:`\eta\lambda_{\max}\nu/(2\sigma)`, :math:`\sigma` the smallest singular value of the
step's linear map on the range. The start has :math:`\nu_0` (axis ``start``;
:math:`\|\delta_0\| = r_0 = \nu_0\lambda_{\max}/M`) and a replica has left the linear regime
when :math:`\nu > \nu_{\max}` (axis ``linear_limit``; :math:`\|\theta - \theta^*\| >
r_\mathrm{lin} = \nu_{\max}\lambda_{\max}/M`): the rate is read at the last step ``horizon``
before the first replica of the cell leaves it (so :math:`h \le T`; ``linear`` says whether
every replica stayed in it for all T steps; ``nonlinearity`` is the largest ν up to
:math:`h`). The engine's divergence bound is :math:`\|\theta^*\| + r_\mathrm{lin}` (past it
a replica has certainly left the regime): such replicas are frozen and flagged
(``diverged_fraction``) instead of running on to overflow. At the defaults
(:math:`\nu_0 = 10^{-8}`, :math:`\nu_{\max} = 10^{-4}`) a step's relative error is at most
:math:`\eta\lambda_{\max}\cdot10^{-4}/(2\sigma)`, far below the rates the plot resolves, and
a growing cell has a factor :math:`10^8` in :math:`\|\delta\|^2` before its horizon ends.

Rounding: each step rounds :math:`\theta` to about :math:`u\|\theta^*\|`
(:math:`u = 2^{-53}`), so :math:`\|P\delta\|^2` cannot decay far below
:math:`(u\|\theta^*\|)^2`. The rate is read before the replicas' mean of
:math:`\|P\delta\|^2` falls below :math:`(10^3u\|\theta^*\|)^2`: the rounding errors of
:math:`T \le 10^4` steps add up to at most :math:`\sqrt T\,u\|\theta^*\| \le 10^2u\|\theta^*\|`
(a random walk), a tenth of that level. ``ended`` says what ended the horizon: ``"T"``,
``"linear regime"`` (a replica left it) or ``"rounding"``. At the defaults both ends leave
a factor :math:`\approx 10^8` in :math:`\|\delta\|^2` between the start and the end.

Models: the worked models of :mod:`theory.models` that have an interpolating minimum
(``diagonal2``, ``diagonal3``, ``linear2``; the scalar ``toy`` has none). A user's
:class:`theory.Model` is not an axis value yet (a grid value must be a string that names
it; a registry of user models, as for plugins' results, would be the way).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from numerics.backend import BACKENDS
from verify.sweeps.core import Axis, Sweep, register

__all__ = ["MODELS", "SWEEP", "feasible", "model_stability_cell", "plot_model_stability", "thresholds"]

#: The worked models (:func:`theory.models.worked`) with an interpolating minimum.
MODELS = ("diagonal2", "diagonal3", "linear2")

#: Unit roundoff of float64.
_U = 2.0**-53


@cache
def _worked(name: str) -> Any:
    from theory.models import worked  # noqa: PLC0415

    if name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)} (a worked model with an "
                         f"interpolating minimum); got {name!r}")
    m = worked(name)
    if not m.interpolating:  # a worked model changed under this sweep
        raise ValueError(f"model {name!r} has no interpolating minimum")
    return m


def _n_samples(name: str) -> int:
    return len(_worked(name).samples)


def feasible(params: dict[str, Any], seed: int) -> None:
    """Raise ``ValueError`` unless ``batch`` is in ``[1, n]`` for the model's ``n`` samples."""
    n, B = _n_samples(params["model"]), params["batch"]
    if not 1 <= B <= n:
        raise ValueError(f"batch must be in [1, n={n}] (the samples of model "
                         f"{params['model']!r}); got {B}")


@cache
def _sgd_result(name: str, batch: int) -> Any:
    """``sgd_threshold`` of the model at this batch: the registered Result at the worked
    model's own batch (so a mutant under ``implreg power`` is what is read), else the
    Result of :meth:`theory.Model.with_batch`."""
    import theory  # noqa: PLC0415

    m = _worked(name)
    if batch == m.batch and m.id("sgd_threshold") in set(theory.ids()):
        return theory.get(m.id("sgd_threshold"))
    return m.with_batch(batch).result("sgd_threshold")


@cache
def thresholds(name: str, batch: int) -> dict[str, float]:
    r"""The derived thresholds of model ``name`` at batch ``batch``, each through
    :meth:`theory.Result.numeric`: ``eta_star`` (:math:`\eta^*`, ``sgd_threshold``),
    ``eta_sufficient``, ``sharpness``, ``nonuniformity``, ``batch_factor`` (its parts),
    ``eta_gd`` (:math:`2/\lambda_{\max}`, ``gd_threshold``) and ``lambda_max`` (its part).

    Examples
    --------
    >>> t = thresholds("diagonal2", 1)
    >>> round(t["eta_star"], 6), round(t["eta_gd"], 6)   # 2/9 and 2/5
    (0.222222, 0.4)
    """
    import numpy as np  # noqa: PLC0415

    import theory  # noqa: PLC0415

    feasible({"model": name, "batch": batch}, 0)
    sgd = _sgd_result(name, batch)
    gd = theory.get(_worked(name).id("gd_threshold"))

    def ev(r: Any, part: str | None = None) -> float:
        return float(np.asarray(r.numeric(np, part=part)()))

    return {"eta_star": ev(sgd), "eta_sufficient": ev(sgd, "sufficient_threshold"),
            "sharpness": ev(sgd, "sharpness"), "nonuniformity": ev(sgd, "non_uniformity"),
            "batch_factor": ev(sgd, "batch_factor"), "eta_gd": ev(gd),
            "lambda_max": ev(gd, "lambda_max")}


@cache
def _geometry(name: str) -> dict[str, Any]:
    r"""θ*, the data set, the projector P on range ∇²L(θ*) (from ``gd_threshold``'s part
    ``hessian_at_minimum``) and the third-derivative bound M = max_i ‖∇³ℓ_i(θ*)‖_F."""
    import numpy as np  # noqa: PLC0415
    import sympy as sp  # noqa: PLC0415

    import theory  # noqa: PLC0415

    m = _worked(name)
    theta = np.array([float(m.minimum[q]) for q in m.params])
    data = {s.name: [float(v) for v in m.dataset[s]] for s in m.data}
    H = np.asarray(theory.get(m.id("gd_threshold")).numeric(np, part="hessian_at_minimum")(),
                   dtype=float)
    lam, V = np.linalg.eigh(H)
    # H is exact (rationals and surds evaluated once): its zero eigenvalues come out at
    # ~u·λ_max, its positive ones are O(1) for the worked models; 1e-8·λ_max separates them.
    keep = lam > 1e-8 * lam[-1]
    P = V[:, keep] @ V[:, keep].T
    third = [sp.diff(m.hess_ell, q) for q in m.params]
    M = 0.0
    for row in m.samples:
        sq = sum(float(e.xreplace(row).xreplace(m.minimum)) ** 2 for T in third for e in T)
        M = max(M, math.sqrt(sq))
    return {"theta": theta, "data": data, "P": P, "rank": int(keep.sum()), "M": M}


@cache
def _compiled(name: str, backend: str) -> Any:
    from numerics import get_namespace  # noqa: PLC0415
    from verify.models import CompiledModel  # noqa: PLC0415

    return CompiledModel.from_model(_worked(name), _geometry(name)["data"],
                                    xp=get_namespace(backend))


def model_stability_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """One (model, η, B) cell: SGD on the compiled model from θ* + δ₀; see the module
    docstring.

    Returns
    -------
    dict
        ``growth_rate`` (ρ̂ per step), ``horizon`` (h, the steps it is read over), ``ended``
        (``"T"``, ``"linear regime"`` or ``"rounding"``), ``linear``, ``nonlinearity`` (the
        largest ν up to h), ``radius`` (r₀), ``third_derivative`` (M), ``diverged_fraction``,
        ``stable`` (ρ̂ < 0 and no replica flagged), ``n``, and the derived
        :func:`thresholds` (``eta_star``, ``eta_sufficient``, ``sharpness``,
        ``nonuniformity``, ``batch_factor``, ``eta_gd``, ``lambda_max``).

    Raises
    ------
    ValueError
        ``batch`` outside ``[1, n]``; ``start`` not below ``linear_limit``, or so small that
        ‖δ₀‖ is near the rounding level.
    """
    import numpy as np  # noqa: PLC0415

    from numerics import SGD, Generator, get_namespace, run, to_numpy  # noqa: PLC0415

    name, B, eta = params["model"], params["batch"], params["eta"]
    T, R = params["steps"], params["replicas"]
    nu0, nu_max = params["start"], params["linear_limit"]
    feasible(params, seed)
    if not nu0 < nu_max:
        raise ValueError(f"start must be below linear_limit={nu_max!r}; got {nu0!r}")
    backend = params.get("backend", "numpy")
    xp = get_namespace(backend)
    thr, geo = thresholds(name, B), _geometry(name)
    lam, M = thr["lambda_max"], geo["M"]
    scale = lam / M if M > 0 else 1.0  # M = 0: a quadratic loss, linear everywhere
    r0 = nu0 * scale
    r_lin = nu_max * scale if M > 0 else math.inf
    floor = (1e3 * _U * float(np.linalg.norm(geo["theta"]))) ** 2  # rounding level of ‖Pδ‖²
    if r0**2 <= 100 * floor:
        raise ValueError(f"start={nu0!r} puts ‖δ₀‖ = {r0:.3g} within a factor 10 of the rounding "
                         f"level {math.sqrt(floor):.3g} of model {name!r}; raise start")
    model = _compiled(name, backend)
    theta = xp.asarray(geo["theta"], dtype=xp.float64)
    P = xp.asarray(geo["P"], dtype=xp.float64)
    s_x0, s_sgd = np.random.SeedSequence(seed).spawn(2)
    d0 = Generator(s_x0, xp).normal((R, model.p)) @ P
    d0 = r0 * d0 / xp.sqrt(xp.sum(d0 * d0, axis=1, keepdims=True))
    records = {"dev2": lambda _m, x: xp.sum(((x - theta) @ P) ** 2, axis=1),
               "full": lambda _m, x: xp.sqrt(xp.sum((x - theta) ** 2, axis=1))}
    bound = float(np.linalg.norm(geo["theta"])) + r_lin if math.isfinite(r_lin) else 1e100
    traj = run(model, SGD(eta, batch=B), theta + d0, T, record=records, record_every=1,
               rng=Generator(s_sgd, xp), bound=bound)
    dev2 = to_numpy(traj.records["dev2"])  # (T + 1, R)
    full = to_numpy(traj.records["full"])
    div_at = to_numpy(traj.diverged_at)
    # First step at which each replica is outside the linear regime (a frozen replica's
    # record repeats its last passing iterate, so its flag step counts as well), and the
    # first step at which the replicas' mean is down at the rounding level.
    out = full > r_lin
    first = np.where(out.any(axis=0), out.argmax(axis=0), T + 1)
    first = np.where(div_at >= 0, np.minimum(first, div_at), first)
    mean2 = np.mean(dev2, axis=1)
    low = mean2 < floor
    ends = {"T": T, "linear regime": int(first.min()) - 1,
            "rounding": int(low.argmax()) - 1 if low.any() else T + 1}
    ended = min(ends, key=lambda k: (ends[k], k != "T"))
    h = max(ends[ended], 1)
    rate = math.log(mean2[h] / r0**2) / h if mean2[h] > 0 else -math.inf
    nu_seen = float(M * np.max(full[: h + 1]) / lam)
    return {
        **thr,
        "n": _n_samples(name),
        "growth_rate": rate,
        "horizon": h,
        "ended": ended,
        "linear": bool(first.min() > T),
        "nonlinearity": nu_seen,
        "radius": r0,
        "third_derivative": M,
        "diverged_fraction": traj.n_diverged / R,
        "stable": bool(rate < 0 and traj.n_diverged == 0),
    }


# ----------------------------------------------------------------------------- figure
def _edges(v: Any) -> Any:
    """Cell edges at geometric midpoints of the (positive) grid values ``v``."""
    import numpy as np  # noqa: PLC0415

    v = np.asarray(v, dtype=float)
    if len(v) == 1:
        return np.array([v[0] / 1.1, v[0] * 1.1])
    mid = np.sqrt(v[1:] * v[:-1])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])


def plot_model_stability(rows: list[dict[str, Any]], sweep: Sweep) -> Any:
    r"""One panel per model: the growth rate over (η, B) for the first seed (red grows, blue
    decays; the two signs on their own scales), stable cells dotted, cells whose run left
    the linear regime before T crossed (their rate is read over the linear part), and the
    derived thresholds of each batch: :math:`\eta^*(B)` of ``sgd_threshold`` (where the
    mean square turns from decay to growth), its sufficient threshold, and GD's
    :math:`2/\lambda_{\max}` of ``gd_threshold``."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import matplotlib.ticker  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    from matplotlib.colors import TwoSlopeNorm  # noqa: PLC0415

    seed = min(r["seed"] for r in rows)
    rows = [r for r in rows if r["seed"] == seed]
    models = [m for m in MODELS if any(r["model"] == m for r in rows)]
    etas = sorted({r["eta"] for r in rows})
    batches = sorted({r["batch"] for r in rows})
    rates = np.array([r["growth_rate"] for r in rows if math.isfinite(r["growth_rate"])])
    lo = min(float(rates.min()), -1e-12) if rates.size else -1.0
    hi = max(float(rates.max()), 1e-12) if rates.size else 1.0
    norm = TwoSlopeNorm(0.0, lo, hi)
    height = 2.8 + 1.55 * len(models) * max(len(batches), 2) / 2  # titles, legend + panels
    fig, axes = plt.subplots(len(models), 1, figsize=(9, height),
                             sharex=True, layout="constrained", squeeze=False)
    ex, yb = _edges(etas), np.arange(len(batches) + 1) - 0.5
    y = np.arange(len(batches))
    styles = {"eta_star": ("k", "--", 2.0, r"$\eta^*(B)$: exact mean-square threshold "
                           "(models.NAME.sgd_threshold): E‖Pδ‖² decays left, grows right"),
              "eta_sufficient": ("limegreen", ":", 2.0,
                                 "sufficient threshold λ_max{(I−ηH)² + η²c_BΣ} ≤ 1 "
                                 "(sgd_threshold part): stable to its left"),
              "eta_gd": ("m", "-.", 1.6,
                         r"GD threshold $2/\lambda_{\max}$ (models.NAME.gd_threshold): "
                         "exact at B = n")}
    where = models[0] if len(models) == 1 else "NAME"
    styles = {k: (c, ls, lw, lab.replace("NAME", where)) for k, (c, ls, lw, lab) in styles.items()}
    mesh = None
    T = R = None
    for ax, name in zip(axes[:, 0], models, strict=True):
        sel = [r for r in rows if r["model"] == name]
        grid = np.full((len(batches), len(etas)), np.nan)
        for r in sel:
            grid[batches.index(r["batch"]), etas.index(r["eta"])] = r["growth_rate"]
        mesh = ax.pcolormesh(ex, yb, grid, cmap="RdBu_r", norm=norm)
        for key, (color, ls, lw, _label) in styles.items():
            xs, ys = [], []
            for j, b in enumerate(batches):
                if b > _n_samples(name):
                    continue
                xs += [thresholds(name, b)[key]] * 2 + [np.nan]
                ys += [j - 0.5, j + 0.5, np.nan]
            ax.plot(xs, ys, color=color, ls=ls, lw=lw)
        st = [r for r in sel if r["stable"] and r["linear"]]
        ax.plot([r["eta"] for r in st], [batches.index(r["batch"]) for r in st], "o", color="k",
                ms=3)
        nl = [r for r in sel if not r["linear"]]
        ax.plot([r["eta"] for r in nl], [batches.index(r["batch"]) for r in nl], "x",
                color="0.25", ms=4, mew=0.8)
        p0 = sel[0]
        T, R = p0["steps"], p0["replicas"]
        ax.set_yticks(y, [str(b) for b in batches])
        ax.set_ylabel("batch B")
        ax.set_title(f"{name}: n = {p0['n']} samples, λ_max = {p0['lambda_max']:.4g}, "
                     f"s = {p0['nonuniformity']:.4g}; η*(B=1) = "
                     f"{thresholds(name, 1)['eta_star']:.4g}, 2/λ_max = {p0['eta_gd']:.4g}",
                     fontsize=9, loc="left")
    ax = axes[-1, 0]
    ax.set_xscale("log")
    ax.set_xlim(ex[0], ex[-1])
    ticks = [t for t in (0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10)
             if ex[0] <= t <= ex[-1]]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("learning rate η (log scale)")
    fig.colorbar(mesh, ax=axes[:, 0].tolist(),
                 label="growth rate per step $\\frac{1}{h}\\log\\frac{\\overline{\\|P\\delta_h\\|^2}}"
                       "{\\|\\delta_0\\|^2}$\n(mean over replicas; < 0 decays)")
    handles = [plt.Line2D([], [], color=c, ls=ls, lw=lw, label=lab)
               for c, ls, lw, lab in styles.values()]
    handles += [plt.Line2D([], [], ls="none", marker="o", color="k", ms=3,
                           label="stable: the replicas' mean of ‖Pδ‖² decays (read over T "
                                 "steps, or until it reaches the rounding level)"),
                plt.Line2D([], [], ls="none", marker="x", color="0.25", ms=4,
                           label="a replica left the linear regime (M‖δ‖/λ_max > linear_limit) "
                                 "before T: rate read over the steps before"),
                plt.Line2D([], [], ls="none", label="unmarked: grows, every replica still in the "
                                                    "linear regime at T")]
    fig.suptitle("SGD at the interpolating minimum θ* of a symbolic model: empirical growth of "
                 "E‖P(θ − θ*)‖² against derived thresholds\n"
                 f"compiled from theory.Model results; R = {R} replicas from θ* + δ₀ on "
                 f"range ∇²L(θ*), T = {T} steps, seed {seed}", fontsize=10)
    fig.legend(handles=handles, loc="outside lower center", fontsize=8, ncols=1, frameon=False)
    return fig


def _eta_default() -> tuple[float, ...]:
    """30 step sizes, geometric from 0.06 to 0.8 (ratio ≈ 1.09): every model's η*(B) and
    2/λ_max (0.108 to 0.517) fall inside, each with cells on both sides."""
    k = 30
    return tuple(float(f"{0.06 * (0.8 / 0.06) ** (j / (k - 1)):.4g}") for j in range(k))


SWEEP = register(Sweep(
    "model_sgd_stability",
    model_stability_cell,
    grid={
        # One model by default: a plot is drawn over (η, B) for one value of every other axis.
        "model": Axis(str, "linear2", choices=MODELS,
                      doc="worked theory.Model with an interpolating minimum θ*"),
        "eta": Axis(float, _eta_default(), gt=0, doc="learning rate η"),
        "batch": Axis(int, (1, 2), ge=1, doc="batch size B, drawn without replacement, ≤ n"),
        "steps": Axis(int, 200, ge=1, le=10_000, doc="SGD steps T"),
        "replicas": Axis(int, 128, ge=1, doc="trajectories R per cell"),
        # ≥ 1e-10: with λ_max/M ≥ 0.1 (the worked models) ‖δ₀‖ ≥ 1e-11, far above the
        # rounding level 1e3·u‖θ*‖ ≈ 2e-13 at which the rate is no longer read.
        "start": Axis(float, 1e-8, ge=1e-10, lt="linear_limit",
                      doc="M‖δ₀‖/λ_max, the start's relative nonlinearity"),
        "linear_limit": Axis(float, 1e-4, gt=0, le=0.1,
                             doc="M‖δ‖/λ_max beyond which a run has left the linear regime"),
        "backend": Axis(str, "numpy", choices=BACKENDS, doc="array library"),
    },
    seeds=(0,),
    title="SGD stability at a symbolic model's interpolating minimum over (η, B), with its "
          "derived thresholds",
    axes=("eta", "batch"),
    plot=plot_model_stability,
    check=feasible,
    check_axes=("model", "batch"),
))
