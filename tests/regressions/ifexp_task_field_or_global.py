# Fuzzer finding: LLVM folded the two arms' loads, a member of the task
# get_current_task_btf() gives and a global, into one load reached with a
# BTF pointer and a map value pointer; the verifier refuses that ("same
# insn cannot be used with different pointers").
from pybpfc import RawTracepointArgs, atomic_add, get_current_task_btf, i64, raw_tracepoint, u32

g: u32 = 0


@raw_tracepoint("sys_enter")
def h(ctx: RawTracepointArgs) -> int:
    atomic_add(g, get_current_task_btf().flags if i64(ctx.args[1]) <= i64(ctx.args[0]) else g)
    return 0
