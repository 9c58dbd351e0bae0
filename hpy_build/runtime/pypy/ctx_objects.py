"""Context members with no one-to-one C-API equivalent: handles, errors,
objects, items, calls, builders, trackers, globals, fields, capsules."""
import builtins
import operator
import sys

from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy import errors
from hpy_build.runtime.pypy import handles as _handles
from hpy_build.runtime.pypy.handles import objects as _o, new as _new, \
    pinned as _pinned, close_pinned, c_str as _s, dup as _dup

_NULL = ffi.NULL


def constants():
    """The objects of the context constants, in handle order from 1."""
    from hpy_build.runtime.pypy.autogen_members import CONSTANTS
    found = []
    for name in CONSTANTS:
        short = name[2:]
        if short in ("None", "True", "False", "NotImplemented", "Ellipsis"):
            found.append(getattr(builtins, short))
        elif short == "Builtins":
            found.append(builtins.__dict__)
        elif short.endswith("Type"):
            found.append({"BaseObjectType": object, "TypeType": type, "BoolType": bool,
                          "LongType": int, "FloatType": float, "UnicodeType": str,
                          "TupleType": tuple, "ListType": list, "ComplexType": complex,
                          "BytesType": bytes, "MemoryViewType": memoryview,
                          "CapsuleType": Capsule, "SliceType": slice}[short])
        else:
            found.append(getattr(builtins, short))
    return found


# ---- handles ---------------------------------------------------------------
HPy_Dup = _dup
HPy_Close = close_pinned


def HPy_Is(a, b):
    return 1 if _o[a] is _o[b] else 0


def HPy_Type(h):
    return _new(type(_o[h]))


def HPy_TypeCheck(h, t):
    return 1 if isinstance(_o[h], _o[t]) else 0


def HPyType_IsSubtype(sub, t):
    return 1 if issubclass(_o[sub], _o[t]) else 0


def HPyType_GetName(t):
    tp = _o[t]
    key = ("__name__", tp)
    buf = _names.get(key)
    if buf is None:
        buf = _names[key] = ffi.new("char[]", tp.__name__.encode("utf-8"))
    return buf


_names = {}  # type -> its name as a C string, for the life of the process


# ---- errors ------------------------------------------------------------------

def HPyErr_Occurred():
    return 0 if errors.current() is None else 1


# ---- numbers with C-range checks -------------------------------------------

def _as_int(o):
    if isinstance(o, int):
        return o
    if hasattr(type(o), "__index__"):
        return operator.index(o)
    raise TypeError("an integer is required")


def HPyLong_AsInt32_t(h):
    v = _as_int(_o[h])
    if not -(1 << 31) <= v < (1 << 31):
        raise OverflowError("Python int too large to convert to C int32_t")
    return v


def HPyLong_AsUInt32_t(h):
    v = _o[h]
    if not isinstance(v, int):
        raise TypeError("an integer is required")
    if v < 0:
        raise OverflowError("can't convert negative value to unsigned int")
    if v >> 32:
        raise OverflowError("Python int too large to convert to C uint32_t")
    return v


def HPyLong_AsUInt32_tMask(h):
    return _as_int(_o[h]) & 0xFFFFFFFF


def HPyBool_FromBool(v):
    return 2 if v else 3  # h_True, h_False: constants, never closed


# ---- bytes and str: pointers into objects --------------------------------------

def _pin(h, cdata):
    _pinned[h] = cdata
    return cdata


def HPyBytes_AsString(h):
    b = _o[h]
    if not isinstance(b, bytes):
        raise TypeError("expected bytes, %s found" % type(b).__name__)
    return _pin(h, ffi.new("char[]", b))


HPyBytes_AS_STRING = HPyBytes_AsString


def HPyBytes_FromStringAndSize(p, n):
    if p == _NULL:
        raise ValueError("NULL char * passed to HPyBytes_FromStringAndSize")
    if n < 0:
        raise SystemError("Negative size passed to PyBytes_FromStringAndSize")
    return _new(ffi.unpack(p, n))


def HPy_SetAttr(h, name, v):
    if v:
        setattr(_o[h], _o[name], _o[v])
    else:
        delattr(_o[h], _o[name])
    return 0


def HPy_SetAttr_s(h, name, v):
    if v:
        setattr(_o[h], _s(name), _o[v])
    else:
        delattr(_o[h], _s(name))
    return 0


def HPyUnicode_AsUTF8AndSize(h, size):
    s = _o[h]
    if not isinstance(s, str):
        raise TypeError("bad argument type for built-in operation")
    b = s.encode("utf-8")
    if size != _NULL:
        size[0] = len(b)
    return _pin(h, ffi.new("char[]", b))


# ---- items -------------------------------------------------------------------

def HPy_GetItem_i(h, i):
    return _new(_o[h][i])


