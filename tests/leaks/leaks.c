/* The C side of tests/test_leaks.py: one step function per API area, each
 * calling the functions of that area once (successes and error paths) and
 * closing everything it got. run(area, n, env) runs a step n times; `env` is a
 * tuple of objects from the test. A leak of one object per step shows as
 * n more allocated blocks or n more references. */
#include <string.h>
#include <wchar.h>
#include "hpy.h"

static HPy
failed(HPyContext *ctx, int line)
{
    if (!HPyErr_Occurred(ctx))
        HPyErr_Format(ctx, ctx->h_AssertionError, "leaks.c:%d: check failed", line);
    return HPy_NULL;
}
/* on failure the step returns at once: a failed test may leak, a passing may not */
#define CHECK(x) do { if (!(x)) { failed(ctx, __LINE__); return -1; } } while (0)
#define NEW(h, expr) HPy h = (expr); CHECK(!HPy_IsNull(h))
/* an expected failure: the error is the one wanted, then cleared */
#define FAILS(expr, exc) do {                                           \
        HPy _r = (expr);                                                \
        CHECK(HPy_IsNull(_r) && HPyErr_ExceptionMatches(ctx, exc));     \
        HPyErr_Clear(ctx);                                              \
    } while (0)
#define ITEM(i) env[i]

static HPyGlobal g_value;

/* ---- custom types: fields, tp_new/tp_init, destroy ----------------------- */
typedef struct { HPyField a; long x; } NodeObject;
HPyType_HELPERS(NodeObject)

HPyDef_SLOT(Node_new, HPy_tp_new)
static HPy Node_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    NodeObject *node;
    HPy h = HPy_New(ctx, cls, &node);
    (void)args; (void)nargs; (void)kw;
    return h;
}
HPyDef_SLOT(Node_init, HPy_tp_init)
static int Node_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    NodeObject *node = NodeObject_AsStruct(ctx, self);
    (void)kw;
    if (nargs > 0)
        HPyField_Store(ctx, self, &node->a, args[0]);
    return 0;
}
HPyDef_SLOT(Node_traverse, HPy_tp_traverse)
static int Node_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((NodeObject *)object)->a);
    return 0;
}
static HPyDef *Node_defines[] = { &Node_new, &Node_init, &Node_traverse, NULL };
static HPyType_Spec Node_spec = { .name = "leaks.Node", .basicsize = sizeof(NodeObject),
                                  .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC,
                                  .defines = Node_defines };

/* ---- buffers -------------------------------------------------------------- */
typedef struct { char data[16]; HPy_ssize_t shape[1]; } BufObject;
HPyType_HELPERS(BufObject)
HPyDef_SLOT(Buf_getbuffer, HPy_bf_getbuffer)
static int Buf_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
{
    BufObject *b = BufObject_AsStruct(ctx, self);
    (void)flags;
    b->shape[0] = 16;
    view->buf = b->data;
    view->obj = HPy_Dup(ctx, self);
    view->len = 16;
    view->itemsize = 1;
    view->readonly = 0;
    view->ndim = 1;
    view->format = "B";
    view->shape = b->shape;
    view->strides = NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    return 0;
}
HPyDef_SLOT(Buf_releasebuffer, HPy_bf_releasebuffer)
static void Buf_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
{
    (void)ctx; (void)self; (void)view;
}
static HPyDef *Buf_defines[] = { &Buf_getbuffer, &Buf_releasebuffer, NULL };
static HPyType_Spec Buf_spec = { .name = "leaks.Buf", .basicsize = sizeof(BufObject),
                                 .defines = Buf_defines };

/* ---- the steps ------------------------------------------------------------ */

