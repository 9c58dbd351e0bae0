"""Binary compatibility, both ways, with the HPy 0.9.0 release from PyPI.

The same C sources (tests/hpy09/*.c) are built twice into universal
``.hpy0.so`` binaries: once by hpy 0.9.0's own setuptools integration in a
fresh venv, once by hpy-build. Each binary is then loaded by each runtime
(hpy_build.universal.load; hpy 0.9.0's hpy.universal.load, plain and with its
debug context) in a subprocess running tests/hpy09/probe.py, and its
behaviour is compared with what the C code promises.
"""
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import hpy_build
from hpy_build.toolchain import abi as hpy_abi

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "hpy09")
PROBE = os.path.join(FIXTURES, "probe.py")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(hpy_build.__file__)))
MODULES = ("compat09", "compat09types", "compat09api")

# What pip prints when it cannot reach the index (as opposed to a resolver or build failure).
NETWORK_ERRORS = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution"
    r"|Name or service not known|Network is unreachable|ConnectTimeout|ReadTimeout|timed out"
    r"|Connection refused|ProxyError|SSLError|Could not fetch URL|No route to host")


def _clean_env(**extra):
    """The environment for child interpreters: nothing of ours leaks into the venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def _run(cmd, cwd, env=None):
    return subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env or _clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def _pip(python, *args, cwd):
    result = _run([python, "-m", "pip", "--no-cache-dir", "--disable-pip-version-check"] + list(args), cwd)
    if result.returncode != 0:
        if NETWORK_ERRORS.search(result.stdout):
            pytest.skip("PyPI is unreachable, cannot install hpy 0.9.0: pip %s failed with:\n%s"
                        % (" ".join(args), result.stdout[-2000:]))
        pytest.fail("pip %s failed:\n%s" % (" ".join(args), result.stdout))


@pytest.fixture(scope="session")
def hpy09_python(tmp_path_factory):
    """A venv of the running CPython holding hpy 0.9.0 from PyPI."""
    if sys.implementation.name != "cpython":
        pytest.skip("hpy 0.9.0's runtime is a CPython extension; running %s" % sys.implementation.name)
    venv = tmp_path_factory.mktemp("hpy09-venv")
    created = _run([sys.executable, "-m", "venv", venv], venv)
    assert created.returncode == 0, created.stdout
    bin_dir = "Scripts" if os.name == "nt" else "bin"
    python = venv / bin_dir / ("python.exe" if os.name == "nt" else "python")
    # the setuptools bundled into a new venv is years old; build with a current one
    _pip(python, "install", "--upgrade", "setuptools", cwd=venv)
    _pip(python, "install", "hpy==0.9.0", cwd=venv)
    version = _run([python, "-c", "import hpy.devel.version as v; print(v.__version__)"], venv)
    assert version.stdout.strip() == "0.9.0", version.stdout
    return python


@pytest.fixture(scope="session")
def hpy09_binaries(hpy09_python, tmp_path_factory):
    """Universal binaries built by hpy 0.9.0's `setup(hpy_ext_modules=...)`, by module name."""
    build_dir = tmp_path_factory.mktemp("built-by-hpy09")
    for name in os.listdir(FIXTURES):
        if name.endswith(".c") or name == "setup_hpy09.py":
            shutil.copy(os.path.join(FIXTURES, name), str(build_dir))
    built = _run([hpy09_python, "setup_hpy09.py", "--hpy-abi=universal", "build_ext", "--inplace"],
                 build_dir)
    assert built.returncode == 0, "hpy 0.9.0 could not build the probes:\n" + built.stdout
    return {name: build_dir / (name + ".hpy0.so") for name in MODULES}


@pytest.fixture(scope="session")
def hpy_build_binaries(hpy_compiler, tmp_path_factory):
    """The same sources built by hpy-build for the universal ABI (-Wall -Wextra -Werror)."""
    build_dir = tmp_path_factory.mktemp("built-by-hpy-build")
    binaries = {}
    for name in MODULES:
        with open(os.path.join(FIXTURES, name + ".c"), encoding="utf-8") as f:
            source = f.read()
        binaries[name] = hpy_compiler.compile(source, "universal", name, build_dir / name)
    return binaries


def _probe(runtime, name, path, hpy09_python, cwd):
    if runtime.startswith("hpy_build"):
        result = _run([sys.executable, PROBE, runtime, name, path], cwd,
                      env=_clean_env(PYTHONPATH=REPO_ROOT))
    else:
        result = _run([hpy09_python, PROBE, runtime, name, path], cwd)
    found = re.search(r"^PROBE-RESULT: (.*)$", result.stdout, re.MULTILINE)
    succeeded = result.returncode == 0 and found is not None
    assert succeeded, (
        "%s runtime failed on %s (exit code %d):\n%s" % (runtime, path, result.returncode, result.stdout))
    return json.loads(found.group(1))


