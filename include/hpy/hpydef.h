/* HPyDef: the declarative description of methods, slots, members and
 * get-sets. Struct layouts are ABI (HPy 0.9.0). */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_HPYDEF_H
#define HPY_HPYDEF_H

/* void (*)(void) is the function type compilers let any function cast to and
 * from without a warning; only the bits matter to the ABI. */
typedef void (*HPyCFunction)(void);
#define _HPy_CPY_TRAMPOLINE(SYM) ((cpy_PyCFunction)(HPyCFunction)(SYM))
typedef void (*HPyFunc_Capsule_Destructor)(const char *name, void *pointer, void *context);

typedef struct {
    HPySlot_Slot slot;
    HPyCFunction impl;
    cpy_PyCFunction cpy_trampoline;
} HPySlot;

typedef struct {
    const char *name;
    HPyCFunction impl;
    cpy_PyCFunction cpy_trampoline;
    HPyFunc_Signature signature;
    const char *doc;
} HPyMeth;

typedef struct {
    const char *name;
    HPyMember_FieldType type;
    HPy_ssize_t offset;
    int readonly;
    const char *doc;
} HPyMember;

typedef struct {
    const char *name;
    HPyCFunction getter_impl;
    HPyCFunction setter_impl;
    cpy_getter getter_cpy_trampoline;
    cpy_setter setter_cpy_trampoline;
    const char *doc;
    void *closure;
} HPyGetSet;

typedef struct {
    HPyDef_Kind kind;
    union {
        HPySlot slot;
        HPyMeth meth;
        HPyMember member;
        HPyGetSet getset;
    };
} HPyDef;

typedef struct {
    cpy_PyCapsule_Destructor cpy_trampoline;
    HPyFunc_Capsule_Destructor impl;
} HPyCapsule_Destructor;

typedef struct {
    cpy_vectorcallfunc cpy_trampoline;
    HPyFunc_keywords impl;
} HPyCallFunction;

#define HPySlot_SIG(SLOT) _HPySlot_SIG__##SLOT

/* The optional fields (.doc, .readonly, .closure) may be left out: C++'s
 * -Wextra would warn where C does not. */
#if defined(__cplusplus) && defined(__GNUC__)
#  define _HPyDef_OPTIONAL_BEGIN                                            \
    _Pragma("GCC diagnostic push")                                          \
    _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")
#  define _HPyDef_OPTIONAL_END _Pragma("GCC diagnostic pop")
#else
#  define _HPyDef_OPTIONAL_BEGIN
#  define _HPyDef_OPTIONAL_END
#endif

