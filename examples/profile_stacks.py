"""A CPU profiler with stacks, as BCC's profile: at each sample of the CPU
clock, the process the CPU was running with its kernel and user stacks,
counted.  `pybpfc run` prints the busiest stacks with their function names
at the end."""
from pybpfc import (BPF_F_USER_STACK, HashMap, PerfEventContext, StackTraceMap, atomic_add,
                    get_current_pid_tgid, get_stackid, i32, perf_event, struct, u32, u64)

LICENSE = "GPL"


# A negative stack id is the error get_stackid() gave: -EFAULT when there
# is no stack of that kind (no user stack in a kernel thread), -EEXIST when
# another stack took its slot.
@struct
class StackKey:
    pid: u32
    kernel_stack: i32
    user_stack: i32


stacks: StackTraceMap = StackTraceMap(max_entries=16384)
counts: HashMap[StackKey, u64] = HashMap(max_entries=16384)


@perf_event
def sample(ctx: PerfEventContext) -> int:
    key = StackKey()
    key.pid = u32(get_current_pid_tgid() >> 32)
    key.kernel_stack = i32(get_stackid(ctx, stacks, 0))
    key.user_stack = i32(get_stackid(ctx, stacks, BPF_F_USER_STACK))
    seen = counts.lookup(key)
    if seen is None:
        counts.update(key, 1)
    else:
        atomic_add(seen.value, 1)
    return 0
