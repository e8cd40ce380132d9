"""Reading a program as Python reads it (pybpfc/compiler/source.py): the
bytes decoded as Python's tokenizer decodes them or refused, the input
bounded, and the characters that make code read differently from what it
does refused anywhere.  Python itself (``tokenize.detect_encoding``,
``ast.parse``) is the reference throughout.

Run from the repository root: python -m pytest tests/compiler/test_source.py -q
"""
from __future__ import annotations

import ast as python_ast
import io
import os
import tokenize
from pathlib import Path

import pytest

from pybpfc.compiler import source as source_module
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.compiler.parser import parse
from pybpfc.compiler.source import (MAX_LINE_LENGTH, MAX_SOURCE_BYTES, UnreadableFile,
                                    checked_text, decode_source, read_bounded, read_source)
from tests.support import pybpfc_cli


def python_reads(data: bytes) -> str:
    """The text Python's tokenizer reads from a file holding `data`."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def refusal(data: bytes) -> CompileError:
    with pytest.raises(CompileError) as info:
        decode_source(data, "prog.py")
    return info.value


# ------------------------------------------------------------------ decoding

@pytest.mark.parametrize("data", [
    b"x = 1\n",
    b"\xef\xbb\xbfx = 1\n",                                  # a byte-order mark
    b"# -*- coding: utf-8 -*-\nx = '\xc3\xa9'\n",
    b"#!/usr/bin/env python\n# vim: set fileencoding=utf8 :\nx = 1\n",
    b"# coding=UTF_8\nx = 1\n",
    b"\xef\xbb\xbf# coding: utf-8\nx = 1\n",
    b"# coding: latin-1\nx = 'plain ascii'\n",              # reads the same either way
    b"x = 1\n# coding: utf-7\ny = 1 +AAo-z = 2\n",          # line 2 after code: no cookie
    b"\n\n# coding: utf-7\ny = 1 +AAo-z = 2\n",             # line 3: no cookie
    b"a = 1\r\nb = 2\rc = 3\n",
])
def test_what_python_reads_is_what_pybpfc_reads(data: bytes) -> None:
    assert decode_source(data, "prog.py").text == python_reads(data)


def test_a_coding_cookie_that_changes_the_program_is_refused() -> None:
    # In UTF-7, "+AAo-" is a line break: Python would run `y = 1` and `z = 2`
    # where an editor showing the file as UTF-8 shows one line.
    data = b"# coding: utf-7\ny = 1 +AAo-z = 2\n"
    assert python_reads(data) != data.decode("utf-8")
    err = refusal(data)
    assert err.message == ("the file declares the encoding 'utf-7', in which it reads "
                           "differently than in UTF-8")
    assert (err.pos.line, err.pos.col, err.pos.end_col) == (1, 11, 16)
    assert "save the file as UTF-8" in err.note


def test_a_cookie_on_the_second_line_counts_after_a_comment_line() -> None:
    err = refusal(b"#!/bin/python\n# coding: utf-7\ny = 1 +AAo-z = 2\n")
    assert (err.pos.line, err.pos.col) == (2, 11)


def test_a_cookie_counts_on_lines_that_end_in_a_carriage_return() -> None:
    # Python's file reader ends lines at '\r' too; detect_encoding alone does not.
    err = refusal(b"#!/bin/python\r# coding: utf-7\ry = 1 +AAo-z = 2\r")
    assert (err.pos.line, err.pos.col) == (2, 11)


def test_an_unknown_encoding_is_refused() -> None:
    err = refusal(b"# coding: klingon\nx = 1\n")
    assert err.message == "unknown or unusable encoding 'klingon'"
    with pytest.raises(SyntaxError):
        tokenize.detect_encoding(io.BytesIO(b"# coding: klingon\nx = 1\n").readline)


@pytest.mark.parametrize("cookie", [b"latin-1", b"utf8", b"ascii"])
def test_a_byte_order_mark_with_another_cookie_is_refused(cookie: bytes) -> None:
    data = b"\xef\xbb\xbf# coding: " + cookie + b"\nx = 1\n"
    with pytest.raises(SyntaxError):      # Python refuses it too
        tokenize.detect_encoding(io.BytesIO(data).readline)
    assert refusal(data).message.startswith("encoding problem:")


def test_invalid_utf8_is_refused_where_it_is() -> None:
    err = refusal(b"# ok\nx = 'caf\xe9'\n")
    assert err.message == "not UTF-8: invalid byte 0xe9"
    assert (err.pos.line, err.pos.col) == (2, 9)
    assert err.render().splitlines()[1:3] == ["    x = 'caf\ufffd'", "            ^"]


def test_positions_count_characters_after_multibyte_ones() -> None:
    err = refusal("x = 'ééé' + '\u20ac'  # ".encode() + b"\xff\n")
    assert (err.pos.line, err.pos.col) == (1, 20)


# ------------------------------------------------------------------- files

def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "prog.py"
    os.mkfifo(fifo)
    result = pybpfc_cli("check", fifo, timeout=30)
    assert result.returncode == 1
    assert result.stderr == f"{fifo}: error: is not a regular file (a FIFO)\n"


def test_a_device_is_refused_before_it_is_read() -> None:
    result = pybpfc_cli("check", "/dev/zero", timeout=30)
    assert result.returncode == 1
    assert result.stderr == "/dev/zero: error: is not a regular file (a character device)\n"


def test_a_program_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    program = tmp_path / "big.py"
    program.write_bytes(b"#" * MAX_SOURCE_BYTES + b"\n")
    result = pybpfc_cli("check", program)
    assert result.returncode == 1
    assert result.stderr == (f"{program}: error: the program is larger than "
                             f"{MAX_SOURCE_BYTES:,} bytes, the most pybpfc reads\n")
    program.write_bytes(b"#" * (MAX_SOURCE_BYTES - 1) + b"\n")
    assert read_source(program).text.startswith("#")


def test_a_file_that_grows_while_read_is_still_bounded(tmp_path: Path) -> None:
    # The limit is on what is read, not on what stat said.
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    with pytest.raises(UnreadableFile, match="larger than 9 bytes"):
        read_bounded(path, 9)
    assert read_bounded(path, 10) == b"x" * 10


def test_read_source_reports_a_missing_file_as_the_user_s_mistake(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as info:
        read_source(tmp_path / "nope.py")
    assert info.value.render() == f"{tmp_path / 'nope.py'}: error: file not found"


# ------------------------------------------------------------- the text

def check_refused(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        checked_text(Source("prog.py", text))
    return info.value


@pytest.mark.parametrize("text", ["x = 1  # \x00\n", "x = '\x00'\n", "x = 1\n\x00"])
def test_a_null_byte_is_refused_anywhere(text: str) -> None:
    with pytest.raises(SyntaxError):
        python_ast.parse(text)
    err = check_refused(text)
    assert err.message == "source code cannot contain null bytes"
    offset = text.index("\x00")
    assert (err.pos.line, err.pos.col) == (text.count("\n", 0, offset) + 1,
                                           offset - text.rfind("\n", 0, offset))


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@pytest.mark.parametrize("char", BIDI_CONTROLS)
def test_bidirectional_controls_are_refused_even_in_comments_and_strings(char: str) -> None:
    text = f"access = 'user'\n# check {char}admin\nlevel = 'x{char}'\n"
    err = check_refused(text)
    assert err.message.startswith(f"bidirectional control character U+{ord(char):04X} (")
    assert (err.pos.line, err.pos.col) == (2, 9)
    assert f"\\u{ord(char):04x}" in err.note


def test_the_trojan_source_example_is_refused() -> None:
    # The "early return" of the Trojan Source paper: the comment's RLI/LRI
    # make an editor show the return inside the comment.
    text = ("def is_admin(user: str) -> bool:\n"
            "    ''' Subtract funds from bank account then \u202e ''' ;return\n"
            "    return True\n")
    assert "U+202E" in check_refused(text).message


def test_a_lone_surrogate_is_refused() -> None:
    assert check_refused("x = '\ud800'\n").message.startswith("lone surrogate U+D800")


def test_a_line_may_be_65535_characters_long_and_no_longer() -> None:
    longest = "x = " + "1" * (MAX_LINE_LENGTH - 4)
    assert checked_text(Source("prog.py", longest + "\n")) == longest + "\n"
    err = check_refused("pass\n" + longest + "1\n")
    assert err.message == "line longer than 65,535 characters"
    assert (err.pos.line, err.pos.col) == (2, MAX_LINE_LENGTH + 1)


def test_text_over_the_size_limit_is_refused_whatever_made_the_source() -> None:
    err = check_refused("\n" * (MAX_SOURCE_BYTES + 1))
    assert err.pos is None and "the most pybpfc reads" in err.message


def test_the_text_ends_with_one_line_break() -> None:
    assert checked_text(Source("p.py", "x = 1")) == "x = 1\n"
    assert checked_text(Source("p.py", "x = 1\r\n")) == "x = 1\n"
    assert checked_text(Source("p.py", "")) == ""


def test_only_a_line_break_ends_a_line_when_an_error_is_shown() -> None:
    # A form feed, U+2028 or U+0085 in a comment does not end a line for
    # Python: the error on line 2 shows line 2.
    for separator in ("\x0c", "\u2028", "\x85", "\x1c"):
        text = f"x = 1  # a{separator}b\ny = )\n"
        with pytest.raises(CompileError) as info:
            parse(Source("prog.py", text))
        assert info.value.pos.line == 2
        assert info.value.render().splitlines()[1] == "    y = )"


def test_limits_are_documented() -> None:
    doc = (Path(source_module.__file__).parents[2] / "docs" / "language.md").read_text()
    for limit in (source_module.MAX_SOURCE_BYTES, source_module.MAX_LINE_LENGTH,
                  source_module.MAX_IDENTIFIER_LENGTH, source_module.MAX_NESTING,
                  source_module.MAX_OPEN_BRACKETS, source_module.MAX_INDENT_LEVELS,
                  source_module.MAX_INT_LITERAL_BITS):
        assert f"{limit:,}" in doc, limit


def test_the_cli_reads_through_the_compiler_s_reader(tmp_path: Path) -> None:
    # Decoding and refusals are the compiler's; the command only reports them.
    program = tmp_path / "prog.py"
    program.write_bytes(b"# coding: utf-7\ny = 1 +AAo-z = 2\n")
    result = pybpfc_cli("check", program)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{program}:1:11: error: the file declares the encoding")
