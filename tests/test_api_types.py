"""Custom types (HPyType_FromSpec): slots, methods, members, get-sets, object
layout, inheritance and instance life cycle, in both ABIs."""
import gc
import operator
import shutil
import subprocess
import weakref

import pytest

from support import free_dropped, refcount

# A log every slot appends (name, args...) to, so Python sees what C received.
LOG = r"""
#include <stddef.h>
#include <string.h>
#include "hpytest.h"

static HPyGlobal g_log;

static void log_rec(HPyContext *ctx, HPy rec)
{
    HPy log = HPyGlobal_Load(ctx, g_log);
    if (!HPy_IsNull(rec) && !HPy_Is(ctx, log, ctx->h_None))
        HPyList_Append(ctx, log, rec);
    HPy_Close(ctx, log);
}

HPyDef_METH(set_log, "set_log", HPyFunc_O)
static HPy set_log_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPyGlobal_Store(ctx, &g_log, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

static inline HPy rec(HPyContext *ctx, HPy r)
{
    log_rec(ctx, r);
    return r;
}
"""

SLOTS_SOURCE = LOG + r"""
typedef struct { long v; } NumObject;
HPyType_HELPERS(NumObject)

#define UN(S) HPyDef_SLOT(S, HPy_##S) \
    static HPy S##_impl(HPyContext *ctx, HPy a) { return rec(ctx, HPy_BuildValue(ctx, "sO", #S, a)); }
#define BIN(S) HPyDef_SLOT(S, HPy_##S) \
    static HPy S##_impl(HPyContext *ctx, HPy a, HPy b) { return rec(ctx, HPy_BuildValue(ctx, "sOO", #S, a, b)); }
#define TER(S) HPyDef_SLOT(S, HPy_##S) \
    static HPy S##_impl(HPyContext *ctx, HPy a, HPy b, HPy c) { return rec(ctx, HPy_BuildValue(ctx, "sOOO", #S, a, b, c)); }

UN(nb_absolute) UN(nb_invert) UN(nb_negative) UN(nb_positive)
BIN(nb_add) BIN(nb_and) BIN(nb_divmod) BIN(nb_floor_divide) BIN(nb_lshift) BIN(nb_multiply)
BIN(nb_or) BIN(nb_remainder) BIN(nb_rshift) BIN(nb_subtract) BIN(nb_true_divide) BIN(nb_xor)
BIN(nb_matrix_multiply)
BIN(nb_inplace_add) BIN(nb_inplace_and) BIN(nb_inplace_floor_divide) BIN(nb_inplace_lshift)
BIN(nb_inplace_multiply) BIN(nb_inplace_or) BIN(nb_inplace_remainder) BIN(nb_inplace_rshift)
BIN(nb_inplace_subtract) BIN(nb_inplace_true_divide) BIN(nb_inplace_xor)
BIN(nb_inplace_matrix_multiply)
TER(nb_power) TER(nb_inplace_power)

HPyDef_SLOT(nb_int, HPy_nb_int)
static HPy nb_int_impl(HPyContext *ctx, HPy a) { return HPyLong_FromLong(ctx, NumObject_AsStruct(ctx, a)->v + 1); }
HPyDef_SLOT(nb_index, HPy_nb_index)
static HPy nb_index_impl(HPyContext *ctx, HPy a) { return HPyLong_FromLong(ctx, NumObject_AsStruct(ctx, a)->v + 2); }
HPyDef_SLOT(nb_float, HPy_nb_float)
static HPy nb_float_impl(HPyContext *ctx, HPy a) { return HPyFloat_FromDouble(ctx, NumObject_AsStruct(ctx, a)->v + 0.5); }
HPyDef_SLOT(nb_bool, HPy_nb_bool)
static int nb_bool_impl(HPyContext *ctx, HPy a) { return NumObject_AsStruct(ctx, a)->v != 0; }

HPyDef_SLOT(Num_new, HPy_tp_new)
static HPy Num_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    log_rec(ctx, HPy_BuildValue(ctx, "sn", "tp_new", nargs));
    return HPyType_GenericNew(ctx, type, args, nargs, kw);
}

HPyDef_SLOT(Num_init, HPy_tp_init)
static int Num_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    static const char *kwlist[] = { "v", NULL };
    long v = 0;
    HPyTracker ht;
    if (!HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kw, "|l", kwlist, &v))
        return -1;
    HPyTracker_Close(ctx, ht);
    NumObject_AsStruct(ctx, self)->v = v;
    return 0;
}

HPyDef_SLOT(Num_repr, HPy_tp_repr)
static HPy Num_repr_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromFormat(ctx, "Num(%ld)", NumObject_AsStruct(ctx, self)->v);
}

HPyDef_SLOT(Num_str, HPy_tp_str)
static HPy Num_str_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromFormat(ctx, "<%ld>", NumObject_AsStruct(ctx, self)->v);
}

HPyDef_SLOT(Num_hash, HPy_tp_hash)
static HPy_hash_t Num_hash_impl(HPyContext *ctx, HPy self)
{
    return NumObject_AsStruct(ctx, self)->v * 10 + 7;
}

HPyDef_SLOT(Num_richcompare, HPy_tp_richcompare)
static HPy Num_richcompare_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    long a = NumObject_AsStruct(ctx, self)->v, b;
    b = HPyLong_AsLong(ctx, other);
    if (b == -1 && HPyErr_Occurred(ctx)) {
        HPyErr_Clear(ctx);
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    HPy_RETURN_RICHCOMPARE(ctx, a, b, op);
}

HPyDef_SLOT(Num_call, HPy_tp_call)
static HPy Num_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    HPy t = HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs), r;
    r = HPy_BuildValue(ctx, "sOOO", "tp_call", self, t, HPy_IsNull(kwnames) ? ctx->h_None : kwnames);
    HPy_Close(ctx, t);
    return r;
}

static HPyDef *Num_defines[] = {
    &nb_absolute, &nb_invert, &nb_negative, &nb_positive, &nb_add, &nb_and, &nb_divmod,
    &nb_floor_divide, &nb_lshift, &nb_multiply, &nb_or, &nb_remainder, &nb_rshift,
    &nb_subtract, &nb_true_divide, &nb_xor, &nb_matrix_multiply, &nb_inplace_add,
    &nb_inplace_and, &nb_inplace_floor_divide, &nb_inplace_lshift, &nb_inplace_multiply,
    &nb_inplace_or, &nb_inplace_remainder, &nb_inplace_rshift, &nb_inplace_subtract,
    &nb_inplace_true_divide, &nb_inplace_xor, &nb_inplace_matrix_multiply, &nb_power,
    &nb_inplace_power, &nb_int, &nb_index, &nb_float, &nb_bool,
    &Num_new, &Num_init, &Num_repr, &Num_str, &Num_hash, &Num_richcompare, &Num_call, NULL
};

static HPyType_Spec Num_spec = {
    .name = "mytest.Num",
    .basicsize = sizeof(NumObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
    .builtin_shape = SHAPE(NumObject),
    .defines = Num_defines,
};

/* a sequence: sq_* slots over a fixed length of 5 */
HPyDef_SLOT(sq_length, HPy_sq_length)
static HPy_ssize_t sq_length_impl(HPyContext *ctx, HPy self) { (void)ctx; (void)self; return 5; }
HPyDef_SLOT(sq_item, HPy_sq_item)
static HPy sq_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    (void)self;
    if (i >= 5) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "out of range");
        return HPy_NULL;
    }
    return HPyLong_FromSsize_t(ctx, i * 10);
}
HPyDef_SLOT(sq_ass_item, HPy_sq_ass_item)
static int sq_ass_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i, HPy v)
{
    (void)self;
    log_rec(ctx, HPy_BuildValue(ctx, "snO", "sq_ass_item", i, HPy_IsNull(v) ? ctx->h_Ellipsis : v));
    return 0;
}
HPyDef_SLOT(sq_contains, HPy_sq_contains)
static int sq_contains_impl(HPyContext *ctx, HPy self, HPy v)
{
    (void)self;
    return HPyLong_AsLong(ctx, v) == 42;
}
HPyDef_SLOT(sq_concat, HPy_sq_concat)
static HPy sq_concat_impl(HPyContext *ctx, HPy a, HPy b) { return HPy_BuildValue(ctx, "sOO", "sq_concat", a, b); }
HPyDef_SLOT(sq_inplace_concat, HPy_sq_inplace_concat)
static HPy sq_inplace_concat_impl(HPyContext *ctx, HPy a, HPy b) { return HPy_BuildValue(ctx, "sOO", "sq_inplace_concat", a, b); }
HPyDef_SLOT(sq_repeat, HPy_sq_repeat)
static HPy sq_repeat_impl(HPyContext *ctx, HPy a, HPy_ssize_t n) { return HPy_BuildValue(ctx, "sOn", "sq_repeat", a, n); }
HPyDef_SLOT(sq_inplace_repeat, HPy_sq_inplace_repeat)
static HPy sq_inplace_repeat_impl(HPyContext *ctx, HPy a, HPy_ssize_t n) { return HPy_BuildValue(ctx, "sOn", "sq_inplace_repeat", a, n); }

static HPyDef *Seq_defines[] = {
    &sq_length, &sq_item, &sq_ass_item, &sq_contains, &sq_concat, &sq_inplace_concat,
    &sq_repeat, &sq_inplace_repeat, NULL
};
static HPyType_Spec Seq_spec = { .name = "mytest.Seq", .defines = Seq_defines };

HPyDef_SLOT(mp_length, HPy_mp_length)
static HPy_ssize_t mp_length_impl(HPyContext *ctx, HPy self) { (void)ctx; (void)self; return 3; }
HPyDef_SLOT(mp_subscript, HPy_mp_subscript)
static HPy mp_subscript_impl(HPyContext *ctx, HPy self, HPy key) { (void)self; return HPy_BuildValue(ctx, "sO", "mp_subscript", key); }
HPyDef_SLOT(mp_ass_subscript, HPy_mp_ass_subscript)
static int mp_ass_subscript_impl(HPyContext *ctx, HPy self, HPy key, HPy v)
{
    (void)self;
    log_rec(ctx, HPy_BuildValue(ctx, "sOO", "mp_ass_subscript", key, HPy_IsNull(v) ? ctx->h_Ellipsis : v));
    return 0;
}
static HPyDef *Map_defines[] = { &mp_length, &mp_subscript, &mp_ass_subscript, NULL };
static HPyType_Spec Map_spec = { .name = "mytest.Map", .defines = Map_defines };

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    if (!HPyHelpers_AddType(ctx, m, "Num", &Num_spec, NULL) ||
        !HPyHelpers_AddType(ctx, m, "Seq", &Seq_spec, NULL) ||
        !HPyHelpers_AddType(ctx, m, "Map", &Map_spec, NULL))
        return -1;
    HPyGlobal_Store(ctx, &g_log, ctx->h_None);
    return 0;
}
static HPyDef *defs[] = { &set_log, &ex, NULL };
static HPyGlobal *globals[] = { &g_log, NULL };
static HPyModuleDef moduledef = { .defines = defs, .globals = globals };
HPy_MODINIT(mytest, moduledef)
"""

