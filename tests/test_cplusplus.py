"""An extension written in C++11 (designated initializers as GNU C++ takes them)
with a custom type, an HPyField, an HPyGlobal and methods, in every ABI."""
import gc
import shutil
import sys
import weakref

import pytest

from support import import_binary

SOURCE = r"""
#include "hpy.h"
#include <string>

typedef struct {
    HPyField payload;   /* kept alive through tp_traverse */
    long count;
} NodeObject;

HPyType_HELPERS(NodeObject)

static HPyGlobal g_last;   /* the payload of the last Node made */

HPyDef_SLOT(Node_new, HPy_tp_new)
static HPy Node_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    HPy payload;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "O", &payload))
        return HPy_NULL;
    (void)kw;
    NodeObject *node;
    HPy h = HPy_New(ctx, cls, &node);
    if (HPy_IsNull(h))
        return HPy_NULL;
    HPyField_Store(ctx, h, &node->payload, payload);
    node->count = 1;
    HPyGlobal_Store(ctx, &g_last, payload);
    return h;
}

HPyDef_SLOT(Node_traverse, HPy_tp_traverse)
static int Node_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
{
    NodeObject *node = static_cast<NodeObject *>(self);
    HPy_VISIT(&node->payload);
    return 0;
}

HPyDef_MEMBER(Node_count, "count", HPyMember_LONG, offsetof(NodeObject, count))

HPyDef_GETSET(Node_payload, "payload", .doc = "the object a Node holds")
static HPy Node_payload_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    return HPyField_Load(ctx, self, NodeObject_AsStruct(ctx, self)->payload);
}
static int Node_payload_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)closure;
    if (HPy_IsNull(value)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "cannot delete payload");
        return -1;
    }
    HPyField_Store(ctx, self, &NodeObject_AsStruct(ctx, self)->payload, value);
    return 0;
}

HPyDef_METH(Node_describe, "describe", HPyFunc_NOARGS)
static HPy Node_describe_impl(HPyContext *ctx, HPy self)
{
    std::string text = "Node(" + std::to_string(NodeObject_AsStruct(ctx, self)->count) + ")";
    return HPyUnicode_FromString(ctx, text.c_str());
}

static HPyDef *Node_defines[] = {
    &Node_new, &Node_traverse, &Node_count, &Node_payload, &Node_describe, NULL
};
/* g++ -Wextra wants every field, in order, even with designators */
static HPyType_Spec Node_spec = {
    .name = "cxxmod.Node",
    .basicsize = sizeof(NodeObject),
    .itemsize = 0,
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC | HPy_TPFLAGS_BASETYPE,
    .builtin_shape = SHAPE(NodeObject),
    .legacy_slots = NULL,
    .defines = Node_defines,
    .doc = "a node holding one object",
};

HPyDef_METH(last, "last", HPyFunc_NOARGS)
static HPy last_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyGlobal_Load(ctx, g_last);
}

HPyDef_SLOT(exec, HPy_mod_exec)
static int exec_impl(HPyContext *ctx, HPy module)
{
    /* loading a global never stored is an error (issue 9, item 6) */
    HPyGlobal_Store(ctx, &g_last, ctx->h_None);
    return HPyHelpers_AddType(ctx, module, "Node", &Node_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = { &last, &exec, NULL };
static HPyGlobal *module_globals[] = { &g_last, NULL };
static HPyModuleDef moduledef = {
    .doc = "written in C++",
    .size = 0,
    .legacy_methods = NULL,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(cxxmod, moduledef)
"""


@pytest.fixture(params=["cpython", "universal", "hybrid"])
def cxxmod(request, hpy_compiler, tmp_path):
    if shutil.which("g++") is None:
        pytest.skip("no g++ on this machine")
    path = hpy_compiler.compile(SOURCE, request.param, "cxxmod", tmp_path, cplusplus="c++11")
    return import_binary("cxxmod", path, request.param)


class Payload:
    pass


def test_type_field_global_and_methods(cxxmod):
    assert cxxmod.__doc__ == "written in C++"
    assert cxxmod.last() is None
    payload = Payload()
    before = sys.getrefcount(payload)
    node = cxxmod.Node(payload)
    assert node.payload is payload and cxxmod.last() is payload
    assert sys.getrefcount(payload) == before + 2  # the field and the global
    assert node.count == 1 and node.describe() == "Node(1)"
    node.count = 41
    assert node.describe() == "Node(41)"
    node.payload = other = Payload()
    assert node.payload is other
    assert sys.getrefcount(payload) == before + 1  # only the global now
    with pytest.raises(TypeError, match="cannot delete payload"):
        del node.payload
    assert type(node).__name__ == "Node" and type(node).__module__ == "cxxmod"


def test_a_cycle_through_the_field_is_collected(cxxmod):
    class Sub(cxxmod.Node):
        pass
    box = Payload()
    node = Sub(box)
    box.node = node  # node -> box through the field, box -> node through its dict
    alive = weakref.ref(box)
    cxxmod.Node(None)  # the global drops box too
    del node, box
    gc.collect()
    assert alive() is None
