"""Debug mode catches each handle mistake, naming it and the author's C line.

Each mistake is a small universal module run in debug mode (HPY=debug) in a
fresh interpreter, since the default reaction is a fatal error. The expected
lines come from marker comments in the C source.
"""
import re

import pytest

from support import run_isolated

HEADER = r"""
#include <string.h>
#include "hpy.h"
"""

FOOTER = r"""
static HPyDef *defines[] = { &f, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mistake, moduledef)
"""


def line_of(source, marker):
    for number, text in enumerate(source.splitlines(), 1):
        if "/* %s */" % marker in text:
            return number
    raise AssertionError("no marker %s" % marker)


def site(source, marker, func="f_impl"):
    return "mistake.c:%d in %s" % (line_of(source, marker), func)


def run(hpy_compiler, tmp_path, body, probe="mod.f()\n", env=None):
    source = HEADER + body + FOOTER
    result = run_isolated(hpy_compiler, "universal", tmp_path, source, "mistake", probe,
                          env=dict({"HPY": "debug"}, **(env or {})))
    return source, result


def assert_fatal(result, *parts):
    assert result.returncode != 0, result.stdout + result.stderr
    for part in parts:
        assert part in result.stderr, result.stderr


def test_use_of_closed_handle(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy h = HPy_Add(ctx, arg, arg);   /* CREATED */
    HPy_Close(ctx, h);                /* CLOSED */
    return HPy_Add(ctx, h, arg);      /* MISTAKE */
}
""", probe="mod.f(20)\n")
    assert_fatal(result, "Invalid usage of already closed handle: HPy_Add got <DebugHandle 0x",
                 "created at %s, closed at %s, at %s" % (
                     site(source, "CREATED"), site(source, "CLOSED"), site(source, "MISTAKE")))


def test_closing_twice(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    HPy h = HPyLong_FromLong(ctx, 12345);   /* CREATED */
    HPy_Close(ctx, h);
    HPy_Close(ctx, h);                       /* MISTAKE */
    return HPy_Dup(ctx, ctx->h_None);
}
""")
    assert_fatal(result, "Invalid usage of already closed handle: HPy_Close of <DebugHandle 0x",
                 "created at %s" % site(source, "CREATED"),
                 "at %s: closing a handle twice" % site(source, "MISTAKE"))


@pytest.mark.parametrize("which", ["arg", "self"])
def test_closing_a_borrowed_handle(hpy_compiler, tmp_path, which):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self; (void)arg;
    HPy_Close(ctx, %s);   /* MISTAKE */
    return HPy_Dup(ctx, ctx->h_None);
}
""" % which, probe="mod.f(1)\n")
    assert_fatal(result, "Invalid usage of already closed handle: HPy_Close of a handle the "
                 "function does not own: <DebugHandle 0x",
                 "(an argument)>, at %s: arguments and self are borrowed" % site(source, "MISTAKE"))


def test_closing_a_context_constant(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    HPy_Close(ctx, ctx->h_None);   /* MISTAKE */
    return HPy_Dup(ctx, ctx->h_None);
}
""")
    assert_fatal(result, "Invalid usage of already closed handle: HPy_Close of a context "
                 "constant <DebugHandle 0x",
                 "(a context constant)>, at %s: ctx->h_* handles are borrowed and never closed"
                 % site(source, "MISTAKE"))


def test_returning_a_closed_handle(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)    /* FUNC */
{
    (void)self;
    HPy h = HPyLong_FromLong(ctx, 12345);   /* CREATED */
    HPy_Close(ctx, h);                       /* CLOSED */
    return h;
}
""")
    assert_fatal(result, "Invalid usage of already closed handle: ",
                 "in f_impl returned <DebugHandle 0x",
                 "created at %s, closed at %s" % (site(source, "CREATED"), site(source, "CLOSED")))


def test_returning_a_constant_without_dup(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return ctx->h_None;
}
""")
    assert_fatal(result, "Invalid usage of already closed handle: ",
                 "in f_impl returned <DebugHandle 0x", "(a context constant)> without HPy_Dup")


