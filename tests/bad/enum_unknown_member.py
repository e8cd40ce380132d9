# expect: 13:30 Proto has no member 'ICMP'
from enum import IntEnum
from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_create


class Proto(IntEnum):
    TCP = 6
    UDP = 17


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    if ctx.protocol == Proto.ICMP:
        return REJECT
    return ALLOW
