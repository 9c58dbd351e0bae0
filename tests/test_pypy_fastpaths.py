"""The context calls the cffi runtime answers in C from handles.py's tables
(HPy_Dup/HPy_Close as owner counts, HPy_TypeCheck, HPyFloat_AsDouble,
HPyGlobal_Load, HPy_Is, _HPy_AsStruct_*, HPyErr_Occurred, HPyFloat_FromDouble
into a spare handle): the same answers as
the Python bodies, in the cases where the C part knows and where it must
call back. Runs on the running interpreter's cffi runtime (CPython: selected)."""
import gc
import sys
import weakref

import pytest

from hpy_build import universal

pytest.importorskip("hpy_build.runtime.pypy", reason="the cffi runtime is not built")
from hpy_build.runtime.pypy import handles  # noqa: E402

ON_CPYTHON = sys.implementation.name == "cpython"

SOURCE = r"""
#include <stdlib.h>
#include "hpytest.h"

typedef struct { double x; } BoxObject;
HPyType_HELPERS(BoxObject)
static HPyGlobal g_box, g_value;

HPyDef_SLOT(box_new, HPy_tp_new)
static HPy box_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    BoxObject *box;
    HPy h = HPy_New(ctx, type, &box);
    (void)args; (void)nargs; (void)kw;
    if (!HPy_IsNull(h))
        box->x = 2.5;
    return h;
}

/* box.x via _HPy_AsStruct_Object */
HPyDef_METH(box_value, "value", HPyFunc_NOARGS)
static HPy box_value_impl(HPyContext *ctx, HPy self)
{
    return HPyFloat_FromDouble(ctx, BoxObject_AsStruct(ctx, self)->x);
}

/* obj is a Box by HPy_TypeCheck against the global, the arg type, float, int */
HPyDef_METH(checks, "checks", HPyFunc_VARARGS)
static HPy checks_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy box = HPyGlobal_Load(ctx, g_box);
    HPy r = HPy_BuildValue(ctx, "iiii", HPy_TypeCheck(ctx, args[0], box),
                           HPy_TypeCheck(ctx, args[0], args[1]),
                           HPy_TypeCheck(ctx, args[0], ctx->h_FloatType),
                           HPy_TypeCheck(ctx, args[0], ctx->h_LongType));
    (void)self; (void)nargs;
    HPy_Close(ctx, box);
    return r;
}

HPyDef_METH(as_double, "as_double", HPyFunc_O)
static HPy as_double_impl(HPyContext *ctx, HPy self, HPy arg)
{
    double v = HPyFloat_AsDouble(ctx, arg);
    (void)self;
    if (v == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyFloat_FromDouble(ctx, v + 1.0);
}

/* n dups of arg, closed in reverse, then arg itself returned as a dup */
HPyDef_METH(dups, "dups", HPyFunc_O)
static HPy dups_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy hs[5];
    int i, same = 1;
    (void)self;
    for (i = 0; i < 5; i++) {
        hs[i] = HPy_Dup(ctx, arg);
        same &= HPy_Is(ctx, hs[i], arg);
    }
    for (i = 4; i >= 0; i--)
        HPy_Close(ctx, hs[i]);
    if (!same)
        return HPy_Dup(ctx, ctx->h_False);
    return HPy_Dup(ctx, arg);
}

HPyDef_METH(store, "store", HPyFunc_O)
static HPy store_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPyGlobal_Store(ctx, &g_value, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

/* a loaded handle outlives a Store of another object */
HPyDef_METH(load_then_store, "load_then_store", HPyFunc_O)
static HPy load_then_store_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy before = HPyGlobal_Load(ctx, g_value);
    HPy after, r;
    (void)self;
    HPyGlobal_Store(ctx, &g_value, arg);
    after = HPyGlobal_Load(ctx, g_value);
    r = HPyTuple_Pack(ctx, 2, before, after);
    HPy_Close(ctx, before);
    HPy_Close(ctx, after);
    return r;
}

HPyDef_METH(error_flag, "error_flag", HPyFunc_NOARGS)
static HPy error_flag_impl(HPyContext *ctx, HPy self)
{
    int before = HPyErr_Occurred(ctx), during, after;
    (void)self;
    HPyErr_SetString(ctx, ctx->h_ValueError, "x");
    during = HPyErr_Occurred(ctx);
    HPyErr_Clear(ctx);
    after = HPyErr_Occurred(ctx);
    return HPy_BuildValue(ctx, "iii", before, during, after);
}

/* n floats made in C, used the ways a handle can be: how depends on mode */
HPyDef_METH(made_floats, "made_floats", HPyFunc_VARARGS)
static HPy made_floats_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long n = HPyLong_AsLong(ctx, args[0]), mode = HPyLong_AsLong(ctx, args[1]), i;
    HPy r = HPyList_New(ctx, 0);
    double acc = 0.0;
    (void)self; (void)nargs;
    for (i = 0; i < n && !HPy_IsNull(r); i++) {
        HPy f = HPyFloat_FromDouble(ctx, (double)i + 0.5), d;
        switch (mode) {
        case 0:  /* read and closed at once: the slot goes straight back */
            acc += HPyFloat_AsDouble(ctx, f) + HPy_TypeCheck(ctx, f, ctx->h_FloatType);
            HPy_Close(ctx, f);
            break;
        case 1:  /* handed to a callback (the list keeps the object) */
            HPyList_Append(ctx, r, f);
            HPy_Close(ctx, f);
            break;
        case 2:  /* another owner outlives the first close */
            d = HPy_Dup(ctx, f);
            HPy_Close(ctx, f);
            HPyList_Append(ctx, r, d);
            HPy_Close(ctx, d);
            break;
        default:  /* kept open across the others: closed at the end, in order */
            HPyList_Append(ctx, r, ctx->h_None);
            HPy_Close(ctx, f);  /* a closed slot is reused by the next float */
            f = HPyFloat_FromDouble(ctx, -(double)i);
            if (i % 2)
                HPy_Close(ctx, f);
            else
                HPyList_Append(ctx, r, f), HPy_Close(ctx, f);
        }
    }
    if (mode == 0 && !HPy_IsNull(r)) {
        HPy_Close(ctx, r);
        return HPyFloat_FromDouble(ctx, acc);
    }
    return r;
}

/* n floats open at once (more than there are spare slots), then a tuple of them */
HPyDef_METH(many_floats, "many_floats", HPyFunc_O)
static HPy many_floats_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long n = HPyLong_AsLong(ctx, arg), i;
    HPyTupleBuilder b = HPyTupleBuilder_New(ctx, n);
    (void)self;
    for (i = 0; i < n; i++)
        HPyTupleBuilder_Set(ctx, b, i, HPy_NULL);  /* filled below, after every float is made */
    {
        HPy *fs = (HPy *)malloc(sizeof(HPy) * (size_t)(n ? n : 1));
        for (i = 0; i < n; i++)
            fs[i] = HPyFloat_FromDouble(ctx, (double)i);
        for (i = 0; i < n; i++) {
            HPyTupleBuilder_Set(ctx, b, i, fs[i]);
            HPy_Close(ctx, fs[i]);
        }
        free(fs);
    }
    return HPyTupleBuilder_Build(ctx, b);
}

/* n Boxes by HPy_New: each struct must come zeroed; x set to its index */
HPyDef_METH(new_boxes, "new_boxes", HPyFunc_O)
static HPy new_boxes_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long n = HPyLong_AsLong(ctx, arg), i;
    HPy type = HPyGlobal_Load(ctx, g_box), r = HPyList_New(ctx, 0);
    (void)self;
    for (i = 0; i < n; i++) {
        BoxObject *box;
        HPy h = HPy_New(ctx, type, &box);
        if (HPy_IsNull(h) || box->x != 0.0 || box != BoxObject_AsStruct(ctx, h)) {
            HPy_Close(ctx, h);
            HPy_Close(ctx, r);
            r = HPy_Dup(ctx, ctx->h_None);
            break;
        }
        box->x = (double)i;
        HPyList_Append(ctx, r, h);
        HPy_Close(ctx, h);
    }
    HPy_Close(ctx, type);
    return r;
}

/* a list builder used as mode says; see test_builders_* */
HPyDef_METH(build, "build", HPyFunc_VARARGS)
static HPy build_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long mode = HPyLong_AsLong(ctx, args[0]), n = HPyLong_AsLong(ctx, args[1]), i;
    HPyListBuilder b = HPyListBuilder_New(ctx, mode == 4 ? -1 : n);
    (void)self; (void)nargs;
    for (i = 0; i < n; i++) {
        HPy f = HPyFloat_FromDouble(ctx, (double)i);
        if (mode == 1 && i % 3 == 0) {
            HPyListBuilder_Set(ctx, b, i, args[2]);  /* then set again: the first item is let go */
        }
        if (mode != 2 || i % 2)
            HPyListBuilder_Set(ctx, b, i, mode == 1 && i % 3 == 1 ? HPy_NULL : f);
        HPy_Close(ctx, f);
    }
    if (mode == 3) {
        HPyListBuilder_Set(ctx, b, n, args[2]);  /* past the end */
        HPyListBuilder_Cancel(ctx, b);
        return HPyErr_Occurred(ctx) ? HPy_NULL : HPy_Dup(ctx, ctx->h_None);
    }
    if (mode == 5) {
        HPyListBuilder_Cancel(ctx, b);
        return HPy_Dup(ctx, ctx->h_None);
    }
    return HPyListBuilder_Build(ctx, b);
}

/* a Blob owns a megabyte of C memory, which PyPy's GC does not see */
typedef struct { char *data; } BlobObject;
HPyType_HELPERS(BlobObject)
static long blobs_alive;

HPyDef_SLOT(blob_new, HPy_tp_new)
static HPy blob_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    BlobObject *blob;
    HPy h = HPy_New(ctx, type, &blob);
    (void)args; (void)nargs; (void)kw;
    if (HPy_IsNull(h))
        return h;
    blob->data = (char *)malloc(1 << 20);
    if (blob->data == NULL) {
        HPy_Close(ctx, h);
        return HPyErr_NoMemory(ctx);
    }
    blob->data[0] = 1;
    blobs_alive++;
    return h;
}

HPyDef_SLOT(blob_destroy, HPy_tp_destroy)
static void blob_destroy_impl(void *obj)
{
    BlobObject *blob = (BlobObject *)obj;
    if (blob->data != NULL)
        blobs_alive--;
    free(blob->data);
}

HPyDef_METH(alive, "blobs_alive", HPyFunc_NOARGS)
static HPy alive_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, blobs_alive);
}

static HPyDef *blob_defines[] = { &blob_new, &blob_destroy, NULL };
static HPyType_Spec blob_spec = { .name = "fast.Blob", .basicsize = sizeof(BlobObject),
                                  .builtin_shape = HPyType_BuiltinShape_Object,
                                  .defines = blob_defines };

static HPyDef *box_defines[] = { &box_new, &box_value, NULL };
static HPyType_Spec box_spec = { .name = "fast.Box", .basicsize = sizeof(BoxObject),
                                 .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
                                 .builtin_shape = HPyType_BuiltinShape_Object,
                                 .defines = box_defines };

HPyDef_SLOT(fast_exec, HPy_mod_exec)
static int fast_exec_impl(HPyContext *ctx, HPy module)
{
    HPy box = HPyType_FromSpec(ctx, &box_spec, NULL);
    int r;
    if (HPy_IsNull(box))
        return -1;
    HPyGlobal_Store(ctx, &g_box, box);
    HPyGlobal_Store(ctx, &g_value, ctx->h_None);
    r = HPy_SetAttr_s(ctx, module, "Box", box);
    HPy_Close(ctx, box);
    return r < 0 ? r : HPyHelpers_AddType(ctx, module, "Blob", &blob_spec, NULL) ? 0 : -1;
}

static HPyDef *defines[] = { &checks, &as_double, &dups, &store, &load_then_store, &error_flag,
                             &made_floats, &many_floats, &new_boxes, &alive, &build, &fast_exec, NULL };
static HPyGlobal *globals[] = { &g_box, &g_value, NULL };
static HPyModuleDef moduledef = { .defines = defines, .globals = globals };
HPy_MODINIT(fast, moduledef)
"""


