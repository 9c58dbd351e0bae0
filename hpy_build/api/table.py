"""The HPy API table: the one source of truth for the HPy context.

Every member of the universal context is declared here, in ABI order (member n
sits at slot 3+n of ``struct _HPyContext_s``), with the public function's C
declaration and how it maps onto CPython's C API:

- ``call="PyX"``: mechanical; HPy arguments are unwrapped, an HPy result wrapped.
- ``body="..."``: a short C body, written once here and used both by the
  CPython ABI (inline in the extension) and by the universal runtime.
- ``impl=True``: hand-written ``ctx_<Name>`` in ``hpy_build/runtime/cpython/ctx/``.

``hpy_build.api.autogen`` turns this module into every generated header and
runtime table. ``tests/test_api_table.py`` checks it against the HPy 0.9.0 ABI.
"""
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

ABI_MAJOR = 0
ABI_MINOR = 0
ABI_TAG = "hpy%d" % ABI_MAJOR


@dataclass(frozen=True)
class Param:
    type: str
    name: str

    @property
    def is_handle(self):
        return self.type == "HPy"

    def decl(self):
        if self.name.endswith("[]"):
            return "%s %s" % (self.type, self.name)
        return ("%s%s" if self.type.endswith("*") else "%s %s") % (self.type, self.name)

    @property
    def cname(self):
        return self.name[:-2] if self.name.endswith("[]") else self.name


@dataclass(frozen=True)
class Member:
    id: int
    public_name: str

    @property
    def ctx_name(self):
        """``HPyLong_FromInt32_t`` -> ``ctx_Long_FromInt32_t``."""
        name = self.public_name
        if self.is_handle:
            return name
        return "ctx_" + re.sub(r"^_?HPy_?", "", name)

    @property
    def is_handle(self):
        return self.public_name.startswith("h_")


@dataclass(frozen=True)
class Handle(Member):
    cpython: str  # a C expression giving the (borrowed) PyObject *


@dataclass(frozen=True)
class Function(Member):
    return_type: str
    params: Tuple[Param, ...]
    call: Optional[str] = None
    body: Optional[str] = None
    impl: bool = False
    # HPyErr_SetString and friends return HPy_NULL to C code, but the context
    # member itself returns void (an ABI fact of HPy 0.9).
    ctx_returns_void: bool = False
    # Only meaningful inside a universal runtime (no CPython-ABI function).
    runtime_only: bool = False
    # Never returns (declared _HPy_NO_RETURN, as in HPy 0.9).
    noreturn: bool = False
    # C statements the universal ABI's inline function runs before calling the context.
    universal_guard: Optional[str] = None

    @property
    def ctx_return_type(self):
        return "void" if self.ctx_returns_void else self.return_type

    @property
    def args(self):
        return ", ".join(p.cname for p in self.params)


_DECL = re.compile(r"^(?P<ret>.+?[\s*])(?P<name>\w+)\((?P<params>.*)\)$")


def _parse_param(text):
    m = re.match(r"^(?P<type>.+?)\s*(?P<name>\w+(\[\])?)$", text.strip())
    return Param(m.group("type").strip(), m.group("name"))


def handle(id, public_name, cpython):
    return Handle(id, public_name, cpython)


def function(id, decl, **mapping):
    m = _DECL.match(decl)
    if m is None:
        raise ValueError("cannot parse declaration: %r" % decl)
    params = tuple(_parse_param(p) for p in m.group("params").split(","))
    if params[0] != Param("HPyContext *", "ctx"):
        raise ValueError("%s: first parameter must be HPyContext *ctx" % decl)
    kinds = [k for k in ("call", "body", "impl") if mapping.get(k)]
    if len(kinds) != 1:
        raise ValueError("%s: give exactly one of call/body/impl" % decl)
    return Function(id, m.group("name"), m.group("ret").strip(), params, **mapping)


