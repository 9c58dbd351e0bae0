/* Universal trampolines that are not generated from an argument struct. */
#ifndef HPY_UNIVERSAL_HPYFUNC_TRAMPOLINES_H
#define HPY_UNIVERSAL_HPYFUNC_TRAMPOLINES_H

/* tp_destroy is called by the runtime's own dealloc, never by CPython. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTROYFUNC(SYM, IMPL) \
    static void SYM(void) { abort(); }

/* The runtime receives the capsule itself in place of an argument struct. */
#define HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM, IMPL)                         \
    static void SYM(cpy_PyObject *capsule)                                  \
    {                                                                       \
        _HPy_CallRealFunctionFromTrampoline(_ctx_for_trampolines,           \
            HPyFunc_CAPSULE_DESTRUCTOR, (HPyCFunction)IMPL, capsule);       \
    }

#endif /* HPY_UNIVERSAL_HPYFUNC_TRAMPOLINES_H */
