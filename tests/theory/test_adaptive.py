"""The adaptive results: LaTeX, the seed example, and the formulas against independent
arithmetic (exact rationals, NumPy eigenvalues), not against themselves."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import theory

ADAPTIVE = theory.ids("adaptive")


def test_catalog_ids_are_registered() -> None:
    assert ADAPTIVE == ["adaptive.metric_view", "adaptive.adam_update", "adaptive.adam_vs_sgd_norm"]


@pytest.mark.parametrize("rid", ADAPTIVE)
def test_every_adaptive_result_derives_to_latex(rid: str) -> None:
    r = theory.get(rid)
    assert r.latex().strip()
    for part in r.parts:
        assert r.latex(part=part).strip()
    assert r.stated == (theory.entry(rid).how.startswith("state") or theory.entry(rid).how == "numeric")


def test_latex_is_pinned() -> None:
    assert theory.get("adaptive.metric_view").latex() == (
        r"x_{k+1} = - \gamma H^{-1} {\nabla f(x_k)} + x_{k}")
    assert theory.get("adaptive.metric_view").latex(part="hessian") == (
        r"{\nabla^2 f_H} = H^{- \frac{1}{2}} {\nabla^2 f} H^{- \frac{1}{2}}")
    assert theory.get("adaptive.adam_update").latex(part="rmsprop_metric") == (
        r"h_{k} = \varepsilon + \sqrt{\hat{v}_{k}}")


def test_metric_view_is_derived_with_the_chain_rule() -> None:
    r = theory.get("adaptive.metric_view")
    assert not r.stated
    # the three symbolic identities were checked to be exactly zero
    zeros = [s.expr for s in r.derivation[:3]]
    assert all(z == sp.zeros(*z.shape) for z in zeros)


def test_seed_example_condition_numbers_match_numpy() -> None:
    Q = np.array([[0.1, -0.1], [-0.1, 1.0]])
    lam = np.linalg.eigvalsh(Q)
    Ph = np.diag(1 / np.sqrt(np.diag(Q)))
    lam_s = np.linalg.eigvalsh(Ph @ Q @ Ph)
    r = theory.get("adaptive.metric_view")
    before = float(r.parts["seed_condition_before"])
    after = float(r.parts["seed_condition_after"])
    np.testing.assert_allclose(before, lam[-1] / lam[0], rtol=1e-12)
    np.testing.assert_allclose(after, lam_s[-1] / lam_s[0], rtol=1e-12)
    assert after < before


def test_step_limit_is_two_over_the_reparametrized_sharpness() -> None:
    f = theory.get("adaptive.metric_view").numeric(part="step_limit")
    # λ_max(H^{-1/2} Q H^{-1/2}) for Q = diag(4, 1), H = diag(2, 1): max(2, 1) = 2
    assert float(f(lambda_max_H=2.0)) == pytest.approx(1.0)


@given(b=st.fractions(Fraction(1, 20), Fraction(19, 20), max_denominator=20),
       g=st.fractions(-3, 3, max_denominator=5), k=st.integers(1, 12))
def test_ema_of_constant_matches_exact_iteration(b, g, k) -> None:
    m = Fraction(0)
    for _ in range(k):
        m = b * m + (1 - b) * g
    r = theory.get("adaptive.adam_update")
    by_name = {s.name: s for s in r.symbols}
    expr = r.parts["ema_of_constant"].subs({by_name["b"]: sp.Rational(b), by_name["g"]: sp.Rational(g),
                                            by_name["k"]: k})
    assert sp.simplify(expr - sp.Rational(m.numerator, m.denominator)) == 0


def test_adam_step_for_a_constant_gradient_is_eta_times_sign() -> None:
    # m̂_k = (1 - b_m^k) g and v̂_k = (1 - b_v^k) g² (exact iteration): the corrected step is
    # -γ g/(|g| + ε).
    r = theory.get("adaptive.adam_update")
    step = r.numeric(part="step")
    bm, bv, g, k, eps, gam = 0.9, 0.999, -0.3, 5, 1e-8, 0.01
    mh = (1 - bm**k) * g
    vh = (1 - bv**k) * g**2
    got = float(step(gamma=gam, m_hat=mh, v_hat=vh, b_m=bm, b_v=bv, epsilon=eps, k=float(k)))
    assert got == pytest.approx(-gam * g / (abs(g) + eps), rel=1e-12)


def test_adam_vs_sgd_norm_states_pythagoras() -> None:
    r = theory.get("adaptive.adam_vs_sgd_norm")
    assert r.stated and "isotropic" in r.notes
    f = r.numeric(part="pythagoras")
    assert float(f(norm_min=3.0, norm_null=4.0)) == pytest.approx(5.0)


def test_metric_view_states_the_matrix_properties_it_assumes() -> None:
    r = theory.get("adaptive.metric_view")
    names = {str(c) for c in r.conditions}
    assert {"Q.symmetric(H)", "Q.positive_definite(H)", "Q.symmetric(hess_f)"} <= names
    # matrix symbols are named as Python identifiers (they are numeric() arguments)
    mats = {m.name for m in r.statement.atoms(sp.MatrixSymbol)}
    assert mats == {"x_k1", "x_k", "H", "grad_f"}
