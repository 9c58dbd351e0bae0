"""Python callables that call an extension's C functions through their
``impl`` pointers (one cffi helper per HPyFunc signature, no trampolines).

Arguments get fresh handles closed after the call; a C error value raises
the current HPy error, as CPython does for a C function.
"""
import sys

from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy import errors
from hpy_build.runtime.pypy.handles import objects as _o, new as _new, close_pinned as _close, \
    new_instance as _new_inst, new_arg as _new_arg, nmade as _nmade, settle, \
    unsettled as _unsettled, refs as _refs, N_SLOTS as _N_SLOTS, take_made as _take_made

_local = errors._local


# On CPython, closing frees at once, as the C runtime does (refcounts stay
# exact); on PyPy nothing is freed at a known time anyway, so the queue of
# closed handles is flushed only when full: one callback per 256 closes.
if sys.implementation.name == "cpython":
    _flush = lib._hpy_pypy_flush_if_pending
else:
    def _flush():
        pass


@ffi.def_extern(name="_hpy_pypy_flush_closes", onerror=errors.onerror)
def _flush_closes(queue, n):
    # copied first: a close may run code that closes (and queues) again
    for h in ffi.unpack(queue, n):
        _close(h)


def result(r, what):
    """The object of the handle a C function returned (closing the handle)."""
    made = _nmade[0] and 0 < r < _N_SLOTS and _unsettled[r] and not _refs[r]
    if made:
        obj = _take_made(r)  # a float made in C for its result: never in the table
    elif _nmade[0]:
        settle()
    _flush()
    if not made:
        if r == 0:
            errors.raise_pending(what)
        obj = _o[r]
        _close(r)
    if getattr(_local, "exc", None) is not None:
        raise SystemError("%s returned a result with an exception set" % what) from errors.take()
    return obj


def status(r, what):
    """For C functions returning an int status: -1 (with an error) raises."""
    if _nmade[0]:
        settle()
    _flush()
    if r == -1 and getattr(_local, "exc", None) is not None:
        errors.raise_pending(what)
    return r


# Argument arrays live on a stack (calls nest, and release in reverse order).
# The small cases are spelled out: on PyPy, a 2-iteration inner loop costs
# the JIT more than the whole call.
_STACK = 1 << 14
_stack = ffi.new("intptr_t[%d]" % _STACK)
_top = [0]


def handles(values):
    """(C array of new handles to ``values``, whether it is on the stack):
    give both back to release."""
    n = len(values)
    top = _top[0]
    if top + n > _STACK:  # very deep nesting: an array of its own
        arr = ffi.new("intptr_t[]", n or 1)
        for i in range(n):
            arr[i] = _new_arg(values[i])
        return arr, False
    s = _stack
    if n == 1:
        s[top] = _new_arg(values[0])
    elif n == 2:
        s[top] = _new_arg(values[0])
        s[top + 1] = _new_arg(values[1])
    elif n == 3:
        s[top] = _new_arg(values[0])
        s[top + 1] = _new_arg(values[1])
        s[top + 2] = _new_arg(values[2])
    elif n:
        for i in range(n):
            s[top + i] = _new_arg(values[i])
    _top[0] = top + n
    return s + top, True


def release(arr, n, on_stack):
    if n == 1:
        _close(arr[0])
    elif n == 2:
        _close(arr[0])
        _close(arr[1])
    elif n == 3:
        _close(arr[0])
        _close(arr[1])
        _close(arr[2])
    elif n:
        for i in range(n):
            _close(arr[i])
    if on_stack:
        _top[0] -= n


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
    impl = ffi.cast("void *", impl)  # the helpers take void *: no conversion per call
    if sig == 3:  # NOARGS
        call = lib._hpy_call_NOARGS
        if self_handle is not None:
            def f():
                return result(call(impl, self_handle), what)
        else:
            def f(self):
                h = _new_inst(self)
                try:
                    return result(call(impl, h), what)
                finally:
                    _close(h)
    elif sig == 4:  # O
        call = lib._hpy_call_O
        if self_handle is not None:
            def f(arg):
                a = _new_arg(arg)
                try:
                    return result(call(impl, self_handle, a), what)
                finally:
                    _close(a)
        else:
            def f(self, arg):
                h = _new_inst(self)
                a = _new_arg(arg)
                try:
                    return result(call(impl, h, a), what)
                finally:
                    _close(a)
                    _close(h)
    elif sig == 1:  # VARARGS
        call = lib._hpy_call_VARARGS

        def varargs(self_h, args):
            arr, on_stack = handles(args)
            try:
                return result(call(impl, self_h, arr, len(args)), what)
            finally:
                release(arr, len(args), on_stack)
        if self_handle is not None:
            def f(*args):
                return varargs(self_handle, args)
        else:
            def f(self, *args):
                h = _new_inst(self)
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
                h = _new_inst(self)
                try:
                    return keywords(h, args, kw)
                finally:
                    _close(h)
    else:
        raise SystemError("unsupported HPyFunc_Signature %d for method %s" % (sig, name))
    return _named(f, name, doc, qualname)


def call_keywords(impl, self_h, args, kw, what):
    """Call a HPyFunc_KEYWORDS impl: positional values then keyword values, and their names."""
    if kw:
        names = tuple(kw)
        values = list(args) + [kw[k] for k in names]
        kwh = _new(names)
    else:
        values, kwh = args, 0
    arr, on_stack = handles(values)
    try:
        return result(lib._hpy_call_KEYWORDS(impl, self_h, arr, len(args), kwh), what)
    finally:
        release(arr, len(values), on_stack)
        if kwh:
            _close(kwh)


def call_handles(helper, impl, what, *objs):
    """Call a positional-signature impl with handles to ``objs``; plain ints pass through."""
    hs = [_new(o) for o in objs]
    try:
        return helper(impl, *hs)
    finally:
        if _nmade[0]:
            settle()
        close_all(hs)
