"""Handles, context constants and the generic object protocol, in both ABIs."""
import builtins
import math
import operator
import sys
import types

import pytest

from hpy_build.api import table as api
from support import capsule_type, needs_refcounts, refcount

HANDLE_NAMES = [h.public_name for h in api.HANDLES]

SOURCE = r"""
#include "hpytest.h"

/* an int result of the API, or the error it reported */
static HPy int_result(HPyContext *ctx, long r)
{
    if (r == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, r);
}

static const char *utf8(HPyContext *ctx, HPy h)
{
    return HPyUnicode_AsUTF8AndSize(ctx, h, NULL);
}

HPyDef_METH(dup_close, "dup_close", HPyFunc_VARARGS)
static HPy dup_close_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long i, n = HPyLong_AsLong(ctx, args[1]);
    (void)self; (void)nargs;
    for (i = 0; i < n; i++) {
        HPy h = HPy_Dup(ctx, args[0]);
        HPy_Close(ctx, h);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

/* refcount deltas seen by getrefcount(obj) while a duplicate is open and after it is closed */
static HPy_ssize_t refcount(HPyContext *ctx, HPy getrefcount, HPy obj)
{
    HPy r = HPy_Call(ctx, getrefcount, &obj, 1, HPy_NULL);
    HPy_ssize_t n;
    if (HPy_IsNull(r))
        return -1;
    n = HPyLong_AsSsize_t(ctx, r);
    HPy_Close(ctx, r);
    return n;
}

HPyDef_METH(dup_effect, "dup_effect", HPyFunc_VARARGS)
static HPy dup_effect_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy obj = args[0], getrefcount = args[1], dup, open_delta, closed_delta, result;
    HPy_ssize_t before, while_open, after;
    (void)self; (void)nargs;
    before = refcount(ctx, getrefcount, obj);
    dup = HPy_Dup(ctx, obj);
    while_open = refcount(ctx, getrefcount, obj);
    HPy_Close(ctx, dup);
    after = refcount(ctx, getrefcount, obj);
    if (HPyErr_Occurred(ctx))
        return HPy_NULL;
    open_delta = HPyLong_FromSsize_t(ctx, while_open - before);
    closed_delta = HPyLong_FromSsize_t(ctx, after - before);
    result = HPyTuple_Pack(ctx, 2, open_delta, closed_delta);
    HPy_Close(ctx, open_delta);
    HPy_Close(ctx, closed_delta);
    return result;
}

HPyDef_METH(constants, "constants", HPyFunc_NOARGS)
static HPy constants_impl(HPyContext *ctx, HPy self)
{
    HPy d = HPyDict_New(ctx);
    (void)self;
    if (HPy_IsNull(d))
        return HPy_NULL;
%(constants)s
    return d;
error:
    HPy_Close(ctx, d);
    return HPy_NULL;
}

T_METH_N(is_, int_result(ctx, HPy_Is(ctx, args[0], args[1])))
T_METH_O(is_true, int_result(ctx, HPy_IsTrue(ctx, arg)))
T_METH_O(type_of, HPy_Type(ctx, arg))
T_METH_N(type_check, int_result(ctx, HPy_TypeCheck(ctx, args[0], args[1])))

T_METH_N(getattr_h, HPy_GetAttr(ctx, args[0], args[1]))
T_METH_N(getattr_s, HPy_GetAttr_s(ctx, args[0], utf8(ctx, args[1])))
T_METH_N(hasattr_h, int_result(ctx, HPy_HasAttr(ctx, args[0], args[1])))
T_METH_N(hasattr_s, int_result(ctx, HPy_HasAttr_s(ctx, args[0], utf8(ctx, args[1]))))
T_METH_N(setattr_h, int_result(ctx, HPy_SetAttr(ctx, args[0], args[1], args[2])))
T_METH_N(setattr_s, int_result(ctx, HPy_SetAttr_s(ctx, args[0], utf8(ctx, args[1]), args[2])))
T_METH_N(delattr_h, int_result(ctx, HPy_DelAttr(ctx, args[0], args[1])))
T_METH_N(delattr_s, int_result(ctx, HPy_DelAttr_s(ctx, args[0], utf8(ctx, args[1]))))

T_METH_N(getitem_h, HPy_GetItem(ctx, args[0], args[1]))
T_METH_N(getitem_i, HPy_GetItem_i(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1])))
T_METH_N(getitem_s, HPy_GetItem_s(ctx, args[0], utf8(ctx, args[1])))
T_METH_N(setitem_h, int_result(ctx, HPy_SetItem(ctx, args[0], args[1], args[2])))
T_METH_N(setitem_i, int_result(ctx, HPy_SetItem_i(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]), args[2])))
T_METH_N(setitem_s, int_result(ctx, HPy_SetItem_s(ctx, args[0], utf8(ctx, args[1]), args[2])))
T_METH_N(delitem_h, int_result(ctx, HPy_DelItem(ctx, args[0], args[1])))
T_METH_N(delitem_i, int_result(ctx, HPy_DelItem_i(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]))))
T_METH_N(delitem_s, int_result(ctx, HPy_DelItem_s(ctx, args[0], utf8(ctx, args[1]))))

T_METH_O(length, int_result(ctx, HPy_Length(ctx, arg)))
T_METH_N(contains, int_result(ctx, HPy_Contains(ctx, args[0], args[1])))

T_METH_O(repr_of, HPy_Repr(ctx, arg))
T_METH_O(str_of, HPy_Str(ctx, arg))
T_METH_O(ascii_of, HPy_ASCII(ctx, arg))
T_METH_O(bytes_of, HPy_Bytes(ctx, arg))

HPyDef_METH(hash_of, "hash_of", HPyFunc_O)
static HPy hash_of_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_hash_t h = HPy_Hash(ctx, arg);
    (void)self;
    if (h == -1)
        return HPy_NULL;
    return HPyLong_FromSsize_t(ctx, (HPy_ssize_t)h);
}

static const HPy_RichCmpOp all_ops[6] = { HPy_LT, HPy_LE, HPy_EQ, HPy_NE, HPy_GT, HPy_GE };

/* (a < b, a <= b, a == b, a != b, a > b, a >= b) */
HPyDef_METH(compare_all, "compare_all", HPyFunc_VARARGS)
static HPy compare_all_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy results[6], tuple;
    int i, j;
    (void)self; (void)nargs;
    for (i = 0; i < 6; i++) {
        results[i] = HPy_RichCompare(ctx, args[0], args[1], all_ops[i]);
        if (HPy_IsNull(results[i])) {
            for (j = 0; j < i; j++)
                HPy_Close(ctx, results[j]);
            return HPy_NULL;
        }
    }
    tuple = HPyTuple_FromArray(ctx, results, 6);
    for (i = 0; i < 6; i++)
        HPy_Close(ctx, results[i]);
    return tuple;
}

HPyDef_METH(compare_all_bool, "compare_all_bool", HPyFunc_VARARGS)
static HPy compare_all_bool_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyTupleBuilder builder = HPyTupleBuilder_New(ctx, 6);
    int i;
    (void)self; (void)nargs;
    for (i = 0; i < 6; i++) {
        int r = HPy_RichCompareBool(ctx, args[0], args[1], all_ops[i]);
        HPy item;
        if (r < 0) {
            HPyTupleBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        item = HPyLong_FromLong(ctx, r);
        HPyTupleBuilder_Set(ctx, builder, i, item);
        HPy_Close(ctx, item);
    }
    return HPyTupleBuilder_Build(ctx, builder);
}

static HPyDef *module_defines[] = {
    &dup_close, &dup_effect, &constants, &is_, &is_true, &type_of, &type_check,
    &getattr_h, &getattr_s, &hasattr_h, &hasattr_s, &setattr_h, &setattr_s, &delattr_h, &delattr_s,
    &getitem_h, &getitem_i, &getitem_s, &setitem_h, &setitem_i, &setitem_s,
    &delitem_h, &delitem_i, &delitem_s, &length, &contains,
    &repr_of, &str_of, &ascii_of, &bytes_of, &hash_of, &compare_all, &compare_all_bool, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_objects, moduledef)
""" % {
    "constants": "\n".join(
        '    if (HPy_SetItem_s(ctx, d, "%s", ctx->%s) < 0) goto error;' % (name, name)
        for name in HANDLE_NAMES),
}

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_objects")
    return _built[hpy_abi]


