"""The benchmarked programs: one row per example.

Adding an example to the benchmark takes one row here, its C twin in
benchmarks/c/ (same logic, same globals and maps, same program name) and,
when no existing scenario exercises its hook, one scenario in
scenarios.py.  tests/test_bench_twins.py checks that both compilers'
objects behave the same in the kernel for every row.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import scenarios
from .scenarios import Scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
C_DIR = Path(__file__).resolve().parent / "c"


@dataclass(frozen=True)
class Twin:
    name: str              # the example's file stem, also its C twin's
    program: str           # the hook function's name, the same in both
    scenario: Scenario

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
)


def by_name(name: str) -> Twin:
    for twin in REGISTRY:
        if twin.name == name:
            return twin
    raise KeyError(name)
