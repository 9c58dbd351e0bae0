"""``hpy.debug`` of HPy 0.9: the debug mode's Python API, from :mod:`hpy_build.debug`."""
from hpy_build.debug import (  # noqa: F401
    HPyDebugError,
    HPyLeakError,
    LeakDetector,
    disable_handle_stack_traces,
    set_handle_stack_trace_limit,
)

__all__ = ["HPyDebugError", "HPyLeakError", "LeakDetector", "disable_handle_stack_traces",
           "set_handle_stack_trace_limit"]
