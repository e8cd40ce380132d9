"""The names a pybpfc program imports, as real Python objects.

A pybpfc program is an ordinary, importable Python module: these objects let
it import, let editors complete it and let type checkers check it.  The
compiler never runs them; it reads the program's source.  Every fact about a
hook comes from the tables in ``pybpfc.abi``, and a test holds these stubs to
them: decorators, context fields, helpers' and map methods' parameter names.
"""
from __future__ import annotations

from typing import Annotated, Callable, Final, Generic, Optional, TypeVar

from .abi import hooks as _hooks, kernel as _kernel
# Fixed-width integer types (int to Python) and @struct, exported from here.
from .lang_base import i8 as i8, i16 as i16, i32 as i32, i64 as i64, struct as struct
from .lang_base import u8 as u8, u16 as u16, u32 as u32, u64 as u64
from .lang_base import _map_only_in_a_hook

T = TypeVar("T")
H = TypeVar("H")     # a packet header type
# A global that the program only reads and user space may set before the
# object is loaded (`.rodata`): `limit: ReadOnly[u32] = 1`.
ReadOnly = Annotated[T, "pybpfc.ReadOnly"]

# ----------------------------------------------------------- return values


def _return_value(name: str) -> int:
    for hook in _hooks.HOOKS:
        for value_name, value in hook.returns.values:
            if value_name == name:
                return value
    raise KeyError(name)


ALLOW: Final[int] = _return_value("ALLOW")
REJECT: Final[int] = _return_value("REJECT")
DROP: Final[int] = _return_value("DROP")
KEEP_ALL: Final[int] = _return_value("KEEP_ALL")
PAGE_SIZE: Final[int] = _kernel.PAGE_SIZE
BPF_ANY: Final[int] = _kernel.BPF_ANY
BPF_NOEXIST: Final[int] = _kernel.BPF_NOEXIST
BPF_EXIST: Final[int] = _kernel.BPF_EXIST
# What packet programs return, and their helpers' flags (issue 15).
XDP_ABORTED: Final[int] = _kernel.XDP_ABORTED
XDP_DROP: Final[int] = _kernel.XDP_DROP
XDP_PASS: Final[int] = _kernel.XDP_PASS
XDP_TX: Final[int] = _kernel.XDP_TX
XDP_REDIRECT: Final[int] = _kernel.XDP_REDIRECT
TC_ACT_UNSPEC: Final[int] = _kernel.TC_ACT_UNSPEC
TC_ACT_OK: Final[int] = _kernel.TC_ACT_OK
TC_ACT_RECLASSIFY: Final[int] = _kernel.TC_ACT_RECLASSIFY
TC_ACT_SHOT: Final[int] = _kernel.TC_ACT_SHOT
TC_ACT_PIPE: Final[int] = _kernel.TC_ACT_PIPE
TC_ACT_STOLEN: Final[int] = _kernel.TC_ACT_STOLEN
TC_ACT_QUEUED: Final[int] = _kernel.TC_ACT_QUEUED
TC_ACT_REPEAT: Final[int] = _kernel.TC_ACT_REPEAT
TC_ACT_REDIRECT: Final[int] = _kernel.TC_ACT_REDIRECT
BPF_F_PSEUDO_HDR: Final[int] = _kernel.BPF_F_PSEUDO_HDR
BPF_F_MARK_MANGLED_0: Final[int] = _kernel.BPF_F_MARK_MANGLED_0
BPF_F_RECOMPUTE_CSUM: Final[int] = _kernel.BPF_F_RECOMPUTE_CSUM
BPF_F_INVALIDATE_HASH: Final[int] = _kernel.BPF_F_INVALIDATE_HASH
BPF_F_INGRESS: Final[int] = _kernel.BPF_F_INGRESS

# ------------------------------------------------------------ decorators

F = TypeVar("F", bound=Callable[..., object])


def _hook_decorator(name: str) -> Callable[[F], F]:
    hook = _hooks.hook_named(name)

    def mark(fn: F) -> F:
        setattr(fn, "__pybpfc_hook__", hook.section)
        return fn

    mark.__name__ = name
    mark.__doc__ = f"Compile the function as a `{hook.section}` program: {hook.summary}."
    return mark


