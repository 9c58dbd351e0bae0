"""Tests of hpy_sample.Array, the numpy-like array written against hpy.h.

Every test runs on the HPy build (from whichever wheel is installed) and on
its hand-written C-API twin hpy_sample._capi_array where that exists (the
CPython-ABI wheel has it, the universal wheel must not), so the two stay
identical in behaviour.
"""
import array as stdlib_array
import gc
import math
import operator
import os
import platform
import shutil
import struct
import subprocess
import sys
import sysconfig
from fractions import Fraction

import pytest

import hpy_sample

ON_CPYTHON = platform.python_implementation() == "CPython"
EXPECTED_ABI = os.environ.get("HPY_SAMPLE_EXPECTED_ABI")

try:
    from hpy_sample import _capi_array
except ImportError:
    _capi_array = None


@pytest.fixture(params=["hpy", "capi"])
def mod(request):
    """The module holding Array and zeros: the HPy build or the C-API twin."""
    if request.param == "hpy":
        return sys.modules["hpy_sample._array"]
    if _capi_array is None:
        pytest.skip("the C-API twin is built for the CPython-ABI wheel only")
    return _capi_array


@pytest.fixture
def Array(mod):
    return mod.Array


def cpython_message(func, *args):
    """The message CPython itself gives for the same mistake."""
    try:
        func(*args)
    except Exception as exc:
        return str(exc)
    raise AssertionError("%r did not raise" % (func,))


# ---------------------------------------------------------------- packaging

def test_public_names():
    assert hpy_sample.Array is sys.modules["hpy_sample._array"].Array
    assert hpy_sample.zeros is sys.modules["hpy_sample._array"].zeros
    assert hpy_sample.Array.__module__ == "hpy_sample._array"
    assert hpy_sample.Array.__name__ == "Array"


def test_twin_only_in_the_cpython_abi_wheel():
    files = os.listdir(os.path.dirname(hpy_sample.__file__))
    if not EXPECTED_ABI:
        pytest.skip("HPY_SAMPLE_EXPECTED_ABI not set (in-place builds keep both)")
    if EXPECTED_ABI == "cpython":
        assert _capi_array is not None
        assert "_array" + sysconfig.get_config_var("EXT_SUFFIX") in files
    else:
        # Anything built against Python.h would tie the wheel to one CPython.
        assert _capi_array is None
        assert "_array.hpy0.so" in files
        assert not [f for f in files if f.endswith((".pyd", ".so")) and ".hpy0." not in f]


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("nm"),
                    reason="needs nm and ELF binaries")