BINARY = {
    "nb_add": operator.add, "nb_and": operator.and_, "nb_divmod": divmod,
    "nb_floor_divide": operator.floordiv, "nb_lshift": operator.lshift,
    "nb_multiply": operator.mul, "nb_or": operator.or_, "nb_remainder": operator.mod,
    "nb_rshift": operator.rshift, "nb_subtract": operator.sub,
    "nb_true_divide": operator.truediv, "nb_xor": operator.xor,
    "nb_matrix_multiply": operator.matmul,
}
INPLACE = {
    "nb_inplace_add": operator.iadd, "nb_inplace_and": operator.iand,
    "nb_inplace_floor_divide": operator.ifloordiv, "nb_inplace_lshift": operator.ilshift,
    "nb_inplace_multiply": operator.imul, "nb_inplace_or": operator.ior,
    "nb_inplace_remainder": operator.imod, "nb_inplace_rshift": operator.irshift,
    "nb_inplace_subtract": operator.isub, "nb_inplace_true_divide": operator.itruediv,
    "nb_inplace_xor": operator.ixor, "nb_inplace_matrix_multiply": operator.imatmul,
}
UNARY = {"nb_absolute": abs, "nb_invert": operator.invert, "nb_negative": operator.neg,
         "nb_positive": operator.pos}


@pytest.fixture
def slots(compile_module):
    return compile_module(SLOTS_SOURCE)


