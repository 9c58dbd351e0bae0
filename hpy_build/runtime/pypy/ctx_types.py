"""Custom types: HPyType_FromSpec makes a Python class whose instances own
a block of C memory (the type's struct, zeroed); slots become dunders,
members and getsets become properties, methods become functions calling
their impl through cffi."""
import functools
import gc
import operator
import sys
import time
import warnings

from hpy_build._hpy_cffi import ffi, lib
from hpy_build.api import table as _table
from hpy_build.runtime.pypy import calls, errors
from hpy_build.runtime.pypy.calls import result, status
from hpy_build.runtime.pypy.handles import objects as _o, new as _new, close_pinned as _close, \
    new_instance as _new_inst, structs as _structs, N_STRUCTS as _N_STRUCTS, new_arg as _new_arg, \
    new_type as _new_type, type_key as _type_key, nmade as _nmade, settle as _settle, \
    pool as _pool, pool_n as _pool_n, news_left as _news_left, N_POOLS as _N_POOLS, PER_POOL as _PER_POOL, _key
from hpy_build.runtime.pypy import ctx_objects

_NULL = ffi.NULL
_SLOTS = {value: (name[4:], sig) for name, value, sig in _table.SLOTS}
_SHAPE_BASE = {-1: object, 0: object, 1: type, 2: int, 3: float, 4: str, 5: tuple, 6: list}
_BINARY = {"add": "add", "subtract": "sub", "multiply": "mul", "matrix_multiply": "matmul",
           "floor_divide": "floordiv", "true_divide": "truediv", "remainder": "mod",
           "divmod": "divmod", "lshift": "lshift", "rshift": "rshift", "and": "and",
           "xor": "xor", "or": "or"}
_UNARY = {"nb_negative": "neg", "nb_positive": "pos", "nb_absolute": "abs", "nb_invert": "invert",
          "nb_int": "int", "nb_float": "float", "nb_index": "index", "tp_repr": "repr",
          "tp_str": "str", "tp_iter": "iter"}
_CMP = ("lt", "le", "eq", "ne", "gt", "ge")


_ON_PYPY = hasattr(sys, "pypy_version_info")  # CPython frees by reference counting
# The C-heap check's state: [C heap in use after the last collection this
# runtime asked for, time of the next look, allocations between readings of
# the clock, time of the last reading]; _news_left counts down to the next
# reading (HPy_News of instances made ahead count too: handles.py)
_heap = [0, 0.0, 1, 0.0]
# mallinfo2 walks all of malloc's free lists, PyPy's own heap's included
# (0.1 us, up to milliseconds on a fragmented heap): looked at once a
# millisecond at most, about what it takes to fill a few MB of new memory
_HEAP_EVERY = 0.001
# reading the clock costs a third of a small allocation: it is read once per
# up to 16 allocations while they come fast, after each one while they are
# slow (big, or few), so that a look is never far behind
_HEAP_STRIDE = 16
_clock = time.perf_counter


def _collect_if_the_c_heap_grew():
    """An instance often owns malloc'ed memory (an array's data) that PyPy's GC
    cannot see, and its tp_destroy only runs when the GC finds it dead: when
    the C heap has grown by a quarter (and 64 MB) since, collect, as a GC would.
    (The heap includes PyPy's own, a few hundred MB: by half, 8 MB arrays
    could pile up to 150 MB before they went.)"""
    _news_left[0] -= 1
    if _news_left[0] > 0:
        return
    now = _clock()
    _heap[2] = 1 if now - _heap[3] > _HEAP_EVERY else min(2 * _heap[2], _HEAP_STRIDE)
    _news_left[0], _heap[3] = _heap[2], now
    if now < _heap[1]:
        return
    used = lib._hpy_pypy_heap_in_use()
    # after cpyext (or anything) has fragmented the heap, one look can take
    # milliseconds: the next waits 100 times as long, so looking stays ~1%,
    # but 50 ms at most, so that memory never piles up for long
    _heap[1] = now + min(max(_HEAP_EVERY, 100 * (_clock() - now)), 0.05)
    if used - _heap[0] > max(64 << 20, _heap[0] >> 2):
        gc.collect()
        _heap[0] = lib._hpy_pypy_heap_in_use()


