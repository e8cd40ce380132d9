"""tc programs attached the way kernels before tcx links (6.6) take them:
a clsact qdisc on the interface and a cls_bpf filter in direct-action mode
on its ingress or egress, both made over rtnetlink.

Written here rather than taken from a netlink library: it is four fixed
messages (add and delete a qdisc and a filter) and one dump, a hundred
lines, for a fallback path; a dependency as large as pyroute2 would be
installed everywhere for kernels most machines no longer run.

``close()`` deletes the filter, and the clsact qdisc too if this
attachment created it and no filter is left on it (someone else's filters
keep it).
"""
from __future__ import annotations

import errno
import itertools
import socket
import struct
from typing import Iterator

from pybpfc.abi import kernel as k

from .errors import BpfError, describe_errno

_TCMSG = struct.Struct("=BBHiIII")        # struct tcmsg
_NLMSGHDR = struct.Struct("=IHHII")       # struct nlmsghdr
_RTATTR = struct.Struct("=HH")            # struct rtattr
_PARENTS = {"ingress": (k.TC_H_CLSACT & 0xFFFF0000) | k.TC_H_MIN_INGRESS,
            "egress": (k.TC_H_CLSACT & 0xFFFF0000) | k.TC_H_MIN_EGRESS}
CLSACT_HANDLE = 0xFFFF0000
FILTER_HANDLE = 1
FIRST_PRIORITY = 0xC0DE                   # tried first; the next free one above it is taken
_sequence = itertools.count(1)


class NetlinkError(BpfError):
    def __init__(self, what: str, request: str, number: int):
        self.errno = number
        super().__init__(f"{what}: netlink {request} failed: {describe_errno(number)}")


def _attr(kind: int, data: bytes) -> bytes:
    length = _RTATTR.size + len(data)
    return _RTATTR.pack(length, kind) + data + bytes(-length % 4)


def _tcmsg(ifindex: int, handle: int, parent: int, info: int = 0) -> bytes:
    return _TCMSG.pack(socket.AF_UNSPEC, 0, 0, ifindex, handle, parent, info)


