"""The names a set of HPy headers defines: macros, functions, types, tags, enumerators.

Reads the preprocessor's output (``gcc -E -dD``, so #define lines stay where
they were) and keeps only what comes from files under the headers' own
directory, so libc's and Python.h's names never count. Declarations are
found by splitting the top level into statements, which is all C headers
need: no C++ (the headers are compared in C).
"""
import os
import re
import subprocess
import sysconfig

CC = sysconfig.get_config_var("CC").split()[0]
PY_INCLUDE = sysconfig.get_paths()["include"]

_LINEMARKER = re.compile(r'^# (\d+) "(.*)"')
_TOKEN = re.compile(r'[A-Za-z_]\w*|\d[\w.]*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|\S')
_SKIP_WORDS = {"__attribute__", "__declspec", "__asm__", "asm", "__asm"}
_KEYWORDS = {
    "static", "inline", "extern", "const", "volatile", "struct", "union", "enum", "typedef",
    "unsigned", "signed", "int", "char", "long", "short", "void", "float", "double", "_Bool",
    "__inline", "__inline__", "__extension__", "__restrict", "restrict", "register", "sizeof",
    "_Noreturn", "__signed__", "__const", "_Static_assert",
}


def preprocess(include_dirs, macros, source='#include "hpy.h"\n'):
    """``gcc -E -dD``: the preprocessed text with the #define lines kept in place."""
    cmd = [CC, "-E", "-dD", "-x", "c", "-"]
    cmd += ["-I" + d for d in include_dirs] + ["-D" + m for m in macros]
    return subprocess.run(cmd, input=source, check=True, capture_output=True,
                          text=True).stdout


def _own_lines(text, root):
    """The lines that come from files under ``root`` (not from libc or Python.h)."""
    root = os.path.realpath(root) + os.sep
    mine = False
    for line in text.splitlines():
        marker = _LINEMARKER.match(line)
        if marker:
            mine = os.path.realpath(marker.group(2)).startswith(root)
        elif mine:
            yield line


def _drop_attributes(tokens):
    out, i = [], 0
    while i < len(tokens):
        if tokens[i] in _SKIP_WORDS and i + 1 < len(tokens) and tokens[i + 1] == "(":
            depth, i = 0, i + 1
            while True:
                depth += {"(": 1, ")": -1}.get(tokens[i], 0)
                i += 1
                if depth == 0:
                    break
            continue
        if tokens[i] != "__extension__":
            out.append(tokens[i])
        i += 1
    return out


def _statements(tokens):
    """Top-level declarations: token lists ending at ';' or at a function body's '}'."""
    stmt, depth = [], 0
    for tok in tokens:
        stmt.append(tok)
        if tok in "([{":
            depth += 1
        elif tok in ")]}":
            depth -= 1
            if depth == 0 and tok == "}" and _is_function_definition(stmt):
                yield stmt
                stmt = []
        elif tok == ";" and depth == 0:
            yield stmt
            stmt = []


def _is_function_definition(stmt):
    opening = _matching_open(stmt, len(stmt) - 1)
    return opening > 0 and stmt[opening - 1] == ")" and "typedef" not in stmt[:1]


def _matching_open(stmt, close_index):
    pairs = {")": "(", "]": "[", "}": "{"}
    depth = 0
    for i in range(close_index, -1, -1):
        if stmt[i] in pairs:
            depth += 1
        elif stmt[i] in "([{":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _top_level(stmt):
    """(index, token) at bracket depth 0; brace bodies are left out."""
    depth = 0
    for i, tok in enumerate(stmt):
        if tok in "([{":
            depth += 1
            if depth == 1 and tok != "{":
                yield i, tok
            continue
        if tok in ")]}":
            depth -= 1
            if depth == 0 and tok != "}":
                yield i, tok
            continue
        if depth == 0:
            yield i, tok


def _ident(tok):
    return re.match(r"[A-Za-z_]\w*$", tok) is not None and tok not in _KEYWORDS


