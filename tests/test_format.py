"""HPyUnicode_FromFormat(V) and HPyErr_Format, in both ABIs.

Numbers and strings are checked against Python's own %-formatting, whose
flag semantics (zero padding after the sign, precision as minimum digits)
are the ones HPy's formatting documents.
"""
import itertools
import re
import sys

import pytest

SOURCE = r"""
#include "hpy.h"
#include <string.h>

enum { K_INT, K_UINT, K_LONG, K_ULONG, K_LLONG, K_ULLONG, K_SSIZE, K_SIZE,
       K_STR, K_OBJ, K_PTR, K_V, K_NONE, K_NULL_HANDLE, K_NULL_STR, K_BYTES };

/* fmt(format, kind, value[, extra]): format one C value of the given kind */
HPyDef_METH(fmt, "fmt", HPyFunc_VARARGS)
static HPy fmt_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *f;
    int kind;
    HPy value, extra = HPy_NULL;
    long long s = 0;
    unsigned long long u = 0;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "siO|O", &f, &kind, &value, &extra))
        return HPy_NULL;
    if (kind <= K_SIZE || kind == K_PTR) {
        if (kind == K_UINT || kind == K_ULONG || kind == K_ULLONG || kind == K_SIZE || kind == K_PTR)
            u = HPyLong_AsUnsignedLongLongMask(ctx, value);
        else
            s = HPyLong_AsLongLong(ctx, value);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
    }
    switch (kind) {
    case K_INT: return HPyUnicode_FromFormat(ctx, f, (int)s);
    case K_UINT: return HPyUnicode_FromFormat(ctx, f, (unsigned int)u);
    case K_LONG: return HPyUnicode_FromFormat(ctx, f, (long)s);
    case K_ULONG: return HPyUnicode_FromFormat(ctx, f, (unsigned long)u);
    case K_LLONG: return HPyUnicode_FromFormat(ctx, f, s);
    case K_ULLONG: return HPyUnicode_FromFormat(ctx, f, u);
    case K_SSIZE: return HPyUnicode_FromFormat(ctx, f, (HPy_ssize_t)s);
    case K_SIZE: return HPyUnicode_FromFormat(ctx, f, (size_t)u);
    case K_PTR: return HPyUnicode_FromFormat(ctx, f, (void *)(uintptr_t)u);
    case K_STR: return HPyUnicode_FromFormat(ctx, f, HPyUnicode_AsUTF8AndSize(ctx, value, NULL));
    case K_BYTES: return HPyUnicode_FromFormat(ctx, f, HPyBytes_AsString(ctx, value));
    case K_OBJ: return HPyUnicode_FromFormat(ctx, f, value);
    case K_V: /* %V: a handle or None, then a C string (the extra str) */
        return HPyUnicode_FromFormat(ctx, f,
            HPy_Is(ctx, value, ctx->h_None) ? HPy_NULL : value,
            HPy_IsNull(extra) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, extra, NULL));
    case K_NONE: return HPyUnicode_FromFormat(ctx, f);
    case K_NULL_HANDLE: return HPyUnicode_FromFormat(ctx, f, HPy_NULL);
    case K_NULL_STR: return HPyUnicode_FromFormat(ctx, f, (const char *)NULL);
    }
    HPyErr_SetString(ctx, ctx->h_ValueError, "bad kind");
    return HPy_NULL;
}

static HPy via_va_list(HPyContext *ctx, const char *f, ...)
{
    va_list ap;
    HPy result;
    va_start(ap, f);
    result = HPyUnicode_FromFormatV(ctx, f, ap);
    va_end(ap);
    return result;
}

/* vformat(obj): several units of different kinds through FromFormatV */
HPyDef_METH(vformat, "vformat", HPyFunc_O)
static HPy vformat_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return via_va_list(ctx, "%d|%s|%R|%lld|%zu|%c|%S", -5, "txt", arg,
                       -9000000000LL, (size_t)7, 0x20ac, arg);
}

/* raise_(exc_type, obj): HPyErr_Format must set the error and give HPy_NULL */
HPyDef_METH(raise_, "raise_", HPyFunc_VARARGS)
static HPy raise__impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy type, obj, result;
    const char *f;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OOs", &type, &obj, &f))
        return HPy_NULL;
    result = HPyErr_Format(ctx, type, f, 42, obj);
    if (!HPy_IsNull(result)) {
        HPy_Close(ctx, result);
        HPyErr_SetString(ctx, ctx->h_AssertionError, "HPyErr_Format returned a handle");
    }
    return HPy_NULL;
}

/* long_output(): a result much longer than any fixed buffer */
HPyDef_METH(long_output, "long_output", HPyFunc_NOARGS)
static HPy long_output_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return via_va_list(ctx, "%s%20000d%s", "<", 7, ">");
}

static HPyDef *defines[] = { &fmt, &vformat, &raise_, &long_output, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mytest, moduledef)
"""

