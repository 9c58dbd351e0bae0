from hpy_build.toolchain import plugin as setuptools_plugin


class HPyDevel:
    """What HPy 0.9's tests call: hand the distribution to hpy-build's plugin."""

    def fix_distribution(self, dist):
        abi = getattr(dist, "hpy_abi", None)  # the plugin resets it; the tests set it first
        setuptools_plugin.hpy_ext_modules(dist, "hpy_ext_modules", dist.hpy_ext_modules)
        dist.hpy_abi = abi
