"""``hpy.debug.pytest`` of HPy 0.9: its ``hpy_debug`` fixture (and LeakDetector),
from hpy-build's pytest plugin; a conftest.py does ``from hpy.debug.pytest import *``."""
from hpy_build.debug.pytest import *  # noqa: F401,F403
from hpy_build.debug.pytest import LeakDetector, hpy_debug  # noqa: F401  (HPy 0.9's names)
