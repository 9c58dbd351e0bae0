"""The fuzzing itself, run by tests/test_fuzz.py in a child interpreter:

    python fuzzing.py AREA ABI BINARY EXAMPLES CASE_FILE

AREA is argparse, buildvalue or format. Each case is written to CASE_FILE
before it runs, so that a crash (which kills this process) still names it.
Mismatches are found and shrunk by hypothesis and printed by it.
"""
import ctypes
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), os.path.dirname(os.path.dirname(HERE))]

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from support import import_binary  # noqa: E402

api = ctypes.pythonapi
api.Py_BuildValue.restype = ctypes.py_object          # a new reference: ctypes takes it
api.PyUnicode_FromFormat.restype = ctypes.py_object
api.PyArg_ParseTuple.restype = ctypes.c_int
api.PyArg_ParseTupleAndKeywords.restype = ctypes.c_int

N_SLOTS = 16
N_DOUBLES = 8


class Case:
    """The record of the case being run: written to the case file first."""
    path = None

    @classmethod
    def start(cls, **fields):
        with open(cls.path, "w") as f:
            f.write(repr(fields))


def machinery_error(exc):
    """A SystemError raised by CPython's call machinery, not by the helper."""
    text = str(exc)
    return isinstance(exc, SystemError) and (
        "without setting an exception" in text or "with an exception set" in text)


def run(func, *args):
    """(True, result) or (False, exception); machinery errors fail at once."""
    try:
        return True, func(*args)
    except Exception as exc:  # noqa: BLE001 - every outcome is compared
        assert not machinery_error(exc), "%s: %s" % (type(exc).__name__, exc)
        return False, exc


def same(a, b):
    """Equal values of the same types, NaN equal to NaN, recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("d", a) == struct.pack("d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (tuple, list)):  # also the (key, value) pairs of dicts
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        # in insertion order: a NaN key cannot be looked up
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a.items(), b.items()))
    return a == b


def check_same_outcome(hpy, ref):
    """Both succeeded with the same value, or both raised the same type."""
    hpy_ok, hpy_value = hpy
    ref_ok, ref_value = ref
    if hpy_ok and ref_ok:
        assert same(hpy_value, ref_value), (hpy_value, ref_value)
    elif not hpy_ok and not ref_ok:
        assert type(hpy_value) is type(ref_value), (hpy_value, ref_value)
    else:
        assert False, "HPy %r, CPython %r" % (hpy_value, ref_value)


# ---- argument values ----------------------------------------------------------

class IndexLike:
    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v

    def __repr__(self):
        return "IndexLike(%r)" % self.v


class FloatLike:
    def __float__(self):
        return 2.5

    def __repr__(self):
        return "FloatLike()"


class BadBool:
    def __bool__(self):
        raise ZeroDivisionError("no truth")

    def __repr__(self):
        return "BadBool()"


class BadIndex:
    def __index__(self):
        raise ZeroDivisionError("no index")

    def __float__(self):
        raise ZeroDivisionError("no float")

    def __repr__(self):
        return "BadIndex()"


class MyInt(int):
    pass


class MyStr(str):
    pass


class MyDict(dict):
    """A mapping whose values are new objects: 's' needs a tracker."""
    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        return "".join(value) if type(value) is str else value


BOUNDARIES = [0, 1, -1, 127, 128, 255, 256, -128, -129, 2**15 - 1, 2**15, -2**15 - 1,
              2**16 - 1, 2**16, 2**31 - 1, 2**31, -2**31 - 1, 2**32 - 1, 2**32,
              2**63 - 1, 2**63, -2**63 - 1, 2**64 - 1, 2**64, 2**100]

texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
ints = st.one_of(st.sampled_from(BOUNDARIES), st.integers(-2**70, 2**70))
values = st.one_of(
    ints, ints.map(MyInt), ints.map(IndexLike),
    st.floats(width=64), texts, texts.map(MyStr), st.binary(max_size=6),
    st.sampled_from([None, True, False, (), [], FloatLike(), BadBool(), BadIndex(),
                     "a\x00b", "\ud800", "\xe9t\xe9"]))

# ---- HPyArg_Parse* -----------------------------------------------------------

PARSE_UNITS = "bBhHiIlkLKnfdpsO"
NAMES = ["a", "b", "c", "d", "e", "f", "g", "h", "\xe9"]


def slot_value(kind, raw):
    """Converts a CPython output slot like the driver's slot_value() (LP64)."""
    code = {"b": "B", "B": "B", "h": "h", "H": "H", "i": "i", "p": "i", "I": "I", "l": "q",
            "k": "Q", "L": "q", "K": "Q", "n": "q", "f": "f", "d": "d"}.get(kind)
    if code is not None:
        return struct.unpack_from(code, raw)[0]
    address = struct.unpack_from("P", raw)[0]
    if address == 0:
        return None
    if kind == "s":
        return ctypes.string_at(address)
    return ctypes.cast(ctypes.c_void_p(address), ctypes.py_object).value


