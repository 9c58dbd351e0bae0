"""Bytes and the core unicode API, in both ABIs."""
import os

import pytest

SOURCE = r"""
#include "hpytest.h"

static HPy int_result(HPyContext *ctx, long r)
{
    if (r == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, r);
}

/* None -> NULL, so tests can pass the C default for optional strings */
static const char *opt_utf8(HPyContext *ctx, HPy h)
{
    if (HPy_Is(ctx, h, ctx->h_None))
        return NULL;
    return HPyUnicode_AsUTF8AndSize(ctx, h, NULL);
}

static HPy pack_and_close(HPyContext *ctx, HPy *items, HPy_ssize_t n)
{
    HPy result;
    HPy_ssize_t i;
    for (i = 0; i < n; i++)
        if (HPy_IsNull(items[i]))
            break;
    result = i == n ? HPyTuple_FromArray(ctx, items, n) : HPy_NULL;
    for (i = 0; i < n; i++)
        if (!HPy_IsNull(items[i]))
            HPy_Close(ctx, items[i]);
    return result;
}

/* ---- bytes ---- */

T_METH_O(bytes_check, HPyLong_FromLong(ctx, HPyBytes_Check(ctx, arg)))
T_METH_O(bytes_size, int_result(ctx, HPyBytes_Size(ctx, arg)))
T_METH_O(bytes_get_size, HPyLong_FromSsize_t(ctx, HPyBytes_GET_SIZE(ctx, arg)))

HPyDef_METH(bytes_as_string, "bytes_as_string", HPyFunc_O)
static HPy bytes_as_string_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *s = HPyBytes_AsString(ctx, arg);
    (void)self;
    if (s == NULL)
        return HPy_NULL;
    return HPyBytes_FromStringAndSize(ctx, s, HPyBytes_Size(ctx, arg));
}

HPyDef_METH(bytes_AS_STRING, "bytes_AS_STRING", HPyFunc_O)
static HPy bytes_AS_STRING_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPyBytes_FromStringAndSize(ctx, HPyBytes_AS_STRING(ctx, arg),
                                      HPyBytes_GET_SIZE(ctx, arg));
}

/* FromString stops at the first NUL */
HPyDef_METH(bytes_from_string, "bytes_from_string", HPyFunc_O)
static HPy bytes_from_string_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *s = HPyBytes_AsString(ctx, arg);
    (void)self;
    if (s == NULL)
        return HPy_NULL;
    return HPyBytes_FromString(ctx, s);
}

HPyDef_METH(bytes_constants, "bytes_constants", HPyFunc_NOARGS)
static HPy bytes_constants_impl(HPyContext *ctx, HPy self)
{
    HPy items[4];
    (void)self;
    items[0] = HPyBytes_FromString(ctx, "hello");
    items[1] = HPyBytes_FromStringAndSize(ctx, "hello", 3);
    items[2] = HPyBytes_FromStringAndSize(ctx, "a\0b", 3);
    items[3] = HPyBytes_FromString(ctx, "");
    return pack_and_close(ctx, items, 4);
}

HPyDef_METH(bytes_negative_size, "bytes_negative_size", HPyFunc_NOARGS)
static HPy bytes_negative_size_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyBytes_FromStringAndSize(ctx, "x", -1);
}

HPyDef_METH(bytes_from_null, "bytes_from_null", HPyFunc_O)
static HPy bytes_from_null_impl(HPyContext *ctx, HPy self, HPy size)
{
    (void)self;
    return HPyBytes_FromStringAndSize(ctx, NULL, HPyLong_AsSsize_t(ctx, size));
}

/* ---- unicode ---- */

HPyDef_METH(unicode_constant, "unicode_constant", HPyFunc_NOARGS)
static HPy unicode_constant_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, "h\xc3\xa9llo \xe2\x82\xac");
}

/* the bytes' contents, as a NUL-terminated C string, through FromString */
HPyDef_METH(unicode_from_string, "unicode_from_string", HPyFunc_O)
static HPy unicode_from_string_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *s = HPyBytes_AsString(ctx, arg);
    (void)self;
    if (s == NULL)
        return HPy_NULL;
    return HPyUnicode_FromString(ctx, s);
}

T_METH_O(unicode_check, HPyLong_FromLong(ctx, HPyUnicode_Check(ctx, arg)))
T_METH_O(as_ascii, HPyUnicode_AsASCIIString(ctx, arg))
T_METH_O(as_latin1, HPyUnicode_AsLatin1String(ctx, arg))
T_METH_O(as_utf8, HPyUnicode_AsUTF8String(ctx, arg))

HPyDef_METH(utf8_and_size, "utf8_and_size", HPyFunc_O)
static HPy utf8_and_size_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_ssize_t size = -7;
    const char *s = HPyUnicode_AsUTF8AndSize(ctx, arg, &size);
    HPy items[2];
    (void)self;
    if (s == NULL)
        return HPy_NULL;
    items[0] = HPyBytes_FromStringAndSize(ctx, s, size);
    items[1] = HPyLong_FromSsize_t(ctx, size);
    return pack_and_close(ctx, items, 2);
}

HPyDef_METH(utf8_without_size, "utf8_without_size", HPyFunc_O)
static HPy utf8_without_size_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *s = HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
    (void)self;
    if (s == NULL)
        return HPy_NULL;
    return HPyBytes_FromString(ctx, s);
}

HPyDef_METH(from_wide_char, "from_wide_char", HPyFunc_O)
static HPy from_wide_char_impl(HPyContext *ctx, HPy self, HPy arg)
{
    static const wchar_t text[] = { 0x68, 0xe9, 0x1F600, 0x21, 0 };
    (void)self;
    return HPyUnicode_FromWideChar(ctx, text, HPyLong_AsSsize_t(ctx, arg));
}

HPyDef_METH(decode_fs_default, "decode_fs_default", HPyFunc_O)
static HPy decode_fs_default_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *s = HPyBytes_AsString(ctx, arg);
    (void)self;
    if (s == NULL)
        return HPy_NULL;
    return HPyUnicode_DecodeFSDefault(ctx, s);
}

HPyDef_METH(decode_fs_default_and_size, "decode_fs_default_and_size", HPyFunc_VARARGS)
static HPy decode_fs_default_and_size_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *s = HPyBytes_AsString(ctx, args[0]);
    (void)self; (void)nargs;
    if (s == NULL)
        return HPy_NULL;
    return HPyUnicode_DecodeFSDefaultAndSize(ctx, s, HPyLong_AsSsize_t(ctx, args[1]));
}

T_METH_O(encode_fs_default, HPyUnicode_EncodeFSDefault(ctx, arg))

HPyDef_METH(read_char, "read_char", HPyFunc_VARARGS)
static HPy read_char_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy_UCS4 c = HPyUnicode_ReadChar(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]));
    (void)self; (void)nargs;
    if (c == (HPy_UCS4)-1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromUInt32_t(ctx, (uint32_t)c);
}

HPyDef_METH(decode_ascii, "decode_ascii", HPyFunc_VARARGS)
static HPy decode_ascii_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *s = HPyBytes_AsString(ctx, args[0]);
    (void)self; (void)nargs;
    if (s == NULL)
        return HPy_NULL;
    return HPyUnicode_DecodeASCII(ctx, s, HPyBytes_Size(ctx, args[0]), opt_utf8(ctx, args[1]));
}

HPyDef_METH(decode_latin1, "decode_latin1", HPyFunc_VARARGS)
static HPy decode_latin1_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *s = HPyBytes_AsString(ctx, args[0]);
    (void)self; (void)nargs;
    if (s == NULL)
        return HPy_NULL;
    return HPyUnicode_DecodeLatin1(ctx, s, HPyBytes_Size(ctx, args[0]), opt_utf8(ctx, args[1]));
}

T_METH_N(from_encoded_object,
         HPyUnicode_FromEncodedObject(ctx, args[0], opt_utf8(ctx, args[1]), opt_utf8(ctx, args[2])))
T_METH_N(substring,
         HPyUnicode_Substring(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]),
                              HPyLong_AsSsize_t(ctx, args[2])))

static HPyDef *module_defines[] = {
    &bytes_check, &bytes_size, &bytes_get_size, &bytes_as_string, &bytes_AS_STRING,
    &bytes_from_string, &bytes_constants, &bytes_negative_size, &bytes_from_null,
    &unicode_constant, &unicode_from_string, &unicode_check, &as_ascii, &as_latin1, &as_utf8,
    &utf8_and_size, &utf8_without_size, &from_wide_char, &decode_fs_default,
    &decode_fs_default_and_size, &encode_fs_default, &read_char, &decode_ascii,
    &decode_latin1, &from_encoded_object, &substring, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_strings, moduledef)
"""

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_strings")
    return _built[hpy_abi]


