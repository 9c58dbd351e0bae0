"""The handle table: a handle is an index into ``objects``.

Index 0 is HPy_NULL; 1..N_CONSTANTS are the context constants (never
freed; the C part does not even call back to close or dup them). Closing
a handle clears its slot and pushes the index on ``free``; opening reuses
the last freed slot. Nothing but the list slots is allocated.
"""
from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy.autogen_members import N_CONSTANTS

objects = [None] * (N_CONSTANTS + 1)
free = []

# structs[h]: the address of the C struct of handle h's object, when the
# runtime knows it (an instance of an HPy type); the C part answers
# _HPy_AsStruct_* from it without a callback. Cleared when h closes.
N_STRUCTS = 1 << 16
structs = ffi.new("intptr_t[]", N_STRUCTS)
lib._hpy_pypy_set_structs(structs, N_STRUCTS)


def new_instance(obj):
    """A handle to an instance of an HPy type, its struct's address known in C."""
    h = new(obj)
    if h < N_STRUCTS:
        structs[h] = getattr(obj, "_hpy_addr", 0)
    return h


def new(obj):
    if free:
        h = free.pop()
        objects[h] = obj
        return h
    objects.append(obj)
    return len(objects) - 1


def close(h):
    if h > N_CONSTANTS:
        objects[h] = None
        free.append(h)
        if h < N_STRUCTS:
            structs[h] = 0


def dup(h):
    return new(objects[h]) if h > N_CONSTANTS else h


# Objects whose C buffers a handle lent out (HPyBytes_AsString, ...): kept
# until that handle closes, as HPy promises.
pinned = {}


def close_pinned(h):
    if h > N_CONSTANTS:
        objects[h] = None
        free.append(h)
        if h < N_STRUCTS:
            structs[h] = 0
        if pinned:
            pinned.pop(h, None)


def c_str(p):
    """A C string (UTF-8, as HPy's *_s functions take) as str; NULL as None."""
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8")
