r"""Input checks at public boundaries: declared constraints and one message format.

Every public entry of :mod:`numerics` screens its inputs here before computing, as
scikit-learn's ``_param_validation`` does: the entry *declares* a constraint per argument
and :func:`validate` applies them, so the rules live in one place and every refusal reads
the same. A message is one line,

.. code-block:: text

    [<owner>: ][<a> and <b> disagree: ]<argument> must <rule>; got <value>

naming who refused (``LeastSquares``, ``SumOfQuadratics.grad``), the argument, the rule
and the value received (an array is summarised by its shape and dtype, never printed).
``TypeError`` is raised for a wrong kind of object (a list where an array is wanted, an
array where a number is wanted, arrays of two namespaces), ``ValueError`` for a wrong value
or shape.

The constraints:

- ``Interval(Real, 0, None, closed="neither")``: a finite real number in the interval
  (``closed`` says which ends belong to it); ``Integral`` for integers.
- ``Options("mean", "sum")``: one of the listed values.
- ``Array(("n", "d"), ...)``: an array of one array-API namespace with one of the given
  shapes; a string names a dimension that must agree across the arguments of one
  :func:`validate` call (``"n"`` of ``A`` and ``y``); ``finite``, ``nonempty``, ``dtype``
  and ``matrix`` (``"symmetric"``, ``"psd"``, ``"spd"`` on the last two axes).
- ``InstanceOf(cls)``: an instance of ``cls``; ``Optional(c)``: ``None`` or what ``c``
  accepts.
- ``Shape(...)``: the shape part of ``Array``, precompiled for methods called every step.

:func:`namespace_for` is the one place that picks an array namespace when a function may be
called without arrays (the arrays' namespace, else the given ``xp``, else NumPy).

The ``check_*`` functions are the same rules for one value (thin wrappers over the
constraints), for code that checks one argument at a time.

Examples
--------
>>> from numbers import Real
>>> import numpy as np
>>> validate("GD", {"eta": (-1.0, Interval(Real, 0, None, closed="neither"))})
Traceback (most recent call last):
...
ValueError: GD: eta must be finite and positive; got -1.0
>>> A, y = validate("LeastSquares", {"A": (np.ones((3, 2)), Array(("n", "d"))),
...                                  "y": (np.ones(4), Array(("n",)))})
Traceback (most recent call last):
...
ValueError: LeastSquares: A and y disagree: y must have shape (n=3,) to match A of shape (3, 2); got shape (4,)
"""

from __future__ import annotations

import difflib
import math
import operator
from numbers import Integral, Real
from typing import Any, Iterator, Mapping, Sequence

__all__ = [
    "Array",
    "Constraint",
    "InstanceOf",
    "Interval",
    "Options",
    "Optional",
    "Shape",
    "Validated",
    "describe",
    "message",
    "namespace_for",
    "validate",
    "check_positive",
    "check_int",
    "check_batch",
    "check_finite",
    "check_ndim",
    "check_psd",
    "check_symmetric",
    "check_probability",
    "check_array",
    "check_same_namespace",
]

_ASARRAY_HINT = "convert it with xp.asarray(...) of the backend you use"


# ----------------------------------------------------------------------------- format
def message(name: str, rule: str, evidence: str, *, owner: str | None = None,
            context: str | None = None) -> str:
    """The one message format: ``[owner: ][context: ]name must rule; evidence``."""
    head = f"{owner}: " if owner else ""
    if context:
        head += f"{context}: "
    return f"{head}{name} must {rule}; {evidence}"


