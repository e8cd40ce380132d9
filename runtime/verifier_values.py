"""What the verifier knows about a register or a stack slot, said plainly.

The verifier writes ``scalar(smin=smin32=0,smax=umax=smax32=umax32=255,
var_off=(0x0; 0xff))``; a learner reads "a number in [0, 255]".  The
kernel leaves out each bound that says nothing (a signed minimum of
-2**63, say), so a missing bound is the widest one.
"""
from __future__ import annotations

import re
from typing import Optional

from .verifier_log import split_outside_parentheses

__all__ = ["describe", "scalar_range", "kind_of"]

S64_MIN, S64_MAX, U64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1

_CALL = re.compile(r"^(?P<kind>[a-z_0-9]+)\((?P<args>.*)\)$")
_NUMBER = re.compile(r"^-?(?:0x[0-9a-f]+|\d+)$")


def _number(text: str) -> int:
    return int(text, 0) if not text.startswith("-") else -int(text[1:], 0)


def _signed(text: str) -> int:
    """A signed bound, which the kernel may print as 64-bit hex."""
    number = _number(text)
    return number - (1 << 64) if number > S64_MAX else number


def _arguments(text: str) -> dict[str, str]:
    """``smin=umin=1,umax=5,var_off=(0x0; 0x7)`` as ``{smin: 1, umin: 1,
    umax: 5, var_off: (0x0; 0x7)}``: a chain ``a=b=v`` gives v to each."""
    found: dict[str, str] = {}
    for part in split_outside_parentheses(text, ","):
        *names, value = part.split("=")
        for name in names:
            found[name.strip()] = value.strip()
    return found


def kind_of(value: str) -> str:
    """``scalar``, ``map_value_or_null``, ``fp`` (a stack address), ...; a
    bare number is a ``scalar``."""
    if _NUMBER.match(value):
        return "scalar"
    if re.match(r"^fp-?\d+$", value):
        return "fp"
    m = _CALL.match(value)
    return m["kind"] if m else value


def scalar_range(value: str) -> Optional[tuple[int, int]]:
    """The values a scalar register may hold, as (lowest, highest): signed
    when it may be negative, else unsigned.  None if it is not a scalar."""
    if _NUMBER.match(value):
        number = _number(value)
        return number, number
    m = _CALL.match(value)
    if m is None or m["kind"] != "scalar":
        return None
    args = _arguments(m["args"])
    smin = _signed(args["smin"]) if "smin" in args else S64_MIN
    smax = _signed(args["smax"]) if "smax" in args else S64_MAX
    umin = _number(args["umin"]) if "umin" in args else 0
    umax = _number(args["umax"]) if "umax" in args else U64_MAX
    if smin >= 0 or ("smin" not in args and "umax" in args and umax <= S64_MAX):
        return max(max(smin, 0), umin), min(umax, smax)
    return smin, smax


def _range_text(low: int, high: int) -> str:
    if low == high:
        return f"exactly {low}"
    if (low, high) in ((S64_MIN, S64_MAX), (0, U64_MAX)):
        return "any number"
    return f"a number in [{low}, {high}]"


def _map_name(args: dict[str, str]) -> str:
    name = args.get("map")
    if name is None:
        return ""
    section = re.search(r"\.(bss|data|rodata)$", name)
    if section:        # a global data section's map (deny_ttl.bss)
        return f" of the program's globals (.{section.group(1)})"
    return f" of map {name}"


def _offset(args: dict[str, str]) -> str:
    off = args.get("off")
    return f" + {off}" if off and off != "0" else ""


def _pointer(kind: str, args: dict[str, str], packet: str) -> Optional[str]:
    nullable = kind.endswith("_or_null")
    base = kind.removesuffix("_or_null")
    if base.startswith("ptr_"):          # trusted BTF pointers: ptr_task_struct
        base = "ptr"
    text = {
        "ctx": "the hook's context (ctx)",
        "map_value": f"a pointer to a value{_map_name(args)}{_offset(args)}",
        "map_key": f"a pointer to a key{_map_name(args)}",
        "map_ptr": "the map" + (f" {args['map']}" if "map" in args else ""),
        "pkt": f"a pointer into the {packet}{_offset(args)}",
        "pkt_meta": "a pointer to the packet's metadata",
        "pkt_end": f"the end of the {packet}",
        "sock": "a socket", "sock_common": "a socket", "tcp_sock": "a TCP socket",
        "mem": "a pointer to a buffer", "rdonly_mem": "a pointer to a read-only buffer",
        "ringbuf_mem": "a ring buffer record", "ptr": "a pointer to a kernel object",
        "buf": "a pointer to a buffer", "func": "a function",
    }.get(base)
    if text is None:
        return None
    if base == "pkt" and "r" in args:
        checked = _number(args["r"])
        text += (" (no byte of it checked yet)" if checked <= 0
                 else f" (checked up to byte {checked})" if checked < 0xFFFF else "")
    return text + (", or None" if nullable else "")


def _stack(value: str) -> str:
    """A stack slot's bytes: ``m`` a number, ``0`` zero, ``?`` never
    written, ``f`` a frame pointer, ``r`` a reference; or a spilled register."""
    bytes_ = re.match(r"^[m0?frid]{0,8}", value)
    assert bytes_ is not None         # it matches the empty string
    if bytes_.end() < len(value):     # a register spilled there, after its bytes
        return describe(value[bytes_.end():])
    unset = value.count("?")
    if unset == len(value):
        return "never written"
    if unset == 0:
        return "zeros" if set(value) == {"0"} else "written"
    return f"{len(value) - unset} bytes written, {unset} never written"


def describe(value: str, *, stack: bool = False, packet: str = "packet") -> str:
    """A register's (or, with ``stack``, a stack slot's) value as the
    verifier knows it, in words.  Unknown notations come back as they are."""
    if stack:
        return _stack(value)
    if re.match(r"^fp-?\d+$", value):
        offset = int(value[2:] or 0)
        return "the stack's end (frame pointer)" if offset == 0 else \
            f"a pointer into the stack, at {offset}"
    bounds = scalar_range(value)
    if bounds is not None:
        return _range_text(*bounds)
    m = _CALL.match(value)
    if m is None:
        return value
    return _pointer(m["kind"], _arguments(m["args"]), packet) or value