@pytest.fixture(scope="module")
def mod(hpy_compiler, tmp_path_factory):
    path = hpy_compiler.compile(SOURCE, "universal", "fast", tmp_path_factory.mktemp("fast"))
    return universal.load("fast", path, runtime="cffi")


def test_type_check_known_and_unknown(mod):
    Box = mod.Box

    class Sub(Box):
        pass

    class F(float):
        pass
    # (against the Box global, against the arg, float, int)
    assert mod.checks(Box(), Box) == (1, 1, 0, 0)
    assert mod.checks(Sub(), Box) == (1, 1, 0, 0)    # a subclass: the callback says
    assert mod.checks(Box(), Sub) == (1, 0, 0, 0)
    assert mod.checks(1.5, float) == (0, 1, 1, 0)
    assert mod.checks(7, int) == (0, 1, 0, 1)
    assert mod.checks(7, float) == (0, 0, 0, 1)
    assert mod.checks(True, int) == (0, 1, 0, 1)     # bool: not noted, the callback says
    assert mod.checks(F(2.0), float) == (0, 1, 1, 0)
    assert mod.checks(1.5, Box) == (0, 0, 1, 0)
    assert mod.checks("s", object) == (0, 1, 0, 0)


def test_as_struct_and_float_values(mod):
    box = mod.Box()
    assert box.value() == 2.5 and mod.Box.value(box) == 2.5
    assert mod.as_double(1.25) == 2.25 and mod.as_double(3) == 4.0
    with pytest.raises(TypeError):
        mod.as_double("x")


