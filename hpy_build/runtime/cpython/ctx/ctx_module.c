/* HPyModuleDef -> PyModuleDef, shared by the CPython ABI (PyInit_<ext>) and
 * the universal runtime's loader. Errors match HPy 0.9's runtime (type and
 * leading words); what to do about them follows. */
#include "hpy.h"

_HPy_HIDDEN struct _HPyContext_s _hpy_cpython_ctx;

/* Why HPy_mod_create excludes everything else, in HPy 0.9's words. */
#define _HPY_CREATE_ALONE                                                           \
    "This is not allowed because custom HPy_mod_create slot cannot return a "       \
    "builtin module object and cannot make any use of any other data defined in "  \
    "the HPyModuleDef. Either do not define HPy_mod_create slot and let the "      \
    "runtime create a builtin module object from the provided HPyModuleDef, or do " \
    "not define anything else but the HPy_mod_create slot."

/* The PyModuleDef we hand to CPython, followed by what the create wrapper
 * needs: CPython passes the def back to the create function. */
typedef struct {
    PyModuleDef def;
    PyObject *(*create)(PyObject *, PyModuleDef *);
} _HPyPyModuleDef;

/* Raises exc. HPy 0.9's own tests compare some of its messages exactly, so
 * there HPy's words are the whole message and our advice follows as a
 * PEP 678 note: tracebacks print it after the message from 3.11 on; before,
 * it is kept in __notes__ where tools such as pytest show it. */
HPyAPI_IMPL void _hpy_raise_with_note(PyObject *exc, PyObject *note)
{
    PyObject *done;
#if PY_VERSION_HEX >= 0x030B0000
    done = PyObject_CallMethod(exc, "add_note", "O", note);
#else
    PyObject *notes = PyList_New(1);
    done = NULL;
    if (notes != NULL) {
        Py_INCREF(note);
        PyList_SET_ITEM(notes, 0, note);
        if (PyObject_SetAttrString(exc, "__notes__", notes) == 0) {
            done = Py_None;
            Py_INCREF(done);
        }
        Py_DECREF(notes);
    }
#endif
    if (done == NULL)
        return;  /* the error that stopped us (a MemoryError) is raised instead */
    Py_DECREF(done);
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
}

/* The PyMethodDef flags of a method signature; -1 if sig is none. */
HPyAPI_IMPL int _hpy_method_flags(HPyFunc_Signature sig)
{
    switch (sig) {
    case HPyFunc_NOARGS: return METH_NOARGS;
    case HPyFunc_O: return METH_O;
    case HPyFunc_VARARGS: return METH_FASTCALL;
    case HPyFunc_KEYWORDS: return METH_FASTCALL | METH_KEYWORDS;
    default: return -1;
    }
}

static Py_ssize_t count_defines(HPyDef **defines, HPyDef_Kind kind)
{
    Py_ssize_t n = 0;
    for (; defines != NULL && *defines != NULL; defines++)
        if ((*defines)->kind == kind)
            n++;
    return n;
}

static int fill_methods(PyMethodDef *methods, HPyModuleDef *hpydef, const char *name)
{
    Py_ssize_t n = 0;
    PyMethodDef *legacy = (PyMethodDef *)hpydef->legacy_methods;
    HPyDef **def;
    for (def = hpydef->defines; def != NULL && *def != NULL; def++) {
        HPyMeth *meth = &(*def)->meth;
        int flags;
        if ((*def)->kind != HPyDef_Kind_Meth)
            continue;
        flags = _hpy_method_flags(meth->signature);
        if (flags < 0) {
            PyObject *exc = PyObject_CallFunction(PyExc_ValueError, "s",
                                                  "Unsupported HPyMeth signature");
            PyObject *note = PyUnicode_FromFormat(
                "method '%s' of module %s has signature %d; a method takes HPyFunc_NOARGS, "
                "HPyFunc_O, HPyFunc_VARARGS or HPyFunc_KEYWORDS",
                meth->name, name, (int)meth->signature);
            if (exc != NULL && note != NULL)
                _hpy_raise_with_note(exc, note);
            Py_XDECREF(exc);
            Py_XDECREF(note);
            return -1;
        }
        methods[n].ml_name = meth->name;
        methods[n].ml_meth = (PyCFunction)(void (*)(void))meth->cpy_trampoline;
        methods[n].ml_flags = flags;
        methods[n].ml_doc = meth->doc;
        n++;
    }
    /* After the HPy methods, as in HPy 0.9: on a clash, the legacy one wins. */
    for (; legacy != NULL && legacy->ml_name != NULL; legacy++)
        methods[n++] = *legacy;
    return 0;
}

/* Checks the slots and fills them in; *create gets the HPy_mod_create
 * trampoline, if any. */
