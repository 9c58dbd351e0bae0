"""Life cycle of custom-type instances: HPy_New, tp_destroy, tp_finalize,
HPyField references, tp_traverse/tp_clear and the cycle collector, in both ABIs."""
import gc
import sys
import weakref

import pytest

from support import (
    CFFI_RUNTIME, allocated_blocks, collect, free_dropped, gc_tracks, pypy_cannot, refcount)

SOURCE = r"""
#include <stddef.h>
#include "hpytest.h"

static long destroyed_node, destroyed_leaf, finalized;
static HPyGlobal g_finalized_log;

/* Node: a GC type holding two objects in HPyFields */
typedef struct { HPyField a; HPyField b; long id; } NodeObject;
HPyType_HELPERS(NodeObject)

HPyDef_SLOT(Node_new, HPy_tp_new)
static HPy Node_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    NodeObject *n;
    HPy h = HPy_New(ctx, cls, &n);
    (void)kw;
    if (HPy_IsNull(h))
        return h;
    if (nargs > 0)
        n->id = HPyLong_AsLong(ctx, args[0]);
    return h;
}

HPyDef_SLOT(Node_traverse, HPy_tp_traverse)
static int Node_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    NodeObject *n = (NodeObject *)object;
    HPy_VISIT(&n->a);
    HPy_VISIT(&n->b);
    return 0;
}

HPyDef_SLOT(Node_destroy, HPy_tp_destroy)
static void Node_destroy_impl(void *object)
{
    /* the fields are already cleared: nothing may be loaded from them here */
    NodeObject *n = (NodeObject *)object;
    if (HPyField_IsNull(n->a) && HPyField_IsNull(n->b))
        destroyed_node += 1;
    else
        destroyed_node += 1000;
}

static HPy load(HPyContext *ctx, HPy self, HPyField f)
{
    if (HPyField_IsNull(f))
        return HPy_Dup(ctx, ctx->h_None);
    return HPyField_Load(ctx, self, f);
}

HPyDef_GETSET(Node_a, "a")
static HPy Node_a_get(HPyContext *ctx, HPy self, void *c) { (void)c; return load(ctx, self, NodeObject_AsStruct(ctx, self)->a); }
static int Node_a_set(HPyContext *ctx, HPy self, HPy v, void *c)
{
    (void)c;
    /* storing a null handle clears the field (del node.a) */
    HPyField_Store(ctx, self, &NodeObject_AsStruct(ctx, self)->a, v);
    return 0;
}
HPyDef_GETSET(Node_b, "b")
static HPy Node_b_get(HPyContext *ctx, HPy self, void *c) { (void)c; return load(ctx, self, NodeObject_AsStruct(ctx, self)->b); }
static int Node_b_set(HPyContext *ctx, HPy self, HPy v, void *c)
{
    (void)c;
    HPyField_Store(ctx, self, &NodeObject_AsStruct(ctx, self)->b, v);
    return 0;
}
HPyDef_MEMBER(Node_id, "id", HPyMember_LONG, offsetof(NodeObject, id), .readonly = 1)

static HPyDef *Node_defines[] = { &Node_new, &Node_traverse, &Node_destroy, &Node_a, &Node_b, &Node_id, NULL };
static HPyType_Spec Node_spec = {
    .name = "mytest.Node", .basicsize = sizeof(NodeObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .defines = Node_defines,
};

/* Leaf: an HPy subtype of Node with a destroy and a finalizer of its own */
typedef struct { NodeObject base; double weight; } LeafObject;
HPyType_HELPERS(LeafObject)

HPyDef_SLOT(Leaf_destroy, HPy_tp_destroy)
static void Leaf_destroy_impl(void *object)
{
    (void)object;
    destroyed_leaf++;
}

HPyDef_SLOT(Leaf_finalize, HPy_tp_finalize)
static void Leaf_finalize_impl(HPyContext *ctx, HPy self)
{
    HPy log = HPyGlobal_Load(ctx, g_finalized_log);
    finalized++;
    /* the object is whole during tp_finalize: its fields still hold */
    if (!HPy_Is(ctx, log, ctx->h_None)) {
        HPy a = load(ctx, self, NodeObject_AsStruct(ctx, self)->a);
        HPyList_Append(ctx, log, a);
        HPy_Close(ctx, a);
    }
    HPy_Close(ctx, log);
}
HPyDef_MEMBER(Leaf_weight, "weight", HPyMember_DOUBLE, offsetof(LeafObject, weight))

static HPyDef *Leaf_defines[] = { &Node_traverse, &Leaf_destroy, &Leaf_finalize, &Leaf_weight, NULL };
static HPyType_Spec Leaf_spec = {
    .name = "mytest.Leaf", .basicsize = sizeof(LeafObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .defines = Leaf_defines,
};

HPyDef_METH(counts, "counts", HPyFunc_NOARGS)
static HPy counts_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_BuildValue(ctx, "lll", destroyed_node, destroyed_leaf, finalized);
}

HPyDef_METH(set_finalized_log, "set_finalized_log", HPyFunc_O)
static HPy set_finalized_log_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPyGlobal_Store(ctx, &g_finalized_log, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

/* HPyField_Store/Load on a fresh object, n times: nothing may leak */
HPyDef_METH(field_churn, "field_churn", HPyFunc_VARARGS)
static HPy field_churn_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long i, n = HPyLong_AsLong(ctx, args[1]);
    (void)self; (void)nargs;
    for (i = 0; i < n; i++) {
        NodeObject *node;
        HPy h = HPy_New(ctx, args[0], &node), loaded;
        if (HPy_IsNull(h))
            return HPy_NULL;
        HPyField_Store(ctx, h, &node->a, args[2]);
        HPyField_Store(ctx, h, &node->a, args[2]);   /* overwrite: the old one is dropped */
        HPyField_Store(ctx, h, &node->b, h);         /* a cycle through the object itself */
        loaded = HPyField_Load(ctx, h, node->a);
        HPy_Close(ctx, loaded);
        HPyField_Store(ctx, h, &node->b, HPy_NULL);  /* cleared again */
        HPy_Close(ctx, h);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

/* HPyType_GenericNew as tp_new, tp_init filling the struct */
typedef struct { long x; } PlainObject;
HPyType_HELPERS(PlainObject)
HPyDef_SLOT(Plain_new, HPy_tp_new)
static HPy Plain_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    return HPyType_GenericNew(ctx, type, args, nargs, kw);
}
HPyDef_SLOT(Plain_init, HPy_tp_init)
static int Plain_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    (void)kw;
    PlainObject_AsStruct(ctx, self)->x = nargs ? HPyLong_AsLong(ctx, args[0]) : -1;
    return HPyErr_Occurred(ctx) ? -1 : 0;
}
HPyDef_MEMBER(Plain_x, "x", HPyMember_LONG, offsetof(PlainObject, x))
static HPyDef *Plain_defines[] = { &Plain_new, &Plain_init, &Plain_x, NULL };
static HPyType_Spec Plain_spec = { .name = "mytest.Plain", .basicsize = sizeof(PlainObject),
                                   .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
                                   .defines = Plain_defines };

/* Bag: a list with a field; its dealloc runs list_dealloc for the items */
static long destroyed_bag;
typedef struct { HPyField extra; } BagObject;
HPyType_HELPERS(BagObject, HPyType_BuiltinShape_List)
HPyDef_SLOT(Bag_traverse, HPy_tp_traverse)
static int Bag_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((BagObject *)object)->extra);
    return 0;
}
HPyDef_SLOT(Bag_destroy, HPy_tp_destroy)
static void Bag_destroy_impl(void *object)
{
    (void)object;
    destroyed_bag++;
}
HPyDef_GETSET(Bag_extra, "extra")
static HPy Bag_extra_get(HPyContext *ctx, HPy self, void *c) { (void)c; return load(ctx, self, BagObject_AsStruct(ctx, self)->extra); }
static int Bag_extra_set(HPyContext *ctx, HPy self, HPy v, void *c)
{
    (void)c;
    HPyField_Store(ctx, self, &BagObject_AsStruct(ctx, self)->extra, v);
    return 0;
}
HPyDef_METH(Bag_destroyed, "destroyed", HPyFunc_NOARGS)
static HPy Bag_destroyed_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, destroyed_bag);
}
static HPyDef *Bag_defines[] = { &Bag_traverse, &Bag_destroy, &Bag_extra, &Bag_destroyed, NULL };
static HPyType_Spec Bag_spec = {
    .name = "mytest.Bag", .basicsize = sizeof(BagObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .builtin_shape = SHAPE(BagObject), .defines = Bag_defines,
};

/* weak references, through CPython's __weaklistoffset__ member */
typedef struct { HPyField f; void *weakreflist; } WeakObject;
HPyType_HELPERS(WeakObject)
HPyDef_MEMBER(Weak_wl, "__weaklistoffset__", HPyMember_HPYSSIZET, offsetof(WeakObject, weakreflist), .readonly = 1)
HPyDef_SLOT(Weak_traverse, HPy_tp_traverse)
static int Weak_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((WeakObject *)object)->f);
    return 0;
}
HPyDef_SLOT(Weak_destroy, HPy_tp_destroy)
static void Weak_destroy_impl(void *object)
{
    /* weak references are gone before destroy */
    destroyed_node += ((WeakObject *)object)->weakreflist == NULL ? 1 : 1000;
}
static HPyDef *Weak_defines[] = { &Weak_wl, &Weak_traverse, &Weak_destroy, NULL };
static HPyType_Spec Weak_spec = {
    .name = "mytest.Weak", .basicsize = sizeof(WeakObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC, .defines = Weak_defines,
};

static int add_bag(HPyContext *ctx, HPy m)
{
    HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, ctx->h_ListType }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    return HPyHelpers_AddType(ctx, m, "Bag", &Bag_spec, params) &&
           HPyHelpers_AddType(ctx, m, "Weak", &Weak_spec, NULL) ? 0 : -1;
}

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    HPy node = HPyType_FromSpec(ctx, &Node_spec, NULL);
    int failed;
    if (HPy_IsNull(node))
        return -1;
    HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, node }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    failed = HPy_SetAttr_s(ctx, m, "Node", node) < 0 ||
             !HPyHelpers_AddType(ctx, m, "Leaf", &Leaf_spec, params) ||
             !HPyHelpers_AddType(ctx, m, "Plain", &Plain_spec, NULL) || add_bag(ctx, m) < 0;
    HPy_Close(ctx, node);
    HPyGlobal_Store(ctx, &g_finalized_log, ctx->h_None);
    return failed ? -1 : 0;
}
HPyDef_METH(new_node_type, "new_node_type", HPyFunc_NOARGS)
static HPy new_node_type_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyType_FromSpec(ctx, &Node_spec, NULL);
}

static HPyDef *defs[] = { &counts, &set_finalized_log, &field_churn, &new_node_type, &ex, NULL };
static HPyGlobal *globals[] = { &g_finalized_log, NULL };
static HPyModuleDef moduledef = { .defines = defs, .globals = globals };
HPy_MODINIT(mytest, moduledef)
"""


