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
import struct
import sys

# .hpy0.so (universal) or .hpy0-cp311.so (hybrid: also uses one CPython's C API)
_FILE_NAME = re.compile(r"\.hpy(?P<major>\d+)(?:-(?P<cpython>cp\d+))?\.(?:so|pyd)$")

__all__ = ["load", "HPyABIError"]


class HPyABIError(ImportError, RuntimeError):
    """A binary built for an HPy ABI (version or tag) this runtime cannot load.

    An ImportError, as for any module that cannot be imported, and a
    RuntimeError, which is what HPy 0.9's runtime raises in these cases.
    """


def _runtime():
    if sys.implementation.name != "cpython":
        raise ImportError(
            "hpy-build has no universal runtime for %s yet; build the module for the "
            "CPython ABI instead (pip install <project> -C hpy-abi=cpython), which runs "
            "through %s's C-API emulation" % (sys.implementation.name, sys.implementation.name))
    from hpy_build import _universal
    return _universal


def _with_note(exc, note):
    """exc with a PEP 678 note; before 3.11 the note is only kept in __notes__."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = getattr(exc, "__notes__", []) + [note]
    return exc


# ---- the ELF check -----------------------------------------------------------
# dlopen maps a binary's segments and touches them: a truncated file kills the
# process with SIGBUS, and glibc answers a binary for another machine with a
# misleading "No such file or directory". So the loader reads the ELF header and
# program headers first (a few hundred bytes) and refuses what dlopen cannot map.

_ELF_MAGIC = b"\x7fELF"
_ELF_CLASSES = {1: 32, 2: 64}
_ELF_BYTE_ORDERS = {1: "little", 2: "big"}
_ET_DYN = 3
_ELF_TYPES = {0: "a file of no type", 1: "a relocatable object (.o)", 2: "an executable",
              4: "a core dump"}
_PT_LOAD, _PT_DYNAMIC = 1, 2
_PN_XNUM = 0xFFFF  # e_phnum when the count is in section header 0
# e_machine values of the common machines, to name them in messages
_ELF_MACHINES = {3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "s390", 40: "ARM",
                 62: "x86-64", 183: "AArch64", 243: "RISC-V", 258: "LoongArch"}
# per word size: header after e_ident, program header, section header, and
# the indexes of the fields used in the last two
_ELF_LAYOUTS = {
    32: ("HHIIIIIHHHHHH", "IIIIIIII", "IIIIIIIIII", dict(offset=1, vaddr=2, filesz=4, memsz=5)),
    64: ("HHIQQQIHHHHHH", "IIQQQQQQ", "IIQQQQIIQQ", dict(offset=2, vaddr=3, filesz=5, memsz=6)),
}


class _BadBinary(Exception):
    """What is wrong with a binary, in words."""


def _machine_name(machine):
    return "%s (e_machine %d)" % (_ELF_MACHINES.get(machine, "machine"), machine)


def _truncated_header(size):
    return _BadBinary("the file has %d bytes, too few for an ELF header: it is truncated" % size)


def _read_elf_header(f):
    """(bits, byte order, e_type, e_machine, header fields after e_ident) of an ELF file."""
    ident = f.read(16)
    if ident[:4] != _ELF_MAGIC:
        if len(ident) < 4 and _ELF_MAGIC.startswith(ident):
            raise _truncated_header(len(ident))
        raise _BadBinary("it is not an ELF file (its first bytes are %r)" % ident[:8])
    if len(ident) < 16:
        raise _truncated_header(len(ident))
    bits = _ELF_CLASSES.get(ident[4])
    order = _ELF_BYTE_ORDERS.get(ident[5])
    if bits is None or order is None or ident[6] != 1:
        raise _BadBinary("its ELF identification is invalid (EI_CLASS %d, EI_DATA %d, "
                         "EI_VERSION %d)" % (ident[4], ident[5], ident[6]))
    layout = ("<" if order == "little" else ">") + _ELF_LAYOUTS[bits][0]
    rest = f.read(struct.calcsize(layout))
    if len(rest) < struct.calcsize(layout):
        raise _truncated_header(16 + len(rest))
    fields = struct.unpack(layout, rest)
    return bits, order, fields[0], fields[1], fields


@functools.lru_cache(maxsize=None)
def _this_machine():
    """(bits, byte order, e_machine) of the runtime's own binary; None off ELF platforms."""
    try:
        with open(_runtime().__file__, "rb") as f:
            bits, order, _, machine, _ = _read_elf_header(f)
    except (OSError, _BadBinary):
        return None
    return bits, order, machine