def alloc(cls, args=()):
    """A new instance of an HPy type with its zeroed C struct (freed, after
    tp_destroy, by a light finalizer when the instance dies). ``args`` go to
    a built-in base's __new__ (a metaclass gets name, bases, namespace)."""
    if _ON_PYPY:
        _collect_if_the_c_heap_grew()
    obj = cls._hpy_base_new(cls, *args)
    size = cls._hpy_basicsize
    chain = getattr(cls, "_hpy_destroy_chain", ())
    traverse = getattr(cls, "_hpy_traverse", _NULL)
    addr = lib._hpy_pypy_alloc_addr(size, chain[0] if len(chain) == 1 else _NULL, traverse)
    if addr == 0:
        raise MemoryError()
    data = ffi.cast("void *", addr)
    # no size for ffi.gc: telling PyPy's GC about the memory costs more than
    # the allocation (0.4 us); the C-heap check above sees it instead
    if len(chain) > 1:
        obj._hpy_data = ffi.gc(data, functools.partial(_free_chained, chain, traverse))
    else:
        obj._hpy_data = ffi.gc(data, lib._hpy_pypy_free)
    obj._hpy_addr = addr
    return obj


@ffi.callback("int(HPyField *, void *)")
def _clear_field(field, arg):
    field._i = 0
    return 0


def _free_chained(chain, traverse, data):
    """The struct of an HPy subtype whose bases have a tp_destroy too: as in the
    C runtime, the fields cleared, then each type's tp_destroy, the most derived
    first (the struct's header holds one, so this is the rare slow way)."""
    if traverse != _NULL:
        ffi.cast("int(*)(void *, int(*)(HPyField *, void *), void *)", traverse)(data, _clear_field, _NULL)
    for destroy in chain:
        ffi.cast("void(*)(void *)", destroy)(data)
    lib._hpy_pypy_free(data)  # (the header names no tp_destroy)


def _HPy_New(t, data):
    cls = _o[t]
    if not isinstance(cls, type) or not hasattr(cls, "_hpy_basicsize"):
        if not isinstance(cls, type):
            raise TypeError("HPy_New arg 1 must be a type")
        obj = cls.__new__(cls)
        data[0] = _NULL
        return _new(obj)
    obj = alloc(cls)
    data[0] = obj._hpy_data
    key = _key(cls)
    if 0 < key < _N_POOLS:
        _news[key] += 1
        if _news[key] > _POOL_AFTER:
            _fill_pool(cls, key)
    return _new_inst(obj)


# On PyPy, a type HPy_New'ed more than _POOL_AFTER times through this
# callback gets instances made ahead (handles.pool), so most HPy_News make no
# callback. Such a type, and its pooled instances, then live as long as the
# runtime. Not on CPython, where lifetimes (and reference counts) stay exact.
_POOL_AFTER = 64 if _ON_PYPY else float("inf")
_news = [0] * _N_POOLS


def _fill_pool(cls, key):
    base, n = key * _PER_POOL, _pool_n[key]
    while n < _PER_POOL:
        h = _new_inst(alloc(cls))
        if h >= _N_STRUCTS:  # beyond the C tables
            _close(h)
            break
        _pool[base + n] = h
        n += 1
    _pool_n[key] = n


def HPyType_GenericNew(t, args, nargs, kw):
    cls = _o[t]
    if not isinstance(cls, type):
        raise TypeError("HPy_Type_GenericNew arg 1 must be a type")
    return _new_inst(alloc(cls)) if hasattr(cls, "_hpy_basicsize") else _new(cls.__new__(cls))


def _as_struct(h):
    o = _o[h]
    if h < _N_STRUCTS:
        _structs[h] = o._hpy_addr  # the next _HPy_AsStruct_* of h needs no callback
    return o._hpy_data


