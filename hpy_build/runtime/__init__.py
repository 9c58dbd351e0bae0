"""Loading universal binaries. ``cpython/`` is the C runtime for CPython
(``hpy_build._universal``); ``cpython/ctx/`` holds the CPython implementation
of the context functions, also compiled into every CPython-ABI extension."""
