"""The benchmarked programs: one row per example.

Adding an example to the benchmark takes one row here, its C twin in
benchmarks/c/ (same logic, same globals and maps, same program names and
sections) and, when no existing scenario exercises its hook, one scenario
in scenarios.py.  tests/test_bench_twins.py checks that both compilers'
objects behave the same in the kernel for every row.

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

from . import scenarios
from .scenarios import Scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
C_DIR = Path(__file__).resolve().parent / "c"


@dataclass(frozen=True)
class Twin:
    name: str                      # the example's file stem, also its C twin's
    programs: Union[str, tuple[str, ...]]   # hook functions, the same names in both
    scenario: Scenario

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
        return REPO_ROOT / "examples" / f"{self.name}.py"

    @property
    def c_source(self) -> Path:
        return C_DIR / f"{self.name}.c"


REGISTRY: tuple[Twin, ...] = (
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
)


def by_name(name: str) -> Twin:
    for twin in REGISTRY:
        if twin.name == name:
            return twin
    raise KeyError(name)
