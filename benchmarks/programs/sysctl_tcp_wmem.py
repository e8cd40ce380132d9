"""Guard net.ipv4.tcp_wmem (min, default, max send buffer): a write must
hold three ascending numbers, a default of at least MIN_DEFAULT, and a max
at most GROWTH times the current max, so a task cannot raise the limit
in one jump.  The new value and the current one are each parsed with
strtoul() calls that continue where the last stopped.

outcomes counts the writes by verdict; `last` keeps the last accepted
value and the one it replaced."""
from typing import Final

from pybpfc import (ALLOW, REJECT, SysctlContext, cgroup_sysctl, strtoul, struct,
                    sysctl_get_current_value, sysctl_get_name, sysctl_get_new_value, u32, u64)

NAME: Final = b"tcp_wmem\0"        # the base name (flag 1)
BASE_NAME: Final = 1
MIN_DEFAULT: Final[u64] = 4096
GROWTH: Final[u64] = 4
ACCEPTED: Final = 0
MALFORMED: Final = 1
DISORDERED: Final = 2
TOO_LARGE: Final = 3


@struct
class Change:
    new_min: u64
    new_default: u64
    new_max: u64
    old_max: u64


outcomes: list[u64] = [0] * 4
last: Change = Change()


@cgroup_sysctl
def guard_tcp_wmem(ctx: SysctlContext) -> int:
    if not ctx.write:
        return ALLOW
    name = bytearray(16)
    if sysctl_get_name(ctx, name, BASE_NAME) <= 0 or not name.startswith(NAME):
        return ALLOW
    text = bytearray(48)
    if sysctl_get_new_value(ctx, text) <= 0:
        outcomes[MALFORMED] += 1
        return REJECT
    first = strtoul(text, 0, 10)
    second = strtoul(text, u32(first.length), 10)
    third = strtoul(text, u32(first.length) + u32(second.length), 10)
    if first.length <= 0 or second.length <= 0 or third.length <= 0:
        outcomes[MALFORMED] += 1
        return REJECT
    if not first.value <= second.value <= third.value or second.value < MIN_DEFAULT:
        outcomes[DISORDERED] += 1
        return REJECT
    current = bytearray(48)
    if sysctl_get_current_value(ctx, current) <= 0:
        outcomes[MALFORMED] += 1
        return REJECT
    pos: u32 = 0
    old_max: u64 = 0
    for i in range(3):
        parsed = strtoul(current, pos, 10)
        if parsed.length <= 0:
            outcomes[MALFORMED] += 1
            return REJECT
        pos += u32(parsed.length)
        old_max = parsed.value
    if third.value > old_max * GROWTH:
        outcomes[TOO_LARGE] += 1
        return REJECT
    outcomes[ACCEPTED] += 1
    last.new_min = first.value
    last.new_default = second.value
    last.new_max = third.value
    last.old_max = old_max
    return ALLOW
