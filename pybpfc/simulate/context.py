"""The event a hook runs for, built from keyword arguments.

The context's fields, and which of them a hook may read and write, come
from the hook's row in ``pybpfc.abi``; a hook added there takes its
fields here with nothing more to write.  Beside the fields, an event may
carry what the kernel holds for the hook, named by what reaches it:

- a ``window`` field (``optval``): its bytes (the field's length field,
  ``optlen``, defaults to their number);
- a ``sock`` field (``sk``): a dict of the socket's fields;
- ``packet``: the bytes of a packet, for hooks with packet loads,
  ``skb_load_bytes`` or direct access (``ctx.header``): what the program
  sees from ``data`` on (an Ethernet frame for XDP and tc, the IP packet for
  cgroup_skb and socket filters); ``len`` defaults to their number;
- ``sysctl_name``, ``current_value``, ``new_value``: the sysctl, for hooks
  with the sysctl helpers (``write`` defaults to whether there is a new
  value);
- ``socket``: which socket the event is on (socket storage is kept per
  socket), for hooks with socket storage or socket helpers;
- ``retval``: the syscall's result so far, for hooks with ``get_retval``
  whose context has no such field.

Values are what the program reads: a field in network byte order is given
in network byte order (``htons(53)`` for port 53).
"""
from __future__ import annotations

from typing import Any, Optional

from .. import abi
from ..compiler.types import int_type
from .memory import Packet, Place, encode

SOCKET_HELPERS = frozenset({"sk_storage_get", "get_socket_cookie", "get_socket_uid",
                            "setsockopt", "getsockopt"})
SYSCTL_HELPERS = frozenset({"sysctl_get_name", "sysctl_get_current_value",
                            "sysctl_get_new_value", "sysctl_set_new_value"})
PACKET_HELPERS = frozenset({"skb_load_bytes"})
DEFAULT_SOCKET = 1


class SimulationError(Exception):
    """A mistake in how a hook was run (a context argument it does not
    have, a value out of range), or a program the simulation cannot go on
    with; the message names the hook and what is wrong."""


class Event:
    """The context and the kernel state one run of a hook sees."""

    def __init__(self, hook: abi.Hook):
        self.hook = hook
        self.context = Place(bytearray(hook.context.size))
        self.window: Optional[bytearray] = None
        self.sock = Place(bytearray(abi.BPF_SOCK.size))
        self.packet_buffer: Optional[Packet] = None
        self.redirect: Optional[dict[str, Any]] = None   # where redirect() sent it
        self.socket = DEFAULT_SOCKET
        self.sysctl_name = b""
        self.current_value: Optional[bytes] = None
        self.new_value: Optional[bytes] = None
        self.retval = 0
        self.written: dict[str, Any] = {}     # context fields the program wrote

    @property
    def packet(self) -> bytes:
        """The packet as the program left it (so far)."""
        return b"" if self.packet_buffer is None else self.packet_buffer.data

    # The fields of the context, read as the program would.
    def field_value(self, f: abi.Field) -> Any:
        ty = int_type(f.kind)
        data = self.context.block
        values = [int.from_bytes(data[f.offset + i * f.size:f.offset + (i + 1) * f.size],
                                 "little", signed=ty.signed) for i in range(f.count)]
        return values if f.count > 1 else values[0]

    def wrote(self, offset: int) -> None:
        """Note the field a store at ``offset`` of the context wrote."""
        for f in self.hook.context.fields:
            if f.offset <= offset < f.offset + f.size * f.count:
                self.written[f.name] = self.field_value(f)
                return

    def sysctl_write(self) -> bool:
        """Whether the sysctl is being written (the kernel's own flag, which
        the program reads as ``ctx.write``)."""
        f = self.hook.context.field("write")
        return f is not None and self.field_value(f) != 0

    @property
    def retval_field(self) -> Optional[abi.Field]:
        f = self.hook.context.field("retval")
        return f if f is not None and "retval" in self.hook.readable else None

    def get_retval(self) -> int:
        f = self.retval_field
        return self.field_value(f) if f is not None else self.retval

    def set_retval(self, value: int) -> None:
        f = self.retval_field
        if f is None:
            self.retval = value
            return
        self.context.at(f.offset).write(encode(value, int_type(f.kind)))
        self.written[f.name] = value


