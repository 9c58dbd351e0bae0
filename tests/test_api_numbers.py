"""Longs of every width, floats, bools and the number protocol, in both ABIs."""
import math
import operator

import pytest

from support import message, refcount

# (HPy function suffix, operator function, dunder the operator calls)
BINARY = [
    ("Add", operator.add, "add"),
    ("Subtract", operator.sub, "sub"),
    ("Multiply", operator.mul, "mul"),
    ("MatrixMultiply", operator.matmul, "matmul"),
    ("FloorDivide", operator.floordiv, "floordiv"),
    ("TrueDivide", operator.truediv, "truediv"),
    ("Remainder", operator.mod, "mod"),
    ("Divmod", divmod, "divmod"),
    ("Lshift", operator.lshift, "lshift"),
    ("Rshift", operator.rshift, "rshift"),
    ("And", operator.and_, "and"),
    ("Xor", operator.xor, "xor"),
    ("Or", operator.or_, "or"),
    ("InPlaceAdd", operator.iadd, "iadd"),
    ("InPlaceSubtract", operator.isub, "isub"),
    ("InPlaceMultiply", operator.imul, "imul"),
    ("InPlaceMatrixMultiply", operator.imatmul, "imatmul"),
    ("InPlaceFloorDivide", operator.ifloordiv, "ifloordiv"),
    ("InPlaceTrueDivide", operator.itruediv, "itruediv"),
    ("InPlaceRemainder", operator.imod, "imod"),
    ("InPlaceLshift", operator.ilshift, "ilshift"),
    ("InPlaceRshift", operator.irshift, "irshift"),
    ("InPlaceAnd", operator.iand, "iand"),
    ("InPlaceXor", operator.ixor, "ixor"),
    ("InPlaceOr", operator.ior, "ior"),
]
TERNARY = [("Power", "pow"), ("InPlacePower", "ipow")]
UNARY = [
    ("Negative", operator.neg, "neg"),
    ("Positive", operator.pos, "pos"),
    ("Absolute", abs, "abs"),
    ("Invert", operator.invert, "invert"),
    ("Index", operator.index, "index"),
    ("Long", int, "int"),
    ("Float", float, "float"),
]

# HPyLong_As<suffix>: (suffix, C type, signed, bits, mask)
LONG_AS = [
    ("Int32_t", "int32_t", True, 32, False),
    ("UInt32_t", "uint32_t", False, 32, False),
    ("UInt32_tMask", "uint32_t", False, 32, True),
    ("Int64_t", "int64_t", True, 64, False),
    ("UInt64_t", "uint64_t", False, 64, False),
    ("UInt64_tMask", "uint64_t", False, 64, True),
    ("Size_t", "size_t", False, 64, False),
    ("Ssize_t", "HPy_ssize_t", True, 64, False),
    # inline helpers
    ("Long", "long", True, 64, False),
    ("UnsignedLong", "unsigned long", False, 64, False),
    ("UnsignedLongMask", "unsigned long", False, 64, True),
    ("LongLong", "long long", True, 64, False),
    ("UnsignedLongLong", "unsigned long long", False, 64, False),
    ("UnsignedLongLongMask", "unsigned long long", False, 64, True),
]
# HPyLong_From<suffix>: (suffix, C type, signed, bits)
LONG_FROM = [
    ("Int32_t", "int32_t", True, 32),
    ("UInt32_t", "uint32_t", False, 32),
    ("Int64_t", "int64_t", True, 64),
    ("UInt64_t", "uint64_t", False, 64),
    ("Size_t", "size_t", False, 64),
    ("Ssize_t", "HPy_ssize_t", True, 64),
    ("Long", "long", True, 64),
    ("UnsignedLong", "unsigned long", False, 64),
    ("LongLong", "long long", True, 64),
    ("UnsignedLongLong", "unsigned long long", False, 64),
]


def _cases(lines):
    return "\n".join("    case %d: %s" % (i, line) for i, line in enumerate(lines))


def _long_as_case(suffix, ctype, signed, _bits, _mask):
    widen = "HPyLong_FromInt64_t(ctx, (int64_t)v)" if signed else "HPyLong_FromUInt64_t(ctx, (uint64_t)v)"
    return ("{ %s v = HPyLong_As%s(ctx, args[1]); if (HPyErr_Occurred(ctx)) return HPy_NULL; "
            "return %s; }" % (ctype, suffix, widen))


