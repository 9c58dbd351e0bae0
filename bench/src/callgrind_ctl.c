/* Callgrind's client requests for the harness: collect events only while a
 * measured loop runs, and dump them under the loop's label. Outside valgrind
 * each request is a few no-op instructions. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <valgrind/callgrind.h>

static PyObject *begin(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
    Py_RETURN_NONE;
}

static PyObject *end(PyObject *self, PyObject *label)
{
    const char *text;
    (void)self;
    CALLGRIND_TOGGLE_COLLECT;
    text = PyUnicode_AsUTF8(label);
    if (text == NULL)
        return NULL;
    CALLGRIND_DUMP_STATS_AT(text);
    Py_RETURN_NONE;
}

static PyObject *on_valgrind(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyBool_FromLong(RUNNING_ON_VALGRIND);
}

static PyMethodDef methods[] = {
    {"begin", begin, METH_NOARGS, "zero the counters and start collecting"},
    {"end", end, METH_O, "stop collecting and dump the counters under a label"},
    {"on_valgrind", on_valgrind, METH_NOARGS, "whether this process runs under valgrind"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "callgrind_ctl", NULL, -1, methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_callgrind_ctl(void)
{
    return PyModule_Create(&moduledef);
}
