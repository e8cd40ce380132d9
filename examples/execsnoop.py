"""execsnoop: every program a process executes, with its pid and the file
name the kernel ran, from the sched_process_exec tracepoint."""
from pybpfc import (RingBuf, TracepointContext, get_current_comm, probe_read_kernel_str, struct,
                    tracepoint, u32)

LICENSE = "GPL"


@struct
class Exec:
    pid: u32
    old_pid: u32
    comm: bytearray = bytearray(16)
    filename: bytearray = bytearray(128)


execs: RingBuf = RingBuf(max_entries=64 * 1024)


@tracepoint("sched", "sched_process_exec")
def on_exec(ctx: TracepointContext) -> int:
    ev = Exec()
    ev.pid = u32(ctx.pid)
    ev.old_pid = u32(ctx.old_pid)
    get_current_comm(ev.comm)
    # A __data_loc field reads as the kernel address of its data.
    probe_read_kernel_str(ev.filename, ctx.filename)
    execs.output(ev)
    return 0
