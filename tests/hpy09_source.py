"""The hpy 0.9.0 sdist from the package index: HPy's own tests and example projects."""
import sys
import tarfile

import pytest

from test_hpy09_compat import NETWORK_ERRORS, _run

VERSION = "0.9.0"


def pip(python, *args, cwd):
    """``python -m pip ARGS``; skips the test when the package index is unreachable."""
    args = [str(arg) for arg in args]
    result = _run([python, "-m", "pip", "--disable-pip-version-check"] + args, cwd)
    if result.returncode != 0:
        if NETWORK_ERRORS.search(result.stdout):
            pytest.skip("the package index is unreachable: pip %s failed with:\n%s"
                        % (" ".join(args), result.stdout[-2000:]))
        pytest.fail("pip %s failed:\n%s" % (" ".join(args), result.stdout))
    return result


def download(where):
    """Extract the sdist into ``where``; return its top folder."""
    pip(sys.executable, "download", "--no-deps", "--no-binary", ":all:", "-d", where,
        "hpy==" + VERSION, cwd=where)
    with tarfile.open(str(where / ("hpy-%s.tar.gz" % VERSION))) as sdist:
        sdist.extractall(str(where))
    return where / ("hpy-" + VERSION)
