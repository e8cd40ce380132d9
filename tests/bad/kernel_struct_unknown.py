# expect: 3:28 the kernel has no struct task_strct
from pybpfc import RawTracepointArgs, raw_tracepoint
from pybpfc.vmlinux import task_strct

LICENSE = "GPL"


@raw_tracepoint("sys_enter")
def f(ctx: RawTracepointArgs) -> int:
    return 0
