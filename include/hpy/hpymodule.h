/* Module definition and the entry points a module binary exports. */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_HPYMODULE_H
#define HPY_HPYMODULE_H

typedef struct {
    const char *doc;
    HPy_ssize_t size;                 /* module state is not supported: must be 0 */
    cpy_PyMethodDef *legacy_methods;  /* NULL-terminated; cpython and hybrid ABI only */
    HPyDef **defines;                 /* NULL-terminated */
    HPyGlobal **globals;              /* NULL-terminated */
} HPyModuleDef;

#ifdef HPY_ABI_CPYTHON

/* Multi-phase init: CPython creates the module from the returned def. The
 * declaration exports PyInit_ where PyMODINIT_FUNC does not (CPython 3.8). */
#define HPy_MODINIT(ext_name, mod_def)                                  \
    HPy_EXPORTED_FUNC PyObject *PyInit_##ext_name(void);                \
    PyMODINIT_FUNC PyInit_##ext_name(void)                              \
    {                                                                   \
        return _HPyModuleDef_AsPyInit(&mod_def, #ext_name);                     \
    }

#else

/* The runtime checks the versions, hands over its context, then turns the
 * definition into a module. None of these may call the API. */
#define HPy_MODINIT(ext_name, mod_def)                                  \
    HPy_EXPORTED_FUNC uint32_t get_required_hpy_major_version_##ext_name(void) \
    {                                                                   \
        return HPY_ABI_VERSION;                                         \
    }                                                                   \
    HPy_EXPORTED_FUNC uint32_t get_required_hpy_minor_version_##ext_name(void) \
    {                                                                   \
        return HPY_ABI_VERSION_MINOR;                                   \
    }                                                                   \
    _HPy_CTX_MODIFIER HPyContext *_ctx_for_trampolines;                 \
    HPy_EXPORTED_FUNC void HPyInitGlobalContext_##ext_name(HPyContext *ctx) \
    {                                                                   \
        _ctx_for_trampolines = ctx;                                     \
    }                                                                   \
    HPy_EXPORTED_FUNC HPyModuleDef *HPyInit_##ext_name(void)            \
    {                                                                   \
        return &mod_def;                                                \
    }

#endif

#endif /* HPY_HPYMODULE_H */
