"""The pid each exec kept, from the BTF-typed tracepoint sched_process_exec
(arguments: the task, its pid before the exec, the binary)."""
from pybpfc import HashMap, RawTracepointArgs, btf_tracepoint, u32, u64

LICENSE = "GPL"

# pid before the exec -> execs seen
execs: HashMap[u32, u64] = HashMap(max_entries=1024)


@btf_tracepoint("sched_process_exec")
def on_exec(ctx: RawTracepointArgs) -> int:
    old_pid = u32(ctx.args[1])
    seen = execs.lookup(old_pid)
    if seen is None:
        execs.update(old_pid, 1)
    else:
        seen.value += 1
    return 0
