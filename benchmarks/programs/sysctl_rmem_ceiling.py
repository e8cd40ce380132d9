"""A ceiling on net.ipv4.tcp_rmem (min, default, max receive buffer): a
write must hold three numbers with min < default < max <= max_bytes,
where max_bytes is set by user space before loading.  The numbers are
parsed with consecutive strtoul() calls, each from where the last stopped;
the accepted ones are stored in an array map, indexes 0 to 2."""
from typing import Final

from pybpfc import (ALLOW, ArrayMap, REJECT, ReadOnly, SysctlContext, cgroup_sysctl, strtoul,
                    sysctl_get_name, sysctl_get_new_value, u32, u64)

NAME: Final = b"net/ipv4/tcp_rmem\0"   # the full name

max_bytes: ReadOnly[u64] = 1 << 25
accepted: ArrayMap[u64] = ArrayMap(max_entries=3)
writes: u64 = 0
refused: u64 = 0


@cgroup_sysctl
def rmem_ceiling(ctx: SysctlContext) -> int:
    global writes, refused
    if not ctx.write:
        return ALLOW
    name = bytearray(24)
    if sysctl_get_name(ctx, name, 0) <= 0 or not name.startswith(NAME):
        return ALLOW
    writes += 1
    text = bytearray(64)
    if sysctl_get_new_value(ctx, text) <= 0:
        refused += 1
        return REJECT
    pos: u32 = 0
    least = strtoul(text, pos, 10)
    pos += u32(least.length)
    usual = strtoul(text, pos, 10)
    pos += u32(usual.length)
    most = strtoul(text, pos, 10)
    if least.length <= 0 or usual.length <= 0 or most.length <= 0 \
            or not least.value < usual.value < most.value or most.value > max_bytes:
        refused += 1
        return REJECT
    accepted.update(0, least.value)
    accepted.update(1, usual.value)
    accepted.update(2, most.value)
    return ALLOW
