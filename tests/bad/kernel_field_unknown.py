# expect: 10:19 struct task_struct has no field 'ppid'
from pybpfc import RawTracepointArgs, get_current_task_btf, raw_tracepoint, u32

LICENSE = "GPL"


@raw_tracepoint("sys_enter")
def f(ctx: RawTracepointArgs) -> int:
    task = get_current_task_btf()
    parent = task.ppid
    return 0
