"""The function symbols and loadable segments of a binary or shared
library (an executable ELF file, not a BPF object): where a uprobe goes,
and which function a sampled address is in.

A uprobe is placed at a *file offset*: ``st_value - p_vaddr + p_offset`` of
the ``PT_LOAD`` segment holding the symbol (the same number as ``st_value``
for PIE binaries and shared libraries as Debian links them, not for
``-no-pie`` executables).  pyelftools is used only here, and its exceptions
become ``BpfError`` naming the file.
"""
from __future__ import annotations

import bisect
import functools
import glob
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from .errors import BpfError


@dataclass(frozen=True)
class Segment:
    vaddr: int
    memsz: int
    offset: int


@dataclass(frozen=True)
class FunctionSymbol:
    name: str
    address: int          # st_value
    size: int


class ElfSymbols:
    """A binary's function symbols (``.symtab``, else ``.dynsym``) and
    loadable segments, read once."""

    def __init__(self, path: str):
        self.path = path
        functions: dict[str, FunctionSymbol] = {}
        self.segments: list[Segment] = []
        try:
            with open(path, "rb") as f:
                elf = ELFFile(f)
                for seg in elf.iter_segments():
                    if seg["p_type"] == "PT_LOAD":
                        self.segments.append(Segment(seg["p_vaddr"], seg["p_memsz"],
                                                     seg["p_offset"]))
                for table in (".symtab", ".dynsym"):
                    section = elf.get_section_by_name(table)
                    if not isinstance(section, SymbolTableSection):
                        continue
                    for sym in section.iter_symbols():
                        if (sym["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC")
                                and sym["st_shndx"] != "SHN_UNDEF" and sym.name):
                            # A versioned .dynsym name (malloc@@GLIBC_2.2.5) keeps its base.
                            name = sym.name.split("@", 1)[0]
                            functions.setdefault(name, FunctionSymbol(
                                name, sym["st_value"], sym["st_size"]))
        except OSError as err:
            raise BpfError(f"binary '{path}': cannot read it: {err.strerror}") from None
        except (ELFError, ValueError, KeyError) as err:
            raise BpfError(f"binary '{path}': not a readable ELF file ({err})") from None
        self.functions = functions
        by_address = sorted(functions.values(), key=lambda s: s.address)
        self._addresses = [s.address for s in by_address]
        self._by_address = by_address

    def address_of(self, function: str) -> int:
        """The function's ``st_value``."""
        found = self.functions.get(function)
        if found is None:
            raise BpfError(f"binary '{self.path}': no function '{function}' in its symbol "
                           "tables (.symtab, .dynsym)")
        return found.address

    def file_offset(self, address: int) -> int:
        """The file offset of a virtual address inside a loadable segment."""
        for seg in self.segments:
            if seg.vaddr <= address < seg.vaddr + seg.memsz:
                return address - seg.vaddr + seg.offset
        raise BpfError(f"binary '{self.path}': address {address:#x} is in no loadable "
                       "segment")

    def address_at_offset(self, offset: int) -> Optional[int]:
        """The virtual address of a file offset (from a process's memory
        map), or None outside every loadable segment."""
        for seg in self.segments:
            if seg.offset <= offset < seg.offset + seg.memsz:
                return offset - seg.offset + seg.vaddr
        return None

    def function_at(self, address: int) -> Optional[tuple[FunctionSymbol, int]]:
        """The function an address falls in (nearest start at or below it,
        within its size when it has one) and the offset into it."""
        at = bisect.bisect_right(self._addresses, address) - 1
        if at < 0:
            return None
        sym = self._by_address[at]
        delta = address - sym.address
        if sym.size and delta >= sym.size:
            return None
        return sym, delta


@functools.lru_cache(maxsize=64)
def _cached(path: str, _identity: tuple[int, int, int]) -> ElfSymbols:
    return ElfSymbols(path)


def elf_symbols(path: str) -> ElfSymbols:
    """The symbols of the file at ``path``, cached while the file is unchanged."""
    try:
        st = os.stat(path)
    except OSError as err:
        raise BpfError(f"binary '{path}': {err.strerror}") from None
    return _cached(path, (st.st_ino, st.st_size, st.st_mtime_ns))


def library_dirs() -> list[str]:
    """Where shared libraries are looked for by name (``libc.so.6``)."""
    machine = platform.machine()
    dirs = []
    for base in ("/lib", "/usr/lib", "/usr/local/lib"):
        dirs += sorted(glob.glob(f"{base}/{machine}-linux-gnu*"))
        dirs.append(base)
    return dirs + ["/lib64", "/usr/lib64"]


def find_binary(name: str) -> str:
    """The file a uprobe target names: a path as it is, a shared library
    (``libc.so.6``) in the library directories, a command on PATH."""
    if "/" in name:
        if not os.path.isfile(name):
            raise BpfError(f"binary '{name}': no such file")
        return os.path.realpath(name)
    if ".so" in name:
        for directory in library_dirs():
            candidate = Path(directory) / name
            if candidate.is_file():
                return os.path.realpath(candidate)
        raise BpfError(f"library '{name}': not found in {', '.join(library_dirs())}")
    found = shutil.which(name)
    if found is None:
        raise BpfError(f"binary '{name}': not a path, and no command of that name on PATH")
    return os.path.realpath(found)
