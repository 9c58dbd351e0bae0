/* The HPy side of tests/test_fuzz.py: calls HPyArg_Parse*, HPy_BuildValue
 * and HPyUnicode_FromFormat with formats and arguments chosen in Python.
 *
 * Varargs cannot be built at run time in C, so every call passes a fixed set
 * of slots and lets the format pick what it reads:
 *  - parse: pointers to 16 zeroed 64-byte output slots; Python says which
 *    unit fills each slot ("kinds") so the results are converted here
 *    without walking the format;
 *  - build/format: 16 integer-class values (ints, pointers and handles, one
 *    machine word each) followed by 8 doubles. On x86-64 SysV and AAPCS64
 *    integer and floating-point varargs travel in separate register files
 *    (the first 4 + 12 integers spill to the stack, all 8 doubles stay in
 *    registers), so the callee's n-th va_arg(int-like) reads the n-th integer
 *    slot and its n-th va_arg(double) the n-th double, in any interleaving.
 *    test_fuzz.py runs only on those two machines.
 */
#include "hpy.h"
#include <string.h>

#define N_SLOTS 16
#define N_DOUBLES 8
#define MAX_KEYWORDS 24

typedef union {
    unsigned char b; short h; unsigned short H; int i; unsigned int I;
    long l; unsigned long k; long long L; unsigned long long K;
    HPy_ssize_t n; float f; double d; const char *s; HPy O;
    char pad[64];
} Slot;

/* One output slot as a Python value, per the unit that filled it. */
static HPy
slot_value(HPyContext *ctx, char kind, const Slot *slot)
{
    switch (kind) {
    case 'b': case 'B': return HPyLong_FromLong(ctx, slot->b);
    case 'h': return HPyLong_FromLong(ctx, slot->h);
    case 'H': return HPyLong_FromLong(ctx, slot->H);
    case 'i': case 'p': return HPyLong_FromLong(ctx, slot->i);
    case 'I': return HPyLong_FromUnsignedLong(ctx, slot->I);
    case 'l': return HPyLong_FromLong(ctx, slot->l);
    case 'k': return HPyLong_FromUnsignedLong(ctx, slot->k);
    case 'L': return HPyLong_FromLongLong(ctx, slot->L);
    case 'K': return HPyLong_FromUnsignedLongLong(ctx, slot->K);
    case 'n': return HPyLong_FromSsize_t(ctx, slot->n);
    case 'f': return HPyFloat_FromDouble(ctx, slot->f);
    case 'd': return HPyFloat_FromDouble(ctx, slot->d);
    case 's':
        if (slot->s == NULL)
            return HPy_Dup(ctx, ctx->h_None);
        return HPyBytes_FromString(ctx, slot->s);
    case 'O':
        return HPy_Dup(ctx, HPy_IsNull(slot->O) ? ctx->h_None : slot->O);
    default:
        HPyErr_SetString(ctx, ctx->h_SystemError, "fuzz driver: bad slot kind");
        return HPy_NULL;
    }
}

static void
close_array(HPyContext *ctx, HPy *items, HPy_ssize_t n)
{
    HPy_ssize_t i;
    for (i = 0; i < n; i++)
        HPy_Close(ctx, items[i]);
}

/* Appends the items of tuple `t` to items[*n...]; 0 with an error set. */
static int
append_items(HPyContext *ctx, HPy t, HPy *items, HPy_ssize_t *n, HPy_ssize_t max)
{
    HPy_ssize_t i, len = HPy_Length(ctx, t);
    if (len < 0)
        return 0;
    if (*n + len > max) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "fuzz driver: too many arguments");
        return 0;
    }
    for (i = 0; i < len; i++) {
        HPy item = HPy_GetItem_i(ctx, t, i);
        if (HPy_IsNull(item))
            return 0;
        items[(*n)++] = item;
    }
    return 1;
}

/* parse(mode, fmt, args, kw, keywords, tracker, kinds)
 *   mode 0 HPyArg_Parse, 1 HPyArg_ParseKeywords (kw = (names, values) or
 *   None), 2 HPyArg_ParseKeywordsDict (kw = a mapping or None);
 *   keywords: tuple of bytes; tracker: use an HPyTracker;
 *   kinds: bytes, the unit of each output slot in order.
 * Returns the tuple of the converted slots. */
