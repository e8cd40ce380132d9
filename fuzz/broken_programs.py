"""Broken programs for fuzzing the compiler (fuzz/programs.py): a valid
program with one small fault, and an example with tokens deleted,
duplicated, swapped, or replaced by numbers and names."""
from __future__ import annotations

import re

from .choose import Chooser, chance
from .program_vocabulary import EXAMPLES
from .program_writer import valid_program

# One-line statements the language refuses (docs/language.md, section 9).
REFUSED_STATEMENTS = [
    "f = lambda x: x", "xs = [i for i in range(3)]", "d = {}", "yield 1", "assert True",
    "raise ValueError", "x = 1.5", 's = "abc"', "x = None", "t = (1, 2)", "a, b = 1, 2",
    "a = b = 1", "y = (x := 1)", "x = 1 ** 2", "n = abs(-1)", "print(1)", "del x",
    "nonlocal x", "import os", "with ctx: pass", "x = [1, 2][0]", "n = 5 // 0",
    "n = 1 << -1", "x: u8 = 256", "ctx = 1", "ALLOW = 2", "x = ...", "s = f'{1}'",
]


def tokens(text: str) -> list[str]:
    """The text cut at token boundaries (whitespace kept as tokens)."""
    return [t for t in re.split(r"(\s+|\w+|[^\w\s])", text) if t]


NAMES = ["ctx", "u8", "u32", "i64", "bool", "ALLOW", "REJECT", "range", "len", "x", "global",
         "None", "True", "optval", "optlen", "mark", "struct", "Final", "lambda", "def",
         "min", "bytearray", "int", "self", "return", "while", "for", "in", "if", "else"]
NUMBERS = ["0", "1", "-1", "255", "256", "4096", "0xFFFFFFFF", "1 << 63", "65536", "7",
           "0b102", "1_", "00", "1e3", "0x", "9" * 30, "-(1 << 64)"]
PUNCTUATION = ["(", ")", "[", "]", ":", ",", ".", "=", "==", "+", "-", "*", "//", "%", "<<",
               "@", "\\", ";", "\n", "\t", "    ", "'", '"', "#", "\x00", "é", "\r"]


def mutate(chooser: Chooser, text: str, steps: int) -> str:
    parts = tokens(text) or [""]
    for _ in range(steps):
        i = chooser.integer(0, len(parts) - 1)
        action = chooser.choice(["delete", "duplicate", "swap", "number", "name",
                                 "punctuation"])
        if action == "delete":
            del parts[i]
        elif action == "duplicate":
            parts.insert(i, parts[i])
        elif action == "swap":
            j = chooser.integer(0, len(parts) - 1)
            parts[i], parts[j] = parts[j], parts[i]
        elif action == "number":
            parts[i] = chooser.choice(NUMBERS)
        elif action == "name":
            parts[i] = chooser.choice(NAMES)
        else:
            parts.insert(i, chooser.choice(PUNCTUATION))
        if not parts:
            parts = [""]
    return "".join(parts)


def mutated_example(chooser: Chooser) -> str:
    return mutate(chooser, chooser.choice(EXAMPLES), chooser.integer(1, 4))


def function_body_lines(lines: list[str]) -> list[int]:
    """Indexes of the lines inside function bodies (not struct bodies)."""
    body, inside = [], False
    for i, line in enumerate(lines):
        if line.startswith("def "):
            inside = True
        elif line and not line.startswith(" "):
            inside = False
        elif inside and line.startswith("    "):
            body.append(i)
    return body


def nearly_valid_program(chooser: Chooser) -> str:
    text = valid_program(chooser)
    if chance(chooser, 40):
        lines = text.split("\n")
        body = function_body_lines(lines)
        if body:
            at = chooser.choice(body)
            indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
            lines.insert(at, indent + chooser.choice(REFUSED_STATEMENTS))
            return "\n".join(lines)
    return mutate(chooser, text, 1)

