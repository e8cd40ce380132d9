# expect: 9:33 an offset is not supported
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    name = bytearray(16)
    sysctl_get_name(ctx, name, 0)
    if name.startswith(b"ipv4", ctx.file_pos):
        return REJECT
    return ALLOW
