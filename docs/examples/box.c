/* A type holding a reference to another object, for docs/porting.md: the
 * C API's `PyObject *item` member becomes an HPyField. Pure HPy: it builds
 * for every ABI, and sample_ext/tests/test_porting_doc.py runs it in each.
 */
#include "hpy.h"

typedef struct {
    HPyField item;     /* never a bare HPy: handles die when the call returns */
} BoxObject;

HPyType_HELPERS(BoxObject)

/* Must visit every HPyField, so that a moving GC can update it and
 * CPython's GC can see cycles through it. */
HPyDef_SLOT(Box_traverse, HPy_tp_traverse)
static int
Box_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((BoxObject *)self)->item);
    return 0;
}

HPyDef_SLOT(Box_new, HPy_tp_new)
static HPy
Box_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    BoxObject *box;
    HPyTracker ht;
    HPy item, h;
    /* "O" with keywords needs a tracker: it owns the handles it gave out. */
    if (!HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kw, "O:Box",
                                  (const char *[]){"item", NULL}, &item))
        return HPy_NULL;
    h = HPy_New(ctx, type, &box);
    if (!HPy_IsNull(h))
        HPyField_Store(ctx, h, &box->item, item);    /* does not take item over */
    HPyTracker_Close(ctx, ht);
    return h;
}

HPyDef_GET(Box_item, "item", .doc = "the object in the box")
static HPy
Box_item_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    return HPyField_Load(ctx, self, BoxObject_AsStruct(ctx, self)->item);
}

static HPyDef *Box_defines[] = { &Box_traverse, &Box_new, &Box_item, NULL };

static HPyType_Spec Box_spec = {
    .name = "box.Box",
    .basicsize = sizeof(BoxObject),
    .builtin_shape = SHAPE(BoxObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
    .defines = Box_defines,
};

HPyDef_SLOT(box_exec, HPy_mod_exec)
static int
box_exec_impl(HPyContext *ctx, HPy module)
{
    return HPyHelpers_AddType(ctx, module, "Box", &Box_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = { &box_exec, NULL };
static HPyModuleDef moduledef = { .doc = "An HPyField example.", .defines = module_defines };

HPy_MODINIT(box, moduledef)
