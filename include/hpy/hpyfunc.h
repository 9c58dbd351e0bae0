/* The C functions an extension defines (methods, slots) and the trampolines
 * through which CPython calls them. */
#include "hpy.h"  /* first, so this header also works included on its own */
#ifndef HPY_HPYFUNC_H
#define HPY_HPYFUNC_H

typedef struct {
    void *buf;
    HPy obj;        /* owned */
    HPy_ssize_t len;
    HPy_ssize_t itemsize;
    int readonly;
    int ndim;
    char *format;
    HPy_ssize_t *shape;
    HPy_ssize_t *strides;
    HPy_ssize_t *suboffsets;
    void *internal;
} HPy_buffer;

typedef int (*HPyFunc_visitproc)(HPyField *, void *);

#define HPy_VISIT(hpyfield)                                 \
    do {                                                    \
        if (!HPyField_IsNull(*(hpyfield))) {                \
            int _hpy_visit_ret = visit((hpyfield), arg);    \
            if (_hpy_visit_ret)                             \
                return _hpy_visit_ret;                      \
        }                                                   \
    } while (0)

/* The enum turns a misspelt SIG into a readable compiler error instead of
 * an unknown _HPyFunc_DECLARE_... macro. */
#define HPyFunc_DECLARE(SYM, SIG) \
    enum { SYM##_sig = SIG };     \
    _HPyFunc_DECLARE_##SIG(SYM)

#define HPyFunc_TRAMPOLINE(SYM, IMPL, SIG) \
    enum { SYM##_sig = SIG };              \
    _HPyFunc_TRAMPOLINE_##SIG(SYM, IMPL)

#include "hpy/autogen_hpyfunc.h"

#ifdef HPY_ABI_CPYTHON
#  define HPY_MOD_EMBEDDABLE(modname)
#  include "hpy/cpython/hpyfunc_trampolines.h"
#else
/* Set by HPyInitGlobalContext_<ext>, read by every trampoline. With
 * HPY_EMBEDDED_MODULES, several modules share one binary, so each source file
 * keeps its own (declared by HPY_MOD_EMBEDDABLE). */
#  ifdef HPY_EMBEDDED_MODULES
#    define _HPy_CTX_MODIFIER static
#    define HPY_MOD_EMBEDDABLE(modname) _HPy_CTX_MODIFIER HPyContext *_ctx_for_trampolines;
#  else
#    define _HPy_CTX_MODIFIER _HPy_HIDDEN
#    define HPY_MOD_EMBEDDABLE(modname)
extern _HPy_HIDDEN HPyContext *_ctx_for_trampolines;
#  endif
#  include "hpy/universal/hpyfunc_trampolines.h"
#endif

#endif /* HPY_HPYFUNC_H */
