"""Malformed BPF objects for fuzzing the runtime's reader and loader.

Base objects: ``pybpfc build`` of every example, and clang's build of every
``tests/c/*.c`` and ``tests/c/unsupported/*.c`` (objects using what the
runtime lacks: kfuncs, .ksyms, struct_ops, tail-call arrays).
Mutations know the ELF layout: they hit header fields, section headers,
symbols, relocations, BTF and BTF.ext words, instructions, or cut and flip
bytes anywhere.
"""
from __future__ import annotations

import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from tests.support import clang_bpf_command, find_tool

from .choose import Chooser

REPO_ROOT = Path(__file__).resolve().parent.parent
C_SOURCES = sorted((REPO_ROOT / "tests" / "c").glob("*.c")) + sorted(
    (REPO_ROOT / "tests" / "c" / "unsupported").glob("*.c"))

ELF_HEADER_FIELDS = {   # name -> (offset, size)
    "e_ident_class": (4, 1), "e_ident_data": (5, 1), "e_ident_version": (6, 1),
    "e_type": (16, 2), "e_machine": (18, 2), "e_version": (20, 4), "e_entry": (24, 8),
    "e_shoff": (40, 8), "e_flags": (48, 4), "e_ehsize": (52, 2), "e_shentsize": (58, 2),
    "e_shnum": (60, 2), "e_shstrndx": (62, 2),
}
SECTION_FIELDS = {"sh_name": (0, 4), "sh_type": (4, 4), "sh_flags": (8, 8), "sh_addr": (16, 8),
                  "sh_offset": (24, 8), "sh_size": (32, 8), "sh_link": (40, 4),
                  "sh_info": (44, 4), "sh_addralign": (48, 8), "sh_entsize": (56, 8)}
SYMBOL_FIELDS = {"st_name": (0, 4), "st_info": (4, 1), "st_other": (5, 1), "st_shndx": (6, 2),
                 "st_value": (8, 8), "st_size": (16, 8)}
RELOCATION_FIELDS = {"r_offset": (0, 8), "r_type": (8, 4), "r_sym": (12, 4)}
BTF_HEADER_FIELDS = {"magic": (0, 2), "version": (2, 1), "flags": (3, 1), "hdr_len": (4, 4),
                     "type_off": (8, 4), "type_len": (12, 4), "str_off": (16, 4),
                     "str_len": (20, 4)}


@dataclass(frozen=True)
class Region:
    """Where one kind of record lives in a base object."""
    kind: str          # "section", "symbol", "relocation", "btf", "btf_ext", "code"
    offset: int
    size: int
    entry_size: int


@dataclass(frozen=True)
class BaseObject:
    name: str
    data: bytes
    regions: tuple[Region, ...]


def build_c_objects(sources: list[Path] = C_SOURCES) -> dict[str, bytes]:
    """clang -O2 -g -target bpf of each source, in a private temporary directory."""
    clang = find_tool("clang")
    if clang is None:
        raise RuntimeError("clang is not installed (make venv installs it)")
    built = {}
    with tempfile.TemporaryDirectory(prefix="pybpfc-fuzz-") as tmp:
        for source in sources:
            out = Path(tmp) / f"{source.stem}.o"
            result = subprocess.run(clang_bpf_command(clang, source, out),
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"clang failed on {source}:\n{result.stderr}")
            built[f"clang:{source.stem}"] = out.read_bytes()
    return built


def build_example_objects() -> dict[str, bytes]:
    from pybpfc.compiler.driver import compile_source
    from pybpfc.compiler.errors import Source
    return {f"pybpfc:{p.stem}": compile_source(Source(str(p), p.read_text())).elf
            for p in sorted((REPO_ROOT / "examples").glob("*.py"))}


def base_objects() -> list[BaseObject]:
    objects = {**build_example_objects(), **build_c_objects()}
    return [BaseObject(name, data, regions_of(data)) for name, data in sorted(objects.items())]


