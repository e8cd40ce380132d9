"""The kernel ABI of every hook pybpfc supports, as data, in one place.

Each hook is one row: decorator, ELF section name (as libbpf spells it),
program type, attach type, context layout, which context fields it may read
and write, the return convention, and the kernel helpers it may call.  The
compiler, the runtime, the tests and the docs read this table; nothing
restates it.  Offsets and numbers come from ``linux/bpf.h``; the rights are
what the kernel's verifier enforces (``*_is_valid_access`` in the kernel).

This module is plain data: it imports nothing from the compiler, so the
runtime may use it too.
"""
from __future__ import annotations

from typing import Optional

from .records import field, record

# enum bpf_prog_type
PROG_TYPES = {
    "BPF_PROG_TYPE_SOCKET_FILTER": 1,
    "BPF_PROG_TYPE_CGROUP_SOCK": 9,
    "BPF_PROG_TYPE_CGROUP_SYSCTL": 23,
    "BPF_PROG_TYPE_CGROUP_SOCKOPT": 25,
}

# enum bpf_attach_type
ATTACH_TYPES = {
    "BPF_CGROUP_INET_SOCK_CREATE": 2,
    "BPF_CGROUP_INET4_POST_BIND": 12,
    "BPF_CGROUP_INET6_POST_BIND": 13,
    "BPF_CGROUP_SYSCTL": 18,
    "BPF_CGROUP_GETSOCKOPT": 21,
    "BPF_CGROUP_SETSOCKOPT": 22,
    "BPF_CGROUP_INET_SOCK_RELEASE": 34,
}

# enum bpf_map_type
MAP_TYPES = {
    "BPF_MAP_TYPE_HASH": 1,
    "BPF_MAP_TYPE_ARRAY": 2,
    "BPF_MAP_TYPE_PERCPU_HASH": 5,
    "BPF_MAP_TYPE_PERCPU_ARRAY": 6,
    "BPF_MAP_TYPE_LRU_HASH": 9,
    "BPF_MAP_TYPE_CGROUP_STORAGE": 19,
    "BPF_MAP_TYPE_SK_STORAGE": 24,
    "BPF_MAP_TYPE_RINGBUF": 27,
}

# Map creation flags (map_flags) and helper flags.
BPF_F_NO_PREALLOC = 1 << 0
BPF_F_CLONE = 1 << 9
UPDATE_FLAGS = {"BPF_ANY": 0, "BPF_NOEXIST": 1, "BPF_EXIST": 2}
BPF_SK_STORAGE_GET_F_CREATE = 1


@record(frozen=True)
class MapKind:
    """A kind of map a program declares at module level, e.g.
    ``counts: HashMap[u32, u64] = HashMap(max_entries=64)``.

    ``key`` says what the program indexes it with: ``"declared"`` (the
    annotation's first type), ``"index"`` (a u32 index: arrays), ``"socket"``
    (socket storage), ``"cgroup"`` (the cgroup the program runs for) or
    ``"none"`` (ring buffer).  ``key_type`` is the integer type the kernel
    keys the map with when the program does not declare one.  ``methods`` maps each Python method to the
    kernel helper it calls.  ``map_flags`` are always set; ``options`` are
    the constructor's keyword arguments."""
    python_name: str
    map_type: str
    key: str
    has_value: bool
    per_cpu: bool
    methods: tuple[tuple[str, str], ...]
    options: tuple[str, ...]
    doc: str
    map_flags: int = 0
    fixed_max_entries: Optional[int] = None   # the kernel requires this value
    key_type: Optional[str] = None

    @property
    def map_type_id(self) -> int:
        return MAP_TYPES[self.map_type]

    def helper_for(self, method: str) -> Optional[str]:
        return dict(self.methods).get(method)


_ELEMENT_METHODS = (("lookup", "map_lookup_elem"), ("update", "map_update_elem"),
                    ("delete", "map_delete_elem"))

