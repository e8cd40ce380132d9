"""``.BTF.ext``: the func info, line info and CO-RE relocations of each
program section, as ``tools/lib/bpf/libbpf_internal.h`` lays them out.
Every failure is a ``SpecError`` whose message starts with ``BTF.ext:``."""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from .btf_types import HEADER, Kind, unpack_header
from .spec import SpecError


if TYPE_CHECKING:
    from .btf import Btf


_U32 = struct.Struct("<I")


@dataclass


class FuncInfo:
    """``struct bpf_func_info`` with ``insn`` as an instruction index (the
    object file stores a byte offset; the kernel wants the index)."""
    insn: int
    type_id: int

    def pack(self) -> bytes:
        return struct.pack("<II", self.insn, self.type_id)


@dataclass


class LineInfo:
    """``struct bpf_line_info``: the raw fields the kernel gets (string
    offsets into ``.BTF``'s string table, ``line_col = line << 10 | col``)
    and their resolved text."""
    insn: int
    file_name_off: int
    line_off: int
    line_col: int
    file_name: str = ""
    line: str = ""

    @property
    def line_number(self) -> int:
        return self.line_col >> 10

    @property
    def column(self) -> int:
        return self.line_col & 0x3FF

    def pack(self) -> bytes:
        return struct.pack("<IIII", self.insn, self.file_name_off, self.line_off, self.line_col)


@dataclass


class CoreRelo:
    """``struct bpf_core_relo`` (CO-RE); kept so a loader can refuse or apply it."""
    insn: int
    type_id: int
    access_str_off: int
    kind: int
    access_str: str = ""


FUNC_INFO_SIZE, LINE_INFO_SIZE, CORE_RELO_SIZE = 8, 16, 16


@dataclass


class BtfExt:
    """``.BTF.ext``, per ELF section name; instruction indexes are relative
    to the start of that section."""
    func_info: dict[str, list[FuncInfo]] = field(default_factory=dict)
    line_info: dict[str, list[LineInfo]] = field(default_factory=dict)
    core_relos: dict[str, list[CoreRelo]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes, btf: Btf) -> BtfExt:
        data = bytes(data)
        _flags, hdr_len, fi_off, fi_len, li_off, li_len = unpack_header(data, "BTF.ext")
        core_off = core_len = 0
        if hdr_len >= HEADER.size + 8:
            core_off, core_len = struct.unpack_from("<II", data, HEADER.size)
        body = data[hdr_len:]
        ext = cls()
        for sec, records in _ext_records(body, fi_off, fi_len, FUNC_INFO_SIZE, "func_info", btf):
            ext.func_info[sec] = [FuncInfo(_insn(off, "func_info", sec), type_id)
                                  for off, type_id in (struct.unpack_from("<II", r)
                                                       for r in records)]
            for fi in ext.func_info[sec]:
                if not 0 < fi.type_id < len(btf.types) or btf[fi.type_id].kind != Kind.FUNC:
                    raise SpecError(f"BTF.ext: func_info for section '{sec}' names type "
                                    f"#{fi.type_id}, which is not a FUNC")
        for sec, records in _ext_records(body, li_off, li_len, LINE_INFO_SIZE, "line_info", btf):
            lines = ext.line_info[sec] = []
            for r in records:
                off, file_off, line_off, line_col = struct.unpack_from("<IIII", r)
                lines.append(LineInfo(_insn(off, "line_info", sec), file_off, line_off,
                                      line_col, _ext_string(btf, file_off, "line_info", sec),
                                      _ext_string(btf, line_off, "line_info", sec)))
        for sec, records in _ext_records(body, core_off, core_len, CORE_RELO_SIZE,
                                         "core_relo", btf):
            ext.core_relos[sec] = []
            for r in records:
                off, type_id, access_off, kind = struct.unpack_from("<IIII", r)
                ext.core_relos[sec].append(CoreRelo(
                    _insn(off, "core_relo", sec), type_id, access_off, kind,
                    _ext_string(btf, access_off, "core_relo", sec)))
        return ext


def _ext_records(body: bytes, off: int, length: int, min_size: int, what: str,
                 btf: Btf) -> Iterator[tuple[str, list[bytes]]]:
    """(section name, raw records) of one ``.BTF.ext`` subsection."""
    if length == 0:
        return
    if off + length > len(body) or length < 4:
        raise SpecError(f"BTF.ext: {what} ({length} bytes at {off}) runs past the end of "
                        f"the section")
    data = body[off:off + length]
    (rec_size,) = _U32.unpack_from(data)
    if rec_size < min_size or rec_size % 4:
        raise SpecError(f"BTF.ext: {what} record size {rec_size} is invalid (at least "
                        f"{min_size}, a multiple of 4)")
    pos = 4
    while pos < len(data):
        if pos + 8 > len(data):
            raise SpecError(f"BTF.ext: {what} is truncated")
        sec_off, count = struct.unpack_from("<II", data, pos)
        pos += 8
        sec = _ext_string(btf, sec_off, what, None)
        if pos + count * rec_size > len(data):
            raise SpecError(f"BTF.ext: {what} for section '{sec}' claims {count} records, "
                            f"more than the subsection holds")
        yield sec, [data[pos + i * rec_size:pos + (i + 1) * rec_size] for i in range(count)]
        pos += count * rec_size


def _insn(byte_off: int, what: str, sec: str) -> int:
    if byte_off % 8:
        raise SpecError(f"BTF.ext: {what} for section '{sec}' has instruction offset "
                        f"{byte_off}, not a multiple of 8")
    return byte_off // 8


def _ext_string(btf: Btf, offset: int, what: str, sec: Optional[str]) -> str:
    try:
        return btf.strings[offset]
    except SpecError as err:
        where = f" for section '{sec}'" if sec else ""
        raise SpecError(f"BTF.ext: {what}{where}: {str(err).removeprefix('BTF: ')}") from None
