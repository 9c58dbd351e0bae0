/* The debug context: debug handles, the checks, and the members that the
 * generator cannot write (builders, fields, trackers, arrays, char *). */
#include "debug_internal.h"

#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Settings may be changed from Python before the first debug module loads. */
DebugInfo _hpy_debug_info = { .closed_max = 1024, .protected_max = 10 * 1024 * 1024,
                              .stack_limit = 1 };
static struct _HPyContext_s main_dctx;
static struct _HPyContext_s ring_ctx[HPY_DEBUG_CTX_RING];
static DebugCtxInfo ctx_infos[HPY_DEBUG_CTX_RING + 1];

/* ---- lists ---------------------------------------------------------------- */

static void list_init(DHList *l) { l->head.prev = l->head.next = &l->head; l->count = 0; }

static void list_append(DHList *l, DebugHandle *dh)
{
    dh->prev = l->head.prev;
    dh->next = &l->head;
    l->head.prev->next = dh;
    l->head.prev = dh;
    l->count++;
}

static void list_remove(DHList *l, DebugHandle *dh)
{
    dh->prev->next = dh->next;
    dh->next->prev = dh->prev;
    dh->prev = dh->next = NULL;
    l->count--;
}

/* ---- handles -------------------------------------------------------------- */

/* Freed debug handles, reused: a handle-heavy loop does not call malloc. */
static DebugHandle *free_handles;

/* The protected copy of a handle's const char * goes; counted: it was kept
 * after the close, within the limit. */
static void release_mem(DebugHandle *dh, int counted)
{
    if (dh->mem == NULL)
        return;
    _hpy_debug_mem_free(dh->mem, dh->mem_size);
    if (counted)
        _hpy_debug_info.protected_size -= dh->data_size;
    dh->mem = NULL;
    dh->mem_size = dh->data_size = 0;
}

static void free_handle(DebugHandle *dh)
{
    release_mem(dh, 1);  /* only closed handles come here */
    free(dh->stack);
    dh->next = free_handles;
    free_handles = dh;
}

HPy _hpy_dh_open_kind(HPyContext *dctx, HPy uh, void *site, int kind)
{
    DebugInfo *info = &_hpy_debug_info;
    DebugHandle *dh;
    (void)dctx;
    if (HPy_IsNull(uh))
        return HPy_NULL;
    /* The closed-handle queue full: its oldest is reused (as HPy 0.9 does,
     * so a use of it after this point is no longer caught). */
    if (info->closed.count > 0 && info->closed.count >= info->closed_max) {
        dh = info->closed.head.next;
        list_remove(&info->closed, dh);
        release_mem(dh, 1);
        free(dh->stack);
    }
    else if ((dh = free_handles) != NULL)
        free_handles = dh->next;
    else if ((dh = (DebugHandle *)malloc(sizeof(DebugHandle))) == NULL) {
        info->uctx->ctx_FatalError(info->uctx, "HPy debug mode: out of memory for a handle");
        return HPy_NULL;
    }
    memset(dh, 0, sizeof(*dh));
    dh->uh = uh;
    dh->kind = (unsigned char)kind;
    dh->generation = info->generation;
    if (info->stack_limit > 0)
        dh->site = site;
    if (info->stack_limit > 1) {
        void **frames = (void **)malloc(sizeof(void *) * (size_t)info->stack_limit);
        if (frames != NULL) {
            dh->stack_len = backtrace(frames, info->stack_limit);
            dh->stack = frames;
        }
    }
    list_append(&info->open, dh);
    return as_h(dh);
}

void _hpy_dh_forget(DebugHandle *dh, void *site)
{
    DebugInfo *info = &_hpy_debug_info;
    if (dh->is_closed || dh->kind == DH_CONST)
        return;
    list_remove(&info->open, dh);
    dh->is_closed = 1;
    dh->close_site = site;
    if (dh->mem != NULL) {
        /* kept unreadable while within the limit (HPy 0.9 counts the bytes
         * of the strings), else unmapped at once: a read faults either way */
        if (info->protected_size + dh->data_size > info->protected_max)
            release_mem(dh, 0);
        else {
            _hpy_debug_mem_closed(dh->mem, dh->mem_size);
            info->protected_size += dh->data_size;
        }
    }
    list_append(&info->closed, dh);
    /* Keep recent closed handles so that their use is caught; beyond the
     * limit the oldest goes (a use of it is no longer caught). One per close,
     * as HPy 0.9: a lowered limit is reached as handles are opened and closed. */
    if (info->closed.count > info->closed_max) {
        DebugHandle *old = info->closed.head.next;
        list_remove(&info->closed, old);
        free_handle(old);
    }
}

/* ---- reports -------------------------------------------------------------- */

void _hpy_debug_describe_handle(DebugHandle *dh, char *buf, size_t size)
{
    char where[512];
    size_t n;
    n = (size_t)snprintf(buf, size, "<DebugHandle 0x%lx%s>", (unsigned long)(uintptr_t)dh,
                         dh->kind == DH_CONST ? " (a context constant)" :
                         dh->kind == DH_ARG ? " (an argument)" : "");
    if (n < size && dh->site != NULL) {
        hpy_debug_describe_site(dh->site, where, sizeof(where));
        n += (size_t)snprintf(buf + n, size - n, " created at %s", where);
    }
    if (n < size && dh->is_closed && dh->close_site != NULL) {
        hpy_debug_describe_site(dh->close_site, where, sizeof(where));
        snprintf(buf + n, size - n, ", closed at %s", where);
    }
}

