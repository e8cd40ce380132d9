"""pybpfc: write Linux BPF hooks as typed Python functions.

Importing this package gives a program the decorators, integer types,
context types, maps and constants it uses.  It never imports the compiler.
"""
from . import _safe_sys_path  # noqa: F401  (first of all: see its docstring)
from .lang import (get_current_cgroup_id, get_current_comm, get_current_pid_tgid,
                   get_current_uid_gid, get_netns_cookie, get_prandom_u32, get_retval,
                   get_socket_cookie, get_socket_uid, getsockopt, ktime_get_ns, set_retval,
                   setsockopt, skb_load_bytes, strtol, strtoul, sysctl_get_current_value,
                   sysctl_get_name, sysctl_get_new_value, sysctl_set_new_value)
from .lang import (ALLOW, BPF_ANY, BPF_EXIST, BPF_NOEXIST, DROP, KEEP_ALL, PAGE_SIZE, REJECT,
                   ArrayMap, CgroupStorage, HashMap, LruHashMap, OptvalWindow, ParsedInt,
                   ParsedUint, PerCpuArrayMap, PerCpuHashMap, ReadOnly, Ref, RingBuf, SkBuff,
                   SockContext, SockoptContext, SockStorage, SysctlContext, atomic_add,
                   cgroup_getsockopt, cgroup_post_bind4, cgroup_post_bind6, cgroup_setsockopt,
                   cgroup_sock_create, cgroup_sock_release, cgroup_sysctl, htonl, htons, i8,
                   i16, i32, i64, ntohl, ntohs, socket_filter, struct, u8, u16, u32, u64)
# sock_addr hooks
from .lang import (ALLOW_PRIVILEGED_PORT, SockAddrContext, bind, cgroup_bind4, cgroup_bind6,
                   cgroup_connect4, cgroup_connect6, cgroup_connect_unix, cgroup_getpeername4,
                   cgroup_getpeername6, cgroup_getpeername_unix, cgroup_getsockname4,
                   cgroup_getsockname6, cgroup_getsockname_unix, cgroup_recvmsg4,
                   cgroup_recvmsg6, cgroup_recvmsg_unix, cgroup_sendmsg4, cgroup_sendmsg6,
                   cgroup_sendmsg_unix)
# Tracing: decorators, contexts and helpers.
from .lang import (Histogram, PerfEventContext, RawTracepointArgs, TracepointContext, UprobeContext,
                   btf_tracepoint, get_current_task, get_current_task_btf,
                   get_smp_processor_id, ktime_get_boot_ns,
                   perf_event, probe_read_kernel, probe_read_kernel_str, probe_read_user,
                   probe_read_user_str, raw_tracepoint, tracepoint, uprobe, uretprobe)
# device and TCP-event cgroup hooks (issue 14 part B)
from .lang import (BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE,
                   BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR, DeviceContext, cgroup_device)
from .lang import (BPF_SOCK_OPS_VOID, BPF_SOCK_OPS_TIMEOUT_INIT, BPF_SOCK_OPS_RWND_INIT,
                   BPF_SOCK_OPS_TCP_CONNECT_CB, BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB,
                   BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB, BPF_SOCK_OPS_NEEDS_ECN,
                   BPF_SOCK_OPS_BASE_RTT, BPF_SOCK_OPS_RTO_CB, BPF_SOCK_OPS_RETRANS_CB,
                   BPF_SOCK_OPS_STATE_CB, BPF_SOCK_OPS_TCP_LISTEN_CB, BPF_SOCK_OPS_RTT_CB,
                   BPF_SOCK_OPS_PARSE_HDR_OPT_CB, BPF_SOCK_OPS_HDR_OPT_LEN_CB,
                   BPF_SOCK_OPS_WRITE_HDR_OPT_CB, BPF_SOCK_OPS_RTO_CB_FLAG,
                   BPF_SOCK_OPS_RETRANS_CB_FLAG, BPF_SOCK_OPS_STATE_CB_FLAG,
                   BPF_SOCK_OPS_RTT_CB_FLAG, BPF_SOCK_OPS_ALL_CB_FLAGS, BPF_TCP_ESTABLISHED,
                   BPF_TCP_CLOSE, BPF_TCP_LISTEN, SOL_SOCKET, SOL_TCP, TCP_CONGESTION, TCP_BPF_IW,
                   TCP_BPF_SNDCWND_CLAMP, TCP_CA_NAME_MAX, SockOpsContext, sock_ops,
                   sock_ops_cb_flags_set)