def test_dup_counts_owners_and_the_slot_goes_with_the_last(mod):
    obj = object()
    mod.dups(obj)
    opened = handles.open_count()
    before = sys.getrefcount(obj) if ON_CPYTHON else None
    for _ in range(100):
        assert mod.dups(obj) is obj
    assert handles.open_count() == opened
    assert int(sum(handles.refs[0:min(len(handles.objects), handles.N_SLOTS)])) == 0
    if ON_CPYTHON:
        assert sys.getrefcount(obj) == before


def test_global_load_is_a_counted_handle_that_outlives_a_store(mod):
    first, second = object(), object()
    mod.store(first)
    assert mod.load_then_store(second) == (first, second)
    assert mod.load_then_store(first) == (second, first)
    if ON_CPYTHON:
        gone = object()
        before = sys.getrefcount(gone)
        mod.store(gone)
        assert sys.getrefcount(gone) == before + 1  # the handle the runtime keeps
        mod.store(None)
        assert sys.getrefcount(gone) == before


def test_error_flag_follows_the_python_error(mod):
    assert mod.error_flag() == (0, 1, 0)


def test_hpy_types_are_not_kept_alive_by_their_keys(mod):
    from hpy_build.runtime.pypy import handles as h
    cls = type("K", (mod.Box,), {})
    key = h.type_key(cls)
    assert key > 0 and h._key(cls) == key and h._key(type("L", (cls,), {})) == 0
    ref = weakref.ref(cls)
    del cls
    gc.collect()
    gc.collect()
    assert ref() is None


