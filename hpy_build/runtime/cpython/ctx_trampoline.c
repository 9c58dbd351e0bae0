/* The one entry from a universal module's trampolines back into the runtime.
 * Handles are the PyObject * bits here, so arguments pass through as they are.
 * Each signature has its own small function, found through _hpy_signature_calls:
 * the hot path is a bounds check and a jump, with no stack frame of its own. */
#include "universal.h"

static const HPy *as_handles(PyObject *const *objects) { return (const HPy *)objects; }

void ctx_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig,
                                        HPyCFunction func, void *args)
{
    _hpy_signature_call call;
    if ((unsigned)sig < _HPY_SIGNATURE_COUNT && (call = _hpy_signature_calls[sig]) != NULL) {
        call(ctx, func, args);
        return;
    }
    /* No trampoline of this hpy-build passes another value: a corrupt binary,
     * or one built for a newer ABI minor. */
    PyErr_Format(PyExc_SystemError,
                 "HPyFunc signature %d is not supported by the hpy-build runtime", (int)sig);
}

_HPY_HAND_WRITTEN_CALL(NOARGS)
{
    _HPyFunc_args_NOARGS *a = (_HPyFunc_args_NOARGS *)args;
    a->result = _h2py(((HPyFunc_noargs)func)(ctx, _py2h(a->self)));
}

_HPY_HAND_WRITTEN_CALL(O)
{
    _HPyFunc_args_O *a = (_HPyFunc_args_O *)args;
    a->result = _h2py(((HPyFunc_o)func)(ctx, _py2h(a->self), _py2h(a->arg)));
}

_HPY_HAND_WRITTEN_CALL(VARARGS)
{
    _HPyFunc_args_VARARGS *a = (_HPyFunc_args_VARARGS *)args;
    a->result = _h2py(((HPyFunc_varargs)func)(ctx, _py2h(a->self), as_handles(a->args),
                                              (size_t)a->nargs));
}

_HPY_HAND_WRITTEN_CALL(KEYWORDS)
{
    _HPyFunc_args_KEYWORDS *a = (_HPyFunc_args_KEYWORDS *)args;
    a->result = _h2py(((HPyFunc_keywords)func)(ctx, _py2h(a->self), as_handles(a->args),
                                               (size_t)PyVectorcall_NARGS(a->nargsf),
                                               _py2h(a->kwnames)));
}

_HPY_HAND_WRITTEN_CALL(INITPROC)
{
    _HPyFunc_args_INITPROC *a = (_HPyFunc_args_INITPROC *)args;
    a->result = ((HPyFunc_initproc)func)(ctx, _py2h(a->self),
                                         as_handles(((PyTupleObject *)a->args)->ob_item),
                                         PyTuple_GET_SIZE(a->args), _py2h(a->kw));
}

_HPY_HAND_WRITTEN_CALL(NEWFUNC)
{
    _HPyFunc_args_NEWFUNC *a = (_HPyFunc_args_NEWFUNC *)args;
    a->result = _h2py(((HPyFunc_newfunc)func)(ctx, _py2h(a->self),
                                              as_handles(((PyTupleObject *)a->args)->ob_item),
                                              PyTuple_GET_SIZE(a->args), _py2h(a->kw)));
}

_HPY_HAND_WRITTEN_CALL(RICHCMPFUNC)
{
    _HPyFunc_args_RICHCMPFUNC *a = (_HPyFunc_args_RICHCMPFUNC *)args;
    a->result = _h2py(((HPyFunc_richcmpfunc)func)(ctx, _py2h(a->arg0), _py2h(a->arg1), a->arg2));
}

_HPY_HAND_WRITTEN_CALL(MOD_CREATE)
{
    _HPyFunc_args_MOD_CREATE *a = (_HPyFunc_args_MOD_CREATE *)args;
    a->result = _h2py(((HPyFunc_mod_create)func)(ctx, _py2h(a->spec)));
}

_HPY_HAND_WRITTEN_CALL(CAPSULE_DESTRUCTOR)
{
    /* the trampoline passes the capsule itself, not an argument struct */
    PyObject *capsule = (PyObject *)args;
    const char *name = PyCapsule_GetName(capsule);
    (void)ctx;
    ((HPyFunc_Capsule_Destructor)func)(name, PyCapsule_GetPointer(capsule, name),
                                       PyCapsule_GetContext(capsule));
}

_HPY_HAND_WRITTEN_CALL(GETBUFFERPROC)
{
    _HPyFunc_args_GETBUFFERPROC *a = (_HPyFunc_args_GETBUFFERPROC *)args;
    HPy_buffer hbuf;
    int res;
    memset(&hbuf, 0, sizeof(hbuf));
    res = ((HPyFunc_getbufferproc)func)(ctx, _py2h(a->self), &hbuf, a->flags);
    a->result = _hpy_getbuffer_result(res, &hbuf, a->view);
}

_HPY_HAND_WRITTEN_CALL(RELEASEBUFFERPROC)
{
    _HPyFunc_args_RELEASEBUFFERPROC *a = (_HPyFunc_args_RELEASEBUFFERPROC *)args;
    HPy_buffer hbuf;
    _hpy_buffer_py2h(a->view, &hbuf);
    ((HPyFunc_releasebufferproc)func)(ctx, _py2h(a->self), &hbuf);
}

_HPY_HAND_WRITTEN_CALL(TRAVERSEPROC)
{
    _HPyFunc_args_TRAVERSEPROC *a = (_HPyFunc_args_TRAVERSEPROC *)args;
    (void)ctx;
    a->result = _hpy_call_traverse((HPyFunc_traverseproc)func, a->self, a->visit, a->arg);
}