MEMBERS: List[Member] = [
    handle(0, "h_None", "Py_None"),
    handle(1, "h_True", "Py_True"),
    handle(2, "h_False", "Py_False"),
    handle(3, "h_NotImplemented", "Py_NotImplemented"),
    handle(4, "h_Ellipsis", "Py_Ellipsis"),
    handle(5, "h_BaseException", "PyExc_BaseException"),
    handle(6, "h_Exception", "PyExc_Exception"),
    handle(7, "h_StopAsyncIteration", "PyExc_StopAsyncIteration"),
    handle(8, "h_StopIteration", "PyExc_StopIteration"),
    handle(9, "h_GeneratorExit", "PyExc_GeneratorExit"),
    handle(10, "h_ArithmeticError", "PyExc_ArithmeticError"),
    handle(11, "h_LookupError", "PyExc_LookupError"),
    handle(12, "h_AssertionError", "PyExc_AssertionError"),
    handle(13, "h_AttributeError", "PyExc_AttributeError"),
    handle(14, "h_BufferError", "PyExc_BufferError"),
    handle(15, "h_EOFError", "PyExc_EOFError"),
    handle(16, "h_FloatingPointError", "PyExc_FloatingPointError"),
    handle(17, "h_OSError", "PyExc_OSError"),
    handle(18, "h_ImportError", "PyExc_ImportError"),
    handle(19, "h_ModuleNotFoundError", "PyExc_ModuleNotFoundError"),
    handle(20, "h_IndexError", "PyExc_IndexError"),
    handle(21, "h_KeyError", "PyExc_KeyError"),
    handle(22, "h_KeyboardInterrupt", "PyExc_KeyboardInterrupt"),
    handle(23, "h_MemoryError", "PyExc_MemoryError"),
    handle(24, "h_NameError", "PyExc_NameError"),
    handle(25, "h_OverflowError", "PyExc_OverflowError"),
    handle(26, "h_RuntimeError", "PyExc_RuntimeError"),
    handle(27, "h_RecursionError", "PyExc_RecursionError"),
    handle(28, "h_NotImplementedError", "PyExc_NotImplementedError"),
    handle(29, "h_SyntaxError", "PyExc_SyntaxError"),
    handle(30, "h_IndentationError", "PyExc_IndentationError"),
    handle(31, "h_TabError", "PyExc_TabError"),
    handle(32, "h_ReferenceError", "PyExc_ReferenceError"),
    handle(33, "h_SystemError", "PyExc_SystemError"),
    handle(34, "h_SystemExit", "PyExc_SystemExit"),
    handle(35, "h_TypeError", "PyExc_TypeError"),
    handle(36, "h_UnboundLocalError", "PyExc_UnboundLocalError"),
    handle(37, "h_UnicodeError", "PyExc_UnicodeError"),
    handle(38, "h_UnicodeEncodeError", "PyExc_UnicodeEncodeError"),
    handle(39, "h_UnicodeDecodeError", "PyExc_UnicodeDecodeError"),
    handle(40, "h_UnicodeTranslateError", "PyExc_UnicodeTranslateError"),
    handle(41, "h_ValueError", "PyExc_ValueError"),
    handle(42, "h_ZeroDivisionError", "PyExc_ZeroDivisionError"),
    handle(43, "h_BlockingIOError", "PyExc_BlockingIOError"),
    handle(44, "h_BrokenPipeError", "PyExc_BrokenPipeError"),
    handle(45, "h_ChildProcessError", "PyExc_ChildProcessError"),
    handle(46, "h_ConnectionError", "PyExc_ConnectionError"),
    handle(47, "h_ConnectionAbortedError", "PyExc_ConnectionAbortedError"),
    handle(48, "h_ConnectionRefusedError", "PyExc_ConnectionRefusedError"),
    handle(49, "h_ConnectionResetError", "PyExc_ConnectionResetError"),
    handle(50, "h_FileExistsError", "PyExc_FileExistsError"),
    handle(51, "h_FileNotFoundError", "PyExc_FileNotFoundError"),
    handle(52, "h_InterruptedError", "PyExc_InterruptedError"),
    handle(53, "h_IsADirectoryError", "PyExc_IsADirectoryError"),
    handle(54, "h_NotADirectoryError", "PyExc_NotADirectoryError"),
    handle(55, "h_PermissionError", "PyExc_PermissionError"),
    handle(56, "h_ProcessLookupError", "PyExc_ProcessLookupError"),
    handle(57, "h_TimeoutError", "PyExc_TimeoutError"),
    handle(58, "h_Warning", "PyExc_Warning"),
    handle(59, "h_UserWarning", "PyExc_UserWarning"),
    handle(60, "h_DeprecationWarning", "PyExc_DeprecationWarning"),
    handle(61, "h_PendingDeprecationWarning", "PyExc_PendingDeprecationWarning"),
    handle(62, "h_SyntaxWarning", "PyExc_SyntaxWarning"),
    handle(63, "h_RuntimeWarning", "PyExc_RuntimeWarning"),
    handle(64, "h_FutureWarning", "PyExc_FutureWarning"),
    handle(65, "h_ImportWarning", "PyExc_ImportWarning"),
    handle(66, "h_UnicodeWarning", "PyExc_UnicodeWarning"),
    handle(67, "h_BytesWarning", "PyExc_BytesWarning"),
    handle(68, "h_ResourceWarning", "PyExc_ResourceWarning"),
    handle(69, "h_BaseObjectType", "(PyObject *)&PyBaseObject_Type"),
    handle(70, "h_TypeType", "(PyObject *)&PyType_Type"),
    handle(71, "h_BoolType", "(PyObject *)&PyBool_Type"),
    handle(72, "h_LongType", "(PyObject *)&PyLong_Type"),
    handle(73, "h_FloatType", "(PyObject *)&PyFloat_Type"),
    handle(74, "h_UnicodeType", "(PyObject *)&PyUnicode_Type"),
    handle(75, "h_TupleType", "(PyObject *)&PyTuple_Type"),
    handle(76, "h_ListType", "(PyObject *)&PyList_Type"),
    function(77, "HPy HPy_Dup(HPyContext *ctx, HPy h)", body="Py_XINCREF(_h2py(h)); return h;"),
    function(78, "void HPy_Close(HPyContext *ctx, HPy h)", body="Py_XDECREF(_h2py(h));"),
    function(79, "HPy HPyLong_FromInt32_t(HPyContext *ctx, int32_t value)", call="PyLong_FromLong"),
    function(80, "HPy HPyLong_FromUInt32_t(HPyContext *ctx, uint32_t value)", call="PyLong_FromUnsignedLong"),
    function(81, "HPy HPyLong_FromInt64_t(HPyContext *ctx, int64_t v)", call="PyLong_FromLongLong"),
    function(82, "HPy HPyLong_FromUInt64_t(HPyContext *ctx, uint64_t v)", call="PyLong_FromUnsignedLongLong"),
    function(83, "HPy HPyLong_FromSize_t(HPyContext *ctx, size_t value)", call="PyLong_FromSize_t"),
    function(84, "HPy HPyLong_FromSsize_t(HPyContext *ctx, HPy_ssize_t value)", call="PyLong_FromSsize_t"),
    function(85, "int32_t HPyLong_AsInt32_t(HPyContext *ctx, HPy h)", body='long v = PyLong_AsLong(_h2py(h)); if (v != (int32_t)v && !PyErr_Occurred()) { PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C int32_t"); return -1; } return (int32_t)v;'),
    function(86, "uint32_t HPyLong_AsUInt32_t(HPyContext *ctx, HPy h)", body='unsigned long v = PyLong_AsUnsignedLong(_h2py(h)); if (v != (uint32_t)v && !PyErr_Occurred()) { PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C uint32_t"); return (uint32_t)-1; } return (uint32_t)v;'),
    function(87, "uint32_t HPyLong_AsUInt32_tMask(HPyContext *ctx, HPy h)", body="return (uint32_t)PyLong_AsUnsignedLongMask(_h2py(h));"),
    function(88, "int64_t HPyLong_AsInt64_t(HPyContext *ctx, HPy h)", call="PyLong_AsLongLong"),
    function(89, "uint64_t HPyLong_AsUInt64_t(HPyContext *ctx, HPy h)", call="PyLong_AsUnsignedLongLong"),
    function(90, "uint64_t HPyLong_AsUInt64_tMask(HPyContext *ctx, HPy h)", call="PyLong_AsUnsignedLongLongMask"),
    function(91, "size_t HPyLong_AsSize_t(HPyContext *ctx, HPy h)", call="PyLong_AsSize_t"),
    function(92, "HPy_ssize_t HPyLong_AsSsize_t(HPyContext *ctx, HPy h)", call="PyLong_AsSsize_t"),
    function(93, "void *HPyLong_AsVoidPtr(HPyContext *ctx, HPy h)", call="PyLong_AsVoidPtr"),
    function(94, "double HPyLong_AsDouble(HPyContext *ctx, HPy h)", call="PyLong_AsDouble"),
    function(95, "HPy HPyFloat_FromDouble(HPyContext *ctx, double v)", call="PyFloat_FromDouble"),
    function(96, "double HPyFloat_AsDouble(HPyContext *ctx, HPy h)", call="PyFloat_AsDouble"),
    function(97, "HPy HPyBool_FromBool(HPyContext *ctx, bool v)", call="PyBool_FromLong"),
    function(98, "HPy_ssize_t HPy_Length(HPyContext *ctx, HPy h)", call="PyObject_Length"),
    function(99, "int HPyNumber_Check(HPyContext *ctx, HPy h)", call="PyNumber_Check"),
    function(100, "HPy HPy_Add(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Add"),
    function(101, "HPy HPy_Subtract(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Subtract"),
    function(102, "HPy HPy_Multiply(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Multiply"),
    function(103, "HPy HPy_MatrixMultiply(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_MatrixMultiply"),
    function(104, "HPy HPy_FloorDivide(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_FloorDivide"),
    function(105, "HPy HPy_TrueDivide(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_TrueDivide"),
    function(106, "HPy HPy_Remainder(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Remainder"),
    function(107, "HPy HPy_Divmod(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Divmod"),
    function(108, "HPy HPy_Power(HPyContext *ctx, HPy h1, HPy h2, HPy h3)", call="PyNumber_Power"),
    function(109, "HPy HPy_Negative(HPyContext *ctx, HPy h1)", call="PyNumber_Negative"),
    function(110, "HPy HPy_Positive(HPyContext *ctx, HPy h1)", call="PyNumber_Positive"),
    function(111, "HPy HPy_Absolute(HPyContext *ctx, HPy h1)", call="PyNumber_Absolute"),
    function(112, "HPy HPy_Invert(HPyContext *ctx, HPy h1)", call="PyNumber_Invert"),
    function(113, "HPy HPy_Lshift(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Lshift"),
    function(114, "HPy HPy_Rshift(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Rshift"),
    function(115, "HPy HPy_And(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_And"),
    function(116, "HPy HPy_Xor(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Xor"),
    function(117, "HPy HPy_Or(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_Or"),
    function(118, "HPy HPy_Index(HPyContext *ctx, HPy h1)", call="PyNumber_Index"),
    function(119, "HPy HPy_Long(HPyContext *ctx, HPy h1)", call="PyNumber_Long"),
    function(120, "HPy HPy_Float(HPyContext *ctx, HPy h1)", call="PyNumber_Float"),
    function(121, "HPy HPy_InPlaceAdd(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceAdd"),
    function(122, "HPy HPy_InPlaceSubtract(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceSubtract"),
    function(123, "HPy HPy_InPlaceMultiply(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceMultiply"),
    function(124, "HPy HPy_InPlaceMatrixMultiply(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceMatrixMultiply"),
    function(125, "HPy HPy_InPlaceFloorDivide(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceFloorDivide"),
    function(126, "HPy HPy_InPlaceTrueDivide(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceTrueDivide"),
    function(127, "HPy HPy_InPlaceRemainder(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceRemainder"),
    function(128, "HPy HPy_InPlacePower(HPyContext *ctx, HPy h1, HPy h2, HPy h3)", call="PyNumber_InPlacePower"),
    function(129, "HPy HPy_InPlaceLshift(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceLshift"),
    function(130, "HPy HPy_InPlaceRshift(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceRshift"),
    function(131, "HPy HPy_InPlaceAnd(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceAnd"),
    function(132, "HPy HPy_InPlaceXor(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceXor"),
    function(133, "HPy HPy_InPlaceOr(HPyContext *ctx, HPy h1, HPy h2)", call="PyNumber_InPlaceOr"),
    function(134, "int HPyCallable_Check(HPyContext *ctx, HPy h)", call="PyCallable_Check"),
    function(135, "HPy HPy_CallTupleDict(HPyContext *ctx, HPy callable, HPy args, HPy kw)", impl=True),
    function(136, "void HPy_FatalError(HPyContext *ctx, const char *message)", call="Py_FatalError", noreturn=True),
    function(137, "HPy HPyErr_SetString(HPyContext *ctx, HPy h_type, const char *utf8_message)", call="PyErr_SetString", ctx_returns_void=True),
    function(138, "HPy HPyErr_SetObject(HPyContext *ctx, HPy h_type, HPy h_value)", call="PyErr_SetObject", ctx_returns_void=True),
    function(139, "HPy HPyErr_SetFromErrnoWithFilename(HPyContext *ctx, HPy h_type, const char *filename_fsencoded)", call="PyErr_SetFromErrnoWithFilename"),
    function(140, "HPy HPyErr_SetFromErrnoWithFilenameObjects(HPyContext *ctx, HPy h_type, HPy filename1, HPy filename2)", call="PyErr_SetFromErrnoWithFilenameObjects", ctx_returns_void=True),
    function(141, "int HPyErr_Occurred(HPyContext *ctx)", body="return PyErr_Occurred() != NULL;"),
    function(142, "int HPyErr_ExceptionMatches(HPyContext *ctx, HPy exc)", call="PyErr_ExceptionMatches"),
    function(143, "HPy HPyErr_NoMemory(HPyContext *ctx)", call="PyErr_NoMemory", ctx_returns_void=True),
    function(144, "void HPyErr_Clear(HPyContext *ctx)", call="PyErr_Clear"),
    function(145, "HPy HPyErr_NewException(HPyContext *ctx, const char *utf8_name, HPy base, HPy dict)", call="PyErr_NewException"),
    function(146, "HPy HPyErr_NewExceptionWithDoc(HPyContext *ctx, const char *utf8_name, const char *utf8_doc, HPy base, HPy dict)", call="PyErr_NewExceptionWithDoc"),
    function(147, "int HPyErr_WarnEx(HPyContext *ctx, HPy category, const char *utf8_message, HPy_ssize_t stack_level)", call="PyErr_WarnEx"),
    function(148, "void HPyErr_WriteUnraisable(HPyContext *ctx, HPy obj)", call="PyErr_WriteUnraisable"),
    function(149, "int HPy_IsTrue(HPyContext *ctx, HPy h)", call="PyObject_IsTrue"),
    function(150, "HPy HPyType_FromSpec(HPyContext *ctx, HPyType_Spec *spec, HPyType_SpecParam *params)", impl=True,
             # a universal module cannot make PyType_Slot arrays, but a hand-made one must not reach CPython
             universal_guard='if (spec->legacy_slots != NULL) return HPyErr_SetString(ctx, ctx->h_TypeError, "HPyType_Spec.legacy_slots need the C API, which the universal ABI cannot use: build the module for the hybrid or cpython ABI");'),
    function(151, "HPy HPyType_GenericNew(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)", impl=True),
    function(152, "HPy HPy_GetAttr(HPyContext *ctx, HPy obj, HPy name)", call="PyObject_GetAttr"),
    function(153, "HPy HPy_GetAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name)", call="PyObject_GetAttrString"),
    function(154, "int HPy_HasAttr(HPyContext *ctx, HPy obj, HPy name)", call="PyObject_HasAttr"),
    function(155, "int HPy_HasAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name)", call="PyObject_HasAttrString"),
    function(156, "int HPy_SetAttr(HPyContext *ctx, HPy obj, HPy name, HPy value)", call="PyObject_SetAttr"),
    function(157, "int HPy_SetAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name, HPy value)", call="PyObject_SetAttrString"),
    function(158, "HPy HPy_GetItem(HPyContext *ctx, HPy obj, HPy key)", call="PyObject_GetItem"),
    # Exact lists and tuples read the item in place, as PySequence_GetItem's
    # callers would; everything else (negative or out-of-range indices,
    # subclasses, dicts) takes the generic path, which builds the int key.
    # Not on PyPy, whose cpyext lists are not PyListObjects in place.
    function(159, "HPy HPy_GetItem_i(HPyContext *ctx, HPy obj, HPy_ssize_t idx)", body=(
        "#ifndef PYPY_VERSION\n"
        "PyObject *o = _h2py(obj), *item = NULL;\n"
        "if (PyList_CheckExact(o) && (size_t)idx < (size_t)PyList_GET_SIZE(o))\n"
        "    item = PyList_GET_ITEM(o, idx);\n"
        "else if (PyTuple_CheckExact(o) && (size_t)idx < (size_t)PyTuple_GET_SIZE(o))\n"
        "    item = PyTuple_GET_ITEM(o, idx);\n"
        "if (item != NULL) {\n"
        "    Py_INCREF(item);\n"
        "    return _py2h(item);\n"
        "}\n"
        "#endif\n"
        "return _hpy_GetItem_i_generic(ctx, obj, idx);")),
    function(160, "HPy HPy_GetItem_s(HPyContext *ctx, HPy obj, const char *utf8_key)", impl=True),
    function(161, "int HPy_Contains(HPyContext *ctx, HPy container, HPy key)", call="PySequence_Contains"),
    function(162, "int HPy_SetItem(HPyContext *ctx, HPy obj, HPy key, HPy value)", call="PyObject_SetItem"),
    # An exact list stores in place (the old item is released after, as
    # list_ass_item does); a NULL value goes the generic way to its SystemError.
    function(163, "int HPy_SetItem_i(HPyContext *ctx, HPy obj, HPy_ssize_t idx, HPy value)", body=(
        "#ifndef PYPY_VERSION\n"
        "PyObject *o = _h2py(obj), *v = _h2py(value);\n"
        "if (PyList_CheckExact(o) && v != NULL && (size_t)idx < (size_t)PyList_GET_SIZE(o)) {\n"
        "    PyObject *old = PyList_GET_ITEM(o, idx);\n"
        "    Py_INCREF(v);\n"
        "    PyList_SET_ITEM(o, idx, v);\n"
        "    Py_XDECREF(old);\n"
        "    return 0;\n"
        "}\n"
        "#endif\n"
        "return _hpy_SetItem_i_generic(ctx, obj, idx, value);")),
    function(164, "int HPy_SetItem_s(HPyContext *ctx, HPy obj, const char *utf8_key, HPy value)", impl=True),
    function(165, "HPy HPy_Type(HPyContext *ctx, HPy obj)", body="PyObject *t = (PyObject *)Py_TYPE(_h2py(obj)); Py_INCREF(t); return _py2h(t);"),
    function(166, "int HPy_TypeCheck(HPyContext *ctx, HPy obj, HPy type)", body="return PyObject_TypeCheck(_h2py(obj), (PyTypeObject *)_h2py(type));"),
    function(167, "int HPy_Is(HPyContext *ctx, HPy obj, HPy other)", body="return _h2py(obj) == _h2py(other);"),
    function(168, "void *_HPy_AsStruct_Object(HPyContext *ctx, HPy h)", body="return (char *)_h2py(h) + _HPy_HEAD_SIZE(Object);"),
    function(169, "void *_HPy_AsStruct_Legacy(HPyContext *ctx, HPy h)", body="return _h2py(h);"),
    function(170, "HPy _HPy_New(HPyContext *ctx, HPy h_type, void **data)", impl=True),
    function(171, "HPy HPy_Repr(HPyContext *ctx, HPy obj)", call="PyObject_Repr"),
    function(172, "HPy HPy_Str(HPyContext *ctx, HPy obj)", call="PyObject_Str"),
    function(173, "HPy HPy_ASCII(HPyContext *ctx, HPy obj)", call="PyObject_ASCII"),
    function(174, "HPy HPy_Bytes(HPyContext *ctx, HPy obj)", call="PyObject_Bytes"),
    function(175, "HPy HPy_RichCompare(HPyContext *ctx, HPy v, HPy w, int op)", call="PyObject_RichCompare"),
    function(176, "int HPy_RichCompareBool(HPyContext *ctx, HPy v, HPy w, int op)", call="PyObject_RichCompareBool"),
    function(177, "HPy_hash_t HPy_Hash(HPyContext *ctx, HPy obj)", call="PyObject_Hash"),
    function(178, "int HPyBytes_Check(HPyContext *ctx, HPy h)", call="PyBytes_Check"),
    function(179, "HPy_ssize_t HPyBytes_Size(HPyContext *ctx, HPy h)", call="PyBytes_Size"),
    function(180, "HPy_ssize_t HPyBytes_GET_SIZE(HPyContext *ctx, HPy h)", call="PyBytes_GET_SIZE"),
    function(181, "const char *HPyBytes_AsString(HPyContext *ctx, HPy h)", call="PyBytes_AsString"),
    function(182, "const char *HPyBytes_AS_STRING(HPyContext *ctx, HPy h)", call="PyBytes_AS_STRING"),
    function(183, "HPy HPyBytes_FromString(HPyContext *ctx, const char *bytes)", call="PyBytes_FromString"),
    function(184, "HPy HPyBytes_FromStringAndSize(HPyContext *ctx, const char *bytes, HPy_ssize_t len)", body='/* CPython would hand out len bytes of uninitialised memory */ if (bytes == NULL) { PyErr_SetString(PyExc_ValueError, "NULL char * passed to HPyBytes_FromStringAndSize"); return HPy_NULL; } return _py2h(PyBytes_FromStringAndSize(bytes, len));'),
    function(185, "HPy HPyUnicode_FromString(HPyContext *ctx, const char *utf8)", call="PyUnicode_FromString"),
    function(186, "int HPyUnicode_Check(HPyContext *ctx, HPy h)", call="PyUnicode_Check"),
    function(187, "HPy HPyUnicode_AsASCIIString(HPyContext *ctx, HPy h)", call="PyUnicode_AsASCIIString"),
    function(188, "HPy HPyUnicode_AsLatin1String(HPyContext *ctx, HPy h)", call="PyUnicode_AsLatin1String"),
    function(189, "HPy HPyUnicode_AsUTF8String(HPyContext *ctx, HPy h)", call="PyUnicode_AsUTF8String"),
    function(190, "const char *HPyUnicode_AsUTF8AndSize(HPyContext *ctx, HPy h, HPy_ssize_t *size)", call="PyUnicode_AsUTF8AndSize"),
    function(191, "HPy HPyUnicode_FromWideChar(HPyContext *ctx, const wchar_t *w, HPy_ssize_t size)", call="PyUnicode_FromWideChar"),
    function(192, "HPy HPyUnicode_DecodeFSDefault(HPyContext *ctx, const char *v)", call="PyUnicode_DecodeFSDefault"),
    function(193, "HPy HPyUnicode_DecodeFSDefaultAndSize(HPyContext *ctx, const char *v, HPy_ssize_t size)", call="PyUnicode_DecodeFSDefaultAndSize"),
    function(194, "HPy HPyUnicode_EncodeFSDefault(HPyContext *ctx, HPy h)", call="PyUnicode_EncodeFSDefault"),
    function(195, "HPy_UCS4 HPyUnicode_ReadChar(HPyContext *ctx, HPy h, HPy_ssize_t index)", call="PyUnicode_ReadChar"),
    function(196, "HPy HPyUnicode_DecodeASCII(HPyContext *ctx, const char *ascii, HPy_ssize_t size, const char *errors)", call="PyUnicode_DecodeASCII"),
    function(197, "HPy HPyUnicode_DecodeLatin1(HPyContext *ctx, const char *latin1, HPy_ssize_t size, const char *errors)", call="PyUnicode_DecodeLatin1"),
    function(198, "int HPyList_Check(HPyContext *ctx, HPy h)", call="PyList_Check"),
    function(199, "HPy HPyList_New(HPyContext *ctx, HPy_ssize_t len)", call="PyList_New"),
    function(200, "int HPyList_Append(HPyContext *ctx, HPy h_list, HPy h_item)", call="PyList_Append"),
    function(201, "int HPyDict_Check(HPyContext *ctx, HPy h)", call="PyDict_Check"),
    function(202, "HPy HPyDict_New(HPyContext *ctx)", call="PyDict_New"),
    function(203, "int HPyTuple_Check(HPyContext *ctx, HPy h)", call="PyTuple_Check"),
    function(204, "HPy HPyTuple_FromArray(HPyContext *ctx, HPy items[], HPy_ssize_t n)", impl=True),
    function(205, "HPy HPyImport_ImportModule(HPyContext *ctx, const char *utf8_name)", call="PyImport_ImportModule"),
    function(206, "HPy HPy_FromPyObject(HPyContext *ctx, cpy_PyObject *obj)", body="Py_XINCREF(obj); return _py2h(obj);"),
    function(207, "cpy_PyObject *HPy_AsPyObject(HPyContext *ctx, HPy h)", body="PyObject *o = _h2py(h); Py_XINCREF(o); return o;"),
    function(208, "void _HPy_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig, HPyCFunction func, void *args)", impl=True, runtime_only=True),
    function(209, "HPyListBuilder HPyListBuilder_New(HPyContext *ctx, HPy_ssize_t size)", body="PyObject *lst = PyList_New(size); if (lst == NULL) PyErr_Clear(); /* reported by Build */ return _hpy_listbuilder(lst);"),
    function(210, "void HPyListBuilder_Set(HPyContext *ctx, HPyListBuilder builder, HPy_ssize_t index, HPy h_item)", body="PyObject *lst = (PyObject *)builder._lst, *item = _h2py(h_item); if (lst == NULL) return; Py_INCREF(item); PyList_SET_ITEM(lst, index, item);"),
    function(211, "HPy HPyListBuilder_Build(HPyContext *ctx, HPyListBuilder builder)", body="PyObject *lst = (PyObject *)builder._lst; if (lst == NULL) { PyErr_NoMemory(); return HPy_NULL; } return _py2h(lst);"),
    function(212, "void HPyListBuilder_Cancel(HPyContext *ctx, HPyListBuilder builder)", body="Py_XDECREF((PyObject *)builder._lst);"),
    function(213, "HPyTupleBuilder HPyTupleBuilder_New(HPyContext *ctx, HPy_ssize_t size)", body="PyObject *tup = PyTuple_New(size); if (tup == NULL) PyErr_Clear(); /* reported by Build */ return _hpy_tuplebuilder(tup);"),
    function(214, "void HPyTupleBuilder_Set(HPyContext *ctx, HPyTupleBuilder builder, HPy_ssize_t index, HPy h_item)", body="PyObject *tup = (PyObject *)builder._tup, *item = _h2py(h_item); if (tup == NULL) return; Py_INCREF(item); PyTuple_SET_ITEM(tup, index, item);"),
    function(215, "HPy HPyTupleBuilder_Build(HPyContext *ctx, HPyTupleBuilder builder)", body="PyObject *tup = (PyObject *)builder._tup; if (tup == NULL) { PyErr_NoMemory(); return HPy_NULL; } return _py2h(tup);"),
    function(216, "void HPyTupleBuilder_Cancel(HPyContext *ctx, HPyTupleBuilder builder)", body="Py_XDECREF((PyObject *)builder._tup);"),
    function(217, "HPyTracker HPyTracker_New(HPyContext *ctx, HPy_ssize_t size)", impl=True),
    function(218, "int HPyTracker_Add(HPyContext *ctx, HPyTracker ht, HPy h)", impl=True),
    function(219, "void HPyTracker_ForgetAll(HPyContext *ctx, HPyTracker ht)", impl=True),
    function(220, "void HPyTracker_Close(HPyContext *ctx, HPyTracker ht)", impl=True),
    function(221, "void HPyField_Store(HPyContext *ctx, HPy target_object, HPyField *target_field, HPy h)", body="PyObject *old = (PyObject *)target_field->_i; Py_XINCREF(_h2py(h)); target_field->_i = h._i; Py_XDECREF(old);"),
    function(222, "HPy HPyField_Load(HPyContext *ctx, HPy source_object, HPyField source_field)", body="PyObject *o = (PyObject *)source_field._i; Py_XINCREF(o); return _py2h(o);"),
    function(223, "void HPy_ReenterPythonExecution(HPyContext *ctx, HPyThreadState state)", body="PyEval_RestoreThread((PyThreadState *)state._i);"),
    function(224, "HPyThreadState HPy_LeavePythonExecution(HPyContext *ctx)", body="return _hpy_threadstate(PyEval_SaveThread());"),
    function(225, "void HPyGlobal_Store(HPyContext *ctx, HPyGlobal *global, HPy h)", body="PyObject *old = (PyObject *)global->_i; Py_XINCREF(_h2py(h)); global->_i = h._i; Py_XDECREF(old);"),
    function(226, "HPy HPyGlobal_Load(HPyContext *ctx, HPyGlobal global)", body="PyObject *o = (PyObject *)global._i; if (o == NULL) { PyErr_SetString(PyExc_SystemError, \"HPyGlobal_Load: the global was never stored\"); return HPy_NULL; } Py_INCREF(o); return _py2h(o);"),
    function(227, "void _HPy_Dump(HPyContext *ctx, HPy h)", impl=True),
    function(228, "void *_HPy_AsStruct_Type(HPyContext *ctx, HPy h)", body="return (char *)_h2py(h) + _HPy_HEAD_SIZE(Type);"),
    function(229, "void *_HPy_AsStruct_Long(HPyContext *ctx, HPy h)", body="return (char *)_h2py(h) + _HPy_HEAD_SIZE(Long);"),
    function(230, "void *_HPy_AsStruct_Float(HPyContext *ctx, HPy h)", body="return (char *)_h2py(h) + _HPy_HEAD_SIZE(Float);"),
    function(231, "void *_HPy_AsStruct_Unicode(HPyContext *ctx, HPy h)", body="return (char *)_h2py(h) + _HPy_HEAD_SIZE(Unicode);"),
    function(232, "void *_HPy_AsStruct_Tuple(HPyContext *ctx, HPy h)", body="return (char *)_h2py(h) + _HPy_HEAD_SIZE(Tuple);"),
    function(233, "void *_HPy_AsStruct_List(HPyContext *ctx, HPy h)", body="return (char *)_h2py(h) + _HPy_HEAD_SIZE(List);"),
    function(234, "HPyType_BuiltinShape _HPyType_GetBuiltinShape(HPyContext *ctx, HPy h_type)", impl=True),
    function(235, "int HPy_DelItem(HPyContext *ctx, HPy obj, HPy key)", call="PyObject_DelItem"),
    function(236, "int HPy_DelItem_i(HPyContext *ctx, HPy obj, HPy_ssize_t idx)", impl=True),
    function(237, "int HPy_DelItem_s(HPyContext *ctx, HPy obj, const char *utf8_key)", impl=True),
    handle(238, "h_ComplexType", "(PyObject *)&PyComplex_Type"),
    handle(239, "h_BytesType", "(PyObject *)&PyBytes_Type"),
    handle(240, "h_MemoryViewType", "(PyObject *)&PyMemoryView_Type"),
    handle(241, "h_CapsuleType", "(PyObject *)&PyCapsule_Type"),
    handle(242, "h_SliceType", "(PyObject *)&PySlice_Type"),
    handle(243, "h_Builtins", "PyEval_GetBuiltins()"),
    function(244, "HPy HPyCapsule_New(HPyContext *ctx, void *pointer, const char *utf8_name, HPyCapsule_Destructor *destructor)", impl=True),
    function(245, "void *HPyCapsule_Get(HPyContext *ctx, HPy capsule, _HPyCapsule_key key, const char *utf8_name)", impl=True),
    function(246, "int HPyCapsule_IsValid(HPyContext *ctx, HPy capsule, const char *utf8_name)", call="PyCapsule_IsValid"),
    function(247, "int HPyCapsule_Set(HPyContext *ctx, HPy capsule, _HPyCapsule_key key, void *value)", impl=True),
    function(248, "HPy HPy_Compile_s(HPyContext *ctx, const char *utf8_source, const char *utf8_filename, HPy_SourceKind kind)", impl=True),
    function(249, "HPy HPy_EvalCode(HPyContext *ctx, HPy code, HPy globals, HPy locals)", impl=True),
    function(250, "HPy HPyContextVar_New(HPyContext *ctx, const char *name, HPy default_value)", call="PyContextVar_New"),
    function(251, "int32_t HPyContextVar_Get(HPyContext *ctx, HPy context_var, HPy default_value, HPy *result)", body="PyObject *value = NULL; /* not written when the variable is no ContextVar */ int32_t ret = PyContextVar_Get(_h2py(context_var), _h2py(default_value), &value); *result = _py2h(value); return ret;"),
    function(252, "HPy HPyContextVar_Set(HPyContext *ctx, HPy context_var, HPy value)", call="PyContextVar_Set"),
    function(253, "const char *HPyType_GetName(HPyContext *ctx, HPy type)", body="PyTypeObject *tp = (PyTypeObject *)_h2py(type); const char *dot; if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) return PyUnicode_AsUTF8(((PyHeapTypeObject *)tp)->ht_name); dot = strrchr(tp->tp_name, '.'); return dot ? dot + 1 : tp->tp_name;"),
    function(254, "int HPyType_IsSubtype(HPyContext *ctx, HPy sub, HPy type)", body="return PyType_IsSubtype((PyTypeObject *)_h2py(sub), (PyTypeObject *)_h2py(type));"),
    function(255, "HPy HPyUnicode_FromEncodedObject(HPyContext *ctx, HPy obj, const char *encoding, const char *errors)", call="PyUnicode_FromEncodedObject"),
    function(256, "HPy HPyUnicode_Substring(HPyContext *ctx, HPy str, HPy_ssize_t start, HPy_ssize_t end)", call="PyUnicode_Substring"),
    function(257, "HPy HPyDict_Keys(HPyContext *ctx, HPy h)", call="PyDict_Keys"),
    function(258, "HPy HPyDict_Copy(HPyContext *ctx, HPy h)", call="PyDict_Copy"),
    function(259, "int HPySlice_Unpack(HPyContext *ctx, HPy slice, HPy_ssize_t *start, HPy_ssize_t *stop, HPy_ssize_t *step)", body='/* CPython does not check the type: a non-slice would crash it */ PyObject *s = _h2py(slice); if (!PySlice_Check(s)) { PyErr_Format(PyExc_TypeError, "expected a slice object, not %.100s", Py_TYPE(s)->tp_name); return -1; } return PySlice_Unpack(s, start, stop, step);'),
    function(260, "int HPy_SetCallFunction(HPyContext *ctx, HPy h, HPyCallFunction *func)", impl=True),
    function(261, "HPy HPy_Call(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)", impl=True),
    function(262, "HPy HPy_CallMethod(HPyContext *ctx, HPy name, const HPy *args, size_t nargs, HPy kwnames)", impl=True),
]
MEMBERS.sort(key=lambda member: member.id)
HANDLES = [m for m in MEMBERS if isinstance(m, Handle)]
FUNCTIONS = [m for m in MEMBERS if isinstance(m, Function)]


