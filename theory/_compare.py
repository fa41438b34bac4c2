r"""Check a formula as printed in a paper against a Result's derived claim.

:func:`compare` takes a candidate formula — a SymPy expression, or LaTeX as printed — and
says whether it agrees with the derived form of a Result (its statement's right-hand side,
or a named part); when it does not, it names the simplest correction, in words and LaTeX::

    >>> import theory
    >>> v = theory.compare("kernels.arccos1_gaussian",
    ...                    r"\|b\| \|b'\| (\sin \theta + (\pi - \theta) \cos \theta)")
    >>> v.kind, v.correction
    ('constant factor', 1/(2*pi))

How the decision is made
------------------------
1. *Symbols.* Every symbol of the LaTeX is matched to one of the Result's symbols by its
   LaTeX name (``\lambda_j``, ``a_j(0)``, ``\|b\|``, compared after dropping font commands,
   ``\left``/``\right`` and braces around one-character subscripts), by its name
   (``\eta`` → ``eta``), or by the explicit map ``symbols={"h": "lambda_j"}``, whose keys
   are LaTeX fragments of the candidate and whose values are a Result symbol (name or LaTeX
   name), LaTeX in the Result's symbols, or a SymPy expression; a SymPy symbol that is not
   the Result's declares a symbol of the candidate's own. ``\pi`` is π and ``e`` is Euler's
   number unless the Result has a symbol of that name. An unknown symbol is an error that
   lists the closest known ones (:mod:`difflib`).
2. *Equivalence.* The difference simplifies to zero under the symbols' SymPy assumptions
   (symbolic decision), or else it is evaluated at :data:`POINTS` random points inside the
   assumptions (positive, integer, ...) and the Result's ``conditions`` that can be checked
   at a point, with exact rational inputs and mpmath at :data:`DIGITS` significant digits;
   the two agree when every relative difference is below :data:`RTOL` (the evaluation's own
   error is below 10^-(DIGITS-1) relative, so the margin is nine orders of magnitude; a
   non-zero analytic difference vanishes at a random point with probability zero).
3. *Diagnosis,* simplest first: a constant factor (the ratio derived/candidate is a number;
   −1 is a sign), a factor of symbols (the ratio is a monomial such as ``−n/η``), a missing
   or an extra additive term (the difference is one term of the derived or the candidate
   form), one term off by a factor, an exponent off by one, one symbol written for another
   (an index off by one when their LaTeX names differ so), a swapped pair of symbols. Each
   correction is confirmed by the same equivalence test before it is reported.

LaTeX is parsed by SymPy's ``parse_latex`` with its Lark grammar after a tokenizer of this
module has replaced every symbol by a placeholder: no ``eval``/``sympify`` of the text, a
whitelist of LaTeX commands, at most :data:`MAX_CHARS` characters, no numeric towers, and a
parse error is one line naming the position.

Not compared: matrix-valued claims, integrals, limits and derivatives. Sums and products
need limits of one symbol or number (``\sum_{i=1}^{n}``); a summand ends at the next
``+``, ``-`` or relation of its bracket level, and a sum that SymPy can do is done (a summand
free of its index is multiplied by the count).
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["DIGITS", "MAX_CHARS", "POINTS", "RTOL", "FormulaError", "Verdict", "compare",
           "parse_formula"]

MAX_CHARS = 2000
"""Longest LaTeX input accepted (characters)."""
DIGITS = 30
"""Significant digits of the mpmath evaluation in the numeric decision."""
RTOL = sp.Rational(1, 10**20)
"""Relative difference below which two values count as equal (30-digit evaluation)."""
POINTS = 8
"""Random points of the numeric decision."""


class FormulaError(ValueError):
    """A candidate formula that cannot be read: bad LaTeX, an unknown symbol, too long."""


# ----------------------------------------------------------------------------- LaTeX
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "varrho", "sigma",
    "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell", "infty",
}
_DECORATIONS = {"hat", "bar", "tilde", "widehat", "widetilde", "overline", "vec", "dot",
                "ddot", "mathrm", "mathcal", "mathbb", "mathit", "mathsf", "operatorname",
                "text", "mathfrak"}
_FUNCTIONS = {"frac", "sqrt", "log", "exp", "sin", "cos", "tan", "sinh", "cosh", "tanh",
              "arcsin", "arccos", "arctan", "min", "max", "sum", "prod", "cdot", "times",
              "leq", "geq", "lt", "gt", "neq"}
_RENAME = {"dfrac": "frac", "tfrac": "frac", "ln": "log", "le": "leq", "ge": "geq",
           "leqslant": "leq", "geqslant": "geq", "ne": "neq", "epsilon": "varepsilon"}
_FONT = r"\\(?:mathbf|boldsymbol|bm|mathbold)\s*"


def _normalize(text: str) -> str:
    r"""A canonical spelling: no ``\left``/``\right``, sizes or spacing commands, no bold
    fonts, ``_{k}`` → ``_k``, ``^{*}`` → ``^*``, ``\epsilon`` → ``\varepsilon``, spaces
    only where a command meets a letter."""
    t = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])\s*", "", text)
    t = re.sub(r"\\[,;:! ]", " ", t)
    t = re.sub(r"\\(?:displaystyle|textstyle)(?![A-Za-z])", " ", t)
    t = re.sub(_FONT + r"\{([^{}]*)\}", r"\1", t)
    t = re.sub(_FONT + r"(\\?[A-Za-z])", r"\1", t)
    for old, new in _RENAME.items():
        t = re.sub(r"\\" + old + r"(?![A-Za-z])", lambda m, new=new: "\\" + new, t)
    t = re.sub(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])", lambda m: m.group(1) + "\x00", t)  # keep `\cos x` apart
    t = re.sub(r"\s+", "", t).replace("\x00", " ")
    t = re.sub(r"([_^])\{(\\?[A-Za-z0-9*]|\\[A-Za-z]+)\}", r"\1\2", t)
    return t


def _group_end(t: str, i: int) -> int:
    """Index just past the balanced ``{...}`` that starts at ``t[i] == '{'``."""
    depth = 0
    for j in range(i, len(t)):
        if t[j] == "{":
            depth += 1
        elif t[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    raise FormulaError(f"unbalanced '{{' at column {i + 1} of {_excerpt(t, i)}")


def _excerpt(t: str, i: int) -> str:
    lo, hi = max(0, i - 12), min(len(t), i + 12)
    return f"'{'…' if lo else ''}{t[lo:hi]}{'…' if hi < len(t) else ''}' (normalized)"


def _power_of_function(t: str) -> str:
    r"""``\log^2(x)`` → ``(\log(x))^{2}`` (the Lark grammar has no powers of functions)."""
    pat = re.compile(r"\\(log|sin|cos|tan|sinh|cosh|tanh)\^(\{[^{}]*\}|[0-9])")
    while (m := pat.search(t)) is not None:
        j = m.end()
        if j >= len(t) or t[j] not in "({":
            raise FormulaError(f"a power of \\{m.group(1)} needs a parenthesized argument at "
                               f"position {m.start()} of {_excerpt(t, m.start())}")
        close = {"(": ")", "{": "}"}[t[j]]
        depth, k = 0, j
        for k in range(j, len(t)):
            if t[k] == t[j]:
                depth += 1
            elif t[k] == close:
                depth -= 1
                if depth == 0:
                    break
        else:
            raise FormulaError(f"unbalanced '{t[j]}' at column {j + 1} of {_excerpt(t, j)}")
        exp = m.group(2).strip("{}")
        t = t[:m.start()] + f"(\\{m.group(1)}({t[j + 1:k]}))^{{{exp}}}" + t[k + 1:]
    return t


@dataclass
class _Atom:
    text: str          # normalized LaTeX of the symbol
    frag: int | None = None
    bound: bool = False   # the index of a sum or product


def _read_atom(t: str, i: int) -> tuple[str, int]:
    """The symbol starting at ``t[i]``: a base, a subscript, ``^*`` and primes."""
    if t.startswith("\\|", i):
        j = t.find("\\|", i + 2)
        if j < 0:
            raise FormulaError(f"unclosed norm '\\|' at column {i + 1} of {_excerpt(t, i)}")
        j += 2
    elif t[i] == "\\":
        m = re.match(r"\\([A-Za-z]+)", t[i:])
        assert m is not None
        name, j = m.group(1), i + m.end()
        if name in _DECORATIONS:
            if j < len(t) and t[j] == "{":
                j = _group_end(t, j)
            elif j < len(t):
                m2 = re.match(r"\\[A-Za-z]+|[A-Za-z]", t[j:])
                j += m2.end() if m2 else 0
    else:
        j = i + 1
    sub = star = False
    while j < len(t):
        if t[j] == "_" and not sub and j + 1 < len(t):
            sub = True
            if t[j + 1] == "{":
                j = _group_end(t, j + 1)
            elif t[j + 1] == "\\":
                m = re.match(r"\\[A-Za-z]+", t[j + 1:])
                j += 1 + (m.end() if m else 1)
            else:
                j += 2
        elif t.startswith("^*", j) and not star:
            star, j = True, j + 2
        elif t[j] == "'":
            j += 1
        else:
            break
    return t[i:j], j


def _canonical_atom(text: str) -> str:
    """``a^*_j`` and ``a_j^*`` are one symbol: the star goes after the subscript."""
    if "^*" in text and not text.startswith("\\|"):
        text = text.replace("^*", "", 1)
        m = re.match(r"(.*?)('*)$", text)
        assert m is not None
        text = m.group(1) + "^*" + m.group(2)
    return text


def _placeholder(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    if n >= 26 * 26:
        raise FormulaError(f"a formula may use at most {26 * 26} symbols; got more")
    return "Z_{" + letters[n // 26] + letters[n % 26] + "}"


class _Out(list):
    """The tokenized text, remembering for each piece the input column it came from."""

    def __init__(self) -> None:
        super().__init__()
        self.src: list[tuple[int, int]] = []   # (offset in the output, index in the input)
        self.at = 0
        self.length = 0

    def append(self, text: str) -> None:  # type: ignore[override]
        self.src.append((self.length, self.at))
        self.length += len(text)
        super().append(text)

    def input_index(self, column: int) -> int:
        """The input index of the output's 1-based ``column``."""
        best = 0
        for off, idx in self.src:
            if off <= column - 1:
                best = idx
        return best


