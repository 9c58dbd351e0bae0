"""The ``hpy`` package shipped with hpy-build: HPy 0.9's module names over hpy-build's.

HPy 0.9 projects (their build scripts, their conftest.py, the import stubs of
wheels built by HPy 0.9's toolchain) run unchanged with hpy-build installed
and HPy 0.9 absent.
"""
import importlib.util
import os
import shutil
import sys
import textwrap

import pytest

import hpy_build
import hpy_build.trace
from buildtools import build_python, hpy_build_wheel, wheel_files  # noqa: F401  (fixtures)
from test_hpy09_compat import _clean_env, _run, hpy09_python  # noqa: F401  (a fixture)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(hpy_build.__file__)))

SOURCE = r"""
#include "hpy.h"

HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
static HPy answer_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, ctx->name);
}

static HPyDef *defines[] = { &answer, &ctx_name, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%(name)s, moduledef)
"""

TRACE_CTX = "HPy Trace Mode ABI (hpy-build)"


@pytest.fixture
def binary(hpy_compiler, tmp_path):
    return hpy_compiler.compile(SOURCE % dict(name="aliased"), "universal", "aliased", tmp_path / "b")


def test_the_package_is_hpy_builds():
    import hpy
    import hpy.universal
    # a namespace package as HPy 0.9's, so an interpreter's bundled hpy still comes first
    assert not hasattr(hpy, "__file__") or hpy.__file__ is None
    assert hpy.universal.__file__.startswith(os.path.join(REPO_ROOT, "hpy"))
    assert (hpy.universal.MODE_UNIVERSAL, hpy.universal.MODE_DEBUG, hpy.universal.MODE_TRACE) == (0, 1, 2)
    assert hpy.universal.get_version() == (hpy_build.__version__, "")


def test_hpy_build_wheel_ships_the_package(hpy_build_wheel):  # noqa: F811
    names, _ = wheel_files(hpy_build_wheel)
    expected = {"hpy/universal.py", "hpy/devel/__init__.py", "hpy/devel/abitag.py",
                "hpy/debug/__init__.py", "hpy/debug/leakdetector.py", "hpy/debug/pytest.py",
                "hpy/trace/__init__.py", "hpy_build/trace/__init__.py",
                "hpy_build/trace/src/hpy_trace.h", "hpy_build/trace/src/trace_ctx.c"}
    assert expected <= set(names), sorted(expected - set(names))
    assert "hpy/__init__.py" not in names  # a namespace package


def test_universal_load_takes_hpy09s_arguments(binary, monkeypatch):
    import hpy.universal
    monkeypatch.setenv("HPY", "trace")  # HPy 0.9's load does not read HPY
    spec = importlib.util.spec_from_file_location("aliased", binary)
    plain = hpy.universal.load("aliased", binary, spec)
    assert plain.answer() == 42 and plain.ctx_name().startswith("HPy Universal ABI")
    assert hpy.universal.load("aliased", binary, spec, mode=-1).ctx_name().startswith("HPy Universal ABI")
    debugged = hpy.universal.load("aliased", binary, spec, debug=True, mode=hpy.universal.MODE_UNIVERSAL)
    assert debugged.ctx_name().startswith("HPy Debug Mode ABI")  # HPy 0.9: mode 0 leaves debug= in charge
    traced = hpy.universal.load("aliased", binary, spec, mode=hpy.universal.MODE_TRACE)
    assert traced.ctx_name() == TRACE_CTX
    before = hpy_build.trace.get_call_counts()["ctx_Long_FromInt64_t"]
    assert traced.answer() == 42
    import hpy.trace
    assert hpy.trace.get_call_counts()["ctx_Long_FromInt64_t"] == before + 1
    assert hpy.trace.set_trace_functions is hpy_build.trace.set_trace_functions


def test_load_bootstrap_honours_the_env_it_is_given(binary, capsys):
    import hpy.universal
    spec = importlib.util.spec_from_file_location("pkg.aliased", binary)
    module = hpy.universal._load_bootstrap("aliased", "pkg.aliased", "pkg", str(binary), "LOADER", spec,
                                           {"HPY": "aliased:trace", "HPY_LOG": "1"})
    assert module.ctx_name() == TRACE_CTX
    assert (module.__name__, module.__package__, module.__file__, module.__loader__) == (
        "pkg.aliased", "pkg", str(binary), "LOADER")
    assert capsys.readouterr().out == "Loading 'pkg.aliased' in HPy universal mode with a trace context\n"
    with pytest.raises(ValueError, match="'fast'"):
        hpy.universal._load_bootstrap("aliased", "aliased", None, str(binary), None, spec, {"HPY": "fast"})


