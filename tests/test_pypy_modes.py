"""Debug and trace mode on the cffi runtime (hpy_build/runtime/pypy): on
CPython with runtime="cffi", and on PyPy in its venv (the fixture of
test_pypy_runtime.py). The C runtime's modes are tested in test_trace.py and
test_debug_*.py."""
import os
import re
import subprocess
import sys

import pytest

from hpy_build import universal

pytest.importorskip("hpy_build.runtime.pypy", reason="the cffi runtime is not built")
import hpy_build.debug as debug  # noqa: E402
import hpy_build.trace as trace  # noqa: E402
from test_pypy_runtime import PYPY, needs_pypy, pypy_venv  # noqa: E402,F401  (fixture)
from buildtools import run  # noqa: E402

SOURCE = r"""
#include "hpy.h"

HPyDef_METH(add, "add", HPyFunc_O)
static HPy add_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_Add(ctx, arg, arg);
}

/* 2 x FromInt32_t, 1 x Add, 2 x Close */
HPyDef_METH(sequence, "sequence", HPyFunc_NOARGS)
static HPy sequence_impl(HPyContext *ctx, HPy self)
{
    HPy a = HPyLong_FromInt32_t(ctx, 5), b = HPyLong_FromInt32_t(ctx, 6), r;
    (void)self;
    r = HPy_Add(ctx, a, b);
    HPy_Close(ctx, a);
    HPy_Close(ctx, b);
    return r;
}

HPyDef_METH(leak, "leak", HPyFunc_O)
static HPy leak_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy_Dup(ctx, arg);  /* LEAK */
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(use_closed, "use_closed", HPyFunc_O)
static HPy use_closed_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy h = HPy_Add(ctx, arg, arg);
    (void)self;
    HPy_Close(ctx, h);
    return HPy_Add(ctx, h, arg);  /* MISTAKE */
}

HPyDef_METH(close_twice, "close_twice", HPyFunc_NOARGS)
static HPy close_twice_impl(HPyContext *ctx, HPy self)
{
    HPy h = HPyLong_FromLong(ctx, 12345);
    (void)self;
    HPy_Close(ctx, h);
    HPy_Close(ctx, h);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, ctx->name);
}

static HPyDef *defines[] = { &add, &sequence, &leak, &use_closed, &close_twice, &ctx_name,
                             NULL };
static HPyModuleDef moduledef = { .doc = "modes on the cffi runtime", .defines = defines };
HPy_MODINIT(moded, moduledef)
"""


def line_of(marker):
    for number, text in enumerate(SOURCE.splitlines(), 1):
        if "/* %s */" % marker in text:
            return number
    raise AssertionError(marker)


@pytest.fixture(scope="module")
def binary(hpy_compiler, tmp_path_factory):
    return hpy_compiler.compile(SOURCE, "universal", "moded", tmp_path_factory.mktemp("moded"))


def calls_during(action):
    before = trace.get_call_counts()
    action()
    after = trace.get_call_counts()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def test_trace_counts_are_exact(binary):
    mod = universal.load("moded", binary, mode="trace", runtime="cffi")
    assert type(mod.add).__name__ == "function"  # the cffi runtime made it
    assert mod.ctx_name() == "HPy Trace Mode ABI (hpy-build)"
    a = 10 ** 30
    refs = sys.getrefcount(a)
    assert calls_during(lambda: mod.add(a)) == {"ctx_Add": 1}
    assert sys.getrefcount(a) == refs
    assert calls_during(mod.sequence) == {"ctx_Long_FromInt32_t": 2, "ctx_Add": 1, "ctx_Close": 2}
    seen = []
    trace.set_trace_functions(on_enter=seen.append)
    try:
        assert mod.add(4) == 8
    finally:
        trace.set_trace_functions(on_enter=None)
    assert seen == ["ctx_Add"]
    # a universal module of the same binary is not counted
    plain = universal.load("moded", binary, mode="universal", runtime="cffi")
    assert plain.ctx_name().startswith("HPy Universal ABI")
    assert calls_during(lambda: plain.add(1)) == {}


def test_debug_reports_a_leak_with_its_c_line(binary):
    mod = universal.load("moded", binary, mode="debug", runtime="cffi")
    assert mod.ctx_name() == "HPy Debug Mode ABI (hpy-build)"
    assert mod.add(21) == 42 and mod.sequence() == 11
    obj = object()
    refs = sys.getrefcount(obj)
    with debug.LeakDetector():
        assert mod.add(3) == 6  # arguments and results are not leaks
    with pytest.raises(debug.HPyLeakError) as info:
        with debug.LeakDetector():
            mod.leak(obj)
    leaks = info.value.leaks
    assert len(leaks) == 1 and leaks[0].obj is obj
    assert leaks[0].site.startswith("moded.c:%d in leak_impl" % line_of("LEAK")), leaks[0].site
    del leaks, info
    # the leaked handle stays open: it keeps its one reference, no more
    assert sys.getrefcount(obj) == refs + 1


