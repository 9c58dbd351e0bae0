/* Custom types: HPyType_Spec -> a CPython heap type, and the object layout of
 * pure HPy types (the user struct follows the built-in base's struct). Shared
 * by the CPython ABI and the universal runtime (handles are PyObject *). */
#include <stddef.h>
#include "hpy.h"
#include <structmember.h>

/* Marks types made by HPyType_FromSpec. CPython 3.8-3.13 leave bit 21 unused
 * (HPy 0.9's bit 2 is Py_TPFLAGS_INLINE_VALUES on 3.13). CPython never
 * copies unknown flags to subclasses, so a Python subclass is not marked. */
#define HPY_TYPE_FLAG (1UL << 21)
#define HPY_TYPE_MAGIC 0x48507954u /* "HPyT" */

/* What CPython's type object has no room for. tp_name points at name[], so
 * the record is found from the type in O(1); on 3.11+ the type also owns
 * and frees it (as _ht_tpname). */
typedef struct {
    uint32_t magic;
    HPyType_BuiltinShape shape;
    HPyFunc_traverseproc traverse;   /* this type's own, or NULL */
    HPyFunc_destroyfunc destroy;     /* this type's own, or NULL */
    cpy_vectorcallfunc default_call; /* from HPy_tp_call, or NULL */
    int legacy_dealloc;              /* legacy_slots gave Py_tp_dealloc */
    newfunc legacy_new;              /* a legacy Py_tp_new that vectorcall_new wraps */
    int plain_dealloc;               /* object's direct child: see plain_dealloc() */
    char name[1];
} hpy_type_extra;

#define ALIGN(n) (((n) + sizeof(_hpy_max_align) - 1) & ~(sizeof(_hpy_max_align) - 1))

/* Bytes before the user struct; -1 for a shape that does not exist. */
static HPy_ssize_t head_size(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Legacy: return 0;
    case HPyType_BuiltinShape_Object: return _HPy_HEAD_SIZE(Object);
    case HPyType_BuiltinShape_Type: return _HPy_HEAD_SIZE(Type);
    case HPyType_BuiltinShape_Long: return _HPy_HEAD_SIZE(Long);
    case HPyType_BuiltinShape_Float: return _HPy_HEAD_SIZE(Float);
    case HPyType_BuiltinShape_Unicode: return _HPy_HEAD_SIZE(Unicode);
    case HPyType_BuiltinShape_Tuple: return _HPy_HEAD_SIZE(Tuple);
    case HPyType_BuiltinShape_List: return _HPy_HEAD_SIZE(List);
    }
    return -1;
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
    return "an unknown shape";
}

#ifdef PYPY_VERSION
/* cpyext copies a spec's name, so tp_name does not lead to the record: the
 * HPy types this module made are listed instead (a handful; newest last). */
typedef struct {
    PyTypeObject *tp;
    hpy_type_extra *extra;
} pypy_type_record;
static pypy_type_record *pypy_types;
static size_t pypy_ntypes, pypy_capacity;

static int pypy_register_type(PyTypeObject *tp, hpy_type_extra *extra)
{
    if (pypy_ntypes == pypy_capacity) {
        size_t capacity = pypy_capacity ? 2 * pypy_capacity : 16;
        pypy_type_record *grown = (pypy_type_record *)PyMem_Realloc(
            pypy_types, capacity * sizeof(pypy_type_record));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        pypy_types = grown;
        pypy_capacity = capacity;
    }
    pypy_types[pypy_ntypes].tp = tp;
    pypy_types[pypy_ntypes].extra = extra;
    pypy_ntypes++;
    return 0;
}
#endif

static hpy_type_extra *type_extra(PyTypeObject *tp)
{
    hpy_type_extra *extra;
    if (!(tp->tp_flags & HPY_TYPE_FLAG))
        return NULL;
#ifdef PYPY_VERSION
    {
        size_t i;
        extra = NULL;
        for (i = pypy_ntypes; i > 0; i--) {  /* newest first: an address may be reused */
            if (pypy_types[i - 1].tp == tp) {
                extra = pypy_types[i - 1].extra;
                break;
            }
        }
        return extra;
    }
#else
    extra = (hpy_type_extra *)(tp->tp_name - offsetof(hpy_type_extra, name));
    return extra->magic == HPY_TYPE_MAGIC ? extra : NULL;
#endif
}

/* The nearest HPy type of tp's hierarchy (tp may be a Python subclass). */
static hpy_type_extra *nearest_extra(PyTypeObject *tp)
{
    for (; tp != NULL; tp = tp->tp_base) {
        hpy_type_extra *extra = type_extra(tp);
        if (extra != NULL)
            return extra;
    }
    return NULL;
}

static void *payload(PyObject *obj, HPyType_BuiltinShape shape)
{
    return (char *)obj + head_size(shape);
}

/* The user struct of obj as its own HPy types see it. */
static void *object_data(PyObject *obj)
{
    hpy_type_extra *extra = nearest_extra(Py_TYPE(obj));
    return payload(obj, extra ? extra->shape : HPyType_BuiltinShape_Legacy);
}

/* ---- traverse, clear, dealloc ------------------------------------------ */

typedef struct {
    visitproc visit;
    void *arg;
} visit_adapter;

/* An HPyField holds the PyObject * bits, as a handle does. */
static int visit_field(HPyField *field, void *arg)
{
    visit_adapter *a = (visit_adapter *)arg;
    return a->visit((PyObject *)field->_i, a->arg);
}

/* The static built-in type under all heap types of tp's hierarchy: its
 * traverse and clear cover the built-in part (a list's items). */
static PyTypeObject *builtin_base(PyTypeObject *tp)
{
    while (tp != NULL && (tp->tp_flags & Py_TPFLAGS_HEAPTYPE))
        tp = tp->tp_base;
    return tp;
}

