"""Every registered figure is legible: titled, with labelled axes, legends clear of the data,
fonts of at least ``verify.plotting.MIN_FONT`` points and no NaN among the plotted values.

Each figure is drawn once on NumPy (its check's example parameters, as ``implreg figure``
draws it) at a low resolution, and inspected through matplotlib's artists in display
coordinates: a legend "covers data" when a plotted point, a point along a drawn line
(sampled every 2 px), a marker or a patch corner inside the Axes falls in the legend's box
or within a marker's radius of it. Points are tested one by one rather than by each
artist's bounding box, which for any curve spans most of the Axes.
Figures whose simulation takes more than a few seconds are marked ``slow``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import theory  # noqa: E402
from verify.plotting import MIN_FONT  # noqa: E402
from verify.registry import check_ids, get_check, get_figure  # noqa: E402
from verify.runner import takes_result  # noqa: E402

#: Figures that take more than ~2 s on one core, simulation and building the Result with
#: SymPy included (measured with ``pytest --durations``); the rest together draw in about
#: 20 s. kernels.arccos2_gaussian shares its code with the three other kernel figures.
SLOW = {
    "adaptive.adam_vs_sgd_norm", "adaptive.metric_view", "kernels.arccos2_gaussian", "classification.max_margin", "data.adam_vs_sgd",
    "data.batch_size", "data.escape", "data.random_labels", "data.sharpness_vs_lr",
    "diagonal.scale_limits", "label_noise.sparse_recovery", "langevin.basin_mass_ratio",
    "linear.gd_limit", "linear.sgd_limit", "sharpness.epsilon", "sharpness.pac_bayes", "stability.edge_of_stability",
    "two_layer.quenching_activation", "two_layer.rf_limit",
}

FIGURE_IDS = [i for i in check_ids() if get_figure(i) is not None]


def _draw(id: str) -> Any:
    """The figure of ``id`` as ``implreg figure`` draws it (NumPy, the check's example), at
    40 dpi, rendered so that every artist has its display coordinates."""
    fn = get_figure(id)
    params = dict(get_check(id).example or {})
    with plt.rc_context({"figure.dpi": 40}):
        fig = fn(params, np, theory.get(id)) if takes_result(fn) else fn(params, np)
        fig.canvas.draw()
    return fig


def _is_colorbar(ax: Any) -> bool:
    return getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>"


def _densify(xy: np.ndarray, step: float = 2.0) -> np.ndarray:
    """Points every ``step`` display pixels along the polyline ``xy`` (k, 2)."""
    if len(xy) < 2:
        return xy
    out = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:]):
        n = max(1, math.ceil(float(np.hypot(*(b - a))) / step))
        if n > 10_000:  # a segment of a line running off the view: its ends suffice
            n = 1
        t = np.linspace(0.0, 1.0, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.concatenate(out)


def _data_points(ax: Any) -> np.ndarray:
    """Display coordinates of what ``ax`` draws inside its own box: lines (sampled along
    their segments), markers and collection offsets, polygon and rectangle corners."""
    pts = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy):
            d = line.get_transform().transform(xy)
            pts.append(_densify(d) if line.get_linestyle() not in ("None", "none", "") else d)
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        off = np.asarray(coll.get_offsets(), dtype=float)
        if len(off) and np.any(off):
            pts.append(coll.get_offset_transform().transform(off))
        for path in coll.get_paths():
            v = np.asarray(path.vertices, dtype=float)
            v = v[np.all(np.isfinite(v), axis=1)]
            if len(v) and not len(off) > 1:
                pts.append(coll.get_transform().transform(v))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_height() != 0:
            pts.append(patch.get_transform().transform(patch.get_path().vertices))
    if not pts:
        return np.zeros((0, 2))
    allp = np.concatenate(pts)
    box = ax.get_window_extent()
    inside = ((allp[:, 0] >= box.x0) & (allp[:, 0] <= box.x1)
              & (allp[:, 1] >= box.y0) & (allp[:, 1] <= box.y1))
    return allp[inside]


def _plotted_values(ax: Any) -> list[tuple[str, np.ndarray]]:
    vals = []
    for line in ax.get_lines():
        vals.append((f"line {line.get_label()!r}", np.asarray(line.get_xydata(), dtype=float)))
    for coll in ax.collections:
        vals.append((f"collection {coll.get_label()!r}", np.asarray(coll.get_offsets(), dtype=float)))
    for im in ax.images:
        vals.append(("image", np.asarray(im.get_array(), dtype=float)))
    return vals


def _problems(fig: Any) -> list[str]:
    """What makes ``fig`` hard to read, one line each (empty when legible)."""
    renderer = fig.canvas.get_renderer()
    bad: list[str] = []
    sup = fig._suptitle.get_text() if fig._suptitle is not None else ""
    axes = [ax for ax in fig.axes if ax.get_visible() and not _is_colorbar(ax)]
    for k, ax in enumerate(axes):
        where = f"axes {k}"
        if not (sup or ax.get_title() or ax.get_title("left") or ax.get_title("right")):
            bad.append(f"{where}: no title and no suptitle")
        for axis in ("x", "y"):
            label = getattr(ax, f"get_{axis}label")()
            shared = getattr(ax, f"get_shared_{axis}_axes")().get_siblings(ax)
            if not label and not any(getattr(o, f"get_{axis}label")() for o in shared if o is not ax):
                bad.append(f"{where}: no {axis} label")
        for what, v in _plotted_values(ax):
            if v.size and np.isnan(v).any():
                bad.append(f"{where}: NaN in {what}")
    legends = [(ax.get_legend(), k) for k, ax in enumerate(axes) if ax.get_legend() is not None]
    legends += [(leg, None) for leg in fig.legends]
    # A point closer to the legend's box than a marker's radius (3 pt) touches it.
    pad = 3.0 * fig.dpi / 72.0
    for leg, k in legends:
        box = leg.get_window_extent(renderer)
        for j, ax in enumerate(axes):
            p = _data_points(ax)
            hit = ((p[:, 0] > box.x0 - pad) & (p[:, 0] < box.x1 + pad)
                   & (p[:, 1] > box.y0 - pad) & (p[:, 1] < box.y1 + pad))
            if hit.any():
                bad.append(f"legend of {'the figure' if k is None else f'axes {k}'} covers "
                           f"{int(hit.sum())} plotted point(s) of axes {j}")
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_fontsize() < MIN_FONT - 1e-9:
            bad.append(f"text {t.get_text()[:40]!r} at {t.get_fontsize():g} pt < {MIN_FONT} pt")
    return bad


@pytest.mark.parametrize("id", [pytest.param(i, marks=pytest.mark.slow) if i in SLOW else i
                                for i in FIGURE_IDS])
def test_figure_is_legible(id: str) -> None:
    fig = _draw(id)
    try:
        assert _problems(fig) == [], id
    finally:
        plt.close(fig)


def test_every_kernel_result_has_a_figure() -> None:
    kernels = [i for i in theory.ids() if i.startswith("kernels.")]
    assert kernels and all(get_figure(i) is not None for i in kernels)


# ------------------------------------------------------------------ the inspector itself
def _toy(legend_loc: Any, **legend_kw: Any) -> Any:
    fig, ax = plt.subplots(figsize=(4, 3), dpi=40)
    x = np.linspace(0, 1, 50)
    ax.plot(x, x, label="data")
    ax.set(title="t", xlabel="x (dimensionless)", ylabel="y (dimensionless)")
    ax.legend(loc=legend_loc, fontsize=MIN_FONT, **legend_kw)
    fig.canvas.draw()
    return fig


def test_inspector_sees_a_legend_on_a_line() -> None:
    """A legend placed on the diagonal line is reported; one outside the Axes is not."""
    on = _toy("center")
    off = _toy("upper left", bbox_to_anchor=(1.02, 1.0))
    try:
        assert any("covers" in s for s in _problems(on))
        assert _problems(off) == []
    finally:
        plt.close(on)
        plt.close(off)


def test_inspector_sees_missing_labels_nan_and_small_fonts() -> None:
    fig, ax = plt.subplots(dpi=40)
    ax.plot([0, 1, 2], [0, float("nan"), 1])
    ax.text(0.5, 0.5, "tiny", fontsize=MIN_FONT - 2)
    fig.canvas.draw()
    try:
        found = _problems(fig)
        for expected in ("no title", "no x label", "no y label", "NaN in line", "'tiny'"):
            assert any(expected in s for s in found), (expected, found)
    finally:
        plt.close(fig)



# ------------------------------------------------------------------ the sgd_stability plot
def test_expected_sq_norm_matches_one_sgd_step() -> None:
    """The exact E‖x_1‖² that the sgd_stability legend quotes, against the mean of one SGD
    step over R replicas from the unit sphere. ‖x_1‖² = x_0ᵀA_𝓑ᵀA_𝓑x_0 lies in [0, b],
    b = max over the batches of ‖I − ηH_𝓑‖₂², so Hoeffding gives |mean − E| ≤
    b·√(log(2/α)/(2R)) with probability 1 − α (α = 10⁻⁶): 3 % of E here, so a map off by a
    constant factor (a lost η² or c_B) fails."""
    import itertools  # noqa: PLC0415

    from verify.sweeps.stability import expected_sq_norm, problem, stability_cell  # noqa: PLC0415

    params = {"n": 16, "p": 4, "a": 1.0, "s": 1.0, "backend": "numpy", "eta": 0.5, "batch": 2,
              "steps": 1, "replicas": 20_000}
    H = problem(params, 0)
    b = max(float(np.linalg.norm(np.eye(4) - 0.5 * H[list(S)].mean(0), 2)) ** 2
            for S in itertools.combinations(range(16), 2))
    tol = b * math.sqrt(math.log(2 / 1e-6) / (2 * params["replicas"]))
    exact = expected_sq_norm({**params, "seed": 0})
    sample = math.exp(stability_cell(params, seed=0)["growth_rate"])
    assert tol < 0.05 * exact
    assert abs(sample - exact) <= tol


# ------------------------------------------------------------------ verify.plotting
def test_t_interval_tends_to_the_normal_quantile_and_widens_for_few_samples() -> None:
    """Half-width t_{N−1}(0.975)·σ̂/√N: for N = 10⁶ the t quantile is the normal one,
    Φ⁻¹(0.975) (statistics.NormalDist, to 1e-5 relative: t − z ≈ z(z² + 1)/(4(N − 1))); for
    N = 2 it is t₁(0.975) = tan(π(0.975 − ½)) = 12.706 (Cauchy), so the bar is wider."""
    from statistics import NormalDist  # noqa: PLC0415

    from verify.plotting import t_interval  # noqa: PLC0415

    z = NormalDist().inv_cdf(0.975)
    assert t_interval(1.0, 10**6) == pytest.approx(z / 1000, rel=1e-5)
    assert t_interval(1.0, 2) == pytest.approx(math.tan(math.pi * 0.475) / math.sqrt(2), rel=1e-9)
    with pytest.raises(ValueError, match="level must be in"):
        t_interval(1.0, 10, level=1.5)


def test_legend_outside_rejects_an_unknown_place() -> None:
    from verify.plotting import legend_outside  # noqa: PLC0415

    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="where must be 'right' or 'below'; got 'left'"):
            legend_outside(ax, where="left")
    finally:
        plt.close(fig)
