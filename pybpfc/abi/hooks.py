"""The hooks pybpfc compiles for, one row each.

A row gives the decorator, the ELF section names (as libbpf spells them), the
program and attach types, what the program is attached to, the context
layout with the fields the hook may read and write (what the kernel's
``*_is_valid_access`` allows for that attach type), the return convention
and the kernel helpers the verifier lets it call.
"""
from typing import NamedTuple, Optional

from .contexts import BPF_SOCK, BPF_SOCKOPT, BPF_SYSCTL, SK_BUFF, Context
from .kernel import ATTACH_TYPES, PAGE_SIZE, PROG_TYPES

# ------------------------------------------------------------ section names

# How libbpf matches a program's section against a name in its section_defs.
EXACT = "exact"                      # SEC("cgroup/sysctl"): the name itself
OPTIONAL_SUFFIX = "optional_suffix"  # libbpf's "name+": the name, or name/anything
REQUIRED_SUFFIX = "required_suffix"  # libbpf's "name/": name/anything (tracepoint/cat/event)


class Section(NamedTuple):
    """An ELF section name that selects a hook, with its match rule."""
    name: str
    match: str = EXACT

    def matches(self, section: str) -> bool:
        if self.match != REQUIRED_SUFFIX and section == self.name:
            return True
        return self.match != EXACT and section.startswith(self.name + "/")


# ---------------------------------------------------------- attach targets

# What a hook's program is attached to (Hook.attach_target).
TARGET_CGROUP = "cgroup"   # a cgroup v2 directory, with the hook's attach type
TARGET_SOCKET = "socket"   # one socket, with setsockopt(SO_ATTACH_BPF); no attach type
# The hooks still to come bring theirs: "netdev" (XDP, tcx: an interface
# index), "tracepoint" (a tracepoint's perf event), "uprobe" (a perf event
# of the uprobe PMU) and "perf_event".
ATTACH_TARGETS = {
    TARGET_CGROUP: "a cgroup (BPF_LINK_CREATE, or BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI)",
    TARGET_SOCKET: "a socket (setsockopt(SOL_SOCKET, SO_ATTACH_BPF))",
}


# ---------------------------------------------------------------- the rows


class Returns(NamedTuple):
    """What a program's return value means.

    ``verdict``: the program returns one of ``values`` (name -> number), e.g.
    ALLOW / REJECT; ``bytes``: the program returns how many bytes of the
    packet to keep (any u32)."""
    kind: str
    values: tuple[tuple[str, int], ...] = ()
    doc: str = ""


