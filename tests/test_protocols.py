r"""Every model and update rule of :mod:`numerics` against the contracts of
:mod:`numerics.protocols`: structurally (``isinstance``) and by behaviour.

The classes are *discovered*: every public class defined in a module of :mod:`numerics`
that has a model method (``loss``, ``grad``, ``hvp``, ``batch_grad``, ``per_sample_grads``)
is a model, and every one with a ``step`` (or deriving from :class:`numerics.optim.Rule`) is
a rule. A new class is therefore covered automatically, and the test fails until it has an
entry in :data:`MODELS` or :data:`RULES` (a tiny instance) and satisfies the protocol.

Behaviour, on NumPy and array_api_strict, with a replica axis (R = 3):

- shapes, namespace and dtype of ``loss`` ``(R,)``, ``grad`` ``(R, p)``, ``hvp`` ``(R, p)``,
  ``batch_grad`` ``(R, p)``, ``per_sample_grads`` ``(R, n, p)``;
- ``grad`` against central finite differences of ``loss`` along random unit directions, and
  ``hvp`` against central finite differences of ``grad`` (tolerance derived below);
- ``batch_grad`` over every sample once and the mean of ``per_sample_grads`` equal ``grad``
  (the unbiasedness SGD relies on); ``target_shift`` enters a label-noise model's minibatch
  gradient as :math:`-c\sum_i\varepsilon_i\nabla f_i`;
- each rule's ``init``/``step`` keep shape, namespace and dtype; a rule that injects no
  noise leaves a stationary point of every sample where it is, and its small step decreases
  the loss.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np
import pytest

import numerics
from numerics import protocols as P
from numerics.backend import to_numpy
from numerics.optim import Rule

R = 3
EPS = float(np.finfo(np.float64).eps)
# Central differences (f(x+hu) - f(x-hu)) / 2h with |u| = 1 err by at most
# h²/6·|f'''| (truncation) + eps·|f|/h (each evaluation rounded to eps·|f|). The step
# h = eps^(1/3) balances the two at eps^(2/3)·(|f| + |f'''|/6) ≈ 3.7e-11·(...).
H_FD = EPS ** (1 / 3)
# The instances below have O(1) data and parameters, so along a unit direction the third
# derivative and the rounding of the O(n·p) operations inside one evaluation are bounded by
# a modest multiple of the function's scale S = max(1, |f| near x): we allow
# |f'''|/6 + |f| + rounding ≤ 1e3·S. Measured worst error/(eps^(2/3)·S) over all models, on
# NumPy and array_api_strict: 1.4 (grad against loss) and 1.2 (hvp against grad), so the
# factor leaves a margin of ~700; a gradient off by a relative 1e-6 is still caught
# (``test_finite_difference_tolerance_has_power``: the smallest error/tolerance is 8.9).
FD_FACTOR = 1e3


def fd_tolerance(scale: Any) -> Any:
    """The finite-difference tolerance for a function of scale ``scale`` (host floats)."""
    return FD_FACTOR * EPS ** (2 / 3) * np.maximum(1.0, scale)


# Equalities of two summation orders of n terms (batch over all samples vs the full
# gradient): |error| ≤ γ_n·Σ|t_i| ≈ n·eps·Σ|t_i|; at these random points Σ|t_i| is within a
# factor 10 of max(1, |grad|), and n ≤ 8, so 100·n·eps·max(1, |grad|_∞). Measured worst
# error/(n·eps·max(1, |grad|_∞)) over all minibatch models and both namespaces: 0.37.
def sum_tolerance(n: int, scale: Any) -> Any:
    return 100 * n * EPS * np.maximum(1.0, scale)


# --------------------------------------------------------------------- discovery
MODEL_METHODS = ("loss", "grad", "hvp", "batch_grad", "per_sample_grads")


def _numerics_classes() -> list[type]:
    out = []
    for info in pkgutil.iter_modules(numerics.__path__):
        if info.name.startswith("_") or info.name == "protocols":
            continue
        mod = importlib.import_module(f"numerics.{info.name}")
        for name, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ == mod.__name__ and not name.startswith("_"):
                out.append(cls)
    return out


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


ALL_CLASSES = _numerics_classes()
# Models that cannot run on NumPy and array_api_strict, with where their protocol tests are.
NOT_ARRAY_API = {
    "numerics.torch_model.TorchModel": "wraps a torch.nn.Module, so its arrays are torch "
                                       "tensors; tests/numerics/test_torch_model.py",
}
MODEL_CLASSES = sorted(_qualname(c) for c in ALL_CLASSES
                       if any(callable(getattr(c, m, None)) for m in MODEL_METHODS)
                       and _qualname(c) not in NOT_ARRAY_API)
# numerics.optim.Rule is the base class itself (its step raises NotImplementedError).
RULE_CLASSES = sorted(_qualname(c) for c in ALL_CLASSES
                      if (callable(getattr(c, "step", None)) or issubclass(c, Rule))
                      and c is not Rule)


# ------------------------------------------------------------- tiny instances
def _host(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _least_squares(xp: Any) -> Any:
    return numerics.LeastSquares(xp.asarray(_host(1, 4, 3)), xp.asarray(_host(2, 4)))


def _two_layer(xp: Any) -> Any:
    from numerics.two_layer import TwoLayerReLU

    return TwoLayerReLU(xp.asarray(_host(3, 5, 2)), xp.asarray(_host(4, 5)), 3)


def _population(xp: Any) -> Any:
    from numerics.two_layer import Teacher, TwoLayerPopulation

    teacher = Teacher(xp.asarray([1.0, -0.5]), xp.asarray(_host(5, 2, 3)))
    return TwoLayerPopulation(teacher, 3)


def _sum_of_quadratics(xp: Any) -> Any:
    from numerics.stability import SumOfQuadratics

    M = _host(6, 4, 3, 3)
    return SumOfQuadratics(xp.asarray(M @ np.swapaxes(M, -1, -2)))


def _residual_net(xp: Any) -> Any:
    from numerics.classification import ResidualReLUNet

    return ResidualReLUNet(xp.asarray(_host(7, 6, 2)), xp.asarray([1.0, -1.0] * 3),
                           width=3, depth=1)


def _diagonal(xp: Any) -> Any:
    from numerics.diagonal import DiagonalNet

    return DiagonalNet(xp.asarray(_host(8, 3, 4)), xp.asarray(_host(9, 3)))


def _precond_H(xp: Any) -> Any:
    return xp.asarray(np.eye(3) + 0.3 * _host(10, 3, 3))


MODELS: dict[str, Callable[[Any], Any]] = {
    "numerics.linear.LeastSquares": _least_squares,
    "numerics.linear.Preconditioned": lambda xp: importlib.import_module("numerics.linear")
    .Preconditioned(_least_squares(xp), _precond_H(xp)),
    "numerics.diagonal.DiagonalNet": _diagonal,
    "numerics.factorization.MatrixSensing": lambda xp: importlib.import_module(
        "numerics.factorization").MatrixSensing(xp.asarray(_host(11, 4, 2, 3)),
                                                xp.asarray(_host(12, 4)), rank=2),
    "numerics.mlp.MLP": lambda xp: importlib.import_module("numerics.mlp").MLP(
        xp.asarray(_host(13, 5, 2)), xp.asarray(_host(14, 5, 2)), widths=(3,)),
    "numerics.two_layer.TwoLayerReLU": _two_layer,
    "numerics.two_layer.TwoLayerPopulation": _population,
    "numerics.two_layer.RandomFeatures": lambda xp: importlib.import_module(
        "numerics.two_layer").RandomFeatures(_two_layer(xp), xp.asarray(_host(15, 3, 2))),
    "numerics.classification.LogisticRegression": lambda xp: importlib.import_module(
        "numerics.classification").LogisticRegression(
            xp.asarray(_host(16, 6, 2)), xp.asarray([1.0, -1.0] * 3)),
    "numerics.classification.ResidualReLUNet": _residual_net,
    "numerics.stability.SumOfQuadratics": _sum_of_quadratics,
    "numerics.stability.PiecewiseQuadratic1D": lambda xp: importlib.import_module(
        "numerics.stability").escape_example(xp=xp),
    "numerics.langevin.TwoWellPotential": lambda xp: importlib.import_module(
        "numerics.langevin").TwoWellPotential(2, a=1.0, k=2.0),
    "numerics.langevin.HarmonicWell": lambda xp: importlib.import_module(
        "numerics.langevin").HarmonicWell(2, a=1.5),
}


# The one documented exception to "grad is the gradient of loss": Preconditioned returns
# H⁻¹∇L (GD on it is the scaled method), so ∇L = H·grad, row-wise grad @ Hᵀ.
GRADIENT_OF_LOSS: dict[str, Callable[[Any, Any], Any]] = {
    "numerics.linear.Preconditioned": lambda xp, g: g @ xp.matrix_transpose(_precond_H(xp)),
}


def _loss_gradient(name: str, model: Any, xp: Any) -> Callable[[Any], Any]:
    """``x -> ∇L(x)`` as the model's contract defines it from ``grad``."""
    if name in GRADIENT_OF_LOSS:
        return lambda x: GRADIENT_OF_LOSS[name](xp, model.grad(x))
    return model.grad


