/* One HPy 0.9 module, compiled unchanged by hpy 0.9.0's toolchain and by
   hpy-build's, then loaded by the other side's runtime
   (tests/test_hpy09_compat.py). It must stay warning-free under both sets
   of headers. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "hpy.h"

static HPyGlobal call_count;   /* an int; bump() adds one */
static HPyGlobal compat_error; /* compat09.Error, created by the exec slot */

HPyDef_METH(answer, "answer", HPyFunc_NOARGS, .doc = "Return the answer.")
static HPy answer_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(bump, "bump", HPyFunc_NOARGS, .doc = "Count calls in a module global.")
static HPy bump_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    HPy old = HPyGlobal_Load(ctx, call_count);
    HPy one = HPyLong_FromLong(ctx, 1);
    HPy bumped = HPy_Add(ctx, old, one);
    HPy_Close(ctx, old);
    HPy_Close(ctx, one);
    if (HPy_IsNull(bumped))
        return HPy_NULL;
    HPyGlobal_Store(ctx, &call_count, bumped);
    return bumped;
}

HPyDef_METH(twice, "twice", HPyFunc_O, .doc = "Double an int or a float, repeat a str.")
static HPy twice_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    if (HPyUnicode_Check(ctx, arg))
        return HPy_Add(ctx, arg, arg);
    if (HPy_TypeCheck(ctx, arg, ctx->h_FloatType)) {
        double d = HPyFloat_AsDouble(ctx, arg);
        if (d == -1.0 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        return HPyFloat_FromDouble(ctx, 2.0 * d);
    }
    if (HPy_TypeCheck(ctx, arg, ctx->h_LongType)) {
        long long v = HPyLong_AsLongLong(ctx, arg);
        if (v == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        if (v > LLONG_MAX / 2 || v < LLONG_MIN / 2)
            return HPyErr_SetString(ctx, ctx->h_OverflowError, "twice() result does not fit in 64 bits");
        return HPyLong_FromLongLong(ctx, 2 * v);
    }
    return HPyErr_SetString(ctx, ctx->h_TypeError, "twice() wants an int, a float or a str");
}

HPyDef_METH(utf8_info, "utf8_info", HPyFunc_O)
static HPy utf8_info_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy_ssize_t size;
    const char *utf8 = HPyUnicode_AsUTF8AndSize(ctx, arg, &size);
    if (utf8 == NULL)
        return HPy_NULL;
    HPy_ssize_t length = HPy_Length(ctx, arg);
    if (length < 0)
        return HPy_NULL;
    HPy h_length = HPyLong_FromSsize_t(ctx, length);
    HPy h_encoded = HPyBytes_FromStringAndSize(ctx, utf8, size);
    HPy result = HPy_NULL;
    if (!HPy_IsNull(h_length) && !HPy_IsNull(h_encoded))
        result = HPyTuple_Pack(ctx, 2, h_length, h_encoded);
    HPy_Close(ctx, h_length);
    HPy_Close(ctx, h_encoded);
    return result;
}

HPyDef_METH(mean, "mean", HPyFunc_VARARGS, .doc = "Arithmetic mean of the arguments, as a float.")
static HPy mean_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    if (nargs == 0) {
        HPy error_type = HPyGlobal_Load(ctx, compat_error);
        HPyErr_SetString(ctx, error_type, "mean() of no numbers");
        HPy_Close(ctx, error_type);
        return HPy_NULL;
    }
    double total = 0.0;
    for (size_t i = 0; i < nargs; i++) {
        double x = HPyFloat_AsDouble(ctx, args[i]);
        if (x == -1.0 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        total += x;
    }
    return HPyFloat_FromDouble(ctx, total / (double)nargs);
}

/* divide(a, b): a / b computed by the interpreter, so its own errors come back */
HPyDef_METH(divide, "divide", HPyFunc_VARARGS)
static HPy divide_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    HPy a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO:divide", &a, &b))
        return HPy_NULL;
    return HPy_TrueDivide(ctx, a, b);
}

/* apply(f, *args): calls back into Python */
HPyDef_METH(apply, "apply", HPyFunc_VARARGS)
static HPy apply_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    if (nargs < 1)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "apply() needs a callable");
    if (!HPyCallable_Check(ctx, args[0]))
        return HPyErr_SetString(ctx, ctx->h_TypeError, "apply() needs a callable");
    HPy rest = HPyTuple_FromArray(ctx, (HPy *)args + 1, (HPy_ssize_t)nargs - 1);
    if (HPy_IsNull(rest))
        return HPy_NULL;
    HPy result = HPy_CallTupleDict(ctx, args[0], rest, HPy_NULL);
    HPy_Close(ctx, rest);
    return result;
}