_HPy_AsStruct_Object = _HPy_AsStruct_Legacy = _HPy_AsStruct_Type = _as_struct
_HPy_AsStruct_Long = _HPy_AsStruct_Float = _HPy_AsStruct_Unicode = _as_struct
_HPy_AsStruct_Tuple = _HPy_AsStruct_List = _as_struct


def _HPyType_GetBuiltinShape(t):
    cls = _o[t]
    if not isinstance(cls, type):
        raise TypeError("arg must be a type")
    return getattr(cls, "_hpy_shape", -1)  # not an HPy type: legacy


# ---- slots -> dunders ----------------------------------------------------------

def _unary(impl, name, helper):
    what = "slot " + name

    def f(self):
        h = _new_inst(self)
        try:
            return result(helper(impl, h), what)
        finally:
            _close(h)
    return f


def _binary(impl, name, swap):
    helper = lib._hpy_call_BINARYFUNC
    what = "slot " + name

    def f(self, other):
        a, b = _new_inst(self), _new_arg(other)
        try:
            return result(helper(impl, b, a) if swap else helper(impl, a, b), what)
        finally:
            _close(a)
            _close(b)
    return f


def _ternary(impl, name, swap):
    helper = lib._hpy_call_TERNARYFUNC
    what = "slot " + name

    def f(self, other, mod=None):
        a, b, c = _new_inst(self), _new(other), _new(mod)
        try:
            return result(helper(impl, b, a, c) if swap else helper(impl, a, b, c), what)
        finally:
            _close(a)
            _close(b)
            _close(c)
    return f


def _int_slot(helper, impl, self, other=_NULL):
    """An int-returning slot of self (and other): -1 with an error raises."""
    h = _new_inst(self)
    if other is _NULL:
        try:
            r = helper(impl, h)
        finally:
            _close(h)
    else:
        o = _new(other)
        try:
            r = helper(impl, h, o)
        finally:
            _close(h)
            _close(o)
    return status(r, "slot")


_SSIZE_MAX = (1 << 63) - 1


def _index_for(self, key, has_len):
    i = operator.index(key)
    if not -_SSIZE_MAX - 1 <= i <= _SSIZE_MAX:
        raise IndexError("cannot fit '%s' into an index-sized integer" % type(key).__name__)
    if i < 0 and has_len:
        i += len(self)
    return i


