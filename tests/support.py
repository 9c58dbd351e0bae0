"""Compile C snippets against hpy.h with the real compiler, in either ABI.

Shared helper and runtime sources are compiled once per ABI and session;
each snippet then costs one compile and one link.
"""
import importlib.util
import json
import os
import shlex
import subprocess
import sysconfig

import pytest
from setuptools import Distribution, Extension
from setuptools.command.build_ext import build_ext

from hpy_build.toolchain import abi as hpy_abi
from hpy_build.universal import load as load_universal

# Warnings are errors: the headers promise -Wall -Wextra -Werror cleanliness.
TEST_INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
# Extra compile and link flags for every test module, e.g. the sanitizers
# (.ci/sanitizers sets "-fsanitize=address,undefined ..."); tests only.
EXTRA_FLAGS = shlex.split(os.environ.get("HPY_BUILD_TEST_CFLAGS", ""))


class _BuildExt(build_ext):
    hpy_suffix = None

    def get_ext_filename(self, fullname):
        return fullname.replace(".", os.sep) + self.hpy_suffix


def _build(ext, abi, build_dir):
    dist = Distribution({"ext_modules": [ext], "script_name": "setup.py"})
    cmd = _BuildExt(dist)
    cmd.hpy_suffix = hpy_abi.ext_suffix(abi)
    cmd.build_lib = str(build_dir)
    cmd.build_temp = str(build_dir / "tmp")
    cmd.ensure_finalized()
    cmd.run()
    return os.path.join(str(build_dir), cmd.get_ext_filename(ext.name))


class HPyCompiler:
    def __init__(self, root):
        self.root = root
        self._objects = {}

    def shared_objects(self, abi):
        """Object files of the sources hpy_build adds to every extension of ``abi``."""
        if abi not in self._objects:
            from distutils.ccompiler import new_compiler
            from distutils.sysconfig import customize_compiler
            options = hpy_abi.compile_options(abi)
            compiler = new_compiler()
            customize_compiler(compiler)
            out = self.root / ("shared-" + abi)
            self._objects[abi] = compiler.compile(
                options["extra_sources"], output_dir=str(out),
                macros=options["define_macros"],
                include_dirs=options["include_dirs"] + [sysconfig.get_paths()["include"]],
                extra_postargs=WARNINGS + options["extra_compile_args"] + EXTRA_FLAGS)
        return self._objects[abi]

    def compile(self, source, abi, name, build_dir, cplusplus=None):
        """Build ``source`` as module ``name``; return the binary's path.

        ``cplusplus="c++11"`` compiles the source as C++ of that standard.
        """
        build_dir.mkdir(parents=True, exist_ok=True)
        suffix = ".cpp" if cplusplus else ".c"
        c_file = build_dir / (name.rpartition(".")[2] + suffix)
        c_file.write_text(source)
        options = hpy_abi.compile_options(abi)
        std = ["-std=" + cplusplus] if cplusplus else []
        ext = Extension(
            name, sources=[str(c_file)],
            define_macros=options["define_macros"],
            include_dirs=options["include_dirs"] + [TEST_INCLUDE],
            extra_objects=self.shared_objects(abi),
            extra_compile_args=WARNINGS + std + options["extra_compile_args"] + EXTRA_FLAGS,
            extra_link_args=EXTRA_FLAGS,
            language="c++" if cplusplus else None)
        return _build(ext, abi, build_dir)


def import_binary(name, path, abi):
    """Import a built binary the way a user of that ABI would.

    cpython: CPython's own extension loader; universal and hybrid: the
    runtime's loader, which the import stubs call.
    """
    hpy_abi.check_abi(abi)
    if abi == "cpython":
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load_universal(name, path)


# ---- the CPython ABI built for another interpreter --------------------------

_INTERPRETER_CONFIG = ("import json, sysconfig; print(json.dumps([sysconfig.get_paths()['include'], "
                       "sysconfig.get_config_var('EXT_SUFFIX')]))")


def each_pyenv_cpython():
    """pytest params, one per CPython 3.8-3.13 that pyenv provides."""
    from buildtools import pyenv_cpythons
    found = pyenv_cpythons()
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason="no CPython 3.8-3.13 under `pyenv root`/versions"), id="none")]
    return [pytest.param(python, id="cpython-" + version) for version, python in found]


def run_cpython_abi_module(python, source, probe, tmp_path):
    """Build ``source`` as the CPython-ABI module ``mytest`` for ``python``, then
    run ``probe`` there with the binary's path as ``sys.argv[1]``; its stdout as JSON."""
    config = subprocess.run([python, "-c", _INTERPRETER_CONFIG], check=True,
                            stdout=subprocess.PIPE, universal_newlines=True)
    include, suffix = json.loads(config.stdout)
    options = hpy_abi.compile_options("cpython")
    c_file = tmp_path / "mytest.c"
    c_file.write_text(source)
    binary = tmp_path / ("mytest" + suffix)
    command = (["cc", "-shared", "-fPIC", "-O1"] + WARNINGS + options["extra_compile_args"]
               + ["-D" + name for name, _ in options["define_macros"]]
               + ["-I" + d for d in options["include_dirs"] + [TEST_INCLUDE, include]]
               + [str(c_file)] + options["extra_sources"] + ["-o", str(binary)])
    compiled = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)
    assert compiled.returncode == 0, compiled.stdout
    result = subprocess.run([python, "-c", probe, str(binary)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# ---- a module used where a bug would crash the test run -------------------------

def run_isolated(hpy_compiler, abi, tmp_path, source, name, probe, env=None):
    """Build ``source`` as ``name`` in ``abi``, then run ``probe`` (Python code that
    finds the imported module as ``mod``) in a fresh interpreter: a memory error
    there is a failed test, not a dead test run. Returns the CompletedProcess."""
    import sys
    import textwrap
    path = hpy_compiler.compile(source, abi, name, tmp_path / ("isolated-" + name))
    here = os.path.dirname(os.path.abspath(__file__))
    code = ("import sys\nsys.path[:0] = [%r, %r]\nfrom support import import_binary\n"
            "mod = import_binary(%r, %r, %r)\n" % (here, os.path.dirname(here), name,
                                                   str(path), abi)
            + textwrap.dedent(probe))
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=full_env)
