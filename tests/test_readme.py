"""The README's Python examples run as printed (each block that says it is tested here)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(marker: str) -> list[str]:
    """The ```python blocks that follow a paragraph naming ``marker``."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
        before = text[:m.start()].rstrip().rsplit("\n\n", 1)[-1]
        if marker in before:
            out.append(m.group(1))
    return out


def test_model_example_runs_and_its_checks_pass() -> None:
    from verify.plugins import isolated

    (code,) = [b for b in _blocks("tests/test_readme.py") if "theory.Model(" in b]
    buf = io.StringIO()
    with isolated(), contextlib.redirect_stdout(buf):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 (our own README, not input)
    lines = buf.getvalue().splitlines()
    # W = I, v = (1, 1), x = e₁, e₂: ∇f₁ = (1, 0, 1, 0, 1, 0), ∇f₂ = (0, 1, 0, 1, 0, 1) are
    # orthogonal of norm² 3, so ∇²L = ½Σ∇fᵢ∇fᵢᵀ has λ_max = 3/2 (GD: 2/λ = 4/3) and SGD with
    # B = 1 steps by reflections at η = 2/3 (2/‖∇fᵢ‖², tests/theory/test_models.py).
    assert lines == ["Eq(eta_GD, 4/3) Eq(eta_SGD, 2/3)", "True"]
