"""The kernel helpers, as the interpreter runs them: what each does to its
arguments and returns, after the kernel's code (``kernel/bpf/helpers.c``,
``cgroup.c``, ``net/core/filter.c``), with deterministic fakes for what
comes from outside the program (time, random numbers, ids), which the
test sets in :class:`Fakes`.

Each helper takes the run and its arguments as lowering passes them
(buffers as a :class:`Place` and a size, integers extended to 64 bits) and
returns the helper's 64-bit result.
"""
from __future__ import annotations

import errno
import random as _random
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..abi.kernel import (BPF_F_SYSCTL_BASE_NAME, BPF_SOCK_OPS_ALL_CB_FLAGS, PAGE_SIZE,
                          STRTOX_BASE_MASK)
from .memory import Place

if TYPE_CHECKING:
    from .interpreter import Run

MASK64 = (1 << 64) - 1
STRTOX_DIGITS = 64 - 1          # __bpf_strtoull parses a copy of at most 63 characters


@dataclass
class Fakes:
    """What helpers report about the world, set by the test.

    ``time_ns`` is what ktime_get_ns() returns first; each call adds
    ``time_step_ns``.  ``random`` is the sequence get_prandom_u32() returns
    (cycled); without it, numbers come from a generator seeded with ``seed``.
    ``memory`` is what tracing hooks read with the probe helpers: address
    -> the bytes there; ``task`` the address get_current_task() gives;
    ``kernel_stack``/``user_stack`` the stacks get_stackid() stores."""
    time_ns: int = 1_000_000_000
    time_step_ns: int = 1000
    random: Optional[list[int]] = None
    seed: int = 0
    pid: int = 4242
    tgid: int = 4242
    uid: int = 1000
    gid: int = 1000
    comm: bytes = b"python3"
    cgroup_id: int = 1
    netns_cookie: int = 4096
    init_netns_cookie: int = 1  # the initial network namespace's (get_netns_cookie(None))
    socket_cookie: int = 0     # 0: the socket's own number
    socket_uid: int = 1000
    bind_errno: int = 0        # what bind() from a connect hook fails with (0: it binds)
    cpu: int = 0
    cpus: int = 2
    memory: dict[int, bytes] = field(default_factory=dict)
    task: int = 0xFFFF_8880_0200_0000
    # The instruction pointers get_stackid() sees, innermost first; empty:
    # no stack there, and it gives -EFAULT.
    kernel_stack: list[int] = field(default_factory=list)
    user_stack: list[int] = field(default_factory=list)
    _rng: _random.Random = field(default_factory=_random.Random, repr=False)
    _drawn: int = field(default=0, repr=False)

    def next_random(self) -> int:
        if self.random:
            value = self.random[self._drawn % len(self.random)]
            self._drawn += 1
            return value & 0xFFFFFFFF
        if self._drawn == 0:
            self._rng.seed(self.seed)
        self._drawn += 1
        return self._rng.getrandbits(32)

    def next_time(self) -> int:
        now = self.time_ns
        self.time_ns += self.time_step_ns
        return now & MASK64


Helper = Callable[["Run", list[Any]], int]
HELPERS: dict[str, Helper] = {}


def helper(name: str) -> Callable[[Helper], Helper]:
    def register(fn: Helper) -> Helper:
        HELPERS[name] = fn
        return fn
    return register


# ------------------------------------------------------------- the world

@helper("ktime_get_ns")
def ktime_get_ns(run: "Run", args: list[Any]) -> int:
    return run.fakes.next_time()


@helper("get_prandom_u32")
def get_prandom_u32(run: "Run", args: list[Any]) -> int:
    return run.fakes.next_random()


@helper("get_current_pid_tgid")
def get_current_pid_tgid(run: "Run", args: list[Any]) -> int:
    return (run.fakes.tgid << 32 | run.fakes.pid) & MASK64


@helper("get_current_uid_gid")
def get_current_uid_gid(run: "Run", args: list[Any]) -> int:
    return (run.fakes.gid << 32 | run.fakes.uid) & MASK64


@helper("get_current_comm")
def get_current_comm(run: "Run", args: list[Any]) -> int:
    buf, size = args
    copy_string(buf, size, run.fakes.comm, pad=True)
    return 0


@helper("get_current_cgroup_id")
def get_current_cgroup_id(run: "Run", args: list[Any]) -> int:
    return run.fakes.cgroup_id & MASK64


