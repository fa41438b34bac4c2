"""numerics.torch_model.TorchModel: a torch.nn.Module as a numerics model.

Every value is compared with an independent computation: a tiny MLP written out by hand
from slices of the flat parameter vector (so the layout of ``theta`` is tested too), its
loss differentiated by ``torch.autograd.grad`` and its exact Hessian by
``torch.autograd.functional.hessian``. Skipped without PyTorch (CI has none), except the
test that the missing library is reported with its install hint.

Tolerances. Both sides evaluate the same float64 expressions in other orders; a sum or dot
product of m terms errs by at most m·eps·Σ|terms| (Higham, *Accuracy and Stability of
Numerical Algorithms*, 2nd ed., §3.1). Every parameter meets every sample at most once per
pass, and a Hessian-vector product is three passes (forward, backward, tangent), so the
operation count per output is at most OPS = 3·n·p and the tolerance OPS·eps·max(1, scale),
with scale the largest magnitude compared (the terms here are O(1)). Measured errors are
below 10 eps·scale, about 1/100 of it; a wrong factor (1/n against 1/(nk), a missing 1/B) is
off by O(scale).
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

EPS = float(np.finfo(np.float64).eps)
N, D, HIDDEN, K = 7, 3, 5, 2
P = D * HIDDEN + HIDDEN + HIDDEN * K + K      # 32 parameters
OPS = 3 * N * P
R = 3


def _tol(scale: float) -> float:
    return OPS * EPS * max(1.0, scale)


def test_missing_torch_is_one_line_with_the_install_hint(monkeypatch) -> None:
    from numerics.backend import BackendUnavailableError
    from numerics.torch_model import TorchModel

    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` raises ImportError
    with pytest.raises(BackendUnavailableError, match=r"pip install 'implreg\[torch\]'") as e:
        TorchModel(object(), lambda o, t: o, None, None)
    assert "\n" not in str(e.value)


def test_importing_numerics_does_not_import_torch() -> None:
    import subprocess

    code = ("import sys, numerics, numerics.torch_model, numerics.tracking; "
            "numerics.TorchModel; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ with torch
@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    # One intra-op thread: these problems are tiny, and on a shared 2-core machine torch's
    # spinning worker threads make each small matmul ~100 times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def problem(torch):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(D, HIDDEN), torch.nn.Tanh(),
                              torch.nn.Linear(HIDDEN, K)).double()
    X = torch.randn(N, D, dtype=torch.float64)
    Y = torch.randn(N, K, dtype=torch.float64)
    labels = torch.randint(0, K, (N,))
    return net, X, Y, labels


def _by_hand(torch, theta, X):
    """The same MLP from slices of theta in named_parameters order (0.weight, 0.bias,
    2.weight, 2.bias), written out without the module."""
    i = 0
    W1 = theta[i:i + D * HIDDEN].reshape(HIDDEN, D); i += D * HIDDEN
    b1 = theta[i:i + HIDDEN]; i += HIDDEN
    W2 = theta[i:i + HIDDEN * K].reshape(K, HIDDEN); i += HIDDEN * K
    b2 = theta[i:i + K]
    return torch.tanh(X @ W1.T + b1) @ W2.T + b2


def _losses(torch, X, Y, labels):
    """Independent L(theta) for the two losses and reductions tested, from whole-batch
    formulas (mse_loss's mean is over n·k entries: the mean over samples of the per-sample
    mean over outputs)."""
    F = torch.nn.functional
    return {
        ("mse", "mean"): lambda t: F.mse_loss(_by_hand(torch, t, X), Y),
        ("mse", "sum"): lambda t: F.mse_loss(_by_hand(torch, t, X), Y, reduction="sum") / K,
        ("ce", "mean"): lambda t: F.cross_entropy(_by_hand(torch, t, X), labels),
        ("ce", "sum"): lambda t: F.cross_entropy(_by_hand(torch, t, X), labels, reduction="sum"),
    }


def _model(torch, problem, loss: str, reduction: str):
    from numerics.torch_model import TorchModel

    net, X, Y, labels = problem
    F = torch.nn.functional
    fn, target = (F.mse_loss, Y) if loss == "mse" else (F.cross_entropy, labels)
    return TorchModel(net, fn, X, target, reduction=reduction)


def _points(torch, model, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return model.flat_parameters(R) + 0.3 * torch.randn(R, model.p, generator=g, dtype=torch.float64)


CASES = [("mse", "mean"), ("mse", "sum"), ("ce", "mean"), ("ce", "sum")]


@pytest.mark.parametrize("loss,reduction", CASES)
def test_loss_grad_hvp_match_autograd_and_the_exact_hessian(torch, problem, loss, reduction) -> None:
    model = _model(torch, problem, loss, reduction)
    assert (model.n, model.p) == (N, P)
    ref = _losses(torch, *problem[1:])[(loss, reduction)]
    theta = _points(torch, model)
    v = torch.randn(R, P, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    Lm, gm, hm = model.loss(theta), model.grad(theta), model.hvp(theta, v)
    assert Lm.shape == (R,) and gm.shape == (R, P) and hm.shape == (R, P)
    for r in range(R):
        t = theta[r].clone().requires_grad_(True)
        L = ref(t)
        (g,) = torch.autograd.grad(L, t)
        H = torch.autograd.functional.hessian(ref, theta[r])
        assert abs(float(Lm[r] - L.detach())) <= _tol(abs(float(L.detach())))
        assert float((gm[r] - g).abs().max()) <= _tol(float(g.abs().max()))
        Hv = H @ v[r]
        assert float((hm[r] - Hv).abs().max()) <= _tol(float(Hv.abs().max()))
        # one replica takes the plain-autograd path, R > 1 the vmapped one: same values
        one = slice(r, r + 1)
        assert abs(float(model.loss(theta[one])[0] - L.detach())) <= _tol(abs(float(L.detach())))
        assert float((model.grad(theta[one])[0] - g).abs().max()) <= _tol(float(g.abs().max()))
        assert float((model.hvp(theta[one], v[one])[0] - Hv).abs().max()) <= _tol(
            float(Hv.abs().max()))


@pytest.mark.parametrize("loss,reduction", CASES)
def test_per_sample_and_minibatch_gradients_average_to_the_gradient(torch, problem, loss,
                                                                     reduction) -> None:
    model = _model(torch, problem, loss, reduction)
    theta = _points(torch, model, seed=3)
    g = model.grad(theta)
    scale = float(g.abs().max())
    ps = model.per_sample_grads(theta)
    assert ps.shape == (R, N, P)
    assert float((ps.mean(1) - g).abs().max()) <= _tol(scale)
    every = torch.arange(N)[None, :].repeat(R, 1)
    assert float((model.batch_grad(theta, every) - g).abs().max()) <= _tol(scale)
    # a batch of B samples is the mean of their per-sample gradients (c·n∇ℓ_i)
    idx = torch.stack([torch.randperm(N, generator=torch.Generator().manual_seed(10 + r))[:3]
                       for r in range(R)])
    want = torch.stack([ps[r, idx[r]].mean(0) for r in range(R)])
    assert float((model.batch_grad(theta, idx) - want).abs().max()) <= _tol(scale)
    v = torch.randn(R, P, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    hv = model.hvp(theta, v)
    assert float((model.per_sample_hvp(theta, v).mean(1) - hv).abs().max()) <= _tol(
        float(hv.abs().max()))


def test_top_eigenvalue_trace_and_non_uniformity_match_the_exact_hessian(torch, problem) -> None:
    from numerics.sharpness import hessian_trace, non_uniformity, top_eigenvalue

    model = _model(torch, problem, "mse", "mean")
    theta = _points(torch, model, seed=5)
    ref = _losses(torch, *problem[1:])[("mse", "mean")]
    v0 = torch.randn(R, P, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    rtol = 1e-10
    est = top_eigenvalue(lambda u: model.hvp(theta, u), v0, rtol=rtol)
    assert bool(est.converged.all())
    tr = hessian_trace(lambda u: model.hvp(theta, u), (R, P), rng=7, matvecs=3 * P,
                       xp=model.xp)
    # per-sample Hessians H_i (c·n = 1 for the mean) for Σ = (1/n)Σ H_i² − H²
    F = torch.nn.functional
    X, Y = problem[1], problem[2]
    for r in range(R):
        H = torch.autograd.functional.hessian(ref, theta[r])
        lam = torch.linalg.eigvalsh(H)
        scale = float(lam.abs().max())
        # Krylov–Weinstein: some eigenvalue within rtol·|θ|; a Ritz value is ≤ λ_max, and
        # the gap λ_max − λ_2 (> 1e-3 here) is far above rtol·θ, so that eigenvalue is λ_max.
        assert float(lam[-1] - lam[-2]) > 1e3 * rtol * scale
        err = float(lam[-1] - est.value[r])
        assert -_tol(scale) <= err <= rtol * abs(float(est.value[r])) + _tol(scale)
        # Hutch++ with k = matvecs/3 = p sketch vectors spans the whole space: exact trace
        assert abs(float(tr.value[r] - torch.trace(H))) <= _tol(float(H.abs().sum()))
        Hs = torch.stack([torch.autograd.functional.hessian(
            lambda t, i=i: F.mse_loss(_by_hand(torch, t, X[i:i + 1]), Y[i:i + 1]), theta[r])
            for i in range(N)])
        Sigma = (Hs @ Hs).mean(0) - H @ H
        s2 = float(torch.linalg.eigvalsh(Sigma)[-1])
        nu = non_uniformity(lambda u: model.per_sample_hvp(theta, u), v0, rtol=rtol,
                            per_sample_apply=lambda u: model.per_sample_hvp(theta, u))
        assert abs(float(nu.value[r]) - s2) <= rtol * s2 + _tol(scale**2)


def test_gd_decreases_the_loss_and_sgd_runs(torch, problem) -> None:
    from numerics import GD, SGD, run
    from numerics.sharpness import top_eigenvalue

    model = _model(torch, problem, "ce", "mean")
    theta = _points(torch, model, seed=8)
    lam = top_eigenvalue(lambda u: model.hvp(theta, u), theta, rtol=1e-6).value
    eta = float(0.5 / lam.max())     # well inside 2/λ_max at the start
    tr = run(model, GD(eta), theta, 60, record=("loss",), record_every=10)
    L = tr.records["loss"]
    assert L.shape == (7, R)
    assert bool((L[1:] < L[:-1]).all()), L
    sgd = run(model, SGD(eta, batch=3), theta, 20, record=("loss",), rng=0)
    assert sgd.n_diverged == 0 and bool(torch.isfinite(sgd.x).all())


def test_flat_parameters_and_load_round_trip(torch, problem) -> None:
    model = _model(torch, problem, "mse", "mean")
    theta = model.flat_parameters()
    assert theta.shape == (1, P)
    moved = theta + 1.0
    model.load(moved)
    try:
        assert bool((model.flat_parameters() == moved).all())
    finally:
        model.load(theta)
    assert f"TorchModel(Sequential, loss=mse_loss, n={N}, p={P}" in repr(model)


def test_bad_inputs_are_one_clear_line(torch, problem) -> None:
    from numerics.torch_model import TorchModel

    net, X, Y, labels = problem
    mse = torch.nn.functional.mse_loss
    cases = [
        (lambda: TorchModel(lambda x: x, mse, X, Y), TypeError, r"module must be a torch\.nn\.Module"),
        (lambda: TorchModel(net, mse, X.numpy(), Y), TypeError, r"X must be a torch\.Tensor"),
        (lambda: TorchModel(net, mse, X, Y[:-1]), ValueError,
         r"X and y disagree: y must have n=7 rows to match X of shape \(7, 3\); got shape \(6, 2\)"),
        (lambda: TorchModel(net, mse, torch.ones(N, D, dtype=torch.int64), Y), TypeError,
         r"X must have a real floating dtype; got dtype torch\.int64"),
        (lambda: TorchModel(net, mse, X.float(), Y), TypeError,
         r"parameter '0\.weight' of module must have the dtype of X"),
        (lambda: TorchModel(net, mse, torch.ones(N, D + 1, dtype=torch.float64), Y), ValueError,
         r"module must accept a batch X\[:1\] of shape \(1, 4\); it raised RuntimeError: "),
        (lambda: TorchModel(net, mse, X, Y, reduction="max"), ValueError,
         r"reduction must be 'mean' or 'sum'; got 'max'"),
        (lambda: TorchModel(net, lambda o, t: (o - t) ** 2, X, Y), TypeError,
         r"loss must return one number per sample"),
        (lambda: TorchModel(net, lambda o, t: mse(o, t, reduction="sum"), X, Y), ValueError,
         r"loss must average over the batch \(the mean of the per-sample losses"),
    ]
    model = TorchModel(net, mse, X, Y)
    theta = model.flat_parameters(2)
    cases += [
        (lambda: model.grad(theta[:, :-1]), ValueError,
         rf"TorchModel: grad: theta must have shape \(R, {P}\); got shape \(2, {P - 1}\)"),
        (lambda: model.hvp(theta, theta[:1]), ValueError, rf"hvp: v must have shape \(2, {P}\)"),
        (lambda: model.loss(theta.float()), TypeError, r"loss: theta must have the model's dtype"),
        (lambda: model.batch_grad(theta, torch.zeros(2, 3)), TypeError,
         r"batch_grad: idx must have an integer dtype"),
        (lambda: model.flat_parameters(0), ValueError, r"replicas must be a positive integer"),
    ]
    for call, exc, pattern in cases:
        with pytest.raises(exc, match=pattern) as e:
            call()
        assert str(e.value).startswith("TorchModel: ") and "\n" not in str(e.value)


@pytest.mark.slow
def test_readme_example_runs(torch) -> None:
    """The README's PyTorch example, executed: it prints the top eigenvalue, the trace and
    the GD threshold 2/λ_max of a small network at a GD end point."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    m = re.search(r"<!-- torch-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README has no block marked <!-- torch-example -->"
    scope: dict = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matmuls: one thread is fastest on a shared 2-core machine
    try:
        exec(compile(m.group(1), "README.md", "exec"), scope)  # noqa: S102
    finally:
        torch.set_num_threads(threads)
    lam = scope["lam"]
    value = float(lam.value[0])
    assert float(lam.low[0]) <= value <= float(lam.high[0])
    assert abs(float(scope["gd"](lambda_max=value)) * value - 2.0) <= 8 * EPS  # 2/λ_max
    tr = scope["trace"]
    assert float(tr.low[0]) < float(tr.value[0]) < float(tr.high[0])
    assert float(tr.value[0]) > value > 0
    # the density's nodes lie in the spectrum's range and its weights sum to one per replica
    w = scope["density"].weights
    assert abs(float(w.sum()) - 1.0) < 1e-12 and float(scope["density"].nodes.max()) <= float(lam.high[0]) + 1e-12