static void call_hook(HPy callback)
{
    HPyContext *uctx = _hpy_debug_info.uctx;
    HPy res = uctx->ctx_CallTupleDict(uctx, callback, HPy_NULL, HPy_NULL);
    if (HPy_IsNull(res)) {
        fputs("HPy debug mode: error when executing the on_invalid_(builder_)handle callback\n",
              stderr);
        uctx->ctx_Err_WriteUnraisable(uctx, callback);
    }
    else {
        uctx->ctx_Close(uctx, res);
    }
}

void _hpy_debug_report(int builder, const char *fmt, ...)
{
    DebugInfo *info = &_hpy_debug_info;
    HPy hook = builder ? info->on_invalid_builder : info->on_invalid_handle;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!HPy_IsNull(hook)) {
        call_hook(hook);
        return;
    }
    info->uctx->ctx_FatalError(info->uctx, msg);  /* prints msg and aborts */
}

static void site_of(void *where, char *buf, size_t size)
{
    if (where == NULL)
        snprintf(buf, size, "an unknown place");
    else
        hpy_debug_describe_site(where, buf, size);
}

void _hpy_debug_closed_handle(HPyContext *dctx, DebugHandle *dh, const char *fname, void *where)
{
    char desc[1200], at[512];
    (void)dctx;
    _hpy_debug_describe_handle(dh, desc, sizeof(desc));
    site_of(where, at, sizeof(at));
    _hpy_debug_report(0, "Invalid usage of already closed handle: %s got %s, at %s",
                      fname, desc, at);
}

void _hpy_debug_stale_ctx(HPyContext *dctx, void *where)
{
    char at[512];
    site_of(where, at, sizeof(at));
    fprintf(stderr, "Error: Wrong HPy Context! The HPyContext %p used at %s was kept from an "
            "earlier call: a context is only valid during the call that received it (use the "
            "ctx argument of the current function)\n", (void *)dctx, at);
    fflush(stderr);
    abort();
}

/* "(got a 'str' object)": what the author passed instead. */
static void got_type(HPyContext *uctx, HPy uh, char *buf, size_t size)
{
    HPy t = uctx->ctx_Type(uctx, uh);
    snprintf(buf, size, "got a '%s' object", uctx->ctx_Type_GetName(uctx, t));
    uctx->ctx_Close(uctx, t);
}

void _hpy_debug_require_type(HPyContext *uctx, HPy uh, HPy utype, const char *msg, void *where)
{
    char at[512], got[300], buf[1024];
    if (HPy_IsNull(uh) || uctx->ctx_TypeCheck(uctx, uh, utype))
        return;
    site_of(where, at, sizeof(at));
    got_type(uctx, uh, got, sizeof(got));
    snprintf(buf, sizeof(buf), "%s, at %s (%s)", msg, at, got);
    uctx->ctx_FatalError(uctx, buf);
}

static const char *shape_name(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Legacy: return "HPyType_BuiltinShape_Legacy";
    case HPyType_BuiltinShape_Object: return "HPyType_BuiltinShape_Object";
    case HPyType_BuiltinShape_Type: return "HPyType_BuiltinShape_Type";
    case HPyType_BuiltinShape_Long: return "HPyType_BuiltinShape_Long";
    case HPyType_BuiltinShape_Float: return "HPyType_BuiltinShape_Float";
    case HPyType_BuiltinShape_Unicode: return "HPyType_BuiltinShape_Unicode";
    case HPyType_BuiltinShape_Tuple: return "HPyType_BuiltinShape_Tuple";
    case HPyType_BuiltinShape_List: return "HPyType_BuiltinShape_List";
    }
    return "<unknown shape>";
}

/* _HPy_AsStruct_<Shape> must match the builtin_shape of the object's type,
 * or the struct is read at the wrong offset. */
void _hpy_debug_require_shape(HPyContext *uctx, HPy uh, HPyType_BuiltinShape shape, void *where)
{
    char at[512], buf[1024];
    const char *wanted = shape_name(shape) + strlen("HPyType_BuiltinShape_");
    HPyType_BuiltinShape actual;
    HPy t;
    if (HPy_IsNull(uh))
        return;
    t = uctx->ctx_Type(uctx, uh);
    actual = uctx->ctx_Type_GetBuiltinShape(uctx, t);
    uctx->ctx_Close(uctx, t);
    if (actual == shape)
        return;
    site_of(where, at, sizeof(at));
    snprintf(buf, sizeof(buf), "Invalid usage of _HPy_AsStruct_%s. Expected shape "
             "HPyType_BuiltinShape_%s but got %s, at %s: use the AsStruct of the type's "
             ".builtin_shape (the one given to HPyType_HELPERS)", wanted, wanted,
             shape_name(actual), at);
    uctx->ctx_FatalError(uctx, buf);
}