# ---- handles --------------------------------------------------------------

def test_dup_close_is_refcount_neutral(mod):
    obj = object()
    before = refcount(obj)
    mod.dup_close(obj, 10000)
    assert refcount(obj) == before


@needs_refcounts
def test_dup_makes_a_new_reference_and_close_releases_it(mod):
    assert mod.dup_effect(object(), refcount) == (1, 0)


# ---- context constants ------------------------------------------------------

NON_EXCEPTION_CONSTANTS = {
    "h_None": None, "h_True": True, "h_False": False,
    "h_NotImplemented": NotImplemented, "h_Ellipsis": Ellipsis,
    "h_BaseObjectType": object, "h_TypeType": type, "h_BoolType": bool,
    "h_LongType": int, "h_FloatType": float, "h_UnicodeType": str,
    "h_TupleType": tuple, "h_ListType": list, "h_ComplexType": complex,
    "h_BytesType": bytes, "h_MemoryViewType": memoryview,
    "h_CapsuleType": capsule_type(), "h_SliceType": slice,
    "h_Builtins": builtins.__dict__,
}


def _expected_constant(name):
    if name in NON_EXCEPTION_CONSTANTS:
        return NON_EXCEPTION_CONSTANTS[name]
    exc = getattr(builtins, name[2:])
    assert isinstance(exc, type) and issubclass(exc, BaseException), name
    return exc


