// Twin of examples/xdp_block_prefixes.py: drop IPv4 packets whose source is
// in an LPM trie of prefixes, counting the drops per prefix.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Ipv4Prefix {
	__u32 prefixlen;
	__be32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct Ipv4Prefix);
	__type(value, __u64);
} blocked SEC(".maps");

SEC("xdp")
int block_prefixes(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	struct Ipv4Prefix source = {.prefixlen = 32, .addr = ip->saddr};
	__u64 *dropped = bpf_map_lookup_elem(&blocked, &source);
	if (!dropped)
		return XDP_PASS;
	__sync_fetch_and_add(dropped, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