MAP_KINDS = {k.python_name: k for k in (
    MapKind("HashMap", "BPF_MAP_TYPE_HASH", "declared", True, False, _ELEMENT_METHODS,
            ("max_entries", "no_prealloc"), "a hash table of up to max_entries keys"),
    MapKind("LruHashMap", "BPF_MAP_TYPE_LRU_HASH", "declared", True, False, _ELEMENT_METHODS,
            ("max_entries",), "a hash table that evicts the least recently used key when full"),
    MapKind("PerCpuHashMap", "BPF_MAP_TYPE_PERCPU_HASH", "declared", True, True,
            _ELEMENT_METHODS, ("max_entries", "no_prealloc"),
            "a hash table with one value per CPU for each key"),
    MapKind("ArrayMap", "BPF_MAP_TYPE_ARRAY", "index", True, False,
            _ELEMENT_METHODS[:2], ("max_entries",),
            "max_entries values indexed 0 .. max_entries - 1, all present from the start",
            key_type="u32"),
    MapKind("PerCpuArrayMap", "BPF_MAP_TYPE_PERCPU_ARRAY", "index", True, True,
            _ELEMENT_METHODS[:2], ("max_entries",),
            "an array with one value per CPU for each index", key_type="u32"),
    MapKind("SockStorage", "BPF_MAP_TYPE_SK_STORAGE", "socket", True, False,
            (("get", "sk_storage_get"), ("delete", "sk_storage_delete")), ("clone",),
            "a value attached to each socket, freed with the socket "
            "(clone=True copies it to sockets accepted from a listener)",
            map_flags=BPF_F_NO_PREALLOC, fixed_max_entries=0, key_type="i32"),  # a socket fd
    MapKind("CgroupStorage", "BPF_MAP_TYPE_CGROUP_STORAGE", "cgroup", True, False,
            (("get", "get_local_storage"),), (),
            "a value for each cgroup the programs are attached to, shared by them",
            fixed_max_entries=0, key_type="u64"),   # the cgroup's id: one value for all attach types
    MapKind("RingBuf", "BPF_MAP_TYPE_RINGBUF", "none", False, False,
            (("output", "ringbuf_output"),), ("max_entries",),
            "a buffer of records user space reads in order; max_entries is its size in "
            "bytes, a power of 2 and a multiple of the page size"),
)}


@record(frozen=True)
class Helper:
    """A kernel helper function a program may call.

    ``params`` describe the Python call, one entry per Python argument:
    ``"ctx"`` the hook's context; ``"sock"`` a socket (``ctx.sk``);
    ``"buffer"`` a bytearray, passed to the kernel as its address and its
    size; ``"buffer_start"`` a bytearray passed by address only, its size
    given by the next (int) argument and capped at the buffer's size;
    ``"buffer_tail"`` a bytearray passed from the offset the next (int)
    argument gives, with the length that remains; or an integer type name.
    ``returns`` is an integer type name, ``"None"``, ``"ref"`` (a reference
    to a map value, or None) or ``"parsed_i64"``/``"parsed_u64"`` (a
    ParsedInt/ParsedUint: the characters read, or -errno, and the value).

    ``call`` says how a program reaches it: ``"function"`` (a function of
    the same name exported by pybpfc), ``"method"`` (a method of a map,
    see MAP_KINDS; ``params`` are then the method's) or ``"print"`` (the
    builtin ``print``)."""
    name: str
    func_id: int          # enum bpf_func_id
    params: tuple[str, ...]
    returns: str
    doc: str
    call: str = "function"