def _add_slot(ns, slot, impl, has, name):
    """Put the dunders of one HPy slot into the class namespace ``ns``."""
    short, sig = _SLOTS[slot]
    if short.startswith("nb_inplace_") and short[11:] in _BINARY:
        ns["__i%s__" % _BINARY[short[11:]]] = _binary(impl, short, False)
    elif short.startswith("nb_") and short[3:] in _BINARY:
        op = _BINARY[short[3:]]
        ns["__%s__" % op] = _binary(impl, short, False)
        ns["__r%s__" % op] = _binary(impl, short, True)
    elif short == "nb_power":
        ns["__pow__"] = _ternary(impl, short, False)
        ns["__rpow__"] = _ternary(impl, short, True)
    elif short == "nb_inplace_power":
        ns["__ipow__"] = _ternary(impl, short, False)
    elif short in _UNARY:
        ns["__%s__" % _UNARY[short]] = _unary(impl, short, lib._hpy_call_UNARYFUNC)
    elif short == "nb_bool":
        ns["__bool__"] = lambda self: bool(_int_slot(lib._hpy_call_INQUIRY, impl, self))
    elif short in ("sq_length", "mp_length"):
        ns["__len__"] = lambda self: _int_slot(lib._hpy_call_LENFUNC, impl, self)
    elif short == "mp_subscript":
        ns["__getitem__"] = _binary(impl, short, False)
    elif short == "sq_item" and "mp_subscript" not in has:
        helper, has_len = lib._hpy_call_SSIZEARGFUNC, "sq_length" in has

        def getitem(self, key):
            i = _index_for(self, key, has_len)
            h = _new_inst(self)
            try:
                return result(helper(impl, h, i), "slot sq_item")
            finally:
                _close(h)
        ns["__getitem__"] = getitem
    elif short == "sq_ass_item" and "mp_ass_subscript" not in has:
        helper, has_len = lib._hpy_call_SSIZEOBJARGPROC, "sq_length" in has

        def setitem(self, key, value, _delete=False):
            i = _index_for(self, key, has_len)
            h = _new_inst(self)
            v = 0 if _delete else _new(value)
            try:
                status(helper(impl, h, i, v), "slot sq_ass_item")
            finally:
                _close(h)
                if v:
                    _close(v)
        ns["__setitem__"] = setitem
        ns["__delitem__"] = lambda self, key: setitem(self, key, None, True)
    elif short == "mp_ass_subscript":
        helper = lib._hpy_call_OBJOBJARGPROC

        def msetitem(self, key, value, _delete=False):
            h, k = _new_inst(self), _new(key)
            v = 0 if _delete else _new(value)
            try:
                status(helper(impl, h, k, v), "slot mp_ass_subscript")
            finally:
                _close(h)
                _close(k)
                if v:
                    _close(v)
        ns["__setitem__"] = msetitem
        ns["__delitem__"] = lambda self, key: msetitem(self, key, None, True)
    elif short == "sq_contains":
        ns["__contains__"] = lambda self, x: bool(_int_slot(lib._hpy_call_OBJOBJPROC, impl, self, x))
    elif short == "sq_concat" and "nb_add" not in has:
        ns["__add__"] = _binary(impl, short, False)
    elif short == "sq_inplace_concat":
        ns["__iadd__"] = _binary(impl, short, False)
    elif short in ("sq_repeat", "sq_inplace_repeat"):
        helper = lib._hpy_call_SSIZEARGFUNC

        def repeat(self, n):
            h = _new_inst(self)
            try:
                return result(helper(impl, h, operator.index(n)), "slot " + short)
            finally:
                _close(h)
        ns["__imul__" if short == "sq_inplace_repeat" else "__mul__"] = repeat
        if short == "sq_repeat":
            ns["__rmul__"] = repeat
    elif short == "tp_hash":
        helper = lib._hpy_call_HASHFUNC
        ns["__hash__"] = lambda self: _int_slot(helper, impl, self)
    elif short == "tp_richcompare":
        helper = lib._hpy_call_RICHCMPFUNC
        for op, cmpname in enumerate(_CMP):
            def cmp(self, other, _op=op):
                a, b = _new_inst(self), _new(other)
                try:
                    return result(helper(impl, a, b, _op), "slot tp_richcompare")
                finally:
                    _close(a)
                    _close(b)
            ns["__%s__" % cmpname] = cmp
    elif short == "tp_call":
        ns["_hpy_tp_call"] = impl  # called by _call, unless the instance has its own
    elif short == "tp_init":
        helper = lib._hpy_call_INITPROC

        def init(self, *args, **kw):
            arr, on_stack = calls.handles(args)
            h = _new_inst(self)
            k = _new(kw) if kw else 0
            try:
                status(helper(impl, h, arr, len(args), k), "slot tp_init")
            finally:
                calls.release(arr, len(args), on_stack)
                _close(h)
                if k:
                    _close(k)
        ns["__init__"] = init
    elif short == "tp_new":
        helper = lib._hpy_call_NEWFUNC

        def new(cls, *args, **kw):
            arr, on_stack = calls.handles(args)
            t = _new_type(cls)  # its key: HPy_New of it can be answered in C
            k = _new(kw) if kw else 0
            try:
                return result(helper(impl, t, arr, len(args), k), "slot tp_new")
            finally:
                calls.release(arr, len(args), on_stack)
                _close(t)
                if k:
                    _close(k)
        ns["__new__"] = new
    elif short == "tp_traverse":
        ns["_hpy_traverse"] = impl
    elif short in ("tp_finalize", "bf_getbuffer", "bf_releasebuffer"):
        ns["_hpy_" + short] = impl  # used by __del__ / __buffer__ below
    else:
        raise SystemError("type %s: slot %s is not supported by the PyPy runtime yet" % (name, short))


