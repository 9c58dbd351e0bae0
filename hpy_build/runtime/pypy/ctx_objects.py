"""Context members with no one-to-one C-API equivalent: handles, errors,
objects, items, calls, builders, trackers, globals, fields, capsules."""
import builtins
import operator
import sys
import types

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
    o = _o[h]
    if type(o) is list and not -len(o) <= i < len(o):
        raise IndexError("list assignment index out of range")  # CPython's words; PyPy's differ
    o[i] = _o[v]
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


# ---- builders: a C array of item handles, filled in C (build_ffi.py) -----------

def HPyListBuilder_New(n):
    return 0  # the C part could not allocate: Build reports it


def HPyListBuilder_Set(b, i, h):
    raise IndexError("builder index out of range")  # the C part stores the others


def _built_items(b):
    """The builder's items as a list; its handles closed, its array freed."""
    if not b:
        raise MemoryError()
    p = ffi.cast("intptr_t *", b)
    hs = ffi.unpack(p + 1, p[0])
    items = [_o[h] for h in hs]  # an item never set is HPy_NULL: None
    for h in hs:
        if h:
            close_pinned(h)
    lib._hpy_pypy_builder_free(b)
    return items


def HPyListBuilder_Build(b):
    return _new(_built_items(b))


def HPyListBuilder_Cancel(b):
    # the C part cancels without calling back; this body only wires the member
    if b:
        _built_items(b)


HPyTupleBuilder_New = HPyListBuilder_New
HPyTupleBuilder_Set = HPyListBuilder_Set
HPyTupleBuilder_Cancel = HPyListBuilder_Cancel


def HPyTupleBuilder_Build(b):
    return _new(tuple(_built_items(b)))


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
    # the lines of CPython's _PyObject_Dump; a failing repr is reported, not raised
    if not h:
        sys.stderr.write("<object at NULL>\n")
        return
    o = _o[h]
    try:
        text = repr(o)
    except Exception as exc:
        text = "<repr failed: %s: %s>" % (type(exc).__name__, exc)
    count = sys.getrefcount(o) - 1 if hasattr(sys, "getrefcount") else -1  # -1: PyPy has none
    sys.stderr.write("object address  : 0x%x\nobject refcount : %d\nobject type name: %s\n"
                     "object repr     : %s\n" % (id(o), count, type(o).__name__, text))
    sys.stderr.flush()


# ---- capsules ----------------------------------------------------------------
#
# On CPython the capsules are CPython's own (through ctypes), so they mix with
# every other extension's: the destructor is the module's CPython trampoline,
# which calls back into _HPy_CallRealFunctionFromTrampoline below, as with the
# C runtime. PyPy has no C-level capsules without cpyext: there a Python class
# stands in.

class Capsule:
    """What HPyCapsule_New makes on PyPy: a pointer, a name, a context, a destructor."""
    __slots__ = ("pointer", "name", "context", "destructor", "__weakref__")

    def __repr__(self):
        name = "NULL" if self.name == _NULL else '"%s"' % ffi.string(self.name).decode("utf-8", "replace")
        return "<capsule object %s at 0x%x>" % (name, id(self))

    def __del__(self):
        if self.destructor is not None:
            lib._hpy_pypy_call_capsule_destructor(self.destructor, self.name, self.pointer, self.context)


Capsule.__name__ = Capsule.__qualname__ = "PyCapsule"
Capsule.__module__ = "builtins"

