"""HPy_BuildValue, in both ABIs."""
import sys

import pytest


def cases_module(cases):
    """A module whose f(i) returns the i-th C expression of ``cases``."""
    switch = "\n".join("    case %d: return %s;" % (i, code) for i, code in enumerate(cases))
    return r"""
#include "hpy.h"
#include <limits.h>

HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    switch (HPyLong_AsLong(ctx, arg)) {
%s
    default:
        HPyErr_SetString(ctx, ctx->h_ValueError, "no such case");
        return HPy_NULL;
    }
}

static HPyDef *defines[] = { &f, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mytest, moduledef)
""" % switch


GOOD = [
    ('HPy_BuildValue(ctx, "")', None),
    ('HPy_BuildValue(ctx, "  ")', None),
    ('HPy_BuildValue(ctx, "i", 42)', 42),
    ('HPy_BuildValue(ctx, "i", -1)', -1),
    ('HPy_BuildValue(ctx, "b", 7)', 7),
    ('HPy_BuildValue(ctx, "h", -300)', -300),
    ('HPy_BuildValue(ctx, "B", 255)', 255),
    ('HPy_BuildValue(ctx, "H", 65535)', 65535),
    ('HPy_BuildValue(ctx, "I", 33u)', 33),
    ('HPy_BuildValue(ctx, "k", 1ul)', 1),
    ('HPy_BuildValue(ctx, "K", 6543ull)', 6543),
    ('HPy_BuildValue(ctx, "n", (HPy_ssize_t)-9876)', -9876),
    ('HPy_BuildValue(ctx, "l", -876L)', -876),
    ('HPy_BuildValue(ctx, "L", -344LL)', -344),
    ('HPy_BuildValue(ctx, "f", 0.25f)', 0.25),
    ('HPy_BuildValue(ctx, "d", -0.5)', -0.5),
    ('HPy_BuildValue(ctx, "c", (int)\'x\')', b"x"),
    ('HPy_BuildValue(ctx, "s", "caf\\xc3\\xa9")', "caf\u00e9"),
    ('HPy_BuildValue(ctx, "s", (const char *)NULL)', None),
    ('HPy_BuildValue(ctx, "z", (const char *)NULL)', None),
    ('HPy_BuildValue(ctx, "z", "zz")', "zz"),
    ('HPy_BuildValue(ctx, "y", "raw")', b"raw"),
    ('HPy_BuildValue(ctx, "O", ctx->h_True)', True),
    ('HPy_BuildValue(ctx, "S", ctx->h_ValueError)', ValueError),
    ('HPy_BuildValue(ctx, "ii", -1, 1)', (-1, 1)),
    ('HPy_BuildValue(ctx, "i, i", -1, 1)', (-1, 1)),
    ('HPy_BuildValue(ctx, "()")', ()),
    ('HPy_BuildValue(ctx, "(i)", -1)', (-1,)),
    ('HPy_BuildValue(ctx, "(i,i)", -1, 1)', (-1, 1)),
    ('HPy_BuildValue(ctx, "[]")', []),
    ('HPy_BuildValue(ctx, "[i]", 4)', [4]),
    ('HPy_BuildValue(ctx, "[is]", 4, "2")', [4, "2"]),
    ('HPy_BuildValue(ctx, "{}")', {}),
    ('HPy_BuildValue(ctx, "{s:i, s:f}", "A", 4, "B", 0.25)', {"A": 4, "B": 0.25}),
    ('HPy_BuildValue(ctx, "{s:i,}", "A", 4)', {"A": 4}),
    ('HPy_BuildValue(ctx, "{i:(ii), s:[]}", 1, 2, 3, "x")', {1: (2, 3), "x": []}),
    ('HPy_BuildValue(ctx, "[(is)((f)[kk])i]", 4, "str", 0.25, 4ul, 2ul, 14267)',
     [(4, "str"), ((0.25,), [4, 2]), 14267]),
    ('HPy_BuildValue(ctx, "({s:(i,i), s:f},[i])", "A", 4, 4, "B", 0.25, 42)',
     ({"A": (4, 4), "B": 0.25}, [42])),
    ('HPy_BuildValue(ctx, "(iiiiiiiiiiiiiiiiiiii)", %s)' % ", ".join(str(i) for i in range(20)),
     tuple(range(20))),
    ('HPy_BuildValue(ctx, "(ii)", INT_MIN, INT_MAX)', (-2**31, 2**31 - 1)),
    ('HPy_BuildValue(ctx, "(LL)", LLONG_MIN, LLONG_MAX)', (-2**63, 2**63 - 1)),
    ('HPy_BuildValue(ctx, "(IK)", UINT_MAX, ULLONG_MAX)', (2**32 - 1, 2**64 - 1)),
    ('HPy_BuildValue(ctx, "(nn)", HPY_SSIZE_T_MIN, HPY_SSIZE_T_MAX)',
     (-sys.maxsize - 1, sys.maxsize)),
]