HELPERS = {h.name: h for h in (
    Helper("map_lookup_elem", 1, ("key",), "ref", "the value stored under a key, or None",
           call="method"),
    Helper("map_update_elem", 2, ("key", "value", "u64"), "i64",
           "store a value under a key (flags BPF_ANY, BPF_NOEXIST, BPF_EXIST); 0 or -errno",
           call="method"),
    Helper("map_delete_elem", 3, ("key",), "i64", "remove a key; 0 or -errno", call="method"),
    Helper("ktime_get_ns", 5, (), "u64", "nanoseconds since boot (CLOCK_MONOTONIC)"),
    Helper("trace_printk", 6, (), "i64",
           "write a line to the kernel's trace buffer (/sys/kernel/tracing/trace_pipe); "
           "called as print() with up to three integer arguments", call="print"),
    Helper("get_prandom_u32", 7, (), "u32", "a pseudo-random number"),
    Helper("get_current_pid_tgid", 14, (), "u64",
           "the current task: thread group id << 32 | thread id"),
    Helper("get_current_uid_gid", 15, (), "u64", "the current task: gid << 32 | uid"),
    Helper("get_current_comm", 16, ("buffer",), "i64",
           "copy the current task's command name, NUL-terminated, into the buffer"),
    Helper("skb_load_bytes", 26, ("ctx", "u32", "buffer"), "i64",
           "copy bytes of the packet from an offset into the buffer (all of it); 0 or -errno"),
    Helper("get_socket_cookie", 46, ("ctx",), "u64", "the socket's unique cookie"),
    Helper("get_socket_uid", 47, ("ctx",), "u32", "the uid of the socket's owner"),
    Helper("setsockopt", 49, ("sock", "i32", "i32", "buffer"), "i64",
           "set a socket option on the socket, from the whole buffer; 0 or -errno"),
    Helper("getsockopt", 57, ("sock", "i32", "i32", "buffer"), "i64",
           "read a socket option of the socket into the buffer; 0 or -errno"),
    Helper("get_current_cgroup_id", 80, (), "u64", "the current task's cgroup v2 id"),
    Helper("get_local_storage", 81, (), "ref", "this cgroup's value in a CgroupStorage",
           call="method"),
    Helper("sysctl_get_name", 101, ("ctx", "buffer", "u64"), "i64",
           "copy the sysctl's name into the buffer (flags 1: the base name only); "
           "the length, or -E2BIG when truncated"),
    Helper("sysctl_get_current_value", 102, ("ctx", "buffer"), "i64",
           "copy the sysctl's current value (text) into the buffer; the length or -errno"),
    Helper("sysctl_get_new_value", 103, ("ctx", "buffer"), "i64",
           "copy the value being written into the buffer; the length or -errno"),
    Helper("sysctl_set_new_value", 104, ("ctx", "buffer_start", "u64"), "i64",
           "replace the value being written with the first N bytes of the buffer"),
    Helper("strtol", 105, ("buffer_tail", "u32", "u64"), "parsed_i64",
           "parse a signed integer from the buffer at an offset, in a base (0, 8, 10 or 16)"),
    Helper("strtoul", 106, ("buffer_tail", "u32", "u64"), "parsed_u64",
           "parse an unsigned integer from the buffer at an offset, in a base (0, 8, 10 or 16)"),
    Helper("sk_storage_get", 107, ("sock", "bool"), "ref",
           "the socket's value, or None; create=True makes a zeroed one when missing",
           call="method"),
    Helper("sk_storage_delete", 108, ("sock",), "i64", "remove the socket's value; 0 or -errno",
           call="method"),
    Helper("get_netns_cookie", 122, ("ctx",), "u64", "the network namespace's cookie"),
    Helper("ringbuf_output", 130, ("value", "u64"), "i64",
           "copy a record (an integer, struct or bytearray) into the ring buffer; 0 or -errno",
           call="method"),
    Helper("get_retval", 186, (), "i32", "the syscall's result so far (0 or -errno)"),
    Helper("set_retval", 187, ("i32",), "i32", "set the syscall's result (0 or -errno)"),
)}

# The size of the buffer a sockopt program can see at most (x86_64 page).
PAGE_SIZE = 4096
# The stack every BPF program has, in bytes.
STACK_SIZE = 512
# bpf_trace_printk passes at most this many values to its format.
TRACE_PRINTK_MAX_VALUES = 3


@record(frozen=True)
class Field:
    """One member of a context struct.

    ``kind`` is a pybpfc integer type name (``"u32"``, ``"i32"``, ``"u16"``,
    ``"u64"``), or one of the special kinds:

    - ``"window"``: a pointer to the start of a byte buffer whose end is the
      field named by ``end``; programs reach it only through bounds-checked
      accesses, never as a pointer;
    - ``"window_end"``: that end pointer, never used directly;
    - ``"sock"``: a pointer to a ``struct bpf_sock`` (attribute access only).

    ``count`` > 1 makes the member an array of ``count`` elements of ``kind``,
    indexed with constants.
    """
    name: str
    offset: int
    kind: str
    size: int
    doc: str
    count: int = 1
    end: Optional[str] = None