def _dtype_name(dtype: Any) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: Any) -> str:
    """A short description of ``value`` for a message: numbers and strings by ``repr``,
    arrays by shape and dtype (never their entries), other objects by type."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, complex):
        return repr(complex(value))
    shape = getattr(value, "shape", None)
    if shape is not None:
        shape = tuple(shape)
        if shape == ():
            try:
                return repr(value.item())
            except Exception:  # noqa: BLE001 (an exotic 0-d array: say what it is)
                pass
        return f"an array of shape {shape}, dtype {_dtype_name(getattr(value, 'dtype', '?'))}"
    if isinstance(value, (list, tuple, dict, set)):
        return f"{type(value).__name__} {_short(repr(value))}"
    return f"{type(value).__name__} {_short(repr(value))}"


def _fail(exc: type[Exception], name: str, rule: str, evidence: str, owner: str | None,
          context: str | None = None) -> None:
    raise exc(message(name, rule, evidence, owner=owner, context=context)) from None


# ------------------------------------------------------------------------- context
class _Context:
    """What one :func:`validate` call has learned: the dimensions bound so far (and which
    argument bound them) and the arrays' namespace."""

    def __init__(self, owner: str | None, dims: Mapping[str, Any] | None, origin: str | None):
        self.owner = owner
        self.dims: dict[str, int] = {}
        self.origin: dict[str, tuple[str, Any]] = {}
        for k, v in (dims or {}).items():
            if v is not None:
                self.dims[k] = int(v)
                self.origin[k] = (origin or "the model", None)
        self.xp: Any = None

    def origin_shape(self, arg: str) -> Any:
        """The shape of the argument ``arg`` that bound some dimension."""
        for src, shape in self.origin.values():
            if src == arg:
                return shape
        return "?"


class Constraint:
    """A declared rule for one argument: ``check`` returns the (converted) value or raises."""

    def check(self, name: str, value: Any, ctx: _Context) -> Any:  # pragma: no cover
        raise NotImplementedError

    def __call__(self, name: str, value: Any, *, owner: str | None = None) -> Any:
        """Check one value on its own."""
        return validate(owner, {name: (value, self)})[0]


# ------------------------------------------------------------------------ scalars
def _fmt_bound(v: Any, label: str | None) -> str:
    if v is None:
        return "inf"
    text = f"{v:g}" if isinstance(v, float) else str(v)
    return f"{label}={text}" if label else text


class Interval(Constraint):
    """A real number (``Real``, converted to ``float``, always finite) or an integer
    (``Integral``, converted to ``int``; ``bool`` refused) in an interval.

    Parameters
    ----------
    type
        ``numbers.Real`` or ``numbers.Integral``.
    left, right
        Bounds; ``None`` for no bound.
    closed
        ``"both"``, ``"left"``, ``"right"`` or ``"neither"``: which bounds belong to it.
    left_name, right_name
        Names of bounds that come from elsewhere, printed as ``n=4``.

    Examples
    --------
    >>> from numbers import Real
    >>> Interval(Real, 0, 2, closed="left")("eta", 1.5)
    1.5
    """

    def __init__(self, type: type, left: Any = None, right: Any = None, *, closed: str = "both",
                 left_name: str | None = None, right_name: str | None = None) -> None:
        if type not in (Real, Integral):
            raise TypeError(f"Interval type must be numbers.Real or numbers.Integral; got {type!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither'; got {closed!r}")
        self.type, self.left, self.right, self.closed = type, left, right, closed
        self.left_name, self.right_name = left_name, right_name

    def __repr__(self) -> str:
        kind = "Real" if self.type is Real else "Integral"
        return f"Interval({kind}, {self.left!r}, {self.right!r}, closed={self.closed!r})"

    @property
    def kind(self) -> str:
        return "a real number" if self.type is Real else "an integer"

    def rule(self) -> str:
        """The range in words: ``finite and positive``, ``an integer >= 1``, ``in [1, n=4]``."""
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        lo, hi = self.left, self.right
        if lo is not None and hi is not None:
            return (f"be in {'[' if lo_in else '('}{_fmt_bound(lo, self.left_name)}, "
                    f"{_fmt_bound(hi, self.right_name)}{']' if hi_in else ')'}")
        if self.type is Integral:
            if lo is not None:
                return f"be an integer {'>=' if lo_in else '>'} {_fmt_bound(lo, self.left_name)}"
            if hi is not None:
                return f"be an integer {'<=' if hi_in else '<'} {_fmt_bound(hi, self.right_name)}"
            return "be an integer"
        if lo is not None:
            if lo == 0 and self.left_name is None:
                return "be finite and non-negative" if lo_in else "be finite and positive"
            return f"be finite and {'>=' if lo_in else '>'} {_fmt_bound(lo, self.left_name)}"
        if hi is not None:
            return f"be finite and {'<=' if hi_in else '<'} {_fmt_bound(hi, self.right_name)}"
        return "be finite"

    def _contains(self, v: float) -> bool:
        if self.type is Real and not math.isfinite(v):
            return False
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.left is not None and not (v >= self.left if lo_in else v > self.left):
            return False
        return not (self.right is not None and not (v <= self.right if hi_in else v < self.right))

    def check(self, name: str, value: Any, ctx: _Context) -> Any:
        shape = getattr(value, "shape", None)
        if isinstance(value, bool) or (shape is not None and tuple(shape) != ()):
            _fail(TypeError, name, f"be {self.kind}", f"got {describe(value)}", ctx.owner)
        if self.type is Integral:
            try:
                v: Any = operator.index(value)
            except TypeError:
                _fail(TypeError, name, "be an integer", f"got {describe(value)}", ctx.owner)
        else:
            if isinstance(value, (str, bytes)):
                _fail(TypeError, name, "be a real number", f"got {describe(value)}", ctx.owner)
            try:
                v = float(value)
            except (TypeError, ValueError):
                _fail(TypeError, name, "be a real number", f"got {describe(value)}", ctx.owner)
        if not self._contains(v):
            _fail(ValueError, name, self.rule(), f"got {describe(value)}", ctx.owner)
        return v


