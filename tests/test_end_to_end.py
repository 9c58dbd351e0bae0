"""The whole chain, with real tools: hpy-build's wheel, an isolated PEP 517
build of sample_ext with it, both sample wheels installed into fresh venvs,
and the universal wheel on every other CPython that pyenv provides.

Slow steps live in module-scoped fixtures so each runs once.
"""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from buildtools import (  # noqa: F401  (fixtures)
    pyenv_cpythons,
    ROOT,
    clean_env,
    dependency_wheelhouse,
    hpy_build_wheel,
    run,
    venv_python,
    wheel_files,
)

SAMPLE_SRC = os.path.join(ROOT, "sample_ext")

RUNNING = "%d.%d" % sys.version_info[:2]
CP_TAG = "cp%d%d" % sys.version_info[:2]
PLATFORM_TAG = sysconfig.get_platform().replace("-", "_").replace(".", "_")
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")

# What the sample's test-suite needs in a venv, besides the wheels under test.
TEST_DEPENDENCIES = ["pytest", "setuptools>=70.1", "packaging>=22"]

_COPY_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.so", "*.o")


def copy_tree(src, dst, exclude=()):
    def ignore(folder, names):
        ignored = set(_COPY_IGNORE(folder, names))
        if os.path.abspath(folder) == os.path.abspath(src):
            ignored.update(name for name in names if name in exclude)
        return ignored
    shutil.copytree(src, str(dst), ignore=ignore)
    return dst


def build_hpy_build_wheel_with(python, source, out_dir):
    """``pip wheel`` hpy-build with ``python``: compiles the runtime for that version."""
    run([python, "-m", "pip", "wheel", "--no-deps", source, "-w", out_dir])
    wheels = [name for name in os.listdir(str(out_dir)) if name.endswith(".whl")]
    assert len(wheels) == 1, wheels
    return os.path.join(str(out_dir), wheels[0])


def make_venv(python, path):
    """A fresh venv with the sample's test dependencies; returns its python."""
    run([python, "-m", "venv", path])
    python_in_venv = venv_python(path)
    run([python_in_venv, "-m", "pip", "install", "--quiet"] + TEST_DEPENDENCIES)
    return python_in_venv


def install_offline(python_in_venv, wheel, find_links):
    run([python_in_venv, "-m", "pip", "install", "--no-index", "--find-links", find_links, wheel])


def run_sample_tests(python_in_venv, workdir, expected_abi, **env):
    """Run sample_ext's test-suite in the venv against the installed package.

    The tests are copied out of the source tree and run from there, so
    ``import hpy_sample`` can only find the installed copy. ``env`` adds
    environment variables (e.g. HPY=debug).
    """
    tests = os.path.join(str(workdir), "sample-tests")
    if not os.path.isdir(tests):
        copy_tree(os.path.join(SAMPLE_SRC, "tests"), tests)
    output = run([python_in_venv, "-m", "pytest", "-p", "no:cacheprovider", "-rs", tests],
                 cwd=workdir, env=clean_env(HPY_SAMPLE_EXPECTED_ABI=expected_abi, **env)).stdout
    summary = output.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 100, output[-3000:]
    assert "failed" not in summary and "error" not in summary, output[-3000:]
    return output


def installed_module_file(python_in_venv):
    code = ("import hpy_sample, hpy_sample._sample as m, sysconfig; "
            "print(hpy_sample.abi()); print(m.__file__); "
            "print(sysconfig.get_config_var('EXT_SUFFIX'))")
    output = run([python_in_venv, "-c", code], cwd=os.path.dirname(python_in_venv)).stdout
    abi, path, suffix = output.split()
    return abi, path, suffix


def undefined_symbols(binary_path):
    output = run(["nm", "-D", "--undefined-only", binary_path]).stdout
    return [line.split()[-1] for line in output.splitlines() if line.strip()]


def other_cpythons():
    """(version, interpreter) for each pyenv CPython 3.8-3.13 other than the running one."""
    return [(version, python) for version, python in pyenv_cpythons()
            if version.rpartition(".")[0] != RUNNING]


