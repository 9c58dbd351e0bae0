"""The universal runtime in Python through cffi (hpy_build/runtime/pypy).

On CPython it runs when selected (``load(..., runtime="cffi")`` or
HPY_BUILD_RUNTIME=cffi), so it is tested where PyPy is absent; on PyPy it is
the only runtime: sample_ext's universal wheel, built once here on CPython,
is installed into a PyPy venv next to hpy-build built by PyPy, and the
sample's own tests run there.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

from buildtools import (  # noqa: F401  (fixtures)
    ROOT, build_python, checkout_copy, clean_env, hpy_build_wheel, listdir, run, venv_python)
from hpy_build import universal
from hpy_build.api import table as api

cffi_runtime = pytest.importorskip(
    "hpy_build.runtime.pypy", reason="the cffi runtime is not built (install cffi, then "
    "python3 setup.py build_ext --inplace)")
from hpy_build.runtime.pypy import handles  # noqa: E402

ON_CPYTHON = sys.implementation.name == "cpython"

SOURCE = r"""
#include "hpytest.h"

HPyDef_METH(noargs, "noargs", HPyFunc_NOARGS, .doc = "noargs() -> 42")
static HPy noargs_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(echo, "echo", HPyFunc_O)
static HPy echo_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_Dup(ctx, arg);
}

HPyDef_METH(add_all, "add_all", HPyFunc_VARARGS)
static HPy add_all_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy acc;
    size_t i;
    (void)self;
    if (nargs == 0)
        return HPyLong_FromLong(ctx, 0);
    acc = HPy_Dup(ctx, args[0]);
    for (i = 1; i < nargs; i++) {
        HPy next = HPy_Add(ctx, acc, args[i]);  /* may fail: the error comes from Python */
        HPy_Close(ctx, acc);
        if (HPy_IsNull(next))
            return HPy_NULL;
        acc = next;
    }
    return acc;
}

HPyDef_METH(kw, "kw", HPyFunc_KEYWORDS)
static HPy kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    HPy names = HPy_IsNull(kwnames) ? HPy_Dup(ctx, ctx->h_None) : HPy_Dup(ctx, kwnames);
    HPy n = HPyLong_FromSize_t(ctx, nargs);
    /* the keyword values follow the positional ones */
    size_t total = nargs + (HPy_IsNull(kwnames) ? 0 : (size_t)HPy_Length(ctx, kwnames));
    HPy last = total ? HPy_Dup(ctx, args[total - 1]) : HPy_Dup(ctx, ctx->h_None);
    HPy items[3] = { n, names, last };
    HPy result = HPyTuple_FromArray(ctx, items, 3);
    (void)self;
    HPy_Close(ctx, n);
    HPy_Close(ctx, names);
    HPy_Close(ctx, last);
    return result;
}

/* errors: set in C, or raised by Python inside a context call */
HPyDef_METH(fail, "fail", HPyFunc_O)
static HPy fail_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long how = HPyLong_AsLong(ctx, arg);
    (void)self;
    if (how == 0)
        return HPyErr_SetString(ctx, ctx->h_ValueError, "set in C");
    if (how == 1)
        return HPy_NULL;                      /* no error set */
    if (how == 2) {
        HPyErr_SetString(ctx, ctx->h_KeyError, "left set");
        return HPyLong_FromLong(ctx, 1);      /* a result with an error */
    }
    return HPy_GetAttr_s(ctx, arg, "no_such_attribute");
}

HPyDef_METH(occurred_after, "occurred_after", HPyFunc_O)
static HPy occurred_after_impl(HPyContext *ctx, HPy self, HPy callable)
{
    /* a Python exception in the callee is the current HPy error here */
    HPy r = HPy_Call(ctx, callable, NULL, 0, HPy_NULL);
    int occurred = HPyErr_Occurred(ctx);
    int matches = HPyErr_ExceptionMatches(ctx, ctx->h_ZeroDivisionError);
    (void)self;
    if (!HPy_IsNull(r))
        HPy_Close(ctx, r);
    HPyErr_Clear(ctx);
    return HPy_BuildValue(ctx, "(ii)", occurred, matches);
}