def test_number_slots(slots):
    n = slots.Num(4)
    o = object()  # no number slots of its own
    for name, op in BINARY.items():
        assert op(n, o) == (name, n, o)
        assert op(o, n) == (name, o, n), "reflected " + name
    for name, op in INPLACE.items():
        assert op(n, 2) == (name, n, 2)
    for name, op in UNARY.items():
        assert op(n) == (name, n)
    assert pow(n, 2) == ("nb_power", n, 2, None)
    assert pow(n, 2, 5) == ("nb_power", n, 2, 5)
    assert pow(3, n) == ("nb_power", 3, n, None)
    x = n
    x **= 3
    assert x == ("nb_inplace_power", n, 3, None)
    assert int(n) == 5 and operator.index(n) == 6 and float(n) == 4.5
    assert [10, 20, 30, 40, 50, 60, 70][n] == 70
    assert bool(n) and not bool(slots.Num(0))


def test_object_slots(slots):
    log = []
    slots.set_log(log)
    n = slots.Num(v=3)
    assert log == [("tp_new", 0)]
    assert slots.Num(7).__class__ is slots.Num and log[-1] == ("tp_new", 1)
    assert repr(n) == "Num(3)" and str(n) == "<3>"
    assert hash(n) == 37
    assert n == 3 and n != 4 and n < 4 and n <= 3 and n > 2 and n >= 3
    assert not (n == 4)
    assert (n == "x") is False  # NotImplemented both ways: identity
    assert n(1, 2, k=3) == ("tp_call", n, (1, 2), ("k",))
    assert n() == ("tp_call", n, (), None)
    with pytest.raises(TypeError):
        slots.Num("no int")
    with pytest.raises(TypeError):
        slots.Num(1, 2)
    slots.set_log(None)


def test_sequence_slots(slots):
    log = []
    slots.set_log(log)
    s = slots.Seq()
    assert len(s) == 5 and s[2] == 20 and list(s) == [0, 10, 20, 30, 40]
    assert s[-1] == 40  # CPython adds the length to a negative index
    s[1] = "a"
    del s[3]
    assert log == [("sq_ass_item", 1, "a"), ("sq_ass_item", 3, ...)]
    assert 42 in s and 41 not in s
    assert s + [1] == ("sq_concat", s, [1])
    assert s * 3 == ("sq_repeat", s, 3)
    assert 3 * s == ("sq_repeat", s, 3)
    t = s
    t += [2]
    assert t == ("sq_inplace_concat", s, [2])
    t = s
    t *= 4
    assert t == ("sq_inplace_repeat", s, 4)
    slots.set_log(None)


def test_mapping_slots(slots):
    log = []
    slots.set_log(log)
    m = slots.Map()
    assert len(m) == 3 and m["k"] == ("mp_subscript", "k") and m[1:2] == ("mp_subscript", slice(1, 2))
    m["a"] = 1
    del m["b"]
    assert log == [("mp_ass_subscript", "a", 1), ("mp_ass_subscript", "b", ...)]
    slots.set_log(None)


MEMBERS_SOURCE = r"""
#include <stddef.h>
#include <string.h>
#include "hpytest.h"

typedef struct {
    short s; int i; long l; float f; double d; const char *str; HPyField obj; char c;
    signed char b; unsigned char ub; unsigned short us; unsigned int ui; unsigned long ul;
    char inplace[8]; bool flag; HPyField obj_ex; long long ll; unsigned long long ull;
    HPy_ssize_t ssz; long ro;
} MObject;
HPyType_HELPERS(MObject)

#define M(N, T) HPyDef_MEMBER(m_##N, #N, HPyMember_##T, offsetof(MObject, N))
M(s, SHORT) M(i, INT) M(l, LONG) M(f, FLOAT) M(d, DOUBLE) M(str, STRING) M(obj, OBJECT)
M(c, CHAR) M(b, BYTE) M(ub, UBYTE) M(us, USHORT) M(ui, UINT) M(ul, ULONG)
M(inplace, STRING_INPLACE) M(flag, BOOL) M(obj_ex, OBJECT_EX) M(ll, LONGLONG)
M(ull, ULONGLONG) M(ssz, HPYSSIZET)
HPyDef_MEMBER(m_none, "none", HPyMember_NONE, offsetof(MObject, l))
HPyDef_MEMBER(m_ro, "ro", HPyMember_LONG, offsetof(MObject, ro), .readonly = 1, .doc = "read-only")

HPyDef_SLOT(M_new, HPy_tp_new)
static HPy M_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    MObject *m;
    HPy h = HPy_New(ctx, type, &m);
    (void)args; (void)nargs; (void)kw;
    if (HPy_IsNull(h))
        return h;
    m->str = "static";
    strcpy(m->inplace, "inpl");
    m->ro = 99;
    return h;
}

/* is every byte of the struct after the set fields zero? (HPy_New zeroes) */
HPyDef_METH(M_zeroed, "zeroed", HPyFunc_NOARGS)
static HPy M_zeroed_impl(HPyContext *ctx, HPy self)
{
    MObject *m = MObject_AsStruct(ctx, self);
    return HPyBool_FromBool(ctx, m->s == 0 && m->i == 0 && m->l == 0 && m->d == 0.0 &&
                            HPyField_IsNull(m->obj) && m->ull == 0 && m->ssz == 0);
}

HPyDef_METH(M_ssz, "get_ssz", HPyFunc_NOARGS)
static HPy M_ssz_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromSsize_t(ctx, MObject_AsStruct(ctx, self)->ssz);
}

static HPyDef *M_defines[] = {
    &m_s, &m_i, &m_l, &m_f, &m_d, &m_str, &m_obj, &m_c, &m_b, &m_ub, &m_us, &m_ui, &m_ul,
    &m_inplace, &m_flag, &m_obj_ex, &m_ll, &m_ull, &m_ssz, &m_none, &m_ro, &M_new, &M_zeroed,
    &M_ssz, NULL
};
static HPyType_Spec M_spec = {
    .name = "mytest.M", .basicsize = sizeof(MObject), .flags = HPy_TPFLAGS_DEFAULT,
    .defines = M_defines,
};

/* get-sets: the closure tells the accessors apart */
typedef struct { long a; long b; } GObject;
HPyType_HELPERS(GObject)
static long closure_a = 0, closure_b = 1;

static HPy ab_get(HPyContext *ctx, HPy self, void *closure)
{
    GObject *g = GObject_AsStruct(ctx, self);
    return HPyLong_FromLong(ctx, *(long *)closure == 0 ? g->a : g->b);
}
static int ab_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    GObject *g = GObject_AsStruct(ctx, self);
    long v;
    if (HPy_IsNull(value)) {
        HPyErr_SetString(ctx, ctx->h_AttributeError, "cannot delete a");
        return -1;
    }
    v = HPyLong_AsLong(ctx, value);
    if (v == -1 && HPyErr_Occurred(ctx))
        return -1;
    if (*(long *)closure == 0) g->a = v; else g->b = v;
    return 0;
}

HPyDef_GETSET(G_a, "a", .closure = &closure_a, .doc = "getset a")
static HPy G_a_get(HPyContext *ctx, HPy self, void *closure) { return ab_get(ctx, self, closure); }
static int G_a_set(HPyContext *ctx, HPy self, HPy value, void *closure) { return ab_set(ctx, self, value, closure); }
HPyDef_GETSET(G_b, "b", .closure = &closure_b)
static HPy G_b_get(HPyContext *ctx, HPy self, void *closure) { return ab_get(ctx, self, closure); }
static int G_b_set(HPyContext *ctx, HPy self, HPy value, void *closure) { return ab_set(ctx, self, value, closure); }

HPyDef_GET(G_sum, "sum")
static HPy G_sum_get(HPyContext *ctx, HPy self, void *closure)
{
    GObject *g = GObject_AsStruct(ctx, self);
    (void)closure;
    return HPyLong_FromLong(ctx, g->a + g->b);
}

HPyDef_SET(G_reset, "reset")
static int G_reset_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    GObject *g = GObject_AsStruct(ctx, self);
    (void)closure;
    g->a = g->b = HPy_IsNull(value) ? -1 : 0;
    return 0;
}

static HPyDef *G_defines[] = { &G_a, &G_b, &G_sum, &G_reset, NULL };
static HPyType_Spec G_spec = {
    .name = "mytest.G", .basicsize = sizeof(GObject), .defines = G_defines,
};

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    if (!HPyHelpers_AddType(ctx, m, "M", &M_spec, NULL) ||
        !HPyHelpers_AddType(ctx, m, "G", &G_spec, NULL))
        return -1;
    return 0;
}
static HPyDef *defs[] = { &ex, NULL };
static HPyModuleDef moduledef = { .defines = defs };
HPy_MODINIT(mytest, moduledef)
"""


