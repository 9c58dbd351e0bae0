"""Tags, names, contents and metadata of the two wheels, and which one pip picks.

pip installs the first tag of the interpreter's ``sys_tags()`` order that a
wheel carries; the tests compute that for every interpreter at hand, then ask
a real pip to confirm.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

import hpy_build
from buildtools import (  # noqa: F401  (fixtures, and the fixtures they use)
    build_python, demo_wheels, ext_suffix, hpy_build_wheel, listdir,
    make_venv, requires_cpython, run, wheel_files,
)
from hpy_build.toolchain.plugin import STUB_MARKER


def wheels_by_kind(out):
    """{"cpython": name, "universal": name} from the wheel directory."""
    kinds = {}
    for name in listdir(out):
        _dist, _version, _build, tags = parse_wheel_filename(name)
        (tag,) = tags
        kinds["universal" if tag.abi == "none" else "cpython"] = name
    return kinds


def tags_of(name):
    return parse_wheel_filename(name)[3]


def pip_choice(interpreter_tags, wheel_names):
    """The wheel pip takes: the first tag, in the interpreter's order, that a wheel has."""
    for tag in interpreter_tags:
        for name in wheel_names:
            if tag in tags_of(name):
                return name
    return None


# ------------------------------------------------------------------ names/tags

@requires_cpython
def test_wheel_names_and_tags(demo_wheels):
    out, _returned = demo_wheels
    kinds = wheels_by_kind(out)
    assert sorted(kinds) == ["cpython", "universal"]
    assert kinds["cpython"] != kinds["universal"]
    (cpython_tag,) = tags_of(kinds["cpython"])
    (universal_tag,) = tags_of(kinds["universal"])
    here = "cp%d%d" % sys.version_info[:2]
    assert (cpython_tag.interpreter, cpython_tag.abi) == (here, here)
    assert (universal_tag.interpreter, universal_tag.abi) == ("py3", "none")
    assert universal_tag.platform == cpython_tag.platform
    # both install here; the platform is one this interpreter accepts
    supported = set(sys_tags())
    assert cpython_tag in supported and universal_tag in supported
    for name in kinds.values():
        dist, version, build, _tags = parse_wheel_filename(name)
        assert (dist, str(version), build) == (canonicalize_name("hpy-demo"), "1.0", ())


@requires_cpython
def test_wheel_contents(demo_wheels):
    out, _returned = demo_wheels
    kinds = wheels_by_kind(out)
    cpython_names, _ = wheel_files(out / kinds["cpython"])
    universal_names, _ = wheel_files(out / kinds["universal"])

    package_files = lambda names: sorted(n for n in names if n.startswith("hpydemo/"))
    assert package_files(cpython_names) == sorted([
        "hpydemo/__init__.py", "hpydemo/_native" + ext_suffix("cpython")])
    assert package_files(universal_names) == sorted([
        "hpydemo/__init__.py", "hpydemo/_native.hpy0.so", "hpydemo/_native.py"])

    import zipfile
    with zipfile.ZipFile(str(out / kinds["universal"])) as archive:
        stub = archive.read("hpydemo/_native.py").decode("utf-8")
        binary = archive.read("hpydemo/_native.hpy0.so")
    assert stub.startswith(STUB_MARKER) and "'_native.hpy0.so'" in stub
    assert b"HPyInit__native" in binary


@requires_cpython
def test_metadata(demo_wheels):
    out, _returned = demo_wheels
    kinds = wheels_by_kind(out)
    _names, universal = wheel_files(out / kinds["universal"])
    _names, cpython = wheel_files(out / kinds["cpython"])

    runtime = [Requirement(r) for r in universal.get_all("Requires-Dist") or []
               if canonicalize_name(Requirement(r).name) == "hpy-build"]
    assert len(runtime) == 1
    # the running hpy-build satisfies it, the next minor series does not
    current = Version(hpy_build.__version__)
    major, minor = current.release[:2]
    assert current in runtime[0].specifier
    assert Version("%d.%d" % (major, minor + 1)) not in runtime[0].specifier
    assert runtime[0].specifier == SpecifierSet(">=%d.%d,<%d.%d" % (major, minor, major, minor + 1))

    requires_python = SpecifierSet(universal["Requires-Python"])
    assert "3.7" not in requires_python and "3.8" in requires_python and "3.13" in requires_python
    # the CPython-ABI wheel needs no runtime
    assert not cpython.get_all("Requires-Dist")


# ------------------------------------------------------------ pip's choice

