"""Events staged in the kernel for the differential test (fuzz/differential.py).

Each hook that has rows in ``EVENTS`` is run in the kernel by real events:
a packet program (socket filter, XDP, tc, cgroup_skb) through
BPF_PROG_TEST_RUN on a crafted frame, a cgroup hook by a system call
that a child process makes in a temporary cgroup (in a network namespace
of its own, so binds and sysctls touch nothing outside).  A hook added to
``pybpfc.abi`` joins the differential test with rows here.

The context the kernel gives a hook for an event is measured, not
assumed: a probe program (generated from the hook's row) copies every
field it may read into globals, and the interpreter then runs with those
values.
"""
from __future__ import annotations

import errno
import os
import pickle
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pybpfc import abi
from pybpfc.runtime import packet_build as pb

SOL_IP, IP_TOS, IP_TTL, IP_FREEBIND = 0, 1, 2, 15
SO_PRIORITY, SO_MARK, SO_BINDTOIFINDEX, SO_NETNS_COOKIE = 12, 36, 62, 71
OPTVAL_PROBED = 16        # bytes of an option buffer the probe copies


@dataclass(frozen=True)
class Event:
    name: str
    action: tuple[Any, ...]      # what the child does (or the packet, for a filter)


def udp_frame(dport: int, payload: bytes) -> bytes:
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return bytes(12) + b"\x08\x00" + ip + struct.pack(">HHHH", 12345, dport, 8 + len(payload),
                                                       0) + payload


# BPF_PROG_TEST_RUN gives a socket filter the frame without its Ethernet
# header (eth_type_trans pulled it): the packet the program sees.
ETH_HLEN = 14


def seen_by_filter(frame: bytes) -> bytes:
    return frame[ETH_HLEN:]


def seen_by(hook: abi.Hook, frame: bytes) -> bytes:
    """The packet a hook's test run sees of ``frame``: all of it (XDP, tc),
    or what follows the Ethernet header (cgroup_skb, socket filters)."""
    from_ip = hook.kind.prog_type in abi.kernel.TEST_RUN_FROM_IP_HEADER
    return seen_by_filter(frame) if from_ip else frame


def frame_out(hook: abi.Hook, packet: bytes) -> bytes:
    """The frame a test run gives back for the packet a hook left: a
    cgroup_skb test run puts back an Ethernet header of zeros."""
    from_ip = hook.kind.prog_type in abi.kernel.TEST_RUN_FROM_IP_HEADER
    return bytes(ETH_HLEN) + packet if from_ip else packet


INET, INET6, UDP, TCP = socket.AF_INET, socket.AF_INET6, socket.SOCK_DGRAM, socket.SOCK_STREAM
EVENTS: dict[str, list[Event]] = {
    "cgroup_sock_create": [Event("udp4", ("socket", INET, UDP)),
                           Event("tcp6", ("socket", INET6, TCP))],
    "cgroup_sock_release": [Event("udp4 closed", ("release", INET, UDP))],
    "cgroup_post_bind4": [Event("bind udp4", ("bind", INET, UDP, ("0.0.0.0", 5002))),
                          Event("bind tcp4", ("bind", INET, TCP, ("0.0.0.0", 5003)))],
    "cgroup_post_bind6": [Event("bind udp6", ("bind", INET6, UDP, ("::", 5002))),
                          Event("bind tcp6", ("bind", INET6, TCP, ("::", 5999)))],
    "cgroup_setsockopt": [
        Event("IP_TTL", ("setsockopt", INET, UDP, SOL_IP, IP_TTL, struct.pack("<i", 64))),
        Event("IP_TOS", ("setsockopt", INET, UDP, SOL_IP, IP_TOS, struct.pack("<i", 16))),
        Event("IP_FREEBIND", ("setsockopt", INET, UDP, SOL_IP, IP_FREEBIND,
                              struct.pack("<i", 0)))],
    "cgroup_getsockopt": [
        Event("IP_TTL", ("getsockopt", INET, UDP, SOL_IP, IP_TTL, 4)),
        Event("IP_TOS", ("getsockopt", INET, UDP, SOL_IP, IP_TOS, 4)),
        Event("IP_FREEBIND", ("getsockopt", INET, UDP, SOL_IP, IP_FREEBIND, 4)),
        Event("unknown", ("getsockopt", INET, UDP, SOL_IP, 12345, 8))],
    # The child's own network namespace holds these sysctls: its writes
    # change nothing outside, and each is undone after its event.
    "cgroup_sysctl": [Event("read ip_forward", ("sysctl_read", "net/ipv4/ip_forward")),
                      Event("read tcp_rmem", ("sysctl_read", "net/ipv4/tcp_rmem")),
                      Event("write ip_forward", ("sysctl_write", "net/ipv4/ip_forward", b"1")),
                      Event("write tcp_rmem", ("sysctl_write", "net/ipv4/tcp_rmem",
                                               b"4096 131072 6291456")),
                      Event("write tcp_rmem descending", ("sysctl_write", "net/ipv4/tcp_rmem",
                                                          b"300 200 100"))],
    "socket_filter": [Event("udp 53", ("packet", udp_frame(53, b"question"))),
                      Event("udp 9", ("packet", udp_frame(9, bytes(40))))],
}
# Packet programs run through a test run on crafted frames (the examples'
# cases among them: a port XDP drops, a load balancer's address, loopback,
# a prefix, IPv6, a frame too short for an IP header).
PACKET_EVENTS = [
    Event("udp4 7777", ("packet", pb.udp4_frame(dport=7777))),
    Event("udp4 7002", ("packet", pb.udp4_frame(dport=7002))),
    Event("udp4 to the vip", ("packet", pb.udp4_frame(dst="10.0.0.100", dport=80,
                                                      sport=40001))),
    Event("udp4 loopback", ("packet", pb.udp4_frame(src="127.0.0.1", dst="127.0.0.1"))),
    Event("tcp4 from 10.1.2.3", ("packet", pb.tcp4_frame(src="10.1.2.3"))),
    Event("icmp4 tos 0x10", ("packet", pb.ethernet(pb.ipv4(pb.icmp_echo(), 1, tos=0x10)))),
    Event("udp6", ("packet", pb.udp6_frame(payload=b"question"))),
    Event("short arp", ("packet", pb.ethernet(bytes(6), ethertype=0x0806))),
]
for _hook in ("xdp", "tc", "cgroup_skb_ingress", "cgroup_skb_egress"):
    EVENTS[_hook] = PACKET_EVENTS


