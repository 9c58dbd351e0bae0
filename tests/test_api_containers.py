"""Lists, dicts, tuples, builders, slices and HPyTracker, in both ABIs."""
import collections
import sys

import pytest

from support import refcount

SOURCE = r"""
#include "hpytest.h"

static HPy int_result(HPyContext *ctx, long r)
{
    if (r == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, r);
}

/* ---- lists ---- */

T_METH_O(list_check, HPyLong_FromLong(ctx, HPyList_Check(ctx, arg)))

/* HPyList_New(n) holds n empty slots: only its length may be looked at */
HPyDef_METH(list_new_length, "list_new_length", HPyFunc_O)
static HPy list_new_length_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy list = HPyList_New(ctx, HPyLong_AsSsize_t(ctx, arg));
    HPy_ssize_t n;
    (void)self;
    if (HPy_IsNull(list))
        return HPy_NULL;
    n = HPy_Length(ctx, list);
    HPy_Close(ctx, list);
    return HPyLong_FromSsize_t(ctx, n);
}

/* a new list holding args, built with HPyList_New(0) + HPyList_Append */
HPyDef_METH(list_of, "list_of", HPyFunc_VARARGS)
static HPy list_of_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy list = HPyList_New(ctx, 0);
    size_t i;
    (void)self;
    if (HPy_IsNull(list))
        return HPy_NULL;
    for (i = 0; i < nargs; i++) {
        if (HPyList_Append(ctx, list, args[i]) < 0) {
            HPy_Close(ctx, list);
            return HPy_NULL;
        }
    }
    return list;
}

HPyDef_METH(list_append, "list_append", HPyFunc_VARARGS)
static HPy list_append_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return int_result(ctx, HPyList_Append(ctx, args[0], args[1]));
}

/* ---- dicts ---- */

T_METH_O(dict_check, HPyLong_FromLong(ctx, HPyDict_Check(ctx, arg)))
T_METH_O(dict_keys, HPyDict_Keys(ctx, arg))
T_METH_O(dict_copy, HPyDict_Copy(ctx, arg))

HPyDef_METH(dict_new, "dict_new", HPyFunc_NOARGS)
static HPy dict_new_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyDict_New(ctx);
}

/* ---- tuples ---- */

T_METH_O(tuple_check, HPyLong_FromLong(ctx, HPyTuple_Check(ctx, arg)))

HPyDef_METH(tuple_from_array, "tuple_from_array", HPyFunc_VARARGS)
static HPy tuple_from_array_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    return HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
}

/* HPyTuple_Pack with 0, 1, 3 and 10 items (10 is past its small buffer) */
HPyDef_METH(tuple_pack, "tuple_pack", HPyFunc_VARARGS)
static HPy tuple_pack_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    switch (nargs) {
    case 0: return HPyTuple_Pack(ctx, 0);
    case 1: return HPyTuple_Pack(ctx, 1, args[0]);
    case 3: return HPyTuple_Pack(ctx, 3, args[0], args[1], args[2]);
    case 10: return HPyTuple_Pack(ctx, 10, args[0], args[1], args[2], args[3], args[4],
                                  args[5], args[6], args[7], args[8], args[9]);
    }
    return HPyErr_SetString(ctx, ctx->h_ValueError, "tuple_pack takes 0, 1, 3 or 10 items");
}

/* ---- builders ---- */

/* args[0]: build (1) or cancel (0); the rest: the items */
HPyDef_METH(list_builder, "list_builder", HPyFunc_VARARGS)
static HPy list_builder_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long build = HPyLong_AsLong(ctx, args[0]);
    HPyListBuilder builder = HPyListBuilder_New(ctx, (HPy_ssize_t)nargs - 1);
    size_t i;
    (void)self;
    for (i = 1; i < nargs; i++)
        HPyListBuilder_Set(ctx, builder, (HPy_ssize_t)i - 1, args[i]);
    if (build)
        return HPyListBuilder_Build(ctx, builder);
    HPyListBuilder_Cancel(ctx, builder);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(tuple_builder, "tuple_builder", HPyFunc_VARARGS)
static HPy tuple_builder_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long build = HPyLong_AsLong(ctx, args[0]);
    HPyTupleBuilder builder = HPyTupleBuilder_New(ctx, (HPy_ssize_t)nargs - 1);
    size_t i;
    (void)self;
    for (i = 1; i < nargs; i++)
        HPyTupleBuilder_Set(ctx, builder, (HPy_ssize_t)i - 1, args[i]);
    if (build)
        return HPyTupleBuilder_Build(ctx, builder);
    HPyTupleBuilder_Cancel(ctx, builder);
    return HPy_Dup(ctx, ctx->h_None);
}

/* ---- slices ---- */

/* (start, stop, step, slicelength) like slice.indices(length) + len(range(...)) */
HPyDef_METH(slice_indices, "slice_indices", HPyFunc_VARARGS)
static HPy slice_indices_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy_ssize_t start, stop, step, n, length = HPyLong_AsSsize_t(ctx, args[1]);
    HPy items[4], result;
    int i;
    (void)self; (void)nargs;
    if (HPySlice_Unpack(ctx, args[0], &start, &stop, &step) < 0)
        return HPy_NULL;
    n = HPySlice_AdjustIndices(ctx, length, &start, &stop, step);
    items[0] = HPyLong_FromSsize_t(ctx, start);
    items[1] = HPyLong_FromSsize_t(ctx, stop);
    items[2] = HPyLong_FromSsize_t(ctx, step);
    items[3] = HPyLong_FromSsize_t(ctx, n);
    result = HPyTuple_FromArray(ctx, items, 4);
    for (i = 0; i < 4; i++)
        HPy_Close(ctx, items[i]);
    return result;
}

/* ---- HPyTracker ---- */

/* Track a new reference to each arg, then close the tracker: net zero. */
HPyDef_METH(tracker_close_all, "tracker_close_all", HPyFunc_VARARGS)
static HPy tracker_close_all_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyTracker ht = HPyTracker_New(ctx, 0);
    size_t i;
    (void)self;
    if (ht._i == 0)
        return HPy_NULL;
    for (i = 0; i < nargs; i++) {
        if (HPyTracker_Add(ctx, ht, HPy_Dup(ctx, args[i])) < 0) {
            HPyTracker_Close(ctx, ht);
            return HPy_NULL;
        }
    }
    HPyTracker_Close(ctx, ht);
    return HPyLong_FromSize_t(ctx, nargs);
}

/* Track, ForgetAll, Close: the handles stay ours; hand them back in a tuple. */
HPyDef_METH(tracker_forget_all, "tracker_forget_all", HPyFunc_VARARGS)
static HPy tracker_forget_all_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyTracker ht = HPyTracker_New(ctx, 2);
    HPy handles[32], result;
    size_t i;
    (void)self;
    if (nargs > 32)
        return HPyErr_SetString(ctx, ctx->h_ValueError, "at most 32 items");
    if (ht._i == 0)
        return HPy_NULL;
    for (i = 0; i < nargs; i++) {
        handles[i] = HPy_Dup(ctx, args[i]);
        if (HPyTracker_Add(ctx, ht, handles[i]) < 0) {
            HPyTracker_Close(ctx, ht);
            return HPy_NULL;
        }
    }
    HPyTracker_ForgetAll(ctx, ht);
    HPyTracker_Close(ctx, ht);
    result = HPyTuple_FromArray(ctx, handles, (HPy_ssize_t)nargs);
    for (i = 0; i < nargs; i++)
        HPy_Close(ctx, handles[i]);
    return result;
}

/* ForgetAll forgets only what was added before it: later adds are closed. */
HPyDef_METH(tracker_forget_then_add, "tracker_forget_then_add", HPyFunc_VARARGS)
static HPy tracker_forget_then_add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyTracker ht = HPyTracker_New(ctx, 1);
    HPy kept = HPy_Dup(ctx, args[0]);
    (void)self; (void)nargs;
    HPyTracker_Add(ctx, ht, kept);
    HPyTracker_ForgetAll(ctx, ht);
    HPyTracker_Add(ctx, ht, HPy_Dup(ctx, args[1]));
    HPyTracker_Close(ctx, ht);
    return kept;
}

static HPyDef *module_defines[] = {
    &list_check, &list_new_length, &list_of, &list_append,
    &dict_check, &dict_keys, &dict_copy, &dict_new,
    &tuple_check, &tuple_from_array, &tuple_pack,
    &list_builder, &tuple_builder, &slice_indices,
    &tracker_close_all, &tracker_forget_all, &tracker_forget_then_add, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_containers, moduledef)
"""

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_containers")
    return _built[hpy_abi]


