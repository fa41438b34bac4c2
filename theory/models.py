r"""Symbolic models: from a SymPy per-sample loss to derived, checkable results.

A researcher's setting is a per-sample loss :math:`\ell(\theta; x, y)` (or a per-sample model
:math:`f(\theta; x)` with the squared loss :math:`\ell = \tfrac12(f - y)^2`) in parameter
symbols :math:`\theta` and data symbols :math:`x, y`. :class:`Model` derives, each as a
:class:`~theory.Result` with id ``TOPIC.NAME.CLAIM`` (LaTeX, SymPy steps):

* ``loss`` — :math:`L(\theta) = \frac1n\sum_{i=1}^n\ell(\theta; x_i, y_i)` over a data set
  given symbolically (``IndexedBase`` families :math:`x_i`, a symbolic :math:`n`);
* ``gradient``, ``hessian`` — :math:`\nabla L`, :math:`\nabla^2L` (sums over the samples);
* ``per_sample_gradient`` — :math:`\nabla_\theta\ell(\theta; x, y)`;
* ``gauss_newton`` — :math:`G = \frac1n\sum_i\nabla f_i\nabla f_i^T` (models given as ``f``);
* ``label_noise_regularizer`` — :math:`R(\theta) = \tfrac14\operatorname{Tr}\nabla^2L(\theta)`
  (Blanc et al. 2020; Damian, Ma, Lee 2021; ``label_noise.regularizer`` to first order);
* ``gd_threshold`` — at a given minimum :math:`\theta^*` of an explicit data set, the step
  :math:`2/\lambda_{\max}(\nabla^2L(\theta^*))` above which GD leaves :math:`\theta^*`
  (the ``threshold`` part of ``stability.gd_threshold`` with :math:`\lambda_{\max}` computed);
* ``pac_bayes`` — :math:`E_{v\sim N(0,\sigma^2I)}L(\theta^*+v) - L(\theta^*) \approx
  \frac{\sigma^2}2\operatorname{Tr}\nabla^2L(\theta^*)` (``sharpness.pac_bayes`` at θ*);
* ``sgd_threshold`` — at an *interpolating* minimum (every :math:`\nabla\ell_i(\theta^*) = 0`),
  the exact mean-square threshold η* of SGD with batch B (``Model(batch=B)``) from the
  second-moment map of ``stability.sgd_exact_threshold`` on the range of
  :math:`\nabla^2L(\theta^*)`, with the sharpness a, the non-uniformity s and the sufficient
  threshold of ``stability.sgd_threshold`` as parts;
* ``label_noise_flow`` — there, the drift :math:`-\frac{\delta^2}4P_\Gamma\nabla
  \operatorname{Tr}\nabla^2L(\theta^*)` of ``label_noise.limiting_flow`` along the manifold
  :math:`\Gamma = \{f_i = y_i\}` of minima, with :math:`P_\Gamma = I - J^T(JJ^T)^{-1}J`.

Parameters may be matrices (:func:`matrix_symbols`): the worked ``linear2`` is the two-layer
linear net :math:`f(x) = v^TWx`. Sums over the samples are written as
:math:`\sum_m c_m(\theta)\,\frac1n\sum_i d_m(x_i, y_i)` (the data parts collected), so a
model polynomial in its data evaluates through means of data monomials.

The worked models of the built-in topic ``models`` are registered at the end of this module;
a model of one's own registers under a topic of one's own with :meth:`Model.register`.

Examples
--------
>>> import sympy as sp
>>> import theory
>>> th, y = sp.symbols("theta y", real=True)
>>> m = theory.Model("toy", model=th**2, target=y, params=[th], data=[y], topic="mytoy",
...                  minimum={th: 1}, dataset={y: [sp.Rational(1, 2), sp.Rational(3, 2)]})
>>> m.result("gd_threshold").statement
Eq(eta_GD, 1/2)
>>> m.result("hessian").statement
Matrix([[6*theta**2 - 2*Sum(y[i], (i, 1, n))/n]])
>>> m
Model(mytoy.toy: ℓ = (theta**2 - y)**2/2; params ['theta'], data ['y'], minimum {theta: 1})

References
----------
Wu, Ma, E, NeurIPS 2018 (GD linear stability, the 2/λ_max threshold); Ma & Ying, NeurIPS 2021
(SGD's mean-square stability); Blanc, Gupta, Valiant, Valiant, COLT 2020 and Damian, Ma, Lee,
NeurIPS 2021 (label-noise regularizer ¼ Tr ∇²L); Li, Wang, Arora, ICLR 2022 (its limiting
flow); Neyshabur et al., NeurIPS 2017 (expected sharpness).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import sympy as sp

from theory._registry import TOPIC_MODULES, result, validate_id
from theory._result import Result, Step
from theory._symbols import sym

__all__ = ["Model", "CLAIMS", "NEEDS", "WORKED", "worked", "matrix_symbols"]

#: The claims a model derives, in order (``gauss_newton`` only for a model given as ``f``;
#: ``gd_threshold`` only with a minimum and an explicit data set).
CLAIMS = ("loss", "gradient", "hessian", "per_sample_gradient", "gauss_newton",
          "label_noise_regularizer", "gd_threshold", "pac_bayes", "sgd_threshold",
          "label_noise_flow")

#: What each claim beyond the first four needs (:attr:`Model.claims` lists those a model has).
NEEDS = {
    "gauss_newton": "model= (f and a target)",
    "gd_threshold": "minimum=",
    "pac_bayes": "minimum=",
    "sgd_threshold": "an interpolating minimum (every ∇ℓ_i(θ*) = 0) of n >= 2 samples",
    "label_noise_flow": "model= and an interpolating minimum of n >= 2 samples where the "
                        "Jacobian of (f_i) has full row rank",
}

#: Functions whose presence in ℓ, ∇ℓ or ∇²ℓ means ℓ is not twice differentiable
#: symbolically (kinks of Abs, Max, Min; the sign and step functions their derivatives make).
_NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside, sp.Piecewise, sp.DiracDelta,
              sp.floor, sp.ceiling)

_SRC = "theory.models (derived from the model's SymPy expression)"

n = sym("n", integer=True, positive=True)
i = sym("i", integer=True, positive=True)
eta_gd = sym("eta_GD", r"\eta_{\mathrm{GD}}", positive=True)
eta_sgd = sym("eta_SGD", r"\eta_{\mathrm{SGD}}^{*}", positive=True)
R_sym = sym("R_LN", r"R(\theta)", real=True)
S_pac = sym("S_pac", r"S_{\sigma}(\theta^*)", real=True)
sigma = sym("sigma", r"\sigma", positive=True)
delta = sym("delta", r"\delta", positive=True)
_RESERVED = ("n", "i", "eta_GD", "eta_SGD", "R_LN", "S_pac", "sigma", "delta")


def _describe(v: Any) -> str:
    text = sp.sstr(v) if isinstance(v, (sp.Basic, sp.MatrixBase)) else repr(v)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def matrix_symbols(name: str, rows: int, cols: int, *, latex: str | None = None) -> sp.ImmutableMatrix:
    r"""A ``rows × cols`` matrix of real scalar symbols ``name_jk`` (LaTeX ``latex_{jk}``),
    a matrix-valued parameter (or data) block for :class:`Model`.

    The entries are ordinary symbols, so a model written with matrix products (``v.T * W * x``)
    is a scalar expression in them; :class:`Model` flattens the block row-major.

    Examples
    --------
    >>> matrix_symbols("W", 2, 2)
    Matrix([
    [W_11, W_12],
    [W_21, W_22]])
    """
    if not (isinstance(rows, int) and isinstance(cols, int) and rows >= 1 and cols >= 1):
        raise ValueError(f"matrix_symbols: rows and cols must be integers >= 1; got {rows!r}, {cols!r}")
    tex = latex or name

    def entry(j: int, k: int) -> sp.Symbol:
        sub = f"{j + 1}" if cols == 1 else f"{j + 1}{k + 1}"  # a column vector: v_1, v_2
        return sym(f"{name}_{sub}", f"{tex}_{{{sub}}}", real=True)

    return sp.ImmutableMatrix(rows, cols, entry)


def _flatten(value: Any) -> tuple[Any, ...]:
    """Entries of a sequence whose items are Symbols or matrices of Symbols, row-major."""
    out: list[Any] = []
    for v in value:
        if isinstance(v, sp.MatrixBase):
            out.extend(v)  # row-major
        else:
            out.append(v)
    return tuple(out)


def _symbol_list(arg: str, value: Any) -> tuple[sp.Symbol, ...]:
    if isinstance(value, (sp.Symbol, sp.MatrixBase)):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"Model: {arg} must be a sequence of SymPy Symbols; got {_describe(value)}")
    out = _flatten(value)
    bad = [s for s in out if not isinstance(s, sp.Symbol) or isinstance(s, sp.Dummy)]
    if bad:
        raise TypeError(f"Model: {arg} must be SymPy Symbols; got {_describe(bad[0])} "
                        f"({type(bad[0]).__name__})")
    if len({s.name for s in out}) != len(out):
        raise ValueError(f"Model: {arg} has two symbols of one name: {[s.name for s in out]}")
    return out


def _expand_blocks(arg: str, mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    """``{matrix of symbols: matrix (or nested list) of values}`` entries made elementwise."""
    out: dict[Any, Any] = {}
    for k, v in mapping.items():
        if isinstance(k, sp.MatrixBase):
            vals = sp.Matrix(v) if not isinstance(v, sp.MatrixBase) else v
            if vals.shape != k.shape:
                raise ValueError(f"Model: {arg} value for the block {_describe(k)} must have shape "
                                 f"{k.shape}; got {vals.shape}")
            out.update(zip(k, vals))
        else:
            out[k] = v
    return out


def _scalar(arg: str, value: Any) -> sp.Expr:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return sp.sympify(value)
    if isinstance(value, sp.MatrixBase) and value.shape == (1, 1):  # vᵀWx and the like
        value = value[0, 0]
    if isinstance(value, (sp.MatrixBase, sp.MatrixExpr)) or (
            isinstance(value, sp.Basic) and value.is_Matrix):
        shape = getattr(value, "shape", "?")
        raise TypeError(f"Model: {arg} must be a scalar SymPy expression; got a matrix of "
                        f"shape {shape}: {_describe(value)}")
    if not isinstance(value, sp.Expr):
        raise TypeError(f"Model: {arg} must be a scalar SymPy expression; got "
                        f"{type(value).__name__} {_describe(value)}")
    return value


class Model:
    r"""A per-sample loss (or model) in SymPy, and everything derived from it.

    Parameters
    ----------
    name
        The model's name: a lower-case identifier, the middle part of its ids
        (``TOPIC.NAME.CLAIM``).
    params
        The parameter symbols :math:`\theta = (\theta_1, \dots, \theta_p)` (real); an item
        may be a matrix of symbols (:func:`matrix_symbols`), flattened row-major, for a
        matrix-valued parameter such as the layers of a linear net.
    data
        The per-sample data symbols (inputs and target), e.g. ``[x1, x2, y]``; may be empty
        (then :math:`L = \ell`, one "sample").
    loss
        The per-sample loss :math:`\ell(\theta; x, y)`, a scalar SymPy expression. Give
        either ``loss`` or ``model``.
    model, target
        A per-sample model :math:`f(\theta; x)` and the data symbol ``target`` of its label:
        the loss is :math:`\tfrac12(f - y)^2` and the Gauss–Newton matrix is derived.
    topic
        The id's topic: ``"models"`` (built in, for the package's worked models) or a topic of
        your own.
    minimum
        A minimum :math:`\theta^*` of :math:`L` on ``dataset``: ``{param: value}`` for every
        parameter (``{W: [[1, 0], [0, 1]], ...}`` for a block of :func:`matrix_symbols`). Enables ``gd_threshold`` and the regularizer's value at :math:`\theta^*`.
    dataset
        An explicit data set for ``minimum``: ``{data symbol: [values of the n samples]}``
        (numbers or SymPy expressions; every data symbol, equal lengths).
    batch
        The batch size B of ``sgd_threshold`` (SGD without replacement), 1 to n.
    title
        The model in words (the results' titles start with it).

    Raises
    ------
    TypeError
        A loss that is not a scalar expression; parameters or data that are not Symbols.
    ValueError
        Both or neither of ``loss``/``model``; a symbol of the loss that is neither a
        parameter nor a data symbol; a loss that is not twice differentiable symbolically
        (Abs, Max, Min, sign, Heaviside, Piecewise in ℓ or its derivatives); a ``minimum``
        where :math:`\nabla L \ne 0` or :math:`\nabla^2L` has a negative eigenvalue; a
        malformed ``dataset``. Each message is one line naming the argument and the value.

    Notes
    -----
    Symbolic data: each data symbol ``x`` becomes an ``IndexedBase`` ``x`` with samples
    :math:`x_1, \dots, x_n`, so :meth:`Result.numeric` of ``loss`` takes ``x`` as an array whose
    last axis carries the samples (and ``n``). ``per_sample_gradient`` is in the data symbols
    themselves (one sample; arrays broadcast).
    """

    def __init__(self, name: str, *, params: Sequence[sp.Symbol], data: Sequence[sp.Symbol] = (),
                 loss: sp.Expr | None = None, model: sp.Expr | None = None,
                 target: sp.Symbol | None = None, topic: str = "models",
                 minimum: Mapping[sp.Symbol, Any] | None = None,
                 dataset: Mapping[sp.Symbol, Sequence[Any]] | None = None,
                 batch: int = 1, title: str | None = None) -> None:
        if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
            raise ValueError(f"Model: name must be a lower-case identifier; got {name!r}")
        validate_id(f"{topic}.{name}", "Model topic.name")
        self.name, self.topic = name, topic
        self.params = _symbol_list("params", params)
        self.data = _symbol_list("data", data)
        if not self.params:
            raise ValueError("Model: params must name at least one parameter symbol; got none")
        taken = sorted({s.name for s in (*self.params, *self.data)} & set(_RESERVED))
        if taken:
            raise ValueError(f"Model: symbol names {taken} are reserved (n samples, index i, "
                             f"the results' {_RESERVED[2]} and {_RESERVED[3]}); rename them")
        both = set(self.params) & set(self.data)
        if both:
            raise ValueError(f"Model: {sorted(map(str, both))} are both params and data")
        if (loss is None) == (model is None):
            raise ValueError("Model: give exactly one of loss= (ℓ(θ; x, y)) or model= (f(θ; x), "
                             f"squared loss); got loss={_describe(loss)}, model={_describe(model)}")
        self.f: sp.Expr | None = None
        self.target: sp.Symbol | None = None
        if model is not None:
            self.f = _scalar("model", model)
            if target not in self.data:
                raise ValueError(f"Model: target must be one of the data symbols "
                                 f"{[s.name for s in self.data]}; got {_describe(target)}")
            self.target = target
            self.ell = (self.f - target) ** 2 / 2
        else:
            if target is not None:
                raise ValueError(f"Model: target= goes with model=, not with loss=; got {target}")
            self.ell = _scalar("loss", loss)
        what = "model" if model is not None else "loss"
        stray = self.ell.free_symbols - set(self.params) - set(self.data)
        if stray:
            raise ValueError(
                f"Model: {what} uses symbols that are neither params nor data: "
                f"{sorted(map(str, stray))} (params {[s.name for s in self.params]}, "
                f"data {[s.name for s in self.data]})")
        if not (self.ell.free_symbols & set(self.params)):
            raise ValueError(f"Model: {what} does not depend on the params "
                             f"{[s.name for s in self.params]}: {_describe(self.ell)}")
        self.title = title or f"ℓ = {sp.sstr(self.ell)}"
        # Derivatives of one sample, then the non-smoothness screen on all three.
        self.grad_ell = sp.ImmutableMatrix([sp.diff(self.ell, p) for p in self.params])
        self.hess_ell = sp.ImmutableMatrix(
            [[sp.diff(self.ell, a, b) for b in self.params] for a in self.params])
        for label, expr in (("ℓ", self.ell), ("∇ℓ", self.grad_ell), ("∇²ℓ", self.hess_ell)):
            found = sorted({type(a).__name__ for a in expr.atoms(*_NONSMOOTH)})
            if found:
                raise ValueError(
                    f"Model: {what} {_describe(self.ell)} is not twice differentiable "
                    f"symbolically: {label} contains {', '.join(found)} "
                    "(a kink of Abs/Max/Min or a step); write a smooth loss")
        # Symbolic data set: x -> x[i], i = 1..n.
        self.indexed = {s: sp.IndexedBase(s.name) for s in self.data}
        self._at_i = {s: b[i] for s, b in self.indexed.items()}
        self.minimum = self._check_minimum(minimum)
        self.dataset = self._check_dataset(dataset)
        if self.minimum is not None and self.data and self.dataset is None:
            raise ValueError("Model: minimum= needs dataset= (the minimum of which data set?) "
                             f"for data {[s.name for s in self.data]}")
        if self.dataset is not None and self.minimum is None:
            raise ValueError("Model: dataset= is used at a minimum; give minimum= as well")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"Model: batch must be an integer >= 1; got {batch!r}")
        m_samples = len(self.samples) if self.dataset is not None else None
        if m_samples is not None and batch > m_samples:
            raise ValueError(f"Model: batch must be at most the {m_samples} samples of dataset=; "
                             f"got {batch}")
        self.batch = batch
        self._results: dict[str, Result] = {}
        self.interpolating = False
        if self.minimum is not None:
            self._screen_minimum()
            self.interpolating = bool(self.data) and len(self.samples) >= 2 and all(
                sp.simplify(g.xreplace(row).xreplace(self.minimum)) == 0
                for row in self.samples for g in self.grad_ell)

    # ------------------------------------------------------------------ inputs
    def _check_minimum(self, minimum: Mapping[sp.Symbol, Any] | None) -> dict[sp.Symbol, sp.Expr] | None:
        if minimum is None:
            return None
        if not isinstance(minimum, Mapping):
            raise TypeError(f"Model: minimum must be a mapping {{param: value}}; got {_describe(minimum)}")
        minimum = _expand_blocks("minimum", minimum)
        keys = set(minimum)
        if keys != set(self.params):
            missing = [p.name for p in self.params if p not in keys]
            extra = [_describe(k) for k in keys if k not in self.params]
            raise ValueError(f"Model: minimum must give every param once; missing {missing}, "
                             f"not params {extra}")
        out = {p: sp.nsimplify(minimum[p], rational=True) if isinstance(minimum[p], float)
               else sp.sympify(minimum[p]) for p in self.params}
        loose = [p.name for p, v in out.items() if v.free_symbols]
        if loose:
            raise ValueError(f"Model: minimum values must be numbers; {loose} have symbols")
        return out

    def _check_dataset(self, dataset: Mapping[sp.Symbol, Sequence[Any]] | None) -> dict[sp.Symbol, tuple[sp.Expr, ...]] | None:
        if dataset is None:
            return None
        if not isinstance(dataset, Mapping):
            raise TypeError(f"Model: dataset must be a mapping {{data symbol: values}}; got {_describe(dataset)}")
        dataset = {k: v for k, v in dataset.items()}
        if set(dataset) != set(self.data):
            raise ValueError(f"Model: dataset must give every data symbol "
                             f"{[s.name for s in self.data]}; got {[_describe(k) for k in dataset]}")
        # floats are read as the decimals they print as (0.1 -> 1/10): exact thresholds
        out = {s: tuple(sp.nsimplify(v, rational=True) if isinstance(v, float) else sp.sympify(v)
                        for v in dataset[s]) for s in self.data}
        lengths = {s.name: len(v) for s, v in out.items()}
        if len(set(lengths.values())) != 1 or 0 in lengths.values():
            raise ValueError(f"Model: dataset columns must have one common length >= 1; got {lengths}")
        loose = [s.name for s, v in out.items() if any(e.free_symbols for e in v)]
        if loose:
            raise ValueError(f"Model: dataset values must be numbers; {loose} have symbols")
        return out

    @property
    def samples(self) -> list[dict[sp.Symbol, sp.Expr]]:
        """The explicit data set as one substitution per sample (``[{}]`` with no data)."""
        if not self.data:
            return [{}]
        assert self.dataset is not None
        m = len(next(iter(self.dataset.values())))
        return [{s: self.dataset[s][j] for s in self.data} for j in range(m)]

    def explicit_loss(self) -> sp.Expr:
        """L(θ) on the explicit data set: the mean of ℓ over its samples."""
        rows = self.samples
        return sp.Add(*[self.ell.xreplace(r) for r in rows]) / len(rows)

    def _screen_minimum(self) -> None:
        L = self.explicit_loss()
        at = self.minimum
        g = [sp.nsimplify(sp.simplify(sp.diff(L, p).xreplace(at))) for p in self.params]
        if any(v != 0 for v in g):
            raise ValueError(f"Model: minimum {self._min_text()} is not stationary: ∇L(θ*) = "
                             f"{_describe(sp.Matrix(g).T)} ≠ 0")
        H = sp.ImmutableMatrix([[sp.simplify(sp.diff(L, a, b).xreplace(at)) for b in self.params]
                                for a in self.params])
        eigs = list(H.eigenvals(multiple=True))
        if any(not e.is_real for e in eigs):
            raise ValueError(f"Model: ∇²L(θ*) at {self._min_text()} has non-real eigenvalues {eigs}")
        if any(e.evalf(30) < -sp.Float("1e-25") for e in eigs):
            raise ValueError(f"Model: minimum {self._min_text()} is not a minimum: ∇²L(θ*) has the "
                             f"negative eigenvalue {min(eigs, key=lambda e: e.evalf())}")
        self._hess_star = H
        self._eigs = sorted((sp.nsimplify(sp.simplify(e)) for e in eigs), key=lambda e: float(e))

    def _min_text(self) -> str:
        assert self.minimum is not None
        return "{" + ", ".join(f"{p}: {v}" for p, v in self.minimum.items()) + "}"

    # ------------------------------------------------------------------ derivation
    def _mean(self, e: sp.Expr, *, split: bool = False) -> sp.Expr:
        """(1/n) Σ_i e(x_i, y_i); e itself when there is no data.

        With ``split``, e is expanded and its terms free of the samples leave the sum
        (Σ_i c/n = c): the derivatives read as c + (1/n)Σ_i(...), and SymPy's ``Sum.doit``
        at numeric points (which the mutation tests use) does not recurse on such terms."""
        if not self.data:
            return e
        e_i = e.xreplace(self._at_i)
        if not split:
            return sp.Sum(e_i, (i, 1, n)) / n
        # Each term c(θ)·d(x_i, y_i) of the expanded summand: c leaves the sum, and terms
        # with the same data part share one Σ_i d (for a model polynomial in the data these
        # are means of data monomials, computed once per call without a replica axis).
        groups: dict[sp.Expr, sp.Expr] = {}
        free = sp.Integer(0)
        for t in sp.Add.make_args(sp.expand(e_i)):
            c, d = t.as_independent(i, as_Add=False)
            if d == 1:
                free += c
            else:
                groups[d] = groups.get(d, sp.Integer(0)) + c
        return free + sp.Add(*[sp.factor_terms(c) * sp.Sum(d, (i, 1, n)) / n
                               for d, c in groups.items() if c != 0])

    def _symbols(self, *extra: sp.Symbol) -> tuple[sp.Symbol, ...]:
        out = (*self.params, *self.data, *extra)
        return out + ((n,) if self.data else ())

    def id(self, claim: str) -> str:
        return f"{self.topic}.{self.name}.{claim}"

    @property
    def claims(self) -> tuple[str, ...]:
        """The claims this model derives (see :data:`CLAIMS` and :data:`NEEDS`)."""
        has = {"gauss_newton": self.f is not None, "gd_threshold": self.minimum is not None,
               "pac_bayes": self.minimum is not None, "sgd_threshold": self.interpolating,
               "label_noise_flow": self.f is not None and self.interpolating and self._full_rank()}
        return tuple(c for c in CLAIMS if has.get(c, True))

    def _full_rank(self) -> bool:
        return self._jacobian_star().rank() == len(self.samples)

    def _jacobian_star(self) -> sp.ImmutableMatrix:
        """J = (∂f_i/∂θ_k)(θ*) on the explicit data set, n × p (models given as ``f``)."""
        assert self.f is not None and self.minimum is not None
        if "_J" not in self.__dict__:
            self._J = sp.ImmutableMatrix([[sp.diff(self.f, q).xreplace(row).xreplace(self.minimum)
                                          for q in self.params] for row in self.samples])
        return self._J

    def _per_sample_hessians(self) -> list[sp.ImmutableMatrix]:
        """H_i = ∇²ℓ_i(θ*) on the explicit data set."""
        assert self.minimum is not None
        return [sp.ImmutableMatrix(self.hess_ell.xreplace(row).xreplace(self.minimum)).applyfunc(sp.nsimplify)
                for row in self.samples]

    def result(self, claim: str) -> Result:
        """The :class:`~theory.Result` of one claim (built once)."""
        if claim not in self.claims:
            raise ValueError(f"Model {self.name}: unknown claim {claim!r}; it derives {list(self.claims)}"
                             + (f" ({claim} needs {NEEDS[claim]})" if claim in NEEDS else ""))
        if claim not in self._results:
            self._results[claim] = getattr(self, "_r_" + claim)()
        return self._results[claim]

    def with_batch(self, batch: int) -> "Model":
        """The same model with ``sgd_threshold`` for batch ``batch`` (``self`` if unchanged);
        only that claim depends on the batch."""
        if batch == self.batch:
            return self
        given = ({"model": self.f, "target": self.target} if self.f is not None
                 else {"loss": self.ell})
        return Model(self.name, params=self.params, data=self.data, topic=self.topic,
                     minimum=self.minimum, dataset=self.dataset, batch=batch,
                     title=self.title, **given)

    def results(self) -> dict[str, Result]:
        """Every claim's :class:`~theory.Result`, by claim."""
        return {c: self.result(c) for c in self.claims}

    def register(self, *, how: str = "derive") -> list[str]:
        """Register every claim's result under ``TOPIC.NAME.CLAIM`` (a topic of your own) and
        return the ids; ``verify.models.register_checks`` then registers the generic checks."""
        if self.topic in TOPIC_MODULES:
            raise ValueError(f"Model.register: topic {self.topic!r} is built in; register your "
                             f"model under a topic of your own (e.g. 'my{self.topic}')")
        out = []
        for c in self.claims:
            rid = self.id(c)
            result(rid, title=f"{self.name}: {c.replace('_', ' ')}", source=_SRC, how=how)(
                _Builder(self, c))
            out.append(rid)
        return out

    def _result(self, claim: str, title: str, statement: sp.Basic, steps: list[Step],
                parts: dict[str, sp.Basic] | None = None, extra: tuple[sp.Symbol, ...] = (),
                notes: str = "") -> Result:
        return Result(id=self.id(claim), title=f"{self.name}: {title}", source=_SRC,
                      statement=statement, symbols=self._symbols(*extra),
                      derivation=tuple(steps), parts=parts or {},
                      notes=(f"Per-sample loss ℓ = {sp.sstr(self.ell)}; params "
                             f"{[p.name for p in self.params]}, data {[s.name for s in self.data]}. "
                             + notes).strip(),
                      references=("Wu, Ma, E, NeurIPS 2018 (linear stability of GD)",))

    def _r_loss(self) -> Result:
        L = self._mean(self.ell)
        steps = [Step("per-sample loss ℓ(θ; x, y)", sp.Eq(sp.Symbol("ell"), self.ell))]
        if self.f is not None:
            steps.insert(0, Step("per-sample model f(θ; x), squared loss ½(f − y)²",
                                 sp.Eq(sp.Symbol("f"), self.f)))
        steps.append(Step("mean over the samples i = 1..n", sp.Eq(sp.Symbol("L"), L)))
        return self._result("loss", "L(θ) = (1/n) Σ_i ℓ(θ; x_i, y_i)", L, steps,
                            parts={"per_sample": self.ell})

    def _r_gradient(self) -> Result:
        G = sp.ImmutableMatrix([self._mean(g, split=True) for g in self.grad_ell])
        full = self._mean(self.ell)
        check = [sp.simplify(sp.diff(full, p) - G[k]) for k, p in enumerate(self.params)]
        if any(c != 0 for c in check):  # differentiation commutes with the finite sum
            raise ArithmeticError(f"∂L/∂θ does not match the mean of ∂ℓ/∂θ: {check}")
        return self._result("gradient", "∇L(θ) = (1/n) Σ_i ∇ℓ(θ; x_i, y_i)", G, [
            Step("∇ℓ, one sample", self.grad_ell),
            Step("∇L: differentiate the mean term by term", G)])

    def _r_hessian(self) -> Result:
        H = sp.ImmutableMatrix([[self._mean(e, split=True) for e in row] for row in self.hess_ell.tolist()])
        return self._result("hessian", "∇²L(θ) = (1/n) Σ_i ∇²ℓ(θ; x_i, y_i)", H, [
            Step("∇²ℓ, one sample", self.hess_ell),
            Step("∇²L: differentiate the mean term by term", H)])

    def _r_per_sample_gradient(self) -> Result:
        return self._result("per_sample_gradient", "∇ℓ(θ; x, y), one sample", self.grad_ell, [
            Step("per-sample loss", sp.Eq(sp.Symbol("ell"), self.ell)),
            Step("differentiate in each parameter", self.grad_ell)],
            notes="Their mean over the data set is the gradient (an unbiased minibatch estimate).")

    def _r_gauss_newton(self) -> Result:
        assert self.f is not None and self.target is not None
        jf = sp.ImmutableMatrix([sp.diff(self.f, p) for p in self.params])
        hf = sp.ImmutableMatrix([[sp.diff(self.f, a, b) for b in self.params] for a in self.params])
        gn1 = jf * jf.T
        residual = sp.simplify(self.hess_ell - gn1 - (self.f - self.target) * hf)
        if residual != sp.zeros(len(self.params), len(self.params)):
            raise ArithmeticError(f"∇²ℓ ≠ ∇f∇fᵀ + (f − y)∇²f: {residual}")
        G = sp.ImmutableMatrix([[self._mean(e, split=True) for e in row] for row in gn1.tolist()])
        return self._result(
            "gauss_newton", "G(θ) = (1/n) Σ_i ∇f_i ∇f_iᵀ (= ∇²L where f_i = y_i)", G,
            [Step("∇f, one sample", jf),
             Step("∇²ℓ = ∇f∇fᵀ + (f − y)∇²f (checked symbolically)", sp.Eq(sp.Symbol("r"), 0)),
             Step("G: the mean of ∇f∇fᵀ", G)],
            parts={"per_sample_model": self.f},
            notes="Where every residual f_i − y_i vanishes (an interpolating minimum) G = ∇²L.")

    def _r_label_noise_regularizer(self) -> Result:
        tr = sp.Add(*[self.hess_ell[k, k] for k in range(len(self.params))])
        Rexpr = self._mean(tr, split=True) / 4
        parts: dict[str, sp.Basic] = {}
        steps = [Step("Tr ∇²ℓ, one sample", tr),
                 Step("R = ¼ Tr ∇²L (label_noise.regularizer, first order in η)",
                      sp.Eq(R_sym, Rexpr))]
        if self.minimum is not None:
            at = sp.nsimplify(sp.simplify(sum(self._eigs)) / 4)
            parts["at_minimum"] = at
            steps.append(Step(f"at θ* = {self._min_text()} on the explicit data set", at))
        return self._result("label_noise_regularizer", "R(θ) = ¼ Tr ∇²L(θ)",
                            sp.Eq(R_sym, Rexpr), steps, parts=parts, extra=(R_sym,),
                            notes="The regularizer label-noise SGD follows on the manifold of minima.")

    def _r_gd_threshold(self) -> Result:
        from theory._registry import get  # noqa: PLC0415 (built when first needed)

        stab = get("stability.gd_threshold")
        two_over = stab.parts["threshold"]
        (lam_max,) = two_over.free_symbols
        lmax = self._eigs[-1]
        if not lmax.is_positive:
            raise ValueError(f"Model: ∇²L(θ*) at {self._min_text()} is zero; GD is stable at "
                             "every step size there (no threshold)")
        thr = sp.nsimplify(two_over.subs(lam_max, lmax))
        steps = [Step("explicit data set: L(θ)", sp.Eq(sp.Symbol("L"), self.explicit_loss())),
                 Step(f"∇L(θ*) = 0 at θ* = {self._min_text()} (checked)", sp.Eq(sp.Symbol("g"), 0)),
                 Step("∇²L(θ*)", self._hess_star),
                 Step("its eigenvalues", sp.Tuple(*self._eigs)),
                 Step("stability.gd_threshold: threshold 2/λ_max", sp.Eq(eta_gd, thr))]
        return self._result(
            "gd_threshold", f"GD at θ* = {self._min_text()} is stable iff η ≤ 2/λ_max(∇²L(θ*))",
            sp.Eq(eta_gd, thr), steps,
            parts={"hessian_at_minimum": self._hess_star, "lambda_max": lmax}, extra=(eta_gd,),
            notes="On the explicit data set the model was given (Model.dataset).")

    def _r_pac_bayes(self) -> Result:
        from theory._registry import get  # noqa: PLC0415

        pac = get("sharpness.pac_bayes")
        tr_H = next(q for q in pac.symbols if q.name == "tr_H")
        tr_star = sp.nsimplify(sp.simplify(sp.Add(*self._eigs)))
        value = pac.statement.rhs.subs(tr_H, tr_star)
        sig = next(q for q in pac.symbols if q.name == "sigma")
        value = value.subs(sig, sigma)
        steps = [Step("∇²L(θ*) on the explicit data set", self._hess_star),
                 Step("Tr ∇²L(θ*)", sp.Eq(sp.Symbol("tr_H"), tr_star)),
                 Step("sharpness.pac_bayes: E_{v~N(0,σ²I)} L(θ*+v) − L(θ*) = (σ²/2) Tr ∇²L + O(σ⁴)",
                      sp.Eq(S_pac, value))]
        return self._result(
            "pac_bayes", f"PAC-Bayes sharpness at θ* = {self._min_text()}: (σ²/2) Tr ∇²L(θ*)",
            sp.Eq(S_pac, value), steps, parts={"trace_at_minimum": tr_star}, extra=(S_pac, sigma),
            notes=("Leading order in σ (∇L(θ*) = 0 removes the odd orders; the σ⁴ term is "
                   "(σ⁴/8)Σ_jk ∂_j²∂_k²L(θ*)). On the explicit data set the model was given."))

    def _r_sgd_threshold(self) -> Result:
        from theory._registry import get  # noqa: PLC0415

        exact = get("stability.sgd_exact_threshold")
        syms = {q.name: q for q in exact.symbols}
        m = len(self.samples)
        c = exact.parts["batch_factor"].subs({syms["n"]: m, syms["B"]: self.batch})
        Hs = self._per_sample_hessians()
        P = len(self.params)
        H = sp.ImmutableMatrix(sum(Hs, sp.zeros(P, P)) / m)
        Sig = sp.ImmutableMatrix(sum((h * h for h in Hs), sp.zeros(P, P)) / m - H * H)
        a_val = self._eigs[-1]
        s2 = max(Sig.eigenvals(multiple=True), key=lambda e: float(sp.re(e.evalf(30))))
        s_val = sp.nsimplify(sp.sqrt(sp.simplify(s2)))
        # Range of H (= the span of the H_i, which are PSD and sum to nH): basis V, and the
        # H_i acting on it, A_i = (VᵀV)⁻¹VᵀH_iV (H_iV = VA_i). The second-moment map on
        # M = VKVᵀ is K ↦ E[(I − ηA_𝓑)K(I − ηA_𝓑)ᵀ]; on null(H) it is the identity (marginal).
        V = sp.Matrix.hstack(*H.columnspace())
        G = (V.T * V).inv()
        As = [sp.ImmutableMatrix(G * V.T * h * V) for h in Hs]
        r = V.shape[1]
        A = sp.ImmutableMatrix(sum(As, sp.zeros(r, r)) / m)
        kr = sp.kronecker_product
        L = kr(A, sp.eye(r)) + kr(sp.eye(r), A)
        Q = (1 - c) * kr(A, A) + c * sum((kr(h, h) for h in As), sp.zeros(r * r, r * r)) / m
        e = sp.Symbol("e", positive=True)
        poly = sp.Poly(sp.expand((e * Q - L).det()), e)
        roots = [q for q in sp.real_roots(poly) if q > 0]
        if not roots:
            raise ArithmeticError("det(ηQ − L) has no positive root")
        star = sp.nsimplify(min(roots)) if min(roots).is_rational else min(roots)
        # The sufficient threshold: λ_max((I − ηH)² + η²cΣ) ≤ 1 on range(H).
        Sa = sp.ImmutableMatrix(G * V.T * Sig * V)
        poly_s = sp.Poly(sp.expand((e * (A * A + c * Sa) - 2 * A).det()), e)
        roots_s = [q for q in sp.real_roots(poly_s) if q > 0]
        suff_val = min(roots_s)
        if not bool(star >= suff_val):
            raise ArithmeticError(f"exact threshold {star} below the sufficient one {suff_val}")
        steps = [
            Step("per-sample Hessians at θ* (each ∇ℓ_i(θ*) = 0: SGD near θ* is θ ← θ − ηH_𝓑(θ − θ*))",
                 sp.Tuple(*Hs)),
            Step("H = mean H_i, its largest eigenvalue a (sharpness)", sp.Eq(sym("a_H", "a"), a_val)),
            Step("Σ = (1/n)ΣH_i² − H², s = √λ_max(Σ) (non-uniformity)", sp.Eq(sym("s_H", "s"), s_val)),
            Step(f"stability.sgd_exact_threshold: batch factor c = (n − B)/(B(n − 1)), n = {m}, B = {self.batch}",
                 sp.Eq(sym("c_B", "c"), c)),
            Step("range of H: A_i = (VᵀV)⁻¹VᵀH_iV; L = A⊗I + I⊗A, Q = (1 − c)A⊗A + (c/n)ΣA_i⊗A_i",
                 sp.Eq(sp.Symbol("det(eQ − L)"), poly.as_expr())),
            Step("η* = the smallest positive root (ρ(T_η) = 1)", sp.Eq(eta_sgd, star)),
            Step("stability.sgd_threshold, sufficient: λ_max((I − ηH)² + η²cΣ) ≤ 1 up to",
                 sp.Eq(sym("eta_suff", r"\eta_{\mathrm{suff}}"), suff_val)),
        ]
        return self._result(
            "sgd_threshold",
            f"SGD (B = {self.batch}) at θ* = {self._min_text()}: mean-square stable iff η ≤ η*",
            sp.Eq(eta_sgd, star), steps, extra=(eta_sgd,),
            parts={"sharpness": a_val, "non_uniformity": s_val, "batch_factor": c,
                   "sufficient_threshold": suff_val},
            notes=(f"Batch B = {self.batch} without replacement from the model's {m} samples "
                   "(Model(batch=...)). Linear stability of the second moment (Wu, Ma, E 2018; "
                   "Ma & Ying 2021): on the null space of ∇²L(θ*) — the tangent of the manifold "
                   "of minima — the map is the identity, so the threshold is that of the range. "
                   "η* ≥ the sufficient threshold; equal when the H_i commute."))

    def _r_label_noise_flow(self) -> Result:
        from theory._registry import get  # noqa: PLC0415

        flow = get("label_noise.limiting_flow")
        J = self._jacobian_star()
        P = len(self.params)
        proj = sp.ImmutableMatrix(sp.eye(P) - J.T * (J * J.T).inv() * J)
        L = self.explicit_loss()
        tr = sp.Add(*[sp.diff(L, q, 2) for q in self.params])
        g = sp.ImmutableMatrix([sp.nsimplify(sp.expand(sp.diff(tr, q)).xreplace(self.minimum))
                                for q in self.params])
        rhs = flow.statement.rhs
        named = {str(a): a for a in rhs.free_symbols}
        vel = rhs.xreplace({named["P_Gamma"]: proj, named["grad_tr"]: g, named["delta"]: delta})
        vel = sp.ImmutableMatrix(sp.simplify(vel.doit()))
        if any(sp.simplify(q) != 0 for q in J * vel):
            raise ArithmeticError("the flow's velocity is not tangent to the manifold")
        rate = sp.simplify((g.T * vel)[0, 0])
        steps = [
            Step("Jacobian of (f_i) at θ* on the explicit data set (rows ∇f_i)", J),
            Step("P_Γ = I − Jᵀ(JJᵀ)⁻¹J, the projection on the tangent space of Γ = {f_i = y_i}", proj),
            Step("∇ Tr ∇²L at θ*", g),
            Step("label_noise.limiting_flow: dY/dτ = −(δ²/4) P_Γ ∇Tr∇²L, τ = η²·steps", vel),
            Step("d/dτ Tr ∇²L along it = ∇Tr·dY/dτ", sp.Eq(sym("trace_rate", r"\dot T"), rate)),
        ]
        return self._result(
            "label_noise_flow",
            f"label-noise SGD near θ* = {self._min_text()}: drift −(δ²/4)∇_Γ Tr ∇²L along Γ",
            vel, steps, extra=(delta,),
            parts={"projector": proj, "trace_gradient": g, "trace_rate": rate},
            notes=("The limiting flow (Li, Wang, Arora 2022) at θ*, for the step "
                   "θ ← θ − η∇½(f_i − y_i − ε)², ε ~ Unif{±δ}, in time τ = η²·steps. "
                   "∇_Γ = P_Γ∇ is the gradient along the manifold of interpolating minima; "
                   "it is zero where θ* is already a critical point of Tr ∇²L on Γ."))

    def __repr__(self) -> str:
        at = f", minimum {self._min_text()}" if self.minimum is not None else ""
        return (f"Model({self.topic}.{self.name}: ℓ = {sp.sstr(self.ell)}; params "
                f"{[p.name for p in self.params]}, data {[s.name for s in self.data]}{at})")


class _Builder:
    """The zero-argument builder of one claim of a model (for :func:`theory.result`)."""

    def __init__(self, model: Model, claim: str) -> None:
        self.model, self.claim = model, claim

    def __call__(self) -> Result:
        return self.model.result(self.claim)

    def __repr__(self) -> str:
        return f"<builder of {self.model.id(self.claim)}>"


# ============================================================================ worked models
def _toy() -> Model:
    th = sym("theta", r"\theta", real=True)
    y = sym("y", real=True)
    half, three_half = sp.Rational(1, 2), sp.Rational(3, 2)
    return Model("toy", model=th**2, target=y, params=[th], data=[y],
                 title="scalar toy f(θ) = θ², ℓ = ½(θ² − y)²",
                 minimum={th: 1}, dataset={y: [half, three_half]})


def _diagonal(depth: int) -> Model:
    us = [sym(f"u{j}", f"u_{j}", real=True) for j in (1, 2)]
    vs = [sym(f"v{j}", f"v_{j}", real=True) for j in (1, 2)]
    xs = [sym(f"x{j}", f"x_{j}", real=True) for j in (1, 2)]
    y = sym("y", real=True)
    f = sum((u**depth - v**depth) * x for u, v, x in zip(us, vs, xs))
    # Two samples x = (1, 1), (1, −1) (sign vectors, as in label_noise.quadratic_model_trace),
    # labels fitted by w* = u*^L − v*^L at u* = (1, 1), v* = (0, 1/2).
    u_star, v_star = (1, 1), (0, sp.Rational(1, 2))
    w = [sp.Integer(a) ** depth - sp.sympify(b) ** depth for a, b in zip(u_star, v_star)]
    x_rows = [(1, 1), (1, -1)]
    ys = [sum(wj * xj for wj, xj in zip(w, row)) for row in x_rows]
    return Model(f"diagonal{depth}", model=f, target=y, params=[*us, *vs], data=[*xs, y],
                 title=f"depth-{depth} diagonal linear net w = u^{depth} − v^{depth}",
                 minimum={**dict(zip(us, u_star)), **dict(zip(vs, v_star))},
                 dataset={xs[0]: [r[0] for r in x_rows], xs[1]: [r[1] for r in x_rows], y: ys})


def _linear2() -> Model:
    # f(x) = vᵀWx, W 2×2, v ∈ R², inputs x = (1, 1), (1, −1) labelled by the end-to-end
    # w* = W*ᵀv* = (1, 3/2) of W* = [[1, 1], [0, 1]], v* = (1, ½): an interpolating minimum
    # on the manifold {Wᵀv = w*} (the rescaling W → cW, v → v/c and the rotations of the
    # hidden layer move along it).
    W = matrix_symbols("W", 2, 2)
    v = matrix_symbols("v", 2, 1)
    xs = [sym(f"x{j}", f"x_{j}", real=True) for j in (1, 2)]
    y = sym("y", real=True)
    f = (v.T * W * sp.Matrix(xs))[0, 0]
    W_star = sp.Matrix([[1, 1], [0, 1]])
    v_star = sp.Matrix([1, sp.Rational(1, 2)])
    w = W_star.T * v_star
    x_rows = [(1, 1), (1, -1)]
    ys = [sum(w[k] * r[k] for k in range(2)) for r in x_rows]
    return Model("linear2", model=f, target=y, params=[W, v], data=[*xs, y],
                 title="two-layer linear net f(x) = vᵀWx (W 2×2, v ∈ R²)",
                 minimum={W: W_star, v: v_star},
                 dataset={xs[0]: [r[0] for r in x_rows], xs[1]: [r[1] for r in x_rows], y: ys})


#: The package's worked models (:func:`worked`), registered under the ``models`` topic.
WORKED = ("toy", "diagonal2", "diagonal3", "linear2")


@cache
def worked(name: str) -> Model:
    """The package's worked model ``name`` (``"toy"``, ``"diagonal2"``, ``"diagonal3"``,
    ``"linear2"``)."""
    makers = {"toy": _toy, "diagonal2": lambda: _diagonal(2), "diagonal3": lambda: _diagonal(3),
              "linear2": _linear2}
    if name not in makers:
        raise ValueError(f"unknown worked model {name!r}; they are {sorted(makers)}")
    return makers[name]()


_T = "theory.models: derived from the model's SymPy expression"


@result("models.toy.loss", title="toy ½(θ² − y)²: L(θ) = (1/n)Σ ℓ_i", source=_T, how="derive")
def toy_loss() -> Result:
    return worked("toy").result("loss")


@result("models.toy.gradient", title="toy: ∇L", source=_T, how="derive")
def toy_gradient() -> Result:
    return worked("toy").result("gradient")


@result("models.toy.hessian", title="toy: ∇²L", source=_T, how="derive")
def toy_hessian() -> Result:
    return worked("toy").result("hessian")


@result("models.toy.per_sample_gradient", title="toy: ∇ℓ per sample", source=_T, how="derive")
def toy_per_sample_gradient() -> Result:
    return worked("toy").result("per_sample_gradient")


@result("models.toy.gauss_newton", title="toy: Gauss–Newton matrix", source=_T, how="derive")
def toy_gauss_newton() -> Result:
    return worked("toy").result("gauss_newton")


@result("models.toy.label_noise_regularizer", title="toy: R = ¼ Tr ∇²L", source=_T, how="derive")
def toy_label_noise_regularizer() -> Result:
    return worked("toy").result("label_noise_regularizer")


@result("models.toy.gd_threshold", title="toy at θ* = 1, y = (½, 3/2): GD threshold 2/λ_max = ½",
        source=_T, how="derive")
def toy_gd_threshold() -> Result:
    return worked("toy").result("gd_threshold")


@result("models.diagonal2.loss", title="depth-2 diagonal net u² − v²: L = (1/n)Σ ½(f_i − y_i)²",
        source=_T, how="derive")
def diagonal2_loss() -> Result:
    return worked("diagonal2").result("loss")


@result("models.diagonal2.gradient", title="depth-2 diagonal net: ∇L", source=_T, how="derive")
def diagonal2_gradient() -> Result:
    return worked("diagonal2").result("gradient")


@result("models.diagonal2.hessian", title="depth-2 diagonal net: ∇²L", source=_T, how="derive")
def diagonal2_hessian() -> Result:
    return worked("diagonal2").result("hessian")


@result("models.diagonal2.per_sample_gradient", title="depth-2 diagonal net: ∇ℓ per sample",
        source=_T, how="derive")
def diagonal2_per_sample_gradient() -> Result:
    return worked("diagonal2").result("per_sample_gradient")


@result("models.diagonal2.gauss_newton", title="depth-2 diagonal net: Gauss–Newton matrix",
        source=_T, how="derive")
def diagonal2_gauss_newton() -> Result:
    return worked("diagonal2").result("gauss_newton")


@result("models.diagonal2.label_noise_regularizer", title="depth-2 diagonal net: R = ¼ Tr ∇²L",
        source=_T, how="derive")
def diagonal2_label_noise_regularizer() -> Result:
    return worked("diagonal2").result("label_noise_regularizer")


@result("models.diagonal2.gd_threshold",
        title="depth-2 diagonal net at u* = (1, 1), v* = (0, ½): GD threshold 2/λ_max = 2/5",
        source=_T, how="derive")
def diagonal2_gd_threshold() -> Result:
    return worked("diagonal2").result("gd_threshold")


@result("models.diagonal3.loss", title="depth-3 diagonal net u³ − v³: L = (1/n)Σ ½(f_i − y_i)²", source=_T, how="derive")
def diagonal3_loss() -> Result:
    return worked("diagonal3").result("loss")


@result("models.diagonal3.gradient", title="depth-3 diagonal net u³ − v³: ∇L", source=_T, how="derive")
def diagonal3_gradient() -> Result:
    return worked("diagonal3").result("gradient")


@result("models.diagonal3.hessian", title="depth-3 diagonal net u³ − v³: ∇²L", source=_T, how="derive")
def diagonal3_hessian() -> Result:
    return worked("diagonal3").result("hessian")


@result("models.diagonal3.per_sample_gradient", title="depth-3 diagonal net u³ − v³: ∇ℓ per sample", source=_T, how="derive")
def diagonal3_per_sample_gradient() -> Result:
    return worked("diagonal3").result("per_sample_gradient")


@result("models.diagonal3.gauss_newton", title="depth-3 diagonal net u³ − v³: Gauss–Newton matrix", source=_T, how="derive")
def diagonal3_gauss_newton() -> Result:
    return worked("diagonal3").result("gauss_newton")


@result("models.diagonal3.label_noise_regularizer", title="depth-3 diagonal net u³ − v³: R = ¼ Tr ∇²L", source=_T, how="derive")
def diagonal3_label_noise_regularizer() -> Result:
    return worked("diagonal3").result("label_noise_regularizer")


@result("models.diagonal3.gd_threshold",
        title="depth-3 diagonal net at u* = (1, 1), v* = (0, ½): GD threshold 2/λ_max = 32/153",
        source=_T, how="derive")
def diagonal3_gd_threshold() -> Result:
    return worked("diagonal3").result("gd_threshold")


@result("models.toy.pac_bayes", title="toy at θ* = 1: PAC-Bayes sharpness (σ²/2) Tr ∇²L = 2σ²", source=_T, how="derive")
def toy_pac_bayes() -> Result:
    return worked("toy").result("pac_bayes")


@result("models.diagonal2.pac_bayes", title="depth-2 diagonal net at its minimum: PAC-Bayes sharpness (σ²/2) Tr ∇²L = 9σ²/2", source=_T, how="derive")
def diagonal2_pac_bayes() -> Result:
    return worked("diagonal2").result("pac_bayes")


@result("models.diagonal2.sgd_threshold", title="depth-2 diagonal net at its minimum: SGD (B = 1) mean-square threshold η* = 2/9", source=_T, how="derive")
def diagonal2_sgd_threshold() -> Result:
    return worked("diagonal2").result("sgd_threshold")


@result("models.diagonal2.label_noise_flow", title="depth-2 diagonal net at its minimum: label-noise drift −(δ²/5)(0, 4, 0, 8) along Γ", source=_T, how="derive")
def diagonal2_label_noise_flow() -> Result:
    return worked("diagonal2").result("label_noise_flow")


@result("models.diagonal3.pac_bayes", title="depth-3 diagonal net at its minimum: PAC-Bayes sharpness (σ²/2) Tr ∇²L = 297σ²/32", source=_T, how="derive")
def diagonal3_pac_bayes() -> Result:
    return worked("diagonal3").result("pac_bayes")


@result("models.diagonal3.sgd_threshold", title="depth-3 diagonal net at its minimum: SGD (B = 1) mean-square threshold η* = 32/297", source=_T, how="derive")
def diagonal3_sgd_threshold() -> Result:
    return worked("diagonal3").result("sgd_threshold")


@result("models.diagonal3.label_noise_flow", title="depth-3 diagonal net at its minimum: label-noise drift −(δ²/34)(0, 27, 0, 108) along Γ", source=_T, how="derive")
def diagonal3_label_noise_flow() -> Result:
    return worked("diagonal3").result("label_noise_flow")


@result("models.linear2.loss", title="two-layer linear net vᵀWx: L = (1/n)Σ ½(f_i − y_i)²", source=_T, how="derive")
def linear2_loss() -> Result:
    return worked("linear2").result("loss")


@result("models.linear2.gradient", title="two-layer linear net vᵀWx: ∇L", source=_T, how="derive")
def linear2_gradient() -> Result:
    return worked("linear2").result("gradient")


@result("models.linear2.hessian", title="two-layer linear net vᵀWx: ∇²L", source=_T, how="derive")
def linear2_hessian() -> Result:
    return worked("linear2").result("hessian")


@result("models.linear2.per_sample_gradient", title="two-layer linear net vᵀWx: ∇ℓ per sample", source=_T, how="derive")
def linear2_per_sample_gradient() -> Result:
    return worked("linear2").result("per_sample_gradient")


@result("models.linear2.gauss_newton", title="two-layer linear net vᵀWx: Gauss–Newton matrix", source=_T, how="derive")
def linear2_gauss_newton() -> Result:
    return worked("linear2").result("gauss_newton")


@result("models.linear2.label_noise_regularizer", title="two-layer linear net vᵀWx: R = ¼ Tr ∇²L", source=_T, how="derive")
def linear2_label_noise_regularizer() -> Result:
    return worked("linear2").result("label_noise_regularizer")


@result("models.linear2.gd_threshold", title="two-layer linear net at W* = [[1, 1], [0, 1]], v* = (1, ½): GD threshold 2/λ_max = (88 − 16√5)/101", source=_T, how="derive")
def linear2_gd_threshold() -> Result:
    return worked("linear2").result("gd_threshold")


@result("models.linear2.pac_bayes", title="two-layer linear net at its minimum: PAC-Bayes sharpness (σ²/2) Tr ∇²L = 11σ²/4", source=_T, how="derive")
def linear2_pac_bayes() -> Result:
    return worked("linear2").result("pac_bayes")


@result("models.linear2.sgd_threshold", title="two-layer linear net at its minimum: SGD (B = 1) mean-square threshold η* = (476 − 8√485)/1111", source=_T, how="derive")
def linear2_sgd_threshold() -> Result:
    return worked("linear2").result("sgd_threshold")


@result("models.linear2.label_noise_flow", title="two-layer linear net at its minimum: label-noise drift −(δ²/4)∇_Γ Tr ∇²L along Γ", source=_T, how="derive")
def linear2_label_noise_flow() -> Result:
    return worked("linear2").result("label_noise_flow")