/* ---- the contexts ---------------------------------------------------------- */

static void wrap_constant(HPy *dh, HPy uh, void *arg)
{
    (void)arg;
    *dh = _hpy_dh_open_kind(&main_dctx, uh, NULL, DH_CONST);
    list_remove(&_hpy_debug_info.open, as_dh(*dh));  /* never a leak */
}

HPyContext *hpy_debug_get_ctx(HPyContext *uctx)
{
    DebugInfo *info = &_hpy_debug_info;
    int i;
    if (info->uctx != NULL)
        return info->uctx == uctx ? &main_dctx : NULL;
    info->uctx = uctx;
    info->main_ctx = &main_dctx;
    info->generation = 0;
    list_init(&info->open);
    list_init(&info->closed);
    main_dctx.name = "HPy Debug Mode ABI (hpy-build)";
    main_dctx.abi_version = uctx->abi_version;
    _hpy_debug_fill_ctx(&main_dctx);
    ctx_infos[0].uctx = uctx;
    ctx_infos[0].is_valid = 1;  /* the one the module keeps for its trampolines */
    main_dctx._private = &ctx_infos[0];
    _hpy_debug_each_constant(&main_dctx, uctx, wrap_constant, NULL);
    for (i = 0; i < HPY_DEBUG_CTX_RING; i++) {
        ring_ctx[i] = main_dctx;
        ctx_infos[i + 1].uctx = uctx;
        ctx_infos[i + 1].is_valid = 0;
        ring_ctx[i]._private = &ctx_infos[i + 1];
        info->ring[i] = &ring_ctx[i];
    }
    _hpy_debug_install_fault_handler();
    return &main_dctx;
}

/* A fresh context for each call into the extension: one kept from an earlier
 * call is invalid by then (unless the ring came round to it again). */
HPyContext *_hpy_debug_call_begin(int *was_valid)
{
    DebugInfo *info = &_hpy_debug_info;
    HPyContext *dctx = info->ring[info->ring_next];
    DebugCtxInfo *ci = (DebugCtxInfo *)dctx->_private;
    info->ring_next = (info->ring_next + 1) % HPY_DEBUG_CTX_RING;
    *was_valid = ci->is_valid;  /* deep recursion reuses a context still in use */
    ci->is_valid = 1;
    return dctx;
}

void _hpy_debug_call_end(HPyContext *dctx, int was_valid)
{
    ((DebugCtxInfo *)dctx->_private)->is_valid = was_valid;
}

HPy _hpy_debug_arg(HPyContext *dctx, HPy uh)
{
    return _hpy_dh_open_kind(dctx, uh, NULL, DH_ARG);
}

/* After the call: the argument's debug handle is closed (the runtime owns
 * the universal handle). A closed one was closed by the extension. */
void _hpy_debug_arg_done(HPyContext *dctx, HPy h)
{
    DebugHandle *dh = as_dh(h);
    (void)dctx;
    if (dh != NULL && !dh->is_closed)
        _hpy_dh_forget(dh, NULL);
}

/* The extension's result: the runtime takes its universal handle over. */
HPy _hpy_debug_result(HPyContext *dctx, HPy h, void *func)
{
    DebugHandle *dh = as_dh(h);
    char desc[1200], fn[512];
    HPy uh;
    (void)dctx;
    if (dh == NULL)
        return HPy_NULL;
    if (dh->is_closed || dh->kind != DH_OWNED) {
        _hpy_debug_describe_handle(dh, desc, sizeof(desc));
        /* a function's address, not a return address: describe_site looks one byte back */
        site_of((char *)func + 1, fn, sizeof(fn));
        if (dh->is_closed)
            _hpy_debug_report(0, "Invalid usage of already closed handle: %s returned %s; return "
                              "a handle you own and have not closed", fn, desc);
        else  /* HPy 0.9 reports these as closed handles too: the caller closes them */
            _hpy_debug_report(0, "Invalid usage of already closed handle: %s returned %s without "
                              "HPy_Dup: the caller closes the result, "
                              "so return HPy_Dup(ctx, %s)", fn, desc,
                              dh->kind == DH_CONST ? "ctx->h_..." : "the argument");
        /* the hook let it go on: give the runtime a reference of its own */
        return _hpy_debug_info.uctx->ctx_Dup(_hpy_debug_info.uctx, dh->uh);
    }
    uh = dh->uh;
    _hpy_dh_forget(dh, NULL);
    return uh;
}

/* ---- hand-written members ---------------------------------------------------- */

HPy debug_ctx_Dup(HPyContext *dctx, HPy h)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uh = DH_UNWRAP(h, "HPy_Dup");
    return DH_OPEN(uctx->ctx_Dup(uctx, uh));
}