class Options(Constraint):
    """One of a fixed set of values (strings, ``None``, numbers); a near miss of a string
    option is suggested.

    Examples
    --------
    >>> Options("mean", "sum")("reduction", "sum")
    'sum'
    """

    def __init__(self, *values: Any) -> None:
        self.values = values

    def __repr__(self) -> str:
        return f"Options{self.values!r}"

    def rule(self) -> str:
        shown = [repr(v) for v in self.values]
        if len(shown) == 2:
            return f"be {shown[0]} or {shown[1]}"
        return f"be one of {', '.join(shown)}"

    def check(self, name: str, value: Any, ctx: _Context) -> Any:
        shape = getattr(value, "shape", None)
        if shape is not None and tuple(shape) != () and not isinstance(value, (str, bytes)):
            _fail(TypeError, name, self.rule(), f"got {describe(value)}", ctx.owner)
        try:
            ok = any(value is v or (_same_kind(value, v) and value == v) for v in self.values)
        except TypeError:
            ok = False
        if not ok:
            hint = ""
            if isinstance(value, str):
                opts = [v for v in self.values if isinstance(v, str)]
                low = {v.lower(): v for v in opts}
                close = ([low[value.lower()]] if value.lower() in low
                         else difflib.get_close_matches(value, opts, n=1))
                hint = f"; did you mean {close[0]!r}?" if close else ""
            _fail(ValueError, name, self.rule(), f"got {describe(value)}{hint}", ctx.owner)
        return value


def _same_kind(value: Any, option: Any) -> bool:
    """Whether ``value`` may stand for ``option``: a string for a string, an integer (not a
    bool) for an integer, a bool (Python's or a 0-d array library's) for a bool; else the
    same type. So ``1`` is not ``True`` and ``1.0`` is not the option ``1``."""
    if isinstance(option, bool):
        return isinstance(value, bool) or (hasattr(value, "dtype") and not isinstance(value, Real)
                                           and getattr(value, "shape", None) == ())
    if isinstance(option, Integral):
        return isinstance(value, Integral) and not isinstance(value, bool)
    if isinstance(option, str):
        return isinstance(value, str)
    return type(value) is type(option)