HPyAPI_IMPL int _hpy_call_traverse(HPyFunc_traverseproc impl, PyObject *self,
                                   visitproc visit, void *arg)
{
    visit_adapter a = { visit, arg };
    PyTypeObject *base = builtin_base(Py_TYPE(self));
    int res = impl(object_data(self), visit_field, &a);
    if (res == 0 && base != NULL && base->tp_traverse != NULL)
        res = base->tp_traverse(self, visit, arg);
#if PY_VERSION_HEX >= 0x03090000
    /* An instance holds its heap type. A Python subclass's subtype_traverse
     * leaves that visit to a heap base with a traverse (3.9+), so we make it.
     * Instances of HPy types themselves visit only their fields, as in
     * HPy 0.9, whose tests compare gc.get_referents() with the fields. */
    if (res == 0 && type_extra(Py_TYPE(self)) == NULL)
        res = visit((PyObject *)Py_TYPE(self), arg);
#endif
    return res;
}

static int clear_field(HPyField *field, void *arg)
{
    PyObject *old = (PyObject *)field->_i;
    (void)arg;
    field->_i = 0;
    Py_XDECREF(old);
    return 0;
}

/* tp_clear: every HPy type of the hierarchy drops the fields it visits. */
static int hpy_type_clear(PyObject *self)
{
    PyTypeObject *tp;
    void *data = object_data(self);
    for (tp = Py_TYPE(self); tp != NULL; tp = tp->tp_base) {
        hpy_type_extra *extra = type_extra(tp);
        if (extra != NULL && extra->traverse != NULL)
            extra->traverse(data, clear_field, NULL);
    }
    tp = builtin_base(Py_TYPE(self));
    if (tp != NULL && tp->tp_clear != NULL)
        return tp->tp_clear(self);
    return 0;
}

/* tp_dealloc of HPy types with tp_traverse, tp_destroy or object members
 * (HPy 0.9 leaks those without a tp_traverse). Called for the
 * whole HPy part of the hierarchy at once, also as the base dealloc of a
 * Python subclass (subtype_dealloc has then run finalizers and cleared the
 * subclass's __dict__ and weakrefs). */
static void dealloc_hierarchy(PyObject *self, PyTypeObject *tp);

static void hpy_type_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (tp->tp_dealloc == hpy_type_dealloc && tp->tp_finalize != NULL) {
        if (PyObject_CallFinalizerFromDealloc(self) < 0)
            return; /* resurrected */
    }
    if (PyType_IS_GC(tp)) {
        PyObject_GC_UnTrack(self);
#ifdef PYPY_VERSION
        dealloc_hierarchy(self, tp);  /* cpyext has no trashcan */
#else
        /* a long chain of objects is freed iteratively, not by recursion */
        Py_TRASHCAN_BEGIN(self, hpy_type_dealloc)
        dealloc_hierarchy(self, tp);
        Py_TRASHCAN_END
#endif
    }
    else {
        dealloc_hierarchy(self, tp);
    }
}

/* Can instances skip dealloc_hierarchy's walks? A direct child of object with
 * no weak references, no __dict__ and no object members needs only its own
 * fields cleared, its destroy called and the memory freed. */
static int plain_dealloc(PyTypeObject *tp)
{
    PyMemberDef *m;
    if (tp->tp_base != &PyBaseObject_Type || tp->tp_weaklistoffset || tp->tp_dictoffset)
        return 0;
    for (m = tp->tp_members; m != NULL && m->name != NULL; m++) {
        if (m->type == T_OBJECT || m->type == T_OBJECT_EX)
            return 0;
    }
    return 1;
}

/* Every other case: walk the hierarchy. Out of line, so that the plain case
 * does not pay for its stack frame. */
