"""Legacy types (HPyType_BuiltinShape_Legacy, legacy_slots) in the two ABIs
that may use the C API: cpython and hybrid."""
import gc

import pytest

from support import allocated_blocks, refcount


@pytest.fixture(params=["cpython", "hybrid"])
def hpy_abi(request):
    """Overrides conftest's: the universal ABI has no C API for legacy slots."""
    return request.param


SOURCE = r"""
#include <stddef.h>
#include "hpytest.h"
#include <structmember.h>

static long destroyed, legacy_freed;

typedef struct {
    PyObject_HEAD
    long x;
    PyObject *obj;   /* a legacy member */
    HPyField field;  /* an HPy one, in the same struct */
} LegacyObject;
HPyType_LEGACY_HELPERS(LegacyObject)

static PyObject *leg_get_x(PyObject *self, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLong(((LegacyObject *)self)->x);
}
static PyObject *leg_twice(PyObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromLong(2 * ((LegacyObject *)self)->x);
}
static PyObject *leg_repr(PyObject *self)
{
    return PyUnicode_FromFormat("Legacy(%ld)", ((LegacyObject *)self)->x);
}
static PyMethodDef leg_methods[] = {
    { "get_x_legacy", leg_get_x, METH_NOARGS, "a C-API method" }, { NULL, NULL, 0, NULL } };
static PyMemberDef leg_members[] = {
    { "obj", T_OBJECT, offsetof(LegacyObject, obj), 0, NULL }, { NULL, 0, 0, 0, NULL } };
static PyGetSetDef leg_getsets[] = {
    { "twice", leg_twice, NULL, NULL, NULL }, { NULL, NULL, NULL, NULL, NULL } };
static PyType_Slot leg_slots[] = {
    { Py_tp_methods, leg_methods }, { Py_tp_members, leg_members },
    { Py_tp_getset, leg_getsets }, { Py_tp_repr, (void *)leg_repr }, { 0, NULL } };

HPyDef_SLOT(Leg_new, HPy_tp_new)
static HPy Leg_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    LegacyObject *o;
    HPy h = HPy_New(ctx, cls, &o);
    (void)kw;
    if (HPy_IsNull(h))
        return h;
    /* the struct is the whole object: the header is in it (HPy_AsPyObject,
     * not the handle's bits, which are no PyObject * in debug mode) */
    PyObject *obj = HPy_AsPyObject(ctx, h);
    int same = (PyObject *)o == obj;
    Py_XDECREF(obj);
    if (!same && Py_TYPE((PyObject *)o) != NULL)
        o->x = -999;
    else
        o->x = nargs ? HPyLong_AsLong(ctx, args[0]) : 0;
    return h;
}
HPyDef_SLOT(Leg_traverse, HPy_tp_traverse)
static int Leg_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((LegacyObject *)object)->field);
    return 0;
}
HPyDef_SLOT(Leg_destroy, HPy_tp_destroy)
static void Leg_destroy_impl(void *object)
{
    (void)object;
    destroyed++;
}
HPyDef_MEMBER(Leg_x, "x", HPyMember_LONG, offsetof(LegacyObject, x))
HPyDef_METH(Leg_get_x, "get_x", HPyFunc_NOARGS)
static HPy Leg_get_x_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, LegacyObject_AsStruct(ctx, self)->x);
}
/* HPy_AsPyObject / HPy_FromPyObject on an instance */
HPyDef_METH(Leg_roundtrip, "roundtrip", HPyFunc_NOARGS)
static HPy Leg_roundtrip_impl(HPyContext *ctx, HPy self)
{
    PyObject *o = HPy_AsPyObject(ctx, self);
    HPy back;
    if (((LegacyObject *)o)->x != LegacyObject_AsStruct(ctx, self)->x) {
        Py_DECREF(o);
        return HPy_Dup(ctx, ctx->h_None);
    }
    back = HPy_FromPyObject(ctx, o);
    Py_DECREF(o);
    return back;
}
HPyDef_GETSET(Leg_field, "field")
static HPy Leg_field_get(HPyContext *ctx, HPy self, void *c)
{
    HPyField f = LegacyObject_AsStruct(ctx, self)->field;
    (void)c;
    return HPyField_IsNull(f) ? HPy_Dup(ctx, ctx->h_None) : HPyField_Load(ctx, self, f);
}
static int Leg_field_set(HPyContext *ctx, HPy self, HPy v, void *c)
{
    (void)c;
    HPyField_Store(ctx, self, &LegacyObject_AsStruct(ctx, self)->field, v);
    return 0;
}

static HPyDef *Leg_defines[] = { &Leg_new, &Leg_traverse, &Leg_destroy, &Leg_x, &Leg_get_x,
                                 &Leg_roundtrip, &Leg_field, NULL };
static HPyType_Spec Leg_spec = {
    .name = "mytest.Legacy", .basicsize = sizeof(LegacyObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .builtin_shape = SHAPE(LegacyObject), .legacy_slots = leg_slots, .defines = Leg_defines,
};

/* a legacy type with its own tp_dealloc, made from HPy */
typedef struct { PyObject_HEAD long y; } OwnObject;
HPyType_LEGACY_HELPERS(OwnObject)
static void own_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    legacy_freed++;
    tp->tp_free(self);
    Py_DECREF(tp);
}
static PyType_Slot own_slots[] = { { Py_tp_dealloc, (void *)own_dealloc }, { 0, NULL } };
HPyDef_MEMBER(Own_y, "y", HPyMember_LONG, offsetof(OwnObject, y))
static HPyDef *Own_defines[] = { &Own_y, NULL };
static HPyType_Spec Own_spec = {
    .name = "mytest.Own", .basicsize = sizeof(OwnObject), .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
    .builtin_shape = SHAPE(OwnObject), .legacy_slots = own_slots, .defines = Own_defines,
};
/* tp_destroy next to a legacy tp_dealloc: an error */
static HPyDef *OwnBad_defines[] = { &Leg_destroy, NULL };

/* a pure type, and a legacy type that wants to extend it: an error */
typedef struct { long z; } PureObject;
static HPyDef *Pure_defines[] = { NULL };
static HPyType_Spec Pure_spec = { .name = "mytest.Pure", .basicsize = sizeof(PureObject),
                                  .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Pure_defines };

HPyDef_METH(make, "make", HPyFunc_VARARGS)
static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long which = HPyLong_AsLong(ctx, args[0]);
    HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, nargs > 1 ? args[1] : HPy_NULL },
                                   { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    HPyType_Spec spec = Own_spec;
    (void)self;
    if (which == 0) {
        spec.defines = OwnBad_defines;
        return HPyType_FromSpec(ctx, &spec, NULL);
    }
    if (which == 1)
        return HPyType_FromSpec(ctx, &Pure_spec, NULL);
    spec.name = "mytest.LegacyOfPure";
    spec.legacy_slots = NULL;
    return HPyType_FromSpec(ctx, &spec, params);
}

HPyDef_METH(counts, "counts", HPyFunc_NOARGS)
static HPy counts_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_BuildValue(ctx, "ll", destroyed, legacy_freed);
}

/* a legacy tp_new beside HPy_tp_call: instances still get the call function */
static PyObject *callable_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *self = PyType_GenericNew(type, args, kw);
    if (self != NULL)
        ((OwnObject *)self)->y = 17;
    return self;
}
HPyDef_SLOT(Callable_call, HPy_tp_call)
static HPy Callable_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)args; (void)kwnames;
    return HPyLong_FromLong(ctx, OwnObject_AsStruct(ctx, self)->y * 100 + (long)nargs);
}
static PyType_Slot callable_slots[] = { { Py_tp_new, (void *)callable_new }, { 0, NULL } };
static HPyDef *Callable_defines[] = { &Callable_call, &Own_y, NULL };
static HPyType_Spec Callable_spec = {
    .name = "mytest.Callable", .basicsize = sizeof(OwnObject), .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
    .builtin_shape = SHAPE(OwnObject), .legacy_slots = callable_slots, .defines = Callable_defines,
};

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    return HPyHelpers_AddType(ctx, m, "Legacy", &Leg_spec, NULL) &&
           HPyHelpers_AddType(ctx, m, "Own", &Own_spec, NULL) &&
           HPyHelpers_AddType(ctx, m, "Callable", &Callable_spec, NULL) ? 0 : -1;
}
static HPyDef *defs[] = { &make, &counts, &ex, NULL };
static HPyModuleDef moduledef = { .defines = defs };
HPy_MODINIT(mytest, moduledef)
"""


