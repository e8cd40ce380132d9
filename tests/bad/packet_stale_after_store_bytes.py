# expect: 13:8 'ip' points into the packet as it was before skb_store_bytes() on line 12
from pybpfc import TC_ACT_OK, Ipv4Hdr, SkBuff, skb_store_bytes, tc


@tc
def f(skb: SkBuff) -> int:
    ip = skb.header(Ipv4Hdr, 14)
    if ip is None:
        return TC_ACT_OK
    tos = bytearray(1)
    if ip.ttl > 1:
        skb_store_bytes(skb, 15, tos, 0)
    if ip.ttl == 2:           # stale on the path through the store
        return TC_ACT_OK
    return TC_ACT_OK
