/* A module half-way through its port to HPy, for docs/porting.md: some
 * functions are HPy already, the rest are still C API, and both live in one
 * module. It builds for the cpython and hybrid ABIs (never universal: it
 * includes Python.h). sample_ext/tests/test_porting_doc.py compiles and runs
 * it in both.
 */
#include "hpy.h"     /* in the cpython and hybrid ABIs this includes Python.h */

/* Not ported yet: an old C-API helper and an old C-API function. */
static PyObject *
old_scale(PyObject *value, double factor)
{
    double v = PyFloat_AsDouble(value);
    if (v == -1.0 && PyErr_Occurred())
        return NULL;
    return PyFloat_FromDouble(v * factor);
}

static PyObject *
old_half(PyObject *self, PyObject *arg)
{
    (void)self;
    return old_scale(arg, 0.5);
}

static PyMethodDef legacy_methods[] = {
    {"half", old_half, METH_O, "half(x) -> x / 2, still C API"},
    {NULL, NULL, 0, NULL}
};

/* Ported: an HPy function that still calls the old helper. HPy_AsPyObject
 * and HPy_FromPyObject both return new references. */
HPyDef_METH(twice, "twice", HPyFunc_O, .doc = "twice(x) -> x * 2, HPy calling C API")
static HPy
twice_impl(HPyContext *ctx, HPy self, HPy arg)
{
    PyObject *py_arg, *py_result;
    HPy result;
    (void)self;
    py_arg = HPy_AsPyObject(ctx, arg);
    py_result = old_scale(py_arg, 2.0);
    Py_DECREF(py_arg);
    if (py_result == NULL)
        return HPy_NULL;
    result = HPy_FromPyObject(ctx, py_result);
    Py_DECREF(py_result);
    return result;
}

/* A type whose struct still starts with PyObject_HEAD: a legacy type, so
 * that its old C-API methods keep working next to new HPy ones. */
typedef struct {
    PyObject_HEAD
    double value;
} CellObject;

HPyType_LEGACY_HELPERS(CellObject)

static PyObject *
Cell_old_get(PyObject *self, PyObject *unused)
{
    (void)unused;
    return PyFloat_FromDouble(((CellObject *)self)->value);
}

static PyMethodDef Cell_legacy_methods[] = {
    {"get", Cell_old_get, METH_NOARGS, "get() -> the value, still C API"},
    {NULL, NULL, 0, NULL}
};

static PyType_Slot Cell_legacy_slots[] = {
    {Py_tp_methods, Cell_legacy_methods},
    {0, NULL}
};

HPyDef_SLOT(Cell_new, HPy_tp_new)
static HPy
Cell_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    CellObject *cell;
    double value;
    HPy h;
    if (!HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "d:Cell",
                                  (const char *[]){"value", NULL}, &value))
        return HPy_NULL;
    h = HPy_New(ctx, type, &cell);
    if (HPy_IsNull(h))
        return HPy_NULL;
    cell->value = value;
    return h;
}

HPyDef_METH(Cell_set, "set", HPyFunc_O, .doc = "set(x): store x, already HPy")
static HPy
Cell_set_impl(HPyContext *ctx, HPy self, HPy arg)
{
    double value = HPyFloat_AsDouble(ctx, arg);
    if (value == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    CellObject_AsStruct(ctx, self)->value = value;
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *Cell_defines[] = { &Cell_new, &Cell_set, NULL };

static HPyType_Spec Cell_spec = {
    .name = "halfway.Cell",
    .basicsize = sizeof(CellObject),
    .builtin_shape = HPyType_BuiltinShape_Legacy,
    .legacy_slots = Cell_legacy_slots,
    .defines = Cell_defines,
};

HPyDef_SLOT(halfway_exec, HPy_mod_exec)
static int
halfway_exec_impl(HPyContext *ctx, HPy module)
{
    return HPyHelpers_AddType(ctx, module, "Cell", &Cell_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = { &halfway_exec, &twice, NULL };

static HPyModuleDef moduledef = {
    .doc = "Half HPy, half C API.",
    .legacy_methods = legacy_methods,
    .defines = module_defines,
};

HPy_MODINIT(halfway, moduledef)