def _other_python_params():
    found = other_cpythons()
    if not found:
        return [pytest.param(None, None, marks=pytest.mark.skip(
            reason="no other CPython 3.8-3.13 under `pyenv root`/versions"), id="none")]
    return [pytest.param(version, python, id="cpython-" + version) for version, python in found]


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def e2e_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def hpy_build_source(e2e_dir):
    """A clean copy of the checkout, for building hpy-build with other interpreters."""
    return copy_tree(ROOT, e2e_dir / "hpy-build-src", exclude=("sample_ext", "bench", "tests"))


@pytest.fixture(scope="module")
def offline_pip_env(hpy_build_wheel, dependency_wheelhouse):
    """pip settings that resolve everything from local wheels only."""
    return clean_env(PIP_NO_INDEX="1", PIP_FIND_LINKS="%s %s" % (
        os.path.dirname(hpy_build_wheel), dependency_wheelhouse))


@pytest.fixture(scope="module")
def sample_dist(e2e_dir, offline_pip_env):
    """``python -m build`` of sample_ext in an isolated env fed from local wheels."""
    source = copy_tree(SAMPLE_SRC, e2e_dir / "sample-src")
    dist = e2e_dir / "dist"
    run([sys.executable, "-m", "build", source, "--outdir", dist], env=offline_pip_env)
    return dist


def _dist_files(dist):
    return sorted(os.listdir(str(dist)))


def _wheels_by_tag(dist):
    wheels = {}
    for name in _dist_files(dist):
        if name.endswith(".whl"):
            _name, _version, _build, tags = parse_wheel_filename(name)
            wheels[frozenset(tags)] = os.path.join(str(dist), name)
    return wheels


@pytest.fixture(scope="module")
def cpython_wheel(sample_dist):
    wheel = _wheels_by_tag(sample_dist).get(frozenset([Tag(CP_TAG, CP_TAG, PLATFORM_TAG)]))
    assert wheel, "no %s-%s-%s wheel in %s" % (CP_TAG, CP_TAG, PLATFORM_TAG, _dist_files(sample_dist))
    return wheel


@pytest.fixture(scope="module")
def universal_wheel(sample_dist):
    wheel = _wheels_by_tag(sample_dist).get(frozenset([Tag("py3", "none", PLATFORM_TAG)]))
    assert wheel, "no py3-none-%s wheel in %s" % (PLATFORM_TAG, _dist_files(sample_dist))
    return wheel


# ------------------------------------------------------------ sample source

@pytest.mark.parametrize("abi", ["cpython", "universal", "hybrid"])
def test_sample_source_is_warning_free(abi):
    from hpy_build.toolchain import abi as hpy_abi
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("gcc not found")
    options = hpy_abi.compile_options(abi)
    cmd = [compiler, "-fsyntax-only", "-Wall", "-Wextra", "-Werror"]
    if abi == "universal":
        cmd.append("-std=c99")  # Python.h itself is not strict-C99 clean; universal never sees it
    else:
        cmd.append("-I" + sysconfig.get_paths()["include"])
    cmd += ["-D%s" % name for name, _value in options["define_macros"]]
    cmd += ["-I" + folder for folder in options["include_dirs"]]
    run(cmd + [os.path.join(SAMPLE_SRC, "src", "sample.c")])


# ---------------------------------------------------------- hpy-build wheel

def test_hpy_build_wheel_ships_runtime_and_headers(hpy_build_wheel):
    name, version, _build, tags = parse_wheel_filename(os.path.basename(hpy_build_wheel))
    assert name == "hpy-build"
    assert Tag(CP_TAG, CP_TAG, PLATFORM_TAG) in tags
    with zipfile.ZipFile(hpy_build_wheel) as archive:
        names = set(archive.namelist())
    assert "hpy_build/_universal" + EXT_SUFFIX in names
    assert "hpy_build/include/hpy.h" in names
    for module in ("backend", "toolchain/plugin", "toolchain/backend", "toolchain/abi",
                   "universal", "runtime/elfcheck", "api/table"):
        assert "hpy_build/%s.py" % module in names


