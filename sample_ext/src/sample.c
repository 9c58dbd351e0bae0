/* hpy_sample._sample: one C source that hpy-build compiles for the CPython
 * ABI and for the universal ABI. It uses the parts of the HPy 0.9 API that
 * everyday extensions need; tests/test_sample.py checks every function.
 *
 * Ownership rule followed throughout: every handle returned by an API call
 * is closed exactly once (directly, through an HPyTracker, or by returning
 * it); argument handles are borrowed and never closed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>

#include "hpy.h"

/* Module state. HPyGlobal (not HPy) because handles die with the call that
 * produced them, while these must outlive it. */
static HPyGlobal g_counter;      /* int, bumped by counter_next() */
static HPyGlobal g_fib_cache;    /* dict: n -> fib(n) */
static HPyGlobal g_SampleError;  /* the module's exception class */

/* Upper bound on generated list sizes, so a typo cannot eat all memory. */
#define MAX_ITEMS 1000000
#define MAX_FIB 10000

static int
read_count(HPyContext *ctx, HPy h, const char *func_name, HPy_ssize_t *out)
{
    HPy_ssize_t n = HPyLong_AsSsize_t(ctx, h);
    if (n == -1 && HPyErr_Occurred(ctx))
        return -1;
    if (n < 0 || n > MAX_ITEMS) {
        HPyErr_Format(ctx, ctx->h_ValueError,
                      "%s() needs 0 <= n <= %d, got %zd", func_name, MAX_ITEMS, n);
        return -1;
    }
    *out = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* HPyFunc_NOARGS                                                      */

HPyDef_METH(abi, "abi", HPyFunc_NOARGS,
            .doc = "abi() -> the HPy ABI this binary was compiled for")
static HPy
abi_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, HPY_ABI);
}

HPyDef_METH(counter_next, "counter_next", HPyFunc_NOARGS,
            .doc = "counter_next() -> int: add one to the module counter, return it")
static HPy
counter_next_impl(HPyContext *ctx, HPy self)
{
    HPy current, one, next;
    (void)self;
    current = HPyGlobal_Load(ctx, g_counter);
    if (HPy_IsNull(current))
        return HPy_NULL;
    one = HPyLong_FromLong(ctx, 1);
    if (HPy_IsNull(one)) {
        HPy_Close(ctx, current);
        return HPy_NULL;
    }
    next = HPy_Add(ctx, current, one);
    HPy_Close(ctx, one);
    HPy_Close(ctx, current);
    if (HPy_IsNull(next))
        return HPy_NULL;
    HPyGlobal_Store(ctx, &g_counter, next);
    return next;
}

HPyDef_METH(fib_cache_size, "fib_cache_size", HPyFunc_NOARGS,
            .doc = "fib_cache_size() -> number of results fib() remembers")
static HPy
fib_cache_size_impl(HPyContext *ctx, HPy self)
{
    HPy cache;
    HPy_ssize_t size;
    (void)self;
    cache = HPyGlobal_Load(ctx, g_fib_cache);
    if (HPy_IsNull(cache))
        return HPy_NULL;
    size = HPy_Length(ctx, cache);
    HPy_Close(ctx, cache);
    if (size < 0)
        return HPy_NULL;
    return HPyLong_FromSsize_t(ctx, size);
}

HPyDef_METH(fib_cache_clear, "fib_cache_clear", HPyFunc_NOARGS,
            .doc = "fib_cache_clear() -> int: forget fib() results, return how many")
static HPy
fib_cache_clear_impl(HPyContext *ctx, HPy self)
{
    HPy old_cache, new_cache;
    HPy_ssize_t dropped;
    (void)self;
    old_cache = HPyGlobal_Load(ctx, g_fib_cache);
    if (HPy_IsNull(old_cache))
        return HPy_NULL;
    dropped = HPy_Length(ctx, old_cache);
    HPy_Close(ctx, old_cache);
    if (dropped < 0)
        return HPy_NULL;
    new_cache = HPyDict_New(ctx);
    if (HPy_IsNull(new_cache))
        return HPy_NULL;
    HPyGlobal_Store(ctx, &g_fib_cache, new_cache);
    HPy_Close(ctx, new_cache);
    return HPyLong_FromSsize_t(ctx, dropped);
}

/* ------------------------------------------------------------------ */
/* HPyFunc_O                                                           */

HPyDef_METH(double_it, "double", HPyFunc_O,
            .doc = "double(x) -> x + x, for any x supporting +")
