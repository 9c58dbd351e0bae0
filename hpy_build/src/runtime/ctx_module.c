/* HPyModuleDef -> PyModuleDef, shared by the CPython ABI (PyInit_<ext>) and
 * the universal runtime's loader. */
#include "hpy.h"

_HPy_HIDDEN struct _HPyContext_s _hpy_cpython_ctx;

static int method_flags(HPyFunc_Signature sig)
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
    for (; legacy != NULL && legacy->ml_name != NULL; legacy++)
        methods[n++] = *legacy;
    for (def = hpydef->defines; def != NULL && *def != NULL; def++) {
        HPyMeth *meth = &(*def)->meth;
        int flags;
        if ((*def)->kind != HPyDef_Kind_Meth)
            continue;
        flags = method_flags(meth->signature);
        if (flags < 0) {
            PyErr_Format(PyExc_ValueError,
                         "module %s: method '%s' has signature %d, which is not a method "
                         "signature (use HPyFunc_NOARGS, _O, _VARARGS or _KEYWORDS)",
                         name, meth->name, (int)meth->signature);
            return -1;
        }
        methods[n].ml_name = meth->name;
        methods[n].ml_meth = (PyCFunction)(void (*)(void))meth->cpy_trampoline;
        methods[n].ml_flags = flags;
        methods[n].ml_doc = meth->doc;
        n++;
    }
    return 0;
}

static int fill_slots(PyModuleDef_Slot *slots, HPyModuleDef *hpydef, const char *name)
{
    Py_ssize_t n = 0;
    HPyDef **def;
    for (def = hpydef->defines; def != NULL && *def != NULL; def++) {
        HPySlot *slot = &(*def)->slot;
        if ((*def)->kind == HPyDef_Kind_Member || (*def)->kind == HPyDef_Kind_GetSet) {
            PyErr_Format(PyExc_ValueError,
                         "module %s: members and get-sets belong to types, not modules", name);
            return -1;
        }
        if ((*def)->kind != HPyDef_Kind_Slot)
            continue;
        if (slot->slot == HPy_mod_exec)
            slots[n].slot = Py_mod_exec;
        else if (slot->slot == HPy_mod_create)
            slots[n].slot = Py_mod_create;
        else {
            PyErr_Format(PyExc_ValueError,
                         "module %s: slot %d is a type slot; a module takes only "
                         "HPy_mod_create and HPy_mod_exec", name, (int)slot->slot);
            return -1;
        }
        slots[n].value = (void *)slot->cpy_trampoline;
        n++;
    }
    return 0;
}

/* The PyModuleDef lives as long as the process: CPython keeps pointers to it. */
HPyAPI_IMPL PyModuleDef *_HPyModuleDef_CreatePyModuleDef(HPyModuleDef *hpydef, const char *name)
{
    Py_ssize_t n_legacy = 0, n_meth, n_slot;
    PyModuleDef *def;
    PyMethodDef *legacy = (PyMethodDef *)hpydef->legacy_methods;

    if (hpydef->size != 0) {
        PyErr_Format(PyExc_ValueError,
                     "module %s: HPyModuleDef.size must be 0 (module state is not "
                     "supported; keep module-level state in HPyGlobal variables)", name);
        return NULL;
    }
    for (; legacy != NULL && legacy->ml_name != NULL; legacy++)
        n_legacy++;
    n_meth = n_legacy + count_defines(hpydef->defines, HPyDef_Kind_Meth);
    n_slot = count_defines(hpydef->defines, HPyDef_Kind_Slot);

    def = (PyModuleDef *)PyMem_Calloc(1, sizeof(PyModuleDef));
    PyMethodDef *methods = (PyMethodDef *)PyMem_Calloc(n_meth + 1, sizeof(PyMethodDef));
    PyModuleDef_Slot *slots = (PyModuleDef_Slot *)PyMem_Calloc(n_slot + 1, sizeof(PyModuleDef_Slot));
    if (def == NULL || methods == NULL || slots == NULL)
        goto error_nomem;
    if (fill_methods(methods, hpydef, name) < 0 || fill_slots(slots, hpydef, name) < 0)
        goto error;

    PyModuleDef_Base base = PyModuleDef_HEAD_INIT;
    def->m_base = base;
    def->m_name = name;
    def->m_doc = hpydef->doc;
    def->m_size = 0;
    def->m_methods = methods;
    def->m_slots = slots;
    return def;

error_nomem:
    PyErr_NoMemory();
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
