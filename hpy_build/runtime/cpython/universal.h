/* Internal interface of the universal runtime for CPython (hpy_build._universal). */
#ifndef HPY_BUILD_UNIVERSAL_H
#define HPY_BUILD_UNIVERSAL_H

#include "hpy.h"
#include "hpy_debug.h"

void _hpy_universal_fill_ctx(HPyContext *ctx);
HPyContext *_hpy_universal_ctx(void);
int _hpy_trace_add_module(PyObject *universal);

/* How a trampoline's call reaches the impl, per signature (autogen_signature_calls.c);
   NULL where hpy0 has no trampoline of that signature. */
typedef void (*_hpy_signature_call)(HPyContext *ctx, HPyCFunction func, void *args);
#define _HPY_SIGNATURE_COUNT (HPyFunc_MOD_CREATE + 1) /* the last signature of hpy0 */
extern const _hpy_signature_call _hpy_signature_calls[_HPY_SIGNATURE_COUNT]
    __attribute__((visibility("hidden")));
#define _HPY_HAND_WRITTEN_CALL(NAME) \
    void _hpy_call_##NAME(HPyContext *ctx, HPyCFunction func, void *args)
_HPY_HAND_WRITTEN_CALL(NOARGS);
_HPY_HAND_WRITTEN_CALL(O);
_HPY_HAND_WRITTEN_CALL(VARARGS);
_HPY_HAND_WRITTEN_CALL(KEYWORDS);
_HPY_HAND_WRITTEN_CALL(RICHCMPFUNC);
_HPY_HAND_WRITTEN_CALL(INITPROC);
_HPY_HAND_WRITTEN_CALL(NEWFUNC);
_HPY_HAND_WRITTEN_CALL(GETBUFFERPROC);
_HPY_HAND_WRITTEN_CALL(RELEASEBUFFERPROC);
_HPY_HAND_WRITTEN_CALL(TRAVERSEPROC);
_HPY_HAND_WRITTEN_CALL(CAPSULE_DESTRUCTOR);
_HPY_HAND_WRITTEN_CALL(MOD_CREATE);
void ctx_CallRealFunctionFromTrampoline(HPyContext *ctx, HPyFunc_Signature sig,
                                        HPyCFunction func, void *args);

#endif