static HPy
double_it_impl(HPyContext *ctx, HPy self, HPy x)
{
    (void)self;
    return HPy_Add(ctx, x, x);
}

HPyDef_METH(square, "square", HPyFunc_O,
            .doc = "square(x) -> x * x, for any x supporting *")
static HPy
square_impl(HPyContext *ctx, HPy self, HPy x)
{
    (void)self;
    return HPy_Multiply(ctx, x, x);
}

HPyDef_METH(shout, "shout", HPyFunc_O,
            .doc = "shout(s) -> s with ASCII letters upper-cased and '!' appended")
static HPy
shout_impl(HPyContext *ctx, HPy self, HPy text)
{
    const char *utf8;
    char *buffer;
    HPy_ssize_t size, i;
    HPy encoded, result;
    (void)self;
    if (!HPyUnicode_Check(ctx, text))
        return HPyErr_Format(ctx, ctx->h_TypeError, "shout() expects a str, got %R", text);
    utf8 = HPyUnicode_AsUTF8AndSize(ctx, text, &size);
    if (utf8 == NULL)
        return HPy_NULL;
    buffer = (char *)malloc((size_t)size + 1);
    if (buffer == NULL)
        return HPyErr_NoMemory(ctx);
    /* Bytes of multi-byte UTF-8 sequences are >= 0x80, so they pass through. */
    for (i = 0; i < size; i++) {
        char c = utf8[i];
        buffer[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    buffer[size] = '!';
    /* Via bytes rather than HPyUnicode_FromString: keeps embedded NULs. */
    encoded = HPyBytes_FromStringAndSize(ctx, buffer, size + 1);
    free(buffer);
    if (HPy_IsNull(encoded))
        return HPy_NULL;
    result = HPyUnicode_FromEncodedObject(ctx, encoded, "utf-8", "strict");
    HPy_Close(ctx, encoded);
    return result;
}

HPyDef_METH(str_info, "str_info", HPyFunc_O,
            .doc = "str_info(s) -> (len(s), s.encode('utf-8'), ord(s[0]) or None, s[-3:])")
static HPy
str_info_impl(HPyContext *ctx, HPy self, HPy text)
{
    HPy_ssize_t length;
    HPy h_length, utf8, first, tail, result;
    HPyTracker ht;
    (void)self;
    if (!HPyUnicode_Check(ctx, text))
        return HPyErr_Format(ctx, ctx->h_TypeError, "str_info() expects a str, got %R", text);
    length = HPy_Length(ctx, text);
    if (length < 0)
        return HPy_NULL;
    ht = HPyTracker_New(ctx, 4);
    if (HPy_IsNull(ht))
        return HPy_NULL;

    h_length = HPyLong_FromSsize_t(ctx, length);
    if (HPy_IsNull(h_length) || HPyTracker_Add(ctx, ht, h_length) < 0)
        goto error;
    utf8 = HPyUnicode_AsUTF8String(ctx, text);
    if (HPy_IsNull(utf8) || HPyTracker_Add(ctx, ht, utf8) < 0)
        goto error;
    if (length > 0) {
        HPy_UCS4 code_point = HPyUnicode_ReadChar(ctx, text, 0);
        if (code_point == (HPy_UCS4)-1 && HPyErr_Occurred(ctx))
            goto error;
        first = HPyLong_FromUInt32_t(ctx, (uint32_t)code_point);
    }
    else {
        first = HPy_Dup(ctx, ctx->h_None);
    }
    if (HPy_IsNull(first) || HPyTracker_Add(ctx, ht, first) < 0)
        goto error;
    tail = HPyUnicode_Substring(ctx, text, length >= 3 ? length - 3 : 0, length);
    if (HPy_IsNull(tail) || HPyTracker_Add(ctx, ht, tail) < 0)
        goto error;

    result = HPyTuple_Pack(ctx, 4, h_length, utf8, first, tail);
    HPyTracker_Close(ctx, ht);
    return result;
error:
    HPyTracker_Close(ctx, ht);
    return HPy_NULL;
}

HPyDef_METH(squares, "squares", HPyFunc_O,
            .doc = "squares(n) -> [0, 1, 4, ..., (n-1)**2], built with HPyListBuilder")
static HPy
squares_impl(HPyContext *ctx, HPy self, HPy h_n)
{
    HPy_ssize_t n, i;
    HPyListBuilder builder;
    (void)self;
    if (read_count(ctx, h_n, "squares", &n) < 0)
        return HPy_NULL;
    builder = HPyListBuilder_New(ctx, n);
    for (i = 0; i < n; i++) {
        HPy item = HPyLong_FromSsize_t(ctx, i * i);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, builder, i, item);  /* does not steal */
        HPy_Close(ctx, item);
    }
    return HPyListBuilder_Build(ctx, builder);
}

HPyDef_METH(evens, "evens", HPyFunc_O,
            .doc = "evens(n) -> even numbers below n, built with HPyList_Append")
static HPy
evens_impl(HPyContext *ctx, HPy self, HPy h_n)
{
    HPy_ssize_t n, i;
    HPy result;
    (void)self;
    if (read_count(ctx, h_n, "evens", &n) < 0)
        return HPy_NULL;
    result = HPyList_New(ctx, 0);
    if (HPy_IsNull(result))
        return HPy_NULL;
    for (i = 0; i < n; i += 2) {
        int rc;
        HPy item = HPyLong_FromSsize_t(ctx, i);
        if (HPy_IsNull(item)) {
            HPy_Close(ctx, result);
            return HPy_NULL;
        }
        rc = HPyList_Append(ctx, result, item);
        HPy_Close(ctx, item);
        if (rc < 0) {
            HPy_Close(ctx, result);
            return HPy_NULL;
        }
    }
    return result;
}

HPyDef_METH(word_counts, "word_counts", HPyFunc_O,
            .doc = "word_counts(words) -> {word: occurrences} for a sequence of str")
static HPy
word_counts_impl(HPyContext *ctx, HPy self, HPy words)
{
    HPy_ssize_t n, i;
    HPy counts, one;
    (void)self;
    n = HPy_Length(ctx, words);
    if (n < 0)
        return HPy_NULL;
    counts = HPyDict_New(ctx);
    if (HPy_IsNull(counts))
        return HPy_NULL;
    one = HPyLong_FromLong(ctx, 1);
    if (HPy_IsNull(one)) {
        HPy_Close(ctx, counts);
        return HPy_NULL;
    }
    for (i = 0; i < n; i++) {
        int present, rc;
        HPy total;
        HPy word = HPy_GetItem_i(ctx, words, i);
        if (HPy_IsNull(word))
            goto error;
        if (!HPyUnicode_Check(ctx, word)) {
            HPyErr_Format(ctx, ctx->h_TypeError,
                          "word_counts() item %zd is %R, not a str", i, word);
            HPy_Close(ctx, word);
            goto error;
        }
        present = HPy_Contains(ctx, counts, word);
        if (present < 0) {
            HPy_Close(ctx, word);
            goto error;
        }
        if (present) {
            HPy previous = HPy_GetItem(ctx, counts, word);
            if (HPy_IsNull(previous)) {
                HPy_Close(ctx, word);
                goto error;
            }
            total = HPy_Add(ctx, previous, one);
            HPy_Close(ctx, previous);
        }
        else {
            total = HPy_Dup(ctx, one);
        }
        if (HPy_IsNull(total)) {
            HPy_Close(ctx, word);
            goto error;
        }
        rc = HPy_SetItem(ctx, counts, word, total);
        HPy_Close(ctx, total);
        HPy_Close(ctx, word);
        if (rc < 0)
            goto error;
    }
    HPy_Close(ctx, one);
    return counts;
error:
    HPy_Close(ctx, one);
    HPy_Close(ctx, counts);
    return HPy_NULL;
}

HPyDef_METH(stats, "stats", HPyFunc_O,
            .doc = "stats(numbers) -> {'count', 'min', 'max', 'mean'} of a non-empty sequence")
static HPy
stats_impl(HPyContext *ctx, HPy self, HPy numbers)
{
    HPy_ssize_t n, i;
    double low = 0.0, high = 0.0, total = 0.0;
    (void)self;
    n = HPy_Length(ctx, numbers);
    if (n < 0)
        return HPy_NULL;
    if (n == 0) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "stats() of an empty sequence");
        return HPy_NULL;
    }
    for (i = 0; i < n; i++) {
        double value;
        HPy item = HPy_GetItem_i(ctx, numbers, i);
        if (HPy_IsNull(item))
            return HPy_NULL;
        value = HPyFloat_AsDouble(ctx, item);
        HPy_Close(ctx, item);
        if (value == -1.0 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        if (i == 0 || value < low)
            low = value;
        if (i == 0 || value > high)
            high = value;
        total += value;
    }
    return HPy_BuildValue(ctx, "{s:n,s:d,s:d,s:d}",
                          "count", n, "min", low, "max", high, "mean", total / (double)n);
}

