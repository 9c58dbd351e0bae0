from setuptools import Extension, setup

setup(
    packages=["hpy_sample"],
    hpy_ext_modules=[Extension("hpy_sample._sample", ["src/sample.c"])],
)
