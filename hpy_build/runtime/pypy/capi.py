"""What each C-API function named in the API table does, in Python.

autogen_calls.py applies these to unwrapped handles (and decoded C strings);
a failure is a Python exception, which becomes the current HPy error.
Messages follow CPython's.
"""
import builtins
import codecs
import contextvars
import errno as _errno
import operator
import os
import sys
import warnings

from hpy_build._hpy_cffi import ffi
from hpy_build.runtime.pypy import errors

_INT64 = (-(1 << 63), (1 << 63) - 1)


def _index(o):
    if isinstance(o, int):
        return o
    if hasattr(type(o), "__index__"):
        return operator.index(o)
    raise TypeError("an integer is required")


def _ranged(o, lo, hi, what):
    v = _index(o)
    if not lo <= v <= hi:
        raise OverflowError("Python int too large to convert to %s" % what)
    return v


def _unsigned(o, bits, what):
    if not isinstance(o, int):
        raise TypeError("an integer is required")
    if o < 0:
        raise OverflowError("can't convert negative value to %s" % what)
    if o >> bits:
        raise OverflowError("Python int too large to convert to %s" % what)
    return o


# ---- numbers -------------------------------------------------------------
PyLong_FromLong = PyLong_FromUnsignedLong = PyLong_FromLongLong = int
PyLong_FromUnsignedLongLong = PyLong_FromSize_t = PyLong_FromSsize_t = int


def PyLong_AsLongLong(o):
    return _ranged(o, _INT64[0], _INT64[1], "C long")


def PyLong_AsSsize_t(o):
    if not isinstance(o, int):
        raise TypeError("an integer is required")
    return _ranged(o, _INT64[0], _INT64[1], "C ssize_t")


def PyLong_AsUnsignedLongLong(o):
    return _unsigned(o, 64, "C unsigned long")


def PyLong_AsSize_t(o):
    return _unsigned(o, 64, "C size_t")


def PyLong_AsUnsignedLongLongMask(o):
    return _index(o) & 0xFFFFFFFFFFFFFFFF


def PyLong_AsVoidPtr(o):
    return ffi.cast("void *", _index(o) & 0xFFFFFFFFFFFFFFFF)


def PyLong_AsDouble(o):
    if not isinstance(o, int):
        raise TypeError("an integer is required")
    return float(o)


PyFloat_FromDouble = float


def PyFloat_AsDouble(o):
    if isinstance(o, float):
        return o
    if not hasattr(type(o), "__float__") and not hasattr(type(o), "__index__"):
        raise TypeError("must be real number, not %s" % type(o).__name__)
    return float(o) if hasattr(type(o), "__float__") else float(operator.index(o))


def PyBool_FromLong(v):
    return bool(v)


PyObject_Length = len


def PyNumber_Check(o):
    t = type(o)
    return int(hasattr(t, "__index__") or hasattr(t, "__int__") or hasattr(t, "__float__")
               or isinstance(o, complex))


PyNumber_Add = operator.add
PyNumber_Subtract = operator.sub
PyNumber_Multiply = operator.mul
PyNumber_MatrixMultiply = operator.matmul
PyNumber_FloorDivide = operator.floordiv
PyNumber_TrueDivide = operator.truediv
PyNumber_Remainder = operator.mod
PyNumber_Divmod = divmod
PyNumber_Negative = operator.neg
PyNumber_Positive = operator.pos
PyNumber_Absolute = operator.abs
PyNumber_Invert = operator.invert
PyNumber_Lshift = operator.lshift
PyNumber_Rshift = operator.rshift
PyNumber_And = operator.and_
PyNumber_Xor = operator.xor
PyNumber_Or = operator.or_
PyNumber_Index = operator.index
PyNumber_Long = int
PyNumber_Float = float
PyNumber_InPlaceAdd = operator.iadd
PyNumber_InPlaceSubtract = operator.isub
PyNumber_InPlaceMultiply = operator.imul
PyNumber_InPlaceMatrixMultiply = operator.imatmul
PyNumber_InPlaceFloorDivide = operator.ifloordiv
PyNumber_InPlaceTrueDivide = operator.itruediv
PyNumber_InPlaceRemainder = operator.imod
PyNumber_InPlaceLshift = operator.ilshift
PyNumber_InPlaceRshift = operator.irshift
PyNumber_InPlaceAnd = operator.iand
PyNumber_InPlaceXor = operator.ixor
PyNumber_InPlaceOr = operator.ior


def PyNumber_Power(a, b, c):
    return pow(a, b) if c is None else pow(a, b, c)


def PyNumber_InPlacePower(a, b, c):
    if c is None:
        return operator.ipow(a, b)
    return pow(a, b, c)


def PyCallable_Check(o):
    return int(callable(o))


