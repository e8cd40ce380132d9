"""The kinds of BPF program the runtime loads and attaches, one row each:
libbpf's section table, as far as pybpfc knows it.

A row gives the ELF section names that select the kind (with libbpf's match
rule), the program type and expected attach type the kernel loads it with,
and what it is attached to.  The runtime reads these rows for any object,
pybpfc's or clang's; the language's hooks (``hooks.py``) each name the kind
their programs are, and add what the compiler needs (context rights,
helpers, return convention).  A kind can be here before the compiler has a
hook for it: the runtime then loads and attaches C objects of that kind.
"""
from typing import NamedTuple, Optional

from .kernel import ATTACH_TYPES, PROG_TYPES

# ------------------------------------------------------------ section names

# How libbpf matches a program's section against a name in its section_defs.
EXACT = "exact"                      # SEC("cgroup/sysctl"): the name itself
OPTIONAL_SUFFIX = "optional_suffix"  # libbpf's "name+": the name, or name/anything
REQUIRED_SUFFIX = "required_suffix"  # libbpf's "name/": name/anything (tracepoint/cat/event)


class Section(NamedTuple):
    """An ELF section name that selects a program kind, with its match rule."""
    name: str
    match: str = EXACT

    def matches(self, section: str) -> bool:
        if self.match != REQUIRED_SUFFIX and section == self.name:
            return True
        return self.match != EXACT and section.startswith(self.name + "/")


# ---------------------------------------------------------- attach targets

# What a program is attached to (ProgramKind.attach_target).
TARGET_CGROUP = "cgroup"   # a cgroup v2 directory, with the kind's attach type
TARGET_SOCKET = "socket"   # one socket, with setsockopt(SO_ATTACH_BPF); no attach type
TARGET_TRACEPOINT = "tracepoint"          # CATEGORY/NAME: the tracepoint's perf event
TARGET_RAW_TRACEPOINT = "raw_tracepoint"  # NAME, opened with BPF_RAW_TRACEPOINT_OPEN
TARGET_KERNEL_BTF = "kernel_btf"          # what attach_btf_id named at load
TARGET_ITERATOR = "iterator"              # a BPF iterator, read through BPF_ITER_CREATE
TARGET_UPROBE = "uprobe"                  # BINARY:FUNCTION, a perf event of the uprobe PMU
TARGET_URETPROBE = "uretprobe"            # the same, when the function returns
TARGET_KPROBE = "kprobe"                  # a kernel function, a perf event of the kprobe PMU
TARGET_KRETPROBE = "kretprobe"
TARGET_PERF_EVENT = "perf_event"          # a sampling perf event on every CPU
# Packet programs (issue 15, runtime part): a network interface, by name or index.
TARGET_NETDEV_XDP = "netdev_xdp"          # the interface's XDP hook (BPF_XDP link)
TARGET_NETDEV_TC = "netdev_tc"            # its tc ingress or egress (tcx link, or cls_bpf)
ATTACH_TARGETS = {
    TARGET_CGROUP: "a cgroup (BPF_LINK_CREATE, or BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI)",
    TARGET_SOCKET: "a socket (setsockopt(SOL_SOCKET, SO_ATTACH_BPF))",
    TARGET_TRACEPOINT: "a tracepoint, CATEGORY/NAME (a perf event with its tracefs id, "
                       "then BPF_LINK_CREATE)",
    TARGET_RAW_TRACEPOINT: "a raw tracepoint, by name (BPF_RAW_TRACEPOINT_OPEN)",
    TARGET_KERNEL_BTF: "the kernel function or tracepoint named in its section, found in "
                       "the kernel's BTF at load (BPF_LINK_CREATE)",
    TARGET_ITERATOR: "a BPF iterator (BPF_LINK_CREATE; each read is a BPF_ITER_CREATE)",
    TARGET_UPROBE: "a function of a binary, BINARY:FUNCTION (a perf event of the uprobe PMU)",
    TARGET_URETPROBE: "the return of a function of a binary, BINARY:FUNCTION (a perf event "
                      "of the uprobe PMU)",
    TARGET_KPROBE: "a kernel function (a perf event of the kprobe PMU)",
    TARGET_KRETPROBE: "the return of a kernel function (a perf event of the kprobe PMU)",
    TARGET_PERF_EVENT: "a sampling perf event on every CPU (e.g. the CPU clock at a "
                       "frequency)",
    TARGET_NETDEV_XDP: "a network interface's XDP hook, by name or index (BPF_LINK_CREATE "
                       "with BPF_XDP, generic or native mode)",
    TARGET_NETDEV_TC: "a network interface's tc ingress or egress, by name or index (a tcx "
                      "link, or netlink's cls_bpf on a clsact qdisc)",
}

# ------------------------------------------------------- kernel features

