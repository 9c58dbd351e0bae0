"""Load universal-ABI HPy binaries (``<name>.hpy0.so``) into this interpreter.

    >>> from hpy_build.universal import load
    >>> mod = load("mypkg.mymod", "/path/to/mypkg/mymod.hpy0.so")

The import stubs that hpy-build writes next to each universal binary call
``load`` for you, so ``import mypkg.mymod`` just works.
"""
import importlib.machinery
import os
import re
import sys

# .hpy0.so (universal) or .hpy0-cp311.so (hybrid: also uses one CPython's C API)
_FILE_NAME = re.compile(r"\.hpy(?P<major>\d+)(?:-(?P<cpython>cp\d+))?\.(?:so|pyd)$")

__all__ = ["load"]


def _runtime():
    if sys.implementation.name != "cpython":
        raise ImportError(
            "hpy-build has no universal runtime for %s yet; build the module for the "
            "CPython ABI instead (pip install <project> -C hpy-abi=cpython), which runs "
            "through %s's C-API emulation" % (sys.implementation.name, sys.implementation.name))
    from hpy_build import _universal
    return _universal


def load(name, path, spec=None):
    """Load the universal binary at ``path`` as the module ``name`` and return it.

    ``spec`` is the module's ``importlib`` spec; without one, a spec is made
    whose origin is ``path``. The module is not put into ``sys.modules``.
    Raises ``ImportError`` naming the file when it is missing, misnamed, not
    an HPy module, or built for an ABI version this runtime does not support.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImportError("no HPy module binary at %s" % path, name=name, path=path)
    match = _FILE_NAME.search(os.path.basename(path))
    if match is None:
        raise ImportError(
            "%s is not named like a universal HPy module: expected a name such as "
            "'%s.hpy0.so' (build it with --hpy-abi=universal; CPython-ABI binaries "
            "are imported directly, without hpy_build)"
            % (path, name.rpartition(".")[2]), name=name, path=path)
    cpython_tag = match.group("cpython")
    if cpython_tag is not None:
        running = "cp%d%d" % sys.version_info[:2]
        if sys.implementation.name != "cpython" or cpython_tag != running:
            raise ImportError(
                "%s is a hybrid-ABI binary for %s and cannot load on %s %s; install "
                "the universal build instead" % (path, cpython_tag, sys.implementation.name, running),
                name=name, path=path)
    if spec is None:
        spec = importlib.machinery.ModuleSpec(name, None, origin=path)
    module = _runtime().load(name, path, spec, int(match.group("major")))
    module.__file__ = path
    return module
