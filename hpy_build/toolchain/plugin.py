"""setuptools support for ``setup(hpy_ext_modules=[Extension(...), ...])``.

Choosing the ABI
----------------
Every command that can trigger a build takes ``--hpy-abi=cpython|universal|hybrid``
as an ordinary command option, so the usual setuptools spellings all work::

    python setup.py build_ext --inplace --hpy-abi=universal
    python setup.py bdist_wheel --hpy-abi=universal      # also: build, install

It can also go in ``setup.cfg`` (``[build_ext]`` ``hpy_abi = universal``), or, as
with HPy 0.9, as a global option before the command
(``python setup.py --hpy-abi=universal bdist_wheel``). The global form is what
:mod:`hpy_build.backend` uses, since it is the only one that also reaches
``dist_info`` and ``editable_wheel``. All values given must agree. Without any,
the ABI is ``cpython`` on CPython and ``universal`` elsewhere.

What the ABI changes
--------------------
* compiler settings, helper sources and file suffix come from :mod:`hpy_build.toolchain.abi`;
* objects go to ``<build_temp>/hpy-<abi>`` and, for universal/hybrid, the
  build tree to ``build/lib.*-hpy-<abi>``, so switching ABI never reuses or
  ships another ABI's files, and needs no clean;
* universal/hybrid binaries get an import stub ``<name>.py`` beside them;
* universal wheels are tagged ``py3-none-<platform>`` and depend on hpy-build,
  whose runtime loads them.

A project's own ``build_ext`` (``cmdclass={'build_ext': MyBuildExt}``) keeps
working: the HPy behaviour is mixed in front of whatever class setuptools would
use, at the moment the command is looked up. Where HPy's own ``hpy.devel``
also handles ``hpy_ext_modules`` (PyPy bundles it), its wrappers are skipped.
"""
import copy
import os
import sys
import threading

import setuptools  # noqa: F401  (makes ``distutils`` setuptools' copy)
from setuptools.command.build_ext import build_ext as _setuptools_build_ext
from setuptools.errors import (
    CCompilerError,
    CompileError,
    FileError,
    OptionError,
    SetupError,
)

from distutils import log
try:
    from setuptools.modified import newer_group
except ImportError:  # setuptools < 69
    from distutils.dep_util import newer_group
from distutils.errors import DistutilsError
from distutils.extension import Extension as _DistutilsExtension

import hpy_build
from hpy_build.toolchain import abi as _abi

DEFAULT_ABI = "cpython" if sys.implementation.name == "cpython" else "universal"

# The universal runtime is hpy-build itself; it supports what its own
# pyproject.toml says (requires-python).
RUNTIME_PYTHON_FLOOR = "3.8"

STUB_MARKER = "# Written by hpy-build"

_ABI_OPTION = (
    "hpy-abi=", None,
    "HPy ABI to build for: %s (default: %s)" % (", ".join(_abi.ABIS), DEFAULT_ABI))

# HPy 0.9's global option (dist.hpy_use_static_libs): link the helpers from
# the static library hpy-build's own build made, instead of compiling them.
_STATIC_LIBS_OPTION = (
    "hpy-use-static-libs", None,
    "link hpy-build's prebuilt static library of helper functions instead of "
    "compiling their sources (default: False)")

# Commands that accept --hpy-abi themselves.
_ABI_COMMANDS = ("build", "build_ext", "bdist_wheel", "install")


# ---------------------------------------------------------------------------
# setup() keyword

