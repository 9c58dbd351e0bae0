"""The benchmarks, and the process that runs them (``run.py`` starts it).

Every benchmark is one Python statement (``stmt``) run in a loop that the
harness compiles once per benchmark and variant, like ``timeit`` does::

    def loop(n, <names>):
        for _ in range(n):
            <stmt>

The names come from ``setup(mod)`` (``mod`` is the variant's module). An
empty loop with the same ``n`` is the baseline that callgrind's count has
subtracted, so "instructions per call" is the cost of ``stmt`` alone (the
call from the interpreter into C and back, and what the C code does).

Run as a script: ``python benchmarks.py MODE MANIFEST OUT`` where MODE is
``check`` (each statement once per variant; results must agree with the
C-API baseline), ``wall`` or ``callgrind``; MANIFEST (JSON, written by
run.py) says where each variant's binaries are and how to load them.
"""
import gc
import importlib.util
import json
import random
import statistics
import sys
import time


SEP = " :: "
ON_PYPY = sys.implementation.name == "pypy"
JIT_WARMUP = 0.3  # seconds of each cell's loop before PyPy's rounds  # between a benchmark's and a variant's name in labels


class Bench:
    def __init__(self, name, group, module, stmt, setup, check=None, n=1000, what=""):
        self.name = name
        self.group = group
        self.module = module    # "bench" (bench_hpy.c) or "array" (sample_ext's Array)
        self.stmt = stmt
        self.setup = setup      # mod -> {name: value} for the loop's locals
        self.check = check or stmt  # an expression whose repr must agree across variants
        self.n = n              # calls per measured loop
        self.what = what


def _rk4(Array, arrays, h):
    """A Runge-Kutta step of dy/dt = -y for each small array: 4 evaluations,
    a dozen elementwise operations each."""
    out = []
    for y in arrays:
        k1 = y * -1.0
        k2 = (y + k1 * (h / 2)) * -1.0
        k3 = (y + k2 * (h / 2)) * -1.0
        k4 = (y + k3 * h) * -1.0
        out.append(y + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6))
    return out


def _marked(kind):
    """1000 ints and one string that item_count finds by identity. Not an int:
    cpyext gives each read of an int out of PyPy's int-only list a new
    PyObject, so the C API's pointer comparison would never match there."""
    items = list(range(1000))
    items[7] = x = "seven"
    return {"s": kind(items), "x": x}


def _array_setup(mod, size):
    A = mod.Array
    return {"a": A([float(i) for i in range(size)]), "b": A([0.5 * i for i in range(size)])}