/* env: (an object with attribute 'attr', a list, a dict, a str key) */
static int step_objects(HPyContext *ctx, const HPy *env)
{
    HPy obj = ITEM(0), list = ITEM(1), dict = ITEM(2), key = ITEM(3);
    NEW(dup, HPy_Dup(ctx, obj));
    HPy_Close(ctx, dup);
    NEW(attr, HPy_GetAttr_s(ctx, obj, "attr"));
    CHECK(HPy_SetAttr_s(ctx, obj, "attr", attr) == 0);
    CHECK(HPy_HasAttr_s(ctx, obj, "attr") == 1 && HPy_HasAttr_s(ctx, obj, "missing") == 0);
    FAILS(HPy_GetAttr_s(ctx, obj, "missing"), ctx->h_AttributeError);
    CHECK(HPy_SetAttr(ctx, obj, key, attr) == 0);
    CHECK(HPy_HasAttr(ctx, obj, key) == 1);
    NEW(attr2, HPy_GetAttr(ctx, obj, key));
    NEW(repr, HPy_Repr(ctx, list));
    NEW(str, HPy_Str(ctx, list));
    NEW(ascii, HPy_ASCII(ctx, list));
    NEW(cmp, HPy_RichCompare(ctx, repr, str, HPy_EQ));
    CHECK(HPy_RichCompareBool(ctx, repr, ascii, HPy_EQ) == 1);
    CHECK(HPy_Hash(ctx, repr) != -1 && HPy_Hash(ctx, list) == -1);
    HPyErr_Clear(ctx);
    NEW(type, HPy_Type(ctx, list));
    CHECK(HPy_TypeCheck(ctx, list, type) && HPy_Is(ctx, type, ctx->h_ListType));
    CHECK(HPy_IsTrue(ctx, list) == 1 && HPy_Length(ctx, list) == 3);
    NEW(item, HPy_GetItem_i(ctx, list, 0));
    CHECK(HPy_SetItem_i(ctx, list, 0, item) == 0);
    FAILS(HPy_GetItem_i(ctx, list, 99), ctx->h_IndexError);
    CHECK(HPy_SetItem_s(ctx, dict, "k", repr) == 0);
    NEW(v1, HPy_GetItem_s(ctx, dict, "k"));
    CHECK(HPy_SetItem(ctx, dict, key, str) == 0);
    NEW(v2, HPy_GetItem(ctx, dict, key));
    CHECK(HPy_Contains(ctx, dict, key) == 1);
    CHECK(HPy_DelItem(ctx, dict, key) == 0 && HPy_DelItem_s(ctx, dict, "k") == 0);
    FAILS(HPy_GetItem_s(ctx, dict, "k"), ctx->h_KeyError);
    CHECK(HPy_DelItem_i(ctx, ITEM(1), 99) == -1);
    HPyErr_Clear(ctx);
    CHECK(HPyCallable_Check(ctx, type) && !HPyCallable_Check(ctx, list));
    HPy_Close(ctx, attr); HPy_Close(ctx, attr2); HPy_Close(ctx, repr); HPy_Close(ctx, str);
    HPy_Close(ctx, ascii); HPy_Close(ctx, cmp); HPy_Close(ctx, type); HPy_Close(ctx, item);
    HPy_Close(ctx, v1); HPy_Close(ctx, v2);
    return 0;
}