def hpy_ext_modules(dist, attr, value):
    """``distutils.setup_keywords`` entry point for ``hpy_ext_modules``."""
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(ext, _DistutilsExtension) for ext in value):
        raise SetupError(
            "hpy_ext_modules must be a list of setuptools.Extension objects, "
            "got %r" % (value,))
    if getattr(dist, "_hpy_build_installed", False):
        return
    dist._hpy_build_installed = True
    plain_names = {ext.name for ext in dist.ext_modules or []}
    for ext in value:
        if ext.name in plain_names:
            raise SetupError(
                "extension %r is listed in both ext_modules and hpy_ext_modules; "
                "keep it in one of them" % ext.name)
        ext._hpy_extension = True
    # As ext_modules too, so everything in setuptools that looks there (wheel
    # tags, top_level.txt, editable installs, sdists) knows about them.
    dist.ext_modules = list(dist.ext_modules or []) + list(value)
    dist.hpy_abi = None
    # Kept when set before (HPy 0.9's test harness sets it, then calls fix_distribution).
    dist.hpy_use_static_libs = getattr(dist, "hpy_use_static_libs", False)
    # Per instance, so other Distribution objects in this process are untouched
    # (hpy.devel may have added the same options to the class already).
    for new_option in (_ABI_OPTION, _STATIC_LIBS_OPTION):
        if not any(option[0] == new_option[0] for option in dist.global_options):
            dist.global_options = list(dist.global_options) + [new_option]

    find_command_class = dist.get_command_class
    mixed_classes = {}

    def get_command_class(command):
        base = _without_hpy_devel(find_command_class(command))
        mixin = _MIXINS.get(command)
        if mixin is None or issubclass(base, mixin):
            return base
        if (base, mixin) not in mixed_classes:
            mixed_classes[base, mixin] = _mix(command, base, mixin)
        return mixed_classes[base, mixin]
    dist.get_command_class = get_command_class


def _without_hpy_devel(command_class):
    """``command_class`` with the mixins of HPy's own ``hpy.devel`` taken out.

    The ``hpy`` package (bundled with PyPy, fetched by ``setup_requires``, or
    installed next to hpy-build) handles ``hpy_ext_modules`` too, by wrapping
    build and build_ext; with both, its sources and flags would be added to
    ours, so hpy-build's win. Another plugin (cffi) may have wrapped HPy's
    class in turn, so HPy's can sit anywhere in the chain.
    """
    while _is_hpy_devel_mixin(command_class):
        log.info("hpy-build: not using %s from hpy.devel", command_class.__name__)
        command_class = _hpy_devel_wrapped(command_class)
    for cls in command_class.__mro__[1:]:
        if _is_hpy_devel_mixin(cls):
            # HPy makes these classes for this one Distribution (make_mixin),
            # so it is safe to cut its mixin out of their bases: every class
            # built on them then inherits straight from what HPy wrapped.
            log.info("hpy-build: not using %s from hpy.devel (under %s)",
                     cls.__name__, command_class.__name__)
            cls.__bases__ = (_hpy_devel_wrapped(cls),)
    return command_class


def _is_hpy_devel_mixin(cls):
    return cls.__module__.startswith("hpy.devel") and _hpy_devel_wrapped(cls) is not None


def _hpy_devel_wrapped(cls):
    # HPy 0.9 names the wrapped class _mixin_super, older HPy _base_build_ext.
    return cls.__dict__.get("_mixin_super") or cls.__dict__.get("_base_build_ext")


def _mix(command, base, mixin):
    if command == "build_ext" and not issubclass(base, _setuptools_build_ext):
        raise SetupError(
            "cmdclass['build_ext'] = %s.%s must derive from "
            "setuptools.command.build_ext.build_ext to build hpy_ext_modules"
            % (base.__module__, base.__qualname__))
    attrs = {"__module__": __name__}
    if issubclass(mixin, _AbiOption) and not any(
            opt[0] == _ABI_OPTION[0] for opt in base.user_options):
        attrs["user_options"] = list(base.user_options) + [_ABI_OPTION]
    return type(base.__name__, (mixin, base), attrs)