_CPYTHON = sys.implementation.name == "cpython"
if _CPYTHON:
    import ctypes

    def _api(name, restype, *argtypes):
        # PYFUNCTYPE: with the GIL held, and a Python error set by the call is raised
        return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))

    _P, _O, _INT = ctypes.c_void_p, ctypes.py_object, ctypes.c_int
    _cap_new = _api("PyCapsule_New", _O, _P, _P, _P)
    _cap_get = (_api("PyCapsule_GetPointer", _P, _O, _P), _api("PyCapsule_GetName", _P, _O),
                _api("PyCapsule_GetContext", _P, _O))
    _cap_set = (_api("PyCapsule_SetPointer", _INT, _O, _P), _api("PyCapsule_SetName", _INT, _O, _P),
                _api("PyCapsule_SetContext", _INT, _O, _P), _api("PyCapsule_SetDestructor", _INT, _O, _P))
    _cap_is_valid = _api("PyCapsule_IsValid", _INT, _O, _P)
    # for a capsule being deallocated: a raw pointer, no new reference to it
    _raw_get_name = _api("PyCapsule_GetName", _P, _P)
    _raw_get_pointer = _api("PyCapsule_GetPointer", _P, _P, _P)
    _raw_get_context = _api("PyCapsule_GetContext", _P, _P)
    _py_incref = _api("Py_IncRef", None, _O)
    Capsule = type(_cap_new(1, None, None))  # noqa: F811  (the real type, for h_CapsuleType)


def _addr(p):
    """A cffi pointer as ctypes takes it (None for NULL)."""
    return int(ffi.cast("intptr_t", p)) or None


def _void(address):
    return ffi.cast("void *", address or 0)


def _name_matches(c, name):
    if c.name == _NULL or name == _NULL:
        return c.name == name
    return ffi.string(c.name) == ffi.string(name)


def capsule_is_valid(c, name):
    if _CPYTHON:
        return _cap_is_valid(c, _addr(name))
    return int(isinstance(c, Capsule) and c.pointer != _NULL and _name_matches(c, name))


def HPyCapsule_IsValid(h, name):
    return capsule_is_valid(_o[h], name)


def _destructor_impl(destructor):
    """The impl of an HPyCapsule_Destructor, None for NULL; a struct without its
    CPython trampoline is refused as by the C runtime, though only impl is called."""
    if destructor == _NULL:
        return None
    trampoline = ffi.cast("void **", destructor)[0]  # the struct's first field (hpy0 ABI)
    if destructor.impl == _NULL or trampoline == _NULL:
        raise ValueError("Invalid HPyCapsule destructor")
    return destructor.impl


def _trampoline(destructor):
    """CPython's side of an HPyCapsule_Destructor: its cpy_trampoline."""
    if _destructor_impl(destructor) is None:
        return None
    return _addr(ffi.cast("void **", destructor)[0])


def HPyCapsule_New(pointer, name, destructor):
    if _CPYTHON:
        return _new(_cap_new(_addr(pointer), _addr(name), _trampoline(destructor)))
    if pointer == _NULL:
        raise ValueError("HPyCapsule_New called with null pointer")
    impl = _destructor_impl(destructor)  # before the capsule: a refused one makes none
    c = Capsule()
    c.pointer, c.name, c.context, c.destructor = pointer, name, _NULL, impl
    return _new(c)


def _capsule(h, what):
    c = _o[h]
    if not isinstance(c, Capsule) or c.pointer == _NULL:
        raise ValueError("%s called with invalid PyCapsule object" % what)
    return c


def HPyCapsule_Get(h, key, name):
    if key == 3:
        raise ValueError("Invalid operation: get HPyCapsule_key_Destructor is not supported")
    if not 0 <= key < 3:
        raise ValueError("HPyCapsule_Get: invalid key %d" % key)
    if _CPYTHON:
        get = _cap_get[key]
        return _void(get(_o[h], _addr(name)) if key == 0 else get(_o[h]))
    if key == 0:
        c = _capsule(h, "PyCapsule_GetPointer")
        if not _name_matches(c, name):
            raise ValueError("PyCapsule_GetPointer called with incorrect name")
        return c.pointer
    if key == 1:
        return _capsule(h, "PyCapsule_GetName").name
    return _capsule(h, "PyCapsule_GetContext").context


