"""What the kernel loads, the compiler compiles: a helper that takes NULL
takes None, and ctx.retval and ctx.optlen take any value, a constant that
surely makes the call fail with EFAULT getting a warning, not a refusal.
A child in a temporary cgroup makes the calls and sees what the kernel
does with each value."""
from __future__ import annotations

import errno
import socket

import pytest

from tests.kernel.test_sock_addr_examples import private_loopback
from tests.support import Attached, errno_of, run_in_cgroup
from pybpfc.abi.system import SO_NETNS_COOKIE
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup

SOL_IP, IP_TOS, IP_TTL = 0, 1, 2

COOKIES = """
from pybpfc import ALLOW, SockAddrContext, cgroup_connect4, get_netns_cookie, u64

initial: u64 = 0
own: u64 = 0


@cgroup_connect4
def cookies(ctx: SockAddrContext) -> int:
    global initial, own
    initial = get_netns_cookie(None)
    own = get_netns_cookie(ctx)
    return ALLOW
"""


def test_get_netns_cookie_of_none_is_the_initial_namespaces(cgroup: TemporaryCgroup) -> None:
    def child() -> int:
        private_loopback()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("127.0.0.1", 9))
        return int.from_bytes(s.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8), "little")

    with Attached(compile_source(Source("cookies.py", COOKIES)).elf, cgroup) as attached:
        child_cookie = run_in_cgroup(cgroup.path, child)
        assert attached.globals["own"] == child_cookie
        assert attached.globals["initial"] not in (0, child_cookie)


GETSOCKOPT = """
from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt

@cgroup_getsockopt
def answer(ctx: SockoptContext) -> int:
    if ctx.optname == {optname}:
        ctx.{field} = {value}
    return ALLOW
"""

SETSOCKOPT = """
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt

@cgroup_setsockopt
def answer(ctx: SockoptContext) -> int:
    if ctx.optname == {optname}:
        ctx.{field} = {value}
    return ALLOW
"""


def compiled(template: str, field: str, value: int) -> tuple[bytes, list[str]]:
    text = template.format(optname=IP_TOS, field=field, value=value)
    result = compile_source(Source("prog.py", text))
    return result.elf, [w.message for w in result.warnings]


@pytest.mark.parametrize("template,field,value,warned,expected", [
    (GETSOCKOPT, "retval", -errno.ENOENT, False, errno.ENOENT),
    (GETSOCKOPT, "retval", 0, False, 0),
    # A positive result is handed back as it is: getsockopt(2) succeeds.
    (GETSOCKOPT, "retval", 5, False, 0),
    (GETSOCKOPT, "optlen", -3, True, errno.EFAULT),
    (GETSOCKOPT, "optlen", 5000, True, errno.EFAULT),
    (SETSOCKOPT, "optlen", -1, False, 0),
    (SETSOCKOPT, "optlen", -2, True, errno.EFAULT),
    (SETSOCKOPT, "optlen", 4097, True, errno.EFAULT),
], ids=["getsockopt-retval-enoent", "getsockopt-retval-0", "getsockopt-retval-positive",
        "getsockopt-optlen-negative", "getsockopt-optlen-over-page", "setsockopt-optlen-consume",
        "setsockopt-optlen-below-consume", "setsockopt-optlen-over-page"])
def test_sockopt_values_compile_and_do_what_the_kernel_does(
        cgroup: TemporaryCgroup, template: str, field: str, value: int, warned: bool,
        expected: int) -> None:
    elf, warnings = compiled(template, field, value)
    assert warnings == ([f"ctx.{field} = {value} makes the call fail with EFAULT in a "
                         f"@{'cgroup_getsockopt' if template is GETSOCKOPT else 'cgroup_setsockopt'}"
                         " hook"] if warned else [])

    def child() -> tuple[int, int]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if template is GETSOCKOPT:
            return errno_of(s.getsockopt, SOL_IP, IP_TOS), errno_of(s.getsockopt, SOL_IP, IP_TTL)
        return errno_of(s.setsockopt, SOL_IP, IP_TOS, 8), errno_of(s.setsockopt, SOL_IP, IP_TTL, 9)

    with Attached(elf, cgroup):
        # The other option shows the program loaded and ran without harm.
        assert run_in_cgroup(cgroup.path, child) == (expected, 0)
