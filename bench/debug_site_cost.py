"""Instructions per iteration of a handle-heavy loop, measured with callgrind,
in universal mode and in debug mode with each site-capture setting.

    python bench/debug_site_cost.py [N]

Each iteration makes two handles (HPyLong_FromLong, HPy_Add) and closes
both: four context calls. The cost is (instructions with N iterations -
instructions with 0) / N, so the interpreter's start-up cancels out.
Needs valgrind and a C compiler; run from a checkout with the runtime built
in place (python setup.py build_ext --inplace).
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from hpy_build.toolchain import abi as hpy_abi  # noqa: E402

SOURCE = r"""
#include "hpy.h"
HPyDef_METH(loop, "loop", HPyFunc_O)
static HPy loop_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long n = HPyLong_AsLong(ctx, arg), i;
    (void)self;
    for (i = 0; i < n; i++) {
        HPy h = HPyLong_FromLong(ctx, i);
        HPy s = HPy_Add(ctx, h, h);
        HPy_Close(ctx, h);
        HPy_Close(ctx, s);
    }
    return HPy_Dup(ctx, ctx->h_None);
}
static HPyDef *defines[] = { &loop, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(loop, moduledef)
"""

RUN = """
import sys
sys.path.insert(0, %r)
import hpy_build.debug as debug
from hpy_build.universal import load
mode, limit, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
debug.set_handle_stack_trace_limit(limit)
load('loop', sys.argv[4], mode=mode).loop(n)
"""


def instructions(script, binary, mode, limit, n):
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          os.path.realpath(sys.executable), script, mode, str(limit), str(n),
                          binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, check=True).stdout
    return int(re.search(r"Collected : (\d+)", out).group(1))


def main(n=100000):
    tmp = tempfile.mkdtemp()
    options = hpy_abi.compile_options("universal")
    with open(os.path.join(tmp, "loop.c"), "w") as f:
        f.write(SOURCE)
    binary = os.path.join(tmp, "loop.hpy0.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC"] + options["extra_compile_args"]
                   + ["-D" + name for name, _ in options["define_macros"]]
                   + ["-I" + d for d in options["include_dirs"]]
                   + [os.path.join(tmp, "loop.c")] + options["extra_sources"] + ["-o", binary],
                   check=True)
    script = os.path.join(tmp, "run.py")
    with open(script, "w") as f:
        f.write(RUN % ROOT)
    for label, mode, limit in [("universal", "universal", 1), ("debug, no site", "debug", 0),
                               ("debug, site (default)", "debug", 1),
                               ("debug, 8-frame stack", "debug", 8)]:
        cost = (instructions(script, binary, mode, limit, n)
                - instructions(script, binary, mode, limit, 0)) / n
        print("%-24s %8.0f instructions per iteration" % (label, cost))


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
