"""hpy_build.universal.load on good and bad binaries: errors name the file."""
import shutil
import sys

import pytest

from hpy_build.universal import HPyABIError, load
from test_basic import MODULE

HAND_MADE_ENTRY_POINTS = r"""
#include "hpy.h"
HPyModuleDef moduledef = { .doc = "hand-made entry points" };
HPy_EXPORTED_FUNC uint32_t get_required_hpy_major_version_%(name)s(void) { return %(major)d; }
HPy_EXPORTED_FUNC uint32_t get_required_hpy_minor_version_%(name)s(void) { return %(minor)d; }
_HPy_HIDDEN HPyContext *_ctx_for_trampolines;
HPy_EXPORTED_FUNC void HPyInitGlobalContext_%(name)s(HPyContext *ctx) { _ctx_for_trampolines = ctx; }
%(init)s
"""


def _entry_points(name, major=0, minor=0, with_init=True):
    init = ("HPy_EXPORTED_FUNC HPyModuleDef *HPyInit_%s(void) { return &moduledef; }" % name
            if with_init else "")
    return HAND_MADE_ENTRY_POINTS % dict(name=name, major=major, minor=minor, init=init)


@pytest.fixture
def good_binary(hpy_compiler, tmp_path):
    return hpy_compiler.compile(MODULE, "universal", "mytest", tmp_path / "good")


def test_loads_a_good_binary(good_binary):
    module = load("mytest", good_binary)
    assert module.f_noargs() == 42
    assert module.__file__ == good_binary
    assert module.__name__ == "mytest"


def test_hand_made_entry_points_load(hpy_compiler, tmp_path):
    path = hpy_compiler.compile(_entry_points("handmade"), "universal", "handmade", tmp_path)
    assert load("handmade", path).__doc__ == "hand-made entry points"


@pytest.mark.parametrize("major, minor", [(1, 0), (0, 1), (7, 3)])
def test_unsupported_abi_version(hpy_compiler, tmp_path, major, minor):
    path = hpy_compiler.compile(_entry_points("badver", major, minor), "universal", "badver", tmp_path)
    with pytest.raises(HPyABIError) as info:
        load("badver", path)
    # ours (ImportError) and HPy 0.9's (RuntimeError), in HPy 0.9's words
    assert isinstance(info.value, ImportError) and isinstance(info.value, RuntimeError)
    # HPy 0.9's tests compare its words exactly; our advice is a note after them
    assert str(info.value) == (
        "HPy extension module 'badver' requires unsupported version of the HPy runtime. "
        "Requested version: %d.%d. Current HPy version: 0.0." % (major, minor))
    [note] = info.value.__notes__
    assert note.startswith(path + ": ") and "rebuild the module" in note
    assert info.value.path == path and info.value.name == "badver"


def test_missing_init_symbol(hpy_compiler, tmp_path):
    path = hpy_compiler.compile(_entry_points("noinit", with_init=False), "universal", "noinit", tmp_path)
    with pytest.raises(ImportError, match="does not export 'HPyInit_noinit'") as info:
        load("noinit", path)
    assert path in str(info.value)


def test_module_name_must_match_the_binary(good_binary):
    with pytest.raises(ImportError, match="get_required_hpy_major_version_othername"):
        load("othername", good_binary)


def test_binary_not_named_hpy0(good_binary, tmp_path):
    renamed = str(tmp_path / "mytest.so")
    shutil.copy(good_binary, renamed)
    with pytest.raises(HPyABIError) as info:
        load("mytest", renamed)
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == (
        "HPy extension module 'mytest' at path '%s': could not find HPy ABI tag encoded in the "
        "filename. The extension claims to be compiled with HPy ABI version: 0.0." % renamed)
    [note] = info.value.__notes__
    assert "name it like 'mytest.hpy0.so'" in note


