# expect: 10:23 a be16 (network byte order) tests `in` a tuple of constants
from pybpfc import XDP_DROP, XDP_PASS, EthHdr, XdpContext, xdp


@xdp
def f(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None:
        return XDP_PASS
    if eth.h_proto in b"\x08\x00":
        return XDP_DROP
    return XDP_PASS