HPyDef_METH(use_global, "use_global", HPyFunc_O)
static HPyGlobal g_stored;
static HPy use_global_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    if (!HPy_Is(ctx, arg, ctx->h_None))
        HPyGlobal_Store(ctx, &g_stored, arg);
    return HPyGlobal_Load(ctx, g_stored);
}

typedef struct { long value; HPyField other; } PointObject;
HPyType_HELPERS(PointObject)

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    PointObject *p;
    HPy h = HPy_New(ctx, cls, &p);
    (void)kw;
    if (HPy_IsNull(h))
        return HPy_NULL;
    p->value = nargs ? HPyLong_AsLong(ctx, args[0]) : 0;
    if (nargs > 1)
        HPyField_Store(ctx, h, &p->other, args[1]);
    return h;
}

HPyDef_SLOT(Point_add, HPy_nb_add)
static HPy Point_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    long x = PointObject_AsStruct(ctx, a)->value;
    long y = HPyLong_AsLong(ctx, b);
    if (y == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, x + y);
}

HPyDef_GET(Point_other, "other")
static HPy Point_other_get(HPyContext *ctx, HPy self, void *closure)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    (void)closure;
    if (HPyField_IsNull(p->other))
        return HPy_Dup(ctx, ctx->h_None);
    return HPyField_Load(ctx, self, p->other);
}

HPyDef_MEMBER(Point_value, "value", HPyMember_LONG, offsetof(PointObject, value))

static HPyDef *Point_defines[] = { &Point_new, &Point_add, &Point_other, &Point_value, NULL };
static HPyType_Spec Point_spec = {
    .name = "mytest.Point", .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT, .defines = Point_defines,
};

HPyDef_SLOT(exec_point, HPy_mod_exec)
static int exec_point_impl(HPyContext *ctx, HPy mod)
{
    HPy t = HPyType_FromSpec(ctx, &Point_spec, NULL);
    int r;
    if (HPy_IsNull(t))
        return -1;
    r = HPy_SetAttr_s(ctx, mod, "Point", t);
    HPy_Close(ctx, t);
    return r;
}

static HPyDef *defines[] = { &noargs, &echo, &add_all, &kw, &fail, &occurred_after,
                             &use_global, &exec_point, NULL };