class InstanceOf(Constraint):
    """An instance of ``cls`` (its name printed in the rule)."""

    def __init__(self, cls: type | tuple[type, ...], what: str | None = None) -> None:
        self.cls = cls
        names = cls if isinstance(cls, tuple) else (cls,)
        self.what = what or " or ".join(f"a {c.__module__}.{c.__qualname__}" for c in names)

    def check(self, name: str, value: Any, ctx: _Context) -> Any:
        if not isinstance(value, self.cls):
            _fail(TypeError, name, f"be {self.what}", f"got {type(value).__name__}", ctx.owner)
        return value


class Optional(Constraint):
    """``None``, or a value that ``constraint`` accepts."""

    def __init__(self, constraint: Constraint) -> None:
        self.constraint = constraint

    def check(self, name: str, value: Any, ctx: _Context) -> Any:
        return None if value is None else self.constraint.check(name, value, ctx)


# ------------------------------------------------------------------------- arrays
DimSpec = Any  # int (fixed), str (a named dimension), None (any size)


def _render(spec: Sequence[DimSpec], ctx: _Context | None, own: str, show: set[str]) -> str:
    parts = []
    for s in spec:
        if isinstance(s, str):
            parts.append(f"{s}={ctx.dims[s]}" if ctx is not None and s in show else s)
        else:
            parts.append("*" if s is None else str(s))
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (str, bytes))


def _namespace(name: str, value: Any, owner: str | None) -> Any:
    from array_api_compat import array_namespace  # noqa: PLC0415

    if not _is_array(value):
        _fail(TypeError, name, "be an array", f"got {describe(value)} ({_ASARRAY_HINT})", owner)
    try:
        return array_namespace(value)
    except TypeError:
        _fail(TypeError, name, "be an array of an array-API namespace",
              f"got {type(value).__module__}.{type(value).__name__} ({_ASARRAY_HINT})", owner)


def _origin_of(value: Any) -> str:
    return type(value).__module__.split(".")[0]


def _same_namespace(named: Mapping[str, Any], owner: str | None) -> Any:
    from array_api_compat import array_namespace  # noqa: PLC0415

    present = {k: v for k, v in named.items() if v is not None}
    try:
        return array_namespace(*present.values())
    except TypeError:
        kinds = ", ".join(f"{k} from {_origin_of(v)}" for k, v in present.items())
        head = f"{owner}: " if owner else ""
        raise TypeError(f"{head}arrays from different namespaces cannot be mixed: {kinds}; "
                        "convert them with one backend's xp.asarray") from None


