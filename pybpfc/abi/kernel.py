"""The kernel's numbers: enums, flags and limits of ``bpf(2)`` and BPF
programs, named as in ``linux/bpf.h``.

This is the only copy.  The runtime's syscall layer (``runtime/bpf.py``)
re-exports these names, the hook and map tables refer to them by name, and
tests compare every value with Debian's ``/usr/include/linux/bpf.h`` and with
the running kernel's BTF.  Members newer than that header (up to Linux
6.18) are here too, for the hooks still to come.
"""
from __future__ import annotations

# ------------------------------------------------------------ enum bpf_cmd

BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_MAP_DELETE_ELEM = 3
BPF_MAP_GET_NEXT_KEY = 4
BPF_PROG_LOAD = 5
BPF_OBJ_PIN = 6
BPF_OBJ_GET = 7
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_TEST_RUN = 10
BPF_PROG_RUN = 10
BPF_PROG_GET_NEXT_ID = 11
BPF_MAP_GET_NEXT_ID = 12
BPF_PROG_GET_FD_BY_ID = 13
BPF_MAP_GET_FD_BY_ID = 14
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_QUERY = 16
BPF_RAW_TRACEPOINT_OPEN = 17
BPF_BTF_LOAD = 18
BPF_BTF_GET_FD_BY_ID = 19
BPF_TASK_FD_QUERY = 20
BPF_MAP_LOOKUP_AND_DELETE_ELEM = 21
BPF_MAP_FREEZE = 22
BPF_BTF_GET_NEXT_ID = 23
BPF_MAP_LOOKUP_BATCH = 24
BPF_MAP_LOOKUP_AND_DELETE_BATCH = 25
BPF_MAP_UPDATE_BATCH = 26
BPF_MAP_DELETE_BATCH = 27
BPF_LINK_CREATE = 28
BPF_LINK_UPDATE = 29
BPF_LINK_GET_FD_BY_ID = 30
BPF_LINK_GET_NEXT_ID = 31
BPF_ENABLE_STATS = 32
BPF_ITER_CREATE = 33
BPF_LINK_DETACH = 34
BPF_PROG_BIND_MAP = 35
BPF_TOKEN_CREATE = 36
BPF_PROG_STREAM_READ_BY_FD = 37

# -------------------------------------------------------- enum bpf_map_type

BPF_MAP_TYPE_UNSPEC = 0
BPF_MAP_TYPE_HASH = 1
BPF_MAP_TYPE_ARRAY = 2
BPF_MAP_TYPE_PROG_ARRAY = 3
BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4
BPF_MAP_TYPE_PERCPU_HASH = 5
BPF_MAP_TYPE_PERCPU_ARRAY = 6
BPF_MAP_TYPE_STACK_TRACE = 7
BPF_MAP_TYPE_CGROUP_ARRAY = 8
BPF_MAP_TYPE_LRU_HASH = 9
BPF_MAP_TYPE_LRU_PERCPU_HASH = 10
BPF_MAP_TYPE_LPM_TRIE = 11
BPF_MAP_TYPE_ARRAY_OF_MAPS = 12
BPF_MAP_TYPE_HASH_OF_MAPS = 13
BPF_MAP_TYPE_DEVMAP = 14
BPF_MAP_TYPE_SOCKMAP = 15
BPF_MAP_TYPE_CPUMAP = 16
BPF_MAP_TYPE_XSKMAP = 17
BPF_MAP_TYPE_SOCKHASH = 18
BPF_MAP_TYPE_CGROUP_STORAGE = 19
BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20
BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21
BPF_MAP_TYPE_QUEUE = 22
BPF_MAP_TYPE_STACK = 23
BPF_MAP_TYPE_SK_STORAGE = 24
BPF_MAP_TYPE_DEVMAP_HASH = 25
BPF_MAP_TYPE_STRUCT_OPS = 26
BPF_MAP_TYPE_RINGBUF = 27
BPF_MAP_TYPE_INODE_STORAGE = 28
BPF_MAP_TYPE_TASK_STORAGE = 29
BPF_MAP_TYPE_BLOOM_FILTER = 30
BPF_MAP_TYPE_USER_RINGBUF = 31
BPF_MAP_TYPE_CGRP_STORAGE = 32
BPF_MAP_TYPE_ARENA = 33

