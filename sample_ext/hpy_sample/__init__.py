"""hpy-sample: a small HPy extension, importable from either ABI's build."""

from hpy_sample._sample import (
    SampleError,
    abi,
    bytes_xor,
    call_repeatedly,
    call_with,
    check_range,
    counter_next,
    counter_reset,
    divmod_floor,
    double,
    evens,
    fib,
    fib_cache_clear,
    fib_cache_size,
    greet,
    long_roundtrip,
    make_record,
    map_list,
    pack_widths,
    poly,
    record_get,
    shout,
    square,
    squares,
    stats,
    str_info,
    word_counts,
)
from hpy_sample._array import Array, zeros

__version__ = "0.1.0"

__all__ = [
    "SampleError", "abi", "bytes_xor", "call_repeatedly", "call_with", "check_range",
    "counter_next", "counter_reset", "divmod_floor", "double", "evens", "fib",
    "fib_cache_clear", "fib_cache_size", "greet", "long_roundtrip", "make_record",
    "map_list", "pack_widths", "poly", "record_get", "shout", "square", "squares",
    "stats", "str_info", "word_counts",
    "Array", "zeros",
]
