"""The check a universal binary passes before the loader hands it to dlopen.

dlopen maps a binary's segments and then reads them in memory: a truncated file
kills the process with SIGBUS, a damaged header or dynamic section with
SIGSEGV, and glibc answers a binary for another machine with a misleading "No
such file or directory". So on ELF platforms the loader first reads the ELF
header, the program headers and the dynamic section (a few kilobytes at most)
and refuses, with words, what dlopen could not map or would read outside the
file. A damaged relocation or symbol table, or a binary made to do harm (its
constructors run at load time anyway), is beyond this check.
"""
import os
import struct

MAGIC = b"\x7fELF"
_CLASSES = {1: 32, 2: 64}
_BYTE_ORDERS = {1: "little", 2: "big"}
_ET_DYN = 3
_TYPES = {0: "a file of no type", 1: "a relocatable object (.o)", 2: "an executable",
          4: "a core dump"}
_PT_LOAD, _PT_DYNAMIC, _PT_GNU_RELRO = 1, 2, 0x6474E552
_SHF_ALLOC, _SHT_NOBITS = 0x2, 8
_PN_XNUM = 0xFFFF  # e_phnum when the count is in section header 0
# segments the dynamic linker (or the unwinder, through dl_iterate_phdr) reads
# in memory, so they must lie in the file-backed part of a loaded segment
_READ_IN_MEMORY = {2: "PT_DYNAMIC", 6: "PT_PHDR", 7: "PT_TLS", 0x6474E550: "PT_GNU_EH_FRAME",
                   0x6474E553: "PT_GNU_PROPERTY"}
# e_machine values of the common machines, to name them in messages
_MACHINES = {3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "s390", 40: "ARM",
             62: "x86-64", 183: "AArch64", 243: "RISC-V", 258: "LoongArch"}
# per word size: the header after e_ident, a program header (as type, offset,
# vaddr, filesz, memsz once reordered), a section header, a dynamic entry
_LAYOUTS = {
    32: dict(header="HHIIIIIHHHHHH", phdr="IIIIIIII", phdr_fields=(0, 1, 2, 4, 5),
             shdr="IIIIIIIIII", dyn="iI"),
    64: dict(header="HHIQQQIHHHHHH", phdr="IIQQQQQQ", phdr_fields=(0, 2, 3, 5, 6),
             shdr="IIQQQQIIQQ", dyn="qQ"),
}

# dynamic tags: pointers with the tag of their size (None: a size checked
# elsewhere or not needed), string-table offsets, and entry sizes
_DT_NULL, _DT_STRTAB, _DT_SYMTAB, _DT_STRSZ, _DT_PLTREL = 0, 5, 6, 10, 20
_DT_POINTERS = {3: ("DT_PLTGOT", None), 4: ("DT_HASH", None), 5: ("DT_STRTAB", 10),
                6: ("DT_SYMTAB", None), 7: ("DT_RELA", 8), 12: ("DT_INIT", None),
                13: ("DT_FINI", None), 17: ("DT_REL", 18), 23: ("DT_JMPREL", 2),
                25: ("DT_INIT_ARRAY", 27), 26: ("DT_FINI_ARRAY", 28),
                32: ("DT_PREINIT_ARRAY", 33), 36: ("DT_RELR", 35),
                0x6FFFFEF5: ("DT_GNU_HASH", None), 0x6FFFFFF0: ("DT_VERSYM", None),
                0x6FFFFFFC: ("DT_VERDEF", None), 0x6FFFFFFE: ("DT_VERNEED", None)}
# tags the dynamic linker reads without checking they are there, when the
# first tag is: ld.so dereferences a NULL entry otherwise
_DT_COMPANIONS = {7: (8, 9), 17: (18, 19), 23: (2, 20), 25: (27,), 26: (28,), 32: (33,),
                  36: (35, 37), 0x6FFFFFFC: (0x6FFFFFF0,), 0x6FFFFFFE: (0x6FFFFFF0,)}
_DT_NAMES = {2: "DT_PLTRELSZ", 8: "DT_RELASZ", 9: "DT_RELAENT", 18: "DT_RELSZ",
             19: "DT_RELENT", 20: "DT_PLTREL", 27: "DT_INIT_ARRAYSZ", 28: "DT_FINI_ARRAYSZ",
             33: "DT_PREINIT_ARRAYSZ", 35: "DT_RELRSZ", 37: "DT_RELRENT",
             0x6FFFFFF0: "DT_VERSYM", 10: "DT_STRSZ", 0x6FFFFFFD: "DT_VERDEFNUM",
             0x6FFFFFFF: "DT_VERNEEDNUM"}