def _tokenize(t: str) -> tuple[str, list[_Atom]]:
    out, atoms = _tokenize_out(t)
    return "".join(out), atoms


def _tokenize_out(t: str) -> tuple[_Out, list[_Atom]]:
    """The Lark-ready text (every symbol a placeholder, every product an explicit
    ``\\cdot``, every exponent and bare function argument braced), and the atoms.

    The Lark grammar reads juxtaposition and bare arguments inconsistently (``\\sin x + y``,
    ``2^{2} y``), so nothing is left to it: the text it gets has one reading."""
    out = _Out()
    atoms: list[_Atom] = []
    index: dict[str, int] = {}
    prev = "op"        # kind of the previous token: atom, close, num, op
    wrap: list[str] = []   # closers owed after the next operand: ")" (bare argument), "}"
    abs_depth = 0
    parens: list[str] = []
    braces: list[int] = []
    sums: list[int] = []   # the bracket depth at which each open sum's summand ends
    i = 0

    def depth() -> int:
        return len(parens) + len(braces) + abs_depth

    def close_sums() -> None:
        nonlocal prev
        while sums and sums[-1] == depth():
            sums.pop()
            out.append("))")
            prev = "close"

    def placeholder_of(text: str) -> str:
        key = _canonical_atom(text)
        if key not in index:
            index[key] = len(atoms)
            atoms.append(_Atom(key))
        return _placeholder(index[key])

    def operand(text: str) -> None:
        nonlocal prev
        if prev in ("atom", "close", "num"):
            out.append("\\cdot ")
        out.append(text)
        while wrap:
            out.append(wrap.pop())
        prev = "atom"

    def add_atom(text: str, frag: int | None = None) -> None:
        key = f"\x01{frag}" if frag is not None else _canonical_atom(text)
        if key not in index:
            index[key] = len(atoms)
            atoms.append(_Atom(_canonical_atom(text), frag))
        operand(_placeholder(index[key]))

    def opening(text: str) -> None:
        """A token that starts an operand but is not complete: `(`, `\\frac`, `\\sqrt`."""
        nonlocal prev
        if prev in ("atom", "close", "num"):
            out.append("\\cdot ")
        out.append(text)
        prev = "op"

    while i < len(t):
        c = t[i]
        out.at = i
        m_frag = re.match(r"\\zzfrag\{(\d+)\}", t[i:])
        if m_frag:
            add_atom("", int(m_frag.group(1)))
            i += m_frag.end()
            continue
        if c == "\\" and t.startswith("\\|", i):
            text, i = _read_atom(t, i)
            add_atom(text)
            continue
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+)", t[i:])
            if m is None:
                raise FormulaError(f"unsupported LaTeX '{t[i:i + 2]}' at column {i + 1} of "
                                   f"{_excerpt(t, i)}")
            name, j = m.group(1), i + m.end()
            if name in ("sum", "prod"):
                lim = re.match(r"_\{([A-Za-z])=(\d+|[A-Za-z])\}\^(\d|[A-Za-z]|\{(\d+|[A-Za-z])\})",
                               t[j:])
                if lim is None:
                    raise FormulaError(f"\\{name} at column {i + 1} needs limits written "
                                       f"_{{i=1}}^{{n}} (one symbol or number each); got "
                                       f"{_excerpt(t, i)}")
                var, lo, hi = lim.group(1), lim.group(2), lim.group(4) or lim.group(3)
                bound = placeholder_of(var)
                atoms[index[var]].bound = True
                ends = [x if x.isdigit() else placeholder_of(x) for x in (lo, hi)]
                opening(f"(\\{name}_{{{bound}={ends[0]}}}^{{{ends[1]}}}(")
                sums.append(depth())
                i = j + lim.end()
                continue
            if name in ("cdot", "times"):
                out.append("\\cdot ")
                prev, i = "op", j
                continue
            if name in ("leq", "geq", "lt", "gt", "neq"):
                out.append({"leq": "\\leq ", "geq": "\\geq ", "lt": "<", "gt": ">",
                            "neq": "\\neq "}[name])
                prev, i = "op", j
                continue
            if name in ("frac", "sqrt"):
                opening("\\" + name)
                i = j
                continue
            if name in _FUNCTIONS:  # log, exp, sin, ..., min, max: braced whole
                opening("(\\" + name)
                i = j
                if i < len(t) and t[i] == " ":
                    i += 1
                if i < len(t) and t[i] in "([":
                    out.append("(")
                    parens.append("fn")
                    i += 1
                else:
                    out.append("(")
                    wrap.append("))")
                continue
            if name in _GREEK or name in _DECORATIONS:
                text, i = _read_atom(t, i)
                add_atom(text)
                continue
            close = difflib.get_close_matches(name, sorted(_GREEK | _DECORATIONS | _FUNCTIONS),
                                              n=1, cutoff=0.75)
            hint = f"; did you mean \\{close[0]}?" if close else ""
            raise FormulaError(f"unsupported LaTeX command \\{name} at column {i + 1} of "
                               f"{_excerpt(t, i)}{hint}")
        if c.isalpha():
            text, i = _read_atom(t, i)
            add_atom(text)
            continue
        if c.isdigit() or c == ".":
            single = bool(wrap) and wrap[-1] == "}"
            m = re.match(r"\d" if single else r"\d*\.?\d+|\d+\.", t[i:])
            if m is None:
                raise FormulaError(f"a stray '.' at column {i + 1} of {_excerpt(t, i)}")
            if len(m.group(0)) > 30:
                raise FormulaError(f"a number of more than 30 digits at column {i + 1} of "
                                   f"{_excerpt(t, i)}")
            operand(m.group(0))
            prev = "num"
            i += m.end()
            continue
        if c in "([":
            opening("(")
            parens.append("plain")
            i += 1
            continue
        if c in ")]}" or (c == "|" and abs_depth > 0 and prev in ("atom", "close", "num")) or \
                c in "=<>," or (c in "+-" and prev in ("atom", "close", "num")) or \
                t.startswith(("\\leq", "\\geq", "\\neq", "\\lt", "\\gt"), i):
            close_sums()  # a summand ends where its sum's bracket level ends
        if c in ")]":
            if not parens:
                raise FormulaError(f"unbalanced '{c}' at column {i + 1} of {_excerpt(t, i)}")
            out.append("))" if parens.pop() == "fn" else ")")
            prev = "close"
            i += 1
            continue
        if c == "{":
            out.append("{")
            braces.append(i)
            prev = "op"
            i += 1
            continue
        if c == "}":
            if not braces:
                raise FormulaError(f"unbalanced '}}' at column {i + 1} of {_excerpt(t, i)}")
            braces.pop()
            out.append("}")
            prev = "close"
            i += 1
            continue
        if c == "^":
            out.append("^")
            i += 1
            if i < len(t) and t[i] != "{":
                out.append("{")
                wrap.append("}")
                prev = "op"
            else:
                prev = "op"
            continue
        if c == "|":
            if abs_depth > 0 and prev in ("atom", "close", "num"):
                out.append("|")
                abs_depth -= 1
                prev = "close"
            else:
                opening("|")
                abs_depth += 1
            i += 1
            continue
        if c in "+-/=<>,":
            out.append(c)
            prev = "op"
            i += 1
            continue
        if c == " ":
            i += 1
            continue
        raise FormulaError(f"unsupported character {c!r} at column {i + 1} of {_excerpt(t, i)}")
    if wrap:
        raise FormulaError(f"the formula ends where an operand is expected: {_excerpt(t, len(t))}")
    while sums:
        sums.pop()
        out.append("))")
    if braces:
        raise FormulaError(f"unclosed '{{' at column {braces[-1] + 1} of {_excerpt(t, braces[-1])}")
    if parens:
        raise FormulaError(f"unbalanced '(': {len(parens)} not closed in {_excerpt(t, len(t))}")
    return out, atoms


