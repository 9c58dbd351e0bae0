/* hpy_sample._array: a 1-D float64 Array type, written once against hpy.h
 * and built for the CPython and universal ABIs like the rest of the sample.
 * src/capi_array.c is the same type written by hand against Python.h; keep
 * the two in step (same layout, same algorithms, same messages), because
 * the tests run against both and the benchmarks compare them.
 *
 * Semantics, chosen to be numpy-like but small:
 * - elements are C doubles; anything HPyFloat_AsDouble accepts can go in;
 * - + - * / take an Array and an Array of the same length, or an Array and
 *   an int or float (either side); they compute with C doubles, so division
 *   by zero gives inf or nan as IEEE 754 and numpy say, and never raises;
 * - a == b is one bool: same length and every element equal (C ==, so a NaN
 *   is never equal); other comparisons and other operand types give
 *   NotImplemented, so Python decides (False for ==, TypeError for <);
 * - the buffer is the data itself (format 'd', writable): a memoryview
 *   sees and makes changes, and __init__ refuses to replace the data while
 *   a view exists.
 */
#include <stdlib.h>

#include "hpy.h"

typedef struct {
    HPy_ssize_t size;     /* number of elements */
    double *data;         /* malloc'ed, at least one slot: a buffer never points at NULL */
    HPy_ssize_t exports;  /* live buffer views: while > 0 the data must stay put */
} ArrayObject;

HPyType_HELPERS(ArrayObject)

/* The type made by the exec slot, for type checks and for the results of
 * arithmetic. A handle would die with the call that made it. */
static HPyGlobal g_ArrayType;

/* Buffer request bits: the values of CPython's PyBUF_* flags (they are part of
 * its stable ABI); HPy 0.9 has no names for them. */
#define ARRAY_BUF_FORMAT 0x0004
#define ARRAY_BUF_ND 0x0008
#define ARRAY_BUF_STRIDES (0x0010 | ARRAY_BUF_ND)

/* A buffer's strides must be a pointer; every Array has the same one. */
static HPy_ssize_t array_stride = sizeof(double);

static double *
alloc_doubles(HPyContext *ctx, HPy_ssize_t n)
{
    double *data;
    if (n > HPY_SSIZE_T_MAX / (HPy_ssize_t)sizeof(double)) {
        HPyErr_NoMemory(ctx);
        return NULL;
    }
    data = (double *)calloc(n > 0 ? (size_t)n : 1, sizeof(double));
    if (data == NULL)
        HPyErr_NoMemory(ctx);
    return data;
}

/* A new Array of n zeros; *out points at its struct. */
static HPy
array_new_sized(HPyContext *ctx, HPy type, HPy_ssize_t n, ArrayObject **out)
{
    ArrayObject *array;
    HPy h = HPy_New(ctx, type, &array);
    if (HPy_IsNull(h))
        return HPy_NULL;
    array->data = alloc_doubles(ctx, n);
    if (array->data == NULL) {
        HPy_Close(ctx, h);    /* tp_destroy copes with data == NULL */
        return HPy_NULL;
    }
    array->size = n;
    array->exports = 0;
    *out = array;
    return h;
}

/* The doubles of any iterable of numbers, in a new malloc'ed block. */
static double *
doubles_from_iterable(HPyContext *ctx, HPy iterable, HPy_ssize_t *out_size)
{
    HPy seq, item;
    HPy_ssize_t n, i;
    double *data;

    /* HPy 0.9 has no iterator API: let tuple() do the iterating (and raise
     * "'int' object is not iterable"), except for lists and tuples. */
    if (HPyList_Check(ctx, iterable) || HPyTuple_Check(ctx, iterable))
        seq = HPy_Dup(ctx, iterable);
    else
        seq = HPy_Call(ctx, ctx->h_TupleType, &iterable, 1, HPy_NULL);
    if (HPy_IsNull(seq))
        return NULL;
    n = HPy_Length(ctx, seq);
    if (n < 0) {
        HPy_Close(ctx, seq);
        return NULL;
    }
    data = alloc_doubles(ctx, n);
    if (data == NULL) {
        HPy_Close(ctx, seq);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        /* Not cached: an element's __float__ may shrink a list under us,
         * and then this raises IndexError instead of reading past the end. */
        item = HPy_GetItem_i(ctx, seq, i);
        if (HPy_IsNull(item))
            goto error;
        data[i] = HPyFloat_AsDouble(ctx, item);
        HPy_Close(ctx, item);
        if (data[i] == -1.0 && HPyErr_Occurred(ctx))
            goto error;
    }
    HPy_Close(ctx, seq);
    *out_size = n;
    return data;

error:
    free(data);
    HPy_Close(ctx, seq);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Creation and destruction                                            */

HPyDef_SLOT(Array_new, HPy_tp_new)
static HPy
Array_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    ArrayObject *array;
    (void)args; (void)nargs; (void)kw;   /* __init__ reads them */
    return array_new_sized(ctx, type, 0, &array);
}