def cpython_parse(mode, fmt, args, kw, keywords, kinds):
    slots = [ctypes.create_string_buffer(64) for _ in range(N_SLOTS)]
    pointers = [ctypes.cast(s, ctypes.c_void_p) for s in slots]
    if mode == 0:
        api.PyArg_ParseTuple(ctypes.py_object(args), fmt, *pointers)
    else:
        kwdict = None
        if kw is not None:
            kwdict = dict(zip(*kw)) if mode == 1 else kw
        kwlist = (ctypes.c_char_p * (len(keywords) + 1))(*keywords, None)
        api.PyArg_ParseTupleAndKeywords(
            ctypes.py_object(args), None if kwdict is None else ctypes.py_object(kwdict),
            fmt, kwlist, *pointers)
    return tuple(slot_value(k, s.raw) for k, s in zip(kinds.decode(), slots))


@st.composite
def parse_cases(draw):
    mode = draw(st.sampled_from([0, 1, 2]))
    units = draw(st.lists(st.sampled_from(PARSE_UNITS), max_size=8))
    n = len(units)
    bar = draw(st.none() | st.integers(0, n))
    dollar = None
    if mode and bar is not None:
        dollar = draw(st.none() | st.integers(bar, n))
    fmt = ""
    for i, u in enumerate(units + [""]):
        fmt += ("|" if i == bar else "") + ("$" if i == dollar else "") + u
    fmt += draw(st.sampled_from(["", "", ":name", ";custom message"]))
    n_positional_only = draw(st.integers(0, n)) if mode else 0
    if dollar is not None:
        n_positional_only = min(n_positional_only, dollar)
    keywords = [b""] * n_positional_only + [
        name.encode() for name in NAMES[n_positional_only:n]]
    args = tuple(draw(st.lists(values, max_size=n + 2)))
    kw = None
    if mode:
        chosen = draw(st.lists(st.sampled_from(NAMES + ["zz"]), unique=True, max_size=4))
        kw_values = [draw(values) for _ in chosen]
        if mode == 1:
            kw = (tuple(chosen), tuple(kw_values))
        else:
            kw = dict(zip(chosen, kw_values))
            if draw(st.integers(0, 9)) == 0:
                kw[draw(st.sampled_from([1, b"a", None]))] = 0    # not a str
            if draw(st.integers(0, 5)) == 0:
                kw = MyDict(kw)
        if not chosen and draw(st.booleans()):
            kw = None
    tracker = draw(st.integers(0, 4)) > 0
    return mode, fmt.encode(), args, kw, tuple(keywords), tracker, "".join(units).encode()


def hpy_only_error(mode, fmt, kw, tracker):
    """The exception type HPy raises where HPy 0.9 differs from CPython."""
    units = fmt.split(b":")[0].split(b";")[0]
    if mode and b"O" in units and not tracker:
        return SystemError      # HPy needs a tracker to own dict values
    if (mode == 2 and not tracker and b"s" in units and kw
            and type(kw) is not dict):
        return SystemError      # a C string into a value nobody owns
    return None