HPyDef_METH(parse, "parse", HPyFunc_VARARGS)
static HPy parse_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    static Slot slots[N_SLOTS];
    HPy argv[64], kwnames = HPy_NULL, kw = HPy_NULL, result = HPy_NULL;
    HPy_ssize_t n_argv = 0, n_pos = 0, n_kinds, i;
    const char *keywords[MAX_KEYWORDS + 1];
    const char *fmt, *kinds;
    HPyTracker ht;
    int mode, use_tracker, ok = 0;
    (void)self;

    if (nargs != 7) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "parse() takes 7 arguments");
        return HPy_NULL;
    }
    mode = (int)HPyLong_AsLong(ctx, args[0]);
    use_tracker = HPy_IsTrue(ctx, args[5]);
    fmt = HPyBytes_AsString(ctx, args[1]);
    kinds = HPyBytes_AsString(ctx, args[6]);
    n_kinds = HPyBytes_Size(ctx, args[6]);
    if (HPyErr_Occurred(ctx))
        return HPy_NULL;
    if (n_kinds > N_SLOTS) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "fuzz driver: too many slots");
        return HPy_NULL;
    }
    memset(keywords, 0, sizeof(keywords));
    if (!HPy_Is(ctx, args[4], ctx->h_None)) {
        HPy_ssize_t n_kw = HPy_Length(ctx, args[4]);
        if (n_kw < 0)
            return HPy_NULL;
        if (n_kw > MAX_KEYWORDS) {
            HPyErr_SetString(ctx, ctx->h_ValueError, "fuzz driver: too many keywords");
            return HPy_NULL;
        }
        for (i = 0; i < n_kw; i++) {
            /* the bytes stay alive in the caller's tuple */
            HPy name = HPy_GetItem_i(ctx, args[4], i);
            if (HPy_IsNull(name))
                return HPy_NULL;
            keywords[i] = HPyBytes_AsString(ctx, name);
            HPy_Close(ctx, name);
            if (keywords[i] == NULL)
                return HPy_NULL;
        }
    }
    if (!append_items(ctx, args[2], argv, &n_argv, 32))
        goto done;
    n_pos = n_argv;
    if (!HPy_Is(ctx, args[3], ctx->h_None)) {
        if (mode == 1) {
            HPy values;
            kwnames = HPy_GetItem_i(ctx, args[3], 0);
            if (HPy_IsNull(kwnames))
                goto done;
            values = HPy_GetItem_i(ctx, args[3], 1);
            if (HPy_IsNull(values))
                goto done;
            ok = append_items(ctx, values, argv, &n_argv, 64);
            HPy_Close(ctx, values);
            if (!ok)
                goto done;
            ok = 0;
        } else {
            kw = args[3];
        }
    }

    memset(slots, 0, sizeof(slots));
#define SLOT_PTRS &slots[0], &slots[1], &slots[2], &slots[3], &slots[4], &slots[5], \
    &slots[6], &slots[7], &slots[8], &slots[9], &slots[10], &slots[11],           \
    &slots[12], &slots[13], &slots[14], &slots[15]
    if (mode == 0)
        ok = HPyArg_Parse(ctx, use_tracker ? &ht : NULL, argv, (size_t)n_pos, fmt, SLOT_PTRS);
    else if (mode == 1)
        ok = HPyArg_ParseKeywords(ctx, use_tracker ? &ht : NULL, argv, (size_t)n_pos,
                                  kwnames, fmt, keywords, SLOT_PTRS);
    else
        ok = HPyArg_ParseKeywordsDict(ctx, use_tracker ? &ht : NULL, argv, n_pos, kw,
                                      fmt, keywords, SLOT_PTRS);
#undef SLOT_PTRS
    if (!ok)
        goto done;
    /* the outputs may point into tracked objects: convert before closing */
    result = HPyTuple_FromArray(ctx, NULL, 0);
    {
        HPy values[N_SLOTS];
        for (i = 0; i < n_kinds; i++) {
            values[i] = slot_value(ctx, kinds[i], &slots[i]);
            if (HPy_IsNull(values[i])) {
                close_array(ctx, values, i);
                HPy_Close(ctx, result);
                result = HPy_NULL;
                break;
            }
        }
        if (!HPy_IsNull(result)) {
            HPy_Close(ctx, result);
            result = HPyTuple_FromArray(ctx, values, n_kinds);
            close_array(ctx, values, n_kinds);
        }
    }
    if (use_tracker)
        HPyTracker_Close(ctx, ht);

done:
    close_array(ctx, argv, n_argv);
    HPy_Close(ctx, kwnames);
    return result;
}

/* Fills the integer slots from a tuple: int -> its low 64 bits, bytes -> a
 * pointer to its data, None -> NULL, (obj,) -> a handle to obj, () ->
 * HPy_NULL. Handles to close are stored in owned[]. */