def _long_from_case(suffix, ctype, signed, _bits):
    read = ("int64_t v = HPyLong_AsInt64_t(ctx, args[1]);" if signed
            else "uint64_t v = HPyLong_AsUInt64_t(ctx, args[1]);")
    return ("{ %s if (HPyErr_Occurred(ctx)) return HPy_NULL; return HPyLong_From%s(ctx, (%s)v); }"
            % (read, suffix, ctype))


SOURCE = r"""
#include <math.h>
#include "hpy.h"

static HPy unknown(HPyContext *ctx)
{
    return HPyErr_SetString(ctx, ctx->h_ValueError, "unknown operation number");
}

HPyDef_METH(binary, "binary", HPyFunc_VARARGS)
static HPy binary_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a = args[1], b = args[2];
    (void)self; (void)nargs;
    switch (HPyLong_AsLong(ctx, args[0])) {
%(binary)s
    }
    return unknown(ctx);
}

HPyDef_METH(ternary, "ternary", HPyFunc_VARARGS)
static HPy ternary_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a = args[1], b = args[2], c = args[3];
    (void)self; (void)nargs;
    switch (HPyLong_AsLong(ctx, args[0])) {
%(ternary)s
    }
    return unknown(ctx);
}

HPyDef_METH(unary, "unary", HPyFunc_VARARGS)
static HPy unary_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a = args[1];
    (void)self; (void)nargs;
    switch (HPyLong_AsLong(ctx, args[0])) {
%(unary)s
    }
    return unknown(ctx);
}

HPyDef_METH(long_as, "long_as", HPyFunc_VARARGS)
static HPy long_as_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    switch (HPyLong_AsLong(ctx, args[0])) {
%(long_as)s
    }
    return unknown(ctx);
}

HPyDef_METH(long_from, "long_from", HPyFunc_VARARGS)
static HPy long_from_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    (void)self; (void)nargs;
    switch (HPyLong_AsLong(ctx, args[0])) {
%(long_from)s
    }
    return unknown(ctx);
}

HPyDef_METH(long_as_voidptr, "long_as_voidptr", HPyFunc_O)
static HPy long_as_voidptr_impl(HPyContext *ctx, HPy self, HPy arg)
{
    void *p = HPyLong_AsVoidPtr(ctx, arg);
    (void)self;
    if (HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromUInt64_t(ctx, (uint64_t)(uintptr_t)p);
}

HPyDef_METH(long_as_double, "long_as_double", HPyFunc_O)
static HPy long_as_double_impl(HPyContext *ctx, HPy self, HPy arg)
{
    double v = HPyLong_AsDouble(ctx, arg);
    (void)self;
    if (v == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyFloat_FromDouble(ctx, v);
}

HPyDef_METH(long_constants, "long_constants", HPyFunc_NOARGS)
static HPy long_constants_impl(HPyContext *ctx, HPy self)
{
    HPy items[6];
    HPy result;
    int i;
    (void)self;
    items[0] = HPyLong_FromInt32_t(ctx, INT32_MIN);
    items[1] = HPyLong_FromUInt32_t(ctx, UINT32_MAX);
    items[2] = HPyLong_FromInt64_t(ctx, INT64_MIN);
    items[3] = HPyLong_FromUInt64_t(ctx, UINT64_MAX);
    items[4] = HPyLong_FromSize_t(ctx, SIZE_MAX);
    items[5] = HPyLong_FromSsize_t(ctx, HPY_SSIZE_T_MIN);
    result = HPyTuple_FromArray(ctx, items, 6);
    for (i = 0; i < 6; i++)
        HPy_Close(ctx, items[i]);
    return result;
}

HPyDef_METH(float_as_double, "float_as_double", HPyFunc_O)
static HPy float_as_double_impl(HPyContext *ctx, HPy self, HPy arg)
{
    double v = HPyFloat_AsDouble(ctx, arg);
    (void)self;
    if (v == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyFloat_FromDouble(ctx, v * 2.0);
}

HPyDef_METH(float_constants, "float_constants", HPyFunc_NOARGS)
static HPy float_constants_impl(HPyContext *ctx, HPy self)
{
    HPy items[4];
    HPy result;
    int i;
    (void)self;
    items[0] = HPyFloat_FromDouble(ctx, 1.5);
    items[1] = HPyFloat_FromDouble(ctx, -0.0);
    items[2] = HPyFloat_FromDouble(ctx, INFINITY);
    items[3] = HPyFloat_FromDouble(ctx, NAN);
    result = HPyTuple_FromArray(ctx, items, 4);
    for (i = 0; i < 4; i++)
        HPy_Close(ctx, items[i]);
    return result;
}

HPyDef_METH(bool_from_bool, "bool_from_bool", HPyFunc_O)
static HPy bool_from_bool_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long v = HPyLong_AsLong(ctx, arg);
    (void)self;
    if (v == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyBool_FromBool(ctx, v != 0);
}

HPyDef_METH(bool_from_long, "bool_from_long", HPyFunc_O)
static HPy bool_from_long_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long v = HPyLong_AsLong(ctx, arg);
    (void)self;
    if (v == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyBool_FromLong(ctx, v);
}

HPyDef_METH(number_check, "number_check", HPyFunc_O)
static HPy number_check_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPyLong_FromLong(ctx, HPyNumber_Check(ctx, arg));
}

static HPyDef *module_defines[] = {
    &binary, &ternary, &unary, &long_as, &long_from, &long_as_voidptr, &long_as_double,
    &long_constants, &float_as_double, &float_constants, &bool_from_bool, &bool_from_long,
    &number_check, NULL
};
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(api_numbers, moduledef)
""" % {
    "binary": _cases("return HPy_%s(ctx, a, b);" % name for name, _, _ in BINARY),
    "ternary": _cases("return HPy_%s(ctx, a, b, c);" % name for name, _ in TERNARY),
    "unary": _cases("return HPy_%s(ctx, a);" % name for name, _, _ in UNARY),
    "long_as": _cases(_long_as_case(*row) for row in LONG_AS),
    "long_from": _cases(_long_from_case(*row) for row in LONG_FROM),
}