cgroup_getsockopt = _hook_decorator("cgroup_getsockopt")
cgroup_setsockopt = _hook_decorator("cgroup_setsockopt")
cgroup_sysctl = _hook_decorator("cgroup_sysctl")
cgroup_sock_create = _hook_decorator("cgroup_sock_create")
cgroup_sock_release = _hook_decorator("cgroup_sock_release")
cgroup_post_bind4 = _hook_decorator("cgroup_post_bind4")
cgroup_post_bind6 = _hook_decorator("cgroup_post_bind6")
socket_filter = _hook_decorator("socket_filter")
# sock_addr hooks
ALLOW_PRIVILEGED_PORT: Final[int] = _return_value("ALLOW_PRIVILEGED_PORT")
cgroup_bind4 = _hook_decorator("cgroup_bind4")
cgroup_bind6 = _hook_decorator("cgroup_bind6")
cgroup_connect4 = _hook_decorator("cgroup_connect4")
cgroup_connect6 = _hook_decorator("cgroup_connect6")
cgroup_connect_unix = _hook_decorator("cgroup_connect_unix")
cgroup_sendmsg4 = _hook_decorator("cgroup_sendmsg4")
cgroup_sendmsg6 = _hook_decorator("cgroup_sendmsg6")
cgroup_sendmsg_unix = _hook_decorator("cgroup_sendmsg_unix")
cgroup_recvmsg4 = _hook_decorator("cgroup_recvmsg4")
cgroup_recvmsg6 = _hook_decorator("cgroup_recvmsg6")
cgroup_recvmsg_unix = _hook_decorator("cgroup_recvmsg_unix")
cgroup_getpeername4 = _hook_decorator("cgroup_getpeername4")
cgroup_getpeername6 = _hook_decorator("cgroup_getpeername6")
cgroup_getpeername_unix = _hook_decorator("cgroup_getpeername_unix")
cgroup_getsockname4 = _hook_decorator("cgroup_getsockname4")
cgroup_getsockname6 = _hook_decorator("cgroup_getsockname6")
cgroup_getsockname_unix = _hook_decorator("cgroup_getsockname_unix")
# packet programs (issue 15)
xdp = _hook_decorator("xdp")
tc = _hook_decorator("tc")
cgroup_skb_ingress = _hook_decorator("cgroup_skb_ingress")
cgroup_skb_egress = _hook_decorator("cgroup_skb_egress")
# device and TCP-event cgroup hooks (issue 14 part B)
cgroup_device = _hook_decorator("cgroup_device")
sock_ops = _hook_decorator("sock_ops")

# -- tracing: decorators that name what they attach to, and perf_event
perf_event = _hook_decorator("perf_event")


def _targeted(name: str, *args: str) -> Callable[[F], F]:
    hook = _hooks.hook_named(name)
    section = f"{hook.section}/{hook.target.format(**dict(zip(hook.target_params, args)))}"

    def mark(fn: F) -> F:
        setattr(fn, "__pybpfc_hook__", section)
        return fn
    return mark


def tracepoint(category: str, name: str, /) -> Callable[[F], F]:
    """Compile the function as a `tracepoint/CATEGORY/NAME` program: runs each
    time the kernel reaches that tracepoint; ``ctx`` has the event's fields."""
    return _targeted("tracepoint", category, name)


def raw_tracepoint(name: str, /) -> Callable[[F], F]:
    """Compile the function as a `raw_tracepoint/NAME` program: the
    tracepoint's own arguments, ``ctx.args[i]``."""
    return _targeted("raw_tracepoint", name)


def btf_tracepoint(name: str, /) -> Callable[[F], F]:
    """Compile the function as a `tp_btf/NAME` program: the tracepoint's
    arguments, typed by the kernel's BTF."""
    return _targeted("btf_tracepoint", name)


def uprobe(binary: str, function: str, /) -> Callable[[F], F]:
    """Compile the function as a `uprobe/BINARY:FUNCTION` program: runs when
    a process enters the function; ``ctx.arg1`` .. ``ctx.arg6``."""
    return _targeted("uprobe", binary, function)


def uretprobe(binary: str, function: str, /) -> Callable[[F], F]:
    """Compile the function as a `uretprobe/BINARY:FUNCTION` program: runs
    when the function returns; ``ctx.ret``."""
    return _targeted("uretprobe", binary, function)


