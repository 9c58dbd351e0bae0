"""pytest plugin of HPy debug mode (registered as the ``hpy_debug`` pytest11 entry point).

It gives the fixture ``hpy_debug``: a test using it fails when it leaves HPy
handles open (a LeakDetector around the test). Use it in every test of a
project with, in its conftest.py::

    import pytest

    @pytest.fixture(autouse=True)
    def check_handles(hpy_debug):
        pass

The fixture checks only modules loaded in debug mode (HPY=debug).
"""
import pytest

from hpy_build.debug import LeakDetector

__all__ = ["hpy_debug", "LeakDetector"]


@pytest.fixture
def hpy_debug(request):
    """Checks that the test leaves no handle open; yields the LeakDetector."""
    with LeakDetector() as detector:
        yield detector