def _point(model: Any, xp: Any, seed: int = 20) -> Any:
    """R generic parameter points (away from kinks for the piecewise models, with these
    seeds), of the model's dimension."""
    p = P.parameter_dimension(model)
    assert p is not None, f"{model!r} declares neither p nor d"
    return xp.asarray(0.7 * _host(seed, R, p) + 0.3)


def _model_cases() -> list[Any]:
    return [pytest.param(name, id=name.removeprefix("numerics.")) for name in MODEL_CLASSES]


# ------------------------------------------------------------------ structure
def test_every_model_and_rule_class_has_a_tiny_instance() -> None:
    assert MODEL_CLASSES and RULE_CLASSES, "discovery found nothing: the walk is broken"
    missing = sorted(set(MODEL_CLASSES) - set(MODELS))
    assert not missing, (f"model classes without an entry in tests/test_protocols.py MODELS: "
                         f"{missing}")
    missing = sorted(set(RULE_CLASSES) - set(RULES))
    assert not missing, f"rule classes without an entry in tests/test_protocols.py RULES: {missing}"
    stale = sorted((set(MODELS) - set(MODEL_CLASSES)) | (set(RULES) - set(RULE_CLASSES)))
    assert not stale, f"entries for classes that are gone or no longer look like one: {stale}"


