"""Handles, constants, and methods of every signature, in both ABIs."""
import pytest


MODULE = r"""
#include "hpy.h"

HPyDef_METH(f_noargs, "f_noargs", HPyFunc_NOARGS, .doc = "takes nothing")
static HPy f_noargs_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(f_o, "f_o", HPyFunc_O)
static HPy f_o_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_Add(ctx, arg, arg);
}

HPyDef_METH(f_varargs, "f_varargs", HPyFunc_VARARGS)
static HPy f_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    return HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
}

HPyDef_METH(f_keywords, "f_keywords", HPyFunc_KEYWORDS)
static HPy f_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    /* keyword values follow the positional ones */
    HPy_ssize_t nkw = HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames);
    HPy pos = HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs + nkw);
    HPy names = HPy_IsNull(kwnames) ? HPyTuple_FromArray(ctx, NULL, 0) : HPy_Dup(ctx, kwnames);
    HPy result = HPyTuple_Pack(ctx, 2, pos, names);
    HPy_Close(ctx, pos);
    HPy_Close(ctx, names);
    return result;
}

HPyDef_METH(constants, "constants", HPyFunc_NOARGS)
static HPy constants_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyTuple_Pack(ctx, 6, ctx->h_None, ctx->h_True, ctx->h_ValueError,
                         ctx->h_ListType, ctx->h_SliceType, ctx->h_Builtins);
}

static HPyDef *module_defines[] = { &f_noargs, &f_o, &f_varargs, &f_keywords, &constants, NULL };
static HPyModuleDef moduledef = { .doc = "a test module", .defines = module_defines };
HPy_MODINIT(mytest, moduledef)
"""


def test_methods_of_every_signature(compile_module):
    mod = compile_module(MODULE)
    assert mod.__doc__ == "a test module"
    assert mod.f_noargs() == 42
    assert mod.f_noargs.__doc__ == "takes nothing"
    assert mod.f_o(21) == 42
    assert mod.f_o("ab") == "abab"
    assert mod.f_varargs() == ()
    assert mod.f_varargs(1, "x", None) == (1, "x", None)
    assert mod.f_keywords(1, 2, a=3, b=4) == ((1, 2, 3, 4), ("a", "b"))
    assert mod.f_keywords() == ((), ())
    with pytest.raises(TypeError):
        mod.f_noargs(1)
    with pytest.raises(TypeError):
        mod.f_o()


def test_constants(compile_module):
    import builtins
    mod = compile_module(MODULE)
    assert mod.constants() == (None, True, ValueError, list, slice, builtins.__dict__)
