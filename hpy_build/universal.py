"""Load universal-ABI HPy binaries (``<name>.hpy0.so``) into this interpreter.

    >>> from hpy_build.universal import load
    >>> mod = load("mypkg.mymod", "/path/to/mypkg/mymod.hpy0.so")

The import stubs that hpy-build writes next to each universal binary call
``load`` for you, so ``import mypkg.mymod`` just works.
"""
import functools
import importlib.machinery
import os
import re
import shutil
import sys
import tempfile

from hpy_build.runtime import elfcheck as _elfcheck

# .hpy0.so (universal) or .hpy0-cp311.so (hybrid: also uses one CPython's C API)
_FILE_NAME = re.compile(r"\.hpy(?P<major>\d+)(?:-(?P<cpython>cp\d+))?\.(?:so|pyd)$")

__all__ = ["load", "HPyABIError", "MODE_UNIVERSAL", "MODE_DEBUG", "MODE_TRACE"]

# The context a module gets (values as in HPy 0.9's hpy.universal).
MODE_UNIVERSAL = 0
MODE_DEBUG = 1
MODE_TRACE = 2
_MODES = {"universal": MODE_UNIVERSAL, "debug": MODE_DEBUG, "trace": MODE_TRACE}
_MODE_NAMES = {value: name for name, value in _MODES.items()}
_LOG_SUFFIX = {MODE_UNIVERSAL: "", MODE_DEBUG: " with a debug context", MODE_TRACE: " with a trace context"}


class HPyABIError(ImportError, RuntimeError):
    """A binary built for an HPy ABI (version or tag) this runtime cannot load.

    An ImportError, as for any module that cannot be imported, and a
    RuntimeError, which is what HPy 0.9's runtime raises in these cases.
    """


def _runtime_name(runtime=None):
    """'c' (the C runtime, CPython only) or 'cffi': the loader argument, else
    HPY_BUILD_RUNTIME, else the one of the running interpreter."""
    name = runtime or os.environ.get("HPY_BUILD_RUNTIME") or (
        "c" if sys.implementation.name == "cpython" else "cffi")
    if name not in ("c", "cffi"):
        raise ValueError("unknown HPy runtime %r: use 'c' or 'cffi'" % (name,))
    if name == "c" and sys.implementation.name != "cpython":
        raise ImportError("the C universal runtime of hpy-build needs CPython; on %s use the "
                          "cffi runtime (HPY_BUILD_RUNTIME=cffi)" % sys.implementation.name)
    return name


def _runtime(runtime=None):
    if _runtime_name(runtime) == "cffi":
        try:
            from hpy_build.runtime import pypy
        except ImportError as exc:
            raise ImportError(
                "hpy-build's cffi universal runtime is not built here (%s); reinstall "
                "hpy-build with cffi available, or build the module for the CPython ABI "
                "(pip install <project> --config-settings hpy-abi=cpython)" % exc) from exc
        return pypy
    from hpy_build import _universal
    return _universal


# The runtime (module) that last loaded a module in debug / trace mode: the
# one whose debug or trace context hpy_build.debug / hpy_build.trace read.
_MODE_RUNTIME = {}


def _runtime_of_mode(mode):
    """The runtime binding debug or trace mode: the one that loaded a module in
    that mode (the last one, if both did), else the default one."""
    return _MODE_RUNTIME.get(mode) or _runtime()


def _with_note(exc, note):
    """exc with a PEP 678 note; before 3.11 the note is only kept in __notes__."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = getattr(exc, "__notes__", []) + [note]
    return exc


@functools.lru_cache(maxsize=None)
def _this_machine(runtime=None):
    """(bits, byte order, e_machine) of the runtime's own binary; None off ELF platforms."""
    module = _runtime(runtime)
    return _elfcheck.machine_of(getattr(module, "binary", module.__file__))


def _set_import_attributes(module, spec, path):
    """What the import system sets on a module it loads from ``spec``.

    Like ``importlib``, attributes the module already has are kept, and an
    object that refuses an attribute (HPy_mod_create may return any object)
    simply goes without it.
    """
    wanted = [("__spec__", spec), ("__loader__", spec.loader), ("__package__", spec.parent)]
    if spec.submodule_search_locations is not None:
        wanted.append(("__path__", spec.submodule_search_locations))
    for attribute, value in wanted:
        if getattr(module, attribute, None) is None:
            try:
                setattr(module, attribute, value)
            except AttributeError:
                pass
    try:
        module.__file__ = path
    except AttributeError:
        pass


# A binary's globals (the context its trampolines use) exist once per mapping,
# and dlopen maps a file once: {(real path, (mode, runtime)): the file mapped
# for it}. Each runtime gives the binary its own context, hence the runtime.
_MAPPED = {}
_COPIES = []


def _file_for_mode(path, mode, runtime="c"):
    """``path``, or a copy when this file is already mapped in another mode
    (or by the other runtime).

    Without the copy, loading a binary in a second mode would switch the
    module loaded first to that mode's context too.
    """
    mode_name = _MODE_NAMES[mode] + ("-cffi" if runtime == "cffi" else "")
    mode = (mode, runtime)
    key = os.path.realpath(path)
    if (key, mode) in _MAPPED:
        return _MAPPED[key, mode]
    if not any(k == key for k, _ in _MAPPED):
        _MAPPED[key, mode] = path
        return path
    if not _COPIES:
        _COPIES.append(tempfile.mkdtemp(prefix="hpy-modes-"))
        # the mappings outlive the files: removing them at exit is safe
        import atexit
        atexit.register(shutil.rmtree, _COPIES[0], True)
    folder = os.path.join(_COPIES[0], mode_name, str(len(_MAPPED)))
    os.makedirs(folder)
    copy = os.path.join(folder, os.path.basename(path))
    shutil.copyfile(path, copy)
    _MAPPED[key, mode] = copy
    return copy


