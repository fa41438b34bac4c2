"""Stability results: they build, print, and their closed forms agree with independent
computations (exhaustive enumeration of batches in exact rational arithmetic)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

import theory

IDS = [*theory.ids("stability"), *theory.ids("sgd_noise")]


def _subs(expr, **values):
    """Substitute by symbol name (the results' symbols carry assumptions)."""
    return expr.subs({s: values[s.name] for s in expr.free_symbols if s.name in values})


def test_ids_cover_the_catalog() -> None:
    assert set(IDS) >= {
        "stability.gd_threshold", "stability.sgd_1d_moments", "stability.sgd_threshold",
        "stability.sgd_exact_threshold", "stability.general_optimizer", "stability.preconditioned",
        "stability.sgd_escape_example", "sgd_noise.covariance"}


@pytest.mark.parametrize("rid", IDS)
def test_every_result_derives_to_latex(rid: str) -> None:
    r = theory.get(rid)
    assert r.latex()
    assert r.id == rid and r.source and r.notes


def test_gd_threshold_latex_is_pinned() -> None:
    assert theory.get("stability.gd_threshold").latex() == r"\lambda_{\max} \leq \frac{2}{\eta}"


def _enumerated_moments(a_vals, B):
    """E a_𝓑 and E a_𝓑² over all batches, exactly (Fractions)."""
    batches = list(itertools.combinations(range(len(a_vals)), B))
    means = [sum(Fraction(a_vals[i]) for i in b) / B for b in batches]
    return sum(means) / len(batches), sum(m * m for m in means) / len(batches)


@pytest.mark.parametrize("n,B", [(2, 1), (4, 2), (5, 3), (6, 6), (7, 1)])
def test_sgd_1d_factor_matches_enumeration(n: int, B: int) -> None:
    rng = np.random.default_rng(n * 10 + B)
    a_vals = [int(v) for v in rng.integers(0, 10, n)]
    Ea, Ea2 = _enumerated_moments(a_vals, B)
    a = Fraction(sum(a_vals), n)
    s2 = Fraction(sum(v * v for v in a_vals), n) - a * a
    r = theory.get("stability.sgd_1d_moments")
    c = _subs(r.parts["batch_factor"], n=n, B=B)
    assert Ea == a
    assert Ea2 - a * a == Fraction(str(c)) * s2  # exact rational identity
    eta = Fraction(3, 10)
    f2 = _subs(r.parts["second_moment_factor"], eta=eta, a=a, s=float(s2) ** 0.5, n=n, B=B)
    assert abs(float(f2) - float(1 - 2 * eta * Ea + eta**2 * Ea2)) < 1e-12


def test_with_replacement_factor_would_differ() -> None:
    """Teeth: the with-replacement factor 1/B disagrees with enumeration for 1 < B."""
    Ea, Ea2 = _enumerated_moments([0, 1, 5, 7], 2)
    s2 = Fraction(0 + 1 + 25 + 49, 4) - Ea * Ea
    assert Ea2 - Ea * Ea != Fraction(1, 2) * s2


def test_eta_max_1d_is_the_root_of_the_factor() -> None:
    r = theory.get("stability.sgd_exact_threshold")
    f = r.numeric(part="eta_max_1d")
    g = theory.get("stability.sgd_1d_moments").numeric(part="second_moment_factor")
    e = f(a=1.3, s=0.7, n=10.0, B=3.0)
    assert abs(g(eta=e, a=1.3, s=0.7, n=10.0, B=3.0) - 1) < 1e-12


def test_region_top_is_necessary_bound() -> None:
    r = theory.get("stability.sgd_threshold")
    edge = r.numeric(part="stable_region_s")
    top = r.numeric(part="necessary_nonuniformity")
    eta, n, B = 0.5, 20.0, 4.0
    a = np.linspace(0.01, 2 / eta - 0.01, 2001)
    assert np.max(edge(a=a, eta=eta, n=n, B=B)) <= top(eta=eta, n=n, B=B) * (1 + 1e-12)
    assert abs(edge(a=1 / eta, eta=eta, n=n, B=B) - top(eta=eta, n=n, B=B)) < 1e-12


def test_escape_example_numbers() -> None:
    r = theory.get("stability.sgd_escape_example")
    q = r.numeric()(eta=0.7)
    assert abs(q - 0.5 * (0.86**2 + 1.66**2)) < 1e-12


def _batch_mean(values, B):
    """Average of f over all B-subsets, exactly: values[i] are SymPy matrices/rationals."""
    batches = list(itertools.combinations(range(len(values)), B))
    return batches, [sum((values[i] for i in b), 0 * values[0]) / B for b in batches]


def test_sgd_1d_statement_is_the_batch_average_exactly() -> None:
    """The column (E x_{t+1}, E x²_{t+1}) at a deterministic x_t = 3/2, against the average of
    (1 − ηa_𝓑)x_t over all batches in exact rationals (s² enters only as a square)."""
    import sympy as sp

    r = theory.get("stability.sgd_1d_moments")
    a_vals = [sp.Rational(v) for v in (0, 1, 3, 7, 2)]
    n, B, eta, x = 5, 2, sp.Rational(1, 3), sp.Rational(3, 2)
    _, aB = _batch_mean(a_vals, B)
    want = [sum((1 - eta * v) * x for v in aB) / len(aB), sum(((1 - eta * v) * x) ** 2 for v in aB) / len(aB)]
    a = sum(a_vals) / n
    s = sp.sqrt(sum(v * v for v in a_vals) / n - a * a)
    got = _subs(r.statement.rhs, m_t=x, q_t=x * x, eta=eta, a=a, s=s, n=n, B=B)
    assert [sp.simplify(g - w) for g, w in zip(got, want)] == [0, 0]


def test_second_moment_map_is_the_batch_average_exactly() -> None:
    """M_{t+1} of the statement at a non-symmetric M and non-commuting H_i equals
    E_𝓑[(I − ηH_𝓑)M(I − ηH_𝓑)] over all batches, in exact rationals."""
    import sympy as sp

    r = theory.get("stability.sgd_exact_threshold")
    Hs = [sp.Matrix([[2, 1], [1, 1]]), sp.Matrix([[1, 0], [0, 3]]), sp.Matrix([[0, 0], [0, 1]]),
          sp.Matrix([[1, -1], [-1, 2]])]
    M = sp.Matrix([[1, 2], [-3, 5]])
    n, B, eta = 4, 2, sp.Rational(1, 5)
    _, HB = _batch_mean(Hs, B)
    want = sum(((sp.eye(2) - eta * h) * M * (sp.eye(2) - eta * h) for h in HB), sp.zeros(2, 2)) / len(HB)
    mats = {m.name: m for m in r.statement.atoms(sp.MatrixSymbol)}
    Hm = sum(Hs, sp.zeros(2, 2)) / n
    S = sum((h * M * h for h in Hs), sp.zeros(2, 2)) / n
    expr = r.statement.rhs.xreplace({mats["H"]: sp.ImmutableMatrix(Hm), mats["M_t"]: sp.ImmutableMatrix(M),
                                     mats["S_t"]: sp.ImmutableMatrix(S)})
    expr = _subs(expr, eta=eta, n=n, B=B).subs({s: 2 for s in expr.free_symbols if s.name == "p"})
    got = sp.Matrix(sp.ImmutableMatrix(expr.doit()))
    assert sp.simplify(got - want) == sp.zeros(2, 2)
