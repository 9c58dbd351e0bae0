"""hpy_build.debug from Python: LeakDetector with creation sites, the settings,
and the pytest plugin used by a project of its own."""
import os
import subprocess
import sys
import textwrap

from support import run_isolated

LEAKY = r"""
#include "hpy.h"

HPyDef_METH(make_greeting, "make_greeting", HPyFunc_O)
static HPy make_greeting_impl(HPyContext *ctx, HPy self, HPy name)
{
    (void)self;
    HPy hello = HPyUnicode_FromString(ctx, "hello ");   /* LEAK */
    return HPy_Add(ctx, hello, name);
}

HPyDef_METH(clean, "clean", HPyFunc_O)
static HPy clean_impl(HPyContext *ctx, HPy self, HPy name)
{
    (void)self;
    HPy hello = HPyUnicode_FromString(ctx, "hello ");
    HPy res = HPy_Add(ctx, hello, name);
    HPy_Close(ctx, hello);
    return res;
}

HPyDef_METH(chars, "chars", HPyFunc_O)
static HPy chars_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPy s = HPy_Str(ctx, arg);
    HPy_ssize_t n;
    const char *p = HPyUnicode_AsUTF8AndSize(ctx, s, &n);
    long first = p[0];
    HPy_Close(ctx, s);
    return HPyLong_FromLong(ctx, first);
}

static HPyDef *defines[] = { &make_greeting, &clean, &chars, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(leaky, moduledef)
"""


def _leak_line():
    for number, text in enumerate(LEAKY.splitlines(), 1):
        if "/* LEAK */" in text:
            return number


