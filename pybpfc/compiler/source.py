"""Reading a program exactly as Python reads it, or refusing it.

pybpfc compiles, as root, the program a reviewer reads; Python runs the same
file.  So the bytes are decoded as Python's tokenizer decodes them (a UTF-8
byte-order mark, a coding declaration on line 1 or 2, UTF-8 by default;
``tokenize.detect_encoding`` is the reference), line ends are Python's, and
what could make the text read differently from what it does is refused:
null bytes (Python refuses them too) and the bidirectional controls of
"Trojan Source" attacks.  Input is bounded (see the limits below and
docs/language.md), so that no file makes the compiler hang or exhaust
memory.

:func:`read_source` reads a path; :func:`decode_source` decodes bytes;
:func:`checked_text` is what the lexer reads of any :class:`Source`.
Every refusal is a :class:`CompileError`, located where it can be.
"""
from __future__ import annotations

import codecs
import errno
import os
import re
import stat
from pathlib import Path
from typing import Optional

from .ast import Pos
from .errors import CompileError, Source
from .positions import pos_at_offset
from .semantics import UNTYPED_LIMIT_BITS

# ------------------------------------------------------------------- limits
# docs/language.md ("Limits") lists these; each refusal names its limit.

MAX_SOURCE_BYTES = 1 << 20          # a program's file (and its text, in characters)
MAX_LINE_LENGTH = 65_535            # characters: DWARF keeps a column in 16 bits
MAX_IDENTIFIER_LENGTH = 1_024       # characters, after normalisation
MAX_INT_LITERAL_BITS = UNTYPED_LIMIT_BITS    # a literal's value; pybpfc's integers have 64
MAX_OPEN_BRACKETS = 200             # open at once, as in Python's tokenizer
MAX_INDENT_LEVELS = 99              # blocks inside blocks, as in Python's tokenizer
MAX_NESTING = 200                   # levels of the syntax tree below the module, an elif none
# The same levels with each elif counted: Python's own compiler counts them
# and refuses a tree about 3,000 deep (three times its recursion limit).
MAX_TREE_DEPTH = 2_500


# -------------------------------------------------------------------- files

class UnreadableFile(Exception):
    """A path that is not a readable regular file of bounded size; the
    message says why, without the path."""


