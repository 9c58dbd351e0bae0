"""HPyArg_Parse, HPyArg_ParseKeywords and HPyArg_ParseKeywordsDict, in both ABIs."""
import re
import sys

import pytest


def module_source(body):
    """A complete module exporting every method ``body`` defines, directly or
    through a helper macro invoked at the start of a line."""
    names = [n for n in re.findall(r"HPyDef_METH\((\w+),", body) if n != "NAME"]
    names += re.findall(r"^[A-Z][A-Z_]*\((\w+),", body, re.MULTILINE)
    return (
        '#include "hpy.h"\n#include <limits.h>\n#include <stdlib.h>\n'
        + body
        + "\nstatic HPyDef *defines[] = { %s, NULL };\n" % ", ".join("&" + n for n in names)
        + "static HPyModuleDef moduledef = { .defines = defines };\n"
        + "HPy_MODINIT(mytest, moduledef)\n"
    )


# One VARARGS function per format unit: parse one argument, return it.
PARSE_ONE = r"""
#define PARSE_ONE(NAME, FMT, TYPE, CONVERT)                                   \
    HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS)                                \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args,       \
                           size_t nargs)                                     \
    {                                                                        \
        TYPE a;                                                              \
        (void)self;                                                          \
        if (!HPyArg_Parse(ctx, NULL, args, nargs, FMT, &a))                  \
            return HPy_NULL;                                                 \
        return CONVERT(ctx, a);                                              \
    }

static HPy from_uchar(HPyContext *ctx, unsigned char v) { return HPyLong_FromLong(ctx, v); }
static HPy from_short(HPyContext *ctx, short v) { return HPyLong_FromLong(ctx, v); }
static HPy from_ushort(HPyContext *ctx, unsigned short v) { return HPyLong_FromLong(ctx, v); }
static HPy from_int(HPyContext *ctx, int v) { return HPyLong_FromLong(ctx, v); }
static HPy from_uint(HPyContext *ctx, unsigned int v) { return HPyLong_FromUnsignedLong(ctx, v); }
static HPy from_float(HPyContext *ctx, float v) { return HPyFloat_FromDouble(ctx, v); }
static HPy from_bool(HPyContext *ctx, int v) { return HPyLong_FromLong(ctx, v); }

PARSE_ONE(b, "b", unsigned char, from_uchar)
PARSE_ONE(B, "B", unsigned char, from_uchar)
PARSE_ONE(h, "h", short, from_short)
PARSE_ONE(H, "H", unsigned short, from_ushort)
PARSE_ONE(i, "i", int, from_int)
PARSE_ONE(I, "I", unsigned int, from_uint)
PARSE_ONE(l, "l", long, HPyLong_FromLong)
PARSE_ONE(k, "k", unsigned long, HPyLong_FromUnsignedLong)
PARSE_ONE(L, "L", long long, HPyLong_FromLongLong)
PARSE_ONE(K, "K", unsigned long long, HPyLong_FromUnsignedLongLong)
PARSE_ONE(n, "n", HPy_ssize_t, HPyLong_FromSsize_t)
PARSE_ONE(f, "f", float, from_float)
PARSE_ONE(d, "d", double, HPyFloat_FromDouble)
PARSE_ONE(p, "p", int, from_bool)
PARSE_ONE(s, "s", const char *, HPyUnicode_FromString)
PARSE_ONE(O, "O", HPy, HPy_Dup)
PARSE_ONE(i_named, "i:named", int, from_int)
PARSE_ONE(i_custom, "i;custom message", int, from_int)
"""

LONG_BITS = 64 if sys.maxsize > 2**32 and sys.platform != "win32" else 32