def test_formats(compile_module):
    mod = compile_module(cases_module([code for code, _ in GOOD]))
    for i, (code, expected) in enumerate(GOOD):
        result = mod.f(i)
        assert result == expected, code
        assert type(result) is type(expected), code


BAD = [
    ('HPy_BuildValue(ctx, "(q)", 42)', "bad format char 'q'"),
    ('HPy_BuildValue(ctx, "i#", 42)', "bad format char '#'"),
    ('HPy_BuildValue(ctx, "(i", 42)', "unmatched '('"),
    ('HPy_BuildValue(ctx, "[i", 42)', "unmatched '['"),
    ('HPy_BuildValue(ctx, "([(i)k", 42, 1ul)', "unmatched '('"),
    ('HPy_BuildValue(ctx, "(i]", 42)', "unmatched '('"),
    ('HPy_BuildValue(ctx, "[i)", 42)', "unmatched '['"),
    ('HPy_BuildValue(ctx, "i)", 42)', "unmatched ')'"),
    ('HPy_BuildValue(ctx, "{i:i", 1, 42)', "unmatched '{'"),
    ('HPy_BuildValue(ctx, "{i:i,,}", 1, 42)', "unexpected ','"),
    ('HPy_BuildValue(ctx, "{i:ii,}", 1, 42, 42)', "missing ','"),
    ('HPy_BuildValue(ctx, "{i}", 42)', "missing ':'"),
]


def test_bad_formats(compile_module):
    mod = compile_module(cases_module([code for code, _ in BAD]))
    for i, (code, message) in enumerate(BAD):
        with pytest.raises(SystemError) as info:
            mod.f(i)
        assert str(info.value) == message + " in the format string passed to HPy_BuildValue", code


def test_N_is_refused(compile_module):
    mod = compile_module(cases_module(['HPy_BuildValue(ctx, "N", ctx->h_None)']))
    with pytest.raises(SystemError, match="HPy_BuildValue does not support the 'N' formatting unit"):
        mod.f(0)


def test_unhashable_dict_key_propagates(compile_module):
    mod = compile_module(cases_module(['HPy_BuildValue(ctx, "{[]:i}", 1)']))
    with pytest.raises(TypeError, match="unhashable"):
        mod.f(0)


def test_errors_come_in_reading_order(compile_module):
    # Found by the fuzzer: dicts were filled only when closed, so a bad value
    # after an unhashable key won; CPython inserts each pair as it is built.
    mod = compile_module(cases_module([
        'HPy_BuildValue(ctx, "{[]:i, i:s}", 1, 2, "\\xff")',
        'HPy_BuildValue(ctx, "({i:i, []:i}, s)", 1, 2, 3, "\\xff")',
        'HPy_BuildValue(ctx, "[s, {[]:i}]", "\\xff", 1)',
        'HPy_BuildValue(ctx, "{s:{i:[i]}, i:(s)}", "k", 1, 2, 3, "v")']))
    for i in range(3):
        with pytest.raises(TypeError if i < 2 else UnicodeDecodeError):
            mod.f(i)
    assert mod.f(3) == {"k": {1: [2]}, 3: ("v",)}


HANDLES = r"""
#include "hpy.h"

/* The caller keeps its handles: BuildValue duplicates what it stores. */
HPyDef_METH(wrap, "wrap", HPyFunc_O)
static HPy wrap_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy fresh = HPyLong_FromLong(ctx, 42);
    HPy result = HPy_BuildValue(ctx, "(O[O]{s:O}O)", arg, fresh, "k", arg, arg);
    (void)self;
    HPy_Close(ctx, fresh);
    return result;
}

HPyDef_METH(same, "same", HPyFunc_O)
static HPy same_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_BuildValue(ctx, "O", arg);
}

/* HPy_NULL for 'O': the error of the call that produced it wins. */
HPyDef_METH(null_after_error, "null_after_error", HPyFunc_O)
static HPy null_after_error_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long which = HPyLong_AsLong(ctx, arg);
    (void)self;
    HPyErr_SetString(ctx, ctx->h_ValueError, "the first error");
    if (which == 1)
        return HPy_BuildValue(ctx, "O", HPy_NULL);
    return HPy_BuildValue(ctx, "[i(iO)]", 1, 2, HPy_NULL);
}

HPyDef_METH(null_without_error, "null_without_error", HPyFunc_O)
static HPy null_without_error_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    if (HPyLong_AsLong(ctx, arg) == 1)
        return HPy_BuildValue(ctx, "O", HPy_NULL);
    return HPy_BuildValue(ctx, "{s:i,s:O}", "a", 1, "b", HPy_NULL);
}

/* an error in the middle of a container: the built items are released */
HPyDef_METH(fail_late, "fail_late", HPyFunc_O)
static HPy fail_late_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_BuildValue(ctx, "(OO[O{s:O}]q)", arg, arg, arg, "x", arg);
}

/* more values and levels than BuildValue keeps on the C stack (issue 9,
 * item 3): its heap stacks grow, on success and on a late error */
HPyDef_METH(wrap_many, "wrap_many", HPyFunc_VARARGS)
static HPy wrap_many_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a;
    int fail = 0;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "O|p", &a, &fail))
        return HPy_NULL;
    if (fail)
        return HPy_BuildValue(ctx, "OOOOOOOOOOOOOOOOOO((((((((((O))))))))))q",
                              a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a);
    return HPy_BuildValue(ctx, "OOOOOOOOOOOOOOOOOO(((((((((({s:[O]}))))))))))",
                          a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, "k", a);
}

static HPyDef *defines[] = { &wrap, &same, &null_after_error, &null_without_error, &fail_late,
                             &wrap_many, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mytest, moduledef)
"""