@record(frozen=True)
class Context:
    """A context struct as programs see it: its C name, its Python name and
    its members."""
    python_name: str
    c_name: str
    size: int
    fields: tuple[Field, ...]
    # The verifier accepts loads narrower than a field when only its low
    # bytes are used (bpf_ctx_narrow_access_ok), so the compiler may let LLVM
    # narrow or reuse reads of fields the hook cannot write.
    narrow_reads: bool = False

    def field(self, name: str) -> Optional[Field]:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@record(frozen=True)
class Returns:
    """What a program's return value means.

    ``verdict``: the program returns one of ``values`` (name -> number), e.g.
    ALLOW / REJECT; ``bytes``: the program returns how many bytes of the
    packet to keep (any u32)."""
    kind: str
    values: tuple[tuple[str, int], ...] = ()
    doc: str = ""


@record(frozen=True)
class Hook:
    decorator: str
    section: str
    prog_type: str
    attach_type: Optional[str]
    context: Context
    readable: frozenset[str]
    writable: frozenset[str]
    returns: Returns
    # Bounds the kernel enforces on constant writes, field -> (min, max); None = open.
    write_bounds: tuple[tuple[str, Optional[int], Optional[int]], ...] = ()
    # Kernel helper functions (bpf_func_id names without the prefix) the
    # verifier lets this hook call.
    helpers: frozenset[str] = field(default_factory=frozenset)
    summary: str = ""
    # Whether the program may load packet bytes directly (BPF_LD_ABS).
    packet_loads: bool = False

    @property
    def prog_type_id(self) -> int:
        return PROG_TYPES[self.prog_type]

    @property
    def attach_type_id(self) -> Optional[int]:
        return ATTACH_TYPES[self.attach_type] if self.attach_type else None

    def bounds(self, field_name: str) -> tuple[Optional[int], Optional[int]]:
        for name, lo, hi in self.write_bounds:
            if name == field_name:
                return lo, hi
        return None, None


# ---------------------------------------------------------------- contexts

BPF_SOCK = Context("SockContext", "bpf_sock", 80, (
    Field("bound_dev_if", 0, "u32", 4, "index of the device the socket is bound to"),
    Field("family", 4, "u32", 4, "address family (AF_INET, AF_INET6, ...)"),
    Field("type", 8, "u32", 4, "socket type (SOCK_STREAM, SOCK_DGRAM, ...)"),
    Field("protocol", 12, "u32", 4, "protocol (IPPROTO_TCP, IPPROTO_UDP, ...)"),
    Field("mark", 16, "u32", 4, "socket mark (SO_MARK)"),
    Field("priority", 20, "u32", 4, "socket priority (SO_PRIORITY)"),
    Field("src_ip4", 24, "u32", 4, "source IPv4 address, network byte order"),
    Field("src_ip6", 28, "u32", 4, "source IPv6 address, four words in network byte order", count=4),
    Field("src_port", 44, "u32", 4, "source port, host byte order"),
    Field("dst_port", 48, "u16", 2, "destination port, network byte order"),
    Field("dst_ip4", 52, "u32", 4, "destination IPv4 address, network byte order"),
    Field("dst_ip6", 56, "u32", 4, "destination IPv6 address, four words in network byte order", count=4),
    Field("state", 72, "u32", 4, "connection state (BPF_TCP_*)"),
    Field("rx_queue_mapping", 76, "i32", 4, "receive queue of the connection, or -1"),
), narrow_reads=True)

BPF_SOCKOPT = Context("SockoptContext", "bpf_sockopt", 40, (
    Field("sk", 0, "sock", 8, "the socket the option is for"),
    Field("optval", 8, "window", 8, "the option's value, a byte buffer of at most PAGE_SIZE bytes",
          end="optval_end"),
    Field("optval_end", 16, "window_end", 8, "end of the optval buffer"),
    Field("level", 24, "i32", 4, "option level (SOL_SOCKET, SOL_IP, ...)"),
    Field("optname", 28, "i32", 4, "option name (IP_TTL, SO_MARK, ...)"),
    Field("optlen", 32, "i32", 4, "length of the option's value in bytes"),
    Field("retval", 36, "i32", 4, "the kernel's result for getsockopt (0 or -errno)"),
))

