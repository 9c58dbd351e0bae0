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

/* One context per extension binary: only its h_* constants are used. */
extern _HPy_HIDDEN struct _HPyContext_s _hpy_cpython_ctx;
static inline HPyContext *_HPyGetContext(void) { return &_hpy_cpython_ctx; }

_HPy_HIDDEN void _hpy_fill_handles(HPyContext *ctx);

/* PyInit_<ext>: fills the context and returns a PyModuleDef for multi-phase init. */
_HPy_HIDDEN PyObject *_HPyModuleDef_AsPyInit(HPyModuleDef *hpydef, const char *name);
_HPy_HIDDEN PyModuleDef *_HPyModuleDef_CreatePyModuleDef(HPyModuleDef *hpydef, const char *name);

#endif /* HPY_CPYTHON_HPY_CPYTHON_H */
