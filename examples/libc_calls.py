"""Calls to libc's getenv() in each process, with the name each asked for
and whether it was set: a uprobe at the entry, a uretprobe at the return."""
from pybpfc import (HashMap, RingBuf, UprobeContext, get_current_pid_tgid, probe_read_user_str,
                    struct, u32, uprobe, uretprobe)

LICENSE = "GPL"

@struct
class Call:
    pid: u32
    found: u32
    name: bytearray = bytearray(64)


# Each thread's call in progress, until getenv returns.
calling: HashMap[u32, Call] = HashMap(max_entries=4096)
calls: RingBuf = RingBuf(max_entries=64 * 1024)


@uprobe("/usr/lib/x86_64-linux-gnu/libc.so.6", "getenv")
def enter_getenv(ctx: UprobeContext) -> int:
    call = Call()
    ids = get_current_pid_tgid()
    call.pid = u32(ids >> 32)
    probe_read_user_str(call.name, ctx.arg1)
    calling.update(u32(ids), call)
    return 0


@uretprobe("/usr/lib/x86_64-linux-gnu/libc.so.6", "getenv")
def exit_getenv(ctx: UprobeContext) -> int:
    tid = u32(get_current_pid_tgid())
    call = calling.lookup(tid)
    if call is not None:
        if ctx.ret != 0:
            call.value.found = 1
        calls.output(call.value)
        calling.delete(tid)
    return 0