def test_integer_units(compile_module):
    mod = compile_module(module_source(PARSE_ONE))
    assert [mod.b(v) for v in (0, 1, 255)] == [0, 1, 255]
    with pytest.raises(OverflowError, match="^function unsigned byte integer is greater than maximum$"):
        mod.b(256)
    with pytest.raises(OverflowError, match="^function unsigned byte integer is less than minimum$"):
        mod.b(-1)
    assert [mod.B(v) for v in (0, 255, 256, -1)] == [0, 255, 0, 255]

    assert [mod.h(v) for v in (-2**15, 0, 2**15 - 1)] == [-2**15, 0, 2**15 - 1]
    with pytest.raises(OverflowError, match="^function signed short integer is greater than maximum$"):
        mod.h(2**15)
    with pytest.raises(OverflowError, match="^function signed short integer is less than minimum$"):
        mod.h(-2**15 - 1)
    assert [mod.H(v) for v in (0, 2**16 - 1, 2**16 + 5, -1)] == [0, 2**16 - 1, 5, 2**16 - 1]

    assert [mod.i(v) for v in (-2**31, 7, 2**31 - 1)] == [-2**31, 7, 2**31 - 1]
    with pytest.raises(OverflowError, match="^function signed integer is greater than maximum$"):
        mod.i(2**31)
    with pytest.raises(OverflowError, match="^function signed integer is less than minimum$"):
        mod.i(-2**31 - 1)
    assert [mod.I(v) for v in (0, 2**32 - 1, 2**32 + 3, -1)] == [0, 2**32 - 1, 3, 2**32 - 1]

    lmax = 2**(LONG_BITS - 1) - 1
    assert [mod.l(v) for v in (-lmax - 1, lmax)] == [-lmax - 1, lmax]
    with pytest.raises(OverflowError):
        mod.l(lmax + 1)
    assert mod.k(-1) == 2**LONG_BITS - 1
    assert mod.k(2**LONG_BITS + 9) == 9

    assert [mod.L(v) for v in (-2**63, 2**63 - 1)] == [-2**63, 2**63 - 1]
    with pytest.raises(OverflowError):
        mod.L(2**63)
    with pytest.raises(OverflowError):
        mod.L(-2**63 - 1)
    assert mod.K(-1) == 2**64 - 1
    assert mod.K(2**64 + 2) == 2

    assert [mod.n(v) for v in (-sys.maxsize - 1, sys.maxsize)] == [-sys.maxsize - 1, sys.maxsize]
    with pytest.raises(OverflowError):
        mod.n(sys.maxsize + 1)

    # a non-int is refused by the conversion itself, as CPython does
    for func in (mod.b, mod.B, mod.h, mod.H, mod.i, mod.I, mod.l, mod.k, mod.L, mod.K, mod.n):
        with pytest.raises(TypeError):
            func("7")
        with pytest.raises(TypeError):
            func(1.5)


def test_float_bool_string_object_units(compile_module):
    mod = compile_module(module_source(PARSE_ONE))
    assert mod.f(0.25) == 0.25
    assert mod.f(3) == 3.0
    assert mod.d(1e300) == 1e300
    assert mod.d(-2) == -2.0
    with pytest.raises(TypeError):
        mod.d("1.0")
    with pytest.raises(TypeError):
        mod.f(None)

    truthy = [1, -1, [0], "0", object(), True]
    falsy = [0, [], "", None, False, 0.0]
    assert [mod.p(v) for v in truthy] == [1] * len(truthy)
    assert [mod.p(v) for v in falsy] == [0] * len(falsy)

    class BadBool:
        def __bool__(self):
            raise ZeroDivisionError("no truth here")
    with pytest.raises(ZeroDivisionError, match="no truth here"):
        mod.p(BadBool())

    assert mod.s("hello HPy") == "hello HPy"
    assert mod.s("h\u00e9llo \u20ac\U0001F600") == "h\u00e9llo \u20ac\U0001F600"
    with pytest.raises(ValueError, match="^function embedded null character$"):
        mod.s("a\0b")
    with pytest.raises(TypeError, match="^function a str is required$"):
        mod.s(b"bytes")
    with pytest.raises(UnicodeEncodeError):
        mod.s("\ud800")

    obj = object()
    assert mod.O(obj) is obj
    assert mod.O(None) is None


def test_function_name_and_custom_message(compile_module):
    mod = compile_module(module_source(PARSE_ONE))
    with pytest.raises(OverflowError, match=r"^named\(\) signed integer is greater than maximum$"):
        mod.i_named(2**31)
    with pytest.raises(TypeError, match=r"^named\(\) required positional argument missing$"):
        mod.i_named()
    # ';' replaces every message, whatever the exception type
    with pytest.raises(OverflowError, match="^custom message$"):
        mod.i_custom(2**31)
    with pytest.raises(TypeError, match="^custom message$"):
        mod.i_custom(1, 2)