(K_INT, K_UINT, K_LONG, K_ULONG, K_LLONG, K_ULLONG, K_SSIZE, K_SIZE,
 K_STR, K_OBJ, K_PTR, K_V, K_NONE, K_NULL_HANDLE, K_NULL_STR, K_BYTES) = range(16)

LONG_BITS = 64 if sys.maxsize > 2**32 and sys.platform != "win32" else 32
SSIZE_BITS = 64 if sys.maxsize > 2**32 else 32
# length modifier -> (signed kind, unsigned kind, bits)
LENGTHS = {"": (K_INT, K_UINT, 32), "l": (K_LONG, K_ULONG, LONG_BITS),
           "ll": (K_LLONG, K_ULLONG, 64), "z": (K_SSIZE, K_SIZE, SSIZE_BITS)}


@pytest.fixture
def mod(compile_module):
    return compile_module(SOURCE)


def test_integers_match_python_formatting(mod):
    flags = ["", "0"]
    widths = ["", "1", "5", "9", "12"]
    precisions = ["", ".0", ".1", ".5", ".7"]
    checked = 0
    for length, (signed_kind, unsigned_kind, bits) in LENGTHS.items():
        values = [0, 1, 123, -123, 2**(bits - 1) - 1, -2**(bits - 1)]
        for unit, flag, width, precision in itertools.product("diux", flags, widths, precisions):
            c_format = "%" + flag + width + precision + length + unit
            py_format = "%" + flag + width + precision + ("d" if unit in "iu" else unit)
            for value in values:
                if unit in "di":
                    got = mod.fmt("<" + c_format + ">", signed_kind, value)
                    expected = py_format % value
                else:
                    got = mod.fmt("<" + c_format + ">", unsigned_kind, value % 2**bits)
                    expected = py_format % (value % 2**bits)
                assert got == "<" + expected + ">", (c_format, value)
                checked += 1
    assert checked == 4 * 4 * 2 * 5 * 5 * 6


def test_plain_integer_units(mod):
    assert mod.fmt("%d apples", K_INT, -7) == "-7 apples"
    assert mod.fmt("%i", K_INT, 2**31 - 1) == "2147483647"
    assert mod.fmt("%u", K_UINT, 2**32 - 1) == "4294967295"
    assert mod.fmt("%x", K_INT, -123) == "ffffff85"   # an int, printed unsigned
    assert mod.fmt("%llu", K_ULLONG, 2**64 - 1) == str(2**64 - 1)
    assert mod.fmt("%lld", K_LLONG, -2**63) == str(-2**63)
    assert mod.fmt("%zd", K_SSIZE, -sys.maxsize - 1) == str(-sys.maxsize - 1)
    assert mod.fmt("%zu", K_SIZE, 2**SSIZE_BITS - 1) == str(2**SSIZE_BITS - 1)
    assert mod.fmt("100%% sure, %d%%", K_INT, 5) == "100% sure, 5%"
    assert mod.fmt("no units at all", K_NONE, 0) == "no units at all"
    assert mod.fmt("", K_NONE, 0) == ""


