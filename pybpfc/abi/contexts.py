"""The context structs hooks receive, as the kernel lays them out.

Offsets and sizes are those of ``linux/bpf.h`` (tests compare them with the
header and with the running kernel's BTF).  Which fields a hook may read or
write is not a property of the struct but of the hook: see ``hooks.py``.
"""
from typing import NamedTuple, Optional


class Field(NamedTuple):
    """One member of a context struct.

    ``kind`` is a pybpfc integer type name (``"u32"``, ``"i32"``, ``"u16"``,
    ``"u64"``), or one of the special kinds:

    - ``"window"``: a pointer to the start of a byte buffer whose end is the
      field named by ``end``; programs reach it only through bounds-checked
      accesses, never as a pointer;
    - ``"window_end"``: that end pointer, never used directly;
    - ``"sock"``: a pointer to a ``struct bpf_sock`` (attribute access only);
    - ``"packet"``, ``"packet_end"``, ``"packet_meta"``: the start, end and
      metadata start of a packet (``xdp_md`` and ``__sk_buff``); programs
      reach the packet only through ``ctx.header(T, offset)``, whose bounds
      check the compiler writes, never as a pointer.

    ``count`` > 1 makes the member an array of ``count`` elements of ``kind``,
    indexed with constants.

    ``part_of`` names the kernel member a field is a part of, when the
    kernel packs two values into one member and lets programs load each
    half narrow (``device_type`` and ``access`` of ``access_type``).
    """
    name: str
    offset: int
    kind: str
    size: int
    doc: str
    count: int = 1  # type: ignore[assignment]  # replaces tuple.count on purpose
    end: Optional[str] = None
    part_of: Optional[str] = None

    @property
    def member(self) -> str:
        """The member of the kernel's struct the field is, or is a part of."""
        return self.part_of or self.name


class Context(NamedTuple):
    """A context struct as programs see it: its Python name, its C name, its
    size and its members."""
    python_name: str
    c_name: str
    size: int
    fields: tuple[Field, ...]
    # The verifier accepts loads narrower than a field when only its low
    # bytes are used (bpf_ctx_narrow_access_ok), so the compiler may let LLVM
    # narrow or reuse reads of fields the hook cannot write.
    narrow_reads: bool = False
    # Members the verifier lets programs load at any width when it holds
    # the context's others to their exact width (cgroup_dev_is_valid_access
    # for access_type).
    narrow_members: tuple[str, ...] = ()
    # Elements the verifier gives the program as typed kernel pointers
    # (tp_btf arguments), which it refuses to treat as integers:
    # (field, index, what it points to).
    typed_pointers: tuple[tuple[str, int, str], ...] = ()
    # The kernel helpers that take a socket (bpf_setsockopt, ...) take this
    # context itself, not a socket reached through it (sock_ops).
    is_socket: bool = False

    def field(self, name: str) -> Optional[Field]:
        for f in self.fields:
            if f.name == name:
                return f
        return None


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
    Field("tc_classid", 72, "u32", 4, "traffic control class id (tc: written for the qdisc)"),
    Field("data", 76, "packet", 4, "start of the packet's linear data"),
    Field("data_end", 80, "packet_end", 4, "end of the packet's linear data"),
    Field("napi_id", 84, "u32", 4, "NAPI id of the receive queue"),
    Field("data_meta", 140, "packet_meta", 4, "start of the metadata before the packet"),
    Field("gso_segs", 164, "u32", 4, "number of GSO segments"),
    Field("gso_size", 176, "u32", 4, "size of a GSO segment"),
), narrow_reads=True)

# ------------------------------------------------------ packet programs
# struct xdp_md: what an XDP program gets.  data, data_end and data_meta are
# 32-bit fields the verifier turns into packet pointers.
XDP_MD = Context("XdpContext", "xdp_md", 24, (
    Field("data", 0, "packet", 4, "start of the packet"),
    Field("data_end", 4, "packet_end", 4, "end of the packet"),
    Field("data_meta", 8, "packet_meta", 4, "start of the metadata before the packet"),
    Field("ingress_ifindex", 12, "u32", 4, "index of the device the packet arrived on"),
    Field("rx_queue_index", 16, "u32", 4, "receive queue of the device"),
    Field("egress_ifindex", 20, "u32", 4, "index of the device a devmap program sends to"),
), narrow_reads=True)

# ---- device and TCP-event cgroup hooks (issue 14 part B)

