# expect: 4:39 a RingBuf's size must be a power of 2 and a multiple of 4096 bytes
from pybpfc import ALLOW, RingBuf, SockContext, cgroup_sock_create

events: RingBuf = RingBuf(max_entries=6000)


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    return ALLOW
