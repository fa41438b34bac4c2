"""Section 4: the symbolic layer and the CLI, timed in fresh interpreters (cold) and in
this one (warm). Times are compared with their budgets (a ratio ≤ 1 meets it)."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from benchmarks._util import Row, best_time

SECTION = "4 symbolic"


def _python(code: str) -> float:
    """Run ``code`` in a fresh interpreter; it prints one float (seconds), returned."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _wall(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    return time.perf_counter() - t


def bench_symbolic(*, skip_verify: bool, repeat: int = 3, build_all: bool = True) -> list[Row]:
    rows: list[Row] = []
    t_import = min(_python("import time; t = time.perf_counter(); import theory; "
                           "print(time.perf_counter() - t)") for _ in range(repeat))
    t_start = min(_wall(["-c", "pass"]) for _ in range(repeat))
    rows.append(Row(SECTION, "cold `import theory` ÷ 0.5 s budget", t_import / 0.5,
                    target="< 1", ok=t_import < 0.5,
                    detail=f"{t_import * 1e3:.0f} ms (interpreter start {t_start * 1e3:.0f} ms)"))
    import theory  # noqa: PLC0415

    if build_all:
        t_cold = _python("import time; t = time.perf_counter(); import theory\n"
                         "for i in theory.ids(): theory.get(i)\n"
                         "print(time.perf_counter() - t)")
        entries = theory.entries()
        t_warm = best_time(lambda: [e.builder() for e in entries], repeat=1)
        rows.append(Row(SECTION, f"build all {len(entries)} results: cold ÷ warm",
                        t_cold / t_warm, target="(informational)",
                        detail=f"cold {t_cold:.2f} s (SymPy import included), warm {t_warm:.2f} s",
                        raw={"cold": t_cold, "warm": t_warm}))
    else:
        rows.append(Row(SECTION, "build all results: cold ÷ warm", None,
                        detail="skipped in this configuration"))
    t_list = min(_wall(["-m", "verify", "list"]) for _ in range(repeat))
    rows.append(Row(SECTION, "`implreg list` ÷ 1 s budget", t_list / 1.0, target="< 1",
                    ok=t_list < 1.0, detail=f"{t_list:.2f} s wall"))
    if skip_verify:
        rows.append(Row(SECTION, "`implreg verify` ÷ 60 s budget", None,
                        detail="skipped (--skip-verify)"))
    else:
        t_verify = _wall(["-m", "verify", "verify", "--json"])
        rows.append(Row(SECTION, "`implreg verify` (all, NumPy) ÷ 60 s budget", t_verify / 60.0,
                        target="< 1", ok=t_verify < 60.0, detail=f"{t_verify:.1f} s wall"))
    # A lambdified closed form against the same formula written by hand.
    f = theory.get("linear.gradient_flow").numeric(np)
    rng = np.random.default_rng(0)
    N = 10**6
    z, s, a0 = rng.standard_normal(N), rng.uniform(0.5, 2.0, N), rng.standard_normal(N)
    n, t = 50.0, 3.0

    def by_hand() -> np.ndarray:
        e = np.exp(-t * s * s / n)
        return z / s * (1.0 - e) + a0 * e

    got = f(a_0=a0, z_j=z, sigma_j=s, n=n, t=t)
    agree = np.allclose(got, by_hand(), rtol=1e-12, atol=1e-12)
    tl = best_time(lambda: f(a_0=a0, z_j=z, sigma_j=s, n=n, t=t), repeat=5)
    th = best_time(by_hand, repeat=5)
    rows.append(Row(SECTION, "lambdified linear.gradient_flow ÷ by hand (10⁶ points)", tl / th,
                    target="≤ 1.5", ok=(tl / th <= 1.5) and agree,
                    detail=f"{tl * 1e3:.1f} ms vs {th * 1e3:.1f} ms; values agree: {agree}"))
    rows.append(compiled_model_row(R=10**3 if build_all else 100, n=1000))
    return rows


def compiled_model_row(*, R: int, n: int, repeat: int = 5) -> Row:
    """The gradient of the compiled ``models.diagonal2`` (a :class:`theory.Model` through
    ``Result.numeric``) against the hand-written array-API gradient of the same net,
    :class:`numerics.diagonal.DiagonalNet` (d = 2, L = (1/2n)‖Z(u² − v²) − y‖²), on R
    replicas and n samples: time ratio, target ≤ 2 (issue: a compiled model's gradient costs
    no more than 2× a hand-written one), and agreement to rounding."""
    from numerics.diagonal import DiagonalNet  # noqa: PLC0415
    from theory.models import worked  # noqa: PLC0415
    from verify.models import CompiledModel  # noqa: PLC0415

    rng = np.random.default_rng(0)
    Z = rng.choice([-1.0, 1.0], size=(n, 2))
    y = rng.standard_normal(n)
    hand = DiagonalNet(Z, y)
    comp = CompiledModel.from_model(worked("diagonal2"), {"x1": Z[:, 0], "x2": Z[:, 1], "y": y}, xp=np)
    # DiagonalNet's x is (u, v) = (u1, u2, v1, v2), the compiled model's params are
    # (u1, u2, v1, v2) too
    x = rng.standard_normal((R, 4))
    g_hand, g_comp = hand.grad(x), comp.grad(x)
    err = float(np.abs(g_hand - g_comp).max() / max(1.0, float(np.abs(g_hand).max())))
    agree = err < 1e-12  # two orderings of n = 1000 sums: ~n·ε
    tc = best_time(lambda: comp.grad(x), repeat=repeat)
    th = best_time(lambda: hand.grad(x), repeat=repeat)
    return Row(SECTION, f"compiled models.diagonal2 gradient ÷ numerics.diagonal (R={R}, n={n})",
               tc / th, target="≤ 2", ok=(tc / th <= 2) and agree,
               detail=f"{tc * 1e3:.2f} ms vs {th * 1e3:.2f} ms; max rel. difference {err:.1e}")
