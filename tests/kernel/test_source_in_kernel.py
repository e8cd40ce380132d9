"""What the kernel runs is what the source says to a reader and to Python:
a hook whose refusal is written with a confusable name (a fullwidth letter,
which Python normalises away) refuses in the kernel too.
"""
from __future__ import annotations

import ast as python_ast
import errno
import socket

import pytest

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
    assert ttl_and_tos_under(CONFUSABLE, cgroup) == (errno.EPERM, 0)


def ttl_and_tos_under(program: str, cgroup: TemporaryCgroup) -> tuple[int, int]:
    """The errnos of setsockopt(IP_TTL) and setsockopt(IP_TOS) in a child
    in `cgroup`, with `program` attached to it."""
    def child() -> tuple[int, int]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        return (errno_of(s.setsockopt, SOL_IP, IP_TTL, 5),
                errno_of(s.setsockopt, SOL_IP, IP_TOS, 0x10))

    with Attached(compile_source(Source("guard.py", program)).elf, cgroup):
        result: tuple[int, int] = run_in_cgroup(cgroup.path, child)
        return result


# Names that stay out of the object's BTF may be any Python identifier: a
# constant, a helper function (inlined) and its parameter, a local variable.
# (Those the BTF holds are refused at compile time: tests/bad/non_ascii_*.py.)
NON_ASCII_OUTSIDE_BTF = """\
from typing import Final
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt, i32

NIVEAU_IP: Final = 0
DURÉE_DE_VIE: Final = 2


def refusée(option: i32) -> bool:
    return option == DURÉE_DE_VIE


@cgroup_setsockopt
def guard(ctx: SockoptContext) -> int:
    niveau = ctx.level
    if niveau == NIVEAU_IP and refusée(ctx.optname):
        return REJECT
    return ALLOW
"""


def test_non_ascii_names_outside_the_btf_load_and_run(cgroup: TemporaryCgroup) -> None:
    assert ttl_and_tos_under(NON_ASCII_OUTSIDE_BTF, cgroup) == (errno.EPERM, 0)


COUNTED = """\
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, u64

refusee: u64 = 0


@cgroup_setsockopt
def guard(ctx: SockoptContext) -> int:
    global refusee
    refusee += 1
    return ALLOW
"""


def test_the_kernel_refuses_a_non_ascii_name_in_the_btf() -> None:
    # Why the checker refuses them: the object of a global named `refusee`,
    # renamed in place to `refusé` (as many bytes in UTF-8), is refused at load.
    from pybpfc.runtime.collection import load
    from pybpfc.runtime.errors import BpfError
    elf = compile_source(Source("guard.py", COUNTED)).elf
    assert b"refusee" in elf and len("refusé".encode()) == len(b"refusee")
    with load(elf):     # as compiled, it loads
        pass
    with pytest.raises(BpfError, match="refusé .*Invalid name"):
        with load(elf.replace(b"refusee", "refusé".encode())):
            pass
