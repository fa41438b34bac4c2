"""The registry reads result metadata from the topic modules' source, without SymPy."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap

import pytest

import theory
from theory import _registry


def test_listing_imports_no_sympy() -> None:
    code = ("import sys, theory; ids = theory.ids(); theory.entries(); "
            "print(len(ids), 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, sympy_loaded = out.stdout.split()
    assert int(count) >= 9 and sympy_loaded == "False"


def test_scanned_metadata_matches_the_registered_builders() -> None:
    scanned = {e.id: (e.title, e.source, e.how) for e in theory.entries()}
    order = theory.ids()
    for module in dict.fromkeys(theory.TOPIC_MODULES.values()):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    real = {i: (e.title, e.source, e.how) for i, e in _registry._ENTRIES.items()}
    assert scanned == {i: real[i] for i in scanned}
    assert set(real) <= set(scanned)
    assert theory.ids() == order  # importing changes neither the set nor the order


def test_lazy_builder_builds_the_result() -> None:
    e = theory.entry("linear.gd_limit")
    assert e.builder().id == "linear.gd_limit"


def test_scan_falls_back_when_decorators_are_not_literal(tmp_path, monkeypatch) -> None:
    pkg = tmp_path / "scanpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "plain.py").write_text(textwrap.dedent('''
        SRC = "seed 000"
        @result("linear.a", title="A", source=SRC, how="derive")
        def a(): ...
        @result("linear.b", title="B", source="s", how="state")
        def b(): ...
    '''))
    (pkg / "computed.py").write_text(textwrap.dedent('''
        @result("linear.c", title="C".upper(), source="s", how="derive")
        def c(): ...
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _registry._scan("scanpkg.plain") == (("linear.a", "A", "seed 000", "derive"),
                                                ("linear.b", "B", "s", "state"))
    assert _registry._scan("scanpkg.computed") is None  # such a module is imported instead
    assert _registry._scan("scanpkg.missing") == ()


def test_a_user_topic_is_listed_after_the_builtins_without_sympy() -> None:
    """Registering a result of one's own keeps the listing free of SymPy and of any build:
    the built-ins are still read from source, the user's entry is known from its decorator."""
    code = textwrap.dedent('''
        import sys, theory
        n = len(theory.ids())
        @theory.result("mywork.decay", title="decay", source="notes", how="state")
        def decay():
            raise AssertionError("built by a listing")
        ids = theory.ids()
        print(len(ids) - n, ids[-1], theory.topics()[-1], theory.ids("mywork"),
              "sympy" in sys.modules)
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "mywork.decay", "mywork", "['mywork.decay']", "False"]


def test_unregister_forgets_a_user_result_and_refuses_a_builtin() -> None:
    @theory.result("mywork.twice", title="t", source="s", how="state")
    def twice() -> None: ...

    try:
        assert theory.entry("mywork.twice").plugin == f"module {__name__}"
        with pytest.raises(theory.RegistrationError, match="registered twice"):
            theory.result("mywork.twice", title="t", source="s", how="state")(twice)
    finally:
        theory.unregister("mywork.twice")
    assert "mywork.twice" not in theory.ids()
    with pytest.raises(theory.UnknownResultError, match="unknown topic 'mywork'"):
        theory.ids("mywork")
    with pytest.raises(theory.RegistrationError, match="'linear.gd_limit' is built in"):
        theory.unregister("linear.gd_limit")


@pytest.mark.parametrize("bad", ["linear", "Linear.gd", "my-work.x", "mywork.", ".x", "1a.b"])
def test_malformed_ids_name_the_rule(bad: str) -> None:
    with pytest.raises(theory.RegistrationError, match=f"result id '{re.escape(bad)}' is "
                                                       "malformed: an id is topic.name"):
        theory.result(bad, title="t", source="s", how="state")
    with pytest.raises(TypeError, match="result id must be a str; got int 3"):
        theory.validate_id(3)