def test_abitag():
    from hpy.devel import abitag
    assert (abitag.HPY_ABI_VERSION, abitag.HPY_ABI_VERSION_MINOR, abitag.HPY_ABI_TAG) == (0, 0, "hpy0")
    assert abitag.parse_ext_suffix(".cpython-310-x86_64-linux-gnu.so") == ("cp310", "so")
    assert abitag.parse_ext_suffix(".pypy39-pp73-x86_64-linux-gnu.so") == ("pypy39-pp73", "so")
    assert abitag.get_hpy_ext_suffix("universal") == ".hpy0.so"
    assert abitag.get_hpy_ext_suffix("hybrid", ".cpython-310-x86_64-linux-gnu.so") == ".hpy0-cp310.so"
    assert abitag.get_hpy_ext_suffix("hybrid") == ".hpy0-cp%d%d.so" % sys.version_info[:2]
    with pytest.raises(ValueError, match="'debug'"):
        abitag.get_hpy_ext_suffix("debug")


# ---- a build script that uses hpy.devel.HPyDevel ------------------------------

BUILD_SCRIPT = """
import os
import sys
from setuptools import Extension
from setuptools.dist import Distribution
import hpy_build
from hpy.devel import HPyDevel

devel = HPyDevel()
# 1. by hand, as some scripts do for the CPython ABI: headers, helpers and ctx sources
cpy = Extension("bycpython", include_dirs=devel.get_extra_include_dirs(),
                sources=["bycpython.c"] + devel.get_extra_sources() + devel.get_ctx_sources(),
                define_macros=[("HPY", None), ("HPY_ABI_CPYTHON", None)])
# hpy-build's own build made the static libraries; none for an ABI HPy does not have
assert devel.get_static_libs("universal") == [os.path.join(
    os.path.dirname(hpy_build.__file__), "lib", "universal", "libhpy-build-helpers.a")]
assert os.path.isfile(devel.get_static_libs("universal")[0])
assert devel.get_static_libs("debug") is None
dist = Distribution({"ext_modules": [cpy]})
dist.script_args = ["build_ext", "--inplace"]
dist.parse_command_line()
dist.run_commands()

# 2. as HPy 0.9's own tests do: an ABI on the distribution, then fix_distribution
dist = Distribution()
dist.hpy_abi = "universal"
dist.hpy_ext_modules = [Extension("byfix", ["byfix.c"])]
devel.fix_distribution(dist)
dist.script_args = ["build_ext", "--inplace"]
dist.parse_command_line()
dist.run_commands()
"""


def test_build_script_with_hpydevel(tmp_path):
    for name in ("bycpython", "byfix"):
        (tmp_path / (name + ".c")).write_text(SOURCE % dict(name=name))
    (tmp_path / "build_it.py").write_text(BUILD_SCRIPT)
    built = _run([sys.executable, "build_it.py"], tmp_path, env=_clean_env(PYTHONPATH=REPO_ROOT))
    assert built.returncode == 0, built.stdout
    built_files = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".so", ".py"))
    assert "byfix.hpy0.so" in built_files and "byfix.py" in built_files, built_files  # binary + stub
    assert any(f.startswith("bycpython.cpython-") for f in built_files), built_files
    probe = ("import bycpython, byfix; print(bycpython.answer(), byfix.answer(), "
             "byfix.ctx_name().split(' (')[0], bycpython.__file__.endswith('.hpy0.so'))")
    result = _run([sys.executable, "-c", probe], tmp_path, env=_clean_env(PYTHONPATH=REPO_ROOT))
    assert result.stdout.splitlines()[-1] == "42 42 HPy Universal ABI False", result.stdout


# ---- a universal wheel built by HPy 0.9.0's toolchain ------------------------------

HPY09_SETUP = """
from setuptools import Extension, setup

setup(name="hpy09proj", version="1.0", packages=["hpy09proj"],
      hpy_ext_modules=[Extension("hpy09proj.fast", ["fast.c"],
                                 extra_compile_args=["-Wno-cast-function-type"])])
"""


@pytest.fixture(scope="module")
def hpy09_wheel(hpy09_python, tmp_path_factory):  # noqa: F811  (the fixture imported above)
    project = tmp_path_factory.mktemp("hpy09proj")
    (project / "hpy09proj").mkdir()
    (project / "hpy09proj" / "__init__.py").write_text("")
    (project / "fast.c").write_text(SOURCE % dict(name="fast"))
    (project / "setup.py").write_text(HPY09_SETUP)
    built = _run([hpy09_python, "setup.py", "--hpy-abi=universal", "bdist_wheel"], project)
    assert built.returncode == 0, "HPy 0.9.0 could not build the wheel:\n" + built.stdout
    wheels = list((project / "dist").glob("*.whl"))
    assert len(wheels) == 1, built.stdout
    return wheels[0]


@pytest.fixture(scope="module")
def stub_python(tmp_path_factory):
    """A venv without HPy 0.9, whose setuptools still has pkg_resources (the stubs of
    HPy 0.9's wheels import it); hpy-build comes from PYTHONPATH."""
    venv = tmp_path_factory.mktemp("stub-venv")
    created = _run([sys.executable, "-m", "venv", venv], venv)  # ensurepip: no network
    assert created.returncode == 0, created.stdout
    python = venv / "bin" / "python"
    has = _run([python, "-c", "import pkg_resources"], venv)
    if has.returncode != 0:
        pytest.skip("this CPython's ensurepip brings no setuptools with pkg_resources, which the "
                    "import stubs of HPy 0.9's wheels need:\n" + has.stdout[-500:])
    return python


