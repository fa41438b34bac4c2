"""numerics.tracking.SharpnessTracker against quadratics of known spectrum.

Bound used throughout: a Ritz value θ never exceeds λ_max (it is a Rayleigh quotient), and
a converged one satisfies ‖Hy − θy‖ ≤ rtol·|θ|, so some eigenvalue lies within rtol·|θ|
(Krylov–Weinstein); with a gap λ_max − λ_2 far above rtol·λ_max that eigenvalue is λ_max
when the start vector has a component along its eigenvector. Hence
0 ≤ λ_max − θ ≤ rtol·θ + ROUND, ROUND = p·eps·‖H‖ (the rounding of one matvec's p-term
sums, Higham §3.1, times the few Lanczos steps' accumulation bounded by 10).
"""

from __future__ import annotations

import numpy as np
import pytest

from numerics import GD, run
from numerics.backend import to_numpy
from numerics.stability import SumOfQuadratics
from numerics.tracking import SharpnessTracker

EPS = float(np.finfo(np.float64).eps)
R, P = 3, 40


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op torch thread while these tests run (when torch is installed): the
    40 x 40 products are tiny, and on a shared 2-core machine torch's spinning worker threads
    make each ~100 times slower."""
    import importlib.util  # noqa: PLC0415

    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch  # noqa: PLC0415

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class _Drifting:
    """A quadratic whose Hessian (R, p, p) is set from outside: hvp(x, v) = H v per replica."""

    def __init__(self, xp, H: np.ndarray) -> None:
        self.xp, self.p = xp, H.shape[-1]
        self.set(H)

    def set(self, H: np.ndarray) -> None:
        self.H = self.xp.asarray(H)

    def loss(self, x):
        return 0.5 * self.xp.sum(self.grad(x) * x, axis=-1)

    def grad(self, x):
        return (x[:, None, :] @ self.H)[:, 0, :]

    def hvp(self, x, v):
        return (v[:, None, :] @ self.H)[:, 0, :]


def _rotation(rng, p: int, angle: float) -> np.ndarray:
    """exp(angle·S) for a fixed random skew S of unit spectral norm (host, via eig of S)."""
    A = rng.standard_normal((p, p))
    S = (A - A.T) / 2
    S /= np.linalg.norm(S, 2)
    w, V = np.linalg.eig(S)
    return np.real((V * np.exp(angle * w)) @ np.linalg.inv(V))


def _spectra(rng) -> np.ndarray:
    """R spectra in [0.05, 1] with the top eigenvalue at 1.2 + 0.1 r (gap ≥ 0.2)."""
    lam = np.sort(rng.uniform(0.05, 1.0, (R, P)), axis=1)
    lam[:, -1] = 1.2 + 0.1 * np.arange(R)
    return lam


def _track(xp, tracker, rng, records: int = 12):
    """Call the tracker on H_t = Q_t diag(λ·(1 + 0.05 t)) Q_tᵀ, Q_t a slow rotation (angle
    0.05 per record): values and the exact λ_max(t)."""
    Q0 = np.stack([np.linalg.qr(rng.standard_normal((P, P)))[0] for _ in range(R)])
    lam = _spectra(rng)
    S = [_rotation(rng, P, 0.05) for _ in range(R)]
    x = xp.asarray(np.ones((R, P)))
    model = None
    got, want = [], []
    Q = Q0
    for t in range(records):
        H = np.einsum("rij,rj,rkj->rik", Q, lam * (1 + 0.05 * t), Q)
        if model is None:
            model = _Drifting(xp, H)
        else:
            model.set(H)
        got.append(to_numpy(tracker(model, x)))
        want.append(lam[:, -1] * (1 + 0.05 * t))
        Q = np.stack([S[r] @ Q[r] for r in range(R)])
    return np.array(got), np.array(want)


def test_tracked_sharpness_matches_a_drifting_spectrum(xp) -> None:
    rtol = 1e-6
    tracker = SharpnessTracker(rtol=rtol, maxiter=P, seed=1)
    got, want = _track(xp, tracker, np.random.default_rng(0))
    assert tracker.unconverged == [0] * len(got)
    err = want - got
    round_ = 10 * P * EPS * want
    assert np.all(err >= -round_), err.min()
    assert np.all(err <= rtol * got + round_), err.max()


def test_warm_starts_use_fewer_hvps_than_cold_starts(xp) -> None:
    counts = {}
    for warm in (True, False):
        tracker = SharpnessTracker(rtol=1e-6, maxiter=P, seed=1, warm=warm)
        got, want = _track(xp, tracker, np.random.default_rng(0))
        assert np.all(want - got <= 1e-6 * got + 10 * P * EPS * want)
        counts[warm] = tracker.matvecs
    warm, cold = counts[True], counts[False]
    assert warm[0] == cold[0]            # both start cold, from the same seed
    # every later record: the warm start needs fewer Lanczos steps
    assert all(w < c for w, c in zip(warm[1:], cold[1:])), (warm, cold)
    assert sum(warm) < sum(cold)


def test_mix_finds_the_new_top_eigenvalue_after_a_crossing(xp) -> None:
    """λ₁ = 1.2 − 0.1t and λ₂ = 1.0 + 0.1t on fixed eigenvectors cross at t = 1: the old
    Ritz vector is then an exact eigenvector of the second eigenvalue. Without the random
    part (mix = 0) Lanczos stops there at once (invariant subspace) and reports λ₂; with it
    the tracker follows the new top."""
    rng = np.random.default_rng(3)
    Q = np.linalg.qr(rng.standard_normal((P, P)))[0]
    base = np.linspace(0.05, 0.8, P)

    def H(t: float) -> np.ndarray:
        lam = base.copy()
        lam[-1], lam[-2] = 1.2 - 0.1 * t, 1.0 + 0.1 * t
        return np.broadcast_to((Q * lam) @ Q.T, (R, P, P)).copy()

    x = xp.asarray(np.ones((R, P)))
    out = {}
    for mix in (1e-2, 0.0):
        tracker = SharpnessTracker(rtol=1e-8, maxiter=P, mix=mix, seed=2)
        model = _Drifting(xp, H(0.0))
        vals = []
        for t in (0.0, 0.5, 2.0):
            model.set(H(t))
            vals.append(to_numpy(tracker(model, x)))
        out[mix] = np.array(vals)
    top_after = 1.0 + 0.1 * 2.0      # 1.2, against λ₂ = 1.0 at t = 2
    assert np.all(np.abs(out[1e-2][-1] - top_after) <= 1e-8 * top_after + 10 * P * EPS)
    assert np.all(np.abs(out[0.0][-1] - 1.0) <= 1e-8 + 10 * P * EPS)   # locked on λ₂


def test_records_through_run_on_a_sum_of_quadratics(xp) -> None:
    rng = np.random.default_rng(4)
    M = rng.standard_normal((5, 6, 6))
    Hk = M @ np.swapaxes(M, -1, -2)
    lam = np.linalg.eigvalsh(Hk.mean(0))
    model = SumOfQuadratics(xp.asarray(Hk))
    tracker = SharpnessTracker(rtol=1e-10, seed=0)
    tr = run(model, GD(1.0 / lam[-1]), xp.asarray(rng.standard_normal((R, 6))), 30,
             record={"sharpness": tracker}, record_every=10)
    vals = to_numpy(tr.records["sharpness"])
    assert vals.shape == (4, R) and len(tracker.matvecs) == 4
    assert np.all(np.abs(vals - lam[-1]) <= 1e-10 * lam[-1] + 10 * 6 * EPS * lam[-1])
    assert "SharpnessTracker(rtol=1e-10" in repr(tracker) and "records=4" in repr(tracker)


def test_bad_inputs_are_one_clear_line() -> None:
    for kwargs, exc, pattern in [
        ({"rtol": 1.5}, ValueError, r"SharpnessTracker: rtol must be in \(0, 1\); got 1\.5"),
        ({"maxiter": 0}, ValueError, r"SharpnessTracker: maxiter must be"),
        ({"mix": 1.0}, ValueError, r"SharpnessTracker: mix must be in \[0, 1\); got 1\.0"),
        ({"warm": "yes"}, TypeError, r"SharpnessTracker: warm must be True or False"),
    ]:
        with pytest.raises(exc, match=pattern):
            SharpnessTracker(**kwargs)
    with pytest.raises(TypeError, match=r"model must have hvp\(x, v\)"):
        SharpnessTracker()(object(), np.ones((1, 2)))
