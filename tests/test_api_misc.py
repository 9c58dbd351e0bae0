"""Compile/eval, context variables, type queries, leaving Python."""
import builtins
import collections
import contextvars
import os
import threading
import types

import pytest


SOURCE = r"""
#include <poll.h>
#include <unistd.h>
#include "hpy.h"

/* ---- compile and eval ---- */

HPyDef_METH(compile_s, "compile_s", HPyFunc_VARARGS)
static HPy compile_s_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *source = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
    const char *filename = HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
    long kind = HPyLong_AsLong(ctx, args[2]);
    (void)self; (void)nargs;
    if (source == NULL || filename == NULL)
        return HPy_NULL;
    return HPy_Compile_s(ctx, source, filename, (HPy_SourceKind)kind);
}

HPyDef_METH(source_kinds, "source_kinds", HPyFunc_NOARGS)
static HPy source_kinds_impl(HPyContext *ctx, HPy self)
{
    HPy e = HPyLong_FromLong(ctx, HPy_SourceKind_Expr);
    HPy f = HPyLong_FromLong(ctx, HPy_SourceKind_File);
    HPy s = HPyLong_FromLong(ctx, HPy_SourceKind_Single);
    HPy result = HPyTuple_Pack(ctx, 3, e, f, s);
    (void)self;
    HPy_Close(ctx, e);
    HPy_Close(ctx, f);
    HPy_Close(ctx, s);
    return result;
}

HPyDef_METH(eval_code, "eval_code", HPyFunc_VARARGS)
static HPy eval_code_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    /* None stands for HPy_NULL: "use the globals" */
    return HPy_EvalCode(ctx, args[0], args[1], HPy_Is(ctx, args[2], ctx->h_None) ? HPy_NULL : args[2]);
}

/* ---- context variables ---- */

HPyDef_METH(cv_new, "cv_new", HPyFunc_VARARGS)
static HPy cv_new_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
    (void)self;
    if (name == NULL)
        return HPy_NULL;
    return HPyContextVar_New(ctx, name, nargs > 1 ? args[1] : HPy_NULL);
}

/* (found, value): with no value, no argument default and no variable default,
 * the result handle is NULL */
HPyDef_METH(cv_get, "cv_get", HPyFunc_VARARGS)
static HPy cv_get_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy value = HPy_NULL, result;
    (void)self;
    if (HPyContextVar_Get(ctx, args[0], nargs > 1 ? args[1] : HPy_NULL, &value) < 0)
        return HPy_NULL;
    if (HPy_IsNull(value))
        return HPyTuple_Pack(ctx, 2, ctx->h_False, ctx->h_None);
    result = HPyTuple_Pack(ctx, 2, ctx->h_True, value);
    HPy_Close(ctx, value);
    return result;
}

/* on error, the result handle is HPy_NULL, never left as it was */
HPyDef_METH(cv_get_error_result, "cv_get_error_result", HPyFunc_O)
static HPy cv_get_error_result_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy value = ctx->h_True;
    (void)self;
    if (HPyContextVar_Get(ctx, arg, HPy_NULL, &value) != -1)
        return HPyErr_SetString(ctx, ctx->h_AssertionError, "no error");
    HPyErr_Clear(ctx);
    return HPyBool_FromLong(ctx, HPy_IsNull(value));
}

HPyDef_METH(cv_set, "cv_set", HPyFunc_VARARGS)
static HPy cv_set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPyContextVar_Set(ctx, args[0], args[1]);
}

/* ---- types ---- */

HPyDef_METH(is_subtype, "is_subtype", HPyFunc_VARARGS)
static HPy is_subtype_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPyLong_FromLong(ctx, HPyType_IsSubtype(ctx, args[0], args[1]));
}

HPyDef_METH(type_name, "type_name", HPyFunc_O)
static HPy type_name_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *name = HPyType_GetName(ctx, arg);
    (void)self;
    if (name == NULL)
        return HPy_NULL;
    return HPyUnicode_FromString(ctx, name);
}

/* ---- leaving Python ---- */

/* Write a byte to signal_fd, then wait up to 30 s outside Python for wait_fd to
 * become readable. A Python thread can only answer if the GIL was released. */
HPyDef_METH(wait_outside_python, "wait_outside_python", HPyFunc_VARARGS)
static HPy wait_outside_python_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    int signal_fd = (int)HPyLong_AsLong(ctx, args[0]);
    struct pollfd wait = { .fd = (int)HPyLong_AsLong(ctx, args[1]), .events = POLLIN };
    int use_macros = HPy_IsTrue(ctx, args[2]);
    int ready;
    char byte = 'x';
    HPyThreadState state;
    (void)self; (void)nargs;
    if (HPyErr_Occurred(ctx))
        return HPy_NULL;
    if (write(signal_fd, &byte, 1) != 1)
        return HPyErr_SetFromErrno(ctx, ctx->h_OSError);
    if (use_macros) {
        HPy_BEGIN_LEAVE_PYTHON(ctx)
        ready = poll(&wait, 1, 30000);
        HPy_END_LEAVE_PYTHON(ctx)
    }
    else {
        state = HPy_LeavePythonExecution(ctx);
        ready = poll(&wait, 1, 30000);
        HPy_ReenterPythonExecution(ctx, state);
    }
    return HPyLong_FromLong(ctx, ready);
}

static HPyDef *module_defines[] = {
    &compile_s, &source_kinds, &eval_code, &cv_new, &cv_get, &cv_get_error_result, &cv_set, &is_subtype, &type_name,
    &wait_outside_python, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_misc, moduledef)
"""

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_misc")
    return _built[hpy_abi]


