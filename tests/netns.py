"""Private network namespaces and veth pairs for tests that send real
traffic, and the helpers that send it from a child and see what arrives.

``veth_pair()`` moves the calling thread into a new network namespace (the
"inner" one, where the test goes on and attaches its programs), creates a
veth pair there and moves its peer end into a second new namespace (the
"peer" one, where children send from); both ends have addresses in one
/24.  On leaving the ``with``, even after a failure, the thread returns to
the namespace it came from and the namespaces (and with them the veth pair)
go away with their last reference.  Nothing here touches the machine's own
namespace or interfaces.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pickle
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import pytest

from pybpfc.abi.system import CLONE_NEWNET, SO_NO_CHECK
from tests.support import report_to_parent, require_kernel_feature, require_root

INNER_DEV, PEER_DEV = "pyb0", "pyb1"
INNER_ADDRESS, PEER_ADDRESS, PREFIX = "10.213.0.1", "10.213.0.2", 24


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def setns(fd: int) -> None:
    if _libc().setns(fd, CLONE_NEWNET) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"setns(CLONE_NEWNET): {os.strerror(number)}")


def _unshare() -> int:
    """A new network namespace for this thread; an fd that refers to it."""
    if _libc().unshare(CLONE_NEWNET) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"unshare(CLONE_NEWNET): {os.strerror(number)}")
    return _this_threads_netns()


def _this_threads_netns() -> int:
    return os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net",
                   os.O_RDONLY | os.O_CLOEXEC)


def ip(*args: str, netns_fd: Optional[int] = None, pass_fds: tuple[int, ...] = ()) -> None:
    """Run iproute2's ``ip ARGS`` in this thread's namespace, or in
    ``netns_fd``'s (entered by the child before it execs)."""
    tool = shutil.which("ip")
    require_kernel_feature("iproute2", tool is not None, "the ip command is not installed")
    assert tool is not None
    enter = None if netns_fd is None else (lambda: setns(netns_fd))
    result = subprocess.run([tool, *args], capture_output=True, text=True,
                            preexec_fn=enter, pass_fds=pass_fds +
                            (() if netns_fd is None else (netns_fd,)))
    if result.returncode != 0:
        raise OSError(f"ip {' '.join(args)}: {result.stderr.strip()}")


@contextlib.contextmanager
def private_netns() -> Iterator[int]:
    """This thread in a new network namespace with loopback up, for the
    ``with``; yields an fd of the namespace."""
    require_root("creating network namespaces")
    home = _this_threads_netns()
    try:
        inner = _unshare()
        try:
            ip("link", "set", "lo", "up")
            yield inner
        finally:
            setns(home)
            os.close(inner)
    finally:
        os.close(home)


@contextlib.contextmanager
def entered(netns_fd: int) -> Iterator[None]:
    """This thread in ``netns_fd``'s namespace for the ``with`` (to attach
    to the peer's interfaces, which only their namespace names)."""
    home = _this_threads_netns()
    try:
        setns(netns_fd)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


@dataclass
class VethPair:
    dev: str                 # the end in the test's (inner) namespace
    ifindex: int
    address: str
    peer_dev: str            # the end in the peer namespace
    peer_ifindex: int
    peer_address: str
    inner_fd: int
    peer_fd: int

    def in_peer(self, fn: Callable[..., Any], *args: Any, timeout: float = 10) -> Any:
        """``fn(*args)`` in a forked child in the peer namespace; its result
        (or its exception, re-raised here as an AssertionError)."""
        return run_in_netns(self.peer_fd, fn, *args, timeout=timeout)

    def start_in_peer(self, fn: Callable[..., Any], *args: Any) -> "Background":
        """``fn(ready, *args)`` in a forked child in the peer namespace,
        returned once the child has called ``ready()`` (say, when its
        receiver is bound); ``.result()`` waits for what ``fn`` returns."""
        return Background(self.peer_fd, fn, args)


class Background:
    def __init__(self, netns_fd: int, fn: Callable[..., Any], args: tuple[Any, ...]):
        ready_read, ready_write = os.pipe()

        def child() -> Any:
            os.close(ready_read)
            return fn(lambda: os.write(ready_write, b"r"), *args)
        self._thread_result: list[Any] = []
        self._thread = threading.Thread(
            target=lambda: self._thread_result.append(_outcome(netns_fd, child)), daemon=True)
        self._thread.start()
        self._ready_write = ready_write     # the child's copy is made by the fork
        try:
            if not _wait_readable(ready_read, 10):
                raise AssertionError(f"the child in the peer namespace did not get ready: "
                                     f"{self.result()}")
        finally:
            os.close(ready_read)

    def result(self, timeout: float = 15) -> Any:
        self._thread.join(timeout)
        if self._ready_write >= 0:
            os.close(self._ready_write)
            self._ready_write = -1
        assert self._thread_result, "the child in the peer namespace did not finish"
        kind, value = self._thread_result[0]
        if kind == "error":
            raise AssertionError(value)
        return value