static int fill_slots(PyModuleDef_Slot *slots, HPyModuleDef *hpydef, const char *name,
                      void **create)
{
    Py_ssize_t n = 0;
    int others = 0;
    HPyDef **def;
    *create = NULL;
    for (def = hpydef->defines; def != NULL && *def != NULL; def++) {
        HPySlot *slot = &(*def)->slot;
        if ((*def)->kind == HPyDef_Kind_Member || (*def)->kind == HPyDef_Kind_GetSet) {
            /* HPy 0.9 silently ignores them; a module would never show them. */
            PyErr_Format(PyExc_ValueError,
                         "module %s: members and get-sets belong to types, not modules", name);
            return -1;
        }
        if ((*def)->kind != HPyDef_Kind_Slot) {
            others = 1;
            continue;
        }
        if (slot->slot == HPy_mod_create) {
            if (*create != NULL) {
                PyErr_Format(PyExc_SystemError,
                             "Multiple definitions of the HPy_mod_create slot in "
                             "HPyModuleDef.defines. (module %s)", name);
                return -1;
            }
            *create = (void *)slot->cpy_trampoline;
            continue;   /* goes in through the wrapper, below */
        }
        if (slot->slot != HPy_mod_exec) {
            PyErr_Format(PyExc_SystemError,
                         "Unsupported slot in HPyModuleDef.defines (value: %d). "
                         "Module %s: a module takes only HPy_mod_create and HPy_mod_exec; "
                         "the other slots belong to types", (int)slot->slot, name);
            return -1;
        }
        others = 1;
        slots[n].slot = Py_mod_exec;
        slots[n].value = (void *)slot->cpy_trampoline;
        n++;
    }
    if (*create != NULL && others) {
        PyErr_Format(PyExc_SystemError,
                     "HPyModuleDef defines a HPy_mod_create slot and some other slots or "
                     "methods. " _HPY_CREATE_ALONE " (module %s)", name);
        return -1;
    }
    if (*create != NULL && (hpydef->legacy_methods != NULL || hpydef->doc != NULL
                            || hpydef->globals != NULL)) {
        PyErr_Format(PyExc_SystemError,
                     "HPyModuleDef defines a HPy_mod_create slot and some of the other "
                     "fields are not set to their default value. " _HPY_CREATE_ALONE
                     " (module %s: leave doc, legacy_methods and globals NULL)", name);
        return -1;
    }
    return 0;
}

/* Py_mod_create: the HPy create function may return any object but a
 * module (HPy 0.9: the module would lack what the HPyModuleDef defines). */
static PyObject *create_wrapper(PyObject *spec, PyModuleDef *def)
{
    PyObject *result = ((_HPyPyModuleDef *)def)->create(spec, def);
    if (result != NULL && PyModule_Check(result)) {
        Py_DECREF(result);
        PyErr_Format(PyExc_SystemError,
                     "HPy_mod_create slot returned a builtin module object. This is "
                     "currently not supported. (module %s: return another object, or "
                     "drop HPy_mod_create and let the runtime make the module)",
                     def->m_name);
        return NULL;
    }
    return result;
}

/* The PyModuleDef lives as long as the process: CPython keeps pointers to it. */
HPyAPI_IMPL PyModuleDef *_HPyModuleDef_CreatePyModuleDef(HPyModuleDef *hpydef, const char *name)
{
    Py_ssize_t n_legacy = 0, n_meth, n_slot;
    _HPyPyModuleDef *def = NULL;
    PyMethodDef *methods = NULL;
    PyModuleDef_Slot *slots = NULL;
    PyMethodDef *legacy = (PyMethodDef *)hpydef->legacy_methods;
    void *create;

    if (hpydef->size < 0) {
        PyErr_Format(PyExc_SystemError,
                     "HPy does not permit HPyModuleDef.size < 0 (module %s: set it to 0)",
                     name);
        return NULL;
    }
    if (hpydef->size > 0) {
        PyErr_Format(PyExc_SystemError,
                     "Module state is not supported yet in HPy, set HPyModuleDef.size = 0 "
                     "if module state is not needed (module %s: keep module-level state "
                     "in HPyGlobal variables listed in HPyModuleDef.globals)", name);
        return NULL;
    }
    for (; legacy != NULL && legacy->ml_name != NULL; legacy++)
        n_legacy++;
    n_meth = n_legacy + count_defines(hpydef->defines, HPyDef_Kind_Meth);
    n_slot = count_defines(hpydef->defines, HPyDef_Kind_Slot);

    def = (_HPyPyModuleDef *)PyMem_Calloc(1, sizeof(_HPyPyModuleDef));
    methods = (PyMethodDef *)PyMem_Calloc(n_meth + 1, sizeof(PyMethodDef));
    slots = (PyModuleDef_Slot *)PyMem_Calloc(n_slot + 1, sizeof(PyModuleDef_Slot));
    if (def == NULL || methods == NULL || slots == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (fill_slots(slots, hpydef, name, &create) < 0 || fill_methods(methods, hpydef, name) < 0)
        goto error;
    if (create != NULL) {
        /* the only slot: fill_slots refused any other */
        def->create = (PyObject *(*)(PyObject *, PyModuleDef *))create;
        slots[0].slot = Py_mod_create;
        slots[0].value = (void *)create_wrapper;
    }

    PyModuleDef_Base base = PyModuleDef_HEAD_INIT;
    def->def.m_base = base;
    def->def.m_name = name;
    def->def.m_doc = hpydef->doc;
    def->def.m_size = 0;
    def->def.m_methods = methods;
    def->def.m_slots = slots;
    return &def->def;

error:
    PyMem_Free(def);
    PyMem_Free(methods);
    PyMem_Free(slots);
    return NULL;
}

HPyAPI_IMPL PyObject *_HPyModuleDef_AsPyInit(HPyModuleDef *hpydef, const char *name)
{
    PyModuleDef *def;
    if (_hpy_cpython_ctx.name == NULL) {
        _hpy_cpython_ctx.name = "HPy CPython ABI";
        _hpy_cpython_ctx.abi_version = HPY_ABI_VERSION;
        _hpy_fill_handles(&_hpy_cpython_ctx);
    }
    def = _HPyModuleDef_CreatePyModuleDef(hpydef, name);
    if (def == NULL)
        return NULL;
    return PyModuleDef_Init(def);
}
