/* Convenience helpers compiled into each extension; included by hpy.h. */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_RUNTIME_HELPERS_H
#define HPY_RUNTIME_HELPERS_H

HPyAPI_HELPER int
HPyHelpers_AddType(HPyContext *ctx, HPy obj, const char *name,
                   HPyType_Spec *hpyspec, HPyType_SpecParam *params);

HPyAPI_HELPER int
HPyHelpers_PackArgsAndKeywords(HPyContext *ctx, const HPy *args, size_t nargs,
                               HPy kwnames, HPy *out_pos_args, HPy *out_kwd);

#endif /* HPY_RUNTIME_HELPERS_H */
