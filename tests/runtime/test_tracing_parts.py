"""The tracing runtime's parts that need no kernel: the program kinds'
rows, the perf_event_open ABI against linux/perf_event.h, the lazy reader
of the kernel's BTF against the full parser, uprobe targets and ELF
symbols, naming addresses, histogram buckets, CO-RE descriptions, and the
bpf(2) commands' attributes (with a fake bpf(2))."""
from __future__ import annotations

import ctypes
import errno
import shutil
import struct
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest
from elftools.elf.elffile import ELFFile

from pybpfc import abi
from pybpfc.abi import kernel
from pybpfc.runtime import bpf, bpf_tracing, perf_structs
from pybpfc.runtime.attach_uprobe import resolve_target
from pybpfc.runtime.btf import Btf, Kind
from pybpfc.runtime.core import describe
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.elf_symbols import elf_symbols, find_binary
from pybpfc.runtime.errors import BpfError, SyscallError
from pybpfc.runtime.histogram import Log2Histogram, bucket_label, bucket_of, bucket_range
from pybpfc.runtime.kernel_btf import VMLINUX_BTF, KernelBtf
from pybpfc.runtime.maps import Map
from pybpfc.runtime.spec import MapSpec
from pybpfc.runtime.stacks import KernelSymbols, ProcessMaps, stack_addresses
from pybpfc.runtime.system import cpu_numbers
from pybpfc.runtime.tracepoint_events import split_tracepoint
from pybpfc.runtime.tracing_link import TracingLink
from tests.support import require_kernel_feature

BuildTracing = Callable[..., Path]
PERF_EVENT_H = Path("/usr/include/linux/perf_event.h")


# ------------------------------------------------------------ program kinds


@pytest.mark.parametrize("section,kind,target,prog_type,attach_type", [
    ("tracepoint/syscalls/sys_enter_openat", "tracepoint", "syscalls/sys_enter_openat",
     "TRACEPOINT", None),
    ("tp/sched/sched_switch", "tracepoint", "sched/sched_switch", "TRACEPOINT", None),
    ("raw_tracepoint/sys_enter", "raw_tracepoint", "sys_enter", "RAW_TRACEPOINT", None),
    ("raw_tp/sched_switch", "raw_tracepoint", "sched_switch", "RAW_TRACEPOINT", None),
    ("tp_btf/sched_process_exec", "tp_btf", "sched_process_exec", "TRACING", "TRACE_RAW_TP"),
    ("iter/task", "iter", "task", "TRACING", "TRACE_ITER"),
    ("uprobe//usr/bin/bash:readline", "uprobe", "/usr/bin/bash:readline", "KPROBE", None),
    ("uprobe", "uprobe", "", "KPROBE", None),
    ("uretprobe/libc.so.6:malloc", "uretprobe", "libc.so.6:malloc", "KPROBE", None),
    ("perf_event", "perf_event", "", "PERF_EVENT", None),
    ("kprobe/do_unlinkat", "kprobe", "do_unlinkat", "KPROBE", None),
    ("kretprobe/do_unlinkat", "kretprobe", "do_unlinkat", "KPROBE", None),
    ("fentry/do_unlinkat", "fentry", "do_unlinkat", "TRACING", "TRACE_FENTRY"),
    ("fexit/do_unlinkat", "fexit", "do_unlinkat", "TRACING", "TRACE_FEXIT"),
    ("lsm/file_open", "lsm", "file_open", "LSM", "LSM_MAC"),
])
def test_tracing_sections_select_libbpfs_kinds(section: str, kind: str, target: str,
                                               prog_type: str, attach_type: str) -> None:
    found = abi.program_kind_for_section(section)
    assert found is not None and found.name == kind
    assert found.target_in(section) == target
    assert found.prog_type_id == abi.PROG_TYPES["BPF_PROG_TYPE_" + prog_type]
    assert found.attach_type_id == (abi.ATTACH_TYPES["BPF_" + attach_type] if attach_type
                                    else None)
    assert found.attach_target in abi.ATTACH_TARGETS
    assert found.feature is None or found.feature in abi.KERNEL_FEATURES


def test_sections_that_select_no_tracing_kind() -> None:
    for section in ("tracepointx/a/b", "perf_event/x", "uprobex", "tp_btfx/x", "iterx/task",
                    "raw_tp.w/sys_enter"):
        assert abi.program_kind_for_section(section) is None, section


