"""Pinning: keeping programs, maps and links alive in a bpffs after the
process that loaded them exits, opening them again, and removing them.

Layout under the pin directory: ``programs/NAME``, ``maps/NAME`` and
``links/NAME``; a global data section pins as a map named like
``deny_ttl-bss`` (bpffs refuses dots, and no map name holds a ``-``, so
it cannot collide with one).  ``pybpfc-pins``, the manifest, records every
pin with the id of the kernel object it holds; bpffs holds no regular
files, so the manifest is a symlink whose target is that text.

``unpin`` removes only what the manifest lists, once it has checked that
each entry still holds the object it recorded; it never follows a symlink,
refuses a directory that is not on a bpffs, and removes the directories it
empties.  Removing a link's pin detaches its program.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

from pybpfc.abi.system import BPF_FS_MAGIC

from . import bpf
from .btf import Btf, Kind
from .errors import BpfError
from .link import Link
from .netdev import NetdevLink

# What pin_all pins as a link: a cgroup link, or an XDP or tcx link.
AnyLink = Union[Link, NetdevLink]
from .maps import Map, open_map
from .owned import Closing
from .spec import MapSpec
from .system import filesystem_magic

StrPath = Union[str, "os.PathLike[str]"]

# The folders, in the order unpin empties them (links first: that detaches),
# and the kind of BPF object each holds.
KINDS = {"links": "link", "programs": "prog", "maps": "map"}
MANIFEST = "pybpfc-pins"
MANIFEST_HEADER = "pybpfc-pins 1"
# A symlink's target is at most PATH_MAX - 1 bytes.
MANIFEST_MAX = 4095
_OPEN_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def pin_name(name: str) -> str:
    """The pin of a map or program named ``name``: a global data section's
    map (``deny_ttl.bss``) pins as ``deny_ttl-bss``."""
    return name.replace(".", "-")


# ---------------------------------------------------------------- pinning


def prepare_pin_directory(directory: StrPath) -> Path:
    """``directory`` as the kernel will resolve it (symlinks followed, ``..``
    applied), created if missing; it must be a directory on a bpffs."""
    path = Path(directory)
    real = Path(os.path.realpath(path))
    probe = real
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise BpfError(f"pin directory '{path}': '{probe}' exists and is not a directory")
    if _magic(probe) != BPF_FS_MAGIC:
        raise BpfError(f"pin directory '{path}': not on a bpffs (mount one with "
                       f"`mount -t bpf bpf DIR`)")
    try:
        real.mkdir(parents=True, exist_ok=True)
        fd = os.open(real, _OPEN_DIRECTORY)
    except OSError as error:
        raise BpfError(f"pin directory '{path}': {error.strerror}") from None
    try:
        if _magic(fd) != BPF_FS_MAGIC:      # a mount appeared in between
            raise BpfError(f"pin directory '{path}': not on a bpffs")
    finally:
        os.close(fd)
    return real


def _magic(where: Union[int, Path]) -> int:
    try:
        return filesystem_magic(where)
    except OSError as error:
        raise BpfError(f"pin directory '{where}': {error.strerror}") from None


@dataclass(frozen=True)
class Pin:
    """One entry of the manifest: ``folder/name`` holds object ``id``."""
    folder: str
    name: str
    id: int

    @property
    def relative(self) -> str:
        return f"{self.folder}/{self.name}"


def pin_all(directory: StrPath, programs: Iterable[tuple[str, int]],
            maps: Iterable[tuple[str, int]], links: Iterable[AnyLink]) -> Path:
    """Pin every object under ``directory`` and record them in its manifest;
    on failure remove what was pinned.  Returns the directory, resolved."""
    root = prepare_pin_directory(directory)
    if (root / MANIFEST).is_symlink() or any(
            (root / folder).is_dir() and any((root / folder).iterdir()) for folder in KINDS):
        raise BpfError(f"pin directory '{root}': already holds pins; detach it first")
    planned = _plan(root, programs, maps, links)
    manifest = "\n".join([MANIFEST_HEADER] + [f"{p.folder} {p.name} {p.id}"
                                              for p, _, _ in planned]) + "\n"
    if len(manifest.encode()) > MANIFEST_MAX:
        raise BpfError(f"pin directory '{root}': {len(planned)} objects are more than the "
                       f"manifest can record ({MANIFEST_MAX} bytes)")
    made_folders = [folder for folder in KINDS if not (root / folder).exists()]
    pinned: list[Path] = []
    try:
        for folder in made_folders:
            (root / folder).mkdir()
        for pin, fd, what in planned:
            target = root / pin.folder / pin.name
            if not isinstance(fd, int):
                fd.pin(target)
            else:
                bpf.obj_pin(fd, target, what=what)
            pinned.append(target)
        os.symlink(manifest, root / MANIFEST)
    except BaseException:
        for target in pinned:
            target.unlink(missing_ok=True)
        for folder in made_folders:
            if (root / folder).is_dir() and not any((root / folder).iterdir()):
                (root / folder).rmdir()
        raise
    return root


def _plan(root: Path, programs: Iterable[tuple[str, int]], maps: Iterable[tuple[str, int]],
          links: Iterable[AnyLink]) -> list[tuple[Pin, Union[int, AnyLink], str]]:
    """What to pin where, with each object's id; two objects that would
    share a pin are refused before anything is pinned."""
    planned: list[tuple[Pin, Union[int, AnyLink], str]] = []
    owners: dict[str, str] = {}

    def add(folder: str, name: str, obj: Union[int, AnyLink], what: str) -> None:
        pin = Pin(folder, pin_name(name), _object_id(obj, KINDS[folder], what))
        if pin.relative in owners:
            raise BpfError(f"pin directory '{root}': {what} and {owners[pin.relative]} "
                           f"would both pin as {pin.relative}")
        owners[pin.relative] = what
        planned.append((pin, obj, what))

    for name, fd in programs:
        add("programs", name, fd, f"program '{name}'")
    for name, fd in maps:
        add("maps", name, fd, f"map '{name}'")
    for link in links:
        add("links", link.program_name, link, f"link of program '{link.program_name}'")
    return planned


def _object_id(obj: Union[int, AnyLink], kind: str, what: str) -> int:
    if not isinstance(obj, int) and not obj.is_bpf_link:
        raise BpfError(f"{what}: attached without a BPF link, so there is nothing to pin")
    fd = obj if isinstance(obj, int) else obj.fd
    return bpf.obj_get_info_by_fd(fd, kind, what=what).id


# -------------------------------------------------------------- unpinning


@dataclass
class Unpinned:
    """What ``unpin`` did: the pins it removed (``links/deny_ttl``), those
    already gone, what it left because ``load`` did not pin it, and
    whether it removed the directory itself."""
    removed: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    directory_removed: bool = False


def unpin(directory: StrPath) -> Unpinned:
    """Remove what ``pin_all`` pinned under ``directory``, links first (so
    the programs are detached), then the directories it emptied."""
    path = Path(directory)
    root_fd = _open_pin_directory(path)
    folder_fds: dict[str, int] = {}
    try:
        pins = _read_manifest(root_fd, path)
        for folder in KINDS:
            fd = _open_folder(root_fd, path, folder)
            if fd is not None:
                folder_fds[folder] = fd
        present, result = [], Unpinned()
        for pin in pins:      # check every entry before removing any
            if pin.folder in folder_fds and _check_pin(pin, folder_fds[pin.folder], path):
                present.append(pin)
            else:
                result.gone.append(pin.relative)
        for folder in KINDS:
            for pin in present:
                if pin.folder == folder:
                    os.unlink(pin.name, dir_fd=folder_fds[folder])
                    result.removed.append(pin.relative)
        os.unlink(MANIFEST, dir_fd=root_fd)
        for folder, fd in folder_fds.items():
            left = sorted(os.listdir(fd))
            result.kept += [f"{folder}/{name}" for name in left]
            if not left:
                os.rmdir(folder, dir_fd=root_fd)
        result.kept += sorted(name for name in os.listdir(root_fd) if name not in folder_fds)
        result.directory_removed = not result.kept and _remove_directory(path, root_fd)
        return result
    finally:
        for fd in [root_fd, *folder_fds.values()]:
            os.close(fd)


def _open_pin_directory(path: Path) -> int:
    try:
        fd = os.open(path, _OPEN_DIRECTORY)
    except OSError as error:
        why = "is a symbolic link (give the directory itself)" \
            if os.path.islink(path) else error.strerror
        raise BpfError(f"pin directory '{path}': {why}") from None
    try:
        if _magic(fd) != BPF_FS_MAGIC:
            raise BpfError(f"pin directory '{path}': not on a bpffs; nothing there was "
                           "pinned by `pybpfc load --pin`")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_manifest(root_fd: int, path: Path) -> list[Pin]:
    try:
        text = os.readlink(MANIFEST, dir_fd=root_fd)
    except OSError:
        raise BpfError(f"pin directory '{path}': nothing `pybpfc load --pin` pinned is "
                       f"there (no {MANIFEST} record)") from None
    lines = text.splitlines()
    pins = []
    try:
        if lines[0] != MANIFEST_HEADER:
            raise ValueError(lines[0])
        for line in lines[1:]:
            folder, name, number = line.split(" ")
            if folder not in KINDS or name in ("", ".", "..") or "/" in name:
                raise ValueError(line)
            pins.append(Pin(folder, name, int(number)))
    except (ValueError, IndexError):
        raise BpfError(f"pin directory '{path}': {MANIFEST} is not a record "
                       "`pybpfc load --pin` wrote; nothing was removed") from None
    return pins


def _open_folder(root_fd: int, path: Path, folder: str) -> Optional[int]:
    """The folder's fd, or None if there is no such folder."""
    try:
        return os.open(folder, _OPEN_DIRECTORY, dir_fd=root_fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        why = "a symbolic link" if os.path.islink(path / folder) else error.strerror
        raise BpfError(f"pin directory '{path}': {folder}/ is {why}, not the folder "
                       "`pybpfc load --pin` made; nothing was removed") from None


def _check_pin(pin: Pin, folder_fd: int, path: Path) -> bool:
    """Whether the pin is still there; raises if it holds anything but the
    object the manifest recorded."""
    refused = (f"pin directory '{path}': {pin.relative} is not the "
               f"{bpf.kind_label(KINDS[pin.folder])} (id {pin.id}) `pybpfc load` pinned "
               "there; nothing was removed")
    try:
        found = os.stat(pin.name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(found.st_mode):
        raise BpfError(refused)
    # The folder's own fd in the path: no symlink in between is followed.
    fd = bpf.obj_get(f"/proc/self/fd/{folder_fd}/{pin.name}", what=f"pin '{pin.relative}'")
    try:
        kind = _bpf_kind(fd)
        if kind != KINDS[pin.folder] or bpf.obj_get_info_by_fd(fd, kind).id != pin.id:
            raise BpfError(refused)
    finally:
        os.close(fd)
    return True


def _bpf_kind(fd: int) -> Optional[str]:
    """``prog``, ``map`` or ``link``: what a BPF file descriptor holds, from
    the type line its fdinfo has (``prog_type:``, ``map_type:``, ``link_type:``)."""
    with open(f"/proc/self/fdinfo/{fd}") as info:
        for line in info:
            kind, _, _ = line.partition("_type:")
            if kind in ("prog", "map", "link"):
                return kind
    return None


def _remove_directory(path: Path, root_fd: int) -> bool:
    """Remove the emptied pin directory, if ``path`` still names it."""
    try:
        same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(root_fd).st_ino
        if same:
            os.rmdir(path)
        return same
    except OSError:
        return False       # a bpffs mount point, for one: left in place


# ------------------------------------------------------------------ reading


@dataclass
class PinnedMaps(Closing):
    """Maps opened from a pin directory, each with the BTF the kernel holds
    for it; close() releases the fds."""
    maps: dict[str, Map] = field(default_factory=dict)

    def close(self) -> None:
        for m in self.maps.values():
            m.close()


def open_pinned_maps(directory: StrPath) -> PinnedMaps:
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
