# expect: 9:8 'eth' may be None here (the packet may be too short for it)
from pybpfc import XDP_DROP, XDP_PASS, EthHdr, XdpContext, htons, xdp


@xdp
def f(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    # Read without `if eth is None: return ...` first: no length check.
    if eth.h_proto == htons(0x0800):
        return XDP_DROP
    return XDP_PASS
