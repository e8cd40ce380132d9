"""Coarse timings in TCP_INFO: getsockopt(SOL_TCP, TCP_INFO) reports the
round-trip times (tcpi_rtt, tcpi_rttvar, tcpi_rcv_rtt, tcpi_min_rtt, in
microseconds) rounded up to whole GRAIN microseconds, so a task cannot
time its peers finely; a zero (not measured) stays zero.

Each socket's storage, created on its first TCP_INFO, counts the calls and
keeps the largest congestion window reported; a global counts calls on
sockets that were not yet established."""
from typing import Final

from pybpfc import (ALLOW, PAGE_SIZE, SockoptContext, SockStorage, cgroup_getsockopt, struct,
                    u32, u64)

SOL_TCP: Final = 6
TCP_INFO: Final = 11
TCP_ESTABLISHED: Final = 1
GRAIN: Final[u32] = 1000
# Offsets in struct tcp_info (<linux/tcp.h>).
STATE: Final = 0
RTT: Final = 68
RTTVAR: Final = 72
SND_CWND: Final = 80
RCV_RTT: Final = 92
MIN_RTT: Final = 148
WANTED: Final = MIN_RTT + 4     # the fields up to tcpi_min_rtt


@struct
class Sampled:
    calls: u64
    max_cwnd: u32
    last_state: u32


samples: SockStorage[Sampled] = SockStorage()
not_established: u64 = 0


def coarse(us: u32) -> u32:
    return (us + GRAIN - 1) // GRAIN * GRAIN


@cgroup_getsockopt
def coarse_tcp_info(ctx: SockoptContext) -> int:
    global not_established
    if ctx.level != SOL_TCP or ctx.optname != TCP_INFO:
        if ctx.optlen > PAGE_SIZE:
            ctx.optlen = 0
        return ALLOW
    if ctx.retval != 0 or ctx.optlen < WANTED:
        return ALLOW             # an error, or a caller that asked for less
    sampled = samples.get(ctx.sk, create=True)
    if sampled is None:
        return ALLOW
    sampled.value.calls += 1
    if len(ctx.optval) < WANTED:
        return ALLOW             # optlen >= WANTED: a test the verifier follows, as the C twin's
    state = ctx.optval[STATE]
    sampled.value.last_state = state
    if state != TCP_ESTABLISHED:
        not_established += 1
    cwnd = ctx.optval.u32(SND_CWND)
    if cwnd > sampled.value.max_cwnd:
        sampled.value.max_cwnd = cwnd
    ctx.optval.set_u32(RTT, coarse(ctx.optval.u32(RTT)))
    ctx.optval.set_u32(RTTVAR, coarse(ctx.optval.u32(RTTVAR)))
    ctx.optval.set_u32(RCV_RTT, coarse(ctx.optval.u32(RCV_RTT)))
    ctx.optval.set_u32(MIN_RTT, coarse(ctx.optval.u32(MIN_RTT)))
    return ALLOW