_built = {}


@pytest.fixture
def mod(compile_module, hpy_abi):
    if hpy_abi not in _built:
        _built[hpy_abi] = compile_module(SOURCE, name="api_numbers")
    return _built[hpy_abi]


class Recorder:
    """Each numeric dunder returns (its name, its other arguments...)."""


def _recording(dunder):
    def method(self, *args):
        return (dunder,) + args
    return method


for _dunder in [d for _, _, d in BINARY] + ["pow", "ipow", "neg", "pos", "abs", "invert"]:
    setattr(Recorder, "__%s__" % _dunder, _recording(_dunder))
Recorder.__index__ = lambda self: 7
Recorder.__int__ = lambda self: 8
Recorder.__float__ = lambda self: 9.5


def _range(signed, bits):
    if signed:
        return -2 ** (bits - 1), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1


@pytest.mark.parametrize("index", range(len(BINARY)), ids=[b[0] for b in BINARY])
def test_binary_on_numbers(mod, index):
    name, op, _ = BINARY[index]
    if name.endswith("MatrixMultiply"):
        with pytest.raises(TypeError, match="@"):
            mod.binary(index, 17, 5)
        return
    for a, b in [(17, 5), (-9, 4), (0b1100, 0b1010)]:
        assert mod.binary(index, a, b) == op(a, b)
    if "shift" not in name and name not in ("And", "Xor", "Or", "InPlaceAnd", "InPlaceXor", "InPlaceOr"):
        result = mod.binary(index, 7.5, 2.0)
        assert result == op(7.5, 2.0)
        assert type(result) is type(op(7.5, 2.0))


@pytest.mark.parametrize("index", range(len(BINARY)), ids=[b[0] for b in BINARY])
def test_binary_calls_the_matching_dunder(mod, index):
    # in-place operators must reach __iadd__ and co, not fall back to __add__
    _, _, dunder = BINARY[index]
    assert mod.binary(index, Recorder(), "other") == (dunder, "other")


def test_binary_errors(mod):
    names = [b[0] for b in BINARY]
    with pytest.raises(ZeroDivisionError):
        mod.binary(names.index("FloorDivide"), 1, 0)
    with pytest.raises(ZeroDivisionError):
        mod.binary(names.index("InPlaceTrueDivide"), 1.0, 0.0)
    with pytest.raises(TypeError, match="unsupported operand"):
        mod.binary(names.index("Add"), 1, "a")
    with pytest.raises(ValueError, match="negative shift count"):
        mod.binary(names.index("Lshift"), 1, -1)


