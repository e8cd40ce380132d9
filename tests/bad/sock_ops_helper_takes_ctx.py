# expect: 8:25 setsockopt() takes the socket, ctx, here
from pybpfc import ALLOW, SockOpsContext, setsockopt, sock_ops


@sock_ops
def f(ctx: SockOpsContext) -> int:
    name = bytearray(b"reno")
    result = setsockopt(ctx.op, 6, 13, name)
    return ALLOW if result == 0 else ALLOW
