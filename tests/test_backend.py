"""hpy_build.backend through real frontends: pyproject_hooks, pip and build."""
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from buildtools import (  # noqa: F401  (fixtures, and the fixtures they use)
    ON_CPYTHON, build_python, call_backend, checkout_copy, demo_wheels, dependency_wheelhouse,
    describe_module, ext_suffix, fresh_python, hpy_build_wheel, hpy_module_source, listdir,
    make_project, requires_cpython, run, wheel_files,
)

CP_TAG = "cp%d%d" % sys.version_info[:2]


def only_tag(wheel_name):
    _name, _version, _build, tags = parse_wheel_filename(wheel_name)
    assert len(tags) == 1, tags
    return next(iter(tags))


def wheels_in(folder):
    return [name for name in listdir(folder) if name.endswith(".whl")]


@requires_cpython
def test_default_builds_both_wheels_and_returns_the_cpython_one(demo_wheels):
    out, returned = demo_wheels
    # the two wheels and nothing else: the staging directory is gone
    assert len(listdir(out)) == 2 and len(wheels_in(out)) == 2, listdir(out)
    assert returned in listdir(out)
    tags = {only_tag(name): name for name in listdir(out)}
    assert {(t.interpreter, t.abi) for t in tags} == {(CP_TAG, CP_TAG), ("py3", "none")}
    assert only_tag(returned).interpreter == CP_TAG
    # built side by side, each from its own metadata: only the universal wheel needs the runtime
    for tag, name in tags.items():
        names, metadata = wheel_files(out / name)
        requires = metadata.get_all("Requires-Dist") or []
        if tag.abi == "none":
            assert any(r.startswith("hpy-build") for r in requires), requires
            assert "hpydemo/_native.hpy0.so" in names and "hpydemo/_native.py" in names, names
        else:
            assert not any(r.startswith("hpy-build") for r in requires), requires
            assert not any(n.endswith(".hpy0.so") or n == "hpydemo/_native.py" for n in names), names


@pytest.mark.parametrize("abi", ["universal", "cpython", "hybrid"])
def test_config_setting_builds_one_abi(build_python, tmp_path, abi):
    if abi != "universal" and not ON_CPYTHON:
        pytest.skip("the %s ABI is only built on CPython" % abi)
    project = make_project(tmp_path / "project")
    out = tmp_path / "out"
    returned = call_backend(build_python, project, "build_wheel", str(out),
                            config_settings={"hpy-abi": abi})
    assert listdir(out) == [returned]
    tag = only_tag(returned)
    names, _metadata = wheel_files(out / returned)
    assert "mymod" + ext_suffix(abi) in names
    if abi == "universal":
        assert (tag.interpreter, tag.abi) == ("py3", "none")
    else:
        assert (tag.interpreter, tag.abi) == (CP_TAG, CP_TAG)
    assert ("mymod.py" in names) == (abi != "cpython")


def test_pip_wheel_with_config_setting(build_python, tmp_path):
    """``pip wheel . -C hpy-abi=universal`` gives the universal wheel only."""
    project = make_project(tmp_path / "project", setup_extra="python_requires='>=3.6,<4',")
    out = tmp_path / "out"
    run([build_python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "-C", "hpy-abi=universal", "-w", out, "."], cwd=project)
    wheels = wheels_in(out)
    assert len(wheels) == 1
    assert only_tag(wheels[0]) == Tag("py3", "none", only_tag(wheels[0]).platform)
    # the project's range, cut to what the universal runtime supports
    _names, metadata = wheel_files(out / wheels[0])
    assert SpecifierSet(metadata["Requires-Python"]) == SpecifierSet(">=3.8,<4")


def test_unknown_config_setting_is_rejected(build_python, tmp_path):
    project = make_project(tmp_path / "project")
    out = tmp_path / "out"
    result = run([build_python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
                  "-C", "hpy-abi=bogus", "-w", out, "."], cwd=project, check=False)
    assert result.returncode != 0
    assert ("unknown config setting hpy-abi='bogus': choose one of "
            "cpython, universal, hybrid, both") in result.stdout
    assert wheels_in(out) == []


def test_unknown_config_setting_in_every_hook(build_python, tmp_path):
    project = make_project(tmp_path / "project")
    for hook, args in [("get_requires_for_build_wheel", ()),
                       ("prepare_metadata_for_build_wheel", (str(tmp_path / "meta"),)),
                       ("build_sdist", (str(tmp_path / "sdist"),)),
                       ("build_editable", (str(tmp_path / "editable"),))]:
        with pytest.raises(subprocess.CalledProcessError) as failure:
            call_backend(build_python, project, hook, *args, config_settings={"hpy-abi": "x"})
        assert "choose one of cpython, universal, hybrid, both" in failure.value.output, hook


@requires_cpython
def test_failure_in_the_second_abi_leaves_no_wheel(build_python, tmp_path):
    """The CPython-ABI wheel builds, the universal one does not: nothing lands in --outdir."""
    source = hpy_module_source(
        "mymod", before="#ifdef HPY_ABI_UNIVERSAL\nthis is not C;\n#endif\n")
    project = make_project(tmp_path / "project", source=source)
    out = tmp_path / "out"
    out.mkdir()
    result = run([build_python, "-m", "build", "--wheel", "--no-isolation", "--outdir", out,
                  project], check=False)
    assert result.returncode != 0
    # the first wheel was really made before the failure...
    assert "mymod" + ext_suffix("cpython") in result.stdout
    # ...the compiler said what is wrong, and hpy-build which ABI failed
    assert "src/mymod.c:2:" in result.stdout and "error:" in result.stdout
    assert "building 'mymod' for the universal ABI failed" in result.stdout
    assert listdir(out) == []