BPF_SYSCTL = Context("SysctlContext", "bpf_sysctl", 8, (
    Field("write", 0, "u32", 4, "1 when the sysctl is being written, 0 when read"),
    Field("file_pos", 4, "u32", 4, "file position of the read or write"),
))

SK_BUFF = Context("SkBuff", "__sk_buff", 192, (
    Field("len", 0, "u32", 4, "length of the packet in bytes"),
    Field("pkt_type", 4, "u32", 4, "packet type (PACKET_HOST, PACKET_BROADCAST, ...)"),
    Field("mark", 8, "u32", 4, "packet mark"),
    Field("queue_mapping", 12, "u32", 4, "queue the packet was received on"),
    Field("protocol", 16, "u32", 4, "link-layer protocol (ETH_P_*), network byte order"),
    Field("vlan_present", 20, "u32", 4, "1 when a VLAN tag is present"),
    Field("vlan_tci", 24, "u32", 4, "VLAN tag control information"),
    Field("vlan_proto", 28, "u32", 4, "VLAN protocol, network byte order"),
    Field("priority", 32, "u32", 4, "packet priority"),
    Field("ingress_ifindex", 36, "u32", 4, "index of the device the packet arrived on"),
    Field("ifindex", 40, "u32", 4, "index of the device the packet is on"),
    Field("tc_index", 44, "u32", 4, "traffic control index"),
    Field("cb", 48, "u32", 4, "scratch space shared between programs", count=5),
    Field("hash", 68, "u32", 4, "the packet's flow hash"),
    Field("napi_id", 84, "u32", 4, "NAPI id of the receive queue"),
    Field("gso_segs", 164, "u32", 4, "number of GSO segments"),
    Field("gso_size", 176, "u32", 4, "size of a GSO segment"),
), narrow_reads=True)

# ------------------------------------------------------------------- rows

_VERDICT = Returns("verdict", (("ALLOW", 1), ("REJECT", 0)),
                   "ALLOW (1) lets the operation go on; REJECT (0) refuses it with EPERM")
_SOCKOPT_READ = frozenset({"sk", "optval", "optval_end", "level", "optname", "optlen"})
# Readable by every cgroup sock hook.
_SOCK_READ = frozenset({"family", "type", "protocol", "dst_port", "dst_ip4", "dst_ip6",
                        "state", "rx_queue_mapping"})
# Readable and writable by sock_create and sock_release only.
_SOCK_WRITE = frozenset({"bound_dev_if", "mark", "priority"})

_COMMON_HELPERS = frozenset({
    "map_lookup_elem", "map_update_elem", "map_delete_elem", "get_current_uid_gid",
    "get_current_pid_tgid", "get_current_comm", "get_current_cgroup_id",
    "ktime_get_ns", "get_prandom_u32", "trace_printk", "ringbuf_output", "strtol", "strtoul",
})
_SOCKOPT_HELPERS = _COMMON_HELPERS | {"get_local_storage", "sk_storage_get",
                                      "sk_storage_delete", "get_netns_cookie", "get_retval",
                                      "set_retval"}
_SOCK_HELPERS = _COMMON_HELPERS | {"get_local_storage", "sk_storage_get", "get_netns_cookie",
                                   "get_socket_cookie", "get_retval", "set_retval"}

