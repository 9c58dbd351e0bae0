"""What building both wheels costs, against building the CPython-ABI wheel alone.

    python3 bench/build_cost.py [--rounds N] [--workdir DIR] [--results FILE]

Times `python -m build` of sample_ext (the sdist, then both wheels from it)
against `python -m build --wheel -C hpy-abi=cpython` (one wheel, from the
source tree), without build isolation so that only building is timed. The two
commands alternate, in a fresh random order each round, each from a clean tree.
Writes bench/BUILD_COST.md. Needs setuptools, wheel and build in this Python.
"""
import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

from run import ROOT, build_hpy_build, machine, run

SAMPLE = os.path.join(ROOT, "sample_ext")

COMMANDS = {
    "sdist and both wheels": ["-m", "build", "--no-isolation"],
    "CPython-ABI wheel alone": ["-m", "build", "--wheel", "--no-isolation", "-C", "hpy-abi=cpython"],
}


def fresh_copy(work):
    project = os.path.join(work, "sample_ext")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(
        "build", "dist", "*.egg-info", "__pycache__", "*.so", "*.o"))
    return project


def time_once(args, work, site):
    project = fresh_copy(work)
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    run([sys.executable] + args + ["--outdir", out, project], env={"PYTHONPATH": site},
        what="python " + " ".join(args))
    elapsed = time.perf_counter() - start
    made = sorted(os.listdir(out))
    return elapsed, made


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "hpy-build-bench"))
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "BUILD_COST.md"))
    args = parser.parse_args(argv)
    work = os.path.join(os.path.abspath(args.workdir), "build-cost")
    os.makedirs(work, exist_ok=True)
    site = build_hpy_build(work)
    times = {name: [] for name in COMMANDS}
    outputs = {}
    for round_number in range(args.rounds):
        for name in random.sample(list(COMMANDS), len(COMMANDS)):
            elapsed, outputs[name] = time_once(COMMANDS[name], work, site)
            times[name].append(elapsed)
            print("round %d: %s: %.2f s" % (round_number + 1, name, elapsed), flush=True)
    base = "CPython-ABI wheel alone"
    lines = ["| build | made | median s | min s | ratio (median) | ratio (min) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in COMMANDS:
        median, low = statistics.median(times[name]), min(times[name])
        lines.append("| %s | %s | %.2f | %.2f | %.2f | %.2f |" % (
            name, ", ".join(outputs[name]), median, low,
            median / statistics.median(times[base]), low / min(times[base])))
    text = "\n".join([
        "# Build cost",
        "",
        "Written by `python bench/build_cost.py --rounds %d` (see bench/README.md)." % args.rounds,
        "",
    ] + [line.split("; HPy ")[0] for line in machine() if "valgrind" not in line] + [
        "",
        "Wall time of `python -m build` of sample_ext without build isolation, %d interleaved "
        "rounds, each from a clean copy; issue 8's target is a ratio of at most 1.3." % args.rounds,
        "",
    ] + lines) + "\n"
    with open(args.results, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