def test_inplace_ops_mutate_mutable_operands(mod):
    names = [b[0] for b in BINARY]
    items = [1]
    assert mod.binary(names.index("InPlaceAdd"), items, [2]) is items
    assert mod.binary(names.index("InPlaceMultiply"), items, 2) is items
    assert items == [1, 2, 1, 2]
    # the non-in-place form leaves the operand alone
    assert mod.binary(names.index("Add"), items, [3]) == [1, 2, 1, 2, 3]
    assert items == [1, 2, 1, 2]
    s = {1, 2, 3}
    assert mod.binary(names.index("InPlaceOr"), s, {4}) is s
    assert mod.binary(names.index("InPlaceAnd"), s, {1, 2, 4}) is s
    assert mod.binary(names.index("InPlaceXor"), s, {1, 9}) is s
    assert mod.binary(names.index("InPlaceSubtract"), s, {9}) is s
    assert s == {2, 4}


def test_divmod(mod):
    index = [b[0] for b in BINARY].index("Divmod")
    assert mod.binary(index, 7, 2) == (3, 1)
    assert mod.binary(index, -7, 2) == (-4, 1)
    assert mod.binary(index, 7.5, 2) == (3.0, 1.5)
    with pytest.raises(ZeroDivisionError):
        mod.binary(index, 1, 0)


def test_power_with_and_without_modulus(mod):
    power, inplace_power = 0, 1
    assert mod.ternary(power, 2, 10, None) == 1024
    assert mod.ternary(power, 2, 10, 1000) == 24
    assert mod.ternary(power, 2.0, 0.5, None) == 2.0 ** 0.5
    assert mod.ternary(power, 2, -1, None) == 0.5
    assert mod.ternary(inplace_power, 3, 4, None) == 81
    assert mod.ternary(inplace_power, 2, 10, 1000) == 24
    with pytest.raises(ValueError):
        mod.ternary(power, 2, 10, 0)
    with pytest.raises(TypeError):
        mod.ternary(power, 2.0, 3, 5)
    assert mod.ternary(power, Recorder(), 5, None) == ("pow", 5)
    assert mod.ternary(power, Recorder(), 5, 7) == ("pow", 5, 7)
    assert mod.ternary(inplace_power, Recorder(), 5, None) == ("ipow", 5)


def test_matrix_multiply_through_a_python_class(mod):
    names = [b[0] for b in BINARY]

    class Matrix:
        def __init__(self, rows):
            self.rows = rows

        def __matmul__(self, other):
            return Matrix([[sum(a * b for a, b in zip(row, col)) for col in zip(*other.rows)]
                           for row in self.rows])

    a = Matrix([[1, 2], [3, 4]])
    b = Matrix([[5, 6], [7, 8]])
    assert mod.binary(names.index("MatrixMultiply"), a, b).rows == [[19, 22], [43, 50]]
    # no __imatmul__: the in-place form falls back to __matmul__ and returns a new object
    result = mod.binary(names.index("InPlaceMatrixMultiply"), a, b)
    assert result is not a and result.rows == [[19, 22], [43, 50]]


@pytest.mark.parametrize("index", range(len(UNARY)), ids=[u[0] for u in UNARY])
def test_unary(mod, index):
    name, op, dunder = UNARY[index]
    for value in [5, -5, 0, 2 ** 70]:
        result = mod.unary(index, value)
        assert result == op(value) and type(result) is type(op(value))
    if name not in ("Invert", "Index"):
        assert mod.unary(index, -2.5) == op(-2.5)
    expected = {"index": 7, "int": 8, "float": 9.5}.get(dunder, (dunder,))
    assert mod.unary(index, Recorder()) == expected


def test_unary_conversions_and_errors(mod):
    names = [u[0] for u in UNARY]
    assert mod.unary(names.index("Long"), "12") == 12
    assert mod.unary(names.index("Long"), 3.9) == 3
    assert mod.unary(names.index("Float"), "1.5") == 1.5
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        mod.unary(names.index("Index"), 3.5)
    with pytest.raises(ValueError, match="invalid literal"):
        mod.unary(names.index("Long"), "x")
    with pytest.raises(TypeError, match=message("bad operand type")):
        mod.unary(names.index("Negative"), "x")
    with pytest.raises(TypeError):
        mod.unary(names.index("Invert"), 1.5)


