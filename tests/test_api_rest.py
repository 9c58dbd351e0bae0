"""The members and inline helpers no other test file covers, in both ABIs:
HPy_FatalError, HPyErr_WriteUnraisable, _HPy_Dump, failed builders,
HPy_FromVoidP/AsVoidP, HPyLong_FromPid/AsPid, HPy_RETURN_RICHCOMPARE, and the
legacy HPy_FromPyObject/HPy_AsPyObject (CPython and hybrid ABIs only)."""
import operator
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from support import import_binary, refcount

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SOURCE = r"""
#include "hpytest.h"

/* Would not compile under -Werror=return-type if HPy_FatalError could return. */
static long positive_or_die(HPyContext *ctx, long x)
{
    if (x > 0)
        return x;
    HPy_FatalError(ctx, "hpy-build test: not positive");
}

HPyDef_METH(fatal, "fatal", HPyFunc_O)
static HPy fatal_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPyLong_FromLong(ctx, positive_or_die(ctx, HPyLong_AsLong(ctx, arg)));
}

/* raise(exception instance), then report it as unraisable for `obj` */
HPyDef_METH(unraisable, "unraisable", HPyFunc_VARARGS)
static HPy unraisable_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy type = HPy_Type(ctx, args[0]);
    (void)self; (void)nargs;
    HPyErr_SetObject(ctx, type, args[0]);
    HPy_Close(ctx, type);
    HPyErr_WriteUnraisable(ctx, args[1]);
    if (HPyErr_Occurred(ctx))
        return HPyErr_SetString(ctx, ctx->h_AssertionError, "the error is still set");
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(dump, "dump", HPyFunc_O)
static HPy dump_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    _HPy_Dump(ctx, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

/* a failed builder: Set is ignored, Build reports MemoryError, Cancel is quiet */
HPyDef_METH(huge_list, "huge_list", HPyFunc_O)
static HPy huge_list_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyListBuilder b = HPyListBuilder_New(ctx, HPY_SSIZE_T_MAX);
    (void)self;
    if (HPyErr_Occurred(ctx))
        return HPy_NULL;  /* the error waits for Build */
    HPyListBuilder_Set(ctx, b, 0, arg);
    if (HPy_IsTrue(ctx, arg))
        return HPyListBuilder_Build(ctx, b);
    HPyListBuilder_Cancel(ctx, b);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(huge_tuple, "huge_tuple", HPyFunc_O)
static HPy huge_tuple_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyTupleBuilder b = HPyTupleBuilder_New(ctx, HPY_SSIZE_T_MAX);
    (void)self;
    if (HPyErr_Occurred(ctx))
        return HPy_NULL;
    HPyTupleBuilder_Set(ctx, b, 0, arg);
    if (HPy_IsTrue(ctx, arg))
        return HPyTupleBuilder_Build(ctx, b);
    HPyTupleBuilder_Cancel(ctx, b);
    return HPy_Dup(ctx, ctx->h_None);
}

T_METH_O(void_p_round_trip, HPy_Dup(ctx, HPy_FromVoidP(HPy_AsVoidP(arg))))

HPyDef_METH(null_void_p, "null_void_p", HPyFunc_NOARGS)
static HPy null_void_p_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyBool_FromLong(ctx, HPy_IsNull(HPy_FromVoidP(NULL)) && HPy_AsVoidP(HPy_NULL) == NULL);
}

HPyDef_METH(pid_round_trip, "pid_round_trip", HPyFunc_O)
static HPy pid_round_trip_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long pid = HPyLong_AsPid(ctx, arg);
    (void)self;
    if (pid == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromPid(ctx, pid);
}

/* compare(a, b, op) on two C longs */
HPyDef_METH(compare, "compare", HPyFunc_VARARGS)
static HPy compare_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a = HPyLong_AsLong(ctx, args[0]), b = HPyLong_AsLong(ctx, args[1]);
    HPy_RichCmpOp op = (HPy_RichCmpOp)HPyLong_AsLong(ctx, args[2]);
    (void)self; (void)nargs;
    if (HPyErr_Occurred(ctx))
        return HPy_NULL;
    HPy_RETURN_RICHCOMPARE(ctx, a, b, op);
}

static HPyDef *module_defines[] = {
    &fatal, &unraisable, &dump, &huge_list, &huge_tuple, &void_p_round_trip, &null_void_p,
    &pid_round_trip, &compare, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_rest, moduledef)
"""

_built = {}


@pytest.fixture
def built(hpy_compiler, hpy_abi, tmp_path_factory):
    """(path of the binary, imported module)"""
    if hpy_abi not in _built:
        path = hpy_compiler.compile(SOURCE, hpy_abi, "api_rest", tmp_path_factory.mktemp("api_rest"))
        _built[hpy_abi] = (path, import_binary("api_rest", path, hpy_abi))
    return _built[hpy_abi]


@pytest.fixture
def mod(built):
    return built[1]


# ---- HPy_FatalError -----------------------------------------------------------

