"""The compiler reads a program; it never imports or runs it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support import pybpfc_cli

PROGRAMS = {
    "module_call": "open({path!r}, 'w').write('ran')\n",
    "global_initialiser": "from pybpfc import u32\nx: u32 = open({path!r}, 'w').write('ran')\n",
    "decorator_argument": (
        "from pybpfc import cgroup_sysctl, SysctlContext, ALLOW\n"
        "@cgroup_sysctl(open({path!r}, 'w'))\n"
        "def f(ctx: SysctlContext) -> int:\n    return ALLOW\n"),
    "import_side_effect": "import os\nos.system('touch {path}')\n",
    "function_body": (
        "from pybpfc import cgroup_sysctl, SysctlContext, ALLOW\n"
        "@cgroup_sysctl\n"
        "def f(ctx: SysctlContext) -> int:\n    open({path!r}, 'w')\n    return ALLOW\n"),
}


@pytest.mark.parametrize("command", ["check", "build"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiling_never_runs_the_program(name: str, command: str, tmp_path: Path) -> None:
    marker = tmp_path / "created-by-the-program"
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAMS[name].format(path=str(marker)))
    result = pybpfc_cli(command, str(prog))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists()


def test_the_driver_imports_nothing_the_program_names(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process too: a module the program imports, though importable, is
    neither imported nor run."""
    from pybpfc.compiler.driver import compile_source
    from pybpfc.compiler.errors import CompileError, Source
    marker = tmp_path / "created-by-the-module"
    (tmp_path / "pybpfc_fuzz_side_effect.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    program = ("import pybpfc_fuzz_side_effect\n"
               "from pybpfc_fuzz_side_effect import ALLOW\n")
    with pytest.raises(CompileError):
        compile_source(Source("prog.py", program))
    assert "pybpfc_fuzz_side_effect" not in sys.modules
    assert not marker.exists()


VALID = ("from pybpfc import ALLOW, SysctlContext, cgroup_sysctl\n"
         "@cgroup_sysctl\ndef f(ctx: SysctlContext) -> int:\n    return ALLOW\n")


def test_build_refuses_an_output_that_links_to_the_input(tmp_path: Path) -> None:
    prog = tmp_path / "prog.py"
    prog.write_text(VALID)
    (tmp_path / "out.o").symlink_to(prog)
    result = pybpfc_cli("build", "prog.py", "-o", "out.o", cwd=tmp_path)
    assert result.returncode == 1
    assert "out.o: error: refusing to overwrite the input file" in result.stderr
    assert prog.read_text() == VALID


def test_default_output_that_links_to_the_input_is_refused(tmp_path: Path) -> None:
    # build replaces only a regular file: neither the link nor the input
    # behind it is touched.
    prog = tmp_path / "prog.py"
    prog.write_text(VALID)
    (tmp_path / "prog.o").symlink_to(prog)
    result = pybpfc_cli("build", "prog.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "prog.o: error: is a symbolic link, not a regular file" in result.stderr
    assert prog.read_text() == VALID
    assert os.readlink(tmp_path / "prog.o") == str(prog)


@pytest.mark.parametrize("outcome", ["success", "compile error"])
def test_build_leaves_no_temporary_file_anywhere(outcome: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The object is written through a temporary file next to it, renamed
    into place or removed; nothing goes to $TMPDIR, and the program is not
    byte-compiled (no __pycache__: it was never imported)."""
    work, private_tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    private_tmp.mkdir()
    text = VALID if outcome == "success" else VALID.replace("ALLOW\n", "ALOW\n")
    (work / "prog.py").write_text(text)
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    result = pybpfc_cli("build", "prog.py", cwd=work)
    assert result.returncode == (0 if outcome == "success" else 1), result.stderr
    expected = ["prog.o", "prog.py"] if outcome == "success" else ["prog.py"]
    assert sorted(p.name for p in work.iterdir()) == expected
    assert list(private_tmp.iterdir()) == []
