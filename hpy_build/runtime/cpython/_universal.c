/* hpy_build._universal: loads universal (.hpy0) binaries into CPython.
 * File-name checks live in hpy_build/universal.py; this checks the binary. */
#include <dlfcn.h>
#include <stdio.h>
#include "universal.h"
#include "hpy_trace.h"

static struct _HPyContext_s universal_ctx;

/* The context universal modules get; trace mode wraps it. */
HPyContext *_hpy_universal_ctx(void)
{
    return &universal_ctx;
}

/* As hpy_build.universal.MODE_* (and HPy 0.9's hpy.universal). */
enum { MODE_UNIVERSAL = 0, MODE_DEBUG = 1, MODE_TRACE = 2 };

/* The context a module loaded in ``mode`` gets; chosen once per load, so the
 * universal path has no per-call branch. NULL with an error set. */
static HPyContext *context_for_mode(int mode)
{
    switch (mode) {
    case MODE_UNIVERSAL:
        return &universal_ctx;
    case MODE_DEBUG: {
        HPyContext *ctx = hpy_debug_get_ctx(&universal_ctx);
        if (ctx == NULL)
            PyErr_SetString(PyExc_ImportError, "could not create the HPy debug context");
        return ctx;
    }
    case MODE_TRACE: {
        HPyContext *tctx = hpy_trace_get_ctx(&universal_ctx);
        if (tctx == NULL)
            PyErr_NoMemory();
        return tctx;
    }
    default:
        PyErr_Format(PyExc_ValueError, "unknown HPy mode %d", mode);
        return NULL;
    }
}

typedef uint32_t (*version_func)(void);
typedef void (*init_ctx_func)(HPyContext *);
typedef HPyModuleDef *(*init_func)(void);

static void *find_symbol(void *lib, const char *prefix, const char *shortname, PyObject *path,
                         PyObject *name)
{
    char symbol[512];
    void *address;
    snprintf(symbol, sizeof(symbol), "%s%s", prefix, shortname);
    address = dlsym(lib, symbol);
    if (address == NULL) {
        PyObject *msg = PyUnicode_FromFormat(
            "%U is not an HPy universal module: it does not export '%s'. Build it "
            "from a source with HPy_MODINIT(%s, ...) for the universal ABI, and keep "
            "the file name's module name '%s'.", path, symbol, shortname, shortname);
        if (msg != NULL) {
            PyErr_SetImportError(msg, name, path);
            Py_DECREF(msg);
        }
    }
    return address;
}

static PyObject *import_error(PyObject *name, PyObject *path, const char *format, ...)
{
    va_list vargs;
    PyObject *msg;
    va_start(vargs, format);
    msg = PyUnicode_FromFormatV(format, vargs);
    va_end(vargs);
    if (msg != NULL)
        PyErr_SetImportError(msg, name, path);
    Py_XDECREF(msg);
    return NULL;
}

/* An ABI mismatch: raises error_class(message, name=, path=), an ImportError
 * that is also HPy 0.9's RuntimeError (hpy_build.universal.HPyABIError).
 * The message is HPy 0.9's; what to do follows as a note. */
static PyObject *abi_error(PyObject *error_class, PyObject *name, PyObject *path,
                           const char *advice, const char *format, ...)
{
    va_list vargs;
    PyObject *msg, *note, *args = NULL, *kwargs = NULL, *exc = NULL;
    va_start(vargs, format);
    msg = PyUnicode_FromFormatV(format, vargs);
    va_end(vargs);
    note = PyUnicode_FromFormat("%U: %s", path, advice);
    if (msg != NULL) {
        args = PyTuple_Pack(1, msg);
        kwargs = Py_BuildValue("{s:O,s:O}", "name", name, "path", path);
    }
    if (args != NULL && kwargs != NULL && note != NULL)
        exc = PyObject_Call(error_class, args, kwargs);
    if (exc != NULL)
        _hpy_raise_with_note(exc, note);
    Py_XDECREF(exc);
    Py_XDECREF(note);
    Py_XDECREF(msg);
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    return NULL;
}

static int has_legacy_methods(HPyModuleDef *hpydef)
{
    cpy_PyMethodDef *legacy = hpydef->legacy_methods;
    return legacy != NULL && legacy->ml_name != NULL;
}

/* Adds "while loading ..." to the raised exception as a PEP 678 note,
 * after any notes it has; if that fails, the exception is kept as it is. */
