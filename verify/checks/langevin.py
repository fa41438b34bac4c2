"""Checks of the ``langevin.*`` results: Langevin iterations reach the Boltzmann law, and the
flat basin's share of it grows like k^d (memo 004, figures 3 and 4)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from numerics import run, to_numpy
from numerics.langevin import HarmonicWell, Langevin, TwoWellPotential
from verify import tolerance as tol
from verify.outcome import Outcome
from verify.registry import check, figure
from verify.strategies import host_rng, seeds

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


def _density(result: Any, xp: Any, U: np.ndarray, T: float, grid: np.ndarray) -> np.ndarray:
    """The claimed density on ``grid``: the statement with its symbol Z given its meaning,
    the partition function Z = ∫e^{−U/T}dx (quadrature of the potential), used as it stands
    (not renormalized: a claim off by a constant factor does not integrate to one)."""
    from scipy.integrate import trapezoid  # noqa: PLC0415

    Z = float(trapezoid(np.exp(-U / T), grid))
    return to_numpy(result.numeric(xp)(U_x=xp.asarray(U), T=T, Z=Z))


def _energy_outcome(result: Any, xp: Any, p: dict[str, Any],
                    energies: np.ndarray, well: Any, T: float, eta: float, m: int) -> Outcome:
    """Mean energy E U of R independent stationary replicas on a harmonic well vs its value
    under the claimed density (quadrature), times the Euler chain's exact factor
    1/(1 − ηa/2). Tolerance: Student t at α/m (R = 4·10⁴, CLT)."""
    from scipy.integrate import trapezoid  # noqa: PLC0415

    s = math.sqrt(T / well.a)
    grid = np.linspace(-14 * s, 14 * s, 8001)
    U = to_numpy(well.loss(xp.asarray(grid[:, None])))
    dens = _density(result, xp, U, T, grid)
    pred = float(trapezoid(U * dens, grid))
    R = energies.size
    mc = tol.monte_carlo(float(np.std(energies, ddof=1)), R, m=m)
    # The Euler chain on a harmonic well is linear: its law is N(0, T/(a(1 − ηa/2))) exactly,
    # so its E U is the Boltzmann one × 1/(1 − ηa/2) (no residual bias).
    chain = pred / (1 - eta * well.a / 2)
    return Outcome.close(chain, float(np.mean(energies)), mc,
                         quantity=f"harmonic well: E U under the statement density "
                                  f"(× 1/(1 − ηa/2), the Euler chain's exact law) vs R = {R} replicas")


@check("langevin.boltzmann", strategy=_boltzmann_params(), examples=2,
       example={"T": 0.5, "k": 2.0, "barrier": 1.0, "tau_ratio": 1.3, "seed": 0})
def check_boltzmann(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """(1) 1-D two-well potential, R independent replicas' final states (no autocorrelation):
    Kolmogorov–Smirnov distance to the claimed CDF (the statement with Z = ∫e^{−U/T}, the
    partition function, integrated as it stands: a CDF not ending at 1 counts). Critical value: the asymptotic KS quantile √(log(2m/α)/2)/√R
    plus the Euler bias (variance inflation 1/(1 − ηa/2) of the chain on the sharpest well).

    (2) The temperature: on a harmonic well U = a x²/2 (a chosen so Z = √(2πT/a) is far from
    1), the mean energy of 4·10⁴ stationary replicas vs E U under the statement (× the
    Euler chain's exact 1/(1 − ηa/2)) — a t-test at α/m whose
    width (≈ 3.7 %) is far below the 10 % a wrong temperature moves it (noise √(ηT) instead
    of √(2ηT) halves it)."""
    from scipy.integrate import cumulative_trapezoid  # noqa: PLC0415

    T = p["T"]
    m = 2
    pot = _potential(p, 1)
    eta = 0.08 / pot.a
    # Relaxation: 8 sharp-well times 1/a plus 8 flat-well times k²/a, × e^{barrier}.
    steps = int(math.ceil(8 * (1 + pot.k**2) * math.exp(p["barrier"]) / (pot.a * eta)))
    R = 2000
    x = _langevin_final(pot, T, eta, steps, R, p["seed"], xp)[:, 0]
    lo, hi = -pot.c - 12 * math.sqrt(T / pot.a), pot.c + 12 * pot.k * math.sqrt(T / pot.a)
    grid = np.linspace(lo, hi, 20001)
    U = to_numpy(pot.loss(xp.asarray(grid[:, None])))
    dens = _density(result, xp, U - U.min(), T, grid)
    cdf = cumulative_trapezoid(dens, grid, initial=0.0)
    xs = np.sort(x)
    F = np.interp(xs, grid, cdf)
    i = np.arange(1, R + 1)
    ks = float(max(np.max(i / R - F), np.max(F - (i - 1) / R), abs(1 - cdf[-1])))
    crit = math.sqrt(math.log(2 * m / tol.FALSE_ALARM) / 2) / math.sqrt(R)
    t = tol.Tolerance(crit, f"KS critical value at α = {tol.FALSE_ALARM:g}/{m}, R = {R}") + tol.Tolerance(
        _ula_bias(pot.a, eta), "Euler bias: φ(1)ε with ε = ηa/2/(1 − ηa/2)")
    # (2) harmonic well, stationary after K steps: variance error (1 − ηa)^{2K} ≤ e^{−2Kηa}.
    well = HarmonicWell(1, a=3.0 / T)
    eta_h = 0.2 / well.a
    K = 60  # from x = 0 the variance error is (1 − ηa)^{2K} = 0.8^120 ≈ 2e-12 relative
    traj = run(well, Langevin(eta_h, T), xp.zeros((40000, 1)), K, record=(), rng=p["seed"] + 1)
    energies = to_numpy(well.loss(traj.x))
    return Outcome.all_of([
        Outcome.at_most(ks, 0.0, t, quantity="two wells: KS distance to the statement's CDF",
                        steps=steps),
        _energy_outcome(result, xp, p, energies, well, T, eta_h, m),
    ])


def _apollonius_masses(pot: TwoWellPotential, var_s: float, var_f: float, ratio: float) -> float:
    """Flat-basin probability under the mixture w_s N(m_s, var_s I) + w_f N(m_f, var_f I)
    with w_f/w_s = ``ratio`` (the claim); the sharp basin is the ball |x − b| < ρ,
    b = −c(k² + 1)/(k² − 1) e₁, ρ = 2ck/(k² − 1) (non-central χ² CDF)."""
    from scipy.stats import ncx2  # noqa: PLC0415

    d, c, k = pot.d, pot.c, pot.k
    b = -c * (k * k + 1) / (k * k - 1)
    rho = 2 * c * k / (k * k - 1)
    w_s, w_f = 1 / (1 + ratio), ratio / (1 + ratio)
    p_s = w_s * ncx2.cdf(rho**2 / var_s, d, (-c - b) ** 2 / var_s) + w_f * ncx2.cdf(
        rho**2 / var_f, d, (c - b) ** 2 / var_f)
    return 1.0 - float(p_s)


_MASS_EXAMPLE = {"T": 1.0, "k": 2.0, "barrier": 1.0, "tau_ratio": 1.0, "dims": [1, 2, 3, 4, 5],
                 "replicas": 2000, "eta_a": 0.1, "seed": 0}


def _mass_runs(p: dict[str, Any], xp: Any) -> list[dict[str, Any]]:
    out = []
    reps = p["replicas"] if isinstance(p["replicas"], list) else [p["replicas"]] * len(p["dims"])
    for j, (d, R) in enumerate(zip(p["dims"], reps)):
        pot = _potential(p, d)
        eta = p["eta_a"] / pot.a
        steps = int(math.ceil(5 * math.exp(p["barrier"]) * pot.k**2 / (pot.a * eta)))
        x = _langevin_final(pot, p["T"], eta, steps, R, p["seed"] + j, xp)
        flat = to_numpy(pot.in_flat_basin(xp.asarray(x)))
        out.append({"d": d, "pot": pot, "eta": eta, "x": x, "frac": float(np.mean(flat)),
                    "steps": steps, "R": R})
    return out


def _gaussian_mass(H: np.ndarray, T: float, U_min: float, box: float = 0.0) -> float:
    """∫ e^{−(U_min + ½xᵀHx)/T} dx by the trapezoid rule on a grid (d ≤ 3), times a flat
    direction of length ``box`` if given (a degenerate minimum)."""
    d = H.shape[0]
    s = math.sqrt(T / float(np.linalg.eigvalsh(H).min()))   # the widest direction
    g = np.linspace(-12 * s, 12 * s, {1: 201, 2: 81, 3: 61}[d])
    X = np.stack(np.meshgrid(*([g] * d), indexing="ij"), axis=-1)
    q = np.einsum("...i,ij,...j->...", X, H, X)
    f = np.exp(-(U_min + 0.5 * q) / T)
    for _ in range(d):
        f = np.trapezoid(f, g, axis=0)
    return float(f) * (box if box else 1.0)


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    """A non-diagonal SPD matrix with eigenvalues in [0.5, 2] (so the trapezoid grid, set by
    the widest direction, resolves the narrowest: h ≤ 0.8σ_min, error ~e^{−2π²σ²/h²} ≪ 1e-12)."""
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * rng.uniform(0.5, 2.0, d)) @ Q.T


def _laplace_outcomes(result: Any, xp: Any, rng: np.random.Generator) -> list[Outcome]:
    """laplace_mass vs the quadrature of a Gaussian well (non-diagonal H, U_min ≠ 0) for
    d = 1, 2, 3; degenerate_ratio (d = 3, m = 1 and 2 flat directions over a box of volume
    V_m) vs the quadrature ratio, at two temperatures (so the T^{−m/2} is pinned)."""
    outs = []
    mass = result.numeric(xp, part="laplace_mass")
    for d in (1, 2, 3):
        H = _spd(rng, d)
        T, U_min = float(rng.uniform(0.3, 2.0)), float(rng.uniform(-1.0, 1.0))
        quad = _gaussian_mass(H, T, U_min)
        pred = float(to_numpy(mass(T=T, U_min=U_min, d=float(d), det_H=float(np.linalg.det(H)))))
        outs.append(Outcome.close(pred, quad, tol.Tolerance(1e-9 * quad, "trapezoid on ±12σ: 1e-9"),
                                  quantity=f"laplace_mass vs ∫e^(−U/T), d = {d}"))
    ratio = result.numeric(xp, part="degenerate_ratio")
    H3 = _spd(rng, 3)                        # the non-degenerate well, d = 3
    for m in (1, 2):                         # m flat directions (m = 1 alone is symmetric in T, det H_⊥)
        Hp = _spd(rng, 3 - m)
        V = float(rng.uniform(1.0, 3.0))
        for T in (0.25, 1.0):
            quad = _gaussian_mass(Hp, T, 0.0, box=V) / _gaussian_mass(H3, T, 0.0)
            pred = float(to_numpy(ratio(T=T, V_m=V, det_H=float(np.linalg.det(H3)),
                                        det_H_perp=float(np.linalg.det(Hp)), m=float(m))))
            outs.append(Outcome.close(pred, quad, tol.Tolerance(1e-8 * quad, "trapezoid on ±12σ: 1e-8"),
                                      quantity=f"degenerate_ratio vs quadrature, m = {m}, T = {T}"))
    return outs


def _basin_quadrature(pot: TwoWellPotential, T: float) -> float:
    """d = 1: the flat basin's share of ∫e^{−U/T} for the potential itself, by Gauss–Legendre
    on the three intervals the basin boundary b ± ρ cuts (smooth pieces: error ≪ 1e-12)."""
    k, c = pot.k, pot.c
    b, rho = -c * (k * k + 1) / (k * k - 1), 2 * c * k / (k * k - 1)
    s = math.sqrt(T * k * k / pot.a)
    cuts = [min(b - rho, -c) - 16 * s, b - rho, b + rho, c + 16 * s]
    nodes, weights = np.polynomial.legendre.leggauss(200)
    mass = []
    for lo, hi in zip(cuts, cuts[1:]):
        x = 0.5 * (hi - lo) * nodes + 0.5 * (hi + lo)
        U = pot.loss(np.asarray(x[:, None]))
        mass.append(0.5 * (hi - lo) * float(np.sum(weights * np.exp(-np.asarray(U) / T))))
    return 1.0 - mass[1] / sum(mass)


@check("langevin.basin_mass_ratio", example=_MASS_EXAMPLE)
def check_basin_mass_ratio(p: dict[str, Any], xp: Any, result: Any) -> Outcome:
    """Two wells of equal depth, the flat one k = 2 times wider per dimension, T = τ so that
    e^{−U/T} is exactly a two-Gaussian mixture. The prediction: the flat-basin mass of the
    mixture whose weights are in the claimed ratio M_flat/M_sharp (statement, k^d), the
    Gaussian tails across the basin boundary exact (non-central χ² CDF).

    * d = 1, quadrature of e^{−U/T} over the basins of the potential itself (to 1e-9): pins
      the ratio's constant and exponent (a 10 % error moves the share by 2 %).
    * d = 1…5, the fraction of R replicas of the Langevin chain in the flat basin (the memo's
      figure): binomial z·√(p(1−p)/R) (σ derived, Bonferroni over d) plus the Euler bias
      (each well's variance × 1/(1 − ηa/2)); separates k^d from k^{d/2}.
    * The masses themselves (laplace_mass, degenerate_ratio) against quadrature."""
    outs = []
    m = len(p["dims"])
    pot1 = _potential(p, 1)
    ratio1 = float(to_numpy(result.numeric(xp)(k=pot1.k, d=1.0)))
    outs.append(Outcome.close(
        _apollonius_masses(pot1, p["T"] / pot1.a, p["T"] * pot1.k**2 / pot1.a, ratio1),
        _basin_quadrature(pot1, p["T"]), tol.Tolerance(1e-9, "Gauss–Legendre, 200 nodes per piece"),
        quantity=f"d = 1: flat-basin share of ∫e^(−U/T) (quadrature), claimed ratio {ratio1:g}"))
    for r in _mass_runs(p, xp):
        pot, eta = r["pot"], r["eta"]
        var_s, var_f = p["T"] / pot.a, p["T"] * pot.k**2 / pot.a
        ratio = float(to_numpy(result.numeric(xp)(k=pot.k, d=float(r["d"]))))
        exact = _apollonius_masses(pot, var_s, var_f, ratio)
        euler = _apollonius_masses(pot, var_s / (1 - eta * pot.a / 2),
                                   var_f / (1 - eta * pot.a / (2 * pot.k**2)), ratio)
        mc = tol.monte_carlo(math.sqrt(exact * (1 - exact)), r["R"], m=m, known_std=True)
        bias = tol.Tolerance(abs(euler - exact), "Euler bias: wells' variances × 1/(1 − ηa/2)")
        outs.append(Outcome.close(exact, r["frac"], mc + bias,
                                  quantity=f"d = {r['d']}: flat-basin mass, claimed ratio {ratio:g}"))
    outs += _laplace_outcomes(result, xp, host_rng(p))
    return Outcome.all_of(outs)


@figure("langevin.basin_mass_ratio")
def figure_basin_mass_ratio(p: dict[str, Any], xp: Any) -> Any:
    """Histograms of x₁ over Langevin-GD replicas on a double well whose right basin is k = 2
    times wider, for d = 1..5, with the potential: the flat basin's mass grows like k^d."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from verify.plotting import MIN_FONT, legend_outside  # noqa: PLC0415

    runs = _mass_runs(p, xp)
    fig, axes = plt.subplots(1, len(runs), figsize=(2.6 * len(runs) + 1.8, 2.9), sharey=True)
    for ax, r in zip(np.atleast_1d(axes), runs):
        pot = r["pot"]
        ax.hist(r["x"][:, 0], bins=60, density=True, alpha=0.6, label="GDL replicas")
        grid = np.linspace(-2.5, 3.5, 400)
        X = np.zeros((grid.size, pot.d))
        X[:, 0] = grid
        ax.plot(grid, to_numpy(pot.loss(xp.asarray(X))) / 10, "k-", lw=0.8, label="U(x₁, 0)/10")
        ax.set_title(f"d = {r['d']}: flat mass {r['frac']:.2f}", fontsize=MIN_FONT + 1)
        ax.set_xlabel("x₁ (units of x)")
    first = np.atleast_1d(axes)[0]
    first.set_ylabel("density of x₁ (1/units of x);\npotential U/10 (units of T)")
    legend_outside(np.atleast_1d(axes)[-1])
    fig.suptitle("Langevin GD: the flat basin (right, k = 2 wider) wins k^d (memo 004, fig. 3)")
    fig.tight_layout()
    return fig
