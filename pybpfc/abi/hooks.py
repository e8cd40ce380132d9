"""The hooks pybpfc compiles for, one row each.

A row gives the decorator, the kind of program it is (``programs.py``: its
sections, program and attach types, and what it is attached to), the context
layout with the fields the hook may read and write (what the kernel's
``*_is_valid_access`` allows for that attach type), the return convention
and the kernel helpers the verifier lets it call.
"""
import string
from typing import NamedTuple, Optional

from . import kernel
from .contexts import (BPF_CGROUP_DEV_CTX, BPF_SOCK, BPF_SOCK_ADDR, BPF_SOCK_OPS, BPF_SOCKOPT,
                       BPF_SYSCTL, SK_BUFF, XDP_MD, Context)
from .contexts import PERF_EVENT_DATA, PT_REGS, RAW_TRACEPOINT_ARGS, TRACEPOINT  # tracing
from .kernel import PAGE_SIZE
from .programs import PROGRAM_KINDS_BY_NAME, ProgramKind, Section, program_kind_for_section

# ---------------------------------------------------------------- the rows


class Returns(NamedTuple):
    """What a program's return value means.

    ``verdict``: the program returns one of ``values`` (name -> number), e.g.
    ALLOW / REJECT; ``bytes``: the program returns how many bytes of the
    packet to keep (any u32); ``action``: one of ``values`` (an i32), which
    the program may also compute (packet programs' XDP_* and TC_ACT_*)."""
    kind: str
    values: tuple[tuple[str, int], ...] = ()
    doc: str = ""


class Hook(NamedTuple):
    decorator: str
    kind: ProgramKind
    context: Context
    readable: frozenset[str]
    writable: frozenset[str]
    returns: Returns
    # Bounds the kernel enforces when the call returns, field -> (min, max);
    # None = open.  The verifier loads any value: outside them the call
    # fails with EFAULT (the compiler warns of a constant).
    write_bounds: tuple[tuple[str, Optional[int], Optional[int]], ...] = ()
    # Kernel helper functions (bpf_func_id names without the prefix) the
    # verifier lets this hook call.
    helpers: frozenset[str] = frozenset()
    summary: str = ""
    # Whether the program may load packet bytes directly (BPF_LD_ABS).
    packet_loads: bool = False
    # What the decorator is called with, as a format of its parameters that
    # gives the section's target: "{category}/{name}" makes
    # @tracepoint("syscalls", "sys_enter_openat") write the section
    # tracepoint/syscalls/sys_enter_openat.  "" for a bare decorator.
    target: str = ""
    # A target for examples, tests and fuzzers: the decorator's arguments.
    example_target: tuple[str, ...] = ()

    # Direct packet access (``ctx.header(T, offset)``): "" none, "read" or
    # "write" (its headers' fields may be assigned).
    packet: str = ""
    # The decorator's arguments, in target_params' order, once for_target
    # made the hook of one function (a typed context must name the same).
    target_values: tuple[str, ...] = ()

    @property
    def target_params(self) -> tuple[str, ...]:
        """The decorator's parameters, in order."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.target) if name)

    @property
    def example_decorator(self) -> str:
        """The decorator as a program writes it, with the example target."""
        if not self.target:
            return f"@{self.decorator}"
        quoted = ", ".join('"' + a + '"' for a in self.example_target)
        return f"@{self.decorator}({quoted})"

    def for_target(self, values: dict[str, str], context: Context,
                   readable: frozenset[str]) -> "Hook":
        """This hook as one function's decorator arguments make it: its
        section names the target, and its context is the target's."""
        section = Section(f"{self.section}/{self.target.format(**values)}")
        return self._replace(kind=self.kind._replace(sections=(section,)), context=context,
                             readable=readable,
                             target_values=tuple(values[p] for p in self.target_params))

    # What the hook's program kind says, for the compiler's convenience.
    @property
    def section(self) -> str:
        """The section pybpfc writes the hook's programs in."""
        return self.kind.name

    @property
    def sections(self) -> tuple[Section, ...]:
        return self.kind.sections

    @property
    def prog_type(self) -> str:
        return self.kind.prog_type

    @property
    def attach_type(self) -> Optional[str]:
        return self.kind.attach_type

    @property
    def attach_target(self) -> str:
        return self.kind.attach_target

    @property
    def prog_type_id(self) -> int:
        return self.kind.prog_type_id

    @property
    def attach_type_id(self) -> Optional[int]:
        return self.kind.attach_type_id

    def bounds(self, field_name: str) -> tuple[Optional[int], Optional[int]]:
        for name, lo, hi in self.write_bounds:
            if name == field_name:
                return lo, hi
        return None, None


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