POSITIONAL = r"""
HPyDef_METH(two_longs, "two_longs", HPyFunc_VARARGS)
static HPy two_longs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a = -1, b = 5;   /* b keeps its default when not given */
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "l|l:two_longs", &a, &b))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "ll", a, b);
}

HPyDef_METH(exact, "exact", HPyFunc_VARARGS)
static HPy exact_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a, b;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO", &a, &b))
        return HPy_NULL;
    return HPy_Add(ctx, a, b);
}

HPyDef_METH(many, "many", HPyFunc_VARARGS)
static HPy many_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    int i; double d; const char *s; HPy o; int p; unsigned long long K;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "idsOpK", &i, &d, &s, &o, &p, &K))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "(idsOiK)", i, d, s, o, p, K);
}

HPyDef_METH(with_tracker, "with_tracker", HPyFunc_VARARGS)
static HPy with_tracker_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a, b, result;
    HPyTracker ht;
    int unused = 0;
    (void)self;
    if (!HPyArg_Parse(ctx, &ht, args, nargs, "OO|i", &a, &b, &unused))
        return HPy_NULL;   /* on failure the tracker is already closed */
    result = HPy_Add(ctx, a, b);
    HPyTracker_Close(ctx, ht);
    return result;
}

HPyDef_METH(unknown_unit, "unknown_unit", HPyFunc_VARARGS)
static HPy unknown_unit_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a, b;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OZ:unknown_unit", &a, &b))
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(dollar, "dollar", HPyFunc_VARARGS)
static HPy dollar_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a, b;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "O$O", &a, &b))
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}
"""


def test_positional_parsing(compile_module):
    mod = compile_module(module_source(POSITIONAL))
    assert mod.two_longs(1) == (1, 5)
    assert mod.two_longs(1, 2) == (1, 2)
    with pytest.raises(TypeError, match=r"^two_longs\(\) required positional argument missing$"):
        mod.two_longs()
    with pytest.raises(TypeError, match=r"^two_longs\(\) mismatched args \(too many arguments for fmt\)$"):
        mod.two_longs(1, 2, 3)
    with pytest.raises(TypeError):
        mod.two_longs(1, "2")

    assert mod.exact("a", "b") == "ab"
    with pytest.raises(TypeError, match="^function required positional argument missing$"):
        mod.exact(1)
    with pytest.raises(TypeError, match=r"^function mismatched args \(too many arguments for fmt\)$"):
        mod.exact(1, 2, 3)

    obj = object()
    assert mod.many(-3, 0.5, "text", obj, [1], 2**64 - 1) == (-3, 0.5, "text", obj, 1, 2**64 - 1)

    assert mod.with_tracker("x", "y") == "xy"
    assert mod.with_tracker(1, 2, 3) == 3
    with pytest.raises(TypeError):
        mod.with_tracker(1, 2, "not an int")

    # a broken format is reported whatever the arguments are
    for args in ((), (1,), (1, 2)):
        with pytest.raises(SystemError, match=r"^unknown_unit\(\) unknown arg format code$"):
            mod.unknown_unit(*args)
    # '$' only means something to the keyword parsers
    with pytest.raises(SystemError, match="^function unknown arg format code$"):
        mod.dollar(1, 2)


