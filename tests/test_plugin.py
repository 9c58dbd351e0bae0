"""The setuptools plugin: ``setup(hpy_ext_modules=...)`` driven by real setup.py runs."""
import glob
import json
import os
import sys

import pytest

from buildtools import (  # noqa: F401  (fixtures, and the fixtures they use)
    ON_CPYTHON, build_python, clean_env, describe_module, ext_suffix, fresh_python, hpy_build_wheel,
    hpy_module_source, listdir, make_project, requires_cpython, run, setup_py, wheel_files,
    write_files,
)

from hpy_build.toolchain.plugin import STUB_MARKER


def binaries(folder, name="mymod"):
    return sorted(f for f in listdir(folder) if f.startswith(name + ".") and f.endswith(".so"))


def build_dirs(project, prefix):
    return {os.path.basename(p): p for p in glob.glob(os.path.join(str(project), "build", prefix + "*"))}


@requires_cpython
def test_inplace_builds_switch_abi_without_clean(build_python, tmp_path):
    """Each in-place build leaves exactly its ABI's files, and import uses them."""
    project = make_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    steps = [
        ("cpython", ["build_ext", "--inplace"]),  # the default on CPython
        ("universal", ["build_ext", "--inplace", "--hpy-abi=universal"]),
        ("hybrid", ["build_ext", "--inplace", "--hpy-abi", "hybrid"]),
        ("cpython", ["build_ext", "--inplace", "--hpy-abi=cpython"]),
        ("universal", ["--hpy-abi=universal", "build_ext", "--inplace"]),  # HPy 0.9 spelling
    ]
    for abi, args in steps:
        setup_py(build_python, project, *args)
        assert binaries(project) == ["mymod" + ext_suffix(abi)], (abi, listdir(project))
        stub = project / "mymod.py"
        if abi == "cpython":
            assert not stub.exists(), "the stub of an earlier universal build was left behind"
        else:
            text = stub.read_text()
            assert text.startswith(STUB_MARKER)
            assert "'mymod%s'" % ext_suffix(abi) in text
            assert "pkg_resources" not in text and "setuptools" not in text
        # From another directory, with only the project on the path: the
        # stub (or the CPython binary) is what gets imported.
        module = describe_module(build_python, "mymod", project, elsewhere)
        assert module == {"answer": 42, "abi": abi,
                          "file": str(project / ("mymod" + ext_suffix(abi)))}

    # Objects of each ABI were kept apart, under <build_temp>/hpy-<abi>.
    temps = build_dirs(project, "temp.")
    assert len(temps) == 1, temps
    temp = list(temps.values())[0]
    assert sorted(listdir(temp)) == ["hpy-cpython", "hpy-hybrid", "hpy-universal"]
    for abi in ("cpython", "universal", "hybrid"):
        assert os.path.isfile(os.path.join(temp, "hpy-" + abi, "src", "mymod.o"))


@requires_cpython
def test_build_trees_are_per_abi(build_python, tmp_path):
    """Out-of-place builds: a universal build tree never holds CPython binaries."""
    project = make_project(tmp_path / "project")
    setup_py(build_python, project, "build_ext")
    setup_py(build_python, project, "build_ext", "--hpy-abi=universal")
    libs = build_dirs(project, "lib.")
    assert len(libs) == 2, libs
    cpython_lib = [path for name, path in libs.items() if not name.endswith("-hpy-universal")][0]
    universal_lib = [path for name, path in libs.items() if name.endswith("-hpy-universal")][0]
    assert listdir(cpython_lib) == ["mymod" + ext_suffix("cpython")]
    assert listdir(universal_lib) == ["mymod.hpy0.so", "mymod.py"]
    # Nothing was put in the source tree.
    assert not binaries(project) and not (project / "mymod.py").exists()


