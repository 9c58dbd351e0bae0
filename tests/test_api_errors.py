"""Raising, inspecting and clearing errors; new exception types; warnings."""
import errno
import os
import warnings

import pytest

SOURCE = r"""
#include <errno.h>
#include "hpy.h"

static const char *opt_utf8(HPyContext *ctx, HPy h)
{
    if (HPy_Is(ctx, h, ctx->h_None))
        return NULL;
    return HPyUnicode_AsUTF8AndSize(ctx, h, NULL);
}

static HPy opt_handle(HPyContext *ctx, HPy h)
{
    return HPy_Is(ctx, h, ctx->h_None) ? HPy_NULL : h;
}

HPyDef_METH(set_string, "set_string", HPyFunc_VARARGS)
static HPy set_string_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPyErr_SetString(ctx, args[0], HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL));
}

HPyDef_METH(set_object, "set_object", HPyFunc_VARARGS)
static HPy set_object_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPyErr_SetObject(ctx, args[0], args[1]);
}

/* The setters return HPy_NULL; check that from C, without raising. */
HPyDef_METH(setters_return_null, "setters_return_null", HPyFunc_NOARGS)
static HPy setters_return_null_impl(HPyContext *ctx, HPy self)
{
    int all_null = 1;
    (void)self;
    all_null &= HPy_IsNull(HPyErr_SetString(ctx, ctx->h_ValueError, "x"));
    all_null &= HPy_IsNull(HPyErr_SetObject(ctx, ctx->h_ValueError, ctx->h_None));
    all_null &= HPy_IsNull(HPyErr_NoMemory(ctx));
    all_null &= HPy_IsNull(HPyErr_Format(ctx, ctx->h_ValueError, "%d", 1));
    errno = EPERM;
    all_null &= HPy_IsNull(HPyErr_SetFromErrno(ctx, ctx->h_OSError));
    HPyErr_Clear(ctx);
    return HPyBool_FromBool(ctx, all_null);
}

/* Call func(); report (error occurred, matches exc_type, still occurred after Clear). */
HPyDef_METH(inspect_error, "inspect_error", HPyFunc_VARARGS)
static HPy inspect_error_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy result, flags[4];
    int i;
    (void)self; (void)nargs;
    flags[0] = HPyLong_FromLong(ctx, HPyErr_Occurred(ctx));
    result = HPy_CallTupleDict(ctx, args[0], HPy_NULL, HPy_NULL);
    if (!HPy_IsNull(result))
        HPy_Close(ctx, result);
    flags[1] = HPyLong_FromLong(ctx, HPyErr_Occurred(ctx));
    flags[2] = HPyLong_FromLong(ctx, HPyErr_ExceptionMatches(ctx, args[1]));
    HPyErr_Clear(ctx);
    flags[3] = HPyLong_FromLong(ctx, HPyErr_Occurred(ctx));
    result = HPyTuple_FromArray(ctx, flags, 4);
    for (i = 0; i < 4; i++)
        HPy_Close(ctx, flags[i]);
    return result;
}

HPyDef_METH(no_memory, "no_memory", HPyFunc_NOARGS)
static HPy no_memory_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyErr_NoMemory(ctx);
}

HPyDef_METH(format_error, "format_error", HPyFunc_O)
static HPy format_error_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPyErr_Format(ctx, arg, "bad value %d for %s (%R)", 42, "thing", ctx->h_None);
}

HPyDef_METH(new_exception, "new_exception", HPyFunc_VARARGS)
static HPy new_exception_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPyErr_NewException(ctx, HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL),
                               opt_handle(ctx, args[1]), opt_handle(ctx, args[2]));
}

HPyDef_METH(new_exception_with_doc, "new_exception_with_doc", HPyFunc_VARARGS)
static HPy new_exception_with_doc_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    return HPyErr_NewExceptionWithDoc(ctx, HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL),
                                      opt_utf8(ctx, args[1]), opt_handle(ctx, args[2]),
                                      opt_handle(ctx, args[3]));
}

HPyDef_METH(warn, "warn", HPyFunc_VARARGS)
static HPy warn_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    if (HPyErr_WarnEx(ctx, opt_handle(ctx, args[0]), HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL),
                      HPyLong_AsSsize_t(ctx, args[2])) < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

/* args: errno value, which setter (0..3), filename1, filename2 */
HPyDef_METH(set_from_errno, "set_from_errno", HPyFunc_VARARGS)
static HPy set_from_errno_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long err = HPyLong_AsLong(ctx, args[0]);
    long which = HPyLong_AsLong(ctx, args[1]);
    HPy type = args[2];
    (void)self; (void)nargs;
    errno = (int)err;
    switch (which) {
    case 0: return HPyErr_SetFromErrno(ctx, type);
    case 1: return HPyErr_SetFromErrnoWithFilename(ctx, type, opt_utf8(ctx, args[3]));
    case 2: return HPyErr_SetFromErrnoWithFilenameObject(ctx, type, opt_handle(ctx, args[3]));
    case 3: return HPyErr_SetFromErrnoWithFilenameObjects(ctx, type, opt_handle(ctx, args[3]),
                                                          opt_handle(ctx, args[4]));
    }
    return HPyErr_SetString(ctx, ctx->h_ValueError, "unknown setter");
}

static HPyDef *module_defines[] = {
    &set_string, &set_object, &setters_return_null, &inspect_error, &no_memory, &format_error,
    &new_exception, &new_exception_with_doc, &warn, &set_from_errno, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_errors, moduledef)
"""

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_errors")
    return _built[hpy_abi]