def test_fatal_error_aborts_with_the_message(built, hpy_abi):
    code = textwrap.dedent("""
        import sys
        sys.path[:0] = [%r, %r]
        from support import import_binary
        mod = import_binary("api_rest", %r, %r)
        assert mod.fatal(5) == 5
        print("still alive", flush=True)
        mod.fatal(0)
        print("not reached", flush=True)
    """ % (HERE, ROOT, built[0], hpy_abi))
    result = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    assert result.stdout == "still alive\n"
    assert result.returncode == -signal.SIGABRT, result.stderr
    assert "Fatal Python error: " in result.stderr
    assert "hpy-build test: not positive" in result.stderr


# ---- HPyErr_WriteUnraisable ----------------------------------------------------

def test_write_unraisable_reaches_the_hook(mod, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    error = KeyError("lost")
    where = object()
    assert mod.unraisable(error, where) is None
    assert len(seen) == 1
    assert seen[0].exc_type is KeyError
    assert seen[0].exc_value is error
    assert seen[0].object is where


# ---- _HPy_Dump --------------------------------------------------------------------

def test_dump_prints_the_object_to_stderr(mod, capfd):
    mod.dump(12345678)
    err = capfd.readouterr().err
    assert "object address  : 0x" in err
    assert "object refcount : " in err
    assert "object type name: int" in err
    assert "object repr     : 12345678" in err


def test_dump_survives_a_failing_repr(mod, capfd):
    class BadRepr:
        def __repr__(self):
            raise RuntimeError("no repr for you")
    assert mod.dump(BadRepr()) is None  # no exception leaks out
    err = capfd.readouterr().err
    assert "object type name: BadRepr" in err


# ---- builders whose allocation failed ---------------------------------------------

@pytest.mark.parametrize("build", ["huge_list", "huge_tuple"])
def test_failed_builder_reports_memory_error_at_build(mod, build):
    item = object()
    before = refcount(item)
    with pytest.raises(MemoryError):
        getattr(mod, build)(item)  # truthy: Build
    assert getattr(mod, build)(0) is None  # falsy: Cancel, no error
    assert refcount(item) == before


# ---- small inline helpers and macros ------------------------------------------------

def test_void_p_round_trip(mod):
    obj = object()
    before = refcount(obj)
    assert mod.void_p_round_trip(obj) is obj
    assert refcount(obj) == before
    assert mod.null_void_p() is True


def test_pid_round_trip(mod):
    assert mod.pid_round_trip(os.getpid()) == os.getpid()
    assert mod.pid_round_trip(-1) == -1
    with pytest.raises(OverflowError):
        mod.pid_round_trip(2 ** 80)
    with pytest.raises(TypeError):
        mod.pid_round_trip("1")


OPS = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]


@pytest.mark.parametrize("a, b", [(1, 2), (2, 2), (3, 2), (-5, 7)])
def test_return_richcompare(mod, a, b):
    assert [mod.compare(a, b, op) for op in range(6)] == [f(a, b) for f in OPS]
    assert all(type(mod.compare(a, b, op)) is bool for op in range(6))


# ---- legacy interop: only where Python.h is allowed --------------------------------------

LEGACY = r"""
#include "hpy.h"

/* (refcount delta while a PyObject * is held, the object back as a new handle) */
HPyDef_METH(through_pyobject, "through_pyobject", HPyFunc_O)
static HPy through_pyobject_impl(HPyContext *ctx, HPy self, HPy arg)
{
    PyObject *o = HPy_AsPyObject(ctx, arg);
    Py_ssize_t held = Py_REFCNT(o), released;
    HPy back, result;
    Py_DECREF(o);  /* the caller's argument keeps it alive */
    released = Py_REFCNT(o);
    back = HPy_FromPyObject(ctx, o);
    (void)self;
    result = HPy_BuildValue(ctx, "(nO)", held - released, back);
    HPy_Close(ctx, back);
    return result;
}

HPyDef_METH(null_objects, "null_objects", HPyFunc_NOARGS)
static HPy null_objects_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyBool_FromLong(ctx, HPy_AsPyObject(ctx, HPy_NULL) == NULL &&
                                 HPy_IsNull(HPy_FromPyObject(ctx, NULL)));
}

static HPyDef *module_defines[] = { &through_pyobject, &null_objects, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_legacy, moduledef)
"""


@pytest.mark.parametrize("legacy_abi", ["cpython", "hybrid"])  # the conftest selects ABIs by this name
def test_from_and_as_pyobject(hpy_compiler, tmp_path, legacy_abi):
    mod = import_binary("api_legacy", hpy_compiler.compile(LEGACY, legacy_abi, "api_legacy", tmp_path),
                        legacy_abi)
    obj = object()
    before = refcount(obj)
    # the PyObject * owns a reference, dropped by Py_DECREF
    assert mod.through_pyobject(obj) == (1, obj)
    assert refcount(obj) == before
    assert mod.null_objects() is True