class Array(Constraint):
    """An array of an array-API namespace with one of the declared shapes.

    Parameters
    ----------
    *shapes
        Allowed shapes, each a tuple of an ``int`` (that size), a ``str`` (a named
        dimension: equal wherever the name appears in one :func:`validate` call) or
        ``None`` (any size). No shapes: any shape.
    finite
        Refuse NaN and infinity (one device sync).
    nonempty
        Refuse arrays with a zero-length axis.
    dtype
        An ``xp.isdtype`` kind (``"real floating"``, ``"integral"``, ...) the dtype must be.
    matrix
        ``"symmetric"``, ``"psd"`` (symmetric positive semi-definite) or ``"spd"``
        (positive definite), for the last two axes; symmetry and the smallest eigenvalue
        to a rounding tolerance ``100·p·eps·max|H|`` (eigh's backward error is
        O(p·eps·‖H‖)).
    """

    def __init__(self, *shapes: Sequence[DimSpec], finite: bool = True, nonempty: bool = True,
                 dtype: str | None = None, matrix: str | None = None) -> None:
        if matrix not in (None, "symmetric", "psd", "spd"):
            raise ValueError(f"matrix must be None, 'symmetric', 'psd' or 'spd'; got {matrix!r}")
        self.shapes = tuple(tuple(s) for s in shapes)
        self.finite, self.nonempty, self.dtype, self.matrix = finite, nonempty, dtype, matrix

    def __repr__(self) -> str:
        return f"Array({', '.join(map(repr, self.shapes))})"

    # The stages run in this order across all arguments of one validate() call.
    def check_type(self, name: str, value: Any, ctx: _Context) -> Any:
        return _namespace(name, value, ctx.owner)

    def check_shape(self, name: str, value: Any, ctx: _Context) -> None:
        shape = tuple(value.shape)
        if self.shapes:
            cands = [s for s in self.shapes if len(s) == len(shape)]
            if not cands:
                nds = sorted({len(s) for s in self.shapes})
                nd = " or ".join(str(k) for k in nds)
                alts, tail, context = self._expected(self.shapes, name, ctx)
                _fail(ValueError, name,
                      f"have {nd} dimension{'s' if nds != [1] else ''}, shape {alts}{tail}",
                      f"got shape {shape}", ctx.owner, context)
            for spec in cands:
                trial = dict(ctx.dims)
                bad = None
                for i, (want, got) in enumerate(zip(spec, shape)):
                    if isinstance(want, str):
                        if want in trial and trial[want] != got:
                            bad = want
                            break
                        trial[want] = got
                    elif want is not None and want != got:
                        bad = i
                        break
                if bad is None:
                    for k, v in trial.items():
                        if k not in ctx.dims:
                            ctx.dims[k] = v
                            ctx.origin[k] = (name, shape)
                    break
            else:
                alts, tail, context = self._expected(cands, name, ctx)
                _fail(ValueError, name, f"have shape {alts}{tail}", f"got shape {shape}",
                      ctx.owner, context)
        if self.nonempty and 0 in shape:
            _fail(ValueError, name, "be non-empty", f"got shape {shape}", ctx.owner)

    def _expected(self, cands: Sequence[Sequence[DimSpec]], name: str,
                  ctx: _Context) -> tuple[str, str, str | None]:
        """The allowed shapes with the sizes bound elsewhere, the ``to match ...`` tail
        naming where they were bound, and the ``a and b disagree`` context."""
        syms = {s for spec in cands for s in spec if isinstance(s, str)}
        foreign = sorted({s for s in syms if s in ctx.dims}, key=str)
        alts = " or ".join(_render(s, ctx, name, set(foreign)) for s in self.shapes)
        args: list[str] = []
        given: list[str] = []
        for s in foreign:
            src, src_shape = ctx.origin[s]
            bucket = given if src_shape is None else args
            if src not in bucket:
                bucket.append(src)
        context = f"{' and '.join(args)} and {name} disagree" if args else None
        srcs = [f"{o} of shape {ctx.origin_shape(o)}" for o in args] + given
        return alts, (f" to match {' and '.join(srcs)}" if srcs else ""), context

    def check_values(self, name: str, value: Any, ctx: _Context) -> None:
        xp = ctx.xp
        if self.dtype is not None and not xp.isdtype(value.dtype, self.dtype):
            article = "an" if self.dtype[0] in "aeiou" else "a"
            _fail(TypeError, name, f"have {article} {self.dtype} dtype",
                  f"got dtype {_dtype_name(value.dtype)}", ctx.owner)
        if self.finite and not xp.isdtype(value.dtype, "bool"):
            _check_finite_array(name, value, xp, ctx.owner)
        if self.matrix is not None:
            _check_matrix(name, value, xp, self.matrix, ctx.owner)

    def check(self, name: str, value: Any, ctx: _Context) -> Any:  # used by Optional(Array)
        xp = self.check_type(name, value, ctx)
        if ctx.xp is None:
            ctx.xp = xp
        self.check_shape(name, value, ctx)
        self.check_values(name, value, ctx)
        return value


def _check_finite_array(name: str, x: Any, xp: Any, owner: str | None) -> None:
    if not bool(xp.all(xp.isfinite(x))):
        what = []
        if xp.isdtype(x.dtype, ("real floating", "complex floating")):
            if bool(xp.any(xp.isnan(x))):
                what.append("NaN")
            if bool(xp.any(xp.isinf(x))):
                what.append("infinity")
        _fail(ValueError, name, "be finite",
              f"it contains {' and '.join(what) or 'non-finite entries'} ({describe(x)})", owner)


