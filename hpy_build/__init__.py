"""hpy-build: write an extension once against hpy.h, ship it for every ABI."""

__version__ = "0.1.0"

from hpy_build.toolchain.abi import get_include  # noqa: E402

__all__ = ["__version__", "get_include"]