KEYWORDS = r"""
#define ADD_KW(NAME, FMT, ...)                                                 \
    HPyDef_METH(NAME, #NAME, HPyFunc_KEYWORDS)                                \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args,       \
                           size_t nargs, HPy kwnames)                        \
    {                                                                        \
        HPy a, b = HPy_NULL, result;                                         \
        HPyTracker ht;                                                       \
        static const char *kwlist[] = { __VA_ARGS__, NULL };                 \
        (void)self;                                                          \
        if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, FMT,       \
                                  kwlist, &a, &b))                           \
            return HPy_NULL;                                                 \
        if (HPy_IsNull(b)) {                                                 \
            b = HPyLong_FromLong(ctx, 5);                                    \
            HPyTracker_Add(ctx, ht, b);                                      \
        }                                                                    \
        result = HPy_Add(ctx, a, b);                                         \
        HPyTracker_Close(ctx, ht);                                           \
        return result;                                                       \
    }

ADD_KW(add, "OO", "a", "b")
ADD_KW(add_opt, "O|O:add_opt", "a", "b")
ADD_KW(add_posonly, "O|O", "", "b")
ADD_KW(add_kwonly, "O|$O", "a", "b")
ADD_KW(add_kwonly_no_bar, "O$O", "a", "b")
ADD_KW(add_custom, "OO;give me a and b", "a", "b")
ADD_KW(unknown_unit, "OX:unknown_unit", "a", "b")
ADD_KW(too_few_names, "OO:too_few_names", "a")
ADD_KW(too_many_names, "O:too_many_names", "a", "b")
ADD_KW(blank_name, "OO", "a", "")

HPyDef_METH(no_tracker, "no_tracker", HPyFunc_KEYWORDS)
static HPy no_tracker_impl(HPyContext *ctx, HPy self, const HPy *args,
                           size_t nargs, HPy kwnames)
{
    HPy a;
    static const char *kwlist[] = { "a", NULL };
    (void)self;
    if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "O", kwlist, &a))
        return HPy_NULL;
    return HPy_Dup(ctx, a);
}

HPyDef_METH(numbers, "numbers", HPyFunc_KEYWORDS)
static HPy numbers_impl(HPyContext *ctx, HPy self, const HPy *args,
                        size_t nargs, HPy kwnames)
{
    long x = 0; double y = -1.0; int flag = 0; const char *label = "none";
    static const char *kwlist[] = { "x", "y", "flag", "label", NULL };
    (void)self;
    if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "l|d$ps:numbers",
                              kwlist, &x, &y, &flag, &label))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "ldis", x, y, flag, label);
}
"""


def test_keywords(compile_module):
    mod = compile_module(module_source(KEYWORDS))
    assert mod.add("x", "y") == "xy"
    assert mod.add("x", b="y") == "xy"
    assert mod.add(b="y", a="x") == "xy"
    with pytest.raises(TypeError, match="^function no value for required argument$"):
        mod.add(1)
    with pytest.raises(TypeError, match="^function no value for required argument$"):
        mod.add(b=1)

    assert mod.add_opt(1) == 6
    assert mod.add_opt(a=1) == 6
    assert mod.add_opt(1, 2) == 3
    assert mod.add_opt(1, b=3) == 4
    with pytest.raises(TypeError, match=r"^add_opt\(\) no value for required argument$"):
        mod.add_opt()

    assert mod.add_posonly(1) == 6
    assert mod.add_posonly(1, 2) == 3
    assert mod.add_posonly(1, b=2) == 3
    with pytest.raises(TypeError, match="^function no value for required argument$"):
        mod.add_posonly(a=1, b=2)

    for func in (mod.add_kwonly, mod.add_kwonly_no_bar):
        assert func(1) == 6
        assert func(1, b=2) == 3
        assert func(a=1, b=2) == 3
        with pytest.raises(TypeError, match="^function keyword only argument passed as positional argument$"):
            func(1, 2)

    with pytest.raises(TypeError, match="^give me a and b$"):
        mod.add_custom(1)
    assert mod.add_custom(1, b=1) == 2


def test_keywords_rejects_what_cpython_rejects(compile_module):
    mod = compile_module(module_source(KEYWORDS))
    with pytest.raises(TypeError, match=r"^add_opt\(\) takes at most 2 positional arguments \(3 given\)$"):
        mod.add_opt(1, 2, 3)
    with pytest.raises(TypeError, match=r"^function takes exactly 2 positional arguments \(3 given\)$"):
        mod.add(1, 2, 3)
    with pytest.raises(TypeError, match=r"^'c' is an invalid keyword argument for add_opt\(\)$"):
        mod.add_opt(1, c=2)
    # three arguments for two parameters: counted before the names, as CPython does
    with pytest.raises(TypeError, match=r"^function takes at most 2 arguments \(3 given\)$"):
        mod.add(1, 2, c=3)
    with pytest.raises(TypeError, match=r"^add_opt\(\) got multiple values for argument 'a'$"):
        mod.add_opt(1, a=2)
    # a positional-only parameter cannot be named
    with pytest.raises(TypeError, match=r"^'a' is an invalid keyword argument for this function$"):
        mod.add_posonly(1, a=2)
    with pytest.raises(TypeError, match="^give me a and b$"):
        mod.add_custom(1, 2, z=3)


