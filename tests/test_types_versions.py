"""Custom types on every CPython 3.8-3.13 found: type creation differs between
versions (vectorcall before 3.9, metaclasses before 3.12, the type name's
storage from 3.11), so build a CPython-ABI module of types for each and run it."""
import pytest

from support import each_pyenv_cpython, run_cpython_abi_module
from test_api_gc import SOURCE as GC_SOURCE

# extra types on top of test_api_gc's: a call function, a float shape, a metaclass
EXTRA = r"""
typedef struct { long n; } CallObject;
HPyType_HELPERS(CallObject)
HPyDef_SLOT(Call_call, HPy_tp_call)
static HPy Call_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self; (void)args;
    return HPyLong_FromSsize_t(ctx, (HPy_ssize_t)nargs * 10 + (HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames)));
}
static HPyDef *Call_defines[] = { &Call_call, NULL };
static HPyType_Spec Call_spec = { .name = "mytest.Call", .basicsize = sizeof(CallObject),
                                  .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Call_defines };

typedef struct { long tag; } MetaObject;
HPyType_HELPERS(MetaObject, HPyType_BuiltinShape_Type)
HPyDef_MEMBER(Meta_tag, "tag", HPyMember_LONG, offsetof(MetaObject, tag))
static HPyDef *Meta_defines[] = { &Meta_tag, NULL };
static HPyType_Spec Meta_spec = { .name = "mytest.Meta", .basicsize = sizeof(MetaObject),
                                  .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
                                  .builtin_shape = HPyType_BuiltinShape_Type, .defines = Meta_defines };
static HPyDef *Inst_defines[] = { &Plain_x, NULL };
static HPyType_Spec Inst_spec = { .name = "mytest.Inst", .basicsize = sizeof(PlainObject),
                                  .defines = Inst_defines, .doc = "an instance of Meta" };

HPyDef_SLOT(ex2, HPy_mod_exec)
static int ex2_impl(HPyContext *ctx, HPy m)
{
    HPyType_SpecParam tparams[] = { { HPyType_SpecParam_Base, ctx->h_TypeType }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    HPy meta = HPyType_FromSpec(ctx, &Meta_spec, tparams), inst;
    if (HPy_IsNull(meta))
        return -1;
    HPyType_SpecParam mparams[] = { { HPyType_SpecParam_Metaclass, meta }, { (HPyType_SpecParam_Kind)0, HPy_NULL } };
    inst = HPyType_FromSpec(ctx, &Inst_spec, mparams);
    if (HPy_IsNull(inst) || HPy_SetAttr_s(ctx, m, "Meta", meta) < 0 || HPy_SetAttr_s(ctx, m, "Inst", inst) < 0 ||
        !HPyHelpers_AddType(ctx, m, "Call", &Call_spec, NULL))
        return -1;
    HPy_Close(ctx, meta);
    HPy_Close(ctx, inst);
    return 0;
}
"""

MODULE = GC_SOURCE.replace("static HPyDef *defs[] = {", EXTRA + "static HPyDef *defs[] = { &ex2,")
assert MODULE != GC_SOURCE

PROBE = r"""
import gc, importlib.util, json, sys, weakref
spec = importlib.util.spec_from_file_location("mytest", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
out = {}
a, b = mod.Node(1), mod.Node(2)
a.a, b.a = b, a
del a, b
gc.collect()
leaf = mod.Leaf(3)
leaf.a = "x"
del leaf
out["counts"] = list(mod.counts())
c = mod.Call()
out["call"] = [c(1, 2), c(k=1), c()]
class Sub(mod.Call): pass
out["sub call"] = Sub()(1)
out["meta"] = [type(mod.Inst).__name__, mod.Inst.__doc__, mod.Inst.__module__, mod.Inst().x]
mod.Inst.tag = 9
out["tag"] = mod.Inst.tag
class FromPython(metaclass=mod.Meta): pass
out["python class tag"] = FromPython.tag
s = mod.Plain(5)
r = sys.getrefcount(mod.Plain)
objs = [mod.Plain(i) for i in range(100)]
del objs
out["type refs flat"] = sys.getrefcount(mod.Plain) == r
class Sub(mod.new_node_type()):
    pass
Sub.instance = Sub(1)
w = weakref.ref(Sub)
del Sub
gc.collect()
out["subclass cycle freed"] = w() is None or sys.version_info < (3, 9)
weak = mod.Weak()
r = weakref.ref(weak)
del weak
out["weakref"] = r() is None
print(json.dumps(out))
"""

EXPECTED = {
    "counts": [3, 1, 1], "call": [20, 1, 0], "sub call": 10,
    "meta": ["Meta", "an instance of Meta", "mytest", 0], "tag": 9, "python class tag": 0,
    "type refs flat": True, "subclass cycle freed": True,
    "weakref": True,
}

@pytest.mark.parametrize("python", each_pyenv_cpython())
def test_types_on_each_cpython(python, tmp_path):
    assert run_cpython_abi_module(python, MODULE, PROBE, tmp_path) == EXPECTED