HPyDef_SLOT(Array_init, HPy_tp_init)
static int
Array_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    ArrayObject *array;
    double *data;
    HPy_ssize_t size = 0;

    if (!HPy_IsNull(kw)) {
        HPy_ssize_t nkw = HPy_Length(ctx, kw);
        if (nkw < 0)
            return -1;
        if (nkw > 0) {
            HPyErr_SetString(ctx, ctx->h_TypeError, "Array() takes no keyword arguments");
            return -1;
        }
    }
    if (nargs > 1) {
        HPyErr_Format(ctx, ctx->h_TypeError,
                      "Array expected at most 1 argument, got %zd", nargs);
        return -1;
    }
    data = nargs == 1 ? doubles_from_iterable(ctx, args[0], &size) : alloc_doubles(ctx, 0);
    if (data == NULL)
        return -1;
    /* Checked after the conversion, which ran Python code that may have
     * taken a view. */
    array = ArrayObject_AsStruct(ctx, self);
    if (array->exports > 0) {
        free(data);
        HPyErr_SetString(ctx, ctx->h_BufferError,
                         "Existing exports of data: object cannot be re-sized");
        return -1;
    }
    free(array->data);
    array->data = data;
    array->size = size;
    return 0;
}

/* Frees what the object owns; the object's memory is the runtime's. */
HPyDef_SLOT(Array_destroy, HPy_tp_destroy)
static void
Array_destroy_impl(void *obj)
{
    ArrayObject *array = (ArrayObject *)obj;
    free(array->data);
}

HPyDef_METH(zeros, "zeros", HPyFunc_O, .doc = "zeros(n) -> Array of n zeros")
static HPy
zeros_impl(HPyContext *ctx, HPy self, HPy arg)
{
    ArrayObject *array;
    HPy_ssize_t n;
    HPy index, type, result;
    (void)self;
    index = HPy_Index(ctx, arg);    /* "'float' object cannot be interpreted as an integer" */
    if (HPy_IsNull(index))
        return HPy_NULL;
    n = HPyLong_AsSsize_t(ctx, index);
    HPy_Close(ctx, index);
    if (n == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    if (n < 0) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "negative dimensions are not allowed");
        return HPy_NULL;
    }
    type = HPyGlobal_Load(ctx, g_ArrayType);
    if (HPy_IsNull(type))
        return HPy_NULL;
    result = array_new_sized(ctx, type, n, &array);
    HPy_Close(ctx, type);
    return result;
}

/* ------------------------------------------------------------------ */
/* Sequence protocol                                                   */

HPyDef_SLOT(Array_length, HPy_sq_length)
static HPy_ssize_t
Array_length_impl(HPyContext *ctx, HPy self)
{
    return ArrayObject_AsStruct(ctx, self)->size;
}

/* The interpreter has already added len(self) to a negative index. */
HPyDef_SLOT(Array_item, HPy_sq_item)
static HPy
Array_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    ArrayObject *array = ArrayObject_AsStruct(ctx, self);
    if (i < 0 || i >= array->size) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "Array index out of range");
        return HPy_NULL;
    }
    return HPyFloat_FromDouble(ctx, array->data[i]);
}

HPyDef_SLOT(Array_ass_item, HPy_sq_ass_item)
static int
Array_ass_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i, HPy value)
{
    ArrayObject *array = ArrayObject_AsStruct(ctx, self);
    double v;
    if (HPy_IsNull(value)) {
        HPyErr_SetString(ctx, ctx->h_TypeError,
                         "'Array' object doesn't support item deletion");
        return -1;
    }
    if (i < 0 || i >= array->size)
        goto out_of_range;
    v = HPyFloat_AsDouble(ctx, value);
    if (v == -1.0 && HPyErr_Occurred(ctx))
        return -1;
    /* Again: value.__float__ may have called self.__init__. */
    if (i >= array->size)
        goto out_of_range;
    array->data[i] = v;
    return 0;

out_of_range:
    HPyErr_SetString(ctx, ctx->h_IndexError, "Array assignment index out of range");
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
    HPy_ssize_t size;   /* -1 for a scalar */
    HPy_ssize_t step;
    double scalar;
} Operand;

