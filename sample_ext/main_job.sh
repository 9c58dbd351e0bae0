#!/usr/bin/env bash
# The main job: from a checkout, build hpy-build's wheels (the wheelhouse),
# build sample_ext with them (PEP 517, isolated, no package index), check the
# two sample wheels, and run the sample's tests with `hpy-build test`: the
# universal wheel on every CPython 3.8-3.13 found and on PyPy, the CPython-ABI wheel on
# the running one.
#
#   sample_ext/main_job.sh                  # with python3 and every pyenv CPython 3.8-3.13
#   PYTHON=python3.12 sample_ext/main_job.sh
#   ALL_PYTHONS=0 sample_ext/main_job.sh    # only the running CPython
#
# Everything happens in a venv and in $WORK (default: a new temporary
# directory), which the last line names: nothing is installed into any global
# interpreter and nothing is written into the checkout. The index is used for
# pytest and hpy-build's own build requirements only. With ALL_PYTHONS, PyPy
# (pypy3 on PATH) runs the universal wheel too, through hpy-build's cffi runtime.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=$(command -v "${PYTHON:-python3}")
WORK=${WORK:-$(mktemp -d -t hpy-main-job.XXXXXX)}
LOGS="$WORK/logs"
mkdir -p "$LOGS"
FAILED=0

log_of() {
    echo "$LOGS/$(echo "$1" | tr -c 'A-Za-z0-9._\n-' '_').log"
}

# step LABEL CMD...: run CMD with its output in a log; on failure show the log's tail.
step() {
    local label=$1; shift
    local log
    log=$(log_of "$label")
    echo "--> $label"
    if "$@" >"$log" 2>&1; then
        return 0
    fi
    echo "    FAILED: $label (log: $log)"
    tail -n 40 "$log" | sed 's/^/    | /'
    return 1
}

finish() {
    echo
    echo "work dir: $WORK (venv, wheels, logs; remove it when done)"
    exit "$1"
}

die() {
    echo
    echo "main job stopped: $1"
    FAILED=1
    finish 1
}

# Our own environment must not steer the tools under test.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV PIP_NO_INDEX PIP_FIND_LINKS
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1

echo "hpy-build main job"
echo "  checkout: $ROOT"
echo "  python:   $PYTHON ($("$PYTHON" -c 'import platform; print(platform.python_version())'))"
echo "  work dir: $WORK"
echo

VENV="$WORK/venv"
VPY="$VENV/bin/python"
step "venv with build" sh -c '"$1" -m venv "$2" && "$2/bin/python" -m pip install --quiet build' \
    _ "$PYTHON" "$VENV" || die "cannot make a venv with 'build'"

# The interpreters: this one, and with ALL_PYTHONS every pyenv CPython 3.8-3.13.
declare -a PYTHONS=(--python "$PYTHON")
if [ "${ALL_PYTHONS:-1}" = 1 ]; then
    PYENV_VERSIONS="${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}/versions"
    RUNNING=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    for interpreter in $(ls -d "$PYENV_VERSIONS"/3.* 2>/dev/null | sort -V | sed 's|$|/bin/python|'); do
        [ -x "$interpreter" ] || continue
        minor=$("$interpreter" -c 'import sys; print(sys.version_info[1])')
        if [ "$minor" -ge 8 ] && [ "$minor" -le 13 ] && [ "3.$minor" != "$RUNNING" ]; then
            PYTHONS+=(--python "$interpreter")
        fi
    done
    if command -v pypy3 >/dev/null 2>&1; then
        PYTHONS+=(--python "$(command -v pypy3)")
    fi
fi

# hpy-build's wheels for each interpreter, from a copy of the checkout (the
# universal runtime is compiled per CPython), run from the checkout's sources.
step "hpy-build wheelhouse" env PYTHONPATH="$ROOT" \
    "$VPY" -m hpy_build wheelhouse "$WORK/wheelhouse" --source "$ROOT" "${PYTHONS[@]}" \
    || die "hpy-build's wheels did not build"
step "install hpy-build into the venv" \
    "$VPY" -m pip install --quiet --no-index --find-links "$WORK/wheelhouse" hpy-build \
    || die "hpy-build's wheel does not install"
HPY_BUILD="$VENV/bin/hpy-build"

# A copy of the sample, so its build leaves no egg-info or build/ in the checkout.
rm -rf "$WORK/sample" "$WORK/dist"
step "copy sample_ext" "$VPY" -c '
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2], ignore=shutil.ignore_patterns(
    "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.so", "*.o"))
' "$ROOT/sample_ext" "$WORK/sample" || die "cannot copy sample_ext"
step "python -m build sample_ext (offline, hpy-build from the wheelhouse)" \
    env PIP_NO_INDEX=1 PIP_FIND_LINKS="$WORK/wheelhouse" \
    "$VPY" -m build "$WORK/sample" --outdir "$WORK/dist" \
    || die "sample_ext did not build"
grep '^hpy-build: wrote' "$(log_of "python -m build sample_ext (offline, hpy-build from the wheelhouse)")" | sed 's/^/    /'

CPYTHON_WHEEL=$(ls "$WORK"/dist/hpy_sample-*-cp*-cp*-*.whl 2>/dev/null)
UNIVERSAL_WHEEL=$(ls "$WORK"/dist/hpy_sample-*-py3-none-*.whl 2>/dev/null)
[ -n "$CPYTHON_WHEEL" ] || die "no CPython-ABI wheel in $WORK/dist"
[ -n "$UNIVERSAL_WHEEL" ] || die "no universal wheel in $WORK/dist"

echo "--> hpy-build check"
"$HPY_BUILD" check "$CPYTHON_WHEEL" "$UNIVERSAL_WHEEL" | sed 's/^/    /'
[ "${PIPESTATUS[0]}" = 0 ] || FAILED=1

# hpy-build test runs pytest from the current directory: the sample's copy,
# whose tests then import the installed wheel, not the sources.
test_args=(--find-links "$WORK/wheelhouse" --deps "setuptools>=70.1" --deps "packaging>=22")
cd "$WORK/sample" || die "no $WORK/sample"
echo
echo "--> hpy-build test: the universal wheel"
HPY_SAMPLE_EXPECTED_ABI=universal "$HPY_BUILD" test "$UNIVERSAL_WHEEL" "${PYTHONS[@]}" \
    "${test_args[@]}" --work-dir "$WORK/test-universal" -- -q tests || FAILED=1
echo
echo "--> hpy-build test: the CPython-ABI wheel"
HPY_SAMPLE_EXPECTED_ABI=cpython "$HPY_BUILD" test "$CPYTHON_WHEEL" --python "$PYTHON" \
    "${test_args[@]}" --work-dir "$WORK/test-cpython" -- -q tests || FAILED=1

echo
echo "================ main job summary ================"
echo "hpy-build wheels: $(cd "$WORK/wheelhouse" && ls hpy_build-* | paste -sd' ' -)"
echo "sample dist:      $(cd "$WORK/dist" && ls | paste -sd' ' -)"
if [ "$FAILED" = 0 ]; then
    echo "RESULT: PASS"
else
    echo "RESULT: FAIL"
fi
finish "$FAILED"