def _check_elf(path):
    """Raises _BadBinary if dlopen could not map the binary at path for this machine."""
    machine = _this_machine()
    if machine is None:
        return  # not an ELF platform (or no runtime, which load() reports)
    try:
        f = open(path, "rb")
    except OSError as error:
        raise _BadBinary("it cannot be read (%s)" % error.strerror)
    with f:
        size = os.fstat(f.fileno()).st_size
        bits, order, e_type, e_machine, header = _read_elf_header(f)
        if (bits, order, e_machine) != machine:
            if bits != machine[0]:
                wrong = "it is a %d-bit binary and this interpreter is %d-bit" % (bits, machine[0])
            elif order != machine[1]:
                wrong = "it is a %s-endian binary and this machine is %s-endian" % (order, machine[1])
            else:
                wrong = "it is built for %s and this machine is %s" % (
                    _machine_name(e_machine), _machine_name(machine[2]))
            raise _BadBinary(wrong)
        if e_type != _ET_DYN:
            raise _BadBinary("it is %s (ELF type %d), not a shared library (ET_DYN)"
                             % (_ELF_TYPES.get(e_type, "not a shared library"), e_type))
        endian = "<" if order == "little" else ">"
        _, phdr_layout, shdr_layout, at = _ELF_LAYOUTS[bits]
        phoff, shoff, phentsize, phnum, shentsize, shnum = (
            header[4], header[5], header[8], header[9], header[10], header[11])
        if phnum == _PN_XNUM:  # more than 65534 segments: the count is in section 0
            if shoff == 0 or shoff + struct.calcsize(shdr_layout) > size:
                raise _BadBinary("its program header count is in section 0, which it lacks")
            f.seek(shoff)
            phnum = struct.unpack(endian + shdr_layout, f.read(struct.calcsize(shdr_layout)))[7]
        if phentsize != struct.calcsize(phdr_layout):
            raise _BadBinary("its program header size is %d bytes, not %d"
                             % (phentsize, struct.calcsize(phdr_layout)))
        if phnum == 0:
            raise _BadBinary("it has no program headers: there is nothing to load")
        if phoff + phnum * phentsize > size:
            raise _BadBinary("its program headers (bytes %d to %d) lie past the end of the "
                             "file (%d bytes): it is truncated"
                             % (phoff, phoff + phnum * phentsize, size))
        f.seek(phoff)
        table = f.read(phnum * phentsize)
        segments = [struct.unpack_from(endian + phdr_layout, table, i * phentsize)
                    for i in range(phnum)]
    _check_segments(segments, at, size)
    # dlopen does not read section headers, but a table past the end of the
    # file means the end of the file is missing
    if shoff != 0 and shoff + shnum * shentsize > size:
        raise _BadBinary("its section header table (bytes %d to %d) lies past the end of "
                         "the file (%d bytes): it is truncated"
                         % (shoff, shoff + shnum * shentsize, size))


def _check_segments(segments, at, size):
    page = _page_size()
    loads = []
    for number, segment in enumerate(segments):
        p_type, offset, vaddr, filesz, memsz = (
            segment[0], segment[at["offset"]], segment[at["vaddr"]], segment[at["filesz"]],
            segment[at["memsz"]])
        kind = {_PT_LOAD: "PT_LOAD", _PT_DYNAMIC: "PT_DYNAMIC"}.get(p_type)
        name = "%s segment %d" % (kind, number) if kind else "segment %d" % number
        if offset + filesz > size:
            raise _BadBinary("its %s (bytes %d to %d) lies past the end of the file (%d bytes): "
                             "it is truncated" % (name, offset, offset + filesz, size))
        if p_type != _PT_LOAD:
            continue
        if filesz > memsz:
            raise _BadBinary("its %s has more bytes in the file (%d) than in memory (%d)"
                             % (name, filesz, memsz))
        # an empty segment at an unaligned address still maps the page at its offset
        if filesz == 0 and offset % page and offset - offset % page >= size:
            raise _BadBinary("its %s starts at byte %d, past the end of the file (%d bytes): "
                             "it is truncated" % (name, offset, size))
        loads.append((vaddr, vaddr + filesz))
    if not loads:
        raise _BadBinary("it has no loadable segment (PT_LOAD)")
    # the dynamic linker reads the dynamic section in memory: it must be file-backed
    for segment in segments:
        if segment[0] == _PT_DYNAMIC:
            start, end = segment[at["vaddr"]], segment[at["vaddr"]] + segment[at["filesz"]]
            if not any(low <= start and end <= high for low, high in loads):
                raise _BadBinary("its dynamic section (addresses 0x%x to 0x%x) is not inside a "
                                 "loadable segment" % (start, end))


def _page_size():
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 4096


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


def load(name, path, spec=None):
    """Load the universal binary at ``path`` as the module ``name`` and return it.

    ``path`` is a ``str``, ``bytes`` or ``os.PathLike``, relative to the
    current directory or absolute.

    ``spec`` is the module's ``importlib`` spec (the import stubs pass their
    own); the module's spec has ``path`` as its origin either way. The module
    gets ``__spec__``, ``__loader__``, ``__package__`` and ``__file__`` as an
    import would give it, and is not put into ``sys.modules``.

    Raises ``ImportError`` naming the file when it is missing, damaged (on
    ELF platforms the binary is checked before it is mapped), built for
    another machine or not an HPy module, and :class:`HPyABIError` (an ``ImportError`` and a
    ``RuntimeError``) when it was built for an HPy ABI version or tag this
    runtime cannot load.
    """
    # Absolute, since dlopen searches the library path for a name without a
    # slash; str for messages and __file__ (undecodable bytes become
    # surrogates, as in os.fsdecode), bytes for dlopen.
    path = os.fsdecode(os.path.abspath(os.fspath(path)))
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
    runtime = _runtime()
    try:
        _check_elf(path)
    except _BadBinary as bad:
        raise _with_note(ImportError(
            "Error during loading of the HPy extension module at path '%s'. The file is not a "
            "shared library this interpreter can load: %s." % (path, bad), name=name, path=path),
            "%s: rebuild or reinstall the module for this machine; a truncated binary is "
            "often left by an interrupted copy or download" % path) from None
    module = runtime.load(name, path, os.fsencode(path), spec, file_major,
                          cpython_tag is not None, HPyABIError)
    _set_import_attributes(module, spec, path)
    return module
