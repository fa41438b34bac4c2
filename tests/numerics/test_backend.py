"""Backend resolution, conversion and the random adapter."""

from __future__ import annotations

import importlib

import array_api_compat
import numpy as np
import pytest
from scipy import stats

from numerics import BackendUnavailableError, Generator, get_namespace, namespace_name, to_numpy


def test_get_namespace_resolves_numpy_and_strict() -> None:
    assert namespace_name(get_namespace()) == "numpy"
    assert namespace_name(get_namespace("array_api_strict")) == "array_api_strict"


def test_unknown_backend_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="did you mean 'numpy'"):
        get_namespace("nunpy")


def test_missing_library_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake(name: str, *a, **k):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(BackendUnavailableError, match=r"implreg\[torch\]"):
        get_namespace("torch")


def test_cupy_without_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Runtime:
        @staticmethod
        def getDeviceCount() -> int:  # noqa: N802 (CuPy's name)
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    class FakeCupy:
        class cuda:  # noqa: N801
            runtime = Runtime

    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a, **k: FakeCupy if name == "cupy" else real(name, *a, **k))
    with pytest.raises(BackendUnavailableError, match="cannot reach a GPU"):
        get_namespace("cupy")


def test_to_numpy_round_trips(xp) -> None:
    a = xp.asarray(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(to_numpy(a), np.arange(6.0).reshape(2, 3))


def test_same_seed_same_numbers(xp) -> None:
    a = to_numpy(Generator(3, xp).normal((4, 5)))
    b = to_numpy(Generator(3, xp).normal((4, 5)))
    c = to_numpy(Generator(4, xp).normal((4, 5)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_spawned_streams_differ(xp) -> None:
    g1, g2 = Generator(0, xp).spawn(2)
    assert not np.array_equal(to_numpy(g1.uniform((10,))), to_numpy(g2.uniform((10,))))


def test_choice_without_replacement_is_distinct_and_uniform(xp) -> None:
    n, k, R = 6, 3, 6000
    idx = to_numpy(Generator(1, xp).choice_without_replacement(n, k, (R,)))
    assert idx.shape == (R, k)
    assert all(len(set(row)) == k for row in idx[:200])
    # Each index appears in a batch with probability k/n: chi-square over the n counts at
    # level 1e-6 (a false alarm once in a million runs).
    counts = np.bincount(idx.ravel(), minlength=n)
    p = stats.chisquare(counts).pvalue
    assert p > 1e-6


def test_permutation_first_position_is_uniform(xp) -> None:
    perm = to_numpy(Generator(2, xp).permutation(5, (5000,)))
    assert np.all(np.sort(perm, axis=1) == np.arange(5))
    assert stats.chisquare(np.bincount(perm[:, 0], minlength=5)).pvalue > 1e-6


def test_bad_seed_and_k_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Generator(-1)
    with pytest.raises(TypeError, match="seed must be"):
        Generator("abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"k must be in \[1, n=3\]"):
        Generator(0).choice_without_replacement(3, 4)


def test_every_public_name_resolves_and_import_stays_light() -> None:
    import subprocess
    import sys

    import numerics

    for name in numerics.__all__:
        assert getattr(numerics, name) is not None
    code = "import sys, numerics; print('sklearn' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_default_namespace_is_numpy() -> None:
    from numerics.backend import default_namespace

    assert namespace_name(default_namespace()) == "numpy"


def test_native_generator_draws_in_the_namespace(xp) -> None:
    from numerics.backend import native_generator

    gen = native_generator(np.random.SeedSequence(0), xp)
    expected = {"numpy": "numpy", "array_api_strict": "host"}.get(namespace_name(xp))
    if expected is not None:
        assert gen.kind == expected
    for a, dtype in ((gen.normal((2, 3), 0.0, 1.0, xp.float64), xp.float64),
                     (gen.uniform((4,), -1.0, 2.0, xp.float32), xp.float32),
                     (gen.integers(0, 5, (3, 2)), xp.int64)):
        assert a.dtype == dtype
        assert namespace_name(array_api_compat.array_namespace(a)) == namespace_name(xp)
    u = to_numpy(gen.uniform((1000,), -1.0, 2.0, xp.float64))
    assert u.min() >= -1.0 and u.max() < 2.0


def test_staircase_columns_are_uniform_on_their_ranges(xp) -> None:
    from numerics.backend import native_generator

    n, k, R = 6, 3, 6000
    J = to_numpy(native_generator(np.random.SeedSequence(1), xp).staircase(n, k, (R,)))
    assert J.shape == (R, k)
    for i in range(k):
        assert J[:, i].min() >= i and J[:, i].max() < n
        # Column i uniform on the n - i values [i, n): chi-square at level 1e-6.
        counts = np.bincount(J[:, i] - i, minlength=n - i)
        assert stats.chisquare(counts).pvalue > 1e-6


def test_argsort_smallest_orders_the_k_smallest(xp) -> None:
    from numerics.backend import argsort_smallest

    keys = np.random.default_rng(2).random((5, 9))
    for k in (1, 4, 9):
        got = to_numpy(argsort_smallest(xp.asarray(keys), k))
        # Distinct keys: the k smallest in increasing order, read off a full host sort.
        np.testing.assert_array_equal(got, np.argsort(keys, axis=-1)[:, :k])


def test_generator_repr_names_the_backend() -> None:
    assert repr(Generator(5, get_namespace("array_api_strict"))).endswith("xp=array_api_strict)")