void debug_ctx_Close(HPyContext *dctx, HPy h)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugHandle *dh = as_dh(h);
    void *where = __builtin_return_address(0);
    char desc[1200], at[512];
    HPy uh;
    if (dh == NULL)
        return;
    if (dh->is_closed || dh->kind != DH_OWNED) {
        _hpy_debug_describe_handle(dh, desc, sizeof(desc));
        site_of(where, at, sizeof(at));
        if (dh->is_closed)
            _hpy_debug_report(0, "Invalid usage of already closed handle: HPy_Close of %s, at %s: "
                              "closing a handle twice", desc, at);
        else if (dh->kind == DH_CONST)
            _hpy_debug_report(0, "Invalid usage of already closed handle: HPy_Close of a "
                              "context constant %s, at %s: ctx->h_* handles "
                              "are borrowed and never closed", desc, at);
        else
            _hpy_debug_report(0, "Invalid usage of already closed handle: HPy_Close of a "
                              "handle the function does not own: %s, at %s: "
                              "arguments and self are borrowed, close only handles you got from "
                              "API calls (or HPy_Dup)", desc, at);
        return;
    }
    uh = dh->uh;
    _hpy_dh_forget(dh, where);
    uctx->ctx_Close(uctx, uh);  /* may run __del__, which may call us again */
}

/* const char * results: a protected copy that dies with the handle. */
static const char *protected_chars(HPyContext *dctx, HPy h, const char *data, size_t size,
                                   const char *what)
{
    DebugHandle *dh = as_dh(h);
    size_t mapped;
    void *mem;
    (void)dctx;
    if (data == NULL || dh == NULL || dh->kind == DH_CONST)
        return data;
    if (dh->mem != NULL)  /* asked again: the same memory */
        return (const char *)dh->mem;
    mem = _hpy_debug_protect_copy(data, size, &mapped);
    if (mem == NULL)
        return data;
    dh->mem = mem;
    dh->mem_size = mapped;
    dh->data_size = size;
    dh->mem_what = what;
    return (const char *)mem;
}

const char *debug_ctx_Unicode_AsUTF8AndSize(HPyContext *dctx, HPy h, HPy_ssize_t *size)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uh = DH_UNWRAP(h, "HPyUnicode_AsUTF8AndSize");
    HPy_ssize_t n = 0;
    const char *data = uctx->ctx_Unicode_AsUTF8AndSize(uctx, uh, &n);
    if (size != NULL)
        *size = n;
    return data == NULL ? NULL
        : protected_chars(dctx, h, data, (size_t)n + 1, "HPyUnicode_AsUTF8AndSize");
}

const char *debug_ctx_Bytes_AsString(HPyContext *dctx, HPy h)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uh = DH_UNWRAP(h, "HPyBytes_AsString");
    const char *data = uctx->ctx_Bytes_AsString(uctx, uh);
    if (data == NULL)
        return NULL;
    return protected_chars(dctx, h, data, (size_t)uctx->ctx_Bytes_GET_SIZE(uctx, uh) + 1,
                           "HPyBytes_AsString");
}

const char *debug_ctx_Bytes_AS_STRING(HPyContext *dctx, HPy h)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uh = DH_UNWRAP(h, "HPyBytes_AS_STRING");
    const char *data = uctx->ctx_Bytes_AS_STRING(uctx, uh);
    if (data == NULL)
        return NULL;
    return protected_chars(dctx, h, data, (size_t)uctx->ctx_Bytes_GET_SIZE(uctx, uh) + 1,
                           "HPyBytes_AS_STRING");
}

/* The name lives as long as the type: a protected copy tied to this handle,
 * as HPy 0.9 does, so that its use after HPy_Close is caught. */
const char *debug_ctx_Type_GetName(HPyContext *dctx, HPy type)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy utype = DH_UNWRAP(type, "HPyType_GetName");
    const char *name;
    DH_REQUIRE_TYPE(utype, uctx->h_TypeType, "HPyType_GetName arg must be a type");
    name = uctx->ctx_Type_GetName(uctx, utype);
    return name == NULL ? NULL : protected_chars(dctx, type, name, strlen(name) + 1,
                                                 "HPyType_GetName");
}

/* Arrays of handles: unwrapped into a temporary array. */
static HPy *unwrap_array(HPyContext *dctx, const HPy *items, size_t n, HPy *small,
                         const char *fname, void *where)
{
    HPy *out = n <= 16 ? small : (HPy *)malloc(sizeof(HPy) * n);
    size_t i;
    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        out[i] = _hpy_dh_unwrap(dctx, items[i], fname, where);
    return out;
}

#define UNWRAP_ARRAY(items, n, small, fname) \
    unwrap_array(dctx, (items), (n), (small), (fname), __builtin_return_address(0))

static HPy no_memory(HPyContext *uctx)
{
    uctx->ctx_Err_NoMemory(uctx);
    return HPy_NULL;
}

HPy debug_ctx_Tuple_FromArray(HPyContext *dctx, HPy items[], HPy_ssize_t n)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy small[16], *u, res;
    u = UNWRAP_ARRAY(items, n > 0 ? (size_t)n : 0, small, "HPyTuple_FromArray");
    if (u == NULL)
        return no_memory(uctx);
    res = uctx->ctx_Tuple_FromArray(uctx, u, n);
    if (u != small)
        free(u);
    return DH_OPEN(res);
}