# ------------------------------------------------------- enum bpf_prog_type

BPF_PROG_TYPE_UNSPEC = 0
BPF_PROG_TYPE_SOCKET_FILTER = 1
BPF_PROG_TYPE_KPROBE = 2
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_PROG_TYPE_SCHED_ACT = 4
BPF_PROG_TYPE_TRACEPOINT = 5
BPF_PROG_TYPE_XDP = 6
BPF_PROG_TYPE_PERF_EVENT = 7
BPF_PROG_TYPE_CGROUP_SKB = 8
BPF_PROG_TYPE_CGROUP_SOCK = 9
BPF_PROG_TYPE_LWT_IN = 10
BPF_PROG_TYPE_LWT_OUT = 11
BPF_PROG_TYPE_LWT_XMIT = 12
BPF_PROG_TYPE_SOCK_OPS = 13
BPF_PROG_TYPE_SK_SKB = 14
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_PROG_TYPE_SK_MSG = 16
BPF_PROG_TYPE_RAW_TRACEPOINT = 17
BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18
BPF_PROG_TYPE_LWT_SEG6LOCAL = 19
BPF_PROG_TYPE_LIRC_MODE2 = 20
BPF_PROG_TYPE_SK_REUSEPORT = 21
BPF_PROG_TYPE_FLOW_DISSECTOR = 22
BPF_PROG_TYPE_CGROUP_SYSCTL = 23
BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24
BPF_PROG_TYPE_CGROUP_SOCKOPT = 25
BPF_PROG_TYPE_TRACING = 26
BPF_PROG_TYPE_STRUCT_OPS = 27
BPF_PROG_TYPE_EXT = 28
BPF_PROG_TYPE_LSM = 29
BPF_PROG_TYPE_SK_LOOKUP = 30
BPF_PROG_TYPE_SYSCALL = 31
BPF_PROG_TYPE_NETFILTER = 32

# ----------------------------------------------------- enum bpf_attach_type

BPF_CGROUP_INET_INGRESS = 0
BPF_CGROUP_INET_EGRESS = 1
BPF_CGROUP_INET_SOCK_CREATE = 2
BPF_CGROUP_SOCK_OPS = 3
BPF_SK_SKB_STREAM_PARSER = 4
BPF_SK_SKB_STREAM_VERDICT = 5
BPF_CGROUP_DEVICE = 6
BPF_SK_MSG_VERDICT = 7
BPF_CGROUP_INET4_BIND = 8
BPF_CGROUP_INET6_BIND = 9
BPF_CGROUP_INET4_CONNECT = 10
BPF_CGROUP_INET6_CONNECT = 11
BPF_CGROUP_INET4_POST_BIND = 12
BPF_CGROUP_INET6_POST_BIND = 13
BPF_CGROUP_UDP4_SENDMSG = 14
BPF_CGROUP_UDP6_SENDMSG = 15
BPF_LIRC_MODE2 = 16
BPF_FLOW_DISSECTOR = 17
BPF_CGROUP_SYSCTL = 18
BPF_CGROUP_UDP4_RECVMSG = 19
BPF_CGROUP_UDP6_RECVMSG = 20
BPF_CGROUP_GETSOCKOPT = 21
BPF_CGROUP_SETSOCKOPT = 22
BPF_TRACE_RAW_TP = 23
BPF_TRACE_FENTRY = 24
BPF_TRACE_FEXIT = 25
BPF_MODIFY_RETURN = 26
BPF_LSM_MAC = 27
BPF_TRACE_ITER = 28
BPF_CGROUP_INET4_GETPEERNAME = 29
BPF_CGROUP_INET6_GETPEERNAME = 30
BPF_CGROUP_INET4_GETSOCKNAME = 31
BPF_CGROUP_INET6_GETSOCKNAME = 32
BPF_XDP_DEVMAP = 33
BPF_CGROUP_INET_SOCK_RELEASE = 34
BPF_XDP_CPUMAP = 35
BPF_SK_LOOKUP = 36
BPF_XDP = 37
BPF_SK_SKB_VERDICT = 38
BPF_SK_REUSEPORT_SELECT = 39
BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40
BPF_PERF_EVENT = 41
BPF_TRACE_KPROBE_MULTI = 42
BPF_LSM_CGROUP = 43
BPF_STRUCT_OPS = 44
BPF_NETFILTER = 45
BPF_TCX_INGRESS = 46
BPF_TCX_EGRESS = 47
BPF_TRACE_UPROBE_MULTI = 48
BPF_CGROUP_UNIX_CONNECT = 49
BPF_CGROUP_UNIX_SENDMSG = 50
BPF_CGROUP_UNIX_RECVMSG = 51
BPF_CGROUP_UNIX_GETPEERNAME = 52
BPF_CGROUP_UNIX_GETSOCKNAME = 53
BPF_NETKIT_PRIMARY = 54
BPF_NETKIT_PEER = 55
BPF_TRACE_KPROBE_SESSION = 56
BPF_TRACE_UPROBE_SESSION = 57

