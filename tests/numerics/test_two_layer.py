"""Two-layer models: gradients and HVPs against finite differences, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics import to_numpy
from numerics.two_layer import (
    _MAX_WORK,
    RandomFeatures,
    Teacher,
    TwoLayerPopulation,
    TwoLayerReLU,
    arccos_kernel,
    circle_target,
    finite_neurons,
    linear_target,
    single_neuron,
    xavier_init,
)
from tests.conftest import assert_close


def _fd_dir(f, th, v, h):
    return (to_numpy(f(th + h * v)) - to_numpy(f(th - h * v))) / (2 * h)


def _models(xp):
    rng = np.random.default_rng(0)
    d, m = 3, 4
    X = xp.asarray(rng.standard_normal((12, d)))
    out = []
    for scaling in ("conventional", "mean_field"):
        out.append(TwoLayerReLU(X, xp.asarray(rng.standard_normal(12)), m, scaling=scaling))
        out.append(TwoLayerPopulation(finite_neurons(2, d, rng=1, xp=xp), m, scaling=scaling))
        out.append(TwoLayerPopulation(circle_target(d, nodes=12, xp=xp), m, scaling=scaling,
                                      input="sphere"))
    return out


def test_grad_and_hvp_match_finite_differences(xp) -> None:
    rng = np.random.default_rng(3)
    for M in _models(xp):
        th = xavier_init(2, M.m, M.d, beta=1.0, rng=2, xp=xp)
        v = xp.asarray(rng.standard_normal((2, M.p)))
        # Directional derivative of L along v vs ∇L·v; of ∇L along v vs Hv. Central differences
        # with h = 1e-5: O(h²) truncation (piecewise-smooth, no kink crossed for these draws)
        # plus eps/h rounding ~ 1e-11.
        dl = _fd_dir(M.loss, th, v, 1e-5)
        gv = np.sum(to_numpy(M.grad(th)) * to_numpy(v), axis=-1)
        np.testing.assert_allclose(gv, dl, rtol=1e-6, atol=1e-8)
        hv_fd = _fd_dir(M.grad, th, v, 1e-5)
        assert_close(M.hvp(th, v), hv_fd, rtol=1e-5, atol=1e-7, xp=xp)


def test_hvp_is_symmetric(xp) -> None:
    rng = np.random.default_rng(4)
    for M in _models(xp):
        th = xavier_init(1, M.m, M.d, beta=1.0, rng=5, xp=xp)
        u, v = (xp.asarray(rng.standard_normal((1, M.p))) for _ in range(2))
        a = float(to_numpy(xp.sum(u * M.hvp(th, v))))
        b = float(to_numpy(xp.sum(v * M.hvp(th, u))))
        assert a == pytest.approx(b, rel=1e-10, abs=1e-12)


def test_finite_data_minibatch_and_per_sample(xp) -> None:
    M = _models(xp)[0]
    th = xavier_init(2, M.m, M.d, beta=1.0, rng=2, xp=xp)
    idx = xp.asarray(np.tile(np.arange(M.n), (2, 1)))
    g = to_numpy(M.grad(th))
    assert_close(M.batch_grad(th, idx), g, rtol=1e-12, atol=1e-14, xp=xp)
    np.testing.assert_allclose(to_numpy(M.per_sample_grads(th)).mean(axis=1), g, atol=1e-14)


def test_population_risk_of_zero_net_is_teacher_norm(xp) -> None:
    for T, want in ((single_neuron(3, xp=xp), 0.5), (linear_target(3, xp=xp), 1.0)):
        M = TwoLayerPopulation(T, 2)
        assert float(to_numpy(M.risk(xp.zeros((1, M.p), dtype=xp.float64)))[0]) == pytest.approx(want)
    # E x1² = 1; circle: E f*² = 2/π² up to the quadrature error (Navot, 64 nodes: 3e-8)
    M = TwoLayerPopulation(circle_target(3, xp=xp), 2)
    assert float(to_numpy(M.risk(xp.zeros((1, M.p), dtype=xp.float64)))[0]) == pytest.approx(
        2 / math.pi**2, abs=1e-7)


def test_teacher_fits_itself(xp) -> None:
    T = finite_neurons(3, 4, rng=0, xp=xp)
    M = TwoLayerPopulation(T, 3)
    th = M.pack(T.a_star[None, :], T.B_star[None, ...])
    assert abs(float(to_numpy(M.risk(th))[0])) < 1e-14
    assert float(to_numpy(xp.max(xp.abs(M.grad(th))))) < 1e-14


def test_random_features_is_the_a_block(xp) -> None:
    M = _models(xp)[1]
    th = xavier_init(2, M.m, M.d, beta=1.0, rng=2, xp=xp)
    a, B = M.unpack(th)
    rf = RandomFeatures(M, B)
    assert_close(rf.grad(a), to_numpy(M.grad(th))[:, : M.m], rtol=1e-14, atol=1e-15, xp=xp)
    assert_close(rf.loss(a), to_numpy(M.loss(th)), rtol=1e-14, xp=xp)


def test_mean_field_is_conventional_with_a_over_m(xp) -> None:
    T = finite_neurons(2, 3, rng=0, xp=xp)
    conv, mf = TwoLayerPopulation(T, 5), TwoLayerPopulation(T, 5, scaling="mean_field")
    th = xavier_init(2, 5, 3, beta=1.0, rng=1, xp=xp)
    a, B = mf.unpack(th)
    assert_close(mf.risk(th), to_numpy(conv.risk(conv.pack(a / 5, B))), rtol=1e-13, xp=xp)


def test_bad_input_is_rejected(xp) -> None:
    with pytest.raises(ValueError, match="width m must be an integer >= 1; got 0"):
        TwoLayerPopulation(single_neuron(3, xp=xp), 0)
    with pytest.raises(ValueError, match=r"a_star and B_star disagree: B_star must have shape \(k=2, d\)"):
        Teacher(xp.ones((2,), dtype=xp.float64), xp.ones((3, 4), dtype=xp.float64))
    with pytest.raises(ValueError, match="B_star must be finite"):
        Teacher(xp.ones((1,), dtype=xp.float64), xp.asarray([[float("nan"), 1.0]]))
    M = TwoLayerPopulation(single_neuron(2, xp=xp), 2)
    with pytest.raises(ValueError, match="B must be finite"):
        M.pack(xp.ones((1, 2), dtype=xp.float64), xp.asarray([[[1.0, float("inf")], [0.0, 1.0]]]))
    with pytest.raises(ValueError, match=r"d must be >= 2 for input=.sphere. \(the kernel reduces to the plane of b, b.\); got d=1"):
        TwoLayerPopulation(single_neuron(1, xp=xp), 2, input="sphere")
    with pytest.raises(ValueError, match=r"d must be >= 2 for input=.sphere. \(the kernel reduces to the plane of b, b.\); got d=1"):
        arccos_kernel(xp.ones((1, 1), dtype=xp.float64), xp.ones((1, 1), dtype=xp.float64), input="sphere")
    with pytest.raises(ValueError, match="theta must have shape"):
        M.loss(xp.zeros((1, 5), dtype=xp.float64))
    with pytest.raises(ValueError, match="scaling must be 'conventional' or 'mean_field'; got 'ntk'"):
        TwoLayerPopulation(single_neuron(2, xp=xp), 2, scaling="ntk")
    with pytest.raises(ValueError, match=r"circle_target: d must be >= 2 \(the circle target lives in the plane of e₁, e₂\); got 1"):
        circle_target(1, xp=xp)
    net = TwoLayerReLU(xp.asarray(np.eye(3)), xp.ones((3,), dtype=xp.float64), 2)
    with pytest.raises(ValueError, match=r"TwoLayerReLU.hvp: v must have the shape of theta, \(2, 8\); got \(1, 8\)"):
        net.hvp(xp.zeros((2, net.p), dtype=xp.float64), xp.zeros((1, net.p), dtype=xp.float64))


# ------------------------------------------------------------- the NumPy buffer fast path
def _reference(net, theta, X, y, w):
    """The array-API formulas (`_forward`, `_grad_from`), which the NumPy path replaces."""
    a, B, H, D, r = net._forward(theta, X, y)
    return net._grad_from(a, H, D, r, X, w), 0.5 * np.mean(r * r, axis=-1)


def _abs_bound(net, theta, X, y, w):
    """The formulas evaluated on absolute values, |X||B|ᵀ for |Z| and so on: S with
    |computed − exact| <= γ_K·S for either evaluation order, K = d + m + n + 5 the longest
    chain of sums (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1)."""
    a, B = net.unpack(theta)
    Xa = np.abs(X) if X.ndim == 3 else np.abs(X)[None]
    Habs = Xa @ np.swapaxes(np.abs(B), -1, -2)  # >= |σ(Z)|, and >= |D∘Z|
    rabs = abs(net.s) * (Habs @ np.abs(a)[..., None])[..., 0] + np.abs(y)
    ga = w * abs(net.s) * (rabs[..., None, :] @ Habs)[..., 0, :]
    gB = w * abs(net.s) * np.abs(a)[..., None] * (np.swapaxes(np.broadcast_to(
        rabs[..., None], Habs.shape), -1, -2) @ Xa)
    return net._join(ga, gB), 0.5 * np.mean(rabs * rabs, axis=-1)


@pytest.mark.parametrize("scaling", ["conventional", "mean_field"])
def test_numpy_buffer_path_equals_the_formulas_to_rounding(scaling) -> None:
    # Sizes past BLAS's small-matrix kernels (the single (R·m, n) GEMM and the R batched ones
    # then sum in different orders). Both evaluations are within γ_K·S of the exact value,
    # so they differ by at most 2γ_K·S, K = d + m + n + 5. (A pre-activation within rounding of
    # 0 could flip σ' between them; with Gaussian data of unit scale the chance is ~1e-11.)
    rng = np.random.default_rng(3)
    R, n, d, m = 3, 300, 40, 64
    X, y = rng.standard_normal((n, d)) / math.sqrt(d), rng.standard_normal((R, n))
    net = TwoLayerReLU(X, y, m, scaling=scaling)
    assert net._fast
    # Roundings along the longest chain: d (Z), m + 2 (r = s·Ha − y), n (the sums over the
    # samples), 3 (w·s, then its products with a and with the sum).
    K = d + m + n + 5
    gamma = _gamma(K)
    for seed in range(3):  # new θ each time: the reused buffer must not leak between calls
        theta = rng.standard_normal((R, net.p)) / math.sqrt(m)
        g_ref, l_ref = _reference(net, theta, X, y, 1.0 / n)
        S_g, S_l = _abs_bound(net, theta, X, y, 1.0 / n)
        g, loss = net.grad(theta), net.loss(theta)
        assert np.all(np.abs(g - g_ref) <= 2 * gamma * S_g)
        assert np.all(np.abs(loss - l_ref) <= 2 * gamma * S_l)
        idx = rng.integers(0, n, (R, 7))
        Xb, yb = net._rows(idx)
        bg_ref, _ = _reference(net, theta, Xb, yb, 1.0 / 7)
        S_b, _ = _abs_bound(net, theta, Xb, yb, 1.0 / 7)
        assert np.all(np.abs(net.batch_grad(theta, idx) - bg_ref) <= 2 * gamma * S_b)
    # Results are fresh arrays: a later call (other θ, other shape) does not change them.
    g1 = net.grad(theta)
    kept = g1.copy()
    net.grad(2 * theta)
    net.batch_grad(theta, idx[:, :3])
    np.testing.assert_array_equal(g1, kept)
    assert len(net._work) <= _MAX_WORK


@pytest.mark.parametrize("reference", ["array-API branch", "plain formula"])
def test_gd_on_the_buffer_path_is_the_formula_step(reference) -> None:
    # Ten GD steps of run() against the update written out with the reference gradient
    # (the module's array-API branch, or _plain below: the formulas written out one
    # replica at a time, as the implementation before the buffer path computed them),
    # from the same θ: equal to the rounding bound of each step's gradient (derived above),
    # accumulated over the steps with the contraction ‖I − ηH‖ <= 1 + η·‖H‖ ignored
    # (η = 0.01 and 10 steps: a factor below 1.1, covered by the 2 in 2γ).
    from numerics import GD, run

    rng = np.random.default_rng(4)
    R, n, d, m = 2, 200, 30, 48
    X, y = rng.standard_normal((n, d)) / math.sqrt(d), rng.standard_normal(n)
    net = TwoLayerReLU(X, y, m)
    theta = rng.standard_normal((R, net.p)) / math.sqrt(m)
    out = run(net, GD(0.01), theta, 10, record=()).x
    ref = theta.copy()
    bound = np.zeros_like(theta)
    K = d + m + n + 5  # as in the test above
    gamma = _gamma(K)
    for _ in range(10):
        if reference == "plain formula":
            g = _plain(X, y, m, net.s, ref)
        else:
            g, _ = _reference(net, ref, X, y, 1.0 / n)
        S, _ = _abs_bound(net, ref, X, y, 1.0 / n)
        bound += 0.01 * 2 * gamma * S + np.finfo(np.float64).eps * np.abs(ref)
        ref = ref - 0.01 * g
    assert np.all(np.abs(out - ref) <= 2 * bound)
    assert np.max(bound) <= 1e-12 * np.max(np.abs(ref))  # rounding-sized: not vacuous


# --------------------------------------------- the HVP against the formulas written plainly
def _plain(X, y, m, s, theta, v=None):
    """Gradient (``v`` None) or Hessian-vector product of L = (1/2n)Σ(f(x_i) − y_i)², one
    replica at a time, in plain NumPy: the class notes' formulas, Gauss–Newton term plus the
    ReLU curvature ∂_{a_j}∇_{b_j}f_i = sD_ij x_i (σ'' = 0 a.e.)."""
    n, d = X.shape
    out = []
    for k in range(theta.shape[0]):
        a, B = theta[k, :m], theta[k, m:].reshape(m, d)
        yk = y[k] if y.ndim == 2 else y
        Z = X @ B.T
        H, D = np.maximum(Z, 0.0), (Z > 0).astype(float)
        r = s * (H @ a) - yk
        if v is None:
            ga = (s / n) * (H.T @ r)
            gB = (s / n) * a[:, None] * ((D * r[:, None]).T @ X)
            out.append(np.concatenate([ga, gB.ravel()]))
            continue
        va, vB = v[k, :m], v[k, m:].reshape(m, d)
        P = D * (X @ vB.T)
        df = s * (H @ va + P @ a)  # directional derivative of f(x_i) along v
        ha = (s / n) * (H.T @ df + P.T @ r)
        hB = (s / n) * ((D * (df[:, None] * a[None, :] + r[:, None] * va[None, :])).T @ X)
        out.append(np.concatenate([ha, hB.ravel()]))
    return np.stack(out)


def _plain_abs(X, y, m, s, theta, v):
    """:func:`_plain`'s HVP on absolute values with every mask D replaced by 1: an entrywise
    upper bound of the sum of the moduli of the terms of each output (so of |∇²L v| itself),
    the S of Higham's |computed − exact| <= γ_K·S (*Accuracy and Stability of Numerical
    Algorithms*, 2nd ed., §3.1). Linear in |v|."""
    n, d = X.shape
    Xa, s = np.abs(X), abs(s)
    out = []
    for k in range(theta.shape[0]):
        a, B = np.abs(theta[k, :m]), np.abs(theta[k, m:].reshape(m, d))
        va, vB = np.abs(v[k, :m]), np.abs(v[k, m:].reshape(m, d))
        yk = np.abs(y[k] if y.ndim == 2 else y)
        H, P = Xa @ B.T, Xa @ vB.T
        r = s * (H @ a) + yk
        df = s * (H @ va + P @ a)
        ha = (s / n) * (H.T @ df + P.T @ r)
        hB = (s / n) * ((df[:, None] * a[None, :] + r[:, None] * va[None, :]).T @ Xa)
        out.append(np.concatenate([ha, hB.ravel()]))
    return np.stack(out)


def _gamma(k):
    eps = np.finfo(np.float64).eps
    return k * eps / (1 - k * eps)


# Roundings along the longest chain of the HVP, counted from the formulas above: d (X vBᵀ),
# m + 1 (P a + H va), 1 (× s), n + 1 (Hᵀδf + Pᵀr, or the n-sum of Cᵀ X), 3 (δf a_j + r v_{a,j}:
# two products and a sum), 2 (s/n, then its product): K = d + m + n + 8.
def _K_hvp(n, d, m):
    return d + m + n + 8


@pytest.mark.parametrize("scaling", ["conventional", "mean_field"])
def test_numpy_hvp_equals_the_plain_formula_to_rounding(scaling) -> None:
    # Both evaluations are within γ_K·S of the exact product (S = _plain_abs), so they differ
    # by at most 2γ_K·S, K = _K_hvp. Sizes past BLAS's small-matrix kernels; per-replica
    # targets y (R, n) and shared ones (n,); θ and v new each time and a gradient call in
    # between (it shares the activation buffer with the HVP): no state leaks between calls.
    # (A pre-activation within rounding of 0 could flip D between them; for Gaussian data of
    # unit scale the chance is ~1e-8 over all n·m·R entries.)
    rng = np.random.default_rng(5)
    R, n, d, m = 3, 300, 40, 64
    X = rng.standard_normal((n, d)) / math.sqrt(d)
    bound = 2 * _gamma(_K_hvp(n, d, m))
    for y in (rng.standard_normal((R, n)), rng.standard_normal(n)):
        net = TwoLayerReLU(X, y, m, scaling=scaling)
        assert net._fast
        for _ in range(3):
            theta = rng.standard_normal((R, net.p)) / math.sqrt(m)
            v = rng.standard_normal((R, net.p))
            hv = net.hvp(theta, v)
            net.grad(2 * theta)
            want = _plain(X, y, m, net.s, theta, v)
            S = _plain_abs(X, y, m, net.s, theta, v)
            assert np.all(np.abs(hv - want) <= bound * S)
            assert np.all(np.abs(net.hvp(theta, v) - hv) <= bound * S)  # after the gradient
    # Results are fresh arrays: later calls do not change them.
    kept = hv.copy()
    net.hvp(2 * theta, v)
    net.grad(theta)
    np.testing.assert_array_equal(hv, kept)


def test_array_api_hvp_and_grad_equal_the_plain_formula_to_rounding() -> None:
    # The array-API branch (array_api_strict: no NumPy fast path) against the same plain
    # formulas and the same 2γ_K·S bounds as the NumPy path (the HVP's S and K above; the
    # gradient's S from _abs_bound, K from test_numpy_buffer_path_equals_the_formulas...).
    xps = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(6)
    R, n, d, m = 2, 200, 30, 48
    X, y = rng.standard_normal((n, d)) / math.sqrt(d), rng.standard_normal(n)
    theta = rng.standard_normal((R, m * (d + 1))) / math.sqrt(m)
    v = rng.standard_normal(theta.shape)
    net = TwoLayerReLU(xps.asarray(X), xps.asarray(y), m)
    assert not net._fast
    hv = to_numpy(net.hvp(xps.asarray(theta), xps.asarray(v)))
    S = _plain_abs(X, y, m, net.s, theta, v)
    assert np.all(np.abs(hv - _plain(X, y, m, net.s, theta, v)) <= 2 * _gamma(_K_hvp(n, d, m)) * S)
    g = to_numpy(net.grad(xps.asarray(theta)))
    S_g, _ = _abs_bound(TwoLayerReLU(X, y, m), theta, X, y, 1.0 / n)
    assert np.all(np.abs(g - _plain(X, y, m, net.s, theta)) <= 2 * _gamma(d + m + n + 5) * S_g)


def test_hvp_iteration_on_the_buffer_path_is_the_plain_iteration() -> None:
    # Eight steps of u ← u − η∇²L u (gradient descent on the quadratic model at a fixed θ,
    # the iteration behind power and Lanczos sharpness estimates) with the NumPy HVP and with
    # the plain formula, from the same u. Their gap e_k obeys
    #   |e_{k+1}| <= |e_k| + η S(|e_k|) + η·2γ_K S(|u_k|) + 2·eps(|u_k| + η|∇²L u_k|)
    # entrywise (S = _plain_abs at θ, which bounds |∇²L w| by linearity in |w|; the last term
    # is the rounding of the update), up to second-order terms, covered by the factor 2.
    rng = np.random.default_rng(7)
    R, n, d, m = 2, 250, 30, 48
    X, y = rng.standard_normal((n, d)) / math.sqrt(d), rng.standard_normal(n)
    net = TwoLayerReLU(X, y, m)
    theta = rng.standard_normal((R, net.p)) / math.sqrt(m)
    u = ref = rng.standard_normal((R, net.p))
    eta, eps, gamma = 0.05, np.finfo(np.float64).eps, _gamma(_K_hvp(n, d, m))
    bound = np.zeros_like(u)
    for _ in range(8):
        hv_ref = _plain(X, y, m, net.s, theta, ref)
        bound = (bound + eta * _plain_abs(X, y, m, net.s, theta, bound)
                 + eta * 2 * gamma * _plain_abs(X, y, m, net.s, theta, ref)
                 + 2 * eps * (np.abs(ref) + eta * np.abs(hv_ref)))
        u, ref = u - eta * net.hvp(theta, u), ref - eta * hv_ref
    assert np.all(np.abs(u - ref) <= 2 * bound)
    # Not vacuous: the bound is rounding-sized (a wrong mask or a stale buffer is O(|u|)).
    assert np.max(bound) <= 1e-9 * np.max(np.abs(ref))


def test_a_repeated_hvp_allocates_no_activation_sized_array() -> None:
    # After a first call the gradient and the HVP write into the model's work arrays: the
    # peak of what a later call allocates (traced by tracemalloc, which NumPy reports to)
    # stays below one (R, m, n) float64 array.
    import tracemalloc

    rng = np.random.default_rng(8)
    R, n, d, m = 2, 400, 20, 64
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    net = TwoLayerReLU(X, y, m)
    theta, v = rng.standard_normal((R, net.p)), rng.standard_normal((R, net.p))
    net.hvp(theta, v), net.grad(theta)
    activation = R * m * n * 8
    for call in (lambda: net.hvp(theta, v), lambda: net.grad(theta)):
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            call()
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        assert peak < activation / 2, (peak, activation)


def test_grouping_the_replicas_for_the_cache_changes_no_bit(monkeypatch) -> None:
    # The NumPy paths walk the replicas in groups that fit in cache (_chunks); the
    # arithmetic per replica is the same calls whatever the grouping, so one group of all
    # replicas and one group per replica give the same bits.
    import numerics.two_layer as tl

    rng = np.random.default_rng(9)
    R, n, d, m = 5, 120, 7, 9
    X, y = rng.standard_normal((n, d)), rng.standard_normal((R, n))
    theta, v = rng.standard_normal((R, m * (d + 1))), rng.standard_normal((R, m * (d + 1)))
    idx = rng.integers(0, n, (R, 11))

    def evaluate():
        net = TwoLayerReLU(X, y, m)
        return (net.loss(theta), net.grad(theta), net.hvp(theta, v), net.batch_grad(theta, idx),
                len(net._chunks(R, n, 17)))

    *whole, groups = evaluate()
    assert groups == 1
    monkeypatch.setattr(tl, "_CHUNK_BYTES", 1)
    *split, groups = evaluate()
    assert groups == R
    for a, b in zip(whole, split):
        np.testing.assert_array_equal(a, b)
