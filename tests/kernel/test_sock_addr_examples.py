"""The sock_addr examples at work: each is attached to a temporary cgroup,
and a forked child moved into it, in a network namespace of its own with
loopback up, makes the calls; the test asserts what the child saw.  The
bind() helper, which only connect hooks may call, is tested here too."""
from __future__ import annotations

import errno
import os
import socket

from benchmarks.scenarios import probe_socket_calls
from tests.kernel.test_seed_examples import link_up
from tests.support import REPO_ROOT, Attached, errno_of, run_in_cgroup, unshare_network
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup


def example(name: str) -> bytes:
    path = REPO_ROOT / "examples" / f"{name}.py"
    return compile_source(Source(str(path), path.read_text())).elf


def private_loopback() -> None:
    """The child's own network namespace, its loopback up."""
    unshare_network()
    link_up("lo")


def listener(family: socket.AddressFamily, host: str, port: int = 0) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, port))
    s.listen(4)
    return s


def test_refuse_smtp_refuses_mail_ports_and_lets_others_connect(
        cgroup: TemporaryCgroup) -> None:
    def child() -> tuple[int, int, int, int, int]:
        private_loopback()
        other = listener(socket.AF_INET, "127.0.0.1")
        mail = listener(socket.AF_INET, "127.0.0.1", 25)
        attempts = []
        for address in (("127.0.0.1", 25), ("127.0.0.1", 465), other.getsockname()):
            attempts.append(errno_of(socket.socket(socket.AF_INET).connect, address))
        for address in (("::1", 587), ("::1", 2525)):
            attempts.append(errno_of(socket.socket(socket.AF_INET6).connect, address))
        mail.close()
        return tuple(attempts)  # type: ignore[return-value]

    with Attached(example("refuse_smtp"), cgroup) as attached:
        assert run_in_cgroup(cgroup.path, child) == (
            errno.EPERM, errno.EPERM, 0, errno.EPERM, errno.ECONNREFUSED)
        assert attached.globals["refused"] == 3
    # Detached, the same process can reach the mail port it listens on.
    assert run_in_cgroup(cgroup.path, child)[0] == 0


PROXY_PORT = 3128
NOBODY = 65534


def test_connect_proxy_sends_connections_to_the_proxy_and_hides_it(
        cgroup: TemporaryCgroup) -> None:
    def child() -> list[tuple[object, ...]]:
        private_loopback()
        seen = []
        for family, proxy_host, asked in ((socket.AF_INET, "127.0.0.1", ("10.1.2.3", 80)),
                                          (socket.AF_INET6, "::1", ("2001:db8::7", 80))):
            proxy = listener(family, proxy_host, PROXY_PORT)
            client = socket.socket(family, socket.SOCK_STREAM)
            client.connect(asked)
            arrived, _ = proxy.accept()
            # The proxy sees the connection on its own port; the client
            # believes it reached what it asked for.
            seen.append((arrived.getsockname()[:2], client.getpeername()[:2]))
        direct = listener(socket.AF_INET, "127.0.0.1")
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.connect(direct.getsockname())
        seen.append((direct.accept()[0].getsockname()[:2], client.getpeername()[:2]))
        return seen

    with Attached(example("connect_proxy"), cgroup) as attached:
        attached.maps["proxied"][80] = PROXY_PORT
        seen = run_in_cgroup(cgroup.path, child)
        assert seen[:2] == [(("127.0.0.1", PROXY_PORT), ("10.1.2.3", 80)),
                            (("::1", PROXY_PORT), ("2001:db8::7", 80))]
        # A port the map does not list is left alone.
        direct_port = seen[2][0][1]
        assert seen[2] == (("127.0.0.1", direct_port), ("127.0.0.1", direct_port))
        assert attached.globals["redirected"] == 2