@pytest.fixture
def mod(compile_module):
    return compile_module(SOURCE)


def test_legacy_and_hpy_defines_mix(mod, hpy_abi):
    L = mod.Legacy
    o = L(21)
    assert o.x == 21 and o.get_x() == 21 and o.get_x_legacy() == 21 and o.twice == 42
    assert repr(o) == "Legacy(21)" and L.get_x_legacy.__doc__ == "a C-API method"
    o.x = 5
    assert o.get_x_legacy() == 5  # one struct, seen from both APIs
    assert o.roundtrip() is o
    value = object()
    before = refcount(value)
    o.obj = value
    o.field = value
    assert o.obj is value
    assert o.field is value
    assert refcount(value) == before + 2
    gc.collect()
    start = mod.counts()[0]
    del o
    assert mod.counts()[0] == start + 1
    assert refcount(value) == before  # legacy and HPy members both dropped


def test_legacy_gc_cycle_and_subclass(mod):
    gc.collect()
    start = mod.counts()[0]
    a, b = mod.Legacy(1), mod.Legacy(2)
    a.field, b.field = b, a
    del a, b
    gc.collect()
    assert mod.counts()[0] == start + 2

    class Sub(mod.Legacy):
        pass

    s = Sub(3)
    s.field = s
    s.attr = s
    del s
    gc.collect()
    assert mod.counts()[0] == start + 3


def test_legacy_own_dealloc(mod):
    Own = mod.Own  # (pytest would keep a mod.Own in the assert alive)
    freed = mod.counts()[1]
    own = Own()
    own.y = 4
    assert own.y == 4
    refs = refcount(Own)
    del own
    assert mod.counts()[1] == freed + 1
    assert refcount(Own) == refs - 1


def test_legacy_errors(mod):
    with pytest.raises(TypeError, match="legacy tp_dealloc is incompatible with HPy_tp_traverse or HPy_tp_destroy"):
        mod.make(0)
    pure = mod.make(1)
    with pytest.raises(TypeError, match="A legacy type should not inherit its memory layout from a pure type"):
        mod.make(2, pure)
    assert mod.make(2, mod.Own).__base__ is mod.Own  # legacy on legacy is fine


def test_no_leak(mod):
    for _ in range(100):
        mod.Legacy(1)
    gc.collect()
    Legacy = mod.Legacy
    refs, blocks = refcount(Legacy), allocated_blocks()
    objs = [Legacy(i) for i in range(1000)]
    for o in objs:
        o.field = o
    del objs, o
    gc.collect()
    assert refcount(Legacy) == refs
    assert abs(allocated_blocks() - blocks) < 50


def test_legacy_tp_new_with_call_protocol(mod):
    c = mod.Callable()
    assert c.y == 17  # the legacy tp_new ran
    assert c(1, 2) == 1702  # and the instance got HPy_tp_call

    class Sub(mod.Callable):
        pass

    assert Sub()(5) == 1701