@pytest.fixture
def mod(compile_module):
    return compile_module(SOURCE)


def test_field_references(mod):
    obj = object()
    before = refcount(obj)
    n = mod.Node(1)
    assert n.a is None and n.id == 1
    n.a = obj
    assert n.a is obj
    assert refcount(obj) == before + 1  # (pytest keeps an and's operands alive)
    n.b = obj
    assert refcount(obj) == before + 2
    n.a = 5  # overwrite drops the old reference
    assert refcount(obj) == before + 1
    del n.b  # a null handle clears the field
    assert n.b is None
    assert refcount(obj) == before
    n.a = obj
    del n  # dealloc clears the fields
    free_dropped()
    assert refcount(obj) == before
    mod.field_churn(mod.Node, 1000, obj)
    gc.collect()
    assert refcount(obj) == before


def test_destroy_called_once_and_fields_cleared_first(mod):
    gc.collect()
    start = mod.counts()
    n = mod.Node(1)
    n.a = [1]
    del n
    free_dropped()
    assert mod.counts()[0] == start[0] + 1  # freed at once, destroy saw cleared fields
    gc.collect()
    assert mod.counts() == (start[0] + 1, start[1], start[2])


def test_gc_cycle_through_fields(mod):
    gc.collect()
    start = mod.counts()[0]
    a, b = mod.Node(1), mod.Node(2)
    a.a, b.a = b, a
    a.b = a  # a self-reference too
    assert gc_tracks(a) and gc_tracks(b)
    del a, b
    assert mod.counts()[0] == start  # the cycle keeps both alive
    assert collect() >= 2
    assert mod.counts()[0] == start + 2  # tp_clear broke it, both destroyed once
    gc.collect()
    assert mod.counts()[0] == start + 2


