// Twin of examples/count_protocols.py: on an AF_PACKET socket, count IPv4
// bytes per IP protocol (per CPU) and packets per {protocol, destination
// port}; drop every frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IP_BE 0x0008   // 0x0800 in network byte order, as skb->protocol holds it
#define PACKET_HOST 0
#define ETH_HLEN 14
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

// LLVM's BPF intrinsics for the classic packet loads (LD_ABS / LD_IND):
// big-endian bytes at an offset from the frame's start, in host order.
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

struct Flow {
	__u32 protocol;
	__u32 port;   // destination port, host byte order; 0 for other protocols
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} bytes_by_protocol SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct Flow);
	__type(value, __u64);
} packets_by_flow SEC(".maps");

SEC("socket")
int count_protocols(struct __sk_buff *skb)
{
	__u8 header[20] = {};
	struct Flow flow = {};
	__u32 protocol;
	__u64 *total, *seen;

	if (skb->protocol != ETH_P_IP_BE || skb->pkt_type != PACKET_HOST)
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, header, sizeof(header)) < 0)
		return 0;
	protocol = header[9];
	total = bpf_map_lookup_elem(&bytes_by_protocol, &protocol);
	if (total)
		*total += skb->len;   // this CPU's own slot: no other writer
	flow.protocol = protocol;
	if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP) {
		__u32 header_length = (load_byte(skb, ETH_HLEN) & 0x0F) * 4;

		flow.port = load_half(skb, ETH_HLEN + header_length + 2);
	}
	seen = bpf_map_lookup_elem(&packets_by_flow, &flow);
	if (!seen) {
		__u64 one = 1;

		bpf_map_update_elem(&packets_by_flow, &flow, &one, BPF_ANY);
	} else {
		__sync_fetch_and_add(seen, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