HPyDef_METH(fib, "fib", HPyFunc_O,
            .doc = "fib(n) -> the n-th Fibonacci number (exact), cached in a module dict")
static HPy
fib_impl(HPyContext *ctx, HPy self, HPy h_n)
{
    HPy_ssize_t n, i;
    HPy cache, key, a, b, result = HPy_NULL;
    int cached;
    (void)self;
    n = HPyLong_AsSsize_t(ctx, h_n);
    if (n == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    if (n < 0 || n > MAX_FIB)
        return HPyErr_Format(ctx, ctx->h_ValueError,
                             "fib() needs 0 <= n <= %d, got %zd", MAX_FIB, n);
    cache = HPyGlobal_Load(ctx, g_fib_cache);
    if (HPy_IsNull(cache))
        return HPy_NULL;
    key = HPyLong_FromSsize_t(ctx, n);
    if (HPy_IsNull(key)) {
        HPy_Close(ctx, cache);
        return HPy_NULL;
    }
    cached = HPy_Contains(ctx, cache, key);
    if (cached < 0)
        goto done;
    if (cached) {
        result = HPy_GetItem(ctx, cache, key);
        goto done;
    }

    /* Python ints through HPy_Add: exact beyond 64 bits. */
    a = HPyLong_FromLong(ctx, 0);
    if (HPy_IsNull(a))
        goto done;
    b = HPyLong_FromLong(ctx, 1);
    if (HPy_IsNull(b)) {
        HPy_Close(ctx, a);
        goto done;
    }
    for (i = 0; i < n; i++) {
        HPy next = HPy_Add(ctx, a, b);
        HPy_Close(ctx, a);
        a = b;
        b = next;
        if (HPy_IsNull(next)) {
            HPy_Close(ctx, a);
            goto done;
        }
    }
    HPy_Close(ctx, b);
    if (HPy_SetItem(ctx, cache, key, a) < 0) {
        HPy_Close(ctx, a);
        goto done;
    }
    result = a;
done:
    HPy_Close(ctx, key);
    HPy_Close(ctx, cache);
    return result;
}

/* ------------------------------------------------------------------ */
/* HPyFunc_VARARGS                                                     */

HPyDef_METH(counter_reset, "counter_reset", HPyFunc_VARARGS,
            .doc = "counter_reset(start=0) -> int: set the counter, return its old value")
static HPy
counter_reset_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long long start = 0;
    HPy fresh, previous;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "|L:counter_reset", &start))
        return HPy_NULL;
    fresh = HPyLong_FromLongLong(ctx, start);
    if (HPy_IsNull(fresh))
        return HPy_NULL;
    previous = HPyGlobal_Load(ctx, g_counter);
    HPyGlobal_Store(ctx, &g_counter, fresh);  /* the global keeps its own reference */
    HPy_Close(ctx, fresh);
    return previous;
}