@pytest.mark.parametrize("name", _model_cases())
def test_model_satisfies_the_protocols_it_claims(name: str) -> None:
    model = MODELS[name](numerics.get_namespace("numpy"))
    assert _qualname(type(model)) == name
    assert isinstance(model, P.Model), f"{name} looks like a model but lacks loss/grad"
    # A class that has the method of a capability must satisfy the whole capability.
    if hasattr(model, "batch_grad"):
        assert isinstance(model, P.MinibatchModel), f"{name} has batch_grad but no n"
    if hasattr(model, "per_sample_grads"):
        assert isinstance(model, P.PerSampleModel), f"{name} has per_sample_grads but no n"
    if "target_shift" in inspect.signature(getattr(model, "batch_grad", lambda: 0)).parameters:
        assert isinstance(model, P.LabelNoiseModel)
    assert P.parameter_dimension(model) is not None, f"{name} declares neither p nor d"


@pytest.mark.parametrize("name", sorted(RULE_CLASSES))
def test_rule_satisfies_update_rule(name: str) -> None:
    rule, _ = RULES[name](numerics.get_namespace("numpy"))
    assert _qualname(type(rule)) == name
    assert isinstance(rule, P.UpdateRule)
    assert isinstance(rule.stochastic, bool)


def test_generator_is_a_random_source(xp: Any) -> None:
    gen = numerics.default_rng(0, xp=xp)
    assert isinstance(gen, P.RandomSource)
    idx = gen.choice_without_replacement(5, 2, (R,))
    assert tuple(idx.shape) == (R, 2) and idx.dtype == xp.int64


def test_estimates_are_measurements() -> None:
    from numerics import sharpness

    xp = numerics.get_namespace("numpy")
    H = xp.asarray(np.diag([3.0, 1.0]))
    hvp = lambda v: v @ H  # noqa: E731
    loss = lambda x: 0.5 * xp.sum((x @ H) * x, axis=-1)  # noqa: E731
    x = xp.zeros((R, 2))
    estimates = [
        sharpness.top_eigenvalue(hvp, xp.ones((R, 2))),
        sharpness.hessian_trace(hvp, (R, 2), rng=0, matvecs=6),
        sharpness.pac_bayes_sharpness(loss, x, sigma=0.1, samples=4, rng=0),
        sharpness.flatness_radius(loss, x, epsilon=0.1, directions=2, rng=0, r_max=2.0),
        sharpness.epsilon_sharpness(loss, hvp, x, epsilon=0.1, steps=2, rng=0),
    ]
    # Every estimate dataclass of the module is covered, and each is a Measurement.
    classes = {c for _, c in inspect.getmembers(sharpness, inspect.isclass)
               if c.__module__ == sharpness.__name__ and c.__name__.endswith("Estimate")}
    assert classes == {type(e) for e in estimates}
    for est in estimates:
        assert isinstance(est, P.Measurement)
        assert tuple(est.value.shape) == (R,)


