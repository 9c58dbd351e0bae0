/* hpy_sample._capi_array: the Array of src/array.c written by hand against
 * CPython's C API, line for line where the two APIs allow: same layout,
 * same algorithms, same error messages. It exists so benchmarks can compare
 * the HPy build with plain C-API code, and so the tests can check that the
 * two behave alike; docs/porting.md quotes both. Built for the CPython-ABI
 * wheel only (see setup.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t size;      /* number of elements */
    double *data;         /* malloc'ed, at least one slot: a buffer never points at NULL */
    Py_ssize_t exports;   /* live buffer views: while > 0 the data must stay put */
} ArrayObject;

/* The type made by the exec slot, for type checks and for the results of
 * arithmetic. One per process, like any static in a C-API extension. */
static PyObject *ArrayType = NULL;

/* A buffer's strides must be a pointer; every Array has the same one. */
static Py_ssize_t array_stride = sizeof(double);

static double *
alloc_doubles(Py_ssize_t n)
{
    double *data;
    if (n > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(double)) {
        PyErr_NoMemory();
        return NULL;
    }
    data = (double *)calloc(n > 0 ? (size_t)n : 1, sizeof(double));
    if (data == NULL)
        PyErr_NoMemory();
    return data;
}

/* A new Array of n zeros; *out points at it. */
static PyObject *
array_new_sized(PyTypeObject *type, Py_ssize_t n, ArrayObject **out)
{
    ArrayObject *array = (ArrayObject *)type->tp_alloc(type, 0);
    if (array == NULL)
        return NULL;
    array->data = alloc_doubles(n);
    if (array->data == NULL) {
        Py_DECREF(array);     /* tp_dealloc copes with data == NULL */
        return NULL;
    }
    array->size = n;
    array->exports = 0;
    *out = array;
    return (PyObject *)array;
}

/* The doubles of any iterable of numbers, in a new malloc'ed block. */
static double *
doubles_from_iterable(PyObject *iterable, Py_ssize_t *out_size)
{
    PyObject *seq, *item;
    Py_ssize_t n, i;
    double *data;

    /* The same steps as the HPy version, which has no iterator API. */
    if (PyList_Check(iterable) || PyTuple_Check(iterable)) {
        Py_INCREF(iterable);
        seq = iterable;
    }
    else
        seq = PyObject_CallFunctionObjArgs((PyObject *)&PyTuple_Type, iterable, NULL);
    if (seq == NULL)
        return NULL;
    n = PyObject_Length(seq);
    if (n < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    data = alloc_doubles(n);
    if (data == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        /* Not cached: an element's __float__ may shrink a list under us,
         * and then this raises IndexError instead of reading past the end. */
        item = PySequence_GetItem(seq, i);
        if (item == NULL)
            goto error;
        data[i] = PyFloat_AsDouble(item);
        Py_DECREF(item);
        if (data[i] == -1.0 && PyErr_Occurred())
            goto error;
    }
    Py_DECREF(seq);
    *out_size = n;
    return data;

error:
    free(data);
    Py_DECREF(seq);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Creation and destruction                                            */

static PyObject *
Array_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    ArrayObject *array;
    (void)args; (void)kw;   /* __init__ reads them */
    return array_new_sized(type, 0, &array);
}

static int
Array_init(PyObject *self, PyObject *args, PyObject *kw)
{
    ArrayObject *array;
    double *data;
    Py_ssize_t size = 0, nargs = PyTuple_GET_SIZE(args);

    if (kw != NULL) {
        Py_ssize_t nkw = PyObject_Length(kw);
        if (nkw < 0)
            return -1;
        if (nkw > 0) {
            PyErr_SetString(PyExc_TypeError, "Array() takes no keyword arguments");
            return -1;
        }
    }
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError,
                     "Array expected at most 1 argument, got %zd", nargs);
        return -1;
    }
    data = nargs == 1 ? doubles_from_iterable(PyTuple_GET_ITEM(args, 0), &size)
                      : alloc_doubles(0);
    if (data == NULL)
        return -1;
    /* Checked after the conversion, which ran Python code that may have
     * taken a view. */
    array = (ArrayObject *)self;
    if (array->exports > 0) {
        free(data);
        PyErr_SetString(PyExc_BufferError,
                        "Existing exports of data: object cannot be re-sized");
        return -1;
    }
    free(array->data);
    array->data = data;
    array->size = size;
    return 0;
}