/* env: (a big int, a float) */
static int step_numbers(HPyContext *ctx, const HPy *env)
{
    HPy big = ITEM(0), flt = ITEM(1);
    HPy made[12], ops[16];
    int i, n_ops = 0;
    made[0] = HPyLong_FromLong(ctx, 100000);
    made[1] = HPyLong_FromUnsignedLong(ctx, 100001);
    made[2] = HPyLong_FromLongLong(ctx, 1LL << 40);
    made[3] = HPyLong_FromUnsignedLongLong(ctx, 1ULL << 63);
    made[4] = HPyLong_FromSsize_t(ctx, -100000);
    made[5] = HPyLong_FromSize_t(ctx, 100000);
    made[6] = HPyLong_FromInt32_t(ctx, -70000);
    made[7] = HPyLong_FromUInt32_t(ctx, 70000);
    made[8] = HPyLong_FromInt64_t(ctx, -(1LL << 50));
    made[9] = HPyLong_FromUInt64_t(ctx, 1ULL << 50);
    made[10] = HPyFloat_FromDouble(ctx, 2.5);
    made[11] = HPyBool_FromBool(ctx, true);
    for (i = 0; i < 12; i++)
        CHECK(!HPy_IsNull(made[i]));
    CHECK(HPyLong_AsLong(ctx, made[0]) == 100000 && HPyLong_AsSsize_t(ctx, made[4]) == -100000);
    CHECK(HPyLong_AsUnsignedLongLong(ctx, made[3]) == 1ULL << 63);
    CHECK(HPyLong_AsInt32_t(ctx, made[6]) == -70000 && HPyLong_AsUInt64_t(ctx, made[9]) == 1ULL << 50);
    CHECK(HPyLong_AsDouble(ctx, made[0]) == 100000.0 && HPyFloat_AsDouble(ctx, made[10]) == 2.5);
    CHECK(HPyLong_AsUInt32_tMask(ctx, made[8]) == 0 && HPyLong_AsSize_t(ctx, made[5]) == 100000);
    CHECK(HPyLong_AsLong(ctx, big) == -1 && HPyErr_Occurred(ctx));   /* OverflowError */
    HPyErr_Clear(ctx);
    CHECK(HPyLong_AsLong(ctx, flt) == -1 && HPyErr_Occurred(ctx));   /* TypeError */
    HPyErr_Clear(ctx);
    CHECK(HPyNumber_Check(ctx, big));
    ops[n_ops++] = HPy_Add(ctx, big, made[0]);
    ops[n_ops++] = HPy_Subtract(ctx, big, made[0]);
    ops[n_ops++] = HPy_Multiply(ctx, big, made[2]);
    ops[n_ops++] = HPy_FloorDivide(ctx, big, made[0]);
    ops[n_ops++] = HPy_TrueDivide(ctx, made[0], flt);
    ops[n_ops++] = HPy_Remainder(ctx, big, made[0]);
    ops[n_ops++] = HPy_Divmod(ctx, big, made[0]);
    ops[n_ops++] = HPy_Power(ctx, made[0], made[11], ctx->h_None);
    ops[n_ops++] = HPy_Negative(ctx, big);
    ops[n_ops++] = HPy_Invert(ctx, big);
    ops[n_ops++] = HPy_Lshift(ctx, made[0], made[11]);
    ops[n_ops++] = HPy_Xor(ctx, big, made[0]);
    ops[n_ops++] = HPy_Index(ctx, made[0]);
    ops[n_ops++] = HPy_Float(ctx, made[0]);
    ops[n_ops++] = HPy_Long(ctx, flt);
    ops[n_ops++] = HPy_InPlaceAdd(ctx, made[0], big);
    for (i = 0; i < n_ops; i++)
        CHECK(!HPy_IsNull(ops[i]));
    FAILS(HPy_TrueDivide(ctx, big, ctx->h_None), ctx->h_TypeError);
    for (i = 0; i < n_ops; i++)
        HPy_Close(ctx, ops[i]);
    for (i = 0; i < 12; i++)
        HPy_Close(ctx, made[i]);
    return 0;
}

