r"""Two-layer ReLU networks: finite data, exact population loss, random features.

The network (seed 000, eqs. 3 and 17) is

.. math:: f_m(x; a, B) = s\sum_{j=1}^m a_j\,\sigma(b_j\cdot x), \qquad
          s = 1 \text{ (conventional)}, \quad s = 1/m \text{ (mean field)},

with :math:`\sigma(u) = \max(u, 0)`. Parameters are one flat vector per replica,
:math:`\theta = (a, \operatorname{vec} B)` of length :math:`p = m(d + 1)` (``pack`` /
``unpack``); ``theta`` has shape ``(R, p)`` with the replica axis first.

Losses carry the factor ½ so that GD on them is the discretization of the seed's flows
(eqs. 6–7 and 18):

* finite data: :math:`L(\theta) = \frac1{2n}\sum_i (f_m(x_i) - y_i)^2`;
* population, :math:`x\sim N(0, I_d)` (or :math:`\mathrm{Unif}(S^{d-1})`):
  :math:`L = \tfrac12\mathcal R` with the kernel form (``two_layer.population_loss``)

  .. math:: \mathcal R(a, B) = s^2a^TK(B,B)a - 2s\,a^TK(B,B^*)a^* + a^{*T}K(B^*,B^*)a^*,

  :math:`K_{jl} = k(b_j, b_l)` the ReLU arc-cosine kernel (``kernels.arccos1_gaussian``;
  divided by d on the sphere).

Gradients and Hessian-vector products are derived by hand (module notes below) and tested
against finite differences.

Notes
-----
With :math:`\theta_{jl}` the angle between :math:`b_j` and :math:`w_l`,
:math:`t_{jl} = \hat w_l - \cos\theta_{jl}\hat b_j` and :math:`\kappa` = 1 (Gaussian) or
1/d (sphere):

.. math::
    \nabla_1 k(u, w) &= \tfrac{\kappa}{2\pi}\bigl[(\pi-\theta)w + \|w\|\sin\theta\,\hat u\bigr],\\
    \nabla^2_{11} k(u, w)\,v &= \tfrac{\kappa\|w\|}{2\pi\|u\|}
        \bigl[\sin\theta\,(v - \hat u\hat u^Tv) + t\,t^Tv/\sin\theta\bigr],\\
    \nabla_2\nabla_1 k(u, w)\,v &= \tfrac{\kappa}{2\pi}\bigl[(\pi-\theta)v
        + t\,(\hat u - \cos\theta\,\hat w)^Tv/\sin\theta + \sin\theta\,\hat u\,\hat w^Tv\bigr],

the ratios :math:`t\,t^T/\sin\theta` vanishing as :math:`\theta\to0` (they are
:math:`O(\sin\theta)`). At :math:`u = w` these give :math:`\nabla_1k = \kappa u/2`,
:math:`\nabla_{11}k = 0`, :math:`\nabla_{21}k = \kappa I/2`, so the diagonal
:math:`k(b, b) = \kappa\|b\|^2/2` needs no special case.

References
----------
seed 000 (L. Wu, eqs. 3–18); W. E, C. Ma, L. Wu, *A comparative analysis of the optimization
and generalization property of two-layer neural network and random feature models under
gradient descent dynamics*, 2019; C. Ma, L. Wu, W. E, *The quenching-activation behavior of
the gradient descent dynamics for two-layer neural network models*, 2020; Y. Cho and
L. K. Saul, NIPS 2009.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from numbers import Integral

from numerics.backend import is_host_numpy
from numerics._validation import (
    NON_NEGATIVE,
    Array,
    InstanceOf,
    Interval,
    Options,
    Shape,
    describe,
    message,
    namespace_for,
    validate,
)

_COUNT = Interval(Integral, 1, None, closed="left")

__all__ = [
    "Teacher",
    "CircleTeacher",
    "TwoLayerReLU",
    "TwoLayerPopulation",
    "RandomFeatures",
    "arccos_kernel",
    "single_neuron",
    "linear_target",
    "finite_neurons",
    "circle_target",
    "xavier_init",
    "neuron_magnitudes",
]

_SCALINGS = ("conventional", "mean_field")
_INPUTS = ("gaussian", "sphere")
# Pairs with sin θ below this are treated as parallel in the O(sin θ) ratio terms of the
# Hessian (t tᵀ/sin θ with ‖t‖ = sin θ): the dropped term is at most 1e-12 relative.
_SIN_FLOOR = 1e-12
# Work arrays a TwoLayerReLU keeps on the host-NumPy path (TwoLayerReLU._buffer): the full
# batch's activations and input-weight product, the HVP's direction, mask and B-block, a
# minibatch's activations, a record's two.
_MAX_WORK = 8
# About half the last-level cache of a current CPU: TwoLayerReLU's NumPy paths make all their
# passes over the activations of this many bytes' worth of replicas before the next ones.
_CHUNK_BYTES = 8 * 2**20


def _norms(W: Any, xp: Any) -> Any:
    return xp.sqrt(xp.sum(W * W, axis=-1))


def _input_scale(input: str, d: int, owner: str | None = None) -> float:
    """κ: 1 for x ~ N(0, I_d); 1/d for x ~ Unif(S^{d−1}) (E‖x‖² = d, kernels.arccos1_sphere)."""
    Options(*_INPUTS)("input", input, owner=owner)
    if input == "sphere":
        if d < 2:
            raise ValueError(message(
                "d", "be >= 2 for input='sphere' (the kernel reduces to the plane of b, b')",
                f"got d={d}", owner=owner))
        return 1.0 / d
    return 1.0


@dataclass
class _Geometry:
    """Norms, unit vectors, cosines, angles and sines between rows of U and rows of W."""

    nu: Any  # (R, m)
    nw: Any  # (R|1, q)
    Uh: Any  # (R, m, d)
    Wh: Any  # (R|1, q, d)
    c: Any  # (R, m, q)
    th: Any  # (R, m, q)
    s: Any  # (R, m, q)


def _geometry(U: Any, W: Any, xp: Any, *, same: bool = False) -> _Geometry:
    nu, nw = _norms(U, xp), _norms(W, xp)
    one = xp.asarray(1.0, dtype=U.dtype)
    Uh = U / xp.where(nu > 0, nu, one)[..., None]
    Wh = W / xp.where(nw > 0, nw, one)[..., None]
    c = Uh @ xp.matrix_transpose(Wh)
    c = xp.minimum(xp.maximum(c, -one), one)
    if same:  # a neuron with itself: exactly parallel (avoids θ ~ √eps from rounding)
        m = U.shape[-2]
        eye = xp.eye(m, dtype=U.dtype) > 0.5
        c = xp.where(eye, one, c)
    th = xp.acos(c)
    # sin θ = √(1 − c²): as accurate as sin(acos c) (both start from the rounded c), cheaper.
    return _Geometry(nu, nw, Uh, Wh, c, th, xp.sqrt(xp.maximum(1.0 - c * c, 0.0)))


def _kernel_from(g: _Geometry, kappa: float) -> Any:
    J1 = g.s + (math.pi - g.th) * g.c
    return (kappa / (2 * math.pi)) * g.nu[..., :, None] * g.nw[..., None, :] * J1


def arccos_kernel(U: Any, W: Any, *, order: int = 1, input: str = "gaussian") -> Any:
    r"""The arc-cosine kernel matrix :math:`k_n(u_j, w_l) = \mathbb E_x[\sigma_n(u_j\cdot x)\sigma_n(w_l\cdot x)]`.

    Parameters
    ----------
    U, W
        Rows are the vectors: ``(..., m, d)`` and ``(..., q, d)``.
    order
        0 (step), 1 (ReLU) or 2 (squared ReLU).
    input
        ``"gaussian"`` (:math:`x\sim N(0, I_d)`) or ``"sphere"`` (:math:`x\sim\mathrm{Unif}(S^{d-1})`,
        divided by :math:`\mathbb E\rho^{2n} = d(d+2)\cdots(d+2n-2)`).

    Returns
    -------
    array ``(..., m, q)``

    Notes
    -----
    .. math:: k_n = \frac{\|u\|^n\|w\|^n}{2\pi}J_n(\theta),\quad J_0 = \pi-\theta,\
              J_1 = \sin\theta + (\pi-\theta)\cos\theta,\
              J_2 = 3\sin\theta\cos\theta + (\pi-\theta)(1+2\cos^2\theta)

    (``kernels.arccos{0,1,2}_gaussian``; seed 000 eq. 15 without its missing 1/(2π)).

    References
    ----------
    Y. Cho and L. K. Saul, *Kernel methods for deep learning*, NIPS 2009, eqs. (1)–(6) (the
    arc-cosine kernels of degree 0, 1, 2).

    Examples
    --------
    >>> import numpy as np
    >>> round(float(arccos_kernel(np.eye(2)[:1], np.eye(2)[:1])[0, 0]), 6)  # E σ(g)² = 1/2
    0.5
    """
    owner = "arccos_kernel"
    xp = validate(owner, {
        "U": (U, Array(("m", "d"), ("R", "m", "d"))),
        "W": (W, Array(("q", "d"), ("R", "q", "d"))),
        "order": (order, Options(0, 1, 2)),
    }).xp
    _input_scale(input, U.shape[-1], owner)
    d = U.shape[-1]
    g = _geometry(U, W, xp)
    pi_th = math.pi - g.th
    J = {0: pi_th, 1: g.s + pi_th * g.c, 2: 3 * g.s * g.c + pi_th * (1 + 2 * g.c * g.c)}[order]
    nn = (g.nu[..., :, None] * g.nw[..., None, :]) ** order
    moment = 1.0
    if input == "sphere":
        moment = math.prod(d + 2 * i for i in range(order))
    return nn * J / (2 * math.pi * moment)


# ----------------------------------------------------------------------------- teachers
class Teacher:
    r"""A target :math:`f^*(x) = \sum_k a^*_k\sigma(b^*_k\cdot x)` of finitely many neurons.

    Parameters
    ----------
    a_star
        Output weights ``(k,)``.
    B_star
        Input weights ``(k, d)``.
    name
        A label for reprs and figures.
    """

    def __init__(self, a_star: Any, B_star: Any, *, name: str = "finite neurons") -> None:
        xp = validate("Teacher", {"a_star": (a_star, Array(("k",))),
                                  "B_star": (B_star, Array(("k", "d")))}).xp
        self.xp, self.a_star, self.B_star, self.name = xp, a_star, B_star, name
        self.k, self.d = B_star.shape

    def __repr__(self) -> str:
        return f"Teacher({self.name}: k={self.k}, d={self.d})"

    def _check_inputs(self, X: Any) -> None:
        validate(type(self).__name__, {"X": (X, Array(("n", "d"), ("R", "n", "d")))},
                 dims={"d": self.d}, origin="the teacher", xp=self.xp)

    def __call__(self, X: Any) -> Any:
        """:math:`f^*(x_i)` for the rows of ``X`` ``(n, d)`` or ``(R, n, d)``: shape ``(n,)``
        or ``(R, n)``."""
        xp = self.xp
        self._check_inputs(X)
        return xp.maximum(X @ xp.matrix_transpose(self.B_star), 0.0) @ self.a_star

    def self_kernel(self, kappa: float = 1.0) -> Any:
        r""":math:`a^{*T}K(B^*, B^*)a^* = \mathbb E f^*(x)^2` (times κ)."""
        g = _geometry(self.B_star[None, ...], self.B_star[None, ...], self.xp, same=True)
        K = _kernel_from(g, kappa)[0, ...]
        return self.a_star @ (K @ self.a_star)


class CircleTeacher(Teacher):
    r"""Seed 000's circle neuron :math:`f^*(x) = \mathbb E_{b\sim\mathrm{Unif}(\Gamma)}\sigma(b\cdot x)`,
    :math:`\Gamma` the unit circle in the plane of :math:`e_1, e_2` (eq. 16).

    Evaluated exactly, :math:`f^*(x) = \sqrt{x_1^2 + x_2^2}/\pi` (``two_layer.circle_target``);
    in the population loss the circle is replaced by ``nodes`` equally spaced neurons of
    weight 1/nodes (the trapezoid rule, exact for trigonometric polynomials of degree
    < nodes; its error against the closed elliptic form is measured in
    ``verify.checks.two_layer``).
    """

    def __call__(self, X: Any) -> Any:
        self._check_inputs(X)
        xp = self.xp
        return xp.sqrt(X[..., 0] ** 2 + X[..., 1] ** 2) / math.pi


def _unit(d: int, i: int, xp: Any, sign: float = 1.0) -> Any:
    e = [0.0] * d
    e[i] = sign
    return xp.asarray(e, dtype=xp.float64)


def single_neuron(d: int, *, xp: Any = None) -> Teacher:
    """:math:`f^*(x) = \\sigma(x_1)` (seed 000, 'single neuron')."""
    xp = namespace_for(xp)
    d = _COUNT("d", d, owner="single_neuron")
    return Teacher(xp.asarray([1.0], dtype=xp.float64), _unit(d, 0, xp)[None, :],
                   name="single neuron σ(x₁)")


def linear_target(d: int, *, xp: Any = None) -> Teacher:
    """:math:`f^*(x) = x_1 = \\sigma(x_1) - \\sigma(-x_1)` (seed 000, 'linear target')."""
    xp = namespace_for(xp)
    d = _COUNT("d", d, owner="linear_target")
    B = xp.stack([_unit(d, 0, xp), _unit(d, 0, xp, -1.0)], axis=0)
    return Teacher(xp.asarray([1.0, -1.0], dtype=xp.float64), B, name="linear x₁")


def finite_neurons(m_star: int, d: int, *, rng: Any, xp: Any = None) -> Teacher:
    r""":math:`m^*` neurons with :math:`a^*_j = 1/m^*`, :math:`b^*_j\sim\pi_0 = N(0, I/d)`
    (seed 000, 'finite neurons target')."""
    from numerics.random import default_rng  # noqa: PLC0415

    xp = namespace_for(xp)
    m_star, d = validate("finite_neurons", {"m_star": (m_star, _COUNT), "d": (d, _COUNT)})
    gen = default_rng(rng, xp=xp)
    B = gen.normal((m_star, d), std=1.0 / math.sqrt(d))
    return Teacher(xp.full((m_star,), 1.0 / m_star, dtype=xp.float64), B,
                   name=f"{m_star} neurons")


def circle_target(d: int, *, nodes: int = 64, xp: Any = None) -> CircleTeacher:
    """The circle neuron (seed 000, eq. 16), with ``nodes`` quadrature neurons for the
    population loss. Needs ``d >= 2``."""
    xp = namespace_for(xp)
    owner = "circle_target"
    d, nodes = validate(owner, {"d": (d, _COUNT),
                                "nodes": (nodes, Interval(Integral, 3, None, closed="left"))})
    if d < 2:
        raise ValueError(message("d", "be >= 2 (the circle target lives in the plane of e₁, e₂)",
                                 f"got {d}", owner=owner))
    phi = xp.arange(nodes, dtype=xp.float64) * (2 * math.pi / nodes)
    cols = [xp.cos(phi), xp.sin(phi)] + [xp.zeros((nodes,), dtype=xp.float64)] * (d - 2)
    B = xp.stack(cols, axis=1)
    return CircleTeacher(xp.full((nodes,), 1.0 / nodes, dtype=xp.float64), B,
                         name=f"circle ({nodes} nodes)")


# ----------------------------------------------------------------------------- models
class _TwoLayer:
    """Shared parameter handling: scaling, pack/unpack, predictions, neuron magnitudes."""

    def __init__(self, m: int, d: int, scaling: str, xp: Any, like: Any = None) -> None:
        m, scaling = validate(type(self).__name__, {"width m": (m, _COUNT),
                                                    "scaling": (scaling, Options(*_SCALINGS))})
        self._theta = Shape(("R", "p"), dims={"p": m * (d + 1)}, like=like)
        self.m, self.d, self.scaling, self.xp = m, d, scaling, xp
        self.s = 1.0 if scaling == "conventional" else 1.0 / m
        self.p = m * (d + 1)

    # -- parameters ------------------------------------------------------------------
    def pack(self, a: Any, B: Any) -> Any:
        """``θ = (a, vec B)``: ``a`` ``(R, m)``, ``B`` ``(R, m, d)`` -> ``(R, m(d+1))``.

        Raises ``ValueError`` for shapes that do not match the model or non-finite weights.
        """
        xp = self.xp
        validate(f"{type(self).__name__}.pack", {"a": (a, Array(("R", "m"))),
                                                 "B": (B, Array(("R", "m", "d")))},
                 dims={"m": self.m, "d": self.d}, xp=xp)
        return xp.concat([a, xp.reshape(B, (B.shape[0], self.m * self.d))], axis=1)

    def unpack(self, theta: Any) -> tuple[Any, Any]:
        """Inverse of :meth:`pack`: ``(a (R, m), B (R, m, d))``."""
        self._check_theta(theta)
        R = theta.shape[0]
        return theta[:, : self.m], self.xp.reshape(theta[:, self.m:], (R, self.m, self.d))

    def _check_theta(self, theta: Any) -> None:
        self._theta(type(self).__name__, "theta", theta)

    def _join(self, ga: Any, gB: Any) -> Any:
        R = ga.shape[0]
        return self.xp.concat([ga, self.xp.reshape(gB, (R, self.m * self.d))], axis=1)

    def predict(self, theta: Any, X: Any) -> Any:
        r""":math:`f_m(x_i;\theta)` for ``X`` ``(n, d)``: shape ``(R, n)``."""
        validate(f"{type(self).__name__}.predict", {"X": (X, Array(("n", "d"), ("R", "n", "d")))},
                 dims={"d": self.d}, xp=self.xp)
        a, B = self.unpack(theta)
        xp = self.xp
        H = xp.maximum(X @ xp.matrix_transpose(B), 0.0)  # (R, n, m)
        return self.s * (H @ a[..., None])[..., 0]

    def neuron_magnitudes(self, theta: Any) -> Any:
        r"""Per-neuron contribution :math:`s|a_j|\|b_j\|`, shape ``(R, m)`` (seed 000's
        'magnitude of each neuron')."""
        a, B = self.unpack(theta)
        return self.s * self.xp.abs(a) * _norms(B, self.xp)

    def _name(self) -> str:
        return getattr(self.xp, "__name__", "?").split(".")[-1]


class TwoLayerReLU(_TwoLayer):
    r"""Two-layer ReLU network on finite data with :math:`L = \frac1{2n}\sum_i(f_m(x_i)-y_i)^2`.

    Parameters
    ----------
    X
        Inputs ``(n, d)``.
    y
        Targets ``(n,)`` or per replica ``(R, n)``.
    m
        Width (>= 1).
    scaling
        ``"conventional"`` (eq. 3) or ``"mean_field"`` (eq. 17).

    Notes
    -----
    With :math:`z_{ij} = b_j\cdot x_i`, :math:`h = \sigma(z)`, :math:`D = \mathbf 1\{z>0\}`,
    :math:`r_i = f(x_i) - y_i`:

    .. math::
        \partial_{a_j}L = \frac sn\sum_i r_ih_{ij},\qquad
        \nabla_{b_j}L = \frac sn\,a_j\sum_i r_iD_{ij}x_i\qquad\text{(eqs. 6–7, 18)},

    and the Hessian-vector product is the Gauss–Newton term
    :math:`\frac1n\sum_i(\nabla f_i\cdot v)\nabla f_i` plus :math:`\frac1n\sum_ir_i\nabla^2f_iv`,
    whose only nonzero blocks (σ'' = 0 a.e.) are :math:`\partial_{a_j}\nabla_{b_j}f_i = sD_{ij}x_i`.

    References
    ----------
    A. Jacot, F. Gabriel, C. Hongler, *Neural tangent kernel: convergence and generalization
    in neural networks*, NeurIPS 2018 (the conventional scaling's kernel regime);
    L. Chizat and F. Bach, *On the global convergence of gradient descent for
    over-parameterized models using optimal transport*, NeurIPS 2018 (the mean-field
    scaling :math:`s = 1/m`); seed 000, eqs. 3 and 17.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3); net = TwoLayerReLU(X, np.ones(3), m=2)
    >>> net
    TwoLayerReLU(n=3, d=3, m=2, scaling='conventional', namespace=numpy)
    >>> net.loss(np.zeros((1, net.p)))
    array([0.5])
    """

    def __init__(self, X: Any, y: Any, m: int, *, scaling: str = "conventional") -> None:
        xp = validate("TwoLayerReLU", {"X": (X, Array(("n", "d"))),
                                       "y": (y, Array(("n",), ("R", "n")))}).xp
        n, d = X.shape
        super().__init__(m, d, scaling, xp, like=X)
        self.X, self.y, self.n = X, y, n
        # The host-NumPy path writes activations into reused buffers (_buffer).
        self._fast = is_host_numpy(xp)
        self._work: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return (f"TwoLayerReLU(n={self.n}, d={self.d}, m={self.m}, scaling={self.scaling!r}, "
                f"namespace={self._name()})")

    def _products(self, X: Any, W: Any) -> Any:
        """``X Wᵀ`` for ``W`` ``(R, m, d)``: ``(R, n, m)`` (the array-API path)."""
        return X @ self.xp.matrix_transpose(W)

    def _forward(self, theta: Any, X: Any, y: Any) -> tuple[Any, ...]:
        a, B = self.unpack(theta)
        xp = self.xp
        Z = self._products(X, B)  # (R, n, m)
        H = xp.maximum(Z, 0.0)
        D = xp.astype(Z > 0, Z.dtype)
        r = self.s * (H @ xp.reshape(a, (*a.shape, 1)))[..., 0] - y  # (R, n)
        return a, B, H, D, r

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: Any) -> Any:
        """The model's work array ``name`` of ``shape`` and ``dtype`` (host-NumPy path),
        allocated on first use and overwritten by later calls, so that a call writes into
        pages already faulted in. At most :data:`_MAX_WORK` are kept (the activations of the
        full batch and of a minibatch, the input-weight product, the HVP's direction, mask
        and B-block, a record's)."""
        key = (name, shape, dtype)
        buf = self._work.get(key)
        if buf is None:
            if len(self._work) >= _MAX_WORK:
                self._work.clear()
            buf = self._work[key] = self.xp.empty(shape, dtype=dtype)
        return buf

    def _preactivations(self, name: str, W: Any, X: Any, dtype: Any) -> Any:
        r"""``(buf, Zᵀ)``: :math:`Z^T = W X^T` per replica, ``(R, m, n)``, written into the
        work array ``name``.

        For the shared inputs (``X`` of shape ``(n, d)``) all replicas are one GEMM,
        :math:`[W_1; \dots; W_R]\,X^T` of shape ``(R·m, n)`` (one large product instead of R
        small ones), whose row blocks are the replicas' ``(m, n)`` matrices, each
        contiguous; minibatch rows ``(R, B, d)`` give R products into ``(R, m, B)``. The
        transposed layout keeps every later pass contiguous: the elementwise passes run over
        one block of memory, the replicas' matrix-vector products are BLAS ``gemv`` on
        contiguous blocks, and the input-weight products :math:`(\cdot)\,X` read the buffer
        as one ``(R·m, n)`` operand.
        """
        xp = self.xp
        R, m = W.shape[0], self.m
        if X.ndim == 2:
            buf = self._buffer(name, (R * m, X.shape[0]), dtype)
            xp.matmul(xp.reshape(W, (R * m, self.d)), xp.matrix_transpose(X), out=buf)
            return buf, xp.reshape(buf, (R, m, X.shape[0]))
        buf = self._buffer(name, (R, m, X.shape[-2]), dtype)
        xp.matmul(W, xp.matrix_transpose(X), out=buf)
        return buf, buf

    def _chunks(self, R: int, n: int, nbytes: int) -> list[slice]:
        """Groups of consecutive replicas whose work arrays (``nbytes`` per entry of the
        ``(m, n)`` activations) fill about :data:`_CHUNK_BYTES`: the NumPy paths make all
        their passes over one group before the next, so that the group stays in cache
        instead of every pass streaming the whole ``(R, m, n)`` from memory. The arithmetic
        is the same whatever the grouping (elementwise passes, and one BLAS call per replica
        for every matrix-vector product), so the results are the same bits."""
        g = max(1, _CHUNK_BYTES // max(1, self.m * n * nbytes))
        return [slice(i, min(i + g, R)) for i in range(0, R, g)]

    def _activations(self, theta: Any, X: Any, y: Any, w: float | None = None) -> Any:
        r"""The host-NumPy path of :meth:`loss` (``w`` None: the loss per replica, ``(R,)``)
        and of :meth:`grad` and :meth:`batch_grad` (``w`` the weight of the sum over the
        samples, ``1/n`` or ``1/B``: the gradient ``(R, p)``), in the model's work arrays.

        The pre-activations are :meth:`_preactivations`' one GEMM into the buffer; then,
        one group of replicas (:meth:`_chunks`) at a time while it is in cache: the ReLU
        in place (``Hᵀ = σ(Zᵀ)``), :math:`r = sHa - y` and :math:`\partial_aL = ws\,Hr` as
        BLAS ``gemv`` (vectors reshaped, not broadcast: a zero stride sends NumPy to its own
        loop), and ``Hᵀ`` turned into :math:`(D\circ r)^T` in place (``H > 0`` is ``Z > 0``,
        written as 1.0/0.0 like ``D``, then times the row ``r``). The input-weight gradient
        :math:`(D\circ r)^TX` is then one GEMM ``(R·m, n) @ (n, d)`` for all replicas (a
        minibatch's rows ``(R, B, d)``: one per replica). Few, large BLAS calls: with several
        BLAS threads on a shared machine every call pays a synchronisation of its threads.

        So a step allocates no activation-sized temporary and faults no pages in (one array
        of activations instead of four: ``Z``, ``H``, ``D``, ``D∘r``); the buffers are
        overwritten by the next call, so they are never returned to users, and one model
        should not be evaluated from two threads at once. Both blocks are written straight
        into one fresh result (:meth:`_output`).

        The results equal :meth:`_forward` and :meth:`_grad_from`'s to rounding (the same
        sums, accumulated by BLAS in another order; ``tests/numerics/test_two_layer.py``
        bounds the difference).
        """
        a, B = self.unpack(theta)
        xp = self.xp
        (R, m), n = a.shape, X.shape[-2]
        dtype = xp.result_type(X.dtype, B.dtype)
        buf, H = self._preactivations("activations", B, X, dtype)
        if w is None:
            out = xp.empty((R,), dtype=dtype)
        else:
            out, ga, gB = self._output(R, dtype)
        for c in self._chunks(R, n, 8):
            Hc, k = H[c], c.stop - c.start
            xp.maximum(Hc, 0.0, out=Hc)  # Hᵀ = σ(Zᵀ)
            r = self.s * (xp.reshape(a[c], (k, 1, m)) @ Hc)[..., 0, :] - (y if y.ndim == 1 else y[c])
            if w is None:
                out[c] = 0.5 * xp.mean(r * r, axis=-1)
                continue
            xp.matmul(Hc, xp.reshape(r, (k, n, 1)), out=ga[c])  # H r
            xp.multiply(ga[c], w * self.s, out=ga[c])
            xp.greater(Hc, 0.0, out=Hc)  # Dᵀ (σ' of Z: H > 0 exactly where Z > 0)
            xp.multiply(Hc, xp.reshape(r, (k, 1, n)), out=Hc)  # (D ∘ r)ᵀ
        if w is not None:
            if X.ndim == 2:
                G = self._buffer("input-weight product", (R * m, self.d), dtype)
                xp.matmul(buf, X, out=G)
                G = xp.reshape(G, (R, m, self.d))
            else:
                G = H @ X
            xp.multiply(G, (w * self.s) * a[..., None], out=gB)
        return out

    def loss(self, theta: Any) -> Any:
        """:math:`L(\theta)` per replica, ``(R,)``."""
        if self._fast:
            return self._activations(theta, self.X, self.y)
        *_, r = self._forward(theta, self.X, self.y)
        return 0.5 * self.xp.mean(r * r, axis=-1)

    def _grad_fast(self, theta: Any, X: Any, y: Any, w: float) -> Any:
        """:meth:`_grad_from` on the host-NumPy path (:meth:`_activations`)."""
        return self._activations(theta, X, y, w)

    def _output(self, R: int, dtype: Any) -> tuple[Any, Any, Any]:
        """A fresh ``(R, p)`` result and its a-block ``(R, m, 1)`` and B-block ``(R, m, d)``
        as views, for the NumPy paths to write into (no temporaries of the size of θ)."""
        out = self.xp.empty((R, self.p), dtype=dtype)
        return (out, out[:, : self.m, None],
                self.xp.reshape(out[:, self.m:], (R, self.m, self.d)))

    def _grad_from(self, a: Any, H: Any, D: Any, r: Any, X: Any, w: float) -> Any:
        xp = self.xp
        ga = w * self.s * (r[..., None, :] @ H)[..., 0, :]  # (R, m)
        gB = w * self.s * a[..., None] * (xp.matrix_transpose(D * r[..., None]) @ X)  # (R, m, d)
        return self._join(ga, gB)

    def grad(self, theta: Any) -> Any:
        """:math:`\\nabla L(\\theta)`, ``(R, p)``."""
        if self._fast:
            return self._grad_fast(theta, self.X, self.y, 1.0 / self.n)
        a, B, H, D, r = self._forward(theta, self.X, self.y)
        return self._grad_from(a, H, D, r, self.X, 1.0 / self.n)

    def hvp(self, theta: Any, v: Any) -> Any:
        r""":math:`\nabla^2L(\theta)v`, ``(R, p)``.

        With :math:`P = D\circ(X V_B^T)` (:math:`V_B` the B-block of ``v``), the directional
        derivative of the residuals :math:`\delta f = s(Hv_a + Pa)` and
        :math:`C = D\circ(\delta f\,a^T + r\,v_a^T)`:

        .. math:: (\nabla^2Lv)_a = \tfrac sn(H^T\delta f + P^Tr),\qquad
                  (\nabla^2Lv)_B = \tfrac sn\,C^TX

        (the Gauss–Newton term and the ReLU curvature :math:`r_i s D_{ij}x_i` of the class
        notes): three products with ``X`` of the size of the forward one, so about 1.5
        gradients.
        """
        self._check_theta(theta)
        if tuple(v.shape) != tuple(theta.shape):
            raise ValueError(message("v", f"have the shape of theta, {tuple(theta.shape)}",
                                     f"got {tuple(v.shape)}", owner="TwoLayerReLU.hvp"))
        if self._fast:
            return self._hvp_fast(theta, v)
        xp = self.xp
        a, B, H, D, r = self._forward(theta, self.X, self.y)
        va, vB = self.unpack(v)
        X = self.X
        DXvB = D * self._products(X, vB)  # (R, n, m): σ'(b_j·x_i) vb_j·x_i
        s, n = self.s, self.n
        # Vectors enter the products reshaped, not broadcast ([..., None] has a zero stride,
        # which NumPy cannot hand to BLAS: a loop some 50× slower at n = 2000, m = 256).
        R, m = a.shape
        col = lambda u: xp.reshape(u, (R, u.shape[-1], 1))  # noqa: E731
        row = lambda u: xp.reshape(u, (R, 1, u.shape[-1]))  # noqa: E731
        df = s * ((H @ col(va))[..., 0] + (DXvB @ col(a))[..., 0])  # (R, n)
        ha = (s / n) * ((row(df) @ H)[..., 0, :] + (row(r) @ DXvB)[..., 0, :])
        C = (df[..., :, None] * a[..., None, :] + r[..., :, None] * va[..., None, :]) * D
        hB = (s / n) * (xp.matrix_transpose(C) @ X)
        return self._join(ha, hB)

    def _hvp_fast(self, theta: Any, v: Any) -> Any:
        r""":meth:`hvp` on the host-NumPy path, in three work arrays of :meth:`_buffer`.

        ``Hᵀ`` is :meth:`_activations`' buffer (shared with :meth:`grad`), ``Pᵀ`` a second
        one of the same shape, the mask ``D`` one of booleans (an eighth of the size):

        1. the two forward GEMMs :math:`BX^T`, :math:`V_BX^T` (:meth:`_preactivations`);
        2. one group of replicas at a time, while it is in cache (:meth:`_chunks`):
           ``Hᵀ = max(Zᵀ, 0)``, ``D = Hᵀ > 0`` (= ``Zᵀ > 0``) and ``Pᵀ ∘= D`` in place; the
           five matrix-vector products (``r``, ``δf`` and the a-block, written into the
           result) as BLAS ``gemv`` on the contiguous ``(m, n)`` blocks, vectors reshaped
           (never broadcast); :math:`C^T = D\circ(a\,\delta f^T + v_a r^T)` written over
           ``Pᵀ`` (with ``Hᵀ``, no longer needed, as the scratch for the second outer product);
        3. the B-block :math:`C^TX`, one GEMM ``(R·m, n) @ (n, d)``, scaled into the result.

        Three large GEMMs (the gradient has two), five ``gemv`` per replica and seven
        elementwise passes, all made in cache one group at a time, none of them allocating. The terms are those of the array-API branch of
        :meth:`hvp`, each product rounded once; only the order of BLAS's sums differs
        (``tests/numerics/test_two_layer.py`` bounds the difference by :math:`2\gamma_K`).
        """
        xp = self.xp
        a, B = self.unpack(theta)
        va, vB = self.unpack(v)
        X, s, n = self.X, self.s, self.n
        R, m = a.shape
        dtype = xp.result_type(X.dtype, theta.dtype, v.dtype)
        hbuf, H = self._preactivations("activations", B, X, dtype)
        pbuf, P = self._preactivations("hvp direction", vB, X, dtype)
        mask = self._buffer("hvp mask", tuple(hbuf.shape), bool)
        M = xp.reshape(mask, (R, m, n))
        out, ha, hB = self._output(R, dtype)
        y = self.y
        for c in self._chunks(R, n, 17):  # Hᵀ, Pᵀ (8 bytes each) and D (1)
            Hc, Pc, Mc, k = H[c], P[c], M[c], c.stop - c.start
            row = lambda u: xp.reshape(u, (k, 1, u.shape[-1]))  # noqa: E731
            col = lambda u: xp.reshape(u, (k, u.shape[-1], 1))  # noqa: E731
            xp.maximum(Hc, 0.0, out=Hc)  # Hᵀ
            xp.greater(Hc, 0.0, out=Mc)  # D
            xp.multiply(Pc, Mc, out=Pc)  # Pᵀ = D ∘ (X V_Bᵀ)ᵀ
            r = s * (row(a[c]) @ Hc)[..., 0, :] - (y if y.ndim == 1 else y[c])  # (k, n)
            df = s * ((row(va[c]) @ Hc)[..., 0, :] + (row(a[c]) @ Pc)[..., 0, :])  # (k, n)
            xp.matmul(Hc, col(df), out=ha[c])
            xp.add(ha[c], Pc @ col(r), out=ha[c])
            xp.multiply(ha[c], s / n, out=ha[c])  # (s/n)(H δf + P r)
            # Cᵀ = D ∘ (a δfᵀ + v_a rᵀ) over Pᵀ, Hᵀ (read for the last time) the scratch:
            # elementwise passes in cache rather than k rank-2 BLAS calls.
            xp.multiply(col(a[c]), row(df), out=Pc)
            xp.multiply(col(va[c]), row(r), out=Hc)
            xp.add(Pc, Hc, out=Pc)
            xp.multiply(Pc, Mc, out=Pc)
        G = self._buffer("hvp B-block", (R * m, self.d), dtype)
        xp.matmul(pbuf, X, out=G)  # one GEMM (R·m, n) @ (n, d)
        xp.multiply(xp.reshape(G, (R, m, self.d)), s / n, out=hB)
        return out

    def _rows(self, idx: Any) -> tuple[Any, Any]:
        xp = self.xp
        R, Bsz = idx.shape
        X = xp.reshape(xp.take(self.X, xp.reshape(idx, (-1,)), axis=0), (R, Bsz, self.d))
        if self.y.ndim == 2:
            offs = xp.reshape(xp.arange(R, dtype=idx.dtype) * self.n, (R, 1))
            ys = xp.take(xp.reshape(self.y, (-1,)), xp.reshape(idx + offs, (-1,)), axis=0)
        else:
            ys = xp.take(self.y, xp.reshape(idx, (-1,)), axis=0)
        return X, xp.reshape(ys, (R, Bsz))

    def batch_grad(self, theta: Any, idx: Any) -> Any:
        """Minibatch gradient :math:`\\frac1B\\sum_{i\\in\\mathcal B}r_i\\nabla f_i`; ``idx`` ``(R, B)``."""
        X, ys = self._rows(idx)
        if self._fast:
            return self._grad_fast(theta, X, ys, 1.0 / idx.shape[-1])
        a, B, H, D, r = self._forward(theta, X, ys)
        return self._grad_from(a, H, D, r, X, 1.0 / idx.shape[-1])

    def per_sample_grads(self, theta: Any) -> Any:
        """:math:`r_i\\nabla f_i` for each sample, ``(R, n, p)`` (their mean is the gradient)."""
        xp = self.xp
        a, B, H, D, r = self._forward(theta, self.X, self.y)
        R = theta.shape[0]
        ga = self.s * r[..., None] * H  # (R, n, m)
        gB = self.s * (r[..., None] * D * a[..., None, :])[..., None] * self.X[None, :, None, :]
        return xp.concat([ga, xp.reshape(gB, (R, self.n, self.m * self.d))], axis=-1)

    def test_error(self, theta: Any, X: Any, y: Any) -> Any:
        """Mean squared error :math:`\\frac1{n'}\\sum_i(f_m(x_i)-y_i)^2` on ``(X, y)``: ``(R,)``."""
        validate("TwoLayerReLU.test_error", {"X": (X, Array(("n", "d"))),
                                             "y": (y, Array(("n",), ("R", "n")))},
                 dims={"d": self.d}, xp=self.xp)
        r = self.predict(theta, X) - y
        return self.xp.mean(r * r, axis=-1)


class TwoLayerPopulation(_TwoLayer):
    r"""Two-layer ReLU network on the exact population loss (n = ∞) against a :class:`Teacher`.

    :math:`L(\theta) = \tfrac12\mathcal R(a, B)`, with
    :math:`\mathcal R = s^2a^TKa - 2s\,a^TK_*a^* + a^{*T}K_{**}a^*` (``two_layer.population_loss``).

    Parameters
    ----------
    teacher
        The target (:func:`single_neuron`, :func:`linear_target`, :func:`finite_neurons`,
        :func:`circle_target` or any :class:`Teacher`).
    m
        Width (>= 1).
    scaling
        ``"conventional"`` or ``"mean_field"``.
    input
        ``"gaussian"`` (:math:`x\sim N(0, I_d)`) or ``"sphere"`` (:math:`\mathrm{Unif}(S^{d-1})`,
        d >= 2; kernel divided by d).

    Notes
    -----
    .. math::
        \nabla_aL = s^2Ka - sK_*a^*,\qquad
        \nabla_{b_j}L = a_j\Bigl[s^2\sum_l a_l\nabla_1k(b_j,b_l) - s\sum_k a^*_k\nabla_1k(b_j,b^*_k)\Bigr]

    (``two_layer.population_gradient``); the Hessian-vector product uses the second
    derivatives of k in the module notes. Cost per call: O(R m (m + k) d).

    References
    ----------
    Y. Cho and L. K. Saul, *Kernel methods for deep learning*, NIPS 2009 (the arc-cosine
    kernel that makes the Gaussian population loss exact); seed 000, eq. 15.

    Examples
    --------
    >>> import numpy as np
    >>> net = TwoLayerPopulation(single_neuron(3), m=4)
    >>> net
    TwoLayerPopulation(single neuron σ(x₁), d=3, m=4, scaling='conventional', input='gaussian', namespace=numpy)
    >>> net.risk(np.zeros((1, net.p)))   # E σ(x₁)² = 1/2
    array([0.5])
    """

    def __init__(self, teacher: Teacher, m: int, *, scaling: str = "conventional",
                 input: str = "gaussian") -> None:
        InstanceOf(Teacher)("teacher", teacher, owner="TwoLayerPopulation")
        super().__init__(m, teacher.d, scaling, teacher.xp, like=teacher.B_star)
        self.kappa = _input_scale(input, teacher.d, "TwoLayerPopulation")
        self.input = input
        self.teacher = teacher
        self._Bs = teacher.B_star[None, ...]
        self._as = teacher.a_star
        self.const = teacher.self_kernel(self.kappa)

    def __repr__(self) -> str:
        return (f"TwoLayerPopulation({self.teacher.name}, d={self.d}, m={self.m}, "
                f"scaling={self.scaling!r}, input={self.input!r}, namespace={self._name()})")

    def _parts(self, theta: Any) -> tuple[Any, ...]:
        a, B = self.unpack(theta)
        gs = _geometry(B, B, self.xp, same=True)
        gt = _geometry(B, self._Bs, self.xp)
        return a, B, gs, gt, _kernel_from(gs, self.kappa), _kernel_from(gt, self.kappa)

    def risk(self, theta: Any) -> Any:
        r""":math:`\mathcal R(a, B) = \mathbb E_x(f_m(x) - f^*(x))^2` per replica, ``(R,)``."""
        a, B, gs, gt, K, Kt = self._parts(theta)
        s = self.s
        quad = xp_sum(self.xp, a * (K @ a[..., None])[..., 0])
        cross = xp_sum(self.xp, a * (Kt @ self._as))
        return s * s * quad - 2 * s * cross + self.const

    def loss(self, theta: Any) -> Any:
        r""":math:`L = \tfrac12\mathcal R`, ``(R,)``."""
        return 0.5 * self.risk(theta)

    def _grad1_sum(self, g: _Geometry, coef: Any, W: Any) -> Any:
        r""":math:`\sum_l c_{jl}\nabla_1k(u_j, w_l)` for ``coef`` ``(R, m, q)``: ``(R, m, d)``."""
        k = self.kappa / (2 * math.pi)
        lin = (coef * (math.pi - g.th)) @ W
        rad = self.xp.sum(coef * g.nw[..., None, :] * g.s, axis=-1)
        return k * (lin + rad[..., None] * g.Uh)

    def _field(self, a: Any, B: Any, gs: _Geometry, gt: _Geometry) -> Any:
        r""":math:`s^2\sum_l a_l\nabla_1k(b_j,b_l) - s\sum_k a^*_k\nabla_1k(b_j,b^*_k)`, ``(R, m, d)``."""
        s = self.s
        return (self._grad1_sum(gs, (s * s) * a[..., None, :], B)
                - self._grad1_sum(gt, s * self._as[None, None, :], self._Bs))

    def grad(self, theta: Any) -> Any:
        """:math:`\\nabla L(\\theta)`, ``(R, p)``."""
        a, B, gs, gt, K, Kt = self._parts(theta)
        s = self.s
        ga = s * s * (K @ a[..., None])[..., 0] - s * (Kt @ self._as)
        gB = a[..., None] * self._field(a, B, gs, gt)
        return self._join(ga, gB)

    def _hess11_sum(self, g: _Geometry, coef: Any, V: Any) -> Any:
        r""":math:`\sum_l c_{jl}\nabla^2_{11}k(u_j, w_l)v_j`, ``(R, m, d)``."""
        xp = self.xp
        k = self.kappa / (2 * math.pi)
        uv = xp.sum(g.Uh * V, axis=-1)  # (R, m)
        Q = V @ xp.matrix_transpose(g.Wh)  # (R, m, q): v_j · ŵ_l
        tv = Q - g.c * uv[..., None]
        cw = coef * g.nw[..., None, :]
        big = g.s > _SIN_FLOOR
        gam = xp.where(big, cw * tv / xp.where(big, g.s, 1.0), 0.0)
        t_sum = gam @ g.Wh - xp.sum(gam * g.c, axis=-1)[..., None] * g.Uh
        perp = xp.sum(cw * g.s, axis=-1)[..., None] * (V - g.Uh * uv[..., None])
        one = xp.asarray(1.0, dtype=V.dtype)
        return (k / xp.where(g.nu > 0, g.nu, one))[..., None] * (perp + t_sum)

    def _hess21_sum(self, g: _Geometry, coef: Any, VW: Any) -> Any:
        r""":math:`\sum_l c_{jl}\nabla_2\nabla_1k(u_j, w_l)v_l` (w = the network's own B)."""
        xp = self.xp
        k = self.kappa / (2 * math.pi)
        wv = xp.sum(g.Wh * VW, axis=-1)  # (R, q)
        M = g.Uh @ xp.matrix_transpose(VW)  # (R, m, q): û_j · v_l
        fv = M - g.c * wv[..., None, :]
        big = g.s > _SIN_FLOOR
        dl = xp.where(big, coef * fv / xp.where(big, g.s, 1.0), 0.0)
        A = (coef * (math.pi - g.th)) @ VW
        Bt = dl @ g.Wh - xp.sum(dl * g.c, axis=-1)[..., None] * g.Uh
        C = xp.sum(coef * g.s * wv[..., None, :], axis=-1)[..., None] * g.Uh
        return k * (A + Bt + C)

    def hvp(self, theta: Any, v: Any) -> Any:
        """:math:`\\nabla^2L(\\theta)v`, ``(R, p)``."""
        xp = self.xp
        a, B, gs, gt, K, Kt = self._parts(theta)
        va, vB = self.unpack(v)
        s, k = self.s, self.kappa / (2 * math.pi)
        s2 = s * s
        field = self._field(a, B, gs, gt)  # (R, m, d)
        # a-block: d/dθ of s²Ka − sK*a* along v.
        Gself = self._grad1_sum(gs, a[..., None, :], B)  # Σ_l a_l ∇₁k(b_j, b_l)
        Gt = self._grad1_sum(gt, self._as[None, None, :], self._Bs)
        P = vB @ xp.matrix_transpose(B)  # (R, m, m): vb_l · b_j at [l, j]
        uv = xp.sum(gs.Uh * vB, axis=-1)  # (R, m): û_l · vb_l
        other = k * (xp.sum(a[..., :, None] * (math.pi - gs.th) * P, axis=-2)
                     + gs.nu * xp.sum(a[..., :, None] * gs.s * uv[..., :, None], axis=-2))
        ha = (s2 * (K @ va[..., None])[..., 0] + s2 * xp.sum(Gself * vB, axis=-1)
              + s2 * other - s * xp.sum(Gt * vB, axis=-1))
        # B-block.
        hB = (va[..., None] * field
              + a[..., None] * self._grad1_sum(gs, s2 * va[..., None, :], B)
              + a[..., None] * (self._hess11_sum(gs, s2 * a[..., None, :], vB)
                                + self._hess21_sum(gs, s2 * a[..., None, :], vB)
                                - self._hess11_sum(gt, s * self._as[None, None, :], vB)))
        return self._join(ha, hB)


def xp_sum(xp: Any, x: Any) -> Any:
    return xp.sum(x, axis=-1)


class RandomFeatures:
    r"""The random-feature model: a two-layer model with the inner weights frozen at ``B0``.

    Parameters are the outer weights only, ``a`` of shape ``(R, m)``; ``loss``, ``grad``,
    ``hvp`` (and ``batch_grad``, ``per_sample_grads`` when the wrapped model has them) are
    those of ``model`` restricted to the a-block.

    Parameters
    ----------
    model
        A :class:`TwoLayerReLU` or :class:`TwoLayerPopulation`.
    B0
        Frozen inner weights, ``(m, d)`` shared or ``(R, m, d)`` per replica.

    References
    ----------
    A. Rahimi and B. Recht, *Random features for large-scale kernel machines*, NIPS 2007;
    W. E, C. Ma, L. Wu, *A comparative analysis of the optimization and generalization
    property of two-layer neural network and random feature models under gradient descent
    dynamics*, 2019 (the comparison of seed 000).
    """

    def __init__(self, model: _TwoLayer, B0: Any) -> None:
        InstanceOf(_TwoLayer, "a TwoLayerReLU or a TwoLayerPopulation")(
            "model", model, owner="RandomFeatures")
        xp = model.xp
        validate("RandomFeatures", {"B0": (B0, Array(("m", "d"), ("R", "m", "d")))},
                 dims={"m": model.m, "d": model.d}, xp=xp)
        self._a = Shape(("R", "m"), dims={"m": model.m,
                                          "R": B0.shape[0] if B0.ndim == 3 else None}, like=B0)
        self.model, self.B0, self.xp = model, B0, xp
        self.m, self.p = model.m, model.m
        self.n = getattr(model, "n", None)

    def __repr__(self) -> str:
        return f"RandomFeatures({self.model!r})"

    def full(self, a: Any) -> Any:
        """The full parameter vector θ = (a, vec B0), ``(R, m(d+1))``."""
        xp = self.xp
        self._a("RandomFeatures", "a", a)
        R = a.shape[0]
        B = self.B0 if self.B0.ndim == 3 else xp.broadcast_to(self.B0[None, ...], (R, self.m, self.model.d))
        return self.model._join(a, B)

    def loss(self, a: Any) -> Any:
        return self.model.loss(self.full(a))

    def grad(self, a: Any) -> Any:
        return self.model.grad(self.full(a))[:, : self.m]

    def hvp(self, a: Any, v: Any) -> Any:
        xp = self.xp
        vfull = xp.concat([v, xp.zeros((v.shape[0], self.model.p - self.m), dtype=v.dtype)], axis=1)
        return self.model.hvp(self.full(a), vfull)[:, : self.m]

    def batch_grad(self, a: Any, idx: Any) -> Any:
        return self.model.batch_grad(self.full(a), idx)[:, : self.m]

    def per_sample_grads(self, a: Any) -> Any:
        return self.model.per_sample_grads(self.full(a))[..., : self.m]

    def risk(self, a: Any) -> Any:
        return self.model.risk(self.full(a))


def xavier_init(R: int, m: int, d: int, *, beta: float, rng: Any, xp: Any = None,
                scaling: str = "conventional") -> Any:
    r"""Seed 000's eq. 8: :math:`a_j(0)\sim N(0, \beta^2)`, :math:`b_j(0)\sim N(0, I/d)`,
    packed as ``(R, m(d+1))``. ``beta = 0`` starts the outer layer at zero.

    ``scaling`` only names the convention (both scalings use the same draw; under
    mean-field scaling β is typically O(1))."""
    from numerics.random import default_rng  # noqa: PLC0415

    xp = namespace_for(xp)
    R, m, d, beta, scaling = validate("xavier_init", {
        "R": (R, _COUNT), "width m": (m, _COUNT), "d": (d, _COUNT), "beta": (beta, NON_NEGATIVE),
        "scaling": (scaling, Options(*_SCALINGS))})
    gen = default_rng(rng, xp=xp)
    a = gen.normal((R, m), std=1.0) * beta
    B = gen.normal((R, m, d), std=1.0 / math.sqrt(d))
    return xp.concat([a, xp.reshape(B, (R, m * d))], axis=1)


def neuron_magnitudes(model: _TwoLayer, theta: Any) -> Any:
    r""":math:`s|a_j|\|b_j\|` for each neuron, ``(R, m)``: :meth:`_TwoLayer.neuron_magnitudes`."""
    return model.neuron_magnitudes(theta)