HOOKS: tuple[Hook, ...] = (
    Hook("cgroup_getsockopt", "cgroup/getsockopt", "BPF_PROG_TYPE_CGROUP_SOCKOPT",
         "BPF_CGROUP_GETSOCKOPT", BPF_SOCKOPT,
         readable=_SOCKOPT_READ | {"retval"},
         writable=frozenset({"optlen", "retval"}),
         returns=_VERDICT,
         write_bounds=(("optlen", 0, PAGE_SIZE), ("retval", 0, 0)),
         helpers=_SOCKOPT_HELPERS,
         summary="runs after the kernel handled getsockopt(2); may rewrite the value, "
                 "its length and the result"),
    Hook("cgroup_setsockopt", "cgroup/setsockopt", "BPF_PROG_TYPE_CGROUP_SOCKOPT",
         "BPF_CGROUP_SETSOCKOPT", BPF_SOCKOPT,
         readable=_SOCKOPT_READ,
         writable=frozenset({"level", "optname", "optlen"}),
         returns=_VERDICT,
         write_bounds=(("optlen", -1, PAGE_SIZE),),
         helpers=_SOCKOPT_HELPERS | {"setsockopt", "getsockopt"},
         summary="runs before the kernel handles setsockopt(2); may rewrite level, name and "
                 "value, or consume the option (optlen = -1)"),
    Hook("cgroup_sysctl", "cgroup/sysctl", "BPF_PROG_TYPE_CGROUP_SYSCTL",
         "BPF_CGROUP_SYSCTL", BPF_SYSCTL,
         readable=frozenset({"write", "file_pos"}),
         writable=frozenset({"file_pos"}),
         returns=_VERDICT,
         helpers=_COMMON_HELPERS | {"get_local_storage", "sysctl_get_name",
                                    "sysctl_get_current_value", "sysctl_get_new_value",
                                    "sysctl_set_new_value", "get_retval", "set_retval"},
         summary="runs when a task in the cgroup reads or writes a file under /proc/sys"),
    Hook("cgroup_sock_create", "cgroup/sock_create", "BPF_PROG_TYPE_CGROUP_SOCK",
         "BPF_CGROUP_INET_SOCK_CREATE", BPF_SOCK,
         readable=_SOCK_READ | _SOCK_WRITE, writable=_SOCK_WRITE, returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs when a task in the cgroup creates an INET socket"),
    Hook("cgroup_sock_release", "cgroup/sock_release", "BPF_PROG_TYPE_CGROUP_SOCK",
         "BPF_CGROUP_INET_SOCK_RELEASE", BPF_SOCK,
         readable=_SOCK_READ | _SOCK_WRITE, writable=_SOCK_WRITE, returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs when an INET socket created in the cgroup is released"),
    Hook("cgroup_post_bind4", "cgroup/post_bind4", "BPF_PROG_TYPE_CGROUP_SOCK",
         "BPF_CGROUP_INET4_POST_BIND", BPF_SOCK,
         readable=_SOCK_READ | {"src_ip4", "src_port"}, writable=frozenset(), returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs after an IPv4 socket created in the cgroup was bound to an address"),
    Hook("cgroup_post_bind6", "cgroup/post_bind6", "BPF_PROG_TYPE_CGROUP_SOCK",
         "BPF_CGROUP_INET6_POST_BIND", BPF_SOCK,
         readable=_SOCK_READ | {"src_ip6", "src_port"}, writable=frozenset(), returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs after an IPv6 socket created in the cgroup was bound to an address"),
    Hook("socket_filter", "socket", "BPF_PROG_TYPE_SOCKET_FILTER", None, SK_BUFF,
         readable=frozenset({"len", "pkt_type", "mark", "queue_mapping", "protocol",
                             "vlan_present", "vlan_tci", "vlan_proto", "priority",
                             "ingress_ifindex", "ifindex", "tc_index", "cb", "hash", "napi_id",
                             "gso_segs", "gso_size"}),
         writable=frozenset({"cb"}),
         returns=Returns("bytes", (("DROP", 0), ("KEEP_ALL", 0xFFFFFFFF)),
                         "how many bytes of the packet the socket receives: "
                         "DROP (0) drops it, KEEP_ALL keeps all of it"),
         helpers=_COMMON_HELPERS | {"skb_load_bytes", "get_socket_cookie", "get_socket_uid"},
         packet_loads=True,
         summary="runs for every packet a socket it is attached to receives"),
)

# A socket reached through a pointer (``ctx.sk`` in sockopt hooks, never NULL
# there) can be read in full but never written.
SOCK_POINTER_READABLE = frozenset(f.name for f in BPF_SOCK.fields)

CONTEXTS: tuple[Context, ...] = (BPF_SOCK, BPF_SOCKOPT, BPF_SYSCTL, SK_BUFF)

HOOKS_BY_DECORATOR = {h.decorator: h for h in HOOKS}
HOOKS_BY_SECTION = {h.section: h for h in HOOKS}
CONTEXTS_BY_PYTHON_NAME = {c.python_name: c for c in CONTEXTS}


def hook_named(decorator: str) -> Hook:
    return HOOKS_BY_DECORATOR[decorator]