def test_debug_callback_replaces_the_fatal_error(binary):
    mod = universal.load("moded", binary, mode="debug", runtime="cffi")
    seen = []
    debug.set_on_invalid_handle(lambda: seen.append(1))
    try:
        assert mod.close_twice() is None
    finally:
        debug.set_on_invalid_handle(None)
    assert seen == [1]
    closed = debug.get_closed_handles()
    assert closed and closed[-1].is_closed and closed[-1].obj is None


def test_debug_catches_a_closed_handle(binary, tmp_path):
    code = ("import sys; sys.path[:0] = [%r]\n"
            "from hpy_build import universal\n"
            "mod = universal.load('moded', %r, mode='debug', runtime='cffi')\n"
            "mod.use_closed(20)\n" % (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                      str(binary)))
    result = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Invalid usage of already closed handle: HPy_Add got <DebugHandle 0x" in result.stderr, \
        result.stderr
    assert "moded.c:%d in use_closed_impl" % line_of("MISTAKE") in result.stderr, result.stderr


PYPY_PROBE = r"""
import sys
from hpy_build import universal
import hpy_build.debug as debug, hpy_build.trace as trace
t = universal.load("moded", sys.argv[1], mode="trace")
before = trace.get_call_counts()
assert t.sequence() == 11
after = trace.get_call_counts()
print(sorted((k, after[k] - before[k]) for k in after if after[k] != before[k]))
d = universal.load("moded", sys.argv[1], mode="debug")
obj = object()
try:
    with debug.LeakDetector():
        d.leak(obj)
except debug.HPyLeakError as e:
    print(len(e.leaks), e.leaks[0].obj is obj, e.leaks[0].site)
if sys.argv[2:] == ["closed"]:
    d.use_closed(20)
"""


@needs_pypy
def test_modes_in_the_pypy_venv(pypy_venv, binary, tmp_path):  # noqa: F811
    probe = tmp_path / "probe.py"
    probe.write_text(PYPY_PROBE)
    out = run([pypy_venv, str(probe), str(binary)], cwd=tmp_path).stdout.splitlines()
    assert out[0] == "[('ctx_Add', 1), ('ctx_Close', 2), ('ctx_Long_FromInt32_t', 2)]", out
    assert out[1].startswith("1 True moded.c:%d in leak_impl" % line_of("LEAK")), out
    result = run([pypy_venv, str(probe), str(binary), "closed"], cwd=tmp_path, check=False)
    assert result.returncode != 0, result.stdout  # stdout: with stderr here
    assert "Invalid usage of already closed handle: HPy_Add got <DebugHandle 0x" in result.stdout
    assert "moded.c:%d in use_closed_impl" % line_of("MISTAKE") in result.stdout, result.stdout


@pytest.mark.parametrize("mode", ["debug", "trace"])
def test_api_tests_pass_in_each_mode(mode, tmp_path):
    """Every HPyFunc signature the API tests use, called by the cffi runtime
    through the mode's context (the debug layer's thunks in debug mode)."""
    files = ["test_api_containers.py", "test_api_calls.py", "test_api_module.py",
             "test_api_errors.py", "test_api_strings.py"]
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--basetemp",
         str(tmp_path / "base"), "-k", "universal and not test_warn"]
        + [os.path.join(here, f) for f in files],
        cwd=os.path.dirname(here), env=dict(os.environ, HPY_BUILD_RUNTIME="cffi", HPY=mode,
                                            HPY_LOG="1"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-6000:]
    assert int(re.search(r"(\d+) passed", summary).group(1)) > 100, summary
    # every module really was loaded in the mode
    loads = result.stdout.count("Loading '")
    assert loads >= len(files)
    assert result.stdout.count("in HPy universal mode with a %s context" % mode) == loads


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the C runtime needs CPython")
def test_each_runtime_keeps_its_own_context(binary):
    # one file, both runtimes, both in trace mode: a second mapping for the second runtime
    c = universal.load("moded", binary, mode="trace", runtime="c")
    cffi = universal.load("moded", binary, mode="trace", runtime="cffi")
    assert type(c.add).__name__ == "builtin_function_or_method"
    assert c.ctx_name() == cffi.ctx_name() == "HPy Trace Mode ABI (hpy-build)"
    assert c.add(2) == cffi.add(2) == 4
    # hpy_build.trace reads the runtime that loaded last
    assert calls_during(lambda: cffi.add(1)) == {"ctx_Add": 1}
    assert calls_during(lambda: c.add(1)) == {}


def test_hpy_universal_trace_is_the_loading_runtimes(binary):
    import hpy.universal
    universal.load("moded", binary, mode="trace", runtime="cffi")
    from hpy_build.runtime.pypy import modes
    assert hpy.universal._trace is modes._trace