def check_parse(mod, case):
    mode, fmt, args, kw, keywords, tracker, kinds = case
    Case.start(area="argparse", case=case)
    hpy = run(mod.parse, *case)
    expected = hpy_only_error(mode, fmt, kw, tracker)
    if expected is not None:
        assert not hpy[0] and type(hpy[1]) is expected, hpy
        return
    ref = run(cpython_parse, mode, fmt, args, kw, keywords, kinds)
    given_values = args + (tuple(kw.values()) if mode == 2 and kw else
                           kw[1] if mode == 1 and kw else ())
    if (b"k" in kinds or b"K" in kinds) and any(
            isinstance(v, (IndexLike, BadIndex)) for v in given_values):
        # HPy 0.9's 'k'/'K' take any object with __index__, as 'I' does;
        # CPython's take only int: the outcomes may differ.
        return
    check_same_outcome(hpy, ref)


JUNK_UNITS = "bBhHiIlkLKnfdpsO|$:;#&!*()eyzwSUYx "


def check_parse_malformed(mod, case):
    """Random formats: only HPy runs (CPython may read a pointer as a type
    or a converter); any outcome but a crash or a machinery error is fine,
    and a failure is one of the exceptions the helpers raise."""
    Case.start(area="argparse-malformed", case=case)
    ok, value = run(mod.parse, *case)
    if not ok:
        assert isinstance(value, (TypeError, SystemError, ValueError, OverflowError,
                                  ZeroDivisionError, UnicodeError)), value


@st.composite
def malformed_parse_cases(draw):
    mode, _, args, kw, keywords, tracker, _ = draw(parse_cases())
    fmt = draw(st.text(st.sampled_from(JUNK_UNITS), max_size=10))
    kinds = "".join(c for c in fmt.split(":")[0].split(";")[0] if c in PARSE_UNITS)
    return mode, fmt.encode(), args, kw, keywords, tracker, kinds[:N_SLOTS].encode()


# ---- HPy_BuildValue ----------------------------------------------------------

C_INT_RANGES = {
    "i": (-2**31, 2**31 - 1), "b": (-128, 127), "h": (-2**15, 2**15 - 1),
    "B": (0, 255), "H": (0, 2**16 - 1), "c": (0, 255), "I": (0, 2**32 - 1),
    "l": (-2**63, 2**63 - 1), "k": (0, 2**64 - 1), "L": (-2**63, 2**63 - 1),
    "K": (0, 2**64 - 1), "n": (-2**63, 2**63 - 1)}
C_TYPES = {"i": ctypes.c_int, "b": ctypes.c_int, "h": ctypes.c_int, "B": ctypes.c_int,
           "H": ctypes.c_int, "c": ctypes.c_int, "I": ctypes.c_uint, "l": ctypes.c_long,
           "k": ctypes.c_ulong, "L": ctypes.c_longlong, "K": ctypes.c_ulonglong,
           "n": ctypes.c_ssize_t}
OBJECTS = [None, 1, "x", (), (1,), [], {}, b"b", 2.5, ("nested", [1]), frozenset([1])]


def c_strings():
    return st.one_of(st.none(), st.binary(max_size=6).map(lambda b: b.replace(b"\0", b"")))


def leaf():
    int_leaves = [st.tuples(st.just(u), st.integers(*r)) for u, r in C_INT_RANGES.items()]
    return st.one_of(
        *int_leaves,
        st.tuples(st.sampled_from("fd"), st.floats(width=64)),
        st.tuples(st.sampled_from("szy"), c_strings()),
        st.tuples(st.sampled_from("OS"), st.sampled_from(OBJECTS + ["NULL"])))


def tree():
    return st.recursive(
        leaf(),
        lambda children: st.one_of(
            st.tuples(st.sampled_from("(["), st.lists(children, max_size=4)),
            st.tuples(st.just("{"), st.lists(st.tuples(children, children), max_size=3))),
        max_leaves=12)


