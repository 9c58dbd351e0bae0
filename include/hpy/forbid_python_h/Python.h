/* On the include path first, and only, in universal-ABI builds. */
#ifndef HPY_ABI_UNIVERSAL
#  error "Internal HPy error, something is wrong with your build system. The directory hpy/forbid_python_h has been added to the include_dirs but the target ABI does not seem to be 'universal' (hpy_build.abi.compile_options adds it for universal builds only)"
#endif
#error "It is forbidden to #include <Python.h> when targeting the HPy Universal ABI: the same binary must load on every CPython version and on PyPy, so it may only use hpy.h. Remove '#include <Python.h>', or build with --hpy-abi=hybrid (or cpython) if you need the C API."
