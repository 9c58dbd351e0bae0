"""What one context call costs on the cffi runtime, and how many each Array
operation makes (issue 7, "Performance").

    PYTHONPATH=<hpy-build built by PyPy> pypy3 bench/pypy_calls.py [--workdir DIR]

Run by PyPy (or by CPython with HPY_BUILD_RUNTIME=cffi). It builds, in the
work directory: a bare cffi callback (``extern "Python"``, the floor any
context call that reaches Python pays), a universal module whose functions
call one context member n times in a C loop, and sample_ext's Array. It
prints ns per context call, then the context calls of each Array
benchmark's statement, counted by the trace mode.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

LOOPS = r"""
#include "hpy.h"

typedef struct { double x; } BoxObject;
HPyType_HELPERS(BoxObject)
static HPyGlobal g_box;

/* the loop count, then up to two objects */
static int loop_args(HPyContext *ctx, const HPy *args, size_t nargs, HPy_ssize_t *n)
{
    if (nargs < 1) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "n first");
        return -1;
    }
    *n = HPyLong_AsSsize_t(ctx, args[0]);
    return *n == -1 && HPyErr_Occurred(ctx) ? -1 : 0;
}

#define LOOP(NAME, NEED, BODY)                                                      \
    HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS)                                       \
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs) \
    {                                                                               \
        HPy_ssize_t n, i;                                                           \
        double acc = 0.0;                                                           \
        (void)self;                                                                 \
        if (loop_args(ctx, args, nargs, &n) < 0)                                    \
            return HPy_NULL;                                                        \
        if (nargs < (NEED)) {                                                       \
            HPyErr_SetString(ctx, ctx->h_TypeError, "too few arguments");           \
            return HPy_NULL;                                                        \
        }                                                                           \
        for (i = 0; i < n; i++) {                                                   \
            BODY                                                                    \
        }                                                                           \
        return HPyFloat_FromDouble(ctx, acc);                                       \
    }

LOOP(c_only, 1, acc += (double)i;)
LOOP(dup_close_constant, 1, HPy h = HPy_Dup(ctx, ctx->h_None); HPy_Close(ctx, h);)
LOOP(dup_close, 2, HPy h = HPy_Dup(ctx, args[1]); HPy_Close(ctx, h);)
LOOP(float_as_double, 2, acc += HPyFloat_AsDouble(ctx, args[1]);)
LOOP(long_as_long, 2, acc += (double)HPyLong_AsLong(ctx, args[1]);)
LOOP(float_from_double, 1, HPy h = HPyFloat_FromDouble(ctx, 1.5); HPy_Close(ctx, h);)
LOOP(type_check, 3, acc += HPy_TypeCheck(ctx, args[1], args[2]);)
LOOP(as_struct, 2, acc += BoxObject_AsStruct(ctx, args[1])->x;)
LOOP(global_load, 1, HPy h = HPyGlobal_Load(ctx, g_box); HPy_Close(ctx, h);)
LOOP(err_occurred, 1, acc += HPyErr_Occurred(ctx);)
LOOP(length, 2, acc += (double)HPy_Length(ctx, args[1]);)

HPyDef_SLOT(box_new, HPy_tp_new)
static HPy box_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    BoxObject *box;
    HPy h = HPy_New(ctx, type, &box);
    (void)args; (void)nargs; (void)kw;
    if (!HPy_IsNull(h))
        box->x = 1.0;
    return h;
}

static HPyDef *box_defines[] = { &box_new, NULL };
static HPyType_Spec box_spec = { .name = "pypy_calls.Box", .basicsize = sizeof(BoxObject),
                                 .builtin_shape = HPyType_BuiltinShape_Object,
                                 .defines = box_defines };

HPyDef_SLOT(loops_exec, HPy_mod_exec)
static int loops_exec_impl(HPyContext *ctx, HPy module)
{
    HPy box = HPyType_FromSpec(ctx, &box_spec, NULL);
    int r;
    if (HPy_IsNull(box))
        return -1;
    HPyGlobal_Store(ctx, &g_box, box);
    r = HPy_SetAttr_s(ctx, module, "Box", box);
    HPy_Close(ctx, box);
    return r;
}

