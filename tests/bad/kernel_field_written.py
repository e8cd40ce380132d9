# expect: 10:10 task_struct.pid is the kernel's: a program only reads kernel structs
from pybpfc import RawTracepointArgs, get_current_task, raw_tracepoint

LICENSE = "GPL"


@raw_tracepoint("sys_enter")
def f(ctx: RawTracepointArgs) -> int:
    task = get_current_task()
    task.pid = 1
    return 0