# Features some kinds need that a kernel may lack; the runtime refuses to
# load such a program on a kernel without them, naming the feature.
FEATURE_KPROBES = "kprobes"
FEATURE_TRAMPOLINES = "trampolines"
FEATURE_BPF_LSM = "bpf_lsm"
KERNEL_FEATURES = {
    FEATURE_KPROBES: "kprobes (CONFIG_KPROBES: the kprobe PMU, "
                     "/sys/bus/event_source/devices/kprobe)",
    FEATURE_TRAMPOLINES: "BPF trampolines (fentry, fexit, fmod_ret and freplace programs "
                         "are called through them)",
    FEATURE_BPF_LSM: "the BPF LSM (CONFIG_BPF_LSM, 'bpf' in the lsm= list, and BPF "
                     "trampolines)",
}


# ---------------------------------------------------------------- the rows


class AttachBtf(NamedTuple):
    """How a kind names at load what it attaches to: the kernel BTF type
    called ``prefix`` + the section's target, of kind ``btf_kind``
    (``tp_btf/sched_switch`` is the TYPEDEF ``btf_trace_sched_switch``)."""
    prefix: str
    btf_kind: str        # "typedef" or "func"


class ProgramKind(NamedTuple):
    # The first section is the one pybpfc writes; the others are libbpf's
    # other names for the same kind.
    sections: tuple[Section, ...]
    prog_type: str
    attach_type: Optional[str]
    attach_target: str
    attach_btf: Optional[AttachBtf] = None
    feature: Optional[str] = None        # a KERNEL_FEATURES key, if the kind needs one

    @property
    def name(self) -> str:
        """The kind's name: the section pybpfc writes its programs in."""
        return self.sections[0].name

    @property
    def prog_type_id(self) -> int:
        return PROG_TYPES[self.prog_type]

    @property
    def attach_type_id(self) -> Optional[int]:
        return ATTACH_TYPES[self.attach_type] if self.attach_type else None

    def target_in(self, section: str) -> str:
        """What a section of this kind names after its prefix:
        ``syscalls/sys_enter_openat`` of ``tracepoint/syscalls/sys_enter_openat``,
        ``""`` of a bare ``tracepoint``."""
        for s in self.sections:
            if s.matches(section):
                return section[len(s.name) + 1:]
        return ""


def _cgroup(section: str, prog_type: str, attach_type: str,
            *aliases: str) -> ProgramKind:
    return ProgramKind((Section(section), *(Section(a) for a in aliases)),
                       "BPF_PROG_TYPE_" + prog_type, "BPF_" + attach_type, TARGET_CGROUP)


def _tracing(sections: tuple[str, ...], prog_type: str, attach_type: Optional[str],
             target: str, attach_btf: Optional[AttachBtf] = None,
             feature: Optional[str] = None) -> ProgramKind:
    return ProgramKind(tuple(Section(s, OPTIONAL_SUFFIX) for s in sections),
                       "BPF_PROG_TYPE_" + prog_type,
                       "BPF_" + attach_type if attach_type else None, target, attach_btf,
                       feature)


