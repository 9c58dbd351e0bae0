"""Struct sequences (hpy/runtime/structseq.h), in both ABIs."""
import pickle
import sys

import pytest

from support import each_pyenv_cpython, run_cpython_abi_module

SOURCE = r"""
#include "hpytest.h"

static HPyStructSequence_Field point_fields[] = {
    { "x", "the x coordinate" },
    { "y", NULL },
    { "label", "what the point is" },
    { NULL, NULL },
};
static HPyStructSequence_Desc point_desc = {
    "mytest.Point", "A point in the plane", point_fields
};

static HPyStructSequence_Field mixed_fields[] = {
    { "first", NULL },
    { NULL, NULL },  /* HPyStructSequence_UnnamedField, set at run time */
    { "third", NULL },
    { NULL, NULL },
};
static HPyStructSequence_Desc mixed_desc = { "Mixed", NULL, mixed_fields };

static HPyStructSequence_Field no_fields[] = { { NULL, NULL } };
static HPyStructSequence_Desc nameless_desc = { NULL, NULL, no_fields };
static HPyStructSequence_Desc empty_desc = { "mytest.sub.Empty", "nothing", no_fields };
static HPyStructSequence_Desc fieldless_desc = { "mytest.Fieldless", NULL, NULL };

HPyDef_METH(point_type, "point_type", HPyFunc_NOARGS)
static HPy point_type_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyStructSequence_NewType(ctx, &point_desc);
}

HPyDef_METH(mixed_type, "mixed_type", HPyFunc_NOARGS)
static HPy mixed_type_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    mixed_fields[1].name = HPyStructSequence_UnnamedField;
    return HPyStructSequence_NewType(ctx, &mixed_desc);
}

HPyDef_METH(empty_type, "empty_type", HPyFunc_NOARGS)
static HPy empty_type_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyStructSequence_NewType(ctx, &empty_desc);
}

HPyDef_METH(nameless_type, "nameless_type", HPyFunc_NOARGS)
static HPy nameless_type_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyStructSequence_NewType(ctx, &nameless_desc);
}

HPyDef_METH(fieldless_type, "fieldless_type", HPyFunc_NOARGS)
static HPy fieldless_type_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyStructSequence_NewType(ctx, &fieldless_desc);
}

/* new(type, *items) */
HPyDef_METH(new_instance, "new", HPyFunc_VARARGS)
static HPy new_instance_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    return HPyStructSequence_New(ctx, args[0], (HPy_ssize_t)nargs - 1, (HPy *)args + 1);
}

static HPyDef *module_defines[] = {
    &point_type, &mixed_type, &empty_type, &nameless_type, &fieldless_type, &new_instance, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(mytest, moduledef)
"""

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="mytest")
    return _built[hpy_abi]


def test_new_type(mod):
    Point = mod.point_type()
    assert isinstance(Point, type) and issubclass(Point, tuple)
    assert Point.__name__ == "Point"
    assert Point.__qualname__ == "Point"
    assert Point.__module__ == "mytest"
    assert Point.__doc__ == "A point in the plane"
    assert Point.x.__doc__ == "the x coordinate"
    assert Point.label.__doc__ == "what the point is"
    assert (Point.n_fields, Point.n_sequence_fields, Point.n_unnamed_fields) == (3, 3, 0)
    # a new type each time
    assert mod.point_type() is not Point


def test_instances(mod):
    Point = mod.point_type()
    label = object()
    before = sys.getrefcount(label)
    p = mod.new(Point, 1, 2.5, label)
    assert type(p) is Point
    assert sys.getrefcount(label) == before + 1
    assert len(p) == 3
    assert p[0] == 1 and p[1] == 2.5 and p[2] is label and p[-1] is label
    assert p.x == 1 and p.y == 2.5 and p.label is label
    assert p[:2] == (1, 2.5)
    assert tuple(p) == (1, 2.5, label)
    assert p == (1, 2.5, label)
    x, y, z = p
    assert (x, y, z) == (1, 2.5, label)
    del z
    with pytest.raises(IndexError):
        p[3]
    with pytest.raises(AttributeError):
        p.x = 5
    with pytest.raises(AttributeError):
        p.z
    del p
    assert sys.getrefcount(label) == before