# ------------------------------------------------------- enum bpf_link_type

BPF_LINK_TYPE_UNSPEC = 0
BPF_LINK_TYPE_RAW_TRACEPOINT = 1
BPF_LINK_TYPE_TRACING = 2
BPF_LINK_TYPE_CGROUP = 3
BPF_LINK_TYPE_ITER = 4
BPF_LINK_TYPE_NETNS = 5
BPF_LINK_TYPE_XDP = 6
BPF_LINK_TYPE_PERF_EVENT = 7
BPF_LINK_TYPE_KPROBE_MULTI = 8
BPF_LINK_TYPE_STRUCT_OPS = 9
BPF_LINK_TYPE_NETFILTER = 10
BPF_LINK_TYPE_TCX = 11
BPF_LINK_TYPE_UPROBE_MULTI = 12
BPF_LINK_TYPE_NETKIT = 13
BPF_LINK_TYPE_SOCKMAP = 14


# --------------------------------------------------- enum bpf_core_relo_kind

BPF_CORE_FIELD_BYTE_OFFSET = 0
BPF_CORE_FIELD_BYTE_SIZE = 1
BPF_CORE_FIELD_EXISTS = 2
BPF_CORE_FIELD_SIGNED = 3
BPF_CORE_FIELD_LSHIFT_U64 = 4
BPF_CORE_FIELD_RSHIFT_U64 = 5
BPF_CORE_TYPE_ID_LOCAL = 6
BPF_CORE_TYPE_ID_TARGET = 7
BPF_CORE_TYPE_EXISTS = 8
BPF_CORE_TYPE_SIZE = 9
BPF_CORE_ENUMVAL_EXISTS = 10
BPF_CORE_ENUMVAL_VALUE = 11
BPF_CORE_TYPE_MATCHES = 12

def _enum(first: str, last: str) -> dict[str, int]:
    """The constants defined above from ``first`` to ``last``, in order: one
    enum of the header (module globals keep their definition order)."""
    names = list(globals())
    return {name: globals()[name] for name in names[names.index(first):names.index(last) + 1]}


# Each enum as name -> number, for lookups by name and for the tests.
COMMANDS = _enum("BPF_MAP_CREATE", "BPF_PROG_STREAM_READ_BY_FD")
MAP_TYPES = _enum("BPF_MAP_TYPE_UNSPEC", "BPF_MAP_TYPE_ARENA")
PROG_TYPES = _enum("BPF_PROG_TYPE_UNSPEC", "BPF_PROG_TYPE_NETFILTER")
ATTACH_TYPES = _enum("BPF_CGROUP_INET_INGRESS", "BPF_TRACE_UPROBE_SESSION")
LINK_TYPES = _enum("BPF_LINK_TYPE_UNSPEC", "BPF_LINK_TYPE_SOCKMAP")
CORE_RELO_KINDS = _enum("BPF_CORE_FIELD_BYTE_OFFSET", "BPF_CORE_TYPE_MATCHES")
ENUMS = {"bpf_cmd": COMMANDS, "bpf_map_type": MAP_TYPES, "bpf_prog_type": PROG_TYPES,
         "bpf_attach_type": ATTACH_TYPES, "bpf_link_type": LINK_TYPES,
         "bpf_core_relo_kind": CORE_RELO_KINDS}

# -------------------------------------------------------------------- flags

# BPF_MAP_UPDATE_ELEM / BPF_MAP_LOOKUP_ELEM flags (and bpf_map_update_elem's)
BPF_ANY = 0
BPF_NOEXIST = 1
BPF_EXIST = 2
BPF_F_LOCK = 4
UPDATE_FLAGS = {"BPF_ANY": BPF_ANY, "BPF_NOEXIST": BPF_NOEXIST, "BPF_EXIST": BPF_EXIST}