# -------------------------------------------------------------- contexts
# What each hook's function receives.  The attributes mirror the table in
# pybpfc.abi.contexts (a test keeps them equal); which of them a hook may read or
# write is checked by the compiler.


class OptvalWindow:
    """The option value of a sockopt hook: a byte buffer the kernel owns.

    Every access is bounds-checked by the generated code: reading past the
    end gives 0 and writing past the end does nothing.
    """

    def __len__(self) -> int:
        raise _only_in_a_hook()

    def __getitem__(self, index: int) -> int:
        raise _only_in_a_hook()

    def __setitem__(self, index: int, value: int) -> None:
        raise _only_in_a_hook()

    def u16(self, offset: int) -> int:
        raise _only_in_a_hook()

    def u32(self, offset: int) -> int:
        raise _only_in_a_hook()

    def u64(self, offset: int) -> int:
        raise _only_in_a_hook()

    def set_u16(self, offset: int, value: int) -> None:
        raise _only_in_a_hook()

    def set_u32(self, offset: int, value: int) -> None:
        raise _only_in_a_hook()

    def set_u64(self, offset: int, value: int) -> None:
        raise _only_in_a_hook()


def _only_in_a_hook() -> RuntimeError:
    return RuntimeError("this exists only while a compiled hook runs in the kernel")


class SockContext:
    """struct bpf_sock: the socket of a cgroup sock hook."""
    bound_dev_if: u32
    family: u32
    type: u32
    protocol: u32
    mark: u32
    priority: u32
    src_ip4: u32
    src_ip6: list[u32]
    src_port: u32
    dst_port: u16
    dst_ip4: u32
    dst_ip6: list[u32]
    state: u32
    rx_queue_mapping: i32


class SockoptContext:
    """struct bpf_sockopt: a getsockopt(2) or setsockopt(2) call."""
    sk: SockContext
    optval: OptvalWindow
    optval_end: int
    level: i32
    optname: i32
    optlen: i32
    retval: i32


class SysctlContext:
    """struct bpf_sysctl: a read or write of a file under /proc/sys."""
    write: u32
    file_pos: u32


class SkBuff:
    """struct __sk_buff: a packet as a socket filter sees it.

    ``load_u8/u16/u32(offset)`` read packet bytes at an offset (big-endian,
    as on the wire; the value comes back in host order).  Reading past the
    end of the packet ends the program and drops the packet."""
    len: u32
    pkt_type: u32
    mark: u32
    queue_mapping: u32
    protocol: u32
    vlan_present: u32
    vlan_tci: u32
    vlan_proto: u32
    priority: u32
    ingress_ifindex: u32
    ifindex: u32
    tc_index: u32
    cb: list[u32]
    hash: u32
    tc_classid: u32
    data: int
    data_end: int
    napi_id: u32
    data_meta: int
    gso_segs: u32
    gso_size: u32

    def load_u8(self, offset: int) -> int:
        raise _only_in_a_hook()

    def load_u16(self, offset: int) -> int:
        raise _only_in_a_hook()

    def load_u32(self, offset: int) -> int:
        raise _only_in_a_hook()

    def header(self, kind: type[H], offset: int) -> Optional[H]:
        """tc and cgroup_skb: the header ``kind`` at ``offset`` bytes into
        the packet, or None when the packet is too short for it."""
        raise _only_in_a_hook()


class XdpContext:
    """struct xdp_md: a packet as an XDP program sees it."""
    data: int
    data_end: int
    data_meta: int
    ingress_ifindex: u32
    rx_queue_index: u32
    egress_ifindex: u32

    def header(self, kind: type[H], offset: int) -> Optional[H]:
        """The header ``kind`` at ``offset`` bytes into the packet, or None
        when the packet is too short for it."""
        raise _only_in_a_hook()


class SockAddrContext:
    """struct bpf_sock_addr: the address of a bind, connect, sendmsg,
    recvmsg, getpeername or getsockname call (network byte order)."""
    user_family: u32
    user_ip4: u32
    user_ip6: list[u32]
    user_port: u32
    family: u32
    type: u32
    protocol: u32
    msg_src_ip4: u32
    msg_src_ip6: list[u32]
    sk: SockContext


# -- tracing contexts


class TracepointContext:
    """A tracepoint's event: its fields are the kernel's (the format file
    under /sys/kernel/tracing/events/CATEGORY/NAME), checked when the
    program is compiled.  ``pybpfc stubs`` writes a class per tracepoint for
    type checkers."""

    def __getattr__(self, name: str) -> int:
        raise _only_in_a_hook()


