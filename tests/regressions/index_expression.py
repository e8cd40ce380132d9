# Fuzzer finding: the verifier lost the bound of an index computed in u8.
from pybpfc import ALLOW, SockContext, cgroup_sock_release, u32, u8
xs: list[u32] = [0] * 2
g: u8 = 255
@cgroup_sock_release
def h(ctx: SockContext) -> int:
    xs[g + g] = 1
    return ALLOW