STRINGS = ["None", "", "x", "h\u00e9llo w\u00f6rld", "\u20ac" * 7, "emoji \U0001F600!"]


def test_strings_match_python_formatting(mod):
    class Thing:
        def __str__(self):
            return "str \u00e9\u00e9"

        def __repr__(self):
            return "Th\u00efng()"

    objects = STRINGS + [42, None, Thing(), [1, "\u00e9"]]
    for width, precision in itertools.product(["", "1", "5", "30"], ["", ".0", ".1", ".3", ".40"]):
        spec = "%" + width + precision
        for obj in objects:
            for unit, text in (("S", str(obj)), ("R", repr(obj)), ("A", ascii(obj))):
                got = mod.fmt("[" + spec + unit + "]", K_OBJ, obj)
                assert got == "[" + (spec + "s") % text + "]", (spec + unit, obj)
            if isinstance(obj, str):
                expected = "[" + (spec + "s") % obj + "]"
                assert mod.fmt("[" + spec + "U]", K_OBJ, obj) == expected
                assert mod.fmt("[" + spec + "V]", K_V, obj, "ignored") == expected
                if obj.isascii():   # precision of a C string counts bytes
                    assert mod.fmt("[" + spec + "s]", K_STR, obj) == expected
                    assert mod.fmt("[" + spec + "V]", K_V, None, obj) == expected


