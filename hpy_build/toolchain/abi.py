"""What each HPy ABI means to the compiler and to the file system.

The setuptools plugin, the test-suite and the runtime's own build all take
their compiler settings from here, so an extension compiled by any of them
sees the same headers, macros and helper sources.
"""
import os
import sys
import sysconfig

from hpy_build.api.table import ABI_TAG

ABIS = ("cpython", "universal", "hybrid")

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class UnknownABIError(ValueError):
    def __init__(self, abi, where="hpy-abi"):
        super().__init__(
            "unknown %s %r: choose one of %s" % (where, abi, ", ".join(ABIS)))


def check_abi(abi, where="hpy-abi"):
    if abi not in ABIS:
        raise UnknownABIError(abi, where)
    return abi


def get_include():
    """The directory holding ``hpy.h``."""
    installed = os.path.join(_PACKAGE, "include")  # inside a wheel
    if os.path.exists(os.path.join(installed, "hpy.h")):
        return installed
    return os.path.join(os.path.dirname(_PACKAGE), "include")  # a source checkout


def _c_files(*folder):
    folder = os.path.join(_PACKAGE, *folder)
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".c"))


def helper_sources():
    """ABI-neutral helpers compiled into every extension (HPyArg_Parse, ...)."""
    return _c_files("helpers")


def runtime_sources():
    """CPython implementations of the context functions that are not inline.

    Compiled into every CPython-ABI extension and into the universal runtime.
    """
    return _c_files("runtime", "cpython", "ctx")


def compile_options(abi):
    """Keyword arguments for ``setuptools.Extension`` to build in ``abi``."""
    check_abi(abi)
    include_dirs = [get_include()]
    sources = helper_sources()
    if abi == "cpython":
        macro = "HPY_ABI_CPYTHON"
        sources += runtime_sources()
    else:
        macro = "HPY_ABI_UNIVERSAL" if abi == "universal" else "HPY_ABI_HYBRID"
        if abi == "universal":
            # A Python.h that stops the build with an explanation.
            include_dirs.insert(0, os.path.join(get_include(), "hpy", "forbid_python_h"))
    extra = [] if sys.platform == "win32" else ["-fvisibility=hidden"]
    if abi != "cpython" and sys.platform != "win32":
        # For debug mode's creation sites: debug information (no run-time
        # cost) and no tail calls, so that the return address an API call
        # leaves is in the author's function, even for `return HPy_Add(...)`
        # (the cost: a call and a ret instead of a jump, at a context call).
        extra += ["-g", "-fno-optimize-sibling-calls"]
    return {
        # HPY marks every HPy extension in every ABI, as HPy 0.9's build does.
        "define_macros": [("HPY", None), (macro, None)],
        "include_dirs": include_dirs,
        "extra_sources": sources,
        # Only the entry points are exported: an HPyDef named like a libc
        # function (say 'warn') must not be interposed by it.
        "extra_compile_args": extra,
    }


def _shlib_ext():
    return ".pyd" if sys.platform == "win32" else ".so"


def ext_suffix(abi):
    """File name suffix of a module binary built for ``abi``."""
    check_abi(abi)
    if abi == "cpython":
        return sysconfig.get_config_var("EXT_SUFFIX")
    if abi == "universal":
        return "." + ABI_TAG + _shlib_ext()
    # hybrid: universal ABI plus the C API of one CPython, e.g. .hpy0-cp311.so
    soabi_tag = sys.implementation.cache_tag.replace("cpython-", "cp")
    return ".%s-%s%s" % (ABI_TAG, soabi_tag, _shlib_ext())