def test_cycle_through_python_objects(mod):
    gc.collect()
    start = mod.counts()[0]
    n = mod.Node(3)
    d = {"node": n}
    n.a = d  # node -> dict -> node
    del n, d
    gc.collect()
    assert mod.counts()[0] == start + 1


def test_hpy_subtype_destroy_and_finalize(mod):
    gc.collect()
    node0, leaf0, fin0 = mod.counts()
    log = []
    mod.set_finalized_log(log)
    leaf = mod.Leaf(7)
    assert isinstance(leaf, mod.Node) and mod.Leaf.__mro__[1] is mod.Node
    leaf.weight = 1.5
    leaf.a = "payload"
    assert (leaf.id, leaf.weight, leaf.a) == (7, 1.5, "payload")  # the base struct comes first
    del leaf
    free_dropped()
    assert mod.counts() == (node0 + 1, leaf0 + 1, fin0 + 1)
    assert log == ["payload"]
    mod.set_finalized_log(None)  # logging would resurrect the objects below
    # in a cycle, the finalizer runs once, then clear and destroy
    x, y = mod.Leaf(1), mod.Leaf(2)
    x.a, y.a = y, x
    del x, y
    gc.collect()
    free_dropped()
    assert mod.counts() == (node0 + 3, leaf0 + 3, fin0 + 3)


