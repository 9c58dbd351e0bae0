"""PEP 517 build backend: setuptools' own, building each HPy ABI asked for.

In ``pyproject.toml``::

    [build-system]
    requires = ["hpy-build"]
    build-backend = "hpy_build.backend"

``build_wheel`` builds the CPython-ABI wheel and the universal wheel into the
wheel directory and returns the one this interpreter should install (the
CPython-ABI wheel on CPython, the universal one elsewhere). The config setting
``hpy-abi`` picks what to build: ``cpython``, ``universal``, ``hybrid`` or
``both`` (the default), e.g. ``pip wheel . -C hpy-abi=universal`` or
``python -m build -C hpy-abi=universal``. Note that pip keeps only the returned
wheel; ``python -m build`` keeps both. A hybrid wheel is tagged like the
CPython-ABI one (it needs that CPython's C API), so it is built on its own.

Every wheel is built in a temporary directory and only moved into the wheel
directory once all of them are built, so a failure leaves no wheel behind.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from setuptools import build_meta as _setuptools

from hpy_build.toolchain.abi import ABIS

CONFIG_KEY = "hpy-abi"
BOTH = "both"
CHOICES = ABIS + (BOTH,)

__all__ = [
    "build_wheel", "build_sdist", "build_editable",
    "get_requires_for_build_wheel", "get_requires_for_build_sdist",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel", "prepare_metadata_for_build_editable",
]


def _fail(message):
    # Like setuptools' own errors: one clear line, no traceback.
    raise SystemExit("error: " + message)


def _split_settings(config_settings):
    """(hpy-abi choice or None, the settings meant for setuptools)."""
    settings = dict(config_settings or {})
    choice = settings.pop(CONFIG_KEY, None)
    if isinstance(choice, (list, tuple)):
        if len(set(choice)) != 1:
            _fail(
                "config setting %s was given more than once with different values "
                "(%s): give one of %s" % (CONFIG_KEY, ", ".join(map(repr, choice)),
                                         ", ".join(CHOICES)))
        choice = choice[0]
    if choice is not None and choice not in CHOICES:
        _fail(
            "unknown config setting %s=%r: choose one of %s"
            % (CONFIG_KEY, choice, ", ".join(CHOICES)))
    return choice, settings


def _preferred_abi(abis):
    """Which of the ABIs built the running interpreter should use."""
    if sys.implementation.name == "cpython" and "cpython" in abis:
        return "cpython"
    if "universal" in abis:
        return "universal"
    return abis[0]


def _abis_for(choice):
    if choice is None or choice == BOTH:
        return ["cpython", "universal"]
    return [choice]


def _single_abi(choice):
    """The one ABI for metadata and editable installs."""
    return _preferred_abi(_abis_for(choice))


def _for_abi(settings, abi):
    """setuptools settings that build for ``abi`` (via the global --hpy-abi)."""
    settings = dict(settings)
    global_options = settings.get("--global-option") or []
    if isinstance(global_options, str):
        global_options = shlex.split(global_options)
    settings["--global-option"] = list(global_options) + ["--hpy-abi=" + abi]
    return settings


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    choice, settings = _split_settings(config_settings)
    abis = _abis_for(choice)
    preferred = _preferred_abi(abis)
    wheel_directory = os.path.abspath(wheel_directory)
    os.makedirs(wheel_directory, exist_ok=True)
    # Inside wheel_directory, so finished wheels move in with a rename.
    staging = tempfile.mkdtemp(prefix=".hpy-build-", dir=wheel_directory)
    try:
        built = {}
        for abi in abis:
            # Only the preferred wheel matches metadata prepared for this interpreter.
            prepared = metadata_directory if abi == preferred else None
            built[abi] = _build_one_wheel(
                os.path.join(staging, abi), _for_abi(settings, abi), prepared, abi)
        for name in built.values():
            os.replace(name, os.path.join(wheel_directory, os.path.basename(name)))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return os.path.basename(built[preferred])


_BUILD_ONE = (
    "import json, sys\n"
    "from setuptools import build_meta\n"
    "build_meta.build_wheel(*json.loads(sys.argv[1]))\n")


def _build_one_wheel(directory, settings, metadata_directory, abi):
    """Build one wheel into ``directory`` and return its path.

    Each build runs in its own interpreter: setuptools keeps state between
    runs of setup() in one process (e.g. which directories it created), which
    breaks a second build.
    """
    os.makedirs(directory)
    arguments = json.dumps([directory, settings, metadata_directory])
    sys.stdout.flush()
    sys.stderr.flush()
    if subprocess.call([sys.executable, "-c", _BUILD_ONE, arguments]) != 0:
        _fail(
            "hpy-build could not build the wheel for the %s ABI (the "
            "output above says why); no wheel was written" % abi)
    wheels = [name for name in os.listdir(directory) if name.endswith(".whl")]
    if len(wheels) != 1:
        _fail("building the %s wheel gave %s, expected one wheel" % (abi, wheels or "nothing"))
    return os.path.join(directory, wheels[0])


def build_sdist(sdist_directory, config_settings=None):
    _choice, settings = _split_settings(config_settings)
    return _setuptools.build_sdist(sdist_directory, settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    choice, settings = _split_settings(config_settings)
    return _setuptools.build_editable(
        wheel_directory, _for_abi(settings, _single_abi(choice)), metadata_directory)


def get_requires_for_build_wheel(config_settings=None):
    _choice, settings = _split_settings(config_settings)
    return _setuptools.get_requires_for_build_wheel(settings)


def get_requires_for_build_sdist(config_settings=None):
    _choice, settings = _split_settings(config_settings)
    return _setuptools.get_requires_for_build_sdist(settings)


def get_requires_for_build_editable(config_settings=None):
    _choice, settings = _split_settings(config_settings)
    return _setuptools.get_requires_for_build_editable(settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    choice, settings = _split_settings(config_settings)
    return _setuptools.prepare_metadata_for_build_wheel(
        metadata_directory, _for_abi(settings, _single_abi(choice)))


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    choice, settings = _split_settings(config_settings)
    return _setuptools.prepare_metadata_for_build_editable(
        metadata_directory, _for_abi(settings, _single_abi(choice)))
