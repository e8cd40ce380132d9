# expect: 10:9 a kernel pointer converts to u64 only, not u32
from pybpfc import RawTracepointArgs, get_current_task, raw_tracepoint, u32

LICENSE = "GPL"


@raw_tracepoint("sys_enter")
def f(ctx: RawTracepointArgs) -> int:
    task = get_current_task()
    x = u32(task)
    return 0
