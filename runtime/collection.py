"""Loading: an ``ObjectSpec`` becomes live kernel objects.

Loading is a chain of small named phases, as in libbpf: load the BTF,
create the maps (BTF-defined ones and one per global data section), fill in
map and data references in each program's instructions, load each program
with its func and line info.  Every error names the object it is about.
A ``Collection`` owns every file descriptor it made and closes them all.
"""
from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path
from typing import Union

from pybpfc import abi

from . import bpf, core, features
from .attach_btf import attach_btf_id
from .elf import read_object
from .errors import BpfError, SyscallError, VerifierError
from .maps import DataSectionMap, Globals, Map, as_created, check_creatable, open_map
from .owned import Closing
from .program import Program
from .spec import (INSN_SIZE, OP_LD_IMM64, PSEUDO_MAP_FD, PSEUDO_MAP_VALUE, MapSpec,
                   ObjectSpec, ProgramSpec)


class Collection(Closing):
    """The programs, maps and globals of one loaded object."""

    def __init__(self, spec: ObjectSpec):
        self.spec = spec
        self.programs: dict[str, Program] = {}
        self.maps: dict[str, Map] = {}
        self.data: dict[str, DataSectionMap] = {}
        self.btf_fd = -1
        self.globals = Globals([])

    def close(self) -> None:
        for program in self.programs.values():
            program.close()
        for m in list(self.maps.values()) + list(self.data.values()):
            m.close()
        if self.btf_fd >= 0:
            bpf.close(self.btf_fd)
            self.btf_fd = -1

    def __getitem__(self, program: str) -> Program:
        try:
            return self.programs[program]
        except KeyError:
            raise KeyError(f"no program '{program}' (programs: "
                           f"{', '.join(self.programs) or 'none'})") from None


def load(source: Union[ObjectSpec, str, "os.PathLike[str]", bytes], *,
         log_level: int = bpf.LOG_LEVEL_BASIC) -> Collection:
    """Load an object (a spec, a path or the ELF bytes) into the kernel.
    ``log_level`` 2 keeps the verifier's state at every instruction in each
    program's ``verifier_log``."""
    coll = prepare(source)
    try:
        for prog in coll.spec.programs.values():
            coll.programs[prog.name] = load_program(coll, prog, log_level)
    except BaseException:
        coll.close()
        raise
    return coll


def prepare(source: Union[ObjectSpec, str, "os.PathLike[str]", bytes]) -> Collection:
    """An object's BTF, maps and globals in the kernel, and no program yet:
    ``load_program`` loads them one by one (``pybpfc check --load`` asks
    the verifier about each, whatever it says about the others)."""
    spec = source if isinstance(source, ObjectSpec) else read_object(source)
    _refuse_unsupported(spec)
    coll = Collection(spec)
    try:
        _load_btf(coll)
        _create_maps(coll)
        _create_data_maps(coll)
    except BaseException:
        coll.close()
        raise
    return coll


# ------------------------------------------------------------------ phases


def _refuse_unsupported(spec: ObjectSpec) -> None:
    """What the object needs and the loader or the kernel cannot do, refused
    before anything is created in the kernel."""
    for prog in spec.programs.values():
        core.check_loadable(prog, spec.btf is not None)
        kind = _kind(prog)
        features.check_before_load(f"program '{prog.name}'", prog.section, kind)
        if kind.attach_btf is not None:
            attach_btf_id(prog.name, prog.section, kind)     # fails now if there is none


def _kind(prog: ProgramSpec) -> abi.ProgramKind:
    kind = abi.program_kind_for_section(prog.section)
    if kind is None:            # read_object only makes programs of known kinds
        raise BpfError(f"program '{prog.name}': section '{prog.section}' names no kind of "
                       "program pybpfc loads")
    return kind


def _load_btf(coll: Collection) -> None:
    if coll.spec.btf is not None:
        coll.btf_fd = bpf.btf_load(coll.spec.btf.encode(), what="BTF")


def _create_maps(coll: Collection) -> None:
    for declared in coll.spec.maps.values():
        m = as_created(declared)
        check_creatable(m, mmap.PAGESIZE, coll.btf_fd >= 0)
        coll.maps[m.name] = open_map(_create_map(coll, m), m, coll.spec.btf)


def _create_map(coll: Collection, m: MapSpec) -> int:
    """BPF_MAP_CREATE with the map's BTF types; as libbpf does, again without
    them if the kernel refuses (stack trace maps take no BTF key type).  If
    that fails too, the first refusal is the one reported."""
    what = f"map '{m.name}'"
    try:
        return bpf.map_create(m.name, m.map_type, m.key_size, m.value_size, m.max_entries,
                              m.flags, max(coll.btf_fd, 0), m.key_type_id, m.value_type_id,
                              m.map_extra, what=what)
    except SyscallError as with_btf:
        if not (m.key_type_id or m.value_type_id):
            raise
        try:
            return bpf.map_create(m.name, m.map_type, m.key_size, m.value_size,
                                  m.max_entries, m.flags, map_extra=m.map_extra, what=what)
        except SyscallError:
            raise with_btf from None


