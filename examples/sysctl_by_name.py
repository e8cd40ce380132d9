"""Refuse reads of one sysctl, found by its name, and count the rest."""
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name, u64

allowed: u64 = 0
refused: u64 = 0


@cgroup_sysctl
def hide_ip_forward(ctx: SysctlContext) -> int:
    global allowed, refused
    name = bytearray(32)
    length = sysctl_get_name(ctx, name, 0)   # the full name, e.g. "net/ipv4/ip_forward"
    if length > 0 and name.startswith(b"net/ipv4/ip_forward\0"):
        refused += 1
        return REJECT
    allowed += 1
    return ALLOW
