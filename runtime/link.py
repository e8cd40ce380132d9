"""Attachments: a loaded program put to work on a cgroup or a socket.

Each attachment is an object that undoes itself on ``close()`` (and as a
context manager).  Cgroup attachments use a BPF link and fall back to
PROG_ATTACH with BPF_F_ALLOW_MULTI on kernels without cgroup links.
"""
from __future__ import annotations

import errno
import os
import socket
from typing import Optional

from pybpfc.abi.system import SO_ATTACH_BPF, SO_DETACH_BPF

from . import bpf
from .cgroup import open_cgroup
from .errors import SyscallError
from .owned import Closing



class Link(Closing):
    """A program attached to a cgroup; closing it detaches the program."""

    def __init__(self, program_name: str, cgroup: str, attach_type: int, link_fd: int = -1,
                 cgroup_fd: int = -1, prog_fd: int = -1):
        self.program_name = program_name
        self.cgroup = cgroup
        self.attach_type = attach_type
        self.fd = link_fd          # -1 when attached with PROG_ATTACH
        self._cgroup_fd = cgroup_fd
        self._prog_fd = prog_fd

    @property
    def is_bpf_link(self) -> bool:
        return self.fd >= 0

    def pin(self, path: "os.PathLike[str] | str") -> None:
        if not self.is_bpf_link:
            raise SyscallError("BPF_OBJ_PIN", errno.EOPNOTSUPP,
                               f"program '{self.program_name}'",
                               "attached without a BPF link, so there is nothing to pin")
        bpf.obj_pin(self.fd, path, what=f"link of program '{self.program_name}'")

    def close(self) -> None:
        if self.fd >= 0:
            bpf.close(self.fd)
            self.fd = -1
        if self._cgroup_fd >= 0:
            try:
                if self._prog_fd >= 0:
                    bpf.prog_detach(self._cgroup_fd, self._prog_fd, self.attach_type,
                                    what=f"program '{self.program_name}'")
            finally:
                bpf.close(self._cgroup_fd)
                self._cgroup_fd = -1
                if self._prog_fd >= 0:
                    bpf.close(self._prog_fd)
                    self._prog_fd = -1

    def __repr__(self) -> str:
        how = "link" if self.is_bpf_link else "prog_attach"
        return f"<Link {self.program_name!r} on {self.cgroup} via {how}>"


def attach_cgroup(prog_fd: int, program_name: str, attach_type: int,
                  cgroup: "os.PathLike[str] | str") -> Link:
    """Attach to the cgroup at ``cgroup`` (a cgroup v2 directory)."""
    what = f"program '{program_name}'"
    cgroup_fd = open_cgroup(cgroup)
    try:
        try:
            link_fd = bpf.link_create(prog_fd, cgroup_fd, attach_type, what=what)
        except SyscallError as err:
            if err.errno not in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, 524):
                raise
            # Kernels before cgroup links (5.7): attach the old way, and keep our
            # own copies of both fds so close() can detach exactly this program.
            bpf.prog_attach(cgroup_fd, prog_fd, attach_type, bpf.BPF_F_ALLOW_MULTI, what=what)
            return Link(program_name, str(cgroup), attach_type, cgroup_fd=cgroup_fd,
                        prog_fd=os.dup(prog_fd))
    except BaseException:
        bpf.close(cgroup_fd)
        raise
    bpf.close(cgroup_fd)
    return Link(program_name, str(cgroup), attach_type, link_fd=link_fd)


class SocketFilter(Closing):
    """A socket filter attached to a socket; closing it detaches it."""

    def __init__(self, program_name: str, sock: socket.socket):
        self.program_name = program_name
        self.socket: Optional[socket.socket] = sock

    def close(self) -> None:
        sock, self.socket = self.socket, None
        if sock is not None and sock.fileno() >= 0:
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_BPF, 0)
            except OSError as err:
                if err.errno != errno.ENOENT:   # nothing attached any more
                    raise


def attach_socket(prog_fd: int, program_name: str, sock: socket.socket) -> SocketFilter:
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_BPF, prog_fd)
    except OSError as err:
        raise SyscallError("setsockopt(SO_ATTACH_BPF)", err.errno or 0,
                           f"program '{program_name}'") from None
    return SocketFilter(program_name, sock)