#ifdef __GNUC__
__attribute__((noinline))
#endif
static void dealloc_walk(PyObject *self, PyTypeObject *tp)
{
    PyTypeObject *t, *base = NULL, *lowest = NULL, *stop;
    void *data;
    int heap_fallback;

    /* the HPy types of the hierarchy end where a type with a dealloc of its
     * own starts: a built-in, or a legacy type's Py_tp_dealloc */
    for (t = tp; t != NULL; t = t->tp_base) {
        hpy_type_extra *extra = type_extra(t);
        if (extra != NULL) {
            if (extra->legacy_dealloc) {
                base = t;
                break;
            }
            lowest = t;
        }
        else if (lowest != NULL) {
            base = t;
            break;
        }
    }
    if (base == NULL)
        base = &PyBaseObject_Type;
    if (lowest != NULL && lowest->tp_weaklistoffset && !base->tp_weaklistoffset)
        PyObject_ClearWeakRefs(self);
    if (lowest != NULL && lowest->tp_dictoffset && !base->tp_dictoffset) {
        PyObject **dictptr = _PyObject_GetDictPtr(self);
        if (dictptr != NULL)
            Py_CLEAR(*dictptr);
    }

    /* base's own dealloc cleans up base's part, except a Python class's
     * subtype_dealloc, which would come back here: then do all of it */
    heap_fallback = type_extra(base) == NULL && (base->tp_flags & Py_TPFLAGS_HEAPTYPE);
    stop = heap_fallback ? NULL : base;

    data = object_data(self);
    for (t = tp; t != stop; t = t->tp_base) {
        hpy_type_extra *extra = type_extra(t);
        PyMemberDef *m;
        if (extra == NULL)
            continue;
        if (extra->traverse != NULL)
            extra->traverse(data, clear_field, NULL);
        /* object members hold references even where no tp_traverse visits them */
        for (m = t->tp_members; m != NULL && m->name != NULL; m++) {
            if (m->type == T_OBJECT || m->type == T_OBJECT_EX)
                Py_CLEAR(*(PyObject **)((char *)self + m->offset));
        }
    }
    for (t = tp; t != stop; t = t->tp_base) {
        hpy_type_extra *extra = type_extra(t);
        if (extra != NULL && extra->destroy != NULL)
            extra->destroy(data);
    }

    if (heap_fallback) {
        tp->tp_free(self);
        Py_DECREF(tp);
        return;
    }
    /* as subtype_dealloc does: a GC base untracks the object itself */
    if (PyType_IS_GC(base) && PyType_IS_GC(tp))
        PyObject_GC_Track(self);
    base->tp_dealloc(self);
    /* a heap base's dealloc drops the type itself */
    if ((tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && !(base->tp_flags & Py_TPFLAGS_HEAPTYPE))
        Py_DECREF(tp);
}

static void dealloc_hierarchy(PyObject *self, PyTypeObject *tp)
{
    hpy_type_extra *own = type_extra(tp);
    if (own != NULL && own->plain_dealloc) {
        void *data = payload(self, own->shape);
        if (own->traverse != NULL)
            own->traverse(data, clear_field, NULL);
        if (own->destroy != NULL)
            own->destroy(data);
        tp->tp_free(self);  /* what object's dealloc does */
        Py_DECREF(tp);
        return;
    }
    dealloc_walk(self, tp);
}

/* tp_dealloc of plain types without GC or finalizer (see plain_dealloc()):
 * cheaper than hpy_type_dealloc, and than CPython's subtype_dealloc. */
static void plain_instance_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    hpy_type_extra *own = type_extra(tp);
    if (own == NULL || !own->plain_dealloc) {
        hpy_type_dealloc(self);  /* reached from a subclass's dealloc */
        return;
    }
    if (own->destroy != NULL)
        own->destroy(payload(self, own->shape));
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* ---- vectorcall ---------------------------------------------------------- */

static void set_call_function(PyObject *obj, cpy_vectorcallfunc func)
{
    vectorcallfunc f = (vectorcallfunc)func;
    memcpy((char *)obj + Py_TYPE(obj)->tp_vectorcall_offset, &f, sizeof(f));
}

/* Python subclasses keep the offset and tp_call but, before 3.12, lose
 * the flag; their instances are still called through the field. */
static int has_call_protocol(PyTypeObject *tp)
{
    return tp->tp_vectorcall_offset > 0 &&
           (PyType_HasFeature(tp, HPy_TPFLAGS_HAVE_VECTORCALL) || tp->tp_call == PyVectorcall_Call);
}

/* Every new instance starts with its type's HPy_tp_call, if it has one. */
static void init_call_function(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (has_call_protocol(tp)) {
        hpy_type_extra *extra = nearest_extra(tp);
        if (extra != NULL && extra->default_call != NULL)
            set_call_function(obj, extra->default_call);
    }
}

/* tp_new of a type with HPy_tp_call but no HPy_tp_new: the tp_new it
 * replaced (a legacy one, or the base's) and the default call function. */
static PyObject *vectorcall_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyTypeObject *t;
    newfunc replaced = NULL;
    PyObject *result;
    for (t = type; t != NULL && replaced == NULL; t = t->tp_base) {
        hpy_type_extra *extra = type_extra(t);
        if (t->tp_new != vectorcall_new)
            replaced = t->tp_new;
        else if (extra != NULL && extra->legacy_new != NULL)
            replaced = extra->legacy_new;
    }
    result = replaced(type, args, kw);
    if (result != NULL)
        init_call_function(result);
    return result;
}

HPyAPI_IMPL int ctx_SetCallFunction(HPyContext *ctx, HPy h, HPyCallFunction *func)
{
    PyObject *obj = _h2py(h);
    PyTypeObject *tp = Py_TYPE(obj);
    (void)ctx;
    if (!has_call_protocol(tp)) {
        PyErr_Format(PyExc_TypeError, "type '%.50s' does not implement the HPy call protocol",
                     tp->tp_name);
        return -1;
    }
    set_call_function(obj, func->cpy_trampoline);
    return 0;
}

/* ---- HPyType_Spec -> PyType_Spec ----------------------------------------- */

static int is_vectorcalloffset(const char *name)
{
    return strcmp(name, "__vectorcalloffset__") == 0;
}

/* Everything FromSpec builds; the arrays live as long as the type. */
typedef struct {
    PyType_Slot *slots;
    PyMethodDef *methods;
    PyMemberDef *members;
    PyGetSetDef *getsets;
    HPyCFunction getbuffer, releasebuffer;
    HPy_ssize_t vectorcall_offset; /* 0: none */
    Py_ssize_t n_slots, n_methods, n_members, n_getsets;
} built_spec;

static void free_built(built_spec *b)
{
    PyMem_Free(b->slots);
    PyMem_Free(b->methods);
    PyMem_Free(b->members);
    PyMem_Free(b->getsets);
}

static int check_params(HPyType_SpecParam *params, const char *name)
{
    int n_base = 0, n_tuple = 0, n_meta = 0;
    HPyType_SpecParam *p;
    for (p = params; p != NULL && p->kind != 0; p++) {
        switch (p->kind) {
        case HPyType_SpecParam_Base: n_base++; break;
        case HPyType_SpecParam_BasesTuple: n_tuple++; break;
        case HPyType_SpecParam_Metaclass:
            if (++n_meta > 1) {
                PyErr_SetString(PyExc_ValueError, "metaclass was specified multiple times");
                return -1;
            }
            if (!PyType_Check(_h2py(p->object))) {
                PyErr_Format(PyExc_TypeError, "Metaclass '%R' is not a subclass of 'type'.",
                             _h2py(p->object));
                return -1;
            }
            break;
        default:
            PyErr_Format(PyExc_TypeError, "unknown HPyType_SpecParam specification for '%s'",
                         name);
            return -1;
        }
    }
    if (n_tuple > 1) {
        PyErr_SetString(PyExc_TypeError,
                        "multiple specifications of HPyType_SpecParam_BasesTuple");
        return -1;
    }
    if (n_base && n_tuple) {
        PyErr_SetString(PyExc_TypeError,
                        "cannot specify both HPyType_SpecParam_Base and "
                        "HPytype_SpecParam_BasesTuple");
        return -1;
    }
    return 0;
}

