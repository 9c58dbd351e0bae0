"""HPy_mod_exec, module globals and HPyImport_ImportModule, in both ABIs."""
import math
import os
import sys

import pytest

SOURCE = r"""
#include "hpy.h"

static HPyGlobal g_value;

HPyDef_SLOT(exec_first, HPy_mod_exec)
static int exec_first_impl(HPyContext *ctx, HPy module)
{
    HPy answer = HPyLong_FromLong(ctx, 42);
    HPy order = HPyList_New(ctx, 0);
    HPy initial = HPyUnicode_FromString(ctx, "initial");
    HPy first = HPyUnicode_FromString(ctx, "first");
    int ok = !HPy_IsNull(answer) && !HPy_IsNull(order) && !HPy_IsNull(initial)
        && !HPy_IsNull(first)
        && HPy_SetAttr_s(ctx, module, "answer", answer) == 0
        && HPyList_Append(ctx, order, first) == 0
        && HPy_SetAttr_s(ctx, module, "exec_order", order) == 0
        /* the module's methods exist before exec runs */
        && HPy_SetAttr_s(ctx, module, "saw_methods",
                         HPy_HasAttr_s(ctx, module, "global_load") ? ctx->h_True : ctx->h_False) == 0;
    if (ok)
        HPyGlobal_Store(ctx, &g_value, initial);
    HPy_Close(ctx, answer);
    HPy_Close(ctx, order);
    HPy_Close(ctx, initial);
    HPy_Close(ctx, first);
    return ok ? 0 : -1;
}

HPyDef_SLOT(exec_second, HPy_mod_exec)
static int exec_second_impl(HPyContext *ctx, HPy module)
{
    HPy order = HPy_GetAttr_s(ctx, module, "exec_order");
    HPy second = HPyUnicode_FromString(ctx, "second");
    int result;
    if (HPy_IsNull(order))
        return -1;
    result = HPyList_Append(ctx, order, second);
    HPy_Close(ctx, order);
    HPy_Close(ctx, second);
    return result;
}

HPyDef_METH(global_store, "global_store", HPyFunc_O)
static HPy global_store_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPyGlobal_Store(ctx, &g_value, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(global_load, "global_load", HPyFunc_NOARGS)
static HPy global_load_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyGlobal_Load(ctx, g_value);
}

HPyDef_METH(import_module, "import_module", HPyFunc_O)
static HPy import_module_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *name = HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
    (void)self;
    if (name == NULL)
        return HPy_NULL;
    return HPyImport_ImportModule(ctx, name);
}

static HPyDef *module_defines[] = {
    &exec_first, &exec_second, &global_store, &global_load, &import_module, NULL
};
static HPyGlobal *module_globals[] = { &g_value, NULL };
static HPyModuleDef moduledef = {
    .doc = "module with exec slots",
    .defines = module_defines,
    .globals = module_globals,
};
HPy_MODINIT(api_module, moduledef)
"""

FAILING_EXEC = r"""
#include "hpy.h"

HPyDef_SLOT(exec_fail, HPy_mod_exec)
static int exec_fail_impl(HPyContext *ctx, HPy module)
{
    HPy_SetAttr_s(ctx, module, "partial", ctx->h_True);
    HPyErr_SetString(ctx, ctx->h_ValueError, "exec refused: missing configuration");
    return -1;
}

static HPyDef *module_defines[] = { &exec_fail, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_module_fail, moduledef)
"""

SILENT_FAILING_EXEC = r"""
#include "hpy.h"

HPyDef_SLOT(exec_fail, HPy_mod_exec)
static int exec_fail_impl(HPyContext *ctx, HPy module)
{
    (void)ctx; (void)module;
    return -1;
}

static HPyDef *module_defines[] = { &exec_fail, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_module_silent, moduledef)
"""

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_module")
    return _built[hpy_abi]


def test_exec_slots_run_in_order_and_add_attributes(mod):
    assert mod.__name__ == "api_module"
    assert mod.__doc__ == "module with exec slots"
    assert mod.answer == 42
    assert mod.exec_order == ["first", "second"]
    assert mod.saw_methods is True


def test_exec_failure_fails_the_import(compile_module):
    with pytest.raises(ValueError, match="exec refused: missing configuration"):
        compile_module(FAILING_EXEC, name="api_module_fail")


def test_exec_failure_without_error_is_a_system_error(compile_module):
    with pytest.raises(SystemError, match="api_module_silent"):
        compile_module(SILENT_FAILING_EXEC, name="api_module_silent")


def test_global_persists_across_calls(mod):
    value = object()
    mod.global_store(value)
    assert mod.global_load() is value
    assert mod.global_load() is value
    mod.global_store("replaced")
    assert mod.global_load() == "replaced"


def test_global_holds_a_reference_and_releases_it_when_replaced(mod):
    value = object()
    before = sys.getrefcount(value)
    mod.global_store(value)
    assert sys.getrefcount(value) == before + 1
    for _ in range(100):
        mod.global_load()
    assert sys.getrefcount(value) == before + 1
    mod.global_store(None)
    assert sys.getrefcount(value) == before


def test_global_set_by_exec(compile_module):
    # a fresh module: exec stored "initial" in the global
    fresh = compile_module(SOURCE.replace("api_module", "api_module_fresh"), name="api_module_fresh")
    assert fresh.global_load() == "initial"


def test_import_module(mod):
    assert mod.import_module("math") is math
    assert mod.import_module("os.path") is os.path
    with pytest.raises(ModuleNotFoundError, match="no_such_module_xyz"):
        mod.import_module("no_such_module_xyz")