def bind_errnos(uid: int) -> tuple[int, ...]:
    """In a private network namespace, as ``uid``: bind() to 80, 443 and
    8080 over IPv4, and 443 over IPv6."""
    private_loopback()
    if uid:
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    attempts = [(socket.AF_INET, "127.0.0.1", port) for port in (80, 443, 8080)]
    attempts.append((socket.AF_INET6, "::1", 443))
    return tuple(errno_of(socket.socket(family, socket.SOCK_STREAM).bind, (host, port))
                 for family, host, port in attempts)


def test_bind_allowlist_refuses_low_ports_unless_listed(cgroup: TemporaryCgroup) -> None:
    with Attached(example("bind_allowlist"), cgroup) as attached:
        assert run_in_cgroup(cgroup.path, bind_errnos, 0) == (errno.EPERM,) * 2 + (0, errno.EPERM)
        attached.maps["allowed"][443] = 1
        assert run_in_cgroup(cgroup.path, bind_errnos, 0) == (errno.EPERM, 0, 0, 0)
        # A listed port needs no CAP_NET_BIND_SERVICE; the others still do.
        assert run_in_cgroup(cgroup.path, bind_errnos, NOBODY) == (errno.EPERM, 0, 0, 0)
    assert run_in_cgroup(cgroup.path, bind_errnos, NOBODY) == (
        errno.EACCES, errno.EACCES, 0, errno.EACCES)


def test_udp_source_sets_the_source_the_receiver_sees(cgroup: TemporaryCgroup) -> None:
    def child() -> list[tuple[str, int]]:
        private_loopback()
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.bind(("127.0.0.1", 0))
        sources = []
        for _ in range(2):
            tx.sendto(b"x", rx.getsockname())
            sources.append(rx.recvfrom(16)[1])
        rx6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        rx6.bind(("::1", 0))
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"y", rx6.getsockname())
        rx6.recv(16)
        return sources + [tx.getsockname()]

    with Attached(example("udp_source"), cgroup) as attached:
        first = run_in_cgroup(cgroup.path, child)
        # 0: the kernel's choice, the socket's own address.
        assert first[0] == first[1] == first[2]
        attached.globals["source4"] = socket.htonl(0x7F000002)
        sources = run_in_cgroup(cgroup.path, child)
        port = sources[2][1]
        assert sources == [("127.0.0.2", port), ("127.0.0.2", port), ("127.0.0.1", port)]
        assert attached.globals["rewritten"] == 2
        assert attached.globals["sent6"] == 2


def test_socket_calls_audit_counts_each_call(cgroup: TemporaryCgroup) -> None:
    def child() -> None:
        private_loopback()
        probe_socket_calls()        # the benchmark's probe: each call once

    with Attached(example("socket_calls_audit"), cgroup) as attached:
        run_in_cgroup(cgroup.path, child)
        calls = [attached.maps["calls"][i] for i in range(9)]
    # recvmsg4/6, getsockname4/6, then connect, sendmsg, recvmsg,
    # getpeername and getsockname on Unix sockets.
    assert calls == [1] * 9


BIND_FIRST = """
from pybpfc import ALLOW, SockAddrContext, bind, cgroup_connect4, i64

result: i64 = 1


@cgroup_connect4
def from_second_loopback(ctx: SockAddrContext) -> int:
    global result
    addr = bytearray(16)        # struct sockaddr_in
    addr[0] = 2                 # AF_INET, host byte order
    addr[4] = 127
    addr[7] = 2                 # 127.0.0.2; port 0: the kernel picks one
    result = bind(ctx, addr)
    return ALLOW
"""


def test_the_bind_helper_sets_the_source_of_a_connection(cgroup: TemporaryCgroup) -> None:
    def child() -> str:
        private_loopback()
        server = listener(socket.AF_INET, "127.0.0.1")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.connect(server.getsockname())
            arrived, peer = server.accept()
            arrived.close()
        server.close()
        return str(peer[0])

    elf = compile_source(Source("bind_first.py", BIND_FIRST)).elf
    with Attached(elf, cgroup) as attached:
        assert run_in_cgroup(cgroup.path, child) == "127.0.0.2"
        assert attached.globals["result"] == 0
