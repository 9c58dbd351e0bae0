"""Trace mode: call counts, durations and enter/exit functions of hpy_build.trace."""
import json
import os
import subprocess
import sys
import time

import pytest

import hpy_build.trace as trace
from hpy_build import universal
from hpy_build.api import table as api

HERE = os.path.dirname(os.path.abspath(__file__))

SOURCE = r"""
#include "hpy.h"

HPyDef_METH(add, "add", HPyFunc_VARARGS)
static HPy add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "expected exactly two args");
        return HPy_NULL;
    }
    return HPy_Add(ctx, args[0], args[1]);
}

/* A known sequence: 2 x FromInt32_t, 1 x Add, 2 x Close (5 + 6 = 11). */
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

HPyDef_METH(call, "call", HPyFunc_O)
static HPy call_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    if (!HPyCallable_Check(ctx, arg)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "expected callable");
        return HPy_NULL;
    }
    return HPy_CallTupleDict(ctx, arg, HPy_NULL, HPy_NULL);
}

/* The lock is released between the two calls: their hooks must take it back. */
HPyDef_METH(leave_and_reenter, "leave_and_reenter", HPyFunc_NOARGS)
static HPy leave_and_reenter_impl(HPyContext *ctx, HPy self)
{
    HPyThreadState state = HPy_LeavePythonExecution(ctx);
    (void)self;
    HPy_ReenterPythonExecution(ctx, state);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, ctx->name);
}

static HPyDef *defines[] = { &add, &sequence, &call, &leave_and_reenter, &ctx_name, NULL };
static HPyModuleDef moduledef = { .doc = "trace test", .defines = defines };
HPy_MODINIT(traced, moduledef)
"""

FUNCTION_NAMES = {f.ctx_name for f in api.FUNCTIONS}


@pytest.fixture(params=["universal", "hybrid"])
def trace_abi(request):
    """The ABIs whose binaries go through a context, so trace mode applies."""
    return request.param


@pytest.fixture
def binary(hpy_compiler, trace_abi, tmp_path):
    return hpy_compiler.compile(SOURCE, trace_abi, "traced", tmp_path / "traced")


@pytest.fixture
def mod(binary):
    yield universal.load("traced", binary, mode="trace")
    trace.set_trace_functions(on_enter=None, on_exit=None)


def calls_during(action):
    """The call counts that ``action()`` changed, as {name: calls}."""
    before = trace.get_call_counts()
    action()
    after = trace.get_call_counts()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def test_counters_name_every_context_function():
    counts, durations = trace.get_call_counts(), trace.get_durations()
    assert set(counts) == set(durations) == FUNCTION_NAMES  # as HPy 0.9: no handle members
    assert all(isinstance(v, int) and v >= 0 for v in list(counts.values()) + list(durations.values()))
    assert trace.get_frequency() > 0


def test_module_gets_the_trace_context(mod):
    assert mod.ctx_name() == "HPy Trace Mode ABI (hpy-build)"


def test_call_counts_are_exact(mod):
    a, b = 10 ** 30, 7
    refs = sys.getrefcount(a), sys.getrefcount(b)
    assert calls_during(lambda: mod.add(a, b)) == {"ctx_Add": 1}
    assert calls_during(lambda: [mod.add(1, 2) for _ in range(5)]) == {"ctx_Add": 5}
    assert (sys.getrefcount(a), sys.getrefcount(b)) == refs
    assert calls_during(mod.sequence) == {"ctx_Long_FromInt32_t": 2, "ctx_Add": 1, "ctx_Close": 2}
    assert mod.sequence() == 11

    def wrong_args():
        with pytest.raises(TypeError, match="expected exactly two args"):
            mod.add(1, 2, 3)
    assert calls_during(wrong_args) == {"ctx_Err_SetString": 1}


def test_universal_mode_is_not_counted(binary, mod):
    # the same file in a second mode: each module keeps its own context
    plain = universal.load("traced", binary, mode="universal")
    assert plain.ctx_name().startswith("HPy Universal ABI")
    assert mod.ctx_name() == "HPy Trace Mode ABI (hpy-build)"
    assert plain.__file__ == mod.__file__ == str(binary)
    assert calls_during(lambda: plain.add(1, 2)) == {}
    assert calls_during(lambda: mod.add(1, 2)) == {"ctx_Add": 1}


