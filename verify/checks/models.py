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
  Lanczos on the compiled ``hvp``), and GD on **both** sides of the threshold;
* ``pac_bayes`` — the σ² coefficient of :math:`E L(\theta^*+\sigma z) - L(\theta^*)` by exact
  Gauss–Hermite quadrature of the compiled loss (:func:`pac_bayes_outcomes`);
* ``sgd_threshold`` — the second-moment map of SGD built from the compiled per-sample
  Hessians and every batch, :math:`\rho = 1` at η* and on **both** sides
  (:func:`sgd_threshold_outcomes`);
* ``label_noise_flow`` — the drift against the projector on null(∇²L(θ*)) and central
  differences of the compiled Hessian's trace (no Jacobian), and against label-noise SGD on
  the compiled model: the mean displacement along Γ over a flow time τ, extrapolated to
  η → 0 (:func:`flow_simulation_outcomes`, :func:`label_noise_flow_outcomes`).

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

from numerics import GD, LabelNoiseSGD, run, to_numpy
from numerics.label_noise import project_to_manifold, tangent_projector
from numerics.sharpness import top_eigenvalue
from verify import tolerance as tol
from verify.models import CompiledModel
from verify.outcome import Outcome
from verify.registry import check
from verify.strategies import host_rng, seeds

__all__ = ["register_checks", "threshold_outcomes", "sgd_threshold_outcomes", "pac_bayes_outcomes",
           "label_noise_flow_outcomes", "flow_simulation_outcomes", "DELTA", "STEPS"]

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


def _evaluate(f: Any, model: Any, x: np.ndarray, data: dict[str, np.ndarray], xp: Any, *,
              per_sample: bool) -> np.ndarray:
    """A compiled claim ``f`` at the rows of ``x`` (each parameter a column ``(R, 1)``) on
    ``data``: per sample (data ``(1, n)``, the samples on the last axis) or as a sum over
    the samples (data ``(n,)`` and ``n``)."""
    args = {q.name: xp.asarray(x[:, k][:, None]) for k, q in enumerate(model.params)}
    if per_sample:
        args.update({k: xp.asarray(v[None, :]) for k, v in data.items()})
    else:
        args.update({k: xp.asarray(v) for k, v in data.items()})
        if data:
            args["n"] = len(next(iter(data.values())))
    return to_numpy(f(**{a: args[a] for a in f.arguments}))


