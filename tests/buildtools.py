"""Helpers for the build-tooling tests: throwaway HPy projects, venvs, commands.

Test modules import the fixtures they use from here. Expensive things (the
hpy-build wheel, the build venv, shared wheels) are made once per session and
kept in ``_SESSION``, even though each importing module gets its own copy of
a fixture.
"""
import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LONG = 900  # upper bound for one command, so a hang fails instead of blocking

ON_CPYTHON = sys.implementation.name == "cpython"
requires_cpython = pytest.mark.skipif(
    not ON_CPYTHON, reason="the CPython ABI is only built and used on CPython")

_SESSION = {}


def once(key, make):
    """``make()`` the first time ``key`` is asked for in this session."""
    if key not in _SESSION:
        _SESSION[key] = make()
    return _SESSION[key]


# ------------------------------------------------------------------ commands

def clean_env(**extra):
    """This environment minus what would leak our own setup into the tools under test."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "PYTEST_", "PIP_FIND_LINKS", "PIP_NO_INDEX"))
           and key not in ("VIRTUAL_ENV", "__PYVENV_LAUNCHER__")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env.update(extra)
    return env


def run(cmd, cwd=None, env=None, check=True):
    """Run ``cmd`` with stdout and stderr together.

    With ``check``, a failure fails the test showing the command and its
    output; without, the CompletedProcess is returned for the test to judge.
    """
    result = subprocess.run(
        [str(part) for part in cmd], cwd=str(cwd) if cwd else None,
        env=env if env is not None else clean_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        timeout=LONG)
    if check and result.returncode != 0:
        pytest.fail("command failed (exit %d): %s\n%s" % (
            result.returncode, " ".join(str(p) for p in cmd), result.stdout[-8000:]),
            pytrace=False)
    return result


def venv_python(path):
    return os.path.join(str(path), "bin", "python")


def make_venv(path, python=sys.executable):
    """A venv that borrows this interpreter's packages (setuptools, pip, build).

    ``--without-pip``: a venv's own bundled setuptools may be older than the
    one hpy-build needs, and pip from the base install works in the venv.
    """
    run([python, "-m", "venv", "--system-site-packages", "--without-pip", path])
    if python == sys.executable:
        inherit_site_packages(path)
    return venv_python(path)


def inherit_site_packages(venv):
    """Let the venv at ``venv`` see the packages of the venv the tests run in.

    ``--system-site-packages`` of a venv made from a venv gives the base
    interpreter's packages only, not the test tools the test command
    installed into its own venv; a .pth file adds those.
    """
    import site
    if sys.prefix == sys.base_prefix:
        return
    ours = [p for p in site.getsitepackages() if os.path.isdir(p)]
    target = run([venv_python(venv), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                 ).stdout.strip().splitlines()[-1]
    with open(os.path.join(target, "_hpy_build_tests_parent.pth"), "w") as f:
        f.write("\n".join(ours) + "\n")


# ------------------------------------------------------- hpy-build itself

_COPY_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.so", "*.o", "*.a",
    "tests", "bench", "sample_ext")


def checkout_copy(tmp_path_factory):
    """A copy of the checkout to build hpy-build from, so the checkout is left alone."""
    def make():
        source = str(tmp_path_factory.mktemp("hpy-build-source") / "src")
        shutil.copytree(ROOT, source, ignore=_COPY_IGNORE)
        return source
    return once("checkout-copy", make)


def build_hpy_build_wheel(source, out_dir):
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         source, "-w", out_dir])
    found = [name for name in listdir(out_dir) if name.endswith(".whl")]
    assert len(found) == 1, found
    return os.path.join(str(out_dir), found[0])


@pytest.fixture(scope="session")
def hpy_build_wheel(tmp_path_factory):
    """Path of hpy-build's wheel; its folder serves as a find-links directory."""
    return once("hpy-build-wheel", lambda: build_hpy_build_wheel(
        checkout_copy(tmp_path_factory), tmp_path_factory.mktemp("hpy-build-wheel")))


