"""Every claim of every result becomes array code: numeric() on NumPy and array_api_strict,
the printed NumPy source, and the mpmath reference agree; the stability rewrites keep digits;
constructs that cannot be printed raise one clear error.

Tolerance of the comparisons (where the number comes from): a float64 evaluation of f at x
carries an error of at most about ``c · u · S`` with ``u = 2⁻⁵³`` the unit roundoff and
``S = |f| + Σ_i |∂f/∂log x_i|`` the first-order sensitivity of f to relative perturbations of
its inputs (each input and each intermediate result is rounded once), times the condition
number ``κ(M)`` of each matrix a claim inverts. ``S`` is estimated by central differences of
the float64 function (relative step 1e-6), ``κ`` by ``numpy.linalg.cond``; the constant
``c = 256`` covers the number of rounded operations of the longest claim (a few dozen).
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

import theory
from numerics.backend import to_numpy
from theory._printing import (
    UnprintableError,
    compile_claim,
    identifier,
    lower,
    python_source,
    stabilize,
)

xs = pytest.importorskip("array_api_strict")

U = 2.0**-53
C_OPS = 256.0
BATCH = 2


@functools.lru_cache(maxsize=None)
def _result(rid: str) -> theory.Result:
    return theory.get(rid)


def _claims(rid: str) -> list[str | None]:
    return [None, *_result(rid).parts]


@functools.lru_cache(maxsize=None)
def _lowered(rid: str, part: str | None) -> object:
    r = _result(rid)
    return lower(r._get(part), r._where(part))


@functools.lru_cache(maxsize=None)
def _python_fn(rid: str, part: str | None) -> object:
    r = _result(rid)
    src = r.python(part)
    ns: dict = {}
    exec(compile(src, f"<{rid} {part}>", "exec"), ns)  # noqa: S102 (our printed code)
    fname = (rid + ("" if part is None else "." + part)).replace(".", "_")
    return ns[fname]


# ----------------------------------------------------------------------------- inputs
def _integer_symbols(low: object) -> set[str]:
    """Names that must be integers: Sum limits, matrix sizes, indices."""
    out: set[str] = set()
    for a in low.arguments:
        for d in a.shape:
            out |= {s.name for s in sp.sympify(d).free_symbols}
    for node in sp.preorder_traversal(low.expr):
        name = type(node).__name__
        if name in ("_Take", "_Range", "_Gather", "_Eye", "_Zeros"):
            for x in node.args[1:3] if name in ("_Take",) else node.args:
                if isinstance(x, sp.Basic):
                    out |= {s.name for s in x.free_symbols}
    return out


def _by_name(e: object, values: dict[str, int]) -> int:
    e = sp.sympify(e)
    return int(e.subs({s: values[s.name] for s in e.free_symbols}))


def _draw_scalars(r: theory.Result, ints: set[str], rng: np.random.Generator) -> dict:
    """One draw of every declared symbol satisfying the result's conditions."""
    for _ in range(400):
        vals: dict[str, float] = {}
        for s in r.symbols:
            if s.is_integer or identifier(s.name) in ints or s.name in ints:
                vals[s.name] = int(rng.integers(2, 5))
            elif s.is_positive or s.is_nonnegative:
                vals[s.name] = float(rng.uniform(0.3, 1.5))
            else:
                vals[s.name] = float(rng.uniform(-1.0, 1.0))
        for c in r.conditions:  # equalities (s = 1 or s = 1/m) are set, not drawn
            eq = c.args[0] if isinstance(c, sp.Or) else c
            if isinstance(eq, sp.Equality) and isinstance(eq.lhs, sp.Symbol):
                vals[eq.lhs.name] = eq.rhs.subs({s: vals[s.name] for s in r.symbols})
                vals[eq.lhs.name] = int(vals[eq.lhs.name]) if vals[eq.lhs.name].is_integer \
                    else float(vals[eq.lhs.name])
        subs = {s: vals[s.name] for s in r.symbols}
        if all(bool(c.subs(subs)) for c in r.conditions):
            return vals
    raise AssertionError(f"{r.id}: no random point satisfies {r.conditions}")


