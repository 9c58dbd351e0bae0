/* Conveniences built on the context API; the same in every ABI. */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_INLINE_HELPERS_H
#define HPY_INLINE_HELPERS_H

#include <errno.h>

HPyAPI_INLINE_HELPER HPy HPyErr_SetFromErrno(HPyContext *ctx, HPy h_type)
{
    return HPyErr_SetFromErrnoWithFilenameObjects(ctx, h_type, HPy_NULL, HPy_NULL);
}

HPyAPI_INLINE_HELPER HPy
HPyErr_SetFromErrnoWithFilenameObject(HPyContext *ctx, HPy h_type, HPy filename)
{
    return HPyErr_SetFromErrnoWithFilenameObjects(ctx, h_type, filename, HPy_NULL);
}

HPyAPI_INLINE_HELPER HPy HPyTuple_Pack(HPyContext *ctx, HPy_ssize_t n, ...)
{
    HPy small[8];
    HPy *items = small;
    HPy result;
    HPy_ssize_t i;
    va_list vargs;

    if (n > (HPy_ssize_t)(sizeof(small) / sizeof(small[0]))) {
        items = (HPy *)malloc((size_t)n * sizeof(HPy));
        if (items == NULL)
            return HPyErr_NoMemory(ctx);
    }
    va_start(vargs, n);
    for (i = 0; i < n; i++)
        items[i] = va_arg(vargs, HPy);
    va_end(vargs);
    result = HPyTuple_FromArray(ctx, items, n);
    if (items != small)
        free(items);
    return result;
}

HPyAPI_INLINE_HELPER int HPy_DelAttr(HPyContext *ctx, HPy obj, HPy name)
{
    return HPy_SetAttr(ctx, obj, name, HPy_NULL);
}

HPyAPI_INLINE_HELPER int HPy_DelAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name)
{
    return HPy_SetAttr_s(ctx, obj, utf8_name, HPy_NULL);
}

HPyAPI_INLINE_HELPER HPy HPyLong_FromLong(HPyContext *ctx, long l)
{
    if (sizeof(long) <= sizeof(int32_t))
        return HPyLong_FromInt32_t(ctx, (int32_t)l);
    return HPyLong_FromInt64_t(ctx, (int64_t)l);
}

HPyAPI_INLINE_HELPER HPy HPyLong_FromUnsignedLong(HPyContext *ctx, unsigned long l)
{
    if (sizeof(unsigned long) <= sizeof(uint32_t))
        return HPyLong_FromUInt32_t(ctx, (uint32_t)l);
    return HPyLong_FromUInt64_t(ctx, (uint64_t)l);
}

HPyAPI_INLINE_HELPER HPy HPyLong_FromLongLong(HPyContext *ctx, long long l)
{
    return HPyLong_FromInt64_t(ctx, (int64_t)l);
}

HPyAPI_INLINE_HELPER HPy HPyLong_FromUnsignedLongLong(HPyContext *ctx, unsigned long long l)
{
    return HPyLong_FromUInt64_t(ctx, (uint64_t)l);
}

HPyAPI_INLINE_HELPER long HPyLong_AsLong(HPyContext *ctx, HPy h)
{
    if (sizeof(long) <= sizeof(int32_t))
        return (long)HPyLong_AsInt32_t(ctx, h);
    return (long)HPyLong_AsInt64_t(ctx, h);
}

HPyAPI_INLINE_HELPER unsigned long HPyLong_AsUnsignedLong(HPyContext *ctx, HPy h)
{
    if (sizeof(unsigned long) <= sizeof(uint32_t))
        return (unsigned long)HPyLong_AsUInt32_t(ctx, h);
    return (unsigned long)HPyLong_AsUInt64_t(ctx, h);
}

HPyAPI_INLINE_HELPER unsigned long HPyLong_AsUnsignedLongMask(HPyContext *ctx, HPy h)
{
    if (sizeof(unsigned long) <= sizeof(uint32_t))
        return (unsigned long)HPyLong_AsUInt32_tMask(ctx, h);
    return (unsigned long)HPyLong_AsUInt64_tMask(ctx, h);
}

HPyAPI_INLINE_HELPER long long HPyLong_AsLongLong(HPyContext *ctx, HPy h)
{
    return (long long)HPyLong_AsInt64_t(ctx, h);
}

HPyAPI_INLINE_HELPER unsigned long long HPyLong_AsUnsignedLongLong(HPyContext *ctx, HPy h)
{
    return (unsigned long long)HPyLong_AsUInt64_t(ctx, h);
}

HPyAPI_INLINE_HELPER unsigned long long HPyLong_AsUnsignedLongLongMask(HPyContext *ctx, HPy h)
{
    return (unsigned long long)HPyLong_AsUInt64_tMask(ctx, h);
}

HPyAPI_INLINE_HELPER HPy HPyBool_FromLong(HPyContext *ctx, long v)
{
    return HPyBool_FromBool(ctx, v != 0);
}

