/* HPyStructSequence_NewType and HPyStructSequence_New.
 *
 * CPython ABI: CPython's own struct sequences (PyStructSequence_*).
 * Universal ABI: only the public HPy API exists, so the type is a tuple
 * subclass written in Python below and built through HPy_Compile_s; it
 * behaves like CPython's (constructor, repr, field properties, n_fields...).
 */
#include <string.h>
#include "hpy.h"

const char *const HPyStructSequence_UnnamedField = "unnamed field";

static HPy_ssize_t count_fields(HPyStructSequence_Desc *desc)
{
    HPy_ssize_t n = 0;
    while (desc->fields[n].name != NULL)
        n++;
    return n;
}

static int check_desc(HPyContext *ctx, HPyStructSequence_Desc *desc)
{
    if (desc->name == NULL) {
        HPyErr_SetString(ctx, ctx->h_SystemError,
                         "Struct sequence descriptor does not define the name field.");
        return -1;
    }
    if (desc->fields == NULL) {
        HPyErr_SetString(ctx, ctx->h_SystemError,
                         "Struct sequence descriptor does not define the fields.");
        return -1;
    }
    return 0;
}

/* The number of fields of a struct sequence type, or -1 with TypeError. */
static HPy_ssize_t type_n_fields(HPyContext *ctx, HPy type)
{
    HPy h_n;
    HPy_ssize_t n = -1;
    if (HPy_TypeCheck(ctx, type, ctx->h_TypeType) &&
            HPyType_IsSubtype(ctx, type, ctx->h_TupleType)) {
        h_n = HPy_GetAttr_s(ctx, type, "n_fields");
        if (!HPy_IsNull(h_n)) {
            n = HPyLong_AsSsize_t(ctx, h_n);
            HPy_Close(ctx, h_n);
        }
    }
    if (n < 0) {
        HPyErr_Clear(ctx);
        if (HPy_TypeCheck(ctx, type, ctx->h_TypeType))
            HPyErr_Format(ctx, ctx->h_TypeError,
                          "type '%s' does not look like a struct sequence type",
                          HPyType_GetName(ctx, type));
        else
            HPyErr_Format(ctx, ctx->h_TypeError,
                          "object '%R' does not look like a struct sequence type", type);
    }
    return n;
}

#ifdef HPY_ABI_CPYTHON

#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030B0000
/* CPython 3.9 and 3.10 do not export PyStructSequence_UnnamedField: name the
 * field, then take the name away again. */
#  define UNNAMED_BY_HAND
#  define CPY_UNNAMED "unnamed field"

static int hide_unnamed(PyTypeObject *type, HPy_ssize_t n_unnamed)
{
    PyObject *count;
    int failed;
    if (PyObject_DelAttrString((PyObject *)type, CPY_UNNAMED) < 0)
        return -1;
    count = PyLong_FromSsize_t(n_unnamed);
    if (count == NULL)
        return -1;
    failed = PyObject_SetAttrString((PyObject *)type, "n_unnamed_fields", count) < 0;
    Py_DECREF(count);
    return failed ? -1 : 0;
}
#else
#  define CPY_UNNAMED PyStructSequence_UnnamedField
#endif

HPyAPI_HELPER HPy
HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc)
{
    PyStructSequence_Desc d;
    PyStructSequence_Field *fields;
    PyTypeObject *type;
    HPy_ssize_t n, i, n_unnamed = 0;

    if (check_desc(ctx, desc) < 0)
        return HPy_NULL;
    n = count_fields(desc);
    /* CPython knows an unnamed field by its own marker's address. */
    fields = (PyStructSequence_Field *)PyMem_Malloc((size_t)(n + 1) * sizeof(*fields));
    if (fields == NULL)
        return HPyErr_NoMemory(ctx);
    for (i = 0; i <= n; i++) {
        int unnamed = desc->fields[i].name == HPyStructSequence_UnnamedField;
        n_unnamed += unnamed;
        fields[i].name = unnamed ? CPY_UNNAMED : desc->fields[i].name;
        fields[i].doc = desc->fields[i].doc;
    }
    d.name = desc->name;
#if PY_VERSION_HEX < 0x03090000
    d.doc = desc->doc != NULL ? desc->doc : "";  /* 3.8 crashes on NULL */
#else
    d.doc = desc->doc;
#endif
    d.fields = fields;
    d.n_in_sequence = (int)n;
    /* CPython copies what it keeps of the fields array. */
    type = PyStructSequence_NewType(&d);
    PyMem_Free(fields);
#ifdef UNNAMED_BY_HAND
    if (type != NULL && n_unnamed > 0 && hide_unnamed(type, n_unnamed) < 0) {
        Py_DECREF(type);
        return HPy_NULL;
    }
#else
    (void)n_unnamed;
#endif
    return _py2h((PyObject *)type);
}

HPyAPI_HELPER HPy
HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args)
{
    PyObject *seq;
    HPy_ssize_t n = type_n_fields(ctx, type), i;
    if (n < 0)
        return HPy_NULL;
    if (n != nargs) {
        PyErr_Format(PyExc_TypeError, "expected exactly %zd arguments but got %zd", n, nargs);
        return HPy_NULL;
    }
    seq = PyStructSequence_New((PyTypeObject *)_h2py(type));
    if (seq == NULL)
        return HPy_NULL;
    for (i = 0; i < nargs; i++) {
        PyObject *item = _h2py(args[i]);
        Py_INCREF(item);
        PyStructSequence_SET_ITEM(seq, i, item);
    }
    return _py2h(seq);
}