def test_members(compile_module):
    mod = compile_module(MEMBERS_SOURCE)
    m = mod.M()
    assert m.zeroed()
    assert (m.s, m.i, m.l, m.f, m.d, m.c, m.b, m.ub, m.us, m.ui, m.ul, m.flag, m.ll, m.ull,
            m.ssz) == (0, 0, 0, 0.0, 0.0, "\x00", 0, 0, 0, 0, 0, False, 0, 0, 0)
    assert m.str == "static" and m.inplace == "inpl" and m.obj is None and m.none is None
    with pytest.raises(AttributeError):
        m.obj_ex
    values = dict(s=-3, i=-70000, l=-(2 ** 40), f=1.5, d=-2.25, c="z", b=-5, ub=200, us=60000,
                  ui=2 ** 31 + 5, ul=2 ** 63 + 1, flag=True, ll=-(2 ** 62), ull=2 ** 64 - 1,
                  ssz=-12345)
    for name, value in values.items():
        setattr(m, name, value)
    for name, value in values.items():
        assert getattr(m, name) == value, name
    assert m.get_ssz() == -12345  # the C struct, seen through AsStruct
    obj = object()
    before = refcount(obj)
    m.obj = obj
    m.obj_ex = obj
    assert m.obj is obj
    assert m.obj_ex is obj
    assert refcount(obj) == before + 2
    del m.obj_ex
    with pytest.raises(AttributeError):
        m.obj_ex
    m.obj = None
    assert refcount(obj) == before
    # read-only members refuse writes the way CPython's do
    assert m.ro == 99
    assert type(m).ro.__doc__ == "read-only"
    for name in ("ro", "str", "inplace"):
        with pytest.raises((AttributeError, TypeError)) as info:
            setattr(m, name, 1)
        assert "readonly" in str(info.value) or "read-only" in str(info.value)
    with pytest.raises(TypeError):
        m.i = "x"
    with pytest.warns(RuntimeWarning, match="short"):  # CPython truncates, and says so
        m.s = 2 ** 20
    m.obj = obj
    del m
    assert refcount(obj) == before  # dealloc dropped the field


def test_getset(compile_module):
    mod = compile_module(MEMBERS_SOURCE)
    g = mod.G()
    assert (g.a, g.b, g.sum) == (0, 0, 0)
    g.a = 3
    g.b = 4
    assert (g.a, g.b, g.sum) == (3, 4, 7)
    assert type(g).a.__doc__ == "getset a"
    with pytest.raises(AttributeError, match="cannot delete a"):
        del g.a
    with pytest.raises(AttributeError):
        g.sum = 1
    with pytest.raises(AttributeError):
        g.reset
    g.reset = "anything"
    assert g.sum == 0
    del g.reset
    assert (g.a, g.b) == (-1, -1)


METHODS_SOURCE = r"""
#include "hpytest.h"
typedef struct { long v; } CObject;
HPyType_HELPERS(CObject)

HPyDef_METH(C_noargs, "noargs", HPyFunc_NOARGS, .doc = "noargs doc")
static HPy C_noargs_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, self); }
HPyDef_METH(C_o, "o", HPyFunc_O)
static HPy C_o_impl(HPyContext *ctx, HPy self, HPy arg) { return HPy_BuildValue(ctx, "OO", self, arg); }
HPyDef_METH(C_varargs, "varargs", HPyFunc_VARARGS)
static HPy C_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    return HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
}
HPyDef_METH(C_keywords, "keywords", HPyFunc_KEYWORDS)
static HPy C_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self; (void)args;
    return HPy_BuildValue(ctx, "nO", (HPy_ssize_t)nargs, HPy_IsNull(kwnames) ? ctx->h_None : kwnames);
}
static HPyDef *C_defines[] = { &C_noargs, &C_o, &C_varargs, &C_keywords, NULL };
static HPyType_Spec C_spec = { .name = "mytest.C", .basicsize = sizeof(CObject),
                               .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
                               .defines = C_defines, .doc = "C's doc" };

/* a method of a signature methods cannot have */
HPyDef_METH(bad_meth, "bad", HPyFunc_UNARYFUNC)
static HPy bad_meth_impl(HPyContext *ctx, HPy a) { return HPy_Dup(ctx, a); }
static HPyDef *bad_defines[] = { &bad_meth, NULL };

HPyDef_METH(make_bad, "make_bad", HPyFunc_NOARGS)
static HPy make_bad_impl(HPyContext *ctx, HPy self)
{
    static HPyType_Spec spec = { .name = "mytest.Bad", .defines = bad_defines };
    (void)self;
    return HPyType_FromSpec(ctx, &spec, NULL);
}

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    return HPyHelpers_AddType(ctx, m, "C", &C_spec, NULL) ? 0 : -1;
}
static HPyDef *defs[] = { &make_bad, &ex, NULL };
static HPyModuleDef moduledef = { .defines = defs };
HPy_MODINIT(mytest, moduledef)
"""