def test_durations_grow_by_the_time_spent(mod):
    before = trace.get_durations()

    def slow():
        time.sleep(0.05)
        return 123
    refs = sys.getrefcount(slow)
    assert mod.call(slow) == 123
    assert sys.getrefcount(slow) == refs
    after = trace.get_durations()
    assert after["ctx_CallTupleDict"] - before["ctx_CallTupleDict"] >= 50 * 10 ** 6  # nanoseconds
    assert after["ctx_Callable_Check"] >= before["ctx_Callable_Check"]
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= {"ctx_CallTupleDict", "ctx_Callable_Check"}
    assert all(after[name] >= before[name] for name in after)


def test_enter_and_exit_functions(mod):
    entered, exited = [], []
    trace.set_trace_functions(entered.append)
    assert mod.add(1, 2) == 3
    assert (entered, exited) == (["ctx_Add"], [])
    trace.set_trace_functions(on_exit=exited.append)  # on_enter stays
    assert mod.add(2, 3) == 5
    assert (entered, exited) == (["ctx_Add"] * 2, ["ctx_Add"])
    trace.set_trace_functions(on_enter=None)
    assert mod.sequence() == 11
    assert entered == ["ctx_Add"] * 2
    assert exited == ["ctx_Add", "ctx_Long_FromInt32_t", "ctx_Long_FromInt32_t", "ctx_Add",
                      "ctx_Close", "ctx_Close"]
    with pytest.raises(TypeError, match="Expected a callable object or None"):
        trace.set_trace_functions(1)
    with pytest.raises(TypeError):
        trace.set_trace_functions(on_exit=42)
    trace.set_trace_functions(on_exit=None)
    assert mod.add(1, 1) == 2
    assert len(exited) == 6


def test_trace_functions_keep_the_pending_error(mod):
    # on_exit of HPyErr_SetString runs while the TypeError is pending
    seen = []
    trace.set_trace_functions(on_enter=seen.append, on_exit=seen.append)
    with pytest.raises(TypeError, match="expected exactly two args"):
        mod.add(1, 2, 3)
    assert seen == ["ctx_Err_SetString", "ctx_Err_SetString"]


def test_failing_trace_function_is_unraisable(mod, monkeypatch):
    reports = []
    monkeypatch.setattr(sys, "unraisablehook", reports.append)

    def broken(name):
        raise ZeroDivisionError("in " + name)
    trace.set_trace_functions(on_enter=broken)
    assert mod.add(1, 2) == 3  # the HPy call itself goes on
    assert [str(r.exc_value) for r in reports] == ["in ctx_Add"]
    assert reports[0].object is broken


def test_trace_function_calling_traced_code_does_not_recurse(mod):
    seen = []

    def reenter(name):
        seen.append(name)
        assert mod.add(10, 20) == 30
    trace.set_trace_functions(on_enter=reenter)
    assert calls_during(lambda: mod.add(1, 2)) == {"ctx_Add": 2}
    assert seen == ["ctx_Add"]


def test_trace_functions_around_released_lock(mod):
    seen = []
    trace.set_trace_functions(on_enter=seen.append, on_exit=seen.append)
    assert mod.leave_and_reenter() is None
    assert seen == ["ctx_LeavePythonExecution"] * 2 + ["ctx_ReenterPythonExecution"] * 2 + ["ctx_Dup"] * 2


PROBE = """
import json, sys
sys.path.insert(0, %(root)r)
import hpy_build.trace as trace
from hpy_build.universal import load
mod = load("traced", %(binary)r)
before = trace.get_call_counts()
mod.sequence(); mod.add(1, 2)
after = trace.get_call_counts()
print(json.dumps([mod.ctx_name(), {k: after[k] - before[k] for k in after if after[k] != before[k]}]))
"""


@pytest.mark.parametrize("hpy_env", ["trace", "TRACE", "traced:trace", "other:debug,traced:trace"])
def test_environment_selects_trace_mode(binary, hpy_env):
    env = dict(os.environ, HPY=hpy_env, HPY_LOG="1")
    result = subprocess.run([sys.executable, "-c", PROBE % dict(root=os.path.dirname(HERE), binary=str(binary))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env)
    assert result.returncode == 0, result.stderr
    log, line = result.stdout.splitlines()
    assert log == "Loading 'traced' in HPy universal mode with a trace context"
    assert json.loads(line) == ["HPy Trace Mode ABI (hpy-build)",
                                {"ctx_Long_FromInt32_t": 2, "ctx_Add": 2, "ctx_Close": 2}]
