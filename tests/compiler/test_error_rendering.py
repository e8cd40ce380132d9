"""An error message never writes the program's raw control characters to
the terminal (an ESC sequence could recolour or rewrite the screen, a
bidirectional control reorder the line): they are shown escaped, and the
caret stays under the offending text.

Run from the repository root: python -m pytest tests/compiler/test_error_rendering.py -q
"""
from __future__ import annotations

import pytest

from pybpfc.compiler.ast import Pos
from pybpfc.compiler.errors import CompileError, InternalError, Source, printable
from pybpfc.compiler.parser import parse


def rendered(text: str, path: str = "prog.py") -> list[str]:
    with pytest.raises(CompileError) as info:
        parse(Source(path, text))
    return info.value.render().split("\n")


def unsafe(line: str) -> list[str]:
    """The characters of `line` a terminal would act on or not show."""
    return [c for c in line if not c.isprintable()]


@pytest.mark.parametrize("control", ["\x1b", "\x07", "\x08", "\x7f", "\x9b", "\x85", "\x0b",
                                     "\u200b", "\ufeff", "\u2028"])
def test_control_characters_in_the_line_are_escaped_and_the_caret_stays_aligned(
        control: str) -> None:
    head, excerpt, caret = rendered(f"x = 'a{control}b' + )\n")
    assert head == "prog.py:1:13: error: unmatched ')'"
    escape = f"\\x{ord(control):02x}" if ord(control) < 0x100 else f"\\u{ord(control):04x}"
    assert excerpt == f"    x = 'a{escape}b' + )"
    assert caret.index("^") == excerpt.index(")")
    assert not unsafe(excerpt)


def test_an_escaped_character_under_the_caret_is_underlined_whole() -> None:
    head, excerpt, caret = rendered("x\x1b = 1\n")
    assert head == "prog.py:1:2: error: invalid non-printable character U+001B"
    assert excerpt == "    x\\x1b = 1"
    assert caret == "     ^~~~"


def test_an_escape_sequence_in_a_comment_cannot_reach_the_terminal() -> None:
    lines = rendered("x = 1  # \x1b[2J\x1b[31mlooks fine\ny = )\n")
    assert lines[1] == "    y = )"
    lines = rendered("x = (  # \x1b]0;title\x07\n")
    assert lines[1] == "    x = (  # \\x1b]0;title\\x07"
    assert not any(unsafe(line) for line in lines)


def test_tabs_are_one_column_and_wide_characters_two() -> None:
    _, excerpt, caret = rendered("x = '\t\uff41\uff42' +* 1\n")
    assert excerpt == "    x = ' \uff41\uff42' +* 1"
    # The caret is under '*': after 'x = ' (4), the quote, a tab (1), two
    # wide letters (4), the quote, a space and '+' (3).
    assert caret == "    " + " " * 13 + "^"


def test_combining_marks_take_no_column() -> None:
    _, excerpt, caret = rendered("x = 'e\u0301' )\n")
    assert caret == "    " + " " * 8 + "^"


def test_a_long_line_is_shown_around_the_error() -> None:
    _, excerpt, caret = rendered("x = " + "1 + " * 10_000 + "$\n")
    assert excerpt.startswith("    ...") and excerpt.endswith("$")
    assert len(excerpt) < 200
    assert caret.index("^") == excerpt.index("$")


def test_the_message_note_and_path_are_escaped_too() -> None:
    err = CompileError("bad name '\x1b[31m'", Pos(1, 1, 1, 2), Source("a\x1bb.py", "x\n"),
                       note="see \u202e here")
    assert err.render() == ("a\\x1bb.py:1:1: error: bad name '\\x1b[31m'\n    x\n    ^\n"
                            "  note: see \\u202e here")
    internal = InternalError("parser", KeyError("\x1b[2J"), None, Source("p.py", ""))
    assert not unsafe(internal.render())


def test_printable_keeps_line_breaks_and_ordinary_text() -> None:
    assert printable("caf\u00e9 \u4e2d\u6587\nnext") == "caf\u00e9 \u4e2d\u6587\nnext"
    assert printable("\x00\U000e0001") == "\\x00\\U000e0001"
