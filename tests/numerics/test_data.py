"""Digits loading, seeded split, standardisation, label corruption, per-replica GD."""

from __future__ import annotations

import numpy as np
import pytest

from numerics import run
from numerics.data import ReplicaGD, corrupt_labels, load_digits, one_hot, split_indices
from numerics.mlp import MLP
from tests.conftest import assert_close, to_np


def test_split_is_reproducible_and_disjoint(xp):
    a = load_digits(100, 50, seed=3, xp=xp)
    b = load_digits(100, 50, seed=3, xp=xp)
    c = load_digits(100, 50, seed=4, xp=xp)
    assert_close(a.X_train, b.X_train, rtol=0, xp=xp)
    assert not np.array_equal(to_np(a.X_train), to_np(c.X_train))
    tr, te = split_indices(1797, 100, 50, seed=3)
    assert len(set(tr) & set(te)) == 0
    Xtr = to_np(a.X_train)
    np.testing.assert_allclose(Xtr.mean(0), 0.0, atol=1e-12)  # standardised on the train set
    sd = Xtr.std(0)
    assert np.all((np.abs(sd - 1) < 1e-12) | (sd == 0))
    assert repr(a) == "Digits(n_train=100, n_test=50, d=64, classes=10, seed=3, namespace=" + \
        repr(a).split("namespace=")[1]


def test_split_bad_sizes_raise():
    with pytest.raises(ValueError, match="n_train \\+ n_test must be at most n=1797"):
        load_digits(1500, 500)
    with pytest.raises(ValueError, match=r"classes must be in \[2, 10\]"):
        load_digits(10, 10, classes=11)


def test_corrupt_labels_changes_exactly_the_chosen_fraction(xp):
    labels = xp.asarray(np.arange(200) % 10, dtype=xp.int64)
    assert_close(corrupt_labels(labels, 0.0, classes=10, rng=0), labels, rtol=0, xp=xp)
    out = to_np(corrupt_labels(labels, 0.5, classes=10, rng=1, replicas=40))
    assert out.shape == (40, 200)
    changed = (out != to_np(labels)).sum(1)
    # 100 positions are redrawn, each keeps its label with probability 1/10.
    assert changed.max() <= 100
    assert abs(changed.mean() - 90) < 5.3 * np.sqrt(100 * 0.09 / 40)  # z·σ/√N, binomial σ
    rnd = to_np(corrupt_labels(labels, 1.0, classes=10, rng=2, replicas=50))
    agree = (rnd == to_np(labels)).mean()
    assert abs(agree - 0.1) < 5.3 * np.sqrt(0.09 / rnd.size)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        corrupt_labels(labels, 1.5, classes=10)


def test_one_hot_and_replica_gd(xp):
    lab = xp.asarray([0, 2, 1], dtype=xp.int64)
    assert_close(one_hot(lab, 3), np.eye(3)[[0, 2, 1]], rtol=0, xp=xp)
    d = load_digits(30, 10, seed=0, xp=xp)
    m = MLP(d.X_train, d.targets(), widths=(5,))
    th0 = m.init(1, rng=0)
    x0 = xp.concat([th0, th0], axis=0)
    tr = run(m, ReplicaGD(xp.asarray([0.1, 0.2])), x0, 1)
    want = to_np(th0) - np.array([[0.1], [0.2]]) * to_np(m.grad(th0))
    assert_close(tr.x, want, rtol=1e-12, atol=1e-14, xp=xp)
    with pytest.raises(ValueError, match="eta must have finite positive entries"):
        ReplicaGD(xp.asarray([0.1, -1.0]))
    with pytest.raises(ValueError, match=r"x0 must have shape \(R=3, \*\) to match eta, one step size per replica; got shape \(2, "):
        run(m, ReplicaGD(xp.asarray([0.1, 0.2, 0.3])), x0, 1)