# ---- compile and eval ---------------------------------------------------------

def test_compile_and_eval_expression(mod):
    expr, _, _ = mod.source_kinds()
    code = mod.compile_s("len('abc') + 1", "<my expr>", expr)
    assert isinstance(code, types.CodeType)
    assert code.co_filename == "<my expr>"
    # before 3.10 EvalCode does not add __builtins__ to bare globals
    assert mod.eval_code(code, {"__builtins__": builtins}, {}) == 4
    code = mod.compile_s("x * y", "<e>", expr)
    assert mod.eval_code(code, {"x": 6}, {"y": 7}) == 42


def test_compile_and_eval_file(mod):
    _, file_kind, _ = mod.source_kinds()
    code = mod.compile_s("x = 5\ndef f():\n    return x * 2\ny = f()\n", "prog.py", file_kind)
    namespace = {}
    assert mod.eval_code(code, namespace, namespace) is None
    assert namespace["y"] == 10 and namespace["f"]() == 10
    # separate locals receive the assignments
    globals_, locals_ = {}, {}
    mod.eval_code(mod.compile_s("z = 1", "p.py", file_kind), globals_, locals_)
    assert locals_ == {"z": 1} and "z" not in globals_


def test_compile_single_prints_expression_values(mod, capsys):
    _, _, single = mod.source_kinds()
    code = mod.compile_s("6 * 7", "<single>", single)
    assert mod.eval_code(code, {}, {}) is None
    assert capsys.readouterr().out == "42\n"


def test_compile_errors(mod):
    expr, file_kind, _ = mod.source_kinds()
    with pytest.raises(SyntaxError) as info:
        mod.compile_s("1 +", "bad.py", expr)
    assert info.value.filename == "bad.py"
    with pytest.raises(SyntaxError):
        mod.compile_s("x = 1", "<e>", expr)  # a statement is no expression
    with pytest.raises(SystemError, match=r"^invalid source kind \(HPy_Compile_s got 99,"):
        mod.compile_s("1", "<e>", 99)
    code = mod.compile_s("1 / 0", "div.py", file_kind)
    with pytest.raises(ZeroDivisionError):
        mod.eval_code(code, {}, {})


def test_eval_code_null_locals_are_the_globals(mod):
    _, file_kind, _ = mod.source_kinds()
    namespace = {}
    assert mod.eval_code(mod.compile_s("a = 3", "p.py", file_kind), namespace, None) is None
    assert namespace["a"] == 3


