// Twin of benchmarks/programs/filter_udp_ports.py: per-port UDP statistics
// on a packet socket, IP and UDP headers copied with bpf_skb_load_bytes and
// checked; only datagrams to the watched ports are kept.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IP_BE 0x0008   // 0x0800 in network byte order, as skb->protocol holds it
#define PACKET_HOST 0
#define ETH_HLEN 14
#define IPPROTO_UDP 17
#define UDP_HLEN 8

struct PortStats {
	__u64 packets;
	__u64 payload;
	__u64 no_checksum;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct PortStats);
} by_port SEC(".maps");

const volatile __u32 watch_low = 5300;
const volatile __u32 watch_high = 5399;
__u64 fragments = 0;
__u64 malformed = 0;

SEC("socket")
int udp_ports(struct __sk_buff *skb)
{
	__u8 ip[20], udp[8];
	__u32 header_length, total, port, length;
	struct PortStats *stats;
	int no_checksum;

	if (skb->protocol != ETH_P_IP_BE || skb->pkt_type != PACKET_HOST)
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, ip, sizeof(ip)) < 0 || ip[9] != IPPROTO_UDP)
		return 0;
	header_length = (ip[0] & 0x0f) * 4;
	total = ip[2] << 8 | ip[3];
	if (ip[0] >> 4 != 4 || header_length < 20 || total < header_length + UDP_HLEN ||
	    total + ETH_HLEN > skb->len) {
		malformed += 1;
		return 0;
	}
	if ((ip[6] & 0x3f) || ip[7]) {   // more fragments, or an offset
		fragments += 1;
		return 0;
	}
	if (bpf_skb_load_bytes(skb, ETH_HLEN + header_length, udp, sizeof(udp)) < 0) {
		malformed += 1;
		return 0;
	}
	port = udp[2] << 8 | udp[3];
	length = udp[4] << 8 | udp[5];
	if (length < UDP_HLEN || length > total - header_length) {
		malformed += 1;
		return 0;
	}
	no_checksum = !udp[6] && !udp[7];
	stats = bpf_map_lookup_elem(&by_port, &port);
	if (!stats) {
		struct PortStats fresh = {1, length - UDP_HLEN, no_checksum};

		bpf_map_update_elem(&by_port, &port, &fresh, BPF_ANY);
	} else {
		__sync_fetch_and_add(&stats->packets, 1);
		__sync_fetch_and_add(&stats->payload, length - UDP_HLEN);
		if (no_checksum)
			__sync_fetch_and_add(&stats->no_checksum, 1);
	}
	return watch_low <= port && port <= watch_high ? -1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