static PyObject *note_the_file(PyObject *name, PyObject *path)
{
    PyObject *exc, *note, *done = NULL;
#if PY_VERSION_HEX >= 0x030C0000
    exc = PyErr_GetRaisedException();
#else
    PyObject *type, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
#endif
    if (exc == NULL)
        goto restore;
    note = PyUnicode_FromFormat("while loading the HPy module '%U' from %U", name, path);
    if (note != NULL) {
#if PY_VERSION_HEX >= 0x030B0000
        done = PyObject_CallMethod(exc, "add_note", "O", note);
#else
        PyObject *notes = PyObject_GetAttrString(exc, "__notes__");
        if (notes == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            notes = PyList_New(0);
            if (notes != NULL && PyObject_SetAttrString(exc, "__notes__", notes) < 0)
                Py_CLEAR(notes);
        }
        if (notes != NULL && PyList_Check(notes) && PyList_Append(notes, note) == 0) {
            done = Py_None;
            Py_INCREF(done);
        }
        Py_XDECREF(notes);
#endif
        Py_DECREF(note);
    }
    if (done == NULL)
        PyErr_Clear();  /* no note (no memory, or odd __notes__): the error stands */
    Py_XDECREF(done);
restore:
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(type, exc, tb);
#endif
    return NULL;
}