/* Clamp slice indices to a sequence of the given length; returns the slice length. */
HPyAPI_INLINE_HELPER HPy_ssize_t
HPySlice_AdjustIndices(HPyContext *ctx, HPy_ssize_t length,
                       HPy_ssize_t *start, HPy_ssize_t *stop, HPy_ssize_t step)
{
    (void)ctx;
    if (*start < 0) {
        *start += length;
        if (*start < 0)
            *start = (step < 0) ? -1 : 0;
    }
    else if (*start >= length) {
        *start = (step < 0) ? length - 1 : length;
    }
    if (*stop < 0) {
        *stop += length;
        if (*stop < 0)
            *stop = (step < 0) ? -1 : 0;
    }
    else if (*stop >= length) {
        *stop = (step < 0) ? length - 1 : length;
    }
    if (step < 0) {
        if (*stop < *start)
            return (*start - *stop - 1) / (-step) + 1;
    }
    else if (*start < *stop) {
        return (*stop - *start - 1) / step + 1;
    }
    return 0;
}

HPyAPI_INLINE_HELPER HPy
HPy_CallMethodTupleDict(HPyContext *ctx, HPy name, HPy receiver, HPy args, HPy kw)
{
    HPy method = HPy_GetAttr(ctx, receiver, name);
    HPy result;
    if (HPy_IsNull(method))
        return HPy_NULL;
    result = HPy_CallTupleDict(ctx, method, args, kw);
    HPy_Close(ctx, method);
    return result;
}

HPyAPI_INLINE_HELPER HPy
HPy_CallMethodTupleDict_s(HPyContext *ctx, const char *utf8_name, HPy receiver, HPy args, HPy kw)
{
    HPy method = HPy_GetAttr_s(ctx, receiver, utf8_name);
    HPy result;
    if (HPy_IsNull(method))
        return HPy_NULL;
    result = HPy_CallTupleDict(ctx, method, args, kw);
    HPy_Close(ctx, method);
    return result;
}

/* ---- capsules: one context member per direction, one helper per field ---- */

#ifdef HPY_ABI_CPYTHON
/* Zero overhead: straight to CPython, no key dispatch. */
HPyAPI_INLINE_HELPER void *HPyCapsule_GetPointer(HPyContext *ctx, HPy capsule, const char *name)
{
    (void)ctx;
    return PyCapsule_GetPointer(_h2py(capsule), name);
}

HPyAPI_INLINE_HELPER const char *HPyCapsule_GetName(HPyContext *ctx, HPy capsule)
{
    (void)ctx;
    return PyCapsule_GetName(_h2py(capsule));
}

HPyAPI_INLINE_HELPER void *HPyCapsule_GetContext(HPyContext *ctx, HPy capsule)
{
    (void)ctx;
    return PyCapsule_GetContext(_h2py(capsule));
}

HPyAPI_INLINE_HELPER int HPyCapsule_SetPointer(HPyContext *ctx, HPy capsule, void *pointer)
{
    (void)ctx;
    return PyCapsule_SetPointer(_h2py(capsule), pointer);
}

HPyAPI_INLINE_HELPER int HPyCapsule_SetName(HPyContext *ctx, HPy capsule, const char *name)
{
    (void)ctx;
    return PyCapsule_SetName(_h2py(capsule), name);
}

HPyAPI_INLINE_HELPER int HPyCapsule_SetContext(HPyContext *ctx, HPy capsule, void *context)
{
    (void)ctx;
    return PyCapsule_SetContext(_h2py(capsule), context);
}
#else
HPyAPI_INLINE_HELPER void *HPyCapsule_GetPointer(HPyContext *ctx, HPy capsule, const char *name)
{
    return HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Pointer, name);
}

HPyAPI_INLINE_HELPER const char *HPyCapsule_GetName(HPyContext *ctx, HPy capsule)
{
    return (const char *)HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Name, NULL);
}

HPyAPI_INLINE_HELPER void *HPyCapsule_GetContext(HPyContext *ctx, HPy capsule)
{
    return HPyCapsule_Get(ctx, capsule, HPyCapsule_key_Context, NULL);
}

HPyAPI_INLINE_HELPER int HPyCapsule_SetPointer(HPyContext *ctx, HPy capsule, void *pointer)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Pointer, pointer);
}

HPyAPI_INLINE_HELPER int HPyCapsule_SetName(HPyContext *ctx, HPy capsule, const char *name)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Name, (void *)name);
}

HPyAPI_INLINE_HELPER int HPyCapsule_SetContext(HPyContext *ctx, HPy capsule, void *context)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Context, context);
}
#endif

/* Checks the destructor in every ABI, so it is not a plain CPython call. */
HPyAPI_INLINE_HELPER int
HPyCapsule_SetDestructor(HPyContext *ctx, HPy capsule, HPyCapsule_Destructor *destructor)
{
    return HPyCapsule_Set(ctx, capsule, HPyCapsule_key_Destructor, (void *)destructor);
}

#endif /* HPY_INLINE_HELPERS_H */