def _matrix_tolerance(H: Any, xp: Any, rtol: float | None) -> tuple[float, float]:
    d = H.shape[-1]
    eps = xp.finfo(H.dtype).eps if xp.isdtype(H.dtype, "real floating") else 2.0**-52
    tol = 100 * d * eps if rtol is None else rtol
    scale = float(xp.max(xp.abs(H))) if math.prod(H.shape) else 0.0
    return tol, scale


def _where(name: str, flat_index: int, lead: tuple[int, ...]) -> str:
    if not lead:
        return ""
    idx = []
    for size in reversed(lead):
        idx.append(flat_index % size)
        flat_index //= size
    return f" (at {name}[{', '.join(str(i) for i in reversed(idx))}])"


def _check_matrix(name: str, H: Any, xp: Any, kind: str, owner: str | None,
                  rtol: float | None = None) -> tuple[float, float]:
    shape = tuple(H.shape)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        _fail(ValueError, name, "be square in its last two axes", f"got shape {shape}", owner)
    d = shape[-1]
    lead = shape[:-2]
    Hs = xp.reshape(H, (-1, d, d))
    tol, scale = _matrix_tolerance(H, xp, rtol)
    if math.prod(shape) == 0:
        return tol, scale
    asym_each = xp.max(xp.reshape(xp.abs(Hs - xp.matrix_transpose(Hs)), (Hs.shape[0], -1)), axis=1)
    asym = float(xp.max(asym_each))
    if asym > tol * max(scale, 1e-300):
        k = int(xp.argmax(asym_each))
        _fail(ValueError, name, "be symmetric",
              f"max |H - Hᵀ| = {asym:.3g}{_where(name, k, lead)}", owner)
    if kind == "symmetric":
        return tol, scale
    lam = xp.linalg.eigvalsh(Hs)[:, 0]
    k = int(xp.argmin(lam))
    lam_min = float(lam[k])
    if kind == "psd" and lam_min < -tol * max(scale, 1e-300):
        _fail(ValueError, name, "be positive semi-definite",
              f"smallest eigenvalue {lam_min:.3g}{_where(name, k, lead)}", owner)
    if kind == "spd" and lam_min <= tol * max(scale, 1e-300):
        _fail(ValueError, name, "be symmetric positive definite",
              f"smallest eigenvalue {lam_min:.3g}{_where(name, k, lead)}", owner)
    return tol, scale


class Shape:
    """A precompiled shape check for methods called every step (``loss``, ``grad``):
    one comparison of ``x.shape`` with the allowed shapes and one type identity test, the
    full :class:`Array` message (and the namespace check) only on failure.

    Parameters
    ----------
    *shapes
        As in :class:`Array`; named dimensions are bound by ``dims``.
    dims
        Sizes of the named dimensions (``None``: any size), e.g. ``{"R": None, "d": 3}``.
    like
        An array of the model: inputs of another array type are checked for their namespace.
    origin
        Where the bound sizes come from, for the message (default ``"the model"``).
    """

    def __init__(self, *shapes: Sequence[DimSpec], dims: Mapping[str, Any] | None = None,
                 like: Any = None, origin: str = "the model") -> None:
        self.shapes = tuple(tuple(s) for s in shapes)
        self.dims = dict(dims or {})
        self.origin = origin
        # Per allowed shape: its length and the (axis, size) pairs that are fixed.
        self._fast = []
        for spec in self.shapes:
            sizes = [self.dims.get(s) if isinstance(s, str) else s for s in spec]
            self._fast.append((len(spec), tuple((i, w) for i, w in enumerate(sizes) if w is not None)))
        self._like = like
        self._type = type(like) if like is not None else None

    def __call__(self, owner: str, name: str, x: Any) -> None:
        t = self._type
        if t is None or type(x) is t:
            shape = getattr(x, "shape", None)
            if shape is not None:
                for nd, fixed in self._fast:
                    if len(shape) == nd:
                        for i, w in fixed:
                            if shape[i] != w:
                                break
                        else:
                            return
        self.explain(owner, name, x)

    def explain(self, owner: str, name: str, x: Any) -> None:
        """Raise the message for an ``x`` that failed the fast test (or return if it passes
        the full test: e.g. an array subclass)."""
        _namespace(name, x, owner)
        if self._like is not None:
            _same_namespace({"the model's arrays": self._like, name: x}, owner)
        ctx = _Context(owner, {k: v for k, v in self.dims.items() if v is not None}, self.origin)
        Array(*self.shapes, finite=False, nonempty=False).check_shape(name, x, ctx)