/* env: (a str, a slice) */
static int step_containers(HPyContext *ctx, const HPy *env)
{
    HPy text = ITEM(0), items[3];
    HPy_ssize_t start, stop, step;
    HPyListBuilder lb;
    HPyTupleBuilder tb;
    int i;
    NEW(list, HPyList_New(ctx, 2));
    CHECK(HPyList_Check(ctx, list) && HPyList_Append(ctx, list, text) == 0);
    NEW(dict, HPyDict_New(ctx));
    CHECK(HPyDict_Check(ctx, dict) && HPy_SetItem(ctx, dict, text, list) == 0);
    NEW(keys, HPyDict_Keys(ctx, dict));
    NEW(copy, HPyDict_Copy(ctx, dict));
    items[0] = list; items[1] = dict; items[2] = text;
    NEW(tuple, HPyTuple_FromArray(ctx, items, 3));
    NEW(packed, HPyTuple_Pack(ctx, 2, text, tuple));
    CHECK(HPyTuple_Check(ctx, packed));
    lb = HPyListBuilder_New(ctx, 3);
    for (i = 0; i < 3; i++) {
        HPy v = HPyLong_FromLong(ctx, 1000 + i);
        HPyListBuilder_Set(ctx, lb, i, v);
        HPy_Close(ctx, v);
    }
    NEW(built_list, HPyListBuilder_Build(ctx, lb));
    tb = HPyTupleBuilder_New(ctx, 2);
    HPyTupleBuilder_Set(ctx, tb, 0, built_list);
    HPyTupleBuilder_Set(ctx, tb, 1, text);
    NEW(built_tuple, HPyTupleBuilder_Build(ctx, tb));
    lb = HPyListBuilder_New(ctx, 2);        /* filled, then given up */
    HPyListBuilder_Set(ctx, lb, 0, tuple);
    HPyListBuilder_Cancel(ctx, lb);
    tb = HPyTupleBuilder_New(ctx, 2);
    HPyTupleBuilder_Set(ctx, tb, 0, tuple);
    HPyTupleBuilder_Cancel(ctx, tb);
    CHECK(HPySlice_Unpack(ctx, ITEM(1), &start, &stop, &step) == 0 && step == 2);
    CHECK(HPySlice_Unpack(ctx, text, &start, &stop, &step) == -1);
    HPyErr_Clear(ctx);
    HPy_Close(ctx, list); HPy_Close(ctx, dict); HPy_Close(ctx, keys); HPy_Close(ctx, copy);
    HPy_Close(ctx, tuple); HPy_Close(ctx, packed); HPy_Close(ctx, built_list);
    HPy_Close(ctx, built_tuple);
    return 0;
}

/* env: (a non-ASCII str, bytes) */
static int step_strings(HPyContext *ctx, const HPy *env)
{
    HPy text = ITEM(0), bytes = ITEM(1);
    HPy_ssize_t size;
    static const wchar_t wide[] = L"wide \u00e9";
    NEW(b1, HPyBytes_FromString(ctx, "some bytes"));
    NEW(b2, HPyBytes_FromStringAndSize(ctx, "a\0b", 3));
    CHECK(HPyBytes_Check(ctx, b1) && HPyBytes_Size(ctx, b2) == 3 && HPyBytes_GET_SIZE(ctx, b2) == 3);
    CHECK(HPyBytes_AsString(ctx, bytes) != NULL && HPyBytes_AS_STRING(ctx, b1)[0] == 's');
    NEW(u1, HPyUnicode_FromString(ctx, "caf\xc3\xa9 text"));
    CHECK(HPyUnicode_Check(ctx, u1) && HPyUnicode_AsUTF8AndSize(ctx, text, &size) != NULL);
    NEW(utf8, HPyUnicode_AsUTF8String(ctx, text));
    NEW(latin1, HPyUnicode_AsLatin1String(ctx, u1));
    FAILS(HPyUnicode_AsASCIIString(ctx, u1), ctx->h_UnicodeEncodeError);
    NEW(w, HPyUnicode_FromWideChar(ctx, wide, -1));
    NEW(fs, HPyUnicode_DecodeFSDefault(ctx, "file name"));
    NEW(fs2, HPyUnicode_DecodeFSDefaultAndSize(ctx, "file name", 4));
    NEW(fsb, HPyUnicode_EncodeFSDefault(ctx, fs));
    CHECK(HPyUnicode_ReadChar(ctx, u1, 3) == 0xE9);
    NEW(a, HPyUnicode_DecodeASCII(ctx, "plain", 5, "strict"));
    NEW(l, HPyUnicode_DecodeLatin1(ctx, "\xe9t\xe9", 3, "strict"));
    FAILS(HPyUnicode_DecodeASCII(ctx, "\xff", 1, "strict"), ctx->h_UnicodeDecodeError);
    NEW(e, HPyUnicode_FromEncodedObject(ctx, bytes, "utf-8", "replace"));
    NEW(sub, HPyUnicode_Substring(ctx, u1, 1, 4));
    NEW(asbytes, HPy_Bytes(ctx, bytes));
    HPy_Close(ctx, b1); HPy_Close(ctx, b2); HPy_Close(ctx, u1); HPy_Close(ctx, utf8);
    HPy_Close(ctx, latin1); HPy_Close(ctx, w); HPy_Close(ctx, fs); HPy_Close(ctx, fs2);
    HPy_Close(ctx, fsb); HPy_Close(ctx, a); HPy_Close(ctx, l); HPy_Close(ctx, e);
    HPy_Close(ctx, sub); HPy_Close(ctx, asbytes);
    return 0;
}

