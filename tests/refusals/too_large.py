"""A loop with a constant bound, but so many rounds that following them all
is more than the verifier will do."""
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_get_current_value, u64

total: u64 = 0


@cgroup_sysctl
def add_bytes(ctx: SysctlContext) -> int:
    global total
    text = bytearray(64)
    sysctl_get_current_value(ctx, text)
    for i in range(200000):
        total += text[i % 64]
    return ALLOW
