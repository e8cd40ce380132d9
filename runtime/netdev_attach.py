"""``Program.attach`` for packet programs: an XDP or tc program to a network
interface, with the options each takes (XDP: ``mode``; tc: ``direction``
and ``via``: "tcx" links, "netlink" cls_bpf, or None for tcx with netlink
as the fallback on kernels without tcx)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from pybpfc import abi

from .errors import BpfError, SyscallError
from .netdev import NetdevLink, attach_tcx, attach_xdp, interface_index, tc_direction
from .tc_netlink import ClsBpfFilter, attach_cls_bpf
from .tracing_link import NO_LINK_ERRNOS

if TYPE_CHECKING:
    from .program import Program

NETDEV_TARGETS = frozenset({abi.TARGET_NETDEV_XDP, abi.TARGET_NETDEV_TC})
_OPTIONS = {abi.TARGET_NETDEV_XDP: {"mode"}, abi.TARGET_NETDEV_TC: {"direction", "via"}}
TC_VIAS = (None, "tcx", "netlink")

NetdevAttachment = Union[NetdevLink, ClsBpfFilter]


def attach_netdev(program: "Program", interface: Union[str, int],
                  options: dict[str, Any]) -> NetdevAttachment:
    where = program.attach_target
    unknown = set(options) - _OPTIONS[where]
    if unknown:
        raise BpfError(f"{program.what}: attaching to {abi.ATTACH_TARGETS[where]} takes "
                       f"the options {', '.join(sorted(_OPTIONS[where]))}, not "
                       f"{', '.join(sorted(unknown))}")
    if where == abi.TARGET_NETDEV_XDP:
        return attach_xdp(program.fd, program.name, interface, options.get("mode"))
    direction = tc_direction(program.what, program.spec.expected_attach_type,
                             options.get("direction"))
    via = options.get("via")
    if via not in TC_VIAS:
        raise BpfError(f"{program.what}: tc programs attach via 'tcx' or 'netlink', "
                       f"not {via!r}")
    if via != "netlink":
        try:
            return attach_tcx(program.fd, program.name, interface, direction)
        except SyscallError as error:
            if via == "tcx" or error.errno not in NO_LINK_ERRNOS:
                raise
            # A kernel before tcx links (6.6): the old way, over netlink.
    name, ifindex = interface_index(program.what, interface)
    return attach_cls_bpf(program.fd, program.name, name, ifindex, direction)
