from hpy_build.toolchain import abi as _abi
from hpy_build.api.table import ABI_MAJOR as HPY_ABI_VERSION  # noqa: F401
from hpy_build.api.table import ABI_MINOR as HPY_ABI_VERSION_MINOR  # noqa: F401
from hpy_build.api.table import ABI_TAG as HPY_ABI_TAG  # noqa: F401


def get_hpy_ext_suffix(hpy_abi, ext_suffix=None):
    return _abi.ext_suffix(hpy_abi)
