/* HPyArg_Parse, HPyArg_ParseKeywords, HPyArg_ParseKeywordsDict.
 *
 * Written against the public HPy API only: the same file is compiled into
 * CPython-ABI and universal-ABI extensions.
 *
 * Format units (one output pointer each, in order):
 *   b  unsigned char, 0..UCHAR_MAX          B  unsigned char, no overflow check
 *   h  short                                H  unsigned short, no overflow check
 *   i  int                                  I  unsigned int, no overflow check
 *   l  long                                 k  unsigned long, no overflow check
 *   L  long long                            K  unsigned long long, no overflow check
 *   n  HPy_ssize_t, from any object with __index__
 *   f  float                                d  double
 *   p  int, the truth value of any object
 *   s  const char *, UTF-8 of a str without NUL characters; valid as long as
 *      the argument's handle is (for values from a dict, see below)
 *   O  HPy; borrowed from `args` (HPyArg_Parse), or owned by the tracker (the
 *      keyword variants, as in HPy 0.9)
 * Markers:
 *   |  the units after it are optional: their outputs are left untouched
 *   $  (keywords only) the units after it are keyword-only, and optional
 *   :name  ends the units; errors read "name() ..."
 *   ;message  ends the units; every error uses exactly this message
 *
 * When `ht` is not NULL a tracker is always created; the caller closes it after
 * success, and on failure it is closed here. The keyword variants need a
 * tracker for 'O' (as in HPy 0.9) so that handles fetched from a dict have an
 * owner.
 *
 * 's' from HPyArg_ParseKeywordsDict: with a tracker, the str fetched from `kw`
 * is tracked and the C string is valid until the tracker is closed. Without
 * one, `kw` must be an exact dict (as the interpreter passes to tp_init and
 * tp_new): the dict keeps the str alive, so the C string is valid while the
 * dict is alive and that key is not replaced, as with CPython's
 * PyArg_ParseTupleAndKeywords. Any other non-empty mapping (a dict subclass
 * whose __getitem__ may return a new object) is refused with a SystemError
 * asking for a tracker; HPy 0.9 returned a pointer into a freed string.
 *
 * Speed: a string-literal format is parsed by the inline parsers of
 * argparse.h, which fold the format away and come here (through the
 * functions below) for every error and every case they do not handle.
 * HPyArg_Parse's walk takes one pass over the format; the keyword walk
 * validates the format in one pass before it converts; neither allocates.
 *
 * Beyond HPy 0.9, the keyword variants also reject surplus positional
 * arguments, unknown keywords, and arguments given both by position and name,
 * with CPython's messages; 0.9 ignored them silently.
 */
#include "hpy.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#  define ARGPARSE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define ARGPARSE_PRINTF(f, a)
#endif

#define ARGPARSE_MSG_MAX 512

typedef struct {
    const char *func_name;  /* text after ':' or NULL */
    const char *message;    /* text after ';' or NULL */
} FormatTail;

/* Where the units end and what follows: only needed to word an error. */
static FormatTail
format_tail(const char *fmt)
{
    FormatTail t = { NULL, NULL };
    const char *p = fmt + strcspn(fmt, ":;");
    if (*p == ':')
        t.func_name = p + 1;
    else if (*p == ';')
        t.message = p + 1;
    return t;
}

static void
arg_error(HPyContext *ctx, HPy exc_type, const char *fmt, const char *msg)
{
    char buf[ARGPARSE_MSG_MAX];
    FormatTail t = format_tail(fmt);
    if (t.message != NULL) {
        HPyErr_SetString(ctx, exc_type, t.message);
        return;
    }
    if (t.func_name != NULL)
        snprintf(buf, sizeof(buf), "%.200s() %.256s", t.func_name, msg);
    else
        snprintf(buf, sizeof(buf), "function %.256s", msg);
    HPyErr_SetString(ctx, exc_type, buf);
}

