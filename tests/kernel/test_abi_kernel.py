"""The ABI tables against the running kernel's own description of itself,
its BTF (/sys/kernel/btf/vmlinux): every enum member pybpfc names (those
newer than Debian's linux/bpf.h included), every helper's id, the flags
the kernel describes, and the context structs' offsets and sizes."""
from __future__ import annotations

from pathlib import Path

import pytest

from pybpfc import abi
from pybpfc.abi import kernel
from pybpfc.runtime.btf import Btf, Kind
from tests.support import require_kernel_feature

VMLINUX = Path("/sys/kernel/btf/vmlinux")


@pytest.fixture(scope="module")
def vmlinux() -> Btf:
    require_kernel_feature("kernel BTF", VMLINUX.is_file(), f"{VMLINUX} is missing")
    return Btf.parse(VMLINUX.read_bytes())


def enum(btf: Btf, name: str) -> dict[str, int]:
    type_id = btf.find(name, Kind.ENUM)
    assert type_id is not None, f"enum {name} is not in the kernel's BTF"
    return {e.name: e.value for e in btf[type_id].values}


@pytest.mark.parametrize("name", sorted(kernel.ENUMS))
def test_enums_match_the_running_kernel(vmlinux: Btf, name: str) -> None:
    theirs = enum(vmlinux, name)
    ours = kernel.ENUMS[name]
    wrong = {member: (value, theirs.get(member)) for member, value in ours.items()
             if theirs.get(member) != value}
    assert not wrong, f"enum {name}: (pybpfc, kernel) differ: {wrong}"


def test_flags_the_kernel_describes_match(vmlinux: Btf) -> None:
    # Flags live in anonymous enums; the kernel's BTF keeps those it uses.
    described = {e.name: e.value for t in vmlinux.types
                 if t.kind == Kind.ENUM and not t.name for e in t.values}
    flags = {name: value for name, value in vars(kernel).items()
             if name.startswith(("BPF_F_", "BPF_ANY", "BPF_NOEXIST", "BPF_EXIST"))}
    checked = {name: value for name, value in flags.items() if name in described}
    assert {"BPF_ANY", "BPF_NOEXIST", "BPF_EXIST", "BPF_F_NO_PREALLOC",
            "BPF_F_CLONE", "BPF_F_SYSCTL_BASE_NAME"} <= set(checked)
    wrong = {name: (value, described[name]) for name, value in checked.items()
             if described[name] != value}
    assert not wrong, wrong


def test_helper_ids_match_the_running_kernel(vmlinux: Btf) -> None:
    ids = enum(vmlinux, "bpf_func_id")
    for helper in abi.HELPERS.values():
        assert ids["BPF_FUNC_" + helper.name] == helper.func_id, helper.name


def member_offsets(btf: Btf, type_id: int, base: int = 0) -> dict[str, tuple[int, int]]:
    """name -> (byte offset, size) of a struct's members, with the members
    of anonymous unions (__bpf_md_ptr) lifted into it."""
    found = {}
    for m in btf[type_id].members:
        offset = base + m.bit_offset // 8
        inner = btf.resolve(m.type)
        if not m.name and btf[inner].kind in (Kind.STRUCT, Kind.UNION):
            found.update(member_offsets(btf, inner, offset))
        else:
            found[m.name] = (offset, btf.size_of(m.type))
    return found


@pytest.mark.parametrize("ctx", abi.CONTEXTS, ids=lambda c: c.c_name)
def test_context_layouts_match_the_running_kernel(vmlinux: Btf, ctx: abi.Context) -> None:
    type_id = vmlinux.find(ctx.c_name, Kind.STRUCT)
    assert type_id is not None, f"struct {ctx.c_name} is not in the kernel's BTF"
    assert vmlinux.size_of(type_id) == ctx.size
    members = member_offsets(vmlinux, type_id)
    for f in ctx.fields:
        offset, size = members[f.member]
        if f.part_of:
            # A half of a member: within it.
            assert offset <= f.offset and f.offset + f.size <= offset + size, f.name
        else:
            # Pointers are 8-byte slots in the UAPI structs (__bpf_md_ptr).
            assert (offset, size) == (f.offset, f.size * f.count), f.name


def test_the_xdp_room_matches_the_running_kernel(vmlinux: Btf) -> None:
    """The bounds the simulator gives bpf_xdp_adjust_head/tail: the
    xdp_frame kept at the headroom's start, and the tailroom that holds a
    struct skb_shared_info, cache-line aligned (SKB_DATA_ALIGN)."""
    def size(name: str) -> int:
        type_id = vmlinux.find(name, Kind.STRUCT)
        assert type_id is not None, f"struct {name} is not in the kernel's BTF"
        return vmlinux.size_of(type_id)
    assert size("xdp_frame") == kernel.XDP_FRAME_SIZE
    cache_line = 64
    assert -(-size("skb_shared_info") // cache_line) * cache_line == kernel.SKB_SHARED_INFO_ROOM
