# expect: 9:8 a 20-byte prefix never starts a 8-byte bytearray, so this test is always False
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name


@cgroup_sysctl
def guard(ctx: SysctlContext) -> int:
    name = bytearray(8)
    sysctl_get_name(ctx, name, 0)
    if name.startswith(b"net/ipv4/ip_forward\0"):
        return REJECT
    return ALLOW
