"""The verifier on the command line: `pybpfc check --load`, and
`--verifier-log FILE` on `check --load`, `load` and `run`; and verify(),
which asks the kernel about each program and keeps nothing open."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.verify import verify
from tests.support import REPO_ROOT, pybpfc_cli, require_root

REFUSALS = REPO_ROOT / "tests" / "refusals"
DENY_TTL = REPO_ROOT / "examples" / "deny_ttl.py"
# One hook the verifier accepts and one it refuses, in one program.
TWO_HOOKS = '''\
from pybpfc import ALLOW, SockContext, SysctlContext, cgroup_sock_create, cgroup_sysctl


@cgroup_sock_create
def fine(ctx: SockContext) -> int:
    return ALLOW


@cgroup_sysctl
def wait(ctx: SysctlContext) -> int:
    while ctx.file_pos < 10:
        pass
    return ALLOW
'''


@pytest.fixture
def two_hooks(tmp_path: Path) -> Path:
    path = tmp_path / "two.py"
    path.write_text(TWO_HOOKS)
    return path


@pytest.mark.kernel
def test_check_load_reports_each_program_the_verifier_accepts() -> None:
    require_root("loading programs")
    result = pybpfc_cli("check", "--load", DENY_TTL)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{DENY_TTL}: ok (1 program)"
    assert lines[1].startswith("deny_ttl: cgroup/setsockopt: the verifier accepted it, ")
    assert lines[1].endswith(" instructions verified")
    assert result.stderr == ""


@pytest.mark.kernel
def test_check_load_explains_a_refusal_and_goes_on_to_the_others(two_hooks: Path,
                                                                  tmp_path: Path) -> None:
    require_root("loading programs")
    result = pybpfc_cli("check", "--load", "two.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith("fine: cgroup/sock_create: the verifier "
                                                    "accepted it")
    err = result.stderr.splitlines()
    assert err[0] == "pybpfc check: error: program 'wait': the verifier rejected it " \
                     "(Invalid argument (EINVAL))"
    assert err[1] == "two.py:11:11: error: this loop can never end"
    assert err[2:4] == ["        while ctx.file_pos < 10:", "              ^"]
    assert err[-1].startswith("  (the full verifier log has ")
    assert err[-1].endswith(" lines; --verifier-log FILE keeps it)")
    assert "Traceback" not in result.stderr


@pytest.mark.kernel
def test_verifier_log_holds_every_programs_log(two_hooks: Path, tmp_path: Path) -> None:
    require_root("loading programs")
    log = tmp_path / "verifier.log"
    result = pybpfc_cli("check", "--load", two_hooks, "--verifier-log", log)
    assert result.returncode == 1
    first, second = log.read_text().split("# program 'wait'")
    assert first.startswith("# program 'fine' (cgroup/sock_create): the verifier accepted it\n")
    assert "processed " in first
    header, refused_log = second.split("\n", 1)
    assert header == " (cgroup/sysctl): the verifier rejected it"
    assert "infinite loop detected at insn" in refused_log
    assert result.stderr.splitlines()[-1] == \
        f"  (the full verifier log, {refused_log.count(chr(10))} lines, is in {log})"


@pytest.mark.kernel
@pytest.mark.parametrize("command", ["load", "run"])
def test_load_and_run_write_the_log_of_a_refusal(command: str, tmp_path: Path) -> None:
    require_root("loading programs")
    log = tmp_path / "verifier.log"
    program = REFUSALS / "infinite_loop.py"
    # run's options come before the program: what follows it is the command.
    result = pybpfc_cli(command, "--verifier-log", log, program,
                        *(["--", "true"] if command == "run" else []))
    assert result.returncode == 1
    assert result.stderr.startswith(f"pybpfc {command}: error: program 'wait': the verifier "
                                    "rejected it")
    assert ": error: this loop can never end" in result.stderr
    logged = log.read_text()
    assert logged.startswith("# program 'wait' (cgroup/sysctl): the verifier rejected it\n")
    assert result.stderr.rstrip().endswith(
        f"(the full verifier log, {logged.count(chr(10)) - 1} lines, is in {log})")


@pytest.mark.kernel
def test_load_and_run_write_the_logs_of_accepted_programs(tmp_path: Path) -> None:
    require_root("loading programs")
    for command in ("load", "run"):
        log = tmp_path / f"{command}.log"
        extra = ["--", sys.executable, "-c", "pass"] if command == "run" else []
        result = pybpfc_cli(command, "--verifier-log", log, DENY_TTL, *extra)
        assert result.returncode == 0, result.stderr
        text = log.read_text()
        assert text.startswith("# program 'deny_ttl' (cgroup/setsockopt): the verifier "
                               "accepted it\n")
        assert "processed " in text


@pytest.mark.kernel
def test_a_log_that_cannot_be_written_is_said(tmp_path: Path) -> None:
    require_root("loading programs")
    result = pybpfc_cli("check", "--load", DENY_TTL, "--verifier-log", tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"{tmp_path}: error: cannot write the verifier log: Is a directory\n"


def test_objdump_load_goes_with_html() -> None:
    result = pybpfc_cli("objdump", "--load", DENY_TTL)
    assert result.returncode == 1
    assert result.stderr == ("pybpfc objdump: error: --load goes with --html (the page shows "
                             "what the verifier knew)\n")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.kernel
def test_verify_gives_each_programs_verdict_and_keeps_nothing_open(two_hooks: Path) -> None:
    require_root("loading programs")
    elf = compile_source(Source(str(two_hooks), two_hooks.read_text())).elf
    before = open_fds()
    fine, wait = verify(elf, states=True)
    assert open_fds() == before
    assert fine.accepted and fine.verified_insns and fine.verified_insns > 0
    assert fine.log_level == 2 and "0: R1=ctx() R10=fp0" in fine.log
    assert not wait.accepted and wait.error is not None
    assert wait.log_level == 1 and "infinite loop detected" in wait.log
    explanation = wait.error.explanation
    assert explanation is not None and explanation.refusal is not None
    assert explanation.refusal.key == "infinite-loop"
