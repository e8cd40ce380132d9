# expect: 7:17 ctx.data is a raw pointer into the packet
from pybpfc import XDP_PASS, XdpContext, xdp


@xdp
def f(ctx: XdpContext) -> int:
    start = ctx.data
    return XDP_PASS
