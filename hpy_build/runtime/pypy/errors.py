"""The current HPy error: one per runtime (the error indicator of HPy 0.9).

A Python exception raised inside a context callback is stored here by the
callback's onerror handler; a C function returning its error value then
raises it to the Python caller.
"""
import threading

from hpy_build._hpy_cffi import lib

_local = threading.local()
# every change of _local.exc goes through here and tells the C part
# (HPyErr_Occurred is answered there)
_set_err = lib._hpy_pypy_set_err


def current():
    return getattr(_local, "exc", None)


def set_exc(exc):
    _local.exc = exc
    _set_err(exc is not None)


def clear():
    _local.exc = None
    _set_err(0)


def onerror(exc_type, exc_value, tb):
    """cffi onerror: a callback raised; keep the exception as the HPy error."""
    if exc_value is None:
        exc_value = exc_type()
    if tb is not None and exc_value.__traceback__ is None:
        exc_value = exc_value.with_traceback(tb)
    _local.exc = exc_value
    _set_err(1)


def take():
    exc = getattr(_local, "exc", None)
    _local.exc = None
    _set_err(0)
    return exc


def raise_pending(what):
    """After a C function returned its error value: raise the HPy error."""
    exc = take()
    if exc is None:
        raise SystemError("%s returned NULL without setting an exception" % what)
    try:
        raise exc
    finally:
        exc = None  # no cycle exception -> traceback -> this frame -> exception