def _plain(latex: str) -> str:
    r"""The identifier a LaTeX atom spells (``\lambda_{\max}`` → ``lambda_max``)."""
    return re.sub(r"[\\{}\s]", "", latex).replace("^*", "_star").replace("'", "p")


def _drop_ambiguity(obj: Any) -> sp.Basic:
    """Lark returns ``_ambig`` trees where the grammar allows two readings. Readings that
    are the same expression are one; different readings are an error, never a guess."""
    if type(obj).__name__ == "Tree" and getattr(obj, "data", None) == "_ambig":
        readings = [_drop_ambiguity(c) for c in obj.children]
        first = readings[0]
        for other in readings[1:]:
            if other != first and sp.simplify(other - first) != 0:
                raise FormulaError(f"the LaTeX reads two ways, {sp.sstr(first)} or "
                                   f"{sp.sstr(other)}; add parentheses or braces")
        return first
    if not isinstance(obj, sp.Basic):
        raise FormulaError(f"could not read the formula (parser returned {type(obj).__name__})")
    return obj


def _check_towers(t: str) -> None:
    m = re.search(r"\d\^(?:\{[^{}]*\^|\{?\d{4,})", t)
    if m:
        raise FormulaError(f"a numeric power too large to evaluate at column {m.start() + 1} of "
                           f"{_excerpt(t, m.start())}")
    if "!" in t:
        i = t.index("!")
        raise FormulaError(f"factorials are not supported, at column {i + 1} of {_excerpt(t, i)}")


