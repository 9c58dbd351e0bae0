"""HPyArg_Parse's inline parser (a string-literal format, argparse.h) against the
general walk (a format in a variable, and the function called through a pointer):
same outputs, same untouched optionals, same errors, in both ABIs."""
import os
import subprocess
import sys

import pytest

from support import run_isolated

# FORMS(NAME, FMT, DECLS, RESULT, outputs...) defines NAME_lit (literal format:
# the inline parser, whose errors go to the variadic function), NAME_var (the
# format in a volatile pointer: the general walk through the outputs' array)
# and NAME_ptr (&HPyArg_Parse through a function pointer: the varargs walk).
SOURCE = r"""
#include "hpy.h"

typedef int (*parse_fn)(HPyContext *, HPyTracker *, const HPy *, size_t,
                        const char *, ...);

#define FORMS(NAME, FMT, DECLS, RESULT, ...)                                   \
    HPyDef_METH(NAME##_lit, #NAME "_lit", HPyFunc_VARARGS)                     \
    static HPy NAME##_lit_impl(HPyContext *ctx, HPy self, const HPy *args,     \
                               size_t nargs)                                   \
    {                                                                          \
        DECLS;                                                                 \
        (void)self;                                                            \
        if (!HPyArg_Parse(ctx, NULL, args, nargs, FMT, __VA_ARGS__))           \
            return HPy_NULL;                                                   \
        return RESULT;                                                         \
    }                                                                          \
    HPyDef_METH(NAME##_var, #NAME "_var", HPyFunc_VARARGS)                     \
    static HPy NAME##_var_impl(HPyContext *ctx, HPy self, const HPy *args,     \
                               size_t nargs)                                   \
    {                                                                          \
        const char *volatile fmt = FMT;                                        \
        DECLS;                                                                 \
        (void)self;                                                            \
        if (!HPyArg_Parse(ctx, NULL, args, nargs, fmt, __VA_ARGS__))           \
            return HPy_NULL;                                                   \
        return RESULT;                                                         \
    }                                                                          \
    HPyDef_METH(NAME##_ptr, #NAME "_ptr", HPyFunc_VARARGS)                     \
    static HPy NAME##_ptr_impl(HPyContext *ctx, HPy self, const HPy *args,     \
                               size_t nargs)                                   \
    {                                                                          \
        parse_fn volatile parse = &HPyArg_Parse;                               \
        DECLS;                                                                 \
        (void)self;                                                            \
        if (!parse(ctx, NULL, args, nargs, FMT, __VA_ARGS__))                  \
            return HPy_NULL;                                                   \
        return RESULT;                                                         \
    }

FORMS(o, "O", HPy a, HPy_Dup(ctx, a), &a)
FORMS(oo, "OO:oo", HPy a; HPy b, HPy_BuildValue(ctx, "(OO)", a, b), &a, &b)
FORMS(o_opt, "O|O;custom message", HPy a; HPy b = ctx->h_Ellipsis,
      HPy_BuildValue(ctx, "(OO)", a, b), &a, &b)
FORMS(oi, "Oi", HPy a; int i = -7, HPy_BuildValue(ctx, "(Oi)", a, i), &a, &i)
FORMS(o_opt_i, "O|i:f", HPy a; int i = -7, HPy_BuildValue(ctx, "(Oi)", a, i), &a, &i)
FORMS(mixed, "OidsO|n", HPy a; int i = -7; double d = -7.5; const char *s = "unset";
      HPy b; HPy_ssize_t n = -7,
      HPy_BuildValue(ctx, "(OidsOn)", a, i, d, s, b, n), &a, &i, &d, &s, &b, &n)
FORMS(io, "i|O", int i = -7; HPy a = ctx->h_Ellipsis,
      HPy_BuildValue(ctx, "(iO)", i, a), &i, &a)
FORMS(po, "pO", int p = -7; HPy a, HPy_BuildValue(ctx, "(iO)", p, a), &p, &a)
FORMS(unknown, "Oz", HPy a; HPy b, HPy_Dup(ctx, a), &a, &b)
FORMS(dollar, "O$O", HPy a; HPy b, HPy_Dup(ctx, a), &a, &b)

/* empty varargs: nothing after the format */
#define EMPTY(NAME, FMT)                                                       \
    HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS)                                  \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args,         \
                           size_t nargs)                                       \
    {                                                                          \
        (void)self;                                                            \
        if (!HPyArg_Parse(ctx, NULL, args, nargs, FMT))                        \
            return HPy_NULL;                                                   \
        return HPy_Dup(ctx, ctx->h_None);                                      \
    }
EMPTY(empty_lit, "")
EMPTY(empty_named_lit, ":nothing")

HPyDef_METH(empty_var, "empty_var", HPyFunc_VARARGS)
static HPy empty_var_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *volatile fmt = "";
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, fmt))
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(empty_named_var, "empty_named_var", HPyFunc_VARARGS)
static HPy empty_named_var_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *volatile fmt = ":nothing";
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, fmt))
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

/* With a tracker: created on success (closed here), closed by the parser on
 * failure, in both paths. */
#define TRACKED(NAME, FMT_EXPR)                                                \
    HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS)                                  \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args,         \
                           size_t nargs)                                       \
    {                                                                          \
        HPyTracker ht;                                                         \
        HPy a, result;                                                         \
        int i = -7;                                                            \
        (void)self;                                                            \
        if (!HPyArg_Parse(ctx, &ht, args, nargs, FMT_EXPR, &a, &i))            \
            return HPy_NULL;                                                   \
        result = HPy_BuildValue(ctx, "(Oi)", a, i);                            \
        HPyTracker_Close(ctx, ht);                                             \
        return result;                                                         \
    }
static const char *volatile tracked_fmt = "O|i";
TRACKED(tracked_lit, "O|i")
TRACKED(tracked_var, tracked_fmt)

/* One output pointer short: only the inline parser can see it. */
HPyDef_METH(short_outputs, "short_outputs", HPyFunc_VARARGS)
static HPy short_outputs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO", &a))
        return HPy_NULL;
    return HPy_Dup(ctx, a);
}

/* The macro evaluates each argument once, on the inline path and when it
 * falls back to the function alike. */
HPyDef_METH(evaluated_once, "evaluated_once", HPyFunc_VARARGS)
static HPy evaluated_once_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a = HPy_NULL, b = HPy_NULL;
    int n_args = 0, n_a = 0, n_b = 0, ok;
    (void)self;
    ok = HPyArg_Parse(ctx, NULL, (n_args++, args), nargs, "O|O", (n_a++, &a), (n_b++, &b));
    if (!ok)
        HPyErr_Clear(ctx);
    return HPy_BuildValue(ctx, "(iiii)", ok, n_args, n_a, n_b);
}

static HPyDef *defines[] = {
#define THREE(NAME) &NAME##_lit, &NAME##_var, &NAME##_ptr
    &evaluated_once,
    THREE(o), THREE(oo), THREE(o_opt), THREE(oi), THREE(o_opt_i), THREE(mixed),
    THREE(io), THREE(po), THREE(unknown), THREE(dollar),
    &empty_lit, &empty_var, &empty_named_lit, &empty_named_var,
    &tracked_lit, &tracked_var, &short_outputs, NULL
};
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mytest, moduledef)
"""