/* env: (a str message object, a warning category) */
static int step_errors(HPyContext *ctx, const HPy *env)
{
    HPy msg = ITEM(0);
    HPyErr_SetString(ctx, ctx->h_ValueError, "a message");
    CHECK(HPyErr_Occurred(ctx) && HPyErr_ExceptionMatches(ctx, ctx->h_ValueError));
    HPyErr_Clear(ctx);
    HPyErr_SetObject(ctx, ctx->h_KeyError, msg);
    HPyErr_Clear(ctx);
    FAILS(HPyErr_NoMemory(ctx), ctx->h_MemoryError);
    FAILS(HPyErr_Format(ctx, ctx->h_TypeError, "%s %d %S", "text", 42, msg), ctx->h_TypeError);
    FAILS(HPyErr_SetFromErrnoWithFilename(ctx, ctx->h_OSError, "/no/such/file"), ctx->h_OSError);
    FAILS(HPyErr_SetFromErrnoWithFilenameObjects(ctx, ctx->h_OSError, msg, HPy_NULL), ctx->h_OSError);
    CHECK(HPyErr_WarnEx(ctx, ITEM(1), "a warning", 1) == 0);
    HPyErr_SetString(ctx, ctx->h_RuntimeError, "unraisable");
    HPyErr_WriteUnraisable(ctx, msg);
    CHECK(!HPyErr_Occurred(ctx));
    return 0;
}

/* the exception types are heap types, freed by the cycle collector */
static int step_new_exception(HPyContext *ctx, const HPy *env)
{
    HPy dict;
    (void)env;
    NEW(e1, HPyErr_NewException(ctx, "leaks.Error", HPy_NULL, HPy_NULL));
    dict = HPyDict_New(ctx);
    CHECK(!HPy_IsNull(dict));
    NEW(e2, HPyErr_NewExceptionWithDoc(ctx, "leaks.Error2", "the doc", e1, dict));
    HPy_Close(ctx, dict);
    HPy_Close(ctx, e1);
    HPy_Close(ctx, e2);
    return 0;
}

/* env: (a function f(*a, **k), an object with method m, a raising function) */
static int step_calls(HPyContext *ctx, const HPy *env)
{
    HPy f = ITEM(0), obj = ITEM(1), args[3];
    NEW(num, HPyLong_FromLong(ctx, 123456));
    NEW(tuple, HPyTuple_Pack(ctx, 2, num, num));
    NEW(kw, HPyDict_New(ctx));
    CHECK(HPy_SetItem_s(ctx, kw, "k", num) == 0);
    NEW(r1, HPy_CallTupleDict(ctx, f, tuple, kw));
    NEW(r2, HPy_CallTupleDict(ctx, f, HPy_NULL, HPy_NULL));
    NEW(kwnames, HPyTuple_Pack(ctx, 1, ctx->h_None));   /* replaced below */
    HPy_Close(ctx, kwnames);
    NEW(kname, HPyUnicode_FromString(ctx, "k"));
    kwnames = HPyTuple_Pack(ctx, 1, kname);
    CHECK(!HPy_IsNull(kwnames));
    args[0] = num; args[1] = tuple; args[2] = kw;
    NEW(r3, HPy_Call(ctx, f, args, 2, kwnames));
    NEW(name, HPyUnicode_FromString(ctx, "m"));
    args[0] = obj;
    NEW(r4, HPy_CallMethod(ctx, name, args, 2, HPy_NULL));
    NEW(r5, HPy_CallMethodTupleDict_s(ctx, "m", obj, tuple, HPy_NULL));
    FAILS(HPy_CallTupleDict(ctx, ITEM(2), tuple, HPy_NULL), ctx->h_ZeroDivisionError);
    FAILS(HPy_Call(ctx, ITEM(2), args, 1, HPy_NULL), ctx->h_ZeroDivisionError);
    HPy_Close(ctx, num); HPy_Close(ctx, tuple); HPy_Close(ctx, kw); HPy_Close(ctx, r1);
    HPy_Close(ctx, r2); HPy_Close(ctx, kname); HPy_Close(ctx, kwnames); HPy_Close(ctx, r3);
    HPy_Close(ctx, name); HPy_Close(ctx, r4); HPy_Close(ctx, r5);
    return 0;
}

