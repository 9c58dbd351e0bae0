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
 * format it does not know, goes to the general walk (_HPyArg_ParseArray),
 * which raises what HPyArg_Parse raises; conversions other than 'O' run
 * through the same converter as the general walk, only after the count was
 * checked. C only (GNU extensions); C++ and `&HPyArg_Parse` get the function.
 * Define _HPY_NO_INLINE_ARGPARSE to always call the function. */
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

/* `outs` holds the format then one output pointer per unit. */
_HPy_UNUSED static inline __attribute__((always_inline)) int
_HPyArg_ParseInline(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
                    size_t fmt_size, const void *const *outs, size_t n_outs)
{
    const char *fmt = (const char *)outs[0];
    size_t k, i, n_units = 0, n_required = (size_t)-1;
    int converts = 0;

    size_t fmt_len = fmt_size - 1;

    if (fmt_size == 0)
        goto general;
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
                goto general;
            }
        }
        n_units++;
    }
    if (n_required == (size_t)-1)
        n_required = n_units;
    if (n_units != n_outs || nargs < n_required || nargs > n_units)
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
    return _HPyArg_ParseArray(ctx, ht, args, nargs, fmt, outs + 1, n_outs);
}

#endif /* inline HPyArg_Parse */

#endif /* HPY_RUNTIME_ARGPARSE_H */