# ---- lists ------------------------------------------------------------------

def test_list_check(mod):
    class MyList(list):
        pass
    assert mod.list_check([]) == 1
    assert mod.list_check(MyList()) == 1
    assert mod.list_check(()) == 0
    assert mod.list_check("abc") == 0


def test_list_new_and_append(mod):
    assert mod.list_new_length(0) == 0
    assert mod.list_new_length(5) == 5
    result = mod.list_of(1, "two", None)
    assert result == [1, "two", None] and type(result) is list
    assert mod.list_of() == []
    items = [1]
    assert mod.list_append(items, [2]) == 0
    assert items == [1, [2]]
    with pytest.raises(SystemError, match="bad argument to internal function"):
        mod.list_append((), 1)
    with pytest.raises(SystemError):
        mod.list_new_length(-1)


def test_list_append_keeps_its_own_reference(mod):
    obj = object()
    before = refcount(obj)
    items = mod.list_of(obj, obj)
    assert refcount(obj) == before + 2
    del items
    assert refcount(obj) == before


# ---- dicts ------------------------------------------------------------------

def test_dicts(mod):
    assert mod.dict_check({}) == 1
    assert mod.dict_check(collections.OrderedDict()) == 1
    assert mod.dict_check([]) == 0
    assert mod.dict_check(type.__dict__) == 0  # a mappingproxy is not a dict
    d = mod.dict_new()
    assert d == {} and type(d) is dict
    assert mod.dict_new() is not d
    source = {"b": 1, "a": 2, 3: [4]}
    keys = mod.dict_keys(source)
    assert keys == ["b", "a", 3] and type(keys) is list
    copy = mod.dict_copy(source)
    assert copy == source and copy is not source and type(copy) is dict
    assert copy[3] is source[3]  # shallow
    copy["new"] = 1
    assert "new" not in source
    with pytest.raises(SystemError, match="bad argument to internal function"):
        mod.dict_keys([1])
    with pytest.raises(SystemError, match="bad argument to internal function"):
        mod.dict_copy([1])


