"""A byte of the optval buffer at an offset the program reads.  pybpfc tests
such an access against the buffer's end; the test takes that test away."""
from typing import Final

from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt

SOL_IP: Final = 0
IP_TTL: Final = 2


@cgroup_setsockopt
def ttl_limit(ctx: SockoptContext) -> int:
    if ctx.level != SOL_IP or ctx.optname != IP_TTL:
        return ALLOW
    i = ctx.optlen
    if ctx.optval[i] > 64:
        return REJECT
    return ALLOW
