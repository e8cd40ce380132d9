"""The one thin layer over the ``bpf(2)`` system call.

Every ``bpf(2)`` call the runtime makes goes through :func:`_sys_bpf` in this
module (as aya keeps all its syscalls in ``sys/``): a test can replace that
one function with a fake.  The functions here take and return plain ints and
bytes; file descriptors are plain ints owned by the caller (higher layers
close them).  On failure they raise :class:`SyscallError` (or
:class:`VerifierError` from :func:`prog_load`) whose message starts with
``what`` -- the object concerned -- which callers may pass to name it
(``what="map 'counts'"``).

Every call passes a zero-filled ``union bpf_attr`` (``bpf_structs.BpfAttr``)
and its size.  The kernel's numbers are those of ``pybpfc.abi.kernel``,
re-exported here so callers write ``bpf.BPF_MAP_TYPE_HASH``.
"""
from __future__ import annotations

import ctypes
import errno as _errno
import os
import platform
import re
from typing import Callable, NamedTuple, Optional, Union

from pybpfc.abi.kernel import *  # noqa: F401,F403 - re-exported, see above

# BpfAttr (what a fake _sys_bpf receives) and the records the info calls
# return are re-exported for the runtime's other modules.
from .bpf_structs import (BpfAttr as BpfAttr, BtfInfo as BtfInfo, LinkInfo as LinkInfo,
                          MapInfo as MapInfo, ProgInfo as ProgInfo)
from .bpf_structs import BpfBtfInfo, BpfLinkInfo, BpfMapInfo, BpfProgInfo, InfoKind, u32
from .errors import BpfError, SyscallError, VerifierError

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

DEFAULT_LOG_SIZE = 256 * 1024
# A verifier log buffer is grown on ENOSPC up to this size (the kernel
# refuses anything above UINT32_MAX >> 2).
MAX_LOG_SIZE = 256 * 1024 * 1024

# ------------------------------------------------------ the syscall itself


def syscall_number(machine: Optional[str] = None) -> int:
    """bpf(2)'s number on ``machine`` (default: this one)."""
    machine = platform.machine() if machine is None else machine
    try:
        return SYSCALL_NUMBERS[machine]
    except KeyError:
        raise BpfError(f"bpf(2): unknown system call number on architecture {machine!r} "
                       f"(known: {', '.join(sorted(SYSCALL_NUMBERS))})") from None


_libc_syscall: Optional[Callable[..., int]] = None


def _syscall_function() -> Callable[..., int]:
    global _libc_syscall
    if _libc_syscall is None:
        function = ctypes.CDLL(None, use_errno=True).syscall
        function.restype = ctypes.c_long
        _libc_syscall = function
    return _libc_syscall


def _sys_bpf(cmd: int, attr: BpfAttr) -> int:
    """bpf(cmd, &attr, sizeof attr): the result (>= 0), or -errno.

    The only place the runtime enters the kernel's bpf(2); EINTR is retried.
    """
    nr = syscall_number()
    syscall = _syscall_function()
    while True:
        result = syscall(ctypes.c_long(nr), ctypes.c_int(cmd), ctypes.byref(attr),
                         ctypes.c_uint(ctypes.sizeof(attr)))
        if result >= 0:
            return int(result)
        number = ctypes.get_errno()
        if number != _errno.EINTR:
            return -number


def _call(cmd: int, command: str, attr: BpfAttr, what: str) -> int:
    result = _sys_bpf(cmd, attr)
    if result < 0:
        raise SyscallError(command, -result, what)
    return result


# ------------------------------------------------------------------ helpers


def _buffer(data: bytes) -> "ctypes.Array[ctypes.c_char]":
    # One spare byte so even empty data has an address.
    return ctypes.create_string_buffer(bytes(data), len(data) + 1)


def _addr(buffer: Optional["ctypes._CData"]) -> int:
    return 0 if buffer is None else ctypes.addressof(buffer)


