"""Running a packet program on one packet, without a network.

BPF_PROG_TEST_RUN hands the kernel a packet (an Ethernet frame), runs the
loaded program on it ``repeat`` times, and returns what it returned, the
packet as the program left it (rewritten, grown or cut) and the average
time per run.  XDP, tc (``sched_cls``), cgroup_skb and socket filter
programs can be run so; tc and cgroup_skb programs also take a
``struct __sk_buff`` in (a few fields: mark, priority, cb, ...) and give it
back after the run, XDP programs a ``struct xdp_md``.

    with load("drop_udp.o") as coll:
        run = run_packet(coll["drop_udp"], udp4_frame(dport=53))
        assert run.verdict == "XDP_DROP"
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from pybpfc.abi import kernel

from .errors import BpfError

if TYPE_CHECKING:
    from .program import Program

ETH_HLEN = 14
# Program types BPF_PROG_TEST_RUN runs on a packet, and the largest context
# each accepts (0: none).
_CONTEXT_SIZES = {
    kernel.BPF_PROG_TYPE_XDP: kernel.XDP_MD_SIZE,
    kernel.BPF_PROG_TYPE_SCHED_CLS: kernel.SK_BUFF_SIZE,
    kernel.BPF_PROG_TYPE_SCHED_ACT: kernel.SK_BUFF_SIZE,
    kernel.BPF_PROG_TYPE_CGROUP_SKB: kernel.SK_BUFF_SIZE,
    kernel.BPF_PROG_TYPE_SOCKET_FILTER: kernel.SK_BUFF_SIZE,
}
# EtherType -> (protocol, the shortest frame an skb test run takes with it).
_IP_HEADER_FRAMES = {0x0800: ("IPv4", ETH_HLEN + 20), 0x86DD: ("IPv6", ETH_HLEN + 40)}
_CONTEXT_NAMES = {kernel.XDP_MD_SIZE: "struct xdp_md", kernel.SK_BUFF_SIZE: "struct __sk_buff"}


@dataclass(frozen=True)
class PacketRun:
    """What one test run of a packet program gave back."""
    retval: int          # what the program returned, as an unsigned 32-bit number
    verdict: str         # that value's name for the program's kind: XDP_DROP, TC_ACT_OK, ...
    packet: bytes        # the packet after the program ran
    ctx: bytes           # the context after the run (empty unless one was passed in)
    duration_ns: int     # the kernel's average time per run
    repeat: int


def verdict_name(prog_type: int, retval: int) -> str:
    """The name of what a packet program of ``prog_type`` returned: an XDP
    action, a tc action, ``pass``/``drop`` for cgroup_skb, or the number."""
    signed = retval - (1 << 32) if retval >= 1 << 31 else retval
    if prog_type == kernel.BPF_PROG_TYPE_XDP:
        names = {value: name for name, value in kernel.XDP_ACTIONS.items()}
    elif prog_type in (kernel.BPF_PROG_TYPE_SCHED_CLS, kernel.BPF_PROG_TYPE_SCHED_ACT):
        names = {value: name for name, value in kernel.TC_ACTIONS.items()}
    elif prog_type == kernel.BPF_PROG_TYPE_CGROUP_SKB:
        names = {value: name for name, value in kernel.CGROUP_SKB_VERDICTS.items()}
    else:
        names = {}
    return names.get(signed, str(signed))


def check_packet_input(what: str, prog_type: int, packet: bytes, ctx: Optional[bytes],
                       repeat: int) -> None:
    """Refuse, before the kernel does with a bare EINVAL, input a test run
    cannot take; the message says what to give instead."""
    if prog_type not in _CONTEXT_SIZES:
        raise BpfError(f"{what}: a test run on a packet runs XDP, tc, cgroup_skb and "
                       "socket filter programs only")
    if len(packet) < ETH_HLEN:
        raise BpfError(f"{what}: the packet is {len(packet)} bytes; a test run's packet "
                       f"starts with a {ETH_HLEN}-byte Ethernet header")
    if repeat < 1 or repeat >= 1 << 32:
        raise BpfError(f"{what}: repeat must be from 1 to {(1 << 32) - 1}, not {repeat}")
    if prog_type != kernel.BPF_PROG_TYPE_XDP:
        # The kernel builds an skb from the frame and refuses (EINVAL) one
        # whose EtherType promises an IP header the frame does not hold.
        ethertype = int.from_bytes(packet[12:14], "big")
        need = _IP_HEADER_FRAMES.get(ethertype)
        if need is not None and len(packet) < need[1]:
            raise BpfError(f"{what}: the packet is {len(packet)} bytes and its EtherType says "
                           f"{need[0]}; a test run of this program needs the whole {need[0]} "
                           f"header, {need[1]} bytes with the Ethernet header")
    limit = _CONTEXT_SIZES[prog_type]
    if ctx is not None and len(ctx) > limit:
        raise BpfError(f"{what}: the context is {len(ctx)} bytes; this program's "
                       f"{_CONTEXT_NAMES[limit]} is {limit} bytes")


def run_packet(program: "Program", packet: bytes, *, ctx: Optional[bytes] = None,
               repeat: int = 1) -> PacketRun:
    """Run a loaded packet program on ``packet`` (an Ethernet frame) in the
    kernel, ``repeat`` times, with the context ``ctx`` if given."""
    prog_type = program.spec.prog_type
    check_packet_input(program.what, prog_type, packet, ctx, repeat)
    result = program.test_run(bytes(packet), repeat, None if ctx is None else bytes(ctx))
    return PacketRun(result.retval, verdict_name(prog_type, result.retval), result.data_out,
                     result.ctx_out, result.duration_ns, repeat)