def ok(value):
    return ["ok", repr(value)]


def raises(exception, message=None):
    """``message=None``: the wording belongs to an argument parser or the interpreter, not the ABI."""
    return ["raise", exception, message]


EXPECTED = {
    "compat09": {
        "__name__": ok("compat09"),
        "__doc__": ok("HPy 0.9 binary compatibility probe"),
        "answer()": ok(42),
        "answer.__doc__": ok("Return the answer."),
        "answer(1)": raises("TypeError"),
        "bump() first": ok(1),
        "bump() second": ok(2),
        "bump() third": ok(3),
        "twice(21)": ok(42),
        "twice(-2.25)": ok(-4.5),
        "twice('ab')": ok("abab"),
        "twice(True)": ok(2),
        "twice(2**61)": ok(2 ** 62),
        "twice(2**62)": raises("OverflowError", "twice() result does not fit in 64 bits"),
        "twice(2**64)": raises("OverflowError"),
        "twice(None)": raises("TypeError", "twice() wants an int, a float or a str"),
        "twice()": raises("TypeError"),
        "utf8_info('Zoë €')": ok((5, "Zoë €".encode("utf-8"))),
        "utf8_info(b'x')": raises("TypeError"),
        "mean(1, 2, 3, 4)": ok(2.5),
        "mean(0.5)": ok(0.5),
        "mean()": raises("Error", "mean() of no numbers"),
        "mean(1, 'x')": raises("TypeError"),
        "mean() is Error": ok(True),
        "divide(1, 4)": ok(0.25),
        "divide(7, 2.0)": ok(3.5),
        "divide(1, 0)": raises("ZeroDivisionError"),
        "divide(1)": raises("TypeError"),
        "apply(max, 3, 9, 2)": ok(9),
        "apply(raiser)": raises("KeyError", str(KeyError("from the callback"))),
        "apply(1)": raises("TypeError", "apply() needs a callable"),
        "vcall(divmod, 7, 2)": ok((3, 1)),
        "vcall(sorted, [3, 1, 2], reverse=True)": ok([3, 2, 1]),
        "vcall(raiser)": raises("KeyError", str(KeyError("from the callback"))),
        "call_method('split', 'a-b-c', '-', maxsplit=1)": ok(["a", "b-c"]),
        "call_method('upper', 'abc')": ok("ABC"),
        "call_method('nope', 'abc')": raises("AttributeError"),
        "builtin('len') is len": ok(True),
        "builtin('no such builtin')": raises("KeyError"),
        "abi_version()": ok(0),  # HPy 0.9's ABI major version
        "greet('Zoë')": ok("Hello, Zoë!"),
        "greet('Bob', greeting='Grüß', times=2)": ok("Grüß, Bob! Grüß, Bob!"),
        "greet(name='Ann', times=3)": ok("Hello, Ann! Hello, Ann! Hello, Ann!"),
        "greet('Al', 'Hi')": ok("Hi, Al!"),
        "greet()": raises("TypeError"),
        "greet('a', times=9)": raises("ValueError", "greet() times must be 1, 2 or 3"),
        "greet.__doc__": ok("greet(name, greeting='Hello', times=1)"),
        "version": ok("compat-1.0"),
        "LLONG_MAX": ok(2 ** 63 - 1),
        "Error.__name__": ok("Error"),
        "Error.__module__": ok("compat09"),
        "Error subclasses ValueError": ok(True),
    },
    "compat09types": {
        "Point.__name__": ok("Point"),
        "Point.__module__": ok("compat09types"),
        "Point.__doc__": ok("A point with a label"),
        "repr(Point(3, 4))": ok("Point(3, 4)"),
        "Point(3, 4).x, .y": ok((3, 4)),
        "Point(3, 4, label='a').label": ok("a"),
        "Point(x=1, y=2).label": ok(None),
        "Point(3, 4).norm2()": ok(25),
        "Point(1, 2) + Point(10, 20)": ok("Point(11, 22)"),
        "Point(1, 2) + 1": raises("TypeError"),
        "set x": ok("Point(5, 4)"),
        "set read-only y": raises("AttributeError"),
        "Point.x.__doc__": ok("first coordinate"),
        "Point('a', 1)": raises("TypeError"),
        "Point(1)": raises("TypeError"),
        "label survives gc": ok([1, 2]),
        "Point3D(1, 2).z": ok(0.0),
        "Point3D(1, 2).lift(2.5).z": ok(2.5),
        "repr(Point3D(7, 8))": ok("Point(7, 8)"),
        "Point3D(1, 2).norm2()": ok(5),
        "Point3D mro": ok(["Point3D", "Point", "object"]),
        "Point3D is a Point": ok(True),
        "tp_destroy of 3 dropped points": ok(3),
        "tp_traverse frees a cycle through a field": ok(1),
    },
    "compat09api": {
        "build_value()": ok((1, "two", [3.0, None], {"k": 5})),
        "squares(5)": ok([0, 1, 4, 9, 16]),
        "squares(0)": ok([]),
        "swap(1, 'b')": ok(("b", 1)),
        "int64_mix(-5)": ok((-4, 2 ** 64 - 5, -5.0)),
        "int64_mix(2**62)": ok((2 ** 62 + 1, 2 ** 62, float(2 ** 62))),
        "int64_mix(2**63)": raises("OverflowError"),
        "capsule()": ok(("PyCapsule", True, True, False)),
        "capsule_destructor()": ok((0, 1, "compat09api.owned")),
        "pair(1, 'b')": ok(("Pair", "compat09api", 1, "b", (1, "b"), 2, "b")),
        "evaluate('a * b + len(c)', ...)": ok(45),
        "evaluate('1 +', {})": raises("SyntaxError"),
        "evaluate('nope', {})": raises("NameError"),
        "context_var('set')": ok((Ellipsis, "set")),
        "substring('hello world', 6, 11)": ok("world"),
        "slice_unpack(slice(1, None, 2))": ok((1, sys.maxsize, 2)),
        "slice_unpack(slice(None, None, -1))[2]": ok(-1),
        "slice_unpack(slice(0, 1, 0))": raises("ValueError"),
        "dict_keys({'b': 1, 'a': 2})": ok(["b", "a"]),
        "type_info(True)": ok(("bool", True)),
        "type_info(1.5)": ok(("float", False)),
        "decode(b'caf\\xc3\\xa9')": ok("café"),
        "decode(b'\\xff')": raises("UnicodeDecodeError"),
        "warn('careful')": ok([("UserWarning", "careful")]),
        "missing_file()": ok(("FileNotFoundError", True, "compat09-nowhere.txt")),
        "format()": ok("-7-mid-12-z"),
    },
}