# ---- bytes ------------------------------------------------------------------

def test_bytes_check(mod):
    assert mod.bytes_check(b"x") == 1
    assert mod.bytes_check(b"") == 1
    assert mod.bytes_check(bytearray(b"x")) == 0
    assert mod.bytes_check("x") == 0
    assert mod.bytes_check(memoryview(b"x")) == 0


def test_bytes_sizes(mod):
    for value in [b"", b"abc", b"a\0b\0"]:
        assert mod.bytes_size(value) == len(value)
        assert mod.bytes_get_size(value) == len(value)
    with pytest.raises(TypeError, match="expected bytes, str found"):
        mod.bytes_size("abc")


def test_bytes_as_string(mod):
    for value in [b"", b"hello", b"a\0b", bytes(range(256))]:
        assert mod.bytes_as_string(value) == value
        assert mod.bytes_AS_STRING(value) == value
    with pytest.raises(TypeError, match="expected bytes, str found"):
        mod.bytes_as_string("abc")


def test_bytes_from_string(mod):
    assert mod.bytes_from_string(b"hello") == b"hello"
    assert mod.bytes_from_string(b"ab\0cd") == b"ab"
    assert mod.bytes_constants() == (b"hello", b"hel", b"a\0b", b"")
    assert all(type(b) is bytes for b in mod.bytes_constants())
    with pytest.raises(SystemError, match="Negative size"):
        mod.bytes_negative_size()


