"""Input limits shared by the CLI and the Python API (kept free of heavy imports, so
``implreg list`` does not load Hypothesis to parse its arguments)."""

from __future__ import annotations

__all__ = ["MAX_EXAMPLES", "MAX_SEED"]

#: Cap of ``--examples``: a check takes 0.01–1 s an example, so 10⁶ examples is already
#: 3 hours to 12 days of work (10⁴ to 10⁶ s); more is a typo.
MAX_EXAMPLES = 10**6

#: Largest ``--seed``: seeds are 32-bit, the range every backend's generator accepts.
MAX_SEED = 2**32 - 1
