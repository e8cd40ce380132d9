"""Direct packet access and the packet helpers (XDP, tc, cgroup_skb), as
the interpreter runs them.

The packet lives in a page, as in the kernel's test run
(``net/bpf/test_run.c``): an XDP packet starts ``XDP_PACKET_HEADROOM``
bytes in, so ``xdp_adjust_head()`` can grow it in front and
``xdp_adjust_tail()`` at its end, within the same bounds the kernel sets;
an skb's packet starts at the page's start.  ``ctx.header(T, offset)`` is
a :class:`Place` in that page, or None when the packet is too short.

The helpers follow ``net/core/filter.c``; checksums are updated with the
kernel's ones'-complement arithmetic (``include/net/checksum.h``) on the
bits as they are in memory, so the result is the kernel's to the bit.
"""
from __future__ import annotations

import errno
from typing import Any, Optional, Union

from ..abi.headers import PACKET_CONSTANTS
from ..abi.kernel import (BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS, REDIRECT_MAP_ACTION_MASK,
                          BPF_F_HDR_FIELD_MASK, BPF_F_INGRESS, BPF_F_INVALIDATE_HASH,
                          BPF_F_MARK_ENFORCE, BPF_F_MARK_MANGLED_0, BPF_F_PSEUDO_HDR,
                          BPF_F_RECOMPUTE_CSUM, CSUM_MANGLED_0, PAGE_SIZE, SKB_SHARED_INFO_ROOM,
                          TC_ACT_REDIRECT, TC_ACT_SHOT, XDP_ABORTED, XDP_FRAME_SIZE, XDP_REDIRECT)
from ..compiler import ast as A
from ..compiler import contract as C
from ..compiler.semantics import VARIABLE_PACKET_OFFSET_MASK
from .helpers import MASK64, helper
from .interpreter import Run, expression
from .memory import Packet, Place

ETH_HLEN = PACKET_CONSTANTS["ETH_HLEN"]
INT_MAX = (1 << 31) - 1
# bpf_l4_csum_replace's flags (BPF_F_IPV6 is newer than pybpfc's tables:
# it only changes a CHECKSUM_PARTIAL packet's sums, never a test run's).
_L4_FLAGS = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK


def packet_of(run: Run) -> Packet:
    packet = run.event.packet_buffer
    assert packet is not None
    return packet


# ---------------------------------------------------------- ctx.header

@expression(C.PacketHeader)
def packet_header(run: Run, e: A.Call) -> Optional[Place]:
    """The header's place, or None when it does not fit (or, for an offset
    the checker could not bound, when the offset is past the mask lowering
    tests it against)."""
    r = e.resolved
    offset = run.expr(e.args[1]) & MASK64
    packet = packet_of(run)
    if not r.bounded and offset > VARIABLE_PACKET_OFFSET_MASK:
        return None
    if offset + r.size > len(packet):
        return None
    return packet.at(offset)


# ------------------------------------------------------------- helpers

@helper("skb_store_bytes")
def skb_store_bytes(run: Run, args: list[Any]) -> int:
    _, offset, buf, size, flags = args
    if flags & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH):
        return -errno.EINVAL
    packet = packet_of(run)
    if offset > INT_MAX or not packet.writable(offset + size):
        return -errno.EFAULT
    packet.at(offset).write(buf.read(size))
    return 0


def _csum_add(a: int, b: int) -> int:
    """csum_add: 32-bit ones'-complement addition."""
    total = (a + b) & 0xFFFFFFFF
    return (total + (total < b)) & 0xFFFFFFFF


def _csum_fold(csum: int) -> int:
    total = csum + (((csum >> 16) | (csum << 16)) & 0xFFFFFFFF)
    return ~(total & 0xFFFFFFFF) >> 16 & 0xFFFF


def _csum16_add(csum: int, addend: int) -> int:
    total = (csum + addend) & 0xFFFF
    return (total + (total < addend)) & 0xFFFF


def csum_replace4(old_sum: int, old: int, new: int) -> int:
    tmp = _csum_add(~old_sum & 0xFFFFFFFF, ~old & 0xFFFFFFFF)
    return _csum_fold(_csum_add(tmp, new))


def csum_replace2(old_sum: int, old: int, new: int) -> int:
    return ~_csum16_add(_csum16_add(~old_sum & 0xFFFF, ~old & 0xFFFF), new) & 0xFFFF


def csum_replace_by_diff(old_sum: int, diff: int) -> int:
    return _csum_fold(_csum_add(diff, ~old_sum & 0xFFFFFFFF))


def _checksum_at(run: Run, offset: int, flags: int, allowed: int) -> Union[Place, int]:
    """The checksum's place, or -EINVAL for flags not ``allowed``, -EFAULT
    for an odd offset or one outside the packet."""
    if flags & ~allowed:
        return -errno.EINVAL
    if offset > 0xFFFF or offset & 1 or not packet_of(run).writable(offset + 2):
        return -errno.EFAULT
    return packet_of(run).at(offset)