def test_universal_extension_inside_a_package(build_python, tmp_path):
    project = make_project(tmp_path / "project", name="_native", package="pkg")
    setup_py(build_python, project, "build_ext", "--inplace", "--hpy-abi=universal")
    assert listdir(project / "pkg") == ["__init__.py", "_native.hpy0.so", "_native.py"]
    module = describe_module(build_python, "pkg._native", project, tmp_path)
    assert module["answer"] == 42 and module["abi"] == "universal"
    assert module["file"] == str(project / "pkg" / "_native.hpy0.so")
    # what an import sets, the stub's module passes on to the binary's
    code = ("import sys, pkg._native as m\n"
            "print(m.__name__, m.__package__, m.__spec__.name, m.__loader__ is m.__spec__.loader,"
            " m.__loader__ is not None, sys.modules['pkg._native'] is m, m is sys.modules['pkg']._native)")
    output = run([build_python, "-c", code], cwd=tmp_path,
                 env=clean_env(PYTHONPATH=str(project))).stdout.split()
    assert output == ["pkg._native", "pkg", "pkg._native", "True", "True", "True", "True"]


LEGACY_C = """\
#include <Python.h>

static PyObject *seven(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(7);
}

static PyMethodDef methods[] = {
    {"seven", seven, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "legacy", NULL, -1, methods};

PyMODINIT_FUNC PyInit_legacy(void)
{
    return PyModule_Create(&moduledef);
}
"""


def test_ext_modules_and_hpy_ext_modules_together(build_python, tmp_path):
    """A C-API module and two HPy modules in one setup.py, built in parallel."""
    project = tmp_path / "project"
    write_files(project, {
        "setup.py": (
            "from setuptools import Extension, setup\n"
            "setup(name='mixed', version='1.0', packages=[],\n"
            "      ext_modules=[Extension('legacy', ['src/legacy.c'])],\n"
            "      hpy_ext_modules=[Extension('first', ['src/first.c']),\n"
            "                       Extension('second', ['src/second.c'])])\n"),
        "src/legacy.c": LEGACY_C,
        "src/first.c": hpy_module_source("first"),
        "src/second.c": hpy_module_source("second"),
    })
    # universal: the HPy modules must not see Python.h, the C-API module must
    output = setup_py(build_python, project, "build_ext", "--inplace", "--parallel", "2",
                      "--hpy-abi=universal").stdout
    # hpy-build's helpers are compiled once for both HPy modules, and linked into each
    helper_compiles = [line for line in output.splitlines()
                       if " -c " in line and line.split(" -c ")[1].split()[0].endswith("argparse.c")]
    assert len(helper_compiles) == 1, output
    assert len([line for line in output.splitlines() if "argparse.o" in line and " -o " in line
                and (".hpy0.so" in line)]) == 2, output
    assert sorted(listdir(project)) == sorted([
        "build", "first.hpy0.so", "first.py", "legacy" + ext_suffix("cpython"),
        "second.hpy0.so", "second.py", "setup.py", "src"])
    for name in ("first", "second"):
        module = describe_module(build_python, name, project, tmp_path)
        assert module["answer"] == 42 and module["abi"] == "universal"
    seven = run([build_python, "-c", "import legacy; print(legacy.seven())"], cwd=tmp_path,
                env=clean_env(PYTHONPATH=str(project))).stdout.split()[-1]
    assert seven == "7"
    # up to date: nothing is compiled again, the helpers neither
    output = setup_py(build_python, project, "build_ext", "--inplace", "--hpy-abi=universal").stdout
    assert not [line for line in output.splitlines() if " -c " in line or " -shared " in line], output


