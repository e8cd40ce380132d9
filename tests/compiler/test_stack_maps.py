"""StackTraceMap and get_stackid in the language: the map's value is an
array of depth u64 instruction pointers, the helper takes a declared
StackTraceMap, and each mistake is an error at its place."""
from __future__ import annotations

import pytest

from pybpfc import abi
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, Source

HEAD = ("from pybpfc import (BPF_F_USER_STACK, HashMap, PerfEventContext, SockContext, "
        "StackTraceMap, cgroup_sock_create, get_stackid, perf_event, u64)\n\n"
        "LICENSE = 'GPL'\n\n")


def program(declaration: str, call: str, hook: str = "perf_event",
            ctx: str = "PerfEventContext") -> str:
    return (HEAD + declaration + "\n\n"
            f"@{hook}\ndef sample(ctx: {ctx}) -> int:\n    x = {call}\n    return 1\n")


def error_of(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        check_source(Source("prog.py", text))
    return info.value


def test_a_stack_map_holds_depth_addresses() -> None:
    declared = "stacks: StackTraceMap = StackTraceMap(max_entries=64, depth=20)"
    plan = compile_source(Source("prog.py", program(
        declared, "get_stackid(ctx, stacks, BPF_F_USER_STACK)"))).plan
    (stacks,) = plan.maps
    assert (stacks.map_type, stacks.key_size, stacks.value_size, stacks.max_entries) == (
        abi.kernel.BPF_MAP_TYPE_STACK_TRACE, 4, 20 * 8, 64)


def test_the_default_depth_is_the_kernels_deepest() -> None:
    plan = compile_source(Source("prog.py", program(
        "stacks: StackTraceMap = StackTraceMap(max_entries=8)",
        "get_stackid(ctx, stacks, 0)"))).plan
    assert plan.maps[0].value_size == abi.kernel.PERF_MAX_STACK_DEPTH * 8


@pytest.mark.parametrize("depth", ["0", "128", "True", "-1"])
def test_a_depth_out_of_range_is_an_error(depth: str) -> None:
    err = error_of(program(f"stacks: StackTraceMap = StackTraceMap(max_entries=8, "
                           f"depth={depth})", "get_stackid(ctx, stacks, 0)"))
    assert "depth must be a constant between 1 and 127" in str(err)
    assert (err.pos.line, err.pos.col) == (5, 60)


def test_get_stackid_takes_a_stack_map_the_module_declares() -> None:
    err = error_of(program("counts: HashMap[u64, u64] = HashMap(max_entries=8)",
                           "get_stackid(ctx, counts, 0)"))
    assert "get_stackid() takes a StackTraceMap the module declares here" in str(err)
    assert (err.pos.line, err.pos.col) == (9, 26)


def test_a_stack_map_is_no_value() -> None:
    err = error_of(program("stacks: StackTraceMap = StackTraceMap(max_entries=8)", "stacks"))
    assert "'stacks' is a map (StackTraceMap): pass it to get_stackid(ctx, stacks, flags)" \
        in str(err)


def test_get_stackid_is_refused_where_the_kernel_refuses_it() -> None:
    err = error_of(program("stacks: StackTraceMap = StackTraceMap(max_entries=8)",
                           "get_stackid(ctx, stacks, 0)", hook="cgroup_sock_create",
                           ctx="SockContext"))
    assert "get_stackid() is not available in a @cgroup_sock_create hook" in str(err)
    assert (err.pos.line, err.pos.col) == (9, 9)
