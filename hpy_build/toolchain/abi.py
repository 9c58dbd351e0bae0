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


def compile_helpers(compiler, abi, output_dir, debug=False):
    """Compile the helper sources of ``abi`` with ``compiler``; returns the objects.

    The one recipe for them: the plugin compiles them into a project's build,
    and hpy-build's own build into its static libraries (``static_libs``).
    """
    options = compile_options(abi)
    return compiler.compile(
        options["extra_sources"], output_dir=output_dir, macros=options["define_macros"],
        include_dirs=options["include_dirs"], debug=debug,
        extra_postargs=options["extra_compile_args"])


def helper_dependencies(abi):
    """Every file the helpers of ``abi`` are compiled from: sources and headers."""
    include = get_include()
    headers = [os.path.join(folder, name) for folder, _dirs, files in os.walk(include)
               for name in files if name.endswith(".h")]
    return sorted(headers) + list(compile_options(abi)["extra_sources"])


def static_lib_abis():
    """The ABIs hpy-build's own build makes a static library of helpers for.

    The cpython and hybrid helpers include ``Python.h``, so they are built
    only by a CPython, for itself."""
    return ABIS if sys.implementation.name == "cpython" else ("universal",)


def static_lib_name(abi):
    """The library name (``-l`` style) of ``abi``'s helpers.

    The cpython and hybrid libraries are compiled against one interpreter's
    ``Python.h``; their names carry its tag, so that a checkout or folder
    shared by several interpreters never hands one another's library.
    """
    check_abi(abi)
    if abi == "universal":
        return "hpy-build-helpers"
    # as a module binary's: 'hpy-build-helpers.cpython-311-x86_64-linux-gnu'
    return "hpy-build-helpers" + ext_suffix("cpython").rsplit(".", 1)[0]


def static_lib_path(abi, package_dir=_PACKAGE):
    """Where the static library of ``abi`` is, under the ``hpy_build`` package at
    ``package_dir``: in ``lib/<abi>/``, as HPy 0.9's are in ``hpy/devel/lib/<abi>/``."""
    name = static_lib_name(abi)
    filename = (name + ".lib") if sys.platform == "win32" else ("lib" + name + ".a")
    return os.path.join(package_dir, "lib", abi, filename)


def static_libs(abi):
    """``[path]`` of the static library of ``abi``'s helpers, or None when there is none."""
    if abi not in ABIS:
        return None
    path = static_lib_path(abi)
    return [path] if os.path.isfile(path) else None


def build_static_lib(compiler, abi, package_dir, build_temp, debug=False, force=False):
    """Compile ``abi``'s helpers into their static library under ``package_dir``.

    Used by hpy-build's setup.py with its ``build_ext`` compiler; skipped
    when the library is newer than every source and header. Returns its path.
    """
    try:
        from setuptools.modified import newer_group
    except ImportError:  # setuptools < 69
        from distutils.dep_util import newer_group
    target = static_lib_path(abi, package_dir)
    if not force and not newer_group(helper_dependencies(abi), target, "newer"):
        return target
    objects = compile_helpers(compiler, abi, os.path.join(build_temp, "hpy-lib-" + abi), debug)
    # The archiver adds to an existing archive: start afresh, so no member of
    # a helper source since removed stays in it.
    if os.path.exists(target):
        os.remove(target)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    compiler.create_static_lib(objects, static_lib_name(abi), output_dir=os.path.dirname(target),
                               debug=debug)
    if not os.path.isfile(target):
        raise RuntimeError("the compiler wrote no %s" % target)
    return target


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