HPyDef_METH(poly, "poly", HPyFunc_VARARGS,
            .doc = "poly(x, a, b, c) -> a*x*x + b*x + c, through the number protocol only")
static HPy
poly_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy x, a, b, c, ax, ax_b, ax_b_x, result;
    HPyTracker ht;
    (void)self;
    /* "O" in HPyArg_Parse yields borrowed handles: no tracker needed. */
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OOOO:poly", &x, &a, &b, &c))
        return HPy_NULL;
    ht = HPyTracker_New(ctx, 3);
    if (HPy_IsNull(ht))
        return HPy_NULL;
    /* Horner's rule: (a*x + b)*x + c */
    ax = HPy_Multiply(ctx, a, x);
    if (HPy_IsNull(ax) || HPyTracker_Add(ctx, ht, ax) < 0)
        goto error;
    ax_b = HPy_Add(ctx, ax, b);
    if (HPy_IsNull(ax_b) || HPyTracker_Add(ctx, ht, ax_b) < 0)
        goto error;
    ax_b_x = HPy_Multiply(ctx, ax_b, x);
    if (HPy_IsNull(ax_b_x) || HPyTracker_Add(ctx, ht, ax_b_x) < 0)
        goto error;
    result = HPy_Add(ctx, ax_b_x, c);
    HPyTracker_Close(ctx, ht);
    return result;
