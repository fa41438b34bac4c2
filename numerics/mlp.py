r"""A small ReLU multilayer perceptron with square loss, as a model for the replica engine.

The network maps an input :math:`x\in\mathbb R^{d}` through ``L - 1`` hidden ReLU layers to
``k`` linear outputs,

.. math::
    a_0 = x,\qquad z_l = W_l a_{l-1} + b_l,\qquad a_l = \max(z_l, 0)\ (l < L),\qquad
    f(x;\theta) = z_L,

and is trained on the square loss with one-hot targets (seed 000's "quadratic loss"):

.. math::
    L(\theta) = \frac1n\sum_{i=1}^n \ell_i(\theta),\qquad
    \ell_i(\theta) = \tfrac12\,\|f(x_i;\theta) - y_i\|^2 .

Every method takes a flat parameter vector with a leading replica axis, ``theta`` of shape
``(R, p)``: R networks (R seeds, R step sizes, ...) are one array program. The gradient,
the Hessian-vector product and their per-sample versions are derived by hand
(backpropagation and its forward-mode tangent, Pearlmutter's R-operator) and tested
against finite differences. The ReLU's second derivative vanishes almost everywhere, so
the Hessian is exact wherever no pre-activation sits exactly at zero.

References
----------
seed 000 (L. Wu, *Towards understanding the implicit regularization in deep learning*,
2020: "Numerical results: quadratic loss, fixed learning rate"); B. A. Pearlmutter, *Fast
exact multiplication by the Hessian*, Neural Computation 6 (1994).
"""

from __future__ import annotations

import math
from typing import Any

from numbers import Integral

from numerics._validation import POSITIVE, Array, Interval, Shape, describe, message, validate

_COUNT = Interval(Integral, 1, None, closed="left")

__all__ = ["MLP"]


