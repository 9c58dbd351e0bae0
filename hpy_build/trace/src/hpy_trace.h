/* Trace mode: a context that counts and times every call the extension makes
 * through it, then forwards the call to the universal context it wraps.
 *
 * This is the interface for universal runtimes (CPython's _universal, PyPy's
 * through cffi). It needs no Python.h: the trace context reaches the runtime
 * only through the universal context's function pointers. */
#ifndef HPY_BUILD_TRACE_H
#define HPY_BUILD_TRACE_H

#include <stdint.h>

struct _HPyContext_s;

/* Called around each traced call with the member's name (e.g. "ctx_Add").
 * Hooks are never nested: calls the hook makes itself are counted but do not
 * call the hooks again. */
typedef void (*_HPyTraceHook)(void *data, const char *name);

/* The trace context wrapping uctx: the same one for each call with the same
 * uctx (modules loaded in trace mode share its counts). NULL when out of
 * memory. uctx must be fully filled in. */
struct _HPyContext_s *hpy_trace_get_ctx(struct _HPyContext_s *uctx);

/* Context member ids run from 0 to hpy_trace_get_nfunc() - 1. */
int hpy_trace_get_nfunc(void);
/* "ctx_Add" for the member HPy_Add; NULL for a handle member or an id out of range. */
const char *hpy_trace_get_func_name(int id);

/* Calls made through tctx to member id, and the total time spent in them
 * (monotonic clock, nanoseconds, hooks excluded). 0 for a handle member. */
uint64_t hpy_trace_get_call_count(struct _HPyContext_s *tctx, int id);
uint64_t hpy_trace_get_duration_ns(struct _HPyContext_s *tctx, int id);

/* Resolution of the clock the durations are measured with, in nanoseconds. */
uint64_t hpy_trace_clock_resolution_ns(void);

/* Sets (NULL: clears) the hooks called before and after each traced call. */
void hpy_trace_set_hooks(struct _HPyContext_s *tctx, _HPyTraceHook on_enter,
                         _HPyTraceHook on_exit, void *data);

#endif
