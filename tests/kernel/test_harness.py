"""Tests of the test helpers themselves (tests/support.py, tests/conftest.py)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import (bpftool_dump_xlated_linum, bpftool_loadall, cgroup2_root, is_mounted,
                    mounted_bpffs, parse_mountinfo, require_kernel_feature)

# Shaped like a real /proc/self/mountinfo: optional fields ("shared:5")
# before the "-", a mount point with an escaped space, one named "-", and
# cgroup v1 hierarchies that must not be taken for v2.
SYNTHETIC_MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
25 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
30 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,nosuid shared:10 - cgroup cgroup rw,cpu
40 22 0:30 / - rw,relatime - tmpfs odd rw
41 30 0:31 /sub/group /mnt/bind\\040of\\040sub rw shared:20 master:3 - cgroup2 cgroup2 rw
42 30 0:31 / /sys/fs/cgroup/unified\\040v2 rw,nosuid,nodev,noexec,relatime shared:11 - cgroup2 cgroup2 rw,nsdelegate
"""


def test_parse_mountinfo_reads_type_after_the_lone_dash() -> None:
    mounts = {str(m.mount_point): m for m in parse_mountinfo(SYNTHETIC_MOUNTINFO)}
    assert mounts["/"].fs_type == "ext4"
    assert mounts["/sys/fs/cgroup/cpu"].fs_type == "cgroup"
    assert mounts["-"].fs_type == "tmpfs"
    assert mounts["-"].source == "odd"
    assert mounts["/mnt/bind of sub"].root == "/sub/group"


def test_cgroup2_root_from_synthetic_mountinfo() -> None:
    # The root of the hierarchy wins over a bind mount of one of its groups.
    assert cgroup2_root(SYNTHETIC_MOUNTINFO) == Path("/sys/fs/cgroup/unified v2")


def test_cgroup2_root_of_this_machine_is_a_cgroup2_root() -> None:
    root = cgroup2_root()
    assert root.is_dir()
    assert (root / "cgroup.controllers").is_file()   # only cgroup v2 has it


def test_missing_feature_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="widget unavailable: not built"):
        require_kernel_feature("widget", False, "not built")


def test_missing_feature_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="widget unavailable: not built"):
        require_kernel_feature("widget", False, "not built")


def test_present_feature_neither_skips_nor_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require_kernel_feature("widget", True, "unused")


def test_bpffs_fixture_mounts_a_bpf_filesystem(bpffs: Path) -> None:
    assert is_mounted(bpffs, "bpf")


def test_mounted_bpffs_is_gone_afterwards() -> None:
    with mounted_bpffs() as directory:
        assert is_mounted(directory, "bpf")
    assert not is_mounted(directory)
    assert not directory.exists()


def test_mounted_bpffs_is_gone_after_a_failure() -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with mounted_bpffs() as directory:
            (directory / "subdir").mkdir()   # leave something inside
            raise Boom
    assert not is_mounted(directory)
    assert not directory.exists()


ALLOW_ALL_C = """\
__attribute__((section("cgroup/setsockopt"), used))
int allow_all(void *ctx)
{
\treturn 1;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
"""


def test_bpftool_loads_and_dumps_with_line_numbers(bpffs: Path, bpftool: str,
                                                   tmp_path: Path) -> None:
    # A C object from clang exercises the helpers without the compiler.
    clang = shutil.which("clang")
    require_kernel_feature("clang", clang is not None, "clang is not installed")
    assert clang is not None
    source = tmp_path / "allow_all.c"
    source.write_text(ALLOW_ALL_C)
    obj = tmp_path / "allow_all.o"
    subprocess.run([clang, "-g", "-O2", "-target", "bpf", "-c", str(source), "-o", str(obj)],
                   check=True)

    loaded = bpftool_loadall(obj, bpffs / "progs")
    assert loaded.returncode == 0, loaded.stderr

    dump = bpftool_dump_xlated_linum(bpffs / "progs" / "allow_all")
    assert "return 1;" in dump
    assert "allow_all.c line_num:4" in dump
    assert "exit" in dump