def _call(self, *args, **kw):
    """The HPy call protocol: the instance's call function (HPy_SetCallFunction),
    else the type's HPy_tp_call."""
    impl = getattr(self, "_hpy_call", None) or getattr(type(self), "_hpy_tp_call", None)
    if impl is None:
        raise TypeError("'%s' object is not callable" % type(self).__name__)
    h = _new_inst(self)
    try:
        return calls.call_keywords(impl, h, args, kw, "call of %s" % type(self).__name__)
    finally:
        _close(h)


def HPy_SetCallFunction(h, func):
    obj = _o[h]
    if not getattr(type(obj), "_hpy_call_protocol", False):
        raise TypeError("type '%.50s' does not implement the HPy call protocol" % type(obj).__name__)
    obj._hpy_call = func.impl
    return 0


def _finalize(self):
    """tp_finalize, as __del__ (only types that have one pay for a __del__)."""
    h = _new_inst(self)
    try:
        lib._hpy_call_DESTRUCTOR(type(self)._hpy_tp_finalize, h)
    finally:
        _close(h)
    if errors.current() is not None:
        errors.clear()


def _buffer(self, flags):
    getbuf = type(self)._hpy_bf_getbuffer
    view = ffi.new("HPy_buffer *")
    h = _new_inst(self)
    try:
        r = lib._hpy_call_GETBUFFERPROC(getbuf, h, view, flags)
    finally:
        _close(h)
    if _nmade[0]:
        _settle()  # view.obj may be a handle the C part opened
    if r < 0:
        errors.raise_pending("slot bf_getbuffer")
    release = getattr(type(self), "_hpy_bf_releasebuffer", None)

    def released(_p, self=self, view=view):
        if release is not None:
            hh = _new_inst(self)
            lib._hpy_call_RELEASEBUFFERPROC(release, hh, view)
            _close(hh)
        if view.obj._i:
            _close(view.obj._i)
    p = ffi.gc(ffi.cast("char *", view.buf), released)
    mv = memoryview(ffi.buffer(p, view.len))
    fmt = ffi.string(view.format).decode("ascii") if view.format != _NULL else "B"
    if view.ndim > 1 and view.shape != _NULL:
        mv = mv.cast(fmt, [view.shape[i] for i in range(view.ndim)])
    elif fmt != "B":
        mv = mv.cast(fmt)
    return mv.toreadonly() if view.readonly else mv


# ---- members and getsets -------------------------------------------------------

_MEMBER_C = {0: "short", 1: "int", 2: "long", 3: "float", 4: "double", 8: "signed char",
             9: "unsigned char", 10: "unsigned short", 11: "unsigned int", 12: "unsigned long",
             14: "_Bool", 17: "long long", 18: "unsigned long long", 19: "intptr_t"}


# kinds CPython stores truncated, with a RuntimeWarning
_TRUNCATED = {0: "short", 1: "int", 8: "char", 9: "unsigned char", 10: "unsigned short",
              11: "unsigned int"}