# ---------------------------------------------------------------------- validate
class Validated:
    """The checked values, in the order declared (so ``a, b = validate(...)`` unpacks),
    with the arrays' namespace ``xp`` and the named dimensions ``dims``."""

    def __init__(self, values: list[Any], xp: Any, dims: dict[str, int]) -> None:
        self.values, self.xp, self.dims = values, xp, dims

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def __getitem__(self, i: int) -> Any:
        return self.values[i]

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"Validated({len(self.values)} values, dims={self.dims})"


def validate(owner: str | None, spec: Mapping[str, tuple[Any, Constraint]], *,
             dims: Mapping[str, Any] | None = None, origin: str | None = None,
             xp: Any = None) -> Validated:
    """Check every ``name: (value, constraint)`` of ``spec`` and return the checked values.

    The stages run across all arguments in turn, so the first message is about the most
    basic fault: the kinds of the values (numbers, arrays, options), then the arrays'
    namespace (one for all; ``xp``, when given, must agree), then shapes (named dimensions
    bound by the first array that has them, or beforehand by ``dims``, which come from
    ``origin``), then values (finiteness, symmetry, definiteness).

    Parameters
    ----------
    owner
        Who checks: a class or function name printed first in every message.
    spec
        Argument name to ``(value, constraint)``; names may carry a gloss, ``"T (temperature)"``.
    dims
        Sizes known beforehand (e.g. ``{"d": model.d}``).
    origin
        Where ``dims`` come from, for the message (default ``"the model"``).
    xp
        The namespace the arrays must belong to (e.g. the model's).

    Returns
    -------
    Validated
        Iterable over the checked values (numbers converted to ``float``/``int``), with
        ``.xp`` and ``.dims``.

    Raises
    ------
    TypeError, ValueError
        One line in the module's format.
    """
    ctx = _Context(owner, dims, origin)
    names = list(spec)
    values: list[Any] = [None] * len(names)
    arrays: dict[str, Any] = {}
    for i, name in enumerate(names):
        value, c = spec[name]
        inner = c.constraint if isinstance(c, Optional) else c
        if isinstance(inner, Array):
            if value is None and isinstance(c, Optional):
                continue
            inner.check_type(name, value, ctx)
            arrays[name] = value
            values[i] = value
        else:
            values[i] = c.check(name, value, ctx)
    if arrays:
        if xp is not None:
            import array_api_compat  # noqa: PLC0415

            combined = {"the model's arrays": xp.empty(0), **arrays}
            try:
                array_api_compat.array_namespace(*combined.values())
            except TypeError:
                _same_namespace(combined, owner)
            ctx.xp = xp
        else:
            ctx.xp = _same_namespace(arrays, owner)
        for name, value in arrays.items():
            c = spec[name][1]
            (c.constraint if isinstance(c, Optional) else c).check_shape(name, value, ctx)
        for name, value in arrays.items():
            c = spec[name][1]
            (c.constraint if isinstance(c, Optional) else c).check_values(name, value, ctx)
    return Validated(values, ctx.xp, ctx.dims)


