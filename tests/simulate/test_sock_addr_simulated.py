"""The address hooks (bind, connect, sendmsg, recvmsg, getpeername,
getsockname) in the interpreter: the examples as tests/kernel/
test_sock_addr_examples.py runs them in the kernel, and the helpers only
these hooks have (bind() from a connect hook, get_netns_cookie(None))."""
from __future__ import annotations

import errno
import socket
import struct
from pathlib import Path

from pybpfc.simulate import Fakes, load_program

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SOCK_STREAM, SOCK_DGRAM = 1, 2


def net16(port: int) -> int:
    """A port as user_port holds it: network byte order in the low 16 bits."""
    return socket.htons(port)


def net32(address: str) -> int:
    return int.from_bytes(socket.inet_aton(address), "little")


def test_refuse_smtp_refuses_the_mail_ports() -> None:
    prog = load_program(EXAMPLES / "refuse_smtp.py")
    for port in (25, 465, 587):
        assert prog.no_smtp4(user_port=net16(port)).verdict_name == "REJECT"
    assert prog.no_smtp6(user_port=net16(25)).verdict_name == "REJECT"
    assert prog.no_smtp4(user_port=net16(80)).verdict_name == "ALLOW"
    assert prog.globals["refused"] == 4


def test_connect_proxy_redirects_and_getpeername_shows_the_asked_address() -> None:
    prog = load_program(EXAMPLES / "connect_proxy.py")
    prog.maps["proxied"][80] = 8080
    far = net32("192.0.2.7")
    sent = prog.to_proxy4(type=SOCK_STREAM, user_ip4=far, user_port=net16(80), socket=3)
    assert sent.verdict_name == "ALLOW"
    assert sent.written == {"user_ip4": net32("127.0.0.1"), "user_port": net16(8080)}
    shown = prog.as_asked4(user_ip4=net32("127.0.0.1"), user_port=net16(8080), socket=3)
    assert shown.written == {"user_ip4": far, "user_port": net16(80)}
    # Another socket was never redirected: its peer stays as it is.
    assert prog.as_asked4(user_port=net16(8080), socket=4).written == {}
    # UDP and unlisted ports go where they were sent.
    assert prog.to_proxy4(type=SOCK_DGRAM, user_port=net16(80)).written == {}
    assert prog.to_proxy4(type=SOCK_STREAM, user_port=net16(81)).written == {}
    assert prog.globals.contents() == {"connects": 2, "redirected": 1}


def test_connect_proxy_over_ipv6_writes_the_four_words() -> None:
    prog = load_program(EXAMPLES / "connect_proxy.py")
    prog.maps["proxied"][443] = 8443
    asked = [0x20010db8, 0, 0, 0x01000000]
    sent = prog.to_proxy6(type=SOCK_STREAM, user_ip6=asked, user_port=net16(443), socket=9)
    assert sent.written == {"user_ip6": [0, 0, 0, net32("0.0.0.1")],
                            "user_port": net16(8443)}
    shown = prog.as_asked6(user_port=net16(8443), socket=9)
    assert shown.written == {"user_ip6": asked, "user_port": net16(443)}


def test_bind_allowlist_answers_with_the_privileged_port_verdict() -> None:
    prog = load_program(EXAMPLES / "bind_allowlist.py")
    prog.maps["allowed"][80] = 1
    assert prog.privileged_ports4(user_port=net16(80)).verdict_name == "ALLOW_PRIVILEGED_PORT"
    assert prog.privileged_ports6(user_port=net16(81)).verdict_name == "REJECT"
    assert prog.privileged_ports4(user_port=net16(8080)).verdict_name == "ALLOW"
    assert prog.privileged_ports4(user_port=0).verdict_name == "ALLOW"


def test_udp_source_sets_the_source_of_loopback_datagrams() -> None:
    prog = load_program(EXAMPLES / "udp_source.py")
    to_loopback = net32("127.0.0.9")
    assert prog.choose_source4(user_ip4=to_loopback).written == {}    # source4 unset
    prog.globals["source4"] = net32("127.0.0.2")
    assert prog.choose_source4(user_ip4=to_loopback).written == \
        {"msg_src_ip4": net32("127.0.0.2")}
    assert prog.choose_source4(user_ip4=net32("192.0.2.1")).written == {}
    prog.count6()
    assert prog.globals["rewritten"] == 1 and prog.globals["sent6"] == 1


BIND_IN_CONNECT = """\
from pybpfc import ALLOW, SockAddrContext, bind, cgroup_connect4, get_netns_cookie, i64, u64

result: i64 = 1
cookie: u64 = 0


@cgroup_connect4
def bind_first(ctx: SockAddrContext) -> int:
    global result, cookie
    addr = bytearray(16)
    addr[0] = FAMILY
    addr[2] = 0x1F       # port 8000, network byte order
    addr[3] = 0x40
    addr[4] = 127
    addr[7] = 1
    result = bind(ctx, addr)
    cookie = get_netns_cookie(None)
    return ALLOW
"""


def bind_program(family: int, fakes: Fakes | None = None):  # type: ignore[no-untyped-def]
    text = BIND_IN_CONNECT.replace("FAMILY", str(family))
    return load_program("bind_first.py", text=text, fakes=fakes)


def test_bind_from_a_connect_hook_binds_the_address() -> None:
    # get_netns_cookie(None): the initial namespace's cookie, not the socket's.
    prog = bind_program(socket.AF_INET, Fakes(netns_cookie=5, init_netns_cookie=77))
    done = prog.bind_first()
    assert done.globals == {"result": 0, "cookie": 77}
    assert done.bound == struct.pack("<H", socket.AF_INET) + bytes([0x1F, 0x40, 127, 0, 0, 1]) \
        + bytes(8)


def test_bind_checks_the_family_and_length_and_fails_as_faked() -> None:
    unknown = bind_program(socket.AF_UNIX).bind_first()
    assert unknown.globals["result"] == -errno.EAFNOSUPPORT and unknown.bound is None
    short = bind_program(socket.AF_INET6).bind_first()     # 16 bytes: no sockaddr_in6
    assert short.globals["result"] == -errno.EINVAL and short.bound is None
    busy = bind_program(socket.AF_INET, Fakes(bind_errno=errno.EADDRINUSE)).bind_first()
    assert busy.globals["result"] == -errno.EADDRINUSE and busy.bound is None
