# expect: 7:12 a @xdp hook returns one of XDP_ABORTED (0)
from pybpfc import XdpContext, xdp


@xdp
def f(ctx: XdpContext) -> int:
    return 9
