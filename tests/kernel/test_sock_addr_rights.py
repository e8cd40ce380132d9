"""The sock_addr hooks' rights and return values in the table, held to the
running kernel: for every hook and every 4-byte word of struct
bpf_sock_addr, a hand-assembled load and store is offered to the verifier,
and it must accept exactly what the table allows; so must the return
values.  The Unix-socket hooks (Linux 6.7) are part of it: on a kernel
without them this fails under CI=true, naming them."""
from __future__ import annotations

import pytest

from tests.support import insn, require_kernel_feature, require_root
from pybpfc import abi
from pybpfc.runtime import bpf

SOCK_ADDR_HOOKS = [h for h in abi.HOOKS if h.context is abi.BPF_SOCK_ADDR]

# BPF_LDX|BPF_MEM|BPF_W, BPF_STX|BPF_MEM|BPF_W, BPF_LDX|BPF_MEM|BPF_DW,
# BPF_ALU64|BPF_MOV|BPF_K, BPF_JMP|BPF_EXIT
LDX_W, STX_W, LDX_DW, MOV64_IMM, EXIT = 0x61, 0x63, 0x79, 0xB7, 0x95


def loads(hook: abi.Hook, body: bytes, returns: int = 1) -> bool:
    """Whether the verifier accepts ``body`` then ``return returns``."""
    program = body + insn(MOV64_IMM, dst=0, imm=returns) + insn(EXIT)
    try:
        fd = bpf.prog_load(hook.prog_type_id, program, "GPL", "rights",
                           expected_attach_type=hook.attach_type_id or 0, log_level=0).fd
    except bpf.BpfError:
        return False
    bpf.close(fd)
    return True


def words(field: abi.Field) -> list[int]:
    return [field.offset + 4 * i for i in range(field.count)] if field.size == 4 else []


@pytest.fixture(scope="module", autouse=True)
def kernel_has_the_hooks() -> None:
    require_root("loading programs")
    missing = [h.section for h in SOCK_ADDR_HOOKS if not loads(h, b"")]
    require_kernel_feature("the sock_addr hooks " + ", ".join(missing), not missing,
                           "the kernel refuses a program that only returns 1")


@pytest.mark.parametrize("hook", SOCK_ADDR_HOOKS, ids=lambda h: h.decorator)
def test_the_kernel_lets_the_hook_read_and_write_what_the_table_says(hook: abi.Hook) -> None:
    wrong = []
    for field in abi.BPF_SOCK_ADDR.fields:
        if field.kind == "sock":
            read = loads(hook, insn(LDX_DW, dst=2, src=1, off=field.offset))
            if read != (field.name in hook.readable):
                wrong.append((field.name, "read", read))
            continue
        for offset in words(field):
            read = loads(hook, insn(LDX_W, dst=2, src=1, off=offset))
            write = loads(hook, insn(MOV64_IMM, dst=2, imm=0)
                          + insn(STX_W, dst=1, src=2, off=offset))
            if read != (field.name in hook.readable):
                wrong.append((field.name, offset, "read", read))
            if write != (field.name in hook.writable):
                wrong.append((field.name, offset, "write", write))
    assert not wrong, f"(field, what, the kernel's answer) that the table gets wrong: {wrong}"


@pytest.mark.parametrize("hook", SOCK_ADDR_HOOKS, ids=lambda h: h.decorator)
def test_the_kernel_accepts_the_return_values_the_table_names(hook: abi.Hook) -> None:
    named = {value for _, value in hook.returns.values}
    accepted = {value for value in range(5) if loads(hook, b"", value)}
    # Every value the table names loads; nothing outside their range does
    # (bind's 2, "refuse, and skip the capability check", is a refusal).
    assert named <= accepted <= set(range(min(named), max(named) + 1)), accepted