# ---- enums compiled into extension binaries (values are ABI) -------------

ENUMS = {
    "HPyFunc_Signature": [
        ("HPyFunc_VARARGS", 1), ("HPyFunc_KEYWORDS", 2), ("HPyFunc_NOARGS", 3),
        ("HPyFunc_O", 4), ("HPyFunc_DESTROYFUNC", 5), ("HPyFunc_GETBUFFERPROC", 6),
        ("HPyFunc_RELEASEBUFFERPROC", 7), ("HPyFunc_UNARYFUNC", 8),
        ("HPyFunc_BINARYFUNC", 9), ("HPyFunc_TERNARYFUNC", 10), ("HPyFunc_INQUIRY", 11),
        ("HPyFunc_LENFUNC", 12), ("HPyFunc_SSIZEARGFUNC", 13),
        ("HPyFunc_SSIZESSIZEARGFUNC", 14), ("HPyFunc_SSIZEOBJARGPROC", 15),
        ("HPyFunc_SSIZESSIZEOBJARGPROC", 16), ("HPyFunc_OBJOBJARGPROC", 17),
        ("HPyFunc_FREEFUNC", 18), ("HPyFunc_GETATTRFUNC", 19),
        ("HPyFunc_GETATTROFUNC", 20), ("HPyFunc_SETATTRFUNC", 21),
        ("HPyFunc_SETATTROFUNC", 22), ("HPyFunc_REPRFUNC", 23), ("HPyFunc_HASHFUNC", 24),
        ("HPyFunc_RICHCMPFUNC", 25), ("HPyFunc_GETITERFUNC", 26),
        ("HPyFunc_ITERNEXTFUNC", 27), ("HPyFunc_DESCRGETFUNC", 28),
        ("HPyFunc_DESCRSETFUNC", 29), ("HPyFunc_INITPROC", 30), ("HPyFunc_NEWFUNC", 31),
        ("HPyFunc_GETTER", 32), ("HPyFunc_SETTER", 33), ("HPyFunc_OBJOBJPROC", 34),
        ("HPyFunc_TRAVERSEPROC", 35), ("HPyFunc_DESTRUCTOR", 36),
        ("HPyFunc_CAPSULE_DESTRUCTOR", 37), ("HPyFunc_VECTORCALLFUNC", 38),
        ("HPyFunc_MOD_CREATE", 39),
    ],
    "HPyMember_FieldType": [
        ("HPyMember_SHORT", 0), ("HPyMember_INT", 1), ("HPyMember_LONG", 2),
        ("HPyMember_FLOAT", 3), ("HPyMember_DOUBLE", 4), ("HPyMember_STRING", 5),
        ("HPyMember_OBJECT", 6), ("HPyMember_CHAR", 7), ("HPyMember_BYTE", 8),
        ("HPyMember_UBYTE", 9), ("HPyMember_USHORT", 10), ("HPyMember_UINT", 11),
        ("HPyMember_ULONG", 12), ("HPyMember_STRING_INPLACE", 13), ("HPyMember_BOOL", 14),
        ("HPyMember_OBJECT_EX", 16), ("HPyMember_LONGLONG", 17),
        ("HPyMember_ULONGLONG", 18), ("HPyMember_HPYSSIZET", 19), ("HPyMember_NONE", 20),
    ],
    "HPyDef_Kind": [
        ("HPyDef_Kind_Slot", 1), ("HPyDef_Kind_Meth", 2), ("HPyDef_Kind_Member", 3),
        ("HPyDef_Kind_GetSet", 4),
    ],
    "HPyType_BuiltinShape": [
        ("HPyType_BuiltinShape_Legacy", -1), ("HPyType_BuiltinShape_Object", 0),
        ("HPyType_BuiltinShape_Type", 1), ("HPyType_BuiltinShape_Long", 2),
        ("HPyType_BuiltinShape_Float", 3), ("HPyType_BuiltinShape_Unicode", 4),
        ("HPyType_BuiltinShape_Tuple", 5), ("HPyType_BuiltinShape_List", 6),
    ],
    "HPyType_SpecParam_Kind": [
        ("HPyType_SpecParam_Base", 1), ("HPyType_SpecParam_BasesTuple", 2),
        ("HPyType_SpecParam_Metaclass", 3),
    ],
    "HPy_SourceKind": [
        ("HPy_SourceKind_Expr", 0), ("HPy_SourceKind_File", 1), ("HPy_SourceKind_Single", 2),
    ],
    "_HPyCapsule_key": [
        ("HPyCapsule_key_Pointer", 0), ("HPyCapsule_key_Name", 1),
        ("HPyCapsule_key_Context", 2), ("HPyCapsule_key_Destructor", 3),
    ],
    "HPy_RichCmpOp": [
        ("HPy_LT", 0), ("HPy_LE", 1), ("HPy_EQ", 2), ("HPy_NE", 3), ("HPy_GT", 4), ("HPy_GE", 5),
    ],
}

