"""Where two variants' instructions go, function by function, for one benchmark.

    python bench/cgdiff.py "allocate Point()" hpyb-cpython [--against capi] [--workdir DIR]

Reads the callgrind dumps of the last full (or --no-wall) run in the work
directory and prints, per call, each function's own instructions in both
variants and the difference, largest differences first. This is the profile
that explains a ratio above 1.
"""
import argparse
import collections
import glob
import os
import tempfile

from benchmarks import BENCHMARKS, SEP

TRIGGER = "desc: Trigger: Client Request: "


def self_cost(path):
    """{function: its own instructions} from one dump (run.py writes names uncompressed)."""
    cost = collections.Counter()
    fn = None
    after_calls = False
    with open(path) as f:
        for line in f:
            if line.startswith("fn="):
                fn = line[3:].rstrip("\n")
            elif line.startswith("calls="):
                after_calls = True  # the next cost line is the callee's, inclusive
            elif line[:1].isdigit() or line[:1] in "+-*":
                if after_calls:
                    after_calls = False
                elif fn is not None:
                    parts = line.split()
                    if len(parts) >= 2:
                        cost[fn] += int(parts[1])
    return cost


def find_dump(folder, label):
    for path in glob.glob(os.path.join(folder, "callgrind.out.*")):
        with open(path) as f:
            for line in f:
                if line.startswith(TRIGGER):
                    if line[len(TRIGGER):].rstrip("\n") == label:
                        return path
                    break
    raise SystemExit("no callgrind dump for %r in %s: run bench/run.py first" % (label, folder))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark")
    parser.add_argument("variant")
    parser.add_argument("--against", default="capi")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "hpy-build-bench"))
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    n = {b.name: b.n for b in BENCHMARKS}[args.benchmark]
    folder = os.path.join(args.workdir, "callgrind")
    # The empty loop of the same length is subtracted, as in run.py's figures.
    empty = self_cost(find_dump(folder, "empty" + SEP + str(n)))
    base = self_cost(find_dump(folder, SEP.join((args.benchmark, args.against))))
    other = self_cost(find_dump(folder, SEP.join((args.benchmark, args.variant))))
    base.subtract(empty)
    other.subtract(empty)
    print("instructions per call: %s %.0f, %s %.0f" % (
        args.against, sum(base.values()) / n, args.variant, sum(other.values()) / n))
    print("%10s %10s %10s  function" % (args.against, args.variant, "difference"))
    names = sorted(set(base) | set(other), key=lambda k: -abs(other[k] - base[k]))
    for name in names[:args.top]:
        print("%10.1f %10.1f %+10.1f  %s" % (base[name] / n, other[name] / n,
                                             (other[name] - base[name]) / n, name))


if __name__ == "__main__":
    main()
