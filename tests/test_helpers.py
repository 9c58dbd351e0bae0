"""HPyHelpers_PackArgsAndKeywords and HPyHelpers_AddType, in both ABIs."""
import sys

import pytest

SOURCE = r"""
#include "hpy.h"

static HPy or_none(HPyContext *ctx, HPy h)
{
    return HPy_IsNull(h) ? ctx->h_None : h;
}

/* pack(*args, **kwargs) -> (args tuple or None, kwargs dict or None) */
HPyDef_METH(pack, "pack", HPyFunc_KEYWORDS)
static HPy pack_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    HPy pos, kw, result;
    (void)self;
    if (!HPyHelpers_PackArgsAndKeywords(ctx, args, nargs, kwnames, &pos, &kw))
        return HPy_NULL;
    result = HPyTuple_Pack(ctx, 2, or_none(ctx, pos), or_none(ctx, kw));
    if (!HPy_IsNull(pos))
        HPy_Close(ctx, pos);
    if (!HPy_IsNull(kw))
        HPy_Close(ctx, kw);
    return result;
}

/* pack_raw(npos, kwnames, *values): any kwnames object; on failure checks
 * that the outputs were left alone before letting the error through */
HPyDef_METH(pack_raw, "pack_raw", HPyFunc_VARARGS)
static HPy pack_raw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy pos = ctx->h_Ellipsis, kw = ctx->h_Ellipsis, result;
    long npos = HPyLong_AsLong(ctx, args[0]);
    HPy kwnames = HPy_Is(ctx, args[1], ctx->h_None) ? HPy_NULL : args[1];
    (void)self;
    (void)nargs;
    if (!HPyHelpers_PackArgsAndKeywords(ctx, args + 2, (size_t)npos, kwnames, &pos, &kw)) {
        if (!HPy_Is(ctx, pos, ctx->h_Ellipsis) || !HPy_Is(ctx, kw, ctx->h_Ellipsis)) {
            HPyErr_Clear(ctx);
            HPyErr_SetString(ctx, ctx->h_AssertionError, "outputs written on failure");
        }
        return HPy_NULL;
    }
    result = HPyTuple_Pack(ctx, 2, or_none(ctx, pos), or_none(ctx, kw));
    if (!HPy_IsNull(pos))
        HPy_Close(ctx, pos);
    if (!HPy_IsNull(kw))
        HPy_Close(ctx, kw);
    return result;
}

HPyDef_METH(null_outputs, "null_outputs", HPyFunc_O)
static HPy null_outputs_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy out;
    (void)self;
    if (HPyLong_AsLong(ctx, arg) == 0)
        HPyHelpers_PackArgsAndKeywords(ctx, NULL, 0, HPy_NULL, NULL, &out);
    else
        HPyHelpers_PackArgsAndKeywords(ctx, NULL, 0, HPy_NULL, &out, NULL);
    return HPy_NULL;
}

static HPyType_Spec Dummy_spec = {
    .name = "mytest.Dummy",
    .basicsize = 0,
    .flags = HPy_TPFLAGS_DEFAULT,
    .doc = "a type added by HPyHelpers_AddType",
};

/* add_type(target): adds Dummy to target (the module if None) */
HPyDef_METH(add_type, "add_type", HPyFunc_O)
static HPy add_type_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy target = HPy_Is(ctx, arg, ctx->h_None) ? self : arg;
    int ok = HPyHelpers_AddType(ctx, target, "Dummy", &Dummy_spec, NULL);
    if (ok != 0 && ok != 1) {
        HPyErr_SetString(ctx, ctx->h_AssertionError, "AddType returned neither 0 nor 1");
        return HPy_NULL;
    }
    if (!ok) {
        if (!HPyErr_Occurred(ctx))
            HPyErr_SetString(ctx, ctx->h_AssertionError, "AddType failed without an error");
        return HPy_NULL;
    }
    return HPy_Dup(ctx, ctx->h_True);
}

static HPyDef *defines[] = { &pack, &pack_raw, &null_outputs, &add_type, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mytest, moduledef)
"""


@pytest.fixture
def mod(compile_module):
    return compile_module(SOURCE)


def test_pack_args_and_keywords(mod):
    assert mod.pack() == (None, None)
    assert mod.pack(1, "2", b"3") == ((1, "2", b"3"), None)
    assert mod.pack(1, "2", b"3", a="b", c="d") == ((1, "2", b"3"), {"a": "b", "c": "d"})
    assert mod.pack(a="b", c="d") == (None, {"a": "b", "c": "d"})
    obj = object()
    pos, kw = mod.pack(obj, key=obj)
    assert pos[0] is obj and kw["key"] is obj
    # an empty kwnames tuple means no keywords
    assert mod.pack_raw(2, (), 1, 2) == ((1, 2), None)
    assert mod.pack_raw(1, ("x", "y"), 1, 2, 3) == ((1,), {"x": 2, "y": 3})


def test_pack_errors(mod):
    with pytest.raises(SystemError, match="^argument 'out_pos_args' must not be NULL$"):
        mod.null_outputs(0)
    with pytest.raises(SystemError, match="^argument 'out_kwd' must not be NULL$"):
        mod.null_outputs(1)
    # kwnames that is not a sequence, or whose names cannot be dict keys
    with pytest.raises(TypeError):
        mod.pack_raw(0, 42)
    with pytest.raises(TypeError, match="unhashable"):
        mod.pack_raw(1, ("ok", []), 1, 2, 3)


def test_pack_leaves_no_references(mod):
    obj = object()
    mod.pack(obj, k=obj)
    before = sys.getrefcount(obj)
    for _ in range(50):
        assert mod.pack(obj, obj, k=obj)[0] == (obj, obj)
        with pytest.raises(TypeError):
            mod.pack_raw(1, ("ok", []), obj, obj, obj)
    assert sys.getrefcount(obj) == before


def _add_type_or_skip(mod, target):
    try:
        return mod.add_type(target)
    except SystemError as exc:
        if "not implemented" in str(exc):
            pytest.skip("the runtime's HPyType_FromSpec is not implemented yet: " + str(exc))
        raise


def test_add_type_error_path(mod):
    """Whatever fails inside (creating the type or storing it), AddType reports
    0 with the exception set, and the caller sees that exception."""
    with pytest.raises((SystemError, AttributeError, TypeError)):
        mod.add_type(42)   # an int takes no attributes
    with pytest.raises((SystemError, AttributeError, TypeError)):
        mod.add_type(object())  # neither does a plain object


def test_add_type(mod):
    assert _add_type_or_skip(mod, None) is True
    assert mod.Dummy.__name__ == "Dummy"
    assert mod.Dummy.__doc__ == "a type added by HPyHelpers_AddType"
    with pytest.raises(AttributeError):
        _add_type_or_skip(mod, 42)
