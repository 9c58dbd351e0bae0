import itertools

import pytest

from support import CFFI_GAPS, CFFI_RUNTIME, HPyCompiler, import_binary, selected_abis

_counter = itertools.count()

# The parameters of the ABI fixtures below (hpy_abi, legacy_abi, and the
# overrides of hpy_abi in test files) that name an ABI outside
# HPY_BUILD_TEST_ABIS are deselected: pytest counts them in its summary and the
# header says why.
_ABI_FIXTURES = ("hpy_abi", "legacy_abi")


def pytest_report_header(config):
    abis, why = selected_abis()
    return "hpy-build test ABIs: %s (%s)" % (", ".join(abis), why)


def pytest_terminal_summary(terminalreporter, config):
    note = getattr(config, "_hpy_build_abi_note", None)
    if note:  # also under -q, which hides the header
        terminalreporter.write_line(note)


def pytest_collection_modifyitems(config, items):
    abis, _why = selected_abis()
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(name in params and params[name] not in abis for name in _ABI_FIXTURES):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        config._hpy_build_abi_note = "hpy-build: %d tests of other ABIs deselected: ran %s (%s)" % (
            len(drop), ", ".join(abis), _why)
    if CFFI_RUNTIME:
        for item in keep:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if params.get("hpy_abi") != "universal":
                continue
            base = item.nodeid.rpartition("/")[2]
            reason = CFFI_GAPS.get(base) or CFFI_GAPS.get(base.partition("[")[0])
            if reason:
                item.add_marker(pytest.mark.xfail(reason="cffi runtime: " + reason, strict=True))


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