def test_eval_code_checks_its_arguments(mod):
    expr, _, _ = mod.source_kinds()
    code = mod.compile_s("1", "<e>", expr)
    with pytest.raises(TypeError, match=r"^HPy_EvalCode\(\) arg 1 must be a code object, not str$"):
        mod.eval_code("1 + 1", {}, {})
    with pytest.raises(TypeError, match="^globals must be a dict, not list$"):
        mod.eval_code(code, [], {})
    with pytest.raises(TypeError, match="^locals must be a mapping, not int$"):
        mod.eval_code(code, {}, 5)
    # any mapping will do for locals
    assert mod.eval_code(mod.compile_s("x", "<e>", expr), {}, collections.ChainMap({"x": 7})) == 7


# ---- context variables --------------------------------------------------------

def test_context_var_new(mod):
    var = mod.cv_new("my_var")
    assert isinstance(var, contextvars.ContextVar)
    assert var.name == "my_var"
    with pytest.raises(LookupError):
        var.get()
    assert mod.cv_new("with_default", 5).get() == 5


def test_context_var_get_and_set(mod):
    def body():
        var = mod.cv_new("v")
        assert mod.cv_get(var) == (False, None)
        assert mod.cv_get(var, "arg default") == (True, "arg default")
        token = mod.cv_set(var, "value")
        assert isinstance(token, contextvars.Token) and token.var is var
        assert var.get() == "value"
        assert mod.cv_get(var) == (True, "value")
        assert mod.cv_get(var, "arg default") == (True, "value")
        var.reset(token)
        assert mod.cv_get(var) == (False, None)

        with_default = mod.cv_new("d", "var default")
        assert mod.cv_get(with_default) == (True, "var default")
        assert mod.cv_get(with_default, "arg default") == (True, "arg default")
        return var

    var = contextvars.copy_context().run(body)
    # set inside a copied context: not visible outside it
    assert mod.cv_get(var) == (False, None)


def test_context_var_errors(mod):
    with pytest.raises(TypeError, match="an instance of ContextVar was expected"):
        mod.cv_get("not a var")
    with pytest.raises(TypeError, match="an instance of ContextVar was expected"):
        mod.cv_set(42, 1)
    assert mod.cv_get_error_result("not a var") is True


# ---- types --------------------------------------------------------------------

def test_type_is_subtype(mod):
    class Base:
        pass

    class Sub(Base):
        pass
    assert mod.is_subtype(bool, int) == 1
    assert mod.is_subtype(int, bool) == 0
    assert mod.is_subtype(Sub, Base) == 1
    assert mod.is_subtype(Base, Sub) == 0
    assert mod.is_subtype(int, object) == 1
    assert mod.is_subtype(int, int) == 1
    assert mod.is_subtype(collections.OrderedDict, dict) == 1


def test_type_get_name(mod):
    class Local:
        pass
    assert mod.type_name(int) == "int"
    assert mod.type_name(str) == "str"
    assert mod.type_name(Local) == "Local"
    # like __name__: no module prefix, as in HPy 0.9
    assert mod.type_name(collections.OrderedDict) == "OrderedDict"
    assert mod.type_name(types.SimpleNamespace) == "SimpleNamespace"


# ---- leaving Python -----------------------------------------------------------

@pytest.mark.parametrize("use_macros", [False, True], ids=["functions", "macros"])
def test_leave_python_execution_releases_the_gil(mod, use_macros):
    to_thread_r, to_thread_w = os.pipe()
    to_c_r, to_c_w = os.pipe()

    def answer():
        # os.read blocks without the GIL, but needs it back to return
        os.read(to_thread_r, 1)
        os.write(to_c_w, b"y")

    thread = threading.Thread(target=answer)
    thread.start()
    try:
        assert mod.wait_outside_python(to_thread_w, to_c_r, use_macros) == 1
    finally:
        thread.join()
        for fd in (to_thread_r, to_thread_w, to_c_r, to_c_w):
            os.close(fd)
    # back in Python: the API works again
    assert mod.type_name(int) == "int"
