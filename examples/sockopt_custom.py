"""A socket option of our own, an IP_FREEBIND override, and large option
values passed through: the recommended sockopt program, in Python.

- Level SOL_PYBPFC, option NOTE: setsockopt stores one byte in the
  socket's storage and consumes the call (the kernel never sees it);
  getsockopt hands the byte back (on a socket with no note, the kernel's
  own error for an unknown level stands).
- IP_FREEBIND: whatever a task sets, the kernel is told 1; reading it
  back reports the kernel's value with bit 4 set, so both overrides show.
- A value larger than a page: the program sees only its first page, so it
  lets the kernel use the caller's whole buffer (optlen = 0).
"""
from typing import Final

from pybpfc import (ALLOW, PAGE_SIZE, REJECT, SockoptContext, SockStorage, cgroup_getsockopt,
                    cgroup_setsockopt, struct, u8, u64)

SOL_IP: Final = 0
IP_FREEBIND: Final = 15
SOL_PYBPFC: Final = 0x7079   # a level no protocol uses
NOTE: Final = 1
FREEBIND_SEEN: Final[u8] = 0x10


@struct
class Note:
    value: u8
    writes: u64


notes: SockStorage[Note] = SockStorage()
consumed: u64 = 0     # setsockopt calls the program answered itself


@cgroup_setsockopt
def set_option(ctx: SockoptContext) -> int:
    global consumed
    if ctx.level == SOL_PYBPFC and ctx.optname == NOTE:
        if ctx.optlen != 1:
            return REJECT
        note = notes.get(ctx.sk, create=True)
        if note is None:
            return REJECT
        note.value.value = ctx.optval[0]
        note.value.writes += 1
        consumed += 1
        ctx.optlen = -1      # handled here: the kernel skips this call
        return ALLOW
    if ctx.level == SOL_IP and ctx.optname == IP_FREEBIND:
        if len(ctx.optval) >= 4:
            ctx.optval.set_u32(0, 1)
        return ALLOW
    if ctx.optlen > PAGE_SIZE:
        ctx.optlen = 0       # use the caller's buffer as it is
    return ALLOW


@cgroup_getsockopt
def get_option(ctx: SockoptContext) -> int:
    if ctx.level == SOL_PYBPFC and ctx.optname == NOTE:
        note = notes.get(ctx.sk)
        if note is None or len(ctx.optval) < 1:
            return ALLOW     # nothing stored: the kernel's own error stands
        ctx.optval[0] = note.value.value
        ctx.optlen = 1
        ctx.retval = 0       # the kernel knows no such level: clear its error
        return ALLOW
    if ctx.level == SOL_IP and ctx.optname == IP_FREEBIND:
        ctx.optval[0] = ctx.optval[0] | FREEBIND_SEEN
        return ALLOW
    if ctx.optlen > PAGE_SIZE:
        ctx.optlen = 0       # hand the kernel's own answer through
    return ALLOW
