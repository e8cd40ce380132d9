"""Byte-level mutations of program files: what a hostile or careless file can
hold that the grammar-level generators never write.

Each mutation starts from an example, a generated valid program or a program
at the edges of Python's syntax (fuzz/source_corpus.py), encoded as UTF-8, and applies a few edits at random byte offsets (or at the start of
a line): bytes that end lines (CR, LF, CRLF mixes), that Python refuses
(NUL, invalid UTF-8, encoded surrogates), that change how the file is read
(a BOM, coding declarations), that make code read differently from what it
does (bidirectional controls, confusable letters, invisible characters),
that continue lines, and that nest deeply.
"""
from __future__ import annotations

from .choose import Chooser
from .programs import EXAMPLES, valid_program
from .source_corpus import PROGRAMS

# Whole-line edits, placed at the start of line 1, 2 or 3 (cookies count
# only on lines 1 and 2).
LINES = [
    "# -*- coding: utf-8 -*-", "# coding: latin-1", "# coding: utf-7", "# coding: utf8",
    "# vim: set fileencoding=ascii :", "# coding: klingon", "# coding=utf-16",
    "#!/usr/bin/env python3", "", "from __future__ import annotations",
    "from __future__ import braces", "from __future__ import nope",
    "'''docstring'''", "x = 1 +AAo-y = 2", "\\", "pass", "if True:",
]

# Inserted at the start of a line: what CPython's tokenizer counts in an
# indentation (a tab to the next multiple of 8, a form feed back to 0, a
# backslash continuing the indentation on the next line).
INDENTS = [b" ", b"    ", b"\t", b"\x0c", b"  \x0c", b"\x0c  ", b"\\\n", b"  \\\n", b"\t  "]

# Fragments inserted at a random byte offset.
FRAGMENTS: list[bytes] = [
    b"\x00", b"\r", b"\n", b"\r\n", b"\n\r", b"\\", b"\\\n", b"\\ \n", b"\\\r\n", b"\t",
    b"\x0c", b"\x0b", b"\x1b[31m", b"\x7f", b"#", b"'", b'"', b'"""', b"'''", b"(", b")",
    b"[", b"]", b":", b";", b" ", b"    ", b"\xef\xbb\xbf",
    # invalid UTF-8: a lone continuation byte, a truncated sequence, an
    # overlong encoding, an encoded surrogate, bytes that never occur
    b"\x80", b"\xc3", b"\xe2\x82", b"\xc0\x80", b"\xed\xa0\x80", b"\xff", b"\xfe",
    # bidirectional controls (Trojan Source)
    *(c.encode() for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c"),
    # invisible and space-like characters
    *(c.encode() for c in "\u00a0\u200b\u200c\u200d\u2060\ufeff\u00ad\u2028\u2029\u0085"
                          "\u3000\u1680"),
    # combining marks, and letters that normalise (NFKC) to ASCII or not
    *(c.encode() for c in "\u0301\u0308\uff41\uff44\uff4e\ufb01\u210c\u2160\u00b2\u2081"
                          "\u017f\u0430\u0435\u03bf\u00e9\uff3f\uff11\u00b7\u2118"),
    "ｉｆ".encode(), "ｄeny".encode(), "e\u0301".encode(),
    b"(" * 201, b"[" * 120, b")" * 3, b"-" * 300, b"not " * 210, b"f" + b"()" * 250,
    b"0x" + b"f" * 40, b"1" * 45, b"9" * 4400, b"0" * 300 + b"1",
    b"__debug__", b"__future__", b"match ", b"case ", b"lambda", b"yield", b"await",
]


def mutate_bytes(chooser: Chooser, data: bytes, steps: int) -> bytes:
    buffer = bytearray(data)
    for _ in range(steps):
        action = chooser.choice(["insert", "insert", "replace", "delete", "line",
                                 "confuse", "line ends", "indent"])
        at = chooser.integer(0, len(buffer))
        if action == "insert":
            buffer[at:at] = chooser.choice(FRAGMENTS)
        elif action == "replace" and at < len(buffer):
            buffer[at:at + chooser.integer(1, 3)] = chooser.choice(FRAGMENTS)
        elif action == "delete":
            del buffer[at:at + chooser.integer(1, 8)]
        elif action == "line":
            _insert_line(chooser, buffer)
        elif action == "confuse":
            _confuse_a_letter(chooser, buffer)
        elif action == "indent":
            line_start = buffer.find(b"\n", at) + 1
            buffer[line_start:line_start] = chooser.choice(INDENTS)
        elif action == "line ends":
            ending = chooser.choice([b"\r\n", b"\r", b"\n\r"])
            buffer[:] = buffer.replace(b"\n", ending, chooser.integer(1, 20))
    return bytes(buffer)


def _insert_line(chooser: Chooser, buffer: bytearray) -> None:
    line_number = chooser.integer(0, 2)
    at = 0
    for _ in range(line_number):
        found = buffer.find(b"\n", at)
        if found < 0:
            break
        at = found + 1
    buffer[at:at] = chooser.choice(LINES).encode() + b"\n"


# Letters and their look-alikes: fullwidth forms (NFKC: the same letter),
# Cyrillic and Greek (other letters), mathematical bold (NFKC: the same).
_LOOK_ALIKES = {
    "a": ["\uff41", "\u0430", "\U0001d41a"], "e": ["\uff45", "\u0435"],
    "o": ["\uff4f", "\u043e", "\u03bf"], "c": ["\uff43", "\u0441"], "x": ["\uff58", "\u0445"],
    "p": ["\uff50", "\u0440"], "i": ["\uff49", "\u0456", "\u2170"], "d": ["\uff44"],
    "n": ["\uff4e"], "t": ["\uff54"], "l": ["\uff4c", "\u217c"], "_": ["\uff3f"],
}


def _confuse_a_letter(chooser: Chooser, buffer: bytearray) -> None:
    at = chooser.integer(0, max(0, len(buffer) - 1))
    for offset in range(at, min(len(buffer), at + 200)):
        letter = chr(buffer[offset])
        if letter in _LOOK_ALIKES:
            buffer[offset:offset + 1] = chooser.choice(_LOOK_ALIKES[letter]).encode()
            return


def mutated_file(chooser: Chooser) -> bytes:
    """A program file: an example, a generated valid program or one of the
    edge programs, mutated."""
    start = chooser.integer(1, 100)
    if start <= 40:
        text = chooser.choice(EXAMPLES)
    elif start <= 70:
        text = valid_program(chooser)
    else:
        text = chooser.choice(PROGRAMS)
    return mutate_bytes(chooser, text.encode(), chooser.integer(1, 4))
