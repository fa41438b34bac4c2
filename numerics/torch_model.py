r"""A user's PyTorch network as a numerics model: loss, gradients and Hessian-vector products
of a ``torch.nn.Module`` on a fixed data set, batched over a replica axis.

:class:`TorchModel` turns a module :math:`f(\cdot;\theta)`, a per-sample loss
:math:`\ell(f(x_i;\theta), y_i)` and tensors ``X``, ``y`` into the objective

.. math::
    L(\theta) = c\sum_{i=1}^n \ell_i(\theta),\qquad \ell_i(\theta) = \ell(f(x_i;\theta), y_i),
    \qquad c = 1/n\ (\text{``mean''})\ \text{or}\ 1\ (\text{``sum''}),

with every parameter of the module flattened into one vector :math:`\theta\in\mathbb R^p`
(the order of ``module.named_parameters()``, each tensor row-major). Like every model of
:mod:`numerics` it takes ``theta`` of shape ``(R, p)``: R networks (seeds, step sizes,
perturbations) are evaluated in one program, by :func:`torch.func.vmap` over the replica
axis of :func:`torch.func.functional_call` on the unflattened row. It is a
:class:`~numerics.protocols.MinibatchModel`, :class:`~numerics.protocols.PerSampleModel`
and :class:`~numerics.protocols.HVPModel`, so :func:`numerics.run` (GD, SGD, ...) and every
measure of :mod:`numerics.sharpness` run on it unchanged:

- ``grad`` is reverse mode (:func:`torch.func.grad` under ``vmap``; ``torch.autograd.grad``
  for one replica);
- ``hvp`` is :math:`\nabla_\theta\langle\nabla L(\theta), v\rangle`, about the cost of two
  gradients and no :math:`p\times p` matrix (Pearlmutter 1994): reverse-over-forward,
  ``grad(θ ↦ jvp(L, (θ,), (v,))[1])``, under ``vmap`` for R > 1 replicas, and plain
  double backward (``torch.autograd.grad`` twice) for one replica, which measured about twice
  as fast on the CPU. The other order, forward-over-reverse ``jvp(grad(L))``, gives the same
  vector (the Hessian is symmetric) but fails in torch 2.13 on ``mse_loss`` ("ZeroTensors
  are immutable") and measured slower;
- ``per_sample_grads`` and ``per_sample_hvp`` vmap over the samples (``per_sample_hvp``
  in the same order).

The arrays are torch tensors on the device of the module's parameters (CPU or GPU);
:mod:`numerics` code reads their namespace with ``array_api_compat`` as for any backend.
``torch`` is imported when a model is built, never by ``import numerics``.

Requirements on the module: it treats samples independently (no batch-norm in training
mode, no dropout: put it in ``eval()`` mode) and is differentiable by ``torch.func``.

References
----------
B. A. Pearlmutter, "Fast exact multiplication by the Hessian", *Neural Computation* 6(1),
147–160 (1994); R. Zou et al., *torch.func* (functorch), PyTorch documentation,
https://pytorch.org/docs/stable/func.html (``functional_call``, ``vmap``, ``grad``,
``jvp``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from numerics._validation import describe, message

__all__ = ["TorchModel"]

_HINT = "pip install 'implreg[torch]'"


def _torch() -> Any:
    """The ``torch`` module, or an error saying how to install it."""
    try:
        import torch  # noqa: PLC0415
        import torch.func  # noqa: F401, PLC0415
    except ImportError as exc:
        from numerics.backend import BackendUnavailableError  # noqa: PLC0415

        raise BackendUnavailableError(
            f"TorchModel needs PyTorch, which is not installed ({exc}); install it with "
            f"{_HINT}") from None
    return torch


def _fail(exc: type[Exception], name: str, rule: str, evidence: str) -> None:
    raise exc(message(name, rule, evidence, owner="TorchModel")) from None


class TorchModel:
    r"""A ``torch.nn.Module``, a per-sample loss and a data set as a numerics model.

    Parameters
    ----------
    module
        The network :math:`x\mapsto f(x;\theta)`; its parameters (all of
        ``module.named_parameters()``) are the coordinates of ``theta``, its buffers are held
        fixed. Called on a batch ``X[i:i+1]`` of one sample.
    loss
        ``loss(output, target) -> scalar tensor`` on a batch: the *mean* of the per-sample
        losses :math:`\ell_i = ` ``loss(module(X[i:i+1]), y[i:i+1])``, as PyTorch criteria
        with ``reduction="mean"`` compute (``torch.nn.functional.mse_loss``, which also
        averages over the output coordinates, and ``cross_entropy`` without class weights);
        checked once at construction. Full-batch and minibatch values call it on whole
        batches; the per-sample methods on batches of one.
    X
        Inputs, a floating tensor ``(n, ...)`` of the parameters' dtype and device.
    y
        Targets, a tensor ``(n, ...)`` on the same device (class indices or values).
    reduction
        ``"mean"`` (default, :math:`c = 1/n`) or ``"sum"`` (:math:`c = 1`).

    Attributes
    ----------
    n, p
        Number of samples and of parameters.
    names, shapes
        The parameters' names and shapes, in the order of ``theta``.
    dtype, device
        Of the parameters and the data.

    Raises
    ------
    TypeError
        ``module`` not a ``torch.nn.Module``; ``X`` or ``y`` not a tensor; ``X`` or the
        parameters not floating, or of two dtypes; ``loss`` not callable or not returning one
        number.
    ValueError
        ``X`` and ``y`` of different lengths, no samples or no parameters; tensors on two
        devices; an unknown ``reduction``; a ``loss`` whose value on all of ``X`` is not the
        mean of the per-sample losses (a ``reduction="sum"`` or class-weighted criterion).
    numerics.backend.BackendUnavailableError
        PyTorch is not installed (the message says how to install it).

    Notes
    -----
    With ``H_i = cn\nabla^2\ell_i`` (so that :math:`H = \frac1n\sum_iH_i = \nabla^2L`, the
    convention of :class:`~numerics.protocols.PerSampleModel`), ``per_sample_hvp`` and
    ``per_sample_apply`` give what :func:`numerics.sharpness.non_uniformity` needs for the
    non-uniformity :math:`\lambda_{\max}(\frac1n\sum_iH_i^2 - H^2)` (seed 000).

    Examples
    --------
    (Skipped where PyTorch is not installed; ``tests/numerics/test_torch_model.py`` runs the
    same.)

    >>> import torch                                                    # doctest: +SKIP
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(),
    ...                           torch.nn.Linear(8, 1)).double()       # doctest: +SKIP
    >>> X, y = torch.randn(32, 4).double(), torch.randn(32, 1).double()  # doctest: +SKIP
    >>> model = TorchModel(net, torch.nn.functional.mse_loss, X, y)     # doctest: +SKIP
    >>> theta = model.flat_parameters(replicas=3)                       # doctest: +SKIP
    >>> model.hvp(theta, theta).shape                                   # doctest: +SKIP
    torch.Size([3, 49])
    """

    def __init__(self, module: Any, loss: Callable[[Any, Any], Any], X: Any, y: Any, *,
                 reduction: str = "mean") -> None:
        torch = _torch()
        self._torch = torch
        if not isinstance(module, torch.nn.Module):
            _fail(TypeError, "module", "be a torch.nn.Module", f"got {describe(module)}")
        if not callable(loss):
            _fail(TypeError, "loss", "be callable (output, target) -> scalar tensor",
                  f"got {describe(loss)}")
        for name, t in (("X", X), ("y", y)):
            if not isinstance(t, torch.Tensor):
                _fail(TypeError, name, "be a torch.Tensor (convert it with torch.as_tensor)",
                      f"got {describe(t)}")
            if t.ndim < 1:
                _fail(ValueError, name, "have a leading sample axis (n, ...)",
                      f"got shape {tuple(t.shape)}")
        if reduction not in ("mean", "sum"):
            _fail(ValueError, "reduction", "be 'mean' or 'sum'", f"got {describe(reduction)}")
        if X.shape[0] != y.shape[0]:
            raise ValueError(message("y", f"have n={X.shape[0]} rows to match X of shape "
                                     f"{tuple(X.shape)}", f"got shape {tuple(y.shape)}",
                                     owner="TorchModel", context="X and y disagree"))
        if X.shape[0] < 1:
            _fail(ValueError, "X", "hold at least one sample", f"got shape {tuple(X.shape)}")
        if not X.is_floating_point():
            _fail(TypeError, "X", "have a real floating dtype", f"got dtype {X.dtype}")
        params = [(k, v) for k, v in module.named_parameters()]
        if not params:
            _fail(ValueError, "module", "have at least one parameter", "got none")
        for k, v in params:
            if not v.is_floating_point() or v.dtype != X.dtype:
                _fail(TypeError, f"parameter {k!r} of module",
                      f"have the dtype of X ({X.dtype}; convert the module with "
                      f".to({X.dtype}))", f"got dtype {v.dtype}")
            if v.device != X.device or y.device != X.device:
                _fail(ValueError, "X, y and the module's parameters", "be on one device",
                      f"got X on {X.device}, y on {y.device}, {k!r} on {v.device}")
        self.module = module
        self.loss_fn = loss
        self.X, self.y = X, y
        self.reduction = reduction
        self.n = int(X.shape[0])
        self.names = tuple(k for k, _ in params)
        self.shapes = tuple(tuple(v.shape) for _, v in params)
        self._sizes = [math.prod(s) for s in self.shapes]
        self.p = int(sum(self._sizes))
        self.dtype, self.device = X.dtype, X.device
        self._buffers = {k: b.detach() for k, b in module.named_buffers()}
        # c·n: the scale of a per-sample gradient in the PerSampleModel convention.
        self._cn = 1.0 if reduction == "mean" else float(self.n)
        with torch.no_grad():
            try:
                out = module(X[:1])
            except Exception as exc:  # noqa: BLE001 (any failure of the user's module: say where)
                first = str(exc).splitlines()[0] if str(exc) else ""
                _fail(ValueError, "module", f"accept a batch X[:1] of shape {tuple(X[:1].shape)}",
                      f"it raised {type(exc).__name__}: {first}")
            probe = loss(out, y[:1])
        if not isinstance(probe, torch.Tensor) or probe.numel() != 1:
            _fail(TypeError, "loss", "return one number per sample (a scalar tensor)",
                  f"got {describe(probe)}")
        from array_api_compat import array_namespace  # noqa: PLC0415

        self.xp = array_namespace(X)
        self._check_mean()
        self._build()

    def __repr__(self) -> str:
        name = type(self.module).__name__
        loss = getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__)
        return (f"TorchModel({name}, loss={loss}, n={self.n}, p={self.p}, "
                f"reduction={self.reduction!r}, dtype={str(self.dtype).rsplit('.', 1)[-1]}, "
                f"device={self.device})")

    # ------------------------------------------------------------------ parameters
    def flat_parameters(self, replicas: int = 1) -> Any:
        """The module's current parameters as ``theta`` of shape ``(replicas, p)`` (a copy,
        the same row repeated)."""
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
            _fail(ValueError, "replicas", "be a positive integer", f"got {describe(replicas)}")
        torch = self._torch
        with torch.no_grad():
            row = torch.cat([v.detach().reshape(-1) for _, v in self.module.named_parameters()])
        return row[None, :].repeat(replicas, 1)

    def unflatten(self, theta: Any) -> dict[str, Any]:
        """One row ``theta (p,)`` as the module's ``{name: tensor}`` (views of ``theta``)."""
        parts = self._torch.split(theta, self._sizes)
        return {k: t.reshape(s) for k, t, s in zip(self.names, parts, self.shapes)}

    def load(self, theta: Any) -> None:
        """Write one row ``theta`` (``(p,)`` or ``(1, p)``) into the module's parameters."""
        if tuple(theta.shape) not in ((self.p,), (1, self.p)):
            _fail(ValueError, "theta", f"have shape ({self.p},) or (1, {self.p})",
                  f"got shape {tuple(theta.shape)}")
        vals = self.unflatten(theta.reshape(-1))
        with self._torch.no_grad():
            for k, v in self.module.named_parameters():
                v.copy_(vals[k])

    # ------------------------------------------------------------- the functions
    def _batch_loss(self, theta: Any, Xb: Any, yb: Any) -> Any:
        """``loss`` on a batch: the mean of its per-sample losses (checked at construction)."""
        out = self._torch.func.functional_call(self.module, (self.unflatten(theta), self._buffers),
                                               (Xb,))
        return self.loss_fn(out, yb).reshape(())

    def _sample_loss(self, theta: Any, xi: Any, yi: Any) -> Any:
        return self._batch_loss(theta, xi[None], yi[None])

    def _check_mean(self) -> None:
        """The loss of a batch must be the mean of its per-sample losses (what ``reduction=
        "mean"`` criteria compute; not a sum, not a class-weighted mean)."""
        torch = self._torch
        with torch.no_grad():
            theta = self.flat_parameters()[0]
            whole = float(self._batch_loss(theta, self.X, self.y))
            each = torch.func.vmap(self._sample_loss, in_dims=(None, 0, 0))(theta, self.X, self.y)
            mean, size = float(each.mean()), float(each.abs().mean())
        # Two summation orders of n terms differ by at most 2n·eps·Σ|ℓ_i|/n (Higham §3.1),
        # times 10 for the rounding inside each per-sample loss.
        tol = 20 * self.n * torch.finfo(self.dtype).eps * max(size, torch.finfo(self.dtype).tiny)
        if abs(whole - mean) > tol:
            _fail(ValueError, "loss", "average over the batch (the mean of the per-sample "
                  "losses, as reduction='mean' criteria do)",
                  f"got {whole:.6g} on all of X against a mean of {mean:.6g} over the samples")

    def _build(self) -> None:
        F = self._torch.func
        X, y, cn = self.X, self.y, self._cn

        def full(theta: Any) -> Any:
            return cn * self._batch_loss(theta, X, y)

        def hvp(t: Any, v: Any) -> Any:
            # Reverse-over-forward, ∇_θ⟨∇L(θ), v⟩ = ∇²L v (the Hessian is symmetric): torch
            # 2.13's forward-over-reverse jvp(grad) fails on mse_loss ("ZeroTensors are
            # immutable"), and on the CPU this order measured faster.
            return F.grad(lambda s: F.jvp(full, (s,), (v,))[1])(t)

        def batch(theta: Any, Xb: Any, yb: Any) -> Any:
            return cn * self._batch_loss(theta, Xb, yb)

        torch = self._torch

        def grad_one(t: Any) -> Any:
            with torch.enable_grad():
                t = t.detach().requires_grad_(True)
                return torch.autograd.grad(full(t), t)[0]

        def hvp_one(t: Any, v: Any) -> Any:
            # Double backward, ∇_θ⟨∇L(θ), v⟩: the same vector as `hvp`, at about half its cost
            # outside vmap (measured on the CPU; torch.func's transforms add a layer per op).
            with torch.enable_grad():
                t = t.detach().requires_grad_(True)
                g = torch.autograd.grad(full(t), t, create_graph=True)[0]
                return torch.autograd.grad(g, t, grad_outputs=v)[0]

        # One replica (the common case): plain autograd, without vmap's batching layer.
        # `loss` stays differentiable (torch.func may transform it); `grad` and `hvp` return
        # values (detached), as every numerics model does.
        self._one = {"loss": full, "grad": grad_one, "hvp": hvp_one}
        self._many = {"loss": F.vmap(full), "grad": F.vmap(F.grad(full)), "hvp": F.vmap(hvp)}
        self._batch_grad = F.vmap(F.grad(batch))
        sample_grad = F.grad(self._sample_loss)
        self._per_sample_grads = F.vmap(F.vmap(sample_grad, in_dims=(None, 0, 0)),
                                        in_dims=(0, None, None))

        def sample_hvp(t: Any, u: Any, xi: Any, yi: Any) -> Any:
            return F.grad(lambda s: F.jvp(lambda q: self._sample_loss(q, xi, yi), (s,), (u,))[1])(t)

        # shared direction v (R, p), and one direction per sample u (R, n, p)
        self._ps_hvp_shared = F.vmap(F.vmap(sample_hvp, in_dims=(None, None, 0, 0)),
                                     in_dims=(0, 0, None, None))
        self._ps_hvp_each = F.vmap(F.vmap(sample_hvp, in_dims=(None, 0, 0, 0)),
                                   in_dims=(0, 0, None, None))

    def _apply(self, name: str, *args: Any) -> Any:
        if args[0].shape[0] == 1:
            return self._one[name](*(a[0] for a in args))[None]
        return self._many[name](*args)

    def _check(self, name: str, a: Any, method: str, *shape: Any) -> None:
        torch = self._torch
        if not isinstance(a, torch.Tensor):
            _fail(TypeError, f"{method}: {name}", "be a torch.Tensor", f"got {describe(a)}")
        want = tuple(shape)
        ok = a.ndim == len(want) and all(w is None or a.shape[i] == w for i, w in enumerate(want))
        if not ok:
            txt = ", ".join("R" if w is None else str(w) for w in want)
            _fail(ValueError, f"{method}: {name}", f"have shape ({txt})",
                  f"got shape {tuple(a.shape)}")
        if a.dtype != self.dtype and not (name == "idx"):
            _fail(TypeError, f"{method}: {name}", f"have the model's dtype {self.dtype}",
                  f"got dtype {a.dtype}")
        if a.device != self.device:
            _fail(ValueError, f"{method}: {name}", f"be on the model's device {self.device}",
                  f"got device {a.device}")

    def loss(self, theta: Any) -> Any:
        r""":math:`L(\theta_r)` for each replica: ``(R, p) -> (R,)``."""
        self._check("theta", theta, "loss", None, self.p)
        return self._apply("loss", theta)

    def grad(self, theta: Any) -> Any:
        r""":math:`\nabla L(\theta_r)` by reverse mode: ``(R, p) -> (R, p)``."""
        self._check("theta", theta, "grad", None, self.p)
        return self._apply("grad", theta)

    def hvp(self, theta: Any, v: Any) -> Any:
        r""":math:`\nabla^2L(\theta_r)\,v_r` (reverse-over-forward): ``(R, p), (R, p) -> (R, p)``."""
        self._check("theta", theta, "hvp", None, self.p)
        self._check("v", v, "hvp", theta.shape[0], self.p)
        return self._apply("hvp", theta, v)

    def batch_grad(self, theta: Any, idx: Any) -> Any:
        r"""Minibatch gradient :math:`\frac{cn}{B}\sum_{i\in\mathcal B_r}\nabla\ell_i(\theta_r)`,
        ``idx (R, B)`` integer sample indices: ``(R, p)``."""
        self._check("theta", theta, "batch_grad", None, self.p)
        self._check("idx", idx, "batch_grad", theta.shape[0], None)
        if idx.is_floating_point() or idx.dtype == self._torch.bool:
            _fail(TypeError, "batch_grad: idx", "have an integer dtype", f"got dtype {idx.dtype}")
        B = int(idx.shape[1])
        if B < 1:
            _fail(ValueError, "batch_grad: idx", "hold at least one index per replica",
                  f"got shape {tuple(idx.shape)}")
        return self._batch_grad(theta, self.X[idx], self.y[idx])

    def per_sample_grads(self, theta: Any) -> Any:
        r""":math:`cn\nabla\ell_i(\theta_r)` for every sample: ``(R, p) -> (R, n, p)``
        (their mean over the samples is :meth:`grad`)."""
        self._check("theta", theta, "per_sample_grads", None, self.p)
        return self._cn * self._per_sample_grads(theta, self.X, self.y)

    def per_sample_hvp(self, theta: Any, v: Any) -> Any:
        r""":math:`H_iv` with :math:`H_i = cn\nabla^2\ell_i(\theta_r)`: ``v (R, p)`` (one
        direction for all samples) or ``(R, n, p)`` (direction ``v_i`` for sample ``i``)
        -> ``(R, n, p)``. For a shared ``v`` the mean over ``i`` is :meth:`hvp`."""
        self._check("theta", theta, "per_sample_hvp", None, self.p)
        R = theta.shape[0]
        if getattr(v, "ndim", None) == 3:
            self._check("v", v, "per_sample_hvp", R, self.n, self.p)
            return self._cn * self._ps_hvp_each(theta, v, self.X, self.y)
        self._check("v", v, "per_sample_hvp", R, self.p)
        return self._cn * self._ps_hvp_shared(theta, v, self.X, self.y)