def _lark(out: _Out, normalized: str, original: str) -> sp.Basic:
    text = "".join(out)
    from sympy.parsing.latex import parse_latex  # noqa: PLC0415

    try:
        import lark  # noqa: F401, PLC0415
    except ImportError:  # pragma: no cover - lark is a declared dependency
        raise FormulaError("reading LaTeX needs the lark package: pip install lark") from None
    try:
        return _drop_ambiguity(parse_latex(text, backend="lark"))
    except FormulaError:
        raise
    except Exception as exc:  # lark's UnexpectedInput and the transformer's errors
        col = getattr(exc, "column", None)
        if isinstance(col, int) and col > 0:
            k = out.input_index(col)
            where = f" at column {k + 1} of {_excerpt(normalized, k)}"
        else:
            where = " (it ends early)"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = re.sub(r",? at line \d+ col \d+.*$", "", first.split(". Expected one of")[0])
        first = first.rstrip(":. ")
        raise FormulaError(f"cannot parse the LaTeX '{original}'{where}: {first}") from None


class _Context:
    """The Result's symbols by name and by LaTeX name, and the explicit map."""

    def __init__(self, result: Any, symbols: Mapping[str, Any] | None) -> None:
        self.result = result
        self.by_name = {s.name: s for s in result.symbols}
        self.by_latex: dict[str, sp.Symbol] = {}
        for s in result.symbols:
            form = getattr(s, "_latex_form", None)
            if form is not None:
                self.by_latex[_canonical_atom(_normalize(form))] = s
        self.map: dict[str, Any] = {}
        self.free: list[sp.Symbol] = []
        for key, value in (symbols or {}).items():
            if not isinstance(key, str) or not key.strip():
                raise TypeError(f"symbols keys must be LaTeX strings; got {key!r}")
            self.map[_canonical_atom(_normalize(key))] = value

    def known(self) -> list[str]:
        return sorted(set(self.by_name) | set(self.by_latex))

    def resolve_value(self, key: str, value: Any) -> sp.Basic:
        if isinstance(value, sp.Symbol) and value not in self.result.symbols:
            if value.name in self.by_name:
                return self.by_name[value.name]
            self.free.append(value)
            return value
        if isinstance(value, sp.Basic):
            return value
        if not isinstance(value, str):
            raise TypeError(f"symbols[{key!r}] must be a Result symbol's name, LaTeX or a "
                            f"SymPy expression; got {value!r}")
        if value in self.by_name:
            return self.by_name[value]
        return _parse(value, self, allow_map=False)

    def resolve_atom(self, text: str) -> sp.Basic | None:
        if text in self.map:
            return self.resolve_value(text, self.map[text])
        if text in self.by_latex:
            return self.by_latex[text]
        plain = _plain(text)
        if plain in self.by_name:
            return self.by_name[plain]
        if text == "\\pi":
            return sp.pi
        if text == "e":
            return sp.E
        if text == "\\infty":
            return sp.oo
        return None