# ------------------------------------------------------- the sample's dist

def test_dist_holds_sdist_and_exactly_two_wheels(sample_dist):
    files = _dist_files(sample_dist)
    sdists = [name for name in files if name.endswith(".tar.gz")]
    wheels = [name for name in files if name.endswith(".whl")]
    assert len(sdists) == 1 and len(wheels) == 2 and len(files) == 3, files
    name, version = parse_sdist_filename(sdists[0])
    assert (name, str(version)) == ("hpy-sample", "0.1.0")
    tag_sets = set()
    for wheel in wheels:
        name, version, _build, tags = parse_wheel_filename(wheel)
        assert (name, str(version)) == ("hpy-sample", "0.1.0")
        tag_sets.add(frozenset(tags))
    assert tag_sets == {
        frozenset([Tag(CP_TAG, CP_TAG, PLATFORM_TAG)]),
        frozenset([Tag("py3", "none", PLATFORM_TAG)]),
    }


def test_sdist_has_the_sources(sample_dist):
    import tarfile
    sdist = [name for name in _dist_files(sample_dist) if name.endswith(".tar.gz")][0]
    with tarfile.open(os.path.join(str(sample_dist), sdist)) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in ("setup.py", "pyproject.toml", "src/sample.c", "hpy_sample/__init__.py",
                     "tests/test_sample.py"):
        assert required in names, sorted(names)
    assert not [name for name in names if name.endswith((".so", ".o"))]


def test_universal_wheel_contents(universal_wheel, tmp_path):
    names, metadata = wheel_files(universal_wheel)
    assert "hpy_sample/_sample.hpy0.so" in names
    assert "hpy_sample/_sample.py" in names
    assert "hpy_sample/__init__.py" in names
    assert not [n for n in names if re.search(r"\.cpython-\d+.*\.so$", n)], names
    requires = metadata.get_all("Requires-Dist") or []
    assert [r for r in requires if canonicalize_name(Requirement(r).name) == "hpy-build"], requires

    with zipfile.ZipFile(universal_wheel) as archive:
        stub = archive.read("hpy_sample/_sample.py").decode("utf-8")
        binary = archive.read("hpy_sample/_sample.hpy0.so")
        binary_path = tmp_path / "_sample.hpy0.so"
        binary_path.write_bytes(binary)
    assert "_sample.hpy0.so" in stub and "hpy_build.universal" in stub
    assert binary[:4] == b"\x7fELF"
    assert b"HPyInit__sample" in binary
    assert b"get_required_hpy_major_version__sample" in binary
    if shutil.which("nm"):
        # universal means: no dependency on any CPython's C API
        python_api = [s for s in undefined_symbols(binary_path) if re.match(r"_?Py[A-Z_]", s)]
        assert python_api == []


def test_cpython_wheel_contents(cpython_wheel):
    names, metadata = wheel_files(cpython_wheel)
    assert "hpy_sample/_sample" + EXT_SUFFIX in names
    assert "hpy_sample/__init__.py" in names
    assert not [n for n in names if ".hpy0" in n], names
    assert "hpy_sample/_sample.py" not in names
    requires = metadata.get_all("Requires-Dist") or []
    assert not [r for r in requires if canonicalize_name(Requirement(r).name) == "hpy-build"], requires
    with zipfile.ZipFile(cpython_wheel) as archive:
        binary = archive.read("hpy_sample/_sample" + EXT_SUFFIX)
    assert b"PyInit__sample" in binary
    assert b"HPyInit__sample" not in binary


# -------------------------------------------------- installs on this Python

