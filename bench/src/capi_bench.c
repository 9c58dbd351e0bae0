/* The C-API baseline of the micro-benchmarks: what a careful hand-written
 * extension does (METH_FASTCALL, direct argument checks, macros where the C
 * API allows). Function for function the twin of bench_hpy.c. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <structmember.h>

/* ---- calls of each signature ------------------------------------------ */

static PyObject *f_noargs(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}

static PyObject *f_o(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_INCREF(arg);
    return arg;
}

static PyObject *f_varargs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "f_varargs() takes exactly 2 arguments");
        return NULL;
    }
    Py_INCREF(args[0]);
    return args[0];
}

static PyObject *f_keywords(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    (void)self;
    (void)kwnames;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "f_keywords() needs an argument");
        return NULL;
    }
    Py_INCREF(args[0]);
    return args[0];
}

/* ---- argument parsing: the checks HPyArg_Parse does, written out ------- */

static int check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t expected)
{
    if (nargs == expected)
        return 0;
    PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)",
                 name, expected, nargs);
    return -1;
}

static PyObject *parse_1(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (check_nargs("parse_1", nargs, 1) < 0)
        return NULL;
    Py_INCREF(args[0]);
    return args[0];
}

static PyObject *parse_2(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (check_nargs("parse_2", nargs, 2) < 0)
        return NULL;
    Py_INCREF(args[1]);
    return args[1];
}

static PyObject *parse_5(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (check_nargs("parse_5", nargs, 5) < 0)
        return NULL;
    Py_INCREF(args[4]);
    return args[4];
}

/* parse_kw(a, b=None): keyword names are matched as interned strings first. */
static PyObject *str_a, *str_b;

static int kw_is(PyObject *name, PyObject *interned, const char *text)
{
    return name == interned || PyUnicode_CompareWithASCIIString(name, text) == 0;
}

static PyObject *parse_kw(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                          PyObject *kwnames)
{
    PyObject *slots[2] = { NULL, NULL };
    Py_ssize_t i, nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    (void)self;
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "parse_kw() takes at most 2 arguments (%zd given)", nargs);
        return NULL;
    }
    for (i = 0; i < nargs; i++)
        slots[i] = args[i];
    for (i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int at = kw_is(name, str_a, "a") ? 0 : kw_is(name, str_b, "b") ? 1 : -1;
        if (at < 0) {
            PyErr_Format(PyExc_TypeError, "parse_kw() got an unexpected keyword argument '%U'", name);
            return NULL;
        }
        if (slots[at] != NULL) {
            PyErr_Format(PyExc_TypeError, "parse_kw() got multiple values for argument '%U'", name);
            return NULL;
        }
        slots[at] = args[nargs + i];
    }
    if (slots[0] == NULL) {
        PyErr_SetString(PyExc_TypeError, "parse_kw() missing required argument 'a'");
        return NULL;
    }
    if (slots[1] == NULL)
        slots[1] = Py_None;
    Py_INCREF(slots[1]);
    return slots[1];
}

/* ---- item access: generic sequence code, as HPy_GetItem_i is ----------- */

static PyObject *item_count(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t i, n, count = 0;
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "item_count() takes exactly 2 arguments");
        return NULL;
    }
    n = PyObject_Length(args[0]);
    if (n < 0)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *item = PySequence_GetItem(args[0], i);
        if (item == NULL)
            return NULL;
        if (item == args[1])
            count++;
        Py_DECREF(item);
    }
    return PyLong_FromSsize_t(count);
}

static PyObject *item_sum(PyObject *self, PyObject *seq)
{
    Py_ssize_t i, n = PyObject_Length(seq);
    PyObject *total;
    (void)self;
    if (n < 0)
        return NULL;
    total = PyLong_FromLong(0);
    for (i = 0; i < n && total != NULL; i++) {
        PyObject *item = PySequence_GetItem(seq, i), *next;
        if (item == NULL) {
            Py_DECREF(total);
            return NULL;
        }
        next = PyNumber_Add(total, item);
        Py_DECREF(item);
        Py_DECREF(total);
        total = next;
    }
    return total;
}

static PyObject *item_fill(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t i, n;
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "item_fill() takes exactly 2 arguments");
        return NULL;
    }
    n = PyObject_Length(args[0]);
    if (n < 0)
        return NULL;
    for (i = 0; i < n; i++)
        if (PySequence_SetItem(args[0], i, args[1]) < 0)
            return NULL;
    Py_RETURN_NONE;
}

/* ---- building lists and tuples ----------------------------------------- */

