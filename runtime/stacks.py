"""Stack traces from a STACK_TRACE map, named: kernel addresses through
``/proc/kallsyms``, user addresses through the process's memory map and
its binaries' ELF symbols.

A user stack must be named while its process lives: the memory map
(``/proc/PID/maps``) says which file each address came from, and it is
gone with the process.  Take a :class:`ProcessMaps` snapshot while it
runs, name the stacks later.
"""
from __future__ import annotations

import bisect
import functools
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from .elf_symbols import elf_symbols
from .errors import BpfError

KALLSYMS = Path("/proc/kallsyms")
_TEXT_TYPES = frozenset("tTwW")
_PADDING_PREFIX = "__pfx_"


def stack_addresses(raw: bytes) -> list[int]:
    """The instruction pointers of a stack map value, up to the first 0."""
    addresses = []
    for (address,) in struct.iter_unpack("<Q", raw[:len(raw) // 8 * 8]):
        if address == 0:
            break
        addresses.append(address)
    return addresses


@dataclass(frozen=True)
class Frame:
    """One named address: ``function+offset (module)``."""
    address: int
    function: Optional[str] = None
    offset: int = 0
    module: Optional[str] = None      # a binary's file name, a kernel module, or None

    def __str__(self) -> str:
        where = f" ({self.module})" if self.module else ""
        if self.function is None:
            return f"{self.address:#x}{where}"
        return f"{self.function}+{self.offset:#x}{where}"


# --------------------------------------------------------------- kernel


class KernelSymbols:
    """The kernel's text symbols, from ``/proc/kallsyms`` (real addresses
    need root, or kernel.kptr_restrict 0)."""

    def __init__(self, text: str):
        entries = []
        for line in text.splitlines():
            parts = line.split()
            # __pfx_NAME is the padding before NAME: a return address there
            # follows a call that does not return, at the end of the function before.
            if len(parts) >= 3 and parts[1] in _TEXT_TYPES \
                    and not parts[2].startswith(_PADDING_PREFIX):
                module = parts[3].strip("[]") if len(parts) > 3 else None
                entries.append((int(parts[0], 16), parts[2], module))
        entries.sort()
        self._addresses = [a for a, _, _ in entries]
        self._entries = entries
        self.hidden = bool(entries) and entries[-1][0] == 0

    def frame(self, address: int) -> Frame:
        if self.hidden:
            raise BpfError(f"{KALLSYMS}: every address reads 0 (kernel.kptr_restrict hides "
                           "them from this user); kernel stacks cannot be named")
        at = bisect.bisect_right(self._addresses, address) - 1
        if at < 0:
            return Frame(address)
        start, name, module = self._entries[at]
        return Frame(address, name, address - start, module)


@functools.lru_cache(maxsize=1)
def kernel_symbols() -> KernelSymbols:
    try:
        return KernelSymbols(KALLSYMS.read_text())
    except OSError as err:
        raise BpfError(f"{KALLSYMS}: cannot read it: {err.strerror}") from None


def kernel_frames(addresses: Iterable[int]) -> list[Frame]:
    symbols = kernel_symbols()
    return [symbols.frame(a) for a in addresses]


# ----------------------------------------------------------------- user


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    offset: int
    path: str


class ProcessMaps:
    """The file-backed executable mappings of a process, read when made."""

    def __init__(self, pid: int):
        self.pid = pid
        path = f"/proc/{pid}/maps"
        try:
            text = Path(path).read_text()
        except OSError as err:
            raise BpfError(f"process {pid}: cannot read {path} (has it exited?): "
                           f"{err.strerror}") from None
        self.mappings = []
        for line in text.splitlines():
            parts = line.split(maxsplit=5)
            if len(parts) < 6 or "x" not in parts[1] or not parts[5].startswith("/"):
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            self.mappings.append(Mapping(start, end, int(parts[2], 16), parts[5]))

    def frame(self, address: int) -> Frame:
        for m in self.mappings:
            if m.start <= address < m.end:
                return _file_frame(address, m)
        return Frame(address)


def _file_frame(address: int, m: Mapping) -> Frame:
    module = os.path.basename(m.path)
    try:
        symbols = elf_symbols(m.path)
    except BpfError:
        return Frame(address, None, 0, module)
    vaddr = symbols.address_at_offset(address - m.start + m.offset)
    found = symbols.function_at(vaddr) if vaddr is not None else None
    if found is None:
        return Frame(address, None, 0, module)
    sym, delta = found
    return Frame(address, sym.name, delta, module)


def user_frames(addresses: Iterable[int], maps: ProcessMaps) -> list[Frame]:
    return [maps.frame(a) for a in addresses]
