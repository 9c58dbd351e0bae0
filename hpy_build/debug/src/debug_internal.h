/* Internals of the debug context. Runtime-neutral: compiled as the universal
 * ABI whatever the runtime's own build says, so every call goes through a
 * context's function pointers and no Python.h is included. */
#ifndef HPY_BUILD_DEBUG_INTERNAL_H
#define HPY_BUILD_DEBUG_INTERNAL_H

#undef HPY_ABI_CPYTHON
#undef HPY_ABI_HYBRID
#ifndef HPY_ABI_UNIVERSAL
#  define HPY_ABI_UNIVERSAL
#endif
#include "hpy.h"
#include "hpy_debug.h"

enum { DH_OWNED = 0, DH_ARG = 1, DH_CONST = 2 };

typedef struct DebugHandle {
    HPy uh;
    struct DebugHandle *prev, *next;  /* open list, or closed queue */
    long generation;
    void *site, *close_site;
    void **stack;
    int stack_len;
    unsigned char is_closed, kind;
    void *mem;                        /* protected copy of a const char * result */
    size_t mem_size;                  /* mapped bytes */
    size_t data_size;                 /* bytes of the string, with its NUL */
    const char *mem_what;             /* the API function that returned it */
} DebugHandle;

typedef struct {
    DebugHandle head;                 /* sentinel of a circular list */
    size_t count;
} DHList;

/* One per debug context of the ring (see _hpy_debug_call_begin). */
typedef struct {
    HPyContext *uctx;
    int is_valid;
} DebugCtxInfo;

#define HPY_DEBUG_CTX_RING 16

typedef struct {
    HPyContext *uctx;
    HPyContext *main_ctx;
    HPyContext *ring[HPY_DEBUG_CTX_RING];
    unsigned ring_next;
    long generation;
    DHList open, closed;
    size_t closed_max;
    size_t protected_size, protected_max;
    HPy on_invalid_handle, on_invalid_builder;
    int stack_limit;
} DebugInfo;

extern DebugInfo _hpy_debug_info;

static inline DebugHandle *as_dh(HPy h) { return (DebugHandle *)h._i; }
static inline HPy as_h(DebugHandle *dh) { HPy h; h._i = (intptr_t)dh; return h; }

_HPy_NO_RETURN void _hpy_debug_stale_ctx(HPyContext *dctx, void *where);
void _hpy_debug_closed_handle(HPyContext *dctx, DebugHandle *dh, const char *fname, void *where);
HPy _hpy_dh_open_kind(HPyContext *dctx, HPy uh, void *site, int kind);
/* Marks dh closed (its universal handle is the caller's business). */
void _hpy_dh_forget(DebugHandle *dh, void *site);
/* A mistake: the message (and the sites) to stderr, then the fatal error,
 * unless the Python callback is set (it is called and execution goes on). */
void _hpy_debug_report(int builder, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "<DebugHandle 0x... > created at f.c:3 in g" for messages. */
void _hpy_debug_describe_handle(DebugHandle *dh, char *buf, size_t size);

static inline HPyContext *_hpy_debug_enter_at(HPyContext *dctx, void *where)
{
    DebugCtxInfo *ci = (DebugCtxInfo *)dctx->_private;
    if (!ci->is_valid)
        _hpy_debug_stale_ctx(dctx, where);
    return ci->uctx;
}

static inline HPy _hpy_dh_unwrap(HPyContext *dctx, HPy h, const char *fname, void *where)
{
    DebugHandle *dh = as_dh(h);
    if (dh == NULL)
        return HPy_NULL;
    if (dh->is_closed)
        _hpy_debug_closed_handle(dctx, dh, fname, where);
    return dh->uh;
}

/* Around a call into the universal context: Python code it runs may call the
 * extension, and a context kept from here must be caught there. */
static inline void _hpy_debug_suspend(HPyContext *dctx)
{
    ((DebugCtxInfo *)dctx->_private)->is_valid = 0;
}

static inline void _hpy_debug_resume(HPyContext *dctx)
{
    ((DebugCtxInfo *)dctx->_private)->is_valid = 1;
}

/* Argument checks of HPy 0.9's debug mode: a fatal error with its words. */
void _hpy_debug_require_type(HPyContext *uctx, HPy uh, HPy utype, const char *msg, void *where);
void _hpy_debug_require_shape(HPyContext *uctx, HPy uh, HPyType_BuiltinShape shape,
                              void *where);

/* In a wrapper: the address the wrapper returns to, in the extension. */
#define _hpy_debug_enter(dctx) _hpy_debug_enter_at((dctx), __builtin_return_address(0))
#define DH_UNWRAP(h, fname) _hpy_dh_unwrap(dctx, (h), (fname), __builtin_return_address(0))
#define DH_REQUIRE_TYPE(uh, utype, msg) \
    _hpy_debug_require_type(uctx, (uh), (utype), (msg), __builtin_return_address(0))
#define DH_REQUIRE_SHAPE(uh, shape) \
    _hpy_debug_require_shape(uctx, (uh), (shape), __builtin_return_address(0))
#define DH_OPEN(uh) _hpy_dh_open_kind(dctx, (uh), __builtin_return_address(0), DH_OWNED)

/* Calls from the runtime into the extension (debug_trampolines.c). */
void _hpy_debug_fill_ctx(HPyContext *dctx);
void _hpy_debug_each_constant(HPyContext *dctx, HPyContext *uctx,
                              void (*fn)(HPy *dh, HPy uh, void *arg), void *arg);
HPyContext *_hpy_debug_call_begin(int *was_valid);
void _hpy_debug_call_end(HPyContext *dctx, int was_valid);
HPy _hpy_debug_arg(HPyContext *dctx, HPy uh);
void _hpy_debug_arg_done(HPyContext *dctx, HPy dh);
HPy _hpy_debug_result(HPyContext *dctx, HPy dh, void *func);

/* Memory of const char * results (debug_memprotect.c). */
void *_hpy_debug_protect_copy(const char *data, size_t size, size_t *mapped);
void _hpy_debug_mem_closed(void *mem, size_t mapped);
void _hpy_debug_mem_free(void *mem, size_t mapped);
void _hpy_debug_install_fault_handler(void);

/* Fields and tp_traverse (debug_ctx.c). */
void _hpy_debug_check_traverse(HPyContext *dctx, HPy u_obj, HPyField *field, void *where);

#include "autogen_debug_decls.h"

#endif
