/* On the include path only for universal-ABI builds. */
#error "Python.h cannot be used by a universal-ABI HPy module: the same binary must load on every CPython version and on PyPy, so it may only use hpy.h. Remove '#include <Python.h>', or build with --hpy-abi=cpython (or hybrid) if you need the C API."
