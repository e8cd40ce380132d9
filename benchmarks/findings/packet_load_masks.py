"""A name's labels walked with byte loads (DNS-style)."""
from pybpfc import SkBuff, socket_filter, u32


@socket_filter
def labels(skb: SkBuff) -> int:
    pos: u32 = 54
    total: u32 = 0
    for i in range(4):
        length = skb.load_u8(pos)
        if length == 0:
            break
        pos += u32(length) + 1
        total += u32(length)
    return total
