/* Argument parsing helpers (HPyArg_Parse & co), compiled into each extension.
 * Included by hpy.h; see hpy_build/helpers/argparse.c for the format codes.
 */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_RUNTIME_ARGPARSE_H
#define HPY_RUNTIME_ARGPARSE_H

HPyAPI_HELPER int
HPyArg_Parse(HPyContext *ctx, HPyTracker *ht, const HPy *args,
             size_t nargs, const char *fmt, ...);

HPyAPI_HELPER int
HPyArg_ParseKeywords(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                     size_t nargs, HPy kwnames, const char *fmt,
                     const char *keywords[], ...);

/* An 's' value fetched from `kw` lives until the tracker is closed; without
 * a tracker, `kw` must be an exact dict (else SystemError) and the string
 * lives as long as the dict holds it. */
HPyAPI_HELPER int
HPyArg_ParseKeywordsDict(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                         HPy_ssize_t nargs, HPy kw, const char *fmt,
                         const char *keywords[], ...);

/* Internal entries of the inline parser below (hpy_build/helpers/argparse.c). */
HPyAPI_HELPER int
_HPyArg_ConvertUnit(HPyContext *ctx, const char *fmt, char unit, HPy arg, void *out);
HPyAPI_HELPER int
_HPyArg_ParseArray(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                   const char *fmt, const void *const *outputs, size_t n_outputs);
HPyAPI_HELPER int
_HPyArg_ParseKeywordsArray(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                           size_t nargs, HPy kwnames, const char *fmt,
                           const char *keywords[], const void *const *outputs,
                           size_t n_outputs);

/* HPyArg_Parse with a string-literal format: the format is walked by an
 * always-inline parser whose loops have a constant trip count, so the
 * compiler folds the walk away and 'O' becomes a store. Every error, and any
 * format it does not know, goes to the general walk (the function itself),
 * which raises what it always raises; conversions other than 'O' run through
 * the same converter as the general walk, only once the count was checked.
 * A format in a variable goes to the same walk through an array of the
 * outputs, which also catches too few output pointers. C only (GNU
 * extensions); C++ and `&HPyArg_Parse` get the function. Define
 * _HPY_NO_INLINE_ARGPARSE to always call the function. */
#if defined(__GNUC__) && !defined(__cplusplus) && !defined(_HPY_NO_INLINE_ARGPARSE)

#if defined(__clang__)
#  define _HPyArg_UNROLL _Pragma("clang loop unroll(full)")
#elif __GNUC__ >= 8
#  define _HPyArg_UNROLL _Pragma("GCC unroll 64")
#else
#  define _HPyArg_UNROLL
#endif

#define _HPyArg_FIRST(first, ...) first
/* the size of a char array format, 0 for a pointer (not walked inline) */
#define _HPyArg_LITERAL_SIZE(fmt)                                             \
    (__builtin_types_compatible_p(__typeof__(fmt), char[sizeof(fmt)])        \
     ? sizeof(fmt) : 0)

#define HPyArg_Parse(ctx, ht, args, nargs, ...)                               \
    _HPyArg_ParseInline((ctx), (ht), (args), (nargs),                         \
        _HPyArg_LITERAL_SIZE(_HPyArg_FIRST(__VA_ARGS__, 0)),                   \
        (const void *const[]){ __VA_ARGS__ },                                 \
        sizeof((const void *const[]){ __VA_ARGS__ }) / sizeof(const void *) - 1)

/* The general walk for the inline parser: the outputs are handed on as
 * varargs read out of `o` (the general walk reads them all as void *), so
 * the array need not live in memory on the inline path; n is a constant, so
 * one case is left. Very long formats take the array itself. */