def test_projects_own_build_ext_keeps_working(build_python, tmp_path):
    """cmdclass={'build_ext': ...}: the project's hooks run on the HPy build."""
    preamble = """
from setuptools.command.build_ext import build_ext

class MyBuildExt(build_ext):
    def run(self):
        with open("my-build-ext-ran.txt", "w") as f:
            f.write("ran as %s" % isinstance(self, MyBuildExt))
        super().run()

    def build_extension(self, ext):
        # sees the HPy extension with hpy-build's settings already in place
        macros = [name for name, _value in ext.define_macros]
        assert "HPY_ABI_UNIVERSAL" in macros, macros
        ext.define_macros.append(("ANSWER", "43"))
        super().build_extension(ext)
"""
    project = make_project(tmp_path / "project", preamble=preamble,
                           setup_extra="cmdclass={'build_ext': MyBuildExt},")
    setup_py(build_python, project, "build_ext", "--inplace", "--hpy-abi=universal")
    assert (project / "my-build-ext-ran.txt").read_text() == "ran as True"
    module = describe_module(build_python, "mymod", project, tmp_path)
    assert module["answer"] == 43 and module["abi"] == "universal"


@pytest.mark.parametrize("args", [
    ["build_ext", "--hpy-abi=nope"],
    ["--hpy-abi=nope", "build_ext"],
    ["build", "--hpy-abi=nope"],
], ids=["build_ext-option", "global-option", "build-option"])
def test_unknown_abi_is_rejected(build_python, tmp_path, args):
    project = make_project(tmp_path / "project")
    result = setup_py(build_python, project, *args, check=False)
    assert result.returncode != 0
    assert "unknown --hpy-abi 'nope': choose one of cpython, universal, hybrid" in result.stdout
    assert not (project / "build").exists()


def test_conflicting_abis_are_rejected(build_python, tmp_path):
    project = make_project(tmp_path / "project")
    result = setup_py(build_python, project, "--hpy-abi=universal", "build_ext",
                      "--hpy-abi=cpython", check=False)
    assert result.returncode != 0
    assert "conflicting HPy ABIs" in result.stdout
    assert "universal" in result.stdout and "cpython" in result.stdout


@pytest.mark.parametrize("abi", ["cpython", "universal"])
def test_compile_error_names_the_abi(build_python, tmp_path, abi):
    if abi == "cpython" and not ON_CPYTHON:
        pytest.skip("the CPython ABI is only built on CPython")
    source = hpy_module_source("mymod", before="this is not C;\n")
    project = make_project(tmp_path / "project", source=source)
    result = setup_py(build_python, project, "build_ext", "--inplace", "--hpy-abi=" + abi,
                      check=False)
    assert result.returncode != 0
    assert "building 'mymod' for the %s ABI failed" % abi in result.stdout
    # the compiler's own diagnostics are visible, pointing at the bad line
    assert "src/mymod.c:1:" in result.stdout and "error:" in result.stdout
    assert not binaries(project)


def test_missing_source_file_is_named(build_python, tmp_path):
    project = make_project(tmp_path / "project")
    os.remove(str(project / "src" / "mymod.c"))
    result = setup_py(build_python, project, "build_ext", "--hpy-abi=universal", check=False)
    assert result.returncode != 0
    assert "source file 'src/mymod.c' of HPy extension 'mymod' does not exist" in result.stdout
    assert str(project / "src" / "mymod.c") in result.stdout


def test_a_module_of_the_same_name_is_not_overwritten(build_python, tmp_path):
    project = make_project(tmp_path / "project", extra_files={"mymod.py": "MINE = True\n"})
    result = setup_py(build_python, project, "build_ext", "--inplace", "--hpy-abi=universal",
                      check=False)
    assert result.returncode != 0
    assert "mymod.py exists and was not written by hpy-build" in result.stdout
    assert (project / "mymod.py").read_text() == "MINE = True\n"


def test_hpy_ext_modules_must_be_extensions(build_python, tmp_path):
    project = make_project(tmp_path / "project")
    setup = (project / "setup.py").read_text().replace(
        "hpy_ext_modules=[Extension('mymod', ['src/mymod.c'])]",
        "hpy_ext_modules=['src/mymod.c']")
    write_files(project, {"setup.py": setup})
    result = setup_py(build_python, project, "build_ext", check=False)
    assert result.returncode != 0
    assert "hpy_ext_modules must be a list of setuptools.Extension objects" in result.stdout