def _replace(place: Place, size: int, old: int, new: int, two: Any) -> int:
    """The checksum at ``place`` updated for a ``size``-byte field (0: by
    the difference ``new``); -EINVAL for another size."""
    value = int.from_bytes(place.read(2), "little")
    if size == 0:
        if old != 0:
            return -errno.EINVAL
        value = csum_replace_by_diff(value, new & 0xFFFFFFFF)
    elif size == 2:
        value = two(value, old & 0xFFFF, new & 0xFFFF)
    elif size == 4:
        value = csum_replace4(value, old & 0xFFFFFFFF, new & 0xFFFFFFFF)
    else:
        return -errno.EINVAL
    place.write(value.to_bytes(2, "little"))
    return 0


@helper("l3_csum_replace")
def l3_csum_replace(run: Run, args: list[Any]) -> int:
    _, offset, old, new, flags = args
    place = _checksum_at(run, offset, flags, BPF_F_HDR_FIELD_MASK)
    if isinstance(place, int):
        return place
    return _replace(place, flags & BPF_F_HDR_FIELD_MASK, old, new, csum_replace2)


@helper("l4_csum_replace")
def l4_csum_replace(run: Run, args: list[Any]) -> int:
    """A test run's packet is not CHECKSUM_PARTIAL: the checksum is
    replaced as in the IP header (the pseudo-header flag changes nothing
    more), a 2-byte field through the 4-byte arithmetic."""
    _, offset, old, new, flags = args
    place = _checksum_at(run, offset, flags, _L4_FLAGS)
    if isinstance(place, int):
        return place
    mangled_0 = bool(flags & BPF_F_MARK_MANGLED_0)
    if mangled_0 and not flags & BPF_F_MARK_ENFORCE and place.read(2) == b"\0\0":
        return 0
    done = _replace(place, flags & BPF_F_HDR_FIELD_MASK, old, new, csum_replace4)
    if done == 0 and mangled_0 and place.read(2) == b"\0\0":
        place.write(CSUM_MANGLED_0.to_bytes(2, "little"))
    return done


@helper("redirect")
def redirect(run: Run, args: list[Any]) -> int:
    """bpf_redirect: where the packet goes, kept for the result; XDP takes
    no flags (XDP_ABORTED), tc only BPF_F_INGRESS (TC_ACT_SHOT)."""
    ifindex, flags = args
    if packet_of(run).xdp:
        if flags:
            return XDP_ABORTED
        run.event.redirect = {"ifindex": ifindex & 0xFFFFFFFF, "ingress": False}
        return XDP_REDIRECT
    if flags & ~BPF_F_INGRESS:
        return TC_ACT_SHOT
    run.event.redirect = {"ifindex": ifindex & 0xFFFFFFFF, "ingress": bool(flags)}
    return TC_ACT_REDIRECT


def redirect_map(run: Run, e: A.Call, sim: Any, key: int, flags: int) -> int:
    """``ports.redirect(slot, XDP_PASS)`` (bpf_redirect_map on a device
    map): XDP_REDIRECT to the device in the slot; for an empty slot (an
    index past the end, a DevMap slot holding 0, a DevMapHash key not
    there), the action in the flags' low two bits; XDP_ABORTED for flags
    it does not know."""
    from .context import SimulationError
    if flags & ~(REDIRECT_MAP_ACTION_MASK | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS):
        return XDP_ABORTED
    if flags & BPF_F_BROADCAST:
        raise SimulationError(f"line {e.pos.line}: redirect() with BPF_F_BROADCAST is not "
                              "simulated yet; run the program in the kernel")
    place = sim.lookup(key.to_bytes(4, "little"), run.fakes.cpu)
    ifindex = 0 if place is None else int.from_bytes(place.read(4), "little")
    if ifindex == 0:
        return flags & REDIRECT_MAP_ACTION_MASK
    run.event.redirect = {"ifindex": ifindex, "ingress": False}
    return XDP_REDIRECT


@helper("skb_pull_data")
def skb_pull_data(run: Run, args: list[Any]) -> int:
    """The whole test-run packet is linear: only a length past its end fails."""
    _, length = args
    return 0 if packet_of(run).writable(length) else -errno.ENOMEM


def _int(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


@helper("xdp_adjust_head")
def xdp_adjust_head(run: Run, args: list[Any]) -> int:
    """The start may move down to the xdp_frame the headroom keeps, and up
    to ETH_HLEN bytes before the end; bytes grown in front are what the
    page held (zeros, in a test run, unless the packet was there)."""
    _, delta = args
    packet = packet_of(run)
    start = packet.start + _int(delta)
    if start < XDP_FRAME_SIZE or start > packet.end - ETH_HLEN:
        return -errno.EINVAL
    packet.start = start
    return 0


@helper("xdp_adjust_tail")
def xdp_adjust_tail(run: Run, args: list[Any]) -> int:
    """The end may grow to the page's end less the skb_shared_info room,
    and shrink to ETH_HLEN bytes after the start; grown bytes are zeroed."""
    _, delta = args
    packet = packet_of(run)
    delta = _int(delta)
    end = packet.end + delta
    if end > PAGE_SIZE - SKB_SHARED_INFO_ROOM or end < packet.start + ETH_HLEN:
        return -errno.EINVAL
    if delta > 0:
        packet.page[packet.end:end] = bytes(delta)
    packet.end = end
    return 0