# BPF_MAP_CREATE map_flags
BPF_F_NO_PREALLOC = 1 << 0
BPF_F_NO_COMMON_LRU = 1 << 1
BPF_F_NUMA_NODE = 1 << 2
BPF_F_RDONLY = 1 << 3
BPF_F_WRONLY = 1 << 4
BPF_F_STACK_BUILD_ID = 1 << 5
BPF_F_ZERO_SEED = 1 << 6
BPF_F_RDONLY_PROG = 1 << 7
BPF_F_WRONLY_PROG = 1 << 8
BPF_F_CLONE = 1 << 9
BPF_F_MMAPABLE = 1 << 10
BPF_F_PRESERVE_ELEMS = 1 << 11
BPF_F_INNER_MAP = 1 << 12

# BPF_PROG_ATTACH attach_flags (cgroups)
BPF_F_ALLOW_OVERRIDE = 1 << 0
BPF_F_ALLOW_MULTI = 1 << 1
BPF_F_REPLACE = 1 << 2

# BPF_PROG_LOAD prog_flags
BPF_F_STRICT_ALIGNMENT = 1 << 0
BPF_F_ANY_ALIGNMENT = 1 << 1
BPF_F_TEST_RND_HI32 = 1 << 2
BPF_F_TEST_STATE_FREQ = 1 << 3
BPF_F_SLEEPABLE = 1 << 4

# BPF_PROG_QUERY query_flags
BPF_F_QUERY_EFFECTIVE = 1 << 0

# BPF_PROG_TEST_RUN flags
BPF_F_TEST_RUN_ON_CPU = 1 << 0

# Flags of helpers: bpf_sk_storage_get, bpf_sysctl_get_name
BPF_SK_STORAGE_GET_F_CREATE = 1 << 0
BPF_F_SYSCTL_BASE_NAME = 1 << 0

# bpf_get_stackid / bpf_get_stack flags: frames to skip, then options
BPF_F_SKIP_FIELD_MASK = 0xFF
BPF_F_USER_STACK = 1 << 8
BPF_F_FAST_STACK_CMP = 1 << 9
BPF_F_REUSE_STACKID = 1 << 10
BPF_F_USER_BUILD_ID = 1 << 11

# bpf_perf_event_output flags: the perf event array index, or the current CPU's
BPF_F_INDEX_MASK = 0xFFFFFFFF
BPF_F_CURRENT_CPU = 0xFFFFFFFF

# The atomic operations that also fetch the old value (imm of BPF_STX | BPF_ATOMIC)
BPF_FETCH = 0x01
BPF_XCHG = 0xE0 | BPF_FETCH
BPF_CMPXCHG = 0xF0 | BPF_FETCH

# ld_imm64 src_reg values and call src_reg values (for relocating instructions)
BPF_PSEUDO_MAP_FD = 1
BPF_PSEUDO_MAP_VALUE = 2
BPF_PSEUDO_BTF_ID = 3
BPF_PSEUDO_FUNC = 4
BPF_PSEUDO_MAP_IDX = 5
BPF_PSEUDO_MAP_IDX_VALUE = 6
BPF_PSEUDO_CALL = 1
BPF_PSEUDO_KFUNC_CALL = 2

# ------------------------------------------------- packet programs (issue 15)

# Flags of bpf_l3_csum_replace / bpf_l4_csum_replace: the field's size in the
# low bits, then options.
BPF_F_HDR_FIELD_MASK = 0xF
BPF_F_PSEUDO_HDR = 1 << 4
BPF_F_MARK_MANGLED_0 = 1 << 5
BPF_F_MARK_ENFORCE = 1 << 6
# bpf_skb_store_bytes flags
BPF_F_RECOMPUTE_CSUM = 1 << 0
BPF_F_INVALIDATE_HASH = 1 << 1
# bpf_redirect flags (tc): to the device's ingress rather than its egress
BPF_F_INGRESS = 1 << 0
# bpf_redirect_map flags (XDP): to every device of the map (but the one the
# packet came in on); the low bits are the action when the slot is empty.
BPF_F_BROADCAST = 1 << 3
BPF_F_EXCLUDE_INGRESS = 1 << 4
REDIRECT_MAP_ACTION_MASK = 0x3


