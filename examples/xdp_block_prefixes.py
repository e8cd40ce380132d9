"""Drop the IPv4 packets whose source lies in a block list of prefixes,
kept in a longest-prefix-match trie that user space updates while the
program is attached (`blocked[Ipv4Prefix(24, 10.1.2.0)] = 0`), and count
the packets each prefix stopped."""
from pybpfc import (ETH_HLEN, ETH_P_IP, XDP_DROP, XDP_PASS, EthHdr, Ipv4Hdr, LpmTrie, XdpContext,
                    atomic_add, be32, htons, struct, u32, u64, xdp)


@struct
class Ipv4Prefix:
    prefixlen: u32               # how many leading bits of addr count
    addr: be32                   # network order, as on the wire


blocked: LpmTrie[Ipv4Prefix, u64] = LpmTrie(max_entries=1024)   # prefix -> packets dropped


@xdp
def block_prefixes(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None or eth.h_proto != htons(ETH_P_IP):
        return XDP_PASS
    ip = ctx.header(Ipv4Hdr, ETH_HLEN)
    if ip is None:
        return XDP_PASS
    source = Ipv4Prefix()
    source.prefixlen = 32
    source.addr = ip.saddr
    dropped = blocked.lookup(source)
    if dropped is None:
        return XDP_PASS
    atomic_add(dropped.value, 1)
    return XDP_DROP
