# expect: 7:15 a @socket_filter hook has no direct access to the packet
from pybpfc import KEEP_ALL, EthHdr, SkBuff, socket_filter


@socket_filter
def f(skb: SkBuff) -> int:
    eth = skb.header(EthHdr, 0)
    return KEEP_ALL