# ------------------------------------------------------------------- limits

BPF_OBJ_NAME_LEN = 16
BPF_TAG_SIZE = 8
INSN_SIZE = 8             # sizeof(struct bpf_insn)
STACK_SIZE = 512          # MAX_BPF_STACK: the stack every BPF program has, in bytes
PAGE_SIZE = 4096          # x86_64: the most of an option value a sockopt program sees

# Verifier log levels (bits of log_level; kernel-internal names, not in the UAPI).
LOG_LEVEL_BASIC = 1       # the log of the failing path (and a summary)
LOG_LEVEL_VERBOSE = 2     # every instruction of every path
LOG_LEVEL_STATS = 4       # statistics only ("processed N insns ...")

# bpf(2)'s system call number per architecture (platform.machine() spelling).
SYSCALL_NUMBERS = {
    "x86_64": 321, "amd64": 321,
    "aarch64": 280, "arm64": 280,
    "i386": 357, "i486": 357, "i586": 357, "i686": 357,
    "armv6l": 386, "armv7l": 386, "armv8l": 386,
    "riscv64": 280,
    "loongarch64": 280,
    "ppc64": 361, "ppc64le": 361,
    "s390x": 351,
}

# ------------------------------------------- perf_event_open(2), linux/perf_event.h
#
# Tracepoints, kprobes and uprobes, CPU sampling and the perf buffer are
# perf events a program is attached to or writes into.

# enum perf_type_id
PERF_TYPE_HARDWARE = 0
PERF_TYPE_SOFTWARE = 1
PERF_TYPE_TRACEPOINT = 2
# enum perf_hw_id
PERF_COUNT_HW_CPU_CYCLES = 0
PERF_COUNT_HW_INSTRUCTIONS = 1
# enum perf_sw_ids
PERF_COUNT_SW_CPU_CLOCK = 0
PERF_COUNT_SW_TASK_CLOCK = 1
PERF_COUNT_SW_BPF_OUTPUT = 10
# enum perf_event_sample_format
PERF_SAMPLE_RAW = 1 << 10
# The flag bits of perf_event_attr after read_format (C bitfields, in order).
PERF_ATTR_FLAG_DISABLED = 1 << 0
PERF_ATTR_FLAG_FREQ = 1 << 10
# perf_event_open flags
PERF_FLAG_FD_CLOEXEC = 1 << 3
# ioctls on a perf event fd: _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32)
PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_DISABLE = 0x2401
PERF_EVENT_IOC_SET_BPF = 0x40042408
# enum perf_event_type: the records of a perf buffer
PERF_RECORD_LOST = 2
PERF_RECORD_SAMPLE = 9
PERF_MAX_STACK_DEPTH = 127

# perf_event_open(2)'s system call number per architecture.
PERF_EVENT_OPEN_SYSCALL_NUMBERS = {
    "x86_64": 298, "amd64": 298,
    "aarch64": 241, "arm64": 241,
    "i386": 336, "i486": 336, "i586": 336, "i686": 336,
    "armv6l": 364, "armv7l": 364, "armv8l": 364,
    "riscv64": 241,
    "loongarch64": 241,
    "ppc64": 319, "ppc64le": 319,
    "s390x": 331,
}

# ------------------------------ cgroup device programs (issue 14 part B)
# struct bpf_cgroup_dev_ctx's access_type is (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*.
BPF_DEVCG_ACC_MKNOD = 1 << 0
BPF_DEVCG_ACC_READ = 1 << 1
BPF_DEVCG_ACC_WRITE = 1 << 2
BPF_DEVCG_DEV_BLOCK = 1 << 0
BPF_DEVCG_DEV_CHAR = 1 << 1

