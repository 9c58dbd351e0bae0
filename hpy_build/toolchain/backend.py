"""PEP 517 build backend: setuptools' own, building each HPy ABI asked for.

In ``pyproject.toml``::

    [build-system]
    requires = ["hpy-build"]
    build-backend = "hpy_build.backend"

``build_wheel`` builds the CPython-ABI wheel and the universal wheel into the
wheel directory and returns the one this interpreter should install (the
CPython-ABI wheel on CPython, the universal one elsewhere). The config setting
``hpy-abi`` picks what to build: ``cpython``, ``universal``, ``hybrid`` or
``both`` (the default), e.g. ``pip wheel . --config-settings hpy-abi=universal``
or ``python -m build -C hpy-abi=universal``. Note that pip keeps only the
returned wheel; ``python -m build`` keeps both. One line per wheel written says
which ABI it is and who installs it.

When an ABI fails, the error names it and says how to build only the other.
Under pip, a failure of the ABI pip would throw away (not the one returned) is
a warning and the good wheel is returned: failing would cost the user the
build they need for nothing. Under any other frontend (``python -m build``,
CI) it fails, so a release never silently lacks one of its wheels. A hybrid wheel is tagged like the
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


def _hint(abi):
    """How to build only ``abi``, in the spelling every pip accepts (PyPy's
    pip rejects ``-C``); ``python -m build`` takes ``-C`` / ``--config-setting``."""
    return ("to build only the %s wheel: pip install . --config-settings %s=%s "
            "(python -m build: -C %s=%s)" % (abi, CONFIG_KEY, abi, CONFIG_KEY, abi))


def _frontend_is_pip():
    # pip's build tracker variable reaches every backend it runs; if a pip
    # stops setting it we fall back to failing with the hint, still correct.
    return bool(os.environ.get("PIP_BUILD_TRACKER") or os.environ.get("PIP_REQ_TRACKER"))


def _who_installs(wheel, abi, preferred):
    from packaging.utils import parse_wheel_filename
    from hpy_build.toolchain.wheelcheck import _interpreters
    tags = parse_wheel_filename(wheel)[3]
    who = _interpreters({t.interpreter for t in tags}, None, {t.platform for t in tags})
    if abi in ("universal",):
        who = who.replace("every Python 3", "every CPython 3.8-3.13 and PyPy") + " with hpy-build's runtime"
    if abi == preferred:
        who += "; the one this interpreter installs"
    return who


class _AbiFailed(Exception):
    pass


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    choice, settings = _split_settings(config_settings)
    abis = _abis_for(choice)
    preferred = _preferred_abi(abis)
    # The wheel this interpreter installs first: if it fails nothing else matters.
    abis = [preferred] + [abi for abi in abis if abi != preferred]
    wheel_directory = os.path.abspath(wheel_directory)
    os.makedirs(wheel_directory, exist_ok=True)
    # Inside wheel_directory, so finished wheels move in with a rename.
    staging = tempfile.mkdtemp(prefix=".hpy-build-", dir=wheel_directory)
    running = []
    try:
        # Each ABI builds in its own tree (see the plugin's build, build_ext,
        # egg_info and bdist_wheel), so the builds run side by side.
        for abi in abis:
            # only the preferred wheel matches metadata prepared for this interpreter
            running.append(_WheelBuild(os.path.join(staging, abi), _for_abi(settings, abi),
                                       metadata_directory if abi == preferred else None, abi))
        built = {}
        for build in running:
            try:
                built[build.abi] = build.wait()
            except _AbiFailed as failure:
                abi = build.abi
                others = [other for other in abis if other != abi]
                if abi != preferred and _frontend_is_pip():
                    # pip keeps only the wheel it installs, which built: the
                    # failed one would have been thrown away anyway.
                    print("hpy-build: warning: %s; pip keeps only the %s wheel, which built; %s"
                          % (failure, preferred, _hint(preferred)), file=sys.stderr, flush=True)
                    continue
                _fail("%s; no wheel was written%s" % (
                    failure, "; " + _hint(others[0]) if others else ""))
        for abi, name in built.items():
            os.replace(name, os.path.join(wheel_directory, os.path.basename(name)))
            print("hpy-build: wrote %s (%s ABI: %s)" % (
                os.path.basename(name), abi, _who_installs(os.path.basename(name), abi, preferred)),
                flush=True)
    finally:
        # whatever ended the loop (a failure, an interrupt), no build outlives
        # its staging folder
        for build in running:
            build.stop()
        shutil.rmtree(staging, ignore_errors=True)
    return os.path.basename(built[preferred])


_BUILD_ONE = (
    "import json, sys\n"
    "from setuptools import build_meta\n"
    "build_meta.build_wheel(*json.loads(sys.argv[1]))\n")


class _WheelBuild:
    """One wheel built in a child interpreter, started at once.

    A child of its own because setuptools keeps state between runs of setup()
    in one process (e.g. which directories it created), which breaks a second
    build. Its output goes to a file and is shown whole when it ends, so the
    logs of concurrent builds do not interleave.
    """

    def __init__(self, directory, settings, metadata_directory, abi):
        self.directory = directory
        self.abi = abi
        os.makedirs(directory)
        self.logs = [(open(os.path.join(directory, name), "w+b"), stream)
                     for name, stream in (("stdout.log", sys.stdout), ("stderr.log", sys.stderr))]
        arguments = json.dumps([directory, settings, metadata_directory])
        self.process = subprocess.Popen([sys.executable, "-c", _BUILD_ONE, arguments],
                                        stdout=self.logs[0][0], stderr=self.logs[1][0])

    def wait(self):
        """The path of the wheel, once built; _AbiFailed if it was not."""
        returncode = self.process.wait()
        self._show_logs()
        if returncode != 0:
            raise _AbiFailed("hpy-build could not build the wheel for the %s ABI (the "
                             "output above says why)" % self.abi)
        wheels = [name for name in os.listdir(self.directory) if name.endswith(".whl")]
        if len(wheels) != 1:
            _fail("building the %s wheel gave %s, expected one wheel"
                  % (self.abi, wheels or "nothing"))
        return os.path.join(self.directory, wheels[0])

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for log, _stream in self.logs:
            log.close()

    def _show_logs(self):
        for log, stream in self.logs:
            log.seek(0)
            output = log.read()
            log.close()
            stream.flush()
            if hasattr(stream, "buffer"):
                stream.buffer.write(output)
            else:  # a replaced sys.stdout (e.g. captured by a test harness)
                stream.write(output.decode(errors="replace"))
            stream.flush()


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