# ------------------------------------------------- perf_event_open's ABI


def _c_values(tmp_path: Path, expressions: dict[str, str]) -> dict[str, int]:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    require_kernel_feature("C compiler", compiler is not None, "no cc, gcc or clang")
    require_kernel_feature("linux/perf_event.h", PERF_EVENT_H.is_file(), "not installed")
    assert compiler is not None
    lines = [f'    printf("%s %llu\\n", "{key}", (unsigned long long)({expr}));'
             for key, expr in expressions.items()]
    source = tmp_path / "perf.c"
    source.write_text("#include <stddef.h>\n#include <stdio.h>\n#include <linux/perf_event.h>\n"
                      "#include <sys/mount.h>\n#include <sys/syscall.h>\n"
                      "int main(void)\n{\n" + "\n".join(lines)
                      + "\n    return 0;\n}\n")
    build = subprocess.run([compiler, "-o", str(tmp_path / "perf"), str(source)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    out = subprocess.run([str(tmp_path / "perf")], capture_output=True, text=True,
                         check=True).stdout
    return {key: int(value) for key, value in (line.split() for line in out.splitlines())}


def test_perf_and_mount_numbers_and_layouts_match_the_headers(tmp_path: Path) -> None:
    names = [n for n in vars(kernel) if n.startswith("PERF_") and not n.startswith(
        ("PERF_ATTR_FLAG_", "PERF_EVENT_OPEN_SYSCALL"))]
    expressions = {name: name for name in names}
    expressions["PERF_ATTR_FLAG_DISABLED"] = "({ struct perf_event_attr a = {0}; a.disabled " \
                                             "= 1; ((unsigned long long *)&a)[5]; })"
    expressions["PERF_ATTR_FLAG_FREQ"] = "({ struct perf_event_attr a = {0}; a.freq = 1; " \
                                         "((unsigned long long *)&a)[5]; })"
    expressions["__NR_perf_event_open"] = "__NR_perf_event_open"
    expressions["MNT_DETACH"] = "MNT_DETACH"
    for struct_type in perf_structs.STRUCTS:
        for field, *_ in struct_type._fields_:
            if not field.startswith("_"):
                # flags stands for the bitfields, the word after read_format.
                expressions[f"{struct_type.__name__}.{field}"] = (
                    f"offsetof({struct_type._c_type_}, read_format) + 8" if field == "flags"
                    else f"offsetof({struct_type._c_type_}, {field})")
    expressions["sizeof_PerfEventAttr"] = "sizeof(struct perf_event_attr)"
    measured = _c_values(tmp_path, expressions)
    ours = {name: getattr(kernel, name) for name in names}
    ours["PERF_ATTR_FLAG_DISABLED"] = kernel.PERF_ATTR_FLAG_DISABLED
    ours["PERF_ATTR_FLAG_FREQ"] = kernel.PERF_ATTR_FLAG_FREQ
    ours["__NR_perf_event_open"] = kernel.PERF_EVENT_OPEN_SYSCALL_NUMBERS[
        __import__("platform").machine()]
    for struct_type in perf_structs.STRUCTS:
        for field, *_ in struct_type._fields_:
            if not field.startswith("_"):
                ours[f"{struct_type.__name__}.{field}"] = getattr(struct_type, field).offset
    ours["sizeof_PerfEventAttr"] = ctypes.sizeof(perf_structs.PerfEventAttr)
    ours["MNT_DETACH"] = kernel.MNT_DETACH
    assert {k: (ours[k], measured[k]) for k in ours if ours[k] != measured[k]} == {}


# ------------------------------------------------------------ kernel BTF


@pytest.fixture(scope="module")
def vmlinux_bytes() -> bytes:
    require_kernel_feature("kernel BTF", VMLINUX_BTF.is_file(), f"{VMLINUX_BTF} is missing")
    return VMLINUX_BTF.read_bytes()


def test_kernel_btf_is_read_fast_and_agrees_with_the_full_parser(vmlinux_bytes: bytes) -> None:
    started = time.perf_counter()
    lazy = KernelBtf(vmlinux_bytes)
    tracepoint = lazy.find("btf_trace_sched_switch", Kind.TYPEDEF)
    iterator = lazy.find("bpf_iter_task", Kind.FUNC)
    task = lazy.find("task_struct", Kind.STRUCT)
    elapsed = time.perf_counter() - started
    print(f"\nvmlinux BTF: {len(vmlinux_bytes)} bytes, {len(lazy)} types; read and three "
          f"look-ups in {elapsed * 1000:.0f} ms")
    assert elapsed < 0.6          # the full parse takes over a second
    full = Btf.parse(vmlinux_bytes)
    assert len(lazy) == len(full.types)
    assert tracepoint == full.find("btf_trace_sched_switch", Kind.TYPEDEF)
    assert iterator == full.find("bpf_iter_task", Kind.FUNC)
    assert task == full.find("task_struct", Kind.STRUCT)
    for type_id in (1, task, tracepoint, iterator, len(lazy) - 1):
        assert type_id is not None
        assert lazy[type_id] == full.types[type_id], type_id
    assert lazy.find("no_such_type_anywhere") is None
    assert lazy.ids_named("task_struct") == [i for i, t in enumerate(full.types)
                                             if t.name == "task_struct"]
    # It is a Btf: types resolve, sizes and descriptions are the full parser's.
    assert task is not None and tracepoint is not None
    assert lazy.size_of(task) == full.size_of(task)
    assert lazy.resolve(tracepoint) == full.resolve(tracepoint)
    assert lazy.describe(task) == full.describe(task) == f"#{task} STRUCT 'task_struct'"


def test_kernel_btf_reads_every_type_of_an_object_as_the_full_parser(
        build_tracing: BuildTracing) -> None:
    elf = ELFFile(open(build_tracing("core_reads"), "rb"))
    raw = elf.get_section_by_name(".BTF").data()
    lazy, full = KernelBtf(raw, what="core_reads.o"), Btf.parse(raw)
    assert [lazy[i] for i in range(1, len(lazy))] == full.types[1:]


def test_a_broken_kernel_btf_is_named() -> None:
    with pytest.raises(BpfError, match=r"^/x/vmlinux: BTF: bad magic"):
        KernelBtf(b"\0" * 32, what="/x/vmlinux")


# ------------------------------------------------------- uprobes and ELF


def test_uprobe_offsets_are_file_offsets(target_binary: Path, tmp_path: Path) -> None:
    gcc = shutil.which("gcc") or shutil.which("cc")
    assert gcc is not None                   # target_binary needed one
    no_pie = tmp_path / "target-no-pie"
    subprocess.run([gcc, "-O2", "-no-pie", "-fno-pie", "-o", str(no_pie),
                    str(Path(__file__).parents[1] / "c" / "tracing" / "target.c")], check=True)
    for binary in (target_binary, no_pie):
        place = resolve_target(f"{binary}:add_numbers+4", "test")
        symbols = elf_symbols(str(binary))
        # The same bytes, found through the section headers instead.
        with open(binary, "rb") as f:
            elf = ELFFile(f)
            text = elf.get_section_by_name(".text")
            address = symbols.address_of("add_numbers")
            in_text = address - text["sh_addr"] + text["sh_offset"]
            f.seek(in_text + 4)
            expected = f.read(8)
            f.seek(place.file_offset)
            assert f.read(8) == expected
        assert (place.offset, place.function, place.binary) == (4, "add_numbers", str(binary))
    # -no-pie: the address is not the file offset.
    assert elf_symbols(str(no_pie)).address_of("add_numbers") != \
        resolve_target(f"{no_pie}:add_numbers", "test").file_offset


def test_uprobe_binaries_by_path_library_or_command() -> None:
    assert find_binary("true") == str(Path(shutil.which("true") or "").resolve())
    libc = find_binary("libc.so.6")
    assert Path(libc).is_file() and "malloc" in elf_symbols(libc).functions
    with pytest.raises(BpfError, match="library 'libnothing.so.1': not found in "):
        find_binary("libnothing.so.1")
    with pytest.raises(BpfError, match="binary 'no-such-command-here': not a path, and no "
                                       "command of that name on PATH"):
        find_binary("no-such-command-here")
    with pytest.raises(BpfError, match=r"^prog: 'libc\.so\.6' is not BINARY:FUNCTION"):
        resolve_target("libc.so.6", "prog")


def test_user_addresses_are_named_through_the_memory_map() -> None:
    libc = ctypes.CDLL("libc.so.6")
    getpid = ctypes.cast(libc.getpid, ctypes.c_void_p).value
    assert getpid is not None
    frame = ProcessMaps(__import__("os").getpid()).frame(getpid + 1)
    assert frame.module is not None and frame.module.startswith("libc")
    assert frame.function in ("getpid", "__getpid") and frame.offset == 1
    assert str(frame) == f"{frame.function}+0x1 ({frame.module})"
    assert str(ProcessMaps(__import__("os").getpid()).frame(8)) == "0x8"


def test_kernel_addresses_are_named_through_kallsyms_text() -> None:
    symbols = KernelSymbols("ffffffff81000000 T _stext\n"
                            "ffffffff81000100 t helper\n"
                            "ffffffff81000080 D not_text\n"
                            "ffffffffc0000000 t mod_func\t[some_module]\n")
    assert str(symbols.frame(0xffffffff81000010)) == "_stext+0x10"
    assert str(symbols.frame(0xffffffff81000100)) == "helper+0x0"
    assert str(symbols.frame(0xffffffffc0000008)) == "mod_func+0x8 (some_module)"
    assert str(symbols.frame(0x1000)) == "0x1000"
    # A function's padding is no function: an address there is the one's before.
    padded = KernelSymbols("ffffffff81000000 T start\nffffffff81000030 T __pfx_next\n"
                           "ffffffff81000040 T next\n")
    assert str(padded.frame(0xffffffff81000032)) == "start+0x32"
    assert str(padded.frame(0xffffffff81000040)) == "next+0x0"
    hidden = KernelSymbols("0000000000000000 T _stext\n0000000000000000 t helper\n")
    with pytest.raises(BpfError, match="kptr_restrict"):
        hidden.frame(0xffffffff81000010)


def test_stack_values_end_at_the_first_zero() -> None:
    raw = struct.pack("<5Q", 0x10, 0x20, 0, 0x30, 0)
    assert stack_addresses(raw) == [0x10, 0x20]
    assert stack_addresses(bytes(16)) == []


# ------------------------------------------------------------- histograms


def test_log2_buckets() -> None:
    assert [bucket_of(v) for v in (-5, 0, 1, 2, 3, 4, 7, 8, 1023, 1024, (1 << 64) - 1)] == \
        [0, 1, 2, 3, 3, 4, 4, 5, 11, 12, 65]
    for value in [-(1 << 62), -1, *range(0, 300), 1 << 40, (1 << 63) + 5]:
        low, high = bucket_range(bucket_of(value))
        assert low <= value < high, value
    assert [bucket_label(i) for i in (0, 1, 2, 3, 11, 12, 21, 22, 65)] == [
        "(..., 0)", "[0]", "[1]", "[2, 4)", "[512, 1K)", "[1K, 2K)", "[512K, 1M)",
        "[1M, 2M)", "[8E, 16E)"]


def test_histogram_rendering() -> None:
    assert Log2Histogram(tuple([0] * 10)).render() == ""
    histogram = Log2Histogram((1, 0, 0, 4, 0, 2))
    assert histogram.total == 7
    assert str(histogram) == (
        "(..., 0)               1 |@@@@@@@@@@@@@                                       |\n"
        "[0]                    0 |                                                    |\n"
        "[1]                    0 |                                                    |\n"
        "[2, 4)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[4, 8)                 0 |                                                    |\n"
        "[8, 16)                2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n")
    assert histogram.render(width=4).splitlines()[3].endswith("4 |@@@@|")


def test_histogram_maps_must_hold_u64_counts() -> None:
    for key_size, value_size, entries in ((4, 4, 66), (8, 8, 66), (4, 8, 67), (4, 8, 0)):
        not_a_histogram = Map(-1, MapSpec("hist", bpf.BPF_MAP_TYPE_ARRAY, key_size, value_size,
                                          entries), None)
        with pytest.raises(BpfError, match=r"^map 'hist': a histogram "):
            Log2Histogram.from_map(not_a_histogram)


# ------------------------------------------------------------- CO-RE names


def test_core_relocations_are_described_as_in_c(build_tracing: BuildTracing) -> None:
    spec = read_object(build_tracing("core_reads"))
    assert spec.btf is not None
    seen = {describe(spec.btf, r) for p in spec.programs.values() for r in p.core_relocations}
    assert {"struct task_struct.real_parent", "struct task_struct.tgid",
            "struct task_struct___pybpfc.real_parent", "struct task_struct___pybpfc.tgid",
            "struct task_struct___pybpfc.no_such_field", "struct task_struct.comm",
            "struct task_struct", "enum bpf_map_type::BPF_MAP_TYPE_RINGBUF",
            "enum bpf_map_type::BPF_MAP_TYPE_ARENA"} == seen


# --------------------------------------------------------- little pieces


def test_tracepoint_names_and_cpu_lists() -> None:
    assert split_tracepoint("syscalls/sys_enter_openat", "p") == ("syscalls",
                                                                  "sys_enter_openat")
    for bad in ("sys_enter_openat", "../x", "a/b/c", "a/", "/b", "a/..", "a/b c"):
        with pytest.raises(BpfError, match=r"^p: '.*' is not a tracepoint"):
            split_tracepoint(bad, "p")
    assert cpu_numbers("0-2,5,7-8\n") == [0, 1, 2, 5, 7, 8]
    assert cpu_numbers("0") == [0]


def test_a_link_of_several_events_is_not_pinned_and_closes_once() -> None:
    link = TracingLink("sampler", "perf event", "cpu-clock at 99 Hz")
    with pytest.raises(BpfError, match=r"^program 'sampler' on perf event cpu-clock at 99 "
                                       r"Hz: cannot be pinned: it is held by 0 BPF links and "
                                       r"0 perf events, not by one BPF link$"):
        link.pin("/sys/fs/bpf/x")
    link.close()
    link.close()


# ------------------------------------------------- bpf(2), with a fake kernel


class FakeKernel:
    """Stands in for bpf._sys_bpf: records (command, attr) and answers 7."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bpf.BpfAttr]] = []

    def __call__(self, cmd: int, attr: bpf.BpfAttr) -> int:
        copy = bpf.BpfAttr.from_buffer_copy(attr)
        self.calls.append((cmd, copy))
        if cmd == bpf.BPF_RAW_TRACEPOINT_OPEN and attr.raw_tracepoint.name:
            self.name = ctypes.string_at(attr.raw_tracepoint.name)
        return 7


def test_tracing_commands_go_through_the_one_syscall_function(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeKernel()
    monkeypatch.setattr(bpf, "_sys_bpf", fake)
    assert bpf_tracing.raw_tracepoint_open(5, "sys_enter", what="p") == 7
    assert bpf_tracing.raw_tracepoint_open(6, None, what="p") == 7
    assert bpf_tracing.iter_create(9, what="p") == 7
    relos = struct.pack("<IIII", 16, 3, 5, kernel.BPF_CORE_FIELD_BYTE_OFFSET)
    assert bpf.prog_load(bpf.BPF_PROG_TYPE_TRACING, bytes(16), "GPL", "p",
                         attach_btf_id=1234, core_relos=relos).fd == 7
    (c1, a1), (c2, a2), (c3, a3), (c4, a4) = fake.calls
    assert (c1, a1.raw_tracepoint.prog_fd, fake.name) == (bpf.BPF_RAW_TRACEPOINT_OPEN, 5,
                                                          b"sys_enter")
    assert (c2, a2.raw_tracepoint.prog_fd, a2.raw_tracepoint.name) == (
        bpf.BPF_RAW_TRACEPOINT_OPEN, 6, 0)
    assert (c3, a3.iter_create.link_fd) == (bpf.BPF_ITER_CREATE, 9)
    load = a4.prog_load
    assert (c4, load.attach_btf_id, load.core_relo_cnt, load.core_relo_rec_size) == (
        bpf.BPF_PROG_LOAD, 1234, 1, 16)


def test_tracing_command_failures_name_the_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bpf, "_sys_bpf", lambda cmd, attr: -errno.ENOENT)
    with pytest.raises(SyscallError, match=r"^program 'p' on raw tracepoint x: "
                                           r"BPF_RAW_TRACEPOINT_OPEN failed: .*ENOENT.* -- this "
                                           r"kernel has no tracepoint of that name$"):
        bpf_tracing.raw_tracepoint_open(5, "x", what="program 'p' on raw tracepoint x")