/* A heap type's instances own a reference to their type. */
static void
Array_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    free(((ArrayObject *)self)->data);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyObject *
zeros(PyObject *module, PyObject *arg)
{
    ArrayObject *array;
    Py_ssize_t n;
    PyObject *index;
    (void)module;
    index = PyNumber_Index(arg);
    if (index == NULL)
        return NULL;
    n = PyLong_AsSsize_t(index);
    Py_DECREF(index);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "negative dimensions are not allowed");
        return NULL;
    }
    return array_new_sized((PyTypeObject *)ArrayType, n, &array);
}

/* ------------------------------------------------------------------ */
/* Sequence protocol                                                   */

static Py_ssize_t
Array_length(PyObject *self)
{
    return ((ArrayObject *)self)->size;
}

/* The interpreter has already added len(self) to a negative index. */
static PyObject *
Array_item(PyObject *self, Py_ssize_t i)
{
    ArrayObject *array = (ArrayObject *)self;
    if (i < 0 || i >= array->size) {
        PyErr_SetString(PyExc_IndexError, "Array index out of range");
        return NULL;
    }
    return PyFloat_FromDouble(array->data[i]);
}

static int
Array_ass_item(PyObject *self, Py_ssize_t i, PyObject *value)
{
    ArrayObject *array = (ArrayObject *)self;
    double v;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "'Array' object doesn't support item deletion");
        return -1;
    }
    if (i < 0 || i >= array->size)
        goto out_of_range;
    v = PyFloat_AsDouble(value);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    /* Again: value.__float__ may have called self.__init__. */
    if (i >= array->size)
        goto out_of_range;
    array->data[i] = v;
    return 0;

out_of_range:
    PyErr_SetString(PyExc_IndexError, "Array assignment index out of range");
    return -1;
}

/* ------------------------------------------------------------------ */
/* Arithmetic                                                          */

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV } ArrayOp;

/* One side of a binary operation: an Array, or a scalar seen as an Array
 * whose elements are all the same (step 0). */
typedef struct {
    ArrayObject *array; /* NULL for a scalar */
    const double *data;
    Py_ssize_t size;    /* -1 for a scalar */
    Py_ssize_t step;
    double scalar;
} Operand;

/* 1: *out is filled; 0: not a type we compute with; -1: error. */
static int
read_operand(PyObject *h, Operand *out)
{
    if (PyObject_TypeCheck(h, (PyTypeObject *)ArrayType)) {
        out->array = (ArrayObject *)h;
        out->data = out->array->data;
        out->size = out->array->size;
        out->step = 1;
        return 1;
    }
    if (PyFloat_Check(h) || PyLong_Check(h)) {
        out->scalar = PyFloat_AsDouble(h);   /* OverflowError for huge ints */
        if (out->scalar == -1.0 && PyErr_Occurred())
            return -1;
        out->array = NULL;
        out->data = &out->scalar;
        out->size = -1;
        out->step = 0;
        return 1;
    }
    return 0;
}

/* Allocating the result may run Python code (a __del__ from the GC) that
 * calls __init__ on an operand: look at its data again afterwards. */
static int
operand_still_valid(Operand *o)
{
    if (o->array == NULL)
        return 1;
    o->data = o->array->data;
    return o->array->size == o->size;
}

#define ARRAY_LOOP(EXPR)                                        \
    for (i = 0; i < n; i++) {                                   \
        double x = a.data[i * a.step], y = b.data[i * b.step];  \
        out[i] = (EXPR);                                        \
    }