class RawTracepointArgs:
    """The arguments of a raw (or BTF-typed) tracepoint, as in its TP_PROTO."""
    args: list[u64]


class UprobeContext:
    """struct pt_regs of a uprobe: the registers at the function's entry or
    return, named by what they hold."""
    arg6: u64
    arg5: u64
    ret: u64
    arg4: u64
    arg3: u64
    arg2: u64
    arg1: u64
    ip: u64
    sp: u64


class PerfEventContext:
    """struct bpf_perf_event_data: a perf event's sample."""
    ip: u64
    sp: u64
    sample_period: u64
    addr: u64
# ---- device and TCP-event cgroup hooks (issue 14 part B)


class DeviceContext:
    """struct bpf_cgroup_dev_ctx: a task opening a device node, or creating
    one with mknod(2).  ``device_type`` and ``access`` are the two halves of
    ``access_type``; compare them with the BPF_DEVCG_* constants."""
    access_type: u32
    device_type: u16
    access: u16
    major: u32
    minor: u32


BPF_DEVCG_ACC_MKNOD: Final[int] = _kernel.BPF_DEVCG_ACC_MKNOD
BPF_DEVCG_ACC_READ: Final[int] = _kernel.BPF_DEVCG_ACC_READ
BPF_DEVCG_ACC_WRITE: Final[int] = _kernel.BPF_DEVCG_ACC_WRITE
BPF_DEVCG_DEV_BLOCK: Final[int] = _kernel.BPF_DEVCG_DEV_BLOCK
BPF_DEVCG_DEV_CHAR: Final[int] = _kernel.BPF_DEVCG_DEV_CHAR


class SockOpsContext:
    """struct bpf_sock_ops: a TCP event of a connection (``op`` says which).
    Helpers that take a socket take this context itself."""
    op: u32
    args: list[u32]
    reply: u32
    family: u32
    remote_ip4: u32
    local_ip4: u32
    remote_ip6: list[u32]
    local_ip6: list[u32]
    remote_port: u32
    local_port: u32
    is_fullsock: u32
    snd_cwnd: u32
    srtt_us: u32
    bpf_sock_ops_cb_flags: u32
    state: u32
    rtt_min: u32
    snd_ssthresh: u32
    rcv_nxt: u32
    snd_nxt: u32
    snd_una: u32
    mss_cache: u32
    ecn_flags: u32
    rate_delivered: u32
    rate_interval_us: u32
    packets_out: u32
    retrans_out: u32
    total_retrans: u32
    segs_in: u32
    data_segs_in: u32
    segs_out: u32
    data_segs_out: u32
    lost_out: u32
    sacked_out: u32
    sk_txhash: u32
    bytes_received: u64
    bytes_acked: u64
    skb_len: u32
    skb_tcp_flags: u32


