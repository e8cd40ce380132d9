from pybpfc import XDP_DROP, XDP_PASS, Ipv4Hdr, XdpContext, xdp


@xdp
def drop_ttl_1(ctx: XdpContext) -> int:
    ip = ctx.header(Ipv4Hdr, 14)
    if ip.ttl == 1:
        return XDP_DROP
    return XDP_PASS
