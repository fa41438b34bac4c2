r"""Checks of the ``kernels.*`` results: arc-cosine kernels against Monte Carlo.

Each example draws a vector ``b`` and several vectors ``b'`` at prescribed angles (the drawn
one and a fixed grid) in a random plane of :math:`\mathbb R^d`, averages
:math:`\sigma_n(b\cdot x)\sigma_n(b'\cdot x)` over N Gaussian inputs (normalised for the
sphere) drawn on the host, and compares every mean with the Result the runner hands in.

* The angle handed to the formula is recovered from the vectors in a stable form,
  :math:`\theta = 2\,\mathrm{atan2}(\|\hat b - \hat b'\|, \|\hat b + \hat b'\|)` (acos of a
  rounded cosine loses half the digits near θ = 0, π).
* N is chosen so that the Monte Carlo error bar at θ = 0 is a few per cent of the kernel: a
  kernel off by 10 % (a lost 1/(2π) or 1/d is far more) fails. Tolerances are Student-t on
  the sample standard deviation (N − 1 degrees of freedom), Bonferroni over the check's
  comparisons, at the false-alarm rate :data:`verify.tolerance.FALSE_ALARM`.
* ``numerics.two_layer.arccos_kernel`` (the kernel the two-layer models use) is compared
  with the same Result to rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from numerics import to_numpy
from numerics.two_layer import arccos_kernel
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, orthogonal, seeds

#: Angles compared in every example besides the drawn one: θ = 0 pins the constants (the
#: kernel is largest and the relative error bar smallest there), the others the shape of J_n.
_GRID = (0.0, math.pi / 3, math.pi / 2, 2 * math.pi / 3)
#: Samples per order: the relative standard deviation of σ_n(g)² is √5, √5, √(201/9) ≈ 1, 2.2,
#: 4.7 at θ = 0, so t·σ/(√N·k) ≈ 5.5·{1, 2.2, 4.7}/√N ≈ 2–4 % of the kernel.
_N = {0: 100_000, 1: 200_000, 2: 400_000}


# ------------------------------------------------------------------ problem builders
@st.composite
def _kernel_params(draw: Any, min_d: int = 2) -> dict[str, Any]:
    d = draw(st.integers(min_d, 8))
    return {"d": d, "theta": min(round(draw(st.floats(0.0, math.pi)), 6), math.pi),
            "norm_b": round(draw(st.floats(0.3, 3.0)), 6),
            "norm_bp": round(draw(st.floats(0.3, 3.0)), 6), "seed": draw(seeds)}


def _pairs(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``b`` (d,) and the rows ``b'`` (A, d) at the angles (drawn θ, *grid) in a random plane."""
    Q = orthogonal(host_rng(p, 0), p["d"], 2)
    angles = np.array([p["theta"], *_GRID])
    b = p["norm_b"] * Q[:, 0]
    Bp = p["norm_bp"] * (np.cos(angles)[:, None] * Q[:, 0] + np.sin(angles)[:, None] * Q[:, 1])
    return b, Bp


