r"""Parameter sweeps on Dask: a cell function, a grid, per-cell records, resumable runs.

>>> from verify.sweeps import Sweep, run_sweep, load_results   # doctest: +SKIP
>>> def cell(params, seed):                                     # doctest: +SKIP
...     return {"y": params["x"] ** 2}
>>> s = Sweep("squares", cell, grid={"x": Axis(float, (1.0, 2.0, 3.0), gt=0)})  # doctest: +SKIP
>>> run_sweep(s, out="runs")                                    # doctest: +SKIP
>>> load_results(s, out="runs").to_pylist()                     # doctest: +SKIP

A sweep runs on a ``dask.distributed`` cluster (a local one by default, or any scheduler
address); each cell's record is written to its own Parquet file keyed by a stable hash of
the cell's parameters and seed, so an interrupted sweep resumes with only the missing cells
and a finished one is never recomputed. Shipped sweeps: ``implreg sweep --list``.
"""

from verify.sweeps.core import (
    MAX_CELLS,
    RESERVED,
    Axis,
    Cell,
    Sweep,
    SweepError,
    get_sweep,
    iter_sweeps,
    parse_grid,
    register,
    sweep_names,
)
from verify.sweeps.runner import (
    DEFAULT_OUT,
    SweepSummary,
    check_timeout,
    connect,
    execute_cell,
    load_results,
    plot_sweep,
    run_sweep,
)
from verify.sweeps.store import CellStore, check_writable_dir, check_writable_file

__all__ = [
    "DEFAULT_OUT",
    "MAX_CELLS",
    "RESERVED",
    "Axis",
    "Cell",
    "CellStore",
    "Sweep",
    "SweepError",
    "SweepSummary",
    "check_timeout",
    "check_writable_dir",
    "check_writable_file",
    "connect",
    "execute_cell",
    "get_sweep",
    "iter_sweeps",
    "load_results",
    "parse_grid",
    "plot_sweep",
    "register",
    "run_sweep",
    "sweep_names",
]
