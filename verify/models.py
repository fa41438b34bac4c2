r"""A :class:`theory.Model` compiled to a numerics model: loss, gradient, per-sample and
minibatch gradients, Hessian-vector products, from the derived Results.

Every function comes from a derived claim through :meth:`theory.Result.numeric` (this is
the bridge of ARCHITECTURE.md: ``verify`` joins ``theory`` and ``numerics``), so
:func:`numerics.run` with :class:`numerics.GD` / :class:`numerics.SGD`, and the measures of
:mod:`numerics.sharpness`, run on a symbolic model unchanged, on every backend.

Shapes follow :mod:`numerics.protocols`: iterates ``x (R, p)`` (a leading replica axis,
parameters in ``Model.params`` order), ``loss (R,)``, ``grad (R, p)``,
``per_sample_grads (R, n, p)``, ``batch_grad(x, idx (R, B)) (R, p)``, ``hvp(x, v) (R, p)``;
:math:`L = \frac1n\sum_i\ell_i` (``reduction = "mean"``).

Examples
--------
>>> import numpy as np
>>> from theory.models import worked
>>> from verify.models import CompiledModel
>>> m = CompiledModel.from_model(worked("toy"), {"y": [0.5, 1.5]}, xp=np)
>>> m
CompiledModel(models.toy: p = 1, n = 2, numpy)
>>> m.grad(np.array([[1.0], [2.0]]))[:, 0].tolist()   # 2θ(θ² − ȳ), ȳ = 1
[0.0, 12.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import array_api_compat

__all__ = ["CompiledModel"]

_NEEDED = ("loss", "gradient", "hessian", "per_sample_gradient")
#: for a model given as f and a target: its ``per_sample_model`` part is f (the residual)
_MANIFOLD = "gauss_newton"


class CompiledModel:
    r"""A numerics model (``Model``, ``MinibatchModel``, ``PerSampleModel``, ``HVPModel``;
    with a ``target``, also ``LabelNoiseModel`` and ``ManifoldModel``) compiled from the
    derived results of a :class:`theory.Model`.

    Parameters
    ----------
    params
        The parameter names in order (the columns of ``x``).
    data
        ``{data symbol name: (n,) array}``, the data set (empty for a model without data).
    results
        The :class:`theory.Result` of each of ``loss``, ``gradient``, ``hessian`` and
        ``per_sample_gradient`` (``Result.numeric(xp)`` is what is evaluated).
    xp
        The array namespace; the data are converted to its float64 arrays.
    name
        Shown by ``repr``.
    target
        The name of the label's data symbol, for a model given as :math:`f` and a target
        (``theory.Model(model=f, target=y)``, :math:`\ell = \tfrac12(f - y)^2`). With it,
        ``batch_grad`` accepts ``target_shift`` (label-noise SGD) and, when ``results``
        also has ``gauss_newton`` (whose ``per_sample_model`` part is f), ``residual``,
        ``jacobian`` and ``hessian_trace`` are available (:func:`numerics.label_noise.project_to_manifold`,
        :func:`numerics.label_noise.tangent_projector` run on it).

    Raises
    ------
    ValueError
        A missing result or data symbol, data columns of different lengths or not 1-D, a
        ``target`` that is not a data column.

    Notes
    -----
    The Jacobian uses only the per-sample gradient: for :math:`\ell = \frac12(f - y)^2`,
    :math:`\nabla\ell = (f - y)\nabla f`, so at the labels :math:`y' = f(\theta) - 1` it is
    :math:`\nabla f` itself (:math:`f - y'` is 1 up to the rounding of f, evaluated once by
    the ``per_sample_model`` part and once inside the gradient: a few ε·(1 + abs f)).
    """

    reduction = "mean"

    def __init__(self, params: list[str], data: Mapping[str, Any], results: Mapping[str, Any],
                 *, xp: Any, name: str = "model", target: str | None = None) -> None:
        missing = [c for c in _NEEDED if c not in results]
        if missing:
            raise ValueError(f"CompiledModel: results must include {list(_NEEDED)}; missing {missing}")
        self.xp, self.name = xp, name
        self.params = list(params)
        self.p = len(self.params)
        f = {c: results[c].numeric(xp) for c in _NEEDED}
        want = [a for a in f["loss"].arguments if a not in self.params and a != "n"]
        if sorted(want) != sorted(data):
            raise ValueError(f"CompiledModel {name}: data must give {sorted(want)}; got {sorted(data)}")
        self.data = {k: xp.asarray(v, dtype=xp.float64) for k, v in data.items()}
        lengths = {k: tuple(v.shape) for k, v in self.data.items()}
        if any(len(s) != 1 for s in lengths.values()) or len(set(lengths.values())) > 1:
            raise ValueError(f"CompiledModel {name}: data columns must be 1-D of one length; "
                             f"got shapes {lengths}")
        self.n = next(iter(lengths.values()))[0] if lengths else 1
        if target is not None and target not in self.data:
            raise ValueError(f"CompiledModel {name}: target must be one of the data columns "
                             f"{sorted(self.data)}; got {target!r}")
        self.target = target
        if target is not None and _MANIFOLD in results:
            f["model"] = results[_MANIFOLD].numeric(xp, part="per_sample_model")
        self._f = f

    @classmethod
    def from_model(cls, model: Any, data: Mapping[str, Any], *, xp: Any = None,
                   results: Mapping[str, Any] | None = None) -> "CompiledModel":
        """Compile ``model`` (a :class:`theory.Model`) on ``data``; its results come from
        the registry when its ids are registered (so a mutant under ``implreg power`` is
        what runs), else from ``model.result``; ``results`` overrides some of them."""
        import theory  # noqa: PLC0415

        if xp is None:
            import numpy as xp  # noqa: PLC0415
        known = set(theory.ids())
        res = {c: (theory.get(model.id(c)) if model.id(c) in known else model.result(c))
               for c in _NEEDED}
        target = getattr(model, "target", None)
        if target is not None and _MANIFOLD in model.claims:
            res[_MANIFOLD] = (theory.get(model.id(_MANIFOLD)) if model.id(_MANIFOLD) in known
                              else model.result(_MANIFOLD))
        res.update(results or {})
        return cls([p.name for p in model.params], data, res, xp=xp,
                   name=f"{model.topic}.{model.name}",
                   target=None if target is None else target.name)

    # ------------------------------------------------------------------ evaluation
    def _args(self, x: Any, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """θ columns ``(R, 1)`` (the sample axis is the last one) and the data."""
        xp = self.xp
        out = {name: xp.reshape(x[:, k], (x.shape[0], 1)) for k, name in enumerate(self.params)}
        out.update(self.data if data is None else data)
        return out

    def _sum_args(self, x: Any) -> dict[str, Any]:
        a = self._args(x)
        return {**a, "n": self.n} if self.data else a

    def loss(self, x: Any) -> Any:
        """``(R, p) -> (R,)``: :math:`L(\\theta_r)`."""
        out = self._f["loss"](**self._pick("loss", self._sum_args(x)))
        return self.xp.reshape(self.xp.broadcast_to(out, (x.shape[0], 1)), (x.shape[0],))

    def grad(self, x: Any) -> Any:
        """``(R, p) -> (R, p)``: :math:`\\nabla L(\\theta_r)`."""
        out = self._f["gradient"](**self._pick("gradient", self._sum_args(x)))
        return self.xp.reshape(self.xp.broadcast_to(out, (x.shape[0], 1, self.p, 1)),
                               (x.shape[0], self.p))

    def hessian(self, x: Any) -> Any:
        """``(R, p) -> (R, p, p)``: :math:`\\nabla^2L(\\theta_r)`."""
        out = self._f["hessian"](**self._pick("hessian", self._sum_args(x)))
        return self.xp.reshape(self.xp.broadcast_to(out, (x.shape[0], 1, self.p, self.p)),
                               (x.shape[0], self.p, self.p))

    def hvp(self, x: Any, v: Any) -> Any:
        """``(R, p), (R, p) -> (R, p)``: :math:`\\nabla^2L(\\theta_r)v_r`."""
        return (self.hessian(x) @ v[:, :, None])[:, :, 0]

    def _per_sample(self, x: Any, data: Mapping[str, Any], B: int) -> Any:
        out = self._f["per_sample_gradient"](**self._pick("per_sample_gradient", self._args(x, data)))
        return self.xp.reshape(self.xp.broadcast_to(out, (x.shape[0], B, self.p, 1)),
                               (x.shape[0], B, self.p))

    def per_sample_grads(self, x: Any) -> Any:
        """``(R, p) -> (R, n, p)``: :math:`\\nabla\\ell_i(\\theta_r)` (mean over i is ``grad``)."""
        data = {k: self.xp.reshape(v, (1, self.n)) for k, v in self.data.items()}
        return self._per_sample(x, data, self.n)

    def batch_grad(self, x: Any, idx: Any, target_shift: Any = None) -> Any:
        """``(R, p), (R, B) int -> (R, p)``: :math:`\\frac1B\\sum_{i\\in\\mathcal B_r}\\nabla\\ell_i`;
        with ``target_shift (R, B)`` (a model with a ``target``) the labels of the batch are
        :math:`y_i + \\varepsilon_{ri}` (label-noise SGD, :class:`numerics.LabelNoiseSGD`)."""
        xp = self.xp
        R, B = idx.shape
        flat = xp.reshape(idx, (R * B,))
        data = {k: xp.reshape(xp.take(v, flat), (R, B)) for k, v in self.data.items()}
        if target_shift is not None:
            if self.target is None:
                raise ValueError(f"CompiledModel {self.name}: target_shift needs a model with "
                                 "a target (theory.Model(model=f, target=y)); this one has none")
            if tuple(target_shift.shape) != (R, B):
                raise ValueError(f"CompiledModel {self.name}: target_shift must have the batch's "
                                 f"shape {(R, B)}; got {tuple(target_shift.shape)}")
            data[self.target] = data[self.target] + target_shift
        return xp.mean(self._per_sample(x, data, B), axis=1)

    # ------------------------------------------------------------------ the manifold Γ
    def _needs_f(self, what: str) -> None:
        if "model" not in self._f:
            raise ValueError(f"CompiledModel {self.name}: {what} needs a model given as f and a "
                             "target, compiled with its gauss_newton result")

    def _model_values(self, x: Any) -> Any:
        """``(R, p) -> (R, n)``: :math:`f(\\theta_r; x_i)` (the ``per_sample_model`` part)."""
        xp = self.xp
        data = {k: xp.reshape(v, (1, self.n)) for k, v in self.data.items()}
        out = self._f["model"](**self._pick("model", self._args(x, data)))
        return xp.broadcast_to(out, (x.shape[0], self.n))

    def residual(self, x: Any) -> Any:
        """``(R, p) -> (R, n)``: :math:`f_i(\\theta_r) - y_i`, zero on Γ."""
        self._needs_f("residual")
        return self._model_values(x) - self.xp.reshape(self.data[self.target], (1, self.n))

    def jacobian(self, x: Any) -> Any:
        """``(R, p) -> (R, n, p)``: :math:`\\partial f_i/\\partial\\theta`, the per-sample gradient
        at the labels :math:`f(\\theta) - 1` (class notes)."""
        self._needs_f("jacobian")
        xp = self.xp
        data = {k: xp.broadcast_to(xp.reshape(v, (1, self.n)), (x.shape[0], self.n))
                for k, v in self.data.items()}
        data[self.target] = self._model_values(x) - 1.0
        return self._per_sample(x, data, self.n)

    def hessian_trace(self, x: Any) -> Any:
        """``(R, p) -> (R,)``: :math:`\\operatorname{Tr}\\nabla^2L(\\theta_r)` (the compiled Hessian)."""
        return self.xp.linalg.trace(self.hessian(x))

    def _pick(self, claim: str, args: dict[str, Any]) -> dict[str, Any]:
        return {a: args[a] for a in self._f[claim].arguments}

    def __repr__(self) -> str:
        ns = array_api_compat.array_namespace(self.xp.asarray(0.0)).__name__.split(".")[-1]
        ns = "numpy" if "numpy" in ns else self.xp.__name__
        return f"CompiledModel({self.name}: p = {self.p}, n = {self.n}, {ns})"
