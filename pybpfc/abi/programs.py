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
# The kinds still to come bring theirs: "netdev" (XDP, tcx: an interface
# index), "tracepoint" (a tracepoint's perf event), "uprobe" (a perf event
# of the uprobe PMU) and "perf_event".
ATTACH_TARGETS = {
    TARGET_CGROUP: "a cgroup (BPF_LINK_CREATE, or BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI)",
    TARGET_SOCKET: "a socket (setsockopt(SOL_SOCKET, SO_ATTACH_BPF))",
}


# ---------------------------------------------------------------- the rows


class ProgramKind(NamedTuple):
    # The first section is the one pybpfc writes; the others are libbpf's
    # other names for the same kind.
    sections: tuple[Section, ...]
    prog_type: str
    attach_type: Optional[str]
    attach_target: str

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


def _cgroup(section: str, prog_type: str, attach_type: str,
            *aliases: str) -> ProgramKind:
    return ProgramKind((Section(section), *(Section(a) for a in aliases)),
                       "BPF_PROG_TYPE_" + prog_type, "BPF_" + attach_type, TARGET_CGROUP)


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
)

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
