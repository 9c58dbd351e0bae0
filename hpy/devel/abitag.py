"""``hpy.devel.abitag`` of HPy 0.9: the ABI version and the binaries' file suffixes."""
import sysconfig

from hpy_build.api.table import ABI_MAJOR as HPY_ABI_VERSION
from hpy_build.api.table import ABI_MINOR as HPY_ABI_VERSION_MINOR
from hpy_build.api.table import ABI_TAG as HPY_ABI_TAG
from hpy_build.toolchain import abi as _abi

__all__ = ["HPY_ABI_VERSION", "HPY_ABI_VERSION_MINOR", "HPY_ABI_TAG", "parse_ext_suffix",
           "get_hpy_ext_suffix"]

# the first parts of an EXT_SUFFIX's middle part that name the ABI (the rest names the platform)
_ABI_PARTS = (("cpython", 2), ("cp", 1), ("pypy", 2), ("graalpy", 3))


def parse_ext_suffix(ext_suffix=None):
    """('cp311', 'so') for '.cpython-311-x86_64-linux-gnu.so' (the running one by default)."""
    if ext_suffix is None:
        ext_suffix = sysconfig.get_config_var("EXT_SUFFIX")
    if not ext_suffix.startswith(".") or ext_suffix.count(".") != 2:
        raise ValueError("not an extension suffix like '.cpython-311-x86_64-linux-gnu.so': %r"
                         % (ext_suffix,))
    _, soabi, ext = ext_suffix.split(".")
    parts = soabi.split("-")
    keep = next((n for prefix, n in _ABI_PARTS if parts[0].startswith(prefix)), len(parts))
    return "-".join(parts[:keep]).replace("cpython-", "cp"), ext


def get_hpy_ext_suffix(hpy_abi, ext_suffix=None):
    """The file suffix of a binary for ``hpy_abi``: '.hpy0.so' (universal),
    '.hpy0-cp311.so' (hybrid) or the interpreter's own (cpython)."""
    _abi.check_abi(hpy_abi)
    if hpy_abi == "cpython":
        return _abi.ext_suffix(hpy_abi)  # the running interpreter's, as in HPy 0.9
    if ext_suffix is None:
        return _abi.ext_suffix(hpy_abi)
    tag, ext = parse_ext_suffix(ext_suffix)
    if hpy_abi == "universal":
        return ".%s.%s" % (HPY_ABI_TAG, ext)
    return ".%s-%s.%s" % (HPY_ABI_TAG, tag, ext)
