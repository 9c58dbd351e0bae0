"""hpy_build.universal.load on good and bad binaries: errors name the file."""
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import textwrap

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
    with pytest.raises(ImportError) as info:
        load("fake", str(fake))
    assert str(info.value) == (
        "Error during loading of the HPy extension module at path '%s'. The file is not a shared "
        "library this interpreter can load: it is not an ELF file (its first bytes are "
        "b'this is ')." % fake)
    assert info.value.path == str(fake) and info.value.name == "fake"
    [note] = info.value.__notes__
    assert note.startswith(str(fake) + ": rebuild or reinstall")


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
    # the file too, as a note
    assert info.value.__notes__ == ["while loading the HPy module 'mytest' from %s" % path]


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
    assert set(universal.__all__) == {"load", "HPyABIError", "MODE_UNIVERSAL", "MODE_DEBUG",
                                      "MODE_TRACE"}
    # HPy 0.9's hpy.universal values
    assert (universal.MODE_UNIVERSAL, universal.MODE_DEBUG, universal.MODE_TRACE) == (0, 1, 2)
    assert issubclass(universal.HPyABIError, ImportError)
    assert issubclass(universal.HPyABIError, RuntimeError)


# ---- errors from the module's definition and slots name the file ------------

BAD_SIGNATURE = r"""
#include "hpy.h"
/* made by hand: HPyDef_METH would not compile with a slot's signature */
static HPyDef bad = {
    .kind = HPyDef_Kind_Meth,
    .meth = { .name = "bad", .impl = NULL, .cpy_trampoline = NULL,
              .signature = HPyFunc_GETTER, .doc = NULL },
};
static HPyDef *module_defines[] = { &bad, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(bad_signature, moduledef)
"""

FAILING_EXEC = r"""
#include "hpy.h"
HPyDef_SLOT(exec_fail, HPy_mod_exec)
static int exec_fail_impl(HPyContext *ctx, HPy module)
{
    (void)module;
    HPyErr_SetString(ctx, ctx->h_ValueError, "exec refused");
    return -1;
}
static HPyDef *module_defines[] = { &exec_fail, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(exec_fails, moduledef)
"""

CREATE_RETURNS_A_MODULE = r"""
#include "hpy.h"
HPyDef_SLOT(create, HPy_mod_create)
static HPy create_impl(HPyContext *ctx, HPy spec)
{
    (void)spec;
    return HPyImport_ImportModule(ctx, "sys");
}
static HPyDef *module_defines[] = { &create, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };
HPy_MODINIT(creates_sys, moduledef)
"""


@pytest.mark.parametrize("source, name, error, message", [
    (BAD_SIGNATURE, "bad_signature", ValueError, "Unsupported HPyMeth signature"),
    (FAILING_EXEC, "exec_fails", ValueError, "exec refused"),
    (CREATE_RETURNS_A_MODULE, "creates_sys", SystemError,
     "HPy_mod_create slot returned a builtin module object."),
], ids=["bad-signature", "failing-exec", "bad-create"])
def test_module_errors_name_the_file(hpy_compiler, tmp_path, source, name, error, message):
    path = hpy_compiler.compile(source, "universal", name, tmp_path)
    with pytest.raises(error) as info:
        load(name, path)
    assert str(info.value).startswith(message)  # HPy 0.9's words (or the module's) first
    # any note of the runtime's, then the file's
    assert info.value.__notes__[-1] == "while loading the HPy module '%s' from %s" % (name, path)


def test_failed_loads_keep_no_reference(hpy_compiler, tmp_path):
    import gc
    import importlib.machinery
    path = hpy_compiler.compile(FAILING_EXEC, "universal", "exec_fails", tmp_path)
    spec = importlib.machinery.ModuleSpec("exec_fails", None, origin=path)
    for _ in range(3):  # the first load may cache
        with pytest.raises(ValueError):
            load("exec_fails", path, spec)
    gc.collect()
    before = sys.getrefcount(spec)
    for _ in range(10):
        with pytest.raises(ValueError) as info:
            load("exec_fails", path, spec)
        del info
    gc.collect()
    assert sys.getrefcount(spec) == before


# ---- the ELF check before dlopen ---------------------------------------------
# A damaged or foreign binary must be an ImportError saying what is wrong with
# it; dlopen of a truncated one dies with SIGBUS, so those load in a subprocess.

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LOAD_AND_REPORT = textwrap.dedent("""
    import sys
    sys.path.insert(0, %r)
    from hpy_build.universal import load
    try:
        load(sys.argv[1], sys.argv[2])
    except ImportError as error:
        print("ImportError", error.name, error.path, sep="\\n")
        print(error)
    else:
        print("loaded")
""" % ROOT)