/* env: (the Node type, an object to store) */
static int step_types(HPyContext *ctx, const HPy *env)
{
    HPy type = ITEM(0), value = ITEM(1);
    NodeObject *node;
    NEW(h, HPy_New(ctx, type, &node));
    HPyField_Store(ctx, h, &node->a, value);
    HPyField_Store(ctx, h, &node->a, h);          /* a cycle, replacing the value */
    NEW(loaded, HPyField_Load(ctx, h, node->a));
    CHECK(HPy_Is(ctx, loaded, h));
    HPy_Close(ctx, loaded);
    HPyField_Store(ctx, h, &node->a, HPy_NULL);
    NEW(args, HPyTuple_Pack(ctx, 1, value));
    NEW(made, HPy_CallTupleDict(ctx, type, args, HPy_NULL));   /* tp_new + tp_init */
    CHECK(HPy_TypeCheck(ctx, made, type) && HPyType_IsSubtype(ctx, type, ctx->h_BaseObjectType));
    CHECK(strcmp(HPyType_GetName(ctx, type), "Node") == 0);
    CHECK(NodeObject_AsStruct(ctx, made) != NULL);
    HPyGlobal_Store(ctx, &g_value, made);
    NEW(g, HPyGlobal_Load(ctx, g_value));
    HPyGlobal_Store(ctx, &g_value, ctx->h_None);
    HPy_Close(ctx, g); HPy_Close(ctx, made); HPy_Close(ctx, args); HPy_Close(ctx, h);
    return 0;
}

static int step_type_from_spec(HPyContext *ctx, const HPy *env)
{
    (void)env;
    NEW(type, HPyType_FromSpec(ctx, &Node_spec, NULL));
    HPy_Close(ctx, type);
    return 0;
}

static int capsule_target = 7;
static int destructor_calls;
HPyCapsule_DESTRUCTOR(count_destructor)
static void count_destructor_impl(const char *name, void *pointer, void *context)
{
    (void)name; (void)pointer; (void)context;
    destructor_calls++;
}

static int step_capsules(HPyContext *ctx, const HPy *env)
{
    int before = destructor_calls;
    (void)env;
    NEW(c1, HPyCapsule_New(ctx, &capsule_target, "leaks.cap", NULL));
    NEW(c2, HPyCapsule_New(ctx, &capsule_target, "leaks.cap", &count_destructor));
    CHECK(HPyCapsule_IsValid(ctx, c1, "leaks.cap") && !HPyCapsule_IsValid(ctx, c1, "other"));
    CHECK(HPyCapsule_GetPointer(ctx, c2, "leaks.cap") == &capsule_target);
    CHECK(HPyCapsule_GetPointer(ctx, c2, "other") == NULL);
    HPyErr_Clear(ctx);
    CHECK(HPyCapsule_SetContext(ctx, c1, &capsule_target) == 0);
    CHECK(HPyCapsule_GetContext(ctx, c1) == &capsule_target);
    CHECK(HPyCapsule_SetName(ctx, c1, "leaks.other") == 0);
    CHECK(strcmp(HPyCapsule_GetName(ctx, c1), "leaks.other") == 0);
    CHECK(HPyCapsule_Set(ctx, c1, HPyCapsule_key_Destructor, &count_destructor) == 0);
    HPy_Close(ctx, c1);
    HPy_Close(ctx, c2);
    CHECK(destructor_calls == before + 2);
    return 0;
}

