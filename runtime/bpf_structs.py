"""The kernel's structs that ``bpf(2)`` reads and writes, as ctypes layouts:
``union bpf_attr`` (one Structure per command) and the ``bpf_*_info`` structs
of BPF_OBJ_GET_INFO_BY_FD, with the plain records the runtime decodes them
into.  No syscalls here: ``bpf.py`` makes them.  A test compiles
``linux/bpf.h`` and checks every offset and size.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Optional

from pybpfc.abi.kernel import BPF_OBJ_NAME_LEN, BPF_TAG_SIZE

# ----------------------------------------------- union bpf_attr, per command
#
# One Structure per command, each the anonymous (``_c_member_ = ""``) or named
# member of ``union bpf_attr`` in linux/bpf.h, with the header's field names;
# ``_*`` fields are padding or union parts not used here.  A test compiles the
# header and checks every offset and size.

u32 = ctypes.c_uint32
u64 = ctypes.c_uint64


class MapCreateAttr(ctypes.Structure):
    _c_member_ = ""
    _fields_ = [
        ("map_type", u32),
        ("key_size", u32),
        ("value_size", u32),
        ("max_entries", u32),
        ("map_flags", u32),
        ("inner_map_fd", u32),
        ("numa_node", u32),
        ("map_name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("map_ifindex", u32),
        ("btf_fd", u32),
        ("btf_key_type_id", u32),
        ("btf_value_type_id", u32),
        ("btf_vmlinux_value_type_id", u32),
        ("map_extra", u64),
    ]


class MapElemAttr(ctypes.Structure):
    """BPF_MAP_*_ELEM, BPF_MAP_GET_NEXT_KEY and BPF_MAP_FREEZE."""
    _c_member_ = ""
    _fields_ = [
        ("map_fd", u32),
        ("key", u64),
        ("value", u64),      # a union with next_key
        ("flags", u64),
    ]


class ProgLoadAttr(ctypes.Structure):
    _c_member_ = ""
    _fields_ = [
        ("prog_type", u32),
        ("insn_cnt", u32),
        ("insns", u64),
        ("license", u64),
        ("log_level", u32),
        ("log_size", u32),
        ("log_buf", u64),
        ("kern_version", u32),
        ("prog_flags", u32),
        ("prog_name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("prog_ifindex", u32),
        ("expected_attach_type", u32),
        ("prog_btf_fd", u32),
        ("func_info_rec_size", u32),
        ("func_info", u64),
        ("func_info_cnt", u32),
        ("line_info_rec_size", u32),
        ("line_info", u64),
        ("line_info_cnt", u32),
        ("attach_btf_id", u32),
        ("attach_prog_fd", u32),   # a union with attach_btf_obj_fd
        ("core_relo_cnt", u32),
        ("fd_array", u64),
        ("core_relos", u64),
        ("core_relo_rec_size", u32),
    ]


class ObjAttr(ctypes.Structure):
    """BPF_OBJ_PIN and BPF_OBJ_GET."""
    _c_member_ = ""
    _fields_ = [
        ("pathname", u64),
        ("bpf_fd", u32),
        ("file_flags", u32),
    ]


class ProgAttachAttr(ctypes.Structure):
    """BPF_PROG_ATTACH and BPF_PROG_DETACH."""
    _c_member_ = ""
    _fields_ = [
        ("target_fd", u32),
        ("attach_bpf_fd", u32),
        ("attach_type", u32),
        ("attach_flags", u32),
        ("replace_bpf_fd", u32),
    ]


class TestRunAttr(ctypes.Structure):
    __test__ = False   # not a pytest test class
    _c_member_ = "test"
    _fields_ = [
        ("prog_fd", u32),
        ("retval", u32),
        ("data_size_in", u32),
        ("data_size_out", u32),
        ("data_in", u64),
        ("data_out", u64),
        ("repeat", u32),
        ("duration", u32),
        ("ctx_size_in", u32),
        ("ctx_size_out", u32),
        ("ctx_in", u64),
        ("ctx_out", u64),
        ("flags", u32),
        ("cpu", u32),
        ("batch_size", u32),
    ]


class InfoAttr(ctypes.Structure):
    _c_member_ = "info"
    _fields_ = [
        ("bpf_fd", u32),
        ("info_len", u32),
        ("info", u64),
    ]


class QueryAttr(ctypes.Structure):
    _c_member_ = "query"
    _fields_ = [
        ("target_fd", u32),
        ("attach_type", u32),
        ("query_flags", u32),
        ("attach_flags", u32),
        ("prog_ids", u64),
        ("prog_cnt", u32),
        ("prog_attach_flags", u64),
    ]


class BtfLoadAttr(ctypes.Structure):
    _c_member_ = ""
    _fields_ = [
        ("btf", u64),
        ("btf_log_buf", u64),
        ("btf_size", u32),
        ("btf_log_size", u32),
        ("btf_log_level", u32),
    ]


class LinkCreateAttr(ctypes.Structure):
    _c_member_ = "link_create"
    _fields_ = [
        ("prog_fd", u32),
        ("target_fd", u32),     # a union with target_ifindex
        ("attach_type", u32),
        ("flags", u32),
        # The per-link-kind union; its largest member (kprobe_multi) is 32 bytes.
        ("target_btf_id", u32),
        ("_union_rest", u32 * 7),
    ]


class LinkUpdateAttr(ctypes.Structure):
    _c_member_ = "link_update"
    _fields_ = [
        ("link_fd", u32),
        ("new_prog_fd", u32),
        ("flags", u32),
        ("old_prog_fd", u32),
    ]


class LinkDetachAttr(ctypes.Structure):
    _c_member_ = "link_detach"
    _fields_ = [
        ("link_fd", u32),
    ]


class RawTracepointAttr(ctypes.Structure):
    """BPF_RAW_TRACEPOINT_OPEN."""
    _c_member_ = "raw_tracepoint"
    _fields_ = [
        ("name", u64),          # 0 for a BTF-typed program: its attach_btf_id says
        ("prog_fd", u32),
    ]


class IterCreateAttr(ctypes.Structure):
    """BPF_ITER_CREATE."""
    _c_member_ = "iter_create"
    _fields_ = [
        ("link_fd", u32),
        ("flags", u32),
    ]


class GetIdAttr(ctypes.Structure):
    """BPF_BTF_GET_FD_BY_ID (and the other *_GET_FD_BY_ID commands)."""
    _c_member_ = ""
    _fields_ = [
        ("btf_id", u32),
        ("next_id", u32),
        ("open_flags", u32),
    ]


class BpfAttr(ctypes.Union):
    """``union bpf_attr``, cut down to the commands this module uses."""
    _fields_ = [
        ("map_create", MapCreateAttr),
        ("map_elem", MapElemAttr),
        ("prog_load", ProgLoadAttr),
        ("obj", ObjAttr),
        ("prog_attach", ProgAttachAttr),
        ("test", TestRunAttr),
        ("info", InfoAttr),
        ("query", QueryAttr),
        ("btf_load", BtfLoadAttr),
        ("link_create", LinkCreateAttr),
        ("link_detach", LinkDetachAttr),
        ("link_update", LinkUpdateAttr),
        ("get_id", GetIdAttr),
        ("raw_tracepoint", RawTracepointAttr),
        ("iter_create", IterCreateAttr),
    ]


ATTR_STRUCTS: tuple[type[ctypes.Structure], ...] = (
    MapCreateAttr, MapElemAttr, ProgLoadAttr, ObjAttr, ProgAttachAttr, TestRunAttr, InfoAttr,
    QueryAttr, BtfLoadAttr, LinkCreateAttr, LinkDetachAttr, GetIdAttr,
    RawTracepointAttr, IterCreateAttr, LinkUpdateAttr)
ATTR_SIZE = ctypes.sizeof(BpfAttr)


# ---------------------------------------- bpf_*_info, and what they decode to


class BpfProgInfo(ctypes.Structure):
    _c_type_ = "struct bpf_prog_info"
    _fields_ = [
        ("type", u32),
        ("id", u32),
        ("tag", ctypes.c_uint8 * BPF_TAG_SIZE),
        ("jited_prog_len", u32),
        ("xlated_prog_len", u32),
        ("jited_prog_insns", u64),
        ("xlated_prog_insns", u64),
        ("load_time", u64),
        ("created_by_uid", u32),
        ("nr_map_ids", u32),
        ("map_ids", u64),
        ("name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", u32),
        ("gpl_compatible", u32, 1),
        ("_pad1", u32, 31),
        ("netns_dev", u64),
        ("netns_ino", u64),
        ("nr_jited_ksyms", u32),
        ("nr_jited_func_lens", u32),
        ("jited_ksyms", u64),
        ("jited_func_lens", u64),
        ("btf_id", u32),
        ("func_info_rec_size", u32),
        ("func_info", u64),
        ("nr_func_info", u32),
        ("nr_line_info", u32),
        ("line_info", u64),
        ("jited_line_info", u64),
        ("nr_jited_line_info", u32),
        ("line_info_rec_size", u32),
        ("jited_line_info_rec_size", u32),
        ("nr_prog_tags", u32),
        ("prog_tags", u64),
        ("run_time_ns", u64),
        ("run_cnt", u64),
        ("recursion_misses", u64),
        ("verified_insns", u32),
        ("attach_btf_obj_id", u32),
        ("attach_btf_id", u32),
        ("_pad2", u32),
    ]


class BpfMapInfo(ctypes.Structure):
    _c_type_ = "struct bpf_map_info"
    _fields_ = [
        ("type", u32),
        ("id", u32),
        ("key_size", u32),
        ("value_size", u32),
        ("max_entries", u32),
        ("map_flags", u32),
        ("name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", u32),
        ("btf_vmlinux_value_type_id", u32),
        ("netns_dev", u64),
        ("netns_ino", u64),
        ("btf_id", u32),
        ("btf_key_type_id", u32),
        ("btf_value_type_id", u32),
        ("_pad", u32),
        ("map_extra", u64),
    ]


class BpfBtfInfo(ctypes.Structure):
    _c_type_ = "struct bpf_btf_info"
    _fields_ = [
        ("btf", u64),
        ("btf_size", u32),
        ("id", u32),
        ("name", u64),
        ("name_len", u32),
        ("kernel_btf", u32),
    ]


class _LinkCgroup(ctypes.Structure):
    _fields_ = [("cgroup_id", u64), ("attach_type", u32)]


class _LinkUnion(ctypes.Union):
    # Only the cgroup member is decoded; _raw gives the union its full size
    # (the largest member, iter, is 8 + 4 + 4 + 8 + 4 (+ 4 padding) bytes).
    _fields_ = [("cgroup", _LinkCgroup), ("_raw", u64 * 4)]


class BpfLinkInfo(ctypes.Structure):
    _c_type_ = "struct bpf_link_info"
    _anonymous_ = ("_u",)
    _fields_ = [
        ("type", u32),
        ("id", u32),
        ("prog_id", u32),
        ("_u", _LinkUnion),
    ]


INFO_STRUCTS = (BpfProgInfo, BpfMapInfo, BpfBtfInfo, BpfLinkInfo)


@dataclass(frozen=True)
class ProgInfo:
    type: int
    id: int
    tag: str                # hex
    name: str
    jited_prog_len: int
    xlated_prog_len: int
    load_time: int          # ns since boot
    created_by_uid: int
    nr_map_ids: int
    ifindex: int
    gpl_compatible: bool
    btf_id: int
    nr_func_info: int
    nr_line_info: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    verified_insns: int     # instructions the verifier processed
    attach_btf_obj_id: int
    attach_btf_id: int


@dataclass(frozen=True)
class MapInfo:
    type: int
    id: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int
    name: str
    ifindex: int
    btf_vmlinux_value_type_id: int
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    map_extra: int


@dataclass(frozen=True)
class LinkInfo:
    type: int
    id: int
    prog_id: int
    cgroup_id: Optional[int] = None      # cgroup links: the cgroup's id (its inode number)
    attach_type: Optional[int] = None    # cgroup links


@dataclass(frozen=True)
class BtfInfo:
    id: int
    btf_size: int
    kernel_btf: bool


InfoKind = str   # "prog", "map", "link" or "btf"