WORD = struct.calcsize("P") * 8
# e_ident, then the fields used here (native byte order: the binaries are built here)
HEADER = "=16sHHI" + ("QQQIHHHHHH" if WORD == 64 else "IIIIHHHHHH")
PHDR = "=IIQQQQQQ" if WORD == 64 else "=IIIIIIII"
DYN = "=qQ" if WORD == 64 else "=iI"
PHDR_FIELDS = (["type", "flags", "offset", "vaddr", "paddr", "filesz", "memsz", "align"]
               if WORD == 64 else
               ["type", "offset", "vaddr", "paddr", "filesz", "memsz", "flags", "align"])


def _load_in_subprocess(name, path):
    """The lines load() reports in a fresh interpreter; a crash fails the test."""
    result = subprocess.run([sys.executable, "-c", LOAD_AND_REPORT, name, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=60)
    assert result.returncode == 0, "load() crashed the interpreter: %r" % result
    return result.stdout.splitlines()


class Elf:
    """A binary's bytes with its ELF header and program headers, to patch."""

    def __init__(self, path):
        self.data = bytearray(pathlib.Path(path).read_bytes())
        self.header = list(struct.unpack_from(HEADER, self.data))
        self.phoff, self.phentsize, self.phnum = self.header[5], self.header[9], self.header[10]

    def segments(self):
        return [dict(zip(PHDR_FIELDS, struct.unpack_from(PHDR, self.data,
                                                         self.phoff + i * self.phentsize)))
                for i in range(self.phnum)]

    def set_segment(self, number, **fields):
        segment = self.segments()[number]
        segment.update(fields)
        struct.pack_into(PHDR, self.data, self.phoff + number * self.phentsize,
                         *[segment[f] for f in PHDR_FIELDS])

    def dynamic(self):
        """[(file offset, tag, value)] of the dynamic section's entries."""
        segment = [s for s in self.segments() if s["type"] == 2][0]
        size = struct.calcsize(DYN)
        return [(at,) + struct.unpack_from(DYN, self.data, at)
                for at in range(segment["offset"], segment["offset"] + segment["filesz"], size)]

    def set_dynamic(self, tag, value, new_tag=None):
        at = [at for at, t, _ in self.dynamic() if t == tag][0]
        struct.pack_into(DYN, self.data, at, tag if new_tag is None else new_tag, value)

    def set_header(self, offset, fmt, *values):
        struct.pack_into("=" + fmt, self.data, offset, *values)

    def strip_section_headers(self):
        # e_shoff, then e_shentsize, e_shnum, e_shstrndx: what sstrip leaves
        shoff_at = 16 + 2 + 2 + 4 + 2 * WORD // 8
        self.set_header(shoff_at, "Q" if WORD == 64 else "I", 0)
        self.set_header(struct.calcsize(HEADER) - 6, "HHH", 0, 0, 0)

    def write(self, path, length=None):
        pathlib.Path(path).write_bytes(bytes(self.data[:length]))
        return str(path)


def _expect_refused(name, path, *what):
    lines = _load_in_subprocess(name, path)
    assert lines[:3] == ["ImportError", name, str(path)], lines
    message = "\n".join(lines[3:])
    prefix = ("Error during loading of the HPy extension module at path '%s'. The file is not a "
              "shared library this interpreter can load: " % path)
    assert message.startswith(prefix), message
    for words in what:
        assert words in message[len(prefix):], message
    return message[len(prefix):]


@pytest.mark.parametrize("length", [0, 3, 15, 63, 64, 200, 4096, 8192, "half", "all-but-one"])
def test_truncated_binary_is_an_import_error(good_binary, tmp_path, length):
    size = os.path.getsize(good_binary)
    length = {"half": size // 2, "all-but-one": size - 1}.get(length, length)
    truncated = Elf(good_binary).write(tmp_path / "mytest.hpy0.so", length)
    _expect_refused("mytest", truncated, "it is truncated", "(%d bytes)" % length
                    if length >= 64 else "the file has %d bytes" % length)


def test_truncated_binary_without_section_headers(good_binary, tmp_path):
    # dlopen reads no section headers: the segments alone must catch it
    elf = Elf(good_binary)
    elf.strip_section_headers()
    (tmp_path / "whole").mkdir()
    whole = elf.write(tmp_path / "whole" / "mytest.hpy0.so")
    assert _load_in_subprocess("mytest", whole) == ["loaded"]
    loads = [s for s in elf.segments() if s["type"] == 1]
    end = max(s["offset"] + s["filesz"] for s in loads)
    for length in [4096, 8192, end // 2, end - 1]:
        number = next(i for i, s in enumerate(elf.segments())
                      if s["type"] == 1 and s["offset"] + s["filesz"] > length)
        truncated = elf.write(tmp_path / ("mytest%d.hpy0.so" % length), length)
        _expect_refused("mytest%d" % length, truncated,
                        "its PT_LOAD segment %d (bytes " % number,
                        "lies past the end of the file (%d bytes): it is truncated" % length)


def test_segment_past_the_end_of_a_whole_file(good_binary, tmp_path):
    elf = Elf(good_binary)
    number = [i for i, s in enumerate(elf.segments()) if s["type"] == 1][-1]
    size = len(elf.data)
    elf.set_segment(number, filesz=size, memsz=2 * size)
    path = elf.write(tmp_path / "mytest.hpy0.so")
    _expect_refused("mytest", path, "its PT_LOAD segment %d" % number,
                    "lies past the end of the file (%d bytes)" % size)


def test_segment_with_more_file_than_memory(good_binary, tmp_path):
    elf = Elf(good_binary)
    number = [i for i, s in enumerate(elf.segments()) if s["type"] == 1][-1]
    elf.set_segment(number, memsz=elf.segments()[number]["filesz"] - 1)
    path = elf.write(tmp_path / "mytest.hpy0.so")
    _expect_refused("mytest", path, "its PT_LOAD segment %d has more bytes in the file" % number)


def test_dynamic_section_outside_the_loaded_segments(good_binary, tmp_path):
    elf = Elf(good_binary)
    number = [i for i, s in enumerate(elf.segments()) if s["type"] == 2][0]
    elf.set_segment(number, vaddr=1 << 40)
    path = elf.write(tmp_path / "mytest.hpy0.so")
    _expect_refused("mytest", path, "its PT_DYNAMIC segment %d (addresses 0x10000000000 to "
                    % number, "is not where a loadable segment puts bytes")


DT_NULL, DT_NEEDED, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT = 0, 1, 5, 6, 10, 11


@pytest.mark.parametrize("change, what", [
    (lambda elf: elf.set_dynamic(DT_STRTAB, 1 << 40),
     "its dynamic entry DT_STRTAB (address 0x10000000000, "),
    (lambda elf: elf.set_dynamic(DT_SYMTAB, 0, new_tag=0x6FFFF000),  # an unknown tag
     "its dynamic section has no DT_SYMTAB: it exports nothing"),
    (lambda elf: elf.set_dynamic(DT_SYMENT, 7), "its dynamic entry DT_SYMENT is 7, not "),
    (lambda elf: elf.set_dynamic(DT_NEEDED, 1 << 30),
     "its dynamic entry DT_NEEDED (string 1073741824) is past the end of the string table"),
    (lambda elf: elf.set_dynamic(DT_STRSZ, 1 << 30), "its dynamic entry DT_STRTAB (address "),
    (lambda elf: [elf.set_dynamic(DT_NULL, 0, new_tag=0x6FFFF000) for _ in elf.dynamic()
                  if any(t == DT_NULL for _, t, _ in elf.dynamic())],
     "its dynamic section has no DT_NULL end marker"),
], ids=["strtab-address", "no-symtab", "syment", "needed-offset", "strsz", "no-dt-null"])
def test_damaged_dynamic_section(good_binary, tmp_path, change, what):
    # the dynamic linker follows these addresses and offsets in memory
    elf = Elf(good_binary)
    change(elf)
    path = elf.write(tmp_path / "mytest.hpy0.so")
    _expect_refused("mytest", path, what)


def test_binary_for_another_machine(good_binary, tmp_path):
    elf = Elf(good_binary)
    this = elf.header[2]
    other = 183 if this != 183 else 62  # AArch64, or x86-64 on AArch64
    elf.set_header(18, "H", other)
    path = elf.write(tmp_path / "mytest.hpy0.so")
    names = {62: "x86-64", 183: "AArch64"}
    message = _expect_refused("mytest", path)
    assert message.startswith("it is built for %s (e_machine %d) and this machine is "
                              % (names[other], other)), message
    assert message.endswith("(e_machine %d)." % this)


@pytest.mark.parametrize("byte, value, what", [
    (4, 1 if WORD == 64 else 2, "it is a %d-bit binary and this interpreter is %d-bit"
     % (96 - WORD, WORD)),
    (5, 2 if sys.byteorder == "little" else 1, "it is a %s-endian binary and this machine is "
     "%s-endian" % ("big" if sys.byteorder == "little" else "little", sys.byteorder)),
    (4, 7, "its ELF identification is invalid (EI_CLASS 7,"),
    (6, 0, "its ELF identification is invalid ("),
], ids=["word-size", "byte-order", "bad-class", "bad-version"])
def test_binary_with_another_ident(good_binary, tmp_path, byte, value, what):
    elf = Elf(good_binary)
    elf.data[byte] = value
    path = elf.write(tmp_path / "mytest.hpy0.so")
    _expect_refused("mytest", path, what)


@pytest.mark.parametrize("e_type, what", [
    (1, "it is a relocatable object (.o) (ELF type 1), not a shared library (ET_DYN)"),
    (2, "it is an executable (ELF type 2), not a shared library (ET_DYN)"),
    (4, "it is a core dump (ELF type 4)"),
])
def test_elf_file_that_is_not_a_shared_library(good_binary, tmp_path, e_type, what):
    elf = Elf(good_binary)
    elf.set_header(16, "H", e_type)
    path = elf.write(tmp_path / "mytest.hpy0.so")
    _expect_refused("mytest", path, what)


def test_program_headers_of_the_wrong_size(good_binary, tmp_path):
    elf = Elf(good_binary)
    elf.set_header(struct.calcsize(HEADER) - 10, "H", elf.phentsize + 8)  # e_phentsize
    path = elf.write(tmp_path / "mytest.hpy0.so")
    _expect_refused("mytest", path, "its program header size is %d bytes, not %d"
                    % (elf.phentsize + 8, elf.phentsize))


UNDEFINED_SYMBOL = MODULE.replace('#include "hpy.h"', """#include "hpy.h"
void hpy_build_test_no_such_function(void);
__attribute__((constructor)) static void call_it(void) { hpy_build_test_no_such_function(); }""")


def test_dlopen_error_in_hpy_words(hpy_compiler, tmp_path):
    # a sound ELF binary that dlopen refuses: HPy 0.9's message, dlerror()'s reason
    path = hpy_compiler.compile(UNDEFINED_SYMBOL, "universal", "mytest", tmp_path)
    with pytest.raises(ImportError) as info:
        load("mytest", path)
    assert str(info.value).startswith(
        "Error during loading of the HPy extension module at path '%s'. Error message from "
        "dlopen/WinAPI: %s: " % (path, path))
    assert "hpy_build_test_no_such_function" in str(info.value)
    assert info.value.path == path and info.value.name == "mytest"


# ---- paths: str, bytes, os.PathLike; relative or absolute --------------------

def test_bytes_path(good_binary):
    module = load("mytest", os.fsencode(good_binary))
    assert module.f_noargs() == 42
    assert module.__file__ == good_binary  # str, as for any module


def test_path_like(good_binary):
    module = load("mytest", pathlib.Path(good_binary))
    assert module.f_noargs() == 42
    assert module.__file__ == good_binary and module.__spec__.origin == good_binary


def test_path_with_non_utf8_bytes(good_binary, tmp_path):
    directory = os.path.join(os.fsencode(str(tmp_path)), b"caf\xe9-\xff")
    os.mkdir(directory)
    binary = os.path.join(directory, b"mytest.hpy0.so")
    shutil.copy(os.fsencode(good_binary), binary)
    module = load("mytest", binary)
    assert module.f_noargs() == 42
    # the name as os.fsdecode gives it, which opens the same file again
    assert module.__file__ == os.fsdecode(binary)
    assert open(module.__file__, "rb").read() == open(good_binary, "rb").read()
    # and errors about such a file name it too
    with pytest.raises(ImportError, match="no HPy module binary") as info:
        load("mytest", os.path.join(directory, b"missing.hpy0.so"))
    assert info.value.path == os.fsdecode(os.path.join(directory, b"missing.hpy0.so"))


@pytest.mark.parametrize("relative", ["mytest.hpy0.so", os.path.join("sub", "mytest.hpy0.so"),
                                      os.path.join(".", "mytest.hpy0.so")])
def test_relative_path(good_binary, tmp_path, monkeypatch, relative):
    # dlopen searches the library path for a name without a slash: the loader
    # hands it an absolute one
    (tmp_path / "sub").mkdir()
    shutil.copy(good_binary, str(tmp_path / "sub"))
    shutil.copy(good_binary, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    module = load("mytest", relative)
    assert module.f_noargs() == 42
    assert module.__file__ == str(tmp_path / os.path.normpath(relative))
    assert os.path.isabs(module.__spec__.origin)


# ---- seeded fuzzing of the parts the check reads ----------------------------
# HPY_BUILD_LOADER_FUZZ=<cases> runs more (CI runs the default); a crash names
# the case and the seed, so it can be replayed.

FUZZ_CASES = int(os.environ.get("HPY_BUILD_LOADER_FUZZ", "200"))
FUZZ_SEED = int(os.environ.get("HPY_BUILD_LOADER_FUZZ_SEED", "9"))

LOAD_EACH = textwrap.dedent("""
    import sys
    sys.path.insert(0, %r)
    from hpy_build.universal import load
    for line in sys.stdin:
        print("start", line.strip(), flush=True)
        try:
            load("mytest", line.strip())
        except ImportError as error:
            assert str(error) and error.path == line.strip(), error
        except Exception as error:  # a module's own error: a Python exception is fine
            print("raised", type(error).__name__, error, flush=True)
        print("done", flush=True)
""" % ROOT)


def _fuzzed_bytes(elf):
    """The offsets of the bytes the check vouches for: the ELF header, where
    the program headers say the segments that are mapped or read in memory
    are (not their permissions, nor the RELRO range inside its segment), and
    which entries the dynamic section has (their tags, not where they point)."""
    places = list(range(struct.calcsize(HEADER)))
    word = WORD // 8
    field_at = dict(zip(PHDR_FIELDS, [0] + [struct.calcsize(PHDR[:i + 2]) for i in range(7)]))
    # PT_LOAD, PT_DYNAMIC, PT_PHDR, PT_TLS, PT_GNU_EH_FRAME, PT_GNU_PROPERTY
    vouched = {1, 2, 6, 7, 0x6474E550, 0x6474E553}
    for number, segment in enumerate(elf.segments()):
        if segment["type"] not in vouched:
            continue
        for field in ("type", "offset", "vaddr", "filesz", "memsz"):
            at = elf.phoff + number * elf.phentsize + field_at[field]
            places += range(at, at + (4 if field == "type" else word))
    for at, _, _ in elf.dynamic():
        places += range(at, at + word)
    return places


def _mutants(good, rng, cases):
    """(what was done, bytes) for each case: the file cut short, or a few of
    the bytes the check reads changed."""
    elf = Elf(good)
    places = _fuzzed_bytes(elf)
    for _ in range(cases):
        data = bytearray(elf.data)
        if rng.random() < 0.2:
            length = rng.randrange(len(data))
            yield "cut to %d bytes" % length, bytes(data[:length])
            continue
        changes = []
        for _ in range(rng.randint(1, 4)):
            at = rng.choice(places)
            data[at] = rng.choice([0, 0xFF, 0x7F, 0x80, data[at] ^ (1 << rng.randrange(8)),
                                   rng.randrange(256)])
            changes.append("byte %d = 0x%02x" % (at, data[at]))
        yield ", ".join(changes), bytes(data)


def test_mutated_binaries_never_crash_the_interpreter(good_binary, tmp_path):
    import random
    rng = random.Random(FUZZ_SEED)
    cases, paths = [], []
    for number, (what, data) in enumerate(_mutants(good_binary, rng, FUZZ_CASES)):
        directory = tmp_path / str(number)
        directory.mkdir()
        (directory / "mytest.hpy0.so").write_bytes(data)
        cases.append(what)
        paths.append(str(directory / "mytest.hpy0.so"))
    result = subprocess.run([sys.executable, "-c", LOAD_EACH], input="\n".join(paths) + "\n",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=600)
    started = [line.split(" ", 1)[1] for line in result.stdout.splitlines()
               if line.startswith("start ")]
    if result.returncode != 0:
        number = paths.index(started[-1])
        pytest.fail("case %d (seed %d: %s) killed the interpreter (%d): %s"
                    % (number, FUZZ_SEED, cases[number], result.returncode, result.stderr[-2000:]))
    assert started == paths
