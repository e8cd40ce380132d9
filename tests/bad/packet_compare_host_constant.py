# expect: 10:23 a host-order number where be16 (network byte order) is expected: write htons(...)
from pybpfc import ETH_P_IP, XDP_DROP, XDP_PASS, EthHdr, XdpContext, xdp


@xdp
def f(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None:
        return XDP_PASS
    if eth.h_proto == ETH_P_IP:    # the classic bug: 0x0800 against wire order
        return XDP_DROP
    return XDP_PASS
