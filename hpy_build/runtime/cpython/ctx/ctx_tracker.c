/* HPyTracker: remembers handles so an error path can close them all. */
#include "hpy.h"

typedef struct {
    HPy_ssize_t capacity;
    HPy_ssize_t length;
    HPy *handles;
} Tracker;

static Tracker *as_tracker(HPyTracker ht) { return (Tracker *)ht._i; }

HPyAPI_IMPL HPyTracker ctx_Tracker_New(HPyContext *ctx, HPy_ssize_t capacity)
{
    HPyTracker ht = {0};
    Tracker *t;
    (void)ctx;
    if (capacity < 5)
        capacity = 5;   /* room for the usual handful of arguments */
    t = (Tracker *)PyMem_Malloc(sizeof(Tracker));
    if (t == NULL) {
        PyErr_NoMemory();
        return ht;
    }
    t->handles = (HPy *)PyMem_Calloc((size_t)capacity + 1, sizeof(HPy));
    if (t->handles == NULL) {
        PyMem_Free(t);
        PyErr_NoMemory();
        return ht;
    }
    t->capacity = capacity;
    t->length = 0;
    ht._i = (intptr_t)t;
    return ht;
}

HPyAPI_IMPL int ctx_Tracker_Add(HPyContext *ctx, HPyTracker ht, HPy h)
{
    Tracker *t = as_tracker(ht);
    (void)ctx;
    if (t->length == t->capacity) {
        HPy_ssize_t capacity = t->capacity * 2;
        HPy *handles = (HPy *)PyMem_Realloc(t->handles, ((size_t)capacity + 1) * sizeof(HPy));
        if (handles == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->handles = handles;
        t->capacity = capacity;
    }
    t->handles[t->length++] = h;
    return 0;
}

HPyAPI_IMPL void ctx_Tracker_ForgetAll(HPyContext *ctx, HPyTracker ht)
{
    (void)ctx;
    as_tracker(ht)->length = 0;
}

HPyAPI_IMPL void ctx_Tracker_Close(HPyContext *ctx, HPyTracker ht)
{
    Tracker *t = as_tracker(ht);
    HPy_ssize_t i;
    (void)ctx;
    for (i = 0; i < t->length; i++)
        Py_XDECREF(_h2py(t->handles[i]));
    PyMem_Free(t->handles);
    PyMem_Free(t);
}
