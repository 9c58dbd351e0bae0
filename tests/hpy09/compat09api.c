/* Calls spread over the whole HPy 0.9 context (early, middle and late
   members, and the helpers hpy-build compiles into extensions), so that a
   shifted or mistyped member shows up as a wrong result rather than hiding
   behind the few functions every module uses. Built by both toolchains,
   loaded by both runtimes (tests/test_hpy09_compat.py). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "hpy.h"

/* build_value(): the HPy_BuildValue helper */
HPyDef_METH(build_value, "build_value", HPyFunc_NOARGS)
static HPy build_value_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_BuildValue(ctx, "(is[dO]{s:i})", 1, "two", 3.0, ctx->h_None, "k", 5);
}

/* squares(n): [0, 1, 4, ...] through an HPyListBuilder */
HPyDef_METH(squares, "squares", HPyFunc_O)
static HPy squares_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy_ssize_t n = HPyLong_AsSsize_t(ctx, arg);
    if (n == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    HPyListBuilder builder = HPyListBuilder_New(ctx, n);
    for (HPy_ssize_t i = 0; i < n; i++) {
        HPy item = HPyLong_FromSsize_t(ctx, i * i);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, builder, i, item);
        HPy_Close(ctx, item);
    }
    return HPyListBuilder_Build(ctx, builder);
}

/* swap(a, b): (b, a) through an HPyTupleBuilder */
HPyDef_METH(swap, "swap", HPyFunc_VARARGS)
static HPy swap_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    HPy a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO:swap", &a, &b))
        return HPy_NULL;
    HPyTupleBuilder builder = HPyTupleBuilder_New(ctx, 2);
    HPyTupleBuilder_Set(ctx, builder, 0, b);
    HPyTupleBuilder_Set(ctx, builder, 1, a);
    return HPyTupleBuilder_Build(ctx, builder);
}

/* int64_mix(x): (x as int64 + 1, x as uint64 with wrap-around, x as double) */
HPyDef_METH(int64_mix, "int64_mix", HPyFunc_O)
static HPy int64_mix_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    int64_t signed_value = HPyLong_AsInt64_t(ctx, arg);
    if (signed_value == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    uint64_t masked = HPyLong_AsUInt64_tMask(ctx, arg);
    double as_double = HPyLong_AsDouble(ctx, arg);
    HPy items[3] = {
        HPyLong_FromInt64_t(ctx, signed_value + 1),
        HPyLong_FromUInt64_t(ctx, masked),
        HPyFloat_FromDouble(ctx, as_double),
    };
    HPy result = HPy_NULL;
    if (!HPy_IsNull(items[0]) && !HPy_IsNull(items[1]) && !HPy_IsNull(items[2]))
        result = HPyTuple_FromArray(ctx, items, 3);
    for (int i = 0; i < 3; i++)
        HPy_Close(ctx, items[i]);
    return result;
}

static int capsule_target = 1234;

/* capsule(): (the capsule, its pointer comes back, valid under its name, valid under another) */
HPyDef_METH(capsule, "capsule", HPyFunc_NOARGS)
static HPy capsule_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    HPy h_capsule = HPyCapsule_New(ctx, &capsule_target, "compat09api.target", NULL);
    if (HPy_IsNull(h_capsule))
        return HPy_NULL;
    void *pointer = HPyCapsule_Get(ctx, h_capsule, HPyCapsule_key_Pointer, "compat09api.target");
    int valid = HPyCapsule_IsValid(ctx, h_capsule, "compat09api.target");
    int valid_elsewhere = HPyCapsule_IsValid(ctx, h_capsule, "another.name");
    HPy result = HPy_BuildValue(ctx, "(OOOO)", h_capsule,
                                pointer == &capsule_target ? ctx->h_True : ctx->h_False,
                                valid ? ctx->h_True : ctx->h_False,
                                valid_elsewhere ? ctx->h_True : ctx->h_False);
    HPy_Close(ctx, h_capsule);
    return result;
}

static int destroyed;

/* counts only a call that sees what capsule_destructor() stored */
HPyCapsule_DESTRUCTOR(count_destroyed)
static void count_destroyed_impl(const char *name, void *pointer, void *context)
{
    int right = name != NULL && strcmp(name, "compat09api.owned") == 0 &&
                pointer == &capsule_target && context == &capsule_target;
    destroyed += right ? 1 : 100;
}

/* capsule_destructor(): (calls before the last close, calls after it, the name) */
HPyDef_METH(capsule_destructor, "capsule_destructor", HPyFunc_NOARGS)
static HPy capsule_destructor_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    destroyed = 0;
    HPy h_capsule = HPyCapsule_New(ctx, &capsule_target, "compat09api.owned", &count_destroyed);
    if (HPy_IsNull(h_capsule))
        return HPy_NULL;
    if (HPyCapsule_SetContext(ctx, h_capsule, &capsule_target) < 0) {
        HPy_Close(ctx, h_capsule);
        return HPy_NULL;
    }
    const char *name = HPyCapsule_GetName(ctx, h_capsule);
    int before = destroyed;
    HPy_Close(ctx, h_capsule);
    return HPy_BuildValue(ctx, "(iis)", before, destroyed, name);
}

static HPyStructSequence_Field pair_fields[] = {
    { "first", NULL },
    { "second", "the second item" },
    { NULL, NULL },
};
static HPyStructSequence_Desc pair_desc = { "compat09api.Pair", "A pair", pair_fields };