def test_c_strings(mod):
    assert mod.fmt("%s and %%s", K_STR, "caf\u00e9") == "caf\u00e9 and %s"
    # precision counts bytes: cutting inside a character leaves U+FFFD
    assert mod.fmt("%.4s", K_STR, "caf\u00e9") == "caf\ufffd"
    assert mod.fmt("%.5s", K_STR, "caf\u00e9") == "caf\u00e9"
    # width counts characters
    assert mod.fmt("%6s", K_STR, "caf\u00e9") == "  caf\u00e9"
    # bytes that are not UTF-8 are replaced, as CPython's %s does
    assert mod.fmt("<%s>", K_BYTES, b"a\xffb\xe2\x82") == "<a\ufffdb\ufffd>"
    # one U+FFFD per maximal ill-formed subpart, as Python's decoder gives
    # (found by the fuzzer: each byte of a cut sequence was replaced alone)
    for raw in (b"\xe1\x80", b"\xe1\x80A", b"\xf0\x9f\x98", b"\xf0\x9f\x98\xe1\x80\x80",
                b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\x80\xbf"):
        assert mod.fmt("%s", K_BYTES, raw) == raw.decode("utf-8", "replace"), raw
        assert mod.fmt("%.2s", K_BYTES, raw) == raw[:2].decode("utf-8", "replace"), raw
    # %V with HPy_NULL uses the C string, with byte precision
    assert mod.fmt("%.2V", K_V, None, "None") == "No"
    assert mod.fmt("%5.1V", K_V, None, "None") == "    N"


def test_char_and_pointer(mod):
    for cp in (0x41, 0xE9, 0x20AC, 0x1F600, 0x10FFFF):
        assert mod.fmt("<%c>", K_INT, cp) == "<" + chr(cp) + ">"
    assert mod.fmt("a%cb", K_INT, 0) == "a\0b"
    assert mod.fmt("%c", K_INT, 0xD800) == "\ud800"
    for bad in (0x110000, -1):
        with pytest.raises(OverflowError, match=re.escape("character argument not in range(0x110000)")):
            mod.fmt("%c", K_INT, bad)

    for address in (0xBEEF, 0, 2**SSIZE_BITS - 1):
        text = mod.fmt("%p", K_PTR, address)
        assert re.match("^0x[0-9a-f]+$", text), text
        assert int(text, 16) == address


def test_vformat_and_long_output(mod):
    assert mod.vformat("\u00e9") == "-5|txt|'\u00e9'|-9000000000|7|\u20ac|\u00e9"
    out = mod.long_output()
    assert len(out) == 20002
    assert out == "<" + " " * 19999 + "7>"
    long_format = "a" * 5000 + "%d" + "b" * 5000
    assert mod.fmt(long_format, K_INT, 12) == "a" * 5000 + "12" + "b" * 5000
    assert mod.fmt("%s", K_STR, "\u20ac" * 5000) == "\u20ac" * 5000


INVALID = ["%y%d", "%04.2y%d", "%u %? %u", "%0%", "%00%", "%2%", "%.2%", "%.0%",
           "%", "abc%", "%l", "%lc", "%zs", "%llS", "%-5d"]


def test_invalid_formats(mod):
    for f in INVALID:
        with pytest.raises(SystemError, match="^invalid format string$"):
            mod.fmt(f, K_INT, 1)


def test_refused_flags(mod):
    for unit, kind, value in (("c", K_INT, 65), ("p", K_PTR, 1)):
        for spec in ("4", ".4", "8.4"):
            with pytest.raises(SystemError, match="^formatting unit '%%%s' does not support width nor precision$" % unit):
                mod.fmt("%" + spec + unit, kind, value)
        for spec in ("0", "04", "08.4"):
            with pytest.raises(SystemError, match="^formatting unit '%%%s' does not support 0-padding$" % unit):
                mod.fmt("%" + spec + unit, kind, value)
    for unit, kind in (("s", K_STR), ("U", K_OBJ), ("S", K_OBJ), ("R", K_OBJ), ("A", K_OBJ), ("V", K_V)):
        with pytest.raises(SystemError, match="^formatting unit '%%%s' does not support 0-padding$" % unit):
            mod.fmt("%05" + unit, kind, "abc", "abc")


def test_null_arguments(mod):
    for unit in "USRA":
        with pytest.raises(SystemError, match="^HPy_NULL passed as value for formatting unit '%%%s'$" % unit):
            mod.fmt("x%" + unit, K_NULL_HANDLE, 0)
    with pytest.raises(SystemError, match="^null c string passed as value for formatting unit '%s'$"):
        mod.fmt("x%s", K_NULL_STR, 0)
    with pytest.raises(SystemError, match="HPy_NULL and a null c string"):
        mod.fmt("%V", K_V, None)
    # %U wants a str: the conversion's own error comes through
    with pytest.raises(TypeError):
        mod.fmt("%U", K_OBJ, 42)


def test_errors_of_the_objects_propagate(mod):
    class Broken:
        def __repr__(self):
            raise KeyError("from repr")
    with pytest.raises(KeyError, match="from repr"):
        mod.fmt("%R", K_OBJ, Broken())
    # a lone surrogate has no UTF-8 form
    with pytest.raises(UnicodeEncodeError):
        mod.fmt("%U", K_OBJ, "\udc80")


def test_format_string_must_be_ascii(mod):
    with pytest.raises(ValueError, match="^expected an ASCII-encoded format string, got a non-ASCII byte: 0xc3$"):
        mod.fmt("format \u00fc %d", K_INT, 1)


def test_limits(mod):
    too_big = str(2**(SSIZE_BITS - 1))   # HPY_SSIZE_T_MAX + 1
    with pytest.raises(ValueError, match="^width too big$"):
        mod.fmt("%" + too_big + "d", K_INT, 42)
    with pytest.raises(ValueError, match="^precision too big$"):
        mod.fmt("%." + too_big + "d", K_INT, 42)
    with pytest.raises(MemoryError):
        mod.fmt("%" + str(sys.maxsize) + "d", K_INT, 42)
    with pytest.raises(MemoryError):
        mod.fmt("%." + str(sys.maxsize) + "d", K_INT, 42)


def test_err_format(mod):
    with pytest.raises(KeyError) as info:
        mod.raise_(KeyError, "obj", "code %d for %R")
    assert info.value.args == ("code 42 for 'obj'",)

    class MyError(Exception):
        pass
    with pytest.raises(MyError, match=r"^\[42\] \[1, 2\]$"):
        mod.raise_(MyError, [1, 2], "[%d] %S")
    # a broken format raises the formatting error instead
    with pytest.raises(SystemError, match="^invalid format string$"):
        mod.raise_(ValueError, "obj", "%d %q")


def test_no_reference_leaks(mod):
    obj = ["some", "object"]
    text = "a str \u00e9" * 10

    def calls():
        assert mod.fmt("%S", K_OBJ, obj) == str(obj)
        assert mod.fmt("%R", K_OBJ, obj) == repr(obj)
        assert mod.fmt("%A", K_OBJ, obj) == ascii(obj)
        assert mod.fmt("%10.3U", K_OBJ, text) == "       a s"
        assert mod.fmt("%V", K_V, text, "x") == text
        with pytest.raises(SystemError):
            mod.fmt("%S %q", K_OBJ, obj)
        with pytest.raises(SystemError):
            mod.fmt("%05S", K_OBJ, obj)
        with pytest.raises(ValueError):
            mod.raise_(ValueError, obj, "%d %R")

    calls()
    before = (sys.getrefcount(obj), sys.getrefcount(text))
    for _ in range(50):
        calls()
    assert (sys.getrefcount(obj), sys.getrefcount(text)) == before


# issue 9, item 4: "%.3s" called strlen() first, reading past the bytes the
# precision allows. The bytes end right before an inaccessible page, so any
# read beyond them crashes the (separate) interpreter.
UNTERMINATED = r"""
#include "hpy.h"
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* unterminated(fmt, data[, as_v]): data copied, without a NUL, to the end of
 * a page followed by an inaccessible page, then formatted as the "%s"
 * argument (or, if as_v, as the C string of "%V" after HPy_NULL) */
HPyDef_METH(unterminated, "unterminated", HPyFunc_VARARGS)
static HPy unterminated_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *f;
    HPy data, result;
    int as_v = 0;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n;
    char *base;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "sO|i", &f, &data, &as_v))
        return HPy_NULL;
    n = (size_t)HPyBytes_Size(ctx, data);
    if (n > page)
        return HPyErr_Format(ctx, ctx->h_ValueError, "too long");
    base = (char *)mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == (char *)MAP_FAILED || mprotect(base + page, page, PROT_NONE) != 0)
        return HPyErr_Format(ctx, ctx->h_OSError, "mmap failed");
    memcpy(base + page - n, HPyBytes_AsString(ctx, data), n);
    if (as_v)
        result = HPyUnicode_FromFormat(ctx, f, HPy_NULL, base + page - n);
    else
        result = HPyUnicode_FromFormat(ctx, f, base + page - n);
    munmap(base, 2 * page);
    return result;
}

static HPyDef *defines[] = { &unterminated, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(fmt_unterminated, moduledef)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="uses mmap/mprotect")
def test_precision_reads_no_further_than_the_precision(hpy_compiler, hpy_abi, tmp_path):
    from support import run_isolated
    probe = """
        for args in [("[%.3s]", b"abc"), ("[%.2s]", b"abc"), ("[%5.3s]", b"abc"),
                     ("[%.4s]", b"caf\\xc3\\xa9"[:4]), ("[%.0s]", b"x"),
                     ("[%.2V]", b"xy", 1), ("[%4.1V]", b"z", 1)]:
            print(ascii(mod.unterminated(*args)))
    """
    result = run_isolated(hpy_compiler, hpy_abi, tmp_path, UNTERMINATED, "fmt_unterminated", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [ascii(s) for s in [
        "[abc]", "[ab]", "[  abc]", "[caf\ufffd]", "[]", "[xy]", "[   z]"]]
