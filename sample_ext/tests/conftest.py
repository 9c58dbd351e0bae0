"""Under HPy's debug mode (HPY=debug, universal build), every test must leave
no HPy handle open: hpy-build's pytest plugin gives the ``hpy_debug``
fixture, which fails a test that leaks one and names where it was created."""
import os

import pytest


@pytest.fixture(autouse=True)
def no_open_handles(request):
    if os.environ.get("HPY"):
        # Only there: the CPython-ABI wheel is tested without hpy-build installed.
        request.getfixturevalue("hpy_debug")
    yield