error:
    HPyTracker_Close(ctx, ht);
    return HPy_NULL;
}

HPyDef_METH(long_roundtrip, "long_roundtrip", HPyFunc_VARARGS,
            .doc = "long_roundtrip(ctype, value) -> int: convert value to the named C "
                   "integer type and back ('int32_t', 'uint64_t mask', 'long long', ...)")
static HPy
long_roundtrip_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *ctype;
    HPy value, error_type, unused;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "sO:long_roundtrip", &ctype, &value))
        return HPy_NULL;

#define ROUNDTRIP(NAME, CTYPE, AS, FROM)                        \
    if (strcmp(ctype, NAME) == 0) {                             \
        CTYPE converted = AS(ctx, value);                       \
        if (converted == (CTYPE)-1 && HPyErr_Occurred(ctx))     \
            return HPy_NULL;                                    \
        return FROM(ctx, converted);                            \
    }
    ROUNDTRIP("int32_t", int32_t, HPyLong_AsInt32_t, HPyLong_FromInt32_t)
    ROUNDTRIP("uint32_t", uint32_t, HPyLong_AsUInt32_t, HPyLong_FromUInt32_t)
    ROUNDTRIP("uint32_t mask", uint32_t, HPyLong_AsUInt32_tMask, HPyLong_FromUInt32_t)
    ROUNDTRIP("int64_t", int64_t, HPyLong_AsInt64_t, HPyLong_FromInt64_t)
    ROUNDTRIP("uint64_t", uint64_t, HPyLong_AsUInt64_t, HPyLong_FromUInt64_t)
    ROUNDTRIP("uint64_t mask", uint64_t, HPyLong_AsUInt64_tMask, HPyLong_FromUInt64_t)
    ROUNDTRIP("ssize_t", HPy_ssize_t, HPyLong_AsSsize_t, HPyLong_FromSsize_t)
    ROUNDTRIP("size_t", size_t, HPyLong_AsSize_t, HPyLong_FromSize_t)
    ROUNDTRIP("long", long, HPyLong_AsLong, HPyLong_FromLong)
    ROUNDTRIP("unsigned long", unsigned long, HPyLong_AsUnsignedLong, HPyLong_FromUnsignedLong)
    ROUNDTRIP("unsigned long mask", unsigned long, HPyLong_AsUnsignedLongMask,
              HPyLong_FromUnsignedLong)
    ROUNDTRIP("long long", long long, HPyLong_AsLongLong, HPyLong_FromLongLong)
    ROUNDTRIP("unsigned long long", unsigned long long, HPyLong_AsUnsignedLongLong,
              HPyLong_FromUnsignedLongLong)
#undef ROUNDTRIP

    error_type = HPyGlobal_Load(ctx, g_SampleError);
    if (HPy_IsNull(error_type))
        return HPy_NULL;
    unused = HPyErr_Format(ctx, error_type, "long_roundtrip(): unknown C type '%s'", ctype);
    HPy_Close(ctx, error_type);
    return unused;
}

HPyDef_METH(pack_widths, "pack_widths", HPyFunc_VARARGS,
            .doc = "pack_widths(b, h, i, l, L, n, f, d) -> the arguments after a trip "
                   "through unsigned char, short, int, long, long long, ssize_t, float, double")
static HPy
pack_widths_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    unsigned char tiny;
    short small;
    int medium;
    long large;
    long long huge;
    HPy_ssize_t size;
    float single;
    double dbl;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "bhilLnfd:pack_widths",
                      &tiny, &small, &medium, &large, &huge, &size, &single, &dbl))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "(iiilLndd)", (int)tiny, (int)small, medium, large,
                          huge, size, (double)single, dbl);
}

HPyDef_METH(bytes_xor, "bytes_xor", HPyFunc_VARARGS,
            .doc = "bytes_xor(data, key) -> bytes: data XOR-ed with key repeated")
