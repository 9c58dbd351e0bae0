/* hpy_build._universal: loads universal (.hpy0) binaries into CPython.
 * File-name checks live in hpy_build/universal.py; this checks the binary. */
#include <dlfcn.h>
#include <stdio.h>
#include "universal.h"

static struct _HPyContext_s universal_ctx;

typedef uint32_t (*version_func)(void);
typedef void (*init_ctx_func)(HPyContext *);
typedef HPyModuleDef *(*init_func)(void);

static void *find_symbol(void *lib, const char *prefix, const char *shortname, const char *path,
                         PyObject *name)
{
    char symbol[512];
    void *address;
    snprintf(symbol, sizeof(symbol), "%s%s", prefix, shortname);
    address = dlsym(lib, symbol);
    if (address == NULL) {
        PyObject *msg = PyUnicode_FromFormat(
            "%s is not an HPy universal module: it does not export '%s'. Build it "
            "from a source with HPy_MODINIT(%s, ...) for the universal ABI, and keep "
            "the file name's module name '%s'.", path, symbol, shortname, shortname);
        if (msg != NULL) {
            PyErr_SetImportError(msg, name, NULL);
            Py_DECREF(msg);
        }
    }
    return address;
}

static PyObject *import_error(PyObject *name, const char *path, const char *format, ...)
{
    va_list vargs;
    PyObject *msg, *py_path;
    va_start(vargs, format);
    msg = PyUnicode_FromFormatV(format, vargs);
    va_end(vargs);
    py_path = PyUnicode_DecodeFSDefault(path);
    if (msg != NULL && py_path != NULL)
        PyErr_SetImportError(msg, name, py_path);
    Py_XDECREF(msg);
    Py_XDECREF(py_path);
    return NULL;
}

static PyObject *load(PyObject *self, PyObject *args)
{
    PyObject *name, *spec, *module;
    const char *path, *dotted, *shortname;
    unsigned int file_major;
    void *lib;
    version_func get_major, get_minor;
    init_ctx_func init_ctx;
    init_func init;
    uint32_t major, minor;
    HPyModuleDef *hpydef;
    PyModuleDef *pydef;
    (void)self;

    if (!PyArg_ParseTuple(args, "UsOI:load", &name, &path, &spec, &file_major))
        return NULL;
    dotted = PyUnicode_AsUTF8(name);
    if (dotted == NULL)
        return NULL;
    shortname = strrchr(dotted, '.') ? strrchr(dotted, '.') + 1 : dotted;

    /* Never closed: the module's code must outlive every object it made. */
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return import_error(name, path, "cannot load HPy module %s: %s", path, dlerror());

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
    if (major != HPY_ABI_VERSION || minor > HPY_ABI_VERSION_MINOR)
        return import_error(name, path,
            "%s requires HPy ABI version %u.%u, but this hpy-build runtime supports "
            "%d.0 to %d.%d: rebuild the module with this hpy-build, or install an "
            "hpy-build that supports ABI %u.%u",
            path, (unsigned)major, (unsigned)minor, HPY_ABI_VERSION, HPY_ABI_VERSION,
            HPY_ABI_VERSION_MINOR, (unsigned)major, (unsigned)minor);
    if (major != file_major)
        return import_error(name, path,
            "%s is named for HPy ABI major version %u (.hpy%u) but the binary requires "
            "version %u: the file was renamed or mis-built", path, file_major, file_major,
            (unsigned)major);

    init_ctx(&universal_ctx);
    hpydef = init();
    if (hpydef == NULL)
        return import_error(name, path, "%s: HPyInit_%s returned NULL", path, shortname);
    /* The def keeps the name for the life of the process. */
    pydef = _HPyModuleDef_CreatePyModuleDef(hpydef, strdup(dotted));
    if (pydef == NULL)
        return NULL;
    module = PyModule_FromDefAndSpec(pydef, spec);
    if (module == NULL)
        return NULL;
    if (PyModule_ExecDef(module, pydef) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

static PyMethodDef methods[] = {
    {"load", load, METH_VARARGS,
     "load(name, path, spec, file_major): load a universal HPy binary (see hpy_build.universal)"},
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
        PyModule_AddIntConstant(module, "ABI_VERSION_MINOR", HPY_ABI_VERSION_MINOR) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
