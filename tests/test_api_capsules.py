"""Capsules: the four context members, the Get/Set helpers and destructors, in both ABIs."""
import datetime
import gc

import pytest

from support import capsule_type, free_dropped, pypy_cannot, refcount

SOURCE = r"""
#include "hpytest.h"

static int target_a = 1, target_b = 2, context_x = 3;

/* What the last destructor call saw, and how many calls there were. */
static int destructor_calls;
static const char *destructor_name;
static void *destructor_pointer, *destructor_context;

HPyCapsule_DESTRUCTOR(recorder)
static void recorder_impl(const char *name, void *pointer, void *context)
{
    destructor_calls++;
    destructor_name = name;
    destructor_pointer = pointer;
    destructor_context = context;
}

/* a destructor whose trampoline is missing: the API must refuse it */
static HPyCapsule_Destructor broken = { NULL, recorder_impl };

static const char *const names[] = { "mod.a", "mod.b", "other.name" };
static void *const pointers[] = { &target_a, &target_b, &context_x };

static const char *name_arg(HPyContext *ctx, HPy h)
{
    long i;
    if (HPy_Is(ctx, h, ctx->h_None))
        return NULL;
    i = HPyLong_AsLong(ctx, h);
    return i >= 0 && i < 3 ? names[i] : "?";
}

/* the index of a known pointer, or -1 for NULL, or -2 */
static HPy pointer_index(HPyContext *ctx, void *p)
{
    long i;
    if (p == NULL)
        return HPyErr_Occurred(ctx) ? HPy_NULL : HPyLong_FromLong(ctx, -1);
    for (i = 0; i < 3; i++)
        if (p == pointers[i])
            return HPyLong_FromLong(ctx, i);
    return HPyLong_FromLong(ctx, -2);
}

static HPy int_result(HPyContext *ctx, int r)
{
    if (r < 0)
        return HPy_NULL;
    return HPyLong_FromLong(ctx, r);
}

static HPy str_or_none(HPyContext *ctx, const char *s)
{
    if (s == NULL)
        return HPyErr_Occurred(ctx) ? HPy_NULL : HPy_Dup(ctx, ctx->h_None);
    return HPyUnicode_FromString(ctx, s);
}

/* new(pointer index or None, name index or None, with destructor) */
HPyDef_METH(new_capsule, "new", HPyFunc_VARARGS)
static HPy new_capsule_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    void *pointer = HPy_Is(ctx, args[0], ctx->h_None) ? NULL : pointers[HPyLong_AsLong(ctx, args[0])];
    int with_destructor = HPy_IsTrue(ctx, args[2]);
    (void)self; (void)nargs;
    return HPyCapsule_New(ctx, pointer, name_arg(ctx, args[1]), with_destructor ? &recorder : NULL);
}

HPyDef_METH(new_broken, "new_broken", HPyFunc_NOARGS)
static HPy new_broken_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyCapsule_New(ctx, &target_a, "mod.a", &broken);
}

T_METH_N(get_pointer, pointer_index(ctx, HPyCapsule_GetPointer(ctx, args[0], name_arg(ctx, args[1]))))
T_METH_N(get_key_pointer, pointer_index(ctx, HPyCapsule_Get(ctx, args[0], HPyCapsule_key_Pointer, name_arg(ctx, args[1]))))
T_METH_O(get_name, str_or_none(ctx, HPyCapsule_GetName(ctx, arg)))
T_METH_O(get_key_name, str_or_none(ctx, (const char *)HPyCapsule_Get(ctx, arg, HPyCapsule_key_Name, NULL)))
T_METH_O(get_context, pointer_index(ctx, HPyCapsule_GetContext(ctx, arg)))
T_METH_O(get_key_context, pointer_index(ctx, HPyCapsule_Get(ctx, arg, HPyCapsule_key_Context, NULL)))
T_METH_O(get_key_destructor, pointer_index(ctx, HPyCapsule_Get(ctx, arg, HPyCapsule_key_Destructor, NULL)))
T_METH_O(get_key_invalid, pointer_index(ctx, HPyCapsule_Get(ctx, arg, (_HPyCapsule_key)77, NULL)))
T_METH_N(is_valid, int_result(ctx, HPyCapsule_IsValid(ctx, args[0], name_arg(ctx, args[1]))))

static void *pointer_arg(HPyContext *ctx, HPy h)
{
    return HPy_Is(ctx, h, ctx->h_None) ? NULL : pointers[HPyLong_AsLong(ctx, h)];
}

T_METH_N(set_pointer, int_result(ctx, HPyCapsule_SetPointer(ctx, args[0], pointer_arg(ctx, args[1]))))
T_METH_N(set_key_pointer, int_result(ctx, HPyCapsule_Set(ctx, args[0], HPyCapsule_key_Pointer, pointer_arg(ctx, args[1]))))
T_METH_N(set_name, int_result(ctx, HPyCapsule_SetName(ctx, args[0], name_arg(ctx, args[1]))))
T_METH_N(set_key_name, int_result(ctx, HPyCapsule_Set(ctx, args[0], HPyCapsule_key_Name, (void *)name_arg(ctx, args[1]))))
T_METH_N(set_context, int_result(ctx, HPyCapsule_SetContext(ctx, args[0], pointer_arg(ctx, args[1]))))
T_METH_N(set_key_context, int_result(ctx, HPyCapsule_Set(ctx, args[0], HPyCapsule_key_Context, pointer_arg(ctx, args[1]))))
T_METH_O(set_key_invalid, int_result(ctx, HPyCapsule_Set(ctx, arg, (_HPyCapsule_key)77, NULL)))

/* set_destructor(capsule, 0: NULL, 1: recorder, 2: broken, 3: through HPyCapsule_Set) */
HPyDef_METH(set_destructor, "set_destructor", HPyFunc_VARARGS)
static HPy set_destructor_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    switch (HPyLong_AsLong(ctx, args[1])) {
    case 0: return int_result(ctx, HPyCapsule_SetDestructor(ctx, args[0], NULL));
    case 1: return int_result(ctx, HPyCapsule_SetDestructor(ctx, args[0], &recorder));
    case 2: return int_result(ctx, HPyCapsule_SetDestructor(ctx, args[0], &broken));
    default: return int_result(ctx, HPyCapsule_Set(ctx, args[0], HPyCapsule_key_Destructor, &recorder));
    }
}

/* (calls, name, pointer index, context index) of destructor runs so far */
HPyDef_METH(destructor_log, "destructor_log", HPyFunc_NOARGS)
static HPy destructor_log_impl(HPyContext *ctx, HPy self)
{
    HPy items[4], result;
    int i;
    (void)self;
    items[0] = HPyLong_FromLong(ctx, destructor_calls);
    items[1] = str_or_none(ctx, destructor_name);
    items[2] = pointer_index(ctx, destructor_pointer);
    items[3] = pointer_index(ctx, destructor_context);
    result = HPyTuple_FromArray(ctx, items, 4);
    for (i = 0; i < 4; i++)
        HPy_Close(ctx, items[i]);
    destructor_calls = 0;
    destructor_name = NULL;
    destructor_pointer = destructor_context = NULL;
    return result;
}

static HPyDef *module_defines[] = {
    &new_capsule, &new_broken, &get_pointer, &get_key_pointer, &get_name, &get_key_name,
    &get_context, &get_key_context, &get_key_destructor, &get_key_invalid, &is_valid,
    &set_pointer, &set_key_pointer, &set_name, &set_key_name, &set_context, &set_key_context,
    &set_key_invalid, &set_destructor, &destructor_log, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_capsules, moduledef)
"""

