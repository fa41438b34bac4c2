"""``python -m benchmarks``: run the performance suite (see :mod:`benchmarks`)."""

import sys

from benchmarks import main

sys.exit(main())
