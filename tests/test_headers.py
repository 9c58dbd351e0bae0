"""hpy.h itself: the binary layout it gives, what it refuses, HPy 0.9's header
paths, and the public names it defines compared with HPy 0.9.0's headers."""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

import pytest
from setuptools.errors import CompileError

import header_names
from hpy_build.api import table as api
from hpy_build.toolchain.abi import ABIS, compile_options, get_include

CC = sysconfig.get_config_var("CC").split()[0]
PY_INCLUDE = sysconfig.get_paths()["include"]


def _flags(abi, include=None):
    """Compiler flags of ``abi`` as hpy_build gives them, for the headers in ``include``."""
    options = compile_options(abi)
    flags = ["-Wall", "-Wextra", "-Werror"]
    flags += ["-D" + name if value is None else "-D%s=%s" % (name, value)
              for name, value in options["define_macros"]]
    for folder in options["include_dirs"]:
        if include is not None:
            folder = os.path.join(include, os.path.relpath(folder, get_include()))
        flags.append("-I" + folder)
    if abi != "universal":
        flags.append("-I" + PY_INCLUDE)
    return flags


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
    err = capfd.readouterr().err
    # HPy 0.9's words first, then the way out
    assert re.search(r'error: #error "It is forbidden to #include <Python.h> when targeting '
                     r'the HPy Universal ABI[ :(]', err), err
    assert "--hpy-abi=hybrid" in err


@pytest.mark.parametrize("call", [
    "cpy_PyObject *o = HPy_AsPyObject(ctx, self); (void)o; return HPy_NULL;",
    "cpy_PyObject *o = NULL; (void)self; return HPy_FromPyObject(ctx, o);",
], ids=["HPy_AsPyObject", "HPy_FromPyObject"])
def test_universal_refuses_legacy_functions(hpy_compiler, tmp_path, capfd, call):
    source = """
#include "hpy.h"
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self) { %s }
static HPyDef *defines[] = { &f, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(legacycall, moduledef)
""" % call
    with pytest.raises(CompileError):
        hpy_compiler.compile(source, "universal", "legacycall", tmp_path)
    err = capfd.readouterr().err
    function = re.search(r"(HPy_\w+)\(", call).group(1)
    # compile time, at the optimisation level setuptools uses (-O2/-O3)
    assert re.search(r"error: call to .%s. declared with attribute error: Cannot use legacy "
                     r"functions when targeting the HPy Universal ABI" % function, err), err
    assert "--hpy-abi=hybrid" in err
    # the same source is fine where the C API is
    hpy_compiler.compile(source, "hybrid", "legacycall", tmp_path / "hybrid")


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


# ---------------------------------------------------------------------------
# HPy 0.9's header paths

# Every header under HPy 0.9.0's hpy/devel/include: sources may include any
# of them directly.
HPY09_HEADERS = [
    "hpy.h",
    "hpy/autogen_hpyfunc_declare.h",
    "hpy/autogen_hpyslot.h",
    "hpy/cpy_types.h",
    "hpy/cpython/autogen_api_impl.h",
    "hpy/cpython/autogen_ctx.h",
    "hpy/cpython/autogen_hpyfunc_trampolines.h",
    "hpy/cpython/hpyfunc_trampolines.h",
    "hpy/cpython/misc.h",
    "hpy/forbid_python_h/Python.h",
    "hpy/hpydef.h",
    "hpy/hpyexports.h",
    "hpy/hpyfunc.h",
    "hpy/hpymodule.h",
    "hpy/hpytype.h",
    "hpy/inline_helpers.h",
    "hpy/macros.h",
    "hpy/runtime/argparse.h",
    "hpy/runtime/buildvalue.h",
    "hpy/runtime/ctx_funcs.h",
    "hpy/runtime/ctx_module.h",
    "hpy/runtime/ctx_type.h",
    "hpy/runtime/format.h",
    "hpy/runtime/helpers.h",
    "hpy/runtime/structseq.h",
    "hpy/universal/autogen_ctx.h",
    "hpy/universal/autogen_hpyfunc_trampolines.h",
    "hpy/universal/autogen_trampolines.h",
    "hpy/universal/hpyfunc_trampolines.h",
    "hpy/universal/misc_trampolines.h",
    "hpy/version.h",
]
# Its purpose is to fail; it is included by nothing but mistakes.
_INCLUDABLE = [h for h in HPY09_HEADERS if h != "hpy/forbid_python_h/Python.h"]