def Py_FatalError(message):
    sys.stderr.write("Fatal Python error: %s\n" % ffi.string(message).decode("utf-8", "replace"))
    sys.stderr.flush()
    os.abort()


# ---- errors --------------------------------------------------------------

def _instance(t, value):
    if isinstance(value, BaseException):
        return value
    if value is None:
        return t()
    return t(*value) if isinstance(value, tuple) else t(value)


def PyErr_SetString(t, message):
    if not (isinstance(t, type) and issubclass(t, BaseException)):
        raise SystemError("_PyErr_SetObject: exception %r is not a BaseException subclass" % (t,))
    errors.set_exc(t(message))


def PyErr_SetObject(t, value):
    if not (isinstance(t, type) and issubclass(t, BaseException)):
        raise SystemError("_PyErr_SetObject: exception %r is not a BaseException subclass" % (t,))
    errors.set_exc(_instance(t, value))


def _errno_exc(t, *filenames):
    code = ffi.errno
    args = (code, os.strerror(code)) + tuple(f for f in filenames)
    return t(*args)


def PyErr_SetFromErrnoWithFilename(t, filename):
    names = [] if filename == ffi.NULL else [os.fsdecode(ffi.string(filename))]
    raise _errno_exc(t, *names)  # the member returns HPy_NULL with the error set


def PyErr_SetFromErrnoWithFilenameObjects(t, f1, f2):
    names = [f for f in (f1, f2) if f is not None]
    if f2 is not None and f1 is None:
        names = [None, f2]
    errors.set_exc(_errno_exc(t, *names[:1]) if len(names) < 2 else
                   t(ffi.errno, os.strerror(ffi.errno), names[0], None, names[1]))


def PyErr_ExceptionMatches(t):
    exc = errors.current()
    if exc is None:
        return 0
    if isinstance(t, tuple):
        return int(any(PyErr_ExceptionMatches(x) for x in t))
    return int(isinstance(t, type) and isinstance(exc, t))


def PyErr_NoMemory():
    errors.set_exc(MemoryError())


def PyErr_Clear():
    errors.clear()


def PyErr_NewException(name, base, dict_):
    return PyErr_NewExceptionWithDoc(name, None, base, dict_)


def PyErr_NewExceptionWithDoc(name, doc, base, dict_):
    module, dot, short = name.rpartition(".")
    if not dot:
        raise SystemError("PyErr_NewException: name must be module.class")
    ns = dict(dict_) if dict_ is not None else {}
    ns.setdefault("__module__", module)
    if doc is not None:
        ns["__doc__"] = doc
    bases = base if isinstance(base, tuple) else (base if base is not None else Exception,)
    return type(short, bases, ns)


def PyErr_WarnEx(category, message, stack_level):
    # stack_level 1 is the Python code that called the C function: skip the runtime's frames
    # (level 1 would be this function for warnings.warn; the first frame not ours is the caller)
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category if category is not None else RuntimeWarning,
                  level + max(stack_level, 1) - 1)
    return 0


_HERE = os.path.dirname(os.path.abspath(__file__))


def PyErr_WriteUnraisable(obj):
    exc = errors.take()
    if exc is None:
        return
    hook = getattr(sys, "unraisablehook", None)
    if hook is not None:
        class _U:
            exc_type = type(exc)
            exc_value = exc
            exc_traceback = exc.__traceback__
            err_msg = None
            object = obj
        hook(_U)
    else:
        sys.stderr.write("Exception ignored in: %r\n%r\n" % (obj, exc))


def PyObject_IsTrue(o):
    return 1 if o else 0


# ---- attributes, items, objects ------------------------------------------
PyObject_GetAttr = PyObject_GetAttrString = getattr


def PyObject_HasAttr(o, name):
    try:
        return int(hasattr(o, name))
    except Exception:
        return 0


PyObject_HasAttrString = PyObject_HasAttr


def PyObject_SetAttr(o, name, value):
    setattr(o, name, value)
    return 0


PyObject_SetAttrString = PyObject_SetAttr
PyObject_GetItem = operator.getitem


def PyObject_SetItem(o, key, value):
    o[key] = value
    return 0


def PyObject_DelItem(o, key):
    del o[key]
    return 0


def PySequence_Contains(container, key):
    return int(key in container)


PyObject_Repr = repr
PyObject_Str = str
PyObject_ASCII = ascii


def PyObject_Bytes(o):
    if isinstance(o, bytes):
        return o
    if hasattr(type(o), "__bytes__"):
        return type(o).__bytes__(o)
    if isinstance(o, (str, int)) or not hasattr(type(o), "__iter__") and not hasattr(type(o), "__buffer__"):
        raise TypeError("cannot convert '%s' object to bytes" % type(o).__name__)
    return bytes(o)


_OPS = (operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge)