_built = {}

CapsuleType = capsule_type()


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_capsules")
    module = _built[hpy_abi]
    free_dropped()  # earlier tests' capsules (PyPy frees them only now)
    module.destructor_log()  # forget what earlier tests did
    return module


@pytest.mark.parametrize("get", ["get_pointer", "get_key_pointer"])
def test_new_and_get_pointer(mod, get):
    cap = mod.new(0, 0, False)
    assert type(cap) is CapsuleType
    assert repr(cap).startswith('<capsule object "mod.a" at ')
    assert refcount(cap) == 2  # ours, and getrefcount's argument
    assert getattr(mod, get)(cap, 0) == 0
    with pytest.raises(ValueError, match="PyCapsule_GetPointer called with incorrect name"):
        getattr(mod, get)(cap, 1)
    with pytest.raises(ValueError, match="PyCapsule_GetPointer called with incorrect name"):
        getattr(mod, get)(cap, None)
    with pytest.raises(ValueError, match="PyCapsule_GetPointer called with invalid PyCapsule object"):
        getattr(mod, get)("not a capsule", 0)


def test_unnamed_capsule(mod):
    cap = mod.new(1, None, False)
    assert repr(cap).startswith("<capsule object NULL at ")
    assert mod.get_pointer(cap, None) == 1
    assert mod.get_name(cap) is None
    assert mod.is_valid(cap, None) == 1
    assert mod.is_valid(cap, 0) == 0
    with pytest.raises(ValueError, match="incorrect name"):
        mod.get_pointer(cap, 0)


def test_new_refuses_a_null_pointer(mod):
    with pytest.raises(ValueError, match="PyCapsule_New called with null pointer"):
        mod.new(None, 0, False)


@pytest.mark.parametrize("get", ["get_name", "get_key_name"])
def test_get_name(mod, get):
    assert getattr(mod, get)(mod.new(0, 2, False)) == "other.name"
    with pytest.raises(ValueError, match="PyCapsule_GetName called with invalid PyCapsule object"):
        getattr(mod, get)(5)


@pytest.mark.parametrize("get, set_", [("get_context", "set_context"),
                                       ("get_key_context", "set_key_context")])
def test_context(mod, get, set_):
    cap = mod.new(0, 0, False)
    assert getattr(mod, get)(cap) == -1  # NULL: none set yet, no error
    assert getattr(mod, set_)(cap, 2) == 0
    assert getattr(mod, get)(cap) == 2
    assert getattr(mod, set_)(cap, None) == 0
    assert getattr(mod, get)(cap) == -1
    with pytest.raises(ValueError, match="PyCapsule_GetContext called with invalid PyCapsule object"):
        getattr(mod, get)([])
    with pytest.raises(ValueError, match="PyCapsule_SetContext called with invalid PyCapsule object"):
        getattr(mod, set_)([], 0)