def _mismatches(expected, results):
    wrong = []
    for probe, want in expected.items():
        got = results.get(probe)
        if got is None:
            wrong.append("%s: not run" % probe)
        elif got[0] != want[0] or got[1] != want[1] or (want[0] == "raise" and want[2] is not None
                                                         and got[2] != want[2]):
            wrong.append("%s: expected %s, got %s" % (probe, want, got))
    wrong.extend("%s: unexpected probe" % p for p in results if p not in expected)
    return wrong


# (who compiled the binary, which runtime loads it); the brief's two
# directions, plus hpy 0.9.0 on its own binaries as the control that tells
# an hpy-build incompatibility from an hpy 0.9.0 limitation.
COMBINATIONS = [
    pytest.param("hpy09", "hpy_build", id="built-by-hpy09-loaded-by-hpy_build"),
    pytest.param("hpy_build", "hpy", id="built-by-hpy_build-loaded-by-hpy09"),
    pytest.param("hpy_build", "hpy-debug", id="built-by-hpy_build-loaded-by-hpy09-debug"),
    pytest.param("hpy09", "hpy", id="control-built-by-hpy09-loaded-by-hpy09"),
    # hpy-build's debug mode on binaries of either toolchain
    pytest.param("hpy09", "hpy_build-debug", id="built-by-hpy09-loaded-by-hpy_build-debug"),
    pytest.param("hpy_build", "hpy_build-debug", id="built-by-hpy_build-loaded-by-hpy_build-debug"),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("builder, runtime", COMBINATIONS)
def test_behaviour_across_toolchains(builder, runtime, module, request, hpy09_python, tmp_path):
    binaries = request.getfixturevalue("hpy09_binaries" if builder == "hpy09" else "hpy_build_binaries")
    report = _probe(runtime, module, binaries[module], hpy09_python, tmp_path)
    wrong = _mismatches(EXPECTED[module], report["results"])
    assert not wrong, "%s built by %s, loaded by %s:\n  %s" % (
        module, builder, runtime, "\n  ".join(wrong))
    if runtime.endswith("-debug"):
        # the debug context catches handles an hpy-build helper leaks or misuses
        assert report["leaks"] == [], report["leaks"]
        assert report["invalid_handles"] == 0


@pytest.mark.parametrize("module", MODULES)
def test_both_toolchains_name_and_export_alike(module, hpy09_binaries, hpy_build_binaries):
    ours, theirs = str(hpy_build_binaries[module]), str(hpy09_binaries[module])
    assert os.path.basename(ours) == os.path.basename(theirs) == module + hpy_abi.ext_suffix("universal")
    for path in (ours, theirs):
        library = ctypes.CDLL(path)
        for getter in ("get_required_hpy_major_version_", "get_required_hpy_minor_version_"):
            function = getattr(library, getter + module)
            function.restype = ctypes.c_uint32
            assert function() == 0, "%s: %s%s() != 0" % (path, getter, module)
        # present in both, or the other runtime's dlsym fails
        assert getattr(library, "HPyInit_" + module)
        assert getattr(library, "HPyInitGlobalContext_" + module)

