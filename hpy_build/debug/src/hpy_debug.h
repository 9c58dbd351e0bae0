/* The HPy debug context of hpy-build: what a runtime (CPython's
 * hpy_build._universal, PyPy's cffi runtime) calls. No Python.h here. */
#ifndef HPY_BUILD_HPY_DEBUG_H
#define HPY_BUILD_HPY_DEBUG_H

#include <stddef.h>

/* The debug context wrapping uctx (one per process, made on first use);
 * NULL if out of memory. */
HPyContext *hpy_debug_get_ctx(HPyContext *uctx);

/* For a runtime that calls an extension's functions itself (the cffi one):
 * what to call instead of func, with the universal context and universal
 * handles, so that func runs with debug handles. Call it right before the
 * call (it arms a per-thread slot the returned thunk reads). */
HPyCFunction hpy_debug_prepare_call(HPyFunc_Signature sig, HPyCFunction func);

/* What the Python API (hpy_build.debug) reads about one handle. */
typedef struct {
    void *id;            /* the debug handle's address */
    HPy uh;              /* its universal handle: borrowed, valid only while open */
    int is_closed;
    void *site;          /* return address of the API call that made it, or NULL */
    void *close_site;
    void *const *stack;  /* deeper stack (set_handle_stack_trace_limit > 1), or NULL */
    int stack_len;
    size_t mem_size;     /* bytes of the const char * result it keeps (with the NUL) */
    int has_mem;         /* whether it keeps one */
} hpy_debug_handle_info;

/* The current state of one handle: id from the lists below (debug handles
 * are reused, never freed, so the id stays readable). */
void hpy_debug_handle(void *id, hpy_debug_handle_info *out);
/* HPy_Close on it, as the extension would (for tests). */
void hpy_debug_force_close(void *id);

long hpy_debug_new_generation(void);
/* Open handles (or those of the closed-handle queue) of generation >= gen: how many
 * there are; the first max are written to out. */
size_t hpy_debug_open_handles(long gen, hpy_debug_handle_info *out, size_t max);
size_t hpy_debug_closed_handles(long gen, hpy_debug_handle_info *out, size_t max);
size_t hpy_debug_get_closed_handles_queue_max_size(void);
void hpy_debug_set_closed_handles_queue_max_size(size_t size);
size_t hpy_debug_get_protected_raw_data_max_size(void);
void hpy_debug_set_protected_raw_data_max_size(size_t size);
size_t hpy_debug_get_protected_raw_data_size(void);
/* The callable (a universal handle the debug context now owns, or HPy_NULL)
 * called instead of the fatal error on an invalid handle / builder. */
void hpy_debug_set_on_invalid_handle(HPy uh_callable);
void hpy_debug_set_on_invalid_builder_handle(HPy uh_callable);
/* 0: no creation site; 1: the return address (default); N > 1: N frames. */
int hpy_debug_get_stack_limit(void);
void hpy_debug_set_stack_limit(int limit);
/* "file.c:543 in make_greeting" (or "symbol+0x1f in lib.so"); the length. */
size_t hpy_debug_describe_site(const void *address, char *buf, size_t size);

#endif
