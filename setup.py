"""Builds hpy-build, including the universal runtime for CPython.

The headers live in ``include/`` at the top of the checkout (where authors and
tools expect them) and are installed as ``hpy_build/include``.
"""
import glob
import platform

from setuptools import Extension, setup


def runtime_extension():
    sources = sorted(glob.glob("hpy_build/src/universal/*.c") + glob.glob("hpy_build/src/runtime/*.c"))
    return Extension(
        "hpy_build._universal",
        sources=sources,
        include_dirs=["include", "hpy_build/src/universal"],
        define_macros=[("HPY_ABI_CPYTHON", None)],  # the runtime is the CPython ABI behind pointers
        depends=glob.glob("include/**/*.h", recursive=True) + glob.glob("hpy_build/src/**/*.h", recursive=True),
    )


setup(
    packages=["hpy_build", "hpy_build.include", "hpy_build.src"],
    package_dir={"hpy_build.include": "include"},
    package_data={
        "hpy_build.include": ["*.h", "hpy/*.h", "hpy/*/*.h"],
        "hpy_build.src": ["*/*.c", "*/*.h"],
    },
    # PyPy gets its universal runtime from cffi, not from a C extension.
    ext_modules=[] if platform.python_implementation() == "PyPy" else [runtime_extension()],
)
