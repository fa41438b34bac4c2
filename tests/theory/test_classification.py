"""classification.max_margin: LaTeX, the corrected seed typo, the rate constants."""

from __future__ import annotations

import math

import numpy as np
import pytest

import theory
from numerics import GD, run
from numerics.classification import LogisticRegression


def test_max_margin_is_registered_and_stated() -> None:
    assert theory.ids("classification") == ["classification.max_margin"]
    r = theory.get("classification.max_margin")
    assert r.stated
    assert r.latex() == r"\theta_{k} = \log{\left(k \right)} \hat{\theta} + \tilde{w} + r_{k}"
    for part in r.parts:
        assert r.latex(part=part).strip()
    assert r.latex(part="kkt") == r"\hat{\theta} = Z^{T} \alpha"


def test_notes_correct_the_seed_loss() -> None:
    notes = theory.get("classification.max_margin").notes
    assert "log(1 + e^{−|u|})" in notes and "typo" in notes and "l(u) = log(1 + e^{−u})" in notes


def test_angle_decays_like_one_over_log_k() -> None:
    f = theory.get("classification.max_margin").numeric(part="angle")
    ks = np.array([1e4, 1e8, 1e16, 1e32])
    a = f(k=ks, gamma=0.5, w_par=0.3, w_perp=0.2)
    # tan(angle)·(log k/γ + ûᵀw̃) = ‖P⊥w̃‖ exactly
    np.testing.assert_allclose(np.tan(a) * (np.log(ks) / 0.5 + 0.3), 0.2, rtol=1e-12)
    assert np.all(np.diff(a * np.log(ks)) < 0.05)


def test_one_dimensional_offset_matches_logistic_gd() -> None:
    # One point z = 1/γ with label +1: θ_k − log(k)/z → γ log(η/γ²) (= log(ηz²)/z).
    gamma, eta = 0.5, 1.0
    z = 1.0 / gamma
    m = LogisticRegression(np.array([[z]]), np.array([1.0]))
    k = 2**14
    th = float(run(m, GD(eta), np.zeros((1, 1)), k, record=()).x[0, 0])
    w1 = float(theory.get("classification.max_margin").numeric(part="one_dimensional_offset")(
        eta=eta, gamma=gamma))
    assert w1 == pytest.approx(math.log(eta * z**2) / z)
    # r_k = O(log k / k) for the logistic tail: 1e-3 at k = 2^14
    assert abs(th - math.log(k) / z - w1) < 1e-3


def test_svm_part_only_explains_and_the_rest_are_claims() -> None:
    r = theory.get("classification.max_margin")
    assert r.explains == ("svm", "remainder_exponent")
    assert set(r.claims) == {"statement", *r.parts} - {"svm", "remainder_exponent"}


def test_offset_part_reduces_to_the_one_dimensional_offset() -> None:
    # one point z = 1/γ: α = γ² (θ̂ = αz = 1/z), z·w̃ = log(η/α) must give w̃ = γ log(η/γ²)
    r = theory.get("classification.max_margin")
    gamma, eta = 0.4, 0.3
    zw = float(r.numeric(part="offset")(eta=eta, alpha_s=gamma**2))
    w1 = float(r.numeric(part="one_dimensional_offset")(eta=eta, gamma=gamma))
    assert zw * gamma == pytest.approx(w1, rel=1e-14)


def test_remainder_exponent_drops_the_redundant_one() -> None:
    # λ_min(M) ≤ ûᵀMû = 1 for M = Σ α_s z_s z_sᵀ at the SVM: check on constructed data
    from numerics.classification import separable_data

    D = separable_data(3, 5, margin=0.6, m2=2.0, spread=2.0, rng=1)
    Z = np.asarray(D.y)[:, None] * np.asarray(D.X)
    a = np.asarray(D.alpha)
    M = (Z.T * a) @ Z
    assert np.linalg.eigvalsh(M).min() <= 1 + 1e-12
    r = theory.get("classification.max_margin")
    f = r.numeric(part="remainder_exponent")
    assert float(f(lambda_min_M=0.7, m_2=2.5)) == pytest.approx(0.7)
    assert float(f(lambda_min_M=1.0, m_2=1.4)) == pytest.approx(0.4)