static HPyDef *module_defines[] = {
    &c_only, &dup_close_constant, &dup_close, &float_as_double, &long_as_long,
    &float_from_double, &type_check, &as_struct, &global_load, &err_occurred, &length,
    &loops_exec, NULL
};
static HPyGlobal *module_globals[] = { &g_box, NULL };
static HPyModuleDef moduledef = { .doc = "context-call loops", .defines = module_defines,
                                  .globals = module_globals };
HPy_MODINIT(pypy_calls_loops, moduledef)
"""

BARE = r"""
static intptr_t bare_empty(void) { return 1; }
static intptr_t bare_cb(intptr_t i);
static intptr_t bare_loop(intptr_t n)
{
    intptr_t i, acc = 0;
    for (i = 0; i < n; i++)
        acc += bare_cb(i);
    return acc;
}
"""

SETUP = """\
from setuptools import Extension, setup
setup(name="pypy_calls", version="0", hpy_ext_modules=[
    Extension("pypy_calls_loops", ["loops.c"], extra_compile_args=["-Wall", "-Wextra", "-Werror"]),
    Extension("pypy_calls_array", ["array.c"]),
])
"""


def build(work):
    """(loops module, Array module, bare cffi lib), built into ``work``."""
    import cffi
    from hpy_build.universal import load
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "loops.c"), "w") as f:
        f.write(LOOPS)
    with open(os.path.join(ROOT, "sample_ext", "src", "array.c")) as src, \
            open(os.path.join(work, "array.c"), "w") as f:
        f.write(src.read().replace("HPy_MODINIT(_array,", "HPy_MODINIT(pypy_calls_array,"))
    with open(os.path.join(work, "setup.py"), "w") as f:
        f.write(SETUP)
    subprocess.run([sys.executable, "setup.py", "-q", "--hpy-abi=universal", "build_ext", "--inplace"],
                   cwd=work, check=True)
    ffi = cffi.FFI()
    ffi.cdef('extern "Python" intptr_t bare_cb(intptr_t); intptr_t bare_loop(intptr_t); '
              'intptr_t bare_empty(void);')
    ffi.set_source("pypy_calls_bare", BARE)
    sys.path.insert(0, work)
    ffi.compile(tmpdir=work)
    import pypy_calls_bare

    @pypy_calls_bare.ffi.def_extern()
    def bare_cb(i):
        return i

    def path(name):
        return next(os.path.join(work, p) for p in os.listdir(work)
                    if p.startswith(name + ".") and p.endswith(".so"))
    return (load("pypy_calls_loops", path("pypy_calls_loops"), mode="universal"),
            path("pypy_calls_array"), pypy_calls_bare.lib)


def per_call(f, n, seconds=1.0):
    """Median ns per iteration of f(n), after the JIT has warmed up."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds / 2:
        f(n)
    samples = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds / 2 or len(samples) < 5:
        t = time.perf_counter()
        f(n)
        samples.append((time.perf_counter() - t) / n * 1e9)
    samples.sort()
    return samples[len(samples) // 2]


def _python_calls_c(bare):
    empty = bare.bare_empty

    def loop(n):
        for _ in range(n):
            empty()
    return loop


def _python_loop(n):
    for _ in range(n):
        pass


def costs(loops, bare):
    n = 10000
    box = loops.Box()
    rows = [("bare cffi callback (extern \"Python\", int -> int)", per_call(bare.bare_loop, n), 0),
            # the other way: every call of an extension function pays this
            ("bare cffi call from Python (an empty C function)",
             per_call(_python_calls_c(bare), n) - per_call(_python_loop, n), 0)]
    floor = per_call(lambda k: loops.c_only(k), n)
    cases = [
        ("HPy_Dup + HPy_Close of a constant", lambda k: loops.dup_close_constant(k)),
        ("HPy_Dup + HPy_Close", lambda k: loops.dup_close(k, box)),
        ("HPyFloat_AsDouble", lambda k: loops.float_as_double(k, 2.5)),
        ("HPyLong_AsLong", lambda k: loops.long_as_long(k, 7)),
        ("HPyFloat_FromDouble + HPy_Close", lambda k: loops.float_from_double(k)),
        ("HPy_TypeCheck (exact type)", lambda k: loops.type_check(k, box, loops.Box)),
        ("HPy_TypeCheck (int vs Box)", lambda k: loops.type_check(k, 7, loops.Box)),
        ("_HPy_AsStruct_Object", lambda k: loops.as_struct(k, box)),
        ("HPyGlobal_Load + HPy_Close", lambda k: loops.global_load(k)),
        ("HPyErr_Occurred", lambda k: loops.err_occurred(k)),
        ("HPy_Length of a list", lambda k: loops.length(k, [1, 2, 3])),
    ]
    for name, f in cases:
        rows.append((name, per_call(f, n) - floor, 1))
    return rows


ARRAY_STATEMENTS = [
    ("sum(a) over a[i], 100 (per element)", "sum(a)", 100),
    ("a.sum(), 100", "a.sum()", 1),
    ("a + b * 2.0, 8", "a + b * 2.0", 1),
    ("RK4 step, 50 arrays of 4", "rk(A, ys, 0.1)", 1),
]


def _callback_codes():
    """{code object: member} of the Python bodies the context's callbacks run."""
    from hpy_build.runtime.pypy import autogen_calls, ctx_objects, ctx_types
    from hpy_build.runtime.pypy.autogen_members import MEMBERS
    from hpy_build.runtime.pypy import calls
    # HPy_Close never calls back (the C part queues it); the queue's flush does
    codes = {calls._flush_closes.__code__: "flush of 256 queued HPy_Close"}
    for public, _, _ in MEMBERS:
        if public == "HPy_Close":
            continue
        for source in (ctx_types, ctx_objects, autogen_calls):
            body = getattr(source, public, None)
            if body is not None:
                codes.setdefault(body.__code__, public)
                break
    return codes


def callbacks(stmt, env):
    """{member: calls that reached Python} for one run of stmt (a profile hook
    sees each callback's body start; bodies calling bodies count once)."""
    codes = _callback_codes()
    counts = {}

    def hook(frame, event, arg):
        if event == "call" and frame.f_code in codes and frame.f_back is not None \
                and frame.f_back.f_code not in codes:
            name = codes[frame.f_code]
            counts[name] = counts.get(name, 0) + 1
    eval(stmt, {}, env)
    sys.setprofile(hook)
    try:
        eval(stmt, {}, env)
    finally:
        sys.setprofile(None)
    return counts


def array_counts(array_path):
    """[(statement, {member: calls}, {member: callbacks})] for one run of each
    Array statement: the calls by the trace mode, the callbacks by a profile
    hook in universal mode."""
    import benchmarks
    from hpy_build import trace
    from hpy_build.universal import load
    out = []
    envs = []
    for mode in ("trace", "universal"):
        mod = load("pypy_calls_array", array_path, mode=mode)
        names = dict(benchmarks._array_setup(mod, 100), rk=benchmarks._rk4, A=mod.Array,
                     ys=[mod.Array([1.0 + i, 2.0, 3.0, -i]) for i in range(50)])
        envs.append((names, benchmarks._array_setup(mod, 8)))
    for label, stmt, per in ARRAY_STATEMENTS:
        names, small = envs[0]
        env = dict(names, **(small if "8" in label else {}))
        eval(stmt, {}, env)  # once first: imports and caches
        before = dict(trace.get_call_counts())
        eval(stmt, {}, env)
        after = trace.get_call_counts()
        diff = {k: (after[k] - before.get(k, 0)) / per for k in after if after[k] != before.get(k, 0)}
        names, small = envs[1]
        cbs = callbacks(stmt, dict(names, **(small if "8" in label else {})))
        out.append((label, diff, {k: v / per for k, v in cbs.items()}))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "hpy-build-pypy-calls"))
    args = parser.parse_args()
    loops, array_path, bare = build(os.path.abspath(args.workdir))
    print("%s %s" % (sys.implementation.name, sys.version.split()[0]))
    print("\nns per call (a loop of 10000, minus the loop alone; context calls loop in C):")
    for name, ns, _ in costs(loops, bare):
        print("  %-52s %7.1f" % (name, ns))
    print("\nper Array statement: context calls (trace mode), then the callbacks into Python among them:")
    for label, diff, cbs in array_counts(array_path):
        for what, counts in (("calls", diff), ("callbacks", cbs)):
            detail = ", ".join("%s %g" % (k, v) for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
            print("  %-40s %-9s %6g: %s" % (label if what == "calls" else "", what,
                                            sum(counts.values()), detail))


if __name__ == "__main__":
    main()