/* vcall(f, *args, **kwargs): HPy_Call, next to last context member */
HPyDef_METH(vcall, "vcall", HPyFunc_KEYWORDS)
static HPy vcall_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    if (nargs < 1)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "vcall() needs a callable");
    /* keyword values follow the positional ones, as HPy_Call expects */
    return HPy_Call(ctx, args[0], args + 1, nargs - 1, kwnames);
}

/* call_method(name, obj, *args, **kwargs): HPy_CallMethod, the last context member */
HPyDef_METH(call_method, "call_method", HPyFunc_KEYWORDS)
static HPy call_method_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    if (nargs < 2)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "call_method() needs a name and an object");
    return HPy_CallMethod(ctx, args[0], args + 1, nargs - 1, kwnames);
}

/* builtin(name): a lookup in ctx->h_Builtins, a handle placed after the functions */
HPyDef_METH(builtin, "builtin", HPyFunc_O)
static HPy builtin_impl(HPyContext *ctx, HPy self, HPy name)
{
    (void)self;
    return HPy_GetItem(ctx, ctx->h_Builtins, name);
}

HPyDef_METH(abi_version, "abi_version", HPyFunc_NOARGS)
static HPy abi_version_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, ctx->abi_version);
}

HPyDef_METH(greet, "greet", HPyFunc_KEYWORDS, .doc = "greet(name, greeting='Hello', times=1)")
static HPy greet_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    static const char *keywords[] = { "name", "greeting", "times", NULL };
    HPy name;
    HPy greeting = HPy_NULL;
    int times = 1;
    HPyTracker ht;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "O|Oi:greet", keywords,
                              &name, &greeting, &times))
        return HPy_NULL;
    HPy result = HPy_NULL;
    const char *name_utf8 = HPyUnicode_AsUTF8AndSize(ctx, name, NULL);
    const char *greeting_utf8 = HPy_IsNull(greeting) ? "Hello"
                                : HPyUnicode_AsUTF8AndSize(ctx, greeting, NULL);
    if (name_utf8 == NULL || greeting_utf8 == NULL)
        goto done;
    if (times < 1 || times > 3) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "greet() times must be 1, 2 or 3");
        goto done;
    }
    char buffer[600];
    size_t used = 0;
    for (int i = 0; i < times; i++) {
        int n = snprintf(buffer + used, sizeof(buffer) - used, "%s%.100s, %.100s!",
                         i ? " " : "", greeting_utf8, name_utf8);
        if (n < 0 || (size_t)n >= sizeof(buffer) - used) {
            HPyErr_SetString(ctx, ctx->h_ValueError, "greet() text too long");
            goto done;
        }
        used += (size_t)n;
    }
    result = HPyUnicode_FromString(ctx, buffer);
done:
    HPyTracker_Close(ctx, ht);
    return result;
}

HPyDef_SLOT(exec_module, HPy_mod_exec)
static int exec_module_impl(HPyContext *ctx, HPy module)
{
    HPy zero = HPyLong_FromLong(ctx, 0);
    if (HPy_IsNull(zero))
        return -1;
    HPyGlobal_Store(ctx, &call_count, zero);
    HPy_Close(ctx, zero);

    HPy error_type = HPyErr_NewException(ctx, "compat09.Error", ctx->h_ValueError, HPy_NULL);
    if (HPy_IsNull(error_type))
        return -1;
    HPyGlobal_Store(ctx, &compat_error, error_type);
    int failed = HPy_SetAttr_s(ctx, module, "Error", error_type);
    HPy_Close(ctx, error_type);
    if (failed)
        return -1;

    HPy version = HPyUnicode_FromString(ctx, "compat-1.0");
    if (HPy_IsNull(version))
        return -1;
    failed = HPy_SetAttr_s(ctx, module, "version", version);
    HPy_Close(ctx, version);
    if (failed)
        return -1;

    HPy limit = HPyLong_FromLongLong(ctx, LLONG_MAX);
    if (HPy_IsNull(limit))
        return -1;
    failed = HPy_SetAttr_s(ctx, module, "LLONG_MAX", limit);
    HPy_Close(ctx, limit);
    return failed ? -1 : 0;
}

static HPyDef *module_defines[] = {
    &answer, &bump, &twice, &utf8_info, &mean, &divide, &apply, &vcall, &call_method,
    &builtin, &abi_version, &greet, &exec_module, NULL
};
static HPyGlobal *module_globals[] = { &call_count, &compat_error, NULL };

static HPyModuleDef moduledef = {
    .doc = "HPy 0.9 binary compatibility probe",
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(compat09, moduledef)
