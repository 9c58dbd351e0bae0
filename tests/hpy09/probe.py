"""Load one probe module with one HPy runtime and report how it behaves.

    python probe.py RUNTIME MODULE PATH

RUNTIME is ``hpy_build`` (hpy_build.universal.load), ``hpy`` or ``hpy-debug``
(hpy 0.9.0's hpy.universal.load, plain or with its debug context). Prints one
line ``PROBE-RESULT: <json>`` holding, per probe, ``["ok", repr(value)]`` or
``["raise", exception type name, message]``; in debug mode also the handles
the module leaked and how many invalid handles it used. The test compares
this against the expected behaviour (tests/test_hpy09_compat.py).

Runs on both interpreters, so it imports nothing from the test-suite.
"""
import errno
import gc
import importlib.machinery
import json
import sys


def load(runtime, name, path):
    if runtime in ("hpy_build", "hpy_build-debug"):
        from hpy_build.universal import load as load_universal
        return load_universal(name, path, mode="debug" if runtime == "hpy_build-debug" else None)
    import hpy.universal
    spec = importlib.machinery.ModuleSpec(name, None, origin=path)
    return hpy.universal.load(name, path, spec, debug=(runtime == "hpy-debug"))


def compat09_probes(m):
    def raiser():
        raise KeyError("from the callback")

    return [
        ("__name__", lambda: m.__name__),
        ("__doc__", lambda: m.__doc__),
        ("answer()", lambda: m.answer()),
        ("answer.__doc__", lambda: m.answer.__doc__),
        ("answer(1)", lambda: m.answer(1)),
        ("bump() first", lambda: m.bump()),
        ("bump() second", lambda: m.bump()),
        ("bump() third", lambda: m.bump()),
        ("twice(21)", lambda: m.twice(21)),
        ("twice(-2.25)", lambda: m.twice(-2.25)),
        ("twice('ab')", lambda: m.twice("ab")),
        ("twice(True)", lambda: m.twice(True)),
        ("twice(2**61)", lambda: m.twice(2 ** 61)),
        ("twice(2**62)", lambda: m.twice(2 ** 62)),
        ("twice(2**64)", lambda: m.twice(2 ** 64)),
        ("twice(None)", lambda: m.twice(None)),
        ("twice()", lambda: m.twice()),
        ("utf8_info('Zoë €')", lambda: m.utf8_info("Zoë €")),
        ("utf8_info(b'x')", lambda: m.utf8_info(b"x")),
        ("mean(1, 2, 3, 4)", lambda: m.mean(1, 2, 3, 4)),
        ("mean(0.5)", lambda: m.mean(0.5)),
        ("mean()", lambda: m.mean()),
        ("mean(1, 'x')", lambda: m.mean(1, "x")),
        ("mean() is Error", lambda: _raised_type(m.mean) is m.Error),
        ("divide(1, 4)", lambda: m.divide(1, 4)),
        ("divide(7, 2.0)", lambda: m.divide(7, 2.0)),
        ("divide(1, 0)", lambda: m.divide(1, 0)),
        ("divide(1)", lambda: m.divide(1)),
        ("apply(max, 3, 9, 2)", lambda: m.apply(max, 3, 9, 2)),
        ("apply(raiser)", lambda: m.apply(raiser)),
        ("apply(1)", lambda: m.apply(1)),
        ("vcall(divmod, 7, 2)", lambda: m.vcall(divmod, 7, 2)),
        ("vcall(sorted, [3, 1, 2], reverse=True)", lambda: m.vcall(sorted, [3, 1, 2], reverse=True)),
        ("vcall(raiser)", lambda: m.vcall(raiser)),
        ("call_method('split', 'a-b-c', '-', maxsplit=1)",
         lambda: m.call_method("split", "a-b-c", "-", maxsplit=1)),
        ("call_method('upper', 'abc')", lambda: m.call_method("upper", "abc")),
        ("call_method('nope', 'abc')", lambda: m.call_method("nope", "abc")),
        ("builtin('len') is len", lambda: m.builtin("len") is len),
        ("builtin('no such builtin')", lambda: m.builtin("no such builtin")),
        ("abi_version()", lambda: m.abi_version()),
        ("greet('Zoë')", lambda: m.greet("Zoë")),
        ("greet('Bob', greeting='Grüß', times=2)", lambda: m.greet("Bob", greeting="Grüß", times=2)),
        ("greet(name='Ann', times=3)", lambda: m.greet(name="Ann", times=3)),
        ("greet('Al', 'Hi')", lambda: m.greet("Al", "Hi")),
        ("greet()", lambda: m.greet()),
        ("greet('a', times=9)", lambda: m.greet("a", times=9)),
        ("greet.__doc__", lambda: m.greet.__doc__),
        ("version", lambda: m.version),
        ("LLONG_MAX", lambda: m.LLONG_MAX),
        ("Error.__name__", lambda: m.Error.__name__),
        ("Error.__module__", lambda: m.Error.__module__),
        ("Error subclasses ValueError", lambda: issubclass(m.Error, ValueError)),
    ]


