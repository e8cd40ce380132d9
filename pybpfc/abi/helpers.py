"""The kernel helpers programs may call: ``enum bpf_func_id`` numbers and
the Python signature each has in ``pybpfc.lang``.

Which hooks may call a helper is the hook's property (``hooks.py``); the
helpers that map methods call take the method's parameters (``maps.py``).
"""
from typing import NamedTuple

# bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3): at most three values.
TRACE_PRINTK_MAX_VALUES = 3

# Helpers that write the whole of their ``buffer`` argument whatever
# happens: what they read, or zeros when they fail (the kernel clears the
# buffer on its error paths), so the zeros of a new bytearray are dead.
FILLS_BUFFER = frozenset({"skb_load_bytes", "get_current_comm"})


class Param(NamedTuple):
    """One parameter of a helper as a program calls it.

    ``name`` is the parameter's name in ``pybpfc.lang``.  ``kind`` says what
    the program passes: ``"ctx"`` the hook's context; ``"ctx_or_null"``
    the context or None (NULL to the kernel); ``"sock"`` a socket
    (``ctx.sk``, or the context itself where it is a socket's: sock_ops);
    ``"buffer"`` a bytearray, passed to the kernel as its
    address and its size; ``"buffer_start"`` a bytearray passed by address
    only, its size given by the next (int) argument and capped at the
    buffer's size; ``"buffer_tail"`` a bytearray passed from the offset the
    next (int) argument gives, with the length that remains; a kind of
    ``MAP_PARAMS`` (``"prog_array"``, ``"stack_map"``) a map of that kind
    the module declares, passed as the map; or an integer type name."""
    name: str
    kind: str


# Parameter kinds that take a map the module declares, and the map kind
# (pybpfc.abi.maps) each takes.
MAP_PARAMS = {"prog_array": "ProgArray", "stack_map": "StackTraceMap"}


class Helper(NamedTuple):
    """A kernel helper function a program may call.

    ``returns`` is an integer type name, ``"None"``, ``"ref"`` (a reference
    to a map value, or None), ``"kernel:STRUCT"`` (a pointer to a kernel
    struct, read with bpf_probe_read_kernel), ``"btf:STRUCT"`` (a pointer
    the verifier knows the BTF type of, read directly) or ``"parsed_i64"``/``"parsed_u64"`` (a
    ParsedInt/ParsedUint: the characters read, or -errno, and the value).

    ``call`` says how a program reaches it: ``"function"`` (a function of
    the same name exported by pybpfc, with ``signature``), ``"method"`` (a
    method of a map: its parameters are the method's, see ``maps.py``) or
    ``"print"`` (the builtin ``print``).

    ``moves_packet``: the helper may move or resize the packet
    (``bpf_helper_changes_pkt_data``), so every pointer into it taken
    before the call is invalid after it."""
    name: str
    func_id: int          # enum bpf_func_id
    signature: tuple[Param, ...]
    returns: str
    doc: str
    call: str = "function"
    moves_packet: bool = False

    @property
    def params(self) -> tuple[str, ...]:
        """The kinds of the parameters, in order."""
        return tuple(p.kind for p in self.signature)


def _signature(text: str) -> tuple[Param, ...]:
    """``"ctx: ctx, buf: buffer"`` -> its Params."""
    params = []
    for param in filter(None, text.split(", ")):
        name, _, kind = param.partition(": ")
        params.append(Param(name, kind))
    return tuple(params)


def _helper(name: str, func_id: int, signature: str, returns: str, doc: str,
            call: str = "function", moves_packet: bool = False) -> Helper:
    return Helper(name, func_id, _signature(signature), returns, doc, call, moves_packet)


