"""Bound how long close() may block: SO_LINGER with a timeout over
MAX_LINGER seconds is clamped to it, and a linger of 0 (close() resets the
connection) is refused on stream sockets unless the socket's storage
already allows it (a previous SO_LINGER of the same kind was seen).

The value is a struct linger: two ints, l_onoff and l_linger.  Each
socket's storage, created on its first SO_LINGER, keeps what was asked
and what was given; globals count the clamped and refused calls."""
from typing import Final

from pybpfc import (ALLOW, PAGE_SIZE, REJECT, SockoptContext, SockStorage, cgroup_setsockopt,
                    struct, u32, u64)

SOL_SOCKET: Final = 1
SO_LINGER: Final = 13
SOCK_STREAM: Final = 1
MAX_LINGER: Final[u32] = 5


@struct
class Linger:
    asked: u32          # l_linger as the task asked
    given: u32          # l_linger the kernel was told
    calls: u32
    resets: u32         # linger 0 requests seen


lingers: SockStorage[Linger] = SockStorage()
clamped: u64 = 0
refused: u64 = 0


@cgroup_setsockopt
def clamp_linger(ctx: SockoptContext) -> int:
    global clamped, refused
    if ctx.level != SOL_SOCKET or ctx.optname != SO_LINGER:
        if ctx.optlen > PAGE_SIZE:
            ctx.optlen = 0
        return ALLOW
    if ctx.optlen < 8:
        return ALLOW             # the kernel refuses it with EINVAL
    state = lingers.get(ctx.sk, create=True)
    if state is None:
        return REJECT
    state.value.calls += 1
    if len(ctx.optval) < 8:
        return ALLOW             # optlen >= 8: a test the verifier follows, as the C twin's
    onoff = ctx.optval.u32(0)
    seconds = ctx.optval.u32(4)
    state.value.asked = seconds
    if onoff != 0 and seconds == 0 and ctx.sk.type == SOCK_STREAM:
        state.value.resets += 1
        if state.value.resets == 1:
            refused += 1
            return REJECT        # the first reset request is refused
    if onoff != 0 and seconds > MAX_LINGER:
        seconds = MAX_LINGER
        ctx.optval.set_u32(4, seconds)
        clamped += 1
    state.value.given = seconds
    return ALLOW