class MLP:
    r"""A ReLU multilayer perceptron :math:`f(x;\theta)` with square loss on fixed data.

    Parameters
    ----------
    X
        Inputs, ``(n, d)``.
    Y
        Targets, ``(n, k)`` shared by all replicas or ``(R, n, k)`` one set per replica
        (e.g. independently corrupted labels), usually one-hot.
    widths
        Hidden-layer widths, e.g. ``(32,)`` (one hidden layer) or ``(32, 32)``.

    Attributes
    ----------
    n, d, k
        Number of samples, input dimension, number of outputs.
    p
        Number of parameters: :math:`\sum_l (\text{out}_l\cdot\text{in}_l + \text{out}_l)`.
    shapes
        ``[(out_l, in_l), ...]`` of the weight matrices, first layer first.

    Notes
    -----
    Layout of ``theta``: for each layer ``l`` the weight :math:`W_l` (``out_l x in_l``,
    row-major) then the bias :math:`b_l`. With :math:`\delta_L = f - y` and
    :math:`\delta_{l-1} = (W_l^T\delta_l)\odot\mathbb 1[z_{l-1} > 0]`,

    .. math::
        \nabla_{W_l}\ell_i = \delta_l a_{l-1}^T,\qquad \nabla_{b_l}\ell_i = \delta_l .

    The Hessian-vector product in direction :math:`V = (\dot W_l, \dot b_l)_l` propagates
    the tangents :math:`\dot z_l = W_l\dot a_{l-1} + \dot W_l a_{l-1} + \dot b_l`,
    :math:`\dot a_l = \mathbb 1[z_l>0]\odot\dot z_l`, :math:`\dot\delta_L = \dot f`,
    :math:`\dot\delta_{l-1} = (W_l^T\dot\delta_l + \dot W_l^T\delta_l)\odot\mathbb 1[z_{l-1}>0]`,
    and returns :math:`(\dot\delta_l a_{l-1}^T + \delta_l\dot a_{l-1}^T,\ \dot\delta_l)_l`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3, 4); Y = np.eye(3)
    >>> m = MLP(X, Y, widths=(5,))
    >>> m
    MLP(n=3, d=4, widths=(5,), k=3, p=43, targets=shared, namespace=numpy)
    >>> theta = m.init(2, rng=0)
    >>> m.loss(theta).shape, m.grad(theta).shape
    ((2,), (2, 43))
    """

    def __init__(self, X: Any, Y: Any, *, widths: tuple[int, ...] = (32,)) -> None:
        owner = "MLP"
        if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__") or hasattr(widths, "shape"):
            raise TypeError(message("widths", "be a tuple of hidden-layer widths",
                                    f"got {describe(widths)}", owner=owner))
        widths = tuple(widths)
        if not widths:
            raise ValueError(message("widths", "name at least one hidden layer", "got ()",
                                     owner=owner))
        widths = tuple(_COUNT(f"widths[{i}]", w, owner=owner) for i, w in enumerate(widths))
        xp = validate(owner, {"X": (X, Array(("n", "d"))),
                              "Y": (Y, Array(("n", "k"), ("R", "n", "k")))}).xp
        self.xp = xp
        self.X, self.Y = X, Y
        self.n, self.d = int(X.shape[0]), int(X.shape[1])
        self.k = int(Y.shape[-1])
        self.widths = widths
        sizes = (self.d, *widths, self.k)
        self.shapes = [(sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]
        self._slices: list[tuple[int, int, int]] = []  # (start of W, start of b, end of b)
        start = 0
        for out, inp in self.shapes:
            self._slices.append((start, start + out * inp, start + out * inp + out))
            start += out * inp + out
        self.p = start
        self.replicas = int(Y.shape[0]) if Y.ndim == 3 else None
        self._theta_any = Shape(("R", "p"), dims={"p": self.p}, like=X)
        self._theta_tgt = Shape(("R", "p"), dims={"R": self.replicas, "p": self.p}, like=X,
                                origin="the model (R: the replicas of the targets Y)")

    def __repr__(self) -> str:
        ns = getattr(self.xp, "__name__", "?").split(".")[-1]
        tgt = "shared" if self.replicas is None else f"per replica ({self.replicas})"
        return (f"MLP(n={self.n}, d={self.d}, widths={self.widths}, k={self.k}, p={self.p}, "
                f"targets={tgt}, namespace={ns})")

    @property
    def layers(self) -> int:
        """Number of weight layers ``L`` (hidden layers + 1)."""
        return len(self.shapes)

    # ----------------------------------------------------------------- parameters
    def _check_theta(self, theta: Any, name: str = "theta", *, targets: bool = True) -> None:
        (self._theta_tgt if targets else self._theta_any)("MLP", name, theta)

    def unpack(self, theta: Any) -> list[tuple[Any, Any]]:
        """``[(W_l (R, out, in), b_l (R, out)), ...]`` views of ``theta`` (R, p)."""
        xp = self.xp
        R = theta.shape[0]
        out = []
        for (o, i), (s, m, e) in zip(self.shapes, self._slices):
            out.append((xp.reshape(theta[:, s:m], (R, o, i)), theta[:, m:e]))
        return out

    def pack(self, params: list[tuple[Any, Any]]) -> Any:
        """Inverse of :meth:`unpack`: concatenate ``[(W_l, b_l), ...]`` into ``(R, p)``."""
        if not isinstance(params, (list, tuple)) or len(params) != self.layers:
            got = f"{len(params)} pairs" if isinstance(params, (list, tuple)) else describe(params)
            raise ValueError(message("params", f"hold {self.layers} (W, b) pairs", f"got {got}",
                                     owner="MLP.pack"))
        xp = self.xp
        parts = []
        for l, ((o, i), (W, b)) in enumerate(zip(self.shapes, params)):
            validate("MLP.pack", {f"W_{l}": (W, Array(("R", o, i), finite=False)),
                                  f"b_{l}": (b, Array(("R", o), finite=False))}, xp=xp)
            parts += [xp.reshape(W, (W.shape[0], o * i)), b]
        return xp.concat(parts, axis=-1)

    def _pack_layers(self, gW: list[Any], gb: list[Any]) -> Any:
        """Concatenate per-layer arrays ``(..., out, in)`` and ``(..., out)`` into ``(..., p)``."""
        xp = self.xp
        parts = []
        for W, b in zip(gW, gb):
            parts += [xp.reshape(W, (*W.shape[:-2], W.shape[-2] * W.shape[-1])), b]
        return xp.concat(parts, axis=-1)

    def _unpack_any(self, v: Any) -> list[tuple[Any, Any]]:
        """Like :meth:`unpack` for any leading shape ``(..., p)``."""
        xp = self.xp
        lead = tuple(v.shape[:-1])
        return [(xp.reshape(v[..., s:m], (*lead, o, i)), v[..., m:e])
                for (o, i), (s, m, e) in zip(self.shapes, self._slices)]

    def init(self, replicas: int, *, scale: float = 1.0, rng: Any = None,
             dtype: Any = None) -> Any:
        r"""He-normal initial parameters times ``scale``: :math:`(W_l)_{ij}\sim
        \mathcal N(0, 2\,\text{scale}^2/\text{in}_l)`, :math:`b_l = 0`. Shape ``(replicas, p)``.

        ``rng`` is a seed or :class:`numerics.random.Generator`.
        """
        from numerics.random import default_rng  # noqa: PLC0415

        replicas, scale = validate("MLP.init", {"replicas": (replicas, _COUNT),
                                                "scale": (scale, POSITIVE)})
        xp = self.xp
        dtype = self.X.dtype if dtype is None else dtype
        gen = default_rng(rng, xp=xp, device=getattr(self.X, "device", None))
        parts = []
        for o, i in self.shapes:
            W = gen.normal((replicas, o * i), std=scale * math.sqrt(2.0 / i), dtype=dtype)
            parts += [W, xp.zeros((replicas, o), dtype=dtype, device=getattr(W, "device", None))]
        return xp.concat(parts, axis=-1)

    # ----------------------------------------------------------------- forward pass
    def _inputs(self, X: Any | None) -> Any:
        return self.X[None, ...] if X is None else (X[None, ...] if X.ndim == 2 else X)

    def _forward(self, params: list[tuple[Any, Any]], A0: Any) -> tuple[list[Any], list[Any]]:
        """Activations ``a_0..a_{L-1}`` and masks ``1[z_l > 0]`` (l < L); returns (acts, masks)
        with ``acts[-1]`` replaced by the output ``f`` (so ``len(acts) = L + 1``)."""
        xp = self.xp
        acts, masks = [A0], []
        a = A0
        for l, (W, b) in enumerate(params):
            z = a @ xp.matrix_transpose(W) + b[:, None, :]
            if l < len(params) - 1:
                m = xp.astype(z > 0, z.dtype)
                masks.append(m)
                a = z * m
            else:
                a = z
            acts.append(a)
        return acts, masks

    def predict(self, theta: Any, X: Any | None = None) -> Any:
        """Network outputs ``f(x_i; θ)``: ``(R, n, k)`` (on the training inputs by default;
        ``X`` may be ``(m, d)`` shared or ``(R, m, d)``)."""
        self._check_theta(theta, targets=X is None)
        if X is not None:
            validate("MLP.predict", {"X": (X, Array(("m", "d"), ("R", "m", "d")))},
                     dims={"d": self.d}, xp=self.xp)
        acts, _ = self._forward(self.unpack(theta), self._inputs(X))
        return acts[-1]

    def residual(self, theta: Any) -> Any:
        """``f(x_i; θ) − y_i`` on the training set: ``(R, n, k)``."""
        self._check_theta(theta)
        return self.predict(theta) - self.Y

    def per_sample_losses(self, theta: Any) -> Any:
        r""":math:`\ell_i(\theta) = \tfrac12\|f(x_i;\theta) - y_i\|^2`: ``(R, n)``."""
        r = self.residual(theta)
        return 0.5 * self.xp.sum(r * r, axis=-1)

    def loss(self, theta: Any) -> Any:
        r""":math:`L(\theta) = \frac1n\sum_i\ell_i(\theta)` per replica: ``(R,)``."""
        return self.xp.mean(self.per_sample_losses(theta), axis=-1)

    def accuracy(self, theta: Any, X: Any | None = None, labels: Any | None = None) -> Any:
        """Fraction of inputs whose largest output is the label: ``(R,)``.

        Default: the training inputs and the argmax of ``Y``. ``labels`` is ``(m,)`` or
        ``(R, m)`` integer classes.
        """
        xp = self.xp
        if labels is None:
            if X is not None:
                raise ValueError(message("labels", "be given with X", "got labels=None",
                                         owner="MLP.accuracy"))
            labels = xp.argmax(self.Y, axis=-1)
        pred = xp.argmax(self.predict(theta, X), axis=-1)
        return xp.mean(xp.astype(pred == labels, theta.dtype), axis=-1)

    # ----------------------------------------------------------------- derivatives
    def _backward(self, params: list[tuple[Any, Any]], acts: list[Any], masks: list[Any],
                  delta: Any, *, per_sample: bool) -> tuple[list[Any], list[Any], list[Any]]:
        """Back-propagate output errors ``delta`` (R, m, k). Returns the weight and bias
        gradients per layer (summed over samples, or per sample ``(R, m, ...)``) and the
        errors ``δ_l`` of each layer."""
        xp = self.xp
        L = len(params)
        gW: list[Any] = [None] * L
        gb: list[Any] = [None] * L
        deltas: list[Any] = [None] * L
        for l in range(L - 1, -1, -1):
            deltas[l] = delta
            a = acts[l]
            if per_sample:
                a_b = a if a.shape[0] == delta.shape[0] else xp.broadcast_to(
                    a, (delta.shape[0], *a.shape[1:]))
                gW[l] = delta[..., :, None] * a_b[..., None, :]
                gb[l] = delta
            else:
                gW[l] = xp.matrix_transpose(delta) @ a
                gb[l] = xp.sum(delta, axis=-2)
            if l > 0:
                delta = (delta @ params[l][0]) * masks[l - 1]
        return gW, gb, deltas

    def grad(self, theta: Any) -> Any:
        r""":math:`\nabla L(\theta)`: ``(R, p)``."""
        params = self.unpack(theta)
        acts, masks = self._forward(params, self._inputs(None))
        self._check_theta(theta)
        delta = (acts[-1] - self.Y) / self.n
        gW, gb, _ = self._backward(params, acts, masks, delta, per_sample=False)
        return self._pack_layers(gW, gb)

    def _rows(self, idx: Any) -> tuple[Any, Any]:
        """Inputs ``(R, B, d)`` and targets ``(R, B, k)`` of the samples ``idx`` (R, B)."""
        xp = self.xp
        R, B = idx.shape
        flat = xp.reshape(idx, (-1,))
        Xb = xp.reshape(xp.take(self.X, flat, axis=0), (R, B, self.d))
        if self.Y.ndim == 3:
            offs = xp.reshape(xp.arange(R, dtype=idx.dtype) * self.n, (R, 1))
            Yb = xp.take(xp.reshape(self.Y, (-1, self.k)), xp.reshape(idx + offs, (-1,)), axis=0)
        else:
            Yb = xp.take(self.Y, flat, axis=0)
        return Xb, xp.reshape(Yb, (R, B, self.k))

    def batch_grad(self, theta: Any, idx: Any) -> Any:
        r"""Minibatch gradient :math:`\frac1B\sum_{i\in\mathcal B}\nabla\ell_i(\theta)`;
        ``idx`` ``(R, B)`` holds one batch of sample indices per replica. Returns ``(R, p)``."""
        self._check_theta(theta)
        Shape(("R", "B"), dims={"R": theta.shape[0]}, origin="theta")("MLP.batch_grad", "idx", idx)
        Xb, Yb = self._rows(idx)
        params = self.unpack(theta)
        acts, masks = self._forward(params, Xb)
        delta = (acts[-1] - Yb) / idx.shape[1]
        gW, gb, _ = self._backward(params, acts, masks, delta, per_sample=False)
        return self._pack_layers(gW, gb)

    def per_sample_grads(self, theta: Any) -> Any:
        r""":math:`\nabla\ell_i(\theta)` for every sample (their mean is :math:`\nabla L`):
        ``(R, n, p)``."""
        self._check_theta(theta)
        params = self.unpack(theta)
        acts, masks = self._forward(params, self._inputs(None))
        gW, gb, _ = self._backward(params, acts, masks, acts[-1] - self.Y, per_sample=True)
        return self._pack_layers(gW, gb)

    def _tangent(self, params: list[tuple[Any, Any]], acts: list[Any], masks: list[Any],
                 dparams: list[tuple[Any, Any]], per_sample_dir: bool) -> list[Any]:
        """Forward tangents ``ȧ_0..ȧ_{L-1}`` and ``ḟ`` (``ȧ_0 = 0``, stored as None)."""
        xp = self.xp
        dacts: list[Any] = [None]
        da = None
        L = len(params)
        for l, ((W, _), (dW, db)) in enumerate(zip(params, dparams)):
            a = acts[l]
            if per_sample_dir:  # dW (R, n, o, i), db (R, n, o)
                dz = xp.sum(dW * a[..., None, :], axis=-1) + db
            else:
                dz = a @ xp.matrix_transpose(dW) + db[:, None, :]
            if da is not None:
                dz = dz + da @ xp.matrix_transpose(W)
            da = dz * masks[l] if l < L - 1 else dz
            dacts.append(da)
        return dacts

    def _hvp_layers(self, theta: Any, v: Any, *, per_sample: bool) -> Any:
        xp = self.xp
        params = self.unpack(theta)
        acts, masks = self._forward(params, self._inputs(None))
        per_dir = v.ndim == 3
        dparams = self._unpack_any(v)
        dacts = self._tangent(params, acts, masks, dparams, per_dir)
        c = 1.0 if per_sample else 1.0 / self.n
        delta = (acts[-1] - self.Y) * c
        ddelta = dacts[-1] * c
        L = len(params)
        hW: list[Any] = [None] * L
        hb: list[Any] = [None] * L
        for l in range(L - 1, -1, -1):
            a, da = acts[l], dacts[l]
            if per_sample:
                a_b = a if a.shape[0] == delta.shape[0] else xp.broadcast_to(
                    a, (delta.shape[0], *a.shape[1:]))
                hW[l] = ddelta[..., :, None] * a_b[..., None, :]
                if da is not None:
                    hW[l] = hW[l] + delta[..., :, None] * da[..., None, :]
                hb[l] = ddelta
            else:
                hW[l] = xp.matrix_transpose(ddelta) @ a
                if da is not None:
                    hW[l] = hW[l] + xp.matrix_transpose(delta) @ da
                hb[l] = xp.sum(ddelta, axis=-2)
            if l > 0:
                W, dW = params[l][0], dparams[l][0]
                if per_dir:
                    back = xp.sum(delta[..., :, None] * dW, axis=-2)
                else:
                    back = delta @ dW
                ddelta = (ddelta @ W + back) * masks[l - 1]
                delta = (delta @ W) * masks[l - 1]
        return self._pack_layers(hW, hb)

    def hvp(self, theta: Any, v: Any) -> Any:
        r"""Hessian-vector product :math:`\nabla^2L(\theta)\,v` (exact a.e.): ``(R, p)``."""
        self._check_theta(theta)
        self._check_theta(v, "v")
        return self._hvp_layers(theta, v, per_sample=False)

    def per_sample_hvp(self, theta: Any, v: Any) -> Any:
        r"""Per-sample Hessian-vector products :math:`\nabla^2\ell_i(\theta)\,v_i`: ``(R, n, p)``.

        ``v`` is ``(R, p)`` (the same direction for every sample) or ``(R, n, p)`` (one
        direction per sample, as :math:`H_i(H_iv)` needs). The mean over ``i`` of
        ``per_sample_hvp(θ, v)`` for a shared ``v`` is :meth:`hvp`.
        """
        self._check_theta(theta)
        Shape(("R", "p"), ("R", "n", "p"), dims={"R": theta.shape[0], "n": self.n, "p": self.p},
              origin="theta and the model")("MLP.per_sample_hvp", "v", v)
        return self._hvp_layers(theta, v, per_sample=True)

    def non_uniformity_matvec(self, theta: Any, v: Any) -> Any:
        r""":math:`\Sigma v` with :math:`\Sigma = \frac1n\sum_i H_i^2 - H^2` (seed 000), where
        :math:`H_i = \nabla^2\ell_i(\theta)` and :math:`H = \frac1n\sum_i H_i`: ``(R, p)``.

        :math:`\lambda_{\max}(\Sigma) = s^2`, the squared non-uniformity.
        """
        Hv_i = self.per_sample_hvp(theta, v)
        HHv = self.xp.mean(self.per_sample_hvp(theta, Hv_i), axis=1)
        Hv = self.xp.mean(Hv_i, axis=1)
        return HHv - self.hvp(theta, Hv)

    def layer_spectral_norms(self, theta: Any) -> Any:
        r"""Spectral norms :math:`\|W_l\|_2` of the weight matrices: ``(R, L)``."""
        xp = self.xp
        self._check_theta(theta)
        norms = [xp.linalg.matrix_norm(W, ord=2) for W, _ in self.unpack(theta)]
        return xp.stack(norms, axis=-1)

    def lipschitz_bound(self, theta: Any) -> Any:
        r"""Upper bound :math:`\prod_l\|W_l\|_2` on the Lipschitz constant of
        :math:`x\mapsto f(x;\theta)` (ReLU is 1-Lipschitz; seed 003's :math:`L_m`): ``(R,)``."""
        return self.xp.prod(self.layer_spectral_norms(theta), axis=-1)
