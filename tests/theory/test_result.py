"""The Result object and the registry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import theory
from theory import Result, Step, UnknownResultError
from theory._symbols import sym


def _toy() -> Result:
    x = sym("x", real=True)
    eta = sym("eta", r"\eta", positive=True)
    y = sym("y", real=True)
    return Result(id="linear.toy", title="toy", source="test", statement=sp.Eq(y, (1 - eta) * x),
                  symbols=(x, eta, y), conditions=(eta > 0, eta < 2),
                  derivation=(Step("given", sp.Eq(y, (1 - eta) * x)),),
                  parts={"factor": 1 - eta})


def test_result_latex_and_repr_read_well() -> None:
    r = _toy()
    assert r.latex() == r"y = x \left(1 - \eta\right)"
    assert r.conditions == (sym("eta", r"\eta", positive=True) < 2,)  # eta > 0 is implied
    assert r._repr_latex_().startswith("$\\displaystyle y = ")
    assert "linear.toy" in repr(r) and "derived in 1 SymPy steps" in repr(r)
    assert "toy" in str(r)


def test_result_rejects_undeclared_symbols() -> None:
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="not declared in `symbols`"):
        Result(id="linear.bad", title="", source="", statement=x + sp.Symbol("z"), symbols=(x,))


def test_result_rejects_non_identifier_names() -> None:
    with pytest.raises(ValueError, match="Python identifiers"):
        Result(id="linear.bad", title="", source="", statement=sp.Symbol("a b"),
               symbols=(sp.Symbol("a b"),))


def test_numeric_takes_keywords_named_after_symbols() -> None:
    f = _toy().numeric()
    assert f.arguments == ("eta", "x")
    np.testing.assert_allclose(f(x=np.array([1.0, 2.0]), eta=0.25), [0.75, 1.5])
    with pytest.raises(TypeError, match=r"missing \['x'\]"):
        f(eta=0.1)
    with pytest.raises(TypeError, match=r"unexpected \['z'\]"):
        f(eta=0.1, x=1.0, z=2.0)


def test_numeric_is_cached_per_namespace(xp) -> None:
    r = _toy()
    assert r.numeric(xp) is r.numeric(xp)
    assert r.numeric(xp, part="factor") is not r.numeric(xp)
    out = r.numeric(xp, part="factor")(eta=xp.asarray([0.5, 1.5]))
    np.testing.assert_allclose(np.asarray(out.tolist() if hasattr(out, "tolist") else out), [0.5, -0.5])


def test_piecewise_and_max_lambdify_on_any_namespace(xp) -> None:
    from theory._printing import array_api_lambdify

    x = sp.Symbol("x", real=True)
    expr = sp.Piecewise((x**2, x > 1), (sp.Max(x, 0), True)) + sp.acos(sp.Min(x / 4, 1))
    f = array_api_lambdify([x], expr, xp)
    vals = np.array([-1.0, 0.5, 2.0])
    ref = [float(expr.subs(x, v)) for v in vals]
    out = f(xp.asarray(vals))
    from numerics.backend import to_numpy

    np.testing.assert_allclose(to_numpy(out), ref, rtol=1e-14)


def test_evalf_gives_the_high_precision_reference() -> None:
    v = _toy().evalf({"x": 1, "eta": sp.Rational(1, 3)}, n=40)
    assert abs(v - sp.Rational(2, 3)) < sp.Float("1e-38")


def test_unknown_id_names_the_closest() -> None:
    with pytest.raises(UnknownResultError, match="did you mean linear.gd_limit"):
        theory.get("linear.gd_limt")
    with pytest.raises(UnknownResultError, match="linear.gd_limit"):
        theory.get("gd_limit")
    with pytest.raises(TypeError, match="must be a str"):
        theory.entry(3)  # type: ignore[arg-type]


def test_ids_are_in_catalog_order_and_built_results_match() -> None:
    ids = theory.ids("linear")
    assert ids[0] == "linear.gd_iterate"
    assert len(ids) == len(set(ids))
    for i in ids:
        r = theory.get(i)
        assert r.id == i and r.topic == "linear"
        assert theory.get(i) is r  # cached


def test_import_theory_is_lazy() -> None:
    code = "import sys, theory; print('sympy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_constant_subexpressions_print_as_floats(xp) -> None:
    """sqrt(2) on a Python number would be xp.sqrt(2), which strict namespaces reject."""
    from numerics.backend import to_numpy
    from theory._printing import array_api_lambdify

    x = sp.Symbol("x", positive=True)
    expr = sp.sqrt(2 * x) + sp.log(3) * x + sp.sqrt(2) ** 3 / x
    f = array_api_lambdify([x], expr, xp)
    np.testing.assert_allclose(to_numpy(f(xp.asarray([1.0, 4.0]))),
                               [float(expr.subs(x, v)) for v in (1.0, 4.0)], rtol=1e-14)
