"""``hpy.universal`` of HPy 0.9, answered by hpy-build's runtime.

So that HPy 0.9 projects, their tests and the import stubs of wheels built by
HPy 0.9's toolchain run unchanged with hpy-build installed instead of HPy.
hpy-build's own API is :mod:`hpy_build.universal`.
"""
import os

import hpy_build
from hpy_build import universal as _universal

MODE_UNIVERSAL = _universal.MODE_UNIVERSAL
MODE_DEBUG = _universal.MODE_DEBUG
MODE_TRACE = _universal.MODE_TRACE

__all__ = ["load", "get_version", "MODE_UNIVERSAL", "MODE_DEBUG", "MODE_TRACE"]


def load(name, path, spec, debug=False, mode=-1):
    """Load the universal binary ``path`` as module ``name`` (HPy 0.9's signature).

    A positive ``mode`` (``MODE_DEBUG``, ``MODE_TRACE``) wins; else
    ``debug=True`` means ``MODE_DEBUG``; else universal mode. Unlike :func:`hpy_build.universal.load`
    without ``mode``, the ``HPY`` environment variable is not consulted, as in HPy 0.9.
    """
    if mode is None or mode <= 0:  # as in HPy 0.9, only a positive mode overrides debug=
        mode = MODE_DEBUG if debug else MODE_UNIVERSAL
    return _universal.load(name, path, spec, mode=mode)


def _load_bootstrap(name, ext_name, package, file, loader, spec, env):
    """What the import stubs of HPy 0.9's universal wheels call.

    ``name`` is the module's name as HPy_MODINIT has it, ``ext_name`` the
    dotted name it is imported as; the mode comes from ``HPY`` in ``env``
    (the stub passes ``os.environ``), and ``HPY_LOG`` in ``env`` logs it.
    """
    mode = _universal.mode_from_environment(ext_name, env)
    if env is not os.environ and env.get("HPY_LOG") and not os.environ.get("HPY_LOG"):
        # hpy_build's load logs when os.environ asks
        print("Loading '%s' in HPy universal mode%s" % (ext_name, _universal._LOG_SUFFIX[mode]),
              flush=True)
    module = _universal.load(ext_name, file, spec, mode=mode)
    # as HPy 0.9 sets them, where the module takes attributes
    for attribute, value in (("__file__", file), ("__loader__", loader), ("__name__", ext_name),
                             ("__package__", package)):
        try:
            setattr(module, attribute, value)
        except AttributeError:
            pass
    return module


def get_version():
    """(version, git revision), as HPy 0.9's: hpy-build's version and no revision."""
    return hpy_build.__version__, ""


def __getattr__(name):
    # HPy 0.9's tests reach the modes' internals as hpy.universal._trace / _debug
    if name == "_trace":
        return _universal._runtime_of_mode(MODE_TRACE)._trace
    if name == "_debug":  # new_generation, get_open_handles, set_on_invalid_handle, ...
        import hpy_build.debug
        return hpy_build.debug
    raise AttributeError("module 'hpy.universal' has no attribute %r" % name)
