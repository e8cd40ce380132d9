"""``pybpfc simulate`` as a learner runs it: as user nobody (when the tests
run as root), with no BPF privilege, on every example."""
from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pybpfc.compiler.driver import check_source
from pybpfc.compiler.source import read_source

from tests.doc_commands import console_blocks, matches
from tests.support import REPO_ROOT

NOBODY = 65534
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.py"))


def as_nobody() -> None:
    if os.getuid() == 0:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)


@functools.cache
def python() -> str:
    """A Python 3.11 or later that nobody may run: this one for a user, the
    system's for root (root's own may live where nobody can read)."""
    hooks_of(EXAMPLES[0])     # the parser's tables cached beside the modules, for nobody
    if os.getuid() != 0:
        return sys.executable
    found = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if found is not None:
        done = subprocess.run([found, "-c", "import sys; print(sys.version_info >= (3, 11))"],
                              capture_output=True, text=True, preexec_fn=as_nobody)
        if done.stdout.strip() == "True":
            return found
    pytest.fail("no python3 of 3.11 or later in /usr/local/bin, /usr/bin or /bin for user "
                "nobody to run pybpfc with")


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    """``pybpfc simulate ARGS`` as nobody, with pybpfc from this tree and
    nothing else of the test's environment."""
    return subprocess.run([python(), "-P", "-m", "pybpfc", "simulate", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, preexec_fn=as_nobody,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
                               "PYTHONPATH": str(REPO_ROOT)})


def test_simulate_runs_unprivileged() -> None:
    done = subprocess.run([python(), "-c", "import os; print(os.geteuid())"],
                          capture_output=True, text=True, preexec_fn=as_nobody)
    assert done.stdout.strip() == str(NOBODY if os.getuid() == 0 else os.getuid())


def hooks_of(path: Path) -> list[str]:
    return [f.name for f in check_source(read_source(path)).hooks]


# Examples of direct packet access (XDP, tc, cgroup_skb with ctx.header),
# which the simulator refuses by name until it simulates packets.
NOT_YET_SIMULATED = {"cgroup_skb_loopback_only", "tc_set_dscp", "xdp_block_prefixes",
                     "xdp_count_protocols", "xdp_drop_udp_port", "xdp_load_balancer",
                     "xdp_redirect_ports"}
# Tracing examples: not simulated either.  Those of tracepoints cannot even
# be compiled by nobody when tracefs is not mounted (their context is the
# kernel's format file), which is one clear error too.
TRACING = {"execsnoop", "exec_pids", "libc_calls", "opensnoop", "profile", "readlat",
           "syscount"}
TRACING_EXAMPLES = [p for p in EXAMPLES if p.stem in TRACING]
SIMULATED = [p for p in EXAMPLES if p.stem not in NOT_YET_SIMULATED | TRACING]
REFUSED = [p for p in EXAMPLES if p.stem in NOT_YET_SIMULATED]


def test_the_refused_examples_exist() -> None:
    assert {p.stem for p in REFUSED} == NOT_YET_SIMULATED


@pytest.mark.parametrize("path", REFUSED, ids=[p.stem for p in REFUSED])
def test_packet_examples_are_refused_by_name(path: Path) -> None:
    hooks = hooks_of(path)
    assert hooks
    for hook in hooks:
        done = simulate(str(path.relative_to(REPO_ROOT)), hook)
        assert done.returncode == 1, done.stderr
        assert f"hook '{hook}': @" in done.stderr, done.stderr
        assert "hooks are not yet simulated: their direct packet access (ctx.header)" \
            in done.stderr, done.stderr
        assert "internal error" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize("path", TRACING_EXAMPLES, ids=[p.stem for p in TRACING_EXAMPLES])
def test_tracing_examples_are_refused_with_one_clear_message(path: Path) -> None:
    done = simulate(str(path.relative_to(REPO_ROOT)), hooks_of(path)[0])
    assert done.returncode == 1, done.stderr
    assert ("hooks are not yet simulated: tracing programs" in done.stderr
            or "tracefs is not mounted, so the tracepoint's fields cannot be read"
            in done.stderr
            or "is readable only by root, so the tracepoint's fields cannot be read"
            in done.stderr), done.stderr
    assert "internal error" not in done.stderr and done.stdout == ""


