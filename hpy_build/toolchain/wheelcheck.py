"""What a built wheel is, and whether it is sound (``hpy-build check``).

Reads wheels with ``zipfile`` only (nothing is installed or imported) and the
binaries inside with a small ELF reader: a universal binary must not reference
CPython's C API, which is the whole point of the universal ABI, and the tags
must say which interpreters can load the binaries inside.
"""
import email.parser
import re
import struct
import zipfile

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

STUB_MARKER = "# Written by hpy-build"

_UNIVERSAL = re.compile(r"\.hpy(?P<major>\d+)\.so$")
_HYBRID = re.compile(r"\.hpy(?P<major>\d+)-cp(?P<version>\d+)\.so$")
_CPYTHON = re.compile(r"\.cpython-(?P<version>\d+)[a-z]*-[^.]+\.so$")
_PYPY = re.compile(r"\.pypy(?P<version>\d+)-pp\d+-[^.]+\.so$")
_ABI3 = re.compile(r"\.abi3\.so$")

# platform tag architecture -> ELF e_machine
_MACHINES = {"x86_64": 62, "i686": 3, "aarch64": 183, "ppc64le": 21, "ppc64": 21,
             "s390x": 22, "armv7l": 40, "riscv64": 243, "loongarch64": 258}
# symbols a binary may reference without being tied to CPython's C API
_C_API_PREFIXES = ("Py", "_Py")


