"""The buffer protocol of custom types (HPy_bf_getbuffer/releasebuffer), both ABIs."""
import gc

import pytest

from support import VIEWS_NAME_THEIR_EXPORTER, allocated_blocks, free_dropped, refcount

SOURCE = r"""
#include <string.h>
#include "hpytest.h"

static long n_get, n_release;

typedef struct { char data[16]; HPy_ssize_t shape[1]; HPy_ssize_t exports; } BufObject;
HPyType_HELPERS(BufObject)

HPyDef_SLOT(Buf_getbuffer, HPy_bf_getbuffer)
static int Buf_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
{
    BufObject *b = BufObject_AsStruct(ctx, self);
    n_get++;
    if (b->data[15] == 'X') {  /* a refusing exporter */
        HPyErr_SetString(ctx, ctx->h_BufferError, "no buffer today");
        return -1;
    }
    (void)flags;
    b->shape[0] = 16;
    b->exports++;
    view->buf = b->data;
    view->obj = HPy_Dup(ctx, self);  /* the view owns a reference */
    view->len = 16;
    view->itemsize = 1;
    view->readonly = 0;
    view->ndim = 1;
    view->format = "B";
    view->shape = b->shape;
    view->strides = NULL;
    view->suboffsets = NULL;
    view->internal = b;
    return 0;
}

HPyDef_SLOT(Buf_releasebuffer, HPy_bf_releasebuffer)
static void Buf_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
{
    BufObject *b = BufObject_AsStruct(ctx, self);
    /* the view still holds its object and what getbuffer put in it */
    if (view->internal == b && HPy_Is(ctx, view->obj, self) && view->buf == b->data)
        b->exports--;
    n_release++;
}

HPyDef_METH(Buf_get, "get", HPyFunc_O)
static HPy Buf_get_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPyLong_FromLong(ctx, (unsigned char)BufObject_AsStruct(ctx, self)->data[HPyLong_AsLong(ctx, arg)]);
}

HPyDef_METH(Buf_put, "put", HPyFunc_VARARGS)
static HPy Buf_put_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)nargs;
    BufObject_AsStruct(ctx, self)->data[HPyLong_AsLong(ctx, args[0])] = (char)HPyLong_AsLong(ctx, args[1]);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(Buf_exports, "exports", HPyFunc_NOARGS)
static HPy Buf_exports_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromSsize_t(ctx, BufObject_AsStruct(ctx, self)->exports);
}

static HPyDef *Buf_defines[] = { &Buf_getbuffer, &Buf_releasebuffer, &Buf_get, &Buf_put, &Buf_exports, NULL };
static HPyType_Spec Buf_spec = { .name = "mytest.Buf", .basicsize = sizeof(BufObject),
                                 .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
                                 .defines = Buf_defines };

HPyDef_METH(counts, "counts", HPyFunc_NOARGS)
static HPy counts_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_BuildValue(ctx, "ll", n_get, n_release);
}

HPyDef_SLOT(ex, HPy_mod_exec)
static int ex_impl(HPyContext *ctx, HPy m)
{
    return HPyHelpers_AddType(ctx, m, "Buf", &Buf_spec, NULL) ? 0 : -1;
}
static HPyDef *defs[] = { &counts, &ex, NULL };
static HPyModuleDef moduledef = { .defines = defs };
HPy_MODINIT(mytest, moduledef)
"""


@pytest.fixture
def mod(compile_module):
    return compile_module(SOURCE)


def test_memoryview_is_zero_copy(mod):
    b = mod.Buf()
    before = refcount(b)
    mv = memoryview(b)
    assert mod.counts() == (1, 0)
    assert refcount(b) == before + 1  # the view holds the exporter
    assert b.exports() == 1
    assert (mv.nbytes, mv.format, mv.itemsize, mv.ndim, mv.shape, mv.readonly) == \
        (16, "B", 1, 1, (16,), False)
    assert mv.obj is b or not VIEWS_NAME_THEIR_EXPORTER
    mv[3] = 65
    assert b.get(3) == 65  # written through the buffer
    b.put(4, 66)
    assert mv[4] == 66  # and read through it
    assert bytes(mv[3:5]) == b"AB"
    mv.release()
    del mv
    free_dropped()
    assert mod.counts() == (1, 1)
    assert b.exports() == 0  # releasebuffer saw the view getbuffer filled
    assert refcount(b) == before


def test_buffer_consumers(mod):
    b = mod.Buf()
    b.put(0, ord("h"))
    b.put(1, ord("i"))
    assert bytes(b)[:2] == b"hi" and len(bytes(b)) == 16
    assert bytearray(b)[:2] == bytearray(b"hi")
    free_dropped()
    n_get, n_release = mod.counts()
    assert n_get == n_release  # every consumer gave its view back
    with memoryview(b) as mv:
        assert mv.tobytes()[:2] == b"hi"
    del mv
    free_dropped()
    assert b.exports() == 0


def test_getbuffer_error(mod):
    b = mod.Buf()
    b.put(15, ord("X"))
    before = refcount(b)
    with pytest.raises(BufferError, match="no buffer today"):
        memoryview(b)
    assert refcount(b) == before
    assert b.exports() == 0


def test_python_subclass_keeps_buffer(mod):
    class Sub(mod.Buf):
        pass

    s = Sub()
    with memoryview(s) as mv:
        mv[0] = 7
    del mv
    free_dropped()
    assert s.get(0) == 7 and s.exports() == 0


def test_many_views_no_leak(mod):
    b = mod.Buf()
    for _ in range(10):
        memoryview(b).release()
    gc.collect()
    before, blocks = refcount(b), allocated_blocks()
    for _ in range(1000):
        with memoryview(b) as mv:
            mv[0] = 1
    gc.collect()
    assert refcount(b) == before
    assert abs(allocated_blocks() - blocks) < 50
