"""cffi build script of the universal runtime for PyPy (``hpy_build._hpy_cffi``).

API mode: cffi compiles a C module holding the context struct, whose members
are C adapters around ``extern "Python"`` callbacks (see autogen_ctx.c), and
one helper per HPyFunc signature to call an extension's functions. setup.py
builds it ahead of time (``cffi_modules``); on CPython only when cffi is there.
"""
import os

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "include")
if not os.path.isdir(INCLUDE):  # installed: the headers are package data
    INCLUDE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "include")

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
void _hpy_pypy_call_init_ctx(void *f);
HPyModuleDef *_hpy_pypy_call_init(void *f);
void _hpy_pypy_call_capsule_destructor(void *f, const char *name, void *pointer, void *context);
int _hpy_pypy_visit_fields(void *traverse, void *object, intptr_t *out, int max);
void *_hpy_pypy_alloc(size_t size, HPyCFunction destroy, HPyCFunction traverse);
void _hpy_pypy_free(void *data);
size_t _hpy_pypy_heap_in_use(void);
extern "Python" void _hpy_pypy_flush_closes(intptr_t *queue, int n);
int _hpy_pypy_flush_if_pending(void);
void _hpy_pypy_set_structs(intptr_t *table, intptr_t n);
"""

SOURCE = """
#define HPY_ABI_HYBRID  /* the universal headers, with Python.h already included by cffi */
#include <dlfcn.h>
#ifdef __GLIBC__
#  include <malloc.h>
#endif
#include "hpy.h"

static struct _HPyContext_s _hpy_pypy_ctx;
static HPyContext *_hpy_pypy_ctx_ptr(void) { return &_hpy_pypy_ctx; }

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

/* handle -> address of its object's struct (0: unknown), kept by handles.py
 * for handles below _hpy_pypy_nstructs: _HPy_AsStruct_* need no callback then */
static intptr_t *_hpy_pypy_structs;
static intptr_t _hpy_pypy_nstructs;
static void _hpy_pypy_set_structs(intptr_t *table, intptr_t n)
{
    _hpy_pypy_structs = table;
    _hpy_pypy_nstructs = n;
}

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
static void _hpy_pypy_call_init_ctx(void *f) { ((void (*)(HPyContext *))f)(&_hpy_pypy_ctx); }
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
    include_dirs=[INCLUDE, HERE],
    py_limited_api=False, define_macros=[("_CFFI_NO_LIMITED_API", None)],  # hybrid headers use Py_buffer
    extra_compile_args=["-Wno-unused-function", "-Wno-unused-parameter"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