def test_keywords_bad_format_or_names(compile_module):
    mod = compile_module(module_source(KEYWORDS))
    with pytest.raises(SystemError, match=r"^unknown_unit\(\) unknown arg format code$"):
        mod.unknown_unit(1, 2)
    # HPy 0.9 reports these as TypeError; kept for compatibility
    with pytest.raises(TypeError, match=r"^too_few_names\(\) mismatched args \(too few keywords for fmt\)$"):
        mod.too_few_names(1, 2)
    with pytest.raises(TypeError, match=r"^too_many_names\(\) mismatched args \(too many keywords for fmt\)$"):
        mod.too_many_names(1)
    with pytest.raises(SystemError, match="^function empty keyword parameter name$"):
        mod.blank_name(1, 2)
    with pytest.raises(SystemError, match="unless an HPyTracker is provided"):
        mod.no_tracker(1)


def test_keywords_mixed_units(compile_module):
    mod = compile_module(module_source(KEYWORDS))
    assert mod.numbers(3) == (3, -1.0, 0, "none")
    assert mod.numbers(3, 0.5) == (3, 0.5, 0, "none")
    assert mod.numbers(y=2, x=4, flag=[1], label="hi") == (4, 2.0, 1, "hi")
    with pytest.raises(TypeError, match=r"^numbers\(\) keyword only argument passed as positional argument$"):
        mod.numbers(1, 2.0, True)
    with pytest.raises(TypeError, match=r"^numbers\(\) a str is required$"):
        mod.numbers(1, label=1)
    with pytest.raises(OverflowError):
        mod.numbers(x=2**100)


def test_keyword_errors_come_after_earlier_conversions(compile_module):
    # Found by the fuzzer: CPython converts the arguments before a '$' or a
    # name also given by position is found wrong; HPy checked those first.
    mod = compile_module(module_source(KEYWORDS))
    with pytest.raises(OverflowError):
        mod.numbers(2**100, x=1)
    with pytest.raises(TypeError, match=r"^numbers\(\) got multiple values for argument 'x'$"):
        mod.numbers(1, x=1)
    with pytest.raises(OverflowError):
        mod.numbers(2**100, 1.0, True)
    with pytest.raises(TypeError, match=r"^numbers\(\) keyword only argument passed as positional argument$"):
        mod.numbers(1, 1.0, True)


def test_n_takes_objects_with_index(compile_module):
    # Found by the fuzzer: 'n' refused what CPython's 'n' takes (PyNumber_Index).
    class Index:
        def __init__(self, value):
            self.value = value

        def __index__(self):
            if self.value is None:
                raise ZeroDivisionError
            return self.value

    mod = compile_module(module_source(PARSE_ONE))
    seven = Index(7)
    before = sys.getrefcount(seven)
    assert mod.n(seven) == 7
    assert sys.getrefcount(seven) == before
    assert mod.n(True) == 1
    with pytest.raises(ZeroDivisionError):
        mod.n(Index(None))
    with pytest.raises(OverflowError):
        mod.n(Index(2**70))
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        mod.n("7")


def test_too_many_arguments_in_all_is_reported_before_conversions(compile_module):
    # Found by the fuzzer: a surplus keyword came after the conversions, so a bad
    # value hid it (OverflowError here); CPython counts all arguments first.
    mod = compile_module(module_source(KEYWORDS))
    with pytest.raises(TypeError, match=r"^numbers\(\) takes at most 4 arguments \(5 given\)$"):
        mod.numbers(2**100, y=1.0, flag=1, label="a", other=0)
    with pytest.raises(TypeError, match=r"^numbers\(\) takes at most 4 keyword arguments \(5 given\)$"):
        mod.numbers(x=2**100, y=1.0, flag=1, label="a", other=0)


