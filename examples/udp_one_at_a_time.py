"""Let the tasks of a cgroup hold one UDP socket at a time.

sock_create counts the UDP socket being created and marks it in its socket
storage; while one is open, creating a second fails with EPERM.
sock_release runs when a socket is closed: for a marked socket it gives
the place back.  The counters are globals and a per-cgroup struct that
user space reads."""
from typing import Final

from pybpfc import (ALLOW, REJECT, CgroupStorage, SockContext, SockStorage, atomic_add,
                    cgroup_sock_create, cgroup_sock_release, i64, struct, u32, u64)

SOCK_DGRAM: Final = 2
COUNTED: Final[u32] = 1


@struct
class UdpStats:
    created: u64
    refused: u64
    released: u64


in_use: i64 = 0                            # UDP sockets open right now
counted: SockStorage[u32] = SockStorage()  # COUNTED on the sockets in in_use
stats: CgroupStorage[UdpStats] = CgroupStorage()


@cgroup_sock_create
def one_udp_socket(ctx: SockContext) -> int:
    if ctx.type != SOCK_DGRAM:
        return ALLOW
    cgroup = stats.get()
    if atomic_add(in_use, 1) > 0:
        atomic_add(in_use, -1)             # one is open already
        atomic_add(cgroup.value.refused, 1)
        return REJECT
    mark = counted.get(ctx, create=True)
    if mark is None:
        atomic_add(in_use, -1)
        return REJECT
    mark.value = COUNTED
    atomic_add(cgroup.value.created, 1)
    return ALLOW


@cgroup_sock_release
def udp_socket_closed(ctx: SockContext) -> int:
    mark = counted.get(ctx)
    if mark is not None and mark.value == COUNTED:
        mark.value = 0
        atomic_add(in_use, -1)
        atomic_add(stats.get().value.released, 1)
    return ALLOW