def _mode_word(word, env):
    mode = _MODES.get(word.strip().lower())
    if mode is None:
        raise ValueError("HPY=%r: unknown mode %r; use universal, debug or trace, for every "
                         "module (HPY=debug) or per module (HPY=mod1:debug,mod2:trace)"
                         % (env, word.strip()))
    return mode


def mode_from_environment(name, environ=None):
    """The mode ``HPY`` asks for the module ``name`` (dotted name or its last part).

    ``HPY=debug`` (or ``universal``, ``trace``) for every module;
    ``HPY=mod:debug,other:trace`` per module, others universal. Case-insensitive;
    anything else is a ValueError naming the bad value.
    """
    env = (os.environ if environ is None else environ).get("HPY", "")
    if not env.strip():
        return MODE_UNIVERSAL
    if ":" not in env:
        return _mode_word(env, env)
    wanted = {name.lower(), name.rpartition(".")[2].lower()}
    mode = MODE_UNIVERSAL
    for item in env.split(","):
        module, sep, word = item.partition(":")
        if not sep or not module.strip():
            raise ValueError("HPY=%r: %r is not 'module:mode'; write HPY=mod1:debug,mod2:trace "
                             "or HPY=debug for every module" % (env, item))
        value = _mode_word(word, env)
        if module.strip().lower() in wanted:
            mode = value
    return mode


def load(name, path, spec=None, *, mode=None, runtime=None):
    """Load the universal binary at ``path`` as the module ``name`` and return it.

    ``path`` is a ``str``, ``bytes`` or ``os.PathLike``, relative to the
    current directory or absolute.

    ``spec`` is the module's ``importlib`` spec (the import stubs pass their
    own); the module's spec has ``path`` as its origin either way. The module
    gets ``__spec__``, ``__loader__``, ``__package__`` and ``__file__`` as an
    import would give it, and is not put into ``sys.modules``.

    ``mode`` is ``MODE_UNIVERSAL``, ``MODE_DEBUG`` or ``MODE_TRACE`` (or
    their names as strings); ``None`` takes it from the ``HPY`` environment
    variable (see :func:`mode_from_environment`). ``HPY_LOG=1`` prints the
    mode each module is loaded in.

    ``runtime`` is ``"c"`` (CPython's C runtime) or ``"cffi"`` (the runtime
    PyPy uses, which also runs on CPython); ``None`` takes it from the
    ``HPY_BUILD_RUNTIME`` environment variable, else the running
    interpreter's own.

    Raises ``ImportError`` naming the file when it is missing, damaged (on
    ELF platforms the binary is checked before it is mapped), built for
    another machine or not an HPy module, and :class:`HPyABIError` (an ``ImportError`` and a
    ``RuntimeError``) when it was built for an HPy ABI version or tag this
    runtime cannot load.
    """
    # Absolute, since dlopen searches the library path for a name without a
    # slash; str for messages and __file__ (undecodable bytes become
    # surrogates, as in os.fsdecode), bytes for dlopen.
    runtime_name = runtime = _runtime_name(runtime)
    path = os.fsdecode(os.path.abspath(os.fspath(path)))
    if mode is None:
        mode = mode_from_environment(name)
    elif isinstance(mode, str):
        mode = _mode_word(mode, mode)
    elif mode not in _MODE_NAMES:
        raise ValueError("mode=%r: use MODE_UNIVERSAL, MODE_DEBUG or MODE_TRACE" % (mode,))
    if not os.path.isfile(path):
        raise ImportError("no HPy module binary at %s" % path, name=name, path=path)
    match = _FILE_NAME.search(os.path.basename(path))
    # without a tag, the runtime reads the binary's version to say what it should be called
    file_major = int(match.group("major")) if match else -1
    cpython_tag = match.group("cpython") if match else None
    if cpython_tag is not None:
        running = "cp%d%d" % sys.version_info[:2]
        if sys.implementation.name != "cpython" or cpython_tag != running:
            raise HPyABIError(
                "%s is a hybrid-ABI binary for %s and cannot load on %s %s; install "
                "the universal build instead" % (path, cpython_tag, sys.implementation.name, running),
                name=name, path=path)
    if spec is None:
        spec = importlib.machinery.ModuleSpec(name, None, origin=path)
    elif spec.origin != path:
        # An import stub's spec: the stub's loader (for reload), the binary's origin.
        spec = importlib.machinery.ModuleSpec(spec.name, spec.loader, origin=path)
    spec.has_location = True  # a file, so repr(module) says "from <path>" as for any extension
    machine = _this_machine(runtime)
    runtime = _runtime(runtime)
    try:
        # dlopen would crash on a damaged binary (see _elfcheck): refuse it in words
        if machine is not None:
            _elfcheck.check(path, machine)
    except _elfcheck.BadBinary as bad:
        raise _with_note(ImportError(
            "Error during loading of the HPy extension module at path '%s'. The file is not a "
            "shared library this interpreter can load: %s." % (path, bad), name=name, path=path),
            "%s: rebuild or reinstall the module for this machine; a truncated binary is "
            "often left by an interrupted copy or download" % path) from None
    if os.environ.get("HPY_LOG"):
        # HPy 0.9's words, on stdout as there
        print("Loading '%s' in HPy universal mode%s" % (name, _LOG_SUFFIX[mode]), flush=True)
    mapped = _file_for_mode(path, mode, runtime_name)
    module = runtime.load(name, path, os.fsencode(mapped), spec, file_major,
                          cpython_tag is not None, HPyABIError, mode)
    if mode != MODE_UNIVERSAL:
        _MODE_RUNTIME[mode] = runtime
    _set_import_attributes(module, spec, path)
    return module