# ------------------------------------------------------------------ behaviour
def _ns(a: Any) -> str:
    return array_api_compat.array_namespace(a).__name__


def _check_array(name: str, a: Any, shape: tuple[int, ...], xp: Any) -> None:
    assert hasattr(a, "shape"), f"{name} returned {type(a).__name__}, not an array"
    assert tuple(a.shape) == shape, f"{name} has shape {tuple(a.shape)}, expected {shape}"
    assert _ns(a) == array_api_compat.array_namespace(xp.zeros(1)).__name__, (
        f"{name} returned an array of {_ns(a)}")
    assert a.dtype == xp.float64, f"{name} has dtype {a.dtype}, expected float64"


def _directions(xp: Any, p: int, seed: int) -> Any:
    u = _host(seed, R, p)
    return xp.asarray(u / np.linalg.norm(u, axis=-1, keepdims=True))


def _fd_grad_errors(model: Any, x: Any, xp: Any, grad: Callable[[Any], Any]) -> tuple[Any, Any]:
    """|FD − ⟨grad, u⟩| and the tolerance, over R replicas and 3 directions (host arrays)."""
    p = x.shape[-1]
    g = grad(x)
    errs, tols = [], []
    for seed in range(3):
        u = _directions(xp, p, 100 + seed)
        lp, lm = to_numpy(model.loss(x + H_FD * u)), to_numpy(model.loss(x - H_FD * u))
        fd = (lp - lm) / (2 * H_FD)
        errs.append(np.abs(fd - to_numpy(xp.sum(g * u, axis=-1))))
        tols.append(fd_tolerance(np.maximum(np.abs(lp), np.abs(lm))))
    return np.stack(errs), np.stack(tols)


@pytest.mark.parametrize("name", _model_cases())
def test_model_shapes_and_gradient_against_finite_differences(name: str, xp: Any) -> None:
    if array_api_compat.is_torch_namespace(xp) or array_api_compat.is_cupy_namespace(xp):
        pytest.skip("the contract test runs on NumPy and array_api_strict")
    model = MODELS[name](xp)
    x = _point(model, xp)
    p = x.shape[-1]
    _check_array(f"{name}.loss", model.loss(x), (R,), xp)
    _check_array(f"{name}.grad", model.grad(x), (R, p), xp)
    err, tol = _fd_grad_errors(model, x, xp, _loss_gradient(name, model, xp))
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert np.all(err <= tol), (
        f"{name}.grad disagrees with central differences of loss: error "
        f"{err[worst]:.3g} > tolerance {tol[worst]:.3g}")


@pytest.mark.parametrize("name", [c for c in _model_cases()
                                  if isinstance(MODELS[c.values[0]](numerics.get_namespace("numpy")),
                                                P.HVPModel)])
def test_hvp_against_finite_differences_of_grad(name: str, xp: Any) -> None:
    if array_api_compat.is_torch_namespace(xp) or array_api_compat.is_cupy_namespace(xp):
        pytest.skip("the contract test runs on NumPy and array_api_strict")
    model = MODELS[name](xp)
    x = _point(model, xp)
    p = x.shape[-1]
    for seed in range(3):
        u = _directions(xp, p, 200 + seed)
        hv = model.hvp(x, u)
        _check_array(f"{name}.hvp", hv, (R, p), xp)
        gp, gm = to_numpy(model.grad(x + H_FD * u)), to_numpy(model.grad(x - H_FD * u))
        fd = (gp - gm) / (2 * H_FD)
        err = np.max(np.abs(fd - to_numpy(hv)), axis=-1)
        tol = fd_tolerance(np.maximum(np.max(np.abs(gp), axis=-1), np.max(np.abs(gm), axis=-1)))
        assert np.all(err <= tol), (
            f"{name}.hvp disagrees with central differences of grad: max error "
            f"{err.max():.3g} > tolerance {tol.min():.3g}")