HPy debug_ctx_Type_GenericNew(HPyContext *dctx, HPy type, const HPy *args, HPy_ssize_t nargs,
                              HPy kw)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy small[16], *u, res;
    HPy utype = DH_UNWRAP(type, "HPyType_GenericNew"), ukw = DH_UNWRAP(kw, "HPyType_GenericNew");
    u = UNWRAP_ARRAY(args, nargs > 0 ? (size_t)nargs : 0, small, "HPyType_GenericNew");
    if (u == NULL)
        return no_memory(uctx);
    res = uctx->ctx_Type_GenericNew(uctx, utype, u, nargs, ukw);
    if (u != small)
        free(u);
    return DH_OPEN(res);
}

static size_t call_nargs(HPyContext *uctx, size_t nargs, HPy ukwnames)
{
    HPy_ssize_t nkw = HPy_IsNull(ukwnames) ? 0 : uctx->ctx_Length(uctx, ukwnames);
    if (nkw < 0) {
        uctx->ctx_Err_Clear(uctx);  /* checked before: cannot happen */
        nkw = 0;
    }
    return (nargs & ~((size_t)1 << (8 * sizeof(size_t) - 1))) + (size_t)nkw;
}

HPy debug_ctx_Call(HPyContext *dctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy ucallable = DH_UNWRAP(callable, "HPy_Call"), ukw = DH_UNWRAP(kwnames, "HPy_Call");
    HPy small[16], *u, res;
    DH_REQUIRE_TYPE(ukw, uctx->h_TupleType,
                    "HPy_Call arg 'kwnames' must be a tuple object or HPy_NULL");
    u = UNWRAP_ARRAY(args, call_nargs(uctx, nargs, ukw), small, "HPy_Call");
    if (u == NULL)
        return no_memory(uctx);
    _hpy_debug_suspend(dctx);
    res = uctx->ctx_Call(uctx, ucallable, u, nargs, ukw);
    _hpy_debug_resume(dctx);
    if (u != small)
        free(u);
    return DH_OPEN(res);
}

HPy debug_ctx_CallMethod(HPyContext *dctx, HPy name, const HPy *args, size_t nargs, HPy kwnames)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uname = DH_UNWRAP(name, "HPy_CallMethod"), ukw = DH_UNWRAP(kwnames, "HPy_CallMethod");
    HPy small[16], *u, res;
    DH_REQUIRE_TYPE(ukw, uctx->h_TupleType,
                    "HPy_CallMethod arg 'kwnames' must be a tuple object or HPy_NULL");
    u = UNWRAP_ARRAY(args, call_nargs(uctx, nargs, ukw), small, "HPy_CallMethod");
    if (u == NULL)
        return no_memory(uctx);
    _hpy_debug_suspend(dctx);
    res = uctx->ctx_CallMethod(uctx, uname, u, nargs, ukw);
    _hpy_debug_resume(dctx);
    if (u != small)
        free(u);
    return DH_OPEN(res);
}

int32_t debug_ctx_ContextVar_Get(HPyContext *dctx, HPy context_var, HPy default_value,
                                 HPy *result)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uvar = DH_UNWRAP(context_var, "HPyContextVar_Get");
    HPy udef = DH_UNWRAP(default_value, "HPyContextVar_Get");
    HPy ures = HPy_NULL;
    int32_t ret = uctx->ctx_ContextVar_Get(uctx, uvar, udef, &ures);
    *result = DH_OPEN(ures);
    return ret;
}

/* ---- types: remember tp_traverse, to check fields against it ------------------ */

typedef struct {
    HPy utype;  /* kept for the life of the process, as the type's code is */
    HPyFunc_traverseproc traverse;
    HPyType_BuiltinShape shape;
} TraverseRecord;

static TraverseRecord *traversers;
static size_t n_traversers, cap_traversers;

HPy debug_ctx_Type_FromSpec(HPyContext *dctx, HPyType_Spec *spec, HPyType_SpecParam *params)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPyType_SpecParam *uparams = NULL;
    HPyFunc_traverseproc traverse = NULL;
    HPyDef **def;
    HPy res;
    size_t n = 0, i;
    if (params != NULL) {
        while (params[n].kind != 0)
            n++;
        uparams = (HPyType_SpecParam *)malloc(sizeof(HPyType_SpecParam) * (n + 1));
        if (uparams == NULL)
            return no_memory(uctx);
        for (i = 0; i <= n; i++) {
            uparams[i].kind = params[i].kind;
            uparams[i].object = i < n ? DH_UNWRAP(params[i].object, "HPyType_FromSpec") : HPy_NULL;
        }
    }
    res = uctx->ctx_Type_FromSpec(uctx, spec, uparams);
    free(uparams);
    for (def = spec->defines; def != NULL && *def != NULL; def++)
        if ((*def)->kind == HPyDef_Kind_Slot && (*def)->slot.slot == HPy_tp_traverse)
            traverse = (HPyFunc_traverseproc)(*def)->slot.impl;
    if (!HPy_IsNull(res) && traverse != NULL) {
        if (n_traversers == cap_traversers) {
            size_t cap = cap_traversers ? 2 * cap_traversers : 16;
            TraverseRecord *more = (TraverseRecord *)realloc(traversers, cap * sizeof(*more));
            if (more != NULL) {
                traversers = more;
                cap_traversers = cap;
            }
        }
        if (n_traversers < cap_traversers) {
            traversers[n_traversers].utype = uctx->ctx_Dup(uctx, res);
            traversers[n_traversers].traverse = traverse;
            traversers[n_traversers].shape = spec->builtin_shape;
            n_traversers++;
        }
    }
    return DH_OPEN(res);
}

