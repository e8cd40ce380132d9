"""The sock_ops hook, compiled by pybpfc and attached to a temporary cgroup:
a forked child in that cgroup, in a network namespace of its own with
loopback up, makes a TCP connection to its own listener and exchanges
data (the benchmark's probe); the test asserts the congestion control
the kernel reports for both ends and the callbacks the program counted."""
from __future__ import annotations

from pathlib import Path

from benchmarks.scenarios import probe_tcp_tuning
from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from tests.support import REPO_ROOT, Attached, require_kernel_feature, run_in_cgroup

EXAMPLE = REPO_ROOT / "examples" / "tcp_tuning.py"
WANTED = "reno"


def test_established_connections_switch_to_reno_and_rtt_is_counted(
        cgroup: TemporaryCgroup) -> None:
    available = Path("/proc/sys/net/ipv4/tcp_available_congestion_control").read_text().split()
    require_kernel_feature("the reno congestion control", WANTED in available,
                           f"tcp_available_congestion_control is {available}")
    elf = compile_source(Source(str(EXAMPLE), EXAMPLE.read_text())).elf
    with Attached(elf, cgroup) as attached:
        default, client, server = run_in_cgroup(cgroup.path, probe_tcp_tuning)
        assert default != WANTED       # or the test would prove nothing
        assert (client, server) == (WANTED, WANTED)
        assert attached.globals["tuning_error"] == 0
        calls = dict(attached.maps["calls"].items())
        kernel = abi.kernel
        assert calls[kernel.BPF_SOCK_OPS_TCP_CONNECT_CB] == 1
        assert calls[kernel.BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB] == 1
        assert calls[kernel.BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB] == 1
        assert calls[kernel.BPF_SOCK_OPS_RTT_CB] > 0
    # Detached: a new connection keeps the namespace's default.
    default, client, server = run_in_cgroup(cgroup.path, probe_tcp_tuning)
    assert (client, server) == (default, default)


READER = """\
from pybpfc import (ALLOW, BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, SockOpsContext, sock_ops, u32,
                    u64)

family: u32 = 0
remote_port: u32 = 0
local_port: u32 = 0
remote_ip4: u32 = 0
state: u32 = 0
is_fullsock: u32 = 0
snd_cwnd: u32 = 0
bytes_acked: u64 = 0
first_arg: u32 = 7


@sock_ops
def read(ctx: SockOpsContext) -> int:
    global family, remote_port, local_port, remote_ip4, state, is_fullsock, snd_cwnd
    global bytes_acked, first_arg
    if ctx.op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
        family = ctx.family
        remote_port = ctx.remote_port
        local_port = ctx.local_port
        remote_ip4 = ctx.remote_ip4
        state = ctx.state
        is_fullsock = ctx.is_fullsock
        snd_cwnd = ctx.snd_cwnd
        bytes_acked = ctx.bytes_acked
        first_arg = ctx.args[0]
    return ALLOW
"""


def test_fields_describe_the_connection(cgroup: TemporaryCgroup) -> None:
    import socket
    with Attached(compile_source(Source("read.py", READER)).elf, cgroup) as attached:
        run_in_cgroup(cgroup.path, probe_tcp_tuning)
        seen = {name: attached.globals[name] for name in (
            "family", "remote_ip4", "state", "is_fullsock", "first_arg")}
        assert seen == {"family": socket.AF_INET,
                        "remote_ip4": int.from_bytes(socket.inet_aton("127.0.0.1"), "little"),
                        "state": abi.kernel.BPF_TCP_ESTABLISHED, "is_fullsock": 1,
                        "first_arg": 0}
        # The client's end: an ephemeral local port (host order), the
        # listener's port as the remote one (network order, as the kernel keeps it).
        assert 1024 <= attached.globals["local_port"] <= 65535
        assert attached.globals["remote_port"] != 0
        assert attached.globals["snd_cwnd"] > 0
        assert attached.globals["bytes_acked"] == 1      # the SYN