PROGRAM_KINDS: tuple[ProgramKind, ...] = (
    _cgroup("cgroup/getsockopt", "CGROUP_SOCKOPT", "CGROUP_GETSOCKOPT"),
    _cgroup("cgroup/setsockopt", "CGROUP_SOCKOPT", "CGROUP_SETSOCKOPT"),
    _cgroup("cgroup/sysctl", "CGROUP_SYSCTL", "CGROUP_SYSCTL"),
    _cgroup("cgroup/sock_create", "CGROUP_SOCK", "CGROUP_INET_SOCK_CREATE", "cgroup/sock"),
    _cgroup("cgroup/sock_release", "CGROUP_SOCK", "CGROUP_INET_SOCK_RELEASE"),
    _cgroup("cgroup/post_bind4", "CGROUP_SOCK", "CGROUP_INET4_POST_BIND"),
    _cgroup("cgroup/post_bind6", "CGROUP_SOCK", "CGROUP_INET6_POST_BIND"),
    # libbpf 1.x matches "socket" exactly; pybpfc also reads "socket/NAME",
    # which libbpf's legacy mode (SEC_SLOPPY_PFX) accepted.
    ProgramKind((Section("socket", OPTIONAL_SUFFIX),), "BPF_PROG_TYPE_SOCKET_FILTER", None,
                TARGET_SOCKET),
    # Tracing: libbpf's "name+" sections, the target after the slash.
    _tracing(("tracepoint", "tp"), "TRACEPOINT", None, TARGET_TRACEPOINT),
    _tracing(("raw_tracepoint", "raw_tp"), "RAW_TRACEPOINT", None, TARGET_RAW_TRACEPOINT),
    _tracing(("tp_btf",), "TRACING", "TRACE_RAW_TP", TARGET_KERNEL_BTF,
             AttachBtf("btf_trace_", "typedef")),
    _tracing(("iter",), "TRACING", "TRACE_ITER", TARGET_ITERATOR, AttachBtf("bpf_iter_", "func")),
    _tracing(("uprobe",), "KPROBE", None, TARGET_UPROBE),
    _tracing(("uretprobe",), "KPROBE", None, TARGET_URETPROBE),
    ProgramKind((Section("perf_event"),), "BPF_PROG_TYPE_PERF_EVENT", None, TARGET_PERF_EVENT),
    _tracing(("kprobe",), "KPROBE", None, TARGET_KPROBE, feature=FEATURE_KPROBES),
    _tracing(("kretprobe",), "KPROBE", None, TARGET_KRETPROBE, feature=FEATURE_KPROBES),
    _tracing(("fentry",), "TRACING", "TRACE_FENTRY", TARGET_KERNEL_BTF, AttachBtf("", "func"),
             FEATURE_TRAMPOLINES),
    _tracing(("fexit",), "TRACING", "TRACE_FEXIT", TARGET_KERNEL_BTF, AttachBtf("", "func"),
             FEATURE_TRAMPOLINES),
    _tracing(("lsm",), "LSM", "LSM_MAC", TARGET_KERNEL_BTF, AttachBtf("bpf_lsm_", "func"),
             FEATURE_BPF_LSM),
    # sock_addr: the address of bind, connect, sendmsg, recvmsg, getpeername
    # and getsockname, for IPv4, IPv6 and (connect and after) Unix sockets.
    _cgroup("cgroup/bind4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_BIND"),
    _cgroup("cgroup/bind6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_BIND"),
    _cgroup("cgroup/connect4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_CONNECT"),
    _cgroup("cgroup/connect6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_CONNECT"),
    _cgroup("cgroup/connect_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_CONNECT"),
    _cgroup("cgroup/sendmsg4", "CGROUP_SOCK_ADDR", "CGROUP_UDP4_SENDMSG"),
    _cgroup("cgroup/sendmsg6", "CGROUP_SOCK_ADDR", "CGROUP_UDP6_SENDMSG"),
    _cgroup("cgroup/sendmsg_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_SENDMSG"),
    _cgroup("cgroup/recvmsg4", "CGROUP_SOCK_ADDR", "CGROUP_UDP4_RECVMSG"),
    _cgroup("cgroup/recvmsg6", "CGROUP_SOCK_ADDR", "CGROUP_UDP6_RECVMSG"),
    _cgroup("cgroup/recvmsg_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_RECVMSG"),
    _cgroup("cgroup/getpeername4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_GETPEERNAME"),
    _cgroup("cgroup/getpeername6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_GETPEERNAME"),
    _cgroup("cgroup/getpeername_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_GETPEERNAME"),
    _cgroup("cgroup/getsockname4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_GETSOCKNAME"),
    _cgroup("cgroup/getsockname6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_GETSOCKNAME"),
    _cgroup("cgroup/getsockname_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_GETSOCKNAME"),
    # ---- device and TCP-event cgroup hooks (issue 14 part B)
    _cgroup("cgroup/dev", "CGROUP_DEVICE", "CGROUP_DEVICE"),
    _cgroup("sockops", "SOCK_OPS", "CGROUP_SOCK_OPS"),
)

# ----------------------------------------- packet programs (issue 15, runtime)
# libbpf's names: "xdp" and "tc" match exactly; "tc/ingress" is its alias of
# "tcx/ingress".  A plain "tc" program's direction is chosen when attached.
PACKET_PROGRAM_KINDS: tuple[ProgramKind, ...] = (
    ProgramKind((Section("xdp"),), "BPF_PROG_TYPE_XDP", "BPF_XDP", TARGET_NETDEV_XDP),
    ProgramKind((Section("tc"), Section("classifier")), "BPF_PROG_TYPE_SCHED_CLS", None,
                TARGET_NETDEV_TC),
    ProgramKind((Section("tcx/ingress"), Section("tc/ingress")), "BPF_PROG_TYPE_SCHED_CLS",
                "BPF_TCX_INGRESS", TARGET_NETDEV_TC),
    ProgramKind((Section("tcx/egress"), Section("tc/egress")), "BPF_PROG_TYPE_SCHED_CLS",
                "BPF_TCX_EGRESS", TARGET_NETDEV_TC),
    _cgroup("cgroup_skb/ingress", "CGROUP_SKB", "CGROUP_INET_INGRESS"),
    _cgroup("cgroup_skb/egress", "CGROUP_SKB", "CGROUP_INET_EGRESS"),
)
PROGRAM_KINDS += PACKET_PROGRAM_KINDS

PROGRAM_KINDS_BY_NAME = {k.name: k for k in PROGRAM_KINDS}


def program_kind_for_section(section: str) -> Optional[ProgramKind]:
    """The kind of program an ELF section selects, by libbpf's rules, or None."""
    exact = PROGRAM_KINDS_BY_NAME.get(section)
    if exact is not None:
        return exact
    for kind in PROGRAM_KINDS:
        if any(s.matches(section) for s in kind.sections):
            return kind
    return None


def section_names() -> list[str]:
    """Every section name the table knows: those pybpfc writes, then
    libbpf's other names."""
    return sorted(PROGRAM_KINDS_BY_NAME) + sorted(
        s.name for k in PROGRAM_KINDS for s in k.sections[1:])
