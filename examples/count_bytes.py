"""Count the packets and bytes a socket receives, by size class, and keep
every packet whole."""
from pybpfc import KEEP_ALL, SkBuff, socket_filter, u32, u64

packets: u64 = 0
total_bytes: u64 = 0
by_size: list[u64] = [0] * 4     # <128, <512, <1500, larger


@socket_filter
def count_bytes(skb: SkBuff) -> int:
    global packets, total_bytes
    packets += 1
    total_bytes += skb.len
    size_class: u32 = 3
    limits = [128, 512, 1500]
    for i in range(3):
        if skb.len < limits[i]:
            size_class = u32(i)
            break
    by_size[size_class] += 1
    return KEEP_ALL
