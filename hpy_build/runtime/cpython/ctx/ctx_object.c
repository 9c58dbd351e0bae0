#include "hpy.h"

/* The _i and _s forms build the key object, so obj[i] works on dicts too.
 * HPy_GetItem_i and HPy_SetItem_i first try exact lists and tuples inline
 * (api/table.py) and come here for everything else. */

HPyAPI_IMPL HPy _hpy_GetItem_i_generic(HPyContext *ctx, HPy obj, HPy_ssize_t idx)
{
    PyObject *key = PyLong_FromSsize_t(idx), *result;
    (void)ctx;
    if (key == NULL)
        return HPy_NULL;
    result = PyObject_GetItem(_h2py(obj), key);
    Py_DECREF(key);
    return _py2h(result);
}

HPyAPI_IMPL HPy ctx_GetItem_s(HPyContext *ctx, HPy obj, const char *utf8_key)
{
    PyObject *key = PyUnicode_FromString(utf8_key), *result;
    (void)ctx;
    if (key == NULL)
        return HPy_NULL;
    result = PyObject_GetItem(_h2py(obj), key);
    Py_DECREF(key);
    return _py2h(result);
}

HPyAPI_IMPL int _hpy_SetItem_i_generic(HPyContext *ctx, HPy obj, HPy_ssize_t idx, HPy value)
{
    PyObject *key = PyLong_FromSsize_t(idx);
    int result;
    (void)ctx;
    if (key == NULL)
        return -1;
    result = PyObject_SetItem(_h2py(obj), key, _h2py(value));
    Py_DECREF(key);
    return result;
}

HPyAPI_IMPL int ctx_SetItem_s(HPyContext *ctx, HPy obj, const char *utf8_key, HPy value)
{
    PyObject *key = PyUnicode_FromString(utf8_key);
    int result;
    (void)ctx;
    if (key == NULL)
        return -1;
    result = PyObject_SetItem(_h2py(obj), key, _h2py(value));
    Py_DECREF(key);
    return result;
}

HPyAPI_IMPL int ctx_DelItem_i(HPyContext *ctx, HPy obj, HPy_ssize_t idx)
{
    PyObject *key = PyLong_FromSsize_t(idx);
    int result;
    (void)ctx;
    if (key == NULL)
        return -1;
    result = PyObject_DelItem(_h2py(obj), key);
    Py_DECREF(key);
    return result;
}

HPyAPI_IMPL int ctx_DelItem_s(HPyContext *ctx, HPy obj, const char *utf8_key)
{
    PyObject *key = PyUnicode_FromString(utf8_key);
    int result;
    (void)ctx;
    if (key == NULL)
        return -1;
    result = PyObject_DelItem(_h2py(obj), key);
    Py_DECREF(key);
    return result;
}

/* CPython's own debugging dump, as HPy 0.9 prints it: address, refcount,
 * type and repr on stderr. It keeps any pending exception and copes with
 * NULL and freed objects. */
HPyAPI_IMPL void ctx_Dump(HPyContext *ctx, HPy h)
{
    (void)ctx;
#ifdef PYPY_VERSION
    /* cpyext has no _PyObject_Dump: the same facts, through the public API */
    {
        PyObject *obj = _h2py(h), *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (obj == NULL)
            fprintf(stderr, "<object at NULL>\n");
        else {
            fprintf(stderr, "object address  : %p\n", (void *)obj);
            fprintf(stderr, "object refcount : %ld\n", (long)Py_REFCNT(obj));
            fprintf(stderr, "object type name: %s\n", Py_TYPE(obj)->tp_name);
            fprintf(stderr, "object repr     : ");
            if (PyObject_Print(obj, stderr, 0) < 0)
                PyErr_Clear();
            fprintf(stderr, "\n");
        }
        fflush(stderr);
        PyErr_Restore(type, value, tb);
    }
#else
    _PyObject_Dump(_h2py(h));
#endif
}

HPyAPI_IMPL HPy ctx_Compile_s(HPyContext *ctx, const char *utf8_source,
                              const char *utf8_filename, HPy_SourceKind kind)
{
    int start;
    (void)ctx;
    switch (kind) {
    case HPy_SourceKind_Expr: start = Py_eval_input; break;
    case HPy_SourceKind_File: start = Py_file_input; break;
    case HPy_SourceKind_Single: start = Py_single_input; break;
    default:
        PyErr_Format(PyExc_SystemError, "invalid source kind (HPy_Compile_s got %d, "
                     "expected an HPy_SourceKind: Expr, File or Single)", (int)kind);
        return HPy_NULL;
    }
    return _py2h(Py_CompileString(utf8_source, utf8_filename, start));
}

HPyAPI_IMPL HPy ctx_Tuple_FromArray(HPyContext *ctx, HPy items[], HPy_ssize_t n)
{
    PyObject *tuple = PyTuple_New(n);
    HPy_ssize_t i;
    (void)ctx;
    if (tuple == NULL)
        return HPy_NULL;
    for (i = 0; i < n; i++) {
        PyObject *item = _h2py(items[i]);
        Py_INCREF(item);
        PyTuple_SET_ITEM(tuple, i, item);
    }
    return _py2h(tuple);
}