def test_gd_and_sgd_thresholds_of_theory_hold_on_a_torch_model(torch) -> None:
    """The thresholds of theory.stability, evaluated through Result.numeric at a minimum of
    a torch model, on both sides. The model is linear in its parameters (nn.Linear, square
    loss, n < d), so its min-norm interpolant is an exact minimum of every sample and the
    loss is exactly quadratic around it: the linearized claims are exact there.

    * GD (stability.gd_threshold): from the minimum plus ε along the top eigenvector, K GD
      steps multiply the offset by |1 − ηλ|^K: (1 − 2δ)^K ≈ 2e-4 at η = (1 − δ)·2/λ and
      (1 + 2δ)^K ≈ 2e3 at (1 + δ)·2/λ (δ = 0.04, K = 100); decisions at 1 and 10.
    * SGD (stability.sgd_threshold, part necessary_nonuniformity): with s² = λ_max(Σ) from
      numerics.sharpness.non_uniformity and η = (1 + δ)·η_s, where the necessary bound
      s ≤ √(B(n−1)/(n−B))/η is violated by the factor 1 + δ, the exact one-step mean of
      ‖x_1 − x*‖² over all C(n, B) batches from x_0 − x* = the top eigenvector of Σ is
      ≥ η²c s² = (1 + δ)² > 1 (the derivation's step); at η = (1 − δ)η_s nothing is claimed.
    """
    from itertools import combinations

    import theory
    from numerics import GD, run
    from numerics.sharpness import non_uniformity, top_eigenvalue
    from numerics.torch_model import TorchModel

    n, d, B, delta, K = 6, 8, 2, 0.04, 100
    g = torch.Generator().manual_seed(5)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, 1, generator=g, dtype=torch.float64)
    net = torch.nn.Linear(d, 1, bias=False).double()
    model = TorchModel(net, torch.nn.functional.mse_loss, X, y)
    x_star = (torch.linalg.pinv(X) @ y).T                  # (1, d): interpolates every sample
    assert float(model.loss(x_star)[0]) <= 1e-28
    v0 = torch.randn(1, d, generator=g, dtype=torch.float64)
    est = top_eigenvalue(lambda u: model.hvp(x_star, u), v0, rtol=1e-12)
    lam, u = float(est.value[0]), est.vector
    gd = theory.get("stability.gd_threshold")
    thr = float(gd.numeric(np, part="threshold")(lambda_max=lam))
    holds = gd.numeric(np)
    eps = 1e-6
    for f, stable in ((1 - delta, True), (1 + delta, False)):
        assert bool(holds(lambda_max=lam, eta=f * thr)) is stable
        tr = run(model, GD(f * thr), x_star + eps * u, K, record=())
        growth = float((tr.x - x_star).norm()) / eps
        assert (growth < 1.0) if stable else (growth > 10.0), (f, growth)

    nu = non_uniformity(lambda w: model.per_sample_hvp(x_star, w), v0, rtol=1e-12,
                        per_sample_apply=lambda w: model.per_sample_hvp(x_star, w))
    s = math.sqrt(float(nu.value[0]))
    bound = theory.get("stability.sgd_threshold").numeric(np, part="necessary_nonuniformity")
    # the bound is ∝ 1/η: the step η_s at which s meets it, then (1 + δ)η_s
    eta_s = float(bound(eta=1.0, n=float(n), B=float(B))) / s
    eta = (1 + delta) * eta_s
    assert s > float(bound(eta=eta, n=float(n), B=float(B)))     # the bound is violated
    batches = torch.tensor(list(combinations(range(n), B)))     # all C(n, B), equally likely
    x0 = x_star + nu.vector                                     # unit offset along Σ's top
    x1 = x0 - eta * model.batch_grad(x0.repeat(len(batches), 1), batches)
    second_moment = float(((x1 - x_star) ** 2).sum(1).mean())
    # ≥ (1 + δ)² up to the rounding of 15 batch steps of size O(η·λ) (≤ 1e-12 here)
    assert second_moment >= (1 + delta) ** 2 - 1e-12, (second_moment, eta, thr)