static int step_tracker(HPyContext *ctx, const HPy *env)
{
    HPy kept[4];
    int i;
    HPyTracker ht = HPyTracker_New(ctx, 0);    /* grows past its first size */
    CHECK(!HPy_IsNull(ht));
    for (i = 0; i < 20; i++) {
        HPy v = HPyLong_FromLong(ctx, 100000 + i);
        CHECK(!HPy_IsNull(v) && HPyTracker_Add(ctx, ht, v) == 0);
    }
    HPyTracker_Close(ctx, ht);
    ht = HPyTracker_New(ctx, 4);
    for (i = 0; i < 4; i++) {
        kept[i] = HPy_Dup(ctx, ITEM(0));
        CHECK(HPyTracker_Add(ctx, ht, kept[i]) == 0);
    }
    HPyTracker_ForgetAll(ctx, ht);              /* the handles are ours again */
    HPyTracker_Close(ctx, ht);
    for (i = 0; i < 4; i++)
        HPy_Close(ctx, kept[i]);
    return 0;
}

/* env: (an int, a str, an object, kwnames ('b',), a dict {'b': obj}) */
static int step_helpers(HPyContext *ctx, const HPy *env)
{
    HPy args[3], o = HPy_NULL, o2 = HPy_NULL;
    const char *s = NULL;
    long i = 0;
    HPyTracker ht;
    static const char *kwlist[] = { "a", "b", NULL };
    args[0] = ITEM(0); args[1] = ITEM(1); args[2] = ITEM(2);
    CHECK(HPyArg_Parse(ctx, NULL, args, 3, "lsO", &i, &s, &o));
    CHECK(!HPyArg_Parse(ctx, NULL, args, 3, "ll|O", &i, &i, &o));
    HPyErr_Clear(ctx);
    CHECK(HPyArg_Parse(ctx, &ht, args, 3, "lsO", &i, &s, &o));
    HPyTracker_Close(ctx, ht);
    args[1] = ITEM(2);   /* vectorcall style: the value of keyword b after the positionals */
    CHECK(HPyArg_ParseKeywords(ctx, &ht, args, 1, ITEM(3), "O|O", kwlist, &o, &o2));
    HPyTracker_Close(ctx, ht);
    CHECK(!HPyArg_ParseKeywords(ctx, &ht, args, 1, ITEM(3), "l|l", kwlist, &i, &i));
    HPyErr_Clear(ctx);
    CHECK(HPyArg_ParseKeywordsDict(ctx, &ht, args, 1, ITEM(4), "O|O", kwlist, &o, &o2));
    HPyTracker_Close(ctx, ht);
    CHECK(!HPyArg_ParseKeywordsDict(ctx, &ht, args, 2, ITEM(4), "O|O", kwlist, &o, &o2));
    HPyErr_Clear(ctx);
    NEW(built, HPy_BuildValue(ctx, "(iO[s]{s:O}d)", 100000, ITEM(2), "text", "k", ITEM(1), 2.5));
    FAILS(HPy_BuildValue(ctx, "(iO[s]{[]:O})", 100000, ITEM(2), "text", ITEM(1)), ctx->h_TypeError);
    FAILS(HPy_BuildValue(ctx, "(is", 1, "x"), ctx->h_SystemError);
    NEW(text, HPyUnicode_FromFormat(ctx, "%d %5s %S %R %.3U %p", 42, "ab", ITEM(2), ITEM(1),
                                    ITEM(1), (void *)&i));
    FAILS(HPyUnicode_FromFormat(ctx, "%S", HPy_NULL), ctx->h_SystemError);
    HPy_Close(ctx, built);
    HPy_Close(ctx, text);
    return 0;
}

