"""Packet programs attached to a network interface: XDP through a BPF link
(BPF_XDP, generic or native mode), tc through a tcx link (BPF_TCX_INGRESS
or BPF_TCX_EGRESS), or, on kernels without tcx (before 6.6), through
netlink's cls_bpf on a clsact qdisc (``tc_netlink``).

Interfaces are those of the calling thread's network namespace, named or
given by index.  Each attachment is an object that detaches on ``close()``
(and as a context manager); a link's program can be swapped without a gap
with ``update()``.
"""
from __future__ import annotations

import errno
import socket
from typing import Optional, Union

from pybpfc.abi import kernel

from . import bpf
from .errors import BpfError, SyscallError, describe_errno
from .owned import OwnedFd

Interface = Union[str, int]

# XDP modes: None lets the kernel choose (native if the driver has it).
XDP_MODES = {None: 0, "generic": kernel.XDP_FLAGS_SKB_MODE, "native": kernel.XDP_FLAGS_DRV_MODE}
TC_DIRECTIONS = {"ingress": kernel.BPF_TCX_INGRESS, "egress": kernel.BPF_TCX_EGRESS}
DIRECTION_OF_ATTACH_TYPE = {value: name for name, value in TC_DIRECTIONS.items()}


def interface_index(what: str, interface: Interface) -> tuple[str, int]:
    """(name, index) of an interface of this network namespace, given by
    either; a missing one is refused naming those there are."""
    try:
        if isinstance(interface, int):
            return socket.if_indextoname(interface), interface
        return interface, socket.if_nametoindex(interface)
    except OSError:
        present = ", ".join(name for _, name in socket.if_nameindex())
        raise BpfError(f"{what}: no network interface {interface!r} in this network "
                       f"namespace (it has: {present})") from None


class NetdevLink(OwnedFd):
    """A packet program attached to an interface through a BPF link;
    closing it (or its last pin going) detaches the program."""

    def __init__(self, program_name: str, hook: str, interface: str, ifindex: int,
                 link_fd: int):
        self.program_name = program_name
        self.hook = hook            # "xdp", "tcx ingress" or "tcx egress"
        self.interface = interface
        self.ifindex = ifindex
        self.fd = link_fd

    @property
    def what(self) -> str:
        return f"{self.hook} link of program '{self.program_name}' on {self.interface}"

    @property
    def is_bpf_link(self) -> bool:
        return self.fd >= 0

    def update(self, prog_fd: int, program_name: str) -> None:
        """Run another program on the same hook from now on, atomically
        (BPF_LINK_UPDATE): no packet goes by with neither."""
        bpf.link_update(self.fd, prog_fd, what=self.what)
        self.program_name = program_name

    def info(self) -> bpf.LinkInfo:
        info = bpf.obj_get_info_by_fd(self.fd, "link", what=self.what)
        assert isinstance(info, bpf.LinkInfo)
        return info

    def __repr__(self) -> str:
        return f"<NetdevLink {self.program_name!r} {self.hook} on {self.interface}>"


def attach_xdp(prog_fd: int, program_name: str, interface: Interface,
               mode: Optional[str] = None) -> NetdevLink:
    """Attach an XDP program to ``interface``; ``mode`` "generic" (any
    driver, after the skb is built), "native" (in the driver) or None (the
    kernel's choice)."""
    what = f"program '{program_name}'"
    if mode not in XDP_MODES:
        raise BpfError(f"{what}: XDP mode {mode!r} is not one of generic, native")
    name, ifindex = interface_index(what, interface)
    try:
        link_fd = bpf.link_create(prog_fd, ifindex, kernel.BPF_XDP, XDP_MODES[mode],
                                  what=what)
    except SyscallError as error:
        raise _xdp_refusal(what, name, mode, error) from None
    return NetdevLink(program_name, "xdp", name, ifindex, link_fd)


def _xdp_refusal(what: str, interface: str, mode: Optional[str],
                 error: SyscallError) -> BpfError:
    if error.errno in (errno.EBUSY, errno.EEXIST):
        return BpfError(f"{what}: {interface} already has an XDP program attached "
                        f"({describe_errno(error.errno)}); detach it first, or swap programs with "
                        "the link's update()")
    if error.errno == errno.EOPNOTSUPP and mode == "native":
        return BpfError(f"{what}: the driver of {interface} has no native XDP "
                        f"({describe_errno(error.errno)}); attach in mode 'generic'")
    return error


def attach_tcx(prog_fd: int, program_name: str, interface: Interface,
               direction: str) -> NetdevLink:
    """Attach a tc program to ``interface``'s ``direction`` ("ingress" or
    "egress") through a tcx link, after the programs already there."""
    what = f"program '{program_name}'"
    name, ifindex = interface_index(what, interface)
    link_fd = bpf.link_create(prog_fd, ifindex, TC_DIRECTIONS[direction], what=what)
    return NetdevLink(program_name, f"tcx {direction}", name, ifindex, link_fd)


def tc_direction(what: str, section_attach_type: Optional[int],
                 direction: Optional[str]) -> str:
    """The direction a tc program attaches in: the one its section names
    (tcx/ingress, tc/egress, ...) or, for a plain "tc" section, the one given."""
    named = DIRECTION_OF_ATTACH_TYPE.get(section_attach_type or -1)
    if direction is not None and direction not in TC_DIRECTIONS:
        raise BpfError(f"{what}: tc direction {direction!r} is not ingress or egress")
    if named is not None and direction is not None and direction != named:
        raise BpfError(f"{what}: its section attaches it on {named}, not {direction}")
    chosen = direction or named
    if chosen is None:
        raise BpfError(f"{what}: a 'tc' program attaches on ingress or egress: give "
                       "direction='ingress' or 'egress' (or write its section as "
                       "tcx/ingress or tcx/egress)")
    return chosen
