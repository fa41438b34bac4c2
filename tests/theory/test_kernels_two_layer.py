"""Kernel and two-layer results, checked against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import ellipe, ellipk

import theory

IDS = theory.ids("kernels") + theory.ids("two_layer") + ["stability.edge_of_stability"]


@pytest.mark.parametrize("rid", IDS)
def test_every_result_derives_to_latex(rid: str) -> None:
    r = theory.get(rid)
    assert r.latex().strip() and r.title and r.source
    how = theory.entry(rid).how
    assert r.stated == (how == "numeric" or how.startswith("state"))


def test_edge_of_stability_is_listed_in_catalog_order() -> None:
    ids = theory.ids()
    assert "stability.edge_of_stability" in theory.ids("stability")
    assert ids.index("stability.edge_of_stability") < ids.index("kernels.arccos0_gaussian")


def test_arccos1_latex_is_pinned() -> None:
    assert theory.get("kernels.arccos1_gaussian").latex() == (
        r"k_1(b, b') = \frac{\|b\| \|b'\| \left(\left(\pi - \theta\right) \cos{\left(\theta \right)}"
        r" + \sin{\left(\theta \right)}\right)}{2 \pi}")


@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("theta", [0.3, 1.2, 2.5])
def test_gaussian_kernels_match_2d_quadrature(order: int, theta: float) -> None:
    """Independent: integrate σ_n(u1)σ_n(cosθ u1 + sinθ u2) against the 2-D Gaussian density."""
    f = theory.get(f"kernels.arccos{order}_gaussian").numeric()
    kw = {"theta": theta, "norm_b": 1.0, "norm_bp": 1.0}
    kw = {k: v for k, v in kw.items() if k in f.arguments}

    def integrand(u2: float, u1: float) -> float:
        z = math.cos(theta) * u1 + math.sin(theta) * u2
        return (u1 * z) ** order * math.exp(-(u1 * u1 + u2 * u2) / 2) / (2 * math.pi)

    # Region u1 > 0, z > 0 (u2 > −u1 cot θ): the integrand is smooth inside it.
    cot = math.cos(theta) / math.sin(theta)
    ref, _ = integrate.dblquad(integrand, 0, 12, lambda u1: -cot * u1, 14, epsabs=1e-12)
    assert float(f(**kw)) == pytest.approx(ref, rel=1e-7, abs=1e-9)


def test_sphere_kernel_is_gaussian_over_d() -> None:
    r = theory.get("kernels.arccos1_sphere")
    g = theory.get("kernels.arccos1_gaussian").numeric()
    val = r.numeric()(norm_b=2.0, norm_bp=0.5, theta=0.7, d=7.0)
    assert float(val) == pytest.approx(float(g(norm_b=2.0, norm_bp=0.5, theta=0.7)) / 7, rel=1e-14)


def test_circle_closed_form_matches_scipy_quadrature() -> None:
    r = theory.get("two_layer.circle_target")
    for c in (0.0, 0.4, 0.93):
        def j1(phi: float) -> float:
            u = c * math.cos(phi)
            return math.sqrt(1 - u * u) + (math.pi - math.acos(u)) * u
        ref = integrate.quad(j1, 0, 2 * math.pi, epsabs=1e-13)[0] / (4 * math.pi**2)
        assert float(r.evalf({"norm_w": 1.0, "c": c})) == pytest.approx(ref, rel=1e-10)
        assert (2 * ellipe(c * c) - (1 - c * c) * ellipk(c * c)) / math.pi**2 == pytest.approx(ref, rel=1e-10)


def test_time_scale_bound_constants() -> None:
    r = theory.get("two_layer.time_scales")
    assert str(r.parts["grad1_max"]) == "norm_bp/2"
    assert str(r.parts["kernel_max"]) == "norm_b*norm_bp/2"


@pytest.mark.parametrize("rid", IDS)
def test_claims_use_no_undefined_function(rid: str) -> None:
    """Every claim is evaluable: no undefined function (such as a bare ∇₁k) in it."""
    from sympy.core.function import AppliedUndef

    r = theory.get(rid)
    for c in r.claims:
        obj = r.statement if c == "statement" else r.parts[c]
        assert not obj.atoms(AppliedUndef), (rid, c)


def test_matrix_claims_take_identifier_arguments() -> None:
    import sympy as sp

    for rid in ("two_layer.population_loss", "two_layer.population_gradient"):
        r = theory.get(rid)
        for c in r.claims:
            obj = r.statement if c == "statement" else r.parts[c]
            for M in obj.atoms(sp.MatrixSymbol):
                assert M.name.isidentifier(), (rid, c, M.name)
    assert theory.get("two_layer.population_loss").latex().startswith(r"\mathcal{R}(a, B) = a^{T} K(B, B) a")


def test_edge_of_stability_table_only_explains() -> None:
    assert theory.get("stability.edge_of_stability").claims == ("statement",)