/* env: (a globals dict, a contextvars.ContextVar) */
static int step_module(HPyContext *ctx, const HPy *env)
{
    HPy result = HPy_NULL;
    NEW(math, HPyImport_ImportModule(ctx, "math"));
    FAILS(HPyImport_ImportModule(ctx, "leaks_no_such_module"), ctx->h_ImportError);
    NEW(code, HPy_Compile_s(ctx, "[x * 2 for x in range(3)]", "<leaks>", HPy_SourceKind_Expr));
    NEW(value, HPy_EvalCode(ctx, code, ITEM(0), ITEM(0)));
    FAILS(HPy_Compile_s(ctx, "1 +", "<leaks>", HPy_SourceKind_Expr), ctx->h_SyntaxError);
    /* the context keeps every variable ever set: set only the test's one */
    NEW(var, HPyContextVar_New(ctx, "leaks.var", value));
    CHECK(HPyContextVar_Get(ctx, var, HPy_NULL, &result) == 0 && HPy_Is(ctx, result, value));
    HPy_Close(ctx, result);
    NEW(token, HPyContextVar_Set(ctx, ITEM(1), value));
    CHECK(HPyContextVar_Get(ctx, ITEM(1), HPy_NULL, &result) == 0 && HPy_Is(ctx, result, value));
    HPy_Close(ctx, result);
    HPy_Close(ctx, math); HPy_Close(ctx, code); HPy_Close(ctx, value); HPy_Close(ctx, var);
    HPy_Close(ctx, token);
    return 0;
}

/* The self-tests: a step that leaks a new object, one that leaks a reference. */
static int step_leak_object(HPyContext *ctx, const HPy *env)
{
    (void)env;
    NEW(list, HPyList_New(ctx, 0));
    return 0;   /* `list` is never closed */
}

static int step_leak_reference(HPyContext *ctx, const HPy *env)
{
    NEW(dup, HPy_Dup(ctx, ITEM(0)));
    return 0;   /* `dup` is never closed */
}

typedef int (*step_fn)(HPyContext *, const HPy *);
static const struct { const char *name; step_fn step; } steps[] = {
    { "objects", step_objects }, { "numbers", step_numbers },
    { "containers", step_containers }, { "strings", step_strings },
    { "errors", step_errors }, { "new_exception", step_new_exception },
    { "calls", step_calls }, { "types", step_types },
    { "type_from_spec", step_type_from_spec }, { "capsules", step_capsules },
    { "tracker", step_tracker }, { "helpers", step_helpers }, { "module", step_module },
    { "leak_object", step_leak_object }, { "leak_reference", step_leak_reference },
};

/* run(area_name, n, env_tuple) */
HPyDef_METH(run, "run", HPyFunc_VARARGS)
static HPy run_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *name;
    long n, i;
    HPy env[8], env_tuple;
    HPy_ssize_t n_env, k;
    size_t s;
    step_fn step = NULL;
    int ok = 1;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "slO", &name, &n, &env_tuple))
        return HPy_NULL;
    for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
        if (strcmp(steps[s].name, name) == 0)
            step = steps[s].step;
    n_env = HPy_Length(ctx, env_tuple);
    if (step == NULL || n_env < 0 || n_env > 8) {
        if (!HPyErr_Occurred(ctx))
            HPyErr_SetString(ctx, ctx->h_ValueError, "no such area, or too big an env");
        return HPy_NULL;
    }
    for (k = 0; k < n_env; k++)
        env[k] = HPy_GetItem_i(ctx, env_tuple, k);   /* a tuple's items: never fails here */
    for (i = 0; i < n && ok; i++)
        ok = step(ctx, env) == 0;
    for (k = 0; k < n_env; k++)
        HPy_Close(ctx, env[k]);
    return ok ? HPy_Dup(ctx, ctx->h_None) : HPy_NULL;
}

HPyDef_SLOT(leaks_exec, HPy_mod_exec)
static int leaks_exec_impl(HPyContext *ctx, HPy m)
{
    if (!HPyHelpers_AddType(ctx, m, "Node", &Node_spec, NULL))
        return -1;
    return HPyHelpers_AddType(ctx, m, "Buf", &Buf_spec, NULL) ? 0 : -1;
}

static HPyDef *defines[] = { &run, &leaks_exec, NULL };
static HPyGlobal *globals[] = { &g_value, NULL };
static HPyModuleDef moduledef = { .defines = defines, .globals = globals };
HPy_MODINIT(leaks, moduledef)
