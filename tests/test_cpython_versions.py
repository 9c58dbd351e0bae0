"""The CPython ABI on every CPython 3.8-3.13 found: the C API differs between
versions (PyMODINIT_FUNC's visibility, vectorcall names), so build for each."""
import pytest

from support import each_pyenv_cpython, run_cpython_abi_module
from test_basic import MODULE

PROBE = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("mytest", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
print(json.dumps([mod.f_noargs(), mod.f_o(21), list(mod.f_varargs(1, 2)),
                  [list(part) for part in mod.f_keywords(1, b=2)]]))
"""

@pytest.mark.parametrize("python", each_pyenv_cpython())
def test_cpython_abi_builds_and_runs(python, tmp_path):
    assert run_cpython_abi_module(python, MODULE, PROBE, tmp_path) == [42, 42, [1, 2], [[1, 2], ["b"]]]
