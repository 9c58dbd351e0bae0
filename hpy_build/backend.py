"""The PEP 517 backend, under the name projects put in ``build-backend``:

    [build-system]
    requires = ["hpy-build"]
    build-backend = "hpy_build.backend"

The implementation is :mod:`hpy_build.toolchain.backend`.
"""
from hpy_build.toolchain.backend import *  # noqa: F401,F403
from hpy_build.toolchain.backend import __all__  # noqa: F401
