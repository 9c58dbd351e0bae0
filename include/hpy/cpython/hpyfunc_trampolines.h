/* CPython ABI trampolines that are not one-to-one argument mappings (the
 * mechanical ones are generated in autogen_hpyfunc.h). Handles and PyObject *
 * are the same bits, so nothing is copied. */
#ifndef HPY_CPYTHON_HPYFUNC_TRAMPOLINES_H
#define HPY_CPYTHON_HPYFUNC_TRAMPOLINES_H

#define _HPyFunc_TRAMPOLINE_HPyFunc_NOARGS(SYM, IMPL)                       \
    static PyObject *SYM(PyObject *self, PyObject *noargs)                  \
    {                                                                       \
        (void)noargs;                                                       \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self)));                  \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_O(SYM, IMPL)                            \
    static PyObject *SYM(PyObject *self, PyObject *arg)                     \
    {                                                                       \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), _py2h(arg)));      \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_VARARGS(SYM, IMPL)                      \
    static PyObject *SYM(PyObject *self, PyObject *const *args, Py_ssize_t nargs) \
    {                                                                       \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self),                    \
                          (const HPy *)args, (size_t)nargs));               \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_KEYWORDS(SYM, IMPL)                     \
    static PyObject *SYM(PyObject *self, PyObject *const *args,             \
                         size_t nargsf, PyObject *kwnames)                  \
    {                                                                       \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args, \
                          (size_t)PyVectorcall_NARGS(nargsf), _py2h(kwnames))); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_INITPROC(SYM, IMPL)                     \
    static int SYM(PyObject *self, PyObject *args, PyObject *kw)            \
    {                                                                       \
        return IMPL(_HPyGetContext(), _py2h(self),                          \
                    (const HPy *)((PyTupleObject *)args)->ob_item,          \
                    PyTuple_GET_SIZE(args), _py2h(kw));                     \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_NEWFUNC(SYM, IMPL)                      \
    static PyObject *SYM(PyObject *type, PyObject *args, PyObject *kw)      \
    {                                                                       \
        return _h2py(IMPL(_HPyGetContext(), _py2h(type),                    \
                          (const HPy *)((PyTupleObject *)args)->ob_item,    \
                          PyTuple_GET_SIZE(args), _py2h(kw)));              \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_RICHCMPFUNC(SYM, IMPL)                  \
    static PyObject *SYM(PyObject *self, PyObject *other, int op)           \
    {                                                                       \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), _py2h(other),      \
                          (HPy_RichCmpOp)op));                              \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_MOD_CREATE(SYM, IMPL)                   \
    static PyObject *SYM(PyObject *spec, PyModuleDef *def)                  \
    {                                                                       \
        (void)def;                                                          \
        return _h2py(IMPL(_HPyGetContext(), _py2h(spec)));                  \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_GETBUFFERPROC(SYM, IMPL)                \
    static int SYM(PyObject *self, Py_buffer *view, int flags)              \
    {                                                                       \
        HPy_buffer hbuf;                                                    \
        int res;                                                            \
        memset(&hbuf, 0, sizeof(hbuf));                                     \
        res = IMPL(_HPyGetContext(), _py2h(self), &hbuf, flags);            \
        return _hpy_getbuffer_result(res, &hbuf, view);                     \
    }

/* The view keeps its obj: PyBuffer_Release drops it after this returns. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_RELEASEBUFFERPROC(SYM, IMPL)            \
    static void SYM(PyObject *self, Py_buffer *view)                        \
    {                                                                       \
        HPy_buffer hbuf;                                                    \
        _hpy_buffer_py2h(view, &hbuf);                                      \
        IMPL(_HPyGetContext(), _py2h(self), &hbuf);                         \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_TRAVERSEPROC(SYM, IMPL)                 \
    static int SYM(PyObject *self, visitproc visit, void *arg)              \
    {                                                                       \
        return _hpy_call_traverse(IMPL, self, visit, arg);                  \
    }

/* tp_destroy is called by the runtime's own dealloc, never by CPython. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTROYFUNC(SYM, IMPL) \
    static void SYM(void) { abort(); }

#define _HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM, IMPL)                        \
    static void SYM(PyObject *capsule)                                      \
    {                                                                       \
        IMPL(PyCapsule_GetName(capsule), PyCapsule_GetPointer(capsule,      \
             PyCapsule_GetName(capsule)), PyCapsule_GetContext(capsule));   \
    }

#endif /* HPY_CPYTHON_HPYFUNC_TRAMPOLINES_H */
