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

from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.source import read_source
from pybpfc.compiler.tracepoint_btf import btf_context
from pybpfc.compiler.tracepoint_format import TracepointUnknown
from pybpfc.runtime.kernel_btf import vmlinux_btf

from pybpfc.runtime.packet_build import ipv4_checksum_ok, l4_checksum_ok, udp4_frame
from tests.doc_commands import console_blocks, matches
from tests.support import REPO_ROOT, require_root

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


# Tracepoint examples: their context is the kernel's format file in
# tracefs, which only root may read here; for nobody it comes from the
# kernel's BTF, which knows sched_process_exec but not the arguments of
# openat and read on a kernel that inlined their definitions away: there
# nobody gets one clear refusal.  The other tracing examples simulate as
# anyone (tests below).
TRACEPOINT = {"execsnoop", "opensnoop", "readlat"}
TRACEPOINT_EXAMPLES = [p for p in EXAMPLES if p.stem in TRACEPOINT]
SIMULATED = [p for p in EXAMPLES if p.stem not in TRACEPOINT]
# The tracepoints each one names.
TRACEPOINTS = {"execsnoop": [("sched", "sched_process_exec")],
               "opensnoop": [("syscalls", "sys_enter_openat"), ("syscalls", "sys_exit_openat")],
               "readlat": [("syscalls", "sys_enter_read"), ("syscalls", "sys_exit_read")]}


def nobody_reads_tracefs() -> bool:
    """Whether user nobody may read the tracepoints' format files."""
    code = ("import os, sys; sys.exit(0 if any(os.access(d + '/events', os.R_OK | os.X_OK) "
            "for d in ('/sys/kernel/tracing', '/sys/kernel/debug/tracing')) else 1)")
    return subprocess.run([python(), "-c", code], preexec_fn=as_nobody).returncode == 0


def btf_knows(example: str) -> bool:
    """Whether the kernel's BTF gives the contexts of all the example's
    tracepoints."""
    try:
        for category, name in TRACEPOINTS[example]:
            btf_context(category, name)
    except TracepointUnknown:
        return False
    return True


def test_btf_gives_execsnoops_context() -> None:
    assert btf_knows("execsnoop")


@pytest.mark.parametrize("path", TRACEPOINT_EXAMPLES, ids=[p.stem for p in TRACEPOINT_EXAMPLES])
def test_tracepoint_examples_as_nobody(path: Path) -> None:
    hook = hooks_of(path)[0]
    done = simulate(str(path.relative_to(REPO_ROOT)), hook)
    if nobody_reads_tracefs() or btf_knows(path.stem):
        assert done.returncode == 0 and f"{hook}: returned 0" in done.stdout, done.stderr
        assert "internal error" not in done.stderr
        if path.stem == "execsnoop":
            # the default exec record's comm lands in the map
            assert "execs: {0: " in done.stdout and "python3" in done.stdout, done.stdout
        return
    assert done.returncode == 1, done.stderr
    assert ("tracefs is not mounted, so the tracepoint's fields cannot be read" in done.stderr
            or "is readable only by root, so the tracepoint's fields cannot be read"
            in done.stderr), done.stderr
    assert "internal error" not in done.stderr and done.stdout == ""


def built_as_nobody(path: Path) -> bytes:
    """The object of ``path`` compiled in a child running as nobody (this
    process's modules, so nobody needs no llvmlite of its own)."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:      # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            as_nobody()
            vmlinux_btf.cache_clear()     # read again, as nobody
            out = b"ok" + compile_source(read_source(path)).elf
        except BaseException as err:      # noqa: BLE001 - handed to the parent
            out = f"failed: {type(err).__name__}: {err}".encode()
        with os.fdopen(write, "wb") as pipe:
            pipe.write(out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        got = pipe.read()
    assert os.waitpid(child, 0)[1] == 0
    assert got.startswith(b"ok"), got.decode(errors="replace")
    return got[2:]


# The examples whose tracepoints the kernel's BTF describes (the others
# are refused as nobody, test_tracepoint_examples_as_nobody).
BTF_KNOWN = sorted(e for e in TRACEPOINT if btf_knows(e))


@pytest.mark.parametrize("example", BTF_KNOWN)
def test_a_tracepoint_program_built_as_nobody_is_the_one_root_builds(example: str) -> None:
    """Root reads the format file, nobody the kernel's BTF: same object."""
    require_root("building as root and as nobody")
    path = REPO_ROOT / "examples" / f"{example}.py"
    as_root = compile_source(read_source(path)).elf
    assert built_as_nobody(path) == as_root


def test_the_tracepoint_examples_exist() -> None:
    assert {p.stem for p in TRACEPOINT_EXAMPLES} == TRACEPOINT


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


# ------------------------------------------------------------- packets