class Binary:
    """Dynamic symbols and needed libraries of one ELF shared object."""

    def __init__(self, data):
        if data[:4] != b"\x7fELF":
            raise ValueError("not an ELF file")
        bits = {1: 32, 2: 64}[data[4]]
        order = "<" if data[5] == 1 else ">"
        header = struct.unpack_from(order + ("HHIQQQIHHHHHH" if bits == 64 else "HHIIIIIHHHHHH"),
                                    data, 16)
        self.machine = header[1]
        shoff, shentsize, shnum = header[5], header[10], header[11]
        shdr = order + ("IIQQQQIIQQ" if bits == 64 else "IIIIIIIIII")
        sections = [struct.unpack_from(shdr, data, shoff + i * shentsize) for i in range(shnum)]
        self.undefined, self.defined, self.needed = set(), set(), []

        def string(section, offset):
            start = sections[section][4] + offset
            return data[start:data.index(b"\0", start)].decode("utf-8", "replace")

        for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
            if kind == 11:  # SHT_DYNSYM
                layout = order + ("IBBHQQ" if bits == 64 else "IIIBBH")
                for i in range(1, size // entsize):
                    fields = struct.unpack_from(layout, data, offset + i * entsize)
                    name, shndx = (fields[0], fields[3]) if bits == 64 else (fields[0], fields[5])
                    if name:
                        (self.defined if shndx else self.undefined).add(string(link, name))
            elif kind == 6:  # SHT_DYNAMIC
                layout = order + ("qQ" if bits == 64 else "iI")
                for i in range(size // entsize):
                    tag, value = struct.unpack_from(layout, data, offset + i * entsize)
                    if tag == 1:  # DT_NEEDED
                        self.needed.append(string(link, value))

    def c_api_references(self):
        return sorted(s for s in self.undefined if s.startswith(_C_API_PREFIXES))


def _binary_kind(name):
    """(ABI, interpreter tag it needs or None) of an extension file name; None for others."""
    if _UNIVERSAL.search(name):
        return "universal", None
    match = _HYBRID.search(name)
    if match:
        return "hybrid", "cp" + match.group("version")
    match = _CPYTHON.search(name)
    if match:
        return "cpython", "cp" + match.group("version")
    match = _PYPY.search(name)
    if match:
        return "cpython", "pp" + match.group("version")
    if _ABI3.search(name):
        return "cpython", "abi3"
    return None


class Report:
    """What ``check`` found out about one wheel."""

    def __init__(self, path):
        self.path = path
        self.abi = "pure Python"
        self.tags = []
        self.binaries = []
        self.installs_on = ""
        self.notes = []
        self.defects = []

    @property
    def ok(self):
        return not self.defects

    def lines(self):
        name = self.path.replace("\\", "/").rpartition("/")[2]
        out = [name,
               "  ABI:         " + self.abi,
               "  tags:        " + (", ".join(self.tags) or "-"),
               "  installs on: " + (self.installs_on or "-")]
        if self.binaries:
            out.append("  binaries:    " + ", ".join(self.binaries))
        out += ["  note:        " + note for note in self.notes]
        out += ["  DEFECT:      " + defect for defect in self.defects]
        out.append("  => " + ("sound" if self.ok else "%d defect(s)" % len(self.defects)))
        return out


def _read_metadata(archive, names, suffix):
    found = [n for n in names if n.count("/") == 1 and n.split("/")[0].endswith(".dist-info")
             and n.endswith("/" + suffix)]
    if len(found) != 1:
        return None
    return email.parser.Parser().parsestr(archive.read(found[0]).decode("utf-8", "replace"))


def _interpreters(interpreter_tags, requires_python, platforms):
    """Who will pick a wheel with these tags, in words."""
    where = " on " + ", ".join(sorted(platforms))
    words = []
    for tag in sorted(interpreter_tags):
        if tag.startswith("py"):
            words.append("every Python %s%s" % (requires_python or "3", where))
        elif tag.startswith("cp"):
            words.append("CPython %s.%s%s" % (tag[2], tag[3:], where))
        elif tag.startswith("pp"):
            words.append("PyPy %s.%s%s" % (tag[2], tag[3:], where))
        else:
            words.append(tag + where)
    return "; ".join(words)


def check_wheel(path):
    """A Report on the wheel at ``path``."""
    report = Report(str(path))
    defect = report.defects.append
    try:
        _name, _version, _build, tags = parse_wheel_filename(report.path.replace("\\", "/").rpartition("/")[2])
    except InvalidWheelFilename as exc:
        defect("the file name is not a wheel's: %s" % exc)
        return report
    report.tags = sorted(str(tag) for tag in tags)
    try:
        archive = zipfile.ZipFile(report.path)
    except (OSError, zipfile.BadZipFile) as exc:
        defect("it cannot be read as a zip file: %s" % exc)
        return report
    with archive:
        names = archive.namelist()
        wheel_file = _read_metadata(archive, names, "WHEEL")
        metadata = _read_metadata(archive, names, "METADATA")
        if wheel_file is None or metadata is None:
            defect("it has no single .dist-info/WHEEL and .dist-info/METADATA")
            return report
        declared = set(wheel_file.get_all("Tag") or [])
        if declared != set(report.tags):
            defect("the file name says %s but .dist-info/WHEEL says %s: installers go by the "
                   "name" % (", ".join(report.tags), ", ".join(sorted(declared)) or "nothing"))
        requires_python = metadata.get("Requires-Python")
        requires = []
        for line in metadata.get_all("Requires-Dist") or []:
            try:
                requires.append(Requirement(line))
            except InvalidRequirement:
                defect("METADATA has an invalid Requires-Dist: %r" % line)

        kinds = {}
        for member in names:
            kind = _binary_kind(member)
            if kind is None:
                continue
            report.binaries.append(member)
            kinds.setdefault(kind[0], []).append((member, kind[1]))
        binaries, damaged = {}, set()
        for member in report.binaries:
            data = archive.read(member)
            if data[:4] != b"\x7fELF":
                continue
            try:
                binaries[member] = Binary(data)
            except (ValueError, KeyError, IndexError, struct.error) as exc:
                damaged.add(member)
                defect("%s is a damaged ELF file (%s)" % (member, exc or type(exc).__name__))
        stubs = {n: archive.read(n).decode("utf-8", "replace") for n in names if n.endswith(".py")}

    interpreters = {tag.interpreter for tag in tags}
    abis = {tag.abi for tag in tags}
    platforms = {tag.platform for tag in tags}
    report.installs_on = _interpreters(interpreters, requires_python, platforms)

    if "universal" in kinds:
        report.abi = "universal (hpy0)" if len(kinds) == 1 else "universal + " + ", ".join(
            sorted(k for k in kinds if k != "universal"))
        if len(kinds) == 1 and (not all(i.startswith("py3") for i in interpreters) or abis != {"none"}):
            defect("its binaries are all universal but it is tagged %s: tag it py3-none-<platform> "
                   "so that every interpreter with the runtime installs it"
                   % ", ".join(report.tags))
        if not any(r.name == "hpy-build" for r in requires):
            defect("METADATA does not require hpy-build, whose runtime loads universal binaries")
        if not requires_python:
            defect("METADATA has no Requires-Python: installers would pick it on Pythons the "
                   "universal runtime does not support")
        if interpreters & {"py3"}:
            report.installs_on += " (CPython 3.8-3.13 and PyPy, through hpy-build's runtime)"
        for member, _ in kinds["universal"]:
            binary = binaries.get(member)
            if binary is None:
                if member not in damaged:
                    defect("%s is not an ELF shared object" % member)
                continue
            used = binary.c_api_references()
            if used:
                defect("%s references CPython's C API (%s%s): a universal binary must use only "
                       "the HPyContext, or be built for the hybrid ABI"
                       % (member, ", ".join(used[:4]), ", ..." if len(used) > 4 else ""))
            libpython = [lib for lib in binary.needed if lib.startswith("libpython")]
            if libpython:
                defect("%s is linked against %s: it would load only where that library is"
                       % (member, ", ".join(libpython)))
            module = member.rpartition("/")[2].split(".")[0]
            if "HPyInit_" + module not in binary.defined:
                defect("%s does not export HPyInit_%s" % (member, module))
            stub = member[:-len(member.rpartition("/")[2])] + module + ".py"
            if not stubs.get(stub, "").startswith(STUB_MARKER):
                defect("%s has no import stub %s: `import` cannot find a .hpy0.so by itself"
                       % (member, stub))
    elif "hybrid" in kinds:
        report.abi = "hybrid (hpy0 + one CPython's C API)"
    elif "cpython" in kinds:
        report.abi = "CPython ABI"

    for kind in ("hybrid", "cpython"):
        for member, needed in kinds.get(kind, []):
            if needed and needed != "abi3" and interpreters != {needed}:
                defect("%s is for %s but the wheel is tagged %s"
                       % (member, needed, ", ".join(report.tags)))

    for member, binary in binaries.items():
        for platform in platforms:
            for arch, machine in _MACHINES.items():
                if platform.endswith("_" + arch) and binary.machine != machine:
                    defect("%s is for ELF machine %d but the platform tag says %s"
                           % (member, binary.machine, platform))
    if any(p.startswith("linux_") for p in platforms):
        report.notes.append("package indexes refuse linux_* tags; `hpy-build repair` gives "
                            "manylinux ones")
    if binaries and any(p == "any" for p in platforms):
        defect("it holds binaries but is tagged for any platform")
    return report