def render(node, draw, leaves):
    """The format text of `node`; its leaves are appended in reading order."""
    kind, body = node
    sep = draw(st.sampled_from(["", ",", " ", ", "]))
    if kind in "([":
        if not body:
            return kind + ")]"["([".index(kind)]
        items = [render(child, draw, leaves) for child in body]
        if sep == "":   # units may touch, groups too
            return kind + "".join(items) + ")]"["([".index(kind)]
        return kind + sep.join(items) + ")]"["([".index(kind)]
    if kind == "{":
        pairs = []
        for k, v in body:
            pairs.append(render(k, draw, leaves) + draw(st.sampled_from([":", " : "]))
                         + render(v, draw, leaves))
        return "{" + draw(st.sampled_from([",", ", "])).join(pairs) + "}"
    leaves.append(node)
    return kind


@st.composite
def build_cases(draw):
    top = draw(st.lists(tree(), max_size=4))
    leaves = []
    parts = [render(node, draw, leaves) for node in top]
    fmt = draw(st.sampled_from(["", " ", ","])).join(parts)
    if draw(st.booleans()) and not parts:
        fmt = " "
    return fmt, leaves


def slots_of(leaves):
    """The driver's integer and double slots for `leaves`, or None if too many."""
    int_slots, double_slots = [], []
    for unit, value in leaves:
        if unit in "fd":
            double_slots.append(value)
        elif unit in "OS":
            int_slots.append(() if value == "NULL" else (value,))
        else:
            int_slots.append(value)
    if len(int_slots) > N_SLOTS or len(double_slots) > N_DOUBLES:
        return None
    return tuple(int_slots), tuple(double_slots)


def cpython_build(fmt, leaves):
    args = []
    for unit, value in leaves:
        if unit in "fd":
            args.append(ctypes.c_double(value))
        elif unit in "szy":
            args.append(value)                       # bytes, or None for NULL
        elif unit in "OS":
            args.append(None if value == "NULL" else ctypes.py_object(value))
        else:
            args.append(C_TYPES[unit](value))
    return api.Py_BuildValue(fmt.encode(), *args)


def check_build(mod, case):
    fmt, leaves = case
    slots = slots_of(leaves)
    if slots is None:
        return
    Case.start(area="buildvalue", fmt=fmt, leaves=leaves)
    hpy = run(mod.build, fmt.encode(), *slots)
    ref = run(cpython_build, fmt, leaves)
    check_same_outcome(hpy, ref)


STRUCTURAL = "()[]{}:, "


@st.composite
def malformed_build_cases(draw):
    """A good case with brackets, ':' or ',' moved, removed or added, or an
    unsupported unit inserted, or cut short: the units keep their reading
    order, so the slots still match what any prefix of them reads."""
    fmt, leaves = draw(build_cases())
    chars = list(fmt)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["insert", "delete", "truncate"]))
        if action == "insert":
            at = draw(st.integers(0, len(chars)))
            chars.insert(at, draw(st.sampled_from(STRUCTURAL + "#&!qxNCUu*")))
        elif action == "delete":
            spots = [i for i, c in enumerate(chars) if c in STRUCTURAL]
            if spots:
                del chars[draw(st.sampled_from(spots))]
        else:
            chars = chars[:draw(st.integers(0, len(chars)))]
    return "".join(chars), leaves


def check_build_malformed(mod, case):
    fmt, leaves = case
    slots = slots_of(leaves)
    if slots is None:
        return
    Case.start(area="buildvalue-malformed", fmt=fmt, leaves=leaves)
    ok, value = run(mod.build, fmt.encode(), *slots)
    if not ok:
        # format errors are SystemError; the values may raise TypeError
        # (unhashable key) or UnicodeDecodeError (a C string not UTF-8)
        assert isinstance(value, (SystemError, TypeError, UnicodeDecodeError)), value


# ---- HPyUnicode_FromFormat ---------------------------------------------------

