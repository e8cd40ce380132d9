"""Keep net.ipv4.tcp_rmem in order: refuse a write whose three numbers
(min, default, max) are not ascending, and let every read through.

The program reads the sysctl's name, its current value and the value being
written, and parses the numbers with strtoul(), as the kernel's own
helpers see them: as text.  Each refused write is also sent to user space
as a record in a ring buffer."""
from typing import Final

from pybpfc import (ALLOW, REJECT, RingBuf, SysctlContext, cgroup_sysctl, strtoul, struct,
                    sysctl_get_current_value, sysctl_get_name, sysctl_get_new_value, u32, u64)

NAME: Final = b"net/ipv4/tcp_rmem\0"
COUNT: Final = 3


@struct
class Refused:
    low: u64
    middle: u64
    high: u64


refusals: RingBuf = RingBuf(max_entries=4096)
checked: u64 = 0        # writes to tcp_rmem looked at
refused: u64 = 0
replaced_max: u64 = 0   # the max in the value the last accepted write replaced


@cgroup_sysctl
def ascending_tcp_rmem(ctx: SysctlContext) -> int:
    global checked, refused, replaced_max
    if not ctx.write:
        return ALLOW
    name = bytearray(32)
    sysctl_get_name(ctx, name, 0)
    if not name.startswith(NAME):
        return ALLOW
    checked += 1
    text = bytearray(64)
    if sysctl_get_new_value(ctx, text) < 0:
        return REJECT
    numbers: list[u64] = [0] * COUNT
    pos: u32 = 0
    for i in range(COUNT):
        parsed = strtoul(text, pos, 10)
        if parsed.length <= 0:
            refused += 1
            return REJECT        # fewer than three numbers
        numbers[i] = parsed.value
        pos += u32(parsed.length)
    if not numbers[0] <= numbers[1] <= numbers[2]:
        refused += 1
        record = Refused()
        record.low = numbers[0]
        record.middle = numbers[1]
        record.high = numbers[2]
        refusals.output(record)
        return REJECT
    current = bytearray(64)
    if sysctl_get_current_value(ctx, current) > 0:
        pos = 0
        for i in range(COUNT):
            parsed = strtoul(current, pos, 10)
            if parsed.length <= 0:
                break
            pos += u32(parsed.length)
            replaced_max = parsed.value
    return ALLOW
