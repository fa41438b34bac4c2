"""Bad input to the theory API: each is rejected with one line naming the argument, the rule
and the value (the exact message is the contract a user reads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import theory


def _get(rid: str) -> Any:
    return theory.get(rid)


def _num(rid: str, part: str | None = None, **kw: Any) -> Any:
    return theory.get(rid).numeric(part=part, **kw)


_SPD = np.array([[2.0, 1.0], [1.0, 2.0]])
_COL = np.array([[1.0], [1.0]])

# (call, exception type, exact message)
CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("get: unknown id", lambda: _get("linear.gd_limt"), KeyError,
     "unknown result id 'linear.gd_limt'; did you mean linear.gd_limit, linear.sgd_limit, "
     "linear.scaled_gd_limit? (`implreg list` shows every id)"),
    ("get: case-only typo", lambda: _get("LINEAR.GD_LIMIT"), KeyError,
     "unknown result id 'LINEAR.GD_LIMIT'; did you mean linear.gd_limit? "
     "(ids are lower case; `implreg list` shows every id)"),
    ("get: not a str", lambda: _get(3), TypeError, "result id must be a str; got int"),
    ("ids: unknown topic", lambda: theory.ids("linaer"), KeyError,
     "unknown topic 'linaer'; did you mean linear, two_layer? (`implreg list` shows every id)"),
    ("numeric: unknown part", lambda: _num("linear.gd_limit", "nosuch"), KeyError,
     "linear.gd_limit has no part 'nosuch' (it has statement, mode_limit, stable_region)"),
    ("numeric: misspelt part", lambda: _num("linear.gd_limit", "mode_limt"), KeyError,
     "linear.gd_limit has no part 'mode_limt'; did you mean mode_limit? "
     "(it has statement, mode_limit, stable_region)"),
    ("numeric: part not a str", lambda: _num("linear.gd_limit", 1), TypeError,
     "linear.gd_limit: part must be a str (a part name or 'statement'); got int"),
    ("numeric: check_conditions not a bool",
     lambda: _num("linear.gd_limit", check_conditions="yes"), TypeError,
     "linear.gd_limit: check_conditions must be True or False; got 'yes'"),
    ("numeric: missing keyword", lambda: _num("data.batch_size", "threshold")(B=2.0, n=10.0),
     TypeError, "data.batch_size[threshold]: missing keyword argument eta; it takes B, eta, n"),
    ("numeric: unknown keyword",
     lambda: _num("data.batch_size", "threshold")(B=2.0, n=10.0, eta=0.1, etta=0.1), TypeError,
     "data.batch_size[threshold]: unknown keyword argument 'etta' (did you mean eta?); "
     "it takes B, eta, n"),
    ("numeric: B >= n against B < n",
     lambda: _num("data.batch_size", "threshold")(B=10.0, n=10.0, eta=0.1), ValueError,
     "data.batch_size[threshold]: condition B < n violated at B=10, n=10"),
    ("numeric: B <= n, batched",
     lambda: _num("sgd_noise.covariance", "factor")(B=np.array([2.0, 12.0]), n=10.0),
     ValueError, "sgd_noise.covariance[factor]: condition B <= n violated at B=12, n=10 "
     "(first violation at batch index (1,) of shape (2,))"),
    ("numeric: n >= 2", lambda: _num("sgd_noise.covariance", "factor")(B=1.0, n=1.0),
     ValueError, "sgd_noise.covariance[factor]: condition n >= 2 violated at n=1"),
    ("numeric: non-integer k", lambda: _num("adaptive.adam_update", "ema_of_constant")(
        b=0.9, g=1.0, k=2.5), ValueError,
     "adaptive.adam_update[ema_of_constant]: k must be an integer (SymPy assumption "
     "integer=True); got k=2.5"),
    ("numeric: NaN for a positive symbol",
     lambda: _num("data.batch_size", "sharpness_threshold")(eta=float("nan")), ValueError,
     "data.batch_size[sharpness_threshold]: eta must be positive (SymPy assumption "
     "positive=True); got eta=nan"),
    ("numeric: NaN for a real symbol", lambda: _num("adaptive.adam_update", "first_moment")(
        b_m=0.9, g=float("nan"), m_prev=0.0), ValueError,
     "adaptive.adam_update[first_moment]: g must be real (not NaN) (SymPy assumption "
     "real=True); got g=nan"),
    ("numeric: negative for a nonnegative symbol",
     lambda: _num("kernels.arccos1_gaussian", "J")(theta=-0.5), ValueError,
     "kernels.arccos1_gaussian[J]: theta must be nonnegative (SymPy assumption "
     "nonnegative=True); got theta=-0.5"),
    ("numeric: theta beyond pi", lambda: _num("kernels.arccos1_gaussian", "J")(theta=3.5),
     ValueError, "kernels.arccos1_gaussian[J]: condition theta <= pi violated at theta=3.5"),
    ("numeric: a product bound", lambda: _num("label_noise.regularizer", "eigen_term")(
        eta=0.5, lambda_j=4.0), ValueError,
     "label_noise.regularizer[eigen_term]: condition eta*lambda_j < 2 violated at eta=0.5, "
     "lambda_j=4"),
    ("numeric: b_m < 1", lambda: _num("adaptive.adam_update", "first_moment")(
        b_m=1.0, g=1.0, m_prev=0.0), ValueError,
     "adaptive.adam_update[first_moment]: condition b_m < 1 violated at b_m=1"),
    ("numeric: k > 1", lambda: _num("langevin.basin_mass_ratio")(d=2.0, k=1.0), ValueError,
     "langevin.basin_mass_ratio: condition k > 1 violated at k=1"),
    ("numeric: a non-symmetric metric", lambda: _num(
        "adaptive.metric_view", "reparametrized_gradient")(
        H=np.array([[2.0, 1.0], [0.5, 2.0]]), grad_f_at=_COL), ValueError,
     "adaptive.metric_view[reparametrized_gradient]: condition Q.symmetric(H) violated: "
     "max |H - H^T| = 0.5 exceeds the rounding tolerance 8.88e-15 (10 n eps max |H|)"),
    ("numeric: an indefinite metric", lambda: _num(
        "adaptive.metric_view", "reparametrized_gradient")(
        H=np.array([[1.0, 2.0], [2.0, 1.0]]), grad_f_at=_COL), ValueError,
     "adaptive.metric_view[reparametrized_gradient]: condition Q.positive_definite(H) "
     "violated: H has smallest eigenvalue -1 and max |H - H^T| = 0 (needs > 0 and within "
     "8.88e-15)"),
    ("numeric: a vector for a matrix", lambda: _num(
        "adaptive.metric_view", "reparametrized_gradient")(H=_SPD, grad_f_at=np.ones(2)),
     ValueError, "adaptive.metric_view[reparametrized_gradient]: the matrix argument grad_f_at "
     "must have at least 2 axes (..., rows, cols; a column vector is (..., k, 1)); got shape "
     "(2,)"),
    ("evalf: unknown symbol", lambda: _get("data.batch_size").evalf(
        {"B": 2, "n": 10, "etta": 0.1}, part="threshold"), KeyError,
     "data.batch_size[threshold]: evalf got unknown symbol name 'etta'; it takes B, a, eta, "
     "n, s"),
    ("evalf: not a number", lambda: _get("data.batch_size").evalf(
        {"B": 2, "n": 10, "eta": "fast"}, part="threshold"), TypeError,
     "data.batch_size[threshold]: evalf needs numbers in subs; got str 'fast'"),
    ("evalf: subs not a mapping", lambda: _get("data.batch_size").evalf([("B", 2)]), TypeError,
     "data.batch_size: subs must be a mapping of symbol names to numbers; got list"),
    ("evalf: a condition", lambda: _get("data.batch_size").evalf(
        {"B": 12, "n": 10, "eta": 0.1}, part="threshold"), ValueError,
     "data.batch_size[threshold]: condition B < n violated at B=12, n=10"),
    ("evalf: an assumption", lambda: _get("data.batch_size").evalf(
        {"B": 2.5, "n": 10, "eta": 0.1}, part="threshold"), ValueError,
     "data.batch_size[threshold]: B must be an integer (SymPy assumption integer=True); "
     "got B=2.5"),
    ("latex: unknown part", lambda: _get("linear.gd_limit").latex(part="bogus"), KeyError,
     "linear.gd_limit has no part 'bogus' (it has statement, mode_limit, stable_region)"),
    ("python: unknown part", lambda: _get("linear.gd_limit").python(part="stable"), KeyError,
     "linear.gd_limit has no part 'stable'; did you mean stable_region? "
     "(it has statement, mode_limit, stable_region)"),
]


@pytest.mark.parametrize(("call", "kind", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line(call: Callable[[], Any], kind: type[Exception],
                                       message: str) -> None:
    with pytest.raises(kind) as info:
        call()
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20
