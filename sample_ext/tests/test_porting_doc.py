"""docs/porting.md says only what this repository compiles.

Every C excerpt in the guide names its file in an HTML comment just above it
(``<!-- from sample_ext/src/array.c -->``); each line of the excerpt must be
in that file, in order (a line ``...`` stands for lines left out). The
incremental-porting example docs/examples/halfway.c is compiled and run in
the cpython and hybrid ABIs.

These tests need the repository checkout (and hpy_build for the compiling
part), so they skip where the sample's tests run from an installed wheel.
"""
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUIDE = os.path.join(ROOT, "docs", "porting.md")

pytestmark = pytest.mark.skipif(not os.path.exists(GUIDE),
                                reason="docs/porting.md is not beside these tests")

EXCERPT = re.compile(r"<!-- from (\S+) -->\n[ \t]*```\w*\n(.*?)```", re.S)
WARNINGS = ["-Wall", "-Wextra", "-Werror"]


def excerpts():
    if not os.path.exists(GUIDE):
        return []
    with open(GUIDE, encoding="utf-8") as f:
        text = f.read()
    return [(m.group(1), m.group(2)) for m in EXCERPT.finditer(text)]


def test_guide_has_excerpts():
    with open(GUIDE, encoding="utf-8") as f:
        fences = f.read().count("```c\n")
    found = [path for path, _ in excerpts()]
    assert len(found) >= 10
    # Every C block says where it comes from.
    assert fences == len([p for p in found if p.endswith(".c")])


EXCERPTS = excerpts()


@pytest.mark.parametrize("path, excerpt", EXCERPTS,
                         ids=["%d-%s" % (i, path) for i, (path, _) in enumerate(EXCERPTS)])
def test_excerpt_is_in_its_source(path, excerpt):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        source = [line.strip() for line in f]
    position = 0
    for line in excerpt.splitlines():
        line = line.strip()
        if line in ("", "..."):
            continue
        try:
            position = source.index(line, position) + 1
        except ValueError:
            pytest.fail("%s has no line %r after line %d" % (path, line, position))


@pytest.fixture(scope="module")
def build_example(tmp_path_factory):
    """build_example(name, abi) -> the module docs/examples/<name>.c makes, imported."""
    hpy_abi = pytest.importorskip("hpy_build.toolchain.abi")
    import importlib.util
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext
    from hpy_build.universal import load

    def build(name, abi):
        options = hpy_abi.compile_options(abi)
        out = tmp_path_factory.mktemp(name + "-" + abi)
        ext = Extension(
            name, [os.path.join(ROOT, "docs", "examples", name + ".c")]
            + options["extra_sources"],
            define_macros=options["define_macros"], include_dirs=options["include_dirs"],
            extra_compile_args=WARNINGS + options["extra_compile_args"])

        class BuildExt(build_ext):
            def get_ext_filename(self, fullname):
                return fullname + hpy_abi.ext_suffix(abi)

        dist = Distribution({"ext_modules": [ext], "script_name": "setup.py"})
        cmd = BuildExt(dist)
        cmd.build_lib = str(out)
        cmd.build_temp = str(out / "tmp")
        cmd.ensure_finalized()
        cmd.run()
        path = os.path.join(str(out), cmd.get_ext_filename(name))
        if abi != "cpython":
            return load(name, path)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return build


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="C API on CPython")
@pytest.mark.parametrize("abi", ["cpython", "hybrid"])
def test_halfway_example_runs(build_example, abi):
    mod = build_example("halfway", abi)
    assert mod.half(3) == 1.5            # legacy_methods
    assert mod.twice(2.5) == 5.0         # HPy calling C API
    with pytest.raises(TypeError, match="must be real number"):
        mod.twice("x")
    cell = mod.Cell(1.25)
    assert cell.get() == 1.25            # legacy_slots method
    cell.set(4)                          # HPy method
    assert cell.get() == 4.0
    with pytest.raises(TypeError):
        mod.Cell()
    probe = 7.5
    before = sys.getrefcount(probe)
    for _ in range(100):
        mod.twice(probe)
        mod.half(probe)
        mod.Cell(probe).set(probe)
    assert sys.getrefcount(probe) == before


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="runs on CPython")
@pytest.mark.parametrize("abi", ["cpython", "universal", "hybrid"])
def test_box_example_runs(build_example, abi):
    import gc
    import weakref

    mod = build_example("box", abi)
    probe = object()
    before = sys.getrefcount(probe)
    box = mod.Box(probe)
    assert box.item is probe
    assert sys.getrefcount(probe) == before + 1
    del box
    assert sys.getrefcount(probe) == before

    class Node:
        pass

    node = Node()
    node.box = mod.Box(node)             # a cycle through the HPyField
    ref = weakref.ref(node)
    del node
    gc.collect()
    assert ref() is None                 # tp_traverse let the GC break it