def test_every_context_constant_is_the_python_object(mod):
    got = mod.constants()
    assert len(HANDLE_NAMES) == 83
    assert sorted(got) == sorted(HANDLE_NAMES)
    wrong = {name: got[name] for name in HANDLE_NAMES
             if got[name] is not _expected_constant(name)}
    assert wrong == {}
    assert got["h_ZeroDivisionError"] is ZeroDivisionError
    assert got["h_Builtins"] is builtins.__dict__


def test_constants_are_borrowed(mod):
    before = refcount(ValueError), refcount(list)
    for _ in range(200):
        mod.constants()
    assert (refcount(ValueError), refcount(list)) == before


# ---- identity, truth, types -----------------------------------------------

def test_is(mod):
    a = []
    assert mod.is_(a, a) == 1
    assert mod.is_(a, []) == 0
    assert mod.is_(None, None) == 1
    assert mod.is_(1.5, 2.5) == 0


def test_is_true(mod):
    for value in [[0], 1, "x", 0.1, object()]:
        assert mod.is_true(value) == 1
    for value in [[], 0, "", 0.0, None, {}]:
        assert mod.is_true(value) == 0

    class Empty:
        def __len__(self):
            return 0

    class Broken:
        def __bool__(self):
            raise ZeroDivisionError("no truth here")
    assert mod.is_true(Empty()) == 0
    with pytest.raises(ZeroDivisionError, match="no truth here"):
        mod.is_true(Broken())


def test_type_and_type_check(mod):
    class Base:
        pass

    class Sub(Base):
        pass
    assert mod.type_of(5) is int
    assert mod.type_of(Sub()) is Sub
    assert mod.type_of(int) is type
    assert mod.type_check(True, int) == 1
    assert mod.type_check(Sub(), Base) == 1
    assert mod.type_check(Base(), Sub) == 0
    assert mod.type_check("x", int) == 0
    assert mod.type_check(5, object) == 1


# ---- attributes -------------------------------------------------------------

@pytest.mark.parametrize("kind", ["h", "s"])
def test_attributes(mod, kind):
    getattr_, hasattr_, setattr_, delattr_ = (
        getattr(mod, op + "_" + kind) for op in ("getattr", "hasattr", "setattr", "delattr"))
    obj = types.SimpleNamespace(a=1)
    assert getattr_(obj, "a") == 1
    assert getattr_("abc", "upper")() == "ABC"
    assert hasattr_(obj, "a") == 1
    assert hasattr_(obj, "b") == 0
    assert setattr_(obj, "b", [2]) == 0
    assert obj.b == [2]
    assert hasattr_(obj, "b") == 1
    assert delattr_(obj, "a") == 0
    assert not hasattr(obj, "a")
    with pytest.raises(AttributeError, match="missing"):
        getattr_(obj, "missing")
    with pytest.raises(AttributeError):
        delattr_(obj, "missing")
    with pytest.raises(AttributeError):
        setattr_(5, "x", 1)


# CPython 3.13 reports the swallowed error as unraisable; only the result matters
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("kind", ["h", "s"])
def test_hasattr_swallows_errors(mod, kind):
    class Raising:
        @property
        def bad(self):
            raise RuntimeError("boom")
    hasattr_ = getattr(mod, "hasattr_" + kind)
    assert hasattr_(Raising(), "bad") == 0
    # no error is left behind: the next call works
    assert hasattr_(Raising(), "__class__") == 1


