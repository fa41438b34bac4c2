r"""Per-cell storage of sweep records: one small Parquet file per cell.

Layout under an output directory ``OUT``::

    OUT/<sweep name>/<key>.parquet          a cell that returned a record
    OUT/<sweep name>/<key>.failed.parquet   a cell that raised (error and traceback kept)

Each file is a one-row table: the reserved columns (``key``, ``sweep``, ``seed``,
``status``, ``error``, ``traceback``, ``seconds``, ``worker``), one column per parameter,
and one per record field. The status is visible in the file name, so planning a resumed
sweep is a directory listing, never a read.

Why Parquet (via pyarrow): a record is one row of scalars, which is a table, not an
N-dimensional array; Parquet keeps column types (int stays int, a bool stays a bool,
errors are text), stores the parameters next to the results so a file is self-describing,
and a directory of them is read back by pyarrow, pandas, polars or DuckDB without this
package. Zarr and NetCDF are built for large dense arrays on a regular grid: a sweep with
failed or missing cells, text columns, and values added cell by cell fits them poorly, and
NetCDF would add a C library to the install.

Writes are atomic: a record is written to a hidden temporary file in the same directory
and renamed over its final name (``os.replace``), so a reader (or a resumed sweep) never
sees a half-written file, even if the writer is killed mid-write.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["CellStore", "check_writable_dir", "check_writable_file"]

_OK = ".parquet"
_FAILED = ".failed.parquet"


def _probe(directory: Path, what: str, path: Path) -> None:
    """Create and remove a file in ``directory``: the only test of writability that holds
    for root and for read-only or special file systems (``os.access`` says yes to root)."""
    from verify.sweeps.core import SweepError  # noqa: PLC0415

    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".implreg-probe-"):
            pass
    except OSError as exc:
        raise SweepError(f"{what}: cannot write in {str(directory)!r} for {str(path)!r} "
                         f"({exc.strerror or exc})") from None


def check_writable_dir(path: str | os.PathLike[str], what: str = "out", *,
                       for_path: str | os.PathLike[str] | None = None) -> Path:
    """Check, writing nothing, that ``path`` is or can be made a writable directory.

    Raises
    ------
    SweepError
        ``path`` or one of its parents is a file, or the nearest existing directory is not
        writable. The message starts with ``what`` (e.g. ``--out``) and names ``for_path``
        (default ``path``): the file to be written there, when checking its directory.
    """
    from verify.sweeps.core import SweepError  # noqa: PLC0415

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise SweepError(f"{what} {str(out)!r} is a file; give a directory")
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise SweepError(f"{what}: {str(probe)!r} is a file, so the directory {str(out)!r} "
                         "cannot be made")
    _probe(probe, what, out if for_path is None else Path(for_path))
    return out


def check_writable_file(path: str | os.PathLike[str], what: str = "path",
                        suffixes: tuple[str, ...] | None = None, *,
                        make_parents: bool = True) -> Path:
    """Check, writing nothing, that ``path`` can be written as a file.

    Parameters
    ----------
    path
        The file to be written.
    what
        How the message names it (e.g. ``--out``).
    suffixes
        The allowed suffixes (lower case, with the dot), or ``None`` for any.
    make_parents
        Whether the writer makes missing parent directories; if not, the directory must
        exist already.

    Raises
    ------
    SweepError
        ``path`` is a directory, a wrong suffix, a parent is a file, the directory does not
        exist (with ``make_parents=False``), or the place is not writable.
    """
    from verify.sweeps.core import SweepError  # noqa: PLC0415

    out = Path(path)
    if out.is_dir():
        want = f" ending in {_or(suffixes)}" if suffixes else ""
        raise SweepError(f"{what} {str(out)!r} is a directory; give a file name{want}")
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise SweepError(f"{what} must end in {_or(suffixes)}; got {str(out)!r}")
    if out.exists():
        try:
            with open(out, "ab"):
                pass
        except OSError as exc:
            raise SweepError(f"{what}: {str(out)!r} is not writable "
                             f"({exc.strerror or exc})") from None
        return out
    parent = out.parent if str(out.parent) else Path(".")
    if not make_parents and not parent.is_dir():
        probe = parent
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if probe.exists() and not probe.is_dir():
            raise SweepError(f"{what}: {str(probe)!r} is a file, so {str(out)!r} cannot be "
                             "written under it")
        raise SweepError(f"{what}: directory {str(parent)!r} does not exist")
    check_writable_dir(parent, what, for_path=out)
    return out


def _or(options: tuple[str, ...]) -> str:
    """``'.png, .pdf or .svg'``."""
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


class CellStore:
    """The records of one sweep under ``root / name``.

    Parameters
    ----------
    root
        The output directory (created on first write).
    name
        The sweep name; records go to ``root / name``.
    """

    def __init__(self, root: str | os.PathLike[str], name: str) -> None:
        self.root = Path(root)
        self.name = name
        self.dir = self.root / name

    def __repr__(self) -> str:
        return f"CellStore({str(self.dir)!r})"

    def check_writable(self, what: str = "out") -> None:
        """Check, writing nothing, that records can be written under ``root / name``
        (raises :class:`~verify.sweeps.SweepError` naming ``what`` otherwise)."""
        check_writable_dir(self.root, what)
        check_writable_dir(self.dir, what)

    # ------------------------------------------------------------------ planning
    def status(self) -> dict[str, str]:
        """Key -> ``"ok"`` or ``"error"`` for every stored cell (an ok record wins over a
        stale failure record of the same key)."""
        out: dict[str, str] = {}
        if not self.dir.is_dir():
            return out
        for entry in os.scandir(self.dir):
            n = entry.name
            if n.startswith("."):
                continue  # temporary files of writes in progress
            if n.endswith(_FAILED):
                out.setdefault(n[: -len(_FAILED)], "error")
            elif n.endswith(_OK):
                out[n[: -len(_OK)]] = "ok"
        return out

    def path(self, key: str, *, failed: bool = False) -> Path:
        return self.dir / (key + (_FAILED if failed else _OK))

    # ------------------------------------------------------------------ writing
    def write(self, row: Mapping[str, Any], *, params: Iterable[str]) -> Path:
        """Write one cell's row atomically; returns the final path.

        A successful record replaces a failure record of the same key.
        """
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        key = row["key"]
        failed = row["status"] != "ok"
        self.dir.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([dict(row)])
        meta = {b"implreg.params": json.dumps(list(params)).encode(),
                b"implreg.sweep": self.name.encode()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
        final = self.path(key, failed=failed)
        tmp = self.dir / f".{key}.{uuid.uuid4().hex}.tmp"
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()
        if not failed:
            stale = self.path(key, failed=True)
            if stale.exists():
                stale.unlink()
        return final

    # ------------------------------------------------------------------ reading
    def read(self, keys: Iterable[str] | None = None, *, include_failed: bool = True) -> Any:
        """The stored rows as one ``pyarrow.Table`` (columns missing from some rows, such
        as record fields of failed cells, are null there). ``keys`` restricts to those
        cells; rows are ordered by key."""
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        status = self.status()
        wanted = sorted(status) if keys is None else sorted(k for k in set(keys) if k in status)
        tables = []
        for k in wanted:
            failed = status[k] != "ok"
            if failed and not include_failed:
                continue
            tables.append(pq.read_table(self.path(k, failed=failed)))
        if not tables:
            return pa.table({"key": pa.array([], pa.string())})
        return pa.concat_tables(tables, promote_options="permissive")