# ------------------------------------------------------------ the child

def _errno_of(err: OSError) -> int:
    return err.errno or errno.EIO


def perform(action: tuple[Any, ...]) -> tuple[Any, ...]:
    """Do ``action`` (in the child, in the cgroup): its outcome."""
    kind = action[0]
    if kind == "facts":
        with socket.socket(INET, UDP) as s:
            cookie = int.from_bytes(s.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8),
                                    "little")
        return (os.getpid(), Path("/proc/self/comm").read_bytes().strip(), cookie)
    if kind == "sysctl_value":
        return (Path("/proc/sys", action[1]).read_bytes(),)
    if kind in ("sysctl_write", "sysctl_set"):
        # One write(2): the hook runs once.
        try:
            fd = os.open(Path("/proc/sys", action[1]), os.O_WRONLY)
            try:
                os.write(fd, action[2])
            finally:
                os.close(fd)
        except OSError as err:
            return (_errno_of(err),)
        return (0,)
    if kind == "sysctl_read":
        # One read(2), so the hook runs once (a second read, at the end of
        # the file, would run it again).
        try:
            fd = os.open(Path("/proc/sys", action[1]), os.O_RDONLY)
            try:
                os.read(fd, 4096)
            finally:
                os.close(fd)
        except OSError as err:
            return (_errno_of(err),)
        return (0,)
    family, type_ = action[1], action[2]
    try:
        s = socket.socket(family, type_)
    except OSError as err:
        return (_errno_of(err), None)
    with s:
        try:
            if kind == "socket":
                # getsockopt gives a C int; the fields are u32.
                fields = {name: s.getsockopt(socket.SOL_SOCKET, option) & 0xFFFFFFFF
                          for name, option in (("mark", SO_MARK), ("priority", SO_PRIORITY),
                                               ("bound_dev_if", SO_BINDTOIFINDEX))}
                return (0, fields)
            if kind == "release":
                return (0, None)
            if kind == "bind":
                s.bind(action[3])
                return (0, None)
            if kind == "setsockopt":
                s.setsockopt(action[3], action[4], action[5])
                return (0, None)
            if kind == "getsockopt":
                return (0, s.getsockopt(action[3], action[4], action[5]))
        except OSError as err:
            return (_errno_of(err), None)
    raise ValueError(f"no such action: {kind}")


