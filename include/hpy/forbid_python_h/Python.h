/* On the include path first, and only, in universal-ABI builds. */
#ifndef HPY_ABI_UNIVERSAL
#  error "hpy-build: hpy/forbid_python_h is on the include path of a build that is not for the universal ABI; take it off (hpy_build.abi.compile_options adds it only for universal)"
#endif
#error "It is forbidden to #include <Python.h> when targeting the HPy Universal ABI: the same binary must load on every CPython version and on PyPy, so it may only use hpy.h. Remove '#include <Python.h>', or build with --hpy-abi=hybrid (or cpython) if you need the C API."
