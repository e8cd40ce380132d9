"""The benchmarked programs: one row per example in examples/, and one per
benchmark-only program in benchmarks/programs/ (jobs written from the
kernel's documentation, apart from the examples, in the patterns where
pybpfc's code was found furthest behind clang's).

Adding a program to the benchmark takes one row here, its C twin in
benchmarks/c/ (same logic, same globals and maps, same program names and
sections) and, when no existing scenario exercises its hook, one scenario
in scenarios.py.  tests/kernel/test_bench_twins.py checks that both
compilers' objects behave the same in the kernel for every row.

A row names every program of its example (``programs``; a plain string is
one program).  They work together (sockopt_custom's getsockopt hands back
what its setsockopt stored, udp_one_at_a_time's sock_release gives back
the place its sock_create took), so the probe and the timed loop run with
all of them attached; the instruction counts are reported per program, one
line each.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

from . import scenarios, tracing_scenarios
from .scenarios import Scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = REPO_ROOT / "examples"
PROGRAMS_DIR = Path(__file__).resolve().parent / "programs"
C_DIR = Path(__file__).resolve().parent / "c"


@dataclass(frozen=True)
class Twin:
    name: str                      # the program's file stem, also its C twin's
    programs: Union[str, tuple[str, ...]]   # hook functions, the same names in both
    scenario: Scenario
    folder: Path = EXAMPLES_DIR    # where the Python program is
    c_dir: Path = C_DIR            # where its C twin is

    def __post_init__(self) -> None:
        if isinstance(self.programs, str):
            object.__setattr__(self, "programs", (self.programs,))

    @property
    def program(self) -> str:
        """The one program of a single-program row (socket filters)."""
        assert len(self.programs) == 1, self.programs
        return self.programs[0]

    @property
    def source(self) -> Path:
        return self.folder / f"{self.name}.py"

    @property
    def c_source(self) -> Path:
        return self.c_dir / f"{self.name}.c"


EXAMPLE_TWINS: tuple[Twin, ...] = (
    Twin("deny_ttl", "deny_ttl", scenarios.SETSOCKOPT),
    Twin("getsockopt_freebind", "report_freebind", scenarios.GETSOCKOPT),
    Twin("sock_create_mark", "mark_sockets", scenarios.SOCK_CREATE),
    Twin("sock_release_count", "count_release", scenarios.SOCK_RELEASE),
    Twin("post_bind4_ports", "reserved_ports", scenarios.POST_BIND4),
    Twin("post_bind6_ports", "odd_ports", scenarios.POST_BIND6),
    Twin("sysctl_guard", "guard", scenarios.SYSCTL_GUARD),
    Twin("sysctl_by_name", "hide_ip_forward", scenarios.SYSCTL_BY_NAME),
    Twin("count_bytes", "count_bytes", scenarios.SOCKET_FILTER),
    Twin("sockopt_custom", ("set_option", "get_option"), scenarios.SOCKOPT_CUSTOM),
    Twin("sysctl_ascending", "ascending_tcp_rmem", scenarios.SYSCTL_ASCENDING),
    Twin("udp_one_at_a_time", ("one_udp_socket", "udp_socket_closed"),
         scenarios.UDP_ONE_AT_A_TIME),
    Twin("count_protocols", "count_protocols", scenarios.PACKET_SOCKET),
    Twin("getsockopt_chain", "stack_layers", scenarios.GETSOCKOPT_CHAIN),
    # sock_addr hooks
    Twin("refuse_smtp", ("no_smtp4", "no_smtp6"), scenarios.REFUSE_SMTP),
    Twin("connect_proxy", ("to_proxy4", "as_asked4", "to_proxy6", "as_asked6"),
         scenarios.CONNECT_PROXY),
    Twin("bind_allowlist", ("privileged_ports4", "privileged_ports6"),
         scenarios.BIND_ALLOWLIST),
    Twin("udp_source", ("choose_source4", "count6"), scenarios.UDP_SOURCE),
    Twin("socket_calls_audit", ("recvmsg4", "recvmsg6", "getsockname4", "getsockname6",
                                "connect_unix", "sendmsg_unix", "recvmsg_unix",
                                "getpeername_unix", "getsockname_unix"),
         scenarios.SOCKET_CALLS),
    # device and TCP-event cgroup hooks (issue 14 part B)
    Twin("device_allowlist", "device_allowlist", scenarios.DEVICE),
    Twin("tcp_tuning", "tcp_tuning", scenarios.TCP_TUNING),
    # tracing hooks, attached machine-wide
    Twin("opensnoop", ("enter_openat", "exit_openat"), tracing_scenarios.OPENSNOOP),
    Twin("execsnoop", "on_exec", tracing_scenarios.EXECSNOOP),
    Twin("syscount", "count", tracing_scenarios.SYSCOUNT),
    Twin("exec_pids", "on_exec", tracing_scenarios.EXEC_PIDS),
    Twin("exec_parents", "on_exec", tracing_scenarios.EXEC_PARENTS),
    Twin("readlat", ("enter_read", "exit_read"), tracing_scenarios.READLAT),
    Twin("libc_calls", ("enter_getenv", "exit_getenv"), tracing_scenarios.LIBC_CALLS),
    Twin("profile", "sample", tracing_scenarios.PROFILE),
    Twin("profile_stacks", "sample", tracing_scenarios.PROFILE_STACKS),
    # packet hooks, run through BPF_PROG_TEST_RUN
    Twin("xdp_drop_udp_port", "drop_udp_port", scenarios.TEST_RUN),
    Twin("xdp_count_protocols", "count_protocols", scenarios.TEST_RUN),
    Twin("xdp_block_prefixes", "block_prefixes", scenarios.TEST_RUN_BLOCKED),
    Twin("tc_set_dscp", "set_dscp", scenarios.TEST_RUN),
    Twin("cgroup_skb_loopback_only", ("loopback_only", "count_received"), scenarios.TEST_RUN),
    Twin("xdp_load_balancer", "balance", scenarios.TEST_RUN_BACKENDS),
    Twin("xdp_redirect_ports", "redirect_ports", scenarios.TEST_RUN),
)

def benchmark_only(name: str, programs: Union[str, tuple[str, ...]], scenario: Scenario) -> Twin:
    return Twin(name, programs, scenario, folder=PROGRAMS_DIR)


# Socket storage fetched or created, then several optval reads and writes;
# several strtoul() calls over one sysctl value, each continuing where the
# last stopped; packet parsers with many skb_load_bytes() and header loads.
PROGRAM_TWINS: tuple[Twin, ...] = (
    benchmark_only("sockopt_option_cache", ("cache_option", "read_cache"),
                   scenarios.OPTION_CACHE),
    benchmark_only("sockopt_linger_clamp", "clamp_linger", scenarios.LINGER),
    benchmark_only("sockopt_buffer_budget", ("budget_buffers", "report_granted"),
                   scenarios.BUFFER_BUDGET),
    benchmark_only("getsockopt_tcp_info", "coarse_tcp_info", scenarios.TCP_INFO),
    benchmark_only("sysctl_port_range", "port_range", scenarios.PORT_RANGE),
    benchmark_only("sysctl_tcp_wmem", "guard_tcp_wmem", scenarios.TCP_WMEM),
    benchmark_only("sysctl_rmem_ceiling", "rmem_ceiling", scenarios.RMEM_CEILING),
    benchmark_only("sysctl_reserved_ports", "check_reserved_ports",
                   scenarios.RESERVED_PORTS),
    benchmark_only("filter_udp_ports", "udp_ports", scenarios.PACKET_UDP),
    benchmark_only("filter_tcp_flags", "tcp_flags", scenarios.PACKET_TCP),
    benchmark_only("filter_ipv6_flows", "ipv6_flows", scenarios.PACKET_UDP6),
    benchmark_only("filter_dns_queries", "dns_queries", scenarios.PACKET_DNS),
)

REGISTRY: tuple[Twin, ...] = EXAMPLE_TWINS + PROGRAM_TWINS


def by_name(name: str) -> Twin:
    for twin in REGISTRY:
        if twin.name == name:
            return twin
    raise KeyError(name)