BENCHMARKS = [
    # calls of each signature
    Bench("call NOARGS", "calls", "bench", "f()", lambda m: {"f": m.f_noargs}),
    Bench("call O", "calls", "bench", "f(x)", lambda m: {"f": m.f_o, "x": 1}),
    Bench("call VARARGS (2 args)", "calls", "bench", "f(x, y)",
          lambda m: {"f": m.f_varargs, "x": 1, "y": 2}),
    Bench("call KEYWORDS (1 arg + 1 kw)", "calls", "bench", "f(x, k=y)",
          lambda m: {"f": m.f_keywords, "x": 1, "y": 2}),
    # argument parsing
    Bench("HPyArg_Parse \"O\"", "parsing", "bench", "f(x)", lambda m: {"f": m.parse_1, "x": 1}),
    Bench("HPyArg_Parse \"OO\"", "parsing", "bench", "f(x, y)",
          lambda m: {"f": m.parse_2, "x": 1, "y": 2}),
    Bench("HPyArg_Parse \"OOOOO\"", "parsing", "bench", "f(x, x, x, x, y)",
          lambda m: {"f": m.parse_5, "x": 1, "y": 2}),
    Bench("HPyArg_ParseKeywords \"O\", b=\"O\"", "parsing", "bench", "f(x, b=y)",
          lambda m: {"f": m.parse_kw, "x": 1, "y": 2}),
    # item access: n calls, each over 1000 items
    Bench("GetItem_i loop, list[1000]", "items", "bench", "f(s, x)",
          lambda m: dict(_marked(list), f=m.item_count), n=20),
    Bench("GetItem_i loop, tuple[1000]", "items", "bench", "f(s, x)",
          lambda m: dict(_marked(tuple), f=m.item_count), n=20),
    Bench("GetItem_i+Add+Close, list[1000]", "items", "bench", "f(s)",
          lambda m: {"f": m.item_sum, "s": list(range(1000))}, n=20),
    Bench("SetItem_i loop, list[1000]", "items", "bench", "f(s, x)",
          lambda m: {"f": m.item_fill, "s": list(range(1000)), "x": 7},
          check="(f(s, x), s[::97])", n=20),
    # building
    Bench("ListBuilder, 1000 floats", "building", "bench", "f(x)",
          lambda m: {"f": m.build_list, "x": 1000}, n=20),
    Bench("TupleBuilder, 8 floats", "building", "bench", "f(x)",
          lambda m: {"f": m.build_tuple, "x": 8}),
    # a custom object
    Bench("allocate Point()", "objects", "bench", "T()", lambda m: {"T": m.Point},
          check="(T().x, T().y)"),
    Bench("method p.norm2()", "objects", "bench", "p.norm2()", lambda m: {"p": m.Point()}),
    Bench("len(p) (sq_length)", "objects", "bench", "len(p)", lambda m: {"p": m.Point()}),
    Bench("p[1] (sq_item)", "objects", "bench", "p[1]", lambda m: {"p": m.Point()}),
    Bench("member p.x", "objects", "bench", "p.x", lambda m: {"p": m.Point()}),
    Bench("raise+catch in C", "errors", "bench", "f()", lambda m: {"f": m.raise_catch}),
    # sample_ext's Array against its C-API twin
    Bench("Array: sum(a) over a[i], 100", "Array", "array", "sum(a)",
          lambda m: _array_setup(m, 100), n=50),
    Bench("Array: a.sum(), 100", "Array", "array", "a.sum()",
          lambda m: _array_setup(m, 100)),
    Bench("Array: a + b * 2.0, 8", "Array", "array", "a + b * 2.0",
          lambda m: _array_setup(m, 8), check="(a + b * 2.0).tolist()"),
    Bench("Array: RK4 step, 50 arrays of 4", "Array", "array", "rk(A, ys, 0.1)",
          lambda m: {"rk": _rk4, "A": m.Array,
                     "ys": [m.Array([1.0 + i, 2.0, 3.0, -i]) for i in range(50)]},
          check="[y.tolist() for y in rk(A, ys, 0.1)]", n=10),
]


# ---------------------------------------------------------------- loading

def load(entry):
    """Import one binary of a variant, the way that variant's users would."""
    name, path, loader = entry["name"], entry["path"], entry["loader"]
    if loader == "cpython":
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    if loader in ("hpy-build", "hpy-build-debug"):
        from hpy_build.universal import load as hpy_build_load
        # the mode given, so an HPY in the environment cannot change a variant
        return hpy_build_load(name, path, mode="debug" if loader == "hpy-build-debug" else "universal")
    if loader in ("hpy09", "hpy09-debug"):
        import hpy.universal
        # HPy 0.9.0's compiled runtime, not hpy-build's hpy.universal alias
        assert hpy.universal.__file__.endswith(".so"), hpy.universal.__file__
        spec = importlib.util.spec_from_file_location(name, path)
        return hpy.universal.load(name, path, spec, debug=(loader == "hpy09-debug"))
    raise ValueError("unknown loader %r" % loader)


def _loop(bench, names):
    params = ", ".join(["n"] + sorted(names))
    source = "def loop(%s):\n    for _ in range(n):\n        %s\n" % (params, bench.stmt)
    namespace = {}
    exec(compile(source, "<bench %s>" % bench.name, "exec"), namespace)
    func = namespace["loop"]
    args = [names[k] for k in sorted(names)]
    return lambda n: func(n, *args)


def _empty(n):
    for _ in range(n):
        pass


def prepare(manifest):
    """{(bench name, variant id): (loop, namespace)} for every cell that exists."""
    cells = {}
    skip = set(manifest.get("skip_cells", ()))
    for variant in manifest["variants"]:
        modules = {kind: load(entry) for kind, entry in variant["modules"].items()}
        for bench in BENCHMARKS:
            if bench.module in modules and SEP.join((bench.name, variant["id"])) not in skip:
                names = bench.setup(modules[bench.module])
                cells[bench.name, variant["id"]] = (_loop(bench, names), names)
    return cells


# ---------------------------------------------------------------- modes

