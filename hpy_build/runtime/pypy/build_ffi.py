"""cffi build script of the universal runtime for PyPy (``hpy_build._hpy_cffi``).

API mode: cffi compiles a C module holding the context struct, whose members
are C adapters around ``extern "Python"`` callbacks (see autogen_ctx.c), and
one helper per HPyFunc signature to call an extension's functions. setup.py
builds it ahead of time (``cffi_modules``); on CPython only when cffi is there.
"""
import glob
import os

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "include")
if not os.path.isdir(INCLUDE):  # installed: the headers are package data
    INCLUDE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "include")
# debug and trace mode: runtime-neutral C wrapping this runtime's context
PACKAGE = os.path.dirname(os.path.dirname(HERE))
DEBUG_SRC = os.path.join(PACKAGE, "debug", "src")
TRACE_SRC = os.path.join(PACKAGE, "trace", "src")

# The structs the Python side reads. "...;" lets the compiler supply the layout.
CDEF_TYPES = """
typedef int... HPy_RichCmpOp;
typedef struct { intptr_t _i; } HPy;
typedef struct { intptr_t _i; } HPyField;
typedef struct _HPyContext_s HPyContext;
typedef ... cpy_PyMethodDef;
typedef void (*HPyCFunction)(void);
typedef void (*HPyFunc_Capsule_Destructor)(const char *name, void *pointer, void *context);
typedef HPy (*HPyFunc_keywords)(HPyContext *, HPy, const HPy *, size_t, HPy);
typedef struct { int slot; HPyCFunction impl; ...; } HPySlot;
typedef struct { const char *name; HPyCFunction impl; int signature; const char *doc; ...; } HPyMeth;
typedef struct { const char *name; int type; intptr_t offset; int readonly; const char *doc; ...; } HPyMember;
typedef struct { const char *name; HPyCFunction getter_impl; HPyCFunction setter_impl; const char *doc;
                 void *closure; ...; } HPyGetSet;
typedef struct { int kind; HPySlot slot; HPyMeth meth; HPyMember member; HPyGetSet getset; ...; } HPyDef;
typedef struct { intptr_t _i; } HPyGlobal;
typedef struct { const char *doc; intptr_t size; cpy_PyMethodDef *legacy_methods; HPyDef **defines;
                 HPyGlobal **globals; ...; } HPyModuleDef;
typedef struct { const char *name; int basicsize; int itemsize; unsigned long flags;
                 int builtin_shape; void *legacy_slots; HPyDef **defines; const char *doc; ...; } HPyType_Spec;
typedef struct { int kind; HPy object; ...; } HPyType_SpecParam;
typedef struct { HPyFunc_Capsule_Destructor impl; ...; } HPyCapsule_Destructor;
typedef struct { HPyFunc_keywords impl; ...; } HPyCallFunction;
typedef struct { void *buf; HPy obj; intptr_t len; intptr_t itemsize; int readonly; int ndim;
                 char *format; intptr_t *shape; intptr_t *strides; intptr_t *suboffsets;
                 void *internal; ...; } HPy_buffer;

HPyContext *_hpy_pypy_ctx_ptr(void);
void _hpy_pypy_init(void);
void *_hpy_pypy_dlopen(const char *path);
const char *_hpy_pypy_dlerror(void);
void *_hpy_pypy_dlsym(void *lib, const char *name);
uint32_t _hpy_pypy_call_version(void *f);
void _hpy_pypy_call_init_ctx(void *f, HPyContext *ctx);
HPyContext *_hpy_pypy_add_moded(void *symbol, int mode);
HPyModuleDef *_hpy_pypy_call_init(void *f);
void _hpy_pypy_call_capsule_destructor(void *f, const char *name, void *pointer, void *context);
int _hpy_pypy_visit_fields(void *traverse, void *object, intptr_t *out, int max);
void *_hpy_pypy_alloc(size_t size, HPyCFunction destroy, HPyCFunction traverse);
intptr_t _hpy_pypy_alloc_addr(size_t size, HPyCFunction destroy, HPyCFunction traverse);
void _hpy_pypy_free(void *data);
size_t _hpy_pypy_heap_in_use(void);
extern "Python" void _hpy_pypy_flush_closes(intptr_t *queue, int n);

typedef void (*_HPyTraceHook)(void *data, const char *name);
HPyContext *hpy_trace_get_ctx(HPyContext *uctx);
int hpy_trace_get_nfunc(void);
const char *hpy_trace_get_func_name(int id);
uint64_t hpy_trace_get_call_count(HPyContext *tctx, int id);
uint64_t hpy_trace_get_duration_ns(HPyContext *tctx, int id);
uint64_t hpy_trace_clock_resolution_ns(void);
void hpy_trace_set_hooks(HPyContext *tctx, _HPyTraceHook on_enter, _HPyTraceHook on_exit, void *data);
extern "Python" void _hpy_pypy_trace_enter(void *data, const char *name);
extern "Python" void _hpy_pypy_trace_exit(void *data, const char *name);

typedef struct { void *id; HPy uh; int is_closed; void *site; void *close_site;
                 void *const *stack; int stack_len; size_t mem_size; int has_mem; ...; }
        hpy_debug_handle_info;
HPyContext *hpy_debug_get_ctx(HPyContext *uctx);
void hpy_debug_handle(void *id, hpy_debug_handle_info *out);
void hpy_debug_force_close(void *id);
long hpy_debug_new_generation(void);
size_t hpy_debug_open_handles(long gen, hpy_debug_handle_info *out, size_t max);
size_t hpy_debug_closed_handles(long gen, hpy_debug_handle_info *out, size_t max);
size_t hpy_debug_get_closed_handles_queue_max_size(void);
void hpy_debug_set_closed_handles_queue_max_size(size_t size);
size_t hpy_debug_get_protected_raw_data_max_size(void);
void hpy_debug_set_protected_raw_data_max_size(size_t size);
size_t hpy_debug_get_protected_raw_data_size(void);
void hpy_debug_set_on_invalid_handle(HPy uh_callable);
void hpy_debug_set_on_invalid_builder_handle(HPy uh_callable);
int hpy_debug_get_stack_limit(void);
void hpy_debug_set_stack_limit(int limit);
size_t hpy_debug_describe_site(const void *address, char *buf, size_t size);
int _hpy_pypy_flush_if_pending(void);
void _hpy_pypy_set_tables(intptr_t *structs, intptr_t *refs, intptr_t *kinds, intptr_t *typekeys,
                          double *floats, intptr_t n, intptr_t *globals, intptr_t nglobals);
void _hpy_pypy_set_err(int on);
void _hpy_pypy_set_made(intptr_t *spare, intptr_t *nspare, intptr_t *made, intptr_t *nmade, intptr_t nmade_max,
                        uint8_t *unsettled);
void _hpy_pypy_set_pools(intptr_t *pool, intptr_t *pool_n, intptr_t npools, intptr_t per_pool,
                         intptr_t *news_left);
void _hpy_pypy_builder_free(intptr_t b);
"""

