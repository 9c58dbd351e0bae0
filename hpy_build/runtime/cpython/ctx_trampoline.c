/* The one entry from a universal module's trampolines back into the runtime.
 * Handles are the PyObject * bits here, so arguments pass through as they are. */
#include "universal.h"

static const HPy *as_handles(PyObject *const *objects) { return (const HPy *)objects; }

void ctx_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig,
                                        HPyCFunction func, void *args)
{
    switch (sig) {
    case HPyFunc_NOARGS: {
        _HPyFunc_args_NOARGS *a = (_HPyFunc_args_NOARGS *)args;
        a->result = _h2py(((HPyFunc_noargs)func)(ctx, _py2h(a->self)));
        return;
    }
    case HPyFunc_O: {
        _HPyFunc_args_O *a = (_HPyFunc_args_O *)args;
        a->result = _h2py(((HPyFunc_o)func)(ctx, _py2h(a->self), _py2h(a->arg)));
        return;
    }
    case HPyFunc_VARARGS: {
        _HPyFunc_args_VARARGS *a = (_HPyFunc_args_VARARGS *)args;
        a->result = _h2py(((HPyFunc_varargs)func)(ctx, _py2h(a->self), as_handles(a->args),
                                                  (size_t)a->nargs));
        return;
    }
    case HPyFunc_KEYWORDS: {
        _HPyFunc_args_KEYWORDS *a = (_HPyFunc_args_KEYWORDS *)args;
        a->result = _h2py(((HPyFunc_keywords)func)(ctx, _py2h(a->self), as_handles(a->args),
                                                   (size_t)PyVectorcall_NARGS(a->nargsf),
                                                   _py2h(a->kwnames)));
        return;
    }
    case HPyFunc_INITPROC: {
        _HPyFunc_args_INITPROC *a = (_HPyFunc_args_INITPROC *)args;
        a->result = ((HPyFunc_initproc)func)(ctx, _py2h(a->self),
                                             as_handles(((PyTupleObject *)a->args)->ob_item),
                                             PyTuple_GET_SIZE(a->args), _py2h(a->kw));
        return;
    }
    case HPyFunc_NEWFUNC: {
        _HPyFunc_args_NEWFUNC *a = (_HPyFunc_args_NEWFUNC *)args;
        a->result = _h2py(((HPyFunc_newfunc)func)(ctx, _py2h(a->self),
                                                  as_handles(((PyTupleObject *)a->args)->ob_item),
                                                  PyTuple_GET_SIZE(a->args), _py2h(a->kw)));
        return;
    }
    case HPyFunc_RICHCMPFUNC: {
        _HPyFunc_args_RICHCMPFUNC *a = (_HPyFunc_args_RICHCMPFUNC *)args;
        a->result = _h2py(((HPyFunc_richcmpfunc)func)(ctx, _py2h(a->arg0), _py2h(a->arg1),
                                                      a->arg2));
        return;
    }
    case HPyFunc_MOD_CREATE: {
        _HPyFunc_args_MOD_CREATE *a = (_HPyFunc_args_MOD_CREATE *)args;
        a->result = _h2py(((HPyFunc_mod_create)func)(ctx, _py2h(a->spec)));
        return;
    }
    case HPyFunc_CAPSULE_DESTRUCTOR: {
        /* the trampoline passes the capsule itself, not an argument struct */
        PyObject *capsule = (PyObject *)args;
        const char *name = PyCapsule_GetName(capsule);
        ((HPyFunc_Capsule_Destructor)func)(name, PyCapsule_GetPointer(capsule, name),
                                           PyCapsule_GetContext(capsule));
        return;
    }
    case HPyFunc_GETBUFFERPROC: {
        _HPyFunc_args_GETBUFFERPROC *a = (_HPyFunc_args_GETBUFFERPROC *)args;
        HPy_buffer hbuf;
        int res;
        memset(&hbuf, 0, sizeof(hbuf));
        res = ((HPyFunc_getbufferproc)func)(ctx, _py2h(a->self), &hbuf, a->flags);
        a->result = _hpy_getbuffer_result(res, &hbuf, a->view);
        return;
    }
    case HPyFunc_RELEASEBUFFERPROC: {
        _HPyFunc_args_RELEASEBUFFERPROC *a = (_HPyFunc_args_RELEASEBUFFERPROC *)args;
        HPy_buffer hbuf;
        _hpy_buffer_py2h(a->view, &hbuf);
        ((HPyFunc_releasebufferproc)func)(ctx, _py2h(a->self), &hbuf);
        return;
    }
    case HPyFunc_TRAVERSEPROC: {
        _HPyFunc_args_TRAVERSEPROC *a = (_HPyFunc_args_TRAVERSEPROC *)args;
        a->result = _hpy_call_traverse((HPyFunc_traverseproc)func, a->self, a->visit, a->arg);
        return;
    }
    default:
        if (_hpy_call_positional(ctx, sig, func, args))
            return;
        break;
    }
    /* No trampoline of this hpy-build passes another value: a corrupt binary,
     * or one built for a newer ABI minor. */
    PyErr_Format(PyExc_SystemError,
                 "HPyFunc signature %d is not supported by the hpy-build runtime", (int)sig);
}
