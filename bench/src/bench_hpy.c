/* The micro-benchmarks, written once against hpy.h. Every HPy variant of the
 * harness (hpy-build and HPy 0.9.0, each ABI) compiles this very file; only
 * BENCH_MODULE (the module's name, so that all variants load side by side in
 * one process) changes. Its C-API twin is capi_bench.c: keep them alike. */
#include <stddef.h>
#include "hpy.h"

#ifndef BENCH_MODULE
#  define BENCH_MODULE bench_hpy
#endif

/* ---- calls of each signature ------------------------------------------ */

HPyDef_METH(f_noargs, "f_noargs", HPyFunc_NOARGS)
static HPy f_noargs_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(f_o, "f_o", HPyFunc_O)
static HPy f_o_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_Dup(ctx, arg);
}

HPyDef_METH(f_varargs, "f_varargs", HPyFunc_VARARGS)
static HPy f_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "f_varargs() takes exactly 2 arguments");
        return HPy_NULL;
    }
    return HPy_Dup(ctx, args[0]);
}

HPyDef_METH(f_keywords, "f_keywords", HPyFunc_KEYWORDS)
static HPy f_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                           HPy kwnames)
{
    (void)self;
    (void)kwnames;
    if (nargs < 1) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "f_keywords() needs an argument");
        return HPy_NULL;
    }
    return HPy_Dup(ctx, args[0]);
}

/* ---- argument parsing -------------------------------------------------- */

HPyDef_METH(parse_1, "parse_1", HPyFunc_VARARGS)
static HPy parse_1_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "O", &a))
        return HPy_NULL;
    return HPy_Dup(ctx, a);
}

HPyDef_METH(parse_2, "parse_2", HPyFunc_VARARGS)
static HPy parse_2_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a, b;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO", &a, &b))
        return HPy_NULL;
    return HPy_Dup(ctx, b);
}

HPyDef_METH(parse_5, "parse_5", HPyFunc_VARARGS)
static HPy parse_5_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a, b, c, d, e;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OOOOO", &a, &b, &c, &d, &e))
        return HPy_NULL;
    return HPy_Dup(ctx, e);
}

/* parse_kw(a, b=None): the result is b, so a keyword that is not matched shows. */
HPyDef_METH(parse_kw, "parse_kw", HPyFunc_KEYWORDS)
static HPy parse_kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                         HPy kwnames)
{
    static const char *kwlist[] = { "a", "b", NULL };
    HPy a, b = HPy_NULL, result;
    HPyTracker ht;   /* HPy 0.9 insists on one for "O" with keywords */
    (void)self;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "O|O", kwlist, &a, &b))
        return HPy_NULL;
    result = HPy_Dup(ctx, HPy_IsNull(b) ? ctx->h_None : b);
    HPyTracker_Close(ctx, ht);
    return result;
}

/* ---- item access ------------------------------------------------------- */

/* How many items of seq are obj: nothing but item reads. */
HPyDef_METH(item_count, "item_count", HPyFunc_VARARGS)
static HPy item_count_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy_ssize_t i, n, count = 0;
    (void)self;
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "item_count() takes exactly 2 arguments");
        return HPy_NULL;
    }
    n = HPy_Length(ctx, args[0]);
    if (n < 0)
        return HPy_NULL;
    for (i = 0; i < n; i++) {
        HPy item = HPy_GetItem_i(ctx, args[0], i);
        if (HPy_IsNull(item))
            return HPy_NULL;
        if (HPy_Is(ctx, item, args[1]))
            count++;
        HPy_Close(ctx, item);
    }
    return HPyLong_FromSsize_t(ctx, count);
}

/* sum(seq) in C: the loop of the issue (HPy_GetItem_i + HPy_Add + HPy_Close). */
HPyDef_METH(item_sum, "item_sum", HPyFunc_O)
static HPy item_sum_impl(HPyContext *ctx, HPy self, HPy seq)
{
    HPy_ssize_t i, n = HPy_Length(ctx, seq);
    HPy total;
    (void)self;
    if (n < 0)
        return HPy_NULL;
    total = HPyLong_FromLong(ctx, 0);
    for (i = 0; i < n && !HPy_IsNull(total); i++) {
        HPy item = HPy_GetItem_i(ctx, seq, i), next;
        if (HPy_IsNull(item)) {
            HPy_Close(ctx, total);
            return HPy_NULL;
        }
        next = HPy_Add(ctx, total, item);
        HPy_Close(ctx, item);
        HPy_Close(ctx, total);
        total = next;
    }
    return total;
}

/* seq[i] = value for every i. */
HPyDef_METH(item_fill, "item_fill", HPyFunc_VARARGS)
static HPy item_fill_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy_ssize_t i, n;
    (void)self;
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "item_fill() takes exactly 2 arguments");
        return HPy_NULL;
    }
    n = HPy_Length(ctx, args[0]);
    if (n < 0)
        return HPy_NULL;
    for (i = 0; i < n; i++)
        if (HPy_SetItem_i(ctx, args[0], i, args[1]) < 0)
            return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