SOURCE = """
#define HPY_ABI_HYBRID  /* the universal headers, with Python.h already included by cffi */
#include <dlfcn.h>
#include <link.h>
#ifdef __GLIBC__
#  include <malloc.h>
#endif
#include "hpy.h"
#include "hpy_debug.h"
#include "hpy_trace.h"

static struct _HPyContext_s _hpy_pypy_ctx;
static HPyContext *_hpy_pypy_ctx_ptr(void) { return &_hpy_pypy_ctx; }

/* Binaries loaded in debug or trace mode: the runtime calls an extension's
 * functions itself (no trampolines), so each call looks up the context of
 * the binary the function lives in. Universal-only processes skip the
 * lookup: _hpy_pypy_nmoded stays 0. */
typedef struct { uintptr_t lo, hi; HPyContext *ctx; int debug; } _hpy_pypy_moded_lib;
#define _HPY_PYPY_MAX_MODED 256
static _hpy_pypy_moded_lib _hpy_pypy_moded[_HPY_PYPY_MAX_MODED];
static int _hpy_pypy_nmoded;

/* f's context; in debug mode f becomes the debug layer's thunk, which takes
 * this runtime's context and universal handles and gives f debug ones. */
static HPyContext *_hpy_pypy_moded_ctx(void **f, HPyFunc_Signature sig)
{
    uintptr_t a = (uintptr_t)*f;
    int i;
    for (i = 0; i < _hpy_pypy_nmoded; i++) {
        if (a >= _hpy_pypy_moded[i].lo && a < _hpy_pypy_moded[i].hi) {
            if (!_hpy_pypy_moded[i].debug)
                return _hpy_pypy_moded[i].ctx;
            *f = (void *)hpy_debug_prepare_call(sig, (HPyCFunction)*f);
            return &_hpy_pypy_ctx;
        }
    }
    return &_hpy_pypy_ctx;
}
#define _HPY_PYPY_CALL_CTX(f, sig) \
    (_hpy_pypy_nmoded ? _hpy_pypy_moded_ctx(&(f), (sig)) : &_hpy_pypy_ctx)

typedef struct { uintptr_t addr, lo, hi; } _hpy_pypy_range;
static int _hpy_pypy_find_range(struct dl_phdr_info *info, size_t size, void *arg)
{
    _hpy_pypy_range *r = (_hpy_pypy_range *)arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    int i, hit = 0;
    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        uintptr_t start, end;
        if (p->p_type != PT_LOAD)
            continue;
        start = info->dlpi_addr + p->p_vaddr;
        end = start + p->p_memsz;
        lo = start < lo ? start : lo;
        hi = end > hi ? end : hi;
        hit |= r->addr >= start && r->addr < end;
    }
    if (!hit)
        return 0;
    r->lo = lo;
    r->hi = hi;
    return 1;
}

/* The context of the binary holding symbol, loaded in mode (1: debug,
 * 2: trace); NULL when out of memory or too many such binaries. */
static HPyContext *_hpy_pypy_add_moded(void *symbol, int mode)
{
    _hpy_pypy_range r = { (uintptr_t)symbol, 0, 0 };
    HPyContext *ctx = mode == 1 ? hpy_debug_get_ctx(&_hpy_pypy_ctx) : hpy_trace_get_ctx(&_hpy_pypy_ctx);
    _hpy_pypy_moded_lib *lib = &_hpy_pypy_moded[_hpy_pypy_nmoded];
    if (ctx == NULL || _hpy_pypy_nmoded == _HPY_PYPY_MAX_MODED ||
            !dl_iterate_phdr(_hpy_pypy_find_range, &r))
        return NULL;
    lib->lo = r.lo;
    lib->hi = r.hi;
    lib->ctx = ctx;
    lib->debug = mode == 1;
    _hpy_pypy_nmoded++;
    return ctx;
}

/* HPy_Close of a handle is queued here: the slots are freed in one callback
 * when the queue is full and whenever an extension function returns to
 * Python, so closing costs no C-to-Python call most of the time. */
#define _HPY_PYPY_CLOSE_QUEUE 256
static intptr_t _hpy_pypy_close_queue[_HPY_PYPY_CLOSE_QUEUE];
static int _hpy_pypy_nclose;
static void _hpy_pypy_flush_closes(intptr_t *queue, int n);

static void _hpy_pypy_queue_close(intptr_t h)
{
    if (_hpy_pypy_nclose == _HPY_PYPY_CLOSE_QUEUE) {
        _hpy_pypy_nclose = 0;
        _hpy_pypy_flush_closes(_hpy_pypy_close_queue, _HPY_PYPY_CLOSE_QUEUE);
    }
    _hpy_pypy_close_queue[_hpy_pypy_nclose++] = h;
}

/* 1 if handles were waiting (they are freed now), else 0 */
static int _hpy_pypy_flush_if_pending(void)
{
    int n = _hpy_pypy_nclose;
    if (n == 0)
        return 0;
    _hpy_pypy_nclose = 0;
    _hpy_pypy_flush_closes(_hpy_pypy_close_queue, n);
    return 1;
}

/* handles.py's per-handle tables (see there), for handles below
 * _hpy_pypy_nslots, and its handles kept open to globals: the context calls
 * they can answer make no callback */
static intptr_t *_hpy_pypy_structs, *_hpy_pypy_refs, *_hpy_pypy_kinds, *_hpy_pypy_typekeys;
static double *_hpy_pypy_floats;
static intptr_t _hpy_pypy_nslots;
static intptr_t *_hpy_pypy_globals;
static intptr_t _hpy_pypy_nglobals;
#define _HPY_PYPY_IN_TABLES(i) ((uintptr_t)(i) < (uintptr_t)_hpy_pypy_nslots)
#define _HPY_PYPY_KIND_FLOAT (-1)
static void _hpy_pypy_set_tables(intptr_t *structs, intptr_t *refs, intptr_t *kinds, intptr_t *typekeys,
                                 double *floats, intptr_t n, intptr_t *globals, intptr_t nglobals)
{
    _hpy_pypy_structs = structs;
    _hpy_pypy_refs = refs;
    _hpy_pypy_kinds = kinds;
    _hpy_pypy_typekeys = typekeys;
    _hpy_pypy_floats = floats;
    _hpy_pypy_nslots = n;
    _hpy_pypy_globals = globals;
    _hpy_pypy_nglobals = nglobals;
}

/* Handles C opens without a callback (HPyFloat_FromDouble): handles.py
 * reserves spare slots; C takes one, notes the float in the tables and the
 * handle in made[]; the Python object is made (settled) when Python code
 * next runs. Closed before that, the slot goes straight back to spare. */
static intptr_t *_hpy_pypy_spare, *_hpy_pypy_nspare, *_hpy_pypy_made, *_hpy_pypy_nmade;
static intptr_t _hpy_pypy_nmade_max;
static uint8_t *_hpy_pypy_unsettled;
static void _hpy_pypy_set_made(intptr_t *spare, intptr_t *nspare, intptr_t *made, intptr_t *nmade, intptr_t nmade_max,
                               uint8_t *unsettled)
{
    _hpy_pypy_spare = spare;
    _hpy_pypy_nspare = nspare;
    _hpy_pypy_made = made;
    _hpy_pypy_nmade = nmade;
    _hpy_pypy_nmade_max = nmade_max;
    _hpy_pypy_unsettled = unsettled;
}
/* Instances of the HPy type with key k made ahead by ctx_types.py (for
 * types that HPy_New often): pool[k * per_pool ...] holds pool_n[k] open
 * handles to them, so HPy_New takes one with no callback. news_left counts
 * down to ctx_types' next look at the C heap: the New that reaches it calls
 * back, so that the look is not skipped. */
static intptr_t *_hpy_pypy_pool, *_hpy_pypy_pool_n, *_hpy_pypy_news_left;
static intptr_t _hpy_pypy_npools, _hpy_pypy_per_pool;
static void _hpy_pypy_set_pools(intptr_t *pool, intptr_t *pool_n, intptr_t npools, intptr_t per_pool,
                                intptr_t *news_left)
{
    _hpy_pypy_pool = pool;
    _hpy_pypy_pool_n = pool_n;
    _hpy_pypy_npools = npools;
    _hpy_pypy_per_pool = per_pool;
    _hpy_pypy_news_left = news_left;
}

static void _hpy_pypy_unmake(intptr_t h)
{
    _hpy_pypy_unsettled[h] = 0;
    _hpy_pypy_kinds[h] = 0;
    if (*_hpy_pypy_nmade > 0 && _hpy_pypy_made[*_hpy_pypy_nmade - 1] == h)
        (*_hpy_pypy_nmade)--;  /* made and closed in turn: made[] does not grow */
    _hpy_pypy_spare[(*_hpy_pypy_nspare)++] = h;
}

/* List and tuple builders: a C array [n, n item handles], each item a new
 * owner of its handle (Set does not steal); only Build calls back (and Set
 * of a bad index, which raises there). */
static HPy _hpy_c_HPy_Dup(HPyContext *ctx, HPy h);
static void _hpy_c_HPy_Close(HPyContext *ctx, HPy h);
static intptr_t _hpy_pypy_builder_new(HPy_ssize_t size)
{
    intptr_t *items;
    if (size < 0 || (size_t)size >= SIZE_MAX / sizeof(intptr_t) - 1)
        return 0;  /* Build reports it */
    items = (intptr_t *)calloc((size_t)size + 1, sizeof(intptr_t));
    if (items == NULL)
        return 0;
    items[0] = size;
    return (intptr_t)items;
}
/* 0 when done (nothing to do for a failed builder), -1 for a bad index */
static int _hpy_pypy_builder_set(HPyContext *ctx, intptr_t b, HPy_ssize_t i, HPy h)
{
    intptr_t *items = (intptr_t *)b, old;
    if (items == NULL)
        return 0;
    if (i < 0 || i >= items[0])
        return -1;
    old = items[i + 1];
    items[i + 1] = h._i ? _hpy_c_HPy_Dup(ctx, h)._i : 0;
    if (old) {
        HPy o;
        o._i = old;
        _hpy_c_HPy_Close(ctx, o);
    }
    return 0;
}
static void _hpy_pypy_builder_cancel(HPyContext *ctx, intptr_t b)
{
    intptr_t *items = (intptr_t *)b, i;
    if (items == NULL)
        return;
    for (i = 1; i <= items[0]; i++) {
        if (items[i]) {
            HPy h;
            h._i = items[i];
            _hpy_c_HPy_Close(ctx, h);
        }
    }
    free(items);
}
static void _hpy_pypy_builder_free(intptr_t b) { free((void *)b); }

/* whether this thread has an HPy error set: errors.py keeps it in step with
 * its thread-local exception, so HPyErr_Occurred needs no callback */
static __thread int _hpy_pypy_err_set;
static void _hpy_pypy_set_err(int on) { _hpy_pypy_err_set = on; }

#include "autogen_ctx.c"

static void _hpy_pypy_init(void)
{
    _hpy_pypy_ctx.name = "HPy Universal ABI (hpy-build runtime, cffi backend)";
    _hpy_pypy_ctx.abi_version = HPY_ABI_VERSION;
    _hpy_pypy_fill_ctx(&_hpy_pypy_ctx);
}

/* Never closed: the module's code must outlive every object it made. */
static void *_hpy_pypy_dlopen(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static const char *_hpy_pypy_dlerror(void) { const char *e = dlerror(); return e ? e : "unknown error"; }
static void *_hpy_pypy_dlsym(void *lib, const char *name) { return dlsym(lib, name); }
static uint32_t _hpy_pypy_call_version(void *f) { return ((uint32_t (*)(void))f)(); }
static void _hpy_pypy_call_init_ctx(void *f, HPyContext *ctx) { ((void (*)(HPyContext *))f)(ctx); }
static HPyModuleDef *_hpy_pypy_call_init(void *f) { return ((HPyModuleDef *(*)(void))f)(); }
static void _hpy_pypy_call_capsule_destructor(void *f, const char *name, void *pointer, void *context)
{
    ((HPyFunc_Capsule_Destructor)f)(name, pointer, context);
}

/* An instance's struct, zeroed, after a header holding its type's
 * tp_destroy and tp_traverse.
 * _hpy_pypy_free is a C function so that ffi.gc makes it a light finalizer
 * on PyPy: the struct (and what tp_destroy frees) goes with the minor
 * collection that finds the instance dead, not some major one later. */
#define _HPY_PYPY_HEADER 16  /* keeps the struct 16-byte aligned */
static void *_hpy_pypy_alloc(size_t size, HPyCFunction destroy, HPyCFunction traverse)
{
    char *block = (char *)calloc(1, _HPY_PYPY_HEADER + (size ? size : 1));
    if (block == NULL)
        return NULL;
    ((HPyCFunction *)block)[0] = destroy;
    ((HPyCFunction *)block)[1] = traverse;
    return block + _HPY_PYPY_HEADER;
}
/* the same as an integer: the Python side needs both the address (for the
 * handle tables) and a pointer, and an int converts once instead of twice */
static intptr_t _hpy_pypy_alloc_addr(size_t size, HPyCFunction destroy, HPyCFunction traverse)
{
    return (intptr_t)_hpy_pypy_alloc(size, destroy, traverse);
}
static int _hpy_pypy_clear_field(HPyField *f, void *arg)
{
    (void)arg;
    f->_i = 0;
    return 0;
}
static void _hpy_pypy_free(void *data)
{
    char *block = (char *)data - _HPY_PYPY_HEADER;
    HPyCFunction destroy = ((HPyCFunction *)block)[0];
    HPyCFunction traverse = ((HPyCFunction *)block)[1];
    /* as in HPy 0.9, tp_destroy finds the fields cleared (their objects
       belong to the dead instance's Python side) */
    if (traverse != NULL)
        ((HPyFunc_traverseproc)traverse)(data, _hpy_pypy_clear_field, NULL);
    if (destroy != NULL)
        ((HPyFunc_destroyfunc)destroy)(data);
    free(block);
}

/* Bytes the C heap holds: what extensions malloc is invisible to PyPy's GC,
 * so the runtime reports its growth as memory pressure. */
static size_t _hpy_pypy_heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#else
    return 0;
#endif
}

/* tp_traverse: collect the non-NULL fields an object reports (up to max). */
typedef struct { intptr_t *out; int n, max; } _hpy_pypy_fields;
static int _hpy_pypy_visit_one(HPyField *f, void *arg)
{
    _hpy_pypy_fields *a = (_hpy_pypy_fields *)arg;
    if (a->n < a->max)
        a->out[a->n] = f->_i;
    a->n++;
    return 0;
}
static int _hpy_pypy_visit_fields(void *traverse, void *object, intptr_t *out, int max)
{
    _hpy_pypy_fields a = { out, 0, max };
    ((HPyFunc_traverseproc)traverse)(object, _hpy_pypy_visit_one, &a);
    return a.n;
}
"""

ffibuilder = cffi.FFI()
with open(os.path.join(HERE, "autogen_cdef.h")) as _f:
    ffibuilder.cdef(CDEF_TYPES + _f.read())
ffibuilder.set_source(
    "hpy_build._hpy_cffi", SOURCE,
    include_dirs=[INCLUDE, HERE, DEBUG_SRC, TRACE_SRC],
    sources=sorted(glob.glob(os.path.join(DEBUG_SRC, "*.c")) + glob.glob(os.path.join(TRACE_SRC, "*.c"))),
    py_limited_api=False, define_macros=[("_CFFI_NO_LIMITED_API", None)],  # hybrid headers use Py_buffer
    extra_compile_args=["-Wno-unused-function", "-Wno-unused-parameter"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