def install_hpy_build(python, wheel):
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel])


@pytest.fixture(scope="session")
def build_python(tmp_path_factory, hpy_build_wheel):
    """A venv's python with hpy-build installed: its entry points are what
    makes ``setup(hpy_ext_modules=...)`` work."""
    def make():
        python = make_venv(tmp_path_factory.mktemp("build-venv") / "venv")
        install_hpy_build(python, hpy_build_wheel)
        return python
    return once("build-python", make)


@pytest.fixture
def fresh_python(tmp_path, hpy_build_wheel):
    """A venv of its own, with hpy-build, for tests that install things."""
    python = make_venv(tmp_path / "venv")
    install_hpy_build(python, hpy_build_wheel)
    return python


@pytest.fixture(scope="session")
def dependency_wheelhouse(tmp_path_factory):
    """Wheels of hpy-build's own requirements, for isolated builds without an index."""
    def make():
        path = tmp_path_factory.mktemp("dependency-wheels")
        result = run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                      "-d", path, "setuptools>=70.1", "packaging>=22"], check=False)
        return path if result.returncode == 0 else result.stdout
    path = once("dependency-wheels", make)
    if not os.path.isdir(str(path)):
        pytest.skip("cannot download setuptools/packaging for an isolated build:\n" + path[-2000:])
    return path


# ------------------------------------------------------------------ projects

# A module whose functions say what it was built with.
HPY_MODULE = textwrap.dedent("""\
    #include "hpy.h"

    #ifndef ANSWER
    #define ANSWER 42
    #endif

    HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
    static HPy answer_impl(HPyContext *ctx, HPy self)
    {
        return HPyLong_FromLong(ctx, ANSWER);
    }

    HPyDef_METH(abi, "abi", HPyFunc_NOARGS)
    static HPy abi_impl(HPyContext *ctx, HPy self)
    {
    #if defined(HPY_ABI_UNIVERSAL)
        return HPyUnicode_FromString(ctx, "universal");
    #elif defined(HPY_ABI_HYBRID)
        return HPyUnicode_FromString(ctx, "hybrid");
    #else
        return HPyUnicode_FromString(ctx, "cpython");
    #endif
    }

    static HPyDef *module_defines[] = { &answer, &abi, NULL };
    static HPyModuleDef moduledef = {
        .doc = "built by the hpy-build tests",
        .size = 0,
        .defines = module_defines,
    };

    HPy_MODINIT(MODNAME, moduledef)
    """)

PYPROJECT = textwrap.dedent("""\
    [build-system]
    requires = ["hpy-build"]
    build-backend = "hpy_build.backend"
    """)


def hpy_module_source(name, before=""):
    """C source of the test module ``name``; ``before`` goes first (e.g. a syntax error)."""
    return before + HPY_MODULE.replace("MODNAME", name)


