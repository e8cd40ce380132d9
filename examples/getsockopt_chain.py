"""One getsockopt hook, attached to a parent cgroup and to its child with
a different `layer` each, to show how a chain of cgroup programs runs.

For IP_TOS every program shifts the value it receives left by 4 bits and
adds its own layer.  A task in the child cgroup reads the result of the
child's program (which runs first and sees the kernel's answer) as the
parent's program left it (it runs next and sees the child's change)."""
from typing import Final

from pybpfc import ALLOW, PAGE_SIZE, ReadOnly, SockoptContext, atomic_add, cgroup_getsockopt, u32, u64

SOL_IP: Final = 0
IP_TOS: Final = 1

layer: ReadOnly[u32] = 0      # set by user space for each attachment
calls: u64 = 0


@cgroup_getsockopt
def stack_layers(ctx: SockoptContext) -> int:
    if ctx.level == SOL_IP and ctx.optname == IP_TOS and len(ctx.optval) >= 4:
        atomic_add(calls, 1)
        ctx.optval.set_u32(0, ctx.optval.u32(0) << 4 | layer)
        return ALLOW
    if ctx.optlen > PAGE_SIZE:
        ctx.optlen = 0
    return ALLOW
