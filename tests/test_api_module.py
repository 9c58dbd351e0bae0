"""HPy_mod_exec, module globals and HPyImport_ImportModule, in both ABIs."""
import math
import os

import pytest

from support import refcount

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
    before = refcount(value)
    mod.global_store(value)
    assert refcount(value) == before + 1
    for _ in range(100):
        mod.global_load()
    assert refcount(value) == before + 1
    mod.global_store(None)
    assert refcount(value) == before


def test_global_set_by_exec(compile_module):
    # a fresh module: exec stored "initial" in the global
    fresh = compile_module(SOURCE.replace("api_module", "api_module_fresh"), name="api_module_fresh")
    assert fresh.global_load() == "initial"


UNSTORED_GLOBAL = r"""
#include "hpy.h"

static HPyGlobal g_never;

HPyDef_METH(load_never, "load_never", HPyFunc_NOARGS)
static HPy load_never_impl(HPyContext *ctx, HPy self)
{
    HPy h;
    (void)self;
    h = HPyGlobal_Load(ctx, g_never);
    /* report what the C caller sees: NULL must come with an exception */
    if (HPy_IsNull(h) && !HPyErr_Occurred(ctx))
        return HPyUnicode_FromString(ctx, "NULL without an exception");
    return h;
}

HPyDef_METH(store_then_load, "store_then_load", HPyFunc_O)
static HPy store_then_load_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPyGlobal_Store(ctx, &g_never, arg);
    return HPyGlobal_Load(ctx, g_never);
}

static HPyDef *module_defines[] = { &load_never, &store_then_load, NULL };
static HPyGlobal *module_globals[] = { &g_never, NULL };
static HPyModuleDef moduledef = { .defines = module_defines, .globals = module_globals };
HPy_MODINIT(api_module_unstored, moduledef)
"""


# issue 9, item 6: loading a global never stored returned HPy_NULL with no
# exception set (a SystemError "error return without exception set" at best).
def test_global_never_stored_raises(compile_module):
    m = compile_module(UNSTORED_GLOBAL, name="api_module_unstored")
    for _ in range(3):
        with pytest.raises(SystemError) as info:
            m.load_never()
        assert str(info.value) == "HPyGlobal_Load: the global was never stored"
    value = object()
    before = refcount(value)
    assert m.store_then_load(value) is value
    assert refcount(value) == before + 1  # the global's reference
    assert m.load_never() is value


def test_import_module(mod):
    assert mod.import_module("math") is math
    assert mod.import_module("os.path") is os.path
    with pytest.raises(ModuleNotFoundError, match="no_such_module_xyz"):
        mod.import_module("no_such_module_xyz")


# ---------------------------------------------------------------------------
# What a module definition may hold: HPy 0.9's rules, its exception types
# and, first, its words.

CREATE_ALONE = (
    "This is not allowed because custom HPy_mod_create slot cannot return a builtin module "
    "object and cannot make any use of any other data defined in the HPyModuleDef.")

CREATE_MODULE = r"""
#include "hpy.h"

/* returns [spec.name]: any object but a module may stand for the module */
HPyDef_SLOT(create, HPy_mod_create)
static HPy create_impl(HPyContext *ctx, HPy spec)
{
    HPy name, result;
    %(body)s
    name = HPy_GetAttr_s(ctx, spec, "name");
    if (HPy_IsNull(name))
        return HPy_NULL;
    result = HPyList_New(ctx, 0);
    if (!HPy_IsNull(result) && HPyList_Append(ctx, result, name) < 0) {
        HPy_Close(ctx, result);
        result = HPy_NULL;
    }
    HPy_Close(ctx, name);
    return result;
}

HPyDef_SLOT(exec_it, HPy_mod_exec)
static int exec_it_impl(HPyContext *ctx, HPy module)
{
    (void)ctx; (void)module;
    return 0;
}

HPyDef_METH(meth, "meth", HPyFunc_NOARGS)
static HPy meth_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyGlobal g_unused;
static HPyGlobal *module_globals[] = { &g_unused, NULL };
static HPyDef *module_defines[] = { %(defines)s, NULL };
/* keeps what a variant leaves out "used" for -Werror */
void *create_module_parts[] = { &create, &exec_it, &meth, module_globals };
static HPyModuleDef moduledef = { %(fields)s .defines = module_defines };
HPy_MODINIT(%(name)s, moduledef)
"""


def _create_module(name, defines="&create", fields="", body=""):
    return CREATE_MODULE % dict(name=name, defines=defines, fields=fields, body=body)


def test_create_slot_may_return_any_object_but_a_module(compile_module):
    module = compile_module(_create_module("create_other"), name="create_other")
    assert module == ["create_other"]