BPF_SOCK_OPS_VOID: Final[int] = _kernel.BPF_SOCK_OPS_VOID
BPF_SOCK_OPS_TIMEOUT_INIT: Final[int] = _kernel.BPF_SOCK_OPS_TIMEOUT_INIT
BPF_SOCK_OPS_RWND_INIT: Final[int] = _kernel.BPF_SOCK_OPS_RWND_INIT
BPF_SOCK_OPS_TCP_CONNECT_CB: Final[int] = _kernel.BPF_SOCK_OPS_TCP_CONNECT_CB
BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB: Final[int] = _kernel.BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB
BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB: Final[int] = _kernel.BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB
BPF_SOCK_OPS_NEEDS_ECN: Final[int] = _kernel.BPF_SOCK_OPS_NEEDS_ECN
BPF_SOCK_OPS_BASE_RTT: Final[int] = _kernel.BPF_SOCK_OPS_BASE_RTT
BPF_SOCK_OPS_RTO_CB: Final[int] = _kernel.BPF_SOCK_OPS_RTO_CB
BPF_SOCK_OPS_RETRANS_CB: Final[int] = _kernel.BPF_SOCK_OPS_RETRANS_CB
BPF_SOCK_OPS_STATE_CB: Final[int] = _kernel.BPF_SOCK_OPS_STATE_CB
BPF_SOCK_OPS_TCP_LISTEN_CB: Final[int] = _kernel.BPF_SOCK_OPS_TCP_LISTEN_CB
BPF_SOCK_OPS_RTT_CB: Final[int] = _kernel.BPF_SOCK_OPS_RTT_CB
BPF_SOCK_OPS_PARSE_HDR_OPT_CB: Final[int] = _kernel.BPF_SOCK_OPS_PARSE_HDR_OPT_CB
BPF_SOCK_OPS_HDR_OPT_LEN_CB: Final[int] = _kernel.BPF_SOCK_OPS_HDR_OPT_LEN_CB
BPF_SOCK_OPS_WRITE_HDR_OPT_CB: Final[int] = _kernel.BPF_SOCK_OPS_WRITE_HDR_OPT_CB
BPF_SOCK_OPS_RTO_CB_FLAG: Final[int] = _kernel.BPF_SOCK_OPS_RTO_CB_FLAG
BPF_SOCK_OPS_RETRANS_CB_FLAG: Final[int] = _kernel.BPF_SOCK_OPS_RETRANS_CB_FLAG
BPF_SOCK_OPS_STATE_CB_FLAG: Final[int] = _kernel.BPF_SOCK_OPS_STATE_CB_FLAG
BPF_SOCK_OPS_RTT_CB_FLAG: Final[int] = _kernel.BPF_SOCK_OPS_RTT_CB_FLAG
BPF_SOCK_OPS_ALL_CB_FLAGS: Final[int] = _kernel.BPF_SOCK_OPS_ALL_CB_FLAGS
BPF_TCP_ESTABLISHED: Final[int] = _kernel.BPF_TCP_ESTABLISHED
BPF_TCP_CLOSE: Final[int] = _kernel.BPF_TCP_CLOSE
BPF_TCP_LISTEN: Final[int] = _kernel.BPF_TCP_LISTEN
SOL_SOCKET: Final[int] = _kernel.SOL_SOCKET
SOL_TCP: Final[int] = _kernel.SOL_TCP
TCP_CONGESTION: Final[int] = _kernel.TCP_CONGESTION
TCP_BPF_IW: Final[int] = _kernel.TCP_BPF_IW
TCP_BPF_SNDCWND_CLAMP: Final[int] = _kernel.TCP_BPF_SNDCWND_CLAMP
TCP_CA_NAME_MAX: Final[int] = _kernel.TCP_CA_NAME_MAX


# ------------------------------------------------------- byte order
# Python versions of the compiler's builtins, so a program still runs as Python.


def htons(x: int) -> int:
    return int.from_bytes((x & 0xFFFF).to_bytes(2, "big"), "little")


def ntohs(x: int) -> int:
    return htons(x)


def htonl(x: int) -> int:
    return int.from_bytes((x & 0xFFFFFFFF).to_bytes(4, "big"), "little")


def ntohl(x: int) -> int:
    return htonl(x)


# ------------------------------------------------------- kernel helpers
# Signatures for editors and type checkers; the compiler turns each call into
# a call of the kernel helper of the same name (see pybpfc.abi.helpers).  The
# compiler takes no keyword arguments for them, hence the positional-only `/`.


from .lang_helpers import (  # noqa: E402  (they take the contexts above)
    _helper_outside_a_hook as _helper_outside_a_hook,
    ktime_get_ns as ktime_get_ns,
    get_prandom_u32 as get_prandom_u32,
    get_current_pid_tgid as get_current_pid_tgid,
    get_current_uid_gid as get_current_uid_gid,
    get_current_cgroup_id as get_current_cgroup_id,
    get_socket_cookie as get_socket_cookie,
    get_netns_cookie as get_netns_cookie,
    sysctl_get_name as sysctl_get_name,
    sysctl_get_current_value as sysctl_get_current_value,
    sysctl_get_new_value as sysctl_get_new_value,
    sysctl_set_new_value as sysctl_set_new_value,
    get_retval as get_retval,
    set_retval as set_retval,
    get_current_comm as get_current_comm,
    skb_load_bytes as skb_load_bytes,
    get_socket_uid as get_socket_uid,
    setsockopt as setsockopt,
    getsockopt as getsockopt,
    bind as bind,
    get_smp_processor_id as get_smp_processor_id,
    get_current_task as get_current_task,
    get_current_task_btf as get_current_task_btf,
    ktime_get_boot_ns as ktime_get_boot_ns,
    probe_read_user as probe_read_user,
    probe_read_kernel as probe_read_kernel,
    probe_read_user_str as probe_read_user_str,
    probe_read_kernel_str as probe_read_kernel_str,
    sock_ops_cb_flags_set as sock_ops_cb_flags_set,
    skb_store_bytes as skb_store_bytes,
    l3_csum_replace as l3_csum_replace,
    l4_csum_replace as l4_csum_replace,
    redirect as redirect,
    skb_pull_data as skb_pull_data,
    xdp_adjust_head as xdp_adjust_head,
    xdp_adjust_tail as xdp_adjust_tail,
)


