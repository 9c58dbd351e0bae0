"""``hpy.trace`` of HPy 0.9: the trace mode's counters, from :mod:`hpy_build.trace`."""
from hpy_build.trace import get_call_counts, get_durations, get_frequency, set_trace_functions

__all__ = ["get_call_counts", "get_durations", "get_frequency", "set_trace_functions"]