def _member(name, kind, offset, readonly, doc):
    def ptr(self, ctype):
        return ffi.cast(ctype + " *", self._hpy_data + offset)

    if kind in _MEMBER_C:
        ctype = _MEMBER_C[kind]

        def get(self):
            v = ptr(self, ctype)[0]
            return bool(v) if kind == 14 else v

        def set_(self, value):
            if kind == 14 and not isinstance(value, bool):
                raise TypeError("attribute value type must be bool")
            if kind not in (3, 4) and not isinstance(value, int):
                raise TypeError("an integer is required")
            if kind in _TRUNCATED:
                cut = ffi.cast(ctype, value)
                if int(cut) != value:
                    warnings.warn("Truncation of value to %s" % _TRUNCATED[kind], RuntimeWarning, 2)
                value = cut
            ptr(self, ctype)[0] = value
    elif kind == 7:  # CHAR
        def get(self):
            return ptr(self, "char")[0].decode("latin-1")

        def set_(self, value):
            if not isinstance(value, str) or len(value) != 1:
                raise TypeError("attribute value type must be a string of length 1")
            ptr(self, "char")[0] = value.encode("latin-1")
    elif kind in (5, 13):  # STRING, STRING_INPLACE
        readonly = True

        def get(self):
            p = ptr(self, "char *")[0] if kind == 5 else ptr(self, "char")
            return None if p == _NULL else ffi.string(p).decode("utf-8")
        set_ = None
    elif kind in (6, 16):  # OBJECT, OBJECT_EX: an HPyField in the struct
        def get(self):
            i = ptr(self, "intptr_t")[0]
            if i == 0:
                if kind == 16:
                    raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))
                return None
            return self._hpy_fields[i - 1]

        def set_(self, value):
            h = _new_inst(self)
            v = _new(value)
            try:
                ctx_objects.HPyField_Store(h, ptr(self, "intptr_t"), v)
            finally:
                _close(h)
                _close(v)
    elif kind == 20:  # NONE
        readonly = True

        def get(self):
            return None
        set_ = None
    else:
        raise SystemError("unknown HPyMember type %d for '%s'" % (kind, name))

    def fset(self, value):
        if readonly:
            # a kept exception keeps its frames: not the instance (CPython's has no frame)
            del self, value
            raise AttributeError("readonly attribute")
        set_(self, value)

    def fdel(self):
        if kind not in (6, 16):
            raise TypeError("can't delete numeric/char attribute")
        if readonly:
            raise AttributeError("readonly attribute")
        p = ptr(self, "intptr_t")
        if kind == 16 and p[0] == 0:
            raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))
        if p[0]:
            self._hpy_fields[p[0] - 1] = None
        p[0] = 0
    return property(get, fset, fdel, doc)


def _getset(name, getter, setter, closure, doc):
    fget = fset = None
    if getter != _NULL:
        def fget(self):
            h = _new_inst(self)
            try:
                return result(lib._hpy_call_GETTER(getter, h, closure), "getter " + name)
            finally:
                _close(h)
    if setter != _NULL:
        def fset(self, value, _delete=False):
            h = _new_inst(self)
            v = 0 if _delete else _new(value)
            try:
                status(lib._hpy_call_SETTER(setter, h, v, closure), "setter " + name)
            finally:
                _close(h)
                if v:
                    _close(v)
    if fset is None:
        def fset(self, value):
            raise AttributeError("attribute '%s' of '%s' objects is not writable"
                                 % (name, type(self).__name__))
    return property(fget, fset, (lambda self: fset(self, None, True)) if setter != _NULL else None, doc)


def _c(p):
    return None if p == _NULL else ffi.string(p).decode("utf-8")


_SHAPE_NAMES = {-1: "Legacy", 0: "Object", 1: "Type", 2: "Long", 3: "Float", 4: "Unicode",
                5: "Tuple", 6: "List"}


