"""``hpy.debug.leakdetector`` of HPy 0.9 (its tests' conftest imports LeakDetector from here)."""
from hpy_build.debug import HPyDebugError, HPyLeakError, LeakDetector  # noqa: F401

__all__ = ["HPyDebugError", "HPyLeakError", "LeakDetector"]
