"""Loading a universal binary: the same checks and messages as the CPython
runtime (hpy_build/runtime/cpython/_universal.c), then the module is built
in Python from the HPyModuleDef."""
import types

from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy import calls, errors
from hpy_build.runtime.pypy.handles import objects as _o, new as _new, close_pinned as _close

ABI_VERSION = 0
ABI_VERSION_MINOR = 0
_NULL = ffi.NULL
_modules = []  # handles of loaded modules: pinned for their methods, never closed
_libs = []     # never dlclosed: the code must outlive every object it made


def _c(p):
    return None if p == _NULL else ffi.string(p).decode("utf-8")


def _with_note(exc, note):
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = getattr(exc, "__notes__", []) + [note]
    return exc


def _abi_error(error_class, name, path, advice, message):
    return _with_note(error_class(message, name=name, path=path), "%s: %s" % (path, advice))


def _symbol(handle, prefix, short, name, path):
    sym = prefix + short
    address = lib._hpy_pypy_dlsym(handle, sym.encode("utf-8"))
    if address == _NULL:
        raise ImportError(
            "%s is not an HPy universal module: it does not export '%s'. Build it from a "
            "source with HPy_MODINIT(%s, ...) for the universal ABI, and keep the file "
            "name's module name '%s'." % (path, sym, short, short), name=name, path=path)
    return address


def load(name, path, fspath, spec, file_major, hybrid, error_class):
    short = name.rpartition(".")[2]
    if hybrid:
        raise error_class("%s is a hybrid-ABI binary: it needs CPython's C API, which the "
                          "cffi runtime does not provide" % path, name=name, path=path)
    handle = lib._hpy_pypy_dlopen(fspath)
    if handle == _NULL:
        raise ImportError("Error during loading of the HPy extension module at path '%s'. "
                          "Error message from dlopen/WinAPI: %s"
                          % (path, ffi.string(lib._hpy_pypy_dlerror()).decode("utf-8", "replace")),
                          name=name, path=path)
    _libs.append(handle)
    get_major = _symbol(handle, "get_required_hpy_major_version_", short, name, path)
    get_minor = _symbol(handle, "get_required_hpy_minor_version_", short, name, path)
    init_ctx = _symbol(handle, "HPyInitGlobalContext_", short, name, path)
    init = _symbol(handle, "HPyInit_", short, name, path)
    major, minor = lib._hpy_pypy_call_version(get_major), lib._hpy_pypy_call_version(get_minor)
    if major != ABI_VERSION or minor > ABI_VERSION_MINOR:
        raise _abi_error(
            error_class, name, path,
            "this hpy-build runtime loads HPy ABI %d.0 to %d.%d; rebuild the module with "
            "this hpy-build, or install an hpy-build that supports ABI %d.%d"
            % (ABI_VERSION, ABI_VERSION, ABI_VERSION_MINOR, major, minor),
            "HPy extension module '%s' requires unsupported version of the HPy runtime. "
            "Requested version: %d.%d. Current HPy version: %d.%d."
            % (name, major, minor, ABI_VERSION, ABI_VERSION_MINOR))
    if file_major < 0:
        raise _abi_error(
            error_class, name, path,
            "name it like '%s.hpy%d.so', as a universal build (--hpy-abi=universal) does; "
            "CPython-ABI binaries are imported directly, without hpy_build" % (short, major),
            "HPy extension module '%s' at path '%s': could not find HPy ABI tag encoded in "
            "the filename. The extension claims to be compiled with HPy ABI version: %d.%d."
            % (name, path, major, minor))
    if major != file_major:
        raise _abi_error(
            error_class, name, path,
            "the file was renamed or mis-built: a binary for ABI %d is named .hpy%d" % (major, major),
            "HPy extension module '%s' at path '%s': mismatch between the HPy ABI tag encoded in "
            "the filename and the major version requested by the HPy extension itself. Major "
            "version tag parsed from filename: %d. Requested version: %d.%d."
            % (name, path, file_major, major, minor))
    lib._hpy_pypy_call_init_ctx(init_ctx)
    hpydef = lib._hpy_pypy_call_init(init)
    if hpydef == _NULL:
        raise ImportError("Error during loading of the HPy extension module at path '%s'. "
                          "Function 'HPyInit_%s' returned NULL." % (path, short),
                          name=name, path=path)
    legacy = ffi.cast("void **", hpydef.legacy_methods)
    if legacy != _NULL and legacy[0] != _NULL:
        raise RuntimeError(
            "Module %s contains legacy methods, but it was built for the universal ABI, which "
            "cannot run C-API functions on every interpreter: build it with --hpy-abi=hybrid "
            "(or cpython), or port the legacy methods to HPyDef_METH (%s)" % (name, path))
    try:
        return _build(hpydef, name, spec)
    except BaseException as exc:
        raise _with_note(exc, "while loading the HPy module '%s' from %s" % (name, path))


def _build(hpydef, name, spec):
    if hpydef.size != 0:
        raise SystemError("HPy does not permit HPyModuleDef.size > 0")
    defs = []
    if hpydef.defines != _NULL:
        i = 0
        while hpydef.defines[i] != _NULL:
            defs.append(hpydef.defines[i])
            i += 1
    if hpydef.globals != _NULL:
        i = 0
        while hpydef.globals[i] != _NULL:
            hpydef.globals[i]._i = 0  # a reloaded module starts with empty globals
            i += 1
    create = [d.slot.impl for d in defs if d.kind == 1 and d.slot.slot == 2000]
    execs = [d.slot.impl for d in defs if d.kind == 1 and d.slot.slot == 2001]
    for d in defs:
        if d.kind == 1 and d.slot.slot not in (2000, 2001):
            raise SystemError("module %s: only HPy_mod_create and HPy_mod_exec slots are "
                              "allowed in a module definition" % name)
    if len(create) > 1:
        raise SystemError("module %s has multiple create slots" % name)
    if create:
        for d in defs:
            if d.kind == 2:
                raise SystemError("module %s: HPy_mod_create with methods is not supported" % name)
        h = _new(spec)
        try:
            module = calls.result(lib._hpy_call_MOD_CREATE(create[0], h), "HPy_mod_create of " + name)
        finally:
            _close(h)
    else:
        module = types.ModuleType(name, _c(hpydef.doc))
    if not isinstance(module, types.ModuleType):
        return module  # exec slots need a module, as for the import system
    if create and hpydef.doc != _NULL:
        module.__doc__ = _c(hpydef.doc)
    mh = _new(module)
    _modules.append(mh)
    for d in defs:
        if d.kind == 2:
            m = d.meth
            mname = _c(m.name)
            f = calls.method(m.signature, m.impl, mname, _c(m.doc), self_handle=mh)
            f.__module__ = name
            setattr(module, mname, f)
        elif d.kind in (3, 4):
            raise SystemError("module %s: members and getsets are not allowed in a module" % name)
    for impl in execs:
        r = lib._hpy_call_INQUIRY(impl, mh)
        if r != 0:
            exc = errors.take()
            if exc is None:
                raise SystemError("execution of module %s failed without setting an exception" % name)
            raise exc
        if errors.current() is not None:
            raise SystemError("execution of module %s raised unreported exception" % name) \
                from errors.take()
    return module
