"""Sums of quadratics, the escape example, exact second-moment maps and thresholds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from numerics import GD, SGD, run
from numerics.backend import to_numpy
from numerics.stability import (
    PiecewiseQuadratic1D,
    SumOfQuadratics,
    escape_example,
    first_exit,
    largest_stable_eta,
    minibatch_factor,
    moments,
    quadratic_ensemble,
    second_moment_map,
    sharpness_nonuniformity,
)
from tests.conftest import assert_close

EPS = np.finfo(np.float64).eps


def _ensemble(seed=0, n=5, p=3):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, p, 2))
    return g @ np.swapaxes(g, -1, -2) / 2  # rank-2 PSD, non-commuting


def test_sum_of_quadratics_derivatives(xp) -> None:
    H = _ensemble()
    m = SumOfQuadratics(xp.asarray(H))
    x = np.random.default_rng(1).standard_normal((4, 3))
    Hm = H.mean(0)
    assert_close(m.loss(xp.asarray(x)), 0.5 * np.einsum("ri,ij,rj->r", x, Hm, x), rtol=1e-12, xp=xp)
    assert_close(m.grad(xp.asarray(x)), x @ Hm, rtol=1e-12, xp=xp)
    assert_close(m.hvp(None, xp.asarray(x)), x @ Hm, rtol=1e-12, xp=xp)
    assert_close(m.per_sample_hvp(xp.asarray(x)), np.einsum("kij,rj->rki", H, x), rtol=1e-12, xp=xp)
    # Central differences of the loss (exact for a quadratic up to rounding ~eps·L/h).
    h = 1e-5
    fd = np.stack([(to_numpy(m.loss(xp.asarray(x + h * e))) - to_numpy(m.loss(xp.asarray(x - h * e)))) / (2 * h)
                   for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(to_numpy(m.grad(xp.asarray(x))), fd, rtol=1e-7, atol=1e-9)


def test_batch_grad_matches_explicit_sum(xp) -> None:
    H = _ensemble(n=6)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 3))
    idx = np.stack([rng.permutation(6)[:4] for _ in range(3)])
    want = np.stack([np.mean([H[i] @ x[r] for i in idx[r]], axis=0) for r in range(3)])
    m = SumOfQuadratics(xp.asarray(H))
    assert_close(m.batch_grad(xp.asarray(x), xp.asarray(idx)), want, rtol=1e-12, xp=xp)
    # per-replica Hessians
    Hr = np.stack([_ensemble(seed=s, n=6) for s in range(3)])
    want = np.stack([np.mean([Hr[r, i] @ x[r] for i in idx[r]], axis=0) for r in range(3)])
    mr = SumOfQuadratics(xp.asarray(Hr))
    assert_close(mr.batch_grad(xp.asarray(x), xp.asarray(idx)), want, rtol=1e-12, xp=xp)
    full = np.tile(np.arange(6), (3, 1))
    assert_close(m.batch_grad(xp.asarray(x), xp.asarray(full)), to_numpy(m.grad(xp.asarray(x))),
                 rtol=1e-12, atol=1e-14, xp=xp)


@pytest.mark.parametrize("commuting", [True, False])
def test_quadratic_ensemble_has_prescribed_a_and_s(xp, commuting) -> None:
    H = quadratic_ensemble(1.5, 0.9, 7, 4, rng=3, commuting=commuting, xp=xp)
    assert H.shape == (7, 4, 4)
    a, s = sharpness_nonuniformity(H)
    assert_close(a, 1.5, rtol=1e-10, xp=xp)
    assert_close(s, 0.9, rtol=1e-8, xp=xp)
    assert float(np.linalg.eigvalsh(to_numpy(H)).min()) >= -1e-12
    HH = to_numpy(H)
    comm = np.abs(HH[0] @ HH[1] - HH[1] @ HH[0]).max()
    assert (comm < 1e-12) == commuting


def test_quadratic_ensemble_infeasible_s() -> None:
    with pytest.raises(ValueError, match=r"s must be <= a·sqrt\(n-1\)"):
        quadratic_ensemble(1.0, 3.0, 4, 2, rng=0, commuting=True)
    with pytest.raises(ValueError, match="s must be <= .* for a non-commuting PSD ensemble"):
        quadratic_ensemble(1.0, 50.0, 4, 2, rng=0)


def _enumerated_map(H, eta, B):
    """E over all C(n, B) batches of (I − ηH_B) ⊗ (I − ηH_B): an independent computation."""
    n, p = H.shape[0], H.shape[-1]
    acc = np.zeros((p * p, p * p))
    batches = list(itertools.combinations(range(n), B))
    for b in batches:
        A = np.eye(p) - eta * H[list(b)].mean(0)
        acc += np.kron(A, A)
    return acc / len(batches)


@pytest.mark.parametrize("B", [1, 2, 4, 5])
def test_second_moment_map_matches_enumeration(xp, B) -> None:
    H = _ensemble(n=5)
    T = second_moment_map(xp.asarray(H), 0.7, B)
    assert_close(T, _enumerated_map(H, 0.7, B), rtol=1e-12, atol=1e-13, xp=xp)


def test_thresholds_exact_ge_sufficient_and_spectral_radius_one(xp) -> None:
    H = _ensemble(n=6, seed=4)
    for B in (1, 2, 3, 6):
        eta_e = largest_stable_eta(xp.asarray(H), B)
        eta_s = largest_stable_eta(xp.asarray(H), B, condition="sufficient")
        eta_g = largest_stable_eta(xp.asarray(H), B, condition="gd")
        assert eta_s <= eta_e * (1 + 1e-12) <= eta_g * (1 + 1e-10)
        rho = np.abs(np.linalg.eigvals(_enumerated_map(H, eta_e, B))).max()
        assert abs(rho - 1) < 1e-10
        P = np.mean([(np.eye(3) - eta_s * H[list(b)].mean(0)) @ (np.eye(3) - eta_s * H[list(b)].mean(0))
                     for b in itertools.combinations(range(6), B)], axis=0)
        assert abs(np.linalg.eigvalsh(P)[-1] - 1) < 1e-10
    assert abs(largest_stable_eta(xp.asarray(H), 6) - 2 / np.linalg.eigvalsh(H.mean(0))[-1]) < 1e-10


def test_thresholds_on_singular_mean_hessian(xp) -> None:
    # Null space shared by all H_i: marginal there; the threshold is that of the range.
    H = np.zeros((3, 3, 3))
    H[:, :2, :2] = _ensemble(n=3, p=2)
    eta = largest_stable_eta(xp.asarray(H), 1)
    assert abs(eta - largest_stable_eta(xp.asarray(H[:, :2, :2]), 1)) < 1e-12


def test_escape_example_curvatures(xp) -> None:
    m = escape_example(xp=xp)
    x = xp.asarray([[1.0], [0.0]])
    # f'' = ½(f1'' + f2'') = ½(0.2 + 3.8) = 2 at 1 and ½(2 + 2) = 2 at 0.
    assert_close(m.hvp(x, xp.ones((2, 1), dtype=xp.float64)), [[2.0], [2.0]], rtol=1e-14, xp=xp)
    y = xp.asarray([[1.01]])
    assert_close(m.per_sample_grads(y)[:, :, 0], [[0.2 * 0.01, 3.8 * 0.01]], rtol=1e-10, xp=xp)


def test_escape_gd_stays_sgd_leaves(xp) -> None:
    m = escape_example(xp=xp)
    x0 = xp.full((64, 1), 1 - 1e-5, dtype=xp.float64)
    gd = run(m, GD(0.7), x0[:1, :], 60, record=())
    assert_close(gd.x, [[1.0]], rtol=0, atol=1e-15, xp=xp)
    sgd = run(m, SGD(0.7, batch=1), x0, 400, record=("x",), record_every=20, rng=5)
    assert float(xp.max(xp.abs(sgd.x))) < 1e-12
    esc, when = first_exit(sgd.records["x"], sgd.steps, xp.asarray([1.0]), 0.1)
    assert bool(xp.all(esc)) and bool(xp.all(when > 0))


def test_moments_and_first_exit(xp) -> None:
    x = np.random.default_rng(6).standard_normal((3, 50, 2))
    est = moments(xp.asarray(x))
    assert_close(est.mean, x.mean(1), rtol=1e-12, xp=xp)
    assert_close(est.second_se, (x**2).sum(-1).std(1, ddof=1) / np.sqrt(50), rtol=1e-12, xp=xp)
    traj = np.zeros((3, 2, 1))
    traj[2, 1, 0] = 5.0
    esc, when = first_exit(xp.asarray(traj), [0, 10, 20], xp.asarray([0.0]), 1.0)
    assert to_numpy(esc).tolist() == [False, True]
    assert to_numpy(when).tolist() == [-1, 20]


def test_minibatch_factor() -> None:
    assert minibatch_factor(10, 10) == 0.0
    assert minibatch_factor(10, 1) == 1.0
    assert minibatch_factor(5, 2) == 3 / 8


def test_bad_input_errors() -> None:
    bad = np.stack([np.diag([1.0, -0.5]), np.eye(2)])
    with pytest.raises(ValueError, match="H must be positive semi-definite"):
        SumOfQuadratics(bad)
    with pytest.raises(ValueError, match="H must be symmetric"):
        SumOfQuadratics(np.stack([np.array([[1.0, 1.0], [0.0, 1.0]])]))
    with pytest.raises(ValueError, match=r"H must have shape \(n, p, p\)"):
        SumOfQuadratics(np.ones((2, 2, 3)))
    H = _ensemble(n=4)
    with pytest.raises(ValueError, match=r"batch must be in \[1, n=4\]; got 5"):
        largest_stable_eta(H, 5)
    with pytest.raises(ValueError, match="batch must be an integer >= 1"):
        second_moment_map(H, 0.1, 0)
    with pytest.raises(ValueError, match="eta must be finite and positive"):
        second_moment_map(H, -0.1, 2)
    with pytest.raises(ValueError, match="condition must be one of 'exact', 'sufficient', 'gd'; got 'nope'"):
        largest_stable_eta(H, 2, condition="nope")
    with pytest.raises(ValueError, match="H must be positive semi-definite"):
        largest_stable_eta(bad, 1)
    m = SumOfQuadratics(H)
    with pytest.raises(ValueError, match=r"x must have shape \(R, p=3\)"):
        m.grad(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"batch must be in \[1, n=4\]; got 7"):
        run(m, SGD(0.1, batch=7), np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="eta must be finite and positive"):
        SGD(0.0, batch=1)
    with pytest.raises(ValueError, match="coef and centers disagree"):
        PiecewiseQuadratic1D(np.ones((2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="coef must be non-negative"):
        PiecewiseQuadratic1D(-np.ones((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"x and center disagree: center must have shape \(p=1,\) to match x of shape \(1, 2, 1\); got shape \(2,\)"):
        first_exit(np.zeros((1, 2, 1)), [0], np.zeros(2), 1.0)


def test_blocked_minibatch_gradient_matches_the_unblocked_one(xp, monkeypatch) -> None:
    """Force tiny replica blocks: the result must not depend on the blocking."""
    import numpy as np

    from numerics.backend import to_numpy
    from numerics.stability import SumOfQuadratics

    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 3, 3))
    H = xp.asarray(np.einsum("nij,nkj->nik", M, M))
    R = 7
    for per_replica in (False, True):
        Hs = xp.asarray(np.broadcast_to(to_numpy(H), (R, 6, 3, 3)).copy()) if per_replica else H
        model = SumOfQuadratics(Hs)
        x = xp.asarray(rng.standard_normal((R, 3)))
        idx = xp.asarray(rng.integers(0, 6, (R, 2)))
        whole = to_numpy(model.batch_grad(x, idx))
        monkeypatch.setattr(SumOfQuadratics, "_BLOCK_BYTES", 8 * 2 * 9 * 3)  # blocks of 3 replicas
        blocked = to_numpy(model.batch_grad(x, idx))
        monkeypatch.undo()
        np.testing.assert_allclose(blocked, whole, rtol=1e-14, atol=1e-14)
