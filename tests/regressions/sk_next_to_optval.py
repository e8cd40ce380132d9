# Fuzzer finding: ctx.sk read next to ctx.optval accesses.
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_getsockopt, get_current_cgroup_id, i16, i8, u16, u64
@cgroup_getsockopt
def hook4(ctx: SockoptContext) -> int:
    v3: i8 = (min(min(i8(ctx.sk.dst_port), i8(len(ctx.optval))), i8(i16(ctx.optname))) if (not (not (i8(ctx.sk.dst_port) > i8(ctx.sk.dst_port)))) else i8(ctx.retval))
    return (ctx.sk.dst_port < max(ctx.optval.u16(ctx.sk.src_ip4 % 8), ctx.optval.u16(8)))