def test_returning_an_argument_without_dup(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)ctx; (void)self;
    return arg;
}
""", probe="mod.f(1)\n")
    assert_fatal(result, "Invalid usage of already closed handle: ",
                 "in f_impl returned <DebugHandle 0x", "(an argument)> without HPy_Dup")


@pytest.mark.parametrize("kind, after", [("List", "Build"), ("Tuple", "Cancel")])
def test_builder_after_build_or_cancel(hpy_compiler, tmp_path, kind, after):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    HPy%(kind)sBuilder b = HPy%(kind)sBuilder_New(ctx, 1);   /* CREATED */
    HPy%(kind)sBuilder_Set(ctx, b, 0, ctx->h_None);
    HPy r = HPy%(kind)sBuilder_Build(ctx, b);                /* CLOSED */
    HPy%(kind)sBuilder_Set(ctx, b, 0, ctx->h_None);          /* MISTAKE */
    return r;
}
""".replace("HPy r = HPy%(kind)sBuilder_Build(ctx, b);", "HPy%(kind)sBuilder_%(after)s(ctx, b); HPy r = HPy_Dup(ctx, ctx->h_None);"
            if after == "Cancel" else "HPy r = HPy%(kind)sBuilder_Build(ctx, b);")
        % {"kind": kind, "after": after})
    assert_fatal(result, "Invalid usage of already closed builder: HPy%sBuilder_Set at %s, after "
                 "HPy%sBuilder_%s at %s (the builder was created at %s)" % (
                     kind, site(source, "MISTAKE"), kind, after, site(source, "CLOSED"),
                     site(source, "CREATED")))


READ_AFTER_CLOSE = r"""
HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy s = HPy_Str(ctx, arg);   /* CREATED */
    %(get)s
    HPy_Close(ctx, s);           /* CLOSED */
    return HPyLong_FromLong(ctx, (long)strlen(p));   /* MISTAKE */
}
"""


@pytest.mark.parametrize("function, get", [
    ("HPyUnicode_AsUTF8AndSize", "const char *p = HPyUnicode_AsUTF8AndSize(ctx, s, NULL);"),
    ("HPyBytes_AsString", "HPy b = HPyUnicode_AsUTF8String(ctx, s); HPy_Close(ctx, s); s = b;\n"
                          "    const char *p = HPyBytes_AsString(ctx, s);"),
])
def test_reading_chars_after_close(hpy_compiler, tmp_path, function, get):
    source, result = run(hpy_compiler, tmp_path, READ_AFTER_CLOSE % {"get": get},
                         probe="mod.f('hello')\n")
    assert result.returncode < 0, result.stderr  # the read faults
    assert_fatal(result, "Fatal HPy debug error: reading the memory returned by %s after its "
                 "handle was closed: <DebugHandle 0x" % function,
                 "closed at %s" % site(source, "CLOSED"))


def test_reading_chars_while_open_works(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy_ssize_t n;
    const char *p = HPyUnicode_AsUTF8AndSize(ctx, arg, &n);
    const char *q = HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
    return HPyLong_FromLong(ctx, (long)strlen(p) * 100 + (long)n * 10 + (p == q));
}
""", probe="assert mod.f('héllo') == 661, mod.f('héllo')\nprint('ok')\n")
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


def test_writing_into_read_only_chars(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    char *p = (char *)HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
    p[0] = 'X';   /* MISTAKE */
    return HPy_Dup(ctx, ctx->h_None);
}
""", probe="mod.f('hello')\n")
    assert result.returncode < 0, result.stderr
    assert_fatal(result, "Fatal HPy debug error: writing into the read-only memory returned by "
                 "HPyUnicode_AsUTF8AndSize: <DebugHandle 0x", "(an argument)>")