# the size tags, and the tag each is the size of
_DT_SIZE_OF = {2: 23, 8: 7, 18: 17, 27: 25, 28: 26, 33: 32, 35: 36, 10: 5,
               0x6FFFFFFD: 0x6FFFFFFC, 0x6FFFFFFF: 0x6FFFFFFE}
_DT_NUM, _DT_LOOS, _DT_HIPROC = 38, 0x6000000D, 0x7FFFFFFF
# DT_RELACOUNT and DT_RELCOUNT: ld.so asserts (and aborts) that the first
# that many relocations of DT_RELA (DT_REL) are relative ones, whose type is
# per machine (e_machine: R_<machine>_RELATIVE)
_DT_RELATIVE_COUNTS = {0x6FFFFFF9: ("DT_RELACOUNT", 7, 8, 9), 0x6FFFFFFA: ("DT_RELCOUNT", 17, 18, 19)}
_DT_SINGLE = set(_DT_POINTERS) | set(_DT_SIZE_OF) | set(_DT_RELATIVE_COUNTS) | {
    9, 11, 19, 20, 37}  # the entry sizes and DT_PLTREL
_R_RELATIVE = {3: 8, 62: 8, 183: 1027, 243: 3, 21: 22, 22: 12, 40: 23, 258: 3}
_DT_STRINGS = {1: "DT_NEEDED", 14: "DT_SONAME", 15: "DT_RPATH", 29: "DT_RUNPATH"}
_DT_ENTRY_SIZES = {32: {9: ("DT_RELAENT", 12), 19: ("DT_RELENT", 8), 11: ("DT_SYMENT", 16),
                        37: ("DT_RELRENT", 4)},
                   64: {9: ("DT_RELAENT", 24), 19: ("DT_RELENT", 16), 11: ("DT_SYMENT", 24),
                        37: ("DT_RELRENT", 8)}}


class BadBinary(Exception):
    """What is wrong with a binary, in words (a clause after "The file ...: ")."""


def _machine_name(machine):
    return "%s (e_machine %d)" % (_MACHINES.get(machine, "machine"), machine)


def _truncated_header(size):
    return BadBinary("the file has %d bytes, too few for an ELF header: it is truncated" % size)


def _read_header(f):
    """(bits, byte order, e_type, e_machine, header fields after e_ident) of an ELF file."""
    ident = f.read(16)
    if ident[:4] != MAGIC:
        if len(ident) < 4 and MAGIC.startswith(ident):
            raise _truncated_header(len(ident))
        raise BadBinary("it is not an ELF file (its first bytes are %r)" % ident[:8])
    if len(ident) < 16:
        raise _truncated_header(len(ident))
    bits = _CLASSES.get(ident[4])
    order = _BYTE_ORDERS.get(ident[5])
    if bits is None or order is None or ident[6] != 1:
        raise BadBinary("its ELF identification is invalid (EI_CLASS %d, EI_DATA %d, "
                        "EI_VERSION %d)" % (ident[4], ident[5], ident[6]))
    layout = ("<" if order == "little" else ">") + _LAYOUTS[bits]["header"]
    rest = f.read(struct.calcsize(layout))
    if len(rest) < struct.calcsize(layout):
        raise _truncated_header(16 + len(rest))
    fields = struct.unpack(layout, rest)
    return bits, order, fields[0], fields[1], fields


def machine_of(path):
    """(bits, byte order, e_machine) of the ELF binary at path; None if it is none."""
    try:
        with open(path, "rb") as f:
            bits, order, _, machine, _ = _read_header(f)
    except (OSError, BadBinary):
        return None
    return bits, order, machine


def _page_size():
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 4096


