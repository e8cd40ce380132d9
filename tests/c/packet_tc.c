// tc programs for the runtime's packet tests: mark the skb and set the DSCP
// of IPv4 packets to 46 (fixing the header checksum), and drop UDP to
// port 53; and one that breaks the IPv4 checksum.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_TOS_OFF (ETH_HLEN + offsetof(struct iphdr, tos))

SEC("tc")
int set_dscp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u8 old_tos, new_tos;

	skb->mark = 0x2a;
	if ((void *)(ip + 1) > data_end || skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	old_tos = ip->tos;
	new_tos = (46 << 2) | (old_tos & 3);
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, bpf_htons(old_tos), bpf_htons(new_tos), 2);
	bpf_skb_store_bytes(skb, IP_TOS_OFF, &new_tos, 1, 0);
	return TC_ACT_OK;
}

SEC("tc")
int drop_dns_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return TC_ACT_OK;
	return udp->dest == bpf_htons(53) ? TC_ACT_SHOT : TC_ACT_OK;
}

// The same rewrite without the checksum fix: the receiving stack must drop
// what it sends (the tests' proof that checksums are checked).
SEC("tcx/ingress")
int set_dscp_badsum(struct __sk_buff *skb)
{
	__u8 new_tos = 46 << 2;

	bpf_skb_store_bytes(skb, IP_TOS_OFF, &new_tos, 1, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
