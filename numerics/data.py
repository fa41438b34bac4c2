r"""A real dataset for the seeds' empirical tables: scikit-learn's bundled 8x8 digits.

The seeds report their experiments on FashionMNIST, MNIST and CIFAR-10 (seed 000, memo 004,
seed 003). None can be downloaded here, so the toolkit reproduces them at laptop scale on the
1 797 handwritten 8x8 digits that ship inside scikit-learn (no network access): ten classes,
64 pixel features. This module loads them with a seeded train/test split and per-feature
standardisation, corrupts labels (Zhang et al.'s random-label experiment), and provides the
per-replica step-size rule the learning-rate sweeps use.

The loader runs on the host (NumPy/scikit-learn) and converts once with ``xp.asarray``;
everything after that is array-API code.

References
----------
C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, *Understanding deep learning requires
rethinking generalization*, ICLR 2017 (label corruption); E. Alpaydin, C. Kaynak, *Optical
recognition of handwritten digits*, UCI (the dataset); seed 000, memo 004.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from numbers import Integral, Real

import numpy as np

from numerics._validation import (
    Array,
    Interval,
    Optional,
    Shape,
    describe,
    message,
    namespace_for,
    validate,
)
from numerics.optim import Rule
from numerics.random import default_rng

__all__ = ["Digits", "load_digits", "split_indices", "one_hot", "corrupt_labels", "ReplicaGD"]

#: Number of images in scikit-learn's digits dataset.
DIGITS_SIZE = 1797


@dataclass(frozen=True, repr=False)
class Digits:
    """A seeded train/test split of the 8x8 digits, standardised with the training statistics.

    Attributes
    ----------
    X_train, X_test
        Standardised inputs, ``(n_train, 64)`` and ``(n_test, 64)``.
    labels_train, labels_test
        Integer classes in ``[0, classes)``, ``(n_train,)`` and ``(n_test,)`` (int64).
    classes
        Number of classes.
    seed
        Seed of the split.
    """

    X_train: Any
    X_test: Any
    labels_train: Any
    labels_test: Any
    classes: int
    seed: int

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[0])

    @property
    def d(self) -> int:
        return int(self.X_train.shape[1])

    def targets(self, labels: Any | None = None) -> Any:
        """One-hot targets of ``labels`` (default: the training labels)."""
        lab = self.labels_train if labels is None else labels
        return one_hot(lab, self.classes, dtype=self.X_train.dtype)

    def __repr__(self) -> str:
        ns = namespace_for(None, self.X_train).__name__.split(".")[-1]
        return (f"Digits(n_train={self.n_train}, n_test={self.n_test}, d={self.d}, "
                f"classes={self.classes}, seed={self.seed}, namespace={ns})")


def split_indices(n: int, n_train: int, n_test: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint host index arrays ``(train, test)`` from a seeded uniform permutation of
    ``range(n)``. Same seed, same split on every backend."""
    owner = "split_indices"
    n, n_train, n_test, seed = validate(owner, {
        "n": (n, Interval(Integral, 2, None, closed="left")),
        "n_train": (n_train, Interval(Integral, 1, None, closed="left")),
        "n_test": (n_test, Interval(Integral, 1, None, closed="left")),
        "seed": (seed, Interval(Integral, 0, None, closed="left"))})
    if n_train + n_test > n:
        raise ValueError(message("n_train + n_test", f"be at most n={n}",
                                 f"got {n_train} + {n_test}", owner=owner))
    perm = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0,))).permutation(n)
    return perm[:n_train], perm[n_train:n_train + n_test]


def load_digits(n_train: int | None = None, n_test: int | None = None, *, seed: int = 0,
                classes: int = 10, xp: Any = None, device: Any = None,
                dtype: Any = None) -> Digits:
    r"""scikit-learn's 8x8 digits, split with a seed and standardised.

    Parameters
    ----------
    n_train, n_test
        Sizes of the training and test sets (default: 1 000 and the rest of the images of
        the chosen classes).
    seed
        Seed of the split (a uniform permutation of the images).
    classes
        Keep the digits ``0 .. classes-1`` (2 to 10).
    xp, device, dtype
        Namespace, device and floating dtype of the returned arrays (NumPy float64 by
        default).

    Returns
    -------
    Digits

    Notes
    -----
    Each pixel is standardised with the training set's mean :math:`\mu_j` and standard
    deviation :math:`s_j`: :math:`x_{ij}\mapsto(x_{ij} - \mu_j)/s_j`, with :math:`s_j = 1`
    for the pixels that are constant on the training set (the borders).

    Examples
    --------
    >>> data = load_digits(200, 100, seed=0)
    >>> data
    Digits(n_train=200, n_test=100, d=64, classes=10, seed=0, namespace=numpy)
    """
    from sklearn.datasets import load_digits as _sk_load  # noqa: PLC0415

    owner = "load_digits"
    count = Optional(Interval(Integral, 1, None, closed="left"))
    classes, n_train, n_test, seed = validate(owner, {
        "classes": (classes, Interval(Integral, 2, 10)),
        "n_train": (n_train, count), "n_test": (n_test, count),
        "seed": (seed, Interval(Integral, 0, None, closed="left"))})
    xp = namespace_for(xp)
    bunch = _sk_load()
    keep = bunch.target < classes
    X_all, y_all = bunch.data[keep].astype(np.float64), bunch.target[keep].astype(np.int64)
    n = X_all.shape[0]
    if n_train is None:
        n_train = min(1000, n - 1)
    if n_test is None:
        n_test = n - n_train
    tr, te = split_indices(n, n_train, n_test, seed=seed)
    Xtr, Xte = X_all[tr], X_all[te]
    mu = Xtr.mean(axis=0)
    sd = Xtr.std(axis=0)
    sd[sd == 0] = 1.0
    kw: dict[str, Any] = {} if device is None else {"device": device}
    fdt = xp.float64 if dtype is None else dtype
    return Digits(
        X_train=xp.asarray((Xtr - mu) / sd, dtype=fdt, **kw),
        X_test=xp.asarray((Xte - mu) / sd, dtype=fdt, **kw),
        labels_train=xp.asarray(y_all[tr], dtype=xp.int64, **kw),
        labels_test=xp.asarray(y_all[te], dtype=xp.int64, **kw),
        classes=classes,
        seed=int(seed),
    )


