"""The kernel's ABI as pybpfc uses it: every number, layout, right and
signature the compiler, the runtime, the docs and the tests read.

- ``kernel``: the enums, flags and limits of ``linux/bpf.h``;
- ``system``: the Linux numbers outside it that the runtime and the tests use;
- ``contexts``: the context structs hooks receive;
- ``helpers``: the kernel helpers, with their ids and Python signatures;
- ``maps``: the map kinds, with their methods' signatures;
- ``programs``: the kinds of program (libbpf's section table): sections, program
  and attach types, what they are attached to;
- ``hooks``: one row per hook the language has, naming its kind of program.

This package imports nothing else of pybpfc (a test checks), so the
runtime can use it without the compiler and it stays cheap to import: its
records are NamedTuples, and the modules that define them evaluate their
annotations (no ``from __future__ import annotations``), because NamedTuple
compiles string annotations one by one, a third of the package's import
time.  The names below are the tables' public names, for
``from pybpfc import abi``.
"""
from __future__ import annotations

from . import kernel
from .contexts import (BPF_SOCK, BPF_SOCKOPT, BPF_SYSCTL, CONTEXTS, CONTEXTS_BY_PYTHON_NAME,
                       SK_BUFF, SOCK_POINTER_READABLE, XDP_MD, Context, Field)
from .helpers import HELPERS, MAP_PARAMS, TRACE_PRINTK_MAX_VALUES, Helper, Param
from .hooks import (HOOKS, HOOKS_BY_DECORATOR, HOOKS_BY_SECTION, Hook, Returns, hook_for_section,
                    hook_named)
from .programs import (ATTACH_TARGETS, EXACT, OPTIONAL_SUFFIX, PROGRAM_KINDS,
                       PROGRAM_KINDS_BY_NAME, REQUIRED_SUFFIX, TARGET_CGROUP, TARGET_SOCKET,
                       ProgramKind, Section, program_kind_for_section, section_names)
from .programs import (FEATURE_BPF_LSM, FEATURE_KPROBES, FEATURE_TRAMPOLINES, KERNEL_FEATURES,
                       TARGET_ITERATOR, TARGET_KERNEL_BTF, TARGET_KPROBE,
                       TARGET_KRETPROBE, TARGET_PERF_EVENT, TARGET_RAW_TRACEPOINT,
                       TARGET_TRACEPOINT, TARGET_UPROBE, TARGET_URETPROBE, AttachBtf)
# Tracing contexts (tracepoints, uprobes, perf events).
from .contexts import (PERF_EVENT_DATA, PT_REGS, PT_REGS_MEMBERS, RAW_TRACEPOINT_ARGS,
                       SYSCALL_TRACEPOINT_ARGS, SYSCALL_TRACEPOINT_NR, SYSCALL_TRACEPOINT_RET,
                       TRACEPOINT, TRACEPOINT_FIRST_READABLE, TRACING_CONTEXTS)
from .programs import TARGET_NETDEV_TC, TARGET_NETDEV_XDP  # packet programs
from .kernel import (ATTACH_TYPES, BPF_F_CLONE, BPF_F_NO_PREALLOC,
                     BPF_SK_STORAGE_GET_F_CREATE, MAP_TYPES, PAGE_SIZE, PROG_TYPES, STACK_SIZE,
                     UPDATE_FLAGS)
from .maps import MAP_KINDS, MapKind, Method, MethodParam
# sock_addr hooks
from .contexts import BPF_SOCK_ADDR
from .headers import HEADERS, HEADERS_BY_PYTHON_NAME, PACKET_CONSTANTS, Header, HeaderField
# device and TCP-event cgroup hooks (issue 14 part B)
from .contexts import BPF_CGROUP_DEV_CTX, BPF_SOCK_OPS

__all__ = [
    "kernel",
    "ATTACH_TYPES", "BPF_F_CLONE", "BPF_F_NO_PREALLOC", "BPF_SK_STORAGE_GET_F_CREATE",
    "MAP_TYPES", "PAGE_SIZE", "PROG_TYPES", "STACK_SIZE", "UPDATE_FLAGS",
    "BPF_SOCK", "BPF_SOCKOPT", "BPF_SYSCTL", "XDP_MD", "CONTEXTS", "CONTEXTS_BY_PYTHON_NAME", "SK_BUFF",
    "SOCK_POINTER_READABLE", "Context", "Field",
    "HELPERS", "MAP_PARAMS", "TRACE_PRINTK_MAX_VALUES", "Helper", "Param",
    "MAP_KINDS", "MapKind", "Method", "MethodParam",
    "HOOKS", "HOOKS_BY_DECORATOR", "HOOKS_BY_SECTION", "Hook", "Returns", "hook_for_section",
    "hook_named",
    "ATTACH_TARGETS", "EXACT", "OPTIONAL_SUFFIX", "PROGRAM_KINDS", "PROGRAM_KINDS_BY_NAME",
    "REQUIRED_SUFFIX", "TARGET_CGROUP", "TARGET_SOCKET", "ProgramKind", "Section",
    "program_kind_for_section", "section_names",
    "FEATURE_BPF_LSM", "FEATURE_KPROBES", "FEATURE_TRAMPOLINES", "KERNEL_FEATURES",
    "TARGET_ITERATOR", "TARGET_KERNEL_BTF", "TARGET_KPROBE",
    "TARGET_KRETPROBE", "TARGET_PERF_EVENT", "TARGET_RAW_TRACEPOINT", "TARGET_TRACEPOINT",
    "TARGET_UPROBE", "TARGET_URETPROBE", "AttachBtf",
    # sock_addr hooks
    "BPF_SOCK_ADDR",
    "PERF_EVENT_DATA", "PT_REGS", "PT_REGS_MEMBERS", "RAW_TRACEPOINT_ARGS", "TRACEPOINT",
    "TRACING_CONTEXTS",
    # device and TCP-event cgroup hooks (issue 14 part B)
    "BPF_CGROUP_DEV_CTX", "BPF_SOCK_OPS",
    "TARGET_NETDEV_XDP", "TARGET_NETDEV_TC",
    "HEADERS", "HEADERS_BY_PYTHON_NAME", "PACKET_CONSTANTS", "Header", "HeaderField",
]
