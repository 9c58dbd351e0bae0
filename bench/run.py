"""Build every benchmark variant outside the checkout, run it, report ratios.

    python bench/run.py [--smoke] [--only TEXT ...] [--variants ID,...]
                        [--workdir DIR] [--rounds N] [--no-wall] [--no-callgrind]

See bench/README.md. Without --smoke it writes bench/RESULTS.md.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import benchmarks  # noqa: E402
from benchmarks import SEP  # noqa: E402

HPY09 = "0.9.0"
# HPy 0.9.0's setuptools plugin predates setuptools 81's removals.
HPY09_REQUIREMENTS = ["hpy==" + HPY09, "setuptools<81"]

# The variants, in the order of the table's columns. "hook" rows are the ones
# other parts of hpy-build will fill in: they are listed (and reported as not
# run) so that adding one is a builder and a loader, not a new harness.
VARIANTS = [
    {"id": "capi", "label": "C API (baseline)", "kind": "capi", "loader": "cpython"},
    {"id": "hpyb-cpython", "label": "hpy-build CPython ABI", "kind": "hpy-build",
     "abi": "cpython", "loader": "cpython"},
    {"id": "hpyb-universal", "label": "hpy-build universal", "kind": "hpy-build",
     "abi": "universal", "loader": "hpy-build"},
    {"id": "hpyb-debug", "label": "hpy-build universal, debug mode", "kind": "hpy-build",
     "abi": "universal", "loader": "hpy-build-debug"},
    {"id": "hpy09-cpython", "label": "HPy 0.9.0 CPython ABI", "kind": "hpy09",
     "abi": "cpython", "loader": "cpython"},
    {"id": "hpy09-universal", "label": "HPy 0.9.0 universal", "kind": "hpy09",
     "abi": "universal", "loader": "hpy09"},
    {"id": "hpy09-debug", "label": "HPy 0.9.0 universal, debug mode", "kind": "hpy09",
     "abi": "universal", "loader": "hpy09-debug"},
    # PyPy (when pypy3 is installed): a process of its own, wall time only;
    # its baseline is the C-API twin through cpyext (PYPY_BASELINE)
    {"id": "pypy-capi", "label": "PyPy cpyext, C API twin", "kind": "capi", "loader": "cpython",
     "interp": "pypy"},
    {"id": "pypy-cpyext", "label": "PyPy cpyext, hpy-build CPython ABI", "kind": "hpy-build",
     "abi": "cpython", "loader": "cpython", "interp": "pypy"},
    {"id": "pypy-hpyb-universal", "label": "PyPy, hpy-build universal runtime", "kind": "hpy-build",
     "abi": "universal", "loader": "hpy-build", "interp": "pypy"},
]
BASELINE = "capi"
PYPY_BASELINE = "pypy-capi"
PYPY = os.environ.get("HPY_BUILD_BENCH_PYPY", "pypy3")
PYPY_TIMEOUT = 300  # seconds for one PyPy process (a benchmark's rounds take a few)

SOURCES = {
    "bench_hpy": os.path.join(HERE, "src", "bench_hpy.c"),
    "capi_bench": os.path.join(HERE, "src", "capi_bench.c"),
    "callgrind_ctl": os.path.join(HERE, "src", "callgrind_ctl.c"),
    "array": os.path.join(ROOT, "sample_ext", "src", "array.c"),
    "capi_array": os.path.join(ROOT, "sample_ext", "src", "capi_array.c"),
}


class Failed(Exception):
    pass


def log(message):
    print(message, flush=True)


def run(cmd, cwd=None, env=None, what=None):
    """Run cmd; raise Failed with its output if it fails."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    if result.returncode != 0:
        raise Failed("%s failed (exit %d):\n$ %s\n%s" % (
            what or cmd[0], result.returncode, " ".join(cmd), result.stdout[-4000:]))
    return result.stdout


# ---------------------------------------------------------------- preparing

