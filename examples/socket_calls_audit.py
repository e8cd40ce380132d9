"""Count the address calls the cgroup makes that no other example
watches: receiving UDP datagrams with their source, asking a socket's own
address, and every address call on Unix sockets."""
from typing import Final

from pybpfc import (ALLOW, ArrayMap, SockAddrContext, atomic_add, cgroup_connect_unix,
                    cgroup_getpeername_unix, cgroup_getsockname4, cgroup_getsockname6,
                    cgroup_getsockname_unix, cgroup_recvmsg4, cgroup_recvmsg6,
                    cgroup_recvmsg_unix, cgroup_sendmsg_unix, u32, u64)

# Indexes of `calls`.
RECVMSG4: Final = 0
RECVMSG6: Final = 1
GETSOCKNAME4: Final = 2
GETSOCKNAME6: Final = 3
CONNECT_UNIX: Final = 4
SENDMSG_UNIX: Final = 5
RECVMSG_UNIX: Final = 6
GETPEERNAME_UNIX: Final = 7
GETSOCKNAME_UNIX: Final = 8

calls: ArrayMap[u64] = ArrayMap(max_entries=9)


def count(which: u32) -> None:
    seen = calls.lookup(which)
    if seen is not None:
        atomic_add(seen.value, 1)


@cgroup_recvmsg4
def recvmsg4(ctx: SockAddrContext) -> int:
    count(RECVMSG4)
    return ALLOW


@cgroup_recvmsg6
def recvmsg6(ctx: SockAddrContext) -> int:
    count(RECVMSG6)
    return ALLOW


@cgroup_getsockname4
def getsockname4(ctx: SockAddrContext) -> int:
    count(GETSOCKNAME4)
    return ALLOW


@cgroup_getsockname6
def getsockname6(ctx: SockAddrContext) -> int:
    count(GETSOCKNAME6)
    return ALLOW


@cgroup_connect_unix
def connect_unix(ctx: SockAddrContext) -> int:
    count(CONNECT_UNIX)
    return ALLOW


@cgroup_sendmsg_unix
def sendmsg_unix(ctx: SockAddrContext) -> int:
    count(SENDMSG_UNIX)
    return ALLOW


@cgroup_recvmsg_unix
def recvmsg_unix(ctx: SockAddrContext) -> int:
    count(RECVMSG_UNIX)
    return ALLOW


@cgroup_getpeername_unix
def getpeername_unix(ctx: SockAddrContext) -> int:
    count(GETPEERNAME_UNIX)
    return ALLOW


@cgroup_getsockname_unix
def getsockname_unix(ctx: SockAddrContext) -> int:
    count(GETSOCKNAME_UNIX)
    return ALLOW