@pytest.mark.parametrize("size", [-1, 0, 5])
def test_bytes_from_null_is_refused(mod, size):
    """CPython would return uninitialised memory; HPy 0.9 raises, and so do we."""
    with pytest.raises(ValueError) as error:
        mod.bytes_from_null(size)
    assert str(error.value) == "NULL char * passed to HPyBytes_FromStringAndSize"


# ---- unicode ----------------------------------------------------------------

def test_unicode_from_string(mod):
    assert mod.unicode_constant() == "h\u00e9llo \u20ac"
    assert mod.unicode_from_string("\u20ac\U0001F600".encode()) == "\u20ac\U0001F600"
    assert mod.unicode_from_string(b"") == ""
    with pytest.raises(UnicodeDecodeError):
        mod.unicode_from_string(b"\xff")


def test_unicode_check(mod):
    class MyStr(str):
        pass
    assert mod.unicode_check("x") == 1
    assert mod.unicode_check(MyStr("x")) == 1
    assert mod.unicode_check(b"x") == 0
    assert mod.unicode_check(None) == 0


def test_encoders(mod):
    assert mod.as_ascii("abc") == b"abc"
    assert mod.as_latin1("caf\u00e9") == b"caf\xe9"
    assert mod.as_utf8("caf\u00e9 \u20ac") == "caf\u00e9 \u20ac".encode("utf-8")
    with pytest.raises(UnicodeEncodeError, match="'ascii' codec"):
        mod.as_ascii("\u00e9")
    with pytest.raises(UnicodeEncodeError, match="'latin-1' codec"):
        mod.as_latin1("\u20ac")
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        mod.as_utf8("\ud800")
    for func in (mod.as_ascii, mod.as_latin1, mod.as_utf8):
        with pytest.raises(TypeError):
            func(b"bytes")