def stable_angle(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    r"""Angle between the last-axis vectors u and w as
    :math:`2\,\mathrm{atan2}(\|\hat u-\hat w\|, \|\hat u+\hat w\|)`: accurate to a few ulps over
    all of [0, π] (Kahan), where acos of the rounded cosine has error ~√ε near 0 and π."""
    uh = u / np.linalg.norm(u, axis=-1, keepdims=True)
    wh = w / np.linalg.norm(w, axis=-1, keepdims=True)
    return 2 * np.arctan2(np.linalg.norm(uh - wh, axis=-1), np.linalg.norm(uh + wh, axis=-1))


def _inputs(p: dict[str, Any], N: int) -> tuple[np.ndarray, np.ndarray]:
    """N Gaussian inputs x ~ N(0, I_d) and their projections ω = x/‖x‖ ~ Unif(S^{d−1})."""
    x = host_rng(p, 1).standard_normal((N, p["d"]))
    return x, x / np.linalg.norm(x, axis=1, keepdims=True)


def _products(xp: Any, X: np.ndarray, b: np.ndarray, Bp: np.ndarray, order: int) -> np.ndarray:
    """σ_n(b·x_i)σ_n(b'_a·x_i), shape (N, A), computed in the namespace ``xp``."""
    Xa = xp.asarray(X)
    Z = xp.maximum(Xa @ xp.asarray(np.concatenate([b[None, :], Bp]).T), 0.0)
    if order == 0:
        Z = xp.astype(Z > 0, xp.float64)
    elif order == 2:
        Z = Z * Z
    return to_numpy(Z[:, :1] * Z[:, 1:])


def _mc(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return samples.mean(axis=0), samples.std(axis=0, ddof=1)


def _kwargs(fn: Any, **values: Any) -> dict[str, Any]:
    """The keyword arguments of a Result's numeric function out of ``values``."""
    return {k: v for k, v in values.items() if k in fn.arguments}


def _value(fn: Any, **values: Any) -> np.ndarray:
    return np.asarray(to_numpy(fn(**_kwargs(fn, **values))), dtype=float)


def _close_all(pred: np.ndarray, mean: np.ndarray, std: np.ndarray, N: int, m: int,
               scale: np.ndarray, what: str, angles: np.ndarray) -> list[Outcome]:
    """One Student-t comparison per angle; the formula's rounding is part of the budget (at
    θ = π the samples vanish identically while the formula rounds to ±1e-17)."""
    return [Outcome.close(float(pred[i]), float(mean[i]),
                          tol.monte_carlo(float(std[i]), N, m=m)
                          + tol.floating_point(float(scale[i]), ops=10),
                          quantity=f"{what} at θ = {angles[i]:.4g}, N = {N}")
            for i in range(len(angles))]


def _implementation(xp: Any, b: np.ndarray, Bp: np.ndarray, pred: np.ndarray, order: int,
                    input: str, scale: np.ndarray) -> Outcome:
    """numerics.two_layer.arccos_kernel (acos of a clipped cosine) vs the Result: the angle it
    recovers is off by up to √(2ε) near θ = 0, π, which moves J_0 = π − θ by as much."""
    impl = to_numpy(arccos_kernel(xp.asarray(b[None, :]), xp.asarray(Bp), order=order,
                                  input=input))[0]
    fp = tol.Tolerance(10 * math.sqrt(2 * tol.EPS64) * float(np.max(scale)),
                       "floating point: 10·√(2ε)·‖b‖ⁿ‖b'‖ⁿ (acos of a cosine rounded to ε)")
    return Outcome.close(0.0, float(np.max(np.abs(impl - pred))), fp,
                         quantity="max |numerics.two_layer.arccos_kernel − formula|")


# ------------------------------------------------------------------ checks
def _gaussian_check(p: dict[str, Any], xp: Any, result: Any, order: int) -> Outcome:
    """Statement, Cho–Saul's J_n and the diagonal k(b, b) against one Monte Carlo sample."""
    N = _N[order]
    b, Bp = _pairs(p)
    theta = stable_angle(b[None, :], Bp)
    x, _ = _inputs(p, N)
    prod = _products(xp, x, b, Bp, order)
    norms = (p["norm_b"] * p["norm_bp"]) ** order
    # The diagonal k(b, b'') with b'' = (‖b'‖/‖b‖) b exactly parallel (θ = 0 by construction).
    diag = _products(xp, x, b, (p["norm_bp"] / p["norm_b"]) * b[None, :], order)[:, 0]
    m = 2 * len(theta) + 1  # comparisons sharing the false-alarm rate
    stmt = _value(result.numeric(xp), theta=theta, norm_b=p["norm_b"], norm_bp=p["norm_bp"])
    stmt = np.broadcast_to(stmt, theta.shape)
    J = np.broadcast_to(_value(result.numeric(xp, part="J"), theta=theta), theta.shape)
    k_diag = float(_value(result.numeric(xp, part="diagonal"), norm_b=p["norm_b"],
                          norm_bp=p["norm_bp"]))
    mean, std = _mc(prod)
    # Cho & Saul's normalisation: k^{CS}_n = 2E[σ_nσ_n] = ‖b‖ⁿ‖b'‖ⁿJ_n(θ)/π, so J_n is
    # 2π E[σ_n(b·x)σ_n(b'·x)]/(‖b‖ⁿ‖b'‖ⁿ) (their eq. 6).
    j_samples = 2 * math.pi * prod / norms
    j_mean, j_std = _mc(j_samples)
    scale = np.full(theta.shape, norms)
    return Outcome.all_of([
        *_close_all(stmt, mean, std, N, m, scale, f"E σ_{order}(b·x)σ_{order}(b'·x)", theta),
        *_close_all(J, j_mean, j_std, N, m, np.full(theta.shape, 2 * math.pi), "J_n", theta),
        *_close_all(np.array([k_diag]), np.array([diag.mean()]), np.array([diag.std(ddof=1)]),
                    N, m, np.array([norms]), "diagonal k(b, b)", np.array([0.0])),
        _implementation(xp, b, Bp, stmt, order, "gaussian", scale),
    ])


_EX = {"d": 5, "theta": 1.1, "norm_b": 1.3, "norm_bp": 0.7, "seed": 3}


@check("kernels.arccos0_gaussian", strategy=_kernel_params(), examples=4, example=_EX)
def check_arccos0(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """P(b·x > 0, b'·x > 0) by Monte Carlo vs (π − θ)/(2π), J_0 and k_0(b, b) = 1/2."""
    return _gaussian_check(p, xp, result, 0)


@check("kernels.arccos1_gaussian", strategy=_kernel_params(), examples=4, example=_EX)
def check_arccos1(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """E σ(b·x)σ(b'·x) by Monte Carlo vs ‖b‖‖b'‖J_1(θ)/(2π), J_1 and k_1(b, b)."""
    return _gaussian_check(p, xp, result, 1)


@check("kernels.arccos2_gaussian", strategy=_kernel_params(), examples=4, example=_EX)
def check_arccos2(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """E σ₂(b·x)σ₂(b'·x) by Monte Carlo vs ‖b‖²‖b'‖²J_2(θ)/(2π), J_2 and k_2(b, b)."""
    return _gaussian_check(p, xp, result, 2)


@check("kernels.arccos1_sphere", strategy=_kernel_params(), examples=4, example=_EX)
def check_arccos1_sphere(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    r"""x ~ Unif(S^{d−1}) (normalised Gaussians) vs ‖b‖‖b'‖J_1(θ)/(2πd); the part
    ``gaussian`` vs the same x before normalising; the part ``order_n_factor`` (n = 1, 2) by
    the paired difference :math:`\sigma_n(b\cdot\omega)\sigma_n(b'\cdot\omega) -
    c_n\,\sigma_n(b\cdot x)\sigma_n(b'\cdot x)`, whose mean is 0 iff the sphere kernel is
    :math:`c_n` times the Gaussian one."""
    N, d = _N[1], p["d"]
    b, Bp = _pairs(p)
    theta = stable_angle(b[None, :], Bp)
    x, omega = _inputs(p, N)
    m = 2 * len(theta) + 2
    kw = {"theta": theta, "norm_b": p["norm_b"], "norm_bp": p["norm_bp"], "d": float(d)}
    sphere = _products(xp, omega, b, Bp, 1)
    gauss = _products(xp, x, b, Bp, 1)
    stmt = np.broadcast_to(_value(result.numeric(xp), **kw), theta.shape)
    gpart = np.broadcast_to(_value(result.numeric(xp, part="gaussian"), **kw), theta.shape)
    scale = np.full(theta.shape, p["norm_b"] * p["norm_bp"])
    outs = [*_close_all(stmt, *_mc(sphere), N, m, scale, "E_S σ(b·ω)σ(b'·ω)", theta),
            *_close_all(gpart, *_mc(gauss), N, m, scale, "E_N σ(b·x)σ(b'·x)", theta)]
    for n in (1, 2):
        # Γ has no array-API counterpart: the factor (a number per d, n) is evaluated by mpmath.
        c_n = float(result.evalf({"d": d, "n": n}, part="order_n_factor"))
        diff = (_products(xp, omega, b, Bp[1:2], n) - c_n * _products(xp, x, b, Bp[1:2], n))[:, 0]
        outs.append(Outcome.close(0.0, float(diff.mean()),
                                  tol.monte_carlo(float(diff.std(ddof=1)), N, m=m)
                                  + tol.floating_point(float(scale[0]) ** n, ops=10),
                                  quantity=f"E_S σ_{n}σ_{n} − c_{n}·E_N σ_{n}σ_{n} at θ = 0 (paired)",
                                  factor=c_n))
    outs.append(_implementation(xp, b, Bp, stmt, 1, "sphere", scale))
    return Outcome.all_of(outs)


# ------------------------------------------------------------------ figures
#: Random features per Monte Carlo point of the figures: few enough that the finite-width
#: scatter is visible at 95 %, enough (≥ 10³) for the t interval of a mean to be accurate.
_FIG_FEATURES = 4000
#: Angles of the Monte Carlo points: 13 evenly spaced in [0, π].
_FIG_ANGLES = 13

_KERNEL_FIGURES = {
    "kernels.arccos0_gaussian": (0, "gaussian", r"$k_0(b,b')=\mathbb{E}_x\,[b\cdot x>0][b'\cdot x>0]$"),
    "kernels.arccos1_gaussian": (1, "gaussian", r"$k_1(b,b')=\mathbb{E}_x\,\sigma(b\cdot x)\sigma(b'\cdot x)$"),
    "kernels.arccos2_gaussian": (2, "gaussian", r"$k_2(b,b')=\mathbb{E}_x\,\sigma(b\cdot x)^2\sigma(b'\cdot x)^2$"),
    "kernels.arccos1_sphere": (1, "sphere", r"$k_1^{S}(b,b')=\mathbb{E}_\omega\,\sigma(b\cdot\omega)\sigma(b'\cdot\omega)$"),
}


def _kernel_figure(p: dict[str, Any], xp: Any, result: Any, id: str) -> Any:
    r"""The kernel against the angle θ between b and b': the Result's closed form (through
    ``result.numeric``) as a curve, Monte Carlo means over m = :data:`_FIG_FEATURES` random
    features :math:`x_i \sim N(0, I_d)` (or :math:`\omega_i = x_i/\|x_i\|` on the sphere) as
    points with 95 % Student-t intervals, and below them the standardized residuals
    (mean − formula)/SE, which lie in ±t_{0.975} about 95 % of the time if the formula is right."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside, t_interval  # noqa: PLC0415

    order, inp, what = _KERNEL_FIGURES[id]
    d, nb, nbp = p["d"], p["norm_b"], p["norm_bp"]
    Q = orthogonal(host_rng(p, 0), d, 2)
    b = nb * Q[:, 0]
    pts = np.linspace(0.0, math.pi, _FIG_ANGLES)
    Bp = nbp * (np.cos(pts)[:, None] * Q[:, 0] + np.sin(pts)[:, None] * Q[:, 1])
    theta_pts = stable_angle(b[None, :], Bp)
    x, omega = _inputs(p, _FIG_FEATURES)
    mean, std = _mc(_products(xp, omega if inp == "sphere" else x, b, Bp, order))
    half = t_interval(std, _FIG_FEATURES)
    fn = result.numeric(xp)

    def formula(theta: np.ndarray) -> np.ndarray:
        v = _value(fn, theta=xp.asarray(theta), norm_b=nb, norm_bp=nbp, d=float(d))
        return np.broadcast_to(v, theta.shape)

    grid = np.linspace(0.0, math.pi, 301)
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(8.6, 4.8), sharex=True,
                                  gridspec_kw={"height_ratios": (3, 1.3)})
    ax.plot(grid, formula(grid), "k-", lw=1.5, label=f"closed form ({result.id})")
    ax.errorbar(theta_pts, mean, yerr=half, fmt="o", ms=4, capsize=3, color="tab:orange",
                label=f"Monte Carlo, m = {_FIG_FEATURES} random features\n(95 % Student-t interval)")
    ax.set_ylabel(what + "\n(dimensionless)", fontsize=MIN_FONT + 1)
    inputs = f"x ~ N(0, I_{d})" if inp == "gaussian" else f"ω ~ Unif(S^{d - 1})"
    fig.suptitle(f"order-{order} arc-cosine kernel, {inputs}, ‖b‖ = {nb:g}, ‖b'‖ = {nbp:g}",
                 fontsize=MIN_FONT + 2)
    legend_outside(ax, where="right")
    se = std / math.sqrt(_FIG_FEATURES)
    pred = formula(theta_pts)
    # At θ = π the two ReLU half-spaces are disjoint: every sample is 0 and so is the SE.
    ok = se > 0
    z = np.where(ok, (mean - pred) / np.where(ok, se, 1.0), 0.0)
    tq = float(half[ok][0] / se[ok][0]) if ok.any() else 2.0
    axr.axhspan(-tq, tq, color="0.85", label=f"±t₀.₉₇₅ = ±{tq:.2f}")
    axr.axhline(0.0, color="k", lw=0.8)
    axr.plot(theta_pts[ok], z[ok], "o", ms=4, color="tab:orange", label="(mean − formula)/SE; one set of\nfeatures for all θ, so correlated")
    axr.set_ylim(-max(4.0, 1.2 * float(np.max(np.abs(z)))), max(4.0, 1.2 * float(np.max(np.abs(z)))))
    axr.set_ylabel("residual\n(standard errors)", fontsize=MIN_FONT + 1)
    axr.set_xlabel("angle θ between b and b' (rad)", fontsize=MIN_FONT + 1)
    axr.set_xticks([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4, math.pi],
                   ["0", "π/4", "π/2", "3π/4", "π"])
    legend_outside(axr, where="right")
    fig.tight_layout()
    return fig


@figure("kernels.arccos0_gaussian")
def figure_arccos0(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Order 0 (step activation): the kernel against the angle θ between b and b': the Result's closed form (curve) and Monte Carlo
    means over m = 4000 random features x_i ~ N(0, I_d) (points, 95 % Student-t intervals); below,
    the residuals in standard errors."""
    return _kernel_figure(p, xp, result, "kernels.arccos0_gaussian")


@figure("kernels.arccos1_gaussian")
def figure_arccos1(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Order 1 (ReLU): the kernel against the angle θ between b and b': the Result's closed form (curve) and Monte Carlo
    means over m = 4000 random features x_i ~ N(0, I_d) (points, 95 % Student-t intervals); below,
    the residuals in standard errors."""
    return _kernel_figure(p, xp, result, "kernels.arccos1_gaussian")


@figure("kernels.arccos2_gaussian")
def figure_arccos2(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """Order 2 (squared ReLU): the kernel against the angle θ between b and b': the Result's closed form (curve) and Monte Carlo
    means over m = 4000 random features x_i ~ N(0, I_d) (points, 95 % Student-t intervals); below,
    the residuals in standard errors."""
    return _kernel_figure(p, xp, result, "kernels.arccos2_gaussian")


@figure("kernels.arccos1_sphere")
def figure_arccos1_sphere(p: dict[str, Any], xp: Any, result: Any) -> Any:
    """ReLU on the sphere: the kernel against the angle θ between b and b': the Result's closed form (curve) and Monte Carlo
    means over m = 4000 random features ω_i ~ Unif(S^{d−1}) (points, 95 % Student-t intervals); below,
    the residuals in standard errors."""
    return _kernel_figure(p, xp, result, "kernels.arccos1_sphere")