def check(manifest):
    """Each statement once per variant: the results must agree with the baseline's."""
    baseline = manifest["baseline"]
    modules = {}
    results = {}
    for bench in BENCHMARKS:
        for variant in manifest["variants"]:
            entry = variant["modules"].get(bench.module)
            if entry is None:
                continue
            key = variant["id"], bench.module
            if key not in modules:
                modules[key] = load(entry)
            names = bench.setup(modules[key])
            try:
                value = repr(eval(bench.check, {}, dict(names)))
            except Exception as exc:  # a variant that raises is a failure, not a crash
                value = "raised %s: %s" % (type(exc).__name__, exc)
            results[bench.name, variant["id"]] = value
    return {"failures": compare(results, baseline),
            "checked": ["%s | %s" % key for key in sorted(results)],
            "results": {SEP.join(key): value for key, value in results.items()}}


def compare(results, baseline, expected=None):
    """Failures of {(bench, variant): repr} against the baseline's results
    (``expected``: {bench: repr} from another process; else from ``results``)."""
    failures = []
    for (name, vid), value in sorted(results.items()):
        want = expected.get(name) if expected is not None else results.get((name, baseline))
        if value != want:
            failures.append("%s, %s: %s != baseline %s" % (name, vid, value[:200], str(want)[:200]))
    return failures


def wall(manifest, rounds):
    """Seconds per call: every round visits the variants in a fresh random order."""
    cells = prepare(manifest)
    samples = {key: [] for key in cells}
    by_name = {b.name: b for b in BENCHMARKS}
    for key, (loop, _) in cells.items():
        loop(3)  # warm up: imports, caches and the interpreter's specialisation
        if ON_PYPY:  # and the JIT: compiled, bridges included, before timing
            n, t0 = by_name[key[0]].n, time.perf_counter()
            while time.perf_counter() - t0 < JIT_WARMUP:
                loop(n)
    order = list(cells)
    # PyPy: the collector stays on. Off, its heap and the finalizers it owes
    # (cpyext's objects, the cffi runtime's structs) pile up and time the pile.
    if not ON_PYPY:
        gc.disable()
    try:
        for _ in range(rounds):
            for bench in BENCHMARKS:
                keys = [k for k in order if k[0] == bench.name]
                random.shuffle(keys)
                for key in keys:
                    loop = cells[key][0]
                    t0 = time.perf_counter()
                    loop(bench.n)
                    samples[key].append((time.perf_counter() - t0) / bench.n)
    finally:
        gc.enable()
    return {SEP.join(key): {"median": statistics.median(v), "min": min(v)}
            for key, v in samples.items()}


def callgrind(manifest):
    """Each cell once under callgrind, collecting only during its loop; the
    empty loop of the same length is measured the same way (run.py subtracts)."""
    import callgrind_ctl
    if not callgrind_ctl.on_valgrind():
        raise SystemExit("callgrind mode must run under valgrind --tool=callgrind")
    cells = prepare(manifest)
    labels = []
    by_name = {b.name: b for b in BENCHMARKS}
    for n in sorted({b.n for b in BENCHMARKS}):
        _empty(n)
        callgrind_ctl.begin()
        _empty(n)
        callgrind_ctl.end("empty" + SEP + str(n))
    gc.disable()
    for key, (loop, _) in cells.items():
        bench = by_name[key[0]]
        loop(bench.n)  # warm up, as in wall mode
        callgrind_ctl.begin()
        loop(bench.n)
        callgrind_ctl.end(SEP.join(key))
        labels.append(SEP.join(key))
    gc.enable()
    return {"labels": labels, "n": {b.name: b.n for b in BENCHMARKS}}


def main(argv):
    mode, manifest_path, out_path = argv[:3]
    with open(manifest_path) as f:
        manifest = json.load(f)
    # After site-packages: hpy-build's wheel also carries an `hpy` package (HPy
    # 0.9's names as aliases), which must not hide HPy 0.9's own in its venv.
    sys.path.extend(manifest.get("sys_path", []))
    if manifest.get("only"):
        BENCHMARKS[:] = [b for b in BENCHMARKS if any(t in b.name for t in manifest["only"])]
    if manifest.get("benches"):  # exact names (run.py's search for a crashing cell)
        BENCHMARKS[:] = [b for b in BENCHMARKS if b.name in manifest["benches"]]
    if mode == "check":
        result = check(manifest)
    elif mode == "wall":
        result = wall(manifest, int(argv[3]))
    elif mode == "callgrind":
        result = callgrind(manifest)
    else:
        raise SystemExit("unknown mode %r" % mode)
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
