"""The pure spec side of the runtime: objects from pybpfc and from clang read
back into ObjectSpecs (programs, subprograms, maps, globals, relocations,
func and line info), BTF round trips and value coding, malformed objects
rejected with a SpecError that names the fault, and the kernel accepting
what the spec hands it (fixed-up BTF, linked programs with their BTF info).
"""
from __future__ import annotations

import ctypes
import functools
import glob
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import REPO_ROOT, require_kernel_feature, require_root
from pybpfc import abi
from pybpfc.abi.kernel import (BPF_BTF_LOAD, BPF_F_NO_PREALLOC, BPF_MAP_CREATE,
                               BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_UPDATE_ELEM,
                               BPF_PROG_LOAD, SYSCALL_NUMBERS)
from pybpfc.compiler.driver import ObjectPlan, compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.btf import (INT_BOOL, INT_SIGNED, Btf, BtfExt, BtfType, Enumerator, Kind, Member,
                                StringTable)
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.maps import count_cpus
from pybpfc.runtime.spec import (OP_CALL, OP_LD_IMM64, PSEUDO_CALL, PSEUDO_FUNC, MapSpec,
                                 ObjectSpec, SpecError)

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.py"))
C_DIR = REPO_ROOT / "tests" / "c"
C_SOURCES = sorted(C_DIR.glob("*.c"))
# Objects the spec reader must refuse; the others read back and load.
REFUSED_C = {"extern_kconfig"}



# ------------------------------------------------------------------ helpers

def compile_example(example: Path) -> tuple[bytes, ObjectPlan]:
    compiled = compile_source(Source(str(example), example.read_text()))
    return compiled.elf, compiled.plan


def section_data(elf_bytes: bytes, name: str) -> bytes:
    section = ELFFile(io.BytesIO(elf_bytes)).get_section_by_name(name)
    assert section is not None, name
    return section.data()


def section_header(elf_bytes: bytes, name: str) -> dict[str, int]:
    section = ELFFile(io.BytesIO(elf_bytes)).get_section_by_name(name)
    assert section is not None, name
    return dict(section.header)


