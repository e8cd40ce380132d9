"""An IP header copied out of the packet, then one field read."""
from pybpfc import DROP, KEEP_ALL, SkBuff, skb_load_bytes, socket_filter


@socket_filter
def ttl_above_one(skb: SkBuff) -> int:
    header = bytearray(20)
    if skb_load_bytes(skb, 14, header) < 0 or header[8] <= 1:
        return DROP
    return KEEP_ALL