@helper("get_netns_cookie")
def get_netns_cookie(run: "Run", args: list[Any]) -> int:
    # NULL asks for the initial network namespace's cookie.
    cookie = run.fakes.init_netns_cookie if args[0] is None else run.fakes.netns_cookie
    return cookie & MASK64


@helper("get_socket_cookie")
def get_socket_cookie(run: "Run", args: list[Any]) -> int:
    return (run.fakes.socket_cookie or run.event.socket) & MASK64


@helper("get_socket_uid")
def get_socket_uid(run: "Run", args: list[Any]) -> int:
    return run.fakes.socket_uid & 0xFFFFFFFF


@helper("get_retval")
def get_retval(run: "Run", args: list[Any]) -> int:
    return run.event.get_retval()


@helper("set_retval")
def set_retval(run: "Run", args: list[Any]) -> int:
    value = args[0] & 0xFFFFFFFF
    run.event.set_retval(value - (1 << 32) if value >> 31 else value)
    return 0


# ------------------------------------------------------- socket addresses

SOCKADDR_SIZES = {socket.AF_INET: 16, socket.AF_INET6: 28}   # sockaddr_in, sockaddr_in6
FAMILY_END = 2          # offsetofend(struct sockaddr, sa_family)


@helper("bind")
def bind(run: "Run", args: list[Any]) -> int:
    """bpf_bind: the address's length and family checked as the kernel
    checks them, then the bind's outcome is the fake ``bind_errno``; the
    address bound is kept in ``run.bound``."""
    _, buf, size = args
    if size < FAMILY_END:
        return -errno.EINVAL
    address = buf.read(size)
    family = int.from_bytes(address[:FAMILY_END], "little")
    wanted = SOCKADDR_SIZES.get(family)
    if wanted is None:
        return -errno.EAFNOSUPPORT
    if size < wanted:
        return -errno.EINVAL
    if run.fakes.bind_errno:
        return -abs(run.fakes.bind_errno)
    run.bound = address[:wanted]
    return 0


# ------------------------------------------------------------ TCP events

@helper("sock_ops_cb_flags_set")
def sock_ops_cb_flags_set(run: "Run", args: list[Any]) -> int:
    """bpf_sock_ops_cb_flags_set: -EINVAL unless the socket is a full one;
    else the callbacks this kernel has are set and the others returned."""
    _, flags = args
    fields = run.event.hook.context
    if run.event.field_value(fields.field("is_fullsock")) == 0:
        return -errno.EINVAL
    kept = flags & BPF_SOCK_OPS_ALL_CB_FLAGS
    run.event.context.at(fields.field("bpf_sock_ops_cb_flags").offset).write(
        kept.to_bytes(4, "little"))
    return flags & ~BPF_SOCK_OPS_ALL_CB_FLAGS & MASK64


# -------------------------------------------------------------- packets

@helper("skb_load_bytes")
def skb_load_bytes(run: "Run", args: list[Any]) -> int:
    _, offset, buf, size = args
    packet = run.event.packet
    if offset > 0x7FFFFFFF or offset + size > len(packet):
        buf.write(bytes(size))          # the kernel clears the buffer on failure
        return -errno.EFAULT
    buf.write(packet[offset:offset + size])
    return 0


# --------------------------------------------------------- socket options

@helper("setsockopt")
def setsockopt(run: "Run", args: list[Any]) -> int:
    _, level, optname, buf, size = args
    run.socket_options[(run.event.socket, level, optname)] = buf.read(size)
    return 0


@helper("getsockopt")
def getsockopt(run: "Run", args: list[Any]) -> int:
    _, level, optname, buf, size = args
    stored = run.socket_options.get((run.event.socket, level, optname))
    if stored is None:
        buf.write(bytes(size))
        return -errno.ENOPROTOOPT
    buf.write(stored[:size].ljust(size, b"\0"))
    return 0


# --------------------------------------------------------------- sysctl

@helper("sysctl_get_name")
def sysctl_get_name(run: "Run", args: list[Any]) -> int:
    _, buf, size, flags = args
    name = run.event.sysctl_name
    if flags & BPF_F_SYSCTL_BASE_NAME:
        name = name.rsplit(b"/", 1)[-1]
    return copy_string(buf, size, name, pad=False)