def _callbacks(member, f, *args):
    """f(*args), and how many times member's Python body ran."""
    from hpy_build.runtime.pypy import autogen_calls, ctx_objects, ctx_types
    body = next(getattr(m, member) for m in (ctx_types, ctx_objects, autogen_calls) if hasattr(m, member))
    count = [0]

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is body.__code__:
            count[0] += 1
    sys.setprofile(profile)
    try:
        got = f(*args)
    finally:
        sys.setprofile(None)
    return got, count[0]


def test_floats_made_in_c_make_no_callback(mod):
    got, calls = _callbacks("HPyFloat_FromDouble", mod.made_floats, 1000, 0)
    assert got == sum(i + 0.5 + 1 for i in range(1000))
    assert calls == 0  # 1001 floats, each read, checked and closed in C
    assert _callbacks("HPyFloat_FromDouble", mod.as_double, 1.5) == (2.5, 0)


@pytest.mark.parametrize("mode", [1, 2, 3])
def test_floats_made_in_c_are_objects_wherever_python_sees_them(mod, mode):
    opened = handles.open_count()
    got = mod.made_floats(300, mode)
    if mode in (1, 2):
        assert got == [i + 0.5 for i in range(300)]
    else:
        assert got == [x for i in range(300) for x in ([None] if i % 2 else [None, -float(i)])]
    assert all(type(x) is float for x in got if x is not None)
    assert handles.open_count() == opened


