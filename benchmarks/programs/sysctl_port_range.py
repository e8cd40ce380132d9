"""Keep net.ipv4.ip_local_port_range sane: a write must hold exactly two
numbers, low and high, with FLOOR <= low < high <= 65535 and at least
MIN_PORTS ports between them.  Reads go through.

Three strtoul() calls walk the text, each from where the last stopped;
the third must find nothing (a third number is refused).  The last
accepted range is kept in globals."""
from typing import Final

from pybpfc import (ALLOW, REJECT, SysctlContext, cgroup_sysctl, strtoul, sysctl_get_name,
                    sysctl_get_new_value, u32, u64)

NAME: Final = b"ip_local_port_range\0"     # the base name (flag 1)
BASE_NAME: Final = 1
FLOOR: Final[u64] = 1024
TOP: Final[u64] = 65535
MIN_PORTS: Final[u64] = 1000

accepted_low: u64 = 0
accepted_high: u64 = 0
refused: u64 = 0


@cgroup_sysctl
def port_range(ctx: SysctlContext) -> int:
    global accepted_low, accepted_high, refused
    if not ctx.write:
        return ALLOW
    name = bytearray(24)
    if sysctl_get_name(ctx, name, BASE_NAME) <= 0 or not name.startswith(NAME):
        return ALLOW
    text = bytearray(32)
    if sysctl_get_new_value(ctx, text) <= 0:
        refused += 1
        return REJECT
    low = strtoul(text, 0, 10)
    if low.length <= 0:
        refused += 1
        return REJECT
    pos = u32(low.length)
    high = strtoul(text, pos, 10)
    if high.length <= 0:
        refused += 1
        return REJECT
    pos += u32(high.length)
    extra = strtoul(text, pos, 10)
    if extra.length > 0 or low.value < FLOOR or high.value > TOP \
            or high.value < low.value + MIN_PORTS:
        refused += 1
        return REJECT
    accepted_low = low.value
    accepted_high = high.value
    return ALLOW