def HPy_GetItem_s(h, key):
    return _new(_o[h][_s(key)])


def HPy_SetItem_i(h, i, v):
    _o[h][i] = _o[v]
    return 0


def HPy_SetItem_s(h, key, v):
    _o[h][_s(key)] = _o[v]
    return 0


def HPy_DelItem_i(h, i):
    del _o[h][i]
    return 0


def HPy_DelItem_s(h, key):
    del _o[h][_s(key)]
    return 0


def HPyTuple_FromArray(items, n):
    return _new(tuple([_o[items[i]] for i in range(n)]))


def HPySlice_Unpack(h, start, stop, step):
    s = _o[h]
    if not isinstance(s, slice):
        raise TypeError("expected a slice object, not %.100s" % type(s).__name__)
    big = sys.maxsize

    def index(v):
        if not hasattr(type(v), "__index__"):
            raise TypeError("slice indices must be integers or None or have an __index__ method")
        return operator.index(v)
    st = 1 if s.step is None else index(s.step)
    if st == 0:
        raise ValueError("slice step cannot be zero")
    st = max(-big, min(big, st))
    if s.start is None:
        a = big if st < 0 else 0
    else:
        a = max(-big - 1, min(big, index(s.start)))
    if s.stop is None:
        b = -big - 1 if st < 0 else big
    else:
        b = max(-big - 1, min(big, index(s.stop)))
    start[0], stop[0], step[0] = a, b, st
    return 0


# ---- calls -------------------------------------------------------------------

def HPy_CallTupleDict(c, args, kw):
    a, k = _o[args], _o[kw]
    if args and not isinstance(a, tuple):
        raise TypeError("HPy_CallTupleDict requires args to be a tuple or null handle")
    if kw and not isinstance(k, dict):
        raise TypeError("HPy_CallTupleDict requires kw to be a dict or null handle")
    return _new(_o[c](*(a or ()), **(k or {})))


def _split(args, nargs, kwnames):
    names = _o[kwnames] if kwnames else ()
    pos = [_o[args[i]] for i in range(nargs)]
    kw = {name: _o[args[nargs + i]] for i, name in enumerate(names)}
    return pos, kw


def HPy_Call(c, args, nargs, kwnames):
    if nargs >> 62:
        raise SystemError("HPy_Call: too many arguments (%d)" % nargs)
    pos, kw = _split(args, nargs, kwnames)
    return _new(_o[c](*pos, **kw))


def HPy_CallMethod(name, args, nargs, kwnames):
    if nargs == 0:
        raise TypeError("HPy_CallMethod needs the receiver in args[0]")
    pos, kw = _split(args, nargs, kwnames)
    return _new(getattr(pos[0], _o[name])(*pos[1:], **kw))


# ---- builders: the builder is a handle to the list being filled --------------

def HPyListBuilder_New(n):
    return _new([None] * n)


def HPyListBuilder_Set(b, i, h):
    if b:
        _o[b][i] = _o[h]


def HPyListBuilder_Build(b):
    if not b:
        raise MemoryError()
    return b


def HPyListBuilder_Cancel(b):
    if b:
        close_pinned(b)


HPyTupleBuilder_New = HPyListBuilder_New
HPyTupleBuilder_Set = HPyListBuilder_Set
HPyTupleBuilder_Cancel = HPyListBuilder_Cancel


def HPyTupleBuilder_Build(b):
    if not b:
        raise MemoryError()
    _o[b] = tuple(_o[b])
    return b


# ---- trackers: a handle to the list of tracked handles -----------------------

def HPyTracker_New(size):
    return _new([])


def HPyTracker_Add(t, h):
    _o[t].append(h)
    return 0


def HPyTracker_ForgetAll(t):
    del _o[t][:]


def HPyTracker_Close(t):
    for h in _o[t]:
        close_pinned(h)
    close_pinned(t)


# ---- globals: indices into a list that lives as long as the process ----------
_globals = [None]


def HPyGlobal_Store(gp, h):
    i = gp[0]
    if i <= 0 or i >= len(_globals):
        _globals.append(None)
        gp[0] = i = len(_globals) - 1
    # the object in a handle the runtime keeps open (HPyGlobal_Load is then
    # answered in C), else in _globals
    _globals[i] = None if _handles.pin_global(i, _o[h]) else _o[h]


def HPyGlobal_Load(g):
    if g <= 0 or g >= len(_globals):
        raise SystemError("HPyGlobal_Load: the global was never stored")
    if g < _handles.N_GLOBALS and _handles.globals_[g]:
        return _handles.dup(_handles.globals_[g])
    return _new(_globals[g])


# ---- fields: an index into the owner's own list of field objects -------------
# The owner keeps the objects alive (and the GC sees them), and they go with it.