# HPySlot_Slot: (name, value, signature). Values match CPython's typeslots.h
# where a CPython slot exists; tp_destroy and the module slots are HPy's own.
SLOTS = [
    ("HPy_bf_getbuffer", 1, "GETBUFFERPROC"), ("HPy_bf_releasebuffer", 2, "RELEASEBUFFERPROC"),
    ("HPy_mp_ass_subscript", 3, "OBJOBJARGPROC"), ("HPy_mp_length", 4, "LENFUNC"),
    ("HPy_mp_subscript", 5, "BINARYFUNC"), ("HPy_nb_absolute", 6, "UNARYFUNC"),
    ("HPy_nb_add", 7, "BINARYFUNC"), ("HPy_nb_and", 8, "BINARYFUNC"),
    ("HPy_nb_bool", 9, "INQUIRY"), ("HPy_nb_divmod", 10, "BINARYFUNC"),
    ("HPy_nb_float", 11, "UNARYFUNC"), ("HPy_nb_floor_divide", 12, "BINARYFUNC"),
    ("HPy_nb_index", 13, "UNARYFUNC"), ("HPy_nb_inplace_add", 14, "BINARYFUNC"),
    ("HPy_nb_inplace_and", 15, "BINARYFUNC"), ("HPy_nb_inplace_floor_divide", 16, "BINARYFUNC"),
    ("HPy_nb_inplace_lshift", 17, "BINARYFUNC"), ("HPy_nb_inplace_multiply", 18, "BINARYFUNC"),
    ("HPy_nb_inplace_or", 19, "BINARYFUNC"), ("HPy_nb_inplace_power", 20, "TERNARYFUNC"),
    ("HPy_nb_inplace_remainder", 21, "BINARYFUNC"), ("HPy_nb_inplace_rshift", 22, "BINARYFUNC"),
    ("HPy_nb_inplace_subtract", 23, "BINARYFUNC"),
    ("HPy_nb_inplace_true_divide", 24, "BINARYFUNC"), ("HPy_nb_inplace_xor", 25, "BINARYFUNC"),
    ("HPy_nb_int", 26, "UNARYFUNC"), ("HPy_nb_invert", 27, "UNARYFUNC"),
    ("HPy_nb_lshift", 28, "BINARYFUNC"), ("HPy_nb_multiply", 29, "BINARYFUNC"),
    ("HPy_nb_negative", 30, "UNARYFUNC"), ("HPy_nb_or", 31, "BINARYFUNC"),
    ("HPy_nb_positive", 32, "UNARYFUNC"), ("HPy_nb_power", 33, "TERNARYFUNC"),
    ("HPy_nb_remainder", 34, "BINARYFUNC"), ("HPy_nb_rshift", 35, "BINARYFUNC"),
    ("HPy_nb_subtract", 36, "BINARYFUNC"), ("HPy_nb_true_divide", 37, "BINARYFUNC"),
    ("HPy_nb_xor", 38, "BINARYFUNC"), ("HPy_sq_ass_item", 39, "SSIZEOBJARGPROC"),
    ("HPy_sq_concat", 40, "BINARYFUNC"), ("HPy_sq_contains", 41, "OBJOBJPROC"),
    ("HPy_sq_inplace_concat", 42, "BINARYFUNC"), ("HPy_sq_inplace_repeat", 43, "SSIZEARGFUNC"),
    ("HPy_sq_item", 44, "SSIZEARGFUNC"), ("HPy_sq_length", 45, "LENFUNC"),
    ("HPy_sq_repeat", 46, "SSIZEARGFUNC"), ("HPy_tp_call", 50, "KEYWORDS"),
    ("HPy_tp_hash", 59, "HASHFUNC"), ("HPy_tp_init", 60, "INITPROC"),
    ("HPy_tp_new", 65, "NEWFUNC"), ("HPy_tp_repr", 66, "REPRFUNC"),
    ("HPy_tp_richcompare", 67, "RICHCMPFUNC"), ("HPy_tp_str", 70, "REPRFUNC"),
    ("HPy_tp_traverse", 71, "TRAVERSEPROC"), ("HPy_nb_matrix_multiply", 75, "BINARYFUNC"),
    ("HPy_nb_inplace_matrix_multiply", 76, "BINARYFUNC"), ("HPy_tp_finalize", 80, "DESTRUCTOR"),
    ("HPy_tp_destroy", 1000, "DESTROYFUNC"), ("HPy_mod_create", 2000, "MOD_CREATE"),
    ("HPy_mod_exec", 2001, "INQUIRY"),
]


