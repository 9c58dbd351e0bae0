"""The HPy universal runtime in Python, through cffi (PyPy's runtime; also
selectable on CPython with HPY_BUILD_RUNTIME=cffi).

Importing this module wires every context member: the Python body comes
from the hand-written modules (ctx_objects, ctx_types) or, for members the
table maps to a C-API function, from autogen_calls; any other member raises
SystemError when called, naming itself.
"""
from hpy_build import _hpy_cffi
from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy import autogen_calls, ctx_objects, ctx_types, errors
from hpy_build.runtime.pypy.autogen_members import MEMBERS
from hpy_build.runtime.pypy import handles
from hpy_build.runtime.pypy.handles import objects


# the compiled part: what elfcheck compares a module's machine with
binary = _hpy_cffi.__file__


def _not_implemented(name):
    def missing(*args):
        raise SystemError("not implemented in the PyPy runtime yet: %s" % name)
    return missing


def _settling(body):
    """body, after making the objects of handles the C part opened (which
    the arguments may be)."""
    nmade, settle = handles.nmade, handles.settle

    def callback(*args):
        if nmade[0]:
            settle()
        return body(*args)
    callback.__name__ = getattr(body, "__name__", "callback")
    return callback


def _wire():
    missing = []
    for public, callback, error in MEMBERS:
        body = None
        for source in (ctx_types, ctx_objects, autogen_calls):
            body = getattr(source, public, None)
            if body is not None:
                break
        if body is None:
            missing.append(public)
            body = _not_implemented(public)
        kw = {"onerror": errors.onerror}
        if error is not None:
            kw["error"] = error
        ffi.def_extern(name=callback, **kw)(_settling(body))
    return missing


MISSING = _wire()
objects[1:1 + len(ctx_objects.constants())] = ctx_objects.constants()
handles.note_constants()
handles.settle()  # the first spare slots
lib._hpy_pypy_init()

from hpy_build.runtime.pypy.loader import load  # noqa: E402,F401  (the runtime's entry point)
from hpy_build.runtime.pypy.modes import (  # noqa: E402,F401  (read by hpy_build.debug/.trace)
    _trace, _debug_new_generation, _debug_handles, _debug_handle, _debug_force_close,
    _debug_limits, _debug_set_limits, _debug_set_hook, _debug_describe_site)