def read_bounded(path: Path, limit: int, what: str = "the file") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them.

    A FIFO, a device or a socket is refused before anything is read from
    it (reading /dev/zero never ends; opening a FIFO for reading waits for
    a writer, hence O_NONBLOCK), and so is a file larger than `limit`,
    however it grows while it is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        raise UnreadableFile(_os_reason(err)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UnreadableFile("is a directory")
        if not stat.S_ISREG(mode):
            raise UnreadableFile(f"is not a regular file ({_file_kind(mode)})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise UnreadableFile(_os_reason(err)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnreadableFile(f"{what} is larger than {limit:,} bytes, the most pybpfc reads")
    return b"".join(chunks)


def _os_reason(err: OSError) -> str:
    if err.errno == errno.ENOENT:
        return "file not found"
    if err.errno == errno.EISDIR:
        return "is a directory"
    return f"cannot read: {err.strerror or err}"


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a file"


def read_source(path: Path) -> Source:
    """The program at `path`, decoded as Python decodes it."""
    try:
        data = read_bounded(path, MAX_SOURCE_BYTES, "the program")
    except UnreadableFile as err:
        raise CompileError(str(err), None, Source(str(path), "")) from None
    return decode_source(data, str(path))


# ----------------------------------------------------------------- decoding

_BOM = codecs.BOM_UTF8
# PEP 263, as tokenize.detect_encoding reads it: a comment on line 1, or on
# line 2 when line 1 is blank or only a comment.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)
# Lines as Python's file reader splits them (universal newlines), and as
# detect_encoding splits them (at b"\n" only): a cookie seen either way counts.
_LINE_ENDS = (re.compile(rb"\r\n|\r|\n"), re.compile(rb"\n"))


def decode_source(data: bytes, path: str) -> Source:
    """`data` decoded as Python's tokenizer decodes a file, with Python's
    line ends.  A declared encoding is honoured only where it reads the
    same text as UTF-8 does (pure ASCII under latin-1, say): pybpfc reads
    UTF-8 only, and refuses a file that would mean something else to
    Python than to a reader who takes it for UTF-8."""
    bom = data.startswith(_BOM)
    body = data[len(_BOM):] if bom else data
    text = _decode_utf8(body, path)
    for offset, name in _coding_declarations(body):
        where = _byte_pos(body, offset, len(name))
        declared = name.decode("ascii")
        normal = _normal_encoding_name(declared)
        if bom and normal != "utf-8":
            raise CompileError(f"encoding problem: '{declared}' declared in a file that "
                               "starts with a UTF-8 byte-order mark", where, Source(path, text))
        if normal == "utf-8":
            continue
        try:
            as_declared: Optional[str] = body.decode(normal)
        except (LookupError, ValueError, TypeError):
            as_declared = None
        if as_declared is None:
            raise CompileError(f"unknown or unusable encoding '{declared}'", where,
                               Source(path, text), "pybpfc reads UTF-8: save the file as "
                               "UTF-8 and remove the coding declaration")
        if as_declared != text:
            raise CompileError(f"the file declares the encoding '{declared}', in which it "
                               "reads differently than in UTF-8", where, Source(path, text),
                               "pybpfc reads UTF-8 only: save the file as UTF-8 and remove "
                               "the coding declaration")
    return Source(path, normalize_newlines(text))


def _decode_utf8(body: bytes, path: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        shown = body.decode("utf-8", errors="replace")
        raise CompileError(f"not UTF-8: invalid byte 0x{body[err.start]:02x}",
                           _byte_pos(body, err.start),
                           Source(path, normalize_newlines(shown)),
                           "pybpfc reads UTF-8 source, as Python does by default") from None


def _coding_declarations(body: bytes) -> list[tuple[int, bytes]]:
    """(offset, encoding name) of each coding declaration Python could see."""
    found: dict[int, bytes] = {}
    for line_end in _LINE_ENDS:
        start = 0
        for _ in range(2):
            end_match = line_end.search(body, start)
            end = end_match.end() if end_match else len(body)
            line = body[start:end]
            cookie = _COOKIE.match(line)
            if cookie is not None:
                found[start + cookie.start(1)] = cookie.group(1)
                break
            if not _BLANK.match(line) or end_match is None:
                break
            start = end
    return sorted(found.items())


def _normal_encoding_name(name: str) -> str:
    """The codec Python's tokenizer uses for a declared name."""
    short = name[:12].lower().replace("_", "-")
    if short == "utf-8" or short.startswith("utf-8-"):
        return "utf-8"
    if short in ("latin-1", "iso-8859-1", "iso-latin-1") or short.startswith(
            ("latin-1-", "iso-8859-1-", "iso-latin-1-")):
        return "iso-8859-1"
    return name


def _byte_pos(body: bytes, offset: int, width: int = 1) -> Pos:
    """The position (in characters, as the rest of pybpfc counts) of the
    bytes at `offset`, in a text that may not decode."""
    before = body[:offset]
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    line = len(_LINE_ENDS[0].findall(before)) + 1
    col = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Pos(line, col, line, col + width)


# -------------------------------------------------------------------- text

def normalize_newlines(text: str) -> str:
    """Python's universal newlines: '\\r\\n' and a lone '\\r' end a line as '\\n' does."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Characters refused anywhere in a program, even in a comment or a string:
# NUL (Python refuses it), the bidirectional controls that can show code in
# another order than it runs (CVE-2021-42574), and lone surrogates, which no
# file can hold (Python cannot encode them either).
_REFUSED = re.compile("[\x00\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Anchored at line starts: tried at every offset, `[^\n]{N}` alone takes
# time quadratic in the length of each long line.
_LONG_LINE = re.compile(f"^[^\n]{{{MAX_LINE_LENGTH + 1}}}", re.MULTILINE)


def checked_text(source: Source) -> str:
    """The text the lexer reads: `source`'s, with Python's line ends and a
    final line break, once nothing in it is refused."""
    text = normalize_newlines(source.text)
    if len(text) > MAX_SOURCE_BYTES:
        raise CompileError(f"the program is longer than {MAX_SOURCE_BYTES:,} characters, "
                           "the most pybpfc reads", None, source)
    refused = _REFUSED.search(text)
    if refused is not None:
        raise CompileError(_refusal(refused.group()), pos_at_offset(text, refused.start()),
                           source, _refusal_note(refused.group()))
    long_line = _LONG_LINE.search(text)
    if long_line is not None:
        pos = pos_at_offset(text, long_line.start() + MAX_LINE_LENGTH)
        raise CompileError(f"line longer than {MAX_LINE_LENGTH:,} characters", pos, source,
                           "split it: a line break is free inside brackets")
    if text and not text.endswith("\n"):
        text += "\n"    # as Python's tokenizer does: the last line ends too
    return text


def _refusal(char: str) -> str:
    if char == "\x00":
        return "source code cannot contain null bytes"
    if "\ud800" <= char <= "\udfff":
        return f"lone surrogate U+{ord(char):04X} in the source (not a character)"
    import unicodedata
    return (f"bidirectional control character U+{ord(char):04X} "
            f"({unicodedata.name(char)}) in the source")


def _refusal_note(char: str) -> Optional[str]:
    if char == "\x00" or "\ud800" <= char <= "\udfff":
        return None
    return ("it can show the code in another order than the one it runs in; "
            f"in a string literal, write it as '\\u{ord(char):04x}'")
