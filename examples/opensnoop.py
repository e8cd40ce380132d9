"""opensnoop: every openat(2), with the caller's pid, the file name and the
result, as bcc's opensnoop shows them.

The entry tracepoint keeps the file name per thread; the exit tracepoint
adds the result and sends the record to user space.
"""
from pybpfc import (HashMap, RingBuf, TracepointContext, get_current_comm, get_current_pid_tgid,
                    i64, probe_read_user_str, struct, tracepoint, u32, u64)

LICENSE = "GPL"


@struct
class Open:
    pid: u32
    tid: u32
    flags: u64
    ret: i64
    comm: bytearray = bytearray(16)
    filename: bytearray = bytearray(128)


# What sys_enter_openat saw, by thread id, until sys_exit_openat.
pending: HashMap[u32, Open] = HashMap(max_entries=10240)
opens: RingBuf = RingBuf(max_entries=256 * 1024)


@tracepoint("syscalls", "sys_enter_openat")
def enter_openat(ctx: TracepointContext) -> int:
    ev = Open()
    ids = get_current_pid_tgid()
    ev.pid = u32(ids >> 32)
    ev.tid = u32(ids)
    ev.flags = ctx.flags
    get_current_comm(ev.comm)
    probe_read_user_str(ev.filename, ctx.filename)
    pending.update(ev.tid, ev)
    return 0


@tracepoint("syscalls", "sys_exit_openat")
def exit_openat(ctx: TracepointContext) -> int:
    tid = u32(get_current_pid_tgid())
    seen = pending.lookup(tid)
    if seen is not None:
        seen.value.ret = ctx.ret
        opens.output(seen.value)
        pending.delete(tid)
    return 0
