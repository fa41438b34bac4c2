"""Checks of the ``diagonal.*`` results: GD on a diagonal linear net vs the Q_α interpolant,
and its ℓ1 / ℓ2 limits at extreme initialization scales."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from numerics import GD, run, to_numpy
from numerics.diagonal import (
    DiagonalNet,
    diagonal_init,
    min_l1_interpolant,
    min_l2_interpolant,
    min_q_interpolant,
    q_potential,
)
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, log_uniform, seeds, to_xp


_asarray = to_xp  # host array -> float64 array of xp


def _problem(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    rng = host_rng(p)
    n, d = p["n"], p["d"]
    X = rng.standard_normal((n, d))
    w_star = np.zeros(d)
    w_star[: p.get("k", 1)] = rng.choice([-1.0, 1.0], p.get("k", 1)) * rng.uniform(0.5, 1.5, p.get("k", 1))
    return X, X @ w_star


def _gd_limit(X: np.ndarray, y: np.ndarray, alpha: float, eta_scale: float, xp: Any,
              time: float) -> tuple[np.ndarray, float]:
    """GD with step η = eta_scale/(4 max(α², 1) λ_max) for a time ``time``·max(α², 1)⁻¹·…;
    returns w and the final loss."""
    lmax = float(np.linalg.eigvalsh(X.T @ X).max())
    eta = eta_scale / (4 * max(alpha**2, 1.0) * lmax)
    model = DiagonalNet(_asarray(xp, X), _asarray(xp, y), reduction="sum")
    steps = int(np.ceil(time / (eta * lmax * max(alpha**2, 1.0))))
    traj = run(model, GD(eta), diagonal_init(alpha, X.shape[1], xp=xp), steps, record=())
    return to_numpy(model.w(traj.x))[0], float(to_numpy(model.loss(traj.x))[0])


def _gd_limits_small(X: np.ndarray, y: np.ndarray, alphas: list[float], xp: Any,
                     time: float) -> tuple[np.ndarray, np.ndarray]:
    """Several α ≤ 1 as replicas of one GD run (η = 0.4/(4λ_max), time in units of 1/λ_max)."""
    lmax = float(np.linalg.eigvalsh(X.T @ X).max())
    eta = 0.4 / (4 * lmax)
    model = DiagonalNet(_asarray(xp, X), _asarray(xp, y), reduction="sum")
    x0 = diagonal_init(_asarray(xp, np.asarray(alphas, dtype=np.float64)), X.shape[1], xp=xp)
    traj = run(model, GD(eta), x0, int(np.ceil(time / (eta * lmax))), record=())
    return to_numpy(model.w(traj.x)), to_numpy(model.loss(traj.x))


@st.composite
def _bias_params(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(2, 5))
    return {"n": n, "d": n + draw(st.integers(2, 8)), "k": draw(st.integers(1, 2)),
            "alpha": draw(log_uniform(0.3, 1.5)), "seed": draw(seeds)}


def _claimed_argmin(result: Any, xp: Any, X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """argmin Σ_i Q_coordinate(w_i) s.t. Xw = y with the claimed Q and its claimed gradient
    (mirror_gradient), over w = X⁺y + N t (N a null-space basis): BFGS to gtol 1e-12."""
    from scipy.linalg import null_space  # noqa: PLC0415
    from scipy.optimize import minimize  # noqa: PLC0415

    Q = result.numeric(xp, part="Q_coordinate")
    G = result.numeric(xp, part="mirror_gradient")
    w0 = np.linalg.pinv(X) @ y
    N = null_space(X)

    def f(t: np.ndarray) -> float:
        return float(np.sum(to_numpy(Q(w=_asarray(xp, w0 + N @ t), alpha=alpha))))

    def g(t: np.ndarray) -> np.ndarray:
        return N.T @ to_numpy(G(w=_asarray(xp, w0 + N @ t), alpha=alpha))

    t = np.zeros(N.shape[1])
    for _ in range(2):
        t = minimize(f, t, jac=g, method="BFGS", options={"gtol": 1e-12, "maxiter": 5000}).x
    return w0 + N @ t


def _potential_outcomes(result: Any, xp: Any, rng: np.random.Generator) -> list[Outcome]:
    """The claimed q, Q_α, its gradient and conjugate against each other and numerics:
    statement = q; Q_coordinate = α² q(w/α²) against numerics.diagonal.q_potential;
    d/dw Q_coordinate (central difference) = mirror_gradient; Q(0) = 0; conjugate(s) =
    s·w − Q(w) at the w where mirror_gradient(w) = s (Legendre, root by bisection)."""
    from scipy.optimize import brentq  # noqa: PLC0415

    z = rng.uniform(-6.0, 6.0, 7)
    alpha = float(np.exp(rng.uniform(np.log(0.3), np.log(2.0))))
    w = alpha**2 * z
    stmt = to_numpy(result.numeric(xp)(z=_asarray(xp, z)))
    q = to_numpy(result.numeric(xp, part="q")(z=_asarray(xp, z)))
    Q = result.numeric(xp, part="Q_coordinate")
    G = result.numeric(xp, part="mirror_gradient")
    ref = np.array([float(to_numpy(q_potential(_asarray(xp, np.array([wi])), alpha))) for wi in w])
    qref = ref / alpha**2
    Qw = to_numpy(Q(w=_asarray(xp, w), alpha=alpha))
    scale = float(np.max(np.abs(qref))) + 1.0
    fp = tol.floating_point(scale * max(1.0, alpha**2), ops=20)
    h = 1e-4 * alpha**2
    fd = (to_numpy(Q(w=_asarray(xp, w + h), alpha=alpha)) - to_numpy(Q(w=_asarray(xp, w - h), alpha=alpha))) / (2 * h)
    grad = to_numpy(G(w=_asarray(xp, w), alpha=alpha))
    # Central difference of Q(w) = α²q(w/α²): error ≤ h²/6·sup|Q‴|, Q‴ = q‴/α², |q‴| ≤ 0.1.
    t_fd = tol.Tolerance(h * h * 0.1 / (6 * alpha**2), "central difference: h²/6·sup|Q‴| with |Q‴| ≤ 0.1/α²") \
        + tol.floating_point(scale * alpha**2 / h, ops=4)
    s = rng.uniform(-2.0, 2.0, 3)
    conj = to_numpy(result.numeric(xp, part="conjugate")(z=_asarray(xp, s), alpha=alpha))
    leg = []
    for si in s:
        def f(v: float, si: float = si) -> float:
            return float(to_numpy(G(w=v, alpha=alpha))) - si

        lo, hi = -50.0 * alpha**2, 50.0 * alpha**2
        try:
            ws = brentq(f, lo, hi, xtol=1e-15, rtol=1e-15)
        except ValueError:  # no sign change: the claimed gradient is not the asinh it should be
            ws = float("nan")
        leg.append(si * ws - float(to_numpy(Q(w=ws, alpha=alpha))))
    leg_arr = np.array(leg)
    return [
        Outcome.close(float(np.max(np.abs(stmt - qref))), 0.0, tol.floating_point(scale, ops=20),
                      quantity="statement q(z) vs numerics.diagonal.q_potential/α²"),
        Outcome.close(float(np.max(np.abs(q - qref))), 0.0, tol.floating_point(scale, ops=20),
                      quantity="q vs numerics.diagonal.q_potential/α²"),
        Outcome.close(float(np.max(np.abs(Qw - ref))), 0.0, fp,
                      quantity="Q_coordinate vs numerics.diagonal.q_potential"),
        Outcome.close(float(np.max(np.abs(fd - grad))), 0.0, t_fd,
                      quantity="d/dw Q_coordinate vs mirror_gradient"),
        Outcome.close(float(np.max(np.abs(conj - leg_arr))), 0.0,
                      tol.floating_point(float(np.nanmax(np.abs(leg_arr))) + 1.0, ops=200),
                      quantity="conjugate vs sup_w (s·w − Q(w))"),
    ]


@check("diagonal.implicit_bias", strategy=_bias_params(), examples=2,
       example={"n": 4, "d": 10, "k": 2, "alpha": 0.5, "seed": 0})
def check_implicit_bias(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """GD limits at steps η, η/2, η/4 extrapolated to η → 0 (Richardson to second order)
    vs the argmin of the claimed Q_α on {Xw = y} (BFGS on the null space with the claimed
    gradient); the claimed q, Q_α, mirror_gradient and conjugate against numerics and
    against each other.

    Tolerance of the GD comparison: the second-order extrapolation A₃ is compared, within
    ‖A₃ − A₂‖ (the O(η²) error of the first-order A₂, a posteriori; the expansion in η is
    assumed, not certified), plus the residual floor ‖Xw − y‖/σ_min·(1 + |w|/α²) and the
    solvers' 1e-9."""
    X, y = _problem(p)
    a = p["alpha"]
    w_q = _claimed_argmin(result, xp, X, y, a)
    runs = [_gd_limit(X, y, a, scale, xp, 60.0) for scale in (0.2, 0.1, 0.05)]
    ws = [w for w, _ in runs]
    A2 = 2 * ws[2] - ws[1]                           # first order: error c₂η²/8
    A3 = (8 * ws[2] - 6 * ws[1] + ws[0]) / 3          # second order: error O(η³)
    smin = float(np.linalg.svd(X, compute_uv=False).min())
    wmax = float(np.abs(w_q).max())
    loss = max(l for _, l in runs)
    floor = tol.Tolerance(np.sqrt(2 * loss) / smin * (1 + wmax / a**2) + 1e-9 * (1 + wmax),
                          "residual floor ‖Xw − y‖/σ_min·(1 + |w|/α²) + solver 1e-9")
    rem = tol.Tolerance(float(np.linalg.norm(A3 - A2)),
                        "remainder of the extrapolation: ‖A₃ − A₂‖, the O(η²) error of the "
                        "first-order one, bounds the O(η³) error of the second-order A₃ (a posteriori)")
    return Outcome.all_of([
        Outcome.close(0.0, float(np.linalg.norm(A3 - w_q)), rem + floor,
                      quantity="‖GD limit (η → 0) − argmin of the claimed Q_α‖",
                      err_eta4=float(np.linalg.norm(ws[2] - w_q))),
        *_potential_outcomes(result, xp, host_rng(p)),
    ])