def _parse(latex: str, ctx: _Context, *, allow_map: bool = True) -> sp.Basic:
    if not isinstance(latex, str):
        raise TypeError(f"expr must be a SymPy expression or a LaTeX string; got {latex!r}")
    if len(latex) > MAX_CHARS:
        raise FormulaError(f"the LaTeX is {len(latex)} characters long; at most {MAX_CHARS} "
                           f"are read")
    if not latex.strip():
        raise FormulaError("the LaTeX formula is empty")
    t = _power_of_function(_normalize(latex))
    _check_towers(t)
    # Multi-token names (a_j(0), \|b\|, \lambda_{\max}(D^{-1}H), the map's fragments) are
    # replaced whole, longest first; one-token names are matched atom by atom.
    frags: list[tuple[str, Any]] = []
    if allow_map:
        frags += [(k, ("map", k)) for k in ctx.map]
    frags += [(k, ("sym", s)) for k, s in ctx.by_latex.items()]
    table: list[Any] = []
    for key, what in sorted(frags, key=lambda kv: -len(kv[0])):
        try:
            out, atoms = _tokenize(key)
            single = len(atoms) == 1 and out.strip() == _placeholder(0)
        except FormulaError:
            single = False
        if single or key not in t:
            continue
        t = t.replace(key, f"\\zzfrag{{{len(table)}}}")
        table.append(what)
    out, atoms = _tokenize_out(t)
    subs: dict[sp.Symbol, sp.Basic] = {}
    unknown: list[str] = []
    for n, atom in enumerate(atoms):
        ph = sp.Symbol(_placeholder(n))
        if atom.frag is not None:
            kind, obj = table[atom.frag]
            subs[ph] = ctx.resolve_value(obj, ctx.map[obj]) if kind == "map" else obj
            continue
        value = sp.Dummy(_plain(atom.text), integer=True) if atom.bound else \
            ctx.resolve_atom(atom.text)
        if value is None:
            unknown.append(atom.text)
        else:
            subs[ph] = value
    if unknown:
        known = ctx.known()
        parts = []
        for u in unknown:
            close = difflib.get_close_matches(u, known, n=3, cutoff=0.3) or \
                difflib.get_close_matches(_plain(u), known, n=3, cutoff=0.3)
            parts.append(f"'{u}' (closest known: {', '.join(close)})" if close else f"'{u}'")
        raise FormulaError(
            f"unknown symbol{'s' if len(unknown) > 1 else ''} {'; '.join(parts)} for "
            f"{ctx.result.id}; known: {', '.join(known[:12])}{' …' if len(known) > 12 else ''}"
            f" (map one with symbols={{'NAME': 'SYMBOL'}} / --map 'NAME=SYMBOL')")
    expr = _lark(out, t, latex)
    expr = expr.xreplace({p: v for p, v in subs.items()})
    # a sum whose summand does not depend on its index is n times the summand, and so on
    expr = expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), lambda e: e.doit())
    # decimals as printed are exact: 0.1 is 1/10
    return expr.xreplace({f: sp.Rational(str(f)) for f in expr.atoms(sp.Float)})


def parse_formula(latex: str, result: Any, *, symbols: Mapping[str, Any] | None = None
                  ) -> sp.Basic:
    r"""Read ``latex`` in the symbols of ``result`` (a :class:`~theory.Result` or an id).

    Examples
    --------
    >>> import theory
    >>> parse_formula(r"\frac{2}{\eta}", "stability.gd_threshold")
    2/eta
    """
    from theory._registry import get  # noqa: PLC0415

    r = get(result) if isinstance(result, str) else result
    return _parse(latex, _Context(r, symbols))


# ----------------------------------------------------------------------------- decision
def _claim(result: Any, part: str | None) -> tuple[sp.Basic, sp.Basic | None, type | None]:
    """The derived expression, its left-hand side and its relation class."""
    if part is None or part == "statement":
        obj, name = result.statement, "statement"
    else:
        if part not in result.parts:
            close = difflib.get_close_matches(part, list(result.parts), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"part must be one of {', '.join(['statement', *result.parts])} "
                             f"for {result.id}; got {part!r}{hint}")
        obj, name = result.parts[part], part
    lhs, rel = None, None
    if isinstance(obj, sp.core.relational.Relational):
        lhs, rel, obj = obj.lhs, type(obj), obj.rhs
    if not isinstance(obj, sp.Expr) or isinstance(obj, sp.MatrixBase) or \
            obj.has(sp.MatrixSymbol) or getattr(obj, "is_Matrix", False) or \
            isinstance(obj, sp.MatrixExpr):
        scalar = [p for p, v in result.parts.items() if _is_scalar(v)]
        raise ValueError(f"{result.id}'s {name} is not a scalar expression, which compare "
                         f"needs; scalar parts: {', '.join(scalar) or 'none'}")
    return obj, lhs, rel


def _is_scalar(obj: Any) -> bool:
    if isinstance(obj, sp.core.relational.Relational):
        obj = obj.rhs
    return isinstance(obj, sp.Expr) and not isinstance(obj, sp.MatrixExpr) and \
        not obj.has(sp.MatrixSymbol)


@dataclass
class _Sampler:
    """Random rational points inside the symbols' assumptions and the checkable conditions."""

    symbols: list[sp.Symbol]
    conditions: tuple[sp.Basic, ...]
    rng: random.Random = field(default_factory=lambda: random.Random(20260101))
    unchecked: set[str] = field(default_factory=set)

    def _value(self, s: sp.Symbol) -> sp.Rational:
        r = self.rng
        if s.is_integer:  # 1..7 when non-negative (0 makes 1 − b^k and the like vanish)
            return sp.Integer(r.randint(1 if s.is_nonnegative else -6, 7))
        # (0, 3): small enough that bounds such as b < 1 or θ ≤ π hold often
        v = sp.Rational(r.randint(1, 299), r.choice([100, 97]))
        if s.is_nonnegative or s.is_positive:
            return v
        if s.is_nonpositive or s.is_negative:
            return -v
        return v if r.random() < 0.5 else -v

    def points(self, n: int, exprs: list[sp.Basic]) -> list[dict[sp.Symbol, sp.Rational]]:
        out: list[dict[sp.Symbol, sp.Rational]] = []
        tries = 0
        while len(out) < n and tries < 400:
            tries += 1
            p = {s: self._value(s) for s in self.symbols}
            if not self._inside(p):
                continue
            vals = [_evaluate(e, p) for e in exprs]
            if any(v is None for v in vals):
                continue
            out.append(p)
        if len(out) < n:
            raise ValueError("could not draw points inside the assumptions and conditions "
                             f"where the formulas are finite ({len(out)} of {n} after {tries} "
                             "tries)")
        return out

    def _inside(self, p: dict[sp.Symbol, sp.Rational]) -> bool:
        for c in self.conditions:
            try:
                v = c.xreplace(p) if isinstance(c, sp.Basic) else c
                v = sp.simplify(v) if not isinstance(v, sp.logic.boolalg.BooleanAtom) else v
            except Exception:  # noqa: BLE001 - a condition SymPy cannot evaluate is skipped
                self.unchecked.add(sp.sstr(c))
                continue
            if v is sp.false:
                return False
            if v is not sp.true:
                self.unchecked.add(sp.sstr(c))
        return True