def test_stub_loads_nothing_but_the_runtime(build_python, tmp_path):
    """The stub imports no setuptools/pkg_resources at run time."""
    project = make_project(tmp_path / "project")
    setup_py(build_python, project, "build_ext", "--inplace", "--hpy-abi=universal")
    code = ("import sys, mymod\n"
            "print(mymod.answer(), sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('setuptools', 'pkg_resources', 'distutils')))")
    output = run([build_python, "-c", code], cwd=tmp_path,
                 env=clean_env(PYTHONPATH=str(project))).stdout.strip().splitlines()[-1]
    assert output == "42 []"


def test_bdist_wheel_takes_the_option_too(build_python, tmp_path):
    project = make_project(tmp_path / "project")
    setup_py(build_python, project, "bdist_wheel", "--hpy-abi=universal", "--dist-dir", "out")
    (wheel,) = listdir(project / "out")
    from packaging.utils import parse_wheel_filename
    (tag,) = parse_wheel_filename(wheel)[3]
    assert (tag.interpreter, tag.abi) == ("py3", "none")


@pytest.mark.parametrize("declared, expected", [
    (None, ">=3.8"),
    (">=3.6", ">=3.8"),
    (">=3.6,<4", ">=3.8,<4"),
    ("!=3.9.1,>=3.7", ">=3.8,!=3.9.1"),
    (">=3.10", ">=3.10"),
    ("~=3.6", "~=3.6,>=3.8"),
])
def test_requires_python_is_narrowed_to_the_runtime(declared, expected):
    from packaging.specifiers import SpecifierSet
    from hpy_build.toolchain.plugin import narrowed_requires_python
    assert narrowed_requires_python(declared) == SpecifierSet(expected)


# ---------------------------------------------------------------------------
# Where HPy 0.9's own hpy.devel is present too

HPY09 = "hpy==0.9.0"

# Compiled only against hpy-build's headers: HPy 0.9's have no such guard.
OUR_HEADERS_ONLY = ("#include \"hpy.h\"\n#ifndef HPY_AUTOGEN_CTX_H\n"
                    "#error \"not compiled with hpy-build's headers\"\n#endif\n")

# Records what happened to build_ext by the time the commands run.
RECORDING_DIST = """
from setuptools.dist import Distribution

class RecordingDist(Distribution):
    def finalize_options(self):
        super().finalize_options()  # runs the setup keywords: hpy's and ours
        {wrap}
        with open("hpy-devel-seen.txt", "w") as f:
            f.write("%s %s" % (getattr(self, "hpydevel", None) is not None,
                               [c.__module__ for c in self.cmdclass["build_ext"].__mro__]))
"""

OTHER_PLUGIN_WRAP = """
        # what cffi's cffi_modules does: wrap whatever build_ext is there
        base = self.cmdclass.get("build_ext", build_ext)

        class other_plugin_build_ext(base):
            def run(self):
                with open("other-plugin-ran.txt", "w") as f:
                    f.write("yes")
                base.run(self)
        self.cmdclass["build_ext"] = other_plugin_build_ext
"""


def _network_skip(result):
    from test_hpy09_compat import NETWORK_ERRORS
    if result.returncode != 0 and NETWORK_ERRORS.search(result.stdout):
        pytest.skip("the package index is unreachable, cannot get %s:\n%s"
                    % (HPY09, result.stdout[-2000:]))


def _check_hpy_build_alone(python, project, output):
    """HPy's build_ext took no part: none of its files, one set of our flags."""
    compiles = [line for line in output.splitlines()
                if " -c " in line and "mymod.c" in line]
    assert len(compiles) == 1, output
    assert "hpy/devel" not in output
    assert compiles[0].count("-DHPY_ABI_UNIVERSAL") == 1
    assert compiles[0].count("-I" + os.path.join("hpy_build", "include")) <= 1
    module = describe_module(python, "mymod", project, project.parent)
    assert module["answer"] == 42 and module["abi"] == "universal"


