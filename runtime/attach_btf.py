"""Programs that name their target in the kernel's BTF at load: ``tp_btf``
(a tracepoint, typed by its ``btf_trace_NAME`` typedef), ``fentry``/``fexit``
(a kernel function) and ``lsm`` (an LSM hook).  At load the target's BTF id
is found in vmlinux's BTF (:func:`attach_btf_id`); attaching is then a BPF
link with nothing more to say (:func:`attach_kernel_btf`)."""
from __future__ import annotations

from pybpfc import abi

from . import bpf
from .bpf_tracing import raw_tracepoint_open
from .btf import Kind
from .errors import BpfError, SyscallError
from .kernel_btf import vmlinux_btf
from .tracing_link import NO_LINK_ERRNOS, TracingLink

_BTF_KINDS = {"typedef": Kind.TYPEDEF, "func": Kind.FUNC}
_TARGET_WORDS = {"btf_trace_": "tracepoint", "bpf_iter_": "iterator", "bpf_lsm_": "LSM hook",
                 "": "kernel function"}


def attach_btf_id(program_name: str, section: str, kind: abi.ProgramKind) -> int:
    """The id in vmlinux's BTF of what a program of ``kind`` in ``section``
    is for: ``tp_btf/sched_switch`` -> TYPEDEF ``btf_trace_sched_switch``."""
    assert kind.attach_btf is not None
    what = f"program '{program_name}'"
    target = kind.target_in(section)
    word = _TARGET_WORDS.get(kind.attach_btf.prefix, "target")
    if not target:
        raise BpfError(f"{what}: section '{section}' names no {word}: write "
                       f"{kind.name}/NAME")
    type_name = kind.attach_btf.prefix + target
    type_id = vmlinux_btf().find(type_name, _BTF_KINDS[kind.attach_btf.btf_kind])
    if type_id is None:
        raise BpfError(f"{what}: section '{section}': this kernel has no {word} '{target}' "
                       f"(its BTF has no {kind.attach_btf.btf_kind} {type_name})")
    return type_id


def attach_kernel_btf(prog_fd: int, program_name: str, section: str,
                      kind: abi.ProgramKind) -> TracingLink:
    """Attach to what the program named at load (BPF_LINK_CREATE with the
    kind's attach type; BPF_RAW_TRACEPOINT_OPEN on kernels before tracing
    links)."""
    target = kind.target_in(section)
    what = f"program '{program_name}' on {kind.name} {target}"
    assert kind.attach_type_id is not None
    try:
        fd = bpf.link_create(prog_fd, 0, kind.attach_type_id, what=what)
    except SyscallError as err:
        if err.errno not in NO_LINK_ERRNOS:
            raise
        fd = raw_tracepoint_open(prog_fd, None, what=what)
    return TracingLink(program_name, kind.name, target, link_fds=[fd])