# ---- items ------------------------------------------------------------------

def test_getitem(mod):
    items = [10, 20, 30]
    assert mod.getitem_h(items, 1) == 20
    assert mod.getitem_h(items, slice(1, None)) == [20, 30]
    assert mod.getitem_h({"a": 1, 2: "two"}, "a") == 1
    assert mod.getitem_i(items, 0) == 10
    assert mod.getitem_i(items, -1) == 30
    assert mod.getitem_i({1: "x"}, 1) == "x"
    assert mod.getitem_s({"k": 5}, "k") == 5
    with pytest.raises(IndexError, match="list index out of range"):
        mod.getitem_i(items, 3)
    with pytest.raises(KeyError, match="nope"):
        mod.getitem_h({}, "nope")
    with pytest.raises(KeyError):
        mod.getitem_s({}, "nope")
    with pytest.raises(KeyError):
        mod.getitem_i({}, 7)
    with pytest.raises(TypeError, match="list indices must be integers"):
        mod.getitem_s(items, "k")


def test_setitem(mod):
    items = [1, 2, 3]
    assert mod.setitem_h(items, 0, "a") == 0
    assert mod.setitem_i(items, -1, "c") == 0
    assert items == ["a", 2, "c"]
    d = {}
    assert mod.setitem_h(d, (1, 2), "tuple") == 0
    assert mod.setitem_i(d, 3, "three") == 0
    assert mod.setitem_s(d, "k", "kay") == 0
    assert d == {(1, 2): "tuple", 3: "three", "k": "kay"}
    with pytest.raises(IndexError, match="assignment index out of range"):
        mod.setitem_i(items, 5, 0)
    with pytest.raises(TypeError, match="does not support item assignment"):
        mod.setitem_i((1, 2), 0, 0)
    with pytest.raises(TypeError, match="unhashable"):
        mod.setitem_h(d, [], 0)


class _ListWithHook(list):
    def __getitem__(self, i):
        return ("hooked", list.__getitem__(self, i))

    def __setitem__(self, i, v):
        list.__setitem__(self, i, ("hooked", v))


class _TupleWithHook(tuple):
    def __getitem__(self, i):
        return ("hooked", tuple.__getitem__(self, i))


@pytest.mark.parametrize("kind", [list, tuple])
def test_getitem_i_exact_list_and_tuple(mod, kind):
    # The exact-list/tuple fast path: a new reference to the very item, and
    # the generic path's behaviour at and beyond both ends.
    item = object()
    seq = kind([1, item, 3])
    before = refcount(item)
    got = mod.getitem_i(seq, 1)
    assert got is item
    assert refcount(item) == before + 1
    del got
    assert refcount(item) == before
    assert mod.getitem_i(seq, -2) is item
    assert mod.getitem_i(seq, -3) == 1
    name = kind.__name__
    for bad in (3, -4, sys.maxsize, -sys.maxsize - 1):
        with pytest.raises(IndexError, match="%s index out of range" % name):
            mod.getitem_i(seq, bad)
    with pytest.raises(IndexError, match="%s index out of range" % name):
        mod.getitem_i(kind(), 0)
    assert refcount(item) == before


def test_getitem_i_subclasses_keep_their_getitem(mod):
    assert mod.getitem_i(_ListWithHook([5, 6]), 1) == ("hooked", 6)
    assert mod.getitem_i(_TupleWithHook((5, 6)), 0) == ("hooked", 5)
    assert mod.getitem_i(range(10, 20), 2) == 12
    assert mod.getitem_i("abc", -1) == "c"


def test_setitem_i_exact_list(mod):
    old, new = object(), object()
    items = [0, old, 2]
    old_before, new_before = refcount(old), refcount(new)
    assert mod.setitem_i(items, 1, new) == 0
    assert items[1] is new
    assert refcount(old) == old_before - 1   # the list let go of it
    assert refcount(new) == new_before + 1   # and holds its own reference
    assert mod.setitem_i(items, -1, new) == 0
    assert items == [0, new, new]
    for bad in (3, -4, sys.maxsize, -sys.maxsize - 1):
        with pytest.raises(IndexError, match="list assignment index out of range"):
            mod.setitem_i(items, bad, 0)
    hooked = _ListWithHook([1, 2])
    assert mod.setitem_i(hooked, 0, "x") == 0
    assert list(hooked) == [("hooked", "x"), 2]
    del items
    assert refcount(new) == new_before