# The kernel lets programs load access_type at any width, either 16-bit
# half among them (x86 and the other little-endian machines: the type is
# the low half, at offset 0); major and minor only whole.
BPF_CGROUP_DEV_CTX = Context("DeviceContext", "bpf_cgroup_dev_ctx", 12, (
    Field("access_type", 0, "u32", 4,
          "the request: access << 16 | device_type, as the kernel packs it"),
    Field("device_type", 0, "u16", 2,
          "BPF_DEVCG_DEV_CHAR or BPF_DEVCG_DEV_BLOCK", part_of="access_type"),
    Field("access", 2, "u16", 2, "what is asked, a mask of BPF_DEVCG_ACC_READ, "
          "BPF_DEVCG_ACC_WRITE and BPF_DEVCG_ACC_MKNOD", part_of="access_type"),
    Field("major", 4, "u32", 4, "the device's major number"),
    Field("minor", 8, "u32", 4, "the device's minor number"),
), narrow_members=("access_type",))


def _u32s(first_offset: int, names: str, doc: str) -> tuple[Field, ...]:
    """Consecutive u32 counters of struct bpf_sock_ops, one doc for all."""
    return tuple(Field(name, first_offset + 4 * i, "u32", 4, doc)
                 for i, name in enumerate(names.split()))


# Every member is read at its own width (a narrower load is refused); the
# TCP fields read 0 unless is_fullsock.
BPF_SOCK_OPS = Context("SockOpsContext", "bpf_sock_ops", 224, (
    Field("op", 0, "u32", 4, "the TCP event the program is called for (BPF_SOCK_OPS_*)"),
    Field("args", 4, "u32", 4, "the event's arguments (STATE_CB: old and new state)", count=4),
    Field("reply", 4, "u32", 4, "the program's answer to the events that ask for one "
          "(TIMEOUT_INIT, RWND_INIT, NEEDS_ECN, BASE_RTT)"),
    Field("family", 20, "u32", 4, "address family (AF_INET, AF_INET6)"),
    Field("remote_ip4", 24, "u32", 4, "remote IPv4 address, network byte order"),
    Field("local_ip4", 28, "u32", 4, "local IPv4 address, network byte order"),
    Field("remote_ip6", 32, "u32", 4, "remote IPv6 address, four words in network byte order",
          count=4),
    Field("local_ip6", 48, "u32", 4, "local IPv6 address, four words in network byte order",
          count=4),
    Field("remote_port", 64, "u32", 4, "remote port, network byte order"),
    Field("local_port", 68, "u32", 4, "local port, host byte order"),
    Field("is_fullsock", 72, "u32", 4, "1 when the TCP fields below are valid"),
    Field("snd_cwnd", 76, "u32", 4, "congestion window, in packets"),
    Field("srtt_us", 80, "u32", 4, "smoothed round trip time << 3, in microseconds"),
    Field("bpf_sock_ops_cb_flags", 84, "u32", 4,
          "the callbacks enabled (BPF_SOCK_OPS_*_CB_FLAG)"),
    Field("state", 88, "u32", 4, "connection state (BPF_TCP_*)"),
    *_u32s(92, "rtt_min snd_ssthresh rcv_nxt snd_nxt snd_una mss_cache ecn_flags "
               "rate_delivered rate_interval_us packets_out retrans_out total_retrans "
               "segs_in data_segs_in segs_out data_segs_out lost_out sacked_out",
           "the TCP socket's field of that name (struct tcp_sock)"),
    Field("sk_txhash", 164, "u32", 4, "the hash that picks the transmit queue"),
    Field("bytes_received", 168, "u64", 8, "bytes received (acknowledged by us)"),
    Field("bytes_acked", 176, "u64", 8, "bytes sent and acknowledged"),
    Field("skb_len", 208, "u32", 4, "length of the packet of the event, if any"),
    Field("skb_tcp_flags", 212, "u32", 4, "TCP flags of the packet of the event, if any"),
), is_socket=True)

# ---------------------------------------------------- sock_addr hooks
# struct bpf_sock_addr: the address a bind, connect, sendmsg, recvmsg,
# getpeername or getsockname call carries.  Addresses and ports are in
# network byte order, as in a struct sockaddr (``htonl``/``htons`` make
# constants to compare with).  The verifier refuses narrow loads of
# ``user_family``, ``family``, ``type`` and ``protocol``: no narrow reads.
BPF_SOCK_ADDR = Context("SockAddrContext", "bpf_sock_addr", 72, (
    Field("user_family", 0, "u32", 4, "the address family the caller passed (AF_INET, ...)"),
    Field("user_ip4", 4, "u32", 4, "the caller's IPv4 address, network byte order"),
    Field("user_ip6", 8, "u32", 4, "the caller's IPv6 address, four words in network byte "
          "order", count=4),
    Field("user_port", 24, "u32", 4, "the caller's port: network byte order in the low 16 bits "
          "(compare with htons(port))"),
    Field("family", 28, "u32", 4, "the socket's address family"),
    Field("type", 32, "u32", 4, "the socket's type (SOCK_STREAM, SOCK_DGRAM, ...)"),
    Field("protocol", 36, "u32", 4, "the socket's protocol (IPPROTO_TCP, IPPROTO_UDP, ...)"),
    Field("msg_src_ip4", 40, "u32", 4, "the IPv4 source address a UDP datagram leaves from, "
          "network byte order (0: the kernel picks it)"),
    Field("msg_src_ip6", 44, "u32", 4, "the IPv6 source address a UDP datagram leaves from, "
          "four words in network byte order", count=4),
    Field("sk", 64, "sock", 8, "the socket making the call"),
))


