"""The runtime's system layer against the real kernel: runtime/bpf.py (the
one ctypes layer over bpf(2)), runtime/cgroup.py and runtime/errors.py.

Struct layouts are checked against /usr/include/linux/bpf.h (the constants
are, in tests/compiler/test_abi_tables.py); maps, programs, pins and cgroup
attachments are exercised for real.  Cgroup tests use only cgroups they
create (TemporaryCgroup, below the cgroup v2 root) and move only their own
forked children into them.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests import support as kernel
from tests.support import REPO_ROOT, require_kernel_feature, require_root

try:
    from pybpfc.runtime import bpf, bpf_structs, cgroup, errors  # type: ignore[import-not-found]
except ImportError:   # the working tree, not installed: runtime/ is still a top-level package
    from runtime import bpf, bpf_structs, cgroup, errors  # type: ignore[no-redef]


BPF_H = Path("/usr/include/linux/bpf.h")
IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


# ------------------------------------------------------- hand assembly


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One struct bpf_insn (little-endian register nibbles)."""
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def mov64_imm(dst: int, imm: int) -> bytes:
    return insn(0xB7, dst=dst, imm=imm)          # BPF_ALU64 | BPF_MOV | BPF_K


EXIT = insn(0x95)                                 # BPF_JMP | BPF_EXIT
RETURN_1 = mov64_imm(0, 1) + EXIT
RETURN_0 = mov64_imm(0, 0) + EXIT


# ------------------------------------------------------------ fixtures


@pytest.fixture
def kernel_bpf() -> None:
    """Skip (fail under CI) unless this process may use bpf(2)."""
    require_root("bpf(2)")
    try:
        fd = bpf.map_create("probe", bpf.BPF_MAP_TYPE_ARRAY, 4, 4, 1)
    except errors.SyscallError as error:
        require_kernel_feature("bpf(2)", False, str(error))
    else:
        bpf.close(fd)


@pytest.fixture
def fds(kernel_bpf: None) -> Iterator[list[int]]:
    """File descriptors a test opens, closed after it."""
    opened: list[int] = []
    yield opened
    for fd in reversed(opened):
        try:
            os.close(fd)
        except OSError:
            pass


@pytest.fixture
def cgroup_root() -> Path:
    try:
        return cgroup.cgroup2_root()
    except errors.CgroupError as error:
        require_kernel_feature("cgroup v2", False, str(error))
        raise


# ------------------------------------------------------ the system call


def test_syscall_numbers() -> None:
    assert bpf.syscall_number("x86_64") == 321
    assert bpf.syscall_number("aarch64") == 280
    with pytest.raises(errors.BpfError, match="unknown system call number.*'vax'"):
        bpf.syscall_number("vax")


# ------------------------------------------------------- struct layouts


def _c_fields(struct_type: Any) -> Iterator[tuple[str, int, int]]:
    """(name, offset, size) of each named, non-bitfield field."""
    for spec in struct_type._fields_:
        name = spec[0]
        if name.startswith("_") or len(spec) == 3:
            continue
        descriptor = getattr(struct_type, name)
        yield name, descriptor.offset, descriptor.size


def _layout_probes() -> list[tuple[str, str, int]]:
    """(key, C expression, value the runtime's ctypes layout has)."""
    probes = []
    for attr in bpf_structs.ATTR_STRUCTS:
        prefix = attr._c_member_ + "." if attr._c_member_ else ""
        for name, offset, _ in _c_fields(attr):
            probes.append((f"bpf_attr.{prefix}{name}",
                           f"offsetof(union bpf_attr, {prefix}{name})", offset))
        if attr._c_member_:
            probes.append((f"sizeof bpf_attr.{attr._c_member_}",
                           f"sizeof(((union bpf_attr *)0)->{attr._c_member_})",
                           ctypes.sizeof(attr)))
    for info in bpf_structs.INFO_STRUCTS:
        for name, offset, _ in _c_fields(info):
            probes.append((f"{info._c_type_}.{name}", f"offsetof({info._c_type_}, {name})",
                           offset))
        probes.append((f"sizeof {info._c_type_}", f"sizeof({info._c_type_})",
                       ctypes.sizeof(info)))
    union = bpf_structs.BpfLinkInfo._u.offset
    for name, offset, _ in _c_fields(bpf_structs._LinkCgroup):
        probes.append((f"struct bpf_link_info.cgroup.{name}",
                       f"offsetof(struct bpf_link_info, cgroup.{name})", union + offset))
    return probes