static HPy
bytes_xor_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy data, key, result;
    HPy_ssize_t data_size, key_size, i;
    const char *data_bytes, *key_bytes;
    char *out;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO:bytes_xor", &data, &key))
        return HPy_NULL;
    if (!HPyBytes_Check(ctx, data) || !HPyBytes_Check(ctx, key))
        return HPyErr_Format(ctx, ctx->h_TypeError,
                             "bytes_xor() expects two bytes objects, got %R and %R", data, key);
    data_size = HPyBytes_Size(ctx, data);
    key_size = HPyBytes_GET_SIZE(ctx, key);
    if (key_size == 0) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "bytes_xor() key must not be empty");
        return HPy_NULL;
    }
    data_bytes = HPyBytes_AsString(ctx, data);
    key_bytes = HPyBytes_AS_STRING(ctx, key);
    if (data_bytes == NULL || key_bytes == NULL)
        return HPy_NULL;
    out = (char *)malloc(data_size > 0 ? (size_t)data_size : 1);
    if (out == NULL)
        return HPyErr_NoMemory(ctx);
    for (i = 0; i < data_size; i++)
        out[i] = (char)(data_bytes[i] ^ key_bytes[i % key_size]);
    result = HPyBytes_FromStringAndSize(ctx, out, data_size);
    free(out);
    return result;
}

HPyDef_METH(make_record, "make_record", HPyFunc_VARARGS,
            .doc = "make_record(name, age) -> {'name', 'age', 'adult', 'abi'}")
static HPy
make_record_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy name, h_age, h_adult, h_abi, record;
    int age;
    HPyTracker ht;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "Oi:make_record", &name, &age))
        return HPy_NULL;
    if (age < 0) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "make_record() age must be >= 0");
        return HPy_NULL;
    }
    ht = HPyTracker_New(ctx, 3);
    if (HPy_IsNull(ht))
        return HPy_NULL;
    h_age = HPyLong_FromLong(ctx, age);
    if (HPy_IsNull(h_age) || HPyTracker_Add(ctx, ht, h_age) < 0)
        goto error;
    h_adult = HPyBool_FromLong(ctx, age >= 18);
    if (HPy_IsNull(h_adult) || HPyTracker_Add(ctx, ht, h_adult) < 0)
        goto error;
    h_abi = HPyUnicode_FromString(ctx, HPY_ABI);
    if (HPy_IsNull(h_abi) || HPyTracker_Add(ctx, ht, h_abi) < 0)
        goto error;
    record = HPyDict_New(ctx);
    if (HPy_IsNull(record))
        goto error;
    if (HPy_SetItem_s(ctx, record, "name", name) < 0 ||
            HPy_SetItem_s(ctx, record, "age", h_age) < 0 ||
            HPy_SetItem_s(ctx, record, "adult", h_adult) < 0 ||
            HPy_SetItem_s(ctx, record, "abi", h_abi) < 0) {
        HPy_Close(ctx, record);
        goto error;
    }
    HPyTracker_Close(ctx, ht);
    return record;
error:
    HPyTracker_Close(ctx, ht);
    return HPy_NULL;
}

HPyDef_METH(record_get, "record_get", HPyFunc_VARARGS,
            .doc = "record_get(mapping, key[, default]) -> mapping[key], or default on KeyError")
static HPy
record_get_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy mapping, fallback = HPy_NULL, value;
    const char *key;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "Os|O:record_get", &mapping, &key, &fallback))
        return HPy_NULL;
    value = HPy_GetItem_s(ctx, mapping, key);
    if (HPy_IsNull(value) && !HPy_IsNull(fallback) &&
            HPyErr_ExceptionMatches(ctx, ctx->h_KeyError)) {
        HPyErr_Clear(ctx);
        return HPy_Dup(ctx, fallback);
    }
    return value;
}

HPyDef_METH(divmod_floor, "divmod_floor", HPyFunc_VARARGS,
            .doc = "divmod_floor(a, b) -> (a // b, a % b) on C long long, like divmod()")
static HPy
divmod_floor_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long long a, b, quotient, remainder;
    HPy h_quotient, h_remainder, result;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "LL:divmod_floor", &a, &b))
        return HPy_NULL;
    if (b == 0) {
        HPyErr_SetString(ctx, ctx->h_ZeroDivisionError, "divmod_floor() by zero");
        return HPy_NULL;
    }
    if (a == LLONG_MIN && b == -1) {
        HPyErr_SetString(ctx, ctx->h_OverflowError, "divmod_floor() result does not fit");
        return HPy_NULL;
    }
    quotient = a / b;
    remainder = a % b;
    /* C truncates toward zero; Python floors. */
    if (remainder != 0 && ((remainder < 0) != (b < 0))) {
        quotient -= 1;
        remainder += b;
    }
    h_quotient = HPyLong_FromLongLong(ctx, quotient);
    if (HPy_IsNull(h_quotient))
        return HPy_NULL;
    h_remainder = HPyLong_FromLongLong(ctx, remainder);
    if (HPy_IsNull(h_remainder)) {
        HPy_Close(ctx, h_quotient);
        return HPy_NULL;
    }
    result = HPyTuple_Pack(ctx, 2, h_quotient, h_remainder);
    HPy_Close(ctx, h_quotient);
    HPy_Close(ctx, h_remainder);
    return result;
}

