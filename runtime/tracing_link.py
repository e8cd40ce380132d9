"""A tracing program attached: the BPF links and perf events that hold the
attachment, owned and closed together.

Tracepoints, uprobes and sampling events attach through a perf event (one,
or one per CPU) and a BPF link on it; raw tracepoints and BTF-typed
programs through a BPF link alone.  Closing the links detaches, then the
perf events are closed.  On kernels before BPF links for perf events
(5.15) the program is set on the perf event with an ioctl, and closing the
perf event detaches it.
"""
from __future__ import annotations

import errno
import os
from typing import Iterable

from pybpfc.abi.kernel import PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF

from . import bpf, system
from .errors import BpfError, SyscallError
from .owned import Closing

# errnos with which a kernel says it has no BPF link for this kind of attachment.
NO_LINK_ERRNOS = (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, 524)


class TracingLink(Closing):
    """``program_name`` attached to ``target`` (as the user named it);
    ``kind`` says what the target is (``tracepoint``, ``uprobe``, ...)."""

    def __init__(self, program_name: str, kind: str, target: str,
                 link_fds: Iterable[int] = (), perf_fds: Iterable[int] = ()):
        self.program_name = program_name
        self.kind = kind
        self.target = target
        self.link_fds = list(link_fds)
        self.perf_fds = list(perf_fds)

    @property
    def what(self) -> str:
        return f"program '{self.program_name}' on {self.kind} {self.target}"

    @property
    def fd(self) -> int:
        """The BPF link's fd when the attachment is one link, else -1."""
        return self.link_fds[0] if len(self.link_fds) == 1 else -1

    @property
    def is_bpf_link(self) -> bool:
        return self.fd >= 0

    def pin(self, path: "os.PathLike[str] | str") -> None:
        if not self.is_bpf_link:
            raise BpfError(f"{self.what}: cannot be pinned: it is held by "
                           f"{len(self.link_fds)} BPF links and {len(self.perf_fds)} perf "
                           "events, not by one BPF link")
        bpf.obj_pin(self.fd, path, what=f"link of {self.what}")

    def info(self) -> bpf.LinkInfo:
        info = bpf.obj_get_info_by_fd(self.fd, "link", what=f"link of {self.what}")
        assert isinstance(info, bpf.LinkInfo)
        return info

    def close(self) -> None:
        links, self.link_fds = self.link_fds, []
        perfs, self.perf_fds = self.perf_fds, []
        for fd in links + perfs:
            os.close(fd)

    def __repr__(self) -> str:
        return (f"<TracingLink {self.what}: {len(self.link_fds)} links, "
                f"{len(self.perf_fds)} perf events>")


def attach_to_perf_events(prog_fd: int, program_name: str, kind: str, target: str,
                          perf_fds: list[int]) -> TracingLink:
    """Attach a program to perf events already opened (and owned from now on
    by the link returned, or closed if attaching fails): a BPF link on each
    (BPF_LINK_CREATE, BPF_PERF_EVENT), or PERF_EVENT_IOC_SET_BPF where the
    kernel has no such links; then the events are enabled."""
    link = TracingLink(program_name, kind, target, perf_fds=perf_fds)
    try:
        for perf_fd in perf_fds:
            fd = _perf_link(prog_fd, perf_fd, link)
            if fd >= 0:
                link.link_fds.append(fd)
            system.perf_event_ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0, what=link.what)
    except BaseException:
        link.close()
        raise
    return link


def _perf_link(prog_fd: int, perf_fd: int, link: TracingLink) -> int:
    """A BPF link of the program on the perf event, or -1 after falling back
    to the ioctl (the perf event then holds the program)."""
    try:
        return bpf.link_create(prog_fd, perf_fd, bpf.BPF_PERF_EVENT, what=link.what)
    except SyscallError as err:
        if err.errno not in NO_LINK_ERRNOS or link.link_fds:
            raise
    system.perf_event_ioctl(perf_fd, PERF_EVENT_IOC_SET_BPF, prog_fd, what=link.what)
    return -1

