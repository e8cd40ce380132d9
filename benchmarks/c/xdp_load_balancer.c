// Twin of examples/xdp_load_balancer.py: UDP datagrams to the virtual
// address and port go to a backend chosen by source port, the IP and UDP
// checksums updated for the new address (RFC 1624), MACs swapped, XDP_TX.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 vip = 0x0A000064;      // 10.0.0.100, host order
const volatile __u16 vport = 80;
const volatile __u32 backend_count = 2;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __be32);
} backends SEC(".maps");

static __always_inline __be16 checksum_update(__be16 check, __be32 old, __be32 new)
{
	__u32 total = (__u16)~bpf_ntohs(check);
	__u32 before = bpf_ntohl(old);
	__u32 after = bpf_ntohl(new);
	total += (~before >> 16) + (~before & 0xFFFF) + (after >> 16) + (after & 0xFFFF);
	total = (total & 0xFFFF) + (total >> 16);
	total = (total & 0xFFFF) + (total >> 16);
	return bpf_htons((__u16)(~total & 0xFFFF));
}

SEC("xdp")
int balance(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP
	    || ip->daddr != bpf_htonl(vip))
		return XDP_PASS;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(vport) || backend_count == 0)
		return XDP_PASS;
	__u32 slot = (__u32)bpf_ntohs(udp->source) % backend_count;
	__be32 *backend = bpf_map_lookup_elem(&backends, &slot);
	if (!backend)
		return XDP_PASS;
	__be32 old = ip->daddr;
	ip->daddr = *backend;
	ip->check = checksum_update(ip->check, old, *backend);
	if (udp->check != 0)                 // 0: the sender computed none
		udp->check = checksum_update(udp->check, old, *backend);
	for (int i = 0; i < 6; i++) {        // back to where it came from
		unsigned char mac = eth->h_dest[i];
		eth->h_dest[i] = eth->h_source[i];
		eth->h_source[i] = mac;
	}
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