HELPERS = {h.name: h for h in (
    _helper("map_lookup_elem", 1, "", "ref", "the value stored under a key, or None",
            call="method"),
    _helper("map_update_elem", 2, "", "i64",
            "store a value under a key (flags BPF_ANY, BPF_NOEXIST, BPF_EXIST); 0 or -errno",
            call="method"),
    _helper("map_delete_elem", 3, "", "i64", "remove a key; 0 or -errno", call="method"),
    _helper("ktime_get_ns", 5, "", "u64", "nanoseconds since boot (CLOCK_MONOTONIC)"),
    _helper("trace_printk", 6, "", "i64",
            "write a line to the kernel's trace buffer (/sys/kernel/tracing/trace_pipe); "
            "called as print() with up to three integer arguments", call="print"),
    _helper("get_prandom_u32", 7, "", "u32", "a pseudo-random number"),
    _helper("get_current_pid_tgid", 14, "", "u64",
            "the current task: thread group id << 32 | thread id"),
    _helper("get_current_uid_gid", 15, "", "u64", "the current task: gid << 32 | uid"),
    _helper("get_current_comm", 16, "buf: buffer", "i64",
            "copy the current task's command name, NUL-terminated, into the buffer"),
    _helper("skb_load_bytes", 26, "ctx: ctx, offset: u32, buf: buffer", "i64",
            "copy bytes of the packet from an offset into the buffer (all of it); 0 or -errno"),
    _helper("get_socket_cookie", 46, "ctx: ctx", "u64", "the socket's unique cookie"),
    _helper("get_socket_uid", 47, "ctx: ctx", "u32", "the uid of the socket's owner"),
    _helper("setsockopt", 49, "sk: sock, level: i32, optname: i32, buf: buffer", "i64",
            "set a socket option on the socket, from the whole buffer; 0 or -errno"),
    _helper("getsockopt", 57, "sk: sock, level: i32, optname: i32, buf: buffer", "i64",
            "read a socket option of the socket into the buffer; 0 or -errno"),
    _helper("get_current_cgroup_id", 80, "", "u64", "the current task's cgroup v2 id"),
    _helper("get_local_storage", 81, "", "ref", "this cgroup's value in a CgroupStorage",
            call="method"),
    _helper("sysctl_get_name", 101, "ctx: ctx, buf: buffer, flags: u64", "i64",
            "copy the sysctl's name into the buffer (flags 1: the base name only); "
            "the length, or -E2BIG when truncated"),
    _helper("sysctl_get_current_value", 102, "ctx: ctx, buf: buffer", "i64",
            "copy the sysctl's current value (text) into the buffer; the length or -errno"),
    _helper("sysctl_get_new_value", 103, "ctx: ctx, buf: buffer", "i64",
            "copy the value being written into the buffer; the length or -errno"),
    _helper("sysctl_set_new_value", 104, "ctx: ctx, buf: buffer_start, length: u64", "i64",
            "replace the value being written with the first N bytes of the buffer"),
    _helper("strtol", 105, "buf: buffer_tail, offset: u32, base: u64", "parsed_i64",
            "parse a signed integer from the buffer at an offset, in a base (0, 8, 10 or 16)"),
    _helper("strtoul", 106, "buf: buffer_tail, offset: u32, base: u64", "parsed_u64",
            "parse an unsigned integer from the buffer at an offset, in a base (0, 8, 10 or 16)"),
    _helper("sk_storage_get", 107, "", "ref",
            "the socket's value, or None; create=True makes a zeroed one when missing",
            call="method"),
    _helper("sk_storage_delete", 108, "", "i64", "remove the socket's value; 0 or -errno",
            call="method"),
    _helper("get_netns_cookie", 122, "ctx: ctx_or_null", "u64",
            "the cookie of the socket's network namespace; of the initial one for None"),
    _helper("ringbuf_output", 130, "", "i64",
            "copy a record (an integer, struct or bytearray) into the ring buffer; 0 or -errno",
            call="method"),
    # sock_ops (issue 14 part B)
    _helper("sock_ops_cb_flags_set", 59, "ctx: ctx, flags: u32", "i64",
            "enable the extra callbacks of the connection (BPF_SOCK_OPS_*_CB_FLAG); 0, "
            "-EINVAL, or the flags this kernel does not have"),
    _helper("get_retval", 186, "", "i32", "the syscall's result so far (0 or -errno)"),
    _helper("set_retval", 187, "value: i32", "i32", "set the syscall's result (0 or -errno)"),
    # sock_addr hooks
    _helper("bind", 64, "ctx: ctx, addr: buffer", "i64",
            "bind the socket to the struct sockaddr in the buffer (from a connect hook, "
            "before the connection is made); 0 or -errno"),
    # -- tracing: reading the memory of the traced task and of the kernel
    _helper("get_smp_processor_id", 8, "", "u32", "the CPU the program runs on"),
    _helper("get_current_task", 35, "", "kernel:task_struct",
            "the current task_struct, its fields read with bpf_probe_read_kernel (u64(task): "
            "its address)"),
    _helper("get_current_task_btf", 158, "", "btf:task_struct",
            "the current task_struct as a BTF-typed pointer, its fields read directly"),
    _helper("probe_read_user", 112, "buf: buffer, src: u64", "i64",
            "copy bytes from a user-space address into the buffer (all of it); 0 or -errno"),
    _helper("probe_read_kernel", 113, "buf: buffer, src: u64", "i64",
            "copy bytes from a kernel address into the buffer (all of it); 0 or -errno"),
    _helper("probe_read_user_str", 114, "buf: buffer, src: u64", "i64",
            "copy a NUL-terminated string from a user-space address into the buffer; "
            "its length with the NUL, or -errno"),
    _helper("probe_read_kernel_str", 115, "buf: buffer, src: u64", "i64",
            "copy a NUL-terminated string from a kernel address into the buffer; "
            "its length with the NUL, or -errno"),
    _helper("get_stackid", 27, "ctx: ctx, stacks: stack_map, flags: u64", "i64",
            "record the current kernel stack (flags BPF_F_USER_STACK: the user stack) in "
            "the StackTraceMap and give its id, equal for equal stacks (BPF_F_FAST_STACK_CMP: "
            "compare hashes only; BPF_F_REUSE_STACKID: replace another stack of the same "
            "hash); -EFAULT when there is no such stack, -EEXIST on a hash collision"),
    _helper("ktime_get_boot_ns", 125, "", "u64",
            "nanoseconds since boot, suspend included (CLOCK_BOOTTIME)"),
    # ---- packet programs (issue 15).  A ``raw`` parameter takes an integer
    # of any byte order as the bits it holds (a header field as it is on the
    # wire, for a checksum update).
    _helper("skb_store_bytes", 9, "ctx: ctx, offset: u32, buf: buffer, flags: u64", "i64",
            "copy the whole buffer into the packet at an offset (flags BPF_F_RECOMPUTE_CSUM, "
            "BPF_F_INVALIDATE_HASH); 0 or -errno", moves_packet=True),
    _helper("l3_csum_replace", 10, "ctx: ctx, offset: u32, old: raw, new: raw, flags: u64",
            "i64", "update the IP checksum at an offset for a 2- or 4-byte field changed from "
            "old to new (flags: the field's size); 0 or -errno", moves_packet=True),
    _helper("l4_csum_replace", 11, "ctx: ctx, offset: u32, old: raw, new: raw, flags: u64",
            "i64", "update the TCP or UDP checksum at an offset for a field changed from old "
            "to new (flags: the size, BPF_F_PSEUDO_HDR for an address of the pseudo-header); "
            "0 or -errno", moves_packet=True),
    _helper("redirect", 23, "ifindex: u32, flags: u64", "i64",
            "send the packet to another device when the program returns: XDP_REDIRECT in "
            "XDP, TC_ACT_REDIRECT in tc (flags BPF_F_INGRESS: to its ingress)"),
    _helper("skb_pull_data", 39, "ctx: ctx, length: u32", "i64",
            "make the first length bytes of the packet directly readable; 0 or -errno",
            moves_packet=True),
    _helper("xdp_adjust_head", 44, "ctx: ctx, delta: i32", "i64",
            "move the start of the packet by delta bytes (negative: grow it in front); "
            "0 or -errno", moves_packet=True),
    _helper("redirect_map", 51, "", "i32",
            "send the packet to the device in a DevMap's slot when the program returns: "
            "XDP_REDIRECT, or the action in flags' low two bits when the slot is empty",
            call="method"),
    _helper("tail_call", 12, "ctx: ctx, progs: prog_array, index: u32", "i64",
            "run the program in the ProgArray's slot in place of this one, never coming "
            "back; when the slot is empty (or after 33 tail calls) it returns -errno and "
            "this program goes on"),
    _helper("xdp_adjust_tail", 65, "ctx: ctx, delta: i32", "i64",
            "move the end of the packet by delta bytes (negative: shrink it); 0 or -errno",
            moves_packet=True),
)}