DICT = r"""
/* f(args_tuple, kwargs_dict_or_None): parse like a tp_init would */
#define ADD_DICT(NAME, FMT, ...)                                               \
    HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS)                                \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args,       \
                           size_t nargs)                                     \
    {                                                                        \
        HPy items[8], a, b = HPy_NULL, kw, result;                           \
        HPy_ssize_t n, i;                                                    \
        HPyTracker ht;                                                       \
        int ok;                                                              \
        static const char *kwlist[] = { __VA_ARGS__, NULL };                 \
        (void)self;                                                          \
        if (nargs != 2) {                                                    \
            HPyErr_SetString(ctx, ctx->h_TypeError, "want (tuple, dict)");   \
            return HPy_NULL;                                                 \
        }                                                                    \
        n = HPy_Length(ctx, args[0]);                                        \
        if (n < 0 || n > 8)                                                  \
            return HPy_NULL;                                                 \
        for (i = 0; i < n; i++)                                              \
            items[i] = HPy_GetItem_i(ctx, args[0], i);                       \
        kw = HPy_Is(ctx, args[1], ctx->h_None) ? HPy_NULL : args[1];         \
        ok = HPyArg_ParseKeywordsDict(ctx, &ht, items, n, kw, FMT, kwlist,   \
                                      &a, &b);                               \
        if (ok && HPy_IsNull(b)) {                                           \
            b = HPyLong_FromLong(ctx, 5);                                    \
            HPyTracker_Add(ctx, ht, b);                                      \
        }                                                                    \
        result = ok ? HPyTuple_Pack(ctx, 2, a, b) : HPy_NULL;                \
        if (ok)                                                              \
            HPyTracker_Close(ctx, ht);                                       \
        for (i = 0; i < n; i++)                                              \
            HPy_Close(ctx, items[i]);                                        \
        return result;                                                       \
    }

ADD_DICT(pair, "O|O", "a", "b")
ADD_DICT(pair_kwonly, "O$O:pair_kwonly", "a", "b")

/* a long and a C string that must stay valid until the tracker is closed */
HPyDef_METH(long_and_str, "long_and_str", HPyFunc_VARARGS)
static HPy long_and_str_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long x = 0;
    const char *s = "unset";
    HPyTracker ht;
    HPy result;
    static const char *kwlist[] = { "x", "s", NULL };
    (void)self;
    (void)nargs;
    if (!HPyArg_ParseKeywordsDict(ctx, &ht, NULL, 0, args[0], "|ls", kwlist, &x, &s))
        return HPy_NULL;
    result = HPy_BuildValue(ctx, "ls", x, s);
    HPyTracker_Close(ctx, ht);
    return result;
}
"""


def test_keywords_dict(compile_module):
    mod = compile_module(module_source(DICT))
    assert mod.pair((), {"a": 3, "b": 2}) == (3, 2)
    assert mod.pair((3, 2), {}) == (3, 2)
    assert mod.pair((3, 2), None) == (3, 2)
    assert mod.pair((), {"a": 3}) == (3, 5)
    assert mod.pair((3,), None) == (3, 5)
    with pytest.raises(TypeError, match="^function no value for required argument$"):
        mod.pair((), {})
    with pytest.raises(TypeError, match="^function no value for required argument$"):
        mod.pair((), None)
    with pytest.raises(TypeError, match=r"^function takes at most 2 positional arguments \(3 given\)$"):
        mod.pair((1, 2, 3), None)
    with pytest.raises(TypeError, match="^'zz' is an invalid keyword argument for this function$"):
        mod.pair((1,), {"zz": 1})
    with pytest.raises(TypeError, match="^function keywords must be strings$"):
        mod.pair((1,), {2: 1})
    with pytest.raises(TypeError, match="^function got multiple values for argument 'a'$"):
        mod.pair((1,), {"a": 1})

    assert mod.pair_kwonly((1,), {"b": 2}) == (1, 2)
    with pytest.raises(TypeError, match=r"^pair_kwonly\(\) keyword only argument passed as positional argument$"):
        mod.pair_kwonly((1, 2), None)

    assert mod.long_and_str({}) == (0, "unset")
    assert mod.long_and_str({"x": 2**40, "s": "caf\u00e9"}) == (2**40, "caf\u00e9")
    with pytest.raises(ValueError, match="^function embedded null character$"):
        mod.long_and_str({"s": "a\0"})