def test_methods_and_type_attributes(compile_module):
    mod = compile_module(METHODS_SOURCE)
    C = mod.C
    assert C.__name__ == "C" and C.__qualname__ == "C" and C.__module__ == "mytest"
    assert C.__doc__ == "C's doc" and C.noargs.__doc__ == "noargs doc"
    with pytest.raises(TypeError):
        C(1)  # object's tp_new takes no arguments... but object() does: no HPy_tp_new
    c = C()
    assert c.noargs() is c
    assert c.o(5) == (c, 5)
    assert c.varargs(1, 2, 3) == (1, 2, 3)
    assert c.keywords(1, 2, a=3, b=4) == (2, ("a", "b"))  # positional count
    assert c.keywords() == (0, None)
    with pytest.raises(TypeError):
        c.noargs(1)
    with pytest.raises(TypeError):
        c.o()
    with pytest.raises(ValueError, match="Unsupported HPyMeth signature"):
        mod.make_bad()


def test_python_subclass(compile_module):
    mod = compile_module(METHODS_SOURCE)

    class Sub(mod.C):
        def extra(self):
            return "extra"

    s = Sub()
    s.attr = [1]
    assert s.__dict__ == {"attr": [1]}
    assert s.extra() == "extra" and s.o(1) == (s, 1) and isinstance(s, mod.C)
    r = weakref.ref(s)
    del s
    gc.collect()
    free_dropped()
    assert r() is None


SHAPES_SOURCE = LOG + r"""
/* one type per built-in shape; each struct keeps a tag beside the base's state */
#define SHAPED(NAME, SHP)                                               \
    typedef struct { long tag; double pad; } NAME##Object;                      \
    HPyType_HELPERS(NAME##Object, SHP)                                          \
    HPyDef_METH(NAME##_set, "set_tag", HPyFunc_O)                               \
    static HPy NAME##_set_impl(HPyContext *ctx, HPy self, HPy arg)              \
    {                                                                           \
        NAME##Object_AsStruct(ctx, self)->tag = HPyLong_AsLong(ctx, arg);       \
        NAME##Object_AsStruct(ctx, self)->pad = -1.0;                           \
        return HPy_Dup(ctx, ctx->h_None);                                       \
    }                                                                           \
    HPyDef_METH(NAME##_get, "get_tag", HPyFunc_NOARGS)                          \
    static HPy NAME##_get_impl(HPyContext *ctx, HPy self)                       \
    {                                                                           \
        return HPyLong_FromLong(ctx, NAME##Object_AsStruct(ctx, self)->tag);    \
    }                                                                           \
    HPyDef_MEMBER(NAME##_tag, "tag", HPyMember_LONG, offsetof(NAME##Object, tag)) \
    static HPyDef *NAME##_defines[] = { &NAME##_set, &NAME##_get, &NAME##_tag, NULL }; \
    static HPyType_Spec NAME##_spec = {                                         \
        .name = "mytest." #NAME, .basicsize = sizeof(NAME##Object),             \
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,                    \
        .builtin_shape = SHAPE(NAME##Object), .defines = NAME##_defines,        \
    };

SHAPED(Obj, HPyType_BuiltinShape_Object)
SHAPED(Flt, HPyType_BuiltinShape_Float)
SHAPED(Lng, HPyType_BuiltinShape_Long)
SHAPED(Uni, HPyType_BuiltinShape_Unicode)
SHAPED(Tup, HPyType_BuiltinShape_Tuple)
SHAPED(Lst, HPyType_BuiltinShape_List)
SHAPED(Meta, HPyType_BuiltinShape_Type)

static int add(HPyContext *ctx, HPy m, const char *name, HPyType_Spec *spec, HPy base)
{
    HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, base }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    return HPyHelpers_AddType(ctx, m, name, spec, params) ? 0 : -1;
}

HPyDef_METH(shape_of, "shape_of", HPyFunc_O)
static HPy shape_of_impl(HPyContext *ctx, HPy self, HPy type)
{
    HPyType_BuiltinShape shape = _HPyType_GetBuiltinShape(ctx, type);
    (void)self;
    if ((int)shape == -2)
        return HPy_NULL;
    return HPyLong_FromLong(ctx, (long)shape);
}

/* a class made by FromSpec with the Meta metaclass */
typedef struct { long v; } WithMetaObject;
HPyType_HELPERS(WithMetaObject)
static HPyDef *WithMeta_defines[] = { NULL };
static HPyType_Spec WithMeta_spec = { .name = "mytest.WithMeta", .basicsize = sizeof(WithMetaObject),
                                      .defines = WithMeta_defines, .doc = "made with a metaclass" };

HPyDef_METH(make_with_meta, "make_with_meta", HPyFunc_O)
static HPy make_with_meta_impl(HPyContext *ctx, HPy self, HPy meta)
{
    HPyType_SpecParam params[] = { { HPyType_SpecParam_Metaclass, meta }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    (void)self;
    return HPyType_FromSpec(ctx, &WithMeta_spec, params);
}

/* a spec with a shape its base does not have */
HPyDef_METH(bad_shape, "bad_shape", HPyFunc_O)
static HPy bad_shape_impl(HPyContext *ctx, HPy self, HPy base)
{
    static HPyType_Spec spec = { .name = "mytest.BadShape", .basicsize = 8,
                                 .builtin_shape = HPyType_BuiltinShape_Float };
    HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, base }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    (void)self;
    return HPyType_FromSpec(ctx, &spec, HPy_Is(ctx, base, ctx->h_None) ? NULL : params);
}

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    return add(ctx, m, "Obj", &Obj_spec, ctx->h_BaseObjectType) || add(ctx, m, "Flt", &Flt_spec, ctx->h_FloatType) ||
           add(ctx, m, "Lng", &Lng_spec, ctx->h_LongType) || add(ctx, m, "Uni", &Uni_spec, ctx->h_UnicodeType) ||
           add(ctx, m, "Tup", &Tup_spec, ctx->h_TupleType) || add(ctx, m, "Lst", &Lst_spec, ctx->h_ListType) ||
           add(ctx, m, "Meta", &Meta_spec, ctx->h_TypeType) ? -1 : 0;
}
static HPyDef *defs[] = { &set_log, &shape_of, &make_with_meta, &bad_shape, &ex, NULL };
static HPyGlobal *globals[] = { &g_log, NULL };
static HPyModuleDef moduledef = { .defines = defs, .globals = globals };
HPy_MODINIT(mytest, moduledef)
"""