def test_delitem(mod):
    items = [1, 2, 3, 4]
    assert mod.delitem_h(items, 0) == 0
    assert mod.delitem_i(items, -1) == 0
    assert items == [2, 3]
    d = {"a": 1, 2: 2, "s": 3}
    assert mod.delitem_h(d, "a") == 0
    assert mod.delitem_i(d, 2) == 0
    assert mod.delitem_s(d, "s") == 0
    assert d == {}
    with pytest.raises(KeyError):
        mod.delitem_s(d, "s")
    with pytest.raises(IndexError):
        mod.delitem_i(items, 10)
    with pytest.raises(TypeError):
        mod.delitem_i("abc", 0)


def test_length_and_contains(mod):
    assert mod.length([1, 2, 3]) == 3
    assert mod.length("h\u00e9llo") == 5
    assert mod.length({}) == 0
    with pytest.raises(TypeError, match="has no len"):
        mod.length(5)
    assert mod.contains([1, 2], 2) == 1
    assert mod.contains([1, 2], 3) == 0
    assert mod.contains("abc", "bc") == 1
    assert mod.contains({"k": 1}, "k") == 1
    assert mod.contains({"k": 1}, 1) == 0
    with pytest.raises(TypeError, match="not iterable"):
        mod.contains(5, 1)


# ---- string conversions, comparison, hashing ---------------------------------

def test_repr_str_ascii_bytes(mod):
    assert mod.repr_of("\u00e9") == "'\u00e9'"
    assert mod.repr_of([1, "a"]) == "[1, 'a']"
    assert mod.str_of(1.5) == "1.5"
    assert mod.str_of("same") == "same"
    assert mod.ascii_of("\u00e9") == "'\\xe9'"
    assert mod.bytes_of(b"ab") == b"ab"
    assert mod.bytes_of(bytearray(b"ab")) == b"ab"
    assert mod.bytes_of([1, 2]) == b"\x01\x02"

    class WithBytes:
        def __bytes__(self):
            return b"custom"

    class BadRepr:
        def __repr__(self):
            raise ValueError("no repr")
    assert mod.bytes_of(WithBytes()) == b"custom"
    with pytest.raises(TypeError, match="cannot convert 'int' object to bytes"):
        mod.bytes_of(5)
    with pytest.raises(ValueError, match="no repr"):
        mod.repr_of(BadRepr())
    with pytest.raises(ValueError, match="no repr"):
        mod.str_of(BadRepr())


OPS = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]


@pytest.mark.parametrize("a, b", [(1, 2), (2, 2), (3, 2), ("a", "b"), (2.5, 2), ((1, 2), (1, 3))])
def test_rich_compare_every_op(mod, a, b):
    expected = tuple(op(a, b) for op in OPS)
    assert mod.compare_all(a, b) == expected
    assert mod.compare_all_bool(a, b) == tuple(int(e) for e in expected)


def test_rich_compare_returns_what_the_dunder_returns(mod):
    class Odd:
        def __lt__(self, other): return "lt"
        def __le__(self, other): return "le"
        def __eq__(self, other): return ""
        def __ne__(self, other): return "ne"
        def __gt__(self, other): return []
        def __ge__(self, other): return "ge"
    assert mod.compare_all(Odd(), 0) == ("lt", "le", "", "ne", [], "ge")
    assert mod.compare_all_bool(Odd(), 0) == (1, 1, 0, 1, 0, 1)


def test_rich_compare_bool_uses_identity_for_eq(mod):
    nan = math.nan
    assert mod.compare_all(nan, nan)[2] is False
    # RichCompareBool: identical objects are equal, not unequal
    assert mod.compare_all_bool(nan, nan)[2:4] == (1, 0)


def test_rich_compare_errors(mod):
    with pytest.raises(TypeError, match="'<' not supported"):
        mod.compare_all(1, "a")
    with pytest.raises(TypeError, match="'<' not supported"):
        mod.compare_all_bool(1, "a")


def test_hash(mod):
    for value in ["abc", 12345, 1.5, (1, "x"), None, -1]:
        assert mod.hash_of(value) == hash(value)
    assert mod.hash_of(-1) == -2

    class Big:
        def __hash__(self):
            return 2 ** 70
    assert mod.hash_of(Big()) == hash(Big())
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        mod.hash_of([])
