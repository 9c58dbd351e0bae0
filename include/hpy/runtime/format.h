/* printf-style string building, compiled into each extension; included by
 * hpy.h. Handle units (%U %S %R %A %V) take HPy arguments, not PyObject*.
 */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_RUNTIME_FORMAT_H
#define HPY_RUNTIME_FORMAT_H

HPyAPI_HELPER HPy
HPyUnicode_FromFormat(HPyContext *ctx, const char *fmt, ...);

HPyAPI_HELPER HPy
HPyUnicode_FromFormatV(HPyContext *ctx, const char *fmt, va_list vargs);

/* Always returns HPy_NULL so that "return HPyErr_Format(...);" works. */
HPyAPI_HELPER HPy
HPyErr_Format(HPyContext *ctx, HPy h_type, const char *fmt, ...);

#endif /* HPY_RUNTIME_FORMAT_H */