def test_builtin_shapes(compile_module):
    mod = compile_module(SHAPES_SOURCE)
    cases = [
        (0, mod.Obj, (), lambda o: type(o) is mod.Obj),
        (3, mod.Flt, (2.5,), lambda o: o + 1 == 3.5 and float(o) == 2.5),
        (2, mod.Lng, (123,), lambda o: o * 2 == 246 and int(o) == 123),
        (4, mod.Uni, ("abcd",), lambda o: o.upper() == "ABCD" and len(o) == 4),
        (5, mod.Tup, ((7,),), lambda o: tuple(o) == (7,) and o[0] == 7),
        (6, mod.Lst, ([1, 2, 3],), lambda o: o == [1, 2, 3] and o[-1] == 3),
    ]
    for shape, cls, args, check in cases:  # HPyType_BuiltinShape values
        assert mod.shape_of(cls) == shape, cls
        obj = cls(*args)
        assert obj.get_tag() == 0 and obj.tag == 0, cls
        obj.set_tag(41 + shape)
        assert obj.get_tag() == obj.tag == 41 + shape, cls
        assert check(obj), cls  # the built-in part is intact
        obj.tag = 5
        assert obj.get_tag() == 5
    lst = mod.Lst([1])
    lst.set_tag(9)
    lst.extend(range(100))  # the list's item array lives apart: the tag stays
    assert lst.get_tag() == 9 and len(lst) == 101
    assert mod.shape_of(int) == -1 and mod.shape_of(type(mod)) == -1  # not HPy types: legacy

    class PySub(mod.Flt):
        pass

    assert mod.shape_of(PySub) == 3  # the layout of its HPy base
    sub = PySub(1.5)
    sub.set_tag(8)
    assert sub.get_tag() == 8 and sub + 1 == 2.5
    with pytest.raises(TypeError, match="arg must be a type"):
        mod.shape_of(1)


def test_type_shape_metaclass(compile_module):
    mod = compile_module(SHAPES_SOURCE)
    assert mod.shape_of(mod.Meta) == 1

    class FromPython(metaclass=mod.Meta):
        x = 1

    assert FromPython.get_tag() == 0
    FromPython.set_tag(77)
    assert FromPython.get_tag() == 77 and FromPython.x == 1 and FromPython().x == 1
    cls = mod.make_with_meta(mod.Meta)
    assert type(cls) is mod.Meta
    assert cls.__name__ == "WithMeta" and cls.__module__ == "mytest"
    assert cls.__doc__ == "made with a metaclass"
    cls.set_tag(5)
    assert cls.get_tag() == 5 and isinstance(cls(), cls)
    assert mod.shape_of(cls) == 0
    assert type(mod.make_with_meta(type)) is type
    with pytest.raises(TypeError, match="Metaclass '1' is not a subclass of 'type'"):
        mod.make_with_meta(1)


def test_shape_must_match_base(compile_module):
    mod = compile_module(SHAPES_SOURCE)
    with pytest.raises(TypeError, match="needs 'float' as a base"):
        mod.bad_shape(None)
    with pytest.raises(TypeError, match="HPyType_BuiltinShape_Float but its base type has "
                                        "HPyType_BuiltinShape_Object"):
        mod.bad_shape(mod.Obj)
    assert mod.bad_shape(float).__base__ is float


