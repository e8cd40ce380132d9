"""Refuse outgoing mail: connect() to an SMTP port (25, 465 or 587), over
IPv4 or IPv6, fails with EPERM for every process in the cgroup."""
from typing import Final

from pybpfc import (ALLOW, REJECT, SockAddrContext, cgroup_connect4, cgroup_connect6, htons,
                    u32, u64)

# The ports as connect() carries them: network byte order.
SMTP: Final = htons(25)
SUBMISSIONS: Final = htons(465)
SUBMISSION: Final = htons(587)

refused: u64 = 0


def mail_port(port: u32) -> bool:
    """Whether a port (network byte order) is one of SMTP's; counts them."""
    global refused
    if port == SMTP or port == SUBMISSIONS or port == SUBMISSION:
        refused += 1
        return True
    return False


@cgroup_connect4
def no_smtp4(ctx: SockAddrContext) -> int:
    return REJECT if mail_port(ctx.user_port) else ALLOW


@cgroup_connect6
def no_smtp6(ctx: SockAddrContext) -> int:
    return REJECT if mail_port(ctx.user_port) else ALLOW