def test_setup_requires_hpy_is_taken_over(build_python, tmp_path):
    """setup_requires=["hpy"] fetches HPy 0.9 into .eggs; hpy-build still builds alone."""
    project = make_project(
        tmp_path / "project", source=hpy_module_source("mymod", before=OUR_HEADERS_ONLY),
        preamble=RECORDING_DIST.format(wrap=""),
        setup_extra="setup_requires=[%r], distclass=RecordingDist," % HPY09)
    result = setup_py(build_python, project, "build_ext", "--inplace", "--hpy-abi=universal",
                      check=False)
    _network_skip(result)
    assert result.returncode == 0, result.stdout
    assert [n for n in listdir(project / ".eggs") if n.startswith("hpy-0.9.0")], result.stdout
    seen = (project / "hpy-devel-seen.txt").read_text()
    assert seen.startswith("True ") and "hpy.devel" in seen, seen  # HPy's plugin did act
    _check_hpy_build_alone(build_python, project, result.stdout)


def test_hpy_build_ext_wrapped_by_another_plugin(fresh_python, tmp_path):
    """HPy 0.9 installed in the build environment, its build_ext wrapped by another plugin."""
    installed = run([fresh_python, "-m", "pip", "install", "--quiet", HPY09], check=False)
    _network_skip(installed)
    assert installed.returncode == 0, installed.stdout
    project = make_project(
        tmp_path / "project", source=hpy_module_source("mymod", before=OUR_HEADERS_ONLY),
        preamble="from setuptools.command.build_ext import build_ext\n"
                 + RECORDING_DIST.format(wrap=OTHER_PLUGIN_WRAP),
        setup_extra="distclass=RecordingDist,")
    result = setup_py(fresh_python, project, "build_ext", "--inplace", "--hpy-abi=universal")
    seen = (project / "hpy-devel-seen.txt").read_text()
    # the chain was: the other plugin's class, over HPy's, over setuptools'
    assert seen.startswith("True ['__main__', 'hpy.devel'"), seen
    assert (project / "other-plugin-ran.txt").read_text() == "yes"
    _check_hpy_build_alone(fresh_python, project, result.stdout)


# ---------------------------------------------------------------------------
# A universal wheel depends on hpy-build's runtime, whichever way it was built

def _requires_dist(wheel):
    _names, metadata = wheel_files(wheel)
    return metadata.get_all("Requires-Dist") or []


def _built_wheel(folder):
    (wheel,) = [f for f in listdir(folder) if f.endswith(".whl")]
    return os.path.join(str(folder), wheel)


SETUPTOOLS_BACKEND = '[build-system]\nrequires = ["setuptools", "hpy-build"]\n' \
                     'build-backend = "setuptools.build_meta"\n'


@pytest.mark.parametrize("route", ["setup.py", "build", "pip"])
def test_universal_wheel_requires_the_runtime_by_every_route(build_python, tmp_path, route):
    from hpy_build.toolchain.plugin import runtime_requirement
    project = make_project(tmp_path / "project",
                           extra_files={"pyproject.toml": SETUPTOOLS_BACKEND},
                           setup_extra="long_description='The description, kept.',")
    out = tmp_path / "out"
    if route == "setup.py":
        setup_py(build_python, project, "bdist_wheel", "--hpy-abi=universal", "--dist-dir", out)
    elif route == "build":
        run([build_python, "-m", "build", "--wheel", "--no-isolation", "--outdir", out,
             "-C--build-option=--hpy-abi=universal", project])
    else:
        run([build_python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "-w", out, "-C--build-option=--hpy-abi=universal", project])
    from packaging.requirements import Requirement
    wheel = _built_wheel(out)
    assert "-py3-none-" in os.path.basename(wheel)
    wanted = Requirement(runtime_requirement())
    found = [Requirement(r) for r in _requires_dist(wheel)]
    assert [(r.name, r.specifier) for r in found] == [(wanted.name, wanted.specifier)]
    _names, metadata = wheel_files(wheel)
    assert metadata["Requires-Python"] == ">=3.8"
    assert metadata.get_payload().strip() == "The description, kept."


