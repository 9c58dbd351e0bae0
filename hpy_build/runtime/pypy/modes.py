"""The cffi runtime's binding of debug and trace mode (the same calls as the
C runtime's hpy_build._universal._debug_* and ._trace), read by
hpy_build.debug and hpy_build.trace."""
import sys

from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy import handles
from hpy_build.runtime.pypy.handles import objects, new as _new


# ---- trace ----

def _tctx():
    tctx = lib.hpy_trace_get_ctx(lib._hpy_pypy_ctx_ptr())
    if tctx == ffi.NULL:
        raise MemoryError("could not create the HPy trace context")
    return tctx


class _Trace:
    on_enter = on_exit = None

    def _counters(self, get):
        tctx = _tctx()
        result = {}
        for i in range(lib.hpy_trace_get_nfunc()):
            name = lib.hpy_trace_get_func_name(i)
            if name != ffi.NULL:  # NULL: a handle member
                result[ffi.string(name).decode("ascii")] = get(tctx, i)
        return result

    def get_call_counts(self):
        return self._counters(lib.hpy_trace_get_call_count)

    def get_durations(self):
        return self._counters(lib.hpy_trace_get_duration_ns)

    def get_frequency(self):
        ns = lib.hpy_trace_clock_resolution_ns()
        return 1000000000 // ns if ns else 0

    def set_trace_functions(self, **kwargs):
        for arg in kwargs.values():
            if arg is not None and not callable(arg):
                raise TypeError("Expected a callable object or None")
        tctx = _tctx()
        if "on_enter" in kwargs:
            self.on_enter = kwargs["on_enter"]
        if "on_exit" in kwargs:
            self.on_exit = kwargs["on_exit"]
        lib.hpy_trace_set_hooks(tctx, lib._hpy_pypy_trace_enter if self.on_enter else ffi.NULL,
                                lib._hpy_pypy_trace_exit if self.on_exit else ffi.NULL, ffi.NULL)


_trace = _Trace()


def _call_hook(func, name):
    # inside an HPy call: an exception cannot stop it, so it is unraisable
    if func is None:
        return
    try:
        func(ffi.string(name).decode("ascii"))
    except BaseException as exc:
        sys.unraisablehook(_Unraisable(exc, func))


class _Unraisable:
    def __init__(self, exc, func):
        self.exc_type, self.exc_value, self.exc_traceback = type(exc), exc, exc.__traceback__
        self.err_msg, self.object = None, func


@ffi.def_extern(name="_hpy_pypy_trace_enter")
def _trace_enter(data, name):
    _call_hook(_trace.on_enter, name)


@ffi.def_extern(name="_hpy_pypy_trace_exit")
def _trace_exit(data, name):
    _call_hook(_trace.on_exit, name)


# ---- debug ----

def _debug_new_generation():
    return lib.hpy_debug_new_generation()


def _addr(pointer):
    return int(ffi.cast("uintptr_t", pointer))


def _handle_record(info):
    """The C runtime's record of a handle: (id, obj, is_closed, site,
    close_site, stack, raw_data_size), raw_data_size -1 when no string is kept."""
    if handles.nmade[0]:
        handles.settle()
    return (_addr(info.id), None if info.is_closed else objects[info.uh._i],
            info.is_closed, _addr(info.site), _addr(info.close_site),
            tuple(_addr(info.stack[j]) for j in range(info.stack_len)),
            info.mem_size if info.has_mem else -1)


def _debug_handles(closed, gen):
    get = lib.hpy_debug_closed_handles if closed else lib.hpy_debug_open_handles
    n = get(gen, ffi.NULL, 0)
    infos = ffi.new("hpy_debug_handle_info[]", n or 1)
    n = get(gen, infos, n)
    return [_handle_record(infos[i]) for i in range(n)]


def _debug_handle(handle_id):
    if not handle_id:
        raise ValueError("no debug handle at address 0")
    info = ffi.new("hpy_debug_handle_info *")
    lib.hpy_debug_handle(ffi.cast("void *", handle_id), info)
    return _handle_record(info[0])


def _debug_force_close(handle_id):
    if not handle_id:
        raise ValueError("no debug handle at address 0")
    lib.hpy_debug_force_close(ffi.cast("void *", handle_id))


def _debug_limits():
    return (lib.hpy_debug_get_closed_handles_queue_max_size(),
            lib.hpy_debug_get_protected_raw_data_max_size(),
            lib.hpy_debug_get_protected_raw_data_size(), lib.hpy_debug_get_stack_limit())


def _debug_set_limits(closed_max, protected_max, stack_limit):
    lib.hpy_debug_set_closed_handles_queue_max_size(closed_max)
    lib.hpy_debug_set_protected_raw_data_max_size(protected_max)
    lib.hpy_debug_set_stack_limit(stack_limit)


def _debug_set_hook(builder, callable_):
    # the debug context owns the handle from now on (it closes the one it replaces)
    uh = ffi.new("HPy *")
    uh[0]._i = 0 if callable_ is None else _new(callable_)
    (lib.hpy_debug_set_on_invalid_builder_handle if builder
     else lib.hpy_debug_set_on_invalid_handle)(uh[0])


def _debug_describe_site(address):
    buf = ffi.new("char[]", 1024)
    lib.hpy_debug_describe_site(ffi.cast("void *", address), buf, 1024)
    return ffi.string(buf).decode("utf-8", "replace")
