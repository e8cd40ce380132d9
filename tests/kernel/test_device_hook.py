"""The cgroup device hook, compiled by pybpfc and attached to a temporary
cgroup: a forked child in that cgroup opens device nodes the test made
with mknod(2) in its own temporary directory (never the real /dev files)
and the test asserts what the kernel answered."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from tests.support import REPO_ROOT, Attached, errno_of, run_in_cgroup

EXAMPLE = REPO_ROOT / "examples" / "device_allowlist.py"


def device_node(directory: Path, name: str, major: int, minor: int,
                kind: int = stat.S_IFCHR) -> Path:
    """A device node of our own (made by the parent, outside the cgroup)."""
    path = directory / name
    os.mknod(path, 0o600 | kind, os.makedev(major, minor))
    return path


def open_errno(path: Path, flags: int = os.O_RDONLY) -> int:
    def attempt() -> None:
        os.close(os.open(path, flags))
    return errno_of(attempt)


def test_allowlist_opens_null_and_refuses_mem(cgroup: TemporaryCgroup, tmp_path: Path) -> None:
    null = device_node(tmp_path, "null", 1, 3)
    mem = device_node(tmp_path, "mem", 1, 1)
    # Without the hook the kernel's own answer (ENXIO on kernels without
    # /dev/mem's driver), which is never the hook's EPERM.
    unhooked = run_in_cgroup(cgroup.path, lambda: open_errno(mem))
    assert unhooked != errno.EPERM
    elf = compile_source(Source(str(EXAMPLE), EXAMPLE.read_text())).elf
    with Attached(elf, cgroup) as attached:
        assert run_in_cgroup(cgroup.path, lambda: (open_errno(null), open_errno(mem))) \
            == (0, errno.EPERM)
        assert attached.globals["refused"] == 1
        # Creating a device node, even an allowed one, is refused too.
        assert run_in_cgroup(cgroup.path, lambda: errno_of(
            os.mknod, tmp_path / "other-null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))) \
            == errno.EPERM
        assert attached.globals["refused"] == 2
    # Detached: the kernel answers as before.
    assert run_in_cgroup(cgroup.path, lambda: open_errno(mem)) == unhooked


RECORDER = """\
from pybpfc import ALLOW, DeviceContext, cgroup_device, u32

device_type: u32 = 0
access: u32 = 0
access_type: u32 = 0
major: u32 = 0
minor: u32 = 0


@cgroup_device
def record(ctx: DeviceContext) -> int:
    global device_type, access, access_type, major, minor
    device_type = ctx.device_type
    access = ctx.access
    access_type = ctx.access_type
    major = ctx.major
    minor = ctx.minor
    return ALLOW
"""


def test_fields_name_the_request(cgroup: TemporaryCgroup, tmp_path: Path) -> None:
    from pybpfc import abi
    kernel = abi.kernel
    zero = device_node(tmp_path, "zero", 1, 5)
    loop = device_node(tmp_path, "loop", 7, 42, stat.S_IFBLK)
    with Attached(compile_source(Source("record.py", RECORDER)).elf, cgroup) as attached:
        assert run_in_cgroup(cgroup.path, lambda: open_errno(zero, os.O_WRONLY)) == 0
        seen = {name: attached.globals[name] for name in
                ("device_type", "access", "access_type", "major", "minor")}
        assert seen == {"device_type": kernel.BPF_DEVCG_DEV_CHAR,
                        "access": kernel.BPF_DEVCG_ACC_WRITE,
                        "access_type": kernel.BPF_DEVCG_ACC_WRITE << 16
                        | kernel.BPF_DEVCG_DEV_CHAR,
                        "major": 1, "minor": 5}
        # A block device opened for reading and writing: one request for both.
        run_in_cgroup(cgroup.path, lambda: open_errno(loop, os.O_RDWR))
        assert (attached.globals["device_type"], attached.globals["access"],
                attached.globals["major"], attached.globals["minor"]) == (
            kernel.BPF_DEVCG_DEV_BLOCK, kernel.BPF_DEVCG_ACC_READ | kernel.BPF_DEVCG_ACC_WRITE,
            7, 42)