def test_python_subclass_of_gc_type(mod):
    gc.collect()
    start = mod.counts()[0]

    class Sub(mod.Node):
        pass

    s = Sub(4)
    s.attr = s  # a cycle through the instance dict
    s.a = s  # and through a field
    r = weakref.ref(s)
    del s
    gc.collect()
    assert r() is None
    assert mod.counts()[0] == start + 1


def test_generic_new_and_init(mod):
    p = mod.Plain(5)
    assert p.x == 5 and mod.Plain().x == -1
    with pytest.raises(TypeError):
        mod.Plain("x")

    class Sub(mod.Plain):
        def __init__(self, v):
            super().__init__(v * 2)

    assert Sub(4).x == 8


@pytest.mark.parametrize("cls_name", ["Node", "Leaf", "Plain"])
def test_no_leak_no_early_free(mod, cls_name):
    cls = getattr(mod, cls_name)
    for _ in range(100):  # warm up caches and free lists
        cls(1)
    gc.collect()
    type_refs = refcount(cls)
    blocks = allocated_blocks()
    objs = [cls(i) for i in range(1000)]
    assert refcount(cls) == type_refs + 1000  # each instance holds its heap type
    del objs
    gc.collect()
    assert refcount(cls) == type_refs
    # a leak grows the count; it may also shrink (the cffi runtime's handle
    # table frees the int objects of its free list as it reuses slots)
    assert allocated_blocks() - blocks < 50


def test_long_chain_is_freed_without_deep_recursion(mod):
    gc.collect()
    start = mod.counts()[0]
    head = None
    for i in range(300000):  # recursive deallocs would overflow the C stack
        node = mod.Node(i)
        node.a = head
        head = node
    del node, head
    free_dropped()
    assert mod.counts()[0] == start + 300000


@pypy_cannot("gc.get_referents() there shows what PyPy's GC sees, not tp_traverse")
def test_referents_are_the_fields(mod):
    """As in HPy 0.9: an HPy type's instance reports its fields, not its type."""
    first, second = object(), object()
    n = mod.Node(1)
    n.a, n.b = first, second
    assert sorted(map(id, gc.get_referents(n))) == sorted([id(first), id(second)])


@pytest.mark.skipif(sys.version_info < (3, 9), reason="heap type instances visit their type from 3.9")
def test_cycle_through_a_python_subclass_is_collected(mod):
    class Sub(mod.new_node_type()):
        pass
    Sub.instance = Sub(1)  # type -> dict -> instance -> type
    r = weakref.ref(Sub)
    del Sub
    gc.collect()
    assert r() is None


def test_list_shape_items_and_fields(mod):
    item, extra = object(), object()
    items_before, extra_before = refcount(item), refcount(extra)
    counter = mod.Bag()  # lives through the test: it reads the count
    start = counter.destroyed()
    bag = mod.Bag([item, item])
    bag.extra = extra
    bag.append(bag)  # a cycle through the list part
    bag.extra = [bag]  # and one through the field
    bag.extra.append(extra)
    assert len(bag) == 3 and bag[0] is item
    del bag
    gc.collect()
    assert counter.destroyed() == start + 1
    assert refcount(item) == items_before  # list_dealloc dropped the items
    assert refcount(extra) == extra_before