def simulated(*args: str) -> list[str]:
    done = simulate(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_xdp_drop_udp_port_drops_its_port_only() -> None:
    assert simulated("examples/xdp_drop_udp_port.py", "drop_udp_port",
                     "--packet", "udp4(dport=7777)") == [
        "drop_udp_port: returned 1 (XDP_DROP)", "  packet out: 47 bytes, unchanged"]
    assert simulated("examples/xdp_drop_udp_port.py", "drop_udp_port",
                     "--packet", "udp4(dport=53)")[0] == "drop_udp_port: returned 2 (XDP_PASS)"
    # Cut inside the UDP header: the header is None, the packet passes.
    frame = udp4_frame(dport=7777)[:38]
    assert simulated("examples/xdp_drop_udp_port.py", "drop_udp_port",
                     "--packet-hex", frame.hex())[0] == "drop_udp_port: returned 2 (XDP_PASS)"


def test_xdp_count_protocols_counts_ipv6_udp() -> None:
    lines = simulated("examples/xdp_count_protocols.py", "count_protocols",
                      "--packet", "udp6(payload='hi')")
    assert lines[0] == "count_protocols: returned 2 (XDP_PASS)"
    counted = 14 + 40 + 8 + 2
    assert any(line.startswith("  by_protocol: {") and
               f"17: [{{'packets': 1, 'bytes': {counted}}}, " in line for line in lines), lines


def test_xdp_load_balancer_rewrites_and_sends_back() -> None:
    """The backends are an array, whose elements always exist: with none
    set, the datagram goes to 0.0.0.0, its checksums right, back out."""
    frame = udp4_frame(dst="10.0.0.100", dport=80)
    lines = simulated("examples/xdp_load_balancer.py", "balance", "--packet",
                      "udp4(dst='10.0.0.100', dport=80)", "--trace")
    assert lines[-3:-1] == ["balance: returned 3 (XDP_TX)", "  packet out: 47 bytes, changed"]
    out = bytes.fromhex(lines[-1].strip())
    assert out[:6] == frame[6:12] and out[6:12] == frame[:6]
    assert out[30:34] == bytes(4) and ipv4_checksum_ok(out) and l4_checksum_ok(out)
    assert any("backend = backends.lookup(" in line for line in lines), lines


def test_xdp_block_prefixes_passes_what_no_prefix_blocks() -> None:
    assert simulated("examples/xdp_block_prefixes.py", "block_prefixes", "--packet",
                     "tcp4(src='10.1.2.3')")[0] == "block_prefixes: returned 2 (XDP_PASS)"


def test_xdp_redirect_ports_passes_what_no_device_takes() -> None:
    """The DevMap is empty: the slot's fallback action, XDP_PASS."""
    assert simulated("examples/xdp_redirect_ports.py", "redirect_ports", "--packet",
                     "udp4(dport=7002)") == ["redirect_ports: returned 2 (XDP_PASS)",
                                             "  packet out: 47 bytes, unchanged"]


def test_tc_set_dscp_rewrites_tos_and_checksum() -> None:
    frame = udp4_frame()
    lines = simulated("examples/tc_set_dscp.py", "set_dscp", "--packet", "udp4")
    assert lines[:2] == ["set_dscp: returned 0 (TC_ACT_OK)", "  packet out: 47 bytes, changed"]
    out = bytes.fromhex(lines[2].strip())
    assert out[15] == 46 << 2 and ipv4_checksum_ok(out)
    assert out[:15] + out[16:24] + out[26:] == frame[:15] + frame[16:24] + frame[26:]


def test_cgroup_skb_sees_the_packet_from_its_ip_header() -> None:
    assert simulated("examples/cgroup_skb_loopback_only.py", "loopback_only", "--packet",
                     "udp4(dst='127.0.0.1')") == [
        "loopback_only: returned 1 (ALLOW)", "  packet out: 33 bytes, unchanged"]
    assert simulated("examples/cgroup_skb_loopback_only.py", "loopback_only", "--packet",
                     "udp4(dst='10.0.0.2')") == [
        "loopback_only: returned 0 (DROP)", "  packet out: 33 bytes, unchanged",
        "  refused = 1"]


@pytest.mark.parametrize("args, message", [
    (["--packet", "udp5(dport=1)"], "--packet 'udp5(dport=1)': write KIND(NAME=VALUE, ...)"),
    (["--packet", "udp4(port=1)"], "unexpected keyword argument 'port'"),
    (["--packet-hex", "0g"], "pybpfc simulate: error: --packet-hex: 'g' is not a hex digit"),
    (["--packet", "udp4", "--packet-hex", "00"], "give one of --packet, --packet-hex and"),
])
def test_packet_mistakes_are_one_clear_message(args: list[str], message: str) -> None:
    done = simulate("examples/xdp_drop_udp_port.py", "drop_udp_port", *args)
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------- tracing

def test_syscount_counts_by_process_and_syscall() -> None:
    args = "args=" + str([0, 257] + [0] * 10)
    assert simulated("examples/syscount.py", "count", "--ctx", args, "--fake", "tgid=3") == [
        "count: returned 0", f"  calls: {{{3 << 32 | 257}: 1}}"]


def test_exec_pids_counts_the_old_pid() -> None:
    assert simulated("examples/exec_pids.py", "on_exec", "--ctx", "args=[0, 42, 0]") == [
        "on_exec: returned 0", "  execs: {42: 1}"]


def test_libc_calls_reads_the_name_from_user_memory() -> None:
    lines = simulated("examples/libc_calls.py", "enter_getenv", "--ctx", "arg1=0x7000",
                      "--memory", "0x7000=HOME", "--fake", "pid=7", "--fake", "tgid=9")
    assert lines[0] == "enter_getenv: returned 0"
    assert lines[1].startswith("  calling: {7: {'pid': 9, 'found': 0, 'name': b'HOME\\x00")
    # Without the memory, the read fails and the name stays zeros.
    lines = simulated("examples/libc_calls.py", "enter_getenv", "--ctx", "arg1=0x7000")
    assert "'name': b'\\x00\\x00" in lines[1], lines


def test_profile_tells_kernel_from_user_samples() -> None:
    assert simulated("examples/profile.py", "sample", "--ctx", "ip=0xffffffff81000000",
                     "--fake", "tgid=3") == ["sample: returned 0", "  samples: {7: 1}"]
    assert simulated("examples/profile.py", "sample", "--ctx", "ip=0x401000",
                     "--fake", "tgid=3") == ["sample: returned 0", "  samples: {6: 1}"]
