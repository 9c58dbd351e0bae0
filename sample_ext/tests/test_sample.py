"""Tests of the installed hpy-sample package.

They run unchanged against the CPython-ABI wheel and the universal wheel, so
they import nothing but ``hpy_sample``. Set HPY_SAMPLE_EXPECTED_ABI to make
them also check which of the two binaries got installed.
"""
import gc
import os
import platform
import sys
import sysconfig
from fractions import Fraction

import pytest

import hpy_sample
from hpy_sample import SampleError

ON_CPYTHON = platform.python_implementation() == "CPython"


# ---------------------------------------------------------------- the binary

def test_abi_is_one_of_the_two_wheels():
    assert hpy_sample.abi() in ("cpython", "universal")


def test_abi_matches_the_expected_wheel():
    expected = os.environ.get("HPY_SAMPLE_EXPECTED_ABI")
    if not expected:
        pytest.skip("HPY_SAMPLE_EXPECTED_ABI not set")
    assert hpy_sample.abi() == expected


def test_installed_binary_matches_abi():
    package_dir = os.path.dirname(hpy_sample.__file__)
    files = os.listdir(package_dir)
    if hpy_sample.abi() == "cpython":
        assert "_sample" + sysconfig.get_config_var("EXT_SUFFIX") in files
        assert not [f for f in files if ".hpy0" in f]
    else:
        assert "_sample.hpy0.so" in files
        assert not [f for f in files if f.startswith("_sample.cpython-")]


def test_module_surface():
    module = sys.modules["hpy_sample._sample"]
    assert "Sample HPy extension" in module.__doc__
    assert "greet(" in hpy_sample.greet.__doc__
    assert hpy_sample.SampleError is module.SampleError
    array_module = sys.modules["hpy_sample._array"]
    for name in hpy_sample.__all__:
        source = array_module if name in ("Array", "zeros") else module
        assert getattr(source, name) is getattr(hpy_sample, name)


# ------------------------------------------------------ NOARGS + HPyGlobal

def test_counter_global_survives_between_calls():
    hpy_sample.counter_reset()
    assert [hpy_sample.counter_next() for _ in range(3)] == [1, 2, 3]
    assert hpy_sample.counter_reset(10) == 3
    assert hpy_sample.counter_next() == 11
    assert hpy_sample.counter_reset() == 11
    assert hpy_sample.counter_next() == 1


def test_counter_grows_past_64_bits():
    hpy_sample.counter_reset(2**63 - 1)
    assert hpy_sample.counter_next() == 2**63
    assert hpy_sample.counter_next() == 2**63 + 1
    hpy_sample.counter_reset()


def test_counter_reset_checks_its_argument():
    with pytest.raises(TypeError):
        hpy_sample.counter_reset("3")
    with pytest.raises(OverflowError):
        hpy_sample.counter_reset(2**64)
    with pytest.raises(TypeError):
        hpy_sample.counter_reset(1, 2)


def test_noargs_rejects_arguments():
    with pytest.raises(TypeError):
        hpy_sample.counter_next(1)


# ----------------------------------------------------------- number protocol

@pytest.mark.parametrize("value", [3, -7, 2**70, 1.25, Fraction(1, 3), 2j, "ab", [1, 2]])
def test_double_uses_add(value):
    assert hpy_sample.double(value) == value + value


@pytest.mark.parametrize("value", [3, -7, 2**70, 1.5, Fraction(2, 3), 1 + 1j])
def test_square_uses_multiply(value):
    assert hpy_sample.square(value) == value * value


def test_number_protocol_errors_propagate():
    with pytest.raises(TypeError):
        hpy_sample.double(None)
    with pytest.raises(TypeError):
        hpy_sample.square("ab")


@pytest.mark.parametrize("x, a, b, c", [
    (2, 3, 4, 5),
    (-3, 1, 0, -9),
    (2**40, 7, -1, 1),
    (0.5, 2.0, 1.0, -1.0),
    (Fraction(1, 2), Fraction(3), Fraction(-1, 4), 1),
    (1j, 1, 1, 1),
])
def test_poly(x, a, b, c):
    assert hpy_sample.poly(x, a, b, c) == a * x * x + b * x + c


