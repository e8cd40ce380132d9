"""Lesson 7: print a line for every socket created in the cgroup."""
from pybpfc import ALLOW, SockContext, cgroup_sock_create


@cgroup_sock_create
def show_sockets(ctx: SockContext) -> int:
    print("new socket: family", ctx.family, "type", ctx.type, "protocol", ctx.protocol)
    return ALLOW
