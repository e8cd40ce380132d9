# expect: 10:14 assigned value is be16, in network byte order, where u16 is expected: convert it with ntohs
from pybpfc import XDP_DROP, XDP_PASS, EthHdr, XdpContext, u16, xdp


@xdp
def f(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None:
        return XDP_PASS
    x: u16 = eth.h_proto
    if x == 0x0800:
        return XDP_DROP
    return XDP_PASS
