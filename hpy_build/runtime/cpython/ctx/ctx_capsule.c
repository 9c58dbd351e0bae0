#include "hpy.h"

/* A destructor is the pair (CPython trampoline, C impl): the trampoline is
 * what CPython calls, so a half-filled pair would crash at deallocation. */
static int check_destructor(HPyCapsule_Destructor *destructor)
{
    if (destructor != NULL && (destructor->cpy_trampoline == NULL || destructor->impl == NULL)) {
        PyErr_SetString(PyExc_ValueError, "Invalid HPyCapsule destructor");
        return -1;
    }
    return 0;
}

static PyCapsule_Destructor cpy_destructor(HPyCapsule_Destructor *destructor)
{
    return destructor == NULL ? NULL : (PyCapsule_Destructor)destructor->cpy_trampoline;
}

HPyAPI_IMPL HPy ctx_Capsule_New(HPyContext *ctx, void *pointer, const char *utf8_name,
                                HPyCapsule_Destructor *destructor)
{
    (void)ctx;
    if (check_destructor(destructor) < 0)
        return HPy_NULL;
    return _py2h(PyCapsule_New(pointer, utf8_name, cpy_destructor(destructor)));
}

HPyAPI_IMPL void *ctx_Capsule_Get(HPyContext *ctx, HPy capsule, _HPyCapsule_key key,
                                  const char *utf8_name)
{
    PyObject *obj = _h2py(capsule);
    (void)ctx;
    switch (key) {
    case HPyCapsule_key_Pointer:
        return PyCapsule_GetPointer(obj, utf8_name);
    case HPyCapsule_key_Name:
        return (void *)PyCapsule_GetName(obj);
    case HPyCapsule_key_Context:
        return PyCapsule_GetContext(obj);
    case HPyCapsule_key_Destructor:
        /* the stored destructor is a trampoline, not the HPyCapsule_Destructor given */
        PyErr_SetString(PyExc_ValueError, "Invalid operation: get HPyCapsule_key_Destructor");
        return NULL;
    }
    PyErr_Format(PyExc_ValueError, "HPyCapsule_Get: invalid key %d", (int)key);
    return NULL;
}

HPyAPI_IMPL int ctx_Capsule_Set(HPyContext *ctx, HPy capsule, _HPyCapsule_key key, void *value)
{
    PyObject *obj = _h2py(capsule);
    (void)ctx;
    switch (key) {
    case HPyCapsule_key_Pointer:
        return PyCapsule_SetPointer(obj, value);
    case HPyCapsule_key_Name:
        return PyCapsule_SetName(obj, (const char *)value);
    case HPyCapsule_key_Context:
        return PyCapsule_SetContext(obj, value);
    case HPyCapsule_key_Destructor: {
        HPyCapsule_Destructor *destructor = (HPyCapsule_Destructor *)value;
        if (check_destructor(destructor) < 0)
            return -1;
        return PyCapsule_SetDestructor(obj, cpy_destructor(destructor));
    }
    }
    PyErr_Format(PyExc_ValueError, "HPyCapsule_Set: invalid key %d", (int)key);
    return -1;
}
