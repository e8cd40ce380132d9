# expect: 10:8 the packet is read-only in a @cgroup_skb_egress hook
from pybpfc import ALLOW, Ipv4Hdr, SkBuff, cgroup_skb_egress


@cgroup_skb_egress
def f(skb: SkBuff) -> int:
    ip = skb.header(Ipv4Hdr, 0)
    if ip is None:
        return ALLOW
    ip.ttl = 1
    return ALLOW
