"""Read a BPF ELF object (from pybpfc, or clang -target bpf) into an ObjectSpec.

What is read, following libbpf's conventions:

- programs: global functions in executable sections other than ``.text``;
  the section name picks the kind of program (``pybpfc.abi.programs``), several programs may
  share a section;
- subprograms: functions in ``.text`` (and static functions anywhere) that
  programs call; they are appended to each calling program and the calls
  fixed up, func and line info included;
- maps: BTF-defined maps in ``.maps``;
- globals: ``.data``/``.rodata``/``.bss`` (and their ``.name`` variants), each
  later an array map of one element;
- ``license``, ``.BTF`` (with libbpf's fix-ups applied) and ``.BTF.ext``.

No syscalls, and pyelftools is used only inside ``_ElfFile`` where its
exceptions become ``SpecError``.
"""
from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from typing import Optional, Union

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import Symbol, SymbolTableSection

from pybpfc import abi

from .btf import Btf, BtfExt, CoreRelo, FuncInfo, Kind, LineInfo
from .spec import (INSN_SIZE, OP_CALL, OP_LD_IMM64, PSEUDO_CALL, PSEUDO_FUNC, DataSectionSpec,
                   Insn, MapSpec, ObjectSpec, ProgramSpec, Relocation, SpecError, Variable,
                   decode_insn)

EM_BPF = 247
ET_REL = 1
SHT_PROGBITS, SHT_SYMTAB, SHT_NOBITS, SHT_REL, SHT_RELA = 1, 2, 8, 9, 4
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHN_UNDEF, SHN_LORESERVE = 0, 0xFF00
R_BPF_64_64, R_BPF_64_32 = 1, 10        # ld_imm64 and call relocations
# A data section becomes one array map value; the kernel caps those far lower.
MAX_DATA_SECTION = 1 << 30

# BTF map definition members that carry a number as `int (*name)[N]`.
_MAP_INT_FIELDS = ("type", "key_size", "value_size", "max_entries", "map_flags",
                   "numa_node", "pinning", "map_extra")

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