_HPy_UNUSED static inline __attribute__((always_inline)) int
_HPyArg_ParseGeneral(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                     const void *const *o, size_t n)
{
    const char *fmt = (const char *)o[0];
    switch (n) {
    case 0: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt);
    case 1: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1]);
    case 2: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2]);
    case 3: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3]);
    case 4: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4]);
    case 5: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5]);
    case 6: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5], o[6]);
    case 7: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
    case 8: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8]);
    case 9: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9]);
    case 10: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10]);
    case 11: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11]);
    case 12: return (HPyArg_Parse)(ctx, ht, args, nargs, fmt, o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12]);
    default: return _HPyArg_ParseArray(ctx, ht, args, nargs, fmt, o + 1, n);
    }
}

/* `outs` holds the format then one output pointer per unit. */
_HPy_UNUSED static inline __attribute__((always_inline)) int
_HPyArg_ParseInline(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                    size_t fmt_size, const void *const *outs, size_t n_outs)
{
    const char *fmt = (const char *)outs[0];
    size_t k, i, n_units = 0, n_required = (size_t)-1;
    size_t fmt_len = fmt_size - 1;
    int converts = 0, unknown = 0;

    if (fmt_size == 0)   /* not a literal: the array walk can count the outputs */
        return _HPyArg_ParseArray(ctx, ht, args, nargs, fmt, outs + 1, n_outs);
    _HPyArg_UNROLL
    for (k = 0; k < fmt_len; k++) {
        char c = fmt[k];
        if (c == '\0' || c == ':' || c == ';')
            break;
        if (c == '|') {
            if (n_required == (size_t)-1)
                n_required = n_units;
            continue;
        }
        if (c != 'O') {
            switch (c) {
            case 'b': case 'B': case 'h': case 'H': case 'i': case 'I':
            case 'l': case 'k': case 'L': case 'K': case 'n': case 'f':
            case 'd': case 'p': case 's':
                converts = 1;
                break;
            default:
                unknown = 1;
                break;
            }
            if (unknown)
                break;
        }
        n_units++;
    }
    if (n_required == (size_t)-1)
        n_required = n_units;
    if (n_outs < n_units)   /* the varargs would be overrun: the array says so */
        return _HPyArg_ParseArray(ctx, ht, args, nargs, fmt, outs + 1, n_outs);
    if (unknown || n_units != n_outs || nargs < n_required || nargs > n_units)
        goto general;

    /* as the general walk: every 'O' first, then the tracker, then the
     * conversions in order */
    i = 0;
    _HPyArg_UNROLL
    for (k = 0; k < fmt_len; k++) {
        char c = fmt[k];
        if (c == '\0' || c == ':' || c == ';')
            break;
        if (c == '|')
            continue;
        if (c == 'O' && i < nargs)
            *(HPy *)outs[1 + i] = args[i];
        i++;
    }
    if (ht != NULL) {
        *ht = HPyTracker_New(ctx, 0);
        if (HPy_IsNull(*ht))
            return 0;
    }
    if (converts) {
        i = 0;
        _HPyArg_UNROLL
        for (k = 0; k < fmt_len; k++) {
            char c = fmt[k];
            if (c == '\0' || c == ':' || c == ';')
                break;
            if (c == '|')
                continue;
            if (c != 'O' && i < nargs
                    && !_HPyArg_ConvertUnit(ctx, fmt, c, args[i], (void *)outs[1 + i])) {
                if (ht != NULL)
                    HPyTracker_Close(ctx, *ht);
                return 0;
            }
            i++;
        }
    }
    return 1;

general:
    return _HPyArg_ParseGeneral(ctx, ht, args, nargs, outs, n_outs);
}


#define HPyArg_ParseKeywords(ctx, ht, args, nargs, kwnames, ...)              \
    _HPyArg_ParseKeywordsInline((ctx), (ht), (args), (nargs), (kwnames),      \
        _HPyArg_LITERAL_SIZE(_HPyArg_FIRST(__VA_ARGS__, 0)),                   \
        (const void *const[]){ __VA_ARGS__ },                                 \
        sizeof((const void *const[]){ __VA_ARGS__ }) / sizeof(const void *) - 2)