def data_map_name(path: str, section: str) -> str:
    """libbpf's naming of global data maps: the object's name, cut to 8
    characters, then the section (``deny_ttl.bss``)."""
    stem = Path(path).stem[:8] if path else "obj"
    return stem + section


def _create_data_maps(coll: Collection) -> None:
    for section in coll.spec.data.values():
        if section.size == 0:
            continue
        name = data_map_name(coll.spec.path, section.name)
        what = f"map '{name}'"
        flags = bpf.BPF_F_RDONLY_PROG if section.readonly else 0
        value_type = section.btf_datasec_id or 0
        spec = MapSpec(name, bpf.BPF_MAP_TYPE_ARRAY, 4, section.size, 1, flags,
                       0, value_type if coll.btf_fd >= 0 else 0)
        fd = bpf.map_create(name, bpf.BPF_MAP_TYPE_ARRAY, 4, section.size, 1, flags,
                            max(coll.btf_fd, 0), 0, spec.value_type_id, what=what)
        data_map = DataSectionMap(fd, spec, coll.spec.btf, section)
        coll.data[section.name] = data_map
        bpf.map_update_elem(fd, bytes(4), section.contents.ljust(section.size, b"\0"),
                            what=what)
        if section.readonly:
            bpf.map_freeze(fd, what=what)
    coll.globals = Globals(list(coll.data.values()))


def _relocate(coll: Collection, prog: ProgramSpec) -> bytes:
    """The program's instructions with map fds and data offsets filled in."""
    insns = bytearray(prog.instructions)
    for rel in prog.relocations:
        where = f"program '{prog.name}': instruction {rel.insn_index}"
        if rel.kind == "call":
            continue
        at = rel.insn_index * INSN_SIZE
        if insns[at] != OP_LD_IMM64:
            raise BpfError(f"{where}: a {rel.kind} reference must be a 64-bit load")
        if rel.kind == "map":
            if rel.target not in coll.maps:
                raise BpfError(f"{where}: refers to map '{rel.target}', which the object "
                               "does not define")
            fd, pseudo, offset = coll.maps[rel.target].fd, PSEUDO_MAP_FD, 0
        elif rel.kind == "data":
            if rel.target not in coll.data:
                raise BpfError(f"{where}: refers to section '{rel.target}', which the "
                               "object does not have")
            fd, pseudo, offset = coll.data[rel.target].fd, PSEUDO_MAP_VALUE, rel.offset
        else:
            raise BpfError(f"{where}: unsupported relocation kind '{rel.kind}'")
        insns[at + 1] = (insns[at + 1] & 0x0F) | (pseudo << 4)
        struct.pack_into("<i", insns, at + 4, fd)
        struct.pack_into("<i", insns, at + INSN_SIZE + 4, offset)
    return bytes(insns)


def load_program(coll: Collection, prog: ProgramSpec,
                 log_level: int = bpf.LOG_LEVEL_BASIC) -> Program:
    """Load one program of a prepared collection (it is not added to
    ``coll.programs``).  A refusal is a VerifierError that knows the
    program, so it explains itself at the program's source lines."""
    what = f"program '{prog.name}'"
    insns = _relocate(coll, prog)
    kind = _kind(prog)
    with_btf = coll.btf_fd >= 0 and bool(prog.func_info or prog.line_info)
    try:
        result = bpf.prog_load(
            prog.prog_type, insns, prog.license or coll.spec.license, prog.name,
            expected_attach_type=prog.expected_attach_type or 0,
            prog_btf_fd=coll.btf_fd if with_btf else 0,
            func_info=b"".join(f.pack() for f in prog.func_info) if with_btf else b"",
            line_info=b"".join(li.pack() for li in prog.line_info) if with_btf else b"",
            attach_btf_id=attach_btf_id(prog.name, prog.section, kind) if kind.attach_btf else 0,
            core_relos=core.load_records(prog) if with_btf else b"",
            log_level=log_level, what=what)
    except SyscallError as error:
        missing = features.explain_load_failure(what, prog.section, kind, error)
        if missing is not None:
            raise missing from None
        about_core = core.explain_failure(coll.spec.btf, prog, error)
        if about_core is not None:
            raise core.CoreError(about_core, error.log) from None
        if isinstance(error, VerifierError):
            from .verifier import explain
            raise error.explained(prog, explain) from None
        raise
    return Program(result.fd, prog, result.log)
