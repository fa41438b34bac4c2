"""Checks of the ``kernels.*`` results: arc-cosine kernels against Monte Carlo.

Each example draws two vectors at a prescribed angle in a random plane of R^d, averages
σ_n(b·x)σ_n(b'·x) over N Gaussian (or spherical) inputs drawn on the host, and compares the
mean with the derived formula (``Result.numeric(xp)``) at z·σ̂/√N. The kernel used by the
two-layer models (``numerics.two_layer.arccos_kernel``) must match the formula to rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import to_numpy
from numerics.two_layer import arccos_kernel
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check
from verify.strategies import host_rng, orthogonal, seeds

_IDS = {0: "kernels.arccos0_gaussian", 1: "kernels.arccos1_gaussian", 2: "kernels.arccos2_gaussian"}


@st.composite
def _kernel_params(draw: Any, min_d: int = 1) -> dict[str, Any]:
    d = draw(st.integers(max(min_d, 2), 8))
    return {"d": d, "theta": min(round(draw(st.floats(0.0, math.pi)), 6), math.pi),  # rounding must not leave [0, π]
            "norm_b": round(draw(st.floats(0.3, 3.0)), 6),
            "norm_bp": round(draw(st.floats(0.3, 3.0)), 6), "seed": draw(seeds)}


def _pair(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    Q = orthogonal(host_rng(p, 0), p["d"], 2)
    b = p["norm_b"] * Q[:, 0]
    bp = p["norm_bp"] * (math.cos(p["theta"]) * Q[:, 0] + math.sin(p["theta"]) * Q[:, 1])
    return b, bp


def _mc(p: dict[str, Any], xp: Any, order: int, sphere: bool, N: int) -> tuple[float, float]:
    b, bp = _pair(p)
    x = host_rng(p, 1).standard_normal((N, p["d"]))
    if sphere:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    X, B = xp.asarray(x), xp.asarray(np.stack([b, bp]))
    Z = xp.maximum(X @ xp.matrix_transpose(B), 0.0)
    if order == 0:
        Z = xp.astype(Z > 0, xp.float64)
    elif order == 2:
        Z = Z * Z
    prod = to_numpy(Z[:, 0] * Z[:, 1])
    return float(np.mean(prod)), float(np.std(prod, ddof=1))


def _kernel_check(p: dict[str, Any], xp: Any, order: int, sphere: bool) -> Outcome:
    rid = "kernels.arccos1_sphere" if sphere else _IDS[order]
    N = 40000 if order == 2 else 20000
    mean, std = _mc(p, xp, order, sphere, N)
    r = theory.get(rid)
    kw = {"theta": p["theta"], "norm_b": p["norm_b"], "norm_bp": p["norm_bp"]}
    kw = {k: v for k, v in kw.items() if k in r.numeric(xp).arguments}
    if sphere:
        kw["d"] = float(p["d"])
    pred = float(to_numpy(r.numeric(xp)(**kw)))
    b, bp = _pair(p)
    impl = float(to_numpy(arccos_kernel(xp.asarray(b[None, :]), xp.asarray(bp[None, :]), order=order,
                                        input="sphere" if sphere else "gaussian"))[0, 0])
    scale = (p["norm_b"] * p["norm_bp"]) ** order
    # acos near θ = 0 or π has derivative ~ 1/sin θ: the angle of two vectors built at angle θ
    # is recovered to ~ eps/sin θ, i.e. ~ √eps at worst; J_n is flat there (J' = O(θ)), so the
    # kernel error stays O(eps·scale·d) — allow √eps·scale for the worst case.
    fp = tol.Tolerance(math.sqrt(tol.EPS64) * scale * 10,
                       "floating point: 10·√ε·‖b‖ⁿ‖b'‖ⁿ (acos of a cosine rounded to ε near θ = 0, π)")
    return Outcome.all_of([
        # At θ = π the integrand vanishes identically (σ̂ = 0) while the formula rounds to
        # ±1e-17: the rounding budget of the formula is part of the tolerance.
        Outcome.close(pred, mean, tol.monte_carlo(std, N, m=2) + tol.floating_point(scale, ops=10),
                      quantity=f"E σ_{order}(b·x)σ_{order}(b'·x), N = {N}"),
        Outcome.close(pred, impl, fp, quantity="numerics.two_layer.arccos_kernel vs formula"),
    ])


_EX = {"d": 5, "theta": 1.1, "norm_b": 1.3, "norm_bp": 0.7, "seed": 3}


@check("kernels.arccos0_gaussian", strategy=_kernel_params(), examples=4, example=_EX)
def check_arccos0(p: dict[str, Any], xp: Any) -> Outcome:
    """P(b·x > 0, b'·x > 0) by Monte Carlo vs (π − θ)/(2π)."""
    return _kernel_check(p, xp, 0, False)


@check("kernels.arccos1_gaussian", strategy=_kernel_params(), examples=4, example=_EX)
def check_arccos1(p: dict[str, Any], xp: Any) -> Outcome:
    """E σ(b·x)σ(b'·x) by Monte Carlo vs ‖b‖‖b'‖J_1(θ)/(2π)."""
    return _kernel_check(p, xp, 1, False)


@check("kernels.arccos1_sphere", strategy=_kernel_params(min_d=2), examples=4, example=_EX)
def check_arccos1_sphere(p: dict[str, Any], xp: Any) -> Outcome:
    """x uniform on the sphere (normalized Gaussians) vs ‖b‖‖b'‖J_1(θ)/(2πd)."""
    return _kernel_check(p, xp, 1, True)


@check("kernels.arccos2_gaussian", strategy=_kernel_params(), examples=4, example=_EX)
def check_arccos2(p: dict[str, Any], xp: Any) -> Outcome:
    """E σ₂(b·x)σ₂(b'·x) by Monte Carlo vs ‖b‖²‖b'‖²J_2(θ)/(2π)."""
    return _kernel_check(p, xp, 2, False)