# --------------------------------- sock_ops programs (issue 14 part B)
# struct bpf_sock_ops's op: which TCP event the program is called for.
BPF_SOCK_OPS_VOID = 0
BPF_SOCK_OPS_TIMEOUT_INIT = 1
BPF_SOCK_OPS_RWND_INIT = 2
BPF_SOCK_OPS_TCP_CONNECT_CB = 3
BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB = 4
BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB = 5
BPF_SOCK_OPS_NEEDS_ECN = 6
BPF_SOCK_OPS_BASE_RTT = 7
BPF_SOCK_OPS_RTO_CB = 8
BPF_SOCK_OPS_RETRANS_CB = 9
BPF_SOCK_OPS_STATE_CB = 10
BPF_SOCK_OPS_TCP_LISTEN_CB = 11
BPF_SOCK_OPS_RTT_CB = 12
BPF_SOCK_OPS_PARSE_HDR_OPT_CB = 13
BPF_SOCK_OPS_HDR_OPT_LEN_CB = 14
BPF_SOCK_OPS_WRITE_HDR_OPT_CB = 15
# bpf_sock_ops_cb_flags_set() flags: the callbacks a connection asks for.
BPF_SOCK_OPS_RTO_CB_FLAG = 1 << 0
BPF_SOCK_OPS_RETRANS_CB_FLAG = 1 << 1
BPF_SOCK_OPS_STATE_CB_FLAG = 1 << 2
BPF_SOCK_OPS_RTT_CB_FLAG = 1 << 3
BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG = 1 << 4
BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG = 1 << 5
BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG = 1 << 6
BPF_SOCK_OPS_ALL_CB_FLAGS = 0x7F
# TCP states as struct bpf_sock_ops and struct bpf_sock give them.
BPF_TCP_ESTABLISHED = 1
BPF_TCP_SYN_SENT = 2
BPF_TCP_SYN_RECV = 3
BPF_TCP_FIN_WAIT1 = 4
BPF_TCP_FIN_WAIT2 = 5
BPF_TCP_TIME_WAIT = 6
BPF_TCP_CLOSE = 7
BPF_TCP_CLOSE_WAIT = 8
BPF_TCP_LAST_ACK = 9
BPF_TCP_LISTEN = 10
BPF_TCP_CLOSING = 11
BPF_TCP_NEW_SYN_RECV = 12
# Socket options bpf_setsockopt()/bpf_getsockopt() take in sock_ops
# (<netinet/tcp.h>; TCP_BPF_* are bpf.h's own).
SOL_SOCKET = 1
SOL_TCP = 6
TCP_CONGESTION = 13
TCP_BPF_IW = 1001
TCP_BPF_SNDCWND_CLAMP = 1002
# The longest congestion control name, with its NUL (TCP_CA_NAME_MAX).
TCP_CA_NAME_MAX = 16

# umount2(2) flags (<sys/mount.h>): detach now, free once no one uses it
MNT_DETACH = 2

# What a CO-RE relocation without a match in the kernel writes over its
# instruction (libbpf and the kernel alike): a call of helper 0xbad2310
# ("bad relo"), which the verifier refuses if it can reach it.
CORE_RELO_POISON_HELPER = 0xBAD2310

# ------------------------------------ packet programs (issue 15, runtime part)

# enum xdp_action: what an XDP program returns
XDP_ABORTED = 0
XDP_DROP = 1
XDP_PASS = 2
XDP_TX = 3
XDP_REDIRECT = 4
XDP_ACTIONS = {"XDP_ABORTED": XDP_ABORTED, "XDP_DROP": XDP_DROP, "XDP_PASS": XDP_PASS,
               "XDP_TX": XDP_TX, "XDP_REDIRECT": XDP_REDIRECT}

# <linux/pkt_cls.h> TC_ACT_*: what a tc program returns (UNSPEC is -1)
TC_ACT_UNSPEC = -1
TC_ACT_OK = 0
TC_ACT_RECLASSIFY = 1
TC_ACT_SHOT = 2
TC_ACT_PIPE = 3
TC_ACT_STOLEN = 4
TC_ACT_QUEUED = 5
TC_ACT_REPEAT = 6
TC_ACT_REDIRECT = 7
TC_ACTIONS = {"TC_ACT_UNSPEC": TC_ACT_UNSPEC, "TC_ACT_OK": TC_ACT_OK,
              "TC_ACT_RECLASSIFY": TC_ACT_RECLASSIFY, "TC_ACT_SHOT": TC_ACT_SHOT,
              "TC_ACT_PIPE": TC_ACT_PIPE, "TC_ACT_STOLEN": TC_ACT_STOLEN,
              "TC_ACT_QUEUED": TC_ACT_QUEUED, "TC_ACT_REPEAT": TC_ACT_REPEAT,
              "TC_ACT_REDIRECT": TC_ACT_REDIRECT}