from .lang import (BPF_F_INGRESS, BPF_F_INVALIDATE_HASH, BPF_F_MARK_MANGLED_0, BPF_F_PSEUDO_HDR,
                   BPF_F_RECOMPUTE_CSUM, TC_ACT_OK, TC_ACT_PIPE, TC_ACT_QUEUED,
                   TC_ACT_RECLASSIFY, TC_ACT_REDIRECT, TC_ACT_REPEAT, TC_ACT_SHOT,
                   TC_ACT_STOLEN, TC_ACT_UNSPEC, XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_REDIRECT,
                   XDP_TX, XdpContext, cgroup_skb_egress, cgroup_skb_ingress, l3_csum_replace,
                   l4_csum_replace, redirect, skb_pull_data, skb_store_bytes, tc, xdp,
                   xdp_adjust_head, xdp_adjust_tail)
from .lang import (ETH_ALEN, ETH_HLEN, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, IPPROTO_ICMP,
                   IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, EthHdr, IcmpHdr, Ipv4Hdr, Ipv6Hdr,
                   LpmTrie, TcpHdr, UdpHdr, VlanHdr, be16, be32)
from .lang import DevMap, DevMapHash, ProgArray, tail_call
from .lang import (BPF_F_FAST_STACK_CMP, BPF_F_REUSE_STACKID, BPF_F_USER_STACK, StackTraceMap,
                   get_stackid)

__version__ = "0.1.0"