def test_weakrefs_through_weaklistoffset(mod):
    gc.collect()
    start = mod.counts()[0]
    called = []
    w = mod.Weak()
    r = weakref.ref(w, called.append)
    assert r() is w
    del w
    free_dropped()
    assert r() is None and called == [r]
    assert mod.counts()[0] == start + 1  # cleared before tp_destroy

    class Sub(mod.Weak):
        pass

    s = Sub()
    r = weakref.ref(s)
    s.cycle = s
    del s
    gc.collect()
    free_dropped()
    assert r() is None
    assert mod.counts()[0] == start + 2


# Types without GC: a direct child of object takes a shorter dealloc than its
# HPy subtypes and Python subclasses; every path must destroy each level once.
NO_GC_SOURCE = r"""
#include "hpytest.h"

static long destroyed_base, destroyed_sub;

typedef struct { long x; } BaseObject;
HPyType_HELPERS(BaseObject)
HPyDef_SLOT(Base_destroy, HPy_tp_destroy)
static void Base_destroy_impl(void *obj) { (void)obj; destroyed_base++; }
static HPyDef *Base_defines[] = { &Base_destroy, NULL };
static HPyType_Spec Base_spec = { .name = "mytest.Base", .basicsize = sizeof(BaseObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Base_defines };

typedef struct { BaseObject base; double y; } SubObject;
HPyDef_SLOT(Sub_destroy, HPy_tp_destroy)
static void Sub_destroy_impl(void *obj) { (void)obj; destroyed_sub++; }
static HPyDef *Sub_defines[] = { &Sub_destroy, NULL };
static HPyType_Spec Sub_spec = { .name = "mytest.Sub", .basicsize = sizeof(SubObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Sub_defines };
/* no destroy of its own: CPython picks the dealloc it inherits */
static HPyType_Spec Bare_spec = { .name = "mytest.Bare", .basicsize = sizeof(SubObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE };
static HPyType_Spec Lone_spec = { .name = "mytest.Lone", .basicsize = sizeof(BaseObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE };

HPyDef_METH(counts, "counts", HPyFunc_NOARGS)
static HPy counts_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_BuildValue(ctx, "ll", destroyed_base, destroyed_sub);
}

static int add_type(HPyContext *ctx, HPy mod, HPyType_Spec *spec, HPy base, const char *name)
{
    HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, base }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    HPy t = HPyType_FromSpec(ctx, spec, HPy_IsNull(base) ? NULL : params);
    int res;
    if (HPy_IsNull(t))
        return -1;
    res = HPy_SetAttr_s(ctx, mod, name, t);
    HPy_Close(ctx, t);
    return res;
}

HPyDef_SLOT(exec_types, HPy_mod_exec)
static int exec_types_impl(HPyContext *ctx, HPy mod)
{
    HPy base;
    int res;
    if (add_type(ctx, mod, &Base_spec, HPy_NULL, "Base") < 0 || add_type(ctx, mod, &Lone_spec, HPy_NULL, "Lone") < 0)
        return -1;
    base = HPy_GetAttr_s(ctx, mod, "Base");
    res = add_type(ctx, mod, &Sub_spec, base, "Sub") < 0 || add_type(ctx, mod, &Bare_spec, base, "Bare") < 0 ? -1 : 0;
    HPy_Close(ctx, base);
    return res;
}

static HPyDef *defines[] = { &counts, &exec_types, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(mytest, moduledef)
"""


def test_types_without_gc_destroy_each_level_once(compile_module):
    mod = compile_module(NO_GC_SOURCE)

    class PySub(mod.Base):
        pass

    class PyLone(mod.Lone):
        pass

    if not CFFI_RUNTIME:  # the C runtime's own dealloc paths are the point here
        assert not gc.is_tracked(mod.Base()) and not gc.is_tracked(mod.Sub())
    cases = [(mod.Base, (1, 0)), (mod.Sub, (1, 1)), (mod.Bare, (1, 0)), (PySub, (1, 0)),
             (mod.Lone, (0, 0)), (PyLone, (0, 0))]
    for cls, (base_destroys, sub_destroys) in cases:
        gc.collect()
        start = mod.counts()
        refs = refcount(cls)
        objs = [cls() for _ in range(10)]
        assert refcount(cls) == refs + 10  # each instance holds its heap type
        del objs
        free_dropped()
        assert refcount(cls) == refs, cls
        assert mod.counts() == (start[0] + 10 * base_destroys, start[1] + 10 * sub_destroys), cls