def test_struct_layouts_match_the_header(tmp_path: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    require_kernel_feature("C compiler", compiler is not None, "no cc, clang or gcc")
    require_kernel_feature("linux/bpf.h", BPF_H.is_file(), f"{BPF_H} is not installed")
    assert compiler is not None
    probes = _layout_probes()
    lines = [f'    printf("%s %zu\\n", "{key}", (size_t)({expression}));'
             for key, expression, _ in probes]
    lines.append('    printf("%s %zu\\n", "sizeof union bpf_attr", sizeof(union bpf_attr));')
    source = tmp_path / "layout.c"
    source.write_text("#include <stddef.h>\n#include <stdio.h>\n#include <linux/bpf.h>\n"
                      "int main(void)\n{\n" + "\n".join(lines) + "\n    return 0;\n}\n")
    binary = tmp_path / "layout"
    build = subprocess.run([compiler, "-o", str(binary), str(source)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    output = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout
    measured = {key: int(value) for key, value in
                (line.rsplit(" ", 1) for line in output.splitlines())}
    wrong = {key: (ours, measured[key]) for key, _, ours in probes if measured[key] != ours}
    assert not wrong, f"(runtime, C) layouts differ: {wrong}"
    # Every command structure fits in the header's union, so no byte we pass
    # is one the kernel of this header would refuse as unknown.
    assert bpf_structs.ATTR_SIZE <= measured["sizeof union bpf_attr"]


def test_struct_layouts_are_sane_without_a_compiler() -> None:
    assert bpf_structs.ATTR_SIZE == max(ctypes.sizeof(t) for t in bpf_structs.ATTR_STRUCTS)
    assert bpf_structs.ATTR_SIZE % 8 == 0
    assert ctypes.alignment(bpf.BpfAttr) == 8
    assert bpf_structs.ProgLoadAttr.prog_name.offset == 48
    assert bpf_structs.ProgLoadAttr.expected_attach_type.offset == 68
    assert bpf_structs.ProgLoadAttr.func_info.offset == 80
    assert bpf_structs.MapCreateAttr.map_name.offset == 28
    assert bpf_structs.MapCreateAttr.map_extra.offset == 64
    assert bpf_structs.MapElemAttr.key.offset == 8
    assert bpf_structs.TestRunAttr.duration.offset == 36
    assert bpf_structs.BpfProgInfo.name.offset == 64
    assert bpf_structs.BpfProgInfo.verified_insns.offset == 216
    assert ctypes.sizeof(bpf_structs.BpfMapInfo) == 88
    assert bpf_structs.BpfLinkInfo._u.offset == 16


# ------------------------------------------- errors, with a fake bpf(2)


class FakeKernel:
    """Stands in for _sys_bpf: records each call, answers from a script."""

    def __init__(self, *answers: Callable[[int, bpf.BpfAttr], int]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[int, bytes]] = []

    def __call__(self, cmd: int, attr: bpf.BpfAttr) -> int:
        self.calls.append((cmd, bytes(attr)))   # type: ignore[call-overload]
        return self.answers.pop(0)(cmd, attr)


def test_map_create_encodes_the_attr(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeKernel(lambda cmd, attr: 7)
    monkeypatch.setattr(bpf, "_sys_bpf", fake)
    assert bpf.map_create("sessions-by-user:v2", bpf.BPF_MAP_TYPE_LRU_HASH, 8, 16, 1024,
                          flags=bpf.BPF_F_NO_PREALLOC, btf_fd=5, btf_key_type_id=2,
                          btf_value_type_id=3) == 7
    [(cmd, raw)] = fake.calls
    assert cmd == bpf.BPF_MAP_CREATE and len(raw) == bpf_structs.ATTR_SIZE
    size = ctypes.sizeof(bpf_structs.MapCreateAttr)
    attr = bpf_structs.MapCreateAttr.from_buffer_copy(raw[:size])
    assert (attr.map_type, attr.key_size, attr.value_size, attr.max_entries,
            attr.map_flags) == (9, 8, 16, 1024, 1)
    assert (attr.btf_fd, attr.btf_key_type_id, attr.btf_value_type_id) == (5, 2, 3)
    assert attr.map_name == b"sessions_by_use"      # 15 characters of [A-Za-z0-9_.]
    assert raw[size:] == bytes(len(raw) - 72)


def test_object_names() -> None:
    assert bpf.object_name("counts") == b"counts"
    assert bpf.object_name("a.b_c-d é") == b"a.b_c_d__"
    assert len(bpf.object_name("x" * 40)) == bpf.BPF_OBJ_NAME_LEN - 1


def test_syscall_error_message_names_object_command_errno_and_hint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bpf, "_sys_bpf", FakeKernel(lambda cmd, attr: -errno.EPERM))
    with pytest.raises(errors.SyscallError) as caught:
        bpf.map_create("counts", bpf.BPF_MAP_TYPE_HASH, 4, 8, 16)
    error = caught.value
    assert str(error).startswith(
        "map 'counts': BPF_MAP_CREATE failed: Operation not permitted (EPERM)")
    assert "needs root or CAP_BPF" in str(error)
    assert (error.command, error.errno, error.what, error.errno_name) == (
        "BPF_MAP_CREATE", errno.EPERM, "map 'counts'", "EPERM")
    assert isinstance(error, errors.BpfError)


def test_hints_for_common_errnos() -> None:
    assert "map is full" in str(errors.SyscallError("BPF_MAP_UPDATE_ELEM", errno.E2BIG, "map"))
    assert "does not understand" in str(errors.SyscallError("BPF_MAP_CREATE", errno.E2BIG,
                                                            "map 'm'"))
    assert "nothing is pinned" in str(errors.SyscallError("BPF_OBJ_GET", errno.ENOENT,
                                                          "pinned object '/x'"))
    unsupported = errors.SyscallError("BPF_PROG_TEST_RUN", errors.ENOTSUPP, "program")
    assert "Operation is not supported (ENOTSUPP)" in str(unsupported)
    assert str(errors.SyscallError("BPF_LINK_DETACH", errno.ENODEV, "link")) == \
        "link: BPF_LINK_DETACH failed: No such device (ENODEV)"


def test_prog_load_grows_the_log_on_enospc(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = []

    def too_small(cmd: int, attr: bpf.BpfAttr) -> int:
        sizes.append(attr.prog_load.log_size)
        return -errno.ENOSPC

    def fits(cmd: int, attr: bpf.BpfAttr) -> int:
        sizes.append(attr.prog_load.log_size)
        ctypes.memmove(attr.prog_load.log_buf, b"processed 2 insns\n\0", 19)
        return 9

    monkeypatch.setattr(bpf, "_sys_bpf", FakeKernel(too_small, too_small, fits))
    assert bpf.prog_load(1, RETURN_1, "GPL", "p", log_size=100) == (9, "processed 2 insns\n")
    assert sizes == [100, 400, 1600]


def test_prog_load_refuses_a_partial_instruction() -> None:
    with pytest.raises(errors.BpfError, match="program 'half': .*not a multiple of 8"):
        bpf.prog_load(1, RETURN_1[:12], "GPL", "half")


# --------------------------------------------------------------- maps


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


def u64(value: int) -> bytes:
    return struct.pack("<Q", value)


@pytest.mark.kernel
def test_hash_map_update_lookup_delete_iterate(fds: list[int]) -> None:
    fd = bpf.map_create("counts", bpf.BPF_MAP_TYPE_HASH, 4, 8, 16)
    fds.append(fd)
    assert bpf.map_get_next_key(fd, None, 4) is None            # empty
    for key in (3, 1, 2):
        bpf.map_update_elem(fd, u32(key), u64(key * 1000 + 7))
    assert bpf.map_lookup_elem(fd, u32(2), 8) == u64(2007)
    assert bpf.map_lookup_elem(fd, u32(99), 8) is None
    bpf.map_update_elem(fd, u32(2), u64(42), bpf.BPF_EXIST)
    assert bpf.map_lookup_elem(fd, u32(2), 8) == u64(42)

    keys = []
    key = bpf.map_get_next_key(fd, None, 4)
    while key is not None:
        keys.append(struct.unpack("<I", key)[0])
        key = bpf.map_get_next_key(fd, key, 4)
    assert sorted(keys) == [1, 2, 3]

    assert bpf.map_delete_elem(fd, u32(1)) is True
    assert bpf.map_delete_elem(fd, u32(1)) is False
    assert bpf.map_lookup_elem(fd, u32(1), 8) is None

    with pytest.raises(errors.SyscallError, match=r"BPF_MAP_UPDATE_ELEM failed: .*\(EEXIST\)"):
        bpf.map_update_elem(fd, u32(3), u64(0), bpf.BPF_NOEXIST)
    with pytest.raises(errors.SyscallError, match=r"\(ENOENT\) -- the key does not exist"):
        bpf.map_update_elem(fd, u32(77), u64(0), bpf.BPF_EXIST)

    info = bpf.obj_get_info_by_fd(fd, "map")
    assert isinstance(info, bpf.MapInfo)
    assert (info.type, info.key_size, info.value_size, info.max_entries, info.name) == (
        bpf.BPF_MAP_TYPE_HASH, 4, 8, 16, "counts")
    assert info.id > 0


@pytest.mark.kernel
def test_full_hash_map_refuses_new_keys_with_e2big(fds: list[int]) -> None:
    fd = bpf.map_create("tiny", bpf.BPF_MAP_TYPE_HASH, 4, 4, 2)
    fds.append(fd)
    bpf.map_update_elem(fd, u32(1), u32(1))
    bpf.map_update_elem(fd, u32(2), u32(2))
    with pytest.raises(errors.SyscallError) as caught:
        bpf.map_update_elem(fd, u32(3), u32(3), what="map 'tiny'")
    assert caught.value.errno == errno.E2BIG
    assert str(caught.value).startswith("map 'tiny': BPF_MAP_UPDATE_ELEM failed")
    assert "map is full" in str(caught.value)


@pytest.mark.kernel
def test_map_create_with_a_bad_size_names_the_map(fds: list[int]) -> None:
    with pytest.raises(errors.SyscallError) as caught:
        bpf.map_create("counts", bpf.BPF_MAP_TYPE_HASH, 0, 8, 16)
    assert caught.value.errno == errno.EINVAL
    assert str(caught.value).startswith(
        "map 'counts': BPF_MAP_CREATE failed: Invalid argument (EINVAL)")


@pytest.mark.kernel
def test_array_map_flags_names_and_freeze(fds: list[int]) -> None:
    fd = bpf.map_create("a-very-long-map-name", bpf.BPF_MAP_TYPE_ARRAY, 4, 4, 4,
                        flags=bpf.BPF_F_RDONLY_PROG)
    fds.append(fd)
    assert bpf.map_lookup_elem(fd, u32(3), 4) == u32(0)       # arrays start zeroed
    bpf.map_update_elem(fd, u32(3), u32(0xDEADBEEF))
    info = bpf.obj_get_info_by_fd(fd, "map")
    assert isinstance(info, bpf.MapInfo)
    assert info.name == "a_very_long_map"
    assert info.map_flags == bpf.BPF_F_RDONLY_PROG
    bpf.map_freeze(fd)
    with pytest.raises(errors.SyscallError) as caught:
        bpf.map_update_elem(fd, u32(3), u32(1))
    assert caught.value.errno == errno.EPERM
    assert bpf.map_lookup_elem(fd, u32(3), 4) == u32(0xDEADBEEF)


# ---------------------------------------------------------------- BTF


def minimal_btf() -> bytes:
    """BTF with one type, [1] int (4 bytes, signed)."""
    strings = b"\0int\0"
    types = struct.pack("<III", 1, 1 << 24, 4) + struct.pack("<I", (1 << 24) | 32)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types),
                         len(strings))
    return header + types + strings


@pytest.mark.kernel
def test_btf_load_and_a_map_described_by_it(fds: list[int]) -> None:
    btf_fd = bpf.btf_load(minimal_btf())
    fds.append(btf_fd)
    btf_info = bpf.obj_get_info_by_fd(btf_fd, "btf")
    assert isinstance(btf_info, bpf.BtfInfo)
    assert btf_info.id > 0 and btf_info.btf_size == len(minimal_btf())
    fd = bpf.map_create("typed", bpf.BPF_MAP_TYPE_HASH, 4, 4, 8, btf_fd=btf_fd,
                        btf_key_type_id=1, btf_value_type_id=1)
    fds.append(fd)
    info = bpf.obj_get_info_by_fd(fd, "map")
    assert isinstance(info, bpf.MapInfo)
    assert (info.btf_id, info.btf_key_type_id, info.btf_value_type_id) == (btf_info.id, 1, 1)


@pytest.mark.kernel
def test_bad_btf_raises_with_the_btf_log(fds: list[int]) -> None:
    bad = b"\x00\x00" + minimal_btf()[2:]
    with pytest.raises(errors.SyscallError) as caught:
        bpf.btf_load(bad)
    assert caught.value.command == "BPF_BTF_LOAD"
    assert "magic" in caught.value.log.lower()
    assert str(caught.value).startswith("BTF: BPF_BTF_LOAD failed")


# ----------------------------------------------------------- programs


@pytest.mark.kernel
def test_socket_filter_loads_runs_and_reports_info(fds: list[int]) -> None:
    fd, log = bpf.prog_load(bpf.BPF_PROG_TYPE_SOCKET_FILTER, RETURN_1, "GPL", "return_one")
    fds.append(fd)
    assert "processed 2 insns" in log

    packet = bytes(range(64))              # at least an Ethernet header
    run = bpf.prog_test_run(fd, packet, repeat=1000)
    assert run.retval == 1
    # The kernel hands back the packet with its Ethernet header zeroed
    # (a socket filter is not an L2 program: the header is pulled, then
    # pushed back blank).
    assert run.data_out == bytes(14) + packet[14:]
    assert isinstance(run.duration_ns, int) and 0 <= run.duration_ns < 10_000_000

    info = bpf.obj_get_info_by_fd(fd, "prog")
    assert isinstance(info, bpf.ProgInfo)
    assert info.type == bpf.BPF_PROG_TYPE_SOCKET_FILTER == 1
    assert info.name == "return_one"
    assert info.verified_insns > 0
    assert info.gpl_compatible
    assert info.xlated_prog_len == len(RETURN_1)
    assert info.id > 0 and len(info.tag) == 16
    xlated = bpf.prog_xlated_insns(fd)
    assert len(xlated) == info.xlated_prog_len
    assert xlated[-8] == 0x95                          # ends with exit
    assert bpf.prog_map_ids(fd) == []


@pytest.mark.kernel
def test_exit_without_r0_is_a_verifier_error(fds: list[int]) -> None:
    with pytest.raises(errors.VerifierError) as caught:
        bpf.prog_load(bpf.BPF_PROG_TYPE_SOCKET_FILTER, EXIT, "GPL", "no_r0")
    error = caught.value
    assert isinstance(error, errors.SyscallError)
    assert "R0 !read_ok" in error.log
    assert error.log_summary() == "R0 !read_ok"
    assert str(error).startswith("program 'no_r0': the verifier rejected it (")
    assert "R0 !read_ok" in str(error)
    assert error.errno in (errno.EACCES, errno.EINVAL)


@pytest.mark.kernel
def test_verifier_log_is_complete_even_from_a_tiny_buffer(fds: list[int]) -> None:
    # Failure: the buffer grows until the whole log fits.
    with pytest.raises(errors.VerifierError) as caught:
        bpf.prog_load(bpf.BPF_PROG_TYPE_SOCKET_FILTER, EXIT, "GPL", "no_r0",
                      log_level=bpf.LOG_LEVEL_VERBOSE, log_size=16)
    assert caught.value.errno != errno.ENOSPC
    assert "R0 !read_ok" in caught.value.log
    # Success: a log that did not fit would fail the load; it is retried.
    fd, log = bpf.prog_load(bpf.BPF_PROG_TYPE_SOCKET_FILTER, RETURN_1, "GPL", "ok",
                            log_size=16)
    fds.append(fd)
    assert "processed 2 insns" in log
    # log_level 0: no log on success, yet a failure still brings one.
    fd, log = bpf.prog_load(bpf.BPF_PROG_TYPE_SOCKET_FILTER, RETURN_1, "GPL", "quiet",
                            log_level=0)
    fds.append(fd)
    assert log == ""
    with pytest.raises(errors.VerifierError, match="R0 !read_ok"):
        bpf.prog_load(bpf.BPF_PROG_TYPE_SOCKET_FILTER, EXIT, "GPL", "no_r0", log_level=0)


@pytest.mark.kernel
def test_test_run_of_a_sysctl_program_is_not_supported(fds: list[int]) -> None:
    fd, _ = bpf.prog_load(bpf.BPF_PROG_TYPE_CGROUP_SYSCTL, RETURN_0, "GPL", "deny",
                          expected_attach_type=bpf.BPF_CGROUP_SYSCTL)
    fds.append(fd)
    with pytest.raises(errors.SyscallError) as caught:
        bpf.prog_test_run(fd, bytes(16), what="program 'deny'")
    assert caught.value.errno in (errors.ENOTSUPP, errno.EOPNOTSUPP, errno.EINVAL)
    assert str(caught.value).startswith("program 'deny': BPF_PROG_TEST_RUN failed")


# ------------------------------------------------------------ pinning


@pytest.mark.kernel
def test_pin_and_get_in_a_mounted_bpffs(fds: list[int], bpffs: Path) -> None:
    prog_fd, _ = bpf.prog_load(bpf.BPF_PROG_TYPE_SOCKET_FILTER, RETURN_1, "GPL", "pinned")
    fds.append(prog_fd)
    map_fd = bpf.map_create("pinned_map", bpf.BPF_MAP_TYPE_HASH, 4, 4, 4)
    fds.append(map_fd)
    bpf.map_update_elem(map_fd, u32(1), u32(11))

    bpf.obj_pin(prog_fd, bpffs / "prog")
    bpf.obj_pin(map_fd, str(bpffs / "map"))
    again_prog = bpf.obj_get(bpffs / "prog")
    fds.append(again_prog)
    again_map = bpf.obj_get(bpffs / "map")
    fds.append(again_map)
    assert again_prog != prog_fd
    prog_info = bpf.obj_get_info_by_fd(again_prog, "prog")
    original = bpf.obj_get_info_by_fd(prog_fd, "prog")
    assert isinstance(prog_info, bpf.ProgInfo) and isinstance(original, bpf.ProgInfo)
    assert prog_info.id == original.id
    assert bpf.map_lookup_elem(again_map, u32(1), 4) == u32(11)

    with pytest.raises(errors.SyscallError) as caught:
        bpf.obj_pin(prog_fd, bpffs / "prog")
    assert caught.value.errno == errno.EEXIST
    assert str(caught.value).startswith(f"pin '{bpffs / 'prog'}': BPF_OBJ_PIN failed")

    with pytest.raises(errors.SyscallError) as caught:
        bpf.obj_get(bpffs / "absent")
    assert caught.value.errno == errno.ENOENT
    assert "nothing is pinned at this path" in str(caught.value)


@pytest.mark.kernel
def test_pin_outside_a_bpffs_is_refused(fds: list[int], tmp_path: Path) -> None:
    map_fd = bpf.map_create("m", bpf.BPF_MAP_TYPE_ARRAY, 4, 4, 1)
    fds.append(map_fd)
    with pytest.raises(errors.SyscallError) as caught:
        bpf.obj_pin(map_fd, tmp_path / "map")
    assert caught.value.errno == errno.EPERM
    assert "bpf filesystem" in str(caught.value)
    assert not (tmp_path / "map").exists()


# ------------------------------------------------------------- cgroups


def test_cgroup2_root_agrees_with_the_test_helpers(cgroup_root: Path) -> None:
    assert cgroup_root == kernel.cgroup2_root()
    assert (cgroup_root / "cgroup.controllers").is_file()


def test_cgroup2_root_from_mountinfo_text() -> None:
    text = ("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
            "40 22 0:30 / - rw,relatime - tmpfs odd rw\n"
            "41 30 0:31 /sub /mnt/bind rw shared:20 master:3 - cgroup2 cgroup2 rw\n"
            "42 30 0:31 / /sys/fs/cgroup/my\\040v2 rw shared:11 - cgroup2 cgroup2 rw\n")
    assert cgroup.cgroup2_root(text) == Path("/sys/fs/cgroup/my v2")
    with pytest.raises(errors.CgroupError, match="no cgroup v2 filesystem is mounted"):
        cgroup.cgroup2_root("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                            "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n")


def test_open_cgroup_errors(cgroup_root: Path, tmp_path: Path) -> None:
    with pytest.raises(errors.CgroupError, match=r"cgroup '.*' does not exist"):
        cgroup.open_cgroup(cgroup_root / "pybpfc-no-such-group-x7q")
    (tmp_path / "file").write_text("")
    with pytest.raises(errors.CgroupError, match="is not a directory"):
        cgroup.open_cgroup(tmp_path / "file")
    with pytest.raises(errors.CgroupError,
                       match=rf"is not a cgroup v2 directory .*mounted at {cgroup_root}"):
        cgroup.open_cgroup(tmp_path)
    fd = cgroup.open_cgroup(cgroup_root)       # opening the root is harmless
    os.close(fd)


@pytest.mark.kernel
def test_temporary_cgroup_is_created_and_removed(cgroup_root: Path) -> None:
    with cgroup.TemporaryCgroup() as first, cgroup.TemporaryCgroup() as second:
        assert first.path.parent == cgroup_root == second.path.parent
        assert first.path != second.path
        assert first.path.name.startswith("pybpfc-")
        assert (first.path / "cgroup.procs").is_file()
        assert first.pids() == []
        fd = first.fd()
        assert first.fd() == fd
        assert os.stat(fd).st_ino == first.id
        with cgroup.TemporaryCgroup(parent=first.path) as nested:
            assert nested.path.parent == first.path
    for group in (first, second, nested):
        assert not group.path.exists()
    with pytest.raises(OSError):
        os.fstat(fd)                                 # the fd was closed


@pytest.mark.kernel
def test_temporary_cgroup_is_removed_when_the_body_raises() -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with cgroup.TemporaryCgroup() as group:
            group.fd()
            raise Boom()
    assert not group.path.exists()


def test_temporary_cgroup_parent_must_be_a_cgroup(tmp_path: Path) -> None:
    with pytest.raises(errors.CgroupError, match="parent cgroup .* not a cgroup v2 directory"):
        with cgroup.TemporaryCgroup(parent=tmp_path):
            pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.kernel
def test_temporary_cgroup_with_a_process_left_is_not_removed(cgroup_root: Path) -> None:
    require_root("moving processes between cgroups")
    group = cgroup.TemporaryCgroup(remove_timeout=0.2).create()
    child = None
    try:
        ready_r, ready_w = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                os.close(ready_r)
                group.add_pid(0)
                os.write(ready_w, b"x")
                time.sleep(60)
            finally:
                os._exit(0)
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"x"
        os.close(ready_r)
        assert group.pids() == [child]
        with pytest.raises(errors.CgroupError,
                           match=rf"cannot remove cgroup .*processes still in it: {child}"):
            group.remove()
        assert group.path.is_dir()
    finally:
        if child:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
        group.remove()
    assert not group.path.exists()


# ------------------------------------------- cgroup programs, for real


def read_in_cgroup(group: cgroup.TemporaryCgroup, path: str = IP_FORWARD) -> int:
    """Fork a child that moves itself into ``group`` and reads ``path``
    (read only); its errno, or 0 when the read succeeded."""
    child = os.fork()
    if child == 0:
        status = 250
        try:
            group.add_pid(0)
            try:
                with open(path, "rb") as file:
                    file.read()
                status = 0
            except OSError as error:
                status = error.errno if error.errno and 0 < error.errno < 250 else 251
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(wait_status)


@pytest.fixture
def sysctl_deny(fds: list[int]) -> int:
    """A cgroup sysctl program that refuses every access (r0 = 0)."""
    fd, _ = bpf.prog_load(bpf.BPF_PROG_TYPE_CGROUP_SYSCTL, RETURN_0, "GPL", "deny_sysctl",
                          expected_attach_type=bpf.BPF_CGROUP_SYSCTL)
    fds.append(fd)
    return fd


@pytest.mark.kernel
def test_sysctl_program_through_a_link(sysctl_deny: int, cgroup_root: Path) -> None:
    assert bpf.BPF_PROG_TYPE_CGROUP_SYSCTL == 23 and bpf.BPF_CGROUP_SYSCTL == 18
    with cgroup.TemporaryCgroup() as group:
        assert read_in_cgroup(group) == 0
        link = bpf.link_create(sysctl_deny, group.fd(), bpf.BPF_CGROUP_SYSCTL)
        try:
            info = bpf.obj_get_info_by_fd(link, "link")
            prog = bpf.obj_get_info_by_fd(sysctl_deny, "prog")
            assert isinstance(info, bpf.LinkInfo) and isinstance(prog, bpf.ProgInfo)
            assert info.type == bpf.BPF_LINK_TYPE_CGROUP
            assert info.prog_id == prog.id
            assert info.cgroup_id == group.id
            assert info.attach_type == bpf.BPF_CGROUP_SYSCTL
            assert bpf.prog_query(group.fd(), bpf.BPF_CGROUP_SYSCTL).prog_ids == [prog.id]
            assert read_in_cgroup(group) == errno.EPERM
        finally:
            os.close(link)
        assert read_in_cgroup(group) == 0
        assert bpf.prog_query(group.fd(), bpf.BPF_CGROUP_SYSCTL).prog_ids == []
    assert not group.path.exists()


@pytest.mark.kernel
def test_sysctl_program_link_detach(sysctl_deny: int, cgroup_root: Path) -> None:
    with cgroup.TemporaryCgroup() as group:
        link = bpf.link_create(sysctl_deny, group.fd(), bpf.BPF_CGROUP_SYSCTL)
        try:
            assert read_in_cgroup(group) == errno.EPERM
            bpf.link_detach(link)
            assert read_in_cgroup(group) == 0
            bpf.link_detach(link)                  # detaching twice is not an error
            info = bpf.obj_get_info_by_fd(link, "link")
            assert isinstance(info, bpf.LinkInfo)
            assert info.type == bpf.BPF_LINK_TYPE_CGROUP
        finally:
            os.close(link)
    assert not group.path.exists()


@pytest.mark.kernel
def test_sysctl_program_through_prog_attach(sysctl_deny: int, cgroup_root: Path) -> None:
    with cgroup.TemporaryCgroup() as group:
        bpf.prog_attach(group.fd(), sysctl_deny, bpf.BPF_CGROUP_SYSCTL, bpf.BPF_F_ALLOW_MULTI)
        try:
            query = bpf.prog_query(group.fd(), bpf.BPF_CGROUP_SYSCTL)
            assert query.attach_flags == bpf.BPF_F_ALLOW_MULTI
            assert len(query.prog_ids) == 1
            assert read_in_cgroup(group) == errno.EPERM
        finally:
            bpf.prog_detach(group.fd(), sysctl_deny, bpf.BPF_CGROUP_SYSCTL)
        assert read_in_cgroup(group) == 0
        with pytest.raises(errors.SyscallError) as caught:
            bpf.prog_detach(group.fd(), sysctl_deny, bpf.BPF_CGROUP_SYSCTL)
        assert caught.value.errno == errno.ENOENT
    assert not group.path.exists()


@pytest.mark.kernel
def test_attaching_with_a_mismatched_attach_type_fails(sysctl_deny: int,
                                                       cgroup_root: Path) -> None:
    with cgroup.TemporaryCgroup() as group:
        with pytest.raises(errors.SyscallError) as caught:
            bpf.link_create(sysctl_deny, group.fd(), bpf.BPF_CGROUP_GETSOCKOPT,
                            what="program 'deny_sysctl'")
        assert caught.value.errno == errno.EINVAL
        assert str(caught.value).startswith(
            "program 'deny_sysctl': BPF_LINK_CREATE failed: Invalid argument (EINVAL)")


@pytest.mark.kernel
def test_cgroup_is_removed_when_a_test_with_an_attachment_fails(sysctl_deny: int,
                                                               cgroup_root: Path) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with cgroup.TemporaryCgroup() as group:
            link = bpf.link_create(sysctl_deny, group.fd(), bpf.BPF_CGROUP_SYSCTL)
            try:
                assert read_in_cgroup(group) == errno.EPERM
                raise Boom()
            finally:
                os.close(link)
    assert not group.path.exists()


# -------------------------------------------------------- import hygiene


def test_runtime_imports_no_compiler() -> None:
    code = ("import sys\n"
            "from runtime import bpf, cgroup, errors\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('llvmlite', 'lark')"
            " or m.startswith('pybpfc.compiler')]\n"
            "print(bad)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO_ROOT, check=True)
    assert result.stdout.strip() == "[]"
