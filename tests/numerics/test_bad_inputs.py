"""Bad input to the numerics API: one table of calls with the exact message each must raise,
and the accept/reject boundaries of every constraint of ``numerics._validation``.

Each row is ``(id, build, exception, message)``: ``build(xp, other)`` returns the call and
its arguments, made of arrays of the backend under test ``xp`` (and, for the rows that mix
namespaces, of ``other``, the second backend). ``message`` is the exact full text (with
``{ns}`` / ``{other}`` replaced by the backends' module names), or a compiled regex that
must match the whole text where a part (an iterate count, a shape the row does not fix)
is not the row's point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Callable

import numpy as np
import pytest

from numerics import GD, SGD, LeastSquares, min_norm_fit, relu_features, run
from numerics._validation import (
    Array,
    InstanceOf,
    Interval,
    Optional,
    Options,
    Shape,
    describe,
    namespace_for,
    validate,
)
from numerics.classification import LogisticRegression, ResidualReLUNet, init_scale_experiment, separable_data
from numerics.data import ReplicaGD, corrupt_labels, load_digits, split_indices
from numerics.diagonal import DiagonalNet, diagonal_init, q_potential
from numerics.factorization import MatrixSensing
from numerics.langevin import HarmonicWell, Langevin, TwoWellPotential
from numerics.linear import Preconditioned
from numerics.mlp import MLP
from numerics.stability import (
    PiecewiseQuadratic1D,
    SumOfQuadratics,
    first_exit,
    largest_stable_eta,
    minibatch_factor,
    moments,
    quadratic_ensemble,
    second_moment_map,
)
from numerics.two_layer import (
    RandomFeatures,
    Teacher,
    TwoLayerPopulation,
    TwoLayerReLU,
    arccos_kernel,
    circle_target,
    single_neuron,
    xavier_init,
)

HINT = "(convert it with xp.asarray(...) of the backend you use)"
MIX = "convert them with one backend's xp.asarray"
strict = pytest.importorskip("array_api_strict")


def _ns(xp: Any) -> str:
    return "array_api_strict" if xp is strict else "numpy"


@pytest.fixture(params=["numpy", "array_api_strict"])
def pair(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    """The backend under test and the other one (for rows that mix namespaces)."""
    import array_api_compat

    npx = array_api_compat.array_namespace(np.empty(0))
    return (npx, strict) if request.param == "numpy" else (strict, npx)


def a(xp: Any, x: Any, dtype: Any = None) -> Any:
    """A float64 array of ``xp`` (or of ``dtype``) from host data."""
    return xp.asarray(np.asarray(x, dtype=np.float64) if dtype is None else np.asarray(x),
                      dtype=xp.float64 if dtype is None else dtype)


def _nan(shape: tuple[int, ...], at: tuple[int, ...], value: float = math.nan) -> np.ndarray:
    out = np.ones(shape)
    out[at] = value
    return out


def _ls(xp: Any) -> LeastSquares:
    return LeastSquares(a(xp, np.eye(4, 3)), a(xp, np.ones(4)))


@dataclass(frozen=True)
class Row:
    id: str
    build: Callable[[Any, Any], tuple[Callable[..., Any], tuple, dict]]
    exc: type[Exception]
    message: str | re.Pattern[str]


def R(id: str, build: Callable, exc: type[Exception], message: str | re.Pattern[str]) -> Any:
    return pytest.param(Row(id, build, exc, message), id=id)


def call(f: Callable, *args: Any, **kwargs: Any) -> tuple[Callable, tuple, dict]:
    return f, args, kwargs


ROWS = [
    # -------------------------------------------------------------- linear: LeastSquares
    R("ls-empty-A", lambda xp, o: call(LeastSquares, a(xp, np.zeros((0, 3))), a(xp, np.zeros(0))),
      ValueError, "LeastSquares: A must be non-empty; got shape (0, 3)"),
    R("ls-nan-A", lambda xp, o: call(LeastSquares, a(xp, _nan((2, 3), (1, 2))), a(xp, np.ones(2))),
      ValueError, "LeastSquares: A must be finite; it contains NaN (an array of shape (2, 3), dtype float64)"),
    R("ls-inf-y", lambda xp, o: call(LeastSquares, a(xp, np.ones((2, 3))), a(xp, [1.0, math.inf])),
      ValueError, "LeastSquares: y must be finite; it contains infinity (an array of shape (2,), dtype float64)"),
    R("ls-y-vs-A-rows", lambda xp, o: call(LeastSquares, a(xp, np.ones((2, 3))), a(xp, np.ones(3))),
      ValueError, "LeastSquares: A and y disagree: y must have shape (n=2,) or (R, n=2) to match A "
                  "of shape (2, 3); got shape (3,)"),
    R("ls-replicas-A-vs-y", lambda xp, o: call(LeastSquares, a(xp, np.ones((2, 2, 3))), a(xp, np.ones((3, 2)))),
      ValueError, "LeastSquares: A and y disagree: y must have shape (n=2,) or (R=2, n=2) to match A "
                  "of shape (2, 2, 3); got shape (3, 2)"),
    R("ls-A-1d", lambda xp, o: call(LeastSquares, a(xp, np.ones(3)), a(xp, np.ones(3))),
      ValueError, "LeastSquares: A must have 2 or 3 dimensions, shape (n, d) or (R, n, d); got shape (3,)"),
    R("ls-A-list", lambda xp, o: call(LeastSquares, [[1.0, 2.0]], a(xp, [1.0])),
      TypeError, f"LeastSquares: A must be an array; got list [[1.0, 2.0]] {HINT}"),
    R("ls-A-string", lambda xp, o: call(LeastSquares, "A.csv", a(xp, [1.0])),
      TypeError, f"LeastSquares: A must be an array; got 'A.csv' {HINT}"),
    R("ls-mixed-namespaces", lambda xp, o: call(LeastSquares, a(xp, np.ones((2, 3))), a(o, np.ones(2))),
      TypeError, "LeastSquares: arrays from different namespaces cannot be mixed: A from {ns}, "
                 "y from {other}; " + MIX),
    R("ls-reduction-case", lambda xp, o: call(LeastSquares, a(xp, np.ones((2, 3))), a(xp, np.ones(2)),
                                              reduction="Mean"),
      ValueError, "LeastSquares: reduction must be 'mean' or 'sum'; got 'Mean'; did you mean 'mean'?"),
    R("ls-loss-x-wrong-d", lambda xp, o: call(_ls(xp).loss, a(xp, np.zeros((1, 4)))),
      ValueError, "LeastSquares: x must have shape (R, d=3) to match the model; got shape (1, 4)"),
    R("ls-loss-x-1d", lambda xp, o: call(_ls(xp).grad, a(xp, np.zeros(3))),
      ValueError, "LeastSquares: x must have 2 dimensions, shape (R, d=3) to match the model; got shape (3,)"),
    R("ls-loss-x-other-namespace", lambda xp, o: call(_ls(xp).loss, a(o, np.zeros((1, 3)))),
      TypeError, "LeastSquares: arrays from different namespaces cannot be mixed: the model's arrays "
                 "from {ns}, x from {other}; " + MIX),
    R("ls-loss-x-list", lambda xp, o: call(_ls(xp).loss, [[0.0, 0.0, 0.0]]),
      TypeError, f"LeastSquares: x must be an array; got list [[0.0, 0.0, 0.0]] {HINT}"),
    R("preconditioned-singular-H", lambda xp, o: call(Preconditioned, _ls(xp), a(xp, np.diag([1.0, 1.0, 0.0]))),
      ValueError, "Preconditioned: H must be invertible; got smallest singular value 0 against the largest 1"),
    R("preconditioned-H-size", lambda xp, o: call(Preconditioned, _ls(xp), a(xp, np.eye(2))),
      ValueError, "Preconditioned: H must have shape (d=3, d=3) to match the model; got shape (2, 2)"),
    R("preconditioned-nan-H", lambda xp, o: call(Preconditioned, _ls(xp), a(xp, _nan((3, 3), (0, 1)))),
      ValueError, "Preconditioned: H must be finite; it contains NaN (an array of shape (3, 3), dtype float64)"),
    R("preconditioned-not-a-model", lambda xp, o: call(Preconditioned, "LeastSquares", a(xp, np.eye(3))),
      TypeError, "Preconditioned: model must have loss and grad methods; got 'LeastSquares'"),
    R("relu-features-dims", lambda xp, o: call(relu_features, a(xp, np.ones((4, 3))), a(xp, np.ones((5, 2)))),
      ValueError, "relu_features: X and W disagree: W must have shape (m, d=3) or (R, m, d=3) to match X "
                  "of shape (4, 3); got shape (5, 2)"),
    R("min-norm-fit-rows", lambda xp, o: call(min_norm_fit, a(xp, np.ones((4, 3))), a(xp, np.ones(5))),
      ValueError, "min_norm_fit: Psi and y disagree: y must have shape (n=4,) or (R, n=4) to match Psi "
                  "of shape (4, 3); got shape (5,)"),
    # -------------------------------------------------------------- diagonal, factorization
    R("diagonal-X-vs-y", lambda xp, o: call(DiagonalNet, a(xp, np.ones((3, 4))), a(xp, np.ones(2))),
      ValueError, "DiagonalNet: X and y disagree: y must have shape (n=3,) to match X of shape (3, 4); "
                  "got shape (2,)"),
    R("diagonal-theta", lambda xp, o: call(DiagonalNet(a(xp, np.ones((2, 3))), a(xp, np.ones(2))).loss,
                                           a(xp, np.ones((1, 5)))),
      ValueError, "DiagonalNet: theta must have shape (R, 2d=6) to match the model; got shape (1, 5)"),
    R("diagonal-init-alpha-zero", lambda xp, o: call(diagonal_init, 0.0, 3, xp=xp),
      ValueError, "diagonal_init: alpha must be finite and positive; got 0.0"),
    R("diagonal-init-alpha-nan", lambda xp, o: call(diagonal_init, math.nan, 3, xp=xp),
      ValueError, "diagonal_init: alpha must be finite and positive; got nan"),
    R("diagonal-init-alpha-negative-entry", lambda xp, o: call(diagonal_init, a(xp, [0.5, -1.0]), 3),
      ValueError, "diagonal_init: alpha must be positive (u_0 = v_0 = 0 is a saddle); got smallest "
                  "entry -1 (an array of shape (2,), dtype float64)"),
    R("diagonal-init-d-zero", lambda xp, o: call(diagonal_init, 0.1, 0, xp=xp),
      ValueError, "diagonal_init: d must be an integer >= 1; got 0"),
    R("diagonal-init-xp-vs-alpha", lambda xp, o: call(diagonal_init, a(xp, [0.5]), 3, xp=o),
      TypeError, "diagonal_init: arrays from different namespaces cannot be mixed: xp is {other}, "
                 "alpha from {ns}; " + MIX),
    R("q-potential-alpha-inf", lambda xp, o: call(q_potential, a(xp, np.zeros(3)), math.inf),
      ValueError, "q_potential: alpha must be finite and positive; got inf"),
    R("sensing-A-2d", lambda xp, o: call(MatrixSensing, a(xp, np.ones((3, 2))), a(xp, np.ones(3))),
      ValueError, "MatrixSensing: A must have 3 dimensions, shape (n, m1, m2); got shape (3, 2)"),
    R("sensing-rank-zero", lambda xp, o: call(MatrixSensing, a(xp, np.ones((3, 2, 2))), a(xp, np.ones(3)), rank=0),
      ValueError, "MatrixSensing: rank must be an integer >= 1; got 0"),
    R("sensing-rank-float", lambda xp, o: call(MatrixSensing, a(xp, np.ones((3, 2, 2))), a(xp, np.ones(3)), rank=1.5),
      TypeError, "MatrixSensing: rank must be an integer; got 1.5"),
    R("sensing-init-alpha-array", lambda xp, o: call(
        MatrixSensing(a(xp, np.ones((3, 2, 2))), a(xp, np.ones(3))).init, a(xp, [0.1, 0.2])),
      TypeError, "MatrixSensing.init: alpha must be a real number; got an array of shape (2,), dtype float64"),
    # -------------------------------------------------------------- mlp
    R("mlp-no-hidden-layer", lambda xp, o: call(MLP, a(xp, np.ones((3, 2))), a(xp, np.eye(3)), widths=()),
      ValueError, "MLP: widths must name at least one hidden layer; got ()"),
    R("mlp-zero-width", lambda xp, o: call(MLP, a(xp, np.ones((3, 2))), a(xp, np.eye(3)), widths=(4, 0)),
      ValueError, "MLP: widths[1] must be an integer >= 1; got 0"),
    R("mlp-X-vs-Y", lambda xp, o: call(MLP, a(xp, np.ones((3, 2))), a(xp, np.eye(4))),
      ValueError, "MLP: X and Y disagree: Y must have shape (n=3, k) or (R, n=3, k) to match X of shape "
                  "(3, 2); got shape (4, 4)"),
    R("mlp-init-replicas", lambda xp, o: call(MLP(a(xp, np.ones((3, 2))), a(xp, np.eye(3)), widths=(4,)).init, -1),
      ValueError, "MLP.init: replicas must be an integer >= 1; got -1"),
    R("mlp-theta-vs-target-replicas", lambda xp, o: call(
        MLP(a(xp, np.ones((3, 2))), a(xp, np.ones((2, 3, 1))), widths=(4,)).loss, a(xp, np.zeros((3, 17)))),
      ValueError, "MLP: theta must have shape (R=2, p=17) to match the model (R: the replicas of the "
                  "targets Y); got shape (3, 17)"),
    # -------------------------------------------------------------- two-layer networks
    R("two-layer-width-zero", lambda xp, o: call(TwoLayerReLU, a(xp, np.eye(3)), a(xp, np.ones(3)), 0),
      ValueError, "TwoLayerReLU: width m must be an integer >= 1; got 0"),
    R("two-layer-width-float", lambda xp, o: call(TwoLayerReLU, a(xp, np.eye(3)), a(xp, np.ones(3)), 2.0),
      TypeError, "TwoLayerReLU: width m must be an integer; got 2.0"),
    R("two-layer-scaling", lambda xp, o: call(TwoLayerReLU, a(xp, np.eye(3)), a(xp, np.ones(3)), 2,
                                              scaling="meanfield"),
      ValueError, "TwoLayerReLU: scaling must be 'conventional' or 'mean_field'; got 'meanfield'; "
                  "did you mean 'mean_field'?"),
    R("two-layer-nan-y", lambda xp, o: call(TwoLayerReLU, a(xp, np.eye(3)), a(xp, [1.0, math.nan, 0.0]), 2),
      ValueError, "TwoLayerReLU: y must be finite; it contains NaN (an array of shape (3,), dtype float64)"),
    R("population-teacher-type", lambda xp, o: call(TwoLayerPopulation, "single neuron", 4),
      TypeError, "TwoLayerPopulation: teacher must be a numerics.two_layer.Teacher; got str"),
    R("population-sphere-d1", lambda xp, o: call(TwoLayerPopulation, single_neuron(1, xp=xp), 2, input="sphere"),
      ValueError, "TwoLayerPopulation: d must be >= 2 for input='sphere' (the kernel reduces to the "
                  "plane of b, b'); got d=1"),
    R("random-features-B0", lambda xp, o: call(RandomFeatures, TwoLayerReLU(a(xp, np.eye(3)), a(xp, np.ones(3)), 2),
                                               a(xp, np.ones((2, 4)))),
      ValueError, "RandomFeatures: B0 must have shape (m=2, d=3) or (R, m=2, d=3) to match the model; "
                  "got shape (2, 4)"),
    R("teacher-nan", lambda xp, o: call(Teacher, a(xp, [1.0]), a(xp, [[math.nan, 1.0]])),
      ValueError, "Teacher: B_star must be finite; it contains NaN (an array of shape (1, 2), dtype float64)"),
    R("xavier-beta-negative", lambda xp, o: call(xavier_init, 2, 3, 4, beta=-1.0, rng=0, xp=xp),
      ValueError, "xavier_init: beta must be finite and non-negative; got -1.0"),
    R("circle-target-d1", lambda xp, o: call(circle_target, 1, xp=xp),
      ValueError, "circle_target: d must be >= 2 (the circle target lives in the plane of e₁, e₂); got 1"),
    R("arccos-order", lambda xp, o: call(arccos_kernel, a(xp, np.eye(2)), a(xp, np.eye(2)), order=3),
      ValueError, "arccos_kernel: order must be one of 0, 1, 2; got 3"),
    # -------------------------------------------------------------- classification
    R("logistic-labels-01", lambda xp, o: call(LogisticRegression, a(xp, np.eye(2)), a(xp, [0.0, 1.0])),
      ValueError, "LogisticRegression: labels y must be in {-1, +1}; got values such as [0.0]"),
    R("logistic-nan-X", lambda xp, o: call(LogisticRegression, a(xp, _nan((2, 2), (0, 0))), a(xp, [1.0, -1.0])),
      ValueError, "LogisticRegression: X must be finite; it contains NaN (an array of shape (2, 2), dtype float64)"),
    R("logistic-theta", lambda xp, o: call(LogisticRegression(a(xp, np.eye(2)), a(xp, [1.0, -1.0])).grad,
                                           a(xp, np.zeros((1, 3)))),
      ValueError, "LogisticRegression: theta must have shape (R, d=2) to match the model; got shape (1, 3)"),
    R("separable-m2", lambda xp, o: call(separable_data, 3, 2, m2=1.0, rng=0, xp=xp),
      ValueError, "separable_data: m2 must be finite and > 1; got 1.0"),
    R("residual-depth", lambda xp, o: call(ResidualReLUNet, a(xp, np.eye(2)), a(xp, [1.0, -1.0]), depth=-1),
      ValueError, "ResidualReLUNet: depth must be an integer >= 0; got -1"),
    R("init-scale-steps-negative", lambda xp, o: call(init_scale_experiment, [1.0], steps=-1, xp=xp),
      ValueError, "init_scale_experiment: steps must be an integer >= 0; got -1"),
    R("init-scale-batch-zero", lambda xp, o: call(init_scale_experiment, [1.0], batch=0, xp=xp),
      ValueError, "init_scale_experiment: batch must be an integer >= 1; got 0"),
    R("init-scale-batch-above-n", lambda xp, o: call(init_scale_experiment, [1.0], n=40, batch=50, xp=xp),
      ValueError, "init_scale_experiment: batch must be in [1, n=40]; got 50"),
    # -------------------------------------------------------------- data
    R("digits-classes", lambda xp, o: call(load_digits, 10, 10, classes=11, xp=xp),
      ValueError, "load_digits: classes must be in [2, 10]; got 11"),
    R("split-too-large", lambda xp, o: call(split_indices, 10, 8, 5, seed=0),
      ValueError, "split_indices: n_train + n_test must be at most n=10; got 8 + 5"),
    R("corrupt-p", lambda xp, o: call(corrupt_labels, a(xp, [0, 1, 2], dtype=xp.int64), 1.5, classes=3),
      ValueError, "corrupt_labels: p must be in [0, 1]; got 1.5"),
    R("corrupt-float-labels", lambda xp, o: call(corrupt_labels, a(xp, [0.0, 1.0]), 0.5, classes=3),
      TypeError, "corrupt_labels: labels must have an integral dtype; got dtype float64"),
    R("replica-gd-zero-entry", lambda xp, o: call(ReplicaGD, a(xp, [0.1, 0.0])),
      ValueError, "ReplicaGD: eta must have finite positive entries; got smallest entry 0 (an array of "
                  "shape (2,), dtype float64)"),
    R("replica-gd-scalar", lambda xp, o: call(ReplicaGD, 0.1),
      TypeError, f"ReplicaGD: eta must be an array; got 0.1 {HINT}"),
    R("replica-gd-nan", lambda xp, o: call(ReplicaGD, a(xp, [0.1, math.nan])),
      ValueError, "ReplicaGD: eta must be finite; it contains NaN (an array of shape (2,), dtype float64)"),
    # -------------------------------------------------------------- stability
    R("soq-not-psd", lambda xp, o: call(SumOfQuadratics, a(xp, [np.eye(2), np.diag([1.0, -1.0])])),
      ValueError, "SumOfQuadratics: H must be positive semi-definite; smallest eigenvalue -1 (at H[1])"),
    R("soq-not-symmetric", lambda xp, o: call(SumOfQuadratics, a(xp, [np.eye(2), [[1.0, 0.5], [0.0, 1.0]]])),
      ValueError, "SumOfQuadratics: H must be symmetric; max |H - Hᵀ| = 0.5 (at H[1])"),
    R("soq-integer-H", lambda xp, o: call(SumOfQuadratics, a(xp, np.ones((2, 2, 2), dtype=np.int64), dtype=xp.int64)),
      TypeError, "SumOfQuadratics: H must have a real floating dtype; got dtype int64"),
    R("soq-not-square", lambda xp, o: call(SumOfQuadratics, a(xp, np.ones((4, 2, 3)))),
      ValueError, "SumOfQuadratics: H must have shape (n, p, p) or (R, n, p, p); got shape (4, 2, 3)"),
    R("soq-grad-x", lambda xp, o: call(SumOfQuadratics(a(xp, [np.eye(3)] * 2)).grad, a(xp, np.ones((1, 2)))),
      ValueError, "SumOfQuadratics: x must have shape (R, p=3) to match the model; got shape (1, 2)"),
    R("minibatch-zero", lambda xp, o: call(minibatch_factor, 4, 0),
      ValueError, "minibatch_factor: batch must be an integer >= 1; got 0"),
    R("minibatch-above-n", lambda xp, o: call(minibatch_factor, 4, 5),
      ValueError, "minibatch_factor: batch must be in [1, n=4]; got 5"),
    R("moment-map-eta-array", lambda xp, o: call(second_moment_map, a(xp, [np.eye(2)] * 3), a(xp, [0.1, 0.2]), 1),
      TypeError, "second_moment_map: eta must be a real number; got an array of shape (2,), dtype float64"),
    R("moment-map-eta-nan", lambda xp, o: call(second_moment_map, a(xp, [np.eye(2)] * 3), math.nan, 1),
      ValueError, "second_moment_map: eta must be finite and positive; got nan"),
    R("moment-map-batch-above-n", lambda xp, o: call(second_moment_map, a(xp, [np.eye(2)] * 3), 0.1, 4),
      ValueError, "second_moment_map: batch must be in [1, n=3]; got 4"),
    R("stable-eta-condition", lambda xp, o: call(largest_stable_eta, a(xp, [np.eye(2)] * 3), 1, condition="Exact"),
      ValueError, "largest_stable_eta: condition must be one of 'exact', 'sufficient', 'gd'; got 'Exact'; "
                  "did you mean 'exact'?"),
    R("ensemble-s-negative", lambda xp, o: call(quadratic_ensemble, 1.0, -0.5, 4, 2, rng=0, xp=xp),
      ValueError, "quadratic_ensemble: s must be finite and non-negative; got -0.5"),
    R("piecewise-negative-coef", lambda xp, o: call(PiecewiseQuadratic1D, a(xp, [[1.0, -0.1]]), a(xp, [0.0, 1.0])),
      ValueError, "PiecewiseQuadratic1D: coef must be non-negative (each piece a convex quadratic); got "
                  "smallest entry -0.1"),
    R("moments-one-replica", lambda xp, o: call(moments, a(xp, np.zeros((3, 1, 2)))),
      ValueError, "moments: x must hold at least 2 replicas (axis 1) for error bars; got shape (3, 1, 2)"),
    R("first-exit-center", lambda xp, o: call(first_exit, a(xp, np.zeros((2, 3, 2))), [0, 1], a(xp, [0.0]), 1.0),
      ValueError, "first_exit: x and center disagree: center must have shape (p=2,) to match x of shape "
                  "(2, 3, 2); got shape (1,)"),
    # -------------------------------------------------------------- langevin
    R("langevin-eta-array", lambda xp, o: call(Langevin, a(xp, [0.1]), 1.0),
      TypeError, "Langevin: eta must be a real number; got an array of shape (1,), dtype float64"),
    R("langevin-T-zero", lambda xp, o: call(Langevin, 0.1, 0.0),
      ValueError, "Langevin: T (temperature) must be finite and positive; got 0.0"),
    R("langevin-batch-zero", lambda xp, o: call(Langevin, 0.1, 1.0, batch=0),
      ValueError, "Langevin: batch must be an integer >= 1; got 0"),
    R("langevin-batch-above-n", lambda xp, o: call(run, _ls(xp), Langevin(0.1, 1.0, batch=5),
                                                   a(xp, np.zeros((2, 3))), 1),
      ValueError, "Langevin: batch must be in [1, n=4]; got 5"),
    R("two-well-k", lambda xp, o: call(TwoWellPotential, 2, a=1.0, k=0.5),
      ValueError, "TwoWellPotential: k (width ratio) must be finite and >= 1; got 0.5"),
    R("harmonic-a-inf", lambda xp, o: call(HarmonicWell, 2, a=math.inf),
      ValueError, "HarmonicWell: a must be finite and positive; got inf"),
    R("harmonic-loss-x", lambda xp, o: call(HarmonicWell(2, a=1.0).loss, a(xp, np.zeros((1, 3)))),
      ValueError, "HarmonicWell: x must have shape (R, d=2) to match the model; got shape (1, 3)"),
    # -------------------------------------------------------------- rules and the engine
    R("run-negative-steps", lambda xp, o: call(run, _ls(xp), GD(0.1), a(xp, np.zeros((1, 3))), -1),
      ValueError, "steps must be an integer >= 0; got -1"),
    R("gd-negative-eta", lambda xp, o: call(GD, -1.0),
      ValueError, "eta must be finite and positive; got -1.0"),
    R("sgd-batch-above-n", lambda xp, o: call(run, _ls(xp), SGD(0.1, batch=5), a(xp, np.zeros((1, 3))), 1),
      ValueError, "batch must be in [1, n=4]; got 5"),
    R("run-nan-x0", lambda xp, o: call(run, _ls(xp), GD(0.1), a(xp, _nan((2, 3), (1, 0))), 1),
      ValueError, "x0 must be finite; it contains NaN (an array of shape (2, 3), dtype float64)"),
]


@pytest.mark.parametrize("row", ROWS)
def test_bad_input_gets_its_exact_message(row: Row, pair: tuple[Any, Any]) -> None:
    xp, other = pair
    f, args, kwargs = row.build(xp, other)
    with pytest.raises(row.exc) as info:
        f(*args, **kwargs)
    got = str(info.value)
    assert info.type is row.exc, f"{info.type.__name__}: {got}"
    if isinstance(row.message, re.Pattern):
        assert row.message.fullmatch(got), got
    else:
        assert got == row.message.replace("{ns}", _ns(xp)).replace("{other}", _ns(other))
    assert "\n" not in got


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 45


# ---------------------------------------------------------------- the vocabulary itself
def _ok(c: Any, value: Any) -> Any:
    return validate(None, {"v": (value, c)})[0]


def _refused(c: Any, value: Any) -> str:
    with pytest.raises((TypeError, ValueError)) as info:
        validate(None, {"v": (value, c)})
    return str(info.value)


@pytest.mark.parametrize(("closed", "accepts", "refuses"), [
    ("left", [0.0, 1.999, math.nextafter(2.0, 0.0)], [2.0, -1e-300, math.nan, math.inf]),
    ("right", [2.0, 1e-300], [0.0, 2.0000000000000004, -math.inf]),
    ("both", [0.0, 2.0], [-1e-300, 2.0000000000000004]),
    ("neither", [1e-300, 1.999], [0.0, 2.0]),
])
def test_real_interval_boundaries(closed: str, accepts: list, refuses: list) -> None:
    c = Interval(Real, 0, 2, closed=closed)
    for v in accepts:
        assert _ok(c, v) == v and type(_ok(c, v)) is float
    lo, hi = ("[" if closed in ("left", "both") else "("), ("]" if closed in ("right", "both") else ")")
    for v in refuses:
        assert _refused(c, v) == f"v must be in {lo}0, 2{hi}; got {v!r}"


def test_real_interval_half_lines_and_kinds() -> None:
    pos = Interval(Real, 0, None, closed="neither")
    assert _ok(pos, 5e-324) == 5e-324 and _ok(pos, 3) == 3.0 and _ok(pos, np.float32(0.5)) == 0.5
    assert _refused(pos, 0.0) == "v must be finite and positive; got 0.0"
    assert _refused(pos, math.inf) == "v must be finite and positive; got inf"
    nonneg = Interval(Real, 0, None, closed="left")
    assert _ok(nonneg, 0.0) == 0.0
    assert _refused(nonneg, -5e-324) == "v must be finite and non-negative; got -5e-324"
    assert _refused(Interval(Real, 1, None, closed="left"), 0.9999999999999999) == (
        "v must be finite and >= 1; got 0.9999999999999999")
    assert _ok(Interval(Real, 1, None, closed="left"), 1.0) == 1.0
    assert _refused(pos, True) == "v must be a real number; got True"
    assert _refused(pos, "0.1") == "v must be a real number; got '0.1'"
    assert _refused(pos, np.ones(2)) == "v must be a real number; got an array of shape (2,), dtype float64"
    assert _refused(pos, 1j) == "v must be a real number; got 1j"
    assert _ok(pos, np.asarray(0.25)) == 0.25            # a 0-d array is a number


def test_integer_interval_boundaries() -> None:
    c = Interval(Integral, 1, 4, right_name="n")
    assert [_ok(c, v) for v in (1, 4, np.int64(2))] == [1, 4, 2]
    assert _refused(c, 0) == "v must be in [1, n=4]; got 0"
    assert _refused(c, 5) == "v must be in [1, n=4]; got 5"
    assert _refused(c, 2.0) == "v must be an integer; got 2.0"
    assert _refused(c, False) == "v must be an integer; got False"
    assert _refused(c, np.arange(2)) == "v must be an integer; got an array of shape (2,), dtype int64"
    lower = Interval(Integral, 0, None, closed="left")
    assert _ok(lower, 0) == 0 and _refused(lower, -1) == "v must be an integer >= 0; got -1"
    assert _refused(Interval(Integral, 0, None, closed="neither"), 0) == "v must be an integer > 0; got 0"
    assert _refused(Interval(Integral, None, 3, closed="neither"), 3) == "v must be an integer < 3; got 3"
    assert _ok(Interval(Integral, None, 3, closed="both"), 3) == 3


def test_interval_declarations_are_checked() -> None:
    with pytest.raises(TypeError, match="Interval type must be numbers.Real or numbers.Integral"):
        Interval(float, 0, 1)
    with pytest.raises(ValueError, match="closed must be 'both', 'left', 'right' or 'neither'; got 'open'"):
        Interval(Real, 0, 1, closed="open")


def test_options_optional_and_instance() -> None:
    c = Options("exact", "sufficient", "gd")
    assert _ok(c, "gd") == "gd"
    assert _refused(c, "GD") == "v must be one of 'exact', 'sufficient', 'gd'; got 'GD'; did you mean 'gd'?"
    assert _refused(c, "xyz") == "v must be one of 'exact', 'sufficient', 'gd'; got 'xyz'"
    assert _refused(Options(True, False), 1) == "v must be True or False; got 1"   # 1 is not True
    assert _ok(Options(True, False), np.bool_(True)) == True  # noqa: E712 (NumPy's bool)
    assert _ok(Options(0, 1, 2), np.int64(1)) == 1
    assert _refused(Options(0, 1, 2), True) == "v must be one of 0, 1, 2; got True"
    assert _refused(Options(0, 1, 2), 1.0) == "v must be one of 0, 1, 2; got 1.0"
    assert _refused(Options(0, 1), np.zeros(1)) == (
        "v must be 0 or 1; got an array of shape (1,), dtype float64")
    assert _ok(Optional(Interval(Integral, 1, None)), None) is None
    assert _refused(Optional(Interval(Integral, 1, None)), 0) == "v must be an integer >= 1; got 0"
    assert _refused(InstanceOf(dict), []) == "v must be a builtins.dict; got list"


def test_array_shapes_bind_named_dimensions(pair) -> None:
    xp, other = pair
    spec = {"A": (a(xp, np.ones((3, 2))), Array(("n", "d"))), "y": (a(xp, np.ones(3)), Array(("n",)))}
    out = validate("f", spec)
    assert out.dims == {"n": 3, "d": 2} and len(out) == 2 and out.xp is not None
    with pytest.raises(ValueError) as info:
        validate("f", {"y": (a(xp, np.ones(4)), Array(("n",)))}, dims={"n": 3}, origin="the data")
    assert str(info.value) == "f: y must have shape (n=3,) to match the data; got shape (4,)"
    assert _ok(Array((2, None)), a(xp, np.ones((2, 7)))).shape == (2, 7)
    assert _refused(Array((2, None)), a(xp, np.ones((3, 7)))) == "v must have shape (2, *); got shape (3, 7)"
    assert _refused(Array(("k",)), a(xp, np.ones((1, 1)))) == "v must have 1 dimension, shape (k,); got shape (1, 1)"
    assert _ok(Array(nonempty=False), a(xp, np.ones((0,)))).shape == (0,)
    assert _refused(Array(), a(xp, np.ones((2, 0)))) == "v must be non-empty; got shape (2, 0)"
    assert _ok(Array(finite=False), a(xp, [math.nan])).shape == (1,)
    assert _refused(Array(), a(xp, [math.nan, math.inf])) == (
        "v must be finite; it contains NaN and infinity (an array of shape (2,), dtype float64)")


def test_matrix_constraints_at_their_rounding_tolerance(pair) -> None:
    xp, _ = pair
    eps = np.finfo(np.float64).eps
    tol = 100 * 2 * eps                       # 100·p·eps·max|H| with p = 2, max|H| = 1
    inside = np.array([[1.0, 0.5], [0.5 + 0.5 * tol, 1.0]])
    outside = np.array([[1.0, 0.5], [0.5 + 2 * tol, 1.0]])
    assert _ok(Array(matrix="symmetric"), a(xp, inside)).shape == (2, 2)
    msg = _refused(Array(matrix="symmetric"), a(xp, outside))
    assert re.fullmatch(r"v must be symmetric; max \|H - Hᵀ\| = 8\.88e-14", msg), msg
    # psd: eigenvalues 0 and 2 accepted; -1e-3 is far below the rounding tolerance.
    assert _ok(Array(matrix="psd"), a(xp, [[1.0, 1.0], [1.0, 1.0]])).shape == (2, 2)
    assert _refused(Array(matrix="psd"), a(xp, [[1.0, 0.0], [0.0, -1e-3]])) == (
        "v must be positive semi-definite; smallest eigenvalue -0.001")
    assert _refused(Array(matrix="spd"), a(xp, [[1.0, 1.0], [1.0, 1.0]])) == (
        "v must be symmetric positive definite; smallest eigenvalue 0")
    assert _ok(Array(matrix="spd"), a(xp, [[2.0, 1.0], [1.0, 2.0]])).shape == (2, 2)
    assert _refused(Array(matrix="psd"), a(xp, np.ones((2, 3)))) == (
        "v must be square in its last two axes; got shape (2, 3)")


def test_shape_fast_check_agrees_with_the_full_check(pair) -> None:
    xp, other = pair
    like = a(xp, np.ones((2, 3)))
    s = Shape(("R", "d"), dims={"R": None, "d": 3}, like=like)
    s("M", "x", a(xp, np.ones((5, 3))))                  # passes: any R
    with pytest.raises(ValueError) as info:
        s("M", "x", a(xp, np.ones((5, 4))))
    assert str(info.value) == "M: x must have shape (R, d=3) to match the model; got shape (5, 4)"
    with pytest.raises(TypeError) as info:
        s("M", "x", a(other, np.ones((5, 3))))
    assert str(info.value) == (
        f"M: arrays from different namespaces cannot be mixed: the model's arrays from {_ns(xp)}, "
        f"x from {_ns(other)}; {MIX}")
    with pytest.raises(TypeError) as info:
        s("M", "x", (1.0, 2.0, 3.0))
    assert str(info.value) == f"M: x must be an array; got tuple (1.0, 2.0, 3.0) {HINT}"


def test_namespace_for_prefers_the_arrays(pair) -> None:
    xp, other = pair
    x = a(xp, [1.0])
    assert _ns(namespace_for(None, x)) == _ns(xp)
    assert _ns(namespace_for(xp, 3.0, None)) == _ns(xp)
    assert namespace_for().__name__.split(".")[-1] == "numpy"
    with pytest.raises(TypeError, match="arrays from different namespaces cannot be mixed"):
        namespace_for(None, x, a(other, [1.0]))


def test_describe_never_prints_array_entries() -> None:
    assert describe(np.zeros((1000, 3))) == "an array of shape (1000, 3), dtype float64"
    assert describe(np.float64(0.5)) == "0.5"
    assert describe(list(range(100))).startswith("list [0, 1, 2") and len(describe(list(range(100)))) < 50
    assert describe(None) == "None"
