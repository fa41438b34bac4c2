r"""Generic checks of any :class:`theory.Model`'s derived results, registered for the worked
models of the ``models`` topic (and, through :func:`register_checks`, for a model of one's own).

Each check takes the Result of one claim (or its mutant under ``implreg power``) and tests it
against what the *other* claims of the model compute through
:class:`verify.models.CompiledModel` — never against the claim itself:

* ``loss`` — the statement :math:`\frac1n\sum_i\ell_i` against the mean of its own
  ``per_sample`` part on a random data set (rounding only);
* ``gradient`` — against central differences of the compiled loss along each coordinate;
* ``hessian`` — its columns (``hvp`` with :math:`e_k`) against central differences of the
  compiled gradient;
* ``per_sample_gradient`` — the mean over the samples against the compiled gradient;
* ``gauss_newton`` — equal to the compiled Hessian on labels that interpolate,
  :math:`y_i = f(\theta; x_i)` (its ``per_sample_model`` part), where the residual term
  :math:`\frac1n\sum_i(f_i - y_i)\nabla^2 f_i` vanishes;
* ``label_noise_regularizer`` — :math:`\tfrac14\operatorname{Tr}` of the compiled Hessian,
  on random data and (``at_minimum``) at the model's minimum;
* ``gd_threshold`` — the Hessian at the minimum, its top eigenvalue (exact ``eigvalsh`` and
  Lanczos on the compiled ``hvp``), and GD on **both** sides of the threshold.

Finite differences, derived. :math:`D_h = (F(\theta + he_k) - F(\theta - he_k))/2h` differs
from :math:`\partial_kF` by at most :math:`\tfrac{h^2}6\max|\partial_k^3F|` (truncation) plus
:math:`\delta F/h` (each evaluation rounded by :math:`\delta F`). The third derivative is the
model's own, computed by SymPy from the loss and evaluated at θ (taken twice, plus the same
bound at θ ± h, to cover its change over the interval); :math:`\delta F` is the
floating-point budget of :func:`verify.tolerance.floating_point` with the operation count of
the sum over samples. With :math:`h = \varepsilon^{1/3}\max(1, |\theta_k|)` both terms are
:math:`O(\varepsilon^{2/3})\approx 4\cdot10^{-11}` times the scales — a relative slip of
1e-6 in a derivative is far outside.

GD threshold on both sides. From :math:`\theta^* + a v` (:math:`v` the top eigenvector,
:math:`a = 10^{-6}`) GD at :math:`\eta = (1\mp\delta)\eta_c` multiplies the top mode by
:math:`1 - \eta\lambda_{\max}`, of modulus :math:`1 \mp 2\delta` if :math:`\eta_c = 2/\lambda_{\max}`.
The observed per-step rate :math:`(\|\theta_K - \theta^*\|/\|\theta_0 - \theta^*\|)^{1/K}` must
be within :math:`\delta/2` of it. δ = 0.04: a constant off by 10 % (×11/10 or ×10/11) moves
the rate on one side by ≥ 0.11 — five times the width. The width covers the linearization
error (relative :math:`a(1 + 2\delta)^K\,|\nabla^3L|/\lambda_{\max} \lesssim 10^{-3}` at
K = 60) and the flat modes' share of the start (the Lanczos vector's residual, ≤ 1e-8,
against :math:`(1 - 2\delta)^K \approx 7\cdot10^{-3}`).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from numerics import GD, run, to_numpy
from numerics.sharpness import top_eigenvalue
from verify import tolerance as tol
from verify.models import CompiledModel
from verify.outcome import Outcome
from verify.registry import check
from verify.strategies import host_rng, seeds

__all__ = ["register_checks", "DELTA", "STEPS"]

EPS = tol.EPS64
H_REL = EPS ** (1 / 3)
#: relative margin on each side of the GD threshold (module docstring)
DELTA = 0.04
#: GD steps on each side of the threshold
STEPS = 60
#: start offset along the top eigenvector
OFFSET = 1e-6
R = 3  # replicas: three random points per example


# ============================================================================ problems
def _strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"n": st.integers(1, 5), "seed": seeds})


def _random_data(model: Any, p: dict[str, Any]) -> dict[str, np.ndarray]:
    rng = host_rng(p, 1)
    return {s.name: rng.standard_normal(p["n"]) for s in model.data}


def _random_point(model: Any, p: dict[str, Any]) -> np.ndarray:
    return host_rng(p, 2).standard_normal((R, len(model.params)))


def _explicit_data(model: Any) -> dict[str, np.ndarray]:
    assert model.dataset is not None or not model.data
    return {s.name: np.array([float(v) for v in model.dataset[s]]) for s in model.data}


def _minimum(model: Any) -> np.ndarray:
    return np.array([[float(model.minimum[q]) for q in model.params]])


def _ops(model: Any, n: int) -> float:
    """Operations of one loss evaluation: n samples × (the per-sample expression + 1)."""
    return float(n * (sp.count_ops(model.ell) + 1) + 1)


@functools.cache
def _derivative(model: Any, orders: tuple[int, ...]) -> sp.ImmutableMatrix:
    """∂^{orders} of the per-sample loss, one entry per parameter k: orders = (3,) gives
    ∂_k³ℓ; (1, 3) gives the matrix ∂_j∂_k³ℓ (row j, column k). Means over samples later."""
    ps = model.params
    if orders == (3,):
        return sp.ImmutableMatrix([sp.diff(model.ell, q, 3) for q in ps])
    return sp.ImmutableMatrix([[sp.diff(model.ell, a, 1, b, 3) for b in ps] for a in ps])


@functools.cache
def _derivative_fn(model: Any, orders: tuple[int, ...]) -> Any:
    return sp.lambdify([*model.params, *model.data], _derivative(model, orders), "numpy")


def _bound_of(model: Any, orders: tuple[int, ...], x: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
    """max over the samples of |the derivative| at each row of x: ``(R, p)`` for (3,),
    ``(R, p, p)`` for (1, 3). Host NumPy through SymPy's lambdify: it sizes a tolerance and
    evaluates no claim."""
    f = _derivative_fn(model, orders)
    n = len(next(iter(data.values()))) if model.data else 1
    out = []
    for row in x:
        vals = [np.abs(np.asarray(f(*row, *[data[s.name][j] for s in model.data]), dtype=float))
                for j in range(n)]
        out.append(np.max(vals, axis=0))
    arr = np.asarray(out)
    return arr[:, :, 0] if orders == (3,) else arr


def _close(pred: Any, obs: Any, t: np.ndarray, reason: str, *, quantity: str, **details: Any) -> Outcome:
    """Elementwise |obs − pred| ≤ t; reports the element with the least slack."""
    pred, obs = np.broadcast_arrays(np.asarray(pred, dtype=float), np.asarray(obs, dtype=float))
    tv = np.broadcast_to(np.asarray(t, dtype=float), pred.shape)
    used = np.where(np.isfinite(obs), np.abs(obs - pred) / np.maximum(tv, 1e-300), np.inf)
    j = np.unravel_index(int(np.argmax(used)), used.shape) if used.ndim else ()
    return Outcome.close(pred[j], obs[j], tol.Tolerance(float(tv[j]), reason), quantity=quantity,
                         elements=int(pred.size), **details)


def _fp(scale: np.ndarray, ops: float) -> np.ndarray:
    return 10.0 * ops * EPS * np.maximum(1.0, np.abs(scale))


def _compiled(model: Any, data: dict[str, np.ndarray], xp: Any, **results: Any) -> CompiledModel:
    return CompiledModel.from_model(model, {k: xp.asarray(v) for k, v in data.items()}, xp=xp,
                                    results=results)


# ============================================================================ checks
def check_loss(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The statement (1/n)Σℓ_i against the mean of its ``per_sample`` part (rounding:
    10·ops·ε·max(1, |ℓ|), ops = n·(operations of ℓ + 1))."""
    data = _random_data(model, p)
    x = _random_point(model, p)
    m = _compiled(model, data, xp, loss=result)
    L = to_numpy(m.loss(xp.asarray(x)))
    f = result.numeric(xp, part="per_sample")
    args = {q.name: xp.asarray(x[:, k][:, None]) for k, q in enumerate(model.params)}
    args.update({k: xp.asarray(v[None, :]) for k, v in data.items()})
    per = np.broadcast_to(to_numpy(f(**{a: args[a] for a in f.arguments})), (R, max(1, p["n"] if model.data else 1)))
    mean = per.mean(axis=1)
    return _close(mean, L, _fp(np.abs(per).max(axis=1), _ops(model, per.shape[1])),
                  "floating point: 10·ops·ε·max(1, max|ℓ_i|)", quantity="L vs mean of ℓ_i")


