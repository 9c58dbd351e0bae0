"""Compile C snippets against hpy.h with the real compiler, in either ABI.

Shared helper and runtime sources are compiled once per ABI and session;
each snippet then costs one compile and one link.
"""
import importlib.util
import json
import os
import shlex
import subprocess
import sys
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


ON_PYPY = sys.implementation.name == "pypy"
_ALL_ABIS = ("cpython", "universal", "hybrid")


def selected_abis():
    """(the ABIs the ABI-parametrized tests run in, why).

    HPY_BUILD_TEST_ABIS (comma-separated) chooses; by default every ABI on
    CPython, and only the universal one on PyPy: there the CPython and hybrid
    ABIs would go through cpyext, which is PyPy's emulation of the C API and
    not hpy-build's runtime (.ci/pypy-tests)."""
    chosen = os.environ.get("HPY_BUILD_TEST_ABIS", "").replace(" ", "")
    if chosen:
        abis = tuple(chosen.split(","))
        unknown = [abi for abi in abis if abi not in _ALL_ABIS]
        if unknown:
            raise pytest.UsageError("HPY_BUILD_TEST_ABIS: unknown ABI %s (use %s)"
                                    % (", ".join(unknown), ", ".join(_ALL_ABIS)))
        return abis, "HPY_BUILD_TEST_ABIS"
    if ON_PYPY:
        return ("universal",), "the default on PyPy: its CPython ABI is cpyext"
    return _ALL_ABIS, "the default on CPython"


# ---- true differences of PyPy, each with its reason ----------------------------

class _NoCount:
    """PyPy's answer to refcount(): equal to any count, and any arithmetic on it
    gives it back, so reference-count checks hold trivially there."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __add__(self, other):
        return self

    __radd__ = __sub__ = __rsub__ = __add__

    def __abs__(self):
        return 0

    def __ge__(self, other):
        return True

    __le__ = __gt__ = __lt__ = __ge__

    def __repr__(self):
        return "<no reference count on PyPy>"

    __hash__ = object.__hash__


def _no_refcount(obj):
    return _NoCount()


# sys.getrefcount itself on CPython (a wrapper's frame would hold one more
# reference). PyPy has no reference counts (its GC finds what is alive): there
# the answer equals any count, so a test's reference-count checks hold
# trivially and the rest of the test still runs; a test about nothing but a
# count is marked ``needs_refcounts``.
refcount = _no_refcount if ON_PYPY else sys.getrefcount


def pypy_cannot(reason):
    """Skip a test on PyPy, which cannot do what it checks at all; the reason
    says why (pytest -ra lists it)."""
    return pytest.mark.skipif(ON_PYPY, reason="PyPy: " + reason)


needs_refcounts = pypy_cannot("no reference counts, and this test checks nothing else")


# PyPy 3.9 takes a buffer from a Python-level exporter through __buffer__, whose
# memoryview names the runtime's raw buffer as .obj, not the exporter; and the
# exporter's bf_releasebuffer runs when that view is collected (free_dropped)
VIEWS_NAME_THEIR_EXPORTER = not ON_PYPY


def allocated_blocks():
    """sys.getallocatedblocks() on CPython; PyPy has no such count (its GC owns the
    memory): there, as refcount(), a value any check holds for."""
    if ON_PYPY:
        return _NoCount()
    return sys.getallocatedblocks()


def gc_tracks(obj):
    """gc.is_tracked(obj) on CPython; PyPy's GC tracks every object and has no such
    function."""
    if ON_PYPY:
        return True
    import gc
    return gc.is_tracked(obj)


def collect():
    """gc.collect(): on CPython the number of objects it freed; PyPy's returns None,
    and there it is a count any check holds for."""
    import gc
    found = gc.collect()
    return _NoCount() if found is None else found


# ---- what the cffi runtime (hpy_build/runtime/pypy) does not do yet ---------------

# The cffi runtime runs the universal ABI's tests on PyPy, and on CPython with
# HPY_BUILD_RUNTIME=cffi. Each gap below is a strict xfail of the universal test
# there (the conftest adds it): the day one is fixed, its test says so.
CFFI_RUNTIME = ON_PYPY or os.environ.get("HPY_BUILD_RUNTIME") == "cffi"
_BUFFERS_BEFORE_PEP688 = not ON_PYPY and sys.version_info < (3, 12)
CFFI_GAPS = {
    "test_api_gc.py::test_referents_are_the_fields":
        None if ON_PYPY else "gc.get_referents() shows the Python side, not tp_traverse",
    "test_api_objects.py::test_dup_makes_a_new_reference_and_close_releases_it":
        None if ON_PYPY else "HPy_Close is queued: the reference goes when the C function returns",
}
for _name in ("test_memoryview_is_zero_copy", "test_buffer_consumers", "test_getbuffer_error",
              "test_python_subclass_keeps_buffer", "test_many_views_no_leak"):
    CFFI_GAPS["test_api_buffer.py::" + _name] = _BUFFERS_BEFORE_PEP688 and (
        "a type's buffer is its __buffer__, which CPython reads only from 3.12 (PEP 688)") or None


# CPython's error messages that PyPy words otherwise, where the runtime passes
# the operation on to PyPy itself (the regex a test matches: CPython's | PyPy's)
_PYPY_WORDS = {
    "takes no keyword arguments": "got an unexpected keyword argument",
    "bad operand type": "unsupported operand type",
}


def message(cpython_words):
    """The regex an error message is matched with: CPython's words, or on PyPy
    also PyPy's own for the same error (see _PYPY_WORDS)."""
    if ON_PYPY and cpython_words in _PYPY_WORDS:
        return "%s|%s" % (cpython_words, _PYPY_WORDS[cpython_words])
    return cpython_words


def free_dropped():
    """Free the objects nothing refers to any more. CPython did so when their
    last reference went (and frees cycles only in gc.collect(), which tests
    call themselves); PyPy frees any object only at a collection, which
    __del__ and weakref callbacks may need a second one to finish; and there
    the cffi runtime frees the slots of closed handles in batches (its close
    queue), so an object a C function closed may still be in the handle table."""
    if ON_PYPY:
        import gc
        from hpy_build._hpy_cffi import lib
        lib._hpy_pypy_flush_if_pending()
        for _ in range(3):
            gc.collect()


def capsule_type():
    """The type of capsules: CPython's PyCapsule; on PyPy (without cpyext there are
    no C-level capsules) the cffi runtime's stand-in, which HPyCapsule_New makes."""
    if ON_PYPY:
        from hpy_build.runtime.pypy.ctx_objects import Capsule
        return Capsule
    import datetime
    return type(datetime.datetime_CAPI)


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
