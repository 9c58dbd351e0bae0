/* Custom types across the HPy 0.9 binary boundary: HPyType_Spec, members,
   getters, slots, an HPyField with GC traversal, tp_destroy, and a subtype
   made through HPyType_SpecParam. Built by both toolchains, loaded by both
   runtimes (tests/test_hpy09_compat.py); warning-free under both headers. */
#include <stddef.h>
#include "hpy.h"

static long destroyed; /* how many Points tp_destroy has seen */
static HPyGlobal point_type;

typedef struct {
    long x;
    long y;
    HPyField label; /* any object, or NULL */
} PointObject;

HPyType_HELPERS(PointObject)

typedef struct {
    PointObject base;
    double z;
} Point3DObject;

HPyType_HELPERS(Point3DObject)

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    long x, y;
    HPy label = HPy_NULL;
    static const char *keywords[] = { "x", "y", "label", NULL };
    HPyTracker ht;
    if (!HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kw, "ll|O", keywords, &x, &y, &label))
        return HPy_NULL;
    PointObject *point;
    HPy h_point = HPy_New(ctx, cls, &point);
    if (!HPy_IsNull(h_point)) {
        point->x = x;
        point->y = y;
        HPyField_Store(ctx, h_point, &point->label, label);
    }
    HPyTracker_Close(ctx, ht);
    return h_point;
}

HPyDef_SLOT(Point_traverse, HPy_tp_traverse)
static int Point_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    PointObject *point = (PointObject *)object;
    HPy_VISIT(&point->label);
    return 0;
}

HPyDef_SLOT(Point_destroy, HPy_tp_destroy)
static void Point_destroy_impl(void *object)
{
    (void)object;
    destroyed++;
}

HPyDef_MEMBER(Point_x, "x", HPyMember_LONG, offsetof(PointObject, x), .doc = "first coordinate")
HPyDef_MEMBER(Point_y, "y", HPyMember_LONG, offsetof(PointObject, y), .readonly = 1)

HPyDef_GET(Point_label, "label", .doc = "the label, or None")
static HPy Point_label_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    HPyField label = PointObject_AsStruct(ctx, self)->label;
    /* loading an empty field is undefined in hpy 0.9.0 (it crashes) */
    if (HPyField_IsNull(label))
        return HPy_Dup(ctx, ctx->h_None);
    return HPyField_Load(ctx, self, label);
}

HPyDef_SLOT(Point_repr, HPy_tp_repr)
static HPy Point_repr_impl(HPyContext *ctx, HPy self)
{
    PointObject *point = PointObject_AsStruct(ctx, self);
    return HPyUnicode_FromFormat(ctx, "Point(%ld, %ld)", point->x, point->y);
}

/* Point + Point adds coordinates; the result is a plain Point */
HPyDef_SLOT(Point_add, HPy_nb_add)
static HPy Point_add_impl(HPyContext *ctx, HPy left, HPy right)
{
    HPy cls = HPyGlobal_Load(ctx, point_type);
    int both = HPy_TypeCheck(ctx, left, cls) && HPy_TypeCheck(ctx, right, cls);
    if (!both) {
        HPy_Close(ctx, cls);
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    PointObject *a = PointObject_AsStruct(ctx, left);
    PointObject *b = PointObject_AsStruct(ctx, right);
    PointObject *sum;
    HPy h_sum = HPy_New(ctx, cls, &sum);
    HPy_Close(ctx, cls);
    if (HPy_IsNull(h_sum))
        return HPy_NULL;
    sum->x = a->x + b->x;
    sum->y = a->y + b->y;
    return h_sum;
}

HPyDef_METH(Point_norm2, "norm2", HPyFunc_NOARGS, .doc = "x*x + y*y")
static HPy Point_norm2_impl(HPyContext *ctx, HPy self)
{
    PointObject *point = PointObject_AsStruct(ctx, self);
    return HPyLong_FromLong(ctx, point->x * point->x + point->y * point->y);
}

static HPyDef *Point_defines[] = {
    &Point_new, &Point_traverse, &Point_destroy, &Point_x, &Point_y, &Point_label,
    &Point_repr, &Point_add, &Point_norm2, NULL
};

static HPyType_Spec Point_spec = {
    .name = "compat09types.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .defines = Point_defines,
    .doc = "A point with a label",
};

HPyDef_MEMBER(Point3D_z, "z", HPyMember_DOUBLE, offsetof(Point3DObject, z))

HPyDef_METH(Point3D_lift, "lift", HPyFunc_O, .doc = "set z and return self")
static HPy Point3D_lift_impl(HPyContext *ctx, HPy self, HPy arg)
{
    double z = HPyFloat_AsDouble(ctx, arg);
    if (z == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    Point3DObject_AsStruct(ctx, self)->z = z;
    return HPy_Dup(ctx, self);
}

/* hpy 0.9.0 wants every HAVE_GC type to name its traverse slot itself */
static HPyDef *Point3D_defines[] = { &Point_traverse, &Point3D_z, &Point3D_lift, NULL };

static HPyType_Spec Point3D_spec = {
    .name = "compat09types.Point3D",
    .basicsize = sizeof(Point3DObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
    .defines = Point3D_defines,
};

HPyDef_METH(destroyed_count, "destroyed_count", HPyFunc_NOARGS)
static HPy destroyed_count_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, destroyed);
}

HPyDef_SLOT(exec_module, HPy_mod_exec)
static int exec_module_impl(HPyContext *ctx, HPy module)
{
    HPy h_point = HPyType_FromSpec(ctx, &Point_spec, NULL);
    if (HPy_IsNull(h_point))
        return -1;
    HPyGlobal_Store(ctx, &point_type, h_point);
    int failed = HPy_SetAttr_s(ctx, module, "Point", h_point);
    HPyType_SpecParam params[] = {
        { HPyType_SpecParam_Base, h_point },
        { (HPyType_SpecParam_Kind)0, HPy_NULL },
    };
    if (!failed && !HPyHelpers_AddType(ctx, module, "Point3D", &Point3D_spec, params))
        failed = 1;
    HPy_Close(ctx, h_point);
    return failed ? -1 : 0;
}

static HPyDef *module_defines[] = { &destroyed_count, &exec_module, NULL };
static HPyGlobal *module_globals[] = { &point_type, NULL };

static HPyModuleDef moduledef = {
    .doc = "HPy 0.9 custom types probe",
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(compat09types, moduledef)
