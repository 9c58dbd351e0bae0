/* HPy_BuildValue, compiled into each extension; included by hpy.h. */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_RUNTIME_BUILDVALUE_H
#define HPY_RUNTIME_BUILDVALUE_H

HPyAPI_HELPER HPy
HPy_BuildValue(HPyContext *ctx, const char *fmt, ...);

#endif /* HPY_RUNTIME_BUILDVALUE_H */