def test_poly_errors():
    with pytest.raises(TypeError):
        hpy_sample.poly(None, 1, 2, 3)
    with pytest.raises(TypeError):
        hpy_sample.poly(1, 2, 3)


# ------------------------------------------------------------ integer widths

RANGES = [
    ("int32_t", -2**31, 2**31 - 1),
    ("uint32_t", 0, 2**32 - 1),
    ("int64_t", -2**63, 2**63 - 1),
    ("uint64_t", 0, 2**64 - 1),
    ("ssize_t", -2**63, 2**63 - 1),
    ("size_t", 0, 2**64 - 1),
    ("long", -2**63, 2**63 - 1),
    ("unsigned long", 0, 2**64 - 1),
    ("long long", -2**63, 2**63 - 1),
    ("unsigned long long", 0, 2**64 - 1),
]


@pytest.mark.parametrize("ctype, low, high", RANGES)
def test_long_roundtrip_in_range(ctype, low, high):
    for value in (low, low + 1, 0, 1, 12345, high - 1, high):
        assert hpy_sample.long_roundtrip(ctype, value) == value


@pytest.mark.parametrize("ctype, low, high", RANGES)
def test_long_roundtrip_overflow(ctype, low, high):
    for value in (low - 1, high + 1, high * 4):
        with pytest.raises(OverflowError):
            hpy_sample.long_roundtrip(ctype, value)


@pytest.mark.parametrize("ctype, value, expected", [
    ("uint32_t mask", -1, 2**32 - 1),
    ("uint32_t mask", 2**32 + 5, 5),
    ("uint64_t mask", -1, 2**64 - 1),
    ("uint64_t mask", 2**64 + 9, 9),
    ("unsigned long mask", 2**64 + 7, 7),
])
def test_long_roundtrip_mask_wraps(ctype, value, expected):
    assert hpy_sample.long_roundtrip(ctype, value) == expected


def test_long_roundtrip_errors():
    with pytest.raises(TypeError):
        hpy_sample.long_roundtrip("int64_t", "12")
    with pytest.raises(SampleError, match="unknown C type 'int128_t'"):
        hpy_sample.long_roundtrip("int128_t", 1)
    with pytest.raises(TypeError):
        hpy_sample.long_roundtrip(64, 1)


def test_pack_widths_roundtrip():
    values = (255, -2**15, 2**31 - 1, -2**63, 2**63 - 1, -2**63, 0.5, 1e300)
    assert hpy_sample.pack_widths(*values) == values
    result = hpy_sample.pack_widths(0, 2**15 - 1, -2**31, 1, -1, 7, -2.25, -0.0)
    assert result == (0, 2**15 - 1, -2**31, 1, -1, 7, -2.25, -0.0)
    assert all(type(v) is int for v in result[:6])
    assert all(type(v) is float for v in result[6:])


@pytest.mark.parametrize("index, bad", [
    (0, 256), (0, -1), (1, 2**15), (2, 2**31), (3, 2**63), (4, -2**63 - 1),
])
def test_pack_widths_overflow(index, bad):
    args = [1, 1, 1, 1, 1, 1, 1.0, 1.0]
    args[index] = bad
    with pytest.raises(OverflowError):
        hpy_sample.pack_widths(*args)


def test_pack_widths_type_errors():
    with pytest.raises(TypeError):
        hpy_sample.pack_widths(1, 1, 1, 1, 1, 1, "x", 1.0)
    with pytest.raises(TypeError):
        hpy_sample.pack_widths(1, 1, 1)


# ------------------------------------------------------------ str and bytes

@pytest.mark.parametrize("text, expected", [
    ("hello", "HELLO!"),
    ("héllo wörld", "HéLLO WöRLD!"),
    ("a\0b", "A\0B!"),
    ("", "!"),
    ("MiXeD 123 😀", "MIXED 123 😀!"),
])
def test_shout(text, expected):
    assert hpy_sample.shout(text) == expected


def test_shout_errors():
    with pytest.raises(TypeError, match="expects a str, got b'x'"):
        hpy_sample.shout(b"x")
    with pytest.raises(UnicodeEncodeError):
        hpy_sample.shout("\ud800")


