"""HPy debug mode: every handle an extension sees is checked.

Load a universal module in debug mode with ``HPY=debug`` (or
``HPY=mymod:debug``) or ``hpy_build.universal.load(..., mode="debug")``;
nothing is recompiled. Then::

    from hpy_build.debug import LeakDetector
    with LeakDetector():
        mymod.f()      # HPyLeakError lists every handle f left open, with its C line

The names mirror HPy 0.9's ``hpy.debug`` (``hpy.debug`` re-exports them).
"""

__all__ = ["LeakDetector", "HPyDebugError", "HPyLeakError", "DebugHandle",
           "set_handle_stack_trace_limit", "disable_handle_stack_traces",
           "set_on_invalid_handle", "set_on_invalid_builder_handle",
           "get_open_handles", "get_closed_handles", "new_generation",
           "get_closed_handles_queue_max_size", "set_closed_handles_queue_max_size",
           "get_protected_raw_data_max_size", "set_protected_raw_data_max_size"]


def _runtime():
    """The runtime (C or cffi) whose debug context this API reads."""
    from hpy_build.universal import MODE_DEBUG, _runtime_of_mode
    return _runtime_of_mode(MODE_DEBUG)


class HPyDebugError(Exception):
    pass


class HPyLeakError(HPyDebugError):
    def __init__(self, leaks):
        super().__init__()
        self.leaks = leaks

    def __str__(self):
        n = len(self.leaks)
        lines = ["%d unclosed handle%s:" % (n, "" if n == 1 else "s")]
        lines += ["    %r" % dh for dh in self.leaks]
        return "\n".join(lines)


def describe_site(address):
    """``file.c:543 in function`` for a return address in a loaded binary."""
    return _runtime()._debug_describe_site(address)


class DebugHandle:
    """One handle an extension holds (or held) in debug mode."""

    # A view of the C handle, as in HPy 0.9: the handle may be closed, or
    # reused for another object once it leaves the closed-handle queue.

    def __init__(self, record):
        self.id = record[0]

    def _state(self):
        return _runtime()._debug_handle(self.id)

    @property
    def _obj(self):
        return self._state()[1]

    @property
    def is_closed(self):
        return bool(self._state()[2])

    @property
    def _site(self):
        return self._state()[3]

    @property
    def _close_site(self):
        return self._state()[4]

    @property
    def _stack(self):
        return self._state()[5]

    @property
    def raw_data_size(self):
        """Bytes of the const char * result this handle keeps (with the NUL), or -1."""
        return self._state()[6]

    @property
    def obj(self):
        """The object the handle points to (None once it is closed)."""
        return self._obj

    def _force_close(self):
        """HPy_Close on this handle, as the extension would. For tests."""
        _runtime()._debug_force_close(self.id)

    @property
    def site(self):
        """Where the handle was created, ``file.c:line in function``; None if not captured."""
        return describe_site(self._site) if self._site else None

    @property
    def close_site(self):
        return describe_site(self._close_site) if self._close_site else None

    @property
    def stack(self):
        """The deeper stack, one site per frame (set_handle_stack_trace_limit(N > 1))."""
        return [describe_site(frame) for frame in self._stack]

    def __eq__(self, other):
        return isinstance(other, DebugHandle) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        if self.is_closed:
            text = "<DebugHandle 0x%x CLOSED>" % self.id
        else:
            text = "<DebugHandle 0x%x for %r>" % (self.id, self._obj)
        if self._site:
            text += " created at %s" % self.site
        if self._stack:
            text += "\n        Allocation stacktrace:\n" + "\n".join(
                "            " + frame for frame in self.stack)
        elif not self._site:
            text += " (creation site not captured: hpy_build.debug.set_handle_stack_trace_limit(1))"
        return text


def new_generation():
    """Start a new generation: get_open_handles(gen) lists handles made since."""
    return _runtime()._debug_new_generation()


def get_open_handles(generation=0):
    """The open handles of generation >= ``generation`` (arguments and constants excluded)."""
    return [DebugHandle(r) for r in _runtime()._debug_handles(0, generation)]


def get_closed_handles(generation=0):
    """The recently closed handles (of generation >= ``generation``) that debug mode
    keeps to catch their use; at most get_closed_handles_queue_max_size()."""
    return [DebugHandle(r) for r in _runtime()._debug_handles(1, generation)]


def _limits():
    return _runtime()._debug_limits()  # (closed max, protected max, protected size, stack)


def _set(closed=None, protected=None, stack=None):
    old = _limits()
    _runtime()._debug_set_limits(old[0] if closed is None else closed,
                                 old[1] if protected is None else protected,
                                 old[3] if stack is None else stack)


def get_closed_handles_queue_max_size():
    return _limits()[0]


def set_closed_handles_queue_max_size(size):
    """How many closed handles are kept to catch their use (default 1024)."""
    if size < 0:
        raise ValueError("the queue size must be >= 0")
    _set(closed=size)


def get_protected_raw_data_max_size():
    return _limits()[1]


def set_protected_raw_data_max_size(size):
    """Bytes of protected memory (const char * of closed handles) kept (default 10 MiB)."""
    if size < 0:
        raise ValueError("the size must be >= 0")
    _set(protected=size)


def get_protected_raw_data_size():
    return _limits()[2]


def set_handle_stack_trace_limit(limit):
    """What each new handle remembers of where it was made.

    ``None`` or 0: nothing (cheapest); 1 (the default): the C line of the API
    call; N > 1: N frames of the C stack (backtrace()).
    """
    if limit is None:
        limit = 0
    if limit < 0:
        raise ValueError("the limit must be None or >= 0")
    _set(stack=limit)


def get_handle_stack_trace_limit():
    return _limits()[3]


def disable_handle_stack_traces():
    set_handle_stack_trace_limit(None)


def set_on_invalid_handle(callback):
    """Call ``callback()`` instead of the fatal error when a closed handle is used
    (or closed twice, or a constant closed, ...); None restores the fatal error."""
    if callback is not None and not callable(callback):
        raise TypeError("Expected a callable object")
    _runtime()._debug_set_hook(0, callback)


def set_on_invalid_builder_handle(callback):
    """As set_on_invalid_handle, for list and tuple builders used after Build/Cancel."""
    if callback is not None and not callable(callback):
        raise TypeError("Expected a callable object")
    _runtime()._debug_set_hook(1, callback)


class LeakDetector:
    """Raises HPyLeakError at stop() (or the end of a with block) listing the
    handles opened since start() and still open, each with its creation site."""

    def __init__(self):
        self.generation = None

    def start(self):
        if self.generation is not None:
            raise ValueError('LeakDetector already started')
        self.generation = new_generation()

    def stop(self):
        if self.generation is None:
            raise ValueError('LeakDetector not started yet')
        leaks = get_open_handles(self.generation)
        if leaks:
            raise HPyLeakError(leaks)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, etype, evalue, tb):
        self.stop()
