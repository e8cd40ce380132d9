# expect: 10:18 task_struct.sched_reset_on_fork is a bitfield
from pybpfc import RawTracepointArgs, get_current_task, raw_tracepoint

LICENSE = "GPL"


@raw_tracepoint("sys_enter")
def f(ctx: RawTracepointArgs) -> int:
    task = get_current_task()
    reset = task.sched_reset_on_fork
    return 0