def _page_up(address, page):
    return -(-address // page) * page


def check(path, machine):
    """Raises BadBinary if dlopen could not safely map the binary at path on machine.

    machine is (bits, byte order, e_machine), as machine_of gives it.
    """
    try:
        f = open(path, "rb")
    except OSError as error:
        raise BadBinary("it cannot be read (%s)" % error.strerror)
    with f:
        size = os.fstat(f.fileno()).st_size
        bits, order, e_type, e_machine, header = _read_header(f)
        if (bits, order, e_machine) != tuple(machine):
            if bits != machine[0]:
                raise BadBinary("it is a %d-bit binary and this interpreter is %d-bit"
                                % (bits, machine[0]))
            if order != machine[1]:
                raise BadBinary("it is a %s-endian binary and this machine is %s-endian"
                                % (order, machine[1]))
            raise BadBinary("it is built for %s and this machine is %s"
                            % (_machine_name(e_machine), _machine_name(machine[2])))
        if e_type != _ET_DYN:
            raise BadBinary("it is %s (ELF type %d), not a shared library (ET_DYN)"
                            % (_TYPES.get(e_type, "not a shared library"), e_type))
        binary = _Binary(f, size, bits, order, e_machine)
        phoff, shoff, phentsize, phnum, shentsize, shnum = (
            header[4], header[5], header[8], header[9], header[10], header[11])
        if phnum == _PN_XNUM:  # more than 65534 segments: the count is in section 0
            section0 = binary.read(shoff, struct.calcsize(binary.shdr)) if shoff else None
            if section0 is None:
                raise BadBinary("its program header count is in section 0, which it lacks")
            phnum = struct.unpack(binary.shdr, section0)[7]
        if phentsize != struct.calcsize(binary.phdr):
            raise BadBinary("its program header size is %d bytes, not %d"
                            % (phentsize, struct.calcsize(binary.phdr)))
        if phnum == 0:
            raise BadBinary("it has no program headers: there is nothing to load")
        table = binary.read(phoff, phnum * phentsize)
        if table is None:
            raise BadBinary("its program headers (bytes %d to %d) lie past the end of the "
                            "file (%d bytes): it is truncated"
                            % (phoff, phoff + phnum * phentsize, size))
        binary.check_segments([struct.unpack_from(binary.phdr, table, i * phentsize)
                               for i in range(phnum)])
        binary.check_dynamic()
        # dlopen reads no section headers, but they tell a damaged file: a
        # table past the end, or segments that map a section's bytes elsewhere
        if shoff != 0:
            binary.check_sections(shoff, shentsize, shnum)


class _Binary:
    """An open ELF file being checked, and what is known of it so far."""

    def __init__(self, f, size, bits, order, machine):
        endian = "<" if order == "little" else ">"
        self.endian, self.machine = endian, machine
        layout = _LAYOUTS[bits]
        self.f, self.size, self.bits = f, size, bits
        self.phdr, self.shdr, self.dyn = (endian + layout["phdr"], endian + layout["shdr"],
                                          endian + layout["dyn"])
        self.phdr_fields = layout["phdr_fields"]
        self.loads = []  # (vaddr, filesz, memsz, offset) of each PT_LOAD
        self.dynamic = None  # (offset, filesz) of PT_DYNAMIC

    def read(self, offset, length):
        """length bytes at offset, or None if they are not all in the file."""
        if offset + length > self.size:
            return None
        self.f.seek(offset)
        return self.f.read(length)

    def file_offset(self, vaddr, length):
        """Where the length bytes at address vaddr come from in the file, or None
        if they are not all in the file-backed part of one loaded segment."""
        for start, filesz, _, offset in self.loads:
            if start <= vaddr and vaddr + length <= start + filesz:
                return offset + (vaddr - start)
        return None

    def check_segments(self, headers):
        page = _page_size()
        end_of_last = 0
        in_memory, relro = [], []
        for number, fields in enumerate(headers):
            p_type, offset, vaddr, filesz, memsz = (fields[i] for i in self.phdr_fields)
            name = ("PT_LOAD segment %d" % number if p_type == _PT_LOAD else
                    "%s segment %d" % (_READ_IN_MEMORY[p_type], number)
                    if p_type in _READ_IN_MEMORY else "segment %d" % number)
            if offset + filesz > self.size:
                raise BadBinary("its %s (bytes %d to %d) lies past the end of the file (%d "
                                "bytes): it is truncated" % (name, offset, offset + filesz,
                                                              self.size))
            if p_type in _READ_IN_MEMORY:
                in_memory.append((name, p_type, offset, vaddr, filesz))
            if p_type == _PT_GNU_RELRO:
                relro.append((number, vaddr, memsz))
            if p_type != _PT_LOAD:
                continue
            if filesz > memsz:
                raise BadBinary("its %s has more bytes in the file (%d) than in memory (%d)"
                                % (name, filesz, memsz))
            # an empty segment at an unaligned address still maps the page at its offset
            if filesz == 0 and offset % page and offset - offset % page >= self.size:
                raise BadBinary("its %s starts at byte %d, past the end of the file (%d "
                                "bytes): it is truncated" % (name, offset, self.size))
            if vaddr < end_of_last:
                raise BadBinary("its %s (address 0x%x) overlaps or precedes the loadable "
                                "segment before it" % (name, vaddr))
            end_of_last = vaddr + memsz
            self.loads.append((vaddr, filesz, memsz, offset))
        if not self.loads:
            raise BadBinary("it has no loadable segment (PT_LOAD)")
        # made read-only after relocation: elsewhere it would be another library's pages
        for number, vaddr, memsz in relro:
            end = vaddr + memsz
            # (lld rounds its end up to a page, past the end of the segment)
            load = [(start, filesz, size) for start, filesz, size, _ in self.loads
                    if start <= vaddr and end <= _page_up(start + size, page)]
            if not load:
                raise BadBinary("its PT_GNU_RELRO segment %d (addresses 0x%x to 0x%x) is not "
                                "inside a loadable segment" % (number, vaddr, end))
            # it ends in the segment's file-backed pages (GNU ld, gold), or with
            # the segment (lld, mold, whose .bss.rel.ro is past the file's bytes)
            start, filesz, size = load[0]
            if end > _page_up(start + filesz, page) and _page_up(end, page) < start + size:
                raise BadBinary("its PT_GNU_RELRO segment %d (addresses 0x%x to 0x%x) would "
                                "make writable data read-only" % (number, vaddr, end))
        for name, p_type, offset, vaddr, filesz in in_memory:
            if filesz and self.file_offset(vaddr, filesz) != offset:
                raise BadBinary("its %s (addresses 0x%x to 0x%x) is not where a loadable "
                                "segment puts bytes %d to %d of the file"
                                % (name, vaddr, vaddr + filesz, offset, offset + filesz))
            if p_type == _PT_DYNAMIC:
                if self.dynamic is not None:
                    raise BadBinary("it has two dynamic segments (PT_DYNAMIC)")
                self.dynamic = (offset, filesz)

    def check_dynamic(self):
        """The dynamic section's addresses and offsets, which the dynamic linker follows."""
        if self.dynamic is None:
            raise BadBinary("it has no dynamic segment (PT_DYNAMIC): it exports nothing")
        offset, filesz = self.dynamic
        entry = struct.calcsize(self.dyn)
        data = self.read(offset, filesz)
        values = {}
        strings = []
        entries = list(struct.iter_unpack(self.dyn, data[:filesz - filesz % entry]))
        for number, (tag, value) in enumerate(entries):
            if tag == _DT_NULL:
                # linkers pad with DT_NULL: an entry after it was one damaged into it
                if any(later != _DT_NULL for later, _ in entries[number:]):
                    raise BadBinary("its dynamic section has entries after its DT_NULL end "
                                    "marker (entry %d)" % number)
                break
            if tag in _DT_STRINGS:
                strings.append((_DT_STRINGS[tag], value))
            elif tag in values and tag in _DT_SINGLE:
                raise BadBinary("its dynamic section has two entries of tag %d" % tag)
            else:
                values[tag] = value
        else:
            raise BadBinary("its dynamic section has no DT_NULL end marker")
        for tag in values:
            # ld.so ignores tags it does not know: one damaged into such a tag
            # is an entry lost (and outside these ranges, no linker makes one)
            if not (0 < tag < _DT_NUM or _DT_LOOS <= tag <= _DT_HIPROC):
                raise BadBinary("its dynamic section has an entry of unknown tag 0x%x" % tag)
        for tag, pointer in _DT_SIZE_OF.items():
            if tag in values and pointer not in values:
                raise BadBinary("its dynamic section has %s but no %s"
                                % (_DT_NAMES[tag], _DT_POINTERS[pointer][0]))
        for tag, (name, size_tag) in _DT_POINTERS.items():
            if tag not in values:
                continue
            for companion in _DT_COMPANIONS.get(tag, ()):
                if companion not in values:
                    raise BadBinary("its dynamic section has %s but no %s"
                                    % (name, _DT_NAMES[companion]))
            length = values.get(size_tag, 0) if size_tag is not None else 1
            if self.file_offset(values[tag], length) is None:
                raise BadBinary("its dynamic entry %s (address 0x%x, %d bytes) is not in the "
                                "file-backed part of a loadable segment"
                                % (name, values[tag], length))
        # symbol versions index the version definitions or needs
        if 0x6FFFFFF0 in values and 0x6FFFFFFC not in values and 0x6FFFFFFE not in values:
            raise BadBinary("its dynamic section has DT_VERSYM but neither DT_VERDEF nor "
                            "DT_VERNEED")
        for tag in (_DT_STRTAB, _DT_SYMTAB):
            if tag not in values:
                raise BadBinary("its dynamic section has no %s: it exports nothing"
                                % _DT_POINTERS[tag][0])
        for tag, (name, expected) in _DT_ENTRY_SIZES[self.bits].items():
            if tag in values and values[tag] != expected:
                raise BadBinary("its dynamic entry %s is %d, not %d" % (name, values[tag], expected))
        if values.get(_DT_PLTREL, 7) not in (7, 17):
            raise BadBinary("its dynamic entry DT_PLTREL is %d, neither DT_RELA nor DT_REL"
                            % values[_DT_PLTREL])
        self._check_relative_counts(values)
        strtab = self.file_offset(values[_DT_STRTAB], values.get(_DT_STRSZ, 0))
        if values.get(_DT_STRSZ, 0) == 0 or self.read(strtab + values[_DT_STRSZ] - 1, 1) != b"\0":
            raise BadBinary("its string table (DT_STRTAB, DT_STRSZ) does not end with a NUL")
        for name, value in strings:
            if value >= values.get(_DT_STRSZ, 0):
                raise BadBinary("its dynamic entry %s (string %d) is past the end of the "
                                "string table (DT_STRSZ %d)"
                                % (name, value, values.get(_DT_STRSZ, 0)))

    def _check_relative_counts(self, values):
        for tag, (name, table, size_tag, entry_tag) in _DT_RELATIVE_COUNTS.items():
            if tag not in values:
                continue
            count, entry = values[tag], values.get(entry_tag, 0)
            if table not in values or entry <= 0 or count > values[size_tag] // entry:
                raise BadBinary("its dynamic entry %s (%d) counts more relocations than "
                                "there are" % (name, count))
            relative = _R_RELATIVE.get(self.machine)
            if relative is None or count == 0:
                continue
            data = self.read(self.file_offset(values[table], values[size_tag]), count * entry)
            word = self.bits // 8
            # r_info is the word after r_offset, in Rel and Rela alike
            layout = "%s%dx%s%dx" % (self.endian, word, "Q" if word == 8 else "I",
                                     entry - 2 * word)
            mask = 0xFFFFFFFF if word == 8 else 0xFF
            for number, (r_info,) in enumerate(struct.iter_unpack(layout, data)):
                r_type = r_info & mask
                if r_type != relative:
                    raise BadBinary("its dynamic entry %s (%d) counts relocation %d as "
                                    "relative, and it is of type %d"
                                    % (name, count, number, r_type))

    def check_sections(self, shoff, shentsize, shnum):
        table = self.read(shoff, shnum * shentsize)
        if table is None:
            raise BadBinary("its section header table (bytes %d to %d) lies past the end of "
                            "the file (%d bytes): it is truncated"
                            % (shoff, shoff + shnum * shentsize, self.size))
        if shnum == 0 or shentsize != struct.calcsize(self.shdr):
            return  # extended numbering, or a table ld.so would not read either
        if any(struct.unpack_from(self.shdr, table)[i] for i in (0, 1, 2, 3, 4, 8, 9)):
            # section 0 is zeros, but for sh_size, sh_link and sh_info (extended numbering)
            raise BadBinary("its section header table (at byte %d) does not start with the "
                            "null section: e_shoff is damaged" % shoff)
        for number in range(shnum):
            fields = struct.unpack_from(self.shdr, table, number * shentsize)
            sh_type, sh_flags, sh_addr, sh_offset, sh_size = fields[1:6]
            if sh_flags & _SHF_ALLOC and sh_type != _SHT_NOBITS and sh_size:
                if self.file_offset(sh_addr, sh_size) != sh_offset:
                    raise BadBinary("its loadable segments do not map section %d (bytes %d to "
                                    "%d) at its address 0x%x: a segment's offset or address "
                                    "is damaged" % (number, sh_offset, sh_offset + sh_size,
                                                     sh_addr))