/* As _HPyArg_ParseGeneral, for the keywords: o[0] is the format, o[1] the
 * keyword names, then the n outputs. */
_HPy_UNUSED static inline __attribute__((always_inline)) int
_HPyArg_ParseKeywordsGeneral(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                             size_t nargs, HPy kwnames, const void *const *o, size_t n)
{
    const char *fmt = (const char *)o[0];
    const char **keywords = (const char **)o[1];
    switch (n) {
    case 0: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords);
    case 1: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2]);
    case 2: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3]);
    case 3: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4]);
    case 4: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5]);
    case 5: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6]);
    case 6: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6], o[7]);
    case 7: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6], o[7], o[8]);
    case 8: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9]);
    case 9: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10]);
    case 10: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11]);
    case 11: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12]);
    case 12: return (HPyArg_ParseKeywords)(ctx, ht, args, nargs, kwnames, fmt, keywords, o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12], o[13]);
    default: return _HPyArg_ParseKeywordsArray(ctx, ht, args, nargs, kwnames, fmt,
                                               keywords, o + 2, n);
    }
}

/* The CPython ABI reads the interpreter's kwnames tuple directly. */
#if defined(HPY_ABI_CPYTHON) && !defined(PYPY_VERSION) && !defined(Py_LIMITED_API)
#  define _HPyArg_CPY_TUPLE 1
#else
#  define _HPyArg_CPY_TUPLE 0
#endif

/* The most units the inline keyword parser takes (its values live on the stack). */
#define _HPyArg_KW_INLINE_MAX 16

/* HPyArg_ParseKeywords with a literal format of 'O' units ('|' and '$'
 * allowed): the format folds away as for HPyArg_Parse; at run time the
 * keyword list is checked, each keyword name is read once and matched to a
 * unit, then the tracker gets a new handle per output, as in the general walk
 * (HPy 0.9's semantics). Anything unusual (no tracker, other units, a name
 * that matches nothing, a missing argument, too many) takes the general walk
 * before anything was stored, which reports it. */