def _check_shape(fullname, shape, bases, basicsize):
    """A type keeps the shape of its HPy base, and has the built-in of its shape as a base."""
    if shape == -1 or not bases:
        if shape > 0 and not bases:
            raise TypeError("type %s has builtin_shape HPyType_BuiltinShape_%s, so it needs '%s' "
                            "as a base" % (fullname, _SHAPE_NAMES[shape], _SHAPE_BASE[shape].__name__))
        return
    base = bases[0]
    hpy_base = next((k for k in base.__mro__ if "_hpy_shape" in k.__dict__), None)
    if hpy_base is not None and hpy_base._hpy_shape != -1:
        if hpy_base._hpy_shape != shape:
            raise TypeError("type %s has builtin_shape HPyType_BuiltinShape_%s but its base type "
                            "has HPyType_BuiltinShape_%s: a subtype keeps the shape of its base"
                            % (fullname, _SHAPE_NAMES[shape], _SHAPE_NAMES[hpy_base._hpy_shape]))
        return
    if not issubclass(base, _SHAPE_BASE[shape]):
        raise TypeError("type %s has builtin_shape HPyType_BuiltinShape_%s, so it needs '%s' as a base"
                        % (fullname, _SHAPE_NAMES[shape], _SHAPE_BASE[shape].__name__))
    # this runtime keeps the struct apart, but a binary must load in either runtime:
    # refuse what the C runtime refuses where the sizes are known (not on PyPy)
    size, head = getattr(base, "__basicsize__", 0), getattr(_SHAPE_BASE[shape], "__basicsize__", 0)
    if basicsize and hpy_base is None and size > head:
        raise TypeError("type %s has builtin_shape HPyType_BuiltinShape_%s, but instances of its "
                        "base '%s' are larger: use HPyType_BuiltinShape_Legacy"
                        % (fullname, _SHAPE_NAMES[shape], base.__name__))


def _object_new(cls, *args, **kw):
    # object's tp_new: arguments only where a __init__ takes them
    if (args or kw) and cls.__init__ is object.__init__:
        raise TypeError("%s() takes no arguments" % cls.__name__)
    return alloc(cls)


