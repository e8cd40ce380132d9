# expect: 11:18 an LpmTrie's key is a @struct whose first field is `prefixlen: u32`
from pybpfc import XDP_PASS, LpmTrie, XdpContext, be32, struct, u32, u64, xdp


@struct
class Prefix:
    addr: be32                   # the prefix length must come first
    prefixlen: u32


blocked: LpmTrie[Prefix, u64] = LpmTrie(max_entries=16)


@xdp
def f(ctx: XdpContext) -> int:
    return XDP_PASS