def test_installing_hpy_build_warns_nothing_about_its_layout(tmp_path_factory, tmp_path):
    """Every folder of headers and C sources is declared, so setuptools has nothing to say."""
    from buildtools import checkout_copy
    source = checkout_copy(tmp_path_factory)
    result = run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                  source, "-w", tmp_path])
    assert "absent from the `packages` configuration" not in result.stdout
    assert "Package would be ignored" not in result.stdout
    names, _metadata = wheel_files(_built_wheel(tmp_path))
    from hpy_build.toolchain.abi import get_include
    for folder, _dirs, files in os.walk(get_include()):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), get_include())
            assert "hpy_build/include/" + relative.replace(os.sep, "/") in names
    # The C sources an extension build compiles (helpers, the CPython-ABI
    # context functions) ship too, and so does the runtime's own source.
    root = os.path.dirname(get_include())
    checkout = {os.path.relpath(f, root).replace(os.sep, "/")
                for f in glob.glob(os.path.join(root, "hpy_build", "**", "*.c"), recursive=True)}
    assert checkout and checkout <= set(names)


@pytest.mark.parametrize("body", ["", "\nA description\n\nin two paragraphs.\n"])
def test_metadata_fix_up_keeps_the_file_well_formed(tmp_path, body):
    import email.parser
    from setuptools import Distribution
    from hpy_build.toolchain.plugin import _require_runtime_in_metadata, runtime_requirement
    path = tmp_path / "METADATA"
    path.write_text("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
                    "Requires-Python: >=3.6\nRequires-Dist: six\n" + body)
    dist = Distribution({"name": "demo", "python_requires": ">=3.6"})
    for _ in range(2):  # a second pass changes nothing
        _require_runtime_in_metadata(str(path), dist)
    parsed = email.parser.Parser().parsestr(path.read_text())
    assert parsed.get_all("Requires-Dist") == ["six", runtime_requirement()]
    assert parsed.get_all("Requires-Python") == [">=3.8"]
    assert parsed["Name"] == "demo"
    assert parsed.get_payload() == body.lstrip("\n")


# ---------------------------------------------------------------------------
# HPy 0.9's hpy_use_static_libs: hpy-build's prebuilt helper libraries

# Calls helpers (argument parsing, BuildValue) and, in the CPython ABI, the
# context functions that are not inline (module creation): all from the library.
STATIC_LIBS_MODULE = """\
#include "hpy.h"

#if defined(HPY_ABI_UNIVERSAL)
#define ABI_NAME "universal"
#elif defined(HPY_ABI_HYBRID)
#define ABI_NAME "hybrid"
#else
#define ABI_NAME "cpython"
#endif

HPyDef_METH(add, "add", HPyFunc_VARARGS)
static HPy add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll:add", &a, &b))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "(ls)", a + b, ABI_NAME);
}

static HPyDef *module_defines[] = { &add, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(mymod, moduledef)
"""

HELPER_NAMES = ("argparse", "buildvalue", "format", "helpers", "structseq", "ctx_module", "ctx_type")


def _objects_under(folder):
    return sorted(os.path.relpath(os.path.join(path, name), folder)
                  for path, _dirs, files in os.walk(folder) for name in files if name.endswith(".o"))


@requires_cpython
@pytest.mark.parametrize("abi", ["cpython", "universal", "hybrid"])
def test_static_libs_replace_the_helper_sources(build_python, tmp_path, abi):
    """HPy 0.9's --hpy-use-static-libs: the helpers come from hpy-build's
    prebuilt library of that ABI, and no helper source is compiled."""
    project = make_project(tmp_path / "project", source=STATIC_LIBS_MODULE)
    result = setup_py(build_python, project, "--hpy-use-static-libs", "build_ext", "--inplace",
                      "--hpy-abi=" + abi)
    compiled = [line for line in result.stdout.splitlines() if " -c " in line]
    assert len(compiled) == 1 and "src/mymod.c" in compiled[0], compiled
    library = "lib/%s/libhpy-build-helpers" % abi
    assert any(library in line and "-o " in line for line in result.stdout.splitlines()), result.stdout
    temps = build_dirs(project, "temp.")
    assert [_objects_under(t) for t in temps.values()] == [["hpy-%s/src/mymod.o" % abi]]
    code = ("import mymod\nprint(mymod.add(2, 3))\n"
            "try:\n    mymod.add('x', 1)\nexcept TypeError as e:\n    print(e)\n")
    output = run([build_python, "-c", code], cwd=tmp_path,
                 env=clean_env(PYTHONPATH=str(project))).stdout.strip().splitlines()
    assert output[-2:] == ["(5, %r)" % abi, "'str' object cannot be interpreted as an integer"], output