def HPyType_FromSpec(spec, params):
    fullname = _c(spec.name)
    module, _, name = fullname.rpartition(".")
    bases, metaclass = [], type
    n_base = n_tuple = n_meta = 0
    if params != _NULL:
        i = 0
        while params[i].kind != 0:
            kind, obj = params[i].kind, _o[params[i].object._i]
            if kind == 1:
                bases.append(obj)
                n_base += 1
            elif kind == 2:
                bases.extend(obj)
                n_tuple += 1
            elif kind == 3:
                if n_meta:
                    raise ValueError("metaclass was specified multiple times")
                n_meta += 1
                if not (isinstance(obj, type) and issubclass(obj, type)):
                    raise TypeError("Metaclass '%r' is not a subclass of 'type'." % (obj,))
                metaclass = obj
            else:
                raise TypeError("unknown HPyType_SpecParam specification for '%s'" % fullname)
            i += 1
    # the C runtime's checks, in its order and words
    if n_tuple > 1:
        raise TypeError("multiple specifications of HPyType_SpecParam_BasesTuple")
    if n_tuple and n_base:
        raise TypeError("cannot specify both HPyType_SpecParam_Base and HPytype_SpecParam_BasesTuple")
    shape = spec.builtin_shape
    defs = []
    if spec.defines != _NULL:
        i = 0
        while spec.defines[i] != _NULL:
            defs.append(spec.defines[i])
            i += 1
    slots = {d.slot.slot for d in defs if d.kind == 1}
    if spec.flags & (1 << 14) and 71 not in slots:  # HPy_TPFLAGS_HAVE_GC, HPy_tp_traverse
        raise ValueError("You must provide an HPy_tp_traverse slot if you specify HPy_TPFLAGS_HAVE_GC")
    if shape not in _SHAPE_BASE:
        raise ValueError("invalid shape: %d" % shape)
    for d in defs:
        if d.kind == 1 and d.slot.slot in (2000, 2001):
            raise TypeError("type %s: HPy_mod_create and HPy_mod_exec are module slots, "
                            "not type slots" % fullname)
        if d.kind == 1 and _SLOTS.get(d.slot.slot, ("",))[0] == "tp_call":
            if spec.itemsize:
                raise TypeError("Cannot use HPy call protocol with var objects")
            if shape == -1 and spec.basicsize == 0:
                raise TypeError("Cannot use HPy call protocol with legacy types that inherit the "
                                "struct. Either set the basicsize to a non-zero value or use "
                                "legacy slot 'Py_tp_call'.")
    if spec.basicsize == 0 and any(d.kind == 3 for d in defs):
        raise TypeError("Type claims to have basicsize==0 but defines members")
    _check_shape(fullname, shape, bases, spec.basicsize)
    ns = {"__module__": module or "builtins", "__qualname__": name, "_hpy_basicsize": spec.basicsize,
          "_hpy_shape": shape}
    if shape in (-1, 0):
        # the struct and the fields' objects: kept out of the instance's __dict__
        inherited = [k for b in bases for k in b.__mro__ if k is not object]
        slots = [n for n in ("_hpy_data", "_hpy_addr", "_hpy_fields", "_hpy_call") if not any(hasattr(k, n) for k in inherited)]
        slots += [n for n in ("__dict__", "__weakref__") if not any(n in k.__dict__ for k in inherited)]
        ns["__slots__"] = tuple(slots)
    if spec.doc != _NULL:
        ns["__doc__"] = _c(spec.doc)
    has = {_SLOTS[d.slot.slot][0] for d in defs if d.kind == 1 and d.slot.slot in _SLOTS}
    for d in defs:
        if d.kind == 1:
            if d.slot.slot not in _SLOTS or d.slot.slot >= 2000:
                raise TypeError("type %s: HPy_mod_create and HPy_mod_exec are only valid in a "
                                "module definition" % fullname if d.slot.slot >= 2000 else
                                "invalid slot value %d" % d.slot.slot)
            if d.slot.slot == 1000:  # HPy_tp_destroy: called by the struct's finalizer
                ns["_hpy_destroy"] = d.slot.impl
            else:
                _add_slot(ns, d.slot.slot, d.slot.impl, has, fullname)
        elif d.kind == 2:
            m = d.meth
            if m.signature not in (1, 2, 3, 4):  # VARARGS, KEYWORDS, NOARGS, O
                raise ValueError("Unsupported HPyMeth signature")
            mname = _c(m.name)
            ns[mname] = calls.method(m.signature, m.impl, mname, _c(m.doc), name + "." + mname)
        elif d.kind == 3:
            m = d.member
            ns[_c(m.name)] = _member(_c(m.name), m.type, m.offset, m.readonly, _c(m.doc))
        elif d.kind == 4:
            g = d.getset
            ns[_c(g.name)] = _getset(_c(g.name), g.getter_impl, g.setter_impl, g.closure, _c(g.doc))
        else:
            raise ValueError("type %s: unknown HPyDef kind %d" % (fullname, d.kind))
    if "_hpy_tp_call" in ns and "__vectorcalloffset__" in ns:
        raise TypeError("Cannot have HPy_tp_call and explicit member'__vectorcalloffset__'. "
                        "Specify just one of them.")
    if "_hpy_tp_call" in ns or "__vectorcalloffset__" in ns:
        ns["_hpy_call_protocol"] = True
        ns["__call__"] = _call
    if "_hpy_tp_finalize" in ns:
        ns["__del__"] = _finalize
    if "_hpy_bf_getbuffer" in ns:
        ns["__buffer__"] = _buffer
    if "__new__" not in ns and not any(hasattr(b, "_hpy_basicsize") for b in bases):
        if shape > 0:
            ns["__new__"] = lambda cls, *args, **kw: alloc(cls, args)
        else:
            ns["__new__"] = _object_new  # an HPy base's tp_new is inherited
    if not spec.flags & (1 << 10):  # no HPy_TPFLAGS_BASETYPE
        def __init_subclass__(cls, **kw):
            raise TypeError("type '%s' is not an acceptable base type" % fullname)
        ns["__init_subclass__"] = classmethod(__init_subclass__)
    cls = metaclass(name, tuple(bases) or (object,), ns)
    cls._hpy_destroy_chain = tuple(k.__dict__["_hpy_destroy"] for k in cls.__mro__
                                   if "_hpy_destroy" in k.__dict__)
    base_new = _SHAPE_BASE[shape].__new__ if shape > 0 else object.__new__
    cls._hpy_base_new = (lambda c, *a: base_new(c, *a)) if shape > 0 else (lambda c: object.__new__(c))
    _type_key(cls)  # HPy_TypeCheck against it in C
    return _new_type(cls)
