# Fuzzer finding: LLVM rewrote ~x < 6 into x >= 0xfffffffa and the verifier
# could not bound the element address.
from pybpfc import ALLOW, SockContext, cgroup_sock_release, get_prandom_u32, i16, i32, i8, u32
xs: list[i16] = [0] * 6
@cgroup_sock_release
def h(ctx: SockContext) -> int:
    i: u32 = ~get_prandom_u32()
    xs[i] <<= i32(i8(ctx.rx_queue_mapping))
    return ALLOW
