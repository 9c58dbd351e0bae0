/* HPy_BuildValue: builds a Python value from C values, like Py_BuildValue.
 *
 * Written against the public HPy API only: the same file is compiled into
 * CPython-ABI and universal-ABI extensions.
 *
 * An empty format gives None, one unit gives that value, several units give a
 * tuple. Units (C argument type in brackets):
 *   i b h B H [int]   I [unsigned int]   l [long]   k [unsigned long]
 *   L [long long]     K [unsigned long long]        n [HPy_ssize_t]
 *   f d [double; a float is promoted]   c [int] -> bytes of length 1
 *   s z [const char *] -> str (UTF-8), None if NULL
 *   y [const char *] -> bytes, None if NULL
 *   O S [HPy] -> a new handle to the same object; the caller keeps its own.
 *       HPy_NULL means "the call producing it failed": the pending error is
 *       kept, or a SystemError is raised if there is none.
 *   (...) tuple   [...] list   {k:v, ...} dict
 * Spaces and commas between units are ignored (in dicts a comma separates
 * pairs). 'N' is refused: HPy never steals handles.
 *
 * Nesting depth is limited by memory only: the format is walked with explicit
 * stacks on the heap, never by recursion, so a deeply nested format cannot
 * overflow the C stack (CPython's Py_BuildValue recurses and crashes at about
 * 10^6 levels).
 */
#include "hpy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BV_SUFFIX " in the format string passed to HPy_BuildValue"

static void
format_error(HPyContext *ctx, const char *what, char c)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "%s '%c'" BV_SUFFIX, what, c);
    HPyErr_SetString(ctx, ctx->h_SystemError, msg);
}

static char
closer_of(char opener)
{
    switch (opener) {
    case '(': return ')';
    case '[': return ']';
    case '{': return '}';
    default: return '\0';
    }
}

static int
is_closer(char c)
{
    return c == ')' || c == ']' || c == '}';
}

static int
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Checks that every bracket is matched before any argument is read. On a
 * mismatch, names the outermost group left open, or a closer with no opener. */
static int
check_brackets(HPyContext *ctx, const char *fmt)
{
    char small[64];
    char *open = small;   /* the openers not closed yet, innermost last */
    size_t depth = 0, len = strlen(fmt);
    const char *p;
    int ok = 1;

    if (len > sizeof(small)) {
        open = (char *)malloc(len);
        if (open == NULL) {
            HPyErr_NoMemory(ctx);
            return 0;
        }
    }
    for (p = fmt; *p != '\0' && ok; p++) {
        if (closer_of(*p) != '\0') {
            open[depth++] = *p;
        } else if (is_closer(*p)) {
            if (depth == 0) {
                format_error(ctx, "unmatched", *p);
                ok = 0;
            } else if (closer_of(open[depth - 1]) != *p) {
                ok = 0;
            } else {
                depth--;
            }
        }
    }
    if (depth > 0) {
        format_error(ctx, "unmatched", open[0]);
        ok = 0;
    }
    if (open != small)
        free(open);
    return ok;
}

/* A container being built: its values are the top of the value stack from
 * `base` on. A dict is created when it opens and each pair is inserted as
 * soon as its value is built, so errors come in reading order (an
 * unhashable key before a bad value after it), as in CPython. */
typedef struct {
    char closer;   /* ')', ']', '}', or '\0' for the whole format */
    int state;     /* dicts: what comes next, one of the DICT_* below */
    size_t base;
    HPy dict;      /* for '}': the dict, owned by the frame */
} Frame;

enum { DICT_KEY, DICT_COLON, DICT_VALUE, DICT_COMMA };

typedef struct {
    HPy *vals;
    size_t n_vals, cap_vals;
    Frame *frames;
    size_t n_frames, cap_frames;
    HPy small_vals[16];
    Frame small_frames[8];
} Stacks;

/* Room for one more element in `array` (which may still be `small`): the
 * array to use from now on, or NULL with MemoryError set. */
static void *
reserve(HPyContext *ctx, void *array, size_t *cap, size_t used, size_t elem,
        void *small)
{
    size_t new_cap;
    void *bigger;
    if (used < *cap)
        return array;
    new_cap = *cap * 2;
    if (new_cap > ((size_t)-1) / 2 / elem) {
        HPyErr_NoMemory(ctx);
        return NULL;
    }
    bigger = (array == small) ? malloc(new_cap * elem) : realloc(array, new_cap * elem);
    if (bigger == NULL) {
        HPyErr_NoMemory(ctx);
        return NULL;
    }
    if (array == small)
        memcpy(bigger, small, used * elem);
    *cap = new_cap;
    return bigger;
}

/* Pushes a new value (owned by the stacks from now on); it completes a key
 * or a value when the current container is a dict. */
