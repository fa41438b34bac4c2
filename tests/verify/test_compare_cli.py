"""``implreg compare``: a verdict on stdout (exit 0 when the formula agrees, 1 when it does
not), and bad input — unknown ids, parts, symbols, bad or oversized LaTeX, a malformed
``--map`` — as one line on stderr with exit 2 before any work (the numeric decision is
replaced by one that fails the test)."""

from __future__ import annotations

import shlex

import pytest

from theory import _compare
from verify.cli import main

MAX = _compare.MAX_CHARS

# (argv, the line after "implreg: error: ")
ROWS: list[tuple[str, str]] = [
    ("compare", "the following arguments are required: id, latex "
                "(see `implreg compare --help`)"),
    ("compare kernels.arccos1_gausian x",
     "unknown result id 'kernels.arccos1_gausian'; did you mean kernels.arccos1_gaussian, "
     "kernels.arccos2_gaussian, kernels.arccos0_gaussian? (`implreg list` shows every id)"),
    ("compare stability.gd_threshold '2/\\eta' --part threshhold",
     "part must be one of statement, threshold, mode_factor, mode_iterate for "
     "stability.gd_threshold; got 'threshhold'; did you mean 'threshold'?"),
    ("compare stability.gd_threshold '2/\\etta' --part threshold",
     "unsupported LaTeX command \\etta at column 3 of '2/\\etta' (normalized); did you mean "
     "\\eta?"),
    ("compare stability.gd_threshold '2/\\lambda_{k}' --part threshold",
     "unknown symbol '\\lambda_k' (closest known: \\lambda_j, lambda_j, \\lambda_\\max) for "
     "stability.gd_threshold; known: \\eta, \\lambda_\\max, \\lambda_j, c_0, c_{j,0}, eta, k, "
     "lambda_j, lambda_max (map one with symbols={'NAME': 'SYMBOL'} / --map 'NAME=SYMBOL')"),
    ("compare stability.gd_threshold '\\frac{2}{\\eta' --part threshold",
     "unclosed '{' at column 9 of '\\frac{2}{\\eta' (normalized)"),
    ("compare stability.gd_threshold '2 = = 3' --part threshold",
     "cannot parse the LaTeX '2 = = 3' at column 3 of '2==3' (normalized): No terminal "
     "matches '=' in the current parser context"),
    ("compare stability.gd_threshold '2 & 3' --part threshold",
     "unsupported character '&' at column 2 of '2&3' (normalized)"),
    ("compare stability.gd_threshold 'x' --map h",
     "argument --map: expected NAME=SYMBOL (e.g. 'h=\\lambda_j'); got 'h' "
     "(see `implreg compare --help`)"),
    (f"compare stability.gd_threshold '{'x+' * MAX}'",
     f"the LaTeX is {2 * MAX} characters long; at most {MAX} are read"),
]


@pytest.fixture
def no_work(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the numeric decision ran on bad input")

    monkeypatch.setattr(_compare, "_Decider", fail)


@pytest.mark.parametrize(("argv", "line"), ROWS, ids=[r[0][:60] for r in ROWS])
def test_bad_input_is_one_line_and_exit_2(argv, line, capsys, no_work):
    assert main(shlex.split(argv)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"implreg: error: {line}\n"


def test_agreeing_formula_exits_0(capsys):
    assert main(["compare", "stability.gd_threshold", r"\frac{2}{\lambda_{\max}}",
                 "--part", "threshold"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("<Verdict stability.gd_threshold[threshold]: agrees with the "
                          "derived form>") and err == ""


def test_wrong_formula_names_the_correction_and_exits_1(capsys):
    argv = ["compare", "label_noise.regularizer", r"\frac{1}{2n} \log(1 - \frac{\eta}{2} h)",
            "--part", "eigen_term", "--map", r"h=\lambda_j", "--free", "n"]
    assert main(argv) == 1
    out, _ = capsys.readouterr()
    assert "agrees up to a factor -n/eta: the derived form is -log(-eta*lambda_j/2 + 1)/(2*eta)" \
        in out
    assert r"\text{agrees up to a factor }- \frac{n}{\eta}" in out


def test_report_lists_the_seeds_printed_formulas_with_their_verdicts():
    from verify.report import seed_formula_lines

    lines = seed_formula_lines("kernels.arccos1_gaussian")
    assert lines[:3] == ["", "*The seed's printed formulas:*", ""]
    assert lines[3].startswith(
        r"- seed 000, eq. (15): $ \|\mathbf{b}\| \|\mathbf{b}'\| (\sin \theta + (\pi - \theta) "
        r"\cos \theta) $ — $ \text{agrees up to a factor }\frac{1}{2 \pi}\text{: the derived "
        r"form is }")
    assert seed_formula_lines("linear.gd_limit") == []