static HPyGlobal *globals[] = { &g_stored, NULL };
static HPyModuleDef moduledef = { .doc = "cffi runtime test", .defines = defines, .globals = globals };
HPy_MODINIT(mytest, moduledef)
"""


@pytest.fixture(scope="module")
def binary(hpy_compiler, tmp_path_factory):
    return hpy_compiler.compile(SOURCE, "universal", "mytest", tmp_path_factory.mktemp("cffi-rt"))


@pytest.fixture
def mod(binary):
    return universal.load("mytest", binary, runtime="cffi")


def open_handles():
    return handles.open_count()  # slots in use and the extra owners HPy_Dup counted


# ------------------------------------------------------------- selection

def test_loader_argument_and_environment_pick_the_runtime(binary, monkeypatch):
    via_cffi = universal.load("mytest", binary, runtime="cffi")
    assert type(via_cffi.noargs).__name__ == "function"  # a Python function calling the impl
    monkeypatch.setenv("HPY_BUILD_RUNTIME", "cffi")
    assert type(universal.load("mytest", binary).noargs).__name__ == "function"
    if ON_CPYTHON:
        assert type(universal.load("mytest", binary, runtime="c").noargs).__name__ == \
            "builtin_function_or_method"
    else:
        with pytest.raises(ImportError, match="needs CPython"):
            universal.load("mytest", binary, runtime="c")
    with pytest.raises(ValueError, match="unknown HPy runtime 'jit'"):
        universal.load("mytest", binary, runtime="jit")


def test_runtime_of_the_running_interpreter_by_default(monkeypatch):
    monkeypatch.delenv("HPY_BUILD_RUNTIME", raising=False)
    assert universal._runtime_name() == ("c" if ON_CPYTHON else "cffi")


def test_same_checks_and_messages_as_the_c_runtime(binary, tmp_path):
    renamed = tmp_path / "mytest.hpy1.so"
    shutil.copy(binary, renamed)
    with pytest.raises(universal.HPyABIError, match="mismatch between the HPy ABI tag"):
        universal.load("mytest", renamed, runtime="cffi")
    other_name = tmp_path / "other.hpy0.so"
    shutil.copy(binary, other_name)
    with pytest.raises(ImportError, match="does not export 'get_required_hpy_major_version_other'"):
        universal.load("other", other_name, runtime="cffi")


# ------------------------------------------------------------- the module

def test_module_doc_methods_and_docs(mod):
    assert mod.__doc__ == "cffi runtime test"
    assert mod.noargs.__doc__ == "noargs() -> 42" and mod.noargs.__name__ == "noargs"
    assert mod.noargs.__module__ == "mytest"
    assert mod.__file__.endswith("mytest.hpy0.so")


def test_methods_of_every_signature(mod):
    obj = object()
    assert mod.noargs() == 42
    assert mod.echo(obj) is obj
    assert mod.add_all(1, 2, 3) == 6 and mod.add_all() == 0
    assert mod.add_all("a", "b") == "ab"
    assert mod.kw(1, 2, obj) == (3, None, obj)
    assert mod.kw(1, x=obj, y=2) == (1, ("x", "y"), 2)


@pytest.mark.skipif(not ON_CPYTHON, reason="PyPy has no sys.getrefcount")
def test_no_reference_leaked_or_lost(mod):
    obj = object()
    mod.echo(obj), mod.kw(obj, k=obj)
    before = sys.getrefcount(obj)
    for _ in range(100):
        assert mod.echo(obj) is obj
        assert mod.kw(obj, k=obj)[2] is obj
        with pytest.raises(TypeError):
            mod.add_all(1, obj)
    assert sys.getrefcount(obj) == before


def test_every_handle_is_closed_and_its_slot_reused(mod):
    def calls(i):
        mod.add_all(i, 1, 2)
        mod.kw(1, 2, k=3)
        with pytest.raises(TypeError):
            mod.add_all(1, None)
    for i in range(300):  # on PyPy, closes queue up (256) before their slots are freed
        calls(i)
    opened, size = open_handles(), len(handles.objects)
    for i in range(1000):
        calls(i)
    assert open_handles() == opened
    assert len(handles.objects) == size  # freed slots are reused: the table does not grow


def test_constants_are_fixed_low_handles_never_freed():
    from hpy_build.runtime.pypy import ctx_objects
    assert handles.objects[0] is None  # HPy_NULL
    assert handles.objects[1:1 + len(api.HANDLES)] == ctx_objects.constants()
    assert handles.objects[1] is None and handles.objects[2] is True
    handles.close(1)
    assert 1 not in handles.free and handles.objects[1] is None and handles.objects[2] is True


def test_errors_both_ways(mod):
    with pytest.raises(ValueError, match="^set in C$"):
        mod.fail(0)
    with pytest.raises(SystemError, match="returned NULL without setting an exception"):
        mod.fail(1)
    with pytest.raises(SystemError, match="returned a result with an exception set") as info:
        mod.fail(2)
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(AttributeError, match="no_such_attribute"):
        mod.fail(3)
    with pytest.raises(TypeError, match="unsupported operand"):
        mod.add_all(1, "x")
    assert mod.occurred_after(lambda: 1 / 0) == (1, 1)
    assert mod.occurred_after(lambda: None) == (0, 0)
    assert mod.noargs() == 42  # nothing left pending


def test_globals(mod):
    obj = object()
    with pytest.raises(SystemError, match="never stored"):
        mod.use_global(None)
    assert mod.use_global(obj) is obj
    assert mod.use_global(None) is obj


def test_custom_type(mod):
    other = object()
    p = mod.Point(5, other)
    assert type(p).__name__ == "Point" and type(p).__module__ == "mytest"
    assert p.value == 5 and p.other is other and mod.Point(1).other is None
    assert p + 3 == 8
    p.value = 7
    assert p.value == 7 and p + 1 == 8
    with pytest.raises(TypeError):
        p + "x"
    assert "_hpy_data" not in getattr(p, "__dict__", {})


def test_every_member_is_implemented():
    assert cffi_runtime.MISSING == []


HYBRID = r"""
#include "hpy.h"