def _brace_bodies(stmt):
    """(keyword, tag or None, body tokens) of each struct/union/enum body in stmt."""
    i = 0
    while i < len(stmt):
        if stmt[i] in ("struct", "union", "enum"):
            tag = stmt[i + 1] if _ident(stmt[i + 1]) else None
            j = i + (2 if tag else 1)
            if j < len(stmt) and stmt[j] == "{":
                depth, k = 0, j
                while True:
                    depth += {"{": 1, "}": -1}.get(stmt[k], 0)
                    if depth == 0:
                        break
                    k += 1
                yield stmt[i], tag, stmt[j + 1:k]
                i = j + 1
                continue
            if tag:
                yield stmt[i], tag, None
        i += 1


def _enumerators(body):
    names, depth, expect = [], 0, True
    for tok in body:
        if tok in "([{":
            depth += 1
        elif tok in ")]}":
            depth -= 1
        elif tok == "," and depth == 0:
            expect = True
        elif expect and _ident(tok):
            names.append(tok)
            expect = False
    return names


def _declarator_names(tokens):
    """Names declared by one declaration with struct bodies already removed."""
    names = []
    # split the top level at commas
    parts, current = [], []
    for i, tok in _top_level(tokens):
        if tok == ",":
            parts.append(current)
            current = []
        else:
            current.append(i)
    parts.append(current)
    for part in parts:
        toks = [tokens[i] for i in part]
        if "=" in toks:
            toks = toks[:toks.index("=")]
        name = None
        for pos, i in enumerate(part):
            if tokens[i] == "(" and pos > 0:
                # "(*name)" declares a pointer; "name(" a function
                inner = tokens[i + 1:_closing(tokens, i)]
                if inner[:1] == ["*"]:
                    name = next((t for t in inner if _ident(t)), None)
                elif _ident(tokens[part[pos - 1]]):
                    name = tokens[part[pos - 1]]
                break
        if name is None:
            idents = [t for t in toks if _ident(t)]
            name = idents[-1] if idents else None
        if name:
            names.append(name)
    return names


def _closing(tokens, open_index):
    depth = 0
    for i in range(open_index, len(tokens)):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1, "{": 1, "}": -1}.get(tokens[i], 0)
        if depth == 0:
            return i
    return len(tokens)


def names(text, root):
    """{'macros': {name: value}, 'declarations': set} of the files under ``root``."""
    macros, code = {}, []
    for line in _own_lines(text, root):
        stripped = line.strip()
        if stripped.startswith("#"):
            found = re.match(r"#\s*(define|undef)\s+([A-Za-z_]\w*)(\(.*?\))?\s*(.*)", stripped)
            if found and found.group(1) == "define":
                macros[found.group(2)] = found.group(4)
            elif found:
                macros.pop(found.group(2), None)
            continue
        code.append(line)
    tokens = _drop_attributes(_TOKEN.findall("\n".join(code)))
    declared = set()
    for stmt in _statements(tokens):
        for kind, tag, body in _brace_bodies(stmt):
            if tag:
                declared.add(tag)
            if kind == "enum" and body:
                declared.update(_enumerators(body))
        if _is_function_definition(stmt):
            stmt = stmt[:_matching_open(stmt, len(stmt) - 1)]
        # brace bodies become one "{}" token; what is declared after them stays
        flat, depth = [], 0
        for tok in stmt:
            if tok == "{":
                if depth == 0:
                    flat.append("{}")
                depth += 1
            elif tok == "}":
                depth -= 1
            elif depth == 0 and tok != ";":
                flat.append(tok)
        if flat[:1] == ["typedef"]:
            flat = flat[1:]
        # "struct TAG {...}" / "enum {...}" is a type: its tag is recorded above
        i = 0
        rest = []
        while i < len(flat):
            if flat[i] in ("struct", "union", "enum"):
                i += 1
                if i < len(flat) and _ident(flat[i]):
                    i += 1
                if i < len(flat) and flat[i] == "{}":
                    i += 1
                rest.append("int")  # stands for the type
                continue
            rest.append(flat[i])
            i += 1
        if [t for t in rest if _ident(t)]:
            declared.update(_declarator_names(rest))
    return {"macros": macros, "declarations": declared}
