"""Loading a universal binary: the same checks and messages as the CPython
runtime (hpy_build/runtime/cpython/_universal.c), then the module is built
in Python from the HPyModuleDef."""
import types

from hpy_build._hpy_cffi import ffi, lib
from hpy_build.runtime.pypy import calls, errors
from hpy_build.universal import MODE_DEBUG, MODE_UNIVERSAL
from hpy_build.runtime.pypy.handles import new as _new, close_pinned as _close

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


def load(name, path, fspath, spec, file_major, hybrid, error_class, mode=MODE_UNIVERSAL):
    """hpy_build.universal.load's runtime half (the mode is checked there)."""
    short = name.rpartition(".")[2]
    if hybrid:
        # even on CPython: cffi releases the GIL around every call into C, and a
        # hybrid module's C-API calls need it
        raise error_class("%s is a hybrid-ABI binary: it calls CPython's C API, which needs the "
                          "GIL that the cffi runtime releases around calls into C; load it with "
                          "the C runtime on CPython (unset HPY_BUILD_RUNTIME), or on PyPy build "
                          "the module for the universal ABI (or the CPython ABI, for cpyext)"
                          % path, name=name, path=path)
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
    ctx = lib._hpy_pypy_ctx_ptr()
    if mode != MODE_UNIVERSAL:
        # hpy_build.universal maps a binary once per mode (a copy for a second one)
        ctx = lib._hpy_pypy_add_moded(init_ctx, mode)
        if ctx == _NULL:
            raise ImportError("could not create the HPy %s context for '%s' (out of memory, or "
                              "more than 256 binaries loaded in debug or trace mode)"
                              % ("debug" if mode == MODE_DEBUG else "trace", name),
                              name=name, path=path)
    lib._hpy_pypy_call_init_ctx(init_ctx, ctx)
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


_CREATE_ALONE = (
    "This is not allowed because custom HPy_mod_create slot cannot return a builtin module "
    "object and cannot make any use of any other data defined in the HPyModuleDef. Either do "
    "not define HPy_mod_create slot and let the runtime create a builtin module object from "
    "the provided HPyModuleDef, or do not define anything else but the HPy_mod_create slot.")
_METHOD_SIGNATURES = (1, 2, 3, 4)  # VARARGS, KEYWORDS, NOARGS, O


def _with_raised_note(exc, note):
    return _with_note(exc, note)


def _build(hpydef, name, spec):
    """The checks and messages of the C runtime (ctx_module.c), then the module."""
    if hpydef.size < 0:
        raise SystemError("HPy does not permit HPyModuleDef.size < 0 (module %s: set it to 0)" % name)
    if hpydef.size > 0:
        raise SystemError(
            "Module state is not supported yet in HPy, set HPyModuleDef.size = 0 if module state "
            "is not needed (module %s: keep module-level state in HPyGlobal variables listed in "
            "HPyModuleDef.globals)" % name)
    defs = []
    if hpydef.defines != _NULL:
        i = 0
        while hpydef.defines[i] != _NULL:
            defs.append(hpydef.defines[i])
            i += 1
    create, execs, others = None, [], False
    for d in defs:
        if d.kind in (3, 4):
            raise ValueError("module %s: members and get-sets belong to types, not modules" % name)
        if d.kind != 1:
            others = True
            continue
        if d.slot.slot == 2000:
            if create is not None:
                raise SystemError("Multiple definitions of the HPy_mod_create slot in "
                                  "HPyModuleDef.defines. (module %s)" % name)
            create = d.slot.impl
        elif d.slot.slot == 2001:
            others = True
            execs.append(d.slot.impl)
        else:
            raise SystemError(
                "Unsupported slot in HPyModuleDef.defines (value: %d). Module %s: a module takes "
                "only HPy_mod_create and HPy_mod_exec; the other slots belong to types"
                % (d.slot.slot, name))
    if create is not None and others:
        raise SystemError("HPyModuleDef defines a HPy_mod_create slot and some other slots or "
                          "methods. %s (module %s)" % (_CREATE_ALONE, name))
    if create is not None and (hpydef.legacy_methods != _NULL or hpydef.doc != _NULL
                               or hpydef.globals != _NULL):
        raise SystemError("HPyModuleDef defines a HPy_mod_create slot and some of the other "
                          "fields are not set to their default value. %s (module %s: leave doc, "
                          "legacy_methods and globals NULL)" % (_CREATE_ALONE, name))
    for d in defs:
        if d.kind == 2 and d.meth.signature not in _METHOD_SIGNATURES:
            raise _with_note(ValueError("Unsupported HPyMeth signature"),
                             "method '%s' of module %s has signature %d; a method takes "
                             "HPyFunc_NOARGS, HPyFunc_O, HPyFunc_VARARGS or HPyFunc_KEYWORDS"
                             % (_c(d.meth.name), name, d.meth.signature))
    if hpydef.globals != _NULL:
        i = 0
        while hpydef.globals[i] != _NULL:
            hpydef.globals[i]._i = 0  # a reloaded module starts with empty globals
            i += 1
    if create is not None:
        h = _new(spec)
        try:
            module = calls.result(lib._hpy_call_MOD_CREATE(create, h), "HPy_mod_create of " + name)
        finally:
            _close(h)
        if isinstance(module, types.ModuleType):
            raise SystemError(
                "HPy_mod_create slot returned a builtin module object. This is currently not "
                "supported. (module %s: return another object, or drop HPy_mod_create and let "
                "the runtime make the module)" % name)
        return module
    module = types.ModuleType(name, _c(hpydef.doc))
    mh = _new(module)
    _modules.append(mh)
    for d in defs:
        if d.kind == 2:
            m = d.meth
            mname = _c(m.name)
            f = calls.method(m.signature, m.impl, mname, _c(m.doc), self_handle=mh)
            f.__module__ = name
            setattr(module, mname, f)
    for impl in execs:
        r = lib._hpy_call_INQUIRY(impl, mh)
        if r != 0:
            errors.raise_pending("execution of module %s" % name)
        if errors.current() is not None:
            raise SystemError("execution of module %s raised unreported exception" % name) \
                from errors.take()
    return module
