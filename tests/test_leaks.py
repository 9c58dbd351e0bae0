"""Leak tests, one per API area, in both ABIs.

Each area's functions (successes and error paths) are called many times from a
C loop (tests/leaks/leaks.c); afterwards the reference counts of the objects
involved and sys.getallocatedblocks() must be where they were. The self-tests
at the end show that the check fails for a leak of one object, or of one
reference, per call.
"""
import contextvars
import gc
import os
import sys
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
N = 10000

# Blocks the interpreter may allocate or free on its own between the two
# counts (free lists, caches, dict resizes, the GC's bookkeeping), whatever the
# loop does: up to ~150 seen when other test modules ran first. A leak of one
# object per call is N (10^4) blocks or more; one per 20 calls still fails.
SLACK = N // 20


@pytest.fixture(scope="module")
def leaks_binaries(hpy_compiler, tmp_path_factory):
    built = {}

    def get(abi):
        if abi not in built:
            with open(os.path.join(HERE, "leaks", "leaks.c")) as f:
                source = f.read()
            built[abi] = hpy_compiler.compile(
                source, abi, "leaks", tmp_path_factory.mktemp("leaks-" + abi))
        return built[abi]
    return get


@pytest.fixture
def mod(leaks_binaries, hpy_abi):
    from support import import_binary
    return import_binary("leaks", leaks_binaries(hpy_abi), hpy_abi)


def growth(run, tracked):
    """Runs run(1) to warm up (caches, free lists, interned names), then
    run(N); returns the growth of the allocated blocks and of the reference
    count of each object in ``tracked``."""
    run(1)
    run(100)
    gc.collect()
    refs = [sys.getrefcount(o) for o in tracked]
    blocks = sys.getallocatedblocks()
    run(N)
    gc.collect()
    after = [sys.getrefcount(o) for o in tracked]   # counted the same way as before
    return sys.getallocatedblocks() - blocks, [a - b for a, b in zip(after, refs)]


def assert_flat(mod, area, env, n=None):
    def run(k):
        mod.run(area, k if n is None else max(1, k * n // N), env)
    blocks, refs = growth(run, env)
    if sys.getallocatedblocks() or blocks:   # 0 under PYTHONMALLOC=malloc: no count
        assert abs(blocks) < SLACK, "%s: %d blocks more after %d calls" % (area, blocks, n or N)
    assert refs == [0] * len(env), "%s: references gained %r" % (area, list(zip(env, refs)))


class Thing:
    attr = "value"

    def m(self, *args):
        return [args]


def f(*args, **kw):
    return [args, kw]


def raising(*args):
    return 1 / 0


@pytest.fixture
def quiet(monkeypatch):
    """No output from the warnings and unraisable errors the loop makes."""
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_objects(mod):
    assert_flat(mod, "objects", (Thing(), [1, "two", 3.0], {}, "other"))


def test_numbers(mod):
    assert_flat(mod, "numbers", (2**100, 2.5))


def test_containers(mod):
    assert_flat(mod, "containers", ("text", slice(1, 10, 2)))


def test_strings(mod):
    assert_flat(mod, "strings", ("caf\xe9 \u20ac", b"by\xfftes"))


def test_errors(mod, quiet):
    assert_flat(mod, "errors", ("message object", UserWarning))


def test_new_exception(mod):
    assert_flat(mod, "new_exception", (), n=1000)


def test_calls(mod):
    assert_flat(mod, "calls", (f, Thing(), raising))


def test_types_fields_globals(mod):
    assert_flat(mod, "types", (mod.Node, "stored value"))


def test_type_from_spec(mod):
    assert_flat(mod, "type_from_spec", (), n=300)


def test_capsules(mod):
    assert_flat(mod, "capsules", ())


def test_tracker(mod):
    assert_flat(mod, "tracker", ("tracked",))


def test_argparse_buildvalue_format(mod):
    assert_flat(mod, "helpers", (123456, "text", Thing(), ("b",), {"b": 2.5}))


def test_module_import_eval(mod):
    assert_flat(mod, "module", ({"__builtins__": __builtins__}, contextvars.ContextVar("v")))


def test_buffers(mod):
    # no HPy function takes a buffer: the interpreter calls the slots
    buf = mod.Buf()
    tracked = (buf, mod.Buf)

    def run(k):
        for _ in range(k):
            with memoryview(buf) as view:
                view[0] = 65
            bytes(buf)
    blocks, refs = growth(run, tracked)
    assert abs(blocks) < SLACK and refs == [0, 0], (blocks, refs)


# ---- the check can fail ------------------------------------------------------

def test_a_leaked_object_is_seen(mod):
    with pytest.raises(AssertionError, match="blocks more"):
        assert_flat(mod, "leak_object", ())


def test_a_leaked_reference_is_seen(mod):
    with pytest.raises(AssertionError, match="references gained"):
        assert_flat(mod, "leak_reference", ("leaked",))
