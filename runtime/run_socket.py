"""A socket for socket filters to be tried on: ``pybpfc run --socket udp:PORT``.

A socket filter decides what one socket receives (drop a packet, keep it,
or keep its first N bytes).  ``pybpfc run`` opens a UDP socket on the
loopback address (``udp:PORT`` on 127.0.0.1, ``udp6:PORT`` on ::1; port 0
picks a free one), attaches the object's socket filters to it, and tells
the command where it is in the environment variable ``PYBPFC_SOCKET``
(``127.0.0.1:40123``, ``[::1]:40123``).  While the command runs, each
datagram the socket receives, that is each one the filters let through, is
shown as it comes (through ``live.Watcher``, as a source named
``udp 127.0.0.1:40123``).
"""
from __future__ import annotations

import socket
from dataclasses import dataclass

from .errors import BpfError
from .owned import Closing

ENVIRONMENT = "PYBPFC_SOCKET"
_FAMILIES = {"udp": (socket.AF_INET, "127.0.0.1"), "udp6": (socket.AF_INET6, "::1")}
_MAX_DATAGRAM = 65536


@dataclass(frozen=True)
class Datagram:
    """A datagram the socket received: who sent it, and the bytes the
    filters kept."""
    sender: str
    data: bytes


def _address(family: int, host: str, port: int) -> str:
    return f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"


class FilteredSocket(Closing):
    """The socket ``--socket SPEC`` asks for, bound and non-blocking; its
    ``read()`` takes the datagrams pending."""

    def __init__(self, spec: str):
        kind, _, port_text = spec.partition(":")
        if kind not in _FAMILIES or not port_text.isdigit() or int(port_text) > 65535:
            raise BpfError(f"--socket {spec}: write udp:PORT (127.0.0.1) or udp6:PORT (::1), "
                           f"PORT 0 for any free one, e.g. --socket udp:0")
        family, host = _FAMILIES[kind]
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.socket.bind((host, int(port_text)))
        except OSError as err:
            self.socket.close()
            raise BpfError(f"--socket {spec}: cannot bind {host} port {port_text}: "
                           f"{err.strerror}") from None
        self.socket.setblocking(False)
        self.address = _address(family, host, self.socket.getsockname()[1])
        self.name = f"{kind} {self.address}"
        self.received = 0

    def fileno(self) -> int:
        return self.socket.fileno()

    def read(self) -> list[Datagram]:
        """The datagrams pending now, oldest first, without waiting."""
        out = []
        while True:
            try:
                data, sender = self.socket.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                break
            out.append(Datagram(_address(self.socket.family, sender[0], sender[1]), data))
        self.received += len(out)
        return out

    def close(self) -> None:
        self.socket.close()
