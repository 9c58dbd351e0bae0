"""Python callables that call an extension's C functions through their
``impl`` pointers (one cffi helper per HPyFunc signature, no trampolines).

Arguments get fresh handles closed after the call; a C error value raises
the current HPy error, as CPython does for a C function.
"""
from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy import errors
from hpy_build.runtime.pypy.handles import objects as _o, new as _new, close_pinned as _close

_local = errors._local


def result(r, what):
    """The object of the handle a C function returned (closing the handle)."""
    if r == 0:
        errors.raise_pending(what)
    obj = _o[r]
    _close(r)
    if getattr(_local, "exc", None) is not None:
        raise SystemError("%s returned a result with an exception set" % what) from errors.take()
    return obj


def status(r, what):
    """For C functions returning an int status: -1 (with an error) raises."""
    if r == -1 and getattr(_local, "exc", None) is not None:
        errors.raise_pending(what)
    return r


def handles(values):
    """(C array, list of handles) for a sequence of objects."""
    hs = [_new(v) for v in values]
    return ffi.new("intptr_t[]", hs), hs


def close_all(hs):
    for h in hs:
        _close(h)


def _named(f, name, doc, qualname=None):
    f.__name__ = name
    f.__qualname__ = qualname or name
    f.__doc__ = doc
    return f


def method(sig, impl, name, doc, qualname=None, self_handle=None):
    """A function for an HPyDef_METH; ``self_handle`` binds a module's methods."""
    what = "<built-in method %s>" % name
    if sig == 3:  # NOARGS
        call = lib._hpy_call_NOARGS
        if self_handle is not None:
            def f():
                return result(call(impl, self_handle), what)
        else:
            def f(self):
                h = _new(self)
                try:
                    return result(call(impl, h), what)
                finally:
                    _close(h)
    elif sig == 4:  # O
        call = lib._hpy_call_O
        if self_handle is not None:
            def f(arg):
                a = _new(arg)
                try:
                    return result(call(impl, self_handle, a), what)
                finally:
                    _close(a)
        else:
            def f(self, arg):
                h = _new(self)
                a = _new(arg)
                try:
                    return result(call(impl, h, a), what)
                finally:
                    _close(a)
                    _close(h)
    elif sig == 1:  # VARARGS
        call = lib._hpy_call_VARARGS

        def varargs(self_h, args):
            arr, hs = handles(args)
            try:
                return result(call(impl, self_h, arr, len(hs)), what)
            finally:
                close_all(hs)
        if self_handle is not None:
            def f(*args):
                return varargs(self_handle, args)
        else:
            def f(self, *args):
                h = _new(self)
                try:
                    return varargs(h, args)
                finally:
                    _close(h)
    elif sig == 2:  # KEYWORDS
        def keywords(self_h, args, kw):
            return call_keywords(impl, self_h, args, kw, what)
        if self_handle is not None:
            def f(*args, **kw):
                return keywords(self_handle, args, kw)
        else:
            def f(self, *args, **kw):
                h = _new(self)
                try:
                    return keywords(h, args, kw)
                finally:
                    _close(h)
    else:
        raise SystemError("unsupported HPyFunc_Signature %d for method %s" % (sig, name))
    return _named(f, name, doc, qualname)


def call_keywords(impl, self_h, args, kw, what):
    """Call a HPyFunc_KEYWORDS impl: positional values then keyword values, and their names."""
    names = tuple(kw)
    arr, hs = handles(list(args) + [kw[k] for k in names])
    kwh = _new(names) if names else 0
    try:
        return result(lib._hpy_call_KEYWORDS(impl, self_h, arr, len(args), kwh), what)
    finally:
        close_all(hs)
        if kwh:
            _close(kwh)


def call_handles(helper, impl, what, *objs):
    """Call a positional-signature impl with handles to ``objs``; plain ints pass through."""
    hs = [_new(o) for o in objs]
    try:
        return helper(impl, *hs)
    finally:
        close_all(hs)
