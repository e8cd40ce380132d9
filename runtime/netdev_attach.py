"""``Program.attach`` for packet programs: an XDP or tc program to a network
interface, with the options each takes (XDP: ``mode``; tc: ``direction``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from pybpfc import abi

from .errors import BpfError
from .netdev import NetdevLink, attach_tcx, attach_xdp, tc_direction

if TYPE_CHECKING:
    from .program import Program

NETDEV_TARGETS = frozenset({abi.TARGET_NETDEV_XDP, abi.TARGET_NETDEV_TC})
_OPTIONS = {abi.TARGET_NETDEV_XDP: {"mode"}, abi.TARGET_NETDEV_TC: {"direction"}}

NetdevAttachment = Union[NetdevLink]


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
    return attach_tcx(program.fd, program.name, interface, direction)