/* 1: *out is filled; 0: not a type we compute with; -1: error. */
static int
read_operand(HPyContext *ctx, HPy type, HPy h, Operand *out)
{
    if (HPy_TypeCheck(ctx, h, type)) {
        out->array = ArrayObject_AsStruct(ctx, h);
        out->data = out->array->data;
        out->size = out->array->size;
        out->step = 1;
        return 1;
    }
    if (HPy_TypeCheck(ctx, h, ctx->h_FloatType) || HPy_TypeCheck(ctx, h, ctx->h_LongType)) {
        out->scalar = HPyFloat_AsDouble(ctx, h);   /* OverflowError for huge ints */
        if (out->scalar == -1.0 && HPyErr_Occurred(ctx))
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

static HPy
array_binary_op(HPyContext *ctx, HPy left, HPy right, ArrayOp op)
{
    Operand a, b;
    ArrayObject *result;
    HPy type, h_result;
    HPy_ssize_t n, i;
    double *out;
    int ok;

    type = HPyGlobal_Load(ctx, g_ArrayType);
    if (HPy_IsNull(type))
        return HPy_NULL;
    ok = read_operand(ctx, type, left, &a);
    if (ok == 1)
        ok = read_operand(ctx, type, right, &b);
    if (ok == 1 && a.array == NULL && b.array == NULL)
        ok = 0;   /* two scalars: not ours (cannot happen from Python) */
    if (ok != 1) {
        HPy_Close(ctx, type);
        return ok < 0 ? HPy_NULL : HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    if (a.array != NULL && b.array != NULL && a.size != b.size) {
        HPy_Close(ctx, type);
        return HPyErr_Format(ctx, ctx->h_ValueError,
                             "operands could not be broadcast together with shapes (%zd,) (%zd,)",
                             a.size, b.size);
    }
    n = a.array != NULL ? a.size : b.size;
    h_result = array_new_sized(ctx, type, n, &result);
    HPy_Close(ctx, type);
    if (HPy_IsNull(h_result))
        return HPy_NULL;
    if (!operand_still_valid(&a) || !operand_still_valid(&b)) {
        HPy_Close(ctx, h_result);
        HPyErr_SetString(ctx, ctx->h_RuntimeError, "Array changed size during the operation");
        return HPy_NULL;
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
HPyDef_SLOT(Array_add, HPy_nb_add)
static HPy
Array_add_impl(HPyContext *ctx, HPy left, HPy right)
{
    return array_binary_op(ctx, left, right, OP_ADD);
}

HPyDef_SLOT(Array_subtract, HPy_nb_subtract)
static HPy
Array_subtract_impl(HPyContext *ctx, HPy left, HPy right)
{
    return array_binary_op(ctx, left, right, OP_SUB);
}

HPyDef_SLOT(Array_multiply, HPy_nb_multiply)
static HPy
Array_multiply_impl(HPyContext *ctx, HPy left, HPy right)
{
    return array_binary_op(ctx, left, right, OP_MUL);
}

HPyDef_SLOT(Array_true_divide, HPy_nb_true_divide)
static HPy
Array_true_divide_impl(HPyContext *ctx, HPy left, HPy right)
{
    return array_binary_op(ctx, left, right, OP_DIV);
}

/* ------------------------------------------------------------------ */
/* Comparison, repr, methods                                           */

HPyDef_SLOT(Array_richcompare, HPy_tp_richcompare)
static HPy
Array_richcompare_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    ArrayObject *a, *b;
    HPy type;
    HPy_ssize_t i;
    int is_array, equal;

    if (op != HPy_EQ && op != HPy_NE)
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    type = HPyGlobal_Load(ctx, g_ArrayType);
    if (HPy_IsNull(type))
        return HPy_NULL;
    is_array = HPy_TypeCheck(ctx, other, type);
    HPy_Close(ctx, type);
    if (!is_array)
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    a = ArrayObject_AsStruct(ctx, self);
    b = ArrayObject_AsStruct(ctx, other);
    equal = a->size == b->size;
    for (i = 0; equal && i < a->size; i++)
        equal = a->data[i] == b->data[i];
    return HPy_Dup(ctx, equal == (op == HPy_EQ) ? ctx->h_True : ctx->h_False);
}

HPyDef_METH(Array_tolist, "tolist", HPyFunc_NOARGS,
            .doc = "tolist() -> a list of the elements as floats")
static HPy
Array_tolist_impl(HPyContext *ctx, HPy self)
{
    ArrayObject *array = ArrayObject_AsStruct(ctx, self);
    HPy_ssize_t i;
    HPy list = HPyList_New(ctx, 0);
    if (HPy_IsNull(list))
        return HPy_NULL;
    /* size and data are read again on every round: allocating a float may
     * run a __del__ that calls self.__init__. */
    for (i = 0; i < array->size; i++) {
        int appended;
        HPy item = HPyFloat_FromDouble(ctx, array->data[i]);
        if (HPy_IsNull(item))
            goto error;
        appended = HPyList_Append(ctx, list, item);
        HPy_Close(ctx, item);
        if (appended < 0)
            goto error;
    }
    return list;

error:
    HPy_Close(ctx, list);
    return HPy_NULL;
}

HPyDef_SLOT(Array_repr, HPy_tp_repr)
static HPy
Array_repr_impl(HPyContext *ctx, HPy self)
{
    HPy list, result;
    list = Array_tolist_impl(ctx, self);
    if (HPy_IsNull(list))
        return HPy_NULL;
    result = HPyUnicode_FromFormat(ctx, "Array(%R)", list);
    HPy_Close(ctx, list);
    return result;
}

HPyDef_METH(Array_sum, "sum", HPyFunc_NOARGS,
            .doc = "sum() -> float: the elements added left to right (0.0 if empty)")
static HPy
Array_sum_impl(HPyContext *ctx, HPy self)
{
    ArrayObject *array = ArrayObject_AsStruct(ctx, self);
    double total = 0.0;
    HPy_ssize_t i;
    for (i = 0; i < array->size; i++)
        total += array->data[i];
    return HPyFloat_FromDouble(ctx, total);
}

/* ------------------------------------------------------------------ */
/* Buffer protocol                                                     */

HPyDef_SLOT(Array_getbuffer, HPy_bf_getbuffer)
static int
Array_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
{
    ArrayObject *array = ArrayObject_AsStruct(ctx, self);
    /* Always C-contiguous, 1-D and writable: every request can be met. */
    view->buf = array->data;
    view->obj = HPy_Dup(ctx, self);   /* closed by whoever releases the view */
    view->len = array->size * (HPy_ssize_t)sizeof(double);
    view->itemsize = sizeof(double);
    view->readonly = 0;
    view->ndim = 1;
    view->format = (flags & ARRAY_BUF_FORMAT) ? (char *)"d" : NULL;
    view->shape = (flags & ARRAY_BUF_ND) ? &array->size : NULL;
    view->strides = (flags & ARRAY_BUF_STRIDES) == ARRAY_BUF_STRIDES ? &array_stride : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    array->exports++;
    return 0;
}

HPyDef_SLOT(Array_releasebuffer, HPy_bf_releasebuffer)
static void
Array_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
{
    (void)view;
    ArrayObject_AsStruct(ctx, self)->exports--;
}

/* ------------------------------------------------------------------ */
/* The type and the module                                             */

static HPyDef *Array_defines[] = {
    &Array_new, &Array_init, &Array_destroy,
    &Array_length, &Array_item, &Array_ass_item,
    &Array_add, &Array_subtract, &Array_multiply, &Array_true_divide,
    &Array_richcompare, &Array_repr,
    &Array_getbuffer, &Array_releasebuffer,
    &Array_tolist, &Array_sum,
    NULL
};

static HPyType_Spec Array_spec = {
    .name = "hpy_sample._array.Array",
    .basicsize = sizeof(ArrayObject),
    .builtin_shape = SHAPE(ArrayObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .defines = Array_defines,
    .doc = "Array(iterable=()) -> a 1-D array of C doubles",
};

HPyDef_SLOT(array_exec, HPy_mod_exec)
static int
array_exec_impl(HPyContext *ctx, HPy module)
{
    HPy type = HPyType_FromSpec(ctx, &Array_spec, NULL);
    if (HPy_IsNull(type))
        return -1;
    if (HPy_SetAttr_s(ctx, module, "Array", type) < 0) {
        HPy_Close(ctx, type);
        return -1;
    }
    HPyGlobal_Store(ctx, &g_ArrayType, type);
    HPy_Close(ctx, type);
    return 0;
}

static HPyDef *module_defines[] = { &array_exec, &zeros, NULL };
static HPyGlobal *module_globals[] = { &g_ArrayType, NULL };

static HPyModuleDef moduledef = {
    .doc = "A numpy-like 1-D float64 Array, written against hpy.h.",
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(_array, moduledef)