@pytest.mark.parametrize("text", ["héllo", "", "€", "😀ab", "ab", "a\0bcd"])
def test_str_info(text):
    first = ord(text[0]) if text else None
    assert hpy_sample.str_info(text) == (len(text), text.encode("utf-8"), first, text[-3:])


def test_str_info_rejects_bytes():
    with pytest.raises(TypeError):
        hpy_sample.str_info(b"abc")


@pytest.mark.parametrize("data, key", [
    (b"hello world", b"k"),
    (b"\x00\xff\x10" * 50, b"secret"),
    (b"", b"xy"),
    (bytes(range(256)), b"\xaa\x55"),
])
def test_bytes_xor(data, key):
    expected = bytes(d ^ key[i % len(key)] for i, d in enumerate(data))
    scrambled = hpy_sample.bytes_xor(data, key)
    assert type(scrambled) is bytes
    assert scrambled == expected
    assert hpy_sample.bytes_xor(scrambled, key) == data


def test_bytes_xor_errors():
    with pytest.raises(ValueError, match="key must not be empty"):
        hpy_sample.bytes_xor(b"abc", b"")
    with pytest.raises(TypeError, match="two bytes objects"):
        hpy_sample.bytes_xor("abc", b"k")
    with pytest.raises(TypeError):
        hpy_sample.bytes_xor(b"abc", bytearray(b"k"))


# ------------------------------------------------------------- lists, dicts

@pytest.mark.parametrize("n", [0, 1, 5, 1000])
def test_squares(n):
    assert hpy_sample.squares(n) == [i * i for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 7, 8, 999])
def test_evens(n):
    assert hpy_sample.evens(n) == list(range(0, n, 2))


@pytest.mark.parametrize("func", [hpy_sample.squares, hpy_sample.evens])
def test_list_builders_check_n(func):
    with pytest.raises(ValueError, match=r"needs 0 <= n <= 1000000, got -1"):
        func(-1)
    with pytest.raises(ValueError):
        func(10**7)
    with pytest.raises(TypeError):
        func("3")


def test_word_counts():
    words = "the cat and the hat and the bat".split()
    expected = {}
    for word in words:
        expected[word] = expected.get(word, 0) + 1
    assert hpy_sample.word_counts(words) == expected
    assert hpy_sample.word_counts(tuple(words)) == expected
    assert hpy_sample.word_counts([]) == {}


def test_word_counts_errors():
    with pytest.raises(TypeError, match="item 1 is 2, not a str"):
        hpy_sample.word_counts(["a", 2])
    with pytest.raises(TypeError):
        hpy_sample.word_counts(w for w in "ab")


def test_stats():
    assert hpy_sample.stats([1, 2, 3, 4]) == {"count": 4, "min": 1.0, "max": 4.0, "mean": 2.5}
    assert hpy_sample.stats((-1.5,)) == {"count": 1, "min": -1.5, "max": -1.5, "mean": -1.5}
    assert hpy_sample.stats(range(101))["mean"] == 50.0


def test_stats_errors():
    with pytest.raises(ValueError, match="empty sequence"):
        hpy_sample.stats([])
    with pytest.raises(TypeError):
        hpy_sample.stats([1, "x"])


def test_make_record():
    record = hpy_sample.make_record("Ann", 30)
    assert record == {"name": "Ann", "age": 30, "adult": True, "abi": hpy_sample.abi()}
    assert hpy_sample.make_record("Bo", 17)["adult"] is False
    name = object()
    assert hpy_sample.make_record(name, 0)["name"] is name


def test_make_record_errors():
    with pytest.raises(ValueError, match="age must be >= 0"):
        hpy_sample.make_record("Ann", -1)
    with pytest.raises(TypeError):
        hpy_sample.make_record("Ann", "30")


def test_record_get():
    value = object()
    record = {"key": value, "other": 2}
    assert hpy_sample.record_get(record, "key") is value
    with pytest.raises(KeyError):
        hpy_sample.record_get(record, "missing")
    fallback = object()
    assert hpy_sample.record_get(record, "missing", fallback) is fallback
    assert hpy_sample.record_get(record, "other", fallback) == 2


