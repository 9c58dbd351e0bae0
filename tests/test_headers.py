"""hpy.h itself: the binary layout it gives, and what it refuses."""
import shutil
import subprocess
import sysconfig

import pytest
from setuptools.errors import CompileError

from hpy_build import api
from hpy_build.abi import get_include

CC = sysconfig.get_config_var("CC").split()[0]
PY_INCLUDE = sysconfig.get_paths()["include"]


def _flags(abi):
    flags = ["-Wall", "-Wextra", "-Werror", "-I" + get_include()]
    if abi == "cpython":
        return flags + ["-DHPY_ABI_CPYTHON", "-I" + PY_INCLUDE]
    return flags + ["-DHPY_ABI_UNIVERSAL"]


def _run_c_program(tmp_path, source, abi="universal"):
    c_file = tmp_path / "prog.c"
    c_file.write_text(source)
    exe = tmp_path / "prog"
    subprocess.run([CC, *_flags(abi), str(c_file), "-o", str(exe)], check=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout


def test_context_layout_matches_the_abi(tmp_path):
    lines = ['printf("%s %zu\\n", "{0}", offsetof(struct _HPyContext_s, {0}));'.format(m.ctx_name)
             for m in api.MEMBERS]
    source = "#include <stdio.h>\n#include \"hpy.h\"\nint main(void) {\n%s\nreturn 0;\n}\n" % "\n".join(lines)
    offsets = dict(line.split() for line in _run_c_program(tmp_path, source).splitlines())
    word = 8
    for member in api.MEMBERS:
        assert int(offsets[member.ctx_name]) == (3 + member.id) * word, member.ctx_name


STRUCT_LAYOUTS = {
    # struct: [(field, offset)] on LP64, from the HPy 0.9.0 ABI tables
    "HPyModuleDef": [("doc", 0), ("size", 8), ("legacy_methods", 16), ("defines", 24), ("globals", 32)],
    "HPyMeth": [("name", 0), ("impl", 8), ("cpy_trampoline", 16), ("signature", 24), ("doc", 32)],
    "HPySlot": [("slot", 0), ("impl", 8), ("cpy_trampoline", 16)],
    "HPyMember": [("name", 0), ("type", 8), ("offset", 16), ("readonly", 24), ("doc", 32)],
    "HPyGetSet": [("name", 0), ("getter_impl", 8), ("setter_impl", 16), ("getter_cpy_trampoline", 24),
                  ("setter_cpy_trampoline", 32), ("doc", 40), ("closure", 48)],
    "HPyDef": [("kind", 0), ("meth", 8)],
    "HPyType_Spec": [("name", 0), ("basicsize", 8), ("itemsize", 12), ("flags", 16),
                     ("builtin_shape", 24), ("legacy_slots", 32), ("defines", 40), ("doc", 48)],
    "HPy_buffer": [("buf", 0), ("obj", 8), ("len", 16), ("itemsize", 24), ("readonly", 32),
                   ("ndim", 36), ("format", 40), ("shape", 48), ("strides", 56),
                   ("suboffsets", 64), ("internal", 72)],
    "_HPyFunc_args_KEYWORDS": [("self", 0), ("args", 8), ("nargsf", 16), ("kwnames", 24), ("result", 32)],
    "_HPyFunc_args_SSIZESSIZEOBJARGPROC": [("arg0", 0), ("arg1", 8), ("arg2", 16), ("arg3", 24),
                                           ("result", 32)],
}


def test_struct_layouts(tmp_path):
    lines = ['printf("%s.%s %zu\\n", "{0}", "{1}", offsetof({0}, {1}));'.format(struct, field)
             for struct, fields in STRUCT_LAYOUTS.items() for field, _ in fields]
    source = "#include <stdio.h>\n#include \"hpy.h\"\nint main(void) {\n%s\nreturn 0;\n}\n" % "\n".join(lines)
    offsets = dict(line.split() for line in _run_c_program(tmp_path, source).splitlines())
    for struct, fields in STRUCT_LAYOUTS.items():
        for field, offset in fields:
            assert int(offsets["%s.%s" % (struct, field)]) == offset, (struct, field)


CXX_MODULE = r"""
#include "hpy.h"
HPyDef_METH(twice, "twice", HPyFunc_O, .doc = "2 * arg")
static HPy twice_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPy_Add(ctx, arg, arg);
}
static HPyDef *defines[] = { &twice, NULL };
static HPyModuleDef moduledef = { .doc = "C++", .size = 0, .legacy_methods = NULL,
                                  .defines = defines, .globals = NULL };
HPy_MODINIT(cxxmod, moduledef)
"""


@pytest.mark.parametrize("abi", ["cpython", "universal"])
def test_usable_from_cplusplus(tmp_path, abi):
    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("no g++ on this machine")
    source = tmp_path / "cxxmod.cpp"
    source.write_text(CXX_MODULE)
    result = subprocess.run([cxx, "-std=c++20", "-fsyntax-only", *_flags(abi), str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_universal_refuses_python_h(hpy_compiler, tmp_path, capfd, where):
    includes = ["#include <Python.h>", '#include "hpy.h"']
    if where == "after":
        includes.reverse()
    source = "\n".join(includes) + "\nint x;\n"
    with pytest.raises(CompileError):
        hpy_compiler.compile(source, "universal", "withpython", tmp_path)
    assert "universal-ABI" in capfd.readouterr().err


def test_universal_binary_uses_no_python_symbol(hpy_compiler, tmp_path):
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm on this machine")
    from test_basic import MODULE
    path = hpy_compiler.compile(MODULE, "universal", "mytest", tmp_path)
    undefined = subprocess.run([nm, "-D", "--undefined-only", path], check=True,
                               capture_output=True, text=True).stdout.split()
    assert not [s for s in undefined if s.startswith(("Py", "_Py"))]
    exported = subprocess.run([nm, "-D", "--defined-only", path], check=True,
                              capture_output=True, text=True).stdout.split()
    for symbol in ("HPyInit_mytest", "HPyInitGlobalContext_mytest",
                   "get_required_hpy_major_version_mytest", "get_required_hpy_minor_version_mytest"):
        assert symbol in exported
    assert not [s for s in exported if s.startswith("PyInit")]


def test_cpython_binary_exports_only_pyinit(hpy_compiler, tmp_path):
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm on this machine")
    from test_basic import MODULE
    path = hpy_compiler.compile(MODULE, "cpython", "mytest", tmp_path)
    exported = subprocess.run([nm, "-D", "--defined-only", path], check=True,
                              capture_output=True, text=True).stdout.split()
    functions = [s for s in exported if s.startswith(("PyInit", "HPy", "get_required", "ctx_"))]
    assert functions == ["PyInit_mytest"]


LIBC_NAMED_DEF = r"""
#include "hpy.h"
HPyDef_METH(warn, "warn", HPyFunc_NOARGS)
static HPy warn_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, "our warn");
}
static HPyDef *defines[] = { &warn, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(libcnames, moduledef)
"""


def test_a_def_named_like_a_libc_function_is_not_interposed(compile_module):
    assert compile_module(LIBC_NAMED_DEF, name="libcnames").warn() == "our warn"