#define HPyDef_SLOT_IMPL(SYM, IMPL, SLOT)                               \
    enum { SYM##_slot = SLOT };                                         \
    _HPyDef_SLOT(SYM, IMPL, SLOT, HPySlot_SIG(SLOT))

#define HPyDef_SLOT(SYM, SLOT) HPyDef_SLOT_IMPL(SYM, SYM##_impl, SLOT)

#define _HPyDef_SLOT(SYM, IMPL, SLOT, SIG)                             \
    HPyFunc_DECLARE(IMPL, SIG);                                         \
    HPyFunc_TRAMPOLINE(SYM##_trampoline, IMPL, SIG)                     \
    HPyDef SYM = {                                                      \
        .kind = HPyDef_Kind_Slot,                                       \
        .slot = {                                                       \
            .slot = SLOT,                                               \
            .impl = (HPyCFunction)IMPL,                                 \
            .cpy_trampoline = _HPy_CPY_TRAMPOLINE(SYM##_trampoline)         \
        }                                                               \
    };

#define HPyDef_METH_IMPL(SYM, NAME, IMPL, SIG, ...)                     \
    HPyFunc_DECLARE(IMPL, SIG);                                         \
    HPyFunc_TRAMPOLINE(SYM##_trampoline, IMPL, SIG)                     \
    _HPyDef_OPTIONAL_BEGIN                                              \
    HPyDef SYM = {                                                      \
        .kind = HPyDef_Kind_Meth,                                       \
        .meth = {                                                       \
            .name = NAME,                                               \
            .impl = (HPyCFunction)IMPL,                                 \
            .cpy_trampoline = _HPy_CPY_TRAMPOLINE(SYM##_trampoline),        \
            .signature = SIG,                                           \
            __VA_ARGS__                                                 \
        }                                                               \
    };                                                                  \
    _HPyDef_OPTIONAL_END

#define HPyDef_METH(SYM, NAME, SIG, ...) \
    HPyDef_METH_IMPL(SYM, NAME, SYM##_impl, SIG, __VA_ARGS__)

#define HPyDef_MEMBER(SYM, NAME, TYPE, OFFSET, ...)                     \
    _HPyDef_OPTIONAL_BEGIN                                              \
    HPyDef SYM = {                                                      \
        .kind = HPyDef_Kind_Member,                                     \
        .member = {                                                     \
            .name = NAME,                                               \
            .type = TYPE,                                               \
            .offset = OFFSET,                                           \
            __VA_ARGS__                                                 \
        }                                                               \
    };                                                                  \
    _HPyDef_OPTIONAL_END

#define HPyDef_GET_IMPL(SYM, NAME, GETIMPL, ...)                        \
    HPyFunc_DECLARE(GETIMPL, HPyFunc_GETTER);                           \
    HPyFunc_TRAMPOLINE(SYM##_get_trampoline, GETIMPL, HPyFunc_GETTER)   \
    _HPyDef_OPTIONAL_BEGIN                                              \
    HPyDef SYM = {                                                      \
        .kind = HPyDef_Kind_GetSet,                                     \
        .getset = {                                                     \
            .name = NAME,                                               \
            .getter_impl = (HPyCFunction)GETIMPL,                       \
            .getter_cpy_trampoline = (cpy_getter)SYM##_get_trampoline,  \
            __VA_ARGS__                                                 \
        }                                                               \
    };                                                                  \
    _HPyDef_OPTIONAL_END

#define HPyDef_GET(SYM, NAME, ...) HPyDef_GET_IMPL(SYM, NAME, SYM##_get, __VA_ARGS__)

#define HPyDef_SET_IMPL(SYM, NAME, SETIMPL, ...)                        \
    HPyFunc_DECLARE(SETIMPL, HPyFunc_SETTER);                           \
    HPyFunc_TRAMPOLINE(SYM##_set_trampoline, SETIMPL, HPyFunc_SETTER)   \
    _HPyDef_OPTIONAL_BEGIN                                              \
    HPyDef SYM = {                                                      \
        .kind = HPyDef_Kind_GetSet,                                     \
        .getset = {                                                     \
            .name = NAME,                                               \
            .setter_impl = (HPyCFunction)SETIMPL,                       \
            .setter_cpy_trampoline = (cpy_setter)SYM##_set_trampoline,  \
            __VA_ARGS__                                                 \
        }                                                               \
    };                                                                  \
    _HPyDef_OPTIONAL_END

#define HPyDef_SET(SYM, NAME, ...) HPyDef_SET_IMPL(SYM, NAME, SYM##_set, __VA_ARGS__)

#define HPyDef_GETSET_IMPL(SYM, NAME, GETIMPL, SETIMPL, ...)            \
    HPyFunc_DECLARE(GETIMPL, HPyFunc_GETTER);                           \
    HPyFunc_TRAMPOLINE(SYM##_get_trampoline, GETIMPL, HPyFunc_GETTER)   \
    HPyFunc_DECLARE(SETIMPL, HPyFunc_SETTER);                           \
    HPyFunc_TRAMPOLINE(SYM##_set_trampoline, SETIMPL, HPyFunc_SETTER)   \
    _HPyDef_OPTIONAL_BEGIN                                              \
    HPyDef SYM = {                                                      \
        .kind = HPyDef_Kind_GetSet,                                     \
        .getset = {                                                     \
            .name = NAME,                                               \
            .getter_impl = (HPyCFunction)GETIMPL,                       \
            .setter_impl = (HPyCFunction)SETIMPL,                       \
            .getter_cpy_trampoline = (cpy_getter)SYM##_get_trampoline,  \
            .setter_cpy_trampoline = (cpy_setter)SYM##_set_trampoline,  \
            __VA_ARGS__                                                 \
        }                                                               \
    };                                                                  \
    _HPyDef_OPTIONAL_END

#define HPyDef_GETSET(SYM, NAME, ...) \
    HPyDef_GETSET_IMPL(SYM, NAME, SYM##_get, SYM##_set, __VA_ARGS__)

#define HPyCapsule_DESTRUCTOR(SYM)                                          \
    static void SYM##_impl(const char *name, void *pointer, void *context); \
    HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM##_trampoline, SYM##_impl)          \
    static HPyCapsule_Destructor SYM = {                                    \
        .cpy_trampoline = SYM##_trampoline,                                 \
        .impl = SYM##_impl                                                  \
    };

#define HPyDef_CALL_FUNCTION(SYM)                                           \
    HPyFunc_DECLARE(SYM##_impl, HPyFunc_KEYWORDS);                          \
    HPyFunc_TRAMPOLINE(SYM##_trampoline, SYM##_impl, HPyFunc_KEYWORDS)      \
    static HPyCallFunction SYM = {                                          \
        .cpy_trampoline = (cpy_vectorcallfunc)(HPyCFunction)SYM##_trampoline,             \
        .impl = SYM##_impl                                                  \
    };

#endif /* HPY_HPYDEF_H */