def test_record_get_keeps_other_errors():
    class Broken:
        def __getitem__(self, key):
            raise RuntimeError("broken " + key)

    with pytest.raises(RuntimeError, match="broken k"):
        hpy_sample.record_get(Broken(), "k", 0)


# -------------------------------------------------------------------- tuples

@pytest.mark.parametrize("a", [-17, -7, -1, 0, 1, 6, 7, 17, 2**62, -2**63])
@pytest.mark.parametrize("b", [-5, -1, 1, 3, 7, 2**40])
def test_divmod_floor_matches_divmod(a, b):
    if (a, b) == (-2**63, -1):
        with pytest.raises(OverflowError):
            hpy_sample.divmod_floor(a, b)
        return
    result = hpy_sample.divmod_floor(a, b)
    assert type(result) is tuple
    assert result == divmod(a, b)


def test_divmod_floor_by_zero():
    with pytest.raises(ZeroDivisionError, match="by zero"):
        hpy_sample.divmod_floor(1, 0)


# --------------------------------------------------- module-global cache

def reference_fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def test_fib_values():
    for n in (0, 1, 2, 10, 93, 94, 100, 500):
        assert hpy_sample.fib(n) == reference_fib(n)
    assert hpy_sample.fib(100) == 354224848179261915075


def test_fib_cache_lives_in_a_global():
    hpy_sample.fib_cache_clear()
    assert hpy_sample.fib_cache_size() == 0
    first = hpy_sample.fib(300)
    assert hpy_sample.fib_cache_size() == 1
    assert hpy_sample.fib(300) is first
    assert hpy_sample.fib_cache_size() == 1
    hpy_sample.fib(30)
    assert hpy_sample.fib_cache_size() == 2
    assert hpy_sample.fib_cache_clear() == 2
    assert hpy_sample.fib_cache_size() == 0


def test_fib_errors():
    with pytest.raises(ValueError, match="got -1"):
        hpy_sample.fib(-1)
    with pytest.raises(ValueError):
        hpy_sample.fib(10001)
    with pytest.raises(TypeError):
        hpy_sample.fib(2.0)


# ------------------------------------------------------------------ errors

def test_sample_error_class():
    assert issubclass(SampleError, ValueError)
    assert SampleError.__name__ == "SampleError"
    assert SampleError.__module__ == "hpy_sample._sample"


def test_check_range():
    assert hpy_sample.check_range(5, 0, 10) == 5
    assert hpy_sample.check_range(-2**63, -2**63, 0) == -2**63
    with pytest.raises(SampleError) as info:
        hpy_sample.check_range(15, 0, 10)
    assert str(info.value) == "15 is outside [0, 10]"
    with pytest.raises(SampleError, match=r"-9223372036854775808 is outside \[0, 1\]"):
        hpy_sample.check_range(-2**63, 0, 1)


def test_check_range_bad_bounds_is_plain_value_error():
    with pytest.raises(ValueError) as info:
        hpy_sample.check_range(1, 10, 0)
    assert type(info.value) is ValueError
    assert "lo <= hi" in str(info.value)


# ------------------------------------------------------ calls into Python

def test_map_list():
    assert hpy_sample.map_list(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]
    assert hpy_sample.map_list(str.upper, ("a", "b")) == ["A", "B"]
    assert hpy_sample.map_list(ord, "hé") == [104, 233]
    assert hpy_sample.map_list(abs, []) == []


def test_map_list_errors():
    class Stop(Exception):
        pass

    seen = []

    def fails_on_two(x):
        seen.append(x)
        if x == 2:
            raise Stop(x)
        return x

    with pytest.raises(Stop):
        hpy_sample.map_list(fails_on_two, [1, 2, 3])
    assert seen == [1, 2]
    with pytest.raises(TypeError, match="must be callable, not 3"):
        hpy_sample.map_list(3, [1])


