"""A CPU profiler: at each sample of the CPU clock, count the process the
CPU was running and whether it was in the kernel or in user space."""
from typing import Final

from pybpfc import HashMap, PerfEventContext, atomic_add, get_current_pid_tgid, perf_event, u64

LICENSE = "GPL"

# Where kernel addresses begin (x86_64): a sampled ip at or above it was
# in the kernel.
KERNEL_START: Final = 0xFFFF800000000000

# (tgid << 1 | in_kernel) -> samples
samples: HashMap[u64, u64] = HashMap(max_entries=16384)


@perf_event
def sample(ctx: PerfEventContext) -> int:
    key = get_current_pid_tgid() >> 32 << 1
    if ctx.ip >= KERNEL_START:
        key |= 1
    seen = samples.lookup(key)
    if seen is None:
        samples.update(key, 1)
    else:
        atomic_add(seen.value, 1)
    return 0
