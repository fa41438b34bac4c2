"""Checks of the ``langevin.*`` results: Langevin iterations reach the Boltzmann law, and the
flat basin's share of it grows like k^d (memo 004, figures 3 and 4)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

import theory
from numerics import run, to_numpy
from numerics.langevin import Langevin, TwoWellPotential
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import seeds

_PHI1 = math.exp(-0.5) / math.sqrt(2 * math.pi)  # φ(1): max |Φ(x/√(1+ε)) − Φ(x)| ≈ φ(1)ε/2


def _potential(p: dict[str, Any], d: int) -> TwoWellPotential:
    # Barrier height ≈ a(2c/(1 + k))²/2 = barrier·T along the axis between the minima.
    k, c, T = p["k"], 1.0, p["T"]
    a = 2 * p["barrier"] * T / (2 * c / (1 + k)) ** 2
    return TwoWellPotential(d, a=a, k=k, c=c, tau=p["tau_ratio"] * T)


def _ula_bias(a: float, eta: float) -> float:
    """KS distance between N(0, σ²) and the Euler chain's N(0, σ²/(1 − ηa/2)) on a well of
    curvature a: ≈ φ(1)·ε/2 with ε = (ηa/2)/(1 − ηa/2), the largest of the two wells."""
    eps = (eta * a / 2) / (1 - eta * a / 2)
    return _PHI1 * eps  # φ(1)ε/2 per well, ×2 for the two wells


def _langevin_final(pot: TwoWellPotential, T: float, eta: float, steps: int, R: int,
                    seed: int, xp: Any, batch: int | None = None) -> np.ndarray:
    # Half the replicas start at each minimum: the masses must move between the basins.
    d = pot.d
    x0 = np.zeros((R, d))
    x0[: R // 2, 0] = -pot.c
    x0[R // 2:, 0] = pot.c
    traj = run(pot, Langevin(eta, T), xp.asarray(x0), steps, record=(), rng=seed)
    return to_numpy(traj.x)


@st.composite
def _boltzmann_params(draw: Any) -> dict[str, Any]:
    return {"T": draw(st.floats(0.2, 1.0)), "k": draw(st.floats(1.5, 3.0)),
            "barrier": draw(st.floats(0.5, 1.2)), "tau_ratio": draw(st.floats(0.5, 2.0)),
            "seed": draw(seeds)}


@check("langevin.boltzmann", strategy=_boltzmann_params(), examples=2,
       example={"T": 0.5, "k": 2.0, "barrier": 1.0, "tau_ratio": 1.3, "seed": 0})
def check_boltzmann(p: dict[str, Any], xp: Any) -> Outcome:
    """1-D two-well potential, R independent replicas' final states (no autocorrelation):
    Kolmogorov–Smirnov distance to the Boltzmann CDF (quadrature of exp(−U/T) on a fine grid).

    Critical value: the asymptotic KS quantile √(log(2/α)/2)/√R at α = 1e-6, plus the
    Euler bias (variance inflation 1/(1 − ηa/2) of the chain on the sharpest well)."""
    from scipy.integrate import cumulative_trapezoid  # noqa: PLC0415

    T = p["T"]
    pot = _potential(p, 1)
    eta = 0.04 / pot.a
    # Relaxation: 8 sharp-well times 1/a plus 8 flat-well times k²/a, × e^{barrier}.
    steps = int(math.ceil(8 * (1 + pot.k**2) * math.exp(p["barrier"]) / (pot.a * eta)))
    R = 2000
    x = _langevin_final(pot, T, eta, steps, R, p["seed"], xp)[:, 0]
    lo, hi = -pot.c - 12 * math.sqrt(T / pot.a), pot.c + 12 * pot.k * math.sqrt(T / pot.a)
    grid = np.linspace(lo, hi, 20001)
    U = to_numpy(pot.loss(xp.asarray(grid[:, None])))
    dens = to_numpy(theory.get("langevin.boltzmann").numeric(xp, part="unnormalized")(
        U_x=xp.asarray(U - U.min()), T=T))
    cdf = cumulative_trapezoid(dens, grid, initial=0.0)
    cdf /= cdf[-1]
    xs = np.sort(x)
    F = np.interp(xs, grid, cdf)
    i = np.arange(1, R + 1)
    ks = float(max(np.max(i / R - F), np.max(F - (i - 1) / R)))
    crit = math.sqrt(math.log(2 / tol.FALSE_ALARM) / 2) / math.sqrt(R)
    t = tol.Tolerance(crit, f"KS critical value at α = {tol.FALSE_ALARM:g}, R = {R}") + tol.Tolerance(
        _ula_bias(pot.a, eta), "Euler bias: φ(1)ε with ε = ηa/2/(1 − ηa/2)")
    return Outcome.at_most(ks, 0.0, t, quantity="KS distance to exp(−U/T)/Z", steps=steps)


def _apollonius_masses(pot: TwoWellPotential, var_s: float, var_f: float) -> float:
    """Flat-basin probability under the mixture w_s N(m_s, var_s I) + w_f N(m_f, var_f I),
    w_f/w_s = (var_f/var_s)^{d/2}; the sharp basin is the ball |x − b| < ρ,
    b = −c(k² + 1)/(k² − 1) e₁, ρ = 2ck/(k² − 1) (non-central χ² CDF)."""
    from scipy.stats import ncx2  # noqa: PLC0415

    d, c, k = pot.d, pot.c, pot.k
    b = -c * (k * k + 1) / (k * k - 1)
    rho = 2 * c * k / (k * k - 1)
    ratio = (var_f / var_s) ** (d / 2)
    w_s, w_f = 1 / (1 + ratio), ratio / (1 + ratio)
    p_s = w_s * ncx2.cdf(rho**2 / var_s, d, (-c - b) ** 2 / var_s) + w_f * ncx2.cdf(
        rho**2 / var_f, d, (c - b) ** 2 / var_f)
    return 1.0 - float(p_s)


_MASS_EXAMPLE = {"T": 1.0, "k": 2.0, "barrier": 1.0, "tau_ratio": 1.0, "dims": [1, 2, 3, 4, 5],
                 "replicas": 1000, "eta_a": 0.1, "seed": 0}


def _mass_runs(p: dict[str, Any], xp: Any) -> list[dict[str, Any]]:
    out = []
    for j, d in enumerate(p["dims"]):
        pot = _potential(p, d)
        eta = p["eta_a"] / pot.a
        steps = int(math.ceil(5 * math.exp(p["barrier"]) * pot.k**2 / (pot.a * eta)))
        x = _langevin_final(pot, p["T"], eta, steps, p["replicas"], p["seed"] + j, xp)
        flat = to_numpy(pot.in_flat_basin(xp.asarray(x)))
        out.append({"d": d, "pot": pot, "eta": eta, "x": x, "frac": float(np.mean(flat)),
                    "steps": steps})
    return out


@check("langevin.basin_mass_ratio", example=_MASS_EXAMPLE)
def check_basin_mass_ratio(p: dict[str, Any], xp: Any) -> Outcome:
    """Two wells of equal depth, the flat one k = 2 times wider per dimension, T = τ so that
    e^{−U/T} is exactly a two-Gaussian mixture with component masses in ratio k^d
    (langevin.basin_mass_ratio). For d = 1…5, the fraction of R replicas in the flat basin vs
    the exact basin mass (Laplace k^d corrected by the Gaussian tails across the basin
    boundary, a non-central χ² CDF). Tolerance: binomial z·√(p(1−p)/R) (Bonferroni over d)
    plus the Euler bias (each well's variance inflated by 1/(1 − ηa/2))."""
    res = theory.get("langevin.basin_mass_ratio")
    outs = []
    m = len(p["dims"])
    for r in _mass_runs(p, xp):
        pot, eta = r["pot"], r["eta"]
        var_s, var_f = p["T"] / pot.a, p["T"] * pot.k**2 / pot.a
        laplace = float(to_numpy(res.numeric(xp)(k=pot.k, d=float(r["d"]))))
        exact = _apollonius_masses(pot, var_s, var_f)
        euler = _apollonius_masses(pot, var_s / (1 - eta * pot.a / 2),
                                   var_f / (1 - eta * pot.a / (2 * pot.k**2)))
        mc = tol.monte_carlo(math.sqrt(exact * (1 - exact)), p["replicas"], m=m)
        bias = tol.Tolerance(abs(euler - exact), "Euler bias: wells' variances × 1/(1 − ηa/2)")
        outs.append(Outcome.close(exact, r["frac"], mc + bias,
                                  quantity=f"d = {r['d']}: flat-basin mass (Laplace ratio k^d = {laplace:g})",
                                  laplace_fraction=laplace / (1 + laplace), exact=exact))
    return Outcome.all_of(outs)


@figure("langevin.basin_mass_ratio")
def figure_basin_mass_ratio(p: dict[str, Any], xp: Any) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    runs = _mass_runs(p, xp)
    fig, axes = plt.subplots(1, len(runs), figsize=(2.6 * len(runs), 2.8), sharey=True)
    for ax, r in zip(np.atleast_1d(axes), runs):
        pot = r["pot"]
        ax.hist(r["x"][:, 0], bins=60, density=True, alpha=0.6, label="GDL replicas")
        grid = np.linspace(-2.5, 3.5, 400)
        X = np.zeros((grid.size, pot.d))
        X[:, 0] = grid
        ax.plot(grid, to_numpy(pot.loss(xp.asarray(X))) / 10, "k-", lw=0.8, label="U(x₁, 0)/10")
        ax.set_title(f"d = {r['d']}: flat mass {r['frac']:.2f}")
        ax.set_xlabel("x₁")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle("Langevin GD: the flat basin (right, k = 2 wider) wins k^d (memo 004, fig. 3)")
    fig.tight_layout()
    return fig