# A cgroup_skb program's verdict: bit 0 lets the packet through (bit 1 asks
# for congestion notification on egress).
CGROUP_SKB_VERDICTS = {"drop": 0, "pass": 1}

# <linux/if_link.h> XDP_FLAGS_*: BPF_LINK_CREATE flags of an XDP link
XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0
XDP_FLAGS_SKB_MODE = 1 << 1       # generic XDP: after the skb is built, any driver
XDP_FLAGS_DRV_MODE = 1 << 2       # native XDP: in the driver, if it has XDP support
XDP_FLAGS_HW_MODE = 1 << 3
XDP_FLAGS_REPLACE = 1 << 4

# Program types whose test run pulls the Ethernet header off the frame it is
# given (bpf_prog_test_run_skb's is_l2 false): the program's packet starts
# at the IP header; XDP and tc programs get the whole frame.
TEST_RUN_FROM_IP_HEADER = frozenset({"BPF_PROG_TYPE_CGROUP_SKB", "BPF_PROG_TYPE_SOCKET_FILTER"})

# struct __sk_buff and struct xdp_md sizes, for test-run contexts
SK_BUFF_SIZE = 192
XDP_MD_SIZE = 24

# Room around an XDP test run's packet (net/bpf/test_run.c), which bounds
# bpf_xdp_adjust_head and bpf_xdp_adjust_tail: the packet starts
# XDP_PACKET_HEADROOM bytes into a page, of which the first
# sizeof(struct xdp_frame) may not be reached; its end may grow to the
# page's end less SKB_DATA_ALIGN(sizeof(struct skb_shared_info)).
XDP_PACKET_HEADROOM = 256
XDP_FRAME_SIZE = 40
SKB_SHARED_INFO_ROOM = 320
# What bpf_l4_csum_replace writes, with BPF_F_MARK_MANGLED_0, for a checksum
# that came out 0 (which would mean "none" in UDP).
CSUM_MANGLED_0 = 0xFFFF

# rtnetlink (<linux/rtnetlink.h>, <linux/pkt_sched.h>, <linux/pkt_cls.h>): what
# attaching a tc program as cls_bpf on a clsact qdisc takes, on kernels
# without tcx links
NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP, NLM_F_EXCL, NLM_F_CREATE = 0x300, 0x200, 0x400
NLA_F_NESTED = 1 << 15
RTM_NEWQDISC, RTM_DELQDISC = 36, 37
RTM_NEWTFILTER, RTM_DELTFILTER, RTM_GETTFILTER = 44, 45, 46
TCA_KIND, TCA_OPTIONS = 1, 2
TCA_BPF_FD, TCA_BPF_NAME, TCA_BPF_FLAGS = 6, 7, 8
TCA_BPF_FLAG_ACT_DIRECT = 1 << 0
TC_H_CLSACT = 0xFFFFFFF1             # the clsact qdisc's parent (TC_H_INGRESS)
TC_H_MIN_INGRESS, TC_H_MIN_EGRESS = 0xFFF2, 0xFFF3
ETH_P_ALL = 0x0003

# ---- the simulation's (pybpfc.simulate): helper flags it interprets
# bpf_strtol / bpf_strtoul: the base in the flags' low bits
STRTOX_BASE_MASK = 0x1F   # kernel/bpf/helpers.c, not in the uapi header
# bpf_ringbuf_output flags
BPF_RB_NO_WAKEUP = 1 << 0
BPF_RB_FORCE_WAKEUP = 1 << 1
# A ring buffer record's 8-byte header: its length, and these two bits while
# the program writes it or after it discarded it
BPF_RINGBUF_BUSY_BIT = 1 << 31
BPF_RINGBUF_DISCARD_BIT = 1 << 30
BPF_RINGBUF_HDR_SZ = 8

# ------------------------------------------------- the mount API (live output)
#
# fsopen(2), fsconfig(2) and fsmount(2) make a mount that is in no
# directory tree: it is reached only through the fd fsmount returns and is
# gone once that fd is closed.  Numbers >= 424 are the same on every
# architecture but alpha.
FSOPEN_SYSCALL = 430
FSCONFIG_SYSCALL = 431
FSMOUNT_SYSCALL = 432
FSOPEN_CLOEXEC = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 1