def test_cpython_wheel_runs_alone_in_fresh_venv(cpython_wheel, e2e_dir):
    """The CPython-ABI wheel needs no hpy-build at run time."""
    workdir = e2e_dir / "venv-cpython-wheel"
    python_in_venv = make_venv(sys.executable, workdir / "venv")
    install_offline(python_in_venv, cpython_wheel, os.path.dirname(cpython_wheel))
    show = subprocess.run([python_in_venv, "-m", "pip", "show", "hpy-build"], env=clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert show.returncode != 0, "hpy-build got installed with the CPython-ABI wheel"
    abi, path, suffix = installed_module_file(python_in_venv)
    assert abi == "cpython" and path.endswith("_sample" + suffix)
    run_sample_tests(python_in_venv, workdir, "cpython")


def test_universal_wheel_in_fresh_venv(universal_wheel, hpy_build_wheel, e2e_dir):
    workdir = e2e_dir / "venv-universal-wheel"
    python_in_venv = make_venv(sys.executable, workdir / "venv")
    install_offline(python_in_venv, universal_wheel, os.path.dirname(hpy_build_wheel))
    abi, path, _suffix = installed_module_file(python_in_venv)
    assert abi == "universal" and path.endswith("_sample.hpy0.so")
    run_sample_tests(python_in_venv, workdir, "universal")
    # Debug mode: the same tests, each checked for open handles by the
    # sample's conftest (hpy-build's hpy_debug fixture).
    run_sample_tests(python_in_venv, workdir, "universal", HPY="debug")
    loaded = run([python_in_venv, "-c", "import hpy_sample._sample"], cwd=str(workdir),
                 env=clean_env(HPY="debug", HPY_LOG="1")).stdout
    assert "Loading 'hpy_sample._sample' in HPy universal mode with a debug context" in loaded


def test_pip_install_of_the_source_dir_picks_the_cpython_abi(offline_pip_env, e2e_dir):
    workdir = e2e_dir / "venv-pip-install-dir"
    source = copy_tree(SAMPLE_SRC, workdir / "sample-src")
    run([sys.executable, "-m", "venv", workdir / "venv"])
    python_in_venv = venv_python(workdir / "venv")
    run([python_in_venv, "-m", "pip", "install", source], env=offline_pip_env)
    abi, path, suffix = installed_module_file(python_in_venv)
    assert abi == "cpython"
    assert path.endswith("_sample" + suffix)
    package_dir = os.path.dirname(path)
    assert not [n for n in os.listdir(package_dir) if ".hpy0" in n or n == "_sample.py"]
    smoke = ("import hpy_sample as s; assert s.fib(90) == 2880067194370816120; "
             "assert s.greet('Ann', excited=True) == 'Hello, Ann!'; print('ok')")
    assert run([python_in_venv, "-c", smoke], cwd=workdir).stdout.strip() == "ok"


# ------------------------------------------- the same universal wheel elsewhere

@pytest.mark.parametrize("version, python", _other_python_params())
def test_universal_wheel_on_other_cpython(version, python, universal_wheel, hpy_build_source, e2e_dir):
    workdir = e2e_dir / ("other-" + version)
    runtime_wheel = build_hpy_build_wheel_with(python, hpy_build_source, workdir / "wheels")
    major, minor = version.split(".")[:2]
    _name, _version, _build, tags = parse_wheel_filename(os.path.basename(runtime_wheel))
    assert Tag("cp%s%s" % (major, minor), "cp%s%s" % (major, minor), PLATFORM_TAG) in tags
    python_in_venv = make_venv(python, workdir / "venv")
    install_offline(python_in_venv, universal_wheel, os.path.dirname(runtime_wheel))
    abi, path, _suffix = installed_module_file(python_in_venv)
    assert abi == "universal" and path.endswith("_sample.hpy0.so")
    run_sample_tests(python_in_venv, workdir, "universal")
    # Debug mode: the same tests, each checked for open handles by the
    # sample's conftest (hpy-build's hpy_debug fixture).
    run_sample_tests(python_in_venv, workdir, "universal", HPY="debug")
    loaded = run([python_in_venv, "-c", "import hpy_sample._sample"], cwd=str(workdir),
                 env=clean_env(HPY="debug", HPY_LOG="1")).stdout
    assert "Loading 'hpy_sample._sample' in HPy universal mode with a debug context" in loaded