def test_sharpness_tracked_during_training_of_a_torch_model(torch, problem) -> None:
    """SharpnessTracker as a record of numerics.run on a TorchModel: a record is λ_max of
    the exact Hessian at that iterate, within the stopping rule's bound (module docstring of
    tests/numerics/test_tracking.py)."""
    from numerics import GD, run
    from numerics.tracking import SharpnessTracker

    model = _model(torch, problem, "mse", "mean")
    ref = _losses(torch, *problem[1:])[("mse", "mean")]
    rtol = 1e-8
    tracker = SharpnessTracker(rtol=rtol, maxiter=P, seed=0)
    tr = run(model, GD(0.5), _points(torch, model, seed=9), 40,
             record={"sharpness": tracker, "x": lambda m, x: x}, record_every=20)
    assert tr.records["sharpness"].shape == (3, R) and tracker.unconverged == [0, 0, 0]
    # the start (a cold Lanczos) and the last record (warm-started twice)
    for k in (0, 2):
        for r in range(R):
            lam = torch.linalg.eigvalsh(torch.autograd.functional.hessian(ref, tr.records["x"][k, r]))
            got = float(tr.records["sharpness"][k, r])
            scale = float(lam.abs().max())
            assert -_tol(scale) <= float(lam[-1]) - got <= rtol * abs(got) + _tol(scale)
