"""Which process started each program: on the BTF-typed tracepoint
sched_process_exec, the task that exec'd is read through the kernel's own
types (BTF), with CO-RE, so the object runs on kernels whose task_struct
differs: its pid, its parent's, the new program's name and the parent's."""
from pybpfc import RawTracepointArgs, RingBuf, btf_tracepoint, struct, u32
from pybpfc.vmlinux import task_struct

LICENSE = "GPL"


@struct
class Exec:
    pid: u32
    ppid: u32
    comm: bytearray = bytearray(16)
    parent_comm: bytearray = bytearray(16)


execs: RingBuf = RingBuf(max_entries=64 * 1024)


@btf_tracepoint("sched_process_exec")
def on_exec(ctx: RawTracepointArgs) -> int:
    # The kernel's BTF says the first argument is a struct task_struct *:
    # its fields are read directly (task_struct(...) says so to mypy too).
    task = task_struct(ctx.args[0])
    parent = task.real_parent
    ev = Exec()
    ev.pid = u32(task.tgid)
    ev.ppid = u32(parent.tgid)
    ev.comm = task.comm
    ev.parent_comm = parent.comm
    execs.output(ev)
    return 0