HPyDef_METH(check_range, "check_range", HPyFunc_VARARGS,
            .doc = "check_range(value, lo, hi) -> value, or raise SampleError if outside [lo, hi]")
static HPy
check_range_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long long value, low, high;
    HPy error_type, unused;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "LLL:check_range", &value, &low, &high))
        return HPy_NULL;
    if (low > high) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "check_range() needs lo <= hi");
        return HPy_NULL;
    }
    if (value >= low && value <= high)
        return HPyLong_FromLongLong(ctx, value);
    error_type = HPyGlobal_Load(ctx, g_SampleError);
    if (HPy_IsNull(error_type))
        return HPy_NULL;
    unused = HPyErr_Format(ctx, error_type, "%lld is outside [%lld, %lld]", value, low, high);
    HPy_Close(ctx, error_type);
    return unused;
}

HPyDef_METH(map_list, "map_list", HPyFunc_VARARGS,
            .doc = "map_list(func, seq) -> [func(x) for x in seq], calling back with HPy_Call")
static HPy
map_list_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy func, seq;
    HPy_ssize_t n, i;
    HPyListBuilder builder;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "OO:map_list", &func, &seq))
        return HPy_NULL;
    if (!HPyCallable_Check(ctx, func))
        return HPyErr_Format(ctx, ctx->h_TypeError, "map_list() func must be callable, not %R", func);
    n = HPy_Length(ctx, seq);
    if (n < 0)
        return HPy_NULL;
    builder = HPyListBuilder_New(ctx, n);
    for (i = 0; i < n; i++) {
        HPy mapped;
        HPy item = HPy_GetItem_i(ctx, seq, i);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        mapped = HPy_Call(ctx, func, &item, 1, HPy_NULL);
        HPy_Close(ctx, item);
        if (HPy_IsNull(mapped)) {
            HPyListBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, builder, i, mapped);
        HPy_Close(ctx, mapped);
    }
    return HPyListBuilder_Build(ctx, builder);
}

/* ------------------------------------------------------------------ */
/* HPyFunc_KEYWORDS                                                    */

HPyDef_METH(greet, "greet", HPyFunc_KEYWORDS,
            .doc = "greet(name, greeting='Hello', *, excited=False) -> str")
static HPy
greet_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    static const char *keywords[] = {"name", "greeting", "excited", NULL};
    const char *name, *greeting = "Hello";
    int excited = 0;
    HPy result;
    HPyTracker ht;
    (void)self;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "s|s$p:greet", keywords,
                              &name, &greeting, &excited))
        return HPy_NULL;
    if (name[0] == '\0') {
        HPyTracker_Close(ctx, ht);
        HPyErr_SetString(ctx, ctx->h_ValueError, "greet() name must not be empty");
        return HPy_NULL;
    }
    /* the strings point into argument objects: format before closing the tracker */
    result = HPyUnicode_FromFormat(ctx, "%s, %s%s", greeting, name, excited ? "!" : ".");
    HPyTracker_Close(ctx, ht);
    return result;
}

HPyDef_METH(call_repeatedly, "call_repeatedly", HPyFunc_KEYWORDS,
            .doc = "call_repeatedly(func, args=None, kwargs=None, times=1) -> list of "
                   "func(*args, **kwargs) results, via HPy_CallTupleDict")