/* A new reference to the bases tuple, or NULL (no bases given, or an error). */
static PyObject *bases_from_params(HPyType_SpecParam *params)
{
    HPyType_SpecParam *p;
    PyObject *bases;
    Py_ssize_t n = 0;
    for (p = params; p != NULL && p->kind != 0; p++) {
        if (p->kind == HPyType_SpecParam_BasesTuple) {
            Py_INCREF(_h2py(p->object));
            return _h2py(p->object);
        }
        if (p->kind == HPyType_SpecParam_Base)
            n++;
    }
    if (n == 0)
        return NULL;
    bases = PyTuple_New(n);
    if (bases == NULL)
        return NULL;
    n = 0;
    for (p = params; p->kind != 0; p++) {
        if (p->kind == HPyType_SpecParam_Base) {
            Py_INCREF(_h2py(p->object));
            PyTuple_SET_ITEM(bases, n++, _h2py(p->object));
        }
    }
    return bases;
}

static PyTypeObject *metaclass_from_params(HPyType_SpecParam *params)
{
    HPyType_SpecParam *p;
    for (p = params; p != NULL && p->kind != 0; p++)
        if (p->kind == HPyType_SpecParam_Metaclass)
            return (PyTypeObject *)_h2py(p->object);
    return NULL;
}

static int has_slot(HPyType_Spec *spec, HPySlot_Slot slot)
{
    HPyDef **d;
    for (d = spec->defines; d != NULL && *d != NULL; d++)
        if ((*d)->kind == HPyDef_Kind_Slot && (*d)->slot.slot == slot)
            return 1;
    return 0;
}

static int check_spec(HPyType_Spec *spec)
{
    PyType_Slot *legacy = (PyType_Slot *)spec->legacy_slots;
    if (legacy != NULL && spec->builtin_shape != HPyType_BuiltinShape_Legacy) {
        PyErr_SetString(PyExc_TypeError,
                        "cannot specify .legacy_slots without setting "
                        ".builtin_shape=HPyType_BuiltinShape_Legacy");
        return -1;
    }
    if (legacy != NULL && (has_slot(spec, HPy_tp_traverse) || has_slot(spec, HPy_tp_destroy))) {
        for (; legacy->slot != 0; legacy++) {
            if (legacy->slot == Py_tp_dealloc) {
                PyErr_SetString(PyExc_TypeError,
                                "legacy tp_dealloc is incompatible with HPy_tp_traverse"
                                " or HPy_tp_destroy.");
                return -1;
            }
        }
    }
    if ((spec->flags & HPy_TPFLAGS_HAVE_GC) && !has_slot(spec, HPy_tp_traverse)) {
        PyErr_SetString(PyExc_ValueError,
                        "You must provide an HPy_tp_traverse slot if you specify "
                        "HPy_TPFLAGS_HAVE_GC");
        return -1;
    }
    if (head_size(spec->builtin_shape) < 0) {
        PyErr_Format(PyExc_ValueError, "invalid shape: %d", (int)spec->builtin_shape);
        return -1;
    }
    return 0;
}

static Py_ssize_t count_until_null(const void *array, size_t item_size)
{
    Py_ssize_t n = 0;
    const char *p = (const char *)array;
    if (p == NULL)
        return 0;
    /* the first field of PyMethodDef, PyMemberDef and PyGetSetDef is the name */
    while (*(const char *const *)(p + n * item_size) != NULL)
        n++;
    return n;
}

