"""A length rounded up to whole kilobytes."""
from pybpfc import SkBuff, socket_filter


@socket_filter
def whole_kilobytes(skb: SkBuff) -> int:
    return (skb.len + 999) // 1000 * 1000