def _evaluate(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Basic]) -> sp.Number | None:
    """``expr`` at ``point`` with mpmath at DIGITS digits, or None if not finite."""
    try:
        v = sp.N(expr.xreplace(dict(point)), DIGITS)
    except Exception:  # noqa: BLE001 - zoo, nan and the like count as "not here"
        return None
    if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or v.free_symbols:
        return None
    re_, im = v.as_real_imag()
    if not (re_.is_number and im.is_number):
        return None
    return v


def _close(a: sp.Basic, b: sp.Basic) -> tuple[bool, sp.Basic]:
    """Relative difference below RTOL. The values carry DIGITS significant digits (evalf
    refines its precision until they do), so the test is relative even for tiny values; the
    floor 10^-40 only absorbs the residue of an exact cancellation to zero."""
    d = abs(sp.N(a - b, DIGITS))
    scale = max(abs(a), abs(b), sp.Rational(1, 10**40))
    rel = d / scale
    return bool(rel <= RTOL), rel


class _Decider:
    def __init__(self, derived: sp.Basic, candidate: sp.Basic, sampler: _Sampler) -> None:
        self.derived = derived
        self.points = sampler.points(POINTS, [derived, candidate])
        self.values = [_evaluate(derived, p) for p in self.points]
        self.max_rel: sp.Basic = sp.Integer(0)

    def equal(self, expr: sp.Basic) -> bool:
        worst = sp.Integer(0)
        for p, dv in zip(self.points, self.values):
            v = _evaluate(expr, p)
            if v is None:
                return False
            ok, rel = _close(v, dv)
            if not ok:
                return False
            worst = max(worst, rel)
        self.max_rel = worst
        return True


def _symbolic_zero(diff: sp.Basic) -> bool:
    if diff == 0 or sp.expand(diff) == 0:
        return True
    if sp.count_ops(diff) > 150:
        return False
    try:
        return sp.simplify(diff) == 0
    except Exception:  # noqa: BLE001
        return False


# ----------------------------------------------------------------------------- verdict
@dataclass(frozen=True, eq=False)
class Verdict:
    r"""Whether a candidate formula agrees with a Result's derived claim, and if not, the
    simplest correction found.

    Parameters
    ----------
    id
        The Result compared with.
    part
        The claim compared (``None``: the statement).
    candidate
        The candidate as read.
    derived
        The derived expression (a right-hand side).
    agrees
        True when the two are equivalent.
    kind
        ``"agrees"``, ``"constant factor"``, ``"sign"``, ``"factor"``, ``"missing term"``,
        ``"extra term"``, ``"term factor"``, ``"exponent off by one"``,
        ``"index off by one"``, ``"wrong symbol"``, ``"swapped symbols"``,
        ``"left-hand side"``, ``"relation"`` or ``"no simple correction"``.
    correction
        The factor, the term, or the pair involved (SymPy objects), or None.
    words
        The verdict in one sentence.
    latex_words
        The same sentence as LaTeX (text and math).
    method
        ``"symbolic"`` (the difference simplified to 0) or ``"numeric"``.
    bound
        How the decision was made, with its error bound, in words.
    """

    id: str
    part: str | None
    candidate: sp.Basic
    derived: sp.Basic
    agrees: bool
    kind: str
    correction: Any
    words: str
    latex_words: str
    method: str
    bound: str

    def __repr__(self) -> str:
        where = self.id + (f"[{self.part}]" if self.part else "")
        return (f"<Verdict {where}: {self.words}>\n  candidate: {sp.sstr(self.candidate)}\n"
                f"  derived:   {sp.sstr(self.derived)}\n  decided:   {self.bound}")

    def latex(self) -> str:
        """The verdict as LaTeX (text mode words, math for the formulas)."""
        return self.latex_words

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex_words}$"


def _words(kind: str, corr: Any, derived: sp.Basic) -> tuple[str, str]:
    d_txt, d_tex = sp.sstr(derived), sp.latex(derived)
    tail = f": the derived form is {d_txt}"
    tex_tail = r"\text{: the derived form is }" + d_tex

    def t(s: str) -> str:
        return r"\text{" + s + "}"

    if kind == "agrees":
        return "agrees with the derived form", t("agrees with the derived form ") + d_tex
    if kind in ("constant factor", "factor"):
        return (f"agrees up to a factor {sp.sstr(corr)}{tail}",
                t("agrees up to a factor ") + sp.latex(corr) + tex_tail)
    if kind == "sign":
        return f"agrees up to the sign{tail}", t("agrees up to the sign") + tex_tail
    if kind == "missing term":
        return (f"misses the term {sp.sstr(corr)}{tail}",
                t("misses the term ") + sp.latex(corr) + tex_tail)
    if kind == "extra term":
        return (f"has the extra term {sp.sstr(corr)}{tail}",
                t("has the extra term ") + sp.latex(corr) + tex_tail)
    if kind == "term factor":
        old, new, ratio = corr
        return (f"agrees except the term {sp.sstr(old)}, which should be {sp.sstr(new)} "
                f"(a factor {sp.sstr(ratio)}){tail}",
                t("agrees except the term ") + sp.latex(old) + t(", which should be ")
                + sp.latex(new) + t(" (a factor ") + sp.latex(ratio) + t(")") + tex_tail)
    if kind == "exponent off by one":
        old, new = corr
        return (f"has an exponent off by one: {sp.sstr(old)} should be {sp.sstr(new)}{tail}",
                t("has an exponent off by one: ") + sp.latex(old) + t(" should be ")
                + sp.latex(new) + tex_tail)
    if kind in ("index off by one", "wrong symbol"):
        old, new = corr
        what = "an index off by one" if kind == "index off by one" else "one symbol for another"
        return (f"has {what}: {sp.sstr(old)} should be {sp.sstr(new)}{tail}",
                t(f"has {what}: ") + sp.latex(old) + t(" should be ") + sp.latex(new)
                + tex_tail)
    if kind == "swapped symbols":
        a, b = corr
        return (f"agrees with {sp.sstr(a)} and {sp.sstr(b)} swapped{tail}",
                t("agrees with ") + sp.latex(a) + t(" and ") + sp.latex(b) + t(" swapped")
                + tex_tail)
    if kind == "left-hand side":
        return (f"has the right right-hand side but the left-hand side {sp.sstr(corr[0])} where "
                f"the derivation has {sp.sstr(corr[1])}",
                t("has the left-hand side ") + sp.latex(corr[0]) + t(" where the derivation has ")
                + sp.latex(corr[1]))
    if kind == "relation":
        return (f"states a different relation ({corr[0]} where the derivation has {corr[1]})",
                t(f"states a different relation ({corr[0]} where the derivation has {corr[1]})"))
    extra = ""
    tex_extra = ""
    if corr is not None:
        extra = f"; derived/candidate = {sp.sstr(corr)}"
        tex_extra = r"\text{; derived/candidate } = " + sp.latex(corr)
    return (f"does not agree and no single simple correction was found{extra}{tail}",
            t("does not agree and no single simple correction was found") + tex_extra + tex_tail)


