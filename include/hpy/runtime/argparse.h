/* Argument parsing helpers (HPyArg_Parse & co), compiled into each extension.
 * Included by hpy.h; see hpy_build/src/helpers/argparse.c for the format codes.
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

#endif /* inline HPyArg_Parse */

#endif /* HPY_RUNTIME_ARGPARSE_H */