static PyObject *
array_binary_op(PyObject *left, PyObject *right, ArrayOp op)
{
    Operand a, b;
    ArrayObject *result;
    PyObject *h_result;
    Py_ssize_t n, i;
    double *out;
    int ok;

    ok = read_operand(left, &a);
    if (ok == 1)
        ok = read_operand(right, &b);
    if (ok == 1 && a.array == NULL && b.array == NULL)
        ok = 0;   /* two scalars: not ours (cannot happen from Python) */
    if (ok != 1) {
        if (ok < 0)
            return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (a.array != NULL && b.array != NULL && a.size != b.size) {
        return PyErr_Format(PyExc_ValueError,
                            "operands could not be broadcast together with shapes (%zd,) (%zd,)",
                            a.size, b.size);
    }
    n = a.array != NULL ? a.size : b.size;
    h_result = array_new_sized((PyTypeObject *)ArrayType, n, &result);
    if (h_result == NULL)
        return NULL;
    if (!operand_still_valid(&a) || !operand_still_valid(&b)) {
        Py_DECREF(h_result);
        PyErr_SetString(PyExc_RuntimeError, "Array changed size during the operation");
        return NULL;
    }
    out = result->data;
    switch (op) {
    case OP_ADD: ARRAY_LOOP(x + y) break;
    case OP_SUB: ARRAY_LOOP(x - y) break;
    case OP_MUL: ARRAY_LOOP(x * y) break;
    case OP_DIV: ARRAY_LOOP(x / y) break;
    }
    return h_result;
}

/* CPython calls these for a + 2 and for 2 + a alike: left is then the int. */
static PyObject *
Array_add(PyObject *left, PyObject *right)
{
    return array_binary_op(left, right, OP_ADD);
}

static PyObject *
Array_subtract(PyObject *left, PyObject *right)
{
    return array_binary_op(left, right, OP_SUB);
}

static PyObject *
Array_multiply(PyObject *left, PyObject *right)
{
    return array_binary_op(left, right, OP_MUL);
}

static PyObject *
Array_true_divide(PyObject *left, PyObject *right)
{
    return array_binary_op(left, right, OP_DIV);
}

/* ------------------------------------------------------------------ */
/* Comparison, repr, methods                                           */

static PyObject *
Array_richcompare(PyObject *self, PyObject *other, int op)
{
    ArrayObject *a, *b;
    Py_ssize_t i;
    int equal;

    if (op != Py_EQ && op != Py_NE)
        Py_RETURN_NOTIMPLEMENTED;
    if (!PyObject_TypeCheck(other, (PyTypeObject *)ArrayType))
        Py_RETURN_NOTIMPLEMENTED;
    a = (ArrayObject *)self;
    b = (ArrayObject *)other;
    equal = a->size == b->size;
    for (i = 0; equal && i < a->size; i++)
        equal = a->data[i] == b->data[i];
    if (equal == (op == Py_EQ))
        Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

static PyObject *
Array_tolist(PyObject *self, PyObject *unused)
{
    ArrayObject *array = (ArrayObject *)self;
    Py_ssize_t i;
    PyObject *list = PyList_New(0);
    (void)unused;
    if (list == NULL)
        return NULL;
    /* size and data are read again on every round: allocating a float may
     * run a __del__ that calls self.__init__. */
    for (i = 0; i < array->size; i++) {
        int appended;
        PyObject *item = PyFloat_FromDouble(array->data[i]);
        if (item == NULL)
            goto error;
        appended = PyList_Append(list, item);
        Py_DECREF(item);
        if (appended < 0)
            goto error;
    }
    return list;

error:
    Py_DECREF(list);
    return NULL;
}

static PyObject *
Array_repr(PyObject *self)
{
    PyObject *list, *result;
    list = Array_tolist(self, NULL);
    if (list == NULL)
        return NULL;
    result = PyUnicode_FromFormat("Array(%R)", list);
    Py_DECREF(list);
    return result;
}

static PyObject *
Array_sum(PyObject *self, PyObject *unused)
{
    ArrayObject *array = (ArrayObject *)self;
    double total = 0.0;
    Py_ssize_t i;
    (void)unused;
    for (i = 0; i < array->size; i++)
        total += array->data[i];
    return PyFloat_FromDouble(total);
}

/* ------------------------------------------------------------------ */
/* Buffer protocol                                                     */

static int
Array_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    ArrayObject *array = (ArrayObject *)self;
    /* Always C-contiguous, 1-D and writable: every request can be met. */
    view->buf = array->data;
    Py_INCREF(self);
    view->obj = self;                 /* released by PyBuffer_Release */
    view->len = array->size * (Py_ssize_t)sizeof(double);
    view->itemsize = sizeof(double);
    view->readonly = 0;
    view->ndim = 1;
    view->format = (flags & PyBUF_FORMAT) ? (char *)"d" : NULL;
    view->shape = (flags & PyBUF_ND) ? &array->size : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? &array_stride : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    array->exports++;
    return 0;
}

static void
Array_releasebuffer(PyObject *self, Py_buffer *view)
{
    (void)view;
    ((ArrayObject *)self)->exports--;
}

/* ------------------------------------------------------------------ */
/* The type and the module                                             */

static PyMethodDef Array_methods[] = {
    {"tolist", Array_tolist, METH_NOARGS, "tolist() -> a list of the elements as floats"},
    {"sum", Array_sum, METH_NOARGS,
     "sum() -> float: the elements added left to right (0.0 if empty)"},
    {NULL, NULL, 0, NULL}
};

static PyType_Slot Array_slots[] = {
    {Py_tp_new, (void *)Array_new},
    {Py_tp_init, (void *)Array_init},
    {Py_tp_dealloc, (void *)Array_dealloc},
    {Py_sq_length, (void *)Array_length},
    {Py_sq_item, (void *)Array_item},
    {Py_sq_ass_item, (void *)Array_ass_item},
    {Py_nb_add, (void *)Array_add},
    {Py_nb_subtract, (void *)Array_subtract},
    {Py_nb_multiply, (void *)Array_multiply},
    {Py_nb_true_divide, (void *)Array_true_divide},
    {Py_tp_richcompare, (void *)Array_richcompare},
    {Py_tp_repr, (void *)Array_repr},
#ifdef Py_bf_getbuffer
    {Py_bf_getbuffer, (void *)Array_getbuffer},
    {Py_bf_releasebuffer, (void *)Array_releasebuffer},
#endif
    {Py_tp_methods, (void *)Array_methods},
    {Py_tp_doc, (void *)"Array(iterable=()) -> a 1-D array of C doubles"},
    {0, NULL}
};

static PyType_Spec Array_spec = {
    .name = "hpy_sample._capi_array.Array",
    .basicsize = sizeof(ArrayObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Array_slots,
};

static int
capi_array_exec(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&Array_spec);
    if (type == NULL)
        return -1;
#ifndef Py_bf_getbuffer
    /* A PyType_Spec takes buffer slots from CPython 3.9 on; before, fill
     * the heap type's own table (HPy_bf_getbuffer hides this difference). */
    ((PyTypeObject *)type)->tp_as_buffer->bf_getbuffer = Array_getbuffer;
    ((PyTypeObject *)type)->tp_as_buffer->bf_releasebuffer = Array_releasebuffer;
#endif
    if (PyObject_SetAttrString(module, "Array", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    Py_XSETREF(ArrayType, type);   /* keeps the reference */
    return 0;
}

static PyMethodDef module_methods[] = {
    {"zeros", zeros, METH_O, "zeros(n) -> Array of n zeros"},
    {NULL, NULL, 0, NULL}
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)capi_array_exec},
    {0, NULL}
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "hpy_sample._capi_array",
    .m_doc = "The Array of hpy_sample._array, written by hand against the C API.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__capi_array(void)
{
    return PyModuleDef_Init(&moduledef);
}
