# Issue 12: a conditional expression of two literals was typed i64, so a
# hook returning the bytes to keep, or a u32 variable, refused it.
from pybpfc import DROP, KEEP_ALL, SkBuff, socket_filter, u32


@socket_filter
def keep(skb: SkBuff) -> int:
    x: u32 = 4 if skb.protocol == 8 else 0
    if x == 4:
        return KEEP_ALL if skb.ifindex == 1 else DROP
    return 0xFFFFFFFFFFFF0000 >> 48 if skb.len > 60 else 64
