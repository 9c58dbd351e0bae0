"""``hpy.devel`` of HPy 0.9, answered by hpy-build's toolchain.

Build scripts written for HPy 0.9 keep working: ``HPyDevel().fix_distribution(dist)``
hands a distribution's ``hpy_ext_modules`` to hpy-build's setuptools plugin,
and the ``get_*`` methods give hpy-build's headers, helper sources and
their prebuilt static libraries.
``setup(hpy_ext_modules=...)`` needs none of this: hpy-build's plugin handles it.
"""
import os
from pathlib import Path

from hpy_build.toolchain import abi as _abi
from hpy_build.toolchain import plugin as _plugin

from .abitag import get_hpy_ext_suffix  # noqa: F401  (HPy 0.9 exports it here)

DEFAULT_HPY_ABI = _plugin.DEFAULT_ABI

__all__ = ["HPyDevel", "handle_hpy_ext_modules", "DEFAULT_HPY_ABI"]


class HPyDevel:
    """Where hpy-build's headers and helper sources are, and the hook that
    makes a distribution build its ``hpy_ext_modules``."""

    def __init__(self, base_dir=None):
        # HPy 0.9 lays out include/ and src/runtime/ under base_dir; hpy-build
        # keeps its own layout, so base_dir is only remembered.
        self.base_dir = Path(base_dir) if base_dir is not None else Path(_abi.get_include()).parent
        self.include_dir = Path(_abi.get_include())
        self.src_dir = Path(os.path.dirname(_abi.helper_sources()[0]))

    def get_extra_include_dirs(self):
        """Include directories every HPy extension needs, in every ABI."""
        return [str(self.include_dir)]

    def get_include_dir_forbid_python_h(self):
        """A directory whose ``Python.h`` stops a universal build with an explanation."""
        return self.include_dir.joinpath("hpy", "forbid_python_h")

    def get_extra_sources(self):
        """The helper sources (argument parsing, BuildValue, ...) of every ABI."""
        return _abi.helper_sources()

    def get_ctx_sources(self):
        """The sources the CPython ABI also needs (the context functions that are not inline)."""
        return _abi.runtime_sources()

    def get_static_libs(self, hpy_abi):
        """``[path]`` of the static library of ``hpy_abi``'s helpers (and, for
        cpython, context functions), or None when there is none, as in HPy 0.9.

        hpy-build's own build makes them, for the Python building it.
        ``setup.py --hpy-use-static-libs ...`` (or ``dist.hpy_use_static_libs = True``)
        links it instead of compiling the sources above."""
        return _abi.static_libs(hpy_abi)

    def fix_distribution(self, dist):
        """Make ``dist`` build its ``hpy_ext_modules`` with hpy-build.

        An ABI chosen beforehand (``dist.hpy_abi = 'universal'``, as HPy 0.9's
        tests and some build scripts do) is kept.
        """
        abi = getattr(dist, "hpy_abi", None)
        modules = list(getattr(dist, "hpy_ext_modules", None) or [])
        _plugin.hpy_ext_modules(dist, "hpy_ext_modules", modules)
        if abi is not None:
            dist.hpy_abi = abi
        dist.hpydevel = self


def handle_hpy_ext_modules(dist, attr, hpy_ext_modules):
    """HPy 0.9's ``setup(hpy_ext_modules=...)`` hook: hpy-build's plugin."""
    _plugin.hpy_ext_modules(dist, attr, hpy_ext_modules)