__all__ = [
    "ALLOW", "BPF_ANY", "BPF_EXIST", "BPF_NOEXIST", "DROP", "KEEP_ALL", "PAGE_SIZE", "REJECT",
    "OptvalWindow", "ReadOnly", "SkBuff", "SockContext", "SockoptContext", "SysctlContext",
    "cgroup_getsockopt", "cgroup_post_bind4", "cgroup_post_bind6", "cgroup_setsockopt",
    "cgroup_sock_create", "cgroup_sock_release", "cgroup_sysctl", "htonl", "htons", "i8",
    "i16", "i32", "i64", "ntohl", "ntohs", "socket_filter", "struct", "u8", "u16", "u32", "u64",
    # maps and the references their lookups return
    "ArrayMap", "CgroupStorage", "HashMap", "LruHashMap", "PerCpuArrayMap", "PerCpuHashMap",
    "Ref", "RingBuf", "SockStorage", "atomic_add",
    # kernel helpers
    "ParsedInt", "ParsedUint",
    "get_current_cgroup_id", "get_current_comm", "get_current_pid_tgid", "get_current_uid_gid",
    "get_netns_cookie", "get_prandom_u32", "get_retval", "get_socket_cookie", "get_socket_uid",
    "getsockopt", "ktime_get_ns", "set_retval", "setsockopt", "skb_load_bytes", "strtol",
    "strtoul", "sysctl_get_current_value", "sysctl_get_name", "sysctl_get_new_value",
    "sysctl_set_new_value",
    # sock_addr hooks
    "ALLOW_PRIVILEGED_PORT", "SockAddrContext", "bind", "cgroup_bind4", "cgroup_bind6",
    "cgroup_connect4", "cgroup_connect6", "cgroup_connect_unix", "cgroup_getpeername4",
    "cgroup_getpeername6", "cgroup_getpeername_unix", "cgroup_getsockname4",
    "cgroup_getsockname6", "cgroup_getsockname_unix", "cgroup_recvmsg4", "cgroup_recvmsg6",
    "cgroup_recvmsg_unix", "cgroup_sendmsg4", "cgroup_sendmsg6", "cgroup_sendmsg_unix",
    # tracing
    "Histogram", "PerfEventContext", "RawTracepointArgs", "TracepointContext", "UprobeContext",
    "btf_tracepoint", "perf_event", "raw_tracepoint", "tracepoint", "uprobe", "uretprobe",
    "get_current_task", "get_current_task_btf", "get_smp_processor_id", "ktime_get_boot_ns", "probe_read_kernel",
    "probe_read_kernel_str", "probe_read_user", "probe_read_user_str",
    "BPF_F_FAST_STACK_CMP", "BPF_F_REUSE_STACKID", "BPF_F_USER_STACK", "StackTraceMap",
    "get_stackid",
    # packet programs (issue 15)
    "BPF_F_INGRESS", "BPF_F_INVALIDATE_HASH", "BPF_F_MARK_MANGLED_0", "BPF_F_PSEUDO_HDR",
    "BPF_F_RECOMPUTE_CSUM", "TC_ACT_OK", "TC_ACT_PIPE", "TC_ACT_QUEUED", "TC_ACT_RECLASSIFY",
    "TC_ACT_REDIRECT", "TC_ACT_REPEAT", "TC_ACT_SHOT", "TC_ACT_STOLEN", "TC_ACT_UNSPEC",
    "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_REDIRECT", "XDP_TX", "XdpContext",
    "cgroup_skb_egress", "cgroup_skb_ingress", "tc", "xdp",
    "l3_csum_replace", "l4_csum_replace", "redirect", "skb_pull_data", "skb_store_bytes",
    "xdp_adjust_head", "xdp_adjust_tail",
    "ETH_ALEN", "ETH_HLEN", "ETH_P_8021Q", "ETH_P_ARP", "ETH_P_IP", "ETH_P_IPV6", "IPPROTO_ICMP",
    "IPPROTO_ICMPV6", "IPPROTO_TCP", "IPPROTO_UDP", "EthHdr", "IcmpHdr", "Ipv4Hdr", "Ipv6Hdr",
    "TcpHdr", "UdpHdr", "VlanHdr", "be16", "be32", "LpmTrie", "DevMap", "DevMapHash",
    "ProgArray", "tail_call",
    # device and TCP-event cgroup hooks (issue 14 part B)
    "BPF_DEVCG_ACC_MKNOD", "BPF_DEVCG_ACC_READ", "BPF_DEVCG_ACC_WRITE", "BPF_DEVCG_DEV_BLOCK",
    "BPF_DEVCG_DEV_CHAR", "DeviceContext", "cgroup_device",
    "BPF_SOCK_OPS_VOID", "BPF_SOCK_OPS_TIMEOUT_INIT", "BPF_SOCK_OPS_RWND_INIT",
    "BPF_SOCK_OPS_TCP_CONNECT_CB", "BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB",
    "BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB", "BPF_SOCK_OPS_NEEDS_ECN", "BPF_SOCK_OPS_BASE_RTT",
    "BPF_SOCK_OPS_RTO_CB", "BPF_SOCK_OPS_RETRANS_CB", "BPF_SOCK_OPS_STATE_CB",
    "BPF_SOCK_OPS_TCP_LISTEN_CB", "BPF_SOCK_OPS_RTT_CB", "BPF_SOCK_OPS_PARSE_HDR_OPT_CB",
    "BPF_SOCK_OPS_HDR_OPT_LEN_CB", "BPF_SOCK_OPS_WRITE_HDR_OPT_CB", "BPF_SOCK_OPS_RTO_CB_FLAG",
    "BPF_SOCK_OPS_RETRANS_CB_FLAG", "BPF_SOCK_OPS_STATE_CB_FLAG", "BPF_SOCK_OPS_RTT_CB_FLAG",
    "BPF_SOCK_OPS_ALL_CB_FLAGS", "BPF_TCP_ESTABLISHED", "BPF_TCP_CLOSE", "BPF_TCP_LISTEN",
    "SOL_SOCKET", "SOL_TCP", "TCP_CONGESTION", "TCP_BPF_IW", "TCP_BPF_SNDCWND_CLAMP",
    "TCP_CA_NAME_MAX", "SockOpsContext", "sock_ops", "sock_ops_cb_flags_set",
]
