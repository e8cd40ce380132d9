"""A kernel helper the hook may call; the test calls bpf_getsockopt in its
place, which a sysctl hook may not (pybpfc refuses that at compile time)."""
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_get_current_value


@cgroup_sysctl
def read_value(ctx: SysctlContext) -> int:
    text = bytearray(16)
    sysctl_get_current_value(ctx, text)
    return ALLOW
