#!/usr/bin/env bash
# The main job: from a checkout, build hpy-build's wheel, build sample_ext
# with it (PEP 517, isolated, no package index), install each sample wheel
# into a fresh venv and run the sample's tests there.
#
#   sample_ext/main_job.sh                  # with python3; the universal wheel
#                                           # also on every other pyenv CPython 3.8-3.13
#   PYTHON=python3.12 sample_ext/main_job.sh
#   ALL_PYTHONS=0 sample_ext/main_job.sh    # only the running CPython
#
# Work files go to $WORK (default: a new temporary directory); logs of every
# step are kept in $WORK/logs. Exits non-zero if any step or test run fails.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=${WORK:-$(mktemp -d -t hpy-main-job.XXXXXX)}
LOGS="$WORK/logs"
mkdir -p "$LOGS"

declare -a SUMMARY=()
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

die() {
    echo
    echo "main job stopped: $1"
    exit 1
}

python_version() {
    "$1" -c 'import platform; print(platform.python_version())'
}

# Our own environment must not steer the tools under test.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV PIP_NO_INDEX
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "hpy-build main job"
echo "  checkout: $ROOT"
echo "  python:   $PYTHON ($(python_version "$PYTHON"))"
echo "  work dir: $WORK"
echo

if ! "$PYTHON" -c 'import build' 2>/dev/null; then
    step "install build" "$PYTHON" -m pip install --quiet build || die "cannot install 'build'"
fi

# Build from a clean copy: stale build/ trees in a checkout can leak into wheels.
HPY_BUILD_SRC="$WORK/hpy-build-src"
rm -rf "$HPY_BUILD_SRC"
step "copy hpy-build sources" "$PYTHON" -c '
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2], ignore=shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.so", "*.o",
    "sample_ext", "bench"))
' "$ROOT" "$HPY_BUILD_SRC" || die "cannot copy $ROOT"

step "build hpy-build wheel" \
    "$PYTHON" -m pip wheel --no-deps "$HPY_BUILD_SRC" -w "$WORK/hpy-build-wheels" \
    || die "hpy-build's wheel did not build"
HPY_BUILD_WHEEL=$(ls "$WORK"/hpy-build-wheels/hpy_build-*.whl)

# hpy-build's dependencies as local wheels: the sample then builds with no index.
step "download build dependencies" \
    "$PYTHON" -m pip download --quiet --only-binary=:all: -d "$WORK/wheelhouse" \
    "setuptools>=70.1" "packaging>=22" wheel \
    || die "cannot download setuptools/packaging/wheel"

rm -rf "$WORK/dist"
step "python -m build sample_ext" \
    env PIP_NO_INDEX=1 PIP_FIND_LINKS="$WORK/hpy-build-wheels $WORK/wheelhouse" \
    "$PYTHON" -m build "$ROOT/sample_ext" --outdir "$WORK/dist" \
    || die "sample_ext did not build"

CPYTHON_WHEEL=$(ls "$WORK"/dist/hpy_sample-*-cp*-cp*-*.whl 2>/dev/null)
UNIVERSAL_WHEEL=$(ls "$WORK"/dist/hpy_sample-*-py3-none-*.whl 2>/dev/null)
[ -n "$CPYTHON_WHEEL" ] || die "no CPython-ABI wheel in $WORK/dist"
[ -n "$UNIVERSAL_WHEEL" ] || die "no universal wheel in $WORK/dist"

# test_wheel LABEL PYTHON WHEEL ABI RUNTIME_WHEEL_DIR
test_wheel() {
    local label=$1 python=$2 wheel=$3 abi=$4 runtime_dir=$5
    local dir="$WORK/run-$label"
    local version
    version=$(python_version "$python")
    rm -rf "$dir"
    mkdir -p "$dir"
    local result="FAIL"
    if step "$label: venv" "$python" -m venv "$dir/venv" \
        && step "$label: test dependencies" \
            "$dir/venv/bin/python" -m pip install --quiet pytest "setuptools>=70.1" "packaging>=22" \
        && step "$label: install $(basename "$wheel")" \
            "$dir/venv/bin/python" -m pip install --no-index --find-links "$runtime_dir" "$wheel" \
        && cp -r "$ROOT/sample_ext/tests" "$dir/sample-tests" \
        && (cd "$dir" && step "$label: sample tests" env HPY_SAMPLE_EXPECTED_ABI="$abi" \
            "$dir/venv/bin/python" -m pytest -p no:cacheprovider "$dir/sample-tests"); then
        result="PASS"
    else
        FAILED=1
    fi
    local counts
    counts=$(tail -n 1 "$(log_of "$label: sample tests")" 2>/dev/null \
             | grep -Eo '[0-9]+ (passed|failed|skipped|errors?)' | paste -sd, - | sed 's/,/, /g')
    SUMMARY+=("$(printf '%-4s  %-9s wheel on CPython %-8s %s' "$result" "$abi" "$version" "${counts:+($counts)}")")
}

test_wheel "cpython-$(python_version "$PYTHON")" "$PYTHON" "$CPYTHON_WHEEL" cpython "$WORK/dist"
test_wheel "universal-$(python_version "$PYTHON")" "$PYTHON" "$UNIVERSAL_WHEEL" universal \
    "$WORK/hpy-build-wheels"

if [ "${ALL_PYTHONS:-1}" = 1 ]; then
    PYENV_VERSIONS="${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}/versions"
    RUNNING=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    for interpreter in $(ls -d "$PYENV_VERSIONS"/3.* 2>/dev/null | sort -V | sed 's|$|/bin/python|'); do
        [ -x "$interpreter" ] || continue
        version=$(python_version "$interpreter")
        minor=${version#3.}; minor=${minor%%.*}
        if [ "$minor" -lt 8 ] || [ "$minor" -gt 13 ] || [ "3.$minor" = "$RUNNING" ]; then
            continue
        fi
        # The universal runtime is compiled per interpreter: build hpy-build for it.
        if step "build hpy-build wheel for $version" \
            "$interpreter" -m pip wheel --no-deps "$HPY_BUILD_SRC" -w "$WORK/hpy-build-wheels-$version"; then
            test_wheel "universal-$version" "$interpreter" "$UNIVERSAL_WHEEL" universal \
                "$WORK/hpy-build-wheels-$version"
        else
            FAILED=1
            SUMMARY+=("$(printf '%-4s  %-9s wheel on CPython %-8s %s' FAIL universal "$version" \
                "(hpy-build did not build)")")
        fi
    done
fi

echo
echo "================ main job summary ================"
echo "hpy-build wheel: $(basename "$HPY_BUILD_WHEEL")"
echo "sample dist:     $(cd "$WORK/dist" && ls | paste -sd' ' -)"
for line in "${SUMMARY[@]}"; do
    echo "$line"
done
echo "logs:            $LOGS"
if [ "$FAILED" = 0 ]; then
    echo "RESULT: PASS"
else
    echo "RESULT: FAIL"
fi
exit "$FAILED"
