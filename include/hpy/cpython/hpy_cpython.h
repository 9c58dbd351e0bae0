/* CPython ABI: a handle is the PyObject * itself, so conversions are casts
 * and HPy_Dup/HPy_Close are Py_INCREF/Py_DECREF. The universal runtime on
 * CPython uses the same representation and the same implementations. */
#ifndef HPY_CPYTHON_HPY_CPYTHON_H
#define HPY_CPYTHON_HPY_CPYTHON_H

static inline PyObject *_h2py(HPy h) { return (PyObject *)h._i; }
static inline HPy _py2h(PyObject *o) { return _hconv(o); }

static inline HPyListBuilder _hpy_listbuilder(PyObject *list)
{
    HPyListBuilder b;
    b._lst = (intptr_t)list;
    return b;
}

static inline HPyTupleBuilder _hpy_tuplebuilder(PyObject *tuple)
{
    HPyTupleBuilder b;
    b._tup = (intptr_t)tuple;
    return b;
}

static inline HPyThreadState _hpy_threadstate(PyThreadState *ts)
{
    HPyThreadState s;
    s._i = (intptr_t)ts;
    return s;
}

/* A pure HPy type's struct starts after its built-in base's struct, aligned
 * for any member; ctx_type.c lays types out the same way. Named structs,
 * because C++ forbids defining a type inside offsetof. */
typedef union { long double ld; long long ll; double d; void *p; } _hpy_max_align;
typedef struct { PyObject base; _hpy_max_align payload; } _hpy_head_Object;
typedef struct { PyHeapTypeObject base; _hpy_max_align payload; } _hpy_head_Type;
typedef struct { PyLongObject base; _hpy_max_align payload; } _hpy_head_Long;
typedef struct { PyFloatObject base; _hpy_max_align payload; } _hpy_head_Float;
typedef struct { PyUnicodeObject base; _hpy_max_align payload; } _hpy_head_Unicode;
typedef struct { PyTupleObject base; _hpy_max_align payload; } _hpy_head_Tuple;
typedef struct { PyListObject base; _hpy_max_align payload; } _hpy_head_List;
#define _HPy_HEAD_SIZE(SHAPE) ((HPy_ssize_t)offsetof(_hpy_head_##SHAPE, payload))

/* One context per extension binary: only its h_* constants are used. */
extern _HPy_HIDDEN struct _HPyContext_s _hpy_cpython_ctx;
static inline HPyContext *_HPyGetContext(void) { return &_hpy_cpython_ctx; }

_HPy_HIDDEN void _hpy_fill_handles(HPyContext *ctx);

_HPy_HIDDEN int _hpy_method_flags(HPyFunc_Signature sig);

/* The slow paths of HPy_GetItem_i and HPy_SetItem_i, whose exact-list and
 * exact-tuple cases are inline (ctx_object.c). */
_HPy_HIDDEN HPy _hpy_GetItem_i_generic(HPyContext *ctx, HPy obj, HPy_ssize_t idx);
_HPy_HIDDEN int _hpy_SetItem_i_generic(HPyContext *ctx, HPy obj, HPy_ssize_t idx, HPy value);

/* Raises exc with note as its PEP 678 note: HPy's words, then our advice. */
_HPy_HIDDEN void _hpy_raise_with_note(PyObject *exc, PyObject *note);

/* tp_traverse of HPy types: runs impl on self's struct, visiting the PyObject
 * each HPyField holds (ctx_type.c). */
_HPy_HIDDEN int _hpy_call_traverse(HPyFunc_traverseproc impl, PyObject *self,
                                   visitproc visit, void *arg);

/* HPy_buffer and Py_buffer have the same fields; obj is an owned reference
 * in both, so it moves from one to the other. */
static inline void _hpy_buffer_h2py(const HPy_buffer *src, Py_buffer *dest)
{
    dest->buf = src->buf;
    dest->obj = _h2py(src->obj);
    dest->len = src->len;
    dest->itemsize = src->itemsize;
    dest->readonly = src->readonly;
    dest->ndim = src->ndim;
    dest->format = src->format;
    dest->shape = src->shape;
    dest->strides = src->strides;
    dest->suboffsets = src->suboffsets;
    dest->internal = src->internal;
}

static inline void _hpy_buffer_py2h(const Py_buffer *src, HPy_buffer *dest)
{
    dest->buf = src->buf;
    dest->obj = _py2h(src->obj);
    dest->len = src->len;
    dest->itemsize = src->itemsize;
    dest->readonly = src->readonly;
    dest->ndim = src->ndim;
    dest->format = src->format;
    dest->shape = src->shape;
    dest->strides = src->strides;
    dest->suboffsets = src->suboffsets;
    dest->internal = src->internal;
}

/* bf_getbuffer: on failure the view holds no object (CPython's rule). */
static inline int _hpy_getbuffer_result(int res, const HPy_buffer *hbuf, Py_buffer *view)
{
    if (res < 0) {
        view->obj = NULL;
        return -1;
    }
    _hpy_buffer_h2py(hbuf, view);
    return res;
}

/* PyInit_<ext>: fills the context and returns a PyModuleDef for multi-phase init. */
_HPy_HIDDEN PyObject *_HPyModuleDef_AsPyInit(HPyModuleDef *hpydef, const char *name);
_HPy_HIDDEN PyModuleDef *_HPyModuleDef_CreatePyModuleDef(HPyModuleDef *hpydef, const char *name);

#endif /* HPY_CPYTHON_HPY_CPYTHON_H */
