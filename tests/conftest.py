import itertools

import pytest

from support import HPyCompiler, import_binary

_counter = itertools.count()


@pytest.fixture(scope="session")
def hpy09_sdist(tmp_path_factory):
    """The extracted hpy 0.9.0 sdist (its tests and example projects)."""
    import hpy09_source
    return hpy09_source.download(tmp_path_factory.mktemp("hpy09-sdist"))


@pytest.fixture(scope="session")
def hpy_compiler(tmp_path_factory):
    return HPyCompiler(tmp_path_factory.mktemp("hpy-objects"))


@pytest.fixture(params=["cpython", "universal"])
def hpy_abi(request):
    return request.param


def _compiler_for(hpy_compiler, abi, tmp_path):
    def compile_and_import(source, name="mytest"):
        build_dir = tmp_path / ("build%d" % next(_counter))
        path = hpy_compiler.compile(source, abi, name, build_dir)
        return import_binary(name, path, abi)
    return compile_and_import


@pytest.fixture
def compile_module(hpy_compiler, hpy_abi, tmp_path):
    """compile_module(source, name="mytest") -> the imported module, in hpy_abi."""
    return _compiler_for(hpy_compiler, hpy_abi, tmp_path)


@pytest.fixture(params=["cpython", "hybrid"])
def legacy_abi(request):
    """The ABIs where a module may also use the C API (Python.h, PyObject *)."""
    return request.param


@pytest.fixture
def compile_legacy_module(hpy_compiler, legacy_abi, tmp_path):
    """compile_legacy_module(source, name="mytest") -> the imported module, in legacy_abi."""
    return _compiler_for(hpy_compiler, legacy_abi, tmp_path)