def test_stale_context(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
static HPyContext *kept;
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    if (kept == NULL) {
        kept = ctx;
        return HPy_Dup(ctx, ctx->h_None);
    }
    return HPyLong_FromLong(kept, 1);   /* MISTAKE */
}
""", probe="mod.f()\nmod.f()\n")
    assert_fatal(result, "Error: Wrong HPy Context!",
                 "used at %s was kept from an earlier call" % site(source, "MISTAKE"))


TYPE_WITH_FIELD = r"""
typedef struct { HPyField a; HPyField b; } PairObject;
HPyType_HELPERS(PairObject)
HPyDef_SLOT(Pair_traverse, HPy_tp_traverse)
static int Pair_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    PairObject *p = (PairObject *)object;
    HPy_VISIT(&p->a);
    %(visit_b)s
    return 0;
}
static HPyDef *Pair_defines[] = { &Pair_traverse, NULL };
static HPyType_Spec Pair_spec = { .name = "mistake.Pair", .basicsize = sizeof(PairObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC, .defines = Pair_defines };

HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy type = HPyType_FromSpec(ctx, &Pair_spec, NULL);
    PairObject *p;
    HPy obj = HPy_New(ctx, type, &p);
    HPy_Close(ctx, type);
    HPy item = HPy_Dup(ctx, arg);   /* CREATED */
    HPyField_Store(ctx, obj, &p->a, item);
    %(closing)s
    HPyField_Store(ctx, obj, &p->b, item);   /* MISTAKE */
    HPy_Close(ctx, item);
    return obj;
}
"""


def test_storing_a_closed_handle_into_a_field(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, TYPE_WITH_FIELD % {
        "visit_b": "HPy_VISIT(&p->b);", "closing": "HPy_Close(ctx, item);   /* CLOSED */"},
        probe="mod.f(object())\n")
    assert_fatal(result, "Invalid usage of already closed handle: HPyField_Store (storing a "
                 "closed handle into an HPyField) got <DebugHandle 0x",
                 "created at %s, closed at %s, at %s" % (
                     site(source, "CREATED"), site(source, "CLOSED"), site(source, "MISTAKE")))


def test_traverse_that_skips_a_field(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, TYPE_WITH_FIELD % {"visit_b": "", "closing": ""},
                         probe="mod.f(object())\n")
    assert_fatal(result, "HPyField_Store at %s: the HPy_tp_traverse of type 'Pair' does not visit "
                 "this field (at offset 8 of the object's struct)" % site(source, "MISTAKE"))


def test_fields_visited_run_clean(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, TYPE_WITH_FIELD % {
        "visit_b": "HPy_VISIT(&p->b);", "closing": ""},
        probe="o = mod.f(object())\nprint(type(o).__name__)\n")
    assert result.returncode == 0 and result.stdout == "Pair\n", result.stderr


def test_storing_a_closed_handle_into_a_global(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
static HPyGlobal g;
HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy h = HPy_Dup(ctx, arg);   /* CREATED */
    HPy_Close(ctx, h);            /* CLOSED */
    HPyGlobal_Store(ctx, &g, h);  /* MISTAKE */
    return HPy_Dup(ctx, ctx->h_None);
}
""".replace("HPy_MODINIT", "HPy_MODINIT"), probe="mod.f(object())\n")
    assert_fatal(result, "HPyGlobal_Store (storing a closed handle into an HPyGlobal) got",
                 "at %s" % site(source, "MISTAKE"))