static int build(HPyType_Spec *spec, hpy_type_extra *extra, HPy_ssize_t head,
                 HPy_ssize_t *basicsize, built_spec *b)
{
    PyType_Slot *legacy = (PyType_Slot *)spec->legacy_slots, *ls;
    PyMethodDef *legacy_methods = NULL;
    PyMemberDef *legacy_members = NULL;
    PyGetSetDef *legacy_getsets = NULL;
    Py_ssize_t n_defs = 0, n_legacy = 0, i;
    HPyDef **d;
    int has_new = 0, explicit_offset = 0, has_object_member = 0;
    HPy_ssize_t member_shift;

    for (d = spec->defines; d != NULL && *d != NULL; d++)
        n_defs++;
    for (ls = legacy; ls != NULL && ls->slot != 0; ls++) {
        n_legacy++;
        if (ls->slot == Py_tp_methods) legacy_methods = (PyMethodDef *)ls->pfunc;
        else if (ls->slot == Py_tp_members) legacy_members = (PyMemberDef *)ls->pfunc;
        else if (ls->slot == Py_tp_getset) legacy_getsets = (PyGetSetDef *)ls->pfunc;
        else if (ls->slot == Py_tp_dealloc) extra->legacy_dealloc = 1;
    }
    /* generous upper bounds: every def, every legacy entry, our own extras */
    b->slots = (PyType_Slot *)PyMem_Calloc(n_defs + n_legacy + 10, sizeof(PyType_Slot));
    b->methods = (PyMethodDef *)PyMem_Calloc(
        n_defs + count_until_null(legacy_methods, sizeof(PyMethodDef)) + 1, sizeof(PyMethodDef));
    b->members = (PyMemberDef *)PyMem_Calloc(
        n_defs + count_until_null(legacy_members, sizeof(PyMemberDef)) + 2, sizeof(PyMemberDef));
    b->getsets = (PyGetSetDef *)PyMem_Calloc(
        n_defs + count_until_null(legacy_getsets, sizeof(PyGetSetDef)) + 1, sizeof(PyGetSetDef));
    if (b->slots == NULL || b->methods == NULL || b->members == NULL || b->getsets == NULL) {
        PyErr_NoMemory();
        return -1;
    }

    for (d = spec->defines; d != NULL && *d != NULL; d++) {
        HPyDef *def = *d;
        switch (def->kind) {
        case HPyDef_Kind_Slot: {
            HPySlot *s = &def->slot;
            switch (s->slot) {
            case HPy_tp_destroy:
                extra->destroy = (HPyFunc_destroyfunc)s->impl;
                continue; /* called by hpy_type_dealloc, no CPython slot */
            case HPy_bf_getbuffer:
                b->getbuffer = (HPyCFunction)s->cpy_trampoline;
                continue;
            case HPy_bf_releasebuffer:
                b->releasebuffer = (HPyCFunction)s->cpy_trampoline;
                continue;
            case HPy_tp_call:
                if (spec->itemsize) {
                    PyErr_SetString(PyExc_TypeError,
                                    "Cannot use HPy call protocol with var objects");
                    return -1;
                }
                /* a hidden field after the user struct (or the built-in head,
                 * without one) holds each instance's function */
                b->vectorcall_offset = ALIGN(*basicsize != 0 ? *basicsize : head);
                if (b->vectorcall_offset == 0) {
                    /* a legacy type inheriting its struct: its size is not known here */
                    PyErr_SetString(PyExc_TypeError,
                                    "Cannot use HPy call protocol with legacy types that"
                                    " inherit the struct. Either set the basicsize to a"
                                    " non-zero value or use legacy slot 'Py_tp_call'.");
                    return -1;
                }
                extra->default_call = (cpy_vectorcallfunc)(HPyCFunction)s->cpy_trampoline;
                *basicsize = b->vectorcall_offset + sizeof(vectorcallfunc);
                continue;
            case HPy_mod_create:
            case HPy_mod_exec:
                PyErr_Format(PyExc_TypeError, "type %s: HPy_mod_create and HPy_mod_exec are "
                             "module slots, not type slots", spec->name);
                return -1;
            case HPy_tp_new:
                has_new = 1;
                break;
            case HPy_tp_traverse:
                extra->traverse = (HPyFunc_traverseproc)s->impl;
                break;
            default:
                break;
            }
            b->slots[b->n_slots].slot = (int)s->slot;
            b->slots[b->n_slots].pfunc = (void *)s->cpy_trampoline;
            b->n_slots++;
            break;
        }
        case HPyDef_Kind_Meth: {
            PyMethodDef *m = &b->methods[b->n_methods++];
            m->ml_name = def->meth.name;
            m->ml_meth = (PyCFunction)(HPyCFunction)def->meth.cpy_trampoline;
            m->ml_flags = _hpy_method_flags(def->meth.signature);
            m->ml_doc = def->meth.doc;
            if (m->ml_flags < 0) {
                PyErr_SetString(PyExc_ValueError, "Unsupported HPyMeth signature");
                return -1;
            }
            break;
        }
        case HPyDef_Kind_Member:
            break; /* below, once the offset shift is known */
        case HPyDef_Kind_GetSet: {
            PyGetSetDef *g = &b->getsets[b->n_getsets++];
            g->name = def->getset.name;
            g->get = (getter)def->getset.getter_cpy_trampoline;
            g->set = (setter)def->getset.setter_cpy_trampoline;
            g->doc = def->getset.doc;
            g->closure = def->getset.closure;
            break;
        }
        default:
            PyErr_Format(PyExc_ValueError, "type %s: unknown HPyDef kind %d", spec->name,
                         (int)def->kind);
            return -1;
        }
    }

    /* member offsets count from the user struct; CPython's from the object */
    member_shift = spec->basicsize != 0 ? head : 0;
    if (b->vectorcall_offset) {
        PyMemberDef *m = &b->members[b->n_members++];
        m->name = "__vectorcalloffset__";
        m->type = T_PYSSIZET;
        m->offset = b->vectorcall_offset;
        m->flags = READONLY;
    }
    for (d = spec->defines; d != NULL && *d != NULL; d++) {
        PyMemberDef *m;
        if ((*d)->kind != HPyDef_Kind_Member)
            continue;
        m = &b->members[b->n_members++];
        m->name = (*d)->member.name;
        m->type = (int)(*d)->member.type;
        m->offset = (*d)->member.offset + member_shift;
        m->flags = (*d)->member.readonly ? READONLY : 0;
        m->doc = (*d)->member.doc;
        if (m->type == T_OBJECT || m->type == T_OBJECT_EX)
            has_object_member = !extra->legacy_dealloc;
        if (is_vectorcalloffset(m->name)) {
            explicit_offset = 1;
            b->vectorcall_offset = m->offset;
        }
    }
    for (i = 0; legacy_members != NULL && legacy_members[i].name != NULL; i++) {
        b->members[b->n_members++] = legacy_members[i];
        if (is_vectorcalloffset(legacy_members[i].name)) {
            explicit_offset = 1;
            b->vectorcall_offset = legacy_members[i].offset;
        }
    }
    if (explicit_offset && extra->default_call != NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "Cannot have HPy_tp_call and explicit member"
                        "'__vectorcalloffset__'. Specify just one of them.");
        return -1;
    }
    /* the hidden __vectorcalloffset__ of HPy_tp_call is no member of the user's */
    if (spec->basicsize == 0 && b->n_members > (extra->default_call != NULL)) {
        PyErr_SetString(PyExc_TypeError, "Type claims to have basicsize==0 but defines members");
        return -1;
    }
    for (i = 0; legacy_methods != NULL && legacy_methods[i].ml_name != NULL; i++)
        b->methods[b->n_methods++] = legacy_methods[i];
    for (i = 0; legacy_getsets != NULL && legacy_getsets[i].name != NULL; i++)
        b->getsets[b->n_getsets++] = legacy_getsets[i];

    for (ls = legacy; ls != NULL && ls->slot != 0; ls++) {
        if (ls->slot == Py_tp_methods || ls->slot == Py_tp_members || ls->slot == Py_tp_getset)
            continue;
        if (ls->slot == Py_tp_new) {
            if (b->vectorcall_offset) {
                extra->legacy_new = (newfunc)ls->pfunc;
                continue;
            }
            has_new = 1;
        }
        b->slots[b->n_slots++] = *ls;
    }
    if (spec->doc != NULL) {
        b->slots[b->n_slots].slot = Py_tp_doc;
        b->slots[b->n_slots++].pfunc = (void *)spec->doc;
    }
    b->slots[b->n_slots].slot = Py_tp_methods;
    b->slots[b->n_slots++].pfunc = b->methods;
    b->slots[b->n_slots].slot = Py_tp_members;
    b->slots[b->n_slots++].pfunc = b->members;
    b->slots[b->n_slots].slot = Py_tp_getset;
    b->slots[b->n_slots++].pfunc = b->getsets;
    if (b->vectorcall_offset) {
        b->slots[b->n_slots].slot = Py_tp_call;
        b->slots[b->n_slots++].pfunc = (void *)PyVectorcall_Call;
        if (!has_new) {
            b->slots[b->n_slots].slot = Py_tp_new;
            b->slots[b->n_slots++].pfunc = (void *)vectorcall_new;
        }
    }
    if (extra->traverse != NULL || extra->destroy != NULL || has_object_member) {
        b->slots[b->n_slots].slot = Py_tp_dealloc;
        b->slots[b->n_slots++].pfunc = (void *)hpy_type_dealloc;
    }
    if (extra->traverse != NULL) {
        b->slots[b->n_slots].slot = Py_tp_clear;
        b->slots[b->n_slots++].pfunc = (void *)hpy_type_clear;
    }
    return 0;
}