def build_hpy_build(work, python=None, tag=""):
    """hpy-build's wheel from a clean copy of the checkout, built by ``python``
    and unpacked into a folder that goes on PYTHONPATH (so its setuptools
    plugin is found too)."""
    python = python or sys.executable
    src = os.path.join(work, "hpy-build-src" + tag)
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.so", "*.o",
        "sample_ext", "bench", "tests", "_hpy_cffi.c"))
    wheels = os.path.join(work, "hpy-build-wheel" + tag)
    shutil.rmtree(wheels, ignore_errors=True)
    log("building hpy-build's wheel" + (" with " + python if tag else ""))
    run([python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", wheels, src], what="pip wheel hpy-build")
    site = os.path.join(work, "hpy-build-site" + tag)
    shutil.rmtree(site, ignore_errors=True)
    with zipfile.ZipFile(glob.glob(os.path.join(wheels, "hpy_build-*.whl"))[0]) as whl:
        whl.extractall(site)
    return site


def pypy_python(work):
    """The python of a PyPy venv with setuptools (made once), or None without pypy3."""
    exe = shutil.which(PYPY)
    if exe is None:
        return None
    venv = os.path.join(work, "venv-pypy")
    python = os.path.join(venv, "bin", "python")
    probe = "import setuptools, wheel, cffi; assert int(setuptools.__version__.split('.')[0]) >= 70"
    if os.path.exists(python) and subprocess.run([python, "-c", probe], cwd=work).returncode == 0:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    log("making a PyPy venv (%s)" % exe)
    run([exe, "-m", "venv", venv], cwd=work, what="pypy venv")
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "setuptools>=70.1", "wheel"], cwd=work, what="pip install setuptools (PyPy)")
    run([python, "-c", probe], cwd=work, what="PyPy venv check")
    return python


def hpy09_python(work):
    """The python of a venv holding HPy 0.9.0 from the package index (made once)."""
    venv = os.path.join(work, "venv-hpy09")
    python = os.path.join(venv, "bin", "python")
    probe = "import hpy.devel, hpy.universal, hpy.devel.version as v; assert v.__version__ == %r" % HPY09
    # From the work dir: in the checkout, '' on sys.path would find hpy-build's
    # own hpy/ (HPy 0.9's names as aliases) before HPy 0.9's.
    if os.path.exists(python) and subprocess.run([python, "-c", probe], cwd=work).returncode == 0:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    log("making a venv with HPy %s from the package index" % HPY09)
    run([sys.executable, "-m", "venv", venv], cwd=work, what="venv")
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        + HPY09_REQUIREMENTS, cwd=work, what="pip install hpy==%s" % HPY09)
    run([python, "-c", probe], cwd=work, what="HPy %s check" % HPY09)
    return python


def module_name(variant, kind):
    return "%s_%s" % (kind, variant["id"].replace("-", "_"))


_SETUP = """\
from setuptools import Extension, setup
setup(name={name!r}, version="0", {keyword}=[
{extensions}])
"""