class MyError(Exception):
    pass


def test_set_string(mod):
    with pytest.raises(ValueError) as info:
        mod.set_string(ValueError, "caf\u00e9 is closed")
    assert str(info.value) == "caf\u00e9 is closed"
    assert info.value.args == ("caf\u00e9 is closed",)
    with pytest.raises(MyError, match="custom"):
        mod.set_string(MyError, "custom")
    with pytest.raises(StopIteration):
        mod.set_string(StopIteration, "done")


def test_set_object(mod):
    with pytest.raises(ValueError) as info:
        mod.set_object(ValueError, (1, 2))
    assert info.value.args == (1, 2)
    with pytest.raises(KeyError) as info:
        mod.set_object(KeyError, "key")
    assert info.value.args == ("key",)
    instance = MyError("ready-made")
    with pytest.raises(MyError) as info:
        mod.set_object(MyError, instance)
    assert info.value is instance


def test_setters_return_null(mod):
    assert mod.setters_return_null() is True


def test_occurred_matches_clear(mod):
    def raise_key_error():
        raise KeyError("k")

    def fine():
        return 1
    # (before, after the call, matches, after Clear)
    assert mod.inspect_error(raise_key_error, KeyError) == (0, 1, 1, 0)
    assert mod.inspect_error(raise_key_error, LookupError) == (0, 1, 1, 0)
    assert mod.inspect_error(raise_key_error, (ValueError, KeyError)) == (0, 1, 1, 0)
    assert mod.inspect_error(raise_key_error, ValueError) == (0, 1, 0, 0)
    assert mod.inspect_error(fine, KeyError) == (0, 0, 0, 0)


def test_no_memory(mod):
    with pytest.raises(MemoryError):
        mod.no_memory()


def test_err_format(mod):
    with pytest.raises(ValueError, match=r"^bad value 42 for thing \(None\)$"):
        mod.format_error(ValueError)
    with pytest.raises(MyError):
        mod.format_error(MyError)


def test_new_exception(mod):
    exc = mod.new_exception("mymod.MyFailure", None, None)
    assert isinstance(exc, type) and issubclass(exc, Exception)
    assert exc.__name__ == "MyFailure"
    assert exc.__module__ == "mymod"
    assert exc.__bases__ == (Exception,)

    sub = mod.new_exception("pkg.sub.Special", ValueError, {"answer": 42})
    assert sub.__bases__ == (ValueError,)
    assert sub.__module__ == "pkg.sub" and sub.answer == 42

    multi = mod.new_exception("m.Both", (KeyError, MyError), None)
    assert multi.__bases__ == (KeyError, MyError)

    with pytest.raises(SystemError, match="name must be module.class"):
        mod.new_exception("nodot", None, None)


def test_new_exception_with_doc(mod):
    exc = mod.new_exception_with_doc("mymod.Documented", "It is documented.", None, None)
    assert exc.__doc__ == "It is documented."
    assert issubclass(exc, Exception) and exc.__module__ == "mymod"
    undocumented = mod.new_exception_with_doc("mymod.Plain", None, KeyError, {"x": 1})
    assert undocumented.__doc__ is None
    assert issubclass(undocumented, KeyError) and undocumented.x == 1
    with pytest.raises(SystemError, match="name must be module.class"):
        mod.new_exception_with_doc("nodot", "doc", None, None)


def test_warn(mod):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert mod.warn(UserWarning, "careful", 1) is None
        assert mod.warn(DeprecationWarning, "old stuff", 1) is None
        assert mod.warn(None, "default category", 1) is None
    assert [(w.category, str(w.message)) for w in caught] == [
        (UserWarning, "careful"), (DeprecationWarning, "old stuff"),
        (RuntimeWarning, "default category")]
    # stack level 1 blames this file, the caller of the C function
    assert caught[0].filename == __file__


def test_warn_as_error(mod):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="now an error"):
            mod.warn(UserWarning, "now an error", 1)


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_set_from_errno(mod, which):
    filename = "no/such/file.txt"
    args = [None, filename, filename, filename][which]
    with pytest.raises(FileNotFoundError) as info:
        mod.set_from_errno(errno.ENOENT, which, OSError, args, None)
    assert info.value.errno == errno.ENOENT
    assert info.value.strerror == os.strerror(errno.ENOENT)
    assert info.value.filename == (None if which == 0 else filename)
    assert info.value.filename2 is None


def test_set_from_errno_with_two_filenames(mod):
    with pytest.raises(PermissionError) as info:
        mod.set_from_errno(errno.EACCES, 3, OSError, "src", "dst")
    assert info.value.errno == errno.EACCES
    assert (info.value.filename, info.value.filename2) == ("src", "dst")
    assert "'src' -> 'dst'" in str(info.value)


def test_set_from_errno_keeps_the_given_type_when_not_os_error(mod):
    with pytest.raises(MyError) as info:
        mod.set_from_errno(errno.EEXIST, 0, MyError, None, None)
    assert info.value.args == (errno.EEXIST, os.strerror(errno.EEXIST))
