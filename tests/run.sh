#!/usr/bin/env bash
# The test command (README): a venv in a new work directory with the test
# tools from the package index, the runtime built in place, then the suite.
# Nothing goes into the global interpreter; the only things left in the
# checkout are the in-place binaries the tests import (hpy_build/*.so,
# ignored by git). Arguments go to pytest. The last line names the work dir.
#
#   bash tests/run.sh                    # the whole suite (about 25 minutes on 2 cores)
#   bash tests/run.sh tests/test_cli.py  # one file
#   PYTHON=python3.12 WORK=/tmp/t bash tests/run.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
WORK=${WORK:-$(mktemp -d -t hpy-build-tests.XXXXXX)}
VENV="$WORK/venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1

status=0
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" || status=$?
fi
if [ "$status" = 0 ]; then
    "$VENV/bin/python" -m pip install -q -U "setuptools>=70.1" wheel build packaging \
        pyproject_hooks pytest cffi hypothesis || status=$?
fi
if [ "$status" = 0 ]; then
    # build_temp and build_lib in the work dir: no build/ in the checkout
    "$VENV/bin/python" setup.py -q build_ext --inplace --build-temp "$WORK/build/temp" \
        --build-lib "$WORK/build/lib" || status=$?
fi
if [ "$status" = 0 ]; then
    # the slowest tests are named at the end: where CI time goes
    "$VENV/bin/python" -m pytest -q -ra -p no:cacheprovider --durations=15 "$@"
    status=$?
fi
echo "work dir: $WORK (the venv and build files; remove it when done)"
exit "$status"
