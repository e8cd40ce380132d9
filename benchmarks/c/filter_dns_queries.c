// Twin of benchmarks/programs/filter_dns_queries.py: DNS queries to port 53
// counted by question type and name length; the DNS header copied with
// bpf_skb_load_bytes, the name walked with packet loads; ANY queries kept.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IP_BE 0x0008   // 0x0800 in network byte order, as skb->protocol holds it
#define PACKET_HOST 0
#define ETH_HLEN 14
#define IPPROTO_UDP 17
#define DNS_PORT 53
#define UDP_HLEN 8
#define DNS_HLEN 12
#define MAX_LABELS 8
#define QTYPE_ANY 255

// LLVM's BPF intrinsics for the classic packet loads (LD_ABS / LD_IND):
// big-endian bytes at an offset from the frame's start, in host order.
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} by_type SEC(".maps");

__u64 by_name_length[4] = {};   // < 16, < 32, < 64, longer
__u64 skipped = 0;

SEC("socket")
int dns_queries(struct __sk_buff *skb)
{
	__u8 header[12];
	__u32 udp, pos, name_length = 0, qtype, bucket;
	int ended = 0;
	__u64 *seen;

	if (skb->protocol != ETH_P_IP_BE || skb->pkt_type != PACKET_HOST)
		return 0;
	if (load_byte(skb, ETH_HLEN + 9) != IPPROTO_UDP || (load_half(skb, ETH_HLEN + 6) & 0x3fff))
		return 0;
	udp = ETH_HLEN + (load_byte(skb, ETH_HLEN) & 0x0f) * 4;
	if (load_half(skb, udp + 2) != DNS_PORT)
		return 0;
	if (bpf_skb_load_bytes(skb, udp + UDP_HLEN, header, sizeof(header)) < 0 ||
	    (header[2] & 0xf8) || header[4] || header[5] != 1) {
		skipped += 1;     // a response, an opcode, not one question
		return 0;
	}
	pos = udp + UDP_HLEN + DNS_HLEN;
	for (int label = 0; label < MAX_LABELS; label++) {
		__u32 length = load_byte(skb, pos);

		if (!length) {
			ended = 1;
			break;
		}
		if (length > 63)
			break;        // a compression pointer has no place in a question
		pos += length + 1;
		name_length += length + 1;
	}
	if (!ended) {
		skipped += 1;
		return 0;
	}
	qtype = load_half(skb, pos + 1);
	seen = bpf_map_lookup_elem(&by_type, &qtype);
	if (!seen) {
		__u64 one = 1;

		bpf_map_update_elem(&by_type, &qtype, &one, BPF_ANY);
	} else {
		__sync_fetch_and_add(seen, 1);
	}
	bucket = name_length / 16;
	by_name_length[bucket < 3 ? bucket : 3] += 1;
	return qtype == QTYPE_ANY ? -1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
