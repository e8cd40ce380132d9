"""Pinning: keeping programs, maps and links alive in a bpffs after the
process that loaded them exits, and opening them again.

Layout under the pin directory: ``programs/NAME``, ``maps/NAME`` (global
data sections appear as maps named like ``prog.bss``) and ``links/NAME``.
Removing a link's pin (``unpin``) detaches its program.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from . import bpf
from .btf import Btf, Kind
from .errors import BpfError
from .link import Link
from .maps import Map, open_map
from .spec import MapSpec

BPF_FS_MAGIC = 0xCAFE4A11
KINDS = ("programs", "maps", "links")


def require_bpffs(directory: "os.PathLike[str] | str") -> Path:
    """``directory`` (created if missing) must be on a mounted bpffs."""
    path = Path(directory)
    probe = path
    while not probe.exists():
        probe = probe.parent
    if _fs_magic(probe) != BPF_FS_MAGIC:
        raise BpfError(f"pin directory '{path}': not on a bpffs (mount one with "
                       f"`mount -t bpf bpf DIR`)")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fs_magic(path: Path) -> int:
    import ctypes

    class StatFs(ctypes.Structure):
        _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 112)]
    buf = StatFs()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.statfs(str(path).encode(), ctypes.byref(buf)) != 0:
        raise BpfError(f"pin directory '{path}': {os.strerror(ctypes.get_errno())}")
    return buf.f_type & 0xFFFFFFFF


def pin_all(directory: "os.PathLike[str] | str", programs: Iterable[tuple[str, int]],
            maps: Iterable[tuple[str, int]], links: Iterable[Link]) -> Path:
    """Pin every object under ``directory``; on failure remove what was pinned."""
    root = require_bpffs(directory)
    for kind in KINDS:
        if (root / kind).exists() and any((root / kind).iterdir()):
            raise BpfError(f"pin directory '{root}': already holds pinned {kind}; "
                           "detach it first")
    pinned: list[Path] = []
    try:
        for kind, entries in (("programs", programs), ("maps", maps)):
            (root / kind).mkdir(exist_ok=True)
            for name, fd in entries:
                target = root / kind / pin_name(name)
                bpf.obj_pin(fd, target, what=f"{kind[:-1]} '{name}'")
                pinned.append(target)
        (root / "links").mkdir(exist_ok=True)
        for link in links:
            target = root / "links" / pin_name(link.program_name)
            link.pin(target)
            pinned.append(target)
    except BaseException:
        for target in pinned:
            target.unlink(missing_ok=True)
        for kind in KINDS:
            if (root / kind).is_dir() and not any((root / kind).iterdir()):
                (root / kind).rmdir()
        raise
    return root


def pin_name(name: str) -> str:
    """bpffs reserves names with dots (``deny_ttl.bss`` pins as ``deny_ttl_bss``)."""
    return name.replace(".", "_")


def unpin(directory: "os.PathLike[str] | str") -> list[str]:
    """Remove everything ``pin_all`` pinned (links first, so programs are
    detached); returns what was removed."""
    root = Path(directory)
    if not any((root / kind).is_dir() for kind in KINDS):
        raise BpfError(f"pin directory '{root}': nothing pybpfc pinned is there")
    removed = []
    for kind in ("links", "programs", "maps"):
        folder = root / kind
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            entry.unlink()
            removed.append(f"{kind}/{entry.name}")
        folder.rmdir()
    return removed


@dataclass
class PinnedMaps:
    """Maps opened from a pin directory, each with the BTF the kernel holds
    for it; close() releases the fds."""
    maps: dict[str, Map] = field(default_factory=dict)

    def close(self) -> None:
        for m in self.maps.values():
            m.close()

    def __enter__(self) -> "PinnedMaps":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pinned_maps(directory: "os.PathLike[str] | str") -> PinnedMaps:
    folder = Path(directory) / "maps"
    if not folder.is_dir():
        raise BpfError(f"pin directory '{directory}': no maps/ folder (was it pinned by "
                       "`pybpfc load --pin`?)")
    result = PinnedMaps()
    btfs: dict[int, Optional[Btf]] = {}
    try:
        for entry in sorted(folder.iterdir()):
            fd = bpf.obj_get(entry, what=f"pinned map '{entry.name}'")
            try:
                info = bpf.obj_get_info_by_fd(fd, "map", what=f"map '{entry.name}'")
                assert isinstance(info, bpf.MapInfo)
                btf = _kernel_btf(info.btf_id, btfs)
            except BaseException:
                bpf.close(fd)
                raise
            spec = MapSpec(entry.name, info.type, info.key_size, info.value_size,
                           info.max_entries, info.map_flags, info.btf_key_type_id,
                           info.btf_value_type_id)
            result.maps[entry.name] = open_map(fd, spec, btf)
    except BaseException:
        result.close()
        raise
    return result


def _kernel_btf(btf_id: int, cache: dict[int, Optional[Btf]]) -> Optional[Btf]:
    if not btf_id:
        return None
    if btf_id not in cache:
        fd = bpf.btf_get_fd_by_id(btf_id)
        try:
            cache[btf_id] = Btf.parse(bpf.btf_data(fd))
        finally:
            bpf.close(fd)
    return cache[btf_id]


def is_datasec(m: Map) -> bool:
    return (m.btf is not None and m.spec.value_type_id != 0
            and m.btf[m.spec.value_type_id].kind == Kind.DATASEC)