static int
push_value(HPyContext *ctx, Stacks *st, HPy h)
{
    Frame *top;
    int ok;
    HPy *vals = (HPy *)reserve(ctx, st->vals, &st->cap_vals, st->n_vals, sizeof(HPy),
                               st->small_vals);
    if (vals == NULL) {
        HPy_Close(ctx, h);
        return 0;
    }
    st->vals = vals;
    st->vals[st->n_vals++] = h;
    top = &st->frames[st->n_frames - 1];
    if (top->closer != '}')
        return 1;
    if (top->state == DICT_KEY) {
        top->state = DICT_COLON;
        return 1;
    }
    top->state = DICT_COMMA;
    ok = HPy_SetItem(ctx, top->dict, st->vals[st->n_vals - 2], st->vals[st->n_vals - 1]) == 0;
    HPy_Close(ctx, st->vals[--st->n_vals]);
    HPy_Close(ctx, st->vals[--st->n_vals]);
    return ok;
}

static int
push_frame(HPyContext *ctx, Stacks *st, char closer)
{
    Frame *frames = (Frame *)reserve(ctx, st->frames, &st->cap_frames, st->n_frames,
                                     sizeof(Frame), st->small_frames);
    if (frames == NULL)
        return 0;
    st->frames = frames;
    st->frames[st->n_frames].closer = closer;
    st->frames[st->n_frames].state = DICT_KEY;
    st->frames[st->n_frames].base = st->n_vals;
    st->frames[st->n_frames].dict = HPy_NULL;
    if (closer == '}') {
        st->frames[st->n_frames].dict = HPyDict_New(ctx);
        if (HPy_IsNull(st->frames[st->n_frames].dict))
            return 0;
    }
    st->n_frames++;
    return 1;
}

static void
close_all(HPyContext *ctx, HPy *items, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        HPy_Close(ctx, items[i]);
}

/* Turns the values of the innermost tuple or list into that container. */
static HPy
make_sequence(HPyContext *ctx, char closer, HPy *items, size_t n)
{
    HPy result;
    size_t i;
    if (closer == ')')
        return HPyTuple_FromArray(ctx, items, (HPy_ssize_t)n);
    result = HPyList_New(ctx, 0);
    for (i = 0; i < n && !HPy_IsNull(result); i++) {
        if (HPyList_Append(ctx, result, items[i]) < 0) {
            HPy_Close(ctx, result);
            result = HPy_NULL;
        }
    }
    return result;
}

/* Closes the innermost container and pushes it as a value of its parent. */
static int
pop_frame(HPyContext *ctx, Stacks *st)
{
    Frame f = st->frames[--st->n_frames];
    HPy container = f.closer == '}' ? f.dict  /* its pairs are in already */
        : make_sequence(ctx, f.closer, st->vals + f.base, st->n_vals - f.base);
    close_all(ctx, st->vals + f.base, st->n_vals - f.base);
    st->n_vals = f.base;
    if (HPy_IsNull(container))
        return 0;
    return push_value(ctx, st, container);
}

static HPy build_unit(HPyContext *ctx, char unit, va_list *ap);

/* One unit at *pp: a scalar is pushed, an opener starts a container. */
static int
start_item(HPyContext *ctx, Stacks *st, const char **pp, va_list *ap)
{
    char unit = *(*pp)++;
    HPy h;
    if (closer_of(unit) != '\0')
        return push_frame(ctx, st, closer_of(unit));
    h = build_unit(ctx, unit, ap);
    if (HPy_IsNull(h))
        return 0;
    return push_value(ctx, st, h);
}

/* Builds every unit of `fmt` (brackets already checked) onto the stacks;
 * the top-level values are left in st->vals. */
static int
build_all(HPyContext *ctx, Stacks *st, const char *fmt, va_list *ap)
{
    const char *p = fmt;
    if (!push_frame(ctx, st, '\0'))
        return 0;
    for (;;) {
        Frame *top = &st->frames[st->n_frames - 1];
        if (top->closer != '}') {
            while (is_blank(*p) || *p == ',')
                p++;
            if (*p == top->closer) {
                if (top->closer == '\0')
                    return 1;
                p++;
                if (!pop_frame(ctx, st))
                    return 0;
                continue;
            }
            if (!start_item(ctx, st, &p, ap))
                return 0;
            continue;
        }
        while (is_blank(*p))
            p++;
        switch (top->state) {
        case DICT_KEY:
            if (*p == ',') {
                HPyErr_SetString(ctx, ctx->h_SystemError, "unexpected ','" BV_SUFFIX);
                return 0;
            }
            /* fall through */
        case DICT_COMMA:
            if (*p == '}') {
                p++;
                if (!pop_frame(ctx, st))
                    return 0;
                continue;
            }
            if (top->state == DICT_COMMA) {
                if (*p != ',') {
                    HPyErr_SetString(ctx, ctx->h_SystemError, "missing ','" BV_SUFFIX);
                    return 0;
                }
                p++;
                top->state = DICT_KEY;
                continue;
            }
            break;
        case DICT_COLON:
            if (*p != ':') {
                HPyErr_SetString(ctx, ctx->h_SystemError, "missing ':'" BV_SUFFIX);
                return 0;
            }
            p++;
            top->state = DICT_VALUE;
            continue;
        default:  /* DICT_VALUE */
            break;
        }
        if (!start_item(ctx, st, &p, ap))
            return 0;
    }
}

