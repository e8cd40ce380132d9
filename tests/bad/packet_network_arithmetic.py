# expect: 10:9 '+' on a value in network byte order (be16): convert it with ntohs(...) first
from pybpfc import XDP_PASS, UdpHdr, XdpContext, xdp


@xdp
def f(ctx: XdpContext) -> int:
    udp = ctx.header(UdpHdr, 34)
    if udp is None:
        return XDP_PASS
    n = udp.len + 1
    return XDP_PASS
