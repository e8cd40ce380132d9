# Issue 12: everyday Python a learner reaches for: `for c in buf`, enumerate(),
# `in` on a tuple of constants and on bytes, IntEnum members as constants,
# a bytearray handed to a helper inside a @struct.
from enum import IntEnum
from pybpfc import (ALLOW, REJECT, SockContext, SysctlContext, cgroup_sock_create,
                    cgroup_sysctl, struct, sysctl_get_name, u32)


class Proto(IntEnum):
    TCP = 6
    UDP = 17
    SCTP = 132


@struct
class Name:
    text: bytearray = bytearray(32)


slashes: u32 = 0
first_slash: u32 = 99
digits: u32 = 0


def count_slashes(name: Name) -> u32:
    n: u32 = 0
    for c in name.text:
        if c == 47:
            n += 1
    return n


@cgroup_sysctl
def names(ctx: SysctlContext) -> int:
    global slashes, first_slash, digits
    name = Name()
    sysctl_get_name(ctx, name.text, 0)
    slashes = count_slashes(name)
    for i, c in enumerate(name.text):
        if c == 47:
            first_slash = u32(i)
            break
    for c in name.text:
        if c in b"0123456789":
            digits += 1
    return ALLOW


@cgroup_sock_create
def protocols(ctx: SockContext) -> int:
    if ctx.protocol in (Proto.UDP, Proto.SCTP):
        return REJECT
    return ALLOW
