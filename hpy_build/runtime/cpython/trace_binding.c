/* hpy_build._universal._trace: CPython's binding of the trace mode
 * (hpy_build/trace/src), read by hpy_build.trace. */
#include "universal.h"
#include "hpy_trace.h"

static PyObject *on_enter_func, *on_exit_func;

static HPyContext *trace_ctx(void)
{
    HPyContext *tctx = hpy_trace_get_ctx(_hpy_universal_ctx());
    if (tctx == NULL)
        PyErr_NoMemory();
    return tctx;
}

/* A hook runs inside an HPy call: whatever error that call has pending is
 * kept, and one the callback raises cannot propagate, so it is reported as
 * unraisable. The lock may be released (HPy_LeavePythonExecution). */
static void call_trace_function(PyObject **slot, const char *name)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *func = *slot, *type, *value, *tb, *res;
    if (func != NULL) {
        Py_INCREF(func);  /* the callback may replace itself */
        PyErr_Fetch(&type, &value, &tb);
        res = PyObject_CallFunction(func, "s", name);
        if (res == NULL)
            PyErr_WriteUnraisable(func);
        Py_XDECREF(res);
        Py_DECREF(func);
        PyErr_Restore(type, value, tb);
    }
    PyGILState_Release(gil);
}

static void on_enter_hook(void *data, const char *name)
{
    (void)data;
    call_trace_function(&on_enter_func, name);
}

static void on_exit_hook(void *data, const char *name)
{
    (void)data;
    call_trace_function(&on_exit_func, name);
}

typedef uint64_t (*counter_getter)(HPyContext *, int);

static PyObject *counters(counter_getter get)
{
    HPyContext *tctx = trace_ctx();
    PyObject *result, *value;
    const char *name;
    int id;
    if (tctx == NULL)
        return NULL;
    result = PyDict_New();
    for (id = 0; result != NULL && id < hpy_trace_get_nfunc(); id++) {
        name = hpy_trace_get_func_name(id);
        if (name == NULL)
            continue;  /* a handle member */
        value = PyLong_FromUnsignedLongLong(get(tctx, id));
        if (value == NULL || PyDict_SetItemString(result, name, value) < 0)
            Py_CLEAR(result);
        Py_XDECREF(value);
    }
    return result;
}

static PyObject *get_call_counts(PyObject *self, PyObject *unused)
{
    (void)self; (void)unused;
    return counters(hpy_trace_get_call_count);
}

static PyObject *get_durations(PyObject *self, PyObject *unused)
{
    (void)self; (void)unused;
    return counters(hpy_trace_get_duration_ns);
}

static PyObject *get_frequency(PyObject *self, PyObject *unused)
{
    uint64_t ns = hpy_trace_clock_resolution_ns();
    (void)self; (void)unused;
    return PyLong_FromUnsignedLongLong(ns ? 1000000000u / ns : 0);
}

/* Not given: unchanged; None: cleared; else a callable. */
static int check_trace_function(PyObject *arg)
{
    if (arg == NULL || arg == Py_None || PyCallable_Check(arg))
        return 0;
    PyErr_SetString(PyExc_TypeError, "Expected a callable object or None");
    return -1;
}

static void store_trace_function(PyObject **slot, PyObject *arg)
{
    PyObject *old = *slot;
    if (arg == NULL)
        return;
    if (arg == Py_None)
        arg = NULL;
    Py_XINCREF(arg);
    *slot = arg;
    Py_XDECREF(old);
}

static PyObject *set_trace_functions(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"on_enter", "on_exit", NULL};
    PyObject *on_enter = NULL, *on_exit = NULL;
    HPyContext *tctx;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:set_trace_functions", kwlist,
                                     &on_enter, &on_exit))
        return NULL;
    if (check_trace_function(on_enter) < 0 || check_trace_function(on_exit) < 0)
        return NULL;
    tctx = trace_ctx();
    if (tctx == NULL)
        return NULL;
    store_trace_function(&on_enter_func, on_enter);
    store_trace_function(&on_exit_func, on_exit);
    hpy_trace_set_hooks(tctx, on_enter_func ? on_enter_hook : NULL,
                        on_exit_func ? on_exit_hook : NULL, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef trace_methods[] = {
    {"get_call_counts", get_call_counts, METH_NOARGS,
     "get_call_counts() -> {'ctx_Add': calls, ...}: calls made in trace mode, per context function."},
    {"get_durations", get_durations, METH_NOARGS,
     "get_durations() -> {'ctx_Add': nanoseconds, ...}: total time spent in each context function "
     "in trace mode (monotonic clock)."},
    {"get_frequency", get_frequency, METH_NOARGS,
     "get_frequency() -> resolution of the clock of get_durations, in Hertz."},
    {"set_trace_functions", (PyCFunction)(void (*)(void))set_trace_functions,
     METH_VARARGS | METH_KEYWORDS,
     "set_trace_functions(on_enter=None, on_exit=None): call on_enter(name) before and "
     "on_exit(name) after each context function called in trace mode. An argument left out is "
     "unchanged; None removes that function."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef trace_moduledef = {
    PyModuleDef_HEAD_INIT, "hpy_build._universal._trace",
    "Counters and hooks of HPy's trace mode (use hpy_build.trace).", -1, trace_methods,
    NULL, NULL, NULL, NULL,
};

int _hpy_trace_add_module(PyObject *universal)
{
    PyObject *mod = PyModule_Create(&trace_moduledef);
    if (mod == NULL)
        return -1;
    if (PyModule_AddObject(universal, "_trace", mod) < 0) {
        Py_DECREF(mod);
        return -1;
    }
    return 0;
}
