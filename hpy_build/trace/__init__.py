"""Trace mode: what the universal modules loaded in it call, how often, for how long.

Load a module in trace mode with ``HPY=trace`` in the environment (or
``HPY=mymod:trace``), or ``hpy_build.universal.load(name, path, mode="trace")``.
Every context function it calls is then counted and timed (monotonic clock),
and optional functions run before and after each call::

    >>> import hpy_build.trace as trace
    >>> trace.get_call_counts()["ctx_Add"]
    2
    >>> trace.set_trace_functions(on_enter=lambda name: print("->", name))

The names are the context members' (``ctx_Add`` for ``HPy_Add``), as in HPy
0.9's ``hpy.trace``. All modules loaded in trace mode share the counters.
"""
__all__ = ["get_call_counts", "get_durations", "get_frequency", "set_trace_functions"]


def _trace():
    from hpy_build.universal import MODE_TRACE, _runtime_of_mode
    return _runtime_of_mode(MODE_TRACE)._trace


def get_call_counts():
    """{context function name: calls made in trace mode} for every context function."""
    return _trace().get_call_counts()


def get_durations():
    """{context function name: total nanoseconds spent in it in trace mode}."""
    return _trace().get_durations()


def get_frequency():
    """Resolution of the clock behind :func:`get_durations`, in Hertz."""
    return _trace().get_frequency()


_UNCHANGED = object()


def set_trace_functions(on_enter=_UNCHANGED, on_exit=_UNCHANGED):
    """Call ``on_enter(name)`` before and ``on_exit(name)`` after each context
    function a module in trace mode calls.

    An argument left out keeps its function; ``None`` removes it; anything
    else must be callable (else ``TypeError``). Calls the functions make into
    modules in trace mode are counted but do not call them again. An exception
    they raise cannot stop the HPy call, so it goes to ``sys.unraisablehook``.
    """
    kwargs = {}
    if on_enter is not _UNCHANGED:
        kwargs["on_enter"] = on_enter
    if on_exit is not _UNCHANGED:
        kwargs["on_exit"] = on_exit
    _trace().set_trace_functions(**kwargs)
