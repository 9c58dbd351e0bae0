from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The hand-written C-API twin of the Array (for benchmarks and for tests that
# keep the two alike) calls CPython's API directly, so its binary is tied to
# one CPython version. That is fine in the CPython-ABI wheel, which is tied to
# it anyway, but would spoil the universal wheel, whose point is to load on
# every CPython: it is built for the cpython ABI only.
CAPI_TWIN = Extension("hpy_sample._capi_array", ["src/capi_array.c"])


class SampleBuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        # hpy_abi is resolved by hpy-build's part of this command, which
        # runs before this class's finalize_options.
        if getattr(self, "hpy_abi", "cpython") != "cpython":
            self.extensions = [ext for ext in self.extensions if ext.name != CAPI_TWIN.name]


setup(
    packages=["hpy_sample"],
    ext_modules=[CAPI_TWIN],
    hpy_ext_modules=[
        Extension("hpy_sample._sample", ["src/sample.c"]),
        Extension("hpy_sample._array", ["src/array.c"]),
    ],
    cmdclass={"build_ext": SampleBuildExt},
)