@struct
class ParsedInt:
    """What strtol() found: ``length`` characters read (or -errno), ``value``."""
    length: i64
    value: i64


@struct
class ParsedUint:
    """What strtoul() found: ``length`` characters read (or -errno), ``value``."""
    length: i64
    value: u64


def strtol(buf: bytearray, offset: int, base: int, /) -> ParsedInt:
    raise _helper_outside_a_hook("strtol")


def strtoul(buf: bytearray, offset: int, base: int, /) -> ParsedUint:
    raise _helper_outside_a_hook("strtoul")


# ------------------------------------------------------------------- maps
# Declared at module level with their key and value types, e.g.
#     counts: HashMap[u32, u64] = HashMap(max_entries=64)
# What each kind is in the kernel comes from pybpfc.abi.maps.

K = TypeVar("K")
V = TypeVar("V")


class Ref(Generic[V]):
    """A reference to a value stored in the kernel (in a map): reading and
    assigning ``ref.value`` (or its fields) reads and writes the map."""
    value: V


def atomic_add(target: int, amount: int) -> int:
    """Add to an integer in a map value or a global as one indivisible step
    (other CPUs may update it at the same time); the value before."""
    raise _helper_outside_a_hook("atomic_add")


class HashMap(Generic[K, V]):
    def __init__(self, max_entries: int, no_prealloc: bool = False) -> None:
        self.max_entries = max_entries

    def lookup(self, key: K) -> Optional[Ref[V]]:
        raise _map_only_in_a_hook(type(self).__name__)

    def update(self, key: K, value: V, flags: int = BPF_ANY) -> int:
        raise _map_only_in_a_hook(type(self).__name__)

    def delete(self, key: K) -> int:
        raise _map_only_in_a_hook(type(self).__name__)


class LruHashMap(HashMap[K, V]):
    def __init__(self, max_entries: int) -> None:
        super().__init__(max_entries)


class LpmTrie(HashMap[K, V]):
    """Longest-prefix match; K is a @struct of ``prefixlen: u32`` then the
    address (issue 15)."""
    def __init__(self, max_entries: int) -> None:
        super().__init__(max_entries)


class PerCpuHashMap(HashMap[K, V]):
    pass


class ArrayMap(Generic[V]):
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries

    def lookup(self, index: int) -> Optional[Ref[V]]:
        raise _map_only_in_a_hook(type(self).__name__)

    def update(self, index: int, value: V, flags: int = BPF_ANY) -> int:
        raise _map_only_in_a_hook(type(self).__name__)


class PerCpuArrayMap(ArrayMap[V]):
    pass


class SockStorage(Generic[V]):
    def __init__(self, clone: bool = False) -> None:
        self.clone = clone

    def get(self, sk: object, create: bool = False) -> Optional[Ref[V]]:
        raise _map_only_in_a_hook("SockStorage")

    def delete(self, sk: object) -> int:
        raise _map_only_in_a_hook("SockStorage")


class CgroupStorage(Generic[V]):
    def get(self) -> Ref[V]:
        raise _map_only_in_a_hook("CgroupStorage")


class Histogram:
    """A power-of-two histogram, as bpftrace's hist(): ``h.add(value)``
    counts the value in its bucket; ``pybpfc run`` prints it as bars."""

    def add(self, value: int) -> None:
        raise _map_only_in_a_hook("Histogram")


class RingBuf:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries

    def output(self, record: object, flags: int = 0) -> int:
        raise _map_only_in_a_hook("RingBuf")


# ---------------------------------------------------------------- packets
# The header structs and byte-order types of direct packet access.
from .lang_packets import *  # noqa: E402,F401,F403
from .lang_tracing import *  # noqa: E402,F401,F403