static HPy
from_c_string(HPyContext *ctx, const char *s, int as_bytes)
{
    if (s == NULL)
        return HPy_Dup(ctx, ctx->h_None);
    return as_bytes ? HPyBytes_FromString(ctx, s) : HPyUnicode_FromString(ctx, s);
}

/* A scalar unit (anything but brackets). */
static HPy
build_unit(HPyContext *ctx, char unit, va_list *ap)
{
    switch (unit) {
    case 'i': case 'b': case 'h': case 'B': case 'H':
        return HPyLong_FromLong(ctx, (long)va_arg(*ap, int));
    case 'I':
        return HPyLong_FromUnsignedLong(ctx, (unsigned long)va_arg(*ap, unsigned int));
    case 'l':
        return HPyLong_FromLong(ctx, va_arg(*ap, long));
    case 'k':
        return HPyLong_FromUnsignedLong(ctx, va_arg(*ap, unsigned long));
    case 'L':
        return HPyLong_FromLongLong(ctx, va_arg(*ap, long long));
    case 'K':
        return HPyLong_FromUnsignedLongLong(ctx, va_arg(*ap, unsigned long long));
    case 'n':
        return HPyLong_FromSsize_t(ctx, va_arg(*ap, HPy_ssize_t));
    case 'f': case 'd':
        return HPyFloat_FromDouble(ctx, va_arg(*ap, double));
    case 'c': {
        char byte = (char)va_arg(*ap, int);
        return HPyBytes_FromStringAndSize(ctx, &byte, 1);
    }
    case 's': case 'z':
        return from_c_string(ctx, va_arg(*ap, const char *), 0);
    case 'y':
        return from_c_string(ctx, va_arg(*ap, const char *), 1);
    case 'O': case 'S': {
        HPy h = va_arg(*ap, HPy);
        if (HPy_IsNull(h)) {
            if (!HPyErr_Occurred(ctx))
                HPyErr_SetString(ctx, ctx->h_SystemError,
                                 "HPy_NULL object passed to HPy_BuildValue");
            return HPy_NULL;
        }
        return HPy_Dup(ctx, h);
    }
    case 'N':
        HPyErr_SetString(ctx, ctx->h_SystemError,
                         "HPy_BuildValue does not support the 'N' formatting unit. "
                         "Use 'O' and close your handle afterwards: HPy functions "
                         "never steal handles.");
        return HPy_NULL;
    default:
        format_error(ctx, "bad format char", unit);
        return HPy_NULL;
    }
}

HPyAPI_HELPER HPy
HPy_BuildValue(HPyContext *ctx, const char *fmt, ...)
{
    va_list ap;
    Stacks st;
    HPy result = HPy_NULL;
    int ok;

    if (!check_brackets(ctx, fmt))
        return HPy_NULL;
    st.vals = st.small_vals;
    st.cap_vals = sizeof(st.small_vals) / sizeof(st.small_vals[0]);
    st.n_vals = 0;
    st.frames = st.small_frames;
    st.cap_frames = sizeof(st.small_frames) / sizeof(st.small_frames[0]);
    st.n_frames = 0;

    va_start(ap, fmt);
    ok = build_all(ctx, &st, fmt, &ap);
    va_end(ap);
    if (ok) {
        if (st.n_vals == 0)
            result = HPy_Dup(ctx, ctx->h_None);
        else if (st.n_vals == 1)
            result = st.vals[--st.n_vals];  /* moved out: not closed below */
        else
            result = HPyTuple_FromArray(ctx, st.vals, (HPy_ssize_t)st.n_vals);
    }
    close_all(ctx, st.vals, st.n_vals);
    while (st.n_frames > 0)   /* the dicts still open after an error */
        if (!HPy_IsNull(st.frames[--st.n_frames].dict))
            HPy_Close(ctx, st.frames[st.n_frames].dict);
    if (st.vals != st.small_vals)
        free(st.vals);
    if (st.frames != st.small_frames)
        free(st.frames);
    return result;
}