def build_variant(variant, work, site, py09, pypy=None):
    """Build the variant's modules; return {module kind: manifest entry}.
    PyPy's variants are built by PyPy (``pypy``: (python, hpy-build site))."""
    out = os.path.join(work, "build", variant["id"])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    names = {"bench": module_name(variant, "bench"), "array": module_name(variant, "array")}
    own = sys.executable
    if variant.get("interp") == "pypy":
        own, site = pypy
    if variant["kind"] == "capi":
        python, env, keyword, args = own, {}, "ext_modules", []
        exts = [(names["bench"], SOURCES["capi_bench"], "capi_bench"),
                (names["array"], SOURCES["capi_array"], "_capi_array")]
    else:
        if variant["kind"] == "hpy-build":
            python, env = own, {"PYTHONPATH": site}
        else:
            python, env = py09, {}
        keyword, args = "hpy_ext_modules", ["--hpy-abi=" + variant["abi"]]
        exts = [(names["bench"], SOURCES["bench_hpy"], None),
                (names["array"], SOURCES["array"], "_array")]
    # Our sources are warning-free; HPy 0.9.0's own headers are not (casts
    # between function types), so its variants keep the default warnings.
    warnings = [] if variant["kind"] == "hpy09" else ["-Wall", "-Wextra", "-Werror"]
    lines = []
    for name, source, init_name in exts:
        text = open(source).read()
        if init_name is not None:
            # The module's name in its init function, so every variant loads
            # side by side in one process; the source is otherwise as is.
            pattern = r"\bPyInit_%s\b" % init_name if variant["kind"] == "capi" \
                else r"HPy_MODINIT\(%s," % init_name
            replacement = "PyInit_" + name if variant["kind"] == "capi" \
                else "HPy_MODINIT(%s," % name
            text, count = re.subn(pattern, replacement, text)
            assert count == 1, (source, pattern)
        local = os.path.join(out, name + ".c")
        with open(local, "w") as f:
            f.write(text)
        lines.append("    Extension(%r, [%r], define_macros=[('BENCH_MODULE', %r)], "
                     "extra_compile_args=%r)," % (name, local, name, warnings))
    with open(os.path.join(out, "setup.py"), "w") as f:
        f.write(_SETUP.format(name=variant["id"], keyword=keyword, extensions="\n".join(lines)))
    # --hpy-abi before the command: the one place both toolchains read it.
    run([python, "setup.py", "-q"] + args + ["build_ext", "--inplace"], cwd=out, env=env,
        what="building %s" % variant["label"])
    entries = {}
    for kind, name in names.items():
        found = [p for p in glob.glob(os.path.join(out, name + ".*"))
                 if p.endswith(".so") and os.path.isfile(p)]
        if len(found) != 1:
            raise Failed("%s: expected one binary for %s, found %s" % (variant["id"], name, found))
        entries[kind] = {"name": name, "path": found[0], "loader": variant["loader"]}
    return entries


def build_callgrind_ctl(work):
    out = os.path.join(work, "build", "callgrind_ctl")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open(os.path.join(out, "setup.py"), "w") as f:
        f.write(_SETUP.format(name="callgrind_ctl", keyword="ext_modules", extensions=(
            "    Extension('callgrind_ctl', [%r], extra_compile_args=['-Wall', '-Wextra', '-Werror']),")
            % SOURCES["callgrind_ctl"]))
    if shutil.which("valgrind") is None:
        raise Failed("valgrind is not installed: install it (with its headers) or pass --no-callgrind")
    run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=out,
        what="building callgrind_ctl (needs valgrind's headers)")
    return out


# ---------------------------------------------------------------- measuring

def _callgrind_dumps(folder):
    """{label: instructions} from callgrind's dump files."""
    counts = {}
    for path in glob.glob(os.path.join(folder, "callgrind.out*")):
        label = total = None
        with open(path) as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    label = line[len("desc: Trigger: Client Request: "):].rstrip("\n")
                elif line.startswith(("summary:", "totals:")):
                    total = int(line.split()[1])
        if label is not None and total is not None:
            counts[label] = total
    return counts


def measure_callgrind(python, manifest_path, work):
    folder = os.path.join(work, "callgrind")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    out = os.path.join(work, "callgrind.json")
    log("counting instructions under callgrind (slow)")
    # Uncompressed names: each dump file reads alone in callgrind_annotate.
    run(["valgrind", "--tool=callgrind", "--collect-atstart=no", "--compress-strings=no",
         "--callgrind-out-file=" + os.path.join(folder, "callgrind.out"),
         python, os.path.join(HERE, "benchmarks.py"), "callgrind", manifest_path, out],
        env={"PYTHONHASHSEED": "0"},  # the same dict probes, run after run
        what="valgrind --tool=callgrind")
    with open(out) as f:
        info = json.load(f)
    counts = _callgrind_dumps(folder)
    per_call = {}
    for label in info["labels"]:
        name = label.split(SEP)[0]
        n = info["n"][name]
        per_call[label] = (counts[label] - counts["empty" + SEP + str(n)]) / n
    return per_call