def resolve_abi(dist, own=None):
    """The ABI this build is for, from every place ``--hpy-abi`` can be given.

    ``own`` is the value a command object holds, which may have been set
    programmatically rather than parsed.
    """
    given = []
    if getattr(dist, "hpy_abi", None):
        given.append(("setup.py --hpy-abi", dist.hpy_abi))
    for command in _ABI_COMMANDS:
        source_and_value = dist.command_options.get(command, {}).get("hpy_abi")
        if source_and_value:
            source, value = source_and_value
            given.append(("%s --hpy-abi (from %s)" % (command, source), value))
    if own and own not in {value for _where, value in given}:
        given.append(("--hpy-abi", own))
    for _where, value in given:
        try:
            _abi.check_abi(value, "--hpy-abi")
        except _abi.UnknownABIError as exc:
            raise OptionError(str(exc)) from None
    values = {value for _where, value in given}
    if len(values) > 1:
        raise OptionError("conflicting HPy ABIs, give one: %s" % ", ".join(
            "%s=%s" % pair for pair in given))
    return values.pop() if values else DEFAULT_ABI


class _AbiOption:
    """Mixin part shared by every command that takes ``--hpy-abi``."""

    def initialize_options(self):
        super().initialize_options()
        self.hpy_abi = None

    def finalize_options(self):
        self.hpy_abi = resolve_abi(self.distribution, self.hpy_abi)
        super().finalize_options()


# ---------------------------------------------------------------------------
# build: one build tree per non-default ABI

class _HPyBuild(_AbiOption):
    def finalize_options(self):
        defaulted = [name for name in ("build_lib", "build_platlib")
                     if getattr(self, name) is None]
        super().finalize_options()
        if self.hpy_abi != "cpython":
            for name in defaulted:
                setattr(self, name, getattr(self, name) + "-hpy-" + self.hpy_abi)


# ---------------------------------------------------------------------------
# build_ext

def _hpy_build_files(abi, static_lib=None):
    """hpy-build's headers and helper sources (or their static library): an extension depends on them."""
    files = _abi.helper_dependencies(abi)
    if static_lib is None:
        return files
    return [f for f in files if f.endswith(".h")] + [static_lib]


