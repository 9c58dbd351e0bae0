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

# Per-handle tables the C part reads, for handles below N_SLOTS (so that
# these context calls need no callback):
# structs[h]: the address of the C struct of h's object when the runtime knows
#   it (an instance of an HPy type): _HPy_AsStruct_* is a C array read;
# refs[h]: the extra owners of h: HPy_Dup in C returns h itself and counts,
#   HPy_Close uncounts, and the slot is freed when the last owner closes;
# kinds[h]: the exact type of h's object when known: KIND_FLOAT, KIND_INT or
#   an HPy type's key (> 0); typekeys[h]: the key of h's object if it is an
#   HPy type (or float or int): HPy_TypeCheck in C when both are known;
# floats[h]: the value when kinds[h] is KIND_FLOAT (HPyFloat_AsDouble in C).
# globals_[g]: a handle the runtime keeps open to HPyGlobal g's object:
#   HPyGlobal_Load in C is an HPy_Dup of it.
# Every entry is cleared when the slot is freed.
N_SLOTS = 1 << 16
N_GLOBALS = 1 << 12
KIND_FLOAT, KIND_INT = -1, -2
structs = ffi.new("intptr_t[]", N_SLOTS)
refs = ffi.new("intptr_t[]", N_SLOTS)
kinds = ffi.new("intptr_t[]", N_SLOTS)
typekeys = ffi.new("intptr_t[]", N_SLOTS)
floats = ffi.new("double[]", N_SLOTS)
globals_ = ffi.new("intptr_t[]", N_GLOBALS)
lib._hpy_pypy_set_tables(structs, refs, kinds, typekeys, floats, N_SLOTS, globals_, N_GLOBALS)
N_STRUCTS = N_SLOTS  # the name ctx_types uses

# Handles the C part opens itself (HPyFloat_FromDouble, see build_ffi.py):
# spare[:nspare] are reserved slots (objects[h] None, not free); C takes
# one, notes a float in kinds/floats, sets unsettled[h] and lists h in made;
# settle() makes the float objects. It must run before Python code reads a
# handle C may have opened: at every callback's entry and after every call
# of an extension function (result, status).
N_SPARE, N_MADE = 64, 1024
spare = ffi.new("intptr_t[]", N_SPARE)
nspare = ffi.new("intptr_t *")
made = ffi.new("intptr_t[]", N_MADE)
nmade = ffi.new("intptr_t *")
unsettled = ffi.new("uint8_t[]", N_SLOTS)
lib._hpy_pypy_set_made(spare, nspare, made, nmade, N_MADE, unsettled)

# Per HPy type key below N_POOLS: up to PER_POOL open handles to instances
# made ahead (ctx_types.py fills them), which HPy_New takes in C.
N_POOLS, PER_POOL = 1 << 10, 16
pool = ffi.new("intptr_t[]", N_POOLS * PER_POOL)
pool_n = ffi.new("intptr_t[]", N_POOLS)
# allocations (and HPy_News) before ctx_types next reads the clock
news_left = ffi.new("intptr_t *", 1)
lib._hpy_pypy_set_pools(pool, pool_n, N_POOLS, PER_POOL, news_left)
_last_key = [0]


def type_key(cls):
    """Give an HPy type (made by HPyType_FromSpec) a key, so HPy_TypeCheck
    against it can be answered in C. Kept on the class (a registry would keep
    every type alive), with the class it was given to: subclasses inherit
    the attribute but are not that class."""
    _last_key[0] += 1
    cls._hpy_key = _last_key[0]
    cls._hpy_keyed = cls
    return cls._hpy_key


def _key(t):
    """The key of type t if it is the HPy type the key was given to, else 0."""
    key = getattr(t, "_hpy_key", 0)
    return key if key and t._hpy_keyed is t else 0


def _self_key(obj):
    """The key of obj as a type: float, int or an HPy type (else 0)."""
    if obj is float:
        return KIND_FLOAT
    if obj is int:
        return KIND_INT
    return _key(obj)


def new_instance(obj):
    """A handle to an instance of an HPy type, its struct's address known in C."""
    h = new(obj)
    if h < N_SLOTS:
        structs[h] = getattr(obj, "_hpy_addr", 0)
        kinds[h] = _key(type(obj))
    return h