FORMS = ["o", "oo", "o_opt", "oi", "o_opt_i", "mixed", "io", "po", "unknown", "dollar"]


class Index:
    def __index__(self):
        return 5


class BadIndex:
    def __index__(self):
        raise ZeroDivisionError("index")


class BadBool:
    def __bool__(self):
        raise ZeroDivisionError("bool")


ARGS = [
    (), (1,), (1, 2), (1, 2, 3), ("x", 2), (1, "x"), (1, 2**40), (None,),
    (1, 2, 3.5, "s", None), (1, 2, 3.5, "s", None, Index()),
    (1, 2, 3.5, "s", None, 7, 8), (1, 2, "nope", "s", None), (1, 2, 3.5, "a\0b", None),
    (1, 2, 3.5, "s", None, BadIndex()), (BadBool(), 1), (0, 1), ([], None),
]


def outcome(f, args):
    try:
        return ("ok", f(*args))
    except Exception as e:
        return ("error", type(e), str(e))


def test_inline_and_general_paths_agree(compile_module):
    mod = compile_module(SOURCE)
    for name in FORMS:
        lit, var, ptr = (getattr(mod, name + s) for s in ("_lit", "_var", "_ptr"))
        for args in ARGS:
            expected = outcome(var, args)
            assert outcome(lit, args) == expected, (name, args)
            assert outcome(ptr, args) == expected, (name, args)
    for lit, var in [(mod.empty_lit, mod.empty_var),
                     (mod.empty_named_lit, mod.empty_named_var),
                     (mod.tracked_lit, mod.tracked_var)]:
        for args in ARGS:
            assert outcome(lit, args) == outcome(var, args), (lit, args)


