"""Array backends: the one module that knows backend names.

Every numeric function in :mod:`numerics` is written against the Python array API standard
and takes its namespace from its inputs (``array_api_compat.array_namespace``). This module
resolves a backend *name* to such a namespace, with an error that says what to install when
a library (or, for CuPy, a GPU) is missing, converts arrays back to NumPy, and holds the
little that cannot be written against the standard: the namespace used when nothing names
one (:func:`default_namespace`), each library's own random generator behind one interface
(:func:`native_generator`, used by :mod:`numerics.random`), and NumPy-only fast paths
(:func:`argsort_smallest`). ``tests/test_layering.py`` keeps backend names out of every other
module of :mod:`numerics` (``ARCHITECTURE.md``, "Layering").

References
----------
Consortium for Python Data API Standards, *Python array API standard*,
https://data-apis.org/array-api/latest/; ``array_api_compat``,
https://data-apis.org/array-api-compat/.
"""

from __future__ import annotations

import importlib
from typing import Any

import array_api_compat
import numpy as _np  # NumPy is a core dependency; is_host_array reads its array type

__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "NativeGenerator",
    "argsort_smallest",
    "available_backends",
    "default_namespace",
    "get_namespace",
    "is_host_array",
    "is_host_numpy",
    "namespace_name",
    "native_generator",
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
    """The backends that :func:`get_namespace` can return on this machine.

    Returns
    -------
    list of str
        The names of :data:`BACKENDS` whose library imports (and, for CuPy, finds a GPU), in
        the order of :data:`BACKENDS`.
    """
    out = []
    for name in BACKENDS:
        try:
            get_namespace(name)
        except BackendUnavailableError:
            continue
        out.append(name)
    return out


def namespace_name(xp: Any) -> str:
    """The backend name of a namespace.

    Parameters
    ----------
    xp
        An array namespace.

    Returns
    -------
    str
        ``"numpy"``, ``"array_api_strict"``, ``"torch"`` or ``"cupy"``; for any other
        namespace its ``__name__`` (or its type's name).

    Examples
    --------
    >>> namespace_name(get_namespace("array_api_strict"))
    'array_api_strict'
    """
    if array_api_compat.is_numpy_namespace(xp):
        return "numpy"
    if array_api_compat.is_array_api_strict_namespace(xp):
        return "array_api_strict"
    if array_api_compat.is_torch_namespace(xp):
        return "torch"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    return getattr(xp, "__name__", type(xp).__name__)


def is_host_numpy(xp: Any) -> bool:
    """Whether ``xp`` is NumPy's namespace, so arrays of it may be handed to NumPy directly.

    The one test a NumPy-only fast path needs (e.g. a blocked loop writing into a
    preallocated ``numpy.empty``); every other backend takes the array-API path.

    Examples
    --------
    >>> is_host_numpy(get_namespace("numpy")), is_host_numpy(get_namespace("array_api_strict"))
    (True, False)
    """
    return bool(array_api_compat.is_numpy_namespace(xp))


def is_host_array(a: Any) -> bool:
    """Whether ``a`` is a NumPy array (exactly ``numpy.ndarray``): :func:`is_host_numpy`
    for one array, without resolving its namespace (for per-step fast paths).

    Examples
    --------
    >>> import numpy as np
    >>> is_host_array(np.zeros(2)), is_host_array(get_namespace("array_api_strict").zeros(2))
    (True, False)
    """
    return type(a) is _np.ndarray


def to_numpy(x: Any) -> Any:
    """Copy an array of any supported backend to a NumPy array on the host.

    Parameters
    ----------
    x
        An array of any supported backend, a NumPy scalar or a Python number.

    Returns
    -------
    numpy.ndarray
        A host copy (CuPy: ``x.get()``; PyTorch: ``x.detach().cpu().numpy()``; others
        through DLPack, :func:`numpy.from_dlpack`).
    """
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