_KIND = PROGRAM_KINDS_BY_NAME

# Tracing programs: the kernel ignores what they return.
_IGNORED = Returns("value", (), "any integer, which the kernel ignores: return 0")
_TRACING_HELPERS = frozenset({
    "map_lookup_elem", "map_update_elem", "map_delete_elem", "get_current_uid_gid",
    "get_current_pid_tgid", "get_current_comm", "get_current_cgroup_id", "ktime_get_ns",
    "ktime_get_boot_ns", "get_prandom_u32", "trace_printk", "ringbuf_output",
    "get_smp_processor_id", "get_current_task", "get_current_task_btf", "probe_read_user",
    "probe_read_kernel", "probe_read_user_str", "probe_read_kernel_str", "get_stackid",
})
_LIBC_GETENV = ("/usr/lib/x86_64-linux-gnu/libc.so.6", "getenv")
_PT_REGS_READ = frozenset(f.name for f in PT_REGS.fields)

HOOKS: tuple[Hook, ...] = (
    Hook("cgroup_getsockopt", _KIND["cgroup/getsockopt"], BPF_SOCKOPT,
         readable=_SOCKOPT_READ | {"retval"},
         writable=frozenset({"optlen", "retval"}),
         returns=_VERDICT,
         # retval: any value loads and is the call's result (Linux 6.18
         # returns a positive one as it is, no EFAULT).
         write_bounds=(("optlen", 0, PAGE_SIZE),),
         helpers=_SOCKOPT_HELPERS,
         summary="runs after the kernel handled getsockopt(2); may rewrite the value, "
                 "its length and the result"),
    Hook("cgroup_setsockopt", _KIND["cgroup/setsockopt"], BPF_SOCKOPT,
         readable=_SOCKOPT_READ,
         writable=frozenset({"level", "optname", "optlen"}),
         returns=_VERDICT,
         write_bounds=(("optlen", -1, PAGE_SIZE),),
         helpers=_SOCKOPT_HELPERS | {"setsockopt", "getsockopt"},
         summary="runs before the kernel handles setsockopt(2); may rewrite level, name and "
                 "value, or consume the option (optlen = -1)"),
    Hook("cgroup_sysctl", _KIND["cgroup/sysctl"], BPF_SYSCTL,
         readable=frozenset({"write", "file_pos"}),
         writable=frozenset({"file_pos"}),
         returns=_VERDICT,
         helpers=_COMMON_HELPERS | {"get_local_storage", "sysctl_get_name",
                                    "sysctl_get_current_value", "sysctl_get_new_value",
                                    "sysctl_set_new_value", "get_retval", "set_retval"},
         summary="runs when a task in the cgroup reads or writes a file under /proc/sys"),
    Hook("cgroup_sock_create", _KIND["cgroup/sock_create"], BPF_SOCK,
         readable=_SOCK_READ | _SOCK_WRITE, writable=_SOCK_WRITE, returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs when a task in the cgroup creates an INET socket"),
    Hook("cgroup_sock_release", _KIND["cgroup/sock_release"], BPF_SOCK,
         readable=_SOCK_READ | _SOCK_WRITE, writable=_SOCK_WRITE, returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs when an INET socket created in the cgroup is released"),
    Hook("cgroup_post_bind4", _KIND["cgroup/post_bind4"], BPF_SOCK,
         readable=_SOCK_READ | {"src_ip4", "src_port"}, writable=frozenset(), returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs after an IPv4 socket created in the cgroup was bound to an address"),
    Hook("cgroup_post_bind6", _KIND["cgroup/post_bind6"], BPF_SOCK,
         readable=_SOCK_READ | {"src_ip6", "src_port"}, writable=frozenset(), returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs after an IPv6 socket created in the cgroup was bound to an address"),
    Hook("socket_filter", _KIND["socket"], SK_BUFF,
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
    # -- tracing: attached to kernel events, not to a cgroup
    Hook("tracepoint", _KIND["tracepoint"], TRACEPOINT, readable=frozenset(),
         writable=frozenset(), returns=_IGNORED, helpers=_TRACING_HELPERS,
         target="{category}/{name}", example_target=("syscalls", "sys_enter_openat"),
         summary="runs each time the kernel reaches the tracepoint CATEGORY/NAME (see "
                 "/sys/kernel/tracing/events); its fields are the event's, as the kernel's "
                 "format file describes them when the program is compiled"),
    Hook("raw_tracepoint", _KIND["raw_tracepoint"], RAW_TRACEPOINT_ARGS,
         readable=frozenset({"args"}), writable=frozenset(), returns=_IGNORED,
         helpers=_TRACING_HELPERS, target="{name}", example_target=("sys_enter",),
         summary="runs each time the kernel reaches the tracepoint NAME, with the "
                 "tracepoint's own arguments (ctx.args[i]) instead of its formatted event"),
    Hook("btf_tracepoint", _KIND["tp_btf"], RAW_TRACEPOINT_ARGS,
         readable=frozenset({"args"}), writable=frozenset(), returns=_IGNORED,
         helpers=_TRACING_HELPERS, target="{name}", example_target=("sched_process_exec",),
         summary="runs each time the kernel reaches the tracepoint NAME, with its arguments "
                 "typed by the kernel's BTF (loaded against btf_trace_NAME)"),
    Hook("uprobe", _KIND["uprobe"], PT_REGS, readable=_PT_REGS_READ, writable=frozenset(),
         returns=_IGNORED, helpers=_TRACING_HELPERS, target="{binary}:{function}",
         example_target=_LIBC_GETENV,
         summary="runs when any process enters FUNCTION of the executable or library BINARY "
                 "(ctx.arg1 .. ctx.arg6 are its arguments)"),
    Hook("uretprobe", _KIND["uretprobe"], PT_REGS, readable=_PT_REGS_READ,
         writable=frozenset(), returns=_IGNORED, helpers=_TRACING_HELPERS,
         target="{binary}:{function}", example_target=_LIBC_GETENV,
         summary="runs when FUNCTION of the executable or library BINARY returns "
                 "(ctx.ret is its result)"),
    Hook("perf_event", _KIND["perf_event"], PERF_EVENT_DATA,
         readable=frozenset(f.name for f in PERF_EVENT_DATA.fields), writable=frozenset(),
         returns=_IGNORED, helpers=_TRACING_HELPERS,
         summary="runs at each sample of a perf event on every CPU (by default the CPU "
                 "clock, 99 times a second), in whatever task the CPU was running"),
    # ---- device and TCP-event cgroup hooks (issue 14 part B)
    Hook("cgroup_device", _KIND["cgroup/dev"], BPF_CGROUP_DEV_CTX,
         readable=frozenset(f.name for f in BPF_CGROUP_DEV_CTX.fields),
         writable=frozenset(),
         returns=Returns("verdict", _VERDICT.values,
                         "ALLOW (1) lets the task open or create the device node; "
                         "REJECT (0) refuses it with EPERM"),
         helpers=_COMMON_HELPERS | {"get_local_storage", "get_retval", "set_retval"},
         summary="runs when a task in the cgroup opens a device node or creates one "
                 "with mknod(2)"),
    Hook("sock_ops", _KIND["sockops"], BPF_SOCK_OPS,
         readable=frozenset(f.name for f in BPF_SOCK_OPS.fields),
         writable=frozenset({"reply", "sk_txhash"}),
         returns=Returns("verdict", _VERDICT.values,
                         "ALLOW (1): the event's answer is ctx.reply; REJECT (0): it is -1"),
         helpers=_COMMON_HELPERS | {"get_local_storage", "get_socket_cookie",
                                    "get_netns_cookie", "setsockopt", "getsockopt",
                                    "sock_ops_cb_flags_set"},
         summary="runs at the TCP events of connections whose sockets were created in "
                 "the cgroup (ctx.op says which: established, RTT, state change, ...)"),
)

# ------------------------------------------------------- sock_addr hooks
# Rights as the kernel's sock_addr_is_valid_access gives them per attach
# type: the address of the hook's family (and the datagram's source in
# sendmsg) read and write, user_port read and write in every hook, the rest
# read only; return values as its check_return_code wants them.

_BIND_VERDICT = Returns("verdict", (("ALLOW", 1), ("REJECT", 0), ("ALLOW_PRIVILEGED_PORT", 3)),
                        "ALLOW (1) lets the bind go on; REJECT (0) refuses it with EPERM; "
                        "ALLOW_PRIVILEGED_PORT (3) also lets a process without "
                        "CAP_NET_BIND_SERVICE bind a port below 1024")
_MUST_ALLOW = Returns("verdict", (("ALLOW", 1),),
                      "ALLOW (1), always: the hook may rewrite the address the caller sees, "
                      "not refuse the call")
_SOCK_ADDR_READ = frozenset({"user_family", "user_port", "family", "type", "protocol", "sk"})
_SOCK_ADDR_HELPERS = _COMMON_HELPERS | {"get_local_storage", "sk_storage_get",
                                        "sk_storage_delete", "get_socket_cookie",
                                        "get_netns_cookie"}
# The calls a hook may refuse share their result with get_retval/set_retval.
_SOCK_ADDR_REFUSING_HELPERS = _SOCK_ADDR_HELPERS | {"get_retval", "set_retval"}
_ADDRESS = {"4": ("user_ip4",), "6": ("user_ip6",), "_unix": ()}
_SOURCE = {"4": ("msg_src_ip4",), "6": ("msg_src_ip6",), "_unix": ()}
_FAMILY_TEXT = {"4": "an IPv4", "6": "an IPv6", "_unix": "a Unix"}


def _sock_addr(call: str, family: str, returns: Returns, helpers: frozenset[str],
               summary: str) -> Hook:
    address = frozenset(_ADDRESS[family]) | (frozenset(_SOURCE[family]) if call == "sendmsg"
                                            else frozenset())
    return Hook(f"cgroup_{call}{family}", _KIND[f"cgroup/{call}{family}"], BPF_SOCK_ADDR,
                readable=_SOCK_ADDR_READ | address, writable=address | {"user_port"},
                returns=returns, helpers=helpers,
                summary=summary.format(socket=_FAMILY_TEXT[family] + " socket"))


HOOKS += (
    _sock_addr("bind", "4", _BIND_VERDICT, _SOCK_ADDR_REFUSING_HELPERS,
               "runs when {socket} created in the cgroup is bound; may rewrite the address"),
    _sock_addr("bind", "6", _BIND_VERDICT, _SOCK_ADDR_REFUSING_HELPERS,
               "runs when {socket} created in the cgroup is bound; may rewrite the address"),
) + tuple(
    _sock_addr("connect", family, _VERDICT,
               _SOCK_ADDR_REFUSING_HELPERS | ({"bind"} if family != "_unix" else set()),
               "runs when {socket} created in the cgroup connects; may rewrite the "
               "destination")
    for family in ("4", "6", "_unix")
) + tuple(
    _sock_addr("sendmsg", family, _VERDICT, _SOCK_ADDR_REFUSING_HELPERS,
               "runs when {socket} created in the cgroup sends a datagram to an address "
               "(UDP, or Unix datagram); may rewrite the destination and the source")
    for family in ("4", "6", "_unix")
) + tuple(
    _sock_addr(call, family, _MUST_ALLOW, _SOCK_ADDR_HELPERS, summary)
    for call, summary in (
        ("recvmsg", "runs when {socket} created in the cgroup receives a datagram; may "
                    "rewrite the source address the caller sees"),
        ("getpeername", "runs when getpeername(2) is called on {socket} created in the "
                        "cgroup; may rewrite the address it returns"),
        ("getsockname", "runs when getsockname(2) is called on {socket} created in the "
                        "cgroup; may rewrite the address it returns"))
    for family in ("4", "6", "_unix")
)

# ------------------------------------------------ packet programs (issue 15)

def _actions(*names: str) -> tuple[tuple[str, int], ...]:
    return tuple((name, getattr(kernel, name)) for name in names)


_PACKET_HELPERS = frozenset({"map_lookup_elem", "map_update_elem", "map_delete_elem",
                             "ktime_get_ns", "get_prandom_u32", "trace_printk",
                             "ringbuf_output"})
# struct __sk_buff as bpf_skb_is_valid_access and the hooks' own rules give it.
_SKB_READ = frozenset({"len", "pkt_type", "mark", "queue_mapping", "protocol", "vlan_present",
                       "vlan_tci", "vlan_proto", "priority", "ingress_ifindex", "ifindex",
                       "tc_index", "cb", "hash", "data", "data_end", "napi_id", "gso_segs",
                       "gso_size"})
_TC = dict(
    readable=_SKB_READ | {"tc_classid", "data_meta"},
    writable=frozenset({"mark", "priority", "tc_index", "tc_classid", "cb", "queue_mapping"}),
    returns=Returns("action", _actions("TC_ACT_UNSPEC", "TC_ACT_OK", "TC_ACT_RECLASSIFY",
                                        "TC_ACT_SHOT", "TC_ACT_PIPE", "TC_ACT_STOLEN",
                                        "TC_ACT_QUEUED", "TC_ACT_REPEAT", "TC_ACT_REDIRECT"),
                    "TC_ACT_OK (0) lets the packet go on, TC_ACT_SHOT (2) drops it, "
                    "TC_ACT_REDIRECT (7) sends it where redirect() said; with tcx links "
                    "TC_ACT_UNSPEC (-1) runs the next program"),
    helpers=_PACKET_HELPERS | {"skb_load_bytes", "skb_store_bytes", "l3_csum_replace",
                               "l4_csum_replace", "redirect", "skb_pull_data", "tail_call"},
    packet="write")
_CGROUP_SKB = dict(
    readable=_SKB_READ, writable=frozenset({"mark", "priority", "cb"}),
    returns=Returns("verdict", (("ALLOW", 1), ("DROP", 0)),
                    "ALLOW (1) lets the packet through; DROP (0) drops it (on egress the "
                    "sender gets EPERM)"),
    helpers=_PACKET_HELPERS | {"skb_load_bytes", "get_socket_cookie", "get_socket_uid",
                               "get_local_storage"},
    packet="read")

HOOKS += (
    Hook("xdp", _KIND["xdp"], XDP_MD,
         readable=frozenset({"data", "data_end", "data_meta", "ingress_ifindex",
                             "rx_queue_index"}),
         writable=frozenset(),
         returns=Returns("action", _actions("XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
                                             "XDP_REDIRECT"),
                         "XDP_PASS (2) hands the packet to the kernel, XDP_DROP (1) drops "
                         "it, XDP_TX (3) sends it back out of the device it came in on, "
                         "XDP_REDIRECT (4) sends it where redirect() said"),
         helpers=_PACKET_HELPERS | {"xdp_adjust_head", "xdp_adjust_tail", "redirect",
                                    "redirect_map", "tail_call"},
         packet="write",
         summary="runs for each packet a network device receives, before the kernel "
                 "has done anything with it"),
    # One hook for both directions, in libbpf's "tc" section (which bpftool
    # and iproute2 load too): the direction is chosen when it is attached.
    Hook("tc", _KIND["tc"], SK_BUFF, **_TC,  # type: ignore[arg-type]
         summary="runs for each packet a device receives or sends (attached to its "
                 "ingress or egress), after the kernel made it an sk_buff"),
    Hook("cgroup_skb_ingress", _KIND["cgroup_skb/ingress"], SK_BUFF,
         **_CGROUP_SKB,  # type: ignore[arg-type]
         summary="runs for each IP packet a socket created in the cgroup receives; "
                 "the packet starts at its IP header"),
    Hook("cgroup_skb_egress", _KIND["cgroup_skb/egress"], SK_BUFF,
         **_CGROUP_SKB,  # type: ignore[arg-type]
         summary="runs for each IP packet a socket created in the cgroup sends; "
                 "the packet starts at its IP header"),
)

# ---------------------------------------------------------------- lookups

HOOKS_BY_DECORATOR = {h.decorator: h for h in HOOKS}
# The section pybpfc writes for each hook.
HOOKS_BY_SECTION = {h.section: h for h in HOOKS}


def hook_named(decorator: str) -> Hook:
    return HOOKS_BY_DECORATOR[decorator]


def hook_for_section(section: str) -> Optional[Hook]:
    """The hook whose programs an ELF section holds, by libbpf's rules, or
    None (also for a kind of program pybpfc has no hook for)."""
    kind = program_kind_for_section(section)
    return None if kind is None else HOOKS_BY_SECTION.get(kind.name)