def test_repr(mod):
    Point = mod.point_type()
    assert repr(mod.new(Point, 1, "a", None)) == "mytest.Point(x=1, y='a', label=None)"


def test_python_constructor_takes_a_sequence(mod):
    Point = mod.point_type()
    assert Point([1, 2, 3]) == mod.new(Point, 1, 2, 3)
    assert Point(range(3)).y == 1
    with pytest.raises(TypeError, match=r"mytest\.Point\(\) takes a 3-sequence \(2-sequence given\)"):
        Point((1, 2))


def test_pickle_round_trip(mod):
    Point = mod.point_type()
    p = mod.new(Point, 1, 2, "z")
    # pickle finds classes by module and name: put this one where it looks
    mytest = sys.modules.setdefault("mytest", mod)
    old = getattr(mytest, "Point", None)
    mytest.Point = Point
    try:
        assert pickle.loads(pickle.dumps(p)) == p
        assert type(pickle.loads(pickle.dumps(p))) is Point
    finally:
        if old is None:
            del mytest.Point
        else:
            mytest.Point = old


# CPython warns when a type's name has no module part
@pytest.mark.filterwarnings("ignore:builtin type Mixed has no __module__:DeprecationWarning")
def test_unnamed_fields(mod):
    Mixed = mod.mixed_type()
    m = mod.new(Mixed, "a", "b", "c")
    assert not hasattr(Mixed, "__module__")  # as CPython: no dot in the name, no module
    assert Mixed.__doc__ is None or Mixed.__doc__ == ""  # CPython 3.8 needs a str
    assert (Mixed.n_fields, Mixed.n_sequence_fields, Mixed.n_unnamed_fields) == (3, 3, 1)
    assert len(m) == 3 and m[1] == "b"
    assert m.first == "a" and m.third == "c"
    assert not hasattr(Mixed, "unnamed field")


def test_dotted_module_name_and_no_fields(mod):
    Empty = mod.empty_type()
    assert Empty.__name__ == "Empty"
    assert Empty.__module__ == "mytest.sub"
    e = mod.new(Empty)
    assert e == () and len(e) == 0
    assert repr(e) == "mytest.sub.Empty()"


def test_wrong_number_of_items(mod):
    Point = mod.point_type()
    with pytest.raises(TypeError, match="expected exactly 3 arguments but got 2"):
        mod.new(Point, 1, 2)
    with pytest.raises(TypeError, match="expected exactly 3 arguments but got 4"):
        mod.new(Point, 1, 2, 3, 4)


def test_not_a_struct_sequence_type(mod):
    with pytest.raises(TypeError, match="^type 'int' does not look like a struct sequence type$"):
        mod.new(int, 1)
    with pytest.raises(TypeError, match="^type 'tuple' does not look like a struct sequence type$"):
        mod.new(tuple)
    with pytest.raises(TypeError, match="^object ''abc'' does not look like a struct sequence type$"):
        mod.new("abc")


def test_descriptor_without_name(mod):
    with pytest.raises(SystemError, match="Struct sequence descriptor does not define the name field"):
        mod.nameless_type()
    # HPy 0.9 would crash here
    with pytest.raises(SystemError, match="Struct sequence descriptor does not define the fields"):
        mod.fieldless_type()


# ---- the CPython ABI on every CPython found: PyStructSequence differs by version -------

VERSIONS_PROBE = r"""
import importlib.util, json, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
spec = importlib.util.spec_from_file_location("mytest", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
Point, Mixed = mod.point_type(), mod.mixed_type()
p, m = mod.new(Point, 1, "a", None), mod.new(Mixed, "a", "b", "c")
print(json.dumps([repr(p), p.x, Point.__doc__, Point.__module__, len(m), m[1], m.first, m.third,
                  hasattr(m, "unnamed field"),
                  [Mixed.n_fields, Mixed.n_sequence_fields, Mixed.n_unnamed_fields],
                  Point([1, 2, 3]).label]))
"""


@pytest.mark.parametrize("python", each_pyenv_cpython())
def test_cpython_abi_on_every_cpython(python, tmp_path):
    assert run_cpython_abi_module(python, SOURCE, VERSIONS_PROBE, tmp_path) == [
        "mytest.Point(x=1, y='a', label=None)", 1, "A point in the plane", "mytest",
        3, "b", "a", "c", False, [3, 3, 1], 3]