@requires_cpython
def test_without_static_libs_the_helpers_are_compiled(build_python, tmp_path):
    """The default stays: the helper sources are compiled, once, into the build."""
    project = make_project(tmp_path / "project", source=STATIC_LIBS_MODULE)
    result = setup_py(build_python, project, "build_ext", "--inplace")
    assert "libhpy-build-helpers" not in result.stdout
    temp = list(build_dirs(project, "temp.").values())[0]
    compiled = {os.path.basename(o)[:-2] for o in _objects_under(temp)}
    assert set(HELPER_NAMES) <= compiled, compiled
    output = run([build_python, "-c", "import mymod; print(mymod.add(2, 3))"], cwd=tmp_path,
                 env=clean_env(PYTHONPATH=str(project))).stdout.strip().splitlines()
    assert output[-1] == "(5, 'cpython')"


@requires_cpython
def test_static_libs_ship_in_the_wheel(build_python, hpy_build_wheel):
    """One library per ABI in hpy-build's wheel, which HPyDevel.get_static_libs names."""
    names, _metadata = wheel_files(hpy_build_wheel)
    tag = ext_suffix("cpython")[:-len(".so")]
    expected = {"hpy_build/lib/universal/libhpy-build-helpers.a",
                "hpy_build/lib/cpython/libhpy-build-helpers%s.a" % tag,
                "hpy_build/lib/hybrid/libhpy-build-helpers%s.a" % tag}
    assert {n for n in names if n.startswith("hpy_build/lib/")} == expected
    code = ("import json, os, hpy_build\nfrom hpy.devel import HPyDevel\n"
            "d = HPyDevel()\nroot = os.path.dirname(hpy_build.__file__)\n"
            "print(json.dumps({abi: d.get_static_libs(abi) and [os.path.relpath(p, root) for p in "
            "d.get_static_libs(abi) if os.path.isfile(p)] for abi in "
            "('cpython', 'universal', 'hybrid', 'debug')}))\n")
    output = run([build_python, "-c", code], cwd=os.path.dirname(str(build_python))).stdout
    found = json.loads(output.strip().splitlines()[-1])
    assert found == {"cpython": ["lib/cpython/libhpy-build-helpers%s.a" % tag],
                     "universal": ["lib/universal/libhpy-build-helpers.a"],
                     "hybrid": ["lib/hybrid/libhpy-build-helpers%s.a" % tag],
                     "debug": None}


def test_missing_static_lib_is_hpy09s_error(fresh_python, tmp_path):
    """Without the library, HPy 0.9's DistutilsError, then how to get one."""
    code = "import os, hpy_build.toolchain.abi as a; p = a.static_lib_path('universal'); os.remove(p); print(p)"
    removed = run([fresh_python, "-c", code], cwd=tmp_path).stdout.strip().splitlines()[-1]
    project = make_project(tmp_path / "project")
    result = setup_py(fresh_python, project, "--hpy-use-static-libs", "build_ext",
                      "--hpy-abi=universal", check=False)
    assert result.returncode != 0
    assert ('error: Expected exactly one static library for ABI "universal" but got: None; '
            "hpy-build makes its static libraries when it is built") in result.stdout
    assert removed in result.stdout and "build without --hpy-use-static-libs" in result.stdout
    assert not (project / "build").exists()