def _matrix(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    if rows == cols and rows > 1:  # square: symmetric positive definite, well conditioned
        q, _ = np.linalg.qr(rng.standard_normal((BATCH, rows, rows)))
        w = rng.uniform(0.5, 2.0, (BATCH, 1, rows))
        return (q * w) @ np.swapaxes(q, -1, -2)
    return rng.standard_normal((BATCH, rows, cols))


def _inputs(rid: str, part: str | None, seed: int) -> tuple[dict, list[dict]] | None:
    """Keyword arguments (batched over BATCH replicas) and, per replica, the scalar values
    of all symbols; None when no draw gives well-conditioned inverses."""
    r = _result(rid)
    low = _lowered(rid, part)
    ints = _integer_symbols(low)
    rng = np.random.default_rng(seed)
    for _ in range(50):
        draws = [_draw_scalars(r, ints, rng)]
        for _ in range(BATCH - 1):  # integers shared, reals redrawn
            d = _draw_scalars(r, ints, rng)
            draws.append({k: (draws[0][k] if isinstance(v, int) else v) for k, v in d.items()})
        if any(not all(r_c.subs({s: dr[s.name] for s in r.symbols})
                       for r_c in r.conditions) for dr in draws):
            continue
        by_id = {identifier(k): k for k in draws[0]}
        size = {identifier(k): v for k, v in draws[0].items() if isinstance(v, int)}
        kw: dict = {}
        for a in low.arguments:
            if a.kind == "scalar":
                raw = by_id.get(a.name, a.name)
                v = draws[0].get(raw)
                kw[a.name] = v if isinstance(v, int) else np.array([d[raw] for d in draws])
            elif a.kind == "matrix":
                rows, cols = (_by_name(x, size) for x in a.shape)
                kw[a.name] = _matrix(rng, rows, cols)
            elif a.kind == "function":
                kw[a.name] = lambda u, v: u * v + 0.5 * u
        # indexed families: as many entries as the Sums reach
        for node in sp.preorder_traversal(low.expr):
            if type(node).__name__ in ("_Take", "_Gather"):
                name = node.args[0].name
                last = node.args[2] if type(node).__name__ == "_Take" else node.args[1]
                n = _by_name(last, size)
                have = kw.get(name)
                if have is None or have.shape[-1] < n:
                    kw[name] = rng.uniform(0.3, 1.5, (BATCH, n))
        if _well_conditioned(rid, part, kw):
            return kw, draws
    return None


def _inverted(rid: str, part: str | None) -> list[object]:
    """The matrices a claim inverts, as lowered sub-trees."""
    low = _lowered(rid, part)
    out = []
    for node in sp.preorder_traversal(low.expr):
        name = type(node).__name__
        if name in ("_Solve", "_Inv"):
            out.append(node.args[0])
        elif name == "_SolveRight":
            out.append(node.args[1])
    return out


def _conditions(rid: str, part: str | None, kw: dict) -> float:
    """Σ κ(M) over the matrices the claim inverts, at these inputs (0 if none)."""
    from theory._printing import _positional, array_api_lambdify  # noqa: PLC0415

    low = _lowered(rid, part)
    total = 0.0
    for m in _inverted(rid, part):
        f = array_api_lambdify(_positional(low), m, np)
        shapes = [kw[a].shape[ax] for a, ax in low.shapes.values()]
        val = f(*[kw[a.name] for a in low.arguments], *shapes)
        total += float(np.max(np.linalg.cond(val)))
    return total


def _well_conditioned(rid: str, part: str | None, kw: dict) -> bool:
    try:
        return _conditions(rid, part, kw) < 1e6
    except np.linalg.LinAlgError:
        return False


# ----------------------------------------------------------------------------- comparing
def _flat(v: object) -> list[np.ndarray]:
    if isinstance(v, tuple):
        return [x for e in v for x in _flat(e)]
    return [np.asarray(to_numpy(v) if not isinstance(v, (bool, int, float, np.ndarray))
                       else v)]


def _sensitivity(f: object, kw: dict) -> np.ndarray:
    """|f| + Σ_i |∂f/∂log x_i| by central differences (per output entry)."""
    base = _flat(f(**kw))
    out = [np.abs(b.astype(float)) for b in base]
    h = 1e-6
    for name, v in kw.items():
        if callable(v) or isinstance(v, int) or np.asarray(v).dtype.kind != "f":
            continue
        up = _flat(f(**{**kw, name: v * (1 + h)}))
        dn = _flat(f(**{**kw, name: v * (1 - h)}))
        for i, (a, b) in enumerate(zip(up, dn)):
            if a.dtype.kind == "f":
                out[i] = out[i] + np.abs(a - b) / (2 * h)
    return out


def _close(a: list[np.ndarray], b: list[np.ndarray], scale: list[np.ndarray], what: str,
           kappa: float) -> None:
    assert len(a) == len(b), what
    for x, y, s in zip(a, b, scale):
        x, y = np.broadcast_arrays(x, y)
        if x.dtype == bool or y.dtype == bool:
            assert np.array_equal(x, y), what
            continue
        tol = C_OPS * U * (1.0 + kappa) * np.maximum(s, np.finfo(float).tiny)
        bad = ~((np.abs(x - y) <= tol) | (np.isnan(x) & np.isnan(y)) | (x == y)
                 | (np.isinf(x) & np.isinf(y)))
        assert not bad.any(), f"{what}: {x[bad]} vs {y[bad]} (tolerance {tol[bad]})"


def _reference(rid: str, part: str | None, kw: dict, draws: list[dict], i: int) -> object:
    """mpmath value (30 digits) of replica i, from Result.evalf."""
    r = _result(rid)
    low = _lowered(rid, part)
    subs: dict = {}
    for a in low.arguments:
        v = kw[a.name]
        if a.kind == "scalar":
            subs[a.name] = v if isinstance(v, int) else float(v[i])
        elif a.kind == "indexed":
            subs[a.name] = [float(x) for x in v[i]]
        elif a.kind == "matrix":
            subs[a.name] = v[i].tolist()
    # hidden sizes (symbols only in shapes) take their values from the arrays
    for s, (a, ax) in low.shapes.items():
        if any(k.name == s for k in r.symbols):
            subs[s] = int(kw[a].shape[ax])
    return r.evalf(subs, part=part, check_conditions=False)  # the same generic inputs


def _as_float(v: object) -> list[np.ndarray]:
    """mpmath values as float64 arrays (a complex or undefined value becomes nan)."""
    if isinstance(v, tuple):
        return [x for e in v for x in _as_float(e)]
    if isinstance(v, (sp.MatrixBase, sp.ImmutableMatrix)):
        return [np.array([[complex(x).real if complex(x).imag == 0 else np.nan for x in row]
                          for row in v.tolist()], dtype=float)]
    if v in (sp.true, sp.false):
        return [np.array(bool(v))]
    if v in (sp.zoo, sp.oo, -sp.oo):  # a pole (B = n in 1/(n − B)): infinite either way
        return [np.array(np.inf)]
    try:
        return [np.array(float(v))]
    except TypeError:
        return [np.array(np.nan)]


ALL_IDS = theory.ids()
SKIP_REFERENCE = {
    # the claim holds an undefined function (a callable argument): no mpmath value
    ("two_layer.population_gradient", None),
}


@pytest.mark.parametrize("rid", ALL_IDS)
def test_every_claim_builds_runs_and_agrees(rid: str) -> None:
    r = _result(rid)
    for part in _claims(rid):
        what = f"{rid}[{part or 'statement'}]"
        # generic random inputs (not symmetric, not inside the conditions, sizes perturbed
        # by _sensitivity): the printers must agree everywhere, so the screens are off
        f_np = r.numeric(np, part=part, check_conditions=False)
        f_xs = r.numeric(xs, part=part, check_conditions=False)
        got = _inputs(rid, part, seed=len(rid) + len(part or ""))
        assert got is not None, f"{what}: no well-conditioned inputs"
        kw, draws = got
        kappa = _conditions(rid, part, kw)
        v_np = _flat(f_np(**kw))
        scale = _sensitivity(f_np, kw)
        v_xs = _flat(f_xs(**{k: (xs.asarray(v) if isinstance(v, np.ndarray) else v)
                             for k, v in kw.items()}))
        _close(v_np, v_xs, scale, f"{what} numpy vs array_api_strict", kappa)
        py = _python_fn(rid, part)(**kw)
        _close(v_np, _flat(py), scale, f"{what} numeric vs printed python", kappa)
        if (rid, part) in SKIP_REFERENCE or "function" in f_np.kinds.values():
            continue  # a callable argument has no mpmath value
        for i in range(BATCH):  # one replica, unbatched, against mpmath
            kw_i = {k: (v[i] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
            mine = _flat(f_np(**kw_i))
            obj = r._get(part)
            if isinstance(obj, sp.MatrixBase) and not obj.free_symbols:  # a table: its entries
                ref = [np.array([[float(str(x)) if x.is_Float else float(x) for x in row]
                                 for row in obj.tolist()])]
            else:
                ref = _as_float(_reference(rid, part, kw, draws, i))
            _close(mine, ref, _sensitivity(f_np, kw_i), f"{what} numeric vs mpmath ({i})",
                   kappa)


# ----------------------------------------------------------------------------- conventions
def test_matrix_arguments_are_batched_last_two_axes() -> None:
    f = _result("linear.gd_limit").numeric(np)
    assert f.arguments == ("A", "x_0", "y") and f.kinds["A"] == "matrix"
    rng = np.random.default_rng(0)
    A, x0, y = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 3, 1)), \
        rng.standard_normal((4, 2, 1))
    x = f(A=A, x_0=x0, y=y)
    assert x.shape == (4, 3, 1)
    np.testing.assert_allclose(A @ x, y, atol=1e-13)  # interpolates
    np.testing.assert_allclose(x - x0, np.linalg.pinv(A) @ (y - A @ x0), atol=1e-13)
    with pytest.raises(ValueError, match=r"argument y has shape \(4, 3, 1\); axis -2"):
        f(A=A, x_0=x0, y=x0)
    with pytest.raises(ValueError, match="at least 2 axes"):
        f(A=A, x_0=x0, y=np.ones(2))


def test_latex_names_become_identifiers_and_are_accepted_as_aliases() -> None:
    assert identifier(r"\hat{x}") == "x_hat" and identifier(r"\bar{x}") == "x_bar"
    assert identifier("a^{*}") == "a_star" and identifier(r"x_\infty") == "x_infty"
    assert identifier(r"\lambda") == "lambda_" and identifier(r"\mathbf{1}") == "one"
    assert identifier(r"K(B, B^{*})") == "K_B_B_star" and identifier("b'") == "b_prime"
    f = _result("linear.random_features_double_descent").numeric(np)
    assert f.arguments == ("Psi", "y")
    psi, y = np.eye(2, 3)[None], np.ones((1, 2, 1))
    np.testing.assert_allclose(f(**{"\\Psi": psi, "y": y}), f(Psi=psi, y=y))


def test_sum_over_indexed_family_checks_the_axis_length() -> None:
    f = _result("label_noise.regularizer").numeric(np)
    assert f.arguments == ("eta", "p", "lam")
    lam = np.array([0.5, 1.0, 1.5])
    want = sum(-math.log1p(-0.1 * v / 2) / (2 * 0.1) for v in lam)
    np.testing.assert_allclose(f(eta=0.1, p=3, lam=lam), want, rtol=1e-15)
    with pytest.raises(ValueError, match="length 3; the Sum runs over entries 1..4"):
        f(eta=0.1, p=4, lam=lam)


def test_tuple_and_callable_arguments(xp) -> None:
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    k = sp.Function(r"\nabla_{1}k")
    r = theory.Result(id="two_layer.toy_tuple", title="", source="",
                      statement=sp.Tuple(sp.Eq(y, k(x, 2 * x) + 1), x**2 > y), symbols=(x, y))
    f = r.numeric(xp)
    assert f.arguments == ("x", "y", "nabla_1_k") and f.kinds["nabla_1_k"] == "function"
    first, second = f(x=xp.asarray([1.0, 2.0]), y=3.0, nabla_1_k=lambda u, v: u * v)
    assert to_numpy(first).tolist() == [3.0, 9.0] and to_numpy(second).tolist() == [False, True]
    with pytest.raises(TypeError, match="nabla_1_k must be a callable"):
        f(x=1.0, y=1.0, nabla_1_k=1.0)
    ns: dict = {}
    exec(r.python(), ns)  # noqa: S102
    assert ns["two_layer_toy_tuple"](1.0, 0.5, lambda u, v: u + v)[0] == 4.0


def test_explicit_matrix_is_an_array(xp) -> None:
    f = _result("data.sharpness_vs_lr").numeric(xp, part="seed_table")
    table = to_numpy(f())
    assert table.shape == (5, 6) and np.isnan(table[4, 4]) and table[0, 1] == 53.5


# ----------------------------------------------------------------------------- printed code
def test_printed_strings_are_pinned() -> None:
    src = _result("linear.gd_limit").python()
    assert "def linear_gd_limit(A, x_0, y):" in src
    assert "    x0 = np.matrix_transpose(A)\n" \
           "    return x_0 + (x0 @ np.linalg.solve((A @ x0), y - (A @ x_0)))\n" in src
    assert "\\" not in src.split('"""')[2]  # no LaTeX outside the docstring
    src = _result("label_noise.regularizer").python()
    assert "np.log1p(" in src and "def label_noise_regularizer(eta, p, lam):" in src


def test_derive_python_prints_one_runnable_module() -> None:
    from verify.cli import main

    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["derive", "stability.sgd_threshold", "--python"]) == 0
    ns: dict = {}
    exec(buf.getvalue(), ns)  # noqa: S102
    assert buf.getvalue().count("import numpy as np") == 1
    for name in ("stability_sgd_threshold", "stability_sgd_threshold_batch_factor",
                 "stability_sgd_threshold_eta_max_1d"):
        assert callable(ns[name])
    np.testing.assert_allclose(ns["stability_sgd_threshold_batch_factor"](B=2, n=5), 3 / 8)