def _pyenv_versions_dir():
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        result = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE,
                                universal_newlines=True)
        root = result.stdout.strip() if result.returncode == 0 else None
    return os.path.join(root or os.path.expanduser("~/.pyenv"), "versions")


def other_interpreters():
    """pytest params: other CPythons 3.8-3.13 from pyenv, and PyPy if installed."""
    running = "%d.%d" % sys.version_info[:2]
    found = []
    versions = _pyenv_versions_dir()
    for name in sorted(os.listdir(versions)) if os.path.isdir(versions) else []:
        match = re.match(r"^3\.(\d+)\.\d+$", name)
        python = os.path.join(versions, name, "bin", "python")
        if match and 8 <= int(match.group(1)) <= 13 and "3." + match.group(1) != running \
                and os.access(python, os.X_OK):
            found.append(pytest.param(python, id="cpython-" + name))
    if shutil.which("pypy3"):
        found.append(pytest.param(shutil.which("pypy3"), id="pypy3"))
    if not found:
        found.append(pytest.param(None, id="none", marks=pytest.mark.skip(
            reason="no other CPython 3.8-3.13 under pyenv and no pypy3")))
    return found


_TAGS_CODE = """\
import json
try:
    from packaging import tags
except ImportError:
    from pip._vendor.packaging import tags
print(json.dumps([str(t) for t in tags.sys_tags()]))
"""


def interpreter_tags(python):
    output = run([python, "-c", _TAGS_CODE]).stdout
    return [Tag(*text.split("-")) for text in json.loads(output.strip().splitlines()[-1])]


def pip_would_install(python, wheel_dir, tmp_path):
    """The wheel file a real ``pip install`` on ``python`` selects (dry run)."""
    version = run([python, "-m", "pip", "--version"], check=False)
    match = re.search(r"pip (\d+)\.(\d+)", version.stdout)
    if not match or (int(match.group(1)), int(match.group(2))) < (22, 2):
        return None  # no --dry-run/--report before pip 22.2
    report = tmp_path / ("report-%d.json" % len(listdir(tmp_path)))
    run([python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
         "--no-index", "--find-links", wheel_dir, "--report", report, "hpy-demo"])
    with open(str(report)) as f:
        (item,) = json.load(f)["install"]
    return os.path.basename(item["download_info"]["url"])


@requires_cpython
def test_pip_picks_the_cpython_wheel_on_the_building_python(demo_wheels, tmp_path):
    out, returned = demo_wheels
    kinds = wheels_by_kind(out)
    assert pip_choice(sys_tags(), listdir(out)) == kinds["cpython"] == returned
    assert pip_would_install(sys.executable, out, tmp_path) in (kinds["cpython"], None)


@requires_cpython
@pytest.mark.parametrize("python", other_interpreters())
def test_pip_picks_the_universal_wheel_elsewhere(demo_wheels, tmp_path, python):
    out, _returned = demo_wheels
    kinds = wheels_by_kind(out)
    assert pip_choice(interpreter_tags(python), listdir(out)) == kinds["universal"]
    chosen = pip_would_install(python, out, tmp_path)
    if chosen is None:
        pytest.skip("pip of %s is older than 22.2 (no --dry-run --report)" % python)
    assert chosen == kinds["universal"]


@requires_cpython
def test_real_installs_from_a_folder_with_both_wheels(demo_wheels, hpy_build_wheel, tmp_path):
    """Installing by name takes the CPython wheel; the universal one pulls in hpy-build."""
    out, _returned = demo_wheels
    kinds = wheels_by_kind(out)
    code = "import hpydemo; print(hpydemo._native.abi(), hpydemo._native.__file__)"

    python = make_venv(tmp_path / "by-name")
    run([python, "-m", "pip", "install", "--no-index", "--find-links", out, "hpy-demo"])
    abi, path = run([python, "-c", code], cwd=tmp_path).stdout.split()[-2:]
    assert abi == "cpython" and path.endswith("_native" + ext_suffix("cpython"))

    python = make_venv(tmp_path / "universal")
    run([python, "-m", "pip", "install", "--no-index",
         "--find-links", os.path.dirname(hpy_build_wheel), out / kinds["universal"]])
    abi, path = run([python, "-c", code], cwd=tmp_path).stdout.split()[-2:]
    assert abi == "universal" and path.endswith("_native.hpy0.so")
    listed = run([python, "-m", "pip", "list", "--format=json"]).stdout
    assert "hpy-build" in {canonicalize_name(d["name"]) for d in json.loads(listed.splitlines()[-1])}