def test_create_slot_returning_a_module_is_refused(compile_module):
    body = "if (1) return HPyImport_ImportModule(ctx, \"math\");"
    with pytest.raises(SystemError) as info:
        compile_module(_create_module("create_module", body=body), name="create_module")
    assert str(info.value).startswith(
        "HPy_mod_create slot returned a builtin module object. This is currently not supported.")
    assert "create_module" in str(info.value)


def test_create_slot_that_fails_fails_the_import(compile_module):
    body = 'HPyErr_SetString(ctx, ctx->h_KeyError, "no module today"); if (1) return HPy_NULL;'
    with pytest.raises(KeyError, match="no module today"):
        compile_module(_create_module("create_fails", body=body), name="create_fails")


@pytest.mark.parametrize("defines", ["&create, &exec_it", "&create, &meth", "&meth, &create"])
def test_create_slot_with_other_definitions_is_refused(compile_module, defines):
    with pytest.raises(SystemError) as info:
        compile_module(_create_module("create_others", defines=defines), name="create_others")
    assert str(info.value).startswith(
        "HPyModuleDef defines a HPy_mod_create slot and some other slots or methods. "
        + CREATE_ALONE)


@pytest.mark.parametrize("fields", ['.doc = "a doc",', ".globals = module_globals,"])
def test_create_slot_with_other_fields_is_refused(compile_module, fields):
    with pytest.raises(SystemError) as info:
        compile_module(_create_module("create_fields", fields=fields), name="create_fields")
    assert str(info.value).startswith(
        "HPyModuleDef defines a HPy_mod_create slot and some of the other fields are not set "
        "to their default value. " + CREATE_ALONE)


def test_two_create_slots_are_refused(compile_module):
    source = _create_module("create_twice", defines="&create, &create")
    with pytest.raises(SystemError, match=r"^Multiple definitions of the HPy_mod_create slot "
                                          r"in HPyModuleDef\.defines\."):
        compile_module(source, name="create_twice")


@pytest.mark.parametrize("size, message", [
    (8, "Module state is not supported yet in HPy, set HPyModuleDef.size = 0 if module state "
        "is not needed"),
    (-1, "HPy does not permit HPyModuleDef.size < 0"),
])
def test_module_state_size_is_refused(compile_module, size, message):
    source = FAILING_EXEC.replace("{ .defines = module_defines }",
                                  "{ .size = %d, .defines = module_defines }" % size)
    with pytest.raises(SystemError) as info:
        compile_module(source, name="api_module_fail")
    assert str(info.value).startswith(message)


TYPE_SLOT_IN_MODULE = r"""
#include "hpy.h"
HPyDef_SLOT(repr, HPy_tp_repr)
static HPy repr_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, "repr");
}
static HPyDef *module_defines[] = { &repr, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(type_slot, moduledef)
"""


def test_a_type_slot_in_a_module_is_refused(compile_module):
    with pytest.raises(SystemError) as info:
        compile_module(TYPE_SLOT_IN_MODULE, name="type_slot")
    assert str(info.value).startswith("Unsupported slot in HPyModuleDef.defines (value: 66).")


BAD_SIGNATURE = r"""
#include "hpy.h"
/* made by hand: HPyDef_METH would not compile with a slot's signature */
static HPyDef bad = {
    .kind = HPyDef_Kind_Meth,
    .meth = { .name = "bad", .impl = NULL, .cpy_trampoline = NULL,
              .signature = HPyFunc_GETTER, .doc = NULL },
};
static HPyDef *module_defines[] = { &bad, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(bad_signature, moduledef)
"""


def test_a_method_with_a_slot_signature_is_refused(compile_module):
    with pytest.raises(ValueError) as info:
        compile_module(BAD_SIGNATURE, name="bad_signature")
    assert str(info.value) == "Unsupported HPyMeth signature"  # HPy 0.9's words, exactly
    note = info.value.__notes__[0]  # then ours (and the universal loader's, naming the file)
    assert "method 'bad' of module bad_signature has signature 32" in note


# ---------------------------------------------------------------------------
# Legacy (C-API) interop: cpython and hybrid ABIs only