def test_the_tracing_examples_exist() -> None:
    assert {p.stem for p in TRACING_EXAMPLES} == TRACING


@pytest.mark.parametrize("path", SIMULATED, ids=[p.stem for p in SIMULATED])
def test_every_example_runs_as_nobody(path: Path) -> None:
    for hook in hooks_of(path):
        done = simulate(str(path.relative_to(REPO_ROOT)), hook, "--trace")
        assert done.returncode == 0, done.stderr
        assert f"{hook}: returned " in done.stdout
        # The trace shows the hook's lines, the last one its return.
        steps = [line for line in done.stdout.splitlines() if " | " in line]
        assert steps and "return" in steps[-1], done.stdout


def test_the_verdict_and_what_changed() -> None:
    done = simulate("examples/sock_create_mark.py", "mark_sockets", "--ctx", "type=1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "mark_sockets: returned 1 (ALLOW)",
        "  ctx.mark = 42",
        "  ctx.priority = 6",
        "  counts = {'created': 1, 'refused': 0}",
        "  per_type = [0, 1, 0, 0, 0, 0, 0, 0]",
    ]


def test_trace_shows_each_line_with_its_values() -> None:
    done = simulate("examples/deny_ttl.py", "deny_ttl", "--ctx", "level=0", "--ctx", "optname=2",
                    "--trace")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.endswith("if ctx.level == SOL_IP and ctx.optname == IP_TTL   -> True")
               for line in lines), lines
    assert any(line.endswith("refused += 1   -> refused = 1") for line in lines), lines
    assert lines[-2:] == ["deny_ttl: returned 0 (REJECT)", "  refused = 1"]


def test_bytes_and_text_inputs() -> None:
    done = simulate("examples/sysctl_by_name.py", "hide_ip_forward",
                    "--ctx", "sysctl_name=net/ipv4/ip_forward")
    assert done.stdout.splitlines()[0] == "hide_ip_forward: returned 0 (REJECT)"
    done = simulate("examples/getsockopt_freebind.py", "report_freebind", "--ctx", "level=0",
                    "--ctx", "optname=15", "--ctx", r"optval=b'\0\0\0\0'", "--ctx", "retval=-1")
    assert done.returncode == 0, done.stderr
    assert "  ctx.optval = b\"\\x01\\x00\\x00\\x00\"" in done.stdout.splitlines()


@pytest.mark.parametrize("args, message", [
    (["examples/sock_create_mark.py", "mark_sockets", "--ctx", "src_port=1"],
     "pybpfc simulate: hook 'mark_sockets' (@cgroup_sock_create) cannot read or write "
     "SockContext.src_port; it takes bound_dev_if, family, type"),
    (["examples/sock_create_mark.py", "mark_sockets", "--ctx", "type=-1"],
     "mark_sockets' (@cgroup_sock_create): type is a u32 (0 .. 4294967295); -1 does not fit"),
    (["examples/sock_create_mark.py", "nosuch"],
     "pybpfc simulate: the program has no hook 'nosuch'; it has mark_sockets"),
    (["examples/sock_create_mark.py", "mark_sockets", "--ctx", "type"],
     "--ctx 'type': expected FIELD=VALUE"),
    (["tests/bad/unknown_name.py", "f"], "tests/bad/unknown_name.py:"),
])
def test_mistakes_are_one_clear_message(args: list[str], message: str) -> None:
    done = simulate(*args)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def page_commands() -> list[Any]:
    return [c for block in console_blocks(REPO_ROOT / "docs" / "simulate.md")
            for c in block.commands]


@pytest.mark.parametrize("command", page_commands(), ids=lambda c: f"line{c.line}")
def test_the_pages_commands_print_what_it_shows(command: Any) -> None:
    words = shlex.split(command.text)
    assert words[:2] == ["pybpfc", "simulate"], command.text
    done = simulate(*words[2:])
    assert matches(command.expected, (done.stdout + done.stderr).rstrip("\n")), \
        (command.expected, done.stdout, done.stderr)
