/* Internal interface of the universal runtime for CPython (hpy_build._universal). */
#ifndef HPY_BUILD_UNIVERSAL_H
#define HPY_BUILD_UNIVERSAL_H

#include "hpy.h"
#include "hpy_debug.h"

void _hpy_universal_fill_ctx(HPyContext *ctx);
HPyContext *_hpy_universal_ctx(void);
int _hpy_trace_add_module(PyObject *universal);
int _hpy_call_positional(HPyContext *ctx, HPyFunc_Signature sig, HPyCFunction func, void *args);
void ctx_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig,
                                        HPyCFunction func, void *args);

#endif
