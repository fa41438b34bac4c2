"""Input checks at public boundaries: each error names the argument, the rule and the value."""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "check_positive",
    "check_int",
    "check_batch",
    "check_finite",
    "check_ndim",
    "check_psd",
    "check_symmetric",
    "check_probability",
    "check_array",
    "check_same_namespace",
]


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """``value`` as a float, or ``ValueError`` if it is not a finite positive number."""
    shape = getattr(value, "shape", None)
    if shape is not None and tuple(shape) != ():
        raise TypeError(f"{name} must be a real number; got an array of shape {tuple(shape)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or (v < 0 if allow_zero else v <= 0):
        rule = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be finite and {rule}; got {value!r}")
    return v


def check_probability(name: str, value: Any, *, open_interval: bool = True) -> float:
    """``value`` in (0, 1) (or [0, 1] with ``open_interval=False``)."""
    v = float(value)
    ok = 0 < v < 1 if open_interval else 0 <= v <= 1
    if not ok:
        rng = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be in {rng}; got {value!r}")
    return v


def check_int(name: str, value: Any, *, minimum: int = 0) -> int:
    """``value`` as an int ≥ ``minimum``; ``TypeError`` for non-integers."""
    if isinstance(value, bool) or not isinstance(value, int) and not (
        hasattr(value, "__index__")
    ):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return v


def check_batch(batch: Any, n: int) -> int:
    """A batch size in [1, n]."""
    b = check_int("batch", batch, minimum=1)
    if b > n:
        raise ValueError(f"batch must be in [1, n={n}]; got {b}")
    return b


def check_array(name: str, x: Any) -> Any:
    """``x`` must be an array of an array-API namespace (not a list, a string or a number);
    returns its namespace."""
    from array_api_compat import array_namespace  # noqa: PLC0415

    if not hasattr(x, "shape") or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array; got {type(x).__name__} "
                        "(convert it with xp.asarray(...) of the backend you use)")
    try:
        return array_namespace(x)
    except TypeError as exc:
        raise TypeError(f"{name} must be an array of an array-API namespace; {exc}") from None


def check_same_namespace(**arrays: Any) -> Any:
    """All arrays from one namespace (NumPy and array_api_strict do not mix); returns it."""
    from array_api_compat import array_namespace  # noqa: PLC0415

    present = {k: v for k, v in arrays.items() if v is not None}
    try:
        return array_namespace(*present.values())
    except TypeError:
        kinds = ", ".join(f"{k} from {type(v).__module__.split('.')[0]}" for k, v in present.items())
        raise TypeError(f"arrays from different namespaces cannot be mixed: {kinds}; "
                        "convert them with one backend's xp.asarray") from None


def check_ndim(name: str, x: Any, ndims: tuple[int, ...]) -> None:
    """``x.ndim`` must be one of ``ndims``."""
    if not hasattr(x, "shape"):
        raise TypeError(f"{name} must be an array; got {type(x).__name__}")
    if x.ndim not in ndims:
        want = " or ".join(str(k) for k in ndims)
        raise ValueError(f"{name} must have {want} dimensions; got shape {tuple(x.shape)}")


def check_finite(name: str, x: Any, xp: Any) -> None:
    """``ValueError`` if ``x`` holds NaN or infinity (one device sync: boundaries only)."""
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} must be finite; it contains NaN or infinity")


def check_symmetric(name: str, H: Any, xp: Any, *, rtol: float | None = None) -> tuple[float, float]:
    """``H`` must equal its transpose to ``rtol·max|H|`` (default ``100·d·eps``: rounding of
    a matrix formed in floating point). Returns the tolerance and ``max|H|``."""
    d = H.shape[-1]
    eps = xp.finfo(H.dtype).eps
    tol = 100 * d * eps if rtol is None else rtol
    scale = float(xp.max(xp.abs(H))) if math.prod(H.shape) else 0.0
    asym = float(xp.max(xp.abs(H - xp.matrix_transpose(H)))) if math.prod(H.shape) else 0.0
    if asym > tol * max(scale, 1e-300):
        raise ValueError(f"{name} must be symmetric; max |H - Hᵀ| = {asym:.3g}")
    return tol, scale


def check_psd(name: str, H: Any, xp: Any, *, rtol: float | None = None) -> None:
    """``H`` (..., d, d) must be symmetric positive semi-definite.

    Symmetry to ``rtol·‖H‖``; the smallest eigenvalue may be negative only by rounding,
    ``-rtol·‖H‖`` with ``rtol = 100·d·eps`` (eigh's backward error is O(d·eps·‖H‖)).
    """
    check_ndim(name, H, (2, 3))
    d = H.shape[-1]
    if H.shape[-2] != d:
        raise ValueError(f"{name} must be square in its last two axes; got shape {tuple(H.shape)}")
    tol, scale = check_symmetric(name, H, xp, rtol=rtol)
    lam_min = float(xp.min(xp.linalg.eigvalsh(H)))
    if lam_min < -tol * max(scale, 1e-300):
        raise ValueError(f"{name} must be positive semi-definite; smallest eigenvalue {lam_min:.3g}")