def test_as_utf8_and_size(mod):
    assert mod.utf8_and_size("a\0\u20ac") == (b"a\0\xe2\x82\xac", 5)
    assert mod.utf8_and_size("") == (b"", 0)
    assert mod.utf8_without_size("h\u00e9") == "h\u00e9".encode()
    with pytest.raises(TypeError):
        mod.utf8_and_size(b"x")
    with pytest.raises(UnicodeEncodeError):
        mod.utf8_and_size("\udcff")


def test_from_wide_char(mod):
    assert mod.from_wide_char(-1) == "h\u00e9\U0001F600!"
    assert mod.from_wide_char(3) == "h\u00e9\U0001F600"
    assert mod.from_wide_char(0) == ""


def test_filesystem_encoding(mod):
    assert mod.decode_fs_default(b"name.txt") == "name.txt"
    assert mod.decode_fs_default(b"\xff\xc3\xa9") == os.fsdecode(b"\xff\xc3\xa9")
    assert mod.decode_fs_default_and_size(b"abcdef", 3) == "abc"
    assert mod.decode_fs_default_and_size(b"a\0b", 3) == "a\0b"
    assert mod.encode_fs_default("n\u00e9") == os.fsencode("n\u00e9")
    assert mod.encode_fs_default(os.fsdecode(b"\xff")) == b"\xff"
    with pytest.raises(TypeError):
        mod.encode_fs_default(b"x")


def test_read_char(mod):
    text = "a\u00e9\U0001F600"
    assert [mod.read_char(text, i) for i in range(3)] == [ord(c) for c in text]
    with pytest.raises(IndexError, match="string index out of range"):
        mod.read_char(text, 3)
    with pytest.raises(TypeError):
        mod.read_char(b"abc", 0)


def test_decode_ascii_and_latin1(mod):
    assert mod.decode_ascii(b"abc", None) == "abc"
    assert mod.decode_ascii(b"a\xffb", "replace") == "a\ufffdb"
    assert mod.decode_ascii(b"a\xffb", "ignore") == "ab"
    with pytest.raises(UnicodeDecodeError, match="'ascii' codec"):
        mod.decode_ascii(b"a\xffb", None)
    with pytest.raises(UnicodeDecodeError):
        mod.decode_ascii(b"\x80", "strict")
    with pytest.raises(LookupError, match="unknown error handler name 'nosuch'"):
        mod.decode_ascii(b"\x80", "nosuch")
    assert mod.decode_latin1(b"caf\xe9", None) == "caf\u00e9"
    assert mod.decode_latin1(bytes(range(256)), "strict") == bytes(range(256)).decode("latin-1")


def test_from_encoded_object(mod):
    assert mod.from_encoded_object(b"caf\xc3\xa9", None, None) == "caf\u00e9"
    assert mod.from_encoded_object(b"caf\xe9", "latin-1", None) == "caf\u00e9"
    assert mod.from_encoded_object(bytearray(b"abc"), "ascii", None) == "abc"
    assert mod.from_encoded_object(b"a\xffb", "utf-8", "replace") == "a\ufffdb"
    with pytest.raises(UnicodeDecodeError):
        mod.from_encoded_object(b"a\xffb", "utf-8", None)
    with pytest.raises(TypeError, match="decoding str is not supported"):
        mod.from_encoded_object("text", None, None)
    with pytest.raises(LookupError, match="unknown encoding"):
        mod.from_encoded_object(b"x", "no-such-codec", None)


def test_substring(mod):
    assert mod.substring("hello", 1, 3) == "el"
    assert mod.substring("h\u00e9llo", 0, 2) == "h\u00e9"
    assert mod.substring("hello", 2, 100) == "llo"
    assert mod.substring("hello", 7, 9) == ""
    assert mod.substring("hello", 3, 1) == ""
    with pytest.raises(IndexError, match="string index out of range"):
        mod.substring("hello", -1, 2)