def HPyCapsule_Set(h, key, value):
    if not 0 <= key < 4:
        raise ValueError("HPyCapsule_Set: invalid key %d" % key)
    if _CPYTHON:
        if key == 3:
            return _cap_set[3](_o[h], _trampoline(ffi.cast("HPyCapsule_Destructor *", value)))
        return _cap_set[key](_o[h], _addr(value))
    c = _capsule(h, "PyCapsule_Set" + ("Pointer", "Name", "Context", "Destructor")[key])
    if key == 0:
        if value == _NULL:
            raise ValueError("PyCapsule_SetPointer called with null pointer")
        c.pointer = value
    elif key == 1:
        c.name = ffi.cast("const char *", value)
    elif key == 2:
        c.context = value
    else:
        c.destructor = _destructor_impl(ffi.cast("HPyCapsule_Destructor *", value))
    return 0


# Only a hybrid module calls these (the universal headers refuse them), and the
# loader refuses hybrid modules: a module that gets here anyway learns why.
def HPy_FromPyObject(obj):
    raise SystemError(_NO_PYOBJECT % "HPy_FromPyObject")


def HPy_AsPyObject(h):
    raise SystemError(_NO_PYOBJECT % "HPy_AsPyObject")


_NO_PYOBJECT = ("%s: hpy-build's cffi runtime has no PyObject * to give: it runs universal "
                "modules only (on CPython, hybrid ones load with the C runtime; on PyPy, a "
                "module that uses the C API is built for the CPython ABI, for cpyext)")


def _HPy_CallRealFunctionFromTrampoline(sig, func, args):
    """Only a capsule's destructor comes here: the trampoline CPython calls when
    a capsule this runtime made on CPython dies. Every other impl this runtime
    calls directly, never through a trampoline."""
    if sig == 37 and _CPYTHON:  # HPyFunc_CAPSULE_DESTRUCTOR; args: the dying PyObject *
        capsule = _addr(args)
        name = _raw_get_name(capsule)
        lib._hpy_pypy_call_capsule_destructor(func, _void(name), _void(_raw_get_pointer(capsule, name)),
                                              _void(_raw_get_context(capsule)))
        return
    raise SystemError("_HPy_CallRealFunctionFromTrampoline: a CPython trampoline (signature %d) "
                      "ran, but hpy-build's cffi runtime calls each function's impl directly and "
                      "hands no trampoline to the interpreter" % sig)


# ---- misc --------------------------------------------------------------------

def HPyContextVar_New(name, default):
    import contextvars
    n = _s(name)
    return _new(contextvars.ContextVar(n) if not default else contextvars.ContextVar(n, default=_o[default]))


def HPyContextVar_Get(var, default, result):
    import contextvars
    result[0] = 0  # on error too, never left as it was
    v = _o[var]
    if not isinstance(v, contextvars.ContextVar):
        raise TypeError("an instance of ContextVar was expected")
    if default:
        result[0] = _new(v.get(_o[default]))
        return 0
    try:
        got = v.get()  # the variable's own default, if it has one
    except LookupError:
        result[0] = 0
        return 0
    result[0] = _new(got)
    return 0


def HPy_Compile_s(source, filename, kind):
    modes = ("eval", "exec", "single")
    if not 0 <= kind < 3:
        raise SystemError("invalid source kind (HPy_Compile_s got %d, expected an "
                          "HPy_SourceKind: Expr, File or Single)" % kind)
    return _new(compile(_s(source), _s(filename), modes[kind]))


def HPy_EvalCode(code, g, l):
    # eval() would also take a string and other globals: refuse what the C runtime refuses
    co, gl = _o[code] if code else None, _o[g] if g else None
    if not isinstance(co, types.CodeType):
        raise TypeError("HPy_EvalCode() arg 1 must be a code object, not %s" % _tp_name(co, code))
    if not isinstance(gl, dict):
        raise TypeError("globals must be a dict, not %s" % _tp_name(gl, g))
    if l:
        lo = _o[l]
        if not hasattr(type(lo), "__getitem__"):  # PyMapping_Check
            raise TypeError("locals must be a mapping, not %s" % type(lo).__name__)
        return _new(eval(co, gl, lo))
    return _new(eval(co, gl))


def _tp_name(o, h):
    return "NULL" if not h else type(o).__name__