#else /* universal and hybrid */

/* make(name, doc, names, docs): names[i] is None for an unnamed field. */
static const char maker_source[] =
    "def make(name, doc, names, docs):\n"
    "    from operator import itemgetter\n"
    "    module, dot, short = name.rpartition('.')\n"
    "    n = len(names)\n"
    "    def __new__(cls, sequence, dict=None):\n"
    "        items = tuple(sequence)\n"
    "        if len(items) != n:\n"
    "            raise TypeError('%s() takes a %d-sequence (%d-sequence given)'\n"
    "                            % (name, n, len(items)))\n"
    "        return tuple.__new__(cls, items)\n"
    "    def __repr__(self):\n"
    "        return '%s(%s)' % (name, ', '.join('%s=%r' % (f, v)\n"
    "                                           for f, v in zip(names, self) if f is not None))\n"
    "    def __reduce__(self):\n"
    "        return (type(self), (tuple(self),))\n"
    "    ns = {'__new__': __new__, '__repr__': __repr__, '__reduce__': __reduce__,\n"
    "          '__slots__': (), '__doc__': doc,\n"
    "          'n_sequence_fields': n, 'n_fields': n, 'n_unnamed_fields': names.count(None),\n"
    "          '__match_args__': tuple(f for f in names if f is not None)}\n"
    "    if dot:\n"
    "        ns['__module__'] = module\n"
    "    for i, f in enumerate(names):\n"
    "        if f is not None:\n"
    "            ns[f] = property(itemgetter(i), doc=docs[i])\n"
    "    return type(short, (tuple,), ns)\n";

/* HPy 0.9's debug runtime reports closing HPy_NULL: skip it. */
static void close_if(HPyContext *ctx, HPy h)
{
    if (!HPy_IsNull(h))
        HPy_Close(ctx, h);
}

static HPy str_or_none(HPyContext *ctx, const char *s)
{
    return s == NULL ? HPy_Dup(ctx, ctx->h_None) : HPyUnicode_FromString(ctx, s);
}

/* A tuple of the fields' names (unnamed: None) or docs. */
static HPy field_strings(HPyContext *ctx, HPyStructSequence_Desc *desc, HPy_ssize_t n, int docs)
{
    HPyTupleBuilder builder = HPyTupleBuilder_New(ctx, n);
    HPy_ssize_t i;
    for (i = 0; i < n; i++) {
        HPyStructSequence_Field *f = &desc->fields[i];
        HPy item = str_or_none(ctx, docs ? f->doc
                               : f->name == HPyStructSequence_UnnamedField ? NULL : f->name);
        if (HPy_IsNull(item)) {
            HPyTupleBuilder_Cancel(ctx, builder);
            return HPy_NULL;
        }
        HPyTupleBuilder_Set(ctx, builder, i, item);
        HPy_Close(ctx, item);
    }
    return HPyTupleBuilder_Build(ctx, builder);
}

static HPy get_maker(HPyContext *ctx)
{
    HPy code, globals, result, maker = HPy_NULL;
    code = HPy_Compile_s(ctx, maker_source, "<hpy structseq>", HPy_SourceKind_File);
    if (HPy_IsNull(code))
        return HPy_NULL;
    globals = HPyDict_New(ctx);
    /* before 3.10 EvalCode does not provide __builtins__ itself */
    if (!HPy_IsNull(globals) && HPy_SetItem_s(ctx, globals, "__builtins__", ctx->h_Builtins) == 0) {
        result = HPy_EvalCode(ctx, code, globals, globals);
        if (!HPy_IsNull(result)) {
            HPy_Close(ctx, result);
            maker = HPy_GetItem_s(ctx, globals, "make");
        }
    }
    close_if(ctx, globals);
    HPy_Close(ctx, code);
    return maker;
}

HPyAPI_HELPER HPy
HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc)
{
    HPy maker, args[4] = { HPy_NULL, HPy_NULL, HPy_NULL, HPy_NULL }, result = HPy_NULL;
    HPy_ssize_t n;
    int i;

    if (check_desc(ctx, desc) < 0)
        return HPy_NULL;
    n = count_fields(desc);
    maker = get_maker(ctx);
    if (HPy_IsNull(maker))
        return HPy_NULL;
    args[0] = HPyUnicode_FromString(ctx, desc->name);
    if (!HPy_IsNull(args[0]))
        args[1] = str_or_none(ctx, desc->doc);
    if (!HPy_IsNull(args[1]))
        args[2] = field_strings(ctx, desc, n, 0);
    if (!HPy_IsNull(args[2]))
        args[3] = field_strings(ctx, desc, n, 1);
    if (!HPy_IsNull(args[3]))
        result = HPy_Call(ctx, maker, args, 4, HPy_NULL);
    for (i = 0; i < 4; i++)
        close_if(ctx, args[i]);
    HPy_Close(ctx, maker);
    return result;
}

HPyAPI_HELPER HPy
HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args)
{
    HPy tuple, result;
    HPy_ssize_t n = type_n_fields(ctx, type);
    if (n < 0)
        return HPy_NULL;
    if (n != nargs) {
        HPyErr_Format(ctx, ctx->h_TypeError, "expected exactly %zd arguments but got %zd",
                      n, nargs);
        return HPy_NULL;
    }
    tuple = HPyTuple_FromArray(ctx, args, nargs);
    if (HPy_IsNull(tuple))
        return HPy_NULL;
    result = HPy_Call(ctx, type, &tuple, 1, HPy_NULL);
    HPy_Close(ctx, tuple);
    return result;
}

#endif
