"""One error policy: a mistake in the program is a CompileError at its
position; a bug in pybpfc met in any phase (checking, frame planning,
lowering, code generation) is an InternalError carrying the phase, the
position of the node being worked on and the original exception.  The
command line exits 2 for it, names file:line:col, and shows the original
traceback only under --debug.

The bugs are injected: a phase's dispatch entry is replaced by a function
that raises, in a subprocess for the command line."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fuzz.compile_check import INTERNAL, compile_text
from pybpfc.compiler import ast as A
from pybpfc.compiler import codegen, frame
from pybpfc.compiler.check import state as check_state
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, InternalError, Source
from pybpfc.compiler.lower import state as lower_state
from tests.support import REPO_ROOT

PROGRAM = textwrap.dedent("""\
    from pybpfc import ALLOW, SysctlContext, cgroup_sysctl


    @cgroup_sysctl
    def h(ctx: SysctlContext) -> int:
        n = ctx.file_pos + 1
        return ALLOW if n else ALLOW
""")
BINOP = (6, 9)     # where `ctx.file_pos + 1` starts

# Run pybpfc's command line with one dispatch entry of a phase replaced.
INJECT = textwrap.dedent("""\
    import sys
    from pybpfc import cli
    from pybpfc.compiler import ast as A
    from pybpfc.compiler.{phase} import state

    def injected(*args):
        raise ValueError("injected into the {phase}")

    state.EXPRESSIONS[A.BinOp] = injected
    sys.exit(cli.main(sys.argv[1:]))
""")


def run_injected(phase: str, tmp_path: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    (tmp_path / "prog.py").write_text(PROGRAM)
    return subprocess.run([sys.executable, "-c", INJECT.format(phase=phase), *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("phase, name", [("check", "checker"), ("lower", "lowering")])
def test_a_bug_is_exit_2_at_its_position_without_a_traceback(
        phase: str, name: str, tmp_path: Path) -> None:
    result = run_injected(phase, tmp_path, "build", "prog.py", "-o", "prog.o")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    line, col = BINOP
    assert f"prog.py:{line}:{col}: internal error in pybpfc's {name}: " \
           f"ValueError: injected into the {phase}" in result.stderr, result.stderr
    assert "--debug" in result.stderr
    assert not (tmp_path / "prog.o").exists()


@pytest.mark.parametrize("phase", ["check", "lower"])
def test_debug_shows_the_original_traceback(phase: str, tmp_path: Path) -> None:
    result = run_injected(phase, tmp_path, "build", "--debug", "prog.py", "-o", "prog.o")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Traceback (most recent call last):")
    # The original exception, raised where it was raised, is the cause.
    assert "in injected" in result.stderr
    assert f"ValueError: injected into the {phase}" in result.stderr
    assert "The above exception was the direct cause" in result.stderr
    assert f"prog.py:{BINOP[0]}:{BINOP[1]}: internal error" in result.stderr


def test_check_is_exit_2_too(tmp_path: Path) -> None:
    result = run_injected("check", tmp_path, "check", "prog.py")
    assert result.returncode == 2, result.stderr
    assert f"prog.py:{BINOP[0]}:{BINOP[1]}: internal error in pybpfc's checker" \
        in result.stderr


def _raise(*args: object) -> None:
    raise ValueError("injected")


@pytest.mark.parametrize("table, phase", [(check_state.EXPRESSIONS, "checker"),
                                          (lower_state.EXPRESSIONS, "lowering")])
def test_compile_source_raises_internal_error_at_the_node(
        table: dict, phase: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(table, A.BinOp, _raise)
    with pytest.raises(InternalError) as caught:
        compile_source(Source("prog.py", PROGRAM))
    err = caught.value
    assert err.phase == phase
    assert (err.pos.line, err.pos.col) == BINOP
    assert isinstance(err.__cause__, ValueError)
    assert str(err).startswith(f"prog.py:{BINOP[0]}:{BINOP[1]}: internal error in pybpfc's "
                               f"{phase}: ValueError: injected")
    assert not isinstance(err, CompileError)


def test_a_statement_checker_bug_is_at_the_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(check_state.STATEMENTS, A.Return, _raise)
    with pytest.raises(InternalError) as caught:
        check_source(Source("prog.py", PROGRAM))
    assert (caught.value.pos.line, caught.value.pos.col) == (7, 5)


def test_frame_planning_bug_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frame, "_local_slot", _raise)
    with pytest.raises(InternalError) as caught:
        check_source(Source("prog.py", PROGRAM))
    assert caught.value.phase == "frame planning"
    assert caught.value.pos is not None and caught.value.pos.line == 5


def test_code_generation_bug_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codegen.llvm, "parse_assembly", _raise)
    with pytest.raises(InternalError) as caught:
        compile_source(Source("prog.py", PROGRAM))
    assert caught.value.phase == "code generation"
    assert str(caught.value).startswith("prog.py: internal error in pybpfc's code generation")


def test_a_mistake_stays_a_compile_error() -> None:
    with pytest.raises(CompileError) as caught:
        compile_source(Source("prog.py", PROGRAM.replace("ctx.file_pos + 1", "ctx.nope + 1")))
    assert not isinstance(caught.value, InternalError)
    assert caught.value.render().startswith("prog.py:6:13: error: SysctlContext has no field")


def test_the_fuzzer_counts_an_internal_error_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(check_state.EXPRESSIONS, A.BinOp, _raise)
    outcome = compile_text(PROGRAM)
    assert outcome.kind == INTERNAL
    assert "fuzz.py:6:9: internal error in pybpfc's checker" in outcome.detail
    assert "ValueError: injected" in outcome.detail