typedef struct { HPyField *wanted; int seen; } VisitCheck;

static int visit_check(HPyField *field, void *arg)
{
    VisitCheck *check = (VisitCheck *)arg;
    if (field == check->wanted)
        check->seen = 1;
    return 0;
}

static void *struct_of(HPyContext *uctx, HPy uobj, HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Legacy: return uctx->ctx_AsStruct_Legacy(uctx, uobj);
    case HPyType_BuiltinShape_Type: return uctx->ctx_AsStruct_Type(uctx, uobj);
    case HPyType_BuiltinShape_Long: return uctx->ctx_AsStruct_Long(uctx, uobj);
    case HPyType_BuiltinShape_Float: return uctx->ctx_AsStruct_Float(uctx, uobj);
    case HPyType_BuiltinShape_Unicode: return uctx->ctx_AsStruct_Unicode(uctx, uobj);
    case HPyType_BuiltinShape_Tuple: return uctx->ctx_AsStruct_Tuple(uctx, uobj);
    case HPyType_BuiltinShape_List: return uctx->ctx_AsStruct_List(uctx, uobj);
    default: return uctx->ctx_AsStruct_Object(uctx, uobj);
    }
}

/* A field just stored must be visited by the type's HPy_tp_traverse, or the
 * GC cannot see what it holds (reference cycles through it never die). */
void _hpy_debug_check_traverse(HPyContext *dctx, HPy uobj, HPyField *field, void *where)
{
    HPyContext *uctx = _hpy_debug_info.uctx;
    HPy utype;
    size_t i;
    (void)dctx;
    if (n_traversers == 0 || HPyField_IsNull(*field))
        return;
    utype = uctx->ctx_Type(uctx, uobj);
    for (i = n_traversers; i-- > 0;) {  /* the latest (most derived) first */
        if (uctx->ctx_Type_IsSubtype(uctx, utype, traversers[i].utype)) {
            VisitCheck check = { field, 0 };
            void *data = struct_of(uctx, uobj, traversers[i].shape);
            traversers[i].traverse(data, visit_check, &check);
            if (!check.seen) {
                char at[512];
                site_of(where, at, sizeof(at));
                _hpy_debug_report(0, "HPyField_Store at %s: the HPy_tp_traverse of type '%s' does "
                                  "not visit this field (at offset %ld of the object's struct): "
                                  "add HPy_VISIT(&self->field) for it, or the GC cannot see what "
                                  "it holds", at, uctx->ctx_Type_GetName(uctx, utype),
                                  (long)((char *)field - (char *)data));
            }
            break;
        }
    }
    uctx->ctx_Close(uctx, utype);
}

/* ---- fields and globals: they hold universal handles ------------------------- */

void debug_ctx_Field_Store(HPyContext *dctx, HPy target_object, HPyField *target_field, HPy h)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uobj = DH_UNWRAP(target_object, "HPyField_Store");
    HPy uh = DH_UNWRAP(h, "HPyField_Store (storing a closed handle into an HPyField)");
    uctx->ctx_Field_Store(uctx, uobj, target_field, uh);
    _hpy_debug_check_traverse(dctx, uobj, target_field, __builtin_return_address(0));
}

HPy debug_ctx_Field_Load(HPyContext *dctx, HPy source_object, HPyField source_field)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uobj = DH_UNWRAP(source_object, "HPyField_Load");
    return DH_OPEN(uctx->ctx_Field_Load(uctx, uobj, source_field));
}

void debug_ctx_Global_Store(HPyContext *dctx, HPyGlobal *global, HPy h)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPy uh = DH_UNWRAP(h, "HPyGlobal_Store (storing a closed handle into an HPyGlobal)");
    uctx->ctx_Global_Store(uctx, global, uh);
}

HPy debug_ctx_Global_Load(HPyContext *dctx, HPyGlobal global)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    return DH_OPEN(uctx->ctx_Global_Load(uctx, global));
}

/* ---- builders ------------------------------------------------------------------ */

typedef struct {
    intptr_t u;         /* the universal builder */
    int is_closed;
    void *site, *close_site;
    const char *closed_by;
} DebugBuilder;

/* Closed builders stay readable for a while, so their use is caught. */
#define BUILDER_RING 1024
static DebugBuilder *closed_builders[BUILDER_RING];
static unsigned closed_builders_next;

static intptr_t builder_new(intptr_t u, void *site)
{
    DebugBuilder *b = (DebugBuilder *)calloc(1, sizeof(DebugBuilder));
    if (b == NULL)
        return u == 0 ? 0 : u;  /* cannot track it: NULL reports no memory at Build */
    b->u = u;
    b->site = site;
    return (intptr_t)b;
}