def test_callback_replaces_the_fatal_error(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    HPy h = HPyLong_FromLong(ctx, 12345);
    HPy_Close(ctx, h);
    HPy_Close(ctx, h);
    HPy_Close(ctx, ctx->h_None);
    return HPy_Dup(ctx, ctx->h_None);
}
""", probe="import hpy_build.debug as d\nseen = []\nd.set_on_invalid_handle(lambda: seen.append(1))\n"
           "mod.f()\nprint(len(seen))\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2\n"


@pytest.mark.parametrize("call, args, message, got", [
    ("HPyBool_FromLong(ctx, HPy_TypeCheck(ctx, args[0], args[1]))", "1, 'x'",
     "HPy_TypeCheck arg 2 must be a type", "str"),
    ("HPyBool_FromLong(ctx, HPyType_IsSubtype(ctx, args[0], args[1]))", "'x', str",
     "HPyType_IsSubtype arg 1 must be a type", "str"),
    ("HPyBool_FromLong(ctx, HPyType_IsSubtype(ctx, args[0], args[1]))", "bool, 2",
     "HPyType_IsSubtype arg 2 must be a type", "int"),
    ("HPyUnicode_Substring(ctx, args[0], 0, 1)", "b'x', 0",
     "HPyUnicode_Substring arg 1 must be a Unicode object", "bytes"),
    ("HPyUnicode_FromString(ctx, HPyType_GetName(ctx, args[0]))", "'x', 0",
     "HPyType_GetName arg must be a type", "str"),
    ("HPy_Call(ctx, args[0], args, 0, args[1])", "print, ['end']",
     "HPy_Call arg 'kwnames' must be a tuple object or HPy_NULL", "list"),
])
def test_argument_of_the_wrong_type(hpy_compiler, tmp_path, call, args, message, got):
    # undefined behaviour in the CPython ABI: HPy 0.9's words, then where and what
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_VARARGS)
static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return %s;   /* MISTAKE */
}
""" % call, probe="mod.f(%s)\n" % args)
    assert_fatal(result, "%s, at %s (got a '%s' object)" % (message, site(source, "MISTAKE"), got))


def test_right_types_pass_the_checks(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
HPyDef_METH(f, "f", HPyFunc_VARARGS)
static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    int ok = HPy_TypeCheck(ctx, args[0], args[1]) && HPyType_IsSubtype(ctx, args[1], args[1]);
    HPy sub = HPyUnicode_Substring(ctx, args[0], 0, 2);
    HPy name = HPyUnicode_FromString(ctx, HPyType_GetName(ctx, args[1]));
    HPy res = HPy_BuildValue(ctx, "(iOO)", ok, sub, name);
    HPy_Close(ctx, sub);
    HPy_Close(ctx, name);
    return res;
}
""", probe="print(mod.f('xyz', str))\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "(1, 'xy', 'str')\n"


def test_as_struct_of_another_shape(hpy_compiler, tmp_path):
    source, result = run(hpy_compiler, tmp_path, r"""
typedef struct { long value; } PointObject;
/* not the shape of the spec (Object) */
HPyType_HELPERS(PointObject, HPyType_BuiltinShape_Long)   /* MISTAKE */
static HPyType_Spec Point_spec = { .name = "mistake.Point", .basicsize = sizeof(PointObject) };

HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    HPy t = HPyType_FromSpec(ctx, &Point_spec, NULL);
    HPy p = HPy_Call(ctx, t, NULL, 0, HPy_NULL);
    long v = PointObject_AsStruct(ctx, p)->value;
    HPy_Close(ctx, p);
    HPy_Close(ctx, t);
    return HPyLong_FromLong(ctx, v);
}
""")
    assert_fatal(result, "Invalid usage of _HPy_AsStruct_Long. Expected shape "
                 "HPyType_BuiltinShape_Long but got HPyType_BuiltinShape_Object, at %s"
                 % site(source, "MISTAKE", "PointObject_AsStruct"))


def test_context_kept_across_a_call_into_python(hpy_compiler, tmp_path):
    # the outer call's context is not valid while Python code it calls runs
    source, result = run(hpy_compiler, tmp_path, r"""
static HPyContext *kept;

HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    if (HPy_Is(ctx, arg, ctx->h_None))
        return HPy_Dup(kept, ctx->h_None);   /* MISTAKE */
    kept = ctx;
    return HPy_CallTupleDict(ctx, arg, HPy_NULL, HPy_NULL);
}
""", probe="print(mod.f(lambda: 42))\nmod.f(lambda: mod.f(None))\n")
    assert result.stdout == "42\n"
    assert_fatal(result, "Error: Wrong HPy Context! The HPyContext 0x",
                 "used at %s was kept from an earlier call" % site(source, "MISTAKE"))