def namespace_for(xp: Any = None, *arrays: Any, owner: str | None = None,
                  names: Sequence[str] | None = None) -> Any:
    """The array namespace for a call: the namespace of the arrays among ``arrays`` (which
    must agree with each other and with ``xp`` if given), else ``xp``, else NumPy's.

    Non-arrays (numbers, ``None``) among ``arrays`` are ignored.
    """
    named = {}
    for i, a in enumerate(arrays):
        if _is_array(a):
            named[names[i] if names else f"argument {i + 1}"] = a
    if named:
        found = _same_namespace(named, owner)
        if xp is not None:
            from numerics.backend import namespace_name  # noqa: PLC0415

            if namespace_name(xp) != namespace_name(found):
                kinds = ", ".join(f"{k} from {_origin_of(v)}" for k, v in named.items())
                head = f"{owner}: " if owner else ""
                raise TypeError(f"{head}arrays from different namespaces cannot be mixed: xp is "
                                f"{namespace_name(xp)}, {kinds}; convert them with one "
                                "backend's xp.asarray")
        return found
    if xp is not None:
        return xp
    from numerics.backend import default_namespace  # noqa: PLC0415

    return default_namespace()


# ------------------------------------------------- one-value checks (thin wrappers)
POSITIVE = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")


def check_positive(name: str, value: Any, *, allow_zero: bool = False,
                   owner: str | None = None) -> float:
    """``value`` as a float, or an error unless it is a finite positive (``allow_zero``:
    non-negative) real number."""
    return (NON_NEGATIVE if allow_zero else POSITIVE)(name, value, owner=owner)


def check_probability(name: str, value: Any, *, open_interval: bool = True,
                      owner: str | None = None) -> float:
    """``value`` in (0, 1) (or [0, 1] with ``open_interval=False``)."""
    return Interval(Real, 0, 1, closed="neither" if open_interval else "both")(
        name, value, owner=owner)


def check_int(name: str, value: Any, *, minimum: int = 0, owner: str | None = None) -> int:
    """``value`` as an int ≥ ``minimum``; ``TypeError`` for non-integers."""
    return Interval(Integral, minimum, None, closed="left")(name, value, owner=owner)


def check_batch(batch: Any, n: int, *, owner: str | None = None) -> int:
    """A batch size in [1, n]."""
    b = check_int("batch", batch, minimum=1, owner=owner)
    return Interval(Integral, 1, n, right_name="n")("batch", b, owner=owner)


def check_array(name: str, x: Any, *, owner: str | None = None) -> Any:
    """``x`` must be an array of an array-API namespace (not a list, a string or a number);
    returns its namespace."""
    return _namespace(name, x, owner)


def check_same_namespace(*, owner: str | None = None, **arrays: Any) -> Any:
    """All arrays from one namespace (NumPy and array_api_strict do not mix); returns it."""
    return _same_namespace(arrays, owner)


def check_ndim(name: str, x: Any, ndims: tuple[int, ...], *, owner: str | None = None) -> None:
    """``x.ndim`` must be one of ``ndims``."""
    _namespace(name, x, owner)
    if x.ndim not in ndims:
        want = " or ".join(str(k) for k in ndims)
        _fail(ValueError, name, f"have {want} dimension{'s' if tuple(ndims) != (1,) else ''}",
              f"got shape {tuple(x.shape)}", owner)


def check_finite(name: str, x: Any, xp: Any, *, owner: str | None = None) -> None:
    """``ValueError`` if ``x`` holds NaN or infinity (one device sync: boundaries only)."""
    _check_finite_array(name, x, xp, owner)


def check_symmetric(name: str, H: Any, xp: Any, *, rtol: float | None = None,
                    owner: str | None = None) -> tuple[float, float]:
    """``H`` must equal its transpose to ``rtol·max|H|`` (default ``100·d·eps``: rounding of
    a matrix formed in floating point). Returns the tolerance and ``max|H|``."""
    return _check_matrix(name, H, xp, "symmetric", owner, rtol)


def check_psd(name: str, H: Any, xp: Any, *, rtol: float | None = None,
              owner: str | None = None) -> None:
    """``H`` (..., d, d) must be symmetric positive semi-definite, to the rounding tolerance
    ``rtol·max|H|`` (``rtol = 100·d·eps``; eigh's backward error is O(d·eps·‖H‖))."""
    _check_matrix(name, H, xp, "psd", owner, rtol)
