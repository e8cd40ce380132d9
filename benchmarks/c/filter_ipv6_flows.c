// Twin of benchmarks/programs/filter_ipv6_flows.py: IPv6 packets and bytes
// per {next header, port or ICMPv6 type}, loopback-to-loopback frames counted
// apart; ICMPv6 and UDP kept.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IPV6_BE 0xdd86   // 0x86DD in network byte order, as skb->protocol holds it
#define PACKET_HOST 0
#define ETH_HLEN 14
#define IPV6_HLEN 40
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58

// LLVM's BPF intrinsic for the classic packet load (LD_ABS): the byte at
// an offset from the frame's start.
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

struct Flow {
	__u32 next_header;
	__u32 port;
};

struct Totals {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct Flow);
	__type(value, struct Totals);
} flows SEC(".maps");

__u64 loopback = 0;
__u64 truncated = 0;

SEC("socket")
int ipv6_flows(struct __sk_buff *skb)
{
	__u8 ip6[40], ports[4];
	struct Flow flow = {};
	struct Totals *totals;
	__u32 payload;
	int is_local;

	if (skb->protocol != ETH_P_IPV6_BE || skb->pkt_type != PACKET_HOST)
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, ip6, sizeof(ip6)) < 0 || ip6[0] >> 4 != 6)
		goto truncated;
	payload = ip6[4] << 8 | ip6[5];
	if (payload + IPV6_HLEN + ETH_HLEN > skb->len)
		goto truncated;
	flow.next_header = ip6[6];
	if (flow.next_header == IPPROTO_UDP || flow.next_header == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + IPV6_HLEN, ports, sizeof(ports)) < 0)
			goto truncated;
		flow.port = ports[2] << 8 | ports[3];
	} else if (flow.next_header == IPPROTO_ICMPV6) {
		flow.port = load_byte(skb, ETH_HLEN + IPV6_HLEN);
	}
	// ::1 to ::1: fifteen zero bytes and a one, twice.
	is_local = ip6[23] == 1 && ip6[39] == 1;
	for (int i = 8; i < 23; i++)
		if (ip6[i] || ip6[i + 16])
			is_local = 0;
	if (is_local)
		loopback += 1;
	totals = bpf_map_lookup_elem(&flows, &flow);
	if (!totals) {
		struct Totals fresh = {1, skb->len};

		bpf_map_update_elem(&flows, &flow, &fresh, BPF_ANY);
	} else {
		__sync_fetch_and_add(&totals->packets, 1);
		__sync_fetch_and_add(&totals->bytes, skb->len);
	}
	return flow.next_header == IPPROTO_ICMPV6 || flow.next_header == IPPROTO_UDP ? -1 : 0;
truncated:
	truncated += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