# ----------------------------------------------------------------------------- stability
def _mp(expr: sp.Basic, x: sp.Symbol, v: float) -> float:
    with mpmath.workdps(50):
        return float(sp.N(expr.subs(x, sp.Float(v, 50)), 50))


@pytest.mark.parametrize(
    ("naive", "point", "fn"),
    [
        ("log(1 - x/2)", 1e-12, "log1p"),
        ("1 - exp(-x)", 1e-13, "expm1"),
        ("(1 - exp(-3*x))**2/x", 1e-9, "expm1"),
        ("log(1 + exp(x))", 800.0, "_softplus"),
        ("log(1 + exp(x))", -40.0, "_softplus"),
        ("log(x + sqrt(x**2 + 1))", -1e6, "asinh"),
        ("log(x + sqrt(x**2 + 4))", -1e5, "asinh"),
    ],
)
def test_stability_rewrites_keep_the_digits(naive: str, point: float, fn: str) -> None:
    x = sp.Symbol("x", real=True)
    expr = sp.sympify(naive, locals={"x": x})
    stable = stabilize(expr)
    assert fn in python_source(stable, "test", "f") or fn.lstrip("_") in str(stable)
    ref = _mp(expr, x, point)
    got = float(compile_claim(expr, np, "test")(x=point))
    with np.errstate(all="ignore"):
        naive_val = float(sp.lambdify([x], expr, "numpy")(np.float64(point)))
    assert abs(got - ref) <= 4 * U * abs(ref), (got, ref)
    # the naive form loses (most of) the digits here: the rewrite is what keeps them
    assert not abs(naive_val - ref) <= 1e3 * U * abs(ref)