@requires_cpython
def test_failure_in_the_first_abi_stops_the_other(build_python, tmp_path):
    """The CPython-ABI build fails while the universal one runs beside it: one clear
    failure, the other build stopped unseen, nothing in --outdir and no staging left."""
    source = hpy_module_source(
        "mymod", before="#ifdef HPY_ABI_CPYTHON\nthis is not C;\n#endif\n")
    project = make_project(tmp_path / "project", source=source)
    out = tmp_path / "out"
    out.mkdir()
    result = run([build_python, "-m", "build", "--wheel", "--no-isolation", "--outdir", out,
                  project], check=False)
    assert result.returncode != 0
    assert "building 'mymod' for the cpython ABI failed" in result.stdout
    assert "could not build the wheel for the cpython ABI" in result.stdout
    assert "hpy-universal" not in result.stdout  # the stopped build's log is not shown
    assert listdir(out) == []


def test_sdist_has_the_sources(build_python, tmp_path):
    project = make_project(tmp_path / "project")
    out = tmp_path / "out"
    name = call_backend(build_python, project, "build_sdist", str(out),
                        config_settings={"hpy-abi": "universal"})
    assert listdir(out) == [name] and name.endswith(".tar.gz")
    with tarfile.open(str(out / name)) as archive:
        members = {member.split("/", 1)[1] for member in archive.getnames() if "/" in member}
    assert {"setup.py", "pyproject.toml", "src/mymod.c"} <= members
    assert not [m for m in members if m.endswith((".so", ".o"))]


@pytest.mark.parametrize("abi", ["cpython", "universal"])
def test_prepared_metadata_matches_the_abi(build_python, tmp_path, abi):
    if abi == "cpython" and not ON_CPYTHON:
        pytest.skip("the CPython ABI is only built on CPython")
    project = make_project(tmp_path / "project")
    meta = tmp_path / "meta"
    meta.mkdir()
    info = call_backend(build_python, project, "prepare_metadata_for_build_wheel", str(meta),
                        config_settings={"hpy-abi": abi})
    text = (meta / info / "METADATA").read_text()
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    if abi == "universal":
        assert [r for r in requires if "hpy-build" in r], text
    else:
        assert requires == [], text


@pytest.mark.parametrize("abi", ["cpython", "universal"])
def test_editable_install(fresh_python, tmp_path, abi):
    if abi == "cpython" and not ON_CPYTHON:
        pytest.skip("the CPython ABI is only built on CPython")
    project = make_project(tmp_path / "project")
    run([fresh_python, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
         "-C", "hpy-abi=" + abi, "-e", project])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    module = describe_module(fresh_python, "mymod", None, elsewhere)
    assert module == {"answer": 42, "abi": abi,
                      "file": str(project / ("mymod" + ext_suffix(abi)))}


@requires_cpython
def test_isolated_pip_install_offline(tmp_path, hpy_build_wheel, dependency_wheelhouse):
    """Build isolation: pip installs hpy-build and setuptools from local wheels only."""
    project = make_project(tmp_path / "project")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = os.path.join(str(venv), "bin", "python")
    run([python, "-m", "pip", "install", "--no-index",
         "--find-links", os.path.dirname(hpy_build_wheel),
         "--find-links", dependency_wheelhouse, project])
    module = describe_module(python, "mymod", None, tmp_path)
    assert module["answer"] == 42 and module["abi"] == "cpython"
    # the preferred wheel needs no runtime: hpy-build was only a build requirement
    show = run([python, "-m", "pip", "show", "hpy-build"], check=False)
    assert show.returncode != 0


def test_pypy_builds_both_and_prefers_universal(tmp_path, tmp_path_factory):
    """On PyPy, whose bundled ``hpy`` package claims hpy_ext_modules as well."""
    pypy = shutil.which("pypy3")
    if pypy is None:
        pytest.skip("no pypy3 on PATH")
    run([pypy, "-m", "venv", tmp_path / "venv"])
    python = os.path.join(str(tmp_path / "venv"), "bin", "python")
    deps = run([python, "-m", "pip", "install", "--quiet", "setuptools>=70.1", "packaging>=22"],
               check=False)
    if deps.returncode != 0:
        pytest.skip("cannot install setuptools/packaging for PyPy:\n" + deps.stdout[-2000:])
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         checkout_copy(tmp_path_factory)])
    project = make_project(tmp_path / "project")
    out = tmp_path / "out"
    returned = call_backend(python, project, "build_wheel", str(out))
    tags = {only_tag(name): name for name in wheels_in(out)}
    assert len(tags) == 2
    universal = [name for tag, name in tags.items() if (tag.interpreter, tag.abi) == ("py3", "none")]
    cpyext = [name for tag, name in tags.items() if tag.interpreter.startswith("pp")]
    assert returned == universal[0] and len(cpyext) == 1
    # the CPython-ABI build runs on PyPy through its C-API emulation
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(str(out / cpyext[0])) as archive:
        archive.extractall(str(unpacked))
    module = describe_module(python, "mymod", unpacked, tmp_path)
    assert module["answer"] == 42 and module["abi"] == "cpython"
    # the universal build runs on PyPy through hpy-build's cffi runtime
    unpacked_universal = tmp_path / "unpacked-universal"
    with zipfile.ZipFile(str(out / universal[0])) as archive:
        archive.extractall(str(unpacked_universal))
    module = describe_module(python, "mymod", unpacked_universal, tmp_path)
    assert module["answer"] == 42 and module["abi"] == "universal"
