// Twin of benchmarks/programs/filter_tcp_flags.py: SYN, SYN-ACK, FIN and RST
// counts and payload bytes per server port of IPv4 TCP traffic, every header
// field read with a packet load; only connection events are kept.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IP_BE 0x0008   // 0x0800 in network byte order, as skb->protocol holds it
#define PACKET_HOST 0
#define ETH_HLEN 14
#define IPPROTO_TCP 6
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10
#define SERVER_PORTS 1024

// LLVM's BPF intrinsics for the classic packet loads (LD_ABS / LD_IND):
// big-endian bytes at an offset from the frame's start, in host order.
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

__u64 events[4] = {};          // SYN, SYN-ACK, FIN, RST
__u64 segments_with_data = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} payload_by_port SEC(".maps");

SEC("socket")
int tcp_flags(struct __sk_buff *skb)
{
	__u32 ip_length, tcp, source, destination, offset_flags, flags, payload, server;
	__u64 *seen;

	if (skb->protocol != ETH_P_IP_BE || skb->pkt_type != PACKET_HOST)
		return 0;
	if (load_byte(skb, ETH_HLEN + 9) != IPPROTO_TCP || (load_half(skb, ETH_HLEN + 6) & 0x3fff))
		return 0;             // another protocol, or a fragment
	ip_length = (load_byte(skb, ETH_HLEN) & 0x0f) * 4;
	tcp = ETH_HLEN + ip_length;
	source = load_half(skb, tcp);
	destination = load_half(skb, tcp + 2);
	offset_flags = load_half(skb, tcp + 12);
	flags = offset_flags & 0x3f;
	payload = (__u32)load_half(skb, ETH_HLEN + 2) - ip_length - (offset_flags >> 12) * 4;
	if (payload > 0 && payload < 0x10000) {
		segments_with_data += 1;
		server = destination < SERVER_PORTS || source >= SERVER_PORTS ? destination : source;
		seen = bpf_map_lookup_elem(&payload_by_port, &server);
		if (!seen) {
			__u64 first = payload;

			bpf_map_update_elem(&payload_by_port, &server, &first, BPF_ANY);
		} else {
			__sync_fetch_and_add(seen, payload);
		}
	}
	if (flags & SYN)
		events[flags & ACK ? 1 : 0] += 1;
	else if (flags & FIN)
		events[2] += 1;
	else if (flags & RST)
		events[3] += 1;
	else
		return 0;
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
