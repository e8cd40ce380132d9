// Twin of examples/tc_set_dscp.py: set the DSCP of IPv4 packets, keeping the
// ECN bits, and update the IP checksum with bpf_l3_csum_replace.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u8 dscp = 46;
#define IP_CHECK_OFFSET (ETH_HLEN + 10)

SEC("tc")
int set_dscp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	__u8 old = ip->tos;
	__u8 new = (dscp << 2) | (old & 0x03);
	if (new == old)
		return TC_ACT_OK;
	ip->tos = new;
	__u16 first = (__u16)(*(__u8 *)ip) << 8;
	bpf_l3_csum_replace(skb, IP_CHECK_OFFSET, bpf_htons(first | old), bpf_htons(first | new), 2);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