INT_BITS = {"": 32, "l": 64, "ll": 64, "z": 64}
PY_OBJECTS = ["text", "", "\xe9\u20ac\U0001f600", 42, 2.5, None, (1, "a"), b"by", [1]]


def wrap(value, bits, signed):
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


@st.composite
def format_specs(draw):
    """One unit: (its text, the slots it reads, its expected text or None
    when CPython 3.11 is the only judge, whether CPython 3.11 may judge)."""
    conv = draw(st.sampled_from("%diuxcspUSRAV"))
    if conv == "%":
        return "%%", [], "%", True
    zero = draw(st.booleans()) if conv in "diux" else False
    width = draw(st.none() | st.integers(1, 12))   # a width of 0 would read as the flag
    precision = draw(st.none() | st.integers(0, 12))
    if conv in "cp":
        width = precision = None
    flags = ("0" if zero else "") + ("" if width is None else str(width)) + \
        ("" if precision is None else "." + str(precision))
    if conv in "diux":
        length = draw(st.sampled_from(["", "l", "ll", "z"]))
        bits = INT_BITS[length]
        signed = conv in "di"
        value = draw(st.integers(-2**(bits - 1), 2**bits - 1))
        shown = wrap(value, bits, signed if conv != "x" else False)
        if conv == "x" and length == "":
            shown = wrap(value, 32, False)
        py_flags = ("0" if zero else "") + ("" if width is None else str(width))
        text = ("%" + py_flags + ("x" if conv == "x" else "d")) % shown
        if precision is not None:
            digits = ("%x" if conv == "x" else "%d") % abs(shown)
            digits = digits.rjust(precision, "0")
            body = ("-" if shown < 0 else "") + digits
            if width is not None and len(body) < width:
                if zero:
                    body = ("-" if shown < 0 else "") + digits.rjust(
                        width - (1 if shown < 0 else 0), "0")
                else:
                    body = body.rjust(width)
            text = body
        # CPython 3.11 mishandles a precision or '0' with negatives and
        # ignores l/ll/z on %x: there only the model judges
        cpython_ok = not (conv == "x" and length) and (shown >= 0 or not zero and precision is None)
        return "%" + flags + length + conv, [value], text, cpython_ok
    if conv == "c":
        value = draw(st.integers(0, 0x10FFFF) | st.sampled_from([-1, 0x110000]))
        text = chr(value) if 0 <= value <= 0x10FFFF else None
        return "%c", [value], text, True
    if conv == "p":
        value = draw(st.integers(1, 2**64 - 1))   # glibc prints NULL as "(nil)"
        return "%p", [value], "0x%x" % value, True

    def field(s):
        if precision is not None:
            s = s[:precision]
        return s.rjust(width or 0)

    if conv == "s":
        raw = draw(st.binary(max_size=8)).replace(b"\0", b"")
        cut = raw if precision is None else raw[:precision]
        text = cut.decode("utf-8", "replace").rjust(width or 0)
        return "%" + flags + "s", [raw], text, True
    if conv == "V":
        if draw(st.booleans()):
            obj = draw(st.sampled_from([o for o in PY_OBJECTS if isinstance(o, str)]))
            return "%" + flags + "V", [(obj,), draw(c_strings())], field(obj), True
        raw = draw(st.binary(max_size=8)).replace(b"\0", b"")
        cut = raw if precision is None else raw[:precision]
        return "%" + flags + "V", [(), raw], cut.decode("utf-8", "replace").rjust(width or 0), True
    obj = draw(st.sampled_from(PY_OBJECTS))
    if conv == "U" and not isinstance(obj, str):
        obj = str(obj)
    text = {"U": str, "S": str, "R": repr, "A": ascii}[conv](obj)
    return "%" + flags + conv, [(obj,)], field(text), True


literals = st.text(st.characters(min_codepoint=32, max_codepoint=126,
                                 exclude_characters="%"), max_size=5)