# ============================================================================ checks
def check_loss(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The statement (1/n)Σℓ_i against the mean of its ``per_sample`` part (rounding:
    10·ops·ε·max(1, |ℓ|), ops = n·(operations of ℓ + 1))."""
    data = _random_data(model, p)
    x = _random_point(model, p)
    m = _compiled(model, data, xp, loss=result)
    L = to_numpy(m.loss(xp.asarray(x)))
    f = result.numeric(xp, part="per_sample")
    per = np.broadcast_to(_evaluate(f, model, x, data, xp, per_sample=True),
                          (R, max(1, p["n"] if model.data else 1)))
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
    fy = np.broadcast_to(_evaluate(f, model, x, data, xp, per_sample=True), (1, p["n"]))[0]
    data = {**data, model.target.name: np.array(fy, dtype=float)}
    m = _compiled(model, data, xp)
    H = to_numpy(m.hessian(xp.asarray(x)))
    G = np.broadcast_to(_evaluate(result.numeric(xp), model, x, data, xp, per_sample=False),
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
    Rv = np.broadcast_to(_evaluate(result.numeric(xp), model, x, data, xp, per_sample=False),
                         (R, 1))[:, 0]
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


def _value(result: Any, xp: Any, part: str | None = None, **kw: Any) -> np.ndarray:
    """A claim without data arguments, evaluated through ``numeric`` (a number or a matrix)."""
    return np.asarray(to_numpy(result.numeric(xp, part=part)(**kw)), dtype=float)


def _hessians_at_minimum(model: Any, xp: Any) -> tuple[np.ndarray, list[np.ndarray], float]:
    """∇²L(θ*) and the per-sample ∇²ℓ_i(θ*), each from the compiled ``hessian`` on the data
    set (one sample at a time for ℓ_i); and the operation count of one of them."""
    data = _explicit_data(model)
    star = xp.asarray(_minimum(model))
    H = to_numpy(_compiled(model, data, xp).hessian(star))[0]
    m = len(next(iter(data.values())))
    His = [to_numpy(_compiled(model, {k: v[j:j + 1] for k, v in data.items()}, xp).hessian(star))[0]
           for j in range(m)]
    return H, His, _ops(model, m)


def _range_basis(H: np.ndarray, ops: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Orthonormal bases of range(H) and null(H) from ``eigh``; eigenvalues within the
    rounding of H (10·ops·p·ε·‖H‖) count as zero. Returns (U_range, U_null, smallest kept)."""
    w, V = np.linalg.eigh(H)
    cut = 10 * ops * H.shape[0] * EPS * max(1.0, float(np.abs(w).max()))
    keep = w > cut
    return V[:, keep], V[:, ~keep], float(w[keep].min()) if keep.any() else 0.0


def check_pac_bayes(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The comparisons of :func:`pac_bayes_outcomes`, all of which must pass."""
    return Outcome.all_of(pac_bayes_outcomes(model, p, xp, result))


def pac_bayes_outcomes(model: Any, p: dict[str, Any], xp: Any, result: Any) -> list[Outcome]:
    r"""S(σ) = E_{v~N(0,σ²I)} L(θ*+v) − L(θ*) against its leading term (the statement).

    For a loss polynomial in θ, Gauss–Hermite tensor quadrature with k nodes per coordinate
    (k = ⌈(deg + 1)/2⌉, deg the largest per-coordinate degree of ℓ) is exact, so
    :math:`Q(\sigma) = E L - L(\theta^*)` is a polynomial :math:`\sum_{j\le D} c_j\sigma^{2j}`
    (D = ⌊total degree/2⌋, odd orders vanish by symmetry) computed to rounding on the compiled
    loss; :math:`c_1` is solved from D values of σ (Vandermonde in σ², condition κ) and must
    equal the statement's coefficient of σ² within κ·(rounding of Q)/σ_min². Otherwise
    (not polynomial) Q(σ)/σ² at σ = 10⁻³·max(1, ‖θ*‖) with 20 nodes and a tolerance of
    2|c_2|σ² (c_2 = (1/8)Σ∂_j²∂_k²L(θ*), SymPy) plus rounding."""
    data = _explicit_data(model)
    m = _compiled(model, data, xp)
    star = _minimum(model)
    P = star.shape[1]
    L0 = float(to_numpy(m.loss(xp.asarray(star)))[0])
    try:
        poly = sp.Poly(model.ell, *model.params)
    except sp.PolynomialError:
        poly = None
    coeff = float(_value(result, xp, sigma=1.0))  # S(σ) = coeff·σ²: the statement at σ = 1
    out = [Outcome.close(4 * coeff, float(_value(result, xp, sigma=2.0)), tol.floating_point(
        4 * abs(coeff), ops=4), quantity="statement at σ = 2 vs 4 × at σ = 1 (leading order σ²)")]
    tr_part = float(_value(result, xp, "trace_at_minimum"))
    H, _, ops = _hessians_at_minimum(model, xp)
    out.append(Outcome.close(float(np.trace(H)), tr_part, tol.floating_point(
        float(np.abs(H).max()), ops=ops * P), quantity="trace_at_minimum vs Tr ∇²L(θ*) (compiled)"))

    def Q(sig: float, k: int) -> tuple[float, float]:
        z, w = np.polynomial.hermite_e.hermegauss(k)  # ∫ g(z) e^{-z²/2} dz: weights sum √(2π)
        w = w / w.sum()
        grids = np.meshgrid(*([z] * P), indexing="ij")
        pts = np.stack([g.ravel() for g in grids], axis=1)
        wts = np.prod(np.stack(np.meshgrid(*([w] * P), indexing="ij"), axis=0).reshape(P, -1), axis=0)
        vals = to_numpy(m.loss(xp.asarray(star + sig * pts)))
        # rounding of a weighted sum: γ·Σ w_j|L_j| (Higham §3.1), L_j each rounded by ops·ε|L_j|
        err = 10 * (_ops(model, m.n) + P * k) * EPS * (float(wts @ np.abs(vals)) + abs(L0))
        return float(wts @ vals) - L0, err

    scale = max(1.0, float(np.linalg.norm(star)))
    if poly is not None:
        k = (max(poly.degree(q) for q in model.params) + 2) // 2
        D = max(1, poly.total_degree() // 2)
        sigmas = scale * 0.5 * np.arange(1, D + 1) / D
        qs, errs = zip(*(Q(float(sg), k) for sg in sigmas))
        V = np.vander(sigmas**2, D + 1, increasing=True)[:, 1:]
        c = np.linalg.solve(V, np.asarray(qs))
        kappa = float(np.linalg.cond(V))
        t = tol.Tolerance(10 * kappa * max(errs) / float(sigmas.min() ** 2) + 10 * D * EPS * abs(c[0]),
                          f"exact Gauss–Hermite ({k} nodes/coordinate) of a degree-{2 * D} "
                          f"polynomial in σ: κ(V) = {kappa:.3g} × rounding of Q / σ_min²")
        out.append(Outcome.close(coeff, float(c[0]), t, quantity="σ² coefficient of E L(θ*+v) − L(θ*) "
                                 "vs the statement's", sigmas=sigmas.tolist(), nodes=k))
        return out
    sg = 1e-3 * scale
    c2 = float(_fourth_sum(model, star, data)) / 8
    q, err = Q(sg, 20)
    t = tol.Tolerance(2 * abs(c2) * sg**2 + 10 * err / sg**2,
                      "2|c₂|σ² (next order, SymPy) + rounding of Q / σ²")
    out.append(Outcome.close(coeff, q / sg**2, t, quantity="Q(σ)/σ² vs the statement's coefficient"))
    return out


def _fourth_sum(model: Any, star: np.ndarray, data: dict[str, np.ndarray]) -> float:
    """Σ_jk ∂_j²∂_k²L(θ*) on the data set (host NumPy through lambdify; sizes a tolerance)."""
    expr = sp.Add(*[sp.diff(model.ell, a, 2, b, 2) for a in model.params for b in model.params])
    f = sp.lambdify([*model.params, *model.data], expr, "numpy")
    n = len(next(iter(data.values()))) if model.data else 1
    return float(np.mean([f(*star[0], *[data[s.name][j] for s in model.data]) for j in range(n)]))


def check_sgd_threshold(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The comparisons of :func:`sgd_threshold_outcomes`, all of which must pass."""
    return Outcome.all_of(sgd_threshold_outcomes(model, p, xp, result))


def sgd_threshold_outcomes(model: Any, p: dict[str, Any], xp: Any, result: Any) -> list[Outcome]:
    r"""The mean-square threshold η* (the statement) by the second-moment map built from the
    compiled per-sample Hessians and an exact enumeration of the batches.

    Near an interpolating minimum SGD is :math:`\theta - \theta^* \leftarrow (I - \eta H_{\mathcal B})
    (\theta - \theta^*)`, so :math:`M = E[(\theta-\theta^*)(\theta-\theta^*)^T]` follows
    :math:`\mathcal T_\eta(M) = E_{\mathcal B}[(I - \eta H_{\mathcal B})M(I - \eta H_{\mathcal B})]`,
    averaged here over all :math:`\binom nB` batches. On an orthonormal basis U of range(H)
    (null(H), the manifold's tangent, is marginal) :math:`\mathcal T` is a symmetric
    :math:`r^2\times r^2` matrix; :math:`\rho(\mathcal T_{\eta^*}) = 1` within its rounding,
    :math:`\rho < 1` at :math:`(1-\delta)\eta^*` and :math:`> 1` at :math:`(1+\delta)\eta^*`.
    The parts: ``sharpness`` = λ_max(H), ``non_uniformity`` = √λ_max(Σ),
    Σ = mean H_i² − H²; ``batch_factor`` c by least squares from
    :math:`E[H_{\mathcal B}\otimes H_{\mathcal B}] - H\otimes H = c(\overline{H_i\otimes H_i} - H\otimes H)`;
    ``sufficient_threshold`` where λ_max((I − ηH)² + η²cΣ) on range(H) reaches 1."""
    from itertools import combinations  # noqa: PLC0415

    H, His, ops = _hessians_at_minimum(model, xp)
    n, B, P = len(His), model.batch, H.shape[0]
    U, _, _ = _range_basis(H, ops)
    r = U.shape[1]
    batches = [np.mean([His[j] for j in b], axis=0) for b in combinations(range(n), B)]
    scale = float(np.abs(H).max())

    def T(eta: float) -> np.ndarray:
        As = [U.T @ (np.eye(P) - eta * hb) @ U for hb in batches]
        return np.mean([np.kron(a, a) for a in As], axis=0)

    def rho(eta: float) -> float:
        return float(np.abs(np.linalg.eigvalsh(T(eta))).max())

    eta_star = float(_value(result, xp))
    out: list[Outcome] = []
    if not (math.isfinite(eta_star) and eta_star > 0):
        return [Outcome.failure(f"threshold η* = {eta_star} is not a positive number")]
    # T's entries: products of two (I − ηH_𝓑) entries, each with rounding ≤ η·δH + ε.
    t_rho = tol.Tolerance(10 * (ops * P + r * r) * EPS * (1 + eta_star * scale) ** 2 * 4,
                          "rounding of T: 10·(ops·p + r²)·ε·(1 + η·max|H|)²·4")
    out.append(Outcome.close(1.0, rho(eta_star), t_rho, quantity="ρ(T_η*) on range(∇²L(θ*))",
                             rank=r, batches=len(batches)))
    for side, factor in (("below", 1 - DELTA), ("above", 1 + DELTA)):
        rr = rho(factor * eta_star)
        if side == "below":
            out.append(Outcome.at_most(rr, 1.0, tol.Tolerance(-t_rho.value, "a margin of the rounding of T"),
                                       quantity=f"ρ(T_η) at η = {factor:g}·η* (mean-square stable)"))
        else:
            out.append(Outcome.at_least(rr, 1.0, tol.Tolerance(-t_rho.value, "a margin of the rounding of T"),
                                        quantity=f"ρ(T_η) at η = {factor:g}·η* (unstable)"))
    a_obs = float(np.linalg.eigvalsh(H).max())
    out.append(Outcome.close(a_obs, float(_value(result, xp, "sharpness")),
                             tol.floating_point(scale, ops=ops * P), quantity="sharpness vs λ_max(∇²L(θ*))"))
    Sig = np.mean([h @ h for h in His], axis=0) - H @ H
    s2 = float(np.linalg.eigvalsh(Sig).max())
    s_part = float(_value(result, xp, "non_uniformity"))
    # s = √λ_max(Σ): the rounding of λ_max, δ ≤ 10·ops·p²·ε·max|H|², moves s by ≤ √δ
    # (at s = 0) and by ≤ δ/(2s) otherwise; the larger of the two is used.
    d_s2 = 10 * ops * P * P * EPS * scale**2
    out.append(Outcome.close(math.sqrt(max(s2, 0.0)), s_part, tol.Tolerance(
        max(math.sqrt(d_s2), d_s2 / (2 * math.sqrt(max(s2, d_s2)))),
        "rounding of λ_max(Σ), δ = 10·ops·p²·ε·max|H|², through the square root"),
        quantity="non_uniformity vs √λ_max(mean H_i² − H²)"))
    Kb = np.mean([np.kron(hb, hb) for hb in batches], axis=0) - np.kron(H, H)
    Dm = np.mean([np.kron(h, h) for h in His], axis=0) - np.kron(H, H)
    c_part = float(_value(result, xp, "batch_factor"))
    if float(np.abs(Dm).max()) > 100 * ops * EPS * scale**2:
        c_obs = float(np.sum(Kb * Dm) / np.sum(Dm * Dm))
        out.append(Outcome.close(c_obs, c_part, tol.floating_point(
            1.0, ops=ops * P * P, cond=scale**2 / float(np.abs(Dm).max())),
            quantity="batch_factor vs the batch enumeration's E[H_𝓑⊗H_𝓑] − H⊗H = c(mean H_i⊗H_i − H⊗H)"))
    eta_s = float(_value(result, xp, "sufficient_threshold"))
    Pm = U.T @ ((np.eye(P) - eta_s * H) @ (np.eye(P) - eta_s * H) + eta_s**2 * c_part * Sig) @ U
    out.append(Outcome.close(1.0, float(np.linalg.eigvalsh(Pm).max()), t_rho,
                             quantity="λ_max((I − ηH)² + η²cΣ) on range(H) at sufficient_threshold"))
    return out


def check_label_noise_flow(model: Any, p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The comparisons of :func:`label_noise_flow_outcomes`, all of which must pass."""
    return Outcome.all_of(label_noise_flow_outcomes(model, p, xp, result))


def label_noise_flow_outcomes(model: Any, p: dict[str, Any], xp: Any, result: Any) -> list[Outcome]:
    """The deterministic comparisons of :func:`_flow_formula_outcomes` and the simulation
    of :func:`flow_simulation_outcomes` (label-noise SGD on the compiled model)."""
    return [*_flow_formula_outcomes(model, xp, result), *flow_simulation_outcomes(model, p, xp, result)]


def _flow_formula_outcomes(model: Any, xp: Any, result: Any) -> list[Outcome]:
    r"""The drift −(δ²/4)P_Γ∇Tr∇²L(θ*) (the statement, at δ = 0.5 and 1) against the same
    quantity built without the Jacobian: P_Γ = the projector on null(∇²L(θ*)) (= the tangent
    of Γ at an interpolating minimum, where ∇²L = JᵀJ/n) from ``eigh`` of the compiled
    Hessian, and ∇Tr∇²L by central differences of the compiled Hessian's trace
    (truncation (h²/6)·max|∂_k³Tr∇²ℓ| by SymPy, rounding δTr/h). The parts ``projector``,
    ``trace_gradient`` and ``trace_rate`` likewise. Tolerances: the projector's rounding
    ε·ops·‖H‖/gap (Davis–Kahan), the gradient's bound, propagated."""
    data = _explicit_data(model)
    m = _compiled(model, data, xp)
    star = _minimum(model)
    H, _, ops = _hessians_at_minimum(model, xp)
    P = H.shape[0]
    U, N, gap = _range_basis(H, ops)
    Pn = N @ N.T
    scale = float(np.abs(H).max())
    t_proj = 10 * ops * P * EPS * scale / max(gap, 1e-300)
    # ∇ Tr ∇²L by central differences of the compiled Hessian's trace.
    g = np.zeros(P)
    tg = np.zeros(P)
    third = _trace_third(model, star, data)
    for k in range(P):
        h = H_REL * max(1.0, abs(star[0, k]))
        e = np.zeros_like(star)
        e[0, k] = h
        tp = float(np.trace(to_numpy(m.hessian(xp.asarray(star + e)))[0]))
        tm = float(np.trace(to_numpy(m.hessian(xp.asarray(star - e)))[0]))
        g[k] = (tp - tm) / (2 * h)
        tg[k] = h**2 / 6 * 2 * third[k] + 10 * ops * P * EPS * max(abs(tp), abs(tm), 1.0) / h
    out = [_close(Pn, _value(result, xp, "projector"), np.full((P, P), t_proj),
                  "eigenvector rounding: 10·ops·p·ε·max|H| / gap (Davis–Kahan)",
                  quantity="projector vs the projector on null(∇²L(θ*))"),
           _close(g[:, None], _value(result, xp, "trace_gradient"), tg[:, None],
                  "central differences of Tr ∇²L: (h²/6)·2·max|∂³ Tr ∇²ℓ| + rounding/h",
                  quantity="trace_gradient vs central differences of Tr ∇²L (compiled)")]
    gn = float(np.linalg.norm(g)) + float(np.linalg.norm(tg))
    for d in (0.5, 1.0):
        want = -(d**2 / 4) * Pn @ g
        t = (d**2 / 4) * (np.sqrt(P) * t_proj * gn + float(np.linalg.norm(tg)))
        out.append(_close(want[:, None], _value(result, xp, delta=d), np.full((P, 1), t),
                          "(δ²/4)(√p·δP·‖∇Tr‖ + ‖δ∇Tr‖): the projector's and the gradient's errors",
                          quantity=f"drift at δ = {d:g} vs −(δ²/4)·P_null(H)·∇Tr (compiled)"))
    for d in (0.5, 1.0):
        rate_want = -(d**2 / 4) * float(g @ Pn @ g)
        t_rate = (d**2 / 4) * (P * t_proj * gn**2 + 2 * gn * float(np.linalg.norm(tg)))
        out.append(Outcome.close(rate_want, float(_value(result, xp, "trace_rate", delta=d)),
                                 tol.Tolerance(t_rate, "the projector's and the gradient's errors, squared norm"),
                                 quantity=f"trace_rate at δ = {d:g} vs −(δ²/4)‖P∇Tr‖² (compiled)"))
    return out


@functools.cache
def _trace_third_fn(model: Any) -> Any:
    """∂_k³ Tr ∇²ℓ, one entry per parameter k, lambdified once per model."""
    tr = sp.Add(*[sp.diff(model.ell, q, 2) for q in model.params])
    return sp.lambdify([*model.params, *model.data], [sp.diff(tr, q, 3) for q in model.params], "numpy")


def _trace_third(model: Any, star: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
    """max over the samples and θ* ± 1e-4 (≫ h) of |∂_k³ Tr ∇²ℓ| per coordinate k (SymPy)."""
    f = _trace_third_fn(model)
    n = len(next(iter(data.values()))) if model.data else 1
    pts = [star[0] + s * 1e-4 * max(1.0, float(np.abs(star).max())) for s in (-1, 0, 1)]
    vals = [np.abs(np.asarray(f(*pt, *[data[q.name][j] for q in model.data]), dtype=float))
            for pt in pts for j in range(n)]
    return np.max(vals, axis=0)


# ---------------------------------------------------------------- label-noise SGD along Γ
#: label-noise magnitude δ of the simulation
FLOW_DELTA = 0.5
#: the flow's second-order term (τ/2)·|Y''(0)| as a fraction of |Y'(0)| (this sets τ)
FLOW_CURVATURE = 0.01
#: η = FLOW_RATIO·λ_min⁺·τ: the normal modes relax in a time η/λ ≪ τ (the O(η) bias's size)
FLOW_RATIO = 0.1
#: replicas of the run at η; the runs at 2η and 4η (a quarter and a sixteenth of the steps)
#: have 2× and 4× as many, which cuts the extrapolation's error bar by a fifth for a third
#: more work (the per-replica variance grows like η)
FLOW_REPLICAS = 4000


def _flow_velocity(m: CompiledModel, x: np.ndarray, delta: float, xp: Any) -> np.ndarray:
    r"""``(R, p)``: the limiting flow's field :math:`-\frac{\delta^2}4P_\Gamma(x)\nabla
    \operatorname{Tr}\nabla^2L(x)` built from the compiled model only — the projector
    :math:`I - J^T(JJ^T)^{-1}J` of its Jacobian and central differences of its Hessian's
    trace (all rows and coordinates as one batch). It sets τ and η, the second-order term
    and its remainder; it never stands in for the claim."""
    R, P = x.shape
    h = H_REL * np.maximum(1.0, np.abs(x))                                  # (R, p)
    E = np.eye(P)[None, :, :] * h[:, :, None]                                # (R, p, p)
    pts = np.concatenate([(x[:, None, :] + E).reshape(R * P, P), (x[:, None, :] - E).reshape(R * P, P)])
    tr = to_numpy(m.hessian_trace(xp.asarray(pts)))
    g = (tr[: R * P] - tr[R * P:]).reshape(R, P) / (2 * h)
    Pg = to_numpy(tangent_projector(m, xp.asarray(x))) @ g[:, :, None]
    return -(delta**2 / 4) * Pg[:, :, 0]


def _flow_acceleration(m: CompiledModel, x: np.ndarray, delta: float, xp: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""``(Y'', Y')`` at ``x`` (one row): :math:`Y'' = Dv\,v`, the central difference of the
    field along itself over ±s, :math:`s\|v\| = 10^{-3}\max(1, \|x\|)` (truncation
    :math:`O(s^2)`, a relative 1e-6; rounding of v, ~1e-10, over s)."""
    v = _flow_velocity(m, x, delta, xp)
    nv = float(np.linalg.norm(v))
    if nv == 0.0:
        return np.zeros_like(v[0]), v[0]
    s = 1e-3 * max(1.0, float(np.linalg.norm(x))) / nv
    both = _flow_velocity(m, np.concatenate([x + s * v, x - s * v]), delta, xp)
    return (both[0] - both[1]) / (2 * s), v[0]


def _flow_basis(v0: np.ndarray, N: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Columns: v0/‖v0‖, the rest of the tangent space null(∇²L(θ*)) (orthonormal), then the
    normal space range(∇²L(θ*)); and their names."""
    q1 = v0 / np.linalg.norm(v0)
    rest = N - np.outer(q1, q1 @ N)
    w, V = np.linalg.eigh(rest @ rest.T)
    T = V[:, w > 0.5][:, : N.shape[1] - 1]         # the (tangent dim − 1) unit eigenvalues
    Q = np.column_stack([q1, T, U])
    names = (["along the compiled flow"] + [f"tangent ⊥ flow {j + 1}" for j in range(T.shape[1])]
             + [f"normal {j + 1}" for j in range(U.shape[1])])
    return Q, names


def flow_simulation_outcomes(model: Any, p: dict[str, Any], xp: Any, result: Any) -> list[Outcome]:
    r"""Label-noise SGD (:class:`numerics.LabelNoiseSGD`, batch 1, δ = ``FLOW_DELTA``) on the
    compiled model from θ*, R replicas at η, 2η, 4η for K = τ/η² steps (one flow time τ),
    projected onto Γ (:func:`numerics.label_noise.project_to_manifold`): the mean of
    :math:`(\Pi_\Gamma\theta_K - \theta^*)/\tau`, extrapolated to η → 0, less the flow's
    second-order term :math:`\frac\tau2Y''(0)`, against the claimed drift Y'(0) at δ (the
    statement), component by component in an orthonormal basis of the
    compiled model — the compiled flow's direction, the rest of the tangent space, the normal
    space (a ×1.1 or δ²/8 drift fails the first, a sign every nonzero one, the normal
    instead of the tangent projector the first and the normal ones).

    Systematic parts, derived. (i) The O(η) bias (the normal fluctuation's build-up from θ*,
    ~ηv/λ, and Π_Γ against the flow's limit map, O(ηδ²)) is removed by Richardson
    extrapolation (:func:`verify.tolerance.richardson_limit`). (ii) The flow's curvature: by Taylor with
    integral remainder :math:`Y_\tau - Y_0 - \tau Y'(0) - \frac{\tau^2}2Y''(0) =
    \int_0^\tau(\tau - s)(Y''(s) - Y''(0))\,ds`. :math:`Y'' = Dv\,v` of the compiled field
    (:func:`_flow_acceleration`, never the claim) at θ* is subtracted; what is left of each
    component, divided by τ, is at most :math:`\frac\tau2\max_s|q^T(Y''(s) - Y''(0))|`,
    whose leading term is :math:`\frac\tau6|q^T\Delta|`, Δ the change of Y'' between θ*
    and Π_Γ(θ* + τY'(0)); the tolerance takes :math:`\tau|q^T\Delta|`, six times that (the
    change along the path need not be linear). τ is chosen so that
    :math:`\frac\tau2\|Y''(0)\| = ` ``FLOW_CURVATURE``·‖Y'(0)‖. (iii) η =
    ``FLOW_RATIO``·λ_min⁺(∇²L(θ*))·τ, so within τ the slowest normal mode relaxes over
    :math:`1/(4\cdot\text{FLOW\_RATIO}) = 2.5` e-folds even at 4η (K₄ = τ/16η² steps of
    rate 4ηλ_min⁺) and the O(η) bias is about FLOW_RATIO of the drift; η is capped so that
    4ηλ_max ≤ ½ (stable). The extrapolation's O(η²) remainder is estimated a posteriori.

    Not certified: the flow's velocity away from θ* (only Y'(0) is claimed); the curvature
    remainder evaluates Y'' at the two ends of a path of length τ‖Y'‖ only.

    References
    ----------
    Z. Li, T. Wang and S. Arora, "What happens after SGD reaches zero loss? A mathematical
    framework", ICLR 2022 (the limiting flow of label-noise SGD, in time η²k).
    """
    try:
        sim = _flow_simulation(model, int(p["seed"]), xp, _compiled_ids(model))
    except FloatingPointError as e:
        return [Outcome.failure(str(e))]
    if sim is None:
        return []  # θ* is already a critical point of Tr ∇²L on Γ: nothing to simulate
    P = sim["Q"].shape[0]
    pred = sim["Q"].T @ np.asarray(_value(result, xp, delta=FLOW_DELTA), dtype=float).reshape(P)
    out = []
    for j in range(P):
        c = tol.Tolerance(float(sim["curvature"][j]),
                          "the flow's curvature after its (τ/2)Y''(0) is removed: τ·|qᵀΔY''| along "
                          "the path, six times its leading term (Y'' = Dv·v of the compiled field)")
        out.append(Outcome.close(
            float(pred[j]), float(sim["A"][j]), sim["statistical"][j] + c + sim["rounding"],
            quantity=f"label-noise SGD at δ = {FLOW_DELTA:g}: E(Π_Γθ_K − θ*)/τ − (τ/2)Y''(0), "
                     f"η → 0, {sim['names'][j]}, vs the claimed drift",
            tau=sim["tau"], eta=sim["eta"], steps=sim["steps"], replicas=sim["replicas"],
            statistical=float(sim["statistical"][j]), curvature=float(sim["curvature"][j]),
            means=[float(x) for x in sim["means"][:, j]], second_order=float(sim["second_order"][j]),
            extrapolated=float(sim["A"][j] + sim["second_order"][j])))
    return out


def _compiled_ids(model: Any) -> tuple[int, ...]:
    """Identities of the results the compiled model is built from (part of the simulation's
    cache key: a mutant of one of them, under ``implreg power``, is another model)."""
    import theory  # noqa: PLC0415

    known = set(theory.ids())
    return tuple(id(theory.get(model.id(c)) if model.id(c) in known else model.result(c))
                 for c in (*("loss", "gradient", "hessian", "per_sample_gradient"), "gauss_newton"))


@functools.lru_cache(maxsize=16)
def _flow_simulation(model: Any, seed: int, xp: Any, _results: tuple[int, ...]) -> dict[str, Any] | None:
    """The runs of :func:`flow_simulation_outcomes` and their extrapolation. They use only
    the compiled model (never the checked claim), so they are computed once per model, seed
    and namespace and shared by every mutant of the claim."""
    data = _explicit_data(model)
    m = _compiled(model, data, xp)
    star = _minimum(model)
    H, _, ops = _hessians_at_minimum(model, xp)
    U, N, lam_min = _range_basis(H, ops)
    lam_max = float(np.linalg.eigvalsh(H).max())
    d = FLOW_DELTA
    a0, v0 = _flow_acceleration(m, star, d, xp)
    nv = float(np.linalg.norm(v0))
    if nv <= 10 * ops * EPS * max(1.0, float(np.abs(H).max())) or N.shape[1] == 0:
        return None
    na = float(np.linalg.norm(a0))
    tau0 = 2 * FLOW_CURVATURE * nv / na if na > 0 else 1.0 / lam_min
    eta = min(FLOW_RATIO * lam_min * tau0, 0.125 / lam_max)
    k4 = max(int(round(tau0 / (16 * eta**2))), 1)
    tau = 16 * eta**2 * k4
    Q, names = _flow_basis(v0, N, U)
    a1, _ = _flow_acceleration(m, to_numpy(project_to_manifold(m, xp.asarray(star + tau * v0[None, :]))), d, xp)
    qa0, qa1 = Q.T @ a0, Q.T @ a1
    second = tau / 2 * qa0
    curv = tau * np.abs(qa1 - qa0)
    samples = []
    streams = host_rng({"seed": seed}, 7).integers(0, 2**31, size=3)
    for j, (e, K) in enumerate(((eta, 16 * k4), (2 * eta, 4 * k4), (4 * eta, k4))):
        x0 = xp.asarray(np.repeat(star, FLOW_REPLICAS * 2**j, axis=0))
        traj = run(m, LabelNoiseSGD(float(e), d), x0, K, record=(), rng=int(streams[j]))
        if traj.n_diverged:
            raise FloatingPointError(f"label-noise SGD diverged at η = {e:.3g} "
                                     f"({traj.n_diverged} replicas)")
        proj = to_numpy(project_to_manifold(m, traj.x))
        samples.append(((proj - star) / tau) @ Q)
    A, tols = tol.richardson_limit(samples, alpha=tol.FALSE_ALARM, m=star.shape[1])
    # rounding: each of the 16·k4 steps rounds θ by ~ε·max(1, |θ|); a drift of that over τ
    fp = tol.Tolerance(10 * 16 * k4 * EPS * max(1.0, float(np.abs(star).max())) / tau,
                       "rounding of the 16k₄ steps at η: 10·K·ε·max(1, |θ*|)/τ")
    return {"Q": Q, "names": names, "A": A - second, "second_order": second,
            "statistical": tols, "curvature": curv,
            "rounding": fp, "tau": tau, "eta": eta, "steps": 16 * k4,
            "replicas": FLOW_REPLICAS, "means": np.array([s.mean(axis=0) for s in samples])}


_CHECKS = {
    "loss": check_loss, "gradient": check_gradient, "hessian": check_hessian,
    "per_sample_gradient": check_per_sample_gradient, "gauss_newton": check_gauss_newton,
    "label_noise_regularizer": check_label_noise_regularizer, "gd_threshold": check_gd_threshold,
    "pac_bayes": check_pac_bayes, "sgd_threshold": check_sgd_threshold,
    "label_noise_flow": check_label_noise_flow,
}
_FIXED = ("gd_threshold", "pac_bayes", "sgd_threshold", "label_noise_flow")  # at θ*: one example


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
        if claim in _FIXED:
            check(model.id(claim), example={"seed": 0})(bound)
        else:
            check(model.id(claim), strategy=_strategy(), examples=examples,
                  example={"n": 3, "seed": 0})(bound)
        out.append(model.id(claim))
    return out


def _register_worked() -> None:
    from theory.models import WORKED, worked  # noqa: PLC0415

    for name in WORKED:
        register_checks(worked(name))


_register_worked()