static PyObject *load(PyObject *self, PyObject *args)
{
    PyObject *name, *path, *spec, *module, *error_class;
    const char *fspath, *dotted, *shortname;
    char *kept_name;
    int file_major;  /* -1: the file name has no .hpy<N> tag */
    int hybrid, mode;
    void *lib;
    HPyContext *ctx;
    version_func get_major, get_minor;
    init_ctx_func init_ctx;
    init_func init;
    uint32_t major, minor;
    char advice[256];
    HPyModuleDef *hpydef;
    PyModuleDef *pydef;
    (void)self;

    /* path: str for messages; fspath: its bytes, absolute, for dlopen */
    if (!PyArg_ParseTuple(args, "UUyOipOi:load", &name, &path, &fspath, &spec, &file_major,
                          &hybrid, &error_class, &mode))
        return NULL;
    ctx = context_for_mode(mode);
    if (ctx == NULL)
        return NULL;
    dotted = PyUnicode_AsUTF8(name);
    if (dotted == NULL)
        return NULL;
    shortname = strrchr(dotted, '.') ? strrchr(dotted, '.') + 1 : dotted;

    /* Never closed: the module's code must outlive every object it made. */
    lib = dlopen(fspath, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return import_error(name, path, "Error during loading of the HPy extension module at "
                            "path '%U'. Error message from dlopen/WinAPI: %s", path, dlerror());

    get_major = (version_func)find_symbol(lib, "get_required_hpy_major_version_", shortname, path, name);
    if (get_major == NULL)
        return NULL;
    get_minor = (version_func)find_symbol(lib, "get_required_hpy_minor_version_", shortname, path, name);
    if (get_minor == NULL)
        return NULL;
    init_ctx = (init_ctx_func)find_symbol(lib, "HPyInitGlobalContext_", shortname, path, name);
    if (init_ctx == NULL)
        return NULL;
    init = (init_func)find_symbol(lib, "HPyInit_", shortname, path, name);
    if (init == NULL)
        return NULL;

    major = get_major();
    minor = get_minor();
    if (major != HPY_ABI_VERSION || minor > HPY_ABI_VERSION_MINOR) {
        snprintf(advice, sizeof(advice),
                 "this hpy-build runtime loads HPy ABI %d.0 to %d.%d; rebuild the module with "
                 "this hpy-build, or install an hpy-build that supports ABI %u.%u",
                 HPY_ABI_VERSION, HPY_ABI_VERSION, HPY_ABI_VERSION_MINOR,
                 (unsigned)major, (unsigned)minor);
        return abi_error(error_class, name, path, advice,
            "HPy extension module '%s' requires unsupported version of the HPy runtime. "
            "Requested version: %u.%u. Current HPy version: %d.%d.",
            dotted, (unsigned)major, (unsigned)minor, HPY_ABI_VERSION, HPY_ABI_VERSION_MINOR);
    }
    if (file_major < 0) {
        snprintf(advice, sizeof(advice),
                 "name it like '%s.hpy%u.so', as a universal build (--hpy-abi=universal) does; "
                 "CPython-ABI binaries are imported directly, without hpy_build",
                 shortname, (unsigned)major);
        return abi_error(error_class, name, path, advice,
            "HPy extension module '%s' at path '%U': could not find HPy ABI tag encoded in "
            "the filename. The extension claims to be compiled with HPy ABI version: %u.%u.",
            dotted, path, (unsigned)major, (unsigned)minor);
    }
    if (major != (uint32_t)file_major) {
        snprintf(advice, sizeof(advice),
                 "the file was renamed or mis-built: a binary for ABI %u is named .hpy%u",
                 (unsigned)major, (unsigned)major);
        return abi_error(error_class, name, path, advice,
            "HPy extension module '%s' at path '%U': mismatch between the HPy ABI tag "
            "encoded in the filename and the major version requested by the HPy extension "
            "itself. Major version tag parsed from filename: %u. Requested version: %u.%u.",
            dotted, path, (unsigned)file_major, (unsigned)major, (unsigned)minor);
    }

    init_ctx(ctx);
    hpydef = init();
    if (hpydef == NULL)
        return import_error(name, path,
            "Error during loading of the HPy extension module at path '%U'. Function "
            "'HPyInit_%s' returned NULL.", path, shortname);
    if (!hybrid && has_legacy_methods(hpydef)) {
        PyErr_Format(PyExc_RuntimeError,
            "Module %s contains legacy methods, but it was built for the universal ABI, "
            "which cannot run C-API functions on every interpreter: build it with "
            "--hpy-abi=hybrid (or cpython), or port the legacy methods to HPyDef_METH (%U)",
            dotted, path);
        return NULL;
    }
    /* Past here errors come from the HPyModuleDef or the module's own slots,
     * whose messages name at most the module: a note names the file. */
    /* The def keeps the name for the life of the process. */
    kept_name = strdup(dotted);
    if (kept_name == NULL)
        return PyErr_NoMemory();
    pydef = _HPyModuleDef_CreatePyModuleDef(hpydef, kept_name);
    if (pydef == NULL) {
        free(kept_name);
        return note_the_file(name, path);
    }
    module = PyModule_FromDefAndSpec(pydef, spec);
    if (module == NULL)
        return note_the_file(name, path);
    /* HPy_mod_create may return any object; exec slots need a module (and
     * then there are none), as when the import system runs them. */
    if (PyModule_Check(module) && PyModule_ExecDef(module, pydef) < 0) {
        Py_DECREF(module);
        return note_the_file(name, path);
    }
    return module;
}

/* ---- hpy_build.debug: a thin binding of the debug context's C API ---- */

static PyObject *handle_tuple(hpy_debug_handle_info *info)
{
    PyObject *obj, *stack, *res;
    int i;
    if (info->is_closed) {
        obj = Py_None;
        Py_INCREF(obj);
    }
    else {
        obj = universal_ctx.ctx_AsPyObject(&universal_ctx, info->uh);
    }
    stack = PyTuple_New(info->stack_len);
    if (stack == NULL) {
        Py_XDECREF(obj);
        return NULL;
    }
    for (i = 0; i < info->stack_len; i++) {
        PyObject *frame = PyLong_FromVoidPtr(info->stack[i]);
        if (frame == NULL) {
            Py_DECREF(stack);
            Py_XDECREF(obj);
            return NULL;
        }
        PyTuple_SET_ITEM(stack, i, frame);
    }
    /* -1: no const char * kept (HPy 0.9's raw_data_size) */
    res = Py_BuildValue("(NNiNNNn)", PyLong_FromVoidPtr(info->id), obj, info->is_closed,
                        PyLong_FromVoidPtr(info->site), PyLong_FromVoidPtr(info->close_site),
                        stack, info->has_mem ? (Py_ssize_t)info->mem_size : (Py_ssize_t)-1);
    return res;
}

static PyObject *handle_list(int closed, long gen)
{
    size_t n = closed ? hpy_debug_closed_handles(gen, NULL, 0) : hpy_debug_open_handles(gen, NULL, 0);
    hpy_debug_handle_info *infos = PyMem_Calloc(n ? n : 1, sizeof(hpy_debug_handle_info));
    PyObject *list;
    size_t i;
    if (infos == NULL)
        return PyErr_NoMemory();
    n = closed ? hpy_debug_closed_handles(gen, infos, n) : hpy_debug_open_handles(gen, infos, n);
    list = PyList_New(0);
    for (i = 0; list != NULL && i < n; i++) {
        PyObject *item = handle_tuple(&infos[i]);
        if (item == NULL || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    PyMem_Free(infos);
    return list;
}

static PyObject *debug_new_generation(PyObject *self, PyObject *args)
{
    (void)self; (void)args;
    return PyLong_FromLong(hpy_debug_new_generation());
}

static PyObject *debug_handles(PyObject *self, PyObject *args)
{
    int closed;
    long gen;
    (void)self;
    if (!PyArg_ParseTuple(args, "il", &closed, &gen))
        return NULL;
    return handle_list(closed, gen);
}

/* The live state of one handle, by the id a list gave. */
static PyObject *debug_handle(PyObject *self, PyObject *arg)
{
    hpy_debug_handle_info info;
    void *id = PyLong_AsVoidPtr(arg);
    (void)self;
    if (id == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "no debug handle at address 0");
        return NULL;
    }
    hpy_debug_handle(id, &info);
    return handle_tuple(&info);
}

static PyObject *debug_force_close(PyObject *self, PyObject *arg)
{
    void *id = PyLong_AsVoidPtr(arg);
    (void)self;
    if (id == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "no debug handle at address 0");
        return NULL;
    }
    hpy_debug_force_close(id);
    if (PyErr_Occurred())  /* the close may run __del__, or the hook may raise */
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *debug_limits(PyObject *self, PyObject *args)
{
    (void)self; (void)args;
    return Py_BuildValue("(nnnI)", (Py_ssize_t)hpy_debug_get_closed_handles_queue_max_size(),
                         (Py_ssize_t)hpy_debug_get_protected_raw_data_max_size(),
                         (Py_ssize_t)hpy_debug_get_protected_raw_data_size(),
                         (unsigned)hpy_debug_get_stack_limit());
}

static PyObject *debug_set_limits(PyObject *self, PyObject *args)
{
    Py_ssize_t closed_max, protected_max;
    int stack_limit;
    (void)self;
    if (!PyArg_ParseTuple(args, "nni", &closed_max, &protected_max, &stack_limit))
        return NULL;
    hpy_debug_set_closed_handles_queue_max_size((size_t)closed_max);
    hpy_debug_set_protected_raw_data_max_size((size_t)protected_max);
    hpy_debug_set_stack_limit(stack_limit);
    Py_RETURN_NONE;
}

static PyObject *debug_set_hook(PyObject *self, PyObject *args)
{
    int builder;
    PyObject *callable;
    HPy uh = HPy_NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "iO", &builder, &callable))
        return NULL;
    if (callable != Py_None)
        uh = universal_ctx.ctx_FromPyObject(&universal_ctx, callable);
    if (builder)
        hpy_debug_set_on_invalid_builder_handle(uh);
    else
        hpy_debug_set_on_invalid_handle(uh);
    Py_RETURN_NONE;
}