static DebugBuilder *builder_get(intptr_t b, const char *fname, void *where)
{
    DebugBuilder *db = (DebugBuilder *)b;
    if (db != NULL && db->is_closed) {
        char at[512], made[512], closed[512];
        site_of(where, at, sizeof(at));
        site_of(db->site, made, sizeof(made));
        site_of(db->close_site, closed, sizeof(closed));
        _hpy_debug_report(1, "Invalid usage of already closed builder: %s at %s, after %s at %s "
                          "(the builder was created at %s)", fname, at, db->closed_by, closed,
                          made);
    }
    return db;
}

static void builder_close(DebugBuilder *db, const char *by, void *where)
{
    if (db == NULL || db->is_closed)
        return;
    db->is_closed = 1;
    db->closed_by = by;
    db->close_site = where;
    free(closed_builders[closed_builders_next]);
    closed_builders[closed_builders_next] = db;
    closed_builders_next = (closed_builders_next + 1) % BUILDER_RING;
}

#define BUILDER_GET(b, fname) builder_get((b), (fname), __builtin_return_address(0))

HPyListBuilder debug_ctx_ListBuilder_New(HPyContext *dctx, HPy_ssize_t size)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPyListBuilder u = uctx->ctx_ListBuilder_New(uctx, size), b;
    b._lst = builder_new(u._lst, __builtin_return_address(0));
    return b;
}

void debug_ctx_ListBuilder_Set(HPyContext *dctx, HPyListBuilder builder, HPy_ssize_t index,
                               HPy h_item)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugBuilder *db = BUILDER_GET(builder._lst, "HPyListBuilder_Set");
    HPy uitem = DH_UNWRAP(h_item, "HPyListBuilder_Set");
    HPyListBuilder u;
    u._lst = db == NULL ? 0 : db->u;
    if (db != NULL && db->is_closed)
        return;
    uctx->ctx_ListBuilder_Set(uctx, u, index, uitem);
}

HPy debug_ctx_ListBuilder_Build(HPyContext *dctx, HPyListBuilder builder)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugBuilder *db = BUILDER_GET(builder._lst, "HPyListBuilder_Build");
    HPyListBuilder u;
    if (db != NULL && db->is_closed)  /* the hook let it go on: no list to build */
        return no_memory(uctx);
    u._lst = db == NULL ? 0 : db->u;
    builder_close(db, "HPyListBuilder_Build", __builtin_return_address(0));
    return DH_OPEN(uctx->ctx_ListBuilder_Build(uctx, u));
}

void debug_ctx_ListBuilder_Cancel(HPyContext *dctx, HPyListBuilder builder)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugBuilder *db = BUILDER_GET(builder._lst, "HPyListBuilder_Cancel");
    HPyListBuilder u;
    if (db != NULL && db->is_closed)
        return;
    u._lst = db == NULL ? 0 : db->u;
    builder_close(db, "HPyListBuilder_Cancel", __builtin_return_address(0));
    uctx->ctx_ListBuilder_Cancel(uctx, u);
}

HPyTupleBuilder debug_ctx_TupleBuilder_New(HPyContext *dctx, HPy_ssize_t size)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    HPyTupleBuilder u = uctx->ctx_TupleBuilder_New(uctx, size), b;
    b._tup = builder_new(u._tup, __builtin_return_address(0));
    return b;
}

void debug_ctx_TupleBuilder_Set(HPyContext *dctx, HPyTupleBuilder builder, HPy_ssize_t index,
                                HPy h_item)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugBuilder *db = BUILDER_GET(builder._tup, "HPyTupleBuilder_Set");
    HPy uitem = DH_UNWRAP(h_item, "HPyTupleBuilder_Set");
    HPyTupleBuilder u;
    u._tup = db == NULL ? 0 : db->u;
    if (db != NULL && db->is_closed)
        return;
    uctx->ctx_TupleBuilder_Set(uctx, u, index, uitem);
}

HPy debug_ctx_TupleBuilder_Build(HPyContext *dctx, HPyTupleBuilder builder)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugBuilder *db = BUILDER_GET(builder._tup, "HPyTupleBuilder_Build");
    HPyTupleBuilder u;
    if (db != NULL && db->is_closed)  /* the hook let it go on: no list to build */
        return no_memory(uctx);
    u._tup = db == NULL ? 0 : db->u;
    builder_close(db, "HPyTupleBuilder_Build", __builtin_return_address(0));
    return DH_OPEN(uctx->ctx_TupleBuilder_Build(uctx, u));
}

void debug_ctx_TupleBuilder_Cancel(HPyContext *dctx, HPyTupleBuilder builder)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugBuilder *db = BUILDER_GET(builder._tup, "HPyTupleBuilder_Cancel");
    HPyTupleBuilder u;
    if (db != NULL && db->is_closed)
        return;
    u._tup = db == NULL ? 0 : db->u;
    builder_close(db, "HPyTupleBuilder_Cancel", __builtin_return_address(0));
    uctx->ctx_TupleBuilder_Cancel(uctx, u);
}

/* ---- trackers: kept here, over debug handles ---------------------------------- */

typedef struct {
    size_t n, cap;
    HPy *handles;
} DebugTracker;