# What the hooks the simulator runs are attached to.
SIMULATED_TARGETS = frozenset({
    abi.TARGET_CGROUP, abi.TARGET_SOCKET, abi.TARGET_NETDEV_XDP, abi.TARGET_NETDEV_TC,
    abi.TARGET_TRACEPOINT, abi.TARGET_RAW_TRACEPOINT, abi.TARGET_KERNEL_BTF,
    abi.TARGET_UPROBE, abi.TARGET_URETPROBE, abi.TARGET_PERF_EVENT})
# Context fields that point into the packet: given as ``packet``.
DIRECT_PACKET_KINDS = ("packet", "packet_end", "packet_meta")


def not_yet_simulated(hook: abi.Hook) -> Optional[str]:
    """Why the simulator cannot run ``hook``, or None when it can."""
    if hook.attach_target not in SIMULATED_TARGETS:
        return (f"@{hook.decorator} hooks are not yet simulated; they run only in the kernel "
                "(pybpfc run, docs/runtime.md)")
    return None


def accepted(hook: abi.Hook) -> dict[str, str]:
    """Every keyword a run of ``hook`` takes, with what it is."""
    out: dict[str, str] = {}
    for f in hook.context.fields:
        if f.name not in hook.readable | hook.writable or f.kind == "window_end" \
                or f.kind in DIRECT_PACKET_KINDS:
            continue
        if f.kind == "window":
            out[f.name] = f"bytes: {f.doc}"
        elif f.kind == "sock":
            out[f.name] = f"dict of the socket's fields: {f.doc}"
        elif f.kind == "data_loc":
            out[f.name] = f"bytes or text, placed after the event record: {f.doc}"
        elif f.count > 1:
            out[f.name] = f"list of {f.count} {f.kind}: {f.doc}"
        else:
            out[f.name] = f"{f.kind}: {f.doc}"
    helpers = hook.helpers
    if hook.packet_loads or helpers & PACKET_HELPERS or hook.packet:
        out["packet"] = "bytes: the packet"
    if helpers & SYSCTL_HELPERS:
        out["sysctl_name"] = "str: the sysctl's name, e.g. net/ipv4/tcp_rmem"
        out["current_value"] = "str or bytes: the sysctl's value"
        out["new_value"] = "str or bytes: the value being written"
    if helpers & SOCKET_HELPERS:
        out["socket"] = f"int: which socket (default {DEFAULT_SOCKET}); storage is per socket"
    if "get_retval" in helpers and "retval" not in out:
        out["retval"] = "int: the syscall's result so far (0 or -errno)"
    return out