class _HPyBuildExt(_AbiOption):
    def finalize_options(self):
        super().finalize_options()
        # Objects of one ABI must never be linked into another's binary. Set
        # once here, not per extension: ``build_ext -j`` builds in threads.
        self.build_temp = os.path.join(self.build_temp, "hpy-" + self.hpy_abi)
        self._helper_objects = None
        self._helper_lock = threading.Lock()
        self._static_lib = None
        if getattr(self.distribution, "hpy_use_static_libs", False) and self._hpy_extensions():
            self._static_lib = _static_lib(self.hpy_abi)

    def _is_hpy(self, ext):
        return getattr(ext, "_hpy_extension", False)

    def _hpy_extensions(self):
        return [ext for ext in self.extensions if self._is_hpy(ext)]

    def _needs_import_stub(self):
        return self.hpy_abi != "cpython"

    def get_ext_filename(self, fullname):
        ext = self.ext_map.get(fullname)
        if ext is not None and self._is_hpy(ext):
            return os.path.join(*fullname.split(".")) + _abi.ext_suffix(self.hpy_abi)
        return super().get_ext_filename(fullname)

    def get_export_symbols(self, ext):
        symbols = super().get_export_symbols(ext)
        if self._is_hpy(ext) and self.hpy_abi != "cpython":
            # Only matters on Windows, where the init function must be exported.
            symbols = ["HPyInit_" + name[len("PyInit_"):] if name.startswith("PyInit_")
                       else name for name in symbols]
        return symbols

    def build_extension(self, ext):
        if not self._is_hpy(ext):
            return super().build_extension(ext)
        for source in ext.sources:
            if not os.path.isfile(source):
                raise FileError(
                    "source file %r of HPy extension %r does not exist (looked for %s); "
                    "fix the sources of that Extension in hpy_ext_modules "
                    "(paths are relative to the directory of setup.py)"
                    % (source, ext.name, os.path.abspath(source)))
        try:
            super().build_extension(self._with_abi_options(ext))
        except (CCompilerError, DistutilsError) as exc:
            raise CompileError("building %r for the %s ABI failed: %s"
                               % (ext.name, self.hpy_abi, exc)) from exc
        stub = self._stub_path(self.build_lib, ext)
        if self._needs_import_stub():
            self._write_import_stub(stub, ext)
        elif _is_our_stub(stub):
            # build_py copied a stub left in the source tree by an in-place
            # universal build; a CPython-ABI wheel must not ship it.
            log.info("removing %s (import stub of another HPy ABI)", stub)
            if not self.dry_run:
                os.remove(stub)

    def _with_abi_options(self, ext):
        """A copy of ``ext`` with the ABI's settings; the project's object stays as given."""
        options = _abi.compile_options(self.hpy_abi)
        built = copy.copy(ext)
        for name, value in vars(built).items():
            if isinstance(value, list):  # the base class appends to some of them
                setattr(built, name, list(value))
        # A static library goes after the extension's objects (build_ext puts
        # extra_objects there), so the linker takes from it what they use.
        helpers = [self._static_lib] if self._static_lib else self._helpers(built)
        built.extra_objects = helpers + list(ext.extra_objects)
        built.include_dirs = options["include_dirs"] + list(ext.include_dirs)
        built.define_macros = list(ext.define_macros) + options["define_macros"]
        built.extra_compile_args = options["extra_compile_args"] + list(ext.extra_compile_args)
        # Rebuild when hpy-build's headers or helpers change, not only the project's files.
        built.depends = list(ext.depends) + _hpy_build_files(self.hpy_abi, self._static_lib)
        return built

    def _helpers(self, ext):
        """The objects of the C that hpy-build adds to every extension of this ABI.

        Compiled once per run, with the ABI's settings only (not one
        extension's), and linked into each; only when an extension is out of
        date, as build_ext decides. ``build_ext -j`` builds extensions in
        threads, hence the lock.
        """
        sources = _abi.compile_options(self.hpy_abi)["extra_sources"]
        with self._helper_lock:
            if self._helper_objects is None and (self.force or newer_group(
                    list(ext.sources) + _hpy_build_files(self.hpy_abi) + list(ext.depends),
                    self.get_ext_fullpath(ext.name), "newer")):
                self._helper_objects = _abi.compile_helpers(
                    self.compiler, self.hpy_abi, self.build_temp, debug=self.debug)
        return self.compiler.object_filenames(sources, output_dir=self.build_temp)

    # -- import stubs ------------------------------------------------------

    def _stub_path(self, base_dir, ext):
        return os.path.join(base_dir, *ext._full_name.split(".")) + ".py"

    def _write_import_stub(self, stub_path, ext):
        binary = os.path.basename(self.get_ext_filename(ext._full_name))
        _refuse_to_overwrite(stub_path)
        log.info("writing import stub for %s to %s", ext._full_name, stub_path)
        if not self.dry_run:
            with open(stub_path, "w", encoding="utf-8") as f:
                f.write(_STUB_TEMPLATE.format(marker=STUB_MARKER, binary=binary,
                                              abi=self.hpy_abi))

    def get_outputs(self):
        outputs = super().get_outputs()
        if self._needs_import_stub() and not self.inplace:
            outputs += [self._stub_path(self.build_lib, ext)
                        for ext in self._hpy_extensions()]
        return sorted(outputs)

    def get_output_mapping(self):
        mapping = super().get_output_mapping()
        if self._needs_import_stub() and self.inplace:
            build_py = self.get_finalized_command("build_py")
            for ext in self._hpy_extensions():
                inplace_file, _regular = self._get_inplace_equivalent(build_py, ext)
                mapping[self._stub_path(self.build_lib, ext)] = self._inplace_stub(
                    ext, inplace_file)
        return dict(sorted(mapping.items()))

    def _inplace_stub(self, ext, inplace_file):
        return os.path.join(os.path.dirname(inplace_file),
                            ext._full_name.rpartition(".")[2] + ".py")

    def copy_extensions_to_source(self):
        super().copy_extensions_to_source()
        build_py = self.get_finalized_command("build_py")
        for ext in self._hpy_extensions():
            inplace_file, _regular = self._get_inplace_equivalent(build_py, ext)
            self._remove_other_abi_files(ext, inplace_file)
            if self._needs_import_stub():
                stub = self._inplace_stub(ext, inplace_file)
                _refuse_to_overwrite(stub)
                self.copy_file(self._stub_path(self.build_lib, ext), stub,
                               level=self.verbose)

    def _remove_other_abi_files(self, ext, inplace_file):
        """In the source tree, drop what an earlier build for another ABI left.

        Otherwise ``import`` could pick the stale binary: CPython prefers
        ``name.cpython-*.so`` over the stub ``name.py``.
        """
        folder = os.path.dirname(inplace_file)
        name = ext._full_name.rpartition(".")[2]
        stale = [os.path.join(folder, name + _abi.ext_suffix(other))
                 for other in _abi.ABIS if other != self.hpy_abi]
        if not self._needs_import_stub():
            stub = self._inplace_stub(ext, inplace_file)
            if _is_our_stub(stub):
                stale.append(stub)
        for path in stale:
            if os.path.exists(path):
                log.info("removing %s (built for another HPy ABI)", path)
                if not self.dry_run:
                    os.remove(path)