def test_keywords_dict_closes_the_handles_it_fetched(compile_module):
    """Values fetched from the dict are owned by the tracker (or closed at once):
    after any number of calls, successful or not, no reference is left behind."""
    mod = compile_module(module_source(DICT))
    a, b = object(), object()
    big = 2**40 + 12345   # not a cached small int
    text = "some text \u20ac" * 3

    def calls():
        assert mod.pair((), {"a": a, "b": b}) == (a, b)
        assert mod.pair((a,), {"b": b}) == (a, b)
        assert mod.long_and_str({"x": big, "s": text}) == (big, text)
        with pytest.raises(TypeError):
            mod.pair((), {"b": b})          # 'a' missing after 'b' was looked up
        with pytest.raises(TypeError):
            mod.pair((), {"a": a, "b": b, "c": b})  # unknown keyword after both were fetched
        with pytest.raises(TypeError):
            mod.long_and_str({"x": big, "s": 1})    # 's' fails after 'x' was fetched

    calls()  # warm up whatever the interpreter caches
    before = [sys.getrefcount(o) for o in (a, b, big, text)]
    for _ in range(50):
        calls()
    assert [sys.getrefcount(o) for o in (a, b, big, text)] == before


# issue 9, item 1: "s" from HPyArg_ParseKeywordsDict without a tracker, given a
# mapping whose __getitem__ returns a new str, returned a pointer into that str
# after closing its only handle. Run under PYTHONMALLOC=debug, which overwrites
# freed memory, in a separate interpreter.
DICT_STR = r"""
/* str_of(kw, use_tracker): parse "|s" from kw, churn the allocator, then
 * return the C string as a new str */
HPyDef_METH(str_of, "str_of", HPyFunc_VARARGS)
static HPy str_of_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *s = "unset";
    static const char *kwlist[] = { "s", NULL };
    HPyTracker ht;
    int use_tracker, i;
    HPy kw, result;
    (void)self;
    if (nargs != 2)
        return HPyErr_Format(ctx, ctx->h_TypeError, "want (kw, use_tracker)");
    use_tracker = HPy_IsTrue(ctx, args[1]);
    kw = HPy_Is(ctx, args[0], ctx->h_None) ? HPy_NULL : args[0];
    if (!HPyArg_ParseKeywordsDict(ctx, use_tracker ? &ht : NULL, NULL, 0, kw,
                                  "|s", kwlist, &s))
        return HPy_NULL;
    for (i = 0; i < 100; i++) {  /* reuse whatever memory was freed */
        HPy junk = HPyUnicode_FromString(ctx, "junk junk junk junk junk junk junk");
        HPy_Close(ctx, junk);
    }
    result = HPyUnicode_FromString(ctx, s);
    if (use_tracker)
        HPyTracker_Close(ctx, ht);
    return result;
}
"""


def test_keywords_dict_str_outlives_the_parse(hpy_compiler, hpy_abi, tmp_path):
    from support import run_isolated
    probe = r"""
        import sys

        class Fresh(dict):
            # every lookup makes a new str, owned by nobody else
            def __getitem__(self, key):
                return "".join(["fresh value ", str(dict.__getitem__(self, key))] * 4)

        class Mapping:
            def __len__(self):
                return 1
            def __getitem__(self, key):
                return "".join(["mapped ", key] * 4)

        want = "".join(["fresh value ", "7"] * 4)
        for _ in range(20):
            # a tracker owns the fetched str: any mapping works
            assert mod.str_of(Fresh(s=7), True) == want
            assert mod.str_of(Mapping(), True) == "mapped s" * 4
            # without one, only an exact dict keeps the str alive
            for kw in (Fresh(s=7), Mapping()):
                try:
                    mod.str_of(kw, False)
                except SystemError as e:
                    assert "Please supply an HPyTracker" in str(e), str(e)
                else:
                    raise AssertionError("no SystemError for %r" % type(kw))
            value = "".join(["exact dict ", "value"])
            before = sys.getrefcount(value)
            assert mod.str_of({"s": value}, False) == value
            assert mod.str_of({"s": value}, True) == value
            assert sys.getrefcount(value) == before
            # an empty mapping, or none at all, needs nothing
            assert mod.str_of(Fresh(), False) == "unset"
            assert mod.str_of(None, False) == "unset"
        print("ok")
    """
    result = run_isolated(hpy_compiler, hpy_abi, tmp_path, module_source(DICT_STR), "mytest", probe,
                          env={"PYTHONMALLOC": "debug"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