HPyTracker debug_ctx_Tracker_New(HPyContext *dctx, HPy_ssize_t size)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugTracker *t = (DebugTracker *)calloc(1, sizeof(DebugTracker));
    HPyTracker ht;
    ht._i = 0;
    if (t == NULL) {
        uctx->ctx_Err_NoMemory(uctx);
        return ht;
    }
    t->cap = size > 0 ? (size_t)size + 1 : 8;
    t->handles = (HPy *)malloc(sizeof(HPy) * t->cap);
    if (t->handles == NULL) {
        free(t);
        uctx->ctx_Err_NoMemory(uctx);
        return ht;
    }
    ht._i = (intptr_t)t;
    return ht;
}

int debug_ctx_Tracker_Add(HPyContext *dctx, HPyTracker ht, HPy h)
{
    HPyContext *uctx = _hpy_debug_enter(dctx);
    DebugTracker *t = (DebugTracker *)ht._i;
    DH_UNWRAP(h, "HPyTracker_Add");
    if (t->n == t->cap) {
        HPy *more = (HPy *)realloc(t->handles, sizeof(HPy) * t->cap * 2);
        if (more == NULL) {
            uctx->ctx_Err_NoMemory(uctx);
            return -1;
        }
        t->handles = more;
        t->cap *= 2;
    }
    t->handles[t->n++] = h;
    return 0;
}

void debug_ctx_Tracker_ForgetAll(HPyContext *dctx, HPyTracker ht)
{
    _hpy_debug_enter(dctx);
    ((DebugTracker *)ht._i)->n = 0;
}

void debug_ctx_Tracker_Close(HPyContext *dctx, HPyTracker ht)
{
    DebugTracker *t = (DebugTracker *)ht._i;
    size_t i;
    _hpy_debug_enter(dctx);
    for (i = 0; i < t->n; i++)
        debug_ctx_Close(dctx, t->handles[i]);
    free(t->handles);
    free(t);
}

/* ---- the Python-facing API ------------------------------------------------------ */

long hpy_debug_new_generation(void) { return ++_hpy_debug_info.generation; }

static void fill(hpy_debug_handle_info *out, DebugHandle *dh)
{
    out->id = dh;
    out->uh = dh->uh;
    out->is_closed = dh->is_closed;
    out->site = dh->site;
    out->close_site = dh->close_site;
    out->stack = dh->stack;
    out->stack_len = dh->stack_len;
    out->mem_size = dh->data_size;
    out->has_mem = dh->mem != NULL;
}

/* Debug handles are never freed (only reused), so an id stays readable. */
void hpy_debug_handle(void *id, hpy_debug_handle_info *out)
{
    fill(out, (DebugHandle *)id);
}

void hpy_debug_force_close(void *id)
{
    debug_ctx_Close(&main_dctx, as_h((DebugHandle *)id));
}

size_t hpy_debug_open_handles(long gen, hpy_debug_handle_info *out, size_t max)
{
    DHList *l = &_hpy_debug_info.open;
    DebugHandle *dh;
    size_t n = 0;
    if (_hpy_debug_info.uctx == NULL)
        return 0;
    for (dh = l->head.next; dh != &l->head; dh = dh->next) {
        if (dh->generation < gen || dh->kind != DH_OWNED)
            continue;
        if (n < max)
            fill(&out[n], dh);
        n++;
    }
    return n;
}

size_t hpy_debug_closed_handles(long gen, hpy_debug_handle_info *out, size_t max)
{
    DHList *l = &_hpy_debug_info.closed;
    DebugHandle *dh;
    size_t n = 0;
    if (_hpy_debug_info.uctx == NULL)
        return 0;
    for (dh = l->head.next; dh != &l->head; dh = dh->next) {
        if (dh->generation < gen)
            continue;
        if (n < max)
            fill(&out[n], dh);
        n++;
    }
    return n;
}

size_t hpy_debug_get_closed_handles_queue_max_size(void) { return _hpy_debug_info.closed_max; }
void hpy_debug_set_closed_handles_queue_max_size(size_t size) { _hpy_debug_info.closed_max = size; }
size_t hpy_debug_get_protected_raw_data_max_size(void) { return _hpy_debug_info.protected_max; }
void hpy_debug_set_protected_raw_data_max_size(size_t size) { _hpy_debug_info.protected_max = size; }
size_t hpy_debug_get_protected_raw_data_size(void) { return _hpy_debug_info.protected_size; }
int hpy_debug_get_stack_limit(void) { return _hpy_debug_info.stack_limit; }
void hpy_debug_set_stack_limit(int limit) { _hpy_debug_info.stack_limit = limit < 0 ? 0 : limit; }

static void set_hook(HPy *slot, HPy callable)
{
    HPyContext *uctx = _hpy_debug_info.uctx;
    HPy old = *slot;
    *slot = callable;
    if (!HPy_IsNull(old) && uctx != NULL)
        uctx->ctx_Close(uctx, old);
}

void hpy_debug_set_on_invalid_handle(HPy uh) { set_hook(&_hpy_debug_info.on_invalid_handle, uh); }
void hpy_debug_set_on_invalid_builder_handle(HPy uh) { set_hook(&_hpy_debug_info.on_invalid_builder, uh); }