def test_file_name_and_binary_disagree_on_major(good_binary, tmp_path):
    renamed = str(tmp_path / "mytest.hpy1.so")
    shutil.copy(good_binary, renamed)
    with pytest.raises(HPyABIError) as info:
        load("mytest", renamed)
    assert str(info.value) == (
        "HPy extension module 'mytest' at path '%s': mismatch between the HPy ABI tag encoded "
        "in the filename and the major version requested by the HPy extension itself. Major "
        "version tag parsed from filename: 1. Requested version: 0.0." % renamed)
    [note] = info.value.__notes__
    assert "a binary for ABI 0 is named .hpy0" in note
    assert isinstance(info.value, ImportError) and isinstance(info.value, RuntimeError)


def test_text_file_renamed_to_hpy0(tmp_path):
    fake = tmp_path / "fake.hpy0.so"
    fake.write_text("this is not a shared library\n")
    with pytest.raises(ImportError, match="cannot load HPy module") as info:
        load("fake", str(fake))
    assert str(fake) in str(info.value)


def test_missing_file(tmp_path):
    missing = str(tmp_path / "missing.hpy0.so")
    with pytest.raises(ImportError, match="no HPy module binary") as info:
        load("missing", missing)
    assert missing in str(info.value)


def test_hybrid_binary_for_another_cpython(good_binary, tmp_path):
    renamed = str(tmp_path / "mytest.hpy0-cp27.so")
    shutil.copy(good_binary, renamed)
    with pytest.raises(HPyABIError, match="hybrid-ABI binary for cp27") as info:
        load("mytest", renamed)
    assert isinstance(info.value, ImportError) and isinstance(info.value, RuntimeError)


def test_other_load_errors_are_not_abi_errors(tmp_path):
    missing = str(tmp_path / "missing.hpy0.so")
    with pytest.raises(ImportError) as info:
        load("missing", missing)
    assert not isinstance(info.value, HPyABIError)


@pytest.mark.parametrize("size, message", [
    (16, "Module state is not supported yet in HPy, set HPyModuleDef.size = 0 if module "
         "state is not needed"),
    (-1, "HPy does not permit HPyModuleDef.size < 0"),
])
def test_module_def_with_state_is_refused(hpy_compiler, tmp_path, size, message):
    source = MODULE.replace('.doc = "a test module"', '.doc = "a test module", .size = %d' % size)
    path = hpy_compiler.compile(source, "universal", "mytest", tmp_path)
    with pytest.raises(SystemError) as info:
        load("mytest", path)
    assert str(info.value).startswith(message)
    assert "mytest" in str(info.value)


def test_hybrid_binary_loads_and_may_use_the_c_api(hpy_compiler, tmp_path):
    source = MODULE.replace('#include "hpy.h"', '#include "hpy.h"\n#include <Python.h>')
    path = hpy_compiler.compile(source, "hybrid", "mytest", tmp_path)
    assert path.endswith(".hpy0-cp%d%d.so" % sys.version_info[:2])
    assert load("mytest", path).f_o(4) == 8


def test_import_attributes_are_set_as_an_import_sets_them(good_binary):
    import importlib.machinery
    spec = importlib.machinery.ModuleSpec("pkg.mytest", None, origin=good_binary)
    # the module's short name must be the binary's; the package comes from the spec
    module = load("pkg.mytest", good_binary, spec)
    assert module.__name__ == "pkg.mytest"
    assert module.__spec__ is spec
    assert module.__package__ == "pkg"
    assert module.__loader__ is None
    assert module.__file__ == good_binary
    plain = load("mytest", good_binary)
    assert plain.__package__ == "" and plain.__spec__.name == "mytest"
    assert plain.__spec__.origin == good_binary


def test_exported_names():
    import hpy_build.universal as universal
    assert set(universal.__all__) == {"load", "HPyABIError"}
    assert issubclass(universal.HPyABIError, ImportError)
    assert issubclass(universal.HPyABIError, RuntimeError)