HPyDef_METH(round_trip, "round_trip", HPyFunc_O)
static HPy round_trip_impl(HPyContext *ctx, HPy self, HPy arg)
{
    PyObject *o = HPy_AsPyObject(ctx, arg);
    HPy result = HPy_FromPyObject(ctx, o);
    (void)self;
    Py_XDECREF(o);
    return result;
}

static HPyDef *defines[] = { &round_trip, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(hyb, moduledef)
"""


@pytest.mark.skipif(not ON_CPYTHON, reason="a hybrid binary is for one CPython")
def test_hybrid_module_is_refused_saying_why(hpy_compiler, tmp_path):
    path = hpy_compiler.compile(HYBRID, "hybrid", "hyb", tmp_path)
    with pytest.raises(universal.HPyABIError, match="releases around calls into C; load it with "
                                                    "the C runtime on CPython"):
        universal.load("hyb", path, runtime="cffi")
    assert universal.load("hyb", path, runtime="c").round_trip(5) == 5  # the C runtime does


@pytest.mark.parametrize("member, args", [("HPy_FromPyObject", (None,)), ("HPy_AsPyObject", (1,))])
def test_pyobject_members_name_the_limitation(member, args):
    from hpy_build.runtime.pypy import ctx_objects
    with pytest.raises(SystemError, match="^%s: hpy-build's cffi runtime has no PyObject \\* to "
                                          "give: it runs universal modules only" % member):
        getattr(ctx_objects, member)(*args)


def test_trampolines_other_than_capsule_destructors_are_refused():
    from hpy_build.runtime.pypy import ctx_objects
    with pytest.raises(SystemError, match="calls each function's impl directly"):
        ctx_objects._HPy_CallRealFunctionFromTrampoline(3, None, None)  # HPyFunc_NOARGS


def test_api_tests_pass_on_the_cffi_runtime(tmp_path):
    """The API tests' universal half with the cffi runtime; its known gaps are
    strict xfails (CFFI_GAPS in tests/support.py)."""
    files = sorted(f for f in os.listdir(os.path.dirname(os.path.abspath(__file__)))
                   if f.startswith("test_api_") and f.endswith(".py"))
    files += ["test_argparse.py", "test_buildvalue.py", "test_format.py", "test_helpers.py"]
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
         str(tmp_path / "base"), "-k", "universal"] + [os.path.join(here, f) for f in files],
        cwd=ROOT, env=dict(os.environ, HPY_BUILD_RUNTIME="cffi"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-6000:]
    assert int(re.search(r"(\d+) passed", summary).group(1)) > 300, summary
    from support import CFFI_GAPS
    assert "%d xfailed" % sum(1 for reason in CFFI_GAPS.values() if reason) in summary, summary


# --------------------------------------------------------------- on PyPy

PYPY = shutil.which("pypy3")
needs_pypy = pytest.mark.skipif(PYPY is None, reason="no pypy3 on PATH (apt-get install pypy3 pypy3-venv)")

# sample_ext tests that check what PyPy 3.9 cannot give a Python-level exporter


@pytest.fixture(scope="module")
def sample_universal_wheel(build_python, tmp_path_factory):
    """sample_ext's universal wheel, built ONCE, here on CPython."""
    base = tmp_path_factory.mktemp("sample-universal")
    source = base / "src"
    shutil.copytree(os.path.join(ROOT, "sample_ext"), str(source),
                    ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__"))
    run([build_python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-C", "hpy-abi=universal", str(source), "-w", str(base / "wheels")])
    wheels = [name for name in listdir(base / "wheels") if name.endswith(".whl")]
    assert len(wheels) == 1 and "-py3-none-" in wheels[0], wheels
    return str(base / "wheels" / wheels[0])


@pytest.fixture(scope="module")
def pypy_venv(tmp_path_factory):
    """A PyPy venv with hpy-build (a wheel built by PyPy: the cffi runtime
    inside it is compiled ahead of time) and pytest."""
    base = tmp_path_factory.mktemp("pypy")
    run([PYPY, "-m", "venv", str(base / "venv")])
    python = venv_python(base / "venv")
    source = base / "hpy-build-src"
    shutil.copytree(ROOT, str(source), ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.so", "*.o",
        "tests", "bench", "sample_ext"))
    run([python, "-m", "pip", "wheel", "--no-deps", str(source), "-w", str(base / "wheel")])
    wheels = [name for name in listdir(base / "wheel") if name.endswith(".whl")]
    assert len(wheels) == 1 and "pypy39" in wheels[0], wheels
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(base / "wheel" / wheels[0])])
    run([python, "-m", "pip", "install", "--quiet", "pytest"])
    return python


@needs_pypy
def test_sample_universal_binary_built_on_cpython_runs_on_pypy(pypy_venv, sample_universal_wheel,
                                                                tmp_path):
    run([pypy_venv, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
         sample_universal_wheel])
    probe = ("import hpy_sample, hpy_sample._sample as s, hpy_sample._array as a, "
             "hpy_build.runtime.pypy as rt; print(s.__file__); print(a.__file__); "
             "print(type(s.abi).__name__); print(hpy_sample.abi())")
    out = run([pypy_venv, "-c", probe], cwd=tmp_path).stdout.split()
    assert out[0].endswith("_sample.hpy0.so") and out[1].endswith("_array.hpy0.so"), out
    assert out[2] == "function", out  # built by the cffi runtime, not cpyext
    tests = tmp_path / "sample-tests"
    shutil.copytree(os.path.join(ROOT, "sample_ext", "tests"), str(tests))
    # sample_ext's conftest marks its true PyPy differences as strict xfails
    result = run([pypy_venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
                 cwd=tmp_path, env=clean_env(HPY_SAMPLE_EXPECTED_ABI="universal"), check=False)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-8000:]
    assert int(re.search(r"(\d+) passed", summary).group(1)) >= 200, summary
    assert "4 xfailed" in summary, summary


@needs_pypy
def test_the_c_runtime_is_not_offered_on_pypy(pypy_venv, tmp_path):
    probe = ("from hpy_build import universal\n"
             "try:\n    universal.load('x', 'x.hpy0.so', runtime='c')\n"
             "except ImportError as e:\n    print(e)\n")
    out = run([pypy_venv, "-c", probe], cwd=tmp_path).stdout
    assert "needs CPython" in out, out


# HPy 0.9.0's own binaries on PyPy: the probe modules of test_hpy09_compat, built
# by hpy 0.9.0's toolchain on CPython (<name>.hpy0.so, as hpy-build names them),
# loaded by PyPy through this runtime, and held to the same expectations.
from test_hpy09_compat import EXPECTED, MODULES, PROBE, _mismatches  # noqa: E402
from test_hpy09_compat import hpy09_binaries, hpy09_python  # noqa: E402,F401  (fixtures)


@needs_pypy
@pytest.mark.parametrize("mode", ["hpy_build", "hpy_build-debug"])
@pytest.mark.parametrize("module", MODULES)
def test_binaries_built_by_hpy09_run_on_pypy(pypy_venv, hpy09_binaries, module, mode, tmp_path):  # noqa: F811
    path = hpy09_binaries[module]
    assert path.name == module + ".hpy0.so"
    result = run([pypy_venv, PROBE, mode, module, path], cwd=tmp_path, check=False)
    found = re.search(r"^PROBE-RESULT: (.*)$", result.stdout, re.MULTILINE)
    assert result.returncode == 0 and found, result.stdout[-6000:]
    import json
    report = json.loads(found.group(1))
    expected = dict(EXPECTED[module])
    # PyPy frees an object at a collection, not at its last HPy_Close: the
    # capsule's destructor has not run yet when the C function returns
    if module == "compat09api":
        expected["capsule_destructor()"] = ["ok", "(0, 0, 'compat09api.owned')"]
    wrong = _mismatches(expected, report["results"])
    assert not wrong, "%s built by hpy 0.9.0, on PyPy (%s):\n  %s" % (module, mode, "\n  ".join(wrong))
    if mode.endswith("-debug"):
        assert report["leaks"] == [] and report["invalid_handles"] == 0, report


# The CPython ABI on PyPy (cpyext): cpyext copies a type spec's name, so the
# C runtime's types cannot find their HPy record through tp_name there; the
# struct was then placed over the object's header and the first write to it
# crashed PyPy (sample_ext's Array, built for the CPython ABI). And cpyext keeps
# pointing at the spec's member array, which CPython copies: freed after the
# type was made, a member read found garbage ("bad memberdescr type").
CPYEXT_STRUCT = r"""
#include <stddef.h>
#include "hpy.h"
typedef struct { long a; double b; } PObject;
HPyType_HELPERS(PObject)
HPyDef_SLOT(P_new, HPy_tp_new)
static HPy P_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    PObject *p;
    HPy h = HPy_New(ctx, type, &p);
    (void)args; (void)nargs; (void)kw;
    if (!HPy_IsNull(h)) {
        p->a = 42;
        p->b = 2.5;
    }
    return h;
}
HPyDef_METH(P_get, "get", HPyFunc_NOARGS)
static HPy P_get_impl(HPyContext *ctx, HPy self)
{
    PObject *p = PObject_AsStruct(ctx, self);
    return HPy_BuildValue(ctx, "ld", p->a, p->b);
}
HPyDef_MEMBER(P_a, "a", HPyMember_LONG, offsetof(PObject, a))
HPyDef_MEMBER(P_b, "b", HPyMember_DOUBLE, offsetof(PObject, b))
static HPyDef *P_defines[] = { &P_new, &P_get, &P_a, &P_b, NULL };
static HPyType_Spec P_spec = { .name = "mytest.P", .basicsize = sizeof(PObject), .defines = P_defines };
HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m) { return HPyHelpers_AddType(ctx, m, "P", &P_spec, NULL) ? 0 : -1; }
static HPyDef *defs[] = { &ex, NULL };
static HPyModuleDef moduledef = { .defines = defs };
HPy_MODINIT(mytest, moduledef)
"""


@needs_pypy
def test_cpython_abi_struct_on_cpyext(tmp_path):
    from support import run_cpython_abi_module
    probe = ("import gc, importlib.util, json, sys\n"
             "spec = importlib.util.spec_from_file_location('mytest', sys.argv[1])\n"
             "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
             "got = [m.P().get() for _ in range(1000)][-1]\n"
             "gc.collect()\n"
             "p = m.P()\n"
             "print(json.dumps([list(got), type(p).__name__, p.a, p.b]))\n")
    assert run_cpython_abi_module(PYPY, CPYEXT_STRUCT, probe, tmp_path) == [[42, 2.5], "P", 42, 2.5]


@pytest.mark.parametrize("abis, expected", [("universal", ["universal"]),
                                            ("cpython,hybrid", ["cpython", "hybrid"])])
def test_the_conftest_runs_the_abis_asked_for(abis, expected, tmp_path):
    """HPY_BUILD_TEST_ABIS picks the ABIs (.ci/pypy-tests relies on its PyPy
    default, universal); the others are deselected, and the summary says so."""
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "--basetemp",
         str(tmp_path / "base"), os.path.join(here, "test_api_rest.py")],
        cwd=ROOT, env=dict(os.environ, HPY_BUILD_TEST_ABIS=abis),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert result.returncode == 0, result.stdout[-4000:]
    ran = set(re.findall(r"^PASSED \S+\[(?:[^\]]*-)?(cpython|universal|hybrid)[\]-]", result.stdout, re.M))
    assert ran == set(expected), result.stdout[-4000:]
    assert re.search(r"hpy-build: \d+ tests of other ABIs deselected: ran %s \(HPY_BUILD_TEST_ABIS\)"
                     % ", ".join(expected), result.stdout), result.stdout[-4000:]
