"""What the kernel runs is what the source says to a reader and to Python:
a hook whose refusal is written with a confusable name (a fullwidth letter,
which Python normalises away) refuses in the kernel too.
"""
from __future__ import annotations

import ast as python_ast
import errno
import socket

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from tests.support import Attached, errno_of, run_in_cgroup

SOL_IP, IP_TTL, IP_TOS = 0, 2, 1

# `ｄeny` starts with U+FF44 FULLWIDTH LATIN SMALL LETTER D: to Python it is
# the variable `deny`.  Read as a second variable, the hook never refused.
CONFUSABLE = """\
from typing import Final
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt

SOL_IP: Final = 0
IP_TTL: Final = 2


@cgroup_setsockopt
def guard(ctx: SockoptContext) -> int:
    deny = 0
    if ctx.level == SOL_IP and ctx.optname == IP_TTL:
        \uff44eny = 1
    if deny == 1:
        return REJECT
    return ALLOW
"""


def test_a_confusable_name_refuses_as_the_source_reads(cgroup: TemporaryCgroup) -> None:
    hook = python_ast.parse(CONFUSABLE).body[-1]
    assigned = {node.id for node in python_ast.walk(hook)
                if isinstance(node, python_ast.Name) and isinstance(node.ctx, python_ast.Store)}
    assert assigned == {"deny"}     # Python's reading: one variable

    def child() -> tuple[int, int]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        return (errno_of(s.setsockopt, SOL_IP, IP_TTL, 5),
                errno_of(s.setsockopt, SOL_IP, IP_TOS, 0x10))

    with Attached(compile_source(Source("guard.py", CONFUSABLE)).elf, cgroup):
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, 0)
