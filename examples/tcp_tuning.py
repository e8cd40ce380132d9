"""TCP tuning per cgroup: every connection a task in the cgroup makes or
accepts switches to the congestion control "reno" once established, and
asks to be called back at each round trip; `calls` counts the program's
calls per event (ctx.op), so calls[BPF_SOCK_OPS_RTT_CB] counts round trips."""
from pybpfc import (ALLOW, BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB,
                    BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB, BPF_SOCK_OPS_RTT_CB_FLAG, SOL_TCP,
                    TCP_CONGESTION, HashMap, SockOpsContext, atomic_add, i64, setsockopt,
                    sock_ops, sock_ops_cb_flags_set, u32, u64)

calls: HashMap[u32, u64] = HashMap(max_entries=16)    # ctx.op -> how many calls
tuning_error: i64 = 0     # a failed setsockopt's -errno; 0 while all went well


@sock_ops
def tcp_tuning(ctx: SockOpsContext) -> int:
    global tuning_error
    op = ctx.op
    seen = calls.lookup(op)
    if seen is None:
        calls.update(op, 1)
    else:
        atomic_add(seen.value, 1)
    if op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB or op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
        name = bytearray(b"reno")
        result = setsockopt(ctx, SOL_TCP, TCP_CONGESTION, name)
        if result != 0:
            tuning_error = result
        sock_ops_cb_flags_set(ctx, ctx.bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG)
    return ALLOW