def _is_monomial(r: sp.Basic) -> bool:
    if r.is_number:
        return True
    for base, exp in r.as_powers_dict().items():
        if not (base.is_Symbol or base.is_number) or not exp.is_Rational:
            return False
    return True


def _simple_ratio(derived: sp.Basic, cand: sp.Basic) -> sp.Basic | None:
    try:
        r = sp.simplify(sp.powsimp(sp.cancel(derived / cand)))
    except Exception:  # noqa: BLE001
        return None
    return r


def _terms(e: sp.Basic) -> list[sp.Basic]:
    """The additive terms of ``e`` as written and expanded; a power keeps its exponent
    (``(1 − u)^{k+1}`` is not split into ``(1 − u)^k − u(1 − u)^k``: an exponent off by one
    is the simpler correction there)."""
    out = list(sp.Add.make_args(e))
    if len(out) == 1 or sp.count_ops(e) < 60:
        for x in sp.Add.make_args(sp.expand(e, power_exp=False)):
            if x not in out:
                out.append(x)
    return out


def _pows(e: sp.Basic) -> Iterator[sp.Pow]:
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Pow) and node.exp not in (sp.Rational(1, 2), -sp.Rational(1, 2)):
            yield node


def _index_shift(a: sp.Symbol, b: sp.Symbol) -> bool:
    la, lb = sp.latex(a), sp.latex(b)
    for x, y in ((la, lb), (lb, la)):
        m = re.search(r"([A-Za-z])([-+]1)", x)
        if m and x.replace(m.group(0), m.group(1)) == y:
            return True
        if m and x.replace(m.group(0), m.group(1)).replace("{" + m.group(1) + "}",
                                                           m.group(1)) == y.replace(
                "{" + m.group(1) + "}", m.group(1)):
            return True
    return False


def _diagnose(cand: sp.Basic, derived: sp.Basic, dec: _Decider, symbols: list[sp.Symbol]
              ) -> tuple[str, Any]:
    # 1-2: the ratio is a number (a sign) or a monomial
    ratio = _simple_ratio(derived, cand)
    if ratio is not None and ratio != 0 and ratio.is_finite is not False:
        if ratio.is_number and dec.equal(ratio * cand):
            return ("sign" if ratio == -1 else "constant factor"), ratio
        if _is_monomial(ratio) and dec.equal(ratio * cand):
            return "factor", ratio
    # 3: a missing or an extra term
    for term in _terms(derived):
        if dec.equal(cand + term):
            return "missing term", term
    for term in _terms(cand):
        if dec.equal(cand - term):
            return "extra term", term
    # 5: an exponent off by one
    for node in _pows(cand):
        for step in (1, -1):
            new = sp.Pow(node.base, node.exp + step)
            if dec.equal(cand.xreplace({node: new})):
                return "exponent off by one", (node, new)
    # 6: one symbol written for another (an index off by one when the names say so)
    cs = sorted(cand.free_symbols, key=sp.default_sort_key)
    for s in cs:
        for t in symbols:
            if t == s:
                continue
            if dec.equal(cand.xreplace({s: t})):
                return ("index off by one" if _index_shift(s, t) else "wrong symbol"), (s, t)
    # 7: a swapped pair
    pool = sorted(cand.free_symbols | derived.free_symbols, key=sp.default_sort_key)
    for i, a in enumerate(pool):
        for b in pool[i + 1:]:
            if dec.equal(cand.xreplace({a: b, b: a})):
                return "swapped symbols", (a, b)
    # 8: one term off by a factor (after the kinds above, which are more specific)
    cterms = list(sp.Add.make_args(cand))
    if len(cterms) > 1:
        for ct in cterms:
            rest = cand - ct
            for dt in _terms(derived):
                if dec.equal(rest + dt):
                    return "term factor", (ct, dt, sp.simplify(dt / ct))
            new = sp.simplify(derived - rest)
            if sp.count_ops(new) <= sp.count_ops(ct) + 12 and dec.equal(rest + new):
                return "term factor", (ct, new, sp.simplify(new / ct))
    if ratio is not None and not ratio.is_number and all(
            (v := _evaluate(ratio, p)) is not None and v.is_positive for p in dec.points):
        sq = sp.factor(sp.simplify(ratio**2))
        if sp.count_ops(sq) < sp.count_ops(ratio):
            ratio = sp.sqrt(sq, evaluate=False) if sq.is_Mul or sq.is_Pow else sp.sqrt(sq)
    if ratio is not None and sp.count_ops(ratio) <= 20:
        return "no simple correction", ratio
    return "no simple correction", None