static PyObject *build_list(PyObject *self, PyObject *arg)
{
    Py_ssize_t i, n = PyLong_AsSsize_t(arg);
    PyObject *list;
    (void)self;
    if (n < 0 && PyErr_Occurred())
        return NULL;
    list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *item = PyFloat_FromDouble((double)i);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

static PyObject *build_tuple(PyObject *self, PyObject *arg)
{
    Py_ssize_t i, n = PyLong_AsSsize_t(arg);
    PyObject *tuple;
    (void)self;
    if (n < 0 && PyErr_Occurred())
        return NULL;
    tuple = PyTuple_New(n);
    if (tuple == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *item = PyFloat_FromDouble((double)i);
        if (item == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, item);
    }
    return tuple;
}

/* ---- errors ------------------------------------------------------------ */

static PyObject *raise_catch(PyObject *self, PyObject *unused)
{
    int caught;
    (void)self;
    (void)unused;
    PyErr_SetString(PyExc_ValueError, "bench");
    caught = PyErr_ExceptionMatches(PyExc_ValueError);
    PyErr_Clear();
    return PyBool_FromLong(caught);
}

/* ---- a custom object ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    double x;
    double y;
} PointObject;

static PyObject *Point_new(PyTypeObject *cls, PyObject *args, PyObject *kw)
{
    PointObject *point;
    if (PyTuple_GET_SIZE(args) != 0 || (kw != NULL && PyDict_GET_SIZE(kw) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Point() takes no arguments");
        return NULL;
    }
    point = (PointObject *)cls->tp_alloc(cls, 0);
    if (point == NULL)
        return NULL;
    point->x = 1.5;
    point->y = 2.0;
    return (PyObject *)point;
}

static void Point_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *Point_norm2(PyObject *self, PyObject *unused)
{
    PointObject *point = (PointObject *)self;
    (void)unused;
    return PyFloat_FromDouble(point->x * point->x + point->y * point->y);
}

static Py_ssize_t Point_len(PyObject *self)
{
    (void)self;
    return 2;
}

static PyObject *Point_item(PyObject *self, Py_ssize_t i)
{
    PointObject *point = (PointObject *)self;
    if (i < 0 || i >= 2) {
        PyErr_SetString(PyExc_IndexError, "Point index out of range");
        return NULL;
    }
    return PyFloat_FromDouble(i == 0 ? point->x : point->y);
}

static PyMethodDef Point_methods[] = {
    {"norm2", Point_norm2, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static PyMemberDef Point_members[] = {
    {"x", T_DOUBLE, offsetof(PointObject, x), 0, NULL},
    {"y", T_DOUBLE, offsetof(PointObject, y), 0, NULL},
    {NULL, 0, 0, 0, NULL}
};

/* A heap type, as HPy's types are. */
static PyType_Slot Point_slots[] = {
    {Py_tp_new, (void *)Point_new},
    {Py_tp_dealloc, (void *)Point_dealloc},
    {Py_tp_methods, Point_methods},
    {Py_tp_members, Point_members},
    {Py_sq_length, (void *)Point_len},
    {Py_sq_item, (void *)Point_item},
    {0, NULL}
};

static PyType_Spec Point_spec = {
    "bench.Point", sizeof(PointObject), 0, Py_TPFLAGS_DEFAULT, Point_slots
};

/* ---- the module ---------------------------------------------------------- */

static PyMethodDef module_methods[] = {
    {"f_noargs", f_noargs, METH_NOARGS, NULL},
    {"f_o", f_o, METH_O, NULL},
    {"f_varargs", (PyCFunction)(void (*)(void))f_varargs, METH_FASTCALL, NULL},
    {"f_keywords", (PyCFunction)(void (*)(void))f_keywords, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"parse_1", (PyCFunction)(void (*)(void))parse_1, METH_FASTCALL, NULL},
    {"parse_2", (PyCFunction)(void (*)(void))parse_2, METH_FASTCALL, NULL},
    {"parse_5", (PyCFunction)(void (*)(void))parse_5, METH_FASTCALL, NULL},
    {"parse_kw", (PyCFunction)(void (*)(void))parse_kw, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"item_count", (PyCFunction)(void (*)(void))item_count, METH_FASTCALL, NULL},
    {"item_sum", item_sum, METH_O, NULL},
    {"item_fill", (PyCFunction)(void (*)(void))item_fill, METH_FASTCALL, NULL},
    {"build_list", build_list, METH_O, NULL},
    {"build_tuple", build_tuple, METH_O, NULL},
    {"raise_catch", raise_catch, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "capi_bench", "hpy-build's micro-benchmarks (C-API baseline)",
    -1, module_methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_capi_bench(void)
{
    PyObject *module, *point;
    str_a = PyUnicode_InternFromString("a");
    str_b = PyUnicode_InternFromString("b");
    if (str_a == NULL || str_b == NULL)
        return NULL;
    module = PyModule_Create(&moduledef);
    if (module == NULL)
        return NULL;
    point = PyType_FromSpec(&Point_spec);
    if (point == NULL || PyModule_AddObject(module, "Point", point) < 0) {
        Py_XDECREF(point);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
