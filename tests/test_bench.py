"""The benchmark harness's smoke mode (bench/run.py --smoke): every variant
builds from the one HPy source (and the C-API twin) and every benchmark gives
the baseline's result. No timing; the HPy 0.9.0 variants need the package index."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from test_hpy09_compat import NETWORK_ERRORS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "bench", "run.py")
sys.path.insert(0, os.path.join(ROOT, "bench"))
import benchmarks  # noqa: E402

HPY_BUILD_VARIANTS = {"capi", "hpyb-cpython", "hpyb-universal", "hpyb-debug"}
HPY09_VARIANTS = {"hpy09-cpython", "hpy09-universal", "hpy09-debug"}
PYPY_VARIANTS = {"pypy-capi", "pypy-cpyext", "pypy-hpyb-universal"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    summary = work / "summary.json"
    result = subprocess.run([sys.executable, RUN, "--smoke", "--workdir", str(work / "work"),
                             "--summary", str(summary)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    assert result.returncode == 0, result.stdout
    return json.loads(summary.read_text()), result.stdout


def test_hpy_build_variants_agree_with_the_c_api(smoke):
    summary, output = smoke
    assert summary["failures"] == [], output
    assert HPY_BUILD_VARIANTS <= set(summary["ran"]), output
    checked = set(summary["checked"])
    for bench in benchmarks.BENCHMARKS:
        for variant in HPY_BUILD_VARIANTS:
            assert "%s | %s" % (bench.name, variant) in checked


def test_hpy09_variants_agree_with_the_c_api(smoke):
    summary, output = smoke
    error = summary.get("hpy09_error")
    if error is not None:
        if NETWORK_ERRORS.search(error):
            pytest.skip("the package index is unreachable:\n" + error[-2000:])
        pytest.fail(error)
    assert HPY09_VARIANTS <= set(summary["ran"]), output
    checked = set(summary["checked"])
    for bench in benchmarks.BENCHMARKS:
        for variant in HPY09_VARIANTS:
            assert "%s | %s" % (bench.name, variant) in checked


@pytest.mark.skipif(shutil.which("pypy3") is None, reason="pypy3 is not installed")
def test_pypy_variants_agree_with_the_c_api(smoke):
    summary, output = smoke
    assert PYPY_VARIANTS <= set(summary["ran"]), output
    checked, crashed = set(summary["checked"]), summary["pypy_crashed"]
    for bench in benchmarks.BENCHMARKS:
        # the universal runtime runs every benchmark; cpyext may crash (skipped, said why)
        assert "%s | pypy-hpyb-universal" % bench.name in checked
        for variant in PYPY_VARIANTS:
            cell = "%s | %s" % (bench.name, variant)
            assert cell in checked or crashed["%s :: %s" % (bench.name, variant)], cell
    assert "%d cells checked, 0 mismatches" % len(checked) in output


def test_pypy_variants_are_run_or_said_why_not(smoke):
    summary, _ = smoke
    for variant in PYPY_VARIANTS:
        assert variant in summary["ran"] or "is not installed" in summary["skipped"][variant]


def test_workdir_inside_the_checkout_is_refused():
    result = subprocess.run([sys.executable, RUN, "--smoke", "--workdir",
                             os.path.join(ROOT, "bench", "work")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    assert result.returncode == 2
    assert "--workdir must be outside the checkout" in result.stdout
    assert not os.path.exists(os.path.join(ROOT, "bench", "work"))
