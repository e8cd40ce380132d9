"""A per-socket budget for socket buffers, and the sizes reported as asked.

setsockopt(SOL_SOCKET, SO_SNDBUF / SO_RCVBUF): the two sizes of one socket
together may not exceed BUDGET bytes; a request over what is left is cut
down to it (never below MIN_BUFFER), and the kernel is told the result.
The socket's storage, created on its first such call, keeps both sizes.

getsockopt of the same options reports the size the program granted,
where the kernel would report twice that (it doubles the value for its
bookkeeping); sockets without storage get the kernel's answer."""
from typing import Final

from pybpfc import (ALLOW, PAGE_SIZE, SockoptContext, SockStorage, cgroup_getsockopt,
                    cgroup_setsockopt, struct, u32, u64)

SOL_SOCKET: Final = 1
SO_SNDBUF: Final = 7
SO_RCVBUF: Final = 8
BUDGET: Final[u32] = 1 << 20
MIN_BUFFER: Final[u32] = 4096


@struct
class Buffers:
    send: u32
    receive: u32
    cut: u32             # requests cut down


buffers: SockStorage[Buffers] = SockStorage()
granted_bytes: u64 = 0
reports: u64 = 0


@cgroup_setsockopt
def budget_buffers(ctx: SockoptContext) -> int:
    global granted_bytes
    name = ctx.optname
    if ctx.level != SOL_SOCKET or (name != SO_SNDBUF and name != SO_RCVBUF) \
            or ctx.optlen != 4:
        if ctx.optlen > PAGE_SIZE:
            ctx.optlen = 0
        return ALLOW
    sizes = buffers.get(ctx.sk, create=True)
    if sizes is None:
        return ALLOW
    asked = ctx.optval.u32(0)
    other = sizes.value.receive if name == SO_SNDBUF else sizes.value.send
    left = BUDGET - other
    size = min(asked, left)
    if size < MIN_BUFFER:
        size = MIN_BUFFER
    if size != asked:
        sizes.value.cut += 1
        ctx.optval.set_u32(0, size)
    if name == SO_SNDBUF:
        sizes.value.send = size
    else:
        sizes.value.receive = size
    granted_bytes += size
    return ALLOW


@cgroup_getsockopt
def report_granted(ctx: SockoptContext) -> int:
    global reports
    name = ctx.optname
    if ctx.level != SOL_SOCKET or (name != SO_SNDBUF and name != SO_RCVBUF):
        if ctx.optlen > PAGE_SIZE:
            ctx.optlen = 0
        return ALLOW
    sizes = buffers.get(ctx.sk)
    if sizes is None or ctx.retval != 0 or len(ctx.optval) < 4:
        return ALLOW
    granted = sizes.value.send if name == SO_SNDBUF else sizes.value.receive
    if granted != 0 and ctx.optval.u32(0) == granted * 2:
        ctx.optval.set_u32(0, granted)
        reports += 1
    return ALLOW