_HPy_UNUSED static inline __attribute__((always_inline)) int
_HPyArg_ParseKeywordsInline(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                            size_t nargs, HPy kwnames, size_t fmt_size,
                            const void *const *outs, size_t n_outs)
{
    const char *fmt = (const char *)outs[0];
    const char **keywords = (const char **)outs[1];
    size_t fmt_len = fmt_size - 1;
    size_t k, u, n_units = 0, n_required = (size_t)-1, max_positional = (size_t)-1;
    HPy values[_HPyArg_KW_INLINE_MAX];
    HPy_ssize_t j, n_kw = 0;
    int plain = 1;

    if (fmt_size == 0)
        return _HPyArg_ParseKeywordsArray(ctx, ht, args, nargs, kwnames, fmt,
                                          keywords, outs + 2, n_outs);
    _HPyArg_UNROLL
    for (k = 0; k < fmt_len; k++) {
        char c = fmt[k];
        if (c == '\0' || c == ':' || c == ';')
            break;
        if (c == '|' || c == '$') {
            if (n_required == (size_t)-1)
                n_required = n_units;
            if (c == '$' && max_positional == (size_t)-1)
                max_positional = n_units;
            continue;
        }
        if (c != 'O') {
            plain = 0;
            break;
        }
        n_units++;
    }
    if (n_required == (size_t)-1)
        n_required = n_units;
    if (max_positional == (size_t)-1)
        max_positional = n_units;
    if (!plain || ht == NULL || n_units != n_outs || n_units > _HPyArg_KW_INLINE_MAX
            || nargs > max_positional)
        goto general;

    /* the names: positional-only ("") first, exactly one per unit; a list
     * that is too short ends at its NULL before an index past it is read
     * (the asm hides the list's size, which the compiler would otherwise
     * hold against keywords[n_units] on a path it cannot rule out) */
    __asm__("" : "+r"(keywords));
    for (u = 0; u < _HPyArg_KW_INLINE_MAX && u < n_units; u++) {
        if (keywords[u] == NULL
                || (keywords[u][0] == '\0' && u > 0 && keywords[u - 1][0] != '\0'))
            goto general;
        values[u] = u < nargs ? args[u] : HPy_NULL;
    }
    if (keywords[n_units] != NULL)
        goto general;

    if (!HPy_IsNull(kwnames)) {
#if _HPyArg_CPY_TUPLE
        if (PyTuple_CheckExact(_h2py(kwnames)))
            n_kw = PyTuple_GET_SIZE(_h2py(kwnames));
        else
#endif
        n_kw = HPy_Length(ctx, kwnames);
        if (n_kw < 0)
            return 0;   /* as the general walk, before any tracker */
        if (nargs + (size_t)n_kw > n_units)
            goto general;
    }
    for (j = 0; j < n_kw; j++) {
        HPy_ssize_t size = 0;
        HPy name = HPy_NULL;
        const char *utf8 = NULL;
        int matched = 0;
#if _HPyArg_CPY_TUPLE
        /* the interpreter's kwnames: a tuple of (interned) ASCII str, whose
         * text is read in place, with no call and no reference */
        if (PyTuple_CheckExact(_h2py(kwnames))) {
            PyObject *o = PyTuple_GET_ITEM(_h2py(kwnames), j);
            if (PyUnicode_CheckExact(o) && PyUnicode_IS_COMPACT_ASCII(o)) {
                utf8 = (const char *)PyUnicode_DATA(o);
                size = PyUnicode_GET_LENGTH(o);
            }
        }
        if (utf8 == NULL)
#endif
        {
            name = HPy_GetItem_i(ctx, kwnames, j);
            if (HPy_IsNull(name))
                return 0;   /* (a tuple's item cannot fail: a broken kwnames) */
            utf8 = HPyUnicode_AsUTF8AndSize(ctx, name, &size);
            if (utf8 == NULL) {
                /* not a str: the general walk raises it at its point */
                HPyErr_Clear(ctx);
                HPy_Close(ctx, name);
                goto general;
            }
        }
        for (u = nargs; u < n_units; u++) {
            const char *key = keywords[u];
            size_t m;
            if (!HPy_IsNull(values[u]) || key[0] != utf8[0] || key[0] == '\0')
                continue;
            for (m = 1; m < (size_t)size && key[m] != '\0' && key[m] == utf8[m]; m++)
                ;
            if (m == (size_t)size && key[m] == '\0') {
                values[u] = args[nargs + (size_t)j];
                matched = 1;
                break;
            }
        }
        if (!HPy_IsNull(name))
            HPy_Close(ctx, name);
        if (!matched)
            goto general;
    }
    for (u = 0; u < _HPyArg_KW_INLINE_MAX && u < n_required; u++) {
        if (HPy_IsNull(values[u]))
            goto general;
    }

    *ht = HPyTracker_New(ctx, 0);
    if (HPy_IsNull(*ht))
        return 0;
    for (u = 0; u < _HPyArg_KW_INLINE_MAX && u < n_units; u++) {
        HPy h;
        if (HPy_IsNull(values[u]))
            continue;
        h = HPy_Dup(ctx, values[u]);
        if (HPyTracker_Add(ctx, *ht, h) < 0) {
            HPy_Close(ctx, h);
            HPyTracker_Close(ctx, *ht);
            return 0;
        }
        *(HPy *)outs[2 + u] = h;
    }
    return 1;

general:
    return _HPyArg_ParseKeywordsGeneral(ctx, ht, args, nargs, kwnames, outs, n_outs);
}

#endif /* inline HPyArg_Parse, HPyArg_ParseKeywords */

#endif /* HPY_RUNTIME_ARGPARSE_H */