def _raised_type(function):
    try:
        function()
    except Exception as error:  # noqa: BLE001 - the type is what we report
        return type(error)
    return None


def _flush_closed_handles():
    """hpy-build's cffi runtime on PyPy frees the slots of closed handles in
    batches; until then their objects live on (not garbage for gc.collect)."""
    if sys.implementation.name == "pypy":
        from hpy_build._hpy_cffi import lib
        lib._hpy_pypy_flush_if_pending()


def _destroyed_by(m, make_garbage):
    gc.collect()  # PyPy frees earlier probes' garbage only at a collection: not this one's
    before = m.destroyed_count()
    make_garbage()
    _flush_closed_handles()
    for _ in range(3):  # PyPy: a finalizer's work may finish only at a later collection
        gc.collect()
    return m.destroyed_count() - before


def compat09types_probes(m):
    P, P3 = m.Point, m.Point3D

    def set_x():
        p = P(3, 4)
        p.x = 5
        return repr(p)

    def set_y():
        p = P(3, 4)
        p.y = 5

    def three_points():
        points = [P(i, i) for i in range(3)]
        del points

    def cycle_through_field():
        holder = []
        holder.append(P(0, 0, holder))
        del holder

    def label_survives_gc():
        p = P(1, 2, label=[1, 2])
        gc.collect()
        return p.label

    return [
        ("Point.__name__", lambda: P.__name__),
        ("Point.__module__", lambda: P.__module__),
        ("Point.__doc__", lambda: P.__doc__),
        ("repr(Point(3, 4))", lambda: repr(P(3, 4))),
        ("Point(3, 4).x, .y", lambda: (P(3, 4).x, P(3, 4).y)),
        ("Point(3, 4, label='a').label", lambda: P(3, 4, label="a").label),
        ("Point(x=1, y=2).label", lambda: P(x=1, y=2).label),
        ("Point(3, 4).norm2()", lambda: P(3, 4).norm2()),
        ("Point(1, 2) + Point(10, 20)", lambda: repr(P(1, 2) + P(10, 20))),
        ("Point(1, 2) + 1", lambda: P(1, 2) + 1),
        ("set x", set_x),
        ("set read-only y", set_y),
        ("Point.x.__doc__", lambda: P.x.__doc__),
        ("Point('a', 1)", lambda: P("a", 1)),
        ("Point(1)", lambda: P(1)),
        ("label survives gc", label_survives_gc),
        ("Point3D(1, 2).z", lambda: P3(1, 2).z),
        ("Point3D(1, 2).lift(2.5).z", lambda: P3(1, 2).lift(2.5).z),
        ("repr(Point3D(7, 8))", lambda: repr(P3(7, 8))),
        ("Point3D(1, 2).norm2()", lambda: P3(1, 2).norm2()),
        ("Point3D mro", lambda: [c.__name__ for c in P3.__mro__]),
        ("Point3D is a Point", lambda: isinstance(P3(1, 2), P)),
        ("tp_destroy of 3 dropped points", lambda: _destroyed_by(m, three_points)),
        ("tp_traverse frees a cycle through a field", lambda: _destroyed_by(m, cycle_through_field)),
    ]



