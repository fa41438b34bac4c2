"""Markdown reports and figures for ``implreg verify --report`` and ``implreg figure``."""

from __future__ import annotations

import datetime as _dt
import platform
from pathlib import Path
from typing import Any

import theory
from verify.registry import get_check, get_figure

__all__ = ["write_report", "draw_figure", "power_figure"]


def power_figure(reports: list[Any], out: Path, *, before: dict[str, tuple[int, int]] | None = None) -> None:
    """Killed / total mutants per topic as horizontal bars (``implreg power --figure``).

    ``before`` (topic -> (killed, total)) draws an earlier measurement beside it.
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    topics: dict[str, list[int]] = {}
    for r in reports:
        k = topics.setdefault(r.topic, [0, 0])
        k[0] += r.killed
        k[1] += r.total
    names = [t for t in topics if topics[t][1]]
    frac = [topics[t][0] / topics[t][1] for t in names]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.8))
    y = list(range(len(names)))
    h = 0.38 if before else 0.6
    ax.barh([v - (h / 2 if before else 0) for v in y], frac, height=h, color="tab:green",
            label="now")
    if before:
        bf = [before.get(t, (0, 0)) for t in names]
        bfrac = [k / n if n else 0 for k, n in bf]
        ax.barh([v + h / 2 for v in y], bfrac, height=h, color="tab:gray", label="before")
        for v, (k, n), f in zip(y, bf, bfrac):
            ax.text(f + 0.01, v + h / 2, f"{k}/{n}" if n else "no run", va="center",
                    fontsize=8, color="dimgray")
    for v, t, f in zip(y, names, frac):
        ax.text(min(f, 1.0) + 0.01, v - (h / 2 if before else 0), f"{topics[t][0]}/{topics[t][1]}",
                va="center", fontsize=8)
    ax.axvline(0.95, color="tab:red", ls="--", lw=1, label="95 % target")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("fraction of non-equivalent mutants killed by the check")
    total_k = sum(v[0] for v in topics.values())
    total_n = sum(v[1] for v in topics.values())
    ax.set_title(f"implreg power: {total_k}/{total_n} mutants killed "
                 f"({total_k / total_n if total_n else float('nan'):.1%})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def draw_figure(id: str, xp: Any, out: Path, params: dict[str, Any] | None = None) -> bool:
    """Draw the figure of ``id`` (with the check's example parameters) into ``out``.

    Returns False if the result has no figure.
    """
    fn = get_figure(id)
    if fn is None:
        return False
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    if params is None:
        params = dict(get_check(id).example or {})
    from verify.runner import takes_result  # noqa: PLC0415

    fig = fn(params, xp, theory.get(id)) if takes_result(fn) else fn(params, xp)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return True


def _caption(fn: Any) -> str:
    """The first paragraph of a figure function's docstring, on one line (its caption)."""
    import re  # noqa: PLC0415

    doc = (getattr(fn, "__doc__", None) or "").strip()
    text = " ".join(doc.split("\n\n", 1)[0].split()) if doc else ""
    text = re.sub(r":math:`([^`]*)`", r"$\1$", text)           # reST roles to Markdown
    return re.sub(r":(?:func|class|data|meth|mod):`~?([^`]*)`", r"`\1`", text)


def _details(details: dict[str, Any]) -> list[str]:
    """A check's details: Markdown tables (strings starting with '|') under their key as a
    heading, scalars as list items; the bookkeeping keys of Outcome.all_of are left out."""
    items, tables = [], []
    for k, v in details.items():
        if k in ("comparisons", "failed"):
            continue
        if isinstance(v, str) and v.lstrip().startswith("|"):
            tables += ["", f"*{k.replace('_', ' ')}*", "", v.strip()]
        elif isinstance(v, (str, int, float, bool)):
            items.append(f"- {k.replace('_', ' ')}: {v:.6g}" if isinstance(v, float) else f"- {k.replace('_', ' ')}: {v}")
    return items + tables


def _versions() -> str:
    import numpy  # noqa: PLC0415
    import sympy  # noqa: PLC0415

    return f"Python {platform.python_version()}, NumPy {numpy.__version__}, SymPy {sympy.__version__}"


def seed_formula_lines(id: str) -> list[str]:
    """The seed's printed formulas for ``id`` (``theory.seed_formulas``) with the verdict of
    :func:`theory.compare` on each, as Markdown lines (none when none was transcribed)."""
    from theory.seed_formulas import for_result, symbols_for  # noqa: PLC0415

    lines: list[str] = []
    for f in for_result(id):
        try:
            v = theory.compare(id, f.latex, part=f.part, symbols=symbols_for(f))
            verdict = f"$ {v.latex()} $"
        except Exception as exc:  # noqa: BLE001 - a verdict must not sink the report
            verdict = f"not compared ({type(exc).__name__}: {exc})"
        lines.append(f"- seed {f.seed}, {f.where}{' (part ' + f.part + ')' if f.part else ''}: "
                     f"$ {f.latex} $ — {verdict}")
    return ["", "*The seed's printed formulas:*", "", *lines] if lines else []


def write_report(reports: list[Any], directory: Path, *, backend: str) -> Path:
    """Write ``report.md`` (and ``figures/*.png``) for a list of :class:`CheckReport`."""
    from numerics.backend import get_namespace  # noqa: PLC0415

    directory.mkdir(parents=True, exist_ok=True)
    figdir = directory / "figures"
    figdir.mkdir(exist_ok=True)
    xp = get_namespace(backend)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    passed = sum(r.passed for r in reports)
    lines = [
        "# implreg verification report",
        "",
        f"{now} · backend `{backend}` · {_versions()} · {passed}/{len(reports)} checks passed",
        "",
        "| id | result | predicted | rel | observed | tolerance | examples | seconds | certifies |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rel = {"close": "≈", "at_most": "≤", "at_least": "≥"}
    for r in reports:
        o = r.outcome
        cells = ["—"] * 4 if o is None else [f"{o.predicted:.4g}", rel.get(o.relation, o.relation),
                                            f"{o.observed:.4g}", f"{o.tolerance:.3g}"]
        lines.append(f"| [`{r.id}`](#{r.id.replace('.', '')}) | {'pass' if r.passed else '**FAIL**'} | "
                     + " | ".join(cells) + f" | {r.examples} | {r.seconds:.2f} | "
                     + (", ".join(r.certifies) or "—")
                     + (f" (not: {', '.join(r.uncertified)})" if r.uncertified else "") + " |")
    for r in reports:
        res = theory.get(r.id)
        lines += ["", f"## {r.id}", "", f"**{res.title}**", "", f"*Source:* {res.source}", "",
                  "$$", res.latex(), "$$"]
        if res.conditions:
            lines += ["", f"under $ {res.conditions_latex()} $"]
        if res.notes:
            lines += ["", f"*Notes.* {res.notes}"]
        lines += seed_formula_lines(r.id)
        lines += ["", "*Derivation:* " + ("stated; the evidence is the numeric check below." if res.stated
                                            else f"{len(res.derivation)} SymPy steps (`implreg derive {r.id} --steps`).")]
        o = r.outcome
        lines += ["", f"**Check: {'passed' if r.passed else 'FAILED'}** on `{r.backend}`, "
                      f"{r.examples} example(s), {r.seconds:.2f} s."]
        lines.append("- certifies (claims the check evaluated): " + (", ".join(r.certifies) or "none")
                     + (f"; **not evaluated**: {', '.join(r.uncertified)}" if r.uncertified else "")
                     + (f"; explanatory parts: {', '.join(res.explains)}" if res.explains else ""))
        if o is not None:
            lines += [f"- compared: {o.quantity or 'value'} ({o.relation_text})",
                      f"- predicted {o.predicted:.6g}, observed {o.observed:.6g}, tolerance {o.tolerance:.3g}",
                      f"- tolerance: {o.reason}"]
        if o is not None:
            lines += _details(o.details)
        if r.counterexample is not None:
            lines.append(f"- counterexample (shrunk by Hypothesis): `{r.counterexample}`")
        if r.error:
            lines.append(f"- error: `{r.error}`")
        png = figdir / f"{r.id}.png"
        try:
            if draw_figure(r.id, xp, png):
                lines += ["", f"![{r.id}](figures/{png.name})"]
                caption = _caption(get_figure(r.id))
                if caption:
                    lines += ["", f"*Figure.* {caption}"]
        except Exception as exc:  # a figure must not sink the report
            lines.append(f"- figure failed: `{type(exc).__name__}: {exc}`")
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