@pytest.mark.parametrize("set_", ["set_pointer", "set_key_pointer"])
def test_set_pointer(mod, set_):
    cap = mod.new(0, 0, False)
    assert getattr(mod, set_)(cap, 1) == 0
    assert mod.get_pointer(cap, 0) == 1
    with pytest.raises(ValueError, match="PyCapsule_SetPointer called with null pointer"):
        getattr(mod, set_)(cap, None)
    assert mod.get_pointer(cap, 0) == 1
    with pytest.raises(ValueError, match="PyCapsule_SetPointer called with invalid PyCapsule object"):
        getattr(mod, set_)(1.5, 0)


@pytest.mark.parametrize("set_", ["set_name", "set_key_name"])
def test_set_name(mod, set_):
    cap = mod.new(0, 0, False)
    assert getattr(mod, set_)(cap, 1) == 0
    assert mod.get_name(cap) == "mod.b"
    assert mod.is_valid(cap, 1) == 1 and mod.is_valid(cap, 0) == 0
    assert mod.get_pointer(cap, 1) == 0
    assert getattr(mod, set_)(cap, None) == 0
    assert mod.get_name(cap) is None
    with pytest.raises(ValueError, match="PyCapsule_SetName called with invalid PyCapsule object"):
        getattr(mod, set_)(None, 0)


def test_is_valid(mod):
    cap = mod.new(0, 0, False)
    assert mod.is_valid(cap, 0) == 1
    assert mod.is_valid(cap, 1) == 0
    assert mod.is_valid(cap, None) == 0
    # no error for what is not a capsule, only 0
    assert mod.is_valid("text", 0) == 0
    assert mod.is_valid(None, None) == 0


@pypy_cannot("no module makes C-level capsules without cpyext")
def test_capsules_made_by_python_modules(mod):
    cap = datetime.datetime_CAPI
    assert mod.is_valid(cap, None) == 0
    assert mod.get_name(cap) == "datetime.datetime_CAPI"


def test_get_destructor_is_refused(mod):
    cap = mod.new(0, 0, True)
    with pytest.raises(ValueError, match="Invalid operation: get HPyCapsule_key_Destructor"):
        mod.get_key_destructor(cap)


def test_invalid_keys(mod):
    cap = mod.new(0, 0, False)
    with pytest.raises(ValueError, match="HPyCapsule_Get: invalid key 77"):
        mod.get_key_invalid(cap)
    with pytest.raises(ValueError, match="HPyCapsule_Set: invalid key 77"):
        mod.set_key_invalid(cap)


def test_destructor_runs_once_with_the_capsule_contents(mod):
    cap = mod.new(1, 2, True)
    mod.set_context(cap, 0)
    assert mod.destructor_log() == (0, None, -1, -1)
    del cap
    free_dropped()
    gc.collect()
    assert mod.destructor_log() == (1, "other.name", 1, 0)
    # capsules without a destructor call nothing
    cap = mod.new(0, 0, False)
    del cap
    free_dropped()
    assert mod.destructor_log() == (0, None, -1, -1)


def test_destructor_sees_what_the_setters_changed(mod):
    cap = mod.new(0, 0, True)
    mod.set_pointer(cap, 2)
    mod.set_name(cap, 1)
    del cap
    free_dropped()
    assert mod.destructor_log() == (1, "mod.b", 2, -1)


@pytest.mark.parametrize("how", [1, 3], ids=["SetDestructor", "Set"])
def test_set_destructor(mod, how):
    cap = mod.new(0, 0, False)
    assert mod.set_destructor(cap, how) == 0
    del cap
    free_dropped()
    assert mod.destructor_log() == (1, "mod.a", 0, -1)


def test_set_destructor_null_removes_it(mod):
    cap = mod.new(0, 0, True)
    assert mod.set_destructor(cap, 0) == 0
    del cap
    free_dropped()
    assert mod.destructor_log()[0] == 0


def test_broken_destructors_are_refused(mod):
    with pytest.raises(ValueError, match="Invalid HPyCapsule destructor"):
        mod.new_broken()
    cap = mod.new(0, 0, True)
    with pytest.raises(ValueError, match="Invalid HPyCapsule destructor"):
        mod.set_destructor(cap, 2)
    del cap  # the old destructor is still in place
    free_dropped()
    assert mod.destructor_log()[0] == 1
    with pytest.raises(ValueError, match="PyCapsule_SetDestructor called with invalid PyCapsule object"):
        mod.set_destructor("x", 1)


def test_capsule_api_is_refcount_neutral(mod):
    cap = mod.new(0, 0, False)
    before = refcount(cap)
    for _ in range(100):
        mod.get_pointer(cap, 0)
        mod.get_name(cap)
        mod.set_context(cap, 1)
        mod.is_valid(cap, 0)
    assert refcount(cap) == before
