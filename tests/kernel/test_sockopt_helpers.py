"""bpf_setsockopt and bpf_getsockopt from the sockopt hooks, where the
kernel allows them: a cgroup setsockopt program sets and reads another
option of the same socket (SO_MARK) (a forked child in a temporary cgroup makes the
call; the test asserts the socket's options), and the kernel refuses both
helpers in cgroup getsockopt programs, as the hook table says."""
from __future__ import annotations

import socket

import pytest

from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load
from pybpfc.runtime.errors import VerifierError
from tests.support import Attached, run_in_cgroup

SOL_IP, IP_TOS = 0, 1

MARK_WITH_TOS = """\
from typing import Final

from pybpfc import (ALLOW, PAGE_SIZE, SockoptContext, cgroup_setsockopt, getsockopt, i64,
                    setsockopt)

SOL_IP: Final = 0
IP_TOS: Final = 1
SOL_SOCKET: Final = 1
SO_MARK: Final = 36

set_result: i64 = -1
read_result: i64 = -1
read_mark: i64 = 0


@cgroup_setsockopt
def mark_with_tos(ctx: SockoptContext) -> int:
    global set_result, read_result, read_mark
    if ctx.level == SOL_IP and ctx.optname == IP_TOS:
        mark = bytearray(4)
        mark[0] = 77
        set_result = setsockopt(ctx.sk, SOL_SOCKET, SO_MARK, mark)
        back = bytearray(4)
        read_result = getsockopt(ctx.sk, SOL_SOCKET, SO_MARK, back)
        read_mark = back[0]
    if ctx.optlen > PAGE_SIZE:
        ctx.optlen = 0
    return ALLOW
"""


def test_setsockopt_program_sets_and_reads_another_option(cgroup: TemporaryCgroup) -> None:
    elf = compile_source(Source("mark_with_tos.py", MARK_WITH_TOS)).elf
    with Attached(elf, cgroup) as attached:
        def child() -> tuple[int, int, int]:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                before = s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK)
                s.setsockopt(SOL_IP, IP_TOS, 0x10)
                return (before, s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK),
                        s.getsockopt(SOL_IP, IP_TOS))
        before, mark, tos = run_in_cgroup(cgroup.path, child)
        assert before == 0
        assert (mark, tos) == (77, 0x10)      # the program's option, and the caller's
        assert (attached.globals["set_result"], attached.globals["read_result"],
                attached.globals["read_mark"]) == (0, 0, 77)


def in_getsockopt(helper: str) -> str:
    return (f"from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt, {helper}\n\n\n"
            "@cgroup_getsockopt\ndef probe(ctx: SockoptContext) -> int:\n"
            f"    buf = bytearray(4)\n    {helper}(ctx.sk, 0, 2, buf)\n    return ALLOW\n")


@pytest.mark.parametrize("helper", ["setsockopt", "getsockopt"])
def test_kernel_refuses_the_helpers_in_getsockopt_programs(
        helper: str, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = abi.hook_named("cgroup_getsockopt")
    assert helper not in hook.helpers
    with pytest.raises(CompileError, match=f"{helper}"):
        compile_source(Source("probe.py", in_getsockopt(helper)))
    # The same program, with the table's refusal lifted: the verifier's own.
    monkeypatch.setitem(abi.HOOKS_BY_DECORATOR, hook.decorator,
                        hook._replace(helpers=hook.helpers | {helper}))
    elf = compile_source(Source("probe.py", in_getsockopt(helper))).elf
    with pytest.raises(VerifierError) as refused:
        load(elf).close()
    assert f"cannot use helper bpf_{helper}#" in refused.value.log