_LIMIT_EXAMPLE = {"n": 6, "d": 12, "k": 1, "small": [1e-1, 1e-3, 1e-5], "large": [3.0, 30.0],
                  "seed": 3}


def _limit_runs(p: dict[str, Any], xp: Any) -> dict[str, Any]:
    X, y = _problem(p)
    l1 = to_numpy(min_l1_interpolant(_asarray(xp, X), _asarray(xp, y)))
    l2 = to_numpy(min_l2_interpolant(_asarray(xp, X), _asarray(xp, y)))
    Ws, Ls = _gd_limits_small(X, y, p["small"], xp, 1000.0)
    small = [(a, w, l) for a, w, l in zip(p["small"], Ws, Ls)]
    large = [(a, *_gd_limit(X, y, a, 0.2, xp, 60.0)) for a in p["large"]]
    return {"X": X, "y": y, "l1": l1, "l2": l2, "small": small, "large": large}


@check("diagonal.scale_limits", example=_LIMIT_EXAMPLE)
def check_scale_limits(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """The limits of Q_α = numerics.diagonal.q_potential (independent of the claims; stable
    down to α = 1e-16) per coordinate, at random w of both signs:

    * small_alpha: Q_α(w)/L, L = log(1/α²), is |w| + |w|(log|w| − 1)/L + O(α²/L): the
      values at α = 1e-8 and 1e-16, extrapolated linearly in 1/L, give the limit to O(α²);
    * large_alpha: α²Q_α(w) at α = 10³ (next term w⁴/(192α⁴) ≈ 1e-14);
    * the statement (the two limits as equations) evaluated at the parts' values: true, and
      false at the values × (1 + 1e-6).

    GD from small/large α approaching the min-ℓ1/ℓ2 interpolants is the figure's content:
    the distances are reported in the details (the approach in α is logarithmic, so a
    pass/fail threshold on it would not be derived)."""
    rng = host_rng(p)
    w = rng.uniform(0.2, 3.0, 6) * rng.choice([-1.0, 1.0], 6)
    wx = _asarray(xp, w)
    small = to_numpy(result.numeric(xp, part="small_alpha")(w=wx))
    large = to_numpy(result.numeric(xp, part="large_alpha")(w=wx))

    def Q(alpha: float) -> np.ndarray:
        return np.array([float(to_numpy(q_potential(_asarray(xp, np.array([wi])), alpha))) for wi in w])

    L1, L2 = np.log(1 / 1e-8**2), np.log(1 / 1e-16**2)
    V1, V2 = Q(1e-8) / L1, Q(1e-16) / L2
    lim_small = (L2 * V2 - L1 * V1) / (L2 - L1)
    a_l = 1e3
    lim_large = a_l**2 * Q(a_l)
    t_small = tol.floating_point(float(np.max(np.abs(w))) * L2, ops=20, cond=L2 / (L2 - L1)) \
        + tol.Tolerance(4 * 1e-16, "O(α²/L) remainder at α = 1e-8")
    t_large = tol.Tolerance(float(np.max(w**4)) / (192 * a_l**4), "next Taylor term w⁴/(192α⁴)") \
        + tol.floating_point(float(np.max(w**2)), ops=20, cond=1e6)
    stmt = result.numeric(xp)
    true_at = bool(np.all(to_numpy(stmt(w=wx, l1=_asarray(xp, small), l2=_asarray(xp, large)))))
    false_at = bool(np.any(to_numpy(stmt(w=wx, l1=_asarray(xp, small * (1 + 1e-6)),
                                         l2=_asarray(xp, large * (1 + 1e-6))))))
    rel = tol.Tolerance(0.0, "a relation: evaluated exactly")
    out = _limit_runs(p, xp)
    l1, l2 = out["l1"], out["l2"]
    details = {"gd_small_to_l1": [float(np.linalg.norm(v - l1)) for _, v, _ in out["small"]],
               "gd_large_to_l2": [float(np.linalg.norm(v - l2)) for _, v, _ in out["large"]],
               "l1_l2_gap": float(np.linalg.norm(l1 - l2))}
    return Outcome.all_of([
        Outcome.close(0.0, float(np.max(np.abs(lim_small - small))), t_small,
                      quantity="lim Q_α/log(1/α²) (α → 0) vs small_alpha", **details),
        Outcome.close(0.0, float(np.max(np.abs(lim_large - large))), t_large,
                      quantity="lim α²Q_α (α → ∞) vs large_alpha"),
        Outcome.at_least(float(true_at), 1.0, rel, quantity="statement true at the parts' values"),
        Outcome.at_most(float(false_at), 0.0, rel, quantity="statement false 1e-6 away"),
    ])


@figure("diagonal.scale_limits")
def figure_scale_limits(p: dict[str, Any], xp: Any) -> Any:
    """Coordinates of the GD limit of a diagonal net against the initialization scale α, between
    the min-ℓ1 interpolant (α → 0, left markers) and the min-ℓ2 one (α → ∞, right markers)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    X, y = _problem(p)
    alphas = np.geomspace(1e-4, 10.0, 12)
    small = alphas[alphas <= 1]
    W = np.vstack([_gd_limits_small(X, y, list(small), xp, 1500.0)[0]]
                  + [_gd_limit(X, y, a, 0.2, xp, 60.0)[0][None] for a in alphas[alphas > 1]])
    l1 = to_numpy(min_l1_interpolant(_asarray(xp, X), _asarray(xp, y)))
    l2 = to_numpy(min_l2_interpolant(_asarray(xp, X), _asarray(xp, y)))
    fig, ax = plt.subplots(figsize=(6.8, 3.6))
    for j in range(W.shape[1]):
        ax.semilogx(alphas, W[:, j], "-", lw=1)
    ax.scatter(np.full(len(l1), alphas[0] / 2), l1, marker=">", c="k", label="min-ℓ1")
    ax.scatter(np.full(len(l2), alphas[-1] * 2), l2, marker="<", c="r", label="min-ℓ2")
    ax.set_xlabel("initialization scale α (units of w)")
    ax.set_ylabel("coordinates of the\nGD limit w (units of w)")
    ax.set_title("Diagonal net: rich (ℓ1) to kernel (ℓ2) regime", fontsize=MIN_FONT + 2)
    legend_outside(ax)
    fig.tight_layout()
    return fig