def copy_sysctl_value(buf: Place, size: int, value: Optional[bytes]) -> int:
    """The kernel's copy_sysctl_value: the length, or -E2BIG (truncated and
    NUL-terminated), or -EINVAL without a value (the buffer zeroed)."""
    if not value:
        buf.write(bytes(size))
        return -errno.EINVAL
    if size > len(value):
        buf.write(value + bytes(size - len(value)))
        return len(value)
    buf.write(value[:size - 1] + b"\0")
    return -errno.E2BIG


@helper("sysctl_get_current_value")
def sysctl_get_current_value(run: "Run", args: list[Any]) -> int:
    _, buf, size = args
    return copy_sysctl_value(buf, size, run.event.current_value)


@helper("sysctl_get_new_value")
def sysctl_get_new_value(run: "Run", args: list[Any]) -> int:
    _, buf, size = args
    if not run.event.sysctl_write():
        buf.write(bytes(size))
        return -errno.EINVAL
    return copy_sysctl_value(buf, size, run.event.new_value)


@helper("sysctl_set_new_value")
def sysctl_set_new_value(run: "Run", args: list[Any]) -> int:
    _, buf, length = args
    if not run.event.sysctl_write() or not run.event.new_value or not length \
            or length > PAGE_SIZE - 1:
        return -errno.EINVAL
    run.event.new_value = buf.read(length)
    run.new_value_set = True
    return 0


def copy_string(buf: Place, size: int, text: bytes, pad: bool) -> int:
    """strscpy (``pad``: strscpy_pad): at most size - 1 characters and a
    NUL; the length, or -E2BIG when cut."""
    text = text.split(b"\0", 1)[0]
    if len(text) < size:
        buf.write(text + (bytes(size - len(text)) if pad else b"\0"))
        return len(text)
    buf.write(text[:size - 1] + b"\0")
    return -errno.E2BIG


# ------------------------------------------------------ parsing numbers

_SPACE = frozenset(b" \t\n\v\f\r\xa0")


def strtoull(data: bytes, flags: int) -> tuple[int, int, bool]:
    """The kernel's __bpf_strtoull: (characters consumed or -errno, the
    value, whether a '-' came first)."""
    base = flags & STRTOX_BASE_MASK
    if not data:
        return -errno.EINVAL, 0, False
    if base not in (0, 8, 10, 16) or flags & ~STRTOX_BASE_MASK:
        return -errno.EINVAL, 0, False
    at = 0
    while at < len(data) and data[at] in _SPACE:
        at += 1
    negative = at < len(data) and data[at] == ord("-")
    if negative:
        at += 1
    consumed = at
    if consumed == len(data):
        return -errno.EINVAL, 0, negative
    text = data[at:at + STRTOX_DIGITS]
    cut = text.find(b"\0")
    if cut >= 0:
        text = text[:cut]
    pos = 0
    if base == 0:
        if text[:1] == b"0":
            base = 16 if text[1:2].lower() == b"x" and _digit(text[2:3], 16) is not None else 8
        else:
            base = 10
    if base == 16 and text[:1] == b"0" and text[1:2].lower() == b"x":
        pos = 2
    value, digits, overflow = 0, 0, False
    while pos + digits < len(text):
        d = _digit(text[pos + digits:pos + digits + 1], base)
        if d is None:
            break
        value = value * base + d
        if value > MASK64:
            overflow = True
            value &= MASK64
        digits += 1
    if overflow:
        return -errno.ERANGE, 0, negative
    if digits == 0:
        return -errno.EINVAL, 0, negative
    return consumed + pos + digits, value, negative


def _digit(ch: bytes, base: int) -> Optional[int]:
    if not ch:
        return None
    c = chr(ch[0]).lower()
    if "0" <= c <= "9":
        d = ord(c) - ord("0")
    elif "a" <= c <= "f":
        d = ord(c) - ord("a") + 10
    else:
        return None
    return d if d < base else None


def strtol(data: bytes, flags: int) -> tuple[int, int]:
    """bpf_strtol: (result, value); the value is 0 when the result is an error."""
    length, value, negative = strtoull(data, flags)
    if length < 0:
        return length, 0
    if negative:
        if value > 1 << 63:
            return -errno.ERANGE, 0
        return length, -value
    if value >= 1 << 63:
        return -errno.ERANGE, 0
    return length, value


def strtoul(data: bytes, flags: int) -> tuple[int, int]:
    length, value, negative = strtoull(data, flags)
    if length < 0:
        return length, 0
    if negative:
        return -errno.EINVAL, 0
    return length, value


PARSERS = {"strtol": strtol, "strtoul": strtoul}
