"""Builds hpy-build, including the universal runtime for CPython.

The headers live in ``include/`` at the top of the checkout (where authors and
tools expect them) and are installed as ``hpy_build/include``.
"""
import glob
import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from distutils import log
from distutils.ccompiler import CCompiler

# The checkout's own hpy_build, for the helper recipe shared with the plugin
# (build_meta does not put the project folder on sys.path).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hpy_build.toolchain import abi as hpy_abi  # noqa: E402


def runtime_extension():
    # The debug and trace contexts are runtime-neutral C (they compile themselves as the universal ABI).
    sources = sorted(glob.glob("hpy_build/runtime/cpython/*.c") + glob.glob("hpy_build/runtime/cpython/ctx/*.c")
                     + glob.glob("hpy_build/debug/src/*.c") + glob.glob("hpy_build/trace/src/*.c"))
    return Extension(
        "hpy_build._universal",
        sources=sources,
        include_dirs=["include", "hpy_build/runtime/cpython", "hpy_build/debug/src", "hpy_build/trace/src"],
        define_macros=[("HPY_ABI_CPYTHON", None)],  # the runtime is the CPython ABI behind pointers
        depends=(glob.glob("include/**/*.h", recursive=True) + glob.glob("hpy_build/runtime/**/*.h", recursive=True)
                 + glob.glob("hpy_build/debug/src/*.h") + glob.glob("hpy_build/trace/src/*.h")),
    )


class build_ext_with_static_libs(build_ext):
    """Also makes the static library of each ABI's helpers (HPy 0.9's
    ``hpy_use_static_libs``), with the compiler build_ext set up.

    Like the extensions, they are built under build_lib (so wheels ship them)
    and copied into the source tree by ``--inplace``.
    """

    def run(self):
        super().run()
        if not isinstance(self.compiler, CCompiler):
            # build_ext makes its compiler only when there are extensions
            log.warn("hpy-build: no compiler set up, so no static libraries of helpers")
            return
        for abi in hpy_abi.static_lib_abis():
            built = hpy_abi.build_static_lib(self.compiler, abi, os.path.join(self.build_lib, "hpy_build"),
                                             self.build_temp, debug=self.debug, force=self.force)
            if self.inplace:
                target = self._inplace_static_lib(abi)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                self.copy_file(built, target, level=self.verbose)

    def _inplace_static_lib(self, abi):
        package_dir = self.get_finalized_command("build_py").get_package_dir("hpy_build")
        return hpy_abi.static_lib_path(abi, os.path.abspath(package_dir))

    def _built_static_libs(self):
        return [hpy_abi.static_lib_path(abi, os.path.join(self.build_lib, "hpy_build"))
                for abi in hpy_abi.static_lib_abis()]

    def get_outputs(self):
        return super().get_outputs() + self._built_static_libs()

    def get_output_mapping(self):
        # what an editable install takes from build_lib into the source tree
        mapping = super().get_output_mapping()
        for abi, built in zip(hpy_abi.static_lib_abis(), self._built_static_libs()):
            mapping[built] = self._inplace_static_lib(abi)
        return mapping


def data_packages(package, folder, patterns):
    """{package name: patterns} for ``folder`` and each folder below it.

    Folders of data files (headers, C sources) are packages too as far as
    setuptools is concerned; listing them all keeps it from warning that
    they are "absent from the packages configuration".
    """
    found = {}
    for path, dirs, _files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        relative = os.path.relpath(path, folder)
        name = package if relative == "." else package + "." + relative.replace(os.sep, ".")
        found[name] = list(patterns)
    return found


package_data = dict(data_packages("hpy_build.include", "include", ["*.h"]),
                    **data_packages("hpy_build.helpers", "hpy_build/helpers", ["*.c"]),
                    **data_packages("hpy_build.runtime.cpython", "hpy_build/runtime/cpython", ["*.c", "*.h"]),
                    **data_packages("hpy_build.debug.src", "hpy_build/debug/src", ["*.c", "*.h"]),
                    # the trace mode's runtime-neutral C, for runtimes that compile it at run time (PyPy's)
                    **data_packages("hpy_build.trace.src", "hpy_build/trace/src", ["*.c", "*.h"]),
                    **{"hpy_build.runtime.pypy": ["*.c", "*.h"]})


def cffi_options():
    """The cffi runtime (hpy_build._hpy_cffi): always on PyPy, on CPython when cffi is there.

    On PyPy it is hpy-build's only extension, so the wheel is tagged for PyPy:
    a py3-none-any wheel in a wheelhouse would be picked by a CPython it has
    no runtime for."""
    try:
        import cffi  # noqa: F401
    except ImportError:
        return {}
    return {"cffi_modules": ["hpy_build/runtime/pypy/build_ffi.py:ffibuilder"]}


setup(
    packages=["hpy_build", "hpy_build.api", "hpy_build.toolchain", "hpy_build.runtime",
              "hpy_build.runtime.pypy", "hpy_build.debug", "hpy_build.trace"]
    + sorted(package_data)
    # HPy 0.9's module names over hpy-build's, for projects written for HPy 0.9. A
    # namespace package as in HPy 0.9, so an interpreter's bundled hpy (PyPy's) still wins.
    + ["hpy", "hpy.devel", "hpy.debug", "hpy.trace"],
    package_dir={"hpy_build.include": "include"},
    package_data=package_data,
    # PyPy gets its universal runtime from cffi, not from a C extension.
    ext_modules=[] if platform.python_implementation() == "PyPy" else [runtime_extension()],
    cmdclass={"build_ext": build_ext_with_static_libs},
    **cffi_options()
)
