"""Context fields read whole, as the hook allows.  The test makes one read
a single byte, and another read a field this hook may not read."""
from typing import Final

from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt

SOL_IP: Final = 0
IP_TTL: Final = 2


@cgroup_setsockopt
def deny_ttl(ctx: SockoptContext) -> int:
    if ctx.level == SOL_IP and ctx.optname == IP_TTL:
        return REJECT
    return ALLOW