CONTEXTS: tuple[Context, ...] = (BPF_SOCK, BPF_SOCKOPT, BPF_SYSCTL, SK_BUFF, XDP_MD,
                                 BPF_CGROUP_DEV_CTX, BPF_SOCK_OPS, BPF_SOCK_ADDR)
CONTEXTS_BY_PYTHON_NAME = {c.python_name: c for c in CONTEXTS}

# A socket reached through a pointer (``ctx.sk`` in sockopt hooks, never NULL
# there) can be read in full but never written.
SOCK_POINTER_READABLE = frozenset(f.name for f in BPF_SOCK.fields)

# ---------------------------------------------------------------- tracing
# The contexts of tracing programs.  A tracepoint's own layout is the
# kernel's (its tracefs format, read when the program is compiled), so its
# row here has no fields: the compiler builds the Context of each
# tracepoint a program names.

TRACEPOINT = Context("TracepointContext", "trace_event_raw", 0, (), narrow_reads=True)
# Every record starts with struct trace_entry (8 bytes), which the verifier
# refuses to let a program read.
TRACEPOINT_FIRST_READABLE = 8
# The syscall tracepoints share one layout: after the header the syscall's
# number, then sys_enter's arguments in 8-byte slots, or sys_exit's result.
SYSCALL_TRACEPOINT_ARGS = 16
SYSCALL_TRACEPOINT_NR = Field("__syscall_nr", 8, "i32", 4, "int __syscall_nr")
SYSCALL_TRACEPOINT_RET = Field("ret", SYSCALL_TRACEPOINT_ARGS, "i64", 8, "long ret")

# raw_tracepoint and tp_btf programs get the tracepoint's arguments as an
# array of u64 (at most MAX_BPF_FUNC_ARGS = 12 of them).
RAW_TRACEPOINT_ARGS = Context("RawTracepointArgs", "bpf_raw_tracepoint_args", 96, (
    Field("args", 0, "u64", 8, "the tracepoint's arguments, as in its TP_PROTO", count=12),
))

# Offsets of x86_64's struct pt_regs (a test compares them with the running
# kernel's BTF), named by what they hold at a function's entry (System V
# calling convention) and return.
PT_REGS_MEMBERS = {"arg1": "di", "arg2": "si", "arg3": "dx", "arg4": "cx", "arg5": "r8",
                   "arg6": "r9", "ret": "ax", "ip": "ip", "sp": "sp"}
PT_REGS = Context("UprobeContext", "pt_regs", 168, (
    Field("arg6", 64, "u64", 8, "the function's sixth argument (register r9)"),
    Field("arg5", 72, "u64", 8, "the function's fifth argument (register r8)"),
    Field("ret", 80, "u64", 8, "the value returned (register ax; in a uretprobe)"),
    Field("arg4", 88, "u64", 8, "the function's fourth argument (register cx)"),
    Field("arg3", 96, "u64", 8, "the function's third argument (register dx)"),
    Field("arg2", 104, "u64", 8, "the function's second argument (register si)"),
    Field("arg1", 112, "u64", 8, "the function's first argument (register di)"),
    Field("ip", 128, "u64", 8, "the instruction pointer"),
    Field("sp", 152, "u64", 8, "the stack pointer"),
), narrow_reads=True)

# struct bpf_perf_event_data: the sampled registers, then the sample's period
# and address; the verifier takes only whole 8-byte loads of the registers.
PERF_EVENT_DATA = Context("PerfEventContext", "bpf_perf_event_data", 184, (
    Field("ip", 128, "u64", 8, "the instruction pointer when the sample was taken"),
    Field("sp", 152, "u64", 8, "the stack pointer when the sample was taken"),
    Field("sample_period", 168, "u64", 8, "the event's sample period"),
    Field("addr", 176, "u64", 8, "the sample's data address, where the event has one"),
))

# Not laid out as linux/bpf.h's structs say (bpf_raw_tracepoint_args ends in
# a flexible array, as long as the tracepoint's arguments): tests check them
# against the kernel's BTF.
TRACING_CONTEXTS: tuple[Context, ...] = (TRACEPOINT, RAW_TRACEPOINT_ARGS, PT_REGS,
                                         PERF_EVENT_DATA)
CONTEXTS_BY_PYTHON_NAME.update({c.python_name: c for c in TRACING_CONTEXTS})
