"""syscount: system calls per process, from the raw tracepoint sys_enter
(its arguments: the registers, then the system call's number)."""
from pybpfc import HashMap, RawTracepointArgs, atomic_add, get_current_pid_tgid, raw_tracepoint, u64

LICENSE = "GPL"

# (tgid << 32 | syscall number) -> calls
calls: HashMap[u64, u64] = HashMap(max_entries=65536)


@raw_tracepoint("sys_enter")
def count(ctx: RawTracepointArgs) -> int:
    key = (get_current_pid_tgid() >> 32) << 32 | (ctx.args[1] & 0xFFFFFFFF)
    seen = calls.lookup(key)
    if seen is None:
        calls.update(key, 1)
    else:
        atomic_add(seen.value, 1)
    return 0