CALL_SOURCE = r"""
#include <stddef.h>
#include "hpytest.h"

static HPy describe(HPyContext *ctx, const char *who, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    HPy t = HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)(nargs + (HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames))));
    HPy r = HPy_BuildValue(ctx, "sOnOO", who, self, (HPy_ssize_t)nargs, t, HPy_IsNull(kwnames) ? ctx->h_None : kwnames);
    HPy_Close(ctx, t);
    return r;
}

HPyDef_CALL_FUNCTION(call_one)
static HPy call_one_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    return describe(ctx, "one", self, args, nargs, kwnames);
}

HPyDef_CALL_FUNCTION(call_two)
static HPy call_two_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    return describe(ctx, "two", self, args, nargs, kwnames);
}

/* per-instance call functions through an explicit __vectorcalloffset__ */
typedef struct { void *vcall; long which; } EObject;
HPyType_HELPERS(EObject)
HPyDef_MEMBER(E_vcoffset, "__vectorcalloffset__", HPyMember_HPYSSIZET, offsetof(EObject, vcall), .readonly = 1)
HPyDef_SLOT(E_new, HPy_tp_new)
static HPy E_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    EObject *e;
    HPy h = HPy_New(ctx, cls, &e);
    long which = nargs ? HPyLong_AsLong(ctx, args[0]) : 1;
    (void)kw;
    if (HPy_IsNull(h))
        return h;
    e->which = which;
    if (HPy_SetCallFunction(ctx, h, which == 1 ? &call_one : &call_two) < 0) {
        HPy_Close(ctx, h);
        return HPy_NULL;
    }
    return h;
}
HPyDef_METH(E_switch, "switch", HPyFunc_NOARGS)
static HPy E_switch_impl(HPyContext *ctx, HPy self)
{
    if (HPy_SetCallFunction(ctx, self, &call_two) < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}
static HPyDef *E_defines[] = { &E_vcoffset, &E_new, &E_switch, NULL };
static HPyType_Spec E_spec = { .name = "mytest.E", .basicsize = sizeof(EObject),
                               .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_VECTORCALL | HPy_TPFLAGS_BASETYPE,
                               .defines = E_defines };

/* HPy_tp_call: the default call function of every instance, no tp_new of its own */
typedef struct { long x; } DObject;
HPyType_HELPERS(DObject)
HPyDef_SLOT(D_call, HPy_tp_call)
static HPy D_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    return describe(ctx, "default", self, args, nargs, kwnames);
}
HPyDef_METH(D_switch, "switch", HPyFunc_NOARGS)
static HPy D_switch_impl(HPyContext *ctx, HPy self)
{
    if (HPy_SetCallFunction(ctx, self, &call_one) < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}
static HPyDef *D_defines[] = { &D_call, &D_switch, NULL };
static HPyType_Spec D_spec = { .name = "mytest.D", .basicsize = sizeof(DObject),
                               .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = D_defines };

/* both: an error */
static HPyDef *DE_defines[] = { &D_call, &E_vcoffset, NULL };
HPyDef_METH(make_both, "make_both", HPyFunc_NOARGS)
static HPy make_both_impl(HPyContext *ctx, HPy self)
{
    static HPyType_Spec spec = { .name = "mytest.Both", .basicsize = sizeof(EObject), .defines = DE_defines };
    (void)self;
    return HPyType_FromSpec(ctx, &spec, NULL);
}

HPyDef_METH(set_call, "set_call", HPyFunc_O)
static HPy set_call_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    if (HPy_SetCallFunction(ctx, arg, &call_one) < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    return HPyHelpers_AddType(ctx, m, "E", &E_spec, NULL) && HPyHelpers_AddType(ctx, m, "D", &D_spec, NULL) ? 0 : -1;
}
static HPyDef *defs[] = { &make_both, &set_call, &ex, NULL };
static HPyModuleDef moduledef = { .defines = defs };
HPy_MODINIT(mytest, moduledef)
"""


def test_call_function_per_instance(compile_module):
    mod = compile_module(CALL_SOURCE)
    one, two = mod.E(1), mod.E(2)
    assert one(1, 2) == ("one", one, 2, (1, 2), None)
    assert two(1, k=3) == ("two", two, 1, (1, 3), ("k",))
    assert one() == ("one", one, 0, (), None)
    one.switch()
    assert one(5)[0] == "two" and mod.E(1)(5)[0] == "one"
    assert callable(one) and mod.E.__vectorcalloffset__.__doc__ is None

    class Sub(mod.E):
        pass

    s = Sub(2)
    assert s("a") == ("two", s, 1, ("a",), None)


def test_tp_call_default_and_override(compile_module):
    mod = compile_module(CALL_SOURCE)
    d = mod.D()
    assert d(1, 2, x=3) == ("default", d, 2, (1, 2, 3), ("x",))
    d.switch()  # a per-instance function replaces the type's default
    assert d(1)[0] == "one"
    assert mod.D()(1)[0] == "default"

    class Sub(mod.D):
        pass

    s = Sub()
    assert s(7) == ("default", s, 1, (7,), None)
    with pytest.raises(TypeError, match="Cannot have HPy_tp_call and explicit member"):
        mod.make_both()
    with pytest.raises(TypeError, match="does not implement the HPy call protocol"):
        mod.set_call(1)
    big = list(range(100))
    assert d(*big)[3] == tuple(big)


ERRORS_SOURCE = r"""
#include <stddef.h>
#include "hpytest.h"

typedef struct { long x; } XObject;
HPyDef_MEMBER(X_x, "x", HPyMember_LONG, offsetof(XObject, x))
HPyDef_SLOT(X_traverse, HPy_tp_traverse)
static int X_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg) { (void)object; (void)visit; (void)arg; return 0; }
HPyDef_SLOT(X_call, HPy_tp_call)
static HPy X_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)args; (void)nargs; (void)kwnames;
    return HPy_Dup(ctx, self);
}
HPyDef_SLOT(X_exec, HPy_mod_exec)
static int X_exec_impl(HPyContext *ctx, HPy m) { (void)ctx; (void)m; return 0; }

static HPyDef *members_only[] = { &X_x, NULL };
static HPyDef *call_only[] = { &X_call, NULL };
static HPyDef *traverse_only[] = { &X_traverse, NULL };
static HPyDef *mod_slot[] = { &X_exec, NULL };
/* a PyType_Slot array made by hand: {Py_tp_repr, NULL} */
static struct { int slot; void *pfunc; } fake_legacy[] = { { 66, NULL }, { 0, NULL } };

HPyDef_METH(make, "make", HPyFunc_VARARGS)
static HPy make_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyType_Spec spec = { .name = "mytest.X", .basicsize = sizeof(XObject) };
    HPyType_SpecParam params[4] = { { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    long which = HPyLong_AsLong(ctx, args[0]);
    HPy other = nargs > 1 ? args[1] : ctx->h_None;
    (void)self;
    switch (which) {
    case 0: spec.flags = HPy_TPFLAGS_HAVE_GC; break;
    case 1: spec.builtin_shape = (HPyType_BuiltinShape)42; break;
    case 2: spec.basicsize = 0; spec.defines = members_only; break;
    case 3: spec.itemsize = 8; spec.defines = call_only; break;
    case 4: params[0].kind = (HPyType_SpecParam_Kind)99; params[0].object = other; break;
    case 5:
        params[0].kind = HPyType_SpecParam_BasesTuple; params[0].object = other;
        params[1].kind = HPyType_SpecParam_BasesTuple; params[1].object = other;
        break;
    case 6:
        params[0].kind = HPyType_SpecParam_Base; params[0].object = ctx->h_BaseObjectType;
        params[1].kind = HPyType_SpecParam_BasesTuple; params[1].object = other;
        break;
    case 7:
        params[0].kind = HPyType_SpecParam_Metaclass; params[0].object = ctx->h_TypeType;
        params[1].kind = HPyType_SpecParam_Metaclass; params[1].object = ctx->h_TypeType;
        break;
    case 8: spec.defines = mod_slot; break;
    case 9: spec.legacy_slots = fake_legacy; break;
    case 10: spec.basicsize = 0; spec.builtin_shape = HPyType_BuiltinShape_Legacy; spec.defines = call_only; break;
    case 11: /* a good one: several bases, traverse without GC */
        spec.defines = traverse_only;
        params[0].kind = HPyType_SpecParam_BasesTuple; params[0].object = other;
        break;
    }
    return HPyType_FromSpec(ctx, &spec, params);
}

HPyDef_METH(type_info, "type_info", HPyFunc_VARARGS)
static HPy type_info_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPy_BuildValue(ctx, "sii", HPyType_GetName(ctx, args[0]), HPyType_IsSubtype(ctx, args[0], args[1]),
                          HPy_TypeCheck(ctx, args[2], args[0]));
}

static HPyDef *defs[] = { &make, &type_info, NULL };
static HPyModuleDef moduledef = { .defines = defs };
HPy_MODINIT(mytest, moduledef)
"""


