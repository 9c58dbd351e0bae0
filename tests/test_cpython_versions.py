"""The CPython ABI on every CPython 3.8-3.13 found: the C API differs between
versions (PyMODINIT_FUNC's visibility, vectorcall names), so build for each."""
import json
import subprocess

import pytest

from buildtools import pyenv_cpythons
from hpy_build import abi as hpy_abi
from test_basic import MODULE

PROBE = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("mytest", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
print(json.dumps([mod.f_noargs(), mod.f_o(21), list(mod.f_varargs(1, 2)),
                  [list(part) for part in mod.f_keywords(1, b=2)]]))
"""

CONFIG = "import json, sysconfig; print(json.dumps([sysconfig.get_paths()['include'], " \
         "sysconfig.get_config_var('EXT_SUFFIX')]))"


def _params():
    found = pyenv_cpythons()
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason="no CPython 3.8-3.13 under `pyenv root`/versions"), id="none")]
    return [pytest.param(python, id="cpython-" + version) for version, python in found]


@pytest.mark.parametrize("python", _params())
def test_cpython_abi_builds_and_runs(python, tmp_path):
    include, suffix = json.loads(subprocess.run([python, "-c", CONFIG], check=True,
                                                capture_output=True, text=True).stdout)
    options = hpy_abi.compile_options("cpython")
    source = tmp_path / "mytest.c"
    source.write_text(MODULE)
    binary = tmp_path / ("mytest" + suffix)
    command = ["cc", "-shared", "-fPIC", "-O1", "-Wall", "-Wextra", "-Werror",
               *options["extra_compile_args"],
               *["-D" + name for name, _ in options["define_macros"]],
               *["-I" + d for d in options["include_dirs"]], "-I" + include,
               str(source), *options["extra_sources"], "-o", str(binary)]
    compiled = subprocess.run(command, capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr
    result = subprocess.run([python, "-c", PROBE, str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [42, 42, [1, 2], [[1, 2], ["b"]]]