static ARGPARSE_PRINTF(4, 5) void
arg_errorf(HPyContext *ctx, HPy exc_type, const char *fmt_string, const char *fmt, ...)
{
    char msg[ARGPARSE_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    arg_error(ctx, exc_type, fmt_string, msg);
}

/* CPython names the function "f()" or, without a name, "this function". */
static const char *
callee_for_keyword_error(const char *fmt, char *buf, size_t size)
{
    FormatTail t = format_tail(fmt);
    if (t.func_name == NULL)
        return "this function";
    snprintf(buf, size, "%.200s()", t.func_name);
    return buf;
}

static int
is_known_unit(char c)
{
    switch (c) {
    case 'b': case 'B': case 'h': case 'H': case 'i': case 'I': case 'l': case 'k':
    case 'L': case 'K': case 'n': case 'f': case 'd': case 'p': case 's': case 'O':
        return 1;
    default:
        return 0;
    }
}

#define TRACKER_FOR_O_MESSAGE \
    "HPyArg_ParseKeywords cannot use the format character 'O' " \
    "unless an HPyTracker is provided. Please supply an HPyTracker."

typedef struct {
    const char *units_end;  /* the ':' / ';' / NUL that stops the units */
    size_t n_units;
    size_t n_required;      /* units before '|' or '$' */
    size_t max_positional;  /* units before '$' */
    int has_s;              /* an 's' unit (HPyArg_ParseKeywordsDict checks the dict) */
} FormatInfo;

/* The keyword variants validate the whole format in one walk before any
 * argument is touched, so a broken format is reported whatever was passed. */
static int
scan_keywords_format(HPyContext *ctx, const char *fmt, int have_tracker, FormatInfo *fi)
{
    const char *p;
    int seen_optional = 0, seen_keyword_only = 0;

    fi->n_units = fi->n_required = fi->max_positional = 0;
    fi->has_s = 0;
    for (p = fmt; *p != '\0' && *p != ':' && *p != ';'; p++) {
        if (*p == '|') {
            seen_optional = 1;
            continue;
        }
        if (*p == '$') {
            seen_optional = seen_keyword_only = 1;
            continue;
        }
        if (!is_known_unit(*p)) {
            arg_error(ctx, ctx->h_SystemError, fmt, "unknown arg format code");
            return 0;
        }
        if (*p == 'O' && !have_tracker) {
            arg_error(ctx, ctx->h_SystemError, fmt, TRACKER_FOR_O_MESSAGE);
            return 0;
        }
        if (*p == 's')
            fi->has_s = 1;
        if (!seen_optional)
            fi->n_required++;
        if (!seen_keyword_only)
            fi->max_positional++;
        fi->n_units++;
    }
    fi->units_end = p;
    return 1;
}

/* A C long in [min, max]; `what` names the C type in the overflow message. */
static int
long_in_range(HPyContext *ctx, HPy arg, const char *fmt, long min, long max,
              const char *what, long *v)
{
    *v = HPyLong_AsLong(ctx, arg);
    if (*v == -1 && HPyErr_Occurred(ctx))
        return 0;
    if (*v < min || *v > max) {
        arg_errorf(ctx, ctx->h_OverflowError, fmt, "%s is %s", what,
                   *v < min ? "less than minimum" : "greater than maximum");
        return 0;
    }
    return 1;
}

/* The unsigned codes take the low bits of any int, without overflow checks. */
static int
low_bits(HPyContext *ctx, HPy arg, unsigned long *v)
{
    *v = HPyLong_AsUnsignedLongMask(ctx, arg);
    return !(*v == (unsigned long)-1 && HPyErr_Occurred(ctx));
}

/* Stores `arg` converted per `unit` through `out_`; a NULL `arg` (an optional
 * argument not given) leaves it untouched. `fmt` words the errors. */
static int
convert_unit(HPyContext *ctx, char unit, HPy arg, void *out_, const char *fmt)
{
    switch (unit) {
    case 'b': {
        unsigned char *out = (unsigned char *)out_;
        long v;
        if (HPy_IsNull(arg))
            return 1;
        if (!long_in_range(ctx, arg, fmt, 0, UCHAR_MAX, "unsigned byte integer", &v))
            return 0;
        *out = (unsigned char)v;
        return 1;
    }
    case 'B': {
        unsigned char *out = (unsigned char *)out_;
        unsigned long v;
        if (HPy_IsNull(arg))
            return 1;
        if (!low_bits(ctx, arg, &v))
            return 0;
        *out = (unsigned char)v;
        return 1;
    }
    case 'h': {
        short *out = (short *)out_;
        long v;
        if (HPy_IsNull(arg))
            return 1;
        if (!long_in_range(ctx, arg, fmt, SHRT_MIN, SHRT_MAX, "signed short integer", &v))
            return 0;
        *out = (short)v;
        return 1;
    }
    case 'H': {
        unsigned short *out = (unsigned short *)out_;
        unsigned long v;
        if (HPy_IsNull(arg))
            return 1;
        if (!low_bits(ctx, arg, &v))
            return 0;
        *out = (unsigned short)v;
        return 1;
    }
    case 'i': {
        int *out = (int *)out_;
        long v;
        if (HPy_IsNull(arg))
            return 1;
        if (!long_in_range(ctx, arg, fmt, INT_MIN, INT_MAX, "signed integer", &v))
            return 0;
        *out = (int)v;
        return 1;
    }
    case 'I': {
        unsigned int *out = (unsigned int *)out_;
        unsigned long v;
        if (HPy_IsNull(arg))
            return 1;
        if (!low_bits(ctx, arg, &v))
            return 0;
        *out = (unsigned int)v;
        return 1;
    }
    case 'l': {
        long *out = (long *)out_;
        long v;
        if (HPy_IsNull(arg))
            return 1;
        v = HPyLong_AsLong(ctx, arg);
        if (v == -1 && HPyErr_Occurred(ctx))
            return 0;
        *out = v;
        return 1;
    }
    case 'k': {
        unsigned long *out = (unsigned long *)out_;
        unsigned long v;
        if (HPy_IsNull(arg))
            return 1;
        v = HPyLong_AsUnsignedLongMask(ctx, arg);
        if (v == (unsigned long)-1 && HPyErr_Occurred(ctx))
            return 0;
        *out = v;
        return 1;
    }
    case 'L': {
        long long *out = (long long *)out_;
        long long v;
        if (HPy_IsNull(arg))
            return 1;
        v = HPyLong_AsLongLong(ctx, arg);
        if (v == -1 && HPyErr_Occurred(ctx))
            return 0;
        *out = v;
        return 1;
    }
    case 'K': {
        unsigned long long *out = (unsigned long long *)out_;
        unsigned long long v;
        if (HPy_IsNull(arg))
            return 1;
        v = HPyLong_AsUnsignedLongLongMask(ctx, arg);
        if (v == (unsigned long long)-1 && HPyErr_Occurred(ctx))
            return 0;
        *out = v;
        return 1;
    }
    case 'n': {
        HPy_ssize_t *out = (HPy_ssize_t *)out_;
        HPy_ssize_t v;
        HPy index;
        if (HPy_IsNull(arg))
            return 1;
        /* any object with __index__, as CPython's 'n' (HPy 0.9 took only ints) */
        index = HPy_Index(ctx, arg);
        if (HPy_IsNull(index))
            return 0;
        v = HPyLong_AsSsize_t(ctx, index);
        HPy_Close(ctx, index);
        if (v == -1 && HPyErr_Occurred(ctx))
            return 0;
        *out = v;
        return 1;
    }
    case 'f': {
        float *out = (float *)out_;
        double v;
        if (HPy_IsNull(arg))
            return 1;
        v = HPyFloat_AsDouble(ctx, arg);
        if (v == -1.0 && HPyErr_Occurred(ctx))
            return 0;
        *out = (float)v;
        return 1;
    }
    case 'd': {
        double *out = (double *)out_;
        double v;
        if (HPy_IsNull(arg))
            return 1;
        v = HPyFloat_AsDouble(ctx, arg);
        if (v == -1.0 && HPyErr_Occurred(ctx))
            return 0;
        *out = v;
        return 1;
    }
    case 'p': {
        int *out = (int *)out_;
        int v;
        if (HPy_IsNull(arg))
            return 1;
        v = HPy_IsTrue(ctx, arg);
        if (v < 0)
            return 0;
        *out = v ? 1 : 0;
        return 1;
    }
    case 's': {
        const char **out = (const char **)out_;
        const char *utf8;
        HPy_ssize_t size = 0;
        if (HPy_IsNull(arg))
            return 1;
        if (!HPyUnicode_Check(ctx, arg)) {
            arg_error(ctx, ctx->h_TypeError, fmt, "a str is required");
            return 0;
        }
        utf8 = HPyUnicode_AsUTF8AndSize(ctx, arg, &size);
        if (utf8 == NULL)
            return 0;  /* e.g. UnicodeEncodeError for lone surrogates */
        if ((HPy_ssize_t)strlen(utf8) != size) {
            arg_error(ctx, ctx->h_ValueError, fmt, "embedded null character");
            return 0;
        }
        *out = utf8;
        return 1;
    }
    case 'O': {
        HPy *out = (HPy *)out_;
        if (HPy_IsNull(arg))
            return 1;
        *out = arg;
        return 1;
    }
    default:
        /* the callers let through only the units handled above */
        arg_error(ctx, ctx->h_SystemError, fmt, "unknown arg format code");
        return 0;
    }
}

static void
close_tracker(HPyContext *ctx, HPyTracker *ht)
{
    if (ht != NULL)
        HPyTracker_Close(ctx, *ht);
}

/* The header's inline parser (argparse.h) converts through this one, so
 * that both paths store and raise exactly the same things. */
HPyAPI_HELPER int
_HPyArg_ConvertUnit(HPyContext *ctx, const char *fmt, char unit, HPy arg, void *out)
{
    return convert_unit(ctx, unit, arg, out, fmt);
}

/* Where the output pointers come from: the varargs of HPyArg_Parse, or the
 * array the header's inline parser collected them into. */
typedef struct {
    va_list *ap;               /* NULL when reading `arr` */
    const void *const *arr;
    size_t n_arr, next;
} OutputSource;

static void *
next_output(OutputSource *o)
{
    if (o->ap != NULL)
        return va_arg(*o->ap, void *);
    /* past the end: NULL, which parse_positional never stores through */
    return o->next < o->n_arr ? (void *)o->arr[o->next++] : NULL;
}

/* One walk over the format: it is validated and counted while the 'O'
 * outputs (which cannot fail) are stored; units that convert, and so may run
 * Python code or raise, wait until the format and the count are known good,
 * then run in order from the first of them (va_copy, no allocation). */
static int
parse_positional(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                 const char *fmt, OutputSource *outs)
{
    const char *p, *first_conversion = NULL;
    size_t i = 0, n_required = (size_t)-1, first_conversion_i = 0;
    OutputSource conv = *outs;
    va_list conv_ap;
    int ok = 1, short_outputs = 0;

    for (p = fmt; *p != '\0' && *p != ':' && *p != ';'; p++) {
        if (*p == '|') {
            if (n_required == (size_t)-1)
                n_required = i;
            continue;
        }
        if (!is_known_unit(*p)) {
            ok = 0;
            break;
        }
        if (*p == 'O') {
            HPy *out = (HPy *)next_output(outs);
            if (i < nargs && out != NULL)
                *out = args[i];
            else if (i < nargs)
                short_outputs = 1;
        } else {
            if (first_conversion == NULL) {
                first_conversion = p;
                first_conversion_i = i;
                conv = *outs;
                if (outs->ap != NULL) {
                    va_copy(conv_ap, *outs->ap);
                    conv.ap = &conv_ap;
                }
            }
            if (next_output(outs) == NULL && i < nargs)
                short_outputs = 1;
        }
        i++;
    }
    if (!ok) {
        if (first_conversion != NULL && outs->ap != NULL)
            va_end(conv_ap);
        arg_error(ctx, ctx->h_SystemError, fmt, "unknown arg format code");
        return 0;
    }
    if (n_required == (size_t)-1)
        n_required = i;

    if (ht != NULL) {
        *ht = HPyTracker_New(ctx, 0);
        if (HPy_IsNull(*ht))
            ok = 0;
    }
    if (ok && nargs < n_required) {
        arg_error(ctx, ctx->h_TypeError, fmt, "required positional argument missing");
        ok = 0;
        close_tracker(ctx, ht);
    } else if (ok && nargs > i) {
        arg_error(ctx, ctx->h_TypeError, fmt,
                  "mismatched args (too many arguments for fmt)");
        ok = 0;
        close_tracker(ctx, ht);
    } else if (ok && short_outputs) {
        /* only the inline parser's array can tell; the varargs cannot (as
         * in HPy 0.9, a count error above is what a caller sees first) */
        HPyErr_SetString(ctx, ctx->h_SystemError,
                         "HPyArg_Parse: fewer output pointers than format units");
        ok = 0;
        close_tracker(ctx, ht);
    }
    if (first_conversion == NULL)
        return ok;

    for (p = first_conversion, i = first_conversion_i;
         ok && *p != '\0' && *p != ':' && *p != ';'; p++) {
        void *out;
        if (*p == '|')
            continue;
        out = next_output(&conv);
        if (*p != 'O' && i < nargs) {
            ok = convert_unit(ctx, *p, args[i], out, fmt);
            if (!ok)
                close_tracker(ctx, ht);
        }
        i++;
    }
    if (outs->ap != NULL)
        va_end(conv_ap);
    return ok;
}

HPyAPI_HELPER int
(HPyArg_Parse)(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
               const char *fmt, ...)
{
    va_list ap;
    OutputSource outs;
    int ok;
    va_start(ap, fmt);
    outs.ap = &ap;
    outs.arr = NULL;
    outs.n_arr = outs.next = 0;
    ok = parse_positional(ctx, ht, args, nargs, fmt, &outs);
    va_end(ap);
    return ok;
}

/* The inline parser's way out (argparse.h): the same walk as HPyArg_Parse. */
HPyAPI_HELPER int
_HPyArg_ParseArray(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                   const char *fmt, const void *const *outputs, size_t n_outputs)
{
    OutputSource outs;
    outs.ap = NULL;
    outs.arr = outputs;
    outs.n_arr = n_outputs;
    outs.next = 0;
    return parse_positional(ctx, ht, args, nargs, fmt, &outs);
}

/* ---- keywords ----------------------------------------------------------- */

/* Formats with more units than this match their keywords unit by unit. */
#define KW_MAP_MAX 32

typedef struct {
    HPy kw;               /* kwnames tuple, dict, or HPy_NULL */
    int is_dict;
    const HPy *kw_values; /* vectorcall style: values after the positionals */
    HPy_ssize_t n_kw;
    /* kwnames read once: kw_at[unit] is the index of its value, or -1 */
    int mapped;
    HPy_ssize_t kw_at[KW_MAP_MAX];
} KeywordSource;

/* Does the str handle `name` spell `key`? -1 on error. */
static int
name_equals(HPyContext *ctx, HPy name, const char *key)
{
    HPy_ssize_t size = 0;
    const char *utf8 = HPyUnicode_AsUTF8AndSize(ctx, name, &size);
    if (utf8 == NULL)
        return -1;
    return (size_t)size == strlen(key) && memcmp(utf8, key, (size_t)size) == 0;
}

/* Reads each name of a kwnames tuple once (no object is created: the UTF-8
 * of a str is cached in it) and maps it to the unit of that name among those
 * not given by position, so that a unit finds its value without a search.
 * Names that match no such unit are left for the error reports. If a name
 * cannot be read (not a str: the interpreter never passes one), the mapping
 * is dropped, and the per-unit search raises at the same point as before. */
static int
map_kwnames(HPyContext *ctx, KeywordSource *src, const char *keywords[],
            size_t nargs, size_t n_units)
{
    HPy_ssize_t j;
    size_t u;
    src->mapped = 0;
    if (src->is_dict || n_units > KW_MAP_MAX || src->n_kw == 0)
        return 1;
    for (u = 0; u < n_units; u++)
        src->kw_at[u] = -1;
    for (j = 0; j < src->n_kw; j++) {
        HPy_ssize_t size = 0;
        HPy name = HPy_GetItem_i(ctx, src->kw, j);
        const char *utf8;
        if (HPy_IsNull(name))
            return 0;
        utf8 = HPyUnicode_AsUTF8AndSize(ctx, name, &size);
        if (utf8 == NULL) {
            HPyErr_Clear(ctx);
            HPy_Close(ctx, name);
            return 1;   /* src->mapped stays 0 */
        }
        for (u = nargs; u < n_units; u++) {
            const char *key = keywords[u];
            if (src->kw_at[u] < 0 && key[0] != '\0' && key[0] == utf8[0]
                    && strlen(key) == (size_t)size && memcmp(key, utf8, (size_t)size) == 0) {
                src->kw_at[u] = j;
                break;
            }
        }
        HPy_Close(ctx, name);
    }
    src->mapped = 1;
    return 1;
}

/* Finds keyword `key`: 1 and *value set (owned iff *owned), 0 if absent,
 * -1 with an error set. */
static int
lookup_keyword(HPyContext *ctx, const KeywordSource *src, const char *key,
               HPy *value, int *owned)
{
    HPy_ssize_t j;
    *owned = 0;
    if (src->n_kw == 0)
        return 0;
    if (src->is_dict) {
        HPy v = HPy_GetItem_s(ctx, src->kw, key);
        if (HPy_IsNull(v)) {
            if (!HPyErr_ExceptionMatches(ctx, ctx->h_KeyError))
                return -1;
            HPyErr_Clear(ctx);
            return 0;
        }
        *value = v;
        *owned = 1;
        return 1;
    }
    for (j = 0; j < src->n_kw; j++) {
        HPy name = HPy_GetItem_i(ctx, src->kw, j);
        int eq;
        if (HPy_IsNull(name))
            return -1;
        eq = name_equals(ctx, name, key);
        HPy_Close(ctx, name);
        if (eq < 0)
            return -1;
        if (eq) {
            *value = src->kw_values[j];
            return 1;
        }
    }
    return 0;
}

/* Is `name` (a handle) among the keyword names accepted? -1 on error. */
static int
is_accepted_name(HPyContext *ctx, HPy name, const char *keywords[], size_t n_keywords)
{
    size_t k;
    if (!HPyUnicode_Check(ctx, name))
        return 0;
    for (k = 0; k < n_keywords; k++) {
        int eq;
        if (keywords[k][0] == '\0')
            continue;
        eq = name_equals(ctx, name, keywords[k]);
        if (eq != 0)
            return eq;
    }
    return 0;
}

/* Called when more keywords were passed than matched: names the first one
 * that is not accepted, like CPython. */
static void
report_unexpected_keyword(HPyContext *ctx, const KeywordSource *src,
                          const char *keywords[], size_t n_keywords,
                          const char *fmt)
{
    char callee[256];
    HPy names;
    HPy_ssize_t j, n;

    if (format_tail(fmt).message != NULL) {
        HPyErr_SetString(ctx, ctx->h_TypeError, format_tail(fmt).message);
        return;
    }
    if (src->is_dict) {
        if (!HPyDict_Check(ctx, src->kw)) {
            arg_error(ctx, ctx->h_TypeError, fmt, "got an unexpected keyword argument");
            return;
        }
        names = HPyDict_Keys(ctx, src->kw);
        if (HPy_IsNull(names))
            return;
    } else {
        names = HPy_Dup(ctx, src->kw);
    }
    n = HPy_Length(ctx, names);
    for (j = 0; j < n; j++) {
        HPy name = HPy_GetItem_i(ctx, names, j);
        int accepted;
        if (HPy_IsNull(name))
            break;
        if (!HPyUnicode_Check(ctx, name)) {
            HPy_Close(ctx, name);
            arg_error(ctx, ctx->h_TypeError, fmt, "keywords must be strings");
            break;
        }
        accepted = is_accepted_name(ctx, name, keywords, n_keywords);
        if (accepted == 0) {
            const char *utf8 = HPyUnicode_AsUTF8AndSize(ctx, name, NULL);
            if (utf8 != NULL) {
                char msg[ARGPARSE_MSG_MAX];
                snprintf(msg, sizeof(msg), "'%.200s' is an invalid keyword argument for %s",
                         utf8, callee_for_keyword_error(fmt, callee, sizeof(callee)));
                HPyErr_SetString(ctx, ctx->h_TypeError, msg);
            }
            HPy_Close(ctx, name);
            break;
        }
        HPy_Close(ctx, name);
        if (accepted < 0)
            break;
    }
    HPy_Close(ctx, names);
    if (!HPyErr_Occurred(ctx))
        arg_error(ctx, ctx->h_TypeError, fmt, "got an unexpected keyword argument");
}

/* 1 if `obj`'s type is dict itself (not a subclass), 0 if not, -1 on error.
 * HPy 0.9's context has no h_DictType: the type of a new dict stands in. */
static int
is_exact_dict(HPyContext *ctx, HPy obj)
{
    HPy type, empty, dict_type;
    int exact;
    if (!HPyDict_Check(ctx, obj))
        return 0;
    empty = HPyDict_New(ctx);
    if (HPy_IsNull(empty))
        return -1;
    dict_type = HPy_Type(ctx, empty);
    HPy_Close(ctx, empty);
    if (HPy_IsNull(dict_type))
        return -1;
    type = HPy_Type(ctx, obj);
    if (HPy_IsNull(type)) {
        HPy_Close(ctx, dict_type);
        return -1;
    }
    exact = HPy_Is(ctx, type, dict_type);
    HPy_Close(ctx, type);
    HPy_Close(ctx, dict_type);
    return exact;
}

static int
parse_keywords(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
               HPy kw, int kw_is_dict, const char *fmt, const char *keywords[],
               OutputSource *outs)
{
    FormatInfo fi;
    KeywordSource src;
    size_t n_keywords = 0, i = 0;
    HPy_ssize_t n_matched = 0;
    const char *p;

    if (!scan_keywords_format(ctx, fmt, ht != NULL, &fi))
        return 0;
    /* positional-only names ("") come first */
    while (keywords[n_keywords] != NULL && keywords[n_keywords][0] == '\0')
        n_keywords++;
    for (; keywords[n_keywords] != NULL; n_keywords++) {
        if (keywords[n_keywords][0] == '\0') {
            arg_error(ctx, ctx->h_SystemError, fmt, "empty keyword parameter name");
            return 0;
        }
    }
    /* HPy 0.9 reports these programming errors as TypeError; kept for
     * compatibility. */
    if (fi.n_units > n_keywords) {
        arg_error(ctx, ctx->h_TypeError, fmt, "mismatched args (too few keywords for fmt)");
        return 0;
    }
    if (fi.n_units < n_keywords) {
        arg_error(ctx, ctx->h_TypeError, fmt, "mismatched args (too many keywords for fmt)");
        return 0;
    }

    src.kw = kw;
    src.is_dict = kw_is_dict;
    src.kw_values = args + nargs;
    src.n_kw = 0;
    src.mapped = 0;
    if (!HPy_IsNull(kw)) {
        src.n_kw = HPy_Length(ctx, kw);
        if (src.n_kw < 0)
            return 0;
    }
    if (kw_is_dict && ht == NULL && src.n_kw > 0
            && fi.has_s) {
        int exact = is_exact_dict(ctx, kw);
        if (exact < 0)
            return 0;
        if (!exact) {
            arg_error(ctx, ctx->h_SystemError, fmt,
                      "HPyArg_ParseKeywordsDict cannot use the format character 's' "
                      "with a mapping that is not exactly a dict unless an HPyTracker "
                      "is provided. Please supply an HPyTracker.");
            return 0;
        }
    }

    /* (a keyword-only parameter given by position is reported at its '$',
     * after the conversions before it, as CPython does) */
    if (nargs > fi.n_units) {
        arg_errorf(ctx, ctx->h_TypeError, fmt,
                   "takes %s %zu positional argument%s (%zu given)",
                   fi.n_required == fi.max_positional ? "exactly" : "at most",
                   fi.max_positional, fi.max_positional == 1 ? "" : "s", nargs);
        return 0;
    }
    /* Too many arguments in all is reported before any is converted, as
     * CPython does, so a surplus keyword is not hidden by a conversion error. */
    if (nargs + (size_t)src.n_kw > fi.n_units) {
        arg_errorf(ctx, ctx->h_TypeError, fmt, "takes at most %zu %sargument%s (%zu given)",
                   fi.n_units, nargs == 0 ? "keyword " : "", fi.n_units == 1 ? "" : "s",
                   nargs + (size_t)src.n_kw);
        return 0;
    }
    if (!map_kwnames(ctx, &src, keywords, nargs, fi.n_units))
        return 0;

    if (ht != NULL) {
        *ht = HPyTracker_New(ctx, 0);
        if (HPy_IsNull(*ht))
            return 0;
    }

    for (p = fmt; p != fi.units_end; p++) {
        HPy arg = HPy_NULL;
        void *out;
        int owned = 0, found = 0, ok;
        if (*p == '$' && nargs > fi.max_positional) {
            arg_error(ctx, ctx->h_TypeError, fmt,
                      "keyword only argument passed as positional argument");
            goto error;
        }
        if (*p == '|' || *p == '$')
            continue;
        /* a keyword for a parameter given by position is reported after
         * the conversions, as CPython does */
        if (i >= nargs && src.mapped) {
            if (src.kw_at[i] >= 0) {
                arg = src.kw_values[src.kw_at[i]];
                found = 1;
            }
        } else if (i >= nargs && keywords[i][0] != '\0') {
            found = lookup_keyword(ctx, &src, keywords[i], &arg, &owned);
            if (found < 0)
                goto error;
        }
        if (i < nargs) {
            arg = args[i];
        } else if (found) {
            n_matched++;
        } else if (i < fi.n_required) {
            arg_error(ctx, ctx->h_TypeError, fmt, "no value for required argument");
            goto error;
        }
        out = next_output(outs);
        if (out == NULL && !HPy_IsNull(arg)) {
            if (owned)
                HPy_Close(ctx, arg);
            HPyErr_SetString(ctx, ctx->h_SystemError,
                             "HPyArg_ParseKeywords: fewer output pointers than format units");
            goto error;
        }
        /* Handles fetched from a dict must outlive this call for 'O' and 's'. */
        if (owned && ht != NULL && (*p == 'O' || *p == 's')) {
            if (HPyTracker_Add(ctx, *ht, arg) < 0) {
                HPy_Close(ctx, arg);
                goto error;
            }
            owned = 0;
        }
        /* As in HPy 0.9, an 'O' output is the tracker's own handle even when
         * it comes from `args`: valid until HPyTracker_Close, whatever the
         * caller does with the handles it passed (debug mode checks this). */
        else if (!owned && ht != NULL && *p == 'O' && !HPy_IsNull(arg)) {
            arg = HPy_Dup(ctx, arg);
            if (HPyTracker_Add(ctx, *ht, arg) < 0) {
                HPy_Close(ctx, arg);
                goto error;
            }
        }
        ok = convert_unit(ctx, *p, arg, out, fmt);
        if (owned)
            HPy_Close(ctx, arg);
        if (!ok)
            goto error;
        i++;
    }

    if (n_matched < src.n_kw) {
        for (i = 0; i < nargs; i++) {
            HPy arg;
            int owned, found;
            if (keywords[i][0] == '\0')
                continue;
            found = lookup_keyword(ctx, &src, keywords[i], &arg, &owned);
            if (found < 0)
                goto error;
            if (found) {
                if (owned)
                    HPy_Close(ctx, arg);
                arg_errorf(ctx, ctx->h_TypeError, fmt,
                           "got multiple values for argument '%.200s'", keywords[i]);
                goto error;
            }
        }
        report_unexpected_keyword(ctx, &src, keywords, n_keywords, fmt);
        goto error;
    }
    return 1;

error:
    close_tracker(ctx, ht);
    return 0;
}

HPyAPI_HELPER int
(HPyArg_ParseKeywords)(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                     size_t nargs, HPy kwnames, const char *fmt,
                     const char *keywords[], ...)
{
    va_list ap;
    OutputSource outs;
    int ok;
    va_start(ap, keywords);
    outs.ap = &ap;
    outs.arr = NULL;
    outs.n_arr = outs.next = 0;
    ok = parse_keywords(ctx, ht, args, nargs, kwnames, 0, fmt, keywords, &outs);
    va_end(ap);
    return ok;
}

/* The inline keyword parser's way out (argparse.h), for many outputs. */
HPyAPI_HELPER int
_HPyArg_ParseKeywordsArray(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                           size_t nargs, HPy kwnames, const char *fmt,
                           const char *keywords[], const void *const *outputs,
                           size_t n_outputs)
{
    OutputSource outs;
    outs.ap = NULL;
    outs.arr = outputs;
    outs.n_arr = n_outputs;
    outs.next = 0;
    return parse_keywords(ctx, ht, args, nargs, kwnames, 0, fmt, keywords, &outs);
}

HPyAPI_HELPER int
HPyArg_ParseKeywordsDict(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                         HPy_ssize_t nargs, HPy kw, const char *fmt,
                         const char *keywords[], ...)
{
    va_list ap;
    OutputSource outs;
    int ok;
    if (nargs < 0) {
        HPyErr_SetString(ctx, ctx->h_SystemError,
                         "HPyArg_ParseKeywordsDict: negative nargs");
        return 0;
    }
    va_start(ap, keywords);
    outs.ap = &ap;
    outs.arr = NULL;
    outs.n_arr = outs.next = 0;
    ok = parse_keywords(ctx, ht, args, (size_t)nargs, kw, 1, fmt, keywords, &outs);
    va_end(ap);
    return ok;
}