def test_inline_path_results(compile_module):
    """What the agreeing paths give, spelled out (so the test fails if both drift)."""
    mod = compile_module(SOURCE)
    sentinel = object()
    assert mod.o_lit(sentinel) is sentinel
    assert mod.oo_lit(1, sentinel) == (1, sentinel)
    assert mod.o_opt_lit(1) == (1, ...)                    # optional left untouched
    assert mod.o_opt_i_lit(sentinel) == (sentinel, -7)
    assert mod.mixed_lit(1, 2, 3.5, "s", None) == (1, 2, 3.5, "s", None, -7)
    assert mod.mixed_lit(1, 2, 3.5, "s", None, Index()) == (1, 2, 3.5, "s", None, 5)
    assert mod.po_lit([], 1) == (0, 1)
    assert mod.io_lit(4) == (4, ...)
    assert mod.empty_lit() is None and mod.empty_named_lit() is None
    assert mod.tracked_lit(sentinel, 3) == (sentinel, 3)
    assert mod.evaluated_once(1) == (1, 1, 1, 1)
    assert mod.evaluated_once(1, 2, 3) == (0, 1, 1, 1)   # through the function
    cases = [
        (mod.o_lit, (), TypeError, "function required positional argument missing"),
        (mod.o_lit, (1, 2), TypeError, "function mismatched args (too many arguments for fmt)"),
        (mod.oo_lit, (1,), TypeError, "oo() required positional argument missing"),
        (mod.o_opt_lit, (), TypeError, "custom message"),
        (mod.oi_lit, (1, "x"), TypeError, None),
        (mod.oi_lit, (1, 2**40), OverflowError, "function signed integer is greater than maximum"),
        (mod.o_opt_i_lit, (1, 2**40), OverflowError, "f() signed integer is greater than maximum"),
        (mod.mixed_lit, (1, 2, 3.5, "a\0b", None), ValueError, "function embedded null character"),
        (mod.mixed_lit, (1, 2, 3.5, "s", None, BadIndex()), ZeroDivisionError, "index"),
        (mod.po_lit, (BadBool(), 1), ZeroDivisionError, "bool"),
        (mod.unknown_lit, (1, 2), SystemError, "function unknown arg format code"),
        (mod.dollar_lit, (1, 2), SystemError, "function unknown arg format code"),
        (mod.empty_lit, (1,), TypeError, "function mismatched args (too many arguments for fmt)"),
        (mod.empty_named_lit, (1,), TypeError,
         "nothing() mismatched args (too many arguments for fmt)"),
        (mod.tracked_lit, (), TypeError, "function required positional argument missing"),
        (mod.tracked_lit, (1, "x"), TypeError, None),
        (mod.short_outputs, (1, 2), SystemError,
         "HPyArg_Parse: fewer output pointers than format units"),
    ]
    for f, args, exc, message in cases:
        with pytest.raises(exc) as info:
            f(*args)
        if message is not None:
            assert str(info.value) == message, (f, args)


@pytest.mark.skipif(not hasattr(sys, "getrefcount"), reason="CPython reference counts")
def test_inline_path_keeps_reference_counts(compile_module):
    mod = compile_module(SOURCE)
    obj = object()
    for f, args in [(mod.o_lit, (obj,)), (mod.oo_lit, (obj, obj)), (mod.o_opt_lit, (obj,)),
                    (mod.tracked_lit, (obj, 1)), (mod.tracked_lit, (obj, "x")),
                    (mod.mixed_lit, (obj, 2, 3.5, "s", obj, BadIndex())),
                    (mod.o_lit, (obj, obj)), (mod.short_outputs, (obj, obj))]:
        before = sys.getrefcount(obj)
        for _ in range(100):
            try:
                f(*args)
            except Exception:
                pass
        assert sys.getrefcount(obj) == before, (f, args)


