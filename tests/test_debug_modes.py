"""Choosing the context a universal module gets: HPY, HPY_LOG and load(mode=)."""
import os
import subprocess
import sys

import pytest

from hpy_build import universal

MODULE = r"""
#include "hpy.h"
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, ctx->name);
}
static HPyDef *defines[] = { &f, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(modes, moduledef)
"""


@pytest.mark.parametrize("env, expected", [
    ("", 0), ("  ", 0), ("debug", 1), ("DEBUG", 1), ("Universal", 0), ("trace", 2),
    ("pkg.mod:debug", 1), ("mod:debug", 1), ("MOD:Trace,other:debug", 2), ("other:debug", 0),
    ("mod:debug, mod:universal", 0),
])
def test_mode_from_environment(env, expected):
    assert universal.mode_from_environment("pkg.mod", {"HPY": env}) == expected


@pytest.mark.parametrize("env, bad", [("debugg", "'debugg'"), ("mod:fast", "'fast'"),
                                      ("mod,other:debug", "'mod'"), (":debug", "':debug'")])
def test_bad_environment_names_the_value(env, bad):
    with pytest.raises(ValueError) as info:
        universal.mode_from_environment("mod", {"HPY": env})
    assert bad in str(info.value)


@pytest.fixture
def modes_binary(hpy_compiler, tmp_path):
    return hpy_compiler.compile(MODULE, "universal", "modes", tmp_path / "modes")


def _run(binary, code, **env):
    full = dict(os.environ, **env)
    full.pop("HPY", None) if "HPY" not in env else None
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    probe = ("import sys; sys.path.insert(0, %r)\nfrom hpy_build.universal import load\n" % here
             + code.replace("BINARY", repr(str(binary))))
    return subprocess.run([sys.executable, "-c", probe], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=full)


def test_environment_picks_the_context(modes_binary):
    result = _run(modes_binary, "print(load('modes', BINARY).f())", HPY="modes:debug", HPY_LOG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Loading 'modes' in HPy universal mode with a debug context",
                                          "HPy Debug Mode ABI (hpy-build)"]
    result = _run(modes_binary, "print(load('modes', BINARY).f())", HPY="other:debug")
    assert result.stdout.startswith("HPy Universal ABI"), result.stderr


def test_mode_argument_wins_over_environment(modes_binary):
    result = _run(modes_binary, "from hpy_build.universal import MODE_UNIVERSAL\n"
                  "print(load('modes', BINARY, mode=MODE_UNIVERSAL).f())\n"
                  "print(load('modes', BINARY, mode='debug').f())", HPY="debug")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("HPy Universal ABI")
    assert result.stdout.splitlines()[1] == "HPy Debug Mode ABI (hpy-build)"


def test_bad_mode_argument(modes_binary):
    with pytest.raises(ValueError, match="mode=7"):
        universal.load("modes", modes_binary, mode=7)
    with pytest.raises(ValueError, match="'fast'"):
        universal.load("modes", modes_binary, mode="fast")


def test_bad_environment_fails_the_load(modes_binary):
    result = _run(modes_binary, "load('modes', BINARY)", HPY="modes:fast")
    assert "ValueError: HPY='modes:fast': unknown mode 'fast'" in result.stderr