def regions_of(data: bytes) -> tuple[Region, ...]:
    elf = ELFFile(io.BytesIO(data))
    regions = [Region("section", elf["e_shoff"], elf["e_shnum"] * 64, 64)]
    for sec in elf.iter_sections():
        h = sec.header
        if h["sh_type"] == "SHT_SYMTAB":
            regions.append(Region("symbol", h["sh_offset"], h["sh_size"], 24))
        elif h["sh_type"] == "SHT_REL":
            regions.append(Region("relocation", h["sh_offset"], h["sh_size"], 16))
        elif sec.name == ".BTF":
            regions.append(Region("btf", h["sh_offset"], h["sh_size"], 4))
        elif sec.name == ".BTF.ext":
            regions.append(Region("btf_ext", h["sh_offset"], h["sh_size"], 4))
        elif h["sh_flags"] & 0x4 and h["sh_size"]:
            regions.append(Region("code", h["sh_offset"], h["sh_size"], 8))
    return tuple(r for r in regions if r.size >= r.entry_size)


def interesting(chooser: Chooser, size: int, data_len: int) -> int:
    """A value likely to break a field of ``size`` bytes."""
    top = (1 << (8 * size)) - 1
    value = chooser.choice([0, 1, 2, 3, 4, 7, 8, 15, 16, 24, 63, 64, 0x7F, 0x80, 0xFF,
                            0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 63, top,
                            data_len - 1, data_len, data_len + 1, data_len // 2,
                            chooser.integer(0, top)])
    return value & top


def _put(data: bytearray, offset: int, size: int, value: int) -> None:
    if 0 <= offset and offset + size <= len(data):
        data[offset:offset + size] = value.to_bytes(size, "little")


def mutate_object(chooser: Chooser, base: BaseObject) -> tuple[str, bytes]:
    """One malformed variant of ``base`` and a short description of it."""
    data = bytearray(base.data)
    if not data:
        return "empty", b""
    kind = chooser.choice(["truncate", "flip", "elf_header", "record", "record", "record",
                           "record", "splice"])
    if kind == "truncate":
        size = chooser.choice([0, 1, 16, 63, 64, 65, chooser.integer(0, len(data) - 1),
                               len(data) - 1, len(data) - chooser.integer(1, 64)])
        return f"truncated to {size} bytes", bytes(data[:max(size, 0)])
    if kind == "flip":
        count = chooser.integer(1, 8)
        for _ in range(count):
            data[chooser.integer(0, len(data) - 1)] = chooser.integer(0, 255)
        return f"{count} random bytes", bytes(data)
    if kind == "elf_header":
        name = chooser.choice(sorted(ELF_HEADER_FIELDS))
        offset, size = ELF_HEADER_FIELDS[name]
        value = interesting(chooser, size, len(data))
        _put(data, offset, size, value)
        return f"ELF header {name} = {value:#x}", bytes(data)
    if kind == "splice":
        # A region copied over another: plausible-looking but inconsistent records.
        a, b = chooser.choice(base.regions), chooser.choice(base.regions)
        length = min(a.size, b.size, chooser.integer(1, 256))
        data[b.offset:b.offset + length] = base.data[a.offset:a.offset + length]
        return f"{length} bytes of {a.kind} copied over {b.kind}", bytes(data)
    region = chooser.choice(base.regions)
    entry = chooser.integer(0, region.size // region.entry_size - 1)
    at = region.offset + entry * region.entry_size
    fields = {"section": SECTION_FIELDS, "symbol": SYMBOL_FIELDS,
              "relocation": RELOCATION_FIELDS}.get(region.kind)
    if region.kind == "btf" and entry < 6:
        fields, at = BTF_HEADER_FIELDS, region.offset
    if fields is not None:
        name = chooser.choice(sorted(fields))
        offset, size = fields[name]
        value = interesting(chooser, size, len(data))
        _put(data, at + offset, size, value)
        return f"{region.kind} #{entry} {name} = {value:#x}", bytes(data)
    if region.kind == "code":
        # opcode, registers, offset or immediate of one instruction
        part = chooser.choice([(0, 1), (1, 1), (2, 2), (4, 4)])
        value = interesting(chooser, part[1], len(data))
        _put(data, at + part[0], part[1], value)
        return f"instruction {entry} bytes {part[0]}+{part[1]} = {value:#x}", bytes(data)
    value = interesting(chooser, 4, len(data))
    _put(data, at, 4, value)
    return f"{region.kind} word {entry} = {value:#x}", bytes(data)


def malformed_object(chooser: Chooser, bases: list[BaseObject]) -> tuple[str, bytes]:
    base = chooser.choice(bases)
    how, data = mutate_object(chooser, base)
    if chooser.integer(1, 100) <= 20:          # a second fault on top of the first
        how2, data = mutate_object(chooser, BaseObject(base.name, data, base.regions))
        how = f"{how}; {how2}"
    return f"{base.name}: {how}", data