def _static_lib(abi):
    """The static library of ``abi``'s helpers, or HPy 0.9's error when there is none."""
    libs = _abi.static_libs(abi)
    if libs is None or len(libs) != 1:
        raise DistutilsError(
            'Expected exactly one static library for ABI "%s" but got: %r' % (abi, libs)
            + "; hpy-build makes its static libraries when it is built, for the Python "
            "building it (%s expected): reinstall hpy-build with this Python, or run "
            "'python setup.py build_ext --inplace' in its checkout; or build without "
            "--hpy-use-static-libs" % _abi.static_lib_path(abi))
    return libs[0]


def _is_our_stub(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith(STUB_MARKER)
    except OSError:
        return False


def _refuse_to_overwrite(stub_path):
    if os.path.exists(stub_path) and not _is_our_stub(stub_path):
        raise FileError(
            "%s exists and was not written by hpy-build; it would be replaced by "
            "the import stub of the HPy extension of the same name: rename the "
            "module or the extension" % stub_path)


# Kept tiny on purpose: it runs at import time on every interpreter, so it
# uses only the runtime's loader, never setuptools.
_STUB_TEMPLATE = '''\
{marker} (HPy {abi} ABI): imports {binary} from beside this file.
def _load_hpy_binary():
    import os, sys
    from hpy_build.universal import load
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), {binary!r})
    sys.modules[__name__] = load(__name__, path, __spec__)
_load_hpy_binary()
'''


# ---------------------------------------------------------------------------
# wheels and metadata

class _HPyBdistWheel(_AbiOption):
    def finalize_options(self):
        abi = resolve_abi(self.distribution, self.hpy_abi)
        if abi != "cpython":
            # The backend builds the ABIs' wheels at the same time: this one
            # stages files and writes metadata in a tree of its own.
            build_base = self.get_finalized_command("build").build_base
            if not self.bdist_dir:
                self.bdist_dir = os.path.join(build_base, "bdist-hpy-" + abi)
            egg_info = self.distribution.get_command_obj("egg_info")
            if egg_info.egg_base is None and not egg_info.finalized:
                egg_info.egg_base = os.path.join(build_base, "egg-info-hpy-" + abi)
                os.makedirs(egg_info.egg_base, exist_ok=True)
        super().finalize_options()

    def get_tag(self):
        impl, abi_tag, platform = super().get_tag()
        if self.hpy_abi != "universal":
            return impl, abi_tag, platform
        from packaging import tags
        # The binary does not use the Python C API: any Python 3 on this platform.
        tag = tags.Tag("py%d" % sys.version_info[0], "none", platform)
        if tag not in set(tags.compatible_tags(platforms=[platform])):
            raise SetupError("universal wheel tag %s would not install here" % tag)
        return tag.interpreter, tag.abi, tag.platform

    def write_wheelfile(self, wheelfile_base, *args, **kwargs):
        # Called once the wheel's .dist-info is in place, however it was made:
        # from this build's egg-info, or copied from metadata prepared before
        # (pip's prepare_metadata_for_build_wheel never sees --build-option).
        if self.hpy_abi != "cpython":
            _require_runtime_in_metadata(os.path.join(wheelfile_base, "METADATA"),
                                         self.distribution)
        return super().write_wheelfile(wheelfile_base, *args, **kwargs)


def _require_runtime_in_metadata(path, dist):
    """Make the METADATA file at ``path`` say what require_runtime says."""
    from packaging.requirements import Requirement
    with open(path, encoding="utf-8") as f:
        text = f.read()
    headers, blank, body = text.partition("\n\n")  # the description follows a blank line
    lines = headers.rstrip("\n").split("\n")
    wanted = Requirement(runtime_requirement())
    declared = [Requirement(line.split(":", 1)[1].strip()) for line in lines
                if line.startswith("Requires-Dist:")]
    if not any((r.name, r.specifier, r.marker) == (wanted.name, wanted.specifier, None)
               for r in declared):
        lines.append("Requires-Dist: " + runtime_requirement())
    python_requires = str(narrowed_requires_python(
        getattr(dist.metadata, "python_requires", None) or dist.python_requires))
    lines = [line for line in lines if not line.startswith("Requires-Python:")]
    lines.append("Requires-Python: " + python_requires)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n" + ("\n" + body if blank else ""))


class _HPyInstall(_AbiOption):
    pass


class _HPyEggInfo:
    """Writes the metadata of the ABI being built (used by wheels and dist_info)."""

    def run(self):
        if resolve_abi(self.distribution) != "cpython":
            require_runtime(self.distribution)
        super().run()


def runtime_requirement():
    """The hpy-build range that can load binaries built by this hpy-build.

    Pre-1.0, a minor release may change the universal runtime, and older
    runtimes lack what newer headers use, so stay within the minor series
    that built the binary: 0.1.0 -> ``hpy-build>=0.1,<0.2``.
    """
    from packaging.version import Version
    major, minor = (Version(hpy_build.__version__).release + (0, 0))[:2]
    return "hpy-build>=%d.%d,<%d.%d" % (major, minor, major, minor + 1)


def narrowed_requires_python(declared):
    """``declared`` limited to the interpreters the universal runtime supports.

    For example ``>=3.6,<4`` becomes ``>=3.8,<4``; ``>=3.10`` stays.
    """
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version
    floor = Version(RUNTIME_PYTHON_FLOOR)
    kept = []
    for spec in SpecifierSet(str(declared or "")):
        is_lower_bound = spec.operator in (">=", ">") and not spec.version.endswith(".*")
        if is_lower_bound and Version(spec.version) >= floor:
            return SpecifierSet(str(declared))  # already at or above the floor
        if not is_lower_bound:
            kept.append(str(spec))  # lower bounds below the floor say nothing more
    return SpecifierSet(",".join(kept + [">=" + RUNTIME_PYTHON_FLOOR]))


def require_runtime(dist):
    """Universal/hybrid binaries need hpy-build's runtime at import time."""
    requirement = runtime_requirement()
    requires = list(dist.install_requires or [])  # a copy: setuptools may freeze the original
    if requirement not in requires:
        requires.append(requirement)
    dist.install_requires = dist.metadata.install_requires = requires
    python_requires = str(narrowed_requires_python(
        getattr(dist.metadata, "python_requires", None) or dist.python_requires))
    dist.python_requires = dist.metadata.python_requires = python_requires


_MIXINS = {
    "build": _HPyBuild,
    "build_ext": _HPyBuildExt,
    "bdist_wheel": _HPyBdistWheel,
    "install": _HPyInstall,
    "egg_info": _HPyEggInfo,
}
