"""strtoul()/strtol(): after a parse that reads no number, ``.value`` is 0
because the program says so, whatever the helper left in its value slot.

Kernels since 6.12 write 0 there on failure, older ones nothing; so the
kernel test (tests/kernel/test_parse_number_kernel.py) cannot see the
lowering's choice here.  These tests run the hook's LLVM IR on the host,
with the kernel's helpers replaced by Python functions: a failing parse
fills the slot with junk, which must not reach the program."""
from __future__ import annotations

import ctypes
import errno
import re
import textwrap
from typing import Any, Callable

import llvmlite.binding as llvm
import pytest

from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source

PROGRAM = textwrap.dedent("""
    from pybpfc import (REJECT, SysctlContext, cgroup_sysctl, i64, strtol, strtoul,
                        sysctl_get_new_value, u64)

    value: u64 = 0
    length: i64 = 0
    signed_value: i64 = 0
    signed_length: i64 = 0


    @cgroup_sysctl
    def parse(ctx: SysctlContext) -> int:
        global value, length, signed_value, signed_length
        text = bytearray(16)
        if sysctl_get_new_value(ctx, text) <= 0:
            return REJECT
        unsigned = strtoul(text, 0, 10)
        value = unsigned.value
        length = unsigned.length
        signed = strtol(text, 0, 10)
        signed_value = signed.value
        signed_length = signed.length
        return REJECT
    """)

JUNK = 0x5A5A5A5A5A5A5A5A      # what a failing helper leaves in the value slot here

_NEW_VALUE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
_PARSE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                          ctypes.c_void_p)


def _host_ir(ir_text: str, helper_ids: dict[int, str]) -> str:
    """The hook's IR for the host: its helper calls (``inttoptr`` of a
    helper id) call named functions, and the BPF-only intrinsic that keeps
    context offsets static passes its pointer through."""
    text = re.sub(r'^target (triple|datalayout) = .*$', "", ir_text, flags=re.M)
    text = re.sub(r', section "[^"]*"', "", text)
    text = re.sub(r'^declare ptr @"llvm\.preserve\.static\.offset".*$', "", text, flags=re.M)
    text = text.replace('@"llvm.preserve.static.offset"', '@"host.same"')

    def named(match: "re.Match[str]") -> str:
        return f'@"host.{helper_ids[int(match.group(1))]}"'
    text = re.sub(r'inttoptr \(i64 (\d+) to [^()]*\([^()]*\)\*\)', named, text)
    declared = "".join(f'declare i64 @"host.{name}"(...)\n' for name in helper_ids.values())
    return (text + 'define ptr @"host.same"(ptr %p) { ret ptr %p }\n' + declared)


def _run_hook(text: str) -> dict[str, int]:
    """Runs PROGRAM's hook once on the host, the sysctl's new value being
    ``text``; the globals it wrote."""
    def new_value(ctx: Any, buf: int, size: int) -> int:
        data = text.encode()[:size - 1]
        ctypes.memmove(buf, data + b"\0", len(data) + 1)
        return len(data)

    def parser(signed: bool) -> Callable[[int, int, int, int], int]:
        def parse(buf: int, size: int, flags: int, res: int) -> int:
            raw = ctypes.string_at(buf, size).split(b"\0", 1)[0].decode()
            found = re.match(r"\s*(-?\d+)" if signed else r"\s*(\d+)", raw)
            number = int(found.group(1)) if found else JUNK
            ctypes.c_uint64.from_address(res).value = number & (1 << 64) - 1
            return found.end() if found else -errno.EINVAL
        return parse

    fakes = {"sysctl_get_new_value": _NEW_VALUE(new_value),
             "strtoul": _PARSE(parser(False)), "strtol": _PARSE(parser(True))}
    ids = {abi.HELPERS[name].func_id: name for name in fakes}
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    for name, fake in fakes.items():
        llvm.add_symbol(f"host.{name}", ctypes.cast(fake, ctypes.c_void_p).value)
    module = llvm.parse_assembly(_host_ir(compile_source(Source("parse.py", PROGRAM)).ir, ids))
    module.verify()
    machine = llvm.Target.from_default_triple().create_target_machine()
    with llvm.create_mcjit_compiler(module, machine) as engine:
        engine.finalize_object()
        hook = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)(
            engine.get_function_address("parse"))
        context = ctypes.create_string_buffer(64)
        assert hook(ctypes.addressof(context)) == 0          # REJECT
        return {name: ctypes.c_int64.from_address(engine.get_global_value_address(name)).value
                for name in ("value", "length", "signed_value", "signed_length")}


def test_the_host_run_reads_the_numbers_the_helpers_parse() -> None:
    assert _run_hook("42 7 9") == {"value": 42, "length": 2,
                                    "signed_value": 42, "signed_length": 2}
    assert _run_hook("-42 7 9") == {"value": 0, "length": -errno.EINVAL,
                                     "signed_value": -42, "signed_length": 3}


@pytest.mark.parametrize("text", ["zz 7 9", "-"])
def test_a_failed_parse_gives_value_zero_whatever_the_slot_holds(text: str) -> None:
    assert _run_hook(text) == {"value": 0, "length": -errno.EINVAL,
                               "signed_value": 0, "signed_length": -errno.EINVAL}