def test_universal_binary_needs_no_python_symbols():
    if hpy_sample.abi() != "universal":
        pytest.skip("the CPython-ABI binary is meant to use the C API")
    path = os.path.join(os.path.dirname(hpy_sample.__file__), "_array.hpy0.so")
    out = subprocess.run(["nm", "-D", "--undefined-only", path], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    undefined = [line.split()[-1] for line in out.splitlines() if line.strip()]
    assert undefined, "nm listed nothing: is this the right file?"
    assert [name for name in undefined if name.lstrip("_").startswith("Py")] == []


def test_type_surface(Array):
    assert Array.__name__ == "Array"
    assert "1-D array of C doubles" in Array.__doc__
    assert "left to right" in Array.sum.__doc__
    with pytest.raises(TypeError, match="not an acceptable base type"):
        type("Sub", (Array,), {})
    with pytest.raises(TypeError, match=r"unhashable type: '(\w+\.)*Array'"):
        hash(Array())


# ------------------------------------------------------------- construction

@pytest.mark.parametrize("values", [
    [1.0, 2.5, -3.0],
    (1, 2, 3),
    range(5),
    [True, False],
    [Fraction(1, 4), 2**53],
    [],
    [1e308, -0.0, float("inf")],
])
def test_construct_from_iterables(Array, values):
    a = Array(values)
    expected = [float(v) for v in values]
    assert a.tolist() == expected
    assert len(a) == len(expected)


def test_construct_from_any_iterable(Array):
    assert Array(x / 2 for x in range(4)).tolist() == [0.0, 0.5, 1.0, 1.5]
    assert Array({3: "a"}).tolist() == [3.0]
    assert Array(iter([7])).tolist() == [7.0]
    assert Array().tolist() == []


def test_construct_from_numbers_with_dunder_methods(Array):
    class HasFloat:
        def __float__(self):
            return 2.5

    class HasIndex:
        def __index__(self):
            return 7

    assert Array([HasFloat(), HasIndex()]).tolist() == [2.5, 7.0]


def test_construct_copies(Array):
    source = [1.0, 2.0]
    a = Array(source)
    b = Array(a)          # through the sequence protocol
    source[0] = 9.0
    a[1] = 5.0
    assert a.tolist() == [1.0, 5.0]
    assert b.tolist() == [1.0, 2.0]


def test_construct_errors_read_like_cpython(Array):
    with pytest.raises(TypeError) as info:
        Array(5)
    assert str(info.value) == cpython_message(iter, 5)     # 'int' object is not iterable
    with pytest.raises(TypeError) as info:
        Array([1.0, "x"])
    assert str(info.value) == cpython_message(stdlib_array.array, "d", [1.0, "x"])
    with pytest.raises(TypeError, match="must be real number, not NoneType"):
        Array([None])
    with pytest.raises(TypeError, match=r"^Array expected at most 1 argument, got 2$"):
        Array([1], [2])
    with pytest.raises(TypeError, match=r"^Array\(\) takes no keyword arguments$"):
        Array(values=[1])
    with pytest.raises(OverflowError):
        Array([10**400])


def test_construct_propagates_errors_of_the_iterable(Array):
    def broken():
        yield 1.0
        raise LookupError("no more")

    with pytest.raises(LookupError, match="no more"):
        Array(broken())

    class BadFloat:
        def __float__(self):
            raise ArithmeticError("bad float")

    with pytest.raises(ArithmeticError, match="bad float"):
        Array([1, BadFloat()])


def test_list_shrinking_during_construction_is_an_error_not_a_crash(Array):
    items = [1.0, None, 3.0, 4.0]

    class Shrinks:
        def __float__(self):
            del items[1:]
            return 2.0

    items[1] = Shrinks()
    with pytest.raises(IndexError):
        Array(items)


def test_init_again_replaces_the_data(Array):
    a = Array([1, 2, 3])
    a.__init__([4])
    assert a.tolist() == [4.0]
    a.__init__()
    assert a.tolist() == []
    with pytest.raises(TypeError):
        a.__init__([1, "x"])
    assert a.tolist() == []     # unchanged by the failed call


def test_zeros(mod):
    assert mod.zeros(0).tolist() == []
    assert mod.zeros(3).tolist() == [0.0, 0.0, 0.0]
    assert type(mod.zeros(2)) is mod.Array
    assert len(mod.zeros(100000)) == 100000

    class Size:
        def __index__(self):
            return 2

    assert mod.zeros(Size()).tolist() == [0.0, 0.0]
    assert mod.zeros(True).tolist() == [0.0]


def test_zeros_errors(mod):
    with pytest.raises(ValueError, match="^negative dimensions are not allowed$"):
        mod.zeros(-1)
    with pytest.raises(TypeError) as info:
        mod.zeros(2.0)
    assert str(info.value) == cpython_message(operator.index, 2.0)
    with pytest.raises(TypeError):
        mod.zeros("3")
    with pytest.raises(OverflowError):
        mod.zeros(2**100)
    with pytest.raises(MemoryError):
        mod.zeros(sys.maxsize // 4)
    with pytest.raises(TypeError):
        mod.zeros()


# ---------------------------------------------------------------- sequence

def test_len_and_getitem(Array):
    a = Array([10, 20, 30])
    assert len(a) == 3
    assert [a[0], a[1], a[2]] == [10.0, 20.0, 30.0]
    assert [a[-1], a[-2], a[-3]] == [30.0, 20.0, 10.0]
    assert type(a[0]) is float
    assert list(a) == [10.0, 20.0, 30.0]
    assert 20.0 in a and 25.0 not in a
    assert len(Array()) == 0


@pytest.mark.parametrize("index", [3, 4, -4, -100, sys.maxsize, -sys.maxsize - 1])
def test_getitem_out_of_range(Array, index):
    with pytest.raises(IndexError, match="^Array index out of range$"):
        Array([1, 2, 3])[index]


def test_getitem_wrong_index_type(Array):
    a = Array([1, 2])
    with pytest.raises(TypeError):
        a[1.0]
    with pytest.raises(TypeError):
        a["0"]
    with pytest.raises(IndexError):
        a[2**100]


def test_setitem(Array):
    a = Array([1, 2, 3])
    a[0] = 5
    a[-1] = 2.5
    a[1] = Fraction(1, 2)
    assert a.tolist() == [5.0, 0.5, 2.5]


@pytest.mark.parametrize("index", [3, -4, sys.maxsize])
def test_setitem_out_of_range(Array, index):
    a = Array([1, 2, 3])
    with pytest.raises(IndexError, match="^Array assignment index out of range$"):
        a[index] = 1.0
    assert a.tolist() == [1.0, 2.0, 3.0]


def test_setitem_errors(Array):
    a = Array([1, 2, 3])
    with pytest.raises(TypeError) as info:
        a[0] = "x"
    assert str(info.value) == cpython_message(stdlib_array.array, "d", ["x"])
    with pytest.raises(TypeError, match="^'Array' object doesn't support item deletion$"):
        del a[0]
    assert a.tolist() == [1.0, 2.0, 3.0]


def test_setitem_survives_init_from_the_value(Array):
    a = Array([1, 2, 3])

    class Shrinks:
        def __float__(self):
            a.__init__([])
            return 1.0

    with pytest.raises(IndexError, match="assignment index out of range"):
        a[2] = Shrinks()
    assert a.tolist() == []


# -------------------------------------------------------------- arithmetic

OPS = [operator.add, operator.sub, operator.mul, operator.truediv]


@pytest.mark.parametrize("op", OPS)
def test_array_with_array(Array, op):
    xs, ys = [1.5, -2.0, 8.0, 1e300], [0.5, 4.0, -2.0, 1e10]
    a, b = Array(xs), Array(ys)
    result = op(a, b)
    assert type(result) is Array
    assert result.tolist() == [op(x, y) for x, y in zip(xs, ys)]
    assert a.tolist() == xs and b.tolist() == ys    # operands untouched


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("scalar", [2, 0.25, -3.5, True, 2**60])
def test_array_with_scalar_both_ways(Array, op, scalar):
    xs = [1.0, -6.0, 0.5]
    a = Array(xs)
    assert op(a, scalar).tolist() == [op(x, float(scalar)) for x in xs]
    assert op(scalar, a).tolist() == [op(float(scalar), x) for x in xs]


def test_reflected_examples(Array):
    a = Array([1, 2, 4])
    assert (2 - a).tolist() == [1.0, 0.0, -2.0]
    assert (1 / a).tolist() == [1.0, 0.5, 0.25]
    assert (3 * a + 1).tolist() == [4.0, 7.0, 13.0]


def test_empty_arithmetic(Array):
    assert (Array() + Array()).tolist() == []
    assert (Array() * 3).tolist() == []


def test_augmented_assignment_makes_a_new_array(Array):
    a = Array([1, 2])
    alias = a
    a += 1
    assert a.tolist() == [2.0, 3.0]
    assert alias.tolist() == [1.0, 2.0]
    assert a is not alias


def test_division_by_zero_follows_ieee(Array):
    result = Array([1, -1, 0]) / 0
    assert result[0] == math.inf and result[1] == -math.inf and math.isnan(result[2])
    result = Array([1, 2]) / Array([0.0, -0.0])
    assert result.tolist() == [math.inf, -math.inf]
    assert math.isnan((0 / Array([0]))[0])


def test_shape_mismatch(Array):
    with pytest.raises(ValueError) as info:
        Array([1, 2, 3]) + Array([1, 2])
    assert str(info.value) == "operands could not be broadcast together with shapes (3,) (2,)"
    with pytest.raises(ValueError, match=r"shapes \(0,\) \(1,\)"):
        Array() / Array([1])


@pytest.mark.parametrize("other", ["x", None, [1.0], (1.0,), Fraction(1, 2), 1j])
def test_unsupported_operands(Array, other):
    a = Array([1.0])
    with pytest.raises(TypeError, match="unsupported operand type"):
        a + other
    with pytest.raises(TypeError, match="unsupported operand type"):
        other - a       # - because str and list would try their own + first


def test_unsupported_operators(Array):
    a = Array([1.0])
    # CPython names heap types by their full dotted name here.
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for %: "
                                        r"'(\w+\.)*Array' and 'int'"):
        a % 2
    with pytest.raises(TypeError):
        a // 2
    with pytest.raises(TypeError):
        -a


def test_huge_int_scalar(Array):
    with pytest.raises(OverflowError):
        Array([1.0]) + 10**400


# -------------------------------------------------------------- comparison

def test_equality_is_one_bool(Array):
    assert (Array([1, 2]) == Array([1.0, 2.0])) is True
    assert (Array([1, 2]) != Array([1.0, 2.0])) is False
    assert (Array([1, 2]) == Array([1, 3])) is False
    assert (Array([1, 2]) != Array([1, 3])) is True
    assert (Array([1, 2]) == Array([1, 2, 3])) is False
    assert (Array() == Array()) is True
    assert Array([0.0]) == Array([-0.0])


def test_nan_is_never_equal(Array):
    a = Array([float("nan")])
    assert (a == a) is False
    assert (a != a) is True


def test_equality_with_other_types_is_not_implemented(Array):
    a = Array([1.0])
    assert a.__eq__([1.0]) is NotImplemented
    assert a.__ne__(1.0) is NotImplemented
    assert (a == [1.0]) is False
    assert ([1.0] == a) is False
    assert (a != 1.0) is True
    assert a.__lt__(a) is NotImplemented
    with pytest.raises(TypeError, match="'<' not supported"):
        a < a
    with pytest.raises(TypeError):
        a >= Array([1.0])


# --------------------------------------------------------- repr and methods

@pytest.mark.parametrize("values, text", [
    ([1, 2], "Array([1.0, 2.0])"),
    ([], "Array([])"),
    ([0.1, -0.0, 1e100], "Array([0.1, -0.0, 1e+100])"),
    ([float("inf"), float("nan")], "Array([inf, nan])"),
])
def test_repr(Array, values, text):
    assert repr(Array(values)) == text
    assert str(Array(values)) == text


def test_tolist(Array):
    result = Array([1, 2]).tolist()
    assert type(result) is list
    assert all(type(x) is float for x in result)
    a = Array([3])
    assert a.tolist() is not a.tolist()


def test_sum(Array):
    assert Array([1, 2, 3.5]).sum() == 6.5
    assert type(Array([1]).sum()) is float
    assert Array().sum() == 0.0
    assert Array([1e308, 1e308]).sum() == math.inf
    assert math.isnan(Array([1, float("nan")]).sum())
    # Left to right in C doubles, not compensated like Python 3.12's sum():
    assert Array([1.0, 1e100, 1.0, -1e100]).sum() == 0.0
    with pytest.raises(TypeError):
        Array().sum(1)


# ------------------------------------------------------------------ buffer

def test_memoryview_describes_the_data(Array):
    a = Array([1.0, 2.0, 3.0])
    with memoryview(a) as view:
        assert view.format == "d"
        assert view.itemsize == 8
        assert view.ndim == 1
        assert view.shape == (3,)
        assert view.strides == (8,)
        assert view.readonly is False
        assert view.c_contiguous
        assert view.nbytes == 24
        assert view.obj is a
        assert view.tolist() == [1.0, 2.0, 3.0]
        assert view.tobytes() == struct.pack("=3d", 1.0, 2.0, 3.0)


def test_memoryview_is_zero_copy_both_ways(Array):
    a = Array([1.0, 2.0, 3.0])
    with memoryview(a) as view:
        view[0] = 7.5
        a[2] = -1.0
        assert a.tolist() == [7.5, 2.0, -1.0]
        assert view.tolist() == [7.5, 2.0, -1.0]
        view.cast("B")[8:16] = struct.pack("=d", 4.25)
        assert a[1] == 4.25


def test_buffer_consumers(Array):
    a = Array([1.5, -2.0])
    assert bytes(a) == struct.pack("=2d", 1.5, -2.0)
    assert stdlib_array.array("d", bytes(a)).tolist() == [1.5, -2.0]
    target = stdlib_array.array("d", [0.0, 0.0])
    memoryview(target)[:] = memoryview(a)
    assert target.tolist() == [1.5, -2.0]
    with memoryview(Array()) as empty:
        assert empty.shape == (0,) and empty.tobytes() == b""


def test_init_refused_while_exported(Array):
    a = Array([1.0, 2.0])
    with memoryview(a) as first, memoryview(a) as second:
        with pytest.raises(BufferError, match="Existing exports of data"):
            a.__init__([3.0])
        first[0] = 9.0
        assert second[0] == 9.0
    with memoryview(a) as third:
        pass
    a.__init__([3.0])      # all views released
    assert a.tolist() == [3.0]


@pytest.mark.skipif(not ON_CPYTHON, reason="sys.getrefcount is CPython-only")
def test_memoryview_holds_one_reference(Array):
    a = Array([1.0])
    before = sys.getrefcount(a)
    view = memoryview(a)
    assert sys.getrefcount(a) == before + 1
    view.release()
    assert sys.getrefcount(a) == before


# ----------------------------------------------------- handles and memory

@pytest.mark.skipif(not ON_CPYTHON, reason="sys.getrefcount is CPython-only")
def test_no_reference_leaks(mod):
    Array = mod.Array

    class Probe(float):
        pass

    probe = Probe(2.0)
    a = Array([1.0, 2.0])

    def exercise():
        Array([probe, probe])
        Array((probe,))
        Array(x for x in [probe])
        try:
            Array([probe, "x"])
        except TypeError:
            pass
        b = a + probe
        probe - a
        a * a
        a == b
        a == probe
        a != [probe]
        repr(a)
        a.tolist()
        a.sum()
        a[0] = probe
        a[-1]
        mod.zeros(3)
        with memoryview(a):
            pass
        try:
            a + "x"
        except TypeError:
            pass
        try:
            a + Array()
        except ValueError:
            pass

    exercise()
    gc.collect()
    counts = sys.getrefcount(probe), sys.getrefcount(a), sys.getrefcount(Array)
    for _ in range(100):
        exercise()
    gc.collect()
    assert (sys.getrefcount(probe), sys.getrefcount(a), sys.getrefcount(Array)) == counts


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_data_is_freed_with_the_array(mod):
    a = mod.zeros(1 << 20) + 1.0           # 8 MB, every page written
    del a
    before = resident_bytes()
    for _ in range(50):                    # 400 MB resident if tp_destroy leaked
        a = mod.zeros(1 << 20) + 1.0
        assert a[-1] == 1.0
        del a
    assert resident_bytes() - before < 100 * 2**20


# ----------------------------------------------------------------- parity

@pytest.mark.skipif(_capi_array is None, reason="the C-API twin is not built here")
def test_twin_agrees_on_a_mixed_workload():
    def run(mod):
        A = mod.Array
        a = A(range(10)) / 3 - A([0.5] * 10) * 2
        out = [repr(a), a.sum(), (1 / (a - a)).tolist(), a == A(a), repr(mod.zeros(2))]
        for bad in (lambda: A(1), lambda: A([1], 2), lambda: a[10], lambda: a + A(),
                    lambda: mod.zeros(-1), lambda: a < a):
            try:
                bad()
            except Exception as exc:
                out.append((type(exc), str(exc)))
        return out

    hpy_side = run(sys.modules["hpy_sample._array"])
    capi_side = run(_capi_array)
    # repr because nan != nan; the type's full name differs on purpose.
    assert repr(hpy_side) == repr(capi_side).replace("._capi_array.", "._array.")