static HPy
call_repeatedly_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    static const char *keywords[] = {"func", "args", "kwargs", "times", NULL};
    HPy func, call_args = HPy_NULL, call_kwargs = HPy_NULL;
    HPy_ssize_t times = 1, i;
    HPyListBuilder builder;
    HPyTracker ht;
    (void)self;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "O|OOn:call_repeatedly",
                              keywords, &func, &call_args, &call_kwargs, &times))
        return HPy_NULL;
    if (!HPyCallable_Check(ctx, func)) {
        HPyErr_Format(ctx, ctx->h_TypeError,
                      "call_repeatedly() func must be callable, not %R", func);
        goto error;
    }
    /* None means "nothing": HPy_CallTupleDict takes HPy_NULL for that. */
    if (!HPy_IsNull(call_args) && HPy_Is(ctx, call_args, ctx->h_None))
        call_args = HPy_NULL;
    if (!HPy_IsNull(call_kwargs) && HPy_Is(ctx, call_kwargs, ctx->h_None))
        call_kwargs = HPy_NULL;
    if (!HPy_IsNull(call_args) && !HPyTuple_Check(ctx, call_args)) {
        HPyErr_Format(ctx, ctx->h_TypeError,
                      "call_repeatedly() args must be a tuple, not %R", call_args);
        goto error;
    }
    if (!HPy_IsNull(call_kwargs) && !HPyDict_Check(ctx, call_kwargs)) {
        HPyErr_Format(ctx, ctx->h_TypeError,
                      "call_repeatedly() kwargs must be a dict, not %R", call_kwargs);
        goto error;
    }
    if (times < 0 || times > MAX_ITEMS) {
        HPyErr_Format(ctx, ctx->h_ValueError,
                      "call_repeatedly() needs 0 <= times <= %d, got %zd", MAX_ITEMS, times);
        goto error;
    }
    builder = HPyListBuilder_New(ctx, times);
    for (i = 0; i < times; i++) {
        HPy outcome = HPy_CallTupleDict(ctx, func, call_args, call_kwargs);
        if (HPy_IsNull(outcome)) {
            HPyListBuilder_Cancel(ctx, builder);
            goto error;
        }
        HPyListBuilder_Set(ctx, builder, i, outcome);
        HPy_Close(ctx, outcome);
    }
    HPyTracker_Close(ctx, ht);
    return HPyListBuilder_Build(ctx, builder);
error:
    HPyTracker_Close(ctx, ht);
    return HPy_NULL;
}

HPyDef_METH(call_with, "call_with", HPyFunc_KEYWORDS,
            .doc = "call_with(func, *args, **kwargs) -> func(*args, **kwargs), forwarding "
                   "the vectorcall arguments to HPy_Call unchanged")
static HPy
call_with_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)self;
    if (nargs < 1) {
        HPyErr_SetString(ctx, ctx->h_TypeError,
                         "call_with() needs the callable as first positional argument");
        return HPy_NULL;
    }
    /* Keyword values follow the positional ones in args, as HPy_Call expects. */
    return HPy_Call(ctx, args[0], args + 1, nargs - 1, kwnames);
}

/* ------------------------------------------------------------------ */
/* Module                                                              */

HPyDef_SLOT(sample_exec, HPy_mod_exec)
static int
sample_exec_impl(HPyContext *ctx, HPy module)
{
    HPy error_type, zero, cache;
    error_type = HPyErr_NewException(ctx, "hpy_sample._sample.SampleError",
                                     ctx->h_ValueError, HPy_NULL);
    if (HPy_IsNull(error_type))
        return -1;
    if (HPy_SetAttr_s(ctx, module, "SampleError", error_type) < 0) {
        HPy_Close(ctx, error_type);
        return -1;
    }
    HPyGlobal_Store(ctx, &g_SampleError, error_type);
    HPy_Close(ctx, error_type);

    zero = HPyLong_FromLong(ctx, 0);
    if (HPy_IsNull(zero))
        return -1;
    HPyGlobal_Store(ctx, &g_counter, zero);
    HPy_Close(ctx, zero);

    cache = HPyDict_New(ctx);
    if (HPy_IsNull(cache))
        return -1;
    HPyGlobal_Store(ctx, &g_fib_cache, cache);
    HPy_Close(ctx, cache);
    return 0;
}

static HPyDef *module_defines[] = {
    &sample_exec,
    /* HPyFunc_NOARGS */
    &abi, &counter_next, &fib_cache_size, &fib_cache_clear,
    /* HPyFunc_O */
    &double_it, &square, &shout, &str_info, &squares, &evens, &word_counts, &stats, &fib,
    /* HPyFunc_VARARGS */
    &counter_reset, &poly, &long_roundtrip, &pack_widths, &bytes_xor, &make_record,
    &record_get, &divmod_floor, &check_range, &map_list,
    /* HPyFunc_KEYWORDS */
    &greet, &call_repeatedly, &call_with,
    NULL
};

static HPyGlobal *module_globals[] = {
    &g_counter,
    &g_fib_cache,
    &g_SampleError,
    NULL
};

static HPyModuleDef moduledef = {
    .doc = "Sample HPy extension: one C source, built for the CPython and universal ABIs.",
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(_sample, moduledef)
