"""Build the probe modules with hpy 0.9.0's own setuptools integration.

Run by the python of a venv holding hpy 0.9.0, in a copy of this folder:
    python setup_hpy09.py --hpy-abi=universal build_ext --inplace
"""
from setuptools import Extension, setup

# The probes are -Wextra clean, but hpy 0.9.0's own HPyDef macros are not:
# they cast impls to HPyCFunction and leave trampoline struct fields
# unset, so those two warnings (only) are off for hpy 0.9.0's headers.
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-Wno-cast-function-type", "-Wno-missing-field-initializers"]
MODULES = ["compat09", "compat09types", "compat09api"]

setup(
    name="hpy09-compat-probes",
    version="1.0",
    hpy_ext_modules=[
        Extension(name, sources=[name + ".c"], extra_compile_args=WARNINGS) for name in MODULES
    ],
)