/* ---- building lists and tuples ----------------------------------------- */

HPyDef_METH(build_list, "build_list", HPyFunc_O)
static HPy build_list_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_ssize_t i, n = HPyLong_AsSsize_t(ctx, arg);
    HPyListBuilder builder;
    (void)self;
    if (n < 0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    builder = HPyListBuilder_New(ctx, n);
    for (i = 0; i < n; i++) {
        HPy item = HPyFloat_FromDouble(ctx, (double)i);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, builder, i, item);
        HPy_Close(ctx, item);
    }
    return HPyListBuilder_Build(ctx, builder);
}

HPyDef_METH(build_tuple, "build_tuple", HPyFunc_O)
static HPy build_tuple_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_ssize_t i, n = HPyLong_AsSsize_t(ctx, arg);
    HPyTupleBuilder builder;
    (void)self;
    if (n < 0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    builder = HPyTupleBuilder_New(ctx, n);
    for (i = 0; i < n; i++) {
        HPy item = HPyFloat_FromDouble(ctx, (double)i);
        if (HPy_IsNull(item)) {
            HPyTupleBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        HPyTupleBuilder_Set(ctx, builder, i, item);
        HPy_Close(ctx, item);
    }
    return HPyTupleBuilder_Build(ctx, builder);
}

/* ---- errors ------------------------------------------------------------ */

/* Raise ValueError and catch it again, all in C. */
HPyDef_METH(raise_catch, "raise_catch", HPyFunc_NOARGS)
static HPy raise_catch_impl(HPyContext *ctx, HPy self)
{
    int caught;
    (void)self;
    HPyErr_SetString(ctx, ctx->h_ValueError, "bench");
    caught = HPyErr_ExceptionMatches(ctx, ctx->h_ValueError);
    HPyErr_Clear(ctx);
    return HPyBool_FromLong(ctx, caught);
}

/* ---- a custom object ---------------------------------------------------- */

typedef struct {
    double x;
    double y;
} PointObject;

HPyType_HELPERS(PointObject)

/* Point(): a new point at (1.5, 2.0); no argument parsing, so this is allocation. */
HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    PointObject *point;
    HPy h;
    (void)args;
    if (nargs != 0 || !HPy_IsNull(kw)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "Point() takes no arguments");
        return HPy_NULL;
    }
    h = HPy_New(ctx, cls, &point);
    if (HPy_IsNull(h))
        return HPy_NULL;
    point->x = 1.5;
    point->y = 2.0;
    return h;
}

HPyDef_METH(Point_norm2, "norm2", HPyFunc_NOARGS)
static HPy Point_norm2_impl(HPyContext *ctx, HPy self)
{
    PointObject *point = PointObject_AsStruct(ctx, self);
    return HPyFloat_FromDouble(ctx, point->x * point->x + point->y * point->y);
}

HPyDef_SLOT(Point_len, HPy_sq_length)
static HPy_ssize_t Point_len_impl(HPyContext *ctx, HPy self)
{
    (void)ctx;
    (void)self;
    return 2;
}

HPyDef_SLOT(Point_item, HPy_sq_item)
static HPy Point_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    PointObject *point = PointObject_AsStruct(ctx, self);
    if (i < 0 || i >= 2) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "Point index out of range");
        return HPy_NULL;
    }
    return HPyFloat_FromDouble(ctx, i == 0 ? point->x : point->y);
}

HPyDef_MEMBER(Point_x, "x", HPyMember_DOUBLE, offsetof(PointObject, x))
HPyDef_MEMBER(Point_y, "y", HPyMember_DOUBLE, offsetof(PointObject, y))

static HPyDef *Point_defines[] = {
    &Point_new, &Point_norm2, &Point_len, &Point_item, &Point_x, &Point_y, NULL
};

static HPyType_Spec Point_spec = {
    .name = "bench.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .defines = Point_defines,
};

HPyDef_SLOT(bench_exec, HPy_mod_exec)
static int bench_exec_impl(HPyContext *ctx, HPy module)
{
    return HPyHelpers_AddType(ctx, module, "Point", &Point_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = {
    &f_noargs, &f_o, &f_varargs, &f_keywords,
    &parse_1, &parse_2, &parse_5, &parse_kw,
    &item_count, &item_sum, &item_fill,
    &build_list, &build_tuple, &raise_catch,
    &bench_exec, NULL
};

static HPyModuleDef moduledef = {
    .doc = "hpy-build's micro-benchmarks (HPy source)",
    .defines = module_defines,
};

/* One level of indirection, so that BENCH_MODULE is expanded before ## pastes it. */
#define BENCH_MODINIT(name, def) HPy_MODINIT(name, def)
BENCH_MODINIT(BENCH_MODULE, moduledef)