def test_finite_difference_tolerance_has_power() -> None:
    """A gradient off by a relative 1e-6 fails the comparison on every model: the tolerance
    is not so wide that it passes whatever ``grad`` returns."""
    xp = numerics.get_namespace("numpy")
    for name in MODEL_CLASSES:
        model = MODELS[name](xp)
        x = _point(model, xp)
        grad = _loss_gradient(name, model, xp)
        err, tol = _fd_grad_errors(model, x, xp, lambda z: (1 + 1e-6) * grad(z))
        assert np.any(err > tol), f"{name}: a 1e-6 relative error in grad goes unnoticed"


@pytest.mark.parametrize("name", [c for c in _model_cases()
                                  if isinstance(MODELS[c.values[0]](numerics.get_namespace("numpy")),
                                                P.MinibatchModel)])
def test_minibatch_gradients_average_to_the_gradient(name: str, xp: Any) -> None:
    if array_api_compat.is_torch_namespace(xp) or array_api_compat.is_cupy_namespace(xp):
        pytest.skip("the contract test runs on NumPy and array_api_strict")
    model = MODELS[name](xp)
    x = _point(model, xp)
    p, n = x.shape[-1], model.n
    assert isinstance(n, int) and n >= 1, f"{name}.n = {n!r}"
    g = to_numpy(model.grad(x))
    tol = sum_tolerance(n, np.max(np.abs(g)))
    every = xp.broadcast_to(xp.arange(n, dtype=xp.int64)[None, :], (R, n))
    bg = model.batch_grad(x, every)
    _check_array(f"{name}.batch_grad", bg, (R, p), xp)
    assert np.max(np.abs(to_numpy(bg) - g)) <= tol, f"{name}.batch_grad over all samples != grad"
    # A batch in another order is the same batch.
    rev = xp.broadcast_to(xp.arange(n - 1, -1, -1, dtype=xp.int64)[None, :], (R, n))
    assert np.max(np.abs(to_numpy(model.batch_grad(x, rev)) - g)) <= tol
    if isinstance(model, P.PerSampleModel):
        ps = model.per_sample_grads(x)
        _check_array(f"{name}.per_sample_grads", ps, (R, n, p), xp)
        assert np.max(np.abs(to_numpy(xp.mean(ps, axis=1)) - g)) <= tol, (
            f"{name}: the mean of per_sample_grads is not grad")


@pytest.mark.parametrize("name", [c for c in _model_cases()
                                  if isinstance(MODELS[c.values[0]](numerics.get_namespace("numpy")),
                                                P.ManifoldModel)])
def test_label_noise_shift_and_jacobian(name: str, xp: Any) -> None:
    r"""``residual``'s Jacobian is ``jacobian`` (central differences, as for ``grad``), and a
    target shift :math:`\varepsilon` over the full batch changes the gradient by
    :math:`-c\,J^T\varepsilon` (the gradient of :math:`\frac c2\sum_i(f_i - y_i - \varepsilon_i)^2`)."""
    if array_api_compat.is_torch_namespace(xp) or array_api_compat.is_cupy_namespace(xp):
        pytest.skip("the contract test runs on NumPy and array_api_strict")
    model = MODELS[name](xp)
    assert isinstance(model, P.LabelNoiseModel)
    x = _point(model, xp)
    p, n = x.shape[-1], model.n
    J = model.jacobian(x)
    _check_array(f"{name}.jacobian", J, (R, n, p), xp)
    _check_array(f"{name}.hessian_trace", model.hessian_trace(x), (R,), xp)
    u = _directions(xp, p, 300)
    rp, rm = to_numpy(model.residual(x + H_FD * u)), to_numpy(model.residual(x - H_FD * u))
    fd = (rp - rm) / (2 * H_FD)
    err = np.abs(fd - to_numpy((J @ u[..., None])[..., 0]))
    assert np.all(err <= fd_tolerance(np.maximum(np.abs(rp), np.abs(rm)))), f"{name}.jacobian"
    every = xp.broadcast_to(xp.arange(n, dtype=xp.int64)[None, :], (R, n))
    shift = xp.asarray(_host(301, R, n))
    base = model.batch_grad(x, every)
    shifted = model.batch_grad(x, every, target_shift=shift)
    expected = -model.c * (shift[:, None, :] @ J)[:, 0, :]
    scale = np.max(np.abs(to_numpy(base)))
    assert np.max(np.abs(to_numpy(shifted - base - expected))) <= sum_tolerance(n, scale)
    none = to_numpy(model.batch_grad(x, every, target_shift=None))
    np.testing.assert_array_equal(none, to_numpy(base))


