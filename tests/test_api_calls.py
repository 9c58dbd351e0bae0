"""Calling Python from C: tuple/dict calls, vectorcall-style calls, methods."""

import pytest

from support import message, refcount

SOURCE = r"""
#include "hpy.h"

static HPy opt_handle(HPyContext *ctx, HPy h)
{
    return HPy_Is(ctx, h, ctx->h_None) ? HPy_NULL : h;
}

/* call_tuple_dict(callable, args or None, kw or None) */
HPyDef_METH(call_tuple_dict, "call_tuple_dict", HPyFunc_VARARGS)
static HPy call_tuple_dict_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPy_CallTupleDict(ctx, args[0], opt_handle(ctx, args[1]), opt_handle(ctx, args[2]));
}

/* call(callable, *args, **kw): forwards the vectorcall arguments unchanged */
HPyDef_METH(call, "call", HPyFunc_KEYWORDS)
static HPy call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    if (nargs < 1)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "call needs a callable");
    return HPy_Call(ctx, args[0], args + 1, nargs - 1, kwnames);
}

/* call_method(name, receiver, *args, **kw) */
HPyDef_METH(call_method, "call_method", HPyFunc_KEYWORDS)
static HPy call_method_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    if (nargs < 2)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "call_method needs a name and a receiver");
    return HPy_CallMethod(ctx, args[0], args + 1, nargs - 1, kwnames);
}

/* call_method_tuple_dict(name, receiver, args or None, kw or None) */
HPyDef_METH(call_method_tuple_dict, "call_method_tuple_dict", HPyFunc_VARARGS)
static HPy call_method_tuple_dict_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPy_CallMethodTupleDict(ctx, args[0], args[1], opt_handle(ctx, args[2]),
                                   opt_handle(ctx, args[3]));
}

HPyDef_METH(call_method_tuple_dict_s, "call_method_tuple_dict_s", HPyFunc_VARARGS)
static HPy call_method_tuple_dict_s_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
    (void)self; (void)nargs;
    if (name == NULL)
        return HPy_NULL;
    return HPy_CallMethodTupleDict_s(ctx, name, args[1], opt_handle(ctx, args[2]),
                                     opt_handle(ctx, args[3]));
}

/* HPy_Call with keywords built in C: f(1, 2, x=3) */
HPyDef_METH(call_with_c_kwnames, "call_with_c_kwnames", HPyFunc_O)
static HPy call_with_c_kwnames_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy items[3], name, kwnames, result;
    int i;
    (void)self;
    for (i = 0; i < 3; i++)
        items[i] = HPyLong_FromLong(ctx, i + 1);
    name = HPyUnicode_FromString(ctx, "x");
    kwnames = HPyTuple_Pack(ctx, 1, name);
    result = HPy_Call(ctx, arg, items, 2, kwnames);
    for (i = 0; i < 3; i++)
        HPy_Close(ctx, items[i]);
    HPy_Close(ctx, name);
    HPy_Close(ctx, kwnames);
    return result;
}

HPyDef_METH(callable_check, "callable_check", HPyFunc_O)
static HPy callable_check_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPyLong_FromLong(ctx, HPyCallable_Check(ctx, arg));
}

static HPyDef *module_defines[] = {
    &call_tuple_dict, &call, &call_method, &call_method_tuple_dict, &call_method_tuple_dict_s,
    &call_with_c_kwnames, &callable_check, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_calls, moduledef)
"""

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_calls")
    return _built[hpy_abi]


def echo(*args, **kw):
    return args, kw


class Receiver:
    def method(self, *args, **kw):
        return self, args, kw


def test_call_tuple_dict(mod):
    assert mod.call_tuple_dict(echo, None, None) == ((), {})
    assert mod.call_tuple_dict(echo, (1, 2), None) == ((1, 2), {})
    assert mod.call_tuple_dict(echo, None, {"a": 1}) == ((), {"a": 1})
    assert mod.call_tuple_dict(echo, (1,), {"a": 1, "b": 2}) == ((1,), {"a": 1, "b": 2})
    assert mod.call_tuple_dict(len, ("abc",), None) == 3
    assert mod.call_tuple_dict(dict, None, {"k": "v"}) == {"k": "v"}


def test_call_tuple_dict_type_errors(mod):
    with pytest.raises(TypeError, match="HPy_CallTupleDict requires args to be a tuple or null handle"):
        mod.call_tuple_dict(echo, [1, 2], None)
    with pytest.raises(TypeError, match="HPy_CallTupleDict requires kw to be a dict or null handle"):
        mod.call_tuple_dict(echo, (), [("a", 1)])
    with pytest.raises(TypeError, match="'int' object is not callable"):
        mod.call_tuple_dict(5, None, None)
    with pytest.raises(TypeError, match=message("takes no keyword arguments")):
        mod.call_tuple_dict(len, ("abc",), {"x": 1})


def test_call_tuple_dict_propagates_errors(mod):
    def fail(*args):
        raise ZeroDivisionError("from python")
    with pytest.raises(ZeroDivisionError, match="from python"):
        mod.call_tuple_dict(fail, (1,), None)


def test_call_with_kwnames(mod):
    assert mod.call(echo) == ((), {})
    assert mod.call(echo, 1, "two") == ((1, "two"), {})
    assert mod.call(echo, 1, a=2, b=3) == ((1,), {"a": 2, "b": 3})
    assert mod.call(echo, a=2) == ((), {"a": 2})
    assert mod.call(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]
    assert mod.call_with_c_kwnames(echo) == ((1, 2), {"x": 3})
    with pytest.raises(TypeError, match="'int' object is not callable"):
        mod.call(5, 1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        mod.call(lambda a: a, 1, nope=1)


def test_call_is_refcount_neutral(mod):
    arg = object()
    before = refcount(arg)
    for _ in range(1000):
        mod.call(echo, arg, k=arg)
        mod.call_tuple_dict(echo, (arg,), {"k": arg})
    assert refcount(arg) == before


def test_call_method(mod):
    receiver = Receiver()
    assert mod.call_method("method", receiver) == (receiver, (), {})
    assert mod.call_method("method", receiver, 1, 2, k=3) == (receiver, (1, 2), {"k": 3})
    assert mod.call_method("split", "a,b,c", ",") == ["a", "b", "c"]
    assert mod.call_method("format", "{x}-{0}", 1, x="y") == "y-1"
    with pytest.raises(AttributeError, match="no_such_method"):
        mod.call_method("no_such_method", receiver)
    with pytest.raises(TypeError):
        mod.call_method("split", "a,b", 1)


@pytest.mark.parametrize("func", ["call_method_tuple_dict", "call_method_tuple_dict_s"])
def test_call_method_tuple_dict(mod, func):
    call = getattr(mod, func)
    receiver = Receiver()
    assert call("method", receiver, None, None) == (receiver, (), {})
    assert call("method", receiver, (1,), {"k": 2}) == (receiver, (1,), {"k": 2})
    assert call("upper", "abc", None, None) == "ABC"
    with pytest.raises(AttributeError, match="missing"):
        call("missing", receiver, None, None)
    with pytest.raises(TypeError, match="args to be a tuple"):
        call("method", receiver, [1], None)


def test_callable_check(mod):
    class WithCall:
        def __call__(self):
            pass
    for value in [len, echo, Receiver, Receiver().method, WithCall(), type, lambda: 0]:
        assert mod.callable_check(value) == 1, value
    for value in [1, "len", None, Receiver(), [echo]]:
        assert mod.callable_check(value) == 0, value