def test_handles(compile_module):
    mod = compile_module(HANDLES)
    obj = object()
    assert mod.wrap(obj) == (obj, [42], {"k": obj}, obj)
    assert mod.same(obj) is obj

    for case in (1, 0):
        with pytest.raises(ValueError, match="^the first error$"):
            mod.null_after_error(case)
        with pytest.raises(SystemError, match="^HPy_NULL object passed to HPy_BuildValue$"):
            mod.null_without_error(case)

    with pytest.raises(SystemError, match="bad format char 'q'"):
        mod.fail_late(obj)

    many = mod.wrap_many(obj)
    assert many[:18] == (obj,) * 18
    inner = many[18]
    for _ in range(10):
        inner = inner[0]
    assert inner == {"k": [obj]}
    del many, inner
    with pytest.raises(SystemError, match="bad format char 'q'"):
        mod.wrap_many(obj, True)

    # no reference to obj is left behind, on success or on error
    mod.wrap(obj), mod.same(obj)
    before = sys.getrefcount(obj)
    for _ in range(50):
        assert mod.wrap_many(obj)[0] is obj
        with pytest.raises(SystemError):
            mod.wrap_many(obj, True)
        assert mod.wrap(obj)[0] is obj
        assert mod.same(obj) is obj
        with pytest.raises(SystemError):
            mod.fail_late(obj)
    assert sys.getrefcount(obj) == before


# issue 9, item 3: a deeply nested format overflowed the C stack (a recursive
# group skip, and recursion per level). The format is now walked with heap
# stacks: 10^6 levels, where CPython's own Py_BuildValue crashes, must work.
DEEP = r"""
#include "hpy.h"
#include <stdlib.h>
#include <string.h>

/* nested(depth, opening, closing, middle): HPy_BuildValue of
 * opening * depth + middle + closing * depth, no arguments */
HPyDef_METH(nested, "nested", HPyFunc_VARARGS)
static HPy nested_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy_ssize_t depth, i;
    const char *opening, *closing, *middle;
    size_t lo, lc, lm;
    char *fmt, *p;
    HPy result;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "nsss", &depth, &opening, &closing, &middle))
        return HPy_NULL;
    lo = strlen(opening);
    lc = strlen(closing);
    lm = strlen(middle);
    fmt = (char *)malloc((size_t)depth * (lo + lc) + lm + 1);
    if (fmt == NULL)
        return HPyErr_NoMemory(ctx);
    p = fmt;
    for (i = 0; i < depth; i++, p += lo)
        memcpy(p, opening, lo);
    memcpy(p, middle, lm);
    p += lm;
    for (i = 0; i < depth; i++, p += lc)
        memcpy(p, closing, lc);
    *p = '\0';
    result = HPy_BuildValue(ctx, fmt);
    free(fmt);
    return result;
}

static HPyDef *defines[] = { &nested, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(bv_deep, moduledef)
"""


def test_deep_nesting_does_not_overflow_the_stack(hpy_compiler, hpy_abi, tmp_path):
    from support import run_isolated
    probe = r"""
        def depth_of(value, kinds):
            depth = 0
            while True:
                assert type(value) is kinds[depth % len(kinds)], (depth, type(value))
                depth += 1
                if not value:
                    return depth
                assert len(value) == 1
                value = value[0]

        n = 10**6
        assert depth_of(mod.nested(n, "(", ")", ""), [tuple]) == n
        assert depth_of(mod.nested(n // 2, "[(", ")]", ""), [list, tuple]) == n
        assert depth_of(mod.nested(n, "[ ", " ],", ""), [list]) == n
        deep = mod.nested(1000, "(", ")", "{}")   # the innermost is a dict
        for _ in range(1000):
            deep = deep[0]
        assert deep == {}
        for args, message in [((n, "(", "", ""), "unmatched '('"),
                              ((n, "[", ")", ""), "unmatched '['"),
                              ((n, "", ")", ""), "unmatched ')'"),
                              ((n, "(", ")", "q"), "bad format char 'q'"),
                              ((n, "{", "}", ""), "missing ':'")]:
            try:
                mod.nested(*args)
            except SystemError as e:
                assert str(e) == message + " in the format string passed to HPy_BuildValue", str(e)
            else:
                raise AssertionError(args)
        print("ok")
    """
    result = run_isolated(hpy_compiler, hpy_abi, tmp_path, DEEP, "bv_deep", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