def write_files(root, files):
    for relative, text in files.items():
        path = os.path.join(str(root), relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def make_project(root, name="mymod", package=None, source=None, setup_extra="",
                 preamble="", extra_files=None, dist_name="hpy-demo"):
    """A project building one HPy extension; returns its directory.

    With ``package``, the extension is ``<package>.<name>`` inside that package.
    """
    os.makedirs(str(root), exist_ok=True)
    ext_name = "%s.%s" % (package, name) if package else name
    c_file = "src/%s.c" % name
    files = {
        c_file: source if source is not None else hpy_module_source(name),
        "pyproject.toml": PYPROJECT,
        "setup.py": textwrap.dedent("""\
            from setuptools import Extension, setup
            {preamble}
            setup(
                name={dist_name!r},
                version="1.0",
                packages={packages!r},
                hpy_ext_modules=[Extension({ext_name!r}, [{c_file!r}])],
                {setup_extra}
            )
            """).format(preamble=preamble, dist_name=dist_name,
                        packages=[package] if package else [],
                        ext_name=ext_name, c_file=c_file, setup_extra=setup_extra),
    }
    if package:
        files[package + "/__init__.py"] = "from . import %s\n" % name
    files.update(extra_files or {})
    write_files(root, files)
    return root


def setup_py(python, project, *args, check=True):
    return run([python, "setup.py"] + list(args), cwd=project, check=check)


def describe_module(python, module, path_entry, cwd):
    """Import ``module`` in a fresh ``python`` with ``path_entry`` first on sys.path.

    Returns {"answer", "abi", "file"} as the module reports them.
    """
    code = ("import importlib, json\n"
            "m = importlib.import_module(%r)\n"
            "print(json.dumps({'answer': m.answer(), 'abi': m.abi(), 'file': m.__file__}))\n"
            % module)
    env = clean_env(PYTHONPATH=str(path_entry)) if path_entry else clean_env()
    output = run([python, "-c", code], cwd=cwd, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def ext_suffix(abi):
    """What the binary of ``abi`` is named, for the interpreter running the tests."""
    if abi == "cpython":
        return sysconfig.get_config_var("EXT_SUFFIX")
    if abi == "universal":
        return ".hpy0.so"
    return ".hpy0-cp%d%d.so" % sys.version_info[:2]


def wheel_files(wheel_path):
    """(member names, parsed METADATA) of a wheel."""
    with zipfile.ZipFile(str(wheel_path)) as archive:
        names = archive.namelist()
        metadata = [n for n in names if n.endswith(".dist-info/METADATA")]
        assert len(metadata) == 1, names
        text = archive.read(metadata[0]).decode("utf-8")
    return names, email.parser.Parser().parsestr(text)


def listdir(path):
    return sorted(os.listdir(str(path))) if os.path.isdir(str(path)) else []


# ------------------------------------------------------------ shared wheels

@pytest.fixture(scope="session")
def demo_wheels(tmp_path_factory, build_python):
    """The default ``build_wheel`` of a package project, called as a frontend would.

    Returns (wheel directory, basename the hook returned). Uses
    pyproject_hooks (what pip and build use) so the return value is visible.
    """
    def make():
        base = tmp_path_factory.mktemp("demo-wheels")
        project = make_project(base / "project", name="_native", package="hpydemo")
        out = base / "wheels"
        returned = call_backend(build_python, project, "build_wheel", str(out))
        return out, returned
    return once("demo-wheels", make)


def call_backend(python, project, hook, *args, config_settings=None):
    """Call a PEP 517 hook of hpy_build.backend with ``python``, in a subprocess."""
    from pyproject_hooks import BuildBackendHookCaller

    def runner(cmd, cwd=None, extra_environ=None):
        env = clean_env()
        env.update(extra_environ or {})
        result = run(cmd, cwd=cwd, env=env, check=False)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, cmd, result.stdout)

    caller = BuildBackendHookCaller(str(project), "hpy_build.backend",
                                    runner=runner, python_executable=python)
    kwargs = {"config_settings": config_settings} if config_settings is not None else {}
    return getattr(caller, hook)(*args, **kwargs)


def pyenv_cpythons():
    """(version, interpreter) for each CPython 3.8-3.13 that pyenv provides."""
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE,
                                  universal_newlines=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            root = None
    versions_dir = os.path.join(root or os.path.expanduser("~/.pyenv"), "versions")
    found = []
    if os.path.isdir(versions_dir):
        names = [n for n in os.listdir(versions_dir) if re.match(r"^3\.(8|9|1[0-3])\.\d+$", n)]
        for name in sorted(names, key=lambda n: tuple(int(part) for part in n.split("."))):
            python = os.path.join(versions_dir, name, "bin", "python")
            if os.access(python, os.X_OK):
                found.append((name, python))
    return found
