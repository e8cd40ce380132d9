"""Tracing programs in the language: decorators that name their target
make libbpf's sections; a tracepoint's fields are the running kernel's
(read from tracefs when compiling), a BTF-typed tracepoint's arguments its
BTF prototype's; mistakes are errors at the decorator or the field.

Reading a tracepoint's format needs tracefs: mounted for the read where it
is missing (as root), as the runtime does.
"""
from __future__ import annotations

import re

import pytest

from pybpfc import abi
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.compiler.tracepoint_format import DATA_LOC, parse_format
from pybpfc.runtime.tracepoint_events import tracefs_mount
from tests.support import require_root

HEAD = ("from pybpfc import RawTracepointArgs, TracepointContext, UprobeContext, "
        "btf_tracepoint, raw_tracepoint, tracepoint, uprobe, u32, u64\n\n\n")


def compile_error(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        check_source(Source("prog.py", HEAD + text))
    return info.value


def sections(text: str) -> dict[str, str]:
    plan = compile_source(Source("prog.py", HEAD + text)).plan
    return {p.name: p.section for p in plan.programs}


OPENAT_FORMAT = """name: sys_enter_openat
ID: 782
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:char comm[16];\toffset:32;\tsize:16;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:48;\tsize:4;\tsigned:0;
\tfield:long prev_state;\toffset:56;\tsize:8;\tsigned:1;

print fmt: "..."
"""


def test_a_format_file_becomes_a_context() -> None:
    ctx = parse_format(OPENAT_FORMAT, "syscalls", "sys_enter_openat")
    got = {f.name: (f.offset, f.kind, f.size, f.count) for f in ctx.fields}
    assert got == {
        "common_type": (0, "u16", 2, 1), "common_pid": (4, "i32", 4, 1),
        "__syscall_nr": (8, "i32", 4, 1), "filename": (24, "u64", 8, 1),
        "comm": (32, "u8", 1, 16), "name": (48, DATA_LOC, 4, 1),
        "prev_state": (56, "i64", 8, 1)}
    assert ctx.size == 64 and ctx.python_name == "TracepointContext"


def test_sections_are_libbpfs() -> None:
    require_root("reading a tracepoint's format")
    assert sections(
        '@tracepoint("syscalls", "sys_enter_openat")\n'
        'def a(ctx: TracepointContext) -> int:\n    return 0\n\n\n'
        '@raw_tracepoint("sys_enter")\ndef b(ctx: RawTracepointArgs) -> int:\n    return 0\n\n\n'
        '@btf_tracepoint("sched_switch")\ndef c(ctx: RawTracepointArgs) -> int:\n'
        '    return 0\n\n\n'
        '@uprobe("/usr/lib/x86_64-linux-gnu/libc.so.6", "getenv")\n'
        'def d(ctx: UprobeContext) -> int:\n    return 0\n') == {
        "a": "tracepoint/syscalls/sys_enter_openat", "b": "raw_tracepoint/sys_enter",
        "c": "tp_btf/sched_switch", "d": "uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:getenv"}
    for section in sections('@tracepoint("sched", "sched_process_exec")\n'
                            'def a(ctx: TracepointContext) -> int:\n    return 0\n').values():
        assert abi.program_kind_for_section(section) is abi.PROGRAM_KINDS_BY_NAME["tracepoint"]


def test_a_tracepoint_the_kernel_lacks_is_an_error_at_the_decorator() -> None:
    require_root("reading a tracepoint's format")
    before = tracefs_mount()
    err = compile_error('@tracepoint("syscalls", "sys_enter_nothing")\n'
                        'def a(ctx: TracepointContext) -> int:\n    return 0\n')
    assert (err.pos.line, err.pos.col) == (4, 2), err.render()
    assert "no tracepoint syscalls/sys_enter_nothing" in err.message
    assert "category 'syscalls' has no event 'sys_enter_nothing'" in err.message
    assert tracefs_mount() == before          # a mount made for the read is gone again
    err = compile_error('@btf_tracepoint("no_such_tracepoint")\n'
                        'def a(ctx: RawTracepointArgs) -> int:\n    return 0\n')
    assert "btf_trace_no_such_tracepoint" in err.message


def test_a_tracepoints_fields_are_checked() -> None:
    require_root("reading a tracepoint's format")
    err = compile_error('@tracepoint("syscalls", "sys_enter_openat")\n'
                        'def a(ctx: TracepointContext) -> int:\n'
                        '    return u32(ctx.file_name)\n')
    assert (err.pos.line, err.pos.col) == (6, 20), err.render()
    assert "has no field 'file_name'" in err.message
    # The common fields are the kernel's but the verifier refuses them.
    err = compile_error('@tracepoint("syscalls", "sys_enter_openat")\n'
                        'def a(ctx: TracepointContext) -> int:\n'
                        '    return u32(ctx.common_pid)\n')
    assert "cannot read ctx.common_pid" in err.message


@pytest.mark.parametrize("decorator, message", [
    ("@tracepoint", r"@tracepoint needs its target: write @tracepoint\(category, name\)"),
    ('@tracepoint("syscalls")', r"takes 2 arguments \(category, name\), not 1"),
    ('@tracepoint("syscalls", name="x")', r"takes its arguments by position"),
    ('@tracepoint("sys/calls", "x")', r"'sys/calls' cannot be a category"),
    ('@uprobe("/bin/true:x", "main")', r"a binary's path cannot hold ':'"),
    ("@raw_tracepoint(u64)", r"the name of @raw_tracepoint must be a non-empty string"),
])
def test_decorator_mistakes_are_located(decorator: str, message: str) -> None:
    err = compile_error(f"{decorator}\ndef a(ctx: TracepointContext) -> int:\n    return 0\n")
    assert err.pos is not None and err.pos.line == 4, err.render()
    assert re.search(message, err.message), err.message


def test_a_typed_kernel_pointer_is_not_an_integer() -> None:
    require_root("reading the kernel's BTF")
    err = compile_error('@btf_tracepoint("sched_process_exec")\n'
                        'def a(ctx: RawTracepointArgs) -> int:\n'
                        '    return u32(ctx.args[0] + 1)\n')
    assert (err.pos.line, err.pos.col) == (6, 16), err.render()
    assert "ctx.args[0] is a pointer to struct task_struct" in err.message
    # Its integer arguments read as integers; past its last one is an error.
    check_source(Source("prog.py", HEAD + '@btf_tracepoint("sched_process_exec")\n'
                        'def a(ctx: RawTracepointArgs) -> int:\n'
                        '    return u32(ctx.args[1])\n'))
    err = compile_error('@btf_tracepoint("sched_process_exec")\n'
                        'def a(ctx: RawTracepointArgs) -> int:\n'
                        '    return u32(ctx.args[3])\n')
    assert "out of range: ctx.args has 3 elements" in err.message


def test_tracing_contexts_are_laid_out_as_the_kernels_btf_says() -> None:
    from pybpfc.runtime.btf_types import Kind
    from pybpfc.runtime.kernel_btf import vmlinux_btf
    btf = vmlinux_btf()

    def offsets(struct: str) -> dict[str, int]:
        found = btf.find(struct, Kind.STRUCT)
        assert found is not None, struct
        return {m.name: m.bit_offset // 8 for m in btf.types[found].members}

    regs = offsets("pt_regs")
    for f in abi.PT_REGS.fields:
        assert f.offset == regs[abi.PT_REGS_MEMBERS[f.name]], f.name
    assert abi.PT_REGS.size == btf.types[btf.find("pt_regs", Kind.STRUCT)].size
    perf = offsets("bpf_perf_event_data")
    assert (perf["sample_period"], perf["addr"]) == (
        abi.PERF_EVENT_DATA.field("sample_period").offset,
        abi.PERF_EVENT_DATA.field("addr").offset)
    for name in ("ip", "sp"):      # inside the sampled registers, at the start
        assert abi.PERF_EVENT_DATA.field(name).offset == perf["regs"] + regs[name]
    # The raw arguments: u64 args[], as many as the tracepoint has (12 at most).
    raw = btf.types[btf.find("bpf_raw_tracepoint_args", Kind.STRUCT)]
    (args,) = raw.members
    array = btf.types[args.type]
    assert (args.name, args.bit_offset, array.kind, array.nelems) == ("args", 0, Kind.ARRAY, 0)
    assert btf.size_of(array.elem_type) == abi.RAW_TRACEPOINT_ARGS.fields[0].size == 8


def test_a_histogram_counts_integers_in_one_call() -> None:
    head = "from pybpfc import Histogram, u8\n\nh: Histogram = Histogram()\n\n\n"
    ok = compile_source(Source("prog.py", head + '@raw_tracepoint("sys_enter")\n'
                               'def a(ctx: RawTracepointArgs) -> int:\n'
                               '    h.add(ctx.args[1])\n    h.add(-1)\n    return 0\n'
                               .replace("@raw", "from pybpfc import RawTracepointArgs, "
                                        "raw_tracepoint\n\n\n@raw")))
    (m,) = ok.plan.maps
    assert (m.name, m.max_entries) == ("h", 66)
    with pytest.raises(CompileError, match="a histogram counts integers, not bytearray"):
        check_source(Source("prog.py", head + HEAD + '@raw_tracepoint("sys_enter")\n'
                            'def a(ctx: RawTracepointArgs) -> int:\n'
                            '    b = bytearray(4)\n    h.add(b)\n    return 0\n'))
    with pytest.raises(CompileError, match=r"declare a Histogram as Histogram"):
        check_source(Source("prog.py", "from pybpfc import Histogram, u64\n\n"
                            "h: Histogram[u64] = Histogram()\n"))