# --------------------------------------------------------------------- rules
def _interpolation(xp: Any) -> tuple[Any, Any]:
    """A least-squares model and a point where every sample's gradient is exactly zero
    (``y = 0`` at ``x = 0``: the residuals are exact zeros)."""
    model = numerics.LeastSquares(xp.asarray(_host(30, 4, 3)), xp.zeros(4, dtype=xp.float64))
    return model, xp.zeros((R, 3), dtype=xp.float64)


def _label_noise(xp: Any, delta: float) -> Any:
    from numerics.label_noise import LabelNoiseSGD

    return LabelNoiseSGD(eta=1e-3, delta=delta, batch=3)


# name -> xp -> (rule, the model it needs: "least_squares" or "label_noise"); rules that
# inject noise (Langevin; label noise with δ > 0) are marked, the others must keep a point
# where every sample gradient vanishes and descend for a small step.
RULES: dict[str, Callable[[Any], tuple[Any, dict[str, Any]]]] = {
    "numerics.optim.GD": lambda xp: (numerics.GD(1e-3), {}),
    "numerics.optim.SGD": lambda xp: (numerics.SGD(1e-3, batch=4), {}),
    "numerics.adaptive.Adam": lambda xp: (importlib.import_module("numerics.adaptive").Adam(1e-4), {}),
    "numerics.adaptive.RMSprop": lambda xp: (
        importlib.import_module("numerics.adaptive").RMSprop(1e-5, batch=4), {}),
    "numerics.label_noise.LabelNoiseSGD": lambda xp: (
        _label_noise(xp, 0.0), {"model": "label_noise", "batch": 3}),
    "numerics.langevin.Langevin": lambda xp: (
        importlib.import_module("numerics.langevin").Langevin(1e-3, 0.5), {"noise": True}),
    "numerics.data.ReplicaGD": lambda xp: (
        importlib.import_module("numerics.data").ReplicaGD(xp.asarray([1e-3, 2e-3, 5e-4])), {}),
}


def _rule_model(kind: str, xp: Any) -> tuple[Any, Any]:
    if kind == "label_noise":
        model = _diagonal(xp)
        return model, xp.asarray(0.5 * _host(31, R, model.p))
    model = _least_squares(xp)
    return model, xp.asarray(_host(32, R, 3))


@pytest.mark.parametrize("name", sorted(RULE_CLASSES))
def test_rule_step_contract(name: str, xp: Any) -> None:
    if array_api_compat.is_torch_namespace(xp) or array_api_compat.is_cupy_namespace(xp):
        pytest.skip("the contract test runs on NumPy and array_api_strict")
    rule, meta = RULES[name](xp)
    model, x = _rule_model(meta.get("model", "least_squares"), xp)
    rng = numerics.default_rng(0, xp=xp)
    state = rule.init(model, x)
    x1, state1 = rule.step(model, x, state, rng if rule.stochastic else None)
    _check_array(f"{name}.step", x1, tuple(x.shape), xp)
    assert np.all(np.isfinite(to_numpy(x1)))
    x2, _ = rule.step(model, x1, state1, rng if rule.stochastic else None)
    _check_array(f"{name}.step (second)", x2, tuple(x.shape), xp)
    if meta.get("noise"):
        assert not np.array_equal(to_numpy(x1), to_numpy(x)), f"{name} injected no noise"
        return
    # Descent: a small step along the gradient (or, for Adam and RMSprop, a positive
    # diagonal rescaling of it) lowers the loss of every replica. The minibatch rules use
    # B = n without replacement, the full gradient, so the claim holds for every draw.
    assert np.all(to_numpy(model.loss(x1)) < to_numpy(model.loss(x))), f"{name} did not descend"
    # Stationary points of every sample are fixed points of a noise-free rule.
    if meta.get("model") == "label_noise":
        # θ = 0 with targets 0: u∘u − v∘v = 0 fits every sample exactly.
        z = xp.zeros((R, model.p), dtype=xp.float64)
        zmodel = importlib.import_module("numerics.diagonal").DiagonalNet(
            model.X, xp.zeros(model.n, dtype=xp.float64))
    else:
        zmodel, z = _interpolation(xp)
    zstate = rule.init(zmodel, z)
    z1, _ = rule.step(zmodel, z, zstate, rng if rule.stochastic else None)
    np.testing.assert_array_equal(to_numpy(z1), to_numpy(z))
