#include "hpy.h"

HPyAPI_IMPL HPy ctx_CallTupleDict(HPyContext *ctx, HPy callable, HPy args, HPy kw)
{
    PyObject *py_args = _h2py(args), *py_kw = _h2py(kw), *result;
    (void)ctx;
    if (py_args != NULL && !PyTuple_Check(py_args)) {
        PyErr_SetString(PyExc_TypeError,
                        "HPy_CallTupleDict requires args to be a tuple or null handle");
        return HPy_NULL;
    }
    if (py_kw != NULL && !PyDict_Check(py_kw)) {
        PyErr_SetString(PyExc_TypeError,
                        "HPy_CallTupleDict requires kw to be a dict or null handle");
        return HPy_NULL;
    }
    if (py_args == NULL) {
        py_args = PyTuple_New(0);
        if (py_args == NULL)
            return HPy_NULL;
        result = PyObject_Call(_h2py(callable), py_args, py_kw);
        Py_DECREF(py_args);
        return _py2h(result);
    }
    return _py2h(PyObject_Call(_h2py(callable), py_args, py_kw));
}

/* Vectorcall's nargs has a flag bit; a count that big is a caller's bug. */
static int check_nargs(size_t nargs, const char *func)
{
    if (nargs & PY_VECTORCALL_ARGUMENTS_OFFSET) {
        PyErr_Format(PyExc_SystemError, "%s: too many arguments (%zu)", func, nargs);
        return -1;
    }
    return 0;
}

HPyAPI_IMPL HPy ctx_Call(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)ctx;
    if (check_nargs(nargs, "HPy_Call") < 0)
        return HPy_NULL;
#if PY_VERSION_HEX >= 0x03090000
    return _py2h(PyObject_Vectorcall(_h2py(callable), (PyObject *const *)args, nargs,
                                     _h2py(kwnames)));
#else
    return _py2h(_PyObject_Vectorcall(_h2py(callable), (PyObject *const *)args, nargs,
                                      _h2py(kwnames)));
#endif
}

/* args[0] is the receiver. */
HPyAPI_IMPL HPy ctx_CallMethod(HPyContext *ctx, HPy name, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)ctx;
    if (check_nargs(nargs, "HPy_CallMethod") < 0)
        return HPy_NULL;
#if PY_VERSION_HEX >= 0x03090000
    return _py2h(PyObject_VectorcallMethod(_h2py(name), (PyObject *const *)args, nargs,
                                           _h2py(kwnames)));
#else
    {
        PyObject *method, *result;
        if (nargs < 1) {
            PyErr_SetString(PyExc_TypeError, "HPy_CallMethod needs the receiver in args[0]");
            return HPy_NULL;
        }
        method = PyObject_GetAttr(_h2py(args[0]), _h2py(name));
        if (method == NULL)
            return HPy_NULL;
        result = _PyObject_Vectorcall(method, (PyObject *const *)args + 1, nargs - 1,
                                      _h2py(kwnames));
        Py_DECREF(method);
        return _py2h(result);
    }
#endif
}
