"""Tests of the ``pybpfc`` command line.

Most run without the compiler: in a subprocess where the compiler is never
reached, or in-process with a stand-in for ``pybpfc.compiler.driver``.

"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from tests.support import REPO_ROOT, pybpfc_cli, require_root
from pybpfc import cli
from pybpfc.compiler.ast import Pos
from pybpfc.compiler.errors import CompileError, InternalError, Source


DENY_TTL = REPO_ROOT / "examples" / "deny_ttl.py"
FAKE_ELF = b"\x7fELF fake object"


def assert_no_traceback(result: "subprocess.CompletedProcess[str]") -> None:
    assert "Traceback" not in result.stdout + result.stderr


# ------------------------------------------------ subprocess, no compiler


def test_version() -> None:
    result = pybpfc_cli("--version")
    assert result.returncode == 0, result.stderr
    name, version = result.stdout.split()
    assert name == "pybpfc"
    try:
        assert version == metadata.version("pybpfc")
    except metadata.PackageNotFoundError:   # not installed: read from the package
        import pybpfc
        assert version == pybpfc.__version__


def test_help_lists_the_commands() -> None:
    result = pybpfc_cli("--help")
    assert result.returncode == 0, result.stderr
    for word in ("build", "check", "--version", "--debug"):
        assert word in result.stdout


@pytest.mark.parametrize("command", ["build", "check"])
def test_command_help(command: str) -> None:
    result = pybpfc_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: pybpfc {command}" in result.stdout
    assert ("-o OUT.o" in result.stdout) == (command == "build")


@pytest.mark.parametrize("words", [["--help"], ["-h", "build"], ["--debug", "--help"]])
def test_help_lists_the_runtime_commands_too(words: list[str]) -> None:
    result = pybpfc_cli(*words)
    assert result.returncode == 0, result.stderr
    for word in ("build", "check", "load", "detach", "maps", "objdump", "run"):
        assert f"\n    {word} " in result.stdout, word


@pytest.mark.parametrize("words, expected", [
    (["build", "x.py"], "build"), (["--debug", "check", "x.py"], "check"),
    (["run", "--", "build"], "run"), (["--version"], None), ([], None),
    (["-h", "build"], None), (["--help"], None)])
def test_the_command_word(words: list[str], expected: Optional[str]) -> None:
    assert cli._command_word(words) == expected


def test_a_runtime_command_after_options_is_still_known() -> None:
    result = pybpfc_cli("--debug", "maps", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: pybpfc maps" in result.stdout


def test_the_process_ends_with_main_s_status_and_its_output_flushed(tmp_path: Path) -> None:
    # command() ends the process without Python's teardown; what was
    # printed still arrives, and the exit status is main()'s.
    out = tmp_path / "deny_ttl.o"
    ok = subprocess.run([sys.executable, "-m", "pybpfc", "build", str(DENY_TTL), "-o", str(out)],
                        capture_output=True, text=True, cwd=REPO_ROOT)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == f"deny_ttl: cgroup/setsockopt\nwrote {out}\n"
    bad = subprocess.run([sys.executable, "-m", "pybpfc", "build", str(tmp_path / "none.py")],
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert bad.returncode == cli.EXIT_USER_ERROR
    assert "none.py" in bad.stderr


def test_help_does_not_import_the_compiler() -> None:
    code = ("import sys; from pybpfc import cli\n"
            "try: cli.main(['--help'])\n"
            "except SystemExit: pass\n"
            "assert not [m for m in sys.modules if m.startswith('pybpfc.compiler')], sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stderr


def test_no_command_is_a_usage_error() -> None:
    result = pybpfc_cli()
    assert result.returncode == 1
    assert "usage: pybpfc" in result.stderr
    assert_no_traceback(result)


def test_unknown_option_is_a_usage_error() -> None:
    result = pybpfc_cli("build", "--frobnicate", "x.py")
    assert result.returncode == 1
    assert "unrecognized arguments: --frobnicate" in result.stderr


@pytest.mark.parametrize("command", ["build", "check"])
def test_missing_file(command: str, tmp_path: Path) -> None:
    result = pybpfc_cli(command, "nope.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "nope.py: error: file not found\n"
    assert_no_traceback(result)


@pytest.mark.parametrize("command", ["build", "check"])
def test_directory_as_input(command: str, tmp_path: Path) -> None:
    (tmp_path / "dir.py").mkdir()
    result = pybpfc_cli(command, "dir.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "dir.py: error: is a directory\n"
    assert_no_traceback(result)


def test_unreadable_path(tmp_path: Path) -> None:
    # Any other OSError; this one happens for root too, unlike chmod 0.
    (tmp_path / "prog.py").write_text("x = 1\n")
    result = pybpfc_cli("check", "prog.py/inner.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "prog.py/inner.py: error: cannot read: Not a directory\n"


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_bytes(b"# ok\nx = '\xff'\n")
    result = pybpfc_cli("check", "prog.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("prog.py:2:6: error: not UTF-8: invalid byte 0xff\n")


@pytest.mark.parametrize("output", ["x.py", "./x.py", "sub/../x.py", "link.py"])
def test_build_refuses_to_overwrite_its_input(output: str, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    prog = tmp_path / "x.py"
    prog.write_text("x = 1\n")
    os.link(prog, tmp_path / "link.py")
    result = pybpfc_cli("build", "x.py", "-o", output, cwd=tmp_path)
    assert result.returncode == 1
    assert "refusing to overwrite the input" in result.stderr
    assert prog.read_text() == "x = 1\n"
    assert_no_traceback(result)


def test_build_needs_o_when_input_is_not_py(tmp_path: Path) -> None:
    (tmp_path / "prog").write_text("x = 1\n")
    result = pybpfc_cli("build", "prog", cwd=tmp_path)
    assert result.returncode == 1
    assert "use -o" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prog"]


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    # argparse already swallows EPIPE for --help; build prints through our code.
    (tmp_path / "prog.py").write_text("x = 1\n")
    code = ("import sys, types\n"
            "driver = types.ModuleType('pybpfc.compiler.driver')\n"
            "plan = types.SimpleNamespace(programs=[])\n"
            "driver.compile_source = lambda s: types.SimpleNamespace(elf=b'', plan=plan)\n"
            "sys.modules[driver.__name__] = driver\n"
            "from pybpfc import cli\n"
            "raise SystemExit(cli.main(['build', 'prog.py']))\n")
    read_end, write_end = os.pipe()
    os.close(read_end)   # before the child starts: its first write fails
    try:
        result = subprocess.run([sys.executable, "-c", code], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == cli.EXIT_BROKEN_PIPE


# Standard modules that `python -m pybpfc build` imports: the package's own
# (typing), the CLI's (argparse) and build's (tempfile).  Not those Python's
# runpy imports for any -m before pybpfc starts (contextlib, functools, ...):
# they come from the working directory whatever pybpfc does (README.md).
PLANTED_MODULES = ("typing", "argparse", "tempfile")


def test_python_m_pybpfc_imports_nothing_from_the_working_directory(tmp_path: Path) -> None:
    """Python puts the working directory first on sys.path for ``-m``; files
    that sit next to the program (an argparse.py) must not run as root."""
    for name in PLANTED_MODULES:
        (tmp_path / f"{name}.py").write_text(
            f"open({str(tmp_path / (name + '.imported'))!r}, 'w').close()\n")
    (tmp_path / "deny_ttl.py").write_bytes(DENY_TTL.read_bytes())
    result = pybpfc_cli("build", "deny_ttl.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.imported")) == []
    assert (tmp_path / "deny_ttl.o").read_bytes().startswith(b"\x7fELF")


# -------------------------------------------- in-process, stand-in compiler


def _fake_driver(monkeypatch: pytest.MonkeyPatch,
                 compile_source: Optional[Callable[[Source], Any]] = None,
                 check_source: Optional[Callable[[Source], Any]] = None,
                 program_count: int = 2) -> None:
    """Stand in for pybpfc.compiler.driver (compile_source, check_source,
    plan_of), its plan holding deny_ttl, peek, ..."""
    names = ["deny_ttl", "peek", "third"][:program_count]
    sections = ["cgroup/setsockopt", "cgroup/getsockopt", "cgroup/sysctl"]
    plan = types.SimpleNamespace(programs=[
        types.SimpleNamespace(name=name, section=section, hook=None)
        for name, section in zip(names, sections)])

    def default_compile(source: Source) -> Any:
        return types.SimpleNamespace(elf=FAKE_ELF, plan=plan)

    driver = types.ModuleType("pybpfc.compiler.driver")
    driver.compile_source = compile_source or default_compile  # type: ignore[attr-defined]
    driver.check_source = check_source or (lambda source: object())  # type: ignore[attr-defined]
    driver.plan_of = lambda checked: plan  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pybpfc.compiler.driver", driver)


def _compile_error(source: Source) -> Any:
    raise CompileError("unknown name 'ctxx'", Pos(3, 12, 3, 16))


@pytest.fixture
def prog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = Path("prog.py")
    path.write_text("def f(ctx):\n    pass\n    return ctxx.level\n")
    return path


def test_build_writes_next_to_the_input(prog: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch)
    assert cli.main(["build", str(prog)]) == 0
    out = capsys.readouterr().out
    assert out == "deny_ttl: cgroup/setsockopt\npeek: cgroup/getsockopt\nwrote prog.o\n"
    assert Path("prog.o").read_bytes() == FAKE_ELF
    # The mode open() would give, not mkstemp's 0600.
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(Path("prog.o").stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in Path(".").iterdir()) == ["prog.o", "prog.py"]


def test_build_with_output_option(prog: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch)
    Path("out").mkdir()
    assert cli.main(["build", str(prog), "-o", "out/x.o"]) == 0
    assert capsys.readouterr().out.endswith("wrote out/x.o\n")
    assert Path("out/x.o").read_bytes() == FAKE_ELF
    assert [p.name for p in Path("out").iterdir()] == ["x.o"]


def test_build_into_a_missing_directory(prog: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch)
    assert cli.main(["build", str(prog), "-o", "nodir/x.o"]) == 1
    assert capsys.readouterr().err == "nodir/x.o: error: cannot write: No such file or directory\n"


def test_build_onto_a_directory(prog: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch)
    Path("out").mkdir()
    assert cli.main(["build", str(prog), "-o", "out"]) == 1
    assert capsys.readouterr().err == "out: error: is a directory\n"


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _null_device(path: Path) -> None:
    # A device node like /dev/null, made in the test's own directory.
    require_root("making a device node")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))


def _link_to_stdout(path: Path) -> None:
    os.symlink("/proc/self/fd/1", path)


def _link_to_a_file(path: Path) -> None:
    Path("target.o").write_bytes(b"old")
    os.symlink("target.o", path)


@pytest.mark.parametrize("make, kind", [
    (_fifo, "a FIFO"),
    pytest.param(_null_device, "a character device", marks=pytest.mark.kernel),
    (_link_to_stdout, "a symbolic link"),
    (_link_to_a_file, "a symbolic link"),
])
def test_build_replaces_only_a_regular_file(make: Callable[[Path], None], kind: str,
                                            prog: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """As root, renaming the new object over a device node, a FIFO or a
    symlink would replace it with a regular file (``-o /dev/null`` used to
    turn the machine's /dev/null into one)."""
    _fake_driver(monkeypatch)
    out = Path("out.o")
    make(out)
    before = os.lstat(out)
    assert cli.main(["build", str(prog), "-o", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"out.o: error: is {kind}, not a regular file; pybpfc build replaces only "
        "a regular file (remove it or choose another output)\n")
    after = os.lstat(out)
    assert (after.st_mode, after.st_ino, after.st_rdev) == \
        (before.st_mode, before.st_ino, before.st_rdev)
    assert sorted(p.name for p in Path(".").iterdir()) == sorted(
        ["prog.py", "out.o"] + (["target.o"] if make is _link_to_a_file else []))


def test_build_keeps_the_mode_of_the_file_it_replaces(
        prog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_driver(monkeypatch)
    Path("prog.o").write_bytes(b"old")
    os.chmod("prog.o", 0o640)
    assert cli.main(["build", str(prog)]) == 0
    assert Path("prog.o").read_bytes() == FAKE_ELF
    assert stat.S_IMODE(os.stat("prog.o").st_mode) == 0o640


@pytest.mark.kernel
def test_build_keeps_the_owner_of_the_file_it_replaces(
        prog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_root("giving a file to another owner")
    _fake_driver(monkeypatch)
    Path("prog.o").write_bytes(b"old")
    os.chown("prog.o", 4321, 8765)
    os.chmod("prog.o", 0o604)
    assert cli.main(["build", str(prog)]) == 0
    replaced = os.stat("prog.o")
    assert (replaced.st_uid, replaced.st_gid) == (4321, 8765)
    assert stat.S_IMODE(replaced.st_mode) == 0o604
    assert Path("prog.o").read_bytes() == FAKE_ELF


def test_compile_error_is_rendered_and_keeps_the_old_output(
        prog: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch, compile_source=_compile_error)
    Path("prog.o").write_bytes(b"old")
    assert cli.main(["build", str(prog)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("prog.py:3:12: error: unknown name 'ctxx'\n"
                            "        return ctxx.level\n"
                            "               ^~~~\n")
    assert Path("prog.o").read_bytes() == b"old"
    assert sorted(p.name for p in Path(".").iterdir()) == ["prog.o", "prog.py"]


@pytest.mark.parametrize("count, text", [(1, "1 program"), (2, "2 programs")])
def test_check_reports_ok(count: int, text: str, prog: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch, program_count=count)
    assert cli.main(["check", str(prog)]) == 0
    assert capsys.readouterr().out == f"prog.py: ok ({text})\n"
    assert sorted(p.name for p in Path(".").iterdir()) == ["prog.py"]


def test_check_compile_error(prog: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch, check_source=_compile_error)
    assert cli.main(["check", str(prog)]) == 1
    assert capsys.readouterr().err.startswith("prog.py:3:12: error: unknown name 'ctxx'\n")


def test_compiling_in_process_leaves_the_garbage_collector_as_it_was(
        prog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """build and check compile with the cyclic collector off; a caller of
    main() gets it back on, even when the compile fails."""
    import gc
    seen = []

    def compile_source(source: Source) -> Any:
        seen.append(gc.isenabled())
        return _compile_error(source)

    _fake_driver(monkeypatch, compile_source=compile_source, check_source=compile_source)
    assert gc.isenabled()
    assert cli.main(["build", str(prog)]) == 1
    assert cli.main(["check", str(prog)]) == 1
    assert seen == [False, False]
    assert gc.isenabled()


def _crash(source: Source) -> Any:
    raise ValueError("lowering lost\nits way")


def test_internal_error_is_one_line(prog: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch, compile_source=_crash)
    assert cli.main(["build", str(prog)]) == 2
    assert capsys.readouterr().err == (
        "pybpfc: internal error: ValueError: lowering lost its way "
        "(run with --debug for the traceback)\n")
    assert not Path("prog.o").exists()


def _compiler_bug(source: Source) -> Any:
    raise InternalError("lowering", KeyError("lost"), Pos(3, 5, 3, 9), source)


@pytest.mark.parametrize("argv", [["build", "prog.py"], ["check", "--load", "prog.py"],
                                  ["run", "prog.py", "--", "true"]])
def test_a_compiler_bug_says_internal_error_once(argv: list[str], prog: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # The compiler's InternalError says what it is and where; the command
    # line adds only its name (run compiles before it makes anything).
    _fake_driver(monkeypatch, compile_source=_compiler_bug)
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == (
        "pybpfc: prog.py:3:5: internal error in pybpfc's lowering: KeyError: 'lost' "
        "(run with --debug for the traceback)\n")


@pytest.mark.parametrize("argv", [["--debug", "build", "prog.py"],
                                  ["build", "--debug", "prog.py"]])
def test_debug_prints_the_traceback(argv: list[str], prog: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch, compile_source=_crash)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert "in _crash" in err
    assert err.endswith("pybpfc: internal error: ValueError: lowering lost its way\n")


def test_debug_shows_where_a_compile_error_came_from(
        prog: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _fake_driver(monkeypatch, compile_source=_compile_error)
    assert cli.main(["--debug", "build", str(prog)]) == 1
    err = capsys.readouterr().err
    assert "in _compile_error" in err
    assert "prog.py:3:12: error: unknown name 'ctxx'" in err


def test_keyboard_interrupt(prog: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(source: Source) -> Any:
        raise KeyboardInterrupt

    _fake_driver(monkeypatch, compile_source=interrupted)
    assert cli.main(["build", str(prog)]) == 130
    assert "Traceback" not in capsys.readouterr().err
    assert sorted(p.name for p in Path(".").iterdir()) == ["prog.py"]


def test_crlf_source_keeps_line_numbers(prog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Source] = []

    def remember(source: Source) -> None:
        seen.append(source)

    _fake_driver(monkeypatch, check_source=remember)
    prog.write_bytes(b"\xef\xbb\xbfa = 1\r\nb = 2\rc = 3\n")
    assert cli.main(["check", str(prog)]) == 0
    assert seen == [Source(path="prog.py", text="a = 1\nb = 2\nc = 3\n")]


# ------------------------------------------------------- the real compiler


def test_build_example(tmp_path: Path) -> None:
    out = tmp_path / "deny_ttl.o"
    result = pybpfc_cli("build", DENY_TTL, "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"deny_ttl: cgroup/setsockopt\nwrote {out}\n"
    assert out.read_bytes().startswith(b"\x7fELF")


def test_check_example() -> None:
    result = pybpfc_cli("check", DENY_TTL)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{DENY_TTL}: ok (1 program)\n"


def test_compile_error_from_the_real_compiler(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "from pybpfc import cgroup_setsockopt, SockoptContext, ALLOW\n"
        "\n"
        "@cgroup_setsockopt\n"
        "def f(ctx: SockoptContext) -> int:\n"
        "    return undefined_name\n")
    result = pybpfc_cli("build", "bad.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("bad.py:5:12: error: ")
    assert_no_traceback(result)
    assert not (tmp_path / "bad.o").exists()
