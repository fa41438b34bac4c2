"""Special functions in pure array-API code: the namespace is handed in, nothing is imported.

The array API standard has no ``lgamma`` or elliptic integrals, so the printer calls these.
Each function takes the namespace ``xp`` first and float64 arrays after it; the accuracy is
that of float64 (a few ulp) on the domains the results use.

The same source is printed by :meth:`theory.Result.python` (with ``xp`` bound to NumPy), so
these functions must stay self-contained: no names but ``xp`` and the constants below.
"""

from __future__ import annotations

from typing import Any

__all__ = ["elliptic_e", "elliptic_k", "gamma", "loggamma"]

# Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients): relative error ~2e-16
# for Re x > 1/2 (Press et al., *Numerical Recipes*, 3rd ed., §6.1; P. Godfrey, 2001).
_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)


def _lanczos_log(xp: Any, x: Any) -> Any:
    """log Γ(x) for x ≥ 1/2 from the Lanczos series (log form: no overflow for large x)."""
    z = x - 1.0
    series = xp.full_like(z, _LANCZOS[0])
    for k in range(1, len(_LANCZOS)):
        series = series + _LANCZOS[k] / (z + float(k))
    t = z + (_LANCZOS_G + 0.5)
    return 0.9189385332046727 + (z + 0.5) * xp.log(t) - t + xp.log(series)  # ½log 2π


def loggamma(xp: Any, x: Any) -> Any:
    """log |Γ(x)| for real x (reflection Γ(x)Γ(1−x) = π / sin πx below 1/2)."""
    x = xp.asarray(x, dtype=xp.float64)
    small = x < 0.5
    xr = xp.where(small, 1.0 - x, x)
    big = _lanczos_log(xp, xr)
    refl = 1.1447298858494002 - xp.log(xp.abs(xp.sin(3.141592653589793 * x))) - big  # log π
    return xp.where(small, refl, big)


def gamma(xp: Any, x: Any) -> Any:
    """Γ(x) for real x: exp of the Lanczos log with the sign of the reflection formula.

    Integer arguments up to 170 are exact products ((x−1)!) so factorials and binomials of
    small integers carry no series error.
    """
    x = xp.asarray(x, dtype=xp.float64)
    small = x < 0.5
    mag = xp.exp(loggamma(xp, x))
    sign = xp.where(small & (xp.sin(3.141592653589793 * x) < 0.0), -1.0, 1.0)
    out = sign * mag
    # exact (x−1)! for integers 1 … 170
    is_int = (x == xp.round(x)) & (x >= 1.0) & (x <= 170.0)
    fact = xp.ones_like(x)
    k = xp.where(is_int, x, 1.0)
    for j in range(1, int(xp.max(k)) if k.ndim else int(k)):
        fact = xp.where(k > float(j), fact * float(j), fact)
    out = xp.where(is_int, fact, out)
    return xp.where((x <= 0.0) & (x == xp.round(x)), xp.nan, out)


def _agm(xp: Any, b: Any, steps: int = 12) -> tuple[Any, Any]:
    """Arithmetic–geometric mean of 1 and b, and Σ 2^{n−1} c_n² (for E), c_0² = 1 − b²."""
    a = xp.ones_like(b)
    c2 = 1.0 - b * b
    acc = 0.5 * c2
    scale = 0.5
    for _ in range(steps):
        an = 0.5 * (a + b)
        cn = 0.5 * (a - b)
        b = xp.sqrt(a * b)
        a = an
        scale = scale * 2.0
        acc = acc + scale * cn * cn
    return a, acc


def elliptic_k(xp: Any, m: Any) -> Any:
    r"""Complete elliptic integral of the first kind K(m) = ∫₀^{π/2} dθ/√(1 − m sin²θ).

    Parameter convention of SymPy/mpmath (m = k²). K(m) = π / (2 AGM(1, √(1−m)))
    (Abramowitz & Stegun 17.6); twelve AGM steps reach float64 for 1 − m ≥ 1e-300.
    """
    m = xp.asarray(m, dtype=xp.float64)
    one = m == 1.0
    b = xp.sqrt(xp.where(one, 0.5, 1.0 - m))
    a, _ = _agm(xp, b)
    return xp.where(one, xp.inf, 3.141592653589793 / (2.0 * a))


def elliptic_e(xp: Any, m: Any) -> Any:
    r"""Complete elliptic integral of the second kind E(m) = ∫₀^{π/2} √(1 − m sin²θ) dθ.

    E(m) = K(m) (1 − Σ_{n≥0} 2^{n−1} c_n²) with the AGM's c_n (A&S 17.6.3–4); E(1) = 1.
    """
    m = xp.asarray(m, dtype=xp.float64)
    one = m == 1.0
    b = xp.sqrt(xp.where(one, 0.5, 1.0 - m))
    a, acc = _agm(xp, b)
    k = 3.141592653589793 / (2.0 * a)
    return xp.where(one, 1.0, k * (1.0 - acc))