def test_more_floats_open_than_spare_slots(mod):
    opened = handles.open_count()
    n = handles.N_SPARE * 3 + 5  # the spare slots run out: the rest call back
    assert mod.many_floats(n) == tuple(float(i) for i in range(n))
    assert handles.open_count() == opened


@pytest.mark.parametrize("how", ["HPy_New", "tp_new"])
def test_instances_made_ahead_are_fresh_and_distinct(mod, how):
    gc.collect()
    opened = handles.open_count()
    n = 2000
    if how == "HPy_New":
        boxes, calls = _callbacks("_HPy_New", mod.new_boxes, n)
        assert [b.value() for b in boxes] == [float(i) for i in range(n)]  # each struct came zeroed
    else:
        boxes, calls = _callbacks("_HPy_New", lambda: [mod.Box() for _ in range(n)])
        assert all(b.value() == 2.5 for b in boxes)
    assert len(set(map(id, boxes))) == n and all(type(b) is mod.Box for b in boxes)
    if ON_CPYTHON:  # no instances made ahead: one callback each
        assert calls == n
    else:  # after the first ones, a callback per pool filled and per look at the C heap
        assert calls < n // 4
    del boxes
    gc.collect()
    assert handles.open_count() == opened


def test_c_memory_owned_by_instances_is_given_back(mod):
    # 4000 Blobs own 4 GB of C memory if none is freed; PyPy's GC sees only
    # small objects, so the runtime collects when the C heap has grown (it
    # looks at most every few milliseconds: some hundreds may be alive)
    gc.collect()
    for _ in range(4000):
        mod.Blob()
    assert mod.blobs_alive() < 2000


def test_builders_fill_in_c_and_call_back_to_build(mod):
    opened = handles.open_count()
    got, sets = _callbacks("HPyListBuilder_Set", mod.build, 0, 1000)
    assert got == [float(i) for i in range(1000)] and sets == 0
    marker = object()
    # set twice (the first item let go), HPy_NULL, never set: None
    assert mod.build(1, 9, marker) == [None if i % 3 == 1 else float(i) for i in range(9)]
    assert mod.build(2, 5) == [None, 1.0, None, 3.0, None]
    with pytest.raises(IndexError):
        mod.build(3, 4, marker)
    with pytest.raises(MemoryError):  # HPyListBuilder_New(-1)
        mod.build(4, 3)
    assert mod.build(5, 7) is None  # cancelled
    gc.collect()
    assert handles.open_count() == opened
    if ON_CPYTHON:
        before = sys.getrefcount(marker)
        mod.build(1, 30, marker)
        with pytest.raises(IndexError):
            mod.build(3, 30, marker)
        assert sys.getrefcount(marker) == before