def default_namespace() -> Any:
    """The namespace a function uses when neither its inputs nor ``xp`` name one: NumPy's.

    Returns
    -------
    namespace
        The ``array_api_compat`` wrapper of NumPy (as ``get_namespace("numpy")``, without the
        name lookup).

    Examples
    --------
    >>> namespace_name(default_namespace())
    'numpy'
    """
    import numpy as np  # noqa: PLC0415

    return array_api_compat.array_namespace(np.empty(0))


# ----------------------------------------------------------------- random generators
class NativeGenerator:
    """One backend's own random generator behind the calls :mod:`numerics.random` needs.

    Made by :func:`native_generator`; every draw returns an array of the namespace ``xp``
    (on ``device``). :class:`numerics.random.Generator` builds everything else (Rademacher
    signs, permutations, samples without replacement) from these four draws.

    Attributes
    ----------
    kind
        ``"numpy"`` (NumPy's generator, NumPy arrays), ``"host"`` (NumPy's generator, arrays
        converted with ``xp.asarray``: ``array_api_strict`` and any namespace without a
        generator), ``"torch"`` or ``"cupy"`` (the library's generator on its device).
    """

    kind = "host"
    #: The bits are drawn by NumPy on the host (:meth:`host_integers` is available), so a
    #: loop may test them without a device sync.
    on_host = True

    def __init__(self, seed: Any, xp: Any, device: Any = None) -> None:
        import numpy as np  # noqa: PLC0415

        self.xp, self.device = xp, device
        self._gen = np.random.default_rng(seed)

    def host_integers(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        """Uniform int64 integers in [low, high) as a NumPy array (host generators only):
        the same numbers :meth:`integers` returns before conversion to ``xp``."""
        return self._gen.integers(low, high, size=shape)

    def __repr__(self) -> str:
        return f"NativeGenerator(kind={self.kind!r}, xp={namespace_name(self.xp)})"

    def _out(self, a: Any, dtype: Any) -> Any:
        kw = {} if self.device is None else {"device": self.device}
        return self.xp.asarray(a, dtype=dtype, **kw)

    def normal(self, shape: tuple[int, ...], mean: float, std: float, dtype: Any) -> Any:
        """Independent N(mean, std²) draws of dtype ``dtype``."""
        return self._out(self._gen.normal(mean, std, size=shape), dtype)

    def uniform(self, shape: tuple[int, ...], low: float, high: float, dtype: Any) -> Any:
        """Independent U[low, high) draws of dtype ``dtype``."""
        return self._out(self._gen.uniform(low, high, size=shape), dtype)

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        """Independent uniform int64 integers in [low, high)."""
        return self._out(self._gen.integers(low, high, size=shape), self.xp.int64)

    def staircase(self, n: int, k: int, shape: tuple[int, ...]) -> Any:
        """``shape + (k,)`` int64 integers, column ``i`` uniform on [i, n), all independent.

        The same numbers as ``k`` calls ``integers(i, n, shape)``, ``i = 0, ..., k-1``,
        stacked on the last axis (NumPy draws them in one call instead).
        """
        cols = [self.integers(i, n, shape) for i in range(k)]
        return self.xp.stack(cols, axis=-1)


class _NumpyGenerator(NativeGenerator):
    kind = "numpy"

    # NumPy's draws are int64 NumPy arrays already: no conversion call per draw.
    integers = NativeGenerator.host_integers

    def staircase(self, n: int, k: int, shape: tuple[int, ...]) -> Any:
        import numpy as np  # noqa: PLC0415

        return self._out(self._gen.integers(np.arange(k), n, size=(*shape, k)), self.xp.int64)


class _TorchGenerator(NativeGenerator):
    kind = "torch"
    on_host = False

    def __init__(self, seed: Any, xp: Any, device: Any = None) -> None:
        import numpy as np  # noqa: PLC0415
        import torch  # noqa: PLC0415

        self.xp, self.device = xp, device
        self._gen = torch.Generator(device=device if device is not None else "cpu")
        # torch seeds from a signed 64-bit integer: drop the top bit of a SeedSequence word.
        self._gen.manual_seed(int(seed.generate_state(1, np.uint64)[0] >> np.uint64(1)))

    def normal(self, shape: tuple[int, ...], mean: float, std: float, dtype: Any) -> Any:
        import torch  # noqa: PLC0415

        z = torch.randn(shape, generator=self._gen, dtype=dtype, device=self._gen.device)
        return z * std + mean

    def uniform(self, shape: tuple[int, ...], low: float, high: float, dtype: Any) -> Any:
        import torch  # noqa: PLC0415

        u = torch.rand(shape, generator=self._gen, dtype=dtype, device=self._gen.device)
        return low + (high - low) * u

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        import torch  # noqa: PLC0415

        return torch.randint(low, high, shape, generator=self._gen, device=self._gen.device)


class _CupyGenerator(NativeGenerator):
    kind = "cupy"
    on_host = False

    def __init__(self, seed: Any, xp: Any, device: Any = None) -> None:
        import cupy  # noqa: PLC0415

        self.xp, self.device = xp, device
        self._gen = cupy.random.default_rng(int(seed.generate_state(1)[0]))

    def normal(self, shape: tuple[int, ...], mean: float, std: float, dtype: Any) -> Any:
        return self._gen.standard_normal(shape, dtype=dtype) * std + mean

    def uniform(self, shape: tuple[int, ...], low: float, high: float, dtype: Any) -> Any:
        return low + (high - low) * self._gen.random(shape, dtype=dtype)

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Any:
        return self._gen.integers(low, high, size=shape)


def native_generator(seed: Any, xp: Any, device: Any = None) -> NativeGenerator:
    """The random generator of the library behind ``xp``, seeded from ``seed``.

    Parameters
    ----------
    seed
        A :class:`numpy.random.SeedSequence` (PyTorch and CuPy are seeded from its first
        state word; NumPy and the host generator from the sequence itself).
    xp
        The namespace of the arrays the draws return.
    device
        Their device (backend default if omitted).

    Returns
    -------
    NativeGenerator
        PyTorch's ``torch.Generator`` or CuPy's generator for those namespaces; NumPy's
        ``Generator`` for NumPy and, drawing on the host and converting with
        ``xp.asarray``, for every other namespace (``array_api_strict``).

    Examples
    --------
    >>> import numpy as np
    >>> native_generator(np.random.SeedSequence(0), default_namespace())
    NativeGenerator(kind='numpy', xp=numpy)
    """
    if array_api_compat.is_torch_namespace(xp):
        return _TorchGenerator(seed, xp, device)
    if array_api_compat.is_cupy_namespace(xp):
        return _CupyGenerator(seed, xp, device)
    if array_api_compat.is_numpy_namespace(xp):
        return _NumpyGenerator(seed, xp, device)
    return NativeGenerator(seed, xp, device)


def argsort_smallest(keys: Any, k: int) -> Any:
    """Indices of the ``k`` smallest entries along the last axis, in increasing key order.

    The same as ``xp.argsort(keys, axis=-1)[..., :k]`` for distinct keys; on NumPy a
    linear-time partial selection (:func:`numpy.argpartition`) followed by a sort of the
    ``k`` selected keys.

    Parameters
    ----------
    keys
        Real array ``(..., n)``.
    k
        Number of indices, ``1 <= k <= n``.

    Returns
    -------
    array
        ``(..., k)`` int64 indices, of the namespace of ``keys``.

    Examples
    --------
    >>> xp = default_namespace()
    >>> argsort_smallest(xp.asarray([0.3, 0.1, 0.9, 0.2]), 2)
    array([1, 3])
    """
    xp = array_api_compat.array_namespace(keys)
    if array_api_compat.is_numpy_namespace(xp) and k < keys.shape[-1]:
        import numpy as np  # noqa: PLC0415

        part = np.argpartition(keys, k - 1, axis=-1)[..., :k]
        order = np.argsort(np.take_along_axis(keys, part, axis=-1), axis=-1)
        return xp.asarray(np.take_along_axis(part, order, axis=-1))
    return xp.argsort(keys, axis=-1)[..., :k]
