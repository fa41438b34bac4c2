"""Section 6's single-replica rows: implreg's two-layer gradient and HVP against PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import peers
from benchmarks.models import _two_layer

TINY = peers.PeerConfig(replicas=(4,), d=3, n=8, batch=2, work=8, float32=False,
                        two_layer=((1, 40, 5, 6),), two_layer_steps=1, repeat=1, compile=False,
                        single_replica=((40, 5, 6),))


def _exact(X, y, m, theta, v=None):
    """The gradient or HVP of one replica in extended precision (np.longdouble: 64-bit
    significand on x86, 11 bits beyond float64), the reference the float64 values are
    compared with."""
    X, y, theta = (np.asarray(u, dtype=np.longdouble) for u in (X, y, theta))
    n, d = X.shape
    a, B = theta[:m], theta[m:].reshape(m, d)
    Z = X @ B.T
    H, D = np.maximum(Z, 0), (Z > 0).astype(np.longdouble)
    r = H @ a - y
    if v is None:
        return np.concatenate([H.T @ r / n, (a[:, None] * ((D * r[:, None]).T @ X) / n).ravel()])
    v = np.asarray(v, dtype=np.longdouble)
    va, vB = v[:m], v[m:].reshape(m, d)
    P = D * (X @ vB.T)
    df = H @ va + P @ a
    hB = (D * (df[:, None] * a[None, :] + r[:, None] * va[None, :])).T @ X / n
    return np.concatenate([(H.T @ df + P.T @ r) / n, hB.ravel()])


@pytest.mark.parametrize("n, d, m", [(300, 40, 64), (50, 7, 9)])
def test_rounding_bound_covers_the_float64_error_and_is_rounding_sized(n, d, m) -> None:
    # rounding_bound is 2γ_K·S, twice the bound of one evaluation: implreg's float64 values
    # lie within half of it of the extended-precision ones (whose own error is 2^-11 of
    # that), and it is small enough that a wrong formula (an O(|value|) error) cannot pass.
    net, theta = _two_layer(1, n, d, m)
    X, y = np.asarray(net.X), np.asarray(net.y)
    v = np.random.default_rng(2).standard_normal(theta.shape)
    for got, vv in ((net.grad(theta)[0], None), (net.hvp(theta, v)[0], v[0])):
        tol = peers.rounding_bound(X, y, m, theta[0], vv)
        want = _exact(X, y, m, theta[0], vv)
        assert np.all(np.abs(got - want.astype(np.float64)) <= tol / 2)
        assert np.max(tol) <= 1e-8 * np.max(np.abs(want))


def test_absent_torch_is_said_once_for_the_single_replica_rows(monkeypatch) -> None:
    monkeypatch.setattr(peers, "_torch", lambda: None)
    assert peers.bench_peers_single_replica(TINY) == []
    monkeypatch.setattr(peers, "_jax", lambda: None)
    lines = [r.detail for r in peers.bench_peers_two_layer(TINY) if r.value is None]
    assert any("torch is not installed (pip install 'implreg[bench]'); so are the two-layer "
               "single-replica gradient and HVP rows" in line for line in lines)


def test_single_replica_sizes_are_the_largest_two_layer_size_and_a_smaller_one() -> None:
    assert peers._single_sizes(peers.PeerConfig()) == ((500, 100, 256), (2000, 100, 256))
    one = peers.PeerConfig(two_layer=((4, 2000, 100, 256),))
    assert peers._single_sizes(one) == ((500, 100, 256), (2000, 100, 256))
    assert peers._single_sizes(peers.PeerConfig(single_replica=((9, 2, 3),))) == ((9, 2, 3),)


def test_single_replica_rows_name_the_peer_and_its_agreement() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    threads = torch.get_num_threads()
    rows = peers.bench_peers_single_replica(TINY)
    assert torch.get_num_threads() == threads  # restored after the one-thread rounds
    # One size × two thread settings × gradient and HVP.
    assert [r.name for r in rows] == [
        f"two-layer single replica {kind} (n=40 d=5 m=6, {setting}): implreg ÷ PyTorch"
        for setting in ("1 thread", f"default threads ({threads})") for kind in ("gradient", "HVP")]
    for r in rows:
        assert r.value is not None and r.value > 0 and np.isfinite(r.value)
        assert r.raw["peer"] in r.detail and "agree to" in r.detail
        assert max(r.raw["agreement"].values()) <= 1  # every variant agreed, so all were timed
        assert len(r.raw["peer_seconds"]) == (2 if "gradient" in r.name else 3)


def test_a_peer_that_disagrees_is_not_timed(monkeypatch) -> None:
    pytest.importorskip("torch")
    real = peers._torch_single_replica

    def off(torch, X, y, m):  # every variant 1e-6 relative off: far beyond rounding
        return {kind: {label: (lambda *a, f=fn: f(*a) * (1 + 1e-6)) for label, fn in fns.items()}
                for kind, fns in real(torch, X, y, m).items()}

    monkeypatch.setattr(peers, "_torch_single_replica", off)
    rows = peers.bench_peers_single_replica(TINY)
    assert rows and all(r.value is None and r.ok is False for r in rows)
    assert all("not timed: every PyTorch variant differs from implreg" in r.detail for r in rows)
