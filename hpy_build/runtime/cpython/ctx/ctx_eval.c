#include "hpy.h"

/* PyEval_EvalCode trusts its caller and crashes on a wrong type: check them
 * here, with the words of exec(). HPy_NULL locals means the globals. */
HPyAPI_IMPL HPy ctx_EvalCode(HPyContext *ctx, HPy code, HPy globals, HPy locals)
{
    PyObject *co = _h2py(code), *g = _h2py(globals), *l = _h2py(locals);
    (void)ctx;
    if (co == NULL || !PyCode_Check(co)) {
        PyErr_Format(PyExc_TypeError, "HPy_EvalCode() arg 1 must be a code object, not %.100s",
                     co == NULL ? "NULL" : Py_TYPE(co)->tp_name);
        return HPy_NULL;
    }
    if (g == NULL || !PyDict_Check(g)) {
        PyErr_Format(PyExc_TypeError, "globals must be a dict, not %.100s",
                     g == NULL ? "NULL" : Py_TYPE(g)->tp_name);
        return HPy_NULL;
    }
    if (l != NULL && !PyMapping_Check(l)) {
        PyErr_Format(PyExc_TypeError, "locals must be a mapping, not %.100s", Py_TYPE(l)->tp_name);
        return HPy_NULL;
    }
    return _py2h(PyEval_EvalCode(co, g, l == NULL ? g : l));
}
