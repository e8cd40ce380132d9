# expect: 7:5 hook 'h' needs 536 bytes of stack
from pybpfc import ALLOW, HashMap, SysctlContext, cgroup_sysctl, sysctl_get_name, u32, u64
counts: HashMap[u32, u64] = HashMap(max_entries=4)


@cgroup_sysctl
def h(ctx: SysctlContext) -> int:
    buf = bytearray(504)             # fits; with the two keys and values
    n = sysctl_get_name(ctx, buf, 0)  # handed to the kernel by address,
    counts.update(1, 2)              # the stack does not
    counts.update(3, u64(n))
    return ALLOW
