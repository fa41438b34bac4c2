"""Array backends: the one module that knows backend names.

Every numeric function in :mod:`numerics` is written against the Python array API standard
and takes its namespace from its inputs (``array_api_compat.array_namespace``). This module
resolves a backend *name* to such a namespace, with an error that says what to install when
a library (or, for CuPy, a GPU) is missing, and converts arrays back to NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

import array_api_compat

__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "available_backends",
    "get_namespace",
    "namespace_name",
    "to_numpy",
]

BACKENDS: tuple[str, ...] = ("numpy", "array_api_strict", "torch", "cupy")

_INSTALL = {
    "numpy": "pip install numpy",
    "array_api_strict": "pip install 'implreg[test]'  (or: pip install array-api-strict)",
    "torch": "pip install 'implreg[torch]'",
    "cupy": "pip install 'implreg[gpu]'  (CuPy for CUDA 12; needs an NVIDIA GPU and driver)",
}


class BackendUnavailableError(RuntimeError):
    """The backend's library is missing, or it is present but cannot run here (no GPU)."""


def get_namespace(name: str = "numpy") -> Any:
    """The array-API namespace of backend ``name``.

    Parameters
    ----------
    name
        ``"numpy"`` (default), ``"array_api_strict"``, ``"torch"`` or ``"cupy"``.

    Returns
    -------
    namespace
        An array-API-compatible namespace (the ``array_api_compat`` wrapper for NumPy,
        PyTorch and CuPy; the module itself for ``array_api_strict``).

    Raises
    ------
    ValueError
        If ``name`` is not a known backend (the message lists them).
    BackendUnavailableError
        If the library is not installed, or CuPy finds no CUDA device.

    Examples
    --------
    >>> xp = get_namespace("numpy")
    >>> float(xp.sum(xp.ones(3)))
    3.0
    """
    if not isinstance(name, str) or name not in BACKENDS:
        import difflib  # noqa: PLC0415

        close = difflib.get_close_matches(str(name), BACKENDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}{hint}")
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"backend {name!r} is not installed ({exc}); install it with: {_INSTALL[name]}"
        ) from None
    if name == "cupy":
        try:
            count = mod.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError when no driver is present
            raise BackendUnavailableError(
                f"CuPy is installed but cannot reach a GPU ({type(exc).__name__}: {exc}); "
                "use --backend numpy, or run on a machine with an NVIDIA GPU"
            ) from None
        if count == 0:
            raise BackendUnavailableError(
                "CuPy is installed but finds no CUDA device; use --backend numpy"
            )
    if name == "array_api_strict":
        return mod
    return array_api_compat.array_namespace(mod.empty(0))


def available_backends() -> list[str]:
    """The backends that :func:`get_namespace` can return on this machine."""
    out = []
    for name in BACKENDS:
        try:
            get_namespace(name)
        except BackendUnavailableError:
            continue
        out.append(name)
    return out


def namespace_name(xp: Any) -> str:
    """The backend name of a namespace (``"numpy"``, ``"torch"``, ...)."""
    if array_api_compat.is_numpy_namespace(xp):
        return "numpy"
    if array_api_compat.is_array_api_strict_namespace(xp):
        return "array_api_strict"
    if array_api_compat.is_torch_namespace(xp):
        return "torch"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    return getattr(xp, "__name__", type(xp).__name__)


def to_numpy(x: Any) -> Any:
    """Copy an array of any supported backend to a NumPy array on the host."""
    import numpy as np  # noqa: PLC0415

    if isinstance(x, (np.ndarray, np.generic, float, int, bool)):
        return np.asarray(x)
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if hasattr(x, "__dlpack__"):
        return np.from_dlpack(x)
    return np.asarray(x)
