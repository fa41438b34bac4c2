r"""The same theorem stated wrongly: what a failing check looks like.

Stated (no derivation, so the evidence is numeric only):
:math:`x_k = (1 - \eta a)^{k+1} x_0` -- one step too many, a slip easy to make when the
first step is counted as step 1. The check is the one of ``examples/my_theorem.py``, run on
this statement; Hypothesis finds parameters where it fails and shrinks them::

    python -m verify verify mytopic.gd_contraction_off_by_one --plugin examples/my_wrong_theorem.py

exits 1 and prints the counterexample, e.g. ``{'a': 0.1, 'eta_frac': 0.05, 'x0': 0.5, 'k': 1}``.
Importing ``my_theorem`` (this file's sibling: a file plugin imports with its directory on
``sys.path``) also registers the right statement, so ``verify mytopic`` shows both.
"""

from __future__ import annotations

import sympy as sp
from my_theorem import a, check_gd_contraction, eta, k, params, x0, xk

import theory
from verify import check

SOURCE = "a wrong statement of the theorem of examples/my_theorem.py (off by one step)"


@theory.result("mytopic.gd_contraction_off_by_one", title="GD on a x²/2: x_k = (1 − ηa)^(k+1) x_0",
               source=SOURCE, how="state")
def gd_contraction_off_by_one() -> theory.Result:
    """The rate of :mod:`my_theorem` with the exponent off by one (deliberately wrong)."""
    return theory.Result(
        id="mytopic.gd_contraction_off_by_one",
        title="GD on L(x) = a x²/2: x_k = (1 − ηa)^(k+1) x_0 (wrong: one step too many)",
        source=SOURCE,
        statement=sp.Eq(xk, (1 - eta * a) ** (k + 1) * x0),
        symbols=(xk, x0, a, eta, k),
        conditions=(eta < 2 / a,),
        notes="Deliberately wrong, to show a failing check; mytopic.gd_contraction is right.",
    )


check("mytopic.gd_contraction_off_by_one", strategy=params, examples=30,
      example={"a": 2.0, "eta_frac": 0.3, "x0": 1.0, "k": 20})(check_gd_contraction)