@st.composite
def format_cases_with_bounds(draw):
    """A format case and the offsets where a unit may be put without
    splitting one (for the malformed cases)."""
    specs = draw(st.lists(format_specs(), max_size=6))
    fmt, slots, cpython_ok = draw(literals), [], True
    expected = fmt
    bounds = [0, len(fmt)]
    for text, spec_slots, spec_expected, spec_cpython in specs:
        lit = draw(literals)
        fmt += text
        bounds.append(len(fmt))
        fmt += lit
        bounds.append(len(fmt))
        slots += spec_slots
        expected = None if expected is None or spec_expected is None else \
            expected + spec_expected + lit
        cpython_ok = cpython_ok and spec_cpython
    return (fmt, tuple(slots), expected, cpython_ok), bounds


def format_cases():
    return format_cases_with_bounds().map(lambda case_and_bounds: case_and_bounds[0])


def cpython_format(fmt, slots):
    args = []
    for value in slots:
        if isinstance(value, tuple):
            args.append(ctypes.py_object(value[0]) if value else None)
        elif isinstance(value, int):
            args.append(ctypes.c_ulonglong(value & (2**64 - 1)))
        else:
            args.append(value)
    return api.PyUnicode_FromFormat(fmt.encode(), *args)


def check_format(mod, case):
    fmt, slots, expected, cpython_ok = case
    if len(slots) > N_SLOTS:
        return
    Case.start(area="format", case=case)
    hpy = run(mod.format, fmt.encode(), slots)
    if expected is not None:
        assert hpy == (True, expected), (hpy, expected)
    else:
        # a %c out of range: OverflowError as in CPython
        assert not hpy[0] and type(hpy[1]) is OverflowError, hpy
    if cpython_ok:
        check_same_outcome(hpy, run(cpython_format, fmt, slots))


# invalid units; the ones that would swallow the text after them come last
JUNK_SPECS = ["%q", "%y", "%-5d", "%#x", "% d", "%+d", "%lq", "%llc", "%zs", "%lls", "%hd",
              "%*d", "%w", "%0c", "%5c", "%.2p", "%05s", "%0U", "%lu%", "\xe9",
              "%099999999999999999999d", "%.99999999999999999999d"]
JUNK_ENDS = ["%", "%5", "%.", "%l", "%ll", "%z", "%05", "%.3"]


@st.composite
def malformed_format_cases(draw):
    (fmt, slots, _, _), bounds = draw(format_cases_with_bounds())
    cut = draw(st.sampled_from(bounds))
    # junk goes before a literal space so it never merges with what follows
    if draw(st.booleans()):
        fmt = fmt[:cut] + draw(st.sampled_from(JUNK_SPECS)) + " " + fmt[cut:]
    else:
        fmt = fmt + draw(st.sampled_from(JUNK_ENDS))
    return fmt, slots


def check_format_malformed(mod, case):
    fmt, slots = case
    if len(slots) > N_SLOTS:
        return
    Case.start(area="format-malformed", fmt=fmt, slots=slots)
    ok, value = run(mod.format, fmt.encode("latin-1"), slots)
    assert not ok, "invalid format accepted: %r -> %r" % (fmt, value)
    assert isinstance(value, (SystemError, ValueError, OverflowError)), value


# ---- the runs ------------------------------------------------------------------

AREAS = {
    "argparse": [(parse_cases, check_parse, 3), (malformed_parse_cases, check_parse_malformed, 1)],
    "buildvalue": [(build_cases, check_build, 3), (malformed_build_cases, check_build_malformed, 1)],
    "format": [(format_cases, check_format, 3), (malformed_format_cases, check_format_malformed, 1)],
}


def main(area, abi, binary, examples, case_file):
    Case.path = case_file
    mod = import_binary("fuzzdrv", binary, abi)
    plans = AREAS[area]
    total_weight = sum(w for _, _, w in plans)
    for strategy, check, weight in plans:
        n = max(1, examples * weight // total_weight)

        @settings(max_examples=n, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(strategy())
        def test(case):
            check(mod, case)

        print("%s: %d examples of %s" % (area, n, check.__name__))
        test()
    os.unlink(case_file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