def _messages(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(type, sequence, payload) of each netlink message in ``data``."""
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _, sequence, _ = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            return
        yield kind, sequence, data[offset + _NLMSGHDR.size:offset + length]
        offset += (length + 3) & ~3


def _request(kind: int, flags: int, body: bytes, what: str, request: str) -> list[bytes]:
    """Send one rtnetlink request and wait for its acknowledgement (or the
    end of its dump); the payloads of the messages that came back."""
    sequence = next(_sequence)
    message = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, flags | k.NLM_F_REQUEST,
                             sequence, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, k.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        sock.send(message)
        replies: list[bytes] = []
        while True:
            for reply_kind, reply_sequence, payload in _messages(sock.recv(1 << 16)):
                if reply_sequence != sequence:
                    continue
                if reply_kind == k.NLMSG_DONE:
                    return replies
                if reply_kind == k.NLMSG_ERROR:
                    number = -struct.unpack_from("=i", payload)[0]
                    if number:
                        raise NetlinkError(what, request, number)
                    return replies
                replies.append(payload)


class ClsBpfFilter:
    """A tc program attached as a cls_bpf filter on a clsact qdisc."""

    def __init__(self, program_name: str, interface: str, ifindex: int, direction: str,
                 priority: int, created_qdisc: bool):
        self.program_name = program_name
        self.hook = f"cls_bpf {direction}"
        self.interface = interface
        self.ifindex = ifindex
        self.direction = direction
        self.priority = priority
        self.created_qdisc = created_qdisc
        self.attached = True

    @property
    def what(self) -> str:
        return f"{self.hook} filter of program '{self.program_name}' on {self.interface}"

    @property
    def is_bpf_link(self) -> bool:
        return False

    def close(self) -> None:
        if not self.attached:
            return
        self.attached = False
        body = _tcmsg(self.ifindex, FILTER_HANDLE, _PARENTS[self.direction],
                      self.priority << 16 | socket.htons(k.ETH_P_ALL)) + \
            _attr(k.TCA_KIND, b"bpf\0")
        try:
            _request(k.RTM_DELTFILTER, k.NLM_F_ACK, body, self.what, "RTM_DELTFILTER")
        except NetlinkError as error:
            if error.errno not in (errno.ENOENT, errno.ENODEV, errno.EINVAL):
                raise      # gone with its interface or qdisc: nothing to undo
        if self.created_qdisc and not any(filters_on(self.ifindex, d, self.what)
                                           for d in _PARENTS):
            delete_clsact(self.ifindex, self.what)

    def __enter__(self) -> "ClsBpfFilter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ClsBpfFilter {self.program_name!r} {self.direction} on {self.interface}>"


def add_clsact(ifindex: int, what: str) -> bool:
    """Add a clsact qdisc to the interface; False if it had one already."""
    body = _tcmsg(ifindex, CLSACT_HANDLE, k.TC_H_CLSACT) + _attr(k.TCA_KIND, b"clsact\0")
    try:
        _request(k.RTM_NEWQDISC, k.NLM_F_ACK | k.NLM_F_CREATE | k.NLM_F_EXCL, body, what,
                 "RTM_NEWQDISC clsact")
    except NetlinkError as error:
        if error.errno == errno.EEXIST:
            return False
        raise
    return True


def delete_clsact(ifindex: int, what: str) -> None:
    body = _tcmsg(ifindex, CLSACT_HANDLE, k.TC_H_CLSACT) + _attr(k.TCA_KIND, b"clsact\0")
    try:
        _request(k.RTM_DELQDISC, k.NLM_F_ACK, body, what, "RTM_DELQDISC clsact")
    except NetlinkError as error:
        if error.errno not in (errno.ENOENT, errno.ENODEV, errno.EINVAL):
            raise


def filters_on(ifindex: int, direction: str, what: str) -> int:
    """How many filters the clsact qdisc has on ``direction``."""
    replies = _request(k.RTM_GETTFILTER, k.NLM_F_DUMP, _tcmsg(ifindex, 0, _PARENTS[direction]),
                       what, "RTM_GETTFILTER")
    return len(replies)


def attach_cls_bpf(prog_fd: int, program_name: str, interface: str, ifindex: int,
                   direction: str) -> ClsBpfFilter:
    """Attach a tc program on ``direction`` of the interface as a
    direct-action cls_bpf filter, adding the clsact qdisc if it is missing."""
    what = f"program '{program_name}'"
    created = add_clsact(ifindex, what)
    options = _attr(k.TCA_BPF_FD, struct.pack("=I", prog_fd)) + \
        _attr(k.TCA_BPF_NAME, program_name.encode() + b"\0") + \
        _attr(k.TCA_BPF_FLAGS, struct.pack("=I", k.TCA_BPF_FLAG_ACT_DIRECT))
    try:
        for priority in range(FIRST_PRIORITY, 0x10000):
            body = _tcmsg(ifindex, FILTER_HANDLE, _PARENTS[direction],
                          priority << 16 | socket.htons(k.ETH_P_ALL)) + \
                _attr(k.TCA_KIND, b"bpf\0") + _attr(k.TCA_OPTIONS | k.NLA_F_NESTED, options)
            try:
                _request(k.RTM_NEWTFILTER, k.NLM_F_ACK | k.NLM_F_CREATE | k.NLM_F_EXCL, body,
                         what, "RTM_NEWTFILTER bpf")
            except NetlinkError as error:
                if error.errno == errno.EEXIST:
                    continue
                raise
            return ClsBpfFilter(program_name, interface, ifindex, direction, priority, created)
        raise BpfError(f"{what}: every tc priority from {FIRST_PRIORITY} up is taken on "
                       f"{interface} {direction}")
    except BaseException:
        if created:
            delete_clsact(ifindex, what)
        raise