def test_leak_detector_names_the_line(hpy_compiler, tmp_path):
    probe = textwrap.dedent("""
        from hpy_build.debug import LeakDetector, HPyLeakError, get_open_handles
        import hpy_build.debug as debug
        with LeakDetector():
            assert mod.clean("x") == "hello x"
        try:
            with LeakDetector():
                mod.make_greeting("abc")
        except HPyLeakError as e:
            print(str(e))
            assert len(e.leaks) == 1 and e.leaks[0].obj == "hello "
        else:
            raise AssertionError("no leak reported")
        debug.disable_handle_stack_traces()
        gen = debug.new_generation()
        mod.make_greeting("x")
        (leak,) = get_open_handles(gen)
        assert leak.site is None
        debug.set_handle_stack_trace_limit(8)
        gen = debug.new_generation()
        mod.make_greeting("x")
        (leak,) = get_open_handles(gen)
        assert any("leaky.c:%d in make_greeting_impl" in f for f in leak.stack), leak.stack
        assert len(leak.stack) > 1
        print("ok")
    """) % _leak_line()
    result = run_isolated(hpy_compiler, "universal", tmp_path, LEAKY, "leaky", probe,
                          env={"HPY": "debug"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "1 unclosed handle:",
        result.stdout.splitlines()[1].split(" for ")[0] + " for 'hello '> created at "
        "leaky.c:%d in make_greeting_impl" % _leak_line()]
    assert result.stdout.splitlines()[1].startswith("    <DebugHandle 0x")
    assert result.stdout.splitlines()[-1] == "ok"


def test_settings_round_trip():
    import hpy_build.debug as debug
    old = (debug.get_closed_handles_queue_max_size(), debug.get_protected_raw_data_max_size(),
           debug.get_handle_stack_trace_limit())
    try:
        debug.set_closed_handles_queue_max_size(7)
        debug.set_protected_raw_data_max_size(4096)
        debug.set_handle_stack_trace_limit(3)
        assert debug.get_closed_handles_queue_max_size() == 7
        assert debug.get_protected_raw_data_max_size() == 4096
        assert debug.get_handle_stack_trace_limit() == 3
    finally:
        debug.set_closed_handles_queue_max_size(old[0])
        debug.set_protected_raw_data_max_size(old[1])
        debug.set_handle_stack_trace_limit(old[2])
    import pytest
    with pytest.raises(TypeError, match="Expected a callable object"):
        debug.set_on_invalid_handle(42)
    with pytest.raises(ValueError):
        debug.set_closed_handles_queue_max_size(-1)


def test_closed_handle_queue_limit(hpy_compiler, tmp_path):
    probe = textwrap.dedent("""
        import hpy_build.debug as debug
        debug.set_closed_handles_queue_max_size(5)
        for i in range(20):
            mod.clean("x")
        closed = debug.get_closed_handles()
        assert len(closed) == 5, len(closed)
        assert all(h.is_closed and h.obj is None for h in closed)
        assert "CLOSED" in repr(closed[0])
        # each closed str keeps its bytes (with the NUL, counted as HPy 0.9
        # does) while they fit in the limit; beyond it they are freed at once
        debug.set_closed_handles_queue_max_size(1000)
        debug.set_protected_raw_data_max_size(3 * 4 + 3)
        gen = debug.new_generation()
        for i in range(10):
            assert mod.chars("abc") == ord("a")
        assert debug.get_protected_raw_data_size() == 3 * 4
        sizes = [h.raw_data_size for h in debug.get_closed_handles(gen)]
        assert sorted(s for s in sizes if s != -1) == [4, 4, 4], sizes
        print("ok")
    """)
    result = run_isolated(hpy_compiler, "universal", tmp_path, LEAKY, "leaky", probe,
                          env={"HPY": "debug"})
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


def test_force_close_and_live_handles(hpy_compiler, tmp_path):
    # a DebugHandle is a view of the C handle (as in HPy 0.9): it sees the
    # close, and _force_close gives the object's reference back
    probe = textwrap.dedent("""
        import sys
        import hpy_build.debug as debug
        name = "".join(["lea", "ked"])  # an object of our own, to count its references
        before = sys.getrefcount(name)
        gen = debug.new_generation()
        mod.make_greeting(name)
        (leak,) = debug.get_open_handles(gen)
        assert not leak.is_closed and leak.obj == "hello " and leak.raw_data_size == -1
        leak._force_close()
        assert leak.is_closed and leak.obj is None
        assert debug.get_open_handles(gen) == []
        assert leak in debug.get_closed_handles(gen)
        assert repr(leak).startswith("<DebugHandle 0x%x CLOSED> created at leaky.c:" % leak.id)
        assert sys.getrefcount(name) == before
        print("ok")
    """)
    result = run_isolated(hpy_compiler, "universal", tmp_path, LEAKY, "leaky", probe,
                          env={"HPY": "debug"})
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


BUILDER = r"""
#include "hpy.h"

HPyDef_METH(f, "f", HPyFunc_O)
static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 1);
    HPyTupleBuilder_Set(ctx, b, 0, arg);
    HPyTupleBuilder_Cancel(ctx, b);
    return HPyTupleBuilder_Build(ctx, b);
}

static HPyDef *defines[] = { &f, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(builder, moduledef)
"""


def test_build_after_cancel_with_the_hook(hpy_compiler, tmp_path):
    # the hook lets it go on: a closed builder is no builder, MemoryError as in HPy 0.9
    probe = textwrap.dedent("""
        import sys
        import hpy_build.debug as debug
        seen = []
        debug.set_on_invalid_builder_handle(lambda: seen.append(1))
        item = object()
        before = sys.getrefcount(item)
        try:
            mod.f(item)
        except MemoryError:
            pass
        else:
            raise AssertionError("no MemoryError")
        assert seen == [1]
        assert sys.getrefcount(item) == before
        print("ok")
    """)
    result = run_isolated(hpy_compiler, "universal", tmp_path, BUILDER, "builder", probe,
                          env={"HPY": "debug"})
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


def test_pytest_plugin_in_a_project(hpy_compiler, tmp_path):
    binary = hpy_compiler.compile(LEAKY, "universal", "leaky", tmp_path / "build")
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(textwrap.dedent("""
        import pytest
        from hpy_build.universal import load

        @pytest.fixture(autouse=True)
        def check_handles(hpy_debug):
            pass

        @pytest.fixture(scope="session")
        def mod():
            return load("leaky", %r)
    """ % str(binary)))
    (project / "test_it.py").write_text(textwrap.dedent("""
        def test_clean(mod):
            assert mod.clean("a") == "hello a"

        def test_leaky(mod):
            assert mod.make_greeting("a") == "hello a"
    """))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, HPY="debug", PYTHONPATH=root)
    # -p: what the pytest11 entry point does once hpy-build is installed (and
    # must not be given twice when it is)
    installed = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(any(e.name == 'hpy_debug' "
         "for d in m.distributions() for e in d.entry_points if e.group == 'pytest11'))"],
        stdout=subprocess.PIPE, universal_newlines=True, env=env, cwd=str(project)).stdout
    plugin = [] if installed.strip() == "True" else ["-p", "hpy_build.debug.pytest"]
    result = subprocess.run([sys.executable, "-m", "pytest"] + plugin +
                            ["-q", "-p", "no:cacheprovider", str(project)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, env=env, cwd=str(project))
    assert "2 passed, 1 error" in result.stdout, result.stdout
    assert "ERROR at teardown of test_leaky" in result.stdout
    assert "HPyLeakError: 1 unclosed handle:" in result.stdout
    assert "created at leaky.c:%d in make_greeting_impl" % _leak_line() in result.stdout


def test_entry_point_is_declared():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, "pyproject.toml")).read()
    assert '[project.entry-points.pytest11]\nhpy_debug = "hpy_build.debug.pytest"' in text


def test_sites_at_O0(tmp_path):
    """At -O0 the API functions are still inlined (always_inline), so the site
    is the author's line, not a line of an hpy header."""
    from hpy_build.toolchain import abi as hpy_abi
    options = hpy_abi.compile_options("universal")
    (tmp_path / "leaky.c").write_text(LEAKY)
    binary = tmp_path / "leaky.hpy0.so"
    command = (["cc", "-O0", "-g", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror"]
               + ["-D" + name for name, _ in options["define_macros"]]
               + ["-I" + d for d in options["include_dirs"]]
               + [str(tmp_path / "leaky.c")] + options["extra_sources"] + ["-o", str(binary)])
    compiled = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)
    assert compiled.returncode == 0, compiled.stdout
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    probe = ("from hpy_build.universal import load\nimport hpy_build.debug as d\n"
             "m = load('leaky', %r, mode='debug')\ng = d.new_generation()\n"
             "m.make_greeting('x')\nprint(d.get_open_handles(g)[0].site)\n" % str(binary))
    result = subprocess.run([sys.executable, "-c", probe], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True,
                            env=dict(os.environ, PYTHONPATH=root))
    assert result.stdout == "leaky.c:%d in make_greeting_impl\n" % _leak_line(), result.stderr