def test_acos_of_a_ratio_becomes_atan2() -> None:
    u, v = sp.symbols("u v", positive=True)
    expr = sp.acos(u / v)
    assert "atan2" in python_source(expr, "test", "f")
    vv, uu = 1.0, 1.0 - 1e-13
    ref = float(sp.N(sp.acos(sp.Float(uu, 50) / sp.Float(vv, 50)), 50))
    got = float(compile_claim(expr, np, "test")(u=uu, v=vv))
    assert abs(got - ref) <= 8 * U * ref
    # asin likewise, and the angle stays real when rounding puts u/v above 1
    got = compile_claim(sp.acos(u / v), np, "test")(u=1.0 + 1e-16, v=1.0)
    assert float(got) == 0.0


def test_special_functions_match_mpmath(xp) -> None:
    from theory import _special

    m = np.array([0.0, 1e-8, 0.1, 0.5, 0.9, 0.999, 1 - 1e-10, 1.0])
    k = to_numpy(_special.elliptic_k(xp, xp.asarray(m)))
    e = to_numpy(_special.elliptic_e(xp, xp.asarray(m)))
    for i, mi in enumerate(m):
        kr = float(mpmath.ellipk(mi)) if mi < 1 else math.inf
        er = float(mpmath.ellipe(mi))
        assert (k[i] == kr) if mi == 1 else abs(k[i] - kr) <= 8 * U * kr
        # E = K (1 − Σ 2^{n−1} c_n²) cancels by a factor ≈ K/E
        assert abs(e[i] - er) <= 16 * U * max(er, k[i] if mi < 1 else 1.0)
    x = np.array([-2.5, -0.5, 0.1, 0.5, 1.0, 2.5, 7.0, 10.0, 30.5, 171.0])
    g = to_numpy(_special.gamma(xp, xp.asarray(x)))
    lg = to_numpy(_special.loggamma(xp, xp.asarray(x)))
    for i, xi in enumerate(x):
        gr = float(mpmath.gamma(xi))
        assert abs(g[i] - gr) <= 1e-13 * abs(gr), (xi, g[i], gr)
        lr = float(mpmath.log(abs(mpmath.gamma(xi))))
        assert abs(lg[i] - lr) <= 1e-14 * max(1.0, abs(lr)), (xi, lg[i], lr)
    assert to_numpy(_special.gamma(xp, xp.asarray([5.0, 21.0]))).tolist() == \
        [24.0, float(math.factorial(20))]  # integers are exact products


