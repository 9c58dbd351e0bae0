import hpy_build
from hpy_build.universal import load as _load

MODE_UNIVERSAL, MODE_DEBUG, MODE_TRACE = 0, 1, 2


def get_version():
    return hpy_build.__version__, ""


def load(name, path, spec=None, debug=False, mode=-1):
    if debug or mode in (MODE_DEBUG, MODE_TRACE):
        raise NotImplementedError("hpy-build has no debug or trace mode yet")
    return _load(name, path, spec)
