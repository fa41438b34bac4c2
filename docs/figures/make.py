"""Regenerate the figures shown in the documentation (run from the repository root):

    python docs/figures/make.py            # all of them
    python docs/figures/make.py kernels.arccos1_gaussian

Each file is ``implreg figure ID --out docs/figures/<ID with '.' as '_'>.png`` on NumPy,
drawn with the check's example parameters (seeded, so a rerun gives the same picture).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

#: The figures kept in the repository.
IDS = (
    "kernels.arccos1_gaussian",
    "kernels.arccos1_sphere",
    "stability.gd_threshold",
    "stability.sgd_exact_threshold",
    "sharpness.epsilon",
    "sharpness.pac_bayes",
)


def main(ids: list[str]) -> None:
    from numerics.backend import get_namespace
    from verify.report import draw_figure

    xp = get_namespace("numpy")
    for id in ids or IDS:
        out = Path(__file__).parent / f"{id.replace('.', '_')}.png"
        if not draw_figure(id, xp, out):
            raise SystemExit(f"{id} has no figure")
        print(out.relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
