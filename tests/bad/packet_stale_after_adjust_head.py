# expect: 12:9 'eth' points into the packet as it was before xdp_adjust_head() on line 11
from pybpfc import XDP_PASS, EthHdr, XdpContext, xdp, xdp_adjust_head


@xdp
def f(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None:
        return XDP_PASS
    eth.h_dest[0] = 2
    if xdp_adjust_head(ctx, -4) == 0:
        eth.h_dest[0] = 3     # the packet moved: eth points to where it was
    return XDP_PASS
