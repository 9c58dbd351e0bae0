"""Builds hpy-build, including the universal runtime for CPython.

The headers live in ``include/`` at the top of the checkout (where authors and
tools expect them) and are installed as ``hpy_build/include``.
"""
import glob
import os
import platform

from setuptools import Extension, setup


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
    **cffi_options()
)
