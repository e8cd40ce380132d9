# Fuzzer finding: a run-time length whose low bits the verifier knows to be
# clear (a shift) was clamped to 1 .. size from both sides; on a path the
# verifier could not rule out, those bits and the range contradicted each
# other, and the length it tracked collapsed to 0, which it refuses.
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, get_current_uid_gid, sysctl_set_new_value
@cgroup_sysctl
def h(ctx: SysctlContext) -> int:
    buf = bytearray(57)
    n = sysctl_set_new_value(ctx, buf, max(get_current_uid_gid() << 14, 1))
    m = sysctl_set_new_value(ctx, buf, get_current_uid_gid() << 14)
    return ALLOW
