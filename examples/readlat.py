"""Read latency: how long each read(2) of one process takes, as a
power-of-two histogram of nanoseconds (bpftrace's hist())."""
from pybpfc import (HashMap, Histogram, ReadOnly, TracepointContext, get_current_pid_tgid,
                    ktime_get_ns, tracepoint, u32, u64)

LICENSE = "GPL"

# The process to watch (set before loading: `pybpfc run --set target=PID`).
target: ReadOnly[u32] = 0

started: HashMap[u32, u64] = HashMap(max_entries=10240)   # thread id -> ns
read_ns_hist: Histogram = Histogram()


@tracepoint("syscalls", "sys_enter_read")
def enter_read(ctx: TracepointContext) -> int:
    ids = get_current_pid_tgid()
    if u32(ids >> 32) == target:
        started.update(u32(ids), ktime_get_ns())
    return 0


@tracepoint("syscalls", "sys_exit_read")
def exit_read(ctx: TracepointContext) -> int:
    tid = u32(get_current_pid_tgid())
    start = started.lookup(tid)
    if start is not None:
        read_ns_hist.add(ktime_get_ns() - start.value)
        started.delete(tid)
    return 0