def one_hot(labels: Any, classes: int, *, dtype: Any = None) -> Any:
    """One-hot encoding: ``labels (..., n)`` integers -> ``(..., n, classes)`` floats."""
    labels, classes = validate("one_hot", {
        "labels": (labels, Array(dtype="integral")),
        "classes": (classes, Interval(Integral, 1, None, closed="left"))})
    xp = namespace_for(None, labels)
    dtype = xp.float64 if dtype is None else dtype
    ar = xp.arange(classes, dtype=labels.dtype, device=getattr(labels, "device", None))
    return xp.astype(labels[..., None] == ar, dtype)


def corrupt_labels(labels: Any, p: float, *, classes: int, rng: Any = None,
                   replicas: int | None = None) -> Any:
    r"""Replace a fraction ``p`` of the labels by uniformly random classes.

    Exactly :math:`m = \mathrm{round}(pn)` positions, chosen uniformly without replacement,
    get a label drawn uniformly from ``range(classes)`` (which may coincide with the true
    one, as in Zhang et al.); ``p = 1`` gives completely random labels.

    Parameters
    ----------
    labels
        Integer labels, ``(n,)``.
    p
        Corrupted fraction in ``[0, 1]``.
    classes
        Number of classes.
    rng
        Seed or :class:`numerics.random.Generator`.
    replicas
        If given, return ``(replicas, n)``: an independent corruption per replica.

    Returns
    -------
    array
        The corrupted labels, same dtype as ``labels``.

    References
    ----------
    C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, *Understanding deep learning
    requires rethinking generalization*, ICLR 2017, Section 2 (partially corrupted labels).
    """
    checked = validate("corrupt_labels", {
        "labels": (labels, Array(("n",), dtype="integral")),
        "p": (p, Interval(Real, 0, 1)),
        "classes": (classes, Interval(Integral, 2, None, closed="left")),
        "replicas": (replicas, Optional(Interval(Integral, 1, None, closed="left")))})
    xp, p, replicas = checked.xp, checked[1], checked[3]
    lead: tuple[int, ...] = () if replicas is None else (replicas,)
    n = int(labels.shape[0])
    m = int(round(p * n))
    gen = default_rng(rng, xp=xp, device=getattr(labels, "device", None))
    # The m positions with the smallest uniform keys: a uniform m-subset, no scatter needed.
    rank = xp.argsort(gen.permutation(n, lead), axis=-1)
    chosen = rank < m
    new = xp.astype(gen.integers(0, classes, (*lead, n)), labels.dtype)
    return xp.where(chosen, new, xp.broadcast_to(labels, (*lead, n)))


class ReplicaGD(Rule):
    r"""Gradient descent with one step size per replica: :math:`\theta^{(r)}_{k+1} =
    \theta^{(r)}_k - \eta_r\nabla L(\theta^{(r)}_k)`.

    A learning-rate sweep then runs as one array program (replica ``r`` uses ``eta[r]``).

    Parameters
    ----------
    eta
        Step sizes, an array of shape ``(R,)`` with positive entries.

    Examples
    --------
    >>> import numpy as np
    >>> ReplicaGD(np.asarray([0.1, 0.5]))
    ReplicaGD(eta=[0.1, 0.5])
    """

    def __init__(self, eta: Any) -> None:
        xp = validate("ReplicaGD", {"eta": (eta, Array(("R",), dtype="real floating"))}).xp
        if not bool(xp.all(eta > 0)):
            raise ValueError(message("eta", "have finite positive entries",
                                     f"got smallest entry {float(xp.min(eta)):g} "
                                     f"({describe(eta)})", owner="ReplicaGD"))
        self.eta = eta
        self._x = Shape(("R", None), dims={"R": eta.shape[0]}, like=eta,
                        origin="eta, one step size per replica")

    def __repr__(self) -> str:
        vals = [float(v) for v in np.asarray(_host(self.eta)).ravel()]
        return f"ReplicaGD(eta=[{', '.join(f'{v:g}' for v in vals)}])"

    def init(self, model: Any, x: Any) -> Any:
        self._x("ReplicaGD", "x0", x)
        return None

    def step(self, model: Any, x: Any, state: Any, rng: Any) -> tuple[Any, Any]:
        return x - self.eta[:, None] * model.grad(x), state


def _host(a: Any) -> Any:
    from numerics.backend import to_numpy  # noqa: PLC0415

    return to_numpy(a)