def test_wheel_built_by_hpy09_imports_through_load_bootstrap(hpy09_wheel, stub_python, tmp_path):
    installed = _run([stub_python, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet",
                      hpy09_wheel], tmp_path)
    assert installed.returncode == 0, installed.stdout
    probe = ("import hpy.universal, hpy09proj.fast as m\n"
             "print(m.answer(), m.__name__, m.ctx_name(), hpy.universal.__file__)")
    missing = _run([stub_python, "-c", "import hpy"], tmp_path)
    assert missing.returncode != 0, "HPy 0.9 must be absent from this venv"
    env = _clean_env(PYTHONPATH=REPO_ROOT, HPY="fast:trace", HPY_LOG="1")
    result = _run([stub_python, "-c", probe], tmp_path, env=env)
    assert result.returncode == 0, result.stdout
    log, line = result.stdout.splitlines()[-2:]
    assert log == "Loading 'hpy09proj.fast' in HPy universal mode with a trace context"
    assert line == "42 hpy09proj.fast %s %s" % (TRACE_CTX, os.path.join(REPO_ROOT, "hpy", "universal.py"))


# ---- a project with HPy 0.9's usual conftest.py ---------------------------------

PROJECT_CONFTEST = "from hpy.debug.pytest import *\n"

PROJECT_TEST = """
import os
import pytest
from hpy.debug import LeakDetector

HERE = os.path.dirname(os.path.abspath(__file__))


def load(mode):
    import hpy.universal
    import importlib.util
    path = os.path.join(HERE, "fast.hpy0.so")
    spec = importlib.util.spec_from_file_location("fast", path)
    return hpy.universal.load("fast", path, spec, mode=mode)


def test_answer(hpy_debug):
    from hpy.universal import MODE_DEBUG
    assert load(MODE_DEBUG).answer() == 42


def test_trace():
    from hpy.trace import get_call_counts
    from hpy.universal import MODE_TRACE
    before = get_call_counts()["ctx_Long_FromInt64_t"]
    assert load(MODE_TRACE).answer() == 42
    assert get_call_counts()["ctx_Long_FromInt64_t"] == before + 1


def test_leak_detector():
    with LeakDetector():
        assert load(0).answer() == 42
"""


def test_project_with_hpy09_conftest_runs_its_suite(hpy_compiler, build_python, tmp_path):  # noqa: F811
    """In a venv where hpy-build's wheel is installed (and HPy 0.9 is not)."""
    project = tmp_path / "project"
    project.mkdir()
    built = hpy_compiler.compile(SOURCE % dict(name="fast"), "universal", "fast", tmp_path / "build")
    shutil.copy(str(built), str(project / "fast.hpy0.so"))
    (project / "conftest.py").write_text(PROJECT_CONFTEST)
    (project / "test_fast.py").write_text(textwrap.dedent(PROJECT_TEST))
    where = _run([build_python, "-c", "import hpy.debug; print(hpy.debug.__file__)"], project)
    assert where.returncode == 0 and "site-packages" in where.stdout, where.stdout
    result = _run([build_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_fast.py"], project)
    assert result.returncode == 0, result.stdout
    assert "3 passed" in result.stdout, result.stdout


# ---- an interpreter that bundles its own hpy ------------------------------------

PYPY_PROBE = """
import sys
sys.path.append(%r)  # where site-packages would be: after the interpreter's own paths
import hpy.universal, hpy.devel, hpy.trace
print(hpy.universal.__file__)
print(hpy.devel.__file__)
print(hpy.trace.__file__)
try:
    hpy.trace.get_call_counts()
except ImportError as e:
    print("ImportError:", e)
"""


def test_bundled_hpy_comes_first_on_pypy(tmp_path):
    pypy = shutil.which("pypy3")
    if pypy is None:
        pytest.skip("no pypy3 on this machine")
    bundled = _run([pypy, "-c", "import hpy.universal; print(hpy.universal.__file__)"], tmp_path)
    if bundled.returncode != 0:
        pytest.skip("this PyPy bundles no hpy package:\n" + bundled.stdout[-500:])
    result = _run([pypy, "-c", PYPY_PROBE % REPO_ROOT], tmp_path)
    assert result.returncode == 0, result.stdout
    universal, devel, trace, error = result.stdout.splitlines()
    # PyPy's own universal runtime and build support, merged with the names it lacks
    assert universal == bundled.stdout.strip()
    assert not devel.startswith(REPO_ROOT)
    assert trace == os.path.join(REPO_ROOT, "hpy", "trace", "__init__.py")
    # the checkout's in-place build is CPython's: PyPy's cffi runtime is not built there
    assert error.startswith("ImportError: hpy-build's cffi universal runtime is not built here")
