/* The trace context: one per universal context, made on first request. */
#include "trace_internal.h"

typedef struct _hpy_trace_ctx {
    struct _HPyContext_s ctx;
    _HPyTraceInfo info;
    struct _hpy_trace_ctx *next;
} _hpy_trace_ctx;

/* Never freed: modules loaded in trace mode keep the context for the life of
 * the process. Made under the interpreter's lock, like every load. */
static _hpy_trace_ctx *all_trace_ctxs;

HPyContext *hpy_trace_get_ctx(HPyContext *uctx)
{
    _hpy_trace_ctx *t;
    for (t = all_trace_ctxs; t != NULL; t = t->next) {
        if (t->info.uctx == uctx || &t->ctx == uctx)
            return &t->ctx;  /* asked again, or asked with a trace ctx: never wrap twice */
    }
    t = (_hpy_trace_ctx *)calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->ctx.name = "HPy Trace Mode ABI (hpy-build)";
    t->ctx.abi_version = uctx->abi_version;
    t->ctx._private = &t->info;
    t->info.uctx = uctx;
    _hpy_trace_fill_ctx(&t->ctx, uctx);
    t->next = all_trace_ctxs;
    all_trace_ctxs = t;
    return &t->ctx;
}

int hpy_trace_get_nfunc(void)
{
    return _HPY_TRACE_NMEMBERS;
}

const char *hpy_trace_get_func_name(int id)
{
    if (id < 0 || id >= _HPY_TRACE_NMEMBERS)
        return NULL;
    return _hpy_trace_names[id];
}

uint64_t hpy_trace_get_call_count(HPyContext *tctx, int id)
{
    return hpy_trace_get_func_name(id) ? _hpy_trace_info(tctx)->calls[id] : 0;
}

uint64_t hpy_trace_get_duration_ns(HPyContext *tctx, int id)
{
    return hpy_trace_get_func_name(id) ? _hpy_trace_info(tctx)->nanoseconds[id] : 0;
}

uint64_t hpy_trace_clock_resolution_ns(void)
{
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0)
        return 0;
    return (uint64_t)res.tv_sec * 1000000000u + (uint64_t)res.tv_nsec;
}

void hpy_trace_set_hooks(HPyContext *tctx, _HPyTraceHook on_enter, _HPyTraceHook on_exit,
                         void *data)
{
    _HPyTraceInfo *info = _hpy_trace_info(tctx);
    info->on_enter = on_enter;
    info->on_exit = on_exit;
    info->hook_data = data;
}

void _hpy_trace_run_hook(_HPyTraceInfo *info, _HPyTraceHook hook, int id)
{
    /* a hook that calls traced code must not recurse into itself */
    if (info->in_hook)
        return;
    info->in_hook = 1;
    hook(info->hook_data, _hpy_trace_names[id]);
    info->in_hook = 0;
}