def test_factorial_binomial_and_loggamma_print() -> None:
    n, k = sp.symbols("n k", positive=True, integer=True)
    f = compile_claim(sp.binomial(n, k) + sp.factorial(n) + sp.loggamma(n), np, "test")
    np.testing.assert_allclose(f(n=6, k=2), 15 + 720 + math.lgamma(6), rtol=1e-14)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda x, j, a: sp.Integral(x**2, (x, 0, 1)) + x, "Integral"),
        (lambda x, j, a: sp.Sum(sp.Sum(a[j] * a[x], (x, 1, 3)), (j, 1, 3)), "several indices"),
        (lambda x, j, a: sp.Sum(a[j] * sp.Sum(a[x], (x, 1, j)), (j, 1, 3)), "nested Sum"),
        (lambda x, j, a: sp.Sum(a[j], (j, 1, sp.oo)), "infinite Sum"),
        (lambda x, j, a: sp.zeta(x), "zeta has no array-API equivalent"),
        (lambda x, j, a: sp.Piecewise((x, x > 2)), "Piecewise without an otherwise branch"),
        (lambda x, j, a: sp.Sum(a[2 * j], (j, 1, 3)), r"the index must be j \+ an integer"),
    ],
)
def test_unprintable_constructs_raise_one_clear_error(make: object, match: str) -> None:
    x = sp.Symbol("x", positive=True, integer=True)
    j = sp.Symbol("j", integer=True)
    a = sp.IndexedBase("a")
    r = theory.Result(id="linear.toy_unprintable", title="", source="", statement=make(x, j, a),
                      symbols=(x,))
    with pytest.raises(UnprintableError, match=match) as info:
        r.numeric(np)
    assert "linear.toy_unprintable" in str(info.value)


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("rid", ALL_IDS)
def test_text_printers_show_plain_names(rid: str) -> None:
    """str, repr, the derivation steps (``implreg derive --format steps``) and sstr show
    no LaTeX source: symbols whose notation is LaTeX have identifier names and print their
    LaTeX only in latex()."""
    r = _result(rid)
    texts = {"str": str(r), "repr": repr(r), "sstr": sp.sstr(r.statement)}
    texts.update({f"step {i}": sp.pretty(s.expr, use_unicode=True)
                  for i, s in enumerate(r.derivation, 1)})
    for what, text in texts.items():
        assert "\\" not in text, f"{rid} {what}: {text}"