@functools.cache
def clang_build(stem: str) -> bytes:
    """tests/c/<stem>.c built with clang -O2 -g -target bpf (once per session)."""
    clang = shutil.which("clang")
    require_kernel_feature("clang", clang is not None, "clang is not installed")
    # <linux/types.h> includes <asm/types.h>, which Debian keeps per architecture.
    includes = [f"-I{Path(p).parent.parent}" for p in glob.glob("/usr/include/*/asm/types.h")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{stem}.o"
        result = subprocess.run([str(clang), "-O2", "-g", "-target", "bpf", *includes, "-c",
                                 str(C_DIR / f"{stem}.c"), "-o", str(out)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return out.read_bytes()


@pytest.fixture
def c_objects() -> dict[str, bytes]:
    return {source.stem: clang_build(source.stem) for source in C_SOURCES}


def all_objects(c_objects: dict[str, bytes]) -> Iterator[tuple[str, bytes]]:
    for example in EXAMPLES:
        yield example.stem, compile_example(example)[0]
    yield from ((name, elf) for name, elf in c_objects.items() if name not in REFUSED_C)


# ------------------------------------------------- (a) pybpfc's own objects

@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_reads_back_as_planned(example: Path) -> None:
    elf, plan = compile_example(example)
    spec = read_object(elf)
    assert spec.license == plan.license
    assert {(p.name, p.section) for p in spec.programs.values()} == \
        {(p.name, p.section) for p in plan.programs}
    for planned in plan.programs:
        prog = spec.programs[planned.name]
        hook = abi.HOOKS_BY_DECORATOR[planned.hook]
        assert prog.hook == planned.hook
        assert prog.prog_type == hook.prog_type_id
        assert prog.expected_attach_type == hook.attach_type_id
        assert prog.license == plan.license
        assert len(prog.instructions) % 8 == 0 and prog.insn_count > 0
        assert prog.subprograms == []      # pybpfc inlines its helpers
    variables = {(name, section.name, var.size)
                 for section in spec.data.values() for name, var in section.variables.items()}
    # The compiler's own hidden globals (a ring buffer's lost count, a record
    # type's zeroed instance) are no global of the program's.
    hidden = {v for v in variables if v[0].startswith(abi.maps.HIDDEN_GLOBAL_PREFIX)}
    assert all(section == ".bss" for _, section, _ in hidden), hidden
    assert variables - hidden == {(g.name, g.section, g.size) for g in plan.globals}
    for g in plan.globals:
        var = spec.data[g.section].variables[g.name]
        assert var.type_id and spec.btf is not None
        assert spec.btf.size_of(var.type_id) == g.size
    # Every global or map reference is a relocation onto an ld_imm64: of a
    # variable's offset in its data section, or of a map.
    for prog in spec.programs.values():
        for rel in prog.relocations:
            assert prog.insn(rel.insn_index).code == OP_LD_IMM64
            if rel.kind == "map":
                assert rel.target in {m.name for m in plan.maps}
                continue
            assert rel.kind == "data" and rel.target in spec.data
            offsets = {v.offset for v in spec.data[rel.target].variables.values()}
            # print() formats are unnamed constants of .rodata
            assert rel.offset in offsets or rel.target == ".rodata"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_func_and_line_info_point_at_its_lines(example: Path) -> None:
    elf, plan = compile_example(example)
    spec = read_object(elf)
    assert spec.btf is not None
    lines = example.read_text().splitlines()
    for planned in plan.programs:
        prog = spec.programs[planned.name]
        assert len(prog.func_info) == 1 and prog.func_info[0].insn == 0
        func = spec.btf[prog.func_info[0].type_id]
        assert func.kind == Kind.FUNC and func.name == planned.name
        assert prog.line_info and prog.line_info[0].insn == 0
        assert [li.insn for li in prog.line_info] == sorted({li.insn for li in prog.line_info})
        assert all(li.insn < prog.insn_count for li in prog.line_info)
        for li in prog.line_info:
            assert os.path.basename(li.file_name) == example.name
            assert 1 <= li.line_number <= len(lines)
            assert li.line == lines[li.line_number - 1] and li.line.strip()
            assert spec.btf.strings[li.line_off] == li.line
            assert li.pack() == struct.pack("<IIII", li.insn, li.file_name_off, li.line_off,
                                            li.line_number << 10 | li.column)
        # Mostly the program's own lines (inlined helpers bring theirs along).
        def_line = next(i + 1 for i, text in enumerate(lines)
                        if text.startswith(f"def {planned.name}("))
        assert any(li.line_number >= def_line for li in prog.line_info)


def test_example_globals_keep_initial_values_and_can_be_set() -> None:
    source = ("from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, u32, u64, i32\n"
              "limit: u32 = 7\n"
              "delta: i32 = -3\n"
              "hits: u64 = 0\n"
              "@cgroup_sysctl\n"
              "def f(ctx: SysctlContext) -> int:\n"
              "    global hits\n"
              "    hits += u64(limit) + u64(delta)\n"
              "    return ALLOW\n")
    spec = read_object(compile_source(Source("globals.py", source)).elf)
    assert spec.get_global("limit") == 7
    assert spec.get_global("delta") == -3
    assert spec.get_global("hits") == 0
    edited = spec.copy()
    edited.set_global("limit", 4096)
    edited.set_global("delta", -40000)
    assert edited.get_global("limit") == 4096 and edited.get_global("delta") == -40000
    assert spec.get_global("limit") == 7          # the copy is independent
    section = edited.section_of("limit")
    var = section.variables["limit"]
    assert section.contents[var.offset:var.offset + 4] == (4096).to_bytes(4, "little")
    with pytest.raises(SpecError, match=r"^section '[^']+': variable 'limit': .*does not fit"):
        edited.set_global("limit", 1 << 32)
    with pytest.raises(SpecError, match=r"^section '[^']+': no variable 'nope'"):
        section.set("nope", 1)


# ----------------------------------------------------------- (b) clang's

def test_c_maps_and_globals(c_objects: dict[str, bytes]) -> None:
    spec = read_object(c_objects["maps_globals"])
    btf = spec.btf
    assert btf is not None and spec.license == "GPL"

    stats = spec.maps["stats_by_proto"]
    assert (stats.map_type, stats.key_size, stats.value_size, stats.max_entries,
            stats.flags) == (BPF_MAP_TYPE_HASH, 4, 24, 128, BPF_F_NO_PREALLOC)
    value = btf[btf.resolve(stats.value_type_id)]
    assert value.kind == Kind.STRUCT and value.name == "stats"
    assert [m.name for m in value.members] == ["packets", "last_family", "delta", "tag"]
    assert btf.size_of(stats.key_type_id) == 4
    counters = spec.maps["counters"]
    assert (counters.map_type, counters.key_size, counters.value_size,
            counters.max_entries, counters.flags) == (BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0)

    bss, data, rodata = spec.data[".bss"], spec.data[".data"], spec.data[".rodata"]
    assert not bss.readonly and not data.readonly and rodata.readonly
    assert bss.contents == bytes(8) and bss.get("created") == 0
    assert (data.get("mark_to_set"), data.get("bias")) == (42, -7)
    assert (rodata.get("allowed_family"), rodata.get("verbose")) == (2, 1)
    assert {n: (v.offset, v.size) for n, v in data.variables.items()} == \
        {"mark_to_set": (0, 4), "bias": (4, 4)}
    # The BTF DATASECs were fixed up from the ELF: sizes and offsets.
    for section in (bss, data, rodata):
        assert section.btf_datasec_id is not None
        datasec = btf[section.btf_datasec_id]
        assert datasec.size == section.size
        assert {btf[v.type].name: v.offset for v in datasec.vars} == \
            {n: v.offset for n, v in section.variables.items()}
    assert btf.decode(data.btf_datasec_id, data.contents) == {"mark_to_set": 42, "bias": -7}
    rodata.set("allowed_family", 10)
    assert spec.get_global("allowed_family") == 10

    # Two programs in one section, split by their symbols; the libbpf alias.
    create, too, alias = (spec.programs[n] for n in
                          ("count_create", "count_create_too", "legacy_alias"))
    assert create.section == too.section == "cgroup/sock_create"
    text = section_data(c_objects["maps_globals"], "cgroup/sock_create")
    assert create.instructions + too.instructions == text
    assert alias.section == "cgroup/sock"
    for prog in (create, too, alias):
        assert prog.prog_type == abi.PROG_TYPES["BPF_PROG_TYPE_CGROUP_SOCK"]
        assert prog.expected_attach_type == abi.ATTACH_TYPES["BPF_CGROUP_INET_SOCK_CREATE"]
        assert prog.hook == "cgroup_sock_create"

    kinds = {(r.kind, r.target, r.offset) for r in create.relocations}
    assert kinds == {("map", "stats_by_proto", 0), ("data", ".bss", 0), ("data", ".data", 0),
                     ("data", ".data", 4), ("data", ".rodata", 0)}
    assert {(r.kind, r.target, r.offset) for r in too.relocations} == \
        {("map", "counters", 0), ("data", ".rodata", 4)}
    for prog in (create, too):
        for rel in prog.relocations:
            assert prog.insn(rel.insn_index).code == OP_LD_IMM64


def test_c_subprograms_are_appended_and_linked(c_objects: dict[str, bytes]) -> None:
    spec = read_object(c_objects["subprog"])
    btf = spec.btf
    assert btf is not None
    short, twice, loop = (spec.programs[n] for n in ("keep_short", "keep_twice", "sum_loop"))
    assert (short.section, twice.section, loop.section) == ("socket", "socket/second", "socket")
    for prog in (short, twice, loop):
        assert prog.prog_type == abi.PROG_TYPES["BPF_PROG_TYPE_SOCKET_FILTER"]
        assert prog.expected_attach_type is None
    assert short.subprograms == ["clamp_len"]
    assert twice.subprograms == ["twice", "clamp_len"]       # twice calls clamp_len itself
    assert loop.subprograms == ["add_index", "clamp_len"]

    for prog in (short, twice, loop):
        func_starts = {btf[fi.type_id].name: fi.insn for fi in prog.func_info}
        assert func_starts[prog.name] == 0
        assert [fi.insn for fi in prog.func_info] == sorted(fi.insn for fi in prog.func_info)
        calls = [r for r in prog.relocations if r.kind == "call"]
        assert {r.target for r in calls} == set(prog.subprograms)
        for rel in calls:
            insn = prog.insn(rel.insn_index)
            # Each call (or callback address) lands on the start of its callee.
            assert rel.insn_index + 1 + insn.imm == rel.offset == func_starts[rel.target]
            if insn.code == OP_CALL:
                assert insn.src == PSEUDO_CALL
            else:
                assert insn.code == OP_LD_IMM64 and insn.src == PSEUDO_FUNC
        # The data relocation in clamp_len moved along with the code.
        data = [r for r in prog.relocations if r.kind == "data"]
        assert [(r.target, r.offset) for r in data] == [(".bss", 0)]
        assert data[0].insn_index > func_starts["clamp_len"]
        assert prog.insn(data[0].insn_index).code == OP_LD_IMM64
        # Line info of appended code points at the subprogram's own lines.
        source = (C_DIR / "subprog.c").read_text().splitlines()
        clamp = [li for li in prog.line_info if li.insn >= func_starts["clamp_len"]
                 and li.line_number]      # line 0: code LLVM made up, no source line
        assert clamp and all(li.line == source[li.line_number - 1] for li in clamp)
        assert any("limit" in li.line for li in clamp)
    assert spec.data[".bss"].variables["seen"].size == 8


def test_c_sysctl_program(c_objects: dict[str, bytes]) -> None:
    spec = read_object(c_objects["sysctl"])
    prog = spec.programs["guard_sysctl"]
    hook = abi.HOOKS_BY_SECTION["cgroup/sysctl"]
    assert (prog.prog_type, prog.expected_attach_type, prog.hook) == \
        (hook.prog_type_id, hook.attach_type_id, "cgroup_sysctl")
    assert [(r.kind, r.target, r.offset) for r in prog.relocations] == [("data", ".bss", 0)]
    assert spec.data[".bss"].variables["refused"].size == 4
    assert spec.maps == {}
    lines = (C_DIR / "sysctl.c").read_text().splitlines()
    assert all(li.line == lines[li.line_number - 1] for li in prog.line_info if li.line_number)


def test_read_object_accepts_a_path(c_objects: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "sysctl.o"
    path.write_bytes(c_objects["sysctl"])
    spec = read_object(path)
    assert spec.path == str(path) and "guard_sysctl" in spec.programs
    with pytest.raises(SpecError, match=r"^file '.*missing\.o': "):
        read_object(tmp_path / "missing.o")


# ------------------------------------------------------------ (c) BTF

def test_btf_round_trip_is_byte_identical(c_objects: dict[str, bytes]) -> None:
    for name, elf in all_objects(c_objects):
        raw = section_data(elf, ".BTF")
        assert Btf.parse(raw).encode() == raw, name


def test_kernel_btf_round_trips() -> None:
    vmlinux = Path("/sys/kernel/btf/vmlinux")
    require_kernel_feature("kernel BTF", vmlinux.exists(), f"{vmlinux} is missing")
    raw = vmlinux.read_bytes()
    btf = Btf.parse(raw)
    assert btf.encode() == raw
    sock = btf.find("bpf_sock", Kind.STRUCT)
    assert sock is not None and btf.size_of(sock) == abi.BPF_SOCK.size
    kinds = {t.kind for t in btf.types}
    assert {Kind.ENUM64, Kind.FUNC_PROTO, Kind.FLOAT, Kind.UNION} <= kinds


def test_btf_ext_records(c_objects: dict[str, bytes]) -> None:
    elf = c_objects["subprog"]
    btf = Btf.parse(section_data(elf, ".BTF"))
    ext = BtfExt.parse(section_data(elf, ".BTF.ext"), btf)
    assert set(ext.func_info) == {".text", "socket", "socket/second"}
    assert {btf[fi.type_id].name for fi in ext.func_info[".text"]} == \
        {"clamp_len", "twice", "add_index"}
    # Record offsets are bytes in the file and instruction indexes here.
    assert [fi.insn for fi in ext.func_info["socket"]] == [0, 4]
    assert all(li.file_name.endswith("subprog.c") for li in ext.line_info[".text"])


def _handmade_btf() -> tuple[Btf, int]:
    """struct sample { u32 id; s8 small; bool on; u8 name[4]; u16 words[2];
    union { u32 whole; u16 half; }; u32 lo:3; int hi:5; enum colour c;
    const u64 big; double ratio; }, built by hand."""
    btf = Btf()

    def add(t: BtfType) -> int:
        btf.types.append(t)
        return len(btf.types) - 1

    u32 = add(BtfType(Kind.INT, "u32", size=4, bits=32))
    s8 = add(BtfType(Kind.INT, "s8", size=1, bits=8, encoding=INT_SIGNED))
    boolean = add(BtfType(Kind.INT, "bool", size=1, bits=8, encoding=INT_BOOL))
    u8 = add(BtfType(Kind.INT, "u8", size=1, bits=8))
    u16 = add(BtfType(Kind.INT, "u16", size=2, bits=16))
    s32 = add(BtfType(Kind.INT, "int", size=4, bits=32, encoding=INT_SIGNED))
    u64 = add(BtfType(Kind.INT, "u64", size=8, bits=64))
    double = add(BtfType(Kind.FLOAT, "double", size=8))
    name = add(BtfType(Kind.ARRAY, elem_type=u8, index_type=u32, nelems=4))
    words = add(BtfType(Kind.ARRAY, elem_type=u16, index_type=u32, nelems=2))
    union = add(BtfType(Kind.UNION, size=4, members=[Member("whole", u32, 0),
                                                      Member("half", u16, 0)]))
    colour = add(BtfType(Kind.ENUM, "colour", size=4, kind_flag=True,
                         values=[Enumerator("RED", -1), Enumerator("BLUE", 7)]))
    const_u64 = add(BtfType(Kind.CONST, type=u64))
    sample = add(BtfType(Kind.STRUCT, "sample", size=48, kind_flag=True, members=[
        Member("id", u32, 0), Member("small", s8, 32), Member("on", boolean, 40),
        Member("name", name, 48), Member("words", words, 80), Member("", union, 128),
        Member("lo", u32, 160, 3), Member("hi", s32, 163, 5), Member("c", colour, 192),
        Member("big", const_u64, 256), Member("ratio", double, 320),
    ]))
    return btf, sample


def test_handmade_btf_encodes_parses_and_codes_values() -> None:
    btf, sample = _handmade_btf()
    again = Btf.parse(btf.encode())
    assert again.encode() == btf.encode()
    assert [t.kind for t in again.types] == [t.kind for t in btf.types]
    value = {"id": 0xDEADBEEF, "small": -5, "on": True, "name": b"ab", "words": [1, 65535],
             "whole": 0x12345678, "lo": 5, "hi": -3, "c": "RED", "big": 1 << 63,
             "ratio": 0.25}
    raw = again.encode_value(sample, value)
    assert len(raw) == again.size_of(sample) == 48
    decoded = again.decode(sample, raw)
    assert decoded.id == 0xDEADBEEF and decoded.small == -5 and decoded.on is True
    assert decoded.name == b"ab\0\0" and decoded.words == [1, 65535]
    assert decoded.whole == 0x12345678 and decoded.half == 0x5678   # the anonymous union
    assert (decoded.lo, decoded.hi, decoded.c) == (5, -3, -1)
    assert decoded.big == 1 << 63 and decoded.ratio == 0.25
    assert again.encode_value(sample, decoded) == raw
    for bad, message in (({"lo": 8}, "lo.*does not fit"), ({"small": 128}, "small.*does not fit"),
                         ({"nope": 1}, "no field 'nope'"), ({"name": b"12345"}, "5 bytes"),
                         ({"words": [1, 2, 3]}, "3 elements"), ({"c": "GREEN"}, "GREEN"),
                         ({"on": 2}, "not a bool"), ({"id": "x"}, "not an integer")):
        with pytest.raises(SpecError, match=f"^BTF: value for .*{message}"):
            again.encode_value(sample, bad)


def test_renamed_type_gets_a_new_string() -> None:
    btf, sample = _handmade_btf()
    before = len(btf.strings)
    btf.types[sample].name = "renamed"
    again = Btf.parse(btf.encode())
    assert again.types[sample].name == "renamed" and len(again.strings) > before
    assert again.find("renamed", Kind.STRUCT) == sample and again.find("sample") is None
    assert StringTable(b"\0abc\0").add("bc") == 2          # tails are shared


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packets=st.integers(0, 2**64 - 1), family=st.integers(0, 2**32 - 1),
       delta=st.integers(-2**15, 2**15 - 1), tag=st.binary(max_size=6))
def test_struct_values_round_trip(packets: int, family: int, delta: int, tag: bytes) -> None:
    spec = read_object(clang_build("maps_globals"))
    btf = spec.btf
    assert btf is not None
    value_type = spec.maps["stats_by_proto"].value_type_id
    value = {"packets": packets, "last_family": family, "delta": delta, "tag": tag}
    raw = btf.encode_value(value_type, value)
    assert len(raw) == spec.maps["stats_by_proto"].value_size
    decoded = btf.decode(value_type, raw)
    assert decoded == {**value, "tag": tag.ljust(6, b"\0")}
    assert btf.encode_value(value_type, decoded) == raw


def test_datasec_fixups_match_the_elf(c_objects: dict[str, bytes]) -> None:
    """LLVM leaves DATASEC sizes and variable offsets 0; the spec's BTF has them."""
    for name, elf in all_objects(c_objects):
        raw = Btf.parse(section_data(elf, ".BTF"))
        fixed = read_object(elf).btf
        assert fixed is not None
        for sec_name, tid in raw.datasecs().items():
            assert raw[tid].size == 0, (name, sec_name)     # what LLVM emits
            size = section_header(elf, sec_name)["sh_size"]
            assert fixed[tid].size == size, (name, sec_name)
            offsets = [v.offset for v in fixed[tid].vars]
            assert offsets == sorted(offsets)


# -------------------------------------------------------- (d) malformed

def _patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


def _section_offset(elf_bytes: bytes, name: str) -> int:
    return section_header(elf_bytes, name)["sh_offset"]


def _symbol_offset(elf_bytes: bytes, name: str) -> int:
    symtab = ELFFile(io.BytesIO(elf_bytes)).get_section_by_name(".symtab")
    assert isinstance(symtab, SymbolTableSection)
    for i, sym in enumerate(symtab.iter_symbols()):
        if sym.name == name:
            return symtab["sh_offset"] + i * 24
    raise KeyError(name)


def _rename_section(elf_bytes: bytes, old: str, new: str) -> bytes:
    assert len(new) == len(old)
    elf = ELFFile(io.BytesIO(elf_bytes))
    shstrtab = elf.get_section(elf["e_shstrndx"])
    start = shstrtab["sh_offset"]
    table = elf_bytes[start:start + shstrtab["sh_size"]]
    at = table.index(old.encode() + b"\0")     # '.rel<name>' shares this string
    return _patch(elf_bytes, start + at, new.encode())


MALFORMED: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda d: b"", r"^ELF header: file is truncated \(0 bytes"),
    "truncated header": (lambda d: d[:40], r"^ELF header: file is truncated \(40 bytes"),
    "truncated sections": (lambda d: d[:len(d) - 100], r"^ELF: file is truncated"),
    "truncated middle": (lambda d: d[:len(d) // 2], r"^ELF: file is truncated"),
    "bad magic": (lambda d: b"\x7fELG" + d[4:], r"^ELF header: bad magic"),
    "32-bit": (lambda d: d[:4] + b"\x01" + d[5:], r"^ELF header: not a 64-bit"),
    "big-endian": (lambda d: d[:5] + b"\x02" + d[6:], r"^ELF header: not little-endian"),
    "wrong machine": (lambda d: _patch(d, 18, struct.pack("<H", 62)),
                      r"^ELF header: e_machine is 62, expected 247 \(EM_BPF\)"),
    "not relocatable": (lambda d: _patch(d, 16, struct.pack("<H", 2)),
                        r"^ELF header: e_type is 2"),
    "bad BTF magic": (lambda d: _patch(d, _section_offset(d, ".BTF"), b"\x00\x00"),
                      r"^BTF: bad magic 0x0000"),
    "BTF header length": (lambda d: _patch(d, _section_offset(d, ".BTF") + 4,
                                           struct.pack("<I", 1 << 30)),
                          r"^BTF: header length 1073741824 is invalid"),
    "BTF string section": (lambda d: _patch(d, _section_offset(d, ".BTF") + 20,
                                            struct.pack("<I", 1 << 20)),
                           r"^BTF: string section .* runs past the end"),
    "BTF dangling type": (lambda d: _patch(d, _section_offset(d, ".BTF") + 24 + 8,
                                           struct.pack("<I", 9999)),
                          r"^BTF: type #1 \(PTR ''\) refers to type #9999, which does not "
                          r"exist"),
    "BTF.ext record size": (lambda d: _patch(d, _section_offset(d, ".BTF.ext") + 32,
                                             struct.pack("<I", 3)),
                            r"^BTF\.ext: func_info record size 3 is invalid"),
    "missing symbol": (lambda d: _patch(d, _section_offset(d, ".relcgroup/sysctl") + 12,
                                        struct.pack("<I", 999)),
                       r"^program 'guard_sysctl': instruction \d+: relocation names symbol "
                       r"#999, but the symbol table has \d+ entries"),
    "variable without symbol": (lambda d: _patch(d, _symbol_offset(d, "refused") + 6,
                                                 struct.pack("<H", 0)),
                                r"^BTF: DATASEC '.bss': no ELF symbol for variable 'refused'"),
    "unknown section": (lambda d: _rename_section(d, "cgroup/sysctl", "nosuch/sysctl"),
                        r"^program 'guard_sysctl': section 'nosuch/sysctl' names no kind of program"),
    "odd program size": (lambda d: _patch(d, _symbol_offset(d, "guard_sysctl") + 16,
                                          struct.pack("<Q", 13)),
                         r"^program 'guard_sysctl': offset 0 or size 13 .* not a whole number"),
}


@pytest.mark.parametrize("fault", sorted(MALFORMED))
def test_malformed_object_gives_spec_error(fault: str, c_objects: dict[str, bytes]) -> None:
    mangle, message = MALFORMED[fault]
    bad = mangle(c_objects["sysctl"])
    with pytest.raises(SpecError, match=message):
        read_object(bad)


def test_truncated_anywhere_gives_spec_error(c_objects: dict[str, bytes]) -> None:
    data = c_objects["sysctl"]
    for size in sorted({0, 1, 4, 16, 63, 64, 65, 200, len(data) // 3, len(data) - 64,
                        len(data) - 1} | set(range(0, len(data), 97))):
        with pytest.raises(SpecError):
            read_object(data[:size])


def test_extern_global_is_refused(c_objects: dict[str, bytes]) -> None:
    with pytest.raises(SpecError, match=r"^program 'needs_kernel_version': instruction 0: "
                                        r"relocation against undefined symbol "
                                        r"'LINUX_KERNEL_VERSION' \(extern"):
        read_object(c_objects["extern_kconfig"])


def test_unsupported_map_attribute(c_objects: dict[str, bytes]) -> None:
    # Rename the BTF member 'map_flags' to 'map_flagz' inside the string table.
    data = c_objects["maps_globals"]
    start = _section_offset(data, ".BTF")
    at = data.index(b"\0map_flags\0", start) + 1
    with pytest.raises(SpecError, match=r"^map 'stats_by_proto': unknown attribute 'map_flagz'"):
        read_object(_patch(data, at, b"map_flagz"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_corruption_never_escapes_as_another_exception(data: st.DataObject) -> None:
    mutated = bytearray(clang_build("maps_globals"))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(mutated) - 1))
        mutated[pos] = data.draw(st.integers(0, 255))
    try:
        read_object(bytes(mutated))
    except SpecError:
        pass


# ---------------------------------------------------- (e) import hygiene

@pytest.mark.parametrize("module", ["pybpfc.runtime.elf", "pybpfc.runtime.spec",
                                    "pybpfc.runtime.btf"])
def test_runtime_spec_does_not_import_the_compiler(module: str) -> None:
    code = (f"import sys, {module}\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('llvmlite', 'lark')\n"
            "             or m == 'pybpfc.compiler' or m.startswith('pybpfc.compiler.'))\n"
            "print(','.join(bad))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# --------------------------------------------- the kernel takes the spec

class _Bpf:
    """Just enough bpf(2) to hand a spec to the kernel: this checks the
    spec, not the runtime's loader."""
    BTF_LOAD, MAP_CREATE, MAP_UPDATE, PROG_LOAD = (BPF_BTF_LOAD, BPF_MAP_CREATE,
                                                   BPF_MAP_UPDATE_ELEM, BPF_PROG_LOAD)

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fds: list[int] = []
        self.keep: list[object] = []

    def buf(self, data: bytes) -> int:
        b = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
        self.keep.append(b)
        return ctypes.addressof(b)

    def call(self, cmd: int, attr: bytearray, log: object = None) -> int:
        a = ctypes.create_string_buffer(bytes(attr), len(attr))
        fd = self.libc.syscall(SYSCALL_NUMBERS[os.uname().machine], cmd, a, len(attr))
        if fd < 0:
            text = log.value.decode(errors="replace") if log is not None else ""  # type: ignore[attr-defined]
            raise OSError(ctypes.get_errno(), f"bpf cmd {cmd}: {text[-2000:]}")
        if cmd != self.MAP_UPDATE:
            self.fds.append(fd)
        return fd

    def btf_load(self, raw: bytes) -> int:
        log = ctypes.create_string_buffer(1 << 16)
        attr = bytearray(32)
        struct.pack_into("<QQIII", attr, 0, self.buf(raw), ctypes.addressof(log), len(raw),
                         len(log), 1)
        return self.call(self.BTF_LOAD, attr, log)

    def map_create(self, name: str, map_type: int, key: int, value: int, entries: int,
                   flags: int, btf_fd: int, key_id: int, value_id: int) -> int:
        attr = bytearray(72)
        struct.pack_into("<IIIII", attr, 0, map_type, key, value, entries, flags)
        attr[28:28 + 15] = name.encode()[:15].ljust(15, b"\0")
        struct.pack_into("<III", attr, 48, btf_fd, key_id, value_id)
        return self.call(self.MAP_CREATE, attr)

    def map_update(self, fd: int, key: bytes, value: bytes) -> None:
        attr = bytearray(32)
        struct.pack_into("<IIQQQ", attr, 0, fd, 0, self.buf(key), self.buf(value), 0)
        self.call(self.MAP_UPDATE, attr)

    def prog_load(self, prog_type: int, attach: int, insns: bytes, license: str, name: str,
                  btf_fd: int, func_info: bytes, n_func: int, line_info: bytes,
                  n_line: int) -> int:
        log = ctypes.create_string_buffer(1 << 20)
        attr = bytearray(128)
        struct.pack_into("<IIQQIIQ", attr, 0, prog_type, len(insns) // 8, self.buf(insns),
                         self.buf(license.encode() + b"\0"), 1, len(log), ctypes.addressof(log))
        attr[48:48 + 15] = name.encode()[:15].ljust(15, b"\0")
        struct.pack_into("<I", attr, 68, attach)
        struct.pack_into("<IIQIIQI", attr, 72, btf_fd, 8, self.buf(func_info), n_func,
                         16, self.buf(line_info), n_line)
        return self.call(self.PROG_LOAD, attr, log)

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def _entries_as_libbpf_sizes_them(m: MapSpec) -> int:
    """libbpf gives a perf event array declared without max_entries one
    slot per possible CPU (the kernel refuses 0)."""
    if m.map_type == 4 and m.max_entries == 0:      # BPF_MAP_TYPE_PERF_EVENT_ARRAY
        return count_cpus(Path("/sys/devices/system/cpu/possible").read_text())
    return m.max_entries


def _load_into_kernel(spec: ObjectSpec, bpf: _Bpf) -> None:
    assert spec.btf is not None
    btf_fd = bpf.btf_load(spec.btf.encode())
    map_fds = {name: bpf.map_create(name, m.map_type, m.key_size, m.value_size,
                                    _entries_as_libbpf_sizes_them(m), m.flags, btf_fd,
                                    m.key_type_id, m.value_type_id)
               for name, m in spec.maps.items()}
    data_fds = {}
    for name, section in spec.data.items():
        # A keyless array whose value type is the DATASEC: the kernel checks its size.
        fd = bpf.map_create(name.strip("."), BPF_MAP_TYPE_ARRAY, 4, section.size, 1, 0,
                            btf_fd, 0, section.btf_datasec_id or 0)
        bpf.map_update(fd, bytes(4), section.contents)
        data_fds[name] = fd
    for prog in spec.programs.values():
        code = bytearray(prog.instructions)
        for rel in prog.relocations:
            at = rel.insn_index * 8
            if rel.kind == "map":
                code[at + 1] = (code[at + 1] & 0x0F) | (1 << 4)
                struct.pack_into("<i", code, at + 4, map_fds[rel.target])
            elif rel.kind == "data":
                code[at + 1] = (code[at + 1] & 0x0F) | (2 << 4)
                struct.pack_into("<i", code, at + 4, data_fds[rel.target])
                struct.pack_into("<i", code, at + 12, rel.offset)
        bpf.prog_load(prog.prog_type, prog.expected_attach_type or 0, bytes(code),
                      prog.license, prog.name, btf_fd,
                      b"".join(fi.pack() for fi in prog.func_info), len(prog.func_info),
                      b"".join(li.pack() for li in prog.line_info), len(prog.line_info))


@pytest.mark.kernel
def test_kernel_rejects_raw_llvm_btf_but_accepts_the_fixed_up_one(
        c_objects: dict[str, bytes]) -> None:
    require_root("loading BTF")
    bpf = _Bpf()
    try:
        elf = c_objects["maps_globals"]
        with pytest.raises(OSError):
            bpf.btf_load(section_data(elf, ".BTF"))
        spec = read_object(elf)
        assert spec.btf is not None
        assert bpf.btf_load(spec.btf.encode()) >= 0
    finally:
        bpf.close()


@pytest.mark.kernel
def test_kernel_loads_every_program_of_every_spec(c_objects: dict[str, bytes]) -> None:
    require_root("loading programs")
    for name, elf in all_objects(c_objects):
        spec = read_object(elf)
        if any(abi.program_kind_for_section(p.section).attach_btf  # type: ignore[union-attr]
               for p in spec.programs.values()):
            # Loaded against a kernel BTF id, which this loader does not
            # look up; test_tracing_examples loads those through the runtime.
            continue
        bpf = _Bpf()
        try:
            _load_into_kernel(spec, bpf)
        except OSError as err:
            pytest.fail(f"{name}: {err}")
        finally:
            bpf.close()