def test_inline_path_folds_a_literal_format(tmp_path):
    """At -O2 the walk over a literal "O|O" is gone: the function's only call
    is the general walk (HPyArg_Parse itself, for a wrong argument count)."""
    import os
    if os.uname().machine != "x86_64":
        pytest.skip("reads x86-64 relocations")
    include = os.path.join(os.path.dirname(__file__), "..", "include")
    src = tmp_path / "fold.c"
    src.write_text('#include "hpy.h"\n'
                   "int lit(HPyContext *ctx, const HPy *args, size_t nargs, HPy *a);\n"
                   "int lit(HPyContext *ctx, const HPy *args, size_t nargs, HPy *a)\n"
                   '{ return HPyArg_Parse(ctx, NULL, args, nargs, "O|O", a, a); }\n')
    obj = tmp_path / "fold.o"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-DHPY_ABI_UNIVERSAL",
                    "-I", include, "-c", str(src), "-o", str(obj)], check=True)
    asm = subprocess.run(["objdump", "-d", "-r", "--no-show-raw-insn", str(obj)], check=True,
                         capture_output=True, text=True).stdout
    calls = [line.split()[-1] for line in asm.splitlines() if "R_X86_64_PLT32" in line]
    assert calls == ["HPyArg_Parse-0x4"], asm
    # no loop left: no backward jump, and no load from the format string
    assert ".rodata" not in "\n".join(l for l in asm.splitlines() if "mov" in l and "(%r" in l)


# The same three ways for HPyArg_ParseKeywords (HPyFunc_KEYWORDS functions).
KW_SOURCE = r"""
#include "hpy.h"

typedef int (*parse_kw_fn)(HPyContext *, HPyTracker *, const HPy *, size_t, HPy,
                           const char *, const char *[], ...);

#define KW_FORMS(NAME, FMT, ...)                                               \
    static HPy NAME##_result(HPyContext *ctx, HPy a, HPy b)                    \
    {                                                                          \
        return HPy_BuildValue(ctx, "(OO)", HPy_IsNull(a) ? ctx->h_Ellipsis : a, \
                              HPy_IsNull(b) ? ctx->h_Ellipsis : b);            \
    }                                                                          \
    static const char *NAME##_kwlist[] = { __VA_ARGS__ };                      \
    HPyDef_METH(NAME##_lit, #NAME "_lit", HPyFunc_KEYWORDS)                    \
    static HPy NAME##_lit_impl(HPyContext *ctx, HPy self, const HPy *args,     \
                               size_t nargs, HPy kwnames)                      \
    {                                                                          \
        HPyTracker ht;                                                         \
        HPy a = HPy_NULL, b = HPy_NULL, r;                                     \
        (void)self;                                                            \
        if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, FMT,         \
                                  NAME##_kwlist, &a, &b))                      \
            return HPy_NULL;                                                   \
        r = NAME##_result(ctx, a, b);                                          \
        HPyTracker_Close(ctx, ht);                                             \
        return r;                                                              \
    }                                                                          \
    HPyDef_METH(NAME##_var, #NAME "_var", HPyFunc_KEYWORDS)                    \
    static HPy NAME##_var_impl(HPyContext *ctx, HPy self, const HPy *args,     \
                               size_t nargs, HPy kwnames)                      \
    {                                                                          \
        const char *volatile fmt = FMT;                                        \
        HPyTracker ht;                                                         \
        HPy a = HPy_NULL, b = HPy_NULL, r;                                     \
        (void)self;                                                            \
        if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, fmt,         \
                                  NAME##_kwlist, &a, &b))                      \
            return HPy_NULL;                                                   \
        r = NAME##_result(ctx, a, b);                                          \
        HPyTracker_Close(ctx, ht);                                             \
        return r;                                                              \
    }                                                                          \
    HPyDef_METH(NAME##_ptr, #NAME "_ptr", HPyFunc_KEYWORDS)                    \
    static HPy NAME##_ptr_impl(HPyContext *ctx, HPy self, const HPy *args,     \
                               size_t nargs, HPy kwnames)                      \
    {                                                                          \
        parse_kw_fn volatile parse = &HPyArg_ParseKeywords;                    \
        HPyTracker ht;                                                         \
        HPy a = HPy_NULL, b = HPy_NULL, r;                                     \
        (void)self;                                                            \
        if (!parse(ctx, &ht, args, nargs, kwnames, FMT, NAME##_kwlist, &a, &b)) \
            return HPy_NULL;                                                   \
        r = NAME##_result(ctx, a, b);                                          \
        HPyTracker_Close(ctx, ht);                                             \
        return r;                                                              \
    }

KW_FORMS(opt, "O|O", "a", "b", NULL)
KW_FORMS(named, "OO:kw", "a", "b", NULL)
KW_FORMS(kwonly, "O$O", "a", "b", NULL)
KW_FORMS(posonly, "O|O;custom", "", "b", NULL)
KW_FORMS(all_opt, "|OO", "alpha", "beta", NULL)
KW_FORMS(short_list, "OO", "a", NULL)
KW_FORMS(long_list, "OO", "a", "b", "c", NULL)
KW_FORMS(blank_name, "OO", "a", "", NULL)

/* no tracker: the general walk's SystemError */
HPyDef_METH(no_tracker, "no_tracker", HPyFunc_KEYWORDS)
static HPy no_tracker_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                           HPy kwnames)
{
    static const char *kwlist[] = { "a", NULL };
    HPy a;
    (void)self;
    if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "O", kwlist, &a))
        return HPy_NULL;
    return HPy_Dup(ctx, a);
}

static HPyDef *defines[] = {
#define THREE(NAME) &NAME##_lit, &NAME##_var, &NAME##_ptr
    THREE(opt), THREE(named), THREE(kwonly), THREE(posonly), THREE(all_opt),
    THREE(short_list), THREE(long_list), THREE(blank_name),
    &no_tracker, NULL
};
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mytest, moduledef)
"""

