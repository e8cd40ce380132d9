"""Kernel structs through BTF (``task.real_parent.tgid``), as the
interpreter runs them: a kernel pointer is an address, and its members are
read from the fake memory (``Fakes.memory``) at the offsets of the build
machine's BTF.  A read that finds nothing there gives 0, as a faulting
probe read does and as the verifier's fault handling makes a direct load
of a BTF-typed pointer give."""
from __future__ import annotations

from typing import Any

from ..compiler import ast as A
from ..compiler import contract as C
from ..compiler.kernel_structs import EMBEDDED, INTEGER, KernelMember
from .helpers import MASK64, helper
from .interpreter import Run, expression
from .tracing import read_memory


def member_address(run: Run, e: A.Attribute) -> int:
    r = e.resolved
    assert isinstance(r, C.KernelField)
    return (run.expr(e.value) + r.member.offset) & MASK64


def read_member(run: Run, address: int, member: KernelMember) -> int:
    data = read_memory(run, address, member.size)
    if data is None:
        return 0
    return int.from_bytes(data, "little", signed=member.signed and member.kind == INTEGER)


@expression(C.KernelField)
def kernel_field(run: Run, e: A.Attribute) -> int:
    r = e.resolved
    address = member_address(run, e)
    if r.member.kind == EMBEDDED:
        return address                  # a struct inside: its address
    return read_member(run, address, r.member)


@expression(C.KernelArgument)
def kernel_argument(run: Run, e: A.Subscript) -> int:
    r = e.resolved
    return int.from_bytes(run.expr(r.base).at(r.offset).read(8), "little")


@expression(C.KernelAddress, C.KernelPointerCast)
def kernel_address(run: Run, e: A.Call) -> int:
    return run.expr(e.args[0]) & MASK64


@helper("get_current_task_btf")
def get_current_task_btf(run: Run, args: list[Any]) -> int:
    return run.fakes.task & MASK64


def bytes_copy(run: Run, s: A.Assign) -> None:
    """``ev.comm = task.comm``: the kernel's bytes, zeros when the read
    finds nothing there (bpf_probe_read_kernel zeroes its buffer)."""
    r = s.resolved
    assert isinstance(r, C.KernelBytesCopy) and isinstance(s.value, A.Attribute)
    data = read_memory(run, member_address(run, s.value), r.length)
    place = run.address(s.target)
    assert place is not None
    place.write(data if data is not None else bytes(r.length))