def measure_wall(python, manifest_path, work, rounds):
    out = os.path.join(work, "wall.json")
    log("timing, %d interleaved rounds" % rounds)
    run([python, os.path.join(HERE, "benchmarks.py"), "wall", manifest_path, out, str(rounds)],
        what="wall-time run")
    with open(out) as f:
        return json.load(f)


def _signal_reason(result):
    code = result.returncode
    what = "killed by signal %d" % -code if code < 0 else "exit %d" % code
    if result.stdout.startswith("timed out"):
        what = result.stdout.splitlines()[0]
    tail = [line for line in result.stdout.splitlines() if line.strip()][-3:]
    return "%s under PyPy%s" % (what, (": " + " / ".join(tail)[-300:]) if tail else "")


def _pypy_run(python, manifest, work, name, mode, *extra):
    """benchmarks.py MODE in a PyPy process: (subprocess result, its JSON or None)."""
    path = os.path.join(work, "manifest-%s.json" % name)
    out = os.path.join(work, "%s-%s.json" % (mode, name))
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)
    if os.path.exists(out):
        os.remove(out)
    try:
        result = subprocess.run([python, os.path.join(HERE, "benchmarks.py"), mode, path, out] + list(extra),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                timeout=PYPY_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        # seen once: RK4 with cpyext's C API and the cffi runtime interleaved in one process
        out_text = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
        return subprocess.CompletedProcess(exc.cmd, -9, "timed out after %d s\n%s" % (
            PYPY_TIMEOUT, out_text or "")), None
    data = None
    if result.returncode == 0:
        with open(out) as f:
            data = json.load(f)
    return result, data


def pypy_check(python, site, variants, work, only, expected):
    """Check PyPy's variants, one process per variant and module: a crash
    (cpyext has segfaulted on the Array) skips just the crashing cells, each
    found by a process of its own, and says why.
    Returns (variants that ran, their results, {cell: reason}, failures)."""
    results, crashed, kept_variants = {}, {}, []
    benches = [b for b in benchmarks.BENCHMARKS if not only or any(t in b.name for t in only)]
    for variant in variants:
        kept = {}
        for kind, entry in variant["modules"].items():
            base = {"variants": [dict(variant, modules={kind: entry})], "baseline": PYPY_BASELINE,
                    "sys_path": [site], "only": only}
            name = "%s-%s" % (variant["id"], kind)
            result, data = _pypy_run(python, base, work, name, "check")
            if data is None:  # find the cells that crash, one process each
                log("%s crashed (%s); checking its benchmarks one by one" % (name, _signal_reason(result)))
                data = {"results": {}}
                for bench in benches:
                    if bench.module != kind:
                        continue
                    one, got = _pypy_run(python, dict(base, benches=[bench.name]), work, name, "check")
                    if got is None:
                        crashed[SEP.join((bench.name, variant["id"]))] = _signal_reason(one)
                    else:
                        data["results"].update(got["results"])
            results.update(data["results"])
            kept[kind] = entry
        kept_variants.append(dict(variant, modules=kept))
    found = {tuple(k.split(SEP)): v for k, v in results.items()}
    failures = benchmarks.compare(found, None, expected)
    return kept_variants, results, crashed, failures


def pypy_wall(python, site, variants, work, only, skip, rounds):
    """PyPy's wall times: one process per benchmark, its variants interleaved
    in it as on CPython (one process per variant if that one dies). In one
    process for all, the garbage of the other benchmarks made the collector's
    pauses land on the allocating ones (10x medians, varying run to run)."""
    log("timing PyPy's variants, %d interleaved rounds, a process per benchmark" % rounds)
    wall, lost = {}, {}
    benches = [b for b in benchmarks.BENCHMARKS if not only or any(t in b.name for t in only)]
    for bench in benches:
        manifest = {"variants": variants, "baseline": PYPY_BASELINE, "sys_path": [site],
                    "benches": [bench.name], "skip_cells": sorted(skip)}
        result, data = _pypy_run(python, manifest, work, "pypy", "wall", str(rounds))
        if data is not None:
            wall.update(data)
            continue
        log("the PyPy timing process of %s died (%s); one process per variant" % (
            bench.name, _signal_reason(result)))
        for variant in variants:
            result, data = _pypy_run(python, dict(manifest, variants=[variant]), work, variant["id"],
                                     "wall", str(rounds))
            if data is None:
                lost[SEP.join((bench.name, variant["id"]))] = _signal_reason(result)
            else:
                wall.update(data)
    return wall, lost


# ---------------------------------------------------------------- reporting

def _ratio(value, base):
    return "%.2f" % (value / base) if value is not None and base else "-"


def table(benches, variants, cg, wall):
    ids = [v["id"] for v in variants if v["id"] != BASELINE]
    head = ["benchmark", "C API: Ir/call", "C API: ns/call (median)"] + [
        v["label"] for v in variants if v["id"] != BASELINE]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for bench in benches:
        base_cg = cg.get(SEP.join((bench.name, BASELINE)))
        base_wall = wall.get(SEP.join((bench.name, BASELINE)), {}).get("median")
        cells = [bench.name.replace("|", "\\|"), "%.0f" % base_cg if base_cg else "-",
                 "%.0f" % (base_wall * 1e9) if base_wall else "-"]
        for vid in ids:
            key = SEP.join((bench.name, vid))
            if key not in cg and key not in wall:
                cells.append("-")
                continue
            w = wall.get(key)
            cell = _ratio(cg.get(key), base_cg)
            if w is not None:
                cell += " (%s, min %s)" % (_ratio(w["median"], base_wall), _ratio(
                    w["min"], wall[SEP.join((bench.name, BASELINE))]["min"]))
            cells.append(cell)
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def pypy_table(benches, variants, wall, crashed, lost):
    """PyPy's table: wall time only, ratios to the C-API twin under cpyext,
    and how many times faster than it hpy-build's universal runtime is."""
    ids = [v["id"] for v in variants if v["id"] != PYPY_BASELINE]
    labels = {v["id"]: v["label"] for v in variants}
    head = ["benchmark", "cpyext C API: ns/call (median)"] + [labels[i] for i in ids]
    if "pypy-hpyb-universal" in ids:
        head.append("universal runtime: x faster than cpyext C API (median)")
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for bench in benches:
        base = wall.get(SEP.join((bench.name, PYPY_BASELINE)))
        cells = [bench.name.replace("|", "\\|"), "%.0f" % (base["median"] * 1e9) if base else "-"]
        for vid in ids + (["speedup"] if "pypy-hpyb-universal" in ids else []):
            key = SEP.join((bench.name, vid if vid != "speedup" else "pypy-hpyb-universal"))
            w = wall.get(key)
            if key in crashed:
                cells.append("crashed (see below)")
            elif key in lost:
                cells.append("process died (see below)")
            elif w is None or base is None:
                cells.append("-")
            elif vid == "speedup":
                cells.append("%.1fx" % (base["median"] / w["median"]))
            else:
                cells.append("%s (min %s; %.0f ns)" % (_ratio(w["median"], base["median"]),
                                                      _ratio(w["min"], base["min"]), w["median"] * 1e9))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _version(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True).stdout.splitlines()[0].strip()
    except (OSError, IndexError):
        return "not found"


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = _version(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = _version(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return [
        "- date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- machine: %s, %s, %d CPUs (shared)" % (platform.machine(), cpu, os.cpu_count() or 0),
        "- system: %s" % platform.platform(),
        "- CPython: %s (%s)" % (platform.python_version(), sys.executable),
        "- compiler: %s" % _version(["cc", "--version"]),
        "- valgrind: %s" % _version(["valgrind", "--version"]),
        "- hpy-build: commit %s%s; HPy %s from the package index" % (
            commit, " (with local changes)" if dirty and dirty != "not found" else "", HPY09),
    ]


def write_results(path, variants, skipped, cg, wall, rounds, argv, pypy_info=None):
    benches = [b for b in benchmarks.BENCHMARKS if SEP.join((b.name, BASELINE)) in cg or
               SEP.join((b.name, BASELINE)) in wall]
    lines = ["# Benchmark results", "",
             "Written by `python bench/run.py%s` (see bench/README.md for the method)." % (
                 " " + " ".join(argv) if argv else ""), ""] + machine() + [
        "", "Each cell: instructions per call as a ratio to the C-API baseline (callgrind, "
        "deterministic; the figure the targets of issue 8 use), then wall time per call as "
        "ratios of the median and of the minimum over %d interleaved rounds (noisy on a shared "
        "machine). Lower is better; 1.00 is the speed of the hand-written C-API code. "
        "The interpreter's loop around each call is measured alone and subtracted from the "
        "instructions, so these ratios are stricter than ones taken over the whole loop." % rounds,
        ""] + table(benches, variants, cg, wall) + [""]
    if pypy_info and pypy_info["variants"]:
        pwall = pypy_info["wall"]
        pbenches = [b for b in benchmarks.BENCHMARKS
                    if any(SEP.join((b.name, v["id"])) in pwall for v in pypy_info["variants"])]
        lines += ["## PyPy", "",
                  "%s (%s), a process per benchmark. Wall time only: callgrind's counts mean little "
                  "under a JIT (they would count the tracing and compiling). Each cell's loop runs "
                  "%.1f s before the rounds so that the JIT has compiled it. Ratios to the C-API "
                  "twin built by PyPy and run through cpyext (median, then minimum; lower is "
                  "better), then the median ns per call; the last column is the cpyext C API's "
                  "time over the universal runtime's (3.0x is the issue's target)." % (
                      _version([pypy_info["python"], "--version"]).replace("\n", " "),
                      pypy_info["python"], benchmarks.JIT_WARMUP), ""]
        lines += pypy_table(pbenches, pypy_info["variants"], pwall, pypy_info["crashed"],
                            pypy_info["lost"]) + [""]
        notes = ["- %s, %s: %s" % (tuple(cell.split(SEP)) + (reason,))
                 for cell, reason in sorted(pypy_info["crashed"].items())]
        notes += ["- %s, %s (timing): %s" % (tuple(cell.split(SEP)) + (reason,))
                  for cell, reason in sorted(pypy_info["lost"].items())]
        if notes:
            lines += ["Skipped on PyPy:", ""] + notes + [""]
    if skipped:
        lines += ["Not run:", ""] + ["- %s: %s" % (v["label"], v["reason"]) for v in skipped] + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return lines


# ---------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="build every variant and check they agree; no timing")
    parser.add_argument("--only", nargs="+", default=[],
                        help="benchmarks whose name contains one of these texts")
    parser.add_argument("--variants", default="",
                        help="comma-separated variant ids (default: all that can run)")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "hpy-build-bench"))
    parser.add_argument("--rounds", type=int, default=30, help="wall-time rounds")
    parser.add_argument("--no-wall", action="store_true")
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--summary", help="write what ran and what failed here (JSON)")
    args = parser.parse_args(argv)
    raw_argv = list(argv if argv is not None else sys.argv[1:])

    work = os.path.abspath(args.workdir)
    if os.path.commonpath([work, ROOT]) == ROOT:
        parser.error("--workdir must be outside the checkout")
    os.makedirs(work, exist_ok=True)
    if args.only:
        benchmarks.BENCHMARKS[:] = [b for b in benchmarks.BENCHMARKS
                                    if any(t in b.name for t in args.only)]
    wanted = set(filter(None, args.variants.split(","))) | {BASELINE}
    if any(v.get("interp") == "pypy" and v["id"] in wanted for v in VARIANTS):
        wanted.add(PYPY_BASELINE)
    summary = {"ran": [], "skipped": {}, "failures": [], "pypy_crashed": {}}

    site = build_hpy_build(work)
    pypy, pypy_reason = None, "%s is not installed (HPY_BUILD_BENCH_PYPY names another PyPy)" % PYPY
    if any(v.get("interp") == "pypy" and (not args.variants or v["id"] in wanted) for v in VARIANTS):
        try:
            pypy_py = pypy_python(work)
            if pypy_py is not None:
                pypy = (pypy_py, build_hpy_build(work, pypy_py, "-pypy"))
        except Failed as exc:
            pypy_reason = "PyPy's hpy-build could not be built: %s" % str(exc)[-500:]
    py09 = None
    if any(v["kind"] == "hpy09" for v in VARIANTS):
        try:
            py09 = hpy09_python(work)
        except Failed as exc:
            summary["hpy09_error"] = str(exc)
            log("HPy %s is not available, its variants are skipped:\n%s" % (HPY09, exc))

    built, skipped = [], []
    for variant in VARIANTS:
        if args.variants and variant["id"] not in wanted:
            continue
        reason = variant.get("reason")
        if variant["kind"] == "hpy09" and py09 is None:
            reason = "HPy %s could not be installed from the package index" % HPY09
        if variant.get("interp") == "pypy" and pypy is None:
            reason = pypy_reason
        if reason:
            skipped.append(dict(variant, reason=reason))
            summary["skipped"][variant["id"]] = reason
            continue
        log("building %s" % variant["label"])
        entry = dict(variant, modules=build_variant(variant, work, site, py09, pypy))
        built.append(entry)

    sys_path = [site]
    use_callgrind = not (args.smoke or args.no_callgrind)
    if use_callgrind:
        sys_path.append(build_callgrind_ctl(work))
    on_pypy = [v for v in built if v.get("interp") == "pypy"]
    built = [v for v in built if v.get("interp") != "pypy"]
    manifest = {"variants": built, "baseline": BASELINE, "sys_path": sys_path, "only": args.only}
    manifest_path = os.path.join(work, "manifest.json")
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
    # HPy 0.9.0's runtime lives in its venv; hpy-build's comes from sys_path.
    python = py09 or sys.executable

    log("checking that every variant gives the baseline's results")
    check_out = os.path.join(work, "check.json")
    run([python, os.path.join(HERE, "benchmarks.py"), "check", manifest_path, check_out],
        what="check run")
    with open(check_out) as f:
        checked = json.load(f)
    summary["ran"] = [v["id"] for v in built]
    summary["checked"] = list(checked["checked"])
    summary["failures"] = list(checked["failures"])
    crashed = {}
    if on_pypy:
        log("checking PyPy's variants against the C API's results")
        expected = {k.split(SEP)[0]: v for k, v in checked["results"].items()
                    if k.split(SEP)[1] == BASELINE}
        on_pypy, results, crashed, failures = pypy_check(pypy[0], pypy[1], on_pypy, work, args.only,
                                                         expected)
        summary["ran"] += [v["id"] for v in on_pypy]
        summary["checked"] += ["%s | %s" % tuple(k.split(SEP)) for k in sorted(results)]
        summary["failures"] += failures
        summary["pypy_crashed"] = crashed
        for cell, reason in sorted(crashed.items()):
            log("SKIPPED on PyPy (crashed): %s: %s" % (cell.replace(SEP, ", "), reason))
    for failure in summary["failures"]:
        log("MISMATCH " + failure)
    log("%d cells checked, %d mismatches; variants: %s; not run: %s" % (
        len(summary["checked"]), len(summary["failures"]), ", ".join(summary["ran"]),
        ", ".join(summary["skipped"]) or "none"))
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    if summary["failures"] or args.smoke:
        return 1 if summary["failures"] else 0

    cg = {} if not use_callgrind else measure_callgrind(python, manifest_path, work)
    wall = {} if args.no_wall else measure_wall(python, manifest_path, work, args.rounds)
    pypy_wall_times, lost = {}, {}
    if on_pypy and not args.no_wall:
        pypy_wall_times, lost = pypy_wall(pypy[0], pypy[1], on_pypy, work, args.only, crashed,
                                          args.rounds)
    pypy_info = {"variants": on_pypy, "wall": pypy_wall_times, "crashed": crashed, "lost": lost,
                 "python": pypy[0] if pypy else None}
    lines = write_results(args.results, built, skipped, cg, wall, args.rounds, raw_argv, pypy_info)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
