"""`pybpfc load --pin` and `pybpfc detach` as root: detach removes only
what load pinned and recorded, never follows a symlink, never works
outside a bpffs; load refuses pin paths that are not directories on a
bpffs, and pins every map under a name of its own.

Safety: pins go only to a bpffs the test mounts (the ``bpffs`` fixture);
programs attach only to cgroups the tests create; only forked children
move into them."""
from __future__ import annotations

import errno
import os
import socket
import time
from pathlib import Path

import pytest

from tests.support import REPO_ROOT, errno_of, pybpfc_cli, require_root, run_in_cgroup
from pybpfc.runtime import bpf
from pybpfc.runtime.cgroup import TemporaryCgroup

DENY_TTL = REPO_ROOT / "examples" / "deny_ttl.py"


def ttl_errno() -> int:
    """In a child in the cgroup: what setsockopt(IP_TTL) gets."""
    return errno_of(socket.socket(socket.AF_INET, socket.SOCK_DGRAM).setsockopt, 0, 2, 5)


def ttl_errno_settles_at(cgroup: Path, expected: int, timeout: float = 5) -> bool:
    """Whether setsockopt(IP_TTL) in the cgroup gets ``expected`` within
    ``timeout``: the kernel may release an unpinned link a moment later."""
    deadline = time.monotonic() + timeout
    while run_in_cgroup(cgroup, ttl_errno) != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def pin_a_map_of_another_tool(path: Path) -> int:
    """A map some other tool pinned at ``path``; returns its id."""
    fd = bpf.map_create("other_tool", bpf.BPF_MAP_TYPE_ARRAY, 4, 4, 1)
    try:
        bpf.obj_pin(fd, path)
        info = bpf.obj_get_info_by_fd(fd, "map")
        return info.id
    finally:
        os.close(fd)


def pinned_map_id(path: Path) -> int:
    fd = bpf.obj_get(path)
    try:
        return bpf.obj_get_info_by_fd(fd, "map").id
    finally:
        os.close(fd)


def load_pinned(pins: Path, *cgroup: object) -> None:
    loaded = pybpfc_cli("load", DENY_TTL, *(["--cgroup", cgroup[0]] if cgroup else []),
                        "--pin", pins)
    assert loaded.returncode == 0, loaded.stderr


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ------------------------------------------------------------------ detach


