/* Custom types: the spec structs are ABI (HPy 0.9.0). A pure HPy type's
 * struct follows the built-in base's struct (TYPE_AsStruct finds it); a
 * legacy type's struct starts with PyObject_HEAD. */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_HPYTYPE_H
#define HPY_HPYTYPE_H

typedef struct {
    const char *name;
    int basicsize;
    int itemsize;
    unsigned long flags;
    HPyType_BuiltinShape builtin_shape;
    void *legacy_slots;   /* a PyType_Slot array, for legacy types */
    HPyDef **defines;     /* NULL-terminated */
    const char *doc;
} HPyType_Spec;

typedef struct {
    HPyType_SpecParam_Kind kind;
    HPy object;
} HPyType_SpecParam;

/* Declared by HPy 0.9 but used by none of its API; kept for source compatibility. */
typedef struct {
    cpy_vectorcallfunc cpy_trampoline;
    HPyCallFunction impl;
} HPyType_Vectorcall;

#define HPy_TPFLAGS_DEFAULT ((1UL << 9) | (1UL << 18))
#define HPy_TPFLAGS_BASETYPE (1UL << 10)
#define HPy_TPFLAGS_HAVE_VECTORCALL (1UL << 11)
#define HPy_TPFLAGS_HAVE_GC (1UL << 14)

#define HPyType_BuiltinShape_Legacy_AsStruct _HPy_AsStruct_Legacy
#define HPyType_BuiltinShape_Object_AsStruct _HPy_AsStruct_Object
#define HPyType_BuiltinShape_Type_AsStruct _HPy_AsStruct_Type
#define HPyType_BuiltinShape_Long_AsStruct _HPy_AsStruct_Long
#define HPyType_BuiltinShape_Float_AsStruct _HPy_AsStruct_Float
#define HPyType_BuiltinShape_Unicode_AsStruct _HPy_AsStruct_Unicode
#define HPyType_BuiltinShape_Tuple_AsStruct _HPy_AsStruct_Tuple
#define HPyType_BuiltinShape_List_AsStruct _HPy_AsStruct_List

/* HPyType_HELPERS(TYPE[, SHAPE]) defines TYPE_AsStruct and TYPE_SHAPE. */
#define _HPyType_HELPERS_PICK(_1, _2, NAME, ...) NAME
#define HPyType_HELPERS(...) \
    _HPyType_HELPERS_PICK(__VA_ARGS__, _HPyType_HELPERS2, _HPyType_HELPERS1, )(__VA_ARGS__)
#define _HPyType_HELPERS1(TYPE) _HPyType_HELPERS2(TYPE, HPyType_BuiltinShape_Object)
#define _HPyType_HELPERS2(TYPE, SHAPE)                                  \
    enum { TYPE##_SHAPE = (int)SHAPE };                                 \
    HPyAPI_FUNC TYPE *TYPE##_AsStruct(HPyContext *ctx, HPy h)           \
    {                                                                   \
        return (TYPE *)SHAPE##_AsStruct(ctx, h);                        \
    }
#define HPyType_LEGACY_HELPERS(TYPE) HPyType_HELPERS(TYPE, HPyType_BuiltinShape_Legacy)

#endif /* HPY_HPYTYPE_H */