def _outcome(netns_fd: int, fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", run_in_netns(netns_fd, fn))
    except AssertionError as error:
        return ("error", str(error))


@contextlib.contextmanager
def veth_pair() -> Iterator[VethPair]:
    """A veth pair: one end here, in a private namespace this thread enters,
    the other in a second private namespace; both up, with addresses."""
    with private_netns() as inner:
        peer = _unshare()
        try:
            setns(inner)
            ip("link", "set", "lo", "up", netns_fd=peer)
            ip("link", "add", INNER_DEV, "type", "veth", "peer", "name", PEER_DEV,
               "netns", f"/proc/self/fd/{peer}", pass_fds=(peer,))
            ip("addr", "add", f"{INNER_ADDRESS}/{PREFIX}", "dev", INNER_DEV)
            ip("link", "set", INNER_DEV, "up")
            ip("addr", "add", f"{PEER_ADDRESS}/{PREFIX}", "dev", PEER_DEV, netns_fd=peer)
            ip("link", "set", PEER_DEV, "up", netns_fd=peer)
            peer_ifindex = run_in_netns(peer, socket.if_nametoindex, PEER_DEV)
            yield VethPair(INNER_DEV, socket.if_nametoindex(INNER_DEV), INNER_ADDRESS,
                           PEER_DEV, peer_ifindex, PEER_ADDRESS, inner, peer)
        finally:
            os.close(peer)


def run_in_netns(netns_fd: int, fn: Callable[..., Any], *args: Any,
                 timeout: float = 10) -> Any:
    """``fn(*args)`` in a forked child that first enters ``netns_fd``'s
    namespace; its result, or its failure as an AssertionError.  A child
    still running after ``timeout`` seconds is killed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child
        os.close(read_end)
        report_to_parent(write_end, lambda: setns(netns_fd), fn, *args)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            ready = _wait_readable(pipe.fileno(), timeout)
            data = pipe.read() if ready else b""
    finally:
        if not data:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        os.waitpid(pid, 0)
    if not data:
        raise AssertionError(f"the child in the network namespace gave nothing back within "
                             f"{timeout} s")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise AssertionError(f"the child in the network namespace failed: {value}")
    return value


def _wait_readable(fd: int, timeout: float) -> bool:
    import select
    return bool(select.select([fd], [], [], timeout)[0])


@pytest.fixture
def veth() -> Iterator[VethPair]:
    """A test's veth pair (import it into the test module to use it)."""
    with veth_pair() as pair:
        yield pair


def xdp_state(dev: str) -> Any:
    """What iproute2 reports of an interface's XDP attachment (None: none)."""
    shown = subprocess.run(["ip", "-j", "-d", "link", "show", dev], capture_output=True,
                           text=True, check=True)
    return json.loads(shown.stdout)[0].get("xdp")


# ------------------------------------------------------------------ traffic


def send_udp(address: str, port: int, payloads: list[bytes], checksum: bool = True) -> int:
    """Send each payload as one datagram; how many were sent.  Without
    ``checksum`` (SO_NO_CHECK) the datagrams carry none, so a receiver behind
    an XDP program that forwards them does not find a partial one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        if not checksum:
            tx.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
        for payload in payloads:
            tx.sendto(payload, (address, port))
    return len(payloads)


@contextlib.contextmanager
def udp_receiver(address: str, port: int) -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind((address, port))
        yield rx


def received(rx: socket.socket, wait: float = 1.0) -> list[bytes]:
    """The datagrams that arrive on ``rx`` until none has for ``wait`` s."""
    rx.settimeout(wait)
    got = []
    while True:
        try:
            got.append(rx.recv(65536))
        except socket.timeout:
            return got


def receive_udp(ready: Callable[[], Any], address: str, port: int,
                wait: float = 1.0) -> list[tuple[bytes, int]]:
    """Bind to ``address``:``port``, say ``ready()``, and return each datagram
    that arrives (with the TOS byte of its IP header) until none has for
    ``wait`` s: run it with ``VethPair.start_in_peer``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        rx.bind((address, port))
        rx.settimeout(wait)
        ready()
        got: list[tuple[bytes, int]] = []
        while True:
            try:
                data, ancillary, _, _ = rx.recvmsg(65536, socket.CMSG_SPACE(1))
            except socket.timeout:
                return got
            tos = next((c[2][0] for c in ancillary if c[1] == socket.IP_TOS), -1)
            got.append((data, tos))


def send_raw_ipv4(packets: list[bytes]) -> int:
    """Send each IPv4 packet as it is, its header and its UDP or TCP
    checksum included (a raw IPPROTO_RAW socket: the kernel fills in only
    the IP header's checksum), toward its destination address; how many."""
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw:
        for packet in packets:
            raw.sendto(packet, (socket.inet_ntoa(packet[16:20]), 0))
    return len(packets)


def tcp_exchange(address: str, port: int, message: bytes, timeout: float = 3) -> bytes:
    """Connect, send ``message``, read the echo until the server closes;
    what came back (raises on a refused or timed-out connection)."""
    with socket.create_connection((address, port), timeout=timeout) as conn:
        conn.sendall(message)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def tcp_echo_server(address: str, port: int) -> Iterator[socket.socket]:
    """A listener that echoes one connection at a time, served by a thread."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(5)


def icmp_echo(address: str, timeout: float = 2) -> bool:
    """Whether an ICMP echo request to ``address`` gets its reply in time
    (a raw socket: needs root, which these tests have)."""
    from pybpfc.runtime.packet_build import icmp_echo as echo_request
    ident = os.getpid() & 0xFFFF
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as icmp:
        icmp.settimeout(timeout)
        icmp.sendto(echo_request(b"pybpfc", ident=ident), (address, 0))
        try:
            while True:
                reply = icmp.recv(2000)
                header = (reply[0] & 0x0F) * 4
                if reply[header] == 0 and int.from_bytes(reply[header + 4:header + 6],
                                                          "big") == ident:
                    return True
        except socket.timeout:
            return False
