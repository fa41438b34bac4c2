"""Shared conventions of the figures of ``implreg figure`` and ``implreg verify --report``.

Every figure has a title (on each Axes or a suptitle), labelled axes with units or
"dimensionless", fonts of at least :data:`MIN_FONT` points, and legends that do not cover
data: placed outside the Axes (:func:`legend_outside`) or in a corner checked to be empty.
``tests/verify/test_figures.py`` asserts these through matplotlib's API for every
registered figure.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MIN_FONT", "legend_outside", "t_interval"]

#: Smallest font size (points) used for legends, titles and annotations at the report's
#: 120 dpi: below it labels are not legible in a Markdown viewer at 100 %.
MIN_FONT = 8


def legend_outside(ax: Any, *, where: str = "right", ncol: int = 1, fontsize: float = MIN_FONT,
                   **kwargs: Any) -> Any:
    """A legend of ``ax`` outside its data area, so it cannot cover data.

    Parameters
    ----------
    ax
        A matplotlib Axes with labelled artists.
    where
        ``"right"`` (beside the Axes, top-aligned) or ``"below"`` (under the x label).
    ncol
        Columns of the legend.
    fontsize
        Point size, at least :data:`MIN_FONT`.

    Returns
    -------
    matplotlib.legend.Legend
    """
    if where == "right":
        place = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    elif where == "below":
        place = dict(loc="upper center", bbox_to_anchor=(0.5, -0.2))
    else:
        raise ValueError(f"where must be 'right' or 'below'; got {where!r}")
    return ax.legend(**place, ncol=ncol, fontsize=max(fontsize, MIN_FONT), frameon=False,
                     borderaxespad=0.0, **kwargs)


def t_interval(std: Any, N: int, level: float = 0.95) -> Any:
    r"""Half-width of the two-sided Student-t confidence interval at ``level`` for a mean of
    ``N`` samples with sample standard deviation ``std``:
    :math:`t_{N-1}^{-1}\bigl(\tfrac{1+\text{level}}{2}\bigr)\,\hat\sigma/\sqrt N`.

    This is an error bar for the eye (about one point in twenty misses at 95 %), not a
    check's tolerance, which is set at :data:`verify.tolerance.FALSE_ALARM` instead.
    """
    import math  # noqa: PLC0415

    from verify.tolerance import t_value  # noqa: PLC0415

    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    return t_value(N - 1, alpha=1 - level) * std / math.sqrt(N)
