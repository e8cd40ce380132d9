"""Lesson 1: a hook that counts the sockets its cgroup's processes create."""
from pybpfc import ALLOW, SockContext, cgroup_sock_create, u64

sockets: u64 = 0    # a global: it lives in the kernel, between runs of the hook


@cgroup_sock_create
def count_sockets(ctx: SockContext) -> int:
    global sockets
    sockets += 1
    return ALLOW    # the process gets its socket
