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
 */
#include "hpy.h"

#include <stdio.h>
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

/* Returns the position just after the `closer` that ends the group starting
 * at `p`, or NULL when the brackets do not match. */
static const char *
skip_group(const char *p, char closer)
{
    while (*p != '\0') {
        if (*p == closer)
            return p + 1;
        if (is_closer(*p))
            return NULL;
        if (closer_of(*p) != '\0') {
            p = skip_group(p + 1, closer_of(*p));
            if (p == NULL)
                return NULL;
            continue;
        }
        p++;
    }
    return NULL;
}

/* Counts the units of one level, up to `closer` ('\0' for the whole format),
 * checking that every bracket below it is matched. */
static HPy_ssize_t
count_units(HPyContext *ctx, const char *p, char closer, char opener)
{
    HPy_ssize_t n = 0;
    while (*p != closer) {
        if (*p == '\0') {
            format_error(ctx, "unmatched", opener);
            return -1;
        }
        if (is_closer(*p)) {
            format_error(ctx, "unmatched", closer != '\0' ? opener : *p);
            return -1;
        }
        if (closer_of(*p) != '\0') {
            const char *after = skip_group(p + 1, closer_of(*p));
            if (after == NULL) {
                format_error(ctx, "unmatched", closer != '\0' ? opener : *p);
                return -1;
            }
            p = after;
            n++;
            continue;
        }
        if (!is_blank(*p) && *p != ',' && *p != ':')
            n++;
        p++;
    }
    return n;
}

static HPy build_item(HPyContext *ctx, const char **pp, va_list *ap);

static void
close_all(HPyContext *ctx, HPy *items, HPy_ssize_t n)
{
    HPy_ssize_t i;
    for (i = 0; i < n; i++)
        HPy_Close(ctx, items[i]);
}

/* Builds the `n` units before `closer` into `items`; moves *pp past `closer`. */
static int
build_items(HPyContext *ctx, const char **pp, char closer, HPy *items,
            HPy_ssize_t n, va_list *ap)
{
    HPy_ssize_t i = 0;
    for (;;) {
        while (is_blank(**pp) || **pp == ',')
            (*pp)++;
        if (**pp == closer)
            break;
        if (i == n) {  /* count_units() and this loop disagree: a bug */
            HPyErr_SetString(ctx, ctx->h_SystemError, "internal error in HPy_BuildValue");
            close_all(ctx, items, i);
            return 0;
        }
        items[i] = build_item(ctx, pp, ap);
        if (HPy_IsNull(items[i])) {
            close_all(ctx, items, i);
            return 0;
        }
        i++;
    }
    if (closer != '\0')
        (*pp)++;
    return 1;
}

static HPy
build_tuple(HPyContext *ctx, const char **pp, char closer, char opener, va_list *ap)
{
    HPy small[16];
    HPy *items = small;
    HPy result = HPy_NULL;
    HPy_ssize_t n = count_units(ctx, *pp, closer, opener);
    if (n < 0)
        return HPy_NULL;
    if (n > (HPy_ssize_t)(sizeof(small) / sizeof(small[0]))) {
        items = (HPy *)malloc((size_t)n * sizeof(HPy));
        if (items == NULL) {
            HPyErr_NoMemory(ctx);
            return HPy_NULL;
        }
    }
    if (build_items(ctx, pp, closer, items, n, ap)) {
        result = HPyTuple_FromArray(ctx, items, n);
        close_all(ctx, items, n);
    }
    if (items != small)
        free(items);
    return result;
}

static HPy
build_list(HPyContext *ctx, const char **pp, va_list *ap)
{
    HPy list;
    if (count_units(ctx, *pp, ']', '[') < 0)
        return HPy_NULL;
    list = HPyList_New(ctx, 0);
    if (HPy_IsNull(list))
        return HPy_NULL;
    for (;;) {
        HPy item;
        int failed;
        while (is_blank(**pp) || **pp == ',')
            (*pp)++;
        if (**pp == ']')
            break;
        item = build_item(ctx, pp, ap);
        if (HPy_IsNull(item)) {
            HPy_Close(ctx, list);
            return HPy_NULL;
        }
        failed = HPyList_Append(ctx, list, item) < 0;
        HPy_Close(ctx, item);
        if (failed) {
            HPy_Close(ctx, list);
            return HPy_NULL;
        }
    }
    (*pp)++;
    return list;
}

static HPy
build_dict(HPyContext *ctx, const char **pp, va_list *ap)
{
    HPy dict;
    if (count_units(ctx, *pp, '}', '{') < 0)
        return HPy_NULL;
    dict = HPyDict_New(ctx);
    if (HPy_IsNull(dict))
        return HPy_NULL;
    for (;;) {
        HPy key, value;
        int failed;
        while (is_blank(**pp))
            (*pp)++;
        if (**pp == '}')
            break;
        if (**pp == ',') {
            HPyErr_SetString(ctx, ctx->h_SystemError, "unexpected ','" BV_SUFFIX);
            goto error;
        }
        key = build_item(ctx, pp, ap);
        if (HPy_IsNull(key))
            goto error;
        while (is_blank(**pp))
            (*pp)++;
        if (**pp != ':') {
            HPy_Close(ctx, key);
            HPyErr_SetString(ctx, ctx->h_SystemError, "missing ':'" BV_SUFFIX);
            goto error;
        }
        (*pp)++;
        while (is_blank(**pp))
            (*pp)++;
        value = build_item(ctx, pp, ap);
        if (HPy_IsNull(value)) {
            HPy_Close(ctx, key);
            goto error;
        }
        failed = HPy_SetItem(ctx, dict, key, value) < 0;
        HPy_Close(ctx, key);
        HPy_Close(ctx, value);
        if (failed)
            goto error;
        while (is_blank(**pp))
            (*pp)++;
        if (**pp == ',')
            (*pp)++;
        else if (**pp != '}') {
            HPyErr_SetString(ctx, ctx->h_SystemError, "missing ','" BV_SUFFIX);
            goto error;
        }
    }
    (*pp)++;
    return dict;

error:
    HPy_Close(ctx, dict);
    return HPy_NULL;
}

static HPy
from_c_string(HPyContext *ctx, const char *s, int as_bytes)
{
    if (s == NULL)
        return HPy_Dup(ctx, ctx->h_None);
    return as_bytes ? HPyBytes_FromString(ctx, s) : HPyUnicode_FromString(ctx, s);
}

static HPy
build_item(HPyContext *ctx, const char **pp, va_list *ap)
{
    char unit = *(*pp)++;
    switch (unit) {
    case '(':
        return build_tuple(ctx, pp, ')', '(', ap);
    case '[':
        return build_list(ctx, pp, ap);
    case '{':
        return build_dict(ctx, pp, ap);
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
    HPy result;
    const char *p = fmt;
    HPy_ssize_t n = count_units(ctx, fmt, '\0', '\0');

    if (n < 0)
        return HPy_NULL;
    if (n == 0)
        return HPy_Dup(ctx, ctx->h_None);
    va_start(ap, fmt);
    if (n == 1) {
        while (is_blank(*p) || *p == ',')
            p++;
        result = build_item(ctx, &p, &ap);
    } else {
        result = build_tuple(ctx, &p, '\0', '\0', &ap);
    }
    va_end(ap);
    return result;
}