def compare(id: str, expr: Any, *, part: str | None = None,
            symbols: Mapping[str, Any] | None = None) -> Verdict:
    r"""Whether ``expr`` agrees with the derived claim of Result ``id``, or the simplest
    correction.

    Parameters
    ----------
    id
        A Result id (``theory.ids()``).
    expr
        The candidate: a SymPy expression in the Result's symbols, or LaTeX as printed
        (an ``a = b`` or ``a \leq b`` compares ``b`` and checks ``a``).
    part
        A named part of the Result instead of its statement (the right-hand side of an
        ``Eq`` or a relation is compared).
    symbols
        LaTeX fragment of the candidate → the Result symbol it stands for (its name, its
        LaTeX, LaTeX in the Result's symbols, or a SymPy expression); a SymPy symbol that is
        not the Result's declares a symbol of the candidate's own (sampled by its
        assumptions).

    Returns
    -------
    Verdict
        ``agrees``, the ``kind`` of correction and the ``correction`` itself, a sentence
        (``words``) and its LaTeX, and how the decision was made with its error bound.

    Raises
    ------
    UnknownResultError
        An unknown id (with the closest one).
    FormulaError
        Bad LaTeX (with the position), an unknown symbol (with the closest known ones),
        input longer than ``MAX_CHARS`` (2000) characters.
    ValueError
        An unknown part, or a claim that is not a scalar expression.

    Notes
    -----
    With :math:`D` the derived and :math:`C` the candidate form, the diagnosis looks, in
    order, for :math:`D = cC` with :math:`c` a number, :math:`D = mC` with :math:`m` a
    monomial, :math:`D = C + t` with :math:`t` a term of :math:`D` (or :math:`C = D + t`
    with :math:`t` a term of :math:`C`), :math:`D = C - t_C + t_D` for one term each, an
    exponent :math:`p \pm 1`, one symbol for another, a swapped pair.

    References
    ----------
    The seeds' printed formulas and the corrections in the Results' notes
    (``theory/seed_formulas.py``, the test table); SymPy's ``parse_latex`` (Lark backend).

    Examples
    --------
    >>> import sympy as sp, theory
    >>> v = theory.compare("label_noise.regularizer",
    ...                    r"\frac{1}{2n} \log(1 - \frac{\eta}{2}\lambda_j)",
    ...                    part="eigen_term", symbols={"n": sp.Symbol("n", positive=True)})
    >>> v.words.split(":")[0]
    'agrees up to a factor -n/eta'
    """
    from theory._registry import get  # noqa: PLC0415

    if isinstance(expr, str) and len(expr) > MAX_CHARS:  # before any work
        raise FormulaError(f"the LaTeX is {len(expr)} characters long; at most {MAX_CHARS} "
                           f"are read")
    result = get(id)
    derived, d_lhs, d_rel = _claim(result, part)
    ctx = _Context(result, symbols)
    if isinstance(expr, str):
        cand_full = _parse(expr, ctx)
    elif isinstance(expr, sp.Basic):
        # a REPL's own sp.Symbol("eta") is the Result's eta (names match, assumptions follow
        # the Result)
        cand_full = expr.xreplace({x: ctx.by_name[x.name] for x in expr.free_symbols
                                   if isinstance(x, sp.Symbol) and x.name in ctx.by_name})
    else:
        raise TypeError(f"expr must be a SymPy expression or a LaTeX string; got "
                        f"{type(expr).__name__} {expr!r}")
    c_lhs, c_rel, cand = None, None, cand_full
    if isinstance(cand_full, sp.core.relational.Relational):
        c_lhs, c_rel, cand = cand_full.lhs, type(cand_full), cand_full.rhs
    if not isinstance(cand, sp.Expr):
        raise FormulaError(f"the candidate must be an expression or a relation; got "
                           f"{sp.sstr(cand_full)}")
    known = set(result.symbols) | set(ctx.free)
    stray = {s for s in cand_full.free_symbols if s not in known and not isinstance(s, sp.Dummy)}
    if stray:
        names = ", ".join(sorted(map(str, stray)))
        raise FormulaError(f"the candidate uses symbols that {result.id} does not have: {names}"
                           f"; known: {', '.join(ctx.known())}")
    symbols_used = sorted((derived.free_symbols | cand.free_symbols
                           | (c_lhs.free_symbols if c_lhs is not None else set())
                           | (d_lhs.free_symbols if d_lhs is not None else set())),
                          key=sp.default_sort_key)
    symbols_used = [s for s in symbols_used if isinstance(s, sp.Symbol)]
    conds = tuple(c for c in result.conditions
                  if isinstance(c, sp.Basic) and not isinstance(c, sp.logic.boolalg.BooleanAtom))
    sampler = _Sampler(symbols_used, conds)

    def verdict(agrees: bool, kind: str, corr: Any, method: str, bound: str) -> Verdict:
        words, tex = _words(kind, corr, derived)
        return Verdict(id=result.id, part=part, candidate=cand_full, derived=derived,
                       agrees=agrees, kind=kind, correction=corr, words=words, latex_words=tex,
                       method=method, bound=bound)

    if _symbolic_zero(cand - derived):
        agrees, method = True, "symbolic"
        bound = "symbolic: the difference simplifies to 0 under the symbols' assumptions"
        dec = None
    else:
        dec = _Decider(derived, cand, sampler)
        agrees = dec.equal(cand)
        method = "numeric"
        unchecked = (f"; conditions not checkable at a point: {', '.join(sorted(sampler.unchecked))}"
                     if sampler.unchecked else "")
        bound = (f"numeric: {POINTS} random points inside the assumptions and conditions, "
                 f"exact rational inputs, mpmath at {DIGITS} digits; equal when every "
                 f"relative difference is below {sp.sstr(RTOL)}" + unchecked)
        if agrees:
            bound += f" (largest observed: {sp.N(dec.max_rel, 3)})"
    if agrees:
        if c_lhs is not None and d_lhs is not None and not _symbolic_zero(c_lhs - d_lhs):
            return verdict(False, "left-hand side", (c_lhs, d_lhs), method, bound)
        if c_rel is not None and d_rel is not None and c_rel is not d_rel:
            return verdict(False, "relation", (c_rel.__name__, d_rel.__name__), method, bound)
        return verdict(True, "agrees", None, method, bound)
    assert dec is not None
    kind, corr = _diagnose(cand, derived, dec, list(result.symbols))
    return verdict(False, kind, corr, method, bound)