@pytest.mark.parametrize("index", range(len(LONG_AS)), ids=[r[0] for r in LONG_AS])
def test_long_as_every_width(mod, index):
    suffix, _, signed, bits, mask = LONG_AS[index]
    low, high = _range(signed, bits)
    for value in [low, high, 0, 1, 123456]:
        assert mod.long_as(index, value) == value
    if mask:
        # out-of-range values wrap modulo 2**bits
        assert mod.long_as(index, high + 1 + 5) == 5
        assert mod.long_as(index, -1) == high
        assert mod.long_as(index, -2 ** bits - 3) == high - 2
    else:
        with pytest.raises(OverflowError):
            mod.long_as(index, high + 1)
        with pytest.raises(OverflowError):
            mod.long_as(index, low - 1)
        with pytest.raises(OverflowError):
            mod.long_as(index, 10 ** 30)
    with pytest.raises(TypeError):
        mod.long_as(index, "12")


def test_long_as_int32_names_the_type(mod):
    index = [r[0] for r in LONG_AS].index("Int32_t")
    with pytest.raises(OverflowError, match="^Python int too large to convert to C int32_t$"):
        mod.long_as(index, 2 ** 31)


def test_long_as_accepts_index_for_signed_types(mod):
    class HasIndex:
        def __index__(self):
            return 42
    for suffix in ("Int32_t", "Int64_t", "Long", "LongLong"):
        assert mod.long_as([r[0] for r in LONG_AS].index(suffix), HasIndex()) == 42


@pytest.mark.parametrize("index", range(len(LONG_FROM)), ids=[r[0] for r in LONG_FROM])
def test_long_from_every_width(mod, index):
    _, _, signed, bits = LONG_FROM[index]
    low, high = _range(signed, bits)
    for value in [low, high, 0, 1, 99]:
        result = mod.long_from(index, value)
        assert result == value and type(result) is int


def test_long_from_constants(mod):
    assert mod.long_constants() == (
        -2 ** 31, 2 ** 32 - 1, -2 ** 63, 2 ** 64 - 1, 2 ** 64 - 1, -2 ** 63)


def test_long_as_voidptr(mod):
    assert mod.long_as_voidptr(0x1234) == 0x1234
    assert mod.long_as_voidptr(0) == 0
    assert mod.long_as_voidptr(2 ** 64 - 1) == 2 ** 64 - 1
    with pytest.raises(TypeError):
        mod.long_as_voidptr("x")


def test_long_as_double(mod):
    result = mod.long_as_double(2 ** 53)
    assert result == 9007199254740992.0 and type(result) is float
    assert mod.long_as_double(-3) == -3.0
    with pytest.raises(OverflowError, match="too large to convert to float"):
        mod.long_as_double(10 ** 400)
    with pytest.raises(TypeError):
        mod.long_as_double(1.5)


def test_floats(mod):
    assert mod.float_as_double(1.25) == 2.5
    result = mod.float_as_double(3)
    assert result == 6.0 and type(result) is float

    class HasFloat:
        def __float__(self):
            return 0.75
    assert mod.float_as_double(HasFloat()) == 1.5
    with pytest.raises(TypeError, match="must be real number"):
        mod.float_as_double("1.0")
    one_and_half, minus_zero, inf, nan = mod.float_constants()
    assert one_and_half == 1.5
    assert minus_zero == 0.0 and math.copysign(1.0, minus_zero) == -1.0
    assert inf == math.inf
    assert math.isnan(nan)


def test_bools(mod):
    assert mod.bool_from_bool(1) is True
    assert mod.bool_from_bool(0) is False
    assert mod.bool_from_long(0) is False
    for value in [1, 2, -1, 2 ** 40]:
        assert mod.bool_from_long(value) is True
    with pytest.raises(TypeError):
        mod.bool_from_long("x")


def test_bools_are_refcount_neutral(mod):
    before = refcount(True), refcount(False)
    for _ in range(1000):
        mod.bool_from_bool(1)
        mod.bool_from_long(0)
    assert (refcount(True), refcount(False)) == before


def test_number_check(mod):
    import fractions
    for value in [1, 1.5, True, 1j, fractions.Fraction(1, 3), Recorder()]:
        assert mod.number_check(value) == 1, value
    for value in ["1", b"1", [], None, object()]:
        assert mod.number_check(value) == 0, value
