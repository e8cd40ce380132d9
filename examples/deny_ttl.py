"""Refuse setsockopt(IP_TTL) for every socket created in the cgroup.

Build it with `pybpfc build examples/deny_ttl.py`."""
from typing import Final

from pybpfc import ALLOW, PAGE_SIZE, REJECT, SockoptContext, cgroup_setsockopt, u64

SOL_IP: Final = 0   # <netinet/in.h>
IP_TTL: Final = 2

refused: u64 = 0    # how many calls were refused; a global the runtime can read


@cgroup_setsockopt
def deny_ttl(ctx: SockoptContext) -> int:
    global refused
    if ctx.level == SOL_IP and ctx.optname == IP_TTL:
        refused += 1
        return REJECT   # the caller gets EPERM
    if ctx.optlen > PAGE_SIZE:
        ctx.optlen = 0  # a value larger than a page: hand the caller's buffer through
    return ALLOW