_NAME_OK = re.compile(r"[^A-Za-z0-9_.]")


def object_name(name: str) -> bytes:
    """The name the kernel gets for a map or program: characters other than
    ``[A-Za-z0-9_.]`` become ``_`` and it is cut to 15 characters (the
    kernel's BPF_OBJ_NAME_LEN less the terminating NUL).  Messages keep the
    full name."""
    return _NAME_OK.sub("_", name)[:BPF_OBJ_NAME_LEN - 1].encode("ascii")


def _decode_log(buffer: "ctypes.Array[ctypes.c_char]") -> str:
    return buffer.value.decode("utf-8", errors="replace")


def close(fd: int) -> None:
    """Close a BPF object's file descriptor."""
    os.close(fd)


# --------------------------------------------------------------------- BTF


def btf_load(btf: bytes, log_level: int = 0, log_size: int = DEFAULT_LOG_SIZE, *,
             what: str = "BTF") -> int:
    """Load raw BTF (header, types, strings); returns its fd.

    With ``log_level`` 0 no log is kept on success; on failure the load is
    retried with a log so the error carries the BTF verifier's words.
    """
    level = log_level
    size = log_size
    while True:
        log = ctypes.create_string_buffer(size) if level else None
        data = _buffer(btf)
        attr = BpfAttr()
        a = attr.btf_load
        a.btf = _addr(data)
        a.btf_size = len(btf)
        if log is not None:
            a.btf_log_buf = _addr(log)
            a.btf_log_size = size
            a.btf_log_level = level
        result = _sys_bpf(BPF_BTF_LOAD, attr)
        if result >= 0:
            return result
        number = -result
        if level == 0:
            level = 1        # try again, for the log
            continue
        if number == _errno.ENOSPC and size < MAX_LOG_SIZE:
            size = min(size * 4, MAX_LOG_SIZE)
            continue
        raise SyscallError("BPF_BTF_LOAD", number, what, _decode_log(log) if log else "")


# -------------------------------------------------------------------- maps


def map_create(name: str, map_type: int, key_size: int, value_size: int, max_entries: int,
               flags: int = 0, btf_fd: int = 0, btf_key_type_id: int = 0,
               btf_value_type_id: int = 0, map_extra: int = 0, *,
               inner_map_fd: int = 0, what: Optional[str] = None) -> int:
    """BPF_MAP_CREATE; returns the new map's fd."""
    attr = BpfAttr()
    a = attr.map_create
    a.map_type = map_type
    a.key_size = key_size
    a.value_size = value_size
    a.max_entries = max_entries
    a.map_flags = flags
    a.inner_map_fd = inner_map_fd
    a.map_name = object_name(name)
    a.btf_fd = btf_fd
    a.btf_key_type_id = btf_key_type_id
    a.btf_value_type_id = btf_value_type_id
    a.map_extra = map_extra
    return _call(BPF_MAP_CREATE, "BPF_MAP_CREATE", attr, what or f"map '{name}'")


def map_lookup_elem(fd: int, key: bytes, value_size: int, flags: int = 0, *,
                    what: str = "map") -> Optional[bytes]:
    """The value stored under ``key``, or None if there is none.

    ``value_size`` is the size of the whole value the kernel writes: for
    per-CPU maps, round_up(value_size, 8) times the number of possible CPUs.
    """
    k = _buffer(key)
    value = ctypes.create_string_buffer(max(value_size, 1))
    attr = BpfAttr()
    a = attr.map_elem
    a.map_fd = fd
    a.key = _addr(k)
    a.value = _addr(value)
    a.flags = flags
    result = _sys_bpf(BPF_MAP_LOOKUP_ELEM, attr)
    if result == -_errno.ENOENT:
        return None
    if result < 0:
        raise SyscallError("BPF_MAP_LOOKUP_ELEM", -result, what)
    return value.raw[:value_size]


