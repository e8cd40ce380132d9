"""A loaded program: its file descriptor, its spec and what it can do —
attach, run on test input, pin, describe itself."""
from __future__ import annotations

import os
import socket
from typing import Any, Optional, Union

from pybpfc import abi

from . import bpf
from .errors import BpfError
from .owned import OwnedFd
from .packet_run import PacketRun, run_packet
from .link import Link, SocketFilter, attach_cgroup, attach_socket
from .spec import ProgramSpec
from .tracing_attach import TRACING_TARGETS, attach_tracing
from .tracing_link import TracingLink
from .netdev_attach import NETDEV_TARGETS, NetdevAttachment, attach_netdev


class Program(OwnedFd):
    def __init__(self, fd: int, spec: ProgramSpec, verifier_log: str = ""):
        self.fd = fd
        self.spec = spec
        self.verifier_log = verifier_log

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def what(self) -> str:
        return f"program '{self.spec.name}'"

    def info(self) -> bpf.ProgInfo:
        info = bpf.obj_get_info_by_fd(self.fd, "prog", what=self.what)
        assert isinstance(info, bpf.ProgInfo)
        return info

    @property
    def kind(self) -> abi.ProgramKind:
        """The program's kind: its row in the ABI tables."""
        kind = abi.program_kind_for_section(self.spec.section)
        if kind is None:
            raise BpfError(f"{self.what}: section '{self.spec.section}' names no kind of "
                           "program pybpfc attaches")
        return kind

    @property
    def attach_target(self) -> str:
        """What the program attaches to, from its kind's row in the ABI
        tables (``abi.TARGET_CGROUP``, ``abi.TARGET_SOCKET``, ...)."""
        return self.kind.attach_target

    def attach(self, target: Union[str, int, "os.PathLike[str]", socket.socket, None] = None,
               **options: Any) -> Union[Link, SocketFilter, TracingLink, NetdevAttachment]:
        """Attach to a cgroup (a path) or a socket, whichever the program's
        hook attaches to; a tracing program to its target (the one given, or
        the one its section names) with its options (``tracing_attach``); an
        XDP or tc program to a network interface (``netdev_attach``)."""
        if self.attach_target in TRACING_TARGETS:
            return attach_tracing(self.fd, self.name, self.spec.section, self.kind,
                                  None if target is None else str(target), options)
        if self.attach_target in NETDEV_TARGETS:
            if not isinstance(target, (str, int)):
                raise BpfError(f"{self.what}: attaches to "
                               f"{abi.ATTACH_TARGETS[self.attach_target]}: give its name")
            return attach_netdev(self, target, options)
        if target is None or options:
            raise BpfError(f"{self.what}: attaching to {abi.ATTACH_TARGETS[self.attach_target]} "
                           "takes that target, and no options")
        wanted = abi.TARGET_SOCKET if isinstance(target, socket.socket) \
            else abi.TARGET_CGROUP
        if self.attach_target != wanted:
            raise BpfError(f"{self.what}: section '{self.spec.section}' attaches to "
                           f"{abi.ATTACH_TARGETS[self.attach_target]}, not to a {wanted}")
        if isinstance(target, socket.socket):
            return attach_socket(self.fd, self.name, target)
        if isinstance(target, int):
            raise BpfError(f"{self.what}: attaches to a cgroup: give its path, not {target}")
        assert self.spec.expected_attach_type is not None     # every cgroup hook has one
        return attach_cgroup(self.fd, self.name, self.spec.expected_attach_type, target)

    def test_run(self, data: bytes, repeat: int = 1, ctx: Optional[bytes] = None
                 ) -> bpf.ProgRunResult:
        """Run the program in the kernel on ``data`` (BPF_PROG_TEST_RUN);
        only some program types support it (socket filters do)."""
        return bpf.prog_test_run(self.fd, data, repeat, ctx, what=self.what)

    def run_packet(self, packet: bytes, *, ctx: Optional[bytes] = None,
                   repeat: int = 1) -> "PacketRun":
        """Run this packet program on ``packet`` in the kernel, without a
        network; its verdict by name, the packet after it, the time per run
        (``packet_run.run_packet``)."""
        return run_packet(self, packet, ctx=ctx, repeat=repeat)

    def __repr__(self) -> str:
        return f"<Program {self.name!r} ({self.spec.section}) fd={self.fd}>"