static PyObject *debug_describe_site(PyObject *self, PyObject *arg)
{
    char buf[1024];
    void *address = PyLong_AsVoidPtr(arg);
    (void)self;
    if (address == NULL && PyErr_Occurred())
        return NULL;
    hpy_debug_describe_site(address, buf, sizeof(buf));
    return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)strlen(buf), "replace");
}

static PyMethodDef methods[] = {
    {"_debug_new_generation", debug_new_generation, METH_NOARGS, NULL},
    {"_debug_handles", debug_handles, METH_VARARGS, NULL},
    {"_debug_handle", debug_handle, METH_O, NULL},
    {"_debug_force_close", debug_force_close, METH_O, NULL},
    {"_debug_limits", debug_limits, METH_NOARGS, NULL},
    {"_debug_set_limits", debug_set_limits, METH_VARARGS, NULL},
    {"_debug_set_hook", debug_set_hook, METH_VARARGS, NULL},
    {"_debug_describe_site", debug_describe_site, METH_O, NULL},
    {"load", load, METH_VARARGS,
     "load(name, path, fspath, spec, file_major, hybrid, abi_error, mode): load a universal HPy "
     "binary (see hpy_build.universal)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "hpy_build._universal",
    "The HPy universal runtime for CPython.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__universal(void)
{
    PyObject *module = PyModule_Create(&moduledef);
    if (module == NULL)
        return NULL;
    universal_ctx.name = "HPy Universal ABI (hpy-build runtime, CPython backend)";
    universal_ctx.abi_version = HPY_ABI_VERSION;
    _hpy_universal_fill_ctx(&universal_ctx);
    if (PyModule_AddIntConstant(module, "ABI_VERSION", HPY_ABI_VERSION) < 0 ||
        PyModule_AddIntConstant(module, "ABI_VERSION_MINOR", HPY_ABI_VERSION_MINOR) < 0 ||
        _hpy_trace_add_module(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
