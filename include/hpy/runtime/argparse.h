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

#endif /* HPY_RUNTIME_ARGPARSE_H */