def HPyField_Store(owner, fp, h):
    own = _o[owner]
    i = fp[0]
    try:
        fields = own._hpy_fields
    except AttributeError:
        fields = own._hpy_fields = []
    if i == 0:
        if not h:
            return
        fields.append(_o[h])
        fp[0] = len(fields)
    else:
        fields[i - 1] = _o[h] if h else None


def HPyField_Load(owner, f):
    if f == 0:
        return 0  # HPy_NULL, as the C runtime gives
    return _new(_o[owner]._hpy_fields[f - 1])


# ---- threads: the GIL stays with PyPy; nothing to release ---------------------

def HPy_LeavePythonExecution():
    return 1


def HPy_ReenterPythonExecution(state):
    pass


def _HPy_Dump(h):
    o = _o[h]
    sys.stderr.write("object type     : %s\nobject repr     : %r\n" % (type(o), o))


# ---- capsules ----------------------------------------------------------------

class Capsule:
    """What HPyCapsule_New makes: a pointer, a name, a context, a destructor."""
    __slots__ = ("pointer", "name", "context", "destructor", "__weakref__")

    def __repr__(self):
        name = "NULL" if self.name == _NULL else '"%s"' % ffi.string(self.name).decode("utf-8", "replace")
        return "<capsule object %s at 0x%x>" % (name, id(self))

    def __del__(self):
        if self.destructor is not None:
            lib._hpy_pypy_call_capsule_destructor(self.destructor, self.name, self.pointer, self.context)


Capsule.__name__ = Capsule.__qualname__ = "PyCapsule"
Capsule.__module__ = "builtins"


def _name_matches(c, name):
    if c.name == _NULL or name == _NULL:
        return c.name == name
    return ffi.string(c.name) == ffi.string(name)


def capsule_is_valid(c, name):
    return int(isinstance(c, Capsule) and c.pointer != _NULL and _name_matches(c, name))


def HPyCapsule_IsValid(h, name):
    return capsule_is_valid(_o[h], name)


def HPyCapsule_New(pointer, name, destructor):
    if pointer == _NULL:
        raise ValueError("HPyCapsule_New called with null pointer")
    c = Capsule()
    c.pointer, c.name, c.context = pointer, name, _NULL
    c.destructor = None
    if destructor != _NULL:
        if destructor.impl == _NULL:
            raise ValueError("Invalid HPyCapsule destructor")
        c.destructor = destructor.impl
    return _new(c)


def _capsule(h, what):
    c = _o[h]
    if not isinstance(c, Capsule) or c.pointer == _NULL:
        raise ValueError("%s called with invalid PyCapsule object" % what)
    return c


def HPyCapsule_Get(h, key, name):
    if key == 0:
        c = _capsule(h, "PyCapsule_GetPointer")
        if not _name_matches(c, name):
            raise ValueError("PyCapsule_GetPointer called with incorrect name")
        return c.pointer
    if key == 1:
        return _capsule(h, "PyCapsule_GetName").name
    if key == 2:
        return _capsule(h, "PyCapsule_GetContext").context
    if key == 3:
        raise ValueError("Invalid operation: get HPyCapsule_key_Destructor is not supported")
    raise ValueError("invalid key")


def HPyCapsule_Set(h, key, value):
    c = _capsule(h, "PyCapsule_Set" + ("Pointer", "Name", "Context", "Destructor")[key]
                 if 0 <= key < 4 else "HPyCapsule_Set")
    if key == 0:
        if value == _NULL:
            raise ValueError("PyCapsule_SetPointer called with null pointer")
        c.pointer = value
    elif key == 1:
        c.name = ffi.cast("const char *", value)
    elif key == 2:
        c.context = value
    elif key == 3:
        d = ffi.cast("HPyCapsule_Destructor *", value)
        c.destructor = None if d == _NULL else d.impl
    else:
        raise ValueError("invalid key")
    return 0


# ---- misc --------------------------------------------------------------------

def HPyContextVar_New(name, default):
    import contextvars
    n = _s(name)
    return _new(contextvars.ContextVar(n) if not default else contextvars.ContextVar(n, default=_o[default]))


def HPyContextVar_Get(var, default, result):
    import contextvars
    v = _o[var]
    if not isinstance(v, contextvars.ContextVar):
        raise TypeError("an instance of ContextVar was expected")
    marker = object()
    got = v.get(_o[default]) if default else v.get(marker)
    result[0] = 0 if got is marker else _new(got)
    return 0


def HPy_Compile_s(source, filename, kind):
    modes = ("eval", "exec", "single")
    if not 0 <= kind < 3:
        raise SystemError("invalid source kind")
    return _new(compile(_s(source), _s(filename), modes[kind]))


def HPy_EvalCode(code, g, l):
    return _new(eval(_o[code], _o[g], _o[l] if l else None))
