"""Packet access for generated programs of the packet hooks (XDP, tc,
cgroup_skb): a header taken at a constant or variable offset, tested
against None, its fields read in either byte order and, where the hook may,
written."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pybpfc import abi

from .choose import chance

if TYPE_CHECKING:
    from .program_writer import ProgramWriter

CONVERT = {"be16": ("ntohs", "htons", "u16"), "be32": ("ntohl", "htonl", "u32")}


def packet_statement(w: "ProgramWriter", pad: str) -> list[str]:
    """``h = ctx.header(T, offset)`` and a block that uses it when it fits."""
    header = w.c.choice(abi.HEADERS)
    name = w.fresh("hdr")
    w.imports.add(header.python_name)
    if chance(w.c, 50):
        offset = str(w.c.integer(0, 60))
    else:
        offset = f"({w.dynamic('u8', 1)} & 0x3F)"
    ctx = "ctx"
    lines = [f"{pad}{name} = {ctx}.header({header.python_name}, {offset})",
             f"{pad}if {name} is not None:"]
    for _ in range(w.c.integer(1, 3)):
        f = w.c.choice(header.fields)
        field = f"{name}.{f.name}" + (f"[{w.c.integer(0, f.count - 1)}]" if f.count > 1 else "")
        writable = w.hook.packet == "write" and chance(w.c, 40)
        if f.type in CONVERT:
            to_host, to_net, host = CONVERT[f.type]
            w.imports.update((to_host, to_net))
            if writable:
                lines.append(f"{pad}    {field} = {to_net}({w.expr(host, 1)})")
            elif chance(w.c, 50):
                lines.append(f"{pad}    {w.fresh('n')}: {host} = {to_host}({field})")
            else:
                lines += [f"{pad}    if {field} == {to_net}({w.expr(host, 1)}):",
                          f"{pad}        pass"]
        elif writable:
            lines.append(f"{pad}    {field} = {w.expr(f.type, 1)}")
        else:
            lines.append(f"{pad}    {w.fresh('b')}: u32 = {field}")
    return lines
