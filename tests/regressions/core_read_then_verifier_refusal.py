# Found with F14 (fuzz/FINDINGS.md): a program with a CO-RE relocation that
# the verifier refused was reported as "CO-RE: the kernel could not
# relocate ...", from the successful relocation lines of the kernel's log,
# instead of the verifier's reason at the Python line.
# kernel refuses: infinite loop detected
from pybpfc import RawTracepointArgs, get_current_task_btf, raw_tracepoint, u64

g: u64 = 0


@raw_tracepoint("sys_enter")
def h(ctx: RawTracepointArgs) -> int:
    global g
    n: u64 = get_current_task_btf().flags
    while n != 7:
        g = n
    return 0