class Child:
    """A process in ``cgroup`` (and a network namespace of its own) that
    makes the system calls it is asked for, one at a time."""

    def __init__(self, cgroup: Path):
        to_child, self._requests = os.pipe()
        self._answers, from_child = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._requests)
            os.close(self._answers)
            self._serve(cgroup, to_child, from_child)
        os.close(to_child)
        os.close(from_child)
        self._out = os.fdopen(self._requests, "wb")
        self._in = os.fdopen(self._answers, "rb")
        ready = pickle.load(self._in)
        if ready != "ready":
            self.close()
            raise RuntimeError(f"the child could not start: {ready}")

    @staticmethod
    def _serve(cgroup: Path, requests: int, answers: int) -> None:
        import ctypes
        out = os.fdopen(answers, "wb")
        try:
            try:
                (cgroup / "cgroup.procs").write_text(str(os.getpid()))
                clone_newnet = 0x40000000
                if ctypes.CDLL(None, use_errno=True).unshare(clone_newnet) != 0:
                    raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
                pickle.dump("ready", out)
            except BaseException as err:
                pickle.dump(f"{type(err).__name__}: {err}", out)
                return
            out.flush()
            with os.fdopen(requests, "rb") as inp:
                while True:
                    try:
                        action = pickle.load(inp)
                    except EOFError:
                        return
                    try:
                        answer: Any = ("ok", perform(action))
                    except BaseException as err:
                        answer = ("error", f"{type(err).__name__}: {err}")
                    pickle.dump(answer, out)
                    out.flush()
        finally:
            out.close()
            os._exit(0)

    def ask(self, action: tuple[Any, ...]) -> tuple[Any, ...]:
        pickle.dump(action, self._out)
        self._out.flush()
        kind, value = pickle.load(self._in)
        if kind == "error":
            raise RuntimeError(f"the child failed at {action[0]}: {value}")
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        for stream in (getattr(self, "_out", None), getattr(self, "_in", None)):
            if stream is not None:
                stream.close()
        if self.pid:
            os.waitpid(self.pid, 0)
            self.pid = 0


# --------------------------------------------------------------- probes

def _field_reads(hook: abi.Hook) -> list[tuple[str, str, str]]:
    """(global name, its type, the expression) of every readable integer
    field of the hook's context and of the socket behind ``ctx.sk``."""
    reads = []
    for f in hook.context.fields:
        if f.name not in hook.readable or f.kind in ("window", "window_end", "packet",
                                                     "packet_end", "packet_meta"):
            continue
        if f.kind == "sock":
            for sf in abi.BPF_SOCK.fields:
                if sf.name in abi.SOCK_POINTER_READABLE:
                    reads += _reads_of(sf, f"sk__{sf.name}", f"ctx.sk.{sf.name}")
            continue
        reads += _reads_of(f, f.name, f"ctx.{f.name}")
    return reads


def _reads_of(f: abi.Field, name: str, expr: str) -> list[tuple[str, str, str]]:
    if f.count > 1:
        return [(f"{name}__{i}", f.kind, f"{expr}[{i}]") for i in range(f.count)]
    return [(name, f.kind, expr)]


def probe_source(hook: abi.Hook) -> str:
    """A program whose hook copies its whole context into globals."""
    reads = _field_reads(hook)
    window = any(f.kind == "window" and f.name in hook.readable for f in hook.context.fields)
    verdict = "KEEP_ALL" if hook.returns.kind == "bytes" else "ALLOW"
    types = sorted({t for _, t, _ in reads} | ({"u8", "u32"} if window else set()))
    names = sorted({hook.decorator, hook.context.python_name, verdict, *types})
    lines = [f"from pybpfc import {', '.join(names)}", ""]
    lines += [f"f_{name}: {ty} = 0" for name, ty, _ in reads]
    if window:
        lines += [f"window: list[u8] = [0] * {OPTVAL_PROBED}", "window_length: u32 = 0"]
    lines += ["", "", f"@{hook.decorator}",
              f"def probe(ctx: {hook.context.python_name}) -> int:"]
    names_set = [f"f_{name}" for name, _, _ in reads] + (["window_length"] if window else [])
    if names_set:
        lines.append(f"    global {', '.join(names_set)}")
    lines += [f"    f_{name} = {expr}" for name, _, expr in reads]
    if window:
        lines += ["    window_length = u32(len(ctx.optval))",
                  f"    for i in range({OPTVAL_PROBED}):",
                  "        window[i] = ctx.optval[i]"]
    lines.append(f"    return {verdict}")
    return "\n".join(lines) + "\n"


def context_from_probe(hook: abi.Hook, values: dict[str, Any]) -> dict[str, Any]:
    """The interpreter's keyword arguments for what the probe read."""
    out: dict[str, Any] = {}
    sk: dict[str, Any] = {}
    for name, _, _ in _field_reads(hook):
        value = values[f"f_{name}"]
        target, key = (sk, name[4:]) if name.startswith("sk__") else (out, name)
        base, _, index = key.partition("__")
        if index:
            target.setdefault(base, []).append(value)
        else:
            target[base] = value
    if sk:
        out["sk"] = sk
    if "window_length" in values:
        data = bytes(values["window"])
        length = values["window_length"]
        out["optval"] = data[:length] if length <= OPTVAL_PROBED else \
            data + bytes(length - OPTVAL_PROBED)
    return out

