/* Shared by the trace C files: the per-context counters and the inline code
 * every generated wrapper runs. Universal ABI on purpose: a wrapper reaches
 * the runtime only through uctx's members, whichever runtime compiles it. */
#ifndef HPY_BUILD_TRACE_INTERNAL_H
#define HPY_BUILD_TRACE_INTERNAL_H

#ifndef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L  /* clock_gettime, also under a strict -std=c99 */
#endif
#undef HPY_ABI_CPYTHON
#undef HPY_ABI_HYBRID
#ifndef HPY_ABI_UNIVERSAL
#  define HPY_ABI_UNIVERSAL
#endif
#include <time.h>
#include "hpy.h"
#include "hpy_trace.h"
#include "autogen_trace.h"

typedef struct {
    HPyContext *uctx;
    /* Plain counters: HPy calls are made holding the interpreter's lock. */
    uint64_t calls[_HPY_TRACE_NMEMBERS];
    uint64_t nanoseconds[_HPY_TRACE_NMEMBERS];
    _HPyTraceHook on_enter;
    _HPyTraceHook on_exit;
    void *hook_data;
    int in_hook;
} _HPyTraceInfo;

void _hpy_trace_run_hook(_HPyTraceInfo *info, _HPyTraceHook hook, int id);

static inline _HPyTraceInfo *_hpy_trace_info(HPyContext *tctx)
{
    return (_HPyTraceInfo *)tctx->_private;
}

static inline uint64_t _hpy_trace_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;  /* cannot happen for CLOCK_MONOTONIC; _hpy_trace_exit adds nothing */
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Counts the call, runs the enter hook; the start time comes last so the
 * hook's own time is not charged to the call. */
static inline uint64_t _hpy_trace_enter(_HPyTraceInfo *info, int id)
{
    info->calls[id]++;
    if (info->on_enter != NULL)
        _hpy_trace_run_hook(info, info->on_enter, id);
    return _hpy_trace_now();
}

static inline void _hpy_trace_exit(_HPyTraceInfo *info, int id, uint64_t start)
{
    uint64_t end = _hpy_trace_now();
    if (start != 0 && end >= start)
        info->nanoseconds[id] += end - start;
    if (info->on_exit != NULL)
        _hpy_trace_run_hook(info, info->on_exit, id);
}

#endif