KW_FORMS_NAMES = ["opt", "named", "kwonly", "posonly", "all_opt", "short_list", "long_list",
                  "blank_name"]

KW_CALLS = [
    ((), {}), ((1,), {}), ((1, 2), {}), ((1, 2, 3), {}), ((1,), {"b": 2}), ((), {"a": 1, "b": 2}),
    ((), {"b": 2, "a": 1}), ((1,), {"a": 2}), ((1,), {"c": 2}), ((1, 2), {"b": 3}),
    ((), {"b": 2}), ((), {"alpha": 1}), ((), {"beta": 2, "alpha": 1}), ((), {"alpha": 1, "x": 2}),
    ((1,), {"b": 2, "c": 3}), ((1,), {"": 2}), ((1,), {"bb": 2}), ((1,), {"b\0": 2}),
    ((1,), {"b": "x"}), ((1,), {"é": 2}),
]


def kw_outcome(f, args, kwargs):
    try:
        return ("ok", f(*args, **kwargs))
    except Exception as e:
        return ("error", type(e), str(e))


def test_inline_keywords_agree_with_the_general_walk(compile_module):
    mod = compile_module(KW_SOURCE)
    for name in KW_FORMS_NAMES:
        lit, var, ptr = (getattr(mod, name + s) for s in ("_lit", "_var", "_ptr"))
        for args, kwargs in KW_CALLS:
            expected = kw_outcome(var, args, kwargs)
            assert kw_outcome(lit, args, kwargs) == expected, (name, args, kwargs)
            assert kw_outcome(ptr, args, kwargs) == expected, (name, args, kwargs)