# ---- signatures of the functions an extension defines --------------------

@dataclass(frozen=True)
class Signature:
    """One ``HPyFunc_Signature``: what the C implementation looks like.

    ``params`` follow ``HPyContext *ctx``. Signatures marked ``positional``
    have a mechanical trampoline: the CPython callback's arguments are the
    impl's arguments one to one (HPy <-> PyObject *), packed into an argument
    struct ``arg0, arg1, ..., result`` in universal mode. The others have
    hand-written trampolines in ``include/hpy/*/hpyfunc_trampolines.h``.
    """
    name: str
    return_type: str
    params: Tuple[str, ...]
    positional: bool = True
    takes_ctx: bool = True

    @property
    def enum(self):
        return "HPyFunc_" + self.name

    @property
    def typedef(self):
        return "HPyFunc_" + self.name.lower()


def _sig(name, ret, *params, **kw):
    return Signature(name, ret, params, **kw)


SIGNATURES = [
    _sig("NOARGS", "HPy", "HPy self", positional=False),
    _sig("O", "HPy", "HPy self", "HPy arg", positional=False),
    _sig("VARARGS", "HPy", "HPy self", "const HPy *args", "size_t nargs", positional=False),
    _sig("KEYWORDS", "HPy", "HPy self", "const HPy *args", "size_t nargs", "HPy kwnames",
         positional=False),
    _sig("UNARYFUNC", "HPy", "HPy"),
    _sig("BINARYFUNC", "HPy", "HPy", "HPy"),
    _sig("TERNARYFUNC", "HPy", "HPy", "HPy", "HPy"),
    _sig("INQUIRY", "int", "HPy"),
    _sig("LENFUNC", "HPy_ssize_t", "HPy"),
    _sig("SSIZEARGFUNC", "HPy", "HPy", "HPy_ssize_t"),
    _sig("SSIZESSIZEARGFUNC", "HPy", "HPy", "HPy_ssize_t", "HPy_ssize_t"),
    _sig("SSIZEOBJARGPROC", "int", "HPy", "HPy_ssize_t", "HPy"),
    _sig("SSIZESSIZEOBJARGPROC", "int", "HPy", "HPy_ssize_t", "HPy_ssize_t", "HPy"),
    _sig("OBJOBJARGPROC", "int", "HPy", "HPy", "HPy"),
    _sig("FREEFUNC", "void", "void *"),
    _sig("GETATTRFUNC", "HPy", "HPy", "char *"),
    _sig("GETATTROFUNC", "HPy", "HPy", "HPy"),
    _sig("SETATTRFUNC", "int", "HPy", "char *", "HPy"),
    _sig("SETATTROFUNC", "int", "HPy", "HPy", "HPy"),
    _sig("REPRFUNC", "HPy", "HPy"),
    _sig("HASHFUNC", "HPy_hash_t", "HPy"),
    _sig("RICHCMPFUNC", "HPy", "HPy", "HPy", "HPy_RichCmpOp", positional=False),
    _sig("GETITERFUNC", "HPy", "HPy"),
    _sig("ITERNEXTFUNC", "HPy", "HPy"),
    _sig("DESCRGETFUNC", "HPy", "HPy", "HPy", "HPy"),
    _sig("DESCRSETFUNC", "int", "HPy", "HPy", "HPy"),
    _sig("INITPROC", "int", "HPy self", "const HPy *args", "HPy_ssize_t nargs", "HPy kw",
         positional=False),
    _sig("NEWFUNC", "HPy", "HPy type", "const HPy *args", "HPy_ssize_t nargs", "HPy kw",
         positional=False),
    _sig("GETTER", "HPy", "HPy", "void *"),
    _sig("SETTER", "int", "HPy", "HPy", "void *"),
    _sig("OBJOBJPROC", "int", "HPy", "HPy"),
    _sig("GETBUFFERPROC", "int", "HPy", "HPy_buffer *", "int", positional=False),
    _sig("RELEASEBUFFERPROC", "void", "HPy", "HPy_buffer *", positional=False),
    _sig("TRAVERSEPROC", "int", "void *object", "HPyFunc_visitproc visit", "void *arg",
         positional=False, takes_ctx=False),
    _sig("DESTRUCTOR", "void", "HPy"),
    _sig("DESTROYFUNC", "void", "void *", positional=False, takes_ctx=False),
    _sig("MOD_CREATE", "HPy", "HPy", positional=False),
]