def compat09api_probes(m):
    def capsule():
        capsule, same_pointer, valid, valid_elsewhere = m.capsule()
        return type(capsule).__name__, same_pointer, valid, valid_elsewhere

    def pair():
        p = m.pair(1, "b")
        return type(p).__name__, type(p).__module__, p.first, p.second, tuple(p), len(p), p[1]

    def warn():
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.warn("careful")
        return [(w.category.__name__, str(w.message)) for w in caught]

    def missing_file():
        try:
            m.missing_file()
        except OSError as error:
            return type(error).__name__, error.errno == errno.ENOENT, error.filename
        return None

    return [
        ("build_value()", lambda: m.build_value()),
        ("squares(5)", lambda: m.squares(5)),
        ("squares(0)", lambda: m.squares(0)),
        ("swap(1, 'b')", lambda: m.swap(1, "b")),
        ("int64_mix(-5)", lambda: m.int64_mix(-5)),
        ("int64_mix(2**62)", lambda: m.int64_mix(2 ** 62)),
        ("int64_mix(2**63)", lambda: m.int64_mix(2 ** 63)),
        ("capsule()", capsule),
        ("capsule_destructor()", lambda: m.capsule_destructor()),
        ("pair(1, 'b')", pair),
        ("evaluate('a * b + len(c)', ...)", lambda: m.evaluate("a * b + len(c)", {"a": 6, "b": 7, "c": "xyz"})),
        ("evaluate('1 +', {})", lambda: m.evaluate("1 +", {})),
        ("evaluate('nope', {})", lambda: m.evaluate("nope", {})),
        ("context_var('set')", lambda: m.context_var("set")),
        ("substring('hello world', 6, 11)", lambda: m.substring("hello world", 6, 11)),
        ("slice_unpack(slice(1, None, 2))", lambda: m.slice_unpack(slice(1, None, 2))),
        ("slice_unpack(slice(None, None, -1))[2]", lambda: m.slice_unpack(slice(None, None, -1))[2]),
        ("slice_unpack(slice(0, 1, 0))", lambda: m.slice_unpack(slice(0, 1, 0))),
        ("dict_keys({'b': 1, 'a': 2})", lambda: m.dict_keys({"b": 1, "a": 2})),
        ("type_info(True)", lambda: m.type_info(True)),
        ("type_info(1.5)", lambda: m.type_info(1.5)),
        ("decode(b'caf\\xc3\\xa9')", lambda: m.decode(b"caf\xc3\xa9")),
        ("decode(b'\\xff')", lambda: m.decode(b"\xff")),
        ("warn('careful')", warn),
        ("missing_file()", missing_file),
        ("format()", lambda: m.format()),
    ]


PROBES = {
    "compat09": compat09_probes,
    "compat09types": compat09types_probes,
    "compat09api": compat09api_probes,
}


def run(probes):
    results = {}
    for name, probe in probes:
        try:
            results[name] = ["ok", repr(probe())]
        except Exception as error:  # noqa: BLE001 - reported, then judged by the test
            results[name] = ["raise", type(error).__name__, str(error)]
    return results


def main(runtime, name, path):
    module = load(runtime, name, path)
    report = {}
    if runtime in ("hpy-debug", "hpy_build-debug"):
        if runtime == "hpy-debug":
            from hpy.debug import LeakDetector
            from hpy.universal import _debug
        else:
            from hpy_build.debug import LeakDetector
            import hpy_build.debug as _debug
        invalid = []
        _debug.set_on_invalid_handle(lambda: invalid.append(1))
        detector = LeakDetector()
        detector.start()
        report["results"] = run(PROBES[name](module))
        try:
            detector.stop()
            report["leaks"] = []
        except Exception as leak_error:  # HPyLeakError lists the open handles
            report["leaks"] = [repr(h) for h in getattr(leak_error, "leaks", [leak_error])]
        report["invalid_handles"] = len(invalid)
    else:
        report["results"] = run(PROBES[name](module))
    print("PROBE-RESULT: " + json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:4])