# ---- tuples -----------------------------------------------------------------

def test_tuples(mod):
    assert mod.tuple_check(()) == 1
    assert mod.tuple_check(collections.namedtuple("P", "x y")(1, 2)) == 1
    assert mod.tuple_check([]) == 0
    assert mod.tuple_from_array() == ()
    assert mod.tuple_from_array(1, "a", None) == (1, "a", None)
    assert mod.tuple_pack() == ()
    assert mod.tuple_pack("one") == ("one",)
    assert mod.tuple_pack(1, 2, 3) == (1, 2, 3)
    assert mod.tuple_pack(*range(10)) == tuple(range(10))


def test_tuple_pack_is_refcount_neutral(mod):
    obj = object()
    before = refcount(obj)
    for _ in range(100):
        mod.tuple_pack(*[obj] * 10)
        mod.tuple_from_array(obj, obj)
    assert refcount(obj) == before


# ---- builders ---------------------------------------------------------------

@pytest.mark.parametrize("kind, result_type", [("list_builder", list), ("tuple_builder", tuple)])
def test_builders(mod, kind, result_type):
    builder = getattr(mod, kind)
    result = builder(1, "a", 2, None)
    assert result == result_type(["a", 2, None]) and type(result) is result_type
    assert builder(1) == result_type()
    assert builder(0, "a", 2) is None


@pytest.mark.parametrize("kind", ["list_builder", "tuple_builder"])
def test_builders_release_items(mod, kind):
    builder = getattr(mod, kind)
    obj = object()
    before = refcount(obj)
    for _ in range(100):
        builder(0, obj, obj)  # cancelled
        builder(1, obj, obj)  # built, then dropped
    assert refcount(obj) == before


# ---- slices -----------------------------------------------------------------

@pytest.mark.parametrize("s", [
    slice(None), slice(2, 5), slice(-3, None), slice(None, None, -1), slice(10, -10, -2),
    slice(-100, 100), slice(1, 8, 3), slice(5, 2), slice(None, -1, 2),
])
@pytest.mark.parametrize("length", [0, 1, 7])
def test_slice_unpack_and_adjust(mod, s, length):
    start, stop, step = s.indices(length)
    assert mod.slice_indices(s, length) == (start, stop, step, len(range(start, stop, step)))


def test_slice_unpack_errors(mod):
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        mod.slice_indices(slice(1, 2, 0), 5)
    with pytest.raises(TypeError, match="slice indices must be integers"):
        mod.slice_indices(slice("a", 2), 5)
    # CPython's PySlice_Unpack would crash on these
    with pytest.raises(TypeError, match="^expected a slice object, not int$"):
        mod.slice_indices(5, 5)
    with pytest.raises(TypeError, match="^expected a slice object, not range$"):
        mod.slice_indices(range(3), 5)


def test_slice_unpack_clamps_huge_values(mod):
    start, stop, step, n = mod.slice_indices(slice(-10 ** 30, 10 ** 30, 10 ** 30), 5)
    assert (start, stop, n) == (0, 5, 1)
    assert step == sys.maxsize


# ---- HPyTracker -------------------------------------------------------------

def test_tracker_close_releases_every_handle(mod):
    objs = [object() for _ in range(20)]  # more than the tracker's initial room
    before = [refcount(o) for o in objs]
    assert mod.tracker_close_all(*objs) == 20
    assert mod.tracker_close_all() == 0
    assert [refcount(o) for o in objs] == before


def test_tracker_forget_all_leaves_handles_open(mod):
    objs = [object() for _ in range(12)]
    before = [refcount(o) for o in objs]
    result = mod.tracker_forget_all(*objs)
    assert all(a is b for a, b in zip(result, objs)) and len(result) == 12
    del result
    assert [refcount(o) for o in objs] == before


def test_tracker_forget_all_then_add(mod):
    kept, dropped = object(), object()
    before = refcount(kept), refcount(dropped)
    assert mod.tracker_forget_then_add(kept, dropped) is kept
    assert (refcount(kept), refcount(dropped)) == before