#if PY_VERSION_HEX >= 0x030B0000
/* The method and getset arrays must live as long as the type (its
 * descriptors point into them) and CPython never frees them: they are moved
 * into `*extra`'s block, after the name, which the type frees as _ht_tpname
 * once its dict and descriptors are gone. */
static int move_defs_into_extra(hpy_type_extra **extra, built_spec *b)
{
    size_t name_end = ALIGN(offsetof(hpy_type_extra, name) + strlen((*extra)->name) + 1);
    size_t methods_size = (size_t)(b->n_methods + 1) * sizeof(PyMethodDef);
    size_t getsets_size = (size_t)(b->n_getsets + 1) * sizeof(PyGetSetDef);
    char *block = (char *)PyMem_Realloc(*extra, name_end + methods_size + getsets_size);
    PyMethodDef *methods;
    PyGetSetDef *getsets;
    Py_ssize_t i;
    if (block == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *extra = (hpy_type_extra *)block;
    methods = (PyMethodDef *)(block + name_end);
    getsets = (PyGetSetDef *)(block + name_end + methods_size);
    memcpy(methods, b->methods, methods_size);
    memcpy(getsets, b->getsets, getsets_size);
    for (i = 0; i < b->n_slots; i++) {
        if (b->slots[i].slot == Py_tp_methods)
            b->slots[i].pfunc = methods;
        else if (b->slots[i].slot == Py_tp_getset)
            b->slots[i].pfunc = getsets;
    }
    PyMem_Free(b->methods);
    PyMem_Free(b->getsets);
    b->methods = NULL;
    b->getsets = NULL;
    return 0;
}
#endif

/* The built-in type whose struct a shape extends. */
static PyTypeObject *shape_builtin(HPyType_BuiltinShape shape)
{
    switch (shape) {
    case HPyType_BuiltinShape_Type: return &PyType_Type;
    case HPyType_BuiltinShape_Long: return &PyLong_Type;
    case HPyType_BuiltinShape_Float: return &PyFloat_Type;
    case HPyType_BuiltinShape_Unicode: return &PyUnicode_Type;
    case HPyType_BuiltinShape_Tuple: return &PyTuple_Type;
    case HPyType_BuiltinShape_List: return &PyList_Type;
    default: return &PyBaseObject_Type;
    }
}

/* The user struct must not overlap what the base's struct keeps. */
static int check_layout(PyTypeObject *tp, HPyType_BuiltinShape shape, int has_struct)
{
    PyTypeObject *t;
    hpy_type_extra *base_extra = NULL;
    if (tp->tp_base == NULL)
        return 0;
    for (t = tp->tp_base; t != NULL; t = t->tp_base) {
        base_extra = type_extra(t);
        if (base_extra != NULL)
            break;
    }
    if (shape == HPyType_BuiltinShape_Legacy) {
        if (base_extra != NULL && base_extra->shape != HPyType_BuiltinShape_Legacy) {
            PyErr_SetString(PyExc_TypeError,
                            "A legacy type should not inherit its memory layout from a"
                            " pure type");
            return -1;
        }
        return 0;
    }
    if (base_extra != NULL && base_extra->shape != HPyType_BuiltinShape_Legacy) {
        if (base_extra->shape == shape)
            return 0;
        PyErr_Format(PyExc_TypeError,
                     "type %s has builtin_shape %s but its base type has %s: a subtype "
                     "keeps the shape of its base", tp->tp_name, shape_name(shape),
                     shape_name(base_extra->shape));
        return -1;
    }
    if (!PyType_IsSubtype(tp, shape_builtin(shape))) {
        PyErr_Format(PyExc_TypeError,
                     "type %s has builtin_shape %s, so it needs '%s' as a base",
                     tp->tp_name, shape_name(shape), shape_builtin(shape)->tp_name);
        return -1;
    }
    if (has_struct && tp->tp_base->tp_basicsize > head_size(shape)) {
        PyErr_Format(PyExc_TypeError,
                     "type %s has builtin_shape %s, but instances of its base '%s' are "
                     "larger: use HPyType_BuiltinShape_Legacy", tp->tp_name,
                     shape_name(shape), tp->tp_base->tp_name);
        return -1;
    }
    return 0;
}

#if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
/* Before 3.12 CPython cannot make a type from a spec with a metaclass: make
 * it without, then move it into an instance of the metaclass and let
 * PyType_Ready rebuild what points back at the type (its dict). */
static PyObject *from_spec_with_metaclass(PyType_Spec *spec, PyObject *bases,
                                          PyTypeObject *meta, Py_ssize_t n_members)
{
    PyObject *temp, *result;
    PyHeapTypeObject *tht, *ht;
    PyTypeObject *tt, *tp;

    if (meta->tp_new != PyType_Type.tp_new) {
        PyErr_SetString(PyExc_TypeError, "Metaclasses with custom tp_new are not supported.");
        return NULL;
    }
    temp = PyType_FromSpecWithBases(spec, bases);
    if (temp == NULL)
        return NULL;
    result = meta->tp_alloc(meta, n_members);
    if (result == NULL) {
        Py_DECREF(temp);
        return NULL;
    }
    tht = (PyHeapTypeObject *)temp;
    tt = &tht->ht_type;
    ht = (PyHeapTypeObject *)result;
    tp = &ht->ht_type;
    /* everything after the object header; a debug build's header stays */
    memcpy((char *)tp + sizeof(PyVarObject), (char *)tt + sizeof(PyVarObject),
           sizeof(PyHeapTypeObject) - sizeof(PyVarObject));
    tp->tp_as_async = &ht->as_async;
    tp->tp_as_number = &ht->as_number;
    tp->tp_as_sequence = &ht->as_sequence;
    tp->tp_as_mapping = &ht->as_mapping;
    tp->tp_as_buffer = &ht->as_buffer;
    tp->tp_flags = spec->flags | Py_TPFLAGS_HEAPTYPE;
    tp->tp_dict = NULL;
    tp->tp_bases = NULL;
    tp->tp_mro = NULL;
    tp->tp_cache = NULL;
    tp->tp_subclasses = NULL;
    tp->tp_weaklist = NULL;
    tp->tp_version_tag = 0;
    ht->ht_cached_keys = NULL;
    /* the members array sits after the type object, like CPython's */
    if (n_members > 0) {
        PyMemberDef *mine = (PyMemberDef *)((char *)result + Py_TYPE(result)->tp_basicsize);
        memcpy(mine, tt->tp_members, n_members * sizeof(PyMemberDef));
        tp->tp_members = mine;
    }
    /* the new type holds its own references; temp keeps (and drops) its own */
    Py_INCREF(ht->ht_name);
    Py_INCREF(ht->ht_qualname);
    Py_XINCREF(ht->ht_slots);
    Py_XINCREF(tp->tp_base);
#if PY_VERSION_HEX >= 0x03090000
    Py_XINCREF(ht->ht_module);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    tht->_ht_tpname = NULL; /* the name (our extra record) moves to the new type */
#endif
    if (tt->tp_doc != NULL) {
        size_t len = strlen(tt->tp_doc) + 1;
        char *doc = (char *)PyObject_Malloc(len);
        if (doc == NULL) {
            tp->tp_doc = NULL;
            goto fail;
        }
        memcpy(doc, tt->tp_doc, len);
        tp->tp_doc = doc;
    }
    if (PyType_Ready(tp) < 0)
        goto fail;
    {
        /* __module__, as PyType_FromSpec sets it */
        const char *dot = strrchr(spec->name, '.');
        if (dot != NULL) {
            PyObject *module = PyUnicode_FromStringAndSize(spec->name, dot - spec->name);
            int err = module == NULL ? -1 : PyDict_SetItemString(tp->tp_dict, "__module__", module);
            Py_XDECREF(module);
            if (err < 0)
                goto fail;
        }
    }
    Py_DECREF(temp);
    return result;
fail:
    Py_DECREF(temp);
    Py_DECREF(result);
    return NULL;
}
#endif

HPyAPI_IMPL HPy ctx_Type_FromSpec(HPyContext *ctx, HPyType_Spec *hspec, HPyType_SpecParam *params)
{
    PyType_Spec spec;
    built_spec b;
    hpy_type_extra *extra;
    HPy_ssize_t head, basicsize;
    size_t name_len;
    PyObject *bases, *result;
    PyTypeObject *meta, *tp;
    (void)ctx;

    if (check_params(params, hspec->name) < 0 || check_spec(hspec) < 0)
        return HPy_NULL;
    head = head_size(hspec->builtin_shape);
    basicsize = hspec->basicsize != 0 ? hspec->basicsize + head : 0;

    name_len = strlen(hspec->name);
    extra = (hpy_type_extra *)PyMem_Calloc(1, sizeof(hpy_type_extra) + name_len);
    if (extra == NULL) {
        PyErr_NoMemory();
        return HPy_NULL;
    }
    memcpy(extra->name, hspec->name, name_len + 1);
    extra->magic = HPY_TYPE_MAGIC;
    extra->shape = hspec->builtin_shape;

    memset(&b, 0, sizeof(b));
    if (build(hspec, extra, head, &basicsize, &b) < 0)
        goto error;
#if PY_VERSION_HEX >= 0x030B0000
    if (move_defs_into_extra(&extra, &b) < 0)
        goto error;
#endif
    spec.name = extra->name;
    spec.basicsize = (int)basicsize;
    spec.itemsize = hspec->itemsize;
    spec.flags = (unsigned int)(hspec->flags | HPY_TYPE_FLAG);
    if (b.vectorcall_offset)
        spec.flags |= HPy_TPFLAGS_HAVE_VECTORCALL;
#if PY_VERSION_HEX < 0x03090000
    /* 3.8 ignores __vectorcalloffset__: the offset and the flag are set below */
    spec.flags &= ~HPy_TPFLAGS_HAVE_VECTORCALL;
#endif
    spec.slots = b.slots;

    bases = bases_from_params(params);
    if (bases == NULL && PyErr_Occurred())
        goto error;
    meta = metaclass_from_params(params);
#if PY_VERSION_HEX >= 0x030C0000
    result = PyType_FromMetaclass(meta, NULL, &spec, bases);
#elif defined(PYPY_VERSION)
    if (meta != NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "HPyType_SpecParam_Metaclass is not supported by PyPy's C-API emulation "
                        "(the CPython ABI on PyPy)");
        result = NULL;
    }
    else
        result = PyType_FromSpecWithBases(&spec, bases);
#else
    if (meta != NULL)
        result = from_spec_with_metaclass(&spec, bases, meta, b.n_members);
    else
        result = PyType_FromSpecWithBases(&spec, bases);
#endif
    Py_XDECREF(bases);
    PyMem_Free(b.slots); /* CPython copied the slots; the def arrays stay */
    b.slots = NULL;
    if (result == NULL)
        goto error;
#if PY_VERSION_HEX < 0x03090000
    {
        /* 3.8 ignores the special members 3.9 reads */
        PyMemberDef *m;
        for (m = b.members; m->name != NULL; m++) {
            if (strcmp(m->name, "__weaklistoffset__") == 0)
                ((PyTypeObject *)result)->tp_weaklistoffset = m->offset;
            else if (strcmp(m->name, "__dictoffset__") == 0)
                ((PyTypeObject *)result)->tp_dictoffset = m->offset;
        }
    }
#endif
#ifndef PYPY_VERSION
    /* ... except the members, which CPython copies after the type object
     * (cpyext keeps pointing at them: there they live as long as the type) */
    PyMem_Free(b.members);
    b.members = NULL;
#endif
    tp = (PyTypeObject *)result;
#ifdef PYPY_VERSION
    if (pypy_register_type(tp, extra) < 0) {
        Py_DECREF(result);
        return HPy_NULL;
    }
#endif
#if PY_VERSION_HEX >= 0x030B0000
    /* CPython copied the name; it frees _ht_tpname with the type */
    PyMem_Free(((PyHeapTypeObject *)tp)->_ht_tpname);
    ((PyHeapTypeObject *)tp)->_ht_tpname = (char *)extra;
    tp->tp_name = extra->name;
#endif
#if PY_VERSION_HEX < 0x03090000
    if (b.vectorcall_offset) {
        tp->tp_vectorcall_offset = b.vectorcall_offset;
        tp->tp_flags |= HPy_TPFLAGS_HAVE_VECTORCALL;
    }
#endif
    /* 3.8 has no buffer slot ids, so fill the heap type's own struct */
    if (b.getbuffer != NULL || b.releasebuffer != NULL) {
        PyHeapTypeObject *ht = (PyHeapTypeObject *)tp;
        ht->as_buffer.bf_getbuffer = (getbufferproc)b.getbuffer;
        ht->as_buffer.bf_releasebuffer = (releasebufferproc)b.releasebuffer;
        tp->tp_as_buffer = &ht->as_buffer;
    }
    if (check_layout(tp, hspec->builtin_shape, hspec->basicsize != 0) < 0) {
        Py_DECREF(result);
        return HPy_NULL; /* the type owned extra and the def arrays now */
    }
    extra->plain_dealloc = !extra->legacy_dealloc && plain_dealloc(tp);
    if (extra->plain_dealloc && !PyType_IS_GC(tp) && tp->tp_finalize == NULL && tp->tp_del == NULL)
        tp->tp_dealloc = plain_instance_dealloc;
    return _py2h(result);

error:
    free_built(&b);
    PyMem_Free(extra);
    return HPy_NULL;
}