def test_call_repeatedly():
    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return len(calls)

    assert hpy_sample.call_repeatedly(record, (1, 2), {"k": "v"}, 3) == [1, 2, 3]
    assert calls == [((1, 2), {"k": "v"})] * 3
    del calls[:]
    assert hpy_sample.call_repeatedly(record) == [1]
    assert calls == [((), {})]
    del calls[:]
    assert hpy_sample.call_repeatedly(record, kwargs={"a": 1}, times=2) == [1, 2]
    assert calls == [((), {"a": 1})] * 2
    del calls[:]
    assert hpy_sample.call_repeatedly(func=record, args=None, kwargs=None, times=0) == []
    assert calls == []


def test_call_repeatedly_errors():
    count = []

    def boom():
        count.append(1)
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        hpy_sample.call_repeatedly(boom, times=5)
    assert len(count) == 1
    with pytest.raises(TypeError, match="args must be a tuple"):
        hpy_sample.call_repeatedly(print, [1])
    with pytest.raises(TypeError, match="kwargs must be a dict"):
        hpy_sample.call_repeatedly(print, (), [("a", 1)])
    with pytest.raises(TypeError, match="must be callable"):
        hpy_sample.call_repeatedly("print")
    with pytest.raises(ValueError, match="got -1"):
        hpy_sample.call_repeatedly(print, times=-1)
    with pytest.raises(TypeError):
        hpy_sample.call_repeatedly()


def test_call_with_forwards_everything():
    def capture(*args, **kwargs):
        return args, kwargs

    assert hpy_sample.call_with(capture, 1, 2, c=3, d=4) == ((1, 2), {"c": 3, "d": 4})
    assert hpy_sample.call_with(capture) == ((), {})
    assert hpy_sample.call_with(max, 3, 9) == 9
    assert hpy_sample.call_with(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]
    assert hpy_sample.call_with(dict, a=1) == {"a": 1}


def test_call_with_errors():
    with pytest.raises(TypeError, match="callable as first positional"):
        hpy_sample.call_with()
    with pytest.raises(TypeError, match="callable as first positional"):
        hpy_sample.call_with(func=print)
    with pytest.raises(ZeroDivisionError):
        hpy_sample.call_with(divmod, 1, 0)


# ------------------------------------------------------------------ keywords

def test_greet():
    assert hpy_sample.greet("Ann") == "Hello, Ann."
    assert hpy_sample.greet("Ann", "Hi") == "Hi, Ann."
    assert hpy_sample.greet(name="Zoë", excited=True) == "Hello, Zoë!"
    assert hpy_sample.greet("Ann", greeting="Hey", excited=[1]) == "Hey, Ann!"
    assert hpy_sample.greet(greeting="Yo", name="Bo", excited=0) == "Yo, Bo."


def test_greet_errors():
    with pytest.raises(TypeError):
        hpy_sample.greet()
    with pytest.raises(TypeError):
        hpy_sample.greet("Ann", "Hi", True)  # excited is keyword-only
    with pytest.raises(TypeError):
        hpy_sample.greet(42)
    with pytest.raises(ValueError, match="must not be empty"):
        hpy_sample.greet("")


# ------------------------------------------------------- handle discipline

@pytest.mark.skipif(not ON_CPYTHON, reason="sys.getrefcount is CPython-only")
def test_no_reference_leaks():
    probe = object()
    key_holder = {"k": probe}

    def exercise():
        hpy_sample.make_record(probe, 1)
        hpy_sample.record_get(key_holder, "k")
        hpy_sample.record_get(key_holder, "missing", probe)
        hpy_sample.map_list(lambda x: x, [probe, probe])
        hpy_sample.call_repeatedly(id, (probe,), times=3)
        hpy_sample.call_with(lambda *a, **k: a, probe, kw=probe)
        hpy_sample.double([probe])
        hpy_sample.word_counts(["x", "y", "x"])
        hpy_sample.str_info("héllo")
        hpy_sample.stats([1, 2])
        try:
            hpy_sample.map_list(probe, [1])
        except TypeError:
            pass

    exercise()  # warm caches before measuring
    gc.collect()
    before = sys.getrefcount(probe)
    for _ in range(200):
        exercise()
    gc.collect()
    assert sys.getrefcount(probe) == before