def PyObject_RichCompare(a, b, op):
    if not 0 <= op < 6:
        raise SystemError("Bad internal call: invalid comparison operator %d" % op)
    return _OPS[op](a, b)


def PyObject_RichCompareBool(a, b, op):
    if a is b and op in (2, 3):
        return 1 if op == 2 else 0
    return 1 if PyObject_RichCompare(a, b, op) else 0


PyObject_Hash = hash


# ---- bytes, str ----------------------------------------------------------

def _check_bytes(o):
    if not isinstance(o, bytes):
        raise TypeError("expected bytes, %s found" % type(o).__name__)
    return o


def PyBytes_Check(o):
    return int(isinstance(o, bytes))


def PyBytes_Size(o):
    return len(_check_bytes(o))


PyBytes_GET_SIZE = PyBytes_Size


def PyBytes_FromString(p):
    return ffi.string(p)


def PyUnicode_FromString(s):
    return s


def PyUnicode_Check(o):
    return int(isinstance(o, str))


def _check_str(o):
    if not isinstance(o, str):
        raise TypeError("bad argument type for built-in operation")
    return o


def PyUnicode_AsASCIIString(o):
    return _check_str(o).encode("ascii")


def PyUnicode_AsLatin1String(o):
    try:
        return _check_str(o).encode("latin-1")
    except UnicodeEncodeError as exc:
        # PyPy names the codec 'latin1'; CPython's C API says 'latin-1'
        raise UnicodeEncodeError("latin-1", exc.object, exc.start, exc.end, exc.reason) from None


def PyUnicode_AsUTF8String(o):
    return _check_str(o).encode("utf-8")


def PyUnicode_FromWideChar(w, size):
    if w == ffi.NULL:
        if size == 0:
            return ""
        raise SystemError("Bad internal call")
    return ffi.unpack(w, size) if size >= 0 else ffi.string(w)


def PyUnicode_DecodeFSDefault(p):
    return os.fsdecode(ffi.string(p))


def PyUnicode_DecodeFSDefaultAndSize(p, size):
    return os.fsdecode(ffi.unpack(p, size))


def PyUnicode_EncodeFSDefault(o):
    return os.fsencode(_check_str(o))


def PyUnicode_ReadChar(o, index):
    s = _check_str(o)
    if not 0 <= index < len(s):
        raise IndexError("string index out of range")
    return ord(s[index])


def _errors(p):
    if p == ffi.NULL:
        return "strict"
    name = ffi.string(p).decode("ascii")
    try:
        codecs.lookup_error(name)
    except LookupError:
        # as CPython says it (PyPy's decoders wrap the lookup's error in another one)
        raise LookupError("unknown error handler name '%s'" % name) from None
    return name


def PyUnicode_DecodeASCII(p, size, errs):
    return ffi.unpack(p, size).decode("ascii", _errors(errs))


def PyUnicode_DecodeLatin1(p, size, errs):
    return ffi.unpack(p, size).decode("latin-1", _errors(errs))


def PyUnicode_FromEncodedObject(o, encoding, errs):
    if isinstance(o, str):
        raise TypeError("decoding str is not supported")
    enc = "utf-8" if encoding == ffi.NULL else ffi.string(encoding).decode("ascii")
    return bytes(memoryview(o)).decode(enc, _errors(errs))


def PyUnicode_Substring(o, start, end):
    s = _check_str(o)
    if start < 0 or end < 0:
        raise IndexError("string index out of range")
    return s[start:end]


# ---- containers ----------------------------------------------------------

def PyList_Check(o):
    return int(isinstance(o, list))


def PyList_New(n):
    if n < 0:
        raise SystemError("Bad internal call: negative size passed to PyList_New")
    return [None] * n


def PyList_Append(lst, item):
    if not isinstance(lst, list):
        raise SystemError("bad argument to internal function")
    lst.append(item)
    return 0


def PyDict_Check(o):
    return int(isinstance(o, dict))


PyDict_New = dict


def PyDict_Keys(d):
    if not isinstance(d, dict):
        raise SystemError("bad argument to internal function")
    return list(d)


def PyDict_Copy(d):
    if not isinstance(d, dict):
        raise SystemError("bad argument to internal function")
    return dict(d)


def PyTuple_Check(o):
    return int(isinstance(o, tuple))


def PyImport_ImportModule(name):
    __import__(name)
    return sys.modules[name]


def PyCapsule_IsValid(o, name):
    from hpy_build.runtime.pypy.ctx_objects import capsule_is_valid
    return capsule_is_valid(o, name)


PyContextVar_New = contextvars.ContextVar


def PyContextVar_Set(var, value):
    if not isinstance(var, contextvars.ContextVar):
        raise TypeError("an instance of ContextVar was expected")
    return var.set(value)


del builtins, _errno
