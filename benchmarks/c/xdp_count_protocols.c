// Twin of examples/xdp_count_protocols.py: packets and bytes by IP protocol
// (IPv4 and IPv6), per CPU; every packet passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Traffic {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct Traffic);
} by_protocol SEC(".maps");

SEC("xdp")
int count_protocols(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 protocol, length;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		protocol = ip->protocol;
		length = ETH_HLEN + bpf_ntohs(ip->tot_len);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		protocol = ip6->nexthdr;
		length = ETH_HLEN + 40 + bpf_ntohs(ip6->payload_len);
	} else {
		return XDP_PASS;
	}
	struct Traffic *seen = bpf_map_lookup_elem(&by_protocol, &protocol);
	if (seen) {
		seen->packets += 1;
		seen->bytes += length;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
