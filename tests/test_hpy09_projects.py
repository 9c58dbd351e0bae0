"""HPy 0.9.0's own example projects, unchanged, built by hpy-build and passing their tests.

Both come from the hpy 0.9.0 sdist on the package index and say
``setup_requires=['hpy', ...]``, so setuptools fetches HPy 0.9 into ``.eggs``
during the build and hpy-build has to take over from its ``hpy.devel``:

- ``proof-of-concept/``: C and C++ modules, one in a package, with a custom type;
- ``microbench/``: a custom-type HPy module next to a C-API module, plus a cffi
  module, so cffi's plugin wraps ``build_ext`` too.
"""
import os
import shutil
import sys

import pytest

from buildtools import fresh_python, hpy_build_wheel, run  # noqa: F401  (fixtures)
from test_hpy09_compat import NETWORK_ERRORS

pytestmark = pytest.mark.skipif(sys.implementation.name != "cpython",
                                reason="builds the CPython ABI too")

ABIS = ["cpython", "universal"]


def _copy(hpy09_sdist, name, tmp_path):
    project = tmp_path / name
    shutil.copytree(str(hpy09_sdist / name), str(project))
    return project


def _build_in_place(python, project, abi):
    result = run([python, "setup.py", "--hpy-abi=" + abi, "build_ext", "--inplace"],
                 cwd=project, check=False)
    if result.returncode != 0 and NETWORK_ERRORS.search(result.stdout):
        pytest.skip("the package index is unreachable for setup_requires:\n" + result.stdout[-2000:])
    assert result.returncode == 0, result.stdout[-8000:]
    assert "hpy/devel/src" not in result.stdout, "HPy 0.9's build_ext compiled its own sources"
    return result.stdout


def _binaries(project, abi):
    """The binaries the in-place build left in the source tree."""
    suffix = ".hpy0.so" if abi == "universal" else ".cpython-"
    found = []
    for folder, dirs, names in os.walk(str(project)):
        dirs[:] = [d for d in dirs if d not in ("build", ".eggs")]
        found += [os.path.relpath(os.path.join(folder, name), str(project))
                  for name in names if suffix in name]
    return sorted(found)


@pytest.mark.parametrize("abi", ABIS)
def test_proof_of_concept(hpy09_sdist, fresh_python, tmp_path, abi):
    project = _copy(hpy09_sdist, "proof-of-concept", tmp_path)
    _build_in_place(fresh_python, project, abi)
    built = _binaries(project, abi)
    assert [b.split(".")[0] for b in built] == ["pof", "pofcpp", "pofpackage/bar", "pofpackage/foo"], built
    tests = run([fresh_python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_pof.py"],
                cwd=project)
    assert " passed" in tests.stdout and "failed" not in tests.stdout, tests.stdout


@pytest.mark.parametrize("abi", ABIS)
def test_microbench(hpy09_sdist, fresh_python, tmp_path, abi):
    if not os.path.exists("/usr/include/valgrind/callgrind.h"):
        pytest.skip("microbench's cffi module needs valgrind's headers (apt-get install valgrind)")
    project = _copy(hpy09_sdist, "microbench", tmp_path)
    run([fresh_python, "-m", "pip", "install", "--quiet", "cffi"])  # its cffi module needs the backend
    _build_in_place(fresh_python, project, abi)
    assert "hpy_simple" in [b.split(".")[0] for b in _binaries(project, abi)]
    tests = run([fresh_python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--fast"], cwd=project)
    assert " passed" in tests.stdout and "failed" not in tests.stdout, tests.stdout