# The LaTeX these results printed when their symbols were named by the LaTeX itself, and
# the numeric() keywords (the identifiers of those names) that checks call them with.
_NOTATION = [
    ("linear.gd_limit", None, r"x_{\infty} = ", ("A", "x_0", "y")),
    ("linear.scaled_gd_limit", None, r"\hat{x} = ", ("A", "H", "b", "x_0")),
    ("linear.sgd_limit", None, r"\bar{x} = ", ("A", "H", "b", "x_0")),
    ("linear.random_features_double_descent", None,
     r"\hat{a} = \Psi^{T} \left(\Psi \Psi^{T}\right)^{-1} y", ("Psi", "y")),
    ("linear.generalization_error", None, r"{a^{*}}_{j}",
     ("b_star_sq", "epsilon", "n", "r", "t", "a_star", "sigma")),
    ("classification.max_margin", None,
     r"\theta_{k} = \log{\left(k \right)} \hat{\theta} + \tilde{w} + r_{k}",
     ("k", "r_k", "theta_hat", "w_tilde")),
    ("classification.max_margin", "svm",
     r"\hat{\theta} = \arg\min\{\|\theta\|^2 : Z\theta \ge \mathbf{1}\}",
     ("arg_min_norm_theta_2_Z_theta_ge_1",)),
    ("stability.sgd_threshold", None, r"\mathbb{E}[\|x_{t+1}\|^2 \mid x_t] = ",
     ("B", "eta", "n", "H", "Sigma", "x_t")),
]


@pytest.mark.parametrize(("rid", "part", "tex", "keywords"), _NOTATION)
def test_latex_keeps_the_notation_and_numeric_its_keywords(rid: str, part: str | None,
                                                            tex: str, keywords: tuple) -> None:
    r = _result(rid)
    assert tex in r.latex(part)
    assert r.numeric(part=part).arguments == keywords
    src = r.python(part)
    assert f"({', '.join(keywords)}):" in src


def test_plain_text_of_the_reported_name() -> None:
    from theory._symbols import plain_text

    # the name `implreg derive stability.sgd_threshold` showed as \mathbb{E}[\|x_{t+1}\|_t]__2
    r = _result("stability.sgd_threshold")
    assert "E[‖x_t+1‖^2 | x_t]" in str(r)
    assert plain_text(r"\hat{\theta}") == "θ" and plain_text("a^{*}") == "a*"