def test_hpy09_header_paths_exist():
    missing = [h for h in HPY09_HEADERS if not os.path.isfile(os.path.join(get_include(), h))]
    assert not missing


@pytest.mark.parametrize("lang", ["c", "c++"])
@pytest.mark.parametrize("abi", ABIS)
def test_each_hpy09_header_compiles_on_its_own(tmp_path, abi, lang):
    """Included first and alone, with warnings as errors, in C and C++."""
    compiler = CC if lang == "c" else shutil.which("g++")
    if compiler is None:
        pytest.skip("no g++ on this machine")
    sources = []
    for header in _INCLUDABLE:
        source = tmp_path / (header.replace("/", "__") + (".c" if lang == "c" else ".cpp"))
        # something after the include, so an empty translation unit is no excuse
        source.write_text('#include "%s"\nint hpy_test_after_the_header(void);\n' % header)
        sources.append(str(source))
    std = ["-std=c99"] if lang == "c" else ["-std=c++11"]
    result = subprocess.run([compiler, "-fsyntax-only", *std, *_flags(abi), *sources],
                            capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr, result.stderr


def test_version_h_names_the_hpy_release_we_implement(tmp_path):
    source = ('#include "hpy/version.h"\n#include <stdio.h>\n'
              'int main(void) { printf("%s %s\\n", HPY_VERSION, HPY_GIT_REVISION); return 0; }\n')
    version, revision = _run_c_program(tmp_path, source).split()
    assert version == "0.9.0"
    assert re.match(r"^[0-9a-f]{7,40}$", revision)


@pytest.mark.parametrize("abi", ABIS)
def test_the_HPY_macro_is_defined_in_every_abi(abi, hpy_compiler, tmp_path):
    assert ("HPY", None) in compile_options(abi)["define_macros"]
    source = "#ifndef HPY\n#error HPY is not defined\n#endif\n" + LIBC_NAMED_DEF
    hpy_compiler.compile(source, abi, "libcnames", tmp_path)


# ---------------------------------------------------------------------------
# The public names, compared with HPy 0.9.0's headers

HPY09_REQUIREMENT = "hpy==0.9.0"

# HPy 0.9 declares, in the CPython ABI, the functions of its own runtime that
# implement the API (ctx_*) and two of their helpers. They are how HPy is
# built, not what an extension calls: hpy-build has its own. HPyModule_Create
# is there too, but only in that ABI and calling a ctx_Module_Create that
# HPy 0.9 never implements: no HPy 0.9 extension can use it.
_HPY09_RUNTIME_FUNCTIONS = re.compile(
    r"^(ctx_\w+|create_method_defs|call_traverseproc_from_trampoline|HPyModule_Create)$")

# HPy 0.9 names that hpy-build's CPython ABI has too, although HPy 0.9's has them
# only in the universal ABI: there, one context struct serves every ABI, and its
# capsule members take the _HPyCapsule_key enum.
_CPYTHON_ABI_ALSO = {"HPyCapsule_Get", "HPyCapsule_Set", "HPyCapsule_key_Pointer",
                     "HPyCapsule_key_Name", "HPyCapsule_key_Context", "HPyCapsule_key_Destructor"}


@pytest.fixture(scope="module")
def hpy09_include(tmp_path_factory):
    """HPy 0.9.0's include directory, from its wheel (or sdist) on the package index."""
    from test_hpy09_compat import NETWORK_ERRORS
    where = tmp_path_factory.mktemp("hpy09-dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
         "--no-cache-dir", "-d", str(where), HPY09_REQUIREMENT],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if result.returncode != 0:
        if NETWORK_ERRORS.search(result.stdout):
            pytest.skip("the package index is unreachable, cannot get %s:\n%s"
                        % (HPY09_REQUIREMENT, result.stdout[-2000:]))
        pytest.fail("pip download %s failed:\n%s" % (HPY09_REQUIREMENT, result.stdout))
    (archive,) = os.listdir(str(where))
    archive = os.path.join(str(where), archive)
    unpacked = where / "unpacked"
    if archive.endswith(".whl"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(str(unpacked))
    else:
        with tarfile.open(archive) as t:
            t.extractall(str(unpacked))
    found = [os.path.dirname(os.path.join(folder, "hpy.h"))
             for folder, _dirs, files in os.walk(str(unpacked))
             if "hpy.h" in files and folder.endswith(os.path.join("devel", "include"))]
    assert len(found) == 1, found
    return found[0]


def _public(names):
    return {name for name in names if not name.startswith("_")}


def _is_include_guard(name, value):
    return value == "" and name.endswith("_H")


def _defined_names(include, abi):
    flags = [f for f in _flags(abi, include) if f.startswith(("-D", "-I"))]
    text = header_names.preprocess([f[2:] for f in flags if f.startswith("-I")],
                                   [f[2:] for f in flags if f.startswith("-D")])
    found = header_names.names(text, include)
    macros = {name for name, value in found["macros"].items()
              if not _is_include_guard(name, value)}
    return _public(macros), _public(found["declarations"])


def test_name_extraction_sees_what_it_must(hpy09_include):
    """The comparison below is only as good as the extraction: spot checks."""
    macros, declarations = _defined_names(hpy09_include, "universal")
    assert {"HPy_NULL", "HPy_MODINIT", "HPyDef_METH", "HPY_ABI_TAG", "HPyFunc_DECLARE"} <= macros
    assert {"HPy", "HPyContext", "HPyModuleDef", "HPyDef_Kind_Meth", "HPy_SourceKind_Expr",
            "HPy_Add", "HPyFunc_noargs", "HPyArg_Parse", "cpy_PyObject", "HPy_FromVoidP",
            "HPyType_Spec", "HPy_tp_repr"} <= declarations
    assert not {"size_t", "malloc", "PyObject", "Py_INCREF", "INT_MAX"} & (macros | declarations)


@pytest.mark.parametrize("abi", ABIS)
def test_public_names_are_hpy09s(hpy09_include, abi):
    """Every public name of HPy 0.9.0's headers is ours, and we add none."""
    their_macros, their_declarations = _defined_names(hpy09_include, abi)
    our_macros, our_declarations = _defined_names(get_include(), abi)
    their_declarations = {n for n in their_declarations if not _HPY09_RUNTIME_FUNCTIONS.match(n)}
    our_declarations = {n for n in our_declarations if not _HPY09_RUNTIME_FUNCTIONS.match(n)}
    if abi == "cpython":
        our_declarations -= _CPYTHON_ABI_ALSO
    # a function-like macro over one of HPy 0.9's functions (HPyArg_Parse's
    # inline parser, argparse.h) adds no name: the function is still declared
    our_macros -= {n for n in our_macros & our_declarations if n in their_declarations}
    problems = {
        "macros HPy 0.9 defines and we do not": sorted(their_macros - our_macros),
        "functions/types/enumerators HPy 0.9 declares and we do not":
            sorted(their_declarations - our_declarations),
        "macros we define and HPy 0.9 does not": sorted(our_macros - their_macros),
        "functions/types/enumerators we declare and HPy 0.9 does not":
            sorted(our_declarations - their_declarations),
    }
    assert not any(problems.values()), "\n".join(
        "%s: %s" % (what, " ".join(names)) for what, names in problems.items() if names)