def check_gradient(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """∇L (the statement) against central differences of the compiled loss along each
    coordinate; the truncation and rounding bound of the module docstring."""
    data = _random_data(model, p)
    x = _random_point(model, p)
    m = _compiled(model, data, xp, gradient=result)
    g = to_numpy(m.grad(xp.asarray(x)))
    fd, t = np.zeros_like(g), np.zeros_like(g)
    ops = _ops(model, p["n"])
    for k in range(x.shape[1]):
        h = H_REL * np.maximum(1.0, np.abs(x[:, k]))
        e = np.zeros_like(x)
        e[:, k] = h
        lp, lm = to_numpy(m.loss(xp.asarray(x + e))), to_numpy(m.loss(xp.asarray(x - e)))
        fd[:, k] = (lp - lm) / (2 * h)
        third = max_abs_over(model, (3,), [x - e, x, x + e], data)[:, k]
        t[:, k] = (h**2 / 6 * 2 * third + _fp(np.maximum(np.abs(lp), np.abs(lm)), ops) / h
                   + _fp(g[:, k], ops))
    return _close(g, fd, t, "central differences: (h²/6)·2·max|∂³L| + δL/h + δg, h = ε^(1/3)·max(1, |θ_k|)",
                  quantity="∇L vs central differences of L")


def max_abs_over(model: Any, orders: tuple[int, ...], points: list[np.ndarray],
                 data: dict[str, np.ndarray]) -> np.ndarray:
    """max over the given points (and over the samples) of the derivative's modulus."""
    return np.max([_bound_of(model, orders, pt, data) for pt in points], axis=0)


def check_hessian(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Columns of ∇²L (the statement, through the compiled ``hvp`` with e_k) against central
    differences of the compiled gradient; truncation from ∂_j∂_k³L (SymPy)."""
    data = _random_data(model, p)
    x = _random_point(model, p)
    m = _compiled(model, data, xp, hessian=result)
    P = x.shape[1]
    H, fd, t = np.zeros((R, P, P)), np.zeros((R, P, P)), np.zeros((R, P, P))
    ops = _ops(model, p["n"])
    for k in range(P):
        ek = np.zeros_like(x)
        ek[:, k] = 1.0
        H[:, :, k] = to_numpy(m.hvp(xp.asarray(x), xp.asarray(ek)))
        h = H_REL * np.maximum(1.0, np.abs(x[:, k]))
        e = ek * h[:, None]
        gp, gm = to_numpy(m.grad(xp.asarray(x + e))), to_numpy(m.grad(xp.asarray(x - e)))
        fd[:, :, k] = (gp - gm) / (2 * h[:, None])
        fourth = max_abs_over(model, (1, 3), [x - e, x, x + e], data)[:, :, k]
        t[:, :, k] = (h[:, None] ** 2 / 6 * 2 * fourth
                      + _fp(np.maximum(np.abs(gp), np.abs(gm)), ops) / h[:, None]
                      + _fp(H[:, :, k], ops))
    return _close(H, fd, t, "central differences of ∇L: (h²/6)·2·max|∂_j∂_k³L| + δg/h + δH",
                  quantity="∇²L e_k vs central differences of ∇L")


def check_per_sample_gradient(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The mean over the samples of ∇ℓ_i (the statement, through ``per_sample_grads`` and
    ``batch_grad`` over every sample) against the compiled gradient (rounding)."""
    data = _random_data(model, p)
    x = _random_point(model, p)
    m = _compiled(model, data, xp, per_sample_gradient=result)
    g = to_numpy(m.grad(xp.asarray(x)))
    per = to_numpy(m.per_sample_grads(xp.asarray(x)))
    idx = xp.asarray(np.tile(np.arange(m.n), (R, 1)), dtype=xp.int64)
    batch = to_numpy(m.batch_grad(xp.asarray(x), idx))
    t = _fp(np.abs(per).max(axis=1), _ops(model, m.n))
    return Outcome.all_of([
        _close(g, per.mean(axis=1), t, "floating point: 10·ops·ε·max|∇ℓ_i|",
               quantity="mean_i ∇ℓ_i vs ∇L"),
        _close(g, batch, t, "floating point: 10·ops·ε·max|∇ℓ_i|",
               quantity="batch_grad over every sample vs ∇L")])


def check_gauss_newton(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """G (the statement) against the compiled ∇²L on interpolating labels y_i = f(θ; x_i)
    (the ``per_sample_model`` part), where ∇²L = G exactly (rounding only). One replica: the
    labels interpolate at one θ."""
    data = _random_data(model, p)
    x = _random_point(model, p)[:1]
    f = result.numeric(xp, part="per_sample_model")
    args = {q.name: xp.asarray(x[:, k][:, None]) for k, q in enumerate(model.params)}
    args.update({k: xp.asarray(v[None, :]) for k, v in data.items()})
    fy = np.broadcast_to(to_numpy(f(**{a: args[a] for a in f.arguments})), (1, p["n"]))[0]
    data = {**data, model.target.name: np.array(fy, dtype=float)}
    m = _compiled(model, data, xp)
    H = to_numpy(m.hessian(xp.asarray(x)))
    gn = result.numeric(xp)
    args = {q.name: xp.asarray(x[:, k][:, None]) for k, q in enumerate(model.params)}
    args.update({k: xp.asarray(v) for k, v in data.items()})
    args["n"] = p["n"]
    G = np.broadcast_to(to_numpy(gn(**{a: args[a] for a in gn.arguments})),
                        (1, 1, len(model.params), len(model.params)))[:, 0]
    return _close(H, G, _fp(np.abs(H).max() + np.abs(G).max(), _ops(model, p["n"])),
                  "floating point: 10·ops·ε·max(|∇²L|, |G|)",
                  quantity="G vs ∇²L at interpolating labels")


def check_label_noise_regularizer(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """R(θ) (the statement) against ¼ Tr of the compiled Hessian on random data, and
    ``at_minimum`` against the same at the model's minimum on its data set (rounding)."""
    data = _random_data(model, p)
    x = _random_point(model, p)
    m = _compiled(model, data, xp)
    H = to_numpy(m.hessian(xp.asarray(x)))
    quarter = np.trace(H, axis1=1, axis2=2) / 4
    f = result.numeric(xp)
    args = {q.name: xp.asarray(x[:, k][:, None]) for k, q in enumerate(model.params)}
    args.update({k: xp.asarray(v) for k, v in data.items()})
    args["n"] = p["n"]
    Rv = np.broadcast_to(to_numpy(f(**{a: args[a] for a in f.arguments})), (R, 1))[:, 0]
    ops = _ops(model, p["n"]) * len(model.params)
    out = [_close(quarter, Rv, _fp(np.abs(H).max(axis=(1, 2)), ops),
                  "floating point: 10·ops·ε·max|∇²L|, ops × p for the trace",
                  quantity="R(θ) vs ¼ Tr ∇²L")]
    if model.minimum is not None:
        ms = _compiled(model, _explicit_data(model), xp)
        Hs = to_numpy(ms.hessian(xp.asarray(_minimum(model))))[0]
        at = float(to_numpy(result.numeric(xp, part="at_minimum")()))
        out.append(Outcome.close(np.trace(Hs) / 4, at, tol.floating_point(
            float(np.abs(Hs).max()), ops=ops), quantity="R(θ*) vs ¼ Tr ∇²L(θ*)"))
    return Outcome.all_of(out)


def check_gd_threshold(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The comparisons of :func:`threshold_outcomes`, all of which must pass."""
    return Outcome.all_of(threshold_outcomes(model, p, xp, result))


def threshold_outcomes(model: Any, p: dict[str, Any], xp: Any, result: Any) -> list[Outcome]:
    """At the model's minimum on its data set: the ``hessian_at_minimum`` part against the
    compiled Hessian; ``lambda_max`` against ``eigvalsh`` of it and Lanczos on the compiled
    ``hvp``; the threshold η_c (the statement) by GD at (1 ∓ δ)η_c from θ* + a·v_top, whose
    per-step rate must be 1 ∓ 2δ within δ/2 (module docstring)."""
    data = _explicit_data(model)
    m = _compiled(model, data, xp)
    star = _minimum(model)
    P = star.shape[1]
    H = to_numpy(m.hessian(xp.asarray(star)))[0]
    Hp = np.asarray(to_numpy(result.numeric(xp, part="hessian_at_minimum")()), dtype=float)
    Hp = np.broadcast_to(Hp, (P, P))
    lam_part = float(to_numpy(result.numeric(xp, part="lambda_max")()))
    eta_c = float(to_numpy(result.numeric(xp)()))
    ops = _ops(model, m.n)
    scale = float(np.abs(H).max())
    lam_exact = float(np.linalg.eigvalsh(H).max())
    rng = host_rng(p, 3)
    spec = top_eigenvalue(lambda v: m.hvp(xp.asarray(star), v),
                          xp.asarray(rng.standard_normal((1, P))), rtol=1e-10)
    lam_lanczos = float(to_numpy(spec.value)[0])
    v = to_numpy(spec.vector)[0]
    v = v / np.linalg.norm(v)
    out = [
        _close(H, Hp, _fp(scale, ops), "floating point: 10·ops·ε·max|∇²L(θ*)|",
               quantity="∇²L(θ*) part vs compiled Hessian"),
        Outcome.close(lam_exact, lam_part, tol.floating_point(scale, ops=ops * P),
                      quantity="λ_max part vs eigvalsh(∇²L(θ*))"),
        Outcome.close(lam_part, lam_lanczos, tol.Tolerance(
            1e-10 * abs(lam_part) * 2 + 10 * P * EPS * scale,
            "Lanczos stopping rule ‖Hy − θy‖ ≤ 1e-10·|θ| (×2) + rounding"),
                      quantity="λ_max part vs Lanczos on the compiled hvp"),
    ]
    if not (math.isfinite(eta_c) and eta_c > 0):
        return [*out, Outcome.failure(f"threshold η_c = {eta_c} is not a positive number")]
    a = OFFSET * max(1.0, float(np.linalg.norm(star)))
    x0 = star + a * v[None, :]
    for side, factor in (("below", 1 - DELTA), ("above", 1 + DELTA)):
        traj = run(m, GD(eta=factor * eta_c), xp.asarray(x0), STEPS, record=(), bound=1e6)
        xk = to_numpy(traj.x)
        ratio = float(np.linalg.norm(xk - star) / np.linalg.norm(x0 - star))
        rate = ratio ** (1 / STEPS) if ratio > 0 else 0.0
        predicted = 1 - 2 * DELTA if side == "below" else 1 + 2 * DELTA
        out.append(Outcome.close(predicted, rate, tol.Tolerance(
            DELTA / 2, f"δ/2 = {DELTA / 2:g}: linearization a(1+2δ)^K|∇³L|/λ ≲ 1e-3 and the "
                       f"flat-mode share ≲ 1e-8/(1−2δ)^K, K = {STEPS}, a = {a:.1g}"),
                                   quantity=f"GD {side} the threshold, η = {factor:g}·η_c: "
                                            "per-step rate of ‖θ_k − θ*‖",
                                   eta=factor * eta_c, steps=STEPS))
    return out


_CHECKS = {
    "loss": check_loss, "gradient": check_gradient, "hessian": check_hessian,
    "per_sample_gradient": check_per_sample_gradient, "gauss_newton": check_gauss_newton,
    "label_noise_regularizer": check_label_noise_regularizer, "gd_threshold": check_gd_threshold,
}


def register_checks(model: Any, *, examples: int = 5) -> list[str]:
    """Register the generic check of every claim of ``model`` (its results registered
    first, e.g. by :meth:`theory.Model.register`); returns the ids."""
    out = []
    for claim in model.claims:
        fn = _CHECKS[claim]

        def bound(p: dict[str, Any], xp: Any, result: Any, _fn: Any = fn) -> Outcome:
            return _fn(model, p, xp, result)

        bound.__doc__ = fn.__doc__
        bound.__name__ = f"check_{model.name}_{claim}"
        if claim == "gd_threshold":
            check(model.id(claim), example={"seed": 0})(bound)
        else:
            check(model.id(claim), strategy=_strategy(), examples=examples,
                  example={"n": 3, "seed": 0})(bound)
        out.append(model.id(claim))
    return out


def _register_worked() -> None:
    from theory.models import worked  # noqa: PLC0415

    for name in ("toy", "diagonal2", "diagonal3"):
        register_checks(worked(name))


_register_worked()
