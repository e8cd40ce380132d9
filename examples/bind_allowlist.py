"""Keep the ports below 1024 for the services meant to have them: in the
cgroup, bind() to a port below 1024 fails with EPERM unless `allowed`
lists the port, and a listed port may be bound even by a process without
CAP_NET_BIND_SERVICE."""
from typing import Final

from pybpfc import (ALLOW, ALLOW_PRIVILEGED_PORT, REJECT, HashMap, SockAddrContext,
                    cgroup_bind4, cgroup_bind6, ntohs, u8, u16, u32)

PRIVILEGED_BELOW: Final = 1024

# The ports that may be bound, host byte order (the value is unused).
allowed: HashMap[u32, u8] = HashMap(max_entries=256)


def privileged(port: u32) -> bool:
    return 0 < port < PRIVILEGED_BELOW


def listed(port: u32) -> bool:
    return allowed.lookup(port) is not None


@cgroup_bind4
def privileged_ports4(ctx: SockAddrContext) -> int:
    port = ntohs(u16(ctx.user_port))
    if not privileged(port):
        return ALLOW
    return ALLOW_PRIVILEGED_PORT if listed(port) else REJECT


@cgroup_bind6
def privileged_ports6(ctx: SockAddrContext) -> int:
    port = ntohs(u16(ctx.user_port))
    if not privileged(port):
        return ALLOW
    return ALLOW_PRIVILEGED_PORT if listed(port) else REJECT