def read_object(source: Source) -> ObjectSpec:
    """Parse an object file (a path, or its bytes) into an ObjectSpec."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, path = bytes(source), "<bytes>"
    else:
        path = os.fspath(source)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as err:
            raise SpecError(f"file '{path}': {err.strerror or err}") from None
    return _Reader(_ElfFile(data), path).read()


def is_data_section(name: str) -> bool:
    return any(name == base or name.startswith(base + ".")
               for base in (".data", ".rodata", ".bss"))


# ------------------------------------------------------------------ ELF layer

@dataclass
class _Section:
    index: int
    name: str
    type: int
    flags: int
    size: int
    data: bytes           # empty for NOBITS (zeros are made only for data sections)


@dataclass
class _Symbol:
    index: int
    name: str
    value: int
    size: int
    type: str             # STT_FUNC, STT_OBJECT, STT_SECTION, ...
    bind: str             # STB_GLOBAL, STB_LOCAL, STB_WEAK
    shndx: int            # SHN_UNDEF (0) or >= SHN_LORESERVE for special ones
    hidden: bool


@dataclass
class _Rel:
    offset: int
    type: int
    symbol: int


class _ElfFile:
    """The parts of the ELF file the reader needs, loaded eagerly so that
    every malformation shows up here, as a SpecError."""

    def __init__(self, data: bytes):
        self._check_header(data)
        try:
            self._load(data)
        except SpecError:
            raise
        except Exception as err:     # pyelftools raises many kinds on bad input
            raise SpecError(f"ELF: malformed object ({type(err).__name__}: {err})") from None

    @staticmethod
    def _check_header(data: bytes) -> None:
        if len(data) < 64:
            raise SpecError(f"ELF header: file is truncated ({len(data)} bytes, the header "
                            f"alone is 64)")
        if data[:4] != b"\x7fELF":
            raise SpecError(f"ELF header: bad magic {data[:4]!r}, not an ELF file")
        if data[4] != 2:
            raise SpecError("ELF header: not a 64-bit ELF file (EI_CLASS "
                            f"{data[4]}); BPF objects are ELF64")
        if data[5] != 1:
            raise SpecError(f"ELF header: not little-endian (EI_DATA {data[5]}); "
                            f"only little-endian BPF objects are supported")
        e_type, e_machine = struct.unpack_from("<HH", data, 16)
        if e_type != ET_REL:
            raise SpecError(f"ELF header: e_type is {e_type}, expected {ET_REL} (ET_REL, "
                            f"a relocatable object)")
        if e_machine not in (EM_BPF, 0):
            raise SpecError(f"ELF header: e_machine is {e_machine}, expected {EM_BPF} "
                            f"(EM_BPF): not a BPF object")
        e_shoff, = struct.unpack_from("<Q", data, 40)
        e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", data, 58)
        if e_shnum == 0:
            raise SpecError("ELF header: no section headers")
        if e_shentsize != 64:
            raise SpecError(f"ELF header: section header size {e_shentsize}, expected 64")
        if e_shoff + e_shnum * e_shentsize > len(data):
            raise SpecError(f"ELF: file is truncated: the section headers end at byte "
                            f"{e_shoff + e_shnum * e_shentsize}, the file has {len(data)}")
        if e_shstrndx >= e_shnum:
            raise SpecError(f"ELF header: section name table index {e_shstrndx} is out of "
                            f"range ({e_shnum} sections)")

    def _load(self, data: bytes) -> None:
        elf = ELFFile(io.BytesIO(data))
        self.sections: list[_Section] = []
        self.symbols: list[_Symbol] = []
        self.rels: dict[int, list[_Rel]] = {}     # target section index -> relocations
        for index in range(elf.num_sections()):
            sec = elf.get_section(index)
            h = sec.header
            if h["sh_type"] != "SHT_NOBITS" and h["sh_offset"] + h["sh_size"] > len(data):
                raise SpecError(f"section '{sec.name}': file is truncated (the section ends at "
                                f"byte {h['sh_offset'] + h['sh_size']}, the file has "
                                f"{len(data)})")
            raw_type = _section_type_number(elf, index, data)
            content = b"" if raw_type == SHT_NOBITS else sec.data()
            self.sections.append(_Section(index, sec.name, raw_type, h["sh_flags"],
                                          h["sh_size"], content))
            if isinstance(sec, SymbolTableSection) and raw_type == SHT_SYMTAB:
                if self.symbols:
                    raise SpecError("ELF: more than one symbol table")
                self.symbols = [self._symbol(i, s) for i, s in enumerate(sec.iter_symbols())]
            elif raw_type == SHT_RELA:
                raise SpecError(f"section '{sec.name}': RELA relocations are not used by BPF "
                                f"objects and are not supported")
            elif isinstance(sec, RelocationSection):
                if not 0 < h["sh_info"] < elf.num_sections():
                    raise SpecError(f"section '{sec.name}': relocates section "
                                    f"#{h['sh_info']}, which does not exist")
                target = elf.get_section(h["sh_info"])
                if not (target["sh_flags"] & SHF_EXECINSTR or target.name == ".maps"):
                    continue        # debug info and BTF relocations are for linkers
                self.rels[h["sh_info"]] = [
                    _Rel(r["r_offset"], r["r_info_type"], r["r_info_sym"])
                    for r in sec.iter_relocations()]

    @staticmethod
    def _symbol(index: int, s: Symbol) -> _Symbol:
        shndx = s["st_shndx"]
        if isinstance(shndx, str):  # pyelftools names the special indexes
            shndx = SHN_UNDEF if shndx == "SHN_UNDEF" else SHN_LORESERVE
        info, other = s["st_info"], s["st_other"]
        return _Symbol(index, s.name, s["st_value"], s["st_size"], info["type"], info["bind"],
                       shndx, other["visibility"] in ("STV_HIDDEN", "STV_INTERNAL"))

    def by_name(self, name: str) -> Optional[_Section]:
        for sec in self.sections:
            if sec.name == name:
                return sec
        return None


def _section_type_number(elf: ELFFile, index: int, data: bytes) -> int:
    """The raw sh_type (pyelftools turns it into a name, or leaves unknown ones as ints)."""
    offset = elf["e_shoff"] + index * elf["e_shentsize"]
    return struct.unpack_from("<I", data, offset + 4)[0]


# --------------------------------------------------------------- code units

@dataclass
class _Function:
    """A function symbol's code inside its section."""
    name: str
    section: _Section
    start: int            # instruction index inside the section
    count: int
    is_program: bool

    def __contains__(self, insn: int) -> bool:
        return self.start <= insn < self.start + self.count


