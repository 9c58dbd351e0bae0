/* HPyTracker: remembers handles so an error path can close them all. */
#include <string.h>
#include "hpy.h"

/* Room for the usual handful of arguments without a second allocation. */
#define INLINE_HANDLES 8

typedef struct {
    HPy_ssize_t capacity;
    HPy_ssize_t length;
    HPy *handles; /* inline_handles, or a heap array once it outgrew them */
    HPy inline_handles[INLINE_HANDLES];
} Tracker;

/* One closed tracker kept for the next HPyTracker_New: argument parsers make
 * and close one per call, and this spares them the allocator. Every caller
 * holds the GIL, which guards it. */
static Tracker *spare_tracker;

static Tracker *as_tracker(HPyTracker ht) { return (Tracker *)ht._i; }

HPyAPI_IMPL HPyTracker ctx_Tracker_New(HPyContext *ctx, HPy_ssize_t capacity)
{
    HPyTracker ht = {0};
    Tracker *t = spare_tracker;
    (void)ctx;
    if (t != NULL)
        spare_tracker = NULL;
    else if ((t = (Tracker *)PyMem_Malloc(sizeof(Tracker))) == NULL) {
        PyErr_NoMemory();
        return ht;
    }
    t->handles = t->inline_handles;
    t->capacity = INLINE_HANDLES;
    t->length = 0;
    if (capacity > INLINE_HANDLES) {
        t->handles = (HPy *)PyMem_Malloc((size_t)capacity * sizeof(HPy));
        if (t->handles == NULL) {
            PyMem_Free(t);
            PyErr_NoMemory();
            return ht;
        }
        t->capacity = capacity;
    }
    ht._i = (intptr_t)t;
    return ht;
}

/* Add to a full tracker. Out of line, so that the common Add needs no stack frame. */
#ifdef __GNUC__
__attribute__((noinline))
#endif
static int grow_and_add(Tracker *t, HPy h)
{
    HPy_ssize_t capacity = t->capacity * 2;
    HPy *handles;
    if (t->handles == t->inline_handles) {
        handles = (HPy *)PyMem_Malloc((size_t)capacity * sizeof(HPy));
        if (handles != NULL)
            memcpy(handles, t->inline_handles, sizeof(t->inline_handles));
    }
    else
        handles = (HPy *)PyMem_Realloc(t->handles, (size_t)capacity * sizeof(HPy));
    if (handles == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->handles = handles;
    t->capacity = capacity;
    t->handles[t->length++] = h;
    return 0;
}

HPyAPI_IMPL int ctx_Tracker_Add(HPyContext *ctx, HPyTracker ht, HPy h)
{
    Tracker *t = as_tracker(ht);
    (void)ctx;
    if (t->length == t->capacity)
        return grow_and_add(t, h);
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
    if (t->handles != t->inline_handles)
        PyMem_Free(t->handles);
    if (spare_tracker == NULL)
        spare_tracker = t;
    else
        PyMem_Free(t);
}