def test_inline_keywords_results(compile_module):
    mod = compile_module(KW_SOURCE)
    sentinel = object()
    assert mod.opt_lit(sentinel) == (sentinel, ...)
    assert mod.opt_lit(1, b=sentinel) == (1, sentinel)
    assert mod.opt_lit(b=sentinel, a=1) == (1, sentinel)
    assert mod.kwonly_lit(1, b=2) == (1, 2)
    assert mod.posonly_lit(1, b=2) == (1, 2)
    assert mod.all_opt_lit(beta=2) == (..., 2)
    cases = [
        (mod.opt_lit, (), {}, TypeError, "function no value for required argument"),
        (mod.opt_lit, (1,), {"c": 2}, TypeError, "'c' is an invalid keyword argument for this function"),
        (mod.opt_lit, (1,), {"a": 2}, TypeError, "function got multiple values for argument 'a'"),
        (mod.named_lit, (1, 2, 3), {}, TypeError, "kw() takes exactly 2 positional arguments (3 given)"),
        (mod.kwonly_lit, (1, 2), {}, TypeError,
         "function keyword only argument passed as positional argument"),
        (mod.posonly_lit, (), {"b": 1}, TypeError, "custom"),
        (mod.short_list_lit, (1, 2), {}, TypeError, "function mismatched args (too few keywords for fmt)"),
        (mod.long_list_lit, (1, 2), {}, TypeError, "function mismatched args (too many keywords for fmt)"),
        (mod.blank_name_lit, (1, 2), {}, SystemError, "function empty keyword parameter name"),
        (mod.no_tracker, (1,), {}, SystemError, None),
    ]
    for f, args, kwargs, exc, message in cases:
        with pytest.raises(exc) as info:
            f(*args, **kwargs)
        if message is not None:
            assert str(info.value) == message, (f, args, kwargs)


@pytest.mark.skipif(not hasattr(sys, "getrefcount"), reason="CPython reference counts")
def test_inline_keywords_keep_reference_counts(compile_module):
    mod = compile_module(KW_SOURCE)
    obj = object()
    for args, kwargs in [((obj,), {}), ((obj,), {"b": obj}), ((), {"b": obj, "a": obj}),
                         ((obj,), {"c": obj}), ((obj, obj, obj), {}), ((obj,), {"a": obj})]:
        for f in (mod.opt_lit, mod.opt_var, mod.kwonly_lit):
            before = sys.getrefcount(obj)
            for _ in range(100):
                try:
                    f(*args, **kwargs)
                except TypeError:
                    pass
            assert sys.getrefcount(obj) == before, (f, args, kwargs)


def test_inline_paths_in_debug_mode(hpy_compiler, tmp_path):
    """Debug mode wraps the context: the inline parsers still agree with the
    general walk, leak no handle, and the keyword outputs are the tracker's
    handles (closed with it), as in HPy 0.9."""
    probe = """
        import sys
        sys.path.insert(0, %r)
        from test_argparse_inline import ARGS, FORMS, KW_CALLS, KW_FORMS_NAMES, outcome, kw_outcome
        from hpy_build.debug import LeakDetector
        with LeakDetector():
            for name in FORMS:
                for args in ARGS:
                    lit, var = getattr(mod, name + "_lit"), getattr(mod, name + "_var")
                    assert outcome(lit, args) == outcome(var, args), (name, args)
        print("ok")
    """ % os.path.dirname(os.path.abspath(__file__))
    result = run_isolated(hpy_compiler, "universal", tmp_path, SOURCE, "mytest", probe,
                          env={"HPY": "debug"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ok"
    kw_probe = probe.replace(
        "for name in FORMS:\n                for args in ARGS:\n"
        "                    lit, var = getattr(mod, name + \"_lit\"), getattr(mod, name + \"_var\")\n"
        "                    assert outcome(lit, args) == outcome(var, args), (name, args)",
        "for name in KW_FORMS_NAMES:\n                for args, kwargs in KW_CALLS:\n"
        "                    lit, var = getattr(mod, name + \"_lit\"), getattr(mod, name + \"_var\")\n"
        "                    assert kw_outcome(lit, args, kwargs) == kw_outcome(var, args, kwargs)")
    assert kw_probe != probe
    (tmp_path / "kw").mkdir()
    result = run_isolated(hpy_compiler, "universal", tmp_path / "kw", KW_SOURCE, "mytest", kw_probe,
                          env={"HPY": "debug"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ok"