class Hook(NamedTuple):
    decorator: str
    # The first is the section pybpfc writes; the others are libbpf's
    # other names for the same hook.
    sections: tuple[Section, ...]
    prog_type: str
    attach_type: Optional[str]
    attach_target: str
    context: Context
    readable: frozenset[str]
    writable: frozenset[str]
    returns: Returns
    # Bounds the kernel enforces on constant writes, field -> (min, max); None = open.
    write_bounds: tuple[tuple[str, Optional[int], Optional[int]], ...] = ()
    # Kernel helper functions (bpf_func_id names without the prefix) the
    # verifier lets this hook call.
    helpers: frozenset[str] = frozenset()
    summary: str = ""
    # Whether the program may load packet bytes directly (BPF_LD_ABS).
    packet_loads: bool = False

    @property
    def section(self) -> str:
        """The section pybpfc writes the hook's programs in."""
        return self.sections[0].name

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
    Hook("cgroup_getsockopt", (Section("cgroup/getsockopt"),), "BPF_PROG_TYPE_CGROUP_SOCKOPT",
         "BPF_CGROUP_GETSOCKOPT", TARGET_CGROUP, BPF_SOCKOPT,
         readable=_SOCKOPT_READ | {"retval"},
         writable=frozenset({"optlen", "retval"}),
         returns=_VERDICT,
         write_bounds=(("optlen", 0, PAGE_SIZE), ("retval", 0, 0)),
         helpers=_SOCKOPT_HELPERS,
         summary="runs after the kernel handled getsockopt(2); may rewrite the value, "
                 "its length and the result"),
    Hook("cgroup_setsockopt", (Section("cgroup/setsockopt"),), "BPF_PROG_TYPE_CGROUP_SOCKOPT",
         "BPF_CGROUP_SETSOCKOPT", TARGET_CGROUP, BPF_SOCKOPT,
         readable=_SOCKOPT_READ,
         writable=frozenset({"level", "optname", "optlen"}),
         returns=_VERDICT,
         write_bounds=(("optlen", -1, PAGE_SIZE),),
         helpers=_SOCKOPT_HELPERS | {"setsockopt", "getsockopt"},
         summary="runs before the kernel handles setsockopt(2); may rewrite level, name and "
                 "value, or consume the option (optlen = -1)"),
    Hook("cgroup_sysctl", (Section("cgroup/sysctl"),), "BPF_PROG_TYPE_CGROUP_SYSCTL",
         "BPF_CGROUP_SYSCTL", TARGET_CGROUP, BPF_SYSCTL,
         readable=frozenset({"write", "file_pos"}),
         writable=frozenset({"file_pos"}),
         returns=_VERDICT,
         helpers=_COMMON_HELPERS | {"get_local_storage", "sysctl_get_name",
                                    "sysctl_get_current_value", "sysctl_get_new_value",
                                    "sysctl_set_new_value", "get_retval", "set_retval"},
         summary="runs when a task in the cgroup reads or writes a file under /proc/sys"),
    Hook("cgroup_sock_create", (Section("cgroup/sock_create"), Section("cgroup/sock")),
         "BPF_PROG_TYPE_CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_CREATE", TARGET_CGROUP, BPF_SOCK,
         readable=_SOCK_READ | _SOCK_WRITE, writable=_SOCK_WRITE, returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs when a task in the cgroup creates an INET socket"),
    Hook("cgroup_sock_release", (Section("cgroup/sock_release"),), "BPF_PROG_TYPE_CGROUP_SOCK",
         "BPF_CGROUP_INET_SOCK_RELEASE", TARGET_CGROUP, BPF_SOCK,
         readable=_SOCK_READ | _SOCK_WRITE, writable=_SOCK_WRITE, returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs when an INET socket created in the cgroup is released"),
    Hook("cgroup_post_bind4", (Section("cgroup/post_bind4"),), "BPF_PROG_TYPE_CGROUP_SOCK",
         "BPF_CGROUP_INET4_POST_BIND", TARGET_CGROUP, BPF_SOCK,
         readable=_SOCK_READ | {"src_ip4", "src_port"}, writable=frozenset(), returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs after an IPv4 socket created in the cgroup was bound to an address"),
    Hook("cgroup_post_bind6", (Section("cgroup/post_bind6"),), "BPF_PROG_TYPE_CGROUP_SOCK",
         "BPF_CGROUP_INET6_POST_BIND", TARGET_CGROUP, BPF_SOCK,
         readable=_SOCK_READ | {"src_ip6", "src_port"}, writable=frozenset(), returns=_VERDICT,
         helpers=_SOCK_HELPERS,
         summary="runs after an IPv6 socket created in the cgroup was bound to an address"),
    # libbpf 1.x matches "socket" exactly; pybpfc also reads "socket/NAME",
    # which libbpf's legacy mode (SEC_SLOPPY_PFX) accepted.
    Hook("socket_filter", (Section("socket", OPTIONAL_SUFFIX),), "BPF_PROG_TYPE_SOCKET_FILTER",
         None, TARGET_SOCKET, SK_BUFF,
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

# ---------------------------------------------------------------- lookups

HOOKS_BY_DECORATOR = {h.decorator: h for h in HOOKS}
# The section pybpfc writes for each hook.
HOOKS_BY_SECTION = {h.section: h for h in HOOKS}


def hook_named(decorator: str) -> Hook:
    return HOOKS_BY_DECORATOR[decorator]


def hook_for_section(section: str) -> Optional[Hook]:
    """The hook an ELF section selects, by libbpf's rules, or None."""
    exact = HOOKS_BY_SECTION.get(section)
    if exact is not None:
        return exact
    for hook in HOOKS:
        if any(s.matches(section) for s in hook.sections):
            return hook
    return None


def section_names() -> list[str]:
    """Every section name the table knows: those pybpfc writes, then
    libbpf's other names."""
    return sorted(HOOKS_BY_SECTION) + sorted(s.name for h in HOOKS for s in h.sections[1:])
