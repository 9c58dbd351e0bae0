"""The setuptools plugin: ``setup(hpy_ext_modules=...)`` driven by real setup.py runs."""
import glob
import os

import pytest

from buildtools import (  # noqa: F401  (fixtures, and the fixtures they use)
    ON_CPYTHON, build_python, clean_env, describe_module, ext_suffix, hpy_build_wheel,
    hpy_module_source, listdir, make_project, requires_cpython, run, setup_py, write_files,
)

from hpy_build.setuptools_plugin import STUB_MARKER


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
    setup_py(build_python, project, "build_ext", "--inplace", "--parallel", "2",
             "--hpy-abi=universal")
    assert sorted(listdir(project)) == sorted([
        "build", "first.hpy0.so", "first.py", "legacy" + ext_suffix("cpython"),
        "second.hpy0.so", "second.py", "setup.py", "src"])
    for name in ("first", "second"):
        module = describe_module(build_python, name, project, tmp_path)
        assert module["answer"] == 42 and module["abi"] == "universal"
    seven = run([build_python, "-c", "import legacy; print(legacy.seven())"], cwd=tmp_path,
                env=clean_env(PYTHONPATH=str(project))).stdout.split()[-1]
    assert seven == "7"


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
    from hpy_build.setuptools_plugin import narrowed_requires_python
    assert narrowed_requires_python(declared) == SpecifierSet(expected)