def test_bad_specs(compile_module, hpy_abi):
    mod = compile_module(ERRORS_SOURCE)
    cases = [
        (0, ValueError, "You must provide an HPy_tp_traverse slot if you specify HPy_TPFLAGS_HAVE_GC"),
        (1, ValueError, "invalid shape: 42"),
        (2, TypeError, "Type claims to have basicsize==0 but defines members"),
        (3, TypeError, "Cannot use HPy call protocol with var objects"),
        (4, TypeError, "unknown HPyType_SpecParam specification for 'mytest.X'"),
        (5, TypeError, "multiple specifications of HPyType_SpecParam_BasesTuple"),
        (6, TypeError, "cannot specify both HPyType_SpecParam_Base and HPytype_SpecParam_BasesTuple"),
        (7, ValueError, "metaclass was specified multiple times"),
        (8, TypeError, "are module slots, not type slots"),
        (10, TypeError, "Cannot use HPy call protocol with legacy types that inherit the struct"),
    ]
    if hpy_abi == "universal":
        cases.append((9, TypeError, "legacy_slots need the C API, which the universal ABI cannot use"))
    else:
        cases.append((9, TypeError, "cannot specify .legacy_slots without setting "
                                    ".builtin_shape=HPyType_BuiltinShape_Legacy"))
    for which, exc, message in cases:
        with pytest.raises(exc) as info:
            mod.make(which, (object,))
        assert message in str(info.value), which


def test_bases_tuple_and_type_queries(compile_module):
    mod = compile_module(ERRORS_SOURCE)

    class A:
        __slots__ = ()  # no __dict__ or weakref slot for the HPy struct to overlap

    class B:
        __slots__ = ()

    X = mod.make(11, (A, B))
    assert X.__bases__ == (A, B) and X.__name__ == "X"
    x = X()
    assert mod.type_info(X, A, x) == ("X", 1, 1)
    assert mod.type_info(X, int, 1) == ("X", 0, 0)
    assert mod.type_info(int, object, x) == ("int", 1, 0)
    refs = refcount(X)
    for _ in range(100):
        mod.type_info(X, A, x)
    assert refcount(X) == refs

    class WithDict:
        pass

    # the weakref slot, before 3.12; PyPy has no sizes (and no such check)
    if getattr(WithDict, "__basicsize__", 0) > getattr(object, "__basicsize__", 0):
        with pytest.raises(TypeError, match="instances of its base 'WithDict' are larger"):
            mod.make(11, (WithDict,))
    else:
        assert mod.make(11, (WithDict,))().__dict__ == {}


CXX_TYPES = r"""
#include <stddef.h>
#include "hpy.h"
typedef struct { long x; HPyField f; } PObject;
HPyType_HELPERS(PObject)
HPyDef_SLOT(P_traverse, HPy_tp_traverse)
static int P_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg) { HPy_VISIT(&((PObject *)object)->f); return 0; }
HPyDef_SLOT(P_getbuffer, HPy_bf_getbuffer)
static int P_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags) { (void)ctx; (void)self; (void)view; (void)flags; return -1; }
HPyDef_SLOT(P_releasebuffer, HPy_bf_releasebuffer)
static void P_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view) { (void)ctx; (void)self; (void)view; }
HPyDef_SLOT(P_destroy, HPy_tp_destroy)
static void P_destroy_impl(void *o) { (void)o; }
HPyDef_SLOT(P_rc, HPy_tp_richcompare)
static HPy P_rc_impl(HPyContext *ctx, HPy a, HPy b, HPy_RichCmpOp op) { (void)b; HPy_RETURN_RICHCOMPARE(ctx, PObject_AsStruct(ctx, a)->x, 1L, op); }
HPyDef_CALL_FUNCTION(P_call)
static HPy P_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames) { (void)args; (void)nargs; (void)kwnames; return HPy_Dup(ctx, self); }
HPyDef_MEMBER(P_x, "x", HPyMember_LONG, offsetof(PObject, x))
static HPyDef *P_defines[] = { &P_traverse, &P_getbuffer, &P_releasebuffer, &P_destroy, &P_rc, &P_x, NULL };
static HPyType_Spec P_spec = { .name = "m.P", .basicsize = sizeof(PObject), .itemsize = 0, .flags = HPy_TPFLAGS_DEFAULT, .builtin_shape = SHAPE(PObject), .legacy_slots = NULL, .defines = P_defines, .doc = NULL };
HPyDef_METH(mk, "mk", HPyFunc_NOARGS)
static HPy mk_impl(HPyContext *ctx, HPy self) { HPy t = HPyType_FromSpec(ctx, &P_spec, NULL); PObject *p; HPy o = HPy_New(ctx, t, &p); HPy_SetCallFunction(ctx, o, &P_call); HPy_Close(ctx, t); (void)self; return o; }
static HPyDef *defines[] = { &mk, NULL };
static HPyModuleDef moduledef = { .doc = "C++", .size = 0, .legacy_methods = NULL, .defines = defines, .globals = NULL };
HPy_MODINIT(m, moduledef)
"""


@pytest.mark.parametrize("std", ["gnu++11", "c++20"])
@pytest.mark.parametrize("abi", ["cpython", "universal"])
def test_type_macros_compile_as_cplusplus(tmp_path, abi, std):
    from test_headers import _flags
    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("no g++ on this machine")
    source = tmp_path / "types.cpp"
    source.write_text(CXX_TYPES)
    result = subprocess.run([cxx, "-std=" + std, "-fsyntax-only", *_flags(abi), str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