# Trampolines whose argument struct is not ``arg0, arg1, ..., result``:
# signature -> (C parameters of the CPython-facing trampoline,
#               fields of the argument struct before ``result``, result type).
# Field order is ABI (HPy 0.9.0).
SPECIAL_TRAMPOLINES = {
    "NOARGS": ("cpy_PyObject *self, cpy_PyObject *noargs",
               "cpy_PyObject *self", "cpy_PyObject *"),
    "O": ("cpy_PyObject *self, cpy_PyObject *arg",
          "cpy_PyObject *self, cpy_PyObject *arg", "cpy_PyObject *"),
    "VARARGS": ("cpy_PyObject *self, cpy_PyObject *const *args, HPy_ssize_t nargs",
                "cpy_PyObject *self, cpy_PyObject *const *args, HPy_ssize_t nargs",
                "cpy_PyObject *"),
    "KEYWORDS": ("cpy_PyObject *self, cpy_PyObject *const *args, size_t nargsf, cpy_PyObject *kwnames",
                 "cpy_PyObject *self, cpy_PyObject *const *args, size_t nargsf, cpy_PyObject *kwnames",
                 "cpy_PyObject *"),
    "INITPROC": ("cpy_PyObject *self, cpy_PyObject *args, cpy_PyObject *kw",
                 "cpy_PyObject *self, cpy_PyObject *args, cpy_PyObject *kw", "int"),
    "NEWFUNC": ("cpy_PyObject *self, cpy_PyObject *args, cpy_PyObject *kw",
                "cpy_PyObject *self, cpy_PyObject *args, cpy_PyObject *kw", "cpy_PyObject *"),
    "RICHCMPFUNC": ("cpy_PyObject *arg0, cpy_PyObject *arg1, int arg2",
                    "cpy_PyObject *arg0, cpy_PyObject *arg1, HPy_RichCmpOp arg2", "cpy_PyObject *"),
    "GETBUFFERPROC": ("cpy_PyObject *self, cpy_Py_buffer *view, int flags",
                      "cpy_PyObject *self, cpy_Py_buffer *view, int flags", "int"),
    "RELEASEBUFFERPROC": ("cpy_PyObject *self, cpy_Py_buffer *view",
                          "cpy_PyObject *self, cpy_Py_buffer *view", "void"),
    "TRAVERSEPROC": ("cpy_PyObject *self, cpy_visitproc visit, void *arg",
                     "cpy_PyObject *self, cpy_visitproc visit, void *arg", "int"),
    "MOD_CREATE": ("cpy_PyObject *spec, cpy_PyModuleDef *def",
                   "cpy_PyObject *spec", "cpy_PyObject *"),
}