def test_detach_refuses_a_directory_that_is_not_on_a_bpffs(tmp_path: Path) -> None:
    """Ordinary files in folders named like pins are not pybpfc's to delete."""
    for name in ("maps/roads.geojson", "programs/prog.py", "links/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("keep me\n")
    before = tree(tmp_path)
    result = pybpfc_cli("detach", tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"pybpfc detach: error: pin directory '{tmp_path}': not on a "
                             "bpffs; nothing there was pinned by `pybpfc load --pin`\n")
    assert tree(tmp_path) == before


@pytest.mark.kernel
def test_detach_refuses_a_bpffs_directory_load_did_not_pin(bpffs: Path) -> None:
    other = bpffs / "other" / "maps"
    other.mkdir(parents=True)
    victim = pin_a_map_of_another_tool(other / "victim")
    result = pybpfc_cli("detach", bpffs / "other")
    assert result.returncode == 1
    assert "nothing `pybpfc load --pin` pinned is there" in result.stderr
    assert pinned_map_id(other / "victim") == victim


@pytest.mark.kernel
def test_detach_never_follows_a_symlinked_folder(bpffs: Path) -> None:
    """maps/ turned into a symlink to another tool's pins: nothing is
    removed, there or in the pin directory."""
    (bpffs / "other" / "maps").mkdir(parents=True)
    victim = pin_a_map_of_another_tool(bpffs / "other" / "maps" / "victim")
    pins = bpffs / "pins"
    load_pinned(pins)
    (pins / "maps").rename(pins / "maps-moved")
    (pins / "maps").symlink_to(bpffs / "other" / "maps")
    before = tree(pins)
    result = pybpfc_cli("detach", pins)
    assert result.returncode == 1
    assert result.stderr == (f"pybpfc detach: error: pin directory '{pins}': maps/ is a "
                             "symbolic link, not the folder `pybpfc load --pin` made; "
                             "nothing was removed\n")
    assert pinned_map_id(bpffs / "other" / "maps" / "victim") == victim
    assert tree(pins) == before


@pytest.mark.kernel
def test_detach_refuses_a_symlink_to_the_pin_directory(bpffs: Path) -> None:
    pins = bpffs / "pins"
    load_pinned(pins)
    (bpffs / "alias").symlink_to(pins)
    result = pybpfc_cli("detach", bpffs / "alias")
    assert result.returncode == 1
    assert "is a symbolic link (give the directory itself)" in result.stderr
    assert (pins / "programs" / "deny_ttl").exists()


@pytest.fixture
def attached_pins(bpffs: Path, cgroup: TemporaryCgroup) -> Path:
    """deny_ttl loaded, attached to the test's cgroup and pinned in its bpffs."""
    pins = bpffs / "deny"
    load_pinned(pins, cgroup.path)
    assert run_in_cgroup(cgroup.path, ttl_errno) == errno.EPERM
    return pins


@pytest.mark.kernel
def test_detach_removes_only_what_load_pinned(attached_pins: Path,
                                              cgroup: TemporaryCgroup) -> None:
    """A subdirectory in links/ and another tool's map in maps/ stay; the
    program is detached all the same, and the command succeeds."""
    pins = attached_pins
    (pins / "links" / "sub").mkdir()
    extra = pin_a_map_of_another_tool(pins / "maps" / "extra")
    result = pybpfc_cli("detach", pins)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("removed links/deny_ttl\nremoved programs/deny_ttl\n"
                             "removed maps/deny_ttl-bss\n"
                             "kept links/sub: `pybpfc load` did not pin it\n"
                             "kept maps/extra: `pybpfc load` did not pin it\n")
    assert ttl_errno_settles_at(cgroup.path, 0)
    assert tree(pins) == ["links", "links/sub", "maps", "maps/extra"]
    assert pinned_map_id(pins / "maps" / "extra") == extra


@pytest.mark.kernel
def test_detach_refuses_a_pin_that_now_holds_another_object(attached_pins: Path,
                                                            cgroup: TemporaryCgroup) -> None:
    """The manifest records each object's id: a pin replaced by another
    object makes detach remove nothing, and the program stays attached."""
    pins = attached_pins
    (pins / "maps" / "deny_ttl-bss").unlink()
    other = pin_a_map_of_another_tool(pins / "maps" / "deny_ttl-bss")
    before = tree(pins)
    result = pybpfc_cli("detach", pins)
    assert result.returncode == 1
    assert "maps/deny_ttl-bss is not the map (id " in result.stderr
    assert "nothing was removed" in result.stderr
    assert tree(pins) == before
    assert pinned_map_id(pins / "maps" / "deny_ttl-bss") == other
    assert run_in_cgroup(cgroup.path, ttl_errno) == errno.EPERM
    (pins / "links" / "deny_ttl").unlink()       # detach, in the test's own bpffs
    assert ttl_errno_settles_at(cgroup.path, 0)


@pytest.mark.kernel
def test_detach_removes_the_directory_it_emptied_and_says_what_was_gone(
        bpffs: Path) -> None:
    pins = bpffs / "deny"
    load_pinned(pins)
    (pins / "maps" / "deny_ttl-bss").unlink()
    result = pybpfc_cli("detach", pins)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("removed programs/deny_ttl\nalready gone: maps/deny_ttl-bss\n"
                             f"removed {pins}\n")
    assert not pins.exists()


# -------------------------------------------------------------------- load


@pytest.mark.kernel
def test_load_refuses_a_pin_path_that_is_a_pinned_object(bpffs: Path) -> None:
    load_pinned(bpffs / "first")
    pinned = bpffs / "first" / "programs" / "deny_ttl"
    result = pybpfc_cli("load", DENY_TTL, "--pin", pinned)
    assert result.returncode == 1
    assert result.stderr == (f"pybpfc load: error: pin directory '{pinned}': '{pinned}' "
                             "exists and is not a directory\n")


@pytest.mark.kernel
def test_load_refuses_a_pin_path_that_leaves_the_bpffs_through_dotdot(
        bpffs: Path, tmp_path: Path) -> None:
    """A `..` past a missing directory: the bpffs check applies to where the
    path really leads, and nothing is created on the way."""
    escape = bpffs / "missing" / ".." / ".." / os.path.relpath(tmp_path / "pins", bpffs.parent)
    before = sorted(os.listdir(bpffs))
    result = pybpfc_cli("load", DENY_TTL, "--pin", escape)
    assert result.returncode == 1
    assert result.stderr == (f"pybpfc load: error: pin directory '{escape}': not on a bpffs "
                             "(mount one with `mount -t bpf bpf DIR`)\n")
    assert sorted(os.listdir(bpffs)) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.kernel
def test_a_map_named_like_the_global_data_pin_gets_its_own(bpffs: Path, tmp_path: Path) -> None:
    """The .bss map of collide.py pins as collide-bss; a map named
    collide_bss keeps its name."""
    prog = tmp_path / "collide.py"
    prog.write_text(
        "from pybpfc import ALLOW, HashMap, SockContext, cgroup_sock_create, u32, u64\n\n"
        "collide_bss: HashMap[u32, u64] = HashMap(max_entries=4)\n"
        "created: u64 = 0\n\n\n"
        "@cgroup_sock_create\n"
        "def count(ctx: SockContext) -> int:\n"
        "    global created\n"
        "    created += 1\n"
        "    collide_bss.update(ctx.protocol, created)\n"
        "    return ALLOW\n")
    pins = bpffs / "collide"
    loaded = pybpfc_cli("load", prog, "--pin", pins)
    assert loaded.returncode == 0, loaded.stderr
    assert sorted(p.name for p in (pins / "maps").iterdir()) == ["collide-bss", "collide_bss"]
    shown = pybpfc_cli("maps", pins)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "global created = 0\nmap collide_bss (0 entries)\n"
    detached = pybpfc_cli("detach", pins)
    assert detached.returncode == 0, detached.stderr
    assert not pins.exists()
