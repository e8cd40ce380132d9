"""`pybpfc run`'s and `load`'s command line: options between PROGRAM and
`--`, and `--set NAME=VALUE` refused clearly when it cannot be done.  Every
refusal here comes before anything is loaded."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import pybpfc_cli

SETTABLE = """
from pybpfc import ALLOW, ReadOnly, SockContext, cgroup_sock_create, u8, u32

limit: ReadOnly[u8] = 1
verbose: ReadOnly[bool] = False
name: ReadOnly[bytearray] = bytearray(4)
seen: u32 = 0


@cgroup_sock_create
def count(ctx: SockContext) -> int:
    global seen
    seen += limit
    if verbose:
        print("socket of type", ctx.type)
    return ALLOW
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "settable.py"
    path.write_text(SETTABLE)
    return path


@pytest.mark.parametrize("setting, message", [
    ("limit=300", "--set limit=300: 300 does not fit in 'u8' (unsigned 8 bits: 0..255)"),
    ("limit=-1", "--set limit=-1: -1 does not fit in 'u8' (unsigned 8 bits: 0..255)"),
    ("limit=ten", "--set limit=ten: 'ten' is not an integer (write 10, -1, 0x1f, ...) "
                  "for 'limit'"),
    ("verbose=maybe", "--set verbose=maybe: 'maybe' is not a bool; write true or false"),
    ("name=toolong", "--set name=toolong: 7 bytes do not fit in 'name' (4 bytes)"),
    ("nope=1", "--set nope=1: the program has no ReadOnly global 'nope' (its ReadOnly "
               "globals: limit, name, verbose)"),
    ("seen=1", "--set seen=1: global 'seen' is not ReadOnly; --set sets only ReadOnly "
               "globals"),
    ("limit", "--set limit: write NAME=VALUE, e.g. --set limit=10"),
])
@pytest.mark.parametrize("command", ["run", "load"])
def test_a_setting_that_cannot_be_made_is_refused(program: Path, setting: str, message: str,
                                                  command: str) -> None:
    args = [command, program, "--set", setting] + (["--", "true"] if command == "run" else [])
    result = pybpfc_cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith(f"pybpfc {command}: error: {message}"), result.stderr
    assert "Traceback" not in result.stderr


def test_run_refuses_what_is_not_its_option_before_the_command(program: Path) -> None:
    result = pybpfc_cli("run", program, "--bogus", "--", "true")
    assert result.returncode == 1
    assert result.stderr == ("pybpfc run: error: unrecognized arguments: --bogus (between "
                             "PROGRAM and `--` go only run's options; the command goes after "
                             "`--`)\n")


def test_run_asks_for_the_separator_after_its_options(program: Path) -> None:
    result = pybpfc_cli("run", program, "--set", "limit=2", "true")
    assert result.returncode == 1
    assert result.stderr == (f"pybpfc run: error: --set after PROGRAM: put `--` between "
                             f"run's options and the command, e.g. `pybpfc run {program} "
                             f"--set ... -- CMD`\n")


def test_a_setting_after_program_is_checked_like_one_before(program: Path) -> None:
    after = pybpfc_cli("run", program, "--set", "limit=256", "--", "true")
    before = pybpfc_cli("run", "--set", "limit=256", program, "--", "true")
    assert after.returncode == before.returncode == 1
    assert after.stderr == before.stderr
    assert "256 does not fit" in after.stderr