/* pair(a, b): a fresh struct sequence type's instance */
HPyDef_METH(pair, "pair", HPyFunc_VARARGS)
static HPy pair_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    HPy type = HPyStructSequence_NewType(ctx, &pair_desc);
    if (HPy_IsNull(type))
        return HPy_NULL;
    HPy result = HPyStructSequence_New(ctx, type, (HPy_ssize_t)nargs, (HPy *)args);
    HPy_Close(ctx, type);
    return result;
}

/* evaluate(expr, scope): HPy_Compile_s + HPy_EvalCode */
HPyDef_METH(evaluate, "evaluate", HPyFunc_VARARGS)
static HPy evaluate_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    const char *source;
    HPy scope;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "sO:evaluate", &source, &scope))
        return HPy_NULL;
    HPy code = HPy_Compile_s(ctx, source, "<compat09api>", HPy_SourceKind_Expr);
    if (HPy_IsNull(code))
        return HPy_NULL;
    HPy result = HPy_EvalCode(ctx, code, scope, scope);
    HPy_Close(ctx, code);
    return result;
}

/* context_var(value): (default before, value after set) of a fresh ContextVar */
HPyDef_METH(context_var, "context_var", HPyFunc_O)
static HPy context_var_impl(HPyContext *ctx, HPy self, HPy value)
{
    (void)self;
    HPy var = HPyContextVar_New(ctx, "compat09api_var", ctx->h_Ellipsis);
    if (HPy_IsNull(var))
        return HPy_NULL;
    HPy before = HPy_NULL, after = HPy_NULL, result = HPy_NULL;
    if (HPyContextVar_Get(ctx, var, HPy_NULL, &before) < 0)
        goto done;
    HPy token = HPyContextVar_Set(ctx, var, value);
    if (HPy_IsNull(token))
        goto done;
    HPy_Close(ctx, token);
    if (HPyContextVar_Get(ctx, var, HPy_NULL, &after) < 0)
        goto done;
    result = HPyTuple_Pack(ctx, 2, before, after);
done:
    HPy_Close(ctx, before);
    HPy_Close(ctx, after);
    HPy_Close(ctx, var);
    return result;
}

/* substring(s, start, end) */
HPyDef_METH(substring, "substring", HPyFunc_VARARGS)
static HPy substring_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self;
    HPy text;
    HPy_ssize_t start, end;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "Onn:substring", &text, &start, &end))
        return HPy_NULL;
    return HPyUnicode_Substring(ctx, text, start, end);
}

/* slice_unpack(s): (start, stop, step) before clamping to a length */
HPyDef_METH(slice_unpack, "slice_unpack", HPyFunc_O)
static HPy slice_unpack_impl(HPyContext *ctx, HPy self, HPy slice)
{
    (void)self;
    HPy_ssize_t start, stop, step;
    if (HPySlice_Unpack(ctx, slice, &start, &stop, &step) < 0)
        return HPy_NULL;
    return HPy_BuildValue(ctx, "(nnn)", start, stop, step);
}

HPyDef_METH(dict_keys, "dict_keys", HPyFunc_O)
static HPy dict_keys_impl(HPyContext *ctx, HPy self, HPy dict)
{
    (void)self;
    return HPyDict_Keys(ctx, dict);
}

/* type_info(obj): (type name, is the type a subtype of int) */
HPyDef_METH(type_info, "type_info", HPyFunc_O)
static HPy type_info_impl(HPyContext *ctx, HPy self, HPy obj)
{
    (void)self;
    HPy type = HPy_Type(ctx, obj);
    if (HPy_IsNull(type))
        return HPy_NULL;
    const char *name = HPyType_GetName(ctx, type);
    int is_int = HPyType_IsSubtype(ctx, type, ctx->h_LongType);
    HPy result = name == NULL ? HPy_NULL : HPy_BuildValue(ctx, "(sO)", name, is_int ? ctx->h_True : ctx->h_False);
    HPy_Close(ctx, type);
    return result;
}

HPyDef_METH(decode, "decode", HPyFunc_O)
static HPy decode_impl(HPyContext *ctx, HPy self, HPy data)
{
    (void)self;
    return HPyUnicode_FromEncodedObject(ctx, data, "utf-8", "strict");
}

/* not named "warn": HPyDef symbols are global, and libc's warn() would
   interpose on this one when the runtime dlopens the module */
HPyDef_METH(warn_user, "warn", HPyFunc_O)
static HPy warn_user_impl(HPyContext *ctx, HPy self, HPy message)
{
    (void)self;
    const char *utf8 = HPyUnicode_AsUTF8AndSize(ctx, message, NULL);
    if (utf8 == NULL || HPyErr_WarnEx(ctx, ctx->h_UserWarning, utf8, 1) < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(missing_file, "missing_file", HPyFunc_NOARGS)
static HPy missing_file_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    errno = ENOENT;
    return HPyErr_SetFromErrnoWithFilename(ctx, ctx->h_OSError, "compat09-nowhere.txt");
}

/* format(): the HPyUnicode_FromFormat helper */
HPyDef_METH(format, "format", HPyFunc_NOARGS)
static HPy format_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromFormat(ctx, "%d-%s-%zd-%c", -7, "mid", (HPy_ssize_t)12, 'z');
}

static HPyDef *module_defines[] = {
    &build_value, &squares, &swap, &int64_mix, &capsule, &capsule_destructor, &pair, &evaluate, &context_var,
    &substring, &slice_unpack, &dict_keys, &type_info, &decode, &warn_user, &missing_file,
    &format, NULL
};

static HPyModuleDef moduledef = {
    .doc = "HPy 0.9 context coverage probe",
    .defines = module_defines,
};

HPy_MODINIT(compat09api, moduledef)