# ------------------------------------------------------------------- reader

class _Reader:
    def __init__(self, elf: _ElfFile, path: str):
        self.elf = elf
        self.path = path
        self.btf: Optional[Btf] = None
        self.ext = BtfExt()
        self.license = ""
        self.maps: dict[str, MapSpec] = {}
        self.map_offsets: dict[int, str] = {}      # offset in .maps -> map name
        self.data: dict[str, DataSectionSpec] = {}
        self.functions: dict[int, list[_Function]] = {}   # section index -> functions
        self.code_rels: dict[int, dict[int, _Rel]] = {}   # section -> instruction -> relocation

    def read(self) -> ObjectSpec:
        self._read_license()
        self._read_btf()
        self._read_maps()
        self._read_data_sections()
        self._collect_functions()
        programs = {}
        for fns in self.functions.values():
            for fn in fns:
                if fn.is_program:
                    programs[fn.name] = self._program(fn)
        return ObjectSpec(self.path, programs, self.maps, self.data, self.license, self.btf)

    # ------------------------------------------------------------ pieces

    def _read_license(self) -> None:
        sec = self.elf.by_name("license")
        if sec is None:
            return
        raw = sec.data.split(b"\0", 1)[0]
        try:
            self.license = raw.decode("ascii")
        except UnicodeDecodeError:
            raise SpecError(f"section 'license': not an ASCII string: {raw!r}") from None

    def _read_btf(self) -> None:
        sec = self.elf.by_name(".BTF")
        if sec is None:
            return
        btf = Btf.parse(sec.data)
        sizes = {s.name: s.size for s in self.elf.sections}
        symbols: dict[str, dict[str, tuple[int, bool]]] = {}
        for sym in self.elf.symbols:
            if sym.type == "STT_OBJECT" and 0 < sym.shndx < len(self.elf.sections):
                section = self.elf.sections[sym.shndx].name
                symbols.setdefault(section, {})[sym.name] = (sym.value, sym.hidden)
        btf.fixup_datasecs(sizes, symbols)
        btf.normalize_linkage()
        self.btf = btf
        ext = self.elf.by_name(".BTF.ext")
        if ext is not None:
            self.ext = BtfExt.parse(ext.data, btf)

    def _read_maps(self) -> None:
        sec = self.elf.by_name(".maps")
        if self.elf.by_name("maps") is not None:
            raise SpecError("section 'maps': legacy map definitions are not supported; "
                            "define maps with BTF in '.maps'")
        if sec is None:
            return
        if sec.index in self.elf.rels:
            raise SpecError("section '.maps': relocations in map definitions (map-in-map or "
                            "program array initial values) are not supported")
        btf = self.btf
        datasec = btf.datasecs().get(".maps") if btf else None
        if btf is None or datasec is None:
            raise SpecError("section '.maps': BTF-defined maps need BTF ('.BTF' with a "
                            "'.maps' DATASEC)")
        symbols = {s.name: s for s in self.elf.symbols if s.shndx == sec.index and s.name}
        for vsi in btf[datasec].vars:
            var = btf[vsi.type]
            sym = symbols.get(var.name)
            if sym is None:
                raise SpecError(f"map '{var.name}': no symbol for it in section '.maps'")
            self.maps[var.name] = self._map_spec(btf, var.name, var.type)
            self.map_offsets[sym.value] = var.name

    def _map_spec(self, btf: Btf, name: str, def_type: int) -> MapSpec:
        def_id = btf.resolve(def_type)
        definition = btf[def_id]
        if definition.kind != Kind.STRUCT:
            raise SpecError(f"map '{name}': definition is {btf.describe(def_id)}, not a struct")
        ints: dict[str, int] = {}
        types: dict[str, int] = {}
        for m in definition.members:
            ptr = btf[btf.resolve(m.type)]
            if m.name in ("key", "value"):
                if ptr.kind != Kind.PTR:
                    raise SpecError(f"map '{name}': '{m.name}' must be a pointer to the "
                                    f"{m.name} type (__type({m.name}, ...))")
                types[m.name] = ptr.type
            elif m.name in _MAP_INT_FIELDS:
                array = btf[btf.resolve(ptr.type)] if ptr.kind == Kind.PTR else None
                if array is None or array.kind != Kind.ARRAY:
                    raise SpecError(f"map '{name}': '{m.name}' must be declared as "
                                    f"int (*{m.name})[N] (__uint({m.name}, N))")
                ints[m.name] = array.nelems
            elif m.name == "values":
                raise SpecError(f"map '{name}': 'values' (map-in-map, program arrays) "
                                f"is not supported")
            else:
                raise SpecError(f"map '{name}': unknown attribute '{m.name}'")
        if "type" not in ints:
            raise SpecError(f"map '{name}': no map type (__uint(type, BPF_MAP_TYPE_...))")
        sizes = {}
        for what in ("key", "value"):
            given = ints.get(f"{what}_size")
            if what in types:
                size = btf.size_of(types[what])
                if given is not None and given != size:
                    raise SpecError(f"map '{name}': {what}_size {given} disagrees with the "
                                    f"{what} type's size {size}")
                given = size
            sizes[what] = given or 0
        return MapSpec(name, ints["type"], sizes["key"], sizes["value"],
                       ints.get("max_entries", 0), ints.get("map_flags", 0),
                       types.get("key", 0), types.get("value", 0), name,
                       ints.get("pinning", 0), ints.get("numa_node", 0),
                       ints.get("map_extra", 0))

    def _read_data_sections(self) -> None:
        datasecs = self.btf.datasecs() if self.btf else {}
        for sec in self.elf.sections:
            if not (is_data_section(sec.name) and sec.flags & SHF_ALLOC and sec.size
                    and sec.type in (SHT_PROGBITS, SHT_NOBITS)):
                continue
            datasec_id = datasecs.get(sec.name)
            btf_vars: dict[str, tuple[int, int, int]] = {}
            if datasec_id is not None and self.btf is not None:
                for vsi in self.btf[datasec_id].vars:
                    var = self.btf[vsi.type]
                    btf_vars[var.name] = (vsi.offset, vsi.size, var.type)
            variables: dict[str, Variable] = {}
            for sym in self.elf.symbols:
                if sym.shndx == sec.index and sym.type == "STT_OBJECT" and sym.name:
                    if sym.value + sym.size > sec.size:
                        raise SpecError(f"section '{sec.name}': variable '{sym.name}' "
                                        f"({sym.size} bytes at {sym.value}) runs past the "
                                        f"section's {sec.size} bytes")
                    type_id = btf_vars.get(sym.name, (0, 0, 0))[2]
                    variables[sym.name] = Variable(sym.name, sym.value, sym.size, type_id)
            for name, (offset, size, type_id) in btf_vars.items():
                variables.setdefault(name, Variable(name, offset, size, type_id))
            if sec.size > MAX_DATA_SECTION:
                raise SpecError(f"section '{sec.name}': {sec.size} bytes is more than a global "
                                f"data section can hold ({MAX_DATA_SECTION})")
            contents = bytes(sec.size) if sec.type == SHT_NOBITS else sec.data
            self.data[sec.name] = DataSectionSpec(
                sec.name, sec.size, contents, readonly=not sec.flags & SHF_WRITE,
                variables=dict(sorted(variables.items(), key=lambda kv: kv[1].offset)),
                btf_datasec_id=datasec_id, btf=self.btf)

    def _collect_functions(self) -> None:
        for sym in self.elf.symbols:
            if sym.type != "STT_FUNC" or sym.size == 0:
                continue
            if not 0 < sym.shndx < len(self.elf.sections):
                continue
            sec = self.elf.sections[sym.shndx]
            if not sec.flags & SHF_EXECINSTR:
                continue
            is_program = sec.name != ".text" and sym.bind in ("STB_GLOBAL", "STB_WEAK")
            what = f"program '{sym.name}'" if is_program else f"function '{sym.name}'"
            if sym.value % INSN_SIZE or sym.size % INSN_SIZE:
                raise SpecError(f"{what}: offset {sym.value} or size {sym.size} in section "
                                f"'{sec.name}' is not a whole number of instructions")
            if sym.value + sym.size > len(sec.data):
                raise SpecError(f"{what}: {sym.size} bytes at {sym.value} run past the end of "
                                f"section '{sec.name}' ({len(sec.data)} bytes)")
            self.functions.setdefault(sec.index, []).append(_Function(
                sym.name, sec, sym.value // INSN_SIZE, sym.size // INSN_SIZE, is_program))
        for fns in self.functions.values():
            fns.sort(key=lambda f: f.start)
        # Code relocations by instruction; one no function covers would be lost.
        for index, rels in self.elf.rels.items():
            sec = self.elf.sections[index]
            if not sec.flags & SHF_EXECINSTR:
                continue
            by_insn = self.code_rels[index] = {}
            for rel in rels:
                if rel.offset % INSN_SIZE:
                    raise SpecError(f"section '{sec.name}': relocation at offset {rel.offset} "
                                    f"is not on an instruction boundary")
                insn = rel.offset // INSN_SIZE
                if not any(insn in f for f in self.functions.get(index, [])):
                    raise SpecError(f"section '{sec.name}': relocation at offset {rel.offset} "
                                    f"is outside every function")
                by_insn[insn] = rel

    # ---------------------------------------------------------- programs

    def _program(self, fn: _Function) -> ProgramSpec:
        kind = abi.program_kind_for_section(fn.section.name)
        if kind is None:
            known = ", ".join(abi.section_names())
            raise SpecError(f"program '{fn.name}': section '{fn.section.name}' names no kind of "
                            f"program pybpfc loads (known: {known})")
        hook = abi.HOOKS_BY_SECTION.get(kind.name)
        linker = _Linker(self, fn)
        linker.link()
        return ProgramSpec(
            fn.name, fn.section.name, kind.prog_type_id, kind.attach_type_id,
            bytes(linker.code), linker.relocations, linker.func_info, linker.line_info,
            self.license, hook.decorator if hook else None,
            [f.name for f in linker.placed_order[1:]], linker.core_relos)

    def function_at(self, sec: _Section, insn: int, program: str, at: int) -> _Function:
        """The function starting at instruction ``insn`` of ``sec``."""
        for f in self.functions.get(sec.index, []):
            if insn in f:
                if f.start != insn:
                    raise SpecError(f"program '{program}': instruction {at}: call into the "
                                    f"middle of function '{f.name}'")
                return f
        raise SpecError(f"program '{program}': instruction {at}: call target {insn} in section "
                        f"'{sec.name}' is not a function")


class _Linker:
    """One program plus every function it reaches, appended in call order
    with call offsets, relocations, func info and line info moved along (as
    libbpf's bpf_object__reloc_code does)."""

    def __init__(self, reader: _Reader, main: _Function):
        self.r = reader
        self.main = main
        self.code = bytearray()
        self.placed: dict[tuple[int, int], int] = {}   # (section, start) -> index in code
        self.placed_order: list[_Function] = []
        self.relocations: list[Relocation] = []
        self.func_info: list[FuncInfo] = []
        self.line_info: list[LineInfo] = []
        self.core_relos: list[CoreRelo] = []

    def link(self) -> None:
        self._place(self.main)
        done = 0
        while done < len(self.placed_order):       # functions placed while linking are queued
            self._relocate(self.placed_order[done])
            done += 1

    def _place(self, fn: _Function) -> int:
        key = (fn.section.index, fn.start)
        if key in self.placed:
            return self.placed[key]
        base = len(self.code) // INSN_SIZE
        start = fn.start * INSN_SIZE
        self.code += fn.section.data[start:start + fn.count * INSN_SIZE]
        self.placed[key] = base
        self.placed_order.append(fn)
        sec = fn.section.name
        shift = base - fn.start
        for fi in self.r.ext.func_info.get(sec, []):
            if fi.insn in fn:
                self.func_info.append(FuncInfo(fi.insn + shift, fi.type_id))
        for li in self.r.ext.line_info.get(sec, []):
            if li.insn in fn:
                self.line_info.append(LineInfo(li.insn + shift, li.file_name_off, li.line_off,
                                               li.line_col, li.file_name, li.line))
        for cr in self.r.ext.core_relos.get(sec, []):
            if cr.insn in fn:
                self.core_relos.append(CoreRelo(cr.insn + shift, cr.type_id, cr.access_str_off,
                                                cr.kind, cr.access_str))
        return base

    def _fail(self, at: int, message: str) -> SpecError:
        return SpecError(f"program '{self.main.name}': instruction {at}: {message}")

    def _relocate(self, fn: _Function) -> None:
        base = self.placed[(fn.section.index, fn.start)]
        rels = self.r.code_rels.get(fn.section.index, {})
        for i in range(fn.count):
            at = base + i
            insn = decode_insn(self.code, at)
            found = rels.get(fn.start + i)
            if found is not None:
                self._apply(at, insn, found)
            elif insn.code == OP_CALL and insn.src == PSEUDO_CALL:
                # A call to a static function of the same section needs no relocation.
                self._link_call(at, fn.section, fn.start + i + insn.imm + 1)

    def _apply(self, at: int, insn: Insn, rel: _Rel) -> None:
        elf = self.r.elf
        if rel.symbol >= len(elf.symbols) or rel.symbol == 0:
            raise self._fail(at, f"relocation names symbol #{rel.symbol}, but the symbol table "
                                 f"has {len(elf.symbols)} entries")
        sym = elf.symbols[rel.symbol]
        name = sym.name or (elf.sections[sym.shndx].name
                            if 0 < sym.shndx < len(elf.sections) else f"#{rel.symbol}")
        if sym.shndx == SHN_UNDEF:
            raise self._fail(at, f"relocation against undefined symbol '{name}' (extern "
                                 f"variables and kernel functions are not supported)")
        if sym.shndx >= len(elf.sections):
            raise self._fail(at, f"relocation against symbol '{name}' in special section "
                                 f"{sym.shndx:#x}, which is not supported")
        target = elf.sections[sym.shndx]
        if insn.code == OP_CALL and insn.src == PSEUDO_CALL:
            if rel.type != R_BPF_64_32:
                raise self._fail(at, f"call relocation against '{name}' has type {rel.type}, "
                                     f"expected R_BPF_64_32 ({R_BPF_64_32})")
            if not target.flags & SHF_EXECINSTR:
                raise self._fail(at, f"call to '{name}', which is not code (section "
                                     f"'{target.name}')")
            self._link_call(at, target, sym.value // INSN_SIZE + insn.imm + 1)
            return
        if insn.code != OP_LD_IMM64 or at + 1 >= len(self.code) // INSN_SIZE:
            raise self._fail(at, f"relocation against '{name}' is on opcode {insn.code:#04x}, "
                                 f"not a 64-bit immediate load or a call")
        if rel.type != R_BPF_64_64:
            raise self._fail(at, f"relocation against '{name}' has type {rel.type}, expected "
                                 f"R_BPF_64_64 ({R_BPF_64_64})")
        if target.flags & SHF_EXECINSTR:        # the address of a subprogram (a callback)
            byte_off = sym.value + insn.imm
            if byte_off % INSN_SIZE:
                raise self._fail(at, f"function address '{name}'+{insn.imm} is not on an "
                                     f"instruction boundary")
            self.code[at * INSN_SIZE + 1] = (PSEUDO_FUNC << 4) | insn.dst
            self._link_call(at, target, byte_off // INSN_SIZE)
        elif target.name == ".maps":
            offset = sym.value + (insn.imm if sym.type == "STT_SECTION" else 0)
            map_name = self.r.map_offsets.get(offset)
            if map_name is None:
                raise self._fail(at, f"relocation against '{name}' points into '.maps' at "
                                     f"offset {offset}, where no map starts")
            self.relocations.append(Relocation(at, "map", map_name))
        elif target.name in self.r.data:
            offset = sym.value + insn.imm
            if not 0 <= offset < target.size:
                raise self._fail(at, f"relocation against '{name}' points at offset {offset}, "
                                     f"outside section '{target.name}' ({target.size} bytes)")
            self.relocations.append(Relocation(at, "data", target.name, offset))
        else:
            raise self._fail(at, f"relocation against '{name}' in section '{target.name}', "
                                 f"which is neither a map, a data section nor code")

    def _link_call(self, at: int, section: _Section, target_insn: int) -> None:
        callee = self.r.function_at(section, target_insn, self.main.name, at)
        callee_at = self._place(callee)
        imm = callee_at - (at + 1)
        struct.pack_into("<i", self.code, at * INSN_SIZE + 4, imm)
        self.relocations.append(Relocation(at, "call", callee.name, callee_at))