def build_event(hook: abi.Hook, name: str, args: dict[str, Any]) -> Event:
    """The event for ``args``, refusing what the hook does not take."""
    refused = not_yet_simulated(hook)
    if refused is not None:
        raise SimulationError(f"hook '{name}': {refused}")
    known = accepted(hook)
    where = f"hook '{name}' (@{hook.decorator})"
    for key in args:
        if key in known:
            continue
        f = hook.context.field(key)
        if f is not None and f.kind in DIRECT_PACKET_KINDS and "packet" in known:
            raise SimulationError(f"{where}: {hook.context.python_name}.{key} points into the "
                                  "packet; give the packet's bytes as packet=...")
        if f is not None:
            raise SimulationError(f"{where} cannot read or write {hook.context.python_name}."
                                  f"{key}; it takes {', '.join(known)}")
        raise SimulationError(f"{where} has no context argument '{key}'; it takes "
                              f"{', '.join(known)}")
    event = Event(hook)
    for f in hook.context.fields:
        if f.name not in args:
            continue
        value = args[f.name]
        if f.kind == "window":
            event.window = bytearray(_bytes(value, f"{where}: {f.name}"))
            if len(event.window) > abi.PAGE_SIZE:
                raise SimulationError(f"{where}: {f.name} holds at most {abi.PAGE_SIZE} bytes "
                                      "(the kernel gives the program the first page)")
        elif f.kind == "sock":
            _set_fields(event.sock, abi.BPF_SOCK, value, f"{where}: {f.name}",
                        abi.SOCK_POINTER_READABLE)
        elif f.kind == "data_loc":
            # The data goes after the record, NUL-terminated; the field
            # holds its length << 16 | its offset, as the kernel writes it.
            data = _bytes(value, f"{where}: {f.name}") + b"\0"
            block = event.context.block
            location = len(data) << 16 | len(block)
            block += data
            block[f.offset:f.offset + 4] = location.to_bytes(4, "little")
        else:
            _set_field(event.context, f, value, f"{where}: {f.name}")
    for f in hook.context.fields:
        if f.kind == "window" and f.name in known:
            if event.window is None:
                event.window = bytearray()
            length = _length_field(hook)
            if length is not None and length.name not in args:
                _set_field(event.context, length, len(event.window), where)
    if "packet" in known:
        event.packet_buffer = Packet(_bytes(args.get("packet", b""), f"{where}: packet"),
                                     xdp=hook.context is abi.XDP_MD)
        length = hook.context.field("len")
        if length is not None and "len" not in args:
            _set_field(event.context, length, len(event.packet), where)
    if "sysctl_name" in known:
        event.sysctl_name = _bytes(args.get("sysctl_name", b""), f"{where}: sysctl_name")
        for key in ("current_value", "new_value"):
            if args.get(key) is not None:
                setattr(event, key, _bytes(args[key], f"{where}: {key}"))
        write = hook.context.field("write")
        if write is not None and "write" not in args:
            _set_field(event.context, write, int(event.new_value is not None), where)
    if "socket" in args:
        event.socket = _integer(args["socket"], f"{where}: socket")
    if "retval" in known and hook.context.field("retval") is None:
        event.retval = _integer(args.get("retval", 0), f"{where}: retval")
    return event


def _length_field(hook: abi.Hook) -> Optional[abi.Field]:
    """The field that holds a window's length (``optlen`` of ``optval``)."""
    for f in hook.context.fields:
        if f.name.endswith("len") and f.kind not in ("window", "window_end", "sock"):
            return f
    return None


def _set_fields(place: Place, context: abi.Context, value: Any, what: str,
                allowed: frozenset[str]) -> None:
    if not isinstance(value, dict):
        raise SimulationError(f"{what} is a dict of fields ({', '.join(sorted(allowed))}), "
                              f"not {value!r}")
    for name, v in value.items():
        f = context.field(name)
        if f is None or name not in allowed:
            raise SimulationError(f"{what} has no field '{name}'; it has "
                                  f"{', '.join(sorted(allowed))}")
        _set_field(place, f, v, f"{what}.{name}")


def _set_field(place: Place, f: abi.Field, value: Any, what: str) -> None:
    ty = int_type(f.kind)
    values = value if f.count > 1 else [value]
    if f.count > 1 and (not isinstance(value, (list, tuple)) or len(value) != f.count):
        raise SimulationError(f"{what} is a list of {f.count} {f.kind} values, not {value!r}")
    for i, v in enumerate(values):
        v = _integer(v, what)
        if not ty.fits(v):
            raise SimulationError(f"{what} is a {f.kind} ({ty.min} .. {ty.max}); "
                                  f"{v} does not fit")
        place.at(f.offset + i * f.size).write(encode(v, ty))


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimulationError(f"{what} is an integer, not {value!r}")
    return value


def _bytes(value: Any, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise SimulationError(f"{what} is bytes (or text), not {value!r}")