static int
int_slots(HPyContext *ctx, HPy t, long long *out, HPy *owned, HPy_ssize_t *n_owned)
{
    HPy_ssize_t i, len = HPy_Length(ctx, t);
    if (len < 0)
        return 0;
    if (len > N_SLOTS) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "fuzz driver: too many int slots");
        return 0;
    }
    for (i = 0; i < N_SLOTS; i++)
        out[i] = 0;
    for (i = 0; i < len; i++) {
        HPy item = HPy_GetItem_i(ctx, t, i);
        if (HPy_IsNull(item))
            return 0;
        owned[(*n_owned)++] = item;
        if (HPy_TypeCheck(ctx, item, ctx->h_LongType)) {
            out[i] = (long long)HPyLong_AsUnsignedLongLongMask(ctx, item);
        } else if (HPyBytes_Check(ctx, item)) {
            out[i] = (long long)(intptr_t)HPyBytes_AsString(ctx, item);
        } else if (HPy_Is(ctx, item, ctx->h_None)) {
            out[i] = 0;
        } else if (HPyTuple_Check(ctx, item) && HPy_Length(ctx, item) == 1) {
            HPy obj = HPy_GetItem_i(ctx, item, 0);
            if (HPy_IsNull(obj))
                return 0;
            owned[(*n_owned)++] = obj;
            out[i] = (long long)(intptr_t)HPy_AsVoidP(obj);
        } else if (HPyTuple_Check(ctx, item) && HPy_Length(ctx, item) == 0) {
            out[i] = (long long)(intptr_t)HPy_AsVoidP(HPy_NULL);
        } else {
            HPyErr_SetString(ctx, ctx->h_TypeError, "fuzz driver: bad int slot");
            return 0;
        }
        if (HPyErr_Occurred(ctx))
            return 0;
    }
    return 1;
}

static int
double_slots(HPyContext *ctx, HPy t, double *out)
{
    HPy_ssize_t i, len = HPy_Length(ctx, t);
    if (len < 0)
        return 0;
    if (len > N_DOUBLES) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "fuzz driver: too many doubles");
        return 0;
    }
    for (i = 0; i < N_DOUBLES; i++)
        out[i] = 0.0;
    for (i = 0; i < len; i++) {
        HPy item = HPy_GetItem_i(ctx, t, i);
        if (HPy_IsNull(item))
            return 0;
        out[i] = HPyFloat_AsDouble(ctx, item);
        HPy_Close(ctx, item);
        if (HPyErr_Occurred(ctx))
            return 0;
    }
    return 1;
}

#define INT_ARGS(v) v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], \
    v[10], v[11], v[12], v[13], v[14], v[15]
#define DOUBLE_ARGS(d) d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]

/* build(fmt, ints, doubles) -> HPy_BuildValue(fmt, <16 ints>, <8 doubles>) */
HPyDef_METH(build, "build", HPyFunc_VARARGS)
static HPy build_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long long ints[N_SLOTS];
    double doubles[N_DOUBLES];
    HPy owned[2 * N_SLOTS], result = HPy_NULL;
    HPy_ssize_t n_owned = 0;
    const char *fmt;
    (void)self;
    if (nargs != 3) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "build() takes 3 arguments");
        return HPy_NULL;
    }
    fmt = HPyBytes_AsString(ctx, args[0]);
    if (fmt != NULL && int_slots(ctx, args[1], ints, owned, &n_owned)
            && double_slots(ctx, args[2], doubles))
        result = HPy_BuildValue(ctx, fmt, INT_ARGS(ints), DOUBLE_ARGS(doubles));
    close_array(ctx, owned, n_owned);
    return result;
}

/* format(fmt, ints) -> HPyUnicode_FromFormat(fmt, <16 ints>) */
HPyDef_METH(format, "format", HPyFunc_VARARGS)
static HPy format_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long long ints[N_SLOTS];
    HPy owned[2 * N_SLOTS], result = HPy_NULL;
    HPy_ssize_t n_owned = 0;
    const char *fmt;
    (void)self;
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "format() takes 2 arguments");
        return HPy_NULL;
    }
    fmt = HPyBytes_AsString(ctx, args[0]);
    if (fmt != NULL && int_slots(ctx, args[1], ints, owned, &n_owned))
        result = HPyUnicode_FromFormat(ctx, fmt, INT_ARGS(ints));
    close_array(ctx, owned, n_owned);
    return result;
}

static HPyDef *defines[] = { &parse, &build, &format, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(fuzzdrv, moduledef)