def new_arg(obj):
    """A handle to an argument: noted for the C part when it is a float or an
    int (the operands numbers code checks and reads) or an HPy type."""
    h = new(obj)
    if h < N_SLOTS:
        t = type(obj)
        if t is float:
            kinds[h] = KIND_FLOAT
            floats[h] = obj
        elif t is int:
            kinds[h] = KIND_INT
        elif isinstance(obj, type):
            typekeys[h] = _self_key(obj)
        else:
            key = _key(t)
            if key:  # an HPy type's instance
                kinds[h] = key
                structs[h] = getattr(obj, "_hpy_addr", 0)
    return h


def new_type(obj):
    """A handle to any object, its HPy type key noted when it is one."""
    h = new(obj)
    if h < N_SLOTS and isinstance(obj, type):
        typekeys[h] = _self_key(obj)
    return h


def new(obj):
    if free:
        h = free.pop()
        objects[h] = obj
        return h
    objects.append(obj)
    return len(objects) - 1


def _free(h):
    objects[h] = None
    free.append(h)
    if h < N_SLOTS:
        structs[h] = 0
        kinds[h] = 0
        typekeys[h] = 0


def close(h):
    if h > N_CONSTANTS:
        if h < N_SLOTS and refs[h]:
            refs[h] -= 1  # another owner (an HPy_Dup made in C) still has it
            return
        _free(h)


def dup(h):
    if h <= N_CONSTANTS:
        return h
    if h < N_SLOTS:
        refs[h] += 1
        return h
    return new(objects[h])


def settle():
    """Make the objects of the handles C opened, and reserve spare slots again."""
    for i in range(nmade[0]):
        h = made[i]
        if unsettled[h]:  # (else closed again, and maybe reused, since)
            objects[h] = floats[h]
            unsettled[h] = 0
    nmade[0] = 0
    k = nspare[0]
    while k < N_SPARE:
        h = new(None)
        if h >= N_SLOTS:  # beyond the C tables
            _free(h)
            break
        spare[k] = h
        k += 1
    nspare[0] = k


def take_made(h):
    """The float of h, a handle the C part opened that no Python code has
    seen (a C function's result): h goes back to spare, no object made."""
    value = floats[h]
    unsettled[h] = 0
    kinds[h] = 0
    n = nmade[0]
    if made[n - 1] == h:
        nmade[0] = n - 1
    spare[nspare[0]] = h
    nspare[0] += 1
    if nmade[0]:
        settle()
    return value


def open_count():
    """Open handles (slots in use plus the extra owners HPy_Dup counted; spare
    slots, instances made ahead and closes still queued in C are not open)."""
    lib._hpy_pypy_flush_if_pending()
    if nmade[0]:
        settle()
    return (len(objects) - len(free) - nspare[0] - sum(ffi.unpack(pool_n, min(_last_key[0] + 1, N_POOLS)))
            + sum(ffi.unpack(refs, min(len(objects), N_SLOTS))))


def pin_global(g, obj):
    """HPyGlobal g now holds obj: True if in a handle the runtime keeps open
    to it (closing the one to the object before)."""
    h = 0
    if 0 < g < N_GLOBALS:
        old = globals_[g]
        h = new_type(obj)
        if h >= N_SLOTS:  # beyond the C tables: HPyGlobal_Load calls back
            close(h)
            h = 0
        globals_[g] = h
        if old:
            close(old)
    return h != 0


# Objects whose C buffers a handle lent out (HPyBytes_AsString, ...): kept
# until that handle closes, as HPy promises.
pinned = {}


def close_pinned(h):
    if h > N_CONSTANTS:
        if h < N_SLOTS and refs[h]:
            refs[h] -= 1
            return
        _free(h)
        if pinned:
            pinned.pop(h, None)


def c_str(p):
    """A C string (UTF-8, as HPy's *_s functions take) as str; NULL as None."""
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8")


def note_constants():
    """The constant handles of float and int (ctx->h_FloatType, h_LongType) as
    type keys, so HPy_TypeCheck against them can be answered in C."""
    for h in range(1, N_CONSTANTS + 1):
        if objects[h] is float or objects[h] is int:
            typekeys[h] = _self_key(objects[h])