def map_update_elem(fd: int, key: bytes, value: bytes, flags: int = BPF_ANY, *,
                    what: str = "map") -> None:
    """Store ``value`` under ``key`` (``flags``: BPF_ANY, BPF_NOEXIST, BPF_EXIST).

    ``key`` and ``value`` must be exactly the map's key and value sizes."""
    k = _buffer(key)
    v = _buffer(value)
    attr = BpfAttr()
    a = attr.map_elem
    a.map_fd = fd
    a.key = _addr(k)
    a.value = _addr(v)
    a.flags = flags
    _call(BPF_MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM", attr, what)


def map_delete_elem(fd: int, key: bytes, *, what: str = "map") -> bool:
    """Delete ``key``; False if it was not there."""
    k = _buffer(key)
    attr = BpfAttr()
    attr.map_elem.map_fd = fd
    attr.map_elem.key = _addr(k)
    result = _sys_bpf(BPF_MAP_DELETE_ELEM, attr)
    if result == -_errno.ENOENT:
        return False
    if result < 0:
        raise SyscallError("BPF_MAP_DELETE_ELEM", -result, what)
    return True


def map_get_next_key(fd: int, key: Optional[bytes], key_size: int, *,
                     what: str = "map") -> Optional[bytes]:
    """The key after ``key`` (the first key when ``key`` is None or not in
    the map), or None after the last one."""
    k = None if key is None else _buffer(key)
    next_key = ctypes.create_string_buffer(max(key_size, 1))
    attr = BpfAttr()
    a = attr.map_elem
    a.map_fd = fd
    a.key = _addr(k)
    a.value = _addr(next_key)     # next_key shares value's slot
    result = _sys_bpf(BPF_MAP_GET_NEXT_KEY, attr)
    if result == -_errno.ENOENT:
        return None
    if result < 0:
        raise SyscallError("BPF_MAP_GET_NEXT_KEY", -result, what)
    return next_key.raw[:key_size]


def map_freeze(fd: int, *, what: str = "map") -> None:
    """Make the map read-only for user space (programs may still write
    unless it was created with BPF_F_RDONLY_PROG)."""
    attr = BpfAttr()
    attr.map_elem.map_fd = fd
    _call(BPF_MAP_FREEZE, "BPF_MAP_FREEZE", attr, what)


# ---------------------------------------------------------------- programs


class ProgLoadResult(NamedTuple):
    fd: int
    log: str     # the verifier's log of the successful load ("" with log_level 0)


def prog_load(prog_type: int, insns: bytes, license: str, name: str,
              expected_attach_type: int = 0, prog_btf_fd: int = 0,
              func_info: bytes = b"", func_info_rec_size: int = 8,
              line_info: bytes = b"", line_info_rec_size: int = 16,
              log_level: int = LOG_LEVEL_BASIC, log_size: int = DEFAULT_LOG_SIZE, *,
              prog_flags: int = 0, kern_version: int = 0,
              attach_btf_id: int = 0, attach_btf_obj_fd: int = 0,
              core_relos: bytes = b"", core_relo_rec_size: int = 16,
              what: Optional[str] = None) -> ProgLoadResult:
    """BPF_PROG_LOAD; returns ``(fd, verifier log)``.

    ``insns`` is the program's raw 8-byte instructions.  The verifier log is
    always captured: the buffer grows when the kernel says it was too small
    (ENOSPC), and a load with ``log_level`` 0 that fails is retried with
    log level 1.  Any failure raises :class:`VerifierError` with the whole
    log.  ``attach_btf_id`` names the kernel function or tracepoint a
    tracing program is for (in vmlinux's BTF, or ``attach_btf_obj_fd``'s);
    ``core_relos`` are CO-RE records (``insn_off`` in bytes) the kernel
    applies, which it does only when func or line info comes along.
    """
    what = what or f"program '{name}'"
    if len(insns) % INSN_SIZE:
        raise BpfError(f"{what}: the instructions are {len(insns)} bytes, "
                       f"not a multiple of {INSN_SIZE}")
    if func_info and len(func_info) % func_info_rec_size:
        raise BpfError(f"{what}: func_info is {len(func_info)} bytes, "
                       f"not a multiple of its record size {func_info_rec_size}")
    if line_info and len(line_info) % line_info_rec_size:
        raise BpfError(f"{what}: line_info is {len(line_info)} bytes, "
                       f"not a multiple of its record size {line_info_rec_size}")
    code = _buffer(insns)
    license_buffer = ctypes.create_string_buffer(license.encode("ascii"))
    func = _buffer(func_info) if func_info else None
    lines = _buffer(line_info) if line_info else None
    relos = _buffer(core_relos) if core_relos else None
    level = log_level
    size = log_size
    again = 5          # EAGAIN retries, as libbpf does
    while True:
        log = ctypes.create_string_buffer(size) if level else None
        attr = BpfAttr()
        a = attr.prog_load
        a.prog_type = prog_type
        a.insn_cnt = len(insns) // INSN_SIZE
        a.insns = _addr(code)
        a.license = _addr(license_buffer)
        a.kern_version = kern_version
        a.prog_flags = prog_flags
        a.prog_name = object_name(name)
        a.expected_attach_type = expected_attach_type
        a.prog_btf_fd = prog_btf_fd
        if func is not None:
            a.func_info_rec_size = func_info_rec_size
            a.func_info = _addr(func)
            a.func_info_cnt = len(func_info) // func_info_rec_size
        if lines is not None:
            a.line_info_rec_size = line_info_rec_size
            a.line_info = _addr(lines)
            a.line_info_cnt = len(line_info) // line_info_rec_size
        a.attach_btf_id = attach_btf_id
        a.attach_prog_fd = attach_btf_obj_fd      # the same slot
        if relos is not None:
            a.core_relo_rec_size = core_relo_rec_size
            a.core_relos = _addr(relos)
            a.core_relo_cnt = len(core_relos) // core_relo_rec_size
        if log is not None:
            a.log_level = level
            a.log_size = size
            a.log_buf = _addr(log)
        result = _sys_bpf(BPF_PROG_LOAD, attr)
        if result >= 0:
            return ProgLoadResult(result, _decode_log(log) if log is not None else "")
        number = -result
        if number == _errno.EAGAIN and again:
            again -= 1
            continue
        if level == 0:
            level = LOG_LEVEL_BASIC
            continue
        if number == _errno.ENOSPC and size < MAX_LOG_SIZE:
            size = min(size * 4, MAX_LOG_SIZE)
            continue
        raise VerifierError("BPF_PROG_LOAD", number, what,
                            _decode_log(log) if log is not None else "")


class ProgRunResult(NamedTuple):
    retval: int
    data_out: bytes
    duration_ns: int    # the kernel's average over the repeats
    ctx_out: bytes = b""   # the context after the run, when one was passed in


def prog_test_run(prog_fd: int, data_in: bytes, repeat: int = 1,
                  ctx_in: Optional[bytes] = None, data_size_out: Optional[int] = None, *,
                  flags: int = 0, what: str = "program") -> ProgRunResult:
    """BPF_PROG_TEST_RUN: run the program ``repeat`` times on ``data_in``
    (and ``ctx_in``, whose state after the run comes back as ``ctx_out``).

    ``data_size_out`` defaults to the input size plus 512 bytes; if the
    kernel has more to return the run is repeated with its size.  Socket
    filters, tc and XDP programs need at least 14 bytes (an Ethernet header)
    of data.
    """
    size = len(data_in) + 512 if data_size_out is None else data_size_out
    data = _buffer(data_in)
    ctx = None if ctx_in is None else _buffer(ctx_in)
    ctx_size = 0 if ctx_in is None else len(ctx_in)
    retried = False
    while True:
        out = ctypes.create_string_buffer(max(size, 1))
        ctx_out = ctypes.create_string_buffer(max(ctx_size, 1))
        attr = BpfAttr()
        t = attr.test
        t.prog_fd = prog_fd
        t.data_in = _addr(data)
        t.data_size_in = len(data_in)
        t.data_out = _addr(out) if size else 0
        t.data_size_out = size
        t.repeat = repeat
        t.flags = flags
        if ctx is not None and ctx_size:
            t.ctx_in = _addr(ctx)
            t.ctx_size_in = ctx_size
            t.ctx_out = _addr(ctx_out)
            t.ctx_size_out = ctx_size
        result = _sys_bpf(BPF_PROG_TEST_RUN, attr)
        if result == -_errno.ENOSPC and not retried and (
                t.data_size_out > size or t.ctx_size_out > ctx_size):
            size = max(size, t.data_size_out)
            ctx_size = max(ctx_size, t.ctx_size_out)
            retried = True
            continue
        if result < 0:
            raise SyscallError("BPF_PROG_TEST_RUN", -result, what)
        length = min(t.data_size_out, size)
        ctx_length = min(t.ctx_size_out, ctx_size) if ctx is not None else 0
        return ProgRunResult(t.retval, out.raw[:length], t.duration, ctx_out.raw[:ctx_length])


# ------------------------------------------------------------ attachments


def prog_attach(target_fd: int, prog_fd: int, attach_type: int, flags: int = 0, *,
                replace_prog_fd: int = 0, what: str = "program") -> None:
    """BPF_PROG_ATTACH (e.g. a cgroup program to a cgroup directory fd)."""
    attr = BpfAttr()
    a = attr.prog_attach
    a.target_fd = target_fd
    a.attach_bpf_fd = prog_fd
    a.attach_type = attach_type
    a.attach_flags = flags
    a.replace_bpf_fd = replace_prog_fd
    _call(BPF_PROG_ATTACH, "BPF_PROG_ATTACH", attr, what)


def prog_detach(target_fd: int, prog_fd: int, attach_type: int, *,
                what: str = "program") -> None:
    """BPF_PROG_DETACH: detach ``prog_fd``'s program from the target."""
    attr = BpfAttr()
    a = attr.prog_attach
    a.target_fd = target_fd
    a.attach_bpf_fd = prog_fd
    a.attach_type = attach_type
    _call(BPF_PROG_DETACH, "BPF_PROG_DETACH", attr, what)


class QueryResult(NamedTuple):
    attach_flags: int
    prog_ids: list[int]


def prog_query(target_fd: int, attach_type: int, query_flags: int = 0, *,
               what: str = "cgroup") -> QueryResult:
    """BPF_PROG_QUERY: the ids of the programs attached to the target for
    ``attach_type`` (with BPF_F_QUERY_EFFECTIVE: those that run there)."""
    count = 64
    while True:
        ids = (u32 * count)()
        attr = BpfAttr()
        q = attr.query
        q.target_fd = target_fd
        q.attach_type = attach_type
        q.query_flags = query_flags
        q.prog_ids = ctypes.addressof(ids)
        q.prog_cnt = count
        result = _sys_bpf(BPF_PROG_QUERY, attr)
        if result == -_errno.ENOSPC and q.prog_cnt > count:
            count = q.prog_cnt
            continue
        if result < 0:
            raise SyscallError("BPF_PROG_QUERY", -result, what)
        return QueryResult(q.attach_flags, list(ids[:q.prog_cnt]))


def link_create(prog_fd: int, target_fd: int, attach_type: int, flags: int = 0, *,
                what: str = "link") -> int:
    """BPF_LINK_CREATE; returns the link's fd.  The attachment lasts while
    the link fd (or a pin of it) exists."""
    attr = BpfAttr()
    a = attr.link_create
    a.prog_fd = prog_fd
    a.target_fd = target_fd
    a.attach_type = attach_type
    a.flags = flags
    return _call(BPF_LINK_CREATE, "BPF_LINK_CREATE", attr, what)


def link_update(link_fd: int, new_prog_fd: int, old_prog_fd: Optional[int] = None, *,
                what: str = "link") -> None:
    """BPF_LINK_UPDATE: the link runs ``new_prog_fd``'s program from now on;
    with ``old_prog_fd``, only if that is the program it runs now."""
    attr = BpfAttr()
    a = attr.link_update
    a.link_fd = link_fd
    a.new_prog_fd = new_prog_fd
    if old_prog_fd is not None:
        a.flags = BPF_F_REPLACE
        a.old_prog_fd = old_prog_fd
    _call(BPF_LINK_UPDATE, "BPF_LINK_UPDATE", attr, what)


def link_detach(link_fd: int, *, what: str = "link") -> None:
    """BPF_LINK_DETACH: detach now; the fd stays open (and must be closed)."""
    attr = BpfAttr()
    attr.link_detach.link_fd = link_fd
    _call(BPF_LINK_DETACH, "BPF_LINK_DETACH", attr, what)


# ----------------------------------------------------------------- pinning


def obj_pin(fd: int, path: StrPath, *, what: Optional[str] = None) -> None:
    """Pin a map, program or link at ``path`` (inside a mounted bpffs)."""
    name = os.fsencode(path)
    buffer = ctypes.create_string_buffer(name)
    attr = BpfAttr()
    attr.obj.pathname = _addr(buffer)
    attr.obj.bpf_fd = fd
    _call(BPF_OBJ_PIN, "BPF_OBJ_PIN", attr,
          what or f"pin '{os.fsdecode(name)}'")


def obj_get(path: StrPath, file_flags: int = 0, *, what: Optional[str] = None) -> int:
    """A new fd for the object pinned at ``path`` (``file_flags``:
    BPF_F_RDONLY / BPF_F_WRONLY or 0)."""
    name = os.fsencode(path)
    buffer = ctypes.create_string_buffer(name)
    attr = BpfAttr()
    attr.obj.pathname = _addr(buffer)
    attr.obj.file_flags = file_flags
    return _call(BPF_OBJ_GET, "BPF_OBJ_GET", attr,
                 what or f"pinned object '{os.fsdecode(name)}'")


# -------------------------------------------------------------- object info


def _get_info(fd: int, info: ctypes.Structure, what: str) -> None:
    attr = BpfAttr()
    attr.info.bpf_fd = fd
    attr.info.info_len = ctypes.sizeof(info)
    attr.info.info = ctypes.addressof(info)
    _call(BPF_OBJ_GET_INFO_BY_FD, "BPF_OBJ_GET_INFO_BY_FD", attr, what)


def obj_get_info_by_fd(fd: int, kind: InfoKind, *, what: Optional[str] = None
                       ) -> Union[ProgInfo, MapInfo, LinkInfo, BtfInfo]:
    """BPF_OBJ_GET_INFO_BY_FD for a ``"prog"``, ``"map"``, ``"link"`` or
    ``"btf"`` fd, parsed into a dataclass."""
    what = what or kind_label(kind)
    if kind == "prog":
        p = BpfProgInfo()
        _get_info(fd, p, what)
        return ProgInfo(
            type=p.type, id=p.id, tag=bytes(p.tag).hex(), name=p.name.decode(errors="replace"),
            jited_prog_len=p.jited_prog_len, xlated_prog_len=p.xlated_prog_len,
            load_time=p.load_time, created_by_uid=p.created_by_uid, nr_map_ids=p.nr_map_ids,
            ifindex=p.ifindex, gpl_compatible=bool(p.gpl_compatible), btf_id=p.btf_id,
            nr_func_info=p.nr_func_info, nr_line_info=p.nr_line_info,
            run_time_ns=p.run_time_ns, run_cnt=p.run_cnt, recursion_misses=p.recursion_misses,
            verified_insns=p.verified_insns, attach_btf_obj_id=p.attach_btf_obj_id,
            attach_btf_id=p.attach_btf_id)
    if kind == "map":
        m = BpfMapInfo()
        _get_info(fd, m, what)
        return MapInfo(
            type=m.type, id=m.id, key_size=m.key_size, value_size=m.value_size,
            max_entries=m.max_entries, map_flags=m.map_flags,
            name=m.name.decode(errors="replace"), ifindex=m.ifindex,
            btf_vmlinux_value_type_id=m.btf_vmlinux_value_type_id, btf_id=m.btf_id,
            btf_key_type_id=m.btf_key_type_id, btf_value_type_id=m.btf_value_type_id,
            map_extra=m.map_extra)
    if kind == "link":
        link = BpfLinkInfo()
        _get_info(fd, link, what)
        if link.type == BPF_LINK_TYPE_CGROUP:
            return LinkInfo(type=link.type, id=link.id, prog_id=link.prog_id,
                            cgroup_id=link.cgroup.cgroup_id,
                            attach_type=link.cgroup.attach_type)
        return LinkInfo(type=link.type, id=link.id, prog_id=link.prog_id)
    if kind == "btf":
        b = BpfBtfInfo()
        _get_info(fd, b, what)
        return BtfInfo(id=b.id, btf_size=b.btf_size, kernel_btf=bool(b.kernel_btf))
    raise ValueError(f"unknown BPF object kind {kind!r} (prog, map, link or btf)")


def kind_label(kind: InfoKind) -> str:
    return {"prog": "program", "map": "map", "link": "link", "btf": "BTF"}.get(kind, kind)


def prog_xlated_insns(fd: int, *, what: str = "program") -> bytes:
    """The program's instructions as the kernel rewrote them (xlated), raw
    8-byte instructions; empty if the kernel withholds them
    (kernel.kptr_restrict without CAP_SYSLOG)."""
    first = BpfProgInfo()
    _get_info(fd, first, what)
    length = first.xlated_prog_len
    if not length:
        return b""
    buffer = ctypes.create_string_buffer(length)
    second = BpfProgInfo()       # fresh: no other array field may be requested
    second.xlated_prog_len = length
    second.xlated_prog_insns = ctypes.addressof(buffer)
    _get_info(fd, second, what)
    return buffer.raw[:min(length, second.xlated_prog_len)]


def prog_get_fd_by_id(prog_id: int, *, what: str = "program") -> int:
    """An fd for the loaded program ``prog_id``."""
    attr = BpfAttr()
    attr.get_id.btf_id = prog_id      # start_id / prog_id / btf_id share one slot
    return _call(BPF_PROG_GET_FD_BY_ID, "BPF_PROG_GET_FD_BY_ID", attr, what)


def btf_get_fd_by_id(btf_id: int, *, what: str = "BTF") -> int:
    """An fd for the kernel's BTF object ``btf_id`` (a loaded program's or
    map's types)."""
    attr = BpfAttr()
    attr.get_id.btf_id = btf_id
    return _call(BPF_BTF_GET_FD_BY_ID, "BPF_BTF_GET_FD_BY_ID", attr, what)


def btf_data(fd: int, *, what: str = "BTF") -> bytes:
    """The raw BTF (header, types, strings) of a BTF fd."""
    first = BpfBtfInfo()
    _get_info(fd, first, what)
    buffer = ctypes.create_string_buffer(first.btf_size)
    second = BpfBtfInfo()
    second.btf = ctypes.addressof(buffer)
    second.btf_size = first.btf_size
    _get_info(fd, second, what)
    return buffer.raw[:second.btf_size]


def prog_map_ids(fd: int, *, what: str = "program") -> list[int]:
    """The ids of the maps the program uses."""
    first = BpfProgInfo()
    _get_info(fd, first, what)
    count = first.nr_map_ids
    if not count:
        return []
    ids = (u32 * count)()
    second = BpfProgInfo()
    second.nr_map_ids = count
    second.map_ids = ctypes.addressof(ids)
    _get_info(fd, second, what)
    return list(ids[:min(count, second.nr_map_ids)])
