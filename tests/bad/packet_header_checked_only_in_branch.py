# expect: 11:8 'ip' may be None here
from pybpfc import XDP_DROP, XDP_PASS, Ipv4Hdr, XdpContext, xdp


@xdp
def f(ctx: XdpContext) -> int:
    ip = ctx.header(Ipv4Hdr, 14)
    if ip is not None:
        if ip.ttl == 1:
            return XDP_DROP
    if ip.protocol == 17:
        return XDP_DROP
    return XDP_PASS
