"""Sharpness results: they build, print, and agree with direct computations."""

from __future__ import annotations

import numpy as np
import pytest

import theory


@pytest.mark.parametrize("rid", theory.ids("sharpness"))
def test_every_result_derives_to_latex(rid: str) -> None:
    assert theory.get(rid).latex()


def test_flatness_radius_latex_is_pinned() -> None:
    assert theory.get("sharpness.flatness_radius").latex() == (
        r"r(x, \delta, \varepsilon) = \sqrt{\frac{2 \varepsilon}{\delta^T H \delta}}")


def test_flatness_radius_solves_the_crossing() -> None:
    f = theory.get("sharpness.flatness_radius").numeric()
    r = f(epsilon=0.05, q=3.0)
    assert abs(0.5 * r**2 * 3.0 - 0.05) < 1e-15


def test_epsilon_sharpness_quadratic_part() -> None:
    f = theory.get("sharpness.epsilon").numeric(part="quadratic")
    H = np.diag([3.0, 1.0])
    th = np.linspace(0, 2 * np.pi, 10001)
    d = 0.1 * np.stack([np.cos(th), np.sin(th)], -1)
    brute = np.max(0.5 * np.einsum("ti,ij,tj->t", d, H, d))
    assert abs(f(epsilon=0.1, lambda_1=3.0) - brute) < 1e-12


def test_pac_bayes_value() -> None:
    f = theory.get("sharpness.pac_bayes").numeric()
    assert abs(f(sigma=0.2, tr_H=5.0) - 0.1) < 1e-15