/* ---- instances ----------------------------------------------------------- */

HPyAPI_IMPL HPy ctx_New(HPyContext *ctx, HPy h_type, void **data)
{
    PyTypeObject *tp = (PyTypeObject *)_h2py(h_type);
    PyObject *obj;
    (void)ctx;
    if (!PyType_Check(tp)) {
        PyErr_SetString(PyExc_TypeError, "HPy_New arg 1 must be a type");
        return HPy_NULL;
    }
    /* zeroed, GC-tracked when the type has GC: HPyFields start NULL */
    obj = tp->tp_alloc(tp, 0);
    if (obj == NULL)
        return HPy_NULL;
    init_call_function(obj);
    *data = object_data(obj);
    return _py2h(obj);
}

HPyAPI_IMPL HPy ctx_Type_GenericNew(HPyContext *ctx, HPy type, const HPy *args,
                                    HPy_ssize_t nargs, HPy kw)
{
    PyTypeObject *tp = (PyTypeObject *)_h2py(type);
    PyObject *obj;
    (void)ctx; (void)args; (void)nargs; (void)kw;
    if (!PyType_Check(tp)) {
        PyErr_SetString(PyExc_TypeError, "HPy_Type_GenericNew arg 1 must be a type");
        return HPy_NULL;
    }
    obj = tp->tp_alloc(tp, 0);
    if (obj != NULL)
        init_call_function(obj);
    return _py2h(obj);
}

HPyAPI_IMPL HPyType_BuiltinShape ctx_Type_GetBuiltinShape(HPyContext *ctx, HPy h_type)
{
    PyTypeObject *tp = (PyTypeObject *)_h2py(h_type);
    hpy_type_extra *extra;
    (void)ctx;
    if (!PyType_Check(tp)) {
        PyErr_SetString(PyExc_TypeError, "arg must be a type");
        return (HPyType_BuiltinShape)-2;
    }
    /* a Python subclass has the layout of its HPy base */
    extra = nearest_extra(tp);
    return extra != NULL ? extra->shape : HPyType_BuiltinShape_Legacy;
}