LEGACY = r"""
#include "hpy.h"
#include <Python.h>

static PyObject *legacy_noargs(PyObject *self, PyObject *unused)
{
    (void)self; (void)unused;
    return PyUnicode_FromString("legacy noargs");
}

static PyObject *legacy_o(PyObject *self, PyObject *arg)
{
    (void)self;
    return PyTuple_Pack(2, arg, arg);
}

static PyObject *legacy_varargs(PyObject *self, PyObject *args)
{
    (void)self;
    return PyLong_FromSsize_t(PyTuple_GET_SIZE(args));
}

static PyMethodDef legacy_methods[] = {
    {"legacy_noargs", legacy_noargs, METH_NOARGS, "a legacy METH_NOARGS"},
    {"legacy_o", legacy_o, METH_O, NULL},
    {"legacy_varargs", legacy_varargs, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

HPyDef_METH(hpy_meth, "hpy_meth", HPyFunc_O)
static HPy hpy_meth_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_Add(ctx, arg, arg);
}

/* through PyObject * and back: HPy_AsPyObject gives a new reference */
HPyDef_METH(roundtrip, "roundtrip", HPyFunc_O)
static HPy roundtrip_impl(HPyContext *ctx, HPy self, HPy arg)
{
    PyObject *obj = HPy_AsPyObject(ctx, arg);
    HPy back;
    (void)self;
    if (obj == NULL)
        return HPy_NULL;
    back = HPy_FromPyObject(ctx, obj);
    Py_DECREF(obj);
    return back;
}

/* HPy_AsPyObject's reference, handed to a C-API call that steals it */
HPyDef_METH(into_list, "into_list", HPyFunc_O)
static HPy into_list_impl(HPyContext *ctx, HPy self, HPy arg)
{
    PyObject *list = PyList_New(1);
    HPy result;
    (void)self;
    if (list == NULL)
        return HPy_NULL;
    PyList_SET_ITEM(list, 0, HPy_AsPyObject(ctx, arg));
    result = HPy_FromPyObject(ctx, list);
    Py_DECREF(list);
    return result;
}

HPyDef_METH(from_null, "from_null", HPyFunc_NOARGS)
static HPy from_null_impl(HPyContext *ctx, HPy self)
{
    HPy h = HPy_FromPyObject(ctx, NULL);
    (void)self;
    return HPy_IsNull(h) ? HPyUnicode_FromString(ctx, "null") : h;
}

static HPyDef *module_defines[] = { &hpy_meth, &roundtrip, &into_list, &from_null, NULL };
static HPyModuleDef moduledef = {
    .doc = "HPy and legacy methods",
    .legacy_methods = legacy_methods,
    .defines = module_defines,
};
HPy_MODINIT(legacy_mod, moduledef)
"""


def test_legacy_methods_next_to_hpy_methods(compile_legacy_module):
    mod = compile_legacy_module(LEGACY, name="legacy_mod")
    assert mod.__doc__ == "HPy and legacy methods"
    assert mod.legacy_noargs() == "legacy noargs"
    assert mod.legacy_noargs.__doc__ == "a legacy METH_NOARGS"
    value = object()
    before = refcount(value)
    assert mod.legacy_o(value) == (value, value)
    assert refcount(value) == before
    assert mod.legacy_varargs() == 0 and mod.legacy_varargs(1, "two", None) == 3
    assert mod.hpy_meth(21) == 42
    with pytest.raises(TypeError):
        mod.legacy_noargs(1)


def test_as_and_from_pyobject_keep_reference_counts(compile_legacy_module):
    mod = compile_legacy_module(LEGACY, name="legacy_mod")
    value = object()
    before = refcount(value)
    for _ in range(100):
        assert mod.roundtrip(value) is value
    assert refcount(value) == before
    lists = [mod.into_list(value) for _ in range(10)]
    assert all(lst == [value] for lst in lists)
    assert refcount(value) == before + 10
    del lists
    assert refcount(value) == before
    assert mod.from_null() == "null"


UNIVERSAL_WITH_LEGACY_METHODS = r"""
#include "hpy.h"
/* PyMethodDef's layout, without Python.h: the universal ABI cannot name it */
struct methoddef { const char *name; void *meth; int flags; const char *doc; };
static struct methoddef legacy[] = { { "legacy", NULL, 0, NULL }, { NULL, NULL, 0, NULL } };
static HPyModuleDef moduledef = { .legacy_methods = (cpy_PyMethodDef *)legacy };
HPy_MODINIT(universal_legacy, moduledef)
"""


def test_universal_module_with_legacy_methods_is_refused(hpy_compiler, tmp_path):
    from support import import_binary
    path = hpy_compiler.compile(UNIVERSAL_WITH_LEGACY_METHODS, "universal", "universal_legacy",
                                tmp_path)
    with pytest.raises(RuntimeError) as info:
        import_binary("universal_legacy", path, "universal")
    assert str(info.value).startswith("Module universal_legacy contains legacy methods, but")
    assert "--hpy-abi=hybrid" in str(info.value)
