"""Check writes to net.ipv4.ip_local_reserved_ports: a list of ports and
ranges such as "8080,9000-9010".  Every port must be at least FLOOR and
every range ascending, at most MAX_ITEMS items, at most MAX_PORTS ports
in all.  Reads go through.

The items are parsed in a loop: one strtoul() per number, continuing where
the last stopped, and a look at the character after it (',' or '-').
reserved_ports keeps the number of ports of the last accepted write."""
from typing import Final

from pybpfc import (ALLOW, REJECT, SysctlContext, cgroup_sysctl, strtoul, sysctl_get_name,
                    sysctl_get_new_value, u32, u64)

NAME: Final = b"ip_local_reserved_ports\0"   # the base name (flag 1)
BASE_NAME: Final = 1
FLOOR: Final[u64] = 1024
TOP: Final[u64] = 65535
MAX_ITEMS: Final = 6
MAX_PORTS: Final[u64] = 4096
COMMA: Final = 0x2C
DASH: Final = 0x2D

reserved_ports: u64 = 0
refused: u64 = 0


@cgroup_sysctl
def check_reserved_ports(ctx: SysctlContext) -> int:
    global reserved_ports, refused
    if not ctx.write:
        return ALLOW
    name = bytearray(32)
    if sysctl_get_name(ctx, name, BASE_NAME) <= 0 or not name.startswith(NAME):
        return ALLOW
    text = bytearray(64)
    size = sysctl_get_new_value(ctx, text)
    if size <= 0:
        refused += 1
        return REJECT
    ports: u64 = 0
    pos: u32 = 0
    for item in range(MAX_ITEMS):
        low = strtoul(text, pos, 10)
        if low.length <= 0:
            break                    # the end of the list (or nothing at all)
        pos += u32(low.length)
        high_value = low.value
        if text[pos] == DASH:
            high = strtoul(text, pos + 1, 10)
            if high.length <= 0:
                refused += 1
                return REJECT        # "8080-"
            pos += 1 + u32(high.length)
            high_value = high.value
        if low.value < FLOOR or high_value > TOP or high_value < low.value:
            refused += 1
            return REJECT
        ports += high_value - low.value + 1
        if text[pos] != COMMA:
            break
        pos += 1
    if ports == 0 or ports > MAX_PORTS or pos < u32(size) and text[pos] > 0x20:
        refused += 1
        return REJECT                # empty, too many, or something left over
    reserved_ports = ports
    return ALLOW
